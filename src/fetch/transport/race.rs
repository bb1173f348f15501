//! The requests racing for one attempt's bytes (the first request and its hedges), and when the
//! next hedge is due.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, SyncSender};
use std::thread;
use std::time::{Duration, Instant};

use super::request::{Request, SourceEvent};
use crate::fetch::AttemptError;

/// Chunks a request may read ahead of the file's writer.
const SOURCE_QUEUE: usize = 16;

/// One request of an attempt, as the file's thread sees it.
pub(super) struct Source {
    id: u64,
    /// Index into the job's mirrors.
    pub(super) mirror: usize,
    /// Tells its thread to stop reading.
    cancel: Arc<AtomicBool>,
    /// Where its body starts in the file (once opened; where it asked to start before that).
    pub(super) start: u64,
    /// The file position of its next byte.
    pub(super) pos: u64,
    pub(super) length: Option<u64>,
    pub(super) received: u64,
    /// When it last reported anything (headers, bytes, an error).
    pub(super) heard: Instant,
    /// When it was started, and whether a body byte came yet (its first-byte time is a sample
    /// for the adaptive hedge delay).
    pub(super) started: Instant,
    pub(super) delivered: bool,
}

impl Drop for Source {
    /// A request dropped from the race (overtaken, failed, or the attempt is over) stops reading.
    fn drop(&mut self) {
        self.cancel.store(true, Ordering::Relaxed);
    }
}

/// The requests racing for one attempt's bytes, each read on its own thread and reporting to one
/// queue. Dropping a request, or the race, tells its thread to stop.
pub(super) struct Race {
    pub(super) sources: Vec<Source>,
    tx: SyncSender<(u64, SourceEvent)>,
    rx: Receiver<(u64, SourceEvent)>,
    next_id: u64,
}

impl Race {
    pub(super) fn new() -> Self {
        let (tx, rx) = mpsc::sync_channel(SOURCE_QUEUE);
        Race {
            sources: Vec::new(),
            tx,
            rx,
            next_id: 0,
        }
    }

    /// Starts `request` (at the job's mirror `mirror`) on its own thread.
    pub(super) fn start(&mut self, request: Request, mirror: usize) {
        let id = self.next_id;
        self.next_id += 1;
        let cancel = Arc::new(AtomicBool::new(false));
        let from = request.from;
        let (tx, stop) = (self.tx.clone(), Arc::clone(&cancel));
        let spawned = thread::Builder::new()
            .name("debcast-download".into())
            .spawn(move || request.run(id, &tx, &stop));
        if let Err(e) = spawned {
            // Reported like any failed request (the receiver is ours, so this cannot block).
            let _ = self.tx.try_send((
                id,
                SourceEvent::Failed(AttemptError::Interrupted(format!(
                    "cannot start a download thread: {e}"
                ))),
            ));
        }
        let now = Instant::now();
        self.sources.push(Source {
            id,
            mirror,
            cancel,
            start: from,
            pos: from,
            length: None,
            received: 0,
            heard: now,
            started: now,
            delivered: false,
        });
    }

    /// When any request last reported anything.
    pub(super) fn heard(&self) -> Instant {
        self.sources
            .iter()
            .map(|s| s.heard)
            .max()
            .unwrap_or_else(Instant::now)
    }

    /// Whether a request of the race has delivered body bytes.
    pub(super) fn delivered(&self) -> bool {
        self.sources.iter().any(|s| s.delivered)
    }

    /// The next event, or `None` once `deadline` passed without one. Queued events come first,
    /// however late it is.
    pub(super) fn next_event(&self, deadline: Instant) -> Option<(u64, SourceEvent)> {
        self.rx
            .recv_timeout(deadline.saturating_duration_since(Instant::now()))
            .ok()
    }

    pub(super) fn position(&self, id: u64) -> Option<usize> {
        self.sources.iter().position(|s| s.id == id)
    }

    /// Drops every request but the `k`th.
    pub(super) fn keep_only(&mut self, k: usize) {
        let id = self.sources[k].id;
        self.sources.retain(|s| s.id == id);
    }

    /// Drops the request that has been silent longest, returning it.
    pub(super) fn drop_quietest(&mut self) -> Option<Source> {
        let k = (0..self.sources.len()).min_by_key(|&k| self.sources[k].heard)?;
        Some(self.sources.remove(k))
    }
}

/// When an attempt's next hedge may go out.
pub(super) struct HedgeSchedule {
    /// The first hedge of a request still waiting for its first byte: adaptive by default.
    pub(super) first: Option<Duration>,
    /// Every other hedge (the ceiling); `None`: this attempt is not hedged. A silence mid-body (a
    /// lossy link waiting out a TCP retransmission, a mirror that sends in bursts) and every
    /// further hedge wait this, so neither a bursty transfer nor a server slow to start on one
    /// file draws a request storm.
    pub(super) then: Option<Duration>,
    /// Hedges since the last new byte are bounded like retries, so a mirror that answers nothing
    /// at all is not asked without end.
    pub(super) limit: u32,
    /// Hedges since the last new byte. Each waits twice as long as the one before (after the
    /// second), so a server that is merely slow to start gets requests that live long enough.
    pub(super) idle: u32,
    /// Hedges that failed in a row: the next one waits out their backoff (see `not_before`).
    pub(super) failed: u32,
    pub(super) not_before: Instant,
}

impl HedgeSchedule {
    /// When the next hedge is due, the requests having last been heard at `heard`; `None`: no
    /// more hedges.
    pub(super) fn next(&self, heard: Instant, delivered: bool) -> Option<Instant> {
        let ceiling = self.then.filter(|_| self.idle < self.limit)?;
        let delay = match self.first {
            Some(first) if self.idle == 0 && !delivered => first,
            _ => ceiling,
        };
        let factor = 1u32 << self.idle.saturating_sub(1).min(16);
        Some((heard + delay.saturating_mul(factor)).max(self.not_before))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hedge_schedule() {
        let ms = Duration::from_millis;
        let t0 = Instant::now();
        let mut s = HedgeSchedule {
            first: Some(ms(50)),
            then: Some(ms(500)),
            limit: 3,
            idle: 0,
            failed: 0,
            not_before: t0,
        };
        // Waiting for a first byte: the adaptive delay; mid-body: the ceiling.
        assert_eq!(s.next(t0, false), Some(t0 + ms(50)));
        assert_eq!(s.next(t0, true), Some(t0 + ms(500)));
        // Later hedges wait the ceiling, doubling after the second.
        s.idle = 1;
        assert_eq!(s.next(t0, false), Some(t0 + ms(500)));
        s.idle = 2;
        assert_eq!(s.next(t0, false), Some(t0 + ms(1000)));
        // A failed hedge's backoff holds the next one back.
        s.not_before = t0 + ms(3000);
        assert_eq!(s.next(t0, false), Some(t0 + ms(3000)));
        s.idle = 3;
        assert_eq!(s.next(t0, false), None);
        let off = HedgeSchedule {
            then: None,
            idle: 0,
            ..s
        };
        assert_eq!(off.next(t0, false), None);
    }
}
