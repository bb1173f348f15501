//! The remote cache: the store's content kept in an OCI registry (`--remote-cache URL`), shared
//! by machines that start with an empty disk (CI workers).
//!
//! What is kept, under the repository the URL names:
//!
//! | store entry | in the registry |
//! | --- | --- |
//! | `.deb`s, artifacts, archive indices | blobs, under their own SHA-256 |
//! | signed Releases (named by the hash of their signed text) | tag `release-<hex>`: a manifest whose layers are the files, titled by suffix |
//! | unpack records (`unpacked/v<N>/<hex>-<mode>.json`) | tag `unpacked-v<N>-<hex>-<mode>`: a manifest whose layer is the record |
//! | layer cache: key -> layer | tag `layer-<key hex>`: a manifest whose config is the key record (digest, size, diff_id, media type, …) and whose one layer is the layer blob |
//!
//! Read-through: what the local store lacks is asked of the registry first (before the mirrors),
//! streamed into the store and verified against the expected digest and size like a mirror's
//! bytes; a layer record's blob must match the record. Write-back (`read-write` mode): at the end
//! of `fetch`/`build`, what the run used and the registry lacks (blob `HEAD`, tag `HEAD`) is
//! uploaded.
//!
//! The cache is never needed for correctness: an error (unreachable, 5xx after the transport's
//! retries, refused credentials) is one warning, and the rest of the run works without the
//! registry; a corrupt blob is a warning and a miss. Either way the bytes built are the same.
//!
//! Trust: a blob is verified by digest; the mapping from a layer key (a hash of everything the
//! layer is made from) to a layer is trusted as far as write access to the repository is, as
//! with any shared build cache: give CI jobs that build untrusted changes `read` mode, or their
//! own repository.

mod auth;
mod cache;
mod registry;

use std::sync::OnceLock;

pub use cache::{Mode, RemoteCache, RemoteStats};
pub use registry::{Registry, RegistryError};

use crate::fetch::Expected;
use crate::hash::Sha256Digest;
use crate::store::{Kind, LayerCache, Store};

/// The environment variable that names the remote cache when `--remote-cache` is not given.
pub const REMOTE_CACHE_ENV: &str = "DEBCAST_REMOTE_CACHE";

static ACTIVE: OnceLock<RemoteCache> = OnceLock::new();

/// Makes `cache` this process's remote cache (once; later calls are ignored).
pub fn install(cache: RemoteCache) {
    let _ = ACTIVE.set(cache);
}

/// This process's remote cache, if one was installed.
pub fn active() -> Option<&'static RemoteCache> {
    ACTIVE.get()
}

/// Store hook: the store lacks an entry; takes it from the registry if it has it (verified).
pub(crate) fn pull(store: &Store, kind: Kind, expected: &Expected, what: &str) -> bool {
    active().is_some_and(|r| r.pull_entry(store, kind, expected, what))
}

/// Store hook: the store lacks a signed Release's files; takes them from the registry.
pub(crate) fn pull_release(store: &Store, text_sha256: &Sha256Digest) -> bool {
    active().is_some_and(|r| r.pull_release(store, text_sha256))
}

/// Layer cache hook: the cache lacks a key; takes its record and blob from the registry.
pub(crate) fn pull_layer(cache: &LayerCache, key: &Sha256Digest) -> bool {
    active().is_some_and(|r| r.pull_layer(cache, key))
}

/// Store hook: this run used an entry (to push at the end, in `read-write` mode).
pub(crate) fn note(kind: Kind, digest: &Sha256Digest) {
    if let Some(r) = active() {
        r.note_entry(kind, digest);
    }
}

pub(crate) fn note_release(text_sha256: &Sha256Digest) {
    if let Some(r) = active() {
        r.note_release(text_sha256);
    }
}

pub(crate) fn note_layer(key: &Sha256Digest) {
    if let Some(r) = active() {
        r.note_layer(key);
    }
}

/// Hook for small files under a tag of their own (unpack records): the file at `dest` is
/// missing; takes it from the registry.
pub(crate) fn pull_file(tag: &str, dest: &std::path::Path) -> bool {
    active().is_some_and(|r| r.pull_file(tag, dest))
}

/// This run used (or wrote) the file of `tag` at `path`.
pub(crate) fn note_file(tag: String, path: &std::path::Path) {
    if let Some(r) = active() {
        r.note_file(tag, path);
    }
}

/// Pushes what this run used and the registry lacks (`read-write` mode); never fails.
pub fn write_back(store: &Store) {
    if let Some(r) = active() {
        r.write_back(store);
    }
}
