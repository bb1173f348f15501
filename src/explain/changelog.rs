//! Debian changelogs (`debian/changelog` as installed in `changelog.Debian.gz`): the entries
//! between two versions, and the CVE identifiers they mention.

use std::cmp::Ordering;
use std::collections::BTreeSet;

use crate::debian::version::compare;

/// One changelog entry.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Entry {
    pub package: String,
    pub version: String,
    pub distributions: String,
    pub urgency: Option<String>,
    /// The trailer's `Name <email>`.
    pub author: String,
    /// The trailer's date, verbatim.
    pub date: String,
    /// The change lines, with the two-space indent removed, blank lines at both ends dropped.
    pub changes: String,
}

/// Parses a changelog; lines that are neither a heading, a trailer nor inside an entry are
/// skipped (old changelogs end in free-form text, e.g. Emacs local variables).
pub fn parse(text: &str) -> Vec<Entry> {
    let mut out = Vec::new();
    let mut cur: Option<(Entry, Vec<&str>)> = None;
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix(" -- ") {
            if let Some((mut e, body)) = cur.take() {
                let (author, date) = rest.split_once("  ").unwrap_or((rest, ""));
                e.author = author.trim().to_owned();
                e.date = date.trim().to_owned();
                e.changes = trim_body(&body);
                out.push(e);
            }
            continue;
        }
        if !line.starts_with(' ') && !line.starts_with('\t') && !line.trim().is_empty() {
            if let Some(e) = heading(line) {
                // A heading without a trailer before it: keep what we had.
                if let Some((mut prev, body)) = cur.take() {
                    prev.changes = trim_body(&body);
                    out.push(prev);
                }
                cur = Some((e, Vec::new()));
            }
            continue;
        }
        if let Some((_, body)) = cur.as_mut() {
            body.push(line);
        }
    }
    if let Some((mut e, body)) = cur {
        e.changes = trim_body(&body);
        out.push(e);
    }
    out
}

/// `pkg (version) dist1 dist2; urgency=medium`.
fn heading(line: &str) -> Option<Entry> {
    let (package, rest) = line.split_once(" (")?;
    let (version, rest) = rest.split_once(')')?;
    if package.contains(' ') || version.is_empty() || version.contains(' ') {
        return None;
    }
    let (dists, meta) = rest.split_once(';').unwrap_or((rest, ""));
    let urgency = meta.split(',').find_map(|kv| {
        let (k, v) = kv.split_once('=')?;
        k.trim()
            .eq_ignore_ascii_case("urgency")
            .then(|| v.trim().to_owned())
    });
    Some(Entry {
        package: package.trim().to_owned(),
        version: version.to_owned(),
        distributions: dists.trim().to_owned(),
        urgency,
        author: String::new(),
        date: String::new(),
        changes: String::new(),
    })
}

fn trim_body(lines: &[&str]) -> String {
    let lines: Vec<&str> = lines
        .iter()
        .map(|l| l.strip_prefix("  ").unwrap_or(l).trim_end())
        .collect();
    let start = lines.iter().position(|l| !l.is_empty()).unwrap_or(lines.len());
    let end = lines.iter().rposition(|l| !l.is_empty()).map_or(start, |i| i + 1);
    lines[start..end.max(start)].join("\n")
}

/// The entries with `from < version <= to` (dpkg order), newest first as in the file.
pub fn between(entries: &[Entry], from: &str, to: &str) -> Vec<Entry> {
    entries
        .iter()
        .filter(|e| {
            compare(&e.version, from) == Ordering::Greater && compare(&e.version, to) != Ordering::Greater
        })
        .cloned()
        .collect()
}

/// Every `CVE-YYYY-NNNN…` the text mentions, sorted and unique.
pub fn cves(text: &str) -> BTreeSet<String> {
    let bytes = text.as_bytes();
    let mut out = BTreeSet::new();
    let mut i = 0;
    while let Some(pos) = text[i..].find("CVE-") {
        let start = i + pos;
        let mut j = start + 4;
        let year_start = j;
        while j < bytes.len() && bytes[j].is_ascii_digit() {
            j += 1;
        }
        if j - year_start == 4 && j < bytes.len() && bytes[j] == b'-' {
            let num_start = j + 1;
            let mut k = num_start;
            while k < bytes.len() && bytes[k].is_ascii_digit() {
                k += 1;
            }
            let before_ok = start == 0 || !bytes[start - 1].is_ascii_alphanumeric();
            if k - num_start >= 4 && before_ok {
                out.insert(text[start..k].to_owned());
            }
        }
        i = start + 4;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = "openssl (3.0.13-1~deb12u1) bookworm-security; urgency=medium

  * New upstream release.
    - Fixes CVE-2023-5678, CVE-2024-0727.

 -- Sebastian Andrzej Siewior <sebastian@breakpoint.cc>  Sat, 03 Feb 2024 18:57:48 +0100

openssl (3.0.11-1~deb12u2) bookworm; urgency=medium

  * CVE-2023-5363 (Incorrect cipher key & IV length processing).

 -- Sebastian Andrzej Siewior <sebastian@breakpoint.cc>  Tue, 24 Oct 2023 22:09:21 +0200

openssl (3.0.11-1~deb12u1) bookworm; urgency=medium

  * Import 3.0.11.

 -- Sebastian Andrzej Siewior <sebastian@breakpoint.cc>  Wed, 20 Sep 2023 21:27:16 +0200

Local variables:
mode: debian-changelog
End:
";

    #[test]
    fn entries_between_two_versions_with_their_cves() {
        let entries = parse(TEXT);
        assert_eq!(entries.len(), 3);
        assert_eq!(entries[0].urgency.as_deref(), Some("medium"));
        assert_eq!(entries[0].distributions, "bookworm-security");
        assert_eq!(entries[0].date, "Sat, 03 Feb 2024 18:57:48 +0100");
        assert_eq!(
            entries[0].changes,
            "* New upstream release.\n  - Fixes CVE-2023-5678, CVE-2024-0727."
        );
        let picked = between(&entries, "3.0.11-1~deb12u1", "3.0.13-1~deb12u1");
        let versions: Vec<&str> = picked.iter().map(|e| e.version.as_str()).collect();
        assert_eq!(versions, ["3.0.13-1~deb12u1", "3.0.11-1~deb12u2"]);
        let all: String = picked
            .iter()
            .map(|e| e.changes.as_str())
            .collect::<Vec<_>>()
            .join("\n");
        assert_eq!(
            cves(&all).into_iter().collect::<Vec<_>>(),
            ["CVE-2023-5363", "CVE-2023-5678", "CVE-2024-0727"]
        );
        assert!(between(&entries, "3.0.13-1~deb12u1", "3.0.11-1~deb12u1").is_empty());
        assert!(cves("xCVE-2024-1234 CVE-24-1 CVE-2024-12").is_empty());
    }
}
