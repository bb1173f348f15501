//! systemd-sysusers, dpkg-statoverride, the account tools' backups and the report's kinds, by the
//! real binary on synthetic packages whose scripts are Debian bookworm's.

use crate::common;

use std::os::unix::fs::MetadataExt;

use common::Debcast;
use common::image::Project;
use debcast_testkit::deb::DebBuilder;

fn sysusers_conf(name: &str) -> String {
    std::fs::read_to_string(common::repo_root().join("tests/data/sysusers/conf").join(name)).unwrap()
}

#[test]
fn sysusers_statoverride_and_backups_land_in_the_image() {
    let mut p = Project::new(&["linux/amd64"]);
    p.add(
        None,
        DebBuilder::new("base-passwd", "1", "amd64")
            .dir("./etc", 0o755)
            .file(
                "./usr/share/base-passwd/passwd.master",
                "root:*:0:0:root:/root:/bin/bash\nnobody:*:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n",
                0o644,
            )
            .file(
                "./usr/share/base-passwd/group.master",
                "root:*:0:\nshadow:*:42:\nusers:*:100:\nnogroup:*:65534:\n",
                0o644,
            ),
    );
    p.add(
        None,
        DebBuilder::new("passwd", "1", "amd64").dir("./usr/sbin", 0o755),
    );
    // systemd's sysusers.d files and its postinst's call (dh_installsysusers).
    p.add(
        None,
        DebBuilder::new("systemd", "1", "amd64")
            .file("./usr/lib/sysusers.d/systemd-journal.conf", sysusers_conf("systemd-journal.conf"), 0o644)
            .file("./usr/lib/sysusers.d/systemd-network.conf", sysusers_conf("systemd-network.conf"), 0o644)
            .maintainer_script(
                "postinst",
                "#!/bin/sh\nset -e\n\
                 # Automatically added by dh_installsysusers/13.11.4\n\
                 if [ \"$1\" = \"configure\" ] || [ \"$1\" = \"abort-upgrade\" ] || [ \"$1\" = \"abort-deconfigure\" ] || [ \"$1\" = \"abort-remove\" ] ; then\n\
                 \x20  systemd-sysusers ${DPKG_ROOT:+--root=\"$DPKG_ROOT\"} systemd-journal.conf systemd-network.conf\n\
                 fi\n",
            ),
    );
    // dbus-system-bus-common's adduser, dbus's statoverride (bookworm's, verbatim), and a host
    // key and a service start the report must count by kind.
    p.add(
        None,
        DebBuilder::new("dbus", "1", "amd64")
            .file("./usr/lib/dbus-1.0/dbus-daemon-launch-helper", "\x7fELF", 0o755)
            .maintainer_script(
                "postinst",
                "#!/bin/sh\nset -e\n\
                 MESSAGEUSER=messagebus\n\
                 LAUNCHER=/usr/lib/dbus-1.0/dbus-daemon-launch-helper\n\
                 if [ \"$1\" = configure ]; then\n\
                 \x20   adduser --system --quiet --home /nonexistent --no-create-home --disabled-password --group \"$MESSAGEUSER\"\n\
                 \x20   if ! dpkg-statoverride --list \"$LAUNCHER\" >/dev/null; then\n\
                 \x20       dpkg-statoverride --update --add root \"$MESSAGEUSER\" 4754 \"$LAUNCHER\"\n\
                 \x20   fi\n\
                 \x20   ssh-keygen -q -f /etc/ssh/ssh_host_ed25519_key -N '' -t ed25519\n\
                 \x20   invoke-rc.d dbus start\n\
                 \x20   frobnicate --all\n\
                 fi\n",
            ),
    );
    p.write();
    let server = p.serve();
    let run = Debcast::new(p.path())
        .args([
            "build",
            "image.toml",
            "--output",
            "out",
            "--cache-dir",
            "store",
            "--report",
            "report.json",
        ])
        .arg("--mirror")
        .arg(format!("synthetic={}", server.url()))
        .env("SOURCE_DATE_EPOCH", "1700000000")
        .ok();
    assert_eq!(run.code, Some(0), "{run}");
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(p.path().join("report.json")).unwrap()).unwrap();
    assert_eq!(
        report["not_reproduced"],
        serde_json::json!({"non-deterministic": 1, "service-management": 1, "unsupported": 1, "total": 3}),
        "{report:#}"
    );
    let kinds: Vec<(&str, &str)> = report["platforms"]["linux/amd64"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["kind"].as_str().unwrap_or(""), e["what"].as_str().unwrap_or("")))
        .collect();
    assert_eq!(
        kinds,
        [
            ("unsupported", "frobnicate --all"),
            (
                "non-deterministic",
                "skipped: non-deterministic by nature: ssh-keygen -q -f /etc/ssh/ssh_host_ed25519_key -N '' -t ed25519 (made at first start: ssh-keygen -A)"
            ),
            (
                "service-management",
                "skipped: service management: invoke-rc.d dbus start"
            ),
        ],
        "{report:#}"
    );

    // The summary line counts by kind.
    run.stderr_has(&[
        "3 maintainer-script effect(s) of 1 package(s) not emulated (1 non-deterministic by nature, 1 service management, 1 unsupported yet)",
    ]);
    let bundle = p.path().join("bundle");
    common::umoci_unpack(&p.path().join("out"), "synthetic:test-linux-amd64", &bundle);
    let root = bundle.join("rootfs");
    let read = |f: &str| std::fs::read_to_string(root.join(f)).unwrap_or_else(|e| panic!("{f}: {e}"));
    // Configure order: dbus (adduser) before systemd (sysusers, ids from 999 down).
    let passwd = read("etc/passwd");
    assert!(
        passwd.ends_with(
            "messagebus:x:100:101::/nonexistent:/usr/sbin/nologin\n\
             systemd-network:x:998:998:systemd Network Management:/:/usr/sbin/nologin\n"
        ) || passwd.ends_with(
            "systemd-network:x:998:998:systemd Network Management:/:/usr/sbin/nologin\n\
             messagebus:x:100:101::/nonexistent:/usr/sbin/nologin\n"
        ),
        "{passwd}"
    );
    let group = read("etc/group");
    assert!(
        group.contains("systemd-journal:x:999:\n") && group.contains("systemd-network:x:998:\n"),
        "{group}"
    );
    assert!(read("etc/gshadow").contains("systemd-journal:!*::\n"));
    assert!(read("etc/shadow").contains("systemd-network:!*:19675::::::\n"));
    // Backups of the last tool's change, and the lock file.
    for f in [
        "etc/passwd-",
        "etc/group-",
        "etc/shadow-",
        "etc/gshadow-",
        "etc/.pwd.lock",
    ] {
        assert!(root.join(f).exists(), "{f} missing");
    }
    assert_eq!(
        std::fs::symlink_metadata(root.join("etc/shadow-"))
            .unwrap()
            .mode()
            & 0o7777,
        0o640
    );
    assert_eq!(
        std::fs::symlink_metadata(root.join("etc/.pwd.lock"))
            .unwrap()
            .mode()
            & 0o7777,
        0o600
    );
    // The statoverride, recorded as dpkg writes it and applied (--update).
    assert_eq!(
        read("var/lib/dpkg/statoverride"),
        "root messagebus 4754 /usr/lib/dbus-1.0/dbus-daemon-launch-helper\n"
    );
    let helper = std::fs::symlink_metadata(root.join("usr/lib/dbus-1.0/dbus-daemon-launch-helper")).unwrap();
    assert_eq!(helper.mode() & 0o7777, 0o4754);
    if common::is_root() {
        assert_eq!(helper.gid(), 101);
    }
}
