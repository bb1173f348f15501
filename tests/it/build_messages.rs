//! What `debcast build` says (issue #17): help headings, one clear line per failure naming the
//! option or directory and what to do, the pruned-package hint once, a dead mirror summarised,
//! and a summary with the index digest and the elapsed time.

use crate::common;

use common::Debcast;
use common::image::Project;
use debcast_testkit::deb::DebBuilder;

fn good() -> DebBuilder {
    DebBuilder::new("good", "1.0", "amd64").file("./usr/share/good/file", "good\n", 0o644)
}

fn project() -> Project {
    let mut p = Project::new(&["linux/amd64"]);
    p.add(None, good());
    p.write();
    p
}

fn build(p: &Project, output: &str, mirror: &str) -> Debcast {
    Debcast::new(p.path())
        .args(["build", "image.toml", "--output", output, "--cache-dir", "store"])
        .arg("--mirror")
        .arg(format!("synthetic={mirror}"))
}

#[test]
fn build_help_puts_build_options_under_build() {
    let dir = common::tempdir();
    let run = Debcast::new(dir.path()).args(["build", "--help"]).ok();
    for option in ["--output", "--format", "--platform", "--layering", "--report"] {
        assert_eq!(
            common::help_heading(&run.stdout, option).as_deref(),
            Some("Build"),
            "{option}:\n{}",
            run.stdout
        );
    }
}

#[test]
fn an_unknown_platform_for_an_oci_build_names_the_option_not_docker_archive() {
    let p = project();
    let server = p.serve();
    let run = build(&p, "out", &server.url())
        .args(["--platform", "linux/arm64"])
        .fails();
    run.stderr_has(&["--platform linux/arm64", "linux/amd64"]);
    assert!(!run.stderr.contains("docker-archive"), "{run}");
}

#[test]
fn an_output_under_proc_names_the_option_and_the_problem() {
    let p = project();
    let server = p.serve();
    let run = build(&p, "/proc/img", &server.url()).fails();
    run.stderr_has(&["--output /proc/img", "pseudo filesystem"]);
    assert!(!run.stderr.contains("No such file or directory"), "{run}");
}

#[test]
fn an_immutable_output_says_what_to_do() {
    if !common::is_root() {
        eprintln!("skipped: chattr needs root");
        return;
    }
    let p = project();
    let server = p.serve();
    build(&p, "out", &server.url()).ok();
    let out = p.path().join("out");
    let set = std::process::Command::new("chattr")
        .arg("+i")
        .arg(&out)
        .status()
        .unwrap_or_else(|e| panic!("chattr: {e} (apt-get install e2fsprogs)"));
    // Some file systems (overlayfs, older tmpfs) have no immutable flag: nothing to test there.
    if !set.success() {
        eprintln!("skipped: chattr +i is not supported here");
        return;
    }
    let run = build(&p, "out", &server.url()).fails();
    let _ = std::process::Command::new("chattr").arg("-i").arg(&out).status();
    run.stderr_has(&["--output out", "chattr -i"]);
}

#[test]
fn a_pruned_package_gets_one_hint_with_a_usable_mirror_form() {
    let mut p = project();
    p.pool.retain(|path, _| !path.starts_with("pool/"));
    let server = p.serve();
    let run = build(&p, "out", &server.url()).fails();
    run.stderr_has(&["good=1.0", "--mirror 'synthetic=https://SNAPSHOT-MIRROR/archive/"]);
    assert_eq!(run.stderr.matches("hint:").count(), 1, "{run}");
    assert!(!run.stderr.contains("example.org"), "{run}");
}

/// Bytes gzip cannot shrink (xorshift), so a layer is as large as its file.
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

/// A tmpfs of `size` at `dir` for the closure's time (root only), unmounted afterwards.
fn with_small_tmpfs(dir: &std::path::Path, size: &str, f: impl FnOnce()) -> bool {
    std::fs::create_dir_all(dir).unwrap();
    let mounted = std::process::Command::new("mount")
        .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
        .arg(dir)
        .status()
        .unwrap_or_else(|e| panic!("mount: {e} (apt-get install mount)"));
    // Root without the capability (a container) cannot mount: nothing to test there.
    if !mounted.success() {
        return false;
    }
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f));
    let _ = std::process::Command::new("umount").arg(dir).status();
    if let Err(panic) = result {
        std::panic::resume_unwind(panic);
    }
    true
}

#[test]
fn a_full_layer_cache_names_the_package_store() {
    if !common::is_root() {
        eprintln!("skipped: mounting a small tmpfs needs root");
        return;
    }
    let mut p = Project::new(&["linux/amd64"]);
    p.add(
        None,
        DebBuilder::new("big", "1.0", "amd64").file("./usr/share/big/noise", noise(512 * 1024), 0o644),
    );
    p.write();
    let server = p.serve();
    // The .deb in the store first; then the layer cache on a file system too small for its layer.
    Debcast::new(p.path())
        .args(["fetch", "image.toml", "--cache-dir", "store", "--mirror"])
        .arg(format!("synthetic={}", server.url()))
        .ok();
    let layers = p.path().join("store/layers");
    let ran = with_small_tmpfs(&layers, "128k", || {
        let run = build(&p, "out", &server.url()).fails();
        run.stderr_has(&[
            "package store store",
            "--cache-dir",
            "no space left on the device of",
        ]);
    });
    if !ran {
        eprintln!("skipped: cannot mount a tmpfs here");
    }
}

fn json(path: &std::path::Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

fn blob(layout: &std::path::Path, digest: &str) -> serde_json::Value {
    json(
        &layout
            .join("blobs/sha256")
            .join(digest.trim_start_matches("sha256:")),
    )
}

#[test]
fn the_summary_gives_the_index_digest_and_the_image_records_the_lockfile() {
    let p = project();
    // [config] edits keep the lock fresh: the labels the standard annotations come from.
    let manifest = p.path().join("image.toml");
    let text = std::fs::read_to_string(&manifest).unwrap().replace(
        r#"labels = { "org.example.purpose" = "test" }"#,
        r#"labels = { "org.example.purpose" = "test", "org.opencontainers.image.source" = "https://example.invalid/repo", "org.opencontainers.image.revision" = "abc123" }"#,
    );
    std::fs::write(&manifest, text).unwrap();
    let server = p.serve();
    let run = build(&p, "out", &server.url()).ok();
    let out = p.path().join("out");
    let index = json(&out.join("index.json"));
    let pushed = index["manifests"][0]["digest"].as_str().unwrap().to_owned();
    run.stderr_has(&[&format!("index {pushed} (1 platform(s)) in ")]);
    let nested = blob(&out, &pushed);
    let image = blob(&out, nested["manifests"][0]["digest"].as_str().unwrap());
    let annotations = &image["annotations"];
    let lock_bytes = std::fs::read(p.path().join("image.lock")).unwrap();
    let lock_hash = format!("sha256:{}", debcast::hash::Sha256Digest::of(&lock_bytes).hex());
    assert_eq!(
        annotations["dev.debcast.lock.sha256"],
        lock_hash.as_str(),
        "{image}"
    );
    assert!(
        annotations["dev.debcast.lock.manifest-hash"].is_string(),
        "{image}"
    );
    assert_eq!(
        annotations["org.opencontainers.image.created"], "2023-01-01T00:00:00Z",
        "{image}"
    );
    assert_eq!(annotations["org.opencontainers.image.version"], "test", "{image}");
    assert_eq!(
        annotations["org.opencontainers.image.source"], "https://example.invalid/repo",
        "{image}"
    );
    assert_eq!(
        annotations["org.opencontainers.image.revision"], "abc123",
        "{image}"
    );
    debcast_testkit::oci::check_layout(&out).unwrap_or_else(|e| panic!("{e}"));

    // A docker-archive holds uncompressed layers and no OCI manifest: neither is reported.
    let run = build(&p, "image.tar", &server.url())
        .args(["--format", "docker-archive"])
        .ok();
    run.stderr_has(&[
        "image ID sha256:",
        "of uncompressed layers",
        "(docker-archive) in ",
    ]);
    assert!(!run.stderr.contains(" compressed, manifest"), "{run}");
    assert!(!run.stderr.contains("manifest sha256:"), "{run}");
}

/// A port on 127.0.0.1 nothing listens on (bound, then closed).
fn dead_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

/// Fetches six packages through a dead mirror, then a live one (`-v` where `verbose`): the
/// dead mirror's URL and the run. Non-verbose, the dead mirror is named at most twice.
fn fetch_past_a_dead_mirror(verbose: bool) -> (String, common::Run) {
    let mut p = Project::new(&["linux/amd64"]);
    for i in 0..6 {
        p.add(
            None,
            DebBuilder::new(&format!("pkg{i}"), "1.0", "amd64").file(
                &format!("./usr/share/pkg{i}"),
                "x",
                0o644,
            ),
        );
    }
    p.write();
    let server = p.serve();
    let dead = format!("http://127.0.0.1:{}/", dead_port());
    let run = Debcast::new(p.path())
        .args(verbose.then_some("-v"))
        .args([
            "fetch",
            "image.toml",
            "--cache-dir",
            "store",
            "--retry-backoff",
            "10ms",
        ])
        .arg("--mirror")
        .arg(format!("synthetic={dead}"))
        .arg("--mirror")
        .arg(format!("synthetic={}", server.url()))
        .ok();
    assert!(
        run.stderr.contains(&format!("{dead}: refuses connections")),
        "{run}"
    );
    if !verbose {
        let mentions = run
            .stderr
            .lines()
            .filter(|l| l.contains(dead.trim_end_matches('/')))
            .count();
        assert!(mentions <= 2, "the dead mirror is named {mentions} times:\n{run}");
    }
    (dead, run)
}

/// The summary's count for the dead mirror: "N file(s) moved on to the next mirror, N retries"
/// (each file that moved on was retried once there first); N.
fn moved_on(dead: &str, run: &common::Run) -> usize {
    let summary = run
        .stderr
        .lines()
        .find_map(|l| l.trim().strip_prefix(&format!("{dead}: refuses connections: ")))
        .unwrap_or_else(|| panic!("no summary line for the dead mirror:\n{run}"));
    let n: usize = summary
        .split(' ')
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{summary:?}:\n{run}"));
    let retries = if n == 1 { "retry" } else { "retries" };
    assert_eq!(
        summary,
        format!("{n} file(s) moved on to the next mirror, {n} {retries}"),
        "{run}"
    );
    n
}

#[test]
fn a_dead_mirror_is_reported_once_with_the_files_that_moved_on() {
    // Files whose download began before the first refusal try the dead mirror and move on;
    // files begun after it try the dead mirror last, so never. How many began first depends on
    // scheduling (a loaded machine begins fewer at once), so the count is checked against what
    // happened: every file that moved on, as `-v` shows each.
    let (dead, run) = fetch_past_a_dead_mirror(false);
    assert!((1..=6).contains(&moved_on(&dead, &run)), "{run}");
    let (dead, run) = fetch_past_a_dead_mirror(true);
    let shown: Vec<&str> = run
        .stderr
        .lines()
        .filter(|l| l.contains(dead.trim_end_matches('/')) && l.ends_with("; moving on to the next mirror"))
        .collect();
    let files = (0..6)
        .filter(|i| shown.iter().any(|l| l.contains(&format!("pkg{i}=1.0"))))
        .count();
    assert!(files >= 1, "{run}");
    assert_eq!(moved_on(&dead, &run), files, "{run}");
}

/// Runs `args` of debcast under a pseudo-terminal (util-linux `script`); its output, or `None`
/// where `script` is missing. The terminal is an xterm whatever this process runs under: progress
/// bars are (rightly) not drawn on a `TERM=dumb` terminal or one without TERM, as CI gives.
fn on_a_terminal(dir: &std::path::Path, args: &str) -> Option<String> {
    let bin = env!("CARGO_BIN_EXE_debcast");
    let out = std::process::Command::new("script")
        .args(["-qec", &format!("{bin} {args}"), "/dev/null"])
        .env("TERM", "xterm")
        .current_dir(dir)
        .output()
        .ok()?;
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stdout));
    Some(String::from_utf8_lossy(&out.stdout).into_owned())
}

#[test]
fn build_shows_progress_on_a_terminal_only() {
    let p = project();
    let server = p.serve();
    let args = format!(
        "build image.toml --output out --cache-dir store --mirror synthetic={}",
        server.url()
    );
    let Some(tty) = on_a_terminal(p.path(), &args) else {
        eprintln!("skipped: no `script` to make a terminal");
        return;
    };
    assert!(tty.contains("assembling and compressing"), "{tty}");
    // Not in a log.
    let log = build(&p, "out2", &server.url()).ok();
    assert!(!log.stderr.contains("assembling and compressing"), "{log}");
}
