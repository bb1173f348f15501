//! The build pipeline: lockfile + store -> assembled filesystem per platform -> layers -> an OCI
//! image layout or a docker-archive, written beside the destination and renamed into place.

use std::fmt::Write as _;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use rayon::prelude::*;

use crate::assemble::record::UnpackCache;
use crate::assemble::system::NotEmulated;
use crate::assemble::{
    self, AssembleError, AssembleOptions, Assembled, PackageInput, Spools, Tree, Unpacked, View,
};
use crate::entry::{Entry, EntryKind};
use crate::fetch::Expected;
use crate::hash::Sha256Digest;
use crate::layering::{self, Layering, PackageLayer};
use crate::lockfile::{LockedPackage, Lockfile};
use crate::manifest::Manifest;
use crate::oci::layer::{MEDIA_TYPE_LAYER_GZIP, MEDIA_TYPE_LAYER_TAR, MEDIA_TYPE_LAYER_ZSTD};
use crate::oci::{
    BlobLayerBuilder, Compression, DockerArchiveWriter, LayerInfo, LayerRecord, LayoutWriter, OciError,
    PlatformImage,
};
use crate::platform::Platform;
use crate::store::{CachedLayer, Kind, LayerCache, Store, StoreError};

/// Version of how debcast turns packages into layer bytes; part of every layer cache key, bumped
/// whenever the tar writer, the entry order or the layer contents change.
const LAYER_FORMAT: u32 = 2;

#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    #[error("{0}")]
    Assemble(#[from] AssembleError),
    #[error("{0}")]
    Oci(#[from] OciError),
    #[error(
        "package {package}: the stored file is damaged or unreadable ({source}); `debcast fetch` downloads it again (`debcast store verify --repair` removes every damaged entry)"
    )]
    Store { package: String, source: StoreError },
    #[error("the lockfile has no packages for platform {0}: run `debcast lock` for this manifest")]
    EmptyPlatform(Platform),
    #[error("docker-archive holds one platform; {0} is not among the manifest's platforms")]
    UnknownPlatform(String),
    #[error("{0}")]
    Artifact(#[from] crate::artifact::ArtifactError),
    #[error("artifact `{name}` is not locked for {platform}: run `debcast lock` for this manifest")]
    ArtifactNotLocked { name: String, platform: Platform },
    #[error("layer cache: {0}")]
    Cache(StoreError),
    #[error("internal error: {0} (a bug in debcast; please report it)")]
    Internal(String),
}

#[derive(Debug, Clone)]
pub enum OutputFormat {
    /// An OCI image layout directory with every platform.
    Oci,
    /// A docker-archive tarball of one platform.
    DockerArchive { platform: Platform },
}

#[derive(Debug, Clone)]
pub struct BuildSettings {
    pub output: PathBuf,
    pub format: OutputFormat,
    pub compression: Compression,
    pub source_date_epoch: u64,
    pub layering: Layering,
    /// Reuse (and fill) the store's layer cache (OCI output with budget layering).
    pub layer_cache: bool,
    /// Build only this platform of the manifest (OCI output; docker-archive names its own).
    pub only_platform: Option<Platform>,
}

/// What the maintainer scripts of one platform's packages do that debcast does not reproduce.
#[derive(Debug, Clone)]
pub struct PlatformReport {
    pub platform: Platform,
    pub not_emulated: Vec<NotEmulated>,
}

/// What a build produced, for the CLI's summary.
#[derive(Debug, Clone)]
pub struct BuildSummary {
    pub output: PathBuf,
    pub images: Vec<ImageSummary>,
    pub reports: Vec<PlatformReport>,
}

#[derive(Debug, Clone)]
pub struct ImageSummary {
    pub platform: Platform,
    pub manifest_digest: String,
    pub packages: usize,
    pub layers: usize,
    pub compressed_bytes: u64,
    /// Layers compressed by this build.
    pub layers_compressed: usize,
    /// Layers taken from the layer cache.
    pub layers_reused: usize,
    /// Packages whose `.deb` this build decoded (once or more).
    pub packages_decoded: usize,
}

/// One platform's layers, however they were made.
struct PlatformLayers {
    records: Vec<LayerRecord>,
    report: PlatformReport,
    packages: usize,
    decoded: usize,
    compressed: usize,
    reused: usize,
}

/// Where a build's layers go.
#[derive(Clone, Copy)]
enum Sink<'a> {
    Layout {
        writer: &'a LayoutWriter,
        cache: Option<&'a LayerCache>,
    },
    Docker(&'a DockerArchiveWriter),
}

/// Builds the image. Every `.deb` must be in the store already (the CLI fetches first).
pub fn build(
    manifest: &Manifest,
    lock: &Lockfile,
    store: &Store,
    settings: &BuildSettings,
) -> Result<BuildSummary, BuildError> {
    match &settings.format {
        OutputFormat::Oci => build_layout(manifest, lock, store, settings),
        OutputFormat::DockerArchive { platform } => {
            build_docker_archive(manifest, lock, store, settings, platform)
        }
    }
}

fn build_layout(
    manifest: &Manifest,
    lock: &Lockfile,
    store: &Store,
    settings: &BuildSettings,
) -> Result<BuildSummary, BuildError> {
    if let Some(p) = &settings.only_platform
        && !manifest.image.platforms.contains(p)
    {
        return Err(BuildError::UnknownPlatform(p.to_string()));
    }
    let writer = LayoutWriter::create(&settings.output)?;
    let cache = match (settings.layer_cache, settings.layering) {
        (true, Layering::Budget { .. }) => Some(LayerCache::open(store).map_err(BuildError::Cache)?),
        _ => None,
    };
    let sink = Sink::Layout {
        writer: &writer,
        cache: cache.as_ref(),
    };
    let mut descriptors = Vec::new();
    let mut images = Vec::new();
    let mut reports = Vec::new();
    for platform in &manifest.image.platforms {
        if settings.only_platform.as_ref().is_some_and(|p| p != platform) {
            continue;
        }
        let layers = platform_layers(manifest, lock, store, platform, settings, sink)?;
        let image = platform_image(manifest, lock, platform, settings, layers.records);
        let blobs = writer.add_image(&image)?;
        images.push(summary(
            &image,
            &blobs.manifest_descriptor.digest().oci(),
            [layers.packages, layers.decoded, layers.compressed, layers.reused],
        ));
        reports.push(layers.report);
        descriptors.push(blobs.manifest_descriptor);
    }
    writer.commit_images(&manifest.ref_name(), &descriptors)?;
    Ok(BuildSummary {
        output: settings.output.clone(),
        images,
        reports,
    })
}

fn build_docker_archive(
    manifest: &Manifest,
    lock: &Lockfile,
    store: &Store,
    settings: &BuildSettings,
    platform: &Platform,
) -> Result<BuildSummary, BuildError> {
    if !manifest.image.platforms.contains(platform) {
        return Err(BuildError::UnknownPlatform(platform.to_string()));
    }
    let writer = DockerArchiveWriter::create(&settings.output)?;
    let layers = platform_layers(manifest, lock, store, platform, settings, Sink::Docker(&writer))?;
    let image = platform_image(manifest, lock, platform, settings, layers.records);
    let digest = image.blobs()?.manifest_descriptor.digest().oci();
    writer.commit(&image, &[manifest.ref_name()])?;
    Ok(BuildSummary {
        output: settings.output.clone(),
        images: vec![summary(
            &image,
            &digest,
            [layers.packages, layers.decoded, layers.compressed, layers.reused],
        )],
        reports: vec![layers.report],
    })
}

/// One platform's layers, by the build's layering: the package layers (and the generated one),
/// then one layer per `[[artifact]]`.
fn platform_layers(
    manifest: &Manifest,
    lock: &Lockfile,
    store: &Store,
    platform: &Platform,
    settings: &BuildSettings,
    sink: Sink<'_>,
) -> Result<PlatformLayers, BuildError> {
    let compression = match sink {
        Sink::Layout { .. } => settings.compression,
        Sink::Docker(_) => Compression::None,
    };
    let artifacts = platform_artifacts(manifest, lock, platform)?;
    // The artifact layers' keys and what the layer cache has of them (verified once, here).
    let (mut layers, assembled, artifact_keys, artifact_hits) = match settings.layering {
        Layering::Flat => {
            let (assembled, report) =
                assemble_platform(manifest, lock, store, platform, settings.source_date_epoch)?;
            let mut builder = new_builder(sink, compression, settings.source_date_epoch)?;
            assembled
                .for_each_entry(|entry, content| builder.append(entry, content).map_err(BuildError::from))?;
            let info = builder.finish()?;
            if let Sink::Layout {
                writer,
                cache: Some(cache),
            } = sink
            {
                writer.link_blob(&cache.blob_path(&info.digest), &info)?;
            }
            let layers = PlatformLayers {
                records: vec![layer_record(info, &assembled)],
                report,
                packages: assembled.packages.len(),
                decoded: assembled.packages.len(),
                compressed: 1,
                reused: 0,
            };
            (
                layers,
                Some(assembled),
                None,
                artifacts.iter().map(|_| None).collect(),
            )
        }
        Layering::Budget { max_layers } => {
            let cache = match sink {
                Sink::Layout { cache, .. } => cache,
                Sink::Docker(_) => None,
            };
            // Artifact layers are keyed by everything below them (the generated layer's key
            // covers every package, the layering and `[system]`) and the artifacts before them.
            let artifact_keys = cache.filter(|_| !artifacts.is_empty()).map(|_| {
                let locked: Vec<&LockedPackage> = lock.packages_for(platform).collect();
                let groups = layering::plan(&locked, max_layers);
                let below = generated_layer_key(
                    manifest,
                    platform,
                    &locked,
                    &groups,
                    compression,
                    settings.source_date_epoch,
                );
                artifact_layer_keys(
                    &artifacts,
                    below,
                    manifest.usrmerge(),
                    compression,
                    settings.source_date_epoch,
                )
            });
            let hits: Vec<Option<(CachedLayer, PathBuf)>> = match (cache, &artifact_keys) {
                (Some(cache), Some(keys)) => keys.iter().map(|k| cached(cache, k)).collect(),
                _ => artifacts.iter().map(|_| None).collect(),
            };
            let all_cached = hits.iter().all(Option::is_some);
            let (layers, assembled) = budget_layers(
                manifest,
                lock,
                store,
                platform,
                settings,
                sink,
                compression,
                max_layers,
                all_cached,
            )?;
            (layers, assembled, artifact_keys, hits)
        }
    };
    if !artifacts.is_empty() {
        let packages: Vec<Sha256Digest> = lock.packages_for(platform).map(|p| p.sha256).collect();
        let ctx = ArtifactContext {
            store,
            packages: &packages,
            sink,
            compression,
            sde: settings.source_date_epoch,
            usrmerge: manifest.usrmerge(),
        };
        artifact_layers(
            &ctx,
            &artifacts,
            artifact_keys.as_deref(),
            &artifact_hits,
            assembled.as_ref(),
            &mut layers,
        )?;
    }
    Ok(layers)
}

/// An artifact as this platform gets it: the manifest's entry, its format and its lock entry.
struct PlatformArtifact<'a> {
    artifact: &'a crate::manifest::Artifact,
    format: crate::manifest::ArtifactFormat,
    locked: &'a crate::lockfile::LockedArtifact,
}

fn platform_artifacts<'a>(
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

/// A key per artifact layer, each chained to the one before (an artifact's layer depends on
/// what the artifacts below it placed).
fn artifact_layer_keys(
    artifacts: &[PlatformArtifact<'_>],
    below: Sha256Digest,
    usrmerge: bool,
    compression: Compression,
    sde: u64,
) -> Vec<Sha256Digest> {
    let mut previous = below;
    artifacts
        .iter()
        .map(|a| {
            let spec = serde_json::to_string(a.artifact).unwrap_or_default();
            let text = format!(
                "{}artifact\nbelow {previous}\nformat {:?}\nsha256 {}\nspec {spec}\n",
                key_preamble(usrmerge, compression, sde),
                a.format,
                a.locked.sha256
            );
            previous = Sha256Digest::of(text.as_bytes());
            previous
        })
        .collect()
}

struct ArtifactContext<'a> {
    store: &'a Store,
    /// The `.deb` hashes of the platform's packages.
    packages: &'a [Sha256Digest],
    sink: Sink<'a>,
    compression: Compression,
    sde: u64,
    usrmerge: bool,
}

/// Appends one layer per artifact to `layers`: from the layer cache (`hits`) where every one is
/// there, else unpacked from the store and placed over `assembled`.
fn artifact_layers(
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

fn new_builder(
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

/// A layer of a budget-layered image, about to be written or taken from the cache.
struct LayerJob<'a> {
    key: Option<Sha256Digest>,
    view: View<'a>,
    whiteouts: Vec<String>,
    extra: serde_json::Value,
    /// The `.deb` files the layer is made from (kept in the cache record for `store gc`).
    debs: Vec<Sha256Digest>,
}

/// Budget layering (see [`crate::layering`]): one layer per package group, each a pure function
/// of its packages, then the generated layer that makes the sum equal to the flat image.
#[allow(clippy::too_many_arguments)]
fn budget_layers(
    manifest: &Manifest,
    lock: &Lockfile,
    store: &Store,
    platform: &Platform,
    settings: &BuildSettings,
    sink: Sink<'_>,
    compression: Compression,
    max_layers: usize,
    // Whether a rebuild whose layers are all cached may skip assembling the tree (the artifact
    // layers above need it unless theirs are cached too).
    fast_path: bool,
) -> Result<(PlatformLayers, Option<Assembled>), BuildError> {
    let sde = settings.source_date_epoch;
    let locked: Vec<&LockedPackage> = lock.packages_for(platform).collect();
    if locked.is_empty() {
        return Err(BuildError::EmptyPlatform(platform.clone()));
    }
    let groups = layering::plan(&locked, max_layers);
    let cache = match sink {
        Sink::Layout { cache, .. } => cache,
        Sink::Docker(_) => None,
    };
    let keys: Option<(Vec<Sha256Digest>, Sha256Digest)> = cache.map(|_| {
        let group_keys = groups
            .iter()
            .map(|g| package_layer_key(&locked, g, manifest.usrmerge(), compression, sde))
            .collect();
        let generated = generated_layer_key(manifest, platform, &locked, &groups, compression, sde);
        (group_keys, generated)
    });

    // The package layers the cache has (verified).
    let hits: Vec<Option<(CachedLayer, PathBuf)>> = match (cache, &keys) {
        (Some(cache), Some((group_keys, _))) => group_keys.par_iter().map(|k| cached(cache, k)).collect(),
        _ => groups.iter().map(|_| None).collect(),
    };

    // A rebuild whose every layer is cached decodes and compresses nothing.
    if let (Some(cache), Some((_, gen_key)), Sink::Layout { writer, .. }) = (cache, &keys, sink)
        && fast_path
        && hits.iter().all(Option::is_some)
        && let Some((gen_layer, gen_path)) = cached(cache, gen_key)
    {
        let mut records = Vec::with_capacity(groups.len() + 1);
        for (group, (layer, path)) in groups.iter().zip(hits.iter().flatten()) {
            records.push(LayerRecord {
                info: link_cached(writer, layer, path)?,
                created_by: group.created_by.clone(),
            });
        }
        records.push(LayerRecord {
            info: link_cached(writer, &gen_layer, &gen_path)?,
            created_by: GENERATED_CREATED_BY.to_owned(),
        });
        tracing::debug!("{platform}: every layer from the layer cache");
        let layers = PlatformLayers {
            compressed: 0,
            reused: records.len(),
            records,
            report: PlatformReport {
                platform: platform.clone(),
                not_emulated: report_from_json(&gen_layer.extra),
            },
            packages: locked.len(),
            decoded: 0,
        };
        return Ok((layers, None));
    }

    let started = std::time::Instant::now();
    let n = locked.len();
    let usrmerge = manifest.usrmerge();
    let options = AssembleOptions { usrmerge };
    let labels: Vec<String> = locked.iter().map(|p| p.label()).collect();

    // For the packages of cached layers, the unpack records, so that only the packages of the
    // other layers are decoded.
    let unpack_records = cache.map(|_| UnpackCache::new(store.root()));
    let mut group_of = vec![0; n];
    for (g, group) in groups.iter().enumerate() {
        for &i in &group.packages {
            group_of[i] = g;
        }
    }
    let mut parts: Vec<Option<Unpacked>> = (0..n)
        .into_par_iter()
        .map(|i| match (&unpack_records, &hits[group_of[i]]) {
            (Some(records), Some(_)) => records.load(i, locked[i], usrmerge),
            _ => None,
        })
        .collect();
    // Decoded: every package of a layer to write, biggest layer first and the biggest package
    // first within it (so its layer is ready to compress early), then packages without a record.
    let to_write: Vec<usize> = (0..groups.len()).filter(|&g| hits[g].is_none()).collect();
    let deb_bytes = |g: usize| groups[g].packages.iter().map(|&i| locked[i].size).sum::<u64>();
    let mut write_order = to_write.clone();
    write_order.sort_by_key(|&g| std::cmp::Reverse(deb_bytes(g)));
    let mut order: Vec<usize> = Vec::with_capacity(n);
    for &g in &write_order {
        let mut members = groups[g].packages.clone();
        members.sort_by_key(|&i| std::cmp::Reverse(locked[i].size));
        order.extend(members);
    }
    let mut rest: Vec<usize> = (0..n)
        .filter(|&i| parts[i].is_none() && hits[group_of[i]].is_some())
        .collect();
    rest.sort_by_key(|&i| std::cmp::Reverse(locked[i].size));
    order.extend(rest);
    tracing::debug!(
        "{platform}: {} of {} layers to write, {} of {n} packages to decode",
        to_write.len(),
        groups.len(),
        order.len()
    );

    let decode_one = {
        let store = store.clone();
        let owned: Vec<LockedPackage> = locked.iter().map(|p| (*p).clone()).collect();
        move |i: usize| -> Result<(Unpacked, std::fs::File), BuildError> {
            let p = &owned[i];
            let input = verified_input(&store, p)?;
            Ok(assemble::unpack(i, &input, options)?)
        }
    };
    let decode_one = std::sync::Arc::new(decode_one);
    let decoder: assemble::Decoder = {
        let decode_one = std::sync::Arc::clone(&decode_one);
        Box::new(move |i| decode_one(i).map(|(_, file)| file).map_err(Into::into))
    };
    let spools = std::sync::Arc::new(Spools::new(labels.clone(), Some(decoder)));
    let write_groups: Vec<Vec<usize>> = to_write.iter().map(|&g| groups[g].packages.clone()).collect();
    let done = crate::parallel::decode_then_write(
        n,
        &order,
        &write_groups,
        |i| {
            let (unpacked, file) = decode_one(i)?;
            // A package decoded only for its record (its layer is cached) keeps no spool.
            if hits[group_of[i]].is_none() {
                spools.set(i, file);
            }
            if let Some(records) = &unpack_records {
                records.save(locked[i], usrmerge, &unpacked);
            }
            Ok::<_, BuildError>(unpacked)
        },
        |w, decoded| {
            let g = to_write[w];
            let members: Vec<&Unpacked> = groups[g].packages.iter().filter_map(|&i| decoded(i)).collect();
            let tree = assemble::group_tree(&members, &labels, sde)?;
            let view: View<'_> = tree.iter().map(|(p, n)| (p.as_str(), n)).collect();
            let job = LayerJob {
                key: keys.as_ref().map(|(k, _)| k[g]),
                view,
                whiteouts: Vec::new(),
                extra: serde_json::Value::Null,
                debs: groups[g].packages.iter().map(|&i| locked[i].sha256).collect(),
            };
            let info = write_layer(&spools, &job, sink, cache, compression, sde)?;
            drop(job);
            for &i in &groups[g].packages {
                spools.release(i);
            }
            Ok((info, tree))
        },
    )?;
    tracing::debug!(
        "{platform}: decoded and package layers written at {:.2?}",
        started.elapsed()
    );
    for (i, d) in done.decoded.into_iter().enumerate() {
        if let Some(d) = d {
            parts[i] = Some(d);
        }
    }
    let parts: Vec<Unpacked> = parts
        .into_iter()
        .enumerate()
        .map(|(i, p)| p.ok_or_else(|| BuildError::Internal(format!("{} was not unpacked", labels[i]))))
        .collect::<Result<_, _>>()?;
    let mut written: Vec<Option<LayerInfo>> = groups.iter().map(|_| None).collect();
    let mut trees: Vec<Option<Tree>> = groups.iter().map(|_| None).collect();
    for (w, result) in done.written.into_iter().enumerate() {
        if let Some((info, tree)) = result {
            written[to_write[w]] = Some(info);
            trees[to_write[w]] = Some(tree);
        }
    }
    // The trees of the cached layers too, for the generated layer's comparison.
    let trees: Vec<Tree> = trees
        .into_par_iter()
        .enumerate()
        .map(|(g, tree)| match tree {
            Some(tree) => Ok(tree),
            None => {
                let members: Vec<&Unpacked> = groups[g].packages.iter().map(|&i| &parts[i]).collect();
                assemble::group_tree(&members, &labels, sde)
            }
        })
        .collect::<Result<_, _>>()?;
    let mut assembled = assemble::merge(parts, options, spools)?;
    tracing::debug!("{platform}: merged at {:.2?}", started.elapsed());
    let not_emulated = assembled.configure(&manifest.system, platform.debian_arch(), sde)?;
    tracing::debug!("{platform}: configured at {:.2?}", started.elapsed());
    let (gen_view, whiteouts) = layering::generated_layer(&assembled.tree, &trees, sde);
    let gen_job = LayerJob {
        key: keys.as_ref().map(|(_, k)| *k),
        view: gen_view,
        whiteouts,
        extra: report_to_json(&not_emulated),
        debs: locked.iter().map(|p| p.sha256).collect(),
    };
    let (gen_info, gen_reused) = write_or_reuse(&assembled, &gen_job, sink, cache, compression, sde)?;
    tracing::debug!("{platform}: generated layer written at {:.2?}", started.elapsed());

    let mut records = Vec::with_capacity(groups.len() + 1);
    let (mut compressed, mut reused) = (0, 0);
    for (g, group) in groups.iter().enumerate() {
        let info = match (&written[g], &hits[g], sink) {
            (Some(info), _, _) => {
                compressed += 1;
                info.clone()
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
    if gen_reused {
        reused += 1;
    } else {
        compressed += 1;
    }
    records.push(LayerRecord {
        info: gen_info,
        created_by: GENERATED_CREATED_BY.to_owned(),
    });
    let layers = PlatformLayers {
        records,
        report: PlatformReport {
            platform: platform.clone(),
            not_emulated,
        },
        packages: assembled.packages.len(),
        decoded: {
            let mut all: std::collections::BTreeSet<usize> = order.iter().copied().collect();
            all.extend(assembled.spools().decoded_on_demand());
            all.len()
        },
        compressed,
        reused,
    };
    Ok((layers, Some(assembled)))
}

const GENERATED_CREATED_BY: &str = "debcast: dpkg database and generated files";

/// A cache record whose blob verifies; a damaged one is reported and treated as a miss.
fn cached(cache: &LayerCache, key: &Sha256Digest) -> Option<(CachedLayer, PathBuf)> {
    let layer = cache.get(key)?;
    match cache.verify(key, &layer) {
        Ok(path) => Some((layer, path)),
        Err(e) => {
            tracing::warn!("layer cache: {e}; rebuilding that layer");
            None
        }
    }
}

fn cached_info(layer: &CachedLayer) -> Result<LayerInfo, BuildError> {
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
fn link_cached(writer: &LayoutWriter, layer: &CachedLayer, path: &Path) -> Result<LayerInfo, BuildError> {
    let info = cached_info(layer)?;
    writer.link_blob(path, &info)?;
    Ok(info)
}

/// Takes a layer from the cache if it is there and verifies, else writes (and caches) it.
fn write_or_reuse(
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
fn write_layer(
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
    Ok(info)
}

/// What every layer's bytes depend on besides its own contents.
fn key_preamble(usrmerge: bool, compression: Compression, sde: u64) -> String {
    let compression = match compression {
        Compression::Gzip { level } => format!("gzip {level}"),
        Compression::Zstd { level } => format!("zstd {level}"),
        Compression::None => "none".to_owned(),
    };
    format!(
        "debcast layer format {LAYER_FORMAT} ({})\ncompression {compression}\nsource-date-epoch {sde}\nusrmerge {usrmerge}\n",
        env!("CARGO_PKG_VERSION")
    )
}

fn package_lines(out: &mut String, locked: &[&LockedPackage], layer: &PackageLayer) {
    for &i in &layer.packages {
        let p = locked[i];
        let _ = writeln!(
            out,
            "package {} {} {} {}",
            p.name, p.version, p.architecture, p.sha256
        );
    }
}

/// A package layer is a pure function of its `.deb` files (and the preamble).
fn package_layer_key(
    locked: &[&LockedPackage],
    layer: &PackageLayer,
    usrmerge: bool,
    compression: Compression,
    sde: u64,
) -> Sha256Digest {
    let mut text = key_preamble(usrmerge, compression, sde);
    package_lines(&mut text, locked, layer);
    Sha256Digest::of(text.as_bytes())
}

/// The generated layer depends on every package, how they are layered, the manifest's `[system]`,
/// the architecture, and on the configure step's code: the running executable's identity (size,
/// modification time, inode) stands for that, so a rebuilt debcast never reuses an old one's dpkg
/// database (at worst an identical rebuild misses once).
fn generated_layer_key(
    manifest: &Manifest,
    platform: &Platform,
    locked: &[&LockedPackage],
    groups: &[PackageLayer],
    compression: Compression,
    sde: u64,
) -> Sha256Digest {
    let mut text = key_preamble(manifest.usrmerge(), compression, sde);
    let system = serde_json::to_string(&manifest.system).unwrap_or_default();
    let _ = writeln!(
        text,
        "generated\nexecutable {}\nplatform {platform} {}\nsystem {system}",
        executable_identity(),
        platform.debian_arch()
    );
    for g in groups {
        text.push_str("layer\n");
        package_lines(&mut text, locked, g);
    }
    Sha256Digest::of(text.as_bytes())
}

/// Which debcast executable is running (size, mtime, device and inode of the file), for cache
/// entries that depend on its code.
pub(crate) fn executable_identity() -> String {
    use std::os::unix::fs::MetadataExt;
    static ID: OnceLock<String> = OnceLock::new();
    ID.get_or_init(|| {
        std::env::current_exe().and_then(std::fs::metadata).map_or_else(
            // Unknown: never match another process's entries.
            |_| {
                format!(
                    "unknown {} {:?}",
                    std::process::id(),
                    std::time::SystemTime::now()
                )
            },
            |m| {
                format!(
                    "{} {}.{} {}:{}",
                    m.len(),
                    m.mtime(),
                    m.mtime_nsec(),
                    m.dev(),
                    m.ino()
                )
            },
        )
    })
    .clone()
}

fn report_to_json(report: &[NotEmulated]) -> serde_json::Value {
    report
        .iter()
        .map(|n| serde_json::json!([n.package, n.script, n.what]))
        .collect()
}

fn report_from_json(v: &serde_json::Value) -> Vec<NotEmulated> {
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

/// The verified `.deb` files of one platform, assembled into its filesystem and configured as
/// dpkg and the maintainer scripts would have left it.
pub fn assemble_platform(
    manifest: &Manifest,
    lock: &Lockfile,
    store: &Store,
    platform: &Platform,
    source_date_epoch: u64,
) -> Result<(Assembled, PlatformReport), BuildError> {
    let locked: Vec<&LockedPackage> = lock.packages_for(platform).collect();
    if locked.is_empty() {
        return Err(BuildError::EmptyPlatform(platform.clone()));
    }
    let inputs = verified_inputs(store, &locked)?;
    let options = AssembleOptions {
        usrmerge: manifest.usrmerge(),
    };
    let mut assembled = assemble::assemble(&inputs, options)?;
    let not_emulated = assembled.configure(&manifest.system, platform.debian_arch(), source_date_epoch)?;
    Ok((
        assembled,
        PlatformReport {
            platform: platform.clone(),
            not_emulated,
        },
    ))
}

/// A package's `.deb`, re-hashed before use (see [`verified_inputs`]).
fn verified_input(store: &Store, p: &LockedPackage) -> Result<PackageInput, BuildError> {
    let expected = Expected {
        size: p.size,
        sha256: p.sha256,
    };
    let deb = store
        .verify(Kind::Deb, &expected, &p.label())
        .map_err(|source| BuildError::Store {
            package: p.label(),
            source,
        })?;
    Ok(PackageInput {
        locked: p.clone(),
        deb,
    })
}

/// Re-hashes every `.deb` before it is used: the store was verified on insertion, but a store is
/// also something CI caches and people copy around.
fn verified_inputs(store: &Store, locked: &[&LockedPackage]) -> Result<Vec<PackageInput>, BuildError> {
    locked.par_iter().map(|p| verified_input(store, p)).collect()
}

fn layer_record(info: crate::oci::LayerInfo, assembled: &Assembled) -> LayerRecord {
    LayerRecord {
        info,
        created_by: format!("debcast: {} Debian packages", assembled.packages.len()),
    }
}

fn platform_image(
    manifest: &Manifest,
    lock: &Lockfile,
    platform: &Platform,
    settings: &BuildSettings,
    layers: Vec<LayerRecord>,
) -> PlatformImage {
    let mut annotations = std::collections::BTreeMap::new();
    // Which lock this image came from: the same lock always gives the same image.
    annotations.insert(
        "dev.debcast.lock.manifest-hash".to_owned(),
        lock.manifest_hash.clone(),
    );
    PlatformImage {
        platform: platform.clone(),
        config: manifest.config.clone(),
        source_date_epoch: settings.source_date_epoch,
        layers,
        annotations,
    }
}

/// `counts`: packages, packages decoded, layers compressed, layers reused.
fn summary(image: &PlatformImage, digest: &str, counts: [usize; 4]) -> ImageSummary {
    let [packages, packages_decoded, layers_compressed, layers_reused] = counts;
    ImageSummary {
        packages_decoded,
        layers_compressed,
        layers_reused,
        platform: image.platform.clone(),
        manifest_digest: digest.to_owned(),
        packages,
        layers: image.layers.len(),
        compressed_bytes: image.layers.iter().map(|l| l.info.size).sum(),
    }
}
