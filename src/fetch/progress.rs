//! Progress display, kept apart from the download logic: the transport and [`super::fetch_packages`]
//! only call a [`Progress`]; whether that draws bars, prints lines or does nothing is chosen by the
//! caller ([`for_stderr`] picks bars on a terminal, plain lines otherwise).

use std::io::{self, IsTerminal, Write};
use std::sync::Mutex;
use std::time::Duration;

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

pub(crate) use super::report::human_bytes;
use super::report::{Downloaded, FetchReport};
use super::{AttemptError, FetchError};

/// Callbacks from downloads; all have do-nothing defaults. Called from several threads at once.
pub trait Progress: Send + Sync {
    /// A batch starts: `files` to download (`bytes` in all), `present` already in the store.
    fn batch(&self, _files: usize, _bytes: u64, _present: usize) {}
    fn started(&self, _what: &str, _size: Option<u64>) {}
    /// `n` more bytes of `what` arrived (and verified so far as they can be).
    fn bytes(&self, _what: &str, _n: u64) {}
    /// `n` bytes of `what` were thrown away (a restart from scratch after a bad body).
    fn discarded(&self, _what: &str, _n: u64) {}
    /// An attempt failed transiently; the next one starts after `delay`.
    fn retrying(&self, _what: &str, _mirror: &str, _error: &AttemptError, _delay: Duration) {}
    /// `mirror` is given up on for `what`; the next one is tried.
    fn mirror_failed(&self, _what: &str, _mirror: &str, _error: &AttemptError) {}
    /// A transfer of `what` received nothing for `silent`: a second request to `mirror` races it.
    fn hedging(&self, _what: &str, _mirror: &str, _silent: Duration) {}
    fn finished(&self, _what: &str, _result: Result<&Downloaded, &FetchError>) {}
    fn summary(&self, _report: &FetchReport) {}
}

/// Reports nothing.
#[derive(Debug, Default, Clone, Copy)]
pub struct NoProgress;

impl Progress for NoProgress {}

/// One plain line per event worth a line (for logs and CI): no bytes ticker.
pub struct LogProgress {
    out: Mutex<Box<dyn Write + Send>>,
    mirrors: super::noise::MirrorTally,
}

impl LogProgress {
    pub fn new(out: Box<dyn Write + Send>) -> Self {
        LogProgress {
            out: Mutex::new(out),
            mirrors: super::noise::MirrorTally::default(),
        }
    }

    pub fn stderr() -> Self {
        Self::new(Box::new(io::stderr()))
    }

    fn line(&self, s: &str) {
        if let Ok(mut out) = self.out.lock() {
            // Progress output is best effort: a closed stderr must not fail a download.
            let _ = writeln!(out, "{s}");
        }
    }
}

impl Progress for LogProgress {
    fn batch(&self, files: usize, bytes: u64, present: usize) {
        self.line(&format!(
            "fetching {files} package(s), {}; {present} already in the store",
            human_bytes(bytes)
        ));
    }

    // A failing mirror: one line the first time, counts in the summary, each event at debug.
    fn retrying(&self, what: &str, mirror: &str, error: &AttemptError, _delay: Duration) {
        if let Some(line) = self.mirrors.retrying(what, mirror, error) {
            self.line(&line);
        }
    }

    fn mirror_failed(&self, what: &str, mirror: &str, error: &AttemptError) {
        if let Some(line) = self.mirrors.gave_up(what, mirror, error) {
            self.line(&line);
        }
    }

    // Hedging is routine tuning, not news, in a log.
    fn hedging(&self, what: &str, mirror: &str, silent: Duration) {
        tracing::debug!(
            "{what}: nothing received for {silent:.1?}; hedging with a second request to {mirror}"
        );
    }

    fn finished(&self, what: &str, result: Result<&Downloaded, &FetchError>) {
        match result {
            Ok(d) => self.line(&format!(
                "fetched {what} ({}) from {}",
                human_bytes(d.bytes),
                d.mirror
            )),
            // The command's error lists every failure once.
            Err(e) => tracing::debug!("failed {e}"),
        }
    }

    fn summary(&self, report: &FetchReport) {
        self.line(&report.summary());
        for line in self.mirrors.summary() {
            self.line(&format!("  {line}"));
        }
    }
}

/// An overall bar (bytes) plus status lines printed above it; for terminals.
pub struct BarProgress {
    multi: MultiProgress,
    total: ProgressBar,
    mirrors: super::noise::MirrorTally,
}

impl BarProgress {
    pub fn new() -> Self {
        let multi = MultiProgress::with_draw_target(ProgressDrawTarget::stderr());
        let total = multi.add(ProgressBar::new(0));
        if let Ok(style) = ProgressStyle::with_template(
            "{spinner} fetching [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} {msg}",
        ) {
            total.set_style(style.progress_chars("=> "));
        }
        total.enable_steady_tick(Duration::from_millis(120));
        BarProgress {
            multi,
            total,
            mirrors: super::noise::MirrorTally::default(),
        }
    }
}

impl Default for BarProgress {
    fn default() -> Self {
        Self::new()
    }
}

impl Progress for BarProgress {
    fn batch(&self, files: usize, bytes: u64, present: usize) {
        self.total.set_length(bytes);
        self.total
            .set_message(format!("{files} file(s), {present} already present"));
    }

    fn bytes(&self, _what: &str, n: u64) {
        self.total.inc(n);
    }

    fn discarded(&self, _what: &str, n: u64) {
        self.total.set_position(self.total.position().saturating_sub(n));
    }

    fn retrying(&self, what: &str, mirror: &str, error: &AttemptError, _delay: Duration) {
        if let Some(line) = self.mirrors.retrying(what, mirror, error) {
            let _ = self.multi.println(line);
        }
    }

    fn mirror_failed(&self, what: &str, mirror: &str, error: &AttemptError) {
        if let Some(line) = self.mirrors.gave_up(what, mirror, error) {
            let _ = self.multi.println(line);
        }
    }

    fn finished(&self, what: &str, result: Result<&Downloaded, &FetchError>) {
        if let Err(e) = result {
            // The command's error lists every failure once.
            tracing::debug!("failed {e}");
        } else {
            self.total.set_message(what.to_owned());
        }
    }

    fn summary(&self, report: &FetchReport) {
        self.total.finish_and_clear();
        let _ = self.multi.println(report.summary());
        for line in self.mirrors.summary() {
            let _ = self.multi.println(format!("  {line}"));
        }
    }
}

/// Bars when stderr is a terminal, plain lines otherwise; nothing when informational messages
/// are turned off (`--quiet`): failures still reach the user as the command's error.
pub fn for_stderr() -> Box<dyn Progress> {
    if !tracing::enabled!(tracing::Level::INFO) {
        Box::new(NoProgress)
    } else if io::stderr().is_terminal() {
        Box::new(BarProgress::new())
    } else {
        Box::new(LogProgress::stderr())
    }
}
