//! What C's library does in the C locale, which several of the tools the scripts run share:
//! `isspace` (glibc's, GLib's `g_ascii_isspace`, systemd's line reader, mawk's strtod), and
//! integer constants as `strtol`/`strtoull` read them with base 0 — dash's arithmetic, GLib's
//! GVariant text format and `g_ascii_strtoll` all do: `0x`/`0X` then hexadecimal digits, a
//! leading `0` octal, decimal otherwise.

/// `isspace` in the C locale: space, `\t`, `\n`, `\v`, `\f`, `\r`. (Rust's
/// `is_ascii_whitespace` leaves out the vertical tab.)
pub fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')
}

/// [`is_space`] for a `char` (nothing outside ASCII is a space to C).
pub fn is_space_char(c: char) -> bool {
    u8::try_from(c).is_ok_and(is_space)
}

/// What `strtol`/`strtoul` skip before the digits: leading spaces, then a sign (`true`:
/// negative).
pub fn sign(s: &str) -> (bool, &str) {
    let t = s.trim_start_matches(is_space_char);
    match t.as_bytes().first() {
        Some(b'-') => (true, &t[1..]),
        Some(b'+') => (false, &t[1..]),
        _ => (false, t),
    }
}

/// The radix of `digits` (no sign) and the digits to read in it. `0x` not followed by a
/// hexadecimal digit is the octal `0` followed by `x`, which no caller accepts as a number.
pub fn radix(digits: &str) -> (u32, &str) {
    match digits.strip_prefix("0x").or_else(|| digits.strip_prefix("0X")) {
        Some(hex) if hex.starts_with(|c: char| c.is_ascii_hexdigit()) => (16, hex),
        _ if digits.len() > 1 && digits.starts_with('0') => (8, &digits[1..]),
        _ => (10, digits),
    }
}

/// The value of `digits` (no sign) when every byte is a digit of its radix.
pub fn magnitude(digits: &str) -> Option<u64> {
    let (radix, body) = radix(digits);
    if body.is_empty() || !body.chars().all(|c| c.is_digit(radix)) {
        return None;
    }
    u64::from_str_radix(body, radix).ok()
}

#[cfg(test)]
mod tests {
    #[test]
    fn c_spaces() {
        for b in [b' ', b'\t', b'\n', 0x0b, 0x0c, b'\r'] {
            assert!(super::is_space(b) && super::is_space_char(b as char), "{b:#x}");
        }
        assert!(!super::is_space(0xa0) && !super::is_space_char('\u{a0}') && !super::is_space(b'x'));
    }

    #[test]
    fn the_three_bases() {
        assert_eq!(super::magnitude("0x1f"), Some(31));
        assert_eq!(super::magnitude("0X1F"), Some(31));
        assert_eq!(super::magnitude("017"), Some(15));
        assert_eq!(super::magnitude("0"), Some(0));
        assert_eq!(super::magnitude("19"), Some(19));
        assert_eq!(super::magnitude("08"), None);
        assert_eq!(super::magnitude("0x"), None);
        assert_eq!(super::magnitude(""), None);
        assert_eq!(super::magnitude("+1"), None);
        assert_eq!(super::magnitude("18446744073709551616"), None);
    }
}
