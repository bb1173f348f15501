//! The OCI image layout, written with "a failed build leaves no output": everything goes into a
//! temporary directory beside the destination (`.NAME.tmp-XXXXXX`), which `commit` renames into
//! place; dropping the writer without committing removes it.

use std::fs::{self, File};
use std::io::{BufWriter, Read, Write};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use tempfile::{NamedTempFile, TempDir};

use super::OciError;
use super::image::{
    ANNOTATION_REF_NAME, Descriptor, DescriptorExt, ImageBlobs, ImageIndex, MEDIA_TYPE_INDEX, PlatformImage,
    descriptor, image_index,
};
use super::json::to_canonical_json;
use super::layer::{Compression, LayerBuilder, LayerInfo};
use crate::cleanup::{self, Owned};
use crate::entry::Entry;
use crate::hash::Sha256Digest;
use crate::platform::Platform;

const OCI_LAYOUT: &[u8] = br#"{"imageLayoutVersion":"1.0.0"}"#;

/// A layer being written to a temporary file in a blob directory; `finish` renames it to its
/// digest. Independent of the writer that made it, so layers can be built in parallel.
pub struct BlobLayerBuilder {
    inner: LayerBuilder<BufWriter<NamedTempFile>>,
    blob_dir: PathBuf,
    temp_path: PathBuf,
    /// The temporary file is this process's until it is renamed (see [`crate::cleanup`]).
    owned: Owned,
}

impl BlobLayerBuilder {
    pub(crate) fn new(
        blob_dir: &Path,
        compression: Compression,
        source_date_epoch: u64,
    ) -> Result<Self, OciError> {
        let (file, owned) = cleanup::temp_file(blob_dir, ".layer-").map_err(OciError::io(blob_dir))?;
        let temp_path = file.path().to_owned();
        let inner = LayerBuilder::new(
            BufWriter::with_capacity(256 * 1024, file),
            compression,
            source_date_epoch,
        )?;
        Ok(BlobLayerBuilder {
            inner,
            blob_dir: blob_dir.to_owned(),
            temp_path,
            owned,
        })
    }

    pub fn append(&mut self, entry: &Entry, content: &mut dyn Read) -> Result<(), OciError> {
        self.inner
            .append(entry, content)
            .map_err(|e| locate(&self.temp_path, e))
    }

    pub fn finish(self) -> Result<LayerInfo, OciError> {
        let BlobLayerBuilder {
            inner,
            blob_dir,
            temp_path,
            owned,
        } = self;
        let (info, writer) = inner.finish_with_writer().map_err(|e| locate(&temp_path, e))?;
        let file = writer.into_inner().map_err(|e| OciError::Io {
            path: temp_path.clone(),
            source: e.into_error(),
        })?;
        persist_blob(file, &blob_dir, &info.digest)?;
        drop(owned);
        Ok(info)
    }
}

/// Stream errors of a layer builder are errors writing its temporary file.
fn locate(temp_path: &Path, e: OciError) -> OciError {
    match e {
        OciError::LayerWrite(source) => OciError::Io {
            path: temp_path.to_owned(),
            source,
        },
        other => other,
    }
}

/// Syncs a finished blob, makes it world-readable (temp files are 0600) and renames it to its
/// digest. An existing blob of that digest has the same bytes, so replacing it is harmless.
fn persist_blob(file: NamedTempFile, blob_dir: &Path, digest: &Sha256Digest) -> Result<(), OciError> {
    let temp_path = file.path().to_owned();
    file.as_file().sync_all().map_err(OciError::io(&temp_path))?;
    fs::set_permissions(&temp_path, fs::Permissions::from_mode(0o644)).map_err(OciError::io(&temp_path))?;
    let dest = blob_dir.join(digest.hex());
    file.persist(&dest).map_err(|e| OciError::Io {
        path: dest,
        source: e.error,
    })?;
    Ok(())
}

fn write_blob(blob_dir: &Path, bytes: &[u8]) -> Result<Sha256Digest, OciError> {
    let digest = Sha256Digest::of(bytes);
    let (mut file, _owned) = cleanup::temp_file(blob_dir, ".blob-").map_err(OciError::io(blob_dir))?;
    file.write_all(bytes).map_err(OciError::io(file.path()))?;
    persist_blob(file, blob_dir, &digest)?;
    Ok(digest)
}

/// A temporary directory beside `dest`, named `.NAME.tmp-PID-XXXXXX`, so the final rename stays on
/// one filesystem; owned by this process until it is renamed (see [`crate::cleanup`]).
pub(crate) fn temp_dir_beside(dest: &Path) -> Result<(TempDir, Owned), OciError> {
    let name = dest.file_name().ok_or_else(|| OciError::Output {
        path: dest.to_owned(),
        message: "output path has no file name".into(),
    })?;
    let parent = match dest.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_owned(),
        _ => PathBuf::from("."),
    };
    cleanup::temp_dir(&parent, &format!(".{}.tmp-", name.to_string_lossy())).map_err(OciError::io(parent))
}

/// `<ref>-<os>-<arch>[-<variant>]`: the per-platform ref name listed in `index.json` (see the
/// module docs of [`crate::oci`] for why).
pub fn platform_ref_name(ref_name: &str, platform: &Platform) -> String {
    let mut s = format!("{ref_name}-{}-{}", platform.os, platform.architecture);
    if let Some(v) = &platform.variant {
        s.push('-');
        s.push_str(v);
    }
    s
}

/// Checks a ref name against the image-layout grammar for `org.opencontainers.image.ref.name`:
/// components of alphanumerics joined by one of `-._:@+` or `--`, separated by `/`.
pub fn validate_ref_name(ref_name: &str) -> Result<(), OciError> {
    let bad = || OciError::InvalidRefName(ref_name.to_owned());
    for component in ref_name.split('/') {
        let bytes = component.as_bytes();
        let mut i = 0;
        let mut expect_alnum = true;
        if bytes.is_empty() {
            return Err(bad());
        }
        while i < bytes.len() {
            if bytes[i].is_ascii_alphanumeric() {
                expect_alnum = false;
                i += 1;
            } else if expect_alnum {
                return Err(bad());
            } else if bytes[i..].starts_with(b"--") {
                expect_alnum = true;
                i += 2;
            } else if b"-._:@+".contains(&bytes[i]) {
                expect_alnum = true;
                i += 1;
            } else {
                return Err(bad());
            }
        }
        if expect_alnum {
            return Err(bad());
        }
    }
    Ok(())
}

/// Writes an OCI image layout; see the module docs.
pub struct LayoutWriter {
    final_dir: PathBuf,
    tmp: TempDir,
    owned: Owned,
    blob_dir: PathBuf,
}

impl LayoutWriter {
    pub fn create(final_dir: &Path) -> Result<Self, OciError> {
        let (tmp, owned) = temp_dir_beside(final_dir)?;
        let blob_dir = tmp.path().join("blobs").join("sha256");
        fs::create_dir_all(&blob_dir).map_err(OciError::io(&blob_dir))?;
        Ok(LayoutWriter {
            final_dir: final_dir.to_owned(),
            tmp,
            owned,
            blob_dir,
        })
    }

    /// The temporary directory being filled.
    pub fn temp_path(&self) -> &Path {
        self.tmp.path()
    }

    pub fn final_path(&self) -> &Path {
        &self.final_dir
    }

    pub fn layer_builder(
        &self,
        compression: Compression,
        source_date_epoch: u64,
    ) -> Result<BlobLayerBuilder, OciError> {
        BlobLayerBuilder::new(&self.blob_dir, compression, source_date_epoch)
    }

    /// Puts an existing, verified layer blob (from the layer cache) into this layout as a file of
    /// its own: a reflink (copy-on-write clone) where the filesystem offers it, else a copy. Never
    /// a hard link: an output shares no inode with the cache, so changing one (a flipped byte, a
    /// `chmod -R`) cannot change the other.
    pub fn link_blob(&self, source: &Path, info: &LayerInfo) -> Result<(), OciError> {
        if self.has_blob(&info.digest, info.size) {
            return Ok(());
        }
        let (tmp, _owned) =
            cleanup::temp_file(&self.blob_dir, ".blob-").map_err(OciError::io(&self.blob_dir))?;
        clone_or_copy(source, tmp.as_file()).map_err(OciError::io(source))?;
        persist_blob(tmp, &self.blob_dir, &info.digest)
    }

    pub fn add_blob(&self, bytes: &[u8]) -> Result<Sha256Digest, OciError> {
        write_blob(&self.blob_dir, bytes)
    }

    fn has_blob(&self, digest: &Sha256Digest, size: u64) -> bool {
        fs::metadata(self.blob_dir.join(digest.hex())).is_ok_and(|m| m.len() == size)
    }

    /// Writes one platform's config and manifest. Its layers must already be in this layout.
    pub fn add_image(&self, image: &PlatformImage) -> Result<ImageBlobs, OciError> {
        for layer in &image.layers {
            if !self.has_blob(&layer.info.digest, layer.info.size) {
                return Err(OciError::Output {
                    path: self.blob_dir.join(layer.info.digest.hex()),
                    message: format!(
                        "layer `{}` of the {} image was not written to this layout",
                        layer.created_by, image.platform
                    ),
                });
            }
        }
        let blobs = image.blobs()?;
        self.add_blob(&blobs.config_json)?;
        self.add_blob(&blobs.manifest_json)?;
        Ok(blobs)
    }

    /// Writes an image index blob and returns its descriptor.
    pub fn add_index(&self, index: &ImageIndex) -> Result<Descriptor, OciError> {
        let bytes = to_canonical_json(index).map_err(|source| OciError::Json {
            what: "image index",
            source,
        })?;
        let digest = self.add_blob(&bytes)?;
        Ok(descriptor(MEDIA_TYPE_INDEX, digest, bytes.len() as u64))
    }

    /// The usual commit: a nested image index of `images` (manifest descriptors with `platform`
    /// set, as [`ImageBlobs::manifest_descriptor`]) under `ref_name`, plus one per-platform ref
    /// per image (see the module docs). Returns the `index.json` written.
    pub fn commit_images(self, ref_name: &str, images: &[Descriptor]) -> Result<ImageIndex, OciError> {
        self.commit_images_with(ref_name, images, Vec::new())
    }

    /// [`Self::commit_images`], with `extra` descriptors (SBOM artifact manifests already in this
    /// layout) listed after the images in `index.json`. The images' digests do not change.
    pub fn commit_images_with(
        self,
        ref_name: &str,
        images: &[Descriptor],
        extra: Vec<Descriptor>,
    ) -> Result<ImageIndex, OciError> {
        validate_ref_name(ref_name)?;
        if images.is_empty() {
            return Err(OciError::Output {
                path: self.final_dir.clone(),
                message: "an image layout needs at least one image".into(),
            });
        }
        let nested = self.add_index(&image_index(images.to_vec())?)?;
        let mut manifests = vec![nested.with_annotation(ANNOTATION_REF_NAME, ref_name)];
        for image in images {
            let platform = image.platform().as_ref().ok_or_else(|| OciError::Output {
                path: self.final_dir.clone(),
                message: format!("manifest {} has no platform", image.digest()),
            })?;
            let platform = Platform {
                os: platform.os().to_string(),
                architecture: platform.architecture().to_string(),
                variant: platform.variant().clone(),
            };
            let alias = platform_ref_name(ref_name, &platform);
            if manifests
                .iter()
                .any(|d| d.annotation(ANNOTATION_REF_NAME) == Some(alias.as_str()))
            {
                return Err(OciError::Output {
                    path: self.final_dir.clone(),
                    message: format!("two images for platform {platform}"),
                });
            }
            manifests.push(image.clone().with_annotation(ANNOTATION_REF_NAME, &alias));
        }
        manifests.extend(extra);
        let index = image_index(manifests)?;
        self.commit(&index)?;
        Ok(index)
    }

    /// Writes `oci-layout` and `index.json` and renames the layout onto the destination. An
    /// existing destination is replaced only if it is an empty directory or an OCI layout (so a
    /// mistyped `--output` never deletes someone's files), and only after everything else worked.
    pub fn commit(self, index: &ImageIndex) -> Result<PathBuf, OciError> {
        let index_json = to_canonical_json(index).map_err(|source| OciError::Json {
            what: "index.json",
            source,
        })?;
        let root = self.tmp.path().to_owned();
        write_synced(&root.join("oci-layout"), OCI_LAYOUT)?;
        write_synced(&root.join("index.json"), &index_json)?;
        // Temp dirs are created 0700; a published layout is readable like any build output.
        for dir in [root.clone(), root.join("blobs"), self.blob_dir.clone()] {
            fs::set_permissions(&dir, fs::Permissions::from_mode(0o755)).map_err(OciError::io(&dir))?;
        }
        let LayoutWriter {
            final_dir,
            tmp,
            owned,
            ..
        } = self;
        let replaced = replace_with(tmp, &final_dir, |existing| {
            let refuse = |message: &str| OciError::Output {
                path: existing.to_owned(),
                message: message.to_owned(),
            };
            let meta = fs::symlink_metadata(existing).map_err(OciError::io(existing))?;
            if !meta.is_dir() {
                return Err(refuse("it exists and is not a directory; refusing to replace it"));
            }
            let empty = fs::read_dir(existing)
                .map_err(OciError::io(existing))?
                .next()
                .is_none();
            if empty || existing.join("oci-layout").is_file() {
                Ok(())
            } else {
                Err(refuse(
                    "it exists and is neither empty nor an OCI image layout; refusing to replace it",
                ))
            }
        });
        drop(owned);
        replaced?;
        Ok(final_dir)
    }
}

/// Fills `dest` with the bytes of `source`: a reflink (`FICLONE`, shared extents that are copied
/// on write: btrfs, XFS, bcachefs, …) where the filesystem offers it, else a copy (which the kernel
/// may still accelerate with `copy_file_range`).
pub(crate) fn clone_or_copy(source: &Path, dest: &File) -> std::io::Result<()> {
    use std::os::fd::AsRawFd;
    let mut src = File::open(source)?;
    // SAFETY: FICLONE takes the source descriptor as its argument; both descriptors are open
    // files owned by this function's caller and by `src`.
    let cloned = unsafe { libc::ioctl(dest.as_raw_fd(), libc::FICLONE, src.as_raw_fd()) } == 0;
    if cloned {
        return Ok(());
    }
    let mut out = dest;
    std::io::copy(&mut src, &mut out)?;
    Ok(())
}

fn write_synced(path: &Path, bytes: &[u8]) -> Result<(), OciError> {
    let mut f = File::create(path).map_err(OciError::io(path))?;
    f.write_all(bytes).map_err(OciError::io(path))?;
    f.sync_all().map_err(OciError::io(path))?;
    fs::set_permissions(path, fs::Permissions::from_mode(0o644)).map_err(OciError::io(path))
}

/// Renames the finished temporary directory onto `dest`. If `dest` exists (and `may_replace`
/// agrees), it is first moved aside, then removed once the new one is in place; if the second
/// rename fails, it is moved back.
pub(crate) fn replace_with(
    tmp: TempDir,
    dest: &Path,
    may_replace: impl FnOnce(&Path) -> Result<(), OciError>,
) -> Result<(), OciError> {
    let exists = fs::symlink_metadata(dest).is_ok();
    if exists {
        may_replace(dest)?;
    }
    // The swap runs with the signal handler held off: an interruption between the renames
    // would leave the old output moved aside and the new one removed.
    let old = cleanup::critical(|| swap_into_place(tmp.keep(), dest, exists))?;
    // The new output is in place; a leftover old copy is untidy but not wrong (and the next
    // build beside it reclaims it).
    if let Some(old) = old {
        let _ = if old.is_dir() {
            fs::remove_dir_all(&old)
        } else {
            fs::remove_file(&old)
        };
    }
    Ok(())
}

/// Renames `tmp_path` onto `dest`, moving an existing `dest` aside first; returns where it went.
fn swap_into_place(tmp_path: PathBuf, dest: &Path, exists: bool) -> Result<Option<PathBuf>, OciError> {
    let cleanup = |e: OciError| {
        let _ = fs::remove_dir_all(&tmp_path);
        e
    };
    if !exists {
        fs::rename(&tmp_path, dest)
            .map_err(OciError::io(dest))
            .map_err(cleanup)?;
        return Ok(None);
    }
    // `.NAME.tmp-XXXX` -> `.NAME.old-XXXX`: unique because the temp name is.
    let tmp_name = tmp_path
        .file_name()
        .map(|n| n.to_string_lossy().replacen(".tmp-", ".old-", 1))
        .unwrap_or_else(|| ".debcast.old".to_owned());
    let old = tmp_path.with_file_name(tmp_name);
    fs::rename(dest, &old)
        .map_err(OciError::io(dest))
        .map_err(cleanup)?;
    if let Err(e) = fs::rename(&tmp_path, dest) {
        let _ = fs::rename(&old, dest);
        return Err(cleanup(OciError::Io {
            path: dest.to_owned(),
            source: e,
        }));
    }
    Ok(Some(old))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validates_ref_names() {
        for ok in [
            "static",
            "static:latest",
            "a/b:c-d",
            "x--y",
            "registry.example/k8s:v1.2_3+4",
        ] {
            validate_ref_name(ok).unwrap_or_else(|e| panic!("{ok}: {e}"));
        }
        for bad in ["", ":x", "a:", "a//b", "a b", "a---b", "-a", "a/"] {
            assert!(validate_ref_name(bad).is_err(), "{bad}");
        }
    }
}
