//! A fast parser for `Packages` indices.
//!
//! Debian's `main/binary-amd64/Packages` holds ~60k stanzas in ~45 MB; a general deb822 parser
//! builds a map per stanza, most of it the long `Description`s we never read. This one walks the
//! bytes line by line, copies out only the fields a [`PackageRecord`] keeps, and skips the rest
//! (including their continuation lines) without allocating.

use crate::hash::Sha256Digest;

use super::record::{MultiArch, PackageRecord};

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PackagesError {
    #[error("{index}: package `{}` (stanza at line {line}) has no `{field}` field", crate::text::escape(.package))]
    Missing {
        index: String,
        package: String,
        line: usize,
        field: &'static str,
    },
    #[error("{index}: package `{}` (line {line}): invalid `{field}`: `{}`", crate::text::escape(.package), crate::text::escape(.value))]
    Invalid {
        index: String,
        package: String,
        line: usize,
        field: &'static str,
        value: String,
    },
    #[error("{index}: line {line}: {}", crate::text::escape(.message))]
    Syntax {
        index: String,
        line: usize,
        message: String,
    },
}

/// Where records of one index come from (copied into each record), and the index's name for
/// messages.
#[derive(Debug, Clone, Copy)]
pub struct IndexOrigin<'a> {
    pub archive: &'a str,
    pub suite: &'a str,
    pub component: &'a str,
    /// The index's path, for messages (`dists/bookworm/main/binary-amd64/Packages.xz`).
    pub index: &'a str,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Field {
    Package,
    Version,
    Architecture,
    MultiArch,
    Essential,
    Priority,
    Depends,
    PreDepends,
    Recommends,
    Provides,
    Conflicts,
    Breaks,
    Replaces,
    Filename,
    Size,
    Sha256,
}

const FIELDS: usize = 16;

fn field_of(name: &[u8]) -> Option<Field> {
    // Dispatch on length first: most lines are fields we skip, and this rejects them cheaply.
    let eq = |n: &[u8]| name.eq_ignore_ascii_case(n);
    Some(match name.len() {
        4 if eq(b"Size") => Field::Size,
        6 if eq(b"SHA256") => Field::Sha256,
        6 if eq(b"Breaks") => Field::Breaks,
        7 if eq(b"Package") => Field::Package,
        7 if eq(b"Version") => Field::Version,
        7 if eq(b"Depends") => Field::Depends,
        8 if eq(b"Priority") => Field::Priority,
        8 if eq(b"Provides") => Field::Provides,
        8 if eq(b"Replaces") => Field::Replaces,
        8 if eq(b"Filename") => Field::Filename,
        9 if eq(b"Essential") => Field::Essential,
        9 if eq(b"Conflicts") => Field::Conflicts,
        10 if eq(b"Multi-Arch") => Field::MultiArch,
        10 if eq(b"Recommends") => Field::Recommends,
        11 if eq(b"Pre-Depends") => Field::PreDepends,
        12 if eq(b"Architecture") => Field::Architecture,
        _ => return None,
    })
}

fn trim(mut b: &[u8]) -> &[u8] {
    while let [first, rest @ ..] = b
        && first.is_ascii_whitespace()
    {
        b = rest;
    }
    while let [rest @ .., last] = b
        && last.is_ascii_whitespace()
    {
        b = rest;
    }
    b
}

/// One stanza's kept fields, as byte ranges into the index (continuation lines of a kept
/// field are joined when the record is built).
#[derive(Default)]
struct Stanza<'a> {
    values: [Option<Vec<&'a [u8]>>; FIELDS],
    line: usize,
}

impl<'a> Stanza<'a> {
    fn is_empty(&self) -> bool {
        self.values.iter().all(Option::is_none)
    }
}

/// Parses a `Packages` index into records.
///
/// A stanza without `Package`, `Version`, `Architecture`, `Filename`, `Size` or `SHA256` is an
/// error naming the index and the package: an index that cannot pin what it lists is broken,
/// and skipping its stanzas would hide packages from the resolver.
pub fn parse_packages(bytes: &[u8], origin: IndexOrigin<'_>) -> Result<Vec<PackageRecord>, PackagesError> {
    parse_packages_where(bytes, origin, &|_| true)
}

/// [`parse_packages`], keeping only the stanzas whose `Package` name `keep` accepts.
///
/// A stanza that opens with a `Package` line `keep` refuses is skipped line by line without
/// reading its fields (Debian's stanzas all open so): checking a lock's few hundred packages
/// against an index of tens of thousands then costs a scan, not a parse of every record.
pub fn parse_packages_where(
    bytes: &[u8],
    origin: IndexOrigin<'_>,
    keep: &dyn Fn(&str) -> bool,
) -> Result<Vec<PackageRecord>, PackagesError> {
    let mut out = Vec::new();
    let mut stanza = Stanza::default();
    // The kept field the previous line belonged to (continuations append to it).
    let mut current: Option<usize> = None;
    // Inside a stanza `keep` refused: its lines are passed over up to the next separator.
    let mut skipping = false;
    let mut line_no = 0usize;
    let mut pos = 0usize;
    while pos < bytes.len() {
        let end = memchr::memchr(b'\n', &bytes[pos..]).map_or(bytes.len(), |n| pos + n);
        let mut line = &bytes[pos..end];
        pos = end + 1;
        line_no += 1;
        if let [rest @ .., b'\r'] = line {
            line = rest;
        }
        if line.iter().all(|b| *b == b' ' || *b == b'\t') {
            // Paragraph separator.
            if !stanza.is_empty()
                && let Some(record) = build(&stanza, origin, keep)?
            {
                out.push(record);
            }
            stanza = Stanza::default();
            current = None;
            skipping = false;
            continue;
        }
        if skipping {
            continue;
        }
        match line[0] {
            b' ' | b'\t' => {
                if let Some(i) = current
                    && let Some(v) = stanza.values[i].as_mut()
                {
                    v.push(trim(line));
                }
                continue;
            }
            b'#' => continue,
            _ => {}
        }
        let Some(colon) = line.iter().position(|&b| b == b':') else {
            return Err(PackagesError::Syntax {
                index: origin.index.to_owned(),
                line: line_no,
                message: format!("`{}` is not `Field: value`", String::from_utf8_lossy(line)),
            });
        };
        let field = field_of(&line[..colon]);
        if stanza.is_empty() {
            stanza.line = line_no;
            if field == Some(Field::Package) && !std::str::from_utf8(trim(&line[colon + 1..])).is_ok_and(keep)
            {
                skipping = true;
                continue;
            }
        }
        current = field.map(|f| f as usize);
        if let Some(i) = current {
            stanza.values[i] = Some(vec![trim(&line[colon + 1..])]);
        }
    }
    if !stanza.is_empty()
        && let Some(record) = build(&stanza, origin, keep)?
    {
        out.push(record);
    }
    Ok(out)
}

/// The stanza's record, or `None` when `keep` refuses its name.
fn build(
    s: &Stanza<'_>,
    origin: IndexOrigin<'_>,
    keep: &dyn Fn(&str) -> bool,
) -> Result<Option<PackageRecord>, PackagesError> {
    let package_name = s.values[Field::Package as usize]
        .as_ref()
        .and_then(|v| v.first())
        .map(|b| String::from_utf8_lossy(b).into_owned())
        .unwrap_or_else(|| "(unnamed)".into());
    let invalid = |field: &'static str, value: &[u8]| PackagesError::Invalid {
        index: origin.index.to_owned(),
        package: package_name.clone(),
        line: s.line,
        field,
        value: String::from_utf8_lossy(value).into_owned(),
    };
    let get = |f: Field, name: &'static str| -> Result<Option<String>, PackagesError> {
        let Some(parts) = &s.values[f as usize] else {
            return Ok(None);
        };
        let mut out = String::new();
        for part in parts.iter().filter(|p| !p.is_empty()) {
            let text = std::str::from_utf8(part).map_err(|_| invalid(name, part))?;
            if !out.is_empty() {
                out.push(' ');
            }
            out.push_str(text);
        }
        Ok(Some(out))
    };
    let require = |f: Field, name: &'static str| -> Result<String, PackagesError> {
        match get(f, name)? {
            Some(v) if !v.is_empty() => Ok(v),
            _ => Err(PackagesError::Missing {
                index: origin.index.to_owned(),
                package: package_name.clone(),
                line: s.line,
                field: name,
            }),
        }
    };
    let name = require(Field::Package, "Package")?;
    if !keep(&name) {
        return Ok(None);
    }
    let version = require(Field::Version, "Version")?;
    let architecture = require(Field::Architecture, "Architecture")?;
    let filename = require(Field::Filename, "Filename")?;
    let size_text = require(Field::Size, "Size")?;
    let size: u64 = size_text
        .parse()
        .map_err(|_| invalid("Size", size_text.as_bytes()))?;
    let sha_text = require(Field::Sha256, "SHA256")?;
    let sha256: Sha256Digest = sha_text
        .parse()
        .map_err(|_| invalid("SHA256", sha_text.as_bytes()))?;
    let multi_arch = match get(Field::MultiArch, "Multi-Arch")?.as_deref() {
        None | Some("no") => MultiArch::No,
        Some("same") => MultiArch::Same,
        Some("foreign") => MultiArch::Foreign,
        Some("allowed") => MultiArch::Allowed,
        Some(other) => return Err(invalid("Multi-Arch", other.as_bytes())),
    };
    let essential = get(Field::Essential, "Essential")?.is_some_and(|v| v.eq_ignore_ascii_case("yes"));
    Ok(Some(PackageRecord {
        name,
        version,
        architecture,
        multi_arch,
        essential,
        priority: get(Field::Priority, "Priority")?.unwrap_or_default(),
        depends: get(Field::Depends, "Depends")?,
        pre_depends: get(Field::PreDepends, "Pre-Depends")?,
        recommends: get(Field::Recommends, "Recommends")?,
        provides: get(Field::Provides, "Provides")?,
        conflicts: get(Field::Conflicts, "Conflicts")?,
        breaks: get(Field::Breaks, "Breaks")?,
        replaces: get(Field::Replaces, "Replaces")?,
        filename,
        size,
        sha256,
        archive: origin.archive.to_owned(),
        suite: origin.suite.to_owned(),
        component: origin.component.to_owned(),
    }))
}
