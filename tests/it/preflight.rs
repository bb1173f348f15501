//! `debcast build` checks the manifest, the lock and `--output` before it downloads anything, and
//! names every problem in one run; outputs of either format replace only what debcast wrote.

use crate::common;

use common::Debcast;
use common::image::Project;
use debcast_testkit::deb::DebBuilder;

fn good() -> DebBuilder {
    DebBuilder::new("good", "1.0", "amd64").file("./usr/share/good/file", "good\n", 0o644)
}

fn other() -> DebBuilder {
    DebBuilder::new("other", "2.0", "amd64").file("./usr/share/other/file", "other\n", 0o644)
}

fn build(p: &Project, url: &str, output: &str) -> Debcast {
    Debcast::new(p.path())
        .args(["build", "image.toml", "--cache-dir", "store", "--output", output])
        .arg("--mirror")
        .arg(format!("synthetic={url}"))
}

fn store_debs(p: &Project) -> usize {
    std::fs::read_dir(p.path().join("store/debs/sha256")).map_or(0, |d| d.count())
}

#[test]
fn every_problem_is_named_before_anything_is_downloaded() {
    let mut p = Project::new(&["linux/amd64"]);
    p.add(None, good());
    p.add(None, other());
    // Accounts need base-passwd, a time zone tzdata: the lock has neither.
    p.manifest_extra = r#"
[system]
timezone = "Europe/Berlin"

[[system.group]]
name = "app"
gid = 1000

[[system.user]]
name = "app"
uid = 1000
gid = 1000
"#
    .into();
    p.write();
    // A lock edited by hand that no longer pins a package the manifest asks for (its hash of the
    // manifest still matches).
    let lock_path = p.path().join("image.lock");
    let text = std::fs::read_to_string(&lock_path).unwrap();
    let blocks: Vec<&str> = text.split("[[package]]").collect();
    let kept: Vec<&str> = blocks
        .iter()
        .copied()
        .filter(|b| !b.contains("name = \"other\""))
        .collect();
    assert_eq!(kept.len() + 1, blocks.len(), "{text}");
    std::fs::write(&lock_path, kept.join("[[package]]")).unwrap();
    // And an output that is someone's file.
    std::fs::write(p.path().join("out"), b"my notes\n").unwrap();

    let server = p.serve();
    let run = build(&p, &server.url(), "out").fails();
    run.stderr_has(&[
        "problem(s) found before downloading anything",
        "[system] timezone needs the package tzdata",
        "[[system.user]] / [[system.group]] needs the package base-passwd",
        "does not pin `other`",
        "--output out: it exists and is not a directory",
    ]);
    assert_eq!(store_debs(&p), 0, "packages were downloaded:\n{run}");
    assert_eq!(server.counters().requests, 0, "the network was used:\n{run}");
    assert_eq!(std::fs::read(p.path().join("out")).unwrap(), b"my notes\n");
}

#[test]
fn outputs_under_pseudo_filesystems_or_in_foreign_directories_are_refused_up_front() {
    let mut p = Project::new(&["linux/amd64"]);
    p.add(None, good());
    p.write();
    let server = p.serve();
    build(&p, &server.url(), "/proc/img")
        .fails()
        .stderr_has(&["--output /proc/img", "/proc is on proc, a pseudo filesystem"]);
    std::fs::create_dir(p.path().join("photos")).unwrap();
    std::fs::write(p.path().join("photos/cat.jpg"), b"jpg").unwrap();
    build(&p, &server.url(), "photos")
        .fails()
        .stderr_has(&["--output photos", "neither empty nor an OCI image layout"]);
    assert_eq!(std::fs::read(p.path().join("photos/cat.jpg")).unwrap(), b"jpg");
    assert_eq!(server.counters().requests, 0);
}

#[test]
fn docker_archive_replaces_only_what_debcast_could_have_written() {
    let mut p = Project::new(&["linux/amd64"]);
    p.add(None, good());
    p.write();
    let server = p.serve();
    let docker = |out: &str| build(&p, &server.url(), out).args(["--format", "docker-archive"]);
    // Someone's file is kept, as an OCI build keeps a directory that is not a layout.
    std::fs::write(p.path().join("notes.tar"), b"my notes\n").unwrap();
    docker("notes.tar")
        .fails()
        .stderr_has(&["--output notes.tar", "neither empty nor a docker archive"]);
    assert_eq!(std::fs::read(p.path().join("notes.tar")).unwrap(), b"my notes\n");
    build(&p, &server.url(), "notes.tar")
        .fails()
        .stderr_has(&["--output notes.tar", "not a directory"]);
    // An earlier docker archive and an empty file are replaced.
    docker("image.tar").ok();
    let first = std::fs::read(p.path().join("image.tar")).unwrap();
    docker("image.tar").ok();
    assert_eq!(std::fs::read(p.path().join("image.tar")).unwrap(), first);
    std::fs::write(p.path().join("empty.tar"), b"").unwrap();
    docker("empty.tar").ok();
    assert_eq!(std::fs::read(p.path().join("empty.tar")).unwrap(), first);
}

#[test]
fn a_layout_holding_other_images_is_replaced_with_a_warning_naming_them() {
    let mut p = Project::new(&["linux/amd64"]);
    p.add(None, good());
    p.write();
    let server = p.serve();
    build(&p, &server.url(), "out").ok();
    let index_path = p.path().join("out/index.json");
    let mut index: serde_json::Value = serde_json::from_slice(&std::fs::read(&index_path).unwrap()).unwrap();
    let mut foreign = index["manifests"][0].clone();
    foreign["annotations"]["org.opencontainers.image.ref.name"] = "someone-else:1".into();
    index["manifests"].as_array_mut().unwrap().push(foreign);
    std::fs::write(&index_path, serde_json::to_vec(&index).unwrap()).unwrap();

    let run = build(&p, &server.url(), "out").ok();
    run.stderr_has(&[
        "--output out is an OCI layout that also holds `someone-else:1`",
        "replaces the whole layout",
    ]);
    let after = std::fs::read_to_string(&index_path).unwrap();
    assert!(!after.contains("someone-else"), "{after}");
    // A rebuild of the same image says nothing of the kind.
    let run = build(&p, &server.url(), "out").ok();
    assert!(!run.stderr.contains("also holds"), "{run}");
}
