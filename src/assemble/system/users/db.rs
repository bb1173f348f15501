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
    /// The uids useradd added without `-l`, whose lastlog and faillog records it resets.
    pub(super) log_resets: Vec<u32>,
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
            log_resets: Vec::new(),
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
