//! `[[artifact]]` inputs (a Go toolchain tarball, a protoc zip): pinned while locking, brought into
//! the store by the same transport as `.deb`s (retries, hedging, resume, verification while
//! streaming, atomic store entries), and checked for `--offline`.

use std::collections::BTreeMap;

use super::progress::Progress;
use super::transport::{Transport, bounded_map};
use super::{Expected, FetchError};
use crate::hash::Sha256Digest;
use crate::lockfile::LockedArtifact;
use crate::manifest::PlatformArtifact;
use crate::platform::Platform;
use crate::store::{Kind, Store};

/// What pinning one artifact URL gave.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pinned {
    pub size: u64,
    pub sha256: Sha256Digest,
    /// Whether it was downloaded (rather than found in the store).
    pub downloaded: bool,
}

/// Pins `artifact`'s URL for a lock: its size and SHA-256. A manifest hash is checked against
/// the bytes (a store entry under that hash is used without downloading); without one, the URL
/// is downloaded once into the store and what arrived is pinned.
pub fn pin_artifact(
    artifact: &PlatformArtifact<'_>,
    platform: &Platform,
    store: &Store,
    transport: &Transport,
    progress: &dyn Progress,
) -> Result<Pinned, FetchError> {
    let what = format!(
        "artifact `{}` for {platform} ({})",
        artifact.artifact.name, artifact.url
    );
    if let Some(want) = artifact.sha256 {
        let path = store.path(Kind::Artifact, &want);
        if let Ok(meta) = std::fs::metadata(&path)
            && meta.is_file()
        {
            let expected = Expected {
                size: meta.len(),
                sha256: want,
            };
            if store.verify(Kind::Artifact, &expected, &what).is_ok() {
                return Ok(Pinned {
                    size: meta.len(),
                    sha256: want,
                    downloaded: false,
                });
            }
        }
    }
    let got = transport.fetch_artifact_into_store(artifact.url, None, &what, store, progress)?;
    if let Some(want) = artifact.sha256
        && want != got.sha256
    {
        // Stored under its own hash, but no lock pins it: take it out again.
        let _ = std::fs::remove_file(store.path(Kind::Artifact, &got.sha256));
        return Err(FetchError::ArtifactHash {
            what,
            expected: want,
            actual: got.sha256,
            size: got.bytes,
        });
    }
    Ok(Pinned {
        size: got.bytes,
        sha256: got.sha256,
        downloaded: true,
    })
}

/// Downloads every locked artifact the store lacks, verified against the lock while streaming.
/// Returns how many were downloaded; the error lists every artifact that failed.
pub fn fetch_artifacts(
    artifacts: &[LockedArtifact],
    store: &Store,
    transport: &Transport,
    progress: &dyn Progress,
) -> Result<usize, FetchError> {
    // One download per distinct file (an architecture-independent artifact serves every platform).
    let mut wanted: BTreeMap<Sha256Digest, &LockedArtifact> = BTreeMap::new();
    for a in artifacts {
        let expected = expected(a);
        if !store.contains(Kind::Artifact, &expected) {
            wanted.entry(a.sha256).or_insert(a);
        }
    }
    let wanted: Vec<&LockedArtifact> = wanted.into_values().collect();
    let width = transport.config().concurrency;
    let results = bounded_map(wanted.len(), width, |i| {
        let a = wanted[i];
        let what = format!("{} ({})", a.label(), a.url);
        transport.fetch_artifact_into_store(&a.url, Some(expected(a)), &what, store, progress)
    });
    let mut failures = Vec::new();
    for (a, r) in wanted.iter().zip(results) {
        match r {
            Some(Ok(_)) => {}
            Some(Err(e)) => failures.push(e),
            None => failures.push(FetchError::Write {
                what: a.label(),
                error: "a download thread panicked".into(),
            }),
        }
    }
    if failures.is_empty() {
        Ok(wanted.len())
    } else {
        Err(FetchError::Packages {
            total: wanted.len(),
            failures,
        })
    }
}

/// The locked artifacts whose files the store lacks (checked without any network).
pub fn missing_artifacts(artifacts: &[LockedArtifact], store: &Store) -> Vec<LockedArtifact> {
    artifacts
        .iter()
        .filter(|a| !store.contains(Kind::Artifact, &expected(a)))
        .cloned()
        .collect()
}

pub fn expected(a: &LockedArtifact) -> Expected {
    Expected {
        size: a.size,
        sha256: a.sha256,
    }
}
