//! Downloading: the one transport that `lock` and `fetch` use for everything they bring in
//! (Release files, indices, `.deb`s), mirror resolution, and filling the package store.

use crate::hash::Sha256Digest;

/// What a download must be: verified while streaming, never stored or returned otherwise.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Expected {
    pub size: u64,
    pub sha256: Sha256Digest,
}

/// Brings a file of an archive (`dists/bookworm/InRelease`, `pool/main/…`) from that archive's
/// mirrors. The archive client is written against this trait so it can be tested without a network.
pub trait Downloader: Send + Sync {
    /// Downloads `path` (relative to the archive root) of `archive`. With `expected`, the bytes are
    /// verified while streaming; a mismatch is an error and nothing is returned.
    fn get(&self, archive: &str, path: &str, expected: Option<Expected>) -> Result<Vec<u8>, FetchError>;
}

/// Placeholder error until the transport lands; the transport module replaces it.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct FetchError(pub String);
