//! `awk`, run: the programs maintainer scripts pipe text through (`awk '{ print $2 }'`,
//! `awk '/^Version:/ { print $2 }'`, `awk -v w="$w" 'NF == 4 && $2 == w { print $1; exit }'`),
//! with mawk 1.3.4's results (Debian's `awk`). Tokens ([`lex`]), grammar ([`parse`]), the
//! machine ([`run`]), its values ([`value`]), printf ([`format`]) and C's
//! number conversions ([`numfmt`]).
//!
//! Hand-written: no crate runs awk programs. What mawk would do differently, or what depends on
//! more than the program and its input, is refused (`None`; the caller reports): user
//! functions, `getline`, output redirection, `system()`, `rand()`, ENVIRON, `for (k in a)`
//! over several elements (mawk's hash order), `substr` before the first character, interval
//! expressions (`{n}`, which mawk 1.3.4 does not read as POSIX does), and alternation or groups
//! where the position of a match matters (POSIX's longest match; `regex` takes the first).

mod format;
mod lex;
mod numfmt;
mod parse;
mod run;
#[cfg(test)]
mod tests;
mod value;

/// `awk [-F FS] [-v VAR=VALUE]… 'PROGRAM'` over `stdin`; `None` for what is not reproduced (a
/// program this does not run, an input file operand, an option other than these).
pub(in super::super) fn awk(args: &[String], stdin: &str) -> Option<String> {
    run_awk(args, stdin).ok()
}

fn run_awk(args: &[String], stdin: &str) -> Result<String, String> {
    let mut fs = None;
    let mut assigns = Vec::new();
    let mut program = None;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "-F" => fs = Some(field_separator(it.next().ok_or("awk: -F without a value")?)?),
            "-v" => assigns.push(assignment(it.next().ok_or("awk: -v without a value")?)?),
            "--" if program.is_none() => {
                program = Some(it.next().ok_or("awk: no program")?.clone());
            }
            s if program.is_none() && s.starts_with("-F") => fs = Some(field_separator(&s[2..])?),
            s if program.is_none() && s.starts_with("-v") => assigns.push(assignment(&s[2..])?),
            s if program.is_none() && s.starts_with('-') && s.len() > 1 => {
                return Err(format!("awk: option {s} is not reproduced"));
            }
            s if program.is_none() => program = Some(s.to_owned()),
            // An operand: a file awk reads (or an assignment made between files).
            s => return Err(format!("awk: operand {s} is not reproduced")),
        }
    }
    let program = program.ok_or("awk: no program")?;
    let toks = lex::tokens(&program)?;
    let parsed = parse::program(&toks)?;
    run::Machine::new(&parsed, &assigns, fs)?.run(stdin)
}

/// `-F` takes escapes as a string literal does (`-F '\t'`).
fn field_separator(value: &str) -> Result<String, String> {
    let fs = unescape(value)?;
    if fs.is_empty() {
        return Err("awk: an empty field separator is not reproduced".into());
    }
    Ok(fs)
}

/// `-v NAME=VALUE`, the value's escapes read as in a string literal.
fn assignment(text: &str) -> Result<(String, String), String> {
    let (name, value) = text.split_once('=').ok_or("awk: -v without `=`")?;
    let valid = name
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if !valid {
        return Err(format!("awk: -v {name}: not a variable name"));
    }
    Ok((name.to_owned(), unescape(value)?))
}

fn unescape(value: &str) -> Result<String, String> {
    let quoted = format!("\"{}\"", value.replace('"', "\\\""));
    match lex::tokens(&quoted)?.as_slice() {
        [lex::Tok::Str(s)] => Ok(s.clone()),
        _ => Err("awk: a value with a newline is not reproduced".into()),
    }
}

/// An awk extended regular expression as a `regex` pattern (`.` matching newlines too, as in
/// awk). `positional`: the match's extent matters, so what would make `regex`'s first match
/// differ from POSIX's longest one (alternation, groups) is refused.
fn translate_ere(re: &str, positional: bool) -> Result<String, String> {
    let chars: Vec<char> = re.chars().collect();
    let mut out = String::from("(?s)");
    let lit = |c: char, out: &mut String| out.push_str(&regex::escape(c.encode_utf8(&mut [0; 4])));
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        i += 1;
        match c {
            '\\' => {
                let n = *chars
                    .get(i)
                    .ok_or("awk: trailing backslash in a regular expression")?;
                i += 1;
                match escaped(n)? {
                    Some(e) => lit(e, &mut out),
                    None => lit(n, &mut out),
                }
            }
            '[' => i = bracket(&chars, i, &mut out)?,
            '{' | '}' => {
                return Err(
                    "awk: interval expressions are not reproduced (mawk 1.3.4 reads them its own way)".into(),
                );
            }
            '|' | '(' | ')' if positional => {
                return Err(
                    "awk: alternation or groups where the match's position matters are not reproduced".into(),
                );
            }
            '.' | '*' | '+' | '?' | '|' | '(' | ')' | '^' | '$' => out.push(c),
            c => lit(c, &mut out),
        }
    }
    Ok(out)
}

/// What `\c` stands for in an awk regular expression: `Some` of an escape's character, `None`
/// for a character taken literally. mawk 1.3.4 takes a letter it does not define as an escape
/// literally (`\s` is `s`: auditd's augenrules matches `"^\\s*#"`, checked against the host's
/// mawk); a digit (octal in other awks) is refused.
fn escaped(c: char) -> Result<Option<char>, String> {
    Ok(Some(match c {
        'n' => '\n',
        't' => '\t',
        'r' => '\r',
        'f' => '\x0c',
        'v' => '\x0b',
        'a' => '\x07',
        'b' => '\x08',
        c if c.is_ascii_digit() => {
            return Err(format!("awk: `\\{c}` in a regular expression is not reproduced"));
        }
        _ => return Ok(None),
    }))
}

/// A bracket expression from after its `[` into `regex`'s syntax (each member escaped, classes
/// kept); the index after its `]`. awk reads escapes inside brackets too.
fn bracket(chars: &[char], mut i: usize, out: &mut String) -> Result<usize, String> {
    out.push('[');
    if chars.get(i) == Some(&'^') {
        out.push('^');
        i += 1;
    }
    let first = i;
    // Members as (character or class text); ranges kept as `-` between two characters.
    loop {
        let c = *chars.get(i).ok_or("awk: unterminated bracket expression")?;
        match c {
            ']' if i > first => {
                return Ok({
                    out.push(']');
                    i + 1
                });
            }
            '[' if matches!(chars.get(i + 1), Some(':' | '.' | '=')) => {
                let kind = chars[i + 1];
                if kind != ':' {
                    return Err("awk: collating elements in brackets are not reproduced".into());
                }
                let end = (i + 2..chars.len().saturating_sub(1))
                    .find(|&k| chars[k] == ':' && chars[k + 1] == ']')
                    .ok_or("awk: unterminated character class")?;
                let name: String = chars[i + 2..end].iter().collect();
                const CLASSES: &[&str] = &[
                    "alnum", "alpha", "blank", "cntrl", "digit", "graph", "lower", "print", "punct", "space",
                    "upper", "xdigit",
                ];
                if !CLASSES.contains(&name.as_str()) {
                    return Err(format!("awk: class [:{name}:]"));
                }
                out.push_str(&format!("[:{name}:]"));
                i = end + 2;
            }
            '-' if i > first && chars.get(i + 1).is_some_and(|n| *n != ']') => {
                out.push('-');
                i += 1;
            }
            '\\' => {
                let n = *chars.get(i + 1).ok_or("awk: unterminated bracket expression")?;
                let member = escaped(n)?.unwrap_or(n);
                out.push_str(&format!("\\x{{{:x}}}", u32::from(member)));
                i += 2;
            }
            c => {
                out.push_str(&format!("\\x{{{:x}}}", u32::from(c)));
                i += 1;
            }
        }
    }
}
