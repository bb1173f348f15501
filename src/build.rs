//! The build pipeline: lockfile + store -> assembled filesystem per platform -> layers -> an OCI
//! image layout or a docker-archive, written beside the destination and renamed into place.

use std::path::PathBuf;

use rayon::prelude::*;

use crate::assemble::system::NotEmulated;
use crate::assemble::{self, AssembleError, AssembleOptions, Assembled, PackageInput};
use crate::fetch::Expected;
use crate::lockfile::{LockedPackage, Lockfile};
use crate::manifest::Manifest;
use crate::oci::{Compression, DockerArchiveWriter, LayerRecord, LayoutWriter, OciError, PlatformImage};
use crate::platform::Platform;
use crate::store::{Kind, Store, StoreError};

#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    #[error("{0}")]
    Assemble(#[from] AssembleError),
    #[error("{0}")]
    Oci(#[from] OciError),
    #[error("package {package}: the stored file is damaged ({source}); delete it and run `debcast fetch`")]
    Store { package: String, source: StoreError },
    #[error("the lockfile has no packages for platform {0}: run `debcast lock` for this manifest")]
    EmptyPlatform(Platform),
    #[error("docker-archive holds one platform; {0} is not among the manifest's platforms")]
    UnknownPlatform(String),
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
    let writer = LayoutWriter::create(&settings.output)?;
    let mut descriptors = Vec::new();
    let mut images = Vec::new();
    let mut reports = Vec::new();
    for platform in &manifest.image.platforms {
        let (assembled, report) =
            assemble_platform(manifest, lock, store, platform, settings.source_date_epoch)?;
        reports.push(report);
        let mut builder = writer.layer_builder(settings.compression, settings.source_date_epoch)?;
        assembled
            .for_each_entry(|entry, content| builder.append(entry, content).map_err(BuildError::from))?;
        let info = builder.finish()?;
        let image = platform_image(
            manifest,
            lock,
            platform,
            settings,
            vec![layer_record(info, &assembled)],
        );
        let blobs = writer.add_image(&image)?;
        images.push(summary(
            &image,
            &blobs.manifest_descriptor.digest().oci(),
            assembled.packages.len(),
        ));
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
    let (assembled, report) = assemble_platform(manifest, lock, store, platform, settings.source_date_epoch)?;
    let mut builder = writer.layer_builder(settings.source_date_epoch)?;
    assembled.for_each_entry(|entry, content| builder.append(entry, content).map_err(BuildError::from))?;
    let info = builder.finish()?;
    let image = platform_image(
        manifest,
        lock,
        platform,
        settings,
        vec![layer_record(info, &assembled)],
    );
    let digest = image.blobs()?.manifest_descriptor.digest().oci();
    writer.commit(&image, &[manifest.ref_name()])?;
    Ok(BuildSummary {
        output: settings.output.clone(),
        images: vec![summary(&image, &digest, assembled.packages.len())],
        reports: vec![report],
    })
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

/// Re-hashes every `.deb` before it is used: the store was verified on insertion, but a store is
/// also something CI caches and people copy around.
fn verified_inputs(store: &Store, locked: &[&LockedPackage]) -> Result<Vec<PackageInput>, BuildError> {
    locked
        .par_iter()
        .map(|p| {
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
                locked: (*p).clone(),
                deb,
            })
        })
        .collect()
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

fn summary(image: &PlatformImage, digest: &str, packages: usize) -> ImageSummary {
    ImageSummary {
        platform: image.platform.clone(),
        manifest_digest: digest.to_owned(),
        packages,
        layers: image.layers.len(),
        compressed_bytes: image.layers.iter().map(|l| l.info.size).sum(),
    }
}
