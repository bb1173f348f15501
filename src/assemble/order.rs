//! The order entries are written into a layer: sorted by path, with hard links rearranged so that
//! every link follows the file it points to (a tar hard link can only name an earlier member).

use std::collections::BTreeMap;
use std::io::Read;

use crate::entry::{Entry, EntryKind};

use super::{AssembleError, Assembled};

impl Assembled {
    /// Calls `f` for every entry of the tree in layer order, with a reader over its content.
    pub fn for_each_entry<E: From<AssembleError>>(
        &self,
        mut f: impl FnMut(&Entry, &mut dyn Read) -> Result<(), E>,
    ) -> Result<(), E> {
        // For each hard-link group (the file and every link to it), the first path in sorted order
        // carries the content; the others, the original file included, become links to it.
        let mut group_primary: BTreeMap<&str, &str> = BTreeMap::new();
        for (path, node) in self.tree.iter() {
            if let EntryKind::Hardlink { target } = &node.entry.kind {
                match self.tree.get(target) {
                    Some(t) if matches!(t.entry.kind, EntryKind::File { .. }) => {}
                    _ => {
                        return Err(AssembleError::DanglingHardlink {
                            path: format!("/{path}"),
                            target: format!("/{target}"),
                            package: self.owner_label(node.owner),
                        }
                        .into());
                    }
                }
                let primary = group_primary.entry(target.as_str()).or_insert(target.as_str());
                if path.as_str() < *primary {
                    *primary = path.as_str();
                }
            }
        }
        // The reverse map: which original file a primary link path stands for.
        let primary_for: BTreeMap<&str, &str> = group_primary
            .iter()
            .filter(|(target, primary)| target != primary)
            .map(|(target, primary)| (*primary, *target))
            .collect();

        for (path, node) in self.tree.iter() {
            let path = path.as_str();
            if let Some(original) = primary_for.get(path) {
                // This link becomes the file: the original's content and metadata, this path.
                let Some(orig) = self.tree.get(original) else {
                    continue;
                };
                let mut entry = orig.entry.clone();
                entry.path = path.to_owned();
                f(&entry, &mut self.content(orig))?;
                continue;
            }
            match (&node.entry.kind, group_primary.get(path)) {
                // An original file whose group's content went to an earlier path.
                (EntryKind::File { .. }, Some(primary)) if *primary != path => {
                    let mut entry = node.entry.clone();
                    entry.kind = EntryKind::Hardlink {
                        target: (*primary).to_owned(),
                    };
                    f(&entry, &mut std::io::empty())?;
                }
                (EntryKind::Hardlink { target }, _) => {
                    let primary = group_primary
                        .get(target.as_str())
                        .copied()
                        .unwrap_or(target.as_str());
                    let mut entry = node.entry.clone();
                    entry.kind = EntryKind::Hardlink {
                        target: primary.to_owned(),
                    };
                    f(&entry, &mut std::io::empty())?;
                }
                _ => f(&node.entry, &mut self.content(node))?,
            }
        }
        Ok(())
    }

    fn owner_label(&self, owner: Option<usize>) -> String {
        owner
            .and_then(|i| self.packages.get(i))
            .map_or_else(|| "debcast".into(), |p| p.locked.label())
    }
}
