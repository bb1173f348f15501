//! Tests of pam-auth-update against libpam's real bookworm files.

use super::super::testutil::MemTree;
use super::*;

/// libpam-runtime's and libpam-modules' real files (bookworm, 1.5.2-6+deb12u3).
fn fixture(name: &str) -> Vec<u8> {
    let path = format!("{}/tests/data/pam/bookworm/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn tree() -> MemTree {
    let mut t = MemTree::new();
    for p in ["unix", "mkhomedir"] {
        t.file(&format!("usr/share/pam-configs/{p}"), &fixture(p));
    }
    for ty in TYPES {
        t.file(
            &format!("usr/share/pam/common-{ty}"),
            &fixture(&format!("common-{ty}")),
        );
    }
    t.dir("var/lib/pam").dir("etc/pam.d");
    t
}

fn args(s: &str) -> Args {
    parse_args(&s.split(' ').map(str::to_owned).collect::<Vec<_>>()).unwrap()
}

fn apply_run(t: &MemTree, a: &Args) -> MemTree {
    let mut m = t.clone();
    m.apply(&run(t, a).unwrap());
    m
}

/// The stock template with its two blocks filled in.
fn expected(ty: &str, primary: &str, additional: &str) -> String {
    let t = String::from_utf8(fixture(&format!("common-{ty}"))).unwrap();
    let var = ty.replace("-noninteractive", "_nonint").replace('-', "_");
    t.replace(&format!("${var}_primary\n"), primary)
        .replace(&format!("${var}_additional\n"), additional)
}

#[test]
fn fresh_install_writes_the_unix_profile() {
    // libpam-runtime's postinst on a fresh install: `pam-auth-update --root '' --package --force`.
    let m = apply_run(&tree(), &args("--root  --package --force"));
    assert_eq!(
        m.text("etc/pam.d/common-auth"),
        expected(
            "auth",
            "auth\t[success=1 default=ignore]\tpam_unix.so nullok\n",
            ""
        )
    );
    assert_eq!(
        m.text("etc/pam.d/common-account"),
        expected(
            "account",
            "account\t[success=1 new_authtok_reqd=done default=ignore]\tpam_unix.so \n",
            ""
        )
    );
    assert_eq!(
        m.text("etc/pam.d/common-password"),
        expected(
            "password",
            "password\t[success=1 default=ignore]\tpam_unix.so obscure yescrypt\n",
            ""
        )
    );
    for ty in ["session", "session-noninteractive"] {
        assert_eq!(
            m.text(&format!("etc/pam.d/common-{ty}")),
            expected(
                ty,
                "session\t[default=1]\t\t\tpam_permit.so\n",
                "session\trequired\tpam_unix.so \n"
            )
        );
    }
    assert_eq!(m.text("var/lib/pam/seen"), "unix\nmkhomedir\n");
    assert_eq!(
        m.text("var/lib/pam/auth"),
        "Module: unix\n[success=end default=ignore]\tpam_unix.so nullok\n"
    );
    assert_eq!(
        m.text("var/lib/pam/session"),
        "Module: null\n[default=1]\t\t\tpam_permit.so\nModule: unix\nrequired\tpam_unix.so\n"
    );
    assert_eq!(m.entries["etc/pam.d/common-auth"].0.mode, 0o644);
}

/// Byte for byte what libpam-runtime's postinst wrote in an mmdebstrap install of bookworm.
#[test]
fn equals_what_pam_auth_update_wrote_under_dpkg() {
    let m = apply_run(&tree(), &args("--root  --package --force"));
    let mut compared = 0;
    for (dir, names) in [
        (
            "etc/pam.d",
            TYPES.iter().map(|t| format!("common-{t}")).collect::<Vec<_>>(),
        ),
        (
            "var/lib/pam",
            TYPES
                .iter()
                .map(|t| t.to_string())
                .chain(["seen".to_owned()])
                .collect(),
        ),
    ] {
        for n in names {
            let want = fixture(&format!("mmdebstrap/{dir}/{n}"));
            assert_eq!(m.entries[&format!("{dir}/{n}")].1, want, "{dir}/{n}");
            compared += 1;
        }
    }
    assert_eq!(compared, 11);
}

#[test]
fn without_force_and_without_a_configuration_nothing_is_written() {
    assert_eq!(run(&tree(), &args("--package")).unwrap(), Changes::default());
}

#[test]
fn a_later_run_keeps_the_set_and_adds_enabled_profiles() {
    let first = apply_run(&tree(), &args("--package --force"));
    // Same set again (what libpam-systemd's postinst `pam-auth-update --package` does when
    // it brings no new default profile): identical bytes.
    let again = apply_run(&first, &args("--package"));
    for ty in TYPES {
        let p = format!("etc/pam.d/common-{ty}");
        assert_eq!(again.text(&p), first.text(&p), "{p}");
    }
    // mkhomedir (Default: no, Session-Interactive-Only) joins the Additional session block
    // after unix (priority 256 before 0), counted for the jumps.
    let m = apply_run(&first, &args("--enable mkhomedir"));
    assert_eq!(
        m.text("etc/pam.d/common-session"),
        expected(
            "session",
            "session\t[default=1]\t\t\tpam_permit.so\n",
            "session\trequired\tpam_unix.so \nsession\toptional\t\t\tpam_mkhomedir.so \n"
        )
    );
    assert_eq!(
        m.text("etc/pam.d/common-session-noninteractive"),
        first.text("etc/pam.d/common-session-noninteractive")
    );
    // --remove unix leaves no Primary module: the stock pam_permit line keeps the stack.
    let m = apply_run(&first, &args("--enable mkhomedir --remove unix"));
    assert_eq!(
        m.text("etc/pam.d/common-auth"),
        expected("auth", "auth\t[default=1]\t\t\tpam_permit.so\n", "")
    );
}

#[test]
fn profile_parsing_and_order() {
    let p = parse_profile(&String::from_utf8(fixture("unix")).unwrap());
    assert_eq!(p.get("Priority"), Some("256"));
    assert_eq!(
        p.get("Auth"),
        Some("[success=end default=ignore]\tpam_unix.so nullok try_first_pass")
    );
    assert_eq!(p.get("Session-noninteractive-Type"), Some("Additional"));
    let m = parse_profile(&String::from_utf8(fixture("mkhomedir")).unwrap());
    assert_eq!(m.get("Session-noninteractive-Type"), None);
    let t = parse_profile("Name: T\nAuth-Final:\n\trequired pam_tally2.so\nConflicts: a, b\n");
    assert!(t.disabled);
    assert_eq!(t.conflicts, ["a".to_owned(), "b".to_owned()].into());
    let mut profiles = BTreeMap::new();
    for (n, prio) in [("a", "10"), ("b", "10"), ("c", "300"), ("d", "")] {
        profiles.insert(n.to_owned(), parse_profile(&format!("Priority: {prio}\n")));
    }
    let mut names: Vec<String> = ["d", "a", "c", "b"].iter().map(|s| s.to_string()).collect();
    sort_profiles(&mut names, &profiles);
    assert_eq!(names, ["c", "b", "a", "d"]);
    assert_eq!(
        strip_jump("[success=12 default=ignore]\tpam_x.so"),
        "[success= default=ignore]\tpam_x.so"
    );
    assert_eq!(
        split_line("required\tpam_unix.so  a b"),
        Some(("required\tpam_unix.so", "a b"))
    );
}
