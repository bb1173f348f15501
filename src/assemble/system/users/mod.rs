//! Accounts made by maintainer scripts: `adduser`/`addgroup` (Debian's adduser 3.134), and the
//! shadow tools they call, `useradd`/`groupadd`/`usermod -a -G`/`chfn`, applied in script order
//! to the image's `etc/{passwd,group,shadow,gshadow}` (as [`super::accounts`] left them).
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

use crate::entry::{Entry, EntryKind};

use super::{Changes, Overlay, TreeView};

/// Commands this module applies (adduser/addgroup in any form it models; the shadow tools).
pub fn handles(argv0: &str, args: &[String]) -> bool {
    match argv0 {
        "adduser" | "addgroup" | "useradd" | "groupadd" => true,
        "usermod" => parse_usermod(args).is_some(),
        _ => false,
    }
}

/// Marks a failure that is the tool's "already exists": it exits without changing anything,
/// which is the effect reproduced (scripts guard these calls with `getent` or `|| true`).
const EXISTS: &str = "\u{0}exists: ";

fn exists(message: String) -> String {
    format!("{EXISTS}{message}")
}

/// Applies one account command to the overlay; `Err` is why it was not (the report says so).
pub fn apply(overlay: &mut Overlay<'_>, name: &str, args: &[String], day: u64) -> Result<(), String> {
    match apply_inner(overlay, name, args, day) {
        Err(e) if e.starts_with(EXISTS) => Ok(()),
        other => other,
    }
}

fn apply_inner(overlay: &mut Overlay<'_>, name: &str, args: &[String], day: u64) -> Result<(), String> {
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
            let (groups, user) = parse_usermod(args).ok_or("unsupported usermod form")?;
            for g in groups {
                db.add_member(&g, &user)?;
            }
        }
        _ => return Err("not an account command".into()),
    }
    db.store(overlay);
    for h in homes {
        make_home(overlay, &db, &h)?;
    }
    Ok(())
}

/// The four account files as lines of fields (`None`: the file is absent).
#[derive(Debug, Clone, Default)]
pub struct Db {
    pub passwd: Vec<Vec<String>>,
    pub group: Vec<Vec<String>>,
    pub shadow: Option<Vec<Vec<String>>>,
    pub gshadow: Option<Vec<Vec<String>>>,
}

const FILES: [&str; 4] = ["etc/passwd", "etc/group", "etc/shadow", "etc/gshadow"];

fn read_rows(tree: &dyn TreeView, path: &str) -> Result<Option<Vec<Vec<String>>>, String> {
    match super::read_file(tree, path) {
        Ok(None) => Ok(None),
        Ok(Some(b)) => {
            let text = String::from_utf8(b).map_err(|_| format!("/{path} is not UTF-8"))?;
            Ok(Some(
                text.lines()
                    .filter(|l| !l.is_empty())
                    .map(|l| l.split(':').map(str::to_owned).collect())
                    .collect(),
            ))
        }
        Err(e) => Err(e.to_string()),
    }
}

fn id_of(row: &[String]) -> Option<u32> {
    row.get(2).and_then(|v| v.parse().ok())
}

impl Db {
    pub fn load(tree: &dyn TreeView) -> Result<Db, String> {
        Ok(Db {
            passwd: read_rows(tree, FILES[0])?.ok_or("there is no /etc/passwd")?,
            group: read_rows(tree, FILES[1])?.ok_or("there is no /etc/group")?,
            shadow: read_rows(tree, FILES[2])?,
            gshadow: read_rows(tree, FILES[3])?,
        })
    }

    fn user(&self, name: &str) -> Option<&Vec<String>> {
        self.passwd.iter().find(|r| r[0] == name)
    }

    fn group(&self, name: &str) -> Option<&Vec<String>> {
        self.group.iter().find(|r| r[0] == name)
    }

    fn gid_of(&self, name: &str) -> Option<u32> {
        self.group(name).and_then(|r| id_of(r))
    }

    fn group_name(&self, gid: u32) -> Option<String> {
        self.group
            .iter()
            .find(|r| id_of(r) == Some(gid))
            .map(|r| r[0].clone())
    }

    fn uid_used(&self, id: u32) -> bool {
        self.passwd.iter().any(|r| id_of(r) == Some(id))
    }

    fn gid_used(&self, id: u32) -> bool {
        self.group.iter().any(|r| id_of(r) == Some(id))
    }

    fn ids_of(&self, user: &str) -> Option<(u32, u32)> {
        let r = self.user(user)?;
        Some((id_of(r)?, r.get(3)?.parse().ok()?))
    }

    /// groupadd's lines.
    fn push_group(&mut self, name: &str, gid: u32) {
        self.group
            .push(vec![name.into(), "x".into(), gid.to_string(), String::new()]);
        if let Some(gs) = &mut self.gshadow {
            gs.push(vec![name.into(), "!".into(), String::new(), String::new()]);
        }
    }

    /// usermod -a -G: the user joins the group's member lists (group and gshadow).
    fn add_member(&mut self, group: &str, user: &str) -> Result<(), String> {
        if self.user(user).is_none() {
            return Err(format!("user `{user}` does not exist"));
        }
        let append = |row: &mut Vec<String>, at: usize| {
            while row.len() <= at {
                row.push(String::new());
            }
            if !row[at].split(',').any(|m| m == user) {
                if !row[at].is_empty() {
                    row[at].push(',');
                }
                row[at].push_str(user);
            }
        };
        let row = self
            .group
            .iter_mut()
            .find(|r| r[0] == group)
            .ok_or_else(|| format!("group `{group}` does not exist"))?;
        append(row, 3);
        if let Some(row) = self
            .gshadow
            .as_mut()
            .and_then(|gs| gs.iter_mut().find(|r| r[0] == group))
        {
            append(row, 3);
        }
        Ok(())
    }

    /// Writes the files back, keeping each one's mode and owner (absent shadow files stay absent).
    fn store(&self, overlay: &mut Overlay<'_>) {
        let mut out = Changes::default();
        let all = [
            Some(&self.passwd),
            Some(&self.group),
            self.shadow.as_ref(),
            self.gshadow.as_ref(),
        ];
        for (path, rows) in FILES.iter().zip(all) {
            let Some(rows) = rows else { continue };
            let text: String = rows.iter().map(|r| r.join(":") + "\n").collect();
            let size = text.len() as u64;
            let mut entry = match overlay.entry(path) {
                Some(e) if matches!(e.kind, EntryKind::File { .. }) => e.clone(),
                _ => Entry::generated(*path, EntryKind::File { size }, 0o644),
            };
            entry.kind = EntryKind::File { size };
            out.files.push((entry, text.into_bytes()));
        }
        overlay.apply(out);
    }
}

/// `/etc/login.defs` values useradd/groupadd consult.
#[derive(Debug, Clone, Default)]
pub struct LoginDefs {
    values: Vec<(String, String)>,
}

impl LoginDefs {
    pub fn parse(text: &str) -> LoginDefs {
        let values = text
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .filter_map(|l| {
                let mut it = l.split_whitespace();
                Some((
                    it.next()?.to_owned(),
                    it.next().unwrap_or("").trim_matches('"').to_owned(),
                ))
            })
            .collect();
        LoginDefs { values }
    }

    fn get(&self, key: &str) -> Option<&str> {
        self.values
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    fn num(&self, key: &str, default: u32) -> u32 {
        self.get(key).and_then(parse_c_number).unwrap_or(default)
    }

    /// useradd's home mode: HOME_MODE, else 0777 & ~UMASK (022 if unset).
    fn home_mode(&self) -> u32 {
        match self.get("HOME_MODE").and_then(parse_c_number) {
            Some(m) => m & 0o7777,
            None => 0o777 & !self.get("UMASK").and_then(parse_c_number).unwrap_or(0o022),
        }
    }

    fn usergroups(&self) -> bool {
        self.get("USERGROUPS_ENAB")
            .is_some_and(|v| v.eq_ignore_ascii_case("yes"))
    }
}

/// A number as `strtoul(…, 0)` reads it (`0755` octal, `0x1F` hex).
fn parse_c_number(s: &str) -> Option<u32> {
    if let Some(h) = s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        u32::from_str_radix(h, 16).ok()
    } else if s.len() > 1 && s.starts_with('0') {
        u32::from_str_radix(&s[1..], 8).ok()
    } else {
        s.parse().ok()
    }
}

fn login_defs(tree: &dyn TreeView) -> LoginDefs {
    match super::read_file(tree, "etc/login.defs") {
        Ok(Some(b)) => LoginDefs::parse(&String::from_utf8_lossy(&b)),
        _ => LoginDefs::default(),
    }
}

/// The id range for automatic allocation: (min, max) as useradd/groupadd compute it.
fn shadow_range(defs: &LoginDefs, system: bool, group: bool) -> (u32, u32) {
    let (kmin, kmax, smin, smax) = if group {
        ("GID_MIN", "GID_MAX", "SYS_GID_MIN", "SYS_GID_MAX")
    } else {
        ("UID_MIN", "UID_MAX", "SYS_UID_MIN", "SYS_UID_MAX")
    };
    if system {
        let min = defs.num(smin, 101).max(1);
        let max = defs.num(smax, defs.num(kmin, 1000).saturating_sub(1));
        (min, max)
    } else {
        (defs.num(kmin, 1000), defs.num(kmax, 60000))
    }
}

/// shadow's `find_new_uid`/`find_new_gid`: `used` in file order. System ids go down from just
/// below the lowest used id of the range (from the top if none is used), then from the top over
/// the gaps; other ids go up from just above the highest used one, then from the bottom.
pub fn shadow_allocate(used: &[u32], min: u32, max: u32, system: bool) -> Option<u32> {
    if max < min {
        return None;
    }
    let free = |id: u32| id != u32::from(u16::MAX) && id != u32::MAX && !used.contains(&id);
    if system {
        let mut lowest = max;
        for &id in used {
            if id <= lowest && id >= min {
                // `id - 1` may fall below min (then the search restarts at the top).
                lowest = id.wrapping_sub(1);
            }
        }
        let start = if lowest < min || lowest == u32::MAX {
            max
        } else {
            lowest
        };
        (min..=start).rev().find(|&id| free(id)).or_else(|| {
            (start != max)
                .then(|| (min..=max).rev().find(|&id| free(id)))
                .flatten()
        })
    } else {
        let mut highest = min;
        for &id in used {
            if id >= highest && id <= max {
                highest = id.saturating_add(1);
            }
        }
        let start = if highest > max { min } else { highest };
        (start..=max)
            .find(|&id| free(id))
            .or_else(|| (start != min).then(|| (min..=max).find(|&id| free(id))).flatten())
    }
}

/// adduser's `first_avail_uid`/`first_avail_gid`: the lowest free id of the range.
pub fn adduser_allocate(used: impl Fn(u32) -> bool, min: u32, max: u32) -> Option<u32> {
    (min..=max).find(|&id| !used(id))
}

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
}

/// Parsed options (letter, value) and the remaining operands.
type Parsed = (Vec<(char, Option<String>)>, Vec<String>);

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
            'l' | 'o' => {}
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

/// `usermod -a -G G1,G2 USER` (the only form scripts use to add members).
fn parse_usermod(args: &[String]) -> Option<(Vec<String>, String)> {
    let (opts, rest) = getopt(args, &[('G', "groups")], &[('a', "append")]).ok()?;
    let append = opts.iter().any(|(c, _)| *c == 'a');
    let groups = opts.iter().find(|(c, _)| *c == 'G')?.1.clone()?;
    match rest.as_slice() {
        [user] if append => Some((
            groups
                .split(',')
                .filter(|g| !g.is_empty())
                .map(str::to_owned)
                .collect(),
            user.clone(),
        )),
        _ => None,
    }
}

fn with_overrides(defs: &LoginDefs, overrides: &[(String, String)]) -> LoginDefs {
    let mut d = defs.clone();
    for (k, v) in overrides {
        d.values.insert(0, (k.clone(), v.clone()));
    }
    d
}

/// groupadd: the group (and its gshadow line); an explicit gid must be free.
fn groupadd(
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
fn useradd(db: &mut Db, call: &UseraddCall, day: u64, defs: Option<&LoginDefs>) -> Result<(), String> {
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

/// chfn's rebuild of the gecos with some fields replaced (`None`: kept).
fn chfn(db: &mut Db, user: &str, fields: [Option<&str>; 5]) -> Result<(), String> {
    let row = db
        .passwd
        .iter_mut()
        .find(|r| r[0] == user)
        .ok_or_else(|| format!("user `{user}` does not exist"))?;
    let old = row.get(4).cloned().unwrap_or_default();
    let mut parts = old.splitn(5, ',').map(str::to_owned).collect::<Vec<_>>();
    parts.resize(5, String::new());
    for (i, f) in fields.iter().enumerate() {
        if let Some(f) = f {
            parts[i] = (*f).to_owned();
        }
    }
    let slop = &parts[4];
    let gecos = format!(
        "{},{},{},{}{}{}",
        parts[0],
        parts[1],
        parts[2],
        parts[3],
        if slop.is_empty() { "" } else { "," },
        slop
    );
    while row.len() < 7 {
        row.push(String::new());
    }
    row[4] = gecos;
    Ok(())
}

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

/// A home directory to make after the account files are written.
struct Home {
    path: String,
    uid: u32,
    gid: u32,
    mode: u32,
}

/// adduser's options (Getopt::Long: `--opt`/`-opt`, `=VALUE` or the next word, unique prefixes).
#[derive(Debug, Default, Clone)]
struct AdduserArgs {
    system: bool,
    group: bool,
    ingroup: Option<String>,
    home: Option<String>,
    shell: Option<String>,
    comment: Option<String>,
    no_create_home: bool,
    uid: Option<u32>,
    gid: Option<u32>,
    firstuid: Option<u32>,
    lastuid: Option<u32>,
    firstgid: Option<u32>,
    lastgid: Option<u32>,
    name_check: u8,
    disabled_login: bool,
    conf: Vec<String>,
    names: Vec<String>,
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

fn parse_adduser(args: &[String]) -> Result<AdduserArgs, String> {
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
        let matches: Vec<&(&str, bool)> = match ADDUSER_OPTS.iter().find(|(n, _)| *n == key) {
            Some(m) => vec![m],
            None => ADDUSER_OPTS.iter().filter(|(n, _)| n.starts_with(key)).collect(),
        };
        let [(name, takes)] = matches.as_slice() else {
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

fn adduser(
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
        if let Ok(Some(b)) = super::read_file(tree, &super::tree_path(p)) {
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
        return db.add_member(&names[1], &names[0]);
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
    let call = UseraddCall {
        name: name.clone(),
        system: true,
        uid: Some(uid),
        group: ingroup,
        home: Some(home.clone()),
        shell: Some(shell),
        ..UseraddCall::default()
    };
    useradd(db, &call, day, Some(&defs))?;
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

#[cfg(test)]
mod tests {
    use super::super::Overlay;
    use super::super::testutil::MemTree;
    use super::*;

    /// base-passwd's master files after `shadowconfig on` (as `accounts` writes them).
    fn base() -> MemTree {
        let mut t = MemTree::new();
        t.file(
            "etc/passwd",
            b"root:x:0:0:root:/root:/bin/bash\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n",
        )
        .file(
            "etc/group",
            b"root:x:0:\nshadow:x:42:\nusers:x:100:\nnogroup:x:65534:\n",
        )
        .file(
            "etc/shadow",
            b"root:*:19000:0:99999:7:::\nnobody:*:19000:0:99999:7:::\n",
        )
        .file("etc/gshadow", b"root:*::\nshadow:*::\nusers:*::\nnogroup:*::\n")
        .dir("var/lib")
        .dir("run");
        t
    }

    fn run(t: &MemTree, cmds: &[&str]) -> MemTree {
        let mut o = Overlay::new(t);
        for c in cmds {
            let argv: Vec<String> = c.split(' ').map(str::to_owned).collect();
            apply(&mut o, &argv[0], &argv[1..], 19500).unwrap_or_else(|e| panic!("{c}: {e}"));
        }
        let (files, removed) = o.into_changes();
        let mut m = t.clone();
        m.apply(&Changes { files, removed });
        m
    }

    fn tail(m: &MemTree, path: &str, n: usize) -> Vec<String> {
        let t = m.text(path);
        let lines: Vec<String> = t.lines().map(str::to_owned).collect();
        lines[lines.len() - n..].to_vec()
    }

    #[test]
    fn apt_system_user_as_adduser_makes_it() {
        // apt's postinst, verbatim.
        let m = run(
            &base(),
            &["adduser --force-badname --system --home /nonexistent --no-create-home --quiet _apt"],
        );
        assert_eq!(
            tail(&m, "etc/passwd", 1),
            ["_apt:x:100:65534::/nonexistent:/usr/sbin/nologin"]
        );
        assert_eq!(tail(&m, "etc/shadow", 1), ["_apt:!:19500::::::"]);
        // No group of its own: nogroup; group files untouched.
        assert_eq!(m.text("etc/group"), base().text("etc/group"));
        assert!(!m.entries.contains_key("nonexistent"));
    }

    #[test]
    fn system_ids_are_the_lowest_free_ascending() {
        let m = run(
            &base(),
            &[
                "adduser --system --quiet a",
                // uid 101; its group takes the lowest free gid (101: 100 is `users`).
                "adduser --system --group --quiet b",
                "addgroup --system --quiet ssl-cert",
                "adduser --system --ingroup ssl-cert --quiet c",
                // An existing system user is success, nothing changes.
                "adduser --system --quiet a",
            ],
        );
        assert_eq!(
            tail(&m, "etc/passwd", 3),
            [
                "a:x:100:65534::/nonexistent:/usr/sbin/nologin",
                "b:x:101:101::/nonexistent:/usr/sbin/nologin",
                "c:x:102:102::/nonexistent:/usr/sbin/nologin",
            ]
        );
        assert_eq!(tail(&m, "etc/group", 2), ["b:x:101:", "ssl-cert:x:102:"]);
        assert_eq!(tail(&m, "etc/gshadow", 2), ["b:!::", "ssl-cert:!::"]);
    }

    #[test]
    fn adduser_options_home_shell_gecos_membership() {
        // postgresql-common's calls.
        let mut t = base();
        t.dir("var/lib/postgresql");
        let m = run(
            &t,
            &[
                "addgroup --quiet --system ssl-cert",
                "adduser --system --quiet --home /var/lib/postgresql --no-create-home --shell /bin/bash --group --gecos PostgreSQL_administrator postgres",
                "adduser --quiet postgres ssl-cert",
                "adduser --quiet postgres ssl-cert",
                "adduser --quiet postgres postgres",
            ],
        );
        assert_eq!(
            tail(&m, "etc/passwd", 1),
            ["postgres:x:100:102:PostgreSQL_administrator,,,:/var/lib/postgresql:/bin/bash"]
        );
        assert_eq!(
            tail(&m, "etc/group", 2),
            ["ssl-cert:x:101:postgres", "postgres:x:102:"]
        );
        assert_eq!(
            tail(&m, "etc/gshadow", 2),
            ["ssl-cert:!::postgres", "postgres:!::"]
        );
        // --gecos with commas: chfn -f/-r then -w/-h.
        let m = run(&base(), &["adduser --system --gecos=A,B,C,D x"]);
        assert_eq!(
            tail(&m, "etc/passwd", 1),
            ["x:x:100:65534:A,B,C,D:/nonexistent:/usr/sbin/nologin"]
        );
    }

    #[test]
    fn adduser_makes_the_home_owned_by_the_user() {
        let m = run(
            &base(),
            &["adduser --system --group --home /var/lib/svc/data svc"],
        );
        let (e, _) = &m.entries["var/lib/svc/data"];
        assert_eq!(
            (e.uid, e.gid, e.mode, e.uname.as_str(), e.gname.as_str()),
            (100, 101, 0o755, "svc", "svc")
        );
        let (p, _) = &m.entries["var/lib/svc"];
        assert_eq!((p.uid, p.gid, p.mode), (0, 0, 0o755));
        // adduser.conf's SYS_DIR_MODE and FIRST_SYSTEM_UID are honoured.
        let mut t = base();
        t.file(
            "etc/adduser.conf",
            b"# comment\nSYS_DIR_MODE=0750\nFIRST_SYSTEM_UID = 200\n",
        );
        let m = run(&t, &["adduser --system --home /srv/x x"]);
        assert_eq!(m.entries["srv/x"].0.mode, 0o750);
        assert_eq!(
            tail(&m, "etc/passwd", 1),
            ["x:x:200:65534::/srv/x:/usr/sbin/nologin"]
        );
        // An existing home is left alone.
        let mut t = base();
        t.dir("srv/y");
        let m = run(&t, &["adduser --system --home /srv/y y"]);
        assert_eq!(m.entries["srv/y"].0.uid, 0);
    }

    #[test]
    fn adduser_uid_gid_and_bad_names() {
        let m = run(&base(), &["adduser --system --uid 150 --gid 100 x"]);
        assert_eq!(
            tail(&m, "etc/passwd", 1),
            ["x:x:150:100::/nonexistent:/usr/sbin/nologin"]
        );
        let b = base();
        let mut o = Overlay::new(&b);
        let argv = |s: &str| s.split(' ').map(str::to_owned).collect::<Vec<_>>();
        assert!(apply(&mut o, "adduser", &argv("--system Bad"), 1).is_err());
        assert!(apply(&mut o, "adduser", &argv("--system --force-badname Bad"), 1).is_ok());
        assert!(apply(&mut o, "adduser", &argv("--system --group --gid 5 x"), 1).is_err());
        // The root user exists and is not a system user: adduser exits without a change (what
        // apt's `adduser … _apt || true` meets with base-passwd's static _apt, uid 42).
        let before = o.read("etc/passwd").map(|r| r.unwrap());
        assert!(apply(&mut o, "adduser", &argv("--system root"), 1).is_ok());
        assert!(apply(&mut o, "useradd", &argv("-r root"), 1).is_ok());
        assert_eq!(o.read("etc/passwd").map(|r| r.unwrap()), before);
    }

    #[test]
    fn normal_adduser_takes_a_pair_from_1000() {
        let m = run(
            &base(),
            &["adduser --disabled-password --gecos Dev --home /home/dev dev"],
        );
        assert_eq!(
            tail(&m, "etc/passwd", 1),
            ["dev:x:1000:1000:Dev,,,:/home/dev:/bin/bash"]
        );
        assert_eq!(tail(&m, "etc/shadow", 1), ["dev:!:19500::::::"]);
        assert_eq!(m.entries["home/dev"].0.mode, 0o700);
    }

    #[test]
    fn useradd_and_groupadd_allocate_from_the_top() {
        let mut t = base();
        t.file(
            "etc/login.defs",
            b"UMASK\t\t022\nUID_MIN 1000\nUSERGROUPS_ENAB yes\nPASS_MAX_DAYS\t99999\nPASS_MIN_DAYS\t0\nPASS_WARN_AGE\t7\n",
        );
        let m = run(
            &t,
            &[
                "groupadd -r grp",
                "useradd -r -s /usr/sbin/nologin -d /var/lib/u -M -c User u",
                "useradd --system -g grp -G users v",
                "useradd -m -u 1500 w",
            ],
        );
        assert_eq!(
            tail(&m, "etc/passwd", 3),
            [
                "u:x:999:998:User:/var/lib/u:/usr/sbin/nologin",
                "v:x:998:999::/home/v:/bin/sh",
                "w:x:1500:1500::/home/w:/bin/sh",
            ]
        );
        assert_eq!(
            tail(&m, "etc/group", 5),
            [
                "users:x:100:v",
                "nogroup:x:65534:",
                "grp:x:999:",
                "u:x:998:",
                "w:x:1500:"
            ]
        );
        // -r: empty aging fields; otherwise login.defs' values.
        assert_eq!(
            tail(&m, "etc/shadow", 2),
            ["v:!:19500::::::", "w:!:19500:0:99999:7:::"]
        );
        let h = &m.entries["home/w"].0;
        assert_eq!((h.uid, h.gid, h.mode), (1500, 1500, 0o755));
        assert!(!m.entries.contains_key("var/lib/u"));
    }

    #[test]
    fn shadow_allocation_order() {
        // System: below the lowest used id of the range, then the gaps from the top.
        assert_eq!(shadow_allocate(&[0, 65534], 101, 999, true), Some(999));
        assert_eq!(shadow_allocate(&[999, 998], 101, 999, true), Some(997));
        assert_eq!(shadow_allocate(&[500, 999], 101, 999, true), Some(499));
        assert_eq!(shadow_allocate(&[101, 999], 101, 999, true), Some(998));
        // Others: above the highest used one, then the gaps from the bottom.
        assert_eq!(shadow_allocate(&[1000, 1005], 1000, 60000, false), Some(1006));
        assert_eq!(shadow_allocate(&[60000], 1000, 60000, false), Some(1000));
        assert_eq!(shadow_allocate(&[101, 102], 101, 102, true), None);
        // adduser: the lowest free id, ascending.
        assert_eq!(adduser_allocate(|i| i == 100 || i == 102, 100, 999), Some(101));
        assert_eq!(adduser_allocate(|_| true, 100, 999), None);
    }

    #[test]
    fn option_forms() {
        let v = |s: &str| s.split(' ').map(str::to_owned).collect::<Vec<_>>();
        let c = parse_useradd(&v("-rMs /bin/false -d/x -u 5 -gstaff -G a,b -c C n")).unwrap();
        assert_eq!(
            (
                c.system,
                c.create_home,
                c.shell.as_deref(),
                c.home.as_deref(),
                c.uid
            ),
            (true, false, Some("/bin/false"), Some("/x"), Some(5))
        );
        assert_eq!(
            (c.group.as_deref(), c.groups.clone(), c.comment.as_deref()),
            (Some("staff"), v("a b"), Some("C"))
        );
        let c = parse_useradd(&v("--system --shell=/bin/sh --home-dir /h --create-home n")).unwrap();
        assert!(c.system && c.create_home);
        assert!(parse_useradd(&v("-Z x n")).is_err());
        let g = parse_groupadd(&v("-r -g 77 grp")).unwrap();
        assert_eq!((g.system, g.gid, g.name.as_str()), (true, Some(77), "grp"));
        let a = parse_adduser(&v("--sys --no-create -q --home=/h --shell /s --comment x n")).unwrap();
        assert!(a.system && a.no_create_home);
        assert_eq!(
            (a.home.as_deref(), a.shell.as_deref(), a.comment.as_deref()),
            (Some("/h"), Some("/s"), Some("x"))
        );
        assert!(parse_adduser(&v("--g 1 n")).is_err(), "ambiguous prefix");
        assert_eq!(parse_usermod(&v("-a -G g1,g2 u")), Some((v("g1 g2"), "u".into())));
        assert_eq!(parse_usermod(&v("-G g u")), None);
        assert!(handles("adduser", &[]) && !handles("usermod", &v("-L u")));
    }
}
