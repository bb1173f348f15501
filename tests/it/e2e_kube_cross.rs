//! The kube-cross proof: a kube-cross-shaped image (bookworm's cross compilers from the real
//! archive, a real Go toolchain and a zip as `[[artifact]]`s fetched through `--artifact-mirror`
//! from 127.0.0.1, `/tmp.k8s`, the Dockerfile's environment) is built, and inside it, with chroot,
//! Go cross-compiles a cgo program to an aarch64 ELF and pure Go to s390x, ppc64le and arm.
//!
//! go.dev is not reachable from these machines, so the toolchain is Debian's own (golang-1.19),
//! repacked into go.dev's tarball layout (`go/bin/go`, `go/src`, `go/pkg/tool`). Needs the real
//! archive (the host's apt sources) and root (chroot, mounts): ignored by default, run by
//! `just e2e`.

use crate::common;

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

use common::{Debcast, repo_root, tool};
use debcast::lockfile::Lockfile;
use debcast_testkit::server::Server;

const SOURCES: &str = r#"
[[source]]
archive = "debian"
suites = ["bookworm", "bookworm-updates"]
keyring = "/usr/share/keyrings/debian-archive-keyring.gpg"

[[source]]
archive = "debian-security"
suites = ["bookworm-security"]
keyring = "/usr/share/keyrings/debian-archive-keyring.gpg"
"#;

/// Debian's Go 1.19 as go.dev ships a toolchain: one `go/` directory, symlinks into
/// /usr/share resolved.
fn debian_go_as_a_go_dev_tarball(dir: &Path, store: &Path) -> Vec<u8> {
    std::fs::write(
        dir.join("go-source.toml"),
        format!(
            "[image]\nname = \"go-source\"\nplatforms = [\"linux/amd64\"]\n{SOURCES}\n[packages]\ninclude = [\"golang-1.19-go\", \"golang-1.19-src\"]\n"
        ),
    )
    .unwrap();
    Debcast::real_archive(dir)
        .args(["lock", "go-source.toml", "--cache-dir"])
        .arg(store)
        .ok();
    Debcast::real_archive(dir)
        .args(["fetch", "go-source.toml", "--cache-dir"])
        .arg(store)
        .ok();
    let lock_path = dir.join("go-source.lock");
    let lock = Lockfile::parse(&std::fs::read_to_string(&lock_path).unwrap(), &lock_path).unwrap();
    let extracted = dir.join("go-debs");
    std::fs::create_dir_all(&extracted).unwrap();
    for p in lock.packages.iter().filter(|p| p.name.starts_with("golang-1.19")) {
        let deb = store.join(format!("debs/sha256/{}.deb", p.sha256.hex()));
        tool("dpkg-deb", &[&"-x", &deb, &extracted]);
    }
    let tarball = dir.join("go.linux-amd64.tar.gz");
    tool(
        "tar",
        &[
            &"--dereference",
            &"--owner=0",
            &"--group=0",
            &"--transform=s,^go-1.19,go,",
            &"-czf",
            &tarball,
            &"-C",
            &extracted.join("usr/lib"),
            &"go-1.19",
        ],
    );
    std::fs::read(&tarball).unwrap()
}

/// A release-zip-shaped artifact with an executable and a file the manifest leaves out.
fn hello_zip() -> Vec<u8> {
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let opts = zip::write::SimpleFileOptions::default();
    zip.start_file("bin/hello-from-zip", opts.unix_permissions(0o755))
        .unwrap();
    zip.write_all(b"#!/bin/sh\necho hello from the zip\n").unwrap();
    zip.start_file("readme.txt", opts.unix_permissions(0o644))
        .unwrap();
    zip.write_all(b"not copied\n").unwrap();
    zip.finish().unwrap().into_inner()
}

/// `/dev/null` and `/proc` in the image root while the test runs (the compilers need them).
struct Mounts(Vec<PathBuf>);

impl Mounts {
    fn new(root: &Path) -> Mounts {
        std::fs::create_dir_all(root.join("dev")).unwrap();
        std::fs::create_dir_all(root.join("proc")).unwrap();
        std::fs::write(root.join("dev/null"), b"").unwrap();
        let mut m = Mounts(Vec::new());
        tool("mount", &[&"--bind", &"/dev/null", &root.join("dev/null")]);
        m.0.push(root.join("dev/null"));
        tool("mount", &[&"-t", &"proc", &"proc", &root.join("proc")]);
        m.0.push(root.join("proc"));
        m
    }
}

impl Drop for Mounts {
    fn drop(&mut self) {
        for p in self.0.iter().rev() {
            let _ = Command::new("umount").arg("-l").arg(p).status();
        }
    }
}

/// Runs `script` in the image with exactly the image config's environment (plus a build cache).
fn in_image(root: &Path, env: &[String], script: &str) -> String {
    let mut args: Vec<String> = vec![root.display().to_string(), "/usr/bin/env".into(), "-i".into()];
    args.extend(env.iter().cloned());
    args.extend(["HOME=/root".into(), "GOCACHE=/tmp.k8s/gocache".into()]);
    args.extend(["/bin/sh".into(), "-ec".into(), script.into()]);
    let args: Vec<&dyn AsRef<std::ffi::OsStr>> =
        args.iter().map(|a| a as &dyn AsRef<std::ffi::OsStr>).collect();
    tool("chroot", &args)
}

/// The ELF machine of a file (EM_AARCH64 183, EM_S390 22, EM_PPC64 21, EM_ARM 40, EM_X86_64 62).
fn elf_machine(path: &Path) -> u16 {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    assert_eq!(&bytes[..4], b"\x7fELF", "{} is not an ELF file", path.display());
    let field = [bytes[18], bytes[19]];
    match bytes[5] {
        2 => u16::from_be_bytes(field),
        _ => u16::from_le_bytes(field),
    }
}

#[test]
#[ignore = "needs the real Debian archive and root; run with `just e2e`"]
fn a_kube_cross_shaped_image_cross_compiles_inside() {
    assert!(common::is_root(), "chroot and mounts need root");
    let dir = common::WorkDir::fresh("e2e", "kube-cross-proof");
    let store = repo_root().join("vendor");

    let go = debian_go_as_a_go_dev_tarball(&dir, &store);
    let files = BTreeMap::from([
        ("go/go1.19-debian.linux-amd64.tar.gz".to_owned(), go),
        ("gh/releases/hello-linux.zip".to_owned(), hello_zip()),
    ]);
    let server = Server::map(files).start().unwrap();
    let mirrors = [
        format!("https://go.dev/dl/={}go/", server.url()),
        format!("https://github.com/example/hello/={}gh/", server.url()),
    ];

    std::fs::write(
        dir.join("image.toml"),
        format!(
            r#"[image]
name = "kube-cross-proof"
platforms = ["linux/amd64"]
{SOURCES}
[packages]
required = true
include = ["build-essential", "gcc-aarch64-linux-gnu", "libc6-dev-arm64-cross", "git"]

[[artifact]]
name = "go"
url = "https://go.dev/dl/go1.19-debian.linux-amd64.tar.gz"
dest = "/usr/local"

[[artifact]]
name = "hello"
url = "https://github.com/example/hello/releases/hello-linux.zip"
dest = "/usr/local"
include = ["bin"]

[[system.directory]]
path = "/tmp.k8s"
mode = "1777"

[config]
entrypoint = []

[config.env]
GOARM = "7"
PATH = "/usr/local/go/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
GOROOT = "/usr/local/go"
GOPATH = "/usr/local/go"
GOTOOLCHAIN = "local"
TMPDIR = "/tmp.k8s"
"#
        ),
    )
    .unwrap();
    let with_mirrors = |d: Debcast| {
        d.arg("--artifact-mirror")
            .arg(&mirrors[0])
            .arg("--artifact-mirror")
            .arg(&mirrors[1])
    };
    with_mirrors(
        Debcast::real_archive(&dir)
            .args(["lock", "image.toml", "--cache-dir"])
            .arg(&store),
    )
    .ok();
    let lock = std::fs::read_to_string(dir.join("image.lock")).unwrap();
    assert_eq!(lock.matches("[[artifact]]").count(), 2, "{lock}");
    with_mirrors(
        Debcast::real_archive(&dir)
            .args(["build", "image.toml", "--output", "image", "--cache-dir"])
            .arg(&store),
    )
    .ok();
    // Offline, into a fresh output: the same image.
    Debcast::real_archive(&dir)
        .args([
            "build",
            "image.toml",
            "--output",
            "image2",
            "--offline",
            "--cache-dir",
        ])
        .arg(&store)
        .ok();
    assert_eq!(
        std::fs::read_to_string(dir.join("image/index.json")).unwrap(),
        std::fs::read_to_string(dir.join("image2/index.json")).unwrap()
    );
    drop(server);

    let bundle = dir.join("bundle");
    common::umoci_unpack(&dir.join("image"), "kube-cross-proof-linux-amd64", &bundle);
    let root = bundle.join("rootfs");
    let config: serde_json::Value =
        serde_json::from_slice(&std::fs::read(bundle.join("config.json")).unwrap()).unwrap();
    let env: Vec<String> = config["process"]["env"]
        .as_array()
        .unwrap_or_else(|| panic!("no env in {config}"))
        .iter()
        .filter_map(|v| v.as_str().map(str::to_owned))
        .collect();
    for want in ["GOARM=7", "GOROOT=/usr/local/go", "TMPDIR=/tmp.k8s"] {
        assert!(env.iter().any(|e| e == want), "{want} not in {env:?}");
    }
    let meta = std::fs::symlink_metadata(root.join("tmp.k8s")).unwrap();
    assert!(meta.is_dir());
    assert_eq!(
        std::os::unix::fs::PermissionsExt::mode(&meta.permissions()) & 0o7777,
        0o1777
    );
    assert!(
        !root.join("usr/local/readme.txt").exists(),
        "include = [\"bin\"] keeps only bin/"
    );

    let _mounts = Mounts::new(&root);
    let version = in_image(&root, &env, "go version");
    assert!(version.starts_with("go version go1.19"), "{version}");
    assert_eq!(
        in_image(&root, &env, "hello-from-zip").trim(),
        "hello from the zip"
    );

    std::fs::create_dir_all(root.join("tmp.k8s/src")).unwrap();
    std::fs::write(
        root.join("tmp.k8s/src/cgo.go"),
        "package main\n\n// static int answer(void) { return 42; }\nimport \"C\"\nimport \"fmt\"\n\nfunc main() { fmt.Println(C.answer()) }\n",
    )
    .unwrap();
    std::fs::write(
        root.join("tmp.k8s/src/pure.go"),
        "package main\n\nimport \"fmt\"\n\nfunc main() { fmt.Println(\"pure\") }\n",
    )
    .unwrap();
    in_image(
        &root,
        &env,
        "cd /tmp.k8s/src && CGO_ENABLED=1 GOOS=linux GOARCH=arm64 CC=aarch64-linux-gnu-gcc go build -o /tmp.k8s/cgo-arm64 cgo.go",
    );
    assert_eq!(
        elf_machine(&root.join("tmp.k8s/cgo-arm64")),
        183,
        "cgo program for arm64"
    );
    for (goarch, machine) in [("s390x", 22), ("ppc64le", 21), ("arm", 40)] {
        in_image(
            &root,
            &env,
            &format!(
                "cd /tmp.k8s/src && CGO_ENABLED=0 GOOS=linux GOARCH={goarch} go build -o /tmp.k8s/pure-{goarch} pure.go"
            ),
        );
        assert_eq!(
            elf_machine(&root.join(format!("tmp.k8s/pure-{goarch}"))),
            machine,
            "{goarch}"
        );
    }
    // And natively: the cgo program runs.
    in_image(
        &root,
        &env,
        "cd /tmp.k8s/src && go build -o /tmp.k8s/cgo-native cgo.go",
    );
    assert_eq!(in_image(&root, &env, "/tmp.k8s/cgo-native").trim(), "42");
}
