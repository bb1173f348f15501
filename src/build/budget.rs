//! Budget layering: the package layers, each a pure function of its packages, and the generated
//! layer over them.

use std::path::PathBuf;

use rayon::prelude::*;

use crate::assemble::{self, AssembleOptions, Assembled, Spools, Tree, Unpacked, View};
use crate::hash::Sha256Digest;
use crate::layering;
use crate::lockfile::{LockedPackage, Lockfile};
use crate::manifest::Manifest;
use crate::oci::{Compression, LayerInfo, LayerRecord};
use crate::platform::Platform;
use crate::store::{CachedLayer, Store};

use super::keys::{generated_layer_key, package_layer_key};
use super::layers::{
    GENERATED_CREATED_BY, LayerJob, Sink, cached, link_cached, report_from_json, report_to_json, write_layer,
    write_or_reuse,
};
use super::records::UnpackCache;
use super::{BuildError, BuildSettings, PlatformLayers, PlatformReport, verified_input};

/// Budget layering (see [`crate::layering`]): one layer per package group, each a pure function
/// of its packages, then the generated layer that makes the sum equal to the flat image.
#[allow(clippy::too_many_arguments)]
pub(super) fn budget_layers(
    manifest: &Manifest,
    lock: &Lockfile,
    store: &Store,
    platform: &Platform,
    settings: &BuildSettings,
    sink: Sink<'_>,
    compression: Compression,
    max_layers: usize,
    // Whether a rebuild whose layers are all cached may skip assembling the tree (the artifact
    // layers above need it unless theirs are cached too).
    fast_path: bool,
) -> Result<(PlatformLayers, Option<Assembled>), BuildError> {
    let sde = settings.source_date_epoch;
    let locked: Vec<&LockedPackage> = lock.packages_for(platform).collect();
    if locked.is_empty() {
        return Err(BuildError::EmptyPlatform(platform.clone()));
    }
    let groups = layering::plan(&locked, max_layers);
    let cache = match sink {
        Sink::Layout { cache, .. } => cache,
        Sink::Docker(_) => None,
    };
    let keys: Option<(Vec<Sha256Digest>, Sha256Digest)> = cache.map(|_| {
        let group_keys = groups
            .iter()
            .map(|g| package_layer_key(&locked, g, manifest.usrmerge(), compression, sde))
            .collect();
        let generated = generated_layer_key(manifest, platform, &locked, &groups, compression, sde);
        (group_keys, generated)
    });

    // The package layers the cache has (verified).
    let hits: Vec<Option<(CachedLayer, PathBuf)>> = match (cache, &keys) {
        (Some(cache), Some((group_keys, _))) => group_keys.par_iter().map(|k| cached(cache, k)).collect(),
        _ => groups.iter().map(|_| None).collect(),
    };

    // A rebuild whose every layer is cached decodes and compresses nothing.
    if let (Some(cache), Some((_, gen_key)), Sink::Layout { writer, .. }) = (cache, &keys, sink)
        && fast_path
        && hits.iter().all(Option::is_some)
        && let Some((gen_layer, gen_path)) = cached(cache, gen_key)
    {
        let mut records = Vec::with_capacity(groups.len() + 1);
        for (group, (layer, path)) in groups.iter().zip(hits.iter().flatten()) {
            records.push(LayerRecord {
                info: link_cached(writer, layer, path)?,
                created_by: group.created_by.clone(),
            });
        }
        records.push(LayerRecord {
            info: link_cached(writer, &gen_layer, &gen_path)?,
            created_by: GENERATED_CREATED_BY.to_owned(),
        });
        tracing::debug!("{platform}: every layer from the layer cache");
        let layers = PlatformLayers {
            compressed: 0,
            reused: records.len(),
            records,
            report: PlatformReport {
                platform: platform.clone(),
                not_emulated: report_from_json(&gen_layer.extra),
            },
            packages: locked.len(),
            decoded: 0,
        };
        return Ok((layers, None));
    }

    let started = std::time::Instant::now();
    let n = locked.len();
    let usrmerge = manifest.usrmerge();
    let options = AssembleOptions { usrmerge };
    let labels: Vec<String> = locked.iter().map(|p| p.label()).collect();

    // For the packages of cached layers, the unpack records, so that only the packages of the
    // other layers are decoded.
    let unpack_records = cache.map(|_| UnpackCache::new(store.root()));
    let mut group_of = vec![0; n];
    for (g, group) in groups.iter().enumerate() {
        for &i in &group.packages {
            group_of[i] = g;
        }
    }
    let mut parts: Vec<Option<Unpacked>> = (0..n)
        .into_par_iter()
        .map(|i| match (&unpack_records, &hits[group_of[i]]) {
            (Some(records), Some(_)) => records.load(i, locked[i], usrmerge),
            _ => None,
        })
        .collect();
    // Decoded: every package of a layer to write, biggest layer first and the biggest package
    // first within it (so its layer is ready to compress early), then packages without a record.
    let to_write: Vec<usize> = (0..groups.len()).filter(|&g| hits[g].is_none()).collect();
    let deb_bytes = |g: usize| groups[g].packages.iter().map(|&i| locked[i].size).sum::<u64>();
    let mut write_order = to_write.clone();
    write_order.sort_by_key(|&g| std::cmp::Reverse(deb_bytes(g)));
    let mut order: Vec<usize> = Vec::with_capacity(n);
    for &g in &write_order {
        let mut members = groups[g].packages.clone();
        members.sort_by_key(|&i| std::cmp::Reverse(locked[i].size));
        order.extend(members);
    }
    let mut rest: Vec<usize> = (0..n)
        .filter(|&i| parts[i].is_none() && hits[group_of[i]].is_some())
        .collect();
    rest.sort_by_key(|&i| std::cmp::Reverse(locked[i].size));
    order.extend(rest);
    tracing::debug!(
        "{platform}: {} of {} layers to write, {} of {n} packages to decode",
        to_write.len(),
        groups.len(),
        order.len()
    );

    let decode_one = {
        let store = store.clone();
        let owned: Vec<LockedPackage> = locked.iter().map(|p| (*p).clone()).collect();
        move |i: usize| -> Result<(Unpacked, std::fs::File), BuildError> {
            let p = &owned[i];
            let input = verified_input(&store, p)?;
            Ok(assemble::unpack(i, &input, options)?)
        }
    };
    let decode_one = std::sync::Arc::new(decode_one);
    let decoder: assemble::Decoder = {
        let decode_one = std::sync::Arc::clone(&decode_one);
        Box::new(move |i| decode_one(i).map(|(_, file)| file).map_err(Into::into))
    };
    let spools = std::sync::Arc::new(Spools::new(labels.clone(), Some(decoder)));
    let write_groups: Vec<Vec<usize>> = to_write.iter().map(|&g| groups[g].packages.clone()).collect();
    let done = crate::parallel::decode_then_write(
        n,
        &order,
        &write_groups,
        |i| {
            let (unpacked, file) = decode_one(i)?;
            // A package decoded only for its record (its layer is cached) keeps no spool.
            if hits[group_of[i]].is_none() {
                spools.set(i, file);
            }
            if let Some(records) = &unpack_records {
                records.save(locked[i], usrmerge, &unpacked);
            }
            Ok::<_, BuildError>(unpacked)
        },
        |w, decoded| {
            let g = to_write[w];
            let members: Vec<&Unpacked> = groups[g].packages.iter().filter_map(|&i| decoded(i)).collect();
            let tree = assemble::group_tree(&members, &labels, sde)?;
            let view: View<'_> = tree.iter().map(|(p, n)| (p.as_str(), n)).collect();
            let job = LayerJob {
                key: keys.as_ref().map(|(k, _)| k[g]),
                view,
                whiteouts: Vec::new(),
                extra: serde_json::Value::Null,
                debs: groups[g].packages.iter().map(|&i| locked[i].sha256).collect(),
            };
            let info = write_layer(&spools, &job, sink, cache, compression, sde)?;
            drop(job);
            for &i in &groups[g].packages {
                spools.release(i);
            }
            Ok((info, tree))
        },
    )?;
    tracing::debug!(
        "{platform}: decoded and package layers written at {:.2?}",
        started.elapsed()
    );
    for (i, d) in done.decoded.into_iter().enumerate() {
        if let Some(d) = d {
            parts[i] = Some(d);
        }
    }
    let parts: Vec<Unpacked> = parts
        .into_iter()
        .enumerate()
        .map(|(i, p)| p.ok_or_else(|| BuildError::Internal(format!("{} was not unpacked", labels[i]))))
        .collect::<Result<_, _>>()?;
    let mut written: Vec<Option<LayerInfo>> = groups.iter().map(|_| None).collect();
    let mut trees: Vec<Option<Tree>> = groups.iter().map(|_| None).collect();
    for (w, result) in done.written.into_iter().enumerate() {
        if let Some((info, tree)) = result {
            written[to_write[w]] = Some(info);
            trees[to_write[w]] = Some(tree);
        }
    }
    // The trees of the cached layers too, for the generated layer's comparison.
    let trees: Vec<Tree> = trees
        .into_par_iter()
        .enumerate()
        .map(|(g, tree)| match tree {
            Some(tree) => Ok(tree),
            None => {
                let members: Vec<&Unpacked> = groups[g].packages.iter().map(|&i| &parts[i]).collect();
                assemble::group_tree(&members, &labels, sde)
            }
        })
        .collect::<Result<_, _>>()?;
    let mut assembled = assemble::merge(parts, options, spools)?;
    tracing::debug!("{platform}: merged at {:.2?}", started.elapsed());
    let not_emulated = assembled.configure(&manifest.system, platform.debian_arch(), sde)?;
    tracing::debug!("{platform}: configured at {:.2?}", started.elapsed());
    let (gen_view, whiteouts) = layering::generated_layer(&assembled.tree, &trees, sde);
    let gen_job = LayerJob {
        key: keys.as_ref().map(|(_, k)| *k),
        view: gen_view,
        whiteouts,
        extra: report_to_json(&not_emulated),
        debs: locked.iter().map(|p| p.sha256).collect(),
    };
    let (gen_info, gen_reused) = write_or_reuse(&assembled, &gen_job, sink, cache, compression, sde)?;
    tracing::debug!("{platform}: generated layer written at {:.2?}", started.elapsed());

    let mut records = Vec::with_capacity(groups.len() + 1);
    let (mut compressed, mut reused) = (0, 0);
    for (g, group) in groups.iter().enumerate() {
        let info = match (&written[g], &hits[g], sink) {
            (Some(info), _, _) => {
                compressed += 1;
                info.clone()
            }
            (None, Some((layer, path)), Sink::Layout { writer, .. }) => {
                reused += 1;
                link_cached(writer, layer, path)?
            }
            _ => {
                return Err(BuildError::Internal(format!(
                    "{}: neither written nor cached",
                    group.created_by
                )));
            }
        };
        records.push(LayerRecord {
            info,
            created_by: group.created_by.clone(),
        });
    }
    if gen_reused {
        reused += 1;
    } else {
        compressed += 1;
    }
    records.push(LayerRecord {
        info: gen_info,
        created_by: GENERATED_CREATED_BY.to_owned(),
    });
    let layers = PlatformLayers {
        records,
        report: PlatformReport {
            platform: platform.clone(),
            not_emulated,
        },
        packages: assembled.packages.len(),
        decoded: {
            let mut all: std::collections::BTreeSet<usize> = order.iter().copied().collect();
            all.extend(assembled.spools().decoded_on_demand());
            all.len()
        },
        compressed,
        reused,
    };
    Ok((layers, Some(assembled)))
}
