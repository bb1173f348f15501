//! End to end against the real Debian archive (mirrors from the host's apt sources, or
//! DEBCAST_MIRRORS; `just e2e` runs it): the SBOMs of the repository's manifests judged by the
//! standards' tools and compared with their locks, `debcast why` for every locked package, and
//! `debcast diff` of a package at its bookworm version against its bookworm-security update.
//!
//! `DEBCAST_E2E_STORE` names a package store to use (and fill) instead of a fresh one per test.

use crate::common;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use common::{Debcast, repo_root, tool};
use debcast::lockfile::Lockfile;
use debcast::manifest::LoadedManifest;

fn work_dir(name: &str) -> PathBuf {
    let dir = repo_root().join("target/e2e-explain").join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn store(work: &Path) -> PathBuf {
    std::env::var_os("DEBCAST_E2E_STORE").map_or_else(|| work.join("store"), PathBuf::from)
}

fn sbom_tools() -> PathBuf {
    let dir = std::env::var_os("DEBCAST_SBOM_TOOLS")
        .map_or_else(|| PathBuf::from("/opt/sbom-tools"), PathBuf::from);
    assert!(
        dir.join("bin/pyspdxtools").is_file(),
        "the SBOM validators are not installed in {} (see .ci/run)",
        dir.display()
    );
    dir
}

fn manifest_lock(name: &str) -> (PathBuf, LoadedManifest, Lockfile) {
    let path = repo_root().join(format!("manifests/{name}.toml"));
    let loaded = LoadedManifest::load(&path).unwrap();
    let lock = Lockfile::load_for(&loaded.default_lockfile_path(), &loaded.manifest, &path)
        .unwrap_or_else(|e| panic!("{e}"));
    (path, loaded, lock)
}

fn check_sboms(name: &str) {
    let (path, loaded, lock) = manifest_lock(name);
    let work = work_dir(name);
    Debcast::real_archive(&work)
        .arg("build")
        .arg(&path)
        .arg("--cache-dir")
        .arg(store(&work))
        .args(["--output", "image", "--sbom", "sbom"])
        .ok();
    debcast_testkit::oci::check_layout(&work.join("image")).unwrap_or_else(|e| panic!("{e}"));
    let tools = sbom_tools();
    for platform in &loaded.manifest.image.platforms {
        let stem = platform.to_string().replace('/', "-");
        let spdx = work.join(format!("sbom/{stem}.spdx.json"));
        let cdx = work.join(format!("sbom/{stem}.cdx.json"));
        tool(&tools.join("bin/pyspdxtools").to_string_lossy(), &[&"-i", &spdx]);
        tool(&tools.join("bin/ntia-checker").to_string_lossy(), &[&spdx]);
        let script = "import sys\nfrom cyclonedx.validation.json import JsonStrictValidator\nfrom cyclonedx.schema import SchemaVersion\nerr = JsonStrictValidator(SchemaVersion.V1_6).validate_str(open(sys.argv[1]).read())\nif err is not None:\n    sys.exit(f'CycloneDX 1.6 schema: {err}')\n";
        tool(
            &tools.join("bin/python").to_string_lossy(),
            &[&"-c", &script, &cdx],
        );
        let doc: serde_json::Value = serde_json::from_slice(&std::fs::read(&spdx).unwrap()).unwrap();
        let listed: BTreeSet<(String, String, String)> = doc["packages"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|p| p["SPDXID"].as_str().unwrap().starts_with("SPDXRef-deb-"))
            .map(|p| {
                let purl = p["externalRefs"][0]["referenceLocator"]
                    .as_str()
                    .unwrap()
                    .to_owned();
                let sha = p["checksums"][0]["checksumValue"].as_str().unwrap().to_owned();
                (p["name"].as_str().unwrap().to_owned(), purl, sha)
            })
            .collect();
        let locked: BTreeSet<(String, String, String)> = lock
            .packages_for(platform)
            .map(|p| {
                let purl_prefix = format!(
                    "pkg:deb/debian/{}@{}?arch={}&distro=debian-",
                    debcast::sbom::purl_encode(&p.name),
                    debcast::sbom::purl_encode(&p.version),
                    p.architecture
                );
                (p.name.clone(), purl_prefix, p.sha256.hex())
            })
            .collect();
        assert_eq!(listed.len(), locked.len(), "{name} {platform}");
        for ((n1, purl, sha1), (n2, prefix, sha2)) in listed.iter().zip(&locked) {
            assert_eq!((n1, sha1), (n2, sha2), "{name} {platform}");
            assert!(
                purl.starts_with(prefix.as_str()),
                "{purl} does not start with {prefix}"
            );
        }
        let with_license = doc["packages"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|p| p["licenseDeclared"] != "NOASSERTION")
            .count();
        assert!(
            with_license > 0,
            "{name} {platform}: no package has a machine-readable license"
        );
    }
}

#[test]
#[ignore = "needs the real archive: run with `just e2e`"]
fn sboms_of_static_are_valid_and_exact() {
    check_sboms("static");
}

#[test]
#[ignore = "needs the real archive: run with `just e2e`"]
fn sboms_of_base_are_valid_and_exact() {
    check_sboms("base");
}

#[test]
#[ignore = "needs the real archive and kube-cross's Go/protoc hosts (not reached from CI): run by name"]
fn sboms_of_kube_cross_are_valid_and_exact() {
    check_sboms("kube-cross");
}

#[test]
#[ignore = "needs the real archive: run with `just e2e`"]
fn why_answers_for_every_locked_package() {
    for name in ["static", "base"] {
        let (path, _, lock) = manifest_lock(name);
        let work = work_dir(&format!("why-{name}"));
        let names: BTreeSet<&str> = lock.packages.iter().map(|p| p.name.as_str()).collect();
        let run = Debcast::real_archive(&work)
            .arg("why")
            .arg(&path)
            .args(names.iter())
            .arg("--cache-dir")
            .arg(store(&work))
            .ok();
        for n in &names {
            assert!(
                run.stdout.contains(&format!("\n{n}:\n")) || run.stdout.starts_with(&format!("{n}:\n")),
                "{n} not answered"
            );
        }
        assert!(
            !run.stdout.contains("no dependency chain"),
            "{name}:\n{}",
            run.stdout
        );
        let chains = run.stdout.lines().filter(|l| l.starts_with("linux/")).count();
        assert_eq!(
            chains,
            lock.packages.len() + count_unlocked(&lock, &names),
            "{}",
            run.stdout
        );
    }
}

/// Answers saying "not locked for this platform" (a package of one platform only).
fn count_unlocked(lock: &Lockfile, names: &BTreeSet<&str>) -> usize {
    let platforms: BTreeSet<_> = lock.packages.iter().map(|p| &p.platform).collect();
    names
        .iter()
        .map(|n| platforms.len() - lock.packages.iter().filter(|p| p.name == *n).count())
        .sum()
}

const DIFF_MANIFEST: &str = r#"[image]
name = "diff"
platforms = ["linux/amd64"]

[[source]]
archive = "debian"
suites = ["bookworm"]
components = ["main"]
keyring = "/usr/share/keyrings/debian-archive-keyring.gpg"
SECURITY
[packages]
include = ["openssl", "libc6", "curl", "libxml2", "tzdata"]
"#;

const SECURITY: &str = r#"
[[source]]
archive = "debian-security"
suites = ["bookworm-security"]
components = ["main"]
keyring = "/usr/share/keyrings/debian-archive-keyring.gpg"
"#;

#[test]
#[ignore = "needs the real archive: run with `just e2e`"]
fn diff_of_bookworm_against_bookworm_security_names_changelogs_and_cves() {
    let work = work_dir("diff");
    for (file, security) in [("old.toml", ""), ("new.toml", SECURITY)] {
        std::fs::write(work.join(file), DIFF_MANIFEST.replace("SECURITY", security)).unwrap();
        Debcast::real_archive(&work).arg("lock").arg(file).ok();
    }
    let run = Debcast::real_archive(&work)
        .args(["diff", "old.lock", "new.lock", "--format", "json", "--cache-dir"])
        .arg(store(&work))
        .ok();
    let json: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let changed = json["platforms"]["linux/amd64"]["changed"].as_array().unwrap();
    assert!(
        !changed.is_empty(),
        "bookworm-security updates none of the packages any more: pick others\n{}",
        run.stdout
    );
    for c in changed {
        assert!(
            !c["changelog"].as_array().unwrap().is_empty(),
            "{} {} -> {}: no changelog entries",
            c["name"],
            c["from"],
            c["to"]
        );
    }
    assert!(
        changed.iter().any(|c| !c["cves"].as_array().unwrap().is_empty()),
        "no CVE named:\n{}",
        run.stdout
    );
    let text = Debcast::real_archive(&work)
        .args(["diff", "old.lock", "new.lock", "--offline", "--cache-dir"])
        .arg(store(&work))
        .ok()
        .stdout;
    assert!(text.contains("CVEs: CVE-"), "{text}");
    eprintln!("{text}");
}
