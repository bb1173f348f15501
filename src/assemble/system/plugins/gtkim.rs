//! `gtk-query-immodules-3.0 --update-cache` (and GTK 2's `-2.0`): the cache GTK reads to find
//! its input-method modules. libgtk-3-0's postinst runs it, and its trigger on the modules
//! directory again whenever a package ships a module there (ibus-gtk3, fcitx5-frontend-gtk3…).
//!
//! The file depends only on the finished tree, so it is computed once every package is in
//! place, as the trigger's last run leaves it: a header naming the tool as it was called and its
//! GTK version, the modules path compiled into the tool, then for each directory of that path
//! (once each), its `*.so` in byte order, each with a line with its path and the contexts it
//! declares ([`super::Record::GtkImModule`]). The tool writes the text with GLib, which
//! replaces the file.

use std::collections::BTreeMap;

use super::super::{Changes, InstalledPackage, NotEmulated, SystemError, TreeView};
use super::Record;

const TOOLS: [&str; 2] = ["gtk-query-immodules-3.0", "gtk-query-immodules-2.0"];

/// A call of a `gtk-query-immodules-*` tool (`None`: another command): `Some(tool)` for
/// `--update-cache` (the tool as called), `None` for a call that prints the text (to the
/// script's output: nothing lasting), or why the form is not reproduced.
pub fn parse_call(argv0: &str, args: &[String]) -> Option<Result<Option<String>, String>> {
    let name = argv0.rsplit('/').next().unwrap_or(argv0);
    if !TOOLS.contains(&name) {
        return None;
    }
    Some(match args {
        [] => Ok(None),
        [flag] if flag == "--update-cache" && argv0.starts_with('/') => Ok(Some(argv0.to_owned())),
        [flag] if flag == "--update-cache" => Err(format!(
            "{name} is not on the PATH of a Debian system: called by name"
        )),
        _ => Err(format!("{name} with modules named is not reproduced")),
    })
}

/// The caches the packages' postinsts ask for, computed from the finished tree, and what was
/// not reproduced.
pub fn compute(
    tree: &dyn TreeView,
    packages: &[InstalledPackage],
) -> Result<(Changes, Vec<NotEmulated>), SystemError> {
    let (calls, mut report) =
        super::super::calls::postinst_calls(tree, packages, "gtk-query-immodules", parse_call);
    // By the tool's real path (`/lib/…` and `/usr/lib/…` are one tool): the package calling it
    // first, and the tool as that call spells it (its header names it so).
    let mut tools: BTreeMap<String, (String, String)> = BTreeMap::new();
    for (tool, pkg) in calls {
        if let Some(tool) = tool {
            let rel = super::super::tree_path(&tool);
            let real = super::super::resolve(tree, &rel).unwrap_or(rel);
            tools.entry(real).or_insert_with(|| (tool, pkg.name.clone()));
        }
    }
    let mut out = Changes::default();
    for (tool, package) in tools.into_values() {
        match cache(tree, packages, &tool) {
            Ok(Some((path, text))) => out.file(&super::super::tree_path(&path), 0o644, text.into_bytes()),
            // The tool is not in the image: the call fails, and `|| true` goes on.
            Ok(None) => {}
            Err(why) => report.push(super::not_reproduced(
                package,
                &format!("{tool} --update-cache"),
                &why,
            )),
        }
    }
    Ok((out, report))
}

/// The cache file `tool --update-cache` writes (absolute) and its text.
fn cache(
    tree: &dyn TreeView,
    packages: &[InstalledPackage],
    tool: &str,
) -> Result<Option<(String, String)>, String> {
    let tool_rel = super::super::tree_path(tool);
    if !super::loadable(tree, &tool_rel) {
        return Ok(None);
    }
    let tool_real = super::super::resolve(tree, &tool_rel).unwrap_or_else(|| tool_rel.clone());
    // `LIBDIR/libgtk-3-0/gtk-query-immodules-3.0` (`libgtk-3-0t64`, `libgtk2.0-0`): the paths
    // compiled into the tool, wherever it is called from.
    let libdir = tool_real
        .rsplit_once('/')
        .and_then(|(dir, _)| dir.rsplit_once('/'))
        .filter(|(libdir, sub)| !libdir.is_empty() && sub.starts_with("libgtk"))
        .map(|(libdir, _)| format!("/{libdir}"))
        .ok_or_else(|| format!("{tool} is not in its library directory's libgtk* directory"))?;
    let libdir = libdir.as_str();
    let (_, (version, cache_file, modules_path)) =
        super::tool_declared(packages, &tool_rel, &tool_real, tool, |r, p| match r {
            Record::GtkImTool {
                package,
                upstream,
                architecture,
                version,
                cache,
                modules_path,
            } if package == p.name
                && upstream == p.upstream
                && (architecture == "any" || architecture == p.architecture) =>
            {
                Some((version, cache, modules_path))
            }
            _ => None,
        })?;
    let modules_path = modules_path.replace("@LIBDIR@", libdir);
    let mut text = format!(
        "# GTK+ Input Method Modules file\n# Automatically generated file, do not edit\n\
         # Created by {tool} from gtk+-{version}\n#\n# ModulesPath = {modules_path}\n#\n"
    );
    let mut done: Vec<&str> = Vec::new();
    for dir in modules_path.split(':') {
        if done.contains(&dir) {
            continue;
        }
        done.push(dir);
        let Some((_, names)) = super::super::children(tree, &super::super::tree_path(dir)) else {
            continue;
        };
        for name in names.iter().filter(|n| n.ends_with(".so")) {
            let path = format!("{dir}/{name}");
            let rel = super::super::tree_path(&path);
            // What dlopen cannot open makes GTK's tool fail without writing its cache.
            if !super::loadable(tree, &rel) {
                return Err(format!("{path} cannot be loaded: the tool writes no cache"));
            }
            let stanza = super::declared(tree, packages, &rel, tool, |r, m| match r {
                Record::GtkImModule { module, stanza } if module == m => Some(stanza),
                _ => None,
            })?;
            text.push_str(&format!("\"{path}\" \n{stanza}\n"));
        }
    }
    Ok(Some((cache_file.replace("@LIBDIR@", libdir), text)))
}
