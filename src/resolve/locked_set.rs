//! Whether a lock's package set for a platform is the manifest's. Two checks, with only the
//! locked packages (their signed index records) available:
//!
//! - **Nothing missing**: the manifest's request resolves. A package removed from the lock by
//!   hand, that another needs, makes it fail.
//! - **Nothing extra**: every locked package is reached from the request (its packages, the
//!   `Priority: required` ones when asked for, the essential ones) by following, as apt's
//!   mark-and-sweep keeps installed packages, every alternative of every `Pre-Depends`,
//!   `Depends` and `Recommends` (which apt's sweep counts as important, whether or not they are
//!   installed) that a locked package satisfies, by name or by `Provides`. A genuine package
//!   added by hand that no such chain reaches is refused.
//!
//! The second is not "the restricted resolution gives back the lock": which of several providers
//! apt picks depends on the whole archive's order, and an alternative that failed in the full
//! archive can leave marks the restricted one never makes; both keep honest locks apt-shaped
//! but not reproducible from the lock alone. Reachability holds for every lock `debcast lock`
//! writes (its sweep keeps exactly what is reached), at the price of accepting a hand-added
//! alternative some locked package could use.

use std::collections::HashMap;

use super::{Request, ResolveError, Universe, resolve};
use crate::archive::PackageRecord;
use crate::debian::relation::{Relation, parse_relations};
use crate::platform::Platform;

#[derive(Debug, thiserror::Error)]
pub enum LockedSetError {
    #[error(
        "the packages locked for {platform} do not hold everything the manifest's packages need (a package removed from the lockfile by hand?): {source}"
    )]
    Incomplete {
        platform: Platform,
        #[source]
        source: Box<ResolveError>,
    },
    #[error(
        "{} package(s) locked for {platform} are not what the manifest resolves to (added to the lockfile by hand?); no dependency chain from the manifest's packages reaches: {}",
        .extra.len(),
        .extra.join(", ")
    )]
    Unrequested { platform: Platform, extra: Vec<String> },
}

/// Checks one platform's locked packages (their index records) against `request`.
pub fn check_locked_set(
    records: &[PackageRecord],
    platform: &Platform,
    request: &Request,
) -> Result<(), LockedSetError> {
    let universe =
        Universe::new(records.to_vec(), platform.debian_arch()).without_dependencies(&request.no_depends);
    // An excluded name the locked packages do not know is simply not installed; one that is
    // purely virtual among them is left out too: in the whole archive it either was virtual as
    // well (then no provider of it was locked) or was a real package (then only that package was
    // held, not the locked ones providing its name).
    let mut request = request.clone();
    request
        .exclude
        .retain(|name| super::lookup(&universe, name).is_some_and(|p| !universe.pkg(p).versions.is_empty()));
    let resolution = resolve(&universe, &request).map_err(|source| LockedSetError::Incomplete {
        platform: platform.clone(),
        source: Box::new(source),
    })?;
    // The roots as the resolver took them: a requested virtual name is its one provider.
    let roots: Vec<(&str, &str, &str)> = resolution
        .packages
        .iter()
        .filter(|p| matches!(p.reason, super::Reason::Requested | super::Reason::Required))
        .map(|p| {
            (
                p.record.name.as_str(),
                p.record.version.as_str(),
                p.record.architecture.as_str(),
            )
        })
        .collect();
    let extra = unreached(records, &request, &roots);
    if extra.is_empty() {
        Ok(())
    } else {
        Err(LockedSetError::Unrequested {
            platform: platform.clone(),
            extra,
        })
    }
}

/// A provided name and its version, if the `Provides` entry gives one.
struct Provided {
    name: String,
    version: Option<String>,
}

fn provided(r: &PackageRecord) -> Vec<Provided> {
    let Some(field) = r.provides.as_deref() else {
        return Vec::new();
    };
    parse_relations(field)
        .unwrap_or_default()
        .into_iter()
        .flatten()
        .map(|rel| Provided {
            name: rel.name,
            version: rel.constraint.map(|c| c.version),
        })
        .collect()
}

/// The locked packages no chain from the request reaches (`name version (arch)`), in order.
fn unreached(records: &[PackageRecord], request: &Request, roots: &[(&str, &str, &str)]) -> Vec<String> {
    let mut by_name: HashMap<&str, Vec<usize>> = HashMap::new();
    let mut providers: HashMap<String, Vec<(usize, Option<String>)>> = HashMap::new();
    for (i, r) in records.iter().enumerate() {
        by_name.entry(r.name.as_str()).or_default().push(i);
        for p in provided(r) {
            providers.entry(p.name).or_default().push((i, p.version));
        }
    }
    let satisfying = |rel: &Relation| -> Vec<usize> {
        let mut out: Vec<usize> = by_name
            .get(rel.name.as_str())
            .into_iter()
            .flatten()
            .copied()
            .filter(|&i| {
                rel.constraint
                    .as_ref()
                    .is_none_or(|c| c.matches(&records[i].version))
            })
            .collect();
        out.extend(
            providers
                .get(rel.name.as_str())
                .into_iter()
                .flatten()
                .filter(|(_, version)| match (&rel.constraint, version) {
                    (None, _) => true,
                    (Some(c), Some(v)) => c.matches(v),
                    (Some(_), None) => false,
                })
                .map(|(i, _)| *i),
        );
        out
    };
    let mut reached = vec![false; records.len()];
    let mut todo: Vec<usize> = Vec::new();
    for (i, r) in records.iter().enumerate() {
        let requested = request.include.iter().any(|q| q.name == r.name)
            || roots.contains(&(r.name.as_str(), r.version.as_str(), r.architecture.as_str()));
        let required = request.required && r.priority == "required";
        // apt's sweep keeps essential packages, and apt itself, which its cache marks essential.
        let essential = r.essential || r.name == "apt";
        if requested || required || essential {
            todo.push(i);
        }
    }
    while let Some(i) = todo.pop() {
        if std::mem::replace(&mut reached[i], true) {
            continue;
        }
        let r = &records[i];
        if request.no_depends.contains(&r.name) {
            continue;
        }
        // Recommends whatever the manifest says: apt keeps what they reach (its sweep counts
        // them important), and its resolver can install one without following Recommends.
        for field in [&r.pre_depends, &r.depends, &r.recommends].into_iter().flatten() {
            // A field the resolver could not parse failed the resolution already.
            for group in parse_relations(field).unwrap_or_default() {
                for rel in &group {
                    todo.extend(satisfying(rel).into_iter().filter(|&j| !reached[j]));
                }
            }
        }
    }
    records
        .iter()
        .zip(&reached)
        .filter(|(_, reached)| !**reached)
        .map(|(r, _)| format!("{} {} ({})", r.name, r.version, r.architecture))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::super::tests::rec;
    use super::*;

    fn amd64() -> Platform {
        "linux/amd64".parse().unwrap_or_else(|e| panic!("{e}"))
    }

    /// `top` needs `lib` and an awk (a virtual package `mawk` provides) or `c`; `lib` pre-needs
    /// `base`: the set `debcast lock` would write.
    fn locked() -> Vec<PackageRecord> {
        vec![
            rec("top", "1", &[("Depends", "lib (>= 2), awk | c")]),
            rec("lib", "2", &[("Pre-Depends", "base")]),
            rec("base", "1", &[]),
            rec("mawk", "1", &[("Provides", "awk")]),
        ]
    }

    #[test]
    fn the_set_the_manifest_resolves_to_passes() {
        check_locked_set(&locked(), &amd64(), &Request::new(&["top"])).unwrap_or_else(|e| panic!("{e}"));
        // A pinned request, and a package whose dependencies the manifest drops.
        check_locked_set(&locked(), &amd64(), &Request::new(&["top=1"])).unwrap_or_else(|e| panic!("{e}"));
        let mut request = Request::new(&["top", "lib"]);
        request.no_depends = vec!["lib".into()];
        let without_base: Vec<PackageRecord> = locked().into_iter().filter(|r| r.name != "base").collect();
        check_locked_set(&without_base, &amd64(), &request).unwrap_or_else(|e| panic!("{e}"));
    }

    /// The lock `debcast lock` writes from a whole archive (index order), as records; `None`
    /// when the request does not resolve.
    fn try_lock_of(archive: Vec<PackageRecord>, request: &Request) -> Option<Vec<PackageRecord>> {
        let resolution = resolve(&Universe::new(archive, "amd64"), request).ok()?;
        let mut locked: Vec<PackageRecord> = resolution.packages.into_iter().map(|p| p.record).collect();
        locked.sort_by(|a, b| a.name.cmp(&b.name));
        Some(locked)
    }

    fn lock_of(archive: Vec<PackageRecord>, request: &Request) -> Vec<PackageRecord> {
        try_lock_of(archive, request).unwrap_or_else(|| panic!("{request:?} does not resolve"))
    }

    /// Honest locks whose packages a resolution over the lock alone would not all pick: the
    /// provider apt chose by the whole archive's order, and what an alternative that failed
    /// left marked. Both pass (found by review).
    #[test]
    fn honest_locks_apt_shaped_by_the_whole_archive_pass() {
        let request = Request::new(&["x"]);
        let providers = vec![
            rec("x", "1", &[("Depends", "v, y")]),
            rec("y", "1", &[("Depends", "p2")]),
            rec("p2", "1", &[("Provides", "v")]),
            rec("p1", "1", &[("Provides", "v")]),
        ];
        let failed_alternative = vec![
            rec("x", "1", &[("Depends", "a | b, g")]),
            rec("a", "1", &[("Depends", "c, d")]),
            rec("c", "1", &[("Depends", "e")]),
            rec("d", "1", &[("Depends", "zz")]),
            rec("b", "1", &[("Depends", "g | e")]),
            rec("e", "1", &[]),
            rec("g", "1", &[]),
        ];
        for archive in [providers, failed_alternative] {
            let locked = lock_of(archive, &request);
            check_locked_set(&locked, &amd64(), &request).unwrap_or_else(|e| panic!("{locked:?}: {e}"));
        }
        // `required` with an exclusion the lock never mentions.
        let mut request = Request::new(&["base"]);
        request.required = true;
        request.exclude = vec!["e2fsprogs".into()];
        let archive = vec![
            rec("base", "1", &[("Priority", "required")]),
            rec("e2fsprogs", "1", &[("Priority", "required")]),
        ];
        let locked = lock_of(archive, &request);
        assert_eq!(locked.len(), 1, "{locked:?}");
        check_locked_set(&locked, &amd64(), &request).unwrap_or_else(|e| panic!("{e}"));
    }

    /// Random archives (names, versions, alternatives, virtual packages, versioned relations,
    /// Recommends, priorities): whatever the resolver locks from the whole archive passes the
    /// check, and so does it with each of its packages' dependencies present.
    #[test]
    fn every_lock_of_random_archives_passes() {
        let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = |n: u64| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed % n
        };
        let mut checked = 0;
        for _ in 0..8000 {
            let count = 4 + next(10);
            // p0 is apt, which apt's cache marks essential.
            let name = |i: u64| if i == 0 { "apt".to_owned() } else { format!("p{i}") };
            let mut archive = Vec::new();
            for i in 0..count {
                for version in 1..=(1 + next(2)) {
                    let mut fields: Vec<(&str, String)> = Vec::new();
                    let relation = |next: &mut dyn FnMut(u64) -> u64| {
                        let target = if next(5) == 0 {
                            format!("v{}", next(3))
                        } else {
                            name(next(count + 2))
                        };
                        match next(4) {
                            0 => format!("{target} (>= {})", 1 + next(2)),
                            _ => target,
                        }
                    };
                    for field in ["Depends", "Pre-Depends", "Recommends"] {
                        let groups = if field == "Depends" { next(3) } else { next(4) / 3 };
                        let text: Vec<String> = (0..groups)
                            .map(|_| {
                                (0..1 + next(3))
                                    .map(|_| relation(&mut next))
                                    .collect::<Vec<_>>()
                                    .join(" | ")
                            })
                            .collect();
                        if !text.is_empty() {
                            fields.push((field, text.join(", ")));
                        }
                    }
                    if next(4) == 0 {
                        fields.push(("Provides", format!("v{}", next(3))));
                    }
                    if next(6) == 0 {
                        fields.push(("Priority", "required".into()));
                    }
                    let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
                    archive.push(rec(&name(i), &version.to_string(), &fields));
                }
            }
            // Sometimes a virtual name, which the resolver takes as its one provider.
            let first = if next(6) == 0 {
                format!("v{}", next(3))
            } else {
                name(next(count))
            };
            let mut request = Request::new(&[first, name(next(count))]);
            request.recommends = next(2) == 0;
            request.required = next(4) == 0;
            if next(3) == 0 {
                request.exclude = vec![name(next(count + 2))];
            }
            let Some(locked) = try_lock_of(archive, &request) else {
                continue;
            };
            check_locked_set(&locked, &amd64(), &request)
                .unwrap_or_else(|e| panic!("{request:?}\n{locked:#?}\n{e}"));
            checked += 1;
        }
        assert!(checked > 1500, "only {checked} random archives resolved");
    }

    /// More honest locks a second review found refused: a requested virtual name (its one
    /// provider is the root), `apt` kept as essential after a failed alternative marked it, and
    /// an excluded real name that a locked package provides.
    #[test]
    fn honest_locks_with_virtual_requests_apt_and_provided_exclusions_pass() {
        let awk = vec![rec("mawk", "1", &[("Provides", "awk")]), rec("other", "1", &[])];
        let request = Request::new(&["awk"]);
        let locked = lock_of(awk, &request);
        check_locked_set(&locked, &amd64(), &request).unwrap_or_else(|e| panic!("{locked:?}: {e}"));

        let request = Request::new(&["x"]);
        let apt = vec![
            rec("x", "1", &[("Depends", "a | b")]),
            rec("a", "1", &[("Depends", "c, d")]),
            rec("c", "1", &[("Depends", "apt")]),
            rec("d", "1", &[("Depends", "zz")]),
            rec("b", "1", &[]),
            rec("apt", "2", &[]),
        ];
        let locked = lock_of(apt, &request);
        assert!(locked.iter().any(|r| r.name == "apt"), "{locked:?}");
        check_locked_set(&locked, &amd64(), &request).unwrap_or_else(|e| panic!("{locked:?}: {e}"));

        for include in ["x", "busybox-awk"] {
            let mut request = Request::new(&[include]);
            request.exclude = vec!["mawk".into()];
            let archive = vec![
                rec("x", "1", &[("Depends", "mawk")]),
                rec("mawk", "1", &[]),
                rec("busybox-awk", "1", &[("Provides", "mawk")]),
            ];
            let locked = lock_of(archive, &request);
            check_locked_set(&locked, &amd64(), &request)
                .unwrap_or_else(|e| panic!("{include}: {locked:?}: {e}"));
        }
    }

    #[test]
    fn a_package_nothing_needs_is_refused_by_name() {
        let mut set = locked();
        set.push(rec("hello", "2.10-3", &[]));
        let err = check_locked_set(&set, &amd64(), &Request::new(&["top"])).unwrap_err();
        assert!(matches!(err, LockedSetError::Unrequested { .. }), "{err}");
        let text = err.to_string();
        for needle in ["1 package(s) locked for linux/amd64", "hello 2.10-3 (amd64)"] {
            assert!(text.contains(needle), "{needle:?} not in: {text}");
        }
        // A package reached only through a relationship apt does not keep (Suggests) is extra.
        let mut set = locked();
        set.push(rec("suggested", "1", &[]));
        let err = check_locked_set(&set, &amd64(), &Request::new(&["top"])).unwrap_err();
        assert!(err.to_string().contains("suggested 1 (amd64)"), "{err}");
        // Through Recommends it is kept, as apt's sweep keeps it, whether the manifest follows
        // them or not (apt's resolver can install a recommended package without following
        // Recommends: a case random archives showed).
        set[0].recommends = Some("suggested".into());
        for recommends in [false, true] {
            let mut request = Request::new(&["top"]);
            request.recommends = recommends;
            check_locked_set(&set, &amd64(), &request).unwrap_or_else(|e| panic!("{e}"));
        }
        // A second alternative some locked package could use is accepted (the price of not
        // reproducing apt's choice without the whole archive).
        let mut set = locked();
        set.push(rec("c", "1", &[]));
        check_locked_set(&set, &amd64(), &Request::new(&["top"])).unwrap_or_else(|e| panic!("{e}"));
        // A versioned relationship the added version does not satisfy does not reach it.
        let mut set = locked();
        set.push(rec("newlib", "1", &[]));
        set[0].depends = Some("lib (>= 2), awk | c, newlib (>= 2) | base".into());
        let err = check_locked_set(&set, &amd64(), &Request::new(&["top"])).unwrap_err();
        assert!(err.to_string().contains("newlib 1 (amd64)"), "{err}");
    }

    #[test]
    fn a_missing_dependency_is_refused_with_the_chain() {
        for gone in ["base", "mawk", "lib"] {
            let set: Vec<PackageRecord> = locked().into_iter().filter(|r| r.name != gone).collect();
            let err = check_locked_set(&set, &amd64(), &Request::new(&["top"])).unwrap_err();
            assert!(matches!(err, LockedSetError::Incomplete { .. }), "{gone}: {err}");
            let text = format!(
                "{err}: {}",
                std::error::Error::source(&err)
                    .map(|s| s.to_string())
                    .unwrap_or_default()
            );
            assert!(text.contains("linux/amd64"), "{gone}: {text}");
            assert!(
                text.contains(gone) || gone == "mawk" && text.contains("awk"),
                "{gone}: {text}"
            );
        }
        // A requested package the lock lacks.
        let err = check_locked_set(&locked(), &amd64(), &Request::new(&["top", "zsh"])).unwrap_err();
        assert!(err.to_string().contains("zsh"), "{err}");
    }
}
