//! The `[[artifact]]` layers, one per artifact, over the package layers.

use std::path::PathBuf;

use crate::assemble::{self, Assembled};
use crate::hash::Sha256Digest;
use crate::lockfile::Lockfile;
use crate::manifest::Manifest;
use crate::oci::{Compression, LayerRecord};
use crate::platform::Platform;
use crate::store::{CachedLayer, Kind, Store};

use super::layers::{Sink, link_cached, new_builder};
use super::{BuildError, PlatformLayers};

/// An artifact as this platform gets it: the manifest's entry, its format and its lock entry.
pub(super) struct PlatformArtifact<'a> {
    pub(super) artifact: &'a crate::manifest::Artifact,
    pub(super) format: crate::manifest::ArtifactFormat,
    pub(super) locked: &'a crate::lockfile::LockedArtifact,
}

pub(super) fn platform_artifacts<'a>(
    manifest: &'a Manifest,
    lock: &'a Lockfile,
    platform: &Platform,
) -> Result<Vec<PlatformArtifact<'a>>, BuildError> {
    manifest
        .artifacts
        .iter()
        .filter_map(|a| a.for_platform(platform).map(|pa| (a, pa)))
        .map(|(artifact, pa)| {
            let locked = lock
                .artifact(platform, &artifact.name)
                .filter(|l| l.url == pa.url)
                .ok_or_else(|| BuildError::ArtifactNotLocked {
                    name: artifact.name.clone(),
                    platform: platform.clone(),
                })?;
            Ok(PlatformArtifact {
                artifact,
                format: pa.format,
                locked,
            })
        })
        .collect()
}

pub(super) struct ArtifactContext<'a> {
    pub(super) store: &'a Store,
    /// The `.deb` hashes of the platform's packages.
    pub(super) packages: &'a [Sha256Digest],
    pub(super) sink: Sink<'a>,
    pub(super) compression: Compression,
    pub(super) sde: u64,
    pub(super) usrmerge: bool,
}

/// Appends one layer per artifact to `layers`: from the layer cache (`hits`) where every one is
/// there, else unpacked from the store and placed over `assembled`.
pub(super) fn artifact_layers(
    ctx: &ArtifactContext<'_>,
    artifacts: &[PlatformArtifact<'_>],
    keys: Option<&[Sha256Digest]>,
    hits: &[Option<(CachedLayer, PathBuf)>],
    assembled: Option<&Assembled>,
    layers: &mut PlatformLayers,
) -> Result<(), BuildError> {
    let cache = match ctx.sink {
        Sink::Layout { cache, .. } => cache,
        Sink::Docker(_) => None,
    };
    let mut earlier = assemble::artifacts::ArtifactPaths::default();
    for (i, a) in artifacts.iter().enumerate() {
        let created_by = format!("debcast: artifact {} ({})", a.artifact.name, a.locked.url);
        if let (Some((layer, path)), Sink::Layout { writer, .. }) = (&hits[i], ctx.sink)
            && hits.iter().all(Option::is_some)
        {
            layers.records.push(LayerRecord {
                info: link_cached(writer, layer, path)?,
                created_by,
            });
            layers.reused += 1;
            continue;
        }
        let assembled = assembled.ok_or_else(|| {
            BuildError::Internal(format!(
                "{}: the image tree is needed and was not assembled",
                a.locked.label()
            ))
        })?;
        let file = ctx
            .store
            .verify(
                Kind::Artifact,
                &crate::fetch::artifacts::expected_in(a.locked, ctx.store),
                &a.locked.label(),
            )
            .map_err(|source| BuildError::Store {
                package: a.locked.label(),
                source,
            })?;
        let unpacked = crate::artifact::unpack(a.artifact, a.format, a.locked, &file, ctx.usrmerge)?;
        let entries = assembled.artifact_layer(&unpacked, a.artifact.replaces, &mut earlier, ctx.sde)?;
        if let (Some((layer, path)), Sink::Layout { writer, .. }) = (&hits[i], ctx.sink) {
            // Its layer is cached; it was unpacked only for what the next ones may overlay.
            layers.records.push(LayerRecord {
                info: link_cached(writer, layer, path)?,
                created_by,
            });
            layers.reused += 1;
            continue;
        }
        let mut builder = new_builder(ctx.sink, ctx.compression, ctx.sde)?;
        for (entry, span) in &entries {
            let mut content = unpacked
                .content(*span)
                .map_err(|e| BuildError::Internal(format!("{}: reading its spool: {e}", a.locked.label())))?;
            builder.append(entry, &mut content)?;
        }
        let info = builder.finish()?;
        if let (Some(cache), Some(keys), Sink::Layout { writer, .. }) = (cache, keys, ctx.sink) {
            // What `store gc` must keep for this layer to stay useful: the packages below it
            // and the artifact itself.
            let mut debs: Vec<Sha256Digest> = ctx.packages.to_vec();
            debs.push(a.locked.sha256);
            let record = CachedLayer {
                digest: info.digest,
                size: info.size,
                diff_id: info.diff_id,
                media_type: info.media_type.to_owned(),
                extra: serde_json::Value::Null,
                debs,
            };
            cache.put(&keys[i], &record).map_err(BuildError::Cache)?;
            cache.record_verified(&info.digest);
            writer.link_blob(&cache.blob_path(&info.digest), &info)?;
        }
        layers.records.push(LayerRecord { info, created_by });
        layers.compressed += 1;
    }
    Ok(())
}
