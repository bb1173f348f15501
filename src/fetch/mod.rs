//! Downloading: the one transport that `lock` and `fetch` use for everything they bring in
//! (Release files, indices, `.deb`s), mirror resolution, and filling the package store.
//!
//! - [`mirrors`]: which base URLs carry an archive (`--mirror`, `DEBCAST_MIRRORS`, apt sources,
//!   URL templates filled from the lock's Release dates).
//! - [`transport`]: the HTTP(S)/`file://` client: timeouts, retries with backoff, `Range` resume,
//!   mirror failover, verification while streaming. [`Transport::offline`] never opens a socket.
//! - [`packages`]: filling the store from a lockfile ([`fetch_packages`]) and the offline check
//!   ([`missing_packages`]).
//! - [`artifacts`]: pinning `[[artifact]]` URLs while locking and bringing them into the store.
//! - [`observed`]: what the run has seen of its mirrors (first-byte times, failure streaks),
//!   that the hedge delay and the backoff adapt to.
//! - [`progress`]: progress display, kept apart from the logic.
//!
//! # Failure classification
//!
//! Every failed attempt is an [`AttemptError`] of one [`ErrorClass`]:
//! - transient (timeouts, stalls, refused/reset connections, truncated bodies, 408, 429, 5xx):
//!   retried on the same mirror with exponential backoff and jitter (or the server's
//!   `Retry-After`), resuming with `Range` when the server supports it;
//! - permanent for this mirror (404, 410, other 4xx, TLS and redirect failures, the same wrong
//!   body twice): the next mirror is tried; wrong bodies that differ each time are transit damage,
//!   retried from scratch like transient failures; a mirror that cannot be connected to at all
//!   is left after a retry when another may answer;
//! - permanent everywhere (a bad path, a full disk, offline mode): the download fails at once.

pub mod artifacts;
pub mod mirrors;
pub mod noise;
pub mod observed;
pub mod packages;
pub mod progress;
pub mod report;
pub mod transport;

use std::fmt;
use std::time::Duration;

use crate::hash::Sha256Digest;
use crate::store::StoreError;

pub use mirrors::{Mirror, MirrorError, Mirrors};
pub use packages::{
    FetchOptions, FetchReport, FetchedFile, MissingPackages, check_offline, check_offline_inputs,
    fetch_packages, missing_packages,
};
pub use progress::{LogProgress, NoProgress, Progress};
pub use transport::{BodyCheck, Downloaded, RemoteFile, Transport, TransportConfig, parse_duration};

/// What a download must be (defined beside the digest, so the store needs nothing from fetch).
pub use crate::hash::Expected;

/// Brings a file of an archive (`dists/bookworm/InRelease`, `pool/main/…`) from that archive's
/// mirrors. The archive client is written against this trait so it can be tested without a network.
pub trait Downloader: Send + Sync {
    /// Downloads `path` (relative to the archive root) of `archive`. With `expected`, the bytes are
    /// verified while streaming; a mismatch is an error and nothing is returned.
    fn get(&self, archive: &str, path: &str, expected: Option<Expected>) -> Result<Vec<u8>, FetchError>;

    /// Downloads a file no hash pins, accepting only a body `check` accepts; a refused body is
    /// retried (and failed over) like a wrong one. The default downloads once and leaves the
    /// checking to the caller.
    fn get_checked(&self, archive: &str, path: &str, check: &BodyCheck<'_>) -> Result<Vec<u8>, FetchError> {
        let _ = check;
        self.get(archive, path, None)
    }
    /// Whether every download fails at once (`--offline`): callers then say what the store lacks.
    fn is_offline(&self) -> bool {
        false
    }
}

/// How a failure should be handled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorClass {
    /// Worth retrying on the same mirror after a pause.
    Transient,
    /// This mirror will not serve it; another mirror may.
    Mirror,
    /// No mirror can help.
    Permanent,
}

/// Why one attempt at one mirror failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AttemptError {
    #[error("cannot connect: {0}")]
    Connect(String),
    #[error("timed out: {0}")]
    Timeout(String),
    #[error("connection broken: {0}")]
    Interrupted(String),
    #[error("body ended after {got} of {expected} bytes")]
    Truncated { got: u64, expected: u64 },
    #[error("HTTP {code}{}", retry_after.map(|d| format!(" (Retry-After: {}s)", d.as_secs())).unwrap_or_default())]
    Status {
        code: u16,
        retry_after: Option<Duration>,
    },
    #[error("not found (HTTP {0})")]
    NotFound(u16),
    #[error("{0}")]
    NotFoundFile(String),
    #[error(
        "wrong content: expected {expected_size} bytes with SHA-256 {expected}, got {actual_size} bytes with SHA-256 {actual}"
    )]
    Mismatch {
        expected: Sha256Digest,
        expected_size: u64,
        actual: Sha256Digest,
        actual_size: u64,
    },
    #[error("wrong size: expected {expected} bytes, the server announced {announced}")]
    WrongSize { expected: u64, announced: u64 },
    #[error("refused: {reason}")]
    Refused {
        reason: String,
        actual: Sha256Digest,
        actual_size: u64,
    },
    #[error("larger than the {limit}-byte limit for unverified downloads")]
    TooLarge { limit: u64 },
    #[error("unusable range answer: {0}")]
    BadRange(String),
    #[error("TLS: {0}")]
    Tls(String),
    #[error("{0}")]
    Protocol(String),
    #[error("{0}")]
    Unusable(String),
    #[error("reading local mirror: {0}")]
    File(String),
}

impl AttemptError {
    pub fn class(&self) -> ErrorClass {
        use AttemptError::*;
        match self {
            Connect(_) | Timeout(_) | Interrupted(_) | Truncated { .. } | Protocol(_) | BadRange(_) => {
                ErrorClass::Transient
            }
            Status { code, .. } if *code == 408 || *code == 429 || *code >= 500 => ErrorClass::Transient,
            Status { .. } | NotFound(_) | NotFoundFile(_) | Tls(_) | Unusable(_) | File(_) => {
                ErrorClass::Mirror
            }
            // Retried from scratch on the same mirror while the wrong bytes differ (transit
            // corruption); the same wrong bytes twice move on to the next mirror.
            Mismatch { .. } | WrongSize { .. } | TooLarge { .. } | Refused { .. } => ErrorClass::Mirror,
        }
    }

    /// Whether a body was refused by the download's check (see [`Downloader::get_checked`]).
    pub fn is_refused(&self) -> bool {
        matches!(self, AttemptError::Refused { .. })
    }

    fn is_not_found(&self) -> bool {
        matches!(self, AttemptError::NotFound(_) | AttemptError::NotFoundFile(_))
    }
}

/// The last error one mirror gave for one file, and how many attempts it got.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MirrorFailure {
    pub mirror: String,
    pub attempts: u32,
    pub error: AttemptError,
}

impl fmt::Display for MirrorFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = if self.attempts == 1 { "" } else { "s" };
        write!(
            f,
            "{}: {} ({} attempt{s})",
            self.mirror, self.error, self.attempts
        )
    }
}

fn list(failures: &[MirrorFailure]) -> String {
    failures.iter().map(|f| format!("\n  - {f}")).collect()
}

#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    #[error(transparent)]
    Mirror(#[from] MirrorError),
    #[error("{what}: not downloading from archive `{archive}`: offline (--offline)")]
    Offline { archive: String, what: String },
    #[error("{what}: every mirror failed:{}", list(failures))]
    AllMirrorsFailed {
        what: String,
        failures: Vec<MirrorFailure>,
    },
    #[error("{what}: gave up after the {deadline:?} deadline:{}", list(failures))]
    Deadline {
        what: String,
        deadline: Duration,
        failures: Vec<MirrorFailure>,
    },
    #[error("{what}: `{path}` is not a path relative to an archive root")]
    InvalidPath { what: String, path: String },
    #[error("{what}: writing the download: {error}")]
    Write { what: String, error: String },
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(
        "{what}: the manifest pins SHA-256 {expected}, but the URL served {size} bytes with SHA-256 {actual}; the bytes under that URL changed, or the manifest's sha256 is wrong"
    )]
    ArtifactHash {
        what: String,
        expected: Sha256Digest,
        actual: Sha256Digest,
        size: u64,
    },
    #[error("{} of {total} files could not be fetched:{}", failures.len(), failures.iter().map(|e| format!("\n{e}")).collect::<String>())]
    Packages { total: usize, failures: Vec<FetchError> },
}

impl FetchError {
    /// How many files every mirror answered "not found" for: pruned from the live archive,
    /// likely (the CLI then prints one hint, see `commands::fetch`).
    pub fn not_found_everywhere(&self) -> usize {
        match self {
            FetchError::AllMirrorsFailed { failures, .. } => {
                usize::from(!failures.is_empty() && failures.iter().all(|f| f.error.is_not_found()))
            }
            FetchError::Packages { failures, .. } => {
                failures.iter().map(FetchError::not_found_everywhere).sum()
            }
            _ => 0,
        }
    }

    /// Whether trying again later could help (every mirror failed only transiently).
    pub fn is_transient(&self) -> bool {
        match self {
            FetchError::AllMirrorsFailed { failures, .. } | FetchError::Deadline { failures, .. } => {
                failures.iter().all(|f| f.error.class() == ErrorClass::Transient)
            }
            FetchError::Packages { failures, .. } => failures.iter().all(FetchError::is_transient),
            _ => false,
        }
    }
}
