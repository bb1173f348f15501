//! Streaming decompression of the tar members, chosen by the member name's suffix, and a reader
//! that caps how much a stream may expand to.

use std::fmt;
use std::io::{self, BufRead, Read};

/// The compression of a `control.tar*` or `data.tar*` member.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    None,
    Gzip,
    Xz,
    /// Legacy `.lzma` (lzma_alone), still accepted by dpkg for data members.
    Lzma,
    Zstd,
    Bzip2,
}

/// Which tar member a name is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TarMember {
    Control,
    Data,
}

impl Compression {
    /// Classifies an ar member name: `Some((member, Ok(compression)))` for `control.tar*` and
    /// `data.tar*`, with `Err(suffix)` when the suffix is one dpkg does not accept for it.
    pub(crate) fn classify(name: &str) -> Option<(TarMember, Result<Compression, String>)> {
        let (member, suffix) = if let Some(s) = name.strip_prefix("control.tar") {
            (TarMember::Control, s)
        } else if let Some(s) = name.strip_prefix("data.tar") {
            (TarMember::Data, s)
        } else {
            return None;
        };
        let c = match (member, suffix) {
            (_, "") => Compression::None,
            (_, ".gz") => Compression::Gzip,
            (_, ".xz") => Compression::Xz,
            (_, ".zst") => Compression::Zstd,
            (TarMember::Data, ".bz2") => Compression::Bzip2,
            (TarMember::Data, ".lzma") => Compression::Lzma,
            _ => return Some((member, Err(suffix.to_owned()))),
        };
        Some((member, Ok(c)))
    }

    /// A reader yielding the decompressed stream.
    pub(crate) fn decoder<'a, R: BufRead + 'a>(self, r: R) -> io::Result<Box<dyn Read + 'a>> {
        Ok(match self {
            Compression::None => Box::new(r),
            // Multi-member/multi-stream decoders: concatenated streams are valid input for the
            // command-line tools dpkg-deb delegates to, so they must be here too.
            Compression::Gzip => Box::new(flate2::bufread::MultiGzDecoder::new(r)),
            // The check (CRC64 of the uncompressed data) is not verified: every byte decoded here
            // is of a file whose SHA-256 was verified against a signed index first, and the check
            // costs a twentieth of the decoding time.
            Compression::Xz => {
                let flags = liblzma::stream::CONCATENATED | liblzma::stream::IGNORE_CHECK;
                let stream =
                    liblzma::stream::Stream::new_stream_decoder(u64::MAX, flags).map_err(io::Error::other)?;
                Box::new(liblzma::bufread::XzDecoder::new_stream(r, stream))
            }
            Compression::Lzma => {
                let stream = liblzma::stream::Stream::new_lzma_decoder(u64::MAX).map_err(io::Error::other)?;
                Box::new(liblzma::bufread::XzDecoder::new_stream(r, stream))
            }
            // The default window limit (128 MiB) stays: a larger window is a memory bomb.
            Compression::Zstd => Box::new(zstd::stream::read::Decoder::with_buffer(r)?),
            Compression::Bzip2 => Box::new(bzip2::bufread::MultiBzDecoder::new(r)),
        })
    }
}

/// The error a [`Capped`] reader fails with once its stream goes past the cap.
#[derive(Debug)]
pub(crate) struct CapExceeded(pub u64);

impl fmt::Display for CapExceeded {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "decompressed stream exceeds {} bytes", self.0)
    }
}

impl std::error::Error for CapExceeded {}

/// Whether an I/O error came from a [`Capped`] reader.
pub(crate) fn cap_exceeded(e: &io::Error) -> Option<u64> {
    e.get_ref()
        .and_then(|inner| inner.downcast_ref::<CapExceeded>())
        .map(|c| c.0)
}

/// Passes at most `cap` bytes through and fails (rather than silently stopping, which would look
/// like a clean end of stream) if the inner reader has more.
pub(crate) struct Capped<R> {
    inner: R,
    remaining: u64,
    cap: u64,
}

impl<R: Read> Capped<R> {
    pub fn new(inner: R, cap: u64) -> Self {
        Capped {
            inner,
            remaining: cap,
            cap,
        }
    }
}

impl<R: Read> Read for Capped<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        if self.remaining == 0 {
            let mut probe = [0u8; 1];
            return match self.inner.read(&mut probe)? {
                0 => Ok(0),
                _ => Err(io::Error::other(CapExceeded(self.cap))),
            };
        }
        let want = buf
            .len()
            .min(usize::try_from(self.remaining).unwrap_or(usize::MAX));
        let n = self.inner.read(&mut buf[..want])?;
        self.remaining -= n as u64;
        Ok(n)
    }
}
