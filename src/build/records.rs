//! Unpack records: what unpacking one `.deb` told the build besides its file bytes — its control
//! area, its entries (paths mapped, digests), the few small files the configure step reads, and
//! ldconfig's view of its shared libraries — kept in the store by the `.deb`'s SHA-256.
//!
//! With a record, a rebuild whose layer for a package is cached merges and configures the whole
//! image without decoding that package at all; only the packages of layers that must be written
//! again are decoded. A record is a pure function of the `.deb` bytes, the merged-/usr setting,
//! [`UNPACK_FORMAT`] and the debcast executable that wrote it (as the generated layer's cache key
//! is). It is written once, atomically; a record that does not parse, or that another debcast
//! wrote, is ignored and the package decoded instead. Any file the configure step reads that a
//! record did not keep is still read correctly: the package is decoded on demand (see
//! [`crate::assemble::Spools`]).

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use base64::Engine as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::deb::{Control, ControlArchive};
use crate::entry::{Entry, EntryKind};
use crate::hash::Sha256Digest;
use crate::lockfile::LockedPackage;

use crate::assemble::system::ldcache::ElfInfo;
use crate::assemble::tree::{Content, Node, PackageEntries};
use crate::assemble::{PackageFacts, Unpacked, UnpackedPackage};

/// Version of the record format and of what the unpacker keeps (see
/// [`crate::assemble::keep`]); part of the record's path.
pub const UNPACK_FORMAT: u32 = 1;

/// The store's records (`<store>/unpacked/v<N>/`).
#[derive(Debug, Clone)]
pub struct UnpackCache {
    dir: PathBuf,
}

#[derive(Serialize, Deserialize)]
struct Record {
    format: u32,
    /// The debcast that made it (version and executable): what it keeps and how it reads ELF
    /// files are its code, so another build of debcast makes its own records.
    producer: String,
    usrmerge: bool,
    control: Control,
    members: Vec<(String, Bytes)>,
    paths: Vec<String>,
    nodes: Vec<RecordNode>,
}

#[derive(Serialize, Deserialize)]
struct RecordNode {
    entry: Entry,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    digest: Option<Sha256Digest>,
    /// Whether `elf` was looked at (library-named regular files only).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    elf_checked: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    elf: Option<ElfInfo>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    kept: Option<Bytes>,
}

/// Bytes as base64 in JSON.
struct Bytes(Vec<u8>);

impl Serialize for Bytes {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&base64::engine::general_purpose::STANDARD.encode(&self.0))
    }
}

impl<'de> Deserialize<'de> for Bytes {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        base64::engine::general_purpose::STANDARD
            .decode(text)
            .map(Bytes)
            .map_err(serde::de::Error::custom)
    }
}

impl UnpackCache {
    pub fn new(store_root: &Path) -> Self {
        UnpackCache {
            dir: store_root.join("unpacked").join(format!("v{UNPACK_FORMAT}")),
        }
    }

    fn path(&self, deb: &Sha256Digest, usrmerge: bool) -> PathBuf {
        let suffix = if usrmerge { "usrmerge" } else { "plain" };
        self.dir.join(format!("{}-{suffix}.json", deb.hex()))
    }

    /// The record of `locked`'s `.deb`, as package `index` of this build, if there is one that
    /// parses and matches; `None` otherwise (the caller decodes the package).
    pub fn load(&self, index: usize, locked: &LockedPackage, usrmerge: bool) -> Option<Unpacked> {
        let path = self.path(&locked.sha256, usrmerge);
        let tag = remote_tag(&locked.sha256, usrmerge);
        // Else the remote cache's, if there is one (checked below like a local one).
        let bytes = fs::read(&path)
            .ok()
            .or_else(|| crate::remote::pull_file(&tag, &path).then(|| fs::read(&path).ok())?)?;
        let record: Record = match serde_json::from_slice(&bytes) {
            Ok(r) => r,
            Err(e) => {
                tracing::debug!("unpack record of {}: {e}; decoding it instead", locked.label());
                return None;
            }
        };
        if record.format != UNPACK_FORMAT || record.usrmerge != usrmerge || record.producer != producer() {
            return None;
        }
        crate::remote::note_file(tag, &path);
        Some(from_record(index, locked, record))
    }

    /// Stores what unpacking `locked`'s `.deb` gave. Best effort: a failure only means the next
    /// build decodes the package again.
    pub fn save(&self, locked: &LockedPackage, usrmerge: bool, unpacked: &Unpacked) {
        let record = to_record(unpacked, usrmerge);
        let written = (|| -> std::io::Result<()> {
            fs::create_dir_all(&self.dir)?;
            let bytes = serde_json::to_vec(&record).map_err(std::io::Error::other)?;
            crate::store::replace_file(&self.dir, &self.path(&locked.sha256, usrmerge), &bytes, false)
        })();
        match written {
            Ok(()) => crate::remote::note_file(
                remote_tag(&locked.sha256, usrmerge),
                &self.path(&locked.sha256, usrmerge),
            ),
            Err(e) => tracing::debug!("unpack record of {}: not stored ({e})", locked.label()),
        }
    }
}

/// The remote cache's tag for a record (see [`crate::remote`]).
fn remote_tag(deb: &Sha256Digest, usrmerge: bool) -> String {
    let suffix = if usrmerge { "usrmerge" } else { "plain" };
    format!("unpacked-v{UNPACK_FORMAT}-{}-{suffix}", deb.hex())
}

fn producer() -> String {
    format!(
        "debcast {} {}",
        env!("CARGO_PKG_VERSION"),
        super::keys::executable_identity()
    )
}

fn to_record(unpacked: &Unpacked, usrmerge: bool) -> Record {
    let elf: std::collections::HashMap<_, _> = unpacked.facts.elf.iter().map(|(k, v)| (*k, v)).collect();
    let kept: std::collections::HashMap<_, _> = unpacked.facts.kept.iter().map(|(k, v)| (*k, v)).collect();
    let nodes = unpacked
        .entries
        .nodes
        .iter()
        .map(|n| {
            let at = match n.content {
                Content::Spooled { offset, len, .. } => Some((offset, len)),
                _ => None,
            };
            let elf = at.and_then(|at| elf.get(&at));
            let kept = match &n.content {
                Content::Inline(bytes) => Some(Bytes(bytes.to_vec())),
                Content::Spooled { .. } => at.and_then(|at| kept.get(&at)).map(|b| Bytes(b.to_vec())),
                Content::None => None,
            };
            RecordNode {
                entry: n.entry.clone(),
                digest: n.digest,
                elf_checked: elf.is_some(),
                elf: elf.and_then(|e| (*e).clone()),
                kept,
            }
        })
        .collect();
    Record {
        format: UNPACK_FORMAT,
        producer: producer(),
        usrmerge,
        control: unpacked.package.control.control.clone(),
        members: unpacked
            .package
            .control
            .members
            .iter()
            .map(|(k, v)| (k.clone(), Bytes(v.clone())))
            .collect(),
        paths: unpacked.package.paths.clone(),
        nodes,
    }
}

fn from_record(index: usize, locked: &LockedPackage, record: Record) -> Unpacked {
    let mut facts = PackageFacts::default();
    let mut offset = 0u64;
    let nodes = record
        .nodes
        .into_iter()
        .map(|r| {
            let content = match r.entry.kind {
                EntryKind::File { size } => {
                    let at = (offset, size);
                    offset += size;
                    if r.elf_checked {
                        facts.elf.push((at, r.elf));
                    }
                    if let Some(Bytes(b)) = r.kept {
                        facts.kept.push((at, Arc::new(b)));
                    }
                    Content::Spooled {
                        spool: index,
                        offset: at.0,
                        len: at.1,
                    }
                }
                _ => Content::None,
            };
            Node {
                entry: r.entry,
                owner: Some(index),
                content,
                digest: r.digest,
            }
        })
        .collect();
    Unpacked {
        package: UnpackedPackage {
            locked: locked.clone(),
            control: ControlArchive {
                control: record.control,
                members: record.members.into_iter().map(|(k, Bytes(v))| (k, v)).collect(),
            },
            paths: record.paths,
        },
        entries: PackageEntries {
            index,
            label: locked.label(),
            name: locked.name.clone(),
            nodes,
        },
        facts,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::assemble::{AssembleOptions, PackageInput, unpack};
    use debcast_testkit::deb::DebBuilder;

    /// The host's C library: a real shared object with a SONAME.
    fn elf_library() -> Vec<u8> {
        let candidates = [
            "/lib/x86_64-linux-gnu/libc.so.6",
            "/usr/lib/x86_64-linux-gnu/libc.so.6",
            "/lib/aarch64-linux-gnu/libc.so.6",
            "/usr/lib/aarch64-linux-gnu/libc.so.6",
        ];
        candidates
            .iter()
            .find_map(|p| fs::read(p).ok())
            .expect("a glibc shared library on the host")
    }

    #[test]
    fn a_record_gives_back_what_unpacking_gave() {
        let dir = tempfile::tempdir().unwrap();
        let deb = DebBuilder::new("t", "1.0-1", "amd64")
            .file("./etc/t.conf", "setting = 1\n", 0o644)
            .file("./usr/share/doc/t/big", vec![b'x'; 300 << 10], 0o644)
            .file("./usr/lib/x86_64-linux-gnu/libt.so.1", elf_library(), 0o644)
            .symlink("./usr/lib/x86_64-linux-gnu/libt.so", "libt.so.1")
            .write_to(dir.path())
            .unwrap();
        let bytes = fs::read(&deb).unwrap();
        let locked = LockedPackage {
            platform: "linux/amd64".parse().unwrap(),
            name: "t".into(),
            version: "1.0-1".into(),
            architecture: "amd64".into(),
            archive: "debian".into(),
            path: "pool/t.deb".into(),
            size: bytes.len() as u64,
            sha256: Sha256Digest::of(&bytes),
        };
        let input = PackageInput {
            locked: locked.clone(),
            deb,
        };
        let (unpacked, _spool) = unpack(3, &input, AssembleOptions { usrmerge: true }).unwrap();
        // Kept: the small file under etc/, not the big one; looked at: the library.
        assert_eq!(unpacked.facts.kept.len(), 1);
        assert_eq!(unpacked.facts.kept[0].1.as_slice(), b"setting = 1\n");
        assert_eq!(unpacked.facts.elf.len(), 1);
        let lib = elf_library();
        assert_eq!(unpacked.facts.elf[0].0.1, lib.len() as u64);
        assert_eq!(
            unpacked.facts.elf[0].1,
            crate::assemble::system::ldcache::read_elf(&lib)
        );
        assert!(unpacked.facts.elf[0].1.is_some(), "libc.so.6 has a SONAME");

        let cache = UnpackCache::new(dir.path());
        assert!(cache.load(3, &locked, true).is_none());
        cache.save(&locked, true, &unpacked);
        assert!(
            cache.load(3, &locked, false).is_none(),
            "keyed by the merged-/usr setting"
        );
        let back = cache.load(3, &locked, true).unwrap();
        assert_eq!(back.package.control, unpacked.package.control);
        assert_eq!(back.package.paths, unpacked.package.paths);
        let nodes = |u: &Unpacked| {
            u.entries
                .nodes
                .iter()
                .map(|n| (n.entry.clone(), n.owner, n.content.clone(), n.digest))
                .collect::<Vec<_>>()
        };
        assert_eq!(nodes(&back), nodes(&unpacked));
        assert_eq!(back.facts.elf, unpacked.facts.elf);
        assert_eq!(back.facts.kept, unpacked.facts.kept);

        // A damaged record is ignored, never trusted.
        let path = cache.path(&locked.sha256, true);
        fs::write(&path, b"{\"format\": 1, \"usrm").unwrap();
        assert!(cache.load(3, &locked, true).is_none());
    }
}
