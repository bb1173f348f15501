//! The caches hosts keep of what their plug-in modules declare: gdk-pixbuf's `loaders.cache`
//! ([`pixbuf`]), GIO's `giomodule.cache` ([`gio`]), GTK's input-method `immodules.cache`
//! ([`gtkim`]) and Graphviz's plugin configuration, `config6a` ([`graphviz`]).
//!
//! The tools load each module and ask it (a loader's `fill_info`, a GIO module's query
//! function, an input-method module's `im_module_list`, a Graphviz plugin's library table): the answers are compiled into the module. debcast never runs the image's code,
//! so it carries the answers as data ([`declarations.txt`](DECLARATIONS)), per module file,
//! owning package and upstream version, recorded from installs dpkg configured. A module the data
//! does not know (another version, another package) makes the cache not reproduced: the call is
//! reported with the command to run, and the cache is never written in part.

pub mod gio;
pub mod graphviz;
pub mod gtkim;
pub mod pixbuf;

use std::sync::LazyLock;

use super::{InstalledPackage, TreeView};

const DECLARATIONS: &str = include_str!("declarations.txt");

/// One record of the data: what a module of a package's upstream version declares.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Record {
    /// The package shipping `gdk-pixbuf-query-loaders` and the gdk-pixbuf version it writes in
    /// the cache's header.
    PixbufTool {
        package: String,
        upstream: String,
        version: String,
    },
    /// A gdk-pixbuf loader's stanza: the lines after the one with its path, each with its `\n`.
    Loader { module: Module, stanza: String },
    /// A GIO module's extension points, as gio-querymodules joins them; `-`: it declares none
    /// (it has no query function), so it has no line.
    GioModule { module: Module, points: String },
    /// The package shipping a `gtk-query-immodules-*` tool: the architecture its modules path
    /// holds for (`any` unless it names the GNU triplet), the GTK version in the header, the
    /// cache file and the modules path, `@LIBDIR@` standing for the library directory.
    GtkImTool {
        package: String,
        upstream: String,
        architecture: String,
        version: String,
        cache: String,
        modules_path: String,
    },
    /// A GTK input-method module's contexts: the lines after the one with its path.
    GtkImModule { module: Module, stanza: String },
    /// The package shipping Graphviz's configuration writer (`libgvc6-config-update`): the
    /// file it writes beside the plugins, the plugins' version (the `6` of `.so.6`) and the
    /// file's header.
    GraphvizTool {
        package: String,
        upstream: String,
        config: String,
        plugin_version: String,
        header: String,
    },
    /// A Graphviz plugin library: the name it gives itself and its block's lines after the
    /// first.
    GraphvizPlugin {
        module: Module,
        name: String,
        stanza: String,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Module {
    package: String,
    upstream: String,
    file: String,
}

/// The records, or why the data does not parse (a test holds it does; a build treats every
/// module as unknown rather than stop).
static RECORDS: LazyLock<Result<Vec<Record>, String>> = LazyLock::new(|| parse(DECLARATIONS));

fn parse(text: &str) -> Result<Vec<Record>, String> {
    let mut records: Vec<Record> = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let bad = |what: &str| format!("declarations.txt line {}: {what}: {line}", n + 1);
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        // A record's text: `|`, then a space and the line (nothing for an empty line).
        if let Some(rest) = line.strip_prefix('|') {
            let text_line = match rest.strip_prefix(' ') {
                Some(text_line) => text_line,
                None if rest.is_empty() => "",
                None => return Err(bad("`|` not followed by a space")),
            };
            match records.last_mut().and_then(Record::text_mut) {
                Some(text) => {
                    text.push_str(text_line);
                    text.push('\n');
                }
                None => return Err(bad("text after a record that has none")),
            }
            continue;
        }
        let words: Vec<&str> = line.split(' ').collect();
        let module = |w: &[&str]| Module {
            package: w[1].to_owned(),
            upstream: w[2].to_owned(),
            file: w[3].to_owned(),
        };
        records.push(match words.as_slice() {
            ["pixbuf-tool", package, upstream, version] => Record::PixbufTool {
                package: (*package).to_owned(),
                upstream: (*upstream).to_owned(),
                version: (*version).to_owned(),
            },
            ["loader", _, _, _] => Record::Loader {
                module: module(&words),
                stanza: String::new(),
            },
            ["gio", _, _, _, points] => Record::GioModule {
                module: module(&words),
                points: (*points).to_owned(),
            },
            [
                "gtkim-tool",
                package,
                upstream,
                architecture,
                version,
                cache,
                modules_path,
            ] => Record::GtkImTool {
                package: (*package).to_owned(),
                upstream: (*upstream).to_owned(),
                architecture: (*architecture).to_owned(),
                version: (*version).to_owned(),
                cache: (*cache).to_owned(),
                modules_path: (*modules_path).to_owned(),
            },
            ["gtkim", _, _, _] => Record::GtkImModule {
                module: module(&words),
                stanza: String::new(),
            },
            ["gvconfig-tool", package, upstream, config, plugin_version] => Record::GraphvizTool {
                package: (*package).to_owned(),
                upstream: (*upstream).to_owned(),
                config: (*config).to_owned(),
                plugin_version: (*plugin_version).to_owned(),
                header: String::new(),
            },
            ["gvplugin", _, _, _, name] => Record::GraphvizPlugin {
                module: module(&words),
                name: (*name).to_owned(),
                stanza: String::new(),
            },
            _ => return Err(bad("not a record")),
        });
    }
    for r in &mut records {
        if r.text_mut().is_some_and(|t| t.is_empty()) {
            return Err(format!("declarations.txt: {r:?} has no text"));
        }
    }
    Ok(records)
}

impl Record {
    /// The text the lines after the record hold, for the records that have one.
    fn text_mut(&mut self) -> Option<&mut String> {
        match self {
            Record::Loader { stanza, .. }
            | Record::GtkImModule { stanza, .. }
            | Record::GraphvizPlugin { stanza, .. } => Some(stanza),
            Record::GraphvizTool { header, .. } => Some(header),
            Record::PixbufTool { .. } | Record::GioModule { .. } | Record::GtkImTool { .. } => None,
        }
    }
}

fn records() -> &'static [Record] {
    RECORDS.as_deref().unwrap_or(&[])
}

/// The installed package shipping the module at tree path `rel` (or at `real`, the path its
/// links lead to), with the upstream part of its version.
fn owner<'p>(packages: &'p [InstalledPackage], rel: &str, real: &str) -> Option<&'p InstalledPackage> {
    packages
        .iter()
        .find(|p| p.ships(rel))
        .or_else(|| packages.iter().find(|p| p.ships(real)))
}

/// The identity of the module file at tree path `rel` for the data: its owning package, that
/// package's upstream version and the file's name; `Err` names what is missing.
fn identify(tree: &dyn TreeView, packages: &[InstalledPackage], rel: &str) -> Result<Module, String> {
    let real = super::resolve(tree, rel).unwrap_or_else(|| rel.to_owned());
    let Some(pkg) = owner(packages, rel, &real) else {
        return Err(format!("/{rel} is in no installed package"));
    };
    // The name the tool finds it by (Graphviz's `libgvplugin_core.so.6`, a link).
    let file = rel.rsplit('/').next().unwrap_or(rel).to_owned();
    Ok(Module {
        package: pkg.name.clone(),
        upstream: crate::debian::version::upstream(&pkg.version).to_owned(),
        file,
    })
}

/// Whether dlopen could open what the tree path `rel` names: it leads to a file (on a
/// directory or a dangling link, gdk-pixbuf's, GIO's and Graphviz's tools say so on standard
/// error and go on; GTK's fails).
fn loadable(tree: &dyn TreeView, rel: &str) -> bool {
    super::resolve(tree, rel).is_some_and(|r| tree.entry(&r).is_some_and(|e| !e.is_dir()))
}

/// The package of a tool, as the data's tool records are keyed.
struct ToolPackage<'a> {
    name: &'a str,
    upstream: &'a str,
    architecture: &'a str,
}

/// What the data records for the tool at tree path `tool_rel` (`tool_real`: where its links
/// lead), as `pick` takes it from the record of the tool's package, with that package; `Err`
/// names the tool's package and version when the data does not know them.
fn tool_declared<'p, T>(
    packages: &'p [InstalledPackage],
    tool_rel: &str,
    tool_real: &str,
    tool: &str,
    pick: impl Fn(&'static Record, &ToolPackage<'_>) -> Option<T>,
) -> Result<(&'p InstalledPackage, T), String> {
    let pkg = owner(packages, tool_rel, tool_real)
        .ok_or_else(|| format!("/{tool_rel} is in no installed package"))?;
    let key = ToolPackage {
        name: &pkg.name,
        upstream: crate::debian::version::upstream(&pkg.version),
        architecture: &pkg.architecture,
    };
    let found = records().iter().find_map(|r| pick(r, &key)).ok_or_else(|| {
        format!(
            "{tool} of {} {} ({}) is not one debcast knows",
            key.name, key.upstream, key.architecture
        )
    })?;
    Ok((pkg, found))
}

/// What the module at tree path `rel` declares, as `pick` takes it from its record; `Err`
/// names the module the data does not know (`tool` loads it to find out).
fn declared<T>(
    tree: &dyn TreeView,
    packages: &[InstalledPackage],
    rel: &str,
    tool: &str,
    pick: impl Fn(&'static Record, &Module) -> Option<T>,
) -> Result<T, String> {
    let module = identify(tree, packages, rel)?;
    records()
        .iter()
        .find_map(|r| pick(r, &module))
        .ok_or_else(|| unknown(rel, &module, tool))
}

/// The report entry of a cache not reproduced: the call, why, and that it is to be run at
/// first start.
fn not_reproduced(package: String, call: &str, why: &str) -> super::NotEmulated {
    super::NotEmulated {
        package,
        script: "postinst".into(),
        what: format!("{call} (not reproduced: {why}; run it at first start)"),
    }
}

/// How a module the data does not know is reported.
fn unknown(rel: &str, module: &Module, tool: &str) -> String {
    format!(
        "what /{rel} ({} {}) declares is not known to debcast, and only loading it tells ({tool} does)",
        module.package, module.upstream
    )
}

#[cfg(test)]
mod tests;
