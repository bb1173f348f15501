//! One file's download ([`Job`]): through the archive's mirrors in order, with retries, resumes,
//! hedges and verification (the retry state machine the module documentation describes).

use std::collections::{HashMap, HashSet};
use std::io::Write;
use std::thread;
use std::time::{Duration, Instant};

use rand::Rng;
use sha2::{Digest, Sha256};
use url::Url;

use super::config::TransportConfig;
use super::destination::Interrupt;
use super::race::{HedgeSchedule, Race, Source};
use super::request::{Request, SourceEvent};
use super::{BodyCheck, Online};
use crate::fetch::mirrors::Mirror;
use crate::fetch::progress::Progress;
use crate::fetch::report::Downloaded;
use crate::fetch::{AttemptError, ErrorClass, Expected, FetchError, MirrorFailure};
use crate::hash::Sha256Digest;

/// The state of one file's download, kept across restarts on fresh destinations.
pub(super) struct Job<'a> {
    pub(super) online: &'a Online,
    pub(super) what: &'a str,
    pub(super) path: &'a str,
    pub(super) expected: Option<Expected>,
    /// What an unpinned body must pass to be accepted (see [`Transport::get_checked_with`]).
    pub(super) check: Option<&'a BodyCheck<'a>>,
    pub(super) mirrors: Vec<Mirror>,
    pub(super) index: usize,
    pub(super) tries_here: u32,
    /// Failures in a row here that got nothing and were not told how long to wait: what the
    /// next backoff doubles with.
    pub(super) backoff_step: u32,
    /// Wrong bodies this mirror sent, by what was wrong with them (see [`wrong_body_key`]).
    pub(super) wrong_bodies: HashMap<String, u32>,
    pub(super) connect_failures_here: u32,
    pub(super) attempts_here: u32,
    pub(super) failures: Vec<MirrorFailure>,
    /// The current mirror's last error (for a deadline's report).
    pub(super) last_error: Option<AttemptError>,
    /// Mirrors moved to the back after asking for a long `Retry-After`.
    pub(super) deferred: HashSet<Url>,
    pub(super) retries: u32,
    pub(super) resumed: u32,
    pub(super) hedges: u32,
    /// When each mirror that answered with `Retry-After` may be asked again (for this file).
    pub(super) not_before: HashMap<Url, Instant>,
    pub(super) started: Instant,
    /// When this file started among the files of the run: its place in line for request slots.
    pub(super) ticket: u64,
    /// Requests given up on because they delivered too slowly to finish before the deadline.
    pub(super) slow_requests: u32,
    pub(super) progress: &'a dyn Progress,
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
    pub(super) fn run(&mut self, sink: &mut dyn Write) -> Result<Downloaded, Interrupt> {
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
                        super::MIRROR_BYTES.fetch_add(*written, std::sync::atomic::Ordering::Relaxed);
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

/// The job's sink, and a copy of what went into it when the body is to be checked.
pub(super) struct Tee<'a> {
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
pub(super) enum Step {
    More,
    /// New bytes were appended.
    Advanced,
    Complete,
}

/// What identifies a wrong body, so the same wrong content seen twice can be told from random
/// damage.
pub(super) fn wrong_body_key(error: &AttemptError) -> String {
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

pub(super) enum AttemptFailure {
    Failed(AttemptError),
    Fatal(FetchError),
}
use AttemptFailure::{Failed, Fatal};

/// 50–100% of `d`, so clients that failed together do not retry together.
pub(super) fn jitter(d: Duration) -> Duration {
    d.mul_f64(rand::rng().random_range(0.5..=1.0))
}
