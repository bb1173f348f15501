//! `debcast merge`: per-platform OCI layouts of one lock (built on separate machines with
//! `debcast build --platform P`) into one multi-platform layout whose `index.json` and blobs are
//! byte-identical to building every platform on one machine.
//!
//! A layout built for a subset of the manifest's platforms carries [`SHARD_FILE`] beside its
//! `index.json`: what it was built from (the debcast version, the lockfile's SHA-256, the
//! manifest's platform list and ref name, the settings that decide bytes) and which platforms it
//! holds. `merge` refuses shards whose descriptions differ, naming the difference, and shards
//! that hold the same platform twice. When the shards hold every platform, the result is the
//! one-machine layout (no shard file); otherwise it is a larger shard (merge again later).

use std::collections::{BTreeMap, BTreeSet};
use std::fs::{self, File};
use std::io::{self, BufReader};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::image::{ANNOTATION_REF_NAME, Descriptor, DescriptorExt, ImageIndex};
use super::layer::MEDIA_TYPE_LAYER_TAR;
use super::{LayerInfo, LayoutWriter, OciError};
use crate::hash::{HashingReader, Sha256Digest};
use crate::platform::Platform;

/// The file a shard layout carries beside `index.json`.
pub const SHARD_FILE: &str = "debcast-shard.json";

/// What a shard was built from; every field but `built` must agree between shards.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ShardInfo {
    /// The debcast version that built it.
    pub debcast: String,
    /// SHA-256 of the lockfile's bytes.
    pub lock: String,
    /// The manifest's ref name (`static:latest`).
    pub ref_name: String,
    /// The manifest's platforms, in its order (the order of the merged index).
    pub platforms: Vec<String>,
    /// What else decides the bytes: compression and level, SOURCE_DATE_EPOCH, layering.
    pub settings: BTreeMap<String, String>,
    /// The platforms this layout holds.
    pub built: Vec<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum MergeError {
    #[error("{0}")]
    Oci(#[from] OciError),
    #[error("{}: {source}", path.display())]
    Io { path: PathBuf, source: io::Error },
    #[error(
        "{}: not a shard layout (no {SHARD_FILE}): build it with `debcast build MANIFEST --platform P --output DIR`",
        .0.display()
    )]
    NotAShard(PathBuf),
    #[error("{}: {what}", path.display())]
    Bad { path: PathBuf, what: String },
    #[error("{} and {}: different {field}: {first} vs {second}; shards must come from the same lock, settings and debcast version", first_path.display(), second_path.display())]
    Differ {
        field: &'static str,
        first_path: PathBuf,
        second_path: PathBuf,
        first: String,
        second: String,
    },
    #[error("platform {platform} is in both {} and {}", first.display(), second.display())]
    Twice {
        platform: String,
        first: PathBuf,
        second: PathBuf,
    },
    #[error("blob {digest} of {}: expected {expected} bytes with that SHA-256, found {actual_size} bytes with SHA-256 {actual}", layout.display())]
    Damaged {
        layout: PathBuf,
        digest: String,
        expected: u64,
        actual: String,
        actual_size: u64,
    },
}

/// Writes `info` into a layout being built (its temporary directory).
pub fn write_shard_info(layout_dir: &Path, info: &ShardInfo) -> Result<(), OciError> {
    let path = layout_dir.join(SHARD_FILE);
    let bytes = super::to_canonical_json(info).map_err(|source| OciError::Json {
        what: "shard description",
        source,
    })?;
    fs::write(&path, bytes).map_err(OciError::io(&path))
}

/// What [`merge`] wrote.
#[derive(Debug, Clone)]
pub struct MergeSummary {
    pub platforms: Vec<String>,
    /// Whether every platform of the manifest is in the output (else it is a larger shard).
    pub complete: bool,
    pub blobs: usize,
}

struct Shard {
    dir: PathBuf,
    info: ShardInfo,
    index: ImageIndex,
}

fn read_shard(dir: &Path) -> Result<Shard, MergeError> {
    let info_path = dir.join(SHARD_FILE);
    let info_bytes = match fs::read(&info_path) {
        Ok(b) => b,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Err(MergeError::NotAShard(dir.to_owned())),
        Err(source) => {
            return Err(MergeError::Io {
                path: info_path,
                source,
            });
        }
    };
    let info: ShardInfo = serde_json::from_slice(&info_bytes).map_err(|e| MergeError::Bad {
        path: info_path.clone(),
        what: format!("not a debcast shard description: {e}"),
    })?;
    let index_path = dir.join("index.json");
    let index_bytes = fs::read(&index_path).map_err(|source| MergeError::Io {
        path: index_path.clone(),
        source,
    })?;
    let index: ImageIndex = serde_json::from_slice(&index_bytes).map_err(|e| MergeError::Bad {
        path: index_path,
        what: format!("not an OCI image index: {e}"),
    })?;
    Ok(Shard {
        dir: dir.to_owned(),
        info,
        index,
    })
}

/// The fields two shards must agree on, with their values.
fn identity(info: &ShardInfo) -> Vec<(&'static str, String)> {
    let mut out = vec![
        ("debcast version", info.debcast.clone()),
        ("lockfile (SHA-256)", info.lock.clone()),
        ("image name", info.ref_name.clone()),
        ("manifest platforms", info.platforms.join(", ")),
    ];
    let keys: BTreeSet<&String> = info.settings.keys().collect();
    for k in keys {
        out.push(("setting", format!("{k} = {}", info.settings[k])));
    }
    out
}

/// Merges the shard layouts `inputs` into `output` (written beside it and renamed into place).
pub fn merge(inputs: &[PathBuf], output: &Path) -> Result<MergeSummary, MergeError> {
    let shards: Vec<Shard> = inputs.iter().map(|d| read_shard(d)).collect::<Result<_, _>>()?;
    let Some(first) = shards.first() else {
        return Err(MergeError::Bad {
            path: output.to_owned(),
            what: "no layouts to merge".into(),
        });
    };
    for other in &shards[1..] {
        compare(first, other)?;
    }
    // Each platform's manifest descriptor, from the shard that holds it.
    let mut found: BTreeMap<String, (Descriptor, Vec<Descriptor>, &Shard)> = BTreeMap::new();
    for shard in &shards {
        for platform in &shard.info.built {
            let p: Platform = platform.parse().map_err(|e| MergeError::Bad {
                path: shard.dir.join(SHARD_FILE),
                what: format!("platform `{platform}`: {e}"),
            })?;
            let alias = super::platform_ref_name(&shard.info.ref_name, &p);
            let descriptor = shard
                .index
                .manifests()
                .iter()
                .find(|d| d.annotation(ANNOTATION_REF_NAME) == Some(alias.as_str()))
                .ok_or_else(|| MergeError::Bad {
                    path: shard.dir.join("index.json"),
                    what: format!("no manifest for {platform} (ref {alias})"),
                })?;
            let descriptor = descriptor.clone().without_annotation(ANNOTATION_REF_NAME);
            // The platform's artifacts (its SBOMs: refs `ALIAS-sbom-…`), kept in index order.
            let artifacts: Vec<Descriptor> = shard
                .index
                .manifests()
                .iter()
                .filter(|d| {
                    d.artifact_type().is_some()
                        && d.annotation(ANNOTATION_REF_NAME)
                            .is_some_and(|r| r.starts_with(&format!("{alias}-")))
                })
                .cloned()
                .collect();
            if let Some((_, _, earlier)) = found.get(platform) {
                return Err(MergeError::Twice {
                    platform: platform.clone(),
                    first: earlier.dir.clone(),
                    second: shard.dir.clone(),
                });
            }
            found.insert(platform.clone(), (descriptor, artifacts, shard));
        }
    }
    let order: Vec<&String> = first
        .info
        .platforms
        .iter()
        .filter(|p| found.contains_key(*p))
        .collect();
    if order.len() != found.len() {
        let extra: Vec<&String> = found
            .keys()
            .filter(|p| !first.info.platforms.contains(p))
            .collect();
        return Err(MergeError::Bad {
            path: first.dir.join(SHARD_FILE),
            what: format!(
                "platform(s) {} not among the manifest's",
                extra.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", ")
            ),
        });
    }

    let others = other_images(output, &first.info);
    if !others.is_empty() {
        tracing::warn!(
            "{} is an OCI layout that also holds {}; the merge replaces the whole layout with one holding only `{}` (copy images into one layout with `skopeo copy oci:A:REF oci:B:REF`)",
            output.display(),
            others.join(", "),
            first.info.ref_name
        );
    }
    let writer = LayoutWriter::create(output)?;
    let blob_dir = writer.temp_path().join("blobs/sha256");
    let mut copied: BTreeSet<String> = BTreeSet::new();
    let (mut descriptors, mut extra) = (Vec::new(), Vec::new());
    for platform in &order {
        let (descriptor, artifacts, shard) = &found[*platform];
        // Every blob the platform's manifest and its artifacts reach, verified while copied
        // (an artifact's `subject` is the platform's manifest, copied already).
        for root in std::iter::once(descriptor).chain(artifacts) {
            for (digest, size) in reachable(&shard.dir, root)? {
                if copied.insert(digest.hex()) {
                    copy_verified(&shard.dir, &blob_dir, &writer, &digest, size)?;
                }
            }
        }
        descriptors.push(descriptor.clone());
        extra.extend(artifacts.iter().cloned());
    }
    let complete = order.len() == first.info.platforms.len();
    if !complete {
        let mut info = first.info.clone();
        info.built = order.iter().map(|s| (*s).clone()).collect();
        write_shard_info(writer.temp_path(), &info)?;
    }
    writer.commit_images_with(&first.info.ref_name, &descriptors, extra)?;
    Ok(MergeSummary {
        platforms: order.into_iter().cloned().collect(),
        complete,
        blobs: copied.len(),
    })
}

/// The images of an existing layout at `output` that the merge would not write again: their ref
/// names (the image's own, its platforms' and their SBOMs' are written again), or their digests
/// where they have none. Nothing when `output` is not a layout.
fn other_images(output: &Path, info: &ShardInfo) -> Vec<String> {
    let Ok(text) = fs::read(output.join("index.json")) else {
        return Vec::new();
    };
    let Ok(index) = serde_json::from_slice::<ImageIndex>(&text) else {
        return vec!["an index.json that is not an OCI image index".to_owned()];
    };
    let aliases: Vec<String> = info
        .platforms
        .iter()
        .filter_map(|p| p.parse::<Platform>().ok())
        .map(|p| super::platform_ref_name(&info.ref_name, &p))
        .collect();
    let ours = |name: &str| {
        name == info.ref_name
            || aliases.iter().any(|a| {
                name == a
                    || name
                        .strip_prefix(a.as_str())
                        .is_some_and(|r| r.starts_with("-sbom-"))
            })
    };
    index
        .manifests()
        .iter()
        .filter_map(|d| match d.annotation(ANNOTATION_REF_NAME) {
            Some(n) if ours(n) => None,
            Some(n) => Some(format!("`{n}`")),
            None => Some(d.digest().to_string()),
        })
        .collect()
}

fn compare(first: &Shard, other: &Shard) -> Result<(), MergeError> {
    let (a, b) = (identity(&first.info), identity(&other.info));
    let differ = |field, x: String, y: String| MergeError::Differ {
        field,
        first_path: first.dir.clone(),
        second_path: other.dir.clone(),
        first: x,
        second: y,
    };
    for ((field, x), (_, y)) in a.iter().zip(b.iter()) {
        if x != y {
            return Err(differ(field, x.clone(), y.clone()));
        }
    }
    if a.len() != b.len() {
        let names = |i: &ShardInfo| i.settings.keys().cloned().collect::<Vec<_>>().join(", ");
        return Err(differ("settings", names(&first.info), names(&other.info)));
    }
    Ok(())
}

#[derive(Deserialize)]
struct Refs {
    #[serde(default)]
    config: Option<Descriptor>,
    #[serde(default)]
    layers: Vec<Descriptor>,
    #[serde(default)]
    manifests: Vec<Descriptor>,
}

/// The blobs `root` reaches (itself, its config and layers, and what nested indices list).
fn reachable(layout: &Path, root: &Descriptor) -> Result<Vec<(Sha256Digest, u64)>, MergeError> {
    let mut out = Vec::new();
    let mut todo = vec![root.clone()];
    while let Some(d) = todo.pop() {
        let (digest, size) = (d.sha256()?, d.size());
        out.push((digest, size));
        let media_type = d.media_type().to_string();
        let is_json = media_type.ends_with("manifest.v1+json") || media_type.ends_with("index.v1+json");
        if !is_json {
            continue;
        }
        let path = layout.join("blobs/sha256").join(digest.hex());
        let bytes = fs::read(&path).map_err(|source| MergeError::Io {
            path: path.clone(),
            source,
        })?;
        if Sha256Digest::of(&bytes) != digest || bytes.len() as u64 != size {
            return Err(MergeError::Damaged {
                layout: layout.to_owned(),
                digest: digest.oci(),
                expected: size,
                actual: Sha256Digest::of(&bytes).oci(),
                actual_size: bytes.len() as u64,
            });
        }
        let refs: Refs = serde_json::from_slice(&bytes).map_err(|e| MergeError::Bad {
            path,
            what: format!("not an OCI manifest or index: {e}"),
        })?;
        todo.extend(refs.config);
        todo.extend(refs.layers);
        todo.extend(refs.manifests);
    }
    Ok(out)
}

fn copy_verified(
    layout: &Path,
    _blob_dir: &Path,
    writer: &LayoutWriter,
    digest: &Sha256Digest,
    size: u64,
) -> Result<(), MergeError> {
    let path = layout.join("blobs/sha256").join(digest.hex());
    let file = File::open(&path).map_err(|source| MergeError::Io {
        path: path.clone(),
        source,
    })?;
    let mut reader = HashingReader::new(BufReader::with_capacity(1 << 20, file));
    io::copy(&mut reader, &mut io::sink()).map_err(|source| MergeError::Io {
        path: path.clone(),
        source,
    })?;
    let (actual, actual_size, _) = reader.finish();
    if actual != *digest || actual_size != size {
        return Err(MergeError::Damaged {
            layout: layout.to_owned(),
            digest: digest.oci(),
            expected: size,
            actual: actual.oci(),
            actual_size,
        });
    }
    // A blob of any kind: link_blob only uses the digest and size.
    let info = LayerInfo {
        digest: *digest,
        size,
        diff_id: *digest,
        media_type: MEDIA_TYPE_LAYER_TAR,
    };
    writer.link_blob(&path, &info)?;
    Ok(())
}
