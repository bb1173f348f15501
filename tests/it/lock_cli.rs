//! `debcast lock` through the real binary, against a synthetic signed archive served on
//! 127.0.0.1 by the test: the lockfile, Cargo-like freshness and updates, the manifest options,
//! several suites, tampered archives, and the whole lock -> build pipeline.

use crate::common;
use crate::lock_support;

use debcast_testkit::archive::{self, ArchiveBuilder, Compression, TestKey};
use debcast_testkit::deb::DebBuilder;
use lock_support::{Fixture, failed_with};

/// One suite `stable` with a small dependency graph, for both architectures.
fn stable() -> Fixture {
    let mut f = Fixture::new(&["stable"]);
    for arch in ["amd64", "arm64"] {
        f.pkg("stable", "libc", "1.0", arch, &[("Multi-Arch", "same")]);
        f.pkg("stable", "hello", "1.0", arch, &[("Depends", "libc (>= 1.0)")]);
        f.pkg("stable", "mawk", "1.0", arch, &[("Provides", "awk")]);
    }
    f.pkg("stable", "amdtool", "1.0", "amd64", &[]);
    f.pkg("stable", "armtool", "1.0", "arm64", &[]);
    f.pkg(
        "stable",
        "app",
        "1:1.0-1",
        "all",
        &[("Depends", "hello, awk"), ("Recommends", "extra")],
    );
    f.pkg("stable", "extra", "1.0", "all", &[]);
    f.pkg("stable", "pinned", "1.0", "all", &[]);
    f.pkg("stable", "pinned", "2.0", "all", &[]);
    f.pkg("stable", "req-base", "1", "all", &[("Priority", "required")]);
    f.pkg("stable", "bad", "1.0", "all", &[("Depends", "hello (>= 2)")]);
    f
}

fn sorted(items: &[&str]) -> Vec<String> {
    let mut v: Vec<String> = items.iter().map(|s| (*s).to_owned()).collect();
    v.sort();
    v
}

#[test]
fn lock_writes_a_sorted_lockfile_and_keeps_it() {
    let mut f = stable();
    f.serve();
    f.manifest(
        &["stable"],
        r#"include = ["app"]"#,
        "[config]\ncmd = [\"/bin/sh\"]\n",
    );
    f.lock(&[]).ok().stderr_has(&["wrote", "image.lock"]);
    let text = f.lockfile().unwrap();
    assert!(text.contains("manifest-hash = \"sha256:"), "{text}");
    assert!(
        text.contains("[[release]]\narchive = \"synthetic\"\nsuite = \"stable\"\ndate = \"Sat, 01 Jun 2024 12:00:00 UTC\""),
        "{text}"
    );
    let expected = sorted(&["app=1:1.0-1", "hello=1.0", "libc=1.0", "mawk=1.0"]);
    assert_eq!(f.locked("linux/amd64"), expected);
    assert_eq!(f.locked("linux/arm64"), expected);
    // Sorted by platform, then name, in the file itself.
    let keys: Vec<(String, String)> = text
        .split("[[package]]")
        .skip(1)
        .map(|block| {
            let field = |k: &str| {
                block
                    .lines()
                    .find_map(|l| l.strip_prefix(&format!("{k} = \"")))
                    .map(|v| v.trim_end_matches('"').to_owned())
                    .unwrap_or_default()
            };
            (field("platform"), field("name"))
        })
        .collect();
    let mut want = keys.clone();
    want.sort();
    assert_eq!(keys, want, "{text}");
    assert_eq!(keys.len(), 8);
    assert!(
        text.contains("path = \"pool/main/hello/hello_1.0_arm64.deb\""),
        "{text}"
    );

    // A second lock keeps it byte for byte; --check passes.
    f.lock(&[]).ok().stderr_has(&["up to date"]);
    assert_eq!(f.lockfile().unwrap(), text);
    f.lock(&["--check"]).ok();

    // Editing [config] does not make the lock stale; editing the packages does.
    f.manifest(
        &["stable"],
        r#"include = ["app"]"#,
        "[config]\ncmd = [\"/bin/bash\"]\n",
    );
    f.lock(&["--check"]).ok();
    f.manifest(&["stable"], r#"include = ["app", "extra"]"#, "");
    let run = f.lock(&["--check"]).fails();
    failed_with(&run, &["image.lock", "stale", "image.toml", "changed"]);
    assert_eq!(f.lockfile().unwrap(), text, "--check must not write");

    // Re-locking the edited manifest adds only what changed, and says so.
    f.lock(&[])
        .ok()
        .stderr_has(&["+ extra 1.0", "2 added, 0 removed, 0 changed"]);
    f.lock(&["--check"]).ok();
}

#[test]
fn pins_stay_until_updated() {
    let mut f = stable();
    f.serve();
    f.manifest(&["stable"], r#"include = ["hello", "extra"]"#, "");
    f.lock(&[]).ok();
    assert_eq!(
        f.locked("linux/amd64"),
        sorted(&["extra=1.0", "hello=1.0", "libc=1.0"])
    );

    // Newer versions published (the old ones stay in the archive).
    for arch in ["amd64", "arm64"] {
        f.pkg("stable", "hello", "1.1", arch, &[("Depends", "libc (>= 1.0)")]);
        f.pkg("stable", "libc", "1.1", arch, &[("Multi-Arch", "same")]);
    }
    f.pkg("stable", "extra", "1.1", "all", &[]);
    f.publish();

    // A fresh lock is kept as it is.
    let before = f.lockfile().unwrap();
    f.lock(&[]).ok().stderr_has(&["up to date"]);
    assert_eq!(f.lockfile().unwrap(), before);

    // A stale lock (a package added) keeps the pins that still fit.
    f.manifest(&["stable"], r#"include = ["hello", "extra", "mawk"]"#, "");
    // ... and says what they hold back (#17: "0 changed" alone hid newer versions).
    f.lock(&[]).ok().stderr_has(&[
        "+ mawk 1.0",
        "0 changed",
        "6 locked package(s) (3 name(s) across platforms) have newer candidates in the signed indices (-v lists them)",
    ]);
    assert_eq!(
        f.locked("linux/amd64"),
        sorted(&["extra=1.0", "hello=1.0", "libc=1.0", "mawk=1.0"])
    );
    // -v names them; --check exits 3 for "fresh, but updates available", without writing.
    let before = f.lockfile().unwrap();
    let run = f.lock(&["--check", "-v"]).fails();
    assert_eq!(run.code, Some(3), "{run}");
    run.stderr_has(&[
        "up to date",
        "newer: hello 1.0 -> 1.1 (linux/arm64)",
        "newer: extra 1.0 -> 1.1 (linux/amd64)",
    ]);
    assert_eq!(f.lockfile().unwrap(), before);

    // A name the lock does not hold is refused, naming it; nothing is written.
    f.lock(&["--update=extra,nosuch"])
        .fails()
        .stderr_has(&["--update: `nosuch` not in", "image.lock"]);
    assert_eq!(f.lockfile().unwrap(), before);
    // A name given with a space is refused with the form to use (it would be the manifest).
    f.lock(&["--update", "extra"])
        .fails()
        .stderr_has(&["`--update=extra`"]);

    // --update=PKG moves only that one.
    f.lock(&["--update=extra"]).ok().stderr_has(&[
        "linux/amd64:\n  ~ extra 1.0 -> 1.1 (all)",
        "0 added, 0 removed, 2 changed",
    ]);
    assert_eq!(
        f.locked("linux/arm64"),
        sorted(&["extra=1.1", "hello=1.0", "libc=1.0", "mawk=1.0"])
    );

    // --update moves everything, also when it comes before the manifest (#17: the manifest
    // was taken for a package name).
    common::Debcast::new(f.path())
        .args([
            "lock",
            "--update",
            "image.toml",
            "--cache-dir",
            "store",
            "--mirror",
        ])
        .arg(format!("synthetic={}", f.url()))
        .ok()
        .stderr_has(&["~ hello 1.0 -> 1.1"]);
    assert_eq!(
        f.locked("linux/arm64"),
        sorted(&["extra=1.1", "hello=1.1", "libc=1.1", "mawk=1.0"])
    );
    f.lock(&["--check"])
        .ok()
        .stderr_has(&["no locked package has a newer candidate"]);
    // A stale lock: exit 2.
    f.manifest(&["stable"], r#"include = ["hello"]"#, "");
    let run = f.lock(&["--check"]).fails();
    assert_eq!(run.code, Some(2), "{run}");
}

#[test]
fn lock_help_documents_exit_codes_and_headings() {
    let dir = common::tempdir();
    let run = common::Debcast::new(dir.path()).args(["lock", "--help"]).ok();
    let help = &run.stdout;
    for option in ["--update", "--check"] {
        assert_eq!(
            common::help_heading(help, option).as_deref(),
            Some("Lock"),
            "{option}:\n{help}"
        );
    }
    for needle in [
        "Exit codes:",
        "2 (--check) the lockfile is stale",
        "3 (--check)",
        "--update=NAME",
    ] {
        assert!(help.contains(needle), "lacks {needle:?}:\n{help}");
    }
}

#[test]
fn a_pin_that_no_longer_fits_moves() {
    let mut f = stable();
    f.serve();
    f.manifest(&["stable"], r#"include = ["hello"]"#, "");
    f.lock(&[]).ok();
    // hello 1.0 disappears from the archive: the stale lock re-resolves to what is there.
    for b in &mut f.suites {
        b.packages
            .retain(|p| !(p.fields.iter().any(|(k, v)| k == "Package" && v == "hello")));
    }
    for arch in ["amd64", "arm64"] {
        f.pkg("stable", "hello", "1.2", arch, &[("Depends", "libc (>= 1.0)")]);
    }
    f.publish();
    f.manifest(&["stable"], r#"include = ["hello", "extra"]"#, "");
    f.lock(&[]).ok().stderr_has(&["~ hello 1.0 -> 1.2"]);
    assert_eq!(
        f.locked("linux/amd64"),
        sorted(&["extra=1.0", "hello=1.2", "libc=1.0"])
    );
}

#[test]
fn manifest_options_pins_exclude_recommends_required_platforms() {
    let mut f = stable();
    f.serve();

    // name=version pins; per-platform additions.
    f.manifest(
        &["stable"],
        r#"include = ["pinned=1.0", "hello"]"#,
        r#"[packages.platform."linux/amd64"]
include = ["amdtool"]

[packages.platform."linux/arm64"]
include = ["armtool"]
"#,
    );
    f.lock(&[]).ok();
    assert_eq!(
        f.locked("linux/amd64"),
        sorted(&["amdtool=1.0", "hello=1.0", "libc=1.0", "pinned=1.0"])
    );
    assert_eq!(
        f.locked("linux/arm64"),
        sorted(&["armtool=1.0", "hello=1.0", "libc=1.0", "pinned=1.0"])
    );
    // Without the pin, the newest.
    f.manifest(&["stable"], r#"include = ["pinned"]"#, "");
    f.lock(&["--update"]).ok();
    assert_eq!(f.locked("linux/amd64"), sorted(&["pinned=2.0"]));
    // A pin the archive cannot satisfy is an error naming it.
    f.manifest(&["stable"], r#"include = ["pinned=3.0"]"#, "");
    let run = f.lock(&[]).fails();
    failed_with(&run, &["pinned", "3.0"]);

    // recommends = true follows Recommends; exclude drops what would come in.
    f.manifest(&["stable"], "include = [\"app\"]\nrecommends = true", "");
    f.lock(&[]).ok();
    assert_eq!(
        f.locked("linux/amd64"),
        sorted(&["app=1:1.0-1", "extra=1.0", "hello=1.0", "libc=1.0", "mawk=1.0"])
    );
    f.manifest(
        &["stable"],
        "include = [\"app\"]\nrecommends = true\nexclude = [\"extra\"]",
        "",
    );
    f.lock(&[]).ok();
    assert_eq!(
        f.locked("linux/amd64"),
        sorted(&["app=1:1.0-1", "hello=1.0", "libc=1.0", "mawk=1.0"])
    );

    // required = true adds every Priority: required package.
    f.manifest(&["stable"], "include = [\"hello\"]\nrequired = true", "");
    f.lock(&[]).ok();
    assert_eq!(
        f.locked("linux/arm64"),
        sorted(&["hello=1.0", "libc=1.0", "req-base=1"])
    );
}

#[test]
fn updates_and_security_suites_win_where_newer() {
    let mut f = Fixture::new(&["stable", "stable-updates", "stable-security"]);
    f.pkg("stable", "sec", "1.0", "all", &[]);
    f.pkg("stable", "upd", "1.0", "all", &[]);
    f.pkg("stable", "old", "2.0", "all", &[]);
    f.pkg("stable", "same", "1.0", "all", &[]);
    f.pkg("stable-updates", "upd", "1.1", "all", &[]);
    f.pkg("stable-updates", "old", "1.9", "all", &[]);
    f.pkg("stable-security", "sec", "1.0+deb1", "all", &[]);
    f.pkg("stable-security", "same", "1.0", "all", &[]);
    // Every index form: by-hash, gzip only, plain only.
    f.suite("stable").acquire_by_hash = true;
    f.suite("stable-updates").compressions = vec![Compression::Gz];
    f.suite("stable-security").compressions = vec![Compression::None];
    f.serve();
    f.manifest(
        &["stable", "stable-updates", "stable-security"],
        r#"include = ["sec", "upd", "old", "same"]"#,
        "",
    );
    f.lock(&[]).ok();
    assert_eq!(
        f.locked("linux/amd64"),
        sorted(&["old=2.0", "same=1.0", "sec=1.0+deb1", "upd=1.1"])
    );
    let text = f.lockfile().unwrap();
    for suite in ["stable", "stable-updates", "stable-security"] {
        assert!(text.contains(&format!("suite = \"{suite}\"")), "{text}");
    }
    // The same version in two suites is taken from the first listed.
    assert!(
        text.contains("path = \"pool/main/same/same_1.0_all.deb\""),
        "{text}"
    );
    assert!(text.contains("path = \"pool/main/sec/sec_1.0+deb1_all.deb\""));
}

#[test]
fn warm_indices_are_not_downloaded_again() {
    let mut f = stable();
    f.serve();
    f.manifest(&["stable"], r#"include = ["hello"]"#, "");
    f.lock(&[]).ok();
    let before = f.server.as_ref().unwrap().counters().requests;
    f.lock(&["--update"]).ok();
    let after = f.server.as_ref().unwrap().counters().requests;
    // Only InRelease: the indices come from the store.
    assert_eq!(after - before, 1, "a warm lock made {} requests", after - before);
}

#[test]
fn an_impossible_request_explains_the_chain() {
    let mut f = stable();
    f.serve();
    f.manifest(&["stable"], r#"include = ["bad"]"#, "");
    let run = f.lock(&[]).fails();
    failed_with(&run, &["bad", "hello (>= 2)", "1.0", "linux/amd64"]);
    assert!(f.lockfile().is_none(), "nothing may be written");
    f.manifest(&["stable"], r#"include = ["no-such-package"]"#, "");
    let run = f.lock(&[]).fails();
    failed_with(&run, &["no-such-package"]);
}

/// Locks `hello` successfully, applies `tamper` to the served archive, then requires
/// `lock --update` (from an empty store) to fail naming every one of `needles`, leaving the
/// lockfile as it was.
fn rejected_after(tamper: impl FnOnce(&mut Fixture), needles: &[&str]) {
    let mut f = stable();
    f.serve();
    f.manifest(&["stable"], r#"include = ["hello"]"#, "");
    f.lock(&[]).ok();
    let before = f.lockfile().unwrap();
    tamper(&mut f);
    std::fs::remove_dir_all(f.path().join("store")).unwrap();
    let run = f.lock(&["--update"]).fails();
    failed_with(&run, needles);
    assert_eq!(f.lockfile().unwrap(), before, "the lockfile changed:\n{run}");
    // And without a lockfile, none is written.
    std::fs::remove_file(f.path().join("image.lock")).unwrap();
    let run = f.lock(&[]).fails();
    failed_with(&run, needles);
    assert!(f.lockfile().is_none());
}

#[test]
fn a_bad_signature_is_rejected() {
    rejected_after(
        |f| archive::flip_signed_byte(&f.archive_root(), "stable").unwrap(),
        &["dists/stable/InRelease", "signature"],
    );
}

#[test]
fn an_unknown_key_is_rejected() {
    rejected_after(
        |f| {
            let other = TestKey::new("someone else").unwrap();
            archive::resign(&f.archive_root(), "stable", &[&other], Default::default()).unwrap();
        },
        &["dists/stable/InRelease", "signature", "keyring.gpg"],
    );
}

#[test]
fn an_expired_release_is_rejected_unless_allowed() {
    let expire = |f: &mut Fixture| {
        f.suite("stable").valid_until = Some("Sun, 02 Jun 2024 12:00:00 UTC".into());
        f.publish();
    };
    rejected_after(expire, &["dists/stable/InRelease", "expired", "Valid-Until"]);

    let mut f = stable();
    expire(&mut f);
    f.serve();
    f.manifest_with_source(&["stable"], "allow-expired = true", r#"include = ["hello"]"#, "");
    f.lock(&[]).ok().stderr_has(&["expired", "allow-expired"]);
    assert_eq!(f.locked("linux/amd64"), sorted(&["hello=1.0", "libc=1.0"]));
}

#[test]
fn a_packages_hash_mismatch_is_rejected() {
    rejected_after(
        |f| {
            for ext in [".xz", ".gz"] {
                archive::corrupt_index(
                    &f.archive_root(),
                    "stable",
                    &format!("main/binary-amd64/Packages{ext}"),
                )
                .unwrap();
            }
        },
        &[
            "dists/stable/main/binary-amd64/Packages.xz",
            "expected",
            "SHA-256",
        ],
    );
}

#[test]
fn a_release_for_another_suite_is_rejected() {
    rejected_after(
        |f| {
            // A mirror serving the wrong suite's (validly signed) Release under this name.
            let mut other = ArchiveBuilder::new("stable");
            other.suite = "oldstable".into();
            other.codename = "oldstable".into();
            let tmp = f.path().join("other");
            other.write(&tmp, &[&f.key]).unwrap();
            std::fs::copy(
                tmp.join("dists/oldstable/InRelease"),
                f.archive_root().join("dists/stable/InRelease"),
            )
            .unwrap();
        },
        &["dists/stable/InRelease", "oldstable"],
    );
}

/// The whole pipeline: lock a synthetic archive of real `.deb` files, then build it.
#[test]
fn lock_then_build() {
    let mut f = Fixture::new(&["stable"]);
    for arch in ["amd64", "arm64"] {
        let tool = DebBuilder::new("tool", "1.0-1", arch)
            .file("./usr/bin/tool", format!("#!/bin/sh\necho {arch}\n"), 0o755)
            .depends("libtool-data");
        f.deb("stable", &tool, &[("Depends", "libtool-data (>= 0.5)")]);
    }
    let data = DebBuilder::new("libtool-data", "0.9", "all").file("./usr/share/tool/data", "data\n", 0o644);
    f.deb("stable", &data, &[]);
    f.serve();
    f.manifest(
        &["stable"],
        r#"include = ["tool"]"#,
        "[config]\ncmd = [\"/usr/bin/tool\"]\n",
    );
    f.lock(&[]).ok();
    assert_eq!(
        f.locked("linux/arm64"),
        sorted(&["libtool-data=0.9", "tool=1.0-1"])
    );
    let server_url = f.url();
    common::Debcast::new(f.path())
        .args(["build", "image.toml", "--output", "out", "--cache-dir", "store"])
        .arg("--mirror")
        .arg(format!("{}={server_url}", lock_support::ARCHIVE))
        .ok();
    debcast_testkit::oci::check_layout(&f.path().join("out")).unwrap_or_else(|e| panic!("{e}"));
    let index = std::fs::read_to_string(f.path().join("out/index.json")).unwrap();
    assert!(index.contains("synthetic:test"), "{index}");
}

#[test]
fn a_keyring_that_is_a_device_fails_at_once_naming_it() {
    let mut f = stable();
    f.serve();
    let manifest = f.manifest(&["stable"], r#"include = ["hello"]"#, "");
    let text = std::fs::read_to_string(&manifest).unwrap();
    std::fs::write(
        &manifest,
        text.replace(r#"keyring = "keyring.gpg""#, r#"keyring = "/dev/zero""#),
    )
    .unwrap();
    // Read to the end, /dev/zero would grow memory without limit; it is refused unread.
    let run = f.lock(&[]).fails();
    failed_with(&run, &["/dev/zero", "character device, not a regular file"]);
    assert!(f.lockfile().is_none());
}

/// `[packages] no-depends`: the named packages are locked without their dependencies, the lock
/// records them (and goes stale when they change), a name nothing installs is an error, and the
/// build says which packages it took alone.
#[test]
fn no_depends_takes_packages_without_their_dependencies() {
    let mut f = Fixture::new(&["stable"]);
    for arch in ["amd64", "arm64"] {
        let tool = DebBuilder::new("tool", "1.0-1", arch)
            .file("./usr/bin/tool", format!("#!/bin/sh\necho {arch}\n"), 0o755)
            .depends("libtool-data, missing-lib (>= 2)");
        f.deb(
            "stable",
            &tool,
            &[("Depends", "libtool-data (>= 0.5), missing-lib (>= 2)")],
        );
    }
    let data = DebBuilder::new("libtool-data", "0.9", "all").file("./usr/share/tool/data", "data\n", 0o644);
    f.deb("stable", &data, &[]);
    f.serve();
    // Without no-depends, `tool` cannot be installed (missing-lib is nowhere).
    f.manifest(&["stable"], r#"include = ["tool"]"#, "");
    failed_with(&f.lock(&[]).fails(), &["missing-lib"]);

    f.manifest(
        &["stable"],
        "include = [\"tool\"]\nno-depends = [\"tool\"]",
        "[config]\ncmd = [\"/usr/bin/tool\"]\n",
    );
    f.lock(&[]).ok();
    assert_eq!(f.locked("linux/amd64"), sorted(&["tool=1.0-1"]));
    assert_eq!(f.locked("linux/arm64"), sorted(&["tool=1.0-1"]));
    let text = f.lockfile().unwrap();
    assert!(text.contains("no-depends = [\"tool\"]"), "{text}");
    f.lock(&["--check"]).ok();

    let server_url = f.url();
    common::Debcast::new(f.path())
        .args(["build", "image.toml", "--output", "out", "--cache-dir", "store"])
        .arg("--mirror")
        .arg(format!("{}={server_url}", lock_support::ARCHIVE))
        .ok()
        .stderr_has(&["taken without their dependencies", "tool"]);

    // Dropping it from no-depends makes the lock stale.
    f.manifest(
        &["stable"],
        r#"include = ["tool"]"#,
        "[config]\ncmd = [\"/usr/bin/tool\"]\n",
    );
    failed_with(&f.lock(&["--check"]).fails(), &["stale"]);
    // A name the image does not install (a typo) is an error, and no lock is written.
    std::fs::remove_file(f.path().join("image.lock")).unwrap();
    f.manifest(
        &["stable"],
        "include = [\"tool\"]\nno-depends = [\"tool\", \"tol\"]",
        "",
    );
    failed_with(
        &f.lock(&[]).fails(),
        &["no-depends names `tol`", "linux/amd64, linux/arm64"],
    );
    assert!(f.lockfile().is_none());
}
