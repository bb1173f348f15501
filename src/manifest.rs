//! The image manifest (`*.toml`): what to build, from which archives, with which packages.
//!
//! Parsing is strict (unknown fields are errors) so that a typo never silently changes an image.
//! Mirrors are deliberately absent: they are machine configuration (see `fetch::mirrors`).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::hash::Sha256Digest;
use crate::platform::Platform;

#[derive(Debug, thiserror::Error)]
pub enum ManifestError {
    #[error("cannot read manifest {path}: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error("invalid manifest {path}: {message}")]
    Parse { path: PathBuf, message: String },
    #[error("invalid manifest {path}: {message}")]
    Invalid { path: PathBuf, message: String },
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Manifest {
    pub image: Image,
    #[serde(rename = "source")]
    pub sources: Vec<Source>,
    #[serde(default)]
    pub packages: Packages,
    #[serde(default)]
    pub config: ImageConfig,
    /// Choices that dpkg's maintainer scripts would have made (alternatives, accounts, time zone).
    #[serde(default)]
    pub system: System,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Image {
    pub name: String,
    #[serde(default)]
    pub tag: Option<String>,
    pub platforms: Vec<Platform>,
    /// Merged /usr (`/bin`, `/sbin`, `/lib*` as links into `/usr`). Default: on for bookworm and later.
    #[serde(default)]
    pub usrmerge: Option<bool>,
    /// Layering strategy (`flat` or `budget`).
    #[serde(default)]
    pub layering: Option<String>,
    /// Maximum number of layers for the budgeted strategy.
    #[serde(default)]
    pub layers: Option<usize>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Source {
    /// Logical archive name (`debian`, `debian-security`) that mirrors resolve to URLs.
    pub archive: String,
    pub suites: Vec<String>,
    #[serde(default = "default_components")]
    pub components: Vec<String>,
    /// OpenPGP keyring (binary or ASCII-armoured), relative to the manifest's directory.
    pub keyring: PathBuf,
    /// Accept a Release file past its Valid-Until (prints a warning). For archived snapshots.
    #[serde(default)]
    pub allow_expired: bool,
}

fn default_components() -> Vec<String> {
    vec!["main".to_owned()]
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Packages {
    /// Package names, optionally pinned as `name=version`.
    #[serde(default)]
    pub include: Vec<String>,
    #[serde(default)]
    pub exclude: Vec<String>,
    /// Follow Recommends as well as Depends.
    #[serde(default)]
    pub recommends: bool,
    /// Add every `Priority: required` package (as debootstrap's minbase variant does).
    #[serde(default)]
    pub required: bool,
    /// Per-platform additions, keyed by platform (`linux/arm64`).
    #[serde(default)]
    pub platform: BTreeMap<String, PlatformPackages>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct PlatformPackages {
    #[serde(default)]
    pub include: Vec<String>,
    #[serde(default)]
    pub exclude: Vec<String>,
}

/// The OCI image config fields a manifest may set.
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct ImageConfig {
    #[serde(default)]
    pub env: BTreeMap<String, String>,
    #[serde(default)]
    pub entrypoint: Option<Vec<String>>,
    #[serde(default)]
    pub cmd: Option<Vec<String>>,
    #[serde(default)]
    pub workdir: Option<String>,
    #[serde(default)]
    pub user: Option<String>,
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    #[serde(default)]
    pub exposed_ports: Vec<String>,
    #[serde(default)]
    pub stop_signal: Option<String>,
}

/// What the maintainer scripts would have configured, where the image wants something specific.
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct System {
    /// Time zone for `/etc/localtime` and `/etc/timezone` (default `Etc/UTC`).
    #[serde(default)]
    pub timezone: Option<String>,
    /// Forced alternatives: name -> path (`editor = "/usr/bin/vim.basic"`).
    #[serde(default)]
    pub alternatives: BTreeMap<String, String>,
    #[serde(default, rename = "user")]
    pub users: Vec<User>,
    #[serde(default, rename = "group")]
    pub groups: Vec<Group>,
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct User {
    pub name: String,
    pub uid: u32,
    pub gid: u32,
    #[serde(default)]
    pub home: Option<String>,
    #[serde(default)]
    pub shell: Option<String>,
    #[serde(default)]
    pub gecos: Option<String>,
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Group {
    pub name: String,
    pub gid: u32,
    #[serde(default)]
    pub members: Vec<String>,
}

/// A requested package: `name` or `name=version`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct PackageRequest {
    pub name: String,
    pub version: Option<String>,
}

impl PackageRequest {
    pub fn parse(spec: &str) -> Self {
        match spec.split_once('=') {
            Some((name, version)) => PackageRequest {
                name: name.trim().to_owned(),
                version: Some(version.trim().to_owned()),
            },
            None => PackageRequest {
                name: spec.trim().to_owned(),
                version: None,
            },
        }
    }
}

/// A manifest together with where it was read from (keyring paths are relative to it).
#[derive(Debug, Clone)]
pub struct LoadedManifest {
    pub path: PathBuf,
    pub manifest: Manifest,
}

impl LoadedManifest {
    pub fn load(path: &Path) -> Result<Self, ManifestError> {
        let text = std::fs::read_to_string(path).map_err(|source| ManifestError::Read {
            path: path.to_owned(),
            source,
        })?;
        let manifest = Manifest::parse(&text, path)?;
        Ok(LoadedManifest {
            path: path.to_owned(),
            manifest,
        })
    }

    /// The default lockfile path: the manifest's path with the extension `.lock`.
    pub fn default_lockfile_path(&self) -> PathBuf {
        self.path.with_extension("lock")
    }

    /// A keyring path as the manifest means it: absolute, or relative to the manifest's directory.
    pub fn keyring_path(&self, source: &Source) -> PathBuf {
        if source.keyring.is_absolute() {
            source.keyring.clone()
        } else {
            self.path.parent().unwrap_or(Path::new(".")).join(&source.keyring)
        }
    }
}

impl Manifest {
    pub fn parse(text: &str, path: &Path) -> Result<Self, ManifestError> {
        let manifest: Manifest = toml::from_str(text).map_err(|e| ManifestError::Parse {
            path: path.to_owned(),
            message: e.to_string().trim_end().to_owned(),
        })?;
        manifest.validate(path)?;
        Ok(manifest)
    }

    fn validate(&self, path: &Path) -> Result<(), ManifestError> {
        let invalid = |message: String| ManifestError::Invalid {
            path: path.to_owned(),
            message,
        };
        if self.image.name.is_empty() {
            return Err(invalid("[image] name must not be empty".into()));
        }
        if self.image.platforms.is_empty() {
            return Err(invalid(
                "[image] platforms must list at least one platform".into(),
            ));
        }
        let mut seen = std::collections::BTreeSet::new();
        for p in &self.image.platforms {
            if !seen.insert(p) {
                return Err(invalid(format!("[image] platforms lists `{p}` twice")));
            }
        }
        if self.sources.is_empty() {
            return Err(invalid("at least one [[source]] is required".into()));
        }
        for (i, s) in self.sources.iter().enumerate() {
            let at = format!("[[source]] #{} (archive `{}`)", i + 1, s.archive);
            if s.archive.is_empty() || s.archive.contains(['/', '=', ' ', ',']) {
                return Err(invalid(format!(
                    "{at}: archive must be a plain name such as `debian`, not a URL (mirrors are given with --mirror)"
                )));
            }
            if s.suites.is_empty() {
                return Err(invalid(format!("{at}: suites must not be empty")));
            }
            if s.components.is_empty() {
                return Err(invalid(format!("{at}: components must not be empty")));
            }
        }
        for key in self.packages.platform.keys() {
            let parsed: Platform = key
                .parse()
                .map_err(|e| invalid(format!("[packages.platform.\"{key}\"]: {e}")))?;
            if !self.image.platforms.contains(&parsed) {
                return Err(invalid(format!(
                    "[packages.platform.\"{key}\"] names a platform that [image] platforms does not list"
                )));
            }
        }
        let all_specs = self
            .packages
            .include
            .iter()
            .chain(self.packages.exclude.iter())
            .chain(
                self.packages
                    .platform
                    .values()
                    .flat_map(|p| p.include.iter().chain(p.exclude.iter())),
            );
        for spec in all_specs {
            let req = PackageRequest::parse(spec);
            if req.name.is_empty() || req.version.as_deref() == Some("") {
                return Err(invalid(format!(
                    "[packages]: `{spec}` is not `name` or `name=version`"
                )));
            }
        }
        if self.packages.include.is_empty() && !self.packages.required {
            return Err(invalid(
                "[packages] include is empty and required is false: the image would have no packages".into(),
            ));
        }
        Ok(())
    }

    /// Packages requested for one platform: the common list plus that platform's additions.
    pub fn requests_for(&self, platform: &Platform) -> (Vec<PackageRequest>, Vec<String>) {
        let extra = self
            .packages
            .platform
            .iter()
            .filter(|(k, _)| k.parse::<Platform>().ok().as_ref() == Some(platform))
            .map(|(_, v)| v);
        let mut include: Vec<PackageRequest> = self
            .packages
            .include
            .iter()
            .map(|s| PackageRequest::parse(s))
            .collect();
        let mut exclude = self.packages.exclude.clone();
        for e in extra {
            include.extend(e.include.iter().map(|s| PackageRequest::parse(s)));
            exclude.extend(e.exclude.iter().cloned());
        }
        (include, exclude)
    }

    /// Whether the image uses merged /usr: as the manifest says, else on unless every suite is
    /// older than bookworm (bullseye and earlier shipped split /usr by default).
    pub fn usrmerge(&self) -> bool {
        self.image.usrmerge.unwrap_or_else(|| {
            const SPLIT_USR: &[&str] = &["stretch", "buster", "bullseye", "jessie"];
            !self.sources.iter().flat_map(|s| s.suites.iter()).all(|suite| {
                let codename = suite.split('-').next().unwrap_or(suite);
                SPLIT_USR.contains(&codename)
            })
        })
    }

    /// Hash of everything that determines the lock's resolution (platforms, sources, packages),
    /// and nothing else: editing `[config]` must not make the lock stale.
    pub fn lock_inputs_hash(&self) -> Sha256Digest {
        #[derive(Serialize)]
        struct LockInputs<'a> {
            platforms: Vec<String>,
            sources: &'a [Source],
            packages: &'a Packages,
        }
        let inputs = LockInputs {
            platforms: self.image.platforms.iter().map(ToString::to_string).collect(),
            sources: &self.sources,
            packages: &self.packages,
        };
        // serde_json::Value keeps object keys sorted, which makes this canonical.
        let value = serde_json::to_value(&inputs).unwrap_or(serde_json::Value::Null);
        Sha256Digest::of(value.to_string().as_bytes())
    }

    /// The `org.opencontainers.image.ref.name` of the image: `name` or `name:tag`.
    pub fn ref_name(&self) -> String {
        match &self.image.tag {
            Some(tag) => format!("{}:{}", self.image.name, tag),
            None => self.image.name.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINIMAL: &str = r#"
[image]
name = "static"
platforms = ["linux/amd64", "linux/arm64"]

[[source]]
archive = "debian"
suites = ["bookworm", "bookworm-updates"]
components = ["main"]
keyring = "keys/debian.gpg"

[packages]
include = ["ca-certificates", "tzdata=2024a-0+deb12u1"]

[packages.platform."linux/arm64"]
include = ["extra"]

[config]
cmd = ["/bin/sh"]
env = { PATH = "/usr/bin:/bin" }
"#;

    fn parse(text: &str) -> Result<Manifest, ManifestError> {
        Manifest::parse(text, Path::new("m.toml"))
    }

    #[test]
    fn parses_the_design_example() {
        let m = parse(MINIMAL).unwrap();
        assert_eq!(m.image.platforms.len(), 2);
        assert_eq!(m.sources[0].suites, ["bookworm", "bookworm-updates"]);
        assert!(m.usrmerge());
        let (inc, _) = m.requests_for(&"linux/arm64".parse().unwrap());
        assert_eq!(inc.len(), 3);
        assert_eq!(inc[1].version.as_deref(), Some("2024a-0+deb12u1"));
        let (inc, _) = m.requests_for(&"linux/amd64".parse().unwrap());
        assert_eq!(inc.len(), 2);
    }

    #[test]
    fn unknown_fields_are_errors_with_line_numbers() {
        let text = MINIMAL.replace("components = [\"main\"]", "component = [\"main\"]");
        let err = parse(&text).unwrap_err().to_string();
        assert!(err.contains("m.toml"), "{err}");
        assert!(err.contains("component"), "{err}");
        assert!(err.contains("line 9"), "{err}");
    }

    #[test]
    fn rejects_urls_as_archive_names_and_unlisted_platforms() {
        let text = MINIMAL.replace("archive = \"debian\"", "archive = \"http://example.org/debian\"");
        assert!(parse(&text).unwrap_err().to_string().contains("not a URL"));
        let text = MINIMAL.replace("linux/arm64\"]\ninclude", "linux/s390x\"]\ninclude");
        assert!(parse(&text).unwrap_err().to_string().contains("does not list"));
    }

    #[test]
    fn lock_hash_ignores_config_but_not_packages() {
        let a = parse(MINIMAL).unwrap();
        let b = parse(&MINIMAL.replace("/bin/sh", "/bin/bash")).unwrap();
        let c = parse(&MINIMAL.replace("\"ca-certificates\", ", "")).unwrap();
        assert_eq!(a.lock_inputs_hash(), b.lock_inputs_hash());
        assert_ne!(a.lock_inputs_hash(), c.lock_inputs_hash());
    }

    #[test]
    fn usrmerge_defaults_off_for_bullseye() {
        let m = parse(&MINIMAL.replace("\"bookworm\", \"bookworm-updates\"", "\"bullseye\"")).unwrap();
        assert!(!m.usrmerge());
    }
}
