//! Accounts and PAM configuration computed by the real binary from synthetic packages whose
//! `postinst` calls `adduser`/`useradd`/`groupadd` and `pam-auth-update`, as Debian's packages do.

use crate::common;

use std::os::unix::fs::MetadataExt;

use common::image::Project;
use debcast_testkit::deb::DebBuilder;

fn pam_fixture(name: &str) -> String {
    std::fs::read_to_string(common::repo_root().join("tests/data/pam/bookworm").join(name)).unwrap()
}

#[test]
fn postinst_accounts_and_pam_profiles_land_in_the_image() {
    let mut p = Project::new(&["linux/amd64"]);
    p.add(
        None,
        DebBuilder::new("base-passwd", "1", "amd64")
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
    let mut pam = DebBuilder::new("libpam-runtime", "1", "amd64")
        // The tool its postinst runs (Perl: debcast computes what it does, without running it).
        .file("./usr/sbin/pam-auth-update", "#!/usr/bin/perl\n", 0o755)
        .file("./usr/share/pam-configs/unix", pam_fixture("unix"), 0o644)
        .dir("./var/lib/pam", 0o755)
        .dir("./etc/pam.d", 0o755)
        .maintainer_script(
            "postinst",
            "#!/bin/sh -e\nforce=\nif [ -z \"$2\" ]; then force=--force; fi\npam-auth-update --root \"$DPKG_ROOT\" --package $force\n",
        );
    for ty in ["auth", "account", "password", "session", "session-noninteractive"] {
        pam = pam.file(
            &format!("./usr/share/pam/common-{ty}"),
            pam_fixture(&format!("common-{ty}")),
            0o644,
        );
    }
    p.add(None, pam);
    p.add(
        None,
        DebBuilder::new("svc", "1", "amd64")
            // adduser, which its postinst runs, is configured before it.
            .depends("adduser")
            .dir("./var/lib", 0o755)
            .maintainer_script(
                "postinst",
                "#!/bin/sh\nset -e\nif [ \"$1\" = configure ]; then\n\
                 \tif ! getent passwd _svc >/dev/null; then\n\
                 \t\tadduser --force-badname --system --home /nonexistent --no-create-home --quiet _svc || true\n\
                 \tfi\n\
                 \taddgroup --quiet --system svc-data\n\
                 \tadduser --system --quiet --group --home /var/lib/svc --gecos 'Service daemon' svc\n\
                 \tadduser --quiet svc svc-data\n\
                 \tgroupadd -r legacy\n\
                 \tuseradd -r -g legacy -d /var/lib/legacy -s /usr/sbin/nologin -c Legacy legacy\n\
                 \tchown svc:svc-data /var/lib/svc\nfi\n",
            ),
    );
    let (_, report) = p.build_with_report(&[("SOURCE_DATE_EPOCH", "1700000000")]);
    let report = report.to_string();
    for cmd in ["adduser", "addgroup", "useradd", "groupadd", "pam-auth-update"] {
        assert!(!report.contains(cmd), "{cmd} reported as not emulated: {report}");
    }

    let bundle = p.path().join("bundle");
    common::umoci_unpack(&p.path().join("out"), "synthetic:test-linux-amd64", &bundle);
    let root = bundle.join("rootfs");
    let read = |f: &str| std::fs::read_to_string(root.join(f)).unwrap_or_else(|e| panic!("{f}: {e}"));
    assert_eq!(
        read("etc/passwd"),
        "root:x:0:0:root:/root:/bin/bash\n\
         nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n\
         _svc:x:100:65534::/nonexistent:/usr/sbin/nologin\n\
         svc:x:101:102:Service daemon,,,:/var/lib/svc:/usr/sbin/nologin\n\
         legacy:x:999:999:Legacy:/var/lib/legacy:/usr/sbin/nologin\n"
    );
    assert_eq!(
        read("etc/group"),
        "root:x:0:\nshadow:x:42:\nusers:x:100:\nnogroup:x:65534:\n\
         svc-data:x:101:svc\nsvc:x:102:\nlegacy:x:999:\n"
    );
    // 1700000000 / 86400 = 19675; useradd -r leaves the aging fields empty.
    let shadow = read("etc/shadow");
    assert!(
        shadow.ends_with("_svc:!:19675::::::\nsvc:!:19675::::::\nlegacy:!:19675::::::\n"),
        "{shadow}"
    );
    assert!(read("etc/gshadow").ends_with("svc-data:!::svc\nsvc:!::\nlegacy:!::\n"));
    let home = std::fs::symlink_metadata(root.join("var/lib/svc")).unwrap();
    assert!(home.is_dir());
    assert_eq!(home.mode() & 0o7777, 0o755);
    if common::is_root() {
        // Made by adduser for svc:svc, then chowned by the script to svc:svc-data.
        assert_eq!((home.uid(), home.gid()), (101, 101));
    }
    assert!(
        !root.join("var/lib/legacy").exists(),
        "useradd without -m makes no home"
    );

    assert!(read("etc/pam.d/common-auth").contains(
        "# here are the per-package modules (the \"Primary\" block)\n\
         auth\t[success=1 default=ignore]\tpam_unix.so nullok\n\
         # here's the fallback if no module succeeds\n"
    ));
    assert!(read("etc/pam.d/common-session").contains("session\trequired\tpam_unix.so \n"));
    assert_eq!(read("var/lib/pam/seen"), "unix\n");
}
