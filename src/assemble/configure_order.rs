//! The order the packages are configured in, as an install of them on Debian orders it. The order
//! decides what the maintainer scripts see and leave: which system user or group takes which
//! dynamic id, the order of lines in registries the scripts append to.
//!
//! Debian installs a system in three steps, and so does this order:
//!
//! 1. **The Essential set** (`Essential: yes` and what it depends on), which debootstrap and
//!    mmdebstrap install with dpkg before apt runs (and every Debian image already holds):
//!    dependencies first, then by name.
//! 2. **What apt configures while it unpacks**: a package's `Pre-Depends` must be configured
//!    before apt unpacks it, so their targets (and what those depend on) are configured early;
//!    same rule (apt's own order among them is not reproduced). `Important: yes` packages are
//!    not configured early (e2fsprogs is not, in dpkg's log of a real install).
//! 3. **The rest, as apt's closing `dpkg --configure --pending` does it**: dpkg queues the
//!    pending packages in the order of its package hash table (FNV-1a of the name modulo 65521
//!    bins, `lib/dpkg/pkg-hash.c`), sends a package whose dependency is not configured yet to the
//!    back of the queue, and when a round makes no progress, breaks a dependency cycle
//!    (`findbreakcycle`) or processes the triggers configured packages await
//!    (`src/main/packages.c`, dpkg 1.21). Checked against the configure lines of dpkg's log of
//!    real installs (FIDELITY.md).
//!
//! Approximations, said here once: two names in the same hash bin keep name order (dpkg keeps the
//! order it first read them in); a package awaits trigger processing after its configure only
//! through an explicit `activate`/`activate-await` of a trigger another package is interested in
//! without `-noawait` (file triggers are processed before the awaiting package is configured, as a
//! rule).

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use crate::debian::relation::parse_relations;

/// What the order needs to know of one package.
#[derive(Debug, Clone, Default)]
pub struct OrderPackage {
    pub name: String,
    pub essential: bool,
    pub pre_depends: String,
    pub depends: String,
    pub provides: String,
    pub has_postinst: bool,
    /// Its `triggers` control file.
    pub triggers: String,
}

/// dpkg's package hash table size (a prime; `lib/dpkg/pkg-hash.c`).
const PKG_HASH_BINS: u32 = 65_521;

/// The bin of dpkg's package hash table a package name falls in: `str_fnv_hash` (32-bit FNV-1a,
/// bytes sign-extended as `char` is on x86) modulo the bins.
fn pkg_hash_bin(name: &str) -> u32 {
    super::system::dpkgdb::fnv_hash(name) % PKG_HASH_BINS
}

/// The order to configure `packages` in (indices into it): see the module's comment.
pub fn configure_order(packages: &[OrderPackage]) -> Vec<usize> {
    configure_rounds(packages).concat()
}

/// [`configure_order`] in its three install rounds (the Essential set, what apt configures
/// early, the rest): each round's packages are unpacked (their preinsts run) before the round is
/// configured, and a round is configured before the next one is unpacked.
pub fn configure_rounds(packages: &[OrderPackage]) -> [Vec<usize>; 3] {
    configure_plan(packages).rounds
}

/// The install's plan: [`configure_rounds`], and where dpkg processes awaited triggers.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConfigurePlan {
    /// The packages of each install round, in configure order.
    pub rounds: [Vec<usize>; 3],
    /// The packages before whose configure `dpkg --configure --pending` processes the triggers
    /// that packages configured earlier await (dpkg had no other way forward: a package
    /// depending on an awaiting one was deferred until the queue stalled).
    pub awaited_triggers_before: BTreeSet<usize>,
}

/// [`configure_rounds`] with the points where awaited triggers are processed.
pub fn configure_plan(packages: &[OrderPackage]) -> ConfigurePlan {
    let graph = Graph::new(packages);
    let essential = graph.closure(
        packages
            .iter()
            .enumerate()
            .filter(|(_, p)| p.essential)
            .map(|(i, _)| i),
        &BTreeSet::new(),
    );
    let early_roots = packages
        .iter()
        .enumerate()
        .filter(|(i, _)| !essential.contains(i))
        .flat_map(|(i, _)| graph.pre_depends[i].iter().flatten().copied());
    let early = graph.closure(early_roots, &essential);
    let rest: BTreeSet<usize> = (0..packages.len())
        .filter(|i| !essential.contains(i) && !early.contains(i))
        .collect();
    let (pending, awaited_triggers_before) = graph.configure_pending(&rest);
    ConfigurePlan {
        rounds: [graph.depth_first(&essential), graph.depth_first(&early), pending],
        awaited_triggers_before,
    }
}

struct Graph<'a> {
    packages: &'a [OrderPackage],
    /// Per package, its `Pre-Depends` groups: the installed packages that satisfy each.
    pre_depends: Vec<Vec<Vec<usize>>>,
    /// Per package, its `Pre-Depends` and `Depends` groups likewise.
    depends: Vec<Vec<Vec<usize>>>,
    /// Packages whose configure leaves them awaiting another package's trigger processing.
    awaits: Vec<bool>,
}

impl<'a> Graph<'a> {
    fn new(packages: &'a [OrderPackage]) -> Self {
        let mut by_name: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
        let provided: Vec<Vec<String>> = packages
            .iter()
            .map(|p| {
                parse_relations(&p.provides)
                    .unwrap_or_default()
                    .into_iter()
                    .flatten()
                    .map(|r| r.name)
                    .collect()
            })
            .collect();
        for (i, p) in packages.iter().enumerate() {
            by_name.entry(p.name.as_str()).or_default().push(i);
        }
        for (i, names) in provided.iter().enumerate() {
            for n in names {
                by_name.entry(n.as_str()).or_default().push(i);
            }
        }
        let groups = |field: &str, me: usize| -> Vec<Vec<usize>> {
            parse_relations(field)
                .unwrap_or_default()
                .into_iter()
                .map(|group| {
                    let mut targets: Vec<usize> = group
                        .iter()
                        .flat_map(|rel| by_name.get(rel.name.as_str()).into_iter().flatten().copied())
                        .filter(|&t| t != me)
                        .collect();
                    targets.dedup();
                    targets
                })
                .filter(|targets| !targets.is_empty())
                .collect()
        };
        let pre_depends: Vec<Vec<Vec<usize>>> = packages
            .iter()
            .enumerate()
            .map(|(i, p)| groups(&p.pre_depends, i))
            .collect();
        let depends = packages
            .iter()
            .enumerate()
            .map(|(i, p)| {
                let mut all = pre_depends[i].clone();
                all.extend(groups(&p.depends, i));
                all
            })
            .collect();
        let interests: BTreeSet<&str> = packages
            .iter()
            .flat_map(|p| trigger_directives(&p.triggers))
            .filter(|(directive, name)| {
                matches!(*directive, "interest" | "interest-await") && !name.starts_with('/')
            })
            .map(|(_, name)| name)
            .collect();
        let awaits = packages
            .iter()
            .map(|p| {
                trigger_directives(&p.triggers).any(|(directive, name)| {
                    matches!(directive, "activate" | "activate-await") && interests.contains(name)
                })
            })
            .collect();
        Graph {
            packages,
            pre_depends,
            depends,
            awaits,
        }
    }

    /// `roots` and everything they (pre-)depend on, but what `outside` holds. Of a group of
    /// alternatives, the first installed one is followed (the one apt chose).
    fn closure(&self, roots: impl Iterator<Item = usize>, outside: &BTreeSet<usize>) -> BTreeSet<usize> {
        let mut set = BTreeSet::new();
        let mut todo: Vec<usize> = roots.collect();
        while let Some(i) = todo.pop() {
            if outside.contains(&i) || !set.insert(i) {
                continue;
            }
            todo.extend(self.depends[i].iter().filter_map(|g| g.first().copied()));
        }
        set
    }

    /// `set` with every package after what it (pre-)depends on within the set, cycles broken by
    /// name: the order dpkg gives a set it is handed at once.
    fn depth_first(&self, set: &BTreeSet<usize>) -> Vec<usize> {
        let mut names: Vec<usize> = set.iter().copied().collect();
        names.sort_by(|a, b| self.packages[*a].name.cmp(&self.packages[*b].name));
        let mut done = BTreeSet::new();
        let mut on_stack = BTreeSet::new();
        let mut order = Vec::with_capacity(set.len());
        for start in names {
            self.visit(start, set, &mut done, &mut on_stack, &mut order);
        }
        order
    }

    fn visit(
        &self,
        i: usize,
        set: &BTreeSet<usize>,
        done: &mut BTreeSet<usize>,
        on_stack: &mut BTreeSet<usize>,
        order: &mut Vec<usize>,
    ) {
        if done.contains(&i) || !on_stack.insert(i) {
            return;
        }
        let targets: BTreeSet<usize> = self.depends[i]
            .iter()
            .filter_map(|g| g.iter().find(|t| set.contains(t)).copied())
            .collect();
        for t in targets {
            self.visit(t, set, done, on_stack, order);
        }
        on_stack.remove(&i);
        done.insert(i);
        order.push(i);
    }

    /// `dpkg --configure --pending` over `pending`, everything else configured already: the
    /// order, and the packages configured right after awaited triggers were processed.
    fn configure_pending(&self, pending: &BTreeSet<usize>) -> (Vec<usize>, BTreeSet<usize>) {
        let mut queue: Vec<usize> = pending.iter().copied().collect();
        queue.sort_by(|a, b| {
            let (a, b) = (&self.packages[*a].name, &self.packages[*b].name);
            (pkg_hash_bin(a), a).cmp(&(pkg_hash_bin(b), b))
        });
        let mut queue: VecDeque<usize> = queue.into();
        let mut state = Pending {
            unconfigured: pending.clone(),
            awaiting: BTreeSet::new(),
            broken: BTreeSet::new(),
        };
        let mut order = Vec::with_capacity(pending.len());
        let mut dependtry = DependTry::Normal;
        let mut since_nothing = 0usize;
        let mut triggers_processed = false;
        let mut after_triggers = BTreeSet::new();
        while let Some(i) = queue.pop_front() {
            // dpkg's escalation: a round without progress tries harder (process_queue).
            let stalled = since_nothing > queue.len() * 3 + 2;
            since_nothing += 1;
            if stalled {
                dependtry = dependtry.next();
                since_nothing = 0;
            } else if since_nothing > queue.len() * 2 + 2 {
                if dependtry >= DependTry::Triggers && !state.awaiting.is_empty() {
                    // The awaited triggers are processed: their packages count as configured.
                    queue.push_back(i);
                    state.awaiting.clear();
                    triggers_processed = true;
                    since_nothing = 0;
                    continue;
                }
                dependtry = dependtry.next();
                since_nothing = 0;
            }
            if dependtry >= DependTry::Cycles && self.break_cycle(i, &mut state) {
                since_nothing = 0;
            }
            if !self.ready(i, &state, dependtry) {
                queue.push_back(i);
                continue;
            }
            state.unconfigured.remove(&i);
            if self.awaits[i] {
                state.awaiting.insert(i);
            }
            if std::mem::take(&mut triggers_processed) {
                after_triggers.insert(i);
            }
            order.push(i);
            since_nothing = 0;
        }
        (order, after_triggers)
    }

    /// Whether every dependency of `i` is configured (and not awaiting triggers), or its link is
    /// a broken cycle; dpkg gives up checking at its last try (which a consistent set of
    /// packages never reaches).
    fn ready(&self, i: usize, state: &Pending, dependtry: DependTry) -> bool {
        dependtry >= DependTry::Last
            || self.depends[i].iter().all(|group| {
                group.iter().any(|t| {
                    !state.unconfigured.contains(t) && !state.awaiting.contains(t)
                        || state.broken.contains(&(i, *t))
                })
            })
    }

    /// dpkg's `findbreakcycle` (`src/main/depcon.c`): the first dependency cycle a depth-first
    /// search from `start` meets (through every installed package, links not broken yet) gets
    /// one link marked satisfied: walking the cycle back from the link that closed it, the
    /// first link of a package without a postinst, else the link of the package the cycle
    /// started at.
    fn break_cycle(&self, start: usize, state: &mut Pending) -> bool {
        let mut path: Vec<(usize, usize)> = Vec::new();
        let mut done = BTreeSet::new();
        let mut on_path = BTreeSet::new();
        self.find_cycle(start, state, &mut path, &mut on_path, &mut done)
    }

    fn find_cycle(
        &self,
        i: usize,
        state: &mut Pending,
        path: &mut Vec<(usize, usize)>,
        on_path: &mut BTreeSet<usize>,
        done: &mut BTreeSet<usize>,
    ) -> bool {
        if done.contains(&i) {
            return false;
        }
        on_path.insert(i);
        for group in &self.depends[i] {
            for &t in group {
                if state.broken.contains(&(i, t)) {
                    continue;
                }
                path.push((i, t));
                let found = if on_path.contains(&t) {
                    let from = path.iter().position(|&(p, _)| p == t).unwrap_or(0);
                    let cycle = &path[from..];
                    let link = cycle
                        .iter()
                        .rev()
                        .find(|(p, _)| !self.packages[*p].has_postinst)
                        .or(cycle.first())
                        .copied();
                    if let Some(link) = link {
                        state.broken.insert(link);
                    }
                    true
                } else {
                    self.find_cycle(t, state, path, on_path, done)
                };
                path.pop();
                if found {
                    return true;
                }
            }
        }
        on_path.remove(&i);
        done.insert(i);
        false
    }
}

/// Where `dpkg --configure --pending` stands.
struct Pending {
    unconfigured: BTreeSet<usize>,
    /// Configured, but awaiting trigger processing: not yet a satisfied dependency.
    awaiting: BTreeSet<usize>,
    /// Dependency links (from, to) marked satisfied to break a cycle.
    broken: BTreeSet<(usize, usize)>,
}

/// dpkg's `enum dependtry` (`src/main/main.h`), as far as a consistent set gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum DependTry {
    Normal,
    Cycles,
    Triggers,
    TriggersCycles,
    Last,
}

impl DependTry {
    fn next(self) -> Self {
        match self {
            DependTry::Normal => DependTry::Cycles,
            DependTry::Cycles => DependTry::Triggers,
            DependTry::Triggers => DependTry::TriggersCycles,
            DependTry::TriggersCycles | DependTry::Last => DependTry::Last,
        }
    }
}

/// The `(directive, name)` lines of a `triggers` control file.
fn trigger_directives(text: &str) -> impl Iterator<Item = (&str, &str)> {
    text.lines().filter_map(|l| {
        let mut w = l.split('#').next().unwrap_or("").split_whitespace();
        Some((w.next()?, w.next()?))
    })
}

#[cfg(test)]
mod tests;
