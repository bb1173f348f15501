//! Tests against the host's real Debian keyrings and apt lists (each skips where they are absent).

use super::*;

const DEBIAN_KEYRING: &str = "/usr/share/keyrings/debian-archive-keyring.gpg";

#[test]
fn real_debian_keyrings_load() {
    if !Path::new(DEBIAN_KEYRING).exists() {
        eprintln!("note: {DEBIAN_KEYRING} absent; skipping");
        return;
    }
    let k = Keyring::load(Path::new(DEBIAN_KEYRING)).unwrap();
    assert!(k.len() >= 3, "{}", k.len());
    for dir in ["/usr/share/keyrings", "/etc/apt/trusted.gpg.d"] {
        let Ok(entries) = std::fs::read_dir(dir) else {
            continue;
        };
        for e in entries.flatten() {
            let p = e.path();
            if matches!(
                p.extension().and_then(|x| x.to_str()),
                Some("asc" | "pgp" | "gpg")
            ) {
                let k = Keyring::load(&p).unwrap_or_else(|e| panic!("{e}"));
                assert!(!k.is_empty());
            }
        }
    }
}

fn apt_lists(suffix: &str) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir("/var/lib/apt/lists")
        .map(|d| d.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    v.retain(|p| {
        p.file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| n.ends_with(suffix))
    });
    v.sort();
    v
}

#[test]
fn real_inrelease_verifies() {
    let lists = apt_lists("_InRelease");
    if lists.is_empty() || !Path::new(DEBIAN_KEYRING).exists() {
        eprintln!("note: no apt lists or Debian keyring on this machine; skipping");
        return;
    }
    let keyring = Keyring::load(Path::new(DEBIAN_KEYRING)).unwrap();
    for path in lists {
        let bytes = std::fs::read(&path).unwrap();
        // Find the Date without trusting the file: only to pin "now".
        let text = String::from_utf8_lossy(&bytes);
        let Some(date) = text.lines().find_map(|l| l.strip_prefix("Date: ")) else {
            continue;
        };
        let Some(t) = crate::debian::date::parse_release_date(date) else {
            continue;
        };
        let now = UNIX_EPOCH + Duration::from_secs(t as u64);
        let v = verify_inrelease(&bytes, &keyring, now).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let r = Release::parse(&v.text).unwrap();
        assert_eq!(r.date, date);
        assert!(!r.sha256.is_empty());
        eprintln!(
            "{}: signed by {:?}, {} files",
            path.display(),
            v.signers,
            r.sha256.len()
        );
        // A byte flipped in the signed part breaks it.
        let mut bad = bytes.clone();
        let at = text.find("Date: ").unwrap() + 7;
        bad[at] ^= 1;
        assert!(verify_inrelease(&bad, &keyring, now).is_err());
    }
}

#[test]
fn real_packages_list_parses() {
    let mut lists = apt_lists("_Packages.lz4");
    let plain = apt_lists("_Packages");
    // apt stores lists uncompressed unless configured otherwise (container images often set lz4):
    // only those need the lz4 tool.
    if !lists.is_empty() && std::process::Command::new("lz4").arg("-V").output().is_err() {
        eprintln!(
            "note: no lz4 tool: the {} lz4-compressed apt lists are not read",
            lists.len()
        );
        lists.clear();
    }
    if lists.is_empty() && plain.is_empty() {
        eprintln!("note: no apt Packages lists (or no lz4 tool for them) on this machine; skipping");
        return;
    }
    for path in lists.iter().chain(plain.iter()) {
        let data = if path.extension().is_some_and(|e| e == "lz4") {
            let out = std::process::Command::new("lz4")
                .args(["-dc"])
                .arg(path)
                .output()
                .unwrap();
            assert!(out.status.success());
            out.stdout
        } else {
            std::fs::read(path).unwrap()
        };
        let expected = data
            .split(|&b| b == b'\n')
            .filter(|l| l.starts_with(b"Package:"))
            .count();
        let origin = IndexOrigin {
            archive: "debian",
            suite: "x",
            component: "main",
            index: "real",
        };
        let start = std::time::Instant::now();
        let recs = parse_packages(&data, origin).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        eprintln!(
            "{}: {} records, {} MB in {:?}",
            path.display(),
            recs.len(),
            data.len() >> 20,
            start.elapsed()
        );
        assert_eq!(recs.len(), expected);
    }
}
