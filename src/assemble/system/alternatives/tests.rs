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
    // `jjs` is in the list but not in the tree: update-alternatives refuses it (reported).
    assert_eq!(report.len(), 1, "{report:?}");
    assert!(report[0].what.contains("bin/jjs does not exist"), "{report:?}");
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

/// bison's postinst: `--install`, then `--auto` where the link is not there. A script's groups
/// stay in auto mode, so `--auto` changes nothing and is not reported; the install is
/// registered.
#[test]
fn auto_mode_asked_for_changes_nothing() {
    let p = pkg(
        "bison",
        "#!/bin/sh\nset -e\nupdate-alternatives --install /usr/bin/yacc yacc /usr/bin/bison.yacc 100 \\\n\
         \t--slave /usr/share/man/man1/yacc.1.gz yaccman /usr/share/man/man1/bison.yacc.1.gz\n\
         [ -e /usr/bin/yacc ] || update-alternatives --auto yacc\n",
    );
    let (installs, report) = scan_postinst(&MemTree::new(), &p, &[], "amd64", &BTreeMap::new());
    assert!(report.is_empty(), "{report:?}");
    assert_eq!(installs.len(), 1, "{installs:?}");
    assert_eq!((installs[0].name.as_str(), installs[0].priority), ("yacc", 100));
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
        let o = std::process::Command::new("update-alternatives")
            .arg("--root")
            .arg(root)
            .args(["--display", name])
            .env("LC_ALL", "C")
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        assert_eq!(
            display(name, group),
            String::from_utf8_lossy(&o.stdout),
            "--display {name}"
        );
    }
}

/// sysstat's guard: `update-alternatives --display sar | grep -q '^/usr/bin/sar\.sysstat'`
/// prints nothing for a name not registered yet, so the install runs.
#[test]
fn a_display_piped_into_grep_decides_the_condition() {
    let mut t = MemTree::new();
    t.file("usr/bin/sar.sysstat", b"x")
        .file("usr/share/man/man1/sar.sysstat.1.gz", b"x")
        .file(
            "usr/share/debconf/confmodule",
            b"db_get () { _db_cmd \"GET $@\"; }\n",
        );
    // Before it, a guard on an answer debconf gives (the template's default), or the script
    // exits.
    let mut p = pkg(
        "sysstat",
        "#!/bin/sh\nset -e\n. /usr/share/debconf/confmodule\nif [ \"$1\" = configure ]; then\n\
         db_get sysstat/enable || true\nENABLED=\"$RET\"\n\
         if [ \"$ENABLED\" != \"true\" ] && [ \"$ENABLED\" != \"false\" ] ; then exit 1; fi\n\
         if ! update-alternatives --display sar 2>/dev/null | grep -q '^/usr/bin/sar\\.sysstat'; then\n\
         update-alternatives --install /usr/bin/sar sar /usr/bin/sar.sysstat 0 \\\n\
         --slave /usr/share/man/man1/sar.1.gz sar.1.gz /usr/share/man/man1/sar.sysstat.1.gz\nfi\nfi\n",
    );
    p.members.insert(
        "templates".into(),
        b"Template: sysstat/enable\nType: boolean\nDefault: false\nDescription: x\n".to_vec(),
    );
    let scan = |p: &InstalledPackage, before: &BTreeMap<String, Group>| {
        scan_postinst(&t, p, std::slice::from_ref(p), "amd64", before)
    };
    let (installs, report) = scan(&p, &BTreeMap::new());
    assert!(report.is_empty(), "{report:?}");
    assert_eq!(installs.len(), 1, "{installs:?}");
    // Registered already: the guard holds and nothing is installed again.
    let mut before = BTreeMap::new();
    register(&mut before, &t, "sysstat", installs[0].clone());
    let (again, _) = scan(&p, &before);
    assert!(again.is_empty(), "{again:?}");
    // Without the template the answer is not known: the walk stops at the exit (the files
    // walk, which takes the same branches, lists what follows it in the report).
    p.members.remove("templates");
    let (none, _) = scan(&p, &BTreeMap::new());
    assert!(none.is_empty(), "{none:?}");
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

/// A choice whose path is a link another group made (uwsgi-plugin-python3: its plugin group's
/// slave `/usr/bin/uwsgi_python3` is then a choice of `uwsgi`); a path that exists nowhere is
/// refused as update-alternatives refuses it, and reported.
#[test]
fn a_choice_may_be_a_link_an_earlier_group_made() {
    let script = "#!/bin/sh\nset -e\n\
        update-alternatives --install /usr/lib/p/plugin.so plugin /usr/lib/p/py311.so 75 \
          --slave /usr/bin/app_py app_py /usr/bin/app-core\n\
        update-alternatives --install /usr/bin/app app /usr/bin/app_py 35\n\
        update-alternatives --install /usr/bin/gone gone /usr/bin/missing 10\n";
    let mut t = MemTree::new();
    t.file("usr/lib/p/py311.so", b"x")
        .file("usr/bin/app-core", b"x")
        .dir("etc/alternatives");
    let (changes, report) = compute(&t, &[pkg("app-py", script)], &System::default(), "amd64").unwrap();
    let admin = |name: &str| {
        changes
            .files
            .iter()
            .find(|(e, _)| e.path == format!("var/lib/dpkg/alternatives/{name}"))
            .map(|(_, b)| String::from_utf8_lossy(b).into_owned())
    };
    assert_eq!(
        admin("app").as_deref(),
        Some("auto\n/usr/bin/app\n\n/usr/bin/app_py\n35\n\n")
    );
    assert!(admin("gone").is_none());
    assert_eq!(report.len(), 1, "{report:?}");
    assert!(
        report[0].what.contains("/usr/bin/missing does not exist"),
        "{report:?}"
    );
}

/// fp-compiler's postinst: `pc`'s slave `pc.1.gz` points at `fpc.1.gz`, which is the slave link
/// of the `fpc` group registered just before; update-alternatives makes it, since that link
/// leads to a file. A slave whose file is nowhere stays unlinked.
#[test]
fn a_slave_may_point_at_a_link_an_earlier_group_made() {
    let script = "#!/bin/sh\nset -e\n\
        update-alternatives --install /usr/bin/fpc fpc /usr/bin/fpc-3.2 30 \
          --slave /usr/share/man/man1/fpc.1.gz fpc.1.gz /usr/share/man/man1/fpc-3.2.1.gz\n\
        update-alternatives --install /usr/bin/pc pc /usr/bin/fpc 20 \
          --slave /usr/share/man/man1/pc.1.gz pc.1.gz /usr/share/man/man1/fpc.1.gz \
          --slave /usr/share/man/man1/px.1.gz px.1.gz /usr/share/man/man1/none.1.gz\n";
    let mut t = MemTree::new();
    t.file("usr/bin/fpc-3.2", b"x")
        .file("usr/share/man/man1/fpc-3.2.1.gz", b"x")
        .dir("etc/alternatives");
    let (changes, report) = compute(&t, &[pkg("fp-compiler", script)], &System::default(), "amd64").unwrap();
    assert!(report.is_empty(), "{report:?}");
    let target = |path: &str| super::super::testutil::symlink_target(&changes, path);
    assert_eq!(
        target("usr/share/man/man1/pc.1.gz").as_deref(),
        Some("/etc/alternatives/pc.1.gz")
    );
    assert_eq!(
        target("etc/alternatives/pc.1.gz").as_deref(),
        Some("/usr/share/man/man1/fpc.1.gz")
    );
    assert_eq!(target("usr/share/man/man1/px.1.gz"), None);
}
