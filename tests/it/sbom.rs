//! SBOMs, `debcast diff` and `debcast why` on synthetic packages served on 127.0.0.1: the SBOMs
//! judged by the standards' own tools (SPDX's `pyspdxtools`, `cyclonedx-python-lib`'s 1.6 schema
//! validator, `ntia-checker`, from the venv `.ci/run` installs: `DEBCAST_SBOM_TOOLS`, default
//! `/opt/sbom-tools`), compared with the lock and the image's dpkg database, and copied with
//! skopeo to a `docker-registry` on loopback.

use crate::common;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use common::image::Project;
use common::{Debcast, tool};
use debcast_testkit::deb::{Compression, DebBuilder};
use serde_json::Value;

const REF: &str = "synthetic:test";

const DEP5: &str = "Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/
Upstream-Name: app

Files: *
Copyright: 2024 Someone
License: GPL-2+

Files: lib/*
Copyright: 2024 Someone Else
License: Expat or Apache-2.0

Files: odd/*
Copyright: 2024 Odd
License: Odd-License
 You may do odd things.
";

/// app (include) -> libfoo++1 (Pre-Depends) -> libc; app -> mta (virtual, from postfix);
/// `notes` has a free-form copyright file.
fn project() -> Project {
    let mut p = Project::new(&["linux/amd64", "linux/arm64"]);
    for arch in ["amd64", "arm64"] {
        let platform = format!("linux/{arch}");
        p.add(
            Some(&platform),
            DebBuilder::new("app", "1:2.0-1+b1", arch)
                .control_field("Source", "app-src (2.0-1)")
                .control_field("Maintainer", "Jane Doe <jane@example.invalid>")
                .depends("libfoo++1 (>= 1.0) | libbar")
                .depends("mail-transport-agent")
                .file("./usr/bin/app", "app", 0o755)
                .file("./usr/share/doc/app/copyright", DEP5, 0o644),
        );
        p.add(
            Some(&platform),
            DebBuilder::new("libfoo++1", "1.0-1", arch)
                .pre_depends("libc")
                .file("./usr/lib/libfoo.so.1", "lib", 0o644)
                .symlink("./usr/share/doc/libfoo++1", "app"),
        );
        p.add(
            Some(&platform),
            DebBuilder::new("libc", "2.36-9", arch).file("./usr/lib/libc.so.6", "libc", 0o644),
        );
        p.add(
            Some(&platform),
            DebBuilder::new("postfix", "3.7-1", arch)
                .control_field("Provides", "mail-transport-agent")
                .depends("libc (>= 2.30)")
                .file("./usr/sbin/postfix", "postfix", 0o755),
        );
    }
    p.add(
        None,
        DebBuilder::new("notes", "0.1-1", "all").file(
            "./usr/share/doc/notes/copyright",
            "Free text: GPL, more or less.\n",
            0o644,
        ),
    );
    p.include = Some(vec!["app".into(), "notes".into()]);
    p
}

/// The venv with pyspdxtools, ntia-checker and cyclonedx-python-lib (see `.ci/run`).
pub(crate) fn sbom_tools() -> PathBuf {
    let dir = std::env::var_os("DEBCAST_SBOM_TOOLS")
        .map_or_else(|| PathBuf::from("/opt/sbom-tools"), PathBuf::from);
    assert!(
        dir.join("bin/pyspdxtools").is_file(),
        "the SBOM validators are not installed in {} (`.ci/run` installs them; or set DEBCAST_SBOM_TOOLS to a venv with spdx-tools, ntia-conformance-checker and cyclonedx-python-lib[json-validation])",
        dir.display()
    );
    dir
}

/// Each document judged by its standard's tools: `pyspdxtools -i` (parse and validate SPDX),
/// `ntia-checker` (NTIA minimum elements), and cyclonedx-python-lib's strict CycloneDX 1.6 schema
/// validator; any failure panics with the tool's output.
pub(crate) fn validate(spdx: &Path, cdx: &Path) {
    let tools = sbom_tools();
    tool(&tools.join("bin/pyspdxtools").to_string_lossy(), &[&"-i", &spdx]);
    tool(&tools.join("bin/ntia-checker").to_string_lossy(), &[&spdx]);
    let script = "import sys\nfrom cyclonedx.validation.json import JsonStrictValidator\nfrom cyclonedx.schema import SchemaVersion\nerr = JsonStrictValidator(SchemaVersion.V1_6).validate_str(open(sys.argv[1]).read())\nif err is not None:\n    sys.exit(f'CycloneDX 1.6 schema: {err}')\n";
    tool(
        &tools.join("bin/python").to_string_lossy(),
        &[&"-c", &script, &cdx],
    );
}

pub(crate) fn read_json(path: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display())))
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn blob(layout: &Path, digest: &str) -> PathBuf {
    layout
        .join("blobs/sha256")
        .join(digest.trim_start_matches("sha256:"))
}

fn build(p: &Project, manifest: &Path, out: &str, url: &str, extra: &[&str]) {
    Debcast::new(p.path())
        .arg("build")
        .arg(manifest)
        .args(["--output", out, "--cache-dir", "store"])
        .arg("--mirror")
        .arg(format!("synthetic={url}"))
        .args(extra)
        .ok();
}

/// `(name, version, architecture)` of every CycloneDX component (each must carry its
/// `debcast:architecture` property: a component without one fails the caller's test).
pub(crate) fn cdx_packages(cdx: &Value) -> BTreeSet<(String, String, String)> {
    cdx["components"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            let arch = c["properties"]
                .as_array()
                .unwrap()
                .iter()
                .find(|p| p["name"] == "debcast:architecture")
                .unwrap_or_else(|| panic!("no debcast:architecture property: {c}"))["value"]
                .as_str()
                .unwrap()
                .to_owned();
            (
                c["name"].as_str().unwrap().into(),
                c["version"].as_str().unwrap().into(),
                arch,
            )
        })
        .collect()
}

/// `(name, version)` of the SPDX document's Debian packages (`SPDXRef-deb-…`).
pub(crate) fn spdx_debs(spdx: &Value) -> BTreeSet<(String, String)> {
    spdx["packages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["SPDXID"].as_str().unwrap().starts_with("SPDXRef-deb-"))
        .map(|p| {
            (
                p["name"].as_str().unwrap().into(),
                p["versionInfo"].as_str().unwrap().into(),
            )
        })
        .collect()
}

/// `(name, version, arch)` of the dpkg status file.
pub(crate) fn dpkg_status(text: &str) -> BTreeSet<(String, String, String)> {
    text.split("\n\n")
        .filter(|para| !para.trim().is_empty())
        .map(|para| {
            let field = |k: &str| {
                para.lines()
                    .find_map(|l| l.strip_prefix(&format!("{k}: ")))
                    .unwrap_or_default()
                    .to_owned()
            };
            (field("Package"), field("Version"), field("Architecture"))
        })
        .collect()
}

#[test]
fn build_attaches_valid_sboms_that_list_exactly_the_locked_packages() {
    let mut p = project();
    let manifest = p.write();
    let server = p.serve();
    let url = server.url();
    build(&p, &manifest, "out/image", &url, &["--sbom", "out/sbom"]);
    build(&p, &manifest, "out/plain", &url, &["--no-sbom"]);
    build(&p, &manifest, "out/again", &url, &["--sbom", "out/sbom-again"]);
    drop(server);
    let out = p.path().join("out/image");
    let report = debcast_testkit::oci::check_layout(&out).unwrap_or_else(|e| panic!("{e}"));

    // --no-sbom gives the layout as before SBOMs; the image manifests are the same either way.
    let plain = read_json(&p.path().join("out/plain/index.json"));
    assert!(
        plain["manifests"]
            .as_array()
            .unwrap()
            .iter()
            .all(|d| d.get("artifactType").is_none()),
        "{plain}"
    );
    let index = report.index.clone();
    let descriptors = index["manifests"].as_array().unwrap();
    for d in plain["manifests"].as_array().unwrap() {
        assert!(
            descriptors.contains(d),
            "{d} is not in the SBOM layout's index.json"
        );
    }
    // Same lock, same bytes.
    assert_eq!(
        std::fs::read(out.join("index.json")).unwrap(),
        std::fs::read(p.path().join("out/again/index.json")).unwrap()
    );

    let lock = std::fs::read_to_string(p.path().join("image.lock")).unwrap();
    let lock = debcast::lockfile::Lockfile::parse(&lock, Path::new("image.lock")).unwrap();
    for arch in ["amd64", "arm64"] {
        let platform_ref = format!("{REF}-linux-{arch}");
        let image = &report.refs[&platform_ref];
        for (kind, media_type, file) in [
            ("spdx", "application/spdx+json", "spdx.json"),
            ("cyclonedx", "application/vnd.cyclonedx+json", "cdx.json"),
        ] {
            let d = &report.refs[&format!("{platform_ref}-sbom-{kind}")];
            assert_eq!(d["artifactType"], media_type);
            let m = read_json(&blob(&out, d["digest"].as_str().unwrap()));
            assert_eq!(m["subject"]["digest"], image["digest"], "{m}");
            assert_eq!(m["config"]["mediaType"], "application/vnd.oci.empty.v1+json");
            assert_eq!(m["layers"][0]["mediaType"], media_type);
            // The --sbom file is the blob, byte for byte, and the same on a second build.
            let sbom_file = p.path().join(format!("out/sbom/linux-{arch}.{file}"));
            let bytes = std::fs::read(&sbom_file).unwrap();
            assert_eq!(
                bytes,
                std::fs::read(blob(&out, m["layers"][0]["digest"].as_str().unwrap())).unwrap()
            );
            assert_eq!(
                bytes,
                std::fs::read(p.path().join(format!("out/sbom-again/linux-{arch}.{file}"))).unwrap()
            );
        }
        let spdx_path = p.path().join(format!("out/sbom/linux-{arch}.spdx.json"));
        let cdx_path = p.path().join(format!("out/sbom/linux-{arch}.cdx.json"));
        validate(&spdx_path, &cdx_path);

        // SBOM = lock = dpkg status, one for one.
        let platform: debcast::platform::Platform = format!("linux/{arch}").parse().unwrap();
        let locked: BTreeSet<(String, String, String)> = lock
            .packages_for(&platform)
            .map(|p| (p.name.clone(), p.version.clone(), p.architecture.clone()))
            .collect();
        let bundle = p.path().join(format!("bundle-{arch}"));
        common::umoci_unpack(&out, &platform_ref, &bundle);
        let status = std::fs::read_to_string(bundle.join("rootfs/var/lib/dpkg/status")).unwrap();
        assert_eq!(dpkg_status(&status), locked);
        let cdx = read_json(&cdx_path);
        assert_eq!(cdx_packages(&cdx), locked);
        let spdx = read_json(&spdx_path);
        let spdx_pkgs: Vec<&Value> = spdx["packages"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|p| p["SPDXID"].as_str().unwrap().starts_with("SPDXRef-deb-"))
            .collect();
        assert_eq!(
            spdx_debs(&spdx),
            locked.iter().map(|(n, v, _)| (n.clone(), v.clone())).collect()
        );

        // purls, hashes, pool paths, suppliers, licenses.
        let pkg = |name: &str| *spdx_pkgs.iter().find(|p| p["name"] == name).unwrap();
        let app = pkg("app");
        let app_lock = lock.packages_for(&platform).find(|p| p.name == "app").unwrap();
        assert_eq!(
            app["externalRefs"][0]["referenceLocator"],
            format!("pkg:deb/debian/app@1%3A2.0-1%2Bb1?arch={arch}&upstream=app-src")
        );
        assert_eq!(app["checksums"][0]["checksumValue"], app_lock.sha256.hex());
        assert_eq!(app["packageFileName"], app_lock.path);
        assert_eq!(app["supplier"], "Person: Jane Doe (jane@example.invalid)");
        assert_eq!(
            app["licenseDeclared"],
            "GPL-2.0-or-later AND (MIT OR Apache-2.0) AND LicenseRef-Odd-License"
        );
        // libfoo++1's doc directory links to app's: app's copyright file is its own.
        assert_eq!(pkg("libfoo++1")["licenseDeclared"], app["licenseDeclared"]);
        assert_eq!(
            pkg("libfoo++1")["externalRefs"][0]["referenceLocator"],
            format!("pkg:deb/debian/libfoo%2B%2B1@1.0-1?arch={arch}")
        );
        assert_eq!(pkg("notes")["licenseDeclared"], "NOASSERTION");
        assert_eq!(pkg("libc")["licenseDeclared"], "NOASSERTION");
        let odd = spdx["hasExtractedLicensingInfos"]
            .as_array()
            .unwrap()
            .iter()
            .find(|l| l["licenseId"] == "LicenseRef-Odd-License")
            .unwrap();
        assert_eq!(odd["extractedText"], "You may do odd things.");
        // Dependencies as resolved: app -> libfoo++1 (not libbar), app -> postfix (the mta).
        let id = |name: &str| pkg(name)["SPDXID"].as_str().unwrap().to_owned();
        let deps: BTreeSet<(String, String)> = spdx["relationships"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| r["relationshipType"] == "DEPENDS_ON")
            .map(|r| {
                (
                    r["spdxElementId"].as_str().unwrap().into(),
                    r["relatedSpdxElement"].as_str().unwrap().into(),
                )
            })
            .collect();
        let want: BTreeSet<(String, String)> = [
            ("app", "libfoo++1"),
            ("app", "postfix"),
            ("libfoo++1", "libc"),
            ("postfix", "libc"),
        ]
        .iter()
        .map(|(a, b)| (id(a), id(b)))
        .collect();
        assert_eq!(deps, want);
        assert_eq!(spdx["creationInfo"]["created"], "2023-01-01T00:00:00Z");
        assert_eq!(cdx["metadata"]["timestamp"], "2023-01-01T00:00:00Z");
    }
    skopeo_copy_keeps_digests(&out, &report);
}

/// A `docker-registry` on 127.0.0.1, stopped when dropped.
struct Registry {
    child: Child,
    addr: String,
    _dir: tempfile::TempDir,
}

impl Drop for Registry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_registry() -> Registry {
    let dir = common::tempdir();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let addr = format!("127.0.0.1:{port}");
    let config = dir.path().join("config.yml");
    std::fs::write(
        &config,
        format!(
            "version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: {}\nhttp:\n  addr: {addr}\n",
            dir.path().join("data").display()
        ),
    )
    .unwrap();
    let child = Command::new("docker-registry")
        .arg("serve")
        .arg(&config)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run docker-registry ({e}); install it (see .ci/run)"));
    let registry = Registry {
        child,
        addr,
        _dir: dir,
    };
    for _ in 0..100 {
        if std::net::TcpStream::connect(&registry.addr).is_ok() {
            return registry;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    panic!("docker-registry did not listen on {}", registry.addr);
}

/// skopeo copies each platform image and its two SBOM manifests (by their ref names: skopeo's
/// `oci:` transport takes no digest references) to a registry; the registry serves every one
/// with its digest unchanged.
fn skopeo_copy_keeps_digests(out: &Path, report: &debcast_testkit::oci::LayoutReport) {
    let registry = start_registry();
    for (name, d) in &report.refs {
        if name == REF {
            continue;
        }
        let tag = name.trim_start_matches(&format!("{REF}-"));
        let dest = format!("docker://{}/synthetic:{tag}", registry.addr);
        tool(
            "skopeo",
            &[
                &"copy",
                &"--dest-tls-verify=false",
                &format!("oci:{}:{name}", out.display()),
                &dest,
            ],
        );
        let raw = tool("skopeo", &[&"inspect", &"--tls-verify=false", &"--raw", &dest]);
        let digest = format!("sha256:{}", debcast::hash::Sha256Digest::of(raw.as_bytes()).hex());
        assert_eq!(
            digest,
            d["digest"].as_str().unwrap(),
            "{name} changed its digest in the registry"
        );
    }
    // The whole multi-platform image too.
    let dest = format!("docker://{}/synthetic:test", registry.addr);
    tool(
        "skopeo",
        &[
            &"copy",
            &"--all",
            &"--dest-tls-verify=false",
            &format!("oci:{}:{REF}", out.display()),
            &dest,
        ],
    );
    let raw = tool("skopeo", &[&"inspect", &"--tls-verify=false", &"--raw", &dest]);
    let digest = format!("sha256:{}", debcast::hash::Sha256Digest::of(raw.as_bytes()).hex());
    assert_eq!(digest, report.refs[REF]["digest"].as_str().unwrap());
}

const CHANGELOG: &str = "libfoo (1.0-3) unstable; urgency=high

  * Fix a heap overflow (CVE-2024-1111).

 -- Jane Doe <jane@example.invalid>  Mon, 01 Jan 2024 00:00:00 +0000

libfoo (1.0-2) unstable; urgency=medium

  * Fix CVE-2023-2222 and CVE-2023-3333.

 -- Jane Doe <jane@example.invalid>  Sun, 01 Oct 2023 00:00:00 +0000

libfoo (1.0-1) unstable; urgency=low

  * Initial release; closes CVE-2020-0001 (not in the diff).

 -- Jane Doe <jane@example.invalid>  Sat, 01 Jan 2022 00:00:00 +0000
";

fn version_project(libfoo: &str, extra: &str, changelog: &str) -> Project {
    let mut p = Project::new(&["linux/amd64"]);
    p.add(
        None,
        DebBuilder::new("libfoo", libfoo, "amd64").file(
            "./usr/share/doc/libfoo/changelog.Debian.gz",
            Compression::Gzip.compress(changelog.as_bytes()),
            0o644,
        ),
    );
    p.add(None, DebBuilder::new("same", "1", "amd64"));
    p.add(None, DebBuilder::new(extra, "1", "all"));
    p
}

#[test]
fn diff_lists_changed_packages_with_changelog_entries_and_cves() {
    let mut old = version_project("1.0-1", "gone", "");
    old.write();
    let mut new = version_project("1.0-3", "added", CHANGELOG);
    new.write();
    let server = new.serve();
    let dir = common::tempdir();
    let diff = |format: &str, extra: &[&str]| {
        Debcast::new(dir.path())
            .arg("diff")
            .arg(old.path().join("image.lock"))
            .arg(new.path().join("image.lock"))
            .args(["--format", format, "--cache-dir", "store"])
            .args(extra)
            .ok()
            .stdout
    };
    // Offline with an empty store: the changes, without changelogs.
    let offline: Value = serde_json::from_str(&diff("json", &["--offline"])).unwrap();
    assert_eq!(
        offline["platforms"]["linux/amd64"]["changed"][0]["changelog_available"],
        false
    );
    // The new .deb is fetched from the mirror and its changelog read.
    let mirror = format!("synthetic={}", server.url());
    let json: Value = serde_json::from_str(&diff("json", &["--mirror", &mirror])).unwrap();
    drop(server);
    let amd64 = &json["platforms"]["linux/amd64"];
    assert_eq!(
        amd64["added"],
        serde_json::json!([{"name": "added", "version": "1", "architecture": "all"}])
    );
    assert_eq!(
        amd64["removed"],
        serde_json::json!([{"name": "gone", "version": "1", "architecture": "all"}])
    );
    let changed = amd64["changed"].as_array().unwrap();
    assert_eq!(changed.len(), 1, "{json}");
    assert_eq!(changed[0]["name"], "libfoo");
    assert_eq!(changed[0]["from"], "1.0-1");
    assert_eq!(changed[0]["to"], "1.0-3");
    assert_eq!(
        changed[0]["cves"],
        serde_json::json!(["CVE-2023-2222", "CVE-2023-3333", "CVE-2024-1111"])
    );
    let versions: Vec<&str> = changed[0]["changelog"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["version"].as_str().unwrap())
        .collect();
    assert_eq!(versions, ["1.0-3", "1.0-2"]);
    assert_eq!(changed[0]["changelog"][0]["urgency"], "high");

    // Now in the store: text and markdown offline.
    let text = diff("text", &["--offline"]);
    for needle in [
        "linux/amd64:",
        "+ added 1 (all)",
        "- gone 1 (all)",
        "~ libfoo 1.0-1 -> 1.0-3 (amd64)",
        "CVEs: CVE-2023-2222, CVE-2023-3333, CVE-2024-1111",
        "* Fix a heap overflow (CVE-2024-1111).",
        "1 added, 1 removed, 1 changed",
    ] {
        assert!(text.contains(needle), "{needle:?} not in:\n{text}");
    }
    assert!(!text.contains("CVE-2020-0001"), "{text}");
    let md = diff("markdown", &["--offline"]);
    assert!(
        md.contains("| ~ | `libfoo` | `1.0-1` | `1.0-3` | CVE-2023-2222, CVE-2023-3333, CVE-2024-1111 |"),
        "{md}"
    );
    assert!(md.contains("### linux/amd64"), "{md}");
}

#[test]
fn diff_of_two_layouts_names_new_layers() {
    let mut old = version_project("1.0-1", "gone", "");
    let old_manifest = old.write();
    let mut new = version_project("1.0-3", "added", CHANGELOG);
    let new_manifest = new.write();
    let (s1, s2) = (old.serve(), new.serve());
    build(&old, &old_manifest, "out", &s1.url(), &[]);
    build(&new, &new_manifest, "out", &s2.url(), &[]);
    drop((s1, s2));
    let run = Debcast::new(new.path())
        .arg("diff")
        .arg(old.path().join("out"))
        .arg(new.path().join("out"))
        .args(["--format", "json", "--cache-dir", "store", "--offline"])
        .ok();
    let json: Value = serde_json::from_str(&run.stdout).unwrap();
    let amd64 = &json["platforms"]["linux/amd64"];
    assert_eq!(amd64["changed"][0]["cves"][2], "CVE-2024-1111", "{json}");
    assert!(amd64["layers"]["push_bytes"].as_u64().unwrap() > 0, "{json}");
    assert!(!amd64["layers"]["new"].as_array().unwrap().is_empty(), "{json}");
}

#[test]
fn why_gives_the_chain_for_every_locked_package() {
    let mut p = project();
    let manifest = p.write();
    let server = p.serve();
    let mirror = format!("synthetic={}", server.url());
    let why = |pkg: &str| {
        Debcast::new(p.path())
            .arg("why")
            .arg(&manifest)
            .arg(pkg)
            .args(["--cache-dir", "store", "--mirror", &mirror])
            .ok()
            .stdout
    };
    let out = why("libc");
    assert!(
        out.contains(
            "linux/amd64: app 1:2.0-1+b1 (include) -> libfoo++1 1.0-1 (Depends: libfoo++1 (>= 1.0)) -> libc 2.36-9 (Pre-Depends: libc)"
        ),
        "{out}"
    );
    assert!(out.contains("linux/arm64: app"), "{out}");
    assert!(out.contains("needed directly by: libfoo++1, postfix"), "{out}");
    let out = why("postfix");
    assert!(
        out.contains("-> postfix 3.7-1 (Depends: mail-transport-agent)"),
        "{out}"
    );
    for pkg in ["app", "notes"] {
        let out = why(pkg);
        assert!(
            out.contains(&format!("{pkg} ")) && out.contains("(include)"),
            "{out}"
        );
    }
    let run = Debcast::new(p.path())
        .arg("why")
        .arg(&manifest)
        .arg("libbar")
        .args(["--cache-dir", "store", "--offline"])
        .fails();
    run.stderr_has(&["libbar is not locked"]);
    // Answered from the signed indices: no `.deb` was downloaded.
    let debs = p.path().join("store/debs/sha256");
    let fetched: Vec<_> = std::fs::read_dir(&debs)
        .map(|d| d.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    assert!(fetched.is_empty(), "{fetched:?}");
    // Offline, from the Releases and indices the store kept.
    let run = Debcast::new(p.path())
        .arg("why")
        .arg(&manifest)
        .arg("libc")
        .args(["--cache-dir", "store", "--offline"])
        .ok();
    assert!(run.stdout.contains("(Pre-Depends: libc)"), "{run}");
}
