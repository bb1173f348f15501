//! The caches hosts keep of what their plug-in modules declare: gdk-pixbuf's `loaders.cache`
//! ([`pixbuf`]), GIO's `giomodule.cache` ([`gio`]) and GTK's input-method `immodules.cache`
//! ([`gtkim`]).
//!
//! The tools load each module and ask it (a loader's `fill_info`, a GIO module's query
//! function, an input-method module's `im_module_list`): the answers are compiled into the module. debcast never runs the image's code,
//! so it carries the answers as data ([`declarations.txt`](DECLARATIONS)), per module file,
//! owning package and upstream version, recorded from installs dpkg configured. A module the data
//! does not know (another version, another package) makes the cache not reproduced: the call is
//! reported with the command to run, and the cache is never written in part.

pub mod gio;
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
        if let Some(stanza_line) = line.strip_prefix("  ") {
            match records.last_mut() {
                Some(Record::Loader { stanza, .. } | Record::GtkImModule { stanza, .. }) => {
                    stanza.push_str(stanza_line);
                    stanza.push('\n');
                }
                _ => return Err(bad("a stanza line outside a loader or input-method module")),
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
            _ => return Err(bad("not a record")),
        });
    }
    if let Some(Record::Loader { module, .. } | Record::GtkImModule { module, .. }) = records.iter().find(|r| {
        matches!(r, Record::Loader { stanza, .. } | Record::GtkImModule { stanza, .. } if stanza.is_empty())
    }) {
        return Err(format!("declarations.txt: the module {} has no stanza", module.file));
    }
    Ok(records)
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
    let file = real.rsplit('/').next().unwrap_or(&real).to_owned();
    Ok(Module {
        package: pkg.name.clone(),
        upstream: crate::debian::version::upstream(&pkg.version).to_owned(),
        file,
    })
}

/// Whether dlopen could open what the tree path `rel` names: it leads to a file (a directory
/// or a dangling link makes the tool say so on standard error and go on).
fn loadable(tree: &dyn TreeView, rel: &str) -> bool {
    super::resolve(tree, rel).is_some_and(|r| tree.entry(&r).is_some_and(|e| !e.is_dir()))
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
