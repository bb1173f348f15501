//! The configure step: what `dpkg --configure` and the maintainer scripts would have done, computed
//! by [`super::system`] over the assembled tree and applied to it.

use crate::entry::{Entry, EntryKind};
use crate::manifest::System;

use super::configure_order::OrderPackage;
use super::system::{self, InstalledPackage, NotEmulated, Round, SystemInput, TreeView};
use super::{AssembleError, Assembled, UnpackedPackage};

impl TreeView for Assembled {
    fn entry(&self, path: &str) -> Option<&Entry> {
        self.tree.get(path).map(|n| &n.entry)
    }

    fn read(&self, path: &str) -> Option<std::io::Result<Vec<u8>>> {
        Assembled::read(self, path)
    }

    fn elf(&self, path: &str) -> Option<std::io::Result<Option<super::system::ldcache::ElfInfo>>> {
        Assembled::elf(self, path)
    }

    fn paths(&self) -> Box<dyn Iterator<Item = &str> + '_> {
        Box::new(self.tree.iter().map(|(p, _)| p.as_str()))
    }
}

impl Assembled {
    /// Runs the emulations and applies their changes; returns what could not be emulated.
    pub fn configure(
        &mut self,
        system: &System,
        architecture: &str,
        source_date_epoch: u64,
    ) -> Result<Vec<NotEmulated>, AssembleError> {
        let plan = configure_plan(&self.packages);
        let packages = &self.packages;
        let after = &plan.awaited_triggers_before;
        let installed: Vec<InstalledPackage> = Round::ALL
            .into_iter()
            .zip(plan.rounds)
            .flat_map(|(round, order)| {
                order.into_iter().map(move |i| InstalledPackage {
                    after_awaited_triggers: after.contains(&i),
                    ..installed(&packages[i], round)
                })
            })
            .collect();
        let changes = system::compute(&SystemInput {
            tree: self,
            packages: &installed,
            system,
            architecture,
            source_date_epoch,
        })?;
        for path in &changes.removed {
            self.tree.remove_subtree(path);
        }
        for (entry, content) in changes.files {
            // A directory turned into a link (base-files' /var/run -> /run) loses what was below.
            if !entry.is_dir() && self.tree.get(&entry.path).is_some_and(|n| n.entry.is_dir()) {
                self.tree.remove_subtree(&entry.path);
            }
            let bytes = matches!(entry.kind, EntryKind::File { .. }).then_some(content);
            self.tree.put_generated(entry, bytes)?;
        }
        self.apply_declared(system)?;
        self.tree.stamp_generated(source_date_epoch);
        Ok(changes.report)
    }
}

impl Assembled {
    /// The manifest's `[[system.directory]]` and `[[system.symlink]]`: created, or (a directory
    /// that exists) given the declared mode and owner. Anything else already at the path is an
    /// error naming what put it there.
    fn apply_declared(&mut self, system: &System) -> Result<(), AssembleError> {
        for d in &system.directories {
            let path = self.declared_path(&d.path);
            let (uid, gid) = (d.uid.unwrap_or(0), d.gid.unwrap_or(0));
            if let Some(node) = self.tree.get(&path)
                && !node.entry.is_dir()
            {
                return Err(self.declared_conflict("[[system.directory]]", &path, node));
            }
            let mut entry = match self.tree.remove(&path) {
                Some(node) => node.entry,
                None => Entry::generated(path.clone(), EntryKind::Directory, 0),
            };
            entry.mode = d.mode_bits();
            entry.uid = uid;
            entry.gid = gid;
            entry.uname = if uid == 0 { "root".into() } else { String::new() };
            entry.gname = if gid == 0 { "root".into() } else { String::new() };
            self.tree.put_generated(entry, None)?;
        }
        for l in &system.symlinks {
            let path = self.declared_path(&l.path);
            if let Some(node) = self.tree.get(&path)
                && !matches!(node.entry.kind, EntryKind::Symlink { .. })
            {
                return Err(self.declared_conflict("[[system.symlink]]", &path, node));
            }
            let entry = Entry::generated(
                path,
                EntryKind::Symlink {
                    target: l.target.clone(),
                },
                0o777,
            );
            self.tree.put_generated(entry, None)?;
        }
        Ok(())
    }

    /// A declared absolute path as a tree path; on a merged-/usr image `/bin/x` is `usr/bin/x`.
    fn declared_path(&self, path: &str) -> String {
        let path = crate::entry::normalize_path(path.trim_start_matches('/')).unwrap_or_default();
        let top = path.split('/').next().unwrap_or_default();
        let merged = self
            .tree
            .get(top)
            .is_some_and(|n| matches!(n.entry.kind, EntryKind::Symlink { .. }));
        if merged && super::usrmerge::MERGED_DIRS.contains(&top) {
            super::usrmerge::map_path(&path).into_owned()
        } else {
            path
        }
    }

    fn declared_conflict(&self, what: &str, path: &str, node: &super::Node) -> AssembleError {
        AssembleError::Declared {
            what: what.to_owned(),
            path: path.to_owned(),
            found: format!(
                "a {} from {}",
                super::tree::kind_name(&node.entry.kind),
                self.spools().label(node.owner)
            ),
        }
    }
}

fn installed(p: &UnpackedPackage, round: Round) -> InstalledPackage {
    InstalledPackage {
        name: p.locked.name.clone(),
        version: p.locked.version.clone(),
        architecture: p.locked.architecture.clone(),
        control_fields: p
            .control
            .control
            .fields()
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect(),
        members: p.control.members.clone(),
        files: p.paths.clone(),
        round,
        after_awaited_triggers: false,
    }
}

/// The order the packages are configured in (see [`super::configure_order`]).
pub fn configure_order(packages: &[UnpackedPackage]) -> Vec<usize> {
    configure_rounds(packages).concat()
}

/// [`configure_order`] by install round (see [`super::configure_order::configure_rounds`]).
pub fn configure_rounds(packages: &[UnpackedPackage]) -> [Vec<usize>; 3] {
    configure_plan(packages).rounds
}

/// [`configure_rounds`], with where awaited triggers are processed
/// ([`super::configure_order::configure_plan`]).
fn configure_plan(packages: &[UnpackedPackage]) -> super::configure_order::ConfigurePlan {
    let facts: Vec<OrderPackage> = packages
        .iter()
        .map(|p| {
            let field = |name: &str| p.control.control.get(name).unwrap_or_default().to_owned();
            let yes = |name: &str| {
                p.control
                    .control
                    .get(name)
                    .is_some_and(|v| v.trim().eq_ignore_ascii_case("yes"))
            };
            OrderPackage {
                name: p.locked.name.clone(),
                essential: yes("Essential"),
                pre_depends: field("Pre-Depends"),
                depends: field("Depends"),
                provides: field("Provides"),
                has_postinst: p.control.members.contains_key("postinst"),
                triggers: p
                    .control
                    .members
                    .get("triggers")
                    .map(|b| String::from_utf8_lossy(b).into_owned())
                    .unwrap_or_default(),
            }
        })
        .collect();
    super::configure_order::configure_plan(&facts)
}
