//! The data tar: a streaming walk that maps each tar entry to an [`Entry`] after checking it
//! cannot harm the image or the host.

use std::collections::HashMap;
use std::io::{self, Read};

use tar::EntryType;

use super::DebError;
use super::compression::{Capped, cap_exceeded};
use crate::entry::{Entry, EntryKind, MAX_PATH, check_path_length, normalize_path};
use crate::text::{escape, quoted};

#[derive(Debug, Clone, Copy)]
pub(crate) struct Limits {
    /// Total bytes of regular-file content.
    pub file_bytes: u64,
    /// Total bytes of the decompressed tar stream (content, headers, long names, PAX records).
    pub stream_bytes: u64,
}

/// Metadata a PAX header may override.
#[derive(Default)]
struct PaxOverrides {
    mtime: Option<u64>,
    uname: Option<String>,
    gname: Option<String>,
}

pub(crate) fn visit<E: From<DebError>>(
    decoded: Box<dyn Read + '_>,
    deb: &str,
    member: &str,
    limits: Limits,
    f: &mut dyn FnMut(&Entry, &mut dyn Read) -> Result<(), E>,
) -> Result<(), E> {
    let stream_err = |e: io::Error, context: String| match cap_exceeded(&e) {
        Some(limit) => DebError::TooLarge {
            deb: deb.to_owned(),
            member: member.to_owned(),
            what: format!("the tar stream expands too far ({context})"),
            limit,
        },
        // The tar crate's messages quote header fields verbatim.
        None => DebError::Corrupt {
            deb: deb.to_owned(),
            member: member.to_owned(),
            what: format!("{context}: {}", escape(&e.to_string())),
        },
    };
    let mut archive = tar::Archive::new(Capped::new(decoded, limits.stream_bytes));
    // Every normalised path seen so far, and whether it can be a hard link's target.
    let mut seen: HashMap<String, bool> = HashMap::new();
    let mut file_bytes: u64 = 0;
    // What the parent directories the archive leaves out cost, counted as if it listed them (a
    // header and the path each): the tree creates them, and a layer writes each path in full.
    let mut implied_bytes: u64 = 0;
    {
        let entries = archive
            .entries()
            .map_err(|e| stream_err(e, "reading the tar stream".into()))?;
        let mut last = String::from("(start of archive)");
        for entry in entries {
            let mut entry = entry.map_err(|e| stream_err(e, format!("after entry {}", quoted(&last))))?;
            let raw_path = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
            let entry_err = |what: String| DebError::Entry {
                deb: deb.to_owned(),
                member: member.to_owned(),
                entry: raw_path.clone(),
                what,
            };
            let ty = entry.header().entry_type();
            if ty == EntryType::XGlobalHeader {
                // Global PAX headers carry archive-wide comments from some writers; dpkg ignores them.
                last = raw_path;
                continue;
            }
            let pax = pax_overrides(&mut entry).map_err(entry_err)?;
            let (path, is_root) =
                check_path(&entry.path_bytes()).map_err(|why| entry_err(format!("path {why}")))?;
            let header = entry.header();
            let mode = header
                .mode()
                .map_err(|e| entry_err(format!("bad mode field: {}", escape(&e.to_string()))))?
                & 0o7777;
            let uid = header
                .uid()
                .map_err(|e| entry_err(format!("bad uid field: {}", escape(&e.to_string()))))
                .and_then(|v| {
                    u32::try_from(v).map_err(|_| entry_err(format!("uid {v} does not fit 32 bits")))
                })?;
            let gid = header
                .gid()
                .map_err(|e| entry_err(format!("bad gid field: {}", escape(&e.to_string()))))
                .and_then(|v| {
                    u32::try_from(v).map_err(|_| entry_err(format!("gid {v} does not fit 32 bits")))
                })?;
            let mtime = match pax.mtime {
                Some(t) => t,
                None => header
                    .mtime()
                    .map_err(|e| entry_err(format!("bad mtime field: {}", escape(&e.to_string()))))?,
            };
            let uname = match pax.uname {
                Some(n) => n,
                None => {
                    name_field(header.username_bytes()).map_err(|e| entry_err(format!("user name {e}")))?
                }
            };
            let gname = match pax.gname {
                Some(n) => n,
                None => {
                    name_field(header.groupname_bytes()).map_err(|e| entry_err(format!("group name {e}")))?
                }
            };
            let link = || -> Result<String, DebError> {
                let bytes = entry
                    .link_name_bytes()
                    .ok_or_else(|| entry_err("link with an empty target".into()))?;
                let target = String::from_utf8(bytes.into_owned())
                    .map_err(|e| entry_err(format!("link target is not UTF-8: {e}")))?;
                if target.is_empty() {
                    return Err(entry_err("link with an empty target".into()));
                }
                Ok(target)
            };
            let kind = match ty {
                EntryType::Regular | EntryType::Continuous => EntryKind::File { size: entry.size() },
                EntryType::Directory => EntryKind::Directory,
                EntryType::Symlink => {
                    let target = link()?;
                    check_symlink(&path, &target).map_err(entry_err)?;
                    EntryKind::Symlink { target }
                }
                EntryType::Link => {
                    let raw_target = link()?;
                    let target = match check_path(raw_target.as_bytes()) {
                        Ok((t, false)) => t,
                        Ok((_, true)) => {
                            return Err(
                                entry_err(format!("hard link to the root {}", quoted(&raw_target))).into(),
                            );
                        }
                        Err(why) => {
                            return Err(
                                entry_err(format!("hard link target {} {why}", quoted(&raw_target))).into(),
                            );
                        }
                    };
                    if seen.get(&target) != Some(&true) {
                        return Err(entry_err(format!(
                            "hard link to {}, which is not an earlier non-directory entry of this archive",
                            quoted(&raw_target)
                        ))
                        .into());
                    }
                    EntryKind::Hardlink { target }
                }
                EntryType::Fifo => EntryKind::Fifo,
                EntryType::Char | EntryType::Block => {
                    return Err(entry_err(format!(
                        "{} device node: packages may not ship device nodes",
                        if ty == EntryType::Char {
                            "character"
                        } else {
                            "block"
                        }
                    ))
                    .into());
                }
                EntryType::GNUSparse => {
                    return Err(entry_err(
                        "GNU sparse files are not supported (dpkg rejects them too)".into(),
                    )
                    .into());
                }
                other => {
                    return Err(entry_err(format!(
                        "unsupported tar entry type {:?}",
                        other.as_byte() as char
                    ))
                    .into());
                }
            };
            if is_root {
                if kind == EntryKind::Directory {
                    last = raw_path;
                    continue;
                }
                return Err(entry_err("the root of the archive must be a directory".into()).into());
            }
            if let EntryKind::File { size } = kind {
                file_bytes = file_bytes.saturating_add(size);
                if file_bytes > limits.file_bytes {
                    return Err(DebError::TooLarge {
                        deb: deb.to_owned(),
                        member: member.to_owned(),
                        what: format!(
                            "entry {} ({size} bytes) takes the regular files to {file_bytes} bytes, over twice Installed-Size",
                            quoted(&raw_path)
                        ),
                        limit: limits.file_bytes,
                    }
                    .into());
                }
            }
            // Directories the archive did not list before this entry, nearest first, up to
            // the first one known (whose own parents are all known already).
            let mut end = path.len();
            while let Some(pos) = path[..end].rfind('/') {
                let parent = &path[..pos];
                if seen.contains_key(parent) {
                    break;
                }
                implied_bytes = implied_bytes.saturating_add(512 + parent.len() as u64);
                if implied_bytes > limits.stream_bytes {
                    return Err(DebError::TooLarge {
                        deb: deb.to_owned(),
                        member: member.to_owned(),
                        what: format!(
                            "entry {} needs parent directories the archive does not list, and their paths take the unlisted directories to {implied_bytes} bytes",
                            quoted(&raw_path)
                        ),
                        limit: limits.stream_bytes,
                    }
                    .into());
                }
                seen.insert(parent.to_owned(), false);
                end = pos;
            }
            let e = Entry {
                path: path.clone(),
                kind,
                mode,
                uid,
                gid,
                uname,
                gname,
                mtime,
                xattrs: Default::default(),
            };
            let linkable = !e.is_dir();
            if e.is_dir() {
                seen.entry(path).or_insert(false);
            } else {
                seen.insert(path, linkable);
            }
            if let EntryKind::File { size } = e.kind {
                let mut r = ContextReader {
                    inner: &mut entry,
                    remaining: size,
                    context: format!("{deb}: {member}: entry {}", quoted(&raw_path)),
                };
                f(&e, &mut r)?;
            } else {
                f(&e, &mut io::empty())?;
            }
            last = raw_path;
        }
    }
    // Read to the end so the compressor's own checksums (gzip CRC, xz check) are verified.
    io::copy(&mut archive.into_inner(), &mut io::sink())
        .map_err(|e| stream_err(e, "after the end of the tar archive".into()))?;
    Ok(())
}

/// Checks an archive path: `Err` (saying why) for absolute paths, `..` components or non-UTF-8;
/// otherwise the normalised path, and whether it is the root itself (`./`).
pub(crate) fn check_path(raw: &[u8]) -> Result<(String, bool), String> {
    let text = std::str::from_utf8(raw).map_err(|e| format!("is not UTF-8: {e}"))?;
    if text.starts_with('/') {
        return Err("is an absolute path".into());
    }
    if text.split('/').any(|c| c == "..") {
        return Err("has a `..` component".into());
    }
    if text.contains('\0') {
        return Err("contains a NUL byte".into());
    }
    Ok(match normalize_path(text) {
        Some(p) => {
            check_path_length(&p)?;
            (p, false)
        }
        None => (String::new(), true),
    })
}

/// Rejects a relative symlink target that, resolved from the link's directory, climbs above the
/// root. Absolute targets are relative to the image root and cannot escape.
pub(crate) fn check_symlink(path: &str, target: &str) -> Result<(), String> {
    if target.starts_with('/') {
        return Ok(());
    }
    if target.contains('\0') {
        return Err("symlink target contains a NUL byte".into());
    }
    if target.len() > MAX_PATH {
        return Err(format!(
            "symlink target is {} bytes long; a link may hold at most {MAX_PATH}",
            target.len()
        ));
    }
    // Depth of the directory holding the link (`usr/bin/x` lives at depth 2).
    let mut depth: usize = path.matches('/').count();
    for comp in target.split('/') {
        match comp {
            "" | "." => {}
            ".." => {
                depth = depth
                    .checked_sub(1)
                    .ok_or_else(|| format!("symlink target {} climbs out of the root", quoted(target)))?;
            }
            _ => depth += 1,
        }
    }
    Ok(())
}

/// A NUL-padded name field of a tar header; absent (old v7 headers) means empty.
fn name_field(bytes: Option<&[u8]>) -> Result<String, String> {
    match bytes {
        None => Ok(String::new()),
        Some(b) => String::from_utf8(b.to_vec()).map_err(|e| format!("is not UTF-8: {e}")),
    }
}

/// The PAX records debcast uses beyond what the tar crate applies itself (`path`, `linkpath`,
/// `size`, `uid`, `gid`): `mtime`, `uname`, `gname`.
fn pax_overrides<R: Read>(entry: &mut tar::Entry<'_, R>) -> Result<PaxOverrides, String> {
    let mut out = PaxOverrides::default();
    let Some(exts) = entry
        .pax_extensions()
        .map_err(|e| format!("unreadable PAX header: {}", escape(&e.to_string())))?
    else {
        return Ok(out);
    };
    for ext in exts {
        let ext = ext.map_err(|e| format!("malformed PAX record: {}", escape(&e.to_string())))?;
        let key = ext.key().map_err(|e| format!("PAX key is not UTF-8: {e}"))?;
        let shown_key = escape(key);
        let value = || {
            ext.value()
                .map(str::to_owned)
                .map_err(|e| format!("PAX {shown_key} is not UTF-8: {e}"))
        };
        match key {
            "mtime" => out.mtime = Some(parse_pax_time(&value()?)?),
            "uname" => out.uname = Some(value()?),
            "gname" => out.gname = Some(value()?),
            "size" | "uid" | "gid" => {
                // Applied by the tar crate; still refuse garbage it would silently ignore.
                let v = value()?;
                if v.parse::<u64>().is_err() {
                    return Err(format!("PAX {key} {} is not a number", quoted(&v)));
                }
            }
            _ => {}
        }
    }
    Ok(out)
}

/// A PAX time (`1700000000`, `1700000000.123`, `-5`) as whole seconds, clamped at the epoch.
fn parse_pax_time(v: &str) -> Result<u64, String> {
    let whole = v.split_once('.').map_or(v, |(w, _)| w);
    if let Some(neg) = whole.strip_prefix('-') {
        return neg
            .parse::<u64>()
            .map(|_| 0)
            .map_err(|_| format!("PAX mtime {} is not a time", quoted(v)));
    }
    whole
        .parse()
        .map_err(|_| format!("PAX mtime {} is not a time", quoted(v)))
}

/// The content reader handed to the callback: adds the package, member and entry to I/O errors,
/// and turns a stream that ends before the entry's declared size into an error (the tar reader
/// alone would just return a short file and fail only at the next header).
struct ContextReader<'a, R> {
    inner: &'a mut R,
    remaining: u64,
    context: String,
}

impl<R: Read> Read for ContextReader<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() || self.remaining == 0 {
            return Ok(0);
        }
        let n = self.inner.read(buf).map_err(|e| {
            let what = match cap_exceeded(&e) {
                Some(_) => format!("{}: {e}; refusing a possible decompression bomb", self.context),
                None => format!("{}: {e}", self.context),
            };
            io::Error::new(e.kind(), what)
        })?;
        if n == 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                format!(
                    "{}: truncated: the archive ends {} bytes before the end of its content",
                    self.context, self.remaining
                ),
            ));
        }
        self.remaining = self.remaining.saturating_sub(n as u64);
        Ok(n)
    }
}
