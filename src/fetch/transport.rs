//! The one download client: HTTP(S) through `ureq` (blocking, no async runtime) and `file://`.
//!
//! Per file, attempts go through the archive's mirrors in order. Each failed attempt is classified
//! ([`AttemptError::class`]):
//! - transient: retried on the same mirror up to [`TransportConfig::retries`] times, after an
//!   exponential backoff with jitter, or after the server's `Retry-After` (capped; a mirror asking
//!   for longer than the cap is moved behind the others once, when another may be reachable;
//!   mirrors that could not be connected to at all are tried last by later files). A retry resumes
//!   with `Range: bytes=N-` when the file is verified by hash; a server that ignores `Range` answers
//!   200 and the bytes already held are skipped from its body. The whole file's hash is checked in
//!   the end either way.
//! - permanent for this mirror: the next mirror. A body that fails verification is retried from
//!   scratch on the same mirror while each wrong body differs (corruption in transit, within the
//!   retry budget); the same wrong body again means the mirror has another file there. A mirror
//!   that refuses connections is left after [`TransportConfig::connect_retries`] while another may
//!   answer.
//! - permanent: the download fails at once.
//!
//! Bytes go through a [`Destination`] that can only be appended to or thrown away whole, so a
//! body that does not verify is never kept: the destination is discarded and the download starts
//! over on a fresh one.

use std::collections::{HashMap, HashSet};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::sync::{Condvar, Mutex};
use std::thread;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use rand::Rng;
use sha2::{Digest, Sha256};
use url::Url;

use super::mirrors::{Mirror, Mirrors};
use super::progress::{NoProgress, Progress};
use super::{AttemptError, Downloader, ErrorClass, Expected, FetchError, MirrorFailure};
use crate::hash::Sha256Digest;
use crate::lockfile::parse_release_date;
use crate::store::{Kind, Store, StoreError};

/// Timeouts, retry counts and limits. The defaults suit real mirrors; tests use tiny ones.
#[derive(Debug, Clone)]
pub struct TransportConfig {
    /// Downloads in flight at once, across all threads using this transport.
    pub concurrency: usize,
    /// Establishing a connection (DNS, TCP, TLS).
    pub connect_timeout: Duration,
    /// No byte received for this long (while waiting for headers or body) fails the attempt.
    pub stall_timeout: Duration,
    /// One attempt (one request and its whole body).
    pub attempt_timeout: Duration,
    /// One file, across all its attempts and mirrors.
    pub deadline: Duration,
    /// Transient failures retried per mirror before moving to the next one.
    pub retries: u32,
    /// Failures to connect at all retried on a mirror before moving on, when a later mirror may
    /// be reachable (the last such mirror gets the whole `retries`): a mirror that is down should
    /// cost a moment, not a whole backoff series, while another one answers.
    pub connect_retries: u32,
    /// How often a mirror may send the *same* wrong body (same hash, or same wrong announced
    /// size) again before it is taken to serve another file under that path and the next mirror
    /// is tried. Wrong bodies that differ each time are damage in transit and are retried from
    /// scratch within the [`Self::retries`] budget.
    pub mismatch_retries: u32,
    /// First backoff; doubles with each retry, up to `backoff_max`, with jitter (50–100%).
    pub backoff_base: Duration,
    pub backoff_max: Duration,
    /// The longest `Retry-After` honoured. A mirror asking for longer is moved behind the other
    /// mirrors (once); when there is no other (reachable) one, this long is waited instead.
    pub retry_after_max: Duration,
    /// The largest download without an expected size (Release files, while locking).
    pub max_unverified_size: u64,
    pub user_agent: String,
}

impl Default for TransportConfig {
    fn default() -> Self {
        TransportConfig {
            concurrency: 8,
            connect_timeout: Duration::from_secs(15),
            stall_timeout: Duration::from_secs(30),
            attempt_timeout: Duration::from_secs(30 * 60),
            deadline: Duration::from_secs(60 * 60),
            retries: 5,
            connect_retries: 1,
            mismatch_retries: 1,
            backoff_base: Duration::from_millis(500),
            backoff_max: Duration::from_secs(30),
            retry_after_max: Duration::from_secs(60),
            max_unverified_size: 512 << 20,
            user_agent: concat!("debcast/", env!("CARGO_PKG_VERSION")).to_owned(),
        }
    }
}

impl TransportConfig {
    /// The backoff before retry number `retry` (1-based), before jitter.
    pub fn backoff(&self, retry: u32) -> Duration {
        let factor = 1u32
            .checked_shl(retry.saturating_sub(1).min(31))
            .unwrap_or(u32::MAX);
        self.backoff_base.saturating_mul(factor).min(self.backoff_max)
    }
}

/// Parses a duration as the CLI takes it: a number with a unit, `ms`, `s`, `m` or `h`
/// (`250ms`, `1.5s`, `2m`); a bare number is seconds.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let t = text.trim();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (number, unit) = t.split_at(split);
    let value: f64 = number
        .parse()
        .map_err(|_| format!("`{text}` is not a duration (e.g. 500ms, 15s, 2m, 1h)"))?;
    let scale = match unit.trim() {
        "ms" => 0.001,
        "" | "s" => 1.0,
        "m" => 60.0,
        "h" => 3600.0,
        other => return Err(format!("`{text}`: unknown unit `{other}` (use ms, s, m or h)")),
    };
    Duration::try_from_secs_f64(value * scale).map_err(|e| format!("`{text}`: {e}"))
}

/// What a successful download came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Downloaded {
    /// The mirror base URL that served the (final) bytes.
    pub mirror: String,
    pub bytes: u64,
    /// Failed attempts before it succeeded (on any mirror).
    pub retries: u32,
    /// Attempts that resumed a partial transfer.
    pub resumed: u32,
    pub sha256: Sha256Digest,
}

/// Why a destination attempt stopped early.
pub(crate) enum Interrupt {
    /// Throw away what was written and start again on a fresh destination.
    Restart,
    Fail(FetchError),
}

/// Where bytes go: appended to, and kept only if the writing closure succeeds.
pub(crate) trait Destination {
    /// Runs `write` on a fresh, empty writer; keeps what it wrote only if it returns `Ok`.
    fn attempt(
        &mut self,
        write: &mut dyn FnMut(&mut dyn Write) -> Result<(), Interrupt>,
    ) -> Result<(), Interrupt>;
}

impl Destination for Vec<u8> {
    fn attempt(
        &mut self,
        write: &mut dyn FnMut(&mut dyn Write) -> Result<(), Interrupt>,
    ) -> Result<(), Interrupt> {
        self.clear();
        let r = write(self);
        if r.is_err() {
            self.clear();
        }
        r
    }
}

/// A store entry (written to `tmp/`, renamed into place once verified).
pub(crate) struct StoreDestination<'a> {
    pub store: &'a Store,
    pub kind: Kind,
    pub expected: Option<Expected>,
    pub what: &'a str,
    pub digest: Option<Sha256Digest>,
}

impl Destination for StoreDestination<'_> {
    fn attempt(
        &mut self,
        write: &mut dyn FnMut(&mut dyn Write) -> Result<(), Interrupt>,
    ) -> Result<(), Interrupt> {
        match self
            .store
            .insert(self.kind, self.expected.as_ref(), self.what, |w| write(w))
        {
            Ok(Ok(d)) => {
                self.digest = Some(d);
                Ok(())
            }
            Ok(Err(i)) => Err(i),
            // The transport verified before returning Ok, so a mismatch here means the bytes
            // changed on their way to disk; not something another attempt is likely to fix.
            Err(e @ (StoreError::Io { .. } | StoreError::Mismatch(_))) => Err(Interrupt::Fail(e.into())),
        }
    }
}

/// A counting semaphore bounding requests in flight.
struct Permits {
    free: Mutex<usize>,
    cv: Condvar,
}

struct Permit<'a>(&'a Permits);

impl Permits {
    fn acquire(&self) -> Permit<'_> {
        let mut free = self.free.lock().unwrap_or_else(|e| e.into_inner());
        while *free == 0 {
            free = self.cv.wait(free).unwrap_or_else(|e| e.into_inner());
        }
        *free -= 1;
        Permit(self)
    }
}

impl Drop for Permit<'_> {
    fn drop(&mut self) {
        let mut free = self.0.free.lock().unwrap_or_else(|e| e.into_inner());
        *free += 1;
        self.0.cv.notify_one();
    }
}

struct Online {
    agent: ureq::Agent,
    config: TransportConfig,
    mirrors: Mirrors,
    permits: Permits,
    /// Mirrors that failed to even connect for some file: later files try them last, so a dead
    /// mirror costs its retries once per run, not once per file.
    unreachable: Mutex<HashSet<Url>>,
}

/// The download client. Cheap to share by reference across threads.
pub struct Transport {
    online: Option<Online>,
    config: TransportConfig,
}

impl std::fmt::Debug for Transport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Transport")
            .field("offline", &self.online.is_none())
            .field("config", &self.config)
            .finish()
    }
}

impl Transport {
    pub fn new(mirrors: Mirrors, config: TransportConfig) -> Self {
        let agent_config = ureq::Agent::config_builder()
            // Statuses are classified here, not turned into errors by ureq.
            .http_status_as_error(false)
            .timeout_connect(Some(config.connect_timeout))
            .timeout_resolve(Some(config.connect_timeout))
            .timeout_per_read(Some(config.stall_timeout))
            .timeout_recv_response(Some(config.stall_timeout))
            .user_agent(config.user_agent.as_str())
            .build();
        let online = Online {
            agent: agent_config.new_agent(),
            permits: Permits {
                free: Mutex::new(config.concurrency.max(1)),
                cv: Condvar::new(),
            },
            config: config.clone(),
            mirrors,
            unreachable: Mutex::new(HashSet::new()),
        };
        Transport {
            online: Some(online),
            config,
        }
    }

    /// A transport that never opens a socket (or a file): every download fails with
    /// [`FetchError::Offline`]. No HTTP agent is even constructed.
    pub fn offline() -> Self {
        Transport {
            online: None,
            config: TransportConfig::default(),
        }
    }

    pub fn is_offline(&self) -> bool {
        self.online.is_none()
    }

    pub fn config(&self) -> &TransportConfig {
        &self.config
    }

    /// Downloads into memory, verified against `expected` when given.
    pub fn get_with(
        &self,
        archive: &str,
        path: &str,
        expected: Option<Expected>,
        progress: &dyn Progress,
    ) -> Result<(Vec<u8>, Downloaded), FetchError> {
        let mut buf = Vec::new();
        let d = self.download(archive, path, expected, &mut buf, path, progress)?;
        Ok((buf, d))
    }

    /// Downloads `file` straight into the store (never whole in memory).
    pub fn fetch_into_store(
        &self,
        file: &RemoteFile<'_>,
        store: &Store,
        kind: Kind,
        progress: &dyn Progress,
    ) -> Result<Downloaded, FetchError> {
        let mut dest = StoreDestination {
            store,
            kind,
            expected: file.expected,
            what: file.what,
            digest: None,
        };
        self.download(
            file.archive,
            file.path,
            file.expected,
            &mut dest,
            file.what,
            progress,
        )
    }

    /// Downloads several files, at most `config.concurrency` at a time; results in input order.
    pub fn get_many(&self, items: &[(&str, &str, Option<Expected>)]) -> Vec<Result<Vec<u8>, FetchError>> {
        bounded_map(items.len(), self.config.concurrency, |i| {
            let (archive, path, expected) = items[i];
            self.get(archive, path, expected)
        })
        .into_iter()
        .map(|r| {
            r.unwrap_or_else(|| {
                Err(FetchError::Write {
                    what: "batch".into(),
                    error: "a download thread panicked".into(),
                })
            })
        })
        .collect()
    }

    pub(crate) fn download(
        &self,
        archive: &str,
        path: &str,
        expected: Option<Expected>,
        dest: &mut dyn Destination,
        what: &str,
        progress: &dyn Progress,
    ) -> Result<Downloaded, FetchError> {
        let Some(online) = &self.online else {
            return Err(FetchError::Offline {
                archive: archive.to_owned(),
                what: what.to_owned(),
            });
        };
        if path.is_empty()
            || path.starts_with('/')
            || path.split('/').any(|c| c == ".." || c == ".")
            || path.contains(['?', '#', '\\'])
        {
            return Err(FetchError::InvalidPath {
                what: what.to_owned(),
                path: path.to_owned(),
            });
        }
        let mut mirrors = online.mirrors.resolve(archive)?;
        if let Ok(dead) = online.unreachable.lock() {
            // Stable: the configured order is kept among the reachable and among the unreachable.
            mirrors.sort_by_key(|m| dead.contains(&m.url));
        }
        progress.started(what, expected.map(|e| e.size));
        let mut job = Job {
            online,
            what,
            path,
            expected,
            mirrors,
            index: 0,
            tries_here: 0,
            wrong_bodies: HashMap::new(),
            connect_failures_here: 0,
            attempts_here: 0,
            failures: Vec::new(),
            deferred: HashSet::new(),
            last_error: None,
            retries: 0,
            resumed: 0,
            started: Instant::now(),
            progress,
        };
        let result = loop {
            let mut done = None;
            match dest.attempt(&mut |w| {
                done = Some(job.run(w)?);
                Ok(())
            }) {
                Ok(()) => match done {
                    Some(d) => break Ok(d),
                    None => {
                        break Err(FetchError::Write {
                            what: what.to_owned(),
                            error: "the destination skipped the download".into(),
                        });
                    }
                },
                Err(Interrupt::Restart) => continue,
                Err(Interrupt::Fail(e)) => break Err(e),
            }
        };
        progress.finished(what, result.as_ref());
        result
    }
}

impl Downloader for Transport {
    fn get(&self, archive: &str, path: &str, expected: Option<Expected>) -> Result<Vec<u8>, FetchError> {
        self.get_with(archive, path, expected, &NoProgress)
            .map(|(b, _)| b)
    }
}

/// Computes `f(0..n)` on at most `width` scoped threads (no pool left behind); `None` where `f`
/// panicked.
pub(crate) fn bounded_map<T: Send>(n: usize, width: usize, f: impl Fn(usize) -> T + Sync) -> Vec<Option<T>> {
    let slots: Vec<Mutex<Option<T>>> = (0..n).map(|_| Mutex::new(None)).collect();
    let next = std::sync::atomic::AtomicUsize::new(0);
    let workers = width.clamp(1, n.max(1));
    thread::scope(|s| {
        for _ in 0..workers {
            s.spawn(|| {
                loop {
                    let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    if i >= n {
                        break;
                    }
                    let r = f(i);
                    if let Ok(mut slot) = slots[i].lock() {
                        *slot = Some(r);
                    }
                }
            });
        }
    });
    slots.into_iter().map(|m| m.into_inner().ok().flatten()).collect()
}

/// A file of an archive to download.
#[derive(Debug, Clone, Copy)]
pub struct RemoteFile<'a> {
    pub archive: &'a str,
    /// Relative to the archive root.
    pub path: &'a str,
    pub expected: Option<Expected>,
    /// How messages name it (`bash=5.2 (amd64) (debian/pool/…)`).
    pub what: &'a str,
}

/// The state of one file's download, kept across restarts on fresh destinations.
struct Job<'a> {
    online: &'a Online,
    what: &'a str,
    path: &'a str,
    expected: Option<Expected>,
    mirrors: Vec<Mirror>,
    index: usize,
    tries_here: u32,
    /// Wrong bodies this mirror sent, by what was wrong with them (see [`wrong_body_key`]).
    wrong_bodies: HashMap<String, u32>,
    connect_failures_here: u32,
    attempts_here: u32,
    failures: Vec<MirrorFailure>,
    /// The current mirror's last error (for a deadline's report).
    last_error: Option<AttemptError>,
    /// Mirrors moved to the back after asking for a long `Retry-After`.
    deferred: HashSet<Url>,
    retries: u32,
    resumed: u32,
    started: Instant,
    progress: &'a dyn Progress,
}

/// An opened response body (or file), positioned at `start` bytes into the file.
struct Opened {
    reader: Box<dyn Read + Send>,
    start: u64,
    /// Bytes this body will carry, when announced.
    length: Option<u64>,
}

impl Job<'_> {
    fn config(&self) -> &TransportConfig {
        &self.online.config
    }

    fn remaining(&self) -> Option<Duration> {
        self.config()
            .deadline
            .checked_sub(self.started.elapsed())
            .filter(|d| !d.is_zero())
    }

    /// Gives up on the current mirror with `error`; moves to the next.
    fn abandon(&mut self, error: AttemptError) {
        let mirror = &self.mirrors[self.index];
        self.progress
            .mirror_failed(self.what, mirror.url.as_str(), &error);
        tracing::debug!(what = self.what, mirror = %mirror.url, %error, "giving up on mirror");
        if self.connect_failures_here == self.attempts_here
            && let Ok(mut dead) = self.online.unreachable.lock()
        {
            dead.insert(mirror.url.clone());
        }
        self.failures.push(MirrorFailure {
            mirror: mirror.url.to_string(),
            attempts: self.attempts_here,
            error,
        });
        self.index += 1;
        self.last_error = None;
        self.tries_here = 0;
        self.wrong_bodies.clear();
        self.connect_failures_here = 0;
        self.attempts_here = 0;
    }

    /// Whether a mirror after the current one is not known to be unreachable.
    fn another_may_work(&self) -> bool {
        let dead = self
            .online
            .unreachable
            .lock()
            .map(|d| d.clone())
            .unwrap_or_default();
        self.mirrors[self.index + 1..]
            .iter()
            .any(|m| !dead.contains(&m.url))
    }

    /// Moves the current mirror behind the others (once per mirror), when a later one may be
    /// reachable: a mirror asking to wait longer than we are willing to is tried again only after
    /// the others. Returns whether it did.
    fn defer_current(&mut self) -> bool {
        let url = self.mirrors[self.index].url.clone();
        if self.deferred.contains(&url) {
            return false;
        }
        if !self.another_may_work() {
            return false;
        }
        let m = self.mirrors.remove(self.index);
        self.mirrors.push(m);
        self.deferred.insert(url);
        self.last_error = None;
        self.tries_here = 0;
        self.wrong_bodies.clear();
        self.connect_failures_here = 0;
        self.attempts_here = 0;
        true
    }

    /// Downloads into `sink` (fresh and empty). `Ok` only once the whole file verified.
    fn run(&mut self, sink: &mut dyn Write) -> Result<Downloaded, Interrupt> {
        let mut hasher = Sha256::new();
        let mut written: u64 = 0;
        let outcome = self.run_inner(sink, &mut hasher, &mut written);
        if outcome.is_err() && written > 0 {
            self.progress.discarded(self.what, written);
        }
        outcome
    }

    fn run_inner(
        &mut self,
        sink: &mut dyn Write,
        hasher: &mut Sha256,
        written: &mut u64,
    ) -> Result<Downloaded, Interrupt> {
        loop {
            if self.index >= self.mirrors.len() {
                return Err(Interrupt::Fail(FetchError::AllMirrorsFailed {
                    what: self.what.to_owned(),
                    failures: std::mem::take(&mut self.failures),
                }));
            }
            let Some(remaining) = self.remaining() else {
                // Name the mirror being tried and its last error, not only those given up on.
                if let Some(error) = self.last_error.take() {
                    self.failures.push(MirrorFailure {
                        mirror: self.mirrors[self.index].url.to_string(),
                        attempts: self.attempts_here,
                        error,
                    });
                }
                return Err(Interrupt::Fail(FetchError::Deadline {
                    what: self.what.to_owned(),
                    deadline: self.config().deadline,
                    failures: std::mem::take(&mut self.failures),
                }));
            };
            // Without a hash the pieces of two versions of a changing file could be spliced
            // together undetected, so only verified downloads resume.
            if *written > 0 && self.expected.is_none() {
                return Err(Interrupt::Restart);
            }
            let url = match self.mirrors[self.index].url.join(self.path) {
                Ok(u) => u,
                Err(e) => {
                    self.attempts_here += 1;
                    self.abandon(AttemptError::Unusable(format!(
                        "cannot join `{}`: {e}",
                        self.path
                    )));
                    continue;
                }
            };
            if *written > 0 {
                self.resumed += 1;
            }
            self.attempts_here += 1;
            let before = *written;
            let attempt = {
                let _permit = self.online.permits.acquire();
                let timeout = self.config().attempt_timeout.min(remaining);
                self.attempt(&url, timeout, sink, hasher, written)
            };
            let error = match attempt {
                Ok(()) => match self.verify(hasher, *written) {
                    Ok(sha256) => {
                        return Ok(Downloaded {
                            mirror: self.mirrors[self.index].url.to_string(),
                            bytes: *written,
                            retries: self.retries,
                            resumed: self.resumed,
                            sha256,
                        });
                    }
                    Err(e) => e,
                },
                Err(Fatal(e)) => return Err(Interrupt::Fail(e)),
                Err(Failed(e)) => e,
            };
            tracing::debug!(what = self.what, %url, %error, "attempt failed");
            self.last_error = Some(error.clone());
            if matches!(error, AttemptError::Connect(_)) {
                self.connect_failures_here += 1;
            }
            let bad_body = matches!(
                error,
                AttemptError::Mismatch { .. }
                    | AttemptError::WrongSize { .. }
                    | AttemptError::TooLarge { .. }
            );
            match error.class() {
                _ if bad_body => {
                    self.retries += 1;
                    self.tries_here += 1;
                    let seen = self.wrong_bodies.entry(wrong_body_key(&error)).or_insert(0);
                    *seen += 1;
                    // The same wrong bytes again: this mirror has another file under that path
                    // (stale, or a different version), so waiting will not help. Different wrong
                    // bytes each time are corruption in transit, retried like a dropped connection.
                    if *seen > self.config().mismatch_retries || self.tries_here > self.config().retries {
                        self.abandon(error);
                    } else {
                        self.progress.retrying(
                            self.what,
                            self.mirrors[self.index].url.as_str(),
                            &error,
                            Duration::ZERO,
                        );
                    }
                    // What was written is suspect: start over on a fresh destination.
                    return Err(Interrupt::Restart);
                }
                ErrorClass::Transient => {
                    self.retries += 1;
                    self.tries_here += 1;
                    // Progress resets the budget: a mirror that keeps delivering is worth staying on.
                    if *written > before {
                        self.tries_here = self.tries_here.min(1);
                    }
                    let down = matches!(error, AttemptError::Connect(_))
                        && self.connect_failures_here > self.config().connect_retries
                        && self.another_may_work();
                    if down || self.tries_here > self.config().retries {
                        self.abandon(error);
                        if *written > 0 {
                            return Err(Interrupt::Restart);
                        }
                        continue;
                    }
                    let delay = match &error {
                        AttemptError::Status {
                            retry_after: Some(ra),
                            ..
                        } => {
                            if *ra > self.config().retry_after_max && self.defer_current() {
                                self.progress.retrying(
                                    self.what,
                                    self.mirrors[self.mirrors.len() - 1].url.as_str(),
                                    &error,
                                    Duration::ZERO,
                                );
                                if *written > 0 {
                                    return Err(Interrupt::Restart);
                                }
                                continue;
                            }
                            (*ra).min(self.config().retry_after_max)
                        }
                        _ => jitter(self.config().backoff(self.tries_here)),
                    };
                    let delay = delay.min(self.remaining().unwrap_or_default());
                    self.progress
                        .retrying(self.what, self.mirrors[self.index].url.as_str(), &error, delay);
                    thread::sleep(delay);
                    if matches!(error, AttemptError::BadRange(_)) && *written > 0 {
                        return Err(Interrupt::Restart);
                    }
                }
                ErrorClass::Mirror => {
                    self.abandon(error);
                    if *written > 0 {
                        return Err(Interrupt::Restart);
                    }
                }
                ErrorClass::Permanent => {
                    return Err(Interrupt::Fail(FetchError::AllMirrorsFailed {
                        what: self.what.to_owned(),
                        failures: vec![MirrorFailure {
                            mirror: self.mirrors[self.index].url.to_string(),
                            attempts: self.attempts_here,
                            error,
                        }],
                    }));
                }
            }
        }
    }

    fn verify(&self, hasher: &Sha256, written: u64) -> Result<Sha256Digest, AttemptError> {
        let actual = Sha256Digest(hasher.clone().finalize().into());
        if let Some(e) = self.expected
            && (e.sha256 != actual || e.size != written)
        {
            return Err(AttemptError::Mismatch {
                expected: e.sha256,
                expected_size: e.size,
                actual,
                actual_size: written,
            });
        }
        Ok(actual)
    }

    /// One request (or file read), appending to `sink` from byte `*written` on.
    fn attempt(
        &self,
        url: &Url,
        timeout: Duration,
        sink: &mut dyn Write,
        hasher: &mut Sha256,
        written: &mut u64,
    ) -> Result<(), AttemptFailure> {
        let opened = if url.scheme() == "file" {
            open_file(url, *written)?
        } else {
            self.open_http(url, timeout, *written)?
        };
        self.stream(opened, sink, hasher, written)
    }

    fn open_http(&self, url: &Url, timeout: Duration, from: u64) -> Result<Opened, AttemptFailure> {
        let mut req = self.online.agent.get(url.as_str());
        if from > 0 {
            req = req.header("Range", format!("bytes={from}-"));
        }
        let resp = req
            .config()
            .timeout_per_call(Some(timeout))
            .build()
            .call()
            .map_err(|e| Failed(classify_ureq(e)))?;
        let status = resp.status().as_u16();
        let header = |name: &str| {
            resp.headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        };
        let length = resp.body().content_length();
        let start = match status {
            200 => 0,
            206 => {
                let range = header("content-range").unwrap_or_default();
                let (start, total) = parse_content_range(&range)
                    .ok_or_else(|| Failed(AttemptError::BadRange(format!("Content-Range `{range}`"))))?;
                if start > from {
                    return Err(Failed(AttemptError::BadRange(format!(
                        "asked for bytes from {from}, got from {start}"
                    ))));
                }
                if let (Some(e), Some(total)) = (self.expected, total)
                    && total != e.size
                {
                    return Err(Failed(AttemptError::WrongSize {
                        expected: e.size,
                        announced: total,
                    }));
                }
                start
            }
            416 => return Err(Failed(AttemptError::BadRange("HTTP 416".into()))),
            404 | 410 => return Err(Failed(AttemptError::NotFound(status))),
            _ => {
                let retry_after = header("retry-after").and_then(|v| parse_retry_after(&v));
                return Err(Failed(AttemptError::Status {
                    code: status,
                    retry_after,
                }));
            }
        };
        Ok(Opened {
            reader: Box::new(resp.into_body().into_reader()),
            start,
            length,
        })
    }

    /// Streams a body into `sink`, hashing and counting, never past the expected size.
    fn stream(
        &self,
        mut opened: Opened,
        sink: &mut dyn Write,
        hasher: &mut Sha256,
        written: &mut u64,
    ) -> Result<(), AttemptFailure> {
        let limit = self
            .expected
            .map_or(self.config().max_unverified_size, |e| e.size);
        if let (Some(e), Some(len)) = (self.expected, opened.length)
            && opened.start.saturating_add(len) != e.size
        {
            return Err(Failed(AttemptError::WrongSize {
                expected: e.size,
                announced: opened.start.saturating_add(len),
            }));
        }
        // Bytes of this body we already hold (a server that ignored `Range`).
        let mut skip = written.saturating_sub(opened.start);
        let mut received: u64 = 0;
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            let n = match opened.reader.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(Failed(classify_body_io(e))),
            };
            received += n as u64;
            let mut chunk = &buf[..n];
            if skip > 0 {
                let k = usize::try_from(skip).unwrap_or(usize::MAX).min(chunk.len());
                chunk = &chunk[k..];
                skip -= k as u64;
            }
            if chunk.is_empty() {
                continue;
            }
            if *written + chunk.len() as u64 > limit {
                return Err(Failed(match self.expected {
                    Some(e) => AttemptError::WrongSize {
                        expected: e.size,
                        announced: opened.start + opened.length.unwrap_or(received),
                    },
                    None => AttemptError::TooLarge { limit },
                }));
            }
            sink.write_all(chunk).map_err(|e| {
                Fatal(FetchError::Write {
                    what: self.what.to_owned(),
                    error: e.to_string(),
                })
            })?;
            hasher.update(chunk);
            *written += chunk.len() as u64;
            self.progress.bytes(self.what, chunk.len() as u64);
        }
        if let Some(len) = opened.length
            && received < len
        {
            return Err(Failed(AttemptError::Truncated {
                got: opened.start + received,
                expected: opened.start + len,
            }));
        }
        if let Some(e) = self.expected
            && *written < e.size
        {
            return Err(Failed(AttemptError::Truncated {
                got: *written,
                expected: e.size,
            }));
        }
        Ok(())
    }
}

/// What identifies a wrong body, so the same wrong content seen twice can be told from random
/// damage.
fn wrong_body_key(error: &AttemptError) -> String {
    match error {
        AttemptError::Mismatch {
            actual, actual_size, ..
        } => format!("{actual} {actual_size}"),
        AttemptError::WrongSize { announced, .. } => format!("size {announced}"),
        other => other.to_string(),
    }
}

enum AttemptFailure {
    Failed(AttemptError),
    Fatal(FetchError),
}
use AttemptFailure::{Failed, Fatal};

fn open_file(url: &Url, from: u64) -> Result<Opened, AttemptFailure> {
    let path = url
        .to_file_path()
        .map_err(|()| Failed(AttemptError::Unusable(format!("`{url}` is not a local path"))))?;
    let mut file = std::fs::File::open(&path).map_err(|e| {
        Failed(if e.kind() == io::ErrorKind::NotFound {
            AttemptError::NotFoundFile(format!("{}: not found", path.display()))
        } else {
            AttemptError::File(format!("{}: {e}", path.display()))
        })
    })?;
    let len = file
        .metadata()
        .map_err(|e| Failed(AttemptError::File(format!("{}: {e}", path.display()))))?
        .len();
    let start = from.min(len);
    file.seek(SeekFrom::Start(start))
        .map_err(|e| Failed(AttemptError::File(format!("{}: {e}", path.display()))))?;
    Ok(Opened {
        reader: Box::new(file),
        start,
        length: Some(len - start),
    })
}

/// `bytes START-END/TOTAL` (TOTAL may be `*`).
fn parse_content_range(v: &str) -> Option<(u64, Option<u64>)> {
    let rest = v.trim().strip_prefix("bytes")?.trim_start();
    let (range, total) = rest.split_once('/')?;
    let (start, end) = range.split_once('-')?;
    let start: u64 = start.trim().parse().ok()?;
    let end: u64 = end.trim().parse().ok()?;
    if end < start {
        return None;
    }
    let total = match total.trim() {
        "*" => None,
        t => Some(t.parse().ok()?),
    };
    Some((start, total))
}

/// `Retry-After`: delay-seconds or an HTTP-date.
pub(crate) fn parse_retry_after(v: &str) -> Option<Duration> {
    let v = v.trim();
    if let Ok(secs) = v.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let at = parse_release_date(v)?;
    let now = i64::try_from(SystemTime::now().duration_since(UNIX_EPOCH).ok()?.as_secs()).ok()?;
    Some(Duration::from_secs(u64::try_from(at - now).unwrap_or(0)))
}

/// 50–100% of `d`, so clients that failed together do not retry together.
fn jitter(d: Duration) -> Duration {
    d.mul_f64(rand::rng().random_range(0.5..=1.0))
}

fn classify_io(e: &io::Error) -> AttemptError {
    use io::ErrorKind::*;
    match e.kind() {
        ConnectionRefused | HostUnreachable | NetworkUnreachable | AddrNotAvailable | NotConnected => {
            AttemptError::Connect(e.to_string())
        }
        TimedOut | WouldBlock => AttemptError::Timeout(e.to_string()),
        _ => AttemptError::Interrupted(e.to_string()),
    }
}

fn classify_ureq(e: ureq::Error) -> AttemptError {
    use ureq::Error as U;
    match e {
        U::Io(io) => classify_io(&io),
        // Not even connected: the mirror (or the way to it) is down, as with a refused connection.
        U::Timeout(t @ (ureq::Timeout::Connect | ureq::Timeout::Resolve)) => {
            AttemptError::Connect(timeout_text(t))
        }
        U::Timeout(t) => AttemptError::Timeout(timeout_text(t)),
        U::HostNotFound | U::ConnectionFailed => AttemptError::Connect(e.to_string()),
        U::Tls(_) | U::Pem(_) | U::Rustls(_) | U::TlsRequired => AttemptError::Tls(e.to_string()),
        U::StatusCode(code) => AttemptError::Status {
            code,
            retry_after: None,
        },
        U::Protocol(_) | U::LargeResponseHeader(..) | U::BodyStalled => AttemptError::Protocol(e.to_string()),
        // Bad URLs, proxies, redirect loops: this mirror's configuration will not improve by waiting.
        other => AttemptError::Unusable(other.to_string()),
    }
}

fn timeout_text(t: ureq::Timeout) -> String {
    match t {
        ureq::Timeout::PerRead => "stalled: no data within the stall timeout".into(),
        ureq::Timeout::PerCall => {
            "the attempt ran out of time (attempt timeout, or what was left of the deadline)".into()
        }
        ureq::Timeout::Connect | ureq::Timeout::Resolve => {
            format!("{other} took longer than the connect timeout", other = t)
        }
        other => format!("{other}"),
    }
}

/// Errors while reading a body: ureq wraps its own errors (timeouts) in `io::Error`.
fn classify_body_io(e: io::Error) -> AttemptError {
    let inner_is_ureq = e.get_ref().is_some_and(|r| r.is::<ureq::Error>());
    if inner_is_ureq
        && let Some(inner) = e.into_inner()
        && let Ok(u) = inner.downcast::<ureq::Error>()
    {
        return match classify_ureq(*u) {
            // Anything going wrong mid-body is worth another (resumed) try.
            AttemptError::Unusable(s) | AttemptError::Tls(s) => AttemptError::Interrupted(s),
            other => other,
        };
    }
    AttemptError::Interrupted("body read failed".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_content_range_and_retry_after() {
        assert_eq!(parse_content_range("bytes 5-9/10"), Some((5, Some(10))));
        assert_eq!(parse_content_range("bytes 5-9/*"), Some((5, None)));
        assert_eq!(parse_content_range("bytes 9-5/10"), None);
        assert_eq!(parse_content_range("items 1-2/3"), None);
        assert_eq!(parse_retry_after(" 7 "), Some(Duration::from_secs(7)));
        assert_eq!(
            parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT"),
            Some(Duration::ZERO)
        );
        assert_eq!(parse_retry_after("soon"), None);
    }

    #[test]
    fn parses_durations() {
        assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
        assert_eq!(parse_duration("1.5s"), Ok(Duration::from_millis(1500)));
        assert_eq!(parse_duration("2m"), Ok(Duration::from_secs(120)));
        assert_eq!(parse_duration("1h"), Ok(Duration::from_secs(3600)));
        assert_eq!(parse_duration(" 7 "), Ok(Duration::from_secs(7)));
        assert!(parse_duration("soon").is_err());
        assert!(parse_duration("5 weeks").is_err());
        assert!(parse_duration("").is_err());
    }

    #[test]
    fn backoff_doubles_up_to_the_cap() {
        let c = TransportConfig {
            backoff_base: Duration::from_millis(100),
            backoff_max: Duration::from_millis(500),
            ..TransportConfig::default()
        };
        let got: Vec<_> = (1..=5).map(|n| c.backoff(n).as_millis()).collect();
        assert_eq!(got, [100, 200, 400, 500, 500]);
        assert_eq!(c.backoff(200), Duration::from_millis(500));
        for _ in 0..100 {
            let j = jitter(Duration::from_millis(100));
            assert!(j >= Duration::from_millis(50) && j <= Duration::from_millis(100));
        }
    }

    #[test]
    fn classification() {
        let s = |code| AttemptError::Status {
            code,
            retry_after: None,
        };
        assert_eq!(s(503).class(), ErrorClass::Transient);
        assert_eq!(s(429).class(), ErrorClass::Transient);
        assert_eq!(s(408).class(), ErrorClass::Transient);
        assert_eq!(s(403).class(), ErrorClass::Mirror);
        assert_eq!(AttemptError::NotFound(404).class(), ErrorClass::Mirror);
        assert_eq!(
            classify_io(&io::Error::from(io::ErrorKind::ConnectionRefused)).class(),
            ErrorClass::Transient
        );
        assert_eq!(
            classify_io(&io::Error::from(io::ErrorKind::ConnectionReset)).class(),
            ErrorClass::Transient
        );
    }

    #[test]
    fn offline_refuses_everything() {
        let t = Transport::offline();
        assert!(t.is_offline());
        let err = t.get("debian", "dists/bookworm/InRelease", None).unwrap_err();
        assert!(matches!(err, FetchError::Offline { .. }), "{err}");
        assert!(err.to_string().contains("offline"), "{err}");
    }
}
