//! SPDX 2.3 JSON: the image as the described package, every locked `.deb` and `[[artifact]]` as
//! a package it CONTAINS, the resolved dependencies as DEPENDS_ON relationships.

use serde_json::{Value, json};

use super::{SbomError, SbomInput, artifact_purl, deb_purl, image_purl, split_contact};
use crate::hash::Sha256Digest;

const NOASSERTION: &str = "NOASSERTION";

/// `SPDXRef-` ids allow `A-Z a-z 0-9 . -`.
fn id_part(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' || c == '-' {
                c
            } else {
                '-'
            }
        })
        .collect()
}

/// Package id: name plus the start of its `.deb`'s hash, unique within a platform.
pub fn package_id(name: &str, sha256: &Sha256Digest) -> String {
    format!("SPDXRef-deb-{}-{}", id_part(name), &sha256.hex()[..12])
}

/// `Name <email>` as an SPDX supplier: a team or list as `Organization`, else `Person`.
fn supplier(maintainer: Option<&str>) -> String {
    let Some(m) = maintainer else {
        return NOASSERTION.to_owned();
    };
    let (name, email) = split_contact(m);
    let lower = m.to_ascii_lowercase();
    let org = ["team", "maintainers", "group", "developers", "project", "lists."]
        .iter()
        .any(|w| lower.contains(w));
    let kind = if org { "Organization" } else { "Person" };
    // The SPDX grammar puts the email in parentheses after the name; neither may be empty.
    let name = if name.is_empty() {
        m.trim().to_owned()
    } else {
        name
    };
    match email {
        Some(e) => format!("{kind}: {name} ({e})"),
        None => format!("{kind}: {name}"),
    }
}

fn host_of(url: &str) -> Option<&str> {
    let rest = url.split_once("://")?.1;
    let host = rest.split(['/', '?', '#']).next()?;
    let host = host.rsplit('@').next()?;
    Some(host.split(':').next().unwrap_or(host)).filter(|h| !h.is_empty())
}

pub fn document(input: &SbomInput) -> Result<Vec<u8>, SbomError> {
    let created =
        crate::oci::image::rfc3339_utc(input.created).unwrap_or_else(|_| "1970-01-01T00:00:00Z".into());
    let image_id = "SPDXRef-image";
    let mut packages = vec![json!({
        "SPDXID": image_id,
        "name": input.image,
        "versionInfo": input.image_digest.oci(),
        "supplier": format!("Organization: {}", input.supplier.as_deref().unwrap_or("debcast").replace(['\n', '\r'], " ")),
        "downloadLocation": NOASSERTION,
        "filesAnalyzed": false,
        "primaryPackagePurpose": "CONTAINER",
        "checksums": [{"algorithm": "SHA256", "checksumValue": input.image_digest.hex()}],
        "licenseConcluded": NOASSERTION,
        "licenseDeclared": NOASSERTION,
        "copyrightText": NOASSERTION,
        "comment": format!("The {} image manifest, built by debcast from its lock.", input.platform),
        "externalRefs": [{
            "referenceCategory": "PACKAGE-MANAGER",
            "referenceType": "purl",
            "referenceLocator": image_purl(&input.image, &input.platform, &input.image_digest),
        }],
    })];
    let mut relationships = vec![json!({
        "spdxElementId": "SPDXRef-DOCUMENT",
        "relationshipType": "DESCRIBES",
        "relatedSpdxElement": image_id,
    })];
    let ids: Vec<String> = input
        .packages
        .iter()
        .map(|p| package_id(&p.locked.name, &p.locked.sha256))
        .collect();
    for (p, id) in input.packages.iter().zip(&ids) {
        let l = &p.locked;
        let purl = deb_purl(
            &l.name,
            &l.version,
            &l.architecture,
            input.distro.as_deref(),
            Some(&p.source_name),
        );
        let mut pkg = json!({
            "SPDXID": id,
            "name": l.name,
            "versionInfo": l.version,
            "supplier": supplier(p.maintainer.as_deref()),
            "downloadLocation": NOASSERTION,
            "packageFileName": l.path,
            "filesAnalyzed": false,
            "checksums": [{"algorithm": "SHA256", "checksumValue": l.sha256.hex()}],
            "sourceInfo": format!(
                "built from Debian source package {} {}; architecture {}; archive {}, pool path {}",
                p.source_name, p.source_version, l.architecture, l.archive, l.path
            ),
            "licenseConcluded": NOASSERTION,
            "licenseDeclared": p.license.as_deref().unwrap_or(NOASSERTION),
            "copyrightText": NOASSERTION,
            "externalRefs": [{
                "referenceCategory": "PACKAGE-MANAGER",
                "referenceType": "purl",
                "referenceLocator": purl,
            }],
        });
        if let (Some(h), Some(obj)) = (&p.homepage, pkg.as_object_mut()) {
            obj.insert("homepage".into(), Value::String(h.clone()));
        }
        packages.push(pkg);
        relationships.push(json!({
            "spdxElementId": image_id,
            "relationshipType": "CONTAINS",
            "relatedSpdxElement": id,
        }));
        for &d in &p.depends {
            if let Some(to) = ids.get(d) {
                relationships.push(json!({
                    "spdxElementId": id,
                    "relationshipType": "DEPENDS_ON",
                    "relatedSpdxElement": to,
                }));
            }
        }
    }
    for a in &input.artifacts {
        let id = format!("SPDXRef-artifact-{}-{}", id_part(&a.name), &a.sha256.hex()[..12]);
        let supplier =
            host_of(&a.url).map_or_else(|| NOASSERTION.to_owned(), |h| format!("Organization: {h}"));
        packages.push(json!({
            "SPDXID": id,
            "name": a.name,
            "versionInfo": a.sha256.oci(),
            "supplier": supplier,
            "downloadLocation": a.url,
            "filesAnalyzed": false,
            "checksums": [{"algorithm": "SHA256", "checksumValue": a.sha256.hex()}],
            "licenseConcluded": NOASSERTION,
            "licenseDeclared": NOASSERTION,
            "copyrightText": NOASSERTION,
            "comment": "A non-Debian input of the image ([[artifact]]), pinned by URL and SHA-256.",
            "externalRefs": [{
                "referenceCategory": "PACKAGE-MANAGER",
                "referenceType": "purl",
                "referenceLocator": artifact_purl(a),
            }],
        }));
        relationships.push(json!({
            "spdxElementId": image_id,
            "relationshipType": "CONTAINS",
            "relatedSpdxElement": id,
        }));
    }
    let extracted: Vec<Value> = input
        .license_refs
        .iter()
        .map(|(id, text)| {
            json!({
                "licenseId": id,
                "name": id.trim_start_matches("LicenseRef-"),
                "extractedText": text,
            })
        })
        .collect();
    let mut doc = json!({
        "spdxVersion": "SPDX-2.3",
        "dataLicense": "CC0-1.0",
        "SPDXID": "SPDXRef-DOCUMENT",
        "name": format!("{} {}", input.image, input.platform),
        "creationInfo": {
            "created": created,
            "creators": [format!("Tool: debcast-{}", env!("CARGO_PKG_VERSION"))],
        },
        "documentDescribes": [image_id],
        "packages": packages,
        "relationships": relationships,
    });
    if let Some(obj) = doc.as_object_mut() {
        if !extracted.is_empty() {
            obj.insert("hasExtractedLicensingInfos".into(), Value::Array(extracted));
        }
        // The namespace is derived from everything else the document says.
        let body = super::canonical("SPDX document", &Value::Object(obj.clone()))?;
        let name: String = input
            .image
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '.' || c == '-' {
                    c
                } else {
                    '-'
                }
            })
            .collect();
        obj.insert(
            "documentNamespace".into(),
            Value::String(format!(
                "https://spdx.org/spdxdocs/debcast/{name}-{}-{}",
                id_part(&input.platform.to_string()),
                Sha256Digest::of(&body).hex()
            )),
        );
    }
    super::canonical("SPDX document", &doc)
}
