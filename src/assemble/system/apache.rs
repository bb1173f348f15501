//! `a2enmod`, `a2enconf` and `a2ensite` (apache2 2.4's helper), as apache2's postinst enables its
//! default modules, configuration snippets and site.
//!
//! Enabling NAME links `/etc/apache2/{mods,conf,sites}-enabled/NAME.{load,conf}` to
//! `../…-available/…` (a module's `.conf` too, when it has one), after the modules its `.load`
//! names in a leading `# Depends:` comment (a conflicting module already enabled stops it; a
//! configuration or site whose module dependencies are not enabled is not enabled), then records
//! who enabled it: an empty marker `/var/lib/apache2/{module,conf,site}/enabled_by_maint/NAME`
//! (`-m`, the maintainer scripts) or `enabled_by_admin`, after removing the name's other markers.
//! Something already enabled is left as it is, marker included.
//!
//! `a2dismod`, `a2disconf` and `a2dissite` remove those links (a dangling one too) and record
//! `disabled_by_maint/NAME` (or `_admin`) the same way; with `-f` a module's dependents go
//! first, without it they stop the call. Wildcards, `--purge`, an essential module without
//! `-f` (the tool asks), `cgi` on a threaded MPM and `cache_disk` (which starts a service) are
//! refused and reported.
//!
//! `a2query -m/-c/-s [NAME]` and `-M` are answered from the same links and markers, with the
//! tool's output and exit codes (0; 1 not found; 32 and 33 disabled by the admin or by a
//! maintainer script): libapache2-mod-php's postinst switches the MPM to prefork with them.

use super::{Changes, Overlay, TreeView};

/// How deep module dependencies are followed (a loop among them ends there).
const MAX_DEPTH: usize = 16;

/// The modules a2dismod asks about before disabling (a2enmod's `@essential_module_list`).
const ESSENTIAL_MODULES: &[&str] = &[
    "alias",
    "auth_basic",
    "authn_file",
    "authz_host",
    "authz_user",
    "autoindex",
    "deflate",
    "dir",
    "env",
    "filter",
    "logio",
    "mime",
    "negotiation",
    "setenvif",
    "unixd",
    "version",
    "watchdog",
];

/// One call: what it enables or disables and how it records it.
#[derive(Debug, PartialEq, Eq)]
pub struct Call {
    kind: Kind,
    names: Vec<String>,
    maint: bool,
    disable: bool,
    force: bool,
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
    let (kind, disable) = match argv0 {
        "a2enmod" => (Kind::Module, false),
        "a2enconf" => (Kind::Conf, false),
        "a2ensite" => (Kind::Site, false),
        "a2dismod" => (Kind::Module, true),
        "a2disconf" => (Kind::Conf, true),
        "a2dissite" => (Kind::Site, true),
        other => return Err(format!("{other} is not reproduced")),
    };
    let mut maint = false;
    let mut force = false;
    let mut names = Vec::new();
    for a in args {
        if let Some(flags) = a
            .strip_prefix('-')
            .filter(|f| !f.is_empty() && !f.starts_with('-'))
        {
            for c in flags.chars() {
                match c {
                    'm' => maint = true,
                    'f' => force = true,
                    'q' => {}
                    other => return Err(format!("{argv0} -{other} is not reproduced")),
                }
            }
        } else {
            match a.as_str() {
                "--maintmode" => maint = true,
                "--force" => force = true,
                "--quiet" => {}
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
    Ok(Call {
        kind,
        names,
        maint,
        disable,
        force,
    })
}

/// Enables or disables every name of the call in the image.
pub fn apply(overlay: &mut Overlay<'_>, call: &Call, umask: u32) -> Result<(), String> {
    for name in &call.names {
        if call.disable {
            disable(overlay, call, call.kind, name, umask, 0)?;
        } else {
            enable(overlay, call, call.kind, name, umask, 0)?;
        }
    }
    Ok(())
}

/// a2dis*'s `doit`: the links removed, then the marker.
fn disable(
    overlay: &mut Overlay<'_>,
    call: &Call,
    kind: Kind,
    name: &str,
    umask: u32,
    depth: usize,
) -> Result<(), String> {
    if depth > MAX_DEPTH {
        return Err(format!("modules depending on {name} nest too deeply"));
    }
    let enabled = format!("etc/apache2/{}-enabled", kind.dir());
    let avail = format!("etc/apache2/{}-available", kind.dir());
    let target = format!("{avail}/{name}{}", kind.suffix());
    let link = format!("{enabled}/{name}{}", kind.suffix());
    let is_link = |o: &Overlay<'_>, p: &str| super::is_symlink(o, &format!("/{p}"));
    let conf_link = (kind == Kind::Module && super::exists(overlay, &format!("{avail}/{name}.conf")))
        .then(|| format!("{enabled}/{name}.conf"));
    if !super::exists(overlay, &target) {
        // A dangling link is removed (and a dangling `.conf` beside it); otherwise the call fails.
        if is_link(overlay, &link) && !super::exists(overlay, &link) {
            let dangling_conf = format!("{enabled}/{name}.conf");
            let mut removed = vec![link];
            if is_link(overlay, &dangling_conf) && !super::exists(overlay, &dangling_conf) {
                removed.push(dangling_conf);
            }
            overlay.apply(Changes {
                files: vec![],
                removed,
            });
            return Ok(());
        }
        return Err(format!("{name} does not exist in /{avail}"));
    }
    if kind == Kind::Module {
        // The enabled modules whose `# Depends:` names it: disabled first with -f.
        let dependents: Vec<String> = super::children(overlay, &enabled)
            .map(|(_, names)| names)
            .unwrap_or_default()
            .into_iter()
            .filter_map(|n| n.strip_suffix(".load").map(str::to_owned))
            .filter(|n| {
                header_names(overlay, &format!("{enabled}/{n}.load"), "Depends")
                    .iter()
                    .any(|d| d == name)
            })
            .collect();
        if !dependents.is_empty() {
            if !call.force {
                return Err(format!(
                    "the modules {} depend on {name} and need to be disabled first",
                    dependents.join(" ")
                ));
            }
            for d in &dependents {
                disable(overlay, call, kind, d, umask, depth + 1)?;
            }
        }
    }
    if super::exists(overlay, &link) || is_link(overlay, &link) {
        if kind == Kind::Module && name == "cache_disk" {
            return Err("disabling cache_disk stops a service".into());
        }
        if kind == Kind::Module && ESSENTIAL_MODULES.contains(&name) && !call.force {
            return Err(format!(
                "{name} is an essential module: a2dismod asks before disabling it"
            ));
        }
        if !is_link(overlay, &link) {
            return Err(format!("/{link} is not a symbolic link, not deleting"));
        }
        let mut removed = vec![link];
        if let Some(c) = conf_link.filter(|c| super::exists(overlay, c)) {
            if !is_link(overlay, &c) {
                return Err(format!("/{c} is not a symbolic link, not deleting"));
            }
            removed.push(c);
        }
        overlay.apply(Changes {
            files: vec![],
            removed,
        });
        let state = format!("var/lib/apache2/{}", kind.state());
        let stale = stale_markers(overlay, &state, name);
        super::switch_marker(overlay, &state, "disabled", name, call.maint, umask, stale);
    } else if let Some(c) = conf_link.filter(|c| super::exists(overlay, c)) {
        // A stale `.conf` link alone.
        if !is_link(overlay, &c) {
            return Err(format!("/{c} is not a symbolic link, not deleting"));
        }
        overlay.apply(Changes {
            files: vec![],
            removed: vec![c],
        });
    }
    Ok(())
}

/// `a2query`'s answer: its exit code and what it prints (nothing under `-q`); `None` for a
/// form not answered.
pub fn query(tree: &dyn TreeView, args: &[String]) -> Option<(i32, String)> {
    let mut quiet = false;
    let mut asked: Option<(Kind, String)> = None;
    let mut mpm = false;
    let mut i = 0;
    while i < args.len() {
        let a = &args[i];
        let flags = a
            .strip_prefix('-')
            .filter(|f| !f.is_empty() && !f.starts_with('-'))?;
        // getopts' `m:s:c:`: the option's value is the rest of the word, else the next word.
        for (j, c) in flags.char_indices() {
            match c {
                'q' => quiet = true,
                'M' => mpm = true,
                'm' | 's' | 'c' => {
                    let kind = match c {
                        'm' => Kind::Module,
                        's' => Kind::Site,
                        _ => Kind::Conf,
                    };
                    let rest = &flags[j + 1..];
                    let value = if !rest.is_empty() {
                        rest.to_owned()
                    } else {
                        i += 1;
                        args.get(i).cloned().unwrap_or_default()
                    };
                    if asked.replace((kind, value)).is_some() {
                        return None;
                    }
                    break;
                }
                _ => return None,
            }
        }
        i += 1;
    }
    let out = |text: String| if quiet { String::new() } else { text };
    // The loaded modules: `mods-enabled/*.load` (a2query fails on a second MPM).
    let modules = enabled_names(tree, Kind::Module);
    let mpms: Vec<&String> = modules
        .iter()
        .filter(|m| matches!(m.as_str(), "mpm_event" | "mpm_worker" | "mpm_prefork"))
        .collect();
    if mpms.len() > 1 {
        return Some((1, String::new()));
    }
    match (asked, mpm) {
        (None, true) => {
            // apache2ctl -V's MPM, which is the one its configuration loads.
            let name = mpms.first().map_or("invalid", |m| m.trim_start_matches("mpm_"));
            Some((0, out(format!("{name}\n"))))
        }
        (Some((kind, pattern)), false) => {
            let names = match kind {
                Kind::Module => modules,
                _ => enabled_names(tree, kind),
            };
            let pattern = pattern.strip_prefix("mod").unwrap_or(&pattern);
            let pattern = pattern
                .strip_suffix(".conf")
                .or_else(|| pattern.strip_suffix(".load"))
                .unwrap_or(pattern);
            let state = format!("var/lib/apache2/{}", kind.state());
            let matching: Vec<&String> = names
                .iter()
                .filter(|n| pattern.is_empty() || *n == pattern)
                .collect();
            if matching.is_empty() {
                let code = match marked(tree, &state, "disabled", pattern) {
                    Some("maint") => 33,
                    Some(_) => 32,
                    None => 1,
                };
                return Some((code, String::new()));
            }
            let mut text = String::new();
            for n in matching {
                let by = match marked(tree, &state, "enabled", n) {
                    Some("maint") => "maintainer script",
                    Some(_) => "site administrator",
                    None => "unknown",
                };
                text.push_str(&format!("{n} (enabled by {by})\n"));
            }
            Some((0, out(text)))
        }
        _ => None,
    }
}

/// The names enabled of a kind (`*.load` for modules, `*.conf` otherwise), sorted: a2query lists
/// them in directory order, which no script can rely on.
fn enabled_names(tree: &dyn TreeView, kind: Kind) -> Vec<String> {
    let mut names: Vec<String> = super::children(tree, &format!("etc/apache2/{}-enabled", kind.dir()))
        .map(|(_, names)| names)
        .unwrap_or_default()
        .into_iter()
        .filter_map(|n| n.strip_suffix(kind.suffix()).map(str::to_owned))
        .collect();
    names.sort();
    names
}

/// a2query's `switch_history`: who left the `enabled`/`disabled` marker of `name` (`maint`
/// checked first).
fn marked(tree: &dyn TreeView, state: &str, what: &str, name: &str) -> Option<&'static str> {
    let name = name.strip_suffix(".conf").unwrap_or(name);
    ["maint", "admin"]
        .into_iter()
        .find(|by| super::exists(tree, &format!("{state}/{what}_by_{by}/{name}")))
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
    if depth > MAX_DEPTH {
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
    let stale = stale_markers(overlay, &state, name);
    super::enabled_marker(overlay, &state, name, maint, umask, stale);
}

/// The files named `name` anywhere under the state directory (`find STATE -type f -name NAME`).
fn stale_markers(overlay: &Overlay<'_>, state: &str, name: &str) -> Vec<String> {
    overlay
        .paths()
        .filter(|p| p.starts_with(&format!("{state}/")) && p.rsplit('/').next() == Some(name))
        .map(str::to_owned)
        .filter(|p| super::is_file(overlay, p))
        .collect()
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
        assert!(parse("a2dismod", &words("-q --purge status")).is_err());
        assert!(parse("a2enmod", &words("-q 'auth_*'")).is_err());
    }

    /// A PHP module's postinst in the form libapache2-mod-php's takes: ask a2query whether the
    /// module is enabled (its code: 1, not found), whether apache2 is configured yet, switch the
    /// MPM to prefork (a2query -M, a2dismod, a2enmod), then enable the module — as the tools
    /// leave the links and markers.
    #[test]
    fn an_mpm_switch_and_a_module_as_the_helpers_leave_them() {
        let mut t = MemTree::new();
        t.tools(&[
            "a2enmod",
            "a2dismod",
            "a2enconf",
            "a2disconf",
            "a2ensite",
            "a2dissite",
        ]);
        t.dir("var/lib")
            .file(
                "etc/apache2/mods-available/mpm_event.load",
                b"# Conflicts: mpm_worker mpm_prefork\nLoadModule mpm_event_module x.so\n",
            )
            .file("etc/apache2/mods-available/mpm_event.conf", b"<IfModule>\n")
            .file(
                "etc/apache2/mods-available/mpm_prefork.load",
                b"# Conflicts: mpm_event mpm_worker\nLoadModule mpm_prefork_module x.so\n",
            )
            .file(
                "etc/apache2/mods-available/php8.2.load",
                b"# Conflicts: mpm_event mpm_worker\n# Depends: mpm_prefork\nLoadModule php_module x.so\n",
            )
            .file("etc/apache2/mods-available/php8.2.conf", b"<FilesMatch>\n")
            .symlink(
                "etc/apache2/mods-enabled/mpm_event.load",
                "../mods-available/mpm_event.load",
            )
            .symlink(
                "etc/apache2/mods-enabled/mpm_event.conf",
                "../mods-available/mpm_event.conf",
            )
            .file("var/lib/apache2/module/enabled_by_maint/mpm_event", b"");
        let mut apache2 = super::super::testutil::with_postinst("apache2", "#!/bin/sh\n");
        apache2.version = "2.4.62-1".into();
        let script = "#!/bin/sh\nset -e\n\
            switch_mpm() {\n  local ret=0\n  a2query -m \"mpm_$1\" > /dev/null 2>&1 || ret=$?\n  \
              case $ret in 0) return 0;; 32) return 1;; esac\n  \
              local cur=$(a2query -M) || return 1\n  a2dismod -m -q \"mpm_$cur\"\n  a2enmod -m -q \"mpm_$1\"\n}\n\
            if ! dpkg-query -f '${Status}' -W apache2 | egrep -q 'installed'; then touch /var/lib/deferred; fi\n\
            ret=0\na2query -m php8.2 > /dev/null 2>&1 || ret=$?\n\
            if [ \"$ret\" -eq 1 ] && [ \"$(a2query -M)\" = event ] && switch_mpm prefork; then\n  \
              a2enmod -m -q php8.2\nfi\n\
            if a2query -q -m php8.2; then touch /var/lib/php-on; fi\n";
        let php = super::super::testutil::with_postinst("libapache2-mod-php8.2", script);
        let (c, report) = super::super::files::compute(&t, &[apache2, php]).unwrap();
        assert!(report.is_empty(), "{report:?}");
        let mut tree = t.clone();
        tree.apply(&c);
        let enabled: Vec<&str> = tree
            .entries
            .keys()
            .filter_map(|p| p.strip_prefix("etc/apache2/mods-enabled/"))
            .collect();
        assert_eq!(enabled, ["mpm_prefork.load", "php8.2.conf", "php8.2.load"]);
        let markers: Vec<&str> = tree
            .entries
            .keys()
            .filter_map(|p| p.strip_prefix("var/lib/apache2/module/"))
            .filter(|p| p.contains("/"))
            .collect();
        assert_eq!(
            markers,
            [
                "disabled_by_maint/mpm_event",
                "enabled_by_maint/mpm_prefork",
                "enabled_by_maint/php8.2"
            ]
        );
        assert!(tree.entries.contains_key("var/lib/php-on"));
        assert!(
            !tree.entries.contains_key("var/lib/deferred"),
            "apache2 was configured before"
        );
        // a2query's codes and output.
        let q = |args: &str| query(&tree, &words(args));
        assert_eq!(
            q("-m php8.2"),
            Some((0, "php8.2 (enabled by maintainer script)\n".into()))
        );
        assert_eq!(q("-q -m php8.2"), Some((0, String::new())));
        assert_eq!(q("-m mpm_event"), Some((33, String::new())));
        assert_eq!(q("-m rewrite"), Some((1, String::new())));
        assert_eq!(q("-M"), Some((0, "prefork\n".into())));
        assert_eq!(q("-v"), None);
    }
}
