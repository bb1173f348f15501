//! `debcast store verify` and `debcast store gc`: checking and tidying the package store (CLI
//! glue over [`crate::store`] and [`crate::cleanup`]).

use std::collections::BTreeSet;
use std::fs;
use std::io;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use rayon::prelude::*;

use crate::cli::{StoreGcArgs, StoreVerifyArgs};
use crate::hash::{HashingReader, Sha256Digest};
use crate::lockfile::Lockfile;
use crate::manifest::LoadedManifest;
use crate::store::{CachedLayer, Store};

/// A content-addressed entry: its path and the SHA-256 its name promises.
struct Entry {
    path: PathBuf,
    expected: String,
}

/// The `<hex>` an entry's file name starts with (`<hex>`, `<hex>.deb`, `<hex>-name`), if it is
/// a content-addressed entry and not a temporary or foreign file.
fn name_digest(name: &str) -> Option<&str> {
    let hex = name.get(..64)?;
    let rest = &name[64..];
    let ok = hex
        .bytes()
        .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
        && (rest.is_empty() || rest.starts_with('.') || rest.starts_with('-'));
    ok.then_some(hex)
}

fn entries_in(dir: &Path) -> io::Result<Vec<Entry>> {
    let mut out = Vec::new();
    let iter = match fs::read_dir(dir) {
        Ok(i) => i,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(out),
        Err(e) => return Err(e),
    };
    for e in iter {
        let e = e?;
        let name = e.file_name();
        let Some(hex) = name.to_str().and_then(name_digest) else {
            continue;
        };
        if e.file_type()?.is_file() {
            out.push(Entry {
                path: e.path(),
                expected: hex.to_owned(),
            });
        }
    }
    out.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(out)
}

/// A damaged entry: its path, what is wrong, and its (device, inode) when it was hashed.
type Damaged = (PathBuf, String, Option<(u64, u64)>);

/// The directories `store verify` checks, under the store's root.
const VERIFIED_DIRS: [&str; 4] = [
    "debs/sha256",
    "indices/sha256",
    "artifacts/sha256",
    "layers/blobs/sha256",
];

fn hash_file(path: &Path) -> io::Result<Sha256Digest> {
    let file = fs::File::open(path)?;
    let mut reader = HashingReader::new(io::BufReader::with_capacity(1 << 20, file));
    io::copy(&mut reader, &mut io::sink())?;
    Ok(reader.finish().0)
}

/// The stat stamps kept for an entry's last verification (removed with it).
fn stamps_of(root: &Path, entry: &Path, hex: &str) -> Vec<PathBuf> {
    if entry.starts_with(root.join("layers")) {
        vec![root.join("layers/verified").join(hex)]
    } else if entry.starts_with(root.join("debs")) {
        vec![root.join("verified/debs").join(hex)]
    } else if entry.starts_with(root.join("artifacts")) {
        vec![root.join("verified/artifacts").join(hex)]
    } else {
        Vec::new()
    }
}

pub fn verify(args: StoreVerifyArgs) -> anyhow::Result<ExitCode> {
    let root = &args.cache_dir;
    anyhow::ensure!(root.is_dir(), "package store {}: not a directory", root.display());
    let mut entries = Vec::new();
    for dir in VERIFIED_DIRS {
        let dir = root.join(dir);
        entries.extend(entries_in(&dir).with_context(|| format!("reading {}", dir.display()))?);
    }
    let damaged: Vec<Damaged> = entries
        .par_iter()
        .filter_map(|e| {
            let ino = fs::metadata(&e.path).ok().map(|m| (m.dev(), m.ino()));
            match hash_file(&e.path) {
                Ok(d) if d.hex() == e.expected => None,
                Ok(d) => Some((
                    e.path.clone(),
                    format!("its SHA-256 is {}, its name says {}", d.hex(), e.expected),
                    ino,
                )),
                // Removed by another process meanwhile (a replace or a gc): not damage.
                Err(err) if err.kind() == io::ErrorKind::NotFound => None,
                Err(err) => Some((e.path.clone(), format!("unreadable: {err}"), ino)),
            }
        })
        .collect();
    let mut damaged = damaged;
    damaged.sort_by(|a, b| a.0.cmp(&b.0));
    for (path, why, _) in &damaged {
        eprintln!("damaged: {} ({why})", path.display());
    }
    if damaged.is_empty() {
        eprintln!("all {} entries of {} verified", entries.len(), root.display());
        return Ok(ExitCode::SUCCESS);
    }
    if !args.repair {
        eprintln!(
            "{} of {} entries damaged; `debcast store verify --repair --cache-dir {}` removes them (`debcast fetch` then downloads them again, `debcast build` rebuilds cached layers)",
            damaged.len(),
            entries.len(),
            root.display()
        );
        return Ok(ExitCode::FAILURE);
    }
    let mut removed = 0;
    for (path, _, ino) in &damaged {
        // Only the file that was hashed: another process may have renamed a good copy in since.
        let same = fs::metadata(path).ok().map(|m| (m.dev(), m.ino())) == *ino;
        if !same {
            continue;
        }
        fs::remove_file(path).with_context(|| format!("removing {}", path.display()))?;
        if let Some(hex) = path.file_name().and_then(|n| n.to_str()).and_then(name_digest) {
            for stamp in stamps_of(root, path, hex) {
                let _ = fs::remove_file(stamp);
            }
        }
        removed += 1;
    }
    eprintln!(
        "removed {removed} damaged entr{}; `debcast fetch` downloads them again",
        if removed == 1 { "y" } else { "ies" }
    );
    Ok(ExitCode::SUCCESS)
}

/// The `.deb` and artifact files (SHA-256, hex) the given locks pin.
fn needed_debs(args: &StoreGcArgs) -> anyhow::Result<BTreeSet<String>> {
    let mut lock_paths = args.lockfiles.clone();
    for m in &args.manifests {
        let loaded = LoadedManifest::load(m)?;
        lock_paths.push(loaded.default_lockfile_path());
    }
    let mut needed = BTreeSet::new();
    for path in &lock_paths {
        let text =
            fs::read_to_string(path).with_context(|| format!("reading the lockfile {}", path.display()))?;
        let lock = Lockfile::parse(&text, path)?;
        needed.extend(lock.packages.iter().map(|p| p.sha256.hex()));
        needed.extend(lock.artifacts.iter().map(|a| a.sha256.hex()));
    }
    Ok(needed)
}

/// Legacy temporary names (no pid in them) older than this are taken for dead by `gc`.
const LEGACY_TEMP_AGE: Duration = Duration::from_secs(24 * 3600);

pub fn gc(args: StoreGcArgs) -> anyhow::Result<ExitCode> {
    let needed = needed_debs(&args)?;
    let root = args.cache_dir.clone();
    anyhow::ensure!(root.is_dir(), "package store {}: not a directory", root.display());
    let store = Store::at(&root);
    // Exclusive: waits for running fetches and builds, and holds off new ones until done.
    let _hold = store.hold(true)?;
    let mut doomed: Vec<PathBuf> = Vec::new();

    // .deb files no lock pins, their stamps and their unpack records.
    for e in entries_in(&root.join("debs/sha256"))? {
        if !needed.contains(&e.expected) {
            doomed.push(e.path);
            doomed.push(root.join("verified/debs").join(&e.expected));
        }
    }
    // Artifact files no lock pins, and their stamps.
    for e in entries_in(&root.join("artifacts/sha256"))? {
        if !needed.contains(&e.expected) {
            doomed.push(e.path);
            doomed.push(root.join("verified/artifacts").join(&e.expected));
        }
    }
    // Cached SBOM documents read from a .deb no lock pins (or not saying what they were read from).
    if let Ok(sboms) = fs::read_dir(root.join("sboms")) {
        for e in sboms.flatten() {
            let entry: Option<crate::build::sboms::CachedSboms> = fs::read(e.path())
                .ok()
                .and_then(|b| serde_json::from_slice(&b).ok());
            if !entry.is_some_and(|c| c.debs.iter().all(|d| needed.contains(d))) {
                doomed.push(e.path());
            }
        }
    }
    if let Ok(versions) = fs::read_dir(root.join("unpacked")) {
        for v in versions.flatten() {
            for e in entries_in(&v.path())? {
                if !needed.contains(&e.expected) {
                    doomed.push(e.path);
                }
            }
        }
    }

    // Layer cache records made from a .deb no lock pins (or not saying what they were made
    // from), then blobs no remaining record names, then stamps of blobs that go.
    let mut kept_blobs = BTreeSet::new();
    for e in entries_in(&root.join("layers/keys"))? {
        let record: Option<CachedLayer> = fs::read(&e.path)
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok());
        match record {
            Some(r) if !r.debs.is_empty() && r.debs.iter().all(|d| needed.contains(&d.hex())) => {
                kept_blobs.insert(r.digest.hex());
            }
            _ => doomed.push(e.path),
        }
    }
    for e in entries_in(&root.join("layers/blobs/sha256"))? {
        if !kept_blobs.contains(&e.expected) {
            doomed.push(e.path);
        }
    }
    for e in entries_in(&root.join("layers/verified"))? {
        if !kept_blobs.contains(&e.expected) {
            doomed.push(e.path);
        }
    }

    let mut removed = 0usize;
    let mut bytes = 0u64;
    for path in &doomed {
        let Ok(meta) = fs::symlink_metadata(path) else {
            continue;
        };
        if args.dry_run {
            println!("{}", path.display());
        } else {
            fs::remove_file(path).with_context(|| format!("removing {}", path.display()))?;
        }
        removed += 1;
        bytes += meta.len();
    }

    // Temporary files of processes that are gone: in the store, and beside recorded outputs.
    let mut temps = 0usize;
    if !args.dry_run {
        for (dir, prefixes) in store.temp_places() {
            temps += crate::cleanup::reclaim_unowned(&dir, prefixes, LEGACY_TEMP_AGE)
                .paths
                .len();
        }
        for output in store.recorded_outputs() {
            temps += crate::cleanup::reclaim_beside(&output).paths.len();
        }
    }
    eprintln!(
        "{} {removed} store entr{} ({}) not needed by {} locked package file(s){}",
        if args.dry_run { "would remove" } else { "removed" },
        if removed == 1 { "y" } else { "ies" },
        crate::fetch::progress::human_bytes(bytes),
        needed.len(),
        if args.dry_run {
            String::new()
        } else {
            format!(", and {temps} temporary file(s) of debcast runs no longer running")
        }
    );
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_content_addressed_names_are_entries() {
        let hex = "a".repeat(64);
        assert_eq!(name_digest(&hex), Some(hex.as_str()));
        assert_eq!(name_digest(&format!("{hex}.deb")), Some(hex.as_str()));
        assert_eq!(name_digest(&format!("{hex}-usrmerge.json")), Some(hex.as_str()));
        assert_eq!(name_digest(&format!("{hex}x")), None);
        assert_eq!(name_digest(".layer-1-abc"), None);
        assert_eq!(name_digest(&"A".repeat(64)), None);
    }
}
