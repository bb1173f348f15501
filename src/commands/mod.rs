//! The verbs as the CLI runs them, one file each ([`lock`], [`fetch`], [`build`], [`store`]):
//! load inputs, call the library stages, print summaries. This module holds what they share
//! (loading the manifest, the mirrors and transport, the lock's proof) and the entry point that
//! sets up logging and turns errors into messages and exit codes. The only place that uses
//! `anyhow`; nothing below it imports `cli` or `commands`.

mod build;
mod diff;
mod explain;
mod fetch;
mod lock;
mod lock_updates;
mod merge;
mod sbom;
mod store;
mod why;

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Instant, SystemTime};

use anyhow::Context;

use crate::archive::ArchiveClient;
use crate::archive::locked::verify_locked_packages;
use crate::cli::{Cli, Command, Common, StoreCommand};
use crate::fetch::mirrors::Mirrors;
use crate::fetch::transport::{Transport, TransportConfig};
use crate::lockfile::Lockfile;
use crate::manifest::LoadedManifest;
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
pub(super) fn install_remote(common: &Common) {
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
) -> anyhow::Result<LockedRecords> {
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
    // Each one the archive's is not enough: together they must be what the manifest resolves to.
    for (platform, records) in &verified.records {
        let request = crate::resolve::Request::from_manifest(&inputs.manifest.manifest, platform);
        crate::resolve::check_locked_set(records, platform, &request).with_context(|| {
            format!(
                "checking {} against what {} resolves to: run `debcast lock {}`",
                inputs.lock_path.display(),
                inputs.manifest.path.display(),
                inputs.manifest.path.display()
            )
        })?;
    }
    tracing::info!(
        "{} locked package(s) listed in the signed indices and resolved from the manifest ({} Release(s), {} index set(s), {:.2?})",
        verified.packages,
        verified.releases,
        verified.indices,
        started.elapsed()
    );
    Ok(verified.records)
}

/// Per platform, the signed index record of each locked package (see [`verify_lock`]).
pub(crate) type LockedRecords =
    std::collections::BTreeMap<crate::platform::Platform, Vec<crate::archive::PackageRecord>>;

/// Offline, what the store lacks first (every missing package and artifact named, with the
/// `debcast fetch` that brings them), then the proof of the lock. A lock edited by hand names
/// bytes no store holds: when the proof fails for that reason (a package no signed index lists,
/// a Release or set the manifest does not give), its error comes first, not an invitation to
/// fetch what was forged.
pub(crate) fn offline_inputs_and_proof(
    common: &Common,
    inputs: &Inputs,
    lock: &Lockfile,
    packages: &[crate::lockfile::LockedPackage],
    artifacts: &[crate::lockfile::LockedArtifact],
    store: &Store,
) -> anyhow::Result<()> {
    if let Err(missing) =
        crate::fetch::packages::check_offline_inputs(packages, artifacts, store, &inputs.manifest.path)
    {
        if let Err(proof) = verify_lock(common, inputs, lock, packages, store) {
            let forged = proof.chain().any(|e| {
                e.downcast_ref::<crate::resolve::LockedSetError>().is_some()
                    || e.downcast_ref::<crate::archive::locked::LockTrustError>()
                        .is_some_and(|t| !matches!(t, crate::archive::locked::LockTrustError::Archive(_)))
            });
            if forged {
                return Err(proof);
            }
        }
        return Err(missing.into());
    }
    verify_lock(common, inputs, lock, packages, store).map(drop)
}

pub(crate) fn load_lock(inputs: &Inputs) -> anyhow::Result<Lockfile> {
    Ok(Lockfile::load_for(
        &inputs.lock_path,
        &inputs.manifest.manifest,
        &inputs.manifest.path,
    )?)
}

/// Removes the store's temporary files that dead debcast processes left.
pub(crate) fn reclaim_in_store(store: &Store) {
    let removed = store.reclaim_leftovers();
    if !removed.is_empty() {
        tracing::info!(
            "removed {} temporary file(s) that interrupted debcast runs left in {}",
            removed.len(),
            store.root().display()
        );
    }
}

/// Runs the parsed command line: logging, the signal handler, the verb; an error becomes one
/// `error: ` line and exit code 1.
pub fn main(cli: Cli) -> ExitCode {
    init_logging(cli.verbose, cli.quiet);
    // SIGINT/SIGTERM remove this process's temporary files and exit with one line.
    if let Err(e) = crate::cleanup::install_signal_handler() {
        tracing::warn!(
            "no SIGINT/SIGTERM handler ({e}): an interrupted run leaves temporary files for the next one to reclaim"
        );
    }
    match run(cli) {
        Ok(code) => code,
        Err(err) => {
            eprintln!("error: {}", crate::text::sanitize(&error_chain(&err)));
            ExitCode::FAILURE
        }
    }
}

/// The error and its causes, `: `-separated, skipping a cause whose text the message before it
/// already includes (library errors name their source in their own message).
fn error_chain(err: &anyhow::Error) -> String {
    let mut out = String::new();
    for cause in err.chain() {
        let text = cause.to_string();
        if !out.contains(&text) {
            if !out.is_empty() {
                out.push_str(": ");
            }
            out.push_str(&text);
        }
    }
    out
}

fn init_logging(verbose: u8, quiet: bool) {
    let default = match (quiet, verbose) {
        (true, _) => "error",
        (false, 0) => "info",
        (false, 1) => "debug",
        (false, _) => "trace",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(format!("debcast={default},warn")));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .without_time()
        .init();
}

fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let places = match &cli.command {
        Command::Lock(a) => explain::Places {
            output: None,
            store: Some(a.common.cache_dir.clone()),
        },
        Command::Fetch(a) => explain::Places {
            output: None,
            store: Some(a.common.cache_dir.clone()),
        },
        Command::Build(a) => explain::Places {
            output: Some(a.output.clone()),
            store: Some(a.common.cache_dir.clone()),
        },
        Command::Store(_) | Command::Why(_) => explain::Places::default(),
        Command::Merge(a) => explain::Places {
            output: Some(a.output.clone()),
            store: None,
        },
        Command::Diff(a) => explain::Places {
            output: None,
            store: Some(a.cache_dir.clone()),
        },
    };
    let result = match cli.command {
        Command::Lock(args) => lock::run(args),
        Command::Fetch(args) => fetch::run(args),
        Command::Build(args) => build::run(args),
        Command::Store(StoreCommand::Verify(args)) => store::verify(args),
        Command::Store(StoreCommand::Gc(args)) => store::gc(args),
        Command::Diff(args) => diff::run(args),
        Command::Why(args) => why::run(args),
        Command::Merge(args) => merge::run(args),
    };
    // An I/O failure under a place the user chose: one line naming it and what to do.
    result.map_err(|err| match explain::explain(&err, &places) {
        Some(line) => anyhow::anyhow!(line),
        None => err,
    })
}
