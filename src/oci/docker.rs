//! The docker-archive tarball (`docker load`, `skopeo copy docker-archive:`): `manifest.json`
//! naming the config and layers of one image, plus those blobs. Layers are stored uncompressed,
//! as `docker save` does, so each layer file's digest is its diff_id and every loader accepts
//! it. Paths follow Docker 25's `docker save` (`blobs/sha256/<hex>`); loaders only follow
//! `manifest.json`, so older ones read it too.
//!
//! Written like the layout: layers go to a temporary directory beside the destination, the
//! tarball to a temporary file beside it, renamed into place on commit.

use std::collections::BTreeMap;
use std::fs::{self, File};
use std::io::{self, BufWriter};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use serde::Serialize;
use tempfile::TempDir;

use super::OciError;
use super::image::PlatformImage;
use super::json::to_canonical_json;
use super::layer::{Compression, LayerInfo, MEDIA_TYPE_LAYER_TAR};
use super::layout::{BlobLayerBuilder, temp_dir_beside};
use super::tar::TarWriter;
use crate::cleanup::{self, Owned};
use crate::entry::{Entry, EntryKind};

#[derive(Serialize)]
struct DockerManifestEntry {
    #[serde(rename = "Config")]
    config: String,
    #[serde(rename = "RepoTags")]
    repo_tags: Vec<String>,
    #[serde(rename = "Layers")]
    layers: Vec<String>,
}

pub struct DockerArchiveWriter {
    final_path: PathBuf,
    tmp: TempDir,
    /// The layer directory is this process's until the archive is written (see
    /// [`crate::cleanup`]).
    _owned: Owned,
}

impl DockerArchiveWriter {
    pub fn create(final_path: &Path) -> Result<Self, OciError> {
        let (tmp, owned) = temp_dir_beside(final_path)?;
        Ok(DockerArchiveWriter {
            final_path: final_path.to_owned(),
            tmp,
            _owned: owned,
        })
    }

    /// A builder for an (uncompressed) layer of the image.
    pub fn layer_builder(&self, source_date_epoch: u64) -> Result<BlobLayerBuilder, OciError> {
        BlobLayerBuilder::new(self.tmp.path(), Compression::None, source_date_epoch)
    }

    /// Writes the tarball for `image` (its layers built by [`Self::layer_builder`]) tagged with
    /// `repo_tags` (`name:tag`; a name without a tag gets `:latest`, which `docker load` needs).
    pub fn commit(self, image: &PlatformImage, repo_tags: &[String]) -> Result<PathBuf, OciError> {
        let blobs = image.blobs()?;
        let mut files: BTreeMap<String, Source<'_>> = BTreeMap::new();
        let blob_path = |hex: String| format!("blobs/sha256/{hex}");
        files.insert(
            blob_path(blobs.config_digest.hex()),
            Source::Bytes(&blobs.config_json),
        );
        let mut layer_paths = Vec::new();
        for layer in &image.layers {
            let info = &layer.info;
            if info.media_type != MEDIA_TYPE_LAYER_TAR || info.digest != info.diff_id {
                return Err(OciError::Output {
                    path: self.final_path.clone(),
                    message: format!(
                        "layer `{}` is {}; a docker archive takes uncompressed layers from DockerArchiveWriter::layer_builder",
                        layer.created_by, info.media_type
                    ),
                });
            }
            let path = blob_path(info.digest.hex());
            layer_paths.push(path.clone());
            files.insert(path, Source::Layer(info));
        }
        let tags = repo_tags
            .iter()
            .map(|t| {
                let name_part = t.rsplit('/').next().unwrap_or(t);
                if name_part.contains(':') || t.contains('@') {
                    t.clone()
                } else {
                    format!("{t}:latest")
                }
            })
            .collect();
        let manifest = to_canonical_json(&[DockerManifestEntry {
            config: blob_path(blobs.config_digest.hex()),
            repo_tags: tags,
            layers: layer_paths,
        }])
        .map_err(|source| OciError::Json {
            what: "docker manifest.json",
            source,
        })?;
        files.insert("manifest.json".to_owned(), Source::Bytes(&manifest));

        let parent = self.tmp.path().parent().map(Path::to_owned).unwrap_or_default();
        let name = self
            .final_path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let (out, out_owned) = cleanup::temp_file(
            if parent.as_os_str().is_empty() {
                Path::new(".")
            } else {
                &parent
            },
            &format!(".{name}.tmp-"),
        )
        .map_err(OciError::io(&parent))?;
        let out_path = out.path().to_owned();
        let located = |e: OciError| match e {
            OciError::LayerWrite(source) => OciError::Io {
                path: out_path.clone(),
                source,
            },
            other => other,
        };

        let sde = image.source_date_epoch;
        let mut tar = TarWriter::new(BufWriter::new(out), sde);
        let dir = |path: &str| Entry {
            mtime: sde,
            ..Entry::generated(path, EntryKind::Directory, 0o755)
        };
        tar.append(&dir("blobs"), &mut io::empty()).map_err(located)?;
        tar.append(&dir("blobs/sha256"), &mut io::empty())
            .map_err(located)?;
        for (path, source) in &files {
            match source {
                Source::Bytes(bytes) => {
                    let entry = Entry {
                        mtime: sde,
                        ..Entry::generated(
                            path.clone(),
                            EntryKind::File {
                                size: bytes.len() as u64,
                            },
                            0o644,
                        )
                    };
                    tar.append(&entry, &mut &bytes[..]).map_err(located)?;
                }
                Source::Layer(info) => {
                    let file_path = self.tmp.path().join(info.digest.hex());
                    let mut file = File::open(&file_path).map_err(OciError::io(&file_path))?;
                    let entry = Entry {
                        mtime: sde,
                        ..Entry::generated(path.clone(), EntryKind::File { size: info.size }, 0o644)
                    };
                    tar.append(&entry, &mut file).map_err(|e| match e {
                        OciError::ContentRead { source, .. } => OciError::Io {
                            path: file_path.clone(),
                            source,
                        },
                        other => located(other),
                    })?;
                }
            }
        }
        let out = tar.finish().map_err(located)?;
        let out = out.into_inner().map_err(|e| OciError::Io {
            path: out_path.clone(),
            source: e.into_error(),
        })?;
        out.as_file().sync_all().map_err(OciError::io(&out_path))?;
        fs::set_permissions(&out_path, fs::Permissions::from_mode(0o644)).map_err(OciError::io(&out_path))?;
        // As an OCI layout replaces only an empty directory or a layout: an existing file is
        // replaced only if it is empty or a docker archive, never someone's other file.
        if let Ok(m) = fs::symlink_metadata(&self.final_path) {
            let message = if m.is_dir() {
                Some("it is a directory; a docker archive is a file")
            } else if !m.is_file() {
                Some("it exists and is not a regular file; refusing to replace it")
            } else if m.len() != 0 && !is_docker_archive(&self.final_path) {
                Some("it exists and is neither empty nor a docker archive; refusing to replace it")
            } else {
                None
            };
            if let Some(message) = message {
                return Err(OciError::Output {
                    path: self.final_path.clone(),
                    message: message.into(),
                });
            }
        }
        let persisted = cleanup::critical(|| out.persist(&self.final_path));
        drop(out_owned);
        persisted.map_err(|e| OciError::Io {
            path: self.final_path.clone(),
            source: e.error,
        })?;
        // `self.tmp` (the layer files) is removed on drop.
        Ok(self.final_path)
    }
}

/// Whether `path` is a tarball with a top-level `manifest.json` (what `docker save` and debcast
/// write). Reads the tar headers only, seeking over the contents.
pub fn is_docker_archive(path: &Path) -> bool {
    let Ok(file) = File::open(path) else {
        return false;
    };
    let mut archive = tar::Archive::new(file);
    let Ok(entries) = archive.entries_with_seek() else {
        return false;
    };
    for entry in entries {
        let Ok(entry) = entry else {
            return false;
        };
        let is_manifest = entry
            .path()
            .is_ok_and(|p| p.as_os_str() == "manifest.json" || p.as_os_str() == "./manifest.json");
        if is_manifest {
            return true;
        }
    }
    false
}

enum Source<'a> {
    Bytes(&'a [u8]),
    Layer(&'a LayerInfo),
}
