//! `--offline` never opens a socket: `build`, `fetch` and `lock` with `--offline` run inside a
//! fresh network namespace that has no usable interface (`unshare -rn`, or `unshare -n` as root)
//! and still succeed from a filled store. Where namespaces cannot be made, the test says so
//! loudly and relies on the transport-level proof that runs everywhere: a live server named as
//! the mirror sees no connection at all. With an empty store, `--offline` fails naming every
//! missing package and the command that fetches them, and writes nothing.

use crate::common;
use crate::net_support;

use std::process::Command;

use common::Debcast;
use debcast_testkit::server::FaultPlan;
use net_support::*;

/// The wrapper that runs a command in a new network namespace, if this machine allows one.
fn netns_wrapper() -> Option<Vec<&'static str>> {
    for wrapper in [vec!["unshare", "-rn"], vec!["unshare", "-n"]] {
        let ok = Command::new(wrapper[0])
            .args(&wrapper[1..])
            .arg("true")
            .output()
            .is_ok_and(|o| o.status.success());
        if ok {
            return Some(wrapper);
        }
    }
    None
}

#[test]
fn offline_never_opens_a_socket() {
    let fx = Fixture::new();
    let dir = fx.project("p");
    let server = serve(&fx.archive(), FaultPlan::none());
    let mirrors = mirror_args(&[&server.url()]);
    lock_and_fetch(&dir, &mirrors);
    Debcast::new(&dir)
        .args([
            "build",
            "image.toml",
            "--cache-dir",
            "store",
            "--output",
            "online",
        ])
        .args(&mirrors)
        .ok();

    // Everywhere: with a live mirror named, offline commands do not even connect to it.
    let before = server.counters();
    for verb in ["lock", "fetch"] {
        Debcast::new(&dir)
            .args([verb, "image.toml", "--cache-dir", "store", "--offline"])
            .args(&mirrors)
            .ok();
    }
    Debcast::new(&dir)
        .args([
            "build",
            "image.toml",
            "--cache-dir",
            "store",
            "--output",
            "offline",
            "--offline",
        ])
        .args(&mirrors)
        .ok();
    assert_eq!(
        server.counters().connections,
        before.connections,
        "--offline connected"
    );
    assert_same_tree(&dir.join("offline"), &dir.join("online"));

    let Some(wrapper) = netns_wrapper() else {
        eprintln!(
            "\n!!! WARNING: cannot create a network namespace here (`unshare -rn` and `unshare -n` \
             both failed): the namespace proof of --offline was NOT run; only the transport-level \
             proof above (no connection to a live mirror) was.\n"
        );
        return;
    };
    // The namespace really has no network: an online fetch into an empty store cannot connect.
    let cut_off = Debcast::wrapped(&dir, &wrapper)
        .args(["fetch", "image.toml", "--cache-dir", "empty-store"])
        .args(&mirrors)
        .args(["--retries", "0", "--connect-timeout", "1s"])
        .fails();
    cut_off.stderr_has(&["cannot connect"]);

    // And inside it, everything offline still works from the filled store.
    for verb in ["lock", "fetch"] {
        Debcast::wrapped(&dir, &wrapper)
            .args([verb, "image.toml", "--cache-dir", "store", "--offline"])
            .args(&mirrors)
            .ok();
    }
    Debcast::wrapped(&dir, &wrapper)
        .args([
            "build",
            "image.toml",
            "--cache-dir",
            "store",
            "--output",
            "netns",
            "--offline",
        ])
        .args(&mirrors)
        .ok();
    assert_same_tree(&dir.join("netns"), &dir.join("online"));
    assert_eq!(server.counters().connections, before.connections);
}

#[test]
fn offline_with_an_empty_store_names_every_missing_package_and_writes_nothing() {
    let fx = Fixture::new();
    let dir = fx.project("p");
    let server = serve(&fx.archive(), FaultPlan::none());
    run_ok(&dir, "lock", "lock-store", &mirror_args(&[&server.url()]));
    let before: Vec<_> = tree(&dir).into_keys().collect();
    let requests = server.counters().requests;

    for verb in [&["build", "--output", "out"][..], &["fetch"][..]] {
        let fail = Debcast::new(&dir)
            .args(verb)
            .args(["image.toml", "--cache-dir", "cache/store", "--offline"])
            .fails();
        let error = fail.stderr.trim_end();
        assert_plain_lines(error);
        assert!(
            error.starts_with(
                "error: --offline: 6 locked package(s) are not in the package store cache/store:"
            ),
            "{fail}"
        );
        for (pkg, platform) in [
            ("tool=1.0-1 (amd64)", "linux/amd64"),
            ("tool=1.0-1 (arm64)", "linux/arm64"),
            ("libdemo=2.1-3 (amd64)", "linux/amd64"),
            ("libdemo=2.1-3 (arm64)", "linux/arm64"),
            ("bigdata=1:5.0 (all)", "linux/amd64"),
            ("bigdata=1:5.0 (all)", "linux/arm64"),
        ] {
            assert!(
                error.contains(&format!("  - {pkg} for {platform} (synthetic/pool/main/")),
                "{pkg} for {platform} not listed:\n{fail}"
            );
        }
        assert!(
            error.ends_with(
                "run `debcast fetch image.toml --cache-dir cache/store` (with network) to download them"
            ),
            "{fail}"
        );
        assert!(fail.stdout.is_empty(), "{fail}");
        let after: Vec<_> = tree(&dir).into_keys().collect();
        assert_eq!(before, after, "--offline wrote something:\n{fail}");
        assert!(!dir.join("cache").exists() && !dir.join("out").exists(), "{fail}");
    }
    assert_eq!(
        server.counters().requests,
        requests,
        "--offline reached the server"
    );
}
