//! `systemd-sysusers` (systemd 252, bookworm's), as a postinst runs it on the image itself
//! (`systemd-sysusers basic.conf systemd-journal.conf`, dh_installsysusers' form, or no argument:
//! every `sysusers.d` file).
//!
//! What the tool does, as facts from its source (`src/sysusers/sysusers.c`):
//! - Configuration files named on the command line are looked up by name in `/etc/sysusers.d`,
//!   `/run/sysusers.d`, `/usr/local/lib/sysusers.d`, `/usr/lib/sysusers.d` (and `/lib/sysusers.d`,
//!   bookworm's build is split-usr), the first found wins; without arguments every `*.conf` of
//!   those directories is read, sorted by file name, one name hiding the same name further down.
//!   `--inline` takes the arguments as lines.
//! - Lines `u NAME ID GECOS HOME SHELL`, `g NAME ID`, `m USER GROUP`, `r - LOW-HIGH`; `-` is
//!   empty; words may be quoted. The first item of a name wins. `m` lines make the user and the
//!   group implicitly when no `u`/`g` line names them.
//! - Groups are processed first (in file order), then users. A user's group is the `g` item of
//!   its name (or its `ID`'s `:GROUP`) when that is being created, else an existing group, else
//!   a group of the user's name is made with it.
//! - Ids are allocated from one cursor, shared by users and groups, that goes **down** from the
//!   top of the range (`SYS_UID_MAX`/`SYS_GID_MAX`, 999, capped by login.defs; `r` lines replace
//!   the range) and never back up: a uid must not be a uid in use nor the gid of a group of another
//!   name; a gid must be neither a gid nor a uid in use. A user with a new group takes the group's
//!   id as uid when it can; a group made for a user takes the uid's id.
//! - New entries are appended: `NAME:x:UID:GID:GECOS:HOME:SHELL` (home `/`, shell
//!   `/usr/sbin/nologin`, `/bin/sh` for uid 0), `NAME:!*:DAY::::::` (the day it runs; debcast's is
//!   SOURCE_DATE_EPOCH's), `NAME:x:GID:MEMBERS`, `NAME:!*::MEMBERS`; the members of a group that
//!   gained one are sorted. A file is rewritten only when it changes, its old content kept as
//!   `FILE-` with its owner and mode; a missing shadow file is created mode 0000. It takes
//!   `/etc/.pwd.lock` in any case.

use super::super::{Changes, Overlay, TreeView};
use super::db::{Db, FILES, SYSUSERS_BACKUP_MASK, id_of};
use crate::entry::EntryKind;

/// The directories `sysusers.d` files are looked up in, first wins.
const DIRS: &[&str] = &[
    "etc/sysusers.d",
    "run/sysusers.d",
    "usr/local/lib/sysusers.d",
    "usr/lib/sysusers.d",
    "lib/sysusers.d",
];

/// systemd's NOLOGIN on Debian.
const NOLOGIN: &str = "/usr/sbin/nologin";

/// One `systemd-sysusers` call.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SysusersCall {
    pub inline: bool,
    pub dry_run: bool,
    /// Configuration file names (or lines with `--inline`); empty: every file.
    pub args: Vec<String>,
}

pub fn parse_sysusers(args: &[String]) -> Result<SysusersCall, String> {
    let mut call = SysusersCall::default();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--inline" => call.inline = true,
            "--dry-run" => call.dry_run = true,
            "--no-pager" => {}
            // `${DPKG_ROOT:+--root="$DPKG_ROOT"}` is empty under dpkg; `--root=/` is the image.
            "--root=/" | "--root=" => {}
            "--root" => match it.next().map(String::as_str) {
                Some("/" | "") => {}
                _ => return Err("--root other than the image's root is not emulated".into()),
            },
            s if s.starts_with("--root=") => {
                return Err("--root other than the image's root is not emulated".into());
            }
            s if s.starts_with('-') && s.len() > 1 => {
                return Err(format!("option {s} is not emulated"));
            }
            _ => call.args.push(a.clone()),
        }
    }
    Ok(call)
}

/// A `u` or `g` item (a user item also stands for the group it may make).
#[derive(Debug, Clone, Default)]
struct Item {
    name: String,
    uid: Option<u32>,
    gid: Option<u32>,
    group_name: Option<String>,
    uid_path: Option<String>,
    gid_path: Option<String>,
    description: Option<String>,
    home: Option<String>,
    shell: Option<String>,
    /// The gid was given (`u NAME UID:GID`) or is the queued group's: it must exist.
    id_set_strict: bool,
    todo_user: bool,
    todo_group: bool,
}

/// The parsed configuration: items in first-seen order.
#[derive(Debug, Default)]
struct Config {
    users: Vec<Item>,
    groups: Vec<Item>,
    /// group -> members, in first-seen order.
    members: Vec<(String, Vec<String>)>,
    ranges: Vec<(u32, u32)>,
}

/// Splits a line into words as systemd's `extract_first_word(…, EXTRACT_UNQUOTE)`: whitespace
/// separates, `"…"` and `'…'` quote, a backslash escapes the next character.
fn words(line: &str) -> Result<Vec<String>, String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut in_word = false;
    let mut quote: Option<char> = None;
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (_, '\\') => {
                cur.push(chars.next().ok_or("a line ends in a backslash")?);
                in_word = true;
            }
            (Some(_), c) => cur.push(c),
            (None, '"' | '\'') => {
                quote = Some(c);
                in_word = true;
            }
            (None, c) if c.is_whitespace() => {
                if in_word {
                    out.push(std::mem::take(&mut cur));
                    in_word = false;
                }
            }
            (None, c) => {
                cur.push(c);
                in_word = true;
            }
        }
    }
    if quote.is_some() {
        return Err("unterminated quote".into());
    }
    if in_word {
        out.push(cur);
    }
    Ok(out)
}

fn field(w: Option<&String>) -> Result<Option<String>, String> {
    match w.map(String::as_str) {
        None | Some("" | "-") => Ok(None),
        Some(s) if s.contains('%') => Err(format!("specifiers (`{s}`) are not emulated")),
        Some(s) => Ok(Some(s.to_owned())),
    }
}

fn id(s: &str) -> Result<u32, String> {
    s.parse::<u32>()
        .ok()
        .filter(|v| *v != u32::MAX && *v != u32::from(u16::MAX))
        .ok_or_else(|| format!("`{s}` is not a valid id"))
}

impl Config {
    fn parse_line(&mut self, line: &str) -> Result<(), String> {
        let w = words(line)?;
        if w.len() < 2 {
            return Err(format!("`{line}`: missing action and name columns"));
        }
        if w.len() > 6 {
            return Err(format!("`{line}`: trailing garbage"));
        }
        let name = field(w.get(1))?;
        let idf = field(w.get(2))?;
        let (description, home, shell) = (field(w.get(3))?, field(w.get(4))?, field(w.get(5))?);
        match w[0].as_str() {
            "r" => {
                let r = idf.ok_or("an `r` line needs a range")?;
                let (lo, hi) = match r.split_once('-') {
                    Some((a, b)) => (id(a)?, id(b)?),
                    None => (id(&r)?, id(&r)?),
                };
                if lo > hi {
                    return Err(format!("invalid range {r}"));
                }
                self.ranges.push((lo, hi));
            }
            "m" => {
                let user = name.ok_or("an `m` line needs a user")?;
                let group = idf.ok_or("an `m` line needs a group")?;
                match self.members.iter_mut().find(|(g, _)| *g == group) {
                    Some((_, m)) if m.contains(&user) => {}
                    Some((_, m)) => m.push(user),
                    None => self.members.push((group, vec![user])),
                }
            }
            "u" => {
                let name = name.ok_or("a `u` line needs a name")?;
                let mut i = Item {
                    name,
                    description,
                    home,
                    shell,
                    ..Item::default()
                };
                if let Some(spec) = idf {
                    if spec.starts_with('/') {
                        i.uid_path = Some(spec);
                    } else {
                        let uid = match spec.split_once(':') {
                            Some((u, g)) => {
                                match g.parse::<u32>() {
                                    Ok(_) => i.gid = Some(id(g)?),
                                    Err(_) => i.group_name = Some(g.to_owned()),
                                }
                                i.id_set_strict = i.gid.is_some();
                                u.to_owned()
                            }
                            None => spec,
                        };
                        if uid != "-" {
                            i.uid = Some(id(&uid)?);
                        }
                    }
                }
                if !self.users.iter().any(|u| u.name == i.name) {
                    self.users.push(i);
                }
            }
            "g" => {
                let name = name.ok_or("a `g` line needs a name")?;
                if description.is_some() || home.is_some() || shell.is_some() {
                    return Err(format!("`{line}`: a `g` line takes no GECOS, home or shell"));
                }
                let mut i = Item {
                    name,
                    ..Item::default()
                };
                match idf {
                    Some(p) if p.starts_with('/') => i.gid_path = Some(p),
                    Some(g) => i.gid = Some(id(&g)?),
                    None => {}
                }
                if !self.groups.iter().any(|g| g.name == i.name) {
                    self.groups.push(i);
                }
            }
            other => return Err(format!("unknown line type `{other}`")),
        }
        Ok(())
    }

    fn parse_text(&mut self, text: &str, file: &str) -> Result<(), String> {
        for (n, line) in text.lines().enumerate() {
            let l = line.trim();
            if l.is_empty() || l.starts_with('#') {
                continue;
            }
            self.parse_line(l).map_err(|e| format!("{file}:{}: {e}", n + 1))?;
        }
        Ok(())
    }

    /// `add_implicit`: users and groups named only by `m` lines.
    fn add_implicit(&mut self) {
        for (group, users) in self.members.clone() {
            for u in users {
                if !self.users.iter().any(|i| i.name == u) {
                    self.users.push(Item {
                        name: u,
                        ..Item::default()
                    });
                }
            }
            if !self.users.iter().any(|i| i.name == group) && !self.groups.iter().any(|i| i.name == group) {
                self.groups.push(Item {
                    name: group,
                    ..Item::default()
                });
            }
        }
    }
}

/// The configuration files a call reads, as (shown name, text).
fn config_files(tree: &dyn TreeView, call: &SysusersCall) -> Result<Vec<(String, String)>, String> {
    let read = |path: &str| -> Result<Option<String>, String> {
        match super::super::read_file(tree, path) {
            Ok(Some(b)) => String::from_utf8(b)
                .map(Some)
                .map_err(|_| format!("/{path} is not UTF-8")),
            Ok(None) => Ok(None),
            Err(e) => Err(e.to_string()),
        }
    };
    // A name masked by a link to /dev/null (or an empty file) reads as nothing.
    let lookup = |name: &str| -> Result<Option<(String, String)>, String> {
        if name.starts_with('/') {
            let p = super::super::tree_path(name);
            return Ok(read(&p)?.map(|t| (format!("/{p}"), t)));
        }
        for d in DIRS {
            let p = format!("{d}/{name}");
            if tree.entry(&p).is_some() {
                return Ok(Some((format!("/{p}"), read(&p)?.unwrap_or_default())));
            }
        }
        Ok(None)
    };
    if !call.args.is_empty() {
        return call
            .args
            .iter()
            .map(|a| lookup(a)?.ok_or_else(|| format!("no sysusers.d file `{a}` in the image")))
            .collect();
    }
    let mut names: Vec<String> = Vec::new();
    for d in DIRS {
        let prefix = format!("{d}/");
        for p in tree.paths() {
            if let Some(n) = p.strip_prefix(&prefix)
                && !n.contains('/')
                && n.ends_with(".conf")
                && !names.iter().any(|x| x == n)
            {
                names.push(n.to_owned());
            }
        }
    }
    names.sort();
    let mut out = Vec::new();
    for n in names {
        if let Some(f) = lookup(&n)? {
            out.push(f);
        }
    }
    Ok(out)
}

/// The allocation state of one run.
struct Alloc<'d> {
    db: &'d Db,
    /// Ranges, sorted and merged.
    ranges: Vec<(u32, u32)>,
    search: u32,
    todo_uids: Vec<(u32, String)>,
    todo_gids: Vec<(u32, String)>,
}

impl Alloc<'_> {
    /// `uid_range_next_lower`: the next id below the cursor in a range, the cursor moving there.
    fn next_lower(&mut self) -> Option<u32> {
        let candidate = self.search.wrapping_sub(1);
        let mut closest = None;
        for &(lo, hi) in &self.ranges {
            if candidate >= lo && candidate <= hi {
                self.search = candidate;
                return Some(candidate);
            }
            if hi < candidate {
                closest = Some(hi);
            }
        }
        self.search = closest?;
        closest
    }

    fn in_range(&self, id: u32) -> bool {
        self.ranges.iter().any(|&(lo, hi)| id >= lo && id <= hi)
    }

    fn uid_is_ok(&self, uid: u32, name: &str, check_with_gid: bool) -> bool {
        if self.todo_uids.iter().any(|(u, _)| *u == uid) {
            return false;
        }
        if check_with_gid && self.todo_gids.iter().any(|(g, n)| *g == uid && n != name) {
            return false;
        }
        if self.db.uid_used(uid) {
            return false;
        }
        !(check_with_gid && self.db.group_name(uid).is_some_and(|n| n != name))
    }

    fn gid_is_ok(&self, gid: u32) -> bool {
        !(self.todo_gids.iter().any(|(g, _)| *g == gid)
            || self.todo_uids.iter().any(|(u, _)| *u == gid)
            || self.db.gid_used(gid)
            || self.db.uid_used(gid))
    }
}

/// `root_stat` of an item's path: (uid, gid) of what it names in the image.
fn stat_ids(tree: &dyn TreeView, path: &str) -> Option<(u32, u32)> {
    let p = super::super::resolve(tree, &super::super::tree_path(path))?;
    tree.entry(&p).map(|e| (e.uid, e.gid))
}

/// `read_id_from_file` for a gid: the gid path's group, else the uid path's.
fn gid_from_file(tree: &dyn TreeView, i: &Item) -> Option<u32> {
    i.gid_path
        .as_deref()
        .and_then(|p| stat_ids(tree, p))
        .or_else(|| i.uid_path.as_deref().and_then(|p| stat_ids(tree, p)))
        .map(|(_, g)| g)
}

/// `read_id_from_file` for a uid: the uid path's owner, else the gid path's group.
fn uid_from_file(tree: &dyn TreeView, i: &Item) -> Option<u32> {
    i.uid_path
        .as_deref()
        .and_then(|p| stat_ids(tree, p))
        .map(|(u, _)| u)
        .or_else(|| {
            i.gid_path
                .as_deref()
                .and_then(|p| stat_ids(tree, p))
                .map(|(_, g)| g)
        })
}

fn add_group(a: &mut Alloc<'_>, tree: &dyn TreeView, i: &mut Item) -> Result<(), String> {
    if let Some(g) = a.db.gid_of(&i.name) {
        i.gid = Some(g);
        return Ok(());
    }
    if let Some(g) = i.gid {
        let ok = a.gid_is_ok(g);
        if i.id_set_strict {
            return if ok {
                Err(format!("{}: please create GID {g}", i.name))
            } else {
                Ok(())
            };
        }
        if !ok {
            i.gid = None;
        }
    }
    if i.gid.is_none()
        && let Some(u) = i.uid
        && a.gid_is_ok(u)
    {
        i.gid = Some(u);
    }
    if i.gid.is_none()
        && let Some(c) = gid_from_file(tree, i)
        && c > 0
        && a.in_range(c)
        && a.gid_is_ok(c)
    {
        i.gid = Some(c);
    }
    if i.gid.is_none() {
        loop {
            let c = a
                .next_lower()
                .ok_or_else(|| format!("no free group ID available for {}", i.name))?;
            if a.gid_is_ok(c) {
                i.gid = Some(c);
                break;
            }
        }
    }
    let gid = i.gid.ok_or("no gid")?;
    a.todo_gids.push((gid, i.name.clone()));
    i.todo_group = true;
    Ok(())
}

fn add_user(a: &mut Alloc<'_>, tree: &dyn TreeView, i: &mut Item) -> Result<(), String> {
    if let Some(r) = a.db.user(&i.name) {
        i.uid = id_of(r);
        return Ok(());
    }
    if let Some(u) = i.uid
        && !a.uid_is_ok(u, &i.name, !i.id_set_strict)
    {
        i.uid = None;
    }
    if i.uid.is_none()
        && let Some(c) = uid_from_file(tree, i)
        && c > 0
        && a.in_range(c)
        && a.uid_is_ok(c, &i.name, true)
    {
        i.uid = Some(c);
    }
    if i.uid.is_none()
        && let Some(g) = i.gid
        && a.uid_is_ok(g, &i.name, true)
    {
        i.uid = Some(g);
    }
    if i.uid.is_none() {
        loop {
            let c = a
                .next_lower()
                .ok_or_else(|| format!("no free user ID available for {}", i.name))?;
            if a.uid_is_ok(c, &i.name, true) {
                i.uid = Some(c);
                break;
            }
        }
    }
    let uid = i.uid.ok_or("no uid")?;
    a.todo_uids.push((uid, i.name.clone()));
    i.todo_user = true;
    Ok(())
}

/// The allocation range without `r` lines: SYS_UID_MIN (1) to the least of 999, SYS_UID_MAX and
/// SYS_GID_MAX of the image's `/etc/login.defs`.
fn default_range(tree: &dyn TreeView) -> Vec<(u32, u32)> {
    let defs = super::db::login_defs(tree);
    let num = |k: &str, d: u32| defs.get(k).and_then(|v| v.parse::<u32>().ok()).unwrap_or(d);
    let (mut min, uid_max, gid_max) = (
        num("SYS_UID_MIN", 1),
        num("SYS_UID_MAX", 999),
        num("SYS_GID_MAX", 999),
    );
    if min > uid_max {
        min = (uid_max.saturating_sub(1)).min(1);
    }
    let end = 999.min(uid_max).min(gid_max);
    if min < end { vec![(min, end)] } else { Vec::new() }
}

fn merge(mut r: Vec<(u32, u32)>) -> Vec<(u32, u32)> {
    r.sort_unstable();
    let mut out: Vec<(u32, u32)> = Vec::new();
    for (lo, hi) in r {
        match out.last_mut() {
            Some(last) if lo <= last.1.saturating_add(1) => last.1 = last.1.max(hi),
            _ => out.push((lo, hi)),
        }
    }
    out
}

/// Applies one `systemd-sysusers` call to the overlay's account files.
pub fn apply(overlay: &mut Overlay<'_>, args: &[String], day: u64) -> Result<(), String> {
    let call = parse_sysusers(args)?;
    let mut cfg = Config::default();
    if call.inline {
        for (n, a) in call.args.iter().enumerate() {
            cfg.parse_line(a)
                .map_err(|e| format!("(argument):{}: {e}", n + 1))?;
        }
    } else {
        for (name, text) in config_files(overlay, &call)? {
            cfg.parse_text(&text, &name)?;
        }
    }
    if call.dry_run {
        return Ok(());
    }
    cfg.add_implicit();
    let mut db = Db::load(overlay)?;
    let ranges = if cfg.ranges.is_empty() {
        default_range(overlay)
    } else {
        merge(cfg.ranges.clone())
    };
    let (mut groups, mut users) = (std::mem::take(&mut cfg.groups), std::mem::take(&mut cfg.users));
    {
        let mut a = Alloc {
            db: &db,
            ranges,
            search: u32::MAX,
            todo_uids: Vec::new(),
            todo_gids: Vec::new(),
        };
        // Errors of one item are the tool's log lines: it goes on with the others.
        for g in &mut groups {
            let _ = add_group(&mut a, overlay, g);
        }
        for u in &mut users {
            let queued = groups
                .iter()
                .find(|g| g.todo_group && g.name == *u.group_name.as_ref().unwrap_or(&u.name));
            if let Some(j) = queued {
                u.gid = j.gid;
                u.id_set_strict = true;
            } else if let Some(gn) = &u.group_name {
                match a.db.gid_of(gn) {
                    Some(g) => {
                        u.gid = Some(g);
                        u.id_set_strict = true;
                    }
                    None => continue,
                }
            } else if add_group(&mut a, overlay, u).is_err() {
                continue;
            }
            let _ = add_user(&mut a, overlay, u);
        }
    }
    let before = db.start_tool();
    write(&mut db, &groups, &users, &cfg.members, day);
    db.finish_tool(before, SYSUSERS_BACKUP_MASK);
    let shadow_was = [
        overlay.entry(FILES[2]).is_some(),
        overlay.entry(FILES[3]).is_some(),
    ];
    db.store(overlay);
    // A shadow file sysusers creates is mode 0000.
    let mut fix = Changes::default();
    for (k, path) in [FILES[2], FILES[3]].iter().enumerate() {
        if !shadow_was[k]
            && let Some(e) = overlay.entry(path)
            && let Ok(Some(bytes)) = super::super::read_file(overlay, path)
        {
            let mut e = e.clone();
            e.mode = 0;
            e.kind = EntryKind::File {
                size: bytes.len() as u64,
            };
            fix.files.push((e, bytes));
        }
    }
    overlay.apply(fix);
    Ok(())
}

/// `write_files`: the new groups (the users' own among them, in the order they were queued) and
/// users appended, members merged in.
fn write(db: &mut Db, groups: &[Item], users: &[Item], members: &[(String, Vec<String>)], day: u64) {
    let members_of = |g: &str| members.iter().find(|(n, _)| n == g).map(|(_, m)| m.as_slice());
    // Existing groups gain members (sorted when any is added).
    let merge_into = |row: &mut Vec<String>, at: usize, add: &[String]| {
        while row.len() <= at {
            row.push(String::new());
        }
        let mut l: Vec<String> = row[at]
            .split(',')
            .filter(|m| !m.is_empty())
            .map(str::to_owned)
            .collect();
        let mut added = false;
        for m in add {
            if !l.contains(m) {
                l.push(m.clone());
                added = true;
            }
        }
        if added {
            l.sort();
            l.dedup();
            row[at] = l.join(",");
        }
    };
    let new_members = |g: &str| {
        let mut l: Vec<String> = members_of(g).map(<[String]>::to_vec).unwrap_or_default();
        l.sort();
        l.dedup();
        l.join(",")
    };
    // The queue in the order items were queued: groups first, then the users' own groups.
    let mut todo_groups: Vec<(&str, u32)> = groups
        .iter()
        .filter(|g| g.todo_group)
        .filter_map(|g| Some((g.name.as_str(), g.gid?)))
        .collect();
    todo_groups.extend(
        users
            .iter()
            .filter(|u| u.todo_group)
            .filter_map(|u| Some((u.name.as_str(), u.gid?))),
    );
    if !todo_groups.is_empty() || !members.is_empty() {
        for row in &mut db.group {
            if let Some(add) = members_of(&row[0]) {
                merge_into(row, 3, add);
            }
        }
        let mut gshadow = db.gshadow.take().unwrap_or_default();
        for row in &mut gshadow {
            if let Some(add) = members_of(&row[0]) {
                merge_into(row, 3, add);
            }
        }
        for (name, gid) in &todo_groups {
            db.group.push(vec![
                (*name).into(),
                "x".into(),
                gid.to_string(),
                new_members(name),
            ]);
            gshadow.push(vec![
                (*name).into(),
                "!*".into(),
                String::new(),
                new_members(name),
            ]);
        }
        // An absent gshadow stays absent unless sysusers has something to put in it.
        if !gshadow.is_empty() || !todo_groups.is_empty() {
            db.gshadow = Some(gshadow);
        }
    }
    let new_users: Vec<&Item> = users.iter().filter(|u| u.todo_user).collect();
    if new_users.is_empty() {
        return;
    }
    let mut shadow = db.shadow.take().unwrap_or_default();
    for u in new_users {
        let (Some(uid), Some(gid)) = (u.uid, u.gid) else {
            continue;
        };
        let shell = u
            .shell
            .clone()
            .unwrap_or_else(|| if uid == 0 { "/bin/sh" } else { NOLOGIN }.into());
        db.passwd.push(vec![
            u.name.clone(),
            "x".into(),
            uid.to_string(),
            gid.to_string(),
            u.description.clone().unwrap_or_default(),
            u.home.clone().unwrap_or_else(|| "/".into()),
            shell,
        ]);
        match shadow.iter_mut().find(|r| r[0] == u.name) {
            // An entry already there only gets the change day.
            Some(row) => {
                row.resize(row.len().max(9), String::new());
                row[2] = day.to_string();
            }
            None => {
                let mut row = vec![u.name.clone(), "!*".into(), day.to_string()];
                row.resize(9, String::new());
                shadow.push(row);
            }
        }
    }
    db.shadow = Some(shadow);
}
