//! SBOM documents cached like layers: an SBOM reads every `.deb` of the image (control fields,
//! copyright files, changelogs), so a rebuild of the same image takes the documents from the
//! store (or the remote cache) instead of reading — or, with a remote cache, downloading — every
//! input again. Keyed by everything the documents are made from.

use std::path::Path;

use crate::hash::Sha256Digest;
use crate::lockfile::Lockfile;
use crate::manifest::Manifest;
use crate::platform::Platform;
use crate::sbom::{Documents, SbomError};
use crate::store::Store;

/// Bumped whenever the documents for the same inputs change.
const SBOM_CACHE_FORMAT: u32 = 2;

/// One cache entry: the documents, and the `.deb`s they were read from (so `store gc` keeps the
/// entry exactly as long as a lock needs all of them, as it does layer records).
#[derive(serde::Serialize, serde::Deserialize)]
pub struct CachedSboms {
    pub debs: Vec<String>,
    pub spdx: String,
    pub cyclonedx: String,
}

/// [`crate::sbom::for_image`], through the store's SBOM cache (`sboms/`, and the remote cache's
/// tag `sbom-<key>`). A cache that cannot be read or written costs the work, never the build.
pub(super) fn for_image(
    manifest: &Manifest,
    lock: &Lockfile,
    store: &Store,
    platform: &Platform,
    image_digest: Sha256Digest,
    source_date_epoch: u64,
) -> Result<Documents, SbomError> {
    let key = Sha256Digest::of(
        format!(
            "sbom {SBOM_CACHE_FORMAT}\n{}\n{}\n{}\n{platform}\n{}\n{source_date_epoch}\n",
            super::keys::executable_identity(),
            Sha256Digest::of(lock.to_toml().as_bytes()).hex(),
            manifest.ref_name(),
            image_digest.hex(),
        )
        .as_bytes(),
    );
    let dir = store.root().join("sboms");
    let path = dir.join(format!("{}.json", key.hex()));
    let tag = format!("sbom-{}", key.hex());
    let cached = read(&path).or_else(|| {
        crate::remote::pull_file(&tag, &path)
            .then(|| read(&path))
            .flatten()
    });
    if let Some(c) = cached {
        crate::remote::note_file(tag, &path);
        return Ok(Documents {
            platform: platform.clone(),
            spdx: c.spdx.into_bytes(),
            cyclonedx: c.cyclonedx.into_bytes(),
        });
    }
    let docs = crate::sbom::for_image(manifest, lock, store, platform, image_digest, source_date_epoch)?;
    let stored = (|| -> std::io::Result<()> {
        let record = CachedSboms {
            debs: lock.packages_for(platform).map(|p| p.sha256.hex()).collect(),
            spdx: String::from_utf8(docs.spdx.clone()).map_err(std::io::Error::other)?,
            cyclonedx: String::from_utf8(docs.cyclonedx.clone()).map_err(std::io::Error::other)?,
        };
        std::fs::create_dir_all(&dir)?;
        let bytes = serde_json::to_vec(&record).map_err(std::io::Error::other)?;
        crate::store::replace_file(&dir, &path, &bytes, false)
    })();
    match stored {
        Ok(()) => crate::remote::note_file(tag, &path),
        Err(e) => tracing::debug!("SBOMs of {platform}: not cached ({e})"),
    }
    Ok(docs)
}

fn read(path: &Path) -> Option<CachedSboms> {
    serde_json::from_slice(&std::fs::read(path).ok()?).ok()
}
