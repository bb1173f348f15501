//! base-files' postinst on a first configure (`$1 = configure`, `$2` empty), bookworm's 12.4:
//!
//! - `install_from_default`: `root/.profile`, `root/.bashrc`, `etc/profile`, `etc/motd` copied
//!   (`cp -p`, so with the source's mode) from `usr/share/base-files/` unless present;
//! - `install_directory`: `mnt srv opt etc/opt var/opt media` (0755), `var/mail` (2775 root:mail),
//!   `run/lock` (1777), unless present;
//! - `var/spool/mail -> ../mail`; `var/run -> /run` and `var/lock -> /run/lock` replacing the
//!   (empty) directories the package ships;
//! - `install_local_dir` for the `usr/local` hierarchy (root:staff 2775 only when
//!   `etc/staff-group-for-usr-local` exists) and `usr/local/man -> share/man`;
//! - `var/log/{wtmp,btmp,lastlog}` (root:utmp 0664/0660/0664), empty;
//! - `usr/share/info/dir` from `info.dir` when `usr/share/info` exists and has none;
//! - `etc/dpkg/origins/default -> debian`.

use super::accounts::gid_of;
use super::{Changes, InstalledPackage, Owner, SystemError, TreeView, exists, installed, resolve_dir_of};
use crate::entry::EntryKind;

const DEFAULTS: &str = "usr/share/base-files";

pub fn compute(tree: &dyn TreeView, packages: &[InstalledPackage]) -> Result<Changes, SystemError> {
    let mut out = Changes::default();
    if installed(packages, "base-files").is_none() {
        return Ok(out);
    }
    // Paths are written where they land after following the tree's symlinks (merged /usr).
    let at = |p: &str| resolve_dir_of(tree, p).unwrap_or_else(|| p.to_owned());

    if !exists(tree, "etc/dpkg/origins/default") && exists(tree, "etc/dpkg/origins/debian") {
        out.symlink(&at("etc/dpkg/origins/default"), "debian");
    }
    for (src, dst) in [
        ("dot.profile", "root/.profile"),
        ("dot.bashrc", "root/.bashrc"),
        ("profile", "etc/profile"),
        ("motd", "etc/motd"),
    ] {
        install_from_default(tree, &mut out, src, &at(dst), None)?;
    }
    let group = |name: &str, fallback: u32| Owner {
        uid: 0,
        gid: gid_of(tree, name, fallback),
        uname: "root".into(),
        gname: name.into(),
    };
    for (dir, mode, owner) in [
        ("mnt", 0o755, None),
        ("srv", 0o755, None),
        ("opt", 0o755, None),
        ("etc/opt", 0o755, None),
        ("var/opt", 0o755, None),
        ("media", 0o755, None),
        ("var/mail", 0o2775, Some(group("mail", 8))),
        ("run/lock", 0o1777, None),
    ] {
        if !exists(tree, dir) {
            match owner {
                Some(o) => out.dir_owned(&at(dir), mode, o),
                None => out.dir(&at(dir), mode),
            }
        }
    }
    if !is_symlink(tree, "var/spool/mail") {
        out.symlink(&at("var/spool/mail"), "../mail");
    }
    for (dir, target) in [("var/run", "/run"), ("var/lock", "/run/lock")] {
        migrate_directory(tree, &mut out, &at(dir), target);
    }

    // install_local_dir: `mkdir -p` (0755 under umask 022); staff ownership only on request.
    let staff = exists(tree, "etc/staff-group-for-usr-local");
    for d in [
        "usr/local",
        "usr/local/share",
        "usr/local/share/man",
        "usr/local/bin",
        "usr/local/games",
        "usr/local/lib",
        "usr/local/include",
        "usr/local/sbin",
        "usr/local/src",
        "usr/local/etc",
    ] {
        let present = tree.entry(&at(d)).is_some();
        if staff {
            out.dir_owned(&at(d), 0o2775, group("staff", 50));
        } else if !present {
            out.dir(&at(d), 0o755);
        }
    }
    out.symlink(&at("usr/local/man"), "share/man");

    let utmp = group("utmp", 43);
    for (f, mode) in [
        ("var/log/wtmp", 0o664),
        ("var/log/btmp", 0o660),
        ("var/log/lastlog", 0o664),
    ] {
        let content = super::read_file(tree, f)?.unwrap_or_default();
        out.file_owned(&at(f), mode, utmp.clone(), content);
    }

    if super::is_dir(tree, "usr/share/info")
        && !super::is_file(tree, "usr/info/dir")
        && !super::is_file(tree, "usr/share/info/dir")
    {
        install_from_default(tree, &mut out, "info.dir", &at("usr/share/info/dir"), Some(0o644))?;
    }
    Ok(out)
}

fn is_symlink(tree: &dyn TreeView, path: &str) -> bool {
    resolve_dir_of(tree, path)
        .and_then(|p| tree.entry(&p))
        .is_some_and(|e| matches!(e.kind, EntryKind::Symlink { .. }))
}

/// `cp -p usr/share/base-files/SRC DST` unless DST is a file already.
fn install_from_default(
    tree: &dyn TreeView,
    out: &mut Changes,
    src: &str,
    dst: &str,
    mode: Option<u32>,
) -> Result<(), SystemError> {
    if super::is_file(tree, dst) {
        return Ok(());
    }
    let src_path = format!("{DEFAULTS}/{src}");
    let Some(content) = super::read_file(tree, &src_path)? else {
        return Ok(());
    };
    let src_mode = super::resolve(tree, &src_path)
        .and_then(|p| tree.entry(&p).map(|e| e.mode))
        .unwrap_or(0o644);
    out.file(dst, mode.unwrap_or(src_mode), content);
    Ok(())
}

/// `rmdir DIR && ln -s TARGET DIR` unless DIR is a symlink already. A non-empty directory would
/// make the real postinst fail; it is left alone.
fn migrate_directory(tree: &dyn TreeView, out: &mut Changes, dir: &str, target: &str) {
    match tree.entry(dir).map(|e| &e.kind) {
        Some(EntryKind::Symlink { .. }) => {}
        Some(EntryKind::Directory) => {
            let prefix = format!("{dir}/");
            if tree.paths().any(|p| p.starts_with(&prefix)) {
                return;
            }
            out.removed.push(dir.to_owned());
            out.symlink(dir, target);
        }
        Some(_) => {}
        None => out.symlink(dir, target),
    }
}

#[cfg(test)]
mod tests {
    use super::super::testutil::MemTree;
    use super::*;

    #[test]
    fn first_configure() {
        let mut t = MemTree::new();
        t.file("usr/share/base-files/dot.bashrc", b"# bashrc\n")
            .file("usr/share/base-files/dot.profile", b"# profile\n")
            .file("usr/share/base-files/profile", b"# etc profile\n")
            .file("usr/share/base-files/motd", b"motd\n")
            .file("usr/share/base-files/info.dir", b"info\n")
            .file("etc/dpkg/origins/debian", b"Vendor: Debian\n")
            .file("etc/group", b"root:x:0:\nmail:x:8:\nutmp:x:43:\nstaff:x:50:\n")
            .dir("var/run")
            .dir("var/lock")
            .dir("var/log")
            .dir("usr/share/info")
            .dir("root");
        let pkgs = [InstalledPackage {
            name: "base-files".into(),
            ..Default::default()
        }];
        let out = compute(&t, &pkgs).unwrap();
        let mut m = t.clone();
        m.apply(&out);
        assert_eq!(m.text("root/.bashrc"), "# bashrc\n");
        assert_eq!(m.text("etc/profile"), "# etc profile\n");
        assert_eq!(m.text("usr/share/info/dir"), "info\n");
        assert_eq!(m.entries["var/mail"].0.mode, 0o2775);
        assert_eq!(m.entries["var/mail"].0.gid, 8);
        assert_eq!(m.entries["run/lock"].0.mode, 0o1777);
        assert_eq!(
            m.entries["var/run"].0.kind,
            EntryKind::Symlink {
                target: "/run".into()
            }
        );
        assert_eq!(out.removed, ["var/run", "var/lock"]);
        assert_eq!(m.entries["usr/local/bin"].0.mode, 0o755);
        assert_eq!(
            m.entries["usr/local/man"].0.kind,
            EntryKind::Symlink {
                target: "share/man".into()
            }
        );
        let w = &m.entries["var/log/btmp"].0;
        assert_eq!((w.mode, w.gid), (0o660, 43));
        assert_eq!(
            m.entries["etc/dpkg/origins/default"].0.kind,
            EntryKind::Symlink {
                target: "debian".into()
            }
        );
    }
}
