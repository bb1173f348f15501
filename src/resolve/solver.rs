//! The marking algorithm of apt-get's internal solver, replayed on an empty dpkg status.
//!
//! This follows the behaviour of apt 2.6's `pkgDepCache::MarkInstall` (apt-pkg/depcache.cc) and
//! its helpers, as `apt-get install --no-install-recommends LIST` drives them
//! (apt-private/private-install.cc: `TryToInstall`, then `doAutoInstall`, then the autoremover's
//! garbage sweep). With nothing installed, every branch about current versions, upgrades and
//! removals is dead and is left out. `pkgProblemResolver` is not replayed: when the marking
//! leaves a package broken, resolution fails with an explanation instead.

use std::cmp::Ordering;

use super::universe::{Dep, DepKind, Group, PkgId, Universe, VerId};
use crate::archive::MultiArch;

/// Why a package was marked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Why {
    Requested,
    Required,
    Dep {
        parent: PkgId,
        kind: DepKind,
        target: PkgId,
        relation: String,
    },
}

pub(crate) struct Solver<'u> {
    pub u: &'u Universe,
    pub cand: Vec<Option<VerId>>,
    pub inst: Vec<Option<VerId>>,
    pub protected: Vec<bool>,
    /// Excluded packages: apt's `pkg-` on the command line puts them on hold.
    pub hold: Vec<bool>,
    pub follow_recommends: bool,
    pub why: Vec<Option<Why>>,
    /// Conflicts that made apt drop a candidate, for explanations: (by, dropped, field).
    pub conflict_drops: Vec<(PkgId, PkgId, DepKind)>,
    /// The first version selected whose relationship fields do not parse.
    pub invalid: Option<VerId>,
    /// apt caches, per dependency, whether candidates satisfy it (`DepCVer`), and refreshes
    /// that only when `pkgDepCache::Update` runs for the target or a provider — not when a
    /// candidate is discarded. `IsInstallOkDependenciesSatisfiableByCandidates` reads the
    /// cache, so it sees discarded candidates as still there until the next refresh. Per target
    /// name: the target's candidate and its providers' candidates at the last refresh (`None`:
    /// never refreshed since the request set the candidates).
    frozen: Vec<Option<(Option<VerId>, Vec<VerId>)>>,
    initial_cand: Vec<Option<VerId>>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum State {
    Install,
    Candidate,
}

impl<'u> Solver<'u> {
    pub fn new(u: &'u Universe, follow_recommends: bool) -> Self {
        let n = u.pkgs.len();
        Solver {
            u,
            cand: u.pkgs.iter().map(|p| p.candidate).collect(),
            inst: vec![None; n],
            protected: vec![false; n],
            hold: vec![false; n],
            follow_recommends,
            why: vec![None; n],
            conflict_drops: Vec::new(),
            invalid: None,
            frozen: vec![None; n],
            initial_cand: Vec::new(),
        }
    }

    /// Called once the request has set its pinned candidates.
    pub fn freeze_candidates(&mut self) {
        self.initial_cand = self.cand.clone();
    }

    /// `pkgDepCache::Update(Pkg)`: refreshes the cached candidate view of the package's own
    /// name and of every name its candidate provides.
    fn refresh(&mut self, p: PkgId) {
        let mut names = vec![p];
        if let Some(c) = self.cand[p as usize] {
            names.extend(self.u.ver(c).provides.iter().copied());
        }
        for t in names {
            let own = self.cand[t as usize];
            let provs = self
                .u
                .pkg(t)
                .providers
                .iter()
                .filter(|prv| self.cand[self.u.ver(prv.ver).pkg as usize] == Some(prv.ver))
                .map(|prv| prv.ver)
                .collect();
            self.frozen[t as usize] = Some((own, provs));
        }
    }

    /// The cached `DepCVer` of one alternative.
    fn alt_cver(&self, dep: &Dep) -> bool {
        if dep.foreign {
            return false;
        }
        let t = dep.target;
        let (own, provs): (Option<VerId>, Vec<VerId>) = match &self.frozen[t as usize] {
            Some((own, provs)) => (*own, provs.clone()),
            None => {
                let c = |q: PkgId| self.initial_cand.get(q as usize).copied().flatten();
                (
                    c(t),
                    self.u
                        .pkg(t)
                        .providers
                        .iter()
                        .filter(|prv| c(self.u.ver(prv.ver).pkg) == Some(prv.ver))
                        .map(|prv| prv.ver)
                        .collect(),
                )
            }
        };
        if own.is_some_and(|v| self.version_matches(dep, v)) {
            return true;
        }
        self.u.pkg(t).providers.iter().any(|prv| {
            provs.contains(&prv.ver)
                && self.allowed(dep, prv.ver)
                && match (&dep.constraint, &prv.version) {
                    (None, _) => true,
                    (Some(c), Some(v)) => c.matches(v),
                    (Some(_), None) => false,
                }
        })
    }

    fn state_ver(&self, p: PkgId, s: State) -> Option<VerId> {
        match s {
            State::Install => self.inst[p as usize],
            State::Candidate => self.cand[p as usize],
        }
    }

    fn allowed(&self, dep: &Dep, v: VerId) -> bool {
        !dep.any || self.u.multi_arch(v) == MultiArch::Allowed
    }

    /// Whether version `v` of the dependency's target itself satisfies it.
    pub fn version_matches(&self, dep: &Dep, v: VerId) -> bool {
        !dep.foreign
            && self.allowed(dep, v)
            && dep
                .constraint
                .as_ref()
                .is_none_or(|c| c.matches(&self.u.record(v).version))
    }

    /// Versions (in `s`) satisfying one alternative, as apt's `VersionContainerInterface::
    /// FromDependency` lists them: the target first, then its providers; for negative
    /// relationships a package never hits itself (`DepIterator::IsIgnorable`).
    fn alt_solutions(&self, dep: &Dep, parent: PkgId, negative: bool, s: State, out: &mut Vec<VerId>) {
        if dep.foreign {
            return;
        }
        let t = dep.target;
        if !(negative && t == parent)
            && let Some(v) = self.state_ver(t, s)
            && self.version_matches(dep, v)
        {
            out.push(v);
        }
        for prv in &self.u.pkg(t).providers {
            let owner = self.u.ver(prv.ver).pkg;
            if negative && owner == parent {
                continue;
            }
            if self.state_ver(owner, s) != Some(prv.ver) || !self.allowed(dep, prv.ver) {
                continue;
            }
            let ok = match (&dep.constraint, &prv.version) {
                (None, _) => true,
                (Some(c), Some(v)) => c.matches(v),
                // An unversioned provide never satisfies a versioned relationship.
                (Some(_), None) => false,
            };
            if ok {
                out.push(prv.ver);
            }
        }
    }

    fn alt_satisfied(&self, dep: &Dep, parent: PkgId, negative: bool, s: State) -> bool {
        let mut v = Vec::new();
        self.alt_solutions(dep, parent, negative, s, &mut v);
        !v.is_empty()
    }

    /// apt's `DepInstall` bit for a group: a positive group is satisfied by what is marked; a
    /// negative one is "satisfied" when it hits nothing marked.
    fn group_ok_installed(&self, g: &Group, parent: PkgId) -> bool {
        let neg = g.kind.is_negative();
        let hit = g
            .alts
            .iter()
            .any(|d| self.alt_satisfied(d, parent, neg, State::Install));
        hit != neg
    }

    /// apt's `CompareProviders` (depcache.cc): protected first, then the target's own package,
    /// essential, and `Priority` (lower number first, so a missing field sorts before
    /// `required`); last, the package apt created later wins.
    fn compare_providers(&self, target: PkgId, a: VerId, b: VerId) -> Ordering {
        let (pa, pb) = (self.u.ver(a).pkg, self.u.ver(b).pkg);
        let (ia, ib) = (pa as usize, pb as usize);
        if self.protected[ia] != self.protected[ib] {
            return if self.protected[ia] {
                Ordering::Less
            } else {
                Ordering::Greater
            };
        }
        if pa != pb && (pa == target || pb == target) {
            return if pa == target {
                Ordering::Less
            } else {
                Ordering::Greater
            };
        }
        let (ea, eb) = (self.u.pkg(pa).essential, self.u.pkg(pb).essential);
        if ea != eb {
            return if ea { Ordering::Less } else { Ordering::Greater };
        }
        let (ra, rb) = (self.u.ver(a).priority, self.u.ver(b).priority);
        if ra != rb {
            return ra.cmp(&rb);
        }
        self.u.pkg(pb).apt_id.cmp(&self.u.pkg(pa).apt_id)
    }

    /// apt's `getAllPossibleSolutions` for the candidate selector: per alternative, the
    /// candidate versions that satisfy it, sorted by `CompareProviders`; the alternatives
    /// concatenated in order, adjacent duplicates dropped, and for positive relationships the
    /// protected-but-not-marked packages (excluded or conflicted away) removed.
    fn possible_solutions(&self, g: &Group, parent: PkgId, sorted: bool) -> Vec<VerId> {
        let neg = g.kind.is_negative();
        let mut all = Vec::new();
        for d in &g.alts {
            let mut v = Vec::new();
            self.alt_solutions(d, parent, neg, State::Candidate, &mut v);
            if sorted {
                v.sort_by(|&a, &b| self.compare_providers(d.target, a, b));
            }
            all.extend(v);
        }
        if !sorted {
            all.sort_unstable();
        }
        all.dedup();
        if !neg {
            all.retain(|&v| {
                let p = self.u.ver(v).pkg as usize;
                !(self.protected[p] && self.inst[p].is_none())
            });
        }
        all
    }

    /// `InstBroken`/`InstPolicyBroken` of a marked package.
    fn inst_broken(&self, p: PkgId) -> bool {
        let Some(v) = self.inst[p as usize] else {
            return false;
        };
        self.u.groups(v).iter().any(|g| {
            (g.kind.is_critical()
                || g.kind.is_negative()
                || (self.follow_recommends && g.kind == DepKind::Recommends))
                && !self.group_ok_installed(g, p)
        })
    }

    /// `IsInstallOkDependenciesSatisfiableByCandidates`: every critical group must be
    /// satisfiable by a marked or a candidate version, else apt drops the candidate.
    fn deps_satisfiable(&self, p: PkgId, v: VerId) -> bool {
        self.u.groups(v).iter().all(|g| {
            !g.kind.is_critical()
                || g.alts
                    .iter()
                    .any(|d| self.alt_satisfied(d, p, false, State::Install) || self.alt_cver(d))
        })
    }

    fn state_change(&mut self, p: PkgId, why: &Option<Why>) {
        let i = p as usize;
        if self.protected[i] && self.inst[i].is_some() && self.inst[i] == self.cand[i] {
            return;
        }
        self.inst[i] = self.cand[i];
        if self.why[i].is_none() {
            self.why[i] = why.clone();
        }
        self.refresh(p);
    }

    fn mark_keep(&mut self, p: PkgId) -> bool {
        let i = p as usize;
        if self.inst[i].is_none() {
            return true;
        }
        if self.protected[i] {
            return false;
        }
        self.inst[i] = None;
        self.refresh(p);
        true
    }

    /// `MarkInstall_DiscardInstall`: unmark, and the candidate goes with it.
    fn discard_install(&mut self, p: PkgId) {
        self.inst[p as usize] = None;
        self.refresh(p);
        self.cand[p as usize] = None;
    }

    /// `pkgDepCache::MarkInstall`.
    pub fn mark_install(
        &mut self,
        p: PkgId,
        auto_inst: bool,
        from_user: bool,
        depth: u32,
        why: Option<Why>,
    ) -> bool {
        let i = p as usize;
        if depth > 3000 {
            return false;
        }
        let marked = self.inst[i].is_some();
        // IsModeChangeOk: protected or held packages are not changed by the solver.
        if !from_user && !marked && (self.protected[i] || self.hold[i]) {
            return false;
        }
        let Some(cv) = self.cand[i] else { return false };
        if !self.protected[i] && !self.inst_broken(p) && marked {
            return true;
        }
        if self.u.ver(cv).invalid.is_some() {
            self.invalid.get_or_insert(cv);
            return false;
        }
        if auto_inst && !self.deps_satisfiable(p, cv) {
            if !self.protected[i] {
                self.cand[i] = None;
                self.inst[i] = None;
            }
            return false;
        }
        if from_user {
            self.state_change(p, &why);
        }
        let fail_early = !self.protected[i] && !from_user;
        let mut failed = false;
        let mut to_install: Vec<usize> = Vec::new();
        if auto_inst {
            let mut to_remove: Vec<usize> = Vec::new();
            for (gi, g) in self.u.groups(cv).iter().enumerate() {
                if self.group_ok_installed(g, p) && !self.protected[i] {
                    continue;
                }
                if !(g.kind.is_critical()
                    || g.kind.is_negative()
                    || (self.follow_recommends && g.kind == DepKind::Recommends))
                {
                    continue;
                }
                if g.kind.is_negative() {
                    to_remove.push(gi);
                } else {
                    to_install.push(gi);
                }
            }
            if !self.remove_conflicts(p, cv, &to_remove, self.protected[i], from_user) {
                if fail_early {
                    return false;
                }
                failed = true;
            }
        }
        if !from_user {
            self.state_change(p, &why);
        }
        if !auto_inst {
            return !failed;
        }
        // ScopedProtected: the package is protected while its dependencies are marked.
        let already = self.protected[i];
        self.protected[i] = true;
        let ok = self.install_dependencies(p, cv, &to_install, already, from_user, depth);
        if !ok {
            if fail_early {
                self.discard_install(p);
                if !already {
                    self.protected[i] = false;
                }
                return false;
            }
            failed = true;
        }
        if !already {
            self.protected[i] = false;
        }
        !failed
    }

    /// `MarkInstall_RemoveConflictsIfNotUpgradeable`, without installed versions.
    fn remove_conflicts(
        &mut self,
        p: PkgId,
        cv: VerId,
        groups: &[usize],
        propagate: bool,
        from_user: bool,
    ) -> bool {
        let mut failed = false;
        for &gi in groups {
            let g = &self.u.groups(cv)[gi];
            for v in self.possible_solutions(g, p, true) {
                let q = self.u.ver(v).pkg;
                let qi = q as usize;
                if self.cand[qi] != Some(v) {
                    continue;
                }
                if self.inst[qi].is_some() && !self.mark_keep(q) {
                    failed = true;
                    if !propagate && !from_user {
                        break;
                    }
                } else if propagate {
                    // Discard the candidate and protect the package: nothing may install it.
                    self.cand[qi] = self.inst[qi];
                    self.protected[qi] = true;
                    self.conflict_drops.push((p, q, g.kind));
                }
            }
            if failed && !propagate && !from_user {
                break;
            }
        }
        !failed
    }

    /// `MarkInstall_InstallDependencies`, without installed versions.
    fn install_dependencies(
        &mut self,
        p: PkgId,
        cv: VerId,
        groups: &[usize],
        propagate: bool,
        from_user: bool,
        depth: u32,
    ) -> bool {
        let mut failed = false;
        for &gi in groups {
            let g = &self.u.groups(cv)[gi];
            let satisfied = self.group_ok_installed(g, p);
            if satisfied && !propagate {
                continue;
            }
            let critical = g.kind.is_critical();
            if satisfied {
                // Propagate protection down a dependency with exactly one possible solution.
                if !critical {
                    continue;
                }
                let sols = self.possible_solutions(g, p, false);
                if sols.len() != 1 {
                    continue;
                }
                let q = self.u.ver(sols[0]).pkg;
                if self.protected[q as usize] {
                    continue;
                }
                self.protected[q as usize] = true;
                let why = self.dep_why(p, g, q);
                if !self.mark_install(q, true, false, depth + 1, why) {
                    failed = true;
                }
                continue;
            }
            let sols = self.possible_solutions(g, p, true);
            let mut found = false;
            for &v in &sols {
                let q = self.u.ver(v).pkg;
                if self.cand[q as usize] != Some(v) {
                    continue;
                }
                let why = self.dep_why(p, g, q);
                if propagate && critical && sols.len() == 1 {
                    if !self.mark_install(q, false, false, depth + 1, why.clone()) {
                        continue;
                    }
                    self.protected[q as usize] = true;
                }
                if !self.mark_install(q, true, false, depth + 1, why) {
                    continue;
                }
                found = true;
                break;
            }
            if !found && critical {
                failed = true;
                if !propagate && !from_user {
                    break;
                }
            }
        }
        !failed
    }

    fn dep_why(&self, parent: PkgId, g: &Group, chosen: PkgId) -> Option<Why> {
        // The alternative the chosen package satisfies (its own name first, else a provide).
        let dep = g
            .alts
            .iter()
            .find(|d| d.target == chosen)
            .or_else(|| {
                g.alts.iter().find(|d| {
                    self.u
                        .pkg(d.target)
                        .providers
                        .iter()
                        .any(|prv| self.u.ver(prv.ver).pkg == chosen)
                })
            })
            .unwrap_or(&g.alts[0]);
        Some(Why::Dep {
            parent,
            kind: g.kind,
            target: dep.target,
            relation: dep.relation.to_string(),
        })
    }

    /// Broken marked packages: (package, group index).
    pub fn broken(&self) -> Vec<(PkgId, usize)> {
        let mut out = Vec::new();
        for (i, inst) in self.inst.iter().enumerate() {
            let Some(v) = *inst else { continue };
            for (gi, g) in self.u.groups(v).iter().enumerate() {
                if (g.kind.is_critical() || g.kind.is_negative()) && !self.group_ok_installed(g, i as PkgId) {
                    out.push((i as PkgId, gi));
                }
            }
        }
        out
    }

    /// The autoremover's mark-and-sweep (`pkgDepCache::MarkRequired`): marked packages that
    /// nothing requested, essential or protected reaches through Depends, Pre-Depends or
    /// Recommends are garbage, and apt-get drops new installs that are garbage.
    pub fn sweep(&mut self, roots: &[PkgId]) {
        let n = self.inst.len();
        let mut reached = vec![false; n];
        let mut stack: Vec<PkgId> = Vec::new();
        for (i, inst) in self.inst.iter().enumerate() {
            if inst.is_some() && (self.protected[i] || self.u.pkgs[i].essential) {
                stack.push(i as PkgId);
            }
        }
        stack.extend(roots.iter().copied().filter(|&r| self.inst[r as usize].is_some()));
        while let Some(p) = stack.pop() {
            if std::mem::replace(&mut reached[p as usize], true) {
                continue;
            }
            let Some(v) = self.inst[p as usize] else { continue };
            for g in self.u.groups(v) {
                if g.kind.is_negative() {
                    continue;
                }
                for d in &g.alts {
                    let mut sols = Vec::new();
                    self.alt_solutions(d, p, false, State::Install, &mut sols);
                    for s in sols {
                        let q = self.u.ver(s).pkg;
                        if !reached[q as usize] {
                            stack.push(q);
                        }
                    }
                }
            }
        }
        for (i, r) in reached.iter().enumerate() {
            if !r {
                self.inst[i] = None;
            }
        }
    }
}
