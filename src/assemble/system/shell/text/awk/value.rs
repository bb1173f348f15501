//! awk's values as mawk 1.3.4 keeps them: numbers, strings, and strings from input that compare
//! as numbers where they look like ones; how each reads as a number and prints as text.

use super::numfmt;

pub(super) type Run<T> = Result<T, String>;

#[derive(Debug, Clone)]
pub(super) enum Value {
    Num(f64),
    Str(String),
    /// Text from the input (fields, `-v` values, `split` pieces): a number where it looks like one.
    StrNum(String),
    Uninit,
}

impl Value {
    pub(super) fn num(&self) -> Run<f64> {
        match self {
            Value::Num(n) => Ok(*n),
            Value::Str(s) | Value::StrNum(s) => leading_number(s),
            Value::Uninit => Ok(0.0),
        }
    }
    pub(super) fn text(&self) -> String {
        match self {
            Value::Num(n) => number_text(*n),
            Value::Str(s) | Value::StrNum(s) => s.clone(),
            Value::Uninit => String::new(),
        }
    }
    pub(super) fn truth(&self) -> Run<bool> {
        Ok(match self {
            Value::Num(n) => *n != 0.0,
            Value::Str(s) => !s.is_empty(),
            Value::StrNum(s) if looks_numeric(s)? => leading_number(s)? != 0.0,
            Value::StrNum(s) => !s.is_empty(),
            Value::Uninit => false,
        })
    }
    pub(super) fn numeric(&self) -> Run<bool> {
        Ok(match self {
            Value::Num(_) | Value::Uninit => true,
            Value::StrNum(s) => looks_numeric(s)?,
            Value::Str(_) => false,
        })
    }
}

/// Whether a number prints as an integer whatever CONVFMT/OFMT say: mawk's test, integral and
/// within ±(2³¹−1) (2³¹ itself prints as `2.14748e+09`).
pub(super) fn prints_as_integer(n: f64) -> bool {
    n == n.trunc() && n.abs() <= 2_147_483_647.0
}

/// A number as text with the default format (`%.6g`) where it is not an integer.
pub(super) fn number_text(n: f64) -> String {
    if prints_as_integer(n) {
        format!("{}", n as i64)
    } else {
        numfmt::format_g(n, 6, false, false)
    }
}

/// strtod's reading: leading blanks, then the longest number prefix (0 for none). What glibc's
/// strtod reads beyond decimals (hexadecimal, `inf`, `nan`: mawk takes `"info" + 0` as
/// infinity) is refused.
pub(super) fn leading_number(s: &str) -> Run<f64> {
    let t = s.trim_start_matches(crate::assemble::system::clib::is_space_char);
    strtod_extension(t)?;
    let b = t.as_bytes();
    let mut i = 0;
    if i < b.len() && (b[i] == b'+' || b[i] == b'-') {
        i += 1;
    }
    let digits_start = i;
    while i < b.len() && b[i].is_ascii_digit() {
        i += 1;
    }
    if i < b.len() && b[i] == b'.' {
        i += 1;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
    }
    if i == digits_start || (i == digits_start + 1 && b[digits_start] == b'.') {
        return Ok(0.0);
    }
    if i < b.len() && (b[i] == b'e' || b[i] == b'E') {
        let mut j = i + 1;
        if j < b.len() && (b[j] == b'+' || b[j] == b'-') {
            j += 1;
        }
        if j < b.len() && b[j].is_ascii_digit() {
            while j < b.len() && b[j].is_ascii_digit() {
                j += 1;
            }
            i = j;
        }
    }
    Ok(t[..i].parse().unwrap_or(0.0))
}

/// Text (after blanks) that glibc's strtod would read as hexadecimal, infinity or NaN.
fn strtod_extension(t: &str) -> Run<()> {
    let body = t.strip_prefix(['+', '-']).unwrap_or(t).as_bytes();
    let starts = |p: &[u8]| body.len() >= p.len() && body[..p.len()].eq_ignore_ascii_case(p);
    if starts(b"0x") || starts(b"inf") || starts(b"nan") {
        return Err(format!(
            "awk: {t:?} as a number (strtod's hexadecimal, infinity, NaN) is not reproduced"
        ));
    }
    Ok(())
}

/// Whether input text is a number as a whole (blanks around it allowed): then it compares as one.
pub(super) fn looks_numeric(s: &str) -> Run<bool> {
    let t = s.trim_matches(crate::assemble::system::clib::is_space_char);
    strtod_extension(t)?;
    if t.is_empty() {
        return Ok(false);
    }
    let body = t.strip_prefix(['+', '-']).unwrap_or(t);
    let (mantissa, exponent) = match body.find(['e', 'E']) {
        Some(at) => (&body[..at], Some(&body[at + 1..])),
        None => (body, None),
    };
    let mut parts = mantissa.splitn(2, '.');
    let int = parts.next().unwrap_or("");
    let frac = parts.next();
    let digits = |p: &str| p.bytes().all(|b| b.is_ascii_digit());
    if !digits(int) || !frac.is_none_or(digits) || (int.is_empty() && frac.is_none_or(str::is_empty)) {
        return Ok(false);
    }
    Ok(match exponent {
        None => true,
        Some(e) => {
            let e = e.strip_prefix(['+', '-']).unwrap_or(e);
            !e.is_empty() && digits(e)
        }
    })
}

/// CONVFMT and OFMT as this takes them: one floating-point conversion and nothing else (mawk
/// passes a number to any other conversion as C would, unreproducibly: `%d` prints 0).
pub(super) fn float_format(fmt: &str) -> Run<()> {
    let rest = fmt.strip_prefix('%').unwrap_or("");
    let rest = rest.trim_start_matches(['-', '+', ' ', '#', '0']);
    let rest = rest.trim_start_matches(|c: char| c.is_ascii_digit());
    let rest = match rest.strip_prefix('.') {
        Some(r) => r.trim_start_matches(|c: char| c.is_ascii_digit()),
        None => rest,
    };
    if matches!(rest, "e" | "E" | "f" | "F" | "g" | "G") {
        Ok(())
    } else {
        Err(format!("awk: number format {fmt:?} is not reproduced"))
    }
}
