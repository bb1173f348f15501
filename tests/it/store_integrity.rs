//! The store and the outputs stay intact and tidy: an output shares no inode with the layer
//! cache, a damaged store entry is noticed (named by path, downloaded again, found by `store
//! verify`), `store gc` keeps what a lock needs, and an interrupted or killed run leaves nothing
//! behind that the next run does not reclaim.

use crate::common;

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::Debcast;
use common::image::Project;
use debcast::hash::Sha256Digest;
use debcast_testkit::deb::{Compression, DebBuilder};

fn project() -> Project {
    let mut p = Project::new(&["linux/amd64"]);
    p.add(
        Some("linux/amd64"),
        DebBuilder::new("tool", "1.0-1", "amd64").file("./usr/bin/tool", "#!/bin/sh\necho tool\n", 0o755),
    );
    p.add(
        None,
        DebBuilder::new("data", "1", "all").file("./usr/share/data/hello", "hello\n", 0o644),
    );
    p
}

fn files_in(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|d| d.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    v.sort();
    v
}

fn names_in(dir: &Path) -> Vec<String> {
    files_in(dir)
        .iter()
        .filter_map(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
        .collect()
}

fn build(p: &Project, manifest: &Path, mirror: &str, output: &str) -> common::Run {
    Debcast::new(p.path())
        .arg("build")
        .arg(manifest)
        .args(["--output", output, "--cache-dir", "store", "--mirror"])
        .arg(format!("synthetic={mirror}"))
        .ok()
}

fn sha256_file(path: &Path) -> String {
    Sha256Digest::of(&std::fs::read(path).expect("read")).hex()
}

#[test]
fn outputs_share_no_inode_with_the_layer_cache() {
    let mut p = project();
    let manifest = p.write();
    let server = p.serve();
    build(&p, &manifest, &server.url(), "out/a");
    // A no-op rebuild takes every layer from the cache.
    build(&p, &manifest, &server.url(), "out/b");
    let cache_dir = p.path().join("store/layers/blobs/sha256");
    let cached = names_in(&cache_dir);
    assert!(!cached.is_empty(), "no layer cached");
    for out in ["out/a", "out/b"] {
        let blobs = p.path().join(out).join("blobs/sha256");
        for name in &cached {
            let (o, c) = (blobs.join(name), cache_dir.join(name));
            let (om, cm) = (
                std::fs::metadata(&o).expect("output blob"),
                std::fs::metadata(&c).expect("cache blob"),
            );
            assert_ne!(
                om.ino(),
                cm.ino(),
                "{} shares its inode with {}",
                o.display(),
                c.display()
            );
            assert_eq!(
                (om.nlink(), cm.nlink()),
                (1, 1),
                "{} or {} is hard-linked",
                o.display(),
                c.display()
            );
        }
    }
    // A flipped byte in the cache leaves the outputs as they were…
    let victim = cache_dir.join(&cached[0]);
    let mut bytes = std::fs::read(&victim).expect("read");
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0xff;
    std::fs::write(&victim, &bytes).expect("damage");
    for out in ["out/a", "out/b"] {
        let blob = p.path().join(out).join("blobs/sha256").join(&cached[0]);
        assert_eq!(sha256_file(&blob), cached[0], "{}", blob.display());
    }
    // …and a chmod of an output leaves the cache as it was.
    let other = cache_dir.join(&cached[cached.len() - 1]);
    let mode = std::fs::metadata(&other).expect("meta").permissions().mode();
    let out_blob = p
        .path()
        .join("out/a/blobs/sha256")
        .join(&cached[cached.len() - 1]);
    std::fs::set_permissions(&out_blob, std::fs::Permissions::from_mode(0o600)).expect("chmod");
    assert_eq!(
        std::fs::metadata(&other).expect("meta").permissions().mode(),
        mode
    );
    // The damaged cache blob is caught on the next build and rebuilt; the image is the same.
    build(&p, &manifest, &server.url(), "out/c");
    let index = |o: &str| std::fs::read(p.path().join(o).join("index.json")).expect("index");
    assert_eq!(index("out/a"), index("out/c"));
}

fn deb_path(p: &Project, name: &str) -> PathBuf {
    let (_, bytes) = p
        .pool
        .iter()
        .find(|(path, _)| path.starts_with(&format!("pool/main/{name}/")))
        .expect("package in pool");
    p.path()
        .join("store/debs/sha256")
        .join(format!("{}.deb", Sha256Digest::of(bytes).hex()))
}

fn damage(path: &Path) {
    let mut bytes = std::fs::read(path).expect("read");
    let last = bytes.len() - 1;
    bytes[last] ^= 0x01;
    std::fs::write(path, &bytes).expect("write");
}

#[test]
fn a_damaged_deb_is_named_by_path_and_downloaded_again() {
    let mut p = project();
    let manifest = p.write();
    let server = p.serve();
    build(&p, &manifest, &server.url(), "out/a");
    let deb = deb_path(&p, "tool");
    let name = deb.file_name().expect("name").to_string_lossy().into_owned();
    damage(&deb);

    let run = Debcast::new(p.path())
        .arg("build")
        .arg(&manifest)
        .args([
            "--output",
            "out/b",
            "--cache-dir",
            "store",
            "--offline",
            "--no-layer-cache",
        ])
        .fails();
    run.stderr_has(&[
        "tool=1.0-1",
        &format!("store/debs/sha256/{name}"),
        "debcast fetch",
    ]);
    assert!(!p.path().join("out/b").exists());

    let requests = server.counters().requests;
    let run = Debcast::new(p.path())
        .arg("fetch")
        .arg(&manifest)
        .args(["--cache-dir", "store", "--mirror"])
        .arg(format!("synthetic={}", server.url()))
        .ok();
    run.stderr_has(&[&format!("store/debs/sha256/{name}"), "downloading it again"]);
    assert_eq!(
        server.counters().requests,
        requests + 1,
        "only the damaged file is downloaded"
    );
    assert_eq!(format!("{}.deb", sha256_file(&deb)), name);
    // Verified and stamped: the next fetch downloads nothing.
    Debcast::new(p.path())
        .arg("fetch")
        .arg(&manifest)
        .args(["--cache-dir", "store", "--mirror"])
        .arg(format!("synthetic={}", server.url()))
        .ok();
    assert_eq!(server.counters().requests, requests + 1);
}

#[test]
fn store_verify_finds_damage_and_gc_keeps_what_the_lock_needs() {
    let mut p = project();
    let manifest = p.write();
    let server = p.serve();
    build(&p, &manifest, &server.url(), "out/a");
    let verify = |repair: bool| {
        let d = Debcast::new(p.path()).args(["store", "verify", "--cache-dir", "store"]);
        if repair { d.arg("--repair") } else { d }
    };
    verify(false).ok();

    let deb = deb_path(&p, "data");
    damage(&deb);
    let blob = files_in(&p.path().join("store/layers/blobs/sha256"))[0].clone();
    damage(&blob);
    let run = verify(false).fails();
    assert_eq!(run.code, Some(1), "{run}");
    run.stderr_has(&[
        &format!(
            "damaged: {}",
            Path::new("store")
                .join(deb.strip_prefix(p.path().join("store")).expect("in store"))
                .display()
        ),
        &blob.file_name().expect("name").to_string_lossy(),
        "--repair",
    ]);
    verify(true).ok().stderr_has(&["removed 2 damaged entries"]);
    assert!(!deb.exists() && !blob.exists());
    verify(false).ok();

    // gc: a stray .deb no lock names goes, with its unpack record; the locked ones stay.
    build(&p, &manifest, &server.url(), "out/b");
    let stray_bytes = b"not in any lock";
    let stray_hex = Sha256Digest::of(stray_bytes).hex();
    let debs = p.path().join("store/debs/sha256");
    std::fs::write(debs.join(format!("{stray_hex}.deb")), stray_bytes).expect("stray");
    let before: Vec<String> = names_in(&debs);
    let layers_before = names_in(&p.path().join("store/layers/blobs/sha256"));
    Debcast::new(p.path())
        .args(["store", "gc", "--cache-dir", "store"])
        .arg(&manifest)
        .ok()
        .stderr_has(&["removed 1 store entry"]);
    let after = names_in(&debs);
    assert_eq!(
        after,
        before
            .into_iter()
            .filter(|n| !n.starts_with(&stray_hex))
            .collect::<Vec<_>>()
    );
    assert_eq!(
        names_in(&p.path().join("store/layers/blobs/sha256")),
        layers_before
    );
    // Everything the lock needs is still there: an offline build works.
    Debcast::new(p.path())
        .arg("build")
        .arg(&manifest)
        .args(["--output", "out/c", "--cache-dir", "store", "--offline"])
        .ok();
}

/// Deterministic bytes that do not compress.
fn noise(len: usize) -> Vec<u8> {
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

fn big_project() -> Project {
    let mut p = Project::new(&["linux/amd64"]);
    p.add(
        None,
        DebBuilder::new("big", "1", "all")
            .file("./usr/share/big/a", noise(8 << 20), 0o644)
            .file("./usr/share/big/b", noise(8 << 20), 0o644)
            .data_compression(Compression::None),
    );
    p
}

/// Sends signal `name` (INT or TERM) to `child`. kill(2) directly: `/bin/kill` comes from
/// procps, which a minimal Debian (a container, an mmdebstrap root) does not have.
fn signal(child: &Child, name: &str) {
    let sig = match name {
        "INT" => libc::SIGINT,
        "TERM" => libc::SIGTERM,
        other => panic!("signal {other}: not one the tests send"),
    };
    let pid = libc::pid_t::try_from(child.id()).expect("pid");
    // SAFETY: kill(2) takes plain integers; the child is ours and not yet reaped.
    let sent = unsafe { libc::kill(pid, sig) };
    assert_eq!(sent, 0, "kill -{name} {pid}: {}", std::io::Error::last_os_error());
}

/// Waits (up to a minute) until `found` says yes; false if the process ended first.
fn wait_for(child: &mut Child, mut found: impl FnMut() -> bool) -> bool {
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(60) {
        if found() {
            return true;
        }
        if child.try_wait().expect("wait").is_some() {
            return false;
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    false
}

fn spawn(p: &Project, args: &[&str]) -> Child {
    Command::new(env!("CARGO_BIN_EXE_debcast"))
        .current_dir(p.path())
        .args(args)
        .env_remove("DEBCAST_MIRRORS")
        .env_remove("DEBCAST_CACHE_DIR")
        .env_remove("SOURCE_DATE_EPOCH")
        .env("DEBCAST_APT_ROOT", p.path().join("no-apt-sources"))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn debcast")
}

fn finish(child: Child) -> (Option<i32>, String) {
    let out = child.wait_with_output().expect("wait");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn temps_beside(dir: &Path, output: &str) -> Vec<String> {
    names_in(dir)
        .into_iter()
        .filter(|n| n.starts_with(&format!(".{output}.")))
        .collect()
}

#[test]
fn an_interrupted_fetch_leaves_no_incoming_file() {
    let mut p = big_project();
    let manifest = p.write();
    let server = debcast_testkit::server::Server::map(p.pool.clone())
        .bandwidth(2 << 20)
        .start()
        .expect("server");
    let mirror = format!("synthetic={}", server.url());
    let mut child = spawn(
        &p,
        &[
            "fetch",
            &manifest.to_string_lossy(),
            "--cache-dir",
            "store",
            "--mirror",
            &mirror,
        ],
    );
    let tmp = p.path().join("store/tmp");
    // The big package's download (not the Release or index the lock proof fetches first, which
    // are complete and renamed in a moment).
    let caught = wait_for(&mut child, || {
        files_in(&tmp)
            .iter()
            .any(|f| std::fs::metadata(f).is_ok_and(|m| m.len() > (1 << 20)))
    });
    assert!(caught, "the fetch ended before a download was under way");
    signal(&child, "INT");
    let (code, stderr) = finish(child);
    assert_eq!(code, Some(130), "{stderr}");
    assert!(
        stderr
            .trim_end()
            .ends_with("interrupted: removed 1 temporary file"),
        "{stderr}"
    );
    assert_eq!(names_in(&tmp), Vec::<String>::new());
}

#[test]
fn an_interrupted_build_leaves_nothing_beside_its_output_and_leftovers_are_reclaimed() {
    let mut p = big_project();
    let manifest = p.write();
    let server = p.serve();
    let mirror = format!("synthetic={}", server.url());
    let manifest = manifest.to_string_lossy().into_owned();
    Debcast::new(p.path())
        .args(["fetch", &manifest, "--cache-dir", "store", "--mirror", &mirror])
        .ok();
    let out_dir = p.path().join("out");
    std::fs::create_dir_all(&out_dir).expect("out");
    let blob_dir = p.path().join("store/layers/blobs/sha256");
    for (sig, code) in [("INT", 130), ("TERM", 143)] {
        let mut child = spawn(
            &p,
            &[
                "build",
                &manifest,
                "--output",
                "out/image",
                "--cache-dir",
                "store",
                "--no-layer-cache",
            ],
        );
        let caught = wait_for(&mut child, || {
            files_in(
                &out_dir
                    .join(temps_beside(&out_dir, "image").first().map_or("-", |s| s))
                    .join("blobs/sha256"),
            )
            .iter()
            .any(|f| std::fs::metadata(f).is_ok_and(|m| m.len() > 0))
        });
        assert!(caught, "the build ended before it wrote a layer");
        signal(&child, sig);
        let (exit, stderr) = finish(child);
        assert_eq!(exit, Some(code), "{stderr}");
        let last = stderr.trim_end().lines().last().unwrap_or_default().to_owned();
        assert!(last.starts_with("interrupted: removed "), "{stderr}");
        assert_eq!(temps_beside(&out_dir, "image"), Vec::<String>::new(), "{stderr}");
        assert!(!out_dir.join("image").exists());
    }
    // Same with the layer cache: its half-written layer goes too.
    let mut child = spawn(
        &p,
        &[
            "build",
            &manifest,
            "--output",
            "out/image",
            "--cache-dir",
            "store",
        ],
    );
    let caught = wait_for(&mut child, || {
        names_in(&blob_dir).iter().any(|n| n.starts_with(".layer-"))
    });
    assert!(caught, "the build ended before it wrote a layer");
    signal(&child, "TERM");
    let (exit, stderr) = finish(child);
    assert_eq!(exit, Some(143), "{stderr}");
    assert!(
        names_in(&blob_dir).iter().all(|n| !n.starts_with('.')),
        "{:?}",
        names_in(&blob_dir)
    );
    assert_eq!(temps_beside(&out_dir, "image"), Vec::<String>::new());

    // Leftovers of a killed process (SIGKILL: no handler runs) are reclaimed by the next run;
    // those of a live process are not.
    let mut gone = Command::new("true").spawn().expect("true");
    let dead_pid = gone.id();
    gone.wait().expect("wait");
    let mut live = Command::new("sleep").arg("120").spawn().expect("sleep");
    let dead = out_dir.join(format!(".image.tmp-{dead_pid}-abcdef"));
    let owned = out_dir.join(format!(".image.tmp-{}-ghijkl", live.id()));
    for d in [&dead, &owned] {
        std::fs::create_dir_all(d.join("blobs/sha256")).expect("leftover");
        std::fs::write(d.join("blobs/sha256/partial"), b"partial").expect("leftover");
    }
    let dead_incoming = p.path().join(format!("store/tmp/incoming-{dead_pid}-xyz"));
    std::fs::write(&dead_incoming, b"").expect("leftover");
    let dead_layer = blob_dir.join(format!(".layer-{dead_pid}-xyz"));
    std::fs::write(&dead_layer, b"partial").expect("leftover");
    Debcast::new(p.path())
        .args([
            "build",
            &manifest,
            "--output",
            "out/image",
            "--cache-dir",
            "store",
            "--mirror",
            &mirror,
        ])
        .ok();
    assert!(!dead.exists() && !dead_incoming.exists() && !dead_layer.exists());
    assert!(owned.exists(), "a live process's temporary directory was removed");
    assert!(p.path().join("out/image/index.json").is_file());
    live.kill().expect("kill sleep");
    live.wait().expect("wait sleep");
}
