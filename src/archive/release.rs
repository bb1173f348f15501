//! Parsing a (verified) Release text.

use std::collections::BTreeMap;

use crate::debian::date::parse_release_date;
use crate::debian::deb822::{self, Deb822Error, Dialect, Event};
use crate::hash::Expected;
use crate::hash::Sha256Digest;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ReleaseError {
    #[error("line {line}: {}", crate::text::escape(.message))]
    Syntax { line: usize, message: String },
    #[error("no `{0}` field")]
    Missing(&'static str),
    #[error("`{field}: {}` is not a date (expected RFC 2822, e.g. `Sat, 10 Jun 2023 08:53:33 UTC`)", crate::text::escape(.value))]
    BadDate { field: &'static str, value: String },
    #[error("SHA256 entry `{}` is not `<sha256> <size> <path>`", crate::text::escape(.0))]
    BadEntry(String),
    /// Checksum lists, but none with SHA-256: nothing it lists can be verified well enough.
    #[error(
        "the Release file lists no SHA-256 checksums (only {0}), which debcast refuses: MD5 and SHA-1 are broken, so its indices cannot be verified"
    )]
    OnlyWeakChecksums(String),
}

/// A Release file's fields that debcast uses.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Release {
    pub origin: Option<String>,
    pub label: Option<String>,
    pub suite: Option<String>,
    pub codename: Option<String>,
    /// `Date`, verbatim.
    pub date: String,
    /// `Date` in Unix seconds.
    pub date_unix: i64,
    /// `Valid-Until`, verbatim, and in Unix seconds.
    pub valid_until: Option<(String, i64)>,
    pub architectures: Vec<String>,
    pub components: Vec<String>,
    pub acquire_by_hash: bool,
    /// `No-Support-for-Architecture-all: Packages`: `Architecture: all` packages are listed in
    /// each `binary-ARCH/Packages` (and `binary-all/Packages` only repeats them).
    pub no_support_for_architecture_all: bool,
    /// The `SHA256` file list: path (relative to `dists/SUITE/`) -> size and digest.
    pub sha256: BTreeMap<String, Expected>,
}

impl Release {
    /// Parses Release text (one deb822 paragraph). Unknown fields are ignored; the hash lists
    /// other than `SHA256` (MD5Sum, SHA1) are ignored on purpose.
    pub fn parse(text: &str) -> Result<Release, ReleaseError> {
        let mut r = Release::default();
        let mut date = None;
        let mut valid_until = None;
        // The checksum lists debcast does not use, to say why when SHA256 is missing.
        let mut weak: Vec<&'static str> = Vec::new();
        for event in deb822::read(text, Dialect::Strict) {
            let field = match event {
                Ok(Event::Field(f)) => f,
                Ok(Event::End { .. }) => {
                    // A Release is one paragraph; a blank line ends it (whatever follows is
                    // not ours).
                    if r.sha256.is_empty() && date.is_none() {
                        continue;
                    }
                    break;
                }
                // Comments, and continuation lines without a field, carry nothing.
                Ok(Event::Comment { .. }) | Err(Deb822Error::Orphan { .. }) => continue,
                Err(Deb822Error::NotAField { line, text }) => {
                    return Err(ReleaseError::Syntax {
                        line,
                        message: format!("`{}` is not `Field: value`", text.trim_end()),
                    });
                }
            };
            let value = field.first.trim();
            let name = field.name.trim();
            let is = |n: &str| name.eq_ignore_ascii_case(n);
            if is("Origin") {
                r.origin = Some(value.to_owned());
            } else if is("Label") {
                r.label = Some(value.to_owned());
            } else if is("Suite") {
                r.suite = Some(value.to_owned());
            } else if is("Codename") {
                r.codename = Some(value.to_owned());
            } else if is("Date") {
                date = Some(value.to_owned());
            } else if is("Valid-Until") {
                valid_until = Some(value.to_owned());
            } else if is("Architectures") {
                r.architectures = value.split_whitespace().map(str::to_owned).collect();
            } else if is("Components") {
                r.components = value.split_whitespace().map(str::to_owned).collect();
            } else if is("Acquire-By-Hash") {
                r.acquire_by_hash = value.eq_ignore_ascii_case("yes");
            } else if is("No-Support-for-Architecture-all") {
                r.no_support_for_architecture_all = value == "Packages";
            } else if is("SHA256") {
                for line in &field.continuation {
                    let entry = line.trim();
                    let bad = || ReleaseError::BadEntry(entry.to_owned());
                    let mut parts = entry.split_whitespace();
                    let (Some(hash), Some(size), Some(path), None) =
                        (parts.next(), parts.next(), parts.next(), parts.next())
                    else {
                        return Err(bad());
                    };
                    let sha256: Sha256Digest = hash.parse().map_err(|_| bad())?;
                    let size: u64 = size.parse().map_err(|_| bad())?;
                    r.sha256.insert(path.to_owned(), Expected { size, sha256 });
                }
            } else if is("MD5Sum") {
                weak.push("MD5Sum");
            } else if is("SHA1") {
                weak.push("SHA1");
            }
        }
        let date = date.ok_or(ReleaseError::Missing("Date"))?;
        r.date_unix = parse_release_date(&date).ok_or_else(|| ReleaseError::BadDate {
            field: "Date",
            value: date.clone(),
        })?;
        r.date = date;
        if let Some(v) = valid_until {
            let t = parse_release_date(&v).ok_or_else(|| ReleaseError::BadDate {
                field: "Valid-Until",
                value: v.clone(),
            })?;
            r.valid_until = Some((v, t));
        }
        if r.sha256.is_empty() && !weak.is_empty() {
            return Err(ReleaseError::OnlyWeakChecksums(weak.join(" and ")));
        }
        Ok(r)
    }

    /// Whether this Release is for `suite` (its `Suite` or its `Codename`).
    pub fn matches_suite(&self, suite: &str) -> bool {
        self.suite.as_deref() == Some(suite) || self.codename.as_deref() == Some(suite)
    }
}
