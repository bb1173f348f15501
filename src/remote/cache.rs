//! Read-through and write-back between the local store and a registry (see the module docs).

use std::collections::{BTreeMap, BTreeSet};
use std::io::{self, Write};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};

use super::registry::{Body, MEDIA_TYPE_MANIFEST, Registry, RegistryError};
use crate::fetch::Expected;
use crate::fetch::transport::TransportConfig;
use crate::hash::{HashingWriter, Sha256Digest};
use crate::oci::image::{Descriptor, DescriptorExt, ImageManifest as Manifest};
use crate::store::{CachedLayer, Kind, LayerCache, Store, StoreError};

/// The signed Release files a `release-<hex>` tag may hold.
const RELEASE_SUFFIXES: [&str; 4] = [".InRelease", ".Release", ".Release.gpg", ".stand-in"];
const MEDIA_TYPE_LAYER_RECORD: &str = "application/vnd.debcast.cache.layer-record.v1+json";
const MEDIA_TYPE_RELEASE_CONFIG: &str = "application/vnd.debcast.cache.release.v1+json";
const MEDIA_TYPE_FILE_CONFIG: &str = "application/vnd.debcast.cache.file.v1+json";
const MEDIA_TYPE_FILE: &str = "application/octet-stream";
const ANNOTATION_TITLE: &str = "org.opencontainers.image.title";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Take what the registry has; push nothing.
    Read,
    /// Take what the registry has; push what this run used and the registry lacks.
    ReadWrite,
}

/// What the remote cache did in this run (for the build report).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RemoteStats {
    /// Bytes read from the registry (verified blobs kept).
    pub bytes_downloaded: u64,
    /// Store entries (`.deb`s, artifacts, indices, Release files) taken from the registry.
    pub files_downloaded: u64,
    /// Layers (record and blob) taken from the registry.
    pub layers_downloaded: u64,
    /// Blobs and tags pushed.
    pub pushed: u64,
    pub bytes_uploaded: u64,
    /// Things the cache could not give (errors, corrupt blobs) and were done locally instead.
    pub skipped: u64,
}

fn descriptor(media_type: &str, digest: &Sha256Digest, size: u64) -> Descriptor {
    crate::oci::image::descriptor(media_type, *digest, size)
}

/// One registry repository used as a cache by this process.
pub struct RemoteCache {
    registry: Registry,
    url: String,
    mode: Mode,
    jobs: usize,
    /// Set after an error: the rest of the run does without the registry.
    down: AtomicBool,
    bytes_downloaded: AtomicU64,
    files_downloaded: AtomicU64,
    layers_downloaded: AtomicU64,
    pushed: AtomicU64,
    bytes_uploaded: AtomicU64,
    skipped: AtomicU64,
    used_entries: Mutex<BTreeSet<(u8, Sha256Digest)>>,
    used_releases: Mutex<BTreeSet<Sha256Digest>>,
    used_layers: Mutex<BTreeSet<Sha256Digest>>,
    /// Small files under a tag of their own (unpack records): tag -> path.
    used_files: Mutex<BTreeMap<String, std::path::PathBuf>>,
    /// Release tags already asked for (a miss is not asked again).
    asked_releases: Mutex<BTreeSet<Sha256Digest>>,
}

fn kind_code(kind: Kind) -> u8 {
    match kind {
        Kind::Deb => 0,
        Kind::Index => 1,
        Kind::Artifact => 2,
    }
}

fn code_kind(code: u8) -> Kind {
    match code {
        0 => Kind::Deb,
        1 => Kind::Index,
        _ => Kind::Artifact,
    }
}

impl RemoteCache {
    pub fn new(url: &str, mode: Mode, config: &TransportConfig) -> Result<Self, RegistryError> {
        Ok(RemoteCache {
            registry: Registry::new(url, config)?,
            url: url.to_owned(),
            mode,
            jobs: config.concurrency.max(1),
            down: AtomicBool::new(false),
            bytes_downloaded: AtomicU64::new(0),
            files_downloaded: AtomicU64::new(0),
            layers_downloaded: AtomicU64::new(0),
            pushed: AtomicU64::new(0),
            bytes_uploaded: AtomicU64::new(0),
            skipped: AtomicU64::new(0),
            used_entries: Mutex::default(),
            used_releases: Mutex::default(),
            used_layers: Mutex::default(),
            used_files: Mutex::default(),
            asked_releases: Mutex::default(),
        })
    }

    pub fn stats(&self) -> RemoteStats {
        RemoteStats {
            bytes_downloaded: self.bytes_downloaded.load(Ordering::Relaxed),
            files_downloaded: self.files_downloaded.load(Ordering::Relaxed),
            layers_downloaded: self.layers_downloaded.load(Ordering::Relaxed),
            pushed: self.pushed.load(Ordering::Relaxed),
            bytes_uploaded: self.bytes_uploaded.load(Ordering::Relaxed),
            skipped: self.skipped.load(Ordering::Relaxed),
        }
    }

    fn usable(&self) -> bool {
        !self.down.load(Ordering::Relaxed)
    }

    /// An error talking to the registry: one warning, then the run carries on without it.
    fn give_up(&self, what: &str, error: &RegistryError) {
        self.skipped.fetch_add(1, Ordering::Relaxed);
        if !self.down.swap(true, Ordering::Relaxed) {
            tracing::warn!(
                "remote cache {}: {what}: {error}; skipped, and the rest of this run does without the remote cache (local work and the mirrors instead)",
                self.url
            );
        }
    }

    /// A blob whose bytes are not what was asked for: a miss.
    fn corrupt(&self, what: &str, detail: &dyn std::fmt::Display) {
        self.skipped.fetch_add(1, Ordering::Relaxed);
        tracing::warn!(
            "remote cache {}: {what}: the registry served a corrupt blob ({detail}); skipped it, doing that work locally",
            self.url
        );
    }

    pub(crate) fn note_entry(&self, kind: Kind, digest: &Sha256Digest) {
        if self.mode == Mode::ReadWrite
            && let Ok(mut set) = self.used_entries.lock()
        {
            set.insert((kind_code(kind), *digest));
        }
    }

    pub(crate) fn note_release(&self, text_sha256: &Sha256Digest) {
        if self.mode == Mode::ReadWrite
            && let Ok(mut set) = self.used_releases.lock()
        {
            set.insert(*text_sha256);
        }
    }

    pub(crate) fn note_layer(&self, key: &Sha256Digest) {
        if self.mode == Mode::ReadWrite
            && let Ok(mut set) = self.used_layers.lock()
        {
            set.insert(*key);
        }
    }

    pub(crate) fn note_file(&self, tag: String, path: &std::path::Path) {
        if self.mode == Mode::ReadWrite
            && let Ok(mut map) = self.used_files.lock()
        {
            map.insert(tag, path.to_owned());
        }
    }

    /// Writes the one file of `tag` to `dest` (atomically); true if it is there now. Its reader
    /// checks what it holds (an unpack record names its format and producer).
    pub(crate) fn pull_file(&self, tag: &str, dest: &std::path::Path) -> bool {
        if !self.usable() {
            return false;
        }
        let manifest = match self.registry.get_manifest(tag) {
            Ok(Some(m)) => m,
            Ok(None) => return false,
            Err(e) => {
                self.give_up(tag, &e);
                return false;
            }
        };
        let Some(digest) = serde_json::from_slice::<Manifest>(&manifest)
            .ok()
            .and_then(|m| m.layers().first().and_then(|l| l.sha256().ok()))
        else {
            self.corrupt(tag, &"its manifest is not an OCI image manifest with a layer");
            return false;
        };
        let bytes = match self.registry.get_small_blob(&digest, 512 << 20) {
            Ok(Some(b)) => b,
            Ok(None) => return false,
            Err(e @ RegistryError::Other(_)) => {
                self.corrupt(tag, &e);
                return false;
            }
            Err(e) => {
                self.give_up(tag, &e);
                return false;
            }
        };
        let Some(dir) = dest.parent() else { return false };
        let written =
            std::fs::create_dir_all(dir).and_then(|()| crate::store::replace_file(dir, dest, &bytes, false));
        match written {
            Ok(()) => {
                self.bytes_downloaded
                    .fetch_add(bytes.len() as u64, Ordering::Relaxed);
                self.files_downloaded.fetch_add(1, Ordering::Relaxed);
                true
            }
            Err(e) => {
                tracing::debug!("remote cache: {tag}: {}: {e}", dest.display());
                false
            }
        }
    }

    /// Streams the blob `expected` names into the store, verified; true if it is there now.
    pub(crate) fn pull_entry(&self, store: &Store, kind: Kind, expected: &Expected, what: &str) -> bool {
        if !self.usable() {
            return false;
        }
        let what = format!("{what} (blob {})", expected.sha256.oci());
        let reader = match self.registry.get_blob(&expected.sha256) {
            Ok(Some(r)) => r,
            Ok(None) => return false,
            Err(e) => {
                self.give_up(&what, &e);
                return false;
            }
        };
        let mut reader = reader;
        match store.insert(kind, Some(expected), &what, |w| {
            io::copy(&mut reader, w).map(|_| ())
        }) {
            Ok(Ok(_)) => {
                self.bytes_downloaded.fetch_add(expected.size, Ordering::Relaxed);
                self.files_downloaded.fetch_add(1, Ordering::Relaxed);
                tracing::debug!("remote cache: {what} from the registry");
                true
            }
            Ok(Err(e)) => {
                self.give_up(
                    &what,
                    &RegistryError::Io {
                        what: "reading the blob".into(),
                        source: e,
                    },
                );
                false
            }
            Err(StoreError::Mismatch(m)) => {
                self.corrupt(&what, &m);
                false
            }
            Err(e) => {
                tracing::warn!("remote cache: {what}: {e}");
                false
            }
        }
    }

    /// The image manifest tag `tag` names, if the registry has one that parses (a failure is
    /// reported: given up on, or counted as corrupt).
    fn tagged_manifest(&self, tag: &str) -> Option<Manifest> {
        let bytes = match self.registry.get_manifest(tag) {
            Ok(Some(m)) => m,
            Ok(None) => return None,
            Err(e) => {
                self.give_up(tag, &e);
                return None;
            }
        };
        match serde_json::from_slice::<Manifest>(&bytes) {
            Ok(m) => Some(m),
            Err(_) => {
                self.corrupt(tag, &"its manifest is not an OCI image manifest");
                None
            }
        }
    }

    /// Puts the files of tag `release-<hex>` into the store; true if it has some now.
    pub(crate) fn pull_release(&self, store: &Store, text_sha256: &Sha256Digest) -> bool {
        if !self.usable()
            || !self
                .asked_releases
                .lock()
                .is_ok_and(|mut s| s.insert(*text_sha256))
        {
            return false;
        }
        let tag = format!("release-{}", text_sha256.hex());
        let Some(manifest) = self.tagged_manifest(&tag) else {
            return false;
        };
        let mut any = false;
        for layer in manifest.layers() {
            let Some(suffix) = layer
                .annotation(ANNOTATION_TITLE)
                .filter(|t| RELEASE_SUFFIXES.contains(t))
            else {
                continue;
            };
            let Ok(digest) = layer.sha256() else {
                continue;
            };
            match self.registry.get_small_blob(&digest, 64 << 20) {
                Ok(Some(bytes)) => {
                    // The archive client verifies the signature and the text's hash before use.
                    if store.insert_release_file(text_sha256, suffix, &bytes).is_ok() {
                        self.bytes_downloaded
                            .fetch_add(bytes.len() as u64, Ordering::Relaxed);
                        self.files_downloaded.fetch_add(1, Ordering::Relaxed);
                        any = true;
                    }
                }
                Ok(None) => {}
                Err(e @ RegistryError::Other(_)) => self.corrupt(&tag, &e),
                Err(e) => {
                    self.give_up(&tag, &e);
                    return any;
                }
            }
        }
        any
    }

    /// Puts the record and blob of tag `layer-<key>` into the layer cache; true if it is there.
    pub(crate) fn pull_layer(&self, cache: &LayerCache, key: &Sha256Digest) -> bool {
        if !self.usable() {
            return false;
        }
        let tag = format!("layer-{}", key.hex());
        let Some(manifest) = self.tagged_manifest(&tag) else {
            return false;
        };
        let Ok(record_digest) = manifest.config().sha256() else {
            self.corrupt(&tag, &"its config has no sha256 digest");
            return false;
        };
        let record = match self.registry.get_small_blob(&record_digest, 16 << 20) {
            Ok(Some(bytes)) => match serde_json::from_slice::<CachedLayer>(&bytes) {
                Ok(r) => r,
                Err(e) => {
                    self.corrupt(&tag, &e);
                    return false;
                }
            },
            Ok(None) => return false,
            Err(e @ RegistryError::Other(_)) => {
                self.corrupt(&tag, &e);
                return false;
            }
            Err(e) => {
                self.give_up(&tag, &e);
                return false;
            }
        };
        let what = format!("layer {} (key {})", record.digest.oci(), key.hex());
        let reader = match self.registry.get_blob(&record.digest) {
            Ok(Some(r)) => r,
            Ok(None) => return false,
            Err(e) => {
                self.give_up(&what, &e);
                return false;
            }
        };
        match put_layer_blob(cache, &record, reader) {
            Ok(Ok(())) => {}
            Ok(Err((actual, actual_size))) => {
                self.corrupt(
                    &what,
                    &format!(
                        "expected {} bytes with that digest, got {actual_size} bytes with {}",
                        record.size,
                        actual.oci()
                    ),
                );
                return false;
            }
            Err(e) => {
                self.give_up(
                    &what,
                    &RegistryError::Io {
                        what: "reading the blob".into(),
                        source: e,
                    },
                );
                return false;
            }
        }
        if let Err(e) = cache.put(key, &record) {
            tracing::warn!("remote cache: {what}: {e}");
            return false;
        }
        self.bytes_downloaded.fetch_add(record.size, Ordering::Relaxed);
        self.layers_downloaded.fetch_add(1, Ordering::Relaxed);
        tracing::debug!("remote cache: {what} from the registry");
        true
    }

    /// Pushes what this run used that the registry lacks.
    pub(crate) fn write_back(&self, store: &Store) {
        if self.mode != Mode::ReadWrite || !self.usable() {
            return;
        }
        let started = std::time::Instant::now();
        let entries: Vec<(u8, Sha256Digest)> = take(&self.used_entries);
        let releases: Vec<Sha256Digest> = take(&self.used_releases);
        let layers: Vec<Sha256Digest> = take(&self.used_layers);
        let already = AtomicUsize::new(0);
        let before = self.stats();
        let cache = LayerCache::open(store).ok();
        self.parallel(&entries, |&(code, digest)| {
            let path = store.path(code_kind(code), &digest);
            self.push_blob(&digest, &path, &already).map(|_| ())
        });
        self.parallel(&releases, |hash| self.push_release(store, hash, &already));
        if let Some(cache) = &cache {
            self.parallel(&layers, |key| self.push_layer(cache, key, &already));
        }
        let files: Vec<(String, std::path::PathBuf)> = self
            .used_files
            .lock()
            .map(|mut m| std::mem::take(&mut *m).into_iter().collect())
            .unwrap_or_default();
        self.parallel(&files, |(tag, path)| self.push_file(tag, path, &already));
        let after = self.stats();
        if after.pushed > before.pushed || !entries.is_empty() || !layers.is_empty() {
            tracing::info!(
                "remote cache {}: pushed {} blob(s) and tag(s) ({} bytes), {} already there ({:.2?})",
                self.url,
                after.pushed - before.pushed,
                after.bytes_uploaded - before.bytes_uploaded,
                already.load(Ordering::Relaxed),
                started.elapsed()
            );
        }
    }

    /// Runs `f` over `items` on up to `jobs` threads; stops at the first error (one warning).
    fn parallel<T: Sync>(&self, items: &[T], f: impl Fn(&T) -> Result<(), (String, RegistryError)> + Sync) {
        let next = AtomicUsize::new(0);
        std::thread::scope(|s| {
            for _ in 0..self.jobs.min(items.len()) {
                s.spawn(|| {
                    while self.usable() {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some(item) = items.get(i) else { break };
                        if let Err((what, e)) = f(item) {
                            self.give_up(&format!("pushing {what}"), &e);
                        }
                    }
                });
            }
        });
    }

    /// Uploads a file as a blob unless the registry has it; returns its size.
    fn push_blob(
        &self,
        digest: &Sha256Digest,
        path: &std::path::Path,
        already: &AtomicUsize,
    ) -> Result<u64, (String, RegistryError)> {
        let what = || format!("blob {} ({})", digest.oci(), path.display());
        let size = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
        if self.registry.has_blob(digest).map_err(|e| (what(), e))? {
            already.fetch_add(1, Ordering::Relaxed);
            return Ok(size);
        }
        self.registry
            .put_blob(digest, &Body::File(path))
            .map_err(|e| (what(), e))?;
        self.pushed.fetch_add(1, Ordering::Relaxed);
        self.bytes_uploaded.fetch_add(size, Ordering::Relaxed);
        Ok(size)
    }

    fn push_bytes(
        &self,
        bytes: &[u8],
        already: &AtomicUsize,
    ) -> Result<Sha256Digest, (String, RegistryError)> {
        let digest = Sha256Digest::of(bytes);
        let what = || format!("blob {}", digest.oci());
        if self.registry.has_blob(&digest).map_err(|e| (what(), e))? {
            already.fetch_add(1, Ordering::Relaxed);
        } else {
            self.registry
                .put_blob(&digest, &Body::Bytes(bytes))
                .map_err(|e| (what(), e))?;
            self.pushed.fetch_add(1, Ordering::Relaxed);
            self.bytes_uploaded
                .fetch_add(bytes.len() as u64, Ordering::Relaxed);
        }
        Ok(digest)
    }

    /// Pushes `config` (of media type `config_type`, also the manifest's `artifactType`) and tags
    /// `tag` with the manifest of that config and `layers` (pushed already).
    fn put_tag(
        &self,
        tag: &str,
        config_type: &str,
        config: &[u8],
        layers: Vec<Descriptor>,
        already: &AtomicUsize,
    ) -> Result<(), (String, RegistryError)> {
        let config_digest = self.push_bytes(config, already)?;
        let manifest = oci_spec::image::ImageManifestBuilder::default()
            .schema_version(2u32)
            .media_type(MEDIA_TYPE_MANIFEST)
            .artifact_type(config_type)
            .config(descriptor(config_type, &config_digest, config.len() as u64))
            .layers(layers)
            .build()
            .map_err(|e| (tag.to_owned(), RegistryError::Other(e.to_string())))?;
        let bytes = crate::oci::to_canonical_json(&manifest)
            .map_err(|e| (tag.to_owned(), RegistryError::Other(e.to_string())))?;
        self.registry
            .put_manifest(tag, &bytes)
            .map_err(|e| (format!("tag {tag}"), e))?;
        self.pushed.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }

    fn push_release(
        &self,
        store: &Store,
        hash: &Sha256Digest,
        already: &AtomicUsize,
    ) -> Result<(), (String, RegistryError)> {
        let tag = format!("release-{}", hash.hex());
        if self.registry.has_manifest(&tag).map_err(|e| (tag.clone(), e))? {
            already.fetch_add(1, Ordering::Relaxed);
            return Ok(());
        }
        let mut layers = Vec::new();
        for suffix in RELEASE_SUFFIXES {
            let Ok(Some(bytes)) = store.read_release_file(hash, suffix) else {
                continue;
            };
            let digest = self.push_bytes(&bytes, already)?;
            layers.push(
                descriptor(MEDIA_TYPE_FILE, &digest, bytes.len() as u64)
                    .with_annotation(ANNOTATION_TITLE, suffix),
            );
        }
        if layers.is_empty() {
            return Ok(());
        }
        let config = serde_json::to_vec(&serde_json::json!({ "release": hash.hex() })).unwrap_or_default();
        self.put_tag(&tag, MEDIA_TYPE_RELEASE_CONFIG, &config, layers, already)
    }

    fn push_file(
        &self,
        tag: &str,
        path: &std::path::Path,
        already: &AtomicUsize,
    ) -> Result<(), (String, RegistryError)> {
        if self.registry.has_manifest(tag).map_err(|e| (tag.to_owned(), e))? {
            already.fetch_add(1, Ordering::Relaxed);
            return Ok(());
        }
        let Ok(bytes) = std::fs::read(path) else {
            return Ok(());
        };
        let digest = self.push_bytes(&bytes, already)?;
        let config = serde_json::to_vec(&serde_json::json!({ "file": tag })).unwrap_or_default();
        self.put_tag(
            tag,
            MEDIA_TYPE_FILE_CONFIG,
            &config,
            vec![descriptor(MEDIA_TYPE_FILE, &digest, bytes.len() as u64)],
            already,
        )
    }

    fn push_layer(
        &self,
        cache: &LayerCache,
        key: &Sha256Digest,
        already: &AtomicUsize,
    ) -> Result<(), (String, RegistryError)> {
        let tag = format!("layer-{}", key.hex());
        let Some(record) = cache.get_local(key) else {
            return Ok(());
        };
        if self.registry.has_manifest(&tag).map_err(|e| (tag.clone(), e))? {
            already.fetch_add(1, Ordering::Relaxed);
            return Ok(());
        }
        let path = cache.blob_path(&record.digest);
        self.push_blob(&record.digest, &path, already)?;
        let config =
            serde_json::to_vec(&record).map_err(|e| (tag.clone(), RegistryError::Other(e.to_string())))?;
        self.put_tag(
            &tag,
            MEDIA_TYPE_LAYER_RECORD,
            &config,
            vec![descriptor(&record.media_type, &record.digest, record.size)],
            already,
        )
    }
}

fn take<T: Clone + Ord>(set: &Mutex<BTreeSet<T>>) -> Vec<T> {
    set.lock()
        .map(|mut s| std::mem::take(&mut *s).into_iter().collect())
        .unwrap_or_default()
}

/// Streams a layer blob into the cache's blob directory, verified against `record`, and renames
/// it into place. `Ok(Err((digest, size)))`: the bytes were something else.
fn put_layer_blob(
    cache: &LayerCache,
    record: &CachedLayer,
    mut reader: impl io::Read,
) -> io::Result<Result<(), (Sha256Digest, u64)>> {
    let dir = cache.blob_dir();
    let (tmp, _owned) = crate::cleanup::temp_file(&dir, ".blob-")?;
    let mut writer = HashingWriter::new(io::BufWriter::new(tmp));
    io::copy(&mut io::Read::take(&mut reader, record.size + 1), &mut writer)?;
    writer.flush()?;
    let (digest, size, buffered) = writer.finish();
    if digest != record.digest || size != record.size {
        return Ok(Err((digest, size)));
    }
    let tmp = buffered.into_inner().map_err(|e| e.into_error())?;
    tmp.as_file().sync_all()?;
    tmp.persist(cache.blob_path(&record.digest))
        .map_err(|e| e.error)?;
    cache.record_verified(&record.digest);
    Ok(Ok(()))
}
