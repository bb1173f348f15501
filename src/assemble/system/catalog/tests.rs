use super::super::testutil::{MemTree, have, host_tool};
use super::*;

/// journalctl's own database for the catalogs of `tree` (`--root`), or `None` when the host has
/// no journalctl.
fn journalctl_database(tree: &MemTree) -> Option<Vec<u8>> {
    if !have("journalctl") {
        eprintln!("note: no journalctl on this host; the comparison with it is skipped");
        return None;
    }
    let root = tempfile::tempdir().unwrap();
    tree.materialise(root.path());
    let out = std::process::Command::new(host_tool("journalctl").unwrap())
        .arg(format!("--root={}", root.path().display()))
        .arg("--update-catalog")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "journalctl: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Some(std::fs::read(root.path().join(DATABASE)).unwrap())
}

/// Catalogs written for the test that take every path of the reader: file and entry languages,
/// a name in /usr/local hiding the same name in /usr/lib, an id given twice (headers merged, the
/// later body kept), comments, runs of empty lines, upper-case ids, and payloads that are tails
/// of others (shared in the string buffer).
fn catalogs() -> MemTree {
    let mut t = MemTree::new();
    t.file(
        "usr/lib/systemd/catalog/app.catalog",
        b"# app's messages\n\n-- 0123456789ABCDEF0123456789abcdef\nSubject: Started\nDefined-By: app\n\nThe service started.\n\n\nIt is running.\n\
          # a comment inside\n\n-- fedcba9876543210fedcba9876543210\nSubject: Stopped\n\nThe service started.\n\n\
          -- 11111111111111111111111111111111 de\nSubject: Gestartet\n\nL\xc3\xa4uft.\n",
    )
    .file(
        "usr/lib/systemd/catalog/app.de.catalog",
        b"-- 0123456789abcdef0123456789abcdef\nSubject: Gestartet\n\nDer Dienst l\xc3\xa4uft.\n\n\
          -- fedcba9876543210fedcba9876543210 de\nSubject: Angehalten\n\nstarted.\n",
    )
    .file(
        "usr/lib/systemd/catalog/more.catalog",
        b"-- 0123456789abcdef0123456789abcdef\nSupport: https://support.invalid\n\n\
          -- 22222222222222222222222222222222\nSubject: Only headers\n",
    )
    .file(
        "usr/lib/systemd/catalog/local.catalog",
        b"-- 33333333333333333333333333333333\nSubject: shipped\n\nhidden by /usr/local\n",
    )
    .file(
        "usr/local/lib/systemd/catalog/local.catalog",
        b"-- 33333333333333333333333333333333\nSubject: local\n\nThe administrator's.\n",
    )
    .file("usr/lib/systemd/catalog/README", b"not a catalog\n");
    t
}

#[test]
fn database_as_journalctl_writes_it() {
    let t = catalogs();
    let ours = database(&t).unwrap().expect("items");
    assert_eq!(&ours[..8], SIGNATURE);
    // Six keys: the two app ids (C), app's `de` entry, the de file's two, more's headers-only
    // entry, local's: 0123…(C), 0123…(de), 1111…(de), 2222…(C), 3333…(C), fedc…(C), fedc…(de).
    assert_eq!(u64::from_le_bytes(ours[24..32].try_into().unwrap()), 7);
    if let Some(theirs) = journalctl_database(&t) {
        assert_eq!(ours, theirs, "the database differs from journalctl's");
    }
}

/// The host's own catalogs (systemd's, in many languages), built by us and by the host's
/// journalctl from the same files.
#[test]
fn the_hosts_catalogs_as_journalctl_builds_them() {
    let dir = std::path::Path::new("/usr/lib/systemd/catalog");
    if !dir.is_dir() || !have("journalctl") {
        eprintln!("note: no systemd catalogs or journalctl on this host; skipped");
        return;
    }
    let mut t = MemTree::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let e = e.unwrap();
        let name = e.file_name().to_string_lossy().into_owned();
        if e.file_type().unwrap().is_file() {
            t.file(
                &format!("usr/lib/systemd/catalog/{name}"),
                &std::fs::read(e.path()).unwrap(),
            );
        }
    }
    let ours = database(&t).unwrap().expect("items");
    assert_eq!(Some(ours), journalctl_database(&t));
}

#[test]
fn catalogs_the_tool_refuses_are_errors_naming_the_file() {
    let bad: &[(&str, &[u8], &str)] = &[
        ("a.catalog", b"Subject: no id\n", "text before"),
        (
            "b.catalog",
            b"-- 0123456789abcdef0123456789abcdef\n\n-- fedcba9876543210fedcba9876543210\nx\n",
            "without text",
        ),
        (
            "c.catalog",
            b"-- 0123456789abcdef0123456789abcdef x\nSubject: y\n",
            "too short",
        ),
        (
            "d.x.catalog",
            b"-- 0123456789abcdef0123456789abcdef\nSubject: y\n",
            "too short",
        ),
    ];
    for (name, text, why) in bad {
        let mut t = MemTree::new();
        t.file(&format!("usr/lib/systemd/catalog/{name}"), text);
        let err = database(&t).unwrap_err();
        assert!(err.contains(name) && err.contains(why), "{name}: {err}");
    }
    assert_eq!(
        database(&MemTree::new()).unwrap(),
        None,
        "no catalog: nothing written"
    );
}

#[test]
fn string_buffer_shares_tails_as_strbuf_does() {
    let mut b = StringBuffer::new();
    assert_eq!(b.add(b"hello world"), 1);
    assert_eq!(b.add(b"world"), 7, "a tail of a stored string");
    assert_eq!(b.add(b"hello world"), 1, "the same string");
    assert_eq!(b.add(b"say hello world"), 13, "a longer string is stored anew");
    assert_eq!(b.add(b""), 0);
    assert_eq!(b.buf, b"\0hello world\0say hello world\0");
}

#[test]
fn languages_from_file_names() {
    assert_eq!(file_language("usr/lib/systemd/catalog/systemd.catalog"), None);
    assert_eq!(
        file_language("usr/lib/systemd/catalog/systemd.de.catalog"),
        Some("de")
    );
    assert_eq!(
        file_language("usr/lib/systemd/catalog/systemd.be@latin.catalog"),
        Some("be@latin")
    );
    assert_eq!(
        file_language("usr/lib/systemd/catalog/systemd.pt_BR.catalog"),
        Some("pt_BR")
    );
}

/// systemd's postinst form: `journalctl ${DPKG_ROOT:+--root="$DPKG_ROOT"} --update-catalog ||
/// true` from a function writes the database (0644 in 0755 directories), nothing reported.
#[test]
fn the_postinst_writes_the_database() {
    let mut t = catalogs();
    t.dir("var/lib");
    let script = "#!/bin/sh\nset -e\n_update_catalog() {\n    journalctl ${DPKG_ROOT:+--root=\"$DPKG_ROOT\"} --update-catalog || true\n}\n\
                  if [ \"$1\" = configure ]; then _update_catalog; fi\n";
    let pkg = super::super::testutil::with_postinst("systemd", script);
    let (changes, report) = super::super::files::compute(&t, &[pkg]).unwrap();
    assert!(report.is_empty(), "{report:?}");
    let (e, bytes) = changes
        .files
        .iter()
        .find(|(e, _)| e.path == DATABASE)
        .expect("the database");
    assert_eq!(e.mode, 0o644);
    assert_eq!(Some(bytes.clone()), database(&t).unwrap());
    let dir = changes
        .files
        .iter()
        .find(|(e, _)| e.path == "var/lib/systemd/catalog");
    assert!(dir.is_some_and(|(e, _)| e.is_dir() && e.mode == 0o755));
}
