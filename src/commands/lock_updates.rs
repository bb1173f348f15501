//! What `lock` says besides the lockfile: which locked packages have newer candidates in the
//! signed indices (a lock that keeps its pins keeps old versions too), and progress while the
//! Releases and indices download.

use std::collections::{BTreeMap, BTreeSet};
use std::io::IsTerminal;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::archive::PackageRecord;
use crate::debian::version::compare;
use crate::lockfile::Lockfile;
use crate::manifest::LoadedManifest;
use crate::platform::Platform;
use crate::text::escape;

/// A locked package for which an index lists a newer version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Newer {
    pub platform: Platform,
    pub name: String,
    pub locked: String,
    pub newest: String,
}

/// The locked packages whose name an index of their platform lists with a newer version (of
/// the same architecture, or `all`). A package the manifest pins (`name=version`) is not
/// counted: it stays where the manifest puts it.
pub fn newer_candidates(
    lock: &Lockfile,
    manifest: &LoadedManifest,
    platforms: &[(Platform, Vec<PackageRecord>)],
) -> Vec<Newer> {
    let mut out = Vec::new();
    for (platform, records) in platforms {
        let (include, _) = manifest.manifest.requests_for(platform);
        let pinned: BTreeSet<&str> = include
            .iter()
            .filter(|r| r.version.is_some())
            .map(|r| r.name.as_str())
            .collect();
        let mut newest: BTreeMap<(&str, &str), &str> = BTreeMap::new();
        for r in records {
            let slot = newest
                .entry((r.name.as_str(), r.architecture.as_str()))
                .or_insert(r.version.as_str());
            if compare(&r.version, slot).is_gt() {
                *slot = r.version.as_str();
            }
        }
        for p in lock.packages_for(platform) {
            if pinned.contains(p.name.as_str()) {
                continue;
            }
            let best = [p.architecture.as_str(), "all"]
                .iter()
                .filter_map(|arch| newest.get(&(p.name.as_str(), *arch)).copied())
                .max_by(|a, b| compare(a, b));
            if let Some(best) = best.filter(|b| compare(b, &p.version).is_gt()) {
                out.push(Newer {
                    platform: platform.clone(),
                    name: p.name.clone(),
                    locked: p.version.clone(),
                    newest: best.to_owned(),
                });
            }
        }
    }
    out
}

/// One line with the count (and the distinct names' count); each package at debug level (`-v`).
pub fn print_newer(newer: &[Newer], what_to_do: &str) {
    if newer.is_empty() {
        eprintln!("no locked package has a newer candidate in the signed indices");
        return;
    }
    let names: BTreeSet<&str> = newer.iter().map(|n| n.name.as_str()).collect();
    let list = if tracing::enabled!(tracing::Level::DEBUG) {
        ""
    } else {
        " (-v lists them)"
    };
    eprintln!(
        "{} locked package(s) ({} name(s) across platforms) have newer candidates in the signed indices{list}: {what_to_do}",
        newer.len(),
        names.len()
    );
    for n in newer {
        tracing::debug!(
            "  newer: {} {} -> {} ({})",
            escape(&n.name),
            escape(&n.locked),
            escape(&n.newest),
            n.platform
        );
    }
}

/// Progress while Releases and indices download: a bar on a terminal (when informational output
/// is on), nothing in logs but the one summary line [`IndexProgress::finish`] prints.
pub struct IndexProgress {
    bar: Option<ProgressBar>,
    done: AtomicUsize,
}

impl IndexProgress {
    /// `releases` Release files, then `indices` (suite, architecture) index sets.
    pub fn new(releases: usize, indices: usize) -> Self {
        let on = tracing::enabled!(tracing::Level::INFO) && std::io::stderr().is_terminal();
        let bar = on.then(|| {
            let bar = ProgressBar::with_draw_target(
                Some((releases + indices) as u64),
                ProgressDrawTarget::stderr(),
            );
            if let Ok(style) =
                ProgressStyle::with_template("{spinner} reading indices [{bar:30}] {pos}/{len} {msg}")
            {
                bar.set_style(style.progress_chars("=> "));
            }
            bar.enable_steady_tick(Duration::from_millis(120));
            bar
        });
        IndexProgress {
            bar,
            done: AtomicUsize::new(0),
        }
    }

    pub fn release_done(&self, what: &str) {
        self.step(&format!("Release {what}"));
    }

    pub fn index_done(&self, what: &str) {
        self.step(&format!("indices {what}"));
    }

    fn step(&self, what: &str) {
        self.done.fetch_add(1, Ordering::Relaxed);
        if let Some(bar) = &self.bar {
            bar.inc(1);
            bar.set_message(what.to_owned());
        }
    }

    /// Clears the bar and prints `summary` as one line (at info level).
    pub fn finish(&self, summary: &str) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
        tracing::info!("{summary}");
    }
}
