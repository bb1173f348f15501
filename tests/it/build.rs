//! `debcast build` end to end on synthetic packages: every compression and entry kind, two
//! platforms, served on 127.0.0.1, judged by the OCI schemas, skopeo and umoci.

use crate::common;

use std::os::unix::fs::{FileTypeExt, MetadataExt, PermissionsExt};
use std::path::Path;

use common::image::{Project, RELEASE_EPOCH};
use common::{Debcast, tool};
use debcast_testkit::deb::{Compression, DebBuilder};

const REF: &str = "synthetic:test";

fn long_name() -> String {
    format!("usr/share/doc/tool/{}", "a-very-long-file-name-".repeat(8))
}

/// The synthetic package set: per-architecture `tool`, one `all` package per compression, and an
/// amd64-only package under /lib64.
fn project() -> Project {
    let mut p = Project::new(&["linux/amd64", "linux/arm64"]);
    for arch in ["amd64", "arm64"] {
        let tool = DebBuilder::new("tool", "1.0-1", arch)
            .file("./bin/tool", format!("#!/bin/sh\necho tool {arch}\n"), 0o755)
            .hardlink("./usr/bin/atool", "./bin/tool")
            .symlink("./usr/bin/t", "tool")
            .symlink("./usr/bin/abs", "/usr/bin/tool")
            .file("./usr/bin/su-helper", "setuid", 0o4755)
            .file("./etc/tool.conf", "conf=1\n", 0o644)
            .file("./srv/data", "owned", 0o640)
            .owner("./srv/data", 1000, 1000, "app", "app")
            .fifo("./var/fifo")
            .file(&format!("./{}", long_name()), "long", 0o644)
            .data_compression(Compression::Gzip);
        p.add(Some(&format!("linux/{arch}")), tool);
    }
    for (name, c) in [
        ("xzpkg", Compression::Xz),
        ("zstdpkg", Compression::Zstd),
        ("bz2pkg", Compression::Bzip2),
        ("plainpkg", Compression::None),
    ] {
        let deb = DebBuilder::new(name, "2:0.1~rc1-3", "all")
            .file(
                &format!("./usr/share/{name}/hello"),
                format!("hello from {name}\n"),
                0o644,
            )
            .data_compression(c)
            .control_compression(if c == Compression::Bzip2 {
                Compression::Xz
            } else {
                c
            });
        p.add(None, deb);
    }
    p.add(
        Some("linux/amd64"),
        DebBuilder::new("loader", "1", "amd64").file("./lib64/ld-test.so.2", "ELF?", 0o755),
    );
    p
}

#[test]
fn builds_a_valid_two_platform_image_that_real_clients_accept() {
    let mut p = project();
    let manifest = p.write();
    let server = p.serve();
    let out = p.path().join("out/image");
    Debcast::new(p.path())
        .arg("build")
        .arg(&manifest)
        .args(["--output", "out/image", "--cache-dir", "store"])
        .arg("--mirror")
        .arg(format!("synthetic={}", server.url()))
        .ok();
    drop(server);

    // The OCI schemas, every blob's digest and size, every layer's diff_id.
    debcast_testkit::oci::check_layout(&out).unwrap_or_else(|e| panic!("{e}"));

    // skopeo sees both platforms and the config from the manifest.
    for arch in ["amd64", "arm64"] {
        let config = tool(
            "skopeo",
            &[
                &"inspect",
                &"--override-os",
                &"linux",
                &"--override-arch",
                &arch,
                &"--config",
                &format!("oci:{}:{REF}", out.display()),
            ],
        );
        let config: serde_json::Value = serde_json::from_str(&config).unwrap();
        assert_eq!(config["architecture"], arch, "{config}");
        assert_eq!(
            config["config"]["Cmd"],
            serde_json::json!(["/usr/bin/tool", "--version"])
        );
        assert_eq!(config["config"]["WorkingDir"], "/srv");
        assert_eq!(config["config"]["User"], "1000:1000");
        assert_eq!(config["config"]["Labels"]["org.example.purpose"], "test");
        let env: Vec<&str> = config["config"]["Env"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|v| v.as_str())
            .collect();
        assert!(
            env.contains(&"LANG=C.UTF-8") && env.iter().any(|e| e.starts_with("PATH=")),
            "{env:?}"
        );
        assert_eq!(config["created"], "2023-01-01T00:00:00Z");
    }
    let copy = p.path().join("copy");
    tool(
        "skopeo",
        &[
            &"copy",
            &"--all",
            &format!("oci:{}:{REF}", out.display()),
            &format!("oci:{}:{REF}", copy.display()),
        ],
    );

    for arch in ["amd64", "arm64"] {
        let bundle = p.path().join(format!("bundle-{arch}"));
        common::umoci_unpack(&out, &format!("{REF}-linux-{arch}"), &bundle);
        check_rootfs(&bundle.join("rootfs"), arch);
    }
}

fn check_rootfs(root: &Path, arch: &str) {
    let meta =
        |p: &str| std::fs::symlink_metadata(root.join(p)).unwrap_or_else(|e| panic!("/{p} ({arch}): {e}"));
    let read =
        |p: &str| std::fs::read_to_string(root.join(p)).unwrap_or_else(|e| panic!("/{p} ({arch}): {e}"));
    let link = |p: &str| std::fs::read_link(root.join(p)).unwrap_or_else(|e| panic!("/{p} ({arch}): {e}"));

    // Merged /usr: /bin is a link, and what the package put in /bin is in /usr/bin.
    assert_eq!(link("bin").to_str(), Some("usr/bin"));
    assert_eq!(read("usr/bin/tool"), format!("#!/bin/sh\necho tool {arch}\n"));
    assert_eq!(meta("usr/bin/tool").permissions().mode() & 0o7777, 0o755);
    // The hard link, written before its target in path order, is still the same file.
    assert_eq!(meta("usr/bin/atool").ino(), meta("usr/bin/tool").ino());
    assert_eq!(link("usr/bin/t").to_str(), Some("tool"));
    assert_eq!(link("usr/bin/abs").to_str(), Some("/usr/bin/tool"));
    assert_eq!(meta("usr/bin/su-helper").permissions().mode() & 0o7777, 0o4755);
    assert_eq!(read("etc/tool.conf"), "conf=1\n");
    assert!(meta("var/fifo").file_type().is_fifo());
    assert_eq!(read(&long_name()), "long");
    if common::is_root() {
        assert_eq!((meta("srv/data").uid(), meta("srv/data").gid()), (1000, 1000));
        assert_eq!((meta("usr/bin/tool").uid(), meta("usr/bin/tool").gid()), (0, 0));
    }
    assert_eq!(meta("srv/data").permissions().mode() & 0o7777, 0o640);
    // Timestamps are clamped to the lock's Release date.
    assert_eq!(meta("etc/tool.conf").mtime() as u64, RELEASE_EPOCH);
    for name in ["xzpkg", "zstdpkg", "bz2pkg", "plainpkg"] {
        assert_eq!(
            read(&format!("usr/share/{name}/hello")),
            format!("hello from {name}\n")
        );
    }
    if arch == "amd64" {
        assert_eq!(link("lib64").to_str(), Some("usr/lib64"));
        assert_eq!(read("usr/lib64/ld-test.so.2"), "ELF?");
    } else {
        assert!(root.join("lib64").symlink_metadata().is_err(), "/lib64 on {arch}");
    }
}

#[test]
fn docker_archive_output_is_accepted_by_skopeo() {
    let mut p = project();
    let manifest = p.write();
    let server = p.serve();
    Debcast::new(p.path())
        .arg("build")
        .arg(&manifest)
        .args([
            "--output",
            "image.tar",
            "--format",
            "docker-archive",
            "--platform",
            "linux/arm64",
        ])
        .args(["--cache-dir", "store", "--mirror"])
        .arg(format!("synthetic={}", server.url()))
        .ok();
    let inspect = tool(
        "skopeo",
        &[
            &"inspect",
            &format!("docker-archive:{}", p.path().join("image.tar").display()),
        ],
    );
    let v: serde_json::Value = serde_json::from_str(&inspect).unwrap();
    assert_eq!(v["Architecture"], "arm64", "{v}");
    // Budget layering (the default): one layer per arm64 package (tool and the four `all`
    // packages) and the generated layer.
    assert_eq!(v["Layers"].as_array().map(Vec::len), Some(6), "{v}");
}
