//! `awk`, for the one program maintainer scripts pipe values through: printing fields
//! (`awk '{ print $1 }'`, `awk -F: '{print $3}'`).

/// `awk [-F SEP] '{ print FIELD… }'` where each FIELD is `$N`, `$0` or `$NF`: fields split on
/// runs of blanks (leading and trailing ones ignored) or on a one-character separator; a comma
/// between fields prints a space, juxtaposed fields print joined. `None` for any other program.
pub(super) fn awk(args: &[String], stdin: &str) -> Option<String> {
    let mut separator: Option<char> = None;
    let mut program = None;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "-F" => separator = Some(one_char(it.next()?)?),
            s if s.starts_with("-F") => separator = Some(one_char(&s[2..])?),
            s if s.starts_with('-') => return None,
            s if program.is_none() => program = Some(s.to_owned()),
            // An input file: awk reads it, not its input.
            _ => return None,
        }
    }
    let items = print_fields(&program?)?;
    let mut out = String::new();
    for line in stdin.lines() {
        let fields: Vec<&str> = match separator {
            None => line.split([' ', '\t']).filter(|f| !f.is_empty()).collect(),
            Some(c) => line.split(c).collect(),
        };
        for (field, comma_before) in &items {
            if *comma_before {
                out.push(' ');
            }
            let text = match field {
                Field::Whole => line,
                Field::Last => fields.last().copied().unwrap_or(""),
                Field::Nth(n) => fields.get(n - 1).copied().unwrap_or(""),
            };
            out.push_str(text);
        }
        out.push('\n');
    }
    Some(out)
}

fn one_char(s: &str) -> Option<char> {
    let mut chars = s.chars();
    let c = chars.next()?;
    // A blank separator is awk's default splitting; a longer one is a regular expression.
    (chars.next().is_none() && c != ' ').then_some(c)
}

enum Field {
    Whole,
    Last,
    Nth(usize),
}

/// The fields of `{ print $1, $3 }` (each with whether a comma comes before it).
fn print_fields(program: &str) -> Option<Vec<(Field, bool)>> {
    let body = program.trim().strip_prefix('{')?.strip_suffix('}')?.trim();
    let body = body.strip_suffix(';').unwrap_or(body).trim();
    let list = body.strip_prefix("print")?;
    if !list.starts_with([' ', '\t']) {
        return None;
    }
    let mut items = Vec::new();
    let mut comma = false;
    let mut rest = list.trim_start();
    while !rest.is_empty() {
        let after = rest.strip_prefix('$')?;
        let len = after
            .find(|c: char| !(c.is_ascii_alphanumeric()))
            .unwrap_or(after.len());
        let field = match &after[..len] {
            "0" => Field::Whole,
            "NF" => Field::Last,
            n => Field::Nth(n.parse().ok().filter(|n| *n > 0)?),
        };
        items.push((field, comma && !items.is_empty()));
        rest = after[len..].trim_start();
        comma = false;
        if let Some(r) = rest.strip_prefix(',') {
            comma = true;
            rest = r.trim_start();
            if rest.is_empty() {
                return None;
            }
        }
    }
    (!items.is_empty()).then_some(items)
}
