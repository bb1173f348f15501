//! CycloneDX 1.6 JSON: the image as `metadata.component`, every locked `.deb` and `[[artifact]]`
//! as a component, the resolved dependencies as `dependencies`.

use serde_json::{Value, json};

use super::{SbomError, SbomInput, artifact_purl, deb_purl, image_purl, split_contact};

pub fn document(input: &SbomInput) -> Result<Vec<u8>, SbomError> {
    let created =
        crate::oci::image::rfc3339_utc(input.created).unwrap_or_else(|_| "1970-01-01T00:00:00Z".into());
    let image_ref = image_purl(&input.image, &input.platform, &input.image_digest);
    let refs: Vec<String> = input
        .packages
        .iter()
        .map(|p| {
            deb_purl(
                &p.locked.name,
                &p.locked.version,
                &p.locked.architecture,
                input.distro.as_deref(),
                Some(&p.source_name),
            )
        })
        .collect();
    let mut components = Vec::new();
    let mut dependencies = Vec::new();
    for (p, purl) in input.packages.iter().zip(&refs) {
        let l = &p.locked;
        let mut c = json!({
            "type": if l.name.starts_with("lib") { "library" } else { "application" },
            "bom-ref": purl,
            "name": l.name,
            "version": l.version,
            "purl": purl,
            "hashes": [{"alg": "SHA-256", "content": l.sha256.hex()}],
            "properties": [
                {"name": "debcast:architecture", "value": l.architecture},
                {"name": "debcast:archive", "value": l.archive},
                {"name": "debcast:pool-path", "value": l.path},
                {"name": "debcast:size", "value": l.size.to_string()},
                {"name": "debcast:source-name", "value": p.source_name},
                {"name": "debcast:source-version", "value": p.source_version},
            ],
        });
        let obj = c.as_object_mut();
        if let Some(obj) = obj {
            if let Some(m) = &p.maintainer {
                let (name, email) = split_contact(m);
                let mut contact = json!({"name": name});
                if let (Some(e), Some(o)) = (email, contact.as_object_mut()) {
                    o.insert("email".into(), Value::String(e));
                }
                obj.insert("supplier".into(), json!({"name": name, "contact": [contact]}));
            }
            if let Some(expr) = &p.license {
                obj.insert("licenses".into(), json!([{"expression": expr}]));
            }
            if let Some(h) = &p.homepage {
                obj.insert(
                    "externalReferences".into(),
                    json!([{"type": "website", "url": h}]),
                );
            }
        }
        components.push(c);
        let mut on: Vec<&str> = p
            .depends
            .iter()
            .filter_map(|&d| refs.get(d).map(String::as_str))
            .collect();
        on.sort_unstable();
        on.dedup();
        dependencies.push(json!({"ref": purl, "dependsOn": on}));
    }
    let mut all_refs: Vec<String> = refs.clone();
    for a in &input.artifacts {
        let purl = artifact_purl(a);
        components.push(json!({
            "type": "file",
            "bom-ref": purl,
            "name": a.name,
            "version": a.sha256.oci(),
            "purl": purl,
            "hashes": [{"alg": "SHA-256", "content": a.sha256.hex()}],
            "externalReferences": [{"type": "distribution", "url": a.url}],
        }));
        dependencies.push(json!({"ref": purl, "dependsOn": []}));
        all_refs.push(purl);
    }
    all_refs.sort();
    all_refs.dedup();
    dependencies.push(json!({"ref": image_ref, "dependsOn": all_refs}));
    let mut doc = json!({
        "bomFormat": "CycloneDX",
        "specVersion": "1.6",
        "version": 1,
        "metadata": {
            "timestamp": created,
            "tools": {"components": [{
                "type": "application",
                "name": "debcast",
                "version": env!("CARGO_PKG_VERSION"),
            }]},
            "component": {
                "type": "container",
                "bom-ref": image_ref,
                "name": input.image,
                "supplier": {"name": input.supplier.as_deref().unwrap_or("debcast")},
                "version": input.image_digest.oci(),
                "purl": image_ref,
                "hashes": [{"alg": "SHA-256", "content": input.image_digest.hex()}],
                "properties": [{"name": "debcast:platform", "value": input.platform.to_string()}],
            },
        },
        "components": components,
        "dependencies": dependencies,
    });
    let body = super::canonical("CycloneDX document", &doc)?;
    if let Some(obj) = doc.as_object_mut() {
        obj.insert(
            "serialNumber".into(),
            Value::String(format!("urn:uuid:{}", super::content_uuid(&body))),
        );
    }
    super::canonical("CycloneDX document", &doc)
}
