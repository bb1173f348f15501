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
    let installs = std::cell::RefCell::new(Vec::new());
    let mut report = Vec::new();
    let Some(text) = pkg.member_text("postinst") else {
        return (Vec::new(), report);
    };
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
    let source = |p: &str| {
        super::read_file(tree, &super::tree_path(p))
            .ok()
            .flatten()
            .map(|b| String::from_utf8_lossy(&b).into_owned())
    };
    let listed = |argv: &[String]| match argv {
        [ua, action, name] if ua.ends_with("update-alternatives") && action == "--query" => {
            let mut now: BTreeMap<String, Group> = registered
                .get(name)
                .map(|g| (name.clone(), g.clone()))
                .into_iter()
                .collect();
            for inst in installs.borrow().iter().filter(|i| &i.name == name) {
                register(&mut now, tree, &pkg.name, inst.clone());
            }
            // An unknown name: an error on stderr, nothing on stdout.
            Some(now.get(name).map(|g| query(name, g)).unwrap_or_default())
        }
        _ => super::dpkg_listfiles(packages, argv),
    };
    // update-alternatives run by a helper script (mysql-common's configure-symlinks) counts too.
    let helpers = super::commands::follow_into;
    let globs = |pattern: &str| Some(super::glob_paths(tree, pattern));
    shell::Eval::new(&["configure", ""], &mut cb)
        .with_helpers(&helpers)
        .with_globs(&globs)
        .with_bash(shell::text::is_bash(text))
        .with_files(&files)
        .with_source(&source)
        .with_output(&listed)
        .with_package(&pkg.name, &pkg.architecture, "postinst", native_arch)
        .run(&nodes);
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

/// Registers every package's alternatives and writes the links and admin files.
pub fn compute(
    tree: &dyn TreeView,
    packages: &[InstalledPackage],
    system: &System,
    native_arch: &str,
) -> Result<(Changes, Vec<NotEmulated>), SystemError> {
    let mut groups: BTreeMap<String, Group> = BTreeMap::new();
    let mut report = Vec::new();
    for pkg in packages {
        let (installs, r) = scan_postinst(tree, pkg, packages, native_arch, &groups);
        report.extend(r);
        for inst in installs {
            register(&mut groups, tree, &pkg.name, inst);
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
            match best.slaves.get(sname) {
                Some(spath) if super::exists(tree, &tree_path(spath)) => {
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

fn register(groups: &mut BTreeMap<String, Group>, tree: &dyn TreeView, package: &str, inst: Install) {
    // update-alternatives refuses a choice whose path does not exist.
    if !super::exists(tree, &tree_path(&inst.path)) {
        return;
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
mod tests {
    use super::super::testutil::{MemTree, have};
    use super::*;

    pub const MAWK: &str = r#"#!/bin/sh
set -e
# Automatically added by dh_installalternatives/13.7.1
if [ "$1" = "configure" ] || [ "$1" = "abort-upgrade" ] || [ "$1" = "abort-deconfigure" ] || [ "$1" = "abort-remove" ]; then
        update-alternatives --install /usr/bin/awk awk /usr/bin/mawk 5 \
            --slave /usr/share/man/man1/awk.1.gz awk.1.gz /usr/share/man/man1/mawk.1.gz \
            --slave /usr/bin/nawk nawk /usr/bin/mawk \
            --slave /usr/share/man/man1/nawk.1.gz nawk.1.gz /usr/share/man/man1/mawk.1.gz
fi
# End automatically added section
"#;

    const LESS: &str = r#"#!/bin/sh
set -e
case "$1" in
  configure)
    update-alternatives --quiet --install /usr/bin/pager pager \
      /usr/bin/less 77 --slave /usr/share/man/man1/pager.1.gz \
      pager.1.gz /usr/share/man/man1/less.1.gz
  ;;
  abort-upgrade|abort-remove|abort-deconfigure)
  ;;
  *)
    echo "postinst called with unknown argument \`$1'" >&2
    exit 0
  ;;
esac
exit 0
"#;

    const XZ: &str = r#"#!/bin/sh
set -e
slave () {
	dir=$1 filename=$2 target=$3
	echo "--slave $dir/$filename $filename $dir/$target"
}
update-alternatives --install /usr/bin/lzma lzma /usr/bin/xz 20 $(
	slave /usr/share/man/man1 lzma.1.gz xz.1.gz
	slave /usr/bin unlzma unxz
	for util in cat more
	do
		slave /usr/bin lz$util xz$util
	done
)
"#;

    /// The shape of openjdk's postinst: a list of tools in a variable, a loop, `$basedir`.
    const JDK: &str = r#"#!/bin/sh
set -e
multiarch=x86_64-linux-gnu
priority=1711
basedir=/usr/lib/jvm/java-17-openjdk-amd64
mandir=$basedir/man
jre_tools='java jjs keytool'
case "$1" in
configure)
    for i in $jre_tools; do
        unset slave1 slave2 || true
        if [ -e $mandir/man1/$i.1.gz ]; then
            slave1="--slave /usr/share/man/man1/$i.1.gz $i.1.gz $mandir/man1/$i.1.gz"
        fi
        update-alternatives \
          --install \
          /usr/bin/$i \
          $i \
          $basedir/bin/$i \
          $priority \
          $slave1
    done
esac
"#;

    const DEBIANUTILS: &str = r#"#! /bin/sh -e
ua() {
	update-alternatives --install /usr/bin/which which /usr/bin/which.debianutils 0 \
		--slave /usr/share/man/man1/which.1.gz which.1.gz /usr/share/man/man1/which.debianutils.1.gz
}
case "$1" in
    (configure)
	update-shells
	ua
    ;;
    (abort-upgrade|abort-remove|abort-deconfigure)
	ua
    ;;
esac
"#;

    use super::super::testutil::with_postinst as pkg;

    fn tree() -> MemTree {
        let mut t = MemTree::new();
        for f in [
            "usr/bin/mawk",
            "usr/bin/gawk",
            "usr/bin/zawk",
            "usr/share/man/man1/mawk.1.gz",
            "usr/bin/less",
            "usr/share/man/man1/less.1.gz",
            "usr/bin/xz",
            "usr/bin/unxz",
            "usr/bin/xzcat",
            "usr/bin/xzmore",
            "usr/share/man/man1/xz.1.gz",
            "usr/lib/jvm/java-17-openjdk-amd64/bin/java",
            "usr/lib/jvm/java-17-openjdk-amd64/bin/keytool",
            "usr/lib/jvm/java-17-openjdk-amd64/man/man1/java.1.gz",
            "usr/bin/which.debianutils",
            "usr/share/man/man1/which.debianutils.1.gz",
        ] {
            t.file(f, b"x");
        }
        t.dir("etc/alternatives");
        t
    }

    #[test]
    fn real_world_forms() {
        let pkgs = vec![
            pkg("mawk", MAWK),
            pkg("less", LESS),
            pkg("xz-utils", XZ),
            pkg("openjdk-17-jre-headless", JDK),
            pkg("debianutils", DEBIANUTILS),
        ];
        let t = tree();
        let (out, report) = compute(&t, &pkgs, &System::default(), "amd64").unwrap();
        assert!(report.is_empty(), "{report:?}");
        let mut m = MemTree::new();
        m.apply(&out);
        let link = |p: &str| match &m.entries[p].0.kind {
            EntryKind::Symlink { target } => target.clone(),
            k => panic!("{p}: {k:?}"),
        };
        assert_eq!(link("usr/bin/awk"), "/etc/alternatives/awk");
        assert_eq!(link("etc/alternatives/awk"), "/usr/bin/mawk");
        assert_eq!(link("etc/alternatives/nawk"), "/usr/bin/mawk");
        assert_eq!(link("etc/alternatives/pager"), "/usr/bin/less");
        assert_eq!(link("etc/alternatives/lzcat"), "/usr/bin/xzcat");
        assert_eq!(
            link("etc/alternatives/java"),
            "/usr/lib/jvm/java-17-openjdk-amd64/bin/java"
        );
        assert_eq!(
            link("etc/alternatives/java.1.gz"),
            "/usr/lib/jvm/java-17-openjdk-amd64/man/man1/java.1.gz"
        );
        assert_eq!(link("etc/alternatives/which"), "/usr/bin/which.debianutils");
        // jjs is not in the tree: update-alternatives would refuse it.
        assert!(!m.entries.contains_key("var/lib/dpkg/alternatives/jjs"));
        // keytool has no man page in the tree: no slave.
        assert!(!m.entries.contains_key("etc/alternatives/keytool.1.gz"));
        assert_eq!(
            m.text("var/lib/dpkg/alternatives/pager"),
            "auto\n/usr/bin/pager\npager.1.gz\n/usr/share/man/man1/pager.1.gz\n\n/usr/bin/less\n77\n/usr/share/man/man1/less.1.gz\n\n"
        );
    }

    #[test]
    fn priorities_ties_and_forcing() {
        let gawk = MAWK.replace("mawk", "gawk").replace(" 5 ", " 10 ");
        let pkgs = vec![pkg("mawk", MAWK), pkg("gawk", &gawk)];
        let t = tree();
        let (out, _) = compute(&t, &pkgs, &System::default(), "amd64").unwrap();
        let mut m = MemTree::new();
        m.apply(&out);
        assert_eq!(
            m.entries["etc/alternatives/awk"].0.kind,
            EntryKind::Symlink {
                target: "/usr/bin/gawk".into()
            }
        );
        let mut sys = System::default();
        sys.alternatives.insert("awk".into(), "/usr/bin/mawk".into());
        let (out, _) = compute(&t, &pkgs, &sys, "amd64").unwrap();
        let mut m = MemTree::new();
        m.apply(&out);
        assert_eq!(
            m.entries["etc/alternatives/awk"].0.kind,
            EntryKind::Symlink {
                target: "/usr/bin/mawk".into()
            }
        );
        assert!(m.text("var/lib/dpkg/alternatives/awk").starts_with("manual\n"));
        sys.alternatives.insert("awk".into(), "/usr/bin/nope".into());
        assert!(
            compute(&t, &pkgs, &sys, "amd64")
                .unwrap_err()
                .to_string()
                .contains("/usr/bin/nope")
        );
    }

    #[test]
    fn unresolvable_calls_are_reported() {
        let p = pkg(
            "weird",
            "#!/bin/sh\nupdate-alternatives --install /usr/bin/x x /usr/lib/$(uname -m)/x 10\nupdate-alternatives --set x /usr/bin/y\n",
        );
        let (installs, report) = scan_postinst(&MemTree::new(), &p, &[], "amd64", &BTreeMap::new());
        assert!(installs.is_empty());
        assert_eq!(report.len(), 2, "{report:?}");
        assert!(
            report[0]
                .what
                .starts_with("update-alternatives --install /usr/bin/x")
        );
    }

    /// Slaves computed by a sourced library from the package's own file list (`dpkg -L` piped
    /// through `grep`, paths rewritten with `sed` and `basename` in a loop), the way database
    /// servers register their man pages; the version comes from `${PKG##*-}`.
    #[test]
    fn alternatives_built_from_the_package_file_list() {
        let lib = "link_pages() {\n  PAGES=$(dpkg -L $3 $4 2>/dev/null | grep -E '/man/.*\\.[1-9](\\.gz)?$' | grep -v \"$2\") || true\n                   [ -n \"$PAGES\" ] || return 0\n                   EXTRA=$(for i in $PAGES; do T=$(echo $i | sed \"s/dbsrv\\/$1\\///\"); echo -n \" --slave $T $(basename $i) $i\"; done)\n                   sect=$(echo \"$2\" | sed -e 's/.*\\.\\(.*\\)\\..*/man\\1/')\n                   prio=$(echo \"$1\" | tr -cd 0-9)\n                   update-alternatives --install /usr/share/man/$sect/$2 $2 /usr/share/dbsrv/$1/man/$sect/$2 $prio $EXTRA\n}\n";
        let postinst = "#!/bin/sh\nset -e\nV=${DPKG_MAINTSCRIPT_PACKAGE##*-}\n. /usr/share/dbsrv-common/functions\n                        link_pages \"$V\" main.1.gz \"dbsrv-$V\" \"dbsrv-extra-$V\"\n";
        let mut t = MemTree::new();
        t.file("usr/share/dbsrv-common/functions", lib.as_bytes());
        let mut p = pkg("dbsrv-16", postinst);
        p.files = [
            "usr/share/dbsrv/16/man/man1/main.1.gz",
            "usr/share/dbsrv/16/man/man1/tool.1.gz",
            "usr/share/dbsrv/16/man/man7/SELECT.7.gz",
            "usr/share/dbsrv/16/man/README",
            "usr/lib/dbsrv/16/bin/main",
        ]
        .map(str::to_owned)
        .to_vec();
        let (installs, report) = scan_postinst(&t, &p, std::slice::from_ref(&p), "amd64", &BTreeMap::new());
        assert!(report.is_empty(), "{report:?}");
        let slave = |link: &str, name: &str, path: &str| (link.to_owned(), name.to_owned(), path.to_owned());
        assert_eq!(
            installs,
            [Install {
                link: "/usr/share/man/man1/main.1.gz".into(),
                name: "main.1.gz".into(),
                path: "/usr/share/dbsrv/16/man/man1/main.1.gz".into(),
                priority: 16,
                slaves: vec![
                    slave(
                        "/usr/share/man/man1/tool.1.gz",
                        "tool.1.gz",
                        "/usr/share/dbsrv/16/man/man1/tool.1.gz"
                    ),
                    slave(
                        "/usr/share/man/man7/SELECT.7.gz",
                        "SELECT.7.gz",
                        "/usr/share/dbsrv/16/man/man7/SELECT.7.gz"
                    ),
                ],
            }]
        );
    }

    /// The real update-alternatives, run on a materialised copy of the tree with the same calls,
    /// writes the same admin files and links.
    #[test]
    fn matches_real_update_alternatives() {
        if !have("update-alternatives") {
            eprintln!("note: update-alternatives not installed, skipping");
            return;
        }
        let gawk = MAWK.replace("mawk", "gawk").replace(" 5 ", " 10 ");
        // Same priority as gawk, registered first, path sorting after it: the tie-break.
        let zawk = MAWK.replace("mawk", "zawk").replace(" 5 ", " 10 ");
        let pkgs = vec![
            pkg("mawk", MAWK),
            pkg("zawk", &zawk),
            pkg("gawk", &gawk),
            pkg("less", LESS),
            pkg("xz-utils", XZ),
        ];
        let t = tree();
        let (out, _) = compute(&t, &pkgs, &System::default(), "amd64").unwrap();
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        t.materialise(root);
        std::fs::create_dir_all(root.join("var/lib/dpkg/alternatives")).unwrap();
        for p in &pkgs {
            for inst in scan_postinst(&t, p, &[], "amd64", &BTreeMap::new()).0 {
                let mut cmd = std::process::Command::new("update-alternatives");
                cmd.arg("--root")
                    .arg(root)
                    .args(["--log", "/dev/null"])
                    .arg("--quiet")
                    .args([
                        "--install",
                        &inst.link,
                        &inst.name,
                        &inst.path,
                        &inst.priority.to_string(),
                    ]);
                for (l, n, p) in &inst.slaves {
                    cmd.args(["--slave", l, n, p]);
                }
                let o = cmd.output().unwrap();
                assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
            }
        }
        let mut compared = 0;
        for (e, content) in &out.files {
            let real = root.join(&e.path);
            match &e.kind {
                EntryKind::File { .. } => {
                    assert_eq!(
                        String::from_utf8_lossy(&std::fs::read(&real).unwrap()),
                        String::from_utf8_lossy(content),
                        "{}",
                        e.path
                    );
                    compared += 1;
                }
                EntryKind::Symlink { target } => {
                    let real_target = std::fs::read_link(&real).unwrap();
                    // With --root the tool writes links into the root, targets as seen from inside.
                    assert_eq!(real_target.to_string_lossy(), *target, "{}", e.path);
                    compared += 1;
                }
                _ => {}
            }
        }
        assert!(compared > 10);
        // And what `--query` prints for each group.
        let mut groups = BTreeMap::new();
        for p in &pkgs {
            for inst in scan_postinst(&t, p, &[], "amd64", &BTreeMap::new()).0 {
                register(&mut groups, &t, &p.name, inst);
            }
        }
        assert!(
            groups.values().any(|g| !g.slaves.is_empty()),
            "a group with slaves is compared"
        );
        for (name, group) in &groups {
            let o = std::process::Command::new("update-alternatives")
                .arg("--root")
                .arg(root)
                .args(["--query", name])
                .output()
                .unwrap();
            assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
            assert_eq!(
                query(name, group),
                String::from_utf8_lossy(&o.stdout),
                "--query {name}"
            );
        }
    }
    /// mysql-common's helper, run from mariadb-common's postinst, registers the alternative: the
    /// helper script is followed.
    #[test]
    fn update_alternatives_inside_a_helper_script() {
        let mut t = MemTree::new();
        t.file(
            "usr/share/mysql-common/configure-symlinks",
            b"#!/bin/sh\nset -e\ncase \"$1\" in\n  install)\n    update-alternatives --install /etc/mysql/my.cnf my.cnf \"$3\" 200\n  ;;\nesac\n",
        )
        .file("etc/mysql/mariadb.cnf", b"[mysqld]\n");
        if let Some((e, _)) = t.entries.get_mut("usr/share/mysql-common/configure-symlinks") {
            e.mode = 0o755;
        }
        let p = pkg(
            "mariadb-common",
            "#!/bin/sh\nset -e\n/usr/share/mysql-common/configure-symlinks install mariadb \"/etc/mysql/mariadb.cnf\"\n",
        );
        let (installs, report) = scan_postinst(&t, &p, &[], "amd64", &BTreeMap::new());
        assert!(report.is_empty(), "{report:?}");
        assert_eq!(
            installs,
            [Install {
                link: "/etc/mysql/my.cnf".into(),
                name: "my.cnf".into(),
                path: "/etc/mysql/mariadb.cnf".into(),
                priority: 200,
                slaves: vec![],
            }]
        );
    }

    /// mariadb-common's check after the helper: `update-alternatives --query my.cnf | grep
    /// --quiet "Value: …"` answered from the calls made so far and the groups of the packages
    /// configured before; the re-registration at 500 runs only when another choice is current.
    #[test]
    fn a_query_piped_into_grep_decides_the_condition() {
        let mut t = MemTree::new();
        t.file(
            "usr/share/mysql-common/configure-symlinks",
            b"#!/bin/sh\nset -e\nupdate-alternatives --install /etc/mysql/my.cnf my.cnf \"$3\" 200\n",
        )
        .file("etc/mysql/mariadb.cnf", b"[mysqld]\n")
        .file("etc/mysql/other.cnf", b"[mysqld]\n");
        if let Some((e, _)) = t.entries.get_mut("usr/share/mysql-common/configure-symlinks") {
            e.mode = 0o755;
        }
        let p = pkg(
            "mariadb-common",
            "#!/bin/sh\nset -e\n/usr/share/mysql-common/configure-symlinks install mariadb \"/etc/mysql/mariadb.cnf\"\n\
             if ! update-alternatives --query my.cnf | grep --quiet \"Value: /etc/mysql/mariadb.cnf\"\nthen\n  \
             update-alternatives --install /etc/mysql/my.cnf my.cnf \"/etc/mysql/mariadb.cnf\" 500 || true\nfi\n",
        );
        let priorities = |registered: &BTreeMap<String, Group>| {
            let (installs, report) = scan_postinst(&t, &p, &[], "amd64", registered);
            assert!(report.is_empty(), "{report:?}");
            installs.iter().map(|i| i.priority).collect::<Vec<_>>()
        };
        assert_eq!(priorities(&BTreeMap::new()), [200]);
        let mut before = BTreeMap::new();
        let other = Install {
            link: "/etc/mysql/my.cnf".into(),
            name: "my.cnf".into(),
            path: "/etc/mysql/other.cnf".into(),
            priority: 300,
            slaves: vec![],
        };
        register(&mut before, &t, "other", other);
        assert_eq!(priorities(&before), [200, 500]);
    }
}

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
