//! `libgvc6-config-update -c` (Debian's `dot -c`): Graphviz's plugin configuration,
//! `LIBDIR/graphviz/config6a`, which lets Graphviz pick a plugin without loading them all.
//! libgvc6's postinst runs it, and so does the postinst of each package adding plugins
//! (libgvc6-plugins-gtk).
//!
//! The file depends only on the finished tree, so it is computed once every package is in
//! place, as the last run leaves it: the header, then for each `libgvplugin_*` of the plugin
//! directory named `….so.VERSION` (glob's order: bytes, in dpkg's C locale) its file name, the
//! name it gives itself and its block ([`super::Record::GraphvizPlugin`]). The plugin directory
//! is `graphviz` beside the libgvc library the tool loads.

use std::collections::BTreeMap;

use super::super::{Changes, InstalledPackage, NotEmulated, SystemError, TreeView};
use super::Record;

/// A call of `libgvcN-config-update` (`None`: another command): the tool as called, for `-c`;
/// or why the form is not reproduced.
pub fn parse_call(argv0: &str, args: &[String]) -> Option<Result<String, String>> {
    let name = argv0.rsplit('/').next().unwrap_or(argv0);
    let is_tool = name
        .strip_prefix("libgvc")
        .and_then(|rest| rest.strip_suffix("-config-update"))
        .is_some_and(|v| !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()));
    if !is_tool {
        return None;
    }
    Some(match args {
        [flag] if flag == "-c" => Ok(argv0.to_owned()),
        _ => Err(format!("{name} {} is not reproduced", args.join(" "))),
    })
}

/// The configuration the packages' postinsts ask for, computed from the finished tree, and what
/// was not reproduced.
pub fn compute(
    tree: &dyn TreeView,
    packages: &[InstalledPackage],
) -> Result<(Changes, Vec<NotEmulated>), SystemError> {
    let (calls, mut report) =
        super::super::calls::postinst_calls(tree, packages, "-config-update", parse_call);
    // By tool: the package calling it first.
    let mut tools: BTreeMap<String, String> = BTreeMap::new();
    for (tool, pkg) in calls {
        tools.entry(tool).or_insert_with(|| pkg.name.clone());
    }
    let mut out = Changes::default();
    for (tool, package) in tools {
        match config(tree, packages, &tool) {
            Ok(Some((path, text))) => out.file(&path, 0o644, text.into_bytes()),
            // The tool is not in the image (the postinsts test `-x` first).
            Ok(None) => {}
            Err(why) => report.push(super::not_reproduced(package, &format!("{tool} -c"), &why)),
        }
    }
    Ok((out, report))
}

/// The configuration file `tool -c` writes (a tree path) and its text.
fn config(
    tree: &dyn TreeView,
    packages: &[InstalledPackage],
    tool: &str,
) -> Result<Option<(String, String)>, String> {
    let candidates: Vec<String> = if tool.starts_with('/') {
        vec![tool.to_owned()]
    } else {
        // Found on the PATH dpkg gives maintainer scripts.
        super::super::shell::SCRIPT_PATH
            .iter()
            .map(|dir| format!("{dir}/{tool}"))
            .collect()
    };
    let Some(tool_rel) = candidates
        .iter()
        .map(|p| super::super::tree_path(p))
        .find(|rel| super::loadable(tree, rel))
    else {
        return Ok(None);
    };
    let tool_real = super::super::resolve(tree, &tool_rel).unwrap_or_else(|| tool_rel.clone());
    let (pkg, (config_name, plugin_version, header)) =
        super::tool_declared(packages, &tool_rel, &tool_real, tool, |r, p| match r {
            Record::GraphvizTool {
                package,
                upstream,
                config,
                plugin_version,
                header,
            } if package == p.name && upstream == p.upstream => Some((config, plugin_version, header)),
            _ => None,
        })?;
    // The tool finds the plugins beside the libgvc it loads, which its package ships.
    let libgvc_dir = pkg
        .files
        .iter()
        .map(|f| super::super::tree_path(&format!("/{f}")))
        .find_map(|f| {
            f.rsplit_once('/')
                .filter(|(_, name)| name.starts_with("libgvc.so."))
                .map(|(dir, _)| dir.to_owned())
        })
        .ok_or_else(|| format!("{} ships no libgvc.so", pkg.name))?;
    let plugin_dir = super::super::child_path(&libgvc_dir, "graphviz");
    let Some((real_dir, names)) = super::super::children(tree, &plugin_dir) else {
        // No plugin directory: the tool writes nothing.
        return Ok(None);
    };
    let suffix = format!(".so.{plugin_version}");
    let mut text = header.clone();
    for name in names
        .iter()
        .filter(|n| n.starts_with("libgvplugin_") && n.ends_with(&suffix))
    {
        let rel = super::super::child_path(&real_dir, name);
        if !super::loadable(tree, &rel) {
            continue;
        }
        let (plugin_name, block) = super::declared(tree, packages, &rel, tool, |r, m| match r {
            Record::GraphvizPlugin { module, name, stanza } if module == m => Some((name, stanza)),
            _ => None,
        })?;
        text.push_str(&format!("{name} {plugin_name} {{\n{block}"));
    }
    Ok(Some((super::super::child_path(&real_dir, config_name), text)))
}
