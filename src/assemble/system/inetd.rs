//! `update-inetd` (update-inetd 4.5x's Perl tool over its `DebianNet` module): the entries of
//! `/etc/inetd.conf` that packages add, enable, disable and remove in their maintainer scripts
//! (amanda-common's `--add 'amanda stream tcp …'`, a `tftp` line in the `BOOT` group).
//!
//! The tool interpolates the service name, the `#<off># ` marker, the group and `--pattern` into
//! Perl regular expressions (talkd removes `talk[ \t].*[ \t]/usr/sbin/in.talkd`); the same
//! strings are compiled here as byte regexes with ASCII classes, whose syntax and meaning agree
//! with Perl's for what they accept. The few constructs that compile in both with different
//! meanings (`$` before a final newline, `\v`, `\<`, `\>`, `\b{…}`) are refused, and so is
//! anything the regex crate does not know (backreferences, lookaround): the call is reported.
//! Where the tool would ask a debconf question (an entry for the service already present,
//! several entries to remove or disable without `--multi`), the non-interactive answer it preset
//! leaves the file unchanged, and so does this. Waking inetd (a signal or `invoke-rc.d`) is
//! service management: nothing in the image changes.

use regex::bytes::Regex;

use super::{Changes, Overlay};

const INETD_CONF: &str = "/etc/inetd.conf";

/// The tool's default marker of a disabled entry (`--comment-chars` changes it).
const DEFAULT_SEP: &str = "#<off># ";

/// What one `update-inetd` call does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// `--add ENTRY` into `--group` (default `OTHER`).
    Add { entry: String, group: String },
    /// `--remove SERVICE` (a regular expression).
    Remove(String),
    /// `--enable SERVICE[,SERVICE…]`.
    Enable(Vec<String>),
    /// `--disable SERVICE[,SERVICE…]`.
    Disable(Vec<String>),
}

/// One `update-inetd` call in the form reproduced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Call {
    pub action: Action,
    /// The configuration file (`--file`), absolute.
    pub file: String,
    /// The disabled-entry marker.
    pub sep: String,
    /// `--pattern`: a regular expression every touched line must match ("" for any).
    pub pattern: String,
    /// `--multi`: remove or disable several entries without asking.
    pub multi: bool,
}

/// The regular expression Perl builds by pasting `parts` together, as a byte regex with ASCII
/// classes; refused where the two would read the text differently.
fn perl(parts: &[&str]) -> Result<Regex, String> {
    let source = parts.concat();
    let mut chars = source.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some('v' | '<' | '>') | None => return Err(unsupported(&source)),
                Some('b') if chars.peek() == Some(&'{') => return Err(unsupported(&source)),
                _ => {}
            },
            // Perl's `$` also matches before a final newline.
            '$' => return Err(unsupported(&source)),
            _ => {}
        }
    }
    Regex::new(&format!("(?-u){source}")).map_err(|_| unsupported(&source))
}

fn unsupported(source: &str) -> String {
    format!("update-inetd's regular expression {source:?} is not one reproduced")
}

/// `update-inetd [OPTION…] --add|--remove|--enable|--disable ARG`.
pub fn parse(args: &[String]) -> Result<Call, String> {
    let mut mode = None;
    let mut file = INETD_CONF.to_owned();
    let mut sep = DEFAULT_SEP.to_owned();
    let mut pattern = String::new();
    let mut group = None;
    let mut multi = false;
    let mut rest = args;
    // The tool reads options while the next argument starts with `-`, each with its value.
    while let [first, tail @ ..] = rest {
        if !first.starts_with('-') {
            break;
        }
        rest = tail;
        let mut value = |name: &str| -> Result<String, String> {
            match rest {
                [v, tail @ ..] if !v.starts_with("--") => {
                    rest = tail;
                    Ok(v.clone())
                }
                _ => Err(format!("option '{name}' requires an argument")),
            }
        };
        match first.as_str() {
            "--add" | "--remove" | "--enable" | "--disable" => mode = Some(first.clone()),
            "--multi" => multi = true,
            "--verbose" | "--debug" => {}
            "--file" => file = value("--file")?,
            "--group" => group = Some(value("--group")?),
            "--comment-chars" => sep = value("--comment-chars")?,
            "--pattern" => pattern = value("--pattern")?,
            other => return Err(format!("option {other} of update-inetd is not reproduced")),
        }
    }
    let Some(mode) = mode else {
        return Err("update-inetd without --add, --remove, --enable or --disable".into());
    };
    let [arg] = rest else {
        return Err("update-inetd takes one entry or service after its options".into());
    };
    if !file.starts_with('/') {
        return Err(format!("update-inetd --file {file}: a relative path"));
    }
    if !sep.starts_with('#') {
        return Err("the comment characters do not start with a '#'".into());
    }
    let chomp = |s: &str| s.strip_suffix('\n').unwrap_or(s).to_owned();
    let action = match mode.as_str() {
        "--add" => {
            let entry = chomp(&arg.replace("\\t", "\t"));
            if !entry.contains(char::is_whitespace) {
                return Err("the entry definition does not contain any whitespace characters".into());
            }
            let group = chomp(&group.unwrap_or_else(|| "OTHER".into())).to_ascii_uppercase();
            Action::Add { entry, group }
        }
        // `remove_service` refuses an empty service (a warning, nothing changed).
        "--remove" => Action::Remove(chomp(arg)),
        _ => {
            let services: Vec<String> = arg.split(',').map(chomp).collect();
            if services
                .iter()
                .any(|s| s.is_empty() || s.contains(char::is_whitespace))
            {
                return Err("the service name may not include whitespace characters".into());
            }
            if mode == "--enable" {
                Action::Enable(services)
            } else {
                Action::Disable(services)
            }
        }
    };
    let call = Call {
        action,
        file,
        sep,
        pattern,
        multi,
    };
    call.matchers()?;
    Ok(call)
}

/// The regular expressions of one service, as the tool's functions build them.
struct Matchers {
    /// `^SERVICE\s+` (which lines count as the service's entry; `_scan_entries`).
    entry: Regex,
    /// `^SEP SERVICE\s+`.
    marked: Regex,
    /// `^SERVICE\s+\w+\s+`: an enabled entry that `--disable` marks.
    enabled: Regex,
    /// `^SEP SERVICE\s+\w+\s+`: a disabled entry that `--enable` unmarks.
    disabled: Regex,
}

impl Matchers {
    fn of(service: &str, sep: &str) -> Result<Matchers, String> {
        Ok(Matchers {
            entry: perl(&["^", service, r"\s+"])?,
            marked: perl(&["^", sep, service, r"\s+"])?,
            enabled: perl(&["^", service, r"\s+\w+\s+"])?,
            disabled: perl(&["^", sep, service, r"\s+\w+\s+"])?,
        })
    }
}

/// What `--add` compiles from its entry.
struct AddMatchers {
    sservice: Matchers,
    /// `^#\s*SSERVICE\s+`: an entry the user commented out.
    commented: Regex,
    /// `^SERVICE\s+` with the entry's own leading `#` dropped.
    user_off: Option<Regex>,
    heading: Regex,
}

impl Call {
    /// Every regular expression the call uses, compiled (an error names the one refused).
    fn matchers(&self) -> Result<(), String> {
        perl(&[&self.pattern])?;
        match &self.action {
            Action::Add { entry, group } => drop(self.add_matchers(entry, group)?),
            Action::Remove(s) => drop(Matchers::of(s, &self.sep)?),
            Action::Enable(list) | Action::Disable(list) => {
                for s in list {
                    Matchers::of(s, &self.sep)?;
                }
            }
        }
        Ok(())
    }

    fn add_matchers(&self, entry: &str, group: &str) -> Result<AddMatchers, String> {
        let service = service_of(entry);
        let sservice = match service.strip_prefix('#') {
            Some(rest) if rest.starts_with(|c: char| c.is_ascii_alphabetic()) => rest.to_owned(),
            _ => service.clone(),
        };
        Ok(AddMatchers {
            sservice: Matchers::of(&sservice, &self.sep)?,
            commented: perl(&["^#\\s*", &sservice, r"\s+"])?,
            user_off: match service.strip_prefix('#') {
                Some(s) => Some(perl(&["^", s, r"\s+"])?),
                None => None,
            },
            heading: perl(&["^#:", group, ":"])?,
        })
    }
}

/// The entry's service as the tool finds it (`s/(\W*\w+)\s+.*/$1/`): the entry up to the end of
/// its first run of word characters that whitespace follows (`#<off># ftp` keeps its marker).
fn service_of(entry: &str) -> String {
    let mut out = entry.as_bytes().to_vec();
    // A constant, valid pattern.
    if let Ok(re) = Regex::new(r"(?-u)(\W*\w+)\s+.*")
        && let Some(c) = re.captures(entry.as_bytes())
        && let (Some(all), Some(one)) = (c.get(0), c.get(1))
    {
        out = [
            &entry.as_bytes()[..all.start()],
            one.as_bytes(),
            &entry.as_bytes()[all.end()..],
        ]
        .concat();
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The file's lines as Perl's `<FH>` reads them, newlines kept.
fn lines(text: &[u8]) -> Vec<Vec<u8>> {
    text.split_inclusive(|&b| b == b'\n')
        .map(<[u8]>::to_vec)
        .collect()
}

/// The lines as the tool writes them back: each chomped, then ended with a newline.
fn chomped(lines: &[Vec<u8>]) -> Vec<Vec<u8>> {
    lines
        .iter()
        .map(|l| l.strip_suffix(b"\n").unwrap_or(l).to_vec())
        .collect()
}

fn join(lines: &[Vec<u8>]) -> Vec<u8> {
    let mut out = Vec::new();
    for l in lines {
        out.extend_from_slice(l);
        out.push(b'\n');
    }
    out
}

/// `_scan_entries`: the lines (each read with its newline) that are the service's entry and
/// match the pattern.
fn count(current: &[Vec<u8>], entry: &Regex, pattern: &Regex) -> usize {
    current
        .iter()
        .map(|l| [l.as_slice(), b"\n"].concat())
        .filter(|l| entry.is_match(l) && pattern.is_match(l))
        .count()
}

/// Applies the call to the image: the file is rewritten (0644, root's, as the tool moves its
/// temporary file over it and chmods it) only where a line changes.
pub fn apply(overlay: &mut Overlay<'_>, call: &Call) -> Result<(), String> {
    let path = call.file.trim_start_matches('/');
    let Some(bytes) = super::read_file(overlay, path).map_err(|e| e.to_string())? else {
        // "cannot add service, /etc/inetd.conf does not exist": a warning, nothing written.
        return Ok(());
    };
    let pattern = perl(&[&call.pattern])?;
    let mut current = chomped(&lines(&bytes));
    let changed = match &call.action {
        Action::Add { entry, group } => add(
            &mut current,
            &bytes,
            entry,
            &call.add_matchers(entry, group)?,
            &call.sep,
        ),
        Action::Remove(service) if service.is_empty() => false,
        Action::Remove(service) => {
            let m = Matchers::of(service, &call.sep)?;
            // More than one entry without --multi: the question's preset answer is "false".
            if (count(&current, &m.entry, &pattern) > 1 || count(&current, &m.marked, &pattern) > 1)
                && !call.multi
            {
                return Ok(());
            }
            let before = current.len();
            current.retain(|l| !((m.entry.is_match(l) || m.marked.is_match(l)) && pattern.is_match(l)));
            current.len() != before
        }
        Action::Enable(services) => {
            let mut changed = false;
            for service in services {
                changed |= enable(
                    &mut current,
                    &Matchers::of(service, &call.sep)?,
                    &pattern,
                    &call.sep,
                );
            }
            changed
        }
        Action::Disable(services) => {
            let mut changed = false;
            for service in services {
                let m = Matchers::of(service, &call.sep)?;
                if count(&current, &m.entry, &pattern) > 1 && !call.multi {
                    continue;
                }
                for l in current.iter_mut() {
                    if m.enabled.is_match(l) && pattern.is_match(l) {
                        *l = [call.sep.as_bytes(), l.as_slice()].concat();
                        changed = true;
                    }
                }
            }
            changed
        }
    };
    if changed {
        let mut c = Changes::default();
        c.file(path, 0o644, join(&current));
        overlay.apply(c);
    }
    Ok(())
}

/// `enable_service`: drops the marker from the service's disabled entries.
fn enable(current: &mut [Vec<u8>], m: &Matchers, pattern: &Regex, sep: &str) -> bool {
    // `s/^$SEP//`: what the marker, read as a regular expression, matches at the line's start.
    let Ok(marker) = perl(&["^", sep]) else {
        return false;
    };
    let mut changed = false;
    for l in current.iter_mut() {
        if m.disabled.is_match(l) && pattern.is_match(l) {
            let cut = marker.find(l).map_or(0, |found| found.end());
            *l = l[cut..].to_vec();
            changed = true;
        }
    }
    changed
}

/// `add_service`: a disabled entry of the service is enabled; an entry present (enabled, or
/// commented out by the user) stays as it is; else the entry goes before the first line without
/// a letter or `#` after the group's `#:GROUP:` heading, or at the end.
fn add(current: &mut Vec<Vec<u8>>, text: &[u8], entry: &str, m: &AddMatchers, sep: &str) -> bool {
    // The tool tests the lines as read, each with its newline.
    let raw = lines(text);
    let any = |re: &Regex| raw.iter().any(|l| re.is_match(l));
    if any(&m.sservice.marked) {
        // `enable_service($sservice)`: no pattern.
        let everything = perl(&[""]).ok();
        return everything.is_some_and(|all| enable(current, &m.sservice, &all, sep));
    }
    if any(&m.sservice.entry) || any(&m.commented) || m.user_off.as_ref().is_some_and(any) {
        return false;
    }
    let mut out = Vec::with_capacity(current.len() + 1);
    let mut found = false;
    let mut placed = false;
    for l in current.drain(..) {
        if m.heading.is_match(&l) {
            found = true;
        }
        if found && !l.iter().any(|b| b.is_ascii_alphabetic() || *b == b'#') {
            out.push(entry.as_bytes().to_vec());
            found = false;
            placed = true;
        }
        out.push(l);
    }
    if !placed {
        out.push(entry.as_bytes().to_vec());
    }
    *current = out;
    true
}

#[cfg(test)]
mod tests {
    use super::super::TreeView;
    use super::super::testutil::MemTree;
    use super::*;

    fn argv(s: &[&str]) -> Vec<String> {
        s.iter().map(|a| (*a).to_owned()).collect()
    }

    /// openbsd-inetd's preinst writes this skeleton (abridged to its headings).
    const SKELETON: &str = "# /etc/inetd.conf\n#\n#:INTERNAL: Internal services\n#echo\t\tstream\ttcp\tnowait\troot\tinternal\n\n#:STANDARD: These are standard services.\n\n#:BOOT: TFTP service is provided primarily for booting.  Most sites\n#       run this only on machines acting as \"boot servers.\"\n\n#:OTHER: Other services\n\n";

    fn run(before: &str, args: &[&str]) -> Option<String> {
        let mut t = MemTree::new();
        t.file("etc/inetd.conf", before.as_bytes());
        let mut o = Overlay::new(&t);
        apply(&mut o, &parse(&argv(args)).unwrap()).unwrap();
        let mode = o.entry("etc/inetd.conf").map(|e| e.mode);
        assert_eq!(mode, Some(0o644));
        o.read("etc/inetd.conf")
            .and_then(Result::ok)
            .map(|b| String::from_utf8(b).unwrap())
    }

    /// amanda-common's call put its line right under `#:OTHER:` in the reference (1137 → 1241
    /// bytes); a `\t`-spelled entry for BOOT goes under the two-line heading, before its blank
    /// line; running the call again changes nothing (the service is present).
    #[test]
    fn an_entry_goes_under_its_group_heading() {
        let amanda = "amanda stream tcp nowait backup /usr/lib/amanda/amandad amandad -auth=bsdtcp amdump amindexd amidxtaped";
        let after = run(SKELETON, &["--add", amanda]).unwrap();
        assert_eq!(
            after,
            SKELETON.replace(
                "#:OTHER: Other services\n",
                &format!("#:OTHER: Other services\n{amanda}\n")
            )
        );
        assert_eq!(run(&after, &["--add", amanda]).unwrap(), after);

        let tftp = run(
            SKELETON,
            &[
                "--group",
                "boot",
                "--add",
                "tftp\\t\\tdgram\\tudp\\twait\\tnobody\\t/usr/sbin/tcpd\\t/usr/sbin/in.tftpd /srv/tftp",
            ],
        )
        .unwrap();
        assert!(tftp.contains("#       run this only on machines acting as \"boot servers.\"\ntftp\t\tdgram\tudp\twait\tnobody\t/usr/sbin/tcpd\t/usr/sbin/in.tftpd /srv/tftp\n\n#:OTHER:"), "{tftp}");

        // No such heading: at the end; a file without a final newline gains one.
        let end = run(
            "# x",
            &[
                "--group",
                "MAIL",
                "--add",
                "smtp stream tcp nowait mail /usr/sbin/exim exim -bs",
            ],
        )
        .unwrap();
        assert_eq!(end, "# x\nsmtp stream tcp nowait mail /usr/sbin/exim exim -bs\n");
    }

    /// A disabled entry is enabled by `--add` of the same service; an entry the user commented
    /// out with a single `#` is left; `--disable` marks, `--enable` unmarks, `--remove` deletes.
    #[test]
    fn entries_are_enabled_disabled_and_removed() {
        let off = "#<off># talk\tdgram\tudp\twait\tnobody.tty\t/usr/sbin/in.talkd\tin.talkd\n";
        let on = "talk\tdgram\tudp\twait\tnobody.tty\t/usr/sbin/in.talkd\tin.talkd\n";
        assert_eq!(run(off, &["--add", on.trim_end()]).unwrap(), on);
        let user = "# talk\tdgram\tudp\twait\troot\t/x\n";
        assert_eq!(run(user, &["--add", on.trim_end()]).unwrap(), user);
        assert_eq!(run(on, &["--disable", "talk"]).unwrap(), off);
        assert_eq!(run(off, &["--enable", "talk,ntalk"]).unwrap(), on);
        assert_eq!(
            run(&format!("# a\n{on}"), &["--remove", "talk"]).unwrap(),
            "# a\n"
        );
        // A pattern narrows; two entries without --multi are left alone.
        let two = "ftp stream tcp nowait root /usr/sbin/tcpd /usr/sbin/in.ftpd\nftp stream tcp nowait root /usr/sbin/tcpd /usr/sbin/vsftpd\n";
        assert_eq!(run(two, &["--remove", "ftp"]).unwrap(), two);
        assert_eq!(
            run(two, &["--pattern", "vsftpd", "--remove", "ftp"]).unwrap(),
            "ftp stream tcp nowait root /usr/sbin/tcpd /usr/sbin/in.ftpd\n"
        );
        assert_eq!(run(two, &["--multi", "--remove", "ftp"]).unwrap(), "");
        // An empty service removes nothing (DebianNet carps and returns).
        let indented = " x\n\n";
        assert_eq!(run(indented, &["--multi", "--remove", ""]).unwrap(), indented);
        // A marker that is a regular expression is removed as Perl's `s/^$SEP//` removes it.
        assert_eq!(
            run(
                "### ftp stream tcp\n",
                &["--comment-chars", "#+ ", "--enable", "ftp"]
            )
            .unwrap(),
            "ftp stream tcp\n"
        );
        assert_eq!(
            run("#a b c\n", &["--comment-chars", "#.*.*.*.*", "--enable", "b"]).unwrap(),
            "#a b c\n"
        );
        assert_eq!(
            run(two, &["--pattern", "in\\.ftpd", "--disable", "ftp"]).unwrap(),
            "#<off># ftp stream tcp nowait root /usr/sbin/tcpd /usr/sbin/in.ftpd\nftp stream tcp nowait root /usr/sbin/tcpd /usr/sbin/vsftpd\n"
        );
    }

    /// talkd 0.17's postinst: `--remove` of a regular expression that matches nothing, then its
    /// two entries (literal tabs) under `#:BSD:`; a second install finds them present.
    #[test]
    fn talkd_removes_by_regex_and_adds_under_bsd() {
        let skeleton = "#:STANDARD: These are standard services.\n\n#:BSD: Shell, login, exec and talk are BSD protocols.\n\n#:MAIL: Mail\n\n";
        let talk = "talk\t\tdgram\tudp\twait\tnobody.tty\t/usr/sbin/in.talkd\tin.talkd";
        let ntalk = "ntalk\t\tdgram\tudp\twait\tnobody.tty\t/usr/sbin/in.ntalkd\tin.ntalkd";
        let mut t = MemTree::new();
        t.file("etc/inetd.conf", skeleton.as_bytes());
        let mut o = Overlay::new(&t);
        for args in [
            &["--remove", "talk[ \\t].*[ \\t]/usr/sbin/in.talkd"][..],
            &["--remove", "ntalk[ \\t].*[ \\t]/usr/sbin/in.ntalkd"],
            &["--group", "BSD", "--add", talk],
            &["--group", "BSD", "--add", ntalk],
        ] {
            apply(&mut o, &parse(&argv(args)).unwrap()).unwrap();
        }
        let after = String::from_utf8(o.read("etc/inetd.conf").and_then(Result::ok).unwrap()).unwrap();
        assert_eq!(
            after,
            skeleton.replace("BSD protocols.\n", &format!("BSD protocols.\n{talk}\n{ntalk}\n"))
        );
        // The regex now matches the entry (a tab after `talk`, `/usr/sbin/in.talkd`, space).
        apply(
            &mut o,
            &parse(&argv(&["--remove", "talk[ \\t].*[ \\t]/usr/sbin/in.talkd"])).unwrap(),
        )
        .unwrap();
        let removed = String::from_utf8(o.read("etc/inetd.conf").and_then(Result::ok).unwrap()).unwrap();
        assert_eq!(removed, after.replace(&format!("{talk}\n"), ""));
    }

    /// The tool finds the service as Perl's `s/(\W*\w+)\s+.*/$1/` does; regular expressions
    /// Perl would read otherwise, and other forms, are not this call; without the file nothing
    /// is written.
    #[test]
    fn forms_outside_plain_text_are_refused() {
        assert_eq!(service_of("amanda stream tcp"), "amanda");
        assert_eq!(service_of("#<off># ftp\tstream"), "#<off># ftp");
        assert_eq!(service_of("rstatd/1-5 dgram rpc/udp"), "rstatd/1-5");
        assert_eq!(service_of("#<off># telnet\tstream\ttcp"), "#<off># telnet");
        for bad in [
            &["--add", "nospace"][..],
            &["--remove", "ftp$"],
            &["--remove", "(?<=x)ftp"],
            &["--pattern", "\\bin\\>", "--disable", "ftp"],
            &["--group", "B(", "--add", "a b"],
            &["--add"],
            &["--enable", "a", "b"],
            &["--frobnicate", "--add", "a b"],
            &["--comment-chars", "//", "--disable", "a"],
            &["--file", "inetd.conf", "--add", "a b"],
        ] {
            assert!(parse(&argv(bad)).is_err(), "{bad:?}");
        }
        let t = MemTree::new();
        let mut o = Overlay::new(&t);
        apply(&mut o, &parse(&argv(&["--add", "a b c"])).unwrap()).unwrap();
        assert!(o.entry("etc/inetd.conf").is_none());
        assert!(t.entries.is_empty());
    }
}
