//! Synthetic signed Debian archives for tests.
//!
//! [`TestKey`] makes OpenPGP keys (optionally expiring, revoked, or signing through a subkey);
//! [`ArchiveBuilder`] writes a `dists/SUITE/…` tree with `InRelease`, `Release`, `Release.gpg`,
//! `Packages{,.gz,.xz}` and `by-hash/SHA256/…` copies, plus the caller's `pool/…` files. The tamper
//! helpers break such a tree in the ways an attacker or a broken mirror would.
//!
//! Everything is deterministic for a given input (keys are derived from their name), so tests
//! that compare hashes across runs stay stable. Errors are `io::Error`s so callers can `?` them.

use std::collections::BTreeMap;
use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use pgp::composed::{
    ArmorOptions, CleartextSignedMessage, DetachedSignature, KeyType, SecretKeyParamsBuilder,
    SignedPublicKey, SignedSecretKey, SubkeyParamsBuilder,
};
use pgp::crypto::hash::HashAlgorithm;
use pgp::packet::{KeyFlags, Signature, SignatureConfig, SignatureType, Subpacket, SubpacketData};
use pgp::ser::Serialize;
use pgp::types::{Duration, KeyDetails, Password, SigningKey, Tag, Timestamp};
use rand::SeedableRng;
use rand::rngs::StdRng;
use sha2::{Digest, Sha256};

pub use pgp::crypto::hash::HashAlgorithm as SigHash;

/// 2023-01-01 00:00:00 UTC: when test keys are made unless told otherwise.
pub const KEY_CREATED: u32 = 1_672_531_200;
/// 2024-06-01 12:00:00 UTC, the default Release `Date`.
pub const RELEASE_TIME: u32 = 1_717_243_200;
/// `Date` field matching [`RELEASE_TIME`].
pub const RELEASE_DATE: &str = "Sat, 01 Jun 2024 12:00:00 UTC";

fn pgp_err(e: pgp::errors::Error) -> io::Error {
    io::Error::other(format!("OpenPGP: {e}"))
}

fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(DIGITS[usize::from(b >> 4)] as char);
        s.push(DIGITS[usize::from(b & 15)] as char);
    }
    s
}

/// Lowercase hex SHA-256 of `bytes`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

/// Formats Unix seconds as a Release date (`Sat, 01 Jun 2024 12:00:00 UTC`).
pub fn release_date(unix: i64) -> String {
    let days = unix.div_euclid(86_400);
    let secs = unix.rem_euclid(86_400);
    // Civil-from-days (proleptic Gregorian), after H. Hinnant's public-domain algorithm.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    const WEEKDAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
    format!(
        "{}, {:02} {} {} {:02}:{:02}:{:02} UTC",
        WEEKDAYS[days.rem_euclid(7) as usize],
        day,
        MONTHS[(month - 1) as usize],
        year,
        secs / 3600,
        secs / 60 % 60,
        secs % 60
    )
}

/// How a [`TestKey`] is made.
#[derive(Debug, Clone)]
pub struct KeyOptions {
    /// Creation time (Unix seconds).
    pub created: u32,
    /// Seconds after `created` at which the key expires (`None`: never).
    pub expires_after: Option<u32>,
    /// Sign data with a signing subkey instead of the primary key (as Debian's archive keys do).
    pub signing_subkey: bool,
    /// Attach a key revocation signature.
    pub revoked: bool,
    /// Make an RSA key of this many bits instead of Ed25519 (RSA can sign with SHA-1, which
    /// EdDSA refuses; slow to generate in debug builds).
    pub rsa_bits: Option<u32>,
}

impl Default for KeyOptions {
    fn default() -> Self {
        KeyOptions {
            created: KEY_CREATED,
            expires_after: None,
            signing_subkey: false,
            revoked: false,
            rsa_bits: None,
        }
    }
}

/// An OpenPGP test key (Ed25519), its secret and public halves.
#[derive(Debug, Clone)]
pub struct TestKey {
    pub secret: SignedSecretKey,
    pub public: SignedPublicKey,
    signing_subkey: bool,
}

/// How a data signature is made.
#[derive(Debug, Clone, Copy)]
pub struct SigOptions {
    pub hash: HashAlgorithm,
    /// Signature creation time (Unix seconds).
    pub created: u32,
}

impl Default for SigOptions {
    fn default() -> Self {
        SigOptions {
            hash: HashAlgorithm::Sha512,
            created: RELEASE_TIME,
        }
    }
}

fn seed(name: &str) -> u64 {
    let d = Sha256::digest(name.as_bytes());
    let mut b = [0u8; 8];
    b.copy_from_slice(&d[..8]);
    u64::from_le_bytes(b)
}

fn sub(data: SubpacketData) -> io::Result<Subpacket> {
    Subpacket::regular(data).map_err(pgp_err)
}

impl TestKey {
    /// A key that never expires, signing with its primary key.
    pub fn new(name: &str) -> io::Result<TestKey> {
        TestKey::generate(name, &KeyOptions::default())
    }

    /// Generates a key deterministically from `name`.
    pub fn generate(name: &str, opts: &KeyOptions) -> io::Result<TestKey> {
        let mut rng = StdRng::seed_from_u64(seed(name));
        let created = Timestamp::from_secs(opts.created);
        let key_type = match opts.rsa_bits {
            Some(bits) => KeyType::Rsa(bits),
            None => KeyType::Ed25519Legacy,
        };
        let mut params = SecretKeyParamsBuilder::default();
        params
            .key_type(key_type.clone())
            .can_certify(true)
            .can_sign(!opts.signing_subkey)
            .created_at(created)
            .primary_user_id(format!("{name} <{name}@archive.invalid>"));
        if opts.signing_subkey {
            let mut sk = SubkeyParamsBuilder::default();
            sk.key_type(key_type).can_sign(true).created_at(created);
            params.subkey(sk.build().map_err(|e| io::Error::other(e.to_string()))?);
        }
        let params = params.build().map_err(|e| io::Error::other(e.to_string()))?;
        let mut secret = params.generate(&mut rng).map_err(pgp_err)?;
        let pw = Password::empty();

        // The builder stamps self-signatures with the wall clock; replace the user ID's
        // certification with one made at key creation, carrying the requested expiry, so the
        // key's validity is a pure function of the options.
        let primary_pub = secret.primary_key.public_key().clone();
        let mut flags = KeyFlags::default();
        flags.set_certify(true);
        flags.set_sign(!opts.signing_subkey);
        let mut config = SignatureConfig::v4(
            SignatureType::CertPositive,
            secret.primary_key.algorithm(),
            HashAlgorithm::Sha256,
        );
        config.hashed_subpackets = vec![
            sub(SubpacketData::SignatureCreationTime(created))?,
            sub(SubpacketData::IssuerFingerprint(secret.fingerprint()))?,
            sub(SubpacketData::KeyFlags(flags))?,
        ];
        if let Some(after) = opts.expires_after {
            config
                .hashed_subpackets
                .push(sub(SubpacketData::KeyExpirationTime(Duration::from_secs(after)))?);
        }
        config.unhashed_subpackets = vec![sub(SubpacketData::IssuerKeyId(secret.legacy_key_id()))?];
        let user = secret
            .details
            .users
            .first_mut()
            .ok_or_else(|| io::Error::other("generated key has no user ID"))?;
        let cert = config
            .sign_certification(&secret.primary_key, &primary_pub, &pw, Tag::UserId, &user.id)
            .map_err(pgp_err)?;
        user.signatures = vec![cert];

        if opts.revoked {
            let mut config = SignatureConfig::v4(
                SignatureType::KeyRevocation,
                secret.primary_key.algorithm(),
                HashAlgorithm::Sha256,
            );
            config.hashed_subpackets = vec![
                sub(SubpacketData::SignatureCreationTime(Timestamp::from_secs(
                    opts.created + 10,
                )))?,
                sub(SubpacketData::IssuerFingerprint(secret.fingerprint()))?,
            ];
            let rev = config
                .sign_key(&secret.primary_key, &pw, &primary_pub)
                .map_err(pgp_err)?;
            secret.details.revocation_signatures.push(rev);
        }
        let public = secret.to_public_key();
        Ok(TestKey {
            secret,
            public,
            signing_subkey: opts.signing_subkey,
        })
    }

    /// Uppercase hex fingerprint of the primary key.
    pub fn fingerprint(&self) -> String {
        format!("{:X}", self.public.fingerprint())
    }

    /// Uppercase hex fingerprint of the key that makes data signatures (the subkey, if any).
    pub fn signing_fingerprint(&self) -> String {
        match self.secret.secret_subkeys.first() {
            Some(s) if self.signing_subkey => format!("{:X}", s.key.fingerprint()),
            _ => self.fingerprint(),
        }
    }

    /// The public key, binary (as `debian-archive-keyring.gpg` ships keys).
    pub fn public_binary(&self) -> io::Result<Vec<u8>> {
        self.public.to_bytes().map_err(pgp_err)
    }

    /// The public key, ASCII-armoured (as `.asc` fragments ship keys).
    pub fn public_armored(&self) -> io::Result<String> {
        self.public
            .to_armored_string(ArmorOptions::default())
            .map_err(pgp_err)
    }

    fn signer(&self) -> (&dyn SigningKey, pgp::types::Fingerprint, pgp::types::KeyId) {
        match self.secret.secret_subkeys.first() {
            Some(s) if self.signing_subkey => (&s.key, s.key.fingerprint(), s.key.legacy_key_id()),
            _ => (
                &self.secret.primary_key,
                self.secret.primary_key.fingerprint(),
                self.secret.primary_key.legacy_key_id(),
            ),
        }
    }

    /// A data signature of type `typ` over `data`.
    pub fn signature(&self, typ: SignatureType, data: &[u8], opts: SigOptions) -> io::Result<Signature> {
        let (key, fp, id) = self.signer();
        let mut config = SignatureConfig::v4(typ, key.algorithm(), opts.hash);
        config.hashed_subpackets = vec![
            sub(SubpacketData::SignatureCreationTime(Timestamp::from_secs(
                opts.created,
            )))?,
            sub(SubpacketData::IssuerFingerprint(fp))?,
        ];
        config.unhashed_subpackets = vec![sub(SubpacketData::IssuerKeyId(id))?];
        config
            .sign(&Box::new(key), &Password::empty(), data)
            .map_err(pgp_err)
    }

    /// A detached binary signature over `data`, ASCII-armoured (as Debian's `Release.gpg`).
    pub fn detach_sign(&self, data: &[u8], opts: SigOptions) -> io::Result<Vec<u8>> {
        detach_sign_many(&[self], data, opts)
    }
}

/// Detached binary signatures by several keys over `data`, ASCII-armoured in one block.
pub fn detach_sign_many(keys: &[&TestKey], data: &[u8], opts: SigOptions) -> io::Result<Vec<u8>> {
    let mut out = Vec::new();
    let mut raw = Vec::new();
    for key in keys {
        let sig = DetachedSignature::new(key.signature(SignatureType::Binary, data, opts)?);
        sig.to_writer(&mut raw).map_err(pgp_err)?;
    }
    // One armour block holding every signature packet, as gpg writes for several -u options.
    pgp::armor::write(
        &RawPackets(raw),
        pgp::armor::BlockType::Signature,
        &mut out,
        None,
        true,
    )
    .map_err(pgp_err)?;
    Ok(out)
}

struct RawPackets(Vec<u8>);

impl Serialize for RawPackets {
    fn to_writer<W: Write>(&self, w: &mut W) -> pgp::errors::Result<()> {
        w.write_all(&self.0)?;
        Ok(())
    }
    fn write_len(&self) -> usize {
        self.0.len()
    }
}

/// Clearsigns `text` (an InRelease) with every key in `keys`.
pub fn clearsign(keys: &[&TestKey], text: &str, opts: SigOptions) -> io::Result<String> {
    let msg = CleartextSignedMessage::new_many(text, |normalized| {
        keys.iter()
            .map(|k| {
                k.signature(SignatureType::Text, normalized.as_bytes(), opts)
                    .map_err(pgp::errors::Error::from)
            })
            .collect()
    })
    .map_err(pgp_err)?;
    msg.to_armored_string(ArmorOptions::default()).map_err(pgp_err)
}

/// The index compressions an archive can carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Compression {
    None,
    Gz,
    Xz,
}

impl Compression {
    pub fn suffix(self) -> &'static str {
        match self {
            Compression::None => "",
            Compression::Gz => ".gz",
            Compression::Xz => ".xz",
        }
    }

    pub fn compress(self, data: &[u8]) -> io::Result<Vec<u8>> {
        match self {
            Compression::None => Ok(data.to_vec()),
            Compression::Gz => {
                let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
                e.write_all(data)?;
                e.finish()
            }
            Compression::Xz => {
                let mut e = liblzma::write::XzEncoder::new(Vec::new(), 6);
                e.write_all(data)?;
                e.finish()
            }
        }
    }
}

/// One binary package of a synthetic archive.
#[derive(Debug, Clone)]
pub struct PoolPackage {
    /// Component the package's index belongs to (`main`).
    pub component: String,
    /// Architecture of the index it is listed in (`amd64`, or `all` for `binary-all`).
    pub index_arch: String,
    /// Pool path relative to the archive root (`pool/main/h/hello/hello_1.0_amd64.deb`).
    pub pool_path: String,
    pub bytes: Vec<u8>,
    /// Control fields (`Package`, `Version`, `Architecture`, `Depends`, …), in order.
    /// `Filename`, `Size` and `SHA256` are added from `pool_path` and `bytes`.
    pub fields: Vec<(String, String)>,
}

/// Writes a signed synthetic archive. Public fields are the knobs.
#[derive(Debug, Clone)]
pub struct ArchiveBuilder {
    pub origin: String,
    pub label: String,
    pub suite: String,
    pub codename: String,
    pub date: String,
    pub valid_until: Option<String>,
    pub acquire_by_hash: bool,
    /// Which `Packages` variants are written and listed.
    pub compressions: Vec<Compression>,
    /// List the uncompressed `Packages` hash even where the plain file is not written (Debian
    /// does this).
    pub list_uncompressed: bool,
    /// Write `No-Support-for-Architecture-all: Packages` (architecture `all` packages are listed
    /// in each `binary-ARCH/Packages`, and `binary-all` duplicates them).
    pub no_support_for_architecture_all: bool,
    /// Extra components/architectures to declare (and write empty indices for).
    pub components: Vec<String>,
    pub architectures: Vec<String>,
    pub packages: Vec<PoolPackage>,
    pub sig: SigOptions,
    /// Write `InRelease` / `Release` + `Release.gpg`.
    pub write_inrelease: bool,
    pub write_detached: bool,
}

impl ArchiveBuilder {
    pub fn new(suite: &str) -> Self {
        ArchiveBuilder {
            origin: "Debcast Test".into(),
            label: "Debcast Test".into(),
            suite: suite.into(),
            codename: suite.into(),
            date: RELEASE_DATE.into(),
            valid_until: None,
            acquire_by_hash: false,
            compressions: vec![Compression::Xz, Compression::Gz],
            list_uncompressed: true,
            no_support_for_architecture_all: false,
            components: vec!["main".into()],
            architectures: vec!["amd64".into()],
            packages: Vec::new(),
            sig: SigOptions::default(),
            write_inrelease: true,
            write_detached: true,
        }
    }

    /// Adds a package to `component`'s `binary-INDEX_ARCH/Packages`.
    pub fn package(
        &mut self,
        component: &str,
        index_arch: &str,
        pool_path: &str,
        bytes: &[u8],
        fields: &[(&str, &str)],
    ) -> &mut Self {
        self.packages.push(PoolPackage {
            component: component.into(),
            index_arch: index_arch.into(),
            pool_path: pool_path.into(),
            bytes: bytes.to_vec(),
            fields: fields
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
        });
        self
    }

    /// Adds a simple package `name`=`version` for `arch` (listed in `binary-ARCH`, or `binary-all`
    /// for `all`) with generated pool bytes.
    pub fn simple(&mut self, name: &str, version: &str, arch: &str, depends: Option<&str>) -> &mut Self {
        let pool = format!("pool/main/{}/{name}/{name}_{version}_{arch}.deb", &name[..1]);
        let bytes = format!("not really a deb: {name} {version} {arch}\n").into_bytes();
        let mut fields = vec![
            ("Package", name),
            ("Version", version),
            ("Architecture", arch),
            ("Priority", "optional"),
        ];
        if let Some(d) = depends {
            fields.push(("Depends", d));
        }
        fields.push(("Description", "a test package\n multi-line description\n ."));
        self.package("main", arch, &pool, &bytes, &fields)
    }

    /// The `Packages` text of one index.
    pub fn packages_text(&self, component: &str, arch: &str) -> String {
        let mut out = String::new();
        for p in self
            .packages
            .iter()
            .filter(|p| p.component == component && p.index_arch == arch)
        {
            if !out.is_empty() {
                out.push('\n');
            }
            for (k, v) in &p.fields {
                out.push_str(&format!("{k}: {v}\n"));
            }
            out.push_str(&format!(
                "Filename: {}\nSize: {}\nSHA256: {}\n",
                p.pool_path,
                p.bytes.len(),
                sha256_hex(&p.bytes)
            ));
        }
        out
    }

    fn indices(&self) -> Vec<(String, String)> {
        let mut set = std::collections::BTreeSet::new();
        for c in &self.components {
            for a in &self.architectures {
                set.insert((c.clone(), a.clone()));
            }
        }
        for p in &self.packages {
            set.insert((p.component.clone(), p.index_arch.clone()));
        }
        set.into_iter().collect()
    }

    /// Writes the tree under `root` and signs it with `keys`. Returns the Release text.
    pub fn write(&self, root: &Path, keys: &[&TestKey]) -> io::Result<String> {
        let dists = root.join("dists").join(&self.suite);
        fs::create_dir_all(&dists)?;
        for p in &self.packages {
            let path = root.join(&p.pool_path);
            if let Some(parent) = path.parent() {
                fs::create_dir_all(parent)?;
            }
            fs::write(path, &p.bytes)?;
        }
        // path -> (size, sha256)
        let mut listed: BTreeMap<String, (usize, String)> = BTreeMap::new();
        let mut components = std::collections::BTreeSet::new();
        let mut architectures = std::collections::BTreeSet::new();
        for (comp, arch) in self.indices() {
            components.insert(comp.clone());
            architectures.insert(arch.clone());
            let dir_rel = format!("{comp}/binary-{arch}");
            let dir = dists.join(&dir_rel);
            fs::create_dir_all(&dir)?;
            let text = self.packages_text(&comp, &arch);
            if self.list_uncompressed {
                listed.insert(
                    format!("{dir_rel}/Packages"),
                    (text.len(), sha256_hex(text.as_bytes())),
                );
            }
            for c in &self.compressions {
                let bytes = c.compress(text.as_bytes())?;
                let name = format!("Packages{}", c.suffix());
                let hash = sha256_hex(&bytes);
                fs::write(dir.join(&name), &bytes)?;
                if self.acquire_by_hash {
                    let bh = dir.join("by-hash/SHA256");
                    fs::create_dir_all(&bh)?;
                    fs::write(bh.join(&hash), &bytes)?;
                }
                listed.insert(format!("{dir_rel}/{name}"), (bytes.len(), hash));
            }
        }
        let mut release = String::new();
        release.push_str(&format!("Origin: {}\nLabel: {}\n", self.origin, self.label));
        release.push_str(&format!("Suite: {}\nCodename: {}\n", self.suite, self.codename));
        release.push_str(&format!("Date: {}\n", self.date));
        if let Some(v) = &self.valid_until {
            release.push_str(&format!("Valid-Until: {v}\n"));
        }
        if self.acquire_by_hash {
            release.push_str("Acquire-By-Hash: yes\n");
        }
        if self.no_support_for_architecture_all {
            release.push_str("No-Support-for-Architecture-all: Packages\n");
        }
        let archs: Vec<_> = architectures.into_iter().collect();
        let comps: Vec<_> = components.into_iter().collect();
        release.push_str(&format!("Architectures: {}\n", archs.join(" ")));
        release.push_str(&format!("Components: {}\n", comps.join(" ")));
        release.push_str("Description: synthetic test archive\nSHA256:\n");
        for (path, (size, hash)) in &listed {
            release.push_str(&format!(" {hash} {size:>8} {path}\n"));
        }
        fs::write(dists.join("Release"), &release)?;
        if self.write_detached {
            fs::write(
                dists.join("Release.gpg"),
                detach_sign_many(keys, release.as_bytes(), self.sig)?,
            )?;
        }
        if self.write_inrelease {
            fs::write(dists.join("InRelease"), clearsign(keys, &release, self.sig)?)?;
        }
        Ok(release)
    }
}

fn dists(root: &Path, suite: &str) -> PathBuf {
    root.join("dists").join(suite)
}

/// Replaces the first occurrence of `from` with `to` inside the signed text of `InRelease`,
/// leaving the signature as it was.
pub fn tamper_inrelease(root: &Path, suite: &str, from: &str, to: &str) -> io::Result<()> {
    let path = dists(root, suite).join("InRelease");
    let text = fs::read_to_string(&path)?;
    let sig_at = text
        .find("-----BEGIN PGP SIGNATURE-----")
        .ok_or_else(|| io::Error::other("InRelease has no signature block"))?;
    let (signed, sig) = text.split_at(sig_at);
    if !signed.contains(from) {
        return Err(io::Error::other(format!("`{from}` not in the signed text")));
    }
    fs::write(&path, signed.replacen(from, to, 1) + sig)
}

/// Flips one bit of a byte inside the signed text of `InRelease` (in its `Date` line).
pub fn flip_signed_byte(root: &Path, suite: &str) -> io::Result<()> {
    let path = dists(root, suite).join("InRelease");
    let mut bytes = fs::read(&path)?;
    let at = find(&bytes, b"\nDate: ").ok_or_else(|| io::Error::other("InRelease has no Date line"))? + 8;
    bytes[at] ^= 0x01;
    fs::write(&path, bytes)
}

/// Appends `text` after the end of `InRelease`'s signature block and prepends it before the
/// start (text outside the signed part).
pub fn wrap_inrelease(root: &Path, suite: &str, before: &str, after: &str) -> io::Result<()> {
    let path = dists(root, suite).join("InRelease");
    let text = fs::read_to_string(&path)?;
    fs::write(&path, format!("{before}{text}{after}"))
}

/// Re-signs the current `Release` text (InRelease and Release.gpg) with other keys or options.
pub fn resign(root: &Path, suite: &str, keys: &[&TestKey], opts: SigOptions) -> io::Result<()> {
    let d = dists(root, suite);
    let release = fs::read_to_string(d.join("Release"))?;
    fs::write(d.join("InRelease"), clearsign(keys, &release, opts)?)?;
    fs::write(
        d.join("Release.gpg"),
        detach_sign_many(keys, release.as_bytes(), opts)?,
    )
}

/// Overwrites a file under `dists/SUITE/` (a `Packages` index, after signing) and its by-hash
/// copy, if any, with `bytes`.
pub fn replace_index(root: &Path, suite: &str, rel_path: &str, bytes: &[u8]) -> io::Result<()> {
    let path = dists(root, suite).join(rel_path);
    let old = fs::read(&path)?;
    fs::write(&path, bytes)?;
    if let Some(parent) = path.parent() {
        let bh = parent.join("by-hash/SHA256").join(sha256_hex(&old));
        if bh.exists() {
            fs::write(bh, bytes)?;
        }
    }
    Ok(())
}

/// Flips the last byte of a file under `dists/SUITE/` (and of its by-hash copy).
pub fn corrupt_index(root: &Path, suite: &str, rel_path: &str) -> io::Result<()> {
    let mut bytes = fs::read(dists(root, suite).join(rel_path))?;
    if let Some(last) = bytes.last_mut() {
        *last ^= 0xff;
    }
    replace_index(root, suite, rel_path, &bytes)
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_format_like_debian() {
        assert_eq!(release_date(0), "Thu, 01 Jan 1970 00:00:00 UTC");
        assert_eq!(release_date(i64::from(RELEASE_TIME)), RELEASE_DATE);
    }

    #[test]
    fn writes_a_signed_tree() {
        let dir = std::env::temp_dir().join(format!("testkit-archive-{}", std::process::id()));
        let key = TestKey::new("k").unwrap();
        let mut b = ArchiveBuilder::new("stable");
        b.simple("hello", "1.0", "amd64", None);
        b.acquire_by_hash = true;
        let release = b.write(&dir, &[&key]).unwrap();
        assert!(release.contains("main/binary-amd64/Packages.xz"));
        let inrelease = fs::read_to_string(dir.join("dists/stable/InRelease")).unwrap();
        assert!(inrelease.starts_with("-----BEGIN PGP SIGNED MESSAGE-----"));
        assert!(dir.join("pool/main/h/hello/hello_1.0_amd64.deb").exists());
        fs::remove_dir_all(&dir).unwrap();
    }
}
