//! `debcast build`: the image from the lockfile and the package store (fetching what the store
//! lacks first), then the summary and the report of what was not emulated.

use std::path::Path;
use std::process::ExitCode;

use anyhow::Context;

use super::fetch::fetch_some;
use super::{Inputs, load_manifest, reclaim_in_store, verify_lock};
use crate::build::{BuildSettings, OutputFormat};
use crate::cli::{BuildArgs, CompressionArg, Format, LayeringArg};
use crate::oci::Compression;
use crate::store::Store;

pub fn run(args: BuildArgs) -> anyhow::Result<ExitCode> {
    let started = std::time::Instant::now();
    let inputs = load_manifest(&args.common)?;
    let kind = match args.format {
        Format::Oci => crate::preflight::OutputKind::Oci,
        Format::DockerArchive => crate::preflight::OutputKind::DockerArchive,
    };
    let lock = crate::preflight::check_build(&inputs.manifest, &inputs.lock_path, &args.output, kind)?;
    let manifest = &inputs.manifest.manifest;

    let layering_name = match args.layering {
        Some(LayeringArg::Flat) => Some("flat"),
        Some(LayeringArg::Budget) => Some("budget"),
        None => manifest.image.layering.as_deref(),
    };
    // A setting given on the command line is named as such, not as the manifest's.
    let layering_from = match (&args.layering, args.layers) {
        (Some(_), _) | (_, Some(_)) => "--layering/--layers".to_owned(),
        _ => format!("{}: [image] layering", inputs.manifest.path.display()),
    };
    let layering =
        crate::layering::Layering::from_settings(layering_name, args.layers.or(manifest.image.layers))
            .context(layering_from)?;
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
    // A platform the manifest does not build, named before anything is downloaded.
    let chosen = match &format {
        OutputFormat::DockerArchive { platform } => Some(platform),
        OutputFormat::Oci => only_platform.as_ref(),
    };
    if let Some(p) = chosen.filter(|p| !manifest.image.platforms.contains(p)) {
        let known: Vec<String> = manifest.image.platforms.iter().map(ToString::to_string).collect();
        anyhow::bail!(
            "--platform {p}: not among the platforms of {} ({}); {}",
            inputs.manifest.path.display(),
            known.join(", "),
            match format {
                OutputFormat::Oci => "without --platform, an OCI build writes all of them",
                OutputFormat::DockerArchive { .. } => "a docker-archive holds one of them",
            }
        );
    }
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
        super::offline_inputs_and_proof(&args.common, &inputs, &lock, &wanted, &wanted_artifacts, &store)?;
        store
    } else {
        let store = Store::open(&args.common.cache_dir)?;
        _hold = Some(store.hold(false)?);
        reclaim_in_store(&store);
        super::install_remote(&args.common);
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
    // A docker-archive carries no SBOM: make them only when asked to write them out.
    let sbom = !args.no_sbom && (matches!(format, OutputFormat::Oci) || args.sbom.is_some());
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
        sbom,
    };
    let spinner = assembling_progress();
    let mut built = crate::build::build(manifest, &lock, &store, &settings);
    // Built without its inputs (remote cache on): whatever failed (most likely a `.deb` a layer
    // not in the cache needed), the inputs are fetched and the build runs again, reusing what
    // the first attempt put into the layer cache.
    if crate::remote::active().is_some() && !args.common.offline && built.is_err() {
        tracing::info!("not every layer came from the caches: fetching the inputs");
        fetch_some(&args.common, &inputs, &lock, &wanted, &wanted_artifacts, &store)?;
        built = crate::build::build(manifest, &lock, &store, &settings);
    }
    if let Some(bar) = spinner {
        bar.finish_and_clear();
    }
    let summary = built.with_context(|| format!("building {}", inputs.manifest.path.display()))?;
    print_summary(&summary, &args, &manifest.ref_name(), started.elapsed());
    crate::remote::write_back(&store);
    report_not_emulated(&summary.reports, args.report.as_deref(), build_counts(&summary))?;
    if args.no_sbom {
        tracing::info!("SBOM: none (--no-sbom)");
    } else if !sbom {
        tracing::info!("SBOM: none (a docker-archive carries no SBOM; `--sbom DIR` writes them as files)");
    }
    let attached = matches!(args.format, Format::Oci).then_some(args.output.as_path());
    super::sbom::report_sboms(&summary.sboms, args.sbom.as_deref(), attached)?;
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

/// Prints a one-line summary of what was not emulated, counted by kind, and, with `--report FILE`,
/// writes it all as JSON (`{"platforms": {"linux/amd64": [{"package", "script", "what", "kind"}…]},
/// "not_reproduced": {KIND: COUNT…, "total": N}}`), keys sorted.
fn report_not_emulated(
    reports: &[crate::build::PlatformReport],
    file: Option<&Path>,
    counts: serde_json::Value,
) -> anyhow::Result<()> {
    use crate::assemble::system::EffectKind;
    use std::collections::BTreeSet;
    let packages: BTreeSet<&str> = reports
        .iter()
        .flat_map(|r| r.not_emulated.iter().map(|n| n.package.as_str()))
        .collect();
    let effects: usize = reports.iter().map(|r| r.not_emulated.len()).sum();
    let by_kind = |k: EffectKind| {
        reports
            .iter()
            .flat_map(|r| &r.not_emulated)
            .filter(|n| n.kind() == k)
            .count()
    };
    if effects == 0 {
        tracing::info!("every maintainer-script effect was emulated");
    } else {
        let hint = if file.is_some() {
            ""
        } else {
            " (--report FILE lists them)"
        };
        let kinds = EffectKind::ALL
            .iter()
            .map(|k| format!("{} {}", by_kind(*k), k.describe()))
            .collect::<Vec<_>>()
            .join(", ");
        tracing::warn!(
            "{effects} maintainer-script effect(s) of {} package(s) not emulated ({kinds}): {}{hint}",
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
                    .map(|n| {
                        serde_json::json!({
                            "package": n.package,
                            "script": n.script,
                            "what": n.what,
                            "kind": n.kind().as_str(),
                        })
                    })
                    .collect();
                (r.platform.to_string(), serde_json::Value::Array(items))
            })
            .collect();
        let mut not_reproduced: serde_json::Map<String, serde_json::Value> = EffectKind::ALL
            .iter()
            .map(|k| (k.as_str().to_owned(), by_kind(*k).into()))
            .collect();
        not_reproduced.insert("total".into(), effects.into());
        let mut json = serde_json::json!({ "platforms": platforms, "not_reproduced": not_reproduced });
        if let (Some(obj), serde_json::Value::Object(counts)) = (json.as_object_mut(), counts) {
            obj.extend(counts);
        }
        let text = serde_json::to_string_pretty(&json)? + "\n";
        std::fs::write(path, text).with_context(|| format!("writing the report {}", path.display()))?;
    }
    Ok(())
}

/// Creates the output's parent directories (`--output out/static` on a fresh checkout).
pub(super) fn ensure_parent(output: &Path) -> anyhow::Result<()> {
    if let Some(parent) = output.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).with_context(|| format!("creating {}", parent.display()))?;
    }
    Ok(())
}

/// One line per platform, then the line users act on: for OCI the index digest (what a push of
/// the layout's ref uploads and what to pin), for docker-archive the image ID; and the time taken.
/// A docker-archive holds uncompressed layers and no OCI manifest, so neither is reported for it.
fn print_summary(
    summary: &crate::build::BuildSummary,
    args: &BuildArgs,
    ref_name: &str,
    elapsed: std::time::Duration,
) {
    use crate::fetch::progress::human_bytes;
    let docker = matches!(args.format, Format::DockerArchive);
    for image in &summary.images {
        let layers = format!(
            "{} layer(s) ({} compressed, {} from the layer cache)",
            image.layers, image.layers_compressed, image.layers_reused
        );
        if docker {
            tracing::info!(
                "{}: {} packages ({} decoded), {} layer(s), {} of uncompressed layers, image ID {}",
                image.platform,
                image.packages,
                image.packages_decoded,
                image.layers,
                human_bytes(image.compressed_bytes),
                image.config_digest
            );
        } else {
            tracing::info!(
                "{}: {} packages ({} decoded), {layers}, {} compressed, manifest {}",
                image.platform,
                image.packages,
                image.packages_decoded,
                human_bytes(image.compressed_bytes),
                image.manifest_digest
            );
        }
    }
    match &summary.index_digest {
        Some(index) => tracing::info!(
            "built {ref_name} in {}: index {index} ({} platform(s)) in {:.1?}",
            summary.output.display(),
            summary.images.len(),
            elapsed
        ),
        None => tracing::info!(
            "built {ref_name} in {} (docker-archive) in {:.1?}",
            summary.output.display(),
            elapsed
        ),
    }
}

/// On a terminal (with informational output on), a spinner while the build assembles and
/// compresses, with the layers written so far and the time; nothing in logs.
fn assembling_progress() -> Option<indicatif::ProgressBar> {
    use std::io::IsTerminal;
    if !tracing::enabled!(tracing::Level::INFO) || !std::io::stderr().is_terminal() {
        return None;
    }
    let bar = indicatif::ProgressBar::with_draw_target(None, indicatif::ProgressDrawTarget::stderr());
    if let Ok(style) =
        indicatif::ProgressStyle::with_template("{spinner} assembling and compressing: {msg} ({elapsed})")
    {
        bar.set_style(style);
    }
    bar.set_message("0 layer(s) written");
    bar.enable_steady_tick(std::time::Duration::from_millis(120));
    let start = crate::build::LAYERS_WRITTEN.load(std::sync::atomic::Ordering::Relaxed);
    let ticker = bar.clone();
    std::thread::spawn(move || {
        while !ticker.is_finished() {
            let n = crate::build::LAYERS_WRITTEN
                .load(std::sync::atomic::Ordering::Relaxed)
                .saturating_sub(start);
            ticker.set_message(format!("{n} layer(s) written"));
            std::thread::sleep(std::time::Duration::from_millis(200));
        }
    });
    Some(bar)
}
