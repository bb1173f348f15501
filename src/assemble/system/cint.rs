//! C's integer constants as `strtol`/`strtoull` read them with base 0 — dash's arithmetic, GLib's
//! GVariant text format and `g_ascii_strtoll` all do: `0x`/`0X` then hexadecimal digits, a
//! leading `0` octal, decimal otherwise.

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
