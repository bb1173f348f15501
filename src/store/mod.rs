//! The content-addressed store (`vendor/` by default): verified `.deb` files and archive indices,
//! each under its SHA-256.
//!
//! Layout (documented in the README, stable so CI can cache or copy it):
//!
//! ```text
//! <root>/debs/sha256/<hex>.deb      verified package files
//! <root>/indices/sha256/<hex>       verified archive index files (Packages, Release, …)
//! <root>/artifacts/sha256/<hex>     verified non-Debian inputs (`[[artifact]]`)
//! <root>/releases/sha256/<hex>.InRelease       signed Releases `lock` verified, named by the
//! <root>/releases/sha256/<hex>.Release{,.gpg}  SHA-256 of their signed text (what a lock records)
//! <root>/tmp/                       in-progress writes (same filesystem, so renames are atomic)
//! <root>/layers/blobs/sha256/<hex>  compressed image layers, by digest (see [`LayerCache`])
//! <root>/layers/keys/<key>.json     what a layer key built: digest, size, diff_id, media type
//! <root>/layers/verified/<hex>      when a blob last verified: its size, inode, mtime
//! <root>/unpacked/v<N>/<hex>-*.json what unpacking a `.deb` gave: entries, control, small files
//! <root>/verified/debs/<hex>        when a `.deb` last verified: its size, inode, mtime
//! <root>/sboms/<key>.json           an image's SBOM documents, by what they are made from
//! <root>/outputs/<hex>              an output path a build wrote (so `store gc` can tidy beside it)
//! ```
//!
//! Temporary names carry their creator's pid and are locked by it while it lives (see
//! [`crate::cleanup`]): the next `fetch` or `build` removes those of dead processes, never those
//! of live ones.
//!
//! An entry appears only by an atomic rename after its bytes verified, so readers never see a
//! partial file and two processes can fill one store at once: both may download the same file, the
//! second rename replaces identical bytes.

#[cfg(test)]
mod tests;

use std::fs::{self, File};
use std::io::{self, BufReader, Read, Write};
use std::path::{Path, PathBuf};

use crate::cleanup;
use crate::hash::{Expected, HashingReader, HashingWriter, Sha256Digest};

/// A second tier behind the local store (the remote cache of [`crate::remote`], when one is on):
/// asked for what the store lacks (it verifies what it brings, like a mirror's bytes), and told
/// what a run used. The store knows only this interface, so it imports nothing above it.
pub trait SecondTier: Sync {
    /// The store lacks an entry: bring it in if the tier has it.
    fn pull(&self, store: &Store, kind: Kind, expected: &Expected, what: &str) -> bool;
    /// The store lacks a signed Release's files: bring them in.
    fn pull_release(&self, store: &Store, text_sha256: &Sha256Digest) -> bool;
    /// The layer cache lacks a key: bring its record and blob in.
    fn pull_layer(&self, cache: &LayerCache, key: &Sha256Digest) -> bool;
    /// This run used an entry.
    fn note(&self, kind: Kind, digest: &Sha256Digest);
    /// This run used a signed Release's files.
    fn note_release(&self, text_sha256: &Sha256Digest);
    /// This run used a layer cache entry.
    fn note_layer(&self, key: &Sha256Digest);
}

static SECOND_TIER: std::sync::OnceLock<&'static dyn SecondTier> = std::sync::OnceLock::new();

/// Puts `tier` behind every store of this process (once; later calls are ignored).
pub fn set_second_tier(tier: &'static dyn SecondTier) {
    let _ = SECOND_TIER.set(tier);
}

/// The hooks the store calls; without a second tier they do nothing.
mod tier {
    use super::{Expected, Kind, LayerCache, SECOND_TIER, Sha256Digest, Store};

    pub fn pull(store: &Store, kind: Kind, expected: &Expected, what: &str) -> bool {
        SECOND_TIER
            .get()
            .is_some_and(|t| t.pull(store, kind, expected, what))
    }
    pub fn pull_release(store: &Store, text_sha256: &Sha256Digest) -> bool {
        SECOND_TIER
            .get()
            .is_some_and(|t| t.pull_release(store, text_sha256))
    }
    pub fn pull_layer(cache: &LayerCache, key: &Sha256Digest) -> bool {
        SECOND_TIER.get().is_some_and(|t| t.pull_layer(cache, key))
    }
    pub fn note(kind: Kind, digest: &Sha256Digest) {
        if let Some(t) = SECOND_TIER.get() {
            t.note(kind, digest);
        }
    }
    pub fn note_release(text_sha256: &Sha256Digest) {
        if let Some(t) = SECOND_TIER.get() {
            t.note_release(text_sha256);
        }
    }
    pub fn note_layer(key: &Sha256Digest) {
        if let Some(t) = SECOND_TIER.get() {
            t.note_layer(key);
        }
    }
}

/// The prefix of a download in progress in `tmp/` (then the pid of its process, see
/// [`crate::cleanup`]).
pub const INCOMING: &str = "incoming-";
/// The prefix of a small file being replaced atomically (layer keys, stamps, unpack records).
pub const NEW: &str = ".new-";

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("package store {path}: {source}")]
    Io { path: PathBuf, source: io::Error },
    #[error("{0}")]
    Mismatch(Box<Mismatch>),
}

/// Bytes that are not what was expected (boxed: errors stay small on the happy path).
#[derive(Debug, thiserror::Error)]
#[error(
    "{what}: expected {expected_size} bytes with SHA-256 {expected}, got {actual_size} bytes with SHA-256 {actual}"
)]
pub struct Mismatch {
    pub what: String,
    pub expected: Sha256Digest,
    pub expected_size: u64,
    pub actual: Sha256Digest,
    pub actual_size: u64,
}

/// The kinds of things the store keeps, each in its own directory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Deb,
    Index,
    /// Non-Debian inputs (`[[artifact]]`: toolchain tarballs, zips, single files).
    Artifact,
}

impl Kind {
    fn dir(self) -> &'static str {
        match self {
            Kind::Deb => "debs/sha256",
            Kind::Index => "indices/sha256",
            Kind::Artifact => "artifacts/sha256",
        }
    }

    fn suffix(self) -> &'static str {
        match self {
            Kind::Deb => ".deb",
            Kind::Index | Kind::Artifact => "",
        }
    }
}

/// A process's hold on the store (see [`Store::hold`]); released when dropped or at exit.
#[derive(Debug)]
pub struct StoreHold {
    _file: File,
}

/// What [`Store::presence`] found.
#[derive(Debug)]
pub enum Presence {
    Missing,
    Intact,
    /// There, but its bytes are not the expected ones (the error names the path and both hashes).
    Damaged(Box<StoreError>),
}

#[derive(Debug, Clone)]
pub struct Store {
    root: PathBuf,
}

impl Store {
    /// Opens (creating if needed) the store at `root`.
    pub fn open(root: &Path) -> Result<Self, StoreError> {
        for sub in [Kind::Deb.dir(), Kind::Index.dir(), Kind::Artifact.dir(), "tmp"] {
            let dir = root.join(sub);
            fs::create_dir_all(&dir).map_err(|source| StoreError::Io { path: dir, source })?;
        }
        Ok(Store {
            root: root.to_owned(),
        })
    }

    /// A store at `root` that is only read: nothing is created (for `--offline` checks).
    pub fn at(root: &Path) -> Self {
        Store {
            root: root.to_owned(),
        }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    pub fn path(&self, kind: Kind, digest: &Sha256Digest) -> PathBuf {
        self.root
            .join(kind.dir())
            .join(format!("{}{}", digest.hex(), kind.suffix()))
    }

    /// Whether the store holds an entry of the expected size (its hash was checked on insertion,
    /// not since: see [`Self::presence`]).
    pub fn contains(&self, kind: Kind, expected: &Expected) -> bool {
        let here = fs::metadata(self.path(kind, &expected.sha256))
            .is_ok_and(|m| m.is_file() && m.len() == expected.size);
        // Else the remote cache's copy, if there is one (verified on the way in).
        let here = here || tier::pull(self, kind, expected, "store entry");
        if here {
            tier::note(kind, &expected.sha256);
        }
        here
    }

    fn stamp_path(&self, kind: Kind, digest: &Sha256Digest) -> Option<PathBuf> {
        match kind {
            Kind::Deb => Some(self.root.join("verified/debs").join(digest.hex())),
            Kind::Artifact => Some(self.root.join("verified/artifacts").join(digest.hex())),
            Kind::Index => None,
        }
    }

    /// Whether the store holds the entry intact: present, of the expected size, and either its
    /// stat data is what it was when it last verified (as the layer cache trusts its blobs) or it
    /// hashes right now (then it is stamped, so the next check is a `stat`).
    pub fn presence(&self, kind: Kind, expected: &Expected, what: &str) -> Presence {
        let path = self.path(kind, &expected.sha256);
        let meta = match fs::metadata(&path) {
            Ok(m) if m.is_file() => m,
            _ if tier::pull(self, kind, expected, what) => {
                tier::note(kind, &expected.sha256);
                return Presence::Intact;
            }
            _ => return Presence::Missing,
        };
        let stamp = stat_stamp(&meta);
        let stamp_path = self.stamp_path(kind, &expected.sha256);
        if meta.len() == expected.size
            && let Some(sp) = &stamp_path
            && fs::read_to_string(sp).is_ok_and(|s| s == stamp)
        {
            tier::note(kind, &expected.sha256);
            return Presence::Intact;
        }
        match self.verify(kind, expected, what) {
            Ok(_) => {
                self.record_verified(kind, &expected.sha256);
                tier::note(kind, &expected.sha256);
                Presence::Intact
            }
            Err(e) => {
                if let Some(sp) = &stamp_path {
                    let _ = fs::remove_file(sp);
                }
                Presence::Damaged(Box::new(e))
            }
        }
    }

    /// Notes that an entry verified, with its stat data (best effort).
    fn record_verified(&self, kind: Kind, digest: &Sha256Digest) {
        let Some(stamp_path) = self.stamp_path(kind, digest) else {
            return;
        };
        let Ok(meta) = fs::metadata(self.path(kind, digest)) else {
            return;
        };
        let Some(dir) = stamp_path.parent() else { return };
        let written = fs::create_dir_all(dir)
            .and_then(|()| replace_file(dir, &stamp_path, stat_stamp(&meta).as_bytes(), false));
        if let Err(e) = written {
            tracing::debug!("store: no verification stamp for {}: {e}", digest.hex());
        }
    }

    /// Removes the temporary files of dead debcast processes (see [`crate::cleanup`]); returns
    /// their paths.
    pub fn reclaim_leftovers(&self) -> Vec<PathBuf> {
        let mut out = Vec::new();
        for (dir, prefixes) in self.temp_places() {
            out.extend(cleanup::reclaim(&dir, prefixes).paths);
        }
        out
    }

    /// Where the store's writers create temporary files, with their name prefixes.
    pub(crate) fn temp_places(&self) -> Vec<(PathBuf, &'static [&'static str])> {
        let mut places: Vec<(PathBuf, &'static [&'static str])> = vec![
            (self.root.join("tmp"), &[INCOMING]),
            (self.root.join("layers/blobs/sha256"), &[".layer-", ".blob-", NEW]),
            (self.root.join("layers/keys"), &[NEW]),
            (self.root.join("layers/verified"), &[NEW]),
            (self.root.join("verified/debs"), &[NEW]),
            (self.root.join("outputs"), &[NEW]),
        ];
        if let Ok(entries) = fs::read_dir(self.root.join("unpacked")) {
            for e in entries.flatten() {
                places.push((e.path(), &[NEW]));
            }
        }
        places
    }

    /// Holds the store for this process: shared by `fetch` and `build` (any number at once),
    /// exclusive for `store gc`, which so never removes what a running process is about to use.
    /// Waits for the lock, saying so when it has to.
    pub fn hold(&self, exclusive: bool) -> Result<StoreHold, StoreError> {
        use std::os::fd::AsRawFd;
        let path = self.root.join("lock");
        let io_err = |source| StoreError::Io {
            path: path.clone(),
            source,
        };
        let file = fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .read(true)
            .write(true)
            .open(&path)
            .map_err(io_err)?;
        let mode = if exclusive { libc::LOCK_EX } else { libc::LOCK_SH };
        // SAFETY: flock on a descriptor this function owns.
        let flock = |op| unsafe { libc::flock(file.as_raw_fd(), op) };
        if flock(mode | libc::LOCK_NB) != 0 {
            tracing::info!(
                "waiting for {} debcast process(es) using {}",
                if exclusive { "the" } else { "a `store gc` or other" },
                self.root.display()
            );
            if flock(mode) != 0 {
                return Err(io_err(io::Error::last_os_error()));
            }
        }
        Ok(StoreHold { _file: file })
    }

    /// Notes that a build writes `output`, so `debcast store gc` can remove what dead builds
    /// left beside it. Best effort.
    pub fn record_output(&self, output: &Path) {
        let Ok(abs) = std::path::absolute(output) else {
            return;
        };
        let text = abs.to_string_lossy().into_owned();
        let dir = self.root.join("outputs");
        let dest = dir.join(Sha256Digest::of(text.as_bytes()).hex());
        if dest.is_file() {
            return;
        }
        let written =
            fs::create_dir_all(&dir).and_then(|()| replace_file(&dir, &dest, text.as_bytes(), false));
        if let Err(e) = written {
            tracing::debug!("store: output {} not recorded: {e}", abs.display());
        }
    }

    /// The output paths builds recorded (see [`Self::record_output`]).
    pub fn recorded_outputs(&self) -> Vec<PathBuf> {
        let Ok(entries) = fs::read_dir(self.root.join("outputs")) else {
            return Vec::new();
        };
        entries
            .flatten()
            .filter(|e| !e.file_name().to_string_lossy().starts_with('.'))
            .filter_map(|e| fs::read_to_string(e.path()).ok())
            .map(PathBuf::from)
            .collect()
    }

    /// Opens an entry and re-verifies it while it is read in full; returns its bytes.
    pub fn read_verified(&self, kind: Kind, expected: &Expected, what: &str) -> Result<Vec<u8>, StoreError> {
        let path = self.path(kind, &expected.sha256);
        let io_err = |source| StoreError::Io {
            path: path.clone(),
            source,
        };
        let file = File::open(&path).map_err(io_err)?;
        let mut reader = HashingReader::new(BufReader::new(file));
        let mut bytes = Vec::with_capacity(usize::try_from(expected.size).unwrap_or(0));
        reader.read_to_end(&mut bytes).map_err(io_err)?;
        let (actual, actual_size, _) = reader.finish();
        check(what, expected, actual, actual_size)?;
        tier::note(kind, &expected.sha256);
        Ok(bytes)
    }

    /// Re-verifies an entry by hashing it in full (streaming); returns its path. Used before an
    /// entry is used, so a store damaged on disk or by hand is caught, not built from.
    pub fn verify(&self, kind: Kind, expected: &Expected, what: &str) -> Result<PathBuf, StoreError> {
        let path = self.path(kind, &expected.sha256);
        let io_err = |source| StoreError::Io {
            path: path.clone(),
            source,
        };
        let file = File::open(&path).map_err(io_err)?;
        let mut reader = HashingReader::new(BufReader::with_capacity(1 << 20, file));
        io::copy(&mut reader, &mut io::sink()).map_err(io_err)?;
        let (actual, actual_size, _) = reader.finish();
        check(
            &format!("{what} ({})", path.display()),
            expected,
            actual,
            actual_size,
        )?;
        Ok(path)
    }

    /// Writes an entry: `fill` writes the bytes; they are hashed as they are written, and the
    /// entry is renamed into place only if they match `expected` (when given). Returns the digest.
    pub fn insert<E>(
        &self,
        kind: Kind,
        expected: Option<&Expected>,
        what: &str,
        fill: impl FnOnce(&mut dyn Write) -> Result<(), E>,
    ) -> Result<Result<Sha256Digest, E>, StoreError> {
        let tmp_dir = self.root.join("tmp");
        let io_err = |path: &Path, source| StoreError::Io {
            path: path.to_owned(),
            source,
        };
        let (tmp, _owned) = cleanup::temp_file(&tmp_dir, INCOMING).map_err(|e| io_err(&tmp_dir, e))?;
        let mut writer = HashingWriter::new(io::BufWriter::new(tmp));
        if let Err(e) = fill(&mut writer) {
            return Ok(Err(e));
        }
        let (digest, size, buffered) = writer.finish();
        let tmp = buffered
            .into_inner()
            .map_err(|e| io_err(&tmp_dir, e.into_error()))?;
        if let Some(expected) = expected {
            check(what, expected, digest, size)?;
        }
        tmp.as_file().sync_all().map_err(|e| io_err(tmp.path(), e))?;
        let dest = self.path(kind, &digest);
        tmp.persist(&dest).map_err(|e| io_err(&dest, e.error))?;
        // Hashed while it was written: the next fetch need not hash it again.
        self.record_verified(kind, &digest);
        tier::note(kind, &digest);
        Ok(Ok(digest))
    }

    /// Where a signed Release file is kept: `releases/sha256/<hex of the signed text><suffix>`
    /// (`.InRelease`, or `.Release` and `.Release.gpg`). Such a file is named by the hash of the
    /// text its signature covers, not of its own bytes: readers verify the signature and that
    /// hash before using it.
    pub fn release_path(&self, text_sha256: &Sha256Digest, suffix: &str) -> PathBuf {
        self.root
            .join("releases/sha256")
            .join(format!("{}{suffix}", text_sha256.hex()))
    }

    /// Keeps a signed Release file (see [`Store::release_path`]), written in `tmp/` and renamed
    /// into place.
    pub fn insert_release_file(
        &self,
        text_sha256: &Sha256Digest,
        suffix: &str,
        bytes: &[u8],
    ) -> Result<(), StoreError> {
        let dest = self.release_path(text_sha256, suffix);
        let io_err = |path: &Path, source| StoreError::Io {
            path: path.to_owned(),
            source,
        };
        if let Some(dir) = dest.parent() {
            fs::create_dir_all(dir).map_err(|e| io_err(dir, e))?;
        }
        let tmp_dir = self.root.join("tmp");
        fs::create_dir_all(&tmp_dir).map_err(|e| io_err(&tmp_dir, e))?;
        let mut tmp = tempfile::Builder::new()
            .prefix("incoming-")
            .tempfile_in(&tmp_dir)
            .map_err(|e| io_err(&tmp_dir, e))?;
        tmp.write_all(bytes).map_err(|e| io_err(tmp.path(), e))?;
        tmp.as_file().sync_all().map_err(|e| io_err(tmp.path(), e))?;
        tmp.persist(&dest).map_err(|e| io_err(&dest, e.error))?;
        tier::note_release(text_sha256);
        Ok(())
    }

    /// Reads a signed Release file, `None` when the store does not have it.
    pub fn read_release_file(
        &self,
        text_sha256: &Sha256Digest,
        suffix: &str,
    ) -> Result<Option<Vec<u8>>, StoreError> {
        let path = self.release_path(text_sha256, suffix);
        let read = match fs::read(&path) {
            // Else the remote cache's copy (the archive client verifies it before use).
            Err(e) if e.kind() == io::ErrorKind::NotFound && tier::pull_release(self, text_sha256) => {
                fs::read(&path)
            }
            read => read,
        };
        match read {
            Ok(bytes) => {
                tier::note_release(text_sha256);
                Ok(Some(bytes))
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(source) => Err(StoreError::Io { path, source }),
        }
    }

    /// Inserts bytes already in memory (verified archive indices).
    pub fn insert_bytes(&self, kind: Kind, bytes: &[u8]) -> Result<Sha256Digest, StoreError> {
        match self.insert(kind, None, "index", |w| w.write_all(bytes)) {
            Ok(Ok(d)) => Ok(d),
            Ok(Err(e)) => Err(StoreError::Io {
                path: self.root.join("tmp"),
                source: e,
            }),
            Err(e) => Err(e),
        }
    }
}

/// The layer cache: layers debcast compressed before, under a key naming everything that
/// determines their bytes (the caller computes it: the `.deb` hashes in the layer, mapping
/// options, compression and level, SOURCE_DATE_EPOCH, the layer format version, and for the
/// generated layer everything the configure step reads).
///
/// A blob is written to a temporary file in `blobs/sha256/` and renamed to its digest once
/// complete; the key record is written after it, atomically. A blob is re-hashed before every use
/// and a key whose blob does not match is dropped, so a damaged cache costs a rebuild, never a
/// wrong image. Two processes may fill one cache: both renames put identical bytes in place.
#[derive(Debug, Clone)]
pub struct LayerCache {
    root: PathBuf,
}

/// What a key record says about its layer.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct CachedLayer {
    pub digest: Sha256Digest,
    pub size: u64,
    pub diff_id: Sha256Digest,
    pub media_type: String,
    /// Anything else the caller needs again on a hit (the generated layer's report).
    #[serde(default)]
    pub extra: serde_json::Value,
    /// The `.deb` files (SHA-256) the layer was made from, so `store gc` can tell which layers
    /// a lock still needs (empty in records of older versions).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub debs: Vec<Sha256Digest>,
}

impl LayerCache {
    /// Opens (creating if needed) the layer cache of `store`.
    pub fn open(store: &Store) -> Result<Self, StoreError> {
        let root = store.root().join("layers");
        for sub in ["blobs/sha256", "keys"] {
            let dir = root.join(sub);
            fs::create_dir_all(&dir).map_err(|source| StoreError::Io { path: dir, source })?;
        }
        Ok(LayerCache { root })
    }

    /// Where blobs go; layer writers create their temporary files here, then rename.
    pub fn blob_dir(&self) -> PathBuf {
        self.root.join("blobs/sha256")
    }

    pub fn blob_path(&self, digest: &Sha256Digest) -> PathBuf {
        self.blob_dir().join(digest.hex())
    }

    fn key_path(&self, key: &Sha256Digest) -> PathBuf {
        self.root.join("keys").join(format!("{}.json", key.hex()))
    }

    /// The record for `key`, if there is one that parses (no blob check: see [`Self::verify`]);
    /// else the remote cache's, if it has one (its blob verified on the way in).
    pub fn get(&self, key: &Sha256Digest) -> Option<CachedLayer> {
        let found = self
            .get_local(key)
            .or_else(|| tier::pull_layer(self, key).then(|| self.get_local(key)).flatten());
        if found.is_some() {
            tier::note_layer(key);
        }
        found
    }

    /// The record for `key` in this store only.
    pub fn get_local(&self, key: &Sha256Digest) -> Option<CachedLayer> {
        let bytes = fs::read(self.key_path(key)).ok()?;
        serde_json::from_slice(&bytes).ok()
    }

    fn stamp_path(&self, digest: &Sha256Digest) -> PathBuf {
        self.root.join("verified").join(digest.hex())
    }

    /// Re-hashes the blob of `layer`, unless it verified before and its file metadata (size,
    /// device, inode, mtime to the nanosecond) is unchanged since, as git's index and Cargo's
    /// fingerprints trust a file's stat data. (Not ctime: builds before 0.1 hard-linked the blob
    /// into their outputs, and a link or a `chmod` changes the inode's ctime.) On a mismatch the key is
    /// removed (so the next build does not try it again) and the error says what was found.
    pub fn verify(&self, key: &Sha256Digest, layer: &CachedLayer) -> Result<PathBuf, StoreError> {
        let path = self.blob_path(&layer.digest);
        let stamp = fs::metadata(&path).ok().map(|m| stat_stamp(&m));
        if let Some(now) = &stamp
            && fs::read_to_string(self.stamp_path(&layer.digest)).is_ok_and(|s| s == *now)
            && now.starts_with(&format!("{} ", layer.size))
        {
            return Ok(path);
        }
        self.verify_bytes(key, layer)?;
        self.record_verified(&layer.digest);
        Ok(path)
    }

    /// Notes that the blob of `digest` verified (or was just written), with its stat data. Best
    /// effort: without a stamp the next build re-hashes the blob.
    pub fn record_verified(&self, digest: &Sha256Digest) {
        let Ok(meta) = fs::metadata(self.blob_path(digest)) else {
            return;
        };
        let dir = self.root.join("verified");
        let written = fs::create_dir_all(&dir).and_then(|()| {
            replace_file(
                &dir,
                &self.stamp_path(digest),
                stat_stamp(&meta).as_bytes(),
                false,
            )
        });
        if let Err(e) = written {
            tracing::debug!("layer cache: no verification stamp for {}: {e}", digest.hex());
        }
    }

    fn verify_bytes(&self, key: &Sha256Digest, layer: &CachedLayer) -> Result<(), StoreError> {
        let expected = Expected {
            size: layer.size,
            sha256: layer.digest,
        };
        let path = self.blob_path(&layer.digest);
        let result = (|| {
            let file = File::open(&path).map_err(|source| StoreError::Io {
                path: path.clone(),
                source,
            })?;
            let mut reader = HashingReader::new(BufReader::with_capacity(1 << 20, file));
            io::copy(&mut reader, &mut io::sink()).map_err(|source| StoreError::Io {
                path: path.clone(),
                source,
            })?;
            let (actual, actual_size, _) = reader.finish();
            check(
                &format!("cached layer {}", path.display()),
                &expected,
                actual,
                actual_size,
            )
        })();
        if let Err(e) = result {
            let _ = fs::remove_file(self.key_path(key));
            let _ = fs::remove_file(self.stamp_path(&layer.digest));
            return Err(e);
        }
        Ok(())
    }

    /// Records what `key` built. The blob must already be in place.
    pub fn put(&self, key: &Sha256Digest, layer: &CachedLayer) -> Result<(), StoreError> {
        let dir = self.root.join("keys");
        let io_err = |path: &Path, source| StoreError::Io {
            path: path.to_owned(),
            source,
        };
        let bytes = serde_json::to_vec(layer).map_err(|e| io_err(&dir, io::Error::other(e)))?;
        let dest = self.key_path(key);
        replace_file(&dir, &dest, &bytes, true).map_err(|e| io_err(&dest, e))?;
        tier::note_layer(key);
        Ok(())
    }
}

/// Puts `bytes` at `dest` atomically: written to a temporary file in `dir` (on `dest`'s
/// filesystem), synced to disk first if `durable`, then renamed over `dest`, so readers see the
/// old file or the new one, never a part.
pub(crate) fn replace_file(dir: &Path, dest: &Path, bytes: &[u8], durable: bool) -> io::Result<()> {
    let (mut tmp, _owned) = cleanup::temp_file(dir, NEW)?;
    tmp.write_all(bytes)?;
    if durable {
        tmp.as_file().sync_all()?;
    }
    tmp.persist(dest).map_err(|e| e.error)?;
    Ok(())
}

/// A file's stat data that changes whenever its bytes are rewritten: size first (checked
/// against the record), then device, inode and mtime to the nanosecond.
fn stat_stamp(meta: &fs::Metadata) -> String {
    use std::os::unix::fs::MetadataExt;
    format!(
        "{} {}:{} {}.{}",
        meta.len(),
        meta.dev(),
        meta.ino(),
        meta.mtime(),
        meta.mtime_nsec()
    )
}

fn check(what: &str, expected: &Expected, actual: Sha256Digest, actual_size: u64) -> Result<(), StoreError> {
    if actual != expected.sha256 || actual_size != expected.size {
        return Err(StoreError::Mismatch(Box::new(Mismatch {
            what: what.to_owned(),
            expected: expected.sha256,
            expected_size: expected.size,
            actual,
            actual_size,
        })));
    }
    Ok(())
}
