//! Tests of the archive module against synthetic signed archives (testkit); `host.rs`: against
//! the host's real Debian keyring and apt lists where present.

mod host;

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use debcast_testkit::archive::{
    self as tk, ArchiveBuilder, Compression, KeyOptions, SigHash, SigOptions, TestKey,
};

use super::keyring::MAX_KEYRING_BYTES;
use super::*;
use crate::fetch::{Downloader, Expected, FetchError};

/// The one place test code builds a transport error (the transport owns the type).
fn fetch_error(msg: String) -> FetchError {
    FetchError::Write {
        what: "test download".into(),
        error: msg,
    }
}

/// A `Downloader` over a directory tree; records every path asked for, and can refuse some.
struct DirDownloader {
    root: PathBuf,
    calls: Mutex<Vec<String>>,
    refuse: Vec<String>,
}

impl DirDownloader {
    fn new(root: &Path) -> Self {
        DirDownloader {
            root: root.to_owned(),
            calls: Mutex::new(Vec::new()),
            refuse: Vec::new(),
        }
    }
    fn calls(&self) -> Vec<String> {
        self.calls.lock().map(|c| c.clone()).unwrap_or_default()
    }
}

impl Downloader for DirDownloader {
    fn get(&self, archive: &str, path: &str, expected: Option<Expected>) -> Result<Vec<u8>, FetchError> {
        if let Ok(mut c) = self.calls.lock() {
            c.push(path.to_owned());
        }
        if self.refuse.iter().any(|r| path.contains(r.as_str())) {
            return Err(fetch_error(format!(
                "{archive}: {path}: 404 Not Found (refused by test)"
            )));
        }
        let bytes = std::fs::read(self.root.join(path))
            .map_err(|e| fetch_error(format!("{archive}: {path}: {e}")))?;
        if let Some(exp) = expected
            && (bytes.len() as u64 != exp.size || Sha256Digest::of(&bytes) != exp.sha256)
        {
            return Err(fetch_error(format!("{archive}: {path}: hash mismatch")));
        }
        Ok(bytes)
    }
}

fn at(unix: u32) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(u64::from(unix))
}

/// A day after the default Release date.
fn now() -> SystemTime {
    at(tk::RELEASE_TIME + 86_400)
}

struct Fixture {
    dir: tempfile::TempDir,
    keyring: PathBuf,
}

impl Fixture {
    fn root(&self) -> &Path {
        self.dir.path()
    }
}

fn key() -> TestKey {
    TestKey::new("archive-key").unwrap()
}

fn sample(b: &mut ArchiveBuilder) {
    b.simple("libc6", "2.36-9", "amd64", None)
        .simple("bash", "5.2-1", "amd64", Some("libc6 (>= 2.36), base-files"))
        .simple("base-files", "12.4", "amd64", None)
        .simple("tzdata", "2024a-1", "all", None);
}

/// Writes an archive signed by `signers`, with the keyring holding `trusted`.
fn fixture_with(b: &ArchiveBuilder, signers: &[&TestKey], trusted: &[&TestKey]) -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    b.write(dir.path(), signers).unwrap();
    let keyring = dir.path().join("keyring.gpg");
    let mut bytes = Vec::new();
    for k in trusted {
        bytes.extend(k.public_binary().unwrap());
    }
    std::fs::write(&keyring, bytes).unwrap();
    Fixture { dir, keyring }
}

fn fixture(b: &ArchiveBuilder) -> Fixture {
    let k = key();
    fixture_with(b, &[&k], &[&k])
}

fn builder() -> ArchiveBuilder {
    let mut b = ArchiveBuilder::new("stable");
    sample(&mut b);
    b
}

fn source(allow_expired: bool) -> Source {
    Source {
        archive: "test".into(),
        suites: vec!["stable".into()],
        components: vec!["main".into()],
        keyring: PathBuf::from("unused"),
        allow_expired,
    }
}

fn load(
    f: &Fixture,
    dl: &DirDownloader,
    store: Option<&Store>,
    now: SystemTime,
) -> Result<(LockedRelease, Vec<PackageRecord>), ArchiveError> {
    ArchiveClient::new(dl, store, now).load_suite(&source(false), &f.keyring, "stable", "amd64")
}

fn inrelease(f: &Fixture) -> Vec<u8> {
    std::fs::read(f.root().join("dists/stable/InRelease")).unwrap()
}

fn keyring(f: &Fixture) -> Keyring {
    Keyring::load(&f.keyring).unwrap()
}

#[test]
fn loads_a_suite_through_inrelease() {
    let f = fixture(&builder());
    let dl = DirDownloader::new(f.root());
    let (locked, records) = load(&f, &dl, None, now()).unwrap();
    assert_eq!(locked.archive, "test");
    assert_eq!(locked.suite, "stable");
    assert_eq!(locked.date, tk::RELEASE_DATE);
    let release = std::fs::read(f.root().join("dists/stable/Release")).unwrap();
    // The hash of the signed text equals the Release file's, whichever way it was verified.
    assert_eq!(locked.sha256, Some(Sha256Digest::of(&release)));
    let mut names: Vec<_> = records.iter().map(|r| r.name.as_str()).collect();
    names.sort();
    assert_eq!(names, ["base-files", "bash", "libc6", "tzdata"]);
    let bash = records.iter().find(|r| r.name == "bash").unwrap();
    assert_eq!(bash.depends.as_deref(), Some("libc6 (>= 2.36), base-files"));
    assert_eq!(bash.filename, "pool/main/b/bash/bash_5.2-1_amd64.deb");
    assert_eq!(
        (
            bash.archive.as_str(),
            bash.suite.as_str(),
            bash.component.as_str()
        ),
        ("test", "stable", "main")
    );
    let pool = std::fs::read(f.root().join(&bash.filename)).unwrap();
    assert_eq!(bash.sha256, Sha256Digest::of(&pool));
    assert_eq!(bash.size, pool.len() as u64);
    // InRelease only; the best variant (xz) of each index.
    let calls = dl.calls();
    assert_eq!(
        calls,
        [
            "dists/stable/InRelease",
            "dists/stable/main/binary-amd64/Packages.xz",
            "dists/stable/main/binary-all/Packages.xz"
        ]
    );
}

#[test]
fn falls_back_to_release_and_release_gpg() {
    let mut b = builder();
    b.write_inrelease = false;
    let f = fixture(&b);
    let dl = DirDownloader::new(f.root());
    let (locked, records) = load(&f, &dl, None, now()).unwrap();
    assert_eq!(records.len(), 4);
    let release = std::fs::read(f.root().join("dists/stable/Release")).unwrap();
    assert_eq!(locked.sha256, Some(Sha256Digest::of(&release)));
    assert!(dl.calls().contains(&"dists/stable/Release.gpg".to_owned()));
}

#[test]
fn signing_subkeys_and_several_signers() {
    let sub = TestKey::generate(
        "sub-signer",
        &KeyOptions {
            signing_subkey: true,
            ..KeyOptions::default()
        },
    )
    .unwrap();
    let other = TestKey::new("someone-else").unwrap();
    // Signed by a key we do not hold and by a subkey of one we do: the one valid signature is
    // enough.
    let f = fixture_with(&builder(), &[&other, &sub], &[&sub]);
    let v = verify_inrelease(&inrelease(&f), &keyring(&f), now()).unwrap();
    assert_eq!(v.signers, [sub.signing_fingerprint()]);
    assert_ne!(sub.signing_fingerprint(), sub.fingerprint());
    let release = std::fs::read(f.root().join("dists/stable/Release")).unwrap();
    let sig = std::fs::read(f.root().join("dists/stable/Release.gpg")).unwrap();
    verify_detached(&release, &sig, &keyring(&f), now()).unwrap();
}

#[test]
fn armored_keyrings_and_concatenations_load() {
    let a = TestKey::new("a").unwrap();
    let b = TestKey::new("b").unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("keys.asc");
    std::fs::write(
        &path,
        format!("{}\n{}", a.public_armored().unwrap(), b.public_armored().unwrap()),
    )
    .unwrap();
    let k = Keyring::load(&path).unwrap();
    assert_eq!(k.fingerprints(), [a.fingerprint(), b.fingerprint()]);
    std::fs::write(&path, b"not a key").unwrap();
    let e = Keyring::load(&path).unwrap_err().to_string();
    assert!(e.contains("keys.asc"), "{e}");
    let e = Keyring::load(&dir.path().join("missing.gpg"))
        .unwrap_err()
        .to_string();
    assert!(e.contains("missing.gpg"), "{e}");
}

#[test]
fn keyrings_must_be_regular_files_of_bounded_size() {
    // A device that never ends is refused before a byte of it is read.
    let e = Keyring::load(Path::new("/dev/zero")).unwrap_err();
    assert!(matches!(e, KeyringError::NotAFile { .. }), "{e}");
    let e = e.to_string();
    assert!(
        e.contains("/dev/zero") && e.contains("character device, not a regular file"),
        "{e}"
    );
    let dir = tempfile::tempdir().unwrap();
    let e = Keyring::load(dir.path()).unwrap_err().to_string();
    assert!(e.contains("is a directory, not a regular file"), "{e}");
    // A FIFO would block the open: it is refused from its metadata.
    let fifo = dir.path().join("keys.fifo");
    if std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .is_ok_and(|s| s.success())
    {
        let e = Keyring::load(&fifo).unwrap_err().to_string();
        assert!(e.contains("keys.fifo") && e.contains("FIFO"), "{e}");
    }
    // An oversize file (sparse: nothing is written) is refused by its size.
    let big = dir.path().join("big.gpg");
    std::fs::File::create(&big)
        .unwrap()
        .set_len(MAX_KEYRING_BYTES + 1)
        .unwrap();
    let e = Keyring::load(&big).unwrap_err();
    assert!(matches!(e, KeyringError::TooLarge { .. }), "{e}");
    let e = e.to_string();
    assert!(
        e.contains("big.gpg") && e.contains("16777217 bytes") && e.contains("16777216"),
        "{e}"
    );
    // At the cap, the size is fine (and the content is then judged as a keyring).
    std::fs::File::create(&big)
        .unwrap()
        .set_len(MAX_KEYRING_BYTES)
        .unwrap();
    let e = Keyring::load(&big).unwrap_err();
    assert!(!matches!(e, KeyringError::TooLarge { .. }), "{e}");
}

#[test]
fn unknown_key_is_named() {
    let signer = TestKey::new("unknown-signer").unwrap();
    let trusted = key();
    let f = fixture_with(&builder(), &[&signer], &[&trusted]);
    let dl = DirDownloader::new(f.root());
    let e = load(&f, &dl, None, now()).unwrap_err();
    let msg = e.to_string();
    assert!(
        msg.contains(&format!("signed by unknown key {}", signer.fingerprint())),
        "{msg}"
    );
    assert!(
        msg.contains("dists/stable/InRelease") && msg.contains("`test`"),
        "{msg}"
    );
    // No fallback to Release.gpg once InRelease was there, and no second download: a signature
    // by a key the keyring lacks is the same in every copy (damage is retried by the transport).
    assert_eq!(dl.calls(), ["dists/stable/InRelease"]);
    let e = verify_inrelease(&inrelease(&f), &keyring(&f), now()).unwrap_err();
    assert!(!e.may_be_damage(), "{e}");
}

#[test]
fn tampered_signed_text_is_a_bad_signature() {
    let f = fixture(&builder());
    tk::flip_signed_byte(f.root(), "stable").unwrap();
    let e = verify_inrelease(&inrelease(&f), &keyring(&f), now())
        .unwrap_err()
        .to_string();
    assert!(e.contains("bad signature"), "{e}");
    // A trusted key's signature over damaged text may be damage in transit: worth another copy.
    let err = verify_inrelease(&inrelease(&f), &keyring(&f), now()).unwrap_err();
    assert!(err.may_be_damage(), "{err}");
    let garbage = verify_inrelease(b"<html>captive portal</html>", &keyring(&f), now()).unwrap_err();
    assert!(garbage.may_be_damage(), "{garbage}");

    let f = fixture(&builder());
    tk::tamper_inrelease(f.root(), "stable", "Suite: stable", "Suite: stable\nX-Evil: yes").unwrap();
    let e = verify_inrelease(&inrelease(&f), &keyring(&f), now())
        .unwrap_err()
        .to_string();
    assert!(e.contains("bad signature"), "{e}");
    // Said in words, not in rPGP's internal terms.
    assert!(e.contains("does not match the signed text"), "{e}");
    assert!(!e.contains("assertion") && !e.contains("left == right"), "{e}");
}

#[test]
fn text_outside_the_signed_part_is_ignored() {
    let f = fixture(&builder());
    let evil = "Suite: evil\nSHA256:\n 0000000000000000000000000000000000000000000000000000000000000000 1 main/binary-amd64/Packages.xz\n\n";
    tk::wrap_inrelease(f.root(), "stable", evil, evil).unwrap();
    let v = verify_inrelease(&inrelease(&f), &keyring(&f), now()).unwrap();
    assert!(!v.text.contains("evil"), "{}", v.text);
    let dl = DirDownloader::new(f.root());
    let (_, records) = load(&f, &dl, None, now()).unwrap();
    assert_eq!(records.len(), 4);
}

#[test]
fn expired_and_revoked_keys_are_refused() {
    // Expires a year after creation (2024-01-01), before the Release was signed.
    let expired = TestKey::generate(
        "expired",
        &KeyOptions {
            expires_after: Some(365 * 86_400),
            ..KeyOptions::default()
        },
    )
    .unwrap();
    let f = fixture_with(&builder(), &[&expired], &[&expired]);
    let e = verify_inrelease(&inrelease(&f), &keyring(&f), now())
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("had expired") && e.contains(&expired.fingerprint()),
        "{e}"
    );

    // Valid when it signed, expired by "now".
    let expiring = TestKey::generate(
        "expiring",
        &KeyOptions {
            expires_after: Some(tk::RELEASE_TIME - tk::KEY_CREATED + 3600),
            ..KeyOptions::default()
        },
    )
    .unwrap();
    let f = fixture_with(&builder(), &[&expiring], &[&expiring]);
    verify_inrelease(&inrelease(&f), &keyring(&f), at(tk::RELEASE_TIME + 60)).unwrap();
    let e = verify_inrelease(&inrelease(&f), &keyring(&f), now())
        .unwrap_err()
        .to_string();
    assert!(e.contains("expired on"), "{e}");

    let revoked = TestKey::generate(
        "revoked",
        &KeyOptions {
            revoked: true,
            ..KeyOptions::default()
        },
    )
    .unwrap();
    let f = fixture_with(&builder(), &[&revoked], &[&revoked]);
    let e = verify_inrelease(&inrelease(&f), &keyring(&f), now())
        .unwrap_err()
        .to_string();
    assert!(e.contains("revoked"), "{e}");
}

#[test]
fn weak_hashes_are_refused() {
    // EdDSA cannot sign with SHA-1 at all; RSA (as Debian's keys) can.
    let k = TestKey::generate(
        "rsa",
        &KeyOptions {
            rsa_bits: Some(2048),
            ..KeyOptions::default()
        },
    )
    .unwrap();
    let mut b = builder();
    b.sig = SigOptions {
        hash: SigHash::Sha1,
        ..SigOptions::default()
    };
    let f = fixture_with(&b, &[&k], &[&k]);
    let e = verify_inrelease(&inrelease(&f), &keyring(&f), now())
        .unwrap_err()
        .to_string();
    assert!(e.contains("weak hash algorithm SHA1"), "{e}");
    let release = std::fs::read(f.root().join("dists/stable/Release")).unwrap();
    let sig = std::fs::read(f.root().join("dists/stable/Release.gpg")).unwrap();
    let e = verify_detached(&release, &sig, &keyring(&f), now())
        .unwrap_err()
        .to_string();
    assert!(e.contains("weak hash"), "{e}");
}

#[test]
fn expired_valid_until_is_an_error_unless_allowed() {
    let mut b = builder();
    b.valid_until = Some(tk::release_date(i64::from(tk::RELEASE_TIME) + 3600));
    let f = fixture(&b);
    let dl = DirDownloader::new(f.root());
    let e = load(&f, &dl, None, now()).unwrap_err();
    assert!(matches!(*e.reason, Reason::Expired { .. }), "{e}");
    let msg = e.to_string();
    assert!(
        msg.contains("dists/stable/InRelease") && msg.contains("Valid-Until Sat, 01 Jun 2024 13:00:00 UTC"),
        "{msg}"
    );
    // Before Valid-Until: fine.
    load(&f, &dl, None, at(tk::RELEASE_TIME + 60)).unwrap();
    let (_, records) = ArchiveClient::new(&dl, None, now())
        .load_suite(&source(true), &f.keyring, "stable", "amd64")
        .unwrap();
    assert_eq!(records.len(), 4);
}

#[test]
fn suite_mismatch_is_an_error() {
    let mut b = builder();
    b.codename = "bookworm".into();
    let f = fixture(&b);
    let dl = DirDownloader::new(f.root());
    // Served under dists/stable but claims another suite: ask for it as "testing".
    std::fs::rename(f.root().join("dists/stable"), f.root().join("dists/testing")).unwrap();
    let e = ArchiveClient::new(&dl, None, now())
        .load_suite(&source(false), &f.keyring, "testing", "amd64")
        .unwrap_err();
    assert!(matches!(*e.reason, Reason::SuiteMismatch { .. }), "{e}");
    std::fs::rename(f.root().join("dists/testing"), f.root().join("dists/stable")).unwrap();
    // An unknown component is named.
    let mut src = source(false);
    src.components = vec!["contrib".into()];
    let e = ArchiveClient::new(&dl, None, now())
        .load_suite(&src, &f.keyring, "stable", "amd64")
        .unwrap_err();
    assert!(e.to_string().contains("component `contrib`"), "{e}");
    // The codename is as good as the suite name.
    std::fs::rename(f.root().join("dists/stable"), f.root().join("dists/bookworm")).unwrap();
    ArchiveClient::new(&dl, None, now())
        .load_suite(&source(false), &f.keyring, "bookworm", "amd64")
        .unwrap();
}

#[test]
fn a_release_with_only_md5_and_sha1_says_so() {
    let k = key();
    let f = fixture_with(&builder(), &[&k], &[&k]);
    // The same lists, re-signed with their SHA256 list renamed to what an old archive has.
    let release = f.root().join("dists/stable/Release");
    let text = std::fs::read_to_string(&release).unwrap();
    let sums = text.split("SHA256:\n").nth(1).unwrap().to_owned();
    let weak = text.replace("SHA256:\n", "MD5Sum:\n") + "SHA1:\n" + &sums;
    std::fs::write(&release, weak).unwrap();
    tk::resign(f.root(), "stable", &[&k], SigOptions::default()).unwrap();
    let dl = DirDownloader::new(f.root());
    let e = ArchiveClient::new(&dl, None, now())
        .load_suite(&source(false), &f.keyring, "stable", "amd64")
        .unwrap_err();
    assert!(
        matches!(*e.reason, Reason::Release(ReleaseError::OnlyWeakChecksums(_))),
        "{e}"
    );
    let e = e.to_string();
    assert!(
        e.contains("InRelease")
            && e.contains("lists no SHA-256 checksums (only MD5Sum and SHA1), which debcast refuses"),
        "{e}"
    );
    assert!(!e.contains("no Packages index"), "{e}");
}

#[test]
fn release_fields_in_messages_are_escaped() {
    let e = Release::parse("Date: \x1b[31mred\n").unwrap_err().to_string();
    assert!(e.contains("\\u{1b}[31mred") && !e.contains('\x1b'), "{e}");
    let mut b = builder();
    b.codename = "\x1b]0;pwned\x07".into();
    let f = fixture(&b);
    std::fs::rename(f.root().join("dists/stable"), f.root().join("dists/testing")).unwrap();
    let dl = DirDownloader::new(f.root());
    let e = ArchiveClient::new(&dl, None, now())
        .load_suite(&source(false), &f.keyring, "testing", "amd64")
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("codename `\\u{1b}]0;pwned\\u{7}`") && !e.contains('\x1b'),
        "{e}"
    );
}

#[test]
fn packages_hash_mismatch_names_the_file() {
    let f = fixture(&builder());
    for c in [".xz", ".gz"] {
        tk::corrupt_index(f.root(), "stable", &format!("main/binary-amd64/Packages{c}")).unwrap();
    }
    let dl = DirDownloader::new(f.root());
    let e = load(&f, &dl, None, now()).unwrap_err().to_string();
    assert!(e.contains("main/binary-amd64/Packages"), "{e}");

    assert!(e.contains("hash mismatch"), "{e}");

    // A compressed index that verifies but decompresses to other bytes than the Release pins
    // for the uncompressed file.
    let dl = DirDownloader::new(f.root());
    let client = ArchiveClient::new(&dl, None, now());
    let gz = Compression::Gz.compress(b"Package: evil\n").unwrap();
    let pin = Expected {
        size: 14,
        sha256: Sha256Digest::of(b"Package: good\n"),
    };
    assert!(matches!(
        client.decompress("main/binary-amd64/Packages.gz", &gz, Some(pin)),
        Err(Reason::Mismatch { actual_size: 14, .. })
    ));
}

#[test]
fn each_compression_is_read() {
    for c in [Compression::Xz, Compression::Gz, Compression::None] {
        let mut b = builder();
        b.compressions = vec![c];
        b.list_uncompressed = c == Compression::None;
        let f = fixture(&b);
        let dl = DirDownloader::new(f.root());
        let (_, records) = load(&f, &dl, None, now()).unwrap();
        assert_eq!(records.len(), 4, "{c:?}");
        assert!(
            dl.calls()[1].ends_with(&format!("binary-amd64/Packages{}", c.suffix())),
            "{:?}",
            dl.calls()
        );
    }
}

#[test]
fn by_hash_is_used_and_falls_back() {
    let mut b = builder();
    b.acquire_by_hash = true;
    let f = fixture(&b);
    let dl = DirDownloader::new(f.root());
    load(&f, &dl, None, now()).unwrap();
    let calls = dl.calls();
    assert!(
        calls[1].starts_with("dists/stable/main/binary-amd64/by-hash/SHA256/"),
        "{calls:?}"
    );
    assert_eq!(calls.len(), 3);

    let mut dl = DirDownloader::new(f.root());
    dl.refuse = vec!["by-hash".into()];
    let (_, records) = load(&f, &dl, None, now()).unwrap();
    assert_eq!(records.len(), 4);
    let calls = dl.calls();
    assert!(
        calls[1].contains("by-hash") && calls[2] == "dists/stable/main/binary-amd64/Packages.xz",
        "{calls:?}"
    );
}

#[test]
fn a_warm_cache_touches_only_the_release() {
    let f = fixture(&builder());
    let store_dir = tempfile::tempdir().unwrap();
    let store = Store::open(store_dir.path()).unwrap();
    let dl = DirDownloader::new(f.root());
    let (_, cold) = load(&f, &dl, Some(&store), now()).unwrap();
    let dl = DirDownloader::new(f.root());
    let (_, warm) = load(&f, &dl, Some(&store), now()).unwrap();
    assert_eq!(cold, warm);
    assert_eq!(dl.calls(), ["dists/stable/InRelease"]);

    // Cached compressed indices (no uncompressed pin) work too.
    let mut b = builder();
    b.list_uncompressed = false;
    let f = fixture(&b);
    let store_dir = tempfile::tempdir().unwrap();
    let store = Store::open(store_dir.path()).unwrap();
    load(&f, &DirDownloader::new(f.root()), Some(&store), now()).unwrap();
    let dl = DirDownloader::new(f.root());
    load(&f, &dl, Some(&store), now()).unwrap();
    assert_eq!(dl.calls(), ["dists/stable/InRelease"]);
}

#[test]
fn architecture_all_layouts_do_not_duplicate() {
    // Debian's layout: `all` packages in binary-ARCH, binary-all a duplicate.
    let mut b = builder();
    b.no_support_for_architecture_all = true;
    b.simple("tzdata", "2024a-1", "all", None);
    let tz = b.packages.last().unwrap().clone();
    b.packages.push(debcast_testkit::archive::PoolPackage {
        index_arch: "amd64".into(),
        ..tz
    });
    let f = fixture(&b);
    let dl = DirDownloader::new(f.root());
    let (_, records) = load(&f, &dl, None, now()).unwrap();
    assert_eq!(records.iter().filter(|r| r.name == "tzdata").count(), 1);
    assert!(!dl.calls().iter().any(|c| c.contains("binary-all")));
}

#[test]
fn bomb_guard_and_missing_fields() {
    let big = vec![b'a'; 1 << 20];
    let gz = Compression::Gz.compress(&big).unwrap();
    let dl = DirDownloader::new(Path::new("/nonexistent"));
    let client = ArchiveClient::new(&dl, None, now());
    let pin = Expected {
        size: 1000,
        sha256: Sha256Digest::of(b""),
    };
    assert!(matches!(
        client.decompress("x/Packages.gz", &gz, Some(pin)),
        Err(Reason::TooLarge { limit: 1000 })
    ));

    let origin = IndexOrigin {
        archive: "a",
        suite: "s",
        component: "main",
        index: "dists/s/main/binary-amd64/Packages",
    };
    let e = parse_packages(b"Package: foo\nVersion: 1\nArchitecture: all\nSize: 1\n", origin)
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("dists/s/main/binary-amd64/Packages") && e.contains("`foo`") && e.contains("Filename"),
        "{e}"
    );
}

#[test]
fn packages_parser_handles_folding_and_case() {
    let origin = origin("P");
    let sha = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
    let text = format!(
        "package: foo\r\nVersion: 1.0\r\nArchitecture: amd64\r\nMulti-Arch: same\r\nEssential: yes\r\nDepends: a,\r\n b\r\nDescription: x\r\n more\r\nFilename: pool/f.deb\r\nSize: 3\r\nSHA256: {sha}\r\n\r\n\r\nPackage: bar\nVersion: 2\nArchitecture: all\nFilename: pool/b.deb\nSize: 4\nSHA256: {sha}\nPriority: required\n"
    );
    let recs = parse_packages(text.as_bytes(), origin).unwrap();
    assert_eq!(recs.len(), 2);
    assert_eq!(recs[0].depends.as_deref(), Some("a, b"));
    assert_eq!(recs[0].multi_arch, MultiArch::Same);
    assert!(recs[0].essential);
    assert_eq!(recs[1].priority, "required");
    assert_eq!(recs[1].depends, None);
}

#[test]
fn packages_parser_keeps_only_the_names_asked_for() {
    let origin = origin("P");
    let sha = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
    // `skipped` opens with Package and folds a field; `late` names its package after another
    // field (read, then dropped by name); a blank line of spaces separates stanzas.
    let text = format!(
        "Package: skipped\nVersion: 1\nDepends: a,\n b\nArchitecture: all\nFilename: pool/s.deb\nSize: 1\nSHA256: {sha}\n\n\
         Package: kept\r\nVersion: 2\r\nArchitecture: amd64\r\nDepends: c,\r\n d\r\nFilename: pool/k.deb\r\nSize: 2\r\nSHA256: {sha}\r\n  \n\
         Version: 3\nPackage: late\nArchitecture: all\nFilename: pool/l.deb\nSize: 3\nSHA256: {sha}\n\n\
         Package: kept\nVersion: 4\nArchitecture: all\nFilename: pool/k4.deb\nSize: 4\nSHA256: {sha}\n"
    );
    let all = parse_packages(text.as_bytes(), origin).unwrap();
    assert_eq!(all.len(), 4, "{all:?}");
    let kept = parse_packages_where(text.as_bytes(), origin, &|name| name == "kept").unwrap();
    let expected: Vec<_> = all.iter().filter(|r| r.name == "kept").cloned().collect();
    assert_eq!(kept, expected);
    assert_eq!(kept.len(), 2);
    assert_eq!(kept[0].depends.as_deref(), Some("c, d"));
    let late = parse_packages_where(text.as_bytes(), origin, &|name| name == "late").unwrap();
    assert_eq!(late.iter().map(|r| r.version.as_str()).collect::<Vec<_>>(), ["3"]);
    assert!(
        parse_packages_where(text.as_bytes(), origin, &|_| false)
            .unwrap()
            .is_empty()
    );
}

/// Where the parser tests' indices claim to come from.
fn origin(index: &str) -> IndexOrigin<'_> {
    IndexOrigin {
        archive: "a",
        suite: "s",
        component: "main",
        index,
    }
}
