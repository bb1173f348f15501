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

use super::{Inputs, load_manifest, mirrors, transport, verify_lock};
use crate::archive::{ArchiveClient, PackageRecord, SuiteRelease};
use crate::cli::LockArgs;
use crate::lockfile::{LockedArtifact, LockedPackage, LockedRelease, Lockfile};
use crate::manifest::{LoadedManifest, Source};
use crate::platform::Platform;
use crate::resolve::{Request, Universe, resolve};
use crate::store::Store;
use crate::text::escape;

/// `lock --check`: the lockfile is stale or missing.
const EXIT_STALE: u8 = 2;
/// `lock --check`: the lock is fresh and proven, but newer candidates exist.
const EXIT_UPDATES: u8 = 3;

pub fn run(args: LockArgs) -> anyhow::Result<ExitCode> {
    refuse_stray(&args)?;
    let inputs = load_manifest(&args.common)?;
    let manifest = &inputs.manifest;
    let (existing, existing_text) = read_existing(&inputs.lock_path)?.unzip();
    let mode = &args.mode;

    if mode.check {
        return check(&args, &inputs, existing.zip(existing_text));
    }

    // A lock that does not record its Releases' hashes (an older debcast's) cannot be checked
    // against them: it is re-resolved, keeping its pins, to record them.
    let fresh = existing.as_ref().is_some_and(|l| {
        l.check_fresh(&manifest.manifest, &inputs.lock_path, &manifest.path)
            .is_ok()
            && l.releases.iter().all(|r| r.sha256.is_some())
    });
    if let Some(names) = mode.update.as_ref().filter(|n| !n.is_empty()) {
        check_update_names(names, existing.as_ref(), &inputs)?;
    }
    if fresh && mode.update.is_none() {
        say(format_args!(
            "{} is up to date; `--update` moves packages to newer versions (`--check` says whether there are any)",
            inputs.lock_path.display()
        ));
        if let Some(lock) = &existing {
            say(sbom_line(lock));
        }
        return Ok(ExitCode::SUCCESS);
    }

    let (lock, platforms) = relock(&args.common, &inputs, existing.as_ref(), mode.update.as_deref())?;
    crate::preflight::check_new_lock(manifest, &inputs.lock_path, &lock)?;
    lock.write(&inputs.lock_path)?;
    let store = Store::at(&args.common.cache_dir);
    let old = existing.as_ref().zip(existing_text.as_deref());
    print_changes(&args.common, &inputs, old, &lock, &store, true);
    say(format_args!(
        "wrote {} ({} packages)",
        inputs.lock_path.display(),
        lock.packages.len()
    ));
    say(sbom_line(&lock));
    // Pins kept (all of them, or all but the named): say what they hold back.
    let kept_pins = existing.is_some() && mode.update.as_ref().is_none_or(|n| !n.is_empty());
    if kept_pins && tracing::enabled!(tracing::Level::INFO) {
        let newer = super::lock_updates::newer_candidates(&lock, manifest, &platforms);
        super::lock_updates::print_newer(&newer, "`debcast lock --update` moves them");
    }
    Ok(ExitCode::SUCCESS)
}

/// A line of `lock`'s report on stderr; `-q` (only errors) silences it.
fn say(line: impl std::fmt::Display) {
    if tracing::enabled!(tracing::Level::INFO) {
        eprintln!("{line}");
    }
}

/// What the SBOMs of this lock's images will list, as far as the lock knows.
fn sbom_line(lock: &Lockfile) -> String {
    crate::sbom::summary::line(
        &crate::sbom::summary::of_lock(lock),
        "made by `debcast build` (with source packages and licenses from the .debs)",
    )
}

/// Resolves the manifest as `lock` does: keeping every pin of `existing` that still fits, none
/// (`update` empty: `--update`), or all but the named (`--update=PKG,…`). Returns the new lock
/// and every platform's index records.
#[allow(clippy::type_complexity)]
fn relock(
    common: &crate::cli::Common,
    inputs: &Inputs,
    existing: Option<&Lockfile>,
    update: Option<&[String]>,
) -> anyhow::Result<(Lockfile, Vec<(Platform, Vec<PackageRecord>)>)> {
    let manifest = &inputs.manifest;
    // Which pins to keep: all of them, none (`--update`), or all but the named (`--update=PKG,…`).
    let keep: Option<(&Lockfile, BTreeSet<String>)> = match (existing, update) {
        (None, _) => None,
        (Some(_), Some([])) => None,
        (Some(lock), Some(names)) => Some((lock, names.iter().cloned().collect())),
        (Some(lock), None) => Some((lock, BTreeSet::new())),
    };

    let mut mirrors = mirrors(common)?;
    for source in &manifest.manifest.sources {
        mirrors = mirrors.with_suites(&source.archive, &source.suites);
    }
    let transport = transport(common, mirrors);
    let store = Store::open(&common.cache_dir)?;
    let client = ArchiveClient::new(&transport, Some(&store), SystemTime::now());
    let (releases, platforms) = load_indices(&client, manifest)?;

    // Platforms are independent: resolve them side by side.
    let results: Vec<anyhow::Result<Vec<LockedPackage>>> = std::thread::scope(|scope| {
        let handles: Vec<_> = platforms
            .iter()
            .map(|(platform, records)| {
                let keep = &keep;
                scope.spawn(move || -> anyhow::Result<Vec<LockedPackage>> {
                    let pins = keep
                        .as_ref()
                        .map(|(lock, unpinned)| pins_for(lock, platform, unpinned));
                    let chosen = resolve_platform(records.clone(), manifest, platform, pins.as_ref())?;
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
    let artifacts = lock_artifacts(manifest, existing, update, &store, &transport)?;
    let lock = Lockfile::new(
        &manifest.manifest,
        releases.into_values().collect(),
        locked,
        artifacts,
    );
    Ok((lock, platforms))
}

/// `debcast lock --update NAME MANIFEST` would take the manifest for NAME's value with clap's
/// optional values; `--update` takes names only with `=`, so a stray word is refused here.
fn refuse_stray(args: &LockArgs) -> anyhow::Result<()> {
    if args.stray.is_empty() {
        return Ok(());
    }
    let manifest = args.common.manifest.display().to_string();
    let words = args.stray.join(" ");
    let mut names: Vec<&str> = args.stray.iter().map(String::as_str).collect();
    names.insert(0, &manifest);
    let names: Vec<&str> = names.into_iter().filter(|n| !n.ends_with(".toml")).collect();
    anyhow::bail!(
        "`debcast lock` takes one manifest, got `{manifest} {words}`: package names for --update are given as `--update={}` (a bare `--update` moves every package)",
        if names.is_empty() {
            "NAME[,NAME…]".to_owned()
        } else {
            names.join(",")
        }
    )
}

/// Every name `--update=…` gives must be a package or an artifact of the existing lock.
fn check_update_names(names: &[String], existing: Option<&Lockfile>, inputs: &Inputs) -> anyhow::Result<()> {
    let Some(lock) = existing else {
        anyhow::bail!(
            "--update={}: there is no lockfile {} yet to update packages of: run `debcast lock {}` first",
            names.join(","),
            inputs.lock_path.display(),
            inputs.manifest.path.display()
        );
    };
    let known: BTreeSet<&str> = lock
        .packages
        .iter()
        .map(|p| p.name.as_str())
        .chain(lock.artifacts.iter().map(|a| a.name.as_str()))
        .collect();
    let unknown: Vec<&str> = names
        .iter()
        .map(String::as_str)
        .filter(|n| !known.contains(n))
        .collect();
    if !unknown.is_empty() {
        anyhow::bail!(
            "--update: {} not in {} (no locked package or artifact of that name); `debcast lock` adds what the manifest asks for",
            unknown
                .iter()
                .map(|n| format!("`{}`", escape(n)))
                .collect::<Vec<_>>()
                .join(", "),
            inputs.lock_path.display()
        );
    }
    Ok(())
}

/// `lock --check`: fresh (else exit 2), proven against the signed indices of the Releases the
/// lock names (else an error, exit 1), and, unless offline, whether the archives' current
/// indices hold newer candidates for locked packages (exit 3).
fn check(args: &LockArgs, inputs: &Inputs, existing: Option<(Lockfile, String)>) -> anyhow::Result<ExitCode> {
    let manifest = &inputs.manifest;
    let Some((lock, text)) = existing else {
        eprintln!(
            "error: lockfile {} not found: run `debcast lock {}`",
            inputs.lock_path.display(),
            manifest.path.display()
        );
        return Ok(ExitCode::from(EXIT_STALE));
    };
    if let Err(e) = lock.check_fresh(&manifest.manifest, &inputs.lock_path, &manifest.path) {
        eprintln!("error: {}", crate::text::sanitize(&e.to_string()));
        would_change(args, inputs, &lock, &text);
        return Ok(ExitCode::from(EXIT_STALE));
    }
    for platform in &manifest.manifest.image.platforms {
        if lock.packages_for(platform).next().is_none() {
            eprintln!(
                "error: lockfile {} has no packages for {platform}: run `debcast lock {}`",
                inputs.lock_path.display(),
                manifest.path.display()
            );
            return Ok(ExitCode::from(EXIT_STALE));
        }
    }
    // Fresh is not enough: every package must be the archive's (listed, with its hash, in a
    // signed index of the Releases the lock names).
    let store = if args.common.offline {
        Store::at(&args.common.cache_dir)
    } else {
        Store::open(&args.common.cache_dir)?
    };
    verify_lock(&args.common, inputs, &lock, &lock.packages, &store)?;
    eprintln!(
        "{} is up to date with {}",
        inputs.lock_path.display(),
        manifest.path.display()
    );
    if args.common.offline {
        eprintln!("newer candidates not looked for: --offline reads no current index");
        return Ok(ExitCode::SUCCESS);
    }
    let mut mirrors = mirrors(&args.common)?;
    for source in &manifest.manifest.sources {
        mirrors = mirrors.with_suites(&source.archive, &source.suites);
    }
    let transport = transport(&args.common, mirrors);
    let client = ArchiveClient::new(&transport, Some(&store), SystemTime::now());
    let (_, platforms) = load_indices(&client, manifest)?;
    let newer = super::lock_updates::newer_candidates(&lock, manifest, &platforms);
    if newer.is_empty() {
        eprintln!("no locked package has a newer candidate in the signed indices");
        return Ok(ExitCode::SUCCESS);
    }
    super::lock_updates::print_newer(&newer, "`debcast lock --update` moves them");
    Ok(ExitCode::from(EXIT_UPDATES))
}

/// `lock --check` of a stale lock: what `debcast lock` would change, as it would print it (not
/// offline, where no current index is read; not with `-q`). A failure to resolve is a warning:
/// the lock is stale either way.
fn would_change(args: &LockArgs, inputs: &Inputs, old: &Lockfile, old_text: &str) {
    if args.common.offline || !tracing::enabled!(tracing::Level::INFO) {
        return;
    }
    match relock(&args.common, inputs, Some(old), None) {
        Ok((new, _)) => {
            eprintln!("`debcast lock` would change (nothing written):");
            let store = Store::at(&args.common.cache_dir);
            print_changes(&args.common, inputs, Some((old, old_text)), &new, &store, false);
        }
        Err(e) => tracing::warn!(
            "what `debcast lock` would change is not shown: {}",
            crate::text::sanitize(&format!("{e:#}"))
        ),
    }
}

/// The Releases of every suite (downloaded and verified once, for every platform) and every
/// platform's records, with progress on a terminal and one summary line in logs.
#[allow(clippy::type_complexity)]
fn load_indices(
    client: &ArchiveClient<'_>,
    manifest: &LoadedManifest,
) -> anyhow::Result<(
    BTreeMap<(String, String), LockedRelease>,
    Vec<(Platform, Vec<PackageRecord>)>,
)> {
    let started = std::time::Instant::now();
    let wanted: Vec<(&Source, &String)> = manifest
        .manifest
        .sources
        .iter()
        .flat_map(|source| source.suites.iter().map(move |suite| (source, suite)))
        .collect();
    let platforms = &manifest.manifest.image.platforms;
    let progress = super::lock_updates::IndexProgress::new(wanted.len(), wanted.len() * platforms.len());
    // The suites side by side, since a warm lock spends most of its wall time waiting for these.
    let loaded: Vec<anyhow::Result<SuiteRelease>> = std::thread::scope(|scope| {
        let handles: Vec<_> = wanted
            .iter()
            .map(|&(source, suite)| {
                let (client, progress) = (&client, &progress);
                scope.spawn(move || -> anyhow::Result<SuiteRelease> {
                    let r = client.load_release(source, &manifest.keyring_path(source), suite)?;
                    progress.release_done(&format!("{}/{suite}", source.archive));
                    Ok(r)
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
    let results: Vec<anyhow::Result<Vec<PackageRecord>>> = std::thread::scope(|scope| {
        let handles: Vec<_> = platforms
            .iter()
            .map(|platform| {
                let (client, suites, progress) = (&client, &suites, &progress);
                scope.spawn(move || load_platform(client, suites, platform, progress))
            })
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|_| Err(anyhow::anyhow!("an index reading thread panicked")))
            })
            .collect()
    });
    let mut out = Vec::new();
    for (platform, records) in platforms.iter().zip(results) {
        out.push((platform.clone(), records?));
    }
    let records: usize = out.iter().map(|(_, r)| r.len()).sum();
    progress.finish(&format!(
        "read {} Release(s) and their indices for {} platform(s): {records} package records ({:.1?})",
        releases.len(),
        out.len(),
        started.elapsed()
    ));
    Ok((releases, out))
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

/// The existing lock, and its text (the diff's hint needs the bytes a lock update replaces).
fn read_existing(path: &Path) -> anyhow::Result<Option<(Lockfile, String)>> {
    match std::fs::read_to_string(path) {
        Ok(text) => Ok(Some((Lockfile::parse(&text, path)?, text))),
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
    progress: &super::lock_updates::IndexProgress,
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
        progress.index_done(&format!("{}/{} ({arch})", source.archive, release.locked.suite));
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

/// What moved, as `debcast diff OLD NEW` prints it: per platform the packages added, removed and
/// changed, with the changelog entries and CVEs of those whose new `.deb` is already in the
/// store (a lock downloads none); for the others one line on how to see them. A first lock only
/// counts its packages. `written`: the new lock is on disk (else `--check` shows what a lock
/// would change). `-q` prints nothing.
fn print_changes(
    common: &crate::cli::Common,
    inputs: &Inputs,
    old: Option<(&Lockfile, &str)>,
    new: &Lockfile,
    store: &Store,
    written: bool,
) {
    if !tracing::enabled!(tracing::Level::INFO) {
        return;
    }
    let Some((old, old_text)) = old else {
        eprintln!("{} added, 0 removed, 0 changed", new.packages.len());
        return;
    };
    let diff = crate::explain::diff::of_locks_from_store(old, new, store).unwrap_or_else(|e| {
        tracing::warn!("changelogs not read: {e}");
        use crate::explain::diff::{Side, compare};
        compare(&Side::from_lock(old), &Side::from_lock(new))
    });
    eprint!("{}", crate::explain::diff::render_text(&diff));
    let missing = diff.without_changelogs();
    if missing > 0 {
        eprintln!(
            "{}",
            crate::text::sanitize(&changelog_hint(common, inputs, missing, store, old_text, written))
        );
    }
}

/// How to see the changelogs `lock` did not read: `debcast diff` (which fetches the new `.deb`s
/// it lacks) of the lock from before the update, which only a copy or version control still has
/// once the new one is written, and the new one.
fn changelog_hint(
    common: &crate::cli::Common,
    inputs: &Inputs,
    missing: usize,
    store: &Store,
    old_text: &str,
    written: bool,
) -> String {
    let lock = inputs.lock_path.display();
    let manifest = inputs.manifest.path.display();
    let store_opt = if common.cache_dir == Path::new("vendor") {
        String::new()
    } else {
        format!(" --cache-dir {}", common.cache_dir.display())
    };
    let head = format!(
        "changelogs of {missing} changed package(s) not shown: their new .debs are not in {} (a lock downloads none)",
        store.root().display()
    );
    let diff = format!("`debcast diff /tmp/old.lock {lock}{store_opt}` fetches and reads them");
    if !written {
        let lockfile_opt = if inputs.lock_path == inputs.manifest.path.with_extension("lock") {
            String::new()
        } else {
            format!(" --lockfile {lock}")
        };
        return format!(
            "{head}; after `cp {lock} /tmp/old.lock` and `debcast lock {manifest}{store_opt}{lockfile_opt}`, {diff}"
        );
    }
    match git_head_version(&inputs.lock_path).filter(|head| head == old_text.as_bytes()) {
        Some(_) => {
            let (dir, name) = split_path(&inputs.lock_path);
            format!("{head}; after `git{dir} show HEAD:./{name} > /tmp/old.lock`, {diff}")
        }
        None => format!("{head}; {diff}, /tmp/old.lock being a copy of {lock} from before this update"),
    }
}

/// ` -C DIR` (empty for the current directory) and the file name of `path`.
fn split_path(path: &Path) -> (String, String) {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let dir = match path.parent().filter(|p| !p.as_os_str().is_empty()) {
        Some(p) => format!(" -C {}", p.display()),
        None => String::new(),
    };
    (dir, name)
}

/// The bytes of `path` as committed at git's `HEAD`, if `path` is in a git work tree and git
/// answers; only for the hint (never an error).
fn git_head_version(path: &Path) -> Option<Vec<u8>> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = path.file_name()?.to_str()?;
    let out = std::process::Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(["show", &format!("HEAD:./{name}")])
        .stdin(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .output()
        .ok()?;
    out.status.success().then_some(out.stdout)
}
