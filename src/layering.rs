//! How a layered image's packages are grouped into layers, decided from the lockfile alone (names
//! and `.deb` sizes), so the plan never depends on timing or thread count and a rebuild can know
//! its layers before decoding anything.
//!
//! In the spirit of Nix's popularity layering and apko's budget: with a budget of `N` layers, the
//! last layer is reserved for what debcast generates (dpkg database, alternatives, accounts,
//! certificates, merged-/usr links, and any correction the package layers need). Then:
//!
//! - if every package fits, each gets its own layer;
//! - otherwise the largest packages (from 1 MiB of `.deb` up), then packages that many images
//!   share (a fixed list of Debian's base libraries and tools), get their own layers, up to
//!   `N - 1 - K`, so that the shared layers hold only small packages and are cheap to rebuild;
//! - the rest go into `K` shared layers by a hash of their *name*, so a new version of one package,
//!   or one package more or less, changes one shared layer and leaves the others alone.

use std::collections::{BTreeMap, BTreeSet};
use std::ops::Bound;

use crate::assemble::{Node, Tree, View};
use crate::entry::EntryKind;
use crate::hash::Sha256Digest;
use crate::lockfile::LockedPackage;

/// Default layer budget: well under the 127 layers some runtimes accept.
pub const DEFAULT_MAX_LAYERS: usize = 50;

/// Packages from a `.deb` of at least this size get their own layer when the budget allows.
const LARGE_DEB: u64 = 1 << 20;

/// Packages most Debian-based images share: given their own layers so that images built from
/// overlapping package sets share those layers' digests.
const POPULAR: &[&str] = &[
    "base-files",
    "base-passwd",
    "netbase",
    "tzdata",
    "ca-certificates",
    "libc6",
    "libc-bin",
    "libgcc-s1",
    "libstdc++6",
    "libssl3",
    "libssl1.1",
    "openssl",
    "zlib1g",
    "libzstd1",
    "liblzma5",
    "libbz2-1.0",
    "libcrypt1",
    "libselinux1",
    "libpcre2-8-0",
    "libacl1",
    "libattr1",
    "libcap2",
    "libgmp10",
    "libtinfo6",
    "libncursesw6",
    "libffi8",
    "libffi7",
    "libgnutls30",
    "libp11-kit0",
    "libtasn1-6",
    "libnettle8",
    "libhogweed6",
    "libidn2-0",
    "libunistring2",
    "libunistring5",
    "libsystemd0",
    "libudev1",
    "libdb5.3",
    "debconf",
    "dpkg",
    "coreutils",
    "bash",
    "dash",
    "perl-base",
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layering {
    /// One layer with everything (the image as a single filesystem tree).
    Flat,
    /// Package layers plus a last generated layer, at most `max_layers` in all.
    Budget { max_layers: usize },
}

#[derive(Debug, thiserror::Error)]
pub enum LayeringError {
    #[error("unknown layering `{0}` (expected `flat` or `budget`)")]
    Unknown(String),
    #[error(
        "a budget of {0} layer(s) is too small: budget layering needs at least 2 (packages and generated files); use layering = \"flat\" for one layer"
    )]
    TooFew(usize),
}

impl Layering {
    /// From the manifest's `[image] layering`/`layers` and the command line's overrides.
    pub fn from_settings(name: Option<&str>, layers: Option<usize>) -> Result<Self, LayeringError> {
        match name.unwrap_or("budget") {
            "flat" => Ok(Layering::Flat),
            "budget" => {
                let max_layers = layers.unwrap_or(DEFAULT_MAX_LAYERS);
                if max_layers < 2 {
                    return Err(LayeringError::TooFew(max_layers));
                }
                Ok(Layering::Budget { max_layers })
            }
            other => Err(LayeringError::Unknown(other.to_owned())),
        }
    }
}

/// One package layer: indices into the platform's locked packages, ascending (lock order, the
/// order the whole image merges them in).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PackageLayer {
    pub packages: Vec<usize>,
    /// For the image config's history.
    pub created_by: String,
}

/// Groups `packages` (one platform's, in lock order) into at most `max_layers - 1` package
/// layers; the caller adds the generated layer.
pub fn plan(packages: &[&LockedPackage], max_layers: usize) -> Vec<PackageLayer> {
    let slots = max_layers.saturating_sub(1).max(1);
    let own_layer = |i: usize| PackageLayer {
        packages: vec![i],
        created_by: format!("debcast: {}", packages[i].label()),
    };
    if packages.len() <= slots {
        return (0..packages.len()).map(own_layer).collect();
    }
    let shared = (slots / 4).clamp(1, 16);
    let own_cap = slots - shared;
    let popular = |i: usize| POPULAR.contains(&packages[i].name.as_str());
    let mut candidates: Vec<usize> = (0..packages.len())
        .filter(|&i| popular(i) || packages[i].size >= LARGE_DEB)
        .collect();
    // The largest first: a layer's cost to rebuild and to push grows with its size, so large
    // packages in shared layers would make every change to a small neighbour expensive. Then the
    // popular small ones, whose layers other images share. Ties by lock order.
    let large = |i: usize| packages[i].size >= LARGE_DEB;
    candidates.sort_by(|&a, &b| {
        large(b)
            .cmp(&large(a))
            .then_with(|| {
                if large(a) {
                    std::cmp::Ordering::Equal
                } else {
                    popular(b).cmp(&popular(a))
                }
            })
            .then(packages[b].size.cmp(&packages[a].size))
            .then(a.cmp(&b))
    });
    candidates.truncate(own_cap);
    candidates.sort_by(|&a, &b| popular(b).cmp(&popular(a)).then(a.cmp(&b)));
    let mut layers: Vec<PackageLayer> = candidates.iter().map(|&i| own_layer(i)).collect();
    let mut buckets: Vec<Vec<usize>> = vec![Vec::new(); shared];
    for i in 0..packages.len() {
        if !candidates.contains(&i) {
            buckets[bucket(&packages[i].name, shared)].push(i);
        }
    }
    for (b, members) in buckets.into_iter().enumerate() {
        if !members.is_empty() {
            layers.push(PackageLayer {
                created_by: format!("debcast: {} packages (shared layer {b})", members.len()),
                packages: members,
            });
        }
    }
    layers
}

/// A stable bucket for a package name: the same on every machine and in every image.
fn bucket(name: &str, buckets: usize) -> usize {
    let d = Sha256Digest::of(name.as_bytes());
    let b = d.0;
    let n = u64::from_be_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]]);
    (n % buckets as u64) as usize
}

/// The last layer of a layered image: what the image's final tree (`image`) holds that the
/// package layers (`layers`, applied in order with overlay semantics) do not give exactly, plus a
/// whiteout for every path they give that the image does not have (a file the configure step
/// removed, a directory it turned into a link). Returns the entries (with whole hard-link groups,
/// so links resolve inside the layer) and the whiteout paths (`dir/.wh.name`).
///
/// The package layers are pure functions of their own packages, so layers can be shared between
/// images and cached by `.deb` hashes; everything where the whole image differs from their sum
/// (directory metadata set by an earlier package, files taken over through `Replaces`, generated
/// files, merged-/usr links) is corrected here, so the unpacked image is the flat image.
pub fn generated_layer<'a>(
    image: &'a Tree,
    layers: &'a [Tree],
    source_date_epoch: u64,
) -> (View<'a>, Vec<String>) {
    let overlay = overlay(layers);
    // A hard link in a package layer shares its target's inode *in that layer*: if a later layer
    // replaced the target, the link still has the old content, whatever the node says.
    let link_intact = |path: &str| match overlay.get(path) {
        Some((layer, n)) => match &n.entry.kind {
            EntryKind::Hardlink { target } => overlay
                .get(target.as_str())
                .is_some_and(|(l, t)| l == layer && matches!(t.entry.kind, EntryKind::File { .. })),
            _ => true,
        },
        None => true,
    };
    let mut include: BTreeSet<&str> = BTreeSet::new();
    for (path, node) in image.iter() {
        match overlay.get(path.as_str()) {
            Some((_, o)) if same(o, node, source_date_epoch) && link_intact(path) => {}
            _ => {
                include.insert(path.as_str());
            }
        }
    }
    // Hard-link groups of the image: a tar link names a member of its own layer, so a group with
    // any member here comes here whole.
    let mut groups: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for (path, node) in image.iter() {
        if let EntryKind::Hardlink { target } = &node.entry.kind {
            groups.entry(target.as_str()).or_default().push(path.as_str());
        }
    }
    let mut extra = Vec::new();
    for (target, links) in &groups {
        if include.contains(target) || links.iter().any(|l| include.contains(l)) {
            extra.push(*target);
            extra.extend(links.iter().copied());
        }
    }
    include.extend(extra);

    let mut whiteouts = Vec::new();
    for (path, (_, o)) in &overlay {
        let here = image.get(path);
        let parent = path.rsplit_once('/').map(|(p, _)| p);
        let parent_stays = parent.is_none_or(|p| {
            image.get(p).is_some_and(|n| n.entry.is_dir())
                && overlay.get(p).is_some_and(|(_, n)| n.entry.is_dir())
        });
        let gone = here.is_none() && parent_stays;
        let retyped = here.is_some_and(|n| n.entry.is_dir() != o.entry.is_dir());
        if gone || retyped {
            whiteouts.push(match path.rsplit_once('/') {
                Some((dir, name)) => format!("{dir}/.wh.{name}"),
                None => format!(".wh.{path}"),
            });
        }
    }
    let view = include
        .into_iter()
        .filter_map(|p| image.get(p).map(|n| (p, n)))
        .collect();
    (view, whiteouts)
}

/// The filesystem the package layers give when applied in order: a later entry replaces an
/// earlier one, and a non-directory replacing a directory takes what was below it away.
/// Each path's node and the index of the layer it comes from.
fn overlay(layers: &[Tree]) -> BTreeMap<&str, (usize, &Node)> {
    let mut view: BTreeMap<&str, (usize, &Node)> = BTreeMap::new();
    for (index, tree) in layers.iter().enumerate() {
        for (path, node) in tree.iter() {
            if let Some((_, old)) = view.get(path.as_str())
                && old.entry.is_dir()
                && !node.entry.is_dir()
            {
                let prefix = format!("{path}/");
                let below: Vec<&str> = view
                    .range::<str, _>((Bound::Included(prefix.as_str()), Bound::Unbounded))
                    .take_while(|(p, _)| p.starts_with(&prefix))
                    .map(|(p, _)| *p)
                    .collect();
                for p in below {
                    view.remove(p);
                }
            }
            view.insert(path.as_str(), (index, node));
        }
    }
    view
}

/// Whether two nodes write the same tar entry (mtimes as clamped) with the same content.
fn same(a: &Node, b: &Node, source_date_epoch: u64) -> bool {
    let (x, y) = (&a.entry, &b.entry);
    x.kind == y.kind
        && x.mode == y.mode
        && x.uid == y.uid
        && x.gid == y.gid
        && x.uname == y.uname
        && x.gname == y.gname
        && x.mtime.min(source_date_epoch) == y.mtime.min(source_date_epoch)
        && x.xattrs == y.xattrs
        && a.digest == b.digest
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::platform::Platform;

    fn pkg(name: &str, size: u64) -> LockedPackage {
        LockedPackage {
            platform: "linux/amd64".parse::<Platform>().unwrap(),
            name: name.into(),
            version: "1".into(),
            architecture: "amd64".into(),
            archive: "debian".into(),
            path: format!("pool/{name}.deb"),
            size,
            sha256: Sha256Digest::of(name.as_bytes()),
        }
    }

    #[test]
    fn small_sets_get_a_layer_per_package() {
        let p: Vec<LockedPackage> = ["a", "b", "c"].iter().map(|n| pkg(n, 10)).collect();
        let refs: Vec<&LockedPackage> = p.iter().collect();
        let plan = plan(&refs, 50);
        assert_eq!(plan.len(), 3);
        assert_eq!(plan[1].packages, vec![1]);
    }

    #[test]
    fn large_sets_respect_the_budget_and_share_by_name() {
        let mut p: Vec<LockedPackage> = (0..200).map(|i| pkg(&format!("lib{i:03}"), 1000)).collect();
        p.push(pkg("libc6", 10));
        p.push(pkg("zz-big", 10 << 20));
        let refs: Vec<&LockedPackage> = p.iter().collect();
        let layers = plan(&refs, 10);
        assert!(layers.len() <= 9, "{}", layers.len());
        assert_eq!(layers[0].packages, vec![200], "popular first");
        assert!(layers.iter().any(|l| l.packages == vec![201]), "large own layer");
        let all: usize = layers.iter().map(|l| l.packages.len()).sum();
        assert_eq!(all, 202);
        // Changing one package's version keeps every other layer's membership.
        let mut q = p.clone();
        q[5].version = "2".into();
        let refs_q: Vec<&LockedPackage> = q.iter().collect();
        assert_eq!(plan(&refs_q, 10), layers);
    }

    #[test]
    fn parses_settings() {
        assert_eq!(
            Layering::from_settings(Some("flat"), None).unwrap(),
            Layering::Flat
        );
        assert_eq!(
            Layering::from_settings(None, Some(7)).unwrap(),
            Layering::Budget { max_layers: 7 }
        );
        assert!(Layering::from_settings(Some("nix"), None).is_err());
        assert!(Layering::from_settings(None, Some(1)).is_err());
    }
}
