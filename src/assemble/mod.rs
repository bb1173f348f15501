//! Assembly: every package of a platform unpacked into one filesystem tree, the way dpkg would have
//! left it (merged /usr, shared directories, Replaces), ready to be written as layers.
//!
//! Each `.deb`'s data is decoded once: entries go into the [`tree::Tree`], regular files' bytes go
//! into a per-package spool file (anonymous, deleted on drop) that the layer writer reads back.

mod configure;
mod order;
pub mod system;
pub mod tree;
pub mod usrmerge;

use std::fs::File;
use std::io::{self, Read, Seek, Write};
use std::os::unix::fs::FileExt;
use std::path::PathBuf;
use std::str::FromStr;

use crate::deb::{ControlArchive, Deb, DebError};
use crate::entry::{Entry, EntryKind};
use crate::hash::HashingWriter;
use crate::lockfile::LockedPackage;

pub use configure::configure_order;
pub use order::View;
pub use tree::{Content, Node, PackageEntries, ReplacesPolicy, Tree};

#[derive(Debug, thiserror::Error)]
pub enum AssembleError {
    #[error("{0}")]
    Deb(#[from] DebError),
    #[error(
        "/{path} is shipped by both {first} and {second} ({why}); add one of them to [packages] exclude or pin versions that agree"
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
    #[error("{package}: control field `{field}` is `{value}`, but the lockfile says `{expected}`")]
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
    #[error("configuring the image: {0}")]
    System(#[from] system::SystemError),
    #[error("spool file for {package}: {source}")]
    Spool { package: String, source: io::Error },
}

/// A locked package and where its verified `.deb` is.
#[derive(Debug, Clone)]
pub struct PackageInput {
    pub locked: LockedPackage,
    pub deb: PathBuf,
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

/// The assembled image filesystem of one platform.
pub struct Assembled {
    pub tree: Tree,
    pub packages: Vec<UnpackedPackage>,
    spools: Vec<File>,
}

#[derive(Debug, Clone, Copy)]
pub struct AssembleOptions {
    pub usrmerge: bool,
}

/// Unpacks one package: reads its control, then streams its data into a spool file.
pub fn unpack(
    index: usize,
    input: &PackageInput,
    options: AssembleOptions,
) -> Result<(UnpackedPackage, PackageEntries, File), AssembleError> {
    let label = format!("{} at {}", input.locked.label(), input.deb.display());
    let mut deb = Deb::open(&input.deb, label.clone())?;
    let control = deb.control_archive().clone();
    check_control(&input.locked, &control)?;
    let spool_err = |source| AssembleError::Spool {
        package: input.locked.label(),
        source,
    };
    let mut spool = tempfile::tempfile().map_err(spool_err)?;
    let mut offset = 0u64;
    let mut nodes = Vec::new();
    let mut paths = Vec::new();
    {
        let mut writer = io::BufWriter::with_capacity(1 << 20, &mut spool);
        deb.visit_data(
            |entry: &Entry, content: &mut dyn Read| -> Result<(), AssembleError> {
                // dpkg records paths as packaged (`bin/sh`), even where merged /usr puts them.
                paths.push(entry.path.clone());
                let mut entry = entry.clone();
                if options.usrmerge {
                    entry.path = usrmerge::map_path(&entry.path).into_owned();
                    if let EntryKind::Hardlink { target } = &entry.kind {
                        entry.kind = EntryKind::Hardlink {
                            target: usrmerge::map_path(target).into_owned(),
                        };
                    }
                }
                let (content, digest) = match entry.kind {
                    EntryKind::File { size } => {
                        let mut hashing = HashingWriter::new(&mut writer);
                        // The deb reader fails on content shorter than the header says.
                        let copied =
                            io::copy(content, &mut hashing).map_err(|source| AssembleError::Spool {
                                package: format!("{} ({})", input.locked.label(), entry.path),
                                source,
                            })?;
                        let (digest, _, _) = hashing.finish();
                        debug_assert_eq!(copied, size);
                        let c = Content::Spooled {
                            spool: index,
                            offset,
                            len: size,
                        };
                        offset += size;
                        (c, Some(digest))
                    }
                    _ => (Content::None, None),
                };
                nodes.push(Node {
                    entry,
                    owner: Some(index),
                    content,
                    digest,
                });
                Ok(())
            },
        )?;
        writer.flush().map_err(spool_err)?;
    }
    spool.rewind().map_err(spool_err)?;
    let unpacked = UnpackedPackage {
        locked: input.locked.clone(),
        control,
        paths,
    };
    let entries = PackageEntries {
        index,
        label: input.locked.label(),
        name: input.locked.name.clone(),
        nodes,
    };
    Ok((unpacked, entries, spool))
}

/// The `.deb` must be the package the lock says it is (the hash already matched, so this only
/// catches a lockfile edited by hand or an archive whose index lies about its contents).
fn check_control(locked: &LockedPackage, control: &ControlArchive) -> Result<(), AssembleError> {
    let fields = [
        ("Package", locked.name.as_str()),
        ("Version", locked.version.as_str()),
        ("Architecture", locked.architecture.as_str()),
    ];
    for (field, expected) in fields {
        let value = control.control.get(field).unwrap_or_default().trim();
        if value != expected {
            return Err(AssembleError::ControlMismatch {
                package: locked.label(),
                field,
                value: value.to_owned(),
                expected: expected.to_owned(),
            });
        }
    }
    Ok(())
}

/// Unpacks every package (in parallel) and merges them in lock order.
pub fn assemble(inputs: &[PackageInput], options: AssembleOptions) -> Result<Assembled, AssembleError> {
    assemble_inner(inputs, options, false).map(|(a, _)| a)
}

/// As [`assemble`], and also hands back each package's own entries (in lock order), from which
/// a layered image builds one tree per layer.
pub fn assemble_keeping_entries(
    inputs: &[PackageInput],
    options: AssembleOptions,
) -> Result<(Assembled, Vec<PackageEntries>), AssembleError> {
    assemble_inner(inputs, options, true)
}

fn assemble_inner(
    inputs: &[PackageInput],
    options: AssembleOptions,
    keep_entries: bool,
) -> Result<(Assembled, Vec<PackageEntries>), AssembleError> {
    // Largest packages first, so that the last one decoded is a small one and no core idles
    // while another finishes a big package. The result is in lock order whatever the schedule.
    let sizes: Vec<u64> = inputs.iter().map(|i| i.locked.size).collect();
    let unpacked: Vec<(UnpackedPackage, PackageEntries, File)> =
        crate::parallel::largest_first(&sizes, |i| unpack(i, &inputs[i], options))
            .into_iter()
            .collect::<Result<_, _>>()?;
    let labels: Vec<String> = inputs.iter().map(|i| i.locked.label()).collect();
    let mut packages = Vec::with_capacity(unpacked.len());
    let mut spools = Vec::with_capacity(unpacked.len());
    let mut all_entries = Vec::with_capacity(unpacked.len());
    for (u, e, s) in unpacked {
        packages.push(u);
        all_entries.push(e);
        spools.push(s);
    }
    let policy = ControlReplaces::new(&packages);
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
    let mut kept = Vec::new();
    for entries in all_entries {
        if keep_entries {
            kept.push(entries.clone());
        }
        tree.add_package(entries, &labels, &policy)?;
    }
    Ok((
        Assembled {
            tree,
            packages,
            spools,
        },
        kept,
    ))
}

impl Assembled {
    /// The tree the given packages alone make, merged in lock order with the same rules as the
    /// whole image (shared directories, `Replaces`), implicit parents stamped with
    /// `source_date_epoch`. A pure function of those packages: it is what one layer holds.
    pub fn package_group_tree(
        &self,
        entries: Vec<PackageEntries>,
        source_date_epoch: u64,
    ) -> Result<Tree, AssembleError> {
        let labels: Vec<String> = self.packages.iter().map(|p| p.locked.label()).collect();
        let policy = ControlReplaces::new(&self.packages);
        let mut tree = Tree::new();
        for e in entries {
            tree.add_package(e, &labels, &policy)?;
        }
        tree.stamp_generated(source_date_epoch);
        Ok(tree)
    }

    /// A reader over a node's regular-file content.
    pub fn content<'a>(&'a self, node: &'a Node) -> Box<dyn Read + 'a> {
        match &node.content {
            Content::None => Box::new(io::empty()),
            Content::Inline(bytes) => Box::new(io::Cursor::new(bytes.as_slice())),
            Content::Spooled { spool, offset, len } => match self.spools.get(*spool) {
                Some(file) => Box::new(SpoolReader {
                    file,
                    pos: *offset,
                    end: offset + len,
                }),
                None => Box::new(io::empty()),
            },
        }
    }

    /// Reads a whole regular file of the tree (for the system emulations).
    pub fn read(&self, path: &str) -> Option<io::Result<Vec<u8>>> {
        let node = self.tree.get(path)?;
        if !matches!(node.entry.kind, EntryKind::File { .. }) {
            return None;
        }
        let mut out = Vec::new();
        Some(self.content(node).read_to_end(&mut out).map(|_| out))
    }

    pub fn put_generated(&mut self, entry: Entry, bytes: Option<Vec<u8>>) -> Result<(), AssembleError> {
        self.tree.put_generated(entry, bytes)
    }
}

/// Reads a byte range of a spool file with positioned reads, so many readers can share one file.
struct SpoolReader<'a> {
    file: &'a File,
    pos: u64,
    end: u64,
}

impl Read for SpoolReader<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let left = self.end.saturating_sub(self.pos);
        if left == 0 {
            return Ok(0);
        }
        let want = buf.len().min(usize::try_from(left).unwrap_or(usize::MAX));
        let n = self.file.read_at(&mut buf[..want], self.pos)?;
        if n == 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "spool file is shorter than recorded",
            ));
        }
        self.pos += n as u64;
        Ok(n)
    }
}

/// `Replaces` as dpkg applies it: package A may take over package B's files when A's `Replaces`
/// names B (with a version relation B's version satisfies).
struct ControlReplaces {
    /// Per package: what its `Replaces` names.
    replaces: Vec<Vec<SimpleRelation>>,
    names: Vec<String>,
    versions: Vec<Option<debversion::Version>>,
}

impl ControlReplaces {
    fn new(packages: &[UnpackedPackage]) -> Self {
        let replaces = packages
            .iter()
            .map(|p| parse_simple_relations(p.control.control.get("Replaces").unwrap_or_default()))
            .collect();
        ControlReplaces {
            replaces,
            names: packages.iter().map(|p| p.locked.name.clone()).collect(),
            versions: packages
                .iter()
                .map(|p| debversion::Version::from_str(&p.locked.version).ok())
                .collect(),
        }
    }
}

impl ReplacesPolicy for ControlReplaces {
    fn replaces(&self, replacer: usize, replaced: usize) -> bool {
        let (Some(rels), Some(name)) = (self.replaces.get(replacer), self.names.get(replaced)) else {
            return false;
        };
        rels.iter().any(|(n, rel)| {
            n == name
                && match (rel, self.versions.get(replaced).and_then(Option::as_ref)) {
                    (None, _) => true,
                    (Some((op, want)), Some(have)) => match op.as_str() {
                        "<<" | "<" => have < want,
                        "<=" => have <= want,
                        "=" => have == want,
                        ">=" | ">" => have >= want,
                        ">>" => have > want,
                        _ => false,
                    },
                    (Some(_), None) => false,
                }
        })
    }
}

/// A package name with an optional version relation (`<<`, `>=`, …).
type SimpleRelation = (String, Option<(String, debversion::Version)>);

/// Parses a `Replaces`-style field (`a (<< 1.0), b:any`) into names and optional relations.
fn parse_simple_relations(field: &str) -> Vec<SimpleRelation> {
    field
        .split(',')
        .filter_map(|item| {
            let item = item.trim();
            if item.is_empty() {
                return None;
            }
            let (name_part, rel) = match item.split_once('(') {
                Some((n, r)) => (n.trim(), Some(r.trim_end_matches(')').trim())),
                None => (item, None),
            };
            let name = name_part.split(':').next().unwrap_or(name_part).trim().to_owned();
            let rel = rel.and_then(|r| {
                let op_len = r.find(|c: char| !matches!(c, '<' | '>' | '=')).unwrap_or(r.len());
                let (op, ver) = r.split_at(op_len);
                debversion::Version::from_str(ver.trim())
                    .ok()
                    .map(|v| (op.to_owned(), v))
            });
            Some((name, rel))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_replaces_fields() {
        let r = parse_simple_relations("a (<< 1.0-1), b:any, c (>= 2)");
        assert_eq!(r.len(), 3);
        assert_eq!(r[0].0, "a");
        assert_eq!(r[0].1.as_ref().unwrap().0, "<<");
        assert_eq!(r[1].0, "b");
        assert!(r[1].1.is_none());
        assert!(parse_simple_relations("").is_empty());
    }

    #[test]
    fn spool_reader_reads_ranges() {
        let mut f = tempfile::tempfile().unwrap();
        f.write_all(b"helloworld").unwrap();
        let mut r = SpoolReader {
            file: &f,
            pos: 5,
            end: 10,
        };
        let mut s = String::new();
        r.read_to_string(&mut s).unwrap();
        assert_eq!(s, "world");
    }
}
