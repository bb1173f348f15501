//! The same lockfile gives the same image, byte for byte: another directory, another store, another
//! time zone, umask, locale and user, another thread count.

use crate::common;

use std::collections::BTreeMap;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use common::Debcast;
use common::image::Project;
use debcast_testkit::deb::{Compression, DebBuilder};

fn project() -> Project {
    let mut p = Project::new(&["linux/amd64", "linux/arm64"]);
    for arch in ["amd64", "arm64"] {
        p.add(
            Some(&format!("linux/{arch}")),
            DebBuilder::new("app", "1.2-3", arch)
                .file("./usr/bin/app", format!("app for {arch}"), 0o755)
                .file("./etc/app/app.conf", "x=1\n", 0o640)
                .symlink("./usr/bin/app-link", "app")
                .data_compression(Compression::Xz),
        );
    }
    p.add(
        None,
        DebBuilder::new("docs", "1", "all").file("./usr/share/doc/docs/README", "read me\n", 0o644),
    );
    p
}

/// Every file of the layout, by relative path.
fn snapshot(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_owned()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let e = e.unwrap();
            let path = e.path();
            if e.file_type().unwrap().is_dir() {
                stack.push(path);
            } else {
                let rel = path.strip_prefix(dir).unwrap().to_string_lossy().into_owned();
                out.insert(rel, std::fs::read(&path).unwrap());
            }
        }
    }
    out
}

#[test]
fn two_builds_in_different_environments_are_byte_identical() {
    let mut a = project();
    let manifest = a.write();
    let server = a.serve();
    let mirror = format!("synthetic={}", server.url());

    Debcast::new(a.path())
        .args([
            "build",
            "image.toml",
            "--output",
            "out",
            "--cache-dir",
            "store",
            "--mirror",
            &mirror,
        ])
        .env("TZ", "UTC")
        .env("LC_ALL", "C")
        .env("RAYON_NUM_THREADS", "1")
        .ok();

    // A second checkout somewhere else, with its own (empty) store and a hostile environment.
    let b = common::tempdir();
    let b_dir = b.path().join("elsewhere with spaces");
    std::fs::create_dir(&b_dir).unwrap();
    for f in ["image.toml", "image.lock", "keyring.gpg"] {
        std::fs::copy(manifest.parent().unwrap().join(f), b_dir.join(f)).unwrap();
    }
    let as_other_user = common::is_root() && Path::new("/usr/bin/setpriv").exists();
    let mut prefix: Vec<&str> = Vec::new();
    let mut bin = std::path::PathBuf::from(env!("CARGO_BIN_EXE_debcast"));
    if as_other_user {
        // nobody must be able to reach and write the directory.
        for d in [b.path(), b_dir.as_path()] {
            std::fs::set_permissions(d, std::fs::Permissions::from_mode(0o777)).unwrap();
        }
        // ... and to run the binary, whose own directory it may not reach (a checkout under
        // root's 0700 home): a copy of it beside the checkout.
        let reachable = b.path().join("debcast");
        std::fs::copy(&bin, &reachable).unwrap();
        std::fs::set_permissions(&reachable, std::fs::Permissions::from_mode(0o755)).unwrap();
        bin = reachable;
        prefix.extend(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]);
    } else {
        eprintln!("note: not root (or no setpriv): the second build runs as the same user");
    }
    prefix.extend(["sh", "-c", "umask 077; exec \"$0\" \"$@\""]);
    Debcast::wrapped_bin(&b_dir, &prefix, &bin)
        .args([
            "build",
            "image.toml",
            "--output",
            "out",
            "--cache-dir",
            "store",
            "--mirror",
            &mirror,
        ])
        .env("TZ", "Pacific/Chatham")
        .env("LC_ALL", "C.UTF-8")
        .env("HOME", "/nonexistent")
        .env("RAYON_NUM_THREADS", "7")
        .ok();

    let first = snapshot(&a.path().join("out"));
    let second = snapshot(&b_dir.join("out"));
    assert!(first.contains_key("index.json"));
    assert_eq!(
        first.keys().collect::<Vec<_>>(),
        second.keys().collect::<Vec<_>>(),
        "the two layouts hold different files"
    );
    for (path, bytes) in &first {
        assert!(&second[path] == bytes, "{path} differs between the two builds");
    }
}

#[test]
fn source_date_epoch_overrides_the_lock_date() {
    let mut p = project();
    p.write();
    let server = p.serve();
    let mirror = format!("synthetic={}", server.url());
    for (out, epoch) in [("one", "1000000000"), ("two", "1000000001")] {
        Debcast::new(p.path())
            .args([
                "build",
                "image.toml",
                "--output",
                out,
                "--cache-dir",
                "store",
                "--mirror",
                &mirror,
            ])
            .env("SOURCE_DATE_EPOCH", epoch)
            .ok();
    }
    let one = std::fs::read(p.path().join("one/index.json")).unwrap();
    let two = std::fs::read(p.path().join("two/index.json")).unwrap();
    assert_ne!(
        one, two,
        "a different SOURCE_DATE_EPOCH must give a different image"
    );
}
