//! The transport against the fault-injecting loopback server: every fault survived, wrong bodies
//! never returned, `Range` resume, mirror failover, error reports, `Retry-After`, offline.

use crate::fetch_common;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use debcast::fetch::transport::TransportConfig;
use debcast::fetch::{AttemptError, Downloader, Expected, FetchError, Mirrors, NoProgress, Transport};
use debcast::hash::Sha256Digest;
use debcast::lockfile::LockedRelease;
use debcast_testkit::server::{Fault, FaultPlan, Server};
use fetch_common::{bytes, expected, fast_config, pool, refused_url, transport};

/// [`fast_config`] without hedges, for counting attempts exactly: on a loaded machine a request
/// slow to send its first byte gets a hedge on the same mirror, which is one more attempt.
fn unhedged() -> TransportConfig {
    TransportConfig {
        hedge_after: Some(Duration::ZERO),
        ..fast_config()
    }
}

fn one_file() -> (String, Vec<u8>) {
    ("pool/main/b/big/big_1_amd64.deb".to_owned(), bytes(42, 200_000))
}

#[test]
fn each_fault_kind_alone_is_survived() {
    let (path, data) = one_file();
    for kind in Fault::transient() {
        let server = Server::map(BTreeMap::from([(path.clone(), data.clone())]))
            .faults(FaultPlan::first(kind.clone()))
            .start()
            .expect("server");
        let t = transport(&[server.url()], fast_config());
        let got = t.get("debian", &path, Some(expected(&data)));
        assert_eq!(
            got.as_ref().map(Vec::len).ok(),
            Some(data.len()),
            "{kind:?}: {got:?}"
        );
        assert!(got.expect("checked") == data, "{kind:?}: wrong bytes");
        assert_eq!(server.counters().faults, 1, "{kind:?}");
    }
}

#[test]
fn unverified_downloads_survive_faults_too() {
    // Release files are fetched before their hash is known: no resume, but retries still work.
    let (path, data) = one_file();
    for kind in [Fault::Truncate, Fault::Status(503), Fault::StallAfterHeaders] {
        let server = Server::map(BTreeMap::from([(path.clone(), data.clone())]))
            .faults(FaultPlan::first(kind.clone()))
            .start()
            .expect("server");
        let t = transport(&[server.url()], fast_config());
        assert!(
            t.get("debian", &path, None).expect("download") == data,
            "{kind:?}"
        );
        assert_eq!(server.counters().range_requests, 0, "{kind:?}");
    }
}

#[test]
fn seeded_faults_behind_a_dead_mirror() {
    let files = pool(8);
    let kinds = Fault::transient();
    for seed in [1, 2, 3] {
        let server = Server::map(files.clone())
            .faults(FaultPlan::random(seed, 1.0 / 3.0, kinds.clone()))
            .start()
            .expect("server");
        let t = transport(&[refused_url(), server.url()], fast_config());
        let items: Vec<(&str, &str, Option<Expected>)> = files
            .iter()
            .map(|(p, d)| ("debian", p.as_str(), Some(expected(d))))
            .collect();
        let results = t.get_many(&items);
        for ((path, data), r) in files.iter().zip(results) {
            let got = r.unwrap_or_else(|e| panic!("seed {seed}: {e}"));
            assert!(got == *data, "seed {seed}: {path}: wrong bytes");
        }
        assert!(server.counters().faults > 0, "seed {seed}: no fault was injected");
    }
}

#[test]
fn range_resume_is_used_when_supported() {
    let (path, data) = one_file();
    let server = Server::map(BTreeMap::from([(path.clone(), data.clone())]))
        .faults(FaultPlan::first(Fault::Truncate))
        .start()
        .expect("server");
    let t = transport(&[server.url()], fast_config());
    let (got, d) = t
        .get_with("debian", &path, Some(expected(&data)), &NoProgress)
        .expect("download");
    assert!(got == data);
    assert_eq!(d.resumed, 1);
    assert_eq!(d.retries, 1);
    let c = server.counters();
    assert_eq!((c.requests, c.range_requests, c.partial_responses), (2, 1, 1));
    // Half the body, then the other half: nothing was sent twice.
    assert_eq!(c.body_bytes, data.len() as u64);
}

#[test]
fn resume_is_correct_when_the_server_ignores_range() {
    let (path, data) = one_file();
    let server = Server::map(BTreeMap::from([(path.clone(), data.clone())]))
        .faults(FaultPlan::first(Fault::ResetMidBody))
        .honour_range(false)
        .start()
        .expect("server");
    let t = transport(&[server.url()], fast_config());
    assert!(t.get("debian", &path, Some(expected(&data))).expect("download") == data);
    let c = server.counters();
    assert_eq!((c.range_requests, c.partial_responses), (1, 0));
}

#[test]
fn a_bad_resumed_tail_restarts_from_scratch() {
    let (path, data) = one_file();
    let server = Server::map(BTreeMap::from([(path.clone(), data.clone())]))
        .faults(FaultPlan {
            first: vec![Fault::Truncate, Fault::Corrupt],
            ..FaultPlan::none()
        })
        .start()
        .expect("server");
    let t = transport(&[server.url()], fast_config());
    assert!(t.get("debian", &path, Some(expected(&data))).expect("download") == data);
    assert_eq!(server.counters().requests, 3);
}

#[test]
fn wrong_bodies_are_never_returned_or_stored() {
    let (path, data) = one_file();
    let server = Server::map(BTreeMap::from([(path.clone(), data.clone())]))
        .faults(FaultPlan::always(Fault::Corrupt))
        .start()
        .expect("server");
    let config = TransportConfig {
        mismatch_retries: 1,
        ..unhedged()
    };
    let t = transport(&[server.url()], config);
    let err = t.get("debian", &path, Some(expected(&data))).unwrap_err();
    let FetchError::AllMirrorsFailed { failures, .. } = &err else {
        panic!("{err}")
    };
    assert!(
        matches!(failures[0].error, AttemptError::Mismatch { .. }),
        "{err}"
    );
    assert_eq!(
        failures[0].attempts, 9,
        "differently damaged bodies are retried within the retry budget (8): {err}"
    );

    // The same file from a server that has different bytes at that path (a wrong version).
    let dir = tempfile::tempdir().expect("tmp");
    let store = debcast::store::Store::open(dir.path()).expect("store");
    let other = Server::map(BTreeMap::from([(path.clone(), bytes(7, data.len()))]))
        .start()
        .expect("server");
    let t = transport(&[other.url()], unhedged());
    let file = debcast::fetch::RemoteFile {
        archive: "debian",
        path: &path,
        expected: Some(expected(&data)),
        what: "big",
    };
    let err = t
        .fetch_into_store(&file, &store, debcast::store::Kind::Deb, &NoProgress)
        .unwrap_err();
    let FetchError::AllMirrorsFailed { failures, .. } = &err else {
        panic!("{err}")
    };
    // The last mirror left: the same wrong bytes again may still be chance, so the retry budget
    // is spent before the file is given up.
    assert_eq!(
        failures[0].attempts, 9,
        "on the last mirror left, the same wrong bytes are retried within the retry budget (8): {err}"
    );
    assert_eq!(other.counters().requests, 9);
    for sub in ["debs/sha256", "tmp"] {
        assert_eq!(
            std::fs::read_dir(dir.path().join(sub)).expect("dir").count(),
            0,
            "{sub}"
        );
    }
    // And a server announcing the wrong length is refused without reading the body.
    let short = Server::map(BTreeMap::from([(path.clone(), data[..1000].to_vec())]))
        .start()
        .expect("server");
    let t = transport(&[short.url()], fast_config());
    let err = t.get("debian", &path, Some(expected(&data))).unwrap_err();
    assert!(err.to_string().contains("wrong size"), "{err}");
}

/// The same wrong bytes again from a mirror with another behind it: that mirror has another file
/// under the path, so the file moves on after 1 + mismatch_retries attempts, not the whole budget.
#[test]
fn the_same_wrong_bytes_move_on_to_the_next_mirror() {
    let (path, data) = one_file();
    let other = Server::map(BTreeMap::from([(path.clone(), bytes(7, data.len()))]))
        .start()
        .expect("server");
    let good = Server::map(BTreeMap::from([(path.clone(), data.clone())]))
        .start()
        .expect("server");
    let t = transport(&[other.url(), good.url()], fast_config());
    let got = t
        .get("debian", &path, Some(expected(&data)))
        .expect("from the second mirror");
    assert!(got == data, "wrong bytes returned");
    assert_eq!(
        other.counters().requests,
        4,
        "1 + mismatch_retries (3) at the first mirror"
    );
    assert_eq!(good.counters().requests, 1);
}

/// An unpinned body refused by the download's check (an `InRelease` that does not verify) is a
/// wrong body: refused bytes that differ each time are retried on the same mirror, the same
/// refused bytes twice move on to the next mirror, and a mirror never serving an acceptable body
/// fails the file with the refusal named.
#[test]
fn bodies_refused_by_the_check_are_retried_then_failed_over() {
    let path = "dists/stable/InRelease".to_owned();
    let good = b"-----BEGIN PGP SIGNED MESSAGE-----\nthe good one\n".to_vec();
    let check = |b: &[u8]| -> Result<(), String> {
        if b.starts_with(b"-----BEGIN PGP SIGNED MESSAGE-----\nthe good one") {
            Ok(())
        } else {
            Err("not a clearsigned message".to_owned())
        }
    };
    // The first answer corrupted (one byte flipped): refused, and retried at once.
    let flaky = Server::map(BTreeMap::from([(path.clone(), good.clone())]))
        .faults(FaultPlan::first(Fault::Corrupt))
        .start()
        .expect("server");
    let t = transport(&[flaky.url()], unhedged());
    let (got, d) = t
        .get_checked_with("debian", &path, &check, &NoProgress)
        .expect("the second answer");
    assert!(got == good);
    assert_eq!((flaky.counters().requests, d.retries), (2, 1));

    // The same refused bytes from a first mirror: on to the next after 1 + mismatch_retries.
    let garbage = Server::map(BTreeMap::from([(
        path.clone(),
        b"<html>captive portal</html>".to_vec(),
    )]))
    .start()
    .expect("server");
    let clean = Server::map(BTreeMap::from([(path.clone(), good.clone())]))
        .start()
        .expect("server");
    let t = transport(&[garbage.url(), clean.url()], unhedged());
    let (got, d) = t
        .get_checked_with("debian", &path, &check, &NoProgress)
        .expect("from the second mirror");
    assert!(got == good);
    assert_eq!(d.mirror, clean.url());
    assert_eq!(garbage.counters().requests, 4);

    // Only refused bytes, on the last mirror left: the retry budget, then a failure naming why.
    let t = transport(&[garbage.url()], unhedged());
    let err = t
        .get_checked_with("debian", &path, &check, &NoProgress)
        .unwrap_err();
    let FetchError::AllMirrorsFailed { failures, .. } = &err else {
        panic!("{err}")
    };
    assert!(failures[0].error.is_refused(), "{err}");
    assert_eq!(failures[0].attempts, 9, "{err}");
    assert!(err.to_string().contains("not a clearsigned message"), "{err}");
}

#[test]
fn a_pruned_version_is_found_in_a_snapshot_mirror() {
    let (path, data) = one_file();
    let live = Server::map(BTreeMap::new()).start().expect("server");
    let snapshot = Server::map(BTreeMap::from([(
        format!("archive/debian/20230610T085333Z/{path}"),
        data.clone(),
    )]))
    .start()
    .expect("server");
    let cli = vec![
        format!("debian={}", live.url()),
        format!("debian={}archive/{{archive}}/{{release_date}}/", snapshot.url()),
    ];
    let mirrors = Mirrors::from_parts(&cli, None, None)
        .expect("mirrors")
        .with_releases(&[LockedRelease {
            archive: "debian".into(),
            suite: "bookworm".into(),
            date: "Sat, 10 Jun 2023 08:53:33 UTC".into(),
            sha256: None,
        }]);
    let t = Transport::new(mirrors, fast_config());
    let (got, d) = t
        .get_with("debian", &path, Some(expected(&data)), &NoProgress)
        .expect("download");
    assert!(got == data);
    assert!(d.mirror.contains("20230610T085333Z"), "{d:?}");
    // A 404 is permanent for that mirror: not retried there.
    assert_eq!(live.counters().requests, 1);
}

#[test]
fn when_every_mirror_fails_the_error_lists_each() {
    let (path, data) = one_file();
    let dead = refused_url();
    let busy = Server::map(BTreeMap::from([(path.clone(), data.clone())]))
        .faults(FaultPlan::always(Fault::Status(503)))
        .start()
        .expect("server");
    let empty = Server::map(BTreeMap::new()).start().expect("server");
    let config = TransportConfig {
        retries: 2,
        ..fast_config()
    };
    let t = transport(&[dead.clone(), busy.url(), empty.url()], config);
    let err = t
        .get("debian", &path, Some(expected(&data)))
        .expect_err("must fail");
    let text = err.to_string();
    assert!(text.contains(&path), "{text}");
    for (url, what) in [
        (&dead, "cannot connect"),
        (&busy.url(), "HTTP 503"),
        (&empty.url(), "not found"),
    ] {
        let line = text
            .lines()
            .find(|l| l.contains(url.as_str()))
            .unwrap_or_else(|| panic!("{url} missing from: {text}"));
        assert!(line.contains(what), "{line}");
    }
    assert!(!err.is_transient());
    assert_eq!(busy.counters().requests, 3, "1 try + 2 retries");
}

#[test]
fn retry_after_is_honoured_up_to_the_cap() {
    let (path, data) = one_file();
    let server = Server::map(BTreeMap::from([(path.clone(), data.clone())]))
        .faults(FaultPlan::first(Fault::RetryAfter {
            status: 429,
            seconds: 1,
        }))
        .start()
        .expect("server");
    // No hedge: on a loaded machine the 429 can take longer than the hedge delay, and a hedge
    // to the same mirror would be served at once, which is right but not what this checks.
    let config = TransportConfig {
        backoff_base: Duration::from_millis(1),
        retry_after_max: Duration::from_millis(300),
        hedge_after: Some(Duration::ZERO),
        ..fast_config()
    };
    let t = transport(&[server.url()], config.clone());
    let started = Instant::now();
    assert!(t.get("debian", &path, Some(expected(&data))).expect("download") == data);
    // The backoff alone would be ~1 ms; Retry-After (1 s, capped at 300 ms) was waited for.
    assert!(
        started.elapsed() >= Duration::from_millis(300),
        "{:?}",
        started.elapsed()
    );

    // Longer than the cap with another mirror left: that mirror is used instead of waiting.
    let slow = Server::map(BTreeMap::from([(path.clone(), data.clone())]))
        .faults(FaultPlan::always(Fault::RetryAfter {
            status: 503,
            seconds: 3600,
        }))
        .start()
        .expect("server");
    // A cap far above what the download takes even on a loaded machine: waiting it would show.
    let cap = Duration::from_secs(5);
    let config = TransportConfig {
        retry_after_max: cap,
        ..config
    };
    let t = transport(&[slow.url(), server.url()], config);
    let started = Instant::now();
    assert!(t.get("debian", &path, Some(expected(&data))).expect("download") == data);
    assert!(started.elapsed() < cap, "{:?}", started.elapsed());
    assert_eq!(slow.counters().requests, 1);
}

#[test]
fn local_file_mirrors_work() {
    let (path, data) = one_file();
    let dir = tempfile::tempdir().expect("tmp");
    let archive = dir.path().join("debian");
    let file = archive.join(&path);
    std::fs::create_dir_all(file.parent().expect("parent")).expect("mkdir");
    std::fs::write(&file, &data).expect("write");
    let empty = dir.path().join("empty");
    std::fs::create_dir_all(&empty).expect("mkdir");
    let t = transport(
        &[
            format!("file://{}", empty.display()),
            archive.display().to_string(),
        ],
        fast_config(),
    );
    let (got, d) = t
        .get_with("debian", &path, Some(expected(&data)), &NoProgress)
        .expect("download");
    assert!(got == data);
    assert!(
        d.mirror.starts_with("file://") && d.mirror.ends_with("/debian/"),
        "{d:?}"
    );
}

#[test]
fn bad_paths_and_oversized_unverified_downloads_are_refused() {
    let server = Server::map(BTreeMap::from([("big".to_owned(), vec![0u8; 4096])]))
        .start()
        .expect("server");
    let config = TransportConfig {
        max_unverified_size: 1024,
        ..fast_config()
    };
    let t = transport(&[server.url()], config);
    let err = t.get("debian", "big", None).unwrap_err();
    assert!(err.to_string().contains("limit"), "{err}");
    for bad in ["../etc/passwd", "/etc/passwd", "a/../../b", ""] {
        let err = t.get("debian", bad, None).unwrap_err();
        assert!(matches!(err, FetchError::InvalidPath { .. }), "{bad}: {err}");
    }
    let err = t.get("debian-security", "x", None).unwrap_err();
    assert!(err.to_string().contains("--mirror debian-security=URL"), "{err}");
}

#[test]
fn the_offline_transport_never_connects() {
    let (path, data) = one_file();
    let server = Server::map(BTreeMap::from([(path.clone(), data.clone())]))
        .start()
        .expect("server");
    let t = Transport::offline();
    let e = Expected {
        size: data.len() as u64,
        sha256: Sha256Digest::of(&data),
    };
    let err = t.get("debian", &path, Some(e)).unwrap_err();
    assert!(matches!(err, FetchError::Offline { .. }), "{err}");
    let dir = tempfile::tempdir().expect("tmp");
    let store = debcast::store::Store::open(dir.path()).expect("store");
    let lock = fetch_common::locked("debian", &BTreeMap::from([(path.clone(), data.clone())]));
    let r = debcast::fetch::fetch_packages(&lock, &store, &t, &Default::default(), &NoProgress);
    assert!(r.is_err());
    assert_eq!(server.counters().connections, 0);
}

#[test]
fn the_overall_deadline_bounds_a_file() {
    let (path, data) = one_file();
    let server = Server::map(BTreeMap::from([(path.clone(), data.clone())]))
        .faults(FaultPlan::always(Fault::StallAfterHeaders))
        .start()
        .expect("server");
    let config = TransportConfig {
        stall_timeout: Duration::from_millis(100),
        deadline: Duration::from_millis(400),
        retries: 1000,
        ..fast_config()
    };
    let t = transport(&[server.url()], config);
    let started = Instant::now();
    let err = t.get("debian", &path, Some(expected(&data))).unwrap_err();
    assert!(matches!(err, FetchError::Deadline { .. }), "{err}");
    assert!(err.is_transient(), "{err}");
    let text = err.to_string();
    assert!(
        text.contains(&server.url()) && text.contains("timed out"),
        "{text}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
}
