//! The universe: every package record of one target architecture, indexed once by name and by
//! provided name, with each name's candidate version chosen as apt's default policy chooses it.

use std::sync::OnceLock;

// Names from signed indices are looked up ~10^5 times per lock: Fx, not SipHash.
use crate::archive::{MultiArch, PackageRecord};
use crate::debian::relation::{self, ArchQualifier, Constraint, RelOp, Relation};
use crate::debian::version;
use rustc_hash::FxHashMap;

pub(crate) type PkgId = u32;
pub(crate) type VerId = u32;

/// The relationship kinds the resolver reads, in the order apt's `debListParser::NewVersion`
/// stores them in a version's dependency list (Pre-Depends, Depends, Conflicts, Breaks,
/// Recommends). The order matters: apt walks that list when it installs dependencies, and what
/// it installs first decides which later alternatives count as already satisfied.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum DepKind {
    PreDepends,
    Depends,
    Conflicts,
    Breaks,
    Recommends,
}

impl DepKind {
    pub fn field(self) -> &'static str {
        match self {
            DepKind::PreDepends => "Pre-Depends",
            DepKind::Depends => "Depends",
            DepKind::Conflicts => "Conflicts",
            DepKind::Breaks => "Breaks",
            DepKind::Recommends => "Recommends",
        }
    }
    pub(crate) fn is_critical(self) -> bool {
        matches!(self, DepKind::PreDepends | DepKind::Depends)
    }
    pub(crate) fn is_negative(self) -> bool {
        matches!(self, DepKind::Conflicts | DepKind::Breaks)
    }
}

/// One alternative of a parsed relationship, its target interned.
#[derive(Debug, Clone)]
pub(crate) struct Dep {
    pub target: PkgId,
    pub constraint: Option<Constraint>,
    /// `name:any`: only `Multi-Arch: allowed` packages (and their provides) satisfy it, which is
    /// how apt's cache generator wires the implicit `name:any` provides.
    pub any: bool,
    /// Qualified with a foreign architecture: nothing in a single-architecture universe matches.
    pub foreign: bool,
    pub relation: Relation,
}

#[derive(Debug, Clone)]
pub(crate) struct Group {
    pub kind: DepKind,
    pub alts: Vec<Dep>,
}

#[derive(Debug)]
pub(crate) struct Ver {
    pub record: usize,
    pub pkg: PkgId,
    /// Pre-Depends, Depends, Conflicts, Breaks, Recommends, parsed on first use
    /// ([`Universe::groups`]): a lock visits a few hundred of some 60 000 versions.
    groups: OnceLock<Vec<Group>>,
    /// apt's numeric priority: 0 when the field is absent, 1 required … 5 extra (and unknown).
    pub priority: u8,
    /// A relationship field that did not parse: (field, error).
    pub invalid: Option<(String, String)>,
    /// Names this version provides.
    pub provides: Vec<PkgId>,
}

#[derive(Debug, Clone)]
pub(crate) struct Provide {
    pub ver: VerId,
    /// `Provides: foo (= 1.2)`; `None` when unversioned.
    pub version: Option<String>,
}

#[derive(Debug, Default)]
pub(crate) struct Pkg {
    pub name: String,
    /// Versions, highest first.
    pub versions: Vec<VerId>,
    pub candidate: Option<VerId>,
    pub providers: Vec<Provide>,
    /// The order in which apt's cache generator would have created this package (its ID): the
    /// last tie-breaker of apt's `CompareProviders`.
    pub apt_id: u32,
    pub essential: bool,
    /// Installed without following its Pre-Depends, Depends and Recommends (`no-depends`).
    pub no_depends: bool,
}

/// All records of one architecture (plus `all`), indexed for resolution.
#[derive(Debug)]
pub struct Universe {
    pub(crate) native_arch: String,
    pub(crate) records: Vec<PackageRecord>,
    pub(crate) pkgs: Vec<Pkg>,
    pub(crate) vers: Vec<Ver>,
    pub(crate) by_name: FxHashMap<String, PkgId>,
}

fn apt_priority(p: &str) -> u8 {
    // Mirrors debListParser::NewVersion: absent -> 0 (the zeroed field), unknown -> extra.
    match p.trim() {
        "" => 0,
        "required" => 1,
        "important" => 2,
        "standard" => 3,
        "optional" => 4,
        _ => 5,
    }
}

struct Builder {
    pkgs: Vec<Pkg>,
    by_name: FxHashMap<String, PkgId>,
    next_apt_id: u32,
}

impl Builder {
    /// Interns a name; `mention` assigns apt's creation order when apt would create the package
    /// at this point of parsing.
    fn intern(&mut self, name: &str, mention: bool) -> PkgId {
        let id = match self.by_name.get(name) {
            Some(&id) => id,
            None => {
                let id = self.pkgs.len() as PkgId;
                self.pkgs.push(Pkg {
                    name: name.to_owned(),
                    apt_id: u32::MAX,
                    ..Pkg::default()
                });
                self.by_name.insert(name.to_owned(), id);
                id
            }
        };
        if mention && self.pkgs[id as usize].apt_id == u32::MAX {
            self.pkgs[id as usize].apt_id = self.next_apt_id;
            self.next_apt_id += 1;
        }
        id
    }
}

impl Universe {
    /// Builds the universe for `native_arch` from records in index order (the order of the
    /// sources, then of the stanzas: it decides apt's last-resort tie-breaks). Records of other
    /// architectures are ignored. Records with the same name, version and architecture (one
    /// package in two suites) are one candidate: the first is kept.
    pub fn new(records: Vec<PackageRecord>, native_arch: &str) -> Universe {
        let mut b = Builder {
            pkgs: Vec::new(),
            by_name: FxHashMap::default(),
            next_apt_id: 0,
        };
        let mut kept: Vec<PackageRecord> = Vec::new();
        let mut vers: Vec<Ver> = Vec::new();
        for rec in records {
            if rec.architecture != native_arch && rec.architecture != "all" {
                continue;
            }
            let pkg = b.intern(&rec.name, true);
            // The same version seen before (a package in two suites): the versions so far are
            // few (one per suite at most), so a scan beats a (pkg, version) map that would
            // copy every version string.
            let dup = b.pkgs[pkg as usize]
                .versions
                .iter()
                .copied()
                .find(|&v| kept[vers[v as usize].record].version == rec.version);
            if let Some(dup) = dup {
                let first = &kept[vers[dup as usize].record];
                if first.sha256 != rec.sha256 || first.architecture != rec.architecture {
                    tracing::warn!(
                        package = %rec.name,
                        version = %rec.version,
                        "same version listed twice with different contents ({}/{} and {}/{}); keeping the first",
                        first.archive, first.suite, rec.archive, rec.suite
                    );
                }
                continue;
            }
            if rec.essential {
                b.pkgs[pkg as usize].essential = true;
            }
            // apt force-marks `apt` itself essential (pkgCacheGen::ForceEssential).
            if rec.name == "apt" {
                b.pkgs[pkg as usize].essential = true;
            }
            let ver_id = vers.len() as VerId;
            let mut invalid = None;
            let mut provided = Vec::new();
            let fields: [(DepKind, &Option<String>); 5] = [
                (DepKind::PreDepends, &rec.pre_depends),
                (DepKind::Depends, &rec.depends),
                (DepKind::Conflicts, &rec.conflicts),
                (DepKind::Breaks, &rec.breaks),
                (DepKind::Recommends, &rec.recommends),
            ];
            for (kind, text) in fields {
                let Some(text) = text else { continue };
                // Only the names matter now (apt's creation order, and every target interned);
                // the groups themselves are built when the solver first visits the version.
                let scanned = relation::scan_relations(text, |t| {
                    if !t.applies_to(native_arch) {
                        return;
                    }
                    // apt's NewDepends creates missing targets of positive deps; for negative
                    // ones only when the name was never seen.
                    let mention = !kind.is_negative()
                        || b.by_name
                            .get(t.name)
                            .is_none_or(|&id| b.pkgs[id as usize].apt_id == u32::MAX);
                    b.intern(t.name, mention && !t.is_any());
                });
                if let Err(e) = scanned {
                    invalid.get_or_insert((kind.field().to_owned(), e.to_string()));
                }
            }
            // Replaces only matters for apt's package creation order.
            if let Some(text) = &rec.replaces
                && let Ok(parsed) = relation::parse_relations(text)
            {
                for rel in parsed.into_iter().flatten() {
                    if !b.by_name.contains_key(&rel.name) {
                        b.intern(&rel.name, true);
                    }
                }
            }
            if let Some(text) = &rec.provides {
                match relation::parse_relations(text) {
                    Ok(parsed) => {
                        for rel in parsed.into_iter().flatten() {
                            // apt ignores non-`=` versioned provides (with a warning).
                            let version = match &rel.constraint {
                                None => None,
                                Some(c) if c.op == RelOp::Eq => Some(c.version.clone()),
                                Some(_) => continue,
                            };
                            let target = b.intern(&rel.name, true);
                            provided.push(target);
                            b.pkgs[target as usize]
                                .providers
                                .push(Provide { ver: ver_id, version });
                        }
                    }
                    Err(e) => {
                        invalid.get_or_insert(("Provides".to_owned(), e.to_string()));
                    }
                }
            }
            vers.push(Ver {
                record: kept.len(),
                pkg,
                groups: OnceLock::new(),
                priority: apt_priority(&rec.priority),
                invalid,
                provides: provided,
            });
            b.pkgs[pkg as usize].versions.push(ver_id);
            kept.push(rec);
        }
        for p in &mut b.pkgs {
            // Highest first; the sort is stable, so among equal versions the first listed wins,
            // as apt's policy keeps the first of equal-pin versions.
            p.versions.sort_by(|&x, &y| {
                version::compare(
                    &kept[vers[y as usize].record].version,
                    &kept[vers[x as usize].record].version,
                )
            });
            p.candidate = p.versions.first().copied();
        }
        Universe {
            native_arch: native_arch.to_owned(),
            records: kept,
            pkgs: b.pkgs,
            vers,
            by_name: b.by_name,
        }
    }

    pub fn native_arch(&self) -> &str {
        &self.native_arch
    }

    /// Number of records kept (after architecture filtering and de-duplication).
    pub fn len(&self) -> usize {
        self.records.len()
    }

    pub fn is_empty(&self) -> bool {
        self.records.is_empty()
    }

    /// The candidate (highest) version of a real package, as apt-get would install it.
    pub fn candidate(&self, name: &str) -> Option<&PackageRecord> {
        let p = &self.pkgs[*self.by_name.get(name)? as usize];
        p.candidate.map(|v| self.record(v))
    }

    /// Every version of `name`, highest first.
    pub fn versions(&self, name: &str) -> Vec<&PackageRecord> {
        match self.by_name.get(name) {
            Some(&id) => self.pkgs[id as usize]
                .versions
                .iter()
                .map(|&v| self.record(v))
                .collect(),
            None => Vec::new(),
        }
    }

    /// Marks `names` to be installed without their Pre-Depends, Depends and Recommends: the
    /// solver sees those versions as depending on nothing (Conflicts and Breaks still hold).
    /// Names the universe does not know are ignored here (the lock names them afterwards).
    pub fn without_dependencies<S: AsRef<str>>(mut self, names: &[S]) -> Self {
        for name in names {
            if let Some(&id) = self.by_name.get(name.as_ref()) {
                self.pkgs[id as usize].no_depends = true;
            }
        }
        self
    }

    pub(crate) fn record(&self, v: VerId) -> &PackageRecord {
        &self.records[self.vers[v as usize].record]
    }

    /// The relationship groups of version `v` that apply to the native architecture, in
    /// apt's order (see [`DepKind`]), each alternative's target interned.
    pub(crate) fn groups(&self, v: VerId) -> &[Group] {
        self.vers[v as usize].groups.get_or_init(|| self.build_groups(v))
    }

    fn build_groups(&self, v: VerId) -> Vec<Group> {
        let rec = self.record(v);
        let native = self.native_arch.as_str();
        let no_depends = self.pkg(self.ver(v).pkg).no_depends;
        let fields: [(DepKind, &Option<String>); 5] = [
            (DepKind::PreDepends, &rec.pre_depends),
            (DepKind::Depends, &rec.depends),
            (DepKind::Conflicts, &rec.conflicts),
            (DepKind::Breaks, &rec.breaks),
            (DepKind::Recommends, &rec.recommends),
        ];
        let mut groups = Vec::new();
        for (kind, text) in fields {
            if no_depends && matches!(kind, DepKind::PreDepends | DepKind::Depends | DepKind::Recommends) {
                continue;
            }
            // An invalid field was recorded in `Ver::invalid` when the universe was built.
            let Some(Ok(parsed)) = text.as_deref().map(relation::parse_relations) else {
                continue;
            };
            for alts in parsed {
                let mut deps = Vec::new();
                for rel in alts {
                    if !rel.applies_to(native) {
                        continue;
                    }
                    // Every name was interned by `Universe::new`.
                    let Some(&target) = self.by_name.get(&rel.name) else {
                        continue;
                    };
                    deps.push(Dep {
                        target,
                        constraint: rel.constraint.clone(),
                        any: rel.arch == ArchQualifier::Any,
                        foreign: matches!(&rel.arch, ArchQualifier::Arch(a) if a != native),
                        relation: rel,
                    });
                }
                if !deps.is_empty() {
                    groups.push(Group { kind, alts: deps });
                }
            }
        }
        groups
    }

    pub(crate) fn ver(&self, v: VerId) -> &Ver {
        &self.vers[v as usize]
    }

    pub(crate) fn pkg(&self, p: PkgId) -> &Pkg {
        &self.pkgs[p as usize]
    }

    pub(crate) fn multi_arch(&self, v: VerId) -> MultiArch {
        self.record(v).multi_arch
    }
}
