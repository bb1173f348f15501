//! `update-alternatives --install` calls in postinsts, applied as dpkg's `update-alternatives`
//! (dpkg 1.21, `utils/update-alternatives.c`) would on a fresh system.
//!
//! Each package's `postinst` is read (never run) with [`super::shell`] as `postinst configure` with
//! no old version. Every `update-alternatives --install LINK NAME PATH PRIORITY [--slave …]` reached
//! registers a choice, provided PATH exists in the tree (update-alternatives refuses a missing
//! one). Per name, auto mode picks the highest priority; among equal priorities the
//! one registered first wins (update-alternatives switches
//! an auto-mode link only to a strictly higher priority). `[system] alternatives` in the manifest
//! forces a choice (manual mode). Calls that cannot be resolved are reported, not guessed.

use std::collections::BTreeMap;

use super::shell::{self, Call};
use super::{Changes, InstalledPackage, NotEmulated, SystemError, TreeView, tree_path};
use crate::entry::EntryKind;
use crate::manifest::System;

/// One registered choice of an alternative.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Choice {
    pub path: String,
    pub priority: i64,
    /// Slave name -> slave path.
    pub slaves: BTreeMap<String, String>,
    pub package: String,
}

/// One alternative (link group) as update-alternatives keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Group {
    pub link: String,
    /// Slave name -> slave link.
    pub slaves: BTreeMap<String, String>,
    pub choices: Vec<Choice>,
}

/// A `--install` call as parsed from a script.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Install {
    pub link: String,
    pub name: String,
    pub path: String,
    pub priority: i64,
    /// (link, name, path)
    pub slaves: Vec<(String, String, String)>,
}

/// Parses one `update-alternatives` argument vector (without `argv[0]`). `Ok(None)` for actions
/// that change nothing on a fresh install (`--remove` of a choice never installed, queries).
pub fn parse_call(args: &[String]) -> Result<Option<Install>, String> {
    let mut i = 0;
    let mut install = None;
    while i < args.len() {
        match args[i].as_str() {
            "--quiet" | "--verbose" | "--debug" | "--force" | "--skip-auto" => i += 1,
            "--altdir" | "--admindir" | "--instdir" | "--root" | "--log" => i += 2,
            "--install" => {
                let [link, name, path, prio] = args
                    .get(i + 1..i + 5)
                    .ok_or("--install needs LINK NAME PATH PRIORITY")?
                else {
                    return Err("--install needs LINK NAME PATH PRIORITY".into());
                };
                let priority: i64 = prio
                    .parse()
                    .map_err(|_| format!("priority `{prio}` is not a number"))?;
                let mut inst = Install {
                    link: link.clone(),
                    name: name.clone(),
                    path: path.clone(),
                    priority,
                    slaves: Vec::new(),
                };
                i += 5;
                while args.get(i).is_some_and(|a| a == "--slave") {
                    let [l, n, p] = args.get(i + 1..i + 4).ok_or("--slave needs LINK NAME PATH")? else {
                        return Err("--slave needs LINK NAME PATH".into());
                    };
                    inst.slaves.push((l.clone(), n.clone(), p.clone()));
                    i += 4;
                }
                install = Some(inst);
            }
            // Removing on a fresh install is a no-op; listing/querying prints only.
            "--remove" | "--remove-all" | "--display" | "--query" | "--list" | "--get-selections" => {
                return Ok(None);
            }
            // A script's groups stay in auto mode (its `--set` is reported, not applied; the
            // manifest's choices are the user's, applied after every script): `--auto NAME`
            // changes nothing (bison's `[ -e /usr/bin/yacc ] || update-alternatives --auto
            // yacc`).
            "--auto" => return Ok(None),
            other => return Err(format!("update-alternatives action `{other}` is not emulated")),
        }
    }
    Ok(install)
}

/// Every `update-alternatives` call a package's postinst makes on a fresh configure, in order.
/// Unresolvable ones come back as report entries.
/// `registered` is what the packages configured before registered: `update-alternatives --query`
/// in the script answers from it and the calls the script made so far (mariadb-common's
/// `update-alternatives --query my.cnf | grep --quiet "Value: …"`).
pub fn scan_postinst(
    tree: &dyn TreeView,
    pkg: &InstalledPackage,
    packages: &[InstalledPackage],
    native_arch: &str,
    registered: &BTreeMap<String, Group>,
) -> (Vec<Install>, Vec<NotEmulated>) {
    let debconf = super::debconf::Debconf::new(packages);
    scan_postinst_with(tree, pkg, packages, native_arch, registered, &debconf)
}

/// [`scan_postinst`] with debconf's database at the templates' defaults (built once by the
/// caller; each walk gets its own copy, so one package's `db_set` is not seen by the next).
fn scan_postinst_with(
    tree: &dyn TreeView,
    pkg: &InstalledPackage,
    packages: &[InstalledPackage],
    native_arch: &str,
    registered: &BTreeMap<String, Group>,
    defaults: &super::debconf::Debconf,
) -> (Vec<Install>, Vec<NotEmulated>) {
    let installs = std::cell::RefCell::new(Vec::new());
    let mut report = Vec::new();
    let Some(text) = pkg.script_text("postinst") else {
        return (Vec::new(), report);
    };
    let text: &str = &text;
    let nodes = match shell::parse(text) {
        Ok(n) => n,
        Err(e) => {
            if text.contains("update-alternatives") {
                report.push(NotEmulated {
                    package: pkg.name.clone(),
                    script: "postinst".into(),
                    what: format!("update-alternatives calls not read: {e}"),
                });
            }
            return (Vec::new(), report);
        }
    };
    let mut cb = |c: Call<'_>| {
        let is_ua = match &c.argv {
            Ok(argv) => argv.first().is_some_and(|a| a.ends_with("update-alternatives")),
            Err(_) => c
                .text
                .split_whitespace()
                .next()
                .is_some_and(|a| a.ends_with("update-alternatives")),
        };
        if !is_ua {
            return;
        }
        let result = match &c.argv {
            Ok(argv) => parse_call(&argv[1..]),
            Err(what) => Err(format!("cannot resolve {what}")),
        };
        match result {
            Ok(Some(i)) => installs.borrow_mut().push(i),
            Ok(None) => {}
            Err(why) => report.push(NotEmulated {
                package: pkg.name.clone(),
                script: "postinst".into(),
                what: format!("{} ({why})", c.text),
            }),
        }
    };
    let files = |p: &str| super::file_kind(tree, p);
    // Libraries the script sources (postgresql-common's maintscripts-functions, which installs
    // the man-page alternatives from `dpkg -L` output) and the package set for `dpkg -L`.
    let source = |p: &str| super::source_text(tree, p);
    let listed = |argv: &[String]| match argv {
        [ua, action, name]
            if ua.ends_with("update-alternatives") && (action == "--query" || action == "--display") =>
        {
            let mut now: BTreeMap<String, Group> = registered
                .get(name)
                .map(|g| (name.clone(), g.clone()))
                .into_iter()
                .collect();
            for inst in installs.borrow().iter().filter(|i| &i.name == name) {
                register(&mut now, tree, &pkg.name, inst.clone());
            }
            // An unknown name: an error on stderr, nothing on stdout.
            let print = if action == "--query" { query } else { display };
            Some(now.get(name).map(|g| print(name, g)).unwrap_or_default())
        }
        _ => super::dpkg_listfiles(packages, argv),
    };
    // update-alternatives run by a helper script (mysql-common's configure-symlinks) counts too.
    let helpers = super::commands::follow_into;
    let globs = |pattern: &str| Some(super::glob_paths(tree, pattern));
    // debconf's answers decide branches too (sysstat's postinst exits unless `db_get
    // sysstat/enable` says true or false, before it installs `sar`).
    let debconf = defaults.clone();
    let db = |argv: &[String]| debconf.answer(argv);
    let walked = shell::Eval::new(&["configure", ""], &mut cb)
        .with_helpers(&helpers)
        .with_globs(&globs)
        .with_bash(shell::text::is_bash(text))
        .with_files(&files)
        .with_source(&source)
        .with_output(&listed)
        .with_debconf(&db)
        .with_package(&pkg.name, &pkg.architecture, "postinst", native_arch)
        .run_script(&nodes);
    // A walk cut short may have missed calls after the cut: said, not guessed.
    if let Err(why) = walked
        && text.contains("update-alternatives")
    {
        report.push(NotEmulated {
            package: pkg.name.clone(),
            script: "postinst".into(),
            what: format!(
                "update-alternatives calls after this point: {}",
                super::report::cut_short(&why)
            ),
        });
    }
    (installs.into_inner(), report)
}

/// `update-alternatives --query NAME` for a group in auto mode (dpkg's `alternative_print_query`
/// layout): the link group, its status, best choice and current value, then each choice (by
/// path, as dpkg keeps them) with its priority and slaves.
fn query(name: &str, group: &Group) -> String {
    let mut s = format!("Name: {name}\nLink: {}\n", group.link);
    if !group.slaves.is_empty() {
        s.push_str("Slaves:\n");
        for (sname, slink) in &group.slaves {
            s.push_str(&format!(" {sname} {slink}\n"));
        }
    }
    s.push_str("Status: auto\n");
    let best = select_best(&group.choices);
    if let Some(b) = best {
        s.push_str(&format!("Best: {}\n", b.path));
    }
    s.push_str(&format!("Value: {}\n", best.map_or("none", |b| b.path.as_str())));
    let mut choices: Vec<&Choice> = group.choices.iter().collect();
    choices.sort_by(|a, b| a.path.cmp(&b.path));
    for c in choices {
        s.push_str(&format!("\nAlternative: {}\nPriority: {}\n", c.path, c.priority));
        if group.slaves.is_empty() {
            continue;
        }
        s.push_str("Slaves:\n");
        for sname in group.slaves.keys() {
            if let Some(file) = c.slaves.get(sname) {
                s.push_str(&format!(" {sname} {file}\n"));
            }
        }
    }
    s
}

/// `update-alternatives --display NAME` for a group in auto mode (dpkg's `alternative_display_user`
/// layout; sysstat's `--display sar | grep -q '^/usr/bin/sar\.sysstat'`): status, best and
/// current choice, the links, then each choice with its priority and slaves.
fn display(name: &str, group: &Group) -> String {
    let mut s = format!("{name} - auto mode\n");
    let best = select_best(&group.choices);
    match best {
        Some(b) => s.push_str(&format!(
            "  link best version is {}\n  link currently points to {}\n",
            b.path, b.path
        )),
        None => s.push_str("  link best version not available\n  link currently absent\n"),
    }
    s.push_str(&format!("  link {name} is {}\n", group.link));
    for (sname, slink) in &group.slaves {
        s.push_str(&format!("  slave {sname} is {slink}\n"));
    }
    let mut choices: Vec<&Choice> = group.choices.iter().collect();
    choices.sort_by(|a, b| a.path.cmp(&b.path));
    for c in choices {
        s.push_str(&format!("{} - priority {}\n", c.path, c.priority));
        for sname in group.slaves.keys() {
            if let Some(file) = c.slaves.get(sname) {
                s.push_str(&format!("  slave {sname}: {file}\n"));
            }
        }
    }
    s
}

/// Registers every package's alternatives and writes the links and admin files.
pub fn compute(
    tree: &dyn TreeView,
    packages: &[InstalledPackage],
    system: &System,
    native_arch: &str,
) -> Result<(Changes, Vec<NotEmulated>), SystemError> {
    let mut groups: BTreeMap<String, Group> = BTreeMap::new();
    let mut report = Vec::new();
    let debconf = super::debconf::Debconf::new(packages);
    for pkg in packages {
        let (installs, r) = scan_postinst_with(tree, pkg, packages, native_arch, &groups, &debconf);
        report.extend(r);
        for inst in installs {
            let what = format!(
                "update-alternatives --install {} {} {}",
                inst.link, inst.name, inst.path
            );
            let path = inst.path.clone();
            if !register(&mut groups, tree, &pkg.name, inst) {
                // The real tool stops with an error there (and the postinst with it).
                report.push(NotEmulated {
                    package: pkg.name.clone(),
                    script: "postinst".into(),
                    what: format!("{what} ({path} does not exist: update-alternatives refuses it)"),
                });
            }
        }
    }
    for (name, path) in &system.alternatives {
        let ok = groups
            .get(name)
            .is_some_and(|g| g.choices.iter().any(|c| &c.path == path));
        if !ok {
            return Err(SystemError::Manifest(format!(
                "alternatives: `{name}` has no choice `{path}` (registered: {})",
                groups
                    .get(name)
                    .map(|g| g
                        .choices
                        .iter()
                        .map(|c| c.path.as_str())
                        .collect::<Vec<_>>()
                        .join(", "))
                    .unwrap_or_else(|| "none".into())
            )));
        }
    }
    let mut out = Changes::default();
    if groups.is_empty() {
        return Ok((out, report));
    }
    out.dir("etc/alternatives", 0o755);
    out.dir("var/lib/dpkg/alternatives", 0o755);
    for (name, group) in &groups {
        let forced = system.alternatives.get(name);
        let best = match forced {
            Some(path) => group.choices.iter().find(|c| &c.path == path),
            None => select_best(&group.choices),
        };
        out.file(
            &format!("var/lib/dpkg/alternatives/{name}"),
            0o644,
            admin_file(group, forced.is_some()).into_bytes(),
        );
        let Some(best) = best else { continue };
        link(tree, &mut out, &group.link, name, &best.path);
        for (sname, slink) in &group.slaves {
            // A slave's file may be a link another group makes (fp-compiler's `pc.1.gz` points
            // at `fpc.1.gz`, the `fpc` group's slave): it exists once that group is linked.
            match best.slaves.get(sname) {
                Some(spath) if path_exists(tree, &groups, spath) => {
                    link(tree, &mut out, slink, sname, spath);
                }
                _ => {}
            }
        }
    }
    Ok((out, report))
}

/// Auto mode's choice: the highest priority; on a tie the choice registered first stays
/// (update-alternatives only switches an auto-mode link to a strictly better choice, which the
/// real tool confirms in `matches_real_update_alternatives`).
fn select_best(choices: &[Choice]) -> Option<&Choice> {
    let mut best: Option<&Choice> = None;
    for c in choices {
        if best.is_none_or(|b| c.priority > b.priority) {
            best = Some(c);
        }
    }
    best
}

/// Adds a choice to its group; `false` when update-alternatives would refuse it: its path does
/// not exist, neither in the tree nor as a link an alternative registered before makes
/// (uwsgi-plugin-python3 installs `/usr/bin/uwsgi_python3`, a slave link of its first group,
/// as a choice of its second).
fn register(groups: &mut BTreeMap<String, Group>, tree: &dyn TreeView, package: &str, inst: Install) -> bool {
    if !path_exists(tree, groups, &inst.path) {
        return false;
    }
    let g = groups.entry(inst.name.clone()).or_default();
    g.link = inst.link.clone();
    let mut slaves = BTreeMap::new();
    for (l, n, p) in &inst.slaves {
        g.slaves.insert(n.clone(), l.clone());
        slaves.insert(n.clone(), p.clone());
    }
    let choice = Choice {
        path: inst.path.clone(),
        priority: inst.priority,
        slaves,
        package: package.to_owned(),
    };
    match g.choices.iter_mut().find(|c| c.path == inst.path) {
        Some(existing) => *existing = choice,
        None => g.choices.push(choice),
    }
    true
}

/// Whether a path exists once the groups registered so far have their links: in the tree, or
/// as a group's link (master or slave) whose current choice's file exists.
fn path_exists(tree: &dyn TreeView, groups: &BTreeMap<String, Group>, path: &str) -> bool {
    let exists = |p: &str| super::exists(tree, &tree_path(p));
    exists(path)
        || groups.values().any(|g| {
            let Some(best) = select_best(&g.choices) else {
                return false;
            };
            (g.link == path && exists(&best.path))
                || g.slaves
                    .iter()
                    .any(|(name, link)| link == path && best.slaves.get(name).is_some_and(|p| exists(p)))
        })
}

/// `/etc/alternatives/NAME -> PATH` and `LINK -> /etc/alternatives/NAME`, unless LINK is a real
/// file (update-alternatives does not replace one without `--force`).
fn link(tree: &dyn TreeView, out: &mut Changes, link: &str, name: &str, path: &str) {
    out.symlink(&format!("etc/alternatives/{name}"), path);
    let Some(at) = super::resolve_dir_of(tree, &tree_path(link)) else {
        return;
    };
    if let Some(e) = tree.entry(&at)
        && !matches!(e.kind, EntryKind::Symlink { .. })
    {
        return;
    }
    out.symlink(&at, &format!("/etc/alternatives/{name}"));
}

/// The admin file, as `alternative_save` writes it: status, link, slaves sorted by name, a blank
/// line, each choice (sorted by path) with its priority and one line per slave, a blank line.
pub fn admin_file(group: &Group, manual: bool) -> String {
    let mut s = String::new();
    s.push_str(if manual { "manual\n" } else { "auto\n" });
    s.push_str(&group.link);
    s.push('\n');
    for (name, link) in &group.slaves {
        s.push_str(&format!("{name}\n{link}\n"));
    }
    s.push('\n');
    let mut choices: Vec<&Choice> = group.choices.iter().collect();
    choices.sort_by(|a, b| a.path.cmp(&b.path));
    for c in choices {
        s.push_str(&format!("{}\n{}\n", c.path, c.priority));
        for name in group.slaves.keys() {
            s.push_str(c.slaves.get(name).map(String::as_str).unwrap_or(""));
            s.push('\n');
        }
    }
    s.push('\n');
    s
}

#[cfg(test)]
mod tests;

#[cfg(test)]
mod host_probe {
    /// Manual probe: every host postinst's update-alternatives calls, as read.
    #[test]
    #[ignore]
    fn print_host_alternatives() {
        for e in std::fs::read_dir("/var/lib/dpkg/info").unwrap().flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            let Some(p) = name.strip_suffix(".postinst") else {
                continue;
            };
            let mut pkg = super::InstalledPackage {
                name: p.into(),
                ..Default::default()
            };
            pkg.members
                .insert("postinst".into(), std::fs::read(e.path()).unwrap());
            let (installs, report) = super::scan_postinst(
                &super::super::testutil::MemTree::new(),
                &pkg,
                &[],
                "amd64",
                &std::collections::BTreeMap::new(),
            );
            for i in installs {
                println!(
                    "OK\t{p}\t{} {} {} {} +{}",
                    i.link,
                    i.name,
                    i.path,
                    i.priority,
                    i.slaves.len()
                );
            }
            for r in report {
                println!("NO\t{p}\t{}", r.what);
            }
        }
    }
}
