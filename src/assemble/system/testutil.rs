//! An in-memory tree for the emulations' tests, and a way to write one to disk so real tools
//! (dpkg, ldconfig, update-alternatives) can judge it.

use std::collections::BTreeMap;
use std::path::Path;

use super::{Changes, InstalledPackage, TreeView};
use crate::entry::{Entry, EntryKind};

/// A package (version 1, amd64) whose only control member is this postinst.
pub fn with_postinst(name: &str, postinst: &str) -> InstalledPackage {
    InstalledPackage {
        name: name.into(),
        version: "1".into(),
        architecture: "amd64".into(),
        members: [("postinst".to_owned(), postinst.as_bytes().to_vec())].into(),
        ..InstalledPackage::default()
    }
}

/// The entry and content `path` has in `changes`; a test failure naming it when it has none.
pub fn written<'c>(changes: &'c Changes, path: &str) -> &'c (Entry, Vec<u8>) {
    changes
        .files
        .iter()
        .find(|(e, _)| e.path == path)
        .unwrap_or_else(|| panic!("{path} is not among the changes"))
}

/// The target of the symbolic link `path` has in `changes`, if it is one there.
pub fn symlink_target(changes: &Changes, path: &str) -> Option<String> {
    changes
        .files
        .iter()
        .find(|(e, _)| e.path == path)
        .and_then(|(e, _)| match &e.kind {
            EntryKind::Symlink { target } => Some(target.clone()),
            _ => None,
        })
}

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

    /// Sets the permission bits of an entry already added.
    pub fn mode(&mut self, path: &str, mode: u32) -> &mut Self {
        if let Some((e, _)) = self.entries.get_mut(path) {
            e.mode = mode;
        }
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

    /// The programs scripts call, as executables: in /usr/bin, or at the absolute path given
    /// (a tool the image lacks makes nothing: dpkg's run does not find it).
    pub fn tools(&mut self, names: &[&str]) -> &mut Self {
        for name in names {
            let path = match name.strip_prefix('/') {
                Some(abs) => abs.to_owned(),
                None => format!("usr/bin/{name}"),
            };
            self.file(&path, b"\x7fELF").mode(&path, 0o755);
        }
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

/// A host tool's path: on PATH, else in the sbin directories, where root's tools (ldconfig,
/// update-ca-certificates) live and which a non-login PATH often lacks.
pub fn host_tool(tool: &str) -> Option<std::path::PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(["/usr/local/sbin", "/usr/sbin", "/sbin"].map(std::path::PathBuf::from))
        .map(|dir| dir.join(tool))
        .find(|p| p.is_file())
}

/// Whether a host tool is present; tests that need it print a note and pass when it is not.
pub fn have(tool: &str) -> bool {
    host_tool(tool).is_some()
}

impl MemTree {
    /// Reads a directory tree from disk (owners and mtimes ignored).
    pub fn from_dir(root: &Path) -> Self {
        use std::os::unix::fs::PermissionsExt;
        let mut t = MemTree::new();
        let mut stack = vec![root.to_path_buf()];
        while let Some(dir) = stack.pop() {
            for e in std::fs::read_dir(&dir).unwrap().flatten() {
                let p = e.path();
                let rel = p.strip_prefix(root).unwrap().to_string_lossy().into_owned();
                let md = std::fs::symlink_metadata(&p).unwrap();
                let mode = md.permissions().mode() & 0o7777;
                let (kind, content) = if md.file_type().is_symlink() {
                    let target = std::fs::read_link(&p).unwrap().to_string_lossy().into_owned();
                    (EntryKind::Symlink { target }, vec![])
                } else if md.is_dir() {
                    stack.push(p.clone());
                    (EntryKind::Directory, vec![])
                } else {
                    let c = std::fs::read(&p).unwrap();
                    (EntryKind::File { size: c.len() as u64 }, c)
                };
                let mut entry = Entry::generated(&rel, kind, mode);
                entry.mode = mode;
                t.entries.insert(rel, (entry, content));
            }
        }
        t
    }
}

/// Manual probe on real packages: `DEBCAST_PROBE=/tmp/sysdebs/probe cargo test --lib
/// assemble::system::testutil::probe -- --ignored --nocapture`, with `root/` holding the unpacked
/// packages and `ctl/<pkg>/` each package's control members plus `FILES` (`tar -t` of its data).
#[test]
#[ignore]
fn probe() {
    use super::{InstalledPackage, SystemInput, compute};
    let Ok(base) = std::env::var("DEBCAST_PROBE") else {
        return;
    };
    let base = Path::new(&base);
    let mut tree = MemTree::from_dir(&base.join("root"));
    let mut pkgs = Vec::new();
    for e in std::fs::read_dir(base.join("ctl")).unwrap().flatten() {
        let mut p = InstalledPackage::default();
        for m in std::fs::read_dir(e.path()).unwrap().flatten() {
            let name = m.file_name().to_string_lossy().into_owned();
            let content = std::fs::read(m.path()).unwrap();
            match name.as_str() {
                "control" => {
                    let text = String::from_utf8(content).unwrap();
                    use crate::debian::deb822::{self, Dialect, Event};
                    for event in deb822::read(&text, Dialect::Strict).flatten() {
                        if let Event::Field(f) = event {
                            p.control_fields.push((f.name.to_owned(), f.verbatim()));
                        }
                    }
                }
                "FILES" => {
                    p.files = String::from_utf8(content)
                        .unwrap()
                        .lines()
                        .filter_map(crate::entry::normalize_path)
                        .collect();
                }
                _ => {
                    p.members.insert(name, content);
                }
            }
        }
        p.name = p.field("Package").unwrap().to_owned();
        p.version = p.field("Version").unwrap().to_owned();
        p.architecture = p.field("Architecture").unwrap().to_owned();
        pkgs.push(p);
    }
    let system = crate::manifest::System::default();
    let out = compute(&SystemInput {
        tree: &tree,
        packages: &pkgs,
        system: &system,
        architecture: "amd64",
        source_date_epoch: 1_700_000_000,
    })
    .unwrap();
    for r in &out.report {
        println!("REPORT\t{}\t{}\t{}", r.package, r.script, r.what);
    }
    for (e, _) in &out.files {
        println!("FILE\t{}\t{:o}\t{:?}", e.path, e.mode, e.kind);
    }
    tree.apply(&super::Changes {
        files: out.files,
        removed: out.removed,
    });
    let dir = base.join("out");
    let _ = std::fs::remove_dir_all(&dir);
    tree.materialise(&dir);
    println!("materialised in {}", dir.display());
}
