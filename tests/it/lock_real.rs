//! `debcast lock` of the repository's manifests against the real Debian archive (through the
//! host's apt sources or DEBCAST_MIRRORS), with apt as the oracle: for every manifest and
//! platform, `apt-get install -s` from an empty dpkg status, in a throw-away APT configuration
//! over the same suites of the same mirror, must install exactly the locked name=version set.
//! Needs the network: ignored by default, run by `just e2e`.

use crate::common;

use std::collections::BTreeSet;
use std::process::Command;

use common::{Debcast, repo_root};
use debcast::fetch::mirrors::Mirrors;
use debcast::lockfile::Lockfile;
use debcast::manifest::{LoadedManifest, Manifest};
use debcast::platform::Platform;

/// A throw-away APT configuration over `manifest`'s sources for one architecture, updated.
struct AptSandbox {
    dir: tempfile::TempDir,
}

impl AptSandbox {
    fn new(loaded: &LoadedManifest, arch: &str) -> AptSandbox {
        let dir = common::tempdir();
        let d = dir.path();
        for sub in [
            "state/lists/partial",
            "cache/archives/partial",
            "etc/apt.conf.d",
            "etc/preferences.d",
            "etc/sources.list.d",
            "log",
        ] {
            std::fs::create_dir_all(d.join(sub)).unwrap();
        }
        std::fs::write(d.join("state/status"), "").unwrap();
        let manifest = &loaded.manifest;
        let mut mirrors = Mirrors::from_environment(&[]).unwrap_or_else(|e| panic!("{e}"));
        for s in &manifest.sources {
            mirrors = mirrors.with_suites(&s.archive, &s.suites);
        }
        let mut sources = String::new();
        for s in &manifest.sources {
            let mirror = mirrors
                .resolve(&s.archive)
                .unwrap_or_else(|e| panic!("{e}"))
                .into_iter()
                .next()
                .unwrap_or_else(|| panic!("no mirror for {}", s.archive));
            for suite in &s.suites {
                sources.push_str(&format!(
                    "deb [arch={arch} signed-by={}] {} {suite} {}\n",
                    loaded.keyring_path(s).display(),
                    mirror.url,
                    s.components.join(" ")
                ));
            }
        }
        std::fs::write(d.join("etc/sources.list"), sources).unwrap();
        let p = d.display();
        std::fs::write(
            d.join("apt.conf"),
            format!(
                r#"Dir::State "{p}/state/";
Dir::State::status "{p}/state/status";
Dir::Cache "{p}/cache/";
Dir::Etc::SourceList "{p}/etc/sources.list";
Dir::Etc::SourceParts "{p}/etc/sources.list.d";
Dir::Etc::main "/dev/null";
Dir::Etc::Parts "{p}/etc/apt.conf.d";
Dir::Etc::Preferences "{p}/etc/preferences";
Dir::Etc::PreferencesParts "{p}/etc/preferences.d";
Dir::Log "{p}/log";
APT::Architecture "{arch}";
APT::Architectures {{ "{arch}"; }};
APT::Install-Recommends "false";
APT::Install-Suggests "false";
Debug::NoLocking "1";
Acquire::Languages "none";
Acquire::Check-Valid-Until "false";
"#
            ),
        )
        .unwrap();
        let sandbox = AptSandbox { dir };
        let out = sandbox.apt_get(&["-q", "update"]);
        assert!(
            out.status.success(),
            "apt-get update failed:\n{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        sandbox
    }

    fn apt_get(&self, args: &[&str]) -> std::process::Output {
        Command::new("apt-get")
            .env("APT_CONFIG", self.dir.path().join("apt.conf"))
            .env("LC_ALL", "C")
            .args(args)
            .output()
            .unwrap_or_else(|e| panic!("apt-get: {e}"))
    }

    /// `apt-get install -s` of the manifest's request for `platform`: name=version it installs.
    /// apt has no `no-depends`: those packages are what apt would install of them by name (their
    /// candidates, from a run whose other lines are dropped), next to what it installs for the
    /// rest of the request.
    fn install(&self, manifest: &Manifest, platform: &Platform) -> BTreeSet<String> {
        let (include, exclude) = manifest.requests_for(platform);
        let no_depends = &manifest.packages.no_depends;
        let (alone, include): (Vec<_>, Vec<_>) =
            include.into_iter().partition(|r| no_depends.contains(&r.name));
        let mut set = BTreeSet::new();
        if !alone.is_empty() {
            let names: Vec<String> = alone.iter().map(|r| r.name.clone()).collect();
            set.extend(
                self.install_request(manifest, &alone, &[], false)
                    .into_iter()
                    .filter(|nv| {
                        names
                            .iter()
                            .any(|n| nv.split_once('=').is_some_and(|(name, _)| name == n))
                    }),
            );
        }
        if !include.is_empty() || manifest.packages.required {
            set.extend(self.install_request(manifest, &include, &exclude, manifest.packages.required));
        }
        set
    }

    fn install_request(
        &self,
        manifest: &Manifest,
        include: &[debcast::manifest::PackageRequest],
        exclude: &[String],
        required: bool,
    ) -> BTreeSet<String> {
        let mut args: Vec<String> = vec![
            "-q".into(),
            "-s".into(),
            "-o".into(),
            format!("APT::Install-Recommends={}", manifest.packages.recommends),
            "install".into(),
        ];
        args.extend(include.iter().map(|r| match &r.version {
            Some(v) => format!("{}={v}", r.name),
            None => r.name.clone(),
        }));
        if required {
            // debootstrap's minbase: every package of priority required.
            args.push("?priority(required)".into());
        }
        args.extend(exclude.iter().map(|e| format!("{e}-")));
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let out = self.apt_get(&args);
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "apt-get {}:\n{stdout}{}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr)
        );
        // `Inst NAME (VERSION SUITE [ARCH])`
        stdout
            .lines()
            .filter_map(|l| l.strip_prefix("Inst "))
            .filter_map(|l| {
                let (name, rest) = l.split_once(" (")?;
                let version = rest.split_whitespace().next()?;
                Some(format!("{name}={version}"))
            })
            .collect()
    }
}

fn check_manifest(name: &str) {
    let root = repo_root();
    let manifest_path = root.join(format!("manifests/{name}.toml"));
    let loaded = LoadedManifest::load(&manifest_path).unwrap_or_else(|e| panic!("{e}"));
    // The committed lock is fresh, and every package is listed in the signed indices of its
    // Releases (from the store, else fetched by hash).
    Debcast::real_archive(&root)
        .args(["lock", "--check"])
        .arg(&manifest_path)
        .lock_is_fresh();

    // A fresh resolution against today's archive, compared with apt's against the same.
    let work = common::tempdir();
    let lock_path = work.path().join(format!("{name}.lock"));
    let cache = root.join("target/e2e/lock-cache");
    Debcast::real_archive(&root)
        .arg("lock")
        .arg(&manifest_path)
        .args(["--update", "--lockfile"])
        .arg(&lock_path)
        .arg("--cache-dir")
        .arg(&cache)
        .ok();
    let lock =
        Lockfile::load_for(&lock_path, &loaded.manifest, &manifest_path).unwrap_or_else(|e| panic!("{e}"));
    let mut failures = Vec::new();
    for platform in &loaded.manifest.image.platforms {
        let sandbox = AptSandbox::new(&loaded, platform.debian_arch());
        let apt = sandbox.install(&loaded.manifest, platform);
        let ours: BTreeSet<String> = lock
            .packages_for(platform)
            .map(|p| format!("{}={}", p.name, p.version))
            .collect();
        eprintln!(
            "{name} {platform}: apt installs {}, debcast locks {}",
            apt.len(),
            ours.len()
        );
        if apt != ours {
            failures.push(format!(
                "{name} {platform}: only apt: {:?}; only debcast: {:?}",
                apt.difference(&ours).collect::<Vec<_>>(),
                ours.difference(&apt).collect::<Vec<_>>()
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
#[ignore = "needs the real Debian archive; run with `just e2e`"]
fn static_matches_apt() {
    check_manifest("static");
}

#[test]
#[ignore = "needs the real Debian archive; run with `just e2e`"]
fn base_matches_apt() {
    check_manifest("base");
}

#[test]
#[ignore = "needs the real Debian archive; run with `just e2e`"]
fn kube_cross_matches_apt() {
    check_manifest("kube-cross");
}
