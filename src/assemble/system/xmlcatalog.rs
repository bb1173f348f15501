//! `update-xmlcatalog --sort --add|--del …` (xml-core 0.18), as packages' postinsts run it
//! (dh_installxmlcatalogs): XML catalog entries kept in `/var/lib/xml-core` and the catalogs
//! regenerated from them.
//!
//! Each catalog has a data file of `<KEY><ENTRY>` lines: the root catalog `/etc/xml/catalog`
//! (data `catalog`, entries delegating to `/etc/xml/PACKAGE.xml`), a package catalog
//! `/etc/xml/PACKAGE.xml` (data `PACKAGE`, delegating to a local catalog), or a local catalog
//! (data named after its path with `/` as `_`, mapping ids to files). An `--add` reads the data,
//! adds the entry (an entry already there with the same value changes nothing but is still
//! written back; with another value the tool fails), moves the catalog to `CATALOG.old`, and
//! writes data and catalog anew — the catalog as xml-core's header, one `<KEY ENTRY/>` line per
//! entry and its footer. `--sort` orders both by key; without it the tool follows Perl's hash
//! order, which differs from run to run, so such a call is refused (and reported).

use super::{Changes, Overlay, TreeView};

const DATA_DIR: &str = "var/lib/xml-core";
const CATALOG_DIR: &str = "etc/xml";
const HEADER: &str = "usr/share/xml-core/catalog.header";
const FOOTER: &str = "usr/share/xml-core/catalog.footer";

/// One call's meaning.
#[derive(Debug, PartialEq, Eq)]
pub struct Call {
    add: bool,
    /// The catalog file and its data file (tree paths).
    catalog: String,
    data: String,
    key: String,
    entry: String,
    /// A file the tool requires to exist before it changes anything.
    requires: Option<String>,
}

/// Parses the arguments as Getopt::Long does for the tool (long options, `--opt value` or
/// `--opt=value`).
pub fn parse(args: &[String]) -> Result<Call, String> {
    let (mut add, mut del, mut root, mut sort) = (false, false, false, false);
    let (mut file, mut id, mut local, mut package, mut kind) = (None, None, None, None, None);
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let (name, inline) = match a.trim_start_matches('-').split_once('=') {
            Some((n, v)) => (n.to_owned(), Some(v.to_owned())),
            None => (a.trim_start_matches('-').to_owned(), None),
        };
        if !a.starts_with('-') {
            return Err(format!("update-xmlcatalog: unexpected argument `{a}`"));
        }
        let mut value = || {
            inline
                .clone()
                .or_else(|| it.next().cloned())
                .ok_or(format!("update-xmlcatalog --{name} without a value"))
        };
        match name.as_str() {
            "add" => add = true,
            "del" => del = true,
            "root" => root = true,
            "sort" => sort = true,
            "verbose" => {}
            "file" => file = Some(value()?),
            "id" => id = Some(value()?),
            "local" => local = Some(value()?),
            "package" => package = Some(value()?),
            "type" => kind = Some(value()?),
            other => return Err(format!("update-xmlcatalog --{other} is not reproduced")),
        }
    }
    if add == del {
        return Err("update-xmlcatalog needs one of --add and --del".into());
    }
    if !sort {
        return Err("without --sort update-xmlcatalog writes entries in Perl's hash order, which changes from run to run".into());
    }
    let kind = kind.ok_or("update-xmlcatalog: type not given")?;
    if !matches!(kind.as_str(), "public" | "system" | "uri") {
        return Err(format!("update-xmlcatalog: wrong type `{kind}`"));
    }
    let id = id.ok_or("update-xmlcatalog: id not given")?;
    // `publicIdStartString="ID"`, and `delegatePublic`/`delegateSystem`/`delegateURI`.
    let delegate_key = || {
        let start = if kind == "uri" {
            "uriStartString".to_owned()
        } else {
            format!("{kind}IdStartString")
        };
        let tag = match kind.as_str() {
            "uri" => "delegateURI".to_owned(),
            k => format!("delegate{}{}", k[..1].to_uppercase(), &k[1..]),
        };
        format!("{tag} {start}=\"{id}\"")
    };
    let tree = |abs: &str| abs.trim_start_matches('/').to_owned();
    if root {
        let package = package.ok_or("update-xmlcatalog: package catalog not given")?;
        if local.is_some() || file.is_some() {
            return Err("update-xmlcatalog: local catalog and file not for the root catalog".into());
        }
        return Ok(Call {
            add,
            catalog: format!("{CATALOG_DIR}/catalog"),
            data: format!("{DATA_DIR}/catalog"),
            key: delegate_key(),
            entry: format!("catalog=\"file:///etc/xml/{package}.xml\""),
            requires: add.then(|| format!("{CATALOG_DIR}/{package}.xml")),
        });
    }
    if let Some(package) = package {
        if file.is_some() {
            return Err("update-xmlcatalog: file not for a package catalog".into());
        }
        let local = local.filter(|l| l.starts_with('/'));
        if add && local.is_none() {
            return Err("update-xmlcatalog: an absolute local catalog not given".into());
        }
        return Ok(Call {
            add,
            catalog: format!("{CATALOG_DIR}/{package}.xml"),
            data: format!("{DATA_DIR}/{package}"),
            key: delegate_key(),
            entry: format!("catalog=\"file://{}\"", local.as_deref().unwrap_or_default()),
            requires: local.map(|l| tree(&l)),
        });
    }
    let local = local
        .filter(|l| l.starts_with('/'))
        .ok_or("update-xmlcatalog: catalog not given")?;
    let start = if kind == "uri" {
        "name".to_owned()
    } else {
        format!("{kind}Id")
    };
    let file = file.unwrap_or_default();
    if add && file.is_empty() {
        return Err("update-xmlcatalog: file not given".into());
    }
    Ok(Call {
        add,
        catalog: tree(&local),
        data: format!("{DATA_DIR}/{}", local.replace('/', "_")),
        key: format!("{kind} {start}=\"{id}\""),
        entry: format!("uri=\"{file}\""),
        requires: (add && file.starts_with('/')).then(|| tree(&file)),
    })
}

fn read(tree: &dyn TreeView, path: &str) -> Result<Option<String>, String> {
    match super::read_file(tree, path) {
        Ok(Some(bytes)) => String::from_utf8(bytes)
            .map(Some)
            .map_err(|_| format!("/{path} is not UTF-8 text")),
        Ok(None) => Ok(None),
        Err(e) => Err(e.to_string()),
    }
}

/// Applies the call to the image as the tool would.
pub fn apply(overlay: &mut Overlay<'_>, call: &Call, umask: u32) -> Result<(), String> {
    if let Some(required) = &call.requires
        && !super::is_file(overlay, required)
    {
        return Err(format!("/{required} not found"));
    }
    // The data: `<KEY><ENTRY>` lines, split at `>` as the tool's Perl does.
    let mut entries: std::collections::BTreeMap<String, String> = std::collections::BTreeMap::new();
    if let Some(text) = read(overlay, &call.data)? {
        for line in text.lines() {
            let mut parts = line.split('>');
            let key = parts.next().unwrap_or_default().trim_start_matches('<');
            let entry = parts.next().unwrap_or_default().trim_start_matches('<');
            entries.insert(key.to_owned(), entry.to_owned());
        }
    }
    if call.add {
        match entries.get(&call.key) {
            Some(old) if *old != call.entry => {
                return Err(format!("{} is already registered with {old}", call.key));
            }
            _ => {
                entries.insert(call.key.clone(), call.entry.clone());
            }
        }
    } else if entries.remove(&call.key).is_none() {
        return Err(format!("{} is not registered", call.key));
    }
    let header = read(overlay, HEADER)?.ok_or(format!("/{HEADER} not found"))?;
    let footer = read(overlay, FOOTER)?.ok_or(format!("/{FOOTER} not found"))?;
    let mut changes = Changes::default();
    // The catalog moves to its backup (a rename: mode and owner go with it).
    if let Some(old) = overlay.entry(&call.catalog).cloned() {
        let content = read(overlay, &call.catalog)?.unwrap_or_default();
        let mut backup = old;
        backup.path = format!("{}.old", call.catalog);
        changes.files.push((backup, content.into_bytes()));
        changes.removed.push(call.catalog.clone());
    }
    overlay.apply(changes);
    let mut changes = Changes::default();
    if entries.is_empty() {
        changes.removed.push(call.data.clone());
    } else {
        let data: String = entries.iter().map(|(k, e)| format!("<{k}><{e}>\n")).collect();
        changes.file(&call.data, 0o666 & !umask, data.into_bytes());
        // Perl's `chop` drops each line's last character: the newline.
        let mut catalog: String = header.lines().map(|l| format!("{l}\n")).collect();
        catalog.extend(entries.iter().map(|(k, e)| format!("<{k} {e}/>\n")));
        catalog.extend(footer.lines().map(|l| format!("{l}\n")));
        changes.file(&call.catalog, 0o666 & !umask, catalog.into_bytes());
    }
    overlay.apply(changes);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::testutil::MemTree;
    use super::*;

    fn words(s: &str) -> Vec<String> {
        // Ids with spaces are quoted in scripts; here `|` stands for a space.
        s.split_whitespace().map(|w| w.replace('|', " ")).collect()
    }

    #[test]
    fn package_and_root_catalogs_as_the_tool_writes_them() {
        let mut t = MemTree::new();
        t.dir("etc/xml")
            .dir("var/lib/xml-core")
            .file(HEADER, b"<?xml version=\"1.0\"?>\n<catalog>\n")
            .file(FOOTER, b"</catalog>\n")
            .file("usr/share/xml/schema/core/catalog.xml", b"<catalog/>\n");
        let mut o = Overlay::new(&t);
        for call in [
            "--sort --add --type system --id http://x/catalog.dtd --package core --local /usr/share/xml/schema/core/catalog.xml",
            "--sort --add --type public --id -//OASIS//DTD|XML|Catalogs|V1.0//EN --package core --local /usr/share/xml/schema/core/catalog.xml",
            "--sort --add --type system --id http://x/catalog.dtd --package core --root",
            "--sort --add --type public --id -//OASIS//DTD|XML|Catalogs|V1.0//EN --package core --root",
        ] {
            apply(&mut o, &parse(&words(call)).unwrap(), 0o022).unwrap();
        }
        let text = |p: &str| String::from_utf8(o.read(p).unwrap().unwrap()).unwrap();
        assert_eq!(
            text("etc/xml/core.xml"),
            "<?xml version=\"1.0\"?>\n<catalog>\n\
             <delegatePublic publicIdStartString=\"-//OASIS//DTD XML Catalogs V1.0//EN\" catalog=\"file:///usr/share/xml/schema/core/catalog.xml\"/>\n\
             <delegateSystem systemIdStartString=\"http://x/catalog.dtd\" catalog=\"file:///usr/share/xml/schema/core/catalog.xml\"/>\n\
             </catalog>\n"
        );
        // The backup is the catalog before the last change.
        assert_eq!(text("etc/xml/core.xml.old").lines().count(), 4);
        assert_eq!(
            text("var/lib/xml-core/catalog"),
            "<delegatePublic publicIdStartString=\"-//OASIS//DTD XML Catalogs V1.0//EN\"><catalog=\"file:///etc/xml/core.xml\">\n\
             <delegateSystem systemIdStartString=\"http://x/catalog.dtd\"><catalog=\"file:///etc/xml/core.xml\">\n"
        );
        assert!(text("etc/xml/catalog").contains("<delegateSystem systemIdStartString=\"http://x/catalog.dtd\" catalog=\"file:///etc/xml/core.xml\"/>\n"));
        assert_eq!(o.entry("etc/xml/catalog").map(|e| e.mode), Some(0o644));
        // A conflicting value, an unsorted call, a missing package catalog: refused.
        let conflict = "--sort --add --type system --id http://x/catalog.dtd --package other --root";
        t.file("etc/xml/other.xml", b"x");
        let mut o2 = Overlay::new(&t);
        apply(&mut o2, &parse(&words("--sort --add --type system --id http://x/catalog.dtd --package core2 --local /usr/share/xml/schema/core/catalog.xml")).unwrap(), 0o022).unwrap();
        apply(
            &mut o2,
            &parse(&words(
                "--sort --add --type system --id http://x/catalog.dtd --package core2 --root",
            ))
            .unwrap(),
            0o022,
        )
        .unwrap();
        assert!(apply(&mut o2, &parse(&words(conflict)).unwrap(), 0o022).is_err());
        assert!(parse(&words("--add --type system --id a --package p --root")).is_err());
        assert!(
            apply(
                &mut Overlay::new(&t),
                &parse(&words("--sort --add --type system --id a --package nope --root")).unwrap(),
                0o022
            )
            .is_err()
        );
    }
}
