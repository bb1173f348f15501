//! Debian version ordering, as dpkg (`dpkg --compare-versions`) and apt define it.
//!
//! Written against `&str` without allocating: the resolver compares versions while picking
//! candidates among ~64k records, so parsing every version into a struct first (as the
//! `debversion` crate does, with a regex) would dominate the cost of building a universe.

use std::cmp::Ordering;

/// Splits `[epoch:]upstream[-revision]` the way dpkg's `parseversion` does: the epoch is what
/// precedes the first `:`, the revision what follows the last `-`.
fn split(v: &str) -> (u64, &str, &str) {
    let v = v.trim();
    let (epoch, rest) = match v.split_once(':') {
        Some((e, rest)) if !e.is_empty() && e.bytes().all(|b| b.is_ascii_digit()) => {
            (e.parse::<u64>().unwrap_or(u64::MAX), rest)
        }
        _ => (0, v),
    };
    match rest.rsplit_once('-') {
        Some((up, rev)) => (epoch, up, rev),
        None => (epoch, rest, ""),
    }
}

/// The upstream part of a version (`2.2` of `2.2-1` and of `1:2.2-1+b1`).
pub fn upstream(v: &str) -> &str {
    split(v).1
}

/// dpkg's character weight for the non-digit parts: `~` sorts before everything (even the end of
/// the string), letters before non-letters.
fn order(c: Option<u8>) -> i32 {
    match c {
        None => 0,
        Some(b'~') => -1,
        Some(c) if c.is_ascii_digit() => 0,
        Some(c) if c.is_ascii_alphabetic() => i32::from(c),
        Some(c) => i32::from(c) + 256,
    }
}

/// dpkg's `verrevcmp`: alternate non-digit runs (compared by weight) and digit runs (compared
/// numerically, so leading zeros and an empty run both mean 0).
fn verrevcmp(a: &str, b: &str) -> Ordering {
    verrevcmp_bytes(a.as_bytes(), b.as_bytes())
}

/// [`verrevcmp`] on bytes. gnulib's `filevercmp` (GNU `ls -v`) compares its names' parts with the
/// same function (its weights differ only where the loop never compares them: the end of a
/// string against a digit).
pub(crate) fn verrevcmp_bytes(a: &[u8], b: &[u8]) -> Ordering {
    let (mut i, mut j) = (0, 0);
    while i < a.len() || j < b.len() {
        while (i < a.len() && !a[i].is_ascii_digit()) || (j < b.len() && !b[j].is_ascii_digit()) {
            let ac = order(a.get(i).copied());
            let bc = order(b.get(j).copied());
            if ac != bc {
                return ac.cmp(&bc);
            }
            i += 1;
            j += 1;
        }
        while i < a.len() && a[i] == b'0' {
            i += 1;
        }
        while j < b.len() && b[j] == b'0' {
            j += 1;
        }
        let mut first_diff = Ordering::Equal;
        while i < a.len() && a[i].is_ascii_digit() && j < b.len() && b[j].is_ascii_digit() {
            if first_diff == Ordering::Equal {
                first_diff = a[i].cmp(&b[j]);
            }
            i += 1;
            j += 1;
        }
        if i < a.len() && a[i].is_ascii_digit() {
            return Ordering::Greater;
        }
        if j < b.len() && b[j].is_ascii_digit() {
            return Ordering::Less;
        }
        if first_diff != Ordering::Equal {
            return first_diff;
        }
    }
    Ordering::Equal
}

/// Compares two Debian version strings in dpkg order.
pub fn compare(a: &str, b: &str) -> Ordering {
    let (ea, ua, ra) = split(a);
    let (eb, ub, rb) = split(b);
    ea.cmp(&eb)
        .then_with(|| verrevcmp(ua, ub))
        .then_with(|| verrevcmp(ra, rb))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cmp::Ordering::*;

    #[test]
    fn dpkg_examples() {
        let cases = [
            ("1.0", "1.0", Equal),
            ("1.0", "1.0-0", Equal),
            ("1:1.0", "2.0", Greater),
            ("1.0~rc1", "1.0", Less),
            ("1.0~~", "1.0~", Less),
            ("1.0", "1.0+b1", Less),
            ("1.0-1", "1.0-1~bpo1", Greater),
            ("1.2.3", "1.2.10", Less),
            ("a", "a0", Equal),
            ("1.0a", "1.0-", Greater),
            ("2:1", "1:9", Greater),
            ("1.001", "1.1", Equal),
        ];
        for (a, b, want) in cases {
            assert_eq!(compare(a, b), want, "{a} vs {b}");
            assert_eq!(compare(b, a), want.reverse(), "{b} vs {a}");
        }
    }

    /// Property test: random versions from an alphabet rich in the characters that matter
    /// (`~`, `+`, `.`, `-`, `:`, digits, letters) are ordered as `dpkg --compare-versions` orders
    /// them. `debversion` is checked on the same pairs; its disagreements are printed (it treats
    /// an empty digit run as smaller than `0`, dpkg as equal).
    #[test]
    fn matches_dpkg_compare_versions() {
        if std::process::Command::new("dpkg")
            .arg("--version")
            .output()
            .is_err()
        {
            eprintln!("NOTE: dpkg is absent; skipping the dpkg version-order property test");
            return;
        }
        use rand::{Rng, SeedableRng};
        let mut rng = rand::rngs::StdRng::seed_from_u64(0xdeb);
        let alphabet = b"0123456789~+.abz";
        let make = |rng: &mut rand::rngs::StdRng| {
            let mut s = String::new();
            if rng.random_bool(0.2) {
                s.push_str(&format!("{}:", rng.random_range(0..3)));
            }
            s.push(char::from(b'0' + rng.random_range(0..10u8)));
            for _ in 0..rng.random_range(0..6) {
                s.push(char::from(alphabet[rng.random_range(0..alphabet.len())]));
            }
            if rng.random_bool(0.5) {
                s.push('-');
                s.push(char::from(b'0' + rng.random_range(0..10u8)));
                for _ in 0..rng.random_range(0..4) {
                    s.push(char::from(alphabet[rng.random_range(0..alphabet.len())]));
                }
            }
            s
        };
        let mut debversion_mismatches = 0;
        for _ in 0..300 {
            let a = make(&mut rng);
            let b = if rng.random_bool(0.3) {
                format!("{a}{}", ["~", "0", "+1", ".0", "~a"][rng.random_range(0..5)])
            } else {
                make(&mut rng)
            };
            let dpkg_lt = |x: &str, y: &str| {
                std::process::Command::new("dpkg")
                    .args(["--compare-versions", x, "lt", y])
                    .status()
                    .map(|s| s.success())
                    .unwrap_or(false)
            };
            let want = if dpkg_lt(&a, &b) {
                Less
            } else if dpkg_lt(&b, &a) {
                Greater
            } else {
                Equal
            };
            assert_eq!(compare(&a, &b), want, "{a} vs {b}");
            if let (Ok(x), Ok(y)) = (a.parse::<debversion::Version>(), b.parse::<debversion::Version>())
                && x.cmp(&y) != want
            {
                debversion_mismatches += 1;
                eprintln!("debversion disagrees with dpkg: {a} vs {b}");
            }
        }
        eprintln!("debversion disagreements with dpkg: {debversion_mismatches}/300");
    }
}
