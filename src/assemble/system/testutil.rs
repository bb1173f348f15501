//! An in-memory tree for the emulations' tests, and a way to write one to disk so real tools
//! (dpkg, ldconfig, update-alternatives) can judge it.

use std::collections::BTreeMap;
use std::path::Path;

use super::{Changes, TreeView};
use crate::entry::{Entry, EntryKind};

#[derive(Default, Clone)]
pub struct MemTree {
    pub entries: BTreeMap<String, (Entry, Vec<u8>)>,
}

impl MemTree {
    pub fn new() -> Self {
        Self::default()
    }

    fn parents(&mut self, path: &str) {
        let mut acc = String::new();
        let comps: Vec<&str> = path.split('/').collect();
        for c in &comps[..comps.len() - 1] {
            if !acc.is_empty() {
                acc.push('/');
            }
            acc.push_str(c);
            if !self.entries.contains_key(&acc) {
                self.entries.insert(
                    acc.clone(),
                    (Entry::generated(&acc, EntryKind::Directory, 0o755), vec![]),
                );
            }
        }
    }

    pub fn file(&mut self, path: &str, content: &[u8]) -> &mut Self {
        self.parents(path);
        let e = Entry::generated(
            path,
            EntryKind::File {
                size: content.len() as u64,
            },
            0o644,
        );
        self.entries.insert(path.into(), (e, content.to_vec()));
        self
    }

    pub fn dir(&mut self, path: &str) -> &mut Self {
        self.parents(path);
        self.entries.insert(
            path.into(),
            (Entry::generated(path, EntryKind::Directory, 0o755), vec![]),
        );
        self
    }

    pub fn symlink(&mut self, path: &str, target: &str) -> &mut Self {
        self.parents(path);
        let e = Entry::generated(
            path,
            EntryKind::Symlink {
                target: target.into(),
            },
            0o777,
        );
        self.entries.insert(path.into(), (e, vec![]));
        self
    }

    pub fn apply(&mut self, changes: &Changes) {
        for p in &changes.removed {
            self.entries.remove(p);
        }
        for (e, c) in &changes.files {
            self.parents(&e.path);
            self.entries.insert(e.path.clone(), (e.clone(), c.clone()));
        }
    }

    pub fn text(&self, path: &str) -> String {
        String::from_utf8(self.entries[path].1.clone()).unwrap()
    }

    /// Writes the tree under `root` (modes applied, owners left to the caller's uid).
    pub fn materialise(&self, root: &Path) {
        use std::os::unix::fs::PermissionsExt;
        for (path, (e, content)) in &self.entries {
            let p = root.join(path);
            match &e.kind {
                EntryKind::Directory => std::fs::create_dir_all(&p).unwrap(),
                EntryKind::File { .. } => {
                    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
                    std::fs::write(&p, content).unwrap();
                    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(e.mode)).unwrap();
                }
                EntryKind::Symlink { target } => {
                    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
                    std::os::unix::fs::symlink(target, &p).unwrap();
                }
                _ => {}
            }
        }
    }
}

impl TreeView for MemTree {
    fn entry(&self, path: &str) -> Option<&Entry> {
        self.entries.get(path).map(|(e, _)| e)
    }
    fn read(&self, path: &str) -> Option<std::io::Result<Vec<u8>>> {
        self.entries.get(path).and_then(|(e, c)| match e.kind {
            EntryKind::File { .. } => Some(Ok(c.clone())),
            _ => None,
        })
    }
    fn paths(&self) -> Box<dyn Iterator<Item = &str> + '_> {
        Box::new(self.entries.keys().map(String::as_str))
    }
}

/// Whether a host tool is present; tests that need it print a note and pass when it is not.
pub fn have(tool: &str) -> bool {
    std::process::Command::new("sh")
        .arg("-c")
        .arg(format!("command -v {tool} >/dev/null"))
        .status()
        .map(|s| s.success())
        .unwrap_or(false)
}
