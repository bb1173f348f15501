//! Dependency resolution: the package set `apt-get install --no-install-recommends LIST` would
//! install on an empty system, computed without apt.
//!
//! - Relationship fields and the dpkg version order come from [`crate::debian`].
//! - [`Universe`]: all records of one architecture, indexed by name and provided name, with
//!   apt's default candidates (highest version across all suites; every pin is 500).
//! - [`resolve`]: replays apt's marking algorithm (see `solver.rs` for which parts of apt it
//!   mirrors) and explains failures with the chain from the requested package.

mod locked_set;
mod solver;
mod universe;

pub use locked_set::{LockedSetError, check_locked_set};

use std::collections::HashSet;
use std::fmt::Write as _;

pub use universe::{DepKind, Universe};

use crate::archive::PackageRecord;
use crate::debian::version;
use crate::manifest::PackageRequest;
use solver::{Solver, Why};
use universe::{Dep, PkgId};

/// What to resolve for one platform.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Request {
    /// Requested packages in order (`name` or `name=version`).
    pub include: Vec<PackageRequest>,
    /// Packages that must never be installed.
    pub exclude: Vec<String>,
    /// Follow Recommends (apt's Install-Recommends).
    pub recommends: bool,
    /// Add every `Priority: required` package (debootstrap's minbase), plus dependencies.
    pub required: bool,
    /// Packages installed without their Pre-Depends, Depends and Recommends (the manifest's
    /// `no-depends`); applied by [`Universe::without_dependencies`].
    pub no_depends: Vec<String>,
}

impl Request {
    pub fn new<S: AsRef<str>>(include: &[S]) -> Self {
        Request {
            include: include
                .iter()
                .map(|s| PackageRequest::parse(s.as_ref()))
                .collect(),
            ..Request::default()
        }
    }

    /// The request a manifest makes for one platform.
    pub fn from_manifest(manifest: &crate::manifest::Manifest, platform: &crate::platform::Platform) -> Self {
        let (include, exclude) = manifest.requests_for(platform);
        Request {
            include,
            exclude,
            recommends: manifest.packages.recommends,
            required: manifest.packages.required,
            no_depends: manifest.packages.no_depends.clone(),
        }
    }
}

/// Why a package is in the resolution.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reason {
    /// Named in the request.
    Requested,
    /// `Priority: required` (the `required` option).
    Required,
    /// Needed by `of` through `field` (`Depends`, …) on `relation`, which names it.
    Dependency {
        of: String,
        field: &'static str,
        relation: String,
    },
    /// Provides the virtual package named by `relation`, which `of` needs through `field`.
    Provider {
        of: String,
        field: &'static str,
        relation: String,
    },
}

impl std::fmt::Display for Reason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Reason::Requested => f.write_str("requested"),
            Reason::Required => f.write_str("Priority: required"),
            Reason::Dependency { of, field, relation } => write!(f, "{field}: {relation} of {of}"),
            Reason::Provider { of, field, relation } => {
                write!(f, "provider of {relation} ({field} of {of})")
            }
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolved {
    pub record: PackageRecord,
    pub reason: Reason,
}

/// The chosen packages, sorted by name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolution {
    pub packages: Vec<Resolved>,
}

impl Resolution {
    /// `name=version` of every package, sorted.
    pub fn name_versions(&self) -> Vec<String> {
        self.packages
            .iter()
            .map(|p| format!("{}={}", p.record.name, p.record.version))
            .collect()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ResolveError {
    #[error("unable to locate package `{name}` for {arch}")]
    UnknownPackage { name: String, arch: String },
    #[error("`{name}` is a virtual package provided by {}; request one of them", providers.join(", "))]
    VirtualRequest { name: String, providers: Vec<String> },
    #[error("version `{version}` of `{name}` is not available (available: {})", if available.is_empty() { "none".to_owned() } else { available.join(", ") })]
    VersionNotFound {
        name: String,
        version: String,
        available: Vec<String>,
    },
    #[error("`{name}` is both requested and excluded")]
    ExcludedRequested { name: String },
    #[error("{package} {version}: cannot parse {field}: {message}")]
    InvalidRelation {
        package: String,
        version: String,
        field: String,
        message: String,
    },
    #[error("unsatisfiable package request:\n{explanation}")]
    Unsatisfiable { explanation: String },
}

/// Resolves `request` against `universe` as apt-get would on an empty dpkg status.
pub fn resolve(universe: &Universe, request: &Request) -> Result<Resolution, ResolveError> {
    // apt recurses once per dependency level (up to 3000 deep); give it room whatever thread
    // we are called from.
    std::thread::scope(|s| {
        std::thread::Builder::new()
            .stack_size(256 << 20)
            .spawn_scoped(s, || resolve_inner(universe, request))
            .map_err(|e| ResolveError::Unsatisfiable {
                explanation: format!("cannot start the resolver thread: {e}"),
            })?
            .join()
            .unwrap_or_else(|_| {
                Err(ResolveError::Unsatisfiable {
                    explanation: "the resolver panicked".to_owned(),
                })
            })
    })
}

fn lookup(u: &Universe, name: &str) -> Option<PkgId> {
    u.by_name.get(name).copied()
}

fn resolve_inner(u: &Universe, request: &Request) -> Result<Resolution, ResolveError> {
    let mut s = Solver::new(u, request.recommends);
    let arch = u.native_arch.clone();

    // Exclusions first, as apt-get handles `pkg-` before installs: hold and protect.
    for name in &request.exclude {
        let Some(p) = lookup(u, name) else {
            return Err(ResolveError::UnknownPackage {
                name: name.clone(),
                arch,
            });
        };
        let mut held = vec![p];
        if u.pkg(p).versions.is_empty() {
            // A purely virtual name: exclude every provider.
            held = u.pkg(p).providers.iter().map(|prv| u.ver(prv.ver).pkg).collect();
        }
        for h in held {
            s.hold[h as usize] = true;
            s.protected[h as usize] = true;
        }
    }

    let mut requested: Vec<(PkgId, Why)> = Vec::new();
    let mut seen = HashSet::new();
    for req in &request.include {
        let Some(p) = lookup(u, &req.name) else {
            return Err(ResolveError::UnknownPackage {
                name: req.name.clone(),
                arch,
            });
        };
        let pkg = u.pkg(p);
        let p = if pkg.versions.is_empty() {
            // apt-get's tryVirtualPackage: a single provider (by candidate) is taken instead.
            let mut owners: Vec<PkgId> = pkg
                .providers
                .iter()
                .filter(|prv| u.pkg(u.ver(prv.ver).pkg).candidate == Some(prv.ver))
                .map(|prv| u.ver(prv.ver).pkg)
                .collect();
            owners.sort_unstable();
            owners.dedup();
            match owners.as_slice() {
                [] => {
                    return Err(ResolveError::UnknownPackage {
                        name: req.name.clone(),
                        arch,
                    });
                }
                [one] if req.version.is_none() => *one,
                _ if req.version.is_some() => {
                    return Err(ResolveError::VersionNotFound {
                        name: req.name.clone(),
                        version: req.version.clone().unwrap_or_default(),
                        available: Vec::new(),
                    });
                }
                many => {
                    let mut providers: Vec<String> = many.iter().map(|&o| u.pkg(o).name.clone()).collect();
                    providers.sort();
                    return Err(ResolveError::VirtualRequest {
                        name: req.name.clone(),
                        providers,
                    });
                }
            }
        } else {
            p
        };
        if let Some(want) = &req.version {
            let versions = &u.pkg(p).versions;
            let hit = versions
                .iter()
                .find(|&&v| u.record(v).version == *want)
                .or_else(|| {
                    versions
                        .iter()
                        .find(|&&v| version::compare(&u.record(v).version, want).is_eq())
                });
            match hit {
                Some(&v) => s.cand[p as usize] = Some(v),
                None => {
                    return Err(ResolveError::VersionNotFound {
                        name: req.name.clone(),
                        version: want.clone(),
                        available: versions.iter().map(|&v| u.record(v).version.clone()).collect(),
                    });
                }
            }
        }
        if s.hold[p as usize] {
            return Err(ResolveError::ExcludedRequested {
                name: u.pkg(p).name.clone(),
            });
        }
        if seen.insert(p) {
            requested.push((p, Why::Requested));
        }
    }
    if request.required {
        let mut req: Vec<PkgId> = (0..u.pkgs.len() as PkgId)
            .filter(|&p| u.pkg(p).candidate.is_some_and(|v| u.ver(v).priority == 1) && !s.hold[p as usize])
            .collect();
        req.sort_by(|&a, &b| u.pkg(a).name.cmp(&u.pkg(b).name));
        for p in req {
            if seen.insert(p) {
                requested.push((p, Why::Required));
            }
        }
    }

    s.freeze_candidates();
    // TryToInstall: protect and mark every request without dependencies, then doAutoInstall.
    for (p, why) in &requested {
        s.protected[*p as usize] = true;
        s.mark_install(*p, false, true, 0, Some(why.clone()));
    }
    for (p, why) in &requested {
        s.mark_install(*p, true, true, 0, Some(why.clone()));
    }
    if let Some(v) = s.invalid {
        let rec = u.record(v);
        let (field, message) = u.ver(v).invalid.clone().unwrap_or_default();
        return Err(ResolveError::InvalidRelation {
            package: rec.name.clone(),
            version: rec.version.clone(),
            field,
            message,
        });
    }
    // What apt's pkgProblemResolver does in the simple cases: a broken package nobody asked
    // for (left marked by a failed alternative, or whose dependency a conflict unmarked) is
    // kept back, and so on until only protected packages could be broken.
    loop {
        let unprotected: Vec<PkgId> = s
            .broken()
            .into_iter()
            .map(|(p, _)| p)
            .filter(|&p| !s.protected[p as usize])
            .collect();
        if unprotected.is_empty() {
            break;
        }
        for p in unprotected {
            s.inst[p as usize] = None;
        }
    }
    let broken = s.broken();
    if !broken.is_empty() {
        return Err(ResolveError::Unsatisfiable {
            explanation: explain(&s, &broken),
        });
    }
    let roots: Vec<PkgId> = requested.iter().map(|(p, _)| *p).collect();
    s.sweep(&roots);

    let mut packages: Vec<Resolved> = Vec::new();
    for (i, inst) in s.inst.iter().enumerate() {
        let Some(v) = *inst else { continue };
        let reason = match &s.why[i] {
            Some(Why::Requested) | None => Reason::Requested,
            Some(Why::Required) => Reason::Required,
            Some(Why::Dep {
                parent,
                kind,
                target,
                relation,
            }) => {
                let of = u.pkg(*parent).name.clone();
                if *target as usize == i {
                    Reason::Dependency {
                        of,
                        field: kind.field(),
                        relation: relation.clone(),
                    }
                } else {
                    Reason::Provider {
                        of,
                        field: kind.field(),
                        relation: relation.clone(),
                    }
                }
            }
        };
        packages.push(Resolved {
            record: u.record(v).clone(),
            reason,
        });
    }
    packages.sort_by(|a, b| a.record.name.cmp(&b.record.name));
    Ok(Resolution { packages })
}

/// `requested-pkg -> dep -> … -> p`, following why each package was marked.
fn chain(s: &Solver<'_>, p: PkgId) -> String {
    let mut names = vec![s.u.pkg(p).name.clone()];
    let mut cur = p;
    let mut guard = 0;
    while let Some(Some(Why::Dep { parent, .. })) = s.why.get(cur as usize) {
        names.push(s.u.pkg(*parent).name.clone());
        cur = *parent;
        guard += 1;
        if guard > 100 {
            break;
        }
    }
    names.reverse();
    let head = match s.why.get(cur as usize) {
        Some(Some(Why::Required)) => "Priority: required",
        _ => "requested",
    };
    names[0] = format!("{} ({head})", names[0]);
    names.join(" -> ")
}

fn where_from(r: &PackageRecord) -> String {
    format!("{}/{}", r.archive, r.suite)
}

/// Why one alternative cannot be used.
fn explain_alt(s: &Solver<'_>, dep: &Dep, depth: usize, out: &mut String, seen: &mut HashSet<PkgId>) {
    let u = s.u;
    let t = dep.target;
    let name = &u.pkg(t).name;
    let indent = "  ".repeat(depth + 1);
    if s.hold[t as usize] {
        let _ = writeln!(out, "{indent}{name} is excluded");
        return;
    }
    if dep.foreign {
        let _ = writeln!(
            out,
            "{indent}{} names another architecture than {}",
            dep.relation, u.native_arch
        );
        return;
    }
    let versions = &u.pkg(t).versions;
    let providers = &u.pkg(t).providers;
    if versions.is_empty() && providers.is_empty() {
        let _ = writeln!(
            out,
            "{indent}{name} is not available for {} (no package or Provides of that name)",
            u.native_arch
        );
        return;
    }
    let cand_ok = u.pkg(t).candidate.is_some_and(|v| s.version_matches(dep, v));
    let prov_ok: Vec<PkgId> = providers
        .iter()
        .filter(|prv| u.pkg(u.ver(prv.ver).pkg).candidate == Some(prv.ver))
        .filter(|prv| match (&dep.constraint, &prv.version) {
            (None, _) => true,
            (Some(c), Some(v)) => c.matches(v),
            (Some(_), None) => false,
        })
        .filter(|prv| !dep.any || u.multi_arch(prv.ver) == crate::archive::MultiArch::Allowed)
        .map(|prv| u.ver(prv.ver).pkg)
        .collect();
    if !cand_ok && prov_ok.is_empty() {
        if dep.any && u.pkg(t).candidate.is_some() {
            let _ = writeln!(
                out,
                "{indent}{name} is not Multi-Arch: allowed, so {name}:any cannot be satisfied"
            );
        } else if versions.is_empty() {
            let provs: Vec<String> = providers
                .iter()
                .map(|prv| {
                    let r = u.record(prv.ver);
                    match &prv.version {
                        Some(v) => format!("{} {} (provides {name} = {v})", r.name, r.version),
                        None => format!("{} {} (provides {name} unversioned)", r.name, r.version),
                    }
                })
                .collect();
            let _ = writeln!(
                out,
                "{indent}no provider of {name} satisfies it: {}",
                provs.join(", ")
            );
        } else {
            let avail: Vec<String> = versions
                .iter()
                .map(|&v| format!("{} {} in {}", name, u.record(v).version, where_from(u.record(v))))
                .collect();
            let _ = writeln!(out, "{indent}but only {} available", avail.join(", "));
        }
        return;
    }
    let mut cands = Vec::new();
    if cand_ok {
        cands.push(t);
    }
    cands.extend(prov_ok);
    for q in cands {
        if !seen.insert(q) || depth > 8 {
            continue;
        }
        if s.hold[q as usize] {
            let _ = writeln!(out, "{indent}{} is excluded", u.pkg(q).name);
            continue;
        }
        if let Some((by, _, kind)) = s.conflict_drops.iter().find(|(_, d, _)| *d == q) {
            let _ = writeln!(
                out,
                "{indent}{} is ruled out: {} ({}) declares {}: {}",
                u.pkg(q).name,
                u.pkg(*by).name,
                chain(s, *by),
                kind.field(),
                u.pkg(q).name
            );
            continue;
        }
        let Some(v) = u.pkg(q).candidate else { continue };
        let rec = u.record(v);
        // The first critical group that the final state leaves unsatisfied explains it.
        for g in u.groups(v) {
            if !g.kind.is_critical() {
                continue;
            }
            let ok = g.alts.iter().any(|d| {
                u.pkg(d.target)
                    .candidate
                    .is_some_and(|cv| s.version_matches(d, cv) && s.cand[d.target as usize].is_some())
                    || u.pkg(d.target).providers.iter().any(|prv| {
                        s.cand[u.ver(prv.ver).pkg as usize] == Some(prv.ver)
                            && match (&d.constraint, &prv.version) {
                                (None, _) => true,
                                (Some(c), Some(pv)) => c.matches(pv),
                                (Some(_), None) => false,
                            }
                    })
            });
            if ok && depth > 0 {
                continue;
            }
            let rels: Vec<String> = g.alts.iter().map(|d| d.relation.to_string()).collect();
            let _ = writeln!(
                out,
                "{indent}{} {} {} {}",
                rec.name,
                rec.version,
                g.kind.field().to_lowercase(),
                rels.join(" | ")
            );
            for d in &g.alts {
                explain_alt(s, d, depth + 1, out, seen);
            }
            break;
        }
    }
}

fn explain(s: &Solver<'_>, broken: &[(PkgId, usize)]) -> String {
    let u = s.u;
    let mut out = String::new();
    for &(p, gi) in broken {
        let Some(v) = s.inst[p as usize] else { continue };
        let rec = u.record(v);
        let g = &u.groups(v)[gi];
        let rels: Vec<String> = g.alts.iter().map(|d| d.relation.to_string()).collect();
        let _ = writeln!(
            out,
            "{}: {} {} {} {}",
            chain(s, p),
            rec.name,
            rec.version,
            g.kind.field().to_lowercase(),
            rels.join(" | ")
        );
        if g.kind.is_negative() {
            for (q, qv) in s.inst.iter().enumerate() {
                if let Some(qv) = qv
                    && q as PkgId != p
                    && g.alts.iter().any(|d| {
                        d.target == q as PkgId || u.pkg(d.target).providers.iter().any(|prv| prv.ver == *qv)
                    })
                {
                    let _ = writeln!(
                        out,
                        "  but {} {} is needed: {}",
                        u.pkg(q as PkgId).name,
                        u.record(*qv).version,
                        chain(s, q as PkgId)
                    );
                }
            }
        } else {
            let mut seen = HashSet::new();
            seen.insert(p);
            for d in &g.alts {
                explain_alt(s, d, 0, &mut out, &mut seen);
            }
        }
    }
    out.trim_end().to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::archive::MultiArch;
    use crate::hash::Sha256Digest;

    pub(super) fn rec(name: &str, version: &str, fields: &[(&str, &str)]) -> PackageRecord {
        let get = |k: &str| fields.iter().find(|(f, _)| *f == k).map(|(_, v)| v.to_string());
        PackageRecord {
            name: name.into(),
            version: version.into(),
            architecture: get("Architecture").unwrap_or_else(|| "amd64".into()),
            multi_arch: match get("Multi-Arch").as_deref() {
                Some("allowed") => MultiArch::Allowed,
                Some("foreign") => MultiArch::Foreign,
                _ => MultiArch::No,
            },
            essential: false,
            priority: get("Priority").unwrap_or_default(),
            depends: get("Depends"),
            pre_depends: get("Pre-Depends"),
            recommends: get("Recommends"),
            provides: get("Provides"),
            conflicts: get("Conflicts"),
            breaks: get("Breaks"),
            replaces: None,
            filename: format!("pool/{name}.deb"),
            size: 1,
            sha256: Sha256Digest([0; 32]),
            archive: "debian".into(),
            suite: get("Suite").unwrap_or_else(|| "bookworm".into()),
            component: "main".into(),
        }
    }

    fn universe() -> Universe {
        Universe::new(
            vec![
                rec("a", "1.0", &[("Depends", "b (>= 2)")]),
                rec("top", "1", &[("Depends", "a")]),
                rec("b", "1.5", &[]),
                rec("b", "1.0", &[("Suite", "bookworm-security")]),
                rec("mawk", "1", &[("Priority", "required"), ("Provides", "awk")]),
                rec("gawk", "1", &[("Priority", "optional"), ("Provides", "awk")]),
                rec("uses-awk", "1", &[("Depends", "awk, c | b")]),
                rec("c", "1", &[]),
                rec("arm", "1", &[("Architecture", "arm64")]),
                rec("rec", "1", &[("Recommends", "c, nothere")]),
            ],
            "amd64",
        )
    }

    #[test]
    fn providers_by_priority_and_reasons() {
        let u = universe();
        let r = resolve(&u, &Request::new(&["uses-awk"])).unwrap();
        assert_eq!(r.name_versions(), ["c=1", "mawk=1", "uses-awk=1"]);
        let mawk = r.packages.iter().find(|p| p.record.name == "mawk").unwrap();
        assert!(
            matches!(&mawk.reason, Reason::Provider { of, relation, .. } if of == "uses-awk" && relation == "awk")
        );
        let c = r.packages.iter().find(|p| p.record.name == "c").unwrap();
        assert_eq!(c.reason.to_string(), "Depends: c of uses-awk");
    }

    #[test]
    fn impossible_request_explains_the_chain() {
        let u = universe();
        let err = resolve(&u, &Request::new(&["top"])).unwrap_err().to_string();
        assert!(err.contains("top (requested)"), "{err}");
        assert!(err.contains("a 1.0 depends b (>= 2)"), "{err}");
        assert!(
            err.contains("but only b 1.5 in debian/bookworm, b 1.0 in debian/bookworm-security available"),
            "{err}"
        );
    }

    #[test]
    fn pins_excludes_and_requests() {
        let u = universe();
        let r = resolve(&u, &Request::new(&["b=1.0"])).unwrap();
        assert_eq!(r.name_versions(), ["b=1.0"]);
        let err = resolve(&u, &Request::new(&["b=3"])).unwrap_err();
        assert_eq!(
            err.to_string(),
            "version `3` of `b` is not available (available: 1.5, 1.0)"
        );
        let err = resolve(&u, &Request::new(&["awk"])).unwrap_err();
        assert!(matches!(err, ResolveError::VirtualRequest { .. }), "{err}");
        let err = resolve(&u, &Request::new(&["arm"])).unwrap_err();
        assert!(matches!(err, ResolveError::UnknownPackage { .. }), "{err}");
        let mut req = Request::new(&["uses-awk"]);
        req.exclude = vec!["mawk".into(), "c".into()];
        let r = resolve(&u, &req).unwrap();
        assert_eq!(r.name_versions(), ["b=1.5", "gawk=1", "uses-awk=1"]);
        req.exclude = vec!["mawk".into(), "gawk".into()];
        let err = resolve(&u, &req).unwrap_err().to_string();
        assert!(
            err.contains("mawk is excluded") && err.contains("gawk is excluded"),
            "{err}"
        );
    }

    #[test]
    fn no_depends_takes_the_package_alone() {
        let req = Request::new(&["uses-awk", "a"]);
        // `a` needs b (>= 2), which does not exist: without its dependencies it installs.
        let u = universe().without_dependencies(&["a", "uses-awk"]);
        assert_eq!(
            resolve(&u, &req).unwrap().name_versions(),
            ["a=1.0", "uses-awk=1"]
        );
        // Only the named package loses its dependencies: `top` still needs `a`.
        let u = universe().without_dependencies(&["a"]);
        let r = resolve(&u, &Request::new(&["top"])).unwrap();
        assert_eq!(r.name_versions(), ["a=1.0", "top=1"]);
    }

    #[test]
    fn recommends_and_required() {
        let u = universe();
        let mut req = Request::new(&["rec"]);
        assert_eq!(resolve(&u, &req).unwrap().name_versions(), ["rec=1"]);
        req.recommends = true;
        assert_eq!(resolve(&u, &req).unwrap().name_versions(), ["c=1", "rec=1"]);
        let req = Request {
            required: true,
            ..Request::default()
        };
        let r = resolve(&u, &req).unwrap();
        assert_eq!(r.name_versions(), ["mawk=1"]);
        assert_eq!(r.packages[0].reason, Reason::Required);
    }
}
