//! `gio-querymodules DIR…`: GIO's `giomodule.cache`, which lets GIO pick a module for an
//! extension point without loading every module. libglib2.0-0's postinst runs it on the module
//! directory, and its trigger on that directory again whenever a package ships a module there.
//!
//! The file depends only on the directory of the finished tree, so it is computed once every
//! package is in place, as the trigger's last run leaves it: for each `lib*.so` of the
//! directory in byte order (GLib sorts the names since 2.54), `NAME: POINT,POINT…` with the
//! extension points the module declares ([`super::Record::GioModule`]). Without any line the
//! tool removes the file.

use std::collections::BTreeMap;

use super::super::{Changes, InstalledPackage, NotEmulated, SystemError, TreeView};
use super::Record;

const TOOL: &str = "gio-querymodules";
const OUTPUT_NAME: &str = "giomodule.cache";

/// A call of `gio-querymodules` (`None`: another command): the tool as called and the
/// directories, or why the form is not reproduced.
pub fn parse_call(argv0: &str, args: &[String]) -> Option<Result<(String, Vec<String>), String>> {
    if argv0.rsplit('/').next() != Some(TOOL) {
        return None;
    }
    Some(if !argv0.starts_with('/') {
        Err(format!(
            "{TOOL} is not on the PATH of a Debian system: called by name"
        ))
    } else if let Some(bad) = args.iter().find(|a| !a.starts_with('/')) {
        Err(format!("{bad} is not an absolute directory"))
    } else {
        // No directory: its usage, status 1, nothing written.
        Ok((argv0.to_owned(), args.to_vec()))
    })
}

/// The caches the packages' postinsts ask for, computed from the finished tree, and what was
/// not reproduced.
pub fn compute(
    tree: &dyn TreeView,
    packages: &[InstalledPackage],
) -> Result<(Changes, Vec<NotEmulated>), SystemError> {
    let (calls, mut report) = super::super::calls::postinst_calls(tree, packages, TOOL, parse_call);
    // By directory: the package asking first. A tool that is not in the image writes nothing.
    let mut dirs: BTreeMap<String, String> = BTreeMap::new();
    for ((tool, asked), pkg) in calls {
        if !super::loadable(tree, &super::super::tree_path(&tool)) {
            continue;
        }
        for dir in asked {
            dirs.entry(dir).or_insert_with(|| pkg.name.clone());
        }
    }
    let mut out = Changes::default();
    for (dir, package) in dirs {
        let Some((real, names)) = super::super::children(tree, &super::super::tree_path(&dir)) else {
            // The tool says it cannot open the directory and writes nothing.
            continue;
        };
        let cache_path = super::super::child_path(&real, OUTPUT_NAME);
        match cache(tree, packages, &real, &names) {
            Ok(text) if text.is_empty() => {
                if tree.entry(&cache_path).is_some() {
                    out.removed.push(cache_path);
                }
            }
            Ok(text) => out.file(&cache_path, 0o644, text.into_bytes()),
            Err(why) => report.push(super::not_reproduced(package, &format!("{TOOL} {dir}"), &why)),
        }
    }
    Ok((out, report))
}

/// The cache's text for the directory at tree path `real` holding `names` (byte order).
fn cache(
    tree: &dyn TreeView,
    packages: &[InstalledPackage],
    real: &str,
    names: &[String],
) -> Result<String, String> {
    let mut text = String::new();
    for name in names {
        if !(name.starts_with("lib") && name.ends_with(".so")) {
            continue;
        }
        let rel = super::super::child_path(real, name);
        if !super::loadable(tree, &rel) {
            continue;
        }
        let points = super::declared(tree, packages, &rel, TOOL, |r, m| match r {
            Record::GioModule { module, points } if module == m => Some(points),
            _ => None,
        })?;
        if points != "-" {
            text.push_str(&format!("{name}: {points}\n"));
        }
    }
    Ok(text)
}
