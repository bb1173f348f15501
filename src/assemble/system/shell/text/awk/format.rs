//! printf's conversions as mawk 1.3.4 makes them through C's printf: `%d`/`%i` clamp to
//! ±(2³¹−1), `%o`/`%x`/`%X`/`%u` to 0‥2³²−1, `%c` of a number is that byte, floats round as
//! glibc does (exactly, ties to even). What this does not make the same way is refused.

use super::numfmt::{format_e, format_g};
use super::value::{Value, number_text};

const MAX_INT: f64 = 2_147_483_647.0;
const MAX_UINT: f64 = 4_294_967_295.0;

pub(super) fn sprintf(format: &str, args: &[Value]) -> Result<String, String> {
    let chars: Vec<char> = format.chars().collect();
    let mut out = String::new();
    let mut next = args.iter();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        i += 1;
        if c != '%' {
            out.push(c);
            continue;
        }
        if chars.get(i) == Some(&'%') {
            out.push('%');
            i += 1;
            continue;
        }
        let mut flags = Flags::default();
        while let Some(&f) = chars.get(i) {
            match f {
                '-' => flags.left = true,
                '+' => flags.plus = true,
                ' ' => flags.space = true,
                '#' => flags.alt = true,
                '0' => flags.zero = true,
                _ => break,
            }
            i += 1;
        }
        let number = |i: &mut usize, next: &mut std::slice::Iter<'_, Value>| -> Result<Option<i64>, String> {
            if chars.get(*i) == Some(&'*') {
                *i += 1;
                let v = next.next().ok_or("awk: printf: not enough arguments")?;
                return Ok(Some(v.num()?.clamp(-MAX_INT, MAX_INT) as i64));
            }
            let start = *i;
            while chars.get(*i).is_some_and(char::is_ascii_digit) {
                *i += 1;
            }
            if *i == start {
                return Ok(None);
            }
            let digits: String = chars[start..*i].iter().collect();
            digits
                .parse()
                .map(Some)
                .map_err(|_| "awk: printf: width too large".to_owned())
        };
        let mut width = number(&mut i, &mut next)?;
        if let Some(w) = width
            && w < 0
        {
            flags.left = true;
            width = Some(-w);
        }
        let precision = if chars.get(i) == Some(&'.') {
            i += 1;
            Some(number(&mut i, &mut next)?.unwrap_or(0)).filter(|p| *p >= 0)
        } else {
            None
        };
        let conv = *chars.get(i).ok_or("awk: printf: incomplete conversion")?;
        i += 1;
        let arg = next.next().ok_or("awk: printf: not enough arguments")?;
        let width = width.unwrap_or(0) as usize;
        let (sign, body, numeric) = match conv {
            'd' | 'i' => {
                let n = finite(arg.num()?)?.clamp(-MAX_INT, MAX_INT).trunc() as i64;
                let mut digits = n.unsigned_abs().to_string();
                if let Some(p) = precision {
                    digits = pad_digits(&digits, p as usize, n == 0 && p == 0);
                }
                (sign_of(n < 0, &flags), digits, precision.is_none())
            }
            'o' | 'x' | 'X' | 'u' => {
                let n = finite(arg.num()?)?.clamp(0.0, MAX_UINT).trunc() as u64;
                let mut digits = match conv {
                    'o' => format!("{n:o}"),
                    'x' => format!("{n:x}"),
                    'X' => format!("{n:X}"),
                    _ => n.to_string(),
                };
                if let Some(p) = precision {
                    digits = pad_digits(&digits, p as usize, n == 0 && p == 0);
                }
                let prefix = match conv {
                    'o' if flags.alt && !digits.starts_with('0') => "0",
                    'x' if flags.alt && n != 0 => "0x",
                    'X' if flags.alt && n != 0 => "0X",
                    _ => "",
                };
                (prefix.to_owned(), digits, precision.is_none())
            }
            'e' | 'E' | 'f' | 'F' | 'g' | 'G' => {
                let x = finite(arg.num()?)?;
                let p = precision.unwrap_or(6) as usize;
                let body = match conv {
                    'e' | 'E' => format_e(x.abs(), p, conv == 'E'),
                    'f' | 'F' => {
                        let s = format!("{:.*}", p, x.abs());
                        if flags.alt && p == 0 { s + "." } else { s }
                    }
                    _ => format_g(x.abs(), p, flags.alt, conv == 'G'),
                };
                (
                    sign_of(x.is_sign_negative() && x != 0.0 || is_negative_zero(x), &flags),
                    body,
                    true,
                )
            }
            'c' => {
                let s = match arg {
                    Value::Num(n) => {
                        let b = (finite(*n)?.trunc() as i64).rem_euclid(256) as u8;
                        if !b.is_ascii() {
                            return Err("awk: printf %c of a byte above 127 is not reproduced".into());
                        }
                        char::from(b).to_string()
                    }
                    other => {
                        let text = other.text();
                        let first = text
                            .chars()
                            .next()
                            .ok_or("awk: printf %c of an empty string is not reproduced")?;
                        if !first.is_ascii() {
                            return Err("awk: printf %c of a multibyte character is not reproduced".into());
                        }
                        first.to_string()
                    }
                };
                (String::new(), s, false)
            }
            's' => {
                let text = match arg {
                    Value::Num(n) => number_text(*n),
                    other => other.text(),
                };
                let text = match precision {
                    Some(p) => text
                        .get(..(p as usize).min(text.len()))
                        .ok_or("awk: printf precision inside a multibyte character")?
                        .to_owned(),
                    None => text,
                };
                (String::new(), text, false)
            }
            other => return Err(format!("awk: printf %{other} is not reproduced")),
        };
        let len = sign.len() + body.len();
        if len >= width {
            out.push_str(&sign);
            out.push_str(&body);
        } else if flags.left {
            out.push_str(&sign);
            out.push_str(&body);
            out.push_str(&" ".repeat(width - len));
        } else if flags.zero && numeric {
            out.push_str(&sign);
            out.push_str(&"0".repeat(width - len));
            out.push_str(&body);
        } else {
            out.push_str(&" ".repeat(width - len));
            out.push_str(&sign);
            out.push_str(&body);
        }
    }
    // Arguments left over are ignored, as C's printf does.
    Ok(out)
}

#[derive(Default)]
struct Flags {
    left: bool,
    plus: bool,
    space: bool,
    alt: bool,
    zero: bool,
}

fn finite(x: f64) -> Result<f64, String> {
    if x.is_finite() {
        Ok(x)
    } else {
        Err("awk: printf of infinity or NaN is not reproduced".into())
    }
}

fn is_negative_zero(x: f64) -> bool {
    x == 0.0 && x.is_sign_negative()
}

fn sign_of(negative: bool, flags: &Flags) -> String {
    if negative {
        "-".into()
    } else if flags.plus {
        "+".into()
    } else if flags.space {
        " ".into()
    } else {
        String::new()
    }
}

/// Digits padded with zeros to a precision (`%.3d` of 7 is `007`; `%.0d` of 0 is empty).
fn pad_digits(digits: &str, precision: usize, empty: bool) -> String {
    if empty {
        return String::new();
    }
    format!("{}{digits}", "0".repeat(precision.saturating_sub(digits.len())))
}
