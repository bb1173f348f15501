//! The remote cache in an OCI registry (`--remote-cache`): a `docker-registry` on 127.0.0.1
//! shared by "runners" with separate empty stores; a registry that is down, answers 500s or
//! serves corrupt blobs never fails a build nor changes its bytes; the report's counts.

use crate::common;
use crate::remote_support;

use std::path::Path;

use common::Debcast;
use common::image::Project;
use debcast_testkit::deb::DebBuilder;
use remote_support::{DockerRegistry, Proxy, ProxyMode, dead_url, report};

const REPO: &str = "team/cache";

fn project(tool_version: &str) -> Project {
    let mut p = Project::new(&["linux/amd64", "linux/arm64"]);
    for arch in ["amd64", "arm64"] {
        p.add(
            Some(&format!("linux/{arch}")),
            DebBuilder::new("tool", tool_version, arch).file(
                "./usr/bin/tool",
                format!("tool {tool_version} {arch}\n"),
                0o755,
            ),
        );
    }
    for name in ["alpha", "beta", "gamma"] {
        p.add(
            None,
            DebBuilder::new(name, "1", "all").file(
                &format!("./usr/share/{name}/file"),
                name.repeat(100),
                0o644,
            ),
        );
    }
    p
}

/// A build of `p` on store `store` into `out`, with `--report out.json`; returns the run.
fn build(
    p: &Project,
    mirror: &str,
    store: &str,
    out: &str,
    remote: Option<&str>,
    extra: &[&str],
) -> common::Run {
    let mut d = Debcast::new(p.path())
        .args(["build", "image.toml", "--output", out, "--cache-dir", store])
        .arg("--mirror")
        .arg(format!("synthetic={mirror}"))
        .arg("--report")
        .arg(format!("{out}.json"))
        // A failing registry or mirror costs milliseconds here.
        .args([
            "--retries",
            "1",
            "--retry-backoff",
            "10ms",
            "--connect-timeout",
            "2s",
        ])
        .env("HOME", p.path().join("no-home"))
        .args(extra);
    if let Some(r) = remote {
        d = d.env("DEBCAST_REMOTE_CACHE", r);
    }
    let started = std::time::Instant::now();
    let run = d.ok();
    eprintln!("{out}: {:.2?}\n{}", started.elapsed(), run.stderr);
    run
}

fn index(p: &Project, out: &str) -> Vec<u8> {
    std::fs::read(p.path().join(out).join("index.json")).unwrap()
}

fn counts(p: &Project, out: &str) -> serde_json::Value {
    report(&p.path().join(format!("{out}.json")))["counts"].clone()
}

fn count(c: &serde_json::Value, field: &str) -> u64 {
    c[field]
        .as_u64()
        .unwrap_or_else(|| panic!("no count {field} in {c}"))
}

#[test]
fn a_second_runner_takes_everything_from_the_registry() {
    let registry = DockerRegistry::start();
    let url = registry.url(REPO);
    let mut p = project("1.0");
    p.write();
    let mirror = p.serve();

    // Runner 1: empty store, empty registry: builds everything and fills the registry.
    build(&p, &mirror.url(), "store-1", "out-1", Some(&url), &[]);
    let c1 = counts(&p, "out-1");
    let layers = count(&c1, "layers");
    // The two platforms share the layers of `all` packages.
    let distinct = count(&c1, "layers_compressed");
    assert_eq!(distinct + count(&c1, "layers_from_local_cache"), layers, "{c1}");
    assert_eq!(count(&c1, "layers_from_remote_cache"), 0, "{c1}");
    assert_eq!(count(&c1, "bytes_from_registry"), 0, "{c1}");
    assert!(count(&c1, "bytes_from_mirrors") > 0, "{c1}");
    assert!(count(&c1, "packages_decoded") > 0, "{c1}");
    let tags = registry.tags(REPO);
    assert_eq!(
        tags.iter().filter(|t| t.starts_with("layer-")).count() as u64,
        distinct,
        "{tags:?}"
    );
    assert!(tags.iter().any(|t| t.starts_with("release-")), "{tags:?}");

    // Runner 2: another empty store; its mirror must not be asked for anything.
    let before = mirror.counters().requests;
    build(&p, &mirror.url(), "store-2", "out-2", Some(&url), &[]);
    assert_eq!(
        mirror.counters().requests,
        before,
        "runner 2 asked a Debian mirror"
    );
    let c2 = counts(&p, "out-2");
    assert_eq!(count(&c2, "layers_compressed"), 0, "{c2}");
    assert_eq!(count(&c2, "packages_decoded"), 0, "{c2}");
    assert_eq!(count(&c2, "layers_from_remote_cache"), distinct, "{c2}");
    assert_eq!(count(&c2, "layers_from_local_cache"), layers - distinct, "{c2}");
    assert_eq!(count(&c2, "bytes_from_mirrors"), 0, "{c2}");
    assert!(count(&c2, "bytes_from_registry") > 0, "{c2}");
    assert_eq!(index(&p, "out-1"), index(&p, "out-2"));
    // Every layer and the SBOMs came from the registry: no `.deb` was needed, so none was
    // downloaded.
    let debs = std::fs::read_dir(p.path().join("store-2/debs/sha256")).map_or(0, |d| d.count());
    assert_eq!(debs, 0, "runner 2 fetched .debs it did not need");

    // Runner 2 again: now all local.
    build(&p, &dead_url(), "store-2", "out-3", Some(&url), &[]);
    let c3 = counts(&p, "out-3");
    assert_eq!(count(&c3, "layers_from_local_cache"), layers, "{c3}");
    assert_eq!(count(&c3, "layers_from_remote_cache"), 0, "{c3}");
    assert_eq!(count(&c3, "bytes_from_registry"), 0, "{c3}");
    assert_eq!(index(&p, "out-1"), index(&p, "out-3"));

    // A build without the remote cache gives the same bytes.
    build(&p, &mirror.url(), "store-plain", "out-plain", None, &[]);
    assert_eq!(index(&p, "out-1"), index(&p, "out-plain"));
}

#[test]
fn a_lock_with_one_package_changed_recompresses_only_its_layers() {
    let registry = DockerRegistry::start();
    let url = registry.url(REPO);
    let mut p = project("1.0");
    p.write();
    let mirror = p.serve();
    build(
        &p,
        &mirror.url(),
        "store-1",
        "out-1",
        Some(&url),
        &["--platform", "linux/amd64"],
    );
    let layers = count(&counts(&p, "out-1"), "layers");
    drop(mirror);

    // The same project with `tool` moved to 2.0, built by a runner with an empty store.
    let mut q = project("2.0");
    q.dir = p.dir;
    q.write();
    let mirror = q.serve();
    build(
        &q,
        &mirror.url(),
        "store-2",
        "out-2",
        Some(&url),
        &["--platform", "linux/amd64"],
    );
    let c = counts(&q, "out-2");
    // tool's layer and the generated layer (which covers every package).
    assert_eq!(count(&c, "layers_compressed"), 2, "{c}");
    // Only tool decoded: the others' unpack records came from the registry.
    assert_eq!(count(&c, "packages_decoded"), 1, "{c}");
    assert_eq!(count(&c, "layers_from_remote_cache"), layers - 2, "{c}");
    // Without the cache: the same image.
    build(
        &q,
        &mirror.url(),
        "store-3",
        "out-3",
        None,
        &["--platform", "linux/amd64"],
    );
    assert_eq!(index(&q, "out-2"), index(&q, "out-3"));
}

/// A reference build without any remote cache.
fn reference(p: &Project, mirror: &str) -> Vec<u8> {
    build(p, mirror, "store-ref", "out-ref", None, &[]);
    index(p, "out-ref")
}

#[test]
fn a_dead_registry_costs_a_warning_not_the_build() {
    let mut p = project("1.0");
    p.write();
    let mirror = p.serve();
    let want = reference(&p, &mirror.url());
    let run = build(
        &p,
        &mirror.url(),
        "store",
        "out",
        Some(&format!("{}/{REPO}", dead_url())),
        &[],
    );
    run.stderr_has(&["remote cache", "skipped"]);
    assert_eq!(index(&p, "out"), want);
    let c = counts(&p, "out");
    assert!(count(&c, "remote_cache_skipped") >= 1, "{c}");
    assert_eq!(count(&c, "bytes_from_registry"), 0, "{c}");
}

#[test]
fn a_registry_answering_500s_costs_a_warning_not_the_build() {
    let registry = DockerRegistry::start();
    let proxy = Proxy::start(registry.port, ProxyMode::Pass);
    let mut p = project("1.0");
    p.write();
    let mirror = p.serve();
    let want = reference(&p, &mirror.url());
    // Filled while it works…
    build(&p, &mirror.url(), "store-1", "out-1", Some(&proxy.url(REPO)), &[]);
    // …then answering 500 to everything.
    *proxy.mode.lock().unwrap() = ProxyMode::Fail500;
    let before = proxy.requests.load(std::sync::atomic::Ordering::Relaxed);
    let run = build(&p, &mirror.url(), "store-2", "out-2", Some(&proxy.url(REPO)), &[]);
    run.stderr_has(&["remote cache", "HTTP 500", "skipped"]);
    assert_eq!(index(&p, "out-2"), want);
    // One request and its retry, then the run did without the registry.
    let asked = proxy.requests.load(std::sync::atomic::Ordering::Relaxed) - before;
    assert!(asked <= 4, "{asked} requests to a failing registry");
    let c = counts(&p, "out-2");
    assert_eq!(count(&c, "layers_from_remote_cache"), 0, "{c}");
    let r = counts(&p, "out-ref");
    assert_eq!(
        count(&c, "layers_compressed"),
        count(&r, "layers_compressed"),
        "{c}"
    );
}

#[test]
fn corrupt_blobs_from_the_registry_are_skipped_and_rebuilt() {
    let registry = DockerRegistry::start();
    let url = registry.url(REPO);
    let mut p = project("1.0");
    p.write();
    let mirror = p.serve();
    build(&p, &mirror.url(), "store-1", "out-1", Some(&url), &[]);
    let want = index(&p, "out-1");
    // Damage every layer blob and every .deb in the registry's storage.
    let mut damaged = 0;
    for hex in layer_digests(&p.path().join("out-1"))
        .into_iter()
        .chain(deb_digests(&p))
    {
        let path = registry.blob_path(&hex);
        // (The lock's Release hash is no blob.)
        let Ok(mut bytes) = std::fs::read(&path) else {
            continue;
        };
        let mid = bytes.len() / 2;
        bytes[mid] ^= 0xff;
        std::fs::write(&path, bytes).unwrap();
        damaged += 1;
    }
    assert!(damaged > 4);
    let run = build(
        &p,
        &mirror.url(),
        "store-2",
        "out-2",
        Some(&url),
        &["--remote-cache-mode", "read"],
    );
    run.stderr_has(&["corrupt blob", "skipped"]);
    assert_eq!(index(&p, "out-2"), want);
    let c = counts(&p, "out-2");
    assert_eq!(count(&c, "layers_from_remote_cache"), 0, "{c}");
    let c1 = counts(&p, "out-1");
    assert_eq!(
        count(&c, "layers_compressed"),
        count(&c1, "layers_compressed"),
        "{c}"
    );
    assert!(count(&c, "remote_cache_skipped") >= damaged, "{c}");
    assert!(count(&c, "bytes_from_mirrors") > 0, "{c}");
}

#[test]
fn basic_and_bearer_token_authentication() {
    let registry = DockerRegistry::start();
    for mode in [
        ProxyMode::Basic {
            user: "ci".into(),
            password: "s3cret".into(),
        },
        ProxyMode::Bearer {
            user: "ci".into(),
            password: "s3cret".into(),
        },
    ] {
        let proxy = Proxy::start(registry.port, mode.clone());
        let mut p = project("1.0");
        p.write();
        let mirror = p.serve();
        // Credentials from a Docker config.json.
        let docker = p.path().join("docker");
        std::fs::create_dir_all(&docker).unwrap();
        let auth = {
            use base64::Engine as _;
            base64::engine::general_purpose::STANDARD.encode("ci:s3cret")
        };
        std::fs::write(
            docker.join("config.json"),
            format!(
                "{{\"auths\":{{\"127.0.0.1:{}\":{{\"auth\":\"{auth}\"}}}}}}",
                proxy.port
            ),
        )
        .unwrap();
        let url = proxy.url(REPO);
        build(&p, &mirror.url(), "s1", "o1", Some(&url), &[]);
        let with_docker = |p: &Project, mirror: &str, store: &str, out: &str| {
            Debcast::new(p.path())
                .args(["build", "image.toml", "--output", out, "--cache-dir", store])
                .arg("--mirror")
                .arg(format!("synthetic={mirror}"))
                .arg("--report")
                .arg(format!("{out}.json"))
                .args(["--retries", "1", "--retry-backoff", "10ms"])
                .env("DOCKER_CONFIG", &docker)
                .env("HOME", p.path().join("no-home"))
                .env("DEBCAST_REMOTE_CACHE", &url)
                .ok()
        };
        // Without credentials the first run could not push: it warned and built.
        assert_eq!(count(&counts(&p, "o1"), "bytes_from_registry"), 0);
        with_docker(&p, &mirror.url(), "s2", "o2");
        // Filled by an authenticated run, then read by another with an empty store.
        let before = mirror.counters().requests;
        with_docker(&p, &mirror.url(), "s3", "o3");
        assert_eq!(mirror.counters().requests, before, "{mode:?}: a mirror was asked");
        let c = counts(&p, "o3");
        assert_eq!(count(&c, "layers_compressed"), 0, "{mode:?}: {c}");
        assert_eq!(index(&p, "o1"), index(&p, "o3"));
        if matches!(mode, ProxyMode::Bearer { .. }) {
            assert!(proxy.tokens_issued.load(std::sync::atomic::Ordering::Relaxed) > 0);
        }
        // The environment's credentials work too (and wrong ones cost a warning only).
        Debcast::new(p.path())
            .args(["build", "image.toml", "--output", "o4", "--cache-dir", "s4"])
            .arg("--mirror")
            .arg(format!("synthetic={}", mirror.url()))
            .args(["--retries", "1", "--retry-backoff", "10ms"])
            .env("HOME", p.path().join("no-home"))
            .env("DEBCAST_REMOTE_CACHE", &url)
            .env("DEBCAST_REMOTE_CACHE_USERNAME", "ci")
            .env("DEBCAST_REMOTE_CACHE_PASSWORD", "wrong")
            .ok()
            .stderr_has(&["remote cache", "401"]);
        assert_eq!(index(&p, "o1"), index(&p, "o4"));
    }
}

fn layer_digests(layout: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let index: serde_json::Value =
        serde_json::from_slice(&std::fs::read(layout.join("index.json")).unwrap()).unwrap();
    for m in index["manifests"].as_array().unwrap() {
        let hex = m["digest"].as_str().unwrap().trim_start_matches("sha256:");
        let blob: serde_json::Value =
            serde_json::from_slice(&std::fs::read(layout.join("blobs/sha256").join(hex)).unwrap()).unwrap();
        for l in blob["layers"].as_array().into_iter().flatten() {
            out.push(
                l["digest"]
                    .as_str()
                    .unwrap()
                    .trim_start_matches("sha256:")
                    .to_owned(),
            );
        }
    }
    out.sort();
    out.dedup();
    out
}

fn deb_digests(p: &Project) -> Vec<String> {
    let lock = std::fs::read_to_string(p.path().join("image.lock")).unwrap();
    let mut out: Vec<String> = lock
        .lines()
        .filter_map(|l| l.strip_prefix("sha256 = \""))
        .map(|l| l.trim_end_matches('"').to_owned())
        .collect();
    out.sort();
    out.dedup();
    out
}
