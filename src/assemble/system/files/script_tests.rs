//! Diversions as scripts query and make them, and paths as scripts name them (patterns,
//! bundled options, `/dev/null`, modes): the file commands' behaviour the unseen package sets of
//! issue #14 showed.

use super::super::testutil::MemTree;
use super::super::testutil::with_postinst as pkg;
use super::tests::file;
use super::*;

/// `dpkg-divert --list` answers from the diversions made so far: a file is removed only when
/// the diversion the script looks for exists.
#[test]
fn dpkg_divert_list_answers_from_the_diversions_made() {
    let mut t = MemTree::new();
    t.file("usr/bin/tool", b"x")
        .file("bin/sh", b"x")
        .dir("var/lib/dpkg");
    let script = "#!/bin/sh\nset -e\nif [ -n \"`dpkg-divert --list /usr/bin/tool.old`\" ]; then rm -f /usr/bin/tool; fi\n\
                  dpkg-divert --package dash --divert /bin/sh.distrib --add /bin/sh\n\
                  if [ -n \"$(dpkg-divert --list '/bin/sh*')\" ]; then touch /etc-sh-diverted; fi\n";
    let (changes, report) = compute(&t, &[pkg("tools", script)]).unwrap();
    assert!(report.is_empty(), "{report:?}");
    assert!(
        changes.removed.iter().all(|p| p != "usr/bin/tool"),
        "{:?}",
        changes.removed
    );
    assert!(file(&changes, "etc-sh-diverted").is_some());
}

/// `$(dpkg-divert --truename FILE)` (iputils-ping's postinst) names the file's diverted name when
/// it is diverted, else the file itself; without setcap the binary is made set-user-id.
#[test]
fn dpkg_divert_truename_names_the_diverted_file() {
    let mut t = MemTree::new();
    // Another package's /bin/tool, unpacked under the name the diversion gives it.
    t.file("bin/ping", b"x")
        .file("bin/tool.real", b"x")
        .dir("etc")
        .dir("var/lib/dpkg");
    let script = "#!/bin/sh\nset -e\nP=$(dpkg-divert --truename /bin/ping)\nchmod u+s $P\n\
                  T=$(dpkg-divert --truename /bin/tool)\nchmod 4755 $T\n\
                  [ \"$(dpkg-divert --listpackage /bin/tool)\" = local-tools ] && touch /etc/tool-diverted\n\
                  [ -z \"$(dpkg-divert --listpackage /bin/ping)\" ] && touch /etc/ping-not-diverted\n";
    let mut tools = pkg("local-tools", script);
    tools.members.insert(
        "preinst".into(),
        b"#!/bin/sh\nset -e\ndpkg-divert --package local-tools --divert /bin/tool.real --add /bin/tool\n"
            .to_vec(),
    );
    let (changes, report) = compute(&t, &[tools]).unwrap();
    assert!(report.is_empty(), "{report:?}");
    assert_eq!(file(&changes, "bin/ping").map(|(e, _)| e.mode), Some(0o4644));
    assert_eq!(file(&changes, "bin/tool.real").map(|(e, _)| e.mode), Some(0o4755));
    assert!(file(&changes, "etc/tool-diverted").is_some());
    assert!(file(&changes, "etc/ping-not-diverted").is_some());
}

/// The Essential set is installed (preinst, then postinst) before every other package's
/// preinst, as debootstrap and mmdebstrap install it (pg-common's preinst sees dash's diversion);
/// dpkg-divert writes its database in the order of its file-name hash table.
#[test]
fn the_essential_set_is_configured_before_other_packages_unpack() {
    let mut t = MemTree::new();
    t.file("bin/sh", b"x")
        .file("usr/bin/pgc", b"x")
        .dir("var/lib/dpkg");
    let mut dash = pkg(
        "dash",
        "#!/bin/sh\nset -e\ndpkg-divert --package dash --divert /bin/sh.distrib --add /bin/sh\n",
    );
    dash.control_fields = vec![("Essential".into(), "yes".into())];
    dash.round = Round::Essential;
    let mut pg = pkg("pg-common", "#!/bin/sh\n");
    pg.members.insert(
        "preinst".into(),
        b"#!/bin/sh\nset -e\ndpkg-divert --package pg-common --divert /usr/bin/pgc.dev --add /usr/bin/pgc\n\
          if [ -n \"$(dpkg-divert --list /bin/sh)\" ]; then touch /usr/bin/sh-was-diverted; fi\n"
            .to_vec(),
    );
    // Listed first, pg-common still unpacks after the Essential set's round.
    let (changes, report) = compute(&t, &[pg, dash]).unwrap();
    assert!(report.is_empty(), "{report:?}");
    assert_eq!(
        file(&changes, "var/lib/dpkg/diversions").map(|f| String::from_utf8_lossy(&f.1).into_owned()),
        Some("/usr/bin/pgc\n/usr/bin/pgc.dev\npg-common\n/bin/sh\n/bin/sh.distrib\ndash\n".into())
    );
    assert!(
        file(&changes, "usr/bin/sh-was-diverted").is_some(),
        "dash's preinst ran first"
    );
}

/// A package's preinst runs after the round apt configures early (its `Pre-Depends` targets):
/// mariadb-server's preinst creates its user with passwd already configured.
#[test]
fn pre_depends_targets_are_configured_before_the_rest_unpacks() {
    let mut t = MemTree::new();
    t.dir("etc").dir("var/lib");
    let mut tool = pkg("tool", "#!/bin/sh\nset -e\ntouch /etc/tool-configured\n");
    tool.round = Round::Early;
    let mut server = pkg("server", "#!/bin/sh\n");
    server.members.insert(
        "preinst".into(),
        b"#!/bin/sh\nset -e\nif [ -e /etc/tool-configured ]; then touch /var/lib/saw-tool; fi\n".to_vec(),
    );
    let mut late = pkg("late", "#!/bin/sh\nset -e\ntouch /etc/late-configured\n");
    late.members.insert(
        "preinst".into(),
        b"#!/bin/sh\nset -e\nif [ -e /etc/late-configured ]; then touch /var/lib/saw-late; fi\n".to_vec(),
    );
    let (changes, report) = compute(&t, &[tool, late, server]).unwrap();
    assert!(report.is_empty(), "{report:?}");
    assert!(
        file(&changes, "var/lib/saw-tool").is_some(),
        "the early round was configured first"
    );
    // Within a round every preinst runs before any postinst.
    assert!(file(&changes, "var/lib/saw-late").is_none());
    assert!(file(&changes, "etc/late-configured").is_some());
}

/// vim-runtime's two diversions and dash's, in the order bookworm's dpkg-divert left them on a
/// system mmdebstrap installed (its hash table's, not the order they were made in).
#[test]
fn diversions_are_written_in_dpkgs_hash_table_order() {
    let mut t = MemTree::new();
    t.file("bin/sh", b"x")
        .dir("usr/share/vim/vim90/doc")
        .dir("var/lib/dpkg");
    let mut dash = pkg("dash", "#!/bin/sh\n");
    dash.members.insert(
        "preinst".into(),
        b"#!/bin/sh\nset -e\ndpkg-divert --package dash --divert /bin/sh.distrib --add /bin/sh\n\
          dpkg-divert --package dash --divert /usr/share/man/man1/sh.distrib.1.gz --add /usr/share/man/man1/sh.1.gz\n"
            .to_vec(),
    );
    dash.control_fields = vec![("Essential".into(), "yes".into())];
    dash.round = Round::Essential;
    let mut vim = pkg("vim-runtime", "#!/bin/sh\n");
    vim.members.insert(
        "preinst".into(),
        b"#!/bin/sh\nset -e\nfor f in help.txt tags; do\n\
          dpkg-divert --package vim-runtime --rename --add /usr/share/vim/vim90/doc/$f --divert /usr/share/vim/vim90/doc/$f.vim-tiny\ndone\n"
            .to_vec(),
    );
    let (changes, report) = compute(&t, &[dash, vim]).unwrap();
    assert!(report.is_empty(), "{report:?}");
    let text = file(&changes, "var/lib/dpkg/diversions").map(|f| String::from_utf8_lossy(&f.1).into_owned());
    let firsts: Vec<String> = text
        .unwrap_or_default()
        .lines()
        .step_by(3)
        .map(str::to_owned)
        .collect();
    assert_eq!(
        firsts,
        [
            "/usr/share/man/man1/sh.1.gz",
            "/usr/share/vim/vim90/doc/help.txt",
            "/usr/share/vim/vim90/doc/tags",
            "/bin/sh"
        ]
    );
}

/// mariadb-server's forms: `mkdir -pZ` (bundled, with an SELinux flag), `rmdir` of an empty
/// directory (a non-empty one is reported), `cat /dev/null > FILE` (empties it), `chmod 04755`.
#[test]
fn bundled_mkdir_rmdir_dev_null_and_five_digit_modes() {
    let mut t = MemTree::new();
    t.dir("var/lib/mysql-upgrade")
        .dir("var/spool")
        .file("var/lib/full/keep", b"x")
        .file("etc/mysql/debian.cnf", b"[client]\n")
        .file("usr/lib/mysql/plugin/auth_pam_tool", b"\x7fELF");
    let script = "#!/bin/sh\nset -e\nmkdir -pZ /var/lib/mysql-upgrade /var/lib/mysql/new\nrmdir /var/lib/mysql-upgrade\n\
                  cat /dev/null > /etc/mysql/debian.cnf\nchmod 04755 /usr/lib/mysql/plugin/auth_pam_tool\n\
                  rmdir --ignore-fail-on-non-empty /var/lib/full\nrmdir /var/lib/full\ncd /var/spool\nmkdir active\n\
                  cd \"$(unknown)\"\nmkdir incoming\nmkdir -m 02750 -p /var/lib/motion\n\
                  install -d -m 0 /var/lib/closed\nmkdir -p -m0750 /var/log/i2pd\n\
                  mkdir -pm0700 /var/lib/a/b\nmkdir -pm 0710 /var/lib/c\nmkdir --mode=0711 -v /var/lib/d\n\
                  install -d -m u=rwx,g=rx,o= /var/log/ulog\ninstall -d -m +x /var/lib/x\ninstall -d -m g+s,u=rwx /var/lib/s\n";
    let (changes, report) = compute(&t, &[pkg("mariadb-server", script)]).unwrap();
    let what: Vec<&str> = report.iter().map(|r| r.what.as_str()).collect();
    assert_eq!(
        what,
        [
            "rmdir /var/lib/full (/var/lib/full is not empty)",
            "mkdir incoming (`incoming` is relative to a working directory that is not known)"
        ]
    );
    assert!(file(&changes, "incoming").is_none(), "never made at the root");
    assert!(
        file(&changes, "var/spool/active").is_some_and(|(e, _)| e.is_dir()),
        "made in the working directory"
    );
    assert!(changes.removed.iter().any(|p| p == "var/lib/mysql-upgrade"));
    assert!(file(&changes, "var/lib/mysql/new").is_some_and(|(e, _)| e.is_dir()));
    assert_eq!(
        file(&changes, "etc/mysql/debian.cnf").map(|(_, c)| c.len()),
        Some(0)
    );
    assert_eq!(
        file(&changes, "usr/lib/mysql/plugin/auth_pam_tool").map(|(e, _)| e.mode),
        Some(0o4755)
    );
    // A mode of five digits, or of one, for mkdir -m and install -m (motion's set-group-id
    // directory).
    assert_eq!(
        file(&changes, "var/lib/motion").map(|(e, _)| e.mode),
        Some(0o2750)
    );
    assert_eq!(file(&changes, "var/lib/closed").map(|(e, _)| e.mode), Some(0));
    // The mode glued to its option (i2pd's postinst), bundled after -p, or next.
    assert_eq!(file(&changes, "var/log/i2pd").map(|(e, _)| e.mode), Some(0o750));
    assert_eq!(file(&changes, "var/lib/a/b").map(|(e, _)| e.mode), Some(0o700));
    assert_eq!(file(&changes, "var/lib/a").map(|(e, _)| e.mode), Some(0o755));
    assert_eq!(file(&changes, "var/lib/c").map(|(e, _)| e.mode), Some(0o710));
    assert_eq!(file(&changes, "var/lib/d").map(|(e, _)| e.mode), Some(0o711));
    assert!(file(&changes, "0710").is_none());
    // install's symbolic modes, applied to no bits and no umask (coreutils' install on the
    // host: 750, 111, 2700).
    assert_eq!(file(&changes, "var/log/ulog").map(|(e, _)| e.mode), Some(0o750));
    assert_eq!(file(&changes, "var/lib/x").map(|(e, _)| e.mode), Some(0o111));
    assert_eq!(file(&changes, "var/lib/s").map(|(e, _)| e.mode), Some(0o2700));
}

/// bind9's postinst: `chgrp bind /etc/bind/named.conf* …` and `chmod g+r … /etc/bind/named.conf*`
/// reach every file the pattern names in the image.
#[test]
fn globs_in_file_commands_reach_the_files_they_name() {
    let mut t = MemTree::new();
    t.file("etc/bind/named.conf", b"x")
        .file("etc/bind/named.conf.local", b"x")
        .file("etc/bind/db.root", b"x")
        .file("etc/group", b"root:x:0:\nbind:x:101:\n")
        .file("etc/passwd", b"root:x:0:0::/root:/bin/sh\n");
    let script = "#!/bin/sh\nset -e\nchgrp bind /etc/bind/named.conf*\nchmod g+w /etc/bind/named.conf*\n";
    let (changes, report) = compute(&t, &[pkg("bind9", script)]).unwrap();
    assert!(report.is_empty(), "{report:?}");
    for f in ["etc/bind/named.conf", "etc/bind/named.conf.local"] {
        assert_eq!(
            file(&changes, f).map(|(e, _)| (e.gid, e.mode)),
            Some((101, 0o664)),
            "{f}"
        );
    }
    assert!(
        file(&changes, "etc/bind/db.root").is_none(),
        "not named by the pattern"
    );
}

/// postfix's postinst: after `cd /etc/postfix`, `dynamicmaps.cf` is written by a `while read`
/// loop over `< /usr/share/postfix/dynamicmaps.cf` (comments, and the rows whose plugin is
/// installed), and `sasl-X.conf` links are made only where `[ -r sasl-X.conf ]`.
#[test]
fn a_loop_reading_a_file_into_a_relative_output() {
    let mut t = MemTree::new();
    t.dir("etc/postfix/sasl")
        .file(
            "usr/share/postfix/dynamicmaps.cf",
            b"# dict-type\tso-name\n#\ncdb\tpostfix-cdb.so\tdict_cdb_open\nldap\tpostfix-ldap.so\tdict_ldap_open\n",
        )
        .file("usr/lib/postfix/postfix-cdb.so", b"\x7fELF")
        .file("etc/postfix/sasl/sasl-smtpd.conf", b"x\n");
    let script = "#!/bin/sh\nset -e\nif [ -d /etc/postfix/sasl ]; then\n  cd /etc/postfix/sasl\n  for file in smtp smtpd; do\n    \
                  if [ -r sasl-${file}.conf ] && [ ! -r ${file}.conf ]; then\n      ln -s sasl-${file}.conf ${file}.conf\n    fi\n  done\nfi\n\
                  cd /etc/postfix\nif [ ! -f dynamicmaps.cf ]; then\n  while read row; do\n    if [ \"X${row#\\#}\" != \"X${row}\" ]; then\n      echo \"$row\"\n    \
                  else\n      dict=${row%%[[:space:]]*}\n      if test -e /usr/lib/postfix/postfix-${dict}.so; then\n        echo \"$row\"\n      fi\n    fi\n  \
                  done < /usr/share/postfix/dynamicmaps.cf > dynamicmaps.cf\n  chmod 644 dynamicmaps.cf\nfi\n";
    let (changes, report) = compute(&t, &[pkg("postfix", script)]).unwrap();
    assert!(report.is_empty(), "{report:?}");
    let (e, body) = file(&changes, "etc/postfix/dynamicmaps.cf").expect("written");
    assert_eq!(
        (String::from_utf8_lossy(body).as_ref(), e.mode),
        (
            "# dict-type\tso-name\n#\ncdb\tpostfix-cdb.so\tdict_cdb_open\n",
            0o644
        )
    );
    let links: Vec<&str> = changes
        .files
        .iter()
        .filter(|(e, _)| {
            e.path.starts_with("etc/postfix/sasl/") && matches!(e.kind, EntryKind::Symlink { .. })
        })
        .map(|(e, _)| e.path.as_str())
        .collect();
    assert_eq!(links, ["etc/postfix/sasl/smtpd.conf"]);
}

/// postfix's `fix_master`: a `while read` over a here-document, `${line%% *}` (a pattern with a
/// blank) naming each service, appended only when `grep -qE "^SERVICE[[:space:]]" FILE` fails.
#[test]
fn services_appended_only_when_grep_misses_them() {
    let mut t = MemTree::new();
    let dist = "flush     unix  n       -       y       1000?   0       flush\nsmtp      inet  n       -       y       -       -       smtpd\n";
    t.file("etc/postfix/master.cf", dist.as_bytes());
    let script = "#!/bin/sh\nset -e\nMASTER=/etc/postfix/master.cf\nwhile read line; do\n\tserv=${line%% *}\n\t\
                  if ! grep -qE \"^${serv}[[:space:]]\" ${MASTER}; then\n\t    echo \"$line\" >> ${MASTER}\n\tfi\ndone << @@EOF@@\n\
                  flush     unix  n       -       y       1000?   0       flush\nproxymap  unix  -       -       n       -       -       proxymap\n@@EOF@@\n";
    let (changes, report) = compute(&t, &[pkg("postfix", script)]).unwrap();
    assert!(report.is_empty(), "{report:?}");
    let (_, body) = file(&changes, "etc/postfix/master.cf").expect("written");
    assert_eq!(
        String::from_utf8_lossy(body),
        format!("{dist}proxymap  unix  -       -       n       -       -       proxymap\n")
    );
}

/// `sed SCRIPT < IN > OUT` reads IN: the output is computed as for `sed SCRIPT IN > OUT`.
#[test]
fn a_filter_reading_a_redirected_file() {
    let mut t = MemTree::new();
    t.file("etc/app/app.conf.dist", b"port=1\nhost=a\n")
        .dir("etc/app");
    let script = "#!/bin/sh\nset -e\ncd /etc/app\nsed 's/^port=1$/port=2/' < app.conf.dist > app.conf\n";
    let (changes, report) = compute(&t, &[pkg("app", script)]).unwrap();
    assert!(report.is_empty(), "{report:?}");
    assert_eq!(
        file(&changes, "etc/app/app.conf").expect("written").1,
        b"port=2\nhost=a\n"
    );
}

/// bind9's forms: `install --mode 644 /dev/null FILE` (an empty file), `install -m MODE -g GROUP
/// SOURCE DIR/` (a copy into the directory); `chgrp GROUP MISSING DIR` changes DIR and fails
/// naming MISSING, as coreutils goes on past a file it cannot change.
#[test]
fn install_of_files_and_owners_changed_past_a_missing_file() {
    let mut t = MemTree::new();
    t.dir("etc/apparmor.d/local")
        .dir("var/cache/bind")
        .file("usr/share/bind9/named.conf", b"options {};\n")
        .file("etc/group", b"root:x:0:\nbind:x:120:\n")
        .file("etc/passwd", b"root:x:0:0:root:/root:/bin/bash\n");
    let script = "#!/bin/sh\nset -e\ninstall --mode 644 /dev/null /etc/apparmor.d/local/usr.sbin.named\n\
                  install -m 0640 -g bind /usr/share/bind9/named.conf /etc/apparmor.d/\n\
                  chgrp bind /etc/bind/rndc.key /var/cache/bind\ninstall /usr/share/none /etc/x\n";
    let (changes, report) = compute(&t, &[pkg("bind9", script)]).unwrap();
    let what: Vec<&str> = report.iter().map(|r| r.what.as_str()).collect();
    assert_eq!(
        what,
        [
            "chgrp bind /etc/bind/rndc.key /var/cache/bind (/etc/bind/rndc.key does not exist)",
            "install /usr/share/none /etc/x (/usr/share/none is not a regular file)",
        ]
    );
    let (e, body) = file(&changes, "etc/apparmor.d/local/usr.sbin.named").expect("made");
    assert_eq!((body.len(), e.mode, e.uid, e.gid), (0, 0o644, 0, 0));
    let (e, body) = file(&changes, "etc/apparmor.d/named.conf").expect("copied");
    assert_eq!(
        (body.as_slice(), e.mode, e.gid),
        (&b"options {};\n"[..], 0o640, 120)
    );
    let (e, _) = file(&changes, "var/cache/bind").expect("changed");
    assert_eq!(e.gid, 120);
}

/// A preinst runs before its package is unpacked: a file only that package ships is not there
/// yet (squid's preinst disables its AppArmor profile on a fresh install by linking it), while a
/// file another package ships, or a script made, is.
#[test]
fn a_preinst_does_not_see_its_own_files() {
    let mut t = MemTree::new();
    t.dir("etc/apparmor.d")
        .file("etc/apparmor.d/usr.sbin.squid", b"profile squid {}\n")
        .file("etc/shared.conf", b"x\n");
    let mut squid = pkg("squid", "#!/bin/sh\n");
    squid.files = vec!["etc/apparmor.d/usr.sbin.squid".into(), "etc/shared.conf".into()];
    squid.members.insert(
        "preinst".into(),
        b"#!/bin/sh\nset -e\nP=/etc/apparmor.d/usr.sbin.squid\nif [ ! -e \"$P\" ]; then\n  mkdir -p /etc/apparmor.d/disable\n  \
          ln -sf $P /etc/apparmor.d/disable/usr.sbin.squid\nfi\n[ -e /etc/shared.conf ] || touch /etc/missing-shared\n"
            .to_vec(),
    );
    let mut other = pkg("other", "#!/bin/sh\n");
    other.files = vec!["etc/shared.conf".into()];
    let (changes, report) = compute(&t, &[other, squid]).unwrap();
    assert!(report.is_empty(), "{report:?}");
    let (e, _) = file(&changes, "etc/apparmor.d/disable/usr.sbin.squid").expect("linked");
    assert!(matches!(&e.kind, EntryKind::Symlink { target } if target == "/etc/apparmor.d/usr.sbin.squid"));
    assert!(
        file(&changes, "etc/missing-shared").is_none(),
        "another package's file is there"
    );
}

/// The same for a link: snmp's preinst removes a link left by an older version (`[ -L
/// /usr/share/doc/snmp ] && rm -f`), which on a fresh install is not there; the link the
/// package ships stays.
#[test]
fn a_preinst_does_not_see_its_own_links() {
    let mut t = MemTree::new();
    t.dir("usr/share/doc/libsnmp40")
        .symlink("usr/share/doc/snmp", "libsnmp40");
    let mut snmp = pkg("snmp", "#!/bin/sh\n");
    snmp.files = vec!["usr/share/doc/snmp".into()];
    snmp.members.insert(
        "preinst".into(),
        b"#!/bin/sh\nset -e\nif [ -L /usr/share/doc/snmp ]; then\n  rm -f /usr/share/doc/snmp\nfi\n".to_vec(),
    );
    let (changes, report) = compute(&t, &[snmp.clone()]).unwrap();
    assert!(report.is_empty(), "{report:?}");
    assert!(changes.removed.is_empty(), "{:?}", changes.removed);
    // A path the package ships as a directory (libc6's `lib64`) that is a link on the image (the
    // merged-/usr link, there before the package is unpacked) is seen as the link it is.
    let mut merged = MemTree::new();
    merged.dir("usr/lib64").symlink("lib64", "usr/lib64");
    let mut libc = pkg("libc6", "#!/bin/sh\n");
    libc.files = vec!["lib64".into(), "lib64/ld-linux-x86-64.so.2".into()];
    libc.members.insert(
        "preinst".into(),
        b"#!/bin/sh\nset -e\nif ! [ -L /lib64 ]; then\n  ln -s usr/lib64 /lib64\nfi\n".to_vec(),
    );
    let (changes, report) = compute(&merged, &[libc]).unwrap();
    assert!(report.is_empty(), "{report:?}");
    assert!(
        !changes.files.iter().any(|(e, _)| e.path.ends_with("lib64/lib64")),
        "{changes:?}"
    );
    // A postinst sees it.
    snmp.members
        .insert("postinst".into(), snmp.members["preinst"].clone());
    let (changes, _) = compute(&t, &[snmp]).unwrap();
    assert_eq!(changes.removed, ["usr/share/doc/snmp"]);
}

/// `$(readlink -f PATH)` and `$(readlink PATH)` answer from the image as the script sees it:
/// runit's preinst finds its own `/etc/service` link not there yet (so `-f` prints the path
/// itself) and does not switch it; its postinst sees the link and resolves it, taking a `..`
/// after the link is there (`/lib/..` is `/usr`, as GNU's readlink resolves it); plain
/// readlink of what is no link prints nothing and fails.
#[test]
fn readlink_answers_from_the_image_as_the_script_sees_it() {
    let mut t = MemTree::new();
    t.dir("etc/runit/runsvdir/default")
        .dir("usr/lib")
        .symlink("lib", "usr/lib")
        .symlink("bin", "usr/bin")
        .symlink("usr/bin/sh", "dash")
        .file("usr/bin/dash", b"\x7fELF")
        .symlink("etc/service", "runit/runsvdir/current")
        .symlink("etc/runit/runsvdir/current", "/etc/runit/runsvdir/default");
    let mut runit = pkg(
        "runit",
        "#!/bin/sh\nset -eu\n[ \"$(readlink -f /etc/service)\" = /etc/runit/runsvdir/default ] && touch /etc/post-f\n\
         [ \"$(readlink /etc/service)\" = runit/runsvdir/current ] && touch /etc/post-plain\n\
         [ \"$(readlink -f /usr/lib/../../etc/./service/x)\" = /etc/runit/runsvdir/default/x ] && touch /etc/post-missing\n\
         [ -z \"$(readlink -f /lib/../etc/service)\" ] && touch /etc/post-physical\n\
         [ -z \"$(readlink -e /etc/service/x)\" ] && touch /etc/post-e\n\
         readlink /etc/runit || touch /etc/post-not-a-link\n\
         [ \"$(readlink /bin/sh)\" = dash ] && touch /etc/post-through-lib\n\
         [ -z \"$(readlink -f /bin/sh/)\" ] && [ -z \"$(readlink /bin/sh/)\" ] && touch /etc/post-slash\n\
         [ \"$(readlink -f /etc/runit/)\" = /etc/runit ] && touch /etc/post-dir-slash\n",
    );
    runit.files = vec!["etc/service".into()];
    runit.members.insert(
        "preinst".into(),
        b"#!/bin/sh\nset -eu\nservlink=$(readlink -f /etc/service)\n\
          if [ \"$servlink\" = /etc/runit/runsvdir/default ]; then\n  ln -s /etc/runit/runsvdir/current /etc/service-new\nfi\n\
          [ \"$servlink\" = /etc/service ] && touch /etc/pre-missing\n"
            .to_vec(),
    );
    let (changes, report) = compute(&t, &[runit]).unwrap();
    assert!(report.is_empty(), "{report:?}");
    assert!(file(&changes, "etc/service-new").is_none(), "{changes:?}");
    let made = [
        "pre-missing",
        "post-f",
        "post-plain",
        "post-missing",
        "post-physical",
        "post-e",
        "post-not-a-link",
        "post-through-lib",
        "post-slash",
        "post-dir-slash",
    ];
    for made in made {
        assert!(
            file(&changes, &format!("etc/{made}")).is_some(),
            "{made}: {changes:?}"
        );
    }
}

/// lighttpd's postinst: `idx=$(grep … FILE | sed -E 's/[ \t]+/ /g')` compared with the default
/// line decides whether the placeholder page is installed (sed's `\t` inside a list is a tab).
#[test]
fn a_setting_read_through_grep_and_sed_decides_a_branch() {
    let mut t = MemTree::new();
    t.file(
        "etc/lighttpd/lighttpd.conf",
        b"server.port = 80\nindex-file.names            = ( \"index.php\", \"index.html\" )\n",
    )
    .file("usr/share/lighttpd/index.html", b"<html/>\n")
    .dir("var/www/html");
    let script = "#!/bin/sh\nset -e\nidx=$(grep index-file\\\\.names /etc/lighttpd/lighttpd.conf 2>/dev/null | sed -E 's/[ \\t]+/ /g')\n\
                  if [ \"$idx\" = 'index-file.names = ( \"index.php\", \"index.html\" )' ]; then\n  \
                  cp /usr/share/lighttpd/index.html /var/www/html/index.lighttpd.html\nfi\n";
    let (changes, report) = compute(&t, &[pkg("lighttpd", script)]).unwrap();
    assert!(report.is_empty(), "{report:?}");
    assert_eq!(
        file(&changes, "var/www/html/index.lighttpd.html")
            .expect("copied")
            .1,
        b"<html/>\n"
    );
}

/// squidguard's `[ $(grep -c "$LOGDIR" FILE) -eq 0 ]`: the count comes from the file, so a
/// configuration that already names the directory is neither saved aside nor edited.
#[test]
fn a_count_of_matching_lines_decides_a_branch() {
    let script = "#!/bin/sh\nset -e\nLOGDIR=/var/log/sg\nF=/etc/sg/sg.conf\n\
                  if [ $(grep -c \"$LOGDIR\" $F) -eq 0 ]; then\n  cp -p $F ${F}_old\n  \
                  sed -i 's?/var/log/old?/var/log/sg?' $F\nfi\n\
                  if [ $(grep -c nowhere $F) -eq 0 ]; then\n  touch /etc/sg/none\nfi\n";
    let mut t = MemTree::new();
    t.file("etc/sg/sg.conf", b"logdir /var/log/sg\ndbhome /var/lib/sg\n");
    let (changes, report) = compute(&t, &[pkg("sg", script)]).unwrap();
    assert!(report.is_empty(), "{report:?}");
    assert!(file(&changes, "etc/sg/sg.conf_old").is_none());
    assert!(file(&changes, "etc/sg/sg.conf").is_none(), "not edited");
    assert!(
        file(&changes, "etc/sg/none").is_some(),
        "a count of 0 takes the branch"
    );
    // Of several files grep prints `FILE:COUNT` for each: not computed, so not written.
    t.file("etc/sg/b", b"logdir /var/log/sg\n");
    let two = "#!/bin/sh\nset -e\ngrep -c logdir /etc/sg/sg.conf /etc/sg/b > /etc/sg/counts\n";
    let (changes, report) = compute(&t, &[pkg("sg", two)]).unwrap();
    assert!(file(&changes, "etc/sg/counts").is_none(), "{report:?}");
    assert_eq!(report.len(), 1, "{report:?}");
}

/// exim4-base's forms: `install -d` with values glued to `-o`/`-g`/`-m`, then `rm -f` of patterns
/// that match nothing (in a directory made just before, and in one that does not exist).
#[test]
fn install_with_glued_values_and_rm_of_what_is_not_there() {
    let mut t = MemTree::new();
    t.dir("var/spool")
        .file(
            "etc/passwd",
            b"root:x:0:0:root:/root:/bin/bash\nDebian-exim:x:100:102::/var/spool/exim4:/usr/sbin/nologin\n",
        )
        .file("etc/group", b"root:x:0:\nadm:x:4:\nDebian-exim:x:102:\n");
    let script = "#!/bin/sh\nset -e\ninstall -d -oDebian-exim -gDebian-exim -m750 /var/spool/exim4 /var/spool/exim4/db\n\
                  rm -f /var/spool/exim4/db/retry* /var/spool/nowhere/x*\n";
    let (changes, report) = compute(&t, &[pkg("exim4-base", script)]).unwrap();
    assert!(report.is_empty(), "{report:?}");
    for dir in ["var/spool/exim4", "var/spool/exim4/db"] {
        let (e, _) = file(&changes, dir).expect("made");
        assert_eq!(
            (e.is_dir(), e.mode, e.uid, e.gid),
            (true, 0o750, 100, 102),
            "{dir}"
        );
    }
}

/// dovecot-core links its certificate to the snake-oil pair when that exists. ssl-cert's
/// `make-ssl-cert generate-default-snakeoil` is left out (non-deterministic), so whether the pair
/// exists cannot be decided: the link is made as on a dpkg install (it resolves once the command
/// runs at first start). Without ssl-cert's postinst the test is plainly false.
#[test]
fn a_test_for_what_a_left_out_command_makes_is_undecided() {
    let mut t = MemTree::new();
    t.dir("etc/dovecot/private")
        .dir("etc/ssl/certs")
        .dir("etc/ssl/private");
    let dovecot = "#!/bin/sh\nset -e\nif [ ! -e /etc/dovecot/private/dovecot.key ] && \\\n\
                   [ -e /etc/ssl/certs/ssl-cert-snakeoil.pem ] && \\\n\
                   [ -e /etc/ssl/private/ssl-cert-snakeoil.key ]; then\n\
                   \tln -s /etc/ssl/certs/ssl-cert-snakeoil.pem /etc/dovecot/private/dovecot.pem\n\
                   \tln -s /etc/ssl/private/ssl-cert-snakeoil.key /etc/dovecot/private/dovecot.key\nfi\n";
    let ssl_cert = "#!/bin/sh\nset -e\nmake-ssl-cert generate-default-snakeoil --force-overwrite\n";
    let (changes, report) = compute(&t, &[pkg("ssl-cert", ssl_cert), pkg("dovecot-core", dovecot)]).unwrap();
    let what: Vec<&str> = report.iter().map(|r| r.what.as_str()).collect();
    assert_eq!(what.len(), 1, "{what:?}");
    assert!(
        what[0].starts_with(commands::SKIPPED_NONDETERMINISTIC),
        "{what:?}"
    );
    let (link, _) = file(&changes, "etc/dovecot/private/dovecot.pem").expect("the link is made");
    assert!(
        matches!(&link.kind, EntryKind::Symlink { target } if target == "/etc/ssl/certs/ssl-cert-snakeoil.pem"),
        "{link:?}"
    );

    let (changes, report) = compute(&t, &[pkg("dovecot-core", dovecot)]).unwrap();
    assert!(report.is_empty(), "{report:?}");
    assert!(file(&changes, "etc/dovecot/private/dovecot.pem").is_none());
}

/// varnish's secret: a copy of the kernel's random uuid where the running kernel has one, else
/// random bytes. Both are random values: left out as non-deterministic by nature, nothing
/// written (no empty secret); a later `chmod` of it is part of what is left out.
#[test]
fn a_copy_of_the_kernels_randomness_is_left_out() {
    let mut t = MemTree::new();
    t.dir("etc/varnish");
    let script = "#!/bin/sh\nset -e\nsecret_file=/etc/varnish/secret\n\
                  if ! [ -f \"${secret_file}\" ]; then\n\
                  \tif [ -f /proc/sys/kernel/random/uuid ]; then\n\
                  \t\tinstall -m 0600 /proc/sys/kernel/random/uuid \"${secret_file}\"\n\
                  \telse\n\t\tinstall -m 0600 /dev/null \"${secret_file}\"\n\
                  \t\tdd if=/dev/urandom count=1 bs=128 2>/dev/null | tr -dc \"A-Za-z0-9\" > \"${secret_file}\"\n\
                  \tfi\nfi\n\
                  if [ -f \"${secret_file}\" ]; then chmod 0640 \"${secret_file}\"; fi\n";
    let (changes, report) = compute(&t, &[pkg("varnish", script)]).unwrap();
    assert!(
        file(&changes, "etc/varnish/secret").is_none(),
        "no secret written"
    );
    let what: Vec<&str> = report.iter().map(|r| r.what.as_str()).collect();
    assert!(
        what[0].starts_with(commands::SKIPPED_NONDETERMINISTIC)
            && what[0].contains("/proc/sys/kernel/random/uuid"),
        "{what:?}"
    );
    assert!(
        what.iter().all(|w| !w.contains("dd if=")),
        "the other branch's random bytes are not listed as missed: {what:?}"
    );
    assert!(
        what.iter()
            .any(|w| w.starts_with("install -m 0600 /dev/null") && w.contains("not run")),
        "{what:?}"
    );
    assert!(
        what.iter().all(|w| !w.starts_with("chmod 0640")),
        "the mode of the secret left out is left out with it: {what:?}"
    );
}

/// libsensors5's preinst removes `/etc/sensors3.conf` only when it is byte for byte the example
/// file of an old version; without that file `cmp` fails and the configuration file
/// libsensors-config ships stays. The same bytes make cmp succeed.
#[test]
fn cmp_as_a_condition_compares_the_image_files() {
    let mut t = MemTree::new();
    t.file("etc/sensors3.conf", b"chip \"x\"\n");
    let script = "#!/bin/sh\nset -e\nif cmp -s /usr/share/libsensors4/sensors.conf.eg /etc/sensors3.conf ; then\n\
                  \trm -f /etc/sensors3.conf\nfi\n";
    let (changes, report) = compute(&t, &[pkg("libsensors5", script)]).unwrap();
    assert!(report.is_empty(), "{report:?}");
    assert!(changes.removed.is_empty(), "{:?}", changes.removed);

    t.file("usr/share/libsensors4/sensors.conf.eg", b"chip \"x\"\n");
    let (changes, _) = compute(&t, &[pkg("libsensors5", script)]).unwrap();
    assert_eq!(changes.removed, ["etc/sensors3.conf"]);

    // proftpd-core's `do_update`: `diff -q FILE FILE.new` fails when FILE is missing, so the new
    // file is moved into place; equal files keep the old one.
    let update = "#!/bin/sh
set -e
for f in /etc/p/a.conf /etc/p/b.conf; do
                  if diff -q $f $f.new >/dev/null 2>&1; then rm -f $f.new; else mv $f.new $f; fi
done
";
    let mut p = MemTree::new();
    p.file("etc/p/a.conf.new", b"a")
        .file("etc/p/b.conf", b"b")
        .file("etc/p/b.conf.new", b"b");
    let (changes, report) = compute(&p, &[pkg("proftpd-core", update)]).unwrap();
    assert!(report.is_empty(), "{report:?}");
    assert_eq!(
        file(&changes, "etc/p/a.conf").map(|(_, c)| c.clone()),
        Some(b"a".to_vec())
    );
    assert_eq!(changes.removed, ["etc/p/a.conf.new", "etc/p/b.conf.new"]);
}

/// clamav-daemon's shape: a configuration assembled line by line from values the walk does not
/// know (`eval` of a name not known), then copied into place. The assembled file is left out
/// (pending), never copied half-written; a registry that existed before keeps its lines; the
/// report names each write; a whole new content makes the file known again.
#[test]
fn a_file_assembled_from_unknown_values_is_left_out_not_half_written() {
    let mut t = MemTree::new();
    t.dir("etc/app")
        .dir("var/lib/app")
        .file("var/lib/registry", b"kept\n");
    let script = "#!/bin/sh\nset -e\nCONF=/var/lib/app/app.conf\neval \"Port=\\$$(frobnicate)\"\n\
                  echo \"# generated\" > $CONF\necho \"Port $Port\" >> $CONF\n\
                  echo \"app $Port\" >> /var/lib/registry\n\
                  if [ -e $CONF ]; then cp $CONF /etc/app/app.conf; fi\n\
                  echo \"# generated\" > /var/lib/app/other.conf\necho \"x $Port\" >> /var/lib/app/other.conf\n\
                  echo done > /var/lib/app/other.conf\n\
                  echo base > /var/lib/app/aliases\n\
                  if [ -n \"$Port\" ]; then echo \"root: $Port\" >> /var/lib/app/aliases; fi\n";
    let (changes, report) = compute(&t, &[pkg("app", script)]).unwrap();
    let what: Vec<&str> = report.iter().map(|r| r.what.as_str()).collect();
    assert!(file(&changes, "var/lib/app/app.conf").is_none(), "{what:?}");
    assert!(file(&changes, "etc/app/app.conf").is_none(), "{what:?}");
    assert!(
        file(&changes, "var/lib/registry").is_none(),
        "the registry is unchanged"
    );
    assert_eq!(
        file(&changes, "var/lib/app/other.conf").map(|(_, c)| c.as_slice()),
        Some(&b"done\n"[..])
    );
    // A write only an undecided condition leads to may not happen (exim4-config's root alias):
    // the file keeps what it has, and the write is listed.
    assert_eq!(
        file(&changes, "var/lib/app/aliases").map(|(_, c)| c.as_slice()),
        Some(&b"base\n"[..])
    );
    for needle in [
        "echo \"Port $Port\" >> /var/lib/app/app.conf",
        "echo \"app $Port\" >> /var/lib/registry",
    ] {
        assert!(what.iter().any(|w| w.starts_with(needle)), "{needle}: {what:?}");
    }
    // The copy's condition is a test of a pending file: undecided, walked, and the copy fails.
    assert!(
        what.iter()
            .any(|w| w.starts_with("cp ") && w.contains("/var/lib/app/app.conf is left out")),
        "{what:?}"
    );

    // An edit in place the walk does not apply (perl -pi): a file the script made is left out,
    // a packaged one keeps its bytes; both edits are listed.
    t.file("usr/share/app/template", b"x\n")
        .file("etc/app/packaged.conf", b"p\n");
    let script = "#!/bin/sh
set -e
cp /usr/share/app/template /etc/app/new.conf
                  perl -pi -e 's/x/y/' /etc/app/new.conf /etc/app/packaged.conf
";
    let (changes, report) = compute(&t, &[pkg("app", script)]).unwrap();
    assert!(file(&changes, "etc/app/new.conf").is_none());
    assert!(file(&changes, "etc/app/packaged.conf").is_none(), "unchanged");
    assert_eq!(report.len(), 1, "{report:?}");
    assert_eq!(
        super::output::edited_in_place("sed", &["-i".into(), "/^a/d".into(), "/etc/x".into()]),
        ["/etc/x"]
    );
}

/// ejabberd's shape: the configuration is built in a `mktemp` file (`touch`ed, then written by a
/// command the walk does not reproduce) and handed to ucf. The temporary file is the script's
/// own: left out, not kept empty, and so is what ucf makes of it, never an empty configuration.
/// A copy over a file that existed before replaces all of it: that file is left out too; `mv`
/// into a directory names the file after its source; a `chmod` of what is left out goes with it.
#[test]
fn what_a_copy_of_a_left_out_file_makes_is_left_out() {
    let mut t = MemTree::new();
    t.file("usr/bin/ucf", b"#!/bin/sh\n").mode("usr/bin/ucf", 0o755);
    t.dir("etc/app")
        .dir("tmp")
        .file("etc/app/packaged.conf", b"p\n")
        .file("usr/share/app/example", b"x\n");
    let script = "#!/bin/sh\nset -e\nTEMP=$(mktemp)\nOTHER=$(mktemp)\ntouch \"$TEMP\" && chmod 0600 \"$TEMP\"\n\
                  frob /usr/share/app/example > \"$TEMP\"\n\
                  ucf --three-way --debconf-ok \"$TEMP\" /etc/app/app.yml\n\
                  frob > \"$OTHER\"\ncp \"$OTHER\" /etc/app/packaged.conf\nmv \"$OTHER\" /etc/app/\n\
                  if [ -e /etc/app/app.yml ]; then chmod 600 /etc/app/app.yml; fi\n";
    let (changes, report) = compute(&t, &[pkg("app", script)]).unwrap();
    let what: Vec<&str> = report.iter().map(|r| r.what.as_str()).collect();
    assert!(file(&changes, "tmp/tmp.0000000001").is_none(), "{what:?}");
    assert!(file(&changes, "etc/app/app.yml").is_none(), "{what:?}");
    assert!(
        file(&changes, "var/lib/ucf/cache/:etc:app:app.yml").is_none(),
        "{what:?}"
    );
    assert!(
        changes.removed.iter().any(|p| p == "etc/app/packaged.conf"),
        "{changes:?}"
    );
    assert!(file(&changes, "etc/app/tmp.0000000002").is_none(), "{what:?}");
    assert!(
        what.iter()
            .any(|w| w.starts_with("ucf --three-way") && w.contains("is left out")),
        "{what:?}"
    );
    // The mode of the left-out configuration is left out with it: its chmod is not listed.
    assert!(
        what.iter().all(|w| !w.starts_with("chmod 600 /etc/app/app.yml")),
        "{what:?}"
    );
}

/// courier's certificate scripts: `install -b … /dev/null FILE` (an existing file kept as
/// `FILE~`), `cp /dev/null FILE` (an empty file: cp reads the device), and GnuTLS's `certtool`
/// making keys: left out as non-deterministic (the empty file it writes over too), what it writes
/// (`--outfile`) undecided after and its mode left out with it, and a file made from it left out.
#[test]
fn courier_certificate_forms() {
    let mut t = MemTree::new();
    t.dir("etc/courier").file("etc/courier/old.pem", b"old\n");
    let script = "#!/bin/sh\nset -e\numask 022\ninstall -b -m 600 /dev/null /etc/courier/old.pem\n\
                  install -b -m 600 /dev/null /etc/courier/new.pem\ncp /dev/null /etc/courier/empty\n\
                  install -m 600 /dev/null /etc/courier/imapd.key\n\
                  certtool --generate-privkey --sec-param=high --outfile /etc/courier/imapd.key\n\
                  if [ -f /etc/courier/imapd.key ]; then chmod 600 /etc/courier/imapd.key; fi\n\
                  cp /dev/null /etc/courier/imapd.pem\ncat /etc/courier/imapd.key > /etc/courier/imapd.pem\n\
                  certtool --generate-dh-params --sec-param high > /etc/courier/dhparams.pem.tmp\n\
                  mv -f /etc/courier/dhparams.pem.tmp /etc/courier/dhparams.pem\n";
    let (changes, report) = compute(&t, &[pkg("courier-imap", script)]).unwrap();
    let what: Vec<&str> = report.iter().map(|r| r.what.as_str()).collect();
    let (old, bytes) = file(&changes, "etc/courier/old.pem").expect("installed");
    assert_eq!((old.mode, bytes.len()), (0o600, 0));
    assert_eq!(
        file(&changes, "etc/courier/old.pem~").map(|(_, b)| b.as_slice()),
        Some(&b"old\n"[..]),
        "{what:?}"
    );
    assert!(file(&changes, "etc/courier/new.pem~").is_none());
    let (empty, bytes) = file(&changes, "etc/courier/empty").expect("copied");
    assert_eq!((empty.mode, bytes.len()), (0o644, 0), "{what:?}");
    assert!(file(&changes, "etc/courier/imapd.key").is_none());
    // The empty file certtool writes over is gone, so what is made from it is left out, not
    // written empty.
    assert!(file(&changes, "etc/courier/imapd.pem").is_none(), "{what:?}");
    assert!(
        what[0].starts_with(commands::SKIPPED_NONDETERMINISTIC) && what[0].contains("certtool"),
        "{what:?}"
    );
    // The key's mode is left out with the key.
    assert!(what.iter().all(|w| !w.starts_with("chmod 600")), "{what:?}");
    // What is made from the key, or from the parameters certtool printed, is left out as
    // non-deterministic too: the PEM, the parameters moved into place.
    assert!(
        what.iter()
            .all(|w| w.starts_with(commands::SKIPPED_NONDETERMINISTIC)),
        "{what:?}"
    );
    assert!(
        what.iter()
            .any(|w| w.contains("cat /etc/courier/imapd.key > /etc/courier/imapd.pem")),
        "{what:?}"
    );
    assert!(
        what.iter()
            .any(|w| w.contains("mv -f /etc/courier/dhparams.pem.tmp")),
        "{what:?}"
    );
    assert!(file(&changes, "etc/courier/dhparams.pem").is_none(), "{what:?}");
}

/// freeradius's first configuration: `chown -R`, then `find -type f -exec chmod 640 {} \;`, and
/// `find -type d -empty -delete` (deepest first, so a directory holding only empty ones goes
/// too). Below the start, a symbolic link is changed itself and never followed; chmod leaves it
/// alone. `chmod -R` takes symbolic lists (rabbitmq's `o-rwx,g-w`).
#[test]
fn recursive_owner_and_mode_changes_and_find_actions() {
    let mut t = MemTree::new();
    t.file(
        "etc/passwd",
        b"root:x:0:0:root:/root:/bin/sh\nfreerad:x:100:102::/etc/freeradius:/usr/sbin/nologin\n",
    )
    .file("etc/group", b"root:x:0:\nfreerad:x:102:\n")
    .file("etc/freeradius/3.0/clients.conf", b"include certs/bootstrap\n")
    .file("etc/freeradius/3.0/certs/bootstrap", b"#!/bin/sh")
    .dir("etc/freeradius/3.0/empty/nested")
    .symlink("etc/freeradius/3.0/sites-enabled", "/etc/outside")
    .file("etc/outside", b"o")
    .file("var/lib/mq/mnesia/db", b"d");
    let script = "#!/bin/sh\nset -e\nchown -R freerad:freerad /etc/freeradius\nchmod 2750 /etc/freeradius\n\
                  find /etc/freeradius -type f -exec chmod 640 '{}' \\;\n\
                  find /etc/freeradius -type d -empty -delete\n\
                  chmod -R o-rwx,g-w /var/lib/mq/mnesia\n\
                  if grep -q -r 'certs/boot' /etc/freeradius; then touch /etc/found; fi\n\
                  if grep -qr 'nowhere' /etc/freeradius; then touch /etc/not-found; fi\n";
    let (changes, report) = compute(&t, &[pkg("freeradius", script)]).unwrap();
    assert!(report.is_empty(), "{report:?}");
    // `grep -r` as a condition reads the files below the directory.
    assert!(file(&changes, "etc/found").is_some() && file(&changes, "etc/not-found").is_none());
    let meta = |p: &str| file(&changes, p).map(|(e, _)| (e.mode, e.uid, e.gid));
    assert_eq!(meta("etc/freeradius"), Some((0o2750, 100, 102)));
    assert_eq!(meta("etc/freeradius/3.0/certs"), Some((0o755, 100, 102)));
    assert_eq!(
        meta("etc/freeradius/3.0/certs/bootstrap"),
        Some((0o640, 100, 102))
    );
    assert_eq!(
        meta("etc/freeradius/3.0/sites-enabled").map(|m| (m.1, m.2)),
        Some((100, 102))
    );
    assert!(
        file(&changes, "etc/outside").is_none(),
        "the link's target is not reached"
    );
    for gone in ["etc/freeradius/3.0/empty", "etc/freeradius/3.0/empty/nested"] {
        assert!(
            changes.removed.iter().any(|p| p == gone),
            "{gone}: {:?}",
            changes.removed
        );
    }
    assert_eq!(meta("var/lib/mq/mnesia").map(|m| m.0), Some(0o750));
    assert_eq!(meta("var/lib/mq/mnesia/db").map(|m| m.0), Some(0o640));

    // What the subset does not cover stays reported, unapplied.
    let (changes, report) = compute(
        &t,
        &[pkg(
            "x",
            "#!/bin/sh\nfind /etc/freeradius -newer /etc/outside -delete\n",
        )],
    )
    .unwrap();
    assert!(changes.removed.is_empty());
    assert!(
        report
            .iter()
            .any(|r| r.what.starts_with("find /etc/freeradius -newer")),
        "{report:?}"
    );
}

/// redis-server's cleanup (`-maxdepth 1 -type d -name PATTERN -empty -delete`) reaches only the
/// start's own entries; `-exec CMD … {} +` runs once with every match.
#[test]
fn find_depth_name_and_batched_exec() {
    let mut t = MemTree::new();
    t.dir("etc/redis/redis-server.pre-up.d")
        .file("etc/redis/redis-server.post-up.d/keep", b"k")
        .dir("etc/redis/deeper/redis-server.x.d")
        .file("srv/a.conf", b"a")
        .file("srv/b.conf", b"b")
        .file("srv/c.txt", b"c");
    let script = "#!/bin/sh\nset -e\nfind /etc/redis -maxdepth 1 -type d -name 'redis-server.*.d' -empty -delete\n\
                  find /srv -name '*.conf' -exec chmod 600 {} +\n";
    let (changes, report) = compute(&t, &[pkg("redis-server", script)]).unwrap();
    assert!(report.is_empty(), "{report:?}");
    assert_eq!(changes.removed, ["etc/redis/redis-server.pre-up.d"]);
    let mode = |p: &str| file(&changes, p).map(|(e, _)| e.mode);
    assert_eq!(
        (mode("srv/a.conf"), mode("srv/b.conf"), mode("srv/c.txt")),
        (Some(0o600), Some(0o600), None)
    );
}

/// tomcat10's default webapp: `cp -r` of a packaged directory. New directories and files take the
/// sources' modes less the umask, root's; a link below is copied as a link. A copy that would
/// overwrite a file is refused whole; without `-r` a directory is omitted, as cp says.
#[test]
fn a_recursive_copy_of_a_directory() {
    let mut t = MemTree::new();
    t.file("usr/share/tomcat10-root/default_root/index.html", b"<html/>")
        .file(
            "usr/share/tomcat10-root/default_root/META-INF/context.xml",
            b"<Context/>",
        )
        .symlink(
            "usr/share/tomcat10-root/default_root/favicon.ico",
            "../icons/t.ico",
        )
        .dir("var/lib/tomcat10/webapps");
    if let Some((e, _)) = t
        .entries
        .get_mut("usr/share/tomcat10-root/default_root/index.html")
    {
        (e.mode, e.uid) = (0o666, 7);
    }
    let script = "#!/bin/sh\nset -e\nif [ ! -d /var/lib/tomcat10/webapps/ROOT ]; then\n\
                  \tcp -r /usr/share/tomcat10-root/default_root /var/lib/tomcat10/webapps/ROOT\nfi\n";
    let (changes, report) = compute(&t, &[pkg("tomcat10", script)]).unwrap();
    assert!(report.is_empty(), "{report:?}");
    let got = |p: &str| file(&changes, p).map(|(e, c)| (e.kind.clone(), e.mode, e.uid, c.clone()));
    assert_eq!(
        got("var/lib/tomcat10/webapps/ROOT/index.html"),
        Some((EntryKind::File { size: 7 }, 0o644, 0, b"<html/>".to_vec()))
    );
    assert_eq!(
        got("var/lib/tomcat10/webapps/ROOT/META-INF").map(|g| g.1),
        Some(0o755)
    );
    assert!(got("var/lib/tomcat10/webapps/ROOT/META-INF/context.xml").is_some());
    assert!(matches!(
        got("var/lib/tomcat10/webapps/ROOT/favicon.ico").map(|g| g.0),
        Some(EntryKind::Symlink { target }) if target == "../icons/t.ico"
    ));

    let mut clash = t.clone();
    clash.file("var/lib/tomcat10/webapps/ROOT/META-INF/context.xml", b"mine");
    let script = "#!/bin/sh\ncp -r /usr/share/tomcat10-root/default_root/. /var/lib/tomcat10/webapps/ROOT\n\
                  cp /usr/share/tomcat10-root/default_root /tmp\n";
    let (changes, report) = compute(&clash, &[pkg("tomcat10", script)]).unwrap();
    assert!(
        file(&changes, "var/lib/tomcat10/webapps/ROOT/index.html").is_none(),
        "nothing half-copied"
    );
    let what: Vec<&str> = report.iter().map(|r| r.what.as_str()).collect();
    assert!(what[0].contains("copying over the existing"), "{what:?}");
    assert!(
        what[1].contains("-r not specified; omitting directory"),
        "{what:?}"
    );
}

/// `~USER` is the user's home in the image's `/etc/passwd` (proftpd-core copies its welcome
/// message to `~ftp`); a user the file does not name leaves the word as written.
#[test]
fn tilde_names_a_users_home() {
    let mut t = MemTree::new();
    t.file(
        "etc/passwd",
        b"root:x:0:0:root:/root:/bin/sh\nftp:x:101:65534::/srv/ftp:/usr/sbin/nologin\n",
    )
    .file("usr/share/proftpd/templates/welcome.msg", b"hi\n")
    .dir("srv/ftp");
    let script = "#!/bin/sh\nset -e\nif [ -f /usr/share/proftpd/templates/welcome.msg -a -d ~ftp ] ; then\n\
                  \tcp -p /usr/share/proftpd/templates/welcome.msg ~ftp/welcome.msg\nfi\n\
                  if [ -d ~nobody-here ]; then touch /srv/ftp/wrong; fi\n";
    let (changes, report) = compute(&t, &[pkg("proftpd-core", script)]).unwrap();
    assert!(report.is_empty(), "{report:?}");
    assert_eq!(
        file(&changes, "srv/ftp/welcome.msg").map(|(_, c)| c.clone()),
        Some(b"hi\n".to_vec())
    );
    assert!(file(&changes, "srv/ftp/wrong").is_none());
}

/// A here-document with expansions is written expanded, as the shell writes it (tftpd-hpa's
/// `/etc/default/tftpd-hpa` from its debconf answers): `$VAR` and `${VAR:-…}` replaced, `"`
/// literal, `\$` a dollar sign; then the script's own `sed … < FILE > FILE.tmp; mv`.
#[test]
fn here_documents_with_expansions_are_written_expanded() {
    let mut t = MemTree::new();
    t.dir("etc/default");
    let script = "#!/bin/sh\nset -e\nCONF=/etc/default/srv\nUSER=\"${RET:-srv}\"\nDIR=/srv/data\n\
                  if [ ! -e \"$CONF\" ]; then\ncat > \"$CONF\" << EOF\n# $CONF\n\nSRV_USER=\"${USER}\"\n\
                  SRV_DIR=\"$DIR\" # costs \\$5\nEOF\nfi\n\
                  sed -e \"s|^ *SRV_DIR=.*|SRV_DIR=\\\"${DIR}/x\\\"|\" < \"$CONF\" > \"$CONF.tmp\"\nmv -f \"$CONF.tmp\" \"$CONF\"\n";
    let (changes, report) = compute(&t, &[pkg("srv", script)]).unwrap();
    assert!(report.is_empty(), "{report:?}");
    assert_eq!(
        file(&changes, "etc/default/srv").map(|f| String::from_utf8_lossy(&f.1).into_owned()),
        Some("# /etc/default/srv\n\nSRV_USER=\"srv\"\nSRV_DIR=\"/srv/data/x\"\n".to_owned())
    );
}

/// A file whose content is not known (a here-document expanding a value the walk does not
/// know) stays left out when the script appends to it and rewrites it: never a file holding
/// only the appended lines.
#[test]
fn appending_to_a_file_left_out_leaves_it_out() {
    let mut t = MemTree::new();
    t.dir("etc/default");
    let script = "#!/bin/sh\nset -e\nCONF=/etc/default/srv\ncat > \"$CONF\" << EOF\nSRV_HOST=\"$(hostname)\"\nEOF\n\
                  grep -q '^SRV_USER=' \"$CONF\" || echo \"SRV_USER=\" >> \"$CONF\"\n\
                  sed -e 's|^SRV_USER=.*|SRV_USER=\"srv\"|' < \"$CONF\" > \"$CONF.tmp\"\nmv -f \"$CONF.tmp\" \"$CONF\"\n";
    let (changes, report) = compute(&t, &[pkg("srv", script)]).unwrap();
    assert!(
        file(&changes, "etc/default/srv").is_none(),
        "{:?}",
        file(&changes, "etc/default/srv")
    );
    assert!(file(&changes, "etc/default/srv.tmp").is_none());
    let what: Vec<&str> = report.iter().map(|r| r.what.as_str()).collect();
    // The host's name makes the file the machine's own: left out as such.
    assert!(
        what.iter()
            .any(|w| w.starts_with(commands::SKIPPED_NONDETERMINISTIC)
                && w.contains("cat > /etc/default/srv")
                && w.contains("that host's name")),
        "{what:?}"
    );
    // What sed makes from that file, and the move of it over the file, are the machine's too.
    assert!(
        what.iter()
            .any(|w| w.starts_with(commands::SKIPPED_NONDETERMINISTIC)
                && w.contains("mv -f /etc/default/srv.tmp")
                && w.contains("that host's name")),
        "{what:?}"
    );
}

/// A loop over input the walk cannot read (pg_updateaptconfig's `pg_lsclusters -h | … | while
/// read version; do echo … >> $TMPCONF; done`) writes something not known: the file it builds is
/// left out and listed, never kept as if the loop had not run; nor is what is copied from it.
#[test]
fn a_loop_over_unknown_input_leaves_out_the_file_it_writes() {
    let mut t = MemTree::new();
    t.dir("etc/apt/apt.conf.d").dir("tmp").dir("var/lib/dpkg");
    let script = "#!/bin/sh\nset -eu\nT=$(mktemp)\ncat > $T <<EOF\nhead\nEOF\n\
                  lister -h | cut -d ' ' -f 1 | uniq | while read version; do\n echo \"v-$version\" >> $T\ndone\n\
                  cat >> $T <<EOF\ntail\nEOF\ncp $T /etc/apt/apt.conf.d/02versions\n\
                  echo kept > /etc/apt/apt.conf.d/03other\n";
    let (changes, report) = compute(&t, &[pkg("pgc", script)]).unwrap();
    assert!(
        file(&changes, "etc/apt/apt.conf.d/02versions").is_none(),
        "{report:#?}"
    );
    assert!(file(&changes, "etc/apt/apt.conf.d/03other").is_some());
    let listed: Vec<&str> = report.iter().map(|e| e.what.as_str()).collect();
    assert!(
        listed
            .iter()
            .any(|w| w.starts_with("echo \"v-$version\" >> /tmp/")
                && w.contains("not run: `read version` reads input the walk does not know")),
        "{listed:#?}"
    );
    assert!(
        listed
            .iter()
            .any(|w| w.starts_with("cp /tmp/") && w.contains("left out")),
        "{listed:#?}"
    );
}

/// What a branch an undecided `if` did not take would have written is listed (even by a command
/// without other effects, `echo`), and the walk keeps to the branch it took.
#[test]
fn writes_of_a_branch_not_taken_are_listed() {
    let mut t = MemTree::new();
    t.dir("etc").dir("var/lib/dpkg");
    let script = "#!/bin/sh\nset -e\nif probe-something; then\n echo yes > /etc/taken\nelse\n \
                  echo no > /etc/other\n { echo a; echo b; } >> /etc/grouped\nfi\n";
    let (changes, report) = compute(&t, &[pkg("branchy", script)]).unwrap();
    assert_eq!(
        file(&changes, "etc/taken").map(|(_, d)| d.as_slice()),
        Some(&b"yes\n"[..])
    );
    assert!(file(&changes, "etc/other").is_none());
    let listed: Vec<&str> = report.iter().map(|e| e.what.as_str()).collect();
    for want in [
        "echo no > /etc/other (not run: whether `probe-something` holds",
        "echo a; echo b >> /etc/grouped (not run",
    ] {
        assert!(listed.iter().any(|w| w.starts_with(want)), "{want}: {listed:#?}");
    }
}

/// postgresql-common's postinst: `su -s /bin/sh postgres -c 'test -O DIR && test -G DIR' ||
/// chown postgres:postgres DIR` answered from the image's accounts and owners; `pg_lsclusters -h`
/// answered for an image without clusters, with the left-out cluster listed as what changes it.
#[test]
fn postgres_ownership_tests_and_its_cluster_list_are_answered_from_the_image() {
    let mut t = MemTree::new();
    t.file(
        "etc/passwd",
        b"root:x:0:0:root:/root:/bin/bash\npostgres:x:100:102::/var/lib/postgresql:/bin/bash\n",
    )
    .file("etc/group", b"root:x:0:\npostgres:x:102:\n")
    .dir("etc/apt/apt.conf.d")
    .dir("srv/mine")
    .dir("var/lib/dpkg");
    let script = "#!/bin/sh\nset -e\nmkdir -p /var/lib/postgresql\n\
                  su -s /bin/sh postgres -c \"test -O /var/lib/postgresql &&\n            test -G /var/lib/postgresql\" || \\\n\
                  \x20   chown postgres:postgres /var/lib/postgresql\n\
                  su root -c 'test -O /srv/mine' || chown postgres /srv/mine\n\
                  pg_createcluster -u postgres --no-status 15 main || echo failed\n\
                  F=/etc/apt/apt.conf.d/02autoremove-postgresql\necho begin > $F\n\
                  pg_lsclusters -h | cut -d ' ' -f 1 | uniq | while read version; do\n echo \"v-$version\" >> $F\ndone\n\
                  echo end >> $F\n";
    let (changes, report) = compute(&t, &[pkg("postgresql-common", script)]).unwrap();
    let owner = |p: &str| file(&changes, p).map(|(e, _)| (e.uid, e.gid));
    assert_eq!(owner("var/lib/postgresql"), Some((100, 102)), "{report:#?}");
    // root owns /srv/mine: the fallback chown does not run.
    assert_eq!(owner("srv/mine"), None, "{report:#?}");
    assert_eq!(
        file(&changes, "etc/apt/apt.conf.d/02autoremove-postgresql").map(|(_, d)| d.as_slice()),
        Some(&b"begin\nend\n"[..]),
        "{report:#?}"
    );
    let listed: Vec<&str> = report.iter().map(|e| e.what.as_str()).collect();
    assert!(
        listed
            .iter()
            .any(|w| w.starts_with(commands::SKIPPED_NONDETERMINISTIC)
                && w.contains("`pg_lsclusters -h` answered with the image's clusters, none: 15/main")),
        "{listed:#?}"
    );
    assert!(listed.iter().all(|w| !w.starts_with("su ")), "{listed:#?}");
}

/// A loop's `read VAR` assigns what its body writes to: such a target is not the value the
/// variable had before the loop (the file made before stays as made).
#[test]
fn a_loop_variable_target_is_not_the_value_before_the_loop() {
    let mut t = MemTree::new();
    t.dir("etc/app").dir("var/lib/dpkg");
    let script = "#!/bin/sh\nset -e\nf=/etc/app/default.conf\necho x > \"$f\"\n\
                  lister | while read f; do echo y >> \"$f\"; done\n";
    let (changes, report) = compute(&t, &[pkg("app", script)]).unwrap();
    assert_eq!(
        file(&changes, "etc/app/default.conf").map(|(_, d)| d.as_slice()),
        Some(&b"x\n"[..]),
        "{report:#?}"
    );
    assert!(
        report.iter().any(|e| e
            .what
            .starts_with("echo y >> a file the walk cannot name (not run:")),
        "{report:#?}"
    );
}

/// auditd's `augenrules`: the rules directory listed with `ls -1v` (version order: `9-` before
/// `10-`), each file piped through an awk program (mawk takes `\s` as a literal `s`) into a
/// temporary file, `[ ! -s FILE ]` decided from what was written there, and `$?` after `cmp -s`.
#[test]
fn a_rules_file_assembled_from_a_listing_and_tested_for_size() {
    let mut t = MemTree::new();
    t.dir("tmp")
        .file("etc/rules.d/10-late.rules", b"-w /etc/shadow\n-e 2\n")
        .file("etc/rules.d/9-early.rules", b"# comment\n-D\n-b 8192\n")
        .file("etc/rules.d/README", b"not rules\n")
        .dir("etc/empty.d");
    let script = "#!/bin/sh\nset -e\n\
        build() {\n  dest=$1 src=$2\n  tmp=$(mktemp /tmp/rules.XXXXXXXX)\n\
        for r in $(/bin/ls -1v $src | grep \"\\.rules$\") ; do\n    cat $src/$r\n  done | awk '\n\
        { if (match($0, \"^\\\\s*#\")) { next; } if (match($0, \"^\\\\s*-e\")) { e = $0; next; } rules[n++] = $0 }\n\
        END { for (i = 0; i < n; i++) { printf \"%s\\n\", rules[i]; } if (e != \"\") printf \"%s\\n\", e; }' >> $tmp\n\
        if [ ! -s $tmp ]; then\n    rm -f $tmp\n    return 0\n  fi\n  cmp -s $tmp $dest > /dev/null 2>&1\n  if [ $? -eq 0 ]; then\n    rm -f $tmp\n    return 0\n  fi\n  cp $tmp $dest\n  chmod 0640 $dest\n  rm -f $tmp\n}\n\
        build /etc/rules /etc/rules.d\nbuild /etc/none /etc/empty.d\n";
    let (changes, report) = compute(&t, &[pkg("auditd", script)]).unwrap();
    assert!(report.is_empty(), "{report:?}");
    let (entry, content) = file(&changes, "etc/rules").expect("written");
    assert_eq!(
        String::from_utf8_lossy(content),
        "-D\n-b 8192\n-w /etc/shadow\n-e 2\n"
    );
    assert_eq!(entry.mode, 0o640);
    assert!(
        file(&changes, "etc/none").is_none(),
        "an empty result is not copied"
    );
}

/// jetty9's postinst: authbind's per-user file named by `` `id -u $JETTY_USER` `` and owned by
/// the account; `id USER` as a condition is the image's answer (a user it lacks fails it).
#[test]
fn id_answers_from_the_image_accounts() {
    let mut t = MemTree::new();
    t.file(
        "etc/passwd",
        b"root:x:0:0:root:/root:/bin/bash\njetty:x:100:101::/usr/share/jetty9:/bin/false\n",
    )
    .file("etc/group", b"root:x:0:\njetty:x:101:\n")
    .dir("etc");
    let script = "#!/bin/sh\nset -e\nJETTY_USER=jetty\nJETTY_GROUP=jetty\n\
        if ! id nobody-here > /dev/null 2>&1; then touch /etc/no-such-user; fi\n\
        if id $JETTY_USER > /dev/null 2>&1; then touch /etc/jetty-exists; fi\n\
        JETTY_UID=\"`id -u $JETTY_USER`\"\n\
        if [ ! -f \"/etc/authbind/byuid/$JETTY_UID\" ]; then\n\
        \tif [ ! -d \"/etc/authbind/byuid\" ]; then\n\t\tmkdir -p /etc/authbind/byuid\n\t\tchmod 755 /etc/authbind\n\tfi\n\
        \techo '0.0.0.0/0:1,1023' >/etc/authbind/byuid/$JETTY_UID\n\
        \techo '::/0,1-1023' >>/etc/authbind/byuid/$JETTY_UID\n\
        \tchown $JETTY_USER:$JETTY_GROUP /etc/authbind/byuid/$JETTY_UID\n\
        \tchmod 700 /etc/authbind/byuid/$JETTY_UID\nfi\n\
        echo \"$(id -un 100) $(id -g jetty) $(id -gn jetty)\" > /etc/ids\n\
        if [ -z \"`id -u dnsmasq 2> /dev/null`\" ]; then touch /etc/no-dnsmasq; fi\n";
    let (changes, report) = compute(&t, &[pkg("jetty9", script)]).unwrap();
    assert!(report.is_empty(), "{report:?}");
    let (entry, content) = file(&changes, "etc/authbind/byuid/100").expect("written");
    assert_eq!(
        String::from_utf8_lossy(content),
        "0.0.0.0/0:1,1023\n::/0,1-1023\n"
    );
    assert_eq!((entry.mode, entry.uid, entry.gid), (0o700, 100, 101));
    assert!(file(&changes, "etc/no-such-user").is_some());
    assert!(file(&changes, "etc/jetty-exists").is_some());
    let (_, ids) = file(&changes, "etc/ids").expect("written");
    assert_eq!(String::from_utf8_lossy(ids), "jetty 101 jetty\n");
    // A missing user's `id -u` prints nothing: the test is decided, not a guess.
    assert!(file(&changes, "etc/no-dnsmasq").is_some());
}

/// A helper script the postinst runs (walked in a shell of its own) that makes links inside
/// `list=$(…)`, as wordpress's `wp-setup --sync-wp-content` does: the links are made.
#[test]
fn links_made_inside_a_substitution_of_a_helper_are_applied() {
    let mut t = MemTree::new();
    t.file("usr/share/wp/plugins/akismet/a.php", b"")
        .file("usr/share/wp/plugins/index.php", b"")
        .dir("var/lib")
        .file(
            "usr/bin/sync-content",
            b"#!/bin/sh\nset -e\nadd() {\n  for dir in /usr/share/wp/$1/*; do\n    name=\"$(basename \"$dir\")\"\n    \
              if [ -e \"/var/lib/wp/$1/$name\" ]; then continue; fi\n    echo -n \"$name \"\n    \
              ln -sf \"$dir\" \"/var/lib/wp/$1/$name\"\n  done\n}\ndrop() {\n  for dir in /var/lib/wp/$1/*; do\n    if [ ! -h \"$dir\" ]; then continue; fi\n    \
              if [ -e \"$dir\" ]; then continue; fi\n    rm -f \"$dir\"\n  done\n}\nfor subdir in plugins; do\n  \
              mkdir -p /var/lib/wp/$subdir\n  list=$(add \"$subdir\")\n  [ -n \"$list\" ] && echo \"added: $list\"\n  \
              list=$(drop \"$subdir\")\ndone\n",
        )
        .mode("usr/bin/sync-content", 0o755);
    let (c, report) = compute(&t, &[pkg("wp", "#!/bin/sh\nset -e\nsync-content --sync\n")]).unwrap();
    assert!(report.is_empty(), "{report:?}");
    for link in ["var/lib/wp/plugins/akismet", "var/lib/wp/plugins/index.php"] {
        assert!(
            matches!(file(&c, link).map(|e| &e.0.kind), Some(EntryKind::Symlink { .. })),
            "{link}: {:?}",
            c.files.iter().map(|(e, _)| &e.path).collect::<Vec<_>>()
        );
    }
}

/// `ln SOURCE LINK` without `-s` (cups' postinst links the backends its debconf question selects,
/// split on `IFS=,`): LINK gets the file with its mode and owner; an existing LINK is refused
/// without `-f` and replaced with it; a directory is never linked.
#[test]
fn hard_links_are_made_as_copies_of_the_file() {
    let mut t = MemTree::new();
    t.file("usr/lib/cups/backend-available/lpd", b"lpd")
        .file("usr/lib/cups/backend-available/dnssd", b"dnssd")
        .dir("usr/lib/cups/backend")
        .file("etc/old", b"old")
        .file("etc/new", b"new")
        .dir("var/lib/dpkg");
    t.entries
        .get_mut("usr/lib/cups/backend-available/lpd")
        .expect("the fixture's file")
        .0
        .mode = 0o744;
    let script = "#!/bin/sh\nset -e\nlist='lpd, dnssd'\nlist=`echo $list | sed -e 's/, /,/g'`\nsave_IFS=$IFS\nIFS=,\n\
                  for module in $list; do\n  ln /usr/lib/cups/backend-available/$module /usr/lib/cups/backend/$module\n\
                  if [ \"$module\" = dnssd ]; then ln /usr/lib/cups/backend/dnssd /usr/lib/cups/backend/mdns; fi\ndone\n\
                  IFS=$save_IFS\ncd /usr/lib/cups/backend-available && ln lpd /etc\nln -f /etc/new /etc/old\n";
    let (changes, report) = compute(&t, &[pkg("cups", script)]).unwrap();
    assert!(report.is_empty(), "{report:?}");
    let lpd = file(&changes, "usr/lib/cups/backend/lpd").expect("the lpd link");
    assert_eq!((lpd.0.mode, lpd.1.as_slice()), (0o744, b"lpd".as_slice()));
    assert_eq!(
        file(&changes, "usr/lib/cups/backend/mdns").map(|f| f.1.as_slice()),
        Some(b"dnssd".as_slice())
    );
    assert_eq!(
        file(&changes, "etc/lpd").map(|f| f.1.as_slice()),
        Some(b"lpd".as_slice())
    );
    assert_eq!(
        file(&changes, "etc/old").map(|f| f.1.as_slice()),
        Some(b"new".as_slice())
    );

    // Without -f an existing name stays, and the call is reported with ln's reason.
    let (_, report) = compute(
        &t,
        &[pkg(
            "cups",
            "#!/bin/sh\nln /etc/new /etc/old\nln /usr/lib/cups /etc/cups\n",
        )],
    )
    .unwrap();
    let whats: Vec<&str> = report.iter().map(|r| r.what.as_str()).collect();
    assert!(whats.iter().any(|w| w.contains("File exists")), "{whats:?}");
    assert!(
        whats
            .iter()
            .any(|w| w.contains("hard link not allowed for directory")),
        "{whats:?}"
    );
}

/// A password read from the kernel's random numbers (dbconfig-common's `tr -dc … < /dev/urandom |
/// dd …`) and written into a configuration through a here-document and ucf: the file belongs to
/// the machine the image runs on. Both steps are left out as non-deterministic, with what makes
/// them at first start, and nothing half-written reaches the image.
#[test]
fn a_here_document_holding_a_random_value_is_left_out_as_non_deterministic() {
    let mut t = MemTree::new();
    t.file("usr/bin/ucf", b"#!/bin/sh\n").mode("usr/bin/ucf", 0o755);
    t.file("bin/sh", b"x")
        .dir("etc/dbconfig-common")
        .dir("tmp")
        .dir("var/lib/ucf")
        .dir("var/lib/dpkg");
    let script = "#!/bin/sh\nset -e\n\
                  pass=$(env LANG=C LC_ALL=C tr -dc \"[:alnum:]\" < /dev/urandom | dd bs=1 count=12 2>/dev/null)\n\
                  tfile=$(mktemp -t dbconfig-package-config.XXXXXX)\n\
                  cat > \"$tfile\" <<EOF\ndbc_dbuser='app'\ndbc_dbpass='$pass'\nEOF\n\
                  ucf --debconf-ok \"$tfile\" /etc/dbconfig-common/app.conf\nrm -f \"$tfile\"\n";
    let (changes, report) = compute(&t, &[pkg("app", script)]).unwrap();
    let whats: Vec<&str> = report.iter().map(|r| r.what.as_str()).collect();
    assert!(
        file(&changes, "etc/dbconfig-common/app.conf").is_none(),
        "{:?}",
        changes.files
    );
    let nondeterministic: Vec<&&str> = whats
        .iter()
        .filter(|w| w.starts_with(commands::SKIPPED_NONDETERMINISTIC))
        .collect();
    assert_eq!(
        nondeterministic.len(),
        2,
        "the here-document and the ucf call: {whats:?}"
    );
    assert!(
        nondeterministic
            .iter()
            .all(|w| w.contains("dpkg-reconfigure app")),
        "{whats:?}"
    );
    assert!(
        whats
            .iter()
            .any(|w| w.contains("cat > /tmp/dbconfig-package-config.")),
        "{whats:?}"
    );
    assert!(
        whats
            .iter()
            .any(|w| w.contains("ucf --debconf-ok /tmp/dbconfig-package-config.")),
        "{whats:?}"
    );
}

/// An alternative a package configured earlier installed is there for the scripts after it, as in
/// dpkg's run, although its links are written once every script has run: iptables-persistent's
/// postinst finds `iptables` (iptables' alternative) and saves the rules, which the image cannot
/// do (reported), instead of taking the branch that says iptables is missing.
#[test]
fn an_alternative_installed_earlier_is_seen_by_later_scripts() {
    let mut t = MemTree::new();
    t.file("bin/sh", b"x")
        .file("usr/sbin/xtables-nft-multi", b"x")
        .mode("usr/sbin/xtables-nft-multi", 0o755)
        .symlink("usr/sbin/iptables-nft", "xtables-nft-multi")
        .dir("etc/iptables")
        .dir("var/lib/dpkg");
    let iptables = pkg(
        "iptables",
        "#!/bin/sh\nset -e\nupdate-alternatives --install /usr/sbin/iptables iptables /usr/sbin/iptables-nft 20 \\\n  --slave /usr/sbin/iptables-save iptables-save /usr/sbin/iptables-nft\n",
    );
    let persistent = pkg(
        "iptables-persistent",
        "#!/bin/sh\nset -e\nif which iptables > /dev/null; then\n  iptables-save > /etc/iptables/rules.v4\nelse\n  echo missing\nfi\n\
         [ -x /usr/sbin/iptables-save ] && touch /etc/iptables/saver-found\n",
    );
    let (changes, report) = compute(&t, &[iptables, persistent]).unwrap();
    let whats: Vec<&str> = report.iter().map(|r| r.what.as_str()).collect();
    // The running kernel's firewall rules: the machine's own, left out as such with the file.
    assert!(
        whats
            .iter()
            .any(|w| w.starts_with(commands::SKIPPED_NONDETERMINISTIC)
                && w.contains("iptables-save > /etc/iptables/rules.v4")),
        "{whats:?}"
    );
    assert!(file(&changes, "etc/iptables/saver-found").is_some());
    // The links themselves are the alternatives module's to write.
    assert!(file(&changes, "usr/sbin/iptables").is_none());
}

/// What is made from the host's name is left out, and so is what is made from that, as
/// exim4-config's postinst does it: it exports debconf values (the host's name among them) to
/// an awk program reading `ENVIRON`, moves the result over its configuration, then runs a helper
/// that sources that configuration and generates a file from what it set. A variable the helper
/// assigns itself (`check`, set only by an option) is still its own, empty; a mode change of a
/// file left out is part of what is left out. Nothing is reported as not emulated.
#[test]
fn what_is_made_from_a_file_holding_the_hosts_name_is_left_out_too() {
    let mut t = MemTree::new();
    t.dir("etc/pkg")
        .dir("var/lib/pkg")
        .file(
            "usr/sbin/update-pkg",
            b"#!/bin/sh\nOUT=/var/lib/pkg/generated\ncase \"$1\" in -c) check=yes ;; esac\n. /etc/pkg/pkg.conf\n\
              if [ \"$check\" = yes ]; then exit 0; fi\necho \"domains=@:localhost:$other\" > $OUT.tmp\n\
              mv -f $OUT.tmp $OUT\nchmod 644 $OUT\n",
        )
        .mode("usr/sbin/update-pkg", 0o755);
    let postinst = "#!/bin/sh\nset -e\nname=\"$(hostname --fqdn)\"\nCONF=/etc/pkg/pkg.conf\n\
                    printf '%s\\n' \"other=''\" \"kind='local'\" > $CONF\nother=\"$name\"\nkind=local\nexport other kind\n\
                    awk '{ sub(/=.*/, \"=\\x27\" ENVIRON[substr($0, 1, index($0, \"=\") - 1)] \"\\x27\"); print }' < $CONF > $CONF.tmp\n\
                    mv $CONF.tmp $CONF\nupdate-pkg\n";
    let (changes, report) = compute(&t, &[pkg("pkg", postinst)]).unwrap();
    let entries: Vec<&str> = report.iter().map(|r| r.what.as_str()).collect();
    for path in ["/etc/pkg/pkg.conf", "/var/lib/pkg/generated"] {
        assert!(
            entries
                .iter()
                .any(|e| e.starts_with(commands::SKIPPED_NONDETERMINISTIC)
                    && e.contains(path)
                    && e.contains("host")),
            "{path} is left out as the host's: {entries:#?}"
        );
        assert!(file(&changes, &path[1..]).is_none(), "{path} is not in the image");
    }
    assert!(
        entries
            .iter()
            .all(|e| e.starts_with(commands::SKIPPED_NONDETERMINISTIC)),
        "nothing else is reported: {entries:#?}"
    );
}

/// A file sourced again after the script rewrote it is read anew (exim4's update-exim4.conf
/// sources the configuration its caller sourced, then rewrote); `id -u` is root's, as dpkg runs
/// the scripts.
#[test]
fn a_file_sourced_again_after_a_rewrite_is_read_anew() {
    let mut t = MemTree::new();
    t.dir("etc");
    let postinst = "#!/bin/sh\nset -e\necho 'A=1' > /etc/x.conf\n. /etc/x.conf\necho \"$A\" > /etc/first\n\
                    echo 'A=2' > /etc/x.conf\n. /etc/x.conf\necho \"$A\" > /etc/second\n\
                    if [ \"$(id -u)\" = 0 ]; then touch /etc/as-root; fi\n";
    let (changes, report) = compute(&t, &[pkg("pkg", postinst)]).unwrap();
    assert!(report.is_empty(), "{report:?}");
    assert_eq!(
        file(&changes, "etc/first").map(|(_, c)| c.as_slice()),
        Some(&b"1\n"[..])
    );
    assert_eq!(
        file(&changes, "etc/second").map(|(_, c)| c.as_slice()),
        Some(&b"2\n"[..])
    );
    assert!(file(&changes, "etc/as-root").is_some());
}

/// setupcon's shape: `TMPFILE=$(mktemp /tmp/…) || TMPFILE=$(mktemp /run/…) || …` as an `if`
/// condition stops at the first file made, and the EXIT trap's `rm -f $tempfiles` removes it:
/// no temporary file is left in the image, none of the fallbacks is made.
#[test]
fn a_mktemp_fallback_list_stops_at_the_first_file_and_the_exit_trap_removes_it() {
    let mut t = MemTree::new();
    t.dir("tmp").dir("run").dir("etc");
    let script = "#!/bin/sh\nset -e\ntempfiles=''\ntrap 'rm -f $tempfiles >/dev/null 2>&1' 0\n\
                  tempfile () {\n    if \\\n        TMPFILE=`mktemp /tmp/tmpkbd.XXXXXX 2>/dev/null` \\\n\
                  \x20           || TMPFILE=`mktemp /run/tmpkbd.XXXXXX 2>/dev/null` \\\n\
                  \x20           || TMPFILE=`mktemp 2>/dev/null`\n    then\n\
                  \x20       tempfiles=\"$tempfiles $TMPFILE\"\n        return 0\n    else\n\
                  \x20       TMPFILE=''\n        return 1\n    fi\n}\n\
                  tempfile || { echo cannot; exit 1; }\necho made > $TMPFILE\ncp $TMPFILE /etc/copy\n";
    let (changes, report) = compute(&t, &[pkg("console", script)]).unwrap();
    assert!(report.is_empty(), "{report:?}");
    let left: Vec<&str> = changes
        .files
        .iter()
        .map(|(e, _)| e.path.as_str())
        .filter(|p| p.starts_with("tmp/") || p.starts_with("run/"))
        .collect();
    assert!(left.is_empty(), "{left:?}");
    assert_eq!(
        file(&changes, "etc/copy").map(|(_, c)| c.as_slice()),
        Some(&b"made\n"[..])
    );
}

/// frr's postinst: `id -u` of a user that does not exist fails (`|| echo 0`); find with
/// parentheses, `-o`/`-a` and ids feeds a `while read` loop that only changes each file's owner
/// and mode (taken whatever order find lists them in); `getfacl -c` shows no ACL beyond the mode;
/// `-group` names an account the script made.
#[test]
fn find_expressions_feed_a_per_file_loop_as_frr_s_postinst_does() {
    let mut t = MemTree::new();
    t.file("etc/passwd", b"root:x:0:0:root:/root:/bin/sh\n")
        .file("etc/group", b"root:x:0:\n")
        .file("etc/shadow", b"root:*:19000:0:99999:7:::\n")
        .file("etc/gshadow", b"root:*::\n")
        .file("etc/frr/daemons", b"bgpd=no\n")
        .file("etc/frr/frr.conf", b"!\n")
        .file("etc/frr/other/x.conf", b"x\n")
        .dir("var/log")
        .dir("bin");
    for tool in ["adduser", "addgroup"] {
        let path = format!("usr/sbin/{tool}");
        t.file(&path, b"#!/bin/true\n").mode(&path, 0o755);
    }
    let script = "#!/bin/sh\nset -e\naddgroup --system frrvty\naddgroup --system frr\n\
                  adduser --system --ingroup frr --home /nonexistent --no-create-home frr\n\
                  mkdir -m 0755 -p /var/log/frr\n\
                  quaggauid=`id -u quagga 2>/dev/null || echo 0`\n\
                  quaggagid=`id -g quagga 2>/dev/null || echo 0`\n\
                  find /etc/frr /var/log/frr \\( -uid 0 -o -uid $quaggauid \\) -a \\( -gid 0 -o -gid $quaggauid \\) | \\\n\
                  \twhile read filename; do\n\
                  \tif { getfacl -c \"$filename\" 2>/dev/null || true; } | grep -E -q -v '^((user|group|other)::|$)'; then\n\
                  \t\t:\n\telse\n\t\tchown frr: \"$filename\"\n\t\tchmod o-rwx \"$filename\"\n\tfi\ndone\n\
                  find /etc/frr -maxdepth 1 \\( -name vtysh.conf -o -name frr.conf \\) -group frr -exec chgrp frrvty {} \\;\n";
    let (changes, report) = compute(&t, &[pkg("frr", script)]).unwrap();
    assert!(report.is_empty(), "{report:#?}");
    let owner = |p: &str| {
        file(&changes, p)
            .map(|(e, _)| (e.uname.clone(), e.gname.clone(), e.mode))
            .unwrap_or_else(|| panic!("{p} not changed: {changes:#?}"))
    };
    assert_eq!(owner("etc/frr/daemons"), ("frr".into(), "frr".into(), 0o640));
    assert_eq!(owner("etc/frr/other"), ("frr".into(), "frr".into(), 0o750));
    assert_eq!(owner("var/log/frr"), ("frr".into(), "frr".into(), 0o750));
    // The second find picked frr.conf by name and group.
    assert_eq!(owner("etc/frr/frr.conf"), ("frr".into(), "frrvty".into(), 0o640));
}

/// A loop that does something whose result depends on the order of its lines (appending them
/// to a file) does not take find's unsorted lines: reported, not guessed.
#[test]
fn an_order_dependent_loop_does_not_take_find_s_lines() {
    let mut t = MemTree::new();
    t.file("etc/app/a.conf", b"a\n")
        .file("etc/app/b.conf", b"b\n")
        .dir("bin");
    let script = "#!/bin/sh\nset -e\nfind /etc/app -name '*.conf' | while read f; do echo \"$f\" >> /etc/app.list; done\n";
    let (changes, report) = compute(&t, &[pkg("app", script)]).unwrap();
    assert!(file(&changes, "etc/app.list").is_none(), "{changes:#?}");
    assert!(!report.is_empty());
    // Nor one whose output is kept (a substitution), nor one where a bare test may end the loop
    // under `set -e` at a line that depends on the order, nor one that reaches below its file.
    for body in [
        "x=$(find /etc/app -name '*.conf' | while read f; do basename \"$f\"; done)\necho \"$x\" > /etc/app.list\n",
        "find /etc/app -name '*.conf' | while read f; do grep -q a \"$f\"; chmod 600 \"$f\"; done\n",
        "find /etc/app -name '*.conf' | while read f; do chmod -R 600 \"$f\"; done\n",
        "find /etc/app -name '*.conf' | while read f; do chmod 600 \"$(dirname \"$f\")\"; done\n",
    ] {
        let script = format!("#!/bin/sh\nset -e\n{body}");
        let (changes, report) = compute(&t, &[pkg("app", &script)]).unwrap();
        assert!(!report.is_empty(), "{body}: {changes:#?}");
        assert!(file(&changes, "etc/app.list").is_none(), "{body}");
        assert!(file(&changes, "etc/app/a.conf").is_none(), "{body}: {changes:#?}");
    }
}

/// cups' postinst updates its queues only where the scheduler answers (`LC_ALL=C lpstat -r |
/// grep -v not`): no daemon runs while an image is built, so nothing is done, nothing reported.
#[test]
fn cups_queues_are_left_alone_without_a_running_scheduler() {
    let mut t = MemTree::new();
    t.file("usr/bin/lpstat", b"\x7fELF")
        .mode("usr/bin/lpstat", 0o755)
        .file("usr/bin/lpinfo", b"\x7fELF")
        .mode("usr/bin/lpinfo", 0o755)
        .dir("var/cache/cups")
        .dir("bin");
    let script = "#!/bin/sh\nset -e\nif which lpstat > /dev/null 2>&1 && \\\n\twhich lpinfo > /dev/null 2>&1 && \\\n\
                  \tLC_ALL=C lpstat -h /run/cups/cups.sock -r | grep -v not > /dev/null 2>&1; then\n\
                  \ttouch /var/cache/cups/ppd-updates\n\tlpinfo -h /run/cups/cups.sock -m > /tmp/x\nfi\n";
    let (changes, report) = compute(&t, &[pkg("cups", script)]).unwrap();
    assert!(report.is_empty(), "{report:#?}");
    assert!(file(&changes, "var/cache/cups/ppd-updates").is_none());
}

/// sendmail's shape: a helper runs a Perl configuration tool the walk does not reproduce, then
/// sources the file that tool writes and exits when it says hands off. In the image that file
/// is missing, so the walk exits there; what the helper would have run next is told, with the
/// tool that may have decided it, instead of being dropped silently.
#[test]
fn an_exit_after_an_unreproduced_tool_tells_what_follows() {
    let mut t = MemTree::new();
    t.file(
        "usr/share/app/update_conf",
        b"#!/usr/bin/perl -w\nopen(my $f, '>', '/etc/app/app.conf');\n",
    )
    .mode("usr/share/app/update_conf", 0o755)
    .dir("etc/app")
    .dir("bin");
    let script = "#!/bin/sh\nset -e\n/usr/share/app/update_conf\n\
                  if [ -f /etc/app/app.conf ]; then\n  . /etc/app/app.conf\nfi\n\
                  if [ \"$HANDS_OFF\" != 'No' ]; then\n  exit 0\nfi\n\
                  touch /etc/app/generated\n";
    let (changes, report) = compute(&t, &[pkg("app", script)]).unwrap();
    let what: Vec<&str> = report.iter().map(|r| r.what.as_str()).collect();
    assert!(file(&changes, "etc/app/generated").is_none());
    assert!(
        what.iter()
            .any(|w| w.starts_with("touch /etc/app/generated")
                && w.contains("after `/usr/share/app/update_conf`")),
        "{what:#?}"
    );
    // An exit no decision leads to is the install's too (sendmail-bin's postinst ends with
    // `exit 0;` before code it never runs).
    let unconditional = "#!/bin/sh\nset -e\n/usr/share/app/update_conf\nexit 0\ntouch /etc/app/generated\n";
    let (_, report) = compute(&t, &[pkg("app", unconditional)]).unwrap();
    assert!(report.iter().all(|r| !r.what.contains("touch")), "{report:#?}");
    // Without an unreproduced command before it, the same exit is the install's: nothing told.
    let plain =
        "#!/bin/sh\nset -e\nif [ \"$HANDS_OFF\" != 'No' ]; then\n  exit 0\nfi\ntouch /etc/app/generated\n";
    let (_, report) = compute(&t, &[pkg("app", plain)]).unwrap();
    assert!(report.is_empty(), "{report:#?}");
}

/// find names what is below a start from the start as given: on a merged-/usr image `/lib/app`
/// is `/usr/lib/app`, but `-path '/lib/app/*'` matches and `-print` prints `/lib/app/k`.
#[test]
fn find_names_paths_from_the_start_as_given() {
    let mut t = MemTree::new();
    t.symlink("lib", "usr/lib")
        .file("usr/lib/app/k", b"k")
        .file("usr/lib/app/keep", b"x")
        .dir("etc")
        .dir("bin");
    let script = "#!/bin/sh\nset -e\nFOUND=$(find /lib/app -name k)\necho \"$FOUND\" > /etc/found\n\
                  find /lib/app -path '/lib/app/k*' -type f ! -name keep -delete\n";
    let (changes, report) = compute(&t, &[pkg("app", script)]).unwrap();
    assert!(report.is_empty(), "{report:#?}");
    assert_eq!(
        file(&changes, "etc/found").map(|(_, c)| c.as_slice()),
        Some(&b"/lib/app/k\n"[..])
    );
    assert!(
        changes.removed.iter().any(|p| p == "usr/lib/app/k"),
        "{changes:#?}"
    );
    assert!(!changes.removed.iter().any(|p| p == "usr/lib/app/keep"));
}

/// A braced list that changes files, in a condition's pipeline, is run once (by the walk of the
/// pipeline), not a first time while the walk tries to decide the condition.
#[test]
fn a_list_in_a_condition_s_pipeline_runs_once() {
    let mut t = MemTree::new();
    t.dir("etc").dir("bin");
    let script = "#!/bin/sh\nset -e\nif { mkdir /etc/newdir; echo y; } | unknowncmd | grep -q y; then\n  touch /etc/yes\nfi\n";
    let (changes, report) = compute(&t, &[pkg("app", script)]).unwrap();
    assert!(report.iter().all(|r| !r.what.contains("exists")), "{report:#?}");
    assert!(
        changes.files.iter().any(|(e, _)| e.path == "etc/newdir"),
        "{changes:#?}"
    );
}

/// What a command inside `$(…)` writes to a file is written (or reported), not captured as the
/// substitution's value: `x=$(echo x >> /etc/log)` appends to the log and `x` is not "x".
#[test]
fn a_write_inside_a_substitution_goes_to_its_file() {
    let mut t = MemTree::new();
    t.dir("etc").dir("bin");
    let script = "#!/bin/sh\nset -e\nx=$(echo x >> /etc/log)\necho \"[$x]\" > /etc/seen\n\
                  q=$(grep -q a /etc/log > /dev/null && echo found)\necho \"$q\" > /etc/q\n";
    let (changes, report) = compute(&t, &[pkg("app", script)]).unwrap();
    let text = |p: &str| file(&changes, p).map(|(_, c)| String::from_utf8_lossy(c).into_owned());
    assert_eq!(text("etc/log").as_deref(), Some("x\n"));
    // Its value is not taken as known (the write, not an answer): what uses it is reported.
    assert!(text("etc/seen").is_none(), "{report:#?}");
    assert!(
        report.iter().any(|r| r.what.starts_with("echo \"[$x]\"")),
        "{report:#?}"
    );
    // Output to /dev/null is still nothing the value holds.
    assert_eq!(text("etc/q").as_deref(), Some("\n"), "{report:#?}");
}

/// A substitution reading a file through `<` (cyrus-common's `getconf`, which reads
/// /etc/imapd.conf with `sed --silent … < "${CONF}" | head -1`): its output is known, so the
/// file the postinst makes where the configuration says is made there.
#[test]
fn a_substitution_reads_the_file_its_command_is_given() {
    let mut t = MemTree::new();
    t.file(
        "etc/imapd.conf",
        b"configdirectory: /var/lib/cyrus\npartition-default: /var/spool/cyrus/mail\n",
    )
    .dir("var/lib/cyrus");
    let postinst = "#!/bin/sh\nset -e\nCONF=\"/etc/imapd.conf\"\ngetconf () {\n    if [ -r \"${CONF}\" ]; then\n\tconfvalue=$(sed --silent -e \"/^[[:blank:]]*${1}:/ { \\\n\ts#^[[:blank:]]*${1}:[[:blank:]]*## \\\n\tp\n\t}\" < \"${CONF}\" | head -1)\n\tresult=${confvalue:-$2}\n    else\n\tresult=${2}\n    fi\n}\ngetconf configdirectory /x\ntouch \"${result}/user_deny.db\"\ngetconf missingkey /var/lib/default\ntouch \"${result}.stamp\"\nv=$(cat < /etc/absent)\ntouch \"/var/lib/cyrus/$v\"\n";
    let (c, report) = compute(&t, &[pkg("cyrus-common", postinst)]).unwrap();
    let made: Vec<&str> = c.files.iter().map(|(e, _)| e.path.as_str()).collect();
    assert!(made.contains(&"var/lib/cyrus/user_deny.db"), "{made:?}");
    assert!(made.contains(&"var/lib/default.stamp"), "{made:?}");
    // A file the image does not have: what it would print is not known.
    assert_eq!(report.len(), 1, "{report:?}");
    assert!(
        report[0].what.contains("its arguments are not known"),
        "{report:?}"
    );
}

/// fping 5.1's postinst: `if ! setcap cap_net_raw+ep /usr/bin/fping; then` falls back to a
/// set-user-id override. setcap, which debcast applies, succeeds on the file the image has, so
/// the capability is set and no override is added (as dpkg's run did).
#[test]
fn a_setcap_that_succeeds_keeps_the_fallback_from_running() {
    let mut t = MemTree::new();
    t.file("usr/bin/fping", b"\x7fELF").dir("var/lib/dpkg");
    // Without libcap2-bin there is no setcap: the fallback adds the override (and nothing else
    // is told of setcap than that it is missing).
    let without = t.clone();
    t.file("usr/sbin/setcap", b"\x7fELF")
        .mode("usr/sbin/setcap", 0o755);
    let postinst = "#!/bin/sh\nset -e\ncase \"$1\" in\n    (configure)\n        if [ \"$(uname -s)\" = \"Linux\" ]; then\n            if ! setcap cap_net_raw+ep /usr/bin/fping; then\n                if dpkg-statoverride --list /usr/bin/fping > /dev/null; then\n                    echo exists 1>&2\n                else\n                    dpkg-statoverride --update --add root root 4755 /usr/bin/fping\n                fi\n            fi\n        fi\n    ;;\nesac\n";
    let (changes, report) = compute(&t, &[pkg("fping", postinst)]).unwrap();
    assert!(report.is_empty(), "{report:?}");
    let (e, _) = file(&changes, "usr/bin/fping").expect("fping changed");
    assert_eq!(e.mode, 0o644);
    assert!(e.xattrs.contains_key("security.capability"), "{e:?}");
    assert!(file(&changes, "var/lib/dpkg/statoverride").is_none());
    // Inside a list, setcap is left to the list as a whole: its other commands run too.
    let listed = "#!/bin/sh\nif setcap cap_net_raw+ep /usr/bin/fping && other-tool --x; then :; fi\n";
    let (changes, report) = compute(&t, &[pkg("fping", listed)]).unwrap();
    assert!(
        report.iter().any(|r| r.what.starts_with("other-tool --x")),
        "{report:?}"
    );
    let (e, _) = file(&changes, "usr/bin/fping").expect("fping changed");
    assert!(e.xattrs.contains_key("security.capability"), "{e:?}");
    // setcap on a file the image lacks fails, and the fallback runs (and is reported, as the
    // override's file is missing too).
    let (_, report) = compute(&MemTree::new(), &[pkg("fping", postinst)]).unwrap();
    assert!(!report.is_empty());
    let (changes, report) = compute(&without, &[pkg("fping", postinst)]).unwrap();
    let what: Vec<&str> = report.iter().map(|r| r.what.as_str()).collect();
    assert!(
        what[0].starts_with("setcap cap_net_raw+ep /usr/bin/fping (setcap is not in the image"),
        "{what:?}"
    );
    // The fallback ran (this tree has no accounts for its override).
    assert!(
        what[1].starts_with("dpkg-statoverride --update --add root root 4755 /usr/bin/fping"),
        "{what:?}"
    );
    assert!(
        !file(&changes, "usr/bin/fping").is_some_and(|(e, _)| e.xattrs.contains_key("security.capability"))
    );
}

/// ntpsec's postinst: `[ -n "$(ls -A /var/log/ntpstats 2> /dev/null)" ]` on a fresh install,
/// where the directory is not there: ls prints nothing, so the migration does not run; a
/// directory a left-out command made is not listed (its content is not known).
#[test]
fn ls_of_a_missing_directory_prints_nothing() {
    let mut t = MemTree::new();
    t.dir("var/log").dir("var/lib/dpkg");
    let script = "#!/bin/sh\nset -e\nif [ -n \"$(ls -A /var/log/ntpstats 2> /dev/null)\" ]; then\n\
                  \tinstall -d /var/log/ntpsec\nfi\n";
    let (changes, report) = compute(&t, &[pkg("ntpsec", script)]).unwrap();
    assert!(report.is_empty(), "{report:?}");
    assert!(file(&changes, "var/log/ntpsec").is_none(), "{changes:?}");
    // With something in it, it is migrated.
    t.file("var/log/ntpstats/loopstats", b"x");
    let (changes, _) = compute(&t, &[pkg("ntpsec", script)]).unwrap();
    assert!(file(&changes, "var/log/ntpsec").is_some_and(|(e, _)| e.is_dir()));
    // What ls says on standard error sent into the value (`2>&1`) is not known: a guess.
    let mut fresh = MemTree::new();
    fresh.dir("var/log").dir("var/lib/dpkg");
    let complaint = "#!/bin/sh\nset -e\nif [ -z \"$(ls -A /var/log/ntpstats 2>&1)\" ]; then\n\tinstall -d /var/log/empty\nfi\n";
    let (_, report) = compute(&fresh, &[pkg("ntpsec", complaint)]).unwrap();
    assert!(
        report.iter().any(|r| r.what.contains("applied on a guess")),
        "{report:?}"
    );
    // A directory a left-out command made (with or without a trailing slash) is not listed.
    let munge = "#!/bin/sh\nset -e\nmkdir -p /etc/munge\nmungekey -c\nif [ -n \"$(ls -A /etc/munge/)\" ]; then\n\tinstall -d /etc/munge/keyed\nfi\n";
    let (_, report) = compute(&fresh, &[pkg("munge", munge)]).unwrap();
    assert!(
        report
            .iter()
            .any(|r| r.what.starts_with("install -d /etc/munge/keyed")),
        "{report:?}"
    );
}

/// popularity-contest's postinst: a cron file whose minute and hour come from `shuf` (a random
/// permutation) is left out as non-deterministic by nature, with what makes it at first start.
#[test]
fn a_here_document_of_shuf_s_numbers_is_left_out() {
    let mut t = MemTree::new();
    t.dir("etc/cron.d").dir("var/lib/dpkg");
    let script = "#!/bin/sh\nset -e\nrandom_number() {\n\tshuf -i 0-\"$(( $1 - 1 ))\" -n1\n}\n\
                  MIN=`random_number 60`\nHOUR=`random_number 24`\n\
                  cat > /etc/cron.d/popularity-contest <<EOF\n$MIN $HOUR * * * root test -x /etc/cron.daily/popularity-contest\nEOF\n";
    let (changes, report) = compute(&t, &[pkg("popularity-contest", script)]).unwrap();
    assert!(
        file(&changes, "etc/cron.d/popularity-contest").is_none(),
        "{changes:?}"
    );
    let what: Vec<&str> = report.iter().map(|r| r.what.as_str()).collect();
    assert!(
        what.len() == 1
            && what[0]
                .starts_with("skipped: non-deterministic by nature: cat > /etc/cron.d/popularity-contest"),
        "{what:?}"
    );
}

/// webalizer's postinst: `sed -i` whose program holds `$(hostname)` edits a file it names: the
/// file belongs to the machine and is left out as non-deterministic by nature (with what makes
/// it at first start); a later edit of it is not made on top.
#[test]
fn an_edit_in_place_with_the_host_s_name_leaves_the_file_out() {
    let mut t = MemTree::new();
    t.file(
        "etc/webalizer/webalizer.conf.sample",
        b"#HostName localhost\n#OutputDir /var/www\n",
    )
    .dir("var/lib/dpkg");
    let script = "#!/bin/sh\nset -e\nconffile=/etc/webalizer/webalizer.conf\n\
                  cat /etc/webalizer/webalizer.conf.sample > $conffile\nWEBHOSTNAME=$(hostname)\n\
                  sed -i -e \"s/^#HostName[ \\t].*/HostName ${WEBHOSTNAME}/\" -e \"s/^#OutputDir[ \\t]/OutputDir /\" $conffile\n\
                  sed -i -e \"s|^OutputDir[ \\t].*|OutputDir /srv|\" $conffile\n";
    let (changes, report) = compute(&t, &[pkg("webalizer", script)]).unwrap();
    assert!(
        file(&changes, "etc/webalizer/webalizer.conf").is_none(),
        "{changes:?}"
    );
    let what: Vec<&str> = report.iter().map(|r| r.what.as_str()).collect();
    assert!(
        what.first().is_some_and(
            |w| w.starts_with("skipped: non-deterministic by nature: sed -i -e") && w.contains("host")
        ),
        "{what:?}"
    );
}

/// wide-dhcpv6-client's postinst: a key made from the kernel's random numbers through a
/// pipeline (`dd if=/dev/random | uuencode -m KEY | head -n 2 | tail -n 1 > KEY`) is left out
/// as non-deterministic by nature; what a pipeline of known text writes is still made.
#[test]
fn a_file_written_from_a_random_pipeline_is_left_out() {
    let mut t = MemTree::new();
    t.dir("etc/wide-dhcpv6").dir("var/lib/dpkg");
    let script = "#!/bin/sh\nset -e\nKEY=/etc/wide-dhcpv6/dhcp6cctlkey\numask 066\n\
                  [ -r \"${KEY}\" ] || {\n\tdd if=/dev/random bs=32 count=1 2>/dev/null | \\\n\
                  \t\tuuencode -m ${KEY} | \\\n\t\thead -n 2 | tail -n 1 > ${KEY}\n}\n\
                  umask 022\necho a b | tr a-z A-Z > /etc/wide-dhcpv6/known\n";
    let (changes, report) = compute(&t, &[pkg("wide-dhcpv6-client", script)]).unwrap();
    assert!(
        file(&changes, "etc/wide-dhcpv6/dhcp6cctlkey").is_none(),
        "{changes:?}"
    );
    assert_eq!(
        file(&changes, "etc/wide-dhcpv6/known").map(|(_, c)| c.clone()),
        Some(b"A B\n".to_vec())
    );
    let what: Vec<&str> = report.iter().map(|r| r.what.as_str()).collect();
    assert!(
        what.iter().any(|w| w
            .starts_with("skipped: non-deterministic by nature: tail -n 1 > /etc/wide-dhcpv6/dhcp6cctlkey")),
        "{what:?}"
    );
    assert!(
        what.iter()
            .all(|w| w.starts_with("skipped: non-deterministic by nature")),
        "{what:?}"
    );
}

/// A tool debcast computes, called where its package is not in the image (`update-inetd …
/// || true` without update-inetd): dpkg's run finds no such command, so nothing is made, and
/// the report says so.
#[test]
fn a_computed_tool_the_image_lacks_makes_nothing() {
    let mut t = MemTree::new();
    t.file("etc/inetd.conf", b"#:OTHER: Other services\n")
        .dir("var/lib/dpkg");
    let script = "#!/bin/sh\nupdate-inetd --group OTHER --add 'talk\\tdgram\\tudp\\twait\\tnobody.tty\\t/usr/sbin/in.talkd\\tin.talkd' || true\n";
    let (changes, report) = compute(&t, &[pkg("talkd", script)]).unwrap();
    assert!(file(&changes, "etc/inetd.conf").is_none(), "{changes:?}");
    assert_eq!(report.len(), 1, "{report:?}");
    assert!(
        report[0].what.contains("update-inetd is not in the image: under dpkg the command is not found (status 127) and makes nothing; its package, update-inetd, is not in the package set"),
        "{report:?}"
    );
    // With the tool, the entry is added.
    t.file("usr/sbin/update-inetd", b"#!/usr/bin/perl\n")
        .mode("usr/sbin/update-inetd", 0o755);
    let (changes, _) = compute(&t, &[pkg("talkd", script)]).unwrap();
    assert!(
        file(&changes, "etc/inetd.conf")
            .is_some_and(|(_, c)| String::from_utf8_lossy(c).contains("in.talkd"))
    );

    // As a condition it fails: `if`'s other branch and `||` run, `&&` does not; each call is
    // told once.
    let mut t = MemTree::new();
    t.dir("etc").dir("var/lib/dpkg");
    let script = "#!/bin/sh\nset -e\nif update-inetd --add x; then touch /etc/ok; else touch /etc/fail; fi\n\
                  update-inetd --add y && touch /etc/and\nucf /a /b || touch /etc/or\n";
    let (changes, report) = compute(&t, &[pkg("talkd", script)]).unwrap();
    assert!(
        file(&changes, "etc/fail").is_some() && file(&changes, "etc/or").is_some(),
        "{changes:?}"
    );
    assert!(
        file(&changes, "etc/ok").is_none() && file(&changes, "etc/and").is_none(),
        "{changes:?}"
    );
    let what: Vec<&str> = report.iter().map(|r| r.what.as_str()).collect();
    assert_eq!(what.len(), 3, "{what:?}");
    assert!(
        what.iter()
            .all(|w| w.contains("is not in the image: under dpkg the command is not found")),
        "{what:?}"
    );

    // A tool that is a hard link to the program is there.
    let mut t = MemTree::new();
    t.file("etc/inetd.conf", b"#:OTHER: Other services\n")
        .dir("var/lib/dpkg");
    t.file("usr/sbin/update-inetd.real", b"#!/usr/bin/perl\n")
        .mode("usr/sbin/update-inetd.real", 0o755);
    t.entries.insert(
        "usr/sbin/update-inetd".into(),
        (
            crate::entry::Entry::generated(
                "usr/sbin/update-inetd",
                crate::entry::EntryKind::Hardlink {
                    target: "usr/sbin/update-inetd.real".into(),
                },
                0o755,
            ),
            Vec::new(),
        ),
    );
    let script = "#!/bin/sh\nupdate-inetd --group OTHER --add 'talk\\tdgram\\tudp\\twait\\tnobody.tty\\t/usr/sbin/in.talkd\\tin.talkd'\n";
    let (changes, report) = compute(&t, &[pkg("talkd", script)]).unwrap();
    assert!(report.is_empty(), "{report:?}");
    assert!(file(&changes, "etc/inetd.conf").is_some());
}

/// munin-node's plugins: `munin-node-configure --shell` probes the machine it runs on and prints
/// the links to make, which the postinst feeds to sh. The probe is left out as non-deterministic
/// by nature, and so is the sh that runs what it printed; the log and the rest go on.
#[test]
fn munin_node_plugins_chosen_by_probing_the_machine_are_left_out() {
    let mut t = MemTree::new();
    t.dir("etc/munin/plugins").dir("var/log/munin").dir("tmp");
    let script = "#!/bin/sh\nset -e\nprevver=\"$2\"\ninit_plugins() {\n\
                  \tTMPFILE=$(mktemp /tmp/munin-node.configure.XXXXXXXXXX)\n\
                  \tTMPFILE_STDERR=$(mktemp /tmp/munin-node.configure.err.XXXXXXXXXX)\n\
                  \tif [ -n \"$prevver\" ]; then\n\
                  \t\tMUNIN_NODE_CMD=\"munin-node-configure --shell --newer '${prevver%-*}'\"\n\
                  \telse\n\t\tMUNIN_NODE_CMD=\"munin-node-configure --shell\"\n\tfi\n\
                  \t$MUNIN_NODE_CMD 2>\"$TMPFILE_STDERR\" >\"$TMPFILE\" || true\n\
                  \tsh <\"$TMPFILE\"\n\
                  \trm -f \"$TMPFILE\" \"$TMPFILE_STDERR\"\n}\n\
                  case \"$1\" in\n\tconfigure)\n\t\tinit_plugins\n\t\t;;\nesac\n\
                  touch /etc/munin/after\n";
    let (changes, report) = compute(&t, &[pkg("munin-node", script)]).unwrap();
    let what: Vec<&str> = report.iter().map(|r| r.what.as_str()).collect();
    assert_eq!(what.len(), 2, "{what:?}");
    assert!(
        what.iter()
            .all(|w| w.starts_with(commands::SKIPPED_NONDETERMINISTIC)
                && w.contains("made at first start: munin-node-configure --shell | sh")),
        "{what:?}"
    );
    assert!(
        what[0].contains("munin-node-configure --shell > /tmp/"),
        "{what:?}"
    );
    assert!(
        what[1].starts_with("skipped: non-deterministic by nature: sh (what it works from belongs"),
        "{what:?}"
    );
    assert!(file(&changes, "etc/munin/after").is_some());
}

/// nvme-cli's host identity: `nvme gen-hostnqn` (the machine's DMI product UUID, else random)
/// and `uuidgen` printed into /etc/nvme: the machine's, left out with what makes them.
#[test]
fn a_random_identity_printed_into_a_file_is_left_out() {
    let mut t = MemTree::new();
    t.dir("etc/nvme");
    let script = "#!/bin/sh\nset -e\nif [ ! -s /etc/nvme/hostnqn ]; then\n\tnvme gen-hostnqn > /etc/nvme/hostnqn\nfi\n\
                  if [ ! -s /etc/nvme/hostid ]; then\n\tuuidgen > /etc/nvme/hostid\nfi\n\
                  chmod 644 /etc/nvme/hostid\nuuidgen --sha1 -n @dns -N x > /etc/nvme/named\n";
    let (changes, report) = compute(&t, &[pkg("nvme-cli", script)]).unwrap();
    let what: Vec<&str> = report.iter().map(|r| r.what.as_str()).collect();
    assert_eq!(what.len(), 3, "{what:?}");
    for (entry, file) in what[..2].iter().zip(["hostnqn", "hostid"]) {
        assert!(
            entry.starts_with(commands::SKIPPED_NONDETERMINISTIC)
                && entry.contains(&format!("> /etc/nvme/{file}"))
                && entry.contains("dpkg-reconfigure nvme-cli"),
            "{what:?}"
        );
    }
    assert!(file(&changes, "etc/nvme/hostnqn").is_none());
    assert!(file(&changes, "etc/nvme/hostid").is_none());
    // A name-based uuid is the same everywhere: not the machine's.
    assert!(
        !what[2].starts_with(commands::SKIPPED_NONDETERMINISTIC),
        "{what:?}"
    );
}

/// An `exit 1` in a background job (or a subshell) ends the job only: no failure of the
/// script's walk is told at its later, normal exit.
#[test]
fn an_exit_in_a_job_is_not_the_scripts() {
    let mut t = MemTree::new();
    t.dir("etc").file("etc/a", b"");
    for first in [
        "[ -d /nonexistent ] || exit 1 &",
        "( [ -d /nonexistent ] || exit 1 )",
    ] {
        let script = format!(
            "#!/bin/sh\n{first}\nif [ \"$1\" = configure ]; then exit 0; fi\nuseradd frob\nchmod 600 /etc/a\n"
        );
        let (_, report) = compute(&t, &[pkg("p", &script)]).unwrap();
        assert!(report.is_empty(), "{first}: {report:?}");
    }
}

/// A file's mark as the machine's goes with the file: a later package's `mktemp` that gets the
/// same name, a rewrite with known content, or its removal leaves a file like any other.
#[test]
fn a_machine_file_removed_or_rewritten_is_no_longer_the_machines() {
    let mut t = MemTree::new();
    t.dir("etc/munin/plugins").dir("tmp").dir("etc/b");
    let munin = "#!/bin/sh\nset -e\nT=$(mktemp)\nmunin-node-configure --shell > $T\nsh < $T\nrm -f $T\n";
    let bee = "#!/bin/sh\nset -e\nT=$(mktemp)\necho \"touch /etc/b/x\" > $T\nsh < $T\nrm -f $T\n";
    let (_, report) = compute(&t, &[pkg("munin-node", munin), pkg("bee", bee)]).unwrap();
    let bee_entries: Vec<&str> = report
        .iter()
        .filter(|r| r.package == "bee")
        .map(|r| r.what.as_str())
        .collect();
    assert_eq!(bee_entries, ["sh"], "{report:?}");
    // Rewritten in place by the same script: its new content is known.
    let rewrite = "#!/bin/sh\nset -e\nmunin-node-configure --shell > /tmp/list\necho \"touch /etc/b/y\" > /tmp/list\nsh < /tmp/list\n";
    let (_, report) = compute(&t, &[pkg("munin-node", rewrite)]).unwrap();
    let what: Vec<&str> = report.iter().map(|r| r.what.as_str()).collect();
    assert_eq!(what.len(), 2, "{what:?}");
    assert_eq!(what[1], "sh", "{what:?}");
}

/// A command that prints a random value or the host's name to the script's output makes no
/// file: it is not an effect left out (as it was, it stays listed as not reproduced, or is
/// harmless).
#[test]
fn printing_a_random_value_to_the_terminal_is_not_left_out() {
    let mut t = MemTree::new();
    t.dir("etc");
    let script = "#!/bin/sh\nset -e\nuuidgen\nhostname -f\nnvme gen-hostnqn\n";
    let (_, report) = compute(&t, &[pkg("p", script)]).unwrap();
    assert!(
        report
            .iter()
            .all(|r| !r.what.starts_with(commands::SKIPPED_NONDETERMINISTIC)),
        "{report:?}"
    );
}

/// What is read from a file a left-out command makes, through `$(…)` or directly, and written
/// elsewhere, is left out as non-deterministic with the same command to make it at first start.
#[test]
fn a_value_read_from_a_left_out_file_is_the_machines() {
    let mut t = MemTree::new();
    t.dir("etc/ssh").dir("etc/motd.d");
    let script = "#!/bin/sh\nset -e\nssh-keygen -q -f /etc/ssh/ssh_host_ed25519_key -N '' -t ed25519\n\
                  fp=$(cat /etc/ssh/ssh_host_ed25519_key.pub)\necho \"$fp\" > /etc/motd.d/fp\n\
                  cat /etc/ssh/ssh_host_ed25519_key.pub > /etc/motd.d/fp2\n";
    let (changes, report) = compute(&t, &[pkg("openssh-server", script)]).unwrap();
    let what: Vec<&str> = report.iter().map(|r| r.what.as_str()).collect();
    assert_eq!(what.len(), 3, "{what:?}");
    assert!(
        what.iter()
            .all(|w| w.starts_with(commands::SKIPPED_NONDETERMINISTIC)
                && w.ends_with("(made at first start: ssh-keygen -A)")),
        "{what:?}"
    );
    assert!(file(&changes, "etc/motd.d/fp").is_none());
    assert!(file(&changes, "etc/motd.d/fp2").is_none());
}

/// bash's `$RANDOM` (debsecan-create-cron picks its cron entry's minute with `$(($RANDOM %
/// 60))`): the entry is the machine's, left out as non-deterministic. Under dash the variable is
/// unset, so empty.
#[test]
fn bashs_random_makes_a_file_the_machines() {
    let mut t = MemTree::new();
    t.dir("etc/cron.d");
    let script = "#!/bin/bash\nset -e\nFILE=/etc/cron.d/debsecan\nMIN=$(($RANDOM % 60))\n\
                  cat > \"$FILE\" <<EOF\n$MIN * * * * daemon /usr/bin/debsecan --cron\nEOF\n";
    let (changes, report) = compute(&t, &[pkg("debsecan", script)]).unwrap();
    let what: Vec<&str> = report.iter().map(|r| r.what.as_str()).collect();
    assert_eq!(what.len(), 1, "{what:?}");
    assert!(
        what[0].starts_with(commands::SKIPPED_NONDETERMINISTIC) && what[0].contains("/etc/cron.d/debsecan"),
        "{what:?}"
    );
    assert!(file(&changes, "etc/cron.d/debsecan").is_none());
    let dash = script
        .replacen("#!/bin/bash", "#!/bin/sh", 1)
        .replace("$(($RANDOM % 60))", "x$RANDOM");
    let (changes, report) = compute(&t, &[pkg("debsecan", &dash)]).unwrap();
    assert!(report.is_empty(), "{report:?}");
    assert_eq!(
        file(&changes, "etc/cron.d/debsecan").map(|(_, b)| b.as_slice()),
        Some(&b"x * * * * daemon /usr/bin/debsecan --cron\n"[..])
    );
}

/// ldap-account-manager's postinst copies its sample templates from the directory it `cd`s
/// into, naming them with a relative pattern (`files=`ls -a default.*``): expanded against the
/// working directory, as the shell does, so the copies are made.
#[test]
fn a_relative_pattern_expands_in_the_working_directory() {
    let mut t = MemTree::new();
    t.file("usr/share/lam/pdf/default.user.xml", b"<u/>\n")
        .file("usr/share/lam/pdf/default.group.xml", b"<g/>\n")
        .file("usr/share/lam/pdf/other.xml", b"<o/>\n")
        .dir("var/lib/lam/pdf");
    let script = "#!/bin/sh\nset -e\ncd /usr/share/lam/pdf\nfiles=`ls -a default.*`\nfor file in $files; do\n\
                  \tif [ ! -f /var/lib/lam/pdf/$file ]; then\n\t\tcp $file /var/lib/lam/pdf/$file\n\tfi\ndone\n\
                  for x in nomatch.*; do echo \"$x\" > /var/lib/lam/literal; done\n";
    let (changes, report) = compute(&t, &[pkg("lam", script)]).unwrap();
    assert!(report.is_empty(), "{report:?}");
    for (name, content) in [
        ("default.user.xml", &b"<u/>\n"[..]),
        ("default.group.xml", b"<g/>\n"),
    ] {
        assert_eq!(
            file(&changes, &format!("var/lib/lam/pdf/{name}")).map(|(_, b)| b.as_slice()),
            Some(content)
        );
    }
    assert!(file(&changes, "var/lib/lam/pdf/other.xml").is_none());
    // A pattern that matches nothing stays as written, as sh leaves it.
    assert_eq!(
        file(&changes, "var/lib/lam/literal").map(|(_, b)| b.as_slice()),
        Some(&b"nomatch.*\n"[..])
    );
}

/// shellinabox 2.21's postinst links every option into its enabled directory from there, with
/// `..` in the pattern and spaces in the names (`(cd /etc/shellinabox/options-enabled; ln -s
/// ../options-available/*.css .)`): one link per file, named as the shell names it. In a working
/// directory the walk does not know, the pattern's files are not known: the call is reported,
/// not run with the pattern as a name.
#[test]
fn a_relative_pattern_with_dot_dot_expands_from_the_working_directory() {
    let mut t = MemTree::new();
    t.file("etc/shellinabox/options-available/00+Black on White.css", b"a\n")
        .file("etc/shellinabox/options-available/01_Monochrome.css", b"b\n")
        .file("etc/shellinabox/options-available/README", b"r\n")
        .dir("etc/shellinabox/options-enabled");
    let script = "#!/bin/sh\nset -e\nif [ -z \"$2\" ]; then\n   (cd /etc/shellinabox/options-enabled; ln -s ../options-available/*.css .)\nfi\n";
    let (changes, report) = compute(&t, &[pkg("shellinabox", script)]).unwrap();
    assert!(report.is_empty(), "{report:?}");
    for name in ["00+Black on White.css", "01_Monochrome.css"] {
        assert_eq!(
            super::super::testutil::symlink_target(
                &changes,
                &format!("etc/shellinabox/options-enabled/{name}")
            ),
            Some(format!("../options-available/{name}")),
            "{:?}",
            changes.files
        );
    }
    let enabled: Vec<&str> = changes
        .files
        .iter()
        .map(|(e, _)| e.path.as_str())
        .filter(|p| p.starts_with("etc/shellinabox/options-enabled/"))
        .collect();
    assert_eq!(enabled.len(), 2, "{enabled:?}");

    let unknown_dir = "#!/bin/sh\nset -e\ncd \"$(mystery)\"\nln -s ../options-available/*.css /etc/shellinabox/options-enabled/\n";
    let (changes, report) = compute(&t, &[pkg("shellinabox", unknown_dir)]).unwrap();
    assert!(
        report
            .iter()
            .any(|r| r.what.contains("ln -s ../options-available/*.css")),
        "{report:?}"
    );
    assert!(
        changes.files.iter().all(|(e, _)| !e.path.contains('*')),
        "{:?}",
        changes.files
    );
}

/// install-info's postinst runs `update-info-dir`, a shell script in the image that would copy
/// `dir` to `dir.old`, remove it and rebuild it with one `install-info` per file in `find`'s
/// order: the menu follows the build host's directory order, so the call is left out as
/// non-deterministic by nature, not walked into, and the image keeps base-files' `dir`.
#[test]
fn the_info_directory_rebuilt_in_the_hosts_directory_order_is_left_out() {
    let mut t = MemTree::new();
    let updater = b"#!/bin/sh\nset -e\nINFODIR=/usr/share/info\n\
                    if [ -r \"$INFODIR/dir\" ] ; then\n  rm -f \"$INFODIR/dir.old\"\n  cp $INFODIR/dir $INFODIR/dir.old\nfi\n\
                    rm -f \"$INFODIR/dir\"\n\
                    find \"$INFODIR\" -type f | while read file ; do\n  install-info \"$file\" \"$INFODIR/dir\"\ndone\n";
    t.file("usr/sbin/update-info-dir", updater)
        .file("usr/share/info/dir", b"base-files' dir\n")
        .file("usr/share/info/sed.info.gz", b"x");
    let script = "#!/bin/sh\nset -e\numask 022\ncase $1 in\n    configure|reconfigure|triggered)\n        update-info-dir\n        ;;\nesac\n";
    let (changes, report) = compute(&t, &[pkg("install-info", script)]).unwrap();
    let what: Vec<&str> = report.iter().map(|r| r.what.as_str()).collect();
    assert_eq!(what.len(), 1, "{what:?}");
    assert!(
        what[0].starts_with(commands::SKIPPED_NONDETERMINISTIC)
            && what[0].contains("made at first start: update-info-dir (/usr/share/info/dir")
            && what[0].contains("dir.old"),
        "{what:?}"
    );
    assert!(
        file(&changes, "usr/share/info/dir").is_none(),
        "base-files' dir is kept as it is"
    );
    assert!(file(&changes, "usr/share/info/dir.old").is_none());
    assert!(changes.removed.is_empty(), "{:?}", changes.removed);
}
