//! Filling the package store from a lockfile, and the offline check that needs no network.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use super::progress::Progress;
pub use super::report::{FetchReport, FetchedFile};
use super::transport::{RemoteFile, Transport, bounded_map};
use super::{Expected, FetchError};
use crate::lockfile::{LockedArtifact, LockedPackage};
use crate::store::{Kind, Presence, Store};
use rayon::prelude::*;

/// Knobs of [`fetch_packages`].
#[derive(Debug, Clone, Default)]
pub struct FetchOptions {
    /// Files in progress are this times [`FILES_PER_REQUEST_SLOT`] (`None`: the transport's
    /// `concurrency`), so files waiting out a backoff or a `Retry-After` do not leave request
    /// slots idle; requests in flight stay bounded by the transport's `concurrency`.
    pub concurrency: Option<usize>,
}

/// Files in progress per request slot. A file between attempts (backing off, honouring
/// `Retry-After`) holds a worker but no request slot; the spare workers keep the slots busy then,
/// so transient faults cost little more than the faulted requests themselves. When it is ready
/// again, its retry gets the next free slot before files that started after it (the transport
/// grants slots by start order), so retries do not pile up at the end of the run.
pub const FILES_PER_REQUEST_SLOT: usize = 8;

struct Wanted<'a> {
    package: &'a LockedPackage,
    expected: Expected,
}

/// Downloads every locked package the store lacks, `options.concurrency` at a time, each
/// streamed into the store and verified against the lock on the way. Files shared by several
/// packages (an `all` package locked for several platforms) are downloaded once.
///
/// Tries every package even when some fail; the error then lists each failure (with every mirror
/// tried and its error). Several processes may fill one store at once.
pub fn fetch_packages(
    packages: &[LockedPackage],
    store: &Store,
    transport: &Transport,
    options: &FetchOptions,
    progress: &dyn Progress,
) -> Result<FetchReport, FetchError> {
    let mut seen = BTreeSet::new();
    let distinct: Vec<&LockedPackage> = packages.iter().filter(|p| seen.insert(p.sha256)).collect();
    // What the store has is verified before it counts as present (a `stat` against the stamp of
    // its last verification, a re-hash when that changed); a damaged entry is downloaded again.
    let presence: Vec<Presence> = distinct
        .par_iter()
        .map(|p| {
            let expected = Expected {
                size: p.size,
                sha256: p.sha256,
            };
            store.presence(Kind::Deb, &expected, &p.label())
        })
        .collect();
    let mut wanted = Vec::new();
    let mut present = 0;
    for (p, presence) in distinct.into_iter().zip(presence) {
        let expected = Expected {
            size: p.size,
            sha256: p.sha256,
        };
        match presence {
            Presence::Intact => present += 1,
            Presence::Missing => wanted.push(Wanted { package: p, expected }),
            Presence::Damaged(e) => {
                tracing::warn!("{e}; downloading it again");
                wanted.push(Wanted { package: p, expected });
            }
        }
    }
    progress.batch(
        wanted.len(),
        wanted.iter().map(|w| w.expected.size).sum(),
        present,
    );

    // Smallest first: every file's first request — where most faults show — goes out early, so
    // the waits a faulted file owes (a backoff, a `Retry-After`, a hedge delay) overlap the large
    // transfers that follow, and the run ends on large transfers, whose faults mostly resume
    // where they broke. Largest first ends on hundreds of small requests instead, and any of
    // them that draws two or three faults in a row sets the end of the run.
    let mut order: Vec<usize> = (0..wanted.len()).collect();
    order.sort_by_key(|&i| wanted[i].expected.size);
    let width = options.concurrency.unwrap_or(transport.config().concurrency);
    let scheduled = bounded_map(wanted.len(), width.saturating_mul(FILES_PER_REQUEST_SLOT), |k| {
        let w = &wanted[order[k]];
        let p = w.package;
        let what = format!("{} ({}/{})", p.label(), p.archive, p.path);
        let file = RemoteFile {
            archive: &p.archive,
            path: &p.path,
            expected: Some(w.expected),
            what: &what,
        };
        transport
            .fetch_into_store(&file, store, Kind::Deb, progress)
            .map(|d| FetchedFile {
                package: p.label(),
                archive: p.archive.clone(),
                path: p.path.clone(),
                bytes: d.bytes,
                mirror: d.mirror,
                retries: d.retries,
                resumed: d.resumed,
                hedges: d.hedges,
            })
    });
    // Back in lock order, so failures are listed as the lock lists them.
    let mut results: Vec<_> = (0..wanted.len()).map(|_| None).collect();
    for (k, r) in scheduled.into_iter().enumerate() {
        results[order[k]] = r;
    }

    let mut report = FetchReport {
        already_present: present,
        ..FetchReport::default()
    };
    let mut failures = Vec::new();
    for slot in results {
        match slot {
            Some(Ok(f)) => {
                report.bytes += f.bytes;
                report.retries += f.retries;
                report.hedges += f.hedges;
                report.fetched.push(f);
            }
            Some(Err(e)) => failures.push(e),
            None => failures.push(FetchError::Write {
                what: "package batch".into(),
                error: "a download thread panicked".into(),
            }),
        }
    }
    report
        .fetched
        .sort_by(|a, b| (&a.archive, &a.path).cmp(&(&b.archive, &b.path)));
    if !failures.is_empty() {
        return Err(FetchError::Packages {
            total: seen.len(),
            failures,
        });
    }
    progress.summary(&report);
    Ok(report)
}

/// The locked packages whose files the store lacks, checked without any network (every one of
/// them, in lock order, so all can be listed at once).
pub fn missing_packages(packages: &[LockedPackage], store: &Store) -> Vec<LockedPackage> {
    packages
        .iter()
        .filter(|p| {
            !store.contains(
                Kind::Deb,
                &Expected {
                    size: p.size,
                    sha256: p.sha256,
                },
            )
        })
        .cloned()
        .collect()
}

/// `--offline` with packages (or artifacts) missing from the store.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "--offline: {} not in the package store {}:{}{}\n  run `debcast fetch {}{}` (with network) to download them",
    missing_counts(packages.len(), artifacts.len()),
    store.display(),
    packages.iter().map(|p| format!("\n  - {} for {} ({}/{}, sha256 {})", p.label(), p.platform, p.archive, p.path, p.sha256)).collect::<String>(),
    artifacts.iter().map(|a| format!("\n  - {} ({}, sha256 {})", a.label(), a.url, a.sha256)).collect::<String>(),
    manifest.display(),
    cache_dir_arg(store)
)]
pub struct MissingPackages {
    pub store: PathBuf,
    pub manifest: PathBuf,
    pub packages: Vec<LockedPackage>,
    pub artifacts: Vec<LockedArtifact>,
}

/// `3 locked package(s) are`, `1 locked package(s) and 2 artifact(s) are`, `2 artifact(s) are`.
fn missing_counts(packages: usize, artifacts: usize) -> String {
    match (packages, artifacts) {
        (p, 0) => format!("{p} locked package(s) are"),
        (0, a) => format!("{a} locked artifact(s) are"),
        (p, a) => format!("{p} locked package(s) and {a} artifact(s) are"),
    }
}

fn cache_dir_arg(store: &Path) -> String {
    if store == Path::new("vendor") {
        String::new()
    } else {
        format!(" --cache-dir {}", store.display())
    }
}

/// For `--offline`: `Ok` if the store has every locked package, else the error naming each
/// missing one and the command that fetches them.
pub fn check_offline(
    packages: &[LockedPackage],
    store: &Store,
    manifest: &Path,
) -> Result<(), MissingPackages> {
    check_offline_inputs(packages, &[], store, manifest)
}

/// [`check_offline`] for packages and artifacts together, so one error names everything missing.
pub fn check_offline_inputs(
    packages: &[LockedPackage],
    artifacts: &[LockedArtifact],
    store: &Store,
    manifest: &Path,
) -> Result<(), MissingPackages> {
    let missing = missing_packages(packages, store);
    let missing_artifacts = super::artifacts::missing_artifacts(artifacts, store);
    if missing.is_empty() && missing_artifacts.is_empty() {
        return Ok(());
    }
    Err(MissingPackages {
        store: store.root().to_owned(),
        manifest: manifest.to_owned(),
        packages: missing,
        artifacts: missing_artifacts,
    })
}
