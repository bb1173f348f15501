//! OCI image objects: descriptors, the image config, the image manifest and the image index, as
//! hand-written serde structs (BTreeMaps, optional fields skipped) serialised canonically.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

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

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlatformJson {
    pub architecture: String,
    pub os: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub variant: Option<String>,
}

impl From<&Platform> for PlatformJson {
    fn from(p: &Platform) -> Self {
        PlatformJson {
            architecture: p.architecture.clone(),
            os: p.os.clone(),
            variant: p.variant.clone(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Descriptor {
    pub media_type: String,
    pub digest: DigestString,
    pub size: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub platform: Option<PlatformJson>,
    /// Set on descriptors of OCI 1.1 artifact manifests (an SBOM beside its image).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub artifact_type: Option<String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
}

impl Descriptor {
    pub fn new(media_type: &str, digest: Sha256Digest, size: u64) -> Self {
        Descriptor {
            media_type: media_type.to_owned(),
            digest: DigestString(digest),
            size,
            platform: None,
            artifact_type: None,
            annotations: BTreeMap::new(),
        }
    }

    pub fn digest(&self) -> Sha256Digest {
        self.digest.0
    }

    pub fn with_annotation(mut self, key: &str, value: &str) -> Self {
        self.annotations.insert(key.to_owned(), value.to_owned());
        self
    }
}

// Here rather than beside `LayerInfo`: a layer knows nothing of the image that lists it.
impl LayerInfo {
    pub fn descriptor(&self) -> Descriptor {
        Descriptor::new(self.media_type, self.digest, self.size)
    }
}

/// A digest written the OCI way, `sha256:<hex>` (the shared `Sha256Digest` serialises bare hex).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DigestString(pub Sha256Digest);

impl Serialize for DigestString {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0.oci())
    }
}

impl<'de> Deserialize<'de> for DigestString {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        let hex = s
            .strip_prefix("sha256:")
            .ok_or_else(|| serde::de::Error::custom(format!("`{s}` is not a sha256 digest")))?;
        hex.parse().map(DigestString).map_err(serde::de::Error::custom)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ImageManifest {
    pub schema_version: u32,
    pub media_type: String,
    pub config: Descriptor,
    pub layers: Vec<Descriptor>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ImageIndex {
    pub schema_version: u32,
    pub media_type: String,
    pub manifests: Vec<Descriptor>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
}

impl ImageIndex {
    pub fn new(manifests: Vec<Descriptor>) -> Self {
        ImageIndex {
            schema_version: 2,
            media_type: MEDIA_TYPE_INDEX.to_owned(),
            manifests,
            annotations: BTreeMap::new(),
        }
    }
}

/// The OCI image config (`application/vnd.oci.image.config.v1+json`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OciImageConfig {
    pub created: String,
    pub architecture: String,
    pub os: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub variant: Option<String>,
    pub config: ContainerConfig,
    pub rootfs: RootFs,
    pub history: Vec<History>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ContainerConfig {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub env: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub entrypoint: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cmd: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub working_dir: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub exposed_ports: BTreeMap<String, EmptyObject>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stop_signal: Option<String>,
}

/// `{}`: the value type of `ExposedPorts`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EmptyObject {}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RootFs {
    #[serde(rename = "type")]
    pub kind: String,
    pub diff_ids: Vec<DigestString>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct History {
    pub created: String,
    pub created_by: String,
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
    pub config: OciImageConfig,
    pub config_json: Vec<u8>,
    pub config_descriptor: Descriptor,
    pub manifest: ImageManifest,
    pub manifest_json: Vec<u8>,
    /// The manifest's descriptor, with `platform` set, as an image index lists it.
    pub manifest_descriptor: Descriptor,
}

impl PlatformImage {
    pub fn oci_config(&self) -> Result<OciImageConfig, OciError> {
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
        Ok(OciImageConfig {
            created: created.clone(),
            architecture: self.platform.architecture.clone(),
            os: self.platform.os.clone(),
            variant: self.platform.variant.clone(),
            config: ContainerConfig {
                // BTreeMap order: sorted by key, as the contract asks.
                env: env.iter().map(|(k, v)| format!("{k}={v}")).collect(),
                entrypoint: c.entrypoint.clone(),
                cmd: c.cmd.clone(),
                working_dir: c.workdir.clone(),
                user: c.user.clone(),
                labels: c.labels.clone(),
                exposed_ports: c
                    .exposed_ports
                    .iter()
                    .map(|p| (p.clone(), EmptyObject {}))
                    .collect(),
                stop_signal: c.stop_signal.clone(),
            },
            rootfs: RootFs {
                kind: "layers".to_owned(),
                diff_ids: self.layers.iter().map(|l| DigestString(l.info.diff_id)).collect(),
            },
            history: self
                .layers
                .iter()
                .map(|l| History {
                    created: created.clone(),
                    created_by: l.created_by.clone(),
                })
                .collect(),
        })
    }

    /// Serialises config and manifest. Pure: the same image gives the same bytes.
    pub fn blobs(&self) -> Result<ImageBlobs, OciError> {
        let config = self.oci_config()?;
        let config_json = to_canonical_json(&config).map_err(|e| OciError::Json {
            what: "image config",
            source: e,
        })?;
        let config_descriptor = Descriptor::new(
            MEDIA_TYPE_CONFIG,
            Sha256Digest::of(&config_json),
            config_json.len() as u64,
        );
        let manifest = ImageManifest {
            schema_version: 2,
            media_type: MEDIA_TYPE_MANIFEST.to_owned(),
            config: config_descriptor.clone(),
            layers: self.layers.iter().map(|l| l.info.descriptor()).collect(),
            annotations: self.annotations.clone(),
        };
        let manifest_json = to_canonical_json(&manifest).map_err(|e| OciError::Json {
            what: "image manifest",
            source: e,
        })?;
        let mut manifest_descriptor = Descriptor::new(
            MEDIA_TYPE_MANIFEST,
            Sha256Digest::of(&manifest_json),
            manifest_json.len() as u64,
        );
        manifest_descriptor.platform = Some(PlatformJson::from(&self.platform));
        Ok(ImageBlobs {
            config,
            config_json,
            config_descriptor,
            manifest,
            manifest_json,
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
