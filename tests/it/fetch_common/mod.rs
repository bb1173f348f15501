//! Helpers shared by the `fetch_*` integration tests (not a test target of its own).

use std::collections::BTreeMap;
use std::net::TcpListener;
use std::time::Duration;

use debcast::fetch::{Expected, Mirrors, Transport, TransportConfig};
use debcast::hash::Sha256Digest;
use debcast::lockfile::LockedPackage;

/// A transport over the given mirrors of the archive `debian`.
pub fn transport(mirrors: &[String], config: TransportConfig) -> Transport {
    let items: Vec<String> = mirrors.iter().map(|m| format!("debian={m}")).collect();
    let mirrors = Mirrors::from_parts(&items, None, None).expect("mirrors");
    Transport::new(mirrors, config)
}

/// Tiny timeouts and backoffs so fault tests take milliseconds, not minutes.
pub fn fast_config() -> TransportConfig {
    TransportConfig {
        concurrency: 4,
        connect_timeout: Duration::from_millis(500),
        stall_timeout: Duration::from_millis(250),
        attempt_timeout: Duration::from_secs(10),
        deadline: Duration::from_secs(30),
        retries: 8,
        mismatch_retries: 3,
        backoff_base: Duration::from_millis(1),
        backoff_max: Duration::from_millis(10),
        retry_after_max: Duration::from_millis(20),
        max_unverified_size: 1 << 20,
        ..TransportConfig::default()
    }
}

/// Deterministic, incompressible-looking bytes.
pub fn bytes(seed: u64, len: usize) -> Vec<u8> {
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

pub fn expected(data: &[u8]) -> Expected {
    Expected {
        size: data.len() as u64,
        sha256: Sha256Digest::of(data),
    }
}

/// `n` pool files of varied sizes, keyed by pool path.
pub fn pool(n: usize) -> BTreeMap<String, Vec<u8>> {
    (0..n)
        .map(|i| {
            (
                format!("pool/main/p/pkg{i}/pkg{i}_1.{i}_amd64.deb"),
                bytes(i as u64 + 1, 3_000 + i * 17_001),
            )
        })
        .collect()
}

pub fn locked(archive: &str, files: &BTreeMap<String, Vec<u8>>) -> Vec<LockedPackage> {
    files
        .iter()
        .enumerate()
        .map(|(i, (path, data))| LockedPackage {
            platform: "linux/amd64".parse().expect("platform"),
            name: format!("pkg{i}"),
            version: format!("1.{i}"),
            architecture: "amd64".into(),
            archive: archive.into(),
            path: path.clone(),
            size: data.len() as u64,
            sha256: Sha256Digest::of(data),
        })
        .collect()
}

/// A URL on which nothing listens: connections are refused.
pub fn refused_url() -> String {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = l.local_addr().expect("addr").port();
    drop(l);
    format!("http://127.0.0.1:{port}/")
}
