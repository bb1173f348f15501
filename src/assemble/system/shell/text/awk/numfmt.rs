//! C's floating-point conversions (`%e`, `%f`, `%g`) as glibc prints them: Rust's exact decimal
//! formatting (ties to even, as glibc on exact binary values) shaped into C's forms.

/// C's `%.Pe` of a non-negative number: `d.ddde±XX`.
pub(super) fn format_e(x: f64, precision: usize, upper: bool) -> String {
    let s = format!("{:.*e}", precision, x);
    let (mantissa, exp) = s.split_once('e').unwrap_or((&s, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let e = if upper { 'E' } else { 'e' };
    let sign = if exp < 0 { '-' } else { '+' };
    format!("{mantissa}{e}{sign}{:02}", exp.abs())
}

/// C's `%.Pg` of a non-negative number: `%e` or `%f` by the exponent, trailing zeros dropped
/// unless `#`.
pub(super) fn format_g(x: f64, precision: usize, alt: bool, upper: bool) -> String {
    if x.is_nan() {
        return "nan".into();
    }
    if x.is_infinite() {
        return if x < 0.0 { "-inf".into() } else { "inf".into() };
    }
    let negative = x.is_sign_negative() && x != 0.0;
    let x = x.abs();
    let p = precision.max(1);
    // The exponent %e would show, after rounding to P significant digits.
    let e_form = format!("{:.*e}", p - 1, x);
    let exp: i32 = e_form
        .split_once('e')
        .and_then(|(_, e)| e.parse().ok())
        .unwrap_or(0);
    let mut s = if exp < -4 || exp >= p as i32 {
        format_e(x, p - 1, upper)
    } else {
        format!("{:.*}", (p as i32 - 1 - exp).max(0) as usize, x)
    };
    if !alt {
        s = strip_zeros(&s);
    } else if !s.contains('.') {
        // `#` keeps the point.
        match s.find(['e', 'E']) {
            Some(at) => s.insert(at, '.'),
            None => s.push('.'),
        }
    }
    if negative { format!("-{s}") } else { s }
}

/// Trailing zeros of the fraction (and a bare point) dropped, the exponent kept.
fn strip_zeros(s: &str) -> String {
    let (mantissa, exp) = match s.find(['e', 'E']) {
        Some(at) => (&s[..at], &s[at..]),
        None => (s, ""),
    };
    let mantissa = if mantissa.contains('.') {
        mantissa.trim_end_matches('0').trim_end_matches('.')
    } else {
        mantissa
    };
    format!("{mantissa}{exp}")
}
