//! Whether a lock's package set for a platform is the manifest's: resolving the manifest's
//! request with only the locked packages available must give back exactly those packages. A
//! lock edited by hand can list genuine packages (each one proven against the signed indices)
//! that the manifest never asks for, or drop one its packages need; both are refused here,
//! before anything is built from them.
//!
//! For a lock `debcast lock` wrote, the restricted resolution gives the same set: every
//! dependency the full resolution followed is satisfied inside the set, by the same packages.

use std::collections::BTreeSet;

use super::{Request, ResolveError, Universe, resolve};
use crate::archive::PackageRecord;
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
    let resolution = resolve(&universe, request).map_err(|source| LockedSetError::Incomplete {
        platform: platform.clone(),
        source: Box::new(source),
    })?;
    let resolved: BTreeSet<(&str, &str, &str)> = resolution
        .packages
        .iter()
        .map(|p| {
            (
                p.record.name.as_str(),
                p.record.version.as_str(),
                p.record.architecture.as_str(),
            )
        })
        .collect();
    let extra: Vec<String> = records
        .iter()
        .filter(|r| !resolved.contains(&(r.name.as_str(), r.version.as_str(), r.architecture.as_str())))
        .map(|r| format!("{} {} ({})", r.name, r.version, r.architecture))
        .collect();
    if extra.is_empty() {
        Ok(())
    } else {
        Err(LockedSetError::Unrequested {
            platform: platform.clone(),
            extra,
        })
    }
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
        // Both alternatives locked: the one the request does not take is extra.
        let mut set = locked();
        set.push(rec("c", "1", &[]));
        let err = check_locked_set(&set, &amd64(), &Request::new(&["top"])).unwrap_err();
        assert!(err.to_string().contains("c 1 (amd64)"), "{err}");
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
