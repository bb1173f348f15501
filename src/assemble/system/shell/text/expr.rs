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
    let ok = !is_null(&result);
    Some((result, ok))
}

/// GNU expr's null value: the empty string, or a zero (`0`, `00`, `-0`).
fn is_null(s: &str) -> bool {
    let digits = s.strip_prefix('-').unwrap_or(s);
    s.is_empty() || (!digits.is_empty() && digits.bytes().all(|b| b == b'0'))
}

/// `STRING : REGEX`: a basic regular expression anchored at the start; the text of its first
/// `\(…\)` group where it has one (empty when it does not match), else how many characters
/// matched.
fn matched(s: &str, re: &str) -> Option<String> {
    let pattern = super::translate(re, false, '\0').ok()?;
    let re = regex::Regex::new(&format!("(?s)^(?:{pattern})")).ok()?;
    // A `\(…\)` group, as the translation made it (not a `\(` inside brackets).
    let grouped = re.captures_len() > 1;
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
    // GNU's integers: an optional `-`, then digits (no `+`, no blanks).
    let int = |s: &str| {
        let digits = s.strip_prefix('-').unwrap_or(s);
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        s.parse::<i64>().ok()
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
