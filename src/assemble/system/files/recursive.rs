//! What reaches below a directory: `chmod`/`chown`/`chgrp -R` and `find START… TESTS ACTION`
//! (`-exec CMD … {} ;`/`+` of a file command, `-delete`), traversing the image as the tools do:
//! symbolic links met below the start are not followed (`-P`, the default).
//!
//! `find`'s subset is [`super::super::find`]'s.

use std::collections::BTreeSet;

use super::super::find::{Action, Expr, FindCall, Test};
use super::super::shell::glob_match;
use super::super::{Changes, Overlay, TreeView};
use super::State;
use crate::entry::{Entry, EntryKind};

/// Whether a chmod/chown/chgrp call is recursive (`-R`, bundled `-Rf`, `--recursive`).
pub(super) fn is_recursive(args: &[String]) -> bool {
    has_recursive_flag(args, &['R'])
}

/// `--recursive`, or one of `letters` among the short options (bundled too: rm's `-fr`).
pub(super) fn has_recursive_flag(args: &[String], letters: &[char]) -> bool {
    args.iter().any(|a| {
        a == "--recursive" || (a.starts_with('-') && !a.starts_with("--") && a[1..].contains(letters))
    })
}

/// Whether a recursive call follows a starting point that is a symbolic link (`-H`, `-L`).
pub(super) fn follows_start(args: &[String]) -> bool {
    args.iter().any(|a| {
        a == "--dereference" || (a.starts_with('-') && !a.starts_with("--") && a[1..].contains(['H', 'L']))
    })
}

/// The entries strictly below the directory `abs` names (absolute paths, sorted: a directory
/// before what it holds). Empty when `abs` is not a directory of the image.
pub(super) fn below(overlay: &Overlay<'_>, abs: &str) -> Vec<String> {
    super::super::descendants(overlay, &super::super::tree_path(abs))
        .map(|(_, paths)| paths.into_iter().map(|p| format!("/{p}")).collect())
        .unwrap_or_default()
}

/// `grep -r`/`-R` (freeradius' `grep -q -r PATTERN /etc/freeradius` as a condition): grep's own
/// arguments without the recursion, and the files it reads: a directory operand stands for the
/// regular files below it, in order. Without recursion both are returned as they are.
pub(super) fn grep_operands(
    overlay: &Overlay<'_>,
    own: &[String],
    files: &[String],
) -> (Vec<String>, Vec<String>) {
    let short = |a: &String| a.starts_with('-') && !a.starts_with("--") && a.len() > 1;
    let recursive = own.iter().any(|a| {
        a == "--recursive" || a == "--dereference-recursive" || (short(a) && a[1..].contains(['r', 'R']))
    });
    if !recursive {
        return (own.to_vec(), files.to_vec());
    }
    let own = own
        .iter()
        .filter(|a| *a != "--recursive" && *a != "--dereference-recursive")
        .map(|a| {
            if short(a) {
                a.replace(['r', 'R'], "")
            } else {
                a.clone()
            }
        })
        .filter(|a| a != "-")
        .collect();
    let mut read = Vec::new();
    for f in files {
        match super::super::descendants(overlay, &super::super::tree_path(f)) {
            Some((_, paths)) => read.extend(
                paths
                    .into_iter()
                    .filter(|p| {
                        overlay
                            .entry(p)
                            .is_some_and(|e| matches!(e.kind, EntryKind::File { .. }))
                    })
                    .map(|p| format!("/{p}")),
            ),
            None => read.push(f.clone()),
        }
    }
    (own, read)
}

/// The entries below one starting point that are still there: `-empty` and `-delete`'s check
/// ask it, instead of listing the tree again for every directory.
struct Remaining {
    start: String,
    paths: BTreeSet<String>,
}

impl Remaining {
    /// Whether the directory `abs` (the start or one below it) still holds anything.
    fn holds_any(&self, abs: &str) -> bool {
        if abs == self.start {
            return !self.paths.is_empty();
        }
        let prefix = format!("{abs}/");
        self.paths
            .range(prefix.clone()..)
            .next()
            .is_some_and(|p| p.starts_with(&prefix))
    }
}

/// The absolute paths a call's depth options select below `start` (`all`: what `below` found).
fn within_depth(overlay: &Overlay<'_>, call: &FindCall, start: &str, all: &[String]) -> Vec<String> {
    let rel = super::super::tree_path(start);
    // A start through a symbolic link (`/lib/app` on a merged-/usr image) is where it leads.
    if super::super::resolve(overlay, &rel).is_none() {
        return Vec::new();
    }
    // Depths count below the directory the start resolves to (where `below` finds entries).
    let base_depth = super::super::resolve(overlay, &rel)
        .map(|dir| {
            if dir.is_empty() {
                0
            } else {
                dir.matches('/').count() + 1
            }
        })
        .unwrap_or(0);
    let at_start = (call.min_depth == 0).then(|| start.to_owned());
    at_start
        .into_iter()
        .chain(
            all.iter()
                .filter(|p| {
                    let depth = p.matches('/').count().saturating_sub(base_depth);
                    depth >= call.min_depth && call.max_depth.is_none_or(|m| depth <= m)
                })
                .cloned(),
        )
        .collect()
}

/// How find names a path below `start`: from the start as given (`/lib/app/k` on a merged-/usr
/// image, where the entry is `/usr/lib/app/k`), which `-path` matches and `-print` prints.
/// `real`: the start resolved ([`real_start`]), once for all the paths below it.
fn as_given(start: &str, real: Option<&str>, abs: &str) -> String {
    match real.and_then(|r| abs.strip_prefix(r)) {
        Some(rest) if rest.is_empty() || rest.starts_with('/') => {
            format!("{}{rest}", start.trim_end_matches('/'))
        }
        _ => abs.to_owned(),
    }
}

/// Where a start leads in the image, as an absolute path.
fn real_start(overlay: &Overlay<'_>, start: &str) -> Option<String> {
    super::super::resolve(overlay, &super::super::tree_path(start)).map(|r| format!("/{r}"))
}

fn passes(overlay: &Overlay<'_>, expr: &Expr, remaining: &Remaining, abs: &str, shown: &str) -> bool {
    let rel = super::super::tree_path(abs);
    let Some(entry) = overlay.entry(&rel) else {
        return false;
    };
    expr.holds(&|t| match t {
        Test::Type(c) => matches!(
            (c, &entry.kind),
            ('f', EntryKind::File { .. }) | ('d', EntryKind::Directory) | ('l', EntryKind::Symlink { .. })
        ),
        Test::Name(pattern) => glob_match(pattern, abs.rsplit('/').next().unwrap_or(abs)),
        Test::Path(pattern) => glob_match(pattern, shown),
        Test::Empty => match entry.kind {
            EntryKind::File { size } => size == 0,
            EntryKind::Directory => !remaining.holds_any(abs),
            _ => false,
        },
        Test::Uid(id) => entry.uid == *id,
        Test::Gid(id) => entry.gid == *id,
        // Resolved to ids before (`with_ids`).
        Test::User(_) | Test::Group(_) => false,
    })
}

/// The expression with `-user`/`-group` names made the image's ids, as find looks them up when it
/// starts: an account of that name, else a number; anything else fails the call.
fn with_ids(overlay: &Overlay<'_>, expr: &Expr) -> Result<Expr, String> {
    expr.try_map(&|t| {
        let (file, what, name) = match t {
            Test::User(name) => ("etc/passwd", "user", name),
            Test::Group(name) => ("etc/group", "group", name),
            other => return Ok(other.clone()),
        };
        let id = match super::super::account(overlay, file, name) {
            Ok((id, _)) => id,
            Err(_) => name
                .parse()
                .ok()
                .filter(|_| name.bytes().all(|b| b.is_ascii_digit()))
                .ok_or_else(|| format!("find: '{name}' is not the name of a known {what}"))?,
        };
        Ok(if matches!(t, Test::User(_)) {
            Test::Uid(id)
        } else {
            Test::Gid(id)
        })
    })
}

/// What `find … -print` prints: each start's matches, the start first and what is below it in
/// byte order (not the directory order find meets; the caller only uses this where order
/// cannot matter).
pub(in super::super) fn printed(overlay: &Overlay<'_>, call: &FindCall) -> Result<String, String> {
    let expr = with_ids(overlay, &call.expr)?;
    let mut out = String::new();
    for start in &call.starts {
        let real = real_start(overlay, start);
        let all = below(overlay, start);
        let remaining = Remaining {
            start: start.clone(),
            paths: all.iter().cloned().collect(),
        };
        for p in within_depth(overlay, call, start, &all) {
            let shown = as_given(start, real.as_deref(), &p);
            if passes(overlay, &expr, &remaining, &p, &shown) {
                out.push_str(&shown);
                out.push('\n');
            }
        }
    }
    Ok(out)
}

/// Applies a `find` call: each selected path gets the action, `-delete` deepest first (it
/// implies `-depth`, so a directory emptied by it is empty when its turn comes).
pub(super) fn find(st: &mut State<'_>, package: &str, call: &FindCall) -> Result<(), String> {
    let expr = with_ids(&st.overlay, &call.expr)?;
    let mut failures = Vec::new();
    for start in &call.starts {
        let real = real_start(&st.overlay, start);
        let all = below(&st.overlay, start);
        let mut found = within_depth(&st.overlay, call, start, &all);
        let mut remaining = Remaining {
            start: start.clone(),
            paths: all.into_iter().collect(),
        };
        match &call.action {
            // Printing changes nothing ([`printed`] is what `$(find …)` reads).
            Action::Print => {}
            Action::Delete => {
                found.reverse();
                for p in found {
                    if !passes(
                        &st.overlay,
                        &expr,
                        &remaining,
                        &p,
                        &as_given(start, real.as_deref(), &p),
                    ) {
                        continue;
                    }
                    let rel = super::super::tree_path(&p);
                    if st.overlay.entry(&rel).is_some_and(Entry::is_dir) && remaining.holds_any(&p) {
                        failures.push(format!("cannot delete {p}: Directory not empty"));
                        continue;
                    }
                    st.overlay.apply(Changes {
                        files: Vec::new(),
                        removed: vec![rel],
                    });
                    remaining.paths.remove(&p);
                }
            }
            Action::Exec { argv, batch } => {
                let selected: Vec<String> = found
                    .into_iter()
                    .filter(|p| {
                        passes(
                            &st.overlay,
                            &expr,
                            &remaining,
                            p,
                            &as_given(start, real.as_deref(), p),
                        )
                    })
                    .collect();
                let (name, args) = argv.split_first().ok_or("find -exec without a command")?;
                let name = name.rsplit('/').next().unwrap_or(name);
                let runs: Vec<Vec<String>> = if *batch {
                    let mut a = args[..args.len() - 1].to_vec();
                    a.extend(selected);
                    vec![a]
                } else {
                    selected
                        .iter()
                        .map(|p| args.iter().map(|w| w.replace("{}", p)).collect())
                        .collect()
                };
                for args in runs {
                    if !super::handles(name, &args) {
                        return Err(format!("find -exec {name}: not a file command debcast applies"));
                    }
                    if let Err(why) = super::apply(st, package, name, &args) {
                        failures.push(why);
                    }
                }
            }
        }
    }
    if failures.is_empty() {
        Ok(())
    } else {
        Err(failures.join("; "))
    }
}
