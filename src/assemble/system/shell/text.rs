//! The text a script's small tools print, computed: `echo` and `printf` (as the script's shell
//! has them), and the filters scripts pipe text through inside `$(…)` — `grep`, `sed` ([`sed`]),
//! `tr`, `cut`, `basename`, `dirname`, `sort`, `uniq`, `head`, `cat`. Each takes only the forms
//! it reproduces exactly and says `None`/`Err` for the rest, so the caller reports instead of
//! guessing.
//!
//! `echo` is the one of the script's shell: dash's (Debian's `/bin/sh`) takes only `-n` and always
//! reads backslash escapes; bash's takes `-n`/`-e`/`-E` and reads them only under `-e`. `printf`
//! takes `%s`, `%b`, `%d`/`%i`, `%%` and the usual escapes, reusing its format for leftover
//! arguments as printf(1) does; widths, precisions and other conversions are refused.
//!
//! Regular expressions (sed's and grep's) are translated from POSIX (basic, or extended) to the
//! `regex` crate's syntax. What the translation cannot keep exact is refused: back-references,
//! alternation where the match's extent matters (POSIX takes the longest alternative, `regex`
//! the first), the `w`/`e` and numbered flags.

use regex::Regex;

/// `date` of a given instant (`-d @SECONDS`, as mdadm's mkconf prints SOURCE_DATE_EPOCH's):
/// `-R` or `+FORMAT` (`%Y %m %d %H %M %S %s %%`), in UTC — `-u`, or the zone of a script that
/// sets none, the image's `/etc/localtime` being tzdata's default, UTC. `None` for the current
/// time (it is the build's) and for other forms.
pub fn date(args: &[String]) -> Option<String> {
    use crate::debian::date;
    let mut at = None;
    let mut format = None;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let value = match a.as_str() {
            "-u" | "--utc" | "--universal" => continue,
            "-R" | "--rfc-email" => {
                format = Some(None);
                continue;
            }
            "-d" | "--date" => it.next()?.as_str(),
            s if s.starts_with("--date=") => &s[7..],
            s if s.starts_with("-d") => &s[2..],
            s if s.starts_with('+') => {
                date::check_format(&s[1..]).ok()?;
                format = Some(Some(s[1..].to_owned()));
                continue;
            }
            _ => return None,
        };
        at = Some(value.strip_prefix('@')?.trim().parse::<i64>().ok()?);
    }
    let secs = at?;
    Some(match format? {
        None => format!("{}\n", date::rfc_email_utc(secs)),
        Some(f) => format!("{}\n", date::format_utc(&f, secs)),
    })
}

/// The shell that runs a script, from its `#!` line (dpkg runs it through that interpreter).
pub fn is_bash(script: &str) -> bool {
    script.lines().next().is_some_and(|l| {
        l.starts_with("#!") && l.split_whitespace().next().is_some_and(|i| i.ends_with("bash"))
    })
}

pub fn echo(args: &[String], bash: bool) -> Result<String, String> {
    let (mut newline, mut escapes) = (true, !bash);
    let mut words = args;
    while let Some((first, rest)) = words.split_first() {
        let flags = first
            .strip_prefix('-')
            .filter(|f| !f.is_empty() && f.chars().all(|c| if bash { "neE".contains(c) } else { c == 'n' }));
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
                let mut value = if octal_with_zero && d == '0' {
                    0
                } else {
                    d as u32 - '0' as u32
                };
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

pub fn printf(format: &str, args: &[String]) -> Result<String, String> {
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

/// A POSIX regular expression (GNU sed's reading) as a `regex` pattern, for a match whose
/// extent matters (sed's `s`): alternation is refused, as `regex` takes the first alternative
/// that matches where POSIX takes the longest match, unless every alternation is of literals
/// none of which begins another (`^(passwd|group):`): then at most one alternative matches at a
/// place, and both readings agree.
pub fn translate(re: &str, extended: bool, delim: char) -> Result<String, String> {
    translate_re(
        re,
        extended,
        delim,
        alternatives_are_exclusive(re, extended, delim),
    )
}

/// Whether every alternation in `re` is of plain literal alternatives, none empty and none a
/// prefix of another.
fn alternatives_are_exclusive(re: &str, extended: bool, delim: char) -> bool {
    // The alternatives of each group open at this point (the whole expression first): the text
    // of each, `None` once it holds anything but literal characters.
    let mut groups: Vec<Vec<Option<String>>> = vec![vec![Some(String::new())]];
    let mut alternation = false;
    let close = |alts: Vec<Option<String>>| -> bool {
        if alts.len() < 2 {
            return true;
        }
        let Some(texts) = alts.into_iter().collect::<Option<Vec<String>>>() else {
            return false;
        };
        texts.iter().all(|a| !a.is_empty())
            && texts.iter().enumerate().all(|(i, a)| {
                texts
                    .iter()
                    .enumerate()
                    .all(|(j, b)| i == j || !b.starts_with(a.as_str()))
            })
    };
    let mut chars = re.chars();
    while let Some(c) = chars.next() {
        // What the character is: an operator (open, close, alternation), a literal, or other.
        let (open, shut, bar, literal) = match c {
            '\\' => match chars.next() {
                Some('(') if !extended => (true, false, false, None),
                Some(')') if !extended => (false, true, false, None),
                Some('|') if !extended => (false, false, true, None),
                Some(n) if n == delim || (extended && ".[]()*+?{}|^$\\".contains(n)) => {
                    (false, false, false, Some(n))
                }
                Some(n) if ".[]*^$\\".contains(n) => (false, false, false, Some(n)),
                _ => (false, false, false, None),
            },
            '(' if extended => (true, false, false, None),
            ')' if extended => (false, true, false, None),
            '|' if extended => (false, false, true, None),
            c if c.is_alphanumeric() || "_-/:=,@%!#<> '\"".contains(c) => (false, false, false, Some(c)),
            _ => (false, false, false, None),
        };
        if open {
            // The group is an element of the alternative it is in: not a literal there.
            if let Some(alt) = groups.last_mut().and_then(|g| g.last_mut()) {
                *alt = None;
            }
            groups.push(vec![Some(String::new())]);
        } else if shut {
            let Some(alts) = groups.pop() else {
                return false;
            };
            if groups.is_empty() || !close(alts) {
                return false;
            }
        } else if bar {
            alternation = true;
            if let Some(g) = groups.last_mut() {
                g.push(Some(String::new()));
            }
        } else if let Some(alt) = groups.last_mut().and_then(|g| g.last_mut()) {
            match (literal, alt.as_mut()) {
                (Some(l), Some(text)) => text.push(l),
                _ => *alt = None,
            }
        }
    }
    alternation && groups.len() == 1 && groups.pop().is_some_and(close)
}

/// A POSIX regular expression as a `regex` pattern for whether a line matches (grep): where the
/// match is does not matter, so alternation is kept.
fn translate_matching(re: &str, extended: bool) -> Result<String, String> {
    translate_re(re, extended, '\0', true)
}

/// A sed address (`/RE/`, `\cREc`): only whether a line matches counts, so alternation is kept.
fn translate_address(re: &str, extended: bool, delim: char) -> Result<String, String> {
    translate_re(re, extended, delim, true)
}

fn translate_re(re: &str, extended: bool, delim: char, alternation: bool) -> Result<String, String> {
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
            // sed (a delimiter) reads `\t`-style escapes inside a list too; grep does not.
            '[' => i = bracket(&chars, i, &mut out, delim != '\0')?,
            '\\' => {
                let n = *chars.get(i).ok_or("sed: trailing backslash")?;
                i += 1;
                match n {
                    '(' | ')' | '{' | '}' if !extended => {
                        out.push(n);
                        at_start = n == '(';
                    }
                    '+' | '?' if !extended => out.push(n),
                    // The delimiter escaped is itself (`s|a\|b|x|`), a literal in a basic
                    // expression; in an extended one GNU sed would read an operator there.
                    // GNU sed drops the backslash, so `.`, `*`, `[`, `]`, `$`, `^` keep their
                    // meaning there (`s.a\.b.X.` matches any character): not reproduced.
                    n if n == delim && (".*[]$^".contains(n) || (extended && "|+?(){}".contains(n))) => {
                        return Err(format!("sed: `\\{n}` as the delimiter is not reproduced"));
                    }
                    n if n == delim => lit(n, &mut out),
                    // GNU's `\|` in a basic expression.
                    '|' if alternation && !extended => {
                        out.push('|');
                        at_start = true;
                    }
                    '|' => {
                        return Err(
                            "sed: alternation is not reproduced (POSIX takes the longest match)".into(),
                        );
                    }
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
            '|' if extended && alternation => {
                out.push('|');
                at_start = true;
            }
            '|' if extended => {
                return Err("sed: alternation is not reproduced (POSIX takes the longest match)".into());
            }
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
fn bracket(chars: &[char], mut i: usize, out: &mut String, escapes: bool) -> Result<usize, String> {
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
            // GNU sed, outside POSIXLY_CORRECT: `[ \t]` is a blank or a tab.
            '\\' if escapes && matches!(chars.get(i), Some('t' | 'n' | 'r' | 'f' | 'v' | 'a')) => {
                let escaped = match chars[i] {
                    't' => "\\t",
                    'n' => "\\n",
                    'r' => "\\r",
                    'f' => "\\f",
                    'v' => "\\v",
                    _ => "\\x07",
                };
                out.push_str(escaped);
                i += 1;
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

/// What a filter prints for `stdin` (`argv[0]` first); `None` for a command or form not
/// reproduced here.
/// `iconv -f FROM -t TO[//TRANSLIT|//IGNORE]` where the conversion leaves the text as it is:
/// UTF-8 to UTF-8 (keyboard-configuration's config converts its keyboard names to the charmap
/// of the C.UTF-8 locale it runs in), or ASCII text to either. The walk's text is UTF-8 already.
fn iconv(args: &[String], stdin: &str) -> Option<String> {
    let (mut from, mut to) = (None, None);
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "-f" => from = Some(it.next()?.as_str()),
            "-t" => to = Some(it.next()?.as_str()),
            s if s.starts_with("--from-code=") => from = Some(&s["--from-code=".len()..]),
            s if s.starts_with("--to-code=") => to = Some(&s["--to-code=".len()..]),
            // Any other option, or a file operand.
            _ => return None,
        }
    }
    // The charset's name as iconv matches it: case and punctuation aside, `//…` suffixes
    // (which only matter for characters the target lacks) dropped.
    let charset = |name: &str| {
        let name = name.split("//").next().unwrap_or(name);
        match name.to_ascii_lowercase().replace(['-', '_'], "").as_str() {
            "utf8" => Some("UTF-8"),
            "ascii" | "usascii" | "ansix3.41968" | "646" => Some("ASCII"),
            _ => None,
        }
    };
    match (charset(from?)?, charset(to?)?) {
        ("UTF-8", "UTF-8") => Some(stdin.to_owned()),
        ("ASCII", _) | (_, "ASCII") if stdin.is_ascii() => Some(stdin.to_owned()),
        _ => None,
    }
}

pub fn filter(argv: &[String], stdin: &str) -> Option<String> {
    let (name, args) = argv.split_first()?;
    let lines = || stdin.lines();
    let joined = |v: Vec<&str>| v.iter().map(|l| format!("{l}\n")).collect::<String>();
    match name.as_str() {
        "cat" if args.is_empty() => Some(stdin.to_owned()),
        // `… | xargs` (libnss-ldapd's config lists the services using LDAP): `echo` of the
        // input's words, once even for none. Quotes and backslashes, which xargs interprets,
        // and input long enough to need more than one `echo`, are not reproduced.
        "xargs" if args.is_empty() || args == ["echo"] => {
            if stdin.contains(['\'', '"', '\\']) || stdin.len() > 64 * 1024 {
                return None;
            }
            Some(format!(
                "{}\n",
                stdin.split_whitespace().collect::<Vec<_>>().join(" ")
            ))
        }
        "iconv" => iconv(args, stdin),
        "grep" => grep(args, stdin),
        // `grep -E` and `grep -F` under their old names.
        "egrep" | "fgrep" => {
            let mode = if name == "egrep" { "-E" } else { "-F" };
            let args: Vec<String> = std::iter::once(mode.to_owned())
                .chain(args.iter().cloned())
                .collect();
            grep(&args, stdin)
        }
        "sed" => {
            let mut scripts = Vec::new();
            let (mut extended, mut quiet) = (false, false);
            let mut it = args.iter();
            while let Some(a) = it.next() {
                match a.as_str() {
                    s if s.starts_with("--expression=") => {
                        scripts.push(s["--expression=".len()..].to_owned())
                    }
                    "--expression" => scripts.push(it.next()?.clone()),
                    // cyrus-common's `sed --silent -e "/^…${1}:/ { s#…## p }" < /etc/imapd.conf`.
                    "--quiet" | "--silent" => quiet = true,
                    "--regexp-extended" => extended = true,
                    // `-e SCRIPT`, `-eSCRIPT`, `-n`, `-ne SCRIPT`, `-re SCRIPT`, …
                    s if s.len() > 1 && s.starts_with('-') && !s.starts_with("--") => {
                        for option in sed_short_options(&s[1..], &mut it).ok()? {
                            match option {
                                SedShortOption::Extended => extended = true,
                                SedShortOption::Quiet => quiet = true,
                                SedShortOption::Separate => {}
                                SedShortOption::Script(script) => scripts.push(script),
                                // Printing, it edits no file.
                                SedShortOption::InPlace(_) | SedShortOption::NotReproduced(_) => return None,
                            }
                        }
                    }
                    s if s.starts_with('-') => return None,
                    s if scripts.is_empty() => scripts.push(s.to_owned()),
                    // A file operand: sed reads it, not its input.
                    _ => return None,
                }
            }
            // The `-e` scripts are the lines of one program, as GNU sed reads them.
            let commands = parse_script(&scripts.join("\n"), extended).ok()?;
            sed_text(stdin, &commands, quiet)
        }
        "tr" => tr(args, stdin),
        "wc" => wc(args, stdin),
        "cut" => cut(args, stdin),
        "awk" | "mawk" | "gawk" => awk(args, stdin),
        "sort" => {
            let unique = match args.iter().map(String::as_str).collect::<Vec<_>>().as_slice() {
                [] => false,
                ["-u"] => true,
                _ => return None,
            };
            // The C locale's order (dpkg runs scripts with the caller's locale; images build
            // under C): bytewise.
            let mut v: Vec<&str> = lines().collect();
            v.sort_unstable();
            if unique {
                v.dedup();
            }
            Some(joined(v))
        }
        "uniq" if args.is_empty() => {
            let mut v: Vec<&str> = lines().collect();
            v.dedup();
            Some(joined(v))
        }
        "head" => {
            let n: usize = match args.iter().map(String::as_str).collect::<Vec<_>>().as_slice() {
                ["-n", n] => n.parse().ok()?,
                [n] if n.starts_with('-') => n[1..].parse().ok()?,
                _ => return None,
            };
            Some(joined(lines().take(n).collect()))
        }
        _ => None,
    }
}

/// `sed SCRIPT FILE…` and `grep PATTERN FILE…`: the filter's own arguments, and the files it
/// reads instead of its input (`None`: not one of these, or no file named).
pub fn file_operands(argv: &[String]) -> Option<(Vec<String>, Vec<String>)> {
    let (name, args) = argv.split_first()?;
    // Options taking a value, per tool; the first operand is the script or pattern unless an
    // `-e` gave one.
    let with_value: &[&str] = match name.as_str() {
        "sed" | "grep" | "egrep" | "fgrep" => &["-e"],
        "awk" | "mawk" | "gawk" => &["-F", "-v", "-f"],
        // No script; one file (more would print a `==> FILE <==` header before each).
        "head" | "tail" => &["-n", "-c"],
        _ => return None,
    };
    let mut own = vec![name.clone()];
    let mut files = Vec::new();
    let mut has_script = matches!(name.as_str(), "head" | "tail");
    let mut it = args.iter();
    while let Some(a) = it.next() {
        if with_value.contains(&a.as_str()) {
            own.push(a.clone());
            own.push(it.next()?.clone());
            has_script = true;
        } else if a.starts_with('-') && a.len() > 1 {
            own.push(a.clone());
        } else if !has_script {
            own.push(a.clone());
            has_script = true;
        } else {
            files.push(a.clone());
        }
    }
    // head and tail print a `==> FILE <==` header before each of several files, grep a `FILE:`
    // before each line or count: not what one input of them all gives.
    if matches!(name.as_str(), "head" | "tail" | "grep" | "egrep" | "fgrep") && files.len() > 1 {
        return None;
    }
    (!files.is_empty()).then_some((own, files))
}

/// `seq [FIRST [INCREMENT]] LAST` on integers, one number a line (`for i in $(seq 6 -1 0)`).
pub fn seq(argv: &[String]) -> Option<String> {
    let (name, args) = argv.split_first()?;
    if name != "seq" && name != "/usr/bin/seq" {
        return None;
    }
    let nums: Vec<i64> = args.iter().map(|a| a.parse().ok()).collect::<Option<_>>()?;
    let (first, step, last) = match nums.as_slice() {
        [last] => (1, 1, *last),
        [first, last] => (*first, 1, *last),
        [first, step, last] if *step != 0 => (*first, *step, *last),
        _ => return None,
    };
    let mut out = String::new();
    let mut i = first;
    // Bounded: a script counting to a million is not one to follow.
    for _ in 0..10_000 {
        if (step > 0 && i > last) || (step < 0 && i < last) {
            return Some(out);
        }
        out.push_str(&format!("{i}\n"));
        i = i.checked_add(step)?;
    }
    None
}

/// `basename PATH [SUFFIX]` and `dirname PATH`, from their arguments.
pub fn path_part(argv: &[String]) -> Option<String> {
    let (name, args) = argv.split_first()?;
    match (name.as_str(), args) {
        ("basename", [path, rest @ ..]) if rest.len() <= 1 && !path.starts_with('-') => {
            let trimmed = path.trim_end_matches('/');
            if trimmed.is_empty() {
                return Some(if path.is_empty() {
                    String::new()
                } else {
                    "/".into()
                });
            }
            let base = trimmed.rsplit('/').next().unwrap_or(trimmed);
            Some(match rest.first() {
                Some(suffix) if base != suffix => {
                    base.strip_suffix(suffix.as_str()).unwrap_or(base).to_owned()
                }
                _ => base.to_owned(),
            })
        }
        ("dirname", [path]) if !path.starts_with('-') => {
            let trimmed = path.trim_end_matches('/');
            Some(match trimmed.rfind('/') {
                None => {
                    if path.starts_with('/') {
                        "/".into()
                    } else {
                        ".".into()
                    }
                }
                Some(0) => "/".into(),
                Some(i) => trimmed[..i].trim_end_matches('/').to_owned(),
            })
        }
        _ => None,
    }
}

fn grep(args: &[String], stdin: &str) -> Option<String> {
    // What `-z` prints ends its records in NUL: not computed here.
    let null_data = args
        .iter()
        .any(|a| a == "--null-data" || (a.starts_with('-') && !a.starts_with("--") && a.contains('z')));
    if null_data {
        return None;
    }
    let (lines, output) = grep_lines(args, stdin)?;
    Some(match output {
        GrepOutput::Quiet => String::new(),
        GrepOutput::Count => format!("{}\n", lines.len()),
        GrepOutput::Lines => lines.iter().map(|l| format!("{l}\n")).collect(),
    })
}

/// What grep prints of the lines it selects.
#[derive(Clone, Copy, PartialEq, Eq)]
enum GrepOutput {
    Lines,
    /// `-c`: their number (squidguard's `[ $(grep -c "$LOGDIR" FILE) -eq 0 ]`).
    Count,
    /// `-q`: nothing (it wins over `-c`, as in GNU grep).
    Quiet,
}

/// Whether `grep …` finds a line in `input` (its exit status), for `if grep -q … FILE`.
pub fn grep_matches(argv: &[String], input: &str) -> Option<bool> {
    let (name, args) = argv.split_first()?;
    // egrep and fgrep are `grep -E` and `grep -F` (proftpd-core's `egrep -qi …` conditions).
    let mode = match name.as_str() {
        "grep" => None,
        "egrep" => Some("-E"),
        "fgrep" => Some("-F"),
        _ => return None,
    };
    let args: Vec<String> = mode
        .map(str::to_owned)
        .into_iter()
        .chain(args.iter().cloned())
        .collect();
    grep_lines(&args, input).map(|(lines, _)| !lines.is_empty())
}

/// The lines `grep` selects from `stdin`, and what it prints of them.
fn grep_lines<'i>(args: &[String], stdin: &'i str) -> Option<(Vec<&'i str>, GrepOutput)> {
    let (mut extended, mut fixed, mut invert, mut quiet, mut whole_line) =
        (false, false, false, false, false);
    let mut count = false;
    let mut ignore_case = false;
    // `-z`: records end in NUL, not newline (`grep -zqs ^container= /proc/1/environ`).
    let mut null_data = false;
    // Every `-e` pattern (a line matching any of them is selected), else the first operand.
    let mut patterns: Vec<String> = Vec::new();
    // The pattern came from an operand: an `-e` after it makes that operand a file to read.
    let mut from_operand = false;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "-e" | "--regexp" if from_operand => return None,
            s if s.starts_with("--regexp=") && from_operand => return None,
            "-e" | "--regexp" => patterns.push(it.next()?.clone()),
            s if s.starts_with("--regexp=") => patterns.push(s["--regexp=".len()..].to_owned()),
            "--quiet" | "--silent" => quiet = true,
            "--count" => count = true,
            "--no-messages" => {}
            "--extended-regexp" => extended = true,
            "--fixed-strings" => fixed = true,
            "--invert-match" => invert = true,
            "--line-regexp" => whole_line = true,
            "--ignore-case" => ignore_case = true,
            "--null-data" => null_data = true,
            s if s.starts_with("--") => return None,
            s if s.starts_with('-') && s.len() > 1 => {
                for c in s[1..].chars() {
                    match c {
                        'E' => extended = true,
                        'F' => fixed = true,
                        'v' => invert = true,
                        'q' | 's' => quiet |= c == 'q',
                        'c' => count = true,
                        'x' => whole_line = true,
                        'i' => ignore_case = true,
                        'z' => null_data = true,
                        _ => return None,
                    }
                }
            }
            s if patterns.is_empty() => {
                patterns.push(s.to_owned());
                from_operand = true;
            }
            // A file operand: grep reads it, not its input.
            _ => return None,
        }
    }
    if patterns.is_empty() {
        return None;
    }
    let mut alternatives = Vec::new();
    for pattern in &patterns {
        // A pattern holding newlines is one pattern per line, as grep reads it.
        for line in pattern.split('\n') {
            alternatives.push(if fixed {
                regex::escape(line)
            } else {
                format!("(?:{})", translate_matching(line, extended).ok()?)
            });
        }
    }
    let body = alternatives.join("|");
    let body = if whole_line { format!("^(?:{body})$") } else { body };
    let re = Regex::new(&if ignore_case { format!("(?i){body}") } else { body }).ok()?;
    let records: Vec<&str> = if null_data {
        stdin
            .strip_suffix('\0')
            .unwrap_or(stdin)
            .split('\0')
            .filter(|_| !stdin.is_empty())
            .collect()
    } else {
        stdin.lines().collect()
    };
    let output = if quiet {
        GrepOutput::Quiet
    } else if count {
        GrepOutput::Count
    } else {
        GrepOutput::Lines
    };
    Some((
        records.into_iter().filter(|l| re.is_match(l) != invert).collect(),
        output,
    ))
}

/// `cut -d DELIM -f LIST` (`-dDELIM`, `-fLIST`; LIST of `N`, `N-M`, `N-`, `-M`): the fields of
/// each line; a line without the delimiter is printed whole, as cut does without `-s`.
/// `tr SET1 SET2`, `tr -d SET`, `tr -cd SET` with plain characters, ranges and `\n`.
/// `wc -l`, `-w` or `-c` of its input: one count, printed as GNU's wc prints a single count of
/// its standard input (no padding). xfonts-utils' `update-fonts-scale` writes the number of
/// fonts at the top of `fonts.scale` with `cat TMP | wc -l | tr -d '[:blank:]'`.
fn wc(args: &[String], stdin: &str) -> Option<String> {
    let count = match args.iter().map(String::as_str).collect::<Vec<_>>().as_slice() {
        ["-l" | "--lines"] => stdin.bytes().filter(|b| *b == b'\n').count(),
        ["-c" | "--bytes"] => stdin.len(),
        // Words: runs of bytes that are not white space, as in the C locale.
        ["-w" | "--words"] => stdin.split_ascii_whitespace().count(),
        _ => return None,
    };
    Some(format!("{count}\n"))
}

/// The characters of a POSIX class in the C locale, in code order (`tr`'s `[:NAME:]`).
fn char_class(name: &str) -> Option<Vec<char>> {
    let ascii = (0u8..=127).map(char::from);
    let pick = |f: fn(&char) -> bool| ascii.clone().filter(f).collect::<Vec<char>>();
    Some(match name {
        "blank" => vec!['\t', ' '],
        "space" => pick(|c| matches!(c, '\t' | '\n' | '\u{b}' | '\u{c}' | '\r' | ' ')),
        "digit" => pick(char::is_ascii_digit),
        "upper" => pick(char::is_ascii_uppercase),
        "lower" => pick(char::is_ascii_lowercase),
        "alpha" => pick(char::is_ascii_alphabetic),
        "alnum" => pick(char::is_ascii_alphanumeric),
        "punct" => pick(char::is_ascii_punctuation),
        "xdigit" => pick(char::is_ascii_hexdigit),
        "cntrl" => pick(char::is_ascii_control),
        _ => return None,
    })
}

fn tr(args: &[String], stdin: &str) -> Option<String> {
    /// Each run of one character of the set becomes that character once.
    fn squeeze(text: &str, set: &[char]) -> String {
        let mut out = String::new();
        for c in text.chars() {
            if !(set.contains(&c) && out.ends_with(c)) {
                out.push(c);
            }
        }
        out
    }
    /// Each character of the first set becomes the one at its place in the second (the second's
    /// last repeated when it is shorter, as GNU tr pads it).
    fn translate(text: &str, a: &str, b: &str) -> Option<String> {
        // In the second set GNU tr takes only `[:upper:]` and `[:lower:]` (case mapping).
        if b.replace("[:upper:]", "").replace("[:lower:]", "").contains("[:") {
            return None;
        }
        let (a, b) = (set(a)?, set(b)?);
        let last = *b.last()?;
        Some(
            text.chars()
                .map(|c| match a.iter().position(|x| *x == c) {
                    Some(i) => *b.get(i).unwrap_or(&last),
                    None => c,
                })
                .collect(),
        )
    }
    fn set(s: &str) -> Option<Vec<char>> {
        let chars: Vec<char> = s.chars().collect();
        let mut out = Vec::new();
        let mut i = 0;
        while i < chars.len() {
            // `[:blank:]`: a class; any other `[` (repeats, equivalence classes) is not
            // reproduced.
            if chars[i] == '[' && chars.get(i + 1) == Some(&':') {
                let rest: String = chars[i + 2..].iter().collect();
                let (name, _) = rest.split_once(":]")?;
                out.extend(char_class(name)?);
                i += 2 + name.chars().count() + 2;
                continue;
            }
            let c = match chars[i] {
                '\\' => {
                    i += 1;
                    match chars.get(i)? {
                        'n' => '\n',
                        't' => '\t',
                        '\\' => '\\',
                        _ => return None,
                    }
                }
                '[' => return None,
                c => c,
            };
            if chars.get(i + 1) == Some(&'-') && i + 2 < chars.len() {
                let end = chars[i + 2];
                if end < c {
                    return None;
                }
                out.extend(c..=end);
                i += 3;
            } else {
                out.push(c);
                i += 1;
            }
        }
        Some(out)
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    match args.as_slice() {
        ["-d", s] => {
            let s = set(s)?;
            Some(stdin.chars().filter(|c| !s.contains(c)).collect())
        }
        ["-cd", s] | ["-dc", s] | ["-c", "-d", s] => {
            let s = set(s)?;
            Some(stdin.chars().filter(|c| s.contains(c)).collect())
        }
        // `tr -s ' '` (atftpd's `$(echo $A $B … | tr -s ' ')`): each run of one character of the
        // set becomes that character once.
        ["-s", s] => Some(squeeze(stdin, &set(s)?)),
        // With two sets, the translation's output is squeezed by the second (amavisd-new's
        // `dpkg-statoverride --list "$dir" | awk … | tr -s " " ":"`).
        ["-s", a, b] if !a.starts_with('-') => {
            let translated = translate(stdin, a, b)?;
            Some(squeeze(&translated, &set(b)?))
        }
        [a, b] if !a.starts_with('-') => translate(stdin, a, b),
        _ => None,
    }
}

mod awk;
mod cut;
mod expr;
mod getopt;
mod sed;
use awk::awk;
use cut::cut;
pub use expr::expr;
pub use getopt::getopt;
pub use sed::{
    Command as SedCommand, ShortOption as SedShortOption, parse_script, sed_text,
    short_options as sed_short_options,
};

#[cfg(test)]
mod tests;
