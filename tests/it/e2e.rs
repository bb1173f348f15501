//! End to end against the real Debian archive (mirrors from the host's apt sources, or
//! DEBCAST_MIRRORS). Not part of the default suite, since it needs the network: `just e2e` runs it.
//!
//! For each manifest in `manifests/`: the committed lock is fresh; the image builds; the OCI schemas,
//! skopeo and umoci accept it; every regular file of every locked package (as `dpkg-deb` lists it)
//! is in the unpacked root with its packaged size and mode; and a second build from an empty store,
//! in another directory with another TZ and umask, gives the same `index.json`.

use crate::common;

use std::collections::BTreeMap;
use std::io::Read;
use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::process::{Command, Stdio};

use common::{Debcast, WorkDir, repo_root, tool};
use debcast::lockfile::Lockfile;
use debcast::manifest::LoadedManifest;
use debcast::platform::Platform;

/// Files of a `.deb` as real dpkg sees them: path -> (size, mode), regular files only.
fn dpkg_regular_files(deb: &Path) -> BTreeMap<String, (u64, u32)> {
    let mut child = Command::new("dpkg-deb")
        .arg("--fsys-tarfile")
        .arg(deb)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("dpkg-deb: {e}"));
    let mut bytes = Vec::new();
    child.stdout.take().unwrap().read_to_end(&mut bytes).unwrap();
    assert!(
        child.wait().unwrap().success(),
        "dpkg-deb --fsys-tarfile {}",
        deb.display()
    );
    let mut files = BTreeMap::new();
    let mut archive = tar::Archive::new(&bytes[..]);
    for entry in archive.entries().unwrap() {
        let entry = entry.unwrap();
        if entry.header().entry_type() == tar::EntryType::Regular {
            let path = entry
                .path()
                .unwrap()
                .to_string_lossy()
                .trim_start_matches("./")
                .to_owned();
            files.insert(
                path,
                (
                    entry.header().size().unwrap(),
                    entry.header().mode().unwrap() & 0o7777,
                ),
            );
        }
    }
    files
}

/// Checks one manifest of the repository and returns its work directory (removed when the
/// calling test passes), where `bundle-ARCH/rootfs` is each platform's unpacked image.
fn check_manifest(name: &str) -> WorkDir {
    let root = repo_root();
    let manifest_path = root.join(format!("manifests/{name}.toml"));
    let loaded = LoadedManifest::load(&manifest_path).unwrap();
    let lock_path = loaded.default_lockfile_path();
    let lock =
        Lockfile::load_for(&lock_path, &loaded.manifest, &manifest_path).unwrap_or_else(|e| panic!("{e}"));
    let work = WorkDir::fresh("e2e", name);

    Debcast::real_archive(&root)
        .arg("lock")
        .arg(&manifest_path)
        .arg("--check")
        .lock_is_fresh();
    let out = work.join("image");
    let store = work.join("store");
    Debcast::real_archive(&root)
        .arg("build")
        .arg(&manifest_path)
        .arg("--output")
        .arg(&out)
        .arg("--cache-dir")
        .arg(&store)
        .ok();

    debcast_testkit::oci::check_layout(&out).unwrap_or_else(|e| panic!("{e}"));
    let reference = loaded.manifest.ref_name();
    tool(
        "skopeo",
        &[
            &"inspect",
            &"--raw",
            &format!("oci:{}:{reference}", out.display()),
        ],
    );

    for platform in &loaded.manifest.image.platforms {
        let bundle = work.join(format!("bundle-{}", platform.debian_arch()));
        let platform_ref = format!("{reference}-{}", platform.to_string().replace('/', "-"));
        common::umoci_unpack(&out, &platform_ref, &bundle);
        check_every_packaged_file(
            &lock,
            platform,
            &store,
            &bundle.join("rootfs"),
            loaded.manifest.usrmerge(),
        );
    }

    // Reproducible: another directory, an empty store, another time zone and umask.
    let again = work.join("again dir");
    std::fs::create_dir_all(&again).unwrap();
    Debcast::wrapped(&again, &["sh", "-c", "umask 077; exec \"$0\" \"$@\""])
        .env("DEBCAST_APT_ROOT", "/")
        .env("TZ", "Asia/Kolkata")
        .arg("build")
        .arg(&manifest_path)
        .args(["--output", "image", "--cache-dir", "store"])
        .ok();
    let first = std::fs::read(out.join("index.json")).unwrap();
    let second = std::fs::read(again.join("image/index.json")).unwrap();
    assert!(
        first == second,
        "{name}: index.json differs between two builds of the same lock"
    );
    work
}

fn check_every_packaged_file(
    lock: &Lockfile,
    platform: &Platform,
    store: &Path,
    rootfs: &Path,
    usrmerge: bool,
) {
    // path -> every (package, size, mode) that ships it.
    let mut shipped: BTreeMap<String, Vec<(String, u64, u32)>> = BTreeMap::new();
    for p in lock.packages_for(platform) {
        let deb = store.join("debs/sha256").join(format!("{}.deb", p.sha256.hex()));
        for (path, (size, mode)) in dpkg_regular_files(&deb) {
            let on_disk = if usrmerge {
                debcast::assemble::usrmerge::map_path(&path).into_owned()
            } else {
                path
            };
            shipped.entry(on_disk).or_default().push((p.label(), size, mode));
        }
    }
    assert!(!shipped.is_empty(), "{platform}: no files to check");
    for (path, owners) in &shipped {
        let meta = std::fs::symlink_metadata(rootfs.join(path))
            .unwrap_or_else(|e| panic!("{platform}: /{path} of {} is not in the image: {e}", owners[0].0));
        assert!(
            meta.is_file(),
            "{platform}: /{path} of {} is not a regular file",
            owners[0].0
        );
        // Shipped by several packages (Multi-Arch: same, or Replaces): it must be one of them.
        let matches = owners
            .iter()
            .any(|(_, size, mode)| meta.len() == *size && meta.mode() & 0o7777 == *mode);
        assert!(
            matches,
            "{platform}: /{path} is {} bytes, mode {:o}; packaged as {owners:?}",
            meta.len(),
            meta.mode() & 0o7777
        );
    }
}

#[test]
#[ignore = "needs the real Debian archive; run with `just e2e`"]
fn static_image_from_the_real_archive() {
    let work = check_manifest("static");
    // distroless-static: no libc and no shell in the lock or the image, every login shell of
    // /etc/passwd present, and a CA bundle of real certificates with its hash links.
    let root = repo_root();
    let manifest_path = root.join("manifests/static.toml");
    let loaded = LoadedManifest::load(&manifest_path).unwrap();
    let lock = Lockfile::load_for(&loaded.default_lockfile_path(), &loaded.manifest, &manifest_path).unwrap();
    for p in &lock.packages {
        assert!(
            !matches!(
                p.name.as_str(),
                "libc6" | "bash" | "dash" | "busybox" | "mawk" | "openssl" | "libssl3" | "debconf"
            ),
            "static.lock pins {}",
            p.label()
        );
    }
    for platform in &loaded.manifest.image.platforms {
        let rootfs = work
            .join(format!("bundle-{}", platform.debian_arch()))
            .join("rootfs");
        for shell in [
            "bin/sh",
            "bin/bash",
            "bin/dash",
            "usr/bin/sh",
            "usr/bin/bash",
            "usr/bin/dash",
        ] {
            assert!(
                rootfs.join(shell).symlink_metadata().is_err(),
                "{platform}: /{shell} exists"
            );
        }
        let libc = std::fs::read_dir(rootfs.join("usr/lib"))
            .unwrap()
            .filter_map(Result::ok)
            .any(|e| e.path().join("libc.so.6").exists());
        assert!(!libc, "{platform}: libc.so.6 is in the image");
        let passwd = std::fs::read_to_string(rootfs.join("etc/passwd")).unwrap();
        for line in passwd.lines() {
            let shell = line.rsplit(':').next().unwrap();
            let at = rootfs.join(shell.trim_start_matches('/'));
            // Merged /usr links are relative, so they resolve inside the unpacked root.
            let target = std::fs::canonicalize(&at).ok();
            assert!(
                target.is_some_and(|t| t.starts_with(&rootfs) && t.is_file()),
                "{platform}: login shell {shell} of `{line}` is not in the image"
            );
        }
        let bundle = std::fs::read_to_string(rootfs.join("etc/ssl/certs/ca-certificates.crt")).unwrap();
        let certs = bundle.matches("-----BEGIN CERTIFICATE-----").count();
        assert!(
            certs > 100,
            "{platform}: the CA bundle holds {certs} certificates"
        );
        let hash_links = std::fs::read_dir(rootfs.join("etc/ssl/certs"))
            .unwrap()
            .filter_map(Result::ok)
            .filter(|e| e.file_name().to_string_lossy().ends_with(".0"))
            .count();
        assert!(
            hash_links > 100,
            "{platform}: {hash_links} hash links in /etc/ssl/certs"
        );
    }
}

#[test]
#[ignore = "needs the real Debian archive; run with `just e2e`"]
fn base_image_from_the_real_archive() {
    check_manifest("base");
}
