//! The one download client: HTTP(S) through `ureq` (blocking, no async runtime) and `file://`.
//!
//! Per file, attempts go through the archive's mirrors in order. Each failed attempt is classified
//! ([`AttemptError::class`]):
//! - transient: retried on the same mirror up to [`TransportConfig::retries`] times. A failure
//!   that made progress (a reset or truncation mid-body) resumes at once, and so does one that
//!   already waited (a stall timeout); failures in a row that got nothing wait an exponential
//!   backoff with jitter, doubling only while the mirror's other requests fail in a row too (see
//!   [`super::observed`]). A `Retry-After` (capped) is honoured per mirror: that mirror is not
//!   asked again for this file before it ends, while another mirror that may be reachable is
//!   tried meanwhile (the waiting one moved behind it, once); mirrors that could not be connected
//!   to at all are tried last by later files. A retry resumes with `Range: bytes=N-` when the
//!   file is verified by hash; a server that ignores `Range` answers 200 and the bytes already
//!   held are skipped from its body. The whole file's hash is checked in the end either way.
//! - hedged: a request that has received nothing for a while is raced by a second one (see
//!   `Job::attempt`); the first to deliver the next bytes carries on. By default a request still
//!   waiting for its first byte is hedged after a few times what this run's requests take to
//!   deliver one (see [`super::observed`]), a silence mid-body after a quarter of the stall
//!   timeout; hedge delays at a mirror back off while hedges there keep losing.
//! - too slow: a request that keeps delivering, but too slowly to finish before the deadline, is
//!   given up on after a while (`Job::too_slow`) and the file resumes on a new request.
//! - permanent for this mirror: the next mirror. A body that fails verification is retried from
//!   scratch on the same mirror while each wrong body differs (corruption in transit, within the
//!   retry budget); the same wrong body again means the mirror has another file there. A mirror
//!   that refuses connections is left after [`TransportConfig::connect_retries`] while another may
//!   answer.
//! - permanent: the download fails at once.
//!
//! Requests in flight are bounded ([`TransportConfig::concurrency`]); a free slot goes to the
//! file that started first, so a retry is not queued behind files that have not begun.
//!
//! Bytes go through a `Destination` that can only be appended to or thrown away whole, so a
//! body that does not verify is never kept: the destination is discarded and the download starts
//! over on a fresh one.
//!
//! Here: the configuration, destinations, and a file's download (`Job`: mirrors, retries,
//! verification). Beside it: `permits` (the request slots), `race` (an attempt's request and its
//! hedges, and when the next hedge is due), `request` (one request read on its own thread, and
//! how its failures are classified).

use std::collections::{HashMap, HashSet};
use std::io::Write;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use rand::Rng;
use sha2::{Digest, Sha256};
use url::Url;

mod permits;
mod race;
mod request;

use super::mirrors::{Mirror, Mirrors};
use super::observed::{FailureStreaks, FirstByteTimes, HedgeOutcomes};
use super::progress::{NoProgress, Progress};
use super::{AttemptError, Downloader, ErrorClass, Expected, FetchError, MirrorFailure};
use crate::hash::Sha256Digest;
use crate::store::{Kind, Store, StoreError};
use permits::Permits;
use race::{HedgeSchedule, Race, Source};
use request::{Request, SourceEvent};

/// Verified bytes this process downloaded from mirrors (every transport), for the build report.
pub static MIRROR_BYTES: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// Timeouts, retry counts and limits. The defaults suit real mirrors; tests use tiny ones.
#[derive(Debug, Clone)]
pub struct TransportConfig {
    /// Downloads in flight at once, across all threads using this transport. A hedge (see
    /// [`Self::hedge_after`]) shares the slot of the quiet request it races, so a file has at most
    /// two requests open, one of which has been receiving nothing.
    pub concurrency: usize,
    /// Establishing a connection (DNS, TCP, TLS).
    pub connect_timeout: Duration,
    /// No byte received for this long (while waiting for headers or body) fails the attempt.
    pub stall_timeout: Duration,
    /// A transfer that has received nothing for this long gets a hedge: a second request (at the
    /// next mirror, or the same one, resuming with `Range` from what was received) races it, and
    /// the first to deliver the next bytes carries on while the other is dropped. `None`: a
    /// quarter of [`Self::stall_timeout`], and for the first hedge of a request still waiting
    /// for its first byte a few times this run's 95th-percentile first-byte time, if shorter
    /// (see [`super::observed`]); zero: never hedge.
    pub hedge_after: Option<Duration>,
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
            hedge_after: None,
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

    /// How long a transfer may receive nothing before it is hedged (`None`: never): the
    /// configured delay, or the ceiling of the adaptive one.
    pub fn hedge_delay(&self) -> Option<Duration> {
        match self.hedge_after {
            Some(d) if d.is_zero() => None,
            Some(d) => Some(d),
            None => Some(self.stall_timeout / 4).filter(|d| !d.is_zero()),
        }
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
    /// Hedges started: second requests racing a transfer that had gone quiet.
    pub hedges: u32,
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

struct Online {
    agent: ureq::Agent,
    config: TransportConfig,
    mirrors: Mirrors,
    permits: Permits,
    /// The next file's start ticket (see [`Permits`]).
    tickets: AtomicU64,
    /// Mirrors that failed to even connect for some file: later files try them last, so a dead
    /// mirror costs its retries once per run, not once per file.
    unreachable: Mutex<HashSet<Url>>,
    /// What the default hedge delay adapts to.
    first_bytes: FirstByteTimes,
    /// What the backoff adapts to.
    streaks: FailureStreaks,
    /// What the hedge delays back off by, per mirror.
    hedge_outcomes: HedgeOutcomes,
}

impl Online {
    /// The mirrors known to be unreachable so far (a copy: the lock is not held while they are
    /// compared against).
    fn unreachable(&self) -> HashSet<Url> {
        self.unreachable.lock().map(|d| d.clone()).unwrap_or_default()
    }
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
            permits: Permits::new(config.concurrency.max(1)),
            config: config.clone(),
            mirrors,
            tickets: AtomicU64::new(0),
            unreachable: Mutex::new(HashSet::new()),
            first_bytes: FirstByteTimes::default(),
            streaks: FailureStreaks::default(),
            hedge_outcomes: HedgeOutcomes::default(),
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
        let d = self.download(archive, path, (expected, None), &mut buf, path, progress)?;
        Ok((buf, d))
    }

    /// Downloads into memory a file no hash pins (an `InRelease`), accepting only a body that
    /// `check` accepts: a refused body is a wrong body, retried and failed over like a hash
    /// mismatch (the same refused bytes twice move on to the next mirror, while one may work).
    pub fn get_checked_with(
        &self,
        archive: &str,
        path: &str,
        check: &BodyCheck<'_>,
        progress: &dyn Progress,
    ) -> Result<(Vec<u8>, Downloaded), FetchError> {
        let mut buf = Vec::new();
        let d = self.download(archive, path, (None, Some(check)), &mut buf, path, progress)?;
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
            (file.expected, None),
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

    /// Downloads an `[[artifact]]` URL straight into the store, verified against `expected`
    /// when given (while locking an artifact whose hash is not known yet, it is not), through
    /// the artifact mirrors (URL-prefix rewrites) and then the URL itself.
    pub fn fetch_artifact_into_store(
        &self,
        url: &str,
        expected: Option<Expected>,
        what: &str,
        store: &Store,
        progress: &dyn Progress,
    ) -> Result<Downloaded, FetchError> {
        let online = self.online_for(url, what)?;
        let (mirrors, name) = online.mirrors.resolve_artifact(url)?;
        let mut dest = StoreDestination {
            store,
            kind: Kind::Artifact,
            expected,
            what,
            digest: None,
        };
        self.download_from(
            online,
            mirrors,
            &name,
            (expected, None),
            &mut dest,
            what,
            progress,
        )
    }

    pub(crate) fn download(
        &self,
        archive: &str,
        path: &str,
        (expected, check): (Option<Expected>, Option<&BodyCheck<'_>>),
        dest: &mut dyn Destination,
        what: &str,
        progress: &dyn Progress,
    ) -> Result<Downloaded, FetchError> {
        let online = self.online_for(archive, what)?;
        let mirrors = online.mirrors.resolve(archive)?;
        self.download_from(online, mirrors, path, (expected, check), dest, what, progress)
    }

    /// The online state, or the error an offline transport gives for `what` from `origin`.
    fn online_for(&self, origin: &str, what: &str) -> Result<&Online, FetchError> {
        self.online.as_ref().ok_or_else(|| FetchError::Offline {
            archive: origin.to_owned(),
            what: what.to_owned(),
        })
    }

    /// Downloads `path` from the first of `mirrors` that delivers it.
    #[allow(clippy::too_many_arguments)]
    fn download_from(
        &self,
        online: &Online,
        mut mirrors: Vec<Mirror>,
        path: &str,
        (expected, check): (Option<Expected>, Option<&BodyCheck<'_>>),
        dest: &mut dyn Destination,
        what: &str,
        progress: &dyn Progress,
    ) -> Result<Downloaded, FetchError> {
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
            check,
            mirrors,
            index: 0,
            tries_here: 0,
            backoff_step: 0,
            wrong_bodies: HashMap::new(),
            connect_failures_here: 0,
            attempts_here: 0,
            failures: Vec::new(),
            deferred: HashSet::new(),
            last_error: None,
            retries: 0,
            resumed: 0,
            hedges: 0,
            not_before: HashMap::new(),
            started: Instant::now(),
            ticket: online.tickets.fetch_add(1, Ordering::Relaxed),
            slow_requests: 0,
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

    fn get_checked(&self, archive: &str, path: &str, check: &BodyCheck<'_>) -> Result<Vec<u8>, FetchError> {
        self.get_checked_with(archive, path, check, &NoProgress)
            .map(|(b, _)| b)
    }

    fn is_offline(&self) -> bool {
        self.online.is_none()
    }
}

/// Computes `f(0..n)` on at most `width` scoped threads (no pool left behind); `None` where `f`
/// panicked (the panic is caught, so the other items still run and the caller can report it).
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
                    // A panic in `f` is caught here: uncaught, it would end this worker and then
                    // re-panic out of the scope, so no result at all would be returned.
                    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| f(i)));
                    if let (Ok(r), Ok(mut slot)) = (r, slots[i].lock()) {
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
    /// What an unpinned body must pass to be accepted (see [`Transport::get_checked_with`]).
    check: Option<&'a BodyCheck<'a>>,
    mirrors: Vec<Mirror>,
    index: usize,
    tries_here: u32,
    /// Failures in a row here that got nothing and were not told how long to wait: what the
    /// next backoff doubles with.
    backoff_step: u32,
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
    hedges: u32,
    /// When each mirror that answered with `Retry-After` may be asked again (for this file).
    not_before: HashMap<Url, Instant>,
    started: Instant,
    /// When this file started among the files of the run: its place in line for request slots.
    ticket: u64,
    /// Requests given up on because they delivered too slowly to finish before the deadline.
    slow_requests: u32,
    progress: &'a dyn Progress,
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
        self.backoff_step = 0;
        self.wrong_bodies.clear();
        self.connect_failures_here = 0;
        self.attempts_here = 0;
    }

    /// Whether a mirror after the current one is not known to be unreachable.
    fn another_may_work(&self) -> bool {
        let dead = self.online.unreachable();
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
        self.backoff_step = 0;
        self.wrong_bodies.clear();
        self.connect_failures_here = 0;
        self.attempts_here = 0;
        true
    }

    /// Downloads into `sink` (fresh and empty). `Ok` only once the whole file verified.
    fn run(&mut self, sink: &mut dyn Write) -> Result<Downloaded, Interrupt> {
        let mut hasher = Sha256::new();
        let mut written: u64 = 0;
        // A checked body is kept aside as well, to be shown to the check once complete (it is
        // never resumed: unpinned downloads restart from scratch).
        let mut sink = Tee {
            inner: sink,
            copy: self.check.map(|_| Vec::new()),
        };
        let outcome = self.run_inner(&mut sink, &mut hasher, &mut written);
        if outcome.is_err() && written > 0 {
            self.progress.discarded(self.what, written);
        }
        outcome
    }

    fn run_inner(
        &mut self,
        sink: &mut Tee<'_>,
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
            // A mirror that asked for a pause (`Retry-After`) is not asked again before it ends.
            if let Some(until) = self.not_before.get(&self.mirrors[self.index].url) {
                let wait = until.saturating_duration_since(Instant::now()).min(remaining);
                if !wait.is_zero() {
                    thread::sleep(wait);
                    continue;
                }
            }
            let permit = self.online.permits.acquire(self.ticket);
            // The wait for a slot counts against the deadline: a file whose deadline passed in
            // the queue sends nothing more (the loop reports it).
            let Some(remaining) = self.remaining() else {
                continue;
            };
            if *written > 0 {
                self.resumed += 1;
            }
            self.attempts_here += 1;
            let before = *written;
            let attempt = {
                let _permit = permit;
                let timeout = self.config().attempt_timeout.min(remaining);
                self.attempt(&url, timeout, sink, hasher, written)
            };
            let error = match attempt {
                Ok(served_by) => match self
                    .verify(hasher, *written)
                    .and_then(|sha256| self.accept(sink.copy.as_deref(), sha256, *written))
                {
                    Ok(sha256) => {
                        MIRROR_BYTES.fetch_add(*written, Ordering::Relaxed);
                        return Ok(Downloaded {
                            mirror: self.mirrors[served_by].url.to_string(),
                            bytes: *written,
                            retries: self.retries,
                            resumed: self.resumed,
                            hedges: self.hedges,
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
                    | AttemptError::Refused { .. }
            );
            match error.class() {
                _ if bad_body => {
                    self.retries += 1;
                    self.tries_here += 1;
                    let seen = self.wrong_bodies.entry(wrong_body_key(&error)).or_insert(0);
                    *seen += 1;
                    // The same wrong bytes again: this mirror has another file under that path
                    // (stale, or a different version), so waiting will not help — when another
                    // mirror may serve it. On the last mirror left, the same damage twice may
                    // still be chance: spend the retry budget first. Different wrong bytes each
                    // time are corruption in transit, retried like a dropped connection.
                    let same_again = *seen > self.config().mismatch_retries;
                    if (same_again && self.another_may_work()) || self.tries_here > self.config().retries {
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
                    let progressed = *written > before;
                    // Progress resets the budget: a mirror that keeps delivering is worth staying on.
                    if progressed {
                        self.tries_here = 0;
                        self.backoff_step = 0;
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
                            let ra = (*ra).min(self.config().retry_after_max);
                            self.not_before
                                .insert(self.mirrors[self.index].url.clone(), Instant::now() + ra);
                            // The server said how long; the backoff starts over after that.
                            self.backoff_step = 0;
                            // Another mirror may serve it meanwhile; this one is asked again (once
                            // its pause is over) only after the others.
                            if !ra.is_zero() && self.defer_current() {
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
                            ra
                        }
                        // A transfer that made progress resumes at once; a stall has waited
                        // already. Backoff is for failures in a row that got nothing.
                        _ if progressed || matches!(error, AttemptError::Timeout(_)) => Duration::ZERO,
                        // Doubling only while the mirror's requests fail in a row as well (see
                        // `observed`): a file's bad luck on a mirror that delivers is not trouble.
                        _ => {
                            self.backoff_step += 1;
                            let streak = self.online.streaks.failed(&self.mirrors[self.index].url);
                            jitter(self.config().backoff(self.backoff_step.min(streak)))
                        }
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

    /// Shows a complete unpinned body to the job's check, when it has one.
    fn accept(
        &self,
        body: Option<&[u8]>,
        sha256: Sha256Digest,
        size: u64,
    ) -> Result<Sha256Digest, AttemptError> {
        match (self.check, body) {
            (Some(check), Some(body)) => match check(body) {
                Ok(()) => Ok(sha256),
                Err(reason) => Err(AttemptError::Refused {
                    reason,
                    actual: sha256,
                    actual_size: size,
                }),
            },
            _ => Ok(sha256),
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

    /// One attempt at the current mirror: a request appending to `sink` from byte `*written` on,
    /// with hedges. The request is read on its own thread; when nothing has arrived for
    /// [`TransportConfig::hedge_delay`], a second request (a hedge) is started beside it — at the
    /// next mirror that may answer when nothing was received yet, else at this mirror with `Range`
    /// from `*written`. Both stay open; whichever delivers the next new bytes first carries on and
    /// the other is dropped. At most two requests are open per file, and a hedge shares its
    /// file's request slot (the request it races is receiving nothing). Every byte goes into the
    /// one `sink`/`hasher` in file order, so the result is verified as a whole as before.
    ///
    /// Returns the index of the mirror whose request completed the body, or the error of the
    /// last request at the current mirror once every request failed.
    fn attempt(
        &mut self,
        url: &Url,
        timeout: Duration,
        sink: &mut dyn Write,
        hasher: &mut Sha256,
        written: &mut u64,
    ) -> Result<usize, AttemptFailure> {
        let mut race = Race::new();
        race.start(self.request(url.clone(), *written, timeout), self.index);
        // Without a hash, only a transfer that has nothing yet may be raced (see `run_inner`).
        let mut schedule = HedgeSchedule {
            first: self.first_hedge_delay(),
            then: self
                .config()
                .hedge_delay()
                .filter(|_| self.expected.is_some() || *written == 0)
                .map(|d| d.saturating_mul(self.hedge_backoff())),
            limit: self.config().retries.max(1),
            idle: 0,
            failed: 0,
            not_before: Instant::now(),
        };
        // The last error of a request at the current mirror (what the caller acts on).
        let mut error_here: Option<AttemptError> = None;
        // A source that never reports (it cannot: its reads time out) must not hang the file.
        let watchdog = self
            .config()
            .stall_timeout
            .saturating_mul(2)
            .saturating_add(Duration::from_secs(1));
        loop {
            let heard = race.heard();
            let give_up_at = heard + watchdog;
            // When the next hedge goes out, and where, unless something is heard first.
            let hedge = schedule.next(heard, race.delivered()).map(|at| {
                let mirror = if *written == 0 {
                    self.hedge_mirror()
                } else {
                    self.index
                };
                let paused = self.not_before.get(&self.mirrors[mirror].url).copied();
                (mirror, paused.map_or(at, |t| at.max(t)))
            });
            let deadline = hedge.map_or(give_up_at, |(_, at)| at.min(give_up_at));
            // Events already queued are taken before any deadline is judged: a file thread that
            // was held up (writing to a slow disk, descheduled) must not take its own delay for
            // a silent mirror and hedge, or give up, while the bytes wait in the queue.
            let Some((id, event)) = race.next_event(deadline) else {
                let now = Instant::now();
                if now >= give_up_at {
                    return Err(Failed(AttemptError::Timeout(
                        "stalled: no data within the stall timeout".into(),
                    )));
                }
                if let Some((mirror, at)) = hedge
                    && now >= at
                {
                    schedule.idle += 1;
                    if !self.send_hedge(&mut race, mirror, now - heard, *written, timeout, &mut error_here) {
                        // Not a URL this mirror can serve: no hedge there (the caller finds out).
                        schedule.idle = u32::MAX;
                    }
                }
                continue;
            };
            let Some(k) = race.position(id) else {
                // A dropped request's last words.
                continue;
            };
            let s = &mut race.sources[k];
            s.heard = Instant::now();
            let outcome = match event {
                SourceEvent::Opened { start, length } => {
                    s.pos = start;
                    s.length = length;
                    s.start = start;
                    self.check_announced(start, length).map(|()| Step::More)
                }
                SourceEvent::Data(chunk) => {
                    if !s.delivered {
                        s.delivered = true;
                        self.online.first_bytes.record(s.heard - s.started);
                        self.online.streaks.delivered(&self.mirrors[s.mirror].url);
                    }
                    self.take(s, &chunk, sink, hasher, written)?
                }
                SourceEvent::End => self.check_end(s, *written).map(|()| Step::Complete),
                SourceEvent::Failed(e) => Err(e),
            };
            match outcome {
                Ok(Step::More) => {}
                Ok(Step::Advanced) => {
                    // The others are behind now: drop them. A race is decided: a hedge behind
                    // the winner lost; a winner that started after the others was a hedge that
                    // won.
                    let winner = &race.sources[k];
                    for (_, other) in race.sources.iter().enumerate().filter(|(j, _)| *j != k) {
                        if other.started > winner.started {
                            self.online.hedge_outcomes.lost(&self.mirrors[other.mirror].url);
                        } else {
                            self.online.hedge_outcomes.won(&self.mirrors[winner.mirror].url);
                        }
                    }
                    schedule.idle = 0;
                    schedule.failed = 0;
                    race.keep_only(k);
                    if let Some(e) = self.too_slow(&race.sources[0], *written) {
                        return Err(Failed(e));
                    }
                }
                Ok(Step::Complete) => return Ok(race.sources[k].mirror),
                Err(e) => {
                    let s = race.sources.remove(k);
                    tracing::debug!(what = self.what, mirror = %self.mirrors[s.mirror].url, %e, "request failed");
                    let here = s.mirror == self.index;
                    if race.sources.is_empty() {
                        return Err(Failed(if here { e } else { error_here.unwrap_or(e) }));
                    }
                    // The other request carries on; this one counts as a retry, and the next hedge
                    // waits as a retry would.
                    self.retries += 1;
                    schedule.failed += 1;
                    if let AttemptError::Status {
                        retry_after: Some(ra),
                        ..
                    } = &e
                    {
                        let ra = (*ra).min(self.config().retry_after_max);
                        self.not_before
                            .insert(self.mirrors[s.mirror].url.clone(), Instant::now() + ra);
                    } else if !matches!(e, AttemptError::Timeout(_)) {
                        schedule.not_before = Instant::now() + jitter(self.config().backoff(schedule.failed));
                    }
                    if here {
                        error_here = Some(e);
                    }
                }
            }
        }
    }

    /// Races the attempt's requests with a new one at `mirror`, from byte `written`, after they
    /// were `silent` for that long. At most two requests per file: the one silent longest gives
    /// way (its error, if at the current mirror, goes to `error_here`). Returns false when the
    /// mirror cannot serve this path.
    fn send_hedge(
        &mut self,
        race: &mut Race,
        mirror: usize,
        silent: Duration,
        written: u64,
        timeout: Duration,
        error_here: &mut Option<AttemptError>,
    ) -> bool {
        let Ok(url) = self.mirrors[mirror].url.join(self.path) else {
            return false;
        };
        if race.sources.len() >= 2
            && let Some(old) = race.drop_quietest()
        {
            self.retries += 1;
            if old.mirror == self.index {
                *error_here = Some(AttemptError::Timeout("stalled: overtaken by hedges".into()));
            }
        }
        self.hedges += 1;
        if mirror == self.index {
            self.attempts_here += 1;
        }
        if written > 0 {
            self.resumed += 1;
        }
        self.progress
            .hedging(self.what, self.mirrors[mirror].url.as_str(), silent);
        tracing::debug!(what = self.what, %url, from = written, "hedging");
        race.start(self.request(url, written, timeout), mirror);
        true
    }

    /// How long a request may wait for its first byte before its first hedge (`None`: never).
    fn first_hedge_delay(&self) -> Option<Duration> {
        let ceiling = self.config().hedge_delay()?;
        let delay = if self.config().hedge_after.is_none() {
            self.online.first_bytes.hedge_delay(ceiling)
        } else {
            ceiling
        };
        Some(delay.saturating_mul(self.hedge_backoff()))
    }

    /// What hedge delays at the current mirror are multiplied by: more while hedges there keep
    /// losing (see [`super::observed`]).
    fn hedge_backoff(&self) -> u32 {
        self.online.hedge_outcomes.factor(&self.mirrors[self.index].url)
    }

    /// The error to give up `request` with when it delivers too slowly to finish before the
    /// file's deadline. A trickle is never silent long enough to be hedged nor to time out, so
    /// without this one slow answer would use up the whole deadline. Judged only once the
    /// request has been watched for a while (four hedge delays, at least a second), a window that
    /// doubles with each request given up on, so a link that is slow for every request is not
    /// asked again and again; what it delivered is kept, and the retry resumes at once.
    fn too_slow(&mut self, request: &Source, written: u64) -> Option<AttemptError> {
        let expected = self.expected?;
        let watched = request.heard.saturating_duration_since(request.started);
        let window = self
            .config()
            .hedge_delay()
            .unwrap_or(self.config().stall_timeout)
            .saturating_mul(4)
            .max(Duration::from_secs(1))
            .saturating_mul(1 << self.slow_requests.min(16));
        if watched < window || request.received == 0 {
            return None;
        }
        let left = expected.size.saturating_sub(written);
        let needs = watched.mul_f64(left as f64 / request.received as f64);
        if self.remaining().is_some_and(|r| needs <= r) {
            return None;
        }
        self.slow_requests += 1;
        Some(AttemptError::Timeout(format!(
            "too slow to finish before the deadline: {} bytes in {watched:.1?}, {left} to go",
            request.received
        )))
    }

    /// Where a hedge goes when nothing was received yet: the next mirror after the current one
    /// that is not known to be unreachable nor asked us to wait; else the current one.
    fn hedge_mirror(&self) -> usize {
        let dead = self.online.unreachable();
        let now = Instant::now();
        (self.index + 1..self.mirrors.len())
            .find(|&i| {
                let url = &self.mirrors[i].url;
                !dead.contains(url) && self.not_before.get(url).is_none_or(|t| *t <= now)
            })
            .unwrap_or(self.index)
    }

    /// A request for `url` from byte `from`.
    fn request(&self, url: Url, from: u64, timeout: Duration) -> Request {
        Request {
            agent: self.online.agent.clone(),
            url,
            from,
            timeout,
            expected: self.expected,
        }
    }

    /// Checks an announced body length against the expected size.
    fn check_announced(&self, start: u64, length: Option<u64>) -> Result<(), AttemptError> {
        if let (Some(e), Some(len)) = (self.expected, length)
            && start.saturating_add(len) != e.size
        {
            return Err(AttemptError::WrongSize {
                expected: e.size,
                announced: start.saturating_add(len),
            });
        }
        Ok(())
    }

    /// Takes a chunk of `s`'s body: the part past `*written` (bytes not held yet) is hashed and
    /// appended to `sink`, never past the expected size.
    fn take(
        &self,
        s: &mut Source,
        chunk: &[u8],
        sink: &mut dyn Write,
        hasher: &mut Sha256,
        written: &mut u64,
    ) -> Result<Result<Step, AttemptError>, AttemptFailure> {
        let at = s.pos;
        s.pos += chunk.len() as u64;
        s.received += chunk.len() as u64;
        if at > *written {
            // Cannot happen: every request starts at or before what is held.
            return Ok(Err(AttemptError::BadRange(format!(
                "a body continued at byte {at}, past the {written} bytes held"
            ))));
        }
        let skip = usize::try_from(*written - at)
            .unwrap_or(usize::MAX)
            .min(chunk.len());
        let fresh = &chunk[skip..];
        if fresh.is_empty() {
            return Ok(Ok(Step::More));
        }
        let limit = self
            .expected
            .map_or(self.config().max_unverified_size, |e| e.size);
        if *written + fresh.len() as u64 > limit {
            return Ok(Err(match self.expected {
                Some(e) => AttemptError::WrongSize {
                    expected: e.size,
                    announced: s.start + s.length.unwrap_or(s.received),
                },
                None => AttemptError::TooLarge { limit },
            }));
        }
        sink.write_all(fresh).map_err(|e| {
            Fatal(FetchError::Write {
                what: self.what.to_owned(),
                error: e.to_string(),
            })
        })?;
        hasher.update(fresh);
        *written += fresh.len() as u64;
        self.progress.bytes(self.what, fresh.len() as u64);
        Ok(Ok(Step::Advanced))
    }

    /// A body ended: complete, or cut short.
    fn check_end(&self, s: &Source, written: u64) -> Result<(), AttemptError> {
        if let Some(len) = s.length
            && s.received < len
        {
            return Err(AttemptError::Truncated {
                got: s.start + s.received,
                expected: s.start + len,
            });
        }
        if let Some(e) = self.expected
            && s.pos < e.size
        {
            return Err(AttemptError::Truncated {
                got: s.pos,
                expected: e.size,
            });
        }
        if s.pos < written {
            // Shorter than what another request of the same unverified file delivered.
            return Err(AttemptError::Truncated {
                got: s.pos,
                expected: written,
            });
        }
        Ok(())
    }
}

/// What a body no hash pins must pass to be accepted: `Err` says why it was refused.
pub type BodyCheck<'a> = dyn Fn(&[u8]) -> Result<(), String> + Sync + 'a;

/// The job's sink, and a copy of what went into it when the body is to be checked.
struct Tee<'a> {
    inner: &'a mut dyn Write,
    copy: Option<Vec<u8>>,
}

impl Write for Tee<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        if let Some(copy) = &mut self.copy {
            copy.extend_from_slice(&buf[..n]);
        }
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

/// What one event did to the file.
enum Step {
    More,
    /// New bytes were appended.
    Advanced,
    Complete,
}

/// What identifies a wrong body, so the same wrong content seen twice can be told from random
/// damage.
fn wrong_body_key(error: &AttemptError) -> String {
    match error {
        AttemptError::Mismatch {
            actual, actual_size, ..
        } => format!("{actual} {actual_size}"),
        AttemptError::Refused {
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

/// 50–100% of `d`, so clients that failed together do not retry together.
fn jitter(d: Duration) -> Duration {
    d.mul_f64(rand::rng().random_range(0.5..=1.0))
}

#[cfg(test)]
mod tests {
    use super::*;

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
    fn hedge_delay_defaults_to_a_quarter_of_the_stall_timeout() {
        let c = TransportConfig::default();
        assert_eq!(c.hedge_delay(), Some(Duration::from_millis(7500)));
        let c = TransportConfig {
            stall_timeout: Duration::from_secs(2),
            ..TransportConfig::default()
        };
        assert_eq!(c.hedge_delay(), Some(Duration::from_millis(500)));
        let c = TransportConfig {
            hedge_after: Some(Duration::from_millis(200)),
            ..c
        };
        assert_eq!(c.hedge_delay(), Some(Duration::from_millis(200)));
        let c = TransportConfig {
            hedge_after: Some(Duration::ZERO),
            ..c
        };
        assert_eq!(c.hedge_delay(), None);
    }

    #[test]
    fn bounded_map_reports_a_panic_as_none_and_finishes_the_rest() {
        let got = bounded_map(5, 2, |i| {
            assert_ne!(i, 1, "a task that panics (expected by this test)");
            i * 10
        });
        assert_eq!(got, [Some(0), None, Some(20), Some(30), Some(40)]);
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
