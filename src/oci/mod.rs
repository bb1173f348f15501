//! OCI output: deterministic layers, image config/manifest/index, the OCI image layout and the
//! docker-archive tarball.
//!
//! - [`tar`]: the tar writer (ustar + PAX only where needed, clamped mtimes, no host metadata).
//! - [`layer`]: [`LayerBuilder`], compressing and hashing (digest and diff_id) while streaming.
//! - [`json`]: canonical JSON for every blob.
//! - [`image`]: config, manifest, index objects; [`PlatformImage`] is one platform's image.
//! - [`layout`]: [`LayoutWriter`], an OCI image layout built beside its destination and renamed
//!   into place on commit.
//! - [`docker`]: [`DockerArchiveWriter`], the `docker load`/`docker-archive:` tarball, atomically.
//!
//! ## `index.json`
//!
//! The layout's `index.json` lists, first, one image index (a blob) annotated with the ref name
//! the caller gives (`static:latest`); that nested index lists each platform's manifest with its
//! `platform`. Then, for each platform, the same manifest descriptor again, annotated
//! `<ref>-<os>-<arch>[-<variant>]` (`static:latest-linux-arm64`). Why both:
//!
//! - `skopeo inspect/copy oci:DIR:REF` (1.9) resolves REF to the nested index and picks the
//!   platform (`--override-arch`, `--all`), as registries and buildkit's OCI exporter do.
//! - `umoci unpack --image DIR:REF` (0.4.7) has no platform choice: a REF that leads to more
//!   than one manifest is "ambiguous". The per-platform refs give it exactly one. Listing the
//!   per-platform manifests under the plain REF instead would make skopeo silently take the first
//!   one, whatever the platform asked for, so REF itself always names the index.
//!
//! The per-platform refs are written for single-platform builds too, so scripts need not care how
//! many platforms a manifest has. Note that umoci 0.4.7 cannot read `tar+zstd` layers ("blob is
//! not correct mediatype"); skopeo 1.9 can. Gzip is the default for that reason.

pub mod docker;
pub mod image;
pub mod json;
pub mod layer;
pub mod layout;
pub mod merge;
pub mod tar;

use std::io;
use std::path::PathBuf;

pub use docker::DockerArchiveWriter;
pub use image::{
    Descriptor, DescriptorExt, ImageBlobs, ImageConfiguration, ImageIndex, ImageManifest, LayerRecord,
    PlatformImage,
};
pub use json::to_canonical_json;
pub use layer::{Compression, LayerBuilder, LayerInfo};
pub use layout::{BlobLayerBuilder, LayoutWriter, platform_ref_name};

#[derive(Debug, thiserror::Error)]
pub enum OciError {
    #[error("{}: {source}", path.display())]
    Io { path: PathBuf, source: io::Error },
    #[error("{}: {message}", path.display())]
    Output { path: PathBuf, message: String },
    #[error("layer entry `{path}`: {message}")]
    InvalidEntry { path: String, message: String },
    #[error("layer entry `{path}`: content ended after {actual} bytes, the entry says {expected}")]
    ContentTooShort {
        path: String,
        expected: u64,
        actual: u64,
    },
    #[error("layer entry `{path}`: content is longer than the {expected} bytes the entry says")]
    ContentTooLong { path: String, expected: u64 },
    #[error("layer entry `{path}`: reading content: {source}")]
    ContentRead { path: String, source: io::Error },
    #[error("writing layer: {0}")]
    LayerWrite(io::Error),
    #[error("layer compression: {0}")]
    Compression(String),
    #[error("image config: {0}")]
    InvalidConfig(String),
    #[error(
        "invalid image reference name `{0}` (components of [A-Za-z0-9] joined by one of `-._:@+/` or `--`)"
    )]
    InvalidRefName(String),
    #[error("{what}: {source}")]
    Spec {
        what: &'static str,
        source: oci_spec::OciSpecError,
    },
    #[error("`{0}` is not a sha256 digest (debcast reads and writes sha256 only)")]
    Digest(String),
    #[error("serialising {what}: {source}")]
    Json {
        what: &'static str,
        source: serde_json::Error,
    },
}

impl OciError {
    pub(crate) fn io(path: impl Into<PathBuf>) -> impl FnOnce(io::Error) -> OciError {
        let path = path.into();
        move |source| OciError::Io { path, source }
    }
}

#[cfg(test)]
mod tests;
