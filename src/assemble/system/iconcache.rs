//! GTK's `gtk-update-icon-cache` (GTK 3.24, bookworm's): `icon-theme.cache` for the icon themes
//! maintainer scripts ask for — `update-icon-caches DIR…` (dh_icons' postinst snippet) and
//! `gtk-update-icon-cache [--force] [--quiet] DIR` (hicolor-icon-theme's postinst and trigger).
//!
//! The cache indexes every icon file of the theme without their pixels (index-only is the
//! default): for each icon name, the directories holding a `.png`, `.svg` or `.xpm` of it and
//! which of the three. It depends only on the finished tree, so it is computed once every package
//! is in place, as the last run of the command (a trigger, when one fires) sees it.
//!
//! The file's layout follows the tool's walk: directories in `strcmp` order, depth first, a
//! directory numbered when its first icon is met; each icon's image list in the reverse of the
//! order its directories finished; buckets (`g_spaced_primes_closest(icons / 3)` of them, by
//! GTK's `icon_name_hash`) chained in the reverse of the order a GLib hash table of the names
//! visits them ([`super::ghash`]), since the tool fills both lists by prepending. Checked byte
//! for byte against the tool on the host (tests) and against dpkg-installed images (FIDELITY.md).
//!
//! Not reproduced, and reported: `.icon` files (their key-file data goes into the cache),
//! `--include-image-data` (the pixels, as gdk-pixbuf decodes them), and the tool's other modes.

use std::collections::BTreeMap;

use super::ghash::StrTable;
use super::{Changes, InstalledPackage, NotEmulated, SystemError, TreeView};

const CACHE_NAME: &str = "icon-theme.cache";

const HAS_SUFFIX_XPM: u16 = 1 << 0;
const HAS_SUFFIX_SVG: u16 = 1 << 1;
const HAS_SUFFIX_PNG: u16 = 1 << 2;
const HAS_ICON_FILE: u16 = 1 << 3;

/// The cache's header: format 1.0, the hash table right after it.
const MAJOR_VERSION: u16 = 1;
const MINOR_VERSION: u16 = 0;
const HASH_OFFSET: u32 = 12;

/// How deep a theme's directories go before the walk gives up (a symbolic link to a parent
/// makes the tool recurse until it fails).
const MAX_DEPTH: usize = 32;

/// GLib's `g_primes`, for `g_spaced_primes_closest`.
const SPACED_PRIMES: [u32; 34] = [
    11, 19, 37, 73, 109, 163, 251, 367, 557, 823, 1237, 1861, 2777, 4177, 6247, 9371, 14057, 21089, 31627,
    47431, 71143, 106721, 160073, 240101, 360163, 540217, 810343, 1215497, 1823231, 2734867, 4102283,
    6153409, 9230113, 13845163,
];

/// One theme directory a script asks to index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CacheRequest {
    /// The theme directory, absolute.
    pub dir: String,
    /// `--ignore-theme-index`: index the directory even without `index.theme`.
    pub ignore_theme_index: bool,
}

/// What a call of `update-icon-caches` or `gtk-update-icon-cache` asks for: the requests, or why
/// the form is not reproduced. `None`: another command.
pub fn parse_call(argv0: &str, args: &[String]) -> Option<Result<Vec<CacheRequest>, String>> {
    let name = argv0.rsplit('/').next().unwrap_or(argv0);
    match name {
        // A shell script that runs `gtk-update-icon-cache --force --quiet DIR` for each
        // directory with an index.theme (and removes the cache of one without: none on a fresh
        // install).
        "update-icon-caches" => Some(if args.is_empty() || args.iter().any(|a| a.starts_with('-')) {
            Err("update-icon-caches without theme directories".into())
        } else {
            Ok(args
                .iter()
                .map(|d| CacheRequest {
                    dir: d.clone(),
                    ignore_theme_index: false,
                })
                .collect())
        }),
        "gtk-update-icon-cache" | "gtk-update-icon-cache-3.0" => Some(parse_tool_args(args)),
        _ => None,
    }
}

fn parse_tool_args(args: &[String]) -> Result<Vec<CacheRequest>, String> {
    let mut ignore_theme_index = false;
    let mut dirs = Vec::new();
    for a in args {
        match a.as_str() {
            // Whether the cache is up to date does not matter on a fresh install: it is made.
            "--force" | "-f" | "--quiet" | "-q" | "--index-only" | "-i" => {}
            "--ignore-theme-index" | "-t" => ignore_theme_index = true,
            o if o.starts_with('-') => {
                return Err(format!("gtk-update-icon-cache {o} is not reproduced"));
            }
            d => dirs.push(d.to_owned()),
        }
    }
    // The tool takes its first operand only.
    match dirs.first() {
        Some(dir) => Ok(vec![CacheRequest {
            dir: dir.clone(),
            ignore_theme_index,
        }]),
        None => Err("gtk-update-icon-cache without a theme directory".into()),
    }
}

/// The caches the packages' postinsts ask for, computed from the finished tree, and what was not
/// reproduced.
pub fn compute(
    tree: &dyn TreeView,
    packages: &[InstalledPackage],
) -> Result<(Changes, Vec<NotEmulated>), SystemError> {
    let (calls, mut report) = super::calls::postinst_calls(tree, packages, "icon-cache", parse_call);
    let mut requests: BTreeMap<String, (CacheRequest, String)> = BTreeMap::new();
    for (found, pkg) in calls {
        for r in found {
            let key = super::tree_path(&r.dir);
            requests.entry(key).or_insert((r, pkg.name.clone()));
        }
    }
    let mut out = Changes::default();
    for (dir, (request, package)) in requests {
        if !request.ignore_theme_index && !super::is_file(tree, &format!("{dir}/index.theme")) {
            // update-icon-caches skips it; the tool fails ("No theme index file").
            continue;
        }
        let Some(real) = super::resolve(tree, &dir).filter(|r| super::is_dir(tree, r)) else {
            continue;
        };
        match build(tree, &request.dir) {
            Ok(Some(bytes)) => out.file(&super::child_path(&real, CACHE_NAME), 0o644, bytes),
            // No icon at all: the tool writes nothing (and removes a cache there was).
            Ok(None) => {}
            Err(why) => report.push(NotEmulated {
                package,
                script: "postinst".into(),
                what: format!(
                    "gtk-update-icon-cache --force --quiet {} (not reproduced: {why}; run it at first start)",
                    request.dir
                ),
            }),
        }
    }
    Ok((out, report))
}

#[derive(Debug, Clone, Copy, Default)]
struct Image {
    flags: u16,
    dir_index: u16,
}

/// The cache of the theme at `dir` (absolute), as the tool writes it; `None` when the theme has
/// no icon (the tool writes no file).
pub fn build(tree: &dyn TreeView, dir: &str) -> Result<Option<Vec<u8>>, String> {
    let mut files: StrTable<Vec<Image>> = StrTable::new();
    let mut directories: Vec<String> = Vec::new();
    scan_directory(tree, dir, None, &mut files, &mut directories, 0)?;
    if files.is_empty() {
        return Ok(None);
    }
    // The tool validates what it wrote, and its validator takes printable ASCII strings only:
    // with another name it fails, leaving its temporary `.icon-theme.cache` behind.
    let printable = |s: &str| s.bytes().all(|b| (0x20..0x7f).contains(&b));
    if let Some(odd) = files
        .keys()
        .chain(directories.iter().map(String::as_str))
        .find(|s| !printable(s))
    {
        return Err(format!(
            "{dir}: `{odd}` is not printable ASCII, and the tool rejects the cache it writes for it"
        ));
    }
    Ok(Some(write_cache(&files, &directories)?))
}

/// `scan_directory`: the entries of `base/subdir` in `strcmp` order; a directory (after
/// symbolic links) is walked where it sorts; a regular file named `NAME.png`, `.svg`, `.xpm` or
/// `.icon` below the top is an image of icon NAME.
fn scan_directory(
    tree: &dyn TreeView,
    base: &str,
    subdir: Option<&str>,
    files: &mut StrTable<Vec<Image>>,
    directories: &mut Vec<String>,
    depth: usize,
) -> Result<(), String> {
    if depth > MAX_DEPTH {
        return Err(format!("{base}: directories nested deeper than {MAX_DEPTH}"));
    }
    let dir_path = match subdir {
        Some(s) => format!("{base}/{s}"),
        None => base.to_owned(),
    };
    let Some((_, mut names)) = super::children(tree, &super::tree_path(&dir_path)) else {
        return Ok(());
    };
    names.sort_unstable_by(|a, b| a.as_bytes().cmp(b.as_bytes()));
    let mut dir_hash: StrTable<Image> = StrTable::new();
    let mut dir_index: Option<u16> = None;
    for name in &names {
        let path = super::tree_path(&format!("{dir_path}/{name}"));
        if super::is_dir(tree, &path) {
            let sub = match subdir {
                Some(s) => format!("{s}/{name}"),
                None => name.clone(),
            };
            scan_directory(tree, base, Some(&sub), files, directories, depth + 1)?;
            continue;
        }
        // Images in the theme's own directory are ignored.
        let Some(subdir) = subdir else { continue };
        if !super::is_file(tree, &path) {
            continue;
        }
        let flags = if name.ends_with(".png") {
            HAS_SUFFIX_PNG
        } else if name.ends_with(".svg") {
            HAS_SUFFIX_SVG
        } else if name.ends_with(".xpm") {
            HAS_SUFFIX_XPM
        } else if name.ends_with(".icon") {
            HAS_ICON_FILE
        } else {
            continue;
        };
        if flags == HAS_ICON_FILE {
            return Err(format!(
                "{dir_path}/{name}: an .icon file's data (display names, attach points) goes into the cache"
            ));
        }
        let basename = name.rsplit_once('.').map_or(name.as_str(), |(b, _)| b);
        let index = match dir_index {
            Some(i) => i,
            None => {
                let i = u16::try_from(directories.len())
                    .map_err(|_| format!("{base}: more directories than the cache can number"))?;
                directories.push(subdir.to_owned());
                dir_index = Some(i);
                i
            }
        };
        let mut image = dir_hash.get(basename).copied().unwrap_or(Image {
            flags: 0,
            dir_index: index,
        });
        image.flags |= flags;
        dir_hash.insert(basename, image);
    }
    // The directory's images move into the big table, each prepended to its name's list.
    for (name, image) in dir_hash.iter() {
        let mut list = files.get(name).cloned().unwrap_or_default();
        list.insert(0, *image);
        files.insert(name, list);
    }
    Ok(())
}

/// GTK's `icon_name_hash`: `h = h * 31 + c` over the bytes read as `signed char`, starting from
/// the first one.
fn icon_name_hash(name: &str) -> u32 {
    let mut bytes = name.bytes().map(|b| b as i8 as i32 as u32);
    let Some(first) = bytes.next() else { return 0 };
    bytes.fold(first, |h, c| h.wrapping_shl(5).wrapping_sub(h).wrapping_add(c))
}

fn spaced_primes_closest(n: usize) -> u32 {
    SPACED_PRIMES
        .iter()
        .copied()
        .find(|p| *p as usize > n)
        .unwrap_or(SPACED_PRIMES[SPACED_PRIMES.len() - 1])
}

/// A string as the cache stores it: NUL-terminated, padded with NULs to four bytes.
fn padded_len(s: &str) -> usize {
    (s.len() + 1).div_ceil(4) * 4
}

fn push_string(out: &mut Vec<u8>, s: &str) {
    let len = padded_len(s);
    out.extend_from_slice(s.as_bytes());
    out.resize(out.len() + len - s.len(), 0);
}

fn offset(n: usize) -> Result<u32, String> {
    u32::try_from(n).map_err(|_| "the cache would be larger than 4 GiB".to_owned())
}

fn write_cache(files: &StrTable<Vec<Image>>, directories: &[String]) -> Result<Vec<u8>, String> {
    let n_buckets = spaced_primes_closest(files.len() / 3) as usize;
    // Each bucket's chain: the names in the reverse of the table's order (prepended).
    let mut buckets: Vec<Vec<(&str, &Vec<Image>)>> = vec![Vec::new(); n_buckets];
    for (name, images) in files.iter() {
        let b = icon_name_hash(name) as usize % n_buckets;
        buckets[b].insert(0, (name, images));
    }
    let mut out: Vec<u8> = Vec::new();
    let put16 = |out: &mut Vec<u8>, v: u16| out.extend_from_slice(&v.to_be_bytes());
    let put32 = |out: &mut Vec<u8>, v: u32| out.extend_from_slice(&v.to_be_bytes());
    put16(&mut out, MAJOR_VERSION);
    put16(&mut out, MINOR_VERSION);
    put32(&mut out, HASH_OFFSET);
    put32(&mut out, 0); // the directory list's offset, filled in below
    put32(&mut out, offset(n_buckets)?);
    let table_at = out.len();
    out.resize(table_at + 4 * n_buckets, 0);
    // Strings already written, by their offset (a directory named like an icon shares it).
    let mut pool: BTreeMap<&str, u32> = BTreeMap::new();
    for (b, chain) in buckets.iter().enumerate() {
        let head = if chain.is_empty() {
            u32::MAX
        } else {
            offset(out.len())?
        };
        out[table_at + 4 * b..table_at + 4 * b + 4].copy_from_slice(&head.to_be_bytes());
        for (i, (name, images)) in chain.iter().enumerate() {
            let node_at = out.len();
            let name_size = padded_len(name);
            let node_size = 12 + name_size + 4 + 8 * images.len();
            let next = if i + 1 < chain.len() {
                offset(node_at + node_size)?
            } else {
                u32::MAX
            };
            put32(&mut out, next);
            put32(&mut out, offset(node_at + 12)?);
            put32(&mut out, offset(node_at + 12 + name_size)?);
            pool.insert(name, offset(node_at + 12)?);
            push_string(&mut out, name);
            put32(&mut out, offset(images.len())?);
            for image in images.iter() {
                put16(&mut out, image.dir_index);
                put16(&mut out, image.flags);
                // No pixel data, no .icon data: no image data.
                put32(&mut out, 0);
            }
        }
    }
    let dir_list_at = offset(out.len())?;
    out[8..12].copy_from_slice(&dir_list_at.to_be_bytes());
    put32(&mut out, offset(directories.len())?);
    let mut next_string = out.len() + 4 * directories.len();
    let mut to_write = Vec::new();
    for d in directories {
        let at = match pool.get(d.as_str()) {
            Some(at) => *at,
            None => {
                let at = offset(next_string)?;
                next_string += padded_len(d);
                pool.insert(d, at);
                to_write.push(d);
                at
            }
        };
        put32(&mut out, at);
    }
    for d in to_write {
        push_string(&mut out, d);
    }
    Ok(out)
}

#[cfg(test)]
mod tests;
