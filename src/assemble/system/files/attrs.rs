//! The metadata commands: `chmod`, `chown`/`chgrp`, each with `-R` reaching below a directory
//! ([`super::recursive`]).

use super::super::commands;
use super::State;
use super::nodes::{each_path, modify};
use super::paths::operands;
use super::recursive;
use crate::entry::Entry;

/// `chmod [-R] MODE PATH…` (octal or symbolic, `-x`-style modes too).
pub(super) fn chmod(st: &mut State<'_>, args: &[String]) -> Result<(), String> {
    // `chmod -x FILE`: a mode that looks like an option.
    let mode_like =
        |a: &String| a.len() > 1 && a.starts_with('-') && a[1..].chars().all(|c| "rwxXst".contains(c));
    let (ops, dash_mode) = match args.iter().position(mode_like) {
        Some(i) => {
            let mut rest = args.to_vec();
            let m = rest.remove(i);
            (operands(&rest, &[])?, Some(m))
        }
        None => (operands(args, &[])?, None),
    };
    let (spec, paths) = match dash_mode {
        Some(m) => (m, &ops[..]),
        None => {
            let (m, p) = ops.split_first().ok_or("no mode")?;
            (m.clone(), p)
        }
    };
    let umask = st.umask;
    if commands::chmod_octal(&spec, 0, false).is_none()
        && commands::chmod_symbolic(&spec, 0, false, umask).is_none()
    {
        return Err(format!("mode `{spec}` is neither octal nor symbolic"));
    }
    let change = |e: &mut Entry| {
        let mode = commands::chmod_octal(&spec, e.mode, e.is_dir())
            .or_else(|| commands::chmod_symbolic(&spec, e.mode, e.is_dir(), umask))
            .unwrap_or(e.mode);
        super::super::acl::set_mode(e, mode);
    };
    let recursive = recursive::is_recursive(args);
    // chmod leaves the symbolic links it meets below the start alone.
    each_path(paths, |p| change_tree(st, p, true, recursive, true, change))
}

/// `chown`/`chgrp [-R] [-h] [-H] OWNER PATH…`, accounts looked up in the image.
pub(super) fn chown(st: &mut State<'_>, name: &str, args: &[String]) -> Result<(), String> {
    let no_deref = args.iter().any(|a| a == "-h" || a == "--no-dereference");
    let ops = operands(args, &[])?;
    let (spec, paths) = ops.split_first().ok_or("no owner")?;
    let (user, group) = owner_spec(name, spec);
    let user = user
        .map(|u| super::super::account(&st.overlay, "etc/passwd", u))
        .transpose()?;
    let mut group = group
        .map(|g| super::super::account(&st.overlay, "etc/group", g))
        .transpose()?;
    // `chown USER: PATH`: the group is the user's login group (nfs-common's `chown statd:`).
    if name == "chown"
        && group.is_none()
        && spec.ends_with([':', '.'])
        && let Some((_, login)) = &user
    {
        let gid = super::super::users::getent_output(&st.overlay, &["passwd".to_owned(), login.clone()])
            .and_then(|line| line.split(':').nth(3).map(str::to_owned))
            .ok_or_else(|| format!("`{login}` has no login group in /etc/passwd"))?;
        group = Some(super::super::account(&st.overlay, "etc/group", gid.trim())?);
    }
    let recursive = recursive::is_recursive(args);
    // `-R` alone (`-P`) changes a starting symlink itself, `-H`/`-L` what it points to.
    let follow = !no_deref && (!recursive || recursive::follows_start(args));
    // Below the start, symbolic links are changed themselves, not followed.
    let change = |e: &mut Entry| super::super::set_owner(e, &user, &group);
    each_path(paths, |p| change_tree(st, p, follow, recursive, false, change))
}

/// Changes the entry at `start` (through a final symbolic link when `follow`) and, when
/// `recursive`, every entry below it, never following links there (or leaving them alone when
/// `skip_links`).
fn change_tree(
    st: &mut State<'_>,
    start: &str,
    follow: bool,
    recursive: bool,
    skip_links: bool,
    change: impl Fn(&mut Entry) + Copy,
) -> Result<(), String> {
    modify(&mut st.overlay, start, follow, change)?;
    if !recursive {
        return Ok(());
    }
    for q in recursive::below(&st.overlay, start) {
        if !(skip_links && super::super::is_symlink(&st.overlay, &q)) {
            modify(&mut st.overlay, &q, false, change)?;
        }
    }
    Ok(())
}

/// The user and group a `chown USER[:GROUP]` (`.` for `:` too, either side may be empty) or a
/// `chgrp GROUP` names.
pub(super) fn owner_spec<'s>(command: &str, spec: &'s str) -> (Option<&'s str>, Option<&'s str>) {
    match (command, spec.split_once([':', '.'])) {
        ("chgrp", _) => (None, Some(spec)),
        (_, Some((u, g))) => ((!u.is_empty()).then_some(u), (!g.is_empty()).then_some(g)),
        (_, None) => (Some(spec), None),
    }
}
