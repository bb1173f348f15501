//! `build`'s SBOM output: the one-line summary and, with `--sbom DIR`, the documents as files.

use std::path::Path;

use anyhow::Context;

/// Prints the one-line SBOM summary (what the documents list, per platform, and where they went)
/// and, with `--sbom DIR`, writes them there. `attached` names the layout they are attached to.
pub(crate) fn report_sboms(
    sboms: &[crate::sbom::Documents],
    dir: Option<&Path>,
    attached: Option<&Path>,
) -> anyhow::Result<()> {
    use crate::sbom::summary;
    let counts = sboms
        .iter()
        .map(|d| summary::of_cyclonedx(&d.platform, &d.cyclonedx))
        .collect::<Result<Vec<_>, _>>()
        .context("reading the CycloneDX SBOM just made")?;
    if !counts.is_empty() {
        let place = match (attached, dir) {
            (Some(out), Some(dir)) => format!(
                "attached to the layout {} and written to {}",
                out.display(),
                dir.display()
            ),
            (Some(out), None) => format!("attached to the layout {}", out.display()),
            (None, Some(dir)) => format!("written to {}", dir.display()),
            (None, None) => "made".to_owned(),
        };
        tracing::info!("{}", summary::line(&counts, &place));
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
    let (mut tmp, _owned) =
        crate::cleanup::temp_file(parent, ".sbom-").with_context(|| format!("writing {}", path.display()))?;
    std::io::Write::write_all(&mut tmp, bytes).with_context(|| format!("writing {}", path.display()))?;
    // Readable like the image's other files (a temporary file starts 0600).
    std::fs::set_permissions(tmp.path(), std::os::unix::fs::PermissionsExt::from_mode(0o644))
        .with_context(|| format!("writing {}", path.display()))?;
    tmp.persist(path)
        .with_context(|| format!("writing {}", path.display()))?;
    Ok(())
}
