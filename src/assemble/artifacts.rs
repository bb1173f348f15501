//! Placing `[[artifact]]`s over the assembled image: each artifact becomes a layer of its own on
//! top of the package layers, so what it may add is decided here, against the finished tree.
//!
//! - A directory the image already has stays as it is (its mode and owner are the package's);
//!   the artifact's entry for it is left out of the layer.
//! - Parent directories the image lacks are added (root, 0755).
//! - Any other path the image (or an earlier artifact) already has is a collision, an error
//!   naming both, unless the artifact says `replaces = true`.
//! - An entry below something that is not a directory (a symbolic link such as merged /usr's
//!   `/bin`, a file) is always an error: the layer would otherwise write through a link.

use std::collections::BTreeMap;

use crate::artifact::{Span, UnpackedArtifact};
use crate::entry::{Entry, EntryKind};

use super::tree::kind_name;
use super::{AssembleError, Assembled};

/// What earlier artifacts of the same image put where (path -> (is a directory, artifact label)).
#[derive(Debug, Default)]
pub struct ArtifactPaths {
    paths: BTreeMap<String, (bool, String)>,
}

/// The entries of an artifact's layer, sorted by path, with where each file's bytes are.
pub type ArtifactLayerEntries = Vec<(Entry, Option<Span>)>;

impl Assembled {
    /// The entries of `artifact`'s layer over this image and the artifacts before it (which
    /// `earlier` records, and which this one is added to).
    pub fn artifact_layer(
        &self,
        artifact: &UnpackedArtifact,
        replaces: bool,
        earlier: &mut ArtifactPaths,
        source_date_epoch: u64,
    ) -> Result<ArtifactLayerEntries, AssembleError> {
        let err = |path: &str, what: String| AssembleError::Artifact {
            artifact: artifact.label.clone(),
            path: path.to_owned(),
            what,
        };
        // What is at `path` below this artifact: (is a directory, kind, who put it there).
        let below = |path: &str| -> Option<(bool, String, String)> {
            if let Some((is_dir, label)) = earlier.paths.get(path) {
                let kind = if *is_dir { "directory" } else { "non-directory" };
                return Some((*is_dir, kind.to_owned(), label.clone()));
            }
            self.tree.get(path).map(|n| {
                (
                    n.entry.is_dir(),
                    kind_name(&n.entry.kind).to_owned(),
                    self.spools().label(n.owner),
                )
            })
        };
        let mut out: ArtifactLayerEntries = Vec::with_capacity(artifact.entries.len());
        let mut added_parents: BTreeMap<String, ()> = BTreeMap::new();
        for (path, (entry, span)) in &artifact.entries {
            // Parents, shallowest first.
            let mut parent = String::new();
            let components: Vec<&str> = path.split('/').collect();
            for comp in &components[..components.len() - 1] {
                if !parent.is_empty() {
                    parent.push('/');
                }
                parent.push_str(comp);
                if artifact.entries.contains_key(&parent) || added_parents.contains_key(&parent) {
                    if let Some((false, kind, owner)) = below(&parent)
                        && !replaces
                    {
                        return Err(err(
                            path,
                            format!(
                                "/{parent} is a {kind} from {owner}, not a directory (set replaces = true to replace it)"
                            ),
                        ));
                    }
                    continue;
                }
                match below(&parent) {
                    Some((true, _, _)) => {}
                    Some((false, kind, owner)) => {
                        return Err(err(
                            path,
                            format!(
                                "/{parent} is a {kind} from {owner}, not a directory; the artifact would write through it"
                            ),
                        ));
                    }
                    None => {
                        added_parents.insert(parent.clone(), ());
                        let dir = Entry {
                            mtime: source_date_epoch,
                            ..Entry::generated(parent.clone(), EntryKind::Directory, 0o755)
                        };
                        out.push((dir, None));
                    }
                }
            }
            match below(path) {
                // A directory both have: the image's stays.
                Some((true, _, _)) if entry.is_dir() => continue,
                Some((_, kind, owner)) if !replaces => {
                    return Err(err(
                        path,
                        format!(
                            "the artifact's {} collides with the {kind} from {owner} (set replaces = true on the artifact to overwrite it)",
                            kind_name(&entry.kind)
                        ),
                    ));
                }
                _ => {}
            }
            out.push((entry.clone(), *span));
        }
        for (entry, _) in &out {
            earlier
                .paths
                .insert(entry.path.clone(), (entry.is_dir(), artifact.label.clone()));
        }
        out.sort_by(|a, b| a.0.path.cmp(&b.0.path));
        Ok(out)
    }
}
