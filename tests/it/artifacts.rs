//! `[[artifact]]`s through the real binary: pinned by `lock`, carried by the transport (through an
//! artifact mirror on 127.0.0.1), unpacked into layers of their own; declared directories and
//! links; and the refusals (changed bytes, hostile entries, collisions, `--offline` with nothing).

use crate::common;
use crate::lock_support;

use std::collections::BTreeMap;
use std::io::Write;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;

use common::Debcast;
use debcast_testkit::deb::{Compression, DebBuilder, RawEntry, RawKind};
use debcast_testkit::server::Server;
use lock_support::{ARCHIVE, Fixture};

/// The host the manifests name; `--artifact-mirror` moves it to the loopback server, so nothing
/// here ever resolves it.
const UPSTREAM: &str = "https://downloads.example.org/";

/// A `tar.gz` whose entries are `entries` (paths as written; `./` is prepended by the builder).
fn tar_gz(build: impl FnOnce(DebBuilder) -> DebBuilder) -> Vec<u8> {
    let b = build(DebBuilder::new("artifact", "1", "all"));
    Compression::Gzip.compress(&b.data_tar())
}

/// A Go-toolchain-shaped tarball for `arch`.
fn go_tarball(arch: &str) -> Vec<u8> {
    tar_gz(|b| {
        b.file("go/bin/go", format!("#!/bin/sh\necho go {arch}\n"), 0o755)
            .file("go/VERSION", format!("go1.99 {arch}\n"), 0o644)
            .symlink("go/misc/version-link", "../VERSION")
            .hardlink("go/pkg/VERSION.copy", "go/VERSION")
            .owner("go/VERSION", 1000, 1000, "builder", "builder")
    })
}

/// A protoc-release-shaped zip: an executable, an include file, and a directory entry.
fn protoc_zip() -> Vec<u8> {
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let stored = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    zip.add_directory("include/", stored.unix_permissions(0o755))
        .unwrap();
    zip.start_file("bin/protoc", stored.unix_permissions(0o755))
        .unwrap();
    zip.write_all(b"#!/bin/sh\necho libprotoc 23.4\n").unwrap();
    zip.start_file(
        "include/google/protobuf/empty.proto",
        stored.unix_permissions(0o644),
    )
    .unwrap();
    zip.write_all(b"syntax = \"proto3\";\n").unwrap();
    zip.start_file("readme.txt", stored.unix_permissions(0o644))
        .unwrap();
    zip.write_all(b"left out by include\n").unwrap();
    zip.finish().unwrap().into_inner()
}

struct Setup {
    f: Fixture,
    artifacts: Server,
}

impl Setup {
    /// A signed archive with one package per architecture, an artifact server with `files`
    /// (paths below `dl/`), and `image.toml` with `artifacts` appended.
    fn new(files: BTreeMap<String, Vec<u8>>, artifacts: &str) -> Setup {
        let mut f = Fixture::new(&["stable"]);
        for arch in ["amd64", "arm64"] {
            let tool = DebBuilder::new("tool", "1.0-1", arch)
                .file("./usr/bin/tool", format!("#!/bin/sh\necho {arch}\n"), 0o755)
                .dir("./usr/local/bin", 0o755);
            f.deb("stable", &tool, &[]);
        }
        f.serve();
        f.manifest(
            &["stable"],
            r#"include = ["tool"]"#,
            &format!(
                "[config]\nentrypoint = []\nenv = {{ GOROOT = \"/usr/local/go\", TMPDIR = \"/tmp.k8s\" }}\n\n\
                 [[system.directory]]\npath = \"/tmp.k8s\"\nmode = \"1777\"\n\n\
                 [[system.directory]]\npath = \"/go/src\"\nmode = \"0775\"\nuid = 1000\ngid = 1000\n\n\
                 [[system.symlink]]\npath = \"/usr/local/bin/go\"\ntarget = \"../go/bin/go\"\n\n{artifacts}"
            ),
        );
        let files = files.into_iter().map(|(k, v)| (format!("dl/{k}"), v)).collect();
        let artifacts = Server::map(files).start().unwrap();
        Setup { f, artifacts }
    }

    fn path(&self) -> &Path {
        self.f.path()
    }

    fn mirror_args(&self) -> Vec<String> {
        vec![
            "--mirror".into(),
            format!("{ARCHIVE}={}", self.f.url()),
            "--artifact-mirror".into(),
            format!("{UPSTREAM}={}dl/", self.artifacts.url()),
        ]
    }

    fn run(&self, verb: &str, extra: &[&str]) -> Debcast {
        Debcast::new(self.path())
            .args([verb, "image.toml"])
            .args(extra)
            .args(self.mirror_args())
    }
}

const GO_AND_PROTOC: &str = r#"
[[artifact]]
name = "go"
dest = "/usr/local"
url = "https://downloads.example.org/go/go-amd64.tar.gz"

[artifact.platform."linux/arm64"]
url = "https://downloads.example.org/go/go-arm64.tar.gz"

[[artifact]]
name = "protoc"
url = "https://downloads.example.org/protobuf/protoc-linux.zip"
dest = "/usr/local"
include = ["bin", "include"]
"#;

fn go_and_protoc_files() -> BTreeMap<String, Vec<u8>> {
    BTreeMap::from([
        ("go/go-amd64.tar.gz".to_owned(), go_tarball("amd64")),
        ("go/go-arm64.tar.gz".to_owned(), go_tarball("arm64")),
        ("protobuf/protoc-linux.zip".to_owned(), protoc_zip()),
    ])
}

fn index_of(dir: &Path) -> String {
    std::fs::read_to_string(dir.join("index.json")).unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
}

#[test]
fn artifacts_are_pinned_fetched_and_unpacked_into_their_own_layers() {
    let s = Setup::new(go_and_protoc_files(), GO_AND_PROTOC);
    s.run("lock", &["--cache-dir", "store"])
        .ok()
        .stderr_has(&["pinned artifact `go` for linux/amd64", "as downloaded"]);
    let lock = std::fs::read_to_string(s.path().join("image.lock")).unwrap();
    let go_amd64 = debcast::hash::Sha256Digest::of(&go_tarball("amd64"));
    assert!(
        lock.contains(&format!(
            "[[artifact]]\nplatform = \"linux/amd64\"\nname = \"go\"\nurl = \"https://downloads.example.org/go/go-amd64.tar.gz\"\nsize = {}\nsha256 = \"{go_amd64}\"",
            go_tarball("amd64").len()
        )),
        "{lock}"
    );
    assert_eq!(lock.matches("[[artifact]]").count(), 4, "{lock}");
    // A fresh lock is kept as it is, and `--check` agrees.
    s.run("lock", &["--cache-dir", "store", "--check"]).ok();

    s.run("build", &["--cache-dir", "store", "--output", "out1"]).ok();
    let out1 = s.path().join("out1");
    debcast_testkit::oci::check_layout(&out1).unwrap_or_else(|e| panic!("{e}"));

    // Offline, into a fresh output, from the store and the layer cache: the same image.
    s.run(
        "build",
        &["--cache-dir", "store", "--output", "out2", "--offline"],
    )
    .ok();
    assert_eq!(index_of(&out1), index_of(&s.path().join("out2")));
    // Without the layer cache, and from a store filled by `fetch` alone: still the same bytes.
    s.run("fetch", &["--cache-dir", "store2"]).ok();
    s.run(
        "build",
        &[
            "--cache-dir",
            "store2",
            "--output",
            "out3",
            "--offline",
            "--no-layer-cache",
        ],
    )
    .ok();
    assert_eq!(index_of(&out1), index_of(&s.path().join("out3")));

    for arch in ["amd64", "arm64"] {
        let bundle = s.path().join(format!("bundle-{arch}"));
        common::umoci_unpack(&out1, &format!("synthetic:test-linux-{arch}"), &bundle);
        let root = bundle.join("rootfs");
        let meta = |p: &str| std::fs::symlink_metadata(root.join(p)).unwrap_or_else(|e| panic!("/{p}: {e}"));
        let read = |p: &str| std::fs::read_to_string(root.join(p)).unwrap_or_else(|e| panic!("/{p}: {e}"));
        assert_eq!(
            read("usr/local/go/bin/go"),
            format!("#!/bin/sh\necho go {arch}\n")
        );
        assert_eq!(meta("usr/local/go/bin/go").permissions().mode() & 0o7777, 0o755);
        assert_eq!(
            std::fs::read_link(root.join("usr/local/go/misc/version-link")).unwrap(),
            Path::new("../VERSION")
        );
        assert_eq!(
            meta("usr/local/go/pkg/VERSION.copy").ino(),
            meta("usr/local/go/VERSION").ino()
        );
        // Zip entries keep their Unix modes.
        assert_eq!(read("usr/local/bin/protoc"), "#!/bin/sh\necho libprotoc 23.4\n");
        assert_eq!(meta("usr/local/bin/protoc").permissions().mode() & 0o7777, 0o755);
        assert_eq!(
            meta("usr/local/include/google/protobuf/empty.proto")
                .permissions()
                .mode()
                & 0o7777,
            0o644
        );
        assert!(
            !root.join("usr/local/readme.txt").exists(),
            "include keeps bin/ and include/ only"
        );
        // Declared directories and links.
        assert!(meta("tmp.k8s").is_dir());
        assert_eq!(meta("tmp.k8s").permissions().mode() & 0o7777, 0o1777);
        assert_eq!(meta("go/src").permissions().mode() & 0o7777, 0o775);
        assert_eq!(
            std::fs::read_link(root.join("usr/local/bin/go")).unwrap(),
            Path::new("../go/bin/go")
        );
        if common::is_root() {
            // Owned by root unless the artifact says otherwise, whatever the tarball recorded.
            assert_eq!(meta("usr/local/go/VERSION").uid(), 0);
            assert_eq!(meta("go/src").uid(), 1000);
        }
        // The package's files are still there.
        assert_eq!(read("usr/bin/tool"), format!("#!/bin/sh\necho {arch}\n"));
    }

    // Each artifact has a layer of its own, on top, and the config carries the declared env.
    let config = common::tool(
        "skopeo",
        &[
            &"inspect",
            &"--override-arch",
            &"arm64",
            &format!("oci:{}:synthetic:test", out1.display()),
        ],
    );
    let v: serde_json::Value = serde_json::from_str(&config).unwrap();
    let layers = v["Layers"].as_array().map(Vec::len).unwrap_or(0);
    assert!(layers >= 4, "{v}");
    let env = v["Env"].to_string();
    assert!(
        env.contains("GOROOT=/usr/local/go") && env.contains("TMPDIR=/tmp.k8s"),
        "{v}"
    );
}

/// The SBOMs of an image with a tar.gz and a zip artifact: valid by the standards' tools, each
/// platform's artifacts listed with their (upstream, not mirror) URL, SHA-256 and purl in both
/// documents, beside exactly the locked packages, which are also the image's dpkg database.
#[test]
fn sboms_list_each_artifact_with_its_url_hash_and_purl() {
    use crate::sbom::{dpkg_status, read_json, validate};
    use std::collections::BTreeSet;

    let s = Setup::new(go_and_protoc_files(), GO_AND_PROTOC);
    s.run("lock", &["--cache-dir", "store"]).ok();
    s.run(
        "build",
        &["--cache-dir", "store", "--output", "out", "--sbom", "sbom"],
    )
    .ok()
    .stderr_has(&["2 artifacts"]);
    let out = s.path().join("out");
    let lock = debcast::lockfile::Lockfile::parse(
        &std::fs::read_to_string(s.path().join("image.lock")).unwrap(),
        Path::new("image.lock"),
    )
    .unwrap();
    for arch in ["amd64", "arm64"] {
        let platform: debcast::platform::Platform = format!("linux/{arch}").parse().unwrap();
        let spdx_path = s.path().join(format!("sbom/linux-{arch}.spdx.json"));
        let cdx_path = s.path().join(format!("sbom/linux-{arch}.cdx.json"));
        validate(&spdx_path, &cdx_path);
        // Readable by others, as the image's files are (not a temporary file's 0600).
        for path in [&spdx_path, &cdx_path] {
            let mode =
                std::os::unix::fs::PermissionsExt::mode(&std::fs::metadata(path).unwrap().permissions());
            assert_eq!(mode & 0o777, 0o644, "{}", path.display());
        }
        let (spdx, cdx) = (read_json(&spdx_path), read_json(&cdx_path));

        let artifacts: Vec<&debcast::lockfile::LockedArtifact> =
            lock.artifacts.iter().filter(|a| a.platform == platform).collect();
        assert_eq!(artifacts.len(), 2, "{lock:?}");
        let spdx_artifacts: Vec<&serde_json::Value> = spdx["packages"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|p| p["SPDXID"].as_str().unwrap().starts_with("SPDXRef-artifact-"))
            .collect();
        let cdx_artifacts: Vec<&serde_json::Value> = cdx["components"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|c| c["purl"].as_str().unwrap().starts_with("pkg:generic/"))
            .collect();
        assert_eq!(spdx_artifacts.len(), 2, "{spdx}");
        assert_eq!(cdx_artifacts.len(), 2, "{cdx}");
        for a in &artifacts {
            assert!(a.url.starts_with(UPSTREAM), "{}", a.url);
            let purl = debcast::sbom::artifact_purl(a);
            assert!(
                purl.starts_with(&format!(
                    "pkg:generic/{}?checksum=sha256%3A{}&download_url=https%3A%2F%2Fdownloads.example.org%2F",
                    a.name,
                    a.sha256.hex()
                )),
                "{purl}"
            );
            let p = spdx_artifacts
                .iter()
                .find(|p| p["name"] == a.name.as_str())
                .unwrap_or_else(|| panic!("{} not in the SPDX document", a.label()));
            assert_eq!(p["downloadLocation"], a.url.as_str());
            assert_eq!(
                p["checksums"],
                serde_json::json!([{"algorithm": "SHA256", "checksumValue": a.sha256.hex()}])
            );
            assert_eq!(p["externalRefs"][0]["referenceType"], "purl");
            assert_eq!(p["externalRefs"][0]["referenceLocator"], purl.as_str());
            let image_contains = spdx["relationships"]
                .as_array()
                .unwrap()
                .iter()
                .any(|r| r["relationshipType"] == "CONTAINS" && r["relatedSpdxElement"] == p["SPDXID"]);
            assert!(image_contains, "{}: no CONTAINS relationship", a.label());
            let c = cdx_artifacts
                .iter()
                .find(|c| c["name"] == a.name.as_str())
                .unwrap_or_else(|| panic!("{} not in the CycloneDX document", a.label()));
            assert_eq!(c["purl"], purl.as_str());
            assert_eq!(c["bom-ref"], purl.as_str());
            assert_eq!(
                c["hashes"],
                serde_json::json!([{"alg": "SHA-256", "content": a.sha256.hex()}])
            );
            assert_eq!(
                c["externalReferences"],
                serde_json::json!([{"type": "distribution", "url": a.url}])
            );
        }
        // The go tarball differs per platform; the zip is the same on both.
        let go = artifacts.iter().find(|a| a.name == "go").unwrap();
        assert_eq!(go.sha256, debcast::hash::Sha256Digest::of(&go_tarball(arch)));

        // Besides the artifacts: exactly the locked packages, which the image's dpkg has.
        let locked: BTreeSet<(String, String, String)> = lock
            .packages_for(&platform)
            .map(|p| (p.name.clone(), p.version.clone(), p.architecture.clone()))
            .collect();
        assert_eq!(
            crate::sbom::spdx_debs(&spdx),
            locked.iter().map(|(n, v, _)| (n.clone(), v.clone())).collect()
        );
        let from_cdx: BTreeSet<String> = cdx["components"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|c| c["purl"].as_str().filter(|p| p.starts_with("pkg:deb/")))
            .map(str::to_owned)
            .collect();
        assert_eq!(from_cdx.len(), locked.len(), "{cdx}");
        let bundle = s.path().join(format!("bundle-{arch}"));
        common::umoci_unpack(&out, &format!("synthetic:test-linux-{arch}"), &bundle);
        let status = std::fs::read_to_string(bundle.join("rootfs/var/lib/dpkg/status")).unwrap();
        assert_eq!(dpkg_status(&status), locked);
    }
}

#[test]
fn changed_bytes_under_the_same_url_are_refused_and_nothing_is_written() {
    let mut files = go_and_protoc_files();
    let s = Setup::new(files.clone(), GO_AND_PROTOC);
    s.run("lock", &["--cache-dir", "store"]).ok();
    drop(s.artifacts);
    // The same URL now serves other bytes.
    files.insert("go/go-amd64.tar.gz".into(), go_tarball("tampered"));
    let artifacts = Server::map(files.into_iter().map(|(k, v)| (format!("dl/{k}"), v)).collect())
        .start()
        .unwrap();
    let s = Setup { f: s.f, artifacts };
    let run = s
        .run(
            "build",
            &["--cache-dir", "fresh-store", "--output", "out", "--retries", "1"],
        )
        .fails();
    run.stderr_has(&[
        "artifact `go` for linux/amd64",
        "every mirror failed",
        "wrong size",
    ]);
    assert!(!s.path().join("out").exists(), "{run}");
    let incoming: Vec<_> = std::fs::read_dir(s.path().join("fresh-store/artifacts/sha256"))
        .map(|d| d.filter_map(Result::ok).map(|e| e.file_name()).collect())
        .unwrap_or_default();
    // Only the artifacts that verified are in the store.
    assert!(
        !incoming
            .iter()
            .any(|n| n.to_string_lossy() == debcast::hash::Sha256Digest::of(&go_tarball("tampered")).hex()),
        "{incoming:?}"
    );

    // A manifest sha256 that the served bytes do not match fails `lock`, naming the artifact.
    let text = std::fs::read_to_string(s.path().join("image.toml")).unwrap().replace(
        "dest = \"/usr/local\"\nurl = \"https://downloads.example.org/go/go-amd64.tar.gz\"",
        &format!(
            "dest = \"/usr/local\"\nurl = \"https://downloads.example.org/go/go-amd64.tar.gz\"\nsha256 = \"{}\"",
            debcast::hash::Sha256Digest::of(&go_tarball("amd64"))
        ),
    );
    std::fs::write(s.path().join("image.toml"), text).unwrap();
    // The existing lock has exactly those bytes pinned: it is kept, nothing is downloaded.
    s.run("lock", &["--cache-dir", "store3"]).ok();
    std::fs::remove_file(s.path().join("image.lock")).unwrap();
    s.run("lock", &["--cache-dir", "store3"])
        .fails()
        .stderr_has(&["artifact `go` for linux/amd64", "the manifest pins SHA-256"]);
}

#[test]
fn offline_names_every_missing_artifact() {
    let s = Setup::new(go_and_protoc_files(), GO_AND_PROTOC);
    s.run("lock", &["--cache-dir", "store"]).ok();
    // The packages are in `partial`, the artifacts are not.
    s.run("fetch", &["--cache-dir", "partial"]).ok();
    std::fs::remove_dir_all(s.path().join("partial/artifacts")).unwrap();
    let run = s
        .run(
            "build",
            &["--cache-dir", "partial", "--output", "out", "--offline"],
        )
        .fails();
    run.stderr_has(&[
        "artifact `go` for linux/amd64",
        "artifact `go` for linux/arm64",
        "artifact `protoc` for linux/amd64",
        "debcast fetch",
    ]);
    assert!(!s.path().join("out").exists());
    s.run("fetch", &["--cache-dir", "partial", "--offline"])
        .fails()
        .stderr_has(&["artifact `protoc` for linux/arm64"]);
}

#[test]
fn hostile_entries_and_collisions_are_refused_naming_the_artifact() {
    let evil = {
        let b = DebBuilder::new("artifact", "1", "all")
            .file("ok/file", "fine", 0o644)
            .raw_entry(RawEntry::new("../escape", RawKind::File(b"owned".to_vec())));
        Compression::Gzip.compress(&b.data_tar())
    };
    let clash = tar_gz(|b| b.file("bin/tool", "not the package's", 0o755));
    let files = BTreeMap::from([
        ("evil.tar.gz".to_owned(), evil),
        ("clash.tar.gz".to_owned(), clash),
    ]);
    let evil_manifest = r#"
[[artifact]]
name = "evil"
url = "https://downloads.example.org/evil.tar.gz"
dest = "/opt/evil"
"#;
    let s = Setup::new(files, evil_manifest);
    s.run("lock", &["--cache-dir", "store"]).ok();
    let run = s
        .run("build", &["--cache-dir", "store", "--output", "out"])
        .fails();
    run.stderr_has(&["artifact `evil` for linux/amd64", "../escape", ".."]);
    assert!(!s.path().join("out").exists(), "{run}");
    let leftovers: Vec<_> = std::fs::read_dir(s.path())
        .unwrap()
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_string_lossy().starts_with(".out"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");

    // An artifact over a package's file names both; `replaces = true` allows it.
    let clash_manifest = |replaces: bool| {
        format!(
            "\n[[artifact]]\nname = \"clash\"\nurl = \"https://downloads.example.org/clash.tar.gz\"\ndest = \"/usr\"\nreplaces = {replaces}\n"
        )
    };
    let text = std::fs::read_to_string(s.path().join("image.toml")).unwrap();
    let text = text.replace(evil_manifest, &clash_manifest(false));
    std::fs::write(s.path().join("image.toml"), &text).unwrap();
    s.run("lock", &["--cache-dir", "store"]).ok();
    let run = s
        .run("build", &["--cache-dir", "store", "--output", "out"])
        .fails();
    run.stderr_has(&["artifact `clash` for linux/amd64", "/usr/bin/tool", "tool=1.0-1"]);
    assert!(!s.path().join("out").exists(), "{run}");
    std::fs::write(
        s.path().join("image.toml"),
        text.replace(&clash_manifest(false), &clash_manifest(true)),
    )
    .unwrap();
    s.run("build", &["--cache-dir", "store", "--output", "out"]).ok();
}
