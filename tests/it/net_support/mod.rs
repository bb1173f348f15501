//! Helpers shared by the `net_*` tests (not a test target of its own): a signed synthetic archive
//! of real `.deb` files, the fault mix, tiny network knobs for the CLI, and judges for the store
//! and for image layouts.

use std::collections::{BTreeMap, BTreeSet};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::time::Duration;

use debcast::hash::Sha256Digest;
use debcast::lockfile::Lockfile;
use debcast_testkit::archive::{ArchiveBuilder, TestKey};
use debcast_testkit::deb::DebBuilder;
use debcast_testkit::server::{Fault, FaultPlan, Server};

/// The archive's logical name in the manifests.
pub const ARCHIVE: &str = "synthetic";
/// The Release date the testkit writes, as `{release_date}` expands it.
pub const RELEASE_STAMP: &str = "20240601T120000Z";

/// Network knobs small enough that a third of all answers failing costs milliseconds: a stall is
/// given up on after 300 ms, retries wait 5 ms and up, a `Retry-After` at most 100 ms.
pub const FAST: &[&str] = &[
    "--retries",
    "10",
    "--connect-timeout",
    "1s",
    "--stall-timeout",
    "300ms",
    "--deadline",
    "20s",
    "--retry-backoff",
    "5ms",
    "--max-retry-after",
    "100ms",
    "--jobs",
    "4",
];

/// A third of all answers faulted, reproducibly for `seed`.
pub fn third_faulted(seed: u64) -> FaultPlan {
    FaultPlan::random(seed, 1.0 / 3.0, Fault::transient())
}

/// Serves `root` on 127.0.0.1 with `plan`; stalls end when the client gives up (or after 2 s).
pub fn serve(root: &Path, plan: FaultPlan) -> Server {
    Server::dir(root)
        .faults(plan)
        .max_stall(Duration::from_secs(2))
        .start()
        .expect("start the test server")
}

/// A URL on which nothing listens (a port taken and released): every connection is refused.
pub fn dead_mirror() -> String {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = l.local_addr().expect("addr").port();
    drop(l);
    format!("http://127.0.0.1:{port}/")
}

/// `debcast VERB` (`lock`, `fetch`) of `dir/image.toml` with `--cache-dir STORE`, the given
/// mirror arguments and fast timeouts; it must succeed.
pub fn run_ok(dir: &Path, verb: &str, store: &str, mirrors: &[String]) -> crate::common::Run {
    crate::common::Debcast::new(dir)
        .args([verb, "image.toml", "--cache-dir", store])
        .args(mirrors)
        .args(FAST)
        .ok()
}

/// `debcast lock` then `debcast fetch` of `dir/image.toml` into `dir/store`, with fast timeouts.
pub fn lock_and_fetch(dir: &Path, mirrors: &[String]) {
    for verb in ["lock", "fetch"] {
        run_ok(dir, verb, "store", mirrors);
    }
}

/// `--mirror synthetic=URL` for each URL, in order.
pub fn mirror_args(urls: &[&str]) -> Vec<String> {
    urls.iter()
        .flat_map(|u| ["--mirror".to_owned(), format!("{ARCHIVE}={u}")])
        .collect()
}

/// Deterministic bytes that do not compress, so the big package really is big on the wire.
fn noise(seed: u64, len: usize) -> Vec<u8> {
    let mut x = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}

/// The packages of the synthetic archive: `tool` (per architecture, depending on `libdemo`),
/// `libdemo` (per architecture), `bigdata` (all, ~400 KiB that do not compress) and `extra`
/// (all, not asked for: in the archive, never locked).
fn debs() -> Vec<DebBuilder> {
    let mut v = Vec::new();
    for arch in ["amd64", "arm64"] {
        v.push(
            DebBuilder::new("tool", "1.0-1", arch)
                .depends("libdemo (>= 2.0)")
                .control_field("Priority", "optional")
                .file("./usr/bin/tool", format!("#!/bin/sh\necho tool {arch}\n"), 0o755)
                .symlink("./usr/bin/t", "tool"),
        );
        v.push(
            DebBuilder::new("libdemo", "2.1-3", arch)
                .control_field("Priority", "optional")
                .file(
                    &format!("./usr/lib/{arch}-linux-gnu/libdemo.so.2"),
                    noise(arch.len() as u64, 40_000),
                    0o644,
                ),
        );
    }
    v.push(
        DebBuilder::new("bigdata", "1:5.0", "all")
            .control_field("Priority", "optional")
            .file("./usr/share/bigdata/blob", noise(99, 400_000), 0o644),
    );
    v.push(DebBuilder::new("extra", "1", "all").file("./usr/share/extra/x", "x\n", 0o644));
    v
}

/// A signed synthetic archive on disk, and a manifest over it.
pub struct Fixture {
    pub dir: tempfile::TempDir,
}

impl Fixture {
    /// Writes the archive under `archive/` and the keyring as `keyring.gpg`.
    pub fn new() -> Self {
        let dir = tempfile::Builder::new()
            .prefix("debcast-net-")
            .tempdir()
            .expect("tempdir");
        let key = TestKey::new("debcast-net-tests").expect("key");
        let mut b = ArchiveBuilder::new("stable");
        b.architectures = vec!["amd64".into(), "arm64".into()];
        for deb in debs() {
            let bytes = deb.build();
            let name = deb.name();
            let version = deb.version();
            let upstream = version.split_once(':').map_or(version, |(_, v)| v);
            let pool = format!(
                "pool/main/{}/{name}/{name}_{upstream}_{}.deb",
                &name[..1],
                deb.arch()
            );
            let control = deb.control_text();
            let fields: Vec<(&str, &str)> = control.lines().filter_map(|l| l.split_once(": ")).collect();
            b.package("main", deb.arch(), &pool, &bytes, &fields);
        }
        b.write(&dir.path().join("archive"), &[&key])
            .expect("write archive");
        std::fs::write(
            dir.path().join("keyring.gpg"),
            key.public_binary().expect("public key"),
        )
        .expect("keyring");
        Fixture { dir }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// The archive root (what a mirror serves).
    pub fn archive(&self) -> PathBuf {
        self.path().join("archive")
    }

    /// A project directory `name/` with `image.toml` (and a copy of the keyring); returns it.
    pub fn project(&self, name: &str) -> PathBuf {
        let p = self.path().join(name);
        std::fs::create_dir_all(&p).expect("mkdir");
        std::fs::copy(self.path().join("keyring.gpg"), p.join("keyring.gpg")).expect("keyring");
        std::fs::write(p.join("image.toml"), MANIFEST).expect("manifest");
        p
    }
}

impl Default for Fixture {
    fn default() -> Self {
        Self::new()
    }
}

pub const MANIFEST: &str = r#"[image]
name = "net"
tag = "test"
platforms = ["linux/amd64", "linux/arm64"]

[[source]]
archive = "synthetic"
suites = ["stable"]
components = ["main"]
keyring = "keyring.gpg"

[packages]
include = ["tool", "bigdata"]

[config]
cmd = ["/usr/bin/tool"]
"#;

/// Every regular file under `root`, by path relative to it, with its bytes (a whole layout, so
/// two builds can be compared byte for byte).
pub fn tree(root: &Path) -> BTreeMap<String, Vec<u8>> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<String, Vec<u8>>) {
        let mut entries: Vec<_> = std::fs::read_dir(dir)
            .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
            .map(|e| e.expect("dir entry").path())
            .collect();
        entries.sort();
        for p in entries {
            if p.is_dir() {
                walk(root, &p, out);
            } else {
                let rel = p.strip_prefix(root).expect("below root");
                out.insert(
                    rel.to_string_lossy().into_owned(),
                    std::fs::read(&p).expect("read"),
                );
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(root, root, &mut out);
    out
}

/// Requires two layouts to hold the same files with the same bytes; names the first difference.
pub fn assert_same_tree(a: &Path, b: &Path) {
    let (ta, tb) = (tree(a), tree(b));
    let names_a: BTreeSet<_> = ta.keys().collect();
    let names_b: BTreeSet<_> = tb.keys().collect();
    assert_eq!(
        names_a,
        names_b,
        "{} and {} differ in files",
        a.display(),
        b.display()
    );
    for (name, bytes) in &ta {
        assert!(
            bytes == &tb[name],
            "{name} differs between {} and {}",
            a.display(),
            b.display()
        );
    }
    assert!(!ta.is_empty(), "{} is empty", a.display());
}

/// The SHA-256s the lockfile pins.
pub fn locked_hashes(lock: &Path) -> BTreeSet<String> {
    let text = std::fs::read_to_string(lock).expect("read lock");
    let lock = Lockfile::parse(&text, lock).expect("parse lock");
    lock.packages.iter().map(|p| p.sha256.to_string()).collect()
}

/// Requires the store to be whole and honest: every file under `debs/sha256` and
/// `indices/sha256` hashes to its name, `tmp/` is empty, and the `.deb`s are exactly `want`.
pub fn assert_store_holds(store: &Path, want: &BTreeSet<String>) {
    let mut debs = BTreeSet::new();
    for (sub, suffix) in [("debs/sha256", ".deb"), ("indices/sha256", "")] {
        let dir = store.join(sub);
        let Ok(entries) = std::fs::read_dir(&dir) else {
            assert!(sub != "debs/sha256", "{} is missing", dir.display());
            continue;
        };
        for e in entries {
            let p = e.expect("entry").path();
            let name = p.file_name().expect("name").to_string_lossy().into_owned();
            let hex = name
                .strip_suffix(suffix)
                .unwrap_or_else(|| panic!("{name}: no {suffix}"));
            let actual = Sha256Digest::of(&std::fs::read(&p).expect("read")).to_string();
            assert_eq!(hex, actual, "{} does not hash to its name", p.display());
            if sub == "debs/sha256" {
                debs.insert(actual);
            }
        }
    }
    assert_eq!(&debs, want, "the store's .debs are not exactly the locked ones");
    let tmp: Vec<_> = std::fs::read_dir(store.join("tmp"))
        .expect("tmp/")
        .map(|e| e.expect("entry").path())
        .collect();
    assert!(tmp.is_empty(), "leftovers in tmp/: {tmp:?}");
}

/// Requires output meant for a log to be plain and readable: no escape sequences, no headline
/// (an unindented line) printed twice, and no detail line repeated under one headline.
pub fn assert_plain_lines(text: &str) {
    assert!(!text.contains('\u{1b}'), "ANSI escape codes off a TTY:\n{text}");
    let mut headlines = BTreeSet::new();
    let mut details = BTreeSet::new();
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        if line.starts_with(' ') {
            assert!(details.insert(line), "detail line repeated: {line:?}\n{text}");
        } else {
            assert!(headlines.insert(line), "line printed twice: {line:?}\n{text}");
            details.clear();
        }
    }
}

/// The indented lines under the headline starting with `head`.
pub fn block<'a>(text: &'a str, head: &str) -> Vec<&'a str> {
    text.lines()
        .skip_while(|l| !l.starts_with(head))
        .skip(1)
        .take_while(|l| l.starts_with(' '))
        .collect()
}
