//! `getopt` (util-linux's enhanced one, Debian's) inside `$(…)`: what `eval set -- $TEMP` then
//! reads (update-exim4defaults parses `--init` so). Hand-written: its output is a small
//! quoting format, not worth a crate.
//!
//! Options: `-o|--options SHORT`, `-l|--longoptions LONG` (repeatable), `-n|--name NAME`,
//! `-q|--quiet`, `-s sh`; without `-o`, the first parameter after them is SHORT. A leading `+`
//! in SHORT stops at the first non-option. Output: ` -a`, ` -b 'arg'`, ` --long`, ` --long
//! 'arg'`, then ` --` and each remaining parameter quoted; an unknown or ambiguous option or a
//! missing argument (getopt's error) is `None`, as are `-a`/`-u`/`-T` and a `-` mode.

pub fn getopt(args: &[String]) -> Option<String> {
    let mut short: Option<String> = None;
    let mut long: Vec<(String, Arg)> = Vec::new();
    let mut it = args.iter().peekable();
    let mut params: Vec<String> = Vec::new();
    while let Some(a) = it.next() {
        // getopt reads its own long options as getopt_long does: a unique prefix is the option
        // (dbconfig-generate-include's `--long help,dbuser::,…`).
        let a = &own_long_option(a)?;
        match a.as_str() {
            "-o" | "--options" => short = Some(it.next()?.clone()),
            "-l" | "--longoptions" => long.extend(long_specs(it.next()?)?),
            "-n" | "--name" => {
                it.next()?;
            }
            "-q" | "--quiet" | "-Q" | "--quiet-output" => {}
            "-s" | "--shell" => {
                if it.next()? != "sh" {
                    return None;
                }
            }
            "--" => {
                params = it.by_ref().cloned().collect();
            }
            s if s.starts_with("--options=") => short = Some(s["--options=".len()..].to_owned()),
            s if s.starts_with("--longoptions=") => long.extend(long_specs(&s["--longoptions=".len()..])?),
            s if s.starts_with("--name=") => {}
            s if s.starts_with("-o") && s.len() > 2 => short = Some(s[2..].to_owned()),
            s if s.starts_with("-l") && s.len() > 2 => long.extend(long_specs(&s[2..])?),
            s if s.starts_with("-n") && s.len() > 2 => {}
            s if s.starts_with('-') => return None,
            _ => {
                // The first parameter: then all of them are getopt's input.
                params.push(a.clone());
                params.extend(it.by_ref().cloned());
            }
        }
    }
    let short = match short {
        Some(s) => s,
        None if !params.is_empty() => params.remove(0),
        None => return None,
    };
    let (stop_at_operand, short) = match short.strip_prefix('+') {
        Some(rest) => (true, rest.to_owned()),
        None if short.starts_with('-') => return None,
        None => (false, short),
    };
    let short = short_specs(&short)?;
    let mut out = String::new();
    let mut operands = Vec::new();
    let mut i = 0;
    while i < params.len() {
        let p = &params[i];
        i += 1;
        if p == "--" {
            operands.extend(params[i..].iter().cloned());
            break;
        }
        if let Some(body) = p.strip_prefix("--") {
            let (name, inline) = match body.split_once('=') {
                Some((n, v)) => (n, Some(v.to_owned())),
                None => (body, None),
            };
            let (full, arg) = by_unique_prefix(&long, |(n, _)| n.as_str(), name)?.clone();
            out.push_str(&format!(" --{full}"));
            match (arg, inline) {
                (Arg::None, Some(_)) => return None,
                (Arg::None, None) => {}
                (Arg::Optional, v) => out.push_str(&format!(" {}", quote(&v.unwrap_or_default()))),
                (Arg::Required, Some(v)) => out.push_str(&format!(" {}", quote(&v))),
                (Arg::Required, None) => {
                    let v = params.get(i)?;
                    i += 1;
                    out.push_str(&format!(" {}", quote(v)));
                }
            }
            continue;
        }
        if p.len() > 1 && p.starts_with('-') {
            let chars: Vec<char> = p[1..].chars().collect();
            let mut k = 0;
            while k < chars.len() {
                let c = chars[k];
                k += 1;
                let arg = short.iter().find(|(s, _)| *s == c).map(|(_, a)| *a)?;
                out.push_str(&format!(" -{c}"));
                let rest: String = chars[k..].iter().collect();
                match arg {
                    Arg::None => continue,
                    Arg::Optional => out.push_str(&format!(" {}", quote(&rest))),
                    Arg::Required if !rest.is_empty() => out.push_str(&format!(" {}", quote(&rest))),
                    Arg::Required => {
                        let v = params.get(i)?;
                        i += 1;
                        out.push_str(&format!(" {}", quote(v)));
                    }
                }
                break;
            }
            continue;
        }
        operands.push(p.clone());
        if stop_at_operand {
            operands.extend(params[i..].iter().cloned());
            break;
        }
    }
    out.push_str(" --");
    for o in &operands {
        out.push_str(&format!(" {}", quote(o)));
    }
    out.push('\n');
    Some(out)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Arg {
    None,
    Required,
    Optional,
}

/// getopt's own long options.
const OWN_LONG: &[&str] = &[
    "alternative",
    "help",
    "longoptions",
    "name",
    "options",
    "quiet",
    "quiet-output",
    "shell",
    "test",
    "unquoted",
    "version",
];

/// `--PREFIX[=VALUE]` of one of getopt's own long options, written out in full; other words as
/// they are. `None`: a prefix of several (`--q`) or of none, which getopt refuses.
fn own_long_option(arg: &str) -> Option<String> {
    let Some(body) = arg.strip_prefix("--").filter(|b| !b.is_empty()) else {
        return Some(arg.to_owned());
    };
    let (name, value) = match body.split_once('=') {
        Some((n, v)) => (n, Some(v)),
        None => (body, None),
    };
    let full = by_unique_prefix(OWN_LONG, |o| o, name)?;
    Some(match value {
        Some(v) => format!("--{full}={v}"),
        None => format!("--{full}"),
    })
}

/// The long option `name` stands for, as getopt_long finds it: the one named so, else the one
/// it is a unique prefix of.
fn by_unique_prefix<'o, T>(options: &'o [T], name_of: impl Fn(&T) -> &str, name: &str) -> Option<&'o T> {
    if let Some(exact) = options.iter().find(|o| name_of(o) == name) {
        return Some(exact);
    }
    let mut hits = options.iter().filter(|o| name_of(o).starts_with(name));
    match (hits.next(), hits.next()) {
        (Some(only), None) => Some(only),
        _ => None,
    }
}

fn short_specs(spec: &str) -> Option<Vec<(char, Arg)>> {
    let chars: Vec<char> = spec.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c == ':' {
            return None;
        }
        let colons = chars[i + 1..].iter().take_while(|c| **c == ':').count();
        out.push((
            c,
            match colons {
                0 => Arg::None,
                1 => Arg::Required,
                _ => Arg::Optional,
            },
        ));
        i += 1 + colons.min(2);
    }
    Some(out)
}

fn long_specs(spec: &str) -> Option<Vec<(String, Arg)>> {
    spec.split([',', ' ', '\t', '\n'])
        .filter(|s| !s.is_empty())
        .map(|s| {
            let name = s.trim_end_matches(':');
            let arg = match s.len() - name.len() {
                0 => Arg::None,
                1 => Arg::Required,
                _ => Arg::Optional,
            };
            (!name.is_empty()).then(|| (name.to_owned(), arg))
        })
        .collect()
}

/// sh quoting as getopt writes it: `'…'`, a quote inside as `'\''`.
fn quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "'\\''"))
}
