//! The image is a working Debian system, judged from outside (dpkg-query, dpkg --verify) and from
//! inside (commands run with chroot), and compared path by path with the same package set
//! installed by apt and dpkg (mmdebstrap). Needs the real Debian archive and root: `just e2e`.

use crate::common;

use std::collections::BTreeMap;
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::{Path, PathBuf};

use common::{Debcast, WorkDir, repo_root, tool};

/// The package list of the issue: a shell user's and a C developer's basics.
const SYSTEM_PACKAGES: &[&str] = &[
    "bash",
    "coreutils",
    "mawk",
    "gcc",
    "libc6-dev",
    "ca-certificates",
    "tzdata",
    "less",
    "openssl",
    "base-passwd",
    "base-files",
    "debianutils",
    "dpkg",
    "libc-bin",
];

fn manifest(name: &str, packages: &[String]) -> String {
    let include = packages
        .iter()
        .map(|p| format!("\"{p}\""))
        .collect::<Vec<_>>()
        .join(", ");
    format!(
        r#"[image]
name = "{name}"
platforms = ["linux/amd64"]

[[source]]
archive = "debian"
suites = ["bookworm", "bookworm-updates"]
keyring = "/usr/share/keyrings/debian-archive-keyring.gpg"

[[source]]
archive = "debian-security"
suites = ["bookworm-security"]
keyring = "/usr/share/keyrings/debian-archive-keyring.gpg"

[packages]
include = [{include}]
"#
    )
}

fn work_dir(name: &str) -> WorkDir {
    WorkDir::fresh("e2e", name)
}

/// Locks and builds a manifest in `dir` (the store is shared with the repository's `vendor/`, so
/// repeated runs download nothing), unpacks it, and returns the root.
fn build_and_unpack(dir: &Path, name: &str, packages: &[String]) -> (PathBuf, serde_json::Value) {
    std::fs::write(dir.join("image.toml"), manifest(name, packages)).unwrap();
    let store = repo_root().join("vendor");
    Debcast::real_archive(dir)
        .args(["lock", "image.toml", "--cache-dir"])
        .arg(&store)
        .ok();
    Debcast::real_archive(dir)
        .args([
            "build",
            "image.toml",
            "--output",
            "image",
            "--report",
            "report.json",
            "--cache-dir",
        ])
        .arg(&store)
        .ok();
    let bundle = dir.join("bundle");
    common::umoci_unpack(&dir.join("image"), &format!("{name}-linux-amd64"), &bundle);
    let report = serde_json::from_slice(&std::fs::read(dir.join("report.json")).unwrap()).unwrap();
    (bundle.join("rootfs"), report)
}

fn in_chroot(root: &Path, script: &str) -> String {
    tool("chroot", &[&root, &"/bin/sh", &"-c", &script])
}

#[test]
#[ignore = "needs the real Debian archive and root; run with `just e2e`"]
fn the_image_is_a_working_debian_system() {
    assert!(common::is_root(), "chroot needs root");
    let dir = work_dir("system");
    let packages: Vec<String> = SYSTEM_PACKAGES.iter().map(|s| (*s).to_owned()).collect();
    let (root, report) = build_and_unpack(&dir, "system", &packages);

    // dpkg, from outside: exactly the locked packages, and nothing to complain about.
    let lock = std::fs::read_to_string(dir.join("image.lock")).unwrap();
    let locked = lock.matches("[[package]]").count();
    let admindir = root.join("var/lib/dpkg");
    let listed = tool(
        "dpkg-query",
        &[&format!("--admindir={}", admindir.display()), &"-W"],
    );
    assert_eq!(listed.lines().count(), locked, "dpkg-query -W lists:\n{listed}");
    for name in SYSTEM_PACKAGES {
        assert!(
            listed
                .lines()
                .any(|l| l.split('\t').next().map(|n| n.split(':').next()) == Some(Some(name)))
        );
    }
    let verify = tool("dpkg", &[&format!("--root={}", root.display()), &"--verify"]);
    assert!(verify.is_empty(), "dpkg --verify:\n{verify}");
    assert!(in_chroot(&root, "dpkg --audit").is_empty());

    // From inside: alternatives, accounts, shells, time zone, certificates, a compiler.
    assert_eq!(in_chroot(&root, "awk 'BEGIN { print 6 * 7 }'").trim(), "42");
    assert_eq!(in_chroot(&root, "which which").trim(), "/usr/bin/which");
    assert_eq!(
        in_chroot(&root, "readlink -f \"$(command -v pager)\"").trim(),
        "/usr/bin/less"
    );
    assert_eq!(
        in_chroot(&root, "readlink -f \"$(command -v cc)\"").trim(),
        "/usr/bin/x86_64-linux-gnu-gcc-12"
    );
    // Without the `passwd` package nothing runs pwconv: the password field stays `*`, as dpkg leaves it.
    let root_entry = in_chroot(&root, "getent passwd root");
    assert!(root_entry.starts_with("root:*:0:0:root:/root:"), "{root_entry}");
    assert!(
        in_chroot(&root, "cat /etc/shells")
            .lines()
            .any(|l| l == "/bin/bash")
    );
    assert_eq!(in_chroot(&root, "cat /etc/timezone").trim(), "Etc/UTC");
    assert_eq!(in_chroot(&root, "date +%Z").trim(), "UTC");
    std::fs::write(
        root.join("tmp/hello.c"),
        "#include <stdio.h>\nint main(void) { puts(\"hello, image\"); return 0; }\n",
    )
    .unwrap();
    assert_eq!(
        in_chroot(&root, "cc -O2 -o /tmp/hello /tmp/hello.c && /tmp/hello").trim(),
        "hello, image"
    );
    // Every hash link names a certificate with that subject hash, as openssl computes it.
    let checked = in_chroot(
        &root,
        "n=0; for l in /etc/ssl/certs/*.0; do h=$(openssl x509 -hash -noout -in \"$l\"); \
         [ \"$h.0\" = \"$(basename \"$l\")\" ] || { echo \"bad $l $h\"; exit 1; }; n=$((n+1)); done; echo $n",
    );
    assert!(
        checked.trim().parse::<u32>().unwrap_or(0) > 100,
        "hash links checked: {checked}"
    );
    assert!(
        in_chroot(&root, "wc -c < /etc/ssl/certs/ca-certificates.crt")
            .trim()
            .parse::<u64>()
            .unwrap_or(0)
            > 100_000
    );
    let ldconfig = in_chroot(&root, "ldconfig -p | head -1");
    assert!(ldconfig.contains("libs found in cache"), "{ldconfig}");

    // Nothing in these packages' scripts is silently dropped: the only thing left is dpkg's timer.
    let items = report["platforms"]["linux/amd64"].as_array().unwrap();
    for item in items {
        assert!(
            item["what"].as_str().unwrap_or("").contains("service management"),
            "not emulated: {item}"
        );
    }
}

/// What the comparison looks at, per path.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Meta {
    kind: char,
    mode: u32,
    uid: u32,
    gid: u32,
    /// Regular files: size and SHA-256; links: target.
    detail: String,
}

fn walk(root: &Path) -> BTreeMap<String, Meta> {
    let mut out = BTreeMap::new();
    let mut stack = vec![root.to_owned()];
    while let Some(dir) = stack.pop() {
        for e in std::fs::read_dir(&dir).unwrap() {
            let path = e.unwrap().path();
            let m = std::fs::symlink_metadata(&path).unwrap();
            let ft = m.file_type();
            let (kind, detail) = if ft.is_dir() {
                stack.push(path.clone());
                ('d', String::new())
            } else if ft.is_symlink() {
                (
                    'l',
                    std::fs::read_link(&path).unwrap().to_string_lossy().into_owned(),
                )
            } else if ft.is_file() {
                // Content, not just size: the same bytes as dpkg would have left.
                let bytes = std::fs::read(&path).unwrap();
                (
                    'f',
                    format!(
                        "{} bytes, sha256 {}",
                        m.len(),
                        debcast::hash::Sha256Digest::of(&bytes)
                    ),
                )
            } else if ft.is_fifo() {
                ('p', String::new())
            } else {
                ('c', format!("{:x}", m.rdev()))
            };
            let rel = format!("/{}", path.strip_prefix(root).unwrap().to_string_lossy());
            out.insert(
                rel,
                Meta {
                    kind,
                    mode: m.mode() & 0o7777,
                    uid: m.uid(),
                    gid: m.gid(),
                    detail,
                },
            );
        }
    }
    out
}

/// `tests/data/mmdebstrap-allowlist`: `GLOB  # why`, one per line. Every entry must say why.
fn allow_list() -> Vec<(String, String)> {
    let text = std::fs::read_to_string(repo_root().join("tests/data/mmdebstrap-allowlist")).unwrap();
    text.lines()
        .filter(|l| !l.trim().is_empty() && !l.trim_start().starts_with('#'))
        .map(|l| {
            let (pattern, why) = l.split_once('#').unwrap_or((l, ""));
            assert!(!why.trim().is_empty(), "allow-list entry without a reason: {l}");
            (pattern.trim().to_owned(), why.trim().to_owned())
        })
        .collect()
}

/// `*` matches any run of characters (slashes included), `?` one character.
fn glob(pattern: &str, text: &str) -> bool {
    let (p, t): (Vec<char>, Vec<char>) = (pattern.chars().collect(), text.chars().collect());
    let (mut pi, mut ti, mut star, mut mark) = (0, 0, None, 0);
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some(pi);
            mark = ti;
            pi += 1;
        } else if let Some(s) = star {
            pi = s + 1;
            mark += 1;
            ti = mark;
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|c| *c == '*')
}

#[test]
#[ignore = "needs the real Debian archive, mmdebstrap and root; run with `just e2e`"]
fn the_image_matches_what_apt_and_dpkg_install() {
    assert!(
        common::is_root(),
        "mmdebstrap's root mode and the comparison of owners need root"
    );
    let dir = work_dir("mmdebstrap");
    // mmdebstrap needs the Essential set for dpkg to run in the chroot; take the exact set it
    // installed (name=version) as debcast's package list, so both hold the same packages.
    let sources = std::fs::read_dir("/etc/apt/sources.list.d")
        .unwrap()
        .filter_map(Result::ok)
        .map(|e| e.path())
        .find(|p| {
            p.extension().is_some_and(|e| e == "sources")
                && std::fs::read_to_string(p).is_ok_and(|t| t.contains("bookworm"))
        })
        .or_else(|| Some(PathBuf::from("/etc/apt/sources.list")))
        .unwrap();
    let reference = dir.join("reference");
    std::fs::create_dir_all(&reference).unwrap();
    let tarball = dir.join("reference.tar");
    tool(
        "mmdebstrap",
        &[
            &"--quiet",
            &"--variant=essential",
            // merged /usr set up first, as debootstrap does and debcast's image is: without it
            // mmdebstrap configures the Essential set on a split /usr and usrmerge converts it
            // afterwards (update-shells then appends the /usr twins last in /etc/shells).
            &"--hook-dir=/usr/share/mmdebstrap/hooks/merged-usr",
            &format!("--include={}", SYSTEM_PACKAGES.join(",")),
            &"bookworm",
            &tarball,
            &sources,
        ],
    );
    tool("tar", &[&"-C", &reference, &"-xf", &tarball]);
    let installed = tool(
        "dpkg-query",
        &[
            &format!("--admindir={}", reference.join("var/lib/dpkg").display()),
            &"-W",
            &"-f",
            &"${Package}=${Version}\n",
        ],
    );
    let packages: Vec<String> = installed.lines().map(str::to_owned).collect();
    let (ours, _) = build_and_unpack(&dir, "mmcompare", &packages);

    let (a, b) = (walk(&ours), walk(&reference));
    let allow = allow_list();
    let mut used = vec![false; allow.len()];
    let mut unexplained = Vec::new();
    let paths: std::collections::BTreeSet<&String> = a.keys().chain(b.keys()).collect();
    for path in paths {
        let difference = match (a.get(path), b.get(path)) {
            (Some(x), Some(y)) if x == y => continue,
            (Some(x), Some(y)) => format!("differs: debcast {x:?}, dpkg {y:?}"),
            (Some(_), None) => "only in debcast's image".to_owned(),
            (None, Some(_)) => "only in mmdebstrap's".to_owned(),
            (None, None) => continue,
        };
        match allow.iter().position(|(p, _)| glob(p, path)) {
            Some(i) => used[i] = true,
            None => unexplained.push(format!("{path}: {difference}")),
        }
    }
    for (i, (pattern, _)) in allow.iter().enumerate() {
        if !used[i] {
            eprintln!("note: allow-list entry `{pattern}` matched nothing (remove it if it stays unused)");
        }
    }
    assert!(
        unexplained.is_empty(),
        "{} difference(s) from mmdebstrap not in tests/data/mmdebstrap-allowlist:\n{}",
        unexplained.len(),
        unexplained.join("\n")
    );
    // The comparison must have compared something substantial.
    assert!(a.len() > 5000, "only {} paths in debcast's image", a.len());
}

/// The `base` manifest's image (its committed lock): apt's postinst made `_apt` as adduser does on
/// bookworm, and pam-auth-update's common-* files let `su` run (the issue's acceptance).
#[test]
#[ignore = "needs the real Debian archive and root; run with `just e2e`"]
fn the_base_image_has_apts_user_and_a_working_pam_stack() {
    assert!(common::is_root(), "chroot needs root");
    let root = repo_root();
    let dir = work_dir("base-accounts");
    let store = root.join("vendor");
    Debcast::real_archive(&root)
        .args([
            "build",
            "manifests/base.toml",
            "--platform",
            "linux/amd64",
            "--output",
        ])
        .arg(dir.join("image"))
        .arg("--report")
        .arg(dir.join("report.json"))
        .arg("--cache-dir")
        .arg(&store)
        .ok();
    let bundle = dir.join("bundle");
    common::umoci_unpack(&dir.join("image"), "base:bookworm-linux-amd64", &bundle);
    let rootfs = bundle.join("rootfs");
    assert_eq!(
        in_chroot(&rootfs, "getent passwd _apt"),
        // base-passwd 3.6 has `_apt` as a static account (uid 42); apt's `adduser --system`
        // then leaves it alone, as on Debian.
        "_apt:x:42:65534::/nonexistent:/usr/sbin/nologin\n"
    );
    assert_eq!(
        in_chroot(&rootfs, "su -s /bin/sh -c true nobody && echo ok"),
        "ok\n"
    );
    assert_eq!(in_chroot(&rootfs, "su -s /bin/sh -c 'id -un' nobody"), "nobody\n");
    apt_update_runs_sandboxed(&rootfs);
    let report = std::fs::read_to_string(dir.join("report.json")).unwrap();
    for cmd in ["adduser", "pam-auth-update"] {
        assert!(!report.contains(cmd), "{cmd} is still reported: {report}");
    }
}

/// `apt-get update` inside the image against a signed archive this test serves on 127.0.0.1 (the
/// chroot shares the host's network): it must verify the archive with the key named by
/// `Signed-By`, fetch the lists, and download as `_apt`, which apt only does when `_apt` exists
/// and can write `/var/lib/apt/lists/partial` (else: "Download is performed unsandboxed as root").
fn apt_update_runs_sandboxed(rootfs: &Path) {
    let mut archive = crate::lock_support::Fixture::new(&["bookworm"]);
    archive.pkg("bookworm", "hello-loopback", "1.0-1", "amd64", &[]);
    let url = archive.serve();
    std::fs::create_dir_all(rootfs.join("etc/apt/keyrings")).unwrap();
    std::fs::write(
        rootfs.join("etc/apt/keyrings/loopback.gpg"),
        archive.key.public_binary().unwrap(),
    )
    .unwrap();
    let parts = rootfs.join("etc/apt/loopback.sources.d");
    std::fs::create_dir_all(&parts).unwrap();
    std::fs::write(
        parts.join("loopback.sources"),
        format!(
            "Types: deb\nURIs: {url}\nSuites: bookworm\nComponents: main\nSigned-By: /etc/apt/keyrings/loopback.gpg\n"
        ),
    )
    .unwrap();
    // An image has an empty /dev (the runtime provides it); apt needs /dev/null.
    if !rootfs.join("dev/null").exists() {
        std::fs::create_dir_all(rootfs.join("dev")).unwrap();
        tool("mknod", &[&rootfs.join("dev/null"), &"c", &"1", &"3"]);
        tool("chmod", &[&"666", &rootfs.join("dev/null")]);
    }
    // Only the loopback source (whatever else the image lists), no proxy from the host.
    let out = in_chroot(
        rootfs,
        "unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY; \
         apt-get -o Dir::Etc::SourceList=/dev/null -o Dir::Etc::SourceParts=/etc/apt/loopback.sources.d \
         -o Acquire::Retries=0 update 2>&1",
    );
    assert!(
        !out.contains("unsandboxed") && !out.contains("_apt"),
        "apt-get update warns about its sandbox user:\n{out}"
    );
    assert!(
        !out.contains("W:") && !out.contains("E:"),
        "apt-get update:\n{out}"
    );
    let lists: Vec<String> = std::fs::read_dir(rootfs.join("var/lib/apt/lists"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(
        lists
            .iter()
            .any(|n| n.starts_with("127.0.0.1") && n.ends_with("_InRelease"))
            && lists
                .iter()
                .any(|n| n.starts_with("127.0.0.1") && n.ends_with("binary-amd64_Packages")),
        "lists fetched: {lists:?}\n{out}"
    );
    let policy = in_chroot(
        rootfs,
        "apt-cache -o Dir::Etc::SourceList=/dev/null -o Dir::Etc::SourceParts=/etc/apt/loopback.sources.d \
         policy hello-loopback",
    );
    assert!(
        policy.contains("1.0-1"),
        "apt-cache policy hello-loopback:\n{policy}"
    );
}
