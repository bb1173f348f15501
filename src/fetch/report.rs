//! What fetching reports: one download ([`Downloaded`]), one file brought into the store
//! ([`FetchedFile`]), a whole run ([`FetchReport`]). Below the transport, the store filling and
//! the progress display, which all speak of them.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use crate::hash::Sha256Digest;

/// What a successful download came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Downloaded {
    /// The mirror base URL that served the (final) bytes.
    pub mirror: String,
    pub bytes: u64,
    /// Failed attempts before it succeeded (on any mirror).
    pub retries: u32,
    /// Attempts that resumed a partial transfer.
    pub resumed: u32,
    /// Hedges started: second requests racing a transfer that had gone quiet.
    pub hedges: u32,
    pub sha256: Sha256Digest,
}

/// One package file brought into the store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FetchedFile {
    /// `name=version (arch)` of (the first) package locked to this file.
    pub package: String,
    pub archive: String,
    pub path: String,
    pub bytes: u64,
    pub mirror: String,
    pub retries: u32,
    pub resumed: u32,
    /// Hedges: second requests raced against a transfer that had gone quiet.
    pub hedges: u32,
}

/// What [`fetch_packages`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FetchReport {
    /// Files downloaded, sorted by archive and path.
    pub fetched: Vec<FetchedFile>,
    /// Distinct files that were already in the store.
    pub already_present: usize,
    /// Bytes downloaded (verified bytes kept, not counting bytes thrown away).
    pub bytes: u64,
    /// Failed attempts that were retried, in all.
    pub retries: u32,
    /// Hedges started, in all.
    pub hedges: u32,
}

impl FetchReport {
    /// Files and bytes per mirror.
    pub fn by_mirror(&self) -> BTreeMap<&str, (usize, u64)> {
        let mut m: BTreeMap<&str, (usize, u64)> = BTreeMap::new();
        for f in &self.fetched {
            let e = m.entry(f.mirror.as_str()).or_default();
            e.0 += 1;
            e.1 += f.bytes;
        }
        m
    }

    /// `fetched 3 package(s) (1.2 MiB, 2 retries, 1 hedge), 5 already present` plus one line
    /// per mirror.
    pub fn summary(&self) -> String {
        let mut s = format!(
            "fetched {} package(s) ({}, {} retr{}, {} hedge{}), {} already present",
            self.fetched.len(),
            human_bytes(self.bytes),
            self.retries,
            if self.retries == 1 { "y" } else { "ies" },
            self.hedges,
            if self.hedges == 1 { "" } else { "s" },
            self.already_present
        );
        for (mirror, (files, bytes)) in self.by_mirror() {
            let _ = write!(s, "\n  {files} from {mirror} ({})", human_bytes(bytes));
        }
        s
    }
}

pub(crate) fn human_bytes(n: u64) -> String {
    const UNITS: [&str; 4] = ["KiB", "MiB", "GiB", "TiB"];
    if n < 1024 {
        return format!("{n} B");
    }
    let mut v = n as f64 / 1024.0;
    let mut unit = UNITS[0];
    for u in &UNITS[1..] {
        if v < 1024.0 {
            break;
        }
        v /= 1024.0;
        unit = u;
    }
    format!("{v:.1} {unit}")
}
