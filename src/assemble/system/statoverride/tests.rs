//! dpkg-statoverride against what dpkg 1.21's own tool writes, and the guards scripts use.

use super::super::Overlay;
use super::super::testutil::MemTree;
use super::*;

fn accounts() -> MemTree {
    let mut t = MemTree::new();
    t.file(
        "etc/passwd",
        b"root:x:0:0:root:/root:/bin/bash\nmessagebus:x:100:101::/nonexistent:/usr/sbin/nologin\n",
    )
    .file(
        "etc/group",
        b"root:x:0:\nmail:x:8:\nssh:x:102:\nmessagebus:x:101:\n",
    );
    t
}

fn argv(s: &str) -> Vec<String> {
    s.split(' ').map(str::to_owned).collect()
}

#[test]
fn the_database_is_written_in_dpkgs_hash_order() {
    // The order and the `-old` file are what `dpkg-statoverride --admindir D` (1.21.22) wrote
    // for these calls; `--remove` of an absent path and `--add` of a present one fail.
    let t = accounts();
    let mut o = Overlay::new(&t);
    let mut db = Overrides::load(&o).unwrap();
    for p in [
        "/usr/lib/dbus-1.0/dbus-daemon-launch-helper",
        "/usr/bin/ssh-agent",
        "/var/log/exim4",
        "/usr/bin/crontab",
        "/etc/ssl/private",
        "/usr/sbin/postdrop",
    ] {
        apply(&mut o, &mut db, &argv(&format!("--add root mail 2755 {p}"))).unwrap();
    }
    let args = vec![
        "--add".into(),
        "root".into(),
        "mail".into(),
        "2755".into(),
        "/usr/share/with space/x".into(),
    ];
    apply(&mut o, &mut db, &args).unwrap();
    apply(&mut o, &mut db, &argv("--remove /usr/bin/ssh-agent")).unwrap();
    assert!(apply(&mut o, &mut db, &argv("--remove /nonexist")).is_err());
    assert!(
        apply(
            &mut o,
            &mut db,
            &argv("--quiet --add root mail 755 /usr/bin/crontab")
        )
        .is_err()
    );
    apply(&mut o, &mut db, &argv("--add #4242 #4343 0644 /x/")).unwrap();
    o.apply(db.changes());
    let (files, _) = o.into_changes();
    let text = |p: &str| {
        files
            .iter()
            .find(|(e, _)| e.path == p)
            .map(|(_, c)| String::from_utf8_lossy(c).into_owned())
            .unwrap_or_default()
    };
    assert_eq!(
        text(STATOVERRIDE),
        "#4242 #4343 644 /x\n\
         root mail 2755 /usr/bin/crontab\n\
         root mail 2755 /var/log/exim4\n\
         root mail 2755 /etc/ssl/private\n\
         root mail 2755 /usr/lib/dbus-1.0/dbus-daemon-launch-helper\n\
         root mail 2755 /usr/share/with space/x\n\
         root mail 2755 /usr/sbin/postdrop\n"
    );
    assert_eq!(
        text(STATOVERRIDE_OLD),
        "root mail 2755 /usr/bin/crontab\n\
         root mail 2755 /var/log/exim4\n\
         root mail 2755 /etc/ssl/private\n\
         root mail 2755 /usr/lib/dbus-1.0/dbus-daemon-launch-helper\n\
         root mail 2755 /usr/share/with space/x\n\
         root mail 2755 /usr/sbin/postdrop\n"
    );
    let (e, _) = files.iter().find(|(e, _)| e.path == STATOVERRIDE).unwrap();
    assert_eq!((e.mode, e.uid), (0o644, 0));
}

#[test]
fn unknown_accounts_and_modes_fail_as_the_tool_does() {
    let t = accounts();
    let mut o = Overlay::new(&t);
    let mut db = Overrides::load(&o).unwrap();
    assert!(apply(&mut o, &mut db, &argv("--add nobody mail 755 /x")).is_err());
    assert!(apply(&mut o, &mut db, &argv("--add root nogroup 755 /x")).is_err());
    assert!(apply(&mut o, &mut db, &argv("--add root mail 9755 /x")).is_err());
    assert!(apply(&mut o, &mut db, &argv("--add root mail 755")).is_err());
    assert!(parse(&argv("--admindir /x --list")).is_err());
    assert!(db.changes().files.is_empty());
}

use super::super::testutil::with_postinst as pkg;

/// dbus 1.14.10-1~deb12u1's postinst, the part that runs on configure.
const DBUS_POSTINST: &str = r#"#!/bin/sh
set -e

MESSAGEUSER=messagebus
LAUNCHER=/usr/lib/dbus-1.0/dbus-daemon-launch-helper

if [ "$1" = configure ]; then
    # This respects $DPKG_ROOT
    if ! dpkg-statoverride --list "$LAUNCHER" >/dev/null; then
        dpkg-statoverride --update --add root "$MESSAGEUSER" 4754 "$LAUNCHER"
    fi
fi
"#;

/// openssh-client 1:9.2p1-2+deb12u's postinst, its statoverride guard.
const SSH_CLIENT_POSTINST: &str = r#"#!/bin/sh
set -e
if [ "$1" = configure ]; then
	if ! dpkg-statoverride --list /usr/bin/ssh-agent >/dev/null; then
		chgrp ssh /usr/bin/ssh-agent
		chmod 2755 /usr/bin/ssh-agent
	fi
fi
"#;

#[test]
fn dbus_postinst_adds_and_applies_its_override() {
    let mut t = accounts();
    t.file("usr/lib/dbus-1.0/dbus-daemon-launch-helper", b"\x7fELF");
    let (c, report) = super::super::files::compute(&t, &[pkg("dbus", DBUS_POSTINST)]).unwrap();
    assert!(report.is_empty(), "{report:?}");
    let mut m = t.clone();
    m.apply(&c);
    assert_eq!(
        m.text(STATOVERRIDE),
        "root messagebus 4754 /usr/lib/dbus-1.0/dbus-daemon-launch-helper\n"
    );
    assert!(!m.entries.contains_key(STATOVERRIDE_OLD));
    let (e, _) = &m.entries["usr/lib/dbus-1.0/dbus-daemon-launch-helper"];
    assert_eq!(
        (e.mode, e.uid, e.gid, e.gname.as_str()),
        (0o4754, 0, 101, "messagebus")
    );
    // A second configure finds the override (`--list` succeeds): nothing is added twice.
    let (c2, report) = super::super::files::compute(&m, &[pkg("dbus", DBUS_POSTINST)]).unwrap();
    assert!(report.is_empty(), "{report:?}");
    assert!(!c2.files.iter().any(|(e, _)| e.path == STATOVERRIDE_OLD));
}

#[test]
fn a_listed_override_guards_the_scripts_own_chmod() {
    let mut t = accounts();
    t.file("usr/bin/ssh-agent", b"\x7fELF");
    let run = |t: &MemTree| {
        let (c, report) =
            super::super::files::compute(t, &[pkg("openssh-client", SSH_CLIENT_POSTINST)]).unwrap();
        assert!(report.is_empty(), "{report:?}");
        let mut m = t.clone();
        m.apply(&c);
        let (e, _) = &m.entries["usr/bin/ssh-agent"];
        (e.mode, e.gid)
    };
    // No override: the script's chgrp/chmod run.
    assert_eq!(run(&t), (0o2755, 102));
    // The admin's override is there: they do not.
    t.file(STATOVERRIDE, b"root root 755 /usr/bin/ssh-agent\n");
    assert_eq!(run(&t), (0o644, 0));
    // The `||` form: the fallback runs only when --list fails.
    let or_form = "#!/bin/sh\nset -e\ndpkg-statoverride --list /usr/bin/ssh-agent >/dev/null || chmod 700 /usr/bin/ssh-agent\n";
    let (c, _) = super::super::files::compute(&t, &[pkg("x", or_form)]).unwrap();
    assert!(!c.files.iter().any(|(e, _)| e.path == "usr/bin/ssh-agent"));
    let mut u = accounts();
    u.file("usr/bin/ssh-agent", b"\x7fELF");
    let (c, _) = super::super::files::compute(&u, &[pkg("x", or_form)]).unwrap();
    assert!(
        c.files
            .iter()
            .any(|(e, _)| e.path == "usr/bin/ssh-agent" && e.mode == 0o700)
    );
}

/// amavisd-new 1:2.13.0-3's postinst: an override's fields rearranged through awk and tr, empty
/// when there is none, so `--remove` is not reached.
const AMAVIS_POSTINST: &str = r#"#!/bin/sh
set -e
for i in /var/lib/amavis:755:0750:amavis:amavis /var/lib/amavis/db:755:0750:amavis:amavis
do
	dir=$(echo $i | cut -d : -f 1)
	perms_local=$(dpkg-statoverride --list "$dir" | awk '{print $4,$3,$1,$2}' | tr -s " " ":")
	if [ "$perms_local" ] ; then
		perms_old=$(echo $i | cut -d : -f 1,2,4,5)
		if [ "$perms_local" = "$perms_old" ] ; then
			dpkg-statoverride --remove "$dir"
		fi
	fi
done
for i in /var/lib/amavis:0750 /var/lib/amavis/db:0750
do
	dir=$(echo $i | cut -d : -f 1)
	perm=$(echo $i | cut -d : -f 2)
	if [ ! -d "$dir" ] ; then
		mkdir -p "$dir"
	fi
	if ! dpkg-statoverride --list "$dir" > /dev/null ; then
		dpkg-statoverride --update --add amavis amavis "$perm" "$dir"
	fi
done
"#;

#[test]
fn an_empty_listing_rearranged_by_awk_and_tr_is_empty() {
    let mut t = accounts();
    t.file(
        "etc/passwd",
        b"root:x:0:0:root:/root:/bin/bash\namavis:x:100:101::/var/lib/amavis:/bin/sh\n",
    )
    .file("etc/group", b"root:x:0:\namavis:x:101:\n");
    // The database amavisd-new's postinst leaves, walked without a report entry.
    let database = |t: &MemTree| {
        let (c, report) = super::super::files::compute(t, &[pkg("amavisd-new", AMAVIS_POSTINST)]).unwrap();
        assert!(report.is_empty(), "{report:?}");
        let mut m = t.clone();
        m.apply(&c);
        m.text(STATOVERRIDE)
    };
    // In dpkg's order (what amavisd-new's postinst left in dpkg's own database).
    assert_eq!(
        database(&t),
        "amavis amavis 750 /var/lib/amavis\namavis amavis 750 /var/lib/amavis/db\n"
    );
    // An override the package set before (its old 755) is listed, rearranged to match, removed,
    // and the new mode added in its place.
    t.file(STATOVERRIDE, b"amavis amavis 755 /var/lib/amavis\n");
    assert_eq!(
        database(&t),
        "amavis amavis 750 /var/lib/amavis\namavis amavis 750 /var/lib/amavis/db\n"
    );
}
