//! Hedged requests and the waits between attempts, against the fault-injecting loopback server:
//! a quiet transfer is overtaken by a second request (at the same mirror resuming with `Range`,
//! or at the next mirror), only verified bytes are kept, `Retry-After` still holds, and failures
//! that made progress or already waited are not followed by a backoff.

use crate::fetch_common;

use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, Instant};

use debcast::fetch::transport::TransportConfig;
use debcast::fetch::{Downloaded, FetchOptions, NoProgress, Progress, RemoteFile, Transport, fetch_packages};
use debcast::store::{Kind, Store};
use debcast_testkit::server::{Fault, FaultPlan, Server};
use fetch_common::{bytes, expected, fast_config, locked, transport};

const PATH: &str = "pool/main/b/big/big_1_amd64.deb";

/// A stall timeout long enough that waiting it out is unmistakable, and a hedge after 300 ms
/// (long enough that a loaded test machine does not hedge a healthy request).
fn hedging_config() -> TransportConfig {
    TransportConfig {
        stall_timeout: Duration::from_secs(5),
        hedge_after: Some(Duration::from_millis(300)),
        backoff_base: Duration::from_millis(1),
        ..fast_config()
    }
}

fn server(data: &[u8], plan: FaultPlan) -> Server {
    Server::map(BTreeMap::from([(PATH.to_owned(), data.to_vec())]))
        .faults(plan)
        .max_stall(Duration::from_secs(30))
        .start()
        .expect("server")
}

/// Downloads `path` of `archive` through `t`, checks that exactly `data` came back, and says how
/// long it took.
fn download(
    t: &Transport,
    archive: &str,
    path: &str,
    data: &[u8],
    progress: &dyn Progress,
) -> (Downloaded, Duration) {
    let started = Instant::now();
    let (got, d) = t
        .get_with(archive, path, Some(expected(data)), progress)
        .unwrap_or_else(|e| panic!("{archive} {path}: {e}"));
    let took = started.elapsed();
    assert!(got == data, "{archive} {path}: wrong bytes");
    (d, took)
}

fn entries(dir: &Path, sub: &str) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir.join(sub))
        .expect("dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

#[test]
fn a_stalled_first_answer_is_overtaken_by_a_hedge() {
    let data = bytes(42, 300_000);
    let files = BTreeMap::from([(PATH.to_owned(), data.clone())]);
    for fault in [Fault::StallBeforeHeaders, Fault::StallAfterHeaders] {
        let server = server(&data, FaultPlan::first(fault.clone()));
        let t = transport(&[server.url()], hedging_config());
        let dir = tempfile::tempdir().expect("tmp");
        let store = Store::open(dir.path()).expect("store");
        let lock = locked("debian", &files);
        let started = Instant::now();
        let report = fetch_packages(&lock, &store, &t, &FetchOptions::default(), &NoProgress).expect("fetch");
        // Without the hedge this takes the 5 s stall timeout.
        assert!(
            started.elapsed() < Duration::from_secs(3),
            "{fault:?}: {:?}",
            started.elapsed()
        );
        assert_eq!(report.hedges, 1, "{fault:?}");
        assert_eq!(report.fetched[0].hedges, 1, "{fault:?}");
        assert!(report.summary().contains(", 1 hedge)"), "{}", report.summary());
        assert_eq!(server.counters().requests, 2, "{fault:?}");
        // Exactly the right bytes, under their hash, and nothing else left behind.
        let want = format!("{}.deb", lock[0].sha256);
        assert_eq!(
            entries(dir.path(), "debs/sha256"),
            std::slice::from_ref(&want),
            "{fault:?}"
        );
        assert!(
            std::fs::read(dir.path().join("debs/sha256").join(&want)).expect("read") == data,
            "{fault:?}"
        );
        assert!(entries(dir.path(), "tmp").is_empty(), "{fault:?}");
    }
}

#[test]
fn a_hedge_resumes_with_range_from_what_was_received() {
    let data = bytes(7, 300_000);
    let server = server(&data, FaultPlan::first(Fault::StallMidBody));
    let t = transport(&[server.url()], hedging_config());
    let (d, took) = download(&t, "debian", PATH, &data, &NoProgress);
    assert!(took < Duration::from_secs(3), "{took:?}");
    assert_eq!((d.hedges, d.resumed), (1, 1), "{d:?}");
    let c = server.counters();
    assert_eq!((c.requests, c.range_requests, c.partial_responses), (2, 1, 1));
    // A third, then the rest: nothing was sent twice.
    assert_eq!(c.body_bytes, data.len() as u64);
}

#[test]
fn a_hedge_goes_to_the_next_mirror_when_there_is_one() {
    let data = bytes(3, 100_000);
    let stuck = server(&data, FaultPlan::always(Fault::StallBeforeHeaders));
    let good = server(&data, FaultPlan::none());
    let t = transport(&[stuck.url(), good.url()], hedging_config());
    let (d, took) = download(&t, "debian", PATH, &data, &NoProgress);
    assert!(took < Duration::from_secs(3), "{took:?}");
    assert_eq!(d.mirror, good.url());
    assert_eq!(d.hedges, 1);
    assert_eq!((stuck.counters().requests, good.counters().requests), (1, 1));
}

#[test]
fn without_hedging_a_stall_costs_the_stall_timeout() {
    let data = bytes(5, 100_000);
    let server = server(&data, FaultPlan::first(Fault::StallBeforeHeaders));
    let config = TransportConfig {
        stall_timeout: Duration::from_millis(800),
        hedge_after: Some(Duration::ZERO),
        ..hedging_config()
    };
    let t = transport(&[server.url()], config);
    let (d, took) = download(&t, "debian", PATH, &data, &NoProgress);
    assert!(took >= Duration::from_millis(800), "{took:?}");
    assert_eq!((d.hedges, d.retries), (0, 1), "{d:?}");
}

#[test]
fn a_hedge_whose_body_is_wrong_is_never_kept() {
    let data = bytes(9, 200_000);
    let plan = FaultPlan {
        first: vec![Fault::StallAfterHeaders, Fault::Corrupt],
        ..FaultPlan::none()
    };
    let server = server(&data, plan);
    let t = transport(&[server.url()], hedging_config());
    let dir = tempfile::tempdir().expect("tmp");
    let store = Store::open(dir.path()).expect("store");
    let file = RemoteFile {
        archive: "debian",
        path: PATH,
        expected: Some(expected(&data)),
        what: "big",
    };
    let d = t
        .fetch_into_store(&file, &store, Kind::Deb, &NoProgress)
        .expect("download");
    assert_eq!(d.hedges, 1, "{d:?}");
    // The stalled request, the corrupt hedge, and a fresh request after the mismatch.
    assert_eq!(server.counters().requests, 3);
    let want = format!("{}.deb", expected(&data).sha256);
    assert_eq!(entries(dir.path(), "debs/sha256"), std::slice::from_ref(&want));
    assert!(std::fs::read(dir.path().join("debs/sha256").join(&want)).expect("read") == data);
    assert!(entries(dir.path(), "tmp").is_empty());
}

#[test]
fn a_hedge_honours_retry_after() {
    let data = bytes(11, 100_000);
    let plan = FaultPlan {
        first: vec![
            Fault::StallBeforeHeaders,
            Fault::RetryAfter {
                status: 429,
                seconds: 1,
            },
        ],
        ..FaultPlan::none()
    };
    let server = server(&data, plan);
    let config = TransportConfig {
        retry_after_max: Duration::from_millis(700),
        ..hedging_config()
    };
    let t = transport(&[server.url()], config);
    let (d, took) = download(&t, "debian", PATH, &data, &NoProgress);
    // The stall is hedged at 300 ms; the hedge gets a 429 (1 s, capped at 700 ms); the next
    // hedge waits for it (not another 300 ms), and not for the 5 s stall timeout either.
    assert!(
        took >= Duration::from_millis(900) && took < Duration::from_secs(3),
        "{took:?}"
    );
    assert_eq!(d.hedges, 2, "{d:?}");
    assert_eq!(server.counters().requests, 3);
}

#[test]
fn progress_or_a_stall_is_not_followed_by_a_backoff() {
    let data = bytes(13, 300_000);
    // A backoff of 2 s would show; hedging is off so the stall is waited out (300 ms).
    let config = TransportConfig {
        stall_timeout: Duration::from_millis(300),
        hedge_after: Some(Duration::ZERO),
        backoff_base: Duration::from_secs(2),
        backoff_max: Duration::from_secs(2),
        ..fast_config()
    };
    for fault in [Fault::ResetMidBody, Fault::Truncate, Fault::StallAfterHeaders] {
        let server = server(&data, FaultPlan::first(fault.clone()));
        let t = transport(&[server.url()], config.clone());
        let (_, took) = download(&t, "debian", PATH, &data, &NoProgress);
        assert!(took < Duration::from_millis(1200), "{fault:?}: {took:?}");
    }
    // A failure that got nothing still backs off.
    let server = server(&data, FaultPlan::first(Fault::Status(503)));
    let t = transport(&[server.url()], config);
    let (_, took) = download(&t, "debian", PATH, &data, &NoProgress);
    assert!(took >= Duration::from_secs(1), "{took:?}");
}

#[test]
fn retry_after_on_one_mirror_sends_the_file_to_the_next() {
    let data = bytes(17, 100_000);
    let busy = server(
        &data,
        FaultPlan::always(Fault::RetryAfter {
            status: 429,
            seconds: 1,
        }),
    );
    let good = server(&data, FaultPlan::none());
    let config = TransportConfig {
        retry_after_max: Duration::from_secs(1),
        ..hedging_config()
    };
    let t = transport(&[busy.url(), good.url()], config);
    let (d, took) = download(&t, "debian", PATH, &data, &NoProgress);
    // Within the cap, yet not waited for: the next mirror had it.
    assert!(took < Duration::from_millis(900), "{took:?}");
    assert_eq!(d.mirror, good.url());
    assert_eq!(busy.counters().requests, 1);
}

/// Records the delay announced before each retry.
#[derive(Default)]
struct Delays(std::sync::Mutex<Vec<(String, Duration)>>);

impl debcast::fetch::Progress for Delays {
    fn retrying(&self, _what: &str, _mirror: &str, error: &debcast::fetch::AttemptError, delay: Duration) {
        self.0.lock().expect("lock").push((error.to_string(), delay));
    }
}

#[test]
fn an_honoured_retry_after_starts_the_backoff_over() {
    let data = bytes(19, 50_000);
    let plan = FaultPlan {
        first: vec![
            Fault::Status(503),
            Fault::RetryAfter {
                status: 429,
                seconds: 1,
            },
            Fault::Status(503),
        ],
        ..FaultPlan::none()
    };
    let server = server(&data, plan);
    let config = TransportConfig {
        backoff_base: Duration::from_millis(200),
        backoff_max: Duration::from_secs(10),
        retry_after_max: Duration::from_millis(100),
        ..hedging_config()
    };
    let t = transport(&[server.url()], config);
    let delays = Delays::default();
    download(&t, "debian", PATH, &data, &delays);
    let delays = delays.0.into_inner().expect("lock");
    let got: Vec<&str> = delays.iter().map(|(e, _)| e.as_str()).collect();
    assert_eq!(got, ["HTTP 503", "HTTP 429 (Retry-After: 1s)", "HTTP 503"]);
    // The first 503 waits one backoff step (100–200 ms); the 429 its capped Retry-After; the
    // 503 after it starts the doubling over instead of taking the third step (400–800 ms).
    assert!(delays[0].1 <= Duration::from_millis(200), "{delays:?}");
    assert_eq!(delays[1].1, Duration::from_millis(100), "{delays:?}");
    assert!(delays[2].1 <= Duration::from_millis(200), "{delays:?}");
}

/// A transport whose archive `debian` is served by a fast clean mirror and `security` by a
/// faulty one, with the default (adaptive) hedge delay under a ceiling of 1 s (a quarter of the
/// 4 s stall timeout); warmed up by 24 downloads from the fast one, answered in milliseconds.
fn warmed_up_adaptive(faulty: &Server) -> (debcast::fetch::Transport, Server) {
    let warm_up: BTreeMap<String, Vec<u8>> = (0..24)
        .map(|i| {
            (
                format!("pool/main/p/p{i}/p{i}_1_amd64.deb"),
                bytes(100 + i, 4_000),
            )
        })
        .collect();
    let fast = Server::map(warm_up.clone()).start().expect("server");
    let mirrors = debcast::fetch::Mirrors::from_parts(
        &[
            format!("debian={}", fast.url()),
            format!("security={}", faulty.url()),
        ],
        None,
        None,
    )
    .expect("mirrors");
    let config = TransportConfig {
        stall_timeout: Duration::from_secs(4),
        hedge_after: None,
        ..hedging_config()
    };
    let t = debcast::fetch::Transport::new(mirrors, config);
    // Whether a warm-up download was hedged is not asserted: on a loaded machine a loopback
    // answer can take longer than the 50 ms floor, and the adaptation checked below has room
    // for that (a hedge there only adds a slow sample).
    for (path, body) in &warm_up {
        download(&t, "debian", path, body, &NoProgress);
    }
    (t, fast)
}

/// Records how long each hedged request had been silent.
#[derive(Default)]
struct Silences(std::sync::Mutex<Vec<Duration>>);

impl debcast::fetch::Progress for Silences {
    fn hedging(&self, _what: &str, _mirror: &str, silent: Duration) {
        self.0.lock().expect("lock").push(silent);
    }
}

#[test]
fn the_first_hedge_adapts_to_how_fast_the_mirror_answers_and_later_ones_wait_the_ceiling() {
    // Two stalls before the first byte: the first is hedged after a few times the mirror's
    // first-byte times (milliseconds, so the 50 ms floor), the hedge's own stall only after the
    // 1 s ceiling: a server that is slow to start on one file gets two requests, not a storm.
    let data = bytes(5, 20_000);
    let stalling = server(
        &data,
        FaultPlan {
            first: vec![Fault::StallBeforeHeaders, Fault::StallAfterHeaders],
            ..FaultPlan::none()
        },
    );
    let (t, _fast) = warmed_up_adaptive(&stalling);
    let silences = Silences::default();
    let (d, _) = download(&t, "security", PATH, &data, &silences);
    assert_eq!(d.hedges, 2);
    assert_eq!(stalling.counters().requests, 3);
    let silences = silences.0.into_inner().expect("lock");
    // Adapted: below the ceiling (with room for a loaded machine's first-byte times).
    assert!(silences[0] < Duration::from_millis(900), "{silences:?}");
    assert!(silences[1] >= Duration::from_secs(1), "{silences:?}");
}

#[test]
fn a_silence_mid_body_waits_the_ceiling_before_a_hedge() {
    // A third of the body, then nothing: a lossy link or a bursty sender looks like this for a
    // moment, so the hedge waits the 1 s ceiling, not the adaptive first-byte delay.
    let data = bytes(6, 300_000);
    let stalling = server(&data, FaultPlan::first(Fault::StallMidBody));
    let (t, _fast) = warmed_up_adaptive(&stalling);
    let silences = Silences::default();
    let (d, _) = download(&t, "security", PATH, &data, &silences);
    assert_eq!((d.hedges, d.resumed), (1, 1));
    let silences = silences.0.into_inner().expect("lock");
    assert_eq!(silences.len(), 1);
    assert!(silences[0] >= Duration::from_secs(1), "{silences:?}");
}

/// Holds the file's thread up on its first bytes, as a slow disk would.
struct SlowFirstWrite(std::sync::atomic::AtomicBool, Duration);

impl debcast::fetch::Progress for SlowFirstWrite {
    fn bytes(&self, _what: &str, _n: u64) {
        if !self.0.swap(true, std::sync::atomic::Ordering::SeqCst) {
            std::thread::sleep(self.1);
        }
    }
}

#[test]
fn a_file_thread_that_was_held_up_does_not_take_its_delay_for_a_silent_mirror() {
    // The request keeps delivering while the file's thread is busy for longer than the hedge
    // delay; what it delivered is waiting in the queue, so nothing must be hedged.
    let data = bytes(8, 2_000_000);
    let server = server(&data, FaultPlan::none());
    let t = transport(&[server.url()], hedging_config());
    let progress = SlowFirstWrite(Default::default(), Duration::from_millis(900));
    let (d, _) = download(&t, "debian", PATH, &data, &progress);
    assert_eq!(d.hedges, 0);
    assert_eq!(server.counters().requests, 1);
}

/// Records retry delays; with `between` set, downloads that other file from the same mirror
/// before each retry, as the other files of a run would.
struct DelaysWithTraffic<'a> {
    delays: std::sync::Mutex<Vec<Duration>>,
    between: Option<(&'a debcast::fetch::Transport, &'a str, &'a [u8])>,
}

impl debcast::fetch::Progress for DelaysWithTraffic<'_> {
    fn retrying(&self, _what: &str, _mirror: &str, _error: &debcast::fetch::AttemptError, delay: Duration) {
        self.delays.lock().expect("lock").push(delay);
        if let Some((t, path, data)) = self.between {
            download(t, "debian", path, data, &NoProgress);
        }
    }
}

#[test]
fn the_backoff_doubles_only_while_the_mirror_fails_everything() {
    const OTHER: &str = "pool/main/o/other/other_1_amd64.deb";
    let data = bytes(21, 30_000);
    let other = bytes(22, 10_000);
    let config = TransportConfig {
        backoff_base: Duration::from_millis(100),
        backoff_max: Duration::from_secs(10),
        ..hedging_config()
    };
    let mut delays_seen = Vec::new();
    for traffic in [false, true] {
        let server = Server::map(BTreeMap::from([
            (PATH.to_owned(), data.clone()),
            (OTHER.to_owned(), other.clone()),
        ]))
        .faults(FaultPlan {
            first: vec![Fault::Status(503); 3],
            ..FaultPlan::none()
        })
        .start()
        .expect("server");
        let t = transport(&[server.url()], config.clone());
        // The other file's first three requests fail too; get them out of the way.
        if traffic {
            let p = DelaysWithTraffic {
                delays: Default::default(),
                between: None,
            };
            download(&t, "debian", OTHER, &other, &p);
        }
        let progress = DelaysWithTraffic {
            delays: Default::default(),
            between: traffic.then_some((&t, OTHER, other.as_slice())),
        };
        download(&t, "debian", PATH, &data, &progress);
        delays_seen.push(progress.delays.into_inner().expect("lock"));
    }
    let (alone, among_others) = (&delays_seen[0], &delays_seen[1]);
    assert_eq!((alone.len(), among_others.len()), (3, 3), "{delays_seen:?}");
    // Alone on a mirror that fails everything: 50–100, 100–200, 200–400 ms.
    assert!(alone[2] >= Duration::from_millis(200), "{delays_seen:?}");
    // While other files get through, each failure is the first in a row: 50–100 ms.
    assert!(
        among_others.iter().all(|d| *d <= Duration::from_millis(100)),
        "{delays_seen:?}"
    );
}

#[test]
fn a_trickle_too_slow_for_the_deadline_is_given_up_and_resumed() {
    // 1 KiB every 60 ms: never silent long enough to be hedged (300 ms) or to time out (5 s),
    // but 400 KB would take ~24 s, past the 10 s deadline.
    let data = bytes(31, 400_000);
    let server = server(
        &data,
        FaultPlan::first(Fault::Trickle {
            chunk: 1024,
            delay: Duration::from_millis(60),
        }),
    );
    let config = TransportConfig {
        deadline: Duration::from_secs(10),
        ..hedging_config()
    };
    let t = transport(&[server.url()], config);
    let (d, took) = download(&t, "debian", PATH, &data, &NoProgress);
    // Watched for 1.2 s (four hedge delays), then resumed with Range on a second request.
    assert!(took < Duration::from_secs(5), "{took:?}");
    assert!(d.resumed >= 1, "{d:?}");
    assert!(server.counters().range_requests >= 1);
}

#[test]
fn hedges_back_off_on_a_slow_shared_link_where_they_keep_losing() {
    // 20 files (3.3 MB) through a 2 MB/s link shared by 4 requests: each gets a 64 KiB piece
    // every ~130 ms, longer than the 75 ms hedge delay (a quarter of the 300 ms stall timeout),
    // so the first hedges lose to the requests they race and only take bandwidth from them.
    let files = fetch_common::pool(20);
    let total: usize = files.values().map(Vec::len).sum();
    let server = Server::map(files.clone())
        .bandwidth(2_000_000)
        .start()
        .expect("server");
    let config = TransportConfig {
        stall_timeout: Duration::from_millis(300),
        hedge_after: None,
        ..fast_config()
    };
    let t = transport(&[server.url()], config);
    let dir = tempfile::tempdir().expect("tmp");
    let store = Store::open(dir.path()).expect("store");
    let lock = locked("debian", &files);
    let report = fetch_packages(&lock, &store, &t, &FetchOptions::default(), &NoProgress).expect("fetch");
    assert_eq!(report.fetched.len(), 20);
    let c = server.counters();
    // Without the back-off: hundreds of requests, and files failing on stall timeouts. Three
    // per file: on a loaded 2-core runner (the whole suite beside it) the test's own threads
    // miss the 300 ms stall timeout now and then, and each miss is one more request (46 seen).
    assert!(c.requests <= 60, "{} requests for 20 files", c.requests);
    assert!(
        c.body_bytes <= 2 * total as u64,
        "{} bytes sent for {total}",
        c.body_bytes
    );
}

#[test]
fn the_wait_for_a_request_slot_counts_against_the_deadline() {
    // One request slot, held for 700 ms by a file whose thread is busy on its first bytes; a
    // second file with a 300 ms deadline waits for the slot past its deadline and then must not
    // send a request at all.
    let a_data = bytes(41, 200_000);
    let b_data = bytes(42, 20_000);
    let a_server = server(&a_data, FaultPlan::none());
    let b_server = server(&b_data, FaultPlan::none());
    let mirrors = debcast::fetch::Mirrors::from_parts(
        &[
            format!("debian={}", a_server.url()),
            format!("security={}", b_server.url()),
        ],
        None,
        None,
    )
    .expect("mirrors");
    let config = TransportConfig {
        concurrency: 1,
        deadline: Duration::from_millis(300),
        ..hedging_config()
    };
    let t = debcast::fetch::Transport::new(mirrors, config);
    let b_result = std::thread::scope(|s| {
        s.spawn(|| {
            let hold = SlowFirstWrite(Default::default(), Duration::from_millis(700));
            // Its own outcome does not matter here (its deadline passes while it is held up).
            let _ = t.get_with("debian", PATH, Some(expected(&a_data)), &hold);
        });
        while a_server.counters().requests == 0 {
            std::thread::sleep(Duration::from_millis(5));
        }
        t.get_with("security", PATH, Some(expected(&b_data)), &NoProgress)
    });
    match b_result {
        Err(debcast::fetch::FetchError::Deadline { .. }) => {}
        other => panic!("expected a deadline error, got {other:?}"),
    }
    assert_eq!(b_server.counters().requests, 0);
}
