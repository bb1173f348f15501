//! OCI image objects: descriptors, the image config, the image manifest and the image index are
//! `oci-spec`'s types; what debcast adds is how it fills them (no empty optional fields, so the
//! bytes `oci::json` writes stay what they were) and the conversions from its own digests.

use std::collections::{BTreeMap, HashMap};

use oci_spec::image::{
    Arch, Config, Digest, HistoryBuilder, ImageConfigurationBuilder, ImageIndexBuilder, ImageManifestBuilder,
    MediaType, Os, RootFsBuilder,
};
pub use oci_spec::image::{
    Descriptor, ImageConfiguration, ImageIndex, ImageManifest, Platform as PlatformJson,
};

use super::OciError;
use super::json::to_canonical_json;
use super::layer::LayerInfo;
use crate::debian::date::Civil;
use crate::hash::Sha256Digest;
use crate::manifest::ImageConfig;
use crate::platform::Platform;

pub const MEDIA_TYPE_CONFIG: &str = "application/vnd.oci.image.config.v1+json";
pub const MEDIA_TYPE_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
pub const MEDIA_TYPE_INDEX: &str = "application/vnd.oci.image.index.v1+json";
pub const ANNOTATION_REF_NAME: &str = "org.opencontainers.image.ref.name";
pub const ANNOTATION_CREATED: &str = "org.opencontainers.image.created";
/// Docker's default search path, used when the manifest's `[config] env` has no `PATH`.
pub const DEFAULT_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// The OCI digest of a SHA-256 debcast computed.
pub fn oci_digest(digest: &Sha256Digest) -> Digest {
    // `Sha256Digest` is 32 bytes written as 64 lowercase hex digits: always a valid sha256 digest.
    match digest.oci().parse() {
        Ok(d) => d,
        Err(e) => unreachable!("{} is not an OCI digest: {e}", digest.oci()),
    }
}

/// The SHA-256 an OCI digest names; other algorithms are refused (debcast writes and reads sha256).
pub fn sha256_of(digest: &Digest) -> Result<Sha256Digest, OciError> {
    let refused = || OciError::Digest(digest.to_string());
    if digest.algorithm().as_ref() != "sha256" {
        return Err(refused());
    }
    digest.digest().parse().map_err(|_| refused())
}

/// A descriptor with nothing but media type, digest and size.
pub fn descriptor(media_type: &str, digest: Sha256Digest, size: u64) -> Descriptor {
    Descriptor::new(MediaType::from(media_type), size, oci_digest(&digest))
}

/// The `platform` object of `p`.
pub fn platform_json(p: &Platform) -> PlatformJson {
    let mut out = PlatformJson::default();
    out.set_architecture(Arch::from(p.architecture.as_str()));
    out.set_os(Os::from(p.os.as_str()));
    out.set_variant(p.variant.clone());
    out
}

/// What debcast reads and changes of a descriptor.
pub trait DescriptorExt: Sized {
    /// The SHA-256 it names (an error for other digest algorithms).
    fn sha256(&self) -> Result<Sha256Digest, OciError>;
    fn annotation(&self, key: &str) -> Option<&str>;
    fn with_annotation(self, key: &str, value: &str) -> Self;
    /// Drops `key`, and the annotations object with its last entry (`{}` is never written).
    fn without_annotation(self, key: &str) -> Self;
}

impl DescriptorExt for Descriptor {
    fn sha256(&self) -> Result<Sha256Digest, OciError> {
        sha256_of(self.digest())
    }

    fn annotation(&self, key: &str) -> Option<&str> {
        self.annotations().as_ref()?.get(key).map(String::as_str)
    }

    fn with_annotation(mut self, key: &str, value: &str) -> Self {
        let mut map = self.annotations().clone().unwrap_or_default();
        map.insert(key.to_owned(), value.to_owned());
        self.set_annotations(Some(map));
        self
    }

    fn without_annotation(mut self, key: &str) -> Self {
        let mut map = self.annotations().clone().unwrap_or_default();
        map.remove(key);
        self.set_annotations((!map.is_empty()).then_some(map));
        self
    }
}

// Here rather than beside `LayerInfo`: a layer knows nothing of the image that lists it.
impl LayerInfo {
    pub fn descriptor(&self) -> Descriptor {
        descriptor(self.media_type, self.digest, self.size)
    }
}

/// `annotations` as a descriptor or manifest holds them: absent when empty.
fn annotations(map: &BTreeMap<String, String>) -> Option<HashMap<String, String>> {
    (!map.is_empty()).then(|| map.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
}

/// An image index (schema 2, its media type set) of `manifests`.
pub fn image_index(manifests: Vec<Descriptor>) -> Result<ImageIndex, OciError> {
    ImageIndexBuilder::default()
        .schema_version(2u32)
        .media_type(MediaType::ImageIndex)
        .manifests(manifests)
        .build()
        .map_err(|source| OciError::Spec {
            what: "image index",
            source,
        })
}

/// A layer of an image, with the history line describing it (`debcast: packages a, b, c`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LayerRecord {
    pub info: LayerInfo,
    pub created_by: String,
}

/// Everything one platform's image is made of, layers already built. Both output formats take it.
#[derive(Debug, Clone)]
pub struct PlatformImage {
    pub platform: Platform,
    pub config: ImageConfig,
    pub source_date_epoch: u64,
    /// Bottom layer first.
    pub layers: Vec<LayerRecord>,
    /// Annotations of the image manifest (for example `org.opencontainers.image.source`).
    pub annotations: BTreeMap<String, String>,
}

/// An image's config and manifest, serialised, with their descriptors.
#[derive(Debug, Clone)]
pub struct ImageBlobs {
    pub config: ImageConfiguration,
    pub config_json: Vec<u8>,
    pub config_digest: Sha256Digest,
    pub config_descriptor: Descriptor,
    pub manifest: ImageManifest,
    pub manifest_json: Vec<u8>,
    pub manifest_digest: Sha256Digest,
    /// The manifest's descriptor, with `platform` set, as an image index lists it.
    pub manifest_descriptor: Descriptor,
}

impl PlatformImage {
    pub fn oci_config(&self) -> Result<ImageConfiguration, OciError> {
        let spec = |source| OciError::Spec {
            what: "image config",
            source,
        };
        let created = rfc3339_utc(self.source_date_epoch)?;
        let c = &self.config;
        let mut env = c.env.clone();
        env.entry("PATH".to_owned())
            .or_insert_with(|| DEFAULT_PATH.to_owned());
        for key in env.keys() {
            if key.is_empty() || key.contains('=') || key.contains('\0') {
                return Err(OciError::InvalidConfig(format!(
                    "environment variable name `{key}` is empty or contains `=`"
                )));
            }
        }
        let mut config = Config::default();
        // BTreeMap order: sorted by key, as the contract asks.
        config.set_env(Some(env.iter().map(|(k, v)| format!("{k}={v}")).collect()));
        config.set_entrypoint(c.entrypoint.clone());
        config.set_cmd(c.cmd.clone());
        config.set_working_dir(c.workdir.clone());
        config.set_user(c.user.clone());
        config.set_labels(annotations(&c.labels));
        config.set_exposed_ports((!c.exposed_ports.is_empty()).then(|| c.exposed_ports.to_vec()));
        config.set_stop_signal(c.stop_signal.clone());
        let rootfs = RootFsBuilder::default()
            .typ("layers")
            .diff_ids(
                self.layers
                    .iter()
                    .map(|l| l.info.diff_id.oci())
                    .collect::<Vec<_>>(),
            )
            .build()
            .map_err(spec)?;
        let history = self
            .layers
            .iter()
            .map(|l| {
                HistoryBuilder::default()
                    .created(created.clone())
                    .created_by(l.created_by.clone())
                    .build()
                    .map_err(spec)
            })
            .collect::<Result<Vec<_>, _>>()?;
        let mut image = ImageConfigurationBuilder::default()
            .created(created)
            .architecture(Arch::from(self.platform.architecture.as_str()))
            .os(Os::from(self.platform.os.as_str()))
            .config(config)
            .rootfs(rootfs)
            .history(history)
            .build()
            .map_err(spec)?;
        image.set_variant(self.platform.variant.clone());
        Ok(image)
    }

    /// Serialises config and manifest. Pure: the same image gives the same bytes.
    pub fn blobs(&self) -> Result<ImageBlobs, OciError> {
        let config = self.oci_config()?;
        let config_json = to_canonical_json(&config).map_err(|e| OciError::Json {
            what: "image config",
            source: e,
        })?;
        let config_digest = Sha256Digest::of(&config_json);
        let config_descriptor = descriptor(MEDIA_TYPE_CONFIG, config_digest, config_json.len() as u64);
        let mut manifest = ImageManifestBuilder::default()
            .schema_version(2u32)
            .media_type(MediaType::ImageManifest)
            .config(config_descriptor.clone())
            .layers(
                self.layers
                    .iter()
                    .map(|l| l.info.descriptor())
                    .collect::<Vec<_>>(),
            )
            .build()
            .map_err(|source| OciError::Spec {
                what: "image manifest",
                source,
            })?;
        manifest.set_annotations(annotations(&self.annotations));
        let manifest_json = to_canonical_json(&manifest).map_err(|e| OciError::Json {
            what: "image manifest",
            source: e,
        })?;
        let manifest_digest = Sha256Digest::of(&manifest_json);
        let mut manifest_descriptor =
            descriptor(MEDIA_TYPE_MANIFEST, manifest_digest, manifest_json.len() as u64);
        manifest_descriptor.set_platform(Some(platform_json(&self.platform)));
        Ok(ImageBlobs {
            config,
            config_json,
            config_digest,
            config_descriptor,
            manifest,
            manifest_json,
            manifest_digest,
            manifest_descriptor,
        })
    }
}

/// `YYYY-MM-DDTHH:MM:SSZ` for seconds since the epoch (proleptic Gregorian, UTC).
pub fn rfc3339_utc(epoch: u64) -> Result<String, OciError> {
    let past = || OciError::InvalidConfig(format!("SOURCE_DATE_EPOCH {epoch} is past the year 9999"));
    let civil = Civil::from_unix(i64::try_from(epoch).map_err(|_| past())?);
    if civil.year > 9999 {
        return Err(past());
    }
    Ok(civil.rfc3339())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_rfc3339() {
        assert_eq!(rfc3339_utc(0).unwrap(), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339_utc(951_782_400).unwrap(), "2000-02-29T00:00:00Z");
        assert_eq!(rfc3339_utc(1_700_000_000).unwrap(), "2023-11-14T22:13:20Z");
        assert_eq!(rfc3339_utc(4_102_444_799).unwrap(), "2099-12-31T23:59:59Z");
        assert!(rfc3339_utc(u64::MAX / 2).is_err());
        assert!(rfc3339_utc(u64::MAX).is_err());
        assert!(rfc3339_utc(253_402_300_799).is_ok());
        assert!(rfc3339_utc(253_402_300_800).is_err());
    }
}
