//! `expr` (GNU coreutils 9.1) for the forms maintainer scripts use: `STRING : REGEX` (and `match
//! STRING REGEX`), `length STRING`, and one integer operator (`+ - * / %`, `= != < <= > >=`).
//! What it prints and its status: 0 when the result is neither empty nor `0`, 1 when it is.
//! A longer expression, or an operand that is not an integer where one is needed, is not
//! computed (`None`).

/// What `expr ARGS…` prints (without its newline) and whether it succeeds.
pub fn expr(args: &[String]) -> Option<(String, bool)> {
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let result = match args.as_slice() {
        [s, ":", re] | ["match", s, re] => matched(s, re)?,
        ["length", s] => s.chars().count().to_string(),
        [a, op, b] => binary(a, op, b)?,
        _ => return None,
    };
    let ok = !(result.is_empty() || result == "0");
    Some((result, ok))
}

/// `STRING : REGEX`: a basic regular expression anchored at the start; the text of its first
/// `\(…\)` group where it has one (empty when it does not match), else how many characters
/// matched.
fn matched(s: &str, re: &str) -> Option<String> {
    let pattern = super::translate(re, false, '\0').ok()?;
    let grouped = re.contains("\\(");
    let re = regex::Regex::new(&format!("(?s)^(?:{pattern})")).ok()?;
    Some(match re.captures(s) {
        Some(caps) if grouped => caps.get(1).map(|m| m.as_str().to_owned()).unwrap_or_default(),
        Some(caps) => caps.get(0).map_or(0, |m| m.as_str().chars().count()).to_string(),
        None if grouped => String::new(),
        None => "0".to_owned(),
    })
}

/// One operator between two operands: arithmetic on integers; a comparison of integers, or of
/// strings for `=` and `!=` (another string comparison follows the locale's collation, which is
/// not decided here).
fn binary(a: &str, op: &str, b: &str) -> Option<String> {
    let int = |s: &str| {
        s.trim()
            .parse::<i64>()
            .ok()
            .filter(|_| !s.trim().is_empty() && s.trim() == s)
    };
    let truth = |b: bool| if b { "1" } else { "0" }.to_owned();
    match (int(a), int(b)) {
        (Some(x), Some(y)) => Some(match op {
            "+" => x.checked_add(y)?.to_string(),
            "-" => x.checked_sub(y)?.to_string(),
            "*" => x.checked_mul(y)?.to_string(),
            "/" if y != 0 => x.checked_div(y)?.to_string(),
            "%" if y != 0 => x.checked_rem(y)?.to_string(),
            "=" => truth(x == y),
            "!=" => truth(x != y),
            "<" => truth(x < y),
            "<=" => truth(x <= y),
            ">" => truth(x > y),
            ">=" => truth(x >= y),
            _ => return None,
        }),
        _ => match op {
            "=" => Some(truth(a == b)),
            "!=" => Some(truth(a != b)),
            _ => None,
        },
    }
}
