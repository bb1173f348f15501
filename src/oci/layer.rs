//! Layer blobs: a deterministic tar stream, optionally compressed, hashed twice while it streams
//! (diff_id over the tar, digest over the compressed bytes) so a layer is never held in memory
//! nor read back.

use std::io::{self, Read, Write};

use super::OciError;
use super::tar::TarWriter;
use crate::entry::Entry;
use crate::hash::{HashingWriter, Sha256Digest};

pub const MEDIA_TYPE_LAYER_GZIP: &str = "application/vnd.oci.image.layer.v1.tar+gzip";
pub const MEDIA_TYPE_LAYER_ZSTD: &str = "application/vnd.oci.image.layer.v1.tar+zstd";
pub const MEDIA_TYPE_LAYER_TAR: &str = "application/vnd.oci.image.layer.v1.tar";

/// How a layer's tar stream is compressed. Output is a pure function of the entries and the level
/// for a given build of debcast: flate2 runs on zlib-rs (never the host's zlib), zstd is
/// single-threaded and statically linked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    /// Levels 0..=9.
    Gzip {
        level: u32,
    },
    /// Levels 1..=22.
    Zstd {
        level: i32,
    },
    None,
}

impl Compression {
    pub fn media_type(&self) -> &'static str {
        match self {
            Compression::Gzip { .. } => MEDIA_TYPE_LAYER_GZIP,
            Compression::Zstd { .. } => MEDIA_TYPE_LAYER_ZSTD,
            Compression::None => MEDIA_TYPE_LAYER_TAR,
        }
    }
}

impl Default for Compression {
    fn default() -> Self {
        Compression::Gzip { level: 6 }
    }
}

/// What a finished layer is: its blob (digest, size, media type) and its uncompressed tar's digest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LayerInfo {
    /// SHA-256 of the blob as stored (compressed).
    pub digest: Sha256Digest,
    /// Size of the blob as stored.
    pub size: u64,
    /// SHA-256 of the uncompressed tar (the image config's `rootfs.diff_ids`).
    pub diff_id: Sha256Digest,
    pub media_type: &'static str,
}

/// The compressor stage, writing into a hasher of the compressed bytes.
enum Compressor<W: Write> {
    Gzip(flate2::write::GzEncoder<HashingWriter<W>>),
    Zstd(zstd::stream::write::Encoder<'static, HashingWriter<W>>),
    None(HashingWriter<W>),
}

impl<W: Write> Write for Compressor<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Compressor::Gzip(w) => w.write(buf),
            Compressor::Zstd(w) => w.write(buf),
            Compressor::None(w) => w.write(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            Compressor::Gzip(w) => w.flush(),
            Compressor::Zstd(w) => w.flush(),
            Compressor::None(w) => w.flush(),
        }
    }
}

impl<W: Write> Compressor<W> {
    fn finish(self) -> io::Result<HashingWriter<W>> {
        match self {
            Compressor::Gzip(w) => w.finish(),
            Compressor::Zstd(w) => w.finish(),
            Compressor::None(w) => Ok(w),
        }
    }
}

/// Builds one layer into `W`. Entries go in the order given; sorting is the caller's job (the
/// assembler owns the tree), so that this type never buffers.
pub struct LayerBuilder<W: Write> {
    tar: TarWriter<HashingWriter<Compressor<W>>>,
    compression: Compression,
}

impl<W: Write> LayerBuilder<W> {
    pub fn new(out: W, compression: Compression, source_date_epoch: u64) -> Result<Self, OciError> {
        let hashed = HashingWriter::new(out);
        let compressor = match compression {
            Compression::Gzip { level } => {
                if level > 9 {
                    return Err(OciError::Compression(format!(
                        "gzip level {level} is out of range 0..=9"
                    )));
                }
                // Fixed header: mtime 0, no file name, OS byte 255 ("unknown", as Go writes it),
                // so the bytes never say which host or when they were made.
                Compressor::Gzip(
                    flate2::GzBuilder::new()
                        .mtime(0)
                        .operating_system(255)
                        .write(hashed, flate2::Compression::new(level)),
                )
            }
            Compression::Zstd { level } => {
                if !(1..=22).contains(&level) {
                    return Err(OciError::Compression(format!(
                        "zstd level {level} is out of range 1..=22"
                    )));
                }
                let encoder = zstd::stream::write::Encoder::new(hashed, level)
                    .map_err(|e| OciError::Compression(format!("zstd encoder: {e}")))?;
                Compressor::Zstd(encoder)
            }
            Compression::None => Compressor::None(hashed),
        };
        Ok(LayerBuilder {
            tar: TarWriter::new(HashingWriter::new(compressor), source_date_epoch),
            compression,
        })
    }

    /// Appends an entry; see [`TarWriter::append`].
    pub fn append(&mut self, entry: &Entry, content: &mut dyn Read) -> Result<(), OciError> {
        self.tar.append(entry, content)
    }

    /// Bytes of uncompressed tar written so far.
    pub fn uncompressed_len(&mut self) -> u64 {
        self.tar.get_mut().len()
    }

    pub fn finish(self) -> Result<LayerInfo, OciError> {
        self.finish_with_writer().map(|(info, _)| info)
    }

    /// Finishes the layer and hands back the output (so a caller can sync and rename a file).
    pub fn finish_with_writer(self) -> Result<(LayerInfo, W), OciError> {
        let tar_hasher = self.tar.finish()?;
        let (diff_id, _, compressor) = tar_hasher.finish();
        let blob_hasher = compressor.finish().map_err(OciError::LayerWrite)?;
        let (digest, size, mut out) = blob_hasher.finish();
        out.flush().map_err(OciError::LayerWrite)?;
        Ok((
            LayerInfo {
                digest,
                size,
                diff_id,
                media_type: self.compression.media_type(),
            },
            out,
        ))
    }
}
