//! What this run has seen of its mirrors, that the retry policy adapts to: how long requests take
//! to deliver their first byte (the default hedge delay) and how many requests in a row failed
//! at each mirror (the backoff).
//!
//! # First-byte times
//!
//! A fixed hedge delay has to suit the slowest mirror anyone uses, so it is far too long for a
//! fast one: on a mirror that answers in milliseconds, a request that has been silent for a
//! quarter of the stall timeout is long dead, and it holds a request slot all that while. As in
//! "The Tail at Scale" (Dean and Barroso), a request still waiting for its first byte is hedged
//! once it has waited a few times the 95th percentile of what first bytes take here, now; never
//! below [`HEDGE_FLOOR`] nor above the configured ceiling. Requests that never delivered
//! (stalls, errors) are not samples: they are what hedging is for, and counting them would teach
//! it to wait for them. Only the first hedge of a request adapts: a silence mid-body (a lossy
//! link waits out a TCP retransmission, a shaped one sends in bursts) and a server that is slow
//! to start on one file would otherwise draw a new request every few milliseconds.
//!
//! # Failure streaks
//!
//! Exponential backoff exists for a mirror that is in trouble: each request that fails there
//! makes the next wait longer, so an overloaded server is not hammered. One file's failures in a
//! row do not show that by themselves: on a mirror (or a path to it) that drops a fraction of all
//! requests, a file can draw several in a row while every other file goes through. So the backoff
//! doubles with a file's failures in a row only while its mirror's requests fail in a row too
//! (`FailureStreaks`); once a request there delivers, the next failure waits the first step
//! again. A mirror that fails everything still gets the whole doubling series from each file.
//!
//! # Hedge outcomes
//!
//! A hedge is a bet that the request it races is dead. When the raced request delivers first
//! anyway, the bet was lost: its silence was the link's rhythm (a mirror that sends in bursts, a
//! slow link shared by many requests), and on a shared link the hedge only took bandwidth from the
//! request it raced, making the next silence longer. So hedges at a mirror back off while they
//! keep losing there ([`HedgeOutcomes`]) and come back as they win.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::Duration;

use url::Url;

/// Recent first-byte times kept: enough for a 95th percentile, few enough to follow a mirror
/// whose answers slow down as the files grow (a server that reads a whole file before it answers).
const WINDOW: usize = 64;

/// Samples needed before the observed times are trusted over the ceiling.
const MIN_SAMPLES: usize = 16;

/// A silence this many times the 95th percentile gets a hedge.
const HEDGE_FACTOR: u32 = 3;

/// The shortest adaptive hedge delay: below it, scheduling noise on a loaded machine (a file
/// thread descheduled, a server thread waiting for a core) would pass for a dead request.
pub const HEDGE_FLOOR: Duration = Duration::from_millis(50);

/// The first-byte times of the most recent requests that delivered one.
#[derive(Debug, Default)]
pub(crate) struct FirstByteTimes {
    recent: Mutex<VecDeque<Duration>>,
}

impl FirstByteTimes {
    /// Notes that a request delivered its first body byte `elapsed` after it was started.
    pub(crate) fn record(&self, elapsed: Duration) {
        // A poisoned lock only means another thread panicked mid-push; the samples stay usable.
        let mut recent = self.recent.lock().unwrap_or_else(|e| e.into_inner());
        if recent.len() == WINDOW {
            recent.pop_front();
        }
        recent.push_back(elapsed);
    }

    /// The 95th percentile of the recent first-byte times, once there are enough of them.
    pub(crate) fn p95(&self) -> Option<Duration> {
        let recent = self.recent.lock().unwrap_or_else(|e| e.into_inner());
        if recent.len() < MIN_SAMPLES {
            return None;
        }
        let mut sorted: Vec<Duration> = recent.iter().copied().collect();
        sorted.sort_unstable();
        // Nearest rank: the smallest sample with at least 95% of the samples at or below it.
        let rank = (sorted.len() * 95).div_ceil(100);
        sorted.get(rank.saturating_sub(1)).copied()
    }

    /// The hedge delay for a ceiling of `ceiling`: [`HEDGE_FACTOR`] times the 95th percentile,
    /// within [`HEDGE_FLOOR`]..=`ceiling`; the ceiling itself until enough requests were seen.
    pub(crate) fn hedge_delay(&self, ceiling: Duration) -> Duration {
        match self.p95() {
            Some(p95) => p95.saturating_mul(HEDGE_FACTOR).max(HEDGE_FLOOR).min(ceiling),
            None => ceiling,
        }
    }
}

/// A count per mirror (zero for a mirror not seen yet), shared by the files of a run.
#[derive(Debug, Default)]
struct PerMirror {
    counts: Mutex<HashMap<Url, u32>>,
}

impl PerMirror {
    /// Replaces `mirror`'s count with `f` of it; returns the new count.
    fn update(&self, mirror: &Url, f: impl FnOnce(u32) -> u32) -> u32 {
        // A poisoned lock only means another thread panicked mid-update; the counts stay usable.
        let mut counts = self.counts.lock().unwrap_or_else(|e| e.into_inner());
        let n = counts.entry(mirror.clone()).or_insert(0);
        *n = f(*n);
        *n
    }

    fn get(&self, mirror: &Url) -> u32 {
        let counts = self.counts.lock().unwrap_or_else(|e| e.into_inner());
        counts.get(mirror).copied().unwrap_or(0)
    }
}

/// Per mirror, how many requests in a row failed there without delivering anything.
#[derive(Debug, Default)]
pub(crate) struct FailureStreaks(PerMirror);

impl FailureStreaks {
    /// Notes a failure at `mirror` that delivered nothing; returns the streak it extends.
    pub(crate) fn failed(&self, mirror: &Url) -> u32 {
        self.0.update(mirror, |n| n.saturating_add(1))
    }

    /// Notes that a request at `mirror` delivered: its streak is over.
    pub(crate) fn delivered(&self, mirror: &Url) {
        self.0.update(mirror, |_| 0);
    }
}

/// Per mirror, how hedges fared against the requests they raced: each loss counts two, each win
/// takes one back (never below zero), and the hedge delays there are multiplied by two for every
/// two counted, at most [`HEDGE_BACKOFF_MAX`] times. A link where hedges lose as often as they
/// win backs off; one where they win (requests that really stalled) keeps its delays.
#[derive(Debug, Default)]
pub(crate) struct HedgeOutcomes(PerMirror);

/// The most hedge delays are multiplied by at a mirror where hedges keep losing.
pub const HEDGE_BACKOFF_MAX: u32 = 16;

impl HedgeOutcomes {
    /// A hedge at `mirror` was overtaken by the request it raced.
    pub(crate) fn lost(&self, mirror: &Url) {
        // Capped where the factor is: losses beyond it would only delay the recovery.
        self.0
            .update(mirror, |n| (n + 2).min(2 * HEDGE_BACKOFF_MAX.ilog2()));
    }

    /// A hedge at `mirror` overtook the request it raced.
    pub(crate) fn won(&self, mirror: &Url) {
        self.0.update(mirror, |n| n.saturating_sub(1));
    }

    /// What the hedge delays at `mirror` are multiplied by.
    pub(crate) fn factor(&self, mirror: &Url) -> u32 {
        1 << (self.0.get(mirror) / 2)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hedges_back_off_while_they_lose_and_come_back_as_they_win() {
        let h = HedgeOutcomes::default();
        let a: Url = "http://a.example/debian/".parse().expect("url");
        let b: Url = "http://b.example/debian/".parse().expect("url");
        assert_eq!(h.factor(&a), 1);
        h.lost(&a);
        assert_eq!(h.factor(&a), 2);
        for _ in 0..10 {
            h.lost(&a);
        }
        assert_eq!(h.factor(&a), HEDGE_BACKOFF_MAX);
        assert_eq!(h.factor(&b), 1);
        // A win for every loss still backs off; two wins per loss come back.
        h.won(&a);
        h.won(&a);
        assert_eq!(h.factor(&a), 8);
        for _ in 0..6 {
            h.won(&a);
        }
        assert_eq!(h.factor(&a), 1);
        h.won(&a);
        assert_eq!(h.factor(&a), 1);
    }

    #[test]
    fn a_delivery_ends_the_mirrors_streak_and_only_its_own() {
        let s = FailureStreaks::default();
        let a: Url = "http://a.example/debian/".parse().expect("url");
        let b: Url = "http://b.example/debian/".parse().expect("url");
        assert_eq!(s.failed(&a), 1);
        assert_eq!(s.failed(&a), 2);
        assert_eq!(s.failed(&b), 1);
        s.delivered(&a);
        assert_eq!(s.failed(&a), 1);
        assert_eq!(s.failed(&b), 2);
    }

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn the_ceiling_holds_until_enough_requests_were_seen() {
        let t = FirstByteTimes::default();
        for _ in 0..MIN_SAMPLES - 1 {
            t.record(ms(2));
        }
        assert_eq!(t.p95(), None);
        assert_eq!(t.hedge_delay(ms(7500)), ms(7500));
        t.record(ms(2));
        assert_eq!(t.p95(), Some(ms(2)));
        // 3 × 2 ms is below the floor.
        assert_eq!(t.hedge_delay(ms(7500)), HEDGE_FLOOR);
    }

    #[test]
    fn it_follows_the_95th_percentile_within_floor_and_ceiling() {
        let t = FirstByteTimes::default();
        // 100 samples, 1..=100 ms; only the last 64 (37..=100) are kept.
        for n in 1..=100 {
            t.record(ms(n));
        }
        // Nearest rank 61 of 64 sorted samples 37..=100 is 97 ms.
        assert_eq!(t.p95(), Some(ms(97)));
        assert_eq!(t.hedge_delay(ms(7500)), ms(291));
        assert_eq!(t.hedge_delay(ms(200)), ms(200));
    }

    #[test]
    fn slow_outliers_below_the_percentile_do_not_move_it() {
        let t = FirstByteTimes::default();
        for _ in 0..61 {
            t.record(ms(10));
        }
        for _ in 0..3 {
            t.record(Duration::from_secs(5));
        }
        assert_eq!(t.p95(), Some(ms(10)));
        t.record(Duration::from_secs(5));
        // Four of 64 above: the 61st sample is now one of the slow ones.
        assert_eq!(t.p95(), Some(Duration::from_secs(5)));
    }
}
