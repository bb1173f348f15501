//! adduser/addgroup: their configuration (`/etc/adduser.conf`), argument forms, name check, and
//! the system/normal user and group paths (which call the shadow tools' effects).

use super::super::TreeView;
use super::db::{Db, LoginDefs, adduser_allocate, id_of, login_defs};
use super::useradd::{UseraddCall, chfn, groupadd, useradd};
use super::{Home, exists};
/// adduser's `ch_comment`: `chfn -f` alone, or split at commas into -f/-r/-w/-h/-o calls.
fn ch_comment(db: &mut Db, user: &str, comment: &str) -> Result<(), String> {
    if !comment.contains(',') {
        return chfn(db, user, [Some(comment), None, None, None, None]);
    }
    // Perl's split drops trailing empty fields.
    let mut p: Vec<&str> = comment.split(',').collect();
    while p.last() == Some(&"") {
        p.pop();
    }
    let get = |i: usize| p.get(i).copied();
    chfn(
        db,
        user,
        [
            Some(get(0).unwrap_or("")),
            Some(get(1).unwrap_or("")),
            None,
            None,
            None,
        ],
    )?;
    for i in 2..5 {
        if let Some(v) = get(i) {
            let mut f = [None; 5];
            f[i] = Some(v);
            chfn(db, user, f)?;
        }
    }
    Ok(())
}

/// adduser's configuration: built-in defaults, then `/etc/adduser.conf`.
#[derive(Debug, Clone)]
pub struct AdduserConf {
    pub first_system_uid: u32,
    pub last_system_uid: u32,
    pub first_system_gid: u32,
    pub last_system_gid: u32,
    pub first_uid: u32,
    pub last_uid: u32,
    pub first_gid: u32,
    pub last_gid: u32,
    pub dhome: String,
    pub dshell: String,
    pub dir_mode: String,
    pub sys_dir_mode: String,
    pub setgid_home: bool,
    pub usergroups: bool,
    pub users_gid: Option<i64>,
    pub users_group: Option<String>,
}

impl Default for AdduserConf {
    fn default() -> Self {
        AdduserConf {
            first_system_uid: 100,
            last_system_uid: 999,
            first_system_gid: 100,
            last_system_gid: 999,
            first_uid: 1000,
            last_uid: 59999,
            first_gid: 1000,
            last_gid: 59999,
            dhome: "/home".into(),
            dshell: "/bin/bash".into(),
            dir_mode: "0700".into(),
            sys_dir_mode: "0755".into(),
            setgid_home: false,
            usergroups: true,
            users_gid: None,
            users_group: None,
        }
    }
}

impl AdduserConf {
    /// Reads `VAR = value` lines (quotes stripped, names case-insensitive) over the defaults.
    pub fn parse(text: &str) -> AdduserConf {
        let mut c = AdduserConf::default();
        for line in text.lines() {
            if line.starts_with('#') || line.trim().is_empty() {
                continue;
            }
            let Some((var, val)) = line.split_once('=') else {
                continue;
            };
            let var = var.trim().to_ascii_lowercase();
            let mut val = val.trim_start().to_owned();
            for q in ['"', '\''] {
                if val.len() >= 2 && val.starts_with(q) && val.ends_with(q) {
                    val = val[1..val.len() - 1].to_owned();
                }
            }
            let n = || perl_num(&val);
            match var.as_str() {
                "first_system_uid" => c.first_system_uid = n(),
                "last_system_uid" => c.last_system_uid = n(),
                "first_system_gid" => c.first_system_gid = n(),
                "last_system_gid" => c.last_system_gid = n(),
                "first_uid" => c.first_uid = n(),
                "last_uid" => c.last_uid = n(),
                "first_gid" => c.first_gid = n(),
                "last_gid" => c.last_gid = n(),
                "dhome" => c.dhome = val,
                "dshell" => c.dshell = val,
                "dir_mode" => c.dir_mode = val,
                "sys_dir_mode" => c.sys_dir_mode = val,
                "setgid_home" => c.setgid_home = val.to_ascii_lowercase().contains("yes"),
                "usergroups" => c.usergroups = val.to_ascii_lowercase().contains("yes"),
                "users_gid" => c.users_gid = val.trim().parse().ok(),
                "users_group" => c.users_group = Some(val),
                _ => {}
            }
        }
        c
    }

    /// adduser's `get_dir_mode`.
    fn dir_mode(&self, system: bool) -> u32 {
        let mut mode = if system {
            self.sys_dir_mode.clone()
        } else {
            self.dir_mode.clone()
        };
        let octal_run = |m: &str, n: usize| {
            m.as_bytes()
                .windows(n)
                .any(|w| w.iter().all(|b| (b'0'..=b'7').contains(b)))
        };
        if !(octal_run(&mode, 3) || octal_run(&mode, 4)) {
            mode = if system { "755".into() } else { "0700".into() };
        }
        let digits = |m: &str| u32::from_str_radix(m.trim(), 8).unwrap_or(0);
        let b = mode.as_bytes();
        let four_low = b.len() == 4
            && matches!(b[0], b'0' | b'1' | b'4' | b'5')
            && b[1..].iter().all(|c| (b'0'..=b'7').contains(c));
        if self.setgid_home && (mode.len() == 3 || four_low) {
            // Perl adds 2000 to the decimal reading, then reads that as octal.
            let dec: u32 = mode.trim().parse().unwrap_or(0) + 2000;
            return digits(&dec.to_string());
        }
        digits(&mode)
    }
}

/// A leading number as Perl reads a string in numeric context.
fn perl_num(s: &str) -> u32 {
    let t = s.trim();
    let end = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    t[..end].parse().unwrap_or(0)
}
/// adduser's options (Getopt::Long: `--opt`/`-opt`, `=VALUE` or the next word, unique prefixes).
#[derive(Debug, Default, Clone)]
pub(super) struct AdduserArgs {
    pub(super) system: bool,
    pub(super) group: bool,
    pub(super) ingroup: Option<String>,
    pub(super) home: Option<String>,
    pub(super) shell: Option<String>,
    pub(super) comment: Option<String>,
    pub(super) no_create_home: bool,
    pub(super) uid: Option<u32>,
    pub(super) gid: Option<u32>,
    pub(super) firstuid: Option<u32>,
    pub(super) lastuid: Option<u32>,
    pub(super) firstgid: Option<u32>,
    pub(super) lastgid: Option<u32>,
    pub(super) name_check: u8,
    pub(super) disabled_login: bool,
    pub(super) conf: Vec<String>,
    pub(super) names: Vec<String>,
}

const ADDUSER_OPTS: &[(&str, bool)] = &[
    ("add-extra-groups", false),
    ("add_extra_groups", false),
    ("allow-all-names", false),
    ("allow-badname", false),
    ("allow-bad-names", false),
    ("comment", true),
    ("conf", true),
    ("c", true),
    ("debug", false),
    ("disabled-login", false),
    ("disabled-password", false),
    ("firstgid", true),
    ("firstuid", true),
    ("force-badname", false),
    ("gecos", true),
    ("gid", true),
    ("group", false),
    ("home", true),
    ("ingroup", true),
    ("lastgid", true),
    ("lastuid", true),
    ("no-create-home", false),
    ("quiet", false),
    ("q", false),
    ("shell", true),
    ("system", false),
    ("uid", true),
    ("verbose", false),
];

pub(super) fn parse_adduser(args: &[String]) -> Result<AdduserArgs, String> {
    let mut a = AdduserArgs::default();
    let mut it = args.iter();
    while let Some(w) = it.next() {
        if w == "--" {
            a.names.extend(it.by_ref().cloned());
            break;
        }
        let Some(opt) = w
            .strip_prefix("--")
            .or_else(|| w.strip_prefix('-'))
            .filter(|o| !o.is_empty())
        else {
            a.names.push(w.clone());
            continue;
        };
        let (key, inline) = match opt.split_once('=') {
            Some((k, v)) => (k, Some(v.to_owned())),
            None => (opt, None),
        };
        // Exact name, else the unique option it abbreviates.
        let Ok((name, takes)) = super::super::abbreviated(key, ADDUSER_OPTS, |(n, _)| n) else {
            return Err(format!("adduser option `{w}` is unknown or ambiguous"));
        };
        let value = if *takes {
            Some(match inline {
                Some(v) => v,
                None => it
                    .next()
                    .ok_or(format!("adduser option `{w}` needs a value"))?
                    .clone(),
            })
        } else {
            None
        };
        let v = value.clone().unwrap_or_default();
        let int = |v: &str| v.parse::<u32>().map_err(|_| format!("`{v}` is not a number"));
        match *name {
            "system" => a.system = true,
            "group" => a.group = true,
            "ingroup" => a.ingroup = Some(v),
            "home" => a.home = Some(v),
            "shell" => a.shell = Some(v),
            "comment" | "gecos" => a.comment = Some(v),
            "no-create-home" => a.no_create_home = true,
            "uid" => a.uid = Some(int(&v)?),
            "gid" => a.gid = Some(int(&v)?),
            "firstuid" => a.firstuid = Some(int(&v)?),
            "lastuid" => a.lastuid = Some(int(&v)?),
            "firstgid" => a.firstgid = Some(int(&v)?),
            "lastgid" => a.lastgid = Some(int(&v)?),
            "allow-all-names" => a.name_check = 2,
            "allow-badname" | "allow-bad-names" | "force-badname" => a.name_check = a.name_check.max(1),
            "disabled-login" => a.disabled_login = true,
            "conf" | "c" => a.conf.push(v),
            _ => {}
        }
    }
    Ok(a)
}

/// adduser's name check (the regexes of its defaults; `--force-badname` relaxes them).
fn check_name(name: &str, system: bool, level: u8) -> Result<(), String> {
    if level >= 2 {
        return Ok(());
    }
    let body = name.strip_suffix('$').unwrap_or(name);
    let first_ok = |c: char| c.is_ascii_lowercase() || (system && c == '_');
    let strict = body.chars().next().is_some_and(first_ok)
        && body
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-');
    // The relaxed check (`--force-badname`): what useradd itself accepts.
    let relaxed = !name.is_empty()
        && !name.starts_with('-')
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "._-$".contains(c))
        && name != "."
        && name != "..";
    if strict || (level == 1 && relaxed) {
        Ok(())
    } else {
        Err(format!("`{name}` is not a valid user or group name for adduser"))
    }
}

pub(super) fn adduser(
    db: &mut Db,
    tree: &dyn TreeView,
    argv0: &str,
    args: &[String],
    day: u64,
    homes: &mut Vec<Home>,
) -> Result<(), String> {
    let a = parse_adduser(args)?;
    let conf_paths: Vec<String> = if a.conf.is_empty() {
        vec!["/etc/adduser.conf".into()]
    } else {
        a.conf.clone()
    };
    let mut conf = AdduserConf::default();
    for p in &conf_paths {
        if let Ok(Some(b)) = super::super::read_file(tree, &super::super::tree_path(p)) {
            conf = AdduserConf::parse(&String::from_utf8_lossy(&b));
        }
    }
    let names = &a.names;
    if names.is_empty() || names.len() > 2 || names[0].is_empty() {
        return Err("adduser takes one or two names".into());
    }
    let is_addgroup = argv0 == "addgroup";
    if names.len() == 2 {
        if a.system || a.group || is_addgroup {
            return Err("two names only in `adduser USER GROUP`".into());
        }
        // addusertogroup: usermod -a -G GROUP USER (a member already is success). Scripts guard
        // it with `id -Gn USER | grep -qw GROUP`, which the walk cannot answer and which counts
        // the primary group (postgresql-common's `adduser postgres postgres`): a user's primary
        // group is taken as already joined.
        let primary = db.ids_of(&names[0]).map(|(_, gid)| gid);
        if primary.is_some() && primary == db.gid_of(&names[1]) {
            return Ok(());
        }
        return super::useradd::as_tool(db, |db| db.add_member(&names[1], &names[0]));
    }
    let name = names[0].clone();
    if !is_addgroup
        && [a.group, a.ingroup.is_some(), a.gid.is_some()]
            .iter()
            .filter(|b| **b)
            .count()
            > 1
    {
        return Err("--group, --ingroup and --gid are mutually exclusive".into());
    }
    if a.home.as_ref().is_some_and(|h| !h.starts_with('/')) {
        return Err("the home dir must be an absolute path".into());
    }
    check_name(&name, a.system, a.name_check)?;
    let defs = login_defs(tree);
    let group_mode = is_addgroup || (a.group && !a.system);
    if group_mode {
        if a.system {
            // addsysgroup: an existing system group is success.
            if let Some(g) = db.gid_of(&name) {
                if g >= conf.first_system_gid && g <= conf.last_system_gid {
                    return Ok(());
                }
                return Err(exists(format!(
                    "the group `{name}` already exists and is not a system group"
                )));
            }
        } else if db.gid_of(&name).is_some() {
            return Err(exists(format!("the group `{name}` already exists")));
        }
        let gid = match a.gid {
            Some(g) if db.gid_used(g) => return Err(format!("the GID {g} is already in use")),
            Some(g) => g,
            None => {
                let (min, max) = if a.system {
                    (
                        a.firstgid.unwrap_or(conf.first_system_gid),
                        a.lastgid.unwrap_or(conf.last_system_gid),
                    )
                } else {
                    (
                        a.firstgid.unwrap_or(conf.first_gid),
                        a.lastgid.unwrap_or(conf.last_gid),
                    )
                };
                adduser_allocate(|g| db.gid_used(g), min, max).ok_or("no GID is available")?
            }
        };
        groupadd(db, &name, Some(gid), false, &defs)?;
        return Ok(());
    }
    if !a.system {
        return adduser_normal(db, &conf, &a, &name, day, homes, &defs);
    }

    // addsysuser
    let (sys_min, sys_max) = (
        a.firstuid.unwrap_or(conf.first_system_uid),
        a.lastuid.unwrap_or(conf.last_system_uid),
    );
    if let Some(row) = db.user(&name) {
        let uid = id_of(row).unwrap_or(0);
        if a.uid.is_none() || a.uid == Some(uid) {
            if uid >= conf.first_system_uid && uid <= conf.last_system_uid {
                return Ok(());
            }
            return Err(exists(format!(
                "the user `{name}` already exists, but is not a system user"
            )));
        }
        return Err(exists(format!(
            "the user `{name}` already exists with a different UID"
        )));
    }
    if let Some(u) = a.uid.filter(|u| db.uid_used(*u)) {
        return Err(format!("the UID {u} is already in use"));
    }
    let nogroup = db.gid_of("nogroup").unwrap_or(65534);
    let mut gid = a.gid;
    let mut ingroup = a.ingroup.clone();
    if ingroup.is_none() && gid.is_none() && !a.group {
        gid = Some(nogroup);
    }
    // check_user_group: an existing group is fine if it is a system group.
    if let Some(g) = db.gid_of(&name).filter(|_| a.group)
        && !(g >= conf.first_system_gid && g <= conf.last_system_gid)
    {
        return Err(exists(format!(
            "the group `{name}` already exists and is not a system group"
        )));
    }
    let uid = match a.uid {
        Some(u) => u,
        None => adduser_allocate(|u| db.uid_used(u), sys_min, sys_max).ok_or("no UID is available")?,
    };
    let gid = if a.group {
        // adduser allocates a gid even when a system group of that name exists (and then uses
        // it only for the home's group, as it does).
        let g = match a.uid {
            None => adduser_allocate(
                |g| db.gid_used(g),
                a.firstgid.unwrap_or(conf.first_system_gid),
                a.lastgid.unwrap_or(conf.last_system_gid),
            )
            .ok_or("no GID is available")?,
            // `--uid N --group`: the group gets gid N.
            Some(u) => u,
        };
        ingroup = Some(name.clone());
        if db.gid_of(&name).is_none() {
            groupadd(db, &name, Some(g), false, &defs)?;
        }
        g
    } else if let Some(g) = gid {
        ingroup = Some(db.group_name(g).ok_or_else(|| format!("no group has gid {g}"))?);
        g
    } else if let Some(ig) = &ingroup {
        db.gid_of(ig)
            .ok_or_else(|| format!("the group `{ig}` does not exist"))?
    } else {
        return Err("adduser: internal error (no group)".into());
    };
    let home = a.home.clone().unwrap_or_else(|| "/nonexistent".into());
    let no_create = a.no_create_home || is_nonexistent(&home);
    let shell = a.shell.clone().unwrap_or_else(|| "/usr/sbin/nologin".into());
    // adduser before 3.122 (bullseye's 3.118) made system users with a plain `useradd` (aging
    // from login.defs), then `usermod -p '*'` (unless --disabled-login) and `chage -M 99999`;
    // its script says which it is.
    let legacy = super::super::read_file(tree, "usr/sbin/adduser")
        .ok()
        .flatten()
        .is_some_and(|b| String::from_utf8_lossy(&b).contains("$chage, '-M', '99999', $new_name"));
    let call = UseraddCall {
        name: name.clone(),
        system: !legacy,
        uid: Some(uid),
        group: ingroup,
        home: Some(home.clone()),
        shell: Some(shell),
        ..UseraddCall::default()
    };
    useradd(db, &call, day, Some(&defs))?;
    if legacy {
        let set_shadow_field = |db: &mut Db, field: usize, value: &str| {
            if let Some(row) = db
                .shadow
                .as_mut()
                .and_then(|rows| rows.iter_mut().find(|r| r[0] == name))
            {
                if row.len() <= field {
                    row.resize(field + 1, String::new());
                }
                row[field] = value.to_owned();
            }
        };
        let (passwd, shadow) = (0, 2);
        if !a.disabled_login {
            // usermod -p '*': passwd and shadow rewritten (without shadow, the password is
            // passwd's).
            let before = db.start_tool();
            if db.shadow.is_some() {
                set_shadow_field(db, 1, "*");
            } else if let Some(row) = db.passwd.iter_mut().find(|r| r[0] == name) {
                row[1] = "*".into();
            }
            db.finish_rewriting_tool(before, &[passwd, shadow]);
        }
        // chage -M 99999: shadow rewritten (without shadow it fails with 15, which adduser
        // lets pass).
        if db.shadow.is_some() {
            let before = db.start_tool();
            set_shadow_field(db, 4, "99999");
            db.finish_rewriting_tool(before, &[shadow]);
        }
    }
    if let Some(c) = &a.comment {
        ch_comment(db, &name, c)?;
    }
    if !no_create {
        homes.push(Home {
            path: home,
            uid,
            gid,
            mode: conf.dir_mode(true),
        });
    }
    Ok(())
}

fn is_nonexistent(home: &str) -> bool {
    let t = home.trim_start_matches('/');
    home.starts_with('/') && (t == "nonexistent" || t.starts_with("nonexistent/"))
}

/// A non-system `adduser NAME` (its own group with USERGROUPS, else `users`; the skeleton is
/// not copied by this emulation, so a home is only made where `/etc/skel` is empty).
fn adduser_normal(
    db: &mut Db,
    conf: &AdduserConf,
    a: &AdduserArgs,
    name: &str,
    day: u64,
    homes: &mut Vec<Home>,
    defs: &LoginDefs,
) -> Result<(), String> {
    if db.user(name).is_some() {
        return Err(exists(format!("the user `{name}` already exists")));
    }
    if let Some(u) = a.uid.filter(|u| db.uid_used(*u)) {
        return Err(format!("the UID {u} is already in use"));
    }
    let (min, max) = (
        a.firstuid.unwrap_or(conf.first_uid),
        a.lastuid.unwrap_or(conf.last_uid),
    );
    let make_group = conf.usergroups && a.gid.is_none() && a.ingroup.is_none();
    let (uid, gid) = if make_group {
        if db.gid_of(name).is_some() {
            return Err(exists(format!("the group `{name}` already exists")));
        }
        // first_avail_uid_gid: an id free both as uid and gid.
        let id = match a.uid {
            Some(u) => u,
            None => adduser_allocate(|i| db.uid_used(i) || db.gid_used(i), min, max)
                .ok_or("no UID/GID pair is available")?,
        };
        groupadd(db, name, Some(id), false, defs)?;
        (id, id)
    } else {
        let gid = match (&a.ingroup, a.gid) {
            (Some(g), _) => db
                .gid_of(g)
                .ok_or_else(|| format!("the group `{g}` does not exist"))?,
            (None, Some(g)) => g,
            (None, None) => match conf.users_gid {
                Some(g) if g >= 0 => g as u32,
                _ => db
                    .gid_of(conf.users_group.as_deref().unwrap_or("users"))
                    .ok_or("the `users` group does not exist")?,
            },
        };
        let uid = match a.uid {
            Some(u) => u,
            None => adduser_allocate(|i| db.uid_used(i), min, max).ok_or("no UID is available")?,
        };
        (uid, gid)
    };
    let home = a.home.clone().unwrap_or_else(|| format!("{}/{name}", conf.dhome));
    let call = UseraddCall {
        name: name.to_owned(),
        system: false,
        uid: Some(uid),
        group: Some(gid.to_string()),
        home: Some(home.clone()),
        shell: Some(a.shell.clone().unwrap_or_else(|| conf.dshell.clone())),
        ..UseraddCall::default()
    };
    useradd(db, &call, day, Some(defs))?;
    if let Some(c) = &a.comment {
        ch_comment(db, name, c)?;
    }
    if !(a.no_create_home || is_nonexistent(&home)) {
        homes.push(Home {
            path: home,
            uid,
            gid,
            mode: conf.dir_mode(false),
        });
    }
    Ok(())
}
