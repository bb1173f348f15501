//! `dpkg-statoverride` (dpkg 1.21, bookworm's), as maintainer scripts use it: `--add [--update]
//! USER GROUP MODE PATH`, `--remove PATH`, and `--list [GLOB…]` as a guard
//! (`if ! dpkg-statoverride --list /usr/bin/x >/dev/null; then chgrp …; fi`).
//!
//! What the tool does, as facts from its source (`src/statoverride/main.c`, `lib/dpkg/fsys-hash.c`):
//! - `--add` refuses a path that already has an override (exit 2, unless `--force…`), resolves
//!   USER and GROUP in the system's account files (`#ID` is numeric), reads MODE as octal (at
//!   most 07777), and with `--update` applies owner and mode to the path (symbolic links followed)
//!   if it exists. `--remove` of a path without an override fails (exit 2, unless forced).
//!   `--list` exits 0 when some override matches one of the globs (every override without one),
//!   1 otherwise.
//! - The database `/var/lib/dpkg/statoverride` holds one `USER GROUP MODE PATH` line per override
//!   (names as the account files give them for the ids, `#ID` without one, the mode in octal
//!   without leading zero), written in the order of dpkg's file-name hash table: by bin (32-bit
//!   FNV-1a of the path without its leading `/`, modulo 262139), then in the order the entries
//!   were read or added. It is created 0644 on the first write; each write keeps the previous file
//!   as `statoverride-old`.

use crate::entry::EntryKind;

use super::dpkgdb::fsys_hash_bin;
use super::{Changes, Overlay, TreeView};

pub const STATOVERRIDE: &str = "var/lib/dpkg/statoverride";
const STATOVERRIDE_OLD: &str = "var/lib/dpkg/statoverride-old";

/// One override, as the database holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Override {
    pub user: String,
    pub group: String,
    pub mode: u32,
    /// Absolute, as dpkg keeps it (`/usr/bin/x`).
    pub path: String,
}

impl Override {
    /// As the file and `--list` have it (the mode in octal without a leading zero).
    fn line(&self) -> String {
        format!("{} {} {:o} {}\n", self.user, self.group, self.mode, self.path)
    }
}

/// The database while the scripts run: entries in dpkg's in-memory order.
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    entries: Vec<Override>,
    /// The text of the file as it last was on disk (`None`: there was none).
    on_disk: Option<String>,
    /// The text before the last write (what `statoverride-old` holds).
    old: Option<String>,
    written: bool,
}

/// dpkg's `path_trim_slash_slashdot`: trailing `/` and `/.` removed.
fn cleanup(path: &str) -> String {
    let mut p = path.to_owned();
    loop {
        if p.len() > 1 && p.ends_with('/') {
            p.pop();
        } else if p.len() > 2 && p.ends_with("/.") {
            p.truncate(p.len() - 2);
        } else {
            return p;
        }
    }
}

impl Overrides {
    /// Reads the image's database (absent: empty).
    pub fn load(tree: &dyn TreeView) -> Result<Overrides, String> {
        let text = match super::read_file(tree, STATOVERRIDE) {
            Ok(Some(b)) => String::from_utf8(b).map_err(|_| format!("/{STATOVERRIDE} is not UTF-8"))?,
            Ok(None) => {
                return Ok(Overrides::default());
            }
            Err(e) => return Err(e.to_string()),
        };
        let mut entries = Vec::new();
        for (n, line) in text.lines().enumerate() {
            let mut it = line.splitn(4, ' ');
            let (Some(user), Some(group), Some(mode), Some(path)) =
                (it.next(), it.next(), it.next(), it.next())
            else {
                return Err(format!(
                    "/{STATOVERRIDE}: line {}: not `USER GROUP MODE PATH`",
                    n + 1
                ));
            };
            entries.push(Override {
                user: user.to_owned(),
                group: group.to_owned(),
                mode: parse_mode(mode)?,
                path: path.to_owned(),
            });
        }
        Ok(Overrides {
            entries,
            on_disk: Some(text),
            old: None,
            written: false,
        })
    }

    /// The overrides `--list GLOB…` names (every one without a glob), in dpkg's in-memory order.
    fn matching(&self, globs: &[String]) -> impl Iterator<Item = &Override> {
        let globs: Vec<String> = if globs.is_empty() {
            vec!["*".into()]
        } else {
            globs.iter().map(|g| cleanup(g)).collect()
        };
        self.entries
            .iter()
            .filter(move |e| globs.iter().any(|g| super::shell::glob_match(g, &e.path)))
    }

    /// `--list GLOB…`'s exit status: whether an override matches.
    pub fn listed(&self, globs: &[String]) -> bool {
        self.matching(globs).next().is_some()
    }

    /// `--list GLOB…`'s output: the matching overrides, one `USER GROUP MODE PATH` line each, in
    /// the order dpkg walks its file table, which is the order it writes the file in (amavisd-new's
    /// `perms_local=$(dpkg-statoverride --list "$dir" | awk …)`).
    pub fn list_output(&self, globs: &[String]) -> String {
        let mut matched: Vec<&Override> = self.matching(globs).collect();
        matched.sort_by_key(|e| fsys_hash_bin(&e.path));
        matched.into_iter().map(Override::line).collect()
    }

    fn sorted(&self) -> Vec<&Override> {
        let mut sorted: Vec<&Override> = self.entries.iter().collect();
        sorted.sort_by_key(|e| fsys_hash_bin(&e.path));
        sorted
    }

    /// The file as dpkg writes it now.
    fn text(&self) -> String {
        self.sorted().into_iter().map(Override::line).collect()
    }

    fn write(&mut self) {
        // The in-memory order after a write is the file's (a later run reads it back).
        self.entries.sort_by_key(|e| fsys_hash_bin(&e.path));
        let text = self.text();
        self.old = self.on_disk.replace(text);
        self.written = true;
    }

    /// The database files to write, if a script changed the database.
    pub fn changes(&self) -> Changes {
        let mut c = Changes::default();
        if !self.written {
            return c;
        }
        if let Some(text) = &self.on_disk {
            c.file(STATOVERRIDE, 0o644, text.clone().into_bytes());
        }
        if let Some(old) = &self.old {
            c.file(STATOVERRIDE_OLD, 0o644, old.clone().into_bytes());
        }
        c
    }
}

fn parse_mode(m: &str) -> Result<u32, String> {
    u32::from_str_radix(m, 8)
        .ok()
        .filter(|v| *v <= 0o7777)
        .ok_or_else(|| format!("invalid mode `{m}`"))
}

/// `statdb_parse_uid`/`gid` and the name `statdb_node_print` writes back: `#ID` or a name of
/// the account file; `(id, printed name)`.
fn account(tree: &dyn TreeView, file: &str, spec: &str) -> Result<(u32, String), String> {
    let text = super::read_file(tree, file)
        .map_err(|e| e.to_string())?
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .unwrap_or_default();
    let rows: Vec<Vec<&str>> = text.lines().map(|l| l.split(':').collect()).collect();
    let id_of = |r: &Vec<&str>| r.get(2).and_then(|v| v.parse::<u32>().ok());
    let what = if file.ends_with("passwd") { "user" } else { "group" };
    let id = match spec.strip_prefix('#') {
        Some(n) => n
            .parse::<u32>()
            .map_err(|_| format!("{what} '{spec}' does not exist"))?,
        None => rows
            .iter()
            .find(|r| r.first() == Some(&spec))
            .and_then(id_of)
            .ok_or_else(|| format!("{what} '{spec}' does not exist"))?,
    };
    let name = rows
        .iter()
        .find(|r| id_of(r) == Some(id))
        .and_then(|r| r.first().map(|s| (*s).to_owned()))
        .unwrap_or_else(|| format!("#{id}"));
    Ok((id, name))
}

/// A parsed call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Call {
    Add {
        update: bool,
        force: bool,
        args: Vec<String>,
    },
    Remove {
        force: bool,
        path: String,
    },
    List(Vec<String>),
}

pub fn parse(args: &[String]) -> Result<Call, String> {
    let (mut update, mut force, mut action) = (false, false, None);
    let mut rest = Vec::new();
    for a in args {
        match a.as_str() {
            "--update" => update = true,
            "--quiet" => {}
            "--force" | "--force-all" | "--force-statoverride-add" | "--force-statoverride-remove" => {
                force = true
            }
            "--add" | "--remove" | "--list" if action.is_none() => action = Some(a.clone()),
            s if s.starts_with("--force-") || s.starts_with("--no-force-") || s.starts_with("--refuse-") => {}
            s if s.starts_with('-') && s.len() > 1 => return Err(format!("option {s} is not emulated")),
            _ => rest.push(a.clone()),
        }
    }
    match action.as_deref() {
        Some("--add") if rest.len() == 4 => Ok(Call::Add {
            update,
            force,
            args: rest,
        }),
        Some("--add") => Err("--add needs four arguments".into()),
        Some("--remove") => match rest.as_slice() {
            [p] => Ok(Call::Remove {
                force,
                path: p.clone(),
            }),
            _ => Err("--remove needs a single argument".into()),
        },
        Some("--list") => Ok(Call::List(rest)),
        _ => Err("need an action option".into()),
    }
}

/// Applies one call (its effect on the database and, for `--add --update`, on the path); `Err`
/// is the tool's failure.
pub fn apply(overlay: &mut Overlay<'_>, db: &mut Overrides, args: &[String]) -> Result<(), String> {
    match parse(args)? {
        Call::List(_) => Ok(()),
        Call::Remove { force, path } => {
            let path = cleanup(&path);
            let before = db.entries.len();
            db.entries.retain(|e| e.path != path);
            if db.entries.len() == before {
                return if force {
                    Ok(())
                } else {
                    Err(format!("no override present for {path}"))
                };
            }
            db.write();
            Ok(())
        }
        Call::Add { update, force, args } => {
            let [user, group, mode, path] = args.as_slice() else {
                return Err("--add needs four arguments".into());
            };
            let path = cleanup(path);
            if !path.starts_with('/') {
                return Err(format!("`{path}` is not an absolute path"));
            }
            if db.entries.iter().any(|e| e.path == path) && !force {
                return Err(format!("an override for '{path}' already exists; aborting"));
            }
            let (uid, uname) = account(overlay, "etc/passwd", user)?;
            let (gid, gname) = account(overlay, "etc/group", group)?;
            let mode = parse_mode(mode)?;
            let new = Override {
                user: uname.clone(),
                group: gname.clone(),
                mode,
                path: path.clone(),
            };
            match db.entries.iter_mut().find(|e| e.path == path) {
                Some(e) => *e = new,
                None => db.entries.push(new),
            }
            if update
                && let Some(real) = super::resolve(overlay, &super::tree_path(&path))
                && let Some(e) = overlay.entry(&real)
            {
                let mut e = e.clone();
                (e.uid, e.gid, e.uname, e.gname) = (uid, gid, uname, gname);
                super::acl::set_mode(&mut e, mode);
                let content = match e.kind {
                    EntryKind::File { .. } => super::read_file(overlay, &real)
                        .map_err(|e| e.to_string())?
                        .unwrap_or_default(),
                    _ => Vec::new(),
                };
                overlay.apply(Changes {
                    files: vec![(e, content)],
                    removed: Vec::new(),
                });
            }
            db.write();
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests;
