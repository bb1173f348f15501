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
    /// Pinned inputs that are not `.deb`s (a Go toolchain tarball, a protoc zip).
    #[serde(default, rename = "artifact")]
    pub artifacts: Vec<Artifact>,
}

/// A non-Debian input: an archive or a single file, pinned in the lock by URL, size and SHA-256,
/// unpacked under `dest` into a layer of its own.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Artifact {
    /// Unique; names the artifact in errors, the lock and reports.
    pub name: String,
    /// The URL for every platform without a `[artifact.platform."…"]` table of its own.
    #[serde(default)]
    pub url: Option<String>,
    /// Optional here: without it `lock` pins what it downloads.
    #[serde(default)]
    pub sha256: Option<Sha256Digest>,
    /// The image directory it is unpacked under (for `format = "file"`: the file's path).
    pub dest: String,
    /// Leading path components dropped from every entry, as tar's `--strip-components`.
    #[serde(default)]
    pub strip_components: usize,
    /// `tar`, `tar.gz` (`tgz`), `tar.xz`, `tar.zst`, `tar.bz2`, `zip` or `file`; default: from the URL.
    #[serde(default)]
    pub format: Option<ArtifactFormat>,
    /// For `format = "file"`: the file's mode, an octal string (default `"0644"`).
    #[serde(default)]
    pub mode: Option<String>,
    /// Owner of every entry (default root, 0:0).
    #[serde(default)]
    pub uid: Option<u32>,
    #[serde(default)]
    pub gid: Option<u32>,
    /// Only these paths of the archive (after `strip-components`) and what is below them, e.g.
    /// `["bin", "include"]`; default: everything.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub include: Vec<String>,
    /// May overwrite files of packages (and of earlier artifacts); otherwise a collision is an error.
    #[serde(default)]
    pub replaces: bool,
    /// Per-platform `url`/`sha256`, replacing the top-level ones.
    #[serde(default)]
    pub platform: BTreeMap<String, ArtifactSource>,
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct ArtifactSource {
    pub url: String,
    #[serde(default)]
    pub sha256: Option<Sha256Digest>,
}

/// How an artifact's bytes are unpacked.
#[derive(Debug, Clone, Copy, Deserialize, Serialize, PartialEq, Eq)]
pub enum ArtifactFormat {
    #[serde(rename = "tar")]
    Tar,
    #[serde(rename = "tar.gz", alias = "tgz")]
    TarGz,
    #[serde(rename = "tar.xz", alias = "txz")]
    TarXz,
    #[serde(rename = "tar.zst", alias = "tzst")]
    TarZst,
    #[serde(rename = "tar.bz2", alias = "tbz2")]
    TarBz2,
    #[serde(rename = "zip")]
    Zip,
    /// One file, written at `dest`.
    #[serde(rename = "file")]
    File,
}

impl ArtifactFormat {
    /// The format a URL's file name says (`….tar.gz`, `….zip`), if it says one.
    pub fn from_url(url: &str) -> Option<Self> {
        let name = url.rsplit('/').next().unwrap_or(url).to_ascii_lowercase();
        [
            (".tar.gz", ArtifactFormat::TarGz),
            (".tgz", ArtifactFormat::TarGz),
            (".tar.xz", ArtifactFormat::TarXz),
            (".txz", ArtifactFormat::TarXz),
            (".tar.zst", ArtifactFormat::TarZst),
            (".tzst", ArtifactFormat::TarZst),
            (".tar.bz2", ArtifactFormat::TarBz2),
            (".tbz2", ArtifactFormat::TarBz2),
            (".tar", ArtifactFormat::Tar),
            (".zip", ArtifactFormat::Zip),
        ]
        .into_iter()
        .find(|(ext, _)| name.ends_with(ext))
        .map(|(_, f)| f)
    }
}

/// One artifact as one platform gets it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlatformArtifact<'a> {
    pub artifact: &'a Artifact,
    pub url: &'a str,
    pub sha256: Option<Sha256Digest>,
    pub format: ArtifactFormat,
}

impl Artifact {
    /// The URL and (optional) hash for `platform`: its own table's, else the top-level ones.
    pub fn for_platform(&self, platform: &Platform) -> Option<PlatformArtifact<'_>> {
        let (url, sha256) = match self.own_source(platform) {
            Some(s) => (s.url.as_str(), s.sha256),
            None => (self.url.as_deref()?, self.sha256),
        };
        let format = self.format.or_else(|| ArtifactFormat::from_url(url))?;
        Some(PlatformArtifact {
            artifact: self,
            url,
            sha256,
            format,
        })
    }

    /// The `[artifact.platform."…"]` table of `platform`, if it has one.
    fn own_source(&self, platform: &Platform) -> Option<&ArtifactSource> {
        self.platform
            .iter()
            .find(|(k, _)| k.parse::<Platform>().ok().as_ref() == Some(platform))
            .map(|(_, v)| v)
    }

    /// The mode of a `format = "file"` artifact.
    pub fn file_mode(&self) -> u32 {
        octal_mode(self.mode.as_deref(), 0o644)
    }
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
    /// Packages whose files are taken without their dependencies (their Pre-Depends, Depends and
    /// Recommends are not followed): the user knows the image needs none of them, as
    /// `ca-certificates` in an image without a shell or openssl. Recorded in the lock.
    /// Absent when empty, so manifests without it hash as they always did.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub no_depends: Vec<String>,
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
    /// Locales for `locale-gen` (entries of `/usr/share/i18n/SUPPORTED`, `["en_US.UTF-8"]`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub locales: Vec<String>,
    /// Forced alternatives: name -> path (`editor = "/usr/bin/vim.basic"`).
    #[serde(default)]
    pub alternatives: BTreeMap<String, String>,
    /// The login shell of every account whose own shell is not in the image (root's `/bin/bash`
    /// in an image without bash), e.g. `/usr/sbin/nologin`; it must exist in the image. Unset,
    /// accounts keep the shells base-passwd and `[[system.user]]` give them, as dpkg would.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fallback_shell: Option<String>,
    #[serde(default, rename = "user")]
    pub users: Vec<User>,
    #[serde(default, rename = "group")]
    pub groups: Vec<Group>,
    /// Directories the image must have (`/tmp.k8s` with mode 1777).
    #[serde(default, rename = "directory", skip_serializing_if = "Vec::is_empty")]
    pub directories: Vec<Directory>,
    #[serde(default, rename = "symlink", skip_serializing_if = "Vec::is_empty")]
    pub symlinks: Vec<Symlink>,
}

/// A declared directory: created (with its parents) or, where it exists, given this mode and owner.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Directory {
    pub path: String,
    /// Octal, e.g. `"1777"` (default `"0755"`).
    #[serde(default)]
    pub mode: Option<String>,
    #[serde(default)]
    pub uid: Option<u32>,
    #[serde(default)]
    pub gid: Option<u32>,
}

impl Directory {
    pub fn mode_bits(&self) -> u32 {
        octal_mode(self.mode.as_deref(), 0o755)
    }
}

/// A declared symbolic link at `path` pointing to `target` (as `ln -s target path`).
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Symlink {
    pub path: String,
    pub target: String,
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
        let mut seen = std::collections::BTreeSet::new();
        for name in &self.packages.no_depends {
            if name.is_empty() || name.contains(['=', ' ', ',']) {
                return Err(invalid(format!(
                    "[packages] no-depends: `{name}` is not a package name"
                )));
            }
            if !seen.insert(name) {
                return Err(invalid(format!("[packages] no-depends lists `{name}` twice")));
            }
        }
        if self.packages.include.is_empty() && !self.packages.required {
            return Err(invalid(
                "[packages] include is empty and required is false: the image would have no packages".into(),
            ));
        }
        self.validate_artifacts().map_err(invalid)?;
        self.validate_declared().map_err(invalid)?;
        Ok(())
    }

    fn validate_artifacts(&self) -> Result<(), String> {
        let mut names = std::collections::BTreeSet::new();
        for a in &self.artifacts {
            let at = format!("[[artifact]] `{}`", a.name);
            if a.name.is_empty()
                || !a
                    .name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '+'))
            {
                return Err(format!(
                    "{at}: name must be non-empty letters, digits, `-`, `_`, `.` or `+`"
                ));
            }
            if !names.insert(a.name.as_str()) {
                return Err(format!("{at}: two artifacts are named `{}`", a.name));
            }
            for key in a.platform.keys() {
                let parsed: Platform = key
                    .parse()
                    .map_err(|e| format!("{at}: [artifact.platform.\"{key}\"]: {e}"))?;
                if !self.image.platforms.contains(&parsed) {
                    return Err(format!(
                        "{at}: [artifact.platform.\"{key}\"] names a platform that [image] platforms does not list"
                    ));
                }
            }
            for platform in &self.image.platforms {
                let url = a
                    .own_source(platform)
                    .map(|v| v.url.as_str())
                    .or(a.url.as_deref())
                    .ok_or_else(|| {
                        format!("{at}: no `url` for {platform} (give a top-level url or [artifact.platform.\"{platform}\"])")
                    })?;
                check_artifact_url(url).map_err(|why| format!("{at}: url `{url}` {why}"))?;
                if a.format.is_none() && ArtifactFormat::from_url(url).is_none() {
                    return Err(format!(
                        "{at}: cannot tell the format of `{url}` from its name; set format = \"tar.gz\" (or tar, tar.xz, tar.zst, tar.bz2, zip, file)"
                    ));
                }
            }
            check_image_path(&a.dest).map_err(|why| format!("{at}: dest `{}` {why}", a.dest))?;
            for inc in &a.include {
                if crate::entry::normalize_path(inc).is_none_or(|n| n != inc.trim_end_matches('/')) {
                    return Err(format!(
                        "{at}: include `{inc}` must be a relative path inside the archive, such as `bin`"
                    ));
                }
            }
            if a.format == Some(ArtifactFormat::File) {
                if a.strip_components != 0 {
                    return Err(format!(
                        "{at}: strip-components does not apply to format = \"file\""
                    ));
                }
                if let Some(m) = &a.mode {
                    check_mode(m).map_err(|why| format!("{at}: mode `{m}` {why}"))?;
                }
            } else if a.mode.is_some() {
                return Err(format!(
                    "{at}: mode applies only to format = \"file\" (archives keep their entries' modes)"
                ));
            }
        }
        Ok(())
    }

    fn validate_declared(&self) -> Result<(), String> {
        if let Some(shell) = &self.system.fallback_shell {
            check_image_path(shell).map_err(|why| format!("[system] fallback-shell `{shell}` {why}"))?;
        }
        for d in &self.system.directories {
            let at = format!("[[system.directory]] `{}`", d.path);
            check_image_path(&d.path).map_err(|why| format!("{at}: path {why}"))?;
            if let Some(m) = &d.mode {
                check_mode(m).map_err(|why| format!("{at}: mode `{m}` {why}"))?;
            }
        }
        for l in &self.system.symlinks {
            let at = format!("[[system.symlink]] `{}`", l.path);
            check_image_path(&l.path).map_err(|why| format!("{at}: path {why}"))?;
            if l.target.is_empty() || l.target.contains('\0') {
                return Err(format!("{at}: target must be a non-empty path"));
            }
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
            // Absent when empty, so a manifest without artifacts hashes as it always did.
            #[serde(skip_serializing_if = "Vec::is_empty")]
            artifacts: Vec<(String, String, String, Option<String>)>,
        }
        // What pins an artifact: per platform, its URL and the manifest's hash (not where or how
        // it is unpacked, which the lock does not record).
        let artifacts = self
            .artifacts
            .iter()
            .flat_map(|a| {
                self.image.platforms.iter().filter_map(move |p| {
                    a.for_platform(p).map(|pa| {
                        (
                            a.name.clone(),
                            p.to_string(),
                            pa.url.to_owned(),
                            pa.sha256.map(|d| d.hex()),
                        )
                    })
                })
            })
            .collect();
        let inputs = LockInputs {
            platforms: self.image.platforms.iter().map(ToString::to_string).collect(),
            sources: &self.sources,
            packages: &self.packages,
            artifacts,
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

/// An artifact URL debcast can fetch: http(s) or file, naming a file, without query or fragment
/// (mirrors rewrite URLs by prefix and keep the file name).
fn check_artifact_url(url: &str) -> Result<(), String> {
    let parsed = url::Url::parse(url).map_err(|e| format!("is not a URL: {e}"))?;
    if !matches!(parsed.scheme(), "http" | "https" | "file") {
        return Err("must be http://, https:// or file://".into());
    }
    if parsed.query().is_some() || parsed.fragment().is_some() {
        return Err("must not have a query string or fragment".into());
    }
    if parsed.path().ends_with('/') || parsed.path().split('/').any(|c| c == "..") {
        return Err("must name a file".into());
    }
    Ok(())
}

/// An absolute path inside the image, without `..` (and not the root itself).
fn check_image_path(path: &str) -> Result<(), String> {
    if !path.starts_with('/') {
        return Err("must be absolute (start with `/`)".into());
    }
    if path.split('/').any(|c| c == "..") || path.contains('\0') {
        return Err("must not contain `..` components".into());
    }
    if crate::entry::normalize_path(path.trim_start_matches('/')).is_none() {
        return Err("must not be the root directory".into());
    }
    Ok(())
}

/// A manifest's octal mode string (validated by [`check_mode`]), or `default` where none is given.
fn octal_mode(mode: Option<&str>, default: u32) -> u32 {
    mode.and_then(|m| u32::from_str_radix(m, 8).ok())
        .unwrap_or(default)
}

fn check_mode(mode: &str) -> Result<(), String> {
    match u32::from_str_radix(mode, 8) {
        Ok(m) if m <= 0o7777 => Ok(()),
        _ => Err("is not an octal mode such as \"0755\" or \"1777\"".into()),
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
    fn no_depends_changes_the_lock_hash_only_when_given() {
        let a = parse(MINIMAL).unwrap();
        let text = MINIMAL.replace(
            "[packages.platform",
            "no-depends = [\"ca-certificates\"]\n\n[packages.platform",
        );
        let b = parse(&text).unwrap();
        assert_eq!(b.packages.no_depends, ["ca-certificates"]);
        assert_ne!(a.lock_inputs_hash(), b.lock_inputs_hash());
        let twice = text.replace("[\"ca-certificates\"]", "[\"x\", \"x\"]");
        assert!(parse(&twice).unwrap_err().to_string().contains("twice"));
    }

    #[test]
    fn usrmerge_defaults_off_for_bullseye() {
        let m = parse(&MINIMAL.replace("\"bookworm\", \"bookworm-updates\"", "\"bullseye\"")).unwrap();
        assert!(!m.usrmerge());
    }
}
