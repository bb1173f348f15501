//! SBOMs of an image, generated from the lock and the locked `.deb` files (not by scanning the
//! image): SPDX 2.3 JSON ([`spdx`]) and CycloneDX 1.6 JSON ([`cyclonedx`]), and the OCI 1.1
//! artifact manifests that carry them beside the image in a layout ([`artifact_manifest`]).
//!
//! Deterministic: the same lock and image give the same bytes (the timestamp is the image's
//! SOURCE_DATE_EPOCH, identifiers are derived from content, JSON is canonical).

pub mod cyclonedx;
pub mod facts;
pub mod graph;
pub mod license;
pub mod spdx;
pub mod summary;

use std::collections::BTreeMap;

use rayon::prelude::*;

use crate::hash::Sha256Digest;
use crate::lockfile::{LockedArtifact, LockedPackage, Lockfile};
use crate::manifest::Manifest;
use crate::platform::Platform;
use crate::store::Store;

pub use facts::FactsError;

pub const MEDIA_TYPE_SPDX: &str = "application/spdx+json";
pub const MEDIA_TYPE_CYCLONEDX: &str = "application/vnd.cyclonedx+json";
/// The OCI 1.1 empty descriptor's media type, and its content `{}`.
pub const MEDIA_TYPE_EMPTY: &str = "application/vnd.oci.empty.v1+json";
pub const EMPTY_JSON: &[u8] = b"{}";

/// One locked package as the SBOMs describe it.
#[derive(Debug, Clone)]
pub struct SbomPackage {
    pub locked: LockedPackage,
    pub source_name: String,
    pub source_version: String,
    /// The `Maintainer` field, verbatim (`Name <email>`).
    pub maintainer: Option<String>,
    pub homepage: Option<String>,
    /// SPDX expression from a machine-readable copyright file; `None` = NOASSERTION.
    pub license: Option<String>,
    /// Indices into the package list of what this package depends on, as resolved.
    pub depends: Vec<usize>,
}

/// Everything one platform's SBOMs say.
#[derive(Debug, Clone)]
pub struct SbomInput {
    /// The image's ref name (`static:bookworm`).
    pub image: String,
    pub platform: Platform,
    /// Digest of the platform's image manifest.
    pub image_digest: Sha256Digest,
    /// SOURCE_DATE_EPOCH of the image.
    pub created: u64,
    /// `debian-12`, from the suites the lock was resolved against.
    pub distro: Option<String>,
    pub packages: Vec<SbomPackage>,
    pub artifacts: Vec<LockedArtifact>,
    /// `LicenseRef-…` ids used by the packages' expressions, with their text.
    pub license_refs: BTreeMap<String, String>,
    /// Who supplies the image: the manifest's `org.opencontainers.image.vendor` (else
    /// `…authors`) label; `None` = debcast, which assembled it.
    pub supplier: Option<String>,
}

/// The two documents, as canonical JSON bytes.
#[derive(Debug, Clone)]
pub struct Documents {
    pub platform: Platform,
    pub spdx: Vec<u8>,
    pub cyclonedx: Vec<u8>,
}

impl Documents {
    /// `linux-amd64` (plus `-VARIANT`): the file name stem for `--sbom DIR`.
    pub fn stem(&self) -> String {
        let p = &self.platform;
        match &p.variant {
            Some(v) => format!("{}-{}-{v}", p.os, p.architecture),
            None => format!("{}-{}", p.os, p.architecture),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SbomError {
    #[error("SBOM: {0}")]
    Facts(#[from] FactsError),
    #[error("SBOM: cannot write {what} as JSON: {source}")]
    Json {
        what: &'static str,
        source: serde_json::Error,
    },
}

/// `bookworm-security` → `debian-12`: the purl `distro` qualifier scanners match advisories on.
pub fn distro_of_suite(suite: &str) -> Option<String> {
    let codename = suite.split(['-', '/']).next().unwrap_or(suite);
    let n = match codename {
        "buzz" => 1,
        "hamm" => 2,
        "potato" => 2,
        "woody" => 3,
        "sarge" => 3,
        "etch" => 4,
        "lenny" => 5,
        "squeeze" => 6,
        "wheezy" => 7,
        "jessie" => 8,
        "stretch" => 9,
        "buster" => 10,
        "bullseye" => 11,
        "bookworm" => 12,
        "trixie" => 13,
        "forky" => 14,
        "duke" => 15,
        _ => return None,
    };
    Some(format!("debian-{n}"))
}

/// The lock's distribution release (from its Releases' suites; the first that maps).
pub fn distro_of_lock(lock: &Lockfile) -> Option<String> {
    let mut releases: Vec<_> = lock.releases.iter().collect();
    releases.sort_by_key(|r| (r.archive != "debian", r.suite.contains('-'), r.suite.clone()));
    releases.iter().find_map(|r| distro_of_suite(&r.suite))
}

/// Percent-encodes per the purl spec: everything but `A-Z a-z 0-9 . - _ ~`.
pub fn purl_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"._-~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// `pkg:deb/debian/NAME@VERSION?arch=ARCH&distro=debian-12[&upstream=SOURCE]`.
pub fn deb_purl(name: &str, version: &str, arch: &str, distro: Option<&str>, source: Option<&str>) -> String {
    let mut quals = vec![("arch", arch.to_owned())];
    if let Some(d) = distro {
        quals.push(("distro", d.to_owned()));
    }
    if let Some(s) = source.filter(|s| *s != name) {
        quals.push(("upstream", s.to_owned()));
    }
    let q = quals
        .iter()
        .map(|(k, v)| format!("{k}={}", purl_encode(v)))
        .collect::<Vec<_>>()
        .join("&");
    format!(
        "pkg:deb/debian/{}@{}?{q}",
        purl_encode(&name.to_ascii_lowercase()),
        purl_encode(version)
    )
}

/// `pkg:generic/NAME?checksum=sha256:HEX&download_url=URL` for an `[[artifact]]`.
pub fn artifact_purl(a: &LockedArtifact) -> String {
    format!(
        "pkg:generic/{}?checksum={}&download_url={}",
        purl_encode(&a.name),
        purl_encode(&format!("sha256:{}", a.sha256.hex())),
        purl_encode(&a.url)
    )
}

/// `pkg:oci/NAME@sha256%3AHEX?arch=ARCH`.
pub fn image_purl(image: &str, platform: &Platform, digest: &Sha256Digest) -> String {
    let repo = image.split(':').next().unwrap_or(image);
    let name = repo.rsplit('/').next().unwrap_or(repo).to_ascii_lowercase();
    let mut q = format!("arch={}", purl_encode(&platform.architecture));
    if let Some(v) = &platform.variant {
        q.push_str(&format!("&variant={}", purl_encode(v)));
    }
    format!(
        "pkg:oci/{}@{}?{q}",
        purl_encode(&name),
        purl_encode(&digest.oci())
    )
}

/// `Name <email>` → (name, email).
pub fn split_contact(s: &str) -> (String, Option<String>) {
    match (s.find('<'), s.rfind('>')) {
        (Some(a), Some(b)) if a < b => (
            s[..a].trim().to_owned(),
            Some(s[a + 1..b].trim().to_owned()).filter(|e| e.contains('@')),
        ),
        _ => (s.trim().to_owned(), None),
    }
}

/// Reads what the SBOMs need of `platform`'s locked packages from the store (in parallel) and
/// resolves their dependencies within the lock.
pub fn collect(
    manifest: &Manifest,
    lock: &Lockfile,
    store: &Store,
    platform: &Platform,
) -> Result<(Vec<SbomPackage>, BTreeMap<String, String>), SbomError> {
    let locked: Vec<&LockedPackage> = lock.packages_for(platform).collect();
    let wanted = facts::Wanted {
        copyright: true,
        changelog: false,
    };
    let all: Vec<facts::PackageFacts> = locked
        .par_iter()
        .map(|p| facts::read(store, p, wanted))
        .collect::<Result<_, _>>()?;
    let by_name: BTreeMap<&str, usize> = locked
        .iter()
        .enumerate()
        .map(|(i, p)| (p.name.as_str(), i))
        .collect();
    let recommends = manifest.packages.recommends;
    let nodes: Vec<graph::Node<'_>> = locked
        .iter()
        .zip(&all)
        .map(|(p, f)| graph::Node {
            name: &p.name,
            version: &p.version,
            architecture: &p.architecture,
            depends: ["Pre-Depends", "Depends"]
                .into_iter()
                .chain(recommends.then_some("Recommends"))
                .filter_map(|field| f.field(field).map(|v| (field, v)))
                .collect(),
            provides: f.field("Provides"),
        })
        .collect();
    let graph = graph::Graph::new(&nodes);
    // Licenses: the package's own copyright file, else that of the package whose documentation
    // directory its own links to.
    let mut parsed: Vec<license::Licenses> = Vec::with_capacity(all.len());
    for f in &all {
        let text = f.copyright.as_deref().or_else(|| {
            f.doc_link
                .as_deref()
                .and_then(|l| by_name.get(l))
                .and_then(|&j| all[j].copyright.as_deref())
        });
        parsed.push(text.map(license::from_copyright).unwrap_or_default());
    }
    let (expressions, refs) = unify_refs(parsed);
    let packages = locked
        .iter()
        .zip(&all)
        .zip(expressions)
        .enumerate()
        .map(|(i, ((p, f), license))| {
            let (source_name, source_version) = f.source(&p.name, &p.version);
            SbomPackage {
                locked: (*p).clone(),
                source_name,
                source_version,
                maintainer: f.field("Maintainer").map(str::to_owned),
                homepage: f
                    .field("Homepage")
                    .filter(|h| h.starts_with("http://") || h.starts_with("https://"))
                    .map(str::to_owned),
                license,
                depends: graph.depends_on(i).into_iter().collect(),
            }
        })
        .collect();
    Ok((packages, refs))
}

/// Gives each `LicenseRef-` one text: where packages use one id for different texts, the id
/// gets a suffix from its text's hash (in that package's expression too).
fn unify_refs(parsed: Vec<license::Licenses>) -> (Vec<Option<String>>, BTreeMap<String, String>) {
    let mut texts: BTreeMap<String, std::collections::BTreeSet<String>> = BTreeMap::new();
    for l in &parsed {
        for (id, text) in &l.references {
            texts.entry(id.clone()).or_default().insert(text.clone());
        }
    }
    let mut refs = BTreeMap::new();
    let mut out = Vec::with_capacity(parsed.len());
    for l in parsed {
        let Some(mut expr) = l.expression else {
            out.push(None);
            continue;
        };
        for (id, text) in &l.references {
            let final_id = if texts.get(id).is_some_and(|t| t.len() > 1) {
                let new = format!("{id}-{}", &Sha256Digest::of(text.as_bytes()).hex()[..8]);
                expr = replace_token(&expr, id, &new);
                new
            } else {
                id.clone()
            };
            refs.insert(final_id, text.clone());
        }
        out.push(Some(expr));
    }
    (out, refs)
}

fn replace_token(expr: &str, from: &str, to: &str) -> String {
    let mut out = String::new();
    let mut token = String::new();
    let flush = |token: &mut String, out: &mut String| {
        out.push_str(if token == from { to } else { token });
        token.clear();
    };
    for c in expr.chars() {
        if c == ' ' || c == '(' || c == ')' {
            flush(&mut token, &mut out);
            out.push(c);
        } else {
            token.push(c);
        }
    }
    flush(&mut token, &mut out);
    out
}

/// The SPDX and CycloneDX documents for `input`.
pub fn documents(input: &SbomInput) -> Result<Documents, SbomError> {
    Ok(Documents {
        platform: input.platform.clone(),
        spdx: spdx::document(input)?,
        cyclonedx: cyclonedx::document(input)?,
    })
}

/// An OCI 1.1 artifact manifest for an SBOM blob: empty config, the SBOM as its one layer, the
/// image manifest as `subject`. Canonical JSON bytes.
pub fn artifact_manifest(
    artifact_type: &str,
    sbom: &[u8],
    file_name: &str,
    subject: &crate::oci::image::Descriptor,
    created: &str,
) -> Result<Vec<u8>, SbomError> {
    let subject = serde_json::json!({
        "mediaType": subject.media_type,
        "digest": subject.digest().oci(),
        "size": subject.size,
    });
    let value = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": crate::oci::image::MEDIA_TYPE_MANIFEST,
        "artifactType": artifact_type,
        "config": {
            "mediaType": MEDIA_TYPE_EMPTY,
            "digest": Sha256Digest::of(EMPTY_JSON).oci(),
            "size": EMPTY_JSON.len(),
        },
        "layers": [{
            "mediaType": artifact_type,
            "digest": Sha256Digest::of(sbom).oci(),
            "size": sbom.len(),
            "annotations": {"org.opencontainers.image.title": file_name},
        }],
        "subject": subject,
        "annotations": {"org.opencontainers.image.created": created},
    });
    crate::oci::to_canonical_json(&value).map_err(|source| SbomError::Json {
        what: "SBOM artifact manifest",
        source,
    })
}

/// Canonical JSON of a document value.
pub(crate) fn canonical(what: &'static str, value: &serde_json::Value) -> Result<Vec<u8>, SbomError> {
    crate::oci::to_canonical_json(value).map_err(|source| SbomError::Json { what, source })
}

/// A UUID (version 5 layout, RFC 4122 variant) derived from `bytes`' SHA-256.
pub(crate) fn content_uuid(bytes: &[u8]) -> String {
    let d = Sha256Digest::of(bytes).hex();
    let b = d.as_bytes();
    let s = |r: std::ops::Range<usize>| std::str::from_utf8(&b[r]).unwrap_or("0");
    let variant = ["8", "9", "a", "b"][usize::from(b[16] % 4)];
    format!(
        "{}-{}-5{}-{variant}{}-{}",
        s(0..8),
        s(8..12),
        s(13..16),
        s(17..20),
        s(20..32)
    )
}

/// The SBOM documents of one platform image whose manifest has `image_digest`.
pub fn for_image(
    manifest: &Manifest,
    lock: &Lockfile,
    store: &Store,
    platform: &Platform,
    image_digest: Sha256Digest,
    source_date_epoch: u64,
) -> Result<Documents, SbomError> {
    let (packages, license_refs) = collect(manifest, lock, store, platform)?;
    let input = SbomInput {
        image: manifest.ref_name(),
        platform: platform.clone(),
        image_digest,
        created: source_date_epoch,
        distro: distro_of_lock(lock),
        packages,
        artifacts: lock
            .artifacts
            .iter()
            .filter(|a| &a.platform == platform)
            .cloned()
            .collect(),
        license_refs,
        supplier: [
            "org.opencontainers.image.vendor",
            "org.opencontainers.image.authors",
        ]
        .iter()
        .find_map(|k| manifest.config.labels.get(*k))
        .filter(|v| !v.trim().is_empty())
        .cloned(),
    };
    documents(&input)
}

/// Writes `docs` into the layout as two OCI 1.1 artifact manifests whose `subject` is `image`
/// (the platform's image manifest descriptor), and returns their descriptors for `index.json`:
/// The layout ref name of a platform image's SBOM of `kind` (`spdx`, `cyclonedx`).
pub fn sbom_ref_name(platform_ref: &str, kind: &str) -> String {
    format!("{platform_ref}-sbom-{kind}")
}

/// `artifactType` set, and a ref name `<platform ref>-sbom-spdx` / `-sbom-cyclonedx` so that
/// tools that copy by ref (`skopeo copy oci:DIR:REF`) reach them.
pub fn attach(
    writer: &crate::oci::LayoutWriter,
    docs: &Documents,
    image: &crate::oci::image::Descriptor,
    platform_ref: &str,
    source_date_epoch: u64,
) -> Result<Vec<crate::oci::image::Descriptor>, crate::oci::OciError> {
    use crate::oci::image::{ANNOTATION_REF_NAME, Descriptor, MEDIA_TYPE_MANIFEST};
    let created = crate::oci::image::rfc3339_utc(source_date_epoch)?;
    writer.add_blob(EMPTY_JSON)?;
    let mut out = Vec::new();
    for (kind, media_type, bytes, file) in [
        ("spdx", MEDIA_TYPE_SPDX, &docs.spdx, "sbom.spdx.json"),
        (
            "cyclonedx",
            MEDIA_TYPE_CYCLONEDX,
            &docs.cyclonedx,
            "sbom.cdx.json",
        ),
    ] {
        writer.add_blob(bytes)?;
        let manifest = artifact_manifest(media_type, bytes, file, image, &created)
            .map_err(|e| crate::oci::OciError::InvalidConfig(e.to_string()))?;
        let digest = writer.add_blob(&manifest)?;
        let mut d = Descriptor::new(MEDIA_TYPE_MANIFEST, digest, manifest.len() as u64)
            .with_annotation(ANNOTATION_REF_NAME, &sbom_ref_name(platform_ref, kind));
        d.artifact_type = Some(media_type.to_owned());
        out.push(d);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn purls_as_scanners_expect() {
        assert_eq!(
            deb_purl(
                "libstdc++6",
                "12.2.0-14",
                "amd64",
                Some("debian-12"),
                Some("gcc-12")
            ),
            "pkg:deb/debian/libstdc%2B%2B6@12.2.0-14?arch=amd64&distro=debian-12&upstream=gcc-12"
        );
        assert_eq!(
            deb_purl("bash", "5.2.15-2+b7", "arm64", Some("debian-12"), Some("bash")),
            "pkg:deb/debian/bash@5.2.15-2%2Bb7?arch=arm64&distro=debian-12"
        );
        assert_eq!(
            deb_purl("tzdata", "1:2024a-0+deb12u1", "all", Some("debian-11"), None),
            "pkg:deb/debian/tzdata@1%3A2024a-0%2Bdeb12u1?arch=all&distro=debian-11"
        );
        assert_eq!(distro_of_suite("bookworm-security").as_deref(), Some("debian-12"));
        assert_eq!(distro_of_suite("bullseye").as_deref(), Some("debian-11"));
        assert_eq!(distro_of_suite("trixie-updates").as_deref(), Some("debian-13"));
        assert_eq!(distro_of_suite("sid"), None);
    }

    #[test]
    fn uuid_from_content_is_stable_and_well_formed() {
        let u = content_uuid(b"x");
        assert_eq!(u, content_uuid(b"x"));
        assert_ne!(u, content_uuid(b"y"));
        let parts: Vec<&str> = u.split('-').collect();
        assert_eq!(
            parts.iter().map(|p| p.len()).collect::<Vec<_>>(),
            [8, 4, 4, 4, 12]
        );
        assert!(parts[2].starts_with('5'));
        assert!("89ab".contains(&parts[3][..1]));
    }

    #[test]
    fn license_refs_with_different_texts_get_their_own_ids() {
        let mk = |text: &str| license::Licenses {
            expression: Some("MIT AND LicenseRef-public-domain".into()),
            references: [("LicenseRef-public-domain".to_owned(), text.to_owned())].into(),
        };
        let (exprs, refs) = unify_refs(vec![mk("a"), mk("b"), license::Licenses::default()]);
        assert_eq!(refs.len(), 2);
        assert_ne!(exprs[0], exprs[1]);
        assert!(
            exprs[0]
                .as_deref()
                .unwrap()
                .starts_with("MIT AND LicenseRef-public-domain-")
        );
        assert_eq!(exprs[2], None);
    }
}
