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
//! Here: the facade ([`Transport`]: one file, many files, the `Downloader` for archives). Beside
//! it: `config` (timeouts, retries, limits, duration parsing), `destination` (where bytes go),
//! `job` (a file's download: mirrors, retries, verification — the retry state machine), `permits`
//! (the request slots), `race` (an attempt's request and its hedges, and when the next hedge is
//! due), `request` (one request read on its own thread, and how its failures are classified).

use std::collections::{HashMap, HashSet};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::thread;
use std::time::Instant;

use url::Url;

mod config;
mod destination;
mod job;
mod permits;
mod race;
mod request;

pub use config::{TransportConfig, parse_duration};
pub(crate) use destination::{Destination, Interrupt, StoreDestination};
use job::Job;

use super::mirrors::{Mirror, Mirrors};
use super::observed::{FailureStreaks, FirstByteTimes, HedgeOutcomes};
use super::progress::{NoProgress, Progress};
pub use super::report::Downloaded;
use super::{Downloader, Expected, FetchError};
use crate::store::{Kind, Store};
use permits::Permits;

/// Verified bytes this process downloaded from mirrors (every transport), for the build report.
pub static MIRROR_BYTES: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

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

/// What a body no hash pins must pass to be accepted: `Err` says why it was refused.
pub type BodyCheck<'a> = dyn Fn(&[u8]) -> Result<(), String> + Sync + 'a;

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::job::jitter;
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
