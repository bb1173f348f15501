//! One platform's package layers and the last layer over them, for either layering: budget
//! layering's package layers (each a pure function of its packages, see [`crate::layering`]) and
//! the last layer that makes their sum the whole image; or, flat, no package layers and the
//! whole image as the one (last) layer. Decoding is assemble's ([`schedule::unpack`]); this
//! module decides what the layer cache and the unpack records spare it, and writes the layers.

use std::path::PathBuf;
use std::sync::Arc;

use rayon::prelude::*;

use crate::assemble::{self, AssembleOptions, Assembled, Debs, Spools, Tree, Unpacked, View, schedule};
use crate::hash::Sha256Digest;
use crate::layering::{self, Layering, PackageLayer};
use crate::lockfile::{LockedPackage, Lockfile};
use crate::manifest::Manifest;
use crate::oci::{Compression, LayerInfo, LayerRecord};
use crate::platform::Platform;
use crate::store::{CachedLayer, LayerCache, Store};

use super::keys::{generated_layer_key, package_layer_key};
use super::layers::{
    GENERATED_CREATED_BY, LayerJob, Sink, cached, link_cached, report_from_json, report_to_json, write_layer,
    write_or_reuse,
};
use super::records::UnpackCache;
use super::{BuildError, BuildSettings, PlatformLayers, PlatformReport};

/// One platform's image as the build makes it: what its layers are made from, how they are
/// grouped, and where they go.
pub(super) struct PlatformBuild<'a> {
    pub(super) manifest: &'a Manifest,
    pub(super) platform: &'a Platform,
    pub(super) store: &'a Store,
    /// The platform's packages, lock order.
    pub(super) locked: Vec<&'a LockedPackage>,
    /// The package layers (none for a flat image).
    pub(super) groups: Vec<PackageLayer>,
    /// The last layer's entry in the image's history.
    pub(super) last_created_by: String,
    pub(super) sink: Sink<'a>,
    pub(super) compression: Compression,
    pub(super) sde: u64,
}

/// The layer cache's keys of a platform's layers.
pub(super) struct LayerKeys {
    /// By package layer.
    pub(super) groups: Vec<Sha256Digest>,
    /// The last (generated) layer's.
    pub(super) last: Sha256Digest,
}

impl<'a> PlatformBuild<'a> {
    pub(super) fn new(
        manifest: &'a Manifest,
        lock: &'a Lockfile,
        store: &'a Store,
        platform: &'a Platform,
        settings: &BuildSettings,
        sink: Sink<'a>,
    ) -> Result<Self, BuildError> {
        let locked: Vec<&LockedPackage> = lock.packages_for(platform).collect();
        if locked.is_empty() {
            return Err(BuildError::EmptyPlatform(platform.clone()));
        }
        // A docker-archive's layers are uncompressed.
        let compression = match sink {
            Sink::Layout { .. } => settings.compression,
            Sink::Docker(_) => Compression::None,
        };
        let (groups, last_created_by) = match settings.layering {
            Layering::Flat => (Vec::new(), format!("debcast: {} Debian packages", locked.len())),
            Layering::Budget { max_layers } => (
                layering::plan(&locked, max_layers),
                GENERATED_CREATED_BY.to_owned(),
            ),
        };
        Ok(PlatformBuild {
            manifest,
            platform,
            store,
            locked,
            groups,
            last_created_by,
            sink,
            compression,
            sde: settings.source_date_epoch,
        })
    }

    pub(super) fn cache(&self) -> Option<&'a LayerCache> {
        self.sink.cache()
    }

    /// The layers' cache keys, when the build uses the layer cache.
    pub(super) fn keys(&self) -> Option<LayerKeys> {
        self.cache()?;
        let (usrmerge, compression, sde) = (self.manifest.usrmerge(), self.compression, self.sde);
        Some(LayerKeys {
            groups: (self.groups.iter())
                .map(|g| package_layer_key(&self.locked, g, usrmerge, compression, sde))
                .collect(),
            last: generated_layer_key(
                self.manifest,
                self.platform,
                &self.locked,
                &self.groups,
                compression,
                sde,
            ),
        })
    }
}

/// A package layer and the tree it holds, as written by this build.
type Written = (LayerInfo, Tree);

/// The package layers (from the layer cache where it has them, else written as soon as their
/// packages are decoded) and the last layer, which makes the sum equal to the flat image.
/// `fast_path`: a rebuild whose layers are all cached may skip assembling the tree (the
/// artifact layers above need it unless theirs are cached too).
pub(super) fn package_layers(
    build: &PlatformBuild<'_>,
    keys: Option<&LayerKeys>,
    fast_path: bool,
) -> Result<(PlatformLayers, Option<Assembled>), BuildError> {
    let platform = build.platform;
    // The package layers the cache has (verified).
    let hits: Vec<Option<(CachedLayer, PathBuf)>> = match (build.cache(), keys) {
        (Some(cache), Some(keys)) => keys.groups.par_iter().map(|k| cached(cache, k)).collect(),
        _ => build.groups.iter().map(|_| None).collect(),
    };
    if fast_path
        && hits.iter().all(Option::is_some)
        && let Some(layers) = all_cached(build, keys, &hits)?
    {
        tracing::debug!("{platform}: every layer from the layer cache");
        return Ok((layers, None));
    }

    let started = std::time::Instant::now();
    let sde = build.sde;
    let options = AssembleOptions {
        usrmerge: build.manifest.usrmerge(),
    };
    let debs = Arc::new(Debs::new(build.store, &build.locked, options));
    let labels = debs.labels();
    let unpack_records = build.cache().map(|_| UnpackCache::new(build.store.root()));
    let plan = schedule::Plan {
        layers: build.groups.iter().map(|g| g.packages.clone()).collect(),
        write: hits.iter().map(Option::is_none).collect(),
        known: known_packages(build, unpack_records.as_ref(), &hits),
    };
    let unpacking = schedule::unpack(
        &debs,
        plan,
        |i, unpacked| {
            if let Some(records) = &unpack_records {
                records.save(build.locked[i], options.usrmerge, unpacked);
            }
        },
        |g, members, spools| write_package_layer(build, keys, g, members, &labels, spools),
    )?;
    tracing::debug!(
        "{platform}: decoded and package layers written at {:.2?}",
        started.elapsed()
    );
    let mut written: Vec<Option<LayerInfo>> = Vec::with_capacity(build.groups.len());
    let mut trees: Vec<Option<Tree>> = Vec::with_capacity(build.groups.len());
    for w in unpacking.written {
        let (info, tree) = w.unzip();
        written.push(info);
        trees.push(tree);
    }
    let trees = group_trees(build, trees, &unpacking.packages, &labels)?;
    let mut assembled = assemble::merge(unpacking.packages, options, unpacking.spools)?;
    tracing::debug!("{platform}: merged at {:.2?}", started.elapsed());
    let not_emulated = assembled.configure(&build.manifest.system, platform.debian_arch(), sde)?;
    tracing::debug!("{platform}: configured at {:.2?}", started.elapsed());
    let (last_view, whiteouts) = layering::generated_layer(&assembled.tree, &trees, sde);
    let last_job = LayerJob {
        key: keys.map(|k| k.last),
        view: last_view,
        whiteouts,
        extra: report_to_json(&not_emulated),
        debs: build.locked.iter().map(|p| p.sha256).collect(),
    };
    let cache = build.cache();
    let (last_info, last_reused) =
        write_or_reuse(&assembled, &last_job, build.sink, cache, build.compression, sde)?;
    drop(last_job);
    tracing::debug!("{platform}: last layer written at {:.2?}", started.elapsed());

    let (mut records, mut compressed, mut reused) = group_records(build, written, &hits)?;
    if last_reused {
        reused += 1;
    } else {
        compressed += 1;
    }
    records.push(LayerRecord {
        info: last_info,
        created_by: build.last_created_by.clone(),
    });
    let layers = PlatformLayers {
        records,
        report: PlatformReport {
            platform: platform.clone(),
            not_emulated,
        },
        packages: assembled.packages.len(),
        decoded: debs.decoded(),
        compressed,
        reused,
    };
    Ok((layers, Some(assembled)))
}

/// Every package layer's tree: as written, or (for a cached layer) made again from its packages,
/// for the last layer's comparison.
fn group_trees(
    build: &PlatformBuild<'_>,
    written: Vec<Option<Tree>>,
    packages: &[Unpacked],
    labels: &[String],
) -> Result<Vec<Tree>, BuildError> {
    written
        .into_par_iter()
        .enumerate()
        .map(|(g, tree)| match tree {
            Some(tree) => Ok(tree),
            None => {
                let members: Vec<&Unpacked> =
                    build.groups[g].packages.iter().map(|&i| &packages[i]).collect();
                Ok(assemble::group_tree(&members, labels, build.sde)?)
            }
        })
        .collect()
}

/// The package layers' records, each written by this build or linked from the cache; and how
/// many were compressed and how many reused.
fn group_records(
    build: &PlatformBuild<'_>,
    written: Vec<Option<LayerInfo>>,
    hits: &[Option<(CachedLayer, PathBuf)>],
) -> Result<(Vec<LayerRecord>, usize, usize), BuildError> {
    let mut records = Vec::with_capacity(build.groups.len() + 1);
    let (mut compressed, mut reused) = (0, 0);
    for ((group, written), hit) in build.groups.iter().zip(written).zip(hits) {
        let info = match (written, hit, build.sink) {
            (Some(info), _, _) => {
                compressed += 1;
                info
            }
            (None, Some((layer, path)), Sink::Layout { writer, .. }) => {
                reused += 1;
                link_cached(writer, layer, path)?
            }
            _ => {
                return Err(BuildError::Internal(format!(
                    "{}: neither written nor cached",
                    group.created_by
                )));
            }
        };
        records.push(LayerRecord {
            info,
            created_by: group.created_by.clone(),
        });
    }
    Ok((records, compressed, reused))
}

/// Every layer from the cache, when the last one is there too: a rebuild that decodes and
/// compresses nothing.
fn all_cached(
    build: &PlatformBuild<'_>,
    keys: Option<&LayerKeys>,
    hits: &[Option<(CachedLayer, PathBuf)>],
) -> Result<Option<PlatformLayers>, BuildError> {
    let (Some(cache), Some(keys), Sink::Layout { writer, .. }) = (build.cache(), keys, build.sink) else {
        return Ok(None);
    };
    let Some((last, last_path)) = cached(cache, &keys.last) else {
        return Ok(None);
    };
    let mut records = Vec::with_capacity(build.groups.len() + 1);
    for (group, (layer, path)) in build.groups.iter().zip(hits.iter().flatten()) {
        records.push(LayerRecord {
            info: link_cached(writer, layer, path)?,
            created_by: group.created_by.clone(),
        });
    }
    records.push(LayerRecord {
        info: link_cached(writer, &last, &last_path)?,
        created_by: build.last_created_by.clone(),
    });
    Ok(Some(PlatformLayers {
        compressed: 0,
        reused: records.len(),
        records,
        report: PlatformReport {
            platform: build.platform.clone(),
            not_emulated: report_from_json(&last.extra),
        },
        packages: build.locked.len(),
        decoded: 0,
    }))
}

/// For the packages of cached layers, their unpack records (so that only the packages of the
/// other layers are decoded); `None` for every other package.
fn known_packages(
    build: &PlatformBuild<'_>,
    records: Option<&UnpackCache>,
    hits: &[Option<(CachedLayer, PathBuf)>],
) -> Vec<Option<Unpacked>> {
    let Some(records) = records else {
        return build.locked.iter().map(|_| None).collect();
    };
    let mut cached_layer = vec![false; build.locked.len()];
    for (group, hit) in build.groups.iter().zip(hits) {
        for &i in &group.packages {
            cached_layer[i] = hit.is_some();
        }
    }
    let usrmerge = build.manifest.usrmerge();
    (0..build.locked.len())
        .into_par_iter()
        .map(|i| {
            cached_layer[i]
                .then(|| records.load(i, build.locked[i], usrmerge))
                .flatten()
        })
        .collect()
}

/// Writes package layer `g` from its decoded `members` (and caches it, with a key).
fn write_package_layer(
    build: &PlatformBuild<'_>,
    keys: Option<&LayerKeys>,
    g: usize,
    members: &[&Unpacked],
    labels: &[String],
    spools: &Spools,
) -> Result<Written, BuildError> {
    let group = &build.groups[g];
    let tree = assemble::group_tree(members, labels, build.sde)?;
    let view: View<'_> = tree.iter().map(|(p, n)| (p.as_str(), n)).collect();
    let job = LayerJob {
        key: keys.map(|k| k.groups[g]),
        view,
        whiteouts: Vec::new(),
        extra: serde_json::Value::Null,
        debs: group.packages.iter().map(|&i| build.locked[i].sha256).collect(),
    };
    let info = write_layer(
        spools,
        &job,
        build.sink,
        build.cache(),
        build.compression,
        build.sde,
    )?;
    drop(job);
    Ok((info, tree))
}
