//! When packages are decoded: the schedule of one platform's decodes on rayon's threads, and
//! what it holds in memory.
//!
//! The packages of the layers to write are decoded biggest layer first, the biggest package
//! first within it, and each layer is handed to its writer as soon as all of its packages are
//! decoded, before any further decode, so compressing a layer overlaps with decoding the next
//! packages (and no large layer is left to compress alone at the end). Then the packages that
//! are in no layer to write and that no unpack record describes are decoded, largest first, so
//! the run ends with small jobs and no core idles while another finishes a big one. A flat image
//! is the case with no package layers: every package is decoded this way for the one layer.
//!
//! Memory: a package's spool (its unpacked bytes) is kept only while a layer still needs it:
//! dropped once its layer is written, never kept for a package decoded only for what its record
//! would have said (its layer is cached). A later read decodes it again ([`Spools`]). Results
//! come back by package index, so nothing downstream depends on the schedule or the thread count.

use std::collections::VecDeque;
use std::sync::{Arc, Condvar, Mutex, OnceLock};

use super::{AssembleError, Debs, Spools, Unpacked};

/// What one platform's packages are decoded for.
pub struct Plan {
    /// The image's package layers (package indices, ascending); a package in none of them is in
    /// the last layer only (every package, for a flat image).
    pub layers: Vec<Vec<usize>>,
    /// Per layer: whether to write it, as soon as its packages are decoded (else it comes from
    /// elsewhere: the layer cache).
    pub write: Vec<bool>,
    /// Per package: what its unpack record said, if there is one. Such a package is decoded only
    /// when its layer is written.
    pub known: Vec<Option<Unpacked>>,
}

/// What [`unpack`] gives: every package, and what the writer returned for each layer written.
pub struct Unpacking<W> {
    /// Every package, by index: decoded, or as its record said.
    pub packages: Vec<Unpacked>,
    /// By layer of the plan: what the writer returned (`None` for a layer not written).
    pub written: Vec<Option<W>>,
    /// The spools of the packages decoded (and not released), read back for the last layer.
    pub spools: Arc<Spools>,
}

/// Decodes what `plan` needs of `debs`' packages on all cores and calls `write(layer, members,
/// spools)` for every layer to write as soon as its packages are decoded; `on_decoded` sees each
/// package as it is decoded (to keep its record). Stops at the first error and returns it.
pub fn unpack<W, E>(
    debs: &Arc<Debs>,
    plan: Plan,
    on_decoded: impl Fn(usize, &Unpacked) + Sync,
    write: impl Fn(usize, &[&Unpacked], &Spools) -> Result<W, E> + Sync,
) -> Result<Unpacking<W>, E>
where
    W: Send + Sync,
    E: From<AssembleError> + Send,
{
    let n = debs.len();
    let Plan {
        layers,
        write: to_write,
        known,
    } = plan;
    if known.len() != n || to_write.len() != layers.len() {
        return Err(AssembleError::Internal(format!(
            "a decode plan for {} packages and {} layers, of {n} packages and {} layers",
            known.len(),
            to_write.len(),
            layers.len()
        ))
        .into());
    }
    let mut layer_of: Vec<Option<usize>> = vec![None; n];
    for (g, members) in layers.iter().enumerate() {
        for &i in members {
            if let Some(slot) = layer_of.get_mut(i) {
                *slot = Some(g);
            }
        }
    }
    // A package in a layer to write, or in no package layer (the last layer holds it), needs its
    // spool; one whose layer is cached was decoded only for what a record would have said.
    let needs_spool = |i: usize| layer_of[i].is_none_or(|g| to_write[g]);
    let order = decode_order(debs, &layers, &to_write, &known, &layer_of);
    let writes: Vec<usize> = (0..layers.len()).filter(|&g| to_write[g]).collect();
    tracing::debug!(
        "{} of {} layers to write, {} of {n} packages to decode",
        writes.len(),
        layers.len(),
        order.len()
    );
    let spools = Arc::new(Spools::new(Arc::clone(debs)));
    let write_groups: Vec<Vec<usize>> = writes.iter().map(|&g| layers[g].clone()).collect();
    let done = decode_then_write(
        n,
        &order,
        &write_groups,
        |i| {
            let (unpacked, file) = debs.decode(i)?;
            if needs_spool(i) {
                spools.set(i, file);
            }
            on_decoded(i, &unpacked);
            Ok::<_, E>(unpacked)
        },
        |w, decoded| {
            let g = writes[w];
            let members: Vec<&Unpacked> = layers[g].iter().filter_map(|&i| decoded(i)).collect();
            let written = write(g, &members, &spools)?;
            for &i in &layers[g] {
                spools.release(i);
            }
            Ok(written)
        },
    )?;
    let labels = debs.labels();
    let packages = done
        .decoded
        .into_iter()
        .zip(known)
        .enumerate()
        .map(|(i, (decoded, known))| {
            decoded
                .or(known)
                .ok_or_else(|| AssembleError::Internal(format!("{} was not unpacked", labels[i])).into())
        })
        .collect::<Result<_, E>>()?;
    let mut written: Vec<Option<W>> = layers.iter().map(|_| None).collect();
    for (w, result) in done.written.into_iter().enumerate() {
        written[writes[w]] = result;
    }
    Ok(Unpacking {
        packages,
        written,
        spools,
    })
}

/// The packages to decode, in the order to decode them: every package of a layer to write,
/// biggest layer first and the biggest package first within it (so its layer is ready to
/// compress early), then, largest first, the packages in no such layer that no record describes.
/// Ties by index.
fn decode_order(
    debs: &Debs,
    layers: &[Vec<usize>],
    to_write: &[bool],
    known: &[Option<Unpacked>],
    layer_of: &[Option<usize>],
) -> Vec<usize> {
    let size = |i: usize| debs.locked()[i].size;
    let mut writes: Vec<usize> = (0..layers.len()).filter(|&g| to_write[g]).collect();
    writes.sort_by_key(|&g| std::cmp::Reverse(layers[g].iter().map(|&i| size(i)).sum::<u64>()));
    let mut order = Vec::with_capacity(debs.len());
    for g in writes {
        let mut members = layers[g].clone();
        members.sort_by_key(|&i| std::cmp::Reverse(size(i)));
        order.extend(members);
    }
    let mut rest: Vec<usize> = (0..debs.len())
        .filter(|&i| known[i].is_none() && !layer_of[i].is_some_and(|g| to_write[g]))
        .collect();
    rest.sort_by_key(|&i| std::cmp::Reverse(size(i)));
    order.extend(rest);
    order
}

/// What [`decode_then_write`] produced: by package, what `decode` returned (`None` for packages
/// not in the order); by group, what `write` returned.
struct Overlapped<D, W> {
    decoded: Vec<Option<D>>,
    written: Vec<Option<W>>,
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
fn decode_then_write<D: Send + Sync, W: Send + Sync, E: Send>(
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

#[cfg(test)]
mod plan_tests {
    use super::*;
    use crate::assemble::Node;
    use crate::entry::EntryKind;
    use crate::hash::Sha256Digest;
    use crate::lockfile::LockedPackage;
    use crate::store::{Kind, Store};
    use debcast_testkit::deb::DebBuilder;
    use std::io::Read;

    /// A store holding one `.deb` per name (each with one file, `usr/share/NAME/f`, of `size`
    /// bytes), and their lock entries.
    fn store_with(dir: &std::path::Path, debs: &[(&str, usize)]) -> (Store, Vec<LockedPackage>) {
        let store = Store::open(dir).unwrap();
        let locked = debs
            .iter()
            .map(|(name, size)| {
                let bytes = DebBuilder::new(name, "1", "amd64")
                    .file(&format!("./usr/share/{name}/f"), vec![b'x'; *size], 0o644)
                    .build();
                let sha256 = store.insert_bytes(Kind::Deb, &bytes).unwrap();
                assert_eq!(sha256, Sha256Digest::of(&bytes));
                LockedPackage {
                    platform: "linux/amd64".parse().unwrap(),
                    name: (*name).into(),
                    version: "1".into(),
                    architecture: "amd64".into(),
                    archive: "debian".into(),
                    path: format!("pool/{name}.deb"),
                    size: bytes.len() as u64,
                    sha256,
                }
            })
            .collect();
        (store, locked)
    }

    fn debs(store: &Store, locked: &[LockedPackage]) -> Arc<Debs> {
        let refs: Vec<&LockedPackage> = locked.iter().collect();
        Arc::new(Debs::new(
            store,
            &refs,
            crate::assemble::AssembleOptions { usrmerge: true },
        ))
    }

    /// The package's one regular file.
    fn file_node(u: &Unpacked) -> &Node {
        u.entries
            .nodes
            .iter()
            .find(|n| matches!(n.entry.kind, EntryKind::File { .. }))
            .unwrap()
    }

    fn read(spools: &Spools, node: &Node) -> std::io::Result<usize> {
        let mut out = Vec::new();
        spools.content(node).read_to_end(&mut out)
    }

    /// Layer 0 is written, layer 1 is cached: its package with a record is not decoded, the one
    /// without is decoded for its record only (no spool kept); a written layer's spools are
    /// dropped once it is written, and a later read decodes the package again through the same
    /// `Debs`.
    #[test]
    fn decodes_what_the_plan_needs_and_keeps_spools_only_while_needed() {
        let dir = tempfile::tempdir().unwrap();
        let (store, locked) = store_with(dir.path(), &[("a", 50_000), ("b", 10), ("c", 20)]);
        let record_of_c = debs(&store, &locked).decode(2).unwrap().0;
        let debs = debs(&store, &locked);
        let seen = Mutex::new(Vec::new());
        let plan = Plan {
            layers: vec![vec![0], vec![1, 2]],
            write: vec![true, false],
            known: vec![None, None, Some(record_of_c)],
        };
        let out = unpack(
            &debs,
            plan,
            |i, _| seen.lock().unwrap().push(i),
            |g, members, spools| {
                // Every member is decoded and readable while its layer is written.
                for m in members {
                    assert_eq!(read(spools, file_node(m)).unwrap(), 50_000);
                }
                Ok::<_, AssembleError>((g, members.len()))
            },
        )
        .unwrap();
        let mut seen = seen.into_inner().unwrap();
        seen.sort();
        assert_eq!(seen, [0, 1], "c's record spares its decode");
        assert_eq!(
            out.written.iter().map(Option::as_ref).collect::<Vec<_>>(),
            [Some(&(0, 1)), None]
        );
        let names: Vec<&str> = out
            .packages
            .iter()
            .map(|u| u.package.locked.name.as_str())
            .collect();
        assert_eq!(names, ["a", "b", "c"]);
        assert_eq!(debs.decoded(), 2);
        // c is decoded on the first read of its file, by the same path.
        assert_eq!(read(&out.spools, file_node(&out.packages[2])).unwrap(), 20);
        assert_eq!(debs.decoded(), 3);
        // No spool is left: with the store's `.deb`s gone, every read fails.
        std::fs::remove_dir_all(dir.path().join("debs")).unwrap();
        for (i, u) in out.packages.iter().enumerate() {
            if i != 2 {
                assert!(read(&out.spools, file_node(u)).is_err(), "{i} kept its spool");
            }
        }
    }

    /// A flat image (no package layers): every package is decoded and keeps its spool for the
    /// one layer written after the schedule.
    #[test]
    fn without_package_layers_every_package_is_decoded_and_kept() {
        let dir = tempfile::tempdir().unwrap();
        let (store, locked) = store_with(dir.path(), &[("a", 10), ("b", 3000), ("c", 1)]);
        let debs = debs(&store, &locked);
        let plan = Plan {
            layers: Vec::new(),
            write: Vec::new(),
            known: vec![None, None, None],
        };
        let out = unpack(&debs, plan, |_, _| {}, |_, _, _| Ok::<(), AssembleError>(())).unwrap();
        assert_eq!(debs.decoded(), 3);
        std::fs::remove_dir_all(dir.path().join("debs")).unwrap();
        let sizes: Vec<usize> = (out.packages.iter())
            .map(|u| read(&out.spools, file_node(u)).unwrap())
            .collect();
        assert_eq!(sizes, [10, 3000, 1]);
    }

    #[test]
    fn a_damaged_store_entry_is_an_error_naming_the_package() {
        let dir = tempfile::tempdir().unwrap();
        let (store, locked) = store_with(dir.path(), &[("a", 10), ("b", 10)]);
        let path = store.path(Kind::Deb, &locked[1].sha256);
        std::fs::remove_file(&path).unwrap();
        std::fs::write(&path, b"not a deb").unwrap();
        let debs = debs(&store, &locked);
        let plan = Plan {
            layers: Vec::new(),
            write: Vec::new(),
            known: vec![None, None],
        };
        let err = unpack(&debs, plan, |_, _| {}, |_, _, _| Ok::<(), AssembleError>(()))
            .err()
            .unwrap();
        assert!(
            matches!(&err, AssembleError::Store { package, .. } if package == "b=1 (amd64)"),
            "{err}"
        );
    }
}
