//! Unpacking `[[artifact]]`s — tar archives in any of dpkg's compressions, zip archives, single
//! files — into image entries under their `dest`, with the same hostile-entry rules as a `.deb`'s
//! data tar: `..` and absolute paths, links that climb out of the root, hard links to anything
//! but an earlier file, device nodes and decompression bombs are refused with an error naming
//! the artifact and the entry. Nothing is created on the host but one anonymous spool file.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{self, BufReader, Read, Seek, SeekFrom, Write};
use std::path::Path;

use crate::deb::{self, Compression, DebError, usrmerge};
use crate::entry::{Entry, EntryKind};
use crate::lockfile::LockedArtifact;
use crate::manifest::{Artifact, ArtifactFormat};

/// The least an artifact's files may expand to, whatever its compressed size.
const MIN_EXPANSION_CAP: u64 = 256 << 20;
/// How many times its compressed size an artifact's files may expand to (a Go toolchain is ~4x).
const EXPANSION_RATIO: u64 = 20;
/// The most any artifact's files may total.
const MAX_EXPANSION_CAP: u64 = 16 << 30;

#[derive(Debug, thiserror::Error)]
pub enum ArtifactError {
    /// A tar stream's entry or framing (the `.deb` reader's own checks).
    #[error("{0}")]
    Tar(#[from] DebError),
    #[error("{artifact}: entry {entry:?}: {what}")]
    Entry {
        artifact: String,
        entry: String,
        what: String,
    },
    #[error("{artifact}: {what}")]
    Archive { artifact: String, what: String },
    #[error("{artifact}: {what}: {source}")]
    Io {
        artifact: String,
        what: String,
        source: io::Error,
    },
    #[error(
        "{artifact}: its files expand beyond {limit} bytes ({what}); refusing a possible decompression bomb"
    )]
    TooLarge {
        artifact: String,
        what: String,
        limit: u64,
    },
}

/// Where an entry's bytes are in the spool.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Span {
    pub offset: u64,
    pub len: u64,
}

/// An artifact's entries at their image paths (normalised, merged-/usr applied), sorted, with
/// their bytes in an anonymous spool file.
#[derive(Debug)]
pub struct UnpackedArtifact {
    /// `artifact `go` for linux/amd64`, for messages.
    pub label: String,
    pub entries: BTreeMap<String, (Entry, Option<Span>)>,
    spool: File,
}

impl UnpackedArtifact {
    /// A reader over one entry's bytes.
    pub fn content(&self, span: Option<Span>) -> io::Result<Box<dyn Read + '_>> {
        match span {
            None => Ok(Box::new(io::empty())),
            Some(s) => {
                let mut f = &self.spool;
                f.seek(SeekFrom::Start(s.offset))?;
                Ok(Box::new(f.take(s.len)))
            }
        }
    }
}

/// Unpacks the verified artifact file `file` as `artifact` says (format, strip-components, dest,
/// owner), for an image with or without merged /usr.
pub fn unpack(
    artifact: &Artifact,
    format: ArtifactFormat,
    locked: &LockedArtifact,
    file: &Path,
    usrmerge: bool,
) -> Result<UnpackedArtifact, ArtifactError> {
    let label = locked.label();
    let io_err = |what: &str| {
        let artifact = label.clone();
        let what = format!("{what} {}", file.display());
        move |source| ArtifactError::Io {
            artifact,
            what,
            source,
        }
    };
    let spool = tempfile::tempfile().map_err(|e| ArtifactError::Io {
        artifact: label.clone(),
        what: spool_what(&format!("creating a spool file for {}", file.display()), &e),
        source: e,
    })?;
    let compressed = std::fs::metadata(file).map_or(0, |m| m.len());
    let cap = compressed
        .saturating_mul(EXPANSION_RATIO)
        .clamp(MIN_EXPANSION_CAP, MAX_EXPANSION_CAP);
    let mut out = Builder {
        artifact,
        label: label.clone(),
        dest: artifact.dest.trim_matches('/').to_owned(),
        usrmerge,
        entries: BTreeMap::new(),
        mapped: BTreeMap::new(),
        spool,
        spooled: 0,
    };
    let member = locked.url.rsplit('/').next().unwrap_or(&locked.url).to_owned();
    let input = File::open(file).map_err(io_err("opening"))?;
    match format {
        ArtifactFormat::File => out.single_file(input)?,
        ArtifactFormat::Zip => out.zip(input, cap)?,
        tar => {
            let compression = match tar {
                ArtifactFormat::TarGz => Compression::Gzip,
                ArtifactFormat::TarXz => Compression::Xz,
                ArtifactFormat::TarZst => Compression::Zstd,
                ArtifactFormat::TarBz2 => Compression::Bzip2,
                _ => Compression::None,
            };
            deb::visit_tar::<ArtifactError>(
                input,
                compression,
                &label,
                &member,
                cap,
                &mut |entry, content| out.add(entry.clone(), content),
            )?;
        }
    }
    out.spool.flush().map_err(io_err("writing the spool of"))?;
    Ok(UnpackedArtifact {
        label,
        entries: out.entries,
        spool: out.spool,
    })
}

struct Builder<'a> {
    artifact: &'a Artifact,
    label: String,
    /// `dest` without its slashes (`usr/local`).
    dest: String,
    usrmerge: bool,
    entries: BTreeMap<String, (Entry, Option<Span>)>,
    /// Archive path -> image path, for hard links.
    mapped: BTreeMap<String, Option<String>>,
    spool: File,
    spooled: u64,
}

impl Builder<'_> {
    fn entry_err(&self, entry: &str, what: impl Into<String>) -> ArtifactError {
        ArtifactError::Entry {
            artifact: self.label.clone(),
            entry: entry.to_owned(),
            what: what.into(),
        }
    }

    /// The image path of an archive path: `strip-components` leading components dropped (`None`
    /// when nothing is left), under `dest`, merged /usr applied.
    fn image_path(&self, archive_path: &str) -> Option<String> {
        let rest: Vec<&str> = archive_path
            .split('/')
            .skip(self.artifact.strip_components)
            .collect();
        if rest.is_empty() {
            return None;
        }
        let kept = self.artifact.include.is_empty()
            || self.artifact.include.iter().any(|inc| {
                let inc: Vec<&str> = inc.trim_end_matches('/').split('/').collect();
                // The path itself, what is below it, or a directory above it (kept only if
                // something below is: parents are added where needed anyway).
                rest.starts_with(&inc)
            });
        if !kept {
            return None;
        }
        let joined = format!("{}/{}", self.dest, rest.join("/"));
        Some(if self.usrmerge {
            usrmerge::map_path(&joined).into_owned()
        } else {
            joined
        })
    }

    /// Adds one entry of the archive (path relative to its root, already checked).
    fn add(&mut self, mut entry: Entry, content: &mut dyn Read) -> Result<(), ArtifactError> {
        let raw = entry.path.clone();
        let Some(path) = self.image_path(&raw) else {
            self.mapped.insert(raw, None);
            return Ok(());
        };
        match &mut entry.kind {
            EntryKind::Symlink { target } => {
                deb::check_link_target(&path, target).map_err(|why| self.entry_err(&raw, why))?;
            }
            EntryKind::Hardlink { target } => {
                let mapped = self
                    .mapped
                    .get(target.as_str())
                    .cloned()
                    .flatten()
                    .ok_or_else(|| {
                        self.entry_err(
                            &raw,
                            format!("hard link to {target:?}, which strip-components removes"),
                        )
                    })?;
                *target = mapped;
            }
            EntryKind::CharDevice { .. } | EntryKind::BlockDevice { .. } => {
                return Err(self.entry_err(&raw, "device nodes are not allowed in artifacts"));
            }
            _ => {}
        }
        entry.path = path.clone();
        entry.mode &= 0o7777;
        entry.uid = self.artifact.uid.unwrap_or(0);
        entry.gid = self.artifact.gid.unwrap_or(0);
        // Owners by number; names only for root, which every image has.
        entry.uname = if entry.uid == 0 {
            "root".into()
        } else {
            String::new()
        };
        entry.gname = if entry.gid == 0 {
            "root".into()
        } else {
            String::new()
        };
        let span = match entry.kind {
            EntryKind::File { size } => Some(self.spool_content(&raw, size, content)?),
            _ => None,
        };
        self.mapped.insert(raw, Some(path.clone()));
        // A later entry at the same path replaces an earlier one, as extracting the archive would.
        self.entries.insert(path, (entry, span));
        Ok(())
    }

    fn spool_content(&mut self, raw: &str, size: u64, content: &mut dyn Read) -> Result<Span, ArtifactError> {
        let offset = self.spooled;
        let copied = io::copy(&mut content.take(size), &mut self.spool).map_err(|e| ArtifactError::Io {
            artifact: self.label.clone(),
            what: spool_what(&format!("reading entry {raw:?}"), &e),
            source: e,
        })?;
        if copied != size {
            return Err(self.entry_err(raw, format!("truncated: {copied} of {size} bytes of content")));
        }
        self.spooled += size;
        Ok(Span { offset, len: size })
    }

    /// `format = "file"`: the whole artifact at `dest`, with the manifest's mode.
    fn single_file(&mut self, mut input: File) -> Result<(), ArtifactError> {
        let size = input
            .metadata()
            .map_err(|source| ArtifactError::Io {
                artifact: self.label.clone(),
                what: "reading the artifact".into(),
                source,
            })?
            .len();
        let path = if self.usrmerge {
            usrmerge::map_path(&self.dest).into_owned()
        } else {
            self.dest.clone()
        };
        let span = self.spool_content(&path, size, &mut input)?;
        let mut entry = Entry::generated(path.clone(), EntryKind::File { size }, self.artifact.file_mode());
        entry.uid = self.artifact.uid.unwrap_or(0);
        entry.gid = self.artifact.gid.unwrap_or(0);
        self.entries.insert(path, (entry, Some(span)));
        Ok(())
    }

    fn zip(&mut self, input: File, cap: u64) -> Result<(), ArtifactError> {
        let label = self.label.clone();
        let archive_err = |what: String| ArtifactError::Archive {
            artifact: label.clone(),
            what,
        };
        let mut zip = zip::ZipArchive::new(BufReader::new(input))
            .map_err(|e| archive_err(format!("not a readable zip archive: {e}")))?;
        let mut total: u64 = 0;
        for i in 0..zip.len() {
            let mut file = zip
                .by_index(i)
                .map_err(|e| archive_err(format!("zip entry #{i}: {e}")))?;
            let raw_name = String::from_utf8_lossy(file.name_raw()).into_owned();
            let (path, is_root) = deb::check_archive_path(file.name_raw())
                .map_err(|why| self.entry_err(&raw_name, format!("path {why}")))?;
            if is_root {
                continue;
            }
            let unix = file.unix_mode();
            let file_type = unix.map(|m| m & 0o170_000);
            let is_dir = file.is_dir() || file_type == Some(0o040_000);
            let is_link = file_type == Some(0o120_000);
            if matches!(file_type, Some(t) if ![0, 0o040_000, 0o100_000, 0o120_000].contains(&t)) {
                return Err(self.entry_err(&raw_name, "not a file, directory or symbolic link"));
            }
            let default_mode = if is_dir { 0o755 } else { 0o644 };
            let mode = unix.map_or(default_mode, |m| m & 0o7777);
            // DOS timestamps are local time of unknown zone: the build's SOURCE_DATE_EPOCH stands in.
            let mut entry = Entry {
                mtime: u64::MAX,
                ..Entry::generated(path, EntryKind::Directory, mode)
            };
            if is_dir {
                self.add(entry, &mut io::empty())?;
                continue;
            }
            let size = file.size();
            total = total.saturating_add(size);
            if total > cap {
                return Err(ArtifactError::TooLarge {
                    artifact: self.label.clone(),
                    what: format!("entry {raw_name:?} ({size} bytes) takes its files to {total} bytes"),
                    limit: cap,
                });
            }
            if is_link {
                let mut target = String::new();
                (&mut file)
                    .take(4096)
                    .read_to_string(&mut target)
                    .map_err(|e| self.entry_err(&raw_name, format!("unreadable link target: {e}")))?;
                if target.is_empty() || target.contains('\0') {
                    return Err(self.entry_err(&raw_name, "symbolic link with an empty or NUL target"));
                }
                entry.kind = EntryKind::Symlink { target };
                self.add(entry, &mut io::empty())?;
            } else {
                entry.kind = EntryKind::File { size };
                let mut content = (&mut file).take(size.saturating_add(1));
                self.add(entry, &mut content)?;
                // Read to the end (also what an `include` left out): the zip reader checks the
                // entry's CRC-32 there, and a byte past the declared size is a lie.
                io::copy(&mut content, &mut io::sink())
                    .map_err(|e| self.entry_err(&raw_name, e.to_string()))?;
                if content.limit() == 0 {
                    return Err(self.entry_err(&raw_name, "more content than its declared size"));
                }
            }
        }
        Ok(())
    }
}

/// What failed around the spool file (in TMPDIR): a full disk there names the directory and
/// what to do, since the error itself names no path.
fn spool_what(what: &str, e: &io::Error) -> String {
    if matches!(
        e.kind(),
        io::ErrorKind::StorageFull | io::ErrorKind::QuotaExceeded
    ) {
        format!(
            "{what}: no space left for the spool file in the temporary directory {} (TMPDIR): free space there, or point TMPDIR at another file system",
            std::env::temp_dir().display()
        )
    } else {
        what.to_owned()
    }
}
