//! `debcast why MANIFEST PKG`: the chain of dependencies from the manifest's `include` (or, with
//! `required = true`, a `Priority: required` package) that brought a locked package in, per
//! platform, as `apt-cache rdepends` would answer for this lock only, from the signed index
//! records of the locked packages.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use crate::archive::PackageRecord;
use crate::lockfile::{LockedPackage, Lockfile};
use crate::manifest::Manifest;
use crate::platform::Platform;
use crate::sbom::facts;
use crate::sbom::graph::{Graph, Node};

/// One link of a chain: `package`, needed by the previous one through `field: relation`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Link {
    pub package: String,
    pub version: String,
    /// `include`, `required`, or the field (`Depends`, `Pre-Depends`, `Recommends`) of the
    /// previous package that needs this one.
    pub reason: String,
    /// The relation as written in that field (`libssl3 (>= 3.0.0)`); empty for the root.
    pub relation: String,
}

/// The answer for one platform.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Answer {
    pub platform: String,
    /// Whether the package is locked for this platform.
    pub locked: bool,
    /// From a root to the package; empty when not locked or not reachable.
    pub chain: Vec<Link>,
    /// The locked packages that depend on it directly.
    pub rdepends: Vec<String>,
}

/// Answers for each of `packages` (outer) on each of `platforms` (inner), from the signed index
/// records of the locked packages (`records`, per platform, as the lock's proof returns them):
/// no `.deb` is needed to answer.
pub fn why(
    manifest: &Manifest,
    lock: &Lockfile,
    records: &BTreeMap<Platform, Vec<PackageRecord>>,
    platforms: &[Platform],
    packages: &[String],
) -> Vec<Vec<Answer>> {
    let mut out = vec![Vec::new(); packages.len()];
    for platform in platforms {
        let locked: Vec<&LockedPackage> = lock.packages_for(platform).collect();
        let listed = records.get(platform).map(Vec::as_slice).unwrap_or_default();
        let controls: Vec<facts::PackageFacts> = locked
            .iter()
            .map(|p| {
                listed
                    .iter()
                    .find(|r| r.name == p.name && r.version == p.version && r.architecture == p.architecture)
                    .map(facts::PackageFacts::from_index)
                    // The proof lists every locked package: an absent one has no relationships.
                    .unwrap_or_else(|| facts::PackageFacts {
                        control: Vec::new(),
                        copyright: None,
                        changelogs: Vec::new(),
                        doc_link: None,
                    })
            })
            .collect();
        for (package, answers) in packages.iter().zip(out.iter_mut()) {
            answers.push(match locked.iter().position(|p| &p.name == package) {
                Some(target) => answer(manifest, platform, &locked, &controls, target),
                None => Answer {
                    platform: platform.to_string(),
                    locked: false,
                    chain: Vec::new(),
                    rdepends: Vec::new(),
                },
            });
        }
    }
    out
}

/// The answer from already-read control fields.
pub fn answer(
    manifest: &Manifest,
    platform: &Platform,
    locked: &[&LockedPackage],
    controls: &[facts::PackageFacts],
    target: usize,
) -> Answer {
    // Recommends whatever the manifest says: apt keeps what they reach, and its resolver can
    // install one without following Recommends (the lock check follows them too).
    let fields = ["Pre-Depends", "Depends", "Recommends"];
    let nodes: Vec<Node<'_>> = locked
        .iter()
        .zip(controls)
        .map(|(p, f)| Node {
            name: &p.name,
            version: &p.version,
            architecture: &p.architecture,
            depends: fields
                .iter()
                .filter_map(|&k| f.field(k).map(|v| (k, v)))
                .collect(),
            provides: f.field("Provides"),
        })
        .collect();
    let graph = Graph::new(&nodes);
    let (includes, _) = manifest.requests_for(platform);
    let included: BTreeSet<&str> = includes.iter().map(|r| r.name.as_str()).collect();
    // An include that names a virtual package is its provider, as the resolver takes it.
    let provides_include = |i: usize| {
        controls[i].field("Provides").is_some_and(|field| {
            crate::debian::relation::parse_relations(field)
                .unwrap_or_default()
                .iter()
                .flatten()
                .any(|rel| included.contains(rel.name.as_str()) && !locked.iter().any(|p| p.name == rel.name))
        })
    };
    let mut roots: Vec<usize> = (0..locked.len())
        .filter(|&i| included.contains(locked[i].name.as_str()) || provides_include(i))
        .collect();
    let required: Vec<usize> = if manifest.packages.required {
        (0..locked.len())
            .filter(|&i| {
                !included.contains(locked[i].name.as_str())
                    && controls[i]
                        .field("Priority")
                        .is_some_and(|p| p.eq_ignore_ascii_case("required"))
            })
            .collect()
    } else {
        Vec::new()
    };
    roots.extend(&required);
    if manifest.packages.required {
        // The resolver adds only the includes, the required packages and what they need, so
        // what the roots so far do not reach came in with the required ones (through a
        // relationship the fields above leave out): its topmost packages (those no other
        // unreached package depends on; in a cycle, the first by name) are roots too.
        let reached = graph.reachable(&roots);
        let unreached: BTreeSet<usize> = (0..locked.len()).filter(|i| !reached.contains(i)).collect();
        let mut covered: BTreeSet<usize> = BTreeSet::new();
        let mut order: Vec<usize> = unreached.iter().copied().collect();
        order.sort_by_key(|&i| {
            let has_parent = unreached
                .iter()
                .any(|&j| j != i && graph.depends_on(j).contains(&i));
            (has_parent, locked[i].name.clone())
        });
        for i in order {
            if covered.contains(&i) {
                continue;
            }
            roots.push(i);
            covered.extend(graph.reachable(&[i]));
        }
    }
    // apt's sweep keeps essential packages (and apt, which its cache marks essential): one no
    // other root reaches is a root of its own.
    let reached = graph.reachable(&roots);
    let essential: Vec<usize> = (0..locked.len())
        .filter(|&i| {
            !reached.contains(&i)
                && (locked[i].name == "apt"
                    || controls[i]
                        .field("Essential")
                        .is_some_and(|e| e.eq_ignore_ascii_case("yes")))
        })
        .collect();
    roots.extend(&essential);
    let chain = graph
        .chain(&roots, target)
        .map(|path| {
            path.iter()
                .enumerate()
                .map(|(k, &i)| {
                    let (reason, relation) = if k == 0 {
                        let r = if included.contains(locked[i].name.as_str()) || provides_include(i) {
                            "include"
                        } else if essential.contains(&i) {
                            "essential"
                        } else {
                            "required"
                        };
                        (r.to_owned(), String::new())
                    } else {
                        graph
                            .edge(path[k - 1], i)
                            .map(|e| (e.field.clone(), e.relation.clone()))
                            .unwrap_or_default()
                    };
                    Link {
                        package: locked[i].name.clone(),
                        version: locked[i].version.clone(),
                        reason,
                        relation,
                    }
                })
                .collect()
        })
        .unwrap_or_default();
    Answer {
        platform: platform.to_string(),
        locked: true,
        chain,
        rdepends: graph
            .rdepends(target)
            .into_iter()
            .map(|i| locked[i].name.clone())
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect(),
    }
}

/// `linux/amd64: ca-certificates (include) -> openssl (Depends: openssl (>= 1.1.1)) -> …`.
pub fn render(package: &str, answers: &[Answer]) -> String {
    let mut s = String::new();
    for a in answers {
        if !a.locked {
            let _ = writeln!(s, "{}: {package} is not locked for this platform", a.platform);
            continue;
        }
        let chain = a
            .chain
            .iter()
            .map(|l| {
                if l.relation.is_empty() {
                    format!("{} {} ({})", l.package, l.version, l.reason)
                } else {
                    format!("{} {} ({}: {})", l.package, l.version, l.reason, l.relation)
                }
            })
            .collect::<Vec<_>>()
            .join(" -> ");
        if chain.is_empty() {
            let _ = writeln!(
                s,
                "{}: {package} is locked but no dependency chain from the manifest's packages reaches it",
                a.platform
            );
        } else {
            let _ = writeln!(s, "{}: {chain}", a.platform);
        }
        if !a.rdepends.is_empty() {
            let _ = writeln!(s, "  needed directly by: {}", a.rdepends.join(", "));
        }
    }
    crate::text::sanitize(&s)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hash::Sha256Digest;
    use crate::sbom::facts::PackageFacts;

    fn manifest(required: bool) -> Manifest {
        let text = format!(
            "[image]\nname = \"t\"\nplatforms = [\"linux/amd64\"]\n\n[[source]]\narchive = \"debian\"\nsuites = [\"bookworm\"]\nkeyring = \"k.gpg\"\n\n[packages]\ninclude = [\"app\"]\nrequired = {required}\n"
        );
        Manifest::parse(&text, std::path::Path::new("t.toml")).unwrap()
    }

    fn locked(name: &str) -> LockedPackage {
        LockedPackage {
            platform: "linux/amd64".parse().unwrap(),
            name: name.into(),
            version: "1".into(),
            architecture: "amd64".into(),
            archive: "debian".into(),
            path: format!("pool/main/{name}.deb"),
            size: 1,
            sha256: Sha256Digest::of(name.as_bytes()),
        }
    }

    fn facts(fields: &[(&str, &str)]) -> PackageFacts {
        PackageFacts {
            control: fields.iter().map(|(k, v)| ((*k).into(), (*v).into())).collect(),
            ..PackageFacts::default()
        }
    }

    #[test]
    fn required_packages_by_control_or_by_what_the_resolver_could_only_have_added() {
        let pkgs: Vec<LockedPackage> = ["app", "libc", "apt", "adduser", "dash"].map(locked).to_vec();
        let refs: Vec<&LockedPackage> = pkgs.iter().collect();
        let controls = vec![
            facts(&[("Depends", "libc")]),
            facts(&[]),
            // `important` in its .deb, `required` in the index: inferred.
            facts(&[("Priority", "important"), ("Depends", "adduser, libc")]),
            facts(&[("Priority", "important")]),
            facts(&[("Priority", "required"), ("Depends", "libc")]),
        ];
        let platform: Platform = "linux/amd64".parse().unwrap();
        let m = manifest(true);
        let chain = |target: usize| -> Vec<(String, String)> {
            answer(&m, &platform, &refs, &controls, target)
                .chain
                .into_iter()
                .map(|l| (l.package, l.reason))
                .collect()
        };
        assert_eq!(
            chain(1),
            [
                ("app".into(), "include".into()),
                ("libc".into(), "Depends".into())
            ]
        );
        assert_eq!(chain(4), [("dash".to_owned(), "required".to_owned())]);
        assert_eq!(chain(2), [("apt".to_owned(), "required".to_owned())]);
        assert_eq!(
            chain(3),
            [
                ("apt".to_owned(), "required".to_owned()),
                ("adduser".into(), "Depends".into())
            ]
        );
        // Without `required`, the includes are the roots, and apt, which apt's cache marks
        // essential and its sweep keeps (a failed alternative can leave it marked).
        let m = manifest(false);
        let a = answer(&m, &platform, &refs, &controls, 3);
        let links: Vec<(String, String)> = a.chain.into_iter().map(|l| (l.package, l.reason)).collect();
        assert_eq!(
            links,
            [
                ("apt".to_owned(), "essential".to_owned()),
                ("adduser".into(), "Depends".into())
            ]
        );
        assert_eq!(a.rdepends, ["apt"]);
        assert!(
            answer(&m, &platform, &refs, &controls, 4).chain.is_empty(),
            "dash"
        );
    }

    /// A virtual include is answered through its provider, and a package kept only through
    /// Recommends (which the resolver can install without following them) through them.
    #[test]
    fn virtual_includes_and_recommends_give_chains() {
        let pkgs: Vec<LockedPackage> = ["mawk", "b", "e"].map(locked).to_vec();
        let refs: Vec<&LockedPackage> = pkgs.iter().collect();
        let controls = vec![
            facts(&[("Provides", "app"), ("Depends", "b")]),
            facts(&[("Recommends", "e")]),
            facts(&[]),
        ];
        let platform: Platform = "linux/amd64".parse().unwrap();
        let m = manifest(false);
        let links: Vec<(String, String)> = answer(&m, &platform, &refs, &controls, 2)
            .chain
            .into_iter()
            .map(|l| (l.package, l.reason))
            .collect();
        assert_eq!(
            links,
            [
                ("mawk".to_owned(), "include".to_owned()),
                ("b".into(), "Depends".into()),
                ("e".into(), "Recommends".into())
            ]
        );
    }
}
