//! Layer writing: where layers go ([`Sink`]), the layer cache read and filled, whiteouts.

use std::io;
use std::path::{Path, PathBuf};

use crate::assemble::system::NotEmulated;
use crate::assemble::{Assembled, Spools, View};
use crate::entry::{Entry, EntryKind};
use crate::hash::Sha256Digest;
use crate::oci::layer::{MEDIA_TYPE_LAYER_GZIP, MEDIA_TYPE_LAYER_TAR, MEDIA_TYPE_LAYER_ZSTD};
use crate::oci::{BlobLayerBuilder, Compression, DockerArchiveWriter, LayerInfo, LayoutWriter, OciError};
use crate::store::{CachedLayer, LayerCache, StoreError};

use super::BuildError;

/// Where a build's layers go.
#[derive(Clone, Copy)]
pub(super) enum Sink<'a> {
    Layout {
        writer: &'a LayoutWriter,
        cache: Option<&'a LayerCache>,
    },
    Docker(&'a DockerArchiveWriter),
}

impl<'a> Sink<'a> {
    /// The layer cache the layers go through, if any (an OCI layout's, when the build uses it).
    pub(super) fn cache(self) -> Option<&'a LayerCache> {
        match self {
            Sink::Layout { cache, .. } => cache,
            Sink::Docker(_) => None,
        }
    }
}

pub(super) fn new_builder(
    sink: Sink<'_>,
    compression: Compression,
    source_date_epoch: u64,
) -> Result<BlobLayerBuilder, OciError> {
    match sink {
        Sink::Layout {
            cache: Some(cache), ..
        } => BlobLayerBuilder::new(&cache.blob_dir(), compression, source_date_epoch),
        Sink::Layout { writer, cache: None } => writer.layer_builder(compression, source_date_epoch),
        Sink::Docker(writer) => writer.layer_builder(source_date_epoch),
    }
}

/// A layer of the image, about to be written or taken from the cache.
pub(super) struct LayerJob<'a> {
    pub(super) key: Option<Sha256Digest>,
    pub(super) view: View<'a>,
    pub(super) whiteouts: Vec<String>,
    pub(super) extra: serde_json::Value,
    /// The `.deb` files the layer is made from (kept in the cache record for `store gc`).
    pub(super) debs: Vec<Sha256Digest>,
}

pub(super) const GENERATED_CREATED_BY: &str = "debcast: dpkg database and generated files";

/// A cache record whose blob verifies; a damaged one is reported and treated as a miss.
pub(super) fn cached(cache: &LayerCache, key: &Sha256Digest) -> Option<(CachedLayer, PathBuf)> {
    let layer = cache.get(key)?;
    match cache.verify(key, &layer) {
        Ok(path) => Some((layer, path)),
        Err(e) => {
            tracing::warn!("layer cache: {e}; rebuilding that layer");
            None
        }
    }
}

pub(super) fn cached_info(layer: &CachedLayer) -> Result<LayerInfo, BuildError> {
    let media_type = [MEDIA_TYPE_LAYER_GZIP, MEDIA_TYPE_LAYER_ZSTD, MEDIA_TYPE_LAYER_TAR]
        .into_iter()
        .find(|m| *m == layer.media_type)
        .ok_or_else(|| {
            BuildError::Cache(StoreError::Io {
                path: PathBuf::from(layer.digest.hex()),
                source: io::Error::other(format!("unknown media type `{}`", layer.media_type)),
            })
        })?;
    Ok(LayerInfo {
        digest: layer.digest,
        size: layer.size,
        diff_id: layer.diff_id,
        media_type,
    })
}

/// Puts a verified cached layer's blob into the output layout.
pub(super) fn link_cached(
    writer: &LayoutWriter,
    layer: &CachedLayer,
    path: &Path,
) -> Result<LayerInfo, BuildError> {
    let info = cached_info(layer)?;
    writer.link_blob(path, &info)?;
    Ok(info)
}

/// Takes a layer from the cache if it is there and verifies, else writes (and caches) it.
pub(super) fn write_or_reuse(
    assembled: &Assembled,
    job: &LayerJob<'_>,
    sink: Sink<'_>,
    cache: Option<&LayerCache>,
    compression: Compression,
    sde: u64,
) -> Result<(LayerInfo, bool), BuildError> {
    if let (Some(cache), Some(key), Sink::Layout { writer, .. }) = (cache, &job.key, sink)
        && let Some((layer, path)) = cached(cache, key)
    {
        return Ok((link_cached(writer, &layer, &path)?, true));
    }
    Ok((
        write_layer(assembled.spools(), job, sink, cache, compression, sde)?,
        false,
    ))
}

/// Writes a layer (and caches it, with a key).
pub(super) fn write_layer(
    spools: &Spools,
    job: &LayerJob<'_>,
    sink: Sink<'_>,
    cache: Option<&LayerCache>,
    compression: Compression,
    sde: u64,
) -> Result<LayerInfo, BuildError> {
    let mut builder = new_builder(sink, compression, sde)?;
    for path in &job.whiteouts {
        // An empty regular file named `.wh.NAME` hides NAME of the layers below (OCI image spec,
        // "Whiteouts").
        let entry = Entry {
            mtime: sde,
            ..Entry::generated(path.clone(), EntryKind::File { size: 0 }, 0o644)
        };
        builder.append(&entry, &mut io::empty())?;
    }
    spools.for_each_in(&job.view, |entry, content| {
        builder.append(entry, content).map_err(BuildError::from)
    })?;
    let info = builder.finish()?;
    if let (Some(cache), Some(key), Sink::Layout { writer, .. }) = (cache, &job.key, sink) {
        let record = CachedLayer {
            digest: info.digest,
            size: info.size,
            diff_id: info.diff_id,
            media_type: info.media_type.to_owned(),
            extra: job.extra.clone(),
            debs: job.debs.clone(),
        };
        cache.put(key, &record).map_err(BuildError::Cache)?;
        // Hashed while it was written: the next build need not re-hash it.
        cache.record_verified(&info.digest);
        writer.link_blob(&cache.blob_path(&info.digest), &info)?;
    }
    super::LAYERS_WRITTEN.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    Ok(info)
}

pub(super) fn report_to_json(report: &[NotEmulated]) -> serde_json::Value {
    report
        .iter()
        .map(|n| serde_json::json!([n.package, n.script, n.what]))
        .collect()
}

pub(super) fn report_from_json(v: &serde_json::Value) -> Vec<NotEmulated> {
    v.as_array()
        .map(|items| {
            items
                .iter()
                .filter_map(|i| {
                    let s = |k: usize| i.get(k).and_then(|x| x.as_str()).map(str::to_owned);
                    Some(NotEmulated {
                        package: s(0)?,
                        script: s(1)?,
                        what: s(2)?,
                    })
                })
                .collect()
        })
        .unwrap_or_default()
}
