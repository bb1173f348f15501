//! Proof that a lock's packages are the archive's: every locked package (name, version,
//! architecture, pool path, size, SHA-256) must be listed in a signed index of a Release the lock
//! names. Without it, one edited `[[package]]` in a lockfile (another `.deb` under the same name
//! and version, with its own size and hash) would be fetched, verified against itself and built:
//! the chain "InRelease signature -> index hash -> package hash" would end at the lockfile.
//!
//! The Releases come from the store (`lock` keeps the signed files it verified), else from the
//! mirrors; the indices from the store by hash, else from the mirrors by hash. Offline, what the
//! store lacks is an error naming it.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt::Write as _;

use super::{ArchiveClient, ArchiveError, PackageRecord, SuiteRelease};
use crate::hash::Sha256Digest;
use crate::lockfile::{LockedPackage, LockedRelease};
use crate::manifest::{LoadedManifest, Source};
use crate::platform::Platform;

#[derive(Debug, thiserror::Error)]
pub enum LockTrustError {
    #[error(transparent)]
    Archive(#[from] ArchiveError),
    #[error(
        "package {package} ({platform}) is from archive `{archive}`, which no [[source]] of {manifest} names: run `debcast lock {manifest}`"
    )]
    NoSource {
        package: String,
        platform: String,
        archive: String,
        manifest: String,
    },
    #[error(
        "package {package} ({platform}) is from archive `{archive}`, but the lock names no Release of `{archive}` to check it against: run `debcast lock {manifest}`"
    )]
    NoRelease {
        package: String,
        platform: String,
        archive: String,
        manifest: String,
    },
    #[error(
        "the lock names a Release of `{archive}` suite `{suite}`, which no [[source]] of {manifest} lists (an edited lockfile, or a manifest changed since): run `debcast lock {manifest}`"
    )]
    SuiteNotInManifest {
        archive: String,
        suite: String,
        manifest: String,
    },
    #[error(
        "the lock gives the Release of `{archive}` suite `{suite}` the date `{locked}`, but the signed Release says `{signed}` (an edited lockfile?): run `debcast lock {manifest}`"
    )]
    ReleaseDate {
        archive: String,
        suite: String,
        locked: String,
        signed: String,
        manifest: String,
    },
    #[error(
        "{} locked package(s) are not listed with their pool path, size and SHA-256 in any signed index of the Releases the lock names (an edited or forged lockfile?); refusing them:{}{}",
        .packages.len(),
        .packages.iter().map(|p| format!("\n  - {p}")).collect::<String>(),
        .notes.iter().map(|n| format!("\n  note: {n}")).collect::<String>()
    )]
    Unlisted {
        packages: Vec<Unlisted>,
        /// Why some Release could not be the one the lock names.
        notes: Vec<String>,
    },
}

/// A locked package no signed index lists as locked.
#[derive(Debug, Clone)]
pub struct Unlisted {
    pub package: String,
    pub platform: String,
    pub path: String,
    pub size: u64,
    pub sha256: Sha256Digest,
    /// The indices that were expected to list it (`debian/bookworm/main/binary-amd64`).
    pub expected_in: Vec<String>,
    /// What those indices list under the same name, version and architecture, if anything.
    pub listed_as: Option<String>,
}

impl std::fmt::Display for Unlisted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} for {}: {}, {} bytes, SHA-256 {}: expected in {}",
            self.package,
            self.platform,
            self.path,
            self.size,
            self.sha256,
            self.expected_in.join(" or ")
        )?;
        match &self.listed_as {
            Some(listed) => write!(f, ", which list it as {listed}"),
            None => write!(f, ", which do not list that name, version and architecture"),
        }
    }
}

/// What was checked, and the index records that list the locked packages.
#[derive(Debug, Clone)]
pub struct Verified {
    pub packages: usize,
    pub releases: usize,
    pub indices: usize,
    /// Per platform, the record of each locked package as the signed index lists it (its
    /// relationships included): what the set's own consistency is checked with.
    pub records: BTreeMap<Platform, Vec<PackageRecord>>,
}

/// One locked Release, loaded and verified again.
struct Loaded<'a> {
    source: &'a Source,
    release: SuiteRelease,
    /// Set when the store and the mirrors no longer have the Release the lock names, and the
    /// suite's current one stood in for it.
    gone: Option<ArchiveError>,
}

/// Checks that every package of `packages` is listed, with its pool path, size and SHA-256, in
/// a signed `Packages` index (for its platform's architecture) of one of the lock's Releases of
/// its archive. See the module documentation.
pub fn verify_locked_packages(
    client: &ArchiveClient<'_>,
    manifest: &LoadedManifest,
    releases: &[LockedRelease],
    packages: &[LockedPackage],
) -> Result<Verified, LockTrustError> {
    let manifest_name = manifest.path.display().to_string();
    // Each Release the lock names must be of a suite the manifest lists: the indices of another
    // suite of the same archive (backports) would otherwise vouch for packages the manifest
    // never allows.
    for r in releases {
        let listed = manifest
            .manifest
            .sources
            .iter()
            .any(|s| s.archive == r.archive && s.suites.contains(&r.suite));
        if !listed {
            return Err(LockTrustError::SuiteNotInManifest {
                archive: r.archive.clone(),
                suite: r.suite.clone(),
                manifest: manifest_name,
            });
        }
    }
    // The Releases each archive's packages are checked against, and the architectures asked.
    let mut wanted_releases: BTreeSet<&LockedRelease> = BTreeSet::new();
    let mut arches: BTreeMap<&str, BTreeSet<&'static str>> = BTreeMap::new();
    for p in packages {
        let of_archive: Vec<&LockedRelease> = releases.iter().filter(|r| r.archive == p.archive).collect();
        if of_archive.is_empty() {
            return Err(LockTrustError::NoRelease {
                package: p.label(),
                platform: p.platform.to_string(),
                archive: p.archive.clone(),
                manifest: manifest_name,
            });
        }
        if !manifest.manifest.sources.iter().any(|s| s.archive == p.archive) {
            return Err(LockTrustError::NoSource {
                package: p.label(),
                platform: p.platform.to_string(),
                archive: p.archive.clone(),
                manifest: manifest_name,
            });
        }
        wanted_releases.extend(of_archive);
        arches
            .entry(p.archive.as_str())
            .or_default()
            .insert(p.platform.debian_arch());
    }
    // The others too: each Release's date counts (the image's default SOURCE_DATE_EPOCH), so
    // every one the lock names is checked against the signed file.
    wanted_releases.extend(releases);
    let wanted_releases: Vec<(&LockedRelease, &Source)> = wanted_releases
        .into_iter()
        .map(|r| {
            let sources = &manifest.manifest.sources;
            let source = sources
                .iter()
                .find(|s| s.archive == r.archive && s.suites.contains(&r.suite));
            (r, source)
        })
        .filter_map(|(r, s)| s.map(|s| (r, s)))
        .collect();

    // The Releases side by side (each may be a round trip to a mirror), first error in order.
    let loaded: Vec<Result<Loaded<'_>, ArchiveError>> = std::thread::scope(|scope| {
        let handles: Vec<_> = wanted_releases
            .iter()
            .map(|&(locked, source)| {
                scope.spawn(move || {
                    client
                        .load_locked_release(source, &manifest.keyring_path(source), locked)
                        .map(|(release, gone)| Loaded {
                            source,
                            release,
                            gone,
                        })
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_else(|e| std::panic::resume_unwind(e)))
            .collect()
    });
    let loaded: Vec<Loaded<'_>> = loaded.into_iter().collect::<Result<_, _>>()?;
    // The date the lock records is the signed Release's (a stand-in for a Release the mirrors
    // no longer have cannot vouch for it: that is warned about below).
    for (l, (locked, _)) in loaded.iter().zip(&wanted_releases) {
        if l.gone.is_none() && l.release.locked.date != locked.date {
            return Err(LockTrustError::ReleaseDate {
                archive: locked.archive.clone(),
                suite: locked.suite.clone(),
                locked: locked.date.clone(),
                signed: l.release.locked.date.clone(),
                manifest: manifest_name,
            });
        }
    }

    // Only the records of locked names are kept: a few hundred out of tens of thousands.
    let names: BTreeSet<&str> = packages.iter().map(|p| p.name.as_str()).collect();
    type ByKey = HashMap<(String, String, String), Vec<PackageRecord>>;
    let jobs: Vec<(&Loaded<'_>, &'static str)> = loaded
        .iter()
        .flat_map(|l| {
            arches
                .get(l.source.archive.as_str())
                .into_iter()
                .flatten()
                .map(move |arch| (l, *arch))
        })
        .collect();
    let read: Vec<Result<Vec<_>, ArchiveError>> = std::thread::scope(|scope| {
        let handles: Vec<_> = jobs
            .iter()
            .map(|&(l, arch)| {
                let names = &names;
                scope.spawn(move || {
                    client.load_packages_where(l.source, &l.release, arch, &|name| names.contains(name))
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_else(|e| std::panic::resume_unwind(e)))
            .collect()
    });
    // (archive, arch) -> (name, version, architecture) -> listings.
    let mut listed: HashMap<(&str, &str), ByKey> = HashMap::new();
    for ((l, arch), records) in jobs.iter().zip(read) {
        let by_key = listed.entry((l.source.archive.as_str(), arch)).or_default();
        for r in records? {
            by_key
                .entry((r.name.clone(), r.version.clone(), r.architecture.clone()))
                .or_default()
                .push(r);
        }
    }

    let mut unlisted = Vec::new();
    let mut matched: BTreeMap<Platform, Vec<PackageRecord>> = BTreeMap::new();
    for p in packages {
        let arch = p.platform.debian_arch();
        let listings = listed
            .get(&(p.archive.as_str(), arch))
            .and_then(|m| m.get(&(p.name.clone(), p.version.clone(), p.architecture.clone())));
        let found = listings.and_then(|ls| {
            ls.iter()
                .find(|r| r.filename == p.path && r.size == p.size && r.sha256 == p.sha256)
        });
        if let Some(record) = found {
            matched
                .entry(p.platform.clone())
                .or_default()
                .push(record.clone());
            continue;
        }
        let expected_in = loaded
            .iter()
            .filter(|l| l.source.archive == p.archive)
            .flat_map(|l| {
                l.source.components.iter().map(move |c| {
                    format!(
                        "{}/{}/{c}/binary-{arch} (Release SHA-256 {})",
                        l.source.archive,
                        l.release.locked.suite,
                        l.release.locked.sha256.map(|s| s.to_string()).unwrap_or_default()
                    )
                })
            })
            .collect();
        let listed_as = listings.and_then(|ls| ls.first()).map(|r| {
            let mut s = String::new();
            let _ = write!(s, "{}, {} bytes, SHA-256 {}", r.filename, r.size, r.sha256);
            s
        });
        unlisted.push(Unlisted {
            package: p.label(),
            platform: p.platform.to_string(),
            path: p.path.clone(),
            size: p.size,
            sha256: p.sha256,
            expected_in,
            listed_as,
        });
    }
    let notes: Vec<String> = loaded
        .iter()
        .filter_map(|l| l.gone.as_ref())
        .map(|g| format!("{g}; its packages were looked for in the suite's current Release instead"))
        .collect();
    if !unlisted.is_empty() {
        return Err(LockTrustError::Unlisted {
            packages: unlisted,
            notes,
        });
    }
    for note in &notes {
        tracing::warn!("{note}");
    }
    Ok(Verified {
        packages: packages.len(),
        releases: loaded.len(),
        indices: jobs.len(),
        records: matched,
    })
}
