//! The order entries are written into a layer: sorted by path, with hard links rearranged so that
//! every link follows the file it points to (a tar hard link can only name an earlier member).

use std::collections::BTreeMap;
use std::io::Read;

use crate::entry::{Entry, EntryKind};

use super::{AssembleError, Assembled, Node, Spools};

/// Some nodes of an image, by path: the whole tree for a flat layer, or what one layer of a
/// layered image holds. Every hard link's target must be in the same view.
pub type View<'a> = BTreeMap<&'a str, &'a Node>;

impl Assembled {
    /// Calls `f` for every entry of the tree in layer order, with a reader over its content.
    pub fn for_each_entry<E: From<AssembleError>>(
        &self,
        f: impl FnMut(&Entry, &mut dyn Read) -> Result<(), E>,
    ) -> Result<(), E> {
        let view: View<'_> = self.tree.iter().map(|(p, n)| (p.as_str(), n)).collect();
        self.for_each_in(&view, f)
    }

    /// Calls `f` for every entry of `view` in layer order (see [`Self::for_each_entry`]); the
    /// nodes' content is read from this assembly's spool files.
    pub fn for_each_in<E: From<AssembleError>>(
        &self,
        view: &View<'_>,
        f: impl FnMut(&Entry, &mut dyn Read) -> Result<(), E>,
    ) -> Result<(), E> {
        self.spools().for_each_in(view, f)
    }
}

impl Spools {
    /// Calls `f` for every entry of `view` in layer order: sorted by path, hard links after the
    /// file they name (see [`Assembled::for_each_entry`]), content read from the spool files.
    pub fn for_each_in<E: From<AssembleError>>(
        &self,
        view: &View<'_>,
        mut f: impl FnMut(&Entry, &mut dyn Read) -> Result<(), E>,
    ) -> Result<(), E> {
        // For each hard-link group (the file and every link to it), the first path in sorted order
        // carries the content; the others, the original file included, become links to it.
        let mut group_primary: BTreeMap<&str, &str> = BTreeMap::new();
        for (path, node) in view.iter() {
            if let EntryKind::Hardlink { target } = &node.entry.kind {
                match view.get(target.as_str()) {
                    Some(t) if matches!(t.entry.kind, EntryKind::File { .. }) => {}
                    _ => {
                        return Err(AssembleError::DanglingHardlink {
                            path: format!("/{path}"),
                            target: format!("/{target}"),
                            package: self.label(node.owner),
                        }
                        .into());
                    }
                }
                let primary = group_primary.entry(target.as_str()).or_insert(target.as_str());
                if *path < *primary {
                    *primary = path;
                }
            }
        }
        // The reverse map: which original file a primary link path stands for.
        let primary_for: BTreeMap<&str, &str> = group_primary
            .iter()
            .filter(|(target, primary)| target != primary)
            .map(|(target, primary)| (*primary, *target))
            .collect();

        for (path, node) in view.iter() {
            let path = *path;
            if let Some(original) = primary_for.get(path) {
                // This link becomes the file: the original's content and metadata, this path.
                let Some(orig) = view.get(original) else {
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
}
