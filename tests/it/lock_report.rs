//! What `lock` and `build` report (#15 item 5): after a lock update the `debcast diff` of it in
//! text form, with the changelog entries and CVEs of the packages whose new `.deb` is already in
//! the store (a lock downloads none, and says how to see the others), and a one-line SBOM summary;
//! against a synthetic signed archive of real `.deb` files served on 127.0.0.1.

use crate::common;
use crate::lock_support;

use common::Debcast;
use debcast_testkit::deb::{Compression, DebBuilder};
use lock_support::Fixture;

const CHANGELOG: &str = "libfoo (1.0-3) stable; urgency=high

  * Fix a heap overflow (CVE-2024-1111).

 -- Jane Doe <jane@example.invalid>  Mon, 01 Jan 2024 00:00:00 +0000

libfoo (1.0-2) stable; urgency=medium

  * Fix CVE-2023-2222.

 -- Jane Doe <jane@example.invalid>  Sun, 01 Oct 2023 00:00:00 +0000

libfoo (1.0-1) stable; urgency=low

  * Initial release; closes CVE-2020-0001 (not in the diff).

 -- Jane Doe <jane@example.invalid>  Sat, 01 Jan 2022 00:00:00 +0000
";

const DEP5: &str = "Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/

Files: *
Copyright: 2024 Someone
License: GPL-2+
";

fn libfoo(version: &str, changelog: &str) -> DebBuilder {
    DebBuilder::new("libfoo", version, "all")
        .file(
            "./usr/share/doc/libfoo/changelog.Debian.gz",
            Compression::Gzip.compress(changelog.as_bytes()),
            0o644,
        )
        .file("./usr/share/doc/libfoo/copyright", DEP5, 0o644)
}

/// `app` (per architecture) depends on `libfoo` 1.0-1 (all); `extra` is there to be added.
fn fixture() -> Fixture {
    let mut f = Fixture::new(&["stable"]);
    for arch in ["amd64", "arm64"] {
        let app = DebBuilder::new("app", "1.0", arch)
            .file("./usr/bin/app", "app\n", 0o755)
            .depends("libfoo");
        f.deb("stable", &app, &[("Depends", "libfoo")]);
    }
    f.deb("stable", &libfoo("1.0-1", ""), &[]);
    f.deb("stable", &DebBuilder::new("extra", "1.0", "all"), &[]);
    f.serve();
    f.manifest(&["stable"], r#"include = ["app"]"#, "");
    f.lock(&[]).ok();
    f
}

/// Publishes libfoo 1.0-3 (whose changelog names two CVEs since 1.0-1).
fn publish_update(f: &mut Fixture) {
    f.deb("stable", &libfoo("1.0-3", CHANGELOG), &[]);
    f.publish();
}

/// Runs git in `dir`; a missing git fails the test (the README's quick start installs it) instead
/// of leaving the git hint untested.
fn git(dir: &std::path::Path, args: &[&str]) {
    let out = std::process::Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(["-c", "user.name=t", "-c", "user.email=t@example.invalid"])
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("git {args:?}: {e} (apt-get install git)"));
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn a_lock_update_prints_the_diff_with_changelogs_from_the_store_or_says_how_to_see_them() {
    let mut f = fixture();
    let old = f.lockfile().unwrap();
    publish_update(&mut f);

    // The new .deb is not in the store: the diff without changelogs, and how to see them.
    let run = f.lock(&["--update"]).ok();
    run.stderr_has(&[
        "linux/amd64:",
        "~ libfoo 1.0-1 -> 1.0-3 (all)",
        "linux/arm64:",
        "0 added, 0 removed, 2 changed",
        "(changelog not read: the new .deb is not in the store)",
        "changelogs of 2 changed package(s) not shown: their new .debs are not in store (a lock downloads none)",
        "`debcast diff /tmp/old.lock image.lock --cache-dir store` fetches and reads them, /tmp/old.lock being a copy of image.lock from before this update",
        "wrote",
    ]);
    assert!(!run.stderr.contains("CVE-"), "{run}");
    // The lock downloaded no .deb: the store lacks the new libfoo.
    Debcast::new(f.path())
        .args(["fetch", "image.toml", "--cache-dir", "store", "--offline"])
        .fails()
        .stderr_has(&["libfoo"]);
    assert!(f.locked("linux/amd64").contains(&"libfoo=1.0-3".to_owned()));

    // In a git work tree whose HEAD holds the old lock, the hint says how to get it back.
    std::fs::write(f.path().join("image.lock"), &old).unwrap();
    git(f.path(), &["init", "-q"]);
    git(f.path(), &["add", "image.lock"]);
    git(f.path(), &["commit", "-q", "-m", "lock"]);
    f.lock(&["--update"]).ok().stderr_has(&[
        "after `git show HEAD:./image.lock > /tmp/old.lock`, `debcast diff /tmp/old.lock image.lock --cache-dir store` fetches and reads them",
    ]);
    std::fs::write(f.path().join("image.lock"), &old).unwrap();

    // The hint works: `debcast diff` of the old lock and the updated one reads the changelogs
    // (fetching the new .deb into the store).
    f.lock(&["--update"]).ok();
    std::fs::write(f.path().join("old.lock"), &old).unwrap();
    let diff = Debcast::new(f.path())
        .args([
            "diff",
            "old.lock",
            "image.lock",
            "--cache-dir",
            "store",
            "--mirror",
        ])
        .arg(format!("{}={}", lock_support::ARCHIVE, f.url()))
        .ok();
    assert!(
        diff.stdout.contains("CVEs: CVE-2023-2222, CVE-2024-1111"),
        "{diff}"
    );

    // Once the new .deb is in the store, the same update shows the changelog entries between
    // the versions and their CVEs, as `debcast diff` does, and no hint.
    std::fs::write(f.path().join("image.lock"), &old).unwrap();
    let run = f.lock(&["--update=libfoo"]).ok();
    run.stderr_has(&[
        "~ libfoo 1.0-1 -> 1.0-3 (all)",
        "CVEs: CVE-2023-2222, CVE-2024-1111",
        "libfoo (1.0-3) stable",
        "* Fix a heap overflow (CVE-2024-1111).",
        "libfoo (1.0-2) stable",
        "0 added, 0 removed, 2 changed",
    ]);
    // Exactly `debcast diff`'s text.
    assert!(
        run.stderr.contains(&diff.stdout),
        "{run}\n--- debcast diff:\n{diff}"
    );
    for absent in ["CVE-2020-0001", "changelogs of", "changelog not read"] {
        assert!(!run.stderr.contains(absent), "{absent:?} in:\n{run}");
    }

    // -q: neither the diff nor the SBOM line (nor anything else but errors).
    std::fs::write(f.path().join("image.lock"), &old).unwrap();
    let run = f.lock(&["--update", "-q"]).ok();
    assert_eq!(run.stderr, "", "{run}");
    assert!(f.locked("linux/arm64").contains(&"libfoo=1.0-3".to_owned()));

    // Nothing changed: today's count line, no platform heading.
    let run = f.lock(&["--update"]).ok();
    run.stderr_has(&["0 added, 0 removed, 0 changed"]);
    assert!(!run.stderr.contains("linux/amd64:"), "{run}");
}

#[test]
fn lock_check_of_a_stale_lock_shows_what_a_lock_would_change_and_writes_nothing() {
    let mut f = fixture();
    publish_update(&mut f);
    // `extra` asked for; libfoo's pin still fits, so only `extra` moves.
    f.manifest(&["stable"], r#"include = ["app", "extra"]"#, "");
    let before = f.lockfile().unwrap();
    let run = f.lock(&["--check"]).fails();
    assert_eq!(run.code, Some(2), "{run}");
    run.stderr_has(&[
        "stale",
        "`debcast lock` would change (nothing written):",
        "linux/amd64:",
        "+ extra 1.0 (all)",
        "2 added, 0 removed, 0 changed",
    ]);
    assert_eq!(f.lockfile().unwrap(), before, "--check must not write");

    // A manifest change that moves a pin: the changed package, and the hint for --check (the
    // old lock is still the file on disk).
    f.manifest(&["stable"], r#"include = ["app", "libfoo=1.0-3"]"#, "");
    let run = f.lock(&["--check"]).fails();
    run.stderr_has(&[
        "~ libfoo 1.0-1 -> 1.0-3 (all)",
        "(changelog not read: the new .deb is not in the store)",
        "after `cp image.lock /tmp/old.lock` and `debcast lock image.toml --cache-dir store`, `debcast diff /tmp/old.lock image.lock --cache-dir store` fetches and reads them",
    ]);
    assert_eq!(f.lockfile().unwrap(), before, "--check must not write");
    // -q: the exit code alone says it.
    f.manifest(&["stable"], r#"include = ["app", "extra"]"#, "");
    let run = f.lock(&["--check", "-q"]).fails();
    assert!(!run.stderr.contains("would change"), "{run}");
}

#[test]
fn lock_and_build_print_a_one_line_sbom_summary() {
    let f = fixture();
    // A lock that writes says it, and so does one that keeps a fresh lock.
    f.manifest(&["stable"], r#"include = ["app", "extra"]"#, "");
    f.lock(&[]).ok().stderr_has(&[
        "SBOM: linux/amd64 3 packages; linux/arm64 3 packages; SPDX 2.3 and CycloneDX 1.6 made by `debcast build`",
    ]);
    f.lock(&[]).ok().stderr_has(&[
        "up to date",
        "SBOM: linux/amd64 3 packages; linux/arm64 3 packages;",
    ]);
    let build = |extra: &[&str]| {
        Debcast::new(f.path())
            .args(["build", "image.toml", "--cache-dir", "store", "--mirror"])
            .arg(format!("{}={}", lock_support::ARCHIVE, f.url()))
            .args(extra)
            .ok()
    };
    build(&["--output", "out", "--sbom", "sbom"]).stderr_has(&[
        "SBOM: linux/amd64 3 packages (3 source packages; 1 licensed, 2 NOASSERTION); linux/arm64 3 packages (3 source packages; 1 licensed, 2 NOASSERTION); SPDX 2.3 and CycloneDX 1.6 attached to the layout out and written to sbom",
    ]);
    build(&["--output", "plain", "--no-sbom"]).stderr_has(&["SBOM: none (--no-sbom)"]);
    build(&["--output", "img.tar", "--format", "docker-archive"])
        .stderr_has(&["SBOM: none (a docker-archive carries no SBOM; `--sbom DIR` writes them as files)"]);
}
