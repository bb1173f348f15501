//! GLib's `glib-compile-schemas` (2.74, bookworm's): `gschemas.compiled` for the GSettings
//! schema directory maintainer scripts compile — libglib2.0-0's postinst and its trigger on
//! `/usr/share/glib-2.0/schemas`, which fires whenever a package ships a schema there.
//!
//! The file depends only on the schema directory of the finished tree, so it is computed once
//! every package is in place, as the last run (the trigger) sees it: every `*.gschema.xml` and
//! `*.enums.xml` (enums first, then by name) read as the tool reads them ([`schema`]), the
//! `*.gschema.override` files applied in name order ([`super::keyfile`]), the tables written in GVDB's
//! format ([`gvdb`]) with the defaults as GVariant values ([`gvariant`]). Checked byte for byte
//! against the host's tool (tests) and against dpkg-installed images (FIDELITY.md).
//!
//! Not reproduced, and reported with the command to run: a schema file the tool would drop for
//! an error (GLib then takes its schemas back out of its hash table, which moves later ones), and
//! values whose bytes debcast does not compute with certainty (see [`gvariant::ParseError`]).

pub mod gvariant;
pub mod gvdb;
pub mod schema;

use std::collections::BTreeMap;

use super::{Changes, InstalledPackage, NotEmulated, SystemError, TreeView};

const OUTPUT_NAME: &str = "gschemas.compiled";

/// One compile a script asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompileRequest {
    /// The schema directory, absolute.
    pub dir: String,
    /// `--targetdir`: where the file goes, if not beside the schemas.
    pub target_dir: Option<String>,
    /// `--allow-any-name`: key names are not checked.
    pub allow_any_name: bool,
}

/// What a call of `glib-compile-schemas` asks for: the compile (`Ok(None)` for `--dry-run` or
/// `--version`, which write nothing), or why the form is not reproduced. `None`: another
/// command.
pub fn parse_call(argv0: &str, args: &[String]) -> Option<Result<Option<CompileRequest>, String>> {
    let name = argv0.rsplit('/').next().unwrap_or(argv0);
    if name != "glib-compile-schemas" {
        return None;
    }
    let mut request = CompileRequest {
        dir: String::new(),
        target_dir: None,
        allow_any_name: false,
    };
    let mut dirs = Vec::new();
    let mut writes = true;
    let mut args = args.iter();
    while let Some(a) = args.next() {
        match a.as_str() {
            // Whether the tool stops at an error does not change a file it writes: debcast
            // reports any schema file with an error instead of writing.
            "--strict" => {}
            "--allow-any-name" => request.allow_any_name = true,
            "--dry-run" | "--version" => writes = false,
            "--targetdir" => match args.next() {
                Some(d) => request.target_dir = Some(d.clone()),
                None => return Some(Err("glib-compile-schemas --targetdir without a directory".into())),
            },
            o if o.starts_with("--targetdir=") => {
                request.target_dir = Some(o["--targetdir=".len()..].to_owned())
            }
            o if o.starts_with('-') => {
                return Some(Err(format!("glib-compile-schemas {o} is not reproduced")));
            }
            d => dirs.push(d.to_owned()),
        }
    }
    if !writes {
        return Some(Ok(None));
    }
    match dirs.as_slice() {
        [dir] => {
            request.dir = dir.clone();
            Some(Ok(Some(request)))
        }
        _ => Some(Err("glib-compile-schemas wants exactly one directory".into())),
    }
}

/// The compiled schemas the packages' postinsts ask for, computed from the finished tree, and
/// what was not reproduced.
pub fn compute(
    tree: &dyn TreeView,
    packages: &[InstalledPackage],
) -> Result<(Changes, Vec<NotEmulated>), SystemError> {
    let (calls, mut report) =
        super::calls::postinst_calls(tree, packages, "glib-compile-schemas", parse_call);
    // By output path: the request and the package that made it (`--dry-run` writes nothing).
    let mut requests: BTreeMap<String, (CompileRequest, String)> = BTreeMap::new();
    for (r, pkg) in calls {
        if let Some(r) = r {
            let out = super::tree_path(r.target_dir.as_deref().unwrap_or(&r.dir));
            requests.entry(out).or_insert((r, pkg.name.clone()));
        }
    }
    let mut out = Changes::default();
    for (target, (request, package)) in requests {
        let Some(real_target) = super::resolve(tree, &target).filter(|r| super::is_dir(tree, r)) else {
            continue;
        };
        match compile(tree, &request.dir, request.allow_any_name) {
            Ok(Some(bytes)) => out.file(&super::child_path(&real_target, OUTPUT_NAME), 0o644, bytes),
            // No schema file (or no directory): the tool writes nothing.
            Ok(None) => {}
            Err(why) => report.push(NotEmulated {
                package,
                script: "postinst".into(),
                what: format!(
                    "glib-compile-schemas {} (not reproduced: {why}; run it at first start)",
                    request.dir
                ),
            }),
        }
    }
    Ok((out, report))
}

/// `compare_strings`: `.enums.xml` files first, then byte order.
fn file_order(a: &str, b: &str) -> std::cmp::Ordering {
    let enums = |s: &str| s.ends_with(".enums.xml");
    enums(b)
        .cmp(&enums(a))
        .then_with(|| a.as_bytes().cmp(b.as_bytes()))
}

/// The `gschemas.compiled` the tool writes for the schema directory `dir` (absolute); `None`
/// when it writes none (no directory, no schema file).
pub fn compile(tree: &dyn TreeView, dir: &str, allow_any_name: bool) -> Result<Option<Vec<u8>>, String> {
    let Some((real, names)) = super::children(tree, &super::tree_path(dir)) else {
        return Ok(None);
    };
    let mut schemas: Vec<&String> = names
        .iter()
        .filter(|n| n.ends_with(".gschema.xml") || n.ends_with(".enums.xml"))
        .collect();
    let mut overrides: Vec<&String> = names
        .iter()
        .filter(|n| n.ends_with(".gschema.override"))
        .collect();
    if schemas.is_empty() {
        return Ok(None);
    }
    schemas.sort_by(|a, b| file_order(a, b));
    overrides.sort_by(|a, b| file_order(a, b));
    // The tool reports a file it cannot read and goes on without it.
    let read = |name: &str| -> Result<Option<String>, String> {
        match super::read_file(tree, &super::child_path(&real, name)) {
            Ok(Some(bytes)) => String::from_utf8(bytes)
                .map(Some)
                .map_err(|_| format!("{dir}/{name} is not UTF-8")),
            Ok(None) | Err(_) => Ok(None),
        }
    };
    let mut compiler = schema::Compiler::new(allow_any_name);
    for name in schemas {
        if let Some(text) = read(name)? {
            compiler
                .read_file(&format!("{dir}/{name}"), &text)
                .map_err(|e| e.to_string())?;
        }
    }
    for name in overrides {
        if let Some(text) = read(name)? {
            compiler
                .apply_overrides(&text)
                .map_err(|e| format!("{dir}/{name}: {e}"))?;
        }
    }
    let table = compiler.into_table()?;
    gvdb::write(&table).map(Some).map_err(|e| e.0)
}

#[cfg(test)]
mod tests;
