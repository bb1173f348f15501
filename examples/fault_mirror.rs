//! A loopback package mirror that faults some of its answers, for `scripts/bench-fetch.sh`.
//!
//! ```text
//! fault_mirror subset MANIFEST LOCK PLATFORM OUT   # OUT/bench.toml + OUT/bench.lock: one platform
//! fault_mirror tree LOCK STORE OUT                 # OUT/ARCHIVE/POOL-PATH from the store; prints archives
//! fault_mirror serve ROOT RATE SEED                # prints its URL, serves until killed
//! ```
//!
//! `serve` answers RATE (0.0–1.0) of its requests with transient faults (stalls, resets,
//! truncation, corruption, 500, 503, 429 with `Retry-After: 1`), chosen reproducibly from SEED.
//! With `FAULT_MIRROR_STATUS=FILE` it keeps `REQUESTS FAULTS` (so far) in FILE; with
//! `FAULT_MIRROR_MBPS=N` all its bodies together go at most N MB/s (a mirror behind a link).

use std::collections::BTreeSet;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use debcast::lockfile::Lockfile;
use debcast::manifest::Manifest;
use debcast_testkit::server::{Fault, FaultPlan, Server};

type Result<T> = std::result::Result<T, String>;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let words: Vec<&str> = args.iter().map(String::as_str).collect();
    let result = match words.as_slice() {
        ["subset", manifest, lock, platform, out] => {
            subset(Path::new(manifest), Path::new(lock), platform, Path::new(out))
        }
        ["tree", lock, store, out] => tree(Path::new(lock), Path::new(store), Path::new(out)),
        ["serve", root, rate, seed] => serve(Path::new(root), rate, seed),
        _ => Err("usage: fault_mirror subset MANIFEST LOCK PLATFORM OUT | tree LOCK STORE OUT | serve ROOT RATE SEED".into()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("fault_mirror: {e}");
            ExitCode::FAILURE
        }
    }
}

fn read(path: &Path) -> Result<String> {
    std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))
}

fn write(path: &Path, text: &str) -> Result<()> {
    std::fs::write(path, text).map_err(|e| format!("{}: {e}", path.display()))
}

/// A copy of the manifest for one platform (keyrings made absolute, so it can live elsewhere) and
/// the lock's packages for that platform, locked against it: what `debcast fetch` of one platform
/// of the real lock downloads.
fn subset(manifest_path: &Path, lock_path: &Path, platform: &str, out: &Path) -> Result<()> {
    let mut doc: toml::Table = read(manifest_path)?
        .parse()
        .map_err(|e| format!("{}: {e}", manifest_path.display()))?;
    let base = manifest_path.parent().unwrap_or(Path::new("."));
    let base = std::fs::canonicalize(base).map_err(|e| format!("{}: {e}", base.display()))?;
    if let Some(image) = doc.get_mut("image").and_then(|i| i.as_table_mut()) {
        image.insert("platforms".into(), toml::Value::Array(vec![platform.into()]));
    }
    // Per-platform additions for the other platforms would name a platform no longer listed.
    if let Some(per_platform) = doc
        .get_mut("packages")
        .and_then(|p| p.as_table_mut())
        .and_then(|p| p.get_mut("platform"))
        .and_then(|p| p.as_table_mut())
    {
        per_platform.retain(|k, _| k == platform);
    }
    if let Some(sources) = doc.get_mut("source").and_then(|s| s.as_array_mut()) {
        for source in sources.iter_mut().filter_map(|s| s.as_table_mut()) {
            if let Some(k) = source.get("keyring").and_then(|k| k.as_str()) {
                let abs = base.join(k).to_string_lossy().into_owned();
                source.insert("keyring".into(), abs.into());
            }
        }
    }
    std::fs::create_dir_all(out).map_err(|e| format!("{}: {e}", out.display()))?;
    let text = toml::to_string(&doc).map_err(|e| e.to_string())?;
    let bench_manifest = out.join("bench.toml");
    write(&bench_manifest, &text)?;
    let manifest = Manifest::parse(&text, &bench_manifest).map_err(|e| e.to_string())?;
    let lock = Lockfile::parse(&read(lock_path)?, lock_path).map_err(|e| e.to_string())?;
    let packages: Vec<_> = lock
        .packages
        .into_iter()
        .filter(|p| p.platform.to_string() == platform)
        .collect();
    if packages.is_empty() {
        return Err(format!("{} has no packages for {platform}", lock_path.display()));
    }
    Lockfile::new(&manifest, lock.releases, packages, lock.artifacts)
        .write(&out.join("bench.lock"))
        .map_err(|e| e.to_string())
}

/// Lays the store's `.deb`s out as mirrors do (`ARCHIVE/pool/…`), hard-linked where possible.
fn tree(lock_path: &Path, store: &Path, out: &Path) -> Result<()> {
    let lock = Lockfile::parse(&read(lock_path)?, lock_path).map_err(|e| e.to_string())?;
    let mut archives = BTreeSet::new();
    for p in &lock.packages {
        let from = store.join("debs/sha256").join(format!("{}.deb", p.sha256));
        let to: PathBuf = out.join(&p.archive).join(&p.path);
        archives.insert(p.archive.clone());
        if to.exists() {
            continue;
        }
        if let Some(parent) = to.parent() {
            std::fs::create_dir_all(parent).map_err(|e| format!("{}: {e}", parent.display()))?;
        }
        if std::fs::hard_link(&from, &to).is_err() {
            std::fs::copy(&from, &to).map_err(|e| format!("{} -> {}: {e}", from.display(), to.display()))?;
        }
    }
    for a in archives {
        println!("{a}");
    }
    Ok(())
}

fn serve(root: &Path, rate: &str, seed: &str) -> Result<()> {
    let rate: f64 = rate.parse().map_err(|e| format!("rate `{rate}`: {e}"))?;
    let seed: u64 = seed.parse().map_err(|e| format!("seed `{seed}`: {e}"))?;
    // A trickle measures bandwidth, not fault handling: the benchmark leaves it out.
    let kinds: Vec<Fault> = Fault::transient()
        .into_iter()
        .filter(|f| !matches!(f, Fault::Trickle { .. }))
        .collect();
    let mut server = Server::dir(root)
        .faults(FaultPlan::random(seed, rate, kinds))
        .max_stall(Duration::from_secs(120));
    if let Some(mbps) = std::env::var("FAULT_MIRROR_MBPS").ok().filter(|v| !v.is_empty()) {
        let mbps: u64 = mbps
            .parse()
            .map_err(|e| format!("FAULT_MIRROR_MBPS `{mbps}`: {e}"))?;
        server = server.bandwidth(mbps * 1_000_000);
    }
    let server = server.start().map_err(|e| format!("starting the server: {e}"))?;
    println!("{}", server.url());
    std::io::stdout().flush().map_err(|e| e.to_string())?;
    // Serve until killed. With FAULT_MIRROR_STATUS set, keep `requests faults` in that file.
    let status = std::env::var_os("FAULT_MIRROR_STATUS").map(PathBuf::from);
    loop {
        std::thread::sleep(Duration::from_millis(100));
        if let Some(path) = &status {
            let c = server.counters();
            write(path, &format!("{} {}\n", c.requests, c.faults))?;
        }
    }
}
