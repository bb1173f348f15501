//! The account tables (passwd, group, shadow, gshadow) read as rows of fields and written back,
//! `/etc/login.defs`, and the id allocation of the shadow tools and of adduser.

use crate::entry::{Entry, EntryKind};

use super::super::{Changes, Overlay, TreeView};
/// The four account files as lines of fields (`None`: the file is absent), and what the tools
/// that changed them leave beside them.
#[derive(Debug, Clone, Default)]
pub struct Db {
    pub passwd: Vec<Vec<String>>,
    pub group: Vec<Vec<String>>,
    pub shadow: Option<Vec<Vec<String>>>,
    pub gshadow: Option<Vec<Vec<String>>>,
    /// Per file of [`FILES`]: the backup `FILE-` the last tool that changed it wrote.
    backups: [Option<Backup>; 4],
    /// A tool took the account files' lock (`/etc/.pwd.lock`, which stays behind).
    locked: bool,
}

/// A backup `FILE-`: the file's content before the tool's change, the file's owner, and its mode
/// masked as the tool masks it.
#[derive(Debug, Clone)]
struct Backup {
    text: String,
    mode_mask: u32,
}

/// The account files, in [`Db`]'s field order.
pub const FILES: [&str; 4] = ["etc/passwd", "etc/group", "etc/shadow", "etc/gshadow"];

/// The lock file glibc's `lckpwdf()` (the shadow tools) and systemd-sysusers create, empty, 0600,
/// and never remove.
pub const PWD_LOCK: &str = "etc/.pwd.lock";

/// The shadow tools' backups (`commonio.c`'s `create_backup`): the old file's owner, its mode
/// `& 0664`.
pub const SHADOW_BACKUP_MASK: u32 = 0o664;
/// systemd-sysusers' backups (`make_backup`): the old file's owner and whole mode.
pub const SYSUSERS_BACKUP_MASK: u32 = 0o7777;

fn read_rows(tree: &dyn TreeView, path: &str) -> Result<Option<Vec<Vec<String>>>, String> {
    match super::super::read_file(tree, path) {
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

pub(super) fn id_of(row: &[String]) -> Option<u32> {
    row.get(2).and_then(|v| v.parse().ok())
}

impl Db {
    pub fn load(tree: &dyn TreeView) -> Result<Db, String> {
        Ok(Db {
            passwd: read_rows(tree, FILES[0])?.ok_or("there is no /etc/passwd")?,
            group: read_rows(tree, FILES[1])?.ok_or("there is no /etc/group")?,
            shadow: read_rows(tree, FILES[2])?,
            gshadow: read_rows(tree, FILES[3])?,
            backups: Default::default(),
            locked: false,
        })
    }

    fn texts(&self) -> [Option<String>; 4] {
        let text = |rows: &Vec<Vec<String>>| rows.iter().map(|r| r.join(":") + "\n").collect::<String>();
        [
            Some(text(&self.passwd)),
            Some(text(&self.group)),
            self.shadow.as_ref().map(text),
            self.gshadow.as_ref().map(text),
        ]
    }

    /// The files as one tool run starts; [`Db::finish_tool`] compares with them.
    pub(super) fn start_tool(&self) -> [Option<String>; 4] {
        self.texts()
    }

    /// One tool run ended: it took the lock, and every file it changed that existed before gets
    /// the backup `FILE-` holding the content from before the run (a file the tool created has
    /// none, as `create_backup` runs only on a file it opened).
    pub(super) fn finish_tool(&mut self, before: [Option<String>; 4], mode_mask: u32) {
        self.locked = true;
        for (i, (old, new)) in before.into_iter().zip(self.texts()).enumerate() {
            if old != new
                && let Some(text) = old
            {
                self.backups[i] = Some(Backup { text, mode_mask });
            }
        }
    }

    /// One run of a tool that rewrites the files of `written` (indexes into [`FILES`]) whether
    /// or not their content changes (usermod and chage mark a file changed when they update an
    /// entry, and commonio then writes it and its backup): each gets the backup of its content
    /// from before the run.
    pub(super) fn finish_rewriting_tool(&mut self, before: [Option<String>; 4], written: &[usize]) {
        self.locked = true;
        for (i, old) in before.into_iter().enumerate() {
            if written.contains(&i)
                && let Some(text) = old
            {
                self.backups[i] = Some(Backup {
                    text,
                    mode_mask: SHADOW_BACKUP_MASK,
                });
            }
        }
    }

    /// A tool that chmods the backup it left (pwconv: `passwd-` 0600): its mode is masked so.
    pub(super) fn set_backup_mask(&mut self, file: usize, mask: u32) {
        if let Some(b) = self.backups.get_mut(file).and_then(Option::as_mut) {
            b.mode_mask = mask;
        }
    }

    pub(super) fn user(&self, name: &str) -> Option<&Vec<String>> {
        self.passwd.iter().find(|r| r[0] == name)
    }

    pub(super) fn group(&self, name: &str) -> Option<&Vec<String>> {
        self.group.iter().find(|r| r[0] == name)
    }

    pub(super) fn gid_of(&self, name: &str) -> Option<u32> {
        self.group(name).and_then(|r| id_of(r))
    }

    pub(super) fn group_name(&self, gid: u32) -> Option<String> {
        self.group
            .iter()
            .find(|r| id_of(r) == Some(gid))
            .map(|r| r[0].clone())
    }

    pub(super) fn uid_used(&self, id: u32) -> bool {
        self.passwd.iter().any(|r| id_of(r) == Some(id))
    }

    pub(super) fn gid_used(&self, id: u32) -> bool {
        self.group.iter().any(|r| id_of(r) == Some(id))
    }

    pub(super) fn ids_of(&self, user: &str) -> Option<(u32, u32)> {
        let r = self.user(user)?;
        Some((id_of(r)?, r.get(3)?.parse().ok()?))
    }

    /// groupadd's lines.
    pub(super) fn push_group(&mut self, name: &str, gid: u32) {
        self.group
            .push(vec![name.into(), "x".into(), gid.to_string(), String::new()]);
        if let Some(gs) = &mut self.gshadow {
            gs.push(vec![name.into(), "!".into(), String::new(), String::new()]);
        }
    }

    /// `usermod` as shadow's (4.13) runs it. A value equal to the current one is no change (the
    /// flag is dropped, as `process_flags` does); with no change left nothing is written, not
    /// even the lock. Otherwise passwd is rewritten (with its backup, whether or not its content
    /// changes) for `-g -c -d -s -p -L -U`, shadow for `-e -f -p -L -U` where the user has a
    /// shadow entry, group and gshadow where `-G` changes a member list. `day`: today, for
    /// `-p`'s last change.
    pub(super) fn usermod(&mut self, call: &super::useradd::Usermod, day: u64) -> Result<(), String> {
        let user = call.user.as_str();
        let row = self
            .passwd
            .iter()
            .find(|r| r[0] == user)
            .ok_or_else(|| format!("user `{user}` does not exist"))?
            .clone();
        let fields = &call.fields;
        let mut wanted: Vec<(usize, String)> = Vec::new();
        if let Some(group) = &fields.group {
            let gid = match group.parse::<u32>() {
                Ok(gid) if self.gid_used(gid) => gid,
                _ => self
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
                            Ok(gid) if self.gid_used(gid) => self.group_name(gid).ok_or_else(String::new),
                            _ => self.group(g).map(|r| r[0].clone()).ok_or_else(String::new),
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
        let shadow_row = self
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
            return Err(match self.shadow {
                Some(_) => format!("a shadow entry made for `{user}` is not reproduced"),
                None => "shadow passwords required for -e and -f".into(),
            });
        }
        let password = call.password.is_some() || call.lock || call.unlock;
        if changes.is_empty() && groups.is_none() && shadow_fields.is_empty() && !password {
            return Ok(());
        }
        let before = self.start_tool();
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
        let shadowed = self.shadow.is_some();
        if let Some(row) = self.passwd.iter_mut().find(|r| r[0] == user) {
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
        if let Some(row) = self
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
            if update(&mut self.group) {
                written.push(1);
            }
            if let Some(gs) = self.gshadow.as_mut()
                && update(gs)
            {
                written.push(3);
            }
        }
        self.finish_rewriting_tool(before, &written);
        Ok(())
    }

    /// usermod -a -G: the user joins the group's member lists (group and gshadow).
    pub(super) fn add_member(&mut self, group: &str, user: &str) -> Result<(), String> {
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
    pub(super) fn store(&self, overlay: &mut Overlay<'_>) {
        let mut out = Changes::default();
        let all = [
            Some(&self.passwd),
            Some(&self.group),
            self.shadow.as_ref(),
            self.gshadow.as_ref(),
        ];
        for (i, (path, rows)) in FILES.iter().zip(all).enumerate() {
            let Some(rows) = rows else { continue };
            let text: String = rows.iter().map(|r| r.join(":") + "\n").collect();
            let size = text.len() as u64;
            let mut entry = match overlay.entry(path) {
                Some(e) if matches!(e.kind, EntryKind::File { .. }) => e.clone(),
                _ => Entry::generated(*path, EntryKind::File { size }, 0o644),
            };
            entry.kind = EntryKind::File { size };
            if let Some(b) = &self.backups[i] {
                let mut backup = entry.clone();
                backup.path = format!("{path}-");
                backup.mode &= b.mode_mask;
                backup.kind = EntryKind::File {
                    size: b.text.len() as u64,
                };
                out.files.push((backup, b.text.clone().into_bytes()));
            }
            out.files.push((entry, text.into_bytes()));
        }
        if self.locked && overlay.entry(PWD_LOCK).is_none() {
            out.file(PWD_LOCK, 0o600, Vec::new());
        }
        overlay.apply(out);
    }
}

/// `/etc/login.defs` values useradd/groupadd consult.
#[derive(Debug, Clone, Default)]
pub struct LoginDefs {
    pub(super) values: Vec<(String, String)>,
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

    pub(super) fn get(&self, key: &str) -> Option<&str> {
        self.values
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    fn num(&self, key: &str, default: u32) -> u32 {
        self.get(key).and_then(parse_c_number).unwrap_or(default)
    }

    /// useradd's home mode: HOME_MODE, else 0777 & ~UMASK (022 if unset).
    pub(super) fn home_mode(&self) -> u32 {
        match self.get("HOME_MODE").and_then(parse_c_number) {
            Some(m) => m & 0o7777,
            None => 0o777 & !self.get("UMASK").and_then(parse_c_number).unwrap_or(0o022),
        }
    }

    pub(super) fn usergroups(&self) -> bool {
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

pub(super) fn login_defs(tree: &dyn TreeView) -> LoginDefs {
    match super::super::read_file(tree, "etc/login.defs") {
        Ok(Some(b)) => LoginDefs::parse(&String::from_utf8_lossy(&b)),
        _ => LoginDefs::default(),
    }
}

/// The id range for automatic allocation: (min, max) as useradd/groupadd compute it.
pub(super) fn shadow_range(defs: &LoginDefs, system: bool, group: bool) -> (u32, u32) {
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
