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
    /// `None`: not downloaded (see [`pin_artifact`]).
    pub size: Option<u64>,
    pub sha256: Sha256Digest,
    /// Whether it was downloaded (rather than found in the store).
    pub downloaded: bool,
}

/// Pins `artifact`'s URL for a lock: its size and SHA-256. A manifest hash is checked against
/// the bytes (a store entry under that hash is used without downloading); without one, the URL
/// is downloaded once into the store and what arrived is pinned.
///
/// Where the manifest gives the publisher's hash but the URL cannot be reached from here (a
/// locking machine without access to that host), the hash alone is pinned and the reason is
/// returned as `Err` in the second place: the first fetch checks the hash of what arrives.
pub fn pin_artifact(
    artifact: &PlatformArtifact<'_>,
    platform: &Platform,
    store: &Store,
    transport: &Transport,
    progress: &dyn Progress,
) -> Result<(Pinned, Option<String>), FetchError> {
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
                return Ok((
                    Pinned {
                        size: Some(meta.len()),
                        sha256: want,
                        downloaded: false,
                    },
                    None,
                ));
            }
        }
    }
    let got = match (
        transport.fetch_artifact_into_store(artifact.url, None, &what, store, progress),
        artifact.sha256,
    ) {
        (Ok(got), _) => got,
        (Err(e @ (FetchError::AllMirrorsFailed { .. } | FetchError::Deadline { .. })), Some(sha256)) => {
            let pinned = Pinned {
                size: None,
                sha256,
                downloaded: false,
            };
            return Ok((pinned, Some(e.to_string())));
        }
        (Err(e), _) => return Err(e),
    };
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
    Ok((
        Pinned {
            size: Some(got.bytes),
            sha256: got.sha256,
            downloaded: true,
        },
        None,
    ))
}

/// Downloads every locked artifact the store lacks, verified against the lock while streaming
/// (or, for one pinned by hash alone, checked once it arrived). Returns how many were
/// downloaded; the error lists every artifact that failed.
pub fn fetch_artifacts(
    artifacts: &[LockedArtifact],
    store: &Store,
    transport: &Transport,
    progress: &dyn Progress,
) -> Result<usize, FetchError> {
    // One download per distinct file (an architecture-independent artifact serves every platform).
    let mut wanted: BTreeMap<Sha256Digest, &LockedArtifact> = BTreeMap::new();
    for a in artifacts {
        if !present(a, store) {
            wanted.entry(a.sha256).or_insert(a);
        }
    }
    let wanted: Vec<&LockedArtifact> = wanted.into_values().collect();
    let width = transport.config().concurrency;
    let results = bounded_map(wanted.len(), width, |i| {
        let a = wanted[i];
        let what = format!("{} ({})", a.label(), a.url);
        let expected = a.size.map(|size| Expected {
            size,
            sha256: a.sha256,
        });
        let got = transport.fetch_artifact_into_store(&a.url, expected, &what, store, progress)?;
        if got.sha256 != a.sha256 {
            // Only possible without a size to stream against: stored under its own hash, which
            // nothing pins.
            let _ = std::fs::remove_file(store.path(Kind::Artifact, &got.sha256));
            return Err(FetchError::ArtifactHash {
                what,
                expected: a.sha256,
                actual: got.sha256,
                size: got.bytes,
            });
        }
        Ok(got)
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

/// Whether the store has a locked artifact (of the locked size, where the lock knows it; its
/// hash was checked on insertion and is checked again before a build uses it).
fn present(a: &LockedArtifact, store: &Store) -> bool {
    match a.size {
        // Re-hashed unless its stat data is what it was when it last verified: a damaged entry
        // counts as missing and is downloaded again.
        Some(_) => matches!(
            store.presence(Kind::Artifact, &expected_in(a, store), &a.label()),
            crate::store::Presence::Intact
        ),
        None => std::fs::metadata(store.path(Kind::Artifact, &a.sha256)).is_ok_and(|m| m.is_file()),
    }
}

/// The locked artifacts whose files the store lacks (checked without any network).
pub fn missing_artifacts(artifacts: &[LockedArtifact], store: &Store) -> Vec<LockedArtifact> {
    artifacts.iter().filter(|a| !present(a, store)).cloned().collect()
}

/// What a store entry of `a` must be: the locked size and hash (for one pinned by hash alone,
/// the entry's own size, which the hash then decides).
pub fn expected_in(a: &LockedArtifact, store: &Store) -> Expected {
    let size = a
        .size
        .unwrap_or_else(|| std::fs::metadata(store.path(Kind::Artifact, &a.sha256)).map_or(0, |m| m.len()));
    Expected {
        size,
        sha256: a.sha256,
    }
}
