//! `a2enmod`, `a2enconf` and `a2ensite` (apache2 2.4's helper), as apache2's postinst enables its
//! default modules, configuration snippets and site.
//!
//! Enabling NAME links `/etc/apache2/{mods,conf,sites}-enabled/NAME.{load,conf}` to
//! `../…-available/…` (a module's `.conf` too, when it has one), after the modules its `.load`
//! names in a leading `# Depends:` comment (a conflicting module already enabled stops it; a
//! configuration or site whose module dependencies are not enabled is not enabled), then records
//! who enabled it: an empty marker `/var/lib/apache2/{module,conf,site}/enabled_by_maint/NAME`
//! (`-m`, the maintainer scripts) or `enabled_by_admin`, after removing the name's other markers.
//! Something already enabled is left as it is, marker included. Disabling, wildcards, `cgi` on a
//! threaded MPM and `cache_disk` (which starts a service) are refused and reported.

use super::{Changes, Overlay, TreeView};

/// One call: what it enables and how it records it.
#[derive(Debug, PartialEq, Eq)]
pub struct Call {
    kind: Kind,
    names: Vec<String>,
    maint: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Module,
    Conf,
    Site,
}

impl Kind {
    fn dir(self) -> &'static str {
        match self {
            Kind::Module => "mods",
            Kind::Conf => "conf",
            Kind::Site => "sites",
        }
    }
    fn suffix(self) -> &'static str {
        match self {
            Kind::Module => ".load",
            _ => ".conf",
        }
    }
    fn state(self) -> &'static str {
        match self {
            Kind::Module => "module",
            Kind::Conf => "conf",
            Kind::Site => "site",
        }
    }
}

/// Parses `a2enmod`/`a2enconf`/`a2ensite` and their bundled `-q`, `-m`, `-f`.
pub fn parse(argv0: &str, args: &[String]) -> Result<Call, String> {
    let kind = match argv0 {
        "a2enmod" => Kind::Module,
        "a2enconf" => Kind::Conf,
        "a2ensite" => Kind::Site,
        other => return Err(format!("{other} is not reproduced")),
    };
    let mut maint = false;
    let mut names = Vec::new();
    for a in args {
        if let Some(flags) = a
            .strip_prefix('-')
            .filter(|f| !f.is_empty() && !f.starts_with('-'))
        {
            for c in flags.chars() {
                match c {
                    'm' => maint = true,
                    'q' | 'f' => {}
                    other => return Err(format!("{argv0} -{other} is not reproduced")),
                }
            }
        } else {
            match a.as_str() {
                "--maintmode" => maint = true,
                "--quiet" | "--force" => {}
                s if s.starts_with('-') => return Err(format!("{argv0} {s} is not reproduced")),
                s if s.contains(['*', '?', '[', '/']) => {
                    return Err(format!("{argv0} {s}: wildcards are not reproduced"));
                }
                s => names.push(s.trim_end_matches(kind.suffix()).to_owned()),
            }
        }
    }
    if names.is_empty() {
        return Err(format!("{argv0} without a name asks which to enable"));
    }
    Ok(Call { kind, names, maint })
}

/// Enables every name of the call in the image.
pub fn apply(overlay: &mut Overlay<'_>, call: &Call, umask: u32) -> Result<(), String> {
    for name in &call.names {
        enable(overlay, call, call.kind, name, umask, 0)?;
    }
    Ok(())
}

/// The names a `# Depends:` or `# Conflicts:` line lists in the leading comments of `path`.
fn header_names(tree: &dyn TreeView, path: &str, field: &str) -> Vec<String> {
    let text = match super::read_file(tree, path) {
        Ok(Some(bytes)) => String::from_utf8_lossy(&bytes).into_owned(),
        _ => return Vec::new(),
    };
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix(&format!("# {field}:"))
            && rest.starts_with(char::is_whitespace)
        {
            return rest.split_whitespace().map(str::to_owned).collect();
        }
        let t = line.trim();
        if !(t.is_empty() || t.starts_with('#')) {
            break;
        }
    }
    Vec::new()
}

/// Whether `link` is a link resolving to `target`.
fn linked(tree: &dyn TreeView, link: &str, target: &str) -> bool {
    super::is_symlink(tree, &format!("/{link}"))
        && super::resolve(tree, link).is_some_and(|r| Some(r) == super::resolve(tree, target))
}

fn enable(
    overlay: &mut Overlay<'_>,
    call: &Call,
    kind: Kind,
    name: &str,
    umask: u32,
    depth: usize,
) -> Result<(), String> {
    if depth > 16 {
        return Err(format!("module dependencies of {name} nest too deeply"));
    }
    if kind == Kind::Module && matches!(name, "cgi" | "cache_disk") {
        return Err(format!(
            "enabling {name} depends on the running system (the MPM, a service)"
        ));
    }
    let (avail, enabled) = (
        format!("etc/apache2/{}-available", kind.dir()),
        format!("etc/apache2/{}-enabled", kind.dir()),
    );
    let target = format!("{avail}/{name}{}", kind.suffix());
    let link = format!("{enabled}/{name}{}", kind.suffix());
    if !super::exists(overlay, &target) {
        return Err(format!("{name} does not exist in /{avail}"));
    }
    let conf = (kind == Kind::Module)
        .then(|| format!("{avail}/{name}.conf"))
        .filter(|c| super::exists(overlay, c));
    match kind {
        Kind::Module => {
            for dep in header_names(overlay, &target, "Depends") {
                enable(overlay, call, Kind::Module, &dep, umask, depth + 1)?;
            }
            for other in header_names(overlay, &target, "Conflicts") {
                let other_link = format!("{enabled}/{other}.load");
                if linked(overlay, &other_link, &format!("{avail}/{other}.load")) {
                    return Err(format!("module {other} is enabled and conflicts with {name}"));
                }
            }
        }
        _ => {
            for dep in header_names(overlay, &target, "Depends") {
                if !super::exists(overlay, &format!("etc/apache2/mods-enabled/{dep}.load")) {
                    return Err(format!("module {dep} is not enabled, but {name} depends on it"));
                }
            }
        }
    }
    let mut changes = Changes::default();
    let conf_missing = conf.as_ref().is_some_and(|c| {
        let conf_link = format!("{enabled}/{name}.conf");
        !linked(overlay, &conf_link, c)
    });
    if let Some(c) = conf.as_ref().filter(|_| conf_missing) {
        let conf_link = format!("{enabled}/{name}.conf");
        if super::exists(overlay, &conf_link) {
            return Err(format!("/{conf_link} exists and is not a link to /{c}"));
        }
        changes.symlink(&conf_link, &format!("../{}-available/{name}.conf", kind.dir()));
    }
    if linked(overlay, &link, &target) {
        overlay.apply(changes);
        return Ok(());
    }
    if super::exists(overlay, &link) {
        return Err(format!("/{link} exists and is not a link to /{target}"));
    }
    changes.symlink(
        &link,
        &format!("../{}-available/{name}{}", kind.dir(), kind.suffix()),
    );
    overlay.apply(changes);
    mark(overlay, kind, name, call.maint, umask);
    Ok(())
}

/// `switch_marker`: the name's markers anywhere under its state directory removed, then
/// `enabled_by_maint/NAME` (or `_admin`) touched, its directories made as `mkpath` makes them.
fn mark(overlay: &mut Overlay<'_>, kind: Kind, name: &str, maint: bool, umask: u32) {
    let state = format!("var/lib/apache2/{}", kind.state());
    let stale: Vec<String> = overlay
        .paths()
        .filter(|p| p.starts_with(&format!("{state}/")) && p.rsplit('/').next() == Some(name))
        .map(str::to_owned)
        .filter(|p| super::is_file(overlay, p))
        .collect();
    super::enabled_marker(overlay, &state, name, maint, umask, stale);
}

#[cfg(test)]
mod tests {
    use super::super::testutil::MemTree;
    use super::*;

    fn words(s: &str) -> Vec<String> {
        s.split_whitespace().map(str::to_owned).collect()
    }

    #[test]
    fn modules_with_dependencies_confs_and_sites_as_the_helper_enables_them() {
        let mut t = MemTree::new();
        t.dir("etc/apache2/mods-enabled")
            .dir("etc/apache2/conf-enabled")
            .dir("etc/apache2/sites-enabled")
            .dir("var/lib")
            .file(
                "etc/apache2/mods-available/authn_core.load",
                b"LoadModule authn_core_module x.so\n",
            )
            .file(
                "etc/apache2/mods-available/auth_basic.load",
                b"# Depends: authn_core\nLoadModule auth_basic_module x.so\n",
            )
            .file(
                "etc/apache2/mods-available/mpm_event.load",
                b"# Conflicts: mpm_worker\nLoadModule mpm_event_module x.so\n",
            )
            .file("etc/apache2/mods-available/mpm_event.conf", b"<IfModule>\n")
            .file(
                "etc/apache2/mods-available/mpm_worker.load",
                b"# Conflicts: mpm_event\nLoadModule mpm_worker_module x.so\n",
            )
            .file("etc/apache2/conf-available/charset.conf", b"# charset\n")
            .file("etc/apache2/conf-available/needs.conf", b"# Depends: cgid\n")
            .file("etc/apache2/sites-available/000-default.conf", b"<VirtualHost>\n");
        let mut o = Overlay::new(&t);
        for (tool, args) in [
            ("a2enmod", "-m -q auth_basic"),
            ("a2enmod", "-m -q mpm_event"),
            ("a2enconf", "-m -q charset"),
            ("a2ensite", "-q 000-default"),
        ] {
            apply(&mut o, &parse(tool, &words(args)).unwrap(), 0o022).unwrap();
        }
        let target = |p: &str| match o.entry(p).map(|e| e.kind.clone()) {
            Some(crate::entry::EntryKind::Symlink { target }) => Some(target),
            _ => None,
        };
        assert_eq!(
            target("etc/apache2/mods-enabled/auth_basic.load").as_deref(),
            Some("../mods-available/auth_basic.load")
        );
        assert_eq!(
            target("etc/apache2/mods-enabled/authn_core.load").as_deref(),
            Some("../mods-available/authn_core.load")
        );
        assert_eq!(
            target("etc/apache2/mods-enabled/mpm_event.conf").as_deref(),
            Some("../mods-available/mpm_event.conf")
        );
        assert_eq!(
            target("etc/apache2/conf-enabled/charset.conf").as_deref(),
            Some("../conf-available/charset.conf")
        );
        assert_eq!(
            target("etc/apache2/sites-enabled/000-default.conf").as_deref(),
            Some("../sites-available/000-default.conf")
        );
        for marker in [
            "var/lib/apache2/module/enabled_by_maint/auth_basic",
            "var/lib/apache2/module/enabled_by_maint/authn_core",
            "var/lib/apache2/conf/enabled_by_maint/charset",
            "var/lib/apache2/site/enabled_by_admin/000-default",
        ] {
            assert!(super::super::is_file(&o, marker), "{marker}");
        }
        assert_eq!(o.entry("var/lib/apache2/module").map(|e| e.mode), Some(0o755));
        // A conflicting module, a configuration whose module is not enabled, disabling: refused.
        assert!(apply(&mut o, &parse("a2enmod", &words("-q mpm_worker")).unwrap(), 0o022).is_err());
        assert!(apply(&mut o, &parse("a2enconf", &words("-q needs")).unwrap(), 0o022).is_err());
        assert!(parse("a2dismod", &words("-q status")).is_err());
        assert!(parse("a2enmod", &words("-q 'auth_*'")).is_err());
    }
}
