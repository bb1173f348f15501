//! `gdk-pixbuf-query-loaders`: the loaders cache gdk-pixbuf reads to find its image loaders.
//! libgdk-pixbuf-2.0-0's postinst (and its trigger on the loaders directory) runs
//! `…/gdk-pixbuf-query-loaders $(find LOADERS… -name *.so | LC_ALL=C sort) > …/loaders.cache`.
//!
//! The tool prints a header naming its own version, then, for each module it is given (in that
//! order; without modules, for each `*.so` of its module directory in byte order, after a
//! `# LoaderDir` line), a line with the module's path and the stanza the module declares
//! ([`super::Record::Loader`]). It prints the text followed by a newline, or with
//! `--update-cache` writes it as it is to the cache file of its library directory.

use super::super::{InstalledPackage, TreeView};
use super::Record;

/// gdk-pixbuf's module ABI directory (`GDK_PIXBUF_BINARY_VERSION`), the same for every 2.x.
const BINARY_VERSION: &str = "2.10.0";
const TOOL: &str = "gdk-pixbuf-query-loaders";

/// A call of the tool.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Query {
    /// The tool's absolute path (its library directory is two levels up).
    pub tool: String,
    /// `--update-cache`: the tool writes the cache file itself and prints nothing.
    pub update_cache: bool,
    /// The modules given, absolute; none: every module of the module directory.
    pub modules: Vec<String>,
}

/// What a call of the tool makes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Output {
    /// What it prints on standard output.
    pub printed: String,
    /// The cache file it writes itself (`--update-cache`), absolute, and its content.
    pub cache: Option<(String, String)>,
}

/// Whether `argv0` names the tool.
pub fn is_tool(argv0: &str) -> bool {
    argv0.rsplit('/').next() == Some(TOOL)
}

/// A call of `gdk-pixbuf-query-loaders` (`None`: another command), or why its form is not
/// reproduced (a relative module path among them).
pub fn parse_call(argv: &[String]) -> Option<Result<Query, String>> {
    let (argv0, args) = argv.split_first()?;
    if !is_tool(argv0) {
        return None;
    }
    Some(parse_args(argv0, args))
}

fn parse_args(argv0: &str, args: &[String]) -> Result<Query, String> {
    if !argv0.starts_with('/') {
        return Err(format!(
            "{TOOL} is not on the PATH of a Debian system: called by name"
        ));
    }
    // Only the first argument is an option; the tool takes every other one as a module.
    let (update_cache, modules) = match args.split_first() {
        Some((first, rest)) if first == "--update-cache" => (true, rest),
        _ => (false, args),
    };
    if let Some(bad) = modules.iter().find(|m| !m.starts_with('/')) {
        return Err(format!("the module {bad} is not an absolute path"));
    }
    Ok(Query {
        tool: argv0.to_owned(),
        update_cache,
        modules: modules.to_vec(),
    })
}

/// What the call prints and writes in `tree`, or why it is not reproduced.
pub fn run(tree: &dyn TreeView, packages: &[InstalledPackage], q: &Query) -> Result<Output, String> {
    let (tool_rel, tool_real, libdir) = locate(tree, &q.tool)?;
    let libdir = libdir.as_str();
    let version = tool_version(packages, &tool_rel, &tool_real)?;
    let mut text = format!(
        "# GdkPixbuf Image Loader Modules file\n# Automatically generated file, do not edit\n\
         # Created by {TOOL} from gdk-pixbuf-{version}\n#\n"
    );
    let module_dir = format!("{libdir}/gdk-pixbuf-2.0/{BINARY_VERSION}/loaders");
    let modules: Vec<String> = if q.modules.is_empty() {
        text.push_str(&format!("# LoaderDir = {module_dir}\n#\n"));
        let names = super::super::children(tree, &super::super::tree_path(&module_dir))
            .map(|(_, names)| names)
            .unwrap_or_default();
        names
            .into_iter()
            .filter(|n| n.len() > ".so".len() && n.ends_with(".so"))
            .map(|n| format!("{module_dir}/{n}"))
            .collect()
    } else {
        q.modules.clone()
    };
    for path in &modules {
        let rel = super::super::tree_path(path);
        if !super::loadable(tree, &rel) {
            continue;
        }
        let stanza = super::declared(tree, packages, &rel, TOOL, |r, m| match r {
            Record::Loader { module, stanza } if module == m => Some(stanza),
            _ => None,
        })?;
        text.push_str(&format!("\"{path}\"\n{stanza}\n"));
    }
    Ok(if q.update_cache {
        Output {
            printed: String::new(),
            cache: Some((
                format!("{libdir}/gdk-pixbuf-2.0/{BINARY_VERSION}/loaders.cache"),
                text,
            )),
        }
    } else {
        Output {
            printed: text + "\n",
            cache: None,
        }
    })
}

/// The tool's tree path, the path its links lead to, and the library directory compiled into
/// it, absolute: the tool is `LIBDIR/gdk-pixbuf-2.0/gdk-pixbuf-query-loaders`, wherever it is
/// called from (`/lib/…` on a merged-/usr system prints `/usr/lib/…` all the same).
fn locate(tree: &dyn TreeView, tool: &str) -> Result<(String, String, String), String> {
    let tool_rel = super::super::tree_path(tool);
    if !super::loadable(tree, &tool_rel) {
        return Err(format!("{tool} is not in the image"));
    }
    let tool_real = super::super::resolve(tree, &tool_rel).unwrap_or_else(|| tool_rel.clone());
    let libdir = tool_real
        .strip_suffix(&format!("/gdk-pixbuf-2.0/{TOOL}"))
        .filter(|d| !d.is_empty())
        .ok_or_else(|| format!("{tool} is not in a library directory's gdk-pixbuf-2.0"))?;
    Ok((tool_rel.clone(), tool_real.clone(), format!("/{libdir}")))
}

/// The cache file a call with `--update-cache` replaces (absolute), where the tool is in the
/// image: what is not known when the call is not reproduced.
pub fn update_cache_target(tree: &dyn TreeView, argv: &[String]) -> Option<String> {
    let (tool, args) = argv.split_first()?;
    if !is_tool(tool) || args.first().map(String::as_str) != Some("--update-cache") {
        return None;
    }
    let (_, _, libdir) = locate(tree, tool).ok()?;
    Some(format!("{libdir}/gdk-pixbuf-2.0/{BINARY_VERSION}/loaders.cache"))
}

/// The gdk-pixbuf version the tool writes in its header: the data's, for the upstream version
/// of the package shipping it.
fn tool_version(packages: &[InstalledPackage], tool_rel: &str, tool_real: &str) -> Result<String, String> {
    super::tool_declared(packages, tool_rel, tool_real, TOOL, |r, p| match r {
        Record::PixbufTool {
            package,
            upstream,
            version,
        } if package == p.name && upstream == p.upstream => Some(version.clone()),
        _ => None,
    })
    .map(|(_, version)| version)
}
