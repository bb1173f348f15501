//! The shadow tools' forms: `useradd`, `groupadd`, `usermod -a -G` (argument parsing and effect)
//! and chfn's rebuild of the gecos.

use super::db::{Db, LoginDefs, SHADOW_BACKUP_MASK, id_of, shadow_allocate, shadow_range};
use super::exists;
/// One useradd call.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UseraddCall {
    pub name: String,
    pub system: bool,
    pub uid: Option<u32>,
    pub group: Option<String>,
    pub groups: Vec<String>,
    pub home: Option<String>,
    pub shell: Option<String>,
    pub comment: Option<String>,
    pub create_home: bool,
    /// `-N`: no user group even with USERGROUPS_ENAB.
    pub no_user_group: bool,
    /// `-U`: a user group whatever USERGROUPS_ENAB says.
    pub user_group: bool,
    /// `-K KEY=VALUE` login.defs overrides.
    pub overrides: Vec<(String, String)>,
    /// `-l`: the user's lastlog and faillog records are left as they are.
    pub no_log_init: bool,
}

/// Parsed options (letter, value) and the remaining operands.
type Parsed = (Vec<(char, Option<String>)>, Vec<String>);

/// The value of an option's last occurrence (the one the tools keep).
fn last_value(opts: &[(char, Option<String>)], flag: char) -> Option<String> {
    opts.iter()
        .rev()
        .find(|(c, _)| *c == flag)
        .and_then(|(_, v)| v.clone())
}

/// Splits shadow-style options: `-x V`, `-xV`, `--long V`, `--long=V`; bundled flags `-rm`.
fn getopt(args: &[String], with_value: &[(char, &str)], flags: &[(char, &str)]) -> Result<Parsed, String> {
    let mut opts = Vec::new();
    let mut rest = Vec::new();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        if a == "--" {
            rest.extend(it.by_ref().cloned());
            break;
        }
        if let Some(long) = a.strip_prefix("--") {
            let (key, inline) = match long.split_once('=') {
                Some((k, v)) => (k, Some(v.to_owned())),
                None => (long, None),
            };
            if let Some((c, _)) = with_value.iter().find(|(_, l)| *l == key) {
                let v = match inline {
                    Some(v) => v,
                    None => it.next().ok_or(format!("--{key} needs a value"))?.clone(),
                };
                opts.push((*c, Some(v)));
            } else if let Some((c, _)) = flags.iter().find(|(_, l)| *l == key) {
                // getopt_long refuses a value for an option that takes none (`--lock=no`).
                if inline.is_some() {
                    return Err(format!("option --{key} doesn't allow an argument"));
                }
                opts.push((*c, None));
            } else {
                return Err(format!("option --{key} is not supported"));
            }
        } else if a.starts_with('-') && a.len() > 1 {
            let chars: Vec<char> = a[1..].chars().collect();
            let mut i = 0;
            while i < chars.len() {
                let c = chars[i];
                if with_value.iter().any(|(s, _)| *s == c) {
                    let tail: String = chars[i + 1..].iter().collect();
                    let v = if tail.is_empty() {
                        it.next().ok_or(format!("-{c} needs a value"))?.clone()
                    } else {
                        tail
                    };
                    opts.push((c, Some(v)));
                    break;
                } else if flags.iter().any(|(s, _)| *s == c) {
                    opts.push((c, None));
                } else {
                    return Err(format!("option -{c} is not supported"));
                }
                i += 1;
            }
        } else {
            rest.push(a.clone());
        }
    }
    Ok((opts, rest))
}

fn num_arg(v: &str, what: &str) -> Result<u32, String> {
    v.parse().map_err(|_| format!("{what} `{v}` is not a number"))
}

pub fn parse_useradd(args: &[String]) -> Result<UseraddCall, String> {
    let (opts, rest) = getopt(
        args,
        &[
            ('u', "uid"),
            ('g', "gid"),
            ('G', "groups"),
            ('d', "home-dir"),
            ('s', "shell"),
            ('c', "comment"),
            ('K', "key"),
            ('k', "skel"),
            ('p', "password"),
            ('e', "expiredate"),
            ('f', "inactive"),
        ],
        &[
            ('r', "system"),
            ('m', "create-home"),
            ('M', "no-create-home"),
            ('N', "no-user-group"),
            ('U', "user-group"),
            ('o', "non-unique"),
            ('l', "no-log-init"),
        ],
    )?;
    let [name] = rest.as_slice() else {
        return Err("useradd needs exactly one user name".into());
    };
    let mut call = UseraddCall {
        name: name.clone(),
        ..UseraddCall::default()
    };
    for (c, v) in opts {
        let v = v.unwrap_or_default();
        match c {
            'u' => call.uid = Some(num_arg(&v, "uid")?),
            'g' => call.group = Some(v),
            'G' => {
                call.groups = v
                    .split(',')
                    .filter(|g| !g.is_empty())
                    .map(str::to_owned)
                    .collect()
            }
            'd' => call.home = Some(v),
            's' => call.shell = Some(v),
            'c' => call.comment = Some(v),
            'K' => {
                let (k, val) = v.split_once('=').ok_or("-K needs KEY=VALUE")?;
                call.overrides.push((k.to_owned(), val.to_owned()));
            }
            'r' => call.system = true,
            'm' => call.create_home = true,
            'M' => call.create_home = false,
            'N' => call.no_user_group = true,
            'U' => call.user_group = true,
            'l' => call.no_log_init = true,
            'o' => {}
            _ => return Err(format!("useradd option -{c} is not emulated")),
        }
    }
    Ok(call)
}

/// One groupadd call.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GroupaddCall {
    pub name: String,
    pub gid: Option<u32>,
    pub system: bool,
    /// `-f`: an existing group is success.
    pub force: bool,
}

pub fn parse_groupadd(args: &[String]) -> Result<GroupaddCall, String> {
    let (opts, rest) = getopt(
        args,
        &[('g', "gid"), ('K', "key")],
        &[('r', "system"), ('f', "force"), ('o', "non-unique")],
    )?;
    let [name] = rest.as_slice() else {
        return Err("groupadd needs exactly one group name".into());
    };
    let mut call = GroupaddCall {
        name: name.clone(),
        ..GroupaddCall::default()
    };
    for (c, v) in opts {
        match c {
            'g' => call.gid = Some(num_arg(&v.unwrap_or_default(), "gid")?),
            'r' => call.system = true,
            'f' => call.force = true,
            _ => {}
        }
    }
    Ok(call)
}

/// A `usermod` call: shadow's usermod (4.13) over the passwd, shadow, group and gshadow files,
/// for the options maintainer scripts use (postfix's and varnish's login group; lightdm's
/// comment, home and shell; bacula's `-G tape`; ceph's and sbuild's `-U -e ''`).
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Usermod {
    pub user: String,
    /// `-g`, `-c`, `-d`, `-s`.
    pub fields: UserFields,
    /// `-G G1,G2`: the supplementary groups (by name or number), with `-a` added to the
    /// user's, else replacing them.
    pub groups: Option<Vec<String>>,
    pub append: bool,
    /// `-L`, `-U`: the password locked (a `!` put in front) or unlocked (taken off).
    pub lock: bool,
    pub unlock: bool,
    /// `-e DAYS`, `-f DAYS` (shadow's expiry and inactivity fields), `-p PASSWORD`.
    pub expire: Option<String>,
    pub inactive: Option<String>,
    pub password: Option<String>,
    /// `-m` (with `-d`): the old home directory is moved to the new one (see
    /// [`super::apply`]: only where there is none to move).
    pub move_home: bool,
}

/// The passwd fields a `usermod` call sets (`None`: left as they are).
#[derive(Debug, Default, PartialEq, Eq)]
pub struct UserFields {
    pub group: Option<String>,
    pub comment: Option<String>,
    pub home: Option<String>,
    pub shell: Option<String>,
}

/// `usermod OPTIONS USER`; `None` for a form not reproduced (renames, new ids, subordinate ids,
/// a chroot) or one usermod refuses (`-a` without `-G`, `-L` with `-U`, `-m` without `-d`).
pub(super) fn parse_usermod(args: &[String]) -> Option<Usermod> {
    let (opts, rest) = getopt(
        args,
        &[
            ('G', "groups"),
            ('g', "gid"),
            ('c', "comment"),
            ('d', "home"),
            ('s', "shell"),
            ('e', "expiredate"),
            ('f', "inactive"),
            ('p', "password"),
        ],
        &[
            ('a', "append"),
            ('L', "lock"),
            ('U', "unlock"),
            ('m', "move-home"),
        ],
    )
    .ok()?;
    let flag = |c: char| opts.iter().any(|(o, _)| *o == c);
    let value = |flag: char| last_value(&opts, flag);
    let [user] = rest.as_slice() else { return None };
    let call = Usermod {
        user: user.clone(),
        fields: UserFields {
            group: value('g'),
            comment: value('c'),
            home: value('d'),
            shell: value('s'),
        },
        groups: value('G').map(|g| {
            g.split(',')
                .filter(|g| !g.is_empty())
                .map(str::to_owned)
                .collect()
        }),
        append: flag('a'),
        lock: flag('L'),
        unlock: flag('U'),
        expire: value('e'),
        inactive: value('f'),
        password: value('p'),
        move_home: flag('m'),
    };
    if (call.append && call.groups.is_none())
        || (call.lock && call.unlock)
        || (call.move_home && call.fields.home.is_none())
        || opts.is_empty()
    {
        return None;
    }
    Some(call)
}

/// `usermod` as shadow's (4.13) runs it. A value equal to the current one is no change (the
/// flag is dropped, as `process_flags` does); with no change left nothing is written, not
/// even the lock. Otherwise passwd is rewritten (with its backup, whether or not its content
/// changes) for `-g -c -d -s -p -L -U`, shadow for `-e -f -p -L -U` where the user has a
/// shadow entry, group and gshadow where `-G` changes a member list. `day`: today, for
/// `-p`'s last change.
pub(super) fn usermod(db: &mut Db, call: &Usermod, day: u64) -> Result<(), String> {
    let user = call.user.as_str();
    let row = db
        .passwd
        .iter()
        .find(|r| r[0] == user)
        .ok_or_else(|| format!("user `{user}` does not exist"))?
        .clone();
    let fields = &call.fields;
    let mut wanted: Vec<(usize, String)> = Vec::new();
    if let Some(group) = &fields.group {
        let gid = match group.parse::<u32>() {
            Ok(gid) if db.gid_used(gid) => gid,
            _ => db
                .gid_of(group)
                .ok_or_else(|| format!("group `{group}` does not exist"))?,
        };
        wanted.push((3, gid.to_string()));
    }
    if let Some(comment) = &fields.comment {
        wanted.push((4, comment.clone()));
    }
    if let Some(home) = &fields.home {
        if !home.starts_with('/') {
            return Err("homedir must be an absolute path".into());
        }
        // usermod drops one trailing slash (not the root's).
        let home = if home.len() > 1 {
            home.strip_suffix('/').unwrap_or(home)
        } else {
            home
        };
        wanted.push((5, home.to_owned()));
    }
    if let Some(shell) = &fields.shell {
        wanted.push((6, shell.clone()));
    }
    if wanted.iter().any(|(_, v)| v.contains([':', '\n']))
        || call.password.as_ref().is_some_and(|p| p.contains([':', '\n']))
    {
        return Err("a field with `:` or a newline".into());
    }
    let changes: Vec<(usize, String)> = wanted
        .into_iter()
        .filter(|(i, v)| row.get(*i) != Some(v))
        .collect();
    // -G: every group named must exist (by name or number).
    let groups: Option<Vec<String>> = match &call.groups {
        Some(list) => Some(
            list.iter()
                .map(|g| {
                    match g.parse::<u32>() {
                        Ok(gid) if db.gid_used(gid) => db.group_name(gid).ok_or_else(String::new),
                        _ => db.group(g).map(|r| r[0].clone()).ok_or_else(String::new),
                    }
                    .map_err(|_| format!("group `{g}` does not exist"))
                })
                .collect::<Result<_, _>>()?,
        ),
        None => None,
    };
    // -e/-f: shadow's fields, days (`-1` or empty: never); a value equal to the current one
    // is no change.
    let days = |v: &str| -> Result<i64, String> {
        match v.trim() {
            "" => Ok(-1),
            n => n
                .parse::<i64>()
                .map_err(|_| format!("`{v}` as a date is not reproduced (days only)")),
        }
    };
    let shadow_row = db
        .shadow
        .as_ref()
        .and_then(|rows| rows.iter().find(|r| r[0] == user))
        .cloned();
    let current = |field: usize| -> Result<i64, String> {
        days(
            shadow_row
                .as_ref()
                .and_then(|r| r.get(field))
                .map_or("", String::as_str),
        )
    };
    let mut shadow_fields: Vec<(usize, i64)> = Vec::new();
    for (value, field) in [(&call.expire, 7), (&call.inactive, 6)] {
        if let Some(v) = value {
            let new = days(v)?;
            if new != current(field)? {
                shadow_fields.push((field, new));
            }
        }
    }
    if !shadow_fields.is_empty() && shadow_row.is_none() {
        return Err(match db.shadow {
            Some(_) => format!("a shadow entry made for `{user}` is not reproduced"),
            None => "shadow passwords required for -e and -f".into(),
        });
    }
    let password = call.password.is_some() || call.lock || call.unlock;
    if changes.is_empty() && groups.is_none() && shadow_fields.is_empty() && !password {
        return Ok(());
    }
    let before = db.start_tool();
    let mut written = Vec::new();
    let new_password = |old: &str| -> String {
        if call.lock && !old.starts_with('!') {
            format!("!{old}")
        } else if call.unlock && old.starts_with('!') && old.len() > 1 {
            old[1..].to_owned()
        } else if let Some(p) = &call.password {
            p.clone()
        } else {
            old.to_owned()
        }
    };
    let shadowed = db.shadow.is_some();
    if let Some(row) = db.passwd.iter_mut().find(|r| r[0] == user) {
        for (i, v) in &changes {
            while row.len() <= *i {
                row.push(String::new());
            }
            row[*i] = v.clone();
        }
        if !shadowed || row.get(1).map(String::as_str) != Some("x") {
            row[1] = new_password(&row[1]);
        }
    }
    if !changes.is_empty() || password {
        written.push(0);
    }
    if let Some(row) = db
        .shadow
        .as_mut()
        .and_then(|rows| rows.iter_mut().find(|r| r[0] == user))
    {
        if row.len() < 9 {
            row.resize(9, String::new());
        }
        for (field, v) in &shadow_fields {
            row[*field] = if *v == -1 { String::new() } else { v.to_string() };
        }
        row[1] = new_password(&row[1]);
        if call.password.is_some() {
            row[2] = if day == 0 { String::new() } else { day.to_string() };
        }
        if !shadow_fields.is_empty() || password {
            written.push(2);
        }
    }
    if let Some(groups) = &groups {
        // update_group/update_gshadow: each group the user was or is to be a member of, in
        // file order; a member added goes last.
        let update = |rows: &mut Vec<Vec<String>>| -> bool {
            let mut changed = false;
            for row in rows.iter_mut() {
                if row.len() < 4 {
                    row.resize(4, String::new());
                }
                let mut members: Vec<String> = row[3]
                    .split(',')
                    .filter(|m| !m.is_empty())
                    .map(str::to_owned)
                    .collect();
                let was = members.iter().any(|m| m == user);
                let is = (was && call.append) || groups.contains(&row[0]);
                if was && !is {
                    members.retain(|m| m != user);
                } else if !was && is {
                    members.push(user.to_owned());
                } else {
                    continue;
                }
                row[3] = members.join(",");
                changed = true;
            }
            changed
        };
        if update(&mut db.group) {
            written.push(1);
        }
        if let Some(gs) = db.gshadow.as_mut()
            && update(gs)
        {
            written.push(3);
        }
    }
    db.finish_rewriting_tool(before, &written);
    Ok(())
}

/// `passwd [-q] -l|-u USER`: the forms a maintainer script uses to lock (or unlock) an
/// account's password; `None` for any other (setting a password, ageing, status).
#[derive(Debug, PartialEq, Eq)]
pub struct PasswdCall {
    pub user: String,
    /// `-l`; else `-u`.
    pub lock: bool,
}

pub(super) fn parse_passwd(args: &[String]) -> Option<PasswdCall> {
    let (opts, rest) = getopt(args, &[], &[('l', "lock"), ('u', "unlock"), ('q', "quiet")]).ok()?;
    let flag = |c: char| opts.iter().any(|(o, _)| *o == c);
    let [user] = rest.as_slice() else { return None };
    if flag('l') == flag('u') {
        return None;
    }
    Some(PasswdCall {
        user: user.clone(),
        lock: flag('l'),
    })
}

/// `passwd -l`/`-u` as shadow's passwd (4.13) runs it: the password field of the user's shadow
/// entry (of its passwd entry without one) gets a `!` in front, or loses it; unlocking what
/// would be an empty password is refused (status 3). The file is rewritten, with its backup,
/// even when the field was already so (`spw_update` marks it changed); the last-change day is
/// kept.
pub(super) fn passwd_lock(db: &mut Db, call: &PasswdCall) -> Result<(), String> {
    let user = call.user.as_str();
    if !db.passwd.iter().any(|r| r[0] == user) {
        return Err(format!("user `{user}` does not exist"));
    }
    let update = |field: &mut String| -> Result<(), String> {
        if call.lock {
            if !field.starts_with('!') {
                field.insert(0, '!');
            }
        } else if let Some(rest) = field.strip_prefix('!') {
            if rest.is_empty() {
                return Err(format!(
                    "passwd: unlocking the password would result in a passwordless account (`{user}`; status 3)"
                ));
            }
            *field = rest.to_owned();
        }
        Ok(())
    };
    let before = db.start_tool();
    let shadow_row = db
        .shadow
        .as_mut()
        .and_then(|rows| rows.iter_mut().find(|r| r[0] == user));
    let written = match shadow_row {
        Some(row) => {
            if row.len() < 2 {
                row.resize(2, String::new());
            }
            update(&mut row[1])?;
            2
        }
        None => {
            let row = db
                .passwd
                .iter_mut()
                .find(|r| r[0] == user)
                .ok_or_else(|| format!("user `{user}` does not exist"))?;
            if row.len() < 2 {
                row.resize(2, String::new());
            }
            update(&mut row[1])?;
            0
        }
    };
    db.finish_rewriting_tool(before, &[written]);
    Ok(())
}

fn with_overrides(defs: &LoginDefs, overrides: &[(String, String)]) -> LoginDefs {
    let mut d = defs.clone();
    for (k, v) in overrides {
        d.values.insert(0, (k.clone(), v.clone()));
    }
    d
}

/// Runs one shadow tool on `db`: on success the files it changed get their backups and the lock
/// file is left, as the tool's `commonio_close` and `lckpwdf` leave them.
pub(super) fn as_tool<T>(db: &mut Db, run: impl FnOnce(&mut Db) -> Result<T, String>) -> Result<T, String> {
    let before = db.start_tool();
    let out = run(db)?;
    db.finish_tool(before, SHADOW_BACKUP_MASK);
    Ok(out)
}

/// groupadd: the group (and its gshadow line); an explicit gid must be free.
pub(super) fn groupadd(
    db: &mut Db,
    name: &str,
    gid: Option<u32>,
    system: bool,
    defs: &LoginDefs,
) -> Result<u32, String> {
    as_tool(db, |db| groupadd_run(db, name, gid, system, defs))
}

fn groupadd_run(
    db: &mut Db,
    name: &str,
    gid: Option<u32>,
    system: bool,
    defs: &LoginDefs,
) -> Result<u32, String> {
    if let Some(g) = db.gid_of(name) {
        return Err(exists(format!("group `{name}` already exists (gid {g})")));
    }
    let gid = match gid {
        Some(g) if db.gid_used(g) => return Err(format!("GID {g} is already in use")),
        Some(g) => g,
        None => {
            let (min, max) = shadow_range(defs, system, true);
            let used: Vec<u32> = db.group.iter().filter_map(|r| id_of(r)).collect();
            shadow_allocate(&used, min, max, system).ok_or("no free gid")?
        }
    };
    db.push_group(name, gid);
    Ok(gid)
}

/// useradd (no `-m` handling here: the caller makes the home).
pub(super) fn useradd(
    db: &mut Db,
    call: &UseraddCall,
    day: u64,
    defs: Option<&LoginDefs>,
) -> Result<(), String> {
    as_tool(db, |db| useradd_run(db, call, day, defs))
}

fn useradd_run(db: &mut Db, call: &UseraddCall, day: u64, defs: Option<&LoginDefs>) -> Result<(), String> {
    let defs = with_overrides(defs.unwrap_or(&LoginDefs::default()), &call.overrides);
    if db.user(&call.name).is_some() {
        return Err(exists(format!("user `{}` already exists", call.name)));
    }
    let uid = match call.uid {
        Some(u) if db.uid_used(u) => return Err(format!("UID {u} is not unique")),
        Some(u) => u,
        None => {
            let (min, max) = shadow_range(&defs, call.system, false);
            let used: Vec<u32> = db.passwd.iter().filter_map(|r| id_of(r)).collect();
            shadow_allocate(&used, min, max, call.system).ok_or("no free uid")?
        }
    };
    let gid = match &call.group {
        Some(g) => match g.parse::<u32>() {
            Ok(n) => n,
            Err(_) => db
                .gid_of(g)
                .ok_or_else(|| format!("group `{g}` does not exist"))?,
        },
        None if call.user_group || (defs.usergroups() && !call.no_user_group) => {
            if db.gid_of(&call.name).is_some() {
                return Err(format!(
                    "group `{}` exists: useradd would need -g (USERGROUPS_ENAB)",
                    call.name
                ));
            }
            // The user's own group: at the uid if that gid is free (sys: any gid from 1 up).
            let (min, max) = shadow_range(&defs, call.system, true);
            let lowest_allowed = if call.system { 1 } else { min };
            let gid = if uid >= lowest_allowed && uid <= max && !db.gid_used(uid) {
                uid
            } else {
                let used: Vec<u32> = db.group.iter().filter_map(|r| id_of(r)).collect();
                shadow_allocate(&used, min, max, call.system).ok_or("no free gid")?
            };
            db.push_group(&call.name, gid);
            gid
        }
        // USERGROUPS_ENAB no: login.defs/default/useradd GROUP (100, `users`).
        None => 100,
    };
    for g in &call.groups {
        if db.group(g).is_none() {
            return Err(format!("group `{g}` does not exist"));
        }
    }
    let home = call
        .home
        .clone()
        .unwrap_or_else(|| format!("/home/{}", call.name));
    let shell = call.shell.clone().unwrap_or_else(|| "/bin/sh".into());
    // useradd resets the new uid's lastlog and faillog records (`-l` keeps them): see
    // `super::LogInit`.
    if !call.no_log_init {
        db.log_resets.push(uid);
    }
    let shadowed = db.shadow.is_some();
    db.passwd.push(vec![
        call.name.clone(),
        if shadowed { "x" } else { "!" }.into(),
        uid.to_string(),
        gid.to_string(),
        call.comment.clone().unwrap_or_default(),
        home,
        shell,
    ]);
    if let Some(sh) = &mut db.shadow {
        let last = if day == 0 { String::new() } else { day.to_string() };
        let (min, max, warn) = if call.system {
            (String::new(), String::new(), String::new())
        } else {
            (
                defs.get("PASS_MIN_DAYS").unwrap_or("").to_owned(),
                defs.get("PASS_MAX_DAYS").unwrap_or("").to_owned(),
                defs.get("PASS_WARN_AGE").unwrap_or("").to_owned(),
            )
        };
        sh.push(vec![
            call.name.clone(),
            "!".into(),
            last,
            min,
            max,
            warn,
            String::new(),
            String::new(),
            String::new(),
        ]);
    }
    for g in &call.groups {
        db.add_member(g, &call.name)?;
    }
    Ok(())
}

/// chfn's rebuild of the gecos with some fields replaced (`None`: kept), as shadow's chfn (4.13)
/// does it: the old GECOS split on `,` gives the fields not set (a `key=value` field goes to
/// "other" instead, as `copy_field` moves it, and what follows the fourth field is kept there
/// unless `-o` replaces it); the new GECOS is `full,room,work,home` with `,other` when there is
/// one. A field holding what chfn refuses (`:`, `,`, `=`, a newline; `:` or a newline in other),
/// or all of them over 80 characters, is an error, as in chfn.
pub(super) fn chfn(db: &mut Db, user: &str, fields: [Option<&str>; 5]) -> Result<(), String> {
    as_tool(db, |db| chfn_run(db, user, fields))
}

fn chfn_run(db: &mut Db, user: &str, fields: [Option<&str>; 5]) -> Result<(), String> {
    let row = db
        .passwd
        .iter_mut()
        .find(|r| r[0] == user)
        .ok_or_else(|| format!("user `{user}` does not exist"))?;
    let gecos = row.get(4).cloned().unwrap_or_default();
    let mut other: Vec<String> = fields[4].iter().map(|o| (*o).to_owned()).collect();
    let mut old = gecos.split(',').map(str::to_owned);
    let mut next_plain = |other: &mut Vec<String>| -> Option<String> {
        for field in old.by_ref() {
            if field.contains('=') {
                other.push(field);
            } else {
                return Some(field);
            }
        }
        None
    };
    let mut parts: Vec<String> = Vec::with_capacity(4);
    let mut exhausted = false;
    for given in &fields[..4] {
        let old_value = if exhausted { None } else { next_plain(&mut other) };
        exhausted |= old_value.is_none();
        parts.push(given.map(str::to_owned).or(old_value).unwrap_or_default());
    }
    if fields[4].is_none() {
        other.extend(old);
    }
    let slop = other.join(",");
    if parts.iter().any(|f| f.contains([':', ',', '=', '\n'])) || slop.contains([':', '\n']) {
        return Err("a GECOS field with `:`, `,`, `=` or a newline".into());
    }
    if parts.iter().map(String::len).sum::<usize>() + slop.len() > 80 {
        return Err("fields too long".into());
    }
    let mut new = parts.join(",");
    if !slop.is_empty() {
        new.push(',');
        new.push_str(&slop);
    }
    while row.len() < 7 {
        row.push(String::new());
    }
    row[4] = new;
    Ok(())
}

/// A `chfn` call: the GECOS subfields it sets (`-f` full name, `-r` room, `-w` work phone, `-h`
/// home phone, `-o` other), as shadow's chfn (4.13, Debian's) takes them.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Chfn {
    pub user: String,
    pub full_name: Option<String>,
    pub room: Option<String>,
    pub work_phone: Option<String>,
    pub home_phone: Option<String>,
    pub other: Option<String>,
}

/// `chfn OPTIONS USER` (logcheck's `chfn -f 'logcheck system account' logcheck`); `None` without
/// a field to set (chfn would then ask for them) or with an option not reproduced (`-R`).
pub(super) fn parse_chfn(args: &[String]) -> Option<Chfn> {
    let (opts, rest) = getopt(
        args,
        &[
            ('f', "full-name"),
            ('r', "room"),
            ('w', "work-phone"),
            ('h', "home-phone"),
            ('o', "other"),
        ],
        &[],
    )
    .ok()?;
    let value = |flag: char| last_value(&opts, flag);
    let [user] = rest.as_slice() else { return None };
    let call = Chfn {
        user: user.clone(),
        full_name: value('f'),
        room: value('r'),
        work_phone: value('w'),
        home_phone: value('h'),
        other: value('o'),
    };
    (!opts.is_empty()).then_some(call)
}
