//! `shadowconfig on` (passwd's postinst, on a new install): `pwconv` then `grpconv`, then the
//! owners and modes it sets. It runs where passwd is configured, so accounts made before (by
//! `systemd-sysusers` of a package configured earlier, which writes shadow entries of its own)
//! are in the shadow files before pwconv adds the others, in that order, as on a real install.
//!
//! What the tools do, as facts from shadow's `pwconv.c`/`grpconv.c` (4.13):
//! - pwconv removes shadow entries whose user is gone; then per passwd entry, in order: one with
//!   a shadow entry and the password `x` is left alone; otherwise the shadow entry (an existing
//!   one, or a new one appended with login.defs' PASS_MIN_DAYS, PASS_MAX_DAYS, PASS_WARN_AGE, each
//!   empty if unset) takes the passwd field as password and the day of SOURCE_DATE_EPOCH as last
//!   change (empty if 0), and the passwd field becomes `x`. `passwd-` is then chmodded 0600.
//! - grpconv does the same for groups, except that every group is updated (no skip on `x`): its
//!   gshadow entry keeps its password and administrators when the group's password is `x`, and
//!   takes the group's members.
//! - `shadowconfig` then makes passwd and group root:root 0644, shadow and gshadow
//!   root:shadow 0640. (Its chroot-less branch for untouched master files writes the same bytes.)

use super::super::{Changes, Overlay, Owner, TreeView};
use super::db::{Db, FILES};
use super::login_defs;
use crate::entry::EntryKind;

/// Debian's static gid of the `shadow` group (base-passwd), used if `etc/group` lacks it.
const SHADOW_GID: u32 = 42;

/// Applies `shadowconfig on` to the account files of the overlay.
pub(super) fn shadowconfig_on(overlay: &mut Overlay<'_>, day: u64) -> Result<(), String> {
    let mut db = Db::load(overlay)?;
    let defs = login_defs(overlay);
    let aging = |key: &str| {
        defs.get(key)
            .and_then(|v| v.parse::<i64>().ok())
            .filter(|n| *n >= 0)
            .map(|n| n.to_string())
            .unwrap_or_default()
    };
    let last_change = if day == 0 { String::new() } else { day.to_string() };

    // pwconv: one tool run over passwd and shadow.
    let before = db.start_tool();
    let mut shadow = db.shadow.take().unwrap_or_default();
    let shadow_existed = before[2].is_some();
    let users: Vec<String> = db.passwd.iter().map(|r| r[0].clone()).collect();
    let stale = shadow.len();
    shadow.retain(|r| users.contains(&r[0]));
    let mut changed = stale != shadow.len();
    for row in &mut db.passwd {
        let password = row.get(1).cloned().unwrap_or_default();
        let entry = match shadow.iter().position(|s| s[0] == row[0]) {
            Some(_) if password == "x" => continue,
            Some(i) => &mut shadow[i],
            None => {
                shadow.push(vec![
                    row[0].clone(),
                    String::new(),
                    String::new(),
                    aging("PASS_MIN_DAYS"),
                    aging("PASS_MAX_DAYS"),
                    aging("PASS_WARN_AGE"),
                    String::new(),
                    String::new(),
                    String::new(),
                ]);
                let last = shadow.len() - 1;
                &mut shadow[last]
            }
        };
        entry.resize(entry.len().max(9), String::new());
        entry[1] = password;
        entry[2] = last_change.clone();
        if row.len() > 1 {
            row[1] = "x".into();
        }
        changed = true;
    }
    // commonio writes a file only when an entry changed (a new shadow file too).
    if changed || shadow_existed {
        db.shadow = Some(shadow);
    }
    db.finish_rewriting_tool(before, if changed { &[0, 2] } else { &[] });
    if changed {
        // pwconv chmods the backup `passwd-` 0600.
        db.set_backup_mask(0, 0o600);
    }

    // grpconv: one tool run over group and gshadow; every group is updated.
    let before = db.start_tool();
    let mut gshadow = db.gshadow.take().unwrap_or_default();
    let groups: Vec<String> = db.group.iter().map(|r| r[0].clone()).collect();
    gshadow.retain(|r| groups.contains(&r[0]));
    for row in &mut db.group {
        let password = row.get(1).cloned().unwrap_or_default();
        let members = row.get(3).cloned().unwrap_or_default();
        match gshadow.iter_mut().find(|s| s[0] == row[0]) {
            Some(entry) => {
                entry.resize(entry.len().max(4), String::new());
                if password != "x" {
                    entry[1] = password;
                }
                entry[3] = members;
            }
            None => gshadow.push(vec![row[0].clone(), password, String::new(), members]),
        }
        if row.len() > 1 {
            row[1] = "x".into();
        }
    }
    db.gshadow = Some(gshadow);
    if !db.group.is_empty() {
        db.finish_rewriting_tool(before, &[1, 3]);
    }
    db.store(overlay);

    // shadowconfig's chown and chmod.
    let shadow_gid = db.gid_of("shadow").unwrap_or(SHADOW_GID);
    let root = Owner {
        uid: 0,
        gid: 0,
        uname: "root".into(),
        gname: "root".into(),
    };
    let shadow_owner = Owner {
        uid: 0,
        gid: shadow_gid,
        uname: "root".into(),
        gname: "shadow".into(),
    };
    let mut c = Changes::default();
    for (path, mode, owner) in [
        (FILES[0], 0o644, &root),
        (FILES[1], 0o644, &root),
        (FILES[2], 0o640, &shadow_owner),
        (FILES[3], 0o640, &shadow_owner),
    ] {
        let Some(mut entry) = overlay.entry(path).cloned() else {
            continue;
        };
        if !matches!(entry.kind, EntryKind::File { .. }) {
            continue;
        }
        let content = super::super::read_file(overlay, path)
            .map_err(|e| e.to_string())?
            .unwrap_or_default();
        entry.mode = mode;
        owner.apply(&mut entry);
        c.files.push((entry, content));
    }
    overlay.apply(c);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::super::testutil::MemTree;
    use super::*;

    const LOGIN_DEFS: &[u8] = b"PASS_MAX_DAYS\t99999\nPASS_MIN_DAYS\t0\nPASS_WARN_AGE\t7\n";

    /// base-passwd's master files as its postinst copies them.
    fn master() -> MemTree {
        let mut t = MemTree::new();
        t.file(
            "etc/passwd",
            b"root:*:0:0:root:/root:/bin/bash\nnobody:*:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n",
        )
        .file("etc/group", b"root:*:0:\nshadow:*:42:\nnogroup:*:65534:\n")
        .file("etc/login.defs", LOGIN_DEFS);
        t
    }

    fn on(t: &MemTree, day: u64) -> MemTree {
        let mut o = Overlay::new(t);
        shadowconfig_on(&mut o, day).unwrap();
        let (files, removed) = o.into_changes();
        let mut m = t.clone();
        m.apply(&Changes { files, removed });
        m
    }

    #[test]
    fn on_master_files_it_writes_what_the_chrootless_branch_writes() {
        let m = on(&master(), 19000);
        assert_eq!(
            m.text("etc/passwd"),
            "root:x:0:0:root:/root:/bin/bash\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n"
        );
        assert_eq!(m.text("etc/group"), "root:x:0:\nshadow:x:42:\nnogroup:x:65534:\n");
        assert_eq!(
            m.text("etc/shadow"),
            "root:*:19000:0:99999:7:::\nnobody:*:19000:0:99999:7:::\n"
        );
        assert_eq!(m.text("etc/gshadow"), "root:*::\nshadow:*::\nnogroup:*::\n");
        let e = &m.entries["etc/shadow"].0;
        assert_eq!((e.mode, e.uid, e.gid, e.gname.as_str()), (0o640, 0, 42, "shadow"));
        // The backups of the rewritten passwd and group (passwd- 0600), the lock; the shadow
        // files are new, so they have none.
        assert_eq!(m.text("etc/passwd-"), master().text("etc/passwd"));
        assert_eq!(m.text("etc/group-"), master().text("etc/group"));
        let mode = |p: &str| m.entries[p].0.mode;
        assert_eq!(
            (mode("etc/passwd-"), mode("etc/group-"), mode("etc/.pwd.lock")),
            (0o600, 0o644, 0o600)
        );
        assert!(!m.entries.contains_key("etc/shadow-") && !m.entries.contains_key("etc/gshadow-"));
    }

    #[test]
    fn accounts_made_before_keep_their_place_and_entries() {
        // systemd-sysusers ran first (systemd configured before passwd): its entries are the
        // first of shadow files it created 0000; a stale entry and an updated password too.
        let mut t = master();
        t.file(
            "etc/passwd",
            b"root:*:0:0:root:/root:/bin/bash\nnobody:*:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\nsystemd-network:x:998:998::/:/usr/sbin/nologin\n",
        )
        .file(
            "etc/group",
            b"root:*:0:\nshadow:*:42:\nnogroup:*:65534:\nsystemd-network:x:998:u1,u2\n",
        )
        .file("etc/shadow", b"gone:!*:19000::::::\nsystemd-network:!*:19675::::::\n")
        .file("etc/gshadow", b"systemd-network:!*::\n");
        for f in ["etc/shadow", "etc/gshadow"] {
            if let Some((e, _)) = t.entries.get_mut(f) {
                e.mode = 0;
            }
        }
        let m = on(&t, 19500);
        assert_eq!(
            m.text("etc/shadow"),
            "systemd-network:!*:19675::::::\nroot:*:19500:0:99999:7:::\nnobody:*:19500:0:99999:7:::\n"
        );
        assert_eq!(
            m.text("etc/gshadow"),
            "systemd-network:!*::u1,u2\nroot:*::\nshadow:*::\nnogroup:*::\n"
        );
        assert_eq!(m.text("etc/shadow-"), t.text("etc/shadow"));
        assert_eq!(m.entries["etc/shadow-"].0.mode, 0);
        let e = &m.entries["etc/gshadow"].0;
        assert_eq!((e.mode, e.gid), (0o640, 42));
    }

    #[test]
    fn converted_files_are_left_alone_and_unset_aging_stays_empty() {
        let done = on(&master(), 19000);
        let again = on(&done, 19500);
        // Every user has a shadow entry and `x`: pwconv changes nothing (no new passwd backup).
        assert_eq!(again.text("etc/shadow"), done.text("etc/shadow"));
        assert_eq!(again.text("etc/passwd-"), done.text("etc/passwd-"));
        let mut bare = master();
        bare.entries.remove("etc/login.defs");
        let m = on(&bare, 0);
        assert_eq!(m.text("etc/shadow"), "root:*:::::::\nnobody:*:::::::\n");
    }
}
