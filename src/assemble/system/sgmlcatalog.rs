//! sgml-base's `update-catalog` (its version 0.2 script): SGML catalogs in `/etc/sgml`.
//!
//! - `--update-super` writes `/var/lib/sgml-base/supercatalog`: a fixed header, then `CATALOG
//!   /etc/sgml/NAME.cat` for every `*.cat` there (not starting with a dot; sorted) whose `CATALOG`
//!   entries all name existing files (others are skipped with a warning); the previous one is
//!   renamed to `supercatalog.old`.
//! - `--add CATALOG ENTRY` / `--remove CATALOG ENTRY` edit a centralized catalog: its lines but
//!   those matching ENTRY (a Perl pattern; a path in practice), plus `CATALOG ENTRY` when adding;
//!   a new catalog starts from `/usr/share/sgml-base/catalog.centralized`; the previous file is
//!   kept as `CATALOG.old`.
//! - `--add --super ENTRY` / `--remove --super ENTRY` (the super catalog by name) change no
//!   file: they run `dpkg-trigger /etc/sgml`, and sgml-base's `postinst triggered` then runs
//!   `--update-super` (the walk in `files` activates and runs it where dpkg would).

use regex::Regex;

use super::{Changes, Overlay, TreeView};

const SUPER_CATALOG: &str = "var/lib/sgml-base/supercatalog";
const CATALOG_DIR: &str = "etc/sgml";
/// What `--super` hands to dpkg-trigger (sgml-base's `interest /etc/sgml`).
pub const CATALOG_TRIGGER: &str = "/etc/sgml";

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CatalogCall {
    UpdateSuper,
    /// `--super`: activates this file trigger instead of writing anything.
    Trigger(&'static str),
    Add {
        catalog: String,
        entry: String,
    },
    Remove {
        catalog: String,
        entry: String,
    },
}

/// Parses the arguments as the script does: `--` options first, then the operands.
pub fn parse(args: &[String]) -> Result<CatalogCall, String> {
    let (mut add, mut remove, mut update_super, mut super_catalog) = (false, false, false, false);
    let mut rest = args;
    while let Some((first, tail)) = rest.split_first() {
        if !first.starts_with("--") {
            break;
        }
        rest = tail;
        match first.as_str() {
            "--" => break,
            "--add" => add = true,
            "--remove" => remove = true,
            "--update-super" => update_super = true,
            "--quiet" => {}
            "--super" => super_catalog = true,
            other => return Err(format!("update-catalog option `{other}` is not emulated")),
        }
    }
    if super_catalog {
        return match (add, remove, update_super, rest) {
            (true, false, false, [_]) | (false, true, false, [_]) | (false, false, true, []) => {
                Ok(CatalogCall::Trigger(CATALOG_TRIGGER))
            }
            _ => Err(
                "update-catalog --super without exactly one of --add ENTRY, --remove ENTRY, --update-super"
                    .into(),
            ),
        };
    }
    match (add, remove, update_super, rest) {
        (false, false, true, []) => Ok(CatalogCall::UpdateSuper),
        (true, false, false, [catalog, entry]) | (false, true, false, [catalog, entry])
            if catalog.starts_with('/') =>
        {
            let (catalog, entry) = (catalog.clone(), entry.clone());
            Ok(if add {
                CatalogCall::Add { catalog, entry }
            } else {
                CatalogCall::Remove { catalog, entry }
            })
        }
        _ => Err(
            "update-catalog without exactly one of --add, --remove, --update-super and its operands".into(),
        ),
    }
}

fn text(tree: &dyn TreeView, path: &str) -> Result<Option<String>, String> {
    Ok(super::read_file(tree, path)
        .map_err(|e| e.to_string())?
        .map(|b| String::from_utf8_lossy(&b).into_owned()))
}

/// Applies one call to the image.
pub fn apply(overlay: &mut Overlay<'_>, call: &CatalogCall, umask: u32) -> Result<(), String> {
    match call {
        // The activation is the caller's to record.
        CatalogCall::Trigger(_) => Ok(()),
        CatalogCall::UpdateSuper => {
            let mut cats = Vec::new();
            if let Some((real, names)) = super::children(overlay, CATALOG_DIR) {
                for name in names {
                    if name.starts_with('.') || !name.ends_with(".cat") || name.len() < 5 {
                        continue;
                    }
                    let file = format!("/{real}/{name}");
                    if references_exist(overlay, &file)? {
                        cats.push(file);
                    }
                }
            }
            cats.sort();
            let mut out = String::from(
                "--\n## This file is created by update-catalog with update-super.\n\
                 ## Please see update-catalog(8) for how to modify this file.\n--\n",
            );
            for c in &cats {
                out.push_str(&format!("CATALOG {c}\n"));
            }
            let dir = SUPER_CATALOG.rsplit_once('/').map_or("", |(d, _)| d);
            if !super::is_dir(overlay, dir) {
                return Err(format!(
                    "cannot open /{SUPER_CATALOG}.new for writing: /{dir} does not exist"
                ));
            }
            replace_keeping_old(overlay, SUPER_CATALOG, out, umask);
            Ok(())
        }
        CatalogCall::Add { catalog, entry } | CatalogCall::Remove { catalog, entry } => {
            let path = super::tree_path(catalog);
            let pattern = Regex::new(entry).map_err(|e| format!("entry `{entry}` as Perl reads it: {e}"))?;
            let mut lines: Vec<String> = match text(overlay, &path)? {
                Some(t) if super::is_file(overlay, &path) => t
                    .split_inclusive('\n')
                    .map(|l| chop(l).to_owned())
                    .filter(|l| !pattern.is_match(l))
                    .collect(),
                _ => {
                    let template = "usr/share/sgml-base/catalog.centralized";
                    let t = text(overlay, template)?
                        .ok_or_else(|| format!("cannot open template /{template}"))?;
                    t.split_inclusive('\n')
                        .map(chop)
                        .map(|l| l.replacen("CATALOG", catalog, 1))
                        .collect()
                }
            };
            if matches!(call, CatalogCall::Add { .. }) {
                lines.push(format!("CATALOG {entry}"));
            }
            let out: String = lines.iter().map(|l| format!("{l}\n")).collect();
            replace_keeping_old(overlay, &path, out, umask);
            Ok(())
        }
    }
}

/// Perl's `chop`: the line without its last character (the newline, or, on a last line without
/// one, its last character).
fn chop(line: &str) -> &str {
    line.char_indices().last().map_or(line, |(i, _)| &line[..i])
}

/// `path` written anew (0666 less the umask, root's), the previous one (if any) renamed to
/// `path.old` (replacing an older `.old`), as the script's renames leave them.
fn replace_keeping_old(overlay: &mut Overlay<'_>, path: &str, content: String, umask: u32) {
    let mut c = Changes::default();
    if let Some(previous) = overlay.entry(path).cloned() {
        let old = format!("{path}.old");
        let body = super::read_file(overlay, path).ok().flatten().unwrap_or_default();
        c.files.push((
            crate::entry::Entry {
                path: old,
                ..previous
            },
            body,
        ));
    }
    c.file(path, 0o666 & !umask, content.into_bytes());
    overlay.apply(c);
}

/// The script's `check_catalog`: every `CATALOG` entry of the file names an existing file
/// (relative ones from the catalog's directory, or the last `BASE`); an unreadable catalog does
/// not count.
fn references_exist(tree: &dyn TreeView, file: &str) -> Result<bool, String> {
    let Some(contents) = text(tree, &super::tree_path(file))? else {
        return Ok(false);
    };
    let mut base = file.rsplit_once('/').map_or("", |(d, _)| d).to_owned();
    let mut previous: Option<&str> = None;
    for token in tokens(&contents) {
        if let Some(keyword) = previous {
            if token.starts_with(char::is_whitespace) || token.starts_with("--") {
                continue;
            }
            let value = token
                .strip_prefix('\'')
                .and_then(|t| t.strip_suffix('\''))
                .or_else(|| token.strip_prefix('"').and_then(|t| t.strip_suffix('"')))
                .unwrap_or(token);
            if keyword == "base" {
                base = value.to_owned();
            } else {
                let path = if value.starts_with('/') {
                    value.to_owned()
                } else {
                    format!("{base}/{value}")
                };
                let real = super::resolve(tree, &super::tree_path(&path));
                if !real.is_some_and(|p| super::is_file(tree, &p)) {
                    return Ok(false);
                }
            }
            previous = None;
        } else if token.eq_ignore_ascii_case("catalog") {
            previous = Some("catalog");
        } else if token.eq_ignore_ascii_case("base") {
            previous = Some("base");
        }
    }
    Ok(true)
}

/// The script's tokens: runs of blanks and `-- comments --`, quoted literals, other words.
fn tokens(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut i = 0;
    let b = text.as_bytes();
    while i < b.len() {
        let start = i;
        let blank_or_comment = |j: usize| b[j].is_ascii_whitespace() || text[j..].starts_with("--");
        if blank_or_comment(i) {
            while i < b.len() && blank_or_comment(i) {
                if b[i].is_ascii_whitespace() {
                    i += 1;
                } else {
                    // `-- … --`: up to the next `--` (a comment left open ends the text).
                    i = text[i + 2..].find("--").map_or(b.len(), |n| i + 2 + n + 2);
                }
            }
        } else if b[i] == b'\'' || b[i] == b'"' {
            match text[i + 1..].find(b[i] as char) {
                Some(n) => i += n + 2,
                // An unterminated literal is a word of its own (`\S+`).
                None => i = text[i..].find(char::is_whitespace).map_or(b.len(), |n| i + n),
            }
        } else {
            i = text[i..].find(char::is_whitespace).map_or(b.len(), |n| i + n);
        }
        out.push(&text[start..i]);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::super::files;
    use super::super::testutil::MemTree;
    use super::super::testutil::with_postinst as pkg;
    use super::super::testutil::written;
    use super::*;

    const HEADER: &str = "--\n## This file is created by update-catalog with update-super.\n## Please see update-catalog(8) for how to modify this file.\n--\n";

    /// sgml-base's postinst on a fresh install (`--update-super`), then a second run once a
    /// catalog is there: its catalogs whose entries exist, sorted, and the previous file as
    /// `.old`; a catalog naming a missing file (or a dot file) is left out.
    #[test]
    fn the_super_catalog_as_update_super_writes_it() {
        let update_super = |t: &MemTree| {
            let script = "#!/bin/sh\nupdate-catalog --quiet --update-super\n";
            files::compute(t, &[pkg("sgml-base", script)]).unwrap()
        };
        let mut t = MemTree::new();
        t.tools(&["update-catalog", "update-xmlcatalog"]);
        t.dir("etc/sgml").dir("var/lib/sgml-base");
        let (c, report) = update_super(&t);
        assert!(report.is_empty(), "{report:?}");
        assert_eq!(written(&c, SUPER_CATALOG).1, HEADER.as_bytes());
        t.file(
            "etc/sgml/xml-core.cat",
            b"-- comment --\nCATALOG \"/usr/share/sgml/dtd/xml-core/catalog\"\n",
        )
        .file("usr/share/sgml/dtd/xml-core/catalog", b"")
        .file(
            "etc/sgml/a.cat",
            b"BASE \"/usr/share/sgml\"\nCATALOG dtd/a/catalog\n",
        )
        .file("usr/share/sgml/dtd/a/catalog", b"")
        .file("etc/sgml/broken.cat", b"CATALOG /nowhere/catalog\n")
        .file("etc/sgml/.hidden.cat", b"")
        .file("var/lib/sgml-base/supercatalog", HEADER.as_bytes());
        let (c, report) = update_super(&t);
        assert!(report.is_empty(), "{report:?}");
        assert_eq!(
            String::from_utf8_lossy(&written(&c, SUPER_CATALOG).1),
            format!("{HEADER}CATALOG /etc/sgml/a.cat\nCATALOG /etc/sgml/xml-core.cat\n")
        );
        assert_eq!(
            written(&c, "var/lib/sgml-base/supercatalog.old").1,
            HEADER.as_bytes()
        );
    }

    /// A centralized catalog made from the template, then an entry added and one removed.
    #[test]
    fn centralized_catalogs_edited_entry_by_entry() {
        let mut t = MemTree::new();
        t.tools(&["update-catalog", "update-xmlcatalog"]);
        t.tools(&["update-catalog", "update-xmlcatalog"]);
        t.dir("etc/sgml").file(
            "usr/share/sgml-base/catalog.centralized",
            b"-- centralized catalog CATALOG --\n",
        );
        let script = "#!/bin/sh\nupdate-catalog --add /etc/sgml/foo.cat /usr/share/sgml/foo/catalog\n\
                      update-catalog --add /etc/sgml/foo.cat /usr/share/sgml/bar/catalog\n\
                      update-catalog --remove /etc/sgml/foo.cat /usr/share/sgml/foo/catalog\n\
                      update-catalog --add --super /etc/sgml/foo.cat\n";
        let (c, report) = files::compute(&t, &[pkg("docbook", script)]).unwrap();
        assert!(report.is_empty(), "{report:?}");
        assert!(
            !c.files
                .iter()
                .any(|(e, _)| e.path.starts_with("var/lib/sgml-base")),
            "--super only activates the trigger: {:?}",
            c.files.iter().map(|(e, _)| &e.path).collect::<Vec<_>>()
        );
        assert_eq!(
            String::from_utf8_lossy(&written(&c, "etc/sgml/foo.cat").1),
            "-- centralized catalog /etc/sgml/foo.cat --\nCATALOG /usr/share/sgml/bar/catalog\n"
        );
        assert_eq!(
            String::from_utf8_lossy(&written(&c, "etc/sgml/foo.cat.old").1),
            "-- centralized catalog /etc/sgml/foo.cat --\nCATALOG /usr/share/sgml/foo/catalog\nCATALOG /usr/share/sgml/bar/catalog\n"
        );
    }

    /// sgml-base: its postinst and trigger run `update-catalog --update-super`; it is interested
    /// in the catalog trigger and in /etc/sgml.
    fn sgml_base(t: &mut MemTree) -> super::super::InstalledPackage {
        t.dir("var/lib/sgml-base");
        let mut p = pkg(
            "sgml-base",
            "#!/bin/sh\nset -e\nif [ \"$1\" = configure ]; then\n  update-catalog --quiet --update-super\nfi\n\
             if [ \"$1\" = triggered ]; then\n  update-catalog --quiet --update-super\nfi\n",
        );
        p.members.insert(
            "triggers".into(),
            b"interest update-sgmlcatalog\ninterest /etc/sgml\n".to_vec(),
        );
        p
    }

    /// xml-core: its catalog (a conffile) and what it names in the tree, this postinst and
    /// `triggers` member.
    fn xml_core(t: &mut MemTree, postinst: &str, triggers: &str) -> super::super::InstalledPackage {
        t.file(
            "etc/sgml/xml-core.cat",
            b"CATALOG /usr/share/sgml/dtd/xml-core/catalog\n",
        )
        .file("usr/share/sgml/dtd/xml-core/catalog", b"");
        let mut core = pkg("xml-core", postinst);
        core.members
            .insert("conffiles".into(), b"/etc/sgml/xml-core.cat\n".to_vec());
        core.members
            .insert("triggers".into(), triggers.as_bytes().to_vec());
        core
    }

    /// sgml-base configured before xml-core, as apt orders them: its postinst lists /etc/sgml
    /// while xml-core's catalog (a conffile) is still unpacked as `.dpkg-new`, so the first
    /// super catalog is empty; xml-core's configure activates the trigger (its `activate-await`
    /// line, or `update-catalog --add --super` in its postinst), and the triggered run that
    /// follows writes the catalog, keeping the empty one as `.old` — as dpkg leaves them.
    #[test]
    fn the_trigger_run_after_a_catalog_is_configured() {
        for (activation, postinst) in [
            ("activate-await update-sgmlcatalog\n", "#!/bin/sh\n"),
            (
                "",
                "#!/bin/sh\nupdate-catalog --quiet --add --super /etc/sgml/xml-core.cat\n",
            ),
            ("", "#!/bin/sh\ndpkg-trigger --no-await /etc/sgml\n"),
        ] {
            let mut t = MemTree::new();
            t.tools(&["update-catalog", "update-xmlcatalog"]);
            t.tools(&["update-catalog", "update-xmlcatalog"]);
            t.tools(&["update-catalog", "update-xmlcatalog"]);
            let base = sgml_base(&mut t);
            let core = xml_core(&mut t, postinst, activation);
            let (c, report, applied) = files::compute_at(&t, &[base, core], 0).unwrap();
            assert!(report.is_empty(), "{postinst}: {report:?}");
            assert_eq!(
                String::from_utf8_lossy(&written(&c, SUPER_CATALOG).1),
                format!("{HEADER}CATALOG /etc/sgml/xml-core.cat\n"),
                "{activation}{postinst}"
            );
            assert_eq!(
                String::from_utf8_lossy(&written(&c, "var/lib/sgml-base/supercatalog.old").1),
                HEADER,
                "{activation}{postinst}"
            );
            assert!(applied.contains_key("sgml-base"), "{applied:?}");
        }
        // xml-core configured first (its catalog in place when sgml-base lists /etc/sgml), and
        // nothing activates the trigger after sgml-base is configured: one run, no `.old`.
        let mut t = MemTree::new();
        t.tools(&["update-catalog", "update-xmlcatalog"]);
        t.tools(&["update-catalog", "update-xmlcatalog"]);
        t.tools(&["update-catalog", "update-xmlcatalog"]);
        let base = sgml_base(&mut t);
        let core = xml_core(&mut t, "#!/bin/sh\n", "activate-await update-sgmlcatalog\n");
        let (c, report, applied) = files::compute_at(&t, &[core, base], 0).unwrap();
        assert!(report.is_empty(), "{report:?}");
        assert_eq!(
            String::from_utf8_lossy(&written(&c, SUPER_CATALOG).1),
            format!("{HEADER}CATALOG /etc/sgml/xml-core.cat\n")
        );
        assert!(
            !c.files
                .iter()
                .any(|(e, _)| e.path == "var/lib/sgml-base/supercatalog.old"),
            "one run only"
        );
        assert!(applied.is_empty(), "{applied:?}");
    }

    /// A second catalog package depending on xml-core (docutils-common): dpkg defers it while
    /// xml-core awaits sgml-base's trigger processing, processes that trigger first, then
    /// configures it and processes the trigger again at the end — so `.old` holds xml-core's
    /// catalog alone (dpkg's log of `mmdebstrap --include=docutils-common`). Without an
    /// awaiting activation (`--no-await`), or where the order's plan has no stall, the one run
    /// at the end sees both catalogs.
    #[test]
    fn awaited_triggers_are_processed_before_a_dependent_is_configured() {
        let both = format!("{HEADER}CATALOG /etc/sgml/docutils-common.cat\nCATALOG /etc/sgml/xml-core.cat\n");
        let core_only = format!("{HEADER}CATALOG /etc/sgml/xml-core.cat\n");
        for (core_triggers, after, old) in [
            ("activate-await update-sgmlcatalog\n", true, core_only.as_str()),
            ("activate-noawait update-sgmlcatalog\n", true, HEADER),
            ("activate-await update-sgmlcatalog\n", false, HEADER),
        ] {
            let mut t = MemTree::new();
            t.tools(&["update-catalog", "update-xmlcatalog"]);
            t.tools(&["update-catalog", "update-xmlcatalog"]);
            t.tools(&["update-catalog", "update-xmlcatalog"]);
            t.tools(&["update-catalog", "update-xmlcatalog"]);
            let base = sgml_base(&mut t);
            let core = xml_core(&mut t, "#!/bin/sh\n", core_triggers);
            t.file("etc/sgml/docutils-common.cat", b"");
            let mut docutils = pkg("docutils-common", "#!/bin/sh\n");
            docutils
                .members
                .insert("conffiles".into(), b"/etc/sgml/docutils-common.cat\n".to_vec());
            docutils
                .members
                .insert("triggers".into(), b"activate-await update-sgmlcatalog\n".to_vec());
            docutils.after_awaited_triggers = after;
            let (c, report, _) = files::compute_at(&t, &[base, core, docutils], 0).unwrap();
            assert!(report.is_empty(), "{core_triggers}: {report:?}");
            let case = format!("{core_triggers} after_awaited_triggers={after}");
            assert_eq!(
                String::from_utf8_lossy(&written(&c, SUPER_CATALOG).1),
                both,
                "{case}"
            );
            assert_eq!(
                String::from_utf8_lossy(&written(&c, "var/lib/sgml-base/supercatalog.old").1),
                old,
                "{case}"
            );
        }
    }

    #[test]
    fn tokens_as_the_script_splits_them() {
        assert_eq!(
            tokens("CATALOG  -- c -- \"a b\" x"),
            ["CATALOG", "  -- c -- ", "\"a b\"", " ", "x"]
        );
        let args = |s: &str| s.split_whitespace().map(str::to_owned).collect::<Vec<_>>();
        for bad in [
            "",
            "--add /a",
            "--add --remove /a b",
            "--bogus --update-super",
            "--update-super x",
        ] {
            assert!(parse(&args(bad)).is_err(), "{bad}");
        }
    }
}
