//! The outer ar container of a `.deb`: `!<arch>\n` followed by 60-byte member headers.
//!
//! Hand-rolled rather than the `ar` crate's reader because the caller needs each member's byte
//! offset (to seek straight to `data.tar` after reading the control member) and errors that say
//! where the archive broke. Accepts what dpkg and the `ar` crate accept: plain names, GNU-style
//! names with a trailing `/`, and BSD `#1/<len>` names stored at the start of the content.

use std::io::{Read, Seek, SeekFrom};

use super::DebError;

pub(crate) const MAGIC: &[u8; 8] = b"!<arch>\n";
const HEADER_LEN: u64 = 60;
/// BSD long names are file names; anything longer is not a `.deb` member.
const MAX_BSD_NAME: u64 = 4096;

/// One member: its name and where its content lies in the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Member {
    pub name: String,
    /// Offset of the first content byte.
    pub offset: u64,
    pub size: u64,
}

/// Walks the members of an ar archive without reading their content.
pub(crate) struct ArWalker {
    /// Offset of the next header.
    next: u64,
    len: u64,
}

impl ArWalker {
    /// Checks the magic; `reader` may be anywhere, it is rewound.
    pub fn new<R: Read + Seek>(reader: &mut R, deb: &str) -> Result<Self, DebError> {
        let io = |source| DebError::Io {
            deb: deb.to_owned(),
            what: "the ar header".into(),
            source,
        };
        let len = reader.seek(SeekFrom::End(0)).map_err(io)?;
        reader.seek(SeekFrom::Start(0)).map_err(io)?;
        let mut magic = [0u8; 8];
        if len < 8 {
            return Err(DebError::NotAr { deb: deb.to_owned() });
        }
        reader.read_exact(&mut magic).map_err(io)?;
        if &magic != MAGIC {
            return Err(DebError::NotAr { deb: deb.to_owned() });
        }
        Ok(ArWalker { next: 8, len })
    }

    /// The next member, `None` at the end of the file.
    pub fn next_member<R: Read + Seek>(
        &mut self,
        reader: &mut R,
        deb: &str,
    ) -> Result<Option<Member>, DebError> {
        let at = self.next;
        let bad = |what: String| DebError::Ar {
            deb: deb.to_owned(),
            offset: at,
            what,
        };
        if at >= self.len {
            return Ok(None);
        }
        if self.len - at < HEADER_LEN {
            return Err(bad(format!(
                "truncated member header: {} bytes left, a header takes {HEADER_LEN}",
                self.len - at
            )));
        }
        let io = |source| DebError::Io {
            deb: deb.to_owned(),
            what: format!("the ar member header at byte {at}"),
            source,
        };
        reader.seek(SeekFrom::Start(at)).map_err(io)?;
        let mut h = [0u8; HEADER_LEN as usize];
        reader.read_exact(&mut h).map_err(io)?;
        if &h[58..60] != b"`\n" {
            return Err(bad("member header does not end with \"`\\n\"".into()));
        }
        let raw_name = std::str::from_utf8(&h[0..16])
            .map_err(|_| bad("member name is not ASCII".into()))?
            .trim_end_matches(' ');
        let size_field = std::str::from_utf8(&h[48..58])
            .map_err(|_| bad("member size is not ASCII".into()))?
            .trim_end_matches(' ');
        let mut size: u64 = size_field
            .parse()
            .map_err(|_| bad(format!("member size {size_field:?} is not a decimal number")))?;
        let mut offset = at + HEADER_LEN;
        let available = self.len - offset;
        if size > available {
            return Err(bad(format!(
                "member {raw_name:?} is truncated: its header says {size} bytes, {available} remain in the file"
            )));
        }
        // The next header starts on an even offset.
        self.next = offset + size + (size % 2);

        let name = if let Some(len) = raw_name.strip_prefix("#1/") {
            let n: u64 = len
                .parse()
                .map_err(|_| bad(format!("BSD long name length {len:?} is not a number")))?;
            if n > size || n > MAX_BSD_NAME {
                return Err(bad(format!(
                    "BSD long name of {n} bytes does not fit a member of {size} bytes"
                )));
            }
            let mut buf = vec![0u8; n as usize];
            reader.read_exact(&mut buf).map_err(io)?;
            offset += n;
            size -= n;
            let text = String::from_utf8(buf).map_err(|_| bad("BSD long name is not UTF-8".into()))?;
            text.trim_end_matches('\0').to_owned()
        } else if raw_name == "/" || raw_name == "//" {
            // GNU symbol and long-name tables; a .deb has none, keep the name so the caller rejects it.
            raw_name.to_owned()
        } else {
            raw_name.strip_suffix('/').unwrap_or(raw_name).to_owned()
        };
        Ok(Some(Member { name, offset, size }))
    }
}
