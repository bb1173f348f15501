//! lighttpd's `lighty-enable-mod MODULE…` and `lighty-disable-mod MODULE…`: a module is a
//! `/etc/lighttpd/conf-available/NN-MODULE.conf`, enabled by a link to it in `conf-enabled/`
//! (`../conf-available/NN-MODULE.conf`). Enabling also enables what the file's `# -*- depends:
//! A, B -*-` line names (queued after it, as the tool does) and refuses a
//! `# -*- conflicts: … -*-` with an enabled module; disabling also disables the enabled modules
//! that depend on it. Unknown modules and modules already in the wanted state are left alone, as
//! the tool does (its exit status says so). Without a module it would ask: refused.

use std::collections::BTreeMap;

use super::{Changes, Overlay, TreeView};

const CONF_DIR: &str = "etc/lighttpd";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModCall {
    enabling: bool,
    modules: Vec<String>,
}

/// `lighty-enable-mod`/`lighty-disable-mod` with the modules named on the command line.
pub fn parse(argv0: &str, args: &[String]) -> Result<ModCall, String> {
    let enabling = match argv0.rsplit('/').next().unwrap_or(argv0) {
        "lighty-enable-mod" => true,
        "lighty-disable-mod" => false,
        other => return Err(format!("`{other}` is not lighty-enable-mod")),
    };
    if args.is_empty() {
        return Err("without a module the tool asks which one (interactive): not reproduced".into());
    }
    Ok(ModCall {
        enabling,
        // The tool splits nothing: each argument is a module name.
        modules: args.to_vec(),
    })
}

/// `NN-NAME.conf` → NAME (the tool's `^\d+\-([\w\-\.]+)\.conf$`).
fn module_name(file: &str) -> Option<&str> {
    let rest = file.strip_suffix(".conf")?;
    let digits = rest.len() - rest.trim_start_matches(|c: char| c.is_ascii_digit()).len();
    let name = rest[digits..].strip_prefix('-').filter(|_| digits > 0)?;
    let word = |c: char| c.is_alphanumeric() || c == '_' || c == '-' || c == '.';
    (!name.is_empty() && name.chars().all(word)).then_some(name)
}

/// The `*.conf` files of a directory by module name (the last in glob order wins).
fn modules_in(tree: &dyn TreeView, dir: &str) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    if let Some((_, names)) = super::children(tree, &format!("{CONF_DIR}/{dir}")) {
        for file in names {
            if let Some(name) = module_name(&file) {
                out.insert(name.to_owned(), file.clone());
            }
        }
    }
    out
}

/// The modules a file's `# -*- KIND: A, B -*-` lines name.
fn declared(text: &str, kind: &str) -> Vec<String> {
    let open = format!("# -*- {kind}: ");
    let mut out = Vec::new();
    for line in text.lines() {
        let Some(start) = line.find(&open) else { continue };
        let rest = &line[start + open.len()..];
        // The tool's `([-\w, ]+) -\*-`: the longest run of those characters before ` -*-`.
        let Some(end) = rest.find(" -*-") else { continue };
        let list = &rest[..end];
        if list.is_empty() || !list.chars().all(|c| c.is_alphanumeric() || "_-, ".contains(c)) {
            continue;
        }
        out.extend(
            list.split(", ")
                .flat_map(|m| m.split(",\t"))
                .map(|m| m.trim_start().to_owned())
                .filter(|m| !m.is_empty()),
        );
    }
    out
}

/// Applies the call to the image.
pub fn apply(overlay: &mut Overlay<'_>, call: &ModCall) -> Result<(), String> {
    let available = modules_in(overlay, "conf-available");
    let mut enabled = modules_in(overlay, "conf-enabled");
    let read = |overlay: &Overlay<'_>, file: &str| -> Result<String, String> {
        let path = format!("{CONF_DIR}/conf-available/{file}");
        super::read_file(overlay, &path)
            .map_err(|e| e.to_string())?
            .map(|b| String::from_utf8_lossy(&b).into_owned())
            .ok_or_else(|| format!("can't read /{path}"))
    };
    let mut todo: Vec<String> = call.modules.clone();
    let mut i = 0;
    while let Some(module) = todo.get(i).cloned() {
        i += 1;
        let Some(file) = available.get(&module) else {
            continue;
        };
        let target = format!("{CONF_DIR}/conf-enabled/{file}");
        if call.enabling {
            if super::is_file(overlay, &super::resolve(overlay, &target).unwrap_or_default()) {
                continue;
            }
            let text = read(overlay, file)?;
            for dep in declared(&text, "depends") {
                match (available.contains_key(&dep), enabled.contains_key(&dep)) {
                    (true, false) => todo.push(dep),
                    (true, true) => {}
                    (false, _) => return Err(format!("Unresolved dependency: {dep}")),
                }
            }
            if let Some(c) = declared(&text, "conflicts")
                .into_iter()
                .find(|c| enabled.contains_key(c))
            {
                return Err(format!("Conflicting dependencies: {module} conflicts with {c}"));
            }
            if !super::is_dir(overlay, &format!("{CONF_DIR}/conf-enabled")) {
                return Err(format!("/{CONF_DIR}/conf-enabled is not a directory"));
            }
            let mut c = Changes::default();
            c.symlink(&target, &format!("../conf-available/{file}"));
            overlay.apply(c);
            enabled.insert(module, target);
        } else if let Some(enabled_file) = enabled.remove(&module) {
            for (other, other_file) in &available {
                if *other != module
                    && enabled.contains_key(other)
                    && declared(&read(overlay, other_file)?, "depends").contains(&module)
                {
                    todo.push(other.clone());
                }
            }
            overlay.apply(Changes {
                files: vec![],
                removed: vec![format!("{CONF_DIR}/conf-enabled/{enabled_file}")],
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::files;
    use super::super::testutil::MemTree;
    use super::super::testutil::with_postinst as pkg;
    use super::*;
    use crate::entry::EntryKind;

    fn tree() -> MemTree {
        let mut t = MemTree::new();
        t.tools(&["lighty-enable-mod", "lighty-disable-mod"]);
        t.dir("etc/lighttpd/conf-enabled")
            .file(
                "etc/lighttpd/conf-available/05-auth.conf",
                b"server.modules += (\"mod_auth\")\n",
            )
            .file(
                "etc/lighttpd/conf-available/10-fastcgi.conf",
                b"server.modules += (\"mod_fastcgi\")\n",
            )
            .file(
                "etc/lighttpd/conf-available/15-fastcgi-php.conf",
                b"# -*- depends: fastcgi -*-\n# -*- conflicts: fastcgi-php-fpm -*-\nfastcgi.server += ()\n",
            )
            .file(
                "etc/lighttpd/conf-available/15-fastcgi-php-fpm.conf",
                b"# -*- depends: fastcgi -*-\n# -*- conflicts: fastcgi-php -*-\n",
            )
            .file(
                "etc/lighttpd/conf-available/99-unconfigured.conf",
                b"# placeholder\n",
            )
            .file(
                "etc/lighttpd/conf-available/90-broken.conf",
                b"# -*- depends: nothere -*-\n",
            );
        t
    }

    fn links(c: &Changes) -> Vec<(String, String)> {
        c.files
            .iter()
            .filter_map(|(e, _)| match &e.kind {
                EntryKind::Symlink { target } => Some((e.path.clone(), target.clone())),
                _ => None,
            })
            .collect()
    }

    /// lighttpd's postinst enables the placeholder; a PHP setup enables fastcgi-php with its
    /// dependency; a conflicting module, an unresolved dependency and an unknown name are what the
    /// tool refuses or skips; disabling fastcgi disables what depends on it.
    #[test]
    fn modules_as_the_tool_links_them() {
        let script = "#!/bin/sh\nset -e\nlighty-enable-mod unconfigured\nlighty-enable-mod fastcgi-php nosuch\n\
                      lighty-enable-mod fastcgi-php-fpm || true\nlighty-enable-mod broken || true\n";
        let (c, report) = files::compute(&tree(), &[pkg("lighttpd", script)]).unwrap();
        let what: Vec<&str> = report.iter().map(|r| r.what.as_str()).collect();
        assert_eq!(
            what,
            [
                "lighty-enable-mod fastcgi-php-fpm (Conflicting dependencies: fastcgi-php-fpm conflicts with fastcgi-php)",
                "lighty-enable-mod broken (Unresolved dependency: nothere)",
            ]
        );
        let dir = "etc/lighttpd/conf-enabled";
        assert_eq!(
            links(&c),
            [
                (
                    format!("{dir}/10-fastcgi.conf"),
                    "../conf-available/10-fastcgi.conf".to_owned()
                ),
                (
                    format!("{dir}/15-fastcgi-php.conf"),
                    "../conf-available/15-fastcgi-php.conf".to_owned()
                ),
                (
                    format!("{dir}/99-unconfigured.conf"),
                    "../conf-available/99-unconfigured.conf".to_owned()
                ),
            ]
        );
        let script = "#!/bin/sh\nlighty-enable-mod fastcgi-php auth\nlighty-disable-mod fastcgi\n";
        let (c, report) = files::compute(&tree(), &[pkg("lighttpd", script)]).unwrap();
        assert!(report.is_empty(), "{report:?}");
        assert_eq!(
            links(&c),
            [(
                format!("{dir}/05-auth.conf"),
                "../conf-available/05-auth.conf".to_owned()
            )]
        );
        assert!(parse("lighty-enable-mod", &[]).is_err(), "interactive");
    }

    #[test]
    fn module_names_as_the_tool_reads_them() {
        assert_eq!(module_name("10-fastcgi.conf"), Some("fastcgi"));
        assert_eq!(module_name("99-un.configured.conf"), Some("un.configured"));
        for bad in [
            "fastcgi.conf",
            "-x.conf",
            "10-.conf",
            "10-a b.conf",
            "10-x.conf.orig",
        ] {
            assert_eq!(module_name(bad), None, "{bad}");
        }
        assert_eq!(
            declared("# -*- depends: a, b-c -*-\n#-*- depends: x -*-\n", "depends"),
            ["a", "b-c"]
        );
    }
}
