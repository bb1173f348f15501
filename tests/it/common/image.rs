//! A synthetic project for build tests: `.deb` files served on 127.0.0.1, a manifest, and a
//! lockfile pinning them (written with debcast's own lockfile types, as `debcast lock` would).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use debcast::hash::Sha256Digest;
use debcast::lockfile::{LockedPackage, LockedRelease, Lockfile};
use debcast::manifest::Manifest;
use debcast_testkit::archive::{ArchiveBuilder, TestKey};
use debcast_testkit::deb::DebBuilder;
use debcast_testkit::server::Server;

/// The archive's logical name in synthetic manifests.
pub const ARCHIVE: &str = "synthetic";
pub const RELEASE_DATE: &str = "Sun, 01 Jan 2023 00:00:00 UTC";
pub const RELEASE_EPOCH: u64 = 1_672_531_200;

pub struct Project {
    pub dir: tempfile::TempDir,
    /// pool path -> bytes, served by `serve()`.
    pub pool: BTreeMap<String, Vec<u8>>,
    pub platforms: Vec<String>,
    packages: Vec<(String, DebBuilder)>,
    pub manifest_extra: String,
    /// The manifest's `include`, when not every package added.
    pub include: Option<Vec<String>>,
}

impl Project {
    pub fn new(platforms: &[&str]) -> Self {
        Project {
            dir: super::tempdir(),
            pool: BTreeMap::new(),
            platforms: platforms.iter().map(|s| (*s).to_owned()).collect(),
            packages: Vec::new(),
            manifest_extra: String::new(),
            include: None,
        }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Adds a package for one platform (`"linux/amd64"`), or for every platform (`None`).
    pub fn add(&mut self, platform: Option<&str>, deb: DebBuilder) -> &mut Self {
        let platforms: Vec<String> = match platform {
            Some(p) => vec![p.to_owned()],
            None => self.platforms.clone(),
        };
        for p in platforms {
            self.packages.push((p, deb.clone()));
        }
        self
    }

    pub fn manifest_text(&self) -> String {
        let platforms = self
            .platforms
            .iter()
            .map(|p| format!("\"{p}\""))
            .collect::<Vec<_>>()
            .join(", ");
        let quoted = |names: &[&str]| {
            names
                .iter()
                .map(|n| format!("\"{n}\""))
                .collect::<Vec<_>>()
                .join(", ")
        };
        // A package added for some platforms only is requested for those, as `debcast lock`
        // needs it (another platform's lock would not hold it).
        let on = |name: &str, platform: &str| {
            self.packages
                .iter()
                .any(|(p, d)| p == platform && d.name() == name)
        };
        let mut names: Vec<&str> = match &self.include {
            Some(names) => names.iter().map(String::as_str).collect(),
            None => self
                .packages
                .iter()
                .map(|(_, d)| d.name())
                .filter(|n| self.platforms.iter().all(|p| on(n, p)))
                .collect(),
        };
        names.sort();
        names.dedup();
        let include = quoted(&names);
        let mut per_platform = String::new();
        if self.include.is_none() {
            for platform in &self.platforms {
                let mut only: Vec<&str> = self
                    .packages
                    .iter()
                    .filter(|(p, d)| p == platform && !names.contains(&d.name()))
                    .map(|(_, d)| d.name())
                    .collect();
                only.sort();
                only.dedup();
                if !only.is_empty() {
                    per_platform.push_str(&format!(
                        "\n[packages.platform.\"{platform}\"]\ninclude = [{}]\n",
                        quoted(&only)
                    ));
                }
            }
        }
        format!(
            r#"[image]
name = "synthetic"
tag = "test"
platforms = [{platforms}]

[[source]]
archive = "{ARCHIVE}"
suites = ["stable"]
components = ["main"]
keyring = "keyring.gpg"

[packages]
include = [{include}]
{per_platform}
[config]
cmd = ["/usr/bin/tool", "--version"]
env = {{ LANG = "C.UTF-8" }}
workdir = "/srv"
user = "1000:1000"
labels = {{ "org.example.purpose" = "test" }}
{}"#,
            self.manifest_extra
        )
    }

    /// Writes `image.toml` and `image.lock`; fills the pool, and signs an archive (suite
    /// `stable`) whose `Packages` indices list the locked packages, as `debcast lock` would have
    /// found them (`keyring.gpg` holds its key). Returns the manifest path.
    pub fn write(&mut self) -> PathBuf {
        let manifest_path = self.path().join("image.toml");
        let text = self.manifest_text();
        std::fs::write(&manifest_path, &text).unwrap();
        let manifest = Manifest::parse(&text, &manifest_path).unwrap();
        let mut locked = Vec::new();
        let mut archive = ArchiveBuilder::new("stable");
        archive.date = RELEASE_DATE.into();
        archive.architectures.clear();
        let mut listed = std::collections::BTreeSet::new();
        for (platform, deb) in &self.packages {
            let bytes = deb.build();
            let pool_path = format!(
                "pool/main/{}/{}_{}_{}.deb",
                deb.name(),
                deb.name(),
                deb.version().split_once(':').map_or(deb.version(), |(_, v)| v),
                deb.arch()
            );
            let platform: debcast::platform::Platform = platform.parse().unwrap();
            let index_arch = if deb.arch() == "all" {
                "all"
            } else {
                platform.debian_arch()
            };
            if listed.insert((index_arch, pool_path.clone())) {
                // The index lists the relationships the package's control file declares, as
                // an archive's does: the lock's set is checked against them.
                let mut fields = vec![
                    ("Package", deb.name()),
                    ("Version", deb.version()),
                    ("Architecture", deb.arch()),
                ];
                for key in [
                    "Essential",
                    "Priority",
                    "Pre-Depends",
                    "Depends",
                    "Recommends",
                    "Provides",
                ] {
                    if let Some(value) = deb.field(key) {
                        fields.push((key, value));
                    }
                }
                archive.package("main", index_arch, &pool_path, &bytes, &fields);
            }
            locked.push(LockedPackage {
                platform,
                name: deb.name().to_owned(),
                version: deb.version().to_owned(),
                architecture: deb.arch().to_owned(),
                archive: ARCHIVE.to_owned(),
                path: pool_path.clone(),
                size: bytes.len() as u64,
                sha256: Sha256Digest::of(&bytes),
            });
            self.pool.insert(pool_path, bytes);
        }
        // As every Debian archive does, the Release lists an index for each architecture built
        // (empty where only `all` packages are locked).
        for platform in &self.platforms {
            let arch = platform
                .parse::<debcast::platform::Platform>()
                .unwrap()
                .debian_arch()
                .to_owned();
            if !archive.architectures.contains(&arch) {
                archive.architectures.push(arch);
            }
        }
        let key = TestKey::new("image-test").unwrap();
        std::fs::write(self.path().join("keyring.gpg"), key.public_binary().unwrap()).unwrap();
        let root = self.path().join("archive");
        let release_text = archive.write(&root, &[&key]).unwrap();
        for file in walk(&root.join("dists")) {
            let rel = file.strip_prefix(&root).unwrap().to_string_lossy().into_owned();
            self.pool.insert(rel, std::fs::read(&file).unwrap());
        }
        std::fs::remove_dir_all(&root).unwrap();
        let release = LockedRelease {
            archive: ARCHIVE.into(),
            suite: "stable".into(),
            date: RELEASE_DATE.into(),
            sha256: Some(Sha256Digest::of(release_text.as_bytes())),
        };
        let lock = Lockfile::new(&manifest, vec![release], locked, Vec::new());
        lock.write(&self.path().join("image.lock")).unwrap();
        manifest_path
    }

    /// Serves the pool on 127.0.0.1 (stopped when the returned server is dropped).
    pub fn serve(&self) -> Server {
        Server::map(self.pool.clone()).start().unwrap()
    }

    /// Writes the project, serves it, and builds `out` with `--report report.json` and the
    /// given environment; the run (asserted successful) and the report.
    pub fn build_with_report(&mut self, env: &[(&str, &str)]) -> (super::Run, serde_json::Value) {
        self.write();
        let server = self.serve();
        let mut cmd = super::Debcast::new(self.path())
            .args([
                "build",
                "image.toml",
                "--output",
                "out",
                "--cache-dir",
                "store",
                "--report",
                "report.json",
            ])
            .arg("--mirror")
            .arg(format!("{ARCHIVE}={}", server.url()));
        for (k, v) in env {
            cmd = cmd.env(k, v);
        }
        let run = cmd.ok();
        assert_eq!(run.code, Some(0), "{run}");
        let report =
            serde_json::from_slice(&std::fs::read(self.path().join("report.json")).unwrap()).unwrap();
        (run, report)
    }

    /// Replaces a pool file's served bytes (the lock keeps the original hash).
    pub fn tamper(&mut self, name: &str, f: impl Fn(&mut Vec<u8>)) {
        for (path, bytes) in self.pool.iter_mut() {
            if path.starts_with(&format!("pool/main/{name}/")) {
                f(bytes);
            }
        }
    }
}

/// Every file under `dir`, recursively.
fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else {
            out.push(path);
        }
    }
    out
}
