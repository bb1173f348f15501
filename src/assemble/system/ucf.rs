//! `ucf` and `ucfr` (ucf 3.0043), as a fresh install runs them: configuration files a package
//! generates in its postinst and hands to ucf instead of shipping them as conffiles.
//!
//! On a fresh install the destination does not exist and ucf's hash file has no line for it, so
//! ucf takes its "Creating config file" path: `mkdir -p STATEDIR/cache`, `cp -pf NEW DEST`
//! (content, mode and owner of NEW), then `replace_md5sum`: the hash files rotated
//! (`hashfile.N` → `hashfile.N+1`, `hashfile` → `hashfile.0`, all `cp -pf`), `hashfile`
//! rewritten as its lines for other files plus `md5sum NEW` naming DEST, and NEW copied
//! (`cp -pf`) to `cache/DEST-with-slashes-as-colons` under `--three-way` or when NEW is smaller
//! than 25600 bytes. `ucfr PKG FILE` records `PKG \t FILE` in `registry` the same way
//! (`registry.N` rotated with `cp -f`, `registry` → `registry.0`). `ucf --purge DEST` and
//! `ucfr --purge PKG FILE` (a postinst forgetting a file it no longer manages) drop the file's
//! lines the same way. Everything else — an existing destination (ucf would compare sums, maybe
//! ask), `--no-action`, another state directory — is refused with the reason, and the caller
//! reports it.

use md5::{Digest, Md5};

use super::{Changes, Overlay, TreeView};
use crate::entry::{Entry, EntryKind};

const STATE_DIR: &str = "var/lib/ucf";
/// ucf keeps a copy of NEW in its cache below this size even without `--three-way`.
const CACHE_BELOW: usize = 25600;

/// Whether `ucf`/`ucfr` with these arguments is one [`apply`] can compute.
pub fn handles(argv0: &str, args: &[String]) -> bool {
    match argv0 {
        "ucf" => parse_ucf(args).is_ok(),
        "ucfr" => parse_ucfr(args).is_ok(),
        _ => false,
    }
}

#[derive(Debug, PartialEq, Eq)]
struct UcfCall {
    /// `None` for `--purge DEST`.
    new: Option<String>,
    dest: String,
    three_way: bool,
    /// `--sum-file`/`--src-dir` given: where ucf looks for historical sums of DEST.
    historical: bool,
}

/// Options (name without dashes, inline or next-argument value) and operands.
type Split<'a> = (Vec<(&'a str, Option<&'a str>)>, Vec<&'a str>);

/// Splits getopt-style arguments (`getopt -a`: long options may also start with one dash) into
/// options and operands. `with_value` names the options that take the next argument.
fn split_options<'a>(args: &'a [String], with_value: &[&str]) -> Result<Split<'a>, String> {
    let mut opts = Vec::new();
    let mut operands = Vec::new();
    let mut i = 0;
    let mut done = false;
    while let Some(a) = args.get(i) {
        i += 1;
        if done || !a.starts_with('-') || a == "-" {
            operands.push(a.as_str());
            continue;
        }
        if a == "--" {
            done = true;
            continue;
        }
        let body = a.trim_start_matches('-');
        let (name, inline) = match body.split_once('=') {
            Some((n, v)) => (n, Some(v)),
            None => (body, None),
        };
        if with_value.contains(&name) && inline.is_none() {
            let v = args.get(i).ok_or_else(|| format!("`{a}` without its value"))?;
            i += 1;
            opts.push((name, Some(v.as_str())));
        } else {
            opts.push((name, inline));
        }
    }
    Ok((opts, operands))
}

/// `-d[N]`, `-D[N]`, `--debug[=N]`, `--DEBUG[=N]` (getopt's optional values are glued on).
fn is_debug(name: &str) -> bool {
    let digits = |s: &str| s.chars().all(|c| c.is_ascii_digit());
    matches!(name, "debug" | "DEBUG")
        || name
            .strip_prefix('d')
            .or_else(|| name.strip_prefix('D'))
            .is_some_and(digits)
}

fn parse_ucf(args: &[String]) -> Result<UcfCall, String> {
    let (opts, operands) = split_options(
        args,
        &[
            "s",
            "src-dir",
            "sum-file",
            "P",
            "package",
            "state-dir",
            "debconf-template",
        ],
    )?;
    let (mut three_way, mut purge) = (false, false);
    let historical = opts
        .iter()
        .any(|(n, _)| matches!(*n, "s" | "src-dir" | "sum-file"));
    for (name, _) in &opts {
        match *name {
            "three-way" => three_way = true,
            "p" | "purge" => purge = true,
            // Prompting, historical sums, diversions by the caller, SELinux contexts, verbosity:
            // none changes what a fresh install writes.
            "debconf-ok" | "debconf-template" | "s" | "src-dir" | "sum-file" | "P" | "package" | "Z"
            | "v" | "verbose" => {}
            n if is_debug(n) => {}
            other => return Err(format!("ucf option `{other}` is not emulated")),
        }
    }
    match operands.as_slice() {
        [dest] if purge && dest.starts_with('/') => Ok(UcfCall {
            new: None,
            dest: (*dest).to_owned(),
            three_way,
            historical,
        }),
        // NEW may be relative to the working directory (dh_ucf writes `ucf
        // "usr/share/postgrey/postgrey-default" …`: dpkg runs scripts in `/`); the files module
        // makes it absolute with the walk's directory before applying it.
        [new, dest] if !purge && !new.is_empty() && dest.starts_with('/') => Ok(UcfCall {
            new: Some((*new).to_owned()),
            dest: (*dest).to_owned(),
            three_way,
            historical,
        }),
        _ if purge => Err("ucf --purge without exactly one absolute DESTINATION".into()),
        _ => Err("ucf without exactly NEW and an absolute DESTINATION".into()),
    }
}

fn parse_ucfr(args: &[String]) -> Result<(String, String, bool), String> {
    let (opts, operands) = split_options(args, &["state-dir"])?;
    let mut purge = false;
    for (name, _) in &opts {
        match *name {
            "p" | "purge" => purge = true,
            "f" | "force" | "v" | "verbose" => {}
            n if is_debug(n) => {}
            other => return Err(format!("ucfr option `{other}` is not emulated")),
        }
    }
    match operands.as_slice() {
        [pkg, file] if file.starts_with('/') => Ok(((*pkg).to_owned(), (*file).to_owned(), purge)),
        _ => Err("ucfr without exactly PACKAGE and an absolute FILE".into()),
    }
}

/// Applies one `ucf` or `ucfr` call to the image, as the tool would on a fresh install.
pub fn apply(overlay: &mut Overlay<'_>, argv0: &str, args: &[String], umask: u32) -> Result<(), String> {
    match argv0 {
        "ucf" => {
            let call = parse_ucf(args)?;
            if call.new.as_ref().is_some_and(|n| !n.starts_with('/')) {
                return Err("ucf's NEW is relative to a working directory the walk does not know".into());
            }
            ucf(overlay, &call, umask)
        }
        "ucfr" => match parse_ucfr(args)? {
            (pkg, file, false) => ucfr(overlay, &pkg, &file, umask),
            (pkg, file, true) => ucfr_purge(overlay, &pkg, &file, umask),
        },
        _ => Err("not ucf".into()),
    }
}

/// `readlink -q -m PATH`: every existing component resolved, the rest kept (as an absolute path).
fn canonical(tree: &dyn TreeView, abs: &str) -> String {
    let rel = super::tree_path(abs);
    let real = super::resolve(tree, &rel)
        .or_else(|| {
            let (dir, base) = rel.rsplit_once('/').unwrap_or(("", &rel));
            super::resolve(tree, dir).map(|d| super::child_path(&d, base))
        })
        .unwrap_or(rel);
    format!("/{real}")
}

fn read(tree: &dyn TreeView, path: &str) -> Result<Option<Vec<u8>>, String> {
    super::read_file(tree, path).map_err(|e| e.to_string())
}

/// Lines of a state file that do not end in whitespace followed by `file` (ucf's
/// `grep -Ev "[[:space:]]${safe_dest_file}$"`).
fn other_lines(text: &[u8], file: &str) -> Vec<u8> {
    let mut out = Vec::new();
    for line in text.split_inclusive(|b| *b == b'\n') {
        let body = line.strip_suffix(b"\n").unwrap_or(line);
        let names_it = body
            .strip_suffix(file.as_bytes())
            .is_some_and(|rest| rest.last().is_some_and(|c| c.is_ascii_whitespace()));
        if !names_it {
            out.extend_from_slice(body);
            out.push(b'\n');
        }
    }
    out
}

/// The first field of a state file's lines for `file` (ucf's `egrep "[[:space:]]FILE$" | awk
/// '{print $1}'`): the packages `registry` names, the sums `hashfile` records.
fn first_fields(state: &[u8], file: &str) -> Vec<String> {
    String::from_utf8_lossy(state)
        .lines()
        .filter(|l| other_lines(format!("{l}\n").as_bytes(), file).is_empty())
        .filter_map(|l| l.split_whitespace().next().map(str::to_owned))
        .collect()
}

/// A copy of the entry at `from` (a regular file) to `to`: with `-p` its mode and owner, without
/// them the mode an existing destination has or the source's masked by the umask (`cp -f`).
fn copy(overlay: &mut Overlay<'_>, from: &str, to: &str, preserve: bool, umask: u32) -> Result<(), String> {
    let src = overlay
        .entry(from)
        .cloned()
        .ok_or_else(|| format!("/{from} does not exist"))?;
    let content = read(overlay, from)?.ok_or_else(|| format!("/{from} is not a regular file"))?;
    place(overlay, &src, content, to, preserve, umask);
    Ok(())
}

/// [`copy`] from a file given by its entry and content.
fn place(overlay: &mut Overlay<'_>, src: &Entry, content: Vec<u8>, to: &str, preserve: bool, umask: u32) {
    let mut entry = if preserve {
        src.clone()
    } else if let Some(existing) = overlay.entry(to) {
        existing.clone()
    } else {
        Entry::generated(to, EntryKind::File { size: 0 }, src.mode & !umask & 0o7777)
    };
    entry.path = to.to_owned();
    entry.kind = EntryKind::File {
        size: content.len() as u64,
    };
    overlay.apply(Changes {
        files: vec![(entry, content)],
        removed: vec![],
    });
}

/// The state file `name` rewritten as `rest + line` (through a `.tmp` made by a shell
/// redirection and moved into place: a new file, 0666 less the umask, root's), after the
/// rotation of its backups: `name.6`…`name.0` copied one up, `name` to `name.0`.
fn rewrite_state(
    overlay: &mut Overlay<'_>,
    name: &str,
    line: &str,
    file: &str,
    preserve: bool,
    umask: u32,
) -> Result<(), String> {
    let base = format!("{STATE_DIR}/{name}");
    for i in (0..=6).rev() {
        let from = format!("{base}.{i}");
        if overlay.entry(&from).is_some() {
            copy(overlay, &from, &format!("{base}.{}", i + 1), preserve, umask)?;
        }
    }
    let mut text = Vec::new();
    if overlay.entry(&base).is_some() {
        copy(overlay, &base, &format!("{base}.0"), preserve, umask)?;
        text = other_lines(&read(overlay, &base)?.unwrap_or_default(), file);
    }
    text.extend_from_slice(line.as_bytes());
    // Purging from a state file that does not exist writes none.
    if overlay.entry(&base).is_some() || !line.is_empty() {
        let mut c = Changes::default();
        c.file(&base, 0o666 & !umask, text);
        overlay.apply(c);
    }
    Ok(())
}

/// `ucf --purge DEST` (ucf's `purge_md5sum`): the hash files rotated (`cp -pf`), DEST's line
/// dropped from `hashfile`, its cached copy removed. DEST itself is the caller's to remove.
fn ucf_purge(overlay: &mut Overlay<'_>, dest: &str, umask: u32) -> Result<(), String> {
    let dest = canonical(overlay, dest);
    rewrite_state(overlay, "hashfile", "", &dest, true, umask)?;
    let cached = format!("{STATE_DIR}/cache/{}", dest.replace('/', ":"));
    if super::is_file(overlay, &cached) {
        overlay.apply(Changes {
            files: vec![],
            removed: vec![cached],
        });
    }
    Ok(())
}

/// `ucfr --purge PKG FILE`: nothing when FILE is not registered; its line dropped (the
/// registry rotated, `cp -f`) when PKG owns it; refused when another package does.
fn ucfr_purge(overlay: &mut Overlay<'_>, pkg: &str, file: &str, umask: u32) -> Result<(), String> {
    let real = canonical(overlay, file);
    let registry = format!("{STATE_DIR}/registry");
    let Some(text) = read(overlay, &registry)? else {
        return Err(format!("/{registry} does not exist (ucfr's internal error)"));
    };
    let owners = first_fields(&text, &real);
    match owners.as_slice() {
        [] => Ok(()),
        [owner] if owner == pkg => rewrite_state(overlay, "registry", "", &real, false, umask),
        [owner] => Err(format!(
            "{real} is registered to {owner}, not {pkg}: ucfr refuses without --force"
        )),
        _ => Err(format!("{real} is registered more than once")),
    }
}

fn ucf(overlay: &mut Overlay<'_>, call: &UcfCall, umask: u32) -> Result<(), String> {
    let Some(new) = &call.new else {
        return ucf_purge(overlay, &call.dest, umask);
    };
    let new_rel = super::resolve(overlay, &super::tree_path(new))
        .filter(|p| super::is_file(overlay, p))
        .ok_or_else(|| format!("the new file {new} does not exist"))?;
    let src = overlay
        .entry(&new_rel)
        .cloned()
        .ok_or_else(|| format!("the new file {new} does not exist"))?;
    let content = read(overlay, &new_rel)?.unwrap_or_default();
    // ucf's historical sums of DEST: `NEW.md5sum` or `NEW.md5sum.d/` beside NEW by default.
    let historical = call.historical
        || [".md5sum", ".md5sum.d"]
            .iter()
            .any(|ext| overlay.entry(&format!("{new_rel}{ext}")).is_some());
    install(
        overlay,
        &src,
        content,
        &call.dest,
        call.three_way,
        historical,
        umask,
    )
}

/// `ucf NEW DEST` with NEW given by its entry (mode, owner) and content: what ucf does on a
/// fresh install (DEST missing, no sum recorded: "Creating config file"), and for a DEST it
/// installed before that nobody changed since (its sum is the one `hashfile` records): nothing
/// when NEW is that same version, else DEST replaced in place (`cp -f`: its mode and owner kept;
/// no `.ucf-old` copy, ucf's default) and the sums and cache updated. What would make ucf look
/// for historical sums or ask (a DEST it has no sum for, or one changed since) is refused, but for
/// a DEST it has no sum for that already holds NEW's bytes (a conffile the package also ships,
/// nfs-common's `/etc/default/nfs-common`): "nothing needs be done" but recording the sum and
/// the cache, as ucf's step 3c does when no historical sums are given.
pub fn install(
    overlay: &mut Overlay<'_>,
    src: &Entry,
    content: Vec<u8>,
    dest_abs: &str,
    three_way: bool,
    historical: bool,
    umask: u32,
) -> Result<(), String> {
    let dest_rel = super::tree_path(dest_abs);
    let dest = canonical(overlay, dest_abs);
    let hashfile = format!("{STATE_DIR}/hashfile");
    let hashes = read(overlay, &hashfile)?.unwrap_or_default();
    let recorded = first_fields(&hashes, &dest);
    let sum = hex::encode(Md5::digest(&content));
    // ucf makes its cache directory before it looks at DEST.
    let cache = format!("{STATE_DIR}/cache");
    if !super::is_dir(overlay, &cache) {
        super::mkdir_p(overlay, &cache, 0o777 & !umask);
    }
    let dest_path = super::resolve_dir_of(overlay, &dest_rel);
    let existing = dest_path.as_ref().and_then(|p| overlay.entry(p).cloned());
    match (existing, dest_path) {
        (Some(existing), Some(dest_path)) => {
            if !matches!(existing.kind, EntryKind::File { .. }) {
                return Err(format!("{dest_abs} exists and is not a regular file"));
            }
            if !matches!(existing.kind, EntryKind::File { .. }) {
                return Err(format!("{dest_abs} exists and is not a regular file"));
            }
            let current = read(overlay, &dest_path)?.unwrap_or_default();
            let same = hex::encode(Md5::digest(&current)) == sum;
            let last = match recorded.as_slice() {
                [last] => last,
                [] if same && !historical => "",
                _ => {
                    return Err(format!(
                        "{dest_abs} exists and ucf's hash file has no single sum for it: ucf would look for historical sums (and may ask)"
                    ));
                }
            };
            if last == sum {
                // "md5sums match, nothing needs be done."
                return Ok(());
            }
            if last.is_empty() {
                // DEST already is NEW: only the sum and the cache are recorded.
            } else if hex::encode(Md5::digest(&current)) != last {
                return Err(format!(
                    "{dest_abs} was changed since ucf installed it: ucf would ask"
                ));
            } else {
                place(overlay, src, content.clone(), &dest_path, false, umask);
            }
        }
        (_, dest_path) => {
            if !recorded.is_empty() {
                return Err(format!(
                    "ucf's hash file has {dest}: a deleted configuration file is not recreated"
                ));
            }
            let dest_path = dest_path.ok_or_else(|| format!("the directory of {dest_abs} does not exist"))?;
            place(overlay, src, content.clone(), &dest_path, true, umask);
        }
    }
    rewrite_state(
        overlay,
        "hashfile",
        &format!("{sum}  {dest}\n"),
        &dest,
        true,
        umask,
    )?;
    if three_way || content.len() < CACHE_BELOW {
        let cached = format!("{STATE_DIR}/cache/{}", dest.replace('/', ":"));
        place(overlay, src, content, &cached, true, umask);
    }
    Ok(())
}

fn ucfr(overlay: &mut Overlay<'_>, pkg: &str, file: &str, umask: u32) -> Result<(), String> {
    let real = canonical(overlay, file);
    let registry = format!("{STATE_DIR}/registry");
    let text = read(overlay, &registry)?.unwrap_or_default();
    let owners = first_fields(&text, &real);
    match owners.as_slice() {
        [] => {}
        [owner] if owner == pkg => return Ok(()),
        [owner] => {
            return Err(format!(
                "{real} is registered to {owner}: ucfr refuses without --force"
            ));
        }
        _ => return Err(format!("{real} is registered more than once")),
    }
    if !super::is_dir(overlay, STATE_DIR) {
        super::mkdir_p(overlay, STATE_DIR, 0o777 & !umask);
    }
    if overlay.entry(&registry).is_none() {
        let mut c = Changes::default();
        c.file(&registry, 0o666 & !umask, Vec::new());
        overlay.apply(c);
    }
    rewrite_state(
        overlay,
        "registry",
        &format!("{pkg} \t {real}\n"),
        &real,
        false,
        umask,
    )
}

/// What `ucfq -w FILE…` (`--with-colons`) prints: for each file, in sorted order,
/// `FILE:PACKAGE:EXISTS:MODIFIED` — the name (resolved when the file exists), the package the
/// registry names for it (or nothing), `Yes` when it exists (or nothing), and, when the hashfile
/// has its sum and the file exists, `Yes`/`No` for whether its content differs (or nothing), as
/// ucf 3.0043's ucfq reports (autofs's postinst reads it to take over files of an old package).
/// `None` for other forms (package names, the table without `-w`, other options).
pub fn ucfq_output(tree: &dyn TreeView, args: &[String]) -> Option<String> {
    let mut colons = false;
    let mut files = std::collections::BTreeSet::new();
    for a in args {
        match a.as_str() {
            "-w" | "--with-colons" => colons = true,
            f if f.starts_with('/') && !f.contains("/../") && !f.ends_with("/..") => {
                files.insert(f.to_owned());
            }
            _ => return None,
        }
    }
    if !colons || files.is_empty() {
        return None;
    }
    let registry = read(tree, &format!("{STATE_DIR}/registry"))
        .ok()?
        .unwrap_or_default();
    let hashfile = read(tree, &format!("{STATE_DIR}/hashfile"))
        .ok()?
        .unwrap_or_default();
    let mut out = String::new();
    for file in files {
        let rel = super::tree_path(&file);
        let real = super::resolve(tree, &rel);
        let exists = real.is_some();
        let shown = real.as_ref().map_or_else(|| file.clone(), |r| format!("/{r}"));
        let package = first_fields(&registry, &file)
            .into_iter()
            .next()
            .unwrap_or_default();
        let modified = match (first_fields(&hashfile, &file).first(), &real) {
            (Some(sum), Some(r)) => {
                use md5::{Digest, Md5};
                let bytes = read(tree, r).ok()??;
                if hex::encode(Md5::digest(&bytes)) == *sum {
                    "No"
                } else {
                    "Yes"
                }
            }
            _ => "",
        };
        let there = if exists { "Yes" } else { "" };
        out.push_str(&format!("{shown}:{package}:{there}:{modified}\n"));
    }
    Some(out)
}

#[cfg(test)]
mod tests;
