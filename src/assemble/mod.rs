//! Assembly: every package of a platform unpacked into one filesystem tree, the way dpkg would have
//! left it (merged /usr, shared directories, Replaces), ready to be written as layers.
//!
//! Each `.deb`'s data is decoded once: entries go into the [`tree::Tree`], regular files' bytes go
//! into a per-package spool file (anonymous, deleted on drop) that the layer writer reads back.
//! What the rest of the build needs besides those bytes is also kept in the store as an
//! [`record`] per `.deb`, so a rebuild decodes only the packages whose layers changed.

pub mod artifacts;
mod configure;
pub mod keep;
mod order;
pub mod system;
pub mod tree;
/// Merged /usr is a rule of the paths a `.deb` (or an artifact) ships: it lives with them.
pub use crate::deb::usrmerge;

use std::collections::HashMap;
use std::fs::File;
use std::io::{self, Read, Seek, Write};
use std::os::unix::fs::FileExt;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use crate::deb::{ControlArchive, Deb, DebError};
use crate::debian::relation::{self, Relation};
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

/// One package, unpacked (or read back from its [`record`]).
#[derive(Debug, Clone)]
pub struct Unpacked {
    pub package: UnpackedPackage,
    pub entries: PackageEntries,
    pub facts: PackageFacts,
}

/// Decodes package `index` into a spool file, for a file of a package this build did not decode
/// (its errors name the package: a damaged store entry, a bad `.deb`).
pub type Decoder = Box<dyn Fn(usize) -> Result<File, Box<dyn std::error::Error + Send + Sync>> + Send + Sync>;

/// The spool files of one platform's packages, filled as packages are decoded (from any thread).
/// A package this build did not decode (its layer and [`record`] came from the store) is decoded
/// on the first read of one of its files, through the decoder, so every read is answered.
pub struct Spools {
    files: Vec<Mutex<Option<Arc<File>>>>,
    labels: Vec<String>,
    decoder: Option<Decoder>,
    decoded_again: Mutex<std::collections::BTreeSet<usize>>,
}

impl Spools {
    /// Empty spools for packages with these labels (`name=version (arch)`, lock order).
    pub fn new(labels: Vec<String>, decoder: Option<Decoder>) -> Self {
        Spools {
            files: labels.iter().map(|_| Mutex::new(None)).collect(),
            labels,
            decoder,
            decoded_again: Mutex::new(std::collections::BTreeSet::new()),
        }
    }

    /// Package `index`'s spool, once decoded.
    pub fn set(&self, index: usize, file: File) {
        if let Some(Ok(mut slot)) = self.files.get(index).map(Mutex::lock) {
            *slot = Some(Arc::new(file));
        }
    }

    /// Drops package `index`'s spool once its layer is written, so a build holds the unpacked
    /// bytes of the packages in flight only, never the whole image (a later read decodes the
    /// package again).
    pub fn release(&self, index: usize) {
        if let Some(Ok(mut slot)) = self.files.get(index).map(Mutex::lock) {
            *slot = None;
        }
    }

    pub fn label(&self, owner: Option<usize>) -> String {
        owner
            .and_then(|i| self.labels.get(i))
            .map_or_else(|| "debcast".into(), Clone::clone)
    }

    fn file(&self, index: usize) -> io::Result<Arc<File>> {
        let slot = self
            .files
            .get(index)
            .ok_or_else(|| io::Error::other(format!("no package #{index} in this build")))?;
        let mut slot = slot.lock().map_err(|_| io::Error::other("a decode failed"))?;
        if let Some(f) = slot.as_ref() {
            return Ok(Arc::clone(f));
        }
        let label = self.label(Some(index));
        let decoder = self
            .decoder
            .as_ref()
            .ok_or_else(|| io::Error::other(format!("{label} was not unpacked")))?;
        tracing::debug!("decoding {label} again for a file the build reads");
        let file = Arc::new(decoder(index).map_err(io::Error::other)?);
        if let Ok(mut again) = self.decoded_again.lock() {
            again.insert(index);
        }
        *slot = Some(Arc::clone(&file));
        Ok(file)
    }

    /// A reader over a node's regular-file content.
    pub fn content<'a>(&'a self, node: &'a Node) -> Box<dyn Read + 'a> {
        match &node.content {
            Content::None => Box::new(io::empty()),
            Content::Inline(bytes) => Box::new(io::Cursor::new(bytes.as_slice())),
            Content::Spooled { spool, offset, len } => match self.file(*spool) {
                Ok(file) => Box::new(SpoolReader {
                    file,
                    pos: *offset,
                    end: offset + len,
                }),
                Err(e) => Box::new(FailingReader(Some(e))),
            },
        }
    }

    /// The packages decoded on demand, for a file the build read.
    pub fn decoded_on_demand(&self) -> Vec<usize> {
        self.decoded_again
            .lock()
            .map(|again| again.iter().copied().collect())
            .unwrap_or_default()
    }
}

/// A reader that fails with the error that kept it from opening.
struct FailingReader(Option<io::Error>);

impl Read for FailingReader {
    fn read(&mut self, _: &mut [u8]) -> io::Result<usize> {
        Err(self.0.take().unwrap_or_else(|| io::Error::other("read failed")))
    }
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

/// Library files bigger than this are not looked at while unpacking (ldconfig's view of them is
/// then read from the spool when needed).
const ELF_FACTS_MAX: u64 = 64 << 20;

/// Unpacks one package: reads its control, then streams its data into a spool file.
pub fn unpack(
    index: usize,
    input: &PackageInput,
    options: AssembleOptions,
) -> Result<(Unpacked, File), AssembleError> {
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
    let mut facts = PackageFacts::default();
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
                        let name = entry.path.rsplit('/').next().unwrap_or_default();
                        let library = system::ldcache::is_library_name(name) && size <= ELF_FACTS_MAX;
                        let keep = keep::keeps(&entry.path, size);
                        let mut copy = Vec::new();
                        let mut hashing = HashingWriter::new(Tee {
                            inner: &mut writer,
                            copy: (library || keep).then_some(&mut copy),
                        });
                        // The deb reader fails on content shorter than the header says.
                        let copied =
                            io::copy(content, &mut hashing).map_err(|source| AssembleError::Spool {
                                package: format!("{} ({})", input.locked.label(), entry.path),
                                source,
                            })?;
                        let (digest, _, _) = hashing.finish();
                        debug_assert_eq!(copied, size);
                        if library {
                            facts.elf.push(((offset, size), system::ldcache::read_elf(&copy)));
                        }
                        if keep {
                            facts.kept.push(((offset, size), Arc::new(copy)));
                        }
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
    let package = UnpackedPackage {
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
    Ok((
        Unpacked {
            package,
            entries,
            facts,
        },
        spool,
    ))
}

/// Writes to `inner`, and to `copy` too when there is one.
struct Tee<'a, W> {
    inner: W,
    copy: Option<&'a mut Vec<u8>>,
}

impl<W: Write> Write for Tee<'_, W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        if let Some(copy) = self.copy.as_mut() {
            copy.extend_from_slice(&buf[..n]);
        }
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
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
    // Largest packages first, so that the last one decoded is a small one and no core idles
    // while another finishes a big package. The result is in lock order whatever the schedule.
    let sizes: Vec<u64> = inputs.iter().map(|i| i.locked.size).collect();
    let spools = Arc::new(Spools::new(
        inputs.iter().map(|i| i.locked.label()).collect(),
        None,
    ));
    let unpacked: Vec<Unpacked> = crate::parallel::largest_first(&sizes, |i| {
        let (u, file) = unpack(i, &inputs[i], options)?;
        spools.set(i, file);
        Ok::<_, AssembleError>(u)
    })
    .into_iter()
    .collect::<Result<_, _>>()?;
    merge(unpacked, options, spools)
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

/// Reads a byte range of a spool file with positioned reads, so many readers can share one file.
struct SpoolReader {
    file: Arc<File>,
    pos: u64,
    end: u64,
}

impl Read for SpoolReader {
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
    /// By package index: what its `Replaces` names, its name and its version.
    packages: HashMap<usize, ReplacesInfo>,
}

struct ReplacesInfo {
    replaces: Vec<Relation>,
    name: String,
    version: String,
}

impl ControlReplaces {
    fn new<'a>(packages: impl Iterator<Item = (usize, &'a UnpackedPackage)>) -> Self {
        let packages = packages
            .map(|(i, p)| {
                let info = ReplacesInfo {
                    replaces: replaces_terms(p.control.control.get("Replaces").unwrap_or_default()),
                    name: p.locked.name.clone(),
                    version: p.locked.version.clone(),
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
}

/// The terms of a `Replaces` field (`a (<< 1.0), b:any`), parsed by the one relation parser
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

    #[test]
    fn spool_reader_reads_ranges() {
        let mut f = tempfile::tempfile().unwrap();
        f.write_all(b"helloworld").unwrap();
        let mut r = SpoolReader {
            file: Arc::new(f),
            pos: 5,
            end: 10,
        };
        let mut s = String::new();
        r.read_to_string(&mut s).unwrap();
        assert_eq!(s, "world");
    }
}
