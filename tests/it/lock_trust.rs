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

/// The same command offline, from what the store kept.
fn offline(p: &Project, args: &[&str]) -> Debcast {
    Debcast::new(p.path())
        .args(args)
        .args(["--cache-dir", "store", "--offline"])
}

/// `lock --check` and `build` both refuse, saying each of `needles`, and the build leaves no
/// output.
fn check_and_build_refuse(p: &Project, server: &Server, needles: &[&str]) {
    for args in [
        &["lock", "image.toml", "--check"][..],
        &["build", "image.toml", "--output", "out"],
    ] {
        run(p, server, args).fails().stderr_has(needles);
    }
    assert!(!p.path().join("out").exists(), "a refused build left output");
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
    offline(&p, &["lock", "image.toml", "--check"]).ok();
    offline(&p, &["fetch", "image.toml"]).ok();
    offline(&p, &["build", "image.toml", "--output", "out2"]).ok();
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

    // Offline, the forged entry is named as such (not as a package to fetch), and so it is
    // with the forged bytes in the store.
    for args in [
        &["fetch", "image.toml"][..],
        &["build", "image.toml", "--output", "out"],
    ] {
        let run = offline(&p, args).fails();
        refused(&run.stderr);
        assert!(!run.stderr.contains("not in the package store"), "{run}");
    }
    std::fs::write(&forged_in_store, &forged).unwrap();
    for args in [
        &["lock", "image.toml", "--check"][..],
        &["fetch", "image.toml"],
        &["build", "image.toml", "--output", "out"],
    ] {
        refused(&offline(&p, args).fails().stderr);
    }
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

/// The lock names a Release of a suite the manifest does not list (another suite's signed
/// indices would vouch for packages the manifest never allows): refused before anything is read.
#[test]
fn a_release_of_a_suite_the_manifest_does_not_list_is_refused() {
    let p = project();
    let server = p.serve();
    let path = p.path().join("image.lock");
    let text = std::fs::read_to_string(&path).unwrap();
    let release = text
        .split("[[release]]")
        .nth(1)
        .and_then(|r| r.split("[[").next())
        .unwrap_or_else(|| panic!("no [[release]] in:\n{text}"));
    let extra = format!(
        "[[release]]{}",
        release.replace("suite = \"stable\"", "suite = \"stable-backports\"")
    );
    assert!(extra.contains("stable-backports"), "{extra}");
    std::fs::write(
        &path,
        text.replacen("[[release]]", &format!("{extra}[[release]]"), 1),
    )
    .unwrap();
    for args in [
        &["lock", "image.toml", "--check"][..],
        &["fetch", "image.toml"],
        &["build", "image.toml", "--output", "out"],
    ] {
        run(&p, &server, args).fails().stderr_has(&[
            "`synthetic` suite `stable-backports`",
            "no [[source]] of",
            "debcast lock",
        ]);
    }
    assert!(!p.path().join("out").exists(), "a refused build left output");
}

/// Genuine packages (each listed in the signed index) that are not what the manifest resolves to:
/// one nothing asks for, or the lock without a package another needs. Refused by `lock --check`
/// and `build`, online and offline, naming the package.
#[test]
fn a_lock_set_other_than_the_manifests_resolution_is_refused() {
    let mut p = Project::new(&["linux/amd64"]);
    p.add(
        None,
        DebBuilder::new("base", "1.0", "amd64").file("./usr/share/base/file", "base\n", 0o644),
    );
    p.add(
        None,
        DebBuilder::new("tool", "1.0", "amd64")
            .depends("base (>= 1.0)")
            .file("./usr/bin/tool", "#!/bin/sh\necho honest\n", 0o755),
    );
    p.add(
        None,
        DebBuilder::new("hello", "2.10-3", "amd64").file("./usr/bin/hello", "#!/bin/sh\n", 0o755),
    );
    // The manifest asks for tool only; the lock written holds hello as well.
    p.include = Some(vec!["tool".into()]);
    p.write();
    let server = p.serve();
    let extra = [
        "hello 2.10-3 (amd64)",
        "no dependency chain from the manifest's packages",
    ];
    check_and_build_refuse(&p, &server, &extra);

    // Without hello the lock is the manifest's; without base as well, tool's dependency is gone.
    let path = p.path().join("image.lock");
    let text = std::fs::read_to_string(&path).unwrap();
    let without = |text: &str, name: &str| -> String {
        let blocks: Vec<&str> = text.split("[[package]]").collect();
        let mut out = blocks[0].to_owned();
        for b in &blocks[1..] {
            if !b.contains(&format!("name = \"{name}\"")) {
                out.push_str("[[package]]");
                out.push_str(b);
            }
        }
        out
    };
    let honest = without(&text, "hello");
    std::fs::write(&path, &honest).unwrap();
    run(&p, &server, &["lock", "image.toml", "--check"])
        .ok()
        .stderr_has(&["up to date"]);
    run(&p, &server, &["fetch", "image.toml"]).ok();
    std::fs::write(&path, without(&honest, "base")).unwrap();
    let missing = ["linux/amd64", "do not hold everything", "base"];
    run(&p, &server, &["build", "image.toml", "--output", "out"])
        .fails()
        .stderr_has(&missing);
    drop(server);
    offline(&p, &["build", "image.toml", "--output", "out"])
        .fails()
        .stderr_has(&missing);
    assert!(!p.path().join("out").exists(), "a refused build left output");
}

/// The date a `[[release]]` records is the signed Release's: it sets the image's creation time,
/// so an edited one is refused (online, and offline from the Release the store kept).
#[test]
fn an_edited_release_date_is_refused() {
    let p = project();
    let server = p.serve();
    run(&p, &server, &["fetch", "image.toml"]).ok();
    let path = p.path().join("image.lock");
    let text = std::fs::read_to_string(&path).unwrap();
    let edited = text.replace(
        &format!("date = \"{}\"", common::image::RELEASE_DATE),
        "date = \"Tue, 01 Jan 2030 00:00:00 UTC\"",
    );
    assert_ne!(edited, text, "no release date in:\n{text}");
    std::fs::write(&path, edited).unwrap();
    let needles = [
        "Tue, 01 Jan 2030 00:00:00 UTC",
        common::image::RELEASE_DATE,
        "signed Release",
    ];
    check_and_build_refuse(&p, &server, &needles);
    drop(server);
    offline(&p, &["build", "image.toml", "--output", "out"])
        .fails()
        .stderr_has(&needles);
    assert!(!p.path().join("out").exists(), "a refused build left output");
}
