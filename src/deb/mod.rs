//! Reading `.deb` files: the ar container, the control area and a streaming walk over the data
//! tar, yielding [`Entry`] values.
//!
//! [`Deb::open`] reads the ar headers and the (small) control member; [`Deb::visit_data`] then
//! seeks to the data member and streams it, so control-then-data is one pass over the file.
//! Nothing is ever created on the host: entries are handed to a callback.
//!
//! Hostile content is an error that names the package (a caller-given label), the member and
//! the entry: `..` or absolute paths, symlinks that climb out of the root, hard links to
//! anything but an earlier file, device nodes, and decompression bombs (caps on the control area
//! and on data derived from `Installed-Size`).

mod ar;
mod compression;
mod control;
mod data;
pub mod usrmerge;

#[cfg(test)]
mod tests;

use std::fs::File;
use std::io::{self, BufReader, Read, Seek, SeekFrom};
use std::path::Path;

pub use compression::Compression;
pub use control::{Control, ControlArchive, ControlParseError};

use crate::entry::Entry;
use compression::{Capped, TarMember, cap_exceeded};

/// The most the control area may decompress to; real ones are kilobytes.
pub const CONTROL_CAP: u64 = 64 << 20;
/// The least the data member's regular files may total, whatever `Installed-Size` says.
pub const MIN_DATA_CAP: u64 = 64 << 20;
/// `debian-binary` is a few bytes; more is not a `.deb`.
const MAX_DEBIAN_BINARY: u64 = 1024;

/// Errors reading a `.deb`. `deb` is the caller's label for the package (e.g.
/// `bash=5.2.15-2+b7 (amd64) at vendor/debs/sha256/….deb`).
#[derive(Debug, thiserror::Error)]
pub enum DebError {
    #[error("{deb}: reading {what}: {source}")]
    Io {
        deb: String,
        what: String,
        source: io::Error,
    },
    #[error("{deb}: not a Debian package: expected an ar archive starting with `!<arch>\\n`")]
    NotAr { deb: String },
    #[error("{deb}: malformed ar archive at byte {offset}: {what}")]
    Ar { deb: String, offset: u64, what: String },
    #[error("{deb}: debian-binary holds {found:?}, expected format version 2.x")]
    FormatVersion { deb: String, found: String },
    /// Members missing, out of order, unknown or with an unsupported compression.
    #[error("{deb}: {what}")]
    Layout { deb: String, what: String },
    /// A member's stream is corrupt or truncated (decompression or tar framing).
    #[error("{deb}: {member}: {what}")]
    Corrupt {
        deb: String,
        member: String,
        what: String,
    },
    /// A member expands beyond its cap.
    #[error("{deb}: {member}: {what} (limit {limit} bytes); refusing a possible decompression bomb")]
    TooLarge {
        deb: String,
        member: String,
        what: String,
        limit: u64,
    },
    /// One entry is malformed or hostile.
    #[error("{deb}: {member}: entry {}: {what}", crate::text::quoted(.entry))]
    Entry {
        deb: String,
        member: String,
        entry: String,
        what: String,
    },
    #[error("{deb}: {member}: control file{}: {what}", line_suffix(*.line))]
    Control {
        deb: String,
        member: String,
        line: usize,
        what: String,
    },
}

fn line_suffix(line: usize) -> String {
    if line == 0 {
        String::new()
    } else {
        format!(", line {line}")
    }
}

/// Where the data member lies and how it is compressed.
#[derive(Debug, Clone)]
struct DataMember {
    name: String,
    offset: u64,
    size: u64,
    compression: Compression,
}

/// An opened `.deb`: ar members located, control area read, data member ready to stream.
pub struct Deb<R = File> {
    reader: R,
    label: String,
    control: ControlArchive,
    data: DataMember,
    data_cap: u64,
}

impl<R> std::fmt::Debug for Deb<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Deb")
            .field("label", &self.label)
            .field("control", &self.control.control)
            .field("data", &self.data)
            .field("data_cap", &self.data_cap)
            .finish_non_exhaustive()
    }
}

impl Deb<File> {
    /// Opens the file at `path`; `label` names the package in every error.
    pub fn open(path: &Path, label: impl Into<String>) -> Result<Self, DebError> {
        let label = label.into();
        let file = File::open(path).map_err(|source| DebError::Io {
            deb: label.clone(),
            what: format!("{}", path.display()),
            source,
        })?;
        Deb::from_reader(file, label)
    }
}

/// Reads only the control area of the `.deb` at `path`.
pub fn read_control_only(path: &Path, label: impl Into<String>) -> Result<ControlArchive, DebError> {
    Deb::open(path, label).map(Deb::into_control)
}

impl<R: Read + Seek> Deb<R> {
    /// Reads the ar layout and the control area from any seekable reader (a file, a cursor over
    /// bytes). Follows dpkg's rules: `debian-binary` first (format 2.x), then `control.tar*`,
    /// then `data.tar*`; members whose names start with `_` are skipped; anything after the data
    /// member is not read.
    pub fn from_reader(mut reader: R, label: impl Into<String>) -> Result<Self, DebError> {
        let deb = label.into();
        let layout = |what: String| DebError::Layout {
            deb: deb.clone(),
            what,
        };
        let mut walker = ar::ArWalker::new(&mut reader, &deb)?;
        let first = walker.next_member(&mut reader, &deb)?.ok_or_else(|| {
            layout("empty ar archive: expected members debian-binary, control.tar*, data.tar*".into())
        })?;
        if first.name != "debian-binary" {
            return Err(layout(format!(
                "first member is {:?}, expected debian-binary",
                first.name
            )));
        }
        check_debian_binary(&mut reader, &first, &deb)?;

        let mut control: Option<ControlArchive> = None;
        let data = loop {
            let Some(m) = walker.next_member(&mut reader, &deb)? else {
                let missing = if control.is_some() {
                    "data.tar*"
                } else {
                    "control.tar*"
                };
                return Err(layout(format!("no {missing} member: the archive ends early")));
            };
            if m.name.starts_with('_') {
                continue;
            }
            match compression::Compression::classify(&m.name) {
                Some((_, Err(suffix))) => {
                    return Err(layout(format!(
                        "member {:?} has an unsupported compression suffix {suffix:?}",
                        m.name
                    )));
                }
                Some((TarMember::Control, Ok(c))) => {
                    if control.is_some() {
                        return Err(layout(format!("second control member {:?}", m.name)));
                    }
                    control = Some(read_control(&mut reader, &m, c, &deb)?);
                }
                Some((TarMember::Data, Ok(c))) => {
                    if control.is_none() {
                        return Err(layout(format!(
                            "data member {:?} comes before any control.tar* member",
                            m.name
                        )));
                    }
                    break DataMember {
                        name: m.name,
                        offset: m.offset,
                        size: m.size,
                        compression: c,
                    };
                }
                None => {
                    return Err(layout(format!(
                        "unexpected member {:?} before the data member (only names starting with `_` may be added)",
                        m.name
                    )));
                }
            }
        };
        let Some(control) = control else {
            return Err(layout("no control.tar* member".into()));
        };
        let data_cap = control
            .control
            .installed_size()
            .map_or(0, |kib| kib.saturating_mul(2 * 1024))
            .max(MIN_DATA_CAP);
        Ok(Deb {
            reader,
            label: deb,
            control,
            data,
            data_cap,
        })
    }

    /// The label errors use.
    pub fn label(&self) -> &str {
        &self.label
    }

    pub fn control(&self) -> &Control {
        &self.control.control
    }

    pub fn control_archive(&self) -> &ControlArchive {
        &self.control
    }

    pub fn into_control(self) -> ControlArchive {
        self.control
    }

    /// The data member's name (`data.tar.xz`, …) and compression.
    pub fn data_member(&self) -> (&str, Compression) {
        (&self.data.name, self.data.compression)
    }

    /// The most the data member's regular files may total: `max(2 × Installed-Size, 64 MiB)`.
    pub fn data_cap(&self) -> u64 {
        self.data_cap
    }

    /// Overrides the data cap (for callers that know better, and tests).
    pub fn set_data_cap(&mut self, cap: u64) {
        self.data_cap = cap;
    }

    /// Streams the data tar: calls `f` for each entry in archive order with a reader over its
    /// content (an empty reader for anything but regular files). The root entry `./` is skipped.
    /// The callback need not read the content; what it leaves is skipped. Errors from reading
    /// the content inside the callback name the package, member and entry.
    ///
    /// Returns the callback's first error as is, or a [`DebError`] converted into `E`.
    pub fn visit_data<E: From<DebError>>(
        &mut self,
        mut f: impl FnMut(&Entry, &mut dyn Read) -> Result<(), E>,
    ) -> Result<(), E> {
        let deb = self.label.as_str();
        let member = self.data.name.as_str();
        self.reader
            .seek(SeekFrom::Start(self.data.offset))
            .map_err(|source| DebError::Io {
                deb: deb.to_owned(),
                what: member.to_owned(),
                source,
            })?;
        let raw = BufReader::new((&mut self.reader).take(self.data.size));
        let decoded = self
            .data
            .compression
            .decoder(raw)
            .map_err(|e| DebError::Corrupt {
                deb: deb.to_owned(),
                member: member.to_owned(),
                what: format!("cannot start decompressing: {e}"),
            })?;
        let limits = data::Limits {
            file_bytes: self.data_cap,
            // Headers and padding cost at most ~1 KiB per entry, and Installed-Size counts at
            // least 1 KiB per entry, so twice the file cap bounds a genuine tar stream.
            stream_bytes: self.data_cap.saturating_mul(2),
        };
        data::visit(decoded, deb, member, limits, &mut f)
    }
}

fn check_debian_binary<R: Read + Seek>(reader: &mut R, m: &ar::Member, deb: &str) -> Result<(), DebError> {
    let io = |source| DebError::Io {
        deb: deb.to_owned(),
        what: "debian-binary".into(),
        source,
    };
    let found = if m.size > MAX_DEBIAN_BINARY {
        format!("{} bytes", m.size)
    } else {
        reader.seek(SeekFrom::Start(m.offset)).map_err(io)?;
        let mut buf = vec![0u8; m.size as usize];
        reader.read_exact(&mut buf).map_err(io)?;
        let text = String::from_utf8_lossy(&buf).into_owned();
        let first = text.split('\n').next().unwrap_or_default();
        if let Some(minor) = first.strip_prefix("2.")
            && !minor.is_empty()
            && minor.bytes().all(|b| b.is_ascii_digit())
        {
            return Ok(());
        }
        text
    };
    Err(DebError::FormatVersion {
        deb: deb.to_owned(),
        found,
    })
}

/// Reads the whole control member (capped) into a [`ControlArchive`].
fn read_control<R: Read + Seek>(
    reader: &mut R,
    m: &ar::Member,
    c: Compression,
    deb: &str,
) -> Result<ControlArchive, DebError> {
    let member = m.name.as_str();
    let corrupt = |what: String| DebError::Corrupt {
        deb: deb.to_owned(),
        member: member.to_owned(),
        what,
    };
    let stream_err = |e: io::Error, after: &str| match cap_exceeded(&e) {
        Some(limit) => DebError::TooLarge {
            deb: deb.to_owned(),
            member: member.to_owned(),
            what: "the control area decompresses too large".into(),
            limit,
        },
        None => corrupt(format!("{after}: {}", crate::text::escape(&e.to_string()))),
    };
    reader
        .seek(SeekFrom::Start(m.offset))
        .map_err(|source| DebError::Io {
            deb: deb.to_owned(),
            what: member.to_owned(),
            source,
        })?;
    let raw = BufReader::new(reader.take(m.size));
    let decoded = c
        .decoder(raw)
        .map_err(|e| corrupt(format!("cannot start decompressing: {e}")))?;
    let mut archive = tar::Archive::new(Capped::new(decoded, CONTROL_CAP));
    let mut members = std::collections::BTreeMap::new();
    let mut control_text: Option<Vec<u8>> = None;
    {
        let entries = archive
            .entries()
            .map_err(|e| stream_err(e, "reading the tar stream"))?;
        let mut last = String::from("(start of archive)");
        for entry in entries {
            let mut entry =
                entry.map_err(|e| stream_err(e, &format!("after entry {}", crate::text::quoted(&last))))?;
            let raw_path = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
            let entry_err = |what: String| DebError::Entry {
                deb: deb.to_owned(),
                member: member.to_owned(),
                entry: raw_path.clone(),
                what,
            };
            let kind = entry.header().entry_type();
            let name = raw_path
                .strip_prefix("./")
                .unwrap_or(&raw_path)
                .trim_end_matches('/');
            if kind.is_dir() {
                if name.is_empty() || name == "." {
                    last = raw_path.clone();
                    continue;
                }
                return Err(entry_err("the control area has no subdirectories".into()));
            }
            if !(kind.is_file() || kind.is_contiguous()) {
                return Err(entry_err(format!(
                    "control files must be regular files, found tar type {:?}",
                    kind.as_byte() as char
                )));
            }
            if name.is_empty() || name.contains('/') || name == "." || name == ".." {
                return Err(entry_err(
                    "control files must be plain names at the top of the area".into(),
                ));
            }
            let mut bytes = Vec::new();
            entry
                .read_to_end(&mut bytes)
                .map_err(|e| stream_err(e, &format!("reading entry {}", crate::text::quoted(&raw_path))))?;
            let name = name.to_owned();
            if name == "control" {
                if control_text.replace(bytes).is_some() {
                    return Err(entry_err("duplicate control file".into()));
                }
            } else if members.insert(name, bytes).is_some() {
                return Err(entry_err("duplicate control-area file".into()));
            }
            last = raw_path;
        }
    }
    // Read to the end so the compressor's own checksums (gzip CRC, xz check) are verified.
    io::copy(&mut archive.into_inner(), &mut io::sink())
        .map_err(|e| stream_err(e, "after the end of the tar archive"))?;

    let Some(text) = control_text else {
        return Err(DebError::Layout {
            deb: deb.to_owned(),
            what: format!("{member} has no ./control file"),
        });
    };
    let control_err = |line: usize, what: String| DebError::Control {
        deb: deb.to_owned(),
        member: member.to_owned(),
        line,
        what,
    };
    let text = String::from_utf8(text).map_err(|e| control_err(0, format!("not UTF-8: {e}")))?;
    let control = Control::parse(&text).map_err(|e| control_err(e.line, e.what))?;
    Ok(ControlArchive { control, members })
}

/// Streams a tar archive that is not a `.deb` member (an `[[artifact]]`), decompressed as
/// `compression` says, under the same hostile-entry rules as a data tar: `label` and `member`
/// name it in errors, and its regular files may total at most `file_cap` bytes.
pub(crate) fn visit_tar<E: From<DebError>>(
    raw: impl Read,
    compression: Compression,
    label: &str,
    member: &str,
    file_cap: u64,
    f: &mut dyn FnMut(&Entry, &mut dyn Read) -> Result<(), E>,
) -> Result<(), E> {
    let decoded = compression
        .decoder(BufReader::new(raw))
        .map_err(|e| DebError::Corrupt {
            deb: label.to_owned(),
            member: member.to_owned(),
            what: format!("cannot start decompressing: {e}"),
        })?;
    let limits = data::Limits {
        file_bytes: file_cap,
        stream_bytes: file_cap.saturating_mul(2),
    };
    data::visit(decoded, label, member, limits, f)
}

/// Checks an archive path as the data tar reader does (`Err` says why it is refused); `Ok` gives
/// the normalised path and whether it is the root itself.
pub(crate) fn check_archive_path(raw: &[u8]) -> Result<(String, bool), String> {
    data::check_path(raw)
}

/// Refuses a relative symlink target that climbs above the root from `path`'s directory.
pub(crate) fn check_link_target(path: &str, target: &str) -> Result<(), String> {
    data::check_symlink(path, target)
}
