//! What the walk's conditions ask of the files (`cmp`, `diff`), and what the report says of the branches
//! a condition it could not decide left unwalked.

use super::super::commands::{self, Kind};
use super::super::shell;
use super::super::{Overlay, TreeView};

/// `cmp [-s|--silent|--quiet] A B` and `diff [-q|--brief|-s|-u|-c] A B` (proftpd's `diff -q
/// FILE FILE.proftpd-new`) as a condition: whether the two files have the same bytes; false when
/// one is missing (both tools fail). `None` for other forms, relative paths, what is not a regular
/// file, and a file a left-out command would make.
pub(super) fn cmp_status(
    overlay: &Overlay<'_>,
    tool: &str,
    args: &[String],
    pending: impl Fn(&str) -> bool,
) -> Option<bool> {
    // Options that change what the tool prints, not its status.
    let quiet: &[&str] = match tool {
        "cmp" => &["-s", "--silent", "--quiet"],
        "diff" => &["-q", "--brief", "-s", "--report-identical-files", "-u", "-c"],
        _ => return None,
    };
    let files: Vec<&String> = args.iter().filter(|a| !quiet.contains(&a.as_str())).collect();
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

/// `su [-s SHELL] USER -c 'test -O DIR && test -G DIR'` (postgresql-common's check that the
/// postgres account owns its home before it chowns it): ownership tests run as another account,
/// answered from the image's accounts (its uid and primary gid in /etc/passwd) and the owner of
/// the path (symbolic links followed, as `test` does). `None` for any other command, an account
/// or path the image does not have, or options this does not read.
pub(super) fn su_ownership_status(overlay: &Overlay<'_>, args: &[String]) -> Option<bool> {
    let mut user: Option<&str> = None;
    let mut command: Option<&str> = None;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "-s" | "--shell" => {
                it.next()?;
            }
            "-c" | "--command" => command = Some(it.next()?),
            "-" | "-l" | "--login" | "-m" | "-p" | "--preserve-environment" => {}
            a if a.starts_with("--shell=") => {}
            a if a.starts_with("--command=") => command = a.strip_prefix("--command="),
            a if a.starts_with('-') => return None,
            a if user.is_none() => user = Some(a),
            _ => return None,
        }
    }
    let (uid, gid) = passwd_ids(overlay, user.unwrap_or("root"))?;
    let mut holds = true;
    for test in command?.split("&&") {
        let words: Vec<&str> = test.split_whitespace().collect();
        let (op, path) = match words.as_slice() {
            ["test", op, path] | ["[", op, path, "]"] => (*op, *path),
            _ => return None,
        };
        if !path.starts_with('/') {
            return None;
        }
        let real = super::super::resolve(overlay, &super::super::tree_path(path))?;
        let entry = overlay.entry(&real)?;
        holds &= match op {
            "-O" => entry.uid == uid,
            "-G" => entry.gid == gid,
            _ => return None,
        };
    }
    Some(holds)
}

/// An account's uid and primary gid: its line of the image's /etc/passwd, as `getent passwd`
/// answers it.
fn passwd_ids(overlay: &Overlay<'_>, user: &str) -> Option<(u32, u32)> {
    // su takes a name; getent would also look a number up as a uid.
    if user.parse::<u32>().is_ok() {
        return None;
    }
    let line = super::super::users::getent_output(overlay, &["passwd".to_owned(), user.to_owned()])?;
    let fields: Vec<&str> = line.trim_end().split(':').collect();
    Some((fields.get(2)?.parse().ok()?, fields.get(3)?.parse().ok()?))
}

/// The report's entries for the commands of branches an undecided `if` left unwalked (the walk
/// took the condition as holding), or that a failure `exit` the walk reached left unwalked: every
/// one but those without effects.
pub(super) fn unwalked_effects(condition: &str, unwalked: &[String]) -> Vec<String> {
    let kind = |text: &str| {
        let mut words = text.split_whitespace().map(str::to_owned);
        let name = words.next().unwrap_or_default();
        let args: Vec<String> = words.collect();
        commands::classify(&name, &args)
    };
    // A condition that is a command debcast applies (`if setcap cap_net_raw+ep ping; then chmod
    // u-s …; else chmod u+s …`): it succeeds as on a system that supports it, which is what the
    // walk assumed; no guess to report.
    // Its operands are seen as written: one holding an expansion stands for some absolute path.
    let written: Vec<&str> = condition
        .split_whitespace()
        .map(|w| if w.contains(['$', '`']) { "/expanded" } else { w })
        .collect();
    let failure = shell::as_failure_exit(condition);
    let after_unreproduced = shell::as_exit_after_unreproduced(condition);
    if failure.is_none()
        && after_unreproduced.is_none()
        && !condition.contains("; ")
        && kind(&written.join(" ")) == Kind::Emulated
    {
        return Vec::new();
    }
    unwalked
        .iter()
        // Service management is skipped whichever branch runs it, and a non-deterministic
        // effect is left out.
        .filter(|text| !matches!(kind(text), Kind::Harmless | Kind::Service | Kind::NonDeterministic(_)))
        .map(|text| match (failure, after_unreproduced) {
            (Some(exit), _) => format!(
                "{text} (not run: the walk reached `{exit}`, a failure the install did not have: it took a path dpkg's run did not)"
            ),
            (None, Some((exit, command))) => format!(
                "{text} (not run: the walk reached `{exit}` after `{command}`, which it did not reproduce and which may have made what decided it)"
            ),
            (None, None) => format!(
                "{text} (not run: whether `{condition}` holds is not known while building; the walk took it as holding)"
            ),
        })
        .collect()
}
