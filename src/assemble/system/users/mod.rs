//! Accounts made by maintainer scripts: `adduser`/`addgroup` (Debian's adduser 3.134), the
//! shadow tools they call, `useradd`/`groupadd`/`usermod -a -G`/`chfn`, applied in script order
//! to the image's `etc/{passwd,group,shadow,gshadow}` (as [`super::accounts`] left them),
//! `systemd-sysusers` (`sysusers`), and passwd's `shadowconfig on` (`shadowconfig`). Each tool run that changes a file leaves its backup `FILE-`
//! (the content before the run) and `/etc/.pwd.lock`, as the tools do.
//!
//! What the tools do, as facts from their sources:
//! - adduser reads `/etc/adduser.conf` over its built-in defaults (FIRST_SYSTEM_UID 100,
//!   LAST_SYSTEM_UID 999, the same for gids, FIRST_UID/FIRST_GID 1000, LAST_UID/LAST_GID 59999,
//!   DHOME /home, SHELL /bin/bash, DIR_MODE 0700, SYS_DIR_MODE 0755, USERGROUPS yes) and takes
//!   the **lowest** free id of the range, ascending.
//! - `adduser --system NAME`: an existing user is left alone; the primary group is `nogroup`
//!   unless `--group` (a new group of the same name, its gid allocated separately), `--ingroup`
//!   or `--gid`; home `/nonexistent`, shell `/usr/sbin/nologin`; it runs `groupadd -g GID NAME`,
//!   `useradd -r -d HOME -g GROUP -s SHELL -u UID NAME`, `chfn -f COMMENT NAME` for `--gecos`/
//!   `--comment`, then makes the home (unless `/nonexistent` or `--no-create-home`): parents
//!   0755 root, the home itself owned by the user and its primary group, SYS_DIR_MODE.
//! - `adduser USER GROUP` runs `usermod -a -G GROUP USER`.
//! - useradd writes `NAME:x:UID:GID:GECOS:HOME:SHELL`, and in `/etc/shadow` the password `!`, the
//!   last-change day (SOURCE_DATE_EPOCH / 86400; empty if 0) and, for `-r`, empty aging fields
//!   (otherwise login.defs' 0, 99999, 7). It allocates a system uid from SYS_UID_MAX downwards
//!   (below the lowest used id of the range, else the highest free one) and a user's own group
//!   (USERGROUPS_ENAB, no `-g`) at the uid if that gid is free. groupadd writes `NAME:x:GID:`
//!   and `NAME:!::`.
//! - chfn rebuilds the gecos as `NAME,ROOM,WORK,HOME[,OTHER]` (`chfn -f X` on an empty gecos
//!   gives `X,,,`).

mod adduser;
mod db;
mod shadowconfig;
mod sysusers;
#[cfg(test)]
mod tests;
mod useradd;

use crate::entry::Entry;

use super::{Changes, Overlay, TreeView};
use adduser::adduser;
use db::{id_of, login_defs};
pub use useradd::UserFields;
use useradd::{groupadd, parse_chfn, parse_passwd, parse_usermod, useradd};

pub use adduser::AdduserConf;
pub use db::{Db, LoginDefs, PWD_LOCK, adduser_allocate, shadow_allocate};
pub use sysusers::{SysusersCall, parse_sysusers};
pub use useradd::{GroupaddCall, UseraddCall, parse_groupadd, parse_useradd};

/// Commands this module applies (adduser/addgroup in any form it models; the shadow tools).
/// The package that ships an account tool in Debian, for a script that runs one the image does
/// not have.
pub fn providing_package(tool: &str) -> Option<&'static str> {
    match tool {
        "adduser" | "addgroup" => Some("adduser"),
        "useradd" | "groupadd" | "usermod" | "chfn" | "passwd" => Some("passwd"),
        "systemd-sysusers" => Some("systemd (or systemd-standalone-sysusers)"),
        _ => None,
    }
}

pub fn handles(argv0: &str, args: &[String]) -> bool {
    match argv0 {
        "adduser" | "addgroup" | "useradd" | "groupadd" => true,
        "shadowconfig" => args == ["on"],
        "systemd-sysusers" => parse_sysusers(args).is_ok(),
        "usermod" => parse_usermod(args).is_some(),
        "chfn" => parse_chfn(args).is_some(),
        "passwd" => parse_passwd(args).is_some(),
        _ => false,
    }
}

/// Whether `getent DATABASE KEY…` succeeds against the image's account files, as a condition
/// (`getent group crontab >/dev/null || addgroup --system crontab`): every key names an entry
/// (by name, or by number in `passwd` and `group`); no key lists the database, which succeeds.
/// `None` for databases that are not the account files (hosts, services: the runtime's).
pub fn getent(tree: &dyn TreeView, args: &[String]) -> Option<bool> {
    let (_, keys) = args.split_first()?;
    let printed = getent_lines(tree, args)?;
    Some(keys.iter().all(|k| printed.iter().any(|(key, _)| key == k)))
}

/// What `getent DATABASE KEY…` prints from the image's account files (tor's postinst reads the
/// uid off `getent passwd debian-tor | cut -d: -f3`): the entry of each key found, in the order
/// of the keys, or the whole database without keys; `None` as for [`getent`].
pub fn getent_output(tree: &dyn TreeView, args: &[String]) -> Option<String> {
    let lines = getent_lines(tree, args)?;
    Some(lines.into_iter().map(|(_, line)| line + "\n").collect())
}

/// What `id` answers from the image's account files.
#[derive(Debug, PartialEq, Eq)]
pub enum IdAnswer {
    /// The user does not exist: id fails.
    NoSuchUser,
    /// The user exists; what it prints, where this form is reproduced.
    Exists(Option<String>),
    /// Not decided (the account file cannot be read, several users, no user).
    Unknown,
}

/// `id [-u|-g|-un|-gn] USER` from the image's account files (jetty9's postinst writes authbind's
/// `/etc/authbind/byuid/$(id -u jetty)`).
pub fn id_output(tree: &dyn TreeView, args: &[String]) -> IdAnswer {
    let (flags, users): (Vec<&String>, Vec<&String>) = args.iter().partition(|a| a.starts_with('-'));
    let [user] = users.as_slice() else {
        return IdAnswer::Unknown;
    };
    let line = match passwd_line(tree, user) {
        Some(Some(line)) => line,
        Some(None) => return IdAnswer::NoSuchUser,
        None => return IdAnswer::Unknown,
    };
    let flags: String = flags.iter().map(|f| f.trim_start_matches('-')).collect();
    let fields: Vec<&str> = line.split(':').collect();
    let (Some(name), Some(uid), Some(gid)) = (fields.first(), fields.get(2), fields.get(3)) else {
        return IdAnswer::Exists(None);
    };
    let group_name = || super::account(tree, "etc/group", gid).ok().map(|(_, n)| n);
    IdAnswer::Exists(match flags.as_str() {
        "u" => Some(format!("{uid}\n")),
        "g" => Some(format!("{gid}\n")),
        "un" | "nu" => Some(format!("{name}\n")),
        "gn" | "ng" => group_name().map(|n| format!("{n}\n")),
        _ => None,
    })
}

/// The `/etc/passwd` line of a user by name or number; `None` when the file cannot be read.
fn passwd_line(tree: &dyn TreeView, user: &str) -> Option<Option<String>> {
    let text = match super::read_file(tree, "etc/passwd") {
        Ok(Some(bytes)) => String::from_utf8_lossy(&bytes).into_owned(),
        Ok(None) => String::new(),
        Err(_) => return None,
    };
    let numeric = !user.is_empty() && user.bytes().all(|b| b.is_ascii_digit());
    Some(
        text.lines()
            .find(|l| {
                let mut f = l.split(':');
                let name = f.next();
                let uid = f.nth(1);
                name == Some(user) || (numeric && uid == Some(user))
            })
            .map(str::to_owned),
    )
}

/// Per key found (the database's whole content without keys), the key and its entry's line.
fn getent_lines(tree: &dyn TreeView, args: &[String]) -> Option<Vec<(String, String)>> {
    let (db, keys) = args.split_first()?;
    let (file, numbered) = match db.as_str() {
        "passwd" => ("etc/passwd", true),
        "group" => ("etc/group", true),
        "shadow" => ("etc/shadow", false),
        "gshadow" => ("etc/gshadow", false),
        _ => return None,
    };
    if keys.iter().any(|k| k.starts_with('-')) {
        return None;
    }
    let text = match super::read_file(tree, file) {
        Ok(Some(bytes)) => String::from_utf8_lossy(&bytes).into_owned(),
        Ok(None) => String::new(),
        Err(_) => return None,
    };
    if keys.is_empty() {
        return Some(text.lines().map(|l| (String::new(), l.to_owned())).collect());
    }
    let entry = |key: &str| {
        text.lines().find(|l| {
            let mut f = l.split(':');
            let name = f.next();
            let id = f.nth(1);
            name == Some(key)
                || (numbered && !key.is_empty() && key.bytes().all(|b| b.is_ascii_digit()) && id == Some(key))
        })
    };
    Some(
        keys.iter()
            .filter_map(|k| entry(k).map(|l| (k.clone(), l.to_owned())))
            .collect(),
    )
}

/// Marks a failure that is the tool's "already exists": it exits without changing anything,
/// which is the effect reproduced (scripts guard these calls with `getent` or `|| true`).
const EXISTS: &str = "\u{0}exists: ";

fn exists(message: String) -> String {
    format!("{EXISTS}{message}")
}

/// What the image's useradd does to `/var/log/lastlog` and `/var/log/faillog` for a new uid
/// (without `-l`): shadow before 4.13 (bullseye's 4.8.1) writes a zeroed record at the uid's
/// offset wherever the file exists, extending it (`_apt`'s uid 100 leaves 101 records); 4.13
/// and later (bookworm) write only inside the file as it is, which in a fresh image changes
/// nothing (shadow's "Do not reset non-existent data in {last,fail}log").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogInit {
    /// Nothing to write.
    Unchanged,
    /// Records of these sizes (glibc's `struct faillog`, `struct lastlog`) are written.
    Records { faillog: u64, lastlog: u64 },
    /// An older useradd on an architecture whose record sizes debcast does not know.
    Unknown,
}

impl LogInit {
    /// From the image's `passwd` package (useradd's), by its upstream version and architecture.
    pub fn of(packages: &[crate::assemble::system::InstalledPackage]) -> LogInit {
        let Some(passwd) = packages.iter().find(|p| p.name == "passwd") else {
            return LogInit::Unchanged;
        };
        let upstream = crate::debian::version::upstream(&passwd.version);
        if crate::debian::version::compare(upstream, "4.13") != std::cmp::Ordering::Less {
            return LogInit::Unchanged;
        }
        // `struct faillog` is 2 + 2 + 12 bytes, time_t and long; `struct lastlog` a 32-bit time
        // where glibc keeps utmp compatible with 32-bit programs (x86-64's
        // __WORDSIZE_TIME64_COMPAT32), else time_t, then 32 + 256 bytes (aarch64: 8 + 288).
        match passwd.architecture.as_str() {
            "amd64" => LogInit::Records {
                faillog: 32,
                lastlog: 292,
            },
            "arm64" => LogInit::Records {
                faillog: 32,
                lastlog: 296,
            },
            _ => LogInit::Unknown,
        }
    }
}

/// Applies one account command to the overlay; `Err` is why it was not (the report says so).
pub fn apply(
    overlay: &mut Overlay<'_>,
    name: &str,
    args: &[String],
    day: u64,
    log_init: LogInit,
) -> Result<(), String> {
    if name == "systemd-sysusers" {
        return sysusers::apply(overlay, args, day);
    }
    if name == "shadowconfig" {
        return shadowconfig::shadowconfig_on(overlay, day);
    }
    match apply_inner(overlay, name, args, day, log_init) {
        Err(e) if e.starts_with(EXISTS) => Ok(()),
        other => other,
    }
}

/// useradd's reset of a new uid's records in the log files that exist ([`LogInit`]): zeros at
/// the uid's offset, the file extended to hold them. The files keep their owner and mode.
fn reset_log_records(overlay: &mut Overlay<'_>, uids: &[u32], log_init: LogInit) -> Result<(), String> {
    let (faillog, lastlog) = match log_init {
        LogInit::Unchanged => return Ok(()),
        LogInit::Records { faillog, lastlog } => (faillog, lastlog),
        LogInit::Unknown => {
            let files: Vec<&str> = ["var/log/faillog", "var/log/lastlog"]
                .into_iter()
                .filter(|f| super::is_file(overlay, f))
                .collect();
            if uids.is_empty() || files.is_empty() {
                return Ok(());
            }
            return Err(format!(
                "the records useradd resets in /{} for uid {uids:?} are not reproduced on this architecture",
                files.join(" and /")
            ));
        }
    };
    for (file, size) in [("var/log/faillog", faillog), ("var/log/lastlog", lastlog)] {
        let Some(entry) = overlay
            .entry(file)
            .filter(|e| matches!(e.kind, crate::entry::EntryKind::File { .. }))
            .cloned()
        else {
            continue;
        };
        let mut bytes = super::read_file(overlay, file)
            .map_err(|e| e.to_string())?
            .unwrap_or_default();
        for &uid in uids {
            let start =
                usize::try_from(u64::from(uid) * size).map_err(|_| format!("uid {uid} is too large"))?;
            let end = start + usize::try_from(size).map_err(|_| "record size")?;
            if bytes.len() < end {
                bytes.resize(end, 0);
            }
            bytes[start..end].fill(0);
        }
        let mut changed = entry;
        changed.kind = crate::entry::EntryKind::File {
            size: bytes.len() as u64,
        };
        overlay.apply(Changes {
            files: vec![(changed, bytes)],
            removed: vec![],
        });
    }
    Ok(())
}

/// `usermod -m -d NEW USER` (dh-sysuser's `usermod --move-home --home /nonexistent`): with a new
/// home, shadow's usermod moves the old one there when it exists. Only the case where there is
/// nothing to move (no old home, no new one) is reproduced: the field changes, as without `-m`.
fn check_move_home(db: &Db, tree: &dyn TreeView, call: &useradd::Usermod) -> Result<(), String> {
    let Some(new) = &call.fields.home else {
        return Err("usermod -m without -d".into());
    };
    let old = db
        .passwd
        .iter()
        .find(|r| r[0] == call.user)
        .and_then(|r| r.get(5).cloned())
        .ok_or_else(|| format!("user `{}` does not exist", call.user))?;
    let new = if new.len() > 1 {
        new.strip_suffix('/').unwrap_or(new)
    } else {
        new
    };
    if old == new {
        return Ok(());
    }
    if super::exists(tree, &super::tree_path(&old)) && !super::exists(tree, &super::tree_path(new)) {
        return Err(format!(
            "moving the home directory {old} to {new} is not reproduced"
        ));
    }
    Ok(())
}

/// `usermod -m -d NEW USER` where NEW differs from the user's home and is already there.
fn new_home_there(db: &Db, tree: &dyn TreeView, call: &useradd::Usermod) -> Option<String> {
    let new = call.fields.home.as_deref()?;
    let new = if new.len() > 1 {
        new.strip_suffix('/').unwrap_or(new)
    } else {
        new
    };
    let old = db.passwd.iter().find(|r| r[0] == call.user)?.get(5)?;
    (old != new && super::exists(tree, &super::tree_path(new))).then(|| new.to_owned())
}

fn apply_inner(
    overlay: &mut Overlay<'_>,
    name: &str,
    args: &[String],
    day: u64,
    log_init: LogInit,
) -> Result<(), String> {
    let mut db = Db::load(overlay)?;
    let mut homes = Vec::new();
    match name {
        "adduser" | "addgroup" => adduser(&mut db, overlay, name, args, day, &mut homes)?,
        "useradd" => {
            let call = parse_useradd(args)?;
            useradd(&mut db, &call, day, Some(&login_defs(overlay)))?;
            if call.create_home {
                let defs = login_defs(overlay);
                let mode = defs.home_mode();
                let (uid, gid) = db.ids_of(&call.name).ok_or("the user was not written")?;
                homes.push(Home {
                    path: call
                        .home
                        .clone()
                        .unwrap_or_else(|| format!("/home/{}", call.name)),
                    uid,
                    gid,
                    mode,
                });
            }
        }
        "groupadd" => {
            let call = parse_groupadd(args)?;
            groupadd(&mut db, &call.name, call.gid, call.system, &login_defs(overlay))?;
        }
        "usermod" => {
            let call = parse_usermod(args).ok_or("unsupported usermod form")?;
            if call.move_home {
                check_move_home(&db, overlay, &call)?;
                // A new home already there: usermod writes the account files first, then
                // refuses to move (status 12).
                if let Some(new) = new_home_there(&db, overlay, &call) {
                    useradd::usermod(&mut db, &call, day)?;
                    db.store(overlay);
                    return Err(format!("usermod: directory {new} exists"));
                }
            }
            useradd::usermod(&mut db, &call, day)?
        }
        "chfn" => {
            let call = parse_chfn(args).ok_or("unsupported chfn form")?;
            let fields = [
                &call.full_name,
                &call.room,
                &call.work_phone,
                &call.home_phone,
                &call.other,
            ]
            .map(|f| f.as_deref());
            useradd::chfn(&mut db, &call.user, fields)?;
        }
        "passwd" => {
            let call = parse_passwd(args).ok_or("unsupported passwd form")?;
            useradd::passwd_lock(&mut db, &call)?;
        }
        _ => return Err("not an account command".into()),
    }
    db.store(overlay);
    for h in homes {
        make_home(overlay, &db, &h)?;
    }
    reset_log_records(overlay, &db.log_resets, log_init)
}

/// A home directory to make after the account files are written.
struct Home {
    path: String,
    uid: u32,
    gid: u32,
    mode: u32,
}

/// adduser's `create_homedir` without the skeleton: missing parents 0755 root, the home owned by
/// the user; an existing path is left untouched.
fn make_home(overlay: &mut Overlay<'_>, db: &Db, h: &Home) -> Result<(), String> {
    let path = super::tree_path(&h.path);
    if path.is_empty() || super::resolve(overlay, &path).is_some() {
        return Ok(());
    }
    let comps: Vec<&str> = path.split('/').collect();
    let mut c = Changes::default();
    let mut here = String::new();
    for (i, comp) in comps.iter().enumerate() {
        if !here.is_empty() {
            here.push('/');
        }
        here.push_str(comp);
        let last = i + 1 == comps.len();
        match super::resolve(overlay, &here) {
            Some(real) if !last => {
                if !(real.is_empty() || overlay.entry(&real).is_some_and(Entry::is_dir)) {
                    return Err(format!("cannot create {}: /{here} is not a directory", h.path));
                }
                here = real;
            }
            Some(_) => return Ok(()),
            None if overlay.entry(&here).is_some() => {
                return Err(format!("cannot create {}: /{here} is a dangling link", h.path));
            }
            None if last => {
                let uname = db
                    .passwd
                    .iter()
                    .find(|r| id_of(r) == Some(h.uid))
                    .map(|r| r[0].clone())
                    .unwrap_or_else(|| h.uid.to_string());
                let gname = db.group_name(h.gid).unwrap_or_else(|| h.gid.to_string());
                c.dir_owned(
                    &here,
                    h.mode,
                    super::Owner {
                        uid: h.uid,
                        gid: h.gid,
                        uname,
                        gname,
                    },
                );
            }
            None => {
                c.dir(&here, 0o755);
                overlay.apply(std::mem::take(&mut c));
            }
        }
    }
    overlay.apply(c);
    Ok(())
}
