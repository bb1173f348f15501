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
    p.add(None, common::passwd_deb());
    p.add(None, common::adduser_deb());
    // systemd's sysusers.d files and its postinst's call (dh_installsysusers).
    p.add(
        None,
        DebBuilder::new("systemd", "1", "amd64")
            .file("./usr/bin/systemd-sysusers", "\x7fELF", 0o755)
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
            // adduser, which its postinst runs, is configured before it.
            .depends("adduser")
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
    let (run, report) = p.build_with_report(&[("SOURCE_DATE_EPOCH", "1700000000")]);
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
                "skipped: non-deterministic by nature: ssh-keygen -q -f /etc/ssh/ssh_host_ed25519_key -N '' -t ed25519; left out: /etc/ssh/ssh_host_ed25519_key.pub (made at first start: ssh-keygen -A)"
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

/// What postinsts write with cp, sed, mktemp and debconf answers, `systemd-tmpfiles --create`,
/// and `[system] locales`, by the real binary: the image carries the files dpkg's run would
/// leave, the temporary file is gone, and compiling the declared locales is reported.
#[test]
fn script_files_tmpfiles_and_declared_locales_land_in_the_image() {
    let mut p = Project::new(&["linux/amd64"]);
    p.manifest_extra = "\n[system]\nlocales = [\"de_DE.UTF-8\"]\n".into();
    p.add(
        None,
        DebBuilder::new("base-passwd", "1", "amd64")
            .dir("./etc", 0o755)
            .dir("./tmp", 0o1777)
            .dir("./var/lib", 0o755)
            .dir("./var/log", 0o755)
            .file(
                "./usr/share/base-passwd/passwd.master",
                "root:*:0:0:root:/root:/bin/sh\n",
                0o644,
            )
            .file(
                "./usr/share/base-passwd/group.master",
                "root:*:0:\nutmp:*:43:\n",
                0o644,
            ),
    );
    p.add(
        None,
        DebBuilder::new("server", "1", "amd64")
            .file("./usr/share/server/conf", "#Root prohibit\n#Password yes\n", 0o644)
            .file("./usr/lib/tmpfiles.d/server.conf", "d /var/lib/server 0700 root root -\nf /var/log/server.log 0640 root utmp -\nd /run/server 0755 - - -\n", 0o644)
            .control_member(
                "templates",
                "Template: server/password\nType: boolean\nDefault: false\nDescription: allow passwords?\n",
            )
            .maintainer_script(
                "postinst",
                "#!/bin/sh\nset -e\nif [ \"$1\" = configure ]; then\n\
                 \x20 db_get server/password\n\
                 \x20 new=$(mktemp)\n\
                 \x20 trap 'rm -f \"$new\"' EXIT\n\
                 \x20 cp -a /usr/share/server/conf \"$new\"\n\
                 \x20 if [ \"$RET\" != true ]; then sed -i 's/^#Password .*/Password no/' \"$new\"; fi\n\
                 \x20 [ -d /etc/server ] || mkdir /etc/server\n\
                 \x20 [ -e /etc/server/conf ] || cp \"$new\" /etc/server/conf\n\
                 \x20 echo \"# generated\" >> /etc/server/conf\n\
                 \x20 systemd-tmpfiles --create server.conf >/dev/null || true\n\
                 fi\n",
            ),
    );
    p.add(
        None,
        DebBuilder::new("locales", "1", "amd64")
            .file(
                "./usr/share/i18n/SUPPORTED",
                "en_US.UTF-8 UTF-8\nde_DE.UTF-8 UTF-8\nde_DE ISO-8859-1\n",
                0o644,
            )
            .maintainer_script("postinst", "#!/bin/sh\nset -e\nlocale-gen\n"),
    );
    let (_, report) = p.build_with_report(&[]);
    let whats: Vec<&str> = report["platforms"]["linux/amd64"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["what"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(whats.len(), 1, "{report:#}");
    assert!(
        whats[0].starts_with("locale-gen (not reproduced: it runs the image's own code")
            && whats[0].contains("de_DE.UTF-8 UTF-8"),
        "{report:#}"
    );
    let bundle = p.path().join("bundle");
    common::umoci_unpack(&p.path().join("out"), "synthetic:test-linux-amd64", &bundle);
    let root = bundle.join("rootfs");
    let read = |f: &str| std::fs::read_to_string(root.join(f)).unwrap_or_else(|e| panic!("{f}: {e}"));
    assert_eq!(
        read("etc/server/conf"),
        "#Root prohibit\nPassword no\n# generated\n"
    );
    let mode = |f: &str| {
        std::fs::symlink_metadata(root.join(f))
            .map(|m| m.mode() & 0o7777)
            .unwrap_or_else(|e| panic!("{f}: {e}"))
    };
    assert_eq!(mode("var/lib/server"), 0o700);
    assert_eq!(mode("var/log/server.log"), 0o640);
    assert!(
        !root.join("run/server").exists(),
        "/run is the container runtime's"
    );
    let tmp: Vec<_> = std::fs::read_dir(root.join("tmp")).unwrap().collect();
    assert!(
        tmp.is_empty(),
        "the EXIT trap removed the temporary file: {tmp:?}"
    );
    assert_eq!(
        read("etc/locale.gen")
            .lines()
            .filter(|l| !l.starts_with('#') && !l.is_empty())
            .collect::<Vec<_>>(),
        ["de_DE.UTF-8 UTF-8"]
    );
    assert!(read("etc/locale.gen").contains("\n# en_US.UTF-8 UTF-8\n"));
    assert_eq!(read("etc/default/locale"), "#  File generated by update-locale\n");
}

/// A declared locale the image does not support is refused, naming it and where it looked.
#[test]
fn an_unsupported_declared_locale_is_refused() {
    let mut p = Project::new(&["linux/amd64"]);
    p.manifest_extra = "\n[system]\nlocales = [\"xx_YY.UTF-8\"]\n".into();
    p.add(
        None,
        DebBuilder::new("locales", "1", "amd64").file(
            "./usr/share/i18n/SUPPORTED",
            "en_US.UTF-8 UTF-8\n",
            0o644,
        ),
    );
    p.write();
    let server = p.serve();
    let run = Debcast::new(p.path())
        .args(["build", "image.toml", "--output", "out", "--cache-dir", "store"])
        .arg("--mirror")
        .arg(format!("synthetic={}", server.url()))
        .run();
    assert_ne!(run.code, Some(0), "{run}");
    run.stderr_has(&["xx_YY.UTF-8", "/usr/share/i18n/SUPPORTED"]);
    assert!(!p.path().join("out").exists(), "no partial image");
}

/// iputils-ping's postinst with libcap2-bin installed: `setcap cap_net_raw+ep` gives the binary
/// its capability as an extended attribute the layer carries, and the set-user-id bit goes; a
/// helper script the postinst runs (mysql-common's `configure-symlinks` shape) is followed, so
/// the alternative it installs is in the image and nothing is reported.
#[test]
fn file_capabilities_and_helper_scripts_land_in_the_image() {
    let mut p = Project::new(&["linux/amd64"]);
    p.add(
        None,
        DebBuilder::new("libcap2-bin", "1", "amd64").file("./usr/sbin/setcap", "\x7fELF", 0o755),
    );
    p.add(
        None,
        DebBuilder::new("iputils-ping", "1", "amd64")
            // Packaged without the set-user-id bit (bookworm's): only the capability tells the
            // configured file from the packaged one, and the last layer must still carry it.
            .file("./usr/bin/ping", "\x7fELF ping", 0o755)
            .maintainer_script(
                "postinst",
                "#!/bin/sh\nset -e\nPROGRAM=$(dpkg-divert --truename /usr/bin/ping)\n\
                 if [ \"$1\" = configure ]; then\n\
                 \x20   if command -v setcap > /dev/null; then\n\
                 \x20       if setcap cap_net_raw+ep $PROGRAM; then\n\
                 \x20           chmod u-s $PROGRAM\n\
                 \x20       else\n\
                 \x20           chmod u+s $PROGRAM\n\
                 \x20       fi\n\
                 \x20   fi\n\
                 fi\n",
            ),
    );
    p.add(
        None,
        DebBuilder::new("db-common", "1", "all")
            .file(
                "./usr/share/db-common/configure-symlinks",
                "#!/bin/sh\nset -e\ncase \"$1\" in\n  install) update-alternatives --install /etc/db/db.cnf db.cnf \"$3\" 200 ;;\nesac\n",
                0o755,
            )
            .file("./etc/db/server.cnf", "[server]\n", 0o644)
            .maintainer_script(
                "postinst",
                "#!/bin/sh\nset -e\n/usr/share/db-common/configure-symlinks install server /etc/db/server.cnf\n",
            ),
    );
    let (_, report) = p.build_with_report(&[]);
    let entries = report["platforms"]["linux/amd64"].as_array().unwrap();
    assert!(entries.is_empty(), "{report:#}");
    let bundle = p.path().join("bundle");
    common::umoci_unpack(&p.path().join("out"), "synthetic:test-linux-amd64", &bundle);
    let root = bundle.join("rootfs");
    let ping = root.join("usr/bin/ping");
    assert_eq!(std::fs::metadata(&ping).unwrap().mode() & 0o7777, 0o755);
    assert_eq!(
        std::fs::read_link(root.join("etc/db/db.cnf")).unwrap(),
        std::path::Path::new("/etc/alternatives/db.cnf")
    );
    assert_eq!(
        std::fs::read_link(root.join("etc/alternatives/db.cnf")).unwrap(),
        std::path::Path::new("/etc/db/server.cnf")
    );
    // The layer's record, as unpacked by umoci (as root, which may write `security.*`).
    if !common::is_root() {
        eprintln!("note: not root; the unpacked file's capability is not checked");
        return;
    }
    let value = common::tool(
        "getfattr",
        &[&"--only-values", &"-n", &"security.capability", &ping],
    );
    assert_eq!(
        value.as_bytes(),
        [1, 0, 0, 2, 0, 0x20, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
        "cap_net_raw+ep as vfs_cap_data revision 2"
    );
}

/// shared-mime-info's postinst and trigger (bookworm's, verbatim) and packages shipping MIME
/// sources: the image holds the database update-mime-database 2.2 writes for those sources
/// (`tests/data/mime/expected`, written by the real tool), every file `0644`, and the report
/// lists nothing for it.
#[test]
fn the_mime_database_lands_in_the_image() {
    let fixtures = common::repo_root().join("tests/data/mime");
    let source = |name: &str| std::fs::read(fixtures.join("packages").join(name)).unwrap();
    let mut p = Project::new(&["linux/amd64"]);
    p.add(
        None,
        DebBuilder::new("shared-mime-info", "2.2-1", "amd64")
            .file("./usr/bin/update-mime-database", "\x7fELF", 0o755)
            .dir("./usr/share/mime", 0o755)
            .dir("./usr/share/mime/packages", 0o755)
            .maintainer_script(
                "postinst",
                "#!/bin/sh\nset -e\n\nif [ \"$1\" = \"triggered\" ]; then\n\
                 \x20   if which update-mime-database >/dev/null 2>&1; then\n\
                 \x20       update-mime-database /usr/share/mime\n    fi\n    exit 0\nfi\n\n\
                 if which update-mime-database >/dev/null 2>&1; then\n\
                 \x20   update-mime-database /usr/share/mime\nfi\n",
            )
            .control_member("triggers", "interest-noawait /usr/share/mime/packages\n"),
    );
    p.add(
        None,
        DebBuilder::new("debcast-mime-sources", "1", "all")
            .file(
                "./usr/share/mime/packages/a-base.xml",
                source("a-base.xml"),
                0o644,
            )
            .file(
                "./usr/share/mime/packages/b-more.xml",
                source("b-more.xml"),
                0o644,
            )
            .file(
                "./usr/share/mime/packages/Override.xml",
                source("Override.xml"),
                0o644,
            ),
    );
    let (_, report) = p.build_with_report(&[]);
    let entries = report["platforms"]["linux/amd64"].as_array().unwrap();
    assert!(
        !entries.iter().any(|e| e["package"] == "shared-mime-info"),
        "{report:#}"
    );
    let bundle = p.path().join("bundle");
    common::umoci_unpack(&p.path().join("out"), "synthetic:test-linux-amd64", &bundle);
    let mime = bundle.join("rootfs/usr/share/mime");
    let expected = fixtures.join("expected");
    let mut checked = 0;
    let mut stack = vec![expected.clone()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            let rel = path.strip_prefix(&expected).unwrap();
            let got = mime.join(rel);
            let meta = std::fs::metadata(&got).unwrap_or_else(|e| panic!("{}: {e}", got.display()));
            assert_eq!(meta.mode() & 0o7777, 0o644, "{}", rel.display());
            assert!(
                std::fs::read(&got).unwrap() == std::fs::read(&path).unwrap(),
                "{} differs from what update-mime-database wrote",
                rel.display()
            );
            checked += 1;
        }
    }
    assert_eq!(checked, 31, "the fixture's files");
}
