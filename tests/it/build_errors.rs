//! Bad input to `debcast build`: each case must fail with a message naming the package or file,
//! exit non-zero, and leave no output (and no unverified store entry) behind.

use crate::common;

use std::path::Path;

use common::Debcast;
use common::image::Project;
use debcast_testkit::deb::{DebBuilder, RawEntry, RawKind};

fn good() -> DebBuilder {
    DebBuilder::new("good", "1.0", "amd64").file("./usr/share/good/file", "good\n", 0o644)
}

fn build(p: &Project, mirror: Option<&str>) -> Debcast {
    let mut cmd =
        Debcast::new(p.path()).args(["build", "image.toml", "--output", "out", "--cache-dir", "store"]);
    if let Some(url) = mirror {
        cmd = cmd.arg("--mirror").arg(format!("synthetic={url}"));
    }
    cmd
}

fn assert_no_output(p: &Project) {
    assert!(!p.path().join("out").exists(), "a failed build left out/ behind");
    let leftovers = temporaries(p);
    assert!(
        leftovers.is_empty(),
        "temporary output left behind: {leftovers:?}"
    );
}

/// Temporary files beside the output (`.out.tmp-*` and the like) that a crash would leave.
fn temporaries(p: &Project) -> Vec<String> {
    std::fs::read_dir(p.path())
        .unwrap()
        .filter_map(Result::ok)
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(".out") || n.contains("tmp"))
        .collect()
}

fn store_debs(root: &Path) -> usize {
    std::fs::read_dir(root.join("store/debs/sha256")).map_or(0, |d| d.count())
}

#[test]
fn missing_lockfile_says_to_run_lock() {
    let mut p = Project::new(&["linux/amd64"]);
    p.add(None, good());
    p.write();
    std::fs::remove_file(p.path().join("image.lock")).unwrap();
    build(&p, None)
        .fails()
        .stderr_has(&["image.lock", "not found", "debcast lock"]);
    assert_no_output(&p);
}

#[test]
fn stale_lockfile_is_refused() {
    let mut p = Project::new(&["linux/amd64"]);
    p.add(None, good());
    p.write();
    let text = std::fs::read_to_string(p.path().join("image.toml")).unwrap();
    std::fs::write(
        p.path().join("image.toml"),
        text.replace("include = [\"good\"]", "include = [\"good\", \"more\"]"),
    )
    .unwrap();
    build(&p, None)
        .fails()
        .stderr_has(&["image.lock", "stale", "debcast lock"]);
    assert_no_output(&p);
}

#[test]
fn a_download_with_the_wrong_hash_is_never_stored_or_used() {
    let mut p = Project::new(&["linux/amd64"]);
    p.add(None, good());
    p.add(
        None,
        DebBuilder::new("victim", "2.0", "amd64").file("./etc/victim", "v", 0o644),
    );
    p.write();
    p.tamper("victim", |bytes| {
        let last = bytes.len() - 1;
        bytes[last] ^= 0xff;
    });
    let server = p.serve();
    build(&p, Some(&server.url()))
        .fails()
        .stderr_has(&["victim=2.0", "SHA-256"]);
    assert_no_output(&p);
    // The good package may be stored; the tampered one is not, and nothing half-written remains.
    assert!(store_debs(p.path()) <= 1);
    let tmp = p.path().join("store/tmp");
    assert_eq!(
        std::fs::read_dir(&tmp).map_or(0, |d| d.count()),
        0,
        "partial files in {}",
        tmp.display()
    );
}

#[test]
fn a_corrupt_deb_names_the_package() {
    let mut p = Project::new(&["linux/amd64"]);
    // The lock pins these exact (broken) bytes, so only the .deb reader can object.
    p.add(None, good().debian_binary("3.0\n"));
    p.write();
    let server = p.serve();
    build(&p, Some(&server.url()))
        .fails()
        .stderr_has(&["good=1.0", "debian-binary"]);
    assert_no_output(&p);
}

#[test]
fn hostile_tar_entries_are_rejected_and_nothing_escapes() {
    let cases = [
        (
            "dotdot",
            RawEntry::new("./../../escaped", RawKind::File(b"x".to_vec())),
            "escaped",
        ),
        (
            "absolute",
            RawEntry::new("/tmp/debcast-absolute-escape", RawKind::File(b"x".to_vec())),
            "debcast-absolute-escape",
        ),
        (
            "linkout",
            RawEntry::new("./usr/evil", RawKind::Symlink(b"../../../../etc".to_vec())),
            "usr/evil",
        ),
        (
            "device",
            RawEntry::new("./dev/sda", RawKind::BlockDevice { major: 8, minor: 0 }),
            "dev/sda",
        ),
    ];
    for (name, entry, needle) in cases {
        let mut p = Project::new(&["linux/amd64"]);
        p.add(None, DebBuilder::new(name, "1", "amd64").raw_entry(entry));
        p.write();
        let server = p.serve();
        let run = build(&p, Some(&server.url())).fails();
        run.stderr_has(&[&format!("{name}=1"), needle]);
        assert_no_output(&p);
        assert!(!p.path().parent().unwrap().join("escaped").exists());
        assert!(!Path::new("/tmp/debcast-absolute-escape").exists());
    }
}

#[test]
fn paths_too_deep_for_a_filesystem_are_refused_and_deep_legal_ones_built() {
    // One file 20,000 directories deep, in a package of a few hundred bytes.
    let deep = format!("./{}f", "a/".repeat(20_000));
    let mut p = Project::new(&["linux/amd64"]);
    p.add(
        None,
        DebBuilder::new("deep", "1", "amd64").raw_entry(RawEntry::new(deep, RawKind::File(b"x".to_vec()))),
    );
    p.write();
    let server = p.serve();
    let run = build(&p, Some(&server.url())).fails();
    run.stderr_has(&[
        "deep=1",
        "data.tar",
        "./a/a/a",
        "40001 bytes long",
        "at most 4096",
    ]);
    assert!(
        run.stderr.len() < 2000,
        "the whole path was printed: {} bytes",
        run.stderr.len()
    );
    assert_no_output(&p);

    // 2000 levels of one-byte names fit, and build.
    let legal = format!("./{}f", "a/".repeat(2000));
    let mut p = Project::new(&["linux/amd64"]);
    p.add(
        None,
        DebBuilder::new("deep", "1", "amd64").raw_entry(RawEntry::new(legal, RawKind::File(b"x".to_vec()))),
    );
    p.write();
    let server = p.serve();
    build(&p, Some(&server.url())).ok();
}

#[test]
fn conflicting_files_name_both_packages() {
    let mut p = Project::new(&["linux/amd64"]);
    p.add(
        None,
        DebBuilder::new("one", "1", "amd64").file("./etc/shared.conf", "one", 0o644),
    );
    p.add(
        None,
        DebBuilder::new("two", "1", "amd64").file("./etc/shared.conf", "two", 0o644),
    );
    p.write();
    let server = p.serve();
    build(&p, Some(&server.url()))
        .fails()
        .stderr_has(&["/etc/shared.conf", "one=1", "two=1"]);
    assert_no_output(&p);

    // With Replaces, the replacing package wins, as with dpkg.
    let mut p = Project::new(&["linux/amd64"]);
    p.add(
        None,
        DebBuilder::new("one", "1", "amd64").file("./etc/shared.conf", "one", 0o644),
    );
    p.add(
        None,
        DebBuilder::new("two", "1", "amd64")
            .control_field("Replaces", "one (<< 2)")
            .file("./etc/shared.conf", "two", 0o644),
    );
    p.write();
    let server = p.serve();
    build(&p, Some(&server.url())).ok();
}

#[test]
fn offline_with_an_empty_store_lists_every_missing_package() {
    let mut p = Project::new(&["linux/amd64", "linux/arm64"]);
    p.add(None, good());
    p.add(Some("linux/arm64"), DebBuilder::new("armonly", "3", "arm64"));
    p.write();
    let run = Debcast::new(p.path())
        .args([
            "build",
            "image.toml",
            "--output",
            "out",
            "--cache-dir",
            "store",
            "--offline",
        ])
        .fails();
    run.stderr_has(&["good=1.0", "armonly=3", "debcast fetch image.toml"]);
    assert_no_output(&p);
    assert_eq!(store_debs(p.path()), 0);
}

/// A postinst nesting `( … )` 5000 deep used to overflow the stack (the process died of SIGABRT
/// and left its temporary output behind). It is now a script that could not be read: the build
/// finishes and says so, per package and script.
#[test]
fn a_hostile_deeply_nested_postinst_is_reported_not_a_crash() {
    let postinst = format!(
        "#!/bin/sh\nset -e\n{}true{}\n",
        "(".repeat(5000),
        ")".repeat(5000)
    );
    let mut p = Project::new(&["linux/amd64"]);
    p.add(None, good());
    p.add(
        None,
        DebBuilder::new("hostile", "1", "amd64")
            .file("./usr/share/hostile/file", "x", 0o644)
            .maintainer_script("postinst", &postinst),
    );
    p.write();
    let server = p.serve();
    let run = build(&p, Some(&server.url()))
        .arg("--report")
        .arg("report.json")
        .ok();
    assert_eq!(run.code, Some(0), "{run}");
    assert!(
        !run.stderr.contains("every maintainer-script effect was emulated"),
        "{run}"
    );
    run.stderr_has(&["not emulated", "hostile"]);
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(p.path().join("report.json")).unwrap()).unwrap();
    let entries = report["platforms"]["linux/amd64"].as_array().unwrap();
    assert!(
        entries.iter().any(|e| e["package"] == "hostile"
            && e["script"] == "postinst"
            && e["what"]
                .as_str()
                .is_some_and(|w| w.contains("could not be read") && w.contains("nesting deeper than"))),
        "{report:#}"
    );
    assert!(p.path().join("out/index.json").exists());
    let leftovers = temporaries(&p);
    assert!(
        leftovers.is_empty(),
        "temporary output left behind: {leftovers:?}"
    );
}

/// `mkdir -p /../x` in a postinst is refused: the build fails naming the package, the script and
/// the path, and leaves nothing behind.
#[test]
fn a_postinst_path_with_dotdot_is_refused() {
    let mut p = Project::new(&["linux/amd64"]);
    p.add(None, good());
    p.add(
        None,
        DebBuilder::new("climber", "1", "amd64")
            .file("./usr/share/climber/file", "x", 0o644)
            .maintainer_script(
                "postinst",
                "#!/bin/sh\nset -e\nmkdir -p /../escaped-by-postinst\n",
            ),
    );
    p.write();
    let server = p.serve();
    let run = build(&p, Some(&server.url())).fails();
    assert!(run.code.is_some_and(|c| c != 0), "{run}");
    run.stderr_has(&["climber", "postinst", "/../escaped-by-postinst"]);
    assert_no_output(&p);
    assert!(!p.path().parent().unwrap().join("escaped-by-postinst").exists());
}
