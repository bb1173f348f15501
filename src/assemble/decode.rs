//! Decoding a package: the one way a build turns a `.deb` of the store into entries and a spool
//! file, whether the schedule asks for it ([`super::schedule`]) or a reader does (a file of a
//! package whose layer came from the layer cache, see [`super::Spools`]).

use std::collections::BTreeSet;
use std::fs::File;
use std::io::{self, Read, Seek, Write};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use crate::deb::{ControlArchive, Deb};
use crate::entry::{Entry, EntryKind};
use crate::hash::{Expected, HashingWriter};
use crate::lockfile::LockedPackage;
use crate::store::{Kind, Store};

use super::tree::{Content, Node, PackageEntries};
use super::{
    AssembleError, AssembleOptions, PackageFacts, Unpacked, UnpackedPackage, keep, system, usrmerge,
};

/// One platform's `.deb` files in the store (package `i` is the lock's `i`-th for the platform),
/// and how each becomes entries. Every decode re-hashes the `.deb` first: the store was verified
/// on insertion, but a store is also something CI caches and people copy around.
pub struct Debs {
    store: Store,
    packages: Vec<LockedPackage>,
    options: AssembleOptions,
    /// The packages decoded so far (once or more).
    decoded: Mutex<BTreeSet<usize>>,
}

impl Debs {
    pub fn new(store: &Store, packages: &[&LockedPackage], options: AssembleOptions) -> Self {
        Debs {
            store: store.clone(),
            packages: packages.iter().map(|p| (*p).clone()).collect(),
            options,
            decoded: Mutex::new(BTreeSet::new()),
        }
    }

    pub fn len(&self) -> usize {
        self.packages.len()
    }

    pub fn is_empty(&self) -> bool {
        self.packages.is_empty()
    }

    pub fn locked(&self) -> &[LockedPackage] {
        &self.packages
    }

    pub fn options(&self) -> AssembleOptions {
        self.options
    }

    /// Every package's label (`name=version (arch)`), by index.
    pub fn labels(&self) -> Vec<String> {
        self.packages.iter().map(LockedPackage::label).collect()
    }

    /// Package `index`'s `.deb`, re-hashed, unpacked: its entries, and its regular files' bytes
    /// in a spool file.
    pub fn decode(&self, index: usize) -> Result<(Unpacked, File), AssembleError> {
        let locked = self
            .packages
            .get(index)
            .ok_or_else(|| AssembleError::Internal(format!("no package #{index} in this build")))?;
        let expected = Expected {
            size: locked.size,
            sha256: locked.sha256,
        };
        let deb = self
            .store
            .verify(Kind::Deb, &expected, &locked.label())
            .map_err(|source| AssembleError::Store {
                package: locked.label(),
                source,
            })?;
        let input = PackageInput {
            locked: locked.clone(),
            deb,
        };
        let unpacked = unpack(index, &input, self.options)?;
        if let Ok(mut decoded) = self.decoded.lock() {
            decoded.insert(index);
        }
        Ok(unpacked)
    }

    /// How many packages were decoded so far (once or more).
    pub fn decoded(&self) -> usize {
        self.decoded.lock().map(|d| d.len()).unwrap_or_default()
    }
}

/// A locked package and where its verified `.deb` is.
#[derive(Debug, Clone)]
pub struct PackageInput {
    pub locked: LockedPackage,
    pub deb: PathBuf,
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
