//! The lock is not trusted on its own word: every locked package must be listed, with its pool
//! path, size and SHA-256, in a signed index of a Release the lock names. A lockfile edited to
//! point at another `.deb` of the same name and version (other bytes, with their right size and
//! hash, served by the mirror) is refused by `lock --check`, `fetch` and `build`, online and
//! offline, before anything is fetched or built; an honest lock passes all of them.

use crate::common;

use std::path::Path;

use common::Debcast;
use common::image::Project;
use debcast::hash::Sha256Digest;
use debcast_testkit::deb::DebBuilder;
use debcast_testkit::server::Server;

const FORGED_PATH: &str = "pool/main/tool/tool_1.0_amd64.deb.forged";

fn project() -> Project {
    let mut p = Project::new(&["linux/amd64"]);
    p.add(
        None,
        DebBuilder::new("base", "1.0", "amd64").file("./usr/share/base/file", "base\n", 0o644),
    );
    p.add(
        None,
        DebBuilder::new("tool", "1.0", "amd64").file("./usr/bin/tool", "#!/bin/sh\necho honest\n", 0o755),
    );
    p.write();
    p
}

/// Other bytes under the same name and version, served by the mirror beside the real ones.
fn forged_deb() -> Vec<u8> {
    DebBuilder::new("tool", "1.0", "amd64")
        .file("./usr/bin/tool", "#!/bin/sh\necho forged\n", 0o755)
        .build()
}

fn run(p: &Project, server: &Server, args: &[&str]) -> Debcast {
    Debcast::new(p.path())
        .args(args)
        .args(["--cache-dir", "store", "--mirror"])
        .arg(format!("synthetic={}", server.url()))
}

/// Points `tool`'s `[[package]]` at the forged file: path, size and SHA-256, nothing else.
fn forge_lock(dir: &Path, forged: &[u8]) {
    let path = dir.join("image.lock");
    let text = std::fs::read_to_string(&path).unwrap();
    let mut out = String::new();
    for block in text.split_inclusive("[[package]]") {
        if block.contains("name = \"tool\"") {
            let edited: Vec<String> = block
                .lines()
                .map(|l| {
                    if l.starts_with("path = ") {
                        format!("path = \"{FORGED_PATH}\"")
                    } else if l.starts_with("size = ") {
                        format!("size = {}", forged.len())
                    } else if l.starts_with("sha256 = ") {
                        format!("sha256 = \"{}\"", Sha256Digest::of(forged).hex())
                    } else {
                        l.to_owned()
                    }
                })
                .collect();
            out.push_str(&edited.join("\n"));
            if block.ends_with('\n') {
                out.push('\n');
            }
        } else {
            out.push_str(block);
        }
    }
    assert_ne!(out, text, "the lock was not edited");
    std::fs::write(&path, out).unwrap();
}

fn refused(stderr: &str) {
    for needle in [
        "tool=1.0 (amd64)",
        "not listed",
        "synthetic/stable/main/binary-amd64",
        FORGED_PATH,
    ] {
        assert!(stderr.contains(needle), "stderr lacks {needle:?}:\n{stderr}");
    }
}

#[test]
fn an_honest_lock_passes_check_fetch_and_build_online_and_offline() {
    let p = project();
    let server = p.serve();
    run(&p, &server, &["lock", "image.toml", "--check"])
        .ok()
        .stderr_has(&["up to date"]);
    run(&p, &server, &["fetch", "image.toml"]).ok();
    run(&p, &server, &["build", "image.toml", "--output", "out"]).ok();
    drop(server);
    // Offline, the store proves it: the signed Release `fetch` kept and the indices.
    let offline = |args: &[&str]| {
        Debcast::new(p.path())
            .args(args)
            .args(["--cache-dir", "store", "--offline"])
    };
    offline(&["lock", "image.toml", "--check"]).ok();
    offline(&["fetch", "image.toml"]).ok();
    offline(&["build", "image.toml", "--output", "out2"]).ok();
}

#[test]
fn a_forged_lock_entry_is_refused_online_and_offline() {
    let mut p = project();
    let forged = forged_deb();
    p.pool.insert(FORGED_PATH.to_owned(), forged.clone());
    let server = p.serve();
    // A warm store: the honest lock fetched once (so the Release and indices are there).
    run(&p, &server, &["fetch", "image.toml"]).ok();
    forge_lock(p.path(), &forged);

    let check = run(&p, &server, &["lock", "image.toml", "--check"]).fails();
    refused(&check.stderr);
    let fetch = run(&p, &server, &["fetch", "image.toml"]).fails();
    refused(&fetch.stderr);
    let build = run(&p, &server, &["build", "image.toml", "--output", "out"]).fails();
    refused(&build.stderr);
    assert!(!p.path().join("out").exists(), "a refused build left output");
    // Nothing of the forged file was fetched.
    let forged_in_store = p
        .path()
        .join("store/debs/sha256")
        .join(format!("{}.deb", Sha256Digest::of(&forged).hex()));
    assert!(!forged_in_store.exists(), "the forged .deb was fetched");
    drop(server);

    // Offline, even with the forged bytes in the store.
    std::fs::write(&forged_in_store, &forged).unwrap();
    let offline = |args: &[&str]| {
        Debcast::new(p.path())
            .args(args)
            .args(["--cache-dir", "store", "--offline"])
            .fails()
    };
    refused(&offline(&["lock", "image.toml", "--check"]).stderr);
    refused(&offline(&["fetch", "image.toml"]).stderr);
    refused(&offline(&["build", "image.toml", "--output", "out"]).stderr);
    assert!(!p.path().join("out").exists(), "a refused build left output");
}

#[test]
fn a_cold_store_fetches_the_proof_and_a_lock_without_release_hashes_asks_to_relock() {
    let mut p = project();
    let forged = forged_deb();
    p.pool.insert(FORGED_PATH.to_owned(), forged.clone());
    let server = p.serve();
    // Cold store, online: the Release and indices are fetched to check the forged lock.
    forge_lock(p.path(), &forged);
    refused(
        &run(&p, &server, &["build", "image.toml", "--output", "out"])
            .fails()
            .stderr,
    );

    // A lock written before Releases were pinned by hash cannot be checked: re-lock.
    let path = p.path().join("image.lock");
    let text = std::fs::read_to_string(&path).unwrap();
    let old: String = text
        .lines()
        .filter(|l| {
            !(l.starts_with("sha256 = ")
                && text.contains(&format!("date = \"{}\"\n{l}", common::image::RELEASE_DATE)))
        })
        .map(|l| format!("{l}\n"))
        .collect();
    assert_ne!(old, text);
    std::fs::write(&path, old).unwrap();
    run(&p, &server, &["fetch", "image.toml"])
        .fails()
        .stderr_has(&["records no SHA-256", "debcast lock"]);
}
