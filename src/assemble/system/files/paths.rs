//! The arguments of file commands: their operands and option values, the paths they act on
//! resolved in the image, and the `..` check that keeps them inside it.

use super::super::TreeView;
use super::super::commands::ln_target_count;
use crate::entry::EntryKind;

/// File commands whose path operands must stay inside the image.
const FILE_COMMANDS: &[&str] = &[
    "ln",
    "mv",
    "rm",
    "touch",
    "mkdir",
    "chmod",
    "chown",
    "chgrp",
    "find",
    "cp",
    "install",
    "sed",
    "mktemp",
    "update-xmlcatalog",
    "dpkg-divert",
    "ucf",
    "ucfr",
    "update-perl-sax-parsers",
    "update-catalog",
];

/// The first path a file command would act on that has a `..` component (`mkdir -p /../x`).
/// Such a path is refused outright rather than clamped at the image root: it is what a hostile
/// script writes, not a packaged one. A symbolic `ln`'s operands but the last are links' targets,
/// not paths acted on, and may be relative (`ln -s ../lib/x /usr/bin/x`); a hard link's are
/// paths like the others.
pub(super) fn dotdot_path<'a>(name: &str, args: &'a [String]) -> Option<&'a String> {
    if !FILE_COMMANDS.contains(&name) {
        return None;
    }
    let has_dotdot = |a: &String| a.split('/').any(|c| c == "..");
    if name == "ln" {
        let mut options_done = false;
        let operands: Vec<&String> = args
            .iter()
            .filter(|a| {
                if !options_done && *a == "--" {
                    options_done = true;
                    return false;
                }
                options_done || !a.starts_with('-') || a.len() == 1
            })
            .collect();
        return operands
            .into_iter()
            .skip(ln_target_count(args))
            .find(|a| has_dotdot(a));
    }
    args.iter().find(|a| a.starts_with('/') && has_dotdot(a))
}

/// Non-option arguments (`takes_value` options consume the next argument).
pub(super) fn operands(args: &[String], takes_value: &[&str]) -> Result<Vec<String>, String> {
    let mut out = Vec::new();
    let mut skip = false;
    let mut done = false;
    for a in args {
        if skip {
            skip = false;
        } else if !done && a == "--" {
            done = true;
        } else if !done && a.starts_with('-') && a.len() > 1 {
            skip = takes_value.contains(&a.as_str());
        } else if a.starts_with('/') {
            out.push(a.clone());
        } else if out.is_empty() && !a.contains('/') {
            // A mode or owner before the paths.
            out.push(a.clone());
        } else {
            return Err(format!("`{a}` is not an absolute path"));
        }
    }
    Ok(out)
}

/// The arguments of a file command with its relative path operands made absolute against the
/// working directory `cwd` (the shell's, as the walk followed it), for the commands whose
/// operands are known to be paths: every operand of `mkdir`, `rmdir`, `touch`, `rm`, `mv`, `cp`,
/// `install`; those after the mode or owner of `chmod`, `chown`, `chgrp`; the link names of `ln`
/// (a symbolic link's target stays as written: it is relative to the link; a hard link's source
/// is a path like the others). Others unchanged.
pub(super) fn absolutize(name: &str, args: &[String], cwd: Option<&str>) -> Vec<String> {
    let (takes_value, kept): (&[&str], usize) = match name {
        "mkdir" => (&["-m", "--mode"], 0),
        "rmdir" | "rm" => (&[], 0),
        "touch" => (&["-d", "-r", "-t", "--date", "--reference"], 0),
        "mv" | "cp" => (&["-t", "-S", "--suffix", "--target-directory"], 0),
        "install" => (
            &[
                "-m", "-o", "-g", "-t", "-S", "--mode", "--owner", "--group", "--suffix",
            ],
            0,
        ),
        "chmod" | "chown" | "chgrp" => (&["--reference"], 1),
        "ucf" => (
            &[
                "-s",
                "--src-dir",
                "--sum-file",
                "-P",
                "--package",
                "--state-dir",
                "--debconf-template",
            ],
            0,
        ),
        "ln" => (
            &["-t", "-S", "--suffix", "--target-directory"],
            ln_target_count(args),
        ),
        _ => return args.to_vec(),
    };
    let Some(cwd) = cwd else {
        return args.to_vec();
    };
    let mut out = Vec::with_capacity(args.len());
    let (mut skip, mut done, mut operand) = (false, false, 0usize);
    for a in args {
        if skip {
            skip = false;
        } else if !done && a == "--" {
            done = true;
        } else if !done && a.starts_with('-') && a.len() > 1 && !(name == "chmod" && is_mode(a)) {
            skip = takes_value.contains(&a.as_str());
        } else {
            operand += 1;
            if operand > kept && !a.starts_with('/') && !a.is_empty() {
                out.push(super::super::shell::join(cwd, a));
                continue;
            }
        }
        out.push(a.clone());
    }
    out
}

/// A `chmod` argument that is a symbolic mode taking permissions away (`-w`, `-x,o-r`), not an
/// option.
fn is_mode(arg: &str) -> bool {
    arg.len() > 1 && arg[1..].chars().all(|c| "rwxXst,ugoa+-=".contains(c))
}

/// Whether `path` is missing while `package`'s preinst runs although the tree has it: only
/// `package` ships it (its files are unpacked after its preinst) and no script made it since.
/// squid's preinst links its AppArmor profile into `disable/` only when the profile is not there
/// yet, which on a fresh install it is not.
pub(super) fn not_unpacked_yet(st: &super::State<'_>, package: &str, path: &str) -> bool {
    if st.script != "preinst" {
        return false;
    }
    if st.overlay.changed(&super::super::tree_path(path)) {
        return false;
    }
    // Most paths a preinst tests are not its package's: the other packages are only looked
    // through for those that are.
    shipped(st, path, |p| p == package) && !shipped(st, path, |p| p != package)
}

/// Whether `package` ships something below `path` (an absolute path): the path is a directory
/// in the package, so a link there is not one it unpacks (libc6's `lib64`, a merged-/usr link
/// on the image, already there when its preinst runs).
pub(super) fn ships_below(st: &super::State<'_>, package: &str, path: &str) -> bool {
    let below = format!("{}/", super::super::tree_path(path));
    st.packages.iter().filter(|p| p.name == package).any(|p| {
        p.files
            .iter()
            .any(|f| super::super::tree_path(&format!("/{f}")).starts_with(&below))
    })
}

/// Whether a package whose name `which` accepts ships `path` (an absolute path).
pub(super) fn shipped(st: &super::State<'_>, path: &str, which: impl Fn(&str) -> bool) -> bool {
    let rel = super::super::tree_path(path);
    st.packages
        .iter()
        .filter(|p| which(&p.name))
        .any(|p| p.ships(&rel))
}

/// What `readlink [-f|-e|-m] [-n] PATH…` prints as the script sees the image (a preinst does not
/// see its own package's files yet): `None` for a form not answered (a relative path, an
/// option it does not know). Plain `readlink` prints a link's target; `-f` resolves every link
/// with all but the last component there, `-e` with all of them there, `-m` with none needed.
/// Nothing is printed for what fails (the caller's status is then a failure).
pub(super) fn readlink_output(st: &super::State<'_>, package: &str, args: &[String]) -> Option<String> {
    #[derive(PartialEq, Clone, Copy)]
    enum Mode {
        Plain,
        Last,
        All,
        Missing,
    }
    let (mut mode, mut newline, mut operands) = (Mode::Plain, true, Vec::new());
    let mut options = true;
    for a in args {
        match a.as_str() {
            "--" if options => options = false,
            "-f" | "--canonicalize" if options => mode = Mode::Last,
            "-e" | "--canonicalize-existing" if options => mode = Mode::All,
            "-m" | "--canonicalize-missing" if options => mode = Mode::Missing,
            "-n" | "--no-newline" if options => newline = false,
            "-q" | "-s" | "--quiet" | "--silent" | "-v" | "--verbose" if options => {}
            s if options && s.starts_with('-') && s.len() > 1 => return None,
            s if s.starts_with('/') => operands.push(s.to_owned()),
            _ => return None,
        }
    }
    // GNU readlink prints the newline anyway for several operands.
    let end = if newline || operands.len() > 1 { "\n" } else { "" };
    let entry = |path: &str| {
        if not_unpacked_yet(st, package, path) {
            return None;
        }
        st.overlay
            .entry(&super::super::tree_path(path))
            .map(|e| e.kind.clone())
    };
    let mut out = String::new();
    for operand in &operands {
        let printed = match mode {
            Mode::Plain => plain_readlink(operand, &entry),
            _ => canonical(operand, mode == Mode::Last, mode == Mode::All, &entry).filter(|path| {
                // `-f DIR/` and `-e DIR/`: what the path resolves to, if there, is a directory.
                mode == Mode::Missing
                    || !operand.ends_with('/')
                    || path == "/"
                    || !entry(path).is_some_and(|k| !matches!(k, EntryKind::Directory))
            }),
        };
        match printed {
            Some(p) => {
                out.push_str(&p);
                out.push_str(end);
            }
            // readlink stops printing for that operand and fails; with one operand, as the
            // scripts use it, nothing is printed.
            None if operands.len() == 1 => return Some(String::new()),
            None => return None,
        }
    }
    Some(out)
}

/// Plain `readlink PATH`: the target of the link PATH names, its directories resolved first
/// (`readlink /bin/sh` on merged /usr reads `/usr/bin/sh`); nothing for what is no link, or a
/// path ending in `/`, `.` or `..`.
fn plain_readlink(path: &str, entry: &dyn Fn(&str) -> Option<EntryKind>) -> Option<String> {
    let (parent, name) = path.rsplit_once('/')?;
    if matches!(name, "" | "." | "..") {
        return None;
    }
    let dir = canonical(if parent.is_empty() { "/" } else { parent }, false, true, entry)?;
    if dir != "/" && !matches!(entry(&dir), Some(EntryKind::Directory)) {
        return None;
    }
    match entry(&format!("{}/{name}", dir.trim_end_matches('/'))) {
        Some(EntryKind::Symlink { target }) => Some(target),
        _ => None,
    }
}

/// `path` with every link resolved and `.`/`..` taken, as GNU's canonicalize does: `last_may_miss`
/// (`-f`) lets the last component be missing, `all_must_exist` (`-e`) none, else (`-m`) any.
fn canonical(
    path: &str,
    last_may_miss: bool,
    all_must_exist: bool,
    entry: &dyn Fn(&str) -> Option<EntryKind>,
) -> Option<String> {
    let mut todo: Vec<String> = path
        .split('/')
        .rev()
        .filter(|c| !c.is_empty())
        .map(str::to_owned)
        .collect();
    let mut done: Vec<String> = Vec::new();
    let mut links = 0;
    while let Some(component) = todo.pop() {
        match component.as_str() {
            "." => continue,
            ".." => {
                done.pop();
                continue;
            }
            _ => {}
        }
        let here = format!(
            "/{}",
            done.iter()
                .chain([&component])
                .cloned()
                .collect::<Vec<_>>()
                .join("/")
        );
        let last = todo.is_empty();
        match entry(&here) {
            Some(EntryKind::Symlink { target }) => {
                links += 1;
                if links > 40 {
                    return None;
                }
                if target.starts_with('/') {
                    done.clear();
                }
                todo.extend(
                    target
                        .split('/')
                        .rev()
                        .filter(|c| !c.is_empty())
                        .map(str::to_owned),
                );
            }
            Some(EntryKind::Directory) => done.push(component),
            Some(_) if last => done.push(component),
            // A file with more after it: not a directory.
            Some(_) if all_must_exist || last_may_miss => return None,
            None if all_must_exist || (last_may_miss && !last) => return None,
            _ => done.push(component),
        }
    }
    Some(format!("/{}", done.join("/")))
}
