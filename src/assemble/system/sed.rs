//! `sed -i`, as GNU sed edits a file in place (openssh-server's
//! `sed -i 's/^#*PermitRootLogin .*/PermitRootLogin yes/' FILE`).
//!
//! The edit itself is [`shell::text`]'s (its `s`, `d` and `p` commands and their addresses, its
//! POSIX regular expressions, and what it refuses); each file is edited on its own, its lines
//! numbered from 1, as `-i` implies `-s`. The file keeps its mode and owner (GNU sed copies them to the file it
//! renames over the original); `-iSUFFIX` keeps a copy of the original under that name.

use super::shell::text::{self, SedCommand, SedShortOption};
use super::{Changes, Overlay, TreeView};
use crate::entry::EntryKind;

/// One `sed -i` call.
#[derive(Debug)]
pub struct SedCall {
    commands: Vec<SedCommand>,
    files: Vec<String>,
    backup_suffix: Option<String>,
}

/// Whether a `sed` call edits no file in place (it prints its result).
pub fn prints_only(args: &[String]) -> bool {
    let mut it = args.iter();
    while let Some(a) = it.next() {
        if a == "--" {
            break;
        }
        if a.starts_with("--in-place") {
            return false;
        }
        // Long options that take the next word (`--expression -i` is a script, not `-i`).
        if matches!(a.as_str(), "--expression" | "--file" | "--line-length") {
            it.next();
            continue;
        }
        if a.starts_with("--") || a.len() < 2 || !a.starts_with('-') {
            continue;
        }
        // A bundle as getopt reads it: only `-i` edits (`-z`, `-u`, `-s` print too).
        match text::sed_short_options(&a[1..], &mut it) {
            Ok(options) if options.iter().any(|o| matches!(o, SedShortOption::InPlace(_))) => return false,
            _ => {}
        }
    }
    true
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
            "--in-place" => in_place = true,
            "--regexp-extended" => extended = true,
            "--separate" | "-Z" | "--follow-symlinks" => {}
            "--" => operands.extend(it.by_ref().cloned()),
            s if s.starts_with("--expression=") => scripts.push(s["--expression=".len()..].to_owned()),
            s if s.starts_with("--in-place=") => {
                in_place = true;
                backup_suffix = Some(s["--in-place=".len()..].to_owned());
            }
            // Short options, alone or bundled: `-i`, `-i.orig`, `-Ei`, `-re SCRIPT`,
            // `-eSCRIPT` (samba-common's `sed -e's/…/…/'`).
            s if s.len() > 1 && s.starts_with('-') && !s.starts_with("--") => {
                for option in text::sed_short_options(&s[1..], &mut it)? {
                    match option {
                        SedShortOption::Extended => extended = true,
                        SedShortOption::Separate => {}
                        SedShortOption::Script(script) => scripts.push(script),
                        SedShortOption::InPlace(suffix) => {
                            in_place = true;
                            backup_suffix = suffix;
                        }
                        SedShortOption::Quiet => return Err("sed -n is not reproduced".into()),
                        SedShortOption::NotReproduced(c) => {
                            return Err(format!("sed option -{c} is not reproduced"));
                        }
                    }
                }
            }
            s if s.starts_with("--") => {
                return Err(format!("sed option {s} is not reproduced"));
            }
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
    // GNU sed reads its `-e` scripts as the lines of one program (a block's jump counts over
    // all of them).
    let commands = text::parse_script(&scripts.join("\n"), extended)?;
    Ok(SedCall {
        commands,
        files: operands,
        backup_suffix: backup_suffix.filter(|s| !s.is_empty()),
    })
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
                return Err(format!(
                    "sed -i on the link {file} (replaced by a file) is not reproduced"
                ));
            }
            _ => return Err(format!("couldn't edit {file}: not a regular file")),
        }
        let bytes = match overlay.read(&path) {
            Some(Ok(b)) => b,
            Some(Err(e)) => return Err(format!("reading {file}: {e}")),
            None => Vec::new(),
        };
        let text = String::from_utf8(bytes.clone()).map_err(|_| format!("{file} is not UTF-8 text"))?;
        let edited = text::sed_text(&text, &call.commands, false).ok_or_else(|| {
            format!(
                "sed -i on {file}: a case conversion meets a letter outside ASCII (the locale's), or the program branches without end"
            )
        })?;
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

    /// `-i` (with a backup suffix), `-e` scripts, absolute files; sed without `-i` edits nothing.
    #[test]
    fn in_place_arguments() {
        let args = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert!(
            parse(&args(&["s/a/b/", "/etc/x"])).is_err(),
            "sed without -i edits nothing"
        );
        assert!(parse(&args(&["-i", "s/a/b/", "etc/x"])).is_err());
        let call = parse(&args(&[
            "-i.orig", "-e", "s/a/b/", "-e", "s/c/d/g", "/etc/x", "/etc/y",
        ]))
        .unwrap();
        assert_eq!((call.commands.len(), call.files.len()), (2, 2));
        assert_eq!(call.backup_suffix.as_deref(), Some(".orig"));
        // Bundles as getopt reads them: dma's `-i -re SCRIPT`; `-ie` is `-i` with the suffix
        // `e`, so its script is the next operand; `-Ei`.
        let call = parse(&args(&["-i", "-re", "s@(a)@b@", "/tmp/x"])).unwrap();
        assert_eq!(
            (call.commands.len(), call.files.as_slice()),
            (1, &["/tmp/x".to_owned()][..])
        );
        assert_eq!(call.backup_suffix, None);
        let call = parse(&args(&["-ie", "s/a/b/", "/etc/x"])).unwrap();
        assert_eq!(call.backup_suffix.as_deref(), Some("e"));
        assert_eq!(call.files, ["/etc/x"]);
        assert!(parse(&args(&["-Ei", "s/(a)/b/", "/etc/x"])).is_ok());
        assert!(parse(&args(&["-i", "-ze", "s/a/b/", "/etc/x"])).is_err());
        assert!(parse(&args(&["-ni", "s/a/b/p", "/etc/x"])).is_err());
    }

    /// Whether a call edits in place, whatever the bundle its `-i` is in.
    #[test]
    fn what_prints_only() {
        let args = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert!(prints_only(&args(&["-re", "s/a/b/", "/etc/x"])));
        assert!(prints_only(&args(&["-ne", "s/a/b/p", "/etc/x"])));
        assert!(prints_only(&args(&["-e", "s/-i/x/", "/etc/x"])));
        assert!(!prints_only(&args(&["-rie", "s/a/b/", "/etc/x"])));
        assert!(!prints_only(&args(&["-i", "s/a/b/", "/etc/x"])));
        assert!(!prints_only(&args(&["--in-place=.bak", "s/a/b/", "/etc/x"])));
        assert!(prints_only(&args(&["-z", "s/a/b/", "/etc/x"])));
        assert!(prints_only(&args(&["-f", "/usr/share/x.sed", "/etc/x"])));
        assert!(prints_only(&args(&["--expression", "-i", "/etc/x"])));
        assert!(!prints_only(&args(&["-zi", "s/a/b/", "/etc/x"])));
    }
}
