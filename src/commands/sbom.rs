//! `build`'s SBOM output: one line per platform and, with `--sbom DIR`, the documents as files.

use std::path::Path;

use anyhow::Context;

/// Prints one line per platform about its SBOMs and, with `--sbom DIR`, writes them there.
pub(crate) fn report_sboms(sboms: &[crate::sbom::Documents], dir: Option<&Path>) -> anyhow::Result<()> {
    for docs in sboms {
        let bom: serde_json::Value = serde_json::from_slice(&docs.cyclonedx)?;
        let components = bom["components"].as_array().map_or(0, Vec::len);
        let licensed = bom["components"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|c| c.get("licenses").is_some())
            .count();
        tracing::info!(
            "{}: SBOMs (SPDX 2.3, CycloneDX 1.6): {components} component(s), {licensed} with a machine-readable license{}",
            docs.platform,
            if dir.is_none() { "" } else { ", written to --sbom" }
        );
    }
    if let Some(dir) = dir {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        for docs in sboms {
            for (ext, bytes) in [("spdx.json", &docs.spdx), ("cdx.json", &docs.cyclonedx)] {
                let path = dir.join(format!("{}.{ext}", docs.stem()));
                write_beside(&path, bytes)?;
            }
        }
    }
    Ok(())
}

/// Writes `bytes` to a temporary file beside `path` and renames it into place.
fn write_beside(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    let parent = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let mut tmp = tempfile::Builder::new()
        .prefix(&crate::cleanup::prefix(".sbom-"))
        .tempfile_in(parent)
        .with_context(|| format!("writing {}", path.display()))?;
    std::io::Write::write_all(&mut tmp, bytes).with_context(|| format!("writing {}", path.display()))?;
    tmp.persist(path)
        .with_context(|| format!("writing {}", path.display()))?;
    Ok(())
}
