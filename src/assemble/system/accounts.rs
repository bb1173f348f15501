//! Accounts: what base-passwd's postinst and `useradd`/`groupadd` for the manifest's
//! `[[system.user]]`/`[[system.group]]` would have written.
//!
//! base-passwd's postinst copies `usr/share/base-passwd/{passwd,group}.master` to `etc/passwd` and
//! `etc/group` when those do not exist. The shadow files are `shadowconfig on`'s (pwconv/grpconv),
//! which runs where the walk meets it in passwd's postinst ([`super::users`]).

use super::{Changes, Owner, SystemError, TreeView};
use crate::manifest::System;

/// `[[system.user]]` and `[[system.group]]` are added to base-passwd's `etc/passwd` and `etc/group`.
pub const REQUIRES: super::Requirement = super::Requirement {
    setting: "[[system.user]] / [[system.group]]",
    package: "base-passwd",
    used: |system| !system.users.is_empty() || !system.groups.is_empty(),
};

#[derive(Debug, Clone)]
struct PwLine {
    fields: Vec<String>,
}

fn parse_db(text: &str, min_fields: usize, path: &str) -> Result<Vec<PwLine>, SystemError> {
    let mut out = Vec::new();
    for (n, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let fields: Vec<String> = line.split(':').map(str::to_owned).collect();
        if fields.len() < min_fields || fields[2].parse::<u32>().is_err() {
            return Err(SystemError::Invalid {
                path: path.into(),
                message: format!("line {}: not a valid entry: `{line}`", n + 1),
            });
        }
        out.push(PwLine { fields });
    }
    Ok(out)
}

fn read_text(tree: &dyn TreeView, path: &str) -> Result<Option<String>, SystemError> {
    match super::read_file(tree, path)? {
        None => Ok(None),
        Some(b) => String::from_utf8(b).map(Some).map_err(|_| SystemError::Invalid {
            path: path.into(),
            message: "not UTF-8".into(),
        }),
    }
}

/// Computes `etc/{passwd,group}` and the manifest users' home directories.
pub fn compute(tree: &dyn TreeView, system: &System) -> Result<Changes, SystemError> {
    let mut out = Changes::default();
    // Existing files win, as in the postinst (`[ ! -e /etc/passwd ]`); else the master files.
    let passwd_src = match read_text(tree, "etc/passwd")? {
        Some(t) => Some((t, "etc/passwd")),
        None => read_text(tree, "usr/share/base-passwd/passwd.master")?
            .map(|t| (t, "usr/share/base-passwd/passwd.master")),
    };
    let group_src = match read_text(tree, "etc/group")? {
        Some(t) => Some((t, "etc/group")),
        None => read_text(tree, "usr/share/base-passwd/group.master")?
            .map(|t| (t, "usr/share/base-passwd/group.master")),
    };
    let (Some((ptext, ppath)), Some((gtext, gpath))) = (passwd_src, group_src) else {
        if system.users.is_empty() && system.groups.is_empty() {
            return Ok(out);
        }
        return Err(SystemError::Manifest(format!(
            "users/groups need etc/passwd and etc/group (install {})",
            REQUIRES.package
        )));
    };
    let mut passwd = parse_db(&ptext, 7, ppath)?;
    let mut group = parse_db(&gtext, 4, gpath)?;

    // groupadd, then useradd, for the manifest's accounts (useradd refuses duplicates).
    for g in &system.groups {
        if group
            .iter()
            .any(|l| l.fields[0] == g.name || l.fields[2] == g.gid.to_string())
        {
            return Err(SystemError::Manifest(format!(
                "group `{}` (gid {}): name or gid already in etc/group",
                g.name, g.gid
            )));
        }
        group.push(PwLine {
            fields: vec![g.name.clone(), "!".into(), g.gid.to_string(), g.members.join(",")],
        });
    }
    for u in &system.users {
        if passwd
            .iter()
            .any(|l| l.fields[0] == u.name || l.fields[2] == u.uid.to_string())
        {
            return Err(SystemError::Manifest(format!(
                "user `{}` (uid {}): name or uid already in etc/passwd",
                u.name, u.uid
            )));
        }
        if !group.iter().any(|l| l.fields[2] == u.gid.to_string()) {
            return Err(SystemError::Manifest(format!(
                "user `{}`: gid {} is not a group (add a [[system.group]])",
                u.name, u.gid
            )));
        }
        let home = u.home.clone().unwrap_or_else(|| format!("/home/{}", u.name));
        passwd.push(PwLine {
            fields: vec![
                u.name.clone(),
                "!".into(),
                u.uid.to_string(),
                u.gid.to_string(),
                u.gecos.clone().unwrap_or_default(),
                home.clone(),
                // useradd's Debian default (SHELL in /etc/default/useradd).
                u.shell.clone().unwrap_or_else(|| "/bin/sh".into()),
            ],
        });
        let at = super::tree_path(&home);
        if !at.is_empty() && !super::exists(tree, &at) {
            let gname = group
                .iter()
                .find(|l| l.fields[2] == u.gid.to_string())
                .map(|l| l.fields[0].clone())
                .unwrap_or_default();
            out.dir_owned(
                &at,
                0o755,
                Owner {
                    uid: u.uid,
                    gid: u.gid,
                    uname: u.name.clone(),
                    gname,
                },
            );
        }
    }

    if let Some(fallback) = &system.fallback_shell {
        replace_absent_shells(tree, &mut passwd, fallback)?;
    }

    // The shadow files come later, from `shadowconfig on` where passwd's postinst runs
    // ([`super::users`]): accounts made by packages configured before passwd are in them first.
    let join = |rows: &[PwLine]| rows.iter().map(|l| l.fields.join(":") + "\n").collect::<String>();
    out.file("etc/passwd", 0o644, join(&passwd).into_bytes());
    out.file("etc/group", 0o644, join(&group).into_bytes());
    Ok(out)
}

/// `[system] fallback-shell`: every account whose login shell is not in the image gets `fallback`,
/// which must be.
fn replace_absent_shells(
    tree: &dyn TreeView,
    passwd: &mut [PwLine],
    fallback: &str,
) -> Result<(), SystemError> {
    if !super::is_file(tree, &super::tree_path(fallback)) {
        return Err(SystemError::Manifest(format!(
            "fallback-shell `{fallback}` is not a file in the image (install the package that ships it)"
        )));
    }
    for line in passwd.iter_mut() {
        let Some(shell) = line.fields.get_mut(6) else {
            continue;
        };
        if shell.is_empty() || !super::exists(tree, &super::tree_path(shell)) {
            *shell = fallback.to_owned();
        }
    }
    Ok(())
}

/// The gid of `name` in the tree's `etc/group`, or `fallback` (Debian's static id).
pub fn gid_of(tree: &dyn TreeView, name: &str, fallback: u32) -> u32 {
    let Ok(Some(text)) = read_text(tree, "etc/group") else {
        return fallback;
    };
    text.lines()
        .map(|l| l.split(':').collect::<Vec<_>>())
        .find(|f| f.first() == Some(&name))
        .and_then(|f| f.get(2).and_then(|g| g.parse().ok()))
        .unwrap_or(fallback)
}

#[cfg(test)]
mod tests {
    use super::super::testutil::MemTree;
    use super::*;
    use crate::manifest::{Group, User};

    fn tree() -> MemTree {
        let mut t = MemTree::new();
        t.file(
            "usr/share/base-passwd/passwd.master",
            b"root:*:0:0:root:/root:/bin/bash\nnobody:*:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n",
        )
        .file(
            "usr/share/base-passwd/group.master",
            b"root:*:0:\nshadow:*:42:\nnogroup:*:65534:\n",
        )
        .dir("home");
        t
    }

    #[test]
    fn fallback_shell_replaces_absent_shells_only() {
        let mut t = tree();
        t.file("usr/sbin/nologin", b"ELF");
        let system = System {
            fallback_shell: Some("/usr/sbin/nologin".into()),
            ..System::default()
        };
        let out = compute(&t, &system).unwrap();
        let passwd = out.files.iter().find(|(e, _)| e.path == "etc/passwd").unwrap();
        assert_eq!(
            String::from_utf8_lossy(&passwd.1),
            "root:*:0:0:root:/root:/usr/sbin/nologin\nnobody:*:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n"
        );
        // Without it, root keeps /bin/bash as dpkg would leave it; a fallback the image lacks is an error.
        let out = compute(&t, &System::default()).unwrap();
        let passwd = out.files.iter().find(|(e, _)| e.path == "etc/passwd").unwrap();
        assert!(String::from_utf8_lossy(&passwd.1).starts_with("root:*:0:0:root:/root:/bin/bash\n"));
        let missing = System {
            fallback_shell: Some("/sbin/nologin".into()),
            ..System::default()
        };
        let err = compute(&tree(), &missing).unwrap_err().to_string();
        assert!(
            err.contains("fallback-shell `/sbin/nologin` is not a file in the image"),
            "{err}"
        );
    }

    #[test]
    fn master_files_are_copied_and_shadow_is_left_to_shadowconfig() {
        let out = compute(&tree(), &System::default()).unwrap();
        let mut m = MemTree::new();
        m.apply(&out);
        assert_eq!(
            m.text("etc/passwd"),
            tree().text("usr/share/base-passwd/passwd.master")
        );
        assert_eq!(
            m.text("etc/group"),
            tree().text("usr/share/base-passwd/group.master")
        );
        assert!(
            !out.files.iter().any(|(e, _)| e.path.contains("shadow")
                || e.path.ends_with('-')
                || e.path == "etc/.pwd.lock")
        );
    }

    #[test]
    fn manifest_users_get_homes() {
        let sys = System {
            groups: vec![Group {
                name: "app".into(),
                gid: 1000,
                members: vec![],
            }],
            users: vec![User {
                name: "app".into(),
                uid: 1000,
                gid: 1000,
                home: None,
                shell: None,
                gecos: None,
            }],
            ..Default::default()
        };
        let out = compute(&tree(), &sys).unwrap();
        let mut m = MemTree::new();
        m.apply(&out);
        assert!(
            m.text("etc/passwd")
                .ends_with("app:!:1000:1000::/home/app:/bin/sh\n")
        );
        assert!(m.text("etc/group").ends_with("app:!:1000:\n"));
        let h = &m.entries["home/app"].0;
        assert_eq!(
            (h.uid, h.gid, h.mode, h.uname.as_str()),
            (1000, 1000, 0o755, "app")
        );
        let mut dup = sys.clone();
        dup.users[0].uid = 0;
        assert!(compute(&tree(), &dup).is_err());
    }
}
