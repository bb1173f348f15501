//! mailcap's `update-mime` (3.70, bookworm's): `/etc/mailcap`, the table of programs that view
//! each media type, as the package's postinst and its trigger on `/usr/lib/mime/packages` and
//! `/usr/share/applications` leave it.
//!
//! The tool reads every file of `/usr/lib/mime/packages` (one mailcap entry a line, an optional
//! `priority=N` from 0 to 9, 5 if absent or out of range), then every desktop entry below
//! `/usr/share/applications` whose name no package file took (one entry per type of its
//! `MimeType`, from its `Exec`, `Name`, `Icon` and `Terminal` lines, read with the tool's own
//! loose patterns), orders them by priority (highest first; within one, specific types before
//! `type/*` before `*/…`), moves what `/etc/mailcap.order` names to the front, and writes them
//! below the header and user section of the current `/etc/mailcap` (the packaged template
//! `/usr/lib/mime/mailcap` on a fresh install). Everything it reads is in the finished tree and
//! its last run sees it all (its triggers fire on every later change), so the file is computed
//! once, from the finished tree. Directories are listed as Perl's `glob` sorts them
//! (case-insensitively, then bytewise).
//!
//! Under dpkg (`DPKG_RUNNING_VERSION` set) the tool does nothing unless its first argument is
//! `--triggered`, which is how mailcap's postinst calls it.

use std::collections::BTreeMap;

use regex::Regex;

use super::{Changes, InstalledPackage, NotEmulated, SystemError, TreeView};

const MAILCAP: &str = "/etc/mailcap";
const TEMPLATE: &str = "/usr/lib/mime/mailcap";
const PACKAGES_DIR: &str = "/usr/lib/mime/packages";
const APPLICATIONS_DIR: &str = "/usr/share/applications";
const ORDER_FILE: &str = "/etc/mailcap.order";
/// Perl code the tool runs before anything else when it exists: not reproduced.
const CONF_FILE: &str = "/etc/update-mime.conf";
const DEFAULT_PRIORITY: u32 = 5;
/// Links followed to a directory before giving up (a loop in the tree).
const MAX_DEPTH: usize = 16;

/// `update-mime --triggered [ARGS…]`, the one form that runs under dpkg; `None` for another
/// command or a call that exits at once.
pub fn parse_call(argv0: &str, args: &[String]) -> Option<Result<(), String>> {
    if argv0.rsplit('/').next() != Some("update-mime") {
        return None;
    }
    (args.first().map(String::as_str) == Some("--triggered")).then_some(Ok(()))
}

/// `/etc/mailcap` when a postinst runs the tool, from the finished tree.
pub fn compute(
    tree: &dyn TreeView,
    packages: &[InstalledPackage],
) -> Result<(Changes, Vec<NotEmulated>), SystemError> {
    let (calls, mut report) = super::calls::postinst_calls(tree, packages, "update-mime", parse_call);
    let mut out = Changes::default();
    let Some((_, pkg)) = calls.first() else {
        return Ok((out, report));
    };
    let refuse = |why: String| NotEmulated {
        package: pkg.name.clone(),
        script: "postinst".into(),
        what: format!("update-mime --triggered ({why})"),
    };
    if super::resolve(tree, &super::tree_path(CONF_FILE)).is_some_and(|p| tree.entry(&p).is_some()) {
        report.push(refuse(format!(
            "{CONF_FILE} is Perl code the tool runs; not reproduced"
        )));
        return Ok((out, report));
    }
    match mailcap(tree)? {
        Ok(Some(text)) => out.file(&super::tree_path(MAILCAP), 0o644, text.into_bytes()),
        // The tool leaves the file alone (no template, or one without a user section).
        Ok(None) => {}
        Err(why) => report.push(refuse(why)),
    }
    Ok((out, report))
}

/// The entries read, in reading order, with the package (file name) each came from.
#[derive(Default)]
struct Entries {
    lines: Vec<String>,
    /// Package name → the indices of its entries (a package with none is still known).
    packages: BTreeMap<String, Vec<usize>>,
    /// Priority → the indices of its entries, in reading order.
    priorities: BTreeMap<u32, Vec<usize>>,
}

impl Entries {
    fn push(&mut self, package: &str, line: String, priority: u32) {
        let index = self.lines.len();
        self.lines.push(line);
        self.packages.entry(package.to_owned()).or_default().push(index);
        self.priorities.entry(priority).or_default().push(index);
    }
}

/// The new `/etc/mailcap`: `Ok(None)` where the tool writes nothing, `Err` for input it is not
/// reproduced on (a file that is not UTF-8).
fn mailcap(tree: &dyn TreeView) -> Result<Result<Option<String>, String>, SystemError> {
    let mut entries = Entries::default();
    let priority_re = &patterns().priority;
    for (name, path) in glob(tree, &super::tree_path(PACKAGES_DIR)) {
        if skipped(&path) {
            continue;
        }
        entries.packages.entry(name.clone()).or_default();
        let Some(text) = read_text(tree, &path)? else {
            continue;
        };
        let Ok(text) = text else {
            return Ok(Err(format!("{PACKAGES_DIR}/{name} is not UTF-8")));
        };
        for line in perl_lines(&text) {
            let trimmed = line.trim_start();
            if trimmed.is_empty() || trimmed.starts_with('#') {
                continue;
            }
            let priority = priority_re
                .captures(line)
                .and_then(|c| c[1].parse::<u32>().ok())
                .filter(|p| *p <= 9)
                .unwrap_or(DEFAULT_PRIORITY);
            entries.push(&name, line.to_owned(), priority);
        }
    }
    for path in desktop_files(tree, &super::tree_path(APPLICATIONS_DIR), 0) {
        if skipped(&path) {
            continue;
        }
        let Some(name) = path.rsplit('/').next().and_then(|n| n.strip_suffix(".desktop")) else {
            continue;
        };
        if entries.packages.contains_key(name) {
            continue;
        }
        entries.packages.insert(name.to_owned(), Vec::new());
        let Some(text) = read_text(tree, &path)? else {
            continue;
        };
        let Ok(text) = text else {
            return Ok(Err(format!("/{path} is not UTF-8")));
        };
        for line in desktop_entry_lines(name, &text) {
            entries.push(name, line, DEFAULT_PRIORITY);
        }
    }
    let order = match read_text(tree, &super::tree_path(ORDER_FILE))? {
        Some(Ok(text)) => order_codes(&text),
        Some(Err(_)) => return Ok(Err(format!("{ORDER_FILE} is not UTF-8"))),
        None => Vec::new(),
    };
    let ordered = order_entries(&entries, &order);
    let current = match read_text(tree, &super::tree_path(MAILCAP))? {
        Some(text) => Some(text),
        None => read_text(tree, &super::tree_path(TEMPLATE))?,
    };
    let Some(current) = current else {
        return Ok(Ok(None));
    };
    let Ok(current) = current else {
        return Ok(Err(format!("{MAILCAP} is not UTF-8")));
    };
    let Some(mut text) = header(&current) else {
        return Ok(Ok(None));
    };
    text.push_str("\n###############################################################################\n\n");
    let strip_priority = &patterns().strip_priority;
    let strip_semicolon = &patterns().strip_semicolon;
    for i in ordered {
        let entry = strip_priority.replace(&entries.lines[i], "");
        let entry = strip_semicolon.replace(&entry, "");
        text.push_str(&entry);
        text.push('\n');
    }
    Ok(Ok(Some(text)))
}

/// The tool's patterns, compiled once.
struct Patterns {
    priority: Regex,
    strip_priority: Regex,
    strip_semicolon: Regex,
    terminal: Regex,
    name: Regex,
    icon: Regex,
    exec: Regex,
    types: Regex,
    file_codes: Regex,
    semicolons: Regex,
    comment: Regex,
    entry_type: Regex,
    begins: Regex,
    ends: Regex,
}

fn patterns() -> &'static Patterns {
    static PATTERNS: std::sync::LazyLock<Patterns> = std::sync::LazyLock::new(|| {
        // Fixed text, so it compiles.
        let re = |pattern: &str| {
            Regex::new(pattern).unwrap_or_else(|e| unreachable!("mailcap pattern {pattern}: {e}"))
        };
        Patterns {
            priority: re(r"(?i)priority\s*=\s*(\d+)\s*($|;)"),
            strip_priority: re(r"\s*priority\s*=\s*\d+\s*($|;)"),
            strip_semicolon: re(r"\s*;\s*$"),
            terminal: re(r"(?i)^Terminal=(\w+)"),
            name: re(r"(?i)^Name=(.+)"),
            icon: re(r"(?i)^Icon=(.+)"),
            exec: re(r"(?i)Exec=(.*)$"),
            types: re(r"(?i)MimeType=(.*)"),
            file_codes: re("%[fFuU]"),
            semicolons: re(r"\s*;\s*"),
            comment: re(r"\s*#.*$"),
            entry_type: re(r"^(.*?)(;|\s)"),
            begins: re(r"^# ----- .* Begins "),
            ends: re(r"^# ----- .* Ends "),
        }
    });
    &PATTERNS
}

/// A file's text: `None` if absent or not a regular file, `Some(Err)` if not UTF-8.
fn read_text(tree: &dyn TreeView, path: &str) -> Result<Option<Result<String, ()>>, SystemError> {
    if !super::is_file(tree, path) {
        return Ok(None);
    }
    Ok(super::read_file(tree, path)?.map(|b| String::from_utf8(b).map_err(drop)))
}

/// The tool's skip rule for a path: a component starting with `.` or `#`, or a trailing `~`.
fn skipped(path: &str) -> bool {
    path.ends_with('~') || path.split('/').any(|c| c.starts_with('.') || c.starts_with('#'))
}

/// Lines as Perl's `<FILE>` and `chomp` give them: split after each newline, the newline taken
/// off (a carriage return stays).
fn perl_lines(text: &str) -> impl Iterator<Item = &str> {
    text.split_inclusive('\n')
        .map(|l| l.strip_suffix('\n').unwrap_or(l))
}

/// Perl's `glob "DIR/*"`: the names not starting with a dot, sorted as `GLOB_ALPHASORT` does
/// (ASCII case folded, ties bytewise), with their tree paths.
fn glob(tree: &dyn TreeView, dir: &str) -> Vec<(String, String)> {
    let Some((real, mut names)) = super::children(tree, dir) else {
        return Vec::new();
    };
    names.retain(|n| !n.starts_with('.'));
    names.sort_by(|a, b| {
        a.to_ascii_lowercase()
            .cmp(&b.to_ascii_lowercase())
            .then_with(|| a.cmp(b))
    });
    names
        .into_iter()
        .map(|n| {
            let path = super::child_path(&real, &n);
            (n, path)
        })
        .collect()
}

/// `RecurseIntoDirectories`: below `dir`, each subdirectory's files (recursively) first, then
/// the directory's own regular files; links followed.
fn desktop_files(tree: &dyn TreeView, dir: &str, depth: usize) -> Vec<String> {
    if depth > MAX_DEPTH || skipped(dir) {
        return Vec::new();
    }
    let listed = glob(tree, dir);
    let mut files = Vec::new();
    for (_, path) in &listed {
        if super::is_dir(tree, path) {
            files.extend(desktop_files(tree, path, depth + 1));
        }
    }
    files.extend(
        listed
            .into_iter()
            .map(|(_, p)| p)
            .filter(|p| p.ends_with(".desktop") && super::is_file(tree, p)),
    );
    files
}

/// The entries one desktop file gives (`ReadDesktopEntries`): `TYPE; EXEC; TERMINAL` for each
/// type its `MimeType` lines list, with the tool's patterns (its `Exec` and `MimeType` ones are
/// not anchored: `TryExec=` matches too).
fn desktop_entry_lines(name: &str, text: &str) -> Vec<String> {
    let p = patterns();
    let terminal_re = &p.terminal;
    let name_re = &p.name;
    let icon_re = &p.icon;
    let exec_re = &p.exec;
    let types_re = &p.types;
    let mut terminal = "test=test -n \"$DISPLAY\"".to_owned();
    let mut title = name.to_owned();
    let mut icon = String::new();
    let mut exec: Option<String> = None;
    let mut types: Vec<String> = Vec::new();
    let mut in_group = false;
    for line in perl_lines(text) {
        let trimmed = line.trim_start();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        if line == "[Desktop Entry]" {
            in_group = true;
            continue;
        }
        if line.starts_with('[') && line.ends_with(']') {
            in_group = false;
            continue;
        }
        if !in_group {
            continue;
        }
        if let Some(c) = terminal_re.captures(line) {
            if &c[1] == "true" {
                terminal = "needsterminal".into();
            }
        } else if let Some(c) = name_re.captures(line) {
            title = c[1].to_owned();
        } else if let Some(c) = icon_re.captures(line) {
            icon = c[1].to_owned();
        } else if let Some(c) = exec_re.captures(line) {
            let mut e = p.file_codes.replace_all(&c[1], "%s").into_owned();
            if !e.contains("%s") {
                e.push_str(" %s");
            }
            exec = Some(e);
        } else if let Some(c) = types_re.captures(line) {
            types.extend(perl_split_semicolons(&c[1]));
        }
    }
    let Some(exec) = exec.filter(|_| !types.is_empty()) else {
        return Vec::new();
    };
    let exec = exec
        .replace("%c", &title)
        .replace("%i", &format!("--icon {icon}"));
    types
        .into_iter()
        .map(|t| format!("{t}; {exec}; {terminal}"))
        .collect()
}

/// Perl's `split(/\s*;\s*/, $list)` with the empty fields dropped (the tool keeps only
/// non-empty ones; split itself drops trailing empty fields).
fn perl_split_semicolons(list: &str) -> Vec<String> {
    patterns()
        .semicolons
        .split(list)
        .filter(|t| !t.is_empty())
        .map(str::to_owned)
        .collect()
}

/// The codes of `/etc/mailcap.order`: comments and blank lines dropped.
fn order_codes(text: &str) -> Vec<String> {
    let comment = &patterns().comment;
    perl_lines(text)
        .map(|l| comment.replace(l, "").into_owned())
        .filter(|l| !l.trim().is_empty())
        .collect()
}

/// `OrderEntries`: by priority (highest first), within one by how wild the type is (a stable
/// sort), then what the order file names moved to the front in its order.
fn order_entries(entries: &Entries, order: &[String]) -> Vec<usize> {
    // `m!^\S+/\*!` (a `/*` after at least one character of the leading word) and `m!^\*/!`.
    let wildness = |i: &usize| {
        let line = &entries.lines[*i];
        let word = line.split(char::is_whitespace).next().unwrap_or("");
        let sub = word.get(1..).is_some_and(|rest| rest.contains("/*"));
        u8::from(sub) + 2 * u8::from(line.starts_with("*/"))
    };
    let mut by_priority: Vec<usize> = Vec::new();
    for list in entries.priorities.values().rev() {
        let mut list = list.clone();
        list.sort_by_key(wildness);
        by_priority.extend(list);
    }
    let mut ordered: Vec<usize> = Vec::new();
    let entry_type = &patterns().entry_type;
    for code in order {
        let (package, wanted) = match code.rsplit_once(':') {
            Some((p, t)) => (p, t.split(char::is_whitespace).next().unwrap_or("")),
            None => (code.as_str(), ""),
        };
        let wanted = if wanted.is_empty() { "*/*" } else { wanted };
        let Ok(wanted) = Regex::new(&format!("^{}$", wanted.replace('*', ".*"))) else {
            continue;
        };
        let Some(own) = entries.packages.get(package) else {
            continue;
        };
        for i in &by_priority {
            if ordered.contains(i) || !own.contains(i) {
                continue;
            }
            let matched = entry_type
                .captures(&entries.lines[*i])
                .is_some_and(|c| wanted.is_match(&c[1]));
            if matched {
                ordered.push(*i);
            }
        }
    }
    for i in by_priority {
        if !ordered.contains(&i) {
            ordered.push(i);
        }
    }
    ordered
}

/// `UpdateMailcap`'s reading of the current file: everything up to the user section's
/// `# ----- … Begins` line, the section, and its `# ----- … Ends` line (`install-mime` renamed
/// `update-mime` throughout); `None` without both markers (the tool leaves the file alone).
fn header(current: &str) -> Option<String> {
    let begins = &patterns().begins;
    let ends = &patterns().ends;
    let mut out = String::new();
    let mut in_user = false;
    for line in current.split_inclusive('\n') {
        let line = line.replace("install-mime", "update-mime");
        if in_user && ends.is_match(&line) {
            out.push_str(&line);
            return Some(out);
        }
        out.push_str(&line);
        if !in_user && begins.is_match(&line) {
            in_user = true;
        }
    }
    None
}

#[cfg(test)]
mod tests;
