//! A deterministic tar writer for layer entries.
//!
//! We emit header blocks ourselves instead of going through `tar::Builder`: the builder picks GNU
//! long-name records for long paths and copies host metadata in places, while a layer must depend
//! on nothing but the [`Entry`] values. The format is POSIX ustar, with a PAX extended header
//! (`typeflag 'x'`) in front of an entry only when a field does not fit ustar: paths or link
//! targets over 100 bytes, user/group names over 32 bytes, ids over 7 octal digits, sizes of
//! 8 GiB and more. PAX records are sorted by key and carry no timestamps of their own, so the bytes
//! are a pure function of the entries.

use std::collections::BTreeMap;
use std::io::{self, ErrorKind, Read, Write};

use super::OciError;
use crate::entry::{Entry, EntryKind};

const BLOCK: usize = 512;
/// Fixed name of PAX extended headers; no pid or timestamp in it (GNU tar puts its pid there).
const PAX_HEADER_NAME: &str = "././@PaxHeader";
/// Largest value a 12-byte numeric field holds in octal (11 digits).
const MAX_OCTAL_11: u64 = 0o77_777_777_777;
/// Largest value an 8-byte numeric field holds in octal (7 digits).
const MAX_OCTAL_7: u64 = 0o7_777_777;

/// Writes tar entries to `W`; `finish` writes the end-of-archive marker (two zero blocks, no
/// padding to a 10 KiB record, as Go's archive/tar and hence docker/buildkit do).
pub struct TarWriter<W: Write> {
    out: W,
    source_date_epoch: u64,
    /// Copy buffer, reused across entries (images have tens of thousands of small files).
    buf: Vec<u8>,
}

/// Where a failure came from: the output stream, or the caller's entry/content.
fn write_err(e: io::Error) -> OciError {
    OciError::LayerWrite(e)
}

impl<W: Write> TarWriter<W> {
    pub fn new(out: W, source_date_epoch: u64) -> Self {
        TarWriter {
            out,
            source_date_epoch,
            buf: Vec::new(),
        }
    }

    pub fn get_mut(&mut self) -> &mut W {
        &mut self.out
    }

    /// Appends one entry. For `EntryKind::File { size }` exactly `size` bytes are copied from
    /// `content`; a reader that ends early or has more to give is an error naming the path.
    /// Other kinds ignore `content`.
    pub fn append(&mut self, entry: &Entry, content: &mut dyn Read) -> Result<(), OciError> {
        let header = EntryHeader::for_entry(entry, self.source_date_epoch)?;
        if !header.pax.is_empty() || !entry.xattrs.is_empty() {
            let records = pax_records(&header.pax, &entry.xattrs);
            let mut pax = [0u8; BLOCK];
            set_str(&mut pax[0..100], PAX_HEADER_NAME);
            set_octal(&mut pax[100..108], 0o644);
            set_octal(&mut pax[108..116], 0);
            set_octal(&mut pax[116..124], 0);
            set_octal(&mut pax[124..136], records.len() as u64);
            set_octal(&mut pax[136..148], 0);
            pax[156] = b'x';
            set_magic_and_checksum(&mut pax);
            self.out.write_all(&pax).map_err(write_err)?;
            self.out.write_all(&records).map_err(write_err)?;
            self.pad(records.len() as u64)?;
        }
        self.out.write_all(&header.block).map_err(write_err)?;
        if let EntryKind::File { size } = entry.kind {
            let mut buf = std::mem::take(&mut self.buf);
            if buf.is_empty() {
                buf = vec![0u8; 64 * 1024];
            }
            let copied = self.copy_content(&entry.path, size, content, &mut buf);
            self.buf = buf;
            copied?;
            self.pad(size)?;
        }
        Ok(())
    }

    fn copy_content(
        &mut self,
        path: &str,
        size: u64,
        content: &mut dyn Read,
        buf: &mut [u8],
    ) -> Result<(), OciError> {
        let mut remaining = size;
        while remaining > 0 {
            let want = remaining.min(buf.len() as u64) as usize;
            let n = match content.read(&mut buf[..want]) {
                Ok(0) => {
                    return Err(OciError::ContentTooShort {
                        path: path.to_owned(),
                        expected: size,
                        actual: size - remaining,
                    });
                }
                Ok(n) => n,
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                Err(source) => {
                    return Err(OciError::ContentRead {
                        path: path.to_owned(),
                        source,
                    });
                }
            };
            self.out.write_all(&buf[..n]).map_err(write_err)?;
            remaining -= n as u64;
        }
        // The entry promised `size` bytes; a reader with more is as wrong as one with fewer.
        let mut probe = [0u8; 1];
        loop {
            match content.read(&mut probe) {
                Ok(0) => return Ok(()),
                Ok(_) => {
                    return Err(OciError::ContentTooLong {
                        path: path.to_owned(),
                        expected: size,
                    });
                }
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                Err(source) => {
                    return Err(OciError::ContentRead {
                        path: path.to_owned(),
                        source,
                    });
                }
            }
        }
    }

    fn pad(&mut self, len: u64) -> Result<(), OciError> {
        let rem = (len % BLOCK as u64) as usize;
        if rem != 0 {
            self.out
                .write_all(&[0u8; BLOCK][..BLOCK - rem])
                .map_err(write_err)?;
        }
        Ok(())
    }

    /// Writes the end-of-archive marker and returns the output.
    pub fn finish(mut self) -> Result<W, OciError> {
        self.out.write_all(&[0u8; 2 * BLOCK]).map_err(write_err)?;
        Ok(self.out)
    }
}

/// A ustar header block plus the PAX records it needs.
struct EntryHeader {
    block: [u8; BLOCK],
    pax: BTreeMap<&'static str, String>,
}

impl EntryHeader {
    fn for_entry(entry: &Entry, source_date_epoch: u64) -> Result<Self, OciError> {
        let bad = |message: &str| OciError::InvalidEntry {
            path: entry.path.clone(),
            message: message.to_owned(),
        };
        // `Entry::path` is normalised by contract; re-check the parts that would let a layer
        // escape its root or be unreadable, since a layer is the last stop before a user's disk.
        if !is_normalised(&entry.path) {
            return Err(bad(
                "path is not normalised (relative, no `.`/`..`/empty components)",
            ));
        }
        for (what, s) in [
            ("path", entry.path.as_str()),
            ("user name", entry.uname.as_str()),
            ("group name", entry.gname.as_str()),
        ] {
            if s.contains('\0') {
                return Err(bad(&format!("{what} contains a NUL byte")));
            }
        }

        for name in entry.xattrs.keys() {
            if name.is_empty() || name.contains(['=', '\0', '\n']) {
                return Err(bad(&format!(
                    "extended attribute name `{name}` cannot be written"
                )));
            }
        }

        let mut block = [0u8; BLOCK];
        let mut pax = BTreeMap::new();

        let (typeflag, size, link, dev) = match &entry.kind {
            EntryKind::File { size } => (b'0', *size, None, None),
            EntryKind::Hardlink { target } => (b'1', 0, Some(target), None),
            EntryKind::Symlink { target } => (b'2', 0, Some(target), None),
            EntryKind::CharDevice { major, minor } => (b'3', 0, None, Some((*major, *minor))),
            EntryKind::BlockDevice { major, minor } => (b'4', 0, None, Some((*major, *minor))),
            EntryKind::Directory => (b'5', 0, None, None),
            EntryKind::Fifo => (b'6', 0, None, None),
        };

        let name = if entry.is_dir() {
            format!("{}/", entry.path)
        } else {
            entry.path.clone()
        };
        if name.len() > 100 {
            set_str(&mut block[0..100], truncate_utf8(&name, 100));
            pax.insert("path", name);
        } else {
            set_str(&mut block[0..100], &name);
        }

        set_octal(&mut block[100..108], u64::from(entry.mode & 0o7777));
        for (range, id, key) in [(108..116, entry.uid, "uid"), (116..124, entry.gid, "gid")] {
            if u64::from(id) > MAX_OCTAL_7 {
                set_octal(&mut block[range], 0);
                pax.insert(key, id.to_string());
            } else {
                set_octal(&mut block[range], u64::from(id));
            }
        }
        if size > MAX_OCTAL_11 {
            set_octal(&mut block[124..136], 0);
            pax.insert("size", size.to_string());
        } else {
            set_octal(&mut block[124..136], size);
        }
        let mtime = entry.mtime.min(source_date_epoch);
        if mtime > MAX_OCTAL_11 {
            set_octal(&mut block[136..148], 0);
            pax.insert("mtime", mtime.to_string());
        } else {
            set_octal(&mut block[136..148], mtime);
        }
        block[156] = typeflag;

        if let Some(target) = link {
            if target.is_empty() || target.contains('\0') {
                return Err(bad("link target is empty or contains a NUL byte"));
            }
            if matches!(entry.kind, EntryKind::Hardlink { .. }) && !is_normalised(target) {
                return Err(bad(&format!(
                    "hard link target `{target}` is not a normalised path inside the image"
                )));
            }
            if target.len() > 100 {
                set_str(&mut block[157..257], truncate_utf8(target, 100));
                pax.insert("linkpath", target.clone());
            } else {
                set_str(&mut block[157..257], target);
            }
        }

        for (range, value, key) in [
            (265..297, &entry.uname, "uname"),
            (297..329, &entry.gname, "gname"),
        ] {
            if value.len() > 32 {
                set_str(&mut block[range], truncate_utf8(value, 32));
                pax.insert(key, value.clone());
            } else {
                set_str(&mut block[range], value);
            }
        }

        let (major, minor) = dev.unwrap_or((0, 0));
        if u64::from(major) > MAX_OCTAL_7 || u64::from(minor) > MAX_OCTAL_7 {
            // PAX has no standard keys for device numbers; Linux's are far below this anyway.
            return Err(bad(&format!(
                "device number {major}:{minor} does not fit a tar header"
            )));
        }
        set_octal(&mut block[329..337], u64::from(major));
        set_octal(&mut block[337..345], u64::from(minor));

        set_magic_and_checksum(&mut block);
        Ok(EntryHeader { block, pax })
    }
}

fn is_normalised(path: &str) -> bool {
    !path.is_empty()
        && !path.starts_with('/')
        && !path.ends_with('/')
        && !path.split('/').any(|c| c.is_empty() || c == "." || c == "..")
}

/// `"<len> <key>=<value>\n"` records, in key order, then one `SCHILY.xattr.<name>` record per
/// extended attribute (the form GNU tar, containerd and Docker read; the value is the attribute's
/// bytes as they are); `<len>` counts the whole record, itself included.
fn pax_records(fields: &BTreeMap<&'static str, String>, xattrs: &BTreeMap<String, Vec<u8>>) -> Vec<u8> {
    let mut out = Vec::new();
    let records = fields.iter().map(|(k, v)| (k.to_string(), v.as_bytes())).chain(
        xattrs
            .iter()
            .map(|(k, v)| (format!("SCHILY.xattr.{k}"), v.as_slice())),
    );
    for (key, value) in records {
        let body = key.len() + value.len() + 3; // ' ', '=', '\n'
        let mut len = body + 1;
        while len != body + len.to_string().len() {
            len = body + len.to_string().len();
        }
        out.extend_from_slice(format!("{len} {key}=").as_bytes());
        out.extend_from_slice(value);
        out.push(b'\n');
    }
    out
}

fn truncate_utf8(s: &str, max: usize) -> &str {
    let mut end = max.min(s.len());
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

fn set_str(field: &mut [u8], s: &str) {
    let n = s.len().min(field.len());
    field[..n].copy_from_slice(&s.as_bytes()[..n]);
}

/// Zero-padded octal filling all but the last byte of the field, then NUL. Callers check ranges.
fn set_octal(field: &mut [u8], value: u64) {
    let digits = field.len() - 1;
    let s = format!("{value:0digits$o}");
    field[..digits].copy_from_slice(&s.as_bytes()[s.len() - digits..]);
    field[digits] = 0;
}

fn set_magic_and_checksum(block: &mut [u8; BLOCK]) {
    block[257..263].copy_from_slice(b"ustar\0");
    block[263..265].copy_from_slice(b"00");
    block[148..156].copy_from_slice(b"        ");
    let sum: u32 = block.iter().map(|&b| u32::from(b)).sum();
    let s = format!("{sum:06o}");
    block[148..154].copy_from_slice(s.as_bytes());
    block[154] = 0;
    block[155] = b' ';
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pax_record_lengths_count_themselves() {
        let mut f = BTreeMap::new();
        f.insert("path", "a".repeat(93)); // 93 + 4 + 3 = 100 -> "100 path=..." is 103 bytes
        let r = pax_records(&f, &BTreeMap::new());
        let text = String::from_utf8(r.clone()).unwrap();
        let (len, _) = text.split_once(' ').unwrap();
        assert_eq!(len.parse::<usize>().unwrap(), r.len());
        f.insert("uid", "9999999999".into());
        let r = pax_records(&f, &BTreeMap::new());
        let text = String::from_utf8(r).unwrap();
        for line in text.lines() {
            let (len, _) = line.split_once(' ').unwrap();
            assert_eq!(len.parse::<usize>().unwrap(), line.len() + 1, "{line}");
        }
        assert!(text.find("path=").unwrap() < text.find("uid=").unwrap());
    }

    /// An extended attribute travels as a `SCHILY.xattr.` PAX record whose value is the
    /// attribute's bytes, which a tar reader gives back unchanged.
    #[test]
    fn xattrs_are_schily_records_with_raw_values() {
        let capability = vec![1, 0, 0, 2, 0, 0x20, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
        let mut e = Entry::generated("usr/bin/ping", EntryKind::File { size: 2 }, 0o755);
        e.xattrs.insert("security.capability".into(), capability.clone());
        let mut w = TarWriter::new(Vec::new(), 0);
        w.append(&e, &mut &b"hi"[..]).unwrap();
        let bytes = w.finish().unwrap();
        let mut archive = tar::Archive::new(&bytes[..]);
        let mut entry = archive.entries().unwrap().next().unwrap().unwrap();
        let records: Vec<(String, Vec<u8>)> = entry
            .pax_extensions()
            .unwrap()
            .unwrap()
            .map(|r| {
                let r = r.unwrap();
                (r.key().unwrap().to_owned(), r.value_bytes().to_vec())
            })
            .collect();
        assert_eq!(
            records,
            [("SCHILY.xattr.security.capability".to_owned(), capability)]
        );
        assert_eq!(entry.path().unwrap().to_str(), Some("usr/bin/ping"));
        let bad = Entry {
            xattrs: BTreeMap::from([("a=b".to_owned(), vec![])]),
            ..e
        };
        assert!(
            TarWriter::new(Vec::new(), 0)
                .append(&bad, &mut &b"hi"[..])
                .is_err()
        );
    }

    #[test]
    fn truncates_on_char_boundaries() {
        assert_eq!(truncate_utf8("aé", 2), "a");
        assert_eq!(truncate_utf8("abc", 10), "abc");
    }
}
