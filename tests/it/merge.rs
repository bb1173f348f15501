//! `debcast merge`: per-platform layouts built on separate stores, merged, equal the one-machine
//! build byte for byte; shards of different locks, settings or versions are refused, naming the
//! difference.

use crate::common;

use std::path::Path;

use common::Debcast;
use common::image::Project;
use debcast_testkit::deb::DebBuilder;

fn project() -> Project {
    let mut p = Project::new(&["linux/amd64", "linux/arm64", "linux/arm/v7"]);
    for arch in ["amd64", "arm64", "armhf"] {
        let platform = match arch {
            "amd64" => "linux/amd64",
            "arm64" => "linux/arm64",
            _ => "linux/arm/v7",
        };
        p.add(
            Some(platform),
            DebBuilder::new("tool", "1.0-1", arch).file("./usr/bin/tool", format!("tool {arch}\n"), 0o755),
        );
    }
    p.add(
        None,
        DebBuilder::new("data", "1", "all").file("./usr/share/data/a", "shared\n", 0o644),
    );
    p
}

/// Every file of a layout (relative path -> bytes).
fn files(dir: &Path) -> std::collections::BTreeMap<String, Vec<u8>> {
    let mut out = std::collections::BTreeMap::new();
    let mut todo = vec![dir.to_owned()];
    while let Some(d) = todo.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let e = e.unwrap();
            if e.file_type().unwrap().is_dir() {
                todo.push(e.path());
            } else {
                let rel = e.path().strip_prefix(dir).unwrap().to_string_lossy().into_owned();
                out.insert(rel, std::fs::read(e.path()).unwrap());
            }
        }
    }
    out
}

fn build(p: &Project, url: &str, store: &str, out: &str, extra: &[&str]) {
    Debcast::new(p.path())
        .args(["build", "image.toml", "--output", out, "--cache-dir", store])
        .arg("--mirror")
        .arg(format!("synthetic={url}"))
        .args(extra)
        .ok();
}

#[test]
fn shards_from_separate_stores_merge_into_the_one_machine_build() {
    let mut p = project();
    p.write();
    let server = p.serve();
    let url = server.url();
    build(&p, &url, "store-all", "whole", &[]);
    for (i, platform) in ["linux/amd64", "linux/arm64", "linux/arm/v7"].iter().enumerate() {
        build(
            &p,
            &url,
            &format!("store-{i}"),
            &format!("shard-{i}"),
            &["--platform", platform],
        );
        assert!(p.path().join(format!("shard-{i}/debcast-shard.json")).is_file());
    }
    // Given in any order: the index follows the manifest's platform order.
    Debcast::new(p.path())
        .args(["merge", "shard-2", "shard-0", "shard-1", "--output", "merged"])
        .ok();
    let whole = files(&p.path().join("whole"));
    let merged = files(&p.path().join("merged"));
    assert_eq!(
        whole.keys().collect::<Vec<_>>(),
        merged.keys().collect::<Vec<_>>(),
        "the same files"
    );
    for (name, bytes) in &whole {
        assert!(merged[name] == *bytes, "{name} differs");
    }

    // Two shards merged first, then with the third: the same again.
    Debcast::new(p.path())
        .args(["merge", "shard-0", "shard-1", "--output", "partial"])
        .ok();
    assert!(p.path().join("partial/debcast-shard.json").is_file());
    Debcast::new(p.path())
        .args(["merge", "partial", "shard-2", "--output", "merged2"])
        .ok();
    assert_eq!(files(&p.path().join("merged2")), whole);

    // Merged again over its own image: nothing to warn about. Over a layout holding another
    // image, the warning names it, as `build` does.
    let again = Debcast::new(p.path())
        .args(["merge", "shard-2", "shard-0", "shard-1", "--output", "merged"])
        .ok();
    assert!(!again.stderr.contains("also holds"), "{again}");
    let other = p.path().join("other");
    std::fs::create_dir(&other).unwrap();
    for (name, bytes) in &whole {
        let path = other.join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        let bytes = if name == "index.json" {
            String::from_utf8(bytes.clone())
                .unwrap()
                .replace("synthetic:test", "other:v1")
                .into_bytes()
        } else {
            bytes.clone()
        };
        std::fs::write(path, bytes).unwrap();
    }
    Debcast::new(p.path())
        .args(["merge", "shard-2", "shard-0", "shard-1", "--output", "other"])
        .ok()
        .stderr_has(&["also holds `other:v1`", "replaces the whole layout"]);
    assert_eq!(files(&other), whole);

    // The same platform twice is refused.
    Debcast::new(p.path())
        .args(["merge", "shard-0", "partial", "--output", "bad"])
        .fails()
        .stderr_has(&["platform linux/amd64 is in both"]);
    // A full build is no shard.
    Debcast::new(p.path())
        .args(["merge", "whole", "shard-0", "--output", "bad"])
        .fails()
        .stderr_has(&["not a shard layout"]);
    assert!(!p.path().join("bad").exists());
}

#[test]
fn shards_of_other_settings_locks_or_versions_are_refused_by_name() {
    let mut p = project();
    p.write();
    let server = p.serve();
    let url = server.url();
    build(&p, &url, "store", "a", &["--platform", "linux/amd64"]);
    build(
        &p,
        &url,
        "store",
        "b",
        &["--platform", "linux/arm64", "--compression", "zstd"],
    );
    Debcast::new(p.path())
        .args(["merge", "a", "b", "--output", "m"])
        .fails()
        .stderr_has(&["different setting", "compression", "Zstd"]);
    build(
        &p,
        &url,
        "store",
        "c",
        &["--platform", "linux/arm64", "--source-date-epoch", "7"],
    );
    Debcast::new(p.path())
        .args(["merge", "a", "c", "--output", "m"])
        .fails()
        .stderr_has(&["source-date-epoch = 7"]);

    // Another lock (one more package).
    build(&p, &url, "store", "d", &["--platform", "linux/arm64"]);
    let lock = p.path().join("image.lock");
    let mut text = std::fs::read_to_string(&lock).unwrap();
    text.push('\n');
    std::fs::write(&lock, text).unwrap();
    build(&p, &url, "store", "e", &["--platform", "linux/arm64"]);
    Debcast::new(p.path())
        .args(["merge", "a", "e", "--output", "m"])
        .fails()
        .stderr_has(&["different lockfile (SHA-256)"]);
    // Another debcast version (edited into the shard's description).
    let info = p.path().join("d/debcast-shard.json");
    let text = std::fs::read_to_string(&info).unwrap();
    let version = env!("CARGO_PKG_VERSION");
    std::fs::write(&info, text.replace(&format!("\"{version}\""), "\"0.0.0-other\"")).unwrap();
    Debcast::new(p.path())
        .args(["merge", "a", "d", "--output", "m"])
        .fails()
        .stderr_has(&["different debcast version", "0.0.0-other"]);
    assert!(!p.path().join("m").exists());
}

/// The repository's manifests, against the real archive: each platform built alone (its layers
/// compressed anew, `--no-layer-cache`) and merged equals the one-machine build byte for byte.
fn merge_matches_one_machine(name: &str) {
    let root = common::repo_root();
    let manifest_path = root.join(format!("manifests/{name}.toml"));
    let loaded = debcast::manifest::LoadedManifest::load(&manifest_path).unwrap();
    let work = common::WorkDir::fresh("e2e-merge", name);
    let store = work.join("store");
    Debcast::real_archive(&root)
        .arg("build")
        .arg(&manifest_path)
        .arg("--output")
        .arg(work.join("whole"))
        .arg("--cache-dir")
        .arg(&store)
        .ok();
    let mut shards = Vec::new();
    for platform in &loaded.manifest.image.platforms {
        let shard = work.join(format!("shard-{}", platform.to_string().replace('/', "-")));
        Debcast::real_archive(&root)
            .arg("build")
            .arg(&manifest_path)
            .args([
                "--platform",
                &platform.to_string(),
                "--no-layer-cache",
                "--output",
            ])
            .arg(&shard)
            .arg("--cache-dir")
            .arg(&store)
            .ok();
        shards.push(shard);
    }
    shards.reverse();
    Debcast::new(&root)
        .arg("merge")
        .args(&shards)
        .arg("--output")
        .arg(work.join("merged"))
        .ok();
    assert!(
        files(&work.join("whole")) == files(&work.join("merged")),
        "{name}: the merged layout differs from the one-machine build"
    );
}

#[test]
#[ignore = "needs the real Debian archive; run with `just e2e`"]
fn static_shards_merge_into_the_one_machine_build() {
    merge_matches_one_machine("static");
}

#[test]
#[ignore = "needs the real Debian archive; run with `just e2e`"]
fn base_shards_merge_into_the_one_machine_build() {
    merge_matches_one_machine("base");
}

#[test]
#[ignore = "needs the real Debian archive and the Go/protoc hosts (unreachable from CI here): `cargo test --release --test it -- --ignored merge::kube_cross`"]
fn kube_cross_shards_merge_into_the_one_machine_build() {
    merge_matches_one_machine("kube-cross");
}
