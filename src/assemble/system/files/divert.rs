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
    // dpkg-divert's default action is --add.
    if !add && !remove {
        add = true;
    }
    // In a preinst the file is not there yet when only this package ships it (a package's own
    // files are never diverted by its own diversion): nothing to rename.
    let absent_yet = st.script == "preinst" && !super::paths::shipped(st, &path, |p| p != package);
    let exists = st.overlay.entry(&super::super::tree_path(&path)).is_some();
    let divert_to = divert_to.unwrap_or_else(|| format!("{path}.distrib"));
    if add && exists && !absent_yet {
        // Another package's file: `--rename` moves it now, and a package unpacked after the
        // diversion has it unpacked at the new name (dictionaries-common's preinst diverts
        // wamerican's `/usr/share/dict/words`). Whose bytes the path holds is only known when
        // the diverting package does not ship it too.
        let others_later = later_shippers_only(st, package, &path, &owner);
        if rename || others_later {
            if super::paths::shipped(st, &path, |p| p == owner) {
                return Err(format!(
                    "{path} is shipped by {owner} and by another package: which one --rename moves is not known"
                ));
            }
            if st.overlay.entry(&super::super::tree_path(&divert_to)).is_some() {
                return Err(format!("{divert_to} already exists"));
            }
            super::mv(
                &mut st.overlay,
                &["-T".to_owned(), path.clone(), divert_to.clone()],
            )?;
        }
    }
    match (add, remove) {
        (true, false) => {
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

/// Whether every package other than `owner` that ships `path` is unpacked after the script of
/// `package` being walked (a later install round; a postinst runs after its whole round is
/// unpacked), so dpkg unpacks their file at the diverted name.
fn later_shippers_only(st: &State<'_>, package: &str, path: &str, owner: &str) -> bool {
    use super::super::Round;
    let rank = |r: Round| Round::ALL.iter().position(|x| *x == r).unwrap_or(0);
    let Some(current) = st
        .packages
        .iter()
        .find(|p| p.name == package)
        .map(|p| rank(p.round))
    else {
        return false;
    };
    let rel = super::super::tree_path(path);
    let shippers: Vec<_> = st
        .packages
        .iter()
        .filter(|p| p.name != owner && p.ships(&rel))
        .collect();
    // Within a round the unpack order is not modelled: only a later round counts.
    !shippers.is_empty() && shippers.iter().all(|p| rank(p.round) > current)
}
