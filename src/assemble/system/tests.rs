use super::testutil::MemTree;
use super::*;

fn pkg(name: &str, files: &[&str], members: &[(&str, &str)]) -> InstalledPackage {
    InstalledPackage {
        name: name.into(),
        version: "1".into(),
        architecture: "amd64".into(),
        control_fields: vec![("Description".into(), format!("{name} package"))],
        members: members
            .iter()
            .map(|(k, v)| (k.to_string(), v.as_bytes().to_vec()))
            .collect(),
        files: files.iter().map(|f| f.to_string()).collect(),
        round: Round::default(),
        after_awaited_triggers: false,
    }
}

#[test]
fn requirements_follow_the_settings_used() {
    let none = System::default();
    assert!(unmet_requirements(&none, |_| false).is_empty());
    let system = System {
        timezone: Some("Etc/UTC".into()),
        groups: vec![crate::manifest::Group {
            name: "g".into(),
            gid: 1,
            members: Vec::new(),
        }],
        ..System::default()
    };
    let unmet: Vec<&str> = unmet_requirements(&system, |_| false)
        .iter()
        .map(|r| r.package)
        .collect();
    assert_eq!(unmet, ["base-passwd", "tzdata"]);
    assert!(unmet_requirements(&system, |p| p == "tzdata" || p == "base-passwd").is_empty());
}

#[test]
fn whole_run_is_sorted_and_deterministic() {
    let mut t = MemTree::new();
    t.tools(&["setcap"]);
    t.symlink("bin", "usr/bin")
        .dir("etc")
        .file("usr/bin/mawk", b"")
        .file("usr/share/zoneinfo/Etc/UTC", b"TZif")
        .file(
            "usr/share/base-passwd/passwd.master",
            b"root:*:0:0:root:/root:/bin/bash\n",
        )
        .file("usr/share/base-passwd/group.master", b"root:*:0:\nshadow:*:42:\n")
        .file("usr/share/debianutils/shells", b"/bin/sh\n");
    let pkgs = vec![
        pkg(
            "mawk",
            &["usr", "usr/bin", "usr/bin/mawk"],
            &[(
                "postinst",
                "#!/bin/sh\nupdate-alternatives --install /usr/bin/awk awk /usr/bin/mawk 5\nsetcap x /usr/bin/mawk\n",
            )],
        ),
        pkg("tzdata", &["usr/share/zoneinfo/Etc/UTC"], &[]),
        pkg("base-passwd", &[], &[]),
        // Its postinst's `shadowconfig on` makes the shadow files.
        pkg(
            "passwd",
            &[],
            &[(
                "postinst",
                "#!/bin/sh\nset -e\n[ -z \"$2\" ] && shadowconfig on\nexit 0\n",
            )],
        ),
        pkg("debianutils", &[], &[]),
    ];
    let system = System::default();
    let input = SystemInput {
        tree: &t,
        packages: &pkgs,
        system: &system,
        architecture: "amd64",
        source_date_epoch: 1_700_000_000,
    };
    let a = compute(&input).unwrap();
    let b = compute(&input).unwrap();
    assert_eq!(a, b);
    let paths: Vec<&str> = a.files.iter().map(|(e, _)| e.path.as_str()).collect();
    let mut sorted = paths.clone();
    sorted.sort();
    assert_eq!(paths, sorted);
    for p in [
        "etc/alternatives/awk",
        "usr/bin/awk",
        "etc/localtime",
        "etc/passwd",
        "etc/shadow",
        "etc/shells",
        "var/lib/dpkg/status",
        "var/lib/dpkg/info/mawk.postinst",
    ] {
        assert!(paths.contains(&p), "{p} missing");
    }
    assert_eq!(
        a.report,
        [NotEmulated {
            package: "mawk".into(),
            script: "postinst".into(),
            what: "setcap x /usr/bin/mawk".into()
        }]
    );
}

/// libc-bin is Essential: the nsswitch.conf its postinst installs is there when the other
/// packages' postinsts run (libnss-sss's, as dh_installnss writes it, adds `sss` to it and removes
/// the marker its preinst left).
#[test]
fn nsswitch_conf_is_there_for_the_postinsts_that_edit_it() {
    let mut t = MemTree::new();
    t.dir("etc").dir("var/lib/dpkg").file(
        "usr/share/libc-bin/nsswitch.conf",
        b"passwd:         files\ngroup:          files\nhosts:          files dns\n",
    );
    let marker = "${DPKG_ROOT}/etc/nsswitch.conf.nss.${DPKG_MAINTSCRIPT_PACKAGE}-will-install";
    let preinst = format!("#!/bin/sh\nset -e\nif [ \"$1\" = install ]; then\n\ttouch \"{marker}\"\nfi\n");
    let postinst = format!(
        "#!/bin/sh\nset -e\nif [ \"$1\" = configure ] && [ -f \"{marker}\" ] && [ -e \"${{DPKG_ROOT}}/etc/nsswitch.conf\" ] ; then\n\
         \tif ! grep -q -E -e '^passwd:[^#]*\\s(sss)(\\s|#|$)' \"${{DPKG_ROOT}}/etc/nsswitch.conf\" ; then\n\
         \t\tsed -E -i \"${{DPKG_ROOT}}/etc/nsswitch.conf\" -e '/^passwd:\\s[^#]*$/ s/$/ sss/'\n\tfi\n\trm \"{marker}\"\nfi\n"
    );
    let pkgs = vec![
        pkg("libc-bin", &[], &[]),
        pkg(
            "libnss-sss",
            &[],
            &[("preinst", preinst.as_str()), ("postinst", postinst.as_str())],
        ),
    ];
    let system = System::default();
    let input = SystemInput {
        tree: &t,
        packages: &pkgs,
        system: &system,
        architecture: "amd64",
        source_date_epoch: 1_700_000_000,
    };
    let out = compute(&input).unwrap();
    let file = |p: &str| {
        out.files
            .iter()
            .find(|(e, _)| e.path == p)
            .map(|(_, d)| String::from_utf8_lossy(d).into_owned())
    };
    assert_eq!(
        file("etc/nsswitch.conf").as_deref(),
        Some("passwd:         files sss\ngroup:          files\nhosts:          files dns\n"),
        "{:?}",
        out.report
    );
    assert!(file("etc/nsswitch.conf.nss.libnss-sss-will-install").is_none());
}

/// Pathname expansion over the tree: through a symbolic link to a directory, hidden names
/// only for a pattern starting with `.`, bracket expressions, `\` quoting, sorted.
#[test]
fn glob_paths_as_sh_expands_them() {
    let mut t = MemTree::new();
    t.file("etc/bind/named.conf", b"")
        .file("etc/bind/named.conf.local", b"")
        .file("etc/bind/.named.conf.swp", b"")
        .file("etc/bind/rndc.key", b"")
        .file("etc/star/a*b", b"")
        .file("etc/star/axb", b"")
        .symlink("etc/bind9", "bind");
    assert_eq!(
        glob_paths(&t, "/etc/bind/named.conf*"),
        ["/etc/bind/named.conf", "/etc/bind/named.conf.local"]
    );
    assert_eq!(glob_paths(&t, "/etc/bind9/*.key"), ["/etc/bind9/rndc.key"]);
    assert_eq!(glob_paths(&t, "/etc/bind/.*.swp"), ["/etc/bind/.named.conf.swp"]);
    assert_eq!(glob_paths(&t, "/etc/b[i]nd/r?ndc*"), Vec::<String>::new());
    assert_eq!(glob_paths(&t, "/etc/b[i]nd/rndc.?ey"), ["/etc/bind/rndc.key"]);
    assert_eq!(glob_paths(&t, "/etc/star/a\\*b"), ["/etc/star/a*b"]);
    assert_eq!(glob_paths(&t, "/etc/*/a*b"), ["/etc/star/a*b", "/etc/star/axb"]);
}

/// An option's values as getopt takes them: `--long=V`, `--long V`, `-s V`, and `-sV` glued.
#[test]
fn option_values_in_every_form() {
    let args: Vec<String> = [
        "-l",
        "/a",
        "--logfile=/b",
        "-l/c",
        "--logfile",
        "/d",
        "-x",
        "--log",
    ]
    .iter()
    .map(|a| a.to_string())
    .collect();
    assert_eq!(
        super::option_values(&args, Some("-l"), "--logfile"),
        ["/a", "/b", "/c", "/d"]
    );
    // A short option of its own name only: `-lx` is not `--log…`, `--log` is not `-l`.
    assert_eq!(super::option_values(&args, None, "--logfile"), ["/b", "/d"]);
}
