//! `dpkg-divert --add/--remove` as a script runs it, and `--list`, `--truename` and
//! `--listpackage` answered from the diversions made so far.

use super::super::{TreeView, shell};
use super::State;

/// A diversion as dpkg records it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Diversion {
    pub(super) path: String,
    pub(super) divert_to: String,
    /// `:` for a local diversion, as in dpkg's file.
    pub(super) package: String,
}

/// `dpkg-divert --list [GLOB]`: the diversions made so far whose path, new name or package
/// matches, one line each as dpkg prints them.
pub(super) fn list_diversions(diversions: &[Diversion], glob: Option<&str>) -> String {
    let mut out = String::new();
    for d in diversions {
        let hit = glob.is_none_or(|g| {
            shell::glob_match(g, &d.path)
                || shell::glob_match(g, &d.divert_to)
                || shell::glob_match(g, &d.package)
        });
        if hit {
            if d.package == ":" {
                out.push_str(&format!("local diversion of {} to {}\n", d.path, d.divert_to));
            } else {
                out.push_str(&format!(
                    "diversion of {} to {} by {}\n",
                    d.path, d.divert_to, d.package
                ));
            }
        }
    }
    out
}

/// `dpkg-divert --truename FILE`: the name FILE's contents have now (its diversion's new name,
/// else FILE itself).
pub(super) fn truename(diversions: &[Diversion], file: &str) -> String {
    diversions
        .iter()
        .find(|d| d.path == file)
        .map_or_else(|| file.to_owned(), |d| d.divert_to.clone())
        + "\n"
}

/// `dpkg-divert --listpackage FILE`: the package that diverted FILE (`LOCAL` for a local
/// diversion), nothing when it is not diverted.
pub(super) fn listpackage(diversions: &[Diversion], file: &str) -> String {
    diversions
        .iter()
        .find(|d| d.path == file)
        .map(|d| {
            let owner = if d.package == ":" {
                "LOCAL"
            } else {
                d.package.as_str()
            };
            format!("{owner}\n")
        })
        .unwrap_or_default()
}

pub(super) fn divert(st: &mut State<'_>, package: &str, args: &[String]) -> Result<(), String> {
    let mut owner = package.to_owned();
    let (mut add, mut remove, mut rename) = (false, false, false);
    let mut divert_to = None;
    let mut path = None;
    let mut i = 0;
    while let Some(a) = args.get(i) {
        match a.as_str() {
            "--package" => {
                owner = args.get(i + 1).cloned().ok_or("--package without a name")?;
                i += 1;
            }
            "--local" => owner = ":".into(),
            "--divert" => {
                divert_to = Some(args.get(i + 1).cloned().ok_or("--divert without a path")?);
                i += 1;
            }
            "--add" => add = true,
            "--remove" => remove = true,
            "--rename" => rename = true,
            "--no-rename" | "--quiet" => {}
            p if p.starts_with('/') && path.is_none() => path = Some(p.to_owned()),
            other => return Err(format!("dpkg-divert option `{other}` is not emulated")),
        }
        i += 1;
    }
    let path = path.ok_or("no file to divert")?;
    // In a preinst the file is not there yet when only this package ships it (a package's own
    // files are never diverted by its own diversion): nothing to rename.
    let absent_yet = st.script == "preinst" && !super::paths::shipped(st, &path, |p| p != package);
    if rename && st.overlay.entry(&super::super::tree_path(&path)).is_some() && !absent_yet {
        return Err("--rename of an existing file is not emulated".into());
    }
    match (add, remove) {
        (true, false) => {
            let divert_to = divert_to.unwrap_or_else(|| format!("{path}.distrib"));
            st.diversions.retain(|d| d.path != path);
            st.diversions.push(Diversion {
                path,
                divert_to,
                package: owner,
            });
            // The order dpkg-divert writes its database in (and reads it back in next time).
            st.diversions
                .sort_by_key(|d| super::super::dpkgdb::fsys_hash_bin(&d.path));
            Ok(())
        }
        // Removing a diversion that is not there is what scripts do defensively; dpkg says so
        // and succeeds.
        (false, true) => {
            st.diversions.retain(|d| !(d.path == path && d.package == owner));
            Ok(())
        }
        _ => Err("only --add and --remove are emulated".into()),
    }
}
