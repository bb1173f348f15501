//! Spool files: each decoded package's regular-file bytes, in an anonymous file (deleted on
//! drop) that the layer writer reads back by `(offset, len)`.

use std::fs::File;
use std::io::{self, Read};
use std::os::unix::fs::FileExt;
use std::sync::{Arc, Mutex};

use super::Debs;
use super::tree::{Content, Node};

/// The spool files of one platform's packages, filled as the schedule decodes them (from any
/// thread) and dropped once their layer is written. A read of a package without a spool (its
/// layer came from the layer cache, or was written already) decodes it again through [`Debs`],
/// so every read is answered.
pub struct Spools {
    files: Vec<Mutex<Option<Arc<File>>>>,
    labels: Vec<String>,
    debs: Arc<Debs>,
}

impl Spools {
    /// Empty spools for `debs`' packages.
    pub(super) fn new(debs: Arc<Debs>) -> Self {
        Spools {
            files: (0..debs.len()).map(|_| Mutex::new(None)).collect(),
            labels: debs.labels(),
            debs,
        }
    }

    /// Package `index`'s spool, once decoded.
    pub(super) fn set(&self, index: usize, file: File) {
        if let Some(Ok(mut slot)) = self.files.get(index).map(Mutex::lock) {
            *slot = Some(Arc::new(file));
        }
    }

    /// Drops package `index`'s spool once its layer is written, so a build holds the unpacked
    /// bytes of the packages in flight only, never the whole image (a later read decodes the
    /// package again).
    pub(super) fn release(&self, index: usize) {
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
        tracing::debug!(
            "decoding {} again for a file the build reads",
            self.label(Some(index))
        );
        let (_, file) = self.debs.decode(index).map_err(io::Error::other)?;
        let file = Arc::new(file);
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
}

/// A reader that fails with the error that kept it from opening.
struct FailingReader(Option<io::Error>);

impl Read for FailingReader {
    fn read(&mut self, _: &mut [u8]) -> io::Result<usize> {
        Err(self.0.take().unwrap_or_else(|| io::Error::other("read failed")))
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

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
