//! The one date module: Release `Date`/`Valid-Until` (RFC 2822, also HTTP's `Retry-After`), the
//! OCI config's `created` (RFC 3339), the mirror templates' `%Y%m%d…` and the `YYYY-MM-DD
//! HH:MM:SS UTC` of messages, all over proleptic Gregorian civil-date arithmetic in UTC.
//! Hand-written, not `jiff`/`httpdate`: they check the weekday and the day of the month and want a
//! numeric zone or `GMT`, where apt accepts what Debian's archives write (`UTC`, no weekday, a
//! leap second); being stricter would refuse Release files apt reads.

/// A UTC civil date and time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Civil {
    pub year: i64,
    pub month: u32,
    pub day: u32,
    pub hour: u32,
    pub minute: u32,
    pub second: u32,
}

impl Civil {
    /// The civil date and time of Unix seconds `t` (negative: before 1970).
    pub fn from_unix(t: i64) -> Civil {
        let (year, month, day) = civil_from_days(t.div_euclid(86_400));
        let secs = t.rem_euclid(86_400) as u32;
        Civil {
            year,
            month,
            day,
            hour: secs / 3600,
            minute: secs % 3600 / 60,
            second: secs % 60,
        }
    }

    /// `YYYY-MM-DDTHH:MM:SSZ` (RFC 3339; the caller keeps the year within 0..=9999).
    pub fn rfc3339(&self) -> String {
        format!(
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
            self.year, self.month, self.day, self.hour, self.minute, self.second
        )
    }

    /// `YYYY-MM-DD HH:MM:SS UTC`, for messages.
    pub fn readable(&self) -> String {
        format!(
            "{:04}-{:02}-{:02} {:02}:{:02}:{:02} UTC",
            self.year, self.month, self.day, self.hour, self.minute, self.second
        )
    }
}

/// Days since 1970-01-01 to a proleptic Gregorian (year, month, day) (H. Hinnant's algorithm).
pub fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m as u32, d as u32)
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm); a day past the
/// month's end counts on into the next month.
pub fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Parses a Release `Date` (RFC 2822: `Sat, 10 Jun 2023 08:53:33 UTC`) into Unix seconds, as
/// leniently as apt: the weekday is optional and unchecked, seconds are optional, the zone is
/// `UTC`/`GMT`/`Z`, `±HHMM` or absent (UTC).
pub fn parse_release_date(date: &str) -> Option<i64> {
    let rest = date.trim();
    let rest = match rest.split_once(',') {
        Some((_, r)) => r.trim(),
        None => rest,
    };
    let mut parts = rest.split_whitespace();
    let day: i64 = parts.next()?.parse().ok()?;
    let month = match parts.next()? {
        "Jan" => 1,
        "Feb" => 2,
        "Mar" => 3,
        "Apr" => 4,
        "May" => 5,
        "Jun" => 6,
        "Jul" => 7,
        "Aug" => 8,
        "Sep" => 9,
        "Oct" => 10,
        "Nov" => 11,
        "Dec" => 12,
        _ => return None,
    };
    let year: i64 = parts.next()?.parse().ok()?;
    let mut hms = parts.next()?.split(':');
    let h: i64 = hms.next()?.parse().ok()?;
    let m: i64 = hms.next()?.parse().ok()?;
    let s: i64 = hms.next().unwrap_or("0").parse().ok()?;
    let offset_secs = match parts.next() {
        None | Some("UTC" | "GMT" | "Z" | "+0000" | "-0000") => 0,
        Some(tz) if tz.len() == 5 && (tz.starts_with('+') || tz.starts_with('-')) => {
            let sign = if tz.starts_with('-') { -1 } else { 1 };
            let hh: i64 = tz.get(1..3)?.parse().ok()?;
            let mm: i64 = tz.get(3..5)?.parse().ok()?;
            sign * (hh * 3600 + mm * 60)
        }
        Some(_) => return None,
    };
    if !(1..=31).contains(&day) || h > 23 || m > 59 || s > 60 {
        return None;
    }
    Some(days_from_civil(year, month, day) * 86_400 + h * 3600 + m * 60 + s - offset_secs)
}

/// Checks a `strftime`-like format for the directives [`format_utc`] knows.
pub fn check_format(fmt: &str) -> Result<(), String> {
    let mut chars = fmt.chars();
    while let Some(c) = chars.next() {
        if c == '%' {
            match chars.next() {
                Some('Y' | 'm' | 'd' | 'H' | 'M' | 'S' | 's' | '%') => {}
                Some(o) => {
                    return Err(format!(
                        "unsupported date directive `%{o}` (use %Y %m %d %H %M %S %s %%)"
                    ));
                }
                None => return Err("date format ends with a lone `%`".into()),
            }
        }
    }
    Ok(())
}

/// Formats Unix seconds (UTC) with the directives [`check_format`] allows (`%Y %m %d %H %M %S
/// %s %%`).
pub fn format_utc(fmt: &str, secs: i64) -> String {
    let c = Civil::from_unix(secs);
    let mut out = String::new();
    let mut chars = fmt.chars();
    while let Some(ch) = chars.next() {
        if ch != '%' {
            out.push(ch);
            continue;
        }
        match chars.next() {
            Some('Y') => out.push_str(&format!("{:04}", c.year)),
            Some('m') => out.push_str(&format!("{:02}", c.month)),
            Some('d') => out.push_str(&format!("{:02}", c.day)),
            Some('H') => out.push_str(&format!("{:02}", c.hour)),
            Some('M') => out.push_str(&format!("{:02}", c.minute)),
            Some('S') => out.push_str(&format!("{:02}", c.second)),
            Some('s') => out.push_str(&secs.to_string()),
            Some(o) => out.push(o),
            None => {}
        }
    }
    out
}

/// RFC 5322's date as `date -R` prints it in UTC (`Sun, 06 Dec 2026 09:50:43 +0000`).
pub fn rfc_email_utc(secs: i64) -> String {
    const DAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let c = Civil::from_unix(secs);
    // 1970-01-01 was a Thursday.
    let weekday = DAYS[secs.div_euclid(86_400).rem_euclid(7) as usize];
    let month = MONTHS[(c.month as usize).saturating_sub(1) % 12];
    format!(
        "{weekday}, {:02} {month} {} {:02}:{:02}:{:02} +0000",
        c.day, c.year, c.hour, c.minute, c.second
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// GNU date's `-R` for a few instants (checked with `date -u -R -d@N`).
    #[test]
    fn formats_rfc_email_dates() {
        assert_eq!(rfc_email_utc(0), "Thu, 01 Jan 1970 00:00:00 +0000");
        assert_eq!(rfc_email_utc(1_796_550_643), "Sun, 06 Dec 2026 09:50:43 +0000");
        assert_eq!(rfc_email_utc(1_686_387_213), "Sat, 10 Jun 2023 08:53:33 +0000");
        assert_eq!(rfc_email_utc(-1), "Wed, 31 Dec 1969 23:59:59 +0000");
    }

    #[test]
    fn parses_release_dates() {
        assert_eq!(parse_release_date("Thu, 01 Jan 1970 00:00:00 UTC"), Some(0));
        // Debian bookworm's Release of 10 June 2023, and the same instant in other spellings.
        for d in [
            "Sat, 10 Jun 2023 08:53:33 UTC",
            "Sat, 10 Jun 2023 10:53:33 +0200",
            "10 Jun 2023 08:53:33 GMT",
            "Mon, 10 Jun 2023 08:53:33",
            "  Sat, 10 Jun 2023 07:23:33 -0130 ",
        ] {
            assert_eq!(parse_release_date(d), Some(1_686_387_213), "{d}");
        }
        assert_eq!(
            parse_release_date("Sat, 10 Jun 2023 08:53 UTC"),
            Some(1_686_387_180)
        );
        // A leap second, and a day past the month's end, count on as apt's timegm does.
        assert_eq!(
            parse_release_date("Sat, 31 Dec 2016 23:59:60 UTC"),
            Some(1_483_228_800)
        );
        assert_eq!(
            parse_release_date("31 Feb 2024 00:00:00 UTC"),
            parse_release_date("02 Mar 2024 00:00:00 UTC")
        );
        for bad in [
            "Sat, 10 Jux 2023 08:53:33 UTC",
            "garbage",
            "",
            "Sat, 32 Jun 2023 08:53:33 UTC",
            "Sat, 10 Jun 2023 24:00:00 UTC",
            "Sat, 10 Jun 2023 08:53:33 CEST",
            "Sat, 10 Jun 2023 08:53:33 +02:0",
            "Sat, 10 Jun 2023 08:53:33 +ü00",
            // A multi-byte zone of five bytes: slicing it by byte used to panic.
            "Sat, 10 Jun 2023 08:53:33 +0ü0",
        ] {
            assert_eq!(parse_release_date(bad), None, "{bad}");
        }
    }

    /// What the synthetic archives of the tests write (testkit's own formatter) reads back.
    #[test]
    fn reads_what_the_test_archives_write() {
        for t in [0, 1_686_387_213, 951_782_400, 4_102_444_799, 1_234_567_890] {
            let text = debcast_testkit::archive::release_date(t);
            assert_eq!(parse_release_date(&text), Some(t), "{text}");
        }
    }

    #[test]
    fn civil_arithmetic_round_trips() {
        assert_eq!(civil_from_days(-1), (1969, 12, 31));
        assert_eq!(civil_from_days(11_016), (2000, 2, 29));
        for days in (-800_000..800_000).step_by(997) {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, i64::from(m), i64::from(d)), days);
        }
    }

    #[test]
    fn formats() {
        assert_eq!(Civil::from_unix(0).rfc3339(), "1970-01-01T00:00:00Z");
        assert_eq!(Civil::from_unix(951_782_400).rfc3339(), "2000-02-29T00:00:00Z");
        assert_eq!(Civil::from_unix(1_700_000_000).rfc3339(), "2023-11-14T22:13:20Z");
        assert_eq!(Civil::from_unix(4_102_444_799).rfc3339(), "2099-12-31T23:59:59Z");
        assert_eq!(Civil::from_unix(-1).readable(), "1969-12-31 23:59:59 UTC");
        assert_eq!(
            Civil::from_unix(1_686_387_213).readable(),
            "2023-06-10 08:53:33 UTC"
        );
        assert_eq!(format_utc("%Y%m%dT%H%M%SZ", 1_686_387_213), "20230610T085333Z");
        assert_eq!(
            format_utc("%Y-%m-%d %H:%M:%S %s %%", 0),
            "1970-01-01 00:00:00 0 %"
        );
        assert!(check_format("%Y/%m").is_ok());
        assert!(check_format("%Q").unwrap_err().contains("%Q"));
        assert!(check_format("x%").is_err());
    }
}
