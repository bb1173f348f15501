//! What the walk's conditions ask of the files (`cmp`), and what the report says of the branches
//! a condition it could not decide left unwalked.

use super::super::Overlay;
use super::super::commands::{self, Kind};
use super::super::shell;

/// `cmp [-s|--silent|--quiet] A B` as a condition: whether the two files have the same bytes;
/// false when one is missing (cmp fails). `None` for other forms, relative paths, what is not a
/// regular file, and a file a left-out command would make.
pub(super) fn cmp_status(
    overlay: &Overlay<'_>,
    args: &[String],
    pending: impl Fn(&str) -> bool,
) -> Option<bool> {
    let files: Vec<&String> = args
        .iter()
        .filter(|a| !matches!(a.as_str(), "-s" | "--silent" | "--quiet"))
        .collect();
    let [a, b] = files.as_slice() else { return None };
    if !a.starts_with('/') || !b.starts_with('/') || pending(a) || pending(b) {
        return None;
    }
    let content = |p: &str| match super::super::file_kind(overlay, p) {
        None => Some(None),
        Some(shell::FileKind::File { .. }) => {
            super::super::read_file(overlay, &super::super::tree_path(p)).ok()
        }
        Some(_) => None,
    };
    match (content(a)?, content(b)?) {
        (Some(x), Some(y)) => Some(x == y),
        _ => Some(false),
    }
}

/// The report's entries for the commands of branches an undecided `if` left unwalked (the walk
/// took the condition as holding): every one but those without effects.
pub(super) fn unwalked_effects(condition: &str, unwalked: &[String]) -> Vec<String> {
    unwalked
        .iter()
        .filter(|text| {
            let mut words = text.split_whitespace().map(str::to_owned);
            let name = words.next().unwrap_or_default();
            let args: Vec<String> = words.collect();
            // Service management is skipped whichever branch runs it, and a non-deterministic
            // effect is left out.
            !matches!(
                commands::classify(&name, &args),
                Kind::Harmless | Kind::Service | Kind::NonDeterministic(_)
            )
        })
        .map(|text| {
            format!("{text} (not run: whether `{condition}` holds is not known while building; the walk took it as holding)")
        })
        .collect()
}
