//! Budget layering end to end on synthetic packages: the layered image unpacks (umoci) to exactly
//! the flat image's root; layers are shared between overlapping images; a one-package change
//! touches few layers; the layer cache is used, verified, and never changes bytes; output does
//! not depend on the thread count.

use crate::common;

use std::collections::{BTreeMap, BTreeSet};
use std::os::unix::fs::MetadataExt;
use std::path::Path;

use common::image::Project;
use common::{Debcast, Run};
use debcast_testkit::deb::DebBuilder;

const REF: &str = "synthetic:test-linux-amd64";

/// Replaced files, shared directories with different metadata, hard links, merged /usr, and
/// files the configure step writes over or removes (accounts, base-files' /var/run link).
fn project(extra: &[DebBuilder]) -> Project {
    let mut p = Project::new(&["linux/amd64"]);
    p.manifest_extra = r#"
[[system.group]]
name = "app"
gid = 1000

[[system.user]]
name = "app"
uid = 1000
gid = 1000
"#
    .into();
    p.add(
        None,
        DebBuilder::new("base-files", "1", "amd64")
            .dir("./var/run", 0o755)
            .dir("./var/lock", 0o755)
            .file("./etc/dpkg/origins/debian", "Vendor: Debian\n", 0o644)
            .dir("./usr/share/doc", 0o755)
            .entry_mtime("./usr/share/doc", 1_000_000),
    );
    p.add(
        None,
        DebBuilder::new("base-passwd", "1", "amd64")
            .file("./etc/passwd", "root:x:0:0:root:/root:/bin/sh\n", 0o644)
            .file("./etc/group", "root:x:0:\n", 0o644),
    );
    p.add(
        None,
        DebBuilder::new("old", "1", "amd64")
            .file("./etc/shared.conf", "one\n", 0o644)
            .hardlink("./etc/shared-link.conf", "./etc/shared.conf")
            .dir("./usr/share/doc", 0o700)
            .entry_mtime("./usr/share/doc", 2_000_000)
            .file("./usr/share/doc/old/copyright", "old", 0o644),
    );
    p.add(
        None,
        DebBuilder::new("tool", "1.0-1", "amd64")
            .control_field("Replaces", "old")
            .file("./etc/shared.conf", "two\n", 0o600)
            .file("./bin/tool", "#!/bin/sh\necho tool\n", 0o755)
            .hardlink("./usr/bin/tool-again", "./bin/tool")
            .symlink("./usr/bin/t", "tool"),
    );
    for deb in extra {
        p.add(None, deb.clone());
    }
    p
}

fn build(p: &Project, manifest: &Path, out: &str, args: &[&str]) -> Run {
    let server = p.serve();
    Debcast::new(p.path())
        .arg("build")
        .arg(manifest)
        .args(["--output", out, "--cache-dir", "store", "--mirror"])
        .arg(format!("synthetic={}", server.url()))
        .args(args)
        .ok()
}

/// The layers (digests) of the amd64 image of an OCI layout.
fn layers(layout: &Path) -> Vec<String> {
    let read = |digest: &str| -> serde_json::Value {
        let hex = digest.trim_start_matches("sha256:");
        serde_json::from_slice(&std::fs::read(layout.join("blobs/sha256").join(hex)).unwrap()).unwrap()
    };
    let index: serde_json::Value =
        serde_json::from_slice(&std::fs::read(layout.join("index.json")).unwrap()).unwrap();
    let manifest = index["manifests"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["annotations"]["org.opencontainers.image.ref.name"] == REF)
        .unwrap();
    read(manifest["digest"].as_str().unwrap())["layers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["digest"].as_str().unwrap().to_owned())
        .collect()
}

/// Everything about an unpacked root that an image fixes: type, mode, owner, size, mtime, link
/// target and content of every path.
fn snapshot(root: &Path) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let mut stack = vec![root.to_owned()];
    while let Some(dir) = stack.pop() {
        for e in std::fs::read_dir(&dir).unwrap() {
            let path = e.unwrap().path();
            let m = path.symlink_metadata().unwrap();
            let rel = path.strip_prefix(root).unwrap().to_string_lossy().into_owned();
            let what = if m.file_type().is_symlink() {
                format!("link {}", std::fs::read_link(&path).unwrap().display())
            } else if m.is_dir() {
                stack.push(path.clone());
                "dir".to_owned()
            } else if m.is_file() {
                let bytes = std::fs::read(&path).unwrap();
                format!("file {}", String::from_utf8_lossy(&bytes))
            } else {
                "other".to_owned()
            };
            let owner = if common::is_root() {
                format!("{}:{}", m.uid(), m.gid())
            } else {
                String::new()
            };
            out.insert(
                rel,
                format!("{what} mode {:o} {owner} mtime {}", m.mode() & 0o7777, m.mtime()),
            );
        }
    }
    out
}

fn unpacked(p: &Project, layout: &str) -> BTreeMap<String, String> {
    let bundle = p.path().join(format!("bundle-{}", layout.replace('/', "-")));
    common::umoci_unpack(&p.path().join(layout), REF, &bundle);
    snapshot(&bundle.join("rootfs"))
}

#[test]
fn budget_layers_unpack_to_the_flat_root() {
    let mut p = project(&[]);
    let manifest = p.write();
    build(&p, &manifest, "out/flat", &["--layering", "flat"]);
    build(&p, &manifest, "out/budget", &[]);
    build(&p, &manifest, "out/two", &["--layers", "2"]);
    assert_eq!(layers(&p.path().join("out/flat")).len(), 1);
    // One layer per package plus the generated layer; with a budget of 2, one plus one.
    assert_eq!(layers(&p.path().join("out/budget")).len(), 5);
    assert_eq!(layers(&p.path().join("out/two")).len(), 2);
    // A budget too small, given on the command line, is named as the command line's.
    Debcast::new(p.path())
        .arg("build")
        .arg(&manifest)
        .args(["--output", "out/one", "--cache-dir", "store", "--layers", "1"])
        .fails()
        .stderr_has(&["--layering/--layers", "a budget of 1 layer(s) is too small"])
        .stderr_lacks(&["[image] layering"]);

    let flat = unpacked(&p, "out/flat");
    // The cases the generated layer must correct are really there.
    assert!(flat["var/run"].starts_with("link /run"), "{}", flat["var/run"]);
    assert!(
        // Added for the manifest's user (locked `!`: no `passwd` package, so no shadow file).
        flat["etc/passwd"].contains("app:!:1000:1000:"),
        "{}",
        flat["etc/passwd"]
    );
    assert!(flat["etc/shared.conf"].starts_with("file two"));
    assert!(flat["etc/shared-link.conf"].starts_with("file two"));
    assert!(
        flat["usr/share/doc"].contains("mode 755"),
        "{}",
        flat["usr/share/doc"]
    );
    assert!(flat["usr/bin/tool-again"].starts_with("file #!/bin/sh"));
    assert!(flat["bin"].starts_with("link usr/bin"), "{}", flat["bin"]);
    assert!(flat.contains_key("var/lib/dpkg/status"));
    for layout in ["out/budget", "out/two"] {
        let layered = unpacked(&p, layout);
        pretty_assertions::assert_eq!(flat, layered, "{layout}");
    }
    debcast_testkit::oci::check_layout(&p.path().join("out/budget")).unwrap_or_else(|e| panic!("{e}"));
}

#[test]
fn overlapping_images_share_layers_and_one_package_touches_few() {
    let extra = DebBuilder::new("extra", "1", "amd64").file("./usr/share/extra/a", "a", 0o644);
    let mut a = project(&[]);
    let mut b = project(std::slice::from_ref(&extra));
    let mut c = project(&[DebBuilder::new("extra", "2", "amd64").file("./usr/share/extra/a", "b", 0o644)]);
    let (ma, mb, mc) = (a.write(), b.write(), c.write());
    build(&a, &ma, "out", &[]);
    build(&b, &mb, "out", &[]);
    build(&c, &mc, "out", &[]);
    let la: BTreeSet<String> = layers(&a.path().join("out")).into_iter().collect();
    let lb: BTreeSet<String> = layers(&b.path().join("out")).into_iter().collect();
    let lc: BTreeSet<String> = layers(&c.path().join("out")).into_iter().collect();
    // a's four package layers are all in b; only the generated layers differ.
    assert_eq!(la.intersection(&lb).count(), 4, "{la:?} {lb:?}");
    // One package at another version: its layer and the generated layer change, nothing else.
    assert_eq!(lb.difference(&lc).count(), 2, "{lb:?} {lc:?}");
}

#[test]
fn rebuilds_reuse_verified_cached_layers() {
    let mut p = project(&[]);
    let manifest = p.write();
    let first = build(&p, &manifest, "out/one", &[]);
    first.stderr_has(&["(5 compressed, 0 from the layer cache)"]);
    let second = build(&p, &manifest, "out/two", &[]);
    second.stderr_has(&["(0 compressed, 5 from the layer cache)"]);
    assert_eq!(
        layers(&p.path().join("out/one")),
        layers(&p.path().join("out/two"))
    );

    // Damage one cached blob: it is detected, rebuilt, and the image is the same.
    let blobs = p.path().join("store/layers/blobs/sha256");
    let victim = layers(&p.path().join("out/one"))[1]
        .trim_start_matches("sha256:")
        .to_owned();
    // The output holds a hard link to the cache's blob; break the link before damaging it.
    let path = blobs.join(&victim);
    let mut bytes = std::fs::read(&path).unwrap();
    bytes[20] ^= 0xff;
    std::fs::remove_file(&path).unwrap();
    std::fs::write(&path, &bytes).unwrap();
    let third = build(&p, &manifest, "out/three", &[]);
    third.stderr_has(&["layer cache", "(1 compressed, 4 from the layer cache)"]);
    assert_eq!(
        layers(&p.path().join("out/one")),
        layers(&p.path().join("out/three"))
    );
    debcast_testkit::oci::check_layout(&p.path().join("out/three")).unwrap_or_else(|e| panic!("{e}"));
}

#[test]
fn output_does_not_depend_on_the_thread_count() {
    let mut p = project(&[]);
    let manifest = p.write();
    let server = p.serve();
    let run = |threads: &str, out: &str, extra: &[&str]| {
        Debcast::new(p.path())
            .env("RAYON_NUM_THREADS", threads)
            .arg("build")
            .arg(&manifest)
            .args([
                "--output",
                out,
                "--cache-dir",
                "store",
                "--no-layer-cache",
                "--mirror",
            ])
            .arg(format!("synthetic={}", server.url()))
            .args(extra)
            .ok();
    };
    for extra in [&[][..], &["--compression", "zstd"], &["--layers", "3"]] {
        run("1", "out/one", extra);
        run("4", "out/four", extra);
        let files = |dir: &str| -> BTreeMap<String, Vec<u8>> {
            let blobs = p.path().join(dir).join("blobs/sha256");
            let mut m: BTreeMap<String, Vec<u8>> = std::fs::read_dir(&blobs)
                .unwrap()
                .map(|e| {
                    let e = e.unwrap();
                    (
                        e.file_name().to_string_lossy().into_owned(),
                        std::fs::read(e.path()).unwrap(),
                    )
                })
                .collect();
            m.insert(
                "index.json".into(),
                std::fs::read(p.path().join(dir).join("index.json")).unwrap(),
            );
            m
        };
        assert!(files("out/one") == files("out/four"), "{extra:?}");
    }
}

#[test]
fn a_rebuild_decodes_only_the_packages_of_the_layers_it_writes() {
    // Two locks that differ in one package, built one after the other into one store: the second
    // build decodes that package (and any package a file of the generated layer comes from), and
    // merges and configures the others from their unpack records. Its image is byte for byte the
    // image a build from an empty store makes.
    let shared = common::tempdir();
    let store = shared.path().join("store");
    let build_into = |p: &Project, manifest: &Path, out: &str, store: &Path| {
        let server = p.serve();
        Debcast::new(p.path())
            .args(["-v", "build"])
            .arg(manifest)
            .args(["--output", out, "--cache-dir"])
            .arg(store)
            .arg("--mirror")
            .arg(format!("synthetic={}", server.url()))
            .ok()
    };
    let v1 = DebBuilder::new("extra", "1", "amd64").file("./usr/share/extra/a", "a", 0o644);
    let v2 = DebBuilder::new("extra", "2", "amd64").file("./usr/share/extra/a", "b", 0o644);
    let mut b = project(&[v1]);
    let mut c = project(&[v2]);
    let (mb, mc) = (b.write(), c.write());
    build_into(&b, &mb, "out", &store).stderr_has(&["5 packages (5 decoded)", "(6 compressed, 0 from"]);
    let warm = build_into(&c, &mc, "out-warm", &store);
    warm.stderr_has(&["(2 compressed, 4 from the layer cache)"]);
    let decoded: usize = warm
        .stderr
        .split("packages (")
        .nth(1)
        .and_then(|s| s.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no decoded count in:\n{}", warm.stderr));
    assert!(
        (1..=2).contains(&decoded),
        "decoded {decoded} packages, expected extra (and at most the package the generated layer reads):\n{}",
        warm.stderr
    );
    build_into(&c, &mc, "out-cold", &shared.path().join("empty-store"))
        .stderr_has(&["5 packages (5 decoded)"]);
    let (warm, cold) = (c.path().join("out-warm"), c.path().join("out-cold"));
    assert_eq!(layers(&warm), layers(&cold));
    assert_eq!(
        std::fs::read(warm.join("index.json")).unwrap(),
        std::fs::read(cold.join("index.json")).unwrap()
    );

    // Without records (deleted), the packages of cached layers are decoded to make them again,
    // and the image is still the one an empty store gives.
    std::fs::remove_dir_all(store.join("unpacked")).unwrap();
    let v3 = DebBuilder::new("extra", "3", "amd64").file("./usr/share/extra/a", "c", 0o644);
    let mut d = project(&[v3]);
    let md = d.write();
    build_into(&d, &md, "out-warm", &store)
        .stderr_has(&["5 packages (5 decoded)", "(2 compressed, 4 from the layer cache)"]);
    assert!(store.join("unpacked").is_dir(), "the records were made again");
    build_into(&d, &md, "out-cold", &shared.path().join("empty-store-2"));
    assert_eq!(
        std::fs::read(d.path().join("out-warm/index.json")).unwrap(),
        std::fs::read(d.path().join("out-cold/index.json")).unwrap()
    );
}
