//! `sed -i` with `s/RE/REPLACEMENT/FLAGS` commands, as GNU sed edits a file in place
//! (openssh-server's `sed -i 's/^#*PermitRootLogin .*/PermitRootLogin yes/' FILE`).
//!
//! The regular expression is translated from POSIX (basic, or extended with `-E`/`-r`) to the
//! `regex` crate's syntax, line by line as sed reads. What the translation cannot keep exact is
//! refused: back-references, alternation (POSIX takes the longest alternative, `regex` the
//! first), addresses, other commands, case conversion in replacements, the `p`/`w`/`e` and
//! numbered flags. The file keeps its mode and owner (GNU sed copies them to the file it
//! renames over the original); `-iSUFFIX` keeps a copy of the original under that name.

use regex::Regex;

use super::super::{Changes, Overlay, TreeView};
use crate::entry::EntryKind;

/// One `sed -i` call.
#[derive(Debug)]
pub struct SedCall {
    commands: Vec<Substitute>,
    files: Vec<String>,
    backup_suffix: Option<String>,
}

#[derive(Debug)]
struct Substitute {
    re: Regex,
    replacement: Vec<Piece>,
    global: bool,
}

#[derive(Debug, PartialEq)]
enum Piece {
    Text(String),
    /// `&` (0) or `\1`…`\9`.
    Group(usize),
}

/// Whether a `sed` call edits no file in place (it prints its result).
pub fn prints_only(args: &[String]) -> bool {
    !args.iter().take_while(|a| *a != "--").any(|a| {
        a.starts_with("--in-place")
            || (a.starts_with('-') && !a.starts_with("--") && (a.starts_with("-i") || (a.len() > 2 && a[1..].chars().all(|c| "Eri".contains(c)) && a.contains('i'))))
    })
}

/// Parses `sed`'s arguments; `Err` says what is not reproduced (sed without `-i` prints, and
/// is no file command).
pub fn parse(args: &[String]) -> Result<SedCall, String> {
    let (mut in_place, mut extended) = (false, false);
    let mut backup_suffix = None;
    let mut scripts = Vec::new();
    let mut operands = Vec::new();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "-i" | "--in-place" => in_place = true,
            "-E" | "-r" | "--regexp-extended" => extended = true,
            "-e" => scripts.push(it.next().ok_or("sed -e without a script")?.clone()),
            "-s" | "--separate" | "-Z" | "--follow-symlinks" => {}
            "--" => operands.extend(it.by_ref().cloned()),
            s if s.starts_with("--expression=") => scripts.push(s["--expression=".len()..].to_owned()),
            s if s.starts_with("--in-place=") => {
                in_place = true;
                backup_suffix = Some(s["--in-place=".len()..].to_owned());
            }
            s if s.starts_with("-i") && !s[2..].starts_with('-') => {
                in_place = true;
                backup_suffix = Some(s[2..].to_owned());
            }
            // Bundled short options (`-Ei`, `-ri`).
            s if s.len() > 2 && s.starts_with('-') && !s.starts_with("--") && s[1..].chars().all(|c| "Eri".contains(c)) => {
                in_place |= s.contains('i');
                extended |= s.contains(['E', 'r']);
            }
            s if s.starts_with('-') && s.len() > 1 => return Err(format!("sed option {s} is not reproduced")),
            _ => operands.push(a.clone()),
        }
    }
    if !in_place {
        return Err("sed without -i prints its result; it edits no file".into());
    }
    if scripts.is_empty() {
        if operands.is_empty() {
            return Err("sed without a script".into());
        }
        scripts.push(operands.remove(0));
    }
    if operands.is_empty() {
        return Err("sed -i without a file".into());
    }
    if let Some(p) = operands.iter().find(|p| !p.starts_with('/')) {
        return Err(format!("`{p}` is not an absolute path"));
    }
    let mut commands = Vec::new();
    for script in &scripts {
        commands.extend(parse_script(script, extended)?);
    }
    Ok(SedCall {
        commands,
        files: operands,
        backup_suffix: backup_suffix.filter(|s| !s.is_empty()),
    })
}

/// `s` commands separated by `;` or newlines.
fn parse_script(script: &str, extended: bool) -> Result<Vec<Substitute>, String> {
    let chars: Vec<char> = script.chars().collect();
    let mut i = 0;
    let mut out = Vec::new();
    loop {
        while i < chars.len() && (chars[i].is_whitespace() || chars[i] == ';') {
            i += 1;
        }
        if i >= chars.len() {
            return Ok(out);
        }
        if chars[i] != 's' {
            return Err(format!("sed script `{script}`: only `s` commands without an address are reproduced"));
        }
        let delim = *chars.get(i + 1).ok_or("sed: unterminated `s` command")?;
        if delim == '\\' || delim == '\n' {
            return Err("sed: delimiter not reproduced".into());
        }
        i += 2;
        let re = field(&chars, &mut i, delim)?;
        let replacement = field(&chars, &mut i, delim)?;
        let (mut global, mut icase) = (false, false);
        while i < chars.len() && chars[i] != ';' && chars[i] != '\n' && chars[i] != '}' {
            match chars[i] {
                'g' => global = true,
                'I' | 'i' => icase = true,
                c if c.is_whitespace() => {}
                c => return Err(format!("sed flag `{c}` is not reproduced")),
            }
            i += 1;
        }
        let pattern = translate(&re, extended, delim)?;
        let pattern = if icase { format!("(?i){pattern}") } else { pattern };
        let re = Regex::new(&pattern).map_err(|e| format!("sed: regular expression `{re}`: {e}"))?;
        out.push(Substitute {
            re,
            replacement: replacement_pieces(&replacement, delim)?,
            global,
        });
    }
}

/// The text up to the next unescaped `delim` (escapes kept, `\DELIM` kept for the caller).
fn field(chars: &[char], i: &mut usize, delim: char) -> Result<String, String> {
    let mut s = String::new();
    while let Some(&c) = chars.get(*i) {
        *i += 1;
        if c == delim {
            return Ok(s);
        }
        s.push(c);
        if c == '\\' {
            let next = *chars.get(*i).ok_or("sed: unterminated `s` command")?;
            s.push(next);
            *i += 1;
        }
    }
    Err("sed: unterminated `s` command".into())
}

/// A POSIX regular expression (GNU sed's reading) as a `regex` pattern.
fn translate(re: &str, extended: bool, delim: char) -> Result<String, String> {
    let chars: Vec<char> = re.chars().collect();
    let mut out = String::new();
    let mut i = 0;
    // Whether the next `*` would be at the start of an expression (a literal in BRE).
    let mut at_start = true;
    let lit = |c: char, out: &mut String| out.push_str(&regex::escape(&c.to_string()));
    while i < chars.len() {
        let c = chars[i];
        i += 1;
        let start = at_start;
        at_start = false;
        match c {
            '[' => i = bracket(&chars, i, &mut out)?,
            '\\' => {
                let n = *chars.get(i).ok_or("sed: trailing backslash")?;
                i += 1;
                match n {
                    '(' | ')' | '{' | '}' if !extended => {
                        out.push(n);
                        at_start = n == '(';
                    }
                    '+' | '?' if !extended => out.push(n),
                    '|' => return Err("sed: alternation is not reproduced (POSIX takes the longest match)".into()),
                    '1'..='9' => return Err("sed: back-references are not reproduced".into()),
                    'n' => out.push_str("\\n"),
                    't' => out.push_str("\\t"),
                    'w' | 'W' | 's' | 'S' | 'b' | 'B' => {
                        out.push('\\');
                        out.push(n);
                    }
                    '<' => out.push_str("\\b{start}"),
                    '>' => out.push_str("\\b{end}"),
                    '`' => out.push_str("\\A"),
                    '\'' => out.push_str("\\z"),
                    n if n == delim => lit(n, &mut out),
                    n if n.is_ascii_alphanumeric() => {
                        return Err(format!("sed: `\\{n}` is not reproduced"));
                    }
                    n => lit(n, &mut out),
                }
            }
            '(' | ')' | '{' | '}' | '+' | '?' if extended => {
                out.push(c);
                at_start = c == '(';
            }
            '|' if extended => return Err("sed: alternation is not reproduced (POSIX takes the longest match)".into()),
            '(' | ')' | '{' | '}' | '+' | '?' | '|' => lit(c, &mut out),
            '*' if start => lit(c, &mut out),
            '^' if start || extended => {
                out.push('^');
                at_start = true;
            }
            '^' => lit(c, &mut out),
            // `$` anchors at the end of the expression (or of a group) in BRE.
            '$' if extended || i == chars.len() || chars[i..].starts_with(&['\\', ')']) => out.push('$'),
            '$' => lit(c, &mut out),
            '.' | '*' => out.push(c),
            c => lit(c, &mut out),
        }
    }
    Ok(out)
}

/// A bracket expression from after its `[`; returns the index after its `]`. In POSIX a
/// backslash is literal inside brackets, and `[` only starts a class like `[:space:]`.
fn bracket(chars: &[char], mut i: usize, out: &mut String) -> Result<usize, String> {
    out.push('[');
    if chars.get(i) == Some(&'^') {
        out.push('^');
        i += 1;
    }
    // A `]` first is a member.
    if chars.get(i) == Some(&']') {
        out.push_str("\\]");
        i += 1;
    }
    while let Some(&c) = chars.get(i) {
        i += 1;
        match c {
            ']' => {
                out.push(']');
                return Ok(i);
            }
            '[' if chars.get(i) == Some(&':') => {
                let rest: String = chars[i..].iter().collect();
                let end = rest.find(":]").ok_or("sed: unterminated character class")?;
                out.push('[');
                out.push_str(&rest[..end + 2]);
                i += rest[..end + 2].chars().count();
            }
            '[' if matches!(chars.get(i), Some('.' | '=')) => {
                return Err("sed: collating elements and equivalence classes are not reproduced".into());
            }
            '\\' | '[' | '&' | '~' => {
                out.push('\\');
                out.push(c);
            }
            c => out.push(c),
        }
    }
    Err("sed: unterminated bracket expression".into())
}

fn replacement_pieces(text: &str, delim: char) -> Result<Vec<Piece>, String> {
    let mut pieces = Vec::new();
    let mut lit = String::new();
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        match c {
            '&' => {
                pieces.push(Piece::Text(std::mem::take(&mut lit)));
                pieces.push(Piece::Group(0));
            }
            '\\' => match chars.next() {
                Some(d @ '1'..='9') => {
                    pieces.push(Piece::Text(std::mem::take(&mut lit)));
                    pieces.push(Piece::Group(d as usize - '0' as usize));
                }
                Some('n') => lit.push('\n'),
                Some('t') => lit.push('\t'),
                Some(c @ ('L' | 'U' | 'l' | 'u' | 'E')) => {
                    return Err(format!("sed: case conversion `\\{c}` is not reproduced"));
                }
                Some(c) if c == delim || !c.is_ascii_alphanumeric() => lit.push(c),
                Some(c) => return Err(format!("sed: `\\{c}` in a replacement is not reproduced")),
                None => return Err("sed: trailing backslash in a replacement".into()),
            },
            c => lit.push(c),
        }
    }
    pieces.push(Piece::Text(lit));
    pieces.retain(|p| *p != Piece::Text(String::new()));
    Ok(pieces)
}

/// Edits one line (without its newline).
fn substitute(line: &str, cmd: &Substitute) -> String {
    let mut out = String::new();
    let mut last = 0;
    for caps in cmd.re.captures_iter(line) {
        let Some(whole) = caps.get(0) else { continue };
        out.push_str(&line[last..whole.start()]);
        for p in &cmd.replacement {
            match p {
                Piece::Text(t) => out.push_str(t),
                Piece::Group(n) => out.push_str(caps.get(*n).map_or("", |m| m.as_str())),
            }
        }
        last = whole.end();
        if !cmd.global {
            break;
        }
    }
    out.push_str(&line[last..]);
    out
}

/// Edits every file of the call in the image.
pub fn apply(overlay: &mut Overlay<'_>, call: &SedCall) -> Result<(), String> {
    for file in &call.files {
        let path = super::lstat_path(overlay, file)?;
        let entry = overlay
            .entry(&path)
            .cloned()
            .ok_or_else(|| format!("can't read {file}: No such file or directory"))?;
        match entry.kind {
            EntryKind::File { .. } => {}
            EntryKind::Symlink { .. } => {
                return Err(format!("sed -i on the link {file} (replaced by a file) is not reproduced"));
            }
            _ => return Err(format!("couldn't edit {file}: not a regular file")),
        }
        let bytes = match overlay.read(&path) {
            Some(Ok(b)) => b,
            Some(Err(e)) => return Err(format!("reading {file}: {e}")),
            None => Vec::new(),
        };
        let text = String::from_utf8(bytes.clone()).map_err(|_| format!("{file} is not UTF-8 text"))?;
        let mut edited = String::with_capacity(text.len());
        for line in text.split_inclusive('\n') {
            let (body, newline) = match line.strip_suffix('\n') {
                Some(b) => (b, "\n"),
                None => (line, ""),
            };
            let mut body = body.to_owned();
            for cmd in &call.commands {
                body = substitute(&body, cmd);
            }
            edited.push_str(&body);
            edited.push_str(newline);
        }
        let mut changes = Changes::default();
        if let Some(suffix) = &call.backup_suffix {
            let mut backup = entry.clone();
            backup.path = format!("{path}{suffix}");
            changes.files.push((backup, bytes));
        }
        let mut written = entry;
        written.kind = EntryKind::File {
            size: edited.len() as u64,
        };
        changes.files.push((written, edited.into_bytes()));
        overlay.apply(changes);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn edit(script: &str, extended: bool, text: &str) -> Result<String, String> {
        let cmds = parse_script(script, extended)?;
        Ok(text
            .split_inclusive('\n')
            .map(|l| {
                let (b, nl) = l.strip_suffix('\n').map_or((l, ""), |b| (b, "\n"));
                let mut b = b.to_owned();
                for c in &cmds {
                    b = substitute(&b, c);
                }
                b + nl
            })
            .collect())
    }

    #[test]
    fn basic_and_extended_expressions_edit_as_gnu_sed_does() {
        let conf = "#PermitRootLogin prohibit-password\n#PasswordAuthentication yes\nPort 22";
        assert_eq!(
            edit("s/^#*PermitRootLogin .*/PermitRootLogin yes/", false, conf).unwrap(),
            "PermitRootLogin yes\n#PasswordAuthentication yes\nPort 22"
        );
        // BRE: `\(…\)` groups, `\{n\}`, literal `+` and `(`; `&` and `\1` in the replacement.
        assert_eq!(edit(r"s/\(a\{2\}\)+(/[\1]&/g", false, "aa+(aa+(").unwrap(), "[aa]aa+([aa]aa+(");
        // ERE: groups and `+` are operators, `\(` literal.
        assert_eq!(edit(r"s/(b+)\(/<\1>/", true, "xbbb(bb(").unwrap(), "x<bbb>bb(");
        // `*` first is literal; `$` inside is literal; classes and a delimiter escaped.
        assert_eq!(edit(r"s|*a$b|\|x|", false, "*a$b*a$b").unwrap(), "|x*a$b");
        assert_eq!(edit("s/[[:space:]]\\+/ /g;s/ $//", false, "a \t b  \n").unwrap(), "a b\n");
        // A backslash is literal inside brackets.
        assert_eq!(edit(r"s/[\]/X/g", false, r"a\b").unwrap(), "aXb");
        // Empty matches with `g`, as sed: between every character.
        assert_eq!(edit("s/x*/-/g", false, "abc").unwrap(), "-a-b-c-");
        assert_eq!(edit("s/A/b/I", false, "aA").unwrap(), "bA");
    }

    #[test]
    fn what_cannot_be_kept_exact_is_refused() {
        for (script, ext) in [
            (r"s/\(a\)\1/x/", false),
            (r"s/a\|b/x/", false),
            ("s/a|b/x/", true),
            ("s/a/x/2", false),
            ("s/a/x/p", false),
            ("/a/d", false),
            ("1s/a/b/", false),
            (r"s/a/\U&/", false),
            ("s/a/b", false),
        ] {
            assert!(parse_script(script, ext).is_err(), "{script} should be refused");
        }
        let args = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert!(parse(&args(&["s/a/b/", "/etc/x"])).is_err(), "sed without -i edits nothing");
        assert!(parse(&args(&["-i", "s/a/b/", "etc/x"])).is_err());
        let call = parse(&args(&["-i.orig", "-e", "s/a/b/", "-e", "s/c/d/g", "/etc/x", "/etc/y"])).unwrap();
        assert_eq!((call.commands.len(), call.files.len()), (2, 2));
        assert_eq!(call.backup_suffix.as_deref(), Some(".orig"));
    }
}
