//! `cp` in a script, as coreutils' cp does it for files and symbolic links (and `ln`'s hard
//! links, which the image holds as copies): readline's
//! `cp -p /usr/share/readline/inputrc /etc/inputrc`, nginx's default index page, openssh-server's
//! `cp -aZ` of its sshd_config template to a temporary file.
//!
//! A new file gets the source's permission bits less the umask and setuid/setgid/sticky, owned by
//! root (the script's user); `-p`/`-a`/`--preserve=mode,ownership` keep the source's mode and
//! owner. An existing destination keeps its inode, so its mode and owner stay unless preserved.
//! A symbolic link source is followed unless `-d`, `-P`, `-a` or a recursive copy says otherwise
//! (then the link itself is copied). `-r`/`-R`/`-a` copy a directory with what it holds (tomcat10's
//! default `ROOT` webapp): new directories and files get the sources' modes less the umask (or
//! theirs with `-p`/`-a`), symbolic links below are copied as links; a copy that would overwrite
//! something is refused before anything is written. The options that ask or back up are refused
//! with the reason.

use super::{Changes, Overlay, TreeView};
use crate::entry::{Entry, EntryKind};

/// One `cp` call's meaning.
#[derive(Debug, PartialEq, Eq)]
pub struct CpCall {
    sources: Vec<String>,
    dest: String,
    preserve_mode: bool,
    preserve_owner: bool,
    /// Copy a symbolic link source as a link (`-d`, `-P`, `-a`, `-R` without `-L`).
    no_deref: bool,
    no_target_dir: bool,
    no_clobber: bool,
    /// `-r`/`-R`/`-a`: a directory source is copied with what it holds.
    recursive: bool,
}

/// Parses `cp`'s arguments; `Err` names what is not reproduced.
pub fn parse(args: &[String]) -> Result<CpCall, String> {
    let (mut preserve_mode, mut preserve_owner) = (false, false);
    let (mut no_deref, mut deref, mut recursive) = (false, false, false);
    let (mut no_target_dir, mut no_clobber) = (false, false);
    let mut operands = Vec::new();
    let mut done = false;
    let preserve = |list: &str, mode: &mut bool, owner: &mut bool| -> Result<(), String> {
        for attr in list.split(',') {
            match attr {
                "mode" => *mode = true,
                "ownership" => *owner = true,
                "all" => (*mode, *owner) = (true, true),
                // Timestamps are clamped in the image; links and contexts change nothing here.
                "timestamps" | "links" | "context" | "xattr" => {}
                other => return Err(format!("cp --preserve={other} is not reproduced")),
            }
        }
        Ok(())
    };
    for a in args {
        if done || !a.starts_with('-') || a == "-" {
            operands.push(a.clone());
        } else if a == "--" {
            done = true;
        } else if let Some(long) = a.strip_prefix("--") {
            match long {
                "archive" => {
                    (no_deref, recursive) = (true, true);
                    preserve("all", &mut preserve_mode, &mut preserve_owner)?;
                }
                "preserve" => preserve(
                    "mode,ownership,timestamps",
                    &mut preserve_mode,
                    &mut preserve_owner,
                )?,
                "no-dereference" => no_deref = true,
                "dereference" => deref = true,
                "recursive" => recursive = true,
                "force" | "verbose" | "remove-destination" => {}
                "no-target-directory" => no_target_dir = true,
                "no-clobber" => no_clobber = true,
                l if l.starts_with("preserve=") => {
                    preserve(&l["preserve=".len()..], &mut preserve_mode, &mut preserve_owner)?
                }
                l if l.starts_with("context") => {}
                other => return Err(format!("cp option --{other} is not reproduced")),
            }
        } else {
            for c in a[1..].chars() {
                match c {
                    'a' => {
                        (no_deref, recursive) = (true, true);
                        (preserve_mode, preserve_owner) = (true, true);
                    }
                    'p' => (preserve_mode, preserve_owner) = (true, true),
                    'd' | 'P' => no_deref = true,
                    'L' => deref = true,
                    'r' | 'R' => recursive = true,
                    'T' => no_target_dir = true,
                    'n' => no_clobber = true,
                    // Force, verbosity, SELinux context: nothing a fresh image needs.
                    'f' | 'v' | 'Z' => {}
                    other => return Err(format!("cp option -{other} is not reproduced")),
                }
            }
        }
    }
    let Some((dest, sources)) = operands.split_last() else {
        return Err("cp without source and destination".into());
    };
    if sources.is_empty() {
        return Err("cp without a destination".into());
    }
    if let Some(p) = operands.iter().find(|p| !p.starts_with('/')) {
        return Err(format!("`{p}` is not an absolute path"));
    }
    Ok(CpCall {
        sources: sources.to_vec(),
        dest: dest.clone(),
        preserve_mode,
        preserve_owner,
        no_deref: (no_deref || recursive) && !deref,
        no_target_dir,
        no_clobber,
        recursive,
    })
}

/// Applies the copy to the image; `Err` (nothing changed by the failing source) says why cp
/// would fail or what is not reproduced.
pub fn apply(overlay: &mut Overlay<'_>, call: &CpCall, umask: u32) -> Result<(), String> {
    let dest_rel = super::lstat_path(overlay, &call.dest)?;
    let dest_is_dir = !call.no_target_dir && super::is_dir(overlay, &dest_rel);
    if call.sources.len() > 1 && !dest_is_dir {
        return Err(format!("target {} is not a directory", call.dest));
    }
    for src in &call.sources {
        copy_one(overlay, call, src, &dest_rel, dest_is_dir, umask)?;
    }
    Ok(())
}

fn copy_one(
    overlay: &mut Overlay<'_>,
    call: &CpCall,
    src: &str,
    dest_rel: &str,
    dest_is_dir: bool,
    umask: u32,
) -> Result<(), String> {
    // The running system's /dev/null (the image has no /dev): cp reads it, so the copy is an
    // empty file of the device's mode less the umask (courier-imap's `cp /dev/null FILE`); `-R`
    // and `-a` would copy the device node itself.
    if src == "/dev/null" && call.recursive {
        return Err(format!("cp -R of {src} (a device node) is not reproduced"));
    }
    let (mut from, mut entry) = if src == "/dev/null" {
        let null = Entry::generated("dev/null", EntryKind::File { size: 0 }, 0o666);
        (null.path.clone(), null)
    } else {
        let from = super::lstat_path(overlay, src)?;
        let entry = overlay
            .entry(&from)
            .cloned()
            .ok_or_else(|| format!("cannot stat '{src}': No such file or directory"))?;
        (from, entry)
    };
    if matches!(entry.kind, EntryKind::Symlink { .. }) && !call.no_deref {
        from = super::resolve(overlay, &from).ok_or_else(|| format!("{src} is a dangling link"))?;
        entry = overlay
            .entry(&from)
            .cloned()
            .ok_or_else(|| format!("{src} is a dangling link"))?;
    }
    let mut to = dest_rel.to_owned();
    if dest_is_dir {
        let dir = super::resolve(overlay, dest_rel).unwrap_or_else(|| dest_rel.to_owned());
        let base = src.trim_end_matches('/').rsplit('/').next().unwrap_or(src);
        to = match base {
            // `cp -r DIR/. DEST`: what DIR holds, into DEST.
            "." => dir,
            ".." => return Err(format!("cp of `{src}` is not reproduced")),
            _ => super::child_path(&dir, base),
        };
    }
    if entry.is_dir() {
        if !call.recursive {
            return Err(format!("-r not specified; omitting directory '{src}'"));
        }
        return copy_tree(overlay, call, &from, &entry, &to, umask);
    }
    let existing = overlay.entry(&to).cloned();
    if existing.is_some() && call.no_clobber {
        return Ok(());
    }
    if let EntryKind::Symlink { .. } = entry.kind {
        if existing.is_some() {
            return Err(format!(
                "copying the link {src} over an existing {} is not reproduced",
                call.dest
            ));
        }
        let mut link = entry;
        link.path = to;
        if !call.preserve_owner {
            (link.uid, link.gid, link.uname, link.gname) = (0, 0, "root".into(), "root".into());
        }
        overlay.apply(Changes {
            files: vec![(link, Vec::new())],
            removed: vec![],
        });
        return Ok(());
    }
    // An existing destination is written through: a link to a file is followed.
    let target = match &existing {
        Some(e) if matches!(e.kind, EntryKind::Symlink { .. }) => {
            let real =
                super::resolve(overlay, &to).ok_or_else(|| format!("{} is a dangling link", call.dest))?;
            if real == from {
                return Err(format!("'{src}' and '{}' are the same file", call.dest));
            }
            Some(real)
        }
        Some(e) if e.is_dir() => return Err(format!("cannot overwrite directory {} with a file", call.dest)),
        Some(_) if to == from => return Err(format!("'{src}' and '{}' are the same file", call.dest)),
        Some(_) => Some(to.clone()),
        None => None,
    };
    let content = file_content(overlay, &from, src)?;
    let size = content.len() as u64;
    let mut written = match target.as_deref().and_then(|t| overlay.entry(t).cloned()) {
        Some(old) if !old.is_dir() => old,
        Some(_) => return Err(format!("cannot overwrite directory {} with a file", call.dest)),
        None => Entry::generated(
            target.clone().unwrap_or(to),
            EntryKind::File { size },
            entry.mode & 0o777 & !umask,
        ),
    };
    written.kind = EntryKind::File { size };
    if call.preserve_mode {
        written.mode = entry.mode;
    }
    if call.preserve_owner {
        (written.uid, written.gid) = (entry.uid, entry.gid);
        (written.uname, written.gname) = (entry.uname.clone(), entry.gname.clone());
    }
    overlay.apply(Changes {
        files: vec![(written, content)],
        removed: vec![],
    });
    Ok(())
}

/// `ln SOURCE LINK` (a hard link, cups' `ln backend-available/lpd backend/lpd`): LINK, or
/// LINK/basename(SOURCE) when LINK is a directory (unless `-T`/`-n`), gets the file SOURCE names
/// itself (a symbolic link is linked, not followed, as coreutils' ln does by default): the same
/// content, mode, owner and attributes. The image holds it as a copy: the two names are one file
/// only until something changes one of them, which nothing in a built image does. An existing
/// LINK is refused unless `-f`; a directory SOURCE always is.
pub fn hard_link(
    overlay: &mut Overlay<'_>,
    source: &str,
    link: &str,
    force: bool,
    no_target_dir: bool,
) -> Result<(), String> {
    let from = super::lstat_path(overlay, source)?;
    let entry = overlay
        .entry(&from)
        .cloned()
        .ok_or_else(|| format!("failed to access '{source}': No such file or directory"))?;
    let content = match entry.kind {
        EntryKind::File { .. } => file_content(overlay, &from, source)?,
        EntryKind::Symlink { .. } => Vec::new(),
        EntryKind::Directory => return Err(format!("{source}: hard link not allowed for directory")),
        _ => {
            return Err(format!(
                "a hard link to the special file {source} is not reproduced"
            ));
        }
    };
    let mut to = super::lstat_path(overlay, link)?;
    if !no_target_dir && super::is_dir(overlay, &to) {
        let dir = super::resolve(overlay, &to).unwrap_or(to);
        let base = source.trim_end_matches('/').rsplit('/').next().unwrap_or(source);
        to = super::child_path(&dir, base);
    }
    if to == from {
        return Err(format!("'{source}' and '{link}' are the same file"));
    }
    let mut removed = Vec::new();
    match overlay.entry(&to) {
        Some(e) if e.is_dir() => return Err(format!("{link}: cannot overwrite directory")),
        Some(_) if !force => return Err(format!("failed to create hard link '{link}': File exists")),
        Some(_) => removed.push(to.clone()),
        None => {}
    }
    let mut linked = entry;
    linked.path = to;
    overlay.apply(Changes {
        files: vec![(linked, content)],
        removed,
    });
    Ok(())
}

/// What the file at `path` (relative to the image root) holds; `shown` names it in the error.
fn file_content(overlay: &Overlay<'_>, path: &str, shown: &str) -> Result<Vec<u8>, String> {
    match overlay.read(path) {
        Some(Ok(bytes)) => Ok(bytes),
        Some(Err(e)) => Err(format!("reading {shown}: {e}")),
        None => Ok(Vec::new()),
    }
}

/// The entry a copy makes at `to` of `source` (a directory or a symbolic link; files carry their
/// content apart): the source's mode less the umask and root's, or theirs when preserved.
fn copied(call: &CpCall, source: &Entry, to: &str, umask: u32) -> Entry {
    let mut e = source.clone();
    e.path = to.to_owned();
    if !call.preserve_mode {
        // A new inode: made now (clamped in the image), without the source's attributes.
        (e.mtime, e.xattrs) = (0, Default::default());
        if !matches!(e.kind, EntryKind::Symlink { .. }) {
            e.mode = source.mode & 0o777 & !umask;
        }
    }
    if !call.preserve_owner {
        (e.uid, e.gid, e.uname, e.gname) = (0, 0, "root".into(), "root".into());
    }
    e
}

/// `cp -r DIR TO`: TO (new, or an existing directory the copy merges into) and everything below
/// DIR. Every path it would write is checked first: one that exists (other than a directory to
/// merge into) refuses the whole copy, so nothing is left half-copied.
fn copy_tree(
    overlay: &mut Overlay<'_>,
    call: &CpCall,
    from: &str,
    dir: &Entry,
    to: &str,
    umask: u32,
) -> Result<(), String> {
    if to == from || to.starts_with(&format!("{from}/")) {
        return Err(format!("cannot copy a directory, '{from}', into itself"));
    }
    let prefix = format!("{from}/");
    let below = super::descendants(overlay, from)
        .map(|(_, paths)| paths)
        .unwrap_or_default();
    let mut out = Changes::default();
    for (path, target) in std::iter::once((from.to_owned(), to.to_owned())).chain(
        below
            .iter()
            .map(|p| (p.clone(), format!("{to}/{}", &p[prefix.len()..]))),
    ) {
        let source = if path == from {
            dir.clone()
        } else {
            overlay
                .entry(&path)
                .cloned()
                .ok_or_else(|| format!("/{path} vanished while copying"))?
        };
        match overlay.entry(&target) {
            Some(e) if e.is_dir() && source.is_dir() => {
                if call.preserve_mode || call.preserve_owner {
                    out.files
                        .push((copied(call, &source, &target, umask), Vec::new()));
                }
                continue;
            }
            Some(_) => return Err(format!("copying over the existing /{target} is not reproduced")),
            None => {}
        }
        let content = match source.kind {
            EntryKind::File { .. } => file_content(overlay, &path, &format!("/{path}"))?,
            EntryKind::Directory | EntryKind::Symlink { .. } => Vec::new(),
            _ => return Err(format!("copying the special file /{path} is not reproduced")),
        };
        if matches!(source.kind, EntryKind::Symlink { .. }) && !call.no_deref {
            return Err(format!("copying through the link /{path} (-L) is not reproduced"));
        }
        out.files.push((copied(call, &source, &target, umask), content));
    }
    overlay.apply(out);
    Ok(())
}
