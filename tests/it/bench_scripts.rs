//! The build benchmark (`scripts/bench.sh`) stops with a non-zero exit when a reference pipeline
//! fails or produces nothing, instead of printing a ratio against nothing. The references are
//! replaced by commands that fail (`BENCH_REF_A`, `BENCH_REF_B`); the store is filled from a
//! synthetic archive on 127.0.0.1, so nothing here needs the network.

use crate::common;

use std::process::Command;

use common::image::Project;
use common::{Debcast, repo_root};
use debcast_testkit::deb::DebBuilder;

struct Bench {
    project: Project,
}

impl Bench {
    fn new() -> Self {
        let mut project = Project::new(&["linux/amd64"]);
        project.add(
            None,
            DebBuilder::new("good", "1.0", "amd64").file("./usr/share/good/file", "good\n", 0o644),
        );
        project.write();
        let server = project.serve();
        Debcast::new(project.path())
            .args(["fetch", "image.toml", "--cache-dir", "store", "--mirror"])
            .arg(format!("synthetic={}", server.url()))
            .ok();
        Bench { project }
    }

    /// Runs `scripts/bench.sh image.toml linux/amd64` with `env`; returns (exit code, stderr).
    fn run(&self, env: &[(&str, &str)]) -> (Option<i32>, String) {
        let mut cmd = Command::new("bash");
        cmd.arg(repo_root().join("scripts/bench.sh"))
            .args(["image.toml", "linux/amd64"])
            .current_dir(self.project.path())
            .env("DEBCAST_BIN", env!("CARGO_BIN_EXE_debcast"))
            .env("DEBCAST_CACHE_DIR", "store")
            .env("TMPDIR", self.project.path())
            .env_remove("BENCH_REF_A")
            .env_remove("BENCH_REF_B")
            .env_remove("SKIP_MMDEBSTRAP");
        for (k, v) in env {
            cmd.env(k, v);
        }
        let out = cmd.output().unwrap_or_else(|e| panic!("bash: {e}"));
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }
}

/// A reference that writes a tarball holding one file.
const A_TARBALL: &str = r#"d=$(mktemp -d); echo x >"$d/f"; tar -C "$d" -c f | gzip >"$out"; rm -rf "$d""#;

#[test]
fn a_reference_that_fails_or_produces_nothing_fails_the_benchmark() {
    let bench = Bench::new();
    for (which, cmd, expect) in [
        // Exits 0 and writes nothing.
        ("BENCH_REF_A", "true", "reference ref_a produced nothing usable"),
        // A failure early in a pipe whose last command succeeds (what hid mmdebstrap's).
        ("BENCH_REF_A", "false | gzip >\"$out\"", "reference ref_a failed"),
        // A valid gzip of an empty tar: no files.
        (
            "BENCH_REF_A",
            "tar -c -T /dev/null | gzip >\"$out\"",
            "reference ref_a produced nothing usable",
        ),
    ] {
        let (code, stderr) = bench.run(&[(which, cmd)]);
        assert!(
            code.is_some_and(|c| c != 0),
            "{which}={cmd}: exit {code:?}\n{stderr}"
        );
        assert!(
            stderr.contains(expect),
            "{which}={cmd}: stderr lacks {expect:?}:\n{stderr}"
        );
        assert!(!stderr.contains("vs (a)"), "{stderr}");
    }
    // The real reference (a) works on these .debs; a failing (b) still stops the run.
    let (code, stderr) = bench.run(&[("BENCH_REF_B", "printf '' | gzip >\"$out\"")]);
    assert!(code.is_some_and(|c| c != 0), "exit {code:?}\n{stderr}");
    assert!(
        !stderr.contains("reference ref_a") && stderr.contains("reference ref_b produced nothing usable"),
        "{stderr}"
    );
    // With both references producing a tarball the run gets past them (and stops later, since a
    // one-package archive has no other version to rebuild with).
    let (_, stderr) = bench.run(&[("BENCH_REF_B", A_TARBALL)]);
    assert!(!stderr.contains("bench: reference"), "{stderr}");
    assert!(
        stderr.contains("no package of the lock has another version"),
        "{stderr}"
    );
}
