//! `debcast fetch`: every locked .deb and artifact into the package store, verified (offline:
//! check that the store has them all).

use std::process::ExitCode;

use anyhow::Context;

use super::{Inputs, load_lock, load_manifest, mirrors, reclaim_in_store, transport, verify_lock};
use crate::cli::{Common, FetchArgs};
use crate::fetch::packages::{FetchOptions, fetch_packages};
use crate::fetch::progress;
use crate::lockfile::Lockfile;
use crate::store::Store;

pub fn run(args: FetchArgs) -> anyhow::Result<ExitCode> {
    let inputs = load_manifest(&args.common)?;
    let lock = load_lock(&inputs)?;
    if args.common.offline {
        let store = Store::at(&args.common.cache_dir);
        super::offline_inputs_and_proof(
            &args.common,
            &inputs,
            &lock,
            &lock.packages,
            &lock.artifacts,
            &store,
        )?;
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
    super::install_remote(&args.common);
    verify_lock(&args.common, &inputs, &lock, &lock.packages, &store)?;
    fetch_locked(&args.common, &inputs, &lock, &store)?;
    crate::remote::write_back(&store);
    Ok(ExitCode::SUCCESS)
}

fn fetch_locked(common: &Common, inputs: &Inputs, lock: &Lockfile, store: &Store) -> anyhow::Result<()> {
    fetch_some(common, inputs, lock, &lock.packages, &lock.artifacts, store)
}

pub(crate) fn fetch_some(
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
    .map_err(|e| with_pruned_hint(e, packages))
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

/// A fetch error, with one hint at its end when every mirror answered "not found" for some
/// files: a snapshot-style mirror, in the form `--mirror` takes, for each archive of the lock.
/// The host is the user's to fill in (no mirror host is written into debcast).
fn with_pruned_hint(
    err: crate::fetch::FetchError,
    packages: &[crate::lockfile::LockedPackage],
) -> anyhow::Error {
    let missing = err.not_found_everywhere();
    if missing == 0 {
        return err.into();
    }
    let archives: std::collections::BTreeSet<&str> = packages.iter().map(|p| p.archive.as_str()).collect();
    let forms: Vec<String> = archives
        .iter()
        .map(|a| format!("--mirror '{a}=https://SNAPSHOT-MIRROR/archive/{a}/{{release_date}}/'"))
        .collect();
    let hint = format!(
        "hint: no mirror has {missing} of these file(s) any more (pruned from the live archive?): add a snapshot-style mirror that keeps old versions by date, {} — SNAPSHOT-MIRROR and the path are yours to fill in for the snapshot service you use; `{{release_date}}` becomes the lock's Release date",
        forms.join(" ")
    );
    anyhow::anyhow!("{err}\n  {hint}")
}
