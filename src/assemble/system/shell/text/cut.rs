//! `cut`, as the walk runs it on text it knows.

/// `cut -d D -f LIST` (tab without `-d`) and `cut -b LIST`/`-c LIST` (bytes: GNU cut's `-c` counts
/// bytes too), LIST of `N`, `N-M`, `N-`, `-M`.
pub(super) fn cut(args: &[String], stdin: &str) -> Option<String> {
    let (mut delim, mut fields, mut bytes) = (None, None, None);
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "-d" => delim = Some(it.next()?.clone()),
            "-f" => fields = Some(it.next()?.clone()),
            "-b" | "-c" => bytes = Some(it.next()?.clone()),
            s if s.starts_with("-d") => delim = Some(s[2..].to_owned()),
            s if s.starts_with("-f") => fields = Some(s[2..].to_owned()),
            s if s.starts_with("-b") || s.starts_with("-c") => bytes = Some(s[2..].to_owned()),
            _ => return None,
        }
    }
    let selected = |ranges: &[(usize, usize)], n: usize| ranges.iter().any(|(a, b)| (*a..=*b).contains(&n));
    let mut out = String::new();
    match (fields, bytes) {
        (Some(list), None) => {
            let delim = delim.unwrap_or_else(|| "\t".to_owned());
            if delim.chars().count() != 1 {
                return None;
            }
            let ranges = cut_list(&list)?;
            for line in stdin.lines() {
                if !line.contains(delim.as_str()) {
                    out.push_str(line);
                } else {
                    let fields: Vec<&str> = line
                        .split(delim.as_str())
                        .enumerate()
                        .filter(|(i, _)| selected(&ranges, i + 1))
                        .map(|(_, f)| f)
                        .collect();
                    out.push_str(&fields.join(&delim));
                }
                out.push('\n');
            }
        }
        (None, Some(list)) if delim.is_none() => {
            let ranges = cut_list(&list)?;
            for line in stdin.lines() {
                let kept: Vec<u8> = line
                    .bytes()
                    .enumerate()
                    .filter(|(i, _)| selected(&ranges, i + 1))
                    .map(|(_, b)| b)
                    .collect();
                // A multi-byte character cut in two is not text the walk can carry on with.
                out.push_str(&String::from_utf8(kept).ok()?);
                out.push('\n');
            }
        }
        _ => return None,
    }
    Some(out)
}

/// A `cut` LIST as inclusive 1-based ranges.
fn cut_list(list: &str) -> Option<Vec<(usize, usize)>> {
    let mut ranges = Vec::new();
    for part in list.split(',') {
        let (a, b) = match part.split_once('-') {
            Some((a, b)) => (
                if a.is_empty() { 1 } else { a.parse().ok()? },
                if b.is_empty() { usize::MAX } else { b.parse().ok()? },
            ),
            None => {
                let n: usize = part.parse().ok()?;
                (n, n)
            }
        };
        if a == 0 || b < a {
            return None;
        }
        ranges.push((a, b));
    }
    Some(ranges)
}
