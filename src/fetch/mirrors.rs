//! Mirrors: which base URLs carry a logical archive (`debian`, `debian-security`, …), in the order
//! they are tried.
//!
//! Mirrors are machine configuration, never part of a manifest or lockfile (the lock pins bytes by
//! hash; a mirror only carries them). Sources, highest priority first — the first source that names
//! an archive decides that archive's list, the later ones are not consulted for it:
//!
//! 1. `--mirror ARCHIVE=URL`, repeatable; several for one archive are tried in the order given.
//! 2. `DEBCAST_MIRRORS`: the same `ARCHIVE=URL` items, separated by whitespace or commas.
//! 3. The host's apt sources (`etc/apt/sources.list`, `etc/apt/sources.list.d/*.list` one-line
//!    entries, `etc/apt/sources.list.d/*.sources` deb822 entries) under a configurable root. For an
//!    archive asked for with some suites: the URIs whose suites include one of them (those whose
//!    last path component is the archive's name first), else the URIs whose last path component
//!    is the archive's name (`…/debian` for `debian`). `deb-src`, disabled entries, `cdrom:` and
//!    other non-http(s)/file URIs are ignored.
//!
//! # URL templates
//!
//! A mirror URL may contain placeholders, so a version pruned from the live archive can be found
//! in a snapshot-style archive keyed by time:
//!
//! - `{archive}`: the logical archive name.
//! - `{release_date}`: the Release `Date` the lock was resolved against, as `%Y%m%dT%H%M%SZ`.
//! - `{release_date:FORMAT}`: the same date in a strftime-like FORMAT with `%Y %m %d %H %M %S`
//!   (zero-padded, UTC), `%s` (Unix seconds) and `%%`.
//! - `{{` and `}}`: literal braces.
//!
//! For example `--mirror 'debian=https://snapshot.example.org/archive/debian/{release_date}/'`.
//! A templated mirror is expanded once per distinct Release date the lock records for that archive
//! (newest first); without a lock (while locking) it is skipped.
//!
//! `file://` URLs (and absolute paths, taken as `file://` directories) name local archives.

use std::collections::BTreeMap;
use std::fmt;
use std::fs;
use std::path::{Path, PathBuf};

use url::Url;

use crate::debian::deb822;

use crate::debian::date::{self, parse_release_date};
use crate::lockfile::LockedRelease;

/// The environment variable read by [`Mirrors::from_environment`].
pub const MIRRORS_ENV: &str = "DEBCAST_MIRRORS";
/// URL-prefix rewrites for `[[artifact]]` downloads (`PREFIX=URL` items), when no
/// `--artifact-mirror` is given.
pub const ARTIFACT_MIRRORS_ENV: &str = "DEBCAST_ARTIFACT_MIRRORS";

#[derive(Debug, thiserror::Error)]
pub enum MirrorError {
    #[error(
        "invalid mirror `{spec}` ({origin}): {reason}; expected ARCHIVE=URL, e.g. debian=https://mirror.example.org/debian"
    )]
    InvalidSpec {
        spec: String,
        origin: String,
        reason: String,
    },
    #[error(
        "invalid artifact mirror `{spec}` ({origin}): {reason}; expected PREFIX=URL, e.g. https://go.dev/dl/=https://mirror.example.org/go/"
    )]
    InvalidRewrite {
        spec: String,
        origin: String,
        reason: String,
    },
    #[error("invalid artifact URL `{url}`: {reason}")]
    InvalidArtifactUrl { url: String, reason: String },
    #[error("invalid mirror URL template `{template}`: {reason}")]
    InvalidTemplate { template: String, reason: String },
    #[error(
        "no mirror for archive `{archive}`: pass `--mirror {archive}=URL` (repeatable), set {MIRRORS_ENV}=\"{archive}=URL\", or add a `deb URL SUITE COMPONENT…` line for it to the apt sources under {}{}",
        apt_root.display(),
        notes.iter().map(|n| format!("\n  note: {n}")).collect::<String>()
    )]
    NoMirror {
        archive: String,
        apt_root: PathBuf,
        /// Why candidates were skipped (templates without a date, unreadable apt files, …).
        notes: Vec<String>,
    },
}

/// One base URL to try for an archive. Always ends with `/`, so `url.join(pool_path)` stays below it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mirror {
    pub url: Url,
    /// Where it came from: `--mirror`, `DEBCAST_MIRRORS`, `/etc/apt/sources.list:3`, …
    pub origin: String,
}

impl fmt::Display for Mirror {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.url)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Piece {
    Lit(String),
    Archive,
    /// A date in a strftime-like format.
    Date(String),
}

/// A mirror URL that may contain `{archive}` / `{release_date[:FORMAT]}` placeholders.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MirrorTemplate {
    raw: String,
    pieces: Vec<Piece>,
}

const DEFAULT_DATE_FORMAT: &str = "%Y%m%dT%H%M%SZ";

impl MirrorTemplate {
    pub fn parse(raw: &str) -> Result<Self, MirrorError> {
        let bad = |reason: &str| MirrorError::InvalidTemplate {
            template: raw.to_owned(),
            reason: reason.to_owned(),
        };
        let mut pieces = Vec::new();
        let mut lit = String::new();
        let mut chars = raw.chars().peekable();
        while let Some(c) = chars.next() {
            match c {
                '{' if chars.peek() == Some(&'{') => {
                    chars.next();
                    lit.push('{');
                }
                '}' if chars.peek() == Some(&'}') => {
                    chars.next();
                    lit.push('}');
                }
                '}' => return Err(bad("unmatched `}` (write `}}` for a literal brace)")),
                '{' => {
                    let mut name = String::new();
                    loop {
                        match chars.next() {
                            Some('}') => break,
                            Some(c) => name.push(c),
                            None => return Err(bad("unclosed `{`")),
                        }
                    }
                    if !lit.is_empty() {
                        pieces.push(Piece::Lit(std::mem::take(&mut lit)));
                    }
                    pieces.push(match name.split_once(':') {
                        None if name == "archive" => Piece::Archive,
                        None if name == "release_date" => Piece::Date(DEFAULT_DATE_FORMAT.to_owned()),
                        Some(("release_date", fmt)) => {
                            date::check_format(fmt).map_err(|r| bad(&r))?;
                            Piece::Date(fmt.to_owned())
                        }
                        _ => {
                            return Err(bad(&format!(
                                "unknown placeholder `{{{name}}}` (known: {{archive}}, {{release_date}}, {{release_date:FORMAT}})"
                            )));
                        }
                    });
                }
                c => lit.push(c),
            }
        }
        if !lit.is_empty() {
            pieces.push(Piece::Lit(lit));
        }
        let t = MirrorTemplate {
            raw: raw.to_owned(),
            pieces,
        };
        // Catch a bad URL now, not at the first download.
        t.expand("archive", Some(0))?;
        Ok(t)
    }

    pub fn as_str(&self) -> &str {
        &self.raw
    }

    /// Whether the template needs a Release date.
    pub fn needs_date(&self) -> bool {
        self.pieces.iter().any(|p| matches!(p, Piece::Date(_)))
    }

    /// Fills the placeholders. `date` is in Unix seconds; required when [`Self::needs_date`].
    pub fn expand(&self, archive: &str, date: Option<i64>) -> Result<Url, MirrorError> {
        let mut out = String::new();
        for p in &self.pieces {
            match p {
                Piece::Lit(s) => out.push_str(s),
                Piece::Archive => out.push_str(archive),
                Piece::Date(fmt) => {
                    let date = date.ok_or_else(|| MirrorError::InvalidTemplate {
                        template: self.raw.clone(),
                        reason: "needs a Release date, and none is known".into(),
                    })?;
                    out.push_str(&date::format_utc(fmt, date));
                }
            }
        }
        base_url(&out).map_err(|reason| MirrorError::InvalidTemplate {
            template: self.raw.clone(),
            reason,
        })
    }
}

/// Parses a mirror base URL (or an absolute path), requiring a scheme debcast can fetch from, and
/// makes it end with `/` so relative paths join below it.
fn base_url(s: &str) -> Result<Url, String> {
    let mut url = if s.starts_with('/') {
        Url::from_directory_path(s).map_err(|()| format!("`{s}` is not a usable directory path"))?
    } else {
        Url::parse(s).map_err(|e| format!("`{s}` is not a URL: {e}"))?
    };
    match url.scheme() {
        "http" | "https" => {
            if url.host_str().is_none_or(str::is_empty) {
                return Err(format!("`{s}` has no host"));
            }
        }
        "file" => {}
        other => return Err(format!("unsupported scheme `{other}:` (use http, https or file)")),
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(format!("`{s}` must not have a query or fragment"));
    }
    if !url.path().ends_with('/') {
        let p = format!("{}/", url.path());
        url.set_path(&p);
    }
    Ok(url)
}

/// A `deb` entry of the host's apt sources.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AptSource {
    pub uri: Url,
    pub suites: Vec<String>,
    /// `path:line` (one-line format) or `path` (deb822).
    pub origin: String,
}

impl AptSource {
    /// Whether the URI's last path component is `archive` (`…/debian/` for `debian`).
    fn named(&self, archive: &str) -> bool {
        self.uri
            .path_segments()
            .and_then(|mut s| s.rfind(|c| !c.is_empty()))
            == Some(archive)
    }
}

fn apt_uri(s: &str) -> Option<Url> {
    // cdrom:, mirror+…, tor+… and other schemes are not something debcast can fetch from.
    base_url(s)
        .ok()
        .filter(|u| !s.starts_with('/') && u.scheme() != "cdrom")
}

/// Parses one-line `sources.list` text: `deb [options] URI SUITE [COMPONENT…]`.
pub fn parse_one_line(text: &str, origin: &str) -> Vec<AptSource> {
    let mut out = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.split('#').next().unwrap_or_default().trim();
        let Some(rest) = line.strip_prefix("deb") else {
            continue;
        };
        // `deb-src` (and anything else that merely starts with "deb") is not a binary source.
        if !rest.starts_with([' ', '\t']) {
            continue;
        }
        let mut rest = rest.trim_start();
        if let Some(opts) = rest.strip_prefix('[') {
            let Some((options, after)) = opts.split_once(']') else {
                continue;
            };
            let disabled = options
                .split_whitespace()
                .any(|o| o.eq_ignore_ascii_case("enabled=no") || o.eq_ignore_ascii_case("enabled=false"));
            if disabled {
                continue;
            }
            rest = after;
        }
        let mut words = rest.split_whitespace();
        let (Some(uri), Some(suite)) = (words.next(), words.next()) else {
            continue;
        };
        if let Some(uri) = apt_uri(uri) {
            out.push(AptSource {
                uri,
                suites: vec![suite.to_owned()],
                origin: format!("{origin}:{}", n + 1),
            });
        }
    }
    out
}

/// Parses deb822 `.sources` text (paragraphs of `Types`, `URIs`, `Suites`, `Components`, `Enabled`).
pub fn parse_deb822(text: &str, origin: &str) -> Vec<AptSource> {
    let mut out = Vec::new();
    for para in deb822::apt_paragraphs(text) {
        let field = |k: &str| para.get(k).map(String::as_str).unwrap_or_default();
        let enabled = !matches!(
            field("enabled").trim().to_ascii_lowercase().as_str(),
            "no" | "false"
        );
        let binary = field("types").split_whitespace().any(|t| t == "deb");
        if enabled && binary {
            let suites: Vec<String> = field("suites").split_whitespace().map(str::to_owned).collect();
            for uri in field("uris").split_whitespace().filter_map(apt_uri) {
                out.push(AptSource {
                    uri,
                    suites: suites.clone(),
                    origin: origin.to_owned(),
                });
            }
        }
    }
    out
}

/// Reads the apt sources under `root` (`/` on a real host). Files that do not exist are skipped;
/// files that cannot be read are reported in the second value, not fatal, because a fetch whose
/// archives all have `--mirror`s must not fail over an unrelated file.
pub fn read_apt_sources(root: &Path) -> (Vec<AptSource>, Vec<String>) {
    let mut sources = Vec::new();
    let mut problems = Vec::new();
    let etc = root.join("etc/apt");
    let mut read = |path: &Path, deb822: bool| match fs::read_to_string(path) {
        Ok(text) => {
            let origin = path.display().to_string();
            sources.extend(if deb822 {
                parse_deb822(&text, &origin)
            } else {
                parse_one_line(&text, &origin)
            });
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => problems.push(format!("cannot read {}: {e}", path.display())),
    };
    read(&etc.join("sources.list"), false);
    let dir = etc.join("sources.list.d");
    let mut parts: Vec<PathBuf> = match fs::read_dir(&dir) {
        Ok(entries) => entries.filter_map(|e| e.ok().map(|e| e.path())).collect(),
        Err(_) => Vec::new(),
    };
    // apt reads the directory in name order.
    parts.sort();
    for p in parts {
        match p.extension().and_then(|e| e.to_str()) {
            Some("list") => read(&p, false),
            Some("sources") => read(&p, true),
            _ => {}
        }
    }
    (sources, problems)
}

/// The mirror configuration of this machine, plus what the lock says about the archives (suites
/// and Release dates) that resolution and templates need.
#[derive(Debug, Clone, Default)]
pub struct Mirrors {
    cli: BTreeMap<String, Vec<MirrorTemplate>>,
    env: BTreeMap<String, Vec<MirrorTemplate>>,
    apt: Vec<AptSource>,
    apt_root: PathBuf,
    apt_problems: Vec<String>,
    suites: BTreeMap<String, Vec<String>>,
    dates: BTreeMap<String, Vec<i64>>,
    artifact_rewrites: Vec<Rewrite>,
}

/// An artifact URL prefix and what to put in its place (an internal mirror of that host).
#[derive(Debug, Clone, PartialEq, Eq)]
struct Rewrite {
    prefix: String,
    replacement: String,
    origin: String,
}

fn parse_specs<'a>(
    items: impl IntoIterator<Item = &'a str>,
    origin: &str,
) -> Result<BTreeMap<String, Vec<MirrorTemplate>>, MirrorError> {
    let mut map: BTreeMap<String, Vec<MirrorTemplate>> = BTreeMap::new();
    for spec in items {
        let bad = |reason: String| MirrorError::InvalidSpec {
            spec: spec.to_owned(),
            origin: origin.to_owned(),
            reason,
        };
        let (archive, url) = spec.split_once('=').ok_or_else(|| bad("no `=`".into()))?;
        let archive = archive.trim();
        if archive.is_empty()
            || !archive
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        {
            return Err(bad(format!("`{archive}` is not an archive name")));
        }
        let t = MirrorTemplate::parse(url.trim()).map_err(|e| bad(e.to_string()))?;
        let list = map.entry(archive.to_owned()).or_default();
        if !list.contains(&t) {
            list.push(t);
        }
    }
    Ok(map)
}

impl Mirrors {
    /// A configuration from explicit parts: `cli` items (`ARCHIVE=URL`), the `DEBCAST_MIRRORS`
    /// value, and the root under which `etc/apt` is read (`None`: no apt sources).
    pub fn from_parts(
        cli: &[String],
        env: Option<&str>,
        apt_root: Option<&Path>,
    ) -> Result<Self, MirrorError> {
        let cli = parse_specs(cli.iter().map(String::as_str), "--mirror")?;
        let env = parse_specs(
            env.unwrap_or_default()
                .split(|c: char| c == ',' || c.is_whitespace())
                .filter(|s| !s.is_empty()),
            MIRRORS_ENV,
        )?;
        let (apt, apt_problems) = apt_root.map(read_apt_sources).unwrap_or_default();
        Ok(Mirrors {
            cli,
            env,
            apt,
            apt_root: apt_root.unwrap_or(Path::new("/")).to_owned(),
            apt_problems,
            ..Mirrors::default()
        })
    }

    /// This machine's configuration: `--mirror` items, `DEBCAST_MIRRORS`, and `/etc/apt`.
    pub fn from_environment(cli: &[String]) -> Result<Self, MirrorError> {
        let env = std::env::var(MIRRORS_ENV).ok();
        Self::from_parts(cli, env.as_deref(), Some(Path::new("/")))
    }

    /// Adds the artifact URL rewrites: the `--artifact-mirror PREFIX=URL` items, else those of
    /// [`ARTIFACT_MIRRORS_ENV`] (`env`). Both sides must end with `/`, so a rewrite keeps the
    /// file name and only moves it to another server or directory.
    pub fn with_artifact_rewrites(mut self, cli: &[String], env: Option<&str>) -> Result<Self, MirrorError> {
        let (items, origin): (Vec<&str>, &str) = if cli.is_empty() {
            (
                env.unwrap_or_default()
                    .split(|c: char| c == ',' || c.is_whitespace())
                    .filter(|s| !s.is_empty())
                    .collect(),
                ARTIFACT_MIRRORS_ENV,
            )
        } else {
            (cli.iter().map(String::as_str).collect(), "--artifact-mirror")
        };
        for spec in items {
            let bad = |reason: &str| MirrorError::InvalidRewrite {
                spec: spec.to_owned(),
                origin: origin.to_owned(),
                reason: reason.to_owned(),
            };
            // The prefix is a URL too: split at the `=` that starts the second URL.
            let split = ["=http://", "=https://", "=file://", "=/"]
                .iter()
                .filter_map(|sep| spec.find(sep))
                .min()
                .ok_or_else(|| bad("no `=URL`"))?;
            let (prefix, replacement) = (&spec[..split], &spec[split + 1..]);
            for side in [prefix, replacement] {
                if !side.ends_with('/') {
                    return Err(bad(&format!("`{side}` must end with `/`")));
                }
            }
            let replacement = base_url(replacement).map_err(|r| bad(&r))?.to_string();
            Url::parse(prefix).map_err(|e| bad(&format!("`{prefix}` is not a URL: {e}")))?;
            self.artifact_rewrites.push(Rewrite {
                prefix: prefix.to_owned(),
                replacement,
                origin: origin.to_owned(),
            });
        }
        Ok(self)
    }

    /// Where an artifact URL can be fetched from: the base URLs of every rewrite whose prefix
    /// matches, in the order given, or, where none matches, the URL's own directory; and the
    /// file name to join to each. The lock pins the bytes, so any of them will do.
    pub fn resolve_artifact(&self, url: &str) -> Result<(Vec<Mirror>, String), MirrorError> {
        let bad = |reason: &str| MirrorError::InvalidArtifactUrl {
            url: url.to_owned(),
            reason: reason.to_owned(),
        };
        let (dir, name) = url.rsplit_once('/').ok_or_else(|| bad("has no file name"))?;
        if name.is_empty() {
            return Err(bad("has no file name"));
        }
        let dir = format!("{dir}/");
        let mut out: Vec<Mirror> = Vec::new();
        let push = |out: &mut Vec<Mirror>, base: &str, origin: &str| -> Result<(), MirrorError> {
            let url = base_url(base).map_err(|r| bad(&r))?;
            if !out.iter().any(|m| m.url == url) {
                out.push(Mirror {
                    url,
                    origin: origin.to_owned(),
                });
            }
            Ok(())
        };
        for r in &self.artifact_rewrites {
            if let Some(rest) = dir.strip_prefix(r.prefix.as_str()) {
                push(&mut out, &format!("{}{rest}", r.replacement), &r.origin)?;
            }
        }
        // A matching rewrite replaces the URL's own host: a build behind a firewall must not
        // reach out past its internal mirror, whatever that mirror answers.
        if out.is_empty() {
            push(&mut out, &dir, "the manifest")?;
        }
        Ok((out, name.to_owned()))
    }

    /// Records which suites are asked for from `archive` (used to pick apt sources).
    pub fn with_suites(mut self, archive: &str, suites: &[String]) -> Self {
        let list = self.suites.entry(archive.to_owned()).or_default();
        for s in suites {
            if !list.contains(s) {
                list.push(s.clone());
            }
        }
        self
    }

    /// Records the lock's Release files: their suites, and their dates for URL templates.
    pub fn with_releases(mut self, releases: &[LockedRelease]) -> Self {
        for r in releases {
            self = self.with_suites(&r.archive, std::slice::from_ref(&r.suite));
            if let Some(d) = parse_release_date(&r.date) {
                let dates = self.dates.entry(r.archive.clone()).or_default();
                if !dates.contains(&d) {
                    dates.push(d);
                    // Newest first: the most recent snapshot is the likeliest to hold everything.
                    dates.sort_unstable_by(|a, b| b.cmp(a));
                }
            }
        }
        self
    }

    /// The mirrors to try for `archive`, in order. Errors when there is none, saying how to add one.
    pub fn resolve(&self, archive: &str) -> Result<Vec<Mirror>, MirrorError> {
        let mut notes = Vec::new();
        let mut out: Vec<Mirror> = Vec::new();
        let push = |out: &mut Vec<Mirror>, url: Url, origin: &str| {
            if !out.iter().any(|m| m.url == url) {
                out.push(Mirror {
                    url,
                    origin: origin.to_owned(),
                });
            }
        };
        let explicit = [(&self.cli, "--mirror"), (&self.env, MIRRORS_ENV)]
            .into_iter()
            .find_map(|(map, origin)| map.get(archive).map(|l| (l, origin)));
        if let Some((templates, origin)) = explicit {
            let dates = self.dates.get(archive).map(Vec::as_slice).unwrap_or_default();
            for t in templates {
                if !t.needs_date() {
                    push(&mut out, t.expand(archive, None)?, origin);
                } else if dates.is_empty() {
                    notes.push(format!(
                        "{origin} `{}` needs a Release date, which only a lockfile provides",
                        t.as_str()
                    ));
                } else {
                    for &d in dates {
                        push(&mut out, t.expand(archive, Some(d))?, origin);
                    }
                }
            }
        } else {
            let suites = self.suites.get(archive).map(Vec::as_slice).unwrap_or_default();
            let has_suite = |s: &AptSource| suites.iter().any(|want| s.suites.contains(want));
            for src in self.apt.iter().filter(|s| has_suite(s) && s.named(archive)) {
                push(&mut out, src.uri.clone(), &src.origin);
            }
            for src in self.apt.iter().filter(|s| has_suite(s)) {
                push(&mut out, src.uri.clone(), &src.origin);
            }
            if out.is_empty() {
                for src in self.apt.iter().filter(|s| s.named(archive)) {
                    push(&mut out, src.uri.clone(), &src.origin);
                }
            }
            notes.extend(self.apt_problems.iter().cloned());
        }
        if out.is_empty() {
            return Err(MirrorError::NoMirror {
                archive: archive.to_owned(),
                apt_root: self.apt_root.clone(),
                notes,
            });
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_parse_and_expand() {
        let t = MirrorTemplate::parse("http://127.0.0.1:8/{archive}/{{x}}/{release_date}").unwrap();
        assert!(t.needs_date());
        assert_eq!(
            t.expand("debian", Some(86_400 + 61)).unwrap().as_str(),
            "http://127.0.0.1:8/debian/%7Bx%7D/19700102T000101Z/"
        );
        let t = MirrorTemplate::parse("http://h.example.org/a/{release_date:%Y/%m}").unwrap();
        assert_eq!(
            t.expand("x", Some(0)).unwrap().as_str(),
            "http://h.example.org/a/1970/01/"
        );
        for bad in [
            "http://h.example/{nope}",
            "http://h.example/{release_date:%Q}",
            "http://h.example/{archive",
            "http://h.example/}",
            "ftp://h.example/x",
            "not a url",
            "http://h.example/x?q=1",
        ] {
            assert!(MirrorTemplate::parse(bad).is_err(), "{bad}");
        }
        let t = MirrorTemplate::parse("/srv/mirror/debian").unwrap();
        assert_eq!(
            t.expand("debian", None).unwrap().as_str(),
            "file:///srv/mirror/debian/"
        );
    }
}
