//! `debcast lock`: resolve the manifest against the signed archives and write the lockfile.
//!
//! Like Cargo: an existing lock that is still fresh is kept as it is; a stale one is re-resolved
//! keeping its pins wherever they still fit; `--update` moves everything (or the named packages)
//! to the newest candidates; `--check` only says whether the lock is fresh.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::ExitCode;
use std::time::SystemTime;

use anyhow::Context;

use crate::archive::{ArchiveClient, PackageRecord, SuiteRelease};
use crate::cli::LockArgs;
use crate::commands::{load_manifest, mirrors, transport, verify_lock};
use crate::lockfile::{LockedArtifact, LockedPackage, LockedRelease, Lockfile};
use crate::manifest::{LoadedManifest, Source};
use crate::platform::Platform;
use crate::resolve::{Request, Universe, resolve};
use crate::store::Store;
use crate::text::escape;

pub fn run(args: LockArgs) -> anyhow::Result<ExitCode> {
    let inputs = load_manifest(&args.common)?;
    let manifest = &inputs.manifest;
    let existing = read_existing(&inputs.lock_path)?;

    if args.check {
        let Some(lock) = existing else {
            anyhow::bail!(
                "lockfile {} not found: run `debcast lock {}`",
                inputs.lock_path.display(),
                manifest.path.display()
            );
        };
        lock.check_fresh(&manifest.manifest, &inputs.lock_path, &manifest.path)?;
        for platform in &manifest.manifest.image.platforms {
            if lock.packages_for(platform).next().is_none() {
                anyhow::bail!(
                    "lockfile {} has no packages for {platform}: run `debcast lock {}`",
                    inputs.lock_path.display(),
                    manifest.path.display()
                );
            }
        }
        // Fresh is not enough: every package must be the archive's (listed, with its hash, in a
        // signed index of the Releases the lock names).
        let store = if args.common.offline {
            Store::at(&args.common.cache_dir)
        } else {
            Store::open(&args.common.cache_dir)?
        };
        verify_lock(&args.common, &inputs, &lock, &lock.packages, &store)?;
        eprintln!(
            "{} is up to date with {}",
            inputs.lock_path.display(),
            manifest.path.display()
        );
        return Ok(ExitCode::SUCCESS);
    }

    // A lock that does not record its Releases' hashes (an older debcast's) cannot be checked
    // against them: it is re-resolved, keeping its pins, to record them.
    let fresh = existing.as_ref().is_some_and(|l| {
        l.check_fresh(&manifest.manifest, &inputs.lock_path, &manifest.path)
            .is_ok()
            && l.releases.iter().all(|r| r.sha256.is_some())
    });
    if fresh && args.update.is_none() {
        eprintln!(
            "{} is up to date; `--update` moves packages to newer versions",
            inputs.lock_path.display()
        );
        return Ok(ExitCode::SUCCESS);
    }

    // Which pins to keep: all of them, none (`--update`), or all but the named (`--update PKG…`).
    let keep: Option<(&Lockfile, BTreeSet<String>)> = match (&existing, &args.update) {
        (None, _) => None,
        (Some(_), Some(names)) if names.is_empty() => None,
        (Some(lock), Some(names)) => Some((lock, names.iter().cloned().collect())),
        (Some(lock), None) => Some((lock, BTreeSet::new())),
    };

    let mut mirrors = mirrors(&args.common)?;
    for source in &manifest.manifest.sources {
        mirrors = mirrors.with_suites(&source.archive, &source.suites);
    }
    let transport = transport(&args.common, mirrors);
    let store = Store::open(&args.common.cache_dir)?;
    let client = ArchiveClient::new(&transport, Some(&store), SystemTime::now());

    // Each suite's Release is downloaded and verified once, for every platform; the suites
    // side by side, since a warm lock spends most of its wall time waiting for these.
    let wanted: Vec<(&Source, &String)> = manifest
        .manifest
        .sources
        .iter()
        .flat_map(|source| source.suites.iter().map(move |suite| (source, suite)))
        .collect();
    let loaded: Vec<anyhow::Result<SuiteRelease>> = std::thread::scope(|scope| {
        let handles: Vec<_> = wanted
            .iter()
            .map(|&(source, suite)| {
                let client = &client;
                scope.spawn(move || -> anyhow::Result<SuiteRelease> {
                    Ok(client.load_release(source, &manifest.keyring_path(source), suite)?)
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|_| Err(anyhow::anyhow!("a Release download thread panicked")))
            })
            .collect()
    });
    let mut suites: Vec<(&Source, SuiteRelease)> = Vec::new();
    let mut releases: BTreeMap<(String, String), LockedRelease> = BTreeMap::new();
    // In the manifest's order, and the first error in that order.
    for ((source, _), release) in wanted.iter().zip(loaded) {
        let release = release?;
        releases.insert(
            (release.locked.archive.clone(), release.locked.suite.clone()),
            release.locked.clone(),
        );
        suites.push((source, release));
    }
    // Platforms are independent: read their indices and resolve them side by side.
    let results: Vec<anyhow::Result<Vec<LockedPackage>>> = std::thread::scope(|scope| {
        let handles: Vec<_> = manifest
            .manifest
            .image
            .platforms
            .iter()
            .map(|platform| {
                let (client, suites, keep) = (&client, &suites, &keep);
                scope.spawn(move || -> anyhow::Result<Vec<LockedPackage>> {
                    let records = load_platform(client, suites, platform)?;
                    let pins = keep
                        .as_ref()
                        .map(|(lock, unpinned)| pins_for(lock, platform, unpinned));
                    let chosen = resolve_platform(records, manifest, platform, pins.as_ref())?;
                    Ok(chosen
                        .into_iter()
                        .map(|r| LockedPackage {
                            platform: platform.clone(),
                            name: r.name,
                            version: r.version,
                            architecture: r.architecture,
                            archive: r.archive,
                            path: r.filename,
                            size: r.size,
                            sha256: r.sha256,
                        })
                        .collect())
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|_| Err(anyhow::anyhow!("a resolver thread panicked")))
            })
            .collect()
    });
    let mut locked = Vec::new();
    for r in results {
        locked.extend(r?);
    }
    let artifacts = lock_artifacts(
        manifest,
        existing.as_ref(),
        args.update.as_deref(),
        &store,
        &transport,
    )?;
    let lock = Lockfile::new(
        &manifest.manifest,
        releases.into_values().collect(),
        locked,
        artifacts,
    );
    crate::preflight::check_new_lock(manifest, &inputs.lock_path, &lock)?;
    lock.write(&inputs.lock_path)?;
    print_diff(existing.as_ref(), &lock);
    eprintln!(
        "wrote {} ({} packages)",
        inputs.lock_path.display(),
        lock.packages.len()
    );
    Ok(ExitCode::SUCCESS)
}

/// Pins every artifact for every platform: an existing pin is kept while the manifest's URL (and
/// hash, if it gives one) still match, unless `--update` names it (or everything); otherwise the
/// URL is pinned afresh (downloaded once into the store, or found there by the manifest's hash).
fn lock_artifacts(
    manifest: &LoadedManifest,
    existing: Option<&Lockfile>,
    update: Option<&[String]>,
    store: &Store,
    transport: &crate::fetch::Transport,
) -> anyhow::Result<Vec<LockedArtifact>> {
    let updating =
        |name: &str| update.is_some_and(|names| names.is_empty() || names.iter().any(|n| n == name));
    let progress = crate::fetch::progress::for_stderr();
    // One pin per URL: the same file for several platforms is downloaded once.
    let mut by_url: BTreeMap<String, crate::fetch::artifacts::Pinned> = BTreeMap::new();
    let mut out = Vec::new();
    for artifact in &manifest.manifest.artifacts {
        for platform in &manifest.manifest.image.platforms {
            let Some(want) = artifact.for_platform(platform) else {
                continue;
            };
            let kept = existing
                .and_then(|l| l.artifact(platform, &artifact.name))
                .filter(|l| {
                    !updating(&artifact.name)
                        && l.url == want.url
                        && want.sha256.is_none_or(|d| d == l.sha256)
                });
            if let Some(l) = kept {
                out.push(l.clone());
                continue;
            }
            let pinned = match by_url.get(want.url) {
                Some(p) => *p,
                None => {
                    let (p, unreachable) = crate::fetch::artifacts::pin_artifact(
                        &want,
                        platform,
                        store,
                        transport,
                        progress.as_ref(),
                    )?;
                    if let Some(why) = unreachable {
                        tracing::warn!(
                            "artifact `{}` for {platform}: pinned by the manifest's sha256 alone, without its size: it could not be downloaded from here ({why}); the first fetch checks it",
                            artifact.name
                        );
                    } else if want.sha256.is_none() {
                        eprintln!(
                            "  pinned artifact `{}` for {platform}: {} ({} bytes, sha256 {}), as downloaded; add `sha256 = \"{}\"` to the manifest to have it checked",
                            artifact.name,
                            want.url,
                            p.size.unwrap_or_default(),
                            p.sha256,
                            p.sha256
                        );
                    }
                    by_url.insert(want.url.to_owned(), p);
                    p
                }
            };
            out.push(LockedArtifact {
                platform: platform.clone(),
                name: artifact.name.clone(),
                url: want.url.to_owned(),
                size: pinned.size,
                sha256: pinned.sha256,
            });
        }
    }
    Ok(out)
}

fn read_existing(path: &Path) -> anyhow::Result<Option<Lockfile>> {
    match std::fs::read_to_string(path) {
        Ok(text) => Ok(Some(Lockfile::parse(&text, path)?)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e).with_context(|| format!("reading {}", path.display())),
    }
}

/// Every record of every suite and component of every source, for one platform, in the
/// manifest's order of sources and suites (apt's order, which decides its tie-breaks).
fn load_platform(
    client: &ArchiveClient<'_>,
    suites: &[(&Source, SuiteRelease)],
    platform: &Platform,
) -> anyhow::Result<Vec<PackageRecord>> {
    let arch = platform.debian_arch();
    let mut records = Vec::new();
    for (source, release) in suites {
        let mut recs = client.load_packages(source, release, arch)?;
        tracing::debug!(
            "{}/{} ({arch}): {} packages",
            source.archive,
            release.locked.suite,
            recs.len()
        );
        records.append(&mut recs);
    }
    Ok(records)
}

/// The locked versions to keep for a platform: name -> version, except the names to update.
fn pins_for(lock: &Lockfile, platform: &Platform, unpinned: &BTreeSet<String>) -> BTreeMap<String, String> {
    lock.packages_for(platform)
        .filter(|p| !unpinned.contains(&p.name))
        .map(|p| (p.name.clone(), p.version.clone()))
        .collect()
}

/// Resolves one platform. With pins, each pinned name is first restricted to its locked version
/// (where the archive still has it), so a lock only moves where the manifest makes it; if that
/// cannot be satisfied, resolution runs again without pins.
fn resolve_platform(
    records: Vec<PackageRecord>,
    manifest: &LoadedManifest,
    platform: &Platform,
    pins: Option<&BTreeMap<String, String>>,
) -> anyhow::Result<Vec<PackageRecord>> {
    let request = Request::from_manifest(&manifest.manifest, platform);
    let arch = platform.debian_arch();
    if let Some(pins) = pins.filter(|p| !p.is_empty()) {
        let available: BTreeSet<(&str, &str)> = records
            .iter()
            .map(|r| (r.name.as_str(), r.version.as_str()))
            .collect();
        let pinned: Vec<PackageRecord> = records
            .iter()
            .filter(|r| match pins.get(&r.name) {
                Some(v) if available.contains(&(r.name.as_str(), v.as_str())) => &r.version == v,
                _ => true,
            })
            .cloned()
            .collect();
        match resolve(
            &Universe::new(pinned, arch).without_dependencies(&request.no_depends),
            &request,
        ) {
            Ok(resolution) => return Ok(resolution.packages.into_iter().map(|p| p.record).collect()),
            Err(e) => tracing::info!("{platform}: the locked versions no longer fit ({e}); resolving afresh"),
        }
    }
    let resolution = resolve(
        &Universe::new(records, arch).without_dependencies(&request.no_depends),
        &request,
    )
    .with_context(|| {
        format!(
            "resolving the packages of {} for {platform}",
            manifest.path.display()
        )
    })?;
    Ok(resolution.packages.into_iter().map(|p| p.record).collect())
}

/// What moved: added, removed and changed versions, per platform.
fn print_diff(old: Option<&Lockfile>, new: &Lockfile) {
    let index = |lock: &Lockfile| -> BTreeMap<(String, String), String> {
        lock.packages
            .iter()
            .map(|p| ((p.platform.to_string(), p.name.clone()), p.version.clone()))
            .collect()
    };
    let before = old.map(index).unwrap_or_default();
    let after = index(new);
    let (mut added, mut removed, mut changed) = (0, 0, 0);
    for (key, version) in &after {
        match before.get(key) {
            None => {
                added += 1;
                if old.is_some() {
                    eprintln!("  + {} {} ({})", escape(&key.1), escape(version), key.0);
                }
            }
            Some(v) if v != version => {
                changed += 1;
                eprintln!(
                    "  ~ {} {} -> {} ({})",
                    escape(&key.1),
                    escape(v),
                    escape(version),
                    key.0
                );
            }
            Some(_) => {}
        }
    }
    for (key, version) in &before {
        if !after.contains_key(key) {
            removed += 1;
            eprintln!("  - {} {} ({})", escape(&key.1), escape(version), key.0);
        }
    }
    eprintln!("{added} added, {removed} removed, {changed} changed");
}
