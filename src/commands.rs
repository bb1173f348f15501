//! The three verbs as the CLI runs them: load inputs, call the library stages, print summaries.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Instant, SystemTime};

use anyhow::Context;

use crate::archive::ArchiveClient;
use crate::archive::locked::verify_locked_packages;

use crate::build::{BuildSettings, OutputFormat};
use crate::cli::{BuildArgs, Common, CompressionArg, FetchArgs, Format, LayeringArg, LockArgs};
use crate::fetch::mirrors::Mirrors;
use crate::fetch::packages::{FetchOptions, check_offline_inputs, fetch_packages};
use crate::fetch::progress;
use crate::fetch::transport::{Transport, TransportConfig};
use crate::lockfile::Lockfile;
use crate::manifest::LoadedManifest;
use crate::oci::Compression;
use crate::store::Store;

/// Where apt sources are read from (`/` on a real machine; tests point it elsewhere).
const APT_ROOT_ENV: &str = "DEBCAST_APT_ROOT";

pub(crate) struct Inputs {
    pub manifest: LoadedManifest,
    pub lock_path: PathBuf,
}

pub(crate) fn load_manifest(common: &Common) -> anyhow::Result<Inputs> {
    let manifest = LoadedManifest::load(&common.manifest)?;
    let lock_path = common
        .lockfile
        .clone()
        .unwrap_or_else(|| manifest.default_lockfile_path());
    Ok(Inputs { manifest, lock_path })
}

pub(crate) fn mirrors(common: &Common) -> anyhow::Result<Mirrors> {
    let env = std::env::var(crate::fetch::mirrors::MIRRORS_ENV).ok();
    let artifact_env = std::env::var(crate::fetch::mirrors::ARTIFACT_MIRRORS_ENV).ok();
    let apt_root = std::env::var_os(APT_ROOT_ENV).map_or_else(|| PathBuf::from("/"), PathBuf::from);
    Ok(
        Mirrors::from_parts(&common.mirrors, env.as_deref(), Some(&apt_root))?
            .with_artifact_rewrites(&common.artifact_mirrors, artifact_env.as_deref())?,
    )
}

pub(crate) fn transport(common: &Common, mirrors: Mirrors) -> Transport {
    if common.offline {
        return Transport::offline();
    }
    Transport::new(mirrors, transport_config(common))
}

/// The transport's defaults, overridden by whatever flags or `DEBCAST_*` variables say.
fn transport_config(common: &Common) -> TransportConfig {
    let d = TransportConfig::default();
    let n = &common.network;
    TransportConfig {
        concurrency: common.jobs.max(1),
        retries: n.retries.unwrap_or(d.retries),
        connect_timeout: n.connect_timeout.unwrap_or(d.connect_timeout),
        stall_timeout: n.stall_timeout.unwrap_or(d.stall_timeout),
        hedge_after: n.hedge_after,
        deadline: n.deadline.unwrap_or(d.deadline),
        backoff_base: n.retry_backoff.unwrap_or(d.backoff_base),
        // The cap must not undercut the base, or the first retry would wait longer than later ones.
        backoff_max: d.backoff_max.max(n.retry_backoff.unwrap_or_default()),
        retry_after_max: n.max_retry_after.unwrap_or(d.retry_after_max),
        ..d
    }
}

/// Installs the remote cache `--remote-cache` names (not offline: offline opens no socket).
fn install_remote(common: &Common) {
    let Some(url) = common.remote.remote_cache.as_deref().filter(|u| !u.is_empty()) else {
        return;
    };
    if common.offline {
        tracing::info!("--offline: the remote cache {url} is not used");
        return;
    }
    let mode = match common.remote.remote_cache_mode {
        crate::cli::RemoteCacheMode::Read => crate::remote::Mode::Read,
        crate::cli::RemoteCacheMode::ReadWrite => crate::remote::Mode::ReadWrite,
    };
    match crate::remote::RemoteCache::new(url, mode, &transport_config(common)) {
        Ok(cache) => crate::remote::install(cache),
        Err(e) => tracing::warn!("remote cache: {e}; building without it"),
    }
}

/// Proves that every package of `packages` is listed, with its pool path, size and SHA-256, in a
/// signed index of a Release the lock names, before anything is fetched or built: the Releases
/// and indices from the store, else (unless `--offline`) from the mirrors. A lockfile edited to
/// point at other bytes stops here, naming the package and the indices expected to list it.
pub(crate) fn verify_lock(
    common: &Common,
    inputs: &Inputs,
    lock: &Lockfile,
    packages: &[crate::lockfile::LockedPackage],
    store: &Store,
) -> anyhow::Result<()> {
    let transport = if common.offline {
        Transport::offline()
    } else {
        let mut mirrors = mirrors(common)?.with_releases(&lock.releases);
        for source in &inputs.manifest.manifest.sources {
            mirrors = mirrors.with_suites(&source.archive, &source.suites);
        }
        transport(common, mirrors)
    };
    let client = ArchiveClient::new(&transport, Some(store), SystemTime::now());
    let started = Instant::now();
    let verified =
        verify_locked_packages(&client, &inputs.manifest, &lock.releases, packages).with_context(|| {
            format!(
                "checking {} against the signed indices of the Releases it names",
                inputs.lock_path.display()
            )
        })?;
    tracing::info!(
        "{} locked package(s) listed in the signed indices ({} Release(s), {} index set(s), {:.2?})",
        verified.packages,
        verified.releases,
        verified.indices,
        started.elapsed()
    );
    Ok(())
}

fn load_lock(inputs: &Inputs) -> anyhow::Result<Lockfile> {
    Ok(Lockfile::load_for(
        &inputs.lock_path,
        &inputs.manifest.manifest,
        &inputs.manifest.path,
    )?)
}

pub fn lock(args: LockArgs) -> anyhow::Result<ExitCode> {
    crate::lock::run(args)
}

pub fn fetch(args: FetchArgs) -> anyhow::Result<ExitCode> {
    let inputs = load_manifest(&args.common)?;
    let lock = load_lock(&inputs)?;
    if args.common.offline {
        let store = Store::at(&args.common.cache_dir);
        // What the store lacks first (every missing package and artifact named), then the proof.
        check_offline_inputs(&lock.packages, &lock.artifacts, &store, &inputs.manifest.path)?;
        verify_lock(&args.common, &inputs, &lock, &lock.packages, &store)?;
        tracing::info!(
            "all {} locked packages and {} artifacts are in {}",
            lock.packages.len(),
            lock.artifacts.len(),
            store.root().display()
        );
        return Ok(ExitCode::SUCCESS);
    }
    let store = Store::open(&args.common.cache_dir)?;
    let _hold = store.hold(false)?;
    reclaim_in_store(&store);
    install_remote(&args.common);
    verify_lock(&args.common, &inputs, &lock, &lock.packages, &store)?;
    fetch_locked(&args.common, &inputs, &lock, &store)?;
    crate::remote::write_back(&store);
    Ok(ExitCode::SUCCESS)
}

fn fetch_locked(common: &Common, inputs: &Inputs, lock: &Lockfile, store: &Store) -> anyhow::Result<()> {
    fetch_some(common, inputs, lock, &lock.packages, &lock.artifacts, store)
}

fn fetch_some(
    common: &Common,
    inputs: &Inputs,
    lock: &Lockfile,
    packages: &[crate::lockfile::LockedPackage],
    artifacts: &[crate::lockfile::LockedArtifact],
    store: &Store,
) -> anyhow::Result<()> {
    let mirrors = mirrors(common)?.with_releases(&lock.releases);
    let transport = transport(common, mirrors);
    let progress = progress::for_stderr();
    // The progress display prints the summary (once, bars or plain lines).
    fetch_packages(
        packages,
        store,
        &transport,
        &FetchOptions::default(),
        progress.as_ref(),
    )
    .with_context(|| format!("fetching the packages of {}", inputs.lock_path.display()))?;
    if !artifacts.is_empty() {
        let fetched =
            crate::fetch::artifacts::fetch_artifacts(artifacts, store, &transport, progress.as_ref())
                .with_context(|| format!("fetching the artifacts of {}", inputs.lock_path.display()))?;
        tracing::info!(
            "fetched {fetched} artifact(s), {} already present",
            artifacts.len() - fetched.min(artifacts.len())
        );
    }
    Ok(())
}

pub fn build(args: BuildArgs) -> anyhow::Result<ExitCode> {
    let inputs = load_manifest(&args.common)?;
    let lock = load_lock(&inputs)?;
    let manifest = &inputs.manifest.manifest;

    let layering_name = match args.layering {
        Some(LayeringArg::Flat) => Some("flat"),
        Some(LayeringArg::Budget) => Some("budget"),
        None => manifest.image.layering.as_deref(),
    };
    let layering =
        crate::layering::Layering::from_settings(layering_name, args.layers.or(manifest.image.layers))
            .with_context(|| format!("{}: [image] layering", inputs.manifest.path.display()))?;
    let mut only_platform = None;
    let format = match args.format {
        Format::Oci => {
            if let Some(p) = &args.platform {
                only_platform = Some(p.parse().with_context(|| format!("--platform {p}"))?);
            }
            OutputFormat::Oci
        }
        Format::DockerArchive => {
            let platform = match &args.platform {
                Some(p) => p.parse().with_context(|| format!("--platform {p}"))?,
                None => manifest.image.platforms[0].clone(),
            };
            OutputFormat::DockerArchive { platform }
        }
    };
    let compression = match args.compression {
        CompressionArg::Gzip => Compression::Gzip {
            level: args.compression_level.unwrap_or(6),
        },
        CompressionArg::Zstd => Compression::Zstd {
            level: args.compression_level.map_or(3, |l| l as i32),
        },
    };
    let source_date_epoch = match args.source_date_epoch {
        Some(e) => e,
        None => lock
            .source_date_epoch()
            .and_then(|e| u64::try_from(e).ok())
            .unwrap_or(0),
    };

    // Fetch what the store lacks first (or, offline, name all of it and stop): the packages of
    // the platforms this build writes.
    let wanted: Vec<crate::lockfile::LockedPackage> = match (&format, &only_platform) {
        (OutputFormat::DockerArchive { platform }, _) | (OutputFormat::Oci, Some(platform)) => lock
            .packages
            .iter()
            .filter(|p| &p.platform == platform)
            .cloned()
            .collect(),
        (OutputFormat::Oci, None) => lock.packages.clone(),
    };
    let wanted_artifacts: Vec<crate::lockfile::LockedArtifact> = lock
        .artifacts
        .iter()
        .filter(|a| match (&format, &only_platform) {
            (OutputFormat::DockerArchive { platform }, _) | (OutputFormat::Oci, Some(platform)) => {
                &a.platform == platform
            }
            (OutputFormat::Oci, None) => true,
        })
        .cloned()
        .collect();
    // Held until the build is done, so a `store gc` waits for it.
    let mut _hold = None;
    let store = if args.common.offline {
        let store = Store::at(&args.common.cache_dir);
        if store.root().is_dir() {
            _hold = Some(store.hold(false)?);
        }
        check_offline_inputs(&wanted, &wanted_artifacts, &store, &inputs.manifest.path)?;
        verify_lock(&args.common, &inputs, &lock, &wanted, &store)?;
        store
    } else {
        let store = Store::open(&args.common.cache_dir)?;
        _hold = Some(store.hold(false)?);
        reclaim_in_store(&store);
        install_remote(&args.common);
        verify_lock(&args.common, &inputs, &lock, &wanted, &store)?;
        // With a remote cache, the inputs are fetched only if the build needs them: a build whose
        // layers all come from the cache reads no `.deb`.
        if crate::remote::active().is_none() {
            fetch_some(&args.common, &inputs, &lock, &wanted, &wanted_artifacts, &store)?;
        }
        store
    };

    ensure_parent(&args.output)?;
    // What interrupted builds of this output left, unless their process still runs.
    for path in crate::cleanup::reclaim_beside(&args.output).paths {
        tracing::info!("removed {}, left by an interrupted debcast", path.display());
    }
    if !args.common.offline {
        store.record_output(&args.output);
    }
    let settings = BuildSettings {
        output: args.output.clone(),
        format,
        compression,
        source_date_epoch,
        layering,
        layer_cache: !args.no_layer_cache,
        shard: only_platform.as_ref().and_then(|p| {
            // Only a layout of a subset of the manifest's platforms is a shard.
            (manifest.image.platforms.len() > 1)
                .then(|| shard_info(&inputs, p, compression, source_date_epoch, &layering))
        }),
        only_platform,
    };
    let mut built = crate::build::build(manifest, &lock, &store, &settings);
    // Built without its inputs (remote cache on): whatever failed (most likely a `.deb` a layer
    // not in the cache needed), the inputs are fetched and the build runs again, reusing what
    // the first attempt put into the layer cache.
    if crate::remote::active().is_some() && !args.common.offline && built.is_err() {
        tracing::info!("not every layer came from the caches: fetching the inputs");
        fetch_some(&args.common, &inputs, &lock, &wanted, &wanted_artifacts, &store)?;
        built = crate::build::build(manifest, &lock, &store, &settings);
    }
    let summary = built.with_context(|| format!("building {}", inputs.manifest.path.display()))?;
    for image in &summary.images {
        tracing::info!(
            "{}: {} packages ({} decoded), {} layer(s) ({} compressed, {} from the layer cache), {} bytes compressed, manifest {}",
            image.platform,
            image.packages,
            image.packages_decoded,
            image.layers,
            image.layers_compressed,
            image.layers_reused,
            image.compressed_bytes,
            image.manifest_digest
        );
    }
    crate::remote::write_back(&store);
    report_not_emulated(&summary.reports, args.report.as_deref(), build_counts(&summary))?;
    println!("{}", summary.output.display());
    Ok(ExitCode::SUCCESS)
}

/// The build report's counts (field names documented in the README, "Build report"):
/// `counts` for the whole run, `images` per platform.
fn build_counts(summary: &crate::build::BuildSummary) -> serde_json::Value {
    use std::sync::atomic::Ordering;
    let remote = crate::remote::active().map(|r| r.stats()).unwrap_or_default();
    let sum = |f: fn(&crate::build::ImageSummary) -> usize| summary.images.iter().map(f).sum::<usize>();
    let from_cache = sum(|i| i.layers_reused);
    let images: serde_json::Map<String, serde_json::Value> = summary
        .images
        .iter()
        .map(|i| {
            (
                i.platform.to_string(),
                serde_json::json!({
                    "manifest": i.manifest_digest,
                    "packages": i.packages,
                    "packages_decoded": i.packages_decoded,
                    "layers": i.layers,
                    "layers_compressed": i.layers_compressed,
                    "layers_from_cache": i.layers_reused,
                }),
            )
        })
        .collect();
    serde_json::json!({
        "counts": {
            "packages_decoded": sum(|i| i.packages_decoded),
            "layers": sum(|i| i.layers),
            "layers_compressed": sum(|i| i.layers_compressed),
            "layers_from_local_cache": from_cache.saturating_sub(remote.layers_downloaded as usize),
            "layers_from_remote_cache": remote.layers_downloaded,
            "bytes_from_mirrors": crate::fetch::transport::MIRROR_BYTES.load(Ordering::Relaxed),
            "bytes_from_registry": remote.bytes_downloaded,
            "files_from_registry": remote.files_downloaded,
            "remote_cache_skipped": remote.skipped,
        },
        "images": images,
    })
}

/// What a `--platform` layout says about itself for `debcast merge`.
fn shard_info(
    inputs: &Inputs,
    platform: &crate::platform::Platform,
    compression: Compression,
    source_date_epoch: u64,
    layering: &crate::layering::Layering,
) -> crate::oci::merge::ShardInfo {
    let manifest = &inputs.manifest.manifest;
    let lock = std::fs::read(&inputs.lock_path)
        .map(|b| crate::hash::Sha256Digest::of(&b).hex())
        .unwrap_or_default();
    let mut settings = std::collections::BTreeMap::new();
    settings.insert("compression".to_owned(), format!("{compression:?}"));
    settings.insert("source-date-epoch".to_owned(), source_date_epoch.to_string());
    settings.insert("layering".to_owned(), format!("{layering:?}"));
    crate::oci::merge::ShardInfo {
        debcast: env!("CARGO_PKG_VERSION").to_owned(),
        lock,
        ref_name: manifest.ref_name(),
        platforms: manifest.image.platforms.iter().map(ToString::to_string).collect(),
        settings,
        built: vec![platform.to_string()],
    }
}

/// `debcast merge DIR… --output DIR`.
pub fn merge(args: crate::cli::MergeArgs) -> anyhow::Result<ExitCode> {
    ensure_parent(&args.output)?;
    let summary = crate::oci::merge::merge(&args.layouts, &args.output)
        .with_context(|| format!("merging into {}", args.output.display()))?;
    if summary.complete {
        tracing::info!(
            "merged {} platform(s) ({} blobs): {}",
            summary.platforms.len(),
            summary.blobs,
            summary.platforms.join(", ")
        );
    } else {
        tracing::info!(
            "merged {} platform(s) ({} blobs) into a shard: {}; merge it with the others' shards",
            summary.platforms.len(),
            summary.blobs,
            summary.platforms.join(", ")
        );
    }
    println!("{}", args.output.display());
    Ok(ExitCode::SUCCESS)
}

/// Prints a one-line summary of what was not emulated and, with `--report FILE`, writes it all as
/// JSON (`{"platforms": {"linux/amd64": [{"package", "script", "what"}…]}}`), keys sorted.
fn report_not_emulated(
    reports: &[crate::build::PlatformReport],
    file: Option<&Path>,
    counts: serde_json::Value,
) -> anyhow::Result<()> {
    use std::collections::BTreeSet;
    let packages: BTreeSet<&str> = reports
        .iter()
        .flat_map(|r| r.not_emulated.iter().map(|n| n.package.as_str()))
        .collect();
    let effects: usize = reports.iter().map(|r| r.not_emulated.len()).sum();
    if effects == 0 {
        tracing::info!("every maintainer-script effect was emulated");
    } else {
        let hint = if file.is_some() {
            ""
        } else {
            " (--report FILE lists them)"
        };
        tracing::warn!(
            "{effects} maintainer-script effect(s) of {} package(s) not emulated: {}{hint}",
            packages.len(),
            packages.iter().copied().collect::<Vec<_>>().join(", ")
        );
    }
    if let Some(path) = file {
        let platforms: serde_json::Map<String, serde_json::Value> = reports
            .iter()
            .map(|r| {
                let items = r
                    .not_emulated
                    .iter()
                    .map(|n| serde_json::json!({"package": n.package, "script": n.script, "what": n.what}))
                    .collect();
                (r.platform.to_string(), serde_json::Value::Array(items))
            })
            .collect();
        let mut json = serde_json::json!({ "platforms": platforms });
        if let (Some(obj), serde_json::Value::Object(counts)) = (json.as_object_mut(), counts) {
            obj.extend(counts);
        }
        let text = serde_json::to_string_pretty(&json)? + "\n";
        std::fs::write(path, text).with_context(|| format!("writing the report {}", path.display()))?;
    }
    Ok(())
}

/// Removes the store's temporary files that dead debcast processes left.
fn reclaim_in_store(store: &Store) {
    let removed = store.reclaim_leftovers();
    if !removed.is_empty() {
        tracing::info!(
            "removed {} temporary file(s) that interrupted debcast runs left in {}",
            removed.len(),
            store.root().display()
        );
    }
}

/// Creates the output's parent directories (`--output out/static` on a fresh checkout).
fn ensure_parent(output: &Path) -> anyhow::Result<()> {
    if let Some(parent) = output.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).with_context(|| format!("creating {}", parent.display()))?;
    }
    Ok(())
}
