//! Scheduling of independent jobs of very different sizes (packages to decode, layers to
//! compress) on rayon's threads: largest first, each thread taking the next job when it is free,
//! so the run ends with small jobs and no core idles while another finishes a big one. Results
//! come back in input order, so nothing downstream depends on the schedule or the thread count.

use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Runs `f(i)` for every `i` in `0..sizes.len()`, largest `sizes[i]` first (ties by index), on
/// the current rayon pool; returns the results by index.
pub fn largest_first<T: Send>(sizes: &[u64], f: impl Fn(usize) -> T + Sync) -> Vec<T> {
    let n = sizes.len();
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|a, b| sizes[*b].cmp(&sizes[*a]).then(a.cmp(b)));
    let next = AtomicUsize::new(0);
    let slots: Vec<Mutex<Option<T>>> = (0..n).map(|_| Mutex::new(None)).collect();
    let workers = rayon::current_num_threads().clamp(1, n.max(1));
    rayon::scope(|s| {
        for _ in 0..workers {
            s.spawn(|_| {
                loop {
                    let k = next.fetch_add(1, Ordering::Relaxed);
                    let Some(&i) = order.get(k) else { break };
                    let result = f(i);
                    if let Ok(mut slot) = slots[i].lock() {
                        *slot = Some(result);
                    }
                }
            });
        }
    });
    slots
        .into_iter()
        .map(|m| {
            // Every index was taken by exactly one worker, and a panicking job unwinds out of
            // `rayon::scope` before this point, so each slot is filled.
            m.into_inner()
                .ok()
                .flatten()
                .expect("every job of largest_first ran")
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results_are_in_input_order_whatever_the_sizes() {
        let sizes = [1, 50, 3, 50, 0, 7];
        let out = largest_first(&sizes, |i| i * 10);
        assert_eq!(out, vec![0, 10, 20, 30, 40, 50]);
        assert!(largest_first(&[], |i| i).is_empty());
    }
}
