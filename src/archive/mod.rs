//! Signed archive metadata: keyrings, Release/InRelease verification and parsing, Packages
//! indices, and the client that loads a suite through a [`Downloader`].
//!
//! The chain of trust: the keyring verifies `InRelease` (or `Release` + `Release.gpg`); only the
//! signed text is parsed; its `SHA256` list pins each `Packages` index (compressed and, when
//! listed, uncompressed); each index pins its packages' size and SHA-256.

pub mod keyring;
pub mod locked;
pub mod packages;
pub mod record;
pub mod release;

use std::collections::HashSet;
use std::io::Read;
use std::path::Path;
use std::time::SystemTime;

pub use keyring::{
    Keyring, KeyringError, SignedAs, VerifiedRelease, VerifyError, verify_detached, verify_inrelease,
};
pub use packages::{IndexOrigin, PackagesError, parse_packages, parse_packages_where};
pub use record::{MultiArch, PackageRecord};
pub use release::{Release, ReleaseError};

#[cfg(test)]
mod tests;

use crate::fetch::{Downloader, Expected, FetchError, MirrorFailure};
use crate::hash::Sha256Digest;
use crate::lockfile::LockedRelease;
use crate::manifest::Source;
use crate::store::{Kind, Store, StoreError};

/// Largest decompressed index accepted when the Release does not list the uncompressed size
/// (a decompression-bomb guard; Debian's biggest Packages is ~50 MB).
pub const MAX_INDEX_SIZE: u64 = 1 << 30;

/// An error loading a suite: which archive, suite and file, and why.
#[derive(Debug, thiserror::Error)]
#[error("archive `{archive}`, suite `{suite}`, {file}: {reason}")]
pub struct ArchiveError {
    pub archive: String,
    pub suite: String,
    /// Path relative to the archive root (`dists/bookworm/InRelease`), or the keyring's path.
    pub file: String,
    /// Boxed to keep `Result<_, ArchiveError>` small.
    pub reason: Box<Reason>,
}

#[derive(Debug, thiserror::Error)]
pub enum Reason {
    #[error(transparent)]
    Keyring(KeyringError),
    #[error("download failed: {0}")]
    Fetch(FetchError),
    #[error("neither InRelease nor Release + Release.gpg could be downloaded:\n{inrelease}\n{release}")]
    NoRelease {
        inrelease: Box<FetchError>,
        release: Box<FetchError>,
    },
    #[error("signature verification failed: {0}")]
    Signature(VerifyError),
    #[error("no mirror served one that verifies (never falling back to another signature):{}", refusals(.0))]
    NeverVerified(Box<FetchError>),
    #[error(
        "the lock records no SHA-256 of this Release (an older debcast wrote it): run `debcast lock` to record it"
    )]
    Unpinned,
    #[error(
        "the store has no copy of the Release the lock names (SHA-256 {wanted}){}",
        .served.map(|s| format!(" and the mirrors serve another one now (SHA-256 {s})")).unwrap_or_else(|| " and it is offline (--offline)".to_owned())
    )]
    LockedReleaseGone {
        wanted: Sha256Digest,
        served: Option<Sha256Digest>,
    },
    #[error("invalid Release: {0}")]
    Release(ReleaseError),
    #[error("is for suite `{}` (codename `{}`), not the requested `{requested}`", crate::text::escape(.found), crate::text::escape(.codename))]
    SuiteMismatch {
        requested: String,
        found: String,
        codename: String,
    },
    #[error(
        "expired: Valid-Until {} is before now ({now}); the mirror may be stale or replaying an old Release (set allow-expired for archived snapshots)",
        crate::text::escape(.valid_until)
    )]
    Expired { valid_until: String, now: String },
    #[error("component `{component}` is not one of the Release's components ({})", crate::text::escape(.available))]
    UnknownComponent { component: String, available: String },
    #[error("the Release lists no Packages index for architecture `{arch}` (looked for {looked_for})")]
    NoIndex { arch: String, looked_for: String },
    #[error(
        "expected {expected_size} bytes with SHA-256 {expected}, got {actual_size} bytes with SHA-256 {actual}"
    )]
    Mismatch {
        expected: Sha256Digest,
        expected_size: u64,
        actual: Sha256Digest,
        actual_size: u64,
    },
    #[error("cannot decompress: {0}")]
    Decompress(std::io::Error),
    #[error("decompresses to more than {limit} bytes (decompression bomb?)")]
    TooLarge { limit: u64 },
    #[error(transparent)]
    Packages(PackagesError),
    #[error(transparent)]
    Store(StoreError),
}

/// A suite's verified Release: what the lock records, and what its indices are checked against.
#[derive(Debug, Clone)]
pub struct SuiteRelease {
    pub locked: LockedRelease,
    pub release: Release,
    /// `dists/SUITE/InRelease` or `dists/SUITE/Release`, for messages.
    pub release_file: String,
}

/// Loads suites of signed archives: Release verification, index download (through the store's
/// cache), and parsing.
pub struct ArchiveClient<'a> {
    pub downloader: &'a dyn Downloader,
    /// Verified indices are cached here (under [`Kind::Index`]) and read from here first.
    pub store: Option<&'a Store>,
    /// "Now", for Valid-Until and key expiry (a parameter so tests and rebuilds can pin it).
    pub now: SystemTime,
}

/// The store's note, beside a locked Release it lacks, of the current Release that stood in
/// for it (its text's SHA-256, hex): an offline run then checks against the same one.
const STAND_IN: &str = ".stand-in";

/// The compressions of `Packages` we read, best first.
const VARIANTS: [&str; 3] = [".xz", ".gz", ""];

impl<'a> ArchiveClient<'a> {
    pub fn new(downloader: &'a dyn Downloader, store: Option<&'a Store>, now: SystemTime) -> Self {
        ArchiveClient {
            downloader,
            store,
            now,
        }
    }

    /// Loads `suite` of `source`'s archive for architecture `arch`: verifies its Release with
    /// `keyring_path`, then reads the `Packages` indices of every component of `source` for
    /// `arch` and `all`. Returns what was locked against and every record (each package once).
    pub fn load_suite(
        &self,
        source: &Source,
        keyring_path: &Path,
        suite: &str,
        arch: &str,
    ) -> Result<(LockedRelease, Vec<PackageRecord>), ArchiveError> {
        let release = self.load_release(source, keyring_path, suite)?;
        let records = self.load_packages(source, &release, arch)?;
        Ok((release.locked, records))
    }

    /// Downloads and verifies `suite`'s Release (signature, suite name, Valid-Until). Done once
    /// per suite, however many architectures are then read from it.
    pub fn load_release(
        &self,
        source: &Source,
        keyring_path: &Path,
        suite: &str,
    ) -> Result<SuiteRelease, ArchiveError> {
        let keyring = self.keyring(source, suite, keyring_path)?;
        let (verified, release_file) = self.fetch_release(&source.archive, suite, &keyring)?;
        self.checked_release(source, suite, verified, release_file, true)
    }

    /// The Release a lock names (by the SHA-256 of its signed text), verified again with the
    /// keyring: from the store, where `lock` kept the signed file, else from the mirrors when
    /// they still serve it. When neither has it, the suite's current Release (verified like
    /// `lock` verifies it; offline, the one that stood in when the store was filled) with
    /// [`LockedReleaseGone`](Reason::LockedReleaseGone) beside it, so the caller can still look
    /// for the packages there (any signed index listing a package's exact bytes proves them the
    /// archive's) and say why it had to.
    ///
    /// Expiry: the signature is checked as `lock` checks it (a trusted key, neither expired nor
    /// revoked now, a strong hash), but the locked Release's `Valid-Until` is not: a lock pins a
    /// Release on purpose and must build later, and `Valid-Until` guards the choice of the
    /// newest metadata, which `lock` made when it enforced it.
    pub fn load_locked_release(
        &self,
        source: &Source,
        keyring_path: &Path,
        locked: &LockedRelease,
    ) -> Result<(SuiteRelease, Option<ArchiveError>), ArchiveError> {
        let suite = locked.suite.as_str();
        let err = |file: &str, reason: Reason| ArchiveError {
            archive: source.archive.clone(),
            suite: suite.to_owned(),
            file: file.to_owned(),
            reason: Box::new(reason),
        };
        let inrelease_path = format!("dists/{suite}/InRelease");
        let Some(wanted) = locked.sha256 else {
            return Err(err(&inrelease_path, Reason::Unpinned));
        };
        let keyring = self.keyring(source, suite, keyring_path)?;
        if let Some((verified, file)) = self.stored_release(source, suite, &keyring, &wanted)? {
            return Ok((self.checked_release(source, suite, verified, file, false)?, None));
        }
        if self.downloader.is_offline() {
            // The current Release that stood in for it when the store was filled, if one did.
            let stand_in = self
                .store
                .and_then(|store| store.read_release_file(&wanted, STAND_IN).ok().flatten())
                .and_then(|b| String::from_utf8(b).ok())
                .and_then(|hex| hex.trim().parse::<Sha256Digest>().ok());
            if let Some(served) = stand_in
                && let Some((verified, file)) = self.stored_release(source, suite, &keyring, &served)?
            {
                let gone = err(
                    &file,
                    Reason::LockedReleaseGone {
                        wanted,
                        served: Some(served),
                    },
                );
                return Ok((
                    self.checked_release(source, suite, verified, file, false)?,
                    Some(gone),
                ));
            }
            return Err(err(
                &inrelease_path,
                Reason::LockedReleaseGone { wanted, served: None },
            ));
        }
        let (verified, file) = self.fetch_release(&source.archive, suite, &keyring)?;
        if verified.sha256 == wanted {
            return Ok((self.checked_release(source, suite, verified, file, false)?, None));
        }
        let served = verified.sha256;
        let release = self.checked_release(source, suite, verified, file.clone(), true)?;
        if let Some(store) = self.store {
            // So that an offline run on this store checks against the same stand-in.
            store
                .insert_release_file(&wanted, STAND_IN, served.hex().as_bytes())
                .map_err(|e| err(&file, Reason::Store(e)))?;
        }
        let gone = err(
            &file,
            Reason::LockedReleaseGone {
                wanted,
                served: Some(served),
            },
        );
        Ok((release, Some(gone)))
    }

    fn keyring(&self, source: &Source, suite: &str, keyring_path: &Path) -> Result<Keyring, ArchiveError> {
        Keyring::load(keyring_path).map_err(|e| ArchiveError {
            archive: source.archive.clone(),
            suite: suite.to_owned(),
            file: keyring_path.display().to_string(),
            reason: Box::new(Reason::Keyring(e)),
        })
    }

    /// The signed Release with text hash `wanted` from the store, verified, if the store has it.
    /// A copy that does not verify (damaged, or edited) is passed over with a warning.
    fn stored_release(
        &self,
        source: &Source,
        suite: &str,
        keyring: &Keyring,
        wanted: &Sha256Digest,
    ) -> Result<Option<(VerifiedRelease, String)>, ArchiveError> {
        let Some(store) = self.store else {
            return Ok(None);
        };
        let err = |file: &str, e: StoreError| ArchiveError {
            archive: source.archive.clone(),
            suite: suite.to_owned(),
            file: file.to_owned(),
            reason: Box::new(Reason::Store(e)),
        };
        let inrelease_path = format!("dists/{suite}/InRelease");
        let release_path = format!("dists/{suite}/Release");
        let verified = if let Some(bytes) = store
            .read_release_file(wanted, ".InRelease")
            .map_err(|e| err(&inrelease_path, e))?
        {
            Some((verify_inrelease(&bytes, keyring, self.now), inrelease_path))
        } else if let (Some(release), Some(sig)) = (
            store
                .read_release_file(wanted, ".Release")
                .map_err(|e| err(&release_path, e))?,
            store
                .read_release_file(wanted, ".Release.gpg")
                .map_err(|e| err(&release_path, e))?,
        ) {
            Some((verify_detached(&release, &sig, keyring, self.now), release_path))
        } else {
            None
        };
        match verified {
            Some((Ok(v), file)) if v.sha256 == *wanted => Ok(Some((v, file))),
            Some((Ok(v), file)) => {
                tracing::warn!(
                    "{}: the stored copy of {} {file} holds a Release with SHA-256 {}, not {wanted}; ignoring it",
                    store.release_path(wanted, "").display(),
                    source.archive,
                    v.sha256
                );
                Ok(None)
            }
            Some((Err(e), file)) => {
                tracing::warn!(
                    "{}: the stored copy of {} {file} does not verify ({e}); ignoring it",
                    store.release_path(wanted, "").display(),
                    source.archive
                );
                Ok(None)
            }
            None => Ok(None),
        }
    }

    /// Parses a verified Release and checks it is `suite`'s, and (with `valid_until`) that its
    /// Valid-Until has not passed.
    fn checked_release(
        &self,
        source: &Source,
        suite: &str,
        verified: VerifiedRelease,
        release_file: String,
        valid_until: bool,
    ) -> Result<SuiteRelease, ArchiveError> {
        let archive = source.archive.as_str();
        let err = |file: &str, reason: Reason| ArchiveError {
            archive: archive.to_owned(),
            suite: suite.to_owned(),
            file: file.to_owned(),
            reason: Box::new(reason),
        };
        let release = Release::parse(&verified.text).map_err(|e| err(&release_file, Reason::Release(e)))?;
        if !release.matches_suite(suite) {
            return Err(err(
                &release_file,
                Reason::SuiteMismatch {
                    requested: suite.to_owned(),
                    found: release.suite.clone().unwrap_or_default(),
                    codename: release.codename.clone().unwrap_or_default(),
                },
            ));
        }
        if let Some((valid_until, until)) = release.valid_until.as_ref().filter(|_| valid_until) {
            let now = unix(self.now);
            if *until < now {
                let now_text = crate::debian::date::Civil::from_unix(now).readable();
                if source.allow_expired {
                    tracing::warn!(
                        "archive `{archive}`, suite `{suite}`, {release_file}: expired (Valid-Until {}, now {now_text}); accepted because allow-expired is set",
                        crate::text::escape(valid_until)
                    );
                } else {
                    return Err(err(
                        &release_file,
                        Reason::Expired {
                            valid_until: valid_until.clone(),
                            now: now_text,
                        },
                    ));
                }
            }
        }
        let locked = LockedRelease {
            archive: archive.to_owned(),
            suite: suite.to_owned(),
            date: release.date.clone(),
            sha256: Some(verified.sha256),
        };
        Ok(SuiteRelease {
            locked,
            release,
            release_file,
        })
    }

    /// Reads the `Packages` indices of every component of `source` for `arch` (and `all`) from
    /// a verified Release. Returns every record, each (name, version, architecture) once.
    pub fn load_packages(
        &self,
        source: &Source,
        suite: &SuiteRelease,
        arch: &str,
    ) -> Result<Vec<PackageRecord>, ArchiveError> {
        self.load_packages_where(source, suite, arch, &|_| true)
    }

    /// [`Self::load_packages`], keeping only the records whose name `keep` accepts (the others
    /// are not parsed).
    pub fn load_packages_where(
        &self,
        source: &Source,
        suite: &SuiteRelease,
        arch: &str,
        keep: &dyn Fn(&str) -> bool,
    ) -> Result<Vec<PackageRecord>, ArchiveError> {
        let archive = source.archive.as_str();
        let release = &suite.release;
        let release_file = suite.release_file.as_str();
        let suite = suite.locked.suite.as_str();
        let err = |file: &str, reason: Reason| ArchiveError {
            archive: archive.to_owned(),
            suite: suite.to_owned(),
            file: file.to_owned(),
            reason: Box::new(reason),
        };
        let mut indices: Vec<(&str, &str)> = Vec::new();
        for component in &source.components {
            // debian-security lists `updates/main` while serving `main/…` (apt accepts both).
            let listed = |c: &String| c == component || c.rsplit('/').next() == Some(component.as_str());
            if !release.components.is_empty() && !release.components.iter().any(listed) {
                return Err(err(
                    release_file,
                    Reason::UnknownComponent {
                        component: component.clone(),
                        available: release.components.join(" "),
                    },
                ));
            }
            // binary-ARCH lists `all` packages too when the Release says
            // `No-Support-for-Architecture-all: Packages` (Debian does); otherwise they live in
            // binary-all. Read binary-all only when it exists and is not such a copy, and keep
            // the first record of each (name, version, architecture) either way.
            // Like apt, only when the Release's `Architectures` names `all` (debian-security's
            // does not, though it ships a binary-all index that is not kept current).
            indices.push((component, arch));
            let lists_all =
                release.architectures.is_empty() || release.architectures.iter().any(|a| a == "all");
            if arch != "all" && lists_all && !release.no_support_for_architecture_all {
                let dir = format!("{component}/binary-all/");
                if release.sha256.keys().any(|p| p.starts_with(&dir)) {
                    indices.push((component, "all"));
                }
            }
        }
        if let [(component, index_arch)] = indices[..] {
            // A single index (Debian's case): its stanzas are distinct, and the universe keeps
            // the first of any duplicates anyway; skip the bookkeeping.
            return self.load_index(archive, suite, release, component, index_arch, keep);
        }
        let mut records = Vec::new();
        let mut seen: HashSet<(String, String, String)> = HashSet::new();
        for (component, index_arch) in indices {
            for rec in self.load_index(archive, suite, release, component, index_arch, keep)? {
                if seen.insert((rec.name.clone(), rec.version.clone(), rec.architecture.clone())) {
                    records.push(rec);
                }
            }
        }
        Ok(records)
    }

    /// Downloads and verifies `InRelease`, or `Release` + `Release.gpg` when `InRelease` cannot be
    /// downloaded. An `InRelease` that downloads but fails verification is an error: falling
    /// back then would let a mirror pick which signature we check.
    fn fetch_release(
        &self,
        archive: &str,
        suite: &str,
        keyring: &Keyring,
    ) -> Result<(VerifiedRelease, String), ArchiveError> {
        let err = |file: &str, reason: Reason| ArchiveError {
            archive: archive.to_owned(),
            suite: suite.to_owned(),
            file: file.to_owned(),
            reason: Box::new(reason),
        };
        let inrelease_path = format!("dists/{suite}/InRelease");
        // No hash protects InRelease itself, so bytes damaged in transit fail verification like
        // a forgery would: the transport retries (and fails over) a body that may be damaged
        // like any wrong body, and hands over one that verifies or is refused by policy (an
        // unknown, expired or revoked key: final at once). Checked again below either way.
        let check = |bytes: &[u8]| -> Result<(), String> {
            match verify_inrelease(bytes, keyring, self.now) {
                Err(e) if e.may_be_damage() => Err(format!("InRelease does not verify: {e}")),
                _ => Ok(()),
            }
        };
        match self.downloader.get_checked(archive, &inrelease_path, &check) {
            Ok(bytes) => {
                let v = verify_inrelease(&bytes, keyring, self.now)
                    .map_err(|e| err(&inrelease_path, Reason::Signature(e)))?;
                if let Some(store) = self.store {
                    store
                        .insert_release_file(&v.sha256, ".InRelease", &bytes)
                        .map_err(|e| err(&inrelease_path, Reason::Store(e)))?;
                }
                Ok((v, inrelease_path))
            }
            // InRelease came, but never verified: falling back to Release + Release.gpg then
            // would let a mirror pick which signature we check.
            Err(e) if failures(&e).iter().any(|f| f.error.is_refused()) => {
                Err(err(&inrelease_path, Reason::NeverVerified(Box::new(e))))
            }
            Err(inrelease_err) => {
                tracing::debug!("{archive} {inrelease_path}: {inrelease_err}; trying Release + Release.gpg");
                let release_path = format!("dists/{suite}/Release");
                let release = self.downloader.get(archive, &release_path, None).map_err(|e| {
                    err(
                        &inrelease_path,
                        Reason::NoRelease {
                            inrelease: Box::new(inrelease_err),
                            release: Box::new(e),
                        },
                    )
                })?;
                let sig_path = format!("dists/{suite}/Release.gpg");
                let sig = self
                    .downloader
                    .get(archive, &sig_path, None)
                    .map_err(|e| err(&sig_path, Reason::Fetch(e)))?;
                let v = verify_detached(&release, &sig, keyring, self.now)
                    .map_err(|e| err(&sig_path, Reason::Signature(e)))?;
                if let Some(store) = self.store {
                    store
                        .insert_release_file(&v.sha256, ".Release", &release)
                        .and_then(|()| store.insert_release_file(&v.sha256, ".Release.gpg", &sig))
                        .map_err(|e| err(&release_path, Reason::Store(e)))?;
                }
                Ok((v, release_path))
            }
        }
    }

    /// Reads one `Packages` index (component, architecture), from the store when cached.
    fn load_index(
        &self,
        archive: &str,
        suite: &str,
        release: &Release,
        component: &str,
        arch: &str,
        keep: &dyn Fn(&str) -> bool,
    ) -> Result<Vec<PackageRecord>, ArchiveError> {
        let dir = format!("{component}/binary-{arch}");
        let plain_rel = format!("{dir}/Packages");
        let plain = release.sha256.get(&plain_rel).copied();
        let err = |rel: &str, reason: Reason| ArchiveError {
            archive: archive.to_owned(),
            suite: suite.to_owned(),
            file: format!("dists/{suite}/{rel}"),
            reason: Box::new(reason),
        };
        let listed: Vec<(String, Expected)> = VARIANTS
            .iter()
            .filter_map(|ext| {
                let rel = format!("{dir}/Packages{ext}");
                release.sha256.get(&rel).map(|e| (rel, *e))
            })
            .collect();
        if listed.is_empty() {
            return Err(err(
                "Release",
                Reason::NoIndex {
                    arch: arch.to_owned(),
                    looked_for: VARIANTS
                        .iter()
                        .map(|ext| format!("{dir}/Packages{ext}"))
                        .collect::<Vec<_>>()
                        .join(", "),
                },
            ));
        }
        let origin = |rel: &str| -> String { format!("dists/{suite}/{rel}") };

        // Warm cache: the uncompressed index (cached when the Release pins it), then any
        // compressed variant.
        if let Some(store) = self.store {
            if let Some(exp) = plain
                && store.contains(Kind::Index, &exp)
            {
                match store.read_verified(Kind::Index, &exp, &origin(&plain_rel)) {
                    Ok(bytes) => {
                        return self.parse(archive, suite, component, &origin(&plain_rel), &bytes, keep);
                    }
                    Err(e) => tracing::warn!("cached index {}: {e}; downloading again", origin(&plain_rel)),
                }
            }
            for (rel, exp) in &listed {
                if store.contains(Kind::Index, exp) {
                    match store.read_verified(Kind::Index, exp, &origin(rel)) {
                        Ok(bytes) => {
                            let data = self.decompress(rel, &bytes, plain).map_err(|r| err(rel, r))?;
                            return self.parse(archive, suite, component, &origin(rel), &data, keep);
                        }
                        Err(e) => tracing::warn!("cached index {}: {e}; downloading again", origin(rel)),
                    }
                }
            }
        }

        // Download the best variant that the Release lists; the first listed is the one to use
        // (a mirror missing it is a broken mirror, but try the others before giving up).
        let mut first: Option<ArchiveError> = None;
        for (rel, exp) in &listed {
            let bytes = match self.download_index(archive, suite, release, &dir, rel, *exp) {
                Ok(b) => b,
                Err(e) => {
                    // Report the best variant's failure: the later ones are fallbacks (and
                    // Debian lists a plain `Packages` that mirrors do not carry).
                    tracing::debug!("{e}");
                    first.get_or_insert(e);
                    continue;
                }
            };
            let data = self.decompress(rel, &bytes, plain).map_err(|r| err(rel, r))?;
            if let Some(store) = self.store {
                // Cache the uncompressed index when its hash is pinned (a warm run then skips
                // decompression), else the verified compressed file.
                let cached = if plain.is_some() { &data } else { &bytes };
                if let Err(e) = store.insert_bytes(Kind::Index, cached) {
                    return Err(err(rel, Reason::Store(e)));
                }
            }
            return self.parse(archive, suite, component, &origin(rel), &data, keep);
        }
        Err(first.unwrap_or_else(|| {
            err(
                &plain_rel,
                Reason::NoIndex {
                    arch: arch.to_owned(),
                    looked_for: plain_rel.clone(),
                },
            )
        }))
    }

    /// Downloads one index file, by hash when the archive supports it (falling back to the
    /// canonical path), and checks it against the Release.
    fn download_index(
        &self,
        archive: &str,
        suite: &str,
        release: &Release,
        dir: &str,
        rel: &str,
        exp: Expected,
    ) -> Result<Vec<u8>, ArchiveError> {
        let canonical = format!("dists/{suite}/{rel}");
        let err = |file: &str, reason: Reason| ArchiveError {
            archive: archive.to_owned(),
            suite: suite.to_owned(),
            file: file.to_owned(),
            reason: Box::new(reason),
        };
        let check = |file: &str, bytes: Vec<u8>| -> Result<Vec<u8>, ArchiveError> {
            // The downloader verifies too; checking here keeps the guarantee whatever the
            // transport does.
            let actual = Sha256Digest::of(&bytes);
            if actual != exp.sha256 || bytes.len() as u64 != exp.size {
                return Err(err(
                    file,
                    Reason::Mismatch {
                        expected: exp.sha256,
                        expected_size: exp.size,
                        actual,
                        actual_size: bytes.len() as u64,
                    },
                ));
            }
            Ok(bytes)
        };
        if release.acquire_by_hash {
            let by_hash = format!("dists/{suite}/{dir}/by-hash/SHA256/{}", exp.sha256.hex());
            match self
                .downloader
                .get(archive, &by_hash, Some(exp))
                .map_err(|e| err(&by_hash, Reason::Fetch(e)))
                .and_then(|b| check(&by_hash, b))
            {
                Ok(bytes) => return Ok(bytes),
                Err(e) => tracing::debug!("{e}; trying {canonical}"),
            }
        }
        let bytes = self
            .downloader
            .get(archive, &canonical, Some(exp))
            .map_err(|e| err(&canonical, Reason::Fetch(e)))?;
        check(&canonical, bytes)
    }

    /// Decompresses an index by its name, bounded by the uncompressed size the Release pins
    /// (or [`MAX_INDEX_SIZE`]), and checks the result against that pin.
    fn decompress(&self, rel: &str, bytes: &[u8], plain: Option<Expected>) -> Result<Vec<u8>, Reason> {
        let limit = plain.map_or(MAX_INDEX_SIZE, |p| p.size);
        let data = if rel.ends_with(".xz") {
            read_bounded(liblzma::read::XzDecoder::new_multi_decoder(bytes), limit)?
        } else if rel.ends_with(".gz") {
            read_bounded(flate2::read::MultiGzDecoder::new(bytes), limit)?
        } else {
            bytes.to_vec()
        };
        if let Some(p) = plain {
            let actual = Sha256Digest::of(&data);
            if actual != p.sha256 || data.len() as u64 != p.size {
                return Err(Reason::Mismatch {
                    expected: p.sha256,
                    expected_size: p.size,
                    actual,
                    actual_size: data.len() as u64,
                });
            }
        }
        Ok(data)
    }

    fn parse(
        &self,
        archive: &str,
        suite: &str,
        component: &str,
        index: &str,
        data: &[u8],
        keep: &dyn Fn(&str) -> bool,
    ) -> Result<Vec<PackageRecord>, ArchiveError> {
        parse_packages_where(
            data,
            IndexOrigin {
                archive,
                suite,
                component,
                index,
            },
            keep,
        )
        .map_err(|e| ArchiveError {
            archive: archive.to_owned(),
            suite: suite.to_owned(),
            file: index.to_owned(),
            reason: Box::new(Reason::Packages(e)),
        })
    }
}

/// The per-mirror failures of a download error.
fn failures(e: &FetchError) -> &[MirrorFailure] {
    match e {
        FetchError::AllMirrorsFailed { failures, .. } | FetchError::Deadline { failures, .. } => failures,
        _ => &[],
    }
}

fn refusals(e: &FetchError) -> String {
    let listed: String = failures(e).iter().map(|f| format!("\n  - {f}")).collect();
    if listed.is_empty() {
        format!(" {e}")
    } else {
        listed
    }
}

fn read_bounded(reader: impl Read, limit: u64) -> Result<Vec<u8>, Reason> {
    let mut out = Vec::new();
    reader
        .take(limit.saturating_add(1))
        .read_to_end(&mut out)
        .map_err(Reason::Decompress)?;
    if out.len() as u64 > limit {
        return Err(Reason::TooLarge { limit });
    }
    Ok(out)
}

fn unix(t: SystemTime) -> i64 {
    match t.duration_since(std::time::UNIX_EPOCH) {
        Ok(d) => i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
        Err(e) => -i64::try_from(e.duration().as_secs()).unwrap_or(i64::MAX),
    }
}
