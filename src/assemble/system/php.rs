//! php-common's module helpers, as the PHP packages' postinsts run them through
//! `php-maintscript-helper`'s `php_invoke`: `phpenmod` (enabling an extension for PHP versions
//! and SAPIs) and the `phpquery` questions the helper asks on the way (`-V`, `-S -v V`,
//! `-M -v V`, and `-v V -s SAPI -m MOD` as a condition).
//!
//! Enabling MOD for version V and SAPI S links `/etc/php/V/S/conf.d/PRIO-MOD.ini` to
//! `/etc/php/V/mods-available/MOD.ini` (PRIO from the ini's `; priority=NN` line, else 20) when
//! the SAPI's `conf.d` exists, then records who enabled it: an empty marker
//! `/var/lib/php/modules/V/S/enabled_by_maint/MOD` (`-m`, the maintainer scripts) or
//! `enabled_by_admin`; `-r` registers the module for the version
//! (`/var/lib/php/modules/V/registry/MOD`), which is how a SAPI installed later (`phpquery -M`)
//! learns which modules to enable. A module the administrator disabled, or whose link was changed,
//! is left alone as the helper leaves it. Disabling (`phpdismod`) never runs on a fresh install
//! and is refused, so it is reported.

use super::{Changes, Overlay, TreeView};

/// One `phpenmod` call.
#[derive(Debug, PartialEq, Eq)]
pub struct Call {
    /// `-v`: the versions (`None`: every installed version, `ALL`).
    versions: Option<Vec<String>>,
    /// `-s`: the SAPIs (`None`: every SAPI of the version, `ALL`).
    sapis: Option<Vec<String>>,
    mods: Vec<String>,
    /// `-m`: run by a maintainer script.
    maint: bool,
    /// `-r`: register the module for the version.
    register: bool,
}

/// Parses `phpenmod [-q] [-m] [-r] [-f] [-v V|ALL]… [-s S|ALL]… MOD…` as its getopts reads it.
pub fn parse(argv0: &str, args: &[String]) -> Result<Call, String> {
    if argv0 != "phpenmod" {
        return Err(format!(
            "{argv0} is not reproduced (it never runs on a fresh install)"
        ));
    }
    let mut call = Call {
        versions: None,
        sapis: None,
        mods: Vec::new(),
        maint: false,
        register: false,
    };
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let Some(flags) = a.strip_prefix('-').filter(|f| !f.is_empty()) else {
            // getopts stops at the first operand.
            call.mods.push(a.clone());
            call.mods.extend(it.by_ref().cloned());
            break;
        };
        if flags == "-" {
            call.mods.extend(it.by_ref().cloned());
            break;
        }
        for (i, c) in flags.char_indices() {
            match c {
                // `-p` (purge) and `-f` only change what disabling does.
                'q' | 'f' | 'p' => {}
                'm' => call.maint = true,
                'r' => call.register = true,
                'v' | 's' => {
                    let rest = &flags[i + 1..];
                    let value = if rest.is_empty() {
                        it.next()
                            .cloned()
                            .ok_or(format!("phpenmod -{c} without a value"))?
                    } else {
                        rest.to_owned()
                    };
                    let list = if c == 'v' {
                        &mut call.versions
                    } else {
                        &mut call.sapis
                    };
                    add_choice(list, value, c)?;
                    break;
                }
                other => return Err(format!("phpenmod -{other} is not reproduced")),
            }
        }
    }
    // Only the part before a `/` names the module (`phpenmod mysqli/…`).
    call.mods = call
        .mods
        .iter()
        .map(|m| m.split('/').next().unwrap_or(m).to_owned())
        .collect();
    if call.mods.is_empty() {
        return Err("phpenmod without a module prints its usage and fails".into());
    }
    if let Some(bad) = call
        .mods
        .iter()
        .chain(call.versions.iter().flatten())
        .chain(call.sapis.iter().flatten())
        .find(|s| s.is_empty() || s.contains(['*', '?', '[', '/']) || s.starts_with('.'))
    {
        return Err(format!("phpenmod: `{bad}` is not a name"));
    }
    Ok(call)
}

/// `-v`/`-s` may repeat, but `ALL` only alone (the helper prints its usage otherwise).
fn add_choice(list: &mut Option<Vec<String>>, value: String, flag: char) -> Result<(), String> {
    match (list.as_mut(), value.as_str()) {
        (None, "ALL") => *list = Some(vec!["ALL".into()]),
        (Some(l), _) if l.iter().any(|v| v == "ALL") || value == "ALL" => {
            return Err(format!("phpenmod -{flag}: ALL and a name together"));
        }
        (Some(l), _) => l.push(value),
        (None, _) => *list = Some(vec![value]),
    }
    Ok(())
}

/// Enables every module of the call, as `enmods` does.
pub fn apply(overlay: &mut Overlay<'_>, call: &Call, umask: u32) -> Result<(), String> {
    for module in &call.mods {
        for version in resolve(overlay, call.versions.as_deref(), |t| installed_versions(t))? {
            let sapis = resolve(overlay, call.sapis.as_deref(), |t| installed_sapis(t, &version))?;
            for sapi in sapis {
                if enable(overlay, &version, &sapi, module, call.maint) {
                    record_enabled(overlay, &version, &sapi, module, call.maint, umask);
                }
            }
            if call.register {
                let registry = format!("var/lib/php/modules/{version}/registry");
                super::mkdir_p(overlay, &registry, 0o777 & !umask);
                touch(overlay, &format!("{registry}/{module}"), umask);
            }
        }
    }
    Ok(())
}

/// The names of `-v`/`-s` (`ALL` or none: what `all` lists).
fn resolve(
    tree: &dyn TreeView,
    chosen: Option<&[String]>,
    all: impl Fn(&dyn TreeView) -> Vec<String>,
) -> Result<Vec<String>, String> {
    Ok(match chosen {
        None => all(tree),
        Some([only]) if only == "ALL" => all(tree),
        Some(names) => names.to_vec(),
    })
}

/// `enmod`: whether the module is (now) enabled for the SAPI, as the helper's return status.
fn enable(overlay: &mut Overlay<'_>, version: &str, sapi: &str, module: &str, maint: bool) -> bool {
    let ini = format!("/etc/php/{version}/mods-available/{module}.ini");
    let Some(priority) = priority(overlay, version, module) else {
        // "Module … ini file doesn't exist"
        return false;
    };
    let link = format!("etc/php/{version}/{sapi}/conf.d/{priority}-{module}.ini");
    match state(overlay, version, sapi, module) {
        State::DisabledByAdmin if maint => return false,
        State::Modified => return false,
        _ => {}
    }
    if !super::is_dir(overlay, &format!("etc/php/{version}/{sapi}/conf.d")) {
        // "Directory … doesn't exist, not enabling the module"
        return false;
    }
    // `[ ! -h LINK ] && ln -s`: an existing file in its place makes `ln` fail, which the helper
    // (without `set -e`) does not notice.
    if !super::is_symlink(overlay, &format!("/{link}")) && !super::exists(overlay, &link) {
        let mut c = Changes::default();
        c.symlink(&link, &ini);
        overlay.apply(c);
    }
    true
}

/// What `phpquery -v V -s S -m MOD` (`check_mod`) finds.
#[derive(Debug, PartialEq, Eq)]
enum State {
    Enabled,
    /// Status 1: not enabled, no marker.
    NotEnabled,
    /// 32: disabled by the administrator.
    DisabledByAdmin,
    /// 33: disabled by a maintainer script.
    DisabledByMaint,
    /// 34: the link points elsewhere.
    Modified,
    /// The module has no ini file ("No module matches").
    Missing,
}

fn state(tree: &dyn TreeView, version: &str, sapi: &str, module: &str) -> State {
    let Some(priority) = priority(tree, version, module) else {
        return State::Missing;
    };
    let link = format!("etc/php/{version}/{sapi}/conf.d/{priority}-{module}.ini");
    let ini = format!("/etc/php/{version}/mods-available/{module}.ini");
    let markers = format!("var/lib/php/modules/{version}/{sapi}");
    if super::exists(tree, &link) {
        match tree
            .entry(&super::resolve_dir_of(tree, &link).unwrap_or_default())
            .map(|e| &e.kind)
        {
            Some(super::EntryKind::Symlink { target }) if *target == ini => State::Enabled,
            Some(super::EntryKind::Symlink { .. }) => State::Modified,
            // A file in the link's place: the helper's test falls through with status 0.
            _ => State::Enabled,
        }
    } else if super::exists(tree, &format!("{markers}/disabled_by_admin/{module}")) {
        State::DisabledByAdmin
    } else if super::exists(tree, &format!("{markers}/disabled_by_maint/{module}")) {
        State::DisabledByMaint
    } else {
        State::NotEnabled
    }
}

/// `get_priority`: the number of the ini's first `; priority=NN` line (sed stops there), 20 when
/// it has none; `None` when the module has no readable ini.
fn priority(tree: &dyn TreeView, version: &str, module: &str) -> Option<String> {
    let ini = format!("etc/php/{version}/mods-available/{module}.ini");
    let bytes = super::read_file(tree, &ini).ok().flatten()?;
    let text = String::from_utf8_lossy(&bytes);
    for line in text.lines() {
        if let Some(n) = priority_line(line) {
            return Some(n.to_owned());
        }
        // `/^[0-9]\+$/q`: a line of digits alone ends the search.
        if !line.is_empty() && line.bytes().all(|b| b.is_ascii_digit()) {
            break;
        }
    }
    Some("20".into())
}

/// `^;[[:space:]]*priority[[:space:]]*=[[:space:]]*\([0-9]\+\)[[:space:]]*$`
fn priority_line(line: &str) -> Option<&str> {
    let space = super::clib::is_space_char;
    let rest = line.strip_prefix(';')?.trim_start_matches(space);
    let rest = rest.strip_prefix("priority")?.trim_start_matches(space);
    let rest = rest.strip_prefix('=')?.trim_start_matches(space);
    let digits = rest.trim_end_matches(space);
    (!digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit())).then_some(digits)
}

/// `record_state enabled`: an administrator's marker stays; otherwise the module's markers for
/// the SAPI are replaced by `enabled_by_maint/MOD` (`-m`) or `enabled_by_admin/MOD`.
fn record_enabled(
    overlay: &mut Overlay<'_>,
    version: &str,
    sapi: &str,
    module: &str,
    maint: bool,
    umask: u32,
) {
    let dir = format!("var/lib/php/modules/{version}/{sapi}");
    if super::exists(overlay, &format!("{dir}/enabled_by_admin/{module}")) {
        return;
    }
    if maint && super::exists(overlay, &format!("{dir}/enabled_by_maint/{module}")) {
        return;
    }
    let stale: Vec<String> = [
        "enabled_by_admin",
        "enabled_by_maint",
        "disabled_by_admin",
        "disabled_by_maint",
    ]
    .iter()
    .map(|d| format!("{dir}/{d}/{module}"))
    .filter(|p| super::is_file(overlay, p))
    .collect();
    super::enabled_marker(overlay, &dir, module, maint, umask, stale);
}

fn touch(overlay: &mut Overlay<'_>, path: &str, umask: u32) {
    if !super::exists(overlay, path) {
        let mut c = Changes::default();
        c.file(path, 0o666 & !umask, Vec::new());
        overlay.apply(c);
    }
}

/// The names in a directory of the image, sorted: the helper lists them with `find`, whose order
/// only decides the order of the work, not its result.
fn entries(tree: &dyn TreeView, dir: &str) -> Vec<String> {
    super::children(tree, dir)
        .map(|(_, names)| names)
        .unwrap_or_default()
}

/// `phpquery -V`: entries of `/usr/lib/php` ending in `DIGIT.DIGIT`, as `sort -rn` orders them.
fn installed_versions(tree: &dyn TreeView) -> Vec<String> {
    let mut versions: Vec<String> = entries(tree, "usr/lib/php")
        .into_iter()
        .filter(|v| {
            let b = v.as_bytes();
            b.len() >= 3
                && b[b.len() - 1].is_ascii_digit()
                && b[b.len() - 2] == b'.'
                && b[b.len() - 3].is_ascii_digit()
        })
        .collect();
    versions.sort_by(|a, b| {
        numeric_prefix(b)
            .total_cmp(&numeric_prefix(a))
            .then_with(|| b.cmp(a))
    });
    versions
}

/// The leading number `sort -n` compares (`8.2` of `8.2`; 0 when there is none).
fn numeric_prefix(s: &str) -> f64 {
    let end = s
        .char_indices()
        .scan(false, |dot, (i, c)| match c {
            '0'..='9' => Some(i + 1),
            '.' if !*dot => {
                *dot = true;
                Some(i)
            }
            _ => None,
        })
        .last()
        .unwrap_or(0);
    s[..end].parse().unwrap_or(0.0)
}

/// `phpquery -S -v V`: the SAPIs of a version (`/usr/lib/php/V/sapi/*`).
fn installed_sapis(tree: &dyn TreeView, version: &str) -> Vec<String> {
    entries(tree, &format!("usr/lib/php/{version}/sapi"))
}

/// What `phpquery` prints for the listing questions the helper captures (`$(phpquery -V)`,
/// `$(phpquery -S -v V)`, `$(phpquery -M -v V)`); `None` for any other question.
pub fn query_output(tree: &dyn TreeView, args: &[String]) -> Option<String> {
    let q = Query::parse(args)?;
    let lines = match (q.action, q.version.as_deref()) {
        (Some('V'), _) => installed_versions(tree),
        (Some('S'), Some(v)) => installed_sapis(tree, v),
        (Some('M'), Some(v)) if !q.verbose && v != "ALL" => {
            entries(tree, &format!("var/lib/php/modules/{v}/registry"))
        }
        _ => return None,
    };
    Some(lines.iter().map(|l| format!("{l}\n")).collect())
}

/// Whether `phpquery -v V -s S -m MOD` succeeds (the module is enabled), as a condition.
pub fn query_status(tree: &dyn TreeView, args: &[String]) -> Option<bool> {
    let q = Query::parse(args)?;
    let (None, Some(v), Some(s), Some(m)) = (q.action, &q.version, &q.sapi, &q.module) else {
        return None;
    };
    // An unknown version or SAPI prints the usage and fails.
    if !super::is_dir(tree, &format!("usr/lib/php/{v}"))
        || !super::exists(tree, &format!("usr/lib/php/{v}/sapi/{s}"))
    {
        return Some(false);
    }
    Some(state(tree, v, s, m) == State::Enabled)
}

/// `phpquery`'s options (`getopts ds:m:SMqv:V`).
struct Query {
    action: Option<char>,
    version: Option<String>,
    sapi: Option<String>,
    module: Option<String>,
    verbose: bool,
}

impl Query {
    fn parse(args: &[String]) -> Option<Query> {
        let mut q = Query {
            action: None,
            version: None,
            sapi: None,
            module: None,
            verbose: false,
        };
        let mut it = args.iter();
        while let Some(a) = it.next() {
            let flags = a.strip_prefix('-').filter(|f| !f.is_empty() && *f != "-")?;
            for (i, c) in flags.char_indices() {
                match c {
                    'q' => {}
                    'd' => q.verbose = true,
                    'V' | 'S' | 'M' => {
                        // Two listing actions: the helper prints its usage.
                        if q.action.replace(c).is_some() {
                            return None;
                        }
                    }
                    'v' | 's' | 'm' => {
                        let rest = &flags[i + 1..];
                        let value = if rest.is_empty() {
                            it.next()?.clone()
                        } else {
                            rest.to_owned()
                        };
                        *match c {
                            'v' => &mut q.version,
                            's' => &mut q.sapi,
                            _ => &mut q.module,
                        } = Some(value);
                        break;
                    }
                    _ => return None,
                }
            }
        }
        Some(q)
    }
}

#[cfg(test)]
mod tests;
