//! The build pipeline: lockfile + store -> assembled filesystem per platform -> layers -> an OCI
//! image layout or a docker-archive, written beside the destination and renamed into place.

use std::path::PathBuf;

use crate::assemble::AssembleError;
use crate::assemble::system::NotEmulated;
use crate::hash::Sha256Digest;
use crate::layering::Layering;
use crate::lockfile::Lockfile;
use crate::manifest::Manifest;
use crate::oci::{Compression, DockerArchiveWriter, LayerRecord, LayoutWriter, OciError, PlatformImage};
use crate::platform::Platform;
use crate::store::{CachedLayer, LayerCache, Store, StoreError};

mod artifacts;
pub mod keys;
mod layers;
mod package_layers;
pub mod records;
pub mod sboms;

use artifacts::{ArtifactContext, artifact_layers, platform_artifacts};
use keys::artifact_layer_keys;
use layers::{Sink, cached};
use package_layers::{PlatformBuild, package_layers};

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
    #[error("platform {0} is not among the manifest's platforms")]
    UnknownPlatform(String),
    #[error("{0}")]
    Artifact(#[from] crate::artifact::ArtifactError),
    #[error("artifact `{name}` is not locked for {platform}: run `debcast lock` for this manifest")]
    ArtifactNotLocked { name: String, platform: Platform },
    #[error("layer cache: {0}")]
    Cache(StoreError),
    #[error("{0}")]
    Sbom(#[from] crate::sbom::SbomError),
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
    /// Written beside `index.json` of a layout that holds a subset of the platforms, so
    /// `debcast merge` can combine it with the others (see [`crate::oci::merge`]).
    pub shard: Option<crate::oci::merge::ShardInfo>,
    /// Generate the SBOMs (and, in an OCI layout, attach them as artifact manifests).
    pub sbom: bool,
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
    /// OCI output: the digest of the image index the layout's ref names (what
    /// `skopeo copy --all oci:OUT:REF docker://…` pushes, and what users pin).
    pub index_digest: Option<String>,
    pub images: Vec<ImageSummary>,
    pub reports: Vec<PlatformReport>,
    /// Each platform's SBOMs, when `sbom` was set.
    pub sboms: Vec<crate::sbom::Documents>,
}

#[derive(Debug, Clone)]
pub struct ImageSummary {
    pub platform: Platform,
    pub manifest_digest: String,
    /// The config's digest: docker's image ID.
    pub config_digest: String,
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
    let (mut extra, mut sboms) = (Vec::new(), Vec::new());
    for platform in &manifest.image.platforms {
        if settings.only_platform.as_ref().is_some_and(|p| p != platform) {
            continue;
        }
        let layers = platform_layers(manifest, lock, store, platform, settings, sink)?;
        let image = platform_image(manifest, lock, platform, settings, layers.records);
        let blobs = writer.add_image(&image)?;
        images.push(summary(
            &image,
            &blobs.manifest_digest.oci(),
            [layers.packages, layers.decoded, layers.compressed, layers.reused],
        ));
        reports.push(layers.report);
        if settings.sbom {
            let docs = sboms::for_image(
                manifest,
                lock,
                store,
                platform,
                blobs.manifest_digest,
                settings.source_date_epoch,
            )?;
            let alias = crate::oci::platform_ref_name(&manifest.ref_name(), platform);
            let sde = settings.source_date_epoch;
            extra.extend(crate::sbom::attach(
                &writer,
                &docs,
                &blobs.manifest_descriptor,
                &alias,
                sde,
            )?);
            sboms.push(docs);
        }
        descriptors.push(blobs.manifest_descriptor);
    }
    if let Some(shard) = &settings.shard {
        crate::oci::merge::write_shard_info(writer.temp_path(), shard)?;
    }
    let index = writer.commit_images_with(&manifest.ref_name(), &descriptors, extra)?;
    Ok(BuildSummary {
        output: settings.output.clone(),
        index_digest: index.manifests().first().map(|d| d.digest().to_string()),
        images,
        reports,
        sboms,
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
    let manifest_digest = image.blobs()?.manifest_digest;
    let digest = manifest_digest.oci();
    let sboms = if settings.sbom {
        let sde = settings.source_date_epoch;
        vec![sboms::for_image(
            manifest,
            lock,
            store,
            platform,
            manifest_digest,
            sde,
        )?]
    } else {
        Vec::new()
    };
    writer.commit(&image, &[manifest.ref_name()])?;
    Ok(BuildSummary {
        output: settings.output.clone(),
        index_digest: None,
        images: vec![summary(
            &image,
            &digest,
            [layers.packages, layers.decoded, layers.compressed, layers.reused],
        )],
        reports: vec![layers.report],
        sboms,
    })
}

/// One platform's layers, by the build's layering: the package layers (none when flat) and the
/// last one, then one layer per `[[artifact]]`.
fn platform_layers(
    manifest: &Manifest,
    lock: &Lockfile,
    store: &Store,
    platform: &Platform,
    settings: &BuildSettings,
    sink: Sink<'_>,
) -> Result<PlatformLayers, BuildError> {
    let artifacts = platform_artifacts(manifest, lock, platform)?;
    let build = PlatformBuild::new(manifest, lock, store, platform, settings, sink)?;
    let keys = build.keys();
    // Artifact layers are keyed by everything below them (the last layer's key covers every
    // package, the layering and `[system]`) and the artifacts before them.
    let artifact_keys = keys.as_ref().filter(|_| !artifacts.is_empty()).map(|keys| {
        artifact_layer_keys(
            &artifacts,
            keys.last,
            manifest.usrmerge(),
            build.compression,
            build.sde,
        )
    });
    // What the layer cache has of the artifact layers (verified once, here).
    let artifact_hits: Vec<Option<(CachedLayer, PathBuf)>> = match (build.cache(), &artifact_keys) {
        (Some(cache), Some(keys)) => keys.iter().map(|k| cached(cache, k)).collect(),
        _ => artifacts.iter().map(|_| None).collect(),
    };
    let all_cached = artifact_hits.iter().all(Option::is_some);
    let (mut layers, assembled) = package_layers(&build, keys.as_ref(), all_cached)?;
    if !artifacts.is_empty() {
        let packages: Vec<Sha256Digest> = build.locked.iter().map(|p| p.sha256).collect();
        let ctx = ArtifactContext {
            store,
            packages: &packages,
            sink,
            compression: build.compression,
            sde: build.sde,
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

fn platform_image(
    manifest: &Manifest,
    lock: &Lockfile,
    platform: &Platform,
    settings: &BuildSettings,
    layers: Vec<LayerRecord>,
) -> PlatformImage {
    let annotations = image_annotations(manifest, lock, settings.source_date_epoch);
    PlatformImage {
        platform: platform.clone(),
        config: manifest.config.clone(),
        source_date_epoch: settings.source_date_epoch,
        layers,
        annotations,
    }
}

/// Annotation of the image manifest: the SHA-256 of the lockfile the image was built from (its
/// canonical text, as `debcast lock` writes it: `sha256sum` of a generated lockfile).
pub const ANNOTATION_LOCKFILE_HASH: &str = "dev.debcast.lock.sha256";
/// Annotation of the image manifest: the lock's hash of the manifest's lock inputs.
pub const ANNOTATION_MANIFEST_HASH: &str = "dev.debcast.lock.manifest-hash";
/// The standard keys an image takes from the manifest's `[config] labels` when they are set there.
const STANDARD_FROM_LABELS: [&str; 3] = [
    "org.opencontainers.image.source",
    "org.opencontainers.image.revision",
    "org.opencontainers.image.version",
];

/// The image manifest's annotations, all from the inputs (so deterministic): which lock and
/// manifest the image came from; `org.opencontainers.image.created` (the build's timestamp,
/// SOURCE_DATE_EPOCH), `.version` (the manifest's `[image] tag`, unless a label sets it),
/// `.source` and `.revision` (from `[config] labels`). `.base.name` has no value to take: the
/// image is built from packages, not on top of another image.
fn image_annotations(
    manifest: &Manifest,
    lock: &Lockfile,
    source_date_epoch: u64,
) -> std::collections::BTreeMap<String, String> {
    let mut annotations = std::collections::BTreeMap::new();
    // Which lock this image came from: the same lock always gives the same image.
    annotations.insert(ANNOTATION_MANIFEST_HASH.to_owned(), lock.manifest_hash.clone());
    annotations.insert(
        ANNOTATION_LOCKFILE_HASH.to_owned(),
        Sha256Digest::of(lock.to_toml().as_bytes()).oci(),
    );
    if let Ok(created) = crate::oci::image::rfc3339_utc(source_date_epoch) {
        annotations.insert(crate::oci::image::ANNOTATION_CREATED.to_owned(), created);
    }
    if let Some(tag) = &manifest.image.tag {
        annotations.insert("org.opencontainers.image.version".to_owned(), tag.clone());
    }
    for key in STANDARD_FROM_LABELS {
        if let Some(value) = manifest.config.labels.get(key) {
            annotations.insert(key.to_owned(), value.clone());
        }
    }
    annotations
}

/// Layers written (compressed) by this process so far: what the CLI's progress display shows
/// while a build assembles and compresses (read only for display; nothing depends on it).
pub static LAYERS_WRITTEN: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// `counts`: packages, packages decoded, layers compressed, layers reused.
fn summary(image: &PlatformImage, digest: &str, counts: [usize; 4]) -> ImageSummary {
    let [packages, packages_decoded, layers_compressed, layers_reused] = counts;
    let config_digest = image.blobs().map(|b| b.config_digest.oci()).unwrap_or_default();
    ImageSummary {
        config_digest,
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
