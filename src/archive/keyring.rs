//! OpenPGP keyrings and the verification of signed Release files.
//!
//! # Signature policy
//!
//! rPGP checks the cryptography; the policy of which signatures count is ours, and it is
//! deliberately close to what apt (through `gpgv`/`sqv`) enforces for archive signatures:
//!
//! - A Release is accepted when **at least one** of its signatures is valid and made by a key of
//!   the keyring. Debian signs each InRelease with several keys (the archive keys of the current
//!   and previous releases, the stable release key); signatures by keys we do not hold, or that
//!   fail, are ignored as long as one succeeds. When none succeeds, the error lists why each
//!   signature failed ("signed by unknown key …", "bad signature", "key expired", …).
//! - The signature must be a binary or text document signature (types 0x00 / 0x01) with a
//!   creation time, and its hash algorithm must be SHA-224 or stronger (SHA-2, SHA-3). MD5,
//!   SHA-1 and RIPEMD-160 are refused: collisions against them are practical or close to it, and
//!   Debian has signed with SHA-256/512 for years.
//! - The signing key may be a primary key or a subkey of a keyring key. A primary key needs a
//!   valid self-signature (user ID certification or direct-key signature, SHA-224 or stronger);
//!   its newest self-signature gives its key flags and expiry. A subkey needs a valid binding
//!   signature from its primary with the "sign" key flag and a valid embedded back-signature
//!   (so nobody can claim somebody else's signing key as their subkey); its newest binding gives
//!   its expiry. A primary key whose newest self-signature carries key flags without "sign"
//!   cannot sign data.
//! - Expiry is checked at the signature's creation time **and** at `now`: a key that expired
//!   since it signed is no longer trusted (that is what expiry is for: the archive rotates keys,
//!   and a Release signed by a retired key is a replay risk). A signature whose own expiration
//!   time has passed at `now` is refused too. A signature made before its key existed is refused.
//! - Any valid revocation of the primary key, or of the signing subkey, makes it unusable,
//!   whatever the revocation's reason or date ("hard" revocation for every reason: we have no
//!   use for the subtleties of soft revocation, and erring towards refusal is safe here).
//!   Revocations are honoured whatever hash they use, since honouring a forged one can only
//!   refuse, never accept.
//! - Signatures dated after `now` are accepted: archives sign a few seconds after the Release's
//!   `Date`, and tests pin `now` to that `Date`.

use std::fmt;
use std::io::{Cursor, Read};
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use pgp::composed::{
    CleartextSignedMessage, Deserializable, DetachedSignature, PublicOrSecret, SignedPublicKey,
    SignedPublicSubKey,
};
use pgp::crypto::hash::HashAlgorithm;
use pgp::packet::{KeyFlags, PublicKey, Signature, SignatureType, SubpacketData};
use pgp::types::{Fingerprint, KeyDetails, KeyId, Tag};

use crate::debian::date::Civil;
use crate::hash::Sha256Digest;

#[derive(Debug, thiserror::Error)]
pub enum KeyringError {
    #[error("keyring {path}: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error("keyring {path}: not an OpenPGP keyring: {message}")]
    Parse { path: PathBuf, message: String },
    #[error("keyring {path}: holds no OpenPGP public keys")]
    Empty { path: PathBuf },
    #[error("keyring {path}: is a {found}, not a regular file; point `keyring` at a keyring file")]
    NotAFile { path: PathBuf, found: &'static str },
    #[error(
        "keyring {path}: {size} bytes, more than the {limit} a keyring may have (Debian's whole archive keyring is under 100 KiB)"
    )]
    TooLarge { path: PathBuf, size: u64, limit: u64 },
}

/// The most bytes a keyring file may have.
pub const MAX_KEYRING_BYTES: u64 = 16 << 20;

/// Why a signed Release was refused.
#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    #[error("malformed signature: {0}")]
    Malformed(String),
    #[error("no signature found")]
    NoSignatures,
    #[error("no valid signature by a key of keyring {keyring}: {}", .reasons.join("; "))]
    NoValidSignature {
        keyring: String,
        /// One reason per signature, in order.
        reasons: Vec<String>,
        /// Whether a signature by a trusted, usable key failed its cryptographic check: what a
        /// byte damaged in transit gives, as much as a forgery does.
        bad_signature: bool,
    },
    #[error("Release text is not UTF-8")]
    NotUtf8,
}

impl VerifyError {
    /// Whether these bytes may be a good signed Release damaged on the way (unparseable, or a
    /// trusted key's signature that does not match): another download of the same file may
    /// verify. A refusal by policy (unknown, expired or revoked key, weak hash) is the same for
    /// every copy, so it is final at once. Either way nothing unverified is ever accepted.
    pub fn may_be_damage(&self) -> bool {
        match self {
            VerifyError::Malformed(_) | VerifyError::NoSignatures | VerifyError::NotUtf8 => true,
            VerifyError::NoValidSignature { bad_signature, .. } => *bad_signature,
        }
    }
}

/// The OpenPGP public keys trusted to sign an archive.
#[derive(Debug, Clone)]
pub struct Keyring {
    path: PathBuf,
    keys: Vec<SignedPublicKey>,
}

impl Keyring {
    /// Loads every public key of a keyring file: binary (`.gpg`, possibly several keys
    /// concatenated, as `debian-archive-keyring.gpg`) or ASCII-armoured (`.asc`).
    ///
    /// The file must be a regular file (a device such as `/dev/zero` or a FIFO is refused before
    /// it is opened) of at most [`MAX_KEYRING_BYTES`].
    pub fn load(path: &Path) -> Result<Keyring, KeyringError> {
        let read_err = |source| KeyringError::Read {
            path: path.to_owned(),
            source,
        };
        let check = |meta: &std::fs::Metadata| {
            if !meta.is_file() {
                return Err(KeyringError::NotAFile {
                    path: path.to_owned(),
                    found: file_type_name(&meta.file_type()),
                });
            }
            if meta.len() > MAX_KEYRING_BYTES {
                return Err(KeyringError::TooLarge {
                    path: path.to_owned(),
                    size: meta.len(),
                    limit: MAX_KEYRING_BYTES,
                });
            }
            Ok(())
        };
        // Checked before opening (opening a FIFO would block) and again on what was opened.
        check(&std::fs::metadata(path).map_err(read_err)?)?;
        let file = std::fs::File::open(path).map_err(read_err)?;
        check(&file.metadata().map_err(read_err)?)?;
        let mut bytes = Vec::new();
        file.take(MAX_KEYRING_BYTES + 1)
            .read_to_end(&mut bytes)
            .map_err(read_err)?;
        if bytes.len() as u64 > MAX_KEYRING_BYTES {
            // The file grew after it was checked.
            return Err(KeyringError::TooLarge {
                path: path.to_owned(),
                size: bytes.len() as u64,
                limit: MAX_KEYRING_BYTES,
            });
        }
        Keyring::from_bytes(&bytes, path)
    }

    /// Parses keyring bytes; `path` is only used in messages.
    pub fn from_bytes(bytes: &[u8], path: &Path) -> Result<Keyring, KeyringError> {
        let parse_err = |message: String| KeyringError::Parse {
            path: path.to_owned(),
            message,
        };
        let mut keys = Vec::new();
        if is_armored(bytes) {
            // Several armour blocks may be concatenated (`cat *.asc`); rPGP reads one block per
            // call, so cut them apart first.
            for block in armor_blocks(bytes) {
                let (iter, _) =
                    PublicOrSecret::from_armor_many_buf(block).map_err(|e| parse_err(e.to_string()))?;
                collect_keys(iter, &mut keys).map_err(parse_err)?;
            }
        } else {
            let iter =
                PublicOrSecret::from_bytes_many(Cursor::new(bytes)).map_err(|e| parse_err(e.to_string()))?;
            collect_keys(iter, &mut keys).map_err(parse_err)?;
        }
        if keys.is_empty() {
            return Err(KeyringError::Empty {
                path: path.to_owned(),
            });
        }
        Ok(Keyring {
            path: path.to_owned(),
            keys,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn len(&self) -> usize {
        self.keys.len()
    }

    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// Uppercase hex fingerprints of the primary keys.
    pub fn fingerprints(&self) -> Vec<String> {
        self.keys
            .iter()
            .map(|k| format!("{:X}", k.fingerprint()))
            .collect()
    }
}

fn collect_keys(
    iter: Box<dyn Iterator<Item = pgp::errors::Result<PublicOrSecret>> + '_>,
    keys: &mut Vec<SignedPublicKey>,
) -> Result<(), String> {
    for item in iter {
        match item.map_err(|e| e.to_string())? {
            PublicOrSecret::Public(k) => keys.push(k),
            // A secret key in a trust store is odd, but its public half is what we need.
            PublicOrSecret::Secret(k) => keys.push(k.to_public_key()),
        }
    }
    Ok(())
}

/// What a file that is not a regular file is, for messages.
fn file_type_name(t: &std::fs::FileType) -> &'static str {
    use std::os::unix::fs::FileTypeExt;
    if t.is_dir() {
        "directory"
    } else if t.is_char_device() {
        "character device"
    } else if t.is_block_device() {
        "block device"
    } else if t.is_fifo() {
        "FIFO"
    } else if t.is_socket() {
        "socket"
    } else {
        "special file"
    }
}

fn is_armored(bytes: &[u8]) -> bool {
    let start = bytes
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(bytes.len());
    bytes[start..].starts_with(b"-----BEGIN PGP")
}

/// Splits ASCII-armoured text into its `-----BEGIN …-----` … `-----END …-----` blocks.
fn armor_blocks(bytes: &[u8]) -> Vec<&[u8]> {
    let mut blocks = Vec::new();
    let mut start = None;
    let mut pos = 0;
    for line in bytes.split_inclusive(|&b| b == b'\n') {
        let content = trim_line(line);
        if content.starts_with(b"-----BEGIN ") && start.is_none() {
            start = Some(pos);
        } else if content.starts_with(b"-----END ")
            && let Some(s) = start.take()
        {
            blocks.push(&bytes[s..pos + line.len()]);
        }
        pos += line.len();
    }
    blocks
}

/// How a Release was signed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignedAs {
    /// `InRelease`: clearsigned.
    InRelease,
    /// `Release` with a detached `Release.gpg`.
    Detached,
}

/// A Release whose signature verified: only this text may be parsed.
#[derive(Debug, Clone)]
pub struct VerifiedRelease {
    /// The signed Release text (`\n` line endings, ending in a newline): for InRelease, the
    /// signed part only; for Release + Release.gpg, the Release file.
    pub text: String,
    /// SHA-256 of `text`. For Debian's archives the same for InRelease and Release.
    pub sha256: Sha256Digest,
    /// Uppercase hex fingerprints of the keys whose signatures verified.
    pub signers: Vec<String>,
    pub signed_as: SignedAs,
}

/// Verifies a clearsigned `InRelease` against `keyring` at time `now`.
///
/// Only the first clearsigned block is read; anything before its `-----BEGIN PGP SIGNED
/// MESSAGE-----` line or after its `-----END PGP SIGNATURE-----` line is ignored (never parsed),
/// and the returned text is exactly what the signatures cover.
pub fn verify_inrelease(
    bytes: &[u8],
    keyring: &Keyring,
    now: SystemTime,
) -> Result<VerifiedRelease, VerifyError> {
    let block = clearsigned_block(bytes)?;
    let (msg, _) = CleartextSignedMessage::from_armor_buf(block, Default::default())
        .map_err(|e| VerifyError::Malformed(e.to_string()))?;
    // What the signatures hash: dash-unescaped, trailing whitespace trimmed, CRLF line endings,
    // no final line ending. We verify over exactly these bytes and parse exactly them.
    let signed = msg.signed_text();
    let signers = verify_signatures(msg.signatures(), signed.as_bytes(), keyring, now)?;
    // gpg leaves the Release's final newline out of the signed text (the line break before the
    // signature armour belongs to the armour); restore it so the text, and its hash, equal the
    // `Release` file's.
    let mut text = signed.replace("\r\n", "\n");
    if !text.ends_with('\n') {
        text.push('\n');
    }
    Ok(VerifiedRelease {
        sha256: Sha256Digest::of(text.as_bytes()),
        text,
        signers,
        signed_as: SignedAs::InRelease,
    })
}

/// Verifies a `Release` file against its detached signature `Release.gpg` (binary or armoured,
/// possibly several signatures).
pub fn verify_detached(
    release: &[u8],
    signature: &[u8],
    keyring: &Keyring,
    now: SystemTime,
) -> Result<VerifiedRelease, VerifyError> {
    let malformed = |e: pgp::errors::Error| VerifyError::Malformed(e.to_string());
    let mut sigs = Vec::new();
    if is_armored(signature) {
        let (iter, _) = DetachedSignature::from_armor_many(Cursor::new(signature)).map_err(malformed)?;
        for s in iter {
            sigs.push(s.map_err(malformed)?.signature);
        }
    } else {
        for s in DetachedSignature::from_bytes_many(Cursor::new(signature)).map_err(malformed)? {
            sigs.push(s.map_err(malformed)?.signature);
        }
    }
    let signers = verify_signatures(&sigs, release, keyring, now)?;
    let text = String::from_utf8(release.to_vec()).map_err(|_| VerifyError::NotUtf8)?;
    Ok(VerifiedRelease {
        sha256: Sha256Digest::of(release),
        text,
        signers,
        signed_as: SignedAs::Detached,
    })
}

/// Cuts the first clearsigned block (header line through the signature's end line) out of
/// `bytes`.
fn clearsigned_block(bytes: &[u8]) -> Result<&[u8], VerifyError> {
    const BEGIN: &[u8] = b"-----BEGIN PGP SIGNED MESSAGE-----";
    const END: &[u8] = b"-----END PGP SIGNATURE-----";
    let mut start = None;
    let mut pos = 0;
    for line in bytes.split_inclusive(|&b| b == b'\n') {
        let content = trim_line(line);
        match start {
            None if content == BEGIN => start = Some(pos),
            Some(s) if content == END => return Ok(&bytes[s..pos + line.len()]),
            _ => {}
        }
        pos += line.len();
    }
    Err(VerifyError::Malformed(match start {
        None => "not a clearsigned message (no `-----BEGIN PGP SIGNED MESSAGE-----` line)".into(),
        Some(_) => "clearsigned message has no `-----END PGP SIGNATURE-----` line".into(),
    }))
}

fn trim_line(line: &[u8]) -> &[u8] {
    let mut end = line.len();
    while end > 0 && matches!(line[end - 1], b'\n' | b'\r' | b' ' | b'\t') {
        end -= 1;
    }
    &line[..end]
}

/// Hash algorithms strong enough for a signature we rely on.
fn strong_hash(alg: HashAlgorithm) -> bool {
    matches!(
        alg,
        HashAlgorithm::Sha224
            | HashAlgorithm::Sha256
            | HashAlgorithm::Sha384
            | HashAlgorithm::Sha512
            | HashAlgorithm::Sha3_256
            | HashAlgorithm::Sha3_512
    )
}

fn unix(t: SystemTime) -> i64 {
    match t.duration_since(UNIX_EPOCH) {
        Ok(d) => i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
        Err(e) => -i64::try_from(e.duration().as_secs()).unwrap_or(i64::MAX),
    }
}

fn sig_time(sig: &Signature) -> Option<i64> {
    sig.created().map(|t| i64::from(t.as_secs()))
}

/// The issuer of a signature, for messages: its fingerprint if it names one, else its key ID.
fn issuer_label(sig: &Signature) -> String {
    if let Some(fp) = sig.issuer_fingerprint().first() {
        format!("{fp:X}")
    } else if let Some(id) = sig.issuer_key_id().first() {
        format!("{}", Hex(id.as_ref()))
    } else {
        "(no issuer given)".into()
    }
}

struct Hex<'a>(&'a [u8]);

impl fmt::Display for Hex<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for b in self.0 {
            write!(f, "{b:02X}")?;
        }
        Ok(())
    }
}

fn names(sig: &Signature, fp: &Fingerprint, id: &KeyId) -> bool {
    let fps = sig.issuer_fingerprint();
    let ids = sig.issuer_key_id();
    fps.contains(&fp) || ids.contains(&id)
}

/// A component key of the keyring that can make data signatures.
enum Signer<'a> {
    Primary(&'a SignedPublicKey),
    Sub(&'a SignedPublicKey, &'a SignedPublicSubKey),
}

fn verify_signatures(
    sigs: &[Signature],
    data: &[u8],
    keyring: &Keyring,
    now: SystemTime,
) -> Result<Vec<String>, VerifyError> {
    if sigs.is_empty() {
        return Err(VerifyError::NoSignatures);
    }
    let now = unix(now);
    let mut signers = Vec::new();
    let mut reasons = Vec::new();
    let mut bad_signature = false;
    for sig in sigs {
        match verify_one(sig, data, keyring, now) {
            Ok(fp) => signers.push(fp),
            Err(reason) => {
                bad_signature |= reason.starts_with(BAD_SIGNATURE);
                reasons.push(reason);
            }
        }
    }
    if signers.is_empty() {
        return Err(VerifyError::NoValidSignature {
            keyring: keyring.path.display().to_string(),
            reasons,
            bad_signature,
        });
    }
    if !reasons.is_empty() {
        tracing::debug!(
            "ignored signatures not verifiable with {}: {}",
            keyring.path.display(),
            reasons.join("; ")
        );
    }
    Ok(signers)
}

/// How [`verify_one`] words a trusted key's signature that fails its cryptographic check.
const BAD_SIGNATURE: &str = "bad signature by ";

/// Verifies one data signature under the policy above; returns the signing key's fingerprint
/// or why it does not count.
fn verify_one(sig: &Signature, data: &[u8], keyring: &Keyring, now: i64) -> Result<String, String> {
    let label = issuer_label(sig);
    // Find the keyring component the signature names.
    let candidates: Vec<Signer<'_>> = keyring
        .keys
        .iter()
        .flat_map(|k| {
            let primary = names(sig, &k.fingerprint(), &k.legacy_key_id()).then_some(Signer::Primary(k));
            let subs = k
                .public_subkeys
                .iter()
                .filter(|s| names(sig, &s.key.fingerprint(), &s.key.legacy_key_id()))
                .map(move |s| Signer::Sub(k, s));
            primary.into_iter().chain(subs)
        })
        .collect();
    if candidates.is_empty() {
        return Err(format!("signed by unknown key {label}"));
    }
    if !matches!(sig.typ(), Some(SignatureType::Binary | SignatureType::Text)) {
        return Err(format!(
            "signature by {label} is not a document signature ({:?})",
            sig.typ()
        ));
    }
    match sig.hash_alg() {
        Some(alg) if strong_hash(alg) => {}
        Some(alg) => {
            return Err(format!(
                "signature by {label} uses the weak hash algorithm {alg} (SHA-256 or stronger required)"
            ));
        }
        None => return Err(format!("signature by {label} has an unknown format")),
    }
    let Some(created) = sig_time(sig) else {
        return Err(format!("signature by {label} has no creation time"));
    };
    if let Some(exp) = sig.signature_expiration_time()
        && exp.as_secs() != 0
        && created + i64::from(exp.as_secs()) <= now
    {
        return Err(format!("signature by {label} expired"));
    }
    let mut last_err = String::new();
    for cand in candidates {
        let res = match cand {
            Signer::Primary(k) => check_primary(k, created, now, true).and_then(|()| {
                sig.verify(&k.primary_key, data)
                    .map_err(|e| bad_signature(&label, &e))
            }),
            Signer::Sub(k, s) => check_primary(k, created, now, false)
                .and_then(|()| check_subkey(k, s, created, now))
                .and_then(|()| sig.verify(&s.key, data).map_err(|e| bad_signature(&label, &e))),
        };
        match res {
            Ok(()) => {
                let fp = match cand {
                    Signer::Primary(k) => k.fingerprint(),
                    Signer::Sub(_, s) => s.key.fingerprint(),
                };
                return Ok(format!("{fp:X}"));
            }
            Err(e) => last_err = e,
        }
    }
    Err(last_err)
}

/// Why a signature by a keyring key did not verify, in words: rPGP's own text is about its
/// internals (`assertion failed: (left == right)` for a hash that does not match), so it goes
/// to the debug log only.
fn bad_signature(label: &impl fmt::Display, e: &pgp::errors::Error) -> String {
    tracing::debug!("signature by {label} did not verify: {e:?}");
    // Starts with BAD_SIGNATURE: such a failure may be damage in transit (see `may_be_damage`).
    format!(
        "{BAD_SIGNATURE}{label}: it does not match the signed text (the Release was altered after signing, or the signature belongs to other text)"
    )
}

fn fpr(k: &SignedPublicKey) -> String {
    format!("{:X}", k.fingerprint())
}

/// Unix seconds as `YYYY-MM-DD HH:MM:SS UTC`, for messages.
fn date(t: i64) -> String {
    Civil::from_unix(t).readable()
}

fn keep_newest<'a>(newest: &mut Option<(i64, &'a Signature)>, sig: &'a Signature) {
    if let Some(t) = sig_time(sig)
        && newest.is_none_or(|(n, _)| t > n)
    {
        *newest = Some((t, sig));
    }
}

fn key_flags_of(sig: &Signature) -> Option<KeyFlags> {
    sig.config()?.hashed_subpackets().find_map(|p| match &p.data {
        SubpacketData::KeyFlags(f) => Some(f.clone()),
        _ => None,
    })
}

/// Checks that a primary key is bound (has a valid self-signature), not revoked, and not
/// expired at `created` (the data signature's time) or `now`. With `signs`, it must also be
/// allowed to sign data itself.
fn check_primary(k: &SignedPublicKey, created: i64, now: i64, signs: bool) -> Result<(), String> {
    let fp = fpr(k);
    let pk: &PublicKey = &k.primary_key;
    for rev in &k.details.revocation_signatures {
        if rev.typ() == Some(SignatureType::KeyRevocation) && rev.verify_key(pk).is_ok() {
            return Err(format!("key {fp} is revoked"));
        }
    }
    // Newest valid self-signature: direct-key signatures and user ID certifications.
    let mut newest: Option<(i64, &Signature)> = None;
    for sig in &k.details.direct_signatures {
        let ok = sig.typ() == Some(SignatureType::Key)
            && sig.hash_alg().is_some_and(strong_hash)
            && sig.verify_key(pk).is_ok();
        if ok {
            keep_newest(&mut newest, sig);
        }
    }
    for user in &k.details.users {
        for sig in &user.signatures {
            let ok = sig.is_certification()
                && sig.typ() != Some(SignatureType::CertRevocation)
                && names(sig, &k.fingerprint(), &k.legacy_key_id())
                && sig.hash_alg().is_some_and(strong_hash)
                && sig.verify_certification(pk, Tag::UserId, &user.id).is_ok();
            if ok {
                keep_newest(&mut newest, sig);
            }
        }
    }
    let Some((_, selfsig)) = newest else {
        return Err(format!(
            "key {fp} has no valid self-signature (made with SHA-256 or stronger)"
        ));
    };
    let key_created = i64::from(k.primary_key.created_at().as_secs());
    if created < key_created {
        return Err(format!(
            "signature made {} before key {fp} was created ({})",
            date(created),
            date(key_created)
        ));
    }
    check_expiry(&fp, key_created, selfsig, created, now)?;
    if signs
        && let Some(flags) = key_flags_of(selfsig)
        && !flags.sign()
    {
        return Err(format!("key {fp} is not allowed to sign data"));
    }
    Ok(())
}

fn check_expiry(
    fp: &str,
    key_created: i64,
    binding: &Signature,
    created: i64,
    now: i64,
) -> Result<(), String> {
    if let Some(exp) = binding.key_expiration_time()
        && exp.as_secs() != 0
    {
        let expires = key_created + i64::from(exp.as_secs());
        if expires <= created {
            return Err(format!(
                "key {fp} had expired ({}) when it signed ({})",
                date(expires),
                date(created)
            ));
        }
        if expires <= now {
            return Err(format!("key {fp} expired on {}", date(expires)));
        }
    }
    Ok(())
}

/// Checks that a subkey is bound to its primary for signing (with a back-signature), not
/// revoked, and not expired at `created` or `now`.
fn check_subkey(k: &SignedPublicKey, s: &SignedPublicSubKey, created: i64, now: i64) -> Result<(), String> {
    let fp = format!("{:X}", s.key.fingerprint());
    let pk: &PublicKey = &k.primary_key;
    let mut newest: Option<(i64, &Signature)> = None;
    for sig in &s.signatures {
        match sig.typ() {
            Some(SignatureType::SubkeyRevocation) if sig.verify_subkey_binding(pk, &s.key).is_ok() => {
                return Err(format!("subkey {fp} of key {} is revoked", fpr(k)));
            }
            Some(SignatureType::SubkeyBinding) => {
                let ok = sig.hash_alg().is_some_and(strong_hash)
                    && sig.verify_subkey_binding(pk, &s.key).is_ok()
                    && key_flags_of(sig).is_some_and(|f| f.sign())
                    && sig.embedded_signature().is_some_and(|back| {
                        back.hash_alg().is_some_and(strong_hash)
                            && back.verify_primary_key_binding(&s.key, pk).is_ok()
                    });
                if ok {
                    keep_newest(&mut newest, sig);
                }
            }
            _ => {}
        }
    }
    let Some((_, binding)) = newest else {
        return Err(format!(
            "subkey {fp} of key {} has no valid signing binding",
            fpr(k)
        ));
    };
    let sub_created = i64::from(s.key.created_at().as_secs());
    if created < sub_created {
        return Err(format!(
            "signature made {} before subkey {fp} was created ({})",
            date(created),
            date(sub_created)
        ));
    }
    check_expiry(&fp, sub_created, binding, created, now)
}
