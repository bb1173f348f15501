//! `debcast diff OLD NEW`: per platform, the packages added, removed and changed between two
//! locks (or two layouts built by debcast, read from their CycloneDX SBOMs), each changed
//! package with the Debian changelog entries between its versions (from the new `.deb`) and the
//! CVEs they mention; for layouts also the layers that are new and what a push would send.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde::Serialize;

use super::changelog::{self, Entry};
use crate::hash::Sha256Digest;
use crate::lockfile::{LockedPackage, Lockfile};
use crate::platform::Platform;
use crate::sbom::facts::{self, PackageFacts, Wanted};
use crate::store::Store;

#[derive(Debug, thiserror::Error)]
pub enum DiffError {
    #[error("{path}: {message}")]
    Layout { path: PathBuf, message: String },
    #[error("{0}")]
    Facts(#[from] facts::FactsError),
}

/// One side of a diff: the packages, and for a layout its images' layers.
#[derive(Debug, Clone, Default)]
pub struct Side {
    pub packages: Vec<LockedPackage>,
    /// Per platform: the image's manifest and config sizes and its layers (digest, size).
    pub images: Option<BTreeMap<Platform, ImageBlobs>>,
}

#[derive(Debug, Clone, Default)]
pub struct ImageBlobs {
    pub manifest_size: u64,
    pub config_size: u64,
    pub layers: Vec<(Sha256Digest, u64)>,
}

impl Side {
    pub fn from_lock(lock: &Lockfile) -> Self {
        Side {
            packages: lock.packages.clone(),
            images: None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Package {
    pub name: String,
    pub version: String,
    pub architecture: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Changed {
    pub name: String,
    pub architecture: String,
    pub from: String,
    pub to: String,
    pub changelog: Vec<Entry>,
    pub cves: Vec<String>,
    /// False when the new `.deb` was not available to read its changelog from (`--offline`).
    pub changelog_available: bool,
    #[serde(skip)]
    pub new: Option<LockedPackage>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Layers {
    /// Layers of the new image that the old layout does not have (digest, size).
    pub new: Vec<LayerRef>,
    /// Bytes a push of the new image sends to a registry holding the old one: its new layers,
    /// its config and its manifest.
    pub push_bytes: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct LayerRef {
    pub digest: String,
    pub size: u64,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct PlatformDiff {
    pub added: Vec<Package>,
    pub removed: Vec<Package>,
    pub changed: Vec<Changed>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub layers: Option<Layers>,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Diff {
    pub platforms: BTreeMap<String, PlatformDiff>,
}

impl Diff {
    pub fn counts(&self) -> (usize, usize, usize) {
        self.platforms.values().fold((0, 0, 0), |(a, r, c), p| {
            (a + p.added.len(), r + p.removed.len(), c + p.changed.len())
        })
    }

    /// How many changed packages (over all platforms) have no changelog read.
    pub fn without_changelogs(&self) -> usize {
        self.platforms
            .values()
            .flat_map(|p| &p.changed)
            .filter(|c| !c.changelog_available)
            .count()
    }

    /// The new `.deb` files whose changelogs the diff reads.
    pub fn needed(&self) -> Vec<LockedPackage> {
        let mut out: Vec<LockedPackage> = self
            .platforms
            .values()
            .flat_map(|p| p.changed.iter().filter_map(|c| c.new.clone()))
            .collect();
        out.sort();
        out.dedup_by(|a, b| a.sha256 == b.sha256);
        out
    }
}

fn pkg(p: &LockedPackage) -> Package {
    Package {
        name: p.name.clone(),
        version: p.version.clone(),
        architecture: p.architecture.clone(),
    }
}

/// Compares two sides, without changelogs (see [`read_changelogs`]).
pub fn compare(old: &Side, new: &Side) -> Diff {
    let by_platform = |side: &Side| {
        let mut m: BTreeMap<Platform, BTreeMap<(String, String), LockedPackage>> = BTreeMap::new();
        for p in &side.packages {
            m.entry(p.platform.clone())
                .or_default()
                .insert((p.name.clone(), p.architecture.clone()), p.clone());
        }
        m
    };
    let (o, n) = (by_platform(old), by_platform(new));
    let platforms: BTreeSet<&Platform> = o.keys().chain(n.keys()).collect();
    let empty = BTreeMap::new();
    let mut diff = Diff::default();
    for platform in platforms {
        let (op, np) = (
            o.get(platform).unwrap_or(&empty),
            n.get(platform).unwrap_or(&empty),
        );
        let mut d = PlatformDiff::default();
        for (key, p) in np {
            match op.get(key) {
                None => d.added.push(pkg(p)),
                Some(q) if q.version != p.version || q.sha256 != p.sha256 => d.changed.push(Changed {
                    name: p.name.clone(),
                    architecture: p.architecture.clone(),
                    from: q.version.clone(),
                    to: p.version.clone(),
                    changelog: Vec::new(),
                    cves: Vec::new(),
                    changelog_available: false,
                    new: Some(p.clone()),
                }),
                Some(_) => {}
            }
        }
        for (key, p) in op {
            if !np.contains_key(key) {
                d.removed.push(pkg(p));
            }
        }
        if let (Some(oi), Some(ni)) = (&old.images, &new.images)
            && let Some(image) = ni.get(platform)
        {
            let have: BTreeSet<Sha256Digest> =
                oi.values().flat_map(|i| i.layers.iter().map(|l| l.0)).collect();
            let fresh: Vec<LayerRef> = image
                .layers
                .iter()
                .filter(|l| !have.contains(&l.0))
                .map(|l| LayerRef {
                    digest: l.0.oci(),
                    size: l.1,
                })
                .collect();
            let push_bytes =
                fresh.iter().map(|l| l.size).sum::<u64>() + image.config_size + image.manifest_size;
            d.layers = Some(Layers {
                new: fresh,
                push_bytes,
            });
        }
        diff.platforms.insert(platform.to_string(), d);
    }
    diff
}

/// Fills in each changed package's changelog entries and CVEs from its new `.deb` in `store`
/// (those `available` says are there). A package whose documentation directory links to another
/// package's reads that package's changelog (from the new side of the same platform).
pub fn read_changelogs(
    diff: &mut Diff,
    new: &Side,
    store: &Store,
    available: &dyn Fn(&LockedPackage) -> bool,
) -> Result<(), DiffError> {
    let wanted = Wanted {
        copyright: false,
        changelog: true,
    };
    let mut cache: BTreeMap<Sha256Digest, PackageFacts> = BTreeMap::new();
    let mut read = |p: &LockedPackage| -> Result<Option<PackageFacts>, DiffError> {
        if !available(p) {
            return Ok(None);
        }
        if let Some(f) = cache.get(&p.sha256) {
            return Ok(Some(f.clone()));
        }
        let f = facts::read(store, p, wanted)?;
        cache.insert(p.sha256, f.clone());
        Ok(Some(f))
    };
    for d in diff.platforms.values_mut() {
        for c in &mut d.changed {
            let Some(p) = c.new.clone() else { continue };
            let Some(mut f) = read(&p)? else { continue };
            if f.changelogs.is_empty()
                && let Some(link) = f.doc_link.clone()
                && let Some(other) = new
                    .packages
                    .iter()
                    .find(|q| q.platform == p.platform && q.name == link)
                && let Some(g) = read(other)?
            {
                f.changelogs = g.changelogs;
            }
            c.changelog_available = true;
            let entries: Vec<Entry> = f.changelogs.iter().flat_map(|t| changelog::parse(t)).collect();
            // The changelog speaks of source versions: where the binary's version is not its
            // source's (gcc 4:12.2.0-3 from gcc-defaults 1.203), bound by the source version.
            let (_, to_source) = f.source(&p.name, &p.version);
            let upper = if entries.iter().any(|e| e.version == c.to) {
                c.to.clone()
            } else {
                to_source
            };
            let picked = changelog::between(&entries, &c.from, &upper);
            let text: String = picked
                .iter()
                .map(|e| e.changes.as_str())
                .collect::<Vec<_>>()
                .join("\n");
            c.cves = changelog::cves(&text).into_iter().collect();
            c.changelog = picked;
        }
    }
    Ok(())
}

/// Whether `p`'s `.deb` is in `store`, verified (by size and SHA-256).
pub fn deb_in_store(store: &Store, p: &LockedPackage) -> bool {
    store.contains(
        crate::store::Kind::Deb,
        &crate::fetch::Expected {
            size: p.size,
            sha256: p.sha256,
        },
    )
}

/// The diff of two locks with the changelogs of the changed packages whose new `.deb` is
/// already in `store`; nothing is downloaded (what `lock` prints after an update). The others
/// have `changelog_available` false ([`Diff::without_changelogs`]).
pub fn of_locks_from_store(old: &Lockfile, new: &Lockfile, store: &Store) -> Result<Diff, DiffError> {
    let new = Side::from_lock(new);
    let mut d = compare(&Side::from_lock(old), &new);
    read_changelogs(&mut d, &new, store, &|p| deb_in_store(store, p))?;
    Ok(d)
}

/// Reads a layout written by `debcast build`: its packages from the CycloneDX SBOM of each
/// platform, its images' layers from their manifests.
pub fn read_layout(dir: &Path) -> Result<Side, DiffError> {
    let err = |path: &Path, message: String| DiffError::Layout {
        path: path.to_owned(),
        message,
    };
    let read_json = |path: &Path| -> Result<serde_json::Value, DiffError> {
        let bytes = std::fs::read(path).map_err(|e| err(path, format!("cannot read: {e}")))?;
        serde_json::from_slice(&bytes).map_err(|e| err(path, format!("invalid JSON: {e}")))
    };
    let blob = |digest: &str| -> PathBuf {
        dir.join("blobs")
            .join("sha256")
            .join(digest.strip_prefix("sha256:").unwrap_or(digest))
    };
    let index_path = dir.join("index.json");
    let index = read_json(&index_path)?;
    let manifests = index["manifests"].as_array().cloned().unwrap_or_default();
    let mut side = Side {
        packages: Vec::new(),
        images: Some(BTreeMap::new()),
    };
    let mut sboms = 0;
    for d in &manifests {
        let digest = d["digest"].as_str().unwrap_or_default();
        if d["artifactType"].as_str() == Some(crate::sbom::MEDIA_TYPE_CYCLONEDX) {
            let m = read_json(&blob(digest))?;
            let layer = m["layers"][0]["digest"].as_str().unwrap_or_default();
            let bom = read_json(&blob(layer))?;
            side.packages
                .extend(packages_of_bom(&bom).map_err(|m| err(&blob(layer), m))?);
            sboms += 1;
        } else if let Some(p) = d.get("platform").filter(|p| p.is_object()) {
            let platform = Platform {
                os: p["os"].as_str().unwrap_or_default().to_owned(),
                architecture: p["architecture"].as_str().unwrap_or_default().to_owned(),
                variant: p["variant"].as_str().map(str::to_owned),
            };
            let m = read_json(&blob(digest))?;
            let layers = m["layers"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|l| {
                    let hex = l["digest"].as_str()?.strip_prefix("sha256:")?;
                    Some((hex.parse().ok()?, l["size"].as_u64()?))
                })
                .collect();
            let image = ImageBlobs {
                manifest_size: d["size"].as_u64().unwrap_or(0),
                config_size: m["config"]["size"].as_u64().unwrap_or(0),
                layers,
            };
            if let Some(images) = side.images.as_mut() {
                images.insert(platform, image);
            }
        }
    }
    if sboms == 0 {
        return Err(err(
            &index_path,
            "lists no CycloneDX SBOM: was it built by debcast without --no-sbom?".into(),
        ));
    }
    Ok(side)
}

/// The locked packages a debcast CycloneDX SBOM lists (its `debcast:` properties).
fn packages_of_bom(bom: &serde_json::Value) -> Result<Vec<LockedPackage>, String> {
    let platform: Platform = bom["metadata"]["component"]["properties"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|p| p["name"] == "debcast:platform")
        .and_then(|p| p["value"].as_str())
        .ok_or("the SBOM names no debcast:platform")?
        .parse()
        .map_err(|e| format!("the SBOM's platform: {e}"))?;
    let mut out = Vec::new();
    for c in bom["components"].as_array().into_iter().flatten() {
        let prop = |name: &str| {
            c["properties"]
                .as_array()
                .into_iter()
                .flatten()
                .find(|p| p["name"] == name)
                .and_then(|p| p["value"].as_str())
                .map(str::to_owned)
        };
        let (Some(architecture), Some(archive), Some(path)) = (
            prop("debcast:architecture"),
            prop("debcast:archive"),
            prop("debcast:pool-path"),
        ) else {
            continue; // an artifact
        };
        let sha = c["hashes"][0]["content"].as_str().unwrap_or_default();
        out.push(LockedPackage {
            platform: platform.clone(),
            name: c["name"].as_str().unwrap_or_default().to_owned(),
            version: c["version"].as_str().unwrap_or_default().to_owned(),
            architecture,
            archive,
            path,
            size: prop("debcast:size").and_then(|s| s.parse().ok()).unwrap_or(0),
            sha256: sha
                .parse()
                .map_err(|e| format!("component {}: sha256 {sha}: {e}", c["name"]))?,
        });
    }
    Ok(out)
}

/// Plain text, as `lock` prints it: `+ name version`, `- …`, `~ name old -> new` with the
/// changelog entries' headings and CVEs.
pub fn render_text(diff: &Diff) -> String {
    let mut s = String::new();
    for (platform, d) in &diff.platforms {
        if d.added.is_empty() && d.removed.is_empty() && d.changed.is_empty() && d.layers.is_none() {
            continue;
        }
        s.push_str(&format!("{platform}:\n"));
        for p in &d.added {
            s.push_str(&format!("  + {} {} ({})\n", p.name, p.version, p.architecture));
        }
        for p in &d.removed {
            s.push_str(&format!("  - {} {} ({})\n", p.name, p.version, p.architecture));
        }
        for c in &d.changed {
            s.push_str(&format!(
                "  ~ {} {} -> {} ({})\n",
                c.name, c.from, c.to, c.architecture
            ));
            if !c.cves.is_empty() {
                s.push_str(&format!("      CVEs: {}\n", c.cves.join(", ")));
            }
            for e in &c.changelog {
                s.push_str(&format!(
                    "      {} ({}) {}\n",
                    e.package, e.version, e.distributions
                ));
                for line in e.changes.lines() {
                    s.push_str(&format!("        {line}\n"));
                }
            }
            if !c.changelog_available {
                s.push_str("      (changelog not read: the new .deb is not in the store)\n");
            }
        }
        if let Some(l) = &d.layers {
            s.push_str(&format!(
                "  layers: {} new ({} bytes); a push sends {} bytes\n",
                l.new.len(),
                l.new.iter().map(|l| l.size).sum::<u64>(),
                l.push_bytes
            ));
        }
    }
    let (a, r, c) = diff.counts();
    s.push_str(&format!("{a} added, {r} removed, {c} changed\n"));
    crate::text::sanitize(&s)
}

/// Markdown, for a pull request body.
pub fn render_markdown(diff: &Diff) -> String {
    let md = |s: &str| s.replace('|', "\\|").replace('<', "&lt;").replace('>', "&gt;");
    let mut s = String::new();
    let (a, r, c) = diff.counts();
    s.push_str(&format!("**{a} added, {r} removed, {c} changed**\n"));
    for (platform, d) in &diff.platforms {
        s.push_str(&format!("\n### {platform}\n\n"));
        if d.added.is_empty() && d.removed.is_empty() && d.changed.is_empty() {
            s.push_str("No package changes.\n");
        } else {
            s.push_str("| | package | old | new | CVEs |\n|---|---|---|---|---|\n");
            for p in &d.added {
                s.push_str(&format!("| + | `{}` | | `{}` | |\n", md(&p.name), md(&p.version)));
            }
            for p in &d.removed {
                s.push_str(&format!("| − | `{}` | `{}` | | |\n", md(&p.name), md(&p.version)));
            }
            for c in &d.changed {
                s.push_str(&format!(
                    "| ~ | `{}` | `{}` | `{}` | {} |\n",
                    md(&c.name),
                    md(&c.from),
                    md(&c.to),
                    c.cves.join(", ")
                ));
            }
        }
        for c in d.changed.iter().filter(|c| !c.changelog.is_empty()) {
            s.push_str(&format!(
                "\n<details><summary><code>{}</code> {} → {}</summary>\n\n```\n",
                md(&c.name),
                md(&c.from),
                md(&c.to)
            ));
            for e in &c.changelog {
                s.push_str(&format!("{} ({}) {}\n\n", e.package, e.version, e.distributions));
                for line in e.changes.replace("```", "'''").lines() {
                    s.push_str(&format!("  {line}\n"));
                }
                s.push_str(&format!("\n -- {}  {}\n\n", e.author, e.date));
            }
            s.push_str("```\n\n</details>\n");
        }
        if let Some(l) = &d.layers {
            s.push_str(&format!(
                "\n{} new layer(s); a push sends {} bytes.\n",
                l.new.len(),
                l.push_bytes
            ));
        }
    }
    crate::text::sanitize(&s)
}

/// JSON, keys sorted: `{"platforms": {"linux/amd64": {"added": [...], "removed": [...],
/// "changed": [{"name", "from", "to", "changelog", "cves", ...}]}}}`.
pub fn render_json(diff: &Diff) -> Result<String, serde_json::Error> {
    let value = serde_json::to_value(diff)?;
    let bytes = crate::oci::to_canonical_json(&value)?;
    let v: serde_json::Value = serde_json::from_slice(&bytes)?;
    Ok(serde_json::to_string_pretty(&v)? + "\n")
}
