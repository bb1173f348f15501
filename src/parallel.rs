//! Scheduling of independent jobs of very different sizes (packages to decode, layers to
//! compress) on rayon's threads: largest first, each thread taking the next job when it is free,
//! so the run ends with small jobs and no core idles while another finishes a big one. Results
//! come back in input order, so nothing downstream depends on the schedule or the thread count.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Condvar, Mutex, OnceLock};

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

/// What [`decode_then_write`] produced: by package, what `decode` returned (`None` for packages
/// not in the order); by group, what `write` returned.
pub struct Overlapped<D, W> {
    pub decoded: Vec<Option<D>>,
    pub written: Vec<Option<W>>,
}

/// A task for a worker of [`decode_then_write`].
enum Task {
    Decode(usize),
    Write(usize),
}

struct Progress {
    next: usize,
    decoding: usize,
    ready: VecDeque<usize>,
    /// Per group: members not decoded yet.
    missing: Vec<usize>,
    failed: bool,
}

/// Marks a [`decode_then_write`] run failed and wakes every worker when dropped, which only
/// happens while a task unwinds (it is forgotten otherwise).
struct AbortOnUnwind<'a> {
    progress: &'a Mutex<Progress>,
    wake: &'a Condvar,
}

impl Drop for AbortOnUnwind<'_> {
    fn drop(&mut self) {
        match self.progress.lock() {
            Ok(mut p) => p.failed = true,
            Err(poisoned) => poisoned.into_inner().failed = true,
        }
        self.wake.notify_all();
    }
}

/// Decodes packages and writes groups of them, overlapped on rayon's threads: `decode(i)` runs for
/// every package of `order` (in that order), and `write(g, decoded)` for every group of `groups`
/// as soon as all of its members are decoded, before any further decode, so compressing a layer
/// overlaps with decoding the next packages instead of waiting for all of them. Every member of a
/// group must be in `order`. Stops at the first error and returns it.
pub fn decode_then_write<D: Send + Sync, W: Send + Sync, E: Send>(
    packages: usize,
    order: &[usize],
    groups: &[Vec<usize>],
    decode: impl Fn(usize) -> Result<D, E> + Sync,
    write: impl for<'d> Fn(usize, &'d (dyn Fn(usize) -> Option<&'d D> + 'd)) -> Result<W, E> + Sync,
) -> Result<Overlapped<D, W>, E> {
    let decoded: Vec<OnceLock<D>> = (0..packages).map(|_| OnceLock::new()).collect();
    let written: Vec<OnceLock<W>> = (0..groups.len()).map(|_| OnceLock::new()).collect();
    let mut group_of: Vec<Vec<usize>> = vec![Vec::new(); packages];
    for (g, members) in groups.iter().enumerate() {
        for &i in members {
            if let Some(of) = group_of.get_mut(i) {
                of.push(g);
            }
        }
    }
    let mut ready = VecDeque::new();
    let missing: Vec<usize> = groups.iter().map(Vec::len).collect();
    for (g, m) in missing.iter().enumerate() {
        if *m == 0 {
            ready.push_back(g);
        }
    }
    let progress = Mutex::new(Progress {
        next: 0,
        decoding: 0,
        ready,
        missing,
        failed: false,
    });
    let wake = Condvar::new();
    let error: Mutex<Option<E>> = Mutex::new(None);
    let fail = |e: E| {
        if let Ok(mut slot) = error.lock()
            && slot.is_none()
        {
            *slot = Some(e);
        }
    };
    let get = |i: usize| decoded.get(i).and_then(OnceLock::get);
    let workers = rayon::current_num_threads().max(1);
    rayon::scope(|s| {
        for _ in 0..workers {
            s.spawn(|_| {
                loop {
                    let task = {
                        let Ok(mut p) = progress.lock() else { return };
                        loop {
                            if p.failed {
                                break None;
                            }
                            if let Some(g) = p.ready.pop_front() {
                                break Some(Task::Write(g));
                            }
                            if let Some(&i) = order.get(p.next) {
                                p.next += 1;
                                p.decoding += 1;
                                break Some(Task::Decode(i));
                            }
                            if p.decoding == 0 {
                                break None;
                            }
                            p = match wake.wait(p) {
                                Ok(p) => p,
                                Err(_) => return,
                            };
                        }
                    };
                    let Some(task) = task else {
                        wake.notify_all();
                        return;
                    };
                    // A task that panics must still wake the other workers (they would wait
                    // for it forever); rayon then re-raises the panic at the end of the scope.
                    let on_panic = AbortOnUnwind {
                        progress: &progress,
                        wake: &wake,
                    };
                    let ok = match task {
                        Task::Decode(i) => match decode(i) {
                            Ok(d) => {
                                let _ = decoded[i].set(d);
                                true
                            }
                            Err(e) => {
                                fail(e);
                                false
                            }
                        },
                        Task::Write(g) => match write(g, &get) {
                            Ok(w) => {
                                let _ = written[g].set(w);
                                true
                            }
                            Err(e) => {
                                fail(e);
                                false
                            }
                        },
                    };
                    std::mem::forget(on_panic);
                    let Ok(mut p) = progress.lock() else { return };
                    if !ok {
                        p.failed = true;
                    }
                    if let Task::Decode(i) = task {
                        p.decoding -= 1;
                        for &g in &group_of[i] {
                            p.missing[g] -= 1;
                            if p.missing[g] == 0 {
                                p.ready.push_back(g);
                            }
                        }
                    }
                    drop(p);
                    wake.notify_all();
                }
            });
        }
    });
    if let Some(e) = error.into_inner().ok().flatten() {
        return Err(e);
    }
    Ok(Overlapped {
        decoded: decoded.into_iter().map(OnceLock::into_inner).collect(),
        written: written.into_iter().map(OnceLock::into_inner).collect(),
    })
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

    #[test]
    fn writes_each_group_once_all_its_members_are_decoded() {
        let order = [3, 0, 1, 2];
        let groups = vec![vec![0, 1], vec![2], vec![3, 2]];
        let out = decode_then_write(
            5,
            &order,
            &groups,
            |i| Ok::<_, String>(i * 10),
            |g, decoded| {
                let members: Vec<usize> = groups[g]
                    .iter()
                    .map(|&i| decoded(i).copied().ok_or(format!("group {g}: {i} not decoded")))
                    .collect::<Result<_, _>>()?;
                Ok(members.iter().sum::<usize>())
            },
        )
        .unwrap();
        assert_eq!(out.decoded, vec![Some(0), Some(10), Some(20), Some(30), None]);
        assert_eq!(out.written, vec![Some(10), Some(20), Some(50)]);
    }

    #[test]
    fn stops_at_the_first_error() {
        let groups = vec![vec![0], vec![1]];
        let r = decode_then_write(
            2,
            &[0, 1],
            &groups,
            |i| {
                if i == 1 {
                    Err(format!("cannot decode {i}"))
                } else {
                    Ok(i)
                }
            },
            |g, _| Ok::<_, String>(g),
        );
        assert_eq!(r.err(), Some("cannot decode 1".to_owned()));
    }

    #[test]
    fn a_panicking_task_does_not_leave_the_others_waiting() {
        let pool = rayon::ThreadPoolBuilder::new().num_threads(2).build().unwrap();
        let groups = vec![vec![0, 1]];
        let run = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            pool.install(|| {
                decode_then_write(
                    2,
                    &[0, 1],
                    &groups,
                    |i| {
                        if i == 0 {
                            panic!("decoder bug");
                        }
                        std::thread::sleep(std::time::Duration::from_millis(50));
                        Ok::<_, String>(i)
                    },
                    |g, _| Ok::<_, String>(g),
                )
            })
        }));
        assert!(run.is_err(), "the panic reaches the caller instead of hanging");
    }
}
