//! The CA certificate store, as ca-certificates' postinst and `update-ca-certificates` (bookworm,
//! 20230311+) followed by `openssl rehash` would leave `etc/ssl/certs`.
//!
//! - The postinst writes `etc/ca-certificates.conf` when absent: every `*.crt` under
//!   `usr/share/ca-certificates` (relative, sorted), all enabled (debconf's default trusts them).
//! - update-ca-certificates adds each enabled certificate: `etc/ssl/certs/NAME.pem -> CERT`
//!   (NAME: the file name without `.crt`, spaces and commas as `_`, parentheses as `=`) and appends
//!   it to `ca-certificates.crt` (with a final newline if missing), conf order first, then
//!   `usr/local/share/ca-certificates/**.crt` sorted.
//! - `openssl rehash .` links `HASH.N -> NAME` for every file in the directory ending in `.pem`,
//!   `.crt`, `.cer` (any case) that holds exactly one certificate, in sorted name order; a
//!   certificate whose SHA-1 fingerprint is already linked under the same hash is skipped.
//!   HASH is `X509_NAME_hash` of the subject (see [`subject_hash`]).

use base64::Engine;
use sha1::{Digest, Sha1};
use x509_cert::Certificate;
use x509_cert::der::{Decode, Tag, Tagged};

use super::{Changes, InstalledPackage, SystemError, TreeView, installed};
use crate::entry::EntryKind;

const CERTSDIR: &str = "usr/share/ca-certificates";
const LOCALCERTSDIR: &str = "usr/local/share/ca-certificates";
const ETCCERTSDIR: &str = "etc/ssl/certs";
const CONF: &str = "etc/ca-certificates.conf";
const BUNDLE: &str = "ca-certificates.crt";

#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct CertError(String);

/// Every certificate (DER) in a PEM text, in order.
pub fn pem_certificates(text: &[u8]) -> Result<Vec<Vec<u8>>, CertError> {
    let text = String::from_utf8_lossy(text);
    let mut out = Vec::new();
    let mut rest = text.as_ref();
    while let Some(start) = rest.find("-----BEGIN CERTIFICATE-----") {
        let body_start = start + "-----BEGIN CERTIFICATE-----".len();
        let Some(end) = rest[body_start..].find("-----END CERTIFICATE-----") else {
            return Err(CertError("unterminated PEM certificate".into()));
        };
        let b64: String = rest[body_start..body_start + end]
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect();
        let der = base64::engine::general_purpose::STANDARD
            .decode(b64)
            .map_err(|e| CertError(format!("bad base64 in PEM: {e}")))?;
        out.push(der);
        rest = &rest[body_start + end..];
    }
    Ok(out)
}

/// Whether a PEM text holds a CRL or key as well (openssl rehash counts those as items).
fn pem_other_items(text: &[u8]) -> usize {
    let text = String::from_utf8_lossy(text);
    text.matches("-----BEGIN ").count() - text.matches("-----BEGIN CERTIFICATE-----").count()
}

/// OpenSSL's `X509_NAME_hash_ex` of a certificate's subject: SHA-1 over the name's canonical
/// encoding (`x509_name_canon`), first four bytes as a little-endian u32.
pub fn subject_hash(cert_der: &[u8]) -> Result<u32, CertError> {
    let canon = canonical_subject(cert_der)?;
    let md = Sha1::digest(&canon);
    Ok(u32::from_le_bytes([md[0], md[1], md[2], md[3]]))
}

/// The subject Name's canonical encoding: each RDN re-encoded as a SET (DER-sorted) of
/// SEQUENCE { type, value } where string values (UTF8, Printable, T61, IA5, Visible, BMP,
/// Universal) become UTF8String, ASCII-lowercased, with leading/trailing whitespace removed and
/// inner runs collapsed to one space; the outer SEQUENCE header is omitted (`i2d_name_canon`).
pub fn canonical_subject(cert_der: &[u8]) -> Result<Vec<u8>, CertError> {
    let cert =
        Certificate::from_der(cert_der).map_err(|e| CertError(format!("not an X.509 certificate: {e}")))?;
    let mut out = Vec::new();
    for rdn in cert.tbs_certificate.subject.0.iter() {
        let mut encoded: Vec<Vec<u8>> = Vec::new();
        for atv in rdn.0.iter() {
            let mut seq = tlv(u8::from(Tag::ObjectIdentifier), atv.oid.as_bytes());
            seq.extend(canonical_value(u8::from(atv.value.tag()), atv.value.value())?);
            encoded.push(tlv(0x30, &seq));
        }
        encoded.sort();
        out.extend(tlv(0x31, &encoded.concat()));
    }
    Ok(out)
}

fn canonical_value(tag: u8, value: &[u8]) -> Result<Vec<u8>, CertError> {
    let text: String = match tag {
        // UTF8String
        0x0c => String::from_utf8_lossy(value).into_owned(),
        // PrintableString, IA5String, VisibleString; T61String as Latin-1 like OpenSSL.
        0x13 | 0x16 | 0x1a | 0x14 => value.iter().map(|b| *b as char).collect(),
        // BMPString: UCS-2 big-endian.
        0x1e => {
            let units: Vec<u16> = value
                .chunks(2)
                .map(|c| u16::from_be_bytes([c[0], *c.get(1).unwrap_or(&0)]))
                .collect();
            String::from_utf16_lossy(&units)
        }
        // UniversalString: UCS-4 big-endian.
        0x1c => value
            .chunks(4)
            .map(|c| {
                let mut b = [0u8; 4];
                b[..c.len()].copy_from_slice(c);
                char::from_u32(u32::from_be_bytes(b)).unwrap_or('\u{fffd}')
            })
            .collect(),
        _ => return Ok(tlv(tag, value)),
    };
    let is_space = super::clib::is_space;
    let bytes = text.as_bytes();
    let mut start = 0;
    let mut end = bytes.len();
    while start < end && is_space(bytes[start]) {
        start += 1;
    }
    while end > start && is_space(bytes[end - 1]) {
        end -= 1;
    }
    let mut canon = Vec::with_capacity(end - start);
    let mut i = start;
    while i < end {
        let b = bytes[i];
        if b & 0x80 != 0 {
            canon.push(b);
            i += 1;
        } else if is_space(b) {
            canon.push(b' ');
            while i < end && is_space(bytes[i]) {
                i += 1;
            }
        } else {
            canon.push(b.to_ascii_lowercase());
            i += 1;
        }
    }
    Ok(tlv(0x0c, &canon))
}

/// A DER TLV with a definite length.
fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    let len = content.len();
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes: Vec<u8> = len
            .to_be_bytes()
            .iter()
            .copied()
            .skip_while(|b| *b == 0)
            .collect();
        out.push(0x80 | bytes.len() as u8);
        out.extend(bytes);
    }
    out.extend_from_slice(content);
    out
}

/// The `.pem` link name update-ca-certificates gives a certificate file.
fn pem_name(cert_path: &str) -> String {
    let base = cert_path.rsplit('/').next().unwrap_or(cert_path);
    let base = base.strip_suffix(".crt").unwrap_or(base);
    let mapped: String = base
        .chars()
        .map(|c| match c {
            ' ' | ',' => '_',
            '(' | ')' => '=',
            c => c,
        })
        .collect();
    format!("{mapped}.pem")
}

/// Every `*.crt` regular file under `dir` (following symlinks like `find -L`), sorted, as paths
/// relative to `dir`.
fn find_crts(tree: &dyn TreeView, dir: &str) -> Vec<String> {
    let Some(real) = super::resolve(tree, dir) else {
        return Vec::new();
    };
    let prefix = format!("{real}/");
    let mut out: Vec<String> = tree
        .paths()
        .filter_map(|p| p.strip_prefix(&prefix))
        .filter(|rel| rel.ends_with(".crt"))
        .filter(|rel| super::is_file(tree, &format!("{real}/{rel}")))
        .map(str::to_owned)
        .collect();
    out.sort();
    out
}

/// The body of the here-document the postinst writes a new `/etc/ca-certificates.conf` from
/// (`cat > /etc/ca-certificates.conf <<EOF` … `EOF`).
fn conf_header_from_postinst(script: &str) -> Option<String> {
    let mut lines = script.lines();
    let opener = lines.by_ref().find(|l| {
        let l = l.trim();
        l.starts_with("cat") && l.contains("> /etc/ca-certificates.conf") && l.contains("<<")
    })?;
    let delimiter = opener
        .rsplit("<<")
        .next()?
        .trim()
        .trim_start_matches('-')
        .trim_matches(['\'', '"']);
    if delimiter.is_empty() {
        return None;
    }
    let mut body = String::new();
    for line in lines {
        if line.trim_start() == delimiter {
            return Some(body);
        }
        body.push_str(line);
        body.push('\n');
    }
    None
}

pub fn compute(tree: &dyn TreeView, packages: &[InstalledPackage]) -> Result<Changes, SystemError> {
    let mut out = Changes::default();
    if installed(packages, "ca-certificates").is_none() {
        return Ok(out);
    }
    // The postinst creates the local directory with /usr/local's mode and group.
    if !super::exists(tree, LOCALCERTSDIR)
        && let Some(local) = super::resolve(tree, "usr/local").and_then(|p| tree.entry(&p).cloned())
        && local.is_dir()
    {
        let at = super::resolve_dir_of(tree, LOCALCERTSDIR).unwrap_or_else(|| LOCALCERTSDIR.into());
        let owner = super::Owner {
            uid: 0,
            gid: local.gid,
            uname: "root".into(),
            gname: local.gname.clone(),
        };
        out.dir_owned(&at, local.mode & 0o7777, owner);
    }
    let conf = match super::read_file(tree, CONF)? {
        Some(c) if !c.is_empty() => String::from_utf8_lossy(&c).into_owned(),
        _ => {
            // The postinst writes its own comment block first (a here-document); take it from
            // the package so the file is the one dpkg would leave, else a short one of ours.
            let mut c = installed(packages, "ca-certificates")
                .and_then(|p| p.member_text("postinst"))
                .and_then(conf_header_from_postinst)
                .unwrap_or_else(|| {
                    "# Certificates under /usr/share/ca-certificates to trust, one per line, relative\n\
                     # to that directory. A line starting with ! deselects a certificate.\n\
                     # Run update-ca-certificates after editing this file.\n"
                        .to_owned()
                });
            for crt in find_crts(tree, CERTSDIR) {
                c.push_str(&crt);
                c.push('\n');
            }
            out.file(CONF, 0o644, c.clone().into_bytes());
            c
        }
    };
    let mut selected: Vec<String> = Vec::new();
    for line in conf.lines() {
        if line.is_empty() || line.starts_with('#') || line.starts_with('!') {
            continue;
        }
        let path = format!("{CERTSDIR}/{line}");
        if super::is_file(tree, &path) {
            selected.push(path);
        }
    }
    for rel in find_crts(tree, LOCALCERTSDIR) {
        selected.push(format!("{LOCALCERTSDIR}/{rel}"));
    }

    let etc = super::resolve(tree, ETCCERTSDIR).unwrap_or_else(|| ETCCERTSDIR.to_owned());
    if tree.entry(&etc).is_none() {
        out.dir(&etc, 0o755);
    }
    // name in etc/ssl/certs -> content, for the rehash below.
    let mut dir_files: std::collections::BTreeMap<String, Vec<u8>> = Default::default();
    let prefix = format!("{etc}/");
    for p in tree.paths() {
        if let Some(name) = p.strip_prefix(&prefix)
            && !name.contains('/')
            && !is_hash_name(name)
            && name != BUNDLE
            && let Some(content) = super::read_file(tree, p)?
        {
            dir_files.insert(name.to_owned(), content);
        }
    }
    let mut bundle = Vec::new();
    for cert in &selected {
        let content = super::read_file(tree, cert)?.unwrap_or_default();
        let name = pem_name(cert);
        out.symlink(&format!("{etc}/{name}"), &format!("/{cert}"));
        bundle.extend_from_slice(&content);
        if !content.is_empty() && !content.ends_with(b"\n") {
            bundle.push(b'\n');
        }
        dir_files.insert(name, content);
    }

    // openssl rehash: sorted names, one certificate per file, duplicates skipped.
    let mut buckets: std::collections::BTreeMap<u32, Vec<[u8; 20]>> = Default::default();
    for (name, content) in &dir_files {
        let lower = name.to_ascii_lowercase();
        if ![".pem", ".crt", ".cer"].iter().any(|s| lower.ends_with(s)) {
            continue;
        }
        let certs = pem_certificates(content).map_err(|e| SystemError::Invalid {
            path: format!("{etc}/{name}"),
            message: e.0,
        })?;
        if certs.len() != 1 || pem_other_items(content) != 0 {
            continue;
        }
        let hash = subject_hash(&certs[0]).map_err(|e| SystemError::Invalid {
            path: format!("{etc}/{name}"),
            message: e.0,
        })?;
        let fingerprint: [u8; 20] = Sha1::digest(&certs[0]).into();
        let bucket = buckets.entry(hash).or_default();
        if bucket.contains(&fingerprint) {
            continue;
        }
        out.symlink(&format!("{etc}/{hash:08x}.{}", bucket.len()), name);
        bucket.push(fingerprint);
    }
    // Stale hash links of a pre-populated directory are replaced by rehash.
    for p in tree.paths() {
        if let Some(name) = p.strip_prefix(&prefix)
            && is_hash_name(name)
            && matches!(tree.entry(p).map(|e| &e.kind), Some(EntryKind::Symlink { .. }))
            && !out.files.iter().any(|(e, _)| e.path == p)
        {
            out.removed.push(p.to_owned());
        }
    }
    out.file(&format!("{etc}/{BUNDLE}"), 0o644, bundle);
    Ok(out)
}

/// `8 hex digits . [r] digits`: the names openssl rehash manages.
fn is_hash_name(name: &str) -> bool {
    let Some((h, n)) = name.split_once('.') else {
        return false;
    };
    let n = n.strip_prefix('r').unwrap_or(n);
    h.len() == 8
        && h.bytes().all(|b| b.is_ascii_hexdigit())
        && !n.is_empty()
        && n.bytes().all(|b| b.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    #[test]
    fn conf_header_comes_from_the_postinst_heredoc() {
        let script = "#!/bin/sh\nif true; then\n  :\nelse\n  cat > /etc/ca-certificates.conf <<EOF\n# one\n#\n# two\nEOF\n  echo x >> /etc/ca-certificates.conf\nfi\n";
        assert_eq!(
            super::conf_header_from_postinst(script).as_deref(),
            Some("# one\n#\n# two\n")
        );
        assert_eq!(super::conf_header_from_postinst("#!/bin/sh\ntrue\n"), None);
    }

    use super::super::testutil::{MemTree, have, host_tool};
    use super::*;
    use std::process::Command;

    fn openssl_hash(path: &std::path::Path) -> String {
        let o = Command::new("openssl")
            .args(["x509", "-hash", "-noout", "-in"])
            .arg(path)
            .output()
            .unwrap();
        String::from_utf8_lossy(&o.stdout).trim().to_owned()
    }

    #[test]
    fn hashes_match_openssl_on_host_certificates() {
        let Ok(dir) = std::fs::read_dir("/usr/share/ca-certificates/mozilla") else {
            eprintln!("note: /usr/share/ca-certificates/mozilla absent, skipping");
            return;
        };
        if !have("openssl") {
            eprintln!("note: openssl not installed, skipping");
            return;
        }
        let mut n = 0;
        for e in dir.flatten() {
            let content = std::fs::read(e.path()).unwrap();
            let der = &pem_certificates(&content).unwrap()[0];
            let ours = format!("{:08x}", subject_hash(der).unwrap());
            assert_eq!(ours, openssl_hash(&e.path()), "{}", e.path().display());
            n += 1;
        }
        assert!(n > 50);
    }

    /// Subjects that exercise the canonical form: case, runs of spaces, leading/trailing
    /// blanks, a multi-valued RDN, non-ASCII text.
    #[test]
    fn hashes_match_openssl_on_generated_subjects() {
        if !have("openssl") {
            eprintln!("note: openssl not installed, skipping");
            return;
        }
        let dir = tempfile::tempdir().unwrap();
        for (i, subj) in [
            "/CN=  Mixed   CASE\tName  /O=Acme, Inc./C=DE",
            "/CN=one+OU=Two  Parts/O=X",
            "/CN=Grüße   AUS Köln/emailAddress=ROOT@Example.ORG",
        ]
        .iter()
        .enumerate()
        {
            let cert = dir.path().join(format!("{i}.pem"));
            let o = Command::new("openssl")
                .args([
                    "req",
                    "-x509",
                    "-newkey",
                    "ec",
                    "-pkeyopt",
                    "ec_paramgen_curve:P-256",
                    "-nodes",
                    "-utf8",
                    "-multivalue-rdn",
                    "-days",
                    "1",
                    "-subj",
                    subj,
                    "-keyout",
                ])
                .arg(dir.path().join("key"))
                .arg("-out")
                .arg(&cert)
                .output()
                .unwrap();
            assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
            let der = &pem_certificates(&std::fs::read(&cert).unwrap()).unwrap()[0];
            assert_eq!(
                format!("{:08x}", subject_hash(der).unwrap()),
                openssl_hash(&cert),
                "{subj}"
            );
        }
    }

    #[test]
    fn store_from_shipped_certificates() {
        let Ok(mut dir) = std::fs::read_dir("/usr/share/ca-certificates/mozilla") else {
            eprintln!("note: /usr/share/ca-certificates/mozilla absent, skipping");
            return;
        };
        let mut t = MemTree::new();
        let mut names = Vec::new();
        for _ in 0..3 {
            let e = dir.next().unwrap().unwrap();
            let name = e.file_name().to_string_lossy().into_owned();
            let mut content = std::fs::read(e.path()).unwrap();
            if names.is_empty() {
                // A missing final newline is added in the bundle.
                while content.ends_with(b"\n") {
                    content.pop();
                }
            }
            t.file(&format!("usr/share/ca-certificates/mozilla/{name}"), &content);
            names.push(name);
        }
        // The same certificate under a second name: linked once.
        let dup = t.entries[&format!("usr/share/ca-certificates/mozilla/{}", names[1])]
            .1
            .clone();
        t.file("usr/local/share/ca-certificates/extra (copy).crt", &dup);
        t.dir("etc/ssl/certs");
        t.dir("usr/local/share");
        let pkgs = [InstalledPackage {
            name: "ca-certificates".into(),
            ..Default::default()
        }];
        let out = compute(&t, &pkgs).unwrap();
        let mut m = t.clone();
        m.apply(&out);
        let mut sorted = names.clone();
        sorted.sort();
        let conf = m.text(CONF);
        let listed: Vec<&str> = conf.lines().filter(|l| !l.starts_with('#')).collect();
        assert_eq!(
            listed,
            sorted.iter().map(|n| format!("mozilla/{n}")).collect::<Vec<_>>()
        );
        let bundle = m.text("etc/ssl/certs/ca-certificates.crt");
        assert_eq!(bundle.matches("BEGIN CERTIFICATE").count(), 4);
        assert!(m.entries.contains_key("etc/ssl/certs/extra_=copy=.pem"));
        let hash_links = m
            .entries
            .keys()
            .filter(|k| k.starts_with("etc/ssl/certs/") && is_hash_name(&k[14..]))
            .count();
        assert_eq!(hash_links, 3);
    }

    #[test]
    fn local_directory_follows_usr_local() {
        let mut t = MemTree::new();
        t.dir("usr/local").dir("etc/ssl/certs");
        if let Some((e, _)) = t.entries.get_mut("usr/local") {
            (e.mode, e.gid, e.gname) = (0o2775, 50, "staff".into());
        }
        let pkgs = [InstalledPackage {
            name: "ca-certificates".into(),
            ..Default::default()
        }];
        let out = compute(&t, &pkgs).unwrap();
        let (d, _) = out.files.iter().find(|(e, _)| e.path == LOCALCERTSDIR).unwrap();
        assert_eq!((d.mode, d.gid, d.gname.as_str()), (0o2775, 50, "staff"));
        let (b, content) = out.files.iter().find(|(e, _)| e.path.ends_with(BUNDLE)).unwrap();
        assert_eq!((b.mode, content.len()), (0o644, 0));
    }

    /// The real update-ca-certificates (pointed at the root's directories) and openssl rehash, run on a
    /// materialised tree with the conf we generate, make the same links and bundle.
    #[test]
    fn matches_real_update_ca_certificates() {
        let Ok(dir) = std::fs::read_dir("/usr/share/ca-certificates/mozilla") else {
            eprintln!("note: /usr/share/ca-certificates/mozilla absent, skipping");
            return;
        };
        if !have("update-ca-certificates") || !have("openssl") {
            eprintln!("note: update-ca-certificates or openssl missing, skipping");
            return;
        }
        let mut t = MemTree::new();
        let mut entries: Vec<_> = dir.flatten().collect();
        entries.sort_by_key(|e| e.file_name());
        for e in entries.iter().take(40) {
            let name = e.file_name().to_string_lossy().into_owned();
            t.file(
                &format!("usr/share/ca-certificates/mozilla/{name}"),
                &std::fs::read(e.path()).unwrap(),
            );
        }
        let first = std::fs::read(entries[0].path()).unwrap();
        t.file("usr/local/share/ca-certificates/Local, Copy (1).crt", &first);
        t.dir("etc/ssl/certs");
        let pkgs = [InstalledPackage {
            name: "ca-certificates".into(),
            ..Default::default()
        }];
        let out = compute(&t, &pkgs).unwrap();
        let root = tempfile::tempdir().unwrap();
        let mut with_conf = t.clone();
        with_conf.file(CONF, &out.files.iter().find(|(e, _)| e.path == CONF).unwrap().1);
        with_conf.materialise(root.path());
        // Older versions lack --sysroot; the directory options do the same.
        let at = |p: &str| root.path().join(p).to_string_lossy().into_owned();
        let o = Command::new(host_tool("update-ca-certificates").unwrap())
            .args(["--certsconf", &at(CONF)])
            .args(["--certsdir", &at(CERTSDIR)])
            .args(["--localcertsdir", &at(LOCALCERTSDIR)])
            .args(["--etccertsdir", &at(ETCCERTSDIR)])
            .args(["--hooksdir", "/nonexistent"])
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let certs = root.path().join(ETCCERTSDIR);
        let prefix = root.path().to_string_lossy().into_owned();
        let mut real: Vec<(String, String)> = Vec::new();
        for e in std::fs::read_dir(&certs).unwrap().flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            if let Ok(target) = std::fs::read_link(e.path()) {
                let target = target.to_string_lossy().into_owned();
                real.push((name, target.strip_prefix(&prefix).unwrap_or(&target).to_owned()));
            }
        }
        real.sort();
        let mut ours: Vec<(String, String)> = out
            .files
            .iter()
            .filter_map(|(e, _)| match &e.kind {
                EntryKind::Symlink { target } => e
                    .path
                    .strip_prefix("etc/ssl/certs/")
                    .map(|n| (n.to_owned(), target.clone())),
                _ => None,
            })
            .collect();
        ours.sort();
        assert_eq!(ours, real);
        let bundle = &out
            .files
            .iter()
            .find(|(e, _)| e.path.ends_with(BUNDLE))
            .unwrap()
            .1;
        assert_eq!(*bundle, std::fs::read(certs.join(BUNDLE)).unwrap());
    }
}
