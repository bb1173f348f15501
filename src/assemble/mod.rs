//! Assembly: every package of a platform unpacked into one filesystem tree, the way dpkg would have
//! left it (merged /usr, shared directories, Replaces), ready to be written as layers.
//!
//! A `.deb` goes from the store into the image along one path: [`Debs::decode`] (decode.rs)
//! re-hashes it and streams its data into entries and a per-package spool file (spool.rs), on
//! the schedule of [`schedule::unpack`] (which packages, in which order, on which threads, and
//! how long their bytes stay). [`merge`] puts every package into the [`tree::Tree`] and
//! [`Assembled::configure`] does what dpkg and the maintainer scripts would have done. The build
//! writes the layers from there, and keeps what a decode gave besides file bytes as an unpack
//! record per `.deb`, so a rebuild decodes only the packages whose layers changed.

pub mod artifacts;
mod configure;
pub mod configure_order;
mod decode;
pub mod keep;
mod order;
pub mod schedule;
mod spool;
pub mod system;
pub mod tree;
/// Merged /usr is a rule of the paths a `.deb` (or an artifact) ships: it lives with them.
pub use crate::deb::usrmerge;

use std::collections::HashMap;
use std::io::{self, Read};
use std::sync::Arc;

use crate::deb::{ControlArchive, DebError};
use crate::debian::relation::{self, Relation};
use crate::entry::{Entry, EntryKind};
use crate::lockfile::LockedPackage;
use crate::store::StoreError;

pub use configure::configure_order;
pub use decode::{Debs, PackageInput, unpack};
pub use order::View;
pub use spool::Spools;
pub use tree::{Content, Node, PackageEntries, ReplacesPolicy, Tree};

#[derive(Debug, thiserror::Error)]
pub enum AssembleError {
    #[error("{0}")]
    Deb(#[from] DebError),
    #[error(
        "{path} is shipped by both {first} and {second} ({why}); add one of them to [packages] exclude or pin versions that agree"
    )]
    Conflict {
        path: String,
        first: String,
        second: String,
        why: String,
    },
    #[error("{package} ships {path}, but {parent} is a {parent_kind} in the image, not a directory")]
    ParentNotDirectory {
        path: String,
        parent: String,
        package: String,
        parent_kind: &'static str,
    },
    #[error("{package}: control field `{field}` is `{}`, but the lockfile says `{expected}`", crate::text::escape(.value))]
    ControlMismatch {
        package: String,
        field: &'static str,
        value: String,
        expected: String,
    },
    #[error("{package} ships {path} as a hard link to {target}, which is not a regular file in the image")]
    DanglingHardlink {
        path: String,
        target: String,
        package: String,
    },
    #[error("{what} /{path}: the image already has {found} there")]
    Declared {
        what: String,
        path: String,
        found: String,
    },
    #[error("{artifact}: /{path}: {what}")]
    Artifact {
        artifact: String,
        path: String,
        what: String,
    },
    #[error("configuring the image: {0}")]
    System(#[from] system::SystemError),
    #[error("spool file for {package}: {source}")]
    Spool { package: String, source: io::Error },
    #[error(
        "package {package}: the stored file is damaged or unreadable ({source}); `debcast fetch` downloads it again (`debcast store verify --repair` removes every damaged entry)"
    )]
    Store { package: String, source: StoreError },
    #[error("internal error: {0} (a bug in debcast; please report it)")]
    Internal(String),
}

/// A package as unpacked: its control data and the paths it shipped (after merged-/usr mapping).
#[derive(Debug, Clone)]
pub struct UnpackedPackage {
    pub locked: LockedPackage,
    pub control: ControlArchive,
    /// Every path it shipped, in archive order (directories included), as packaged: before
    /// merged-/usr mapping, as dpkg's `.list` files record them.
    pub paths: Vec<String>,
}

/// What the unpacker learnt about a package's files besides their bytes, by `(offset, len)` in
/// the package's spool: ldconfig's view of its library-named files, and a copy of the small files
/// the configure step reads (see [`keep::keeps`]).
#[derive(Debug, Clone, Default)]
pub struct PackageFacts {
    pub elf: Vec<(SpoolRange, Option<system::ldcache::ElfInfo>)>,
    pub kept: Vec<(SpoolRange, Arc<Vec<u8>>)>,
}

/// Where a regular file's bytes are in its package's spool: `(offset, len)`.
pub type SpoolRange = (u64, u64);

/// One package, unpacked (or read back from its unpack record).
#[derive(Debug, Clone)]
pub struct Unpacked {
    pub package: UnpackedPackage,
    pub entries: PackageEntries,
    pub facts: PackageFacts,
}

/// The assembled image filesystem of one platform.
pub struct Assembled {
    pub tree: Tree,
    pub packages: Vec<UnpackedPackage>,
    spools: Arc<Spools>,
    /// [`PackageFacts`] of every package, by `(package, offset, len)`.
    elf: HashMap<(usize, u64, u64), Option<system::ldcache::ElfInfo>>,
    kept: HashMap<(usize, u64, u64), Arc<Vec<u8>>>,
}

#[derive(Debug, Clone, Copy)]
pub struct AssembleOptions {
    pub usrmerge: bool,
}

/// Merges unpacked packages (lock order, package `i` at index `i`) into the image tree.
pub fn merge(
    unpacked: Vec<Unpacked>,
    options: AssembleOptions,
    spools: Arc<Spools>,
) -> Result<Assembled, AssembleError> {
    let labels: Vec<String> = unpacked.iter().map(|u| u.package.locked.label()).collect();
    let mut packages = Vec::with_capacity(unpacked.len());
    let mut all_entries = Vec::with_capacity(unpacked.len());
    let mut elf = HashMap::new();
    let mut kept = HashMap::new();
    for (i, u) in unpacked.into_iter().enumerate() {
        for ((offset, len), info) in u.facts.elf {
            elf.insert((i, offset, len), info);
        }
        for ((offset, len), bytes) in u.facts.kept {
            kept.insert((i, offset, len), bytes);
        }
        packages.push(u.package);
        all_entries.push(u.entries);
    }
    let policy = ControlReplaces::new(packages.iter().enumerate());
    let mut tree = Tree::new();
    if options.usrmerge {
        // The links go in first, so that nothing can create /bin as a directory.
        for (dir, target) in usrmerge::links(|p| {
            all_entries
                .iter()
                .any(|e| e.nodes.iter().any(|n| n.entry.path == p))
        }) {
            tree.put_generated(
                Entry::generated(target.clone(), EntryKind::Directory, 0o755),
                None,
            )?;
            tree.put_generated(Entry::generated(dir, EntryKind::Symlink { target }, 0o777), None)?;
        }
    }
    for entries in all_entries {
        tree.add_package(entries, &labels, &policy)?;
    }
    Ok(Assembled {
        tree,
        packages,
        spools,
        elf,
        kept,
    })
}

/// The tree the given packages alone make (lock order), merged with the same rules as the whole
/// image (shared directories, `Replaces`), implicit parents stamped with `source_date_epoch`. A
/// pure function of those packages: it is what one layer holds.
pub fn group_tree(
    members: &[&Unpacked],
    labels: &[String],
    source_date_epoch: u64,
) -> Result<Tree, AssembleError> {
    let policy = ControlReplaces::new(members.iter().map(|u| (u.entries.index, &u.package)));
    let mut tree = Tree::new();
    for u in members {
        tree.add_package(u.entries.clone(), labels, &policy)?;
    }
    tree.stamp_generated(source_date_epoch);
    Ok(tree)
}

impl Assembled {
    /// A reader over a node's regular-file content.
    pub fn content<'a>(&'a self, node: &'a Node) -> Box<dyn Read + 'a> {
        self.spools.content(node)
    }

    pub fn spools(&self) -> &Spools {
        &self.spools
    }

    /// A copy the unpacker kept of a node's content, if any.
    fn kept(&self, node: &Node) -> Option<&Arc<Vec<u8>>> {
        match (&node.content, node.owner) {
            (Content::Spooled { offset, len, .. }, Some(owner)) => self.kept.get(&(owner, *offset, *len)),
            _ => None,
        }
    }

    /// ldconfig's view of a regular file, from what the unpacker recorded when it could.
    pub fn elf(&self, path: &str) -> Option<io::Result<Option<system::ldcache::ElfInfo>>> {
        let node = self.tree.get(path)?;
        if let (Content::Spooled { offset, len, .. }, Some(owner)) = (&node.content, node.owner)
            && let Some(info) = self.elf.get(&(owner, *offset, *len))
        {
            return Some(Ok(info.clone()));
        }
        self.read(path).map(|r| r.map(|b| system::ldcache::read_elf(&b)))
    }

    /// Reads a whole regular file of the tree (for the system emulations).
    pub fn read(&self, path: &str) -> Option<io::Result<Vec<u8>>> {
        let node = self.tree.get(path)?;
        if !matches!(node.entry.kind, EntryKind::File { .. }) {
            return None;
        }
        if let Some(bytes) = self.kept(node) {
            return Some(Ok(bytes.to_vec()));
        }
        let mut out = Vec::new();
        Some(self.content(node).read_to_end(&mut out).map(|_| out))
    }

    pub fn put_generated(&mut self, entry: Entry, bytes: Option<Vec<u8>>) -> Result<(), AssembleError> {
        self.tree.put_generated(entry, bytes)
    }
}

/// `Replaces` as dpkg applies it: package A may take over package B's files when A's `Replaces`
/// names B (with a version relation B's version satisfies).
struct ControlReplaces {
    /// By package index: what its `Replaces` names, its name and its version.
    packages: HashMap<usize, ReplacesInfo>,
}

struct ReplacesInfo {
    replaces: Vec<Relation>,
    name: String,
    version: String,
    /// The names its `Depends` and `Pre-Depends` list (every alternative).
    depends: Vec<String>,
}

impl ControlReplaces {
    fn new<'a>(packages: impl Iterator<Item = (usize, &'a UnpackedPackage)>) -> Self {
        let packages = packages
            .map(|(i, p)| {
                let info = ReplacesInfo {
                    replaces: replaces_terms(p.control.control.get("Replaces").unwrap_or_default()),
                    name: p.locked.name.clone(),
                    version: p.locked.version.clone(),
                    depends: ["Depends", "Pre-Depends"]
                        .into_iter()
                        .flat_map(|f| replaces_terms(p.control.control.get(f).unwrap_or_default()))
                        .map(|r| r.name)
                        .collect(),
                };
                (i, info)
            })
            .collect();
        ControlReplaces { packages }
    }
}

impl ReplacesPolicy for ControlReplaces {
    fn replaces(&self, replacer: usize, replaced: usize) -> bool {
        let (Some(by), Some(old)) = (self.packages.get(&replacer), self.packages.get(&replaced)) else {
            return false;
        };
        by.replaces.iter().any(|rel| {
            rel.name == old.name && rel.constraint.as_ref().is_none_or(|c| c.matches(&old.version))
        })
    }

    fn depends_on(&self, dependent: usize, dependency: usize) -> bool {
        let (Some(a), Some(b)) = (self.packages.get(&dependent), self.packages.get(&dependency)) else {
            return false;
        };
        a.depends.contains(&b.name)
    }
}

/// The terms of a `Replaces` field (`a (<< 1.0), b:any`; also read for the names `Depends`
/// lists, every alternative), parsed by the one relation parser
/// (`debian::relation`) and compared in dpkg's version order. The architecture qualifier is
/// ignored (the name alone is matched, as before). A comma group that does not parse grants
/// nothing; the rest of the field still counts.
fn replaces_terms(field: &str) -> Vec<Relation> {
    field
        .split(',')
        .filter_map(|group| relation::parse_relations(group).ok())
        .flatten()
        .flatten()
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_replaces_fields() {
        let r = replaces_terms("a (<< 1.0-1), b:any, c (>= 2)");
        assert_eq!(r.len(), 3);
        assert_eq!(r[0].name, "a");
        assert_eq!(r[0].constraint.as_ref().unwrap().op, relation::RelOp::Lt);
        assert_eq!(r[1].name, "b");
        assert!(r[1].constraint.is_none());
        assert!(replaces_terms("").is_empty());
        // A group that does not parse grants nothing; the others still count.
        let r = replaces_terms("a (<< 1.0, b");
        assert_eq!(r.iter().map(|t| t.name.as_str()).collect::<Vec<_>>(), ["b"]);
    }

    fn replaces_info(name: &str, version: &str, replaces: &str) -> ReplacesInfo {
        ReplacesInfo {
            replaces: replaces_terms(replaces),
            name: name.to_owned(),
            version: version.to_owned(),
            depends: Vec::new(),
        }
    }

    /// Replaces compares in dpkg's order (the resolver's): an empty digit run equals `0`
    /// (`1.0~` vs `1.0~0`), `~` sorts before the end, and the obsolete `<` means `<=`.
    #[test]
    fn replaces_uses_the_dpkg_version_order() {
        let policy = |replaces: &str, old_version: &str| {
            let packages = HashMap::from([
                (0, replaces_info("new", "2", replaces)),
                (1, replaces_info("old", old_version, "")),
            ]);
            ControlReplaces { packages }.replaces(0, 1)
        };
        assert!(policy("old", "9"));
        assert!(policy("old:any (<< 1.0)", "1.0~rc1"));
        assert!(!policy("old (<< 1.0)", "1.0"));
        assert!(policy("old (<= 1.0~0)", "1.0~"), "1.0~ = 1.0~0 in dpkg's order");
        assert!(policy("old (= 1.0~0)", "1.0~"));
        assert!(policy("old (< 1.0)", "1.0"), "the obsolete < is <=");
        assert!(policy("old (>> 1:0)", "2:0"));
        assert!(!policy("other", "1"));
        assert!(!policy("old (>= 3)", "2"));
    }
}
