//! Filling the store: what is present is skipped, two threads and two processes filling one store
//! both succeed, and the offline check lists everything missing without a network.

use crate::fetch_common;

use std::collections::BTreeSet;
use std::path::Path;
use std::sync::{Arc, Mutex};

use debcast::fetch::{
    AttemptError, FetchOptions, Mirrors, NoProgress, Progress, Transport, check_offline, fetch_packages,
    missing_packages,
};
use debcast::lockfile::LockedPackage;
use debcast::store::Store;
use debcast_testkit::server::{Fault, FaultPlan, Server};
use fetch_common::{fast_config, locked, pool, refused_url};

fn transport(urls: &[String]) -> Transport {
    let items: Vec<String> = urls.iter().map(|u| format!("debian={u}")).collect();
    Transport::new(
        Mirrors::from_parts(&items, None, None).expect("mirrors"),
        fast_config(),
    )
}

fn flaky() -> FaultPlan {
    FaultPlan::random(
        11,
        0.3,
        vec![
            Fault::Truncate,
            Fault::ResetMidBody,
            Fault::Status(503),
            Fault::Corrupt,
        ],
    )
}

/// The store holds exactly the locked files, and nothing is left in `tmp/`.
fn assert_store_holds(root: &Path, lock: &[LockedPackage]) {
    let want: BTreeSet<String> = lock.iter().map(|p| format!("{}.deb", p.sha256.hex())).collect();
    let have: BTreeSet<String> = std::fs::read_dir(root.join("debs/sha256"))
        .expect("debs dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(have, want);
    let store = Store::at(root);
    for p in lock {
        let e = debcast::fetch::Expected {
            size: p.size,
            sha256: p.sha256,
        };
        store
            .read_verified(debcast::store::Kind::Deb, &e, &p.name)
            .expect("verified entry");
    }
    assert_eq!(std::fs::read_dir(root.join("tmp")).expect("tmp").count(), 0);
}

#[derive(Default)]
struct Recorder {
    lines: Mutex<Vec<String>>,
}

impl Progress for Recorder {
    fn batch(&self, files: usize, _bytes: u64, present: usize) {
        self.push(format!("batch {files} {present}"));
    }
    fn retrying(&self, what: &str, _m: &str, _e: &AttemptError, _d: std::time::Duration) {
        self.push(format!("retry {what}"));
    }
    fn summary(&self, r: &debcast::fetch::FetchReport) {
        self.push(r.summary());
    }
}

impl Recorder {
    fn push(&self, s: String) {
        if let Ok(mut l) = self.lines.lock() {
            l.push(s);
        }
    }
}

#[test]
fn fills_the_store_then_skips_what_it_has() {
    let files = pool(6);
    let mut lock = locked("debian", &files);
    // The same file locked for a second platform is downloaded once.
    let mut twin = lock[0].clone();
    twin.platform = "linux/arm64".parse().expect("platform");
    lock.push(twin);
    let server = Server::map(files.clone())
        .faults(flaky())
        .start()
        .expect("server");
    let dir = tempfile::tempdir().expect("tmp");
    let store = Store::open(dir.path()).expect("store");
    let t = transport(&[refused_url(), server.url()]);
    let rec = Recorder::default();
    let report = fetch_packages(&lock, &store, &t, &FetchOptions::default(), &rec).expect("fetch");
    assert_eq!(report.fetched.len(), 6);
    assert_eq!(report.already_present, 0);
    assert_eq!(report.bytes, files.values().map(|d| d.len() as u64).sum::<u64>());
    assert!(report.fetched.iter().all(|f| f.mirror == server.url()));
    let summary = report.summary();
    assert!(
        summary.contains("fetched 6 package(s)") && summary.contains(&server.url()),
        "{summary}"
    );
    let lines = rec.lines.lock().expect("lines").clone();
    assert_eq!(lines.first().map(String::as_str), Some("batch 6 0"));
    // Every retry on the same mirror is announced; giving up on a mirror counts as a retry too.
    let announced = lines.iter().filter(|l| l.starts_with("retry ")).count() as u32;
    assert!(
        announced > 0 && announced <= report.retries,
        "{announced} {}",
        report.retries
    );
    assert_store_holds(dir.path(), &lock);

    let requests = server.counters().requests;
    let again = fetch_packages(&lock, &store, &t, &FetchOptions::default(), &NoProgress).expect("fetch");
    assert_eq!((again.fetched.len(), again.already_present), (0, 6));
    assert_eq!(server.counters().requests, requests, "nothing downloaded twice");
    assert!(missing_packages(&lock, &store).is_empty());
}

#[test]
fn two_threads_fill_one_store() {
    let files = pool(8);
    let lock = locked("debian", &files);
    let server = Server::map(files).faults(flaky()).start().expect("server");
    let dir = tempfile::tempdir().expect("tmp");
    let root = Arc::new(dir.path().to_owned());
    let url = server.url();
    let handles: Vec<_> = (0..2)
        .map(|_| {
            let (root, url, lock) = (Arc::clone(&root), url.clone(), lock.clone());
            std::thread::spawn(move || {
                let store = Store::open(&root).expect("store");
                fetch_packages(
                    &lock,
                    &store,
                    &transport(&[url]),
                    &FetchOptions::default(),
                    &NoProgress,
                )
            })
        })
        .collect();
    for h in handles {
        let report = h.join().expect("thread").expect("fetch");
        assert_eq!(report.fetched.len() + report.already_present, 8);
    }
    assert_store_holds(dir.path(), &lock);
}

const CHILD_ENV: &str = "DEBCAST_TEST_CHILD_FILL";

/// Run by `two_processes_fill_one_store` in a child process; does nothing when run directly.
#[test]
#[ignore = "helper for two_processes_fill_one_store"]
fn child_fill() {
    let Ok(spec) = std::env::var(CHILD_ENV) else {
        return;
    };
    let (root, url) = spec.split_once('|').expect("spec");
    let lock = locked("debian", &pool(8));
    let store = Store::open(Path::new(root)).expect("store");
    let report = fetch_packages(
        &lock,
        &store,
        &transport(&[url.to_owned()]),
        &FetchOptions::default(),
        &NoProgress,
    )
    .expect("fetch");
    assert_eq!(report.fetched.len() + report.already_present, 8);
}

#[test]
fn two_processes_fill_one_store() {
    let files = pool(8);
    let lock = locked("debian", &files);
    let server = Server::map(files).faults(flaky()).start().expect("server");
    let dir = tempfile::tempdir().expect("tmp");
    let exe = std::env::current_exe().expect("test binary");
    let children: Vec<_> = (0..2)
        .map(|_| {
            std::process::Command::new(&exe)
                .args([
                    "--exact",
                    "fetch_store::child_fill",
                    "--ignored",
                    "--test-threads=1",
                ])
                .env(CHILD_ENV, format!("{}|{}", dir.path().display(), server.url()))
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .expect("spawn")
        })
        .collect();
    for c in children {
        let out = c.wait_with_output().expect("child");
        assert!(
            out.status.success(),
            "child failed:\n{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            String::from_utf8_lossy(&out.stdout).contains("1 passed"),
            "child ran no test"
        );
    }
    assert_store_holds(dir.path(), &lock);
}

#[test]
fn offline_check_lists_every_missing_package() {
    let files = pool(4);
    let lock = locked("debian", &files);
    let dir = tempfile::tempdir().expect("tmp");
    // A store that was never created: the check reads, it does not create.
    let store = Store::at(&dir.path().join("vendor"));
    let err = check_offline(&lock, &store, Path::new("base.toml")).unwrap_err();
    assert_eq!(err.packages.len(), 4);
    let text = err.to_string();
    for p in &lock {
        assert!(text.contains(&p.label()) && text.contains(&p.path), "{text}");
    }
    assert!(text.contains("debcast fetch base.toml --cache-dir"), "{text}");
    assert!(!dir.path().join("vendor").exists());

    // Partially filled: only the rest is reported.
    let store = Store::open(&dir.path().join("vendor")).expect("store");
    let (path, data) = files.iter().next().expect("file");
    let e = debcast::fetch::Expected {
        size: data.len() as u64,
        sha256: debcast::hash::Sha256Digest::of(data),
    };
    store
        .insert(debcast::store::Kind::Deb, Some(&e), path, |w| w.write_all(data))
        .expect("store")
        .expect("write");
    let missing = missing_packages(&lock, &store);
    assert_eq!(missing.len(), 3);
    assert!(missing.iter().all(|p| &p.path != path));
}
