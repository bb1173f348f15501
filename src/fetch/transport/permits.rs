//! Request slots: a counting semaphore that bounds requests in flight and grants a free slot to
//! the file that started first.

use std::collections::BTreeSet;
use std::sync::{Condvar, Mutex};

/// A counting semaphore bounding requests in flight, granted to the file that started first.
///
/// Files in progress outnumber request slots (see `packages::FILES_PER_REQUEST_SLOT`), so a file
/// coming back from a backoff or a `Retry-After` queues for a slot behind files that have not
/// sent a request yet. Granted in arrival order, its retry would go out only after those, late
/// in the run, where a second fault on it decides when the run ends. Granted by the file's start
/// ticket, a retry goes ahead of every file that started after it.
pub(super) struct Permits {
    state: Mutex<PermitState>,
    cv: Condvar,
}

struct PermitState {
    free: usize,
    /// Start tickets of the files waiting for a slot.
    waiting: BTreeSet<u64>,
}

pub(super) struct Permit<'a>(&'a Permits);

impl Permits {
    pub(super) fn new(slots: usize) -> Self {
        Permits {
            state: Mutex::new(PermitState {
                free: slots,
                waiting: BTreeSet::new(),
            }),
            cv: Condvar::new(),
        }
    }

    /// Waits for a slot for the file with start ticket `ticket` (unique per file in progress).
    pub(super) fn acquire(&self, ticket: u64) -> Permit<'_> {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        state.waiting.insert(ticket);
        while state.free == 0 || state.waiting.first() != Some(&ticket) {
            state = self.cv.wait(state).unwrap_or_else(|e| e.into_inner());
        }
        state.waiting.remove(&ticket);
        state.free -= 1;
        // The next in line may be able to go too (several slots came free at once).
        if state.free > 0 && !state.waiting.is_empty() {
            self.cv.notify_all();
        }
        Permit(self)
    }
}

impl Drop for Permit<'_> {
    fn drop(&mut self) {
        let mut state = self.0.state.lock().unwrap_or_else(|e| e.into_inner());
        state.free += 1;
        // Only the first in line may take it, and a condition variable cannot wake one chosen
        // waiter: wake them all; the others wait again.
        if !state.waiting.is_empty() {
            self.0.cv.notify_all();
        }
    }
}

#[cfg(test)]
mod tests {
    use std::thread;
    use std::time::Duration;

    use super::*;

    #[test]
    fn request_slots_go_to_the_file_that_started_first() {
        let permits = Permits::new(1);
        let held = permits.acquire(0);
        let order = Mutex::new(Vec::new());
        thread::scope(|s| {
            let waiting = |n: usize| loop {
                let len = permits.state.lock().map(|st| st.waiting.len()).unwrap_or(0);
                if len == n {
                    break;
                }
                thread::sleep(Duration::from_millis(1));
            };
            let take = |ticket: u64| {
                let _p = permits.acquire(ticket);
                order.lock().expect("order").push(ticket);
            };
            // The later file asks first; the earlier one (a retry) asks after it.
            s.spawn(move || take(7));
            waiting(1);
            s.spawn(move || take(3));
            waiting(2);
            drop(held);
        });
        assert_eq!(order.into_inner().expect("order"), [3, 7]);
        let st = permits.state.lock().expect("state");
        assert_eq!((st.free, st.waiting.len()), (1, 0));
    }
}
