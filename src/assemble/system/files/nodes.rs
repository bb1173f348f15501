//! Making and changing one path of the image as coreutils does: `mkdir`, `install` of a file,
//! and the metadata changes of `chmod`, `chown`/`chgrp` and `setcap` (each path in turn).

use super::super::{Changes, Overlay, TreeView};
use crate::entry::{Entry, EntryKind};

/// `mkdir [-p] ABS` as coreutils' mkdir does it, inside the image: an existing component is
/// followed if it is a directory or a symbolic link to one (resolved in the image, never on the
/// host, with a bound on the links followed), a missing one is made (only the last without
/// `-p`), and anything else is mkdir's error: an existing final directory without `-p`, a
/// regular file, a dangling or looping link ("File exists", "Not a directory"). Nothing is ever
/// replaced by a directory.
pub(super) fn mkdir(
    overlay: &mut Overlay<'_>,
    abs: &str,
    parents: bool,
    mode: u32,
    parent_mode: u32,
) -> Result<(), String> {
    // A relative name is left relative only when the working directory it depends on is not
    // known (`cd "$(…)"; mkdir x`): refused, never made at the root.
    if !abs.starts_with('/') {
        return Err(format!(
            "`{abs}` is relative to a working directory that is not known"
        ));
    }
    let comps: Vec<&str> = abs.split('/').filter(|c| !c.is_empty() && *c != ".").collect();
    // The tree path (links resolved) of the directory reached so far; "" is the root.
    let mut real = String::new();
    // The same as the script wrote it, for messages (with -p, mkdir names the component).
    let mut given = String::new();
    for (i, comp) in comps.iter().enumerate() {
        let last = i + 1 == comps.len();
        given = format!("{given}/{comp}");
        let shown = if parents { given.as_str() } else { abs };
        let cannot = |why: &str| format!("cannot create directory ‘{shown}’: {why}");
        let here = super::super::child_path(&real, comp);
        let kind = overlay.entry(&here).map(|e| e.kind.clone());
        real = match kind {
            None if last || parents => {
                let mut c = Changes::default();
                c.dir(&here, if last { mode } else { parent_mode });
                overlay.apply(c);
                here
            }
            None => return Err(cannot("No such file or directory")),
            Some(EntryKind::Directory) if last && !parents => return Err(cannot("File exists")),
            Some(EntryKind::Directory) => here,
            Some(EntryKind::Symlink { .. }) => match super::super::resolve(overlay, &here) {
                Some(p) if p.is_empty() || overlay.entry(&p).is_some_and(Entry::is_dir) => {
                    if last && !parents {
                        return Err(cannot("File exists"));
                    }
                    p
                }
                Some(_) if !last => return Err(cannot("Not a directory")),
                // A link to a file, or dangling, or looping: it exists, and is no directory.
                _ if last || parents => return Err(cannot("File exists")),
                _ => return Err(cannot("No such file or directory")),
            },
            Some(_) if last => return Err(cannot("File exists")),
            Some(_) => return Err(cannot("Not a directory")),
        };
    }
    Ok(())
}

/// Changes an existing entry's metadata (following a final symlink when `follow`).
pub(super) fn modify(
    overlay: &mut Overlay<'_>,
    abs: &str,
    follow: bool,
    f: impl FnOnce(&mut Entry),
) -> Result<(), String> {
    // As for mkdir: a relative name whose working directory is not known.
    if !abs.starts_with('/') {
        return Err(format!(
            "`{abs}` is relative to a working directory that is not known"
        ));
    }
    let rel = super::super::tree_path(abs);
    let path = if follow {
        super::super::resolve(overlay, &rel)
    } else {
        super::super::resolve_dir_of(overlay, &rel)
    }
    .ok_or_else(|| format!("{abs} does not exist"))?;
    let mut entry = overlay
        .entry(&path)
        .cloned()
        .ok_or_else(|| format!("{abs} does not exist"))?;
    let content = match overlay.read(&path) {
        Some(Ok(bytes)) => bytes,
        Some(Err(e)) => return Err(format!("reading {abs}: {e}")),
        None => Vec::new(),
    };
    f(&mut entry);
    overlay.apply(Changes {
        files: vec![(entry, content)],
        removed: vec![],
    });
    Ok(())
}

/// An owner or group a command names: its id and name.
type Account = Option<(u32, String)>;

/// `install SOURCE DEST`: DEST (or DEST/SOURCE's name, when DEST is a directory) made anew —
/// install removes what was there (`-b`: keeps it as `DEST~`) — with SOURCE's content
/// (`/dev/null`: none), the mode given (0755 by default) and root's or the given owner.
pub(super) fn install_file(
    st: &mut super::State<'_>,
    source: &str,
    dest: &str,
    mode: u32,
    (user, group): (&Account, &Account),
    backup: bool,
) -> Result<(), String> {
    let content = if source == "/dev/null" {
        Vec::new()
    } else {
        let real = super::super::resolve(&st.overlay, &super::super::tree_path(source))
            .filter(|p| super::super::is_file(&st.overlay, p))
            .ok_or_else(|| format!("{source} is not a regular file"))?;
        super::super::read_file(&st.overlay, &real)
            .map_err(|e| e.to_string())?
            .unwrap_or_default()
    };
    let dest_rel = super::super::tree_path(dest);
    let target = match super::super::resolve(&st.overlay, &dest_rel) {
        Some(d) if super::super::is_dir(&st.overlay, &d) => {
            let name = source.rsplit('/').next().unwrap_or(source);
            format!("{d}/{name}")
        }
        _ => super::super::resolve_dir_of(&st.overlay, &dest_rel)
            .ok_or_else(|| format!("the directory of {dest} does not exist"))?,
    };
    let mut entry = Entry::generated(
        target.as_str(),
        EntryKind::File {
            size: content.len() as u64,
        },
        mode,
    );
    super::super::set_owner(&mut entry, user, group);
    let mut files = Vec::new();
    // `-b`: what was there is renamed `DEST~`, as it was. A link (renamed itself) and numbered
    // backups already there (install then numbers the new one) are not reproduced.
    if backup {
        let link = st
            .overlay
            .entry(&target)
            .is_some_and(|e| matches!(e.kind, EntryKind::Symlink { .. }));
        if link || st.overlay.entry(&format!("{target}.~1~")).is_some() {
            return Err(format!(
                "install -b over {dest} (a link, or numbered backups) is not reproduced"
            ));
        }
    }
    if backup && let Some(old) = st.overlay.entry(&target).filter(|e| !e.is_dir()).cloned() {
        let bytes = match st.overlay.read(&target) {
            Some(Ok(b)) => b,
            Some(Err(e)) => return Err(format!("reading {dest}: {e}")),
            None => Vec::new(),
        };
        files.push((
            Entry {
                path: format!("{target}~"),
                ..old
            },
            bytes,
        ));
    }
    files.push((entry, content));
    st.overlay.apply(Changes {
        files,
        removed: vec![],
    });
    Ok(())
}

/// Runs `f` on every path, as chmod and chown go on past a file that fails: the others are
/// changed, and the command fails naming what did.
pub(super) fn each_path(
    paths: &[String],
    mut f: impl FnMut(&str) -> Result<(), String>,
) -> Result<(), String> {
    let failed: Vec<String> = paths.iter().filter_map(|p| f(p).err()).collect();
    if failed.is_empty() {
        Ok(())
    } else {
        Err(failed.join("; "))
    }
}
