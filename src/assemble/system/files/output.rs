//! What a command prints, where a script sends it to a file (`echo TEXT >FILE`, `printf … >>FILE`,
//! `cat A B >FILE`, `: >FILE`) or reads it back (`$(mktemp)`), computed without running it.
//!
//! `echo` is the one of the script's shell: dash's (Debian's `/bin/sh`) takes only `-n` and always
//! reads backslash escapes; bash's takes `-n`/`-e`/`-E` and reads them only under `-e`. `printf`
//! takes `%s`, `%b`, `%d`/`%i`, `%%` and the usual escapes, reusing its format for leftover
//! arguments as printf(1) does; widths, precisions and other conversions are refused.

use super::super::{Changes, Overlay, TreeView};
use crate::entry::EntryKind;

/// The shell that runs a script, from its `#!` line (dpkg runs it through that interpreter).
pub fn is_bash(script: &str) -> bool {
    script
        .lines()
        .next()
        .is_some_and(|l| l.starts_with("#!") && l.split_whitespace().next().is_some_and(|i| i.ends_with("bash")))
}

/// What a printing command writes, or `Err` when it cannot be known; `Ok(None)` for a command
/// that is not one of these.
pub fn printed(tree: &dyn TreeView, argv: &[String], bash: bool) -> Result<Option<String>, String> {
    let Some((name, args)) = argv.split_first() else {
        return Ok(None);
    };
    Ok(Some(match name.as_str() {
        ":" | "true" => String::new(),
        "echo" => echo(args, bash)?,
        "printf" => {
            let (format, args) = args.split_first().ok_or("printf without a format")?;
            printf(format, args)?
        }
        "cat" if !args.is_empty() => {
            let mut out = Vec::new();
            for a in args {
                if a.starts_with('-') {
                    return Err(format!("cat option {a} is not reproduced"));
                }
                let path = super::lstat_path(tree, a)?;
                let real = super::super::resolve(tree, &path).ok_or_else(|| format!("{a}: No such file"))?;
                match tree.entry(&real).map(|e| &e.kind) {
                    Some(EntryKind::File { .. }) => {}
                    _ => return Err(format!("{a} is not a regular file")),
                }
                match tree.read(&real) {
                    Some(Ok(bytes)) => out.extend(bytes),
                    Some(Err(e)) => return Err(format!("reading {a}: {e}")),
                    None => {}
                }
            }
            String::from_utf8(out).map_err(|_| "its output is not UTF-8 text".to_owned())?
        }
        _ => return Ok(None),
    }))
}

fn echo(args: &[String], bash: bool) -> Result<String, String> {
    let (mut newline, mut escapes) = (true, !bash);
    let mut words = args;
    while let Some((first, rest)) = words.split_first() {
        let flags = first.strip_prefix('-').filter(|f| {
            !f.is_empty() && f.chars().all(|c| if bash { "neE".contains(c) } else { c == 'n' })
        });
        let Some(flags) = flags else { break };
        for c in flags.chars() {
            match c {
                'n' => newline = false,
                'e' => escapes = true,
                _ => escapes = false,
            }
        }
        words = rest;
        if !bash {
            // dash's echo reads one `-n` only.
            break;
        }
    }
    let mut out = words.join(" ");
    if escapes {
        let (text, stop) = unescape(&out, true)?;
        out = text;
        if stop {
            return Ok(out);
        }
    }
    if newline {
        out.push('\n');
    }
    Ok(out)
}

/// Backslash escapes as echo and printf's `%b` read them; `true` when `\c` ended the output.
fn unescape(s: &str, octal_with_zero: bool) -> Result<(String, bool), String> {
    let mut out = String::new();
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some('t') => out.push('\t'),
            Some('\\') => out.push('\\'),
            Some('a') => out.push('\x07'),
            Some('b') => out.push('\x08'),
            Some('f') => out.push('\x0c'),
            Some('r') => out.push('\r'),
            Some('v') => out.push('\x0b'),
            Some('c') => return Ok((out, true)),
            Some(d @ '0'..='7') => {
                // echo: `\0nnn`; printf's format: `\nnn`.
                let mut value = if octal_with_zero && d == '0' { 0 } else { d as u32 - '0' as u32 };
                let max = if octal_with_zero && d == '0' { 3 } else { 2 };
                for _ in 0..max {
                    match chars.peek() {
                        Some(o @ '0'..='7') => {
                            value = value * 8 + (*o as u32 - '0' as u32);
                            chars.next();
                        }
                        _ => break,
                    }
                }
                if value > 0x7f {
                    return Err("a non-ASCII octal escape is not reproduced".into());
                }
                out.push(char::from_u32(value).ok_or("bad octal escape")?);
            }
            Some(other) => {
                out.push('\\');
                out.push(other);
            }
            None => out.push('\\'),
        }
    }
    Ok((out, false))
}

fn printf(format: &str, args: &[String]) -> Result<String, String> {
    let mut out = String::new();
    let mut next = 0;
    loop {
        let mut chars = format.chars().peekable();
        let mut literal = String::new();
        while let Some(c) = chars.next() {
            if c == '\\' {
                literal.push(c);
                if let Some(n) = chars.next() {
                    literal.push(n);
                }
                continue;
            }
            if c != '%' {
                literal.push(c);
                continue;
            }
            let (text, _) = unescape(&std::mem::take(&mut literal), false)?;
            out.push_str(&text);
            let arg = |next: &mut usize| {
                let a = args.get(*next).cloned().unwrap_or_default();
                *next += 1;
                a
            };
            match chars.next() {
                Some('%') => out.push('%'),
                Some('s') => out.push_str(&arg(&mut next)),
                Some('b') => {
                    let (text, stop) = unescape(&arg(&mut next), true)?;
                    out.push_str(&text);
                    if stop {
                        return Ok(out);
                    }
                }
                Some('d' | 'i') => {
                    let a = arg(&mut next);
                    let n: i64 = if a.is_empty() {
                        0
                    } else {
                        a.parse().map_err(|_| format!("printf %d of `{a}`"))?
                    };
                    out.push_str(&n.to_string());
                }
                Some(c) => return Err(format!("printf conversion `%{c}` is not reproduced")),
                None => return Err("printf format ends with `%`".into()),
            }
        }
        let (text, _) = unescape(&literal, false)?;
        out.push_str(&text);
        // The format is reused while arguments are left (and it consumed some).
        if next == 0 || next >= args.len() {
            return Ok(out);
        }
    }
}

/// `mktemp [-d] [-p DIR | --tmpdir[=DIR] | -t] [-q] [TEMPLATE]` made in the image: the file
/// (0600) or directory (0700), root's, with the template's trailing `X`s replaced by a counter
/// instead of random letters, so the build stays deterministic. Returns the path mktemp prints.
pub fn mktemp(overlay: &mut Overlay<'_>, args: &[String]) -> Result<String, String> {
    let (mut dir_mode, mut in_tmp) = (false, false);
    let mut base_dir = None;
    let mut template = None;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "-d" | "--directory" => dir_mode = true,
            "-q" | "--quiet" => {}
            "-t" | "--tmpdir" => in_tmp = true,
            "-p" => {
                in_tmp = true;
                base_dir = Some(it.next().ok_or("mktemp -p without a directory")?.clone());
            }
            s if s.starts_with("--tmpdir=") => {
                in_tmp = true;
                base_dir = Some(s["--tmpdir=".len()..].to_owned());
            }
            s if s.starts_with('-') => return Err(format!("mktemp option {s} is not reproduced")),
            s if template.is_none() => template = Some(s.to_owned()),
            _ => return Err("mktemp with more than one template".into()),
        }
    }
    let default = template.is_none();
    let template = template.unwrap_or_else(|| "tmp.XXXXXXXXXX".to_owned());
    let xs = template.len() - template.trim_end_matches('X').len();
    if xs < 3 {
        return Err(format!("mktemp template `{template}` has fewer than 3 X's"));
    }
    // dpkg gives scripts no TMPDIR: mktemp's directory is /tmp.
    let path_of = |name: &str| {
        if default || in_tmp {
            format!("{}/{name}", base_dir.as_deref().unwrap_or("/tmp").trim_end_matches('/'))
        } else {
            name.to_owned()
        }
    };
    let stem = &template[..template.len() - xs];
    for n in 1..10_000u32 {
        let name = format!("{stem}{n:0xs$}");
        let abs = path_of(&name);
        if !abs.starts_with('/') {
            return Err(format!("mktemp in the working directory ({name}) is not reproduced"));
        }
        let rel = super::lstat_path(overlay, &abs)?;
        if overlay.entry(&rel).is_some() {
            continue;
        }
        let mut c = Changes::default();
        if dir_mode {
            c.dir(&rel, 0o700);
        } else {
            c.file(&rel, 0o600, Vec::new());
        }
        overlay.apply(c);
        return Ok(abs);
    }
    Err("mktemp: no free name".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn echo_as_dash_and_as_bash() {
        assert_eq!(echo(&words(&["a", "b"]), false).unwrap(), "a b\n");
        assert_eq!(echo(&words(&["-n", "a"]), false).unwrap(), "a");
        // dash reads escapes always and no `-e`; bash only under `-e`.
        assert_eq!(echo(&words(&["a\\tb"]), false).unwrap(), "a\tb\n");
        assert_eq!(echo(&words(&["-e", "a"]), false).unwrap(), "-e a\n");
        assert_eq!(echo(&words(&["a\\tb"]), true).unwrap(), "a\\tb\n");
        assert_eq!(echo(&words(&["-e", "a\\tb\\c", "x"]), true).unwrap(), "a\tb");
        assert_eq!(echo(&words(&["\\0101"]), false).unwrap(), "A\n");
        assert!(is_bash("#!/bin/bash -e\n") && !is_bash("#!/bin/sh\n") && !is_bash("echo\n"));
    }

    #[test]
    fn printf_reuses_its_format_and_refuses_what_it_does_not_know() {
        assert_eq!(printf("%s=%d\\n", &words(&["a", "1", "b", "2"])).unwrap(), "a=1\nb=2\n");
        assert_eq!(printf("100%%\\101\\n", &[]).unwrap(), "100%A\n");
        assert_eq!(printf("[%b]", &words(&["x\\ty"])).unwrap(), "[x\ty]");
        assert_eq!(printf("%s\\n", &[]).unwrap(), "\n");
        assert!(printf("%5s", &words(&["a"])).is_err());
        assert!(printf("%x", &words(&["1"])).is_err());
    }
}
