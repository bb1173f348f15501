//! The one-line SBOM summary `lock` and `build` print: per platform, what the SBOMs list, and
//! where the documents go. Only numbers the caller knows: `lock` has the lock alone (packages and
//! artifacts), `build` the documents themselves (also source packages and licenses).

use std::collections::BTreeSet;

use crate::lockfile::Lockfile;
use crate::platform::Platform;

/// The formats `build` makes, as the summary names them.
pub const FORMATS: &str = "SPDX 2.3 and CycloneDX 1.6";

/// What one platform's SBOMs list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Counts {
    pub platform: Platform,
    pub packages: usize,
    pub artifacts: usize,
    /// Distinct source packages (`None`: not known, e.g. from a lock alone).
    pub sources: Option<usize>,
    /// Packages with a license from a machine-readable copyright file (the rest are
    /// `NOASSERTION`); `None`: not known without the `.deb`s.
    pub licensed: Option<usize>,
}

/// The counts a lock alone gives, per platform of the lock.
pub fn of_lock(lock: &Lockfile) -> Vec<Counts> {
    let platforms: BTreeSet<&Platform> = lock
        .packages
        .iter()
        .map(|p| &p.platform)
        .chain(lock.artifacts.iter().map(|a| &a.platform))
        .collect();
    platforms
        .into_iter()
        .map(|platform| Counts {
            platform: platform.clone(),
            packages: lock.packages_for(platform).count(),
            artifacts: lock.artifacts.iter().filter(|a| &a.platform == platform).count(),
            sources: None,
            licensed: None,
        })
        .collect()
}

/// The counts of a debcast CycloneDX document (its components: packages carry
/// `debcast:pool-path`, artifacts do not).
pub fn of_cyclonedx(platform: &Platform, bytes: &[u8]) -> Result<Counts, serde_json::Error> {
    let bom: serde_json::Value = serde_json::from_slice(bytes)?;
    let prop = |c: &serde_json::Value, name: &str| -> Option<String> {
        c["properties"]
            .as_array()?
            .iter()
            .find(|p| p["name"] == name)
            .and_then(|p| p["value"].as_str())
            .map(str::to_owned)
    };
    let components = bom["components"].as_array().cloned().unwrap_or_default();
    let (packages, artifacts): (Vec<_>, Vec<_>) = components
        .iter()
        .partition(|c| prop(c, "debcast:pool-path").is_some());
    let sources: BTreeSet<String> = packages
        .iter()
        .filter_map(|c| prop(c, "debcast:source-name"))
        .collect();
    Ok(Counts {
        platform: platform.clone(),
        packages: packages.len(),
        artifacts: artifacts.len(),
        sources: Some(sources.len()),
        licensed: Some(packages.iter().filter(|c| c.get("licenses").is_some()).count()),
    })
}

/// `SBOM: linux/amd64 4 packages (3 source packages; 2 licensed, 2 NOASSERTION), 1 artifact;
/// linux/arm64 …; SPDX 2.3 and CycloneDX 1.6 WHERE`.
pub fn line(counts: &[Counts], place: &str) -> String {
    let plural = |n: usize, one: &str| {
        if n == 1 {
            format!("{n} {one}")
        } else {
            format!("{n} {one}s")
        }
    };
    let platforms: Vec<String> = counts
        .iter()
        .map(|c| {
            let mut s = format!("{} {}", c.platform, plural(c.packages, "package"));
            let mut detail = Vec::new();
            if let Some(n) = c.sources {
                detail.push(plural(n, "source package"));
            }
            if let Some(n) = c.licensed {
                detail.push(format!(
                    "{n} licensed, {} NOASSERTION",
                    c.packages.saturating_sub(n)
                ));
            }
            if !detail.is_empty() {
                s.push_str(&format!(" ({})", detail.join("; ")));
            }
            if c.artifacts > 0 {
                s.push_str(&format!(", {}", plural(c.artifacts, "artifact")));
            }
            s
        })
        .collect();
    format!("SBOM: {}; {FORMATS} {place}", platforms.join("; "))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn platform(s: &str) -> Platform {
        s.parse().unwrap()
    }

    #[test]
    fn a_lock_line_says_only_what_the_lock_knows() {
        let counts = vec![
            Counts {
                platform: platform("linux/amd64"),
                packages: 4,
                artifacts: 1,
                sources: None,
                licensed: None,
            },
            Counts {
                platform: platform("linux/arm64"),
                packages: 1,
                artifacts: 0,
                sources: None,
                licensed: None,
            },
        ];
        assert_eq!(
            line(&counts, "made by `debcast build`"),
            "SBOM: linux/amd64 4 packages, 1 artifact; linux/arm64 1 package; SPDX 2.3 and CycloneDX 1.6 made by `debcast build`"
        );
    }

    #[test]
    fn a_document_gives_sources_and_licenses() {
        let bom = serde_json::json!({"components": [
            {"name": "a", "licenses": [{"expression": "MIT"}], "properties": [
                {"name": "debcast:pool-path", "value": "pool/a.deb"},
                {"name": "debcast:source-name", "value": "s"}]},
            {"name": "b", "properties": [
                {"name": "debcast:pool-path", "value": "pool/b.deb"},
                {"name": "debcast:source-name", "value": "s"}]},
            {"name": "go", "type": "file"}
        ]});
        let c = of_cyclonedx(&platform("linux/amd64"), bom.to_string().as_bytes()).unwrap();
        assert_eq!(
            (c.packages, c.artifacts, c.sources, c.licensed),
            (2, 1, Some(1), Some(1))
        );
        assert_eq!(
            line(&[c], "attached to the layout out"),
            "SBOM: linux/amd64 2 packages (1 source package; 1 licensed, 1 NOASSERTION), 1 artifact; SPDX 2.3 and CycloneDX 1.6 attached to the layout out"
        );
    }
}
