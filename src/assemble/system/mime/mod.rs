//! shared-mime-info's database: what `update-mime-database /usr/share/mime` (its postinst, and
//! its trigger on `/usr/share/mime/packages`) writes from the packages' XML sources — the
//! per-type XML files, `globs`, `globs2`, `magic`, `treemagic`, `XMLnamespaces`, `subclasses`,
//! `aliases`, `types`, `icons`, `generic-icons`, `mime.cache` and `version`.
//!
//! The trigger runs after every package is configured, so the result depends only on the final
//! set of sources: computed once, from the finished tree. Byte-identical to shared-mime-info 2.2
//! (bookworm; 2.0 in bullseye has the same code) with GLib 2.66/2.74 and libxml2 2.9: GLib's
//! hash-table orders are reproduced ([`super::ghash`]), libxml2's writer too ([`xmlsave`]). Another
//! upstream version is reported, not guessed.

use std::collections::BTreeMap;

use super::commands::{self, Kind};
use super::{Changes, InstalledPackage, NotEmulated, SystemError, TreeView};

pub mod cache;
pub mod magic;
pub mod source;
pub mod xmlsave;

#[cfg(test)]
mod tests;

use source::{Database, Magic, TreeMagic};

/// The package whose postinst and trigger run update-mime-database.
const PACKAGE: &str = "shared-mime-info";
/// The upstream versions whose output this module reproduces.
const SUPPORTED: &[&str] = &["2.0", "2.2"];
const MIME_DIR: &str = "usr/share/mime";

/// The command line the report names when the database is not reproduced.
const COMMAND: &str = "update-mime-database /usr/share/mime";

/// The files update-mime-database leaves in the image, or the report of why they are not made.
pub fn compute(
    tree: &dyn TreeView,
    packages: &[InstalledPackage],
) -> Result<(Changes, Vec<NotEmulated>), SystemError> {
    let mut out = Changes::default();
    let Some(pkg) = super::installed(packages, PACKAGE) else {
        return Ok((out, Vec::new()));
    };
    let not_reproduced = |why: String| {
        let kind =
            Kind::ImageCode("builds /usr/share/mime's caches; run `update-mime-database /usr/share/mime`");
        let what = commands::report_entry(&kind, COMMAND).unwrap_or_else(|| COMMAND.to_owned());
        vec![NotEmulated {
            package: PACKAGE.to_owned(),
            script: "postinst".to_owned(),
            what: format!("{what}; {why}"),
        }]
    };
    let upstream = crate::debian::version::upstream(&pkg.version);
    if !SUPPORTED.contains(&upstream) {
        return Ok((
            out,
            not_reproduced(format!(
                "shared-mime-info {upstream} is not a version debcast reproduces"
            )),
        ));
    }
    let Some((mime_dir, _)) = super::children(tree, MIME_DIR) else {
        // Without the directory the command fails; dpkg would stop here. Nothing to write.
        return Ok((out, Vec::new()));
    };
    // Without `packages/` the tool stops with an error before writing anything.
    let Some(sources) = super::children(tree, &format!("{MIME_DIR}/packages"))
        .map(|(dir, names)| (dir, source::source_order(&names)))
    else {
        return Ok((out, Vec::new()));
    };
    let mut db = Database::default();
    for name in &sources.1 {
        let path = format!("{}/{name}", sources.0);
        let Some(bytes) = super::read_file(tree, &path)? else {
            continue;
        };
        let Ok(text) = String::from_utf8(bytes) else {
            return Ok((out, not_reproduced(format!("/{path} is not UTF-8"))));
        };
        if let Err(e) = db.load(&format!("/{path}"), &text) {
            return Ok((out, not_reproduced(e.0)));
        }
    }
    for w in &db.warnings {
        tracing::debug!(target: "debcast::mime", "update-mime-database: {w}");
    }
    for (path, mode, content) in files(&db, upstream) {
        let full = format!("{mime_dir}/{path}");
        match content {
            Some(bytes) => out.file(&full, mode, bytes),
            None if !super::is_dir(tree, &full) => out.dir(&full, mode),
            None => {}
        }
    }
    out.removed.extend(stale_types(tree, &mime_dir, &db));
    Ok((out, Vec::new()))
}

/// `delete_old_types`: a `MEDIA/NAME.xml` the sources no longer define.
fn stale_types(tree: &dyn TreeView, mime_dir: &str, db: &Database) -> Vec<String> {
    let mut removed = Vec::new();
    for media in source::MEDIA_TYPES {
        let Some((dir, names)) = super::children(tree, &format!("{mime_dir}/{media}")) else {
            continue;
        };
        for name in names {
            if let Some(sub) = name.strip_suffix(".xml")
                && !db.types.contains(&format!("{media}/{sub}"))
            {
                removed.push(format!("{dir}/{name}"));
            }
        }
    }
    removed
}

/// Every file (with content) and directory (`None`) update-mime-database writes, relative to
/// the MIME directory, with its mode; `version` is shared-mime-info's upstream version.
pub fn files(db: &Database, version: &str) -> Vec<(String, u32, Option<Vec<u8>>)> {
    let mut out: BTreeMap<String, (u32, Option<Vec<u8>>)> = BTreeMap::new();
    // One file per type, written in the types table's order: two names that differ only in case
    // share a file, and the last one written stays.
    for (_, ty) in db.types.iter() {
        let media = ty.media.to_ascii_lowercase();
        out.entry(media.clone()).or_insert((0o755, None));
        let path = format!("{media}/{}.xml", ty.subtype.to_ascii_lowercase());
        out.insert(path, (0o644, Some(xmlsave::document(&ty.output))));
    }
    let mut file = |name: &str, bytes: Vec<u8>| {
        out.insert(name.to_owned(), (0o644, Some(bytes)));
    };

    let (globs, globs2) = glob_files(db);
    file("globs", globs);
    file("globs2", globs2);

    let mut magic: Vec<&Magic> = db.magic.iter().collect();
    magic.sort_by(|a, b| magic_order(a.nomagic, a.priority, &a.mime, b.nomagic, b.priority, &b.mime));
    let mut magic_file = b"MIME-Magic\0\n".to_vec();
    for m in &magic {
        magic::write_magic(&mut magic_file, m.priority, &m.mime, &m.matches);
    }
    file("magic", magic_file);

    let namespaces = db.namespaces.iter().map(|(k, t)| format!("{k} {t}\n"));
    file("XMLnamespaces", sorted_lines(namespaces));
    let subclasses: String = db
        .subclasses
        .iter()
        .flat_map(|(t, parents)| parents.iter().map(move |p| format!("{t} {p}\n")))
        .collect();
    file("subclasses", subclasses.into_bytes());
    file(
        "aliases",
        sorted_lines(db.aliases.iter().map(|(a, t)| format!("{a} {t}\n"))),
    );
    file("types", sorted_lines(db.types.keys().map(|t| format!("{t}\n"))));
    let icons = |table: &super::ghash::StrTable<String>| -> Vec<u8> {
        table
            .iter()
            .map(|(t, icon)| format!("{t}:{icon}\n"))
            .collect::<String>()
            .into_bytes()
    };
    file("generic-icons", icons(&db.generic_icons));
    file("icons", icons(&db.icons));

    let mut tree_magic: Vec<&TreeMagic> = db.tree_magic.iter().collect();
    tree_magic.sort_by(|a, b| magic_order(false, a.priority, &a.mime, false, b.priority, &b.mime));
    let mut tree_file = String::from("MIME-TreeMagic\0\n");
    for m in &tree_magic {
        magic::write_tree_magic(&mut tree_file, m.priority, &m.mime, &m.matches);
    }
    file("treemagic", tree_file.into_bytes());

    file("mime.cache", cache::write(db, &magic));
    file("version", format!("{version}\n").into_bytes());
    out.into_iter().map(|(p, (mode, c))| (p, mode, c)).collect()
}

/// `cmp_magic`/`cmp_tree_magic`: `<magic-deleteall/>` first, then by priority (highest first),
/// then by media and subtype.
fn magic_order<'a>(
    a_no: bool,
    a_prio: i32,
    a: &'a str,
    b_no: bool,
    b_prio: i32,
    b: &'a str,
) -> std::cmp::Ordering {
    if a_no || b_no {
        return b_no.cmp(&a_no);
    }
    let split = |t: &'a str| t.split_once('/').unwrap_or((t, ""));
    b_prio.cmp(&a_prio).then_with(|| split(a).cmp(&split(b)))
}

fn sorted_lines(lines: impl Iterator<Item = String>) -> Vec<u8> {
    let mut lines: Vec<String> = lines.collect();
    lines.sort();
    lines.concat().into_bytes()
}

/// `globs` and `globs2`: every glob, the table's order, stably sorted by weight (highest first,
/// `<glob-deleteall/>` markers before all); patterns with a newline are skipped.
fn glob_files(db: &Database) -> (Vec<u8>, Vec<u8>) {
    let mut all: Vec<&source::Glob> = db.globs.iter().flat_map(|(_, list)| list.iter()).collect();
    all.sort_by(|a, b| {
        if a.noglob || b.noglob {
            b.noglob.cmp(&a.noglob)
        } else {
            b.weight.cmp(&a.weight)
        }
    });
    const HEADER: &str =
        "# This file was automatically generated by the\n# update-mime-database command. DO NOT EDIT!\n";
    let mut globs = String::from(HEADER);
    let mut globs2 = String::from(HEADER);
    for g in all.iter().filter(|g| !g.pattern.contains('\n')) {
        globs.push_str(&format!("{}:{}\n", g.mime, g.pattern));
        if g.case_sensitive {
            globs2.push_str(&format!("{}:{}:{}:cs\n", g.weight, g.mime, g.pattern));
        }
        globs2.push_str(&format!("{}:{}:{}\n", g.weight, g.mime, g.pattern));
    }
    (globs.into_bytes(), globs2.into_bytes())
}
