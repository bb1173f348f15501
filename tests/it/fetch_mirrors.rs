//! Mirror resolution: apt sources (one-line and deb822) under a fixture root, priority of
//! `--mirror` / `DEBCAST_MIRRORS` / apt, URL templates, and the missing-mirror error.

use std::fs;
use std::path::Path;

use debcast::fetch::mirrors::{MirrorError, Mirrors, parse_deb822, parse_one_line};
use debcast::lockfile::LockedRelease;

fn write(root: &Path, rel: &str, text: &str) {
    let p = root.join(rel);
    fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
    fs::write(p, text).expect("write");
}

fn urls(m: &Mirrors, archive: &str) -> Vec<String> {
    m.resolve(archive)
        .unwrap_or_else(|e| panic!("{e}"))
        .into_iter()
        .map(|m| m.url.to_string())
        .collect()
}

const SOURCES_LIST: &str = "\
# a comment
deb http://deb.example.org/debian bookworm main contrib
deb-src http://deb.example.org/debian bookworm main
deb [ arch=amd64 signed-by=/usr/share/keyrings/x.gpg ] http://security.example.org/debian-security bookworm-security main # trailing
deb [enabled=no] http://disabled.example.org/debian bookworm main
deb cdrom:[Debian GNU/Linux 12]/ bookworm main
#deb http://commented.example.org/debian bookworm main
deb http://thirdparty.example.org/linux/repo bookworm stable
";

const DEB822: &str = "\
Types: deb deb-src
URIs: https://mirror-a.example.org/debian
  https://mirror-b.example.org/debian
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

# only sources
Types: deb-src
URIs: https://src.example.org/debian
Suites: bookworm
Components: main

Types: deb
URIs: https://off.example.org/debian
Suites: bookworm
Components: main
Enabled: no

Types: deb
URIs: http://local.example.org/ports/debian-security/
Suites: trixie-security
Components: main
";

#[test]
fn parses_one_line_sources() {
    let s = parse_one_line(SOURCES_LIST, "sources.list");
    let got: Vec<(String, Vec<String>)> = s.iter().map(|s| (s.uri.to_string(), s.suites.clone())).collect();
    assert_eq!(
        got,
        vec![
            ("http://deb.example.org/debian/".into(), vec!["bookworm".into()]),
            (
                "http://security.example.org/debian-security/".into(),
                vec!["bookworm-security".into()]
            ),
            (
                "http://thirdparty.example.org/linux/repo/".into(),
                vec!["bookworm".into()]
            ),
        ]
    );
    assert_eq!(s[0].origin, "sources.list:2");
}

#[test]
fn parses_deb822_sources() {
    let s = parse_deb822(DEB822, "debian.sources");
    let got: Vec<String> = s.iter().map(|s| s.uri.to_string()).collect();
    assert_eq!(
        got,
        [
            "https://mirror-a.example.org/debian/",
            "https://mirror-b.example.org/debian/",
            "http://local.example.org/ports/debian-security/"
        ]
    );
    assert_eq!(s[0].suites, ["bookworm", "bookworm-updates"]);
}

#[test]
fn resolves_from_apt_sources_by_suite_then_by_name() {
    let root = tempfile::tempdir().expect("tmp");
    write(root.path(), "etc/apt/sources.list", SOURCES_LIST);
    write(root.path(), "etc/apt/sources.list.d/debian.sources", DEB822);
    write(
        root.path(),
        "etc/apt/sources.list.d/ignored.txt",
        "deb http://no.example.org/debian bookworm main\n",
    );
    let m = Mirrors::from_parts(&[], None, Some(root.path()))
        .expect("mirrors")
        .with_suites("debian", &["bookworm".into()])
        .with_suites("debian-security", &["bookworm-security".into()]);
    // Suite matches named like the archive first (file order), then other suite matches.
    assert_eq!(
        urls(&m, "debian"),
        [
            "http://deb.example.org/debian/",
            "https://mirror-a.example.org/debian/",
            "https://mirror-b.example.org/debian/",
            "http://thirdparty.example.org/linux/repo/",
        ]
    );
    assert_eq!(
        urls(&m, "debian-security"),
        ["http://security.example.org/debian-security/"]
    );

    // No suite known (or none matching): by the URI's last path component.
    let m = Mirrors::from_parts(&[], None, Some(root.path())).expect("mirrors");
    assert_eq!(
        urls(&m, "debian-security"),
        [
            "http://security.example.org/debian-security/",
            "http://local.example.org/ports/debian-security/"
        ]
    );
}

#[test]
fn cli_beats_env_beats_apt() {
    let root = tempfile::tempdir().expect("tmp");
    write(root.path(), "etc/apt/sources.list", SOURCES_LIST);
    let cli = vec![
        "debian=http://127.0.0.1:1/one".to_owned(),
        "debian=http://127.0.0.1:1/two/".to_owned(),
    ];
    let env =
        "debian=http://127.0.0.1:2/env, debian-security=http://127.0.0.1:2/sec\tother=file:///srv/other";
    let m = Mirrors::from_parts(&cli, Some(env), Some(root.path())).expect("mirrors");
    assert_eq!(
        urls(&m, "debian"),
        ["http://127.0.0.1:1/one/", "http://127.0.0.1:1/two/"]
    );
    assert_eq!(urls(&m, "debian-security"), ["http://127.0.0.1:2/sec/"]);
    assert_eq!(urls(&m, "other"), ["file:///srv/other/"]);
    let m = Mirrors::from_parts(&[], None, Some(root.path())).expect("mirrors");
    assert_eq!(urls(&m, "debian"), ["http://deb.example.org/debian/"]);

    for bad in [
        "debian",
        "=http://x.example.org/",
        "debian=ftp://x.example.org/",
        "deb ian=http://x.example.org/",
    ] {
        let err = Mirrors::from_parts(&[bad.to_owned()], None, None).unwrap_err();
        assert!(matches!(err, MirrorError::InvalidSpec { .. }), "{bad}: {err}");
        assert!(err.to_string().contains("ARCHIVE=URL"), "{err}");
    }
}

#[test]
fn templates_are_filled_from_release_dates() {
    let cli = vec![
        "debian=http://127.0.0.1:1/debian".to_owned(),
        "debian=http://127.0.0.1:9/archive/{archive}/{release_date}/".to_owned(),
        "debian=http://127.0.0.1:9/by-day/{release_date:%Y/%m/%d}".to_owned(),
    ];
    let releases = [
        ("bookworm", "Sat, 10 Jun 2023 08:53:33 UTC"),
        ("bookworm-updates", "Mon, 01 Jan 2024 00:00:00 +0000"),
    ]
    .map(|(suite, date)| LockedRelease {
        archive: "debian".into(),
        suite: suite.into(),
        date: date.into(),
        sha256: None,
    });
    let m = Mirrors::from_parts(&cli, None, None)
        .expect("mirrors")
        .with_releases(&releases);
    assert_eq!(
        urls(&m, "debian"),
        [
            "http://127.0.0.1:1/debian/",
            "http://127.0.0.1:9/archive/debian/20240101T000000Z/",
            "http://127.0.0.1:9/archive/debian/20230610T085333Z/",
            "http://127.0.0.1:9/by-day/2024/01/01/",
            "http://127.0.0.1:9/by-day/2023/06/10/",
        ]
    );

    // Without a lock (while locking) templates are skipped, and said so when nothing is left.
    let only_template = vec!["debian=http://127.0.0.1:9/{release_date}".to_owned()];
    let err = Mirrors::from_parts(&only_template, None, None)
        .expect("mirrors")
        .resolve("debian")
        .unwrap_err();
    assert!(err.to_string().contains("needs a Release date"), "{err}");

    let err = Mirrors::from_parts(&["debian=http://127.0.0.1:9/{date}".to_owned()], None, None).unwrap_err();
    assert!(err.to_string().contains("unknown placeholder"), "{err}");
}

#[test]
fn a_missing_mirror_names_the_archive_and_the_fixes() {
    let root = tempfile::tempdir().expect("tmp");
    let m = Mirrors::from_parts(
        &["debian=http://127.0.0.1:1/".to_owned()],
        None,
        Some(root.path()),
    )
    .expect("mirrors");
    let err = m.resolve("debian-security").unwrap_err();
    let text = err.to_string();
    assert!(matches!(err, MirrorError::NoMirror { .. }));
    for needle in [
        "archive `debian-security`",
        "--mirror debian-security=URL",
        "DEBCAST_MIRRORS",
        "apt sources",
    ] {
        assert!(text.contains(needle), "{needle} not in: {text}");
    }
}
