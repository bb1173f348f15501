//! The transport's configuration: timeouts, retry counts and limits, and the duration syntax
//! (`30s`, `2m`, `500ms`) of their command-line and environment forms.

use std::time::Duration;

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
