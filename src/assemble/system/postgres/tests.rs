use super::super::testutil::{MemTree, have, host_tool};
use super::*;

fn postgresql_common() -> Vec<InstalledPackage> {
    vec![InstalledPackage {
        name: "postgresql-common".into(),
        ..InstalledPackage::default()
    }]
}

/// A server of version 15 with its tsearch_data directory, and pg_updatedicts.
fn server() -> MemTree {
    let mut t = MemTree::new();
    t.file("usr/sbin/pg_updatedicts", b"#!/usr/bin/perl\n")
        .file("usr/lib/postgresql/15/bin/postgres", b"\x7fELF")
        .mode("usr/lib/postgresql/15/bin/postgres", 0o755)
        .dir("usr/share/postgresql/15/tsearch_data")
        // Not a server: no bin/postgres.
        .dir("usr/lib/postgresql/16/lib")
        .dir("usr/share/postgresql/16/tsearch_data");
    t
}

fn paths(c: &Changes) -> Vec<(String, String)> {
    c.files
        .iter()
        .map(|(e, data)| {
            let what = match &e.kind {
                crate::entry::EntryKind::Symlink { target } => format!("-> {target}"),
                crate::entry::EntryKind::Directory => format!("dir {:o}", e.mode),
                _ => format!("{:o} {}", e.mode, String::from_utf8_lossy(data)),
            };
            (e.path.clone(), what)
        })
        .collect()
}

#[test]
fn dictionaries_are_converted_to_utf8_and_linked_for_each_server() {
    let mut t = server();
    t.file(
        "usr/share/hunspell/en_US.aff",
        b"SET UTF-8\nTRY esianrtolcdugmphbyfvkwzESIANRTOLCDUGMPHBYFVKWZ'\n",
    )
    .file("usr/share/hunspell/en_US.dic", b"2\nhello\nworld\n")
    // Latin-1 bytes: a-umlaut in the affix, sharp s in the words.
    .file(
        "usr/share/myspell/dicts/de_DE.aff",
        b"# comment\nSET ISO8859-1  \nTRY \xe4\n",
    )
    .file("usr/share/myspell/dicts/de_DE.dic", b"1\nStra\xdfe\n")
    // No .dic beside it, or a link: pg_updatedicts passes them by.
    .file("usr/share/hunspell/xx_XX.aff", b"SET UTF-8\n")
    .symlink("usr/share/hunspell/en_GB.aff", "en_US.aff")
    .file("usr/share/hunspell/en_GB.dic", b"1\ncolour\n");
    let (out, report) = compute(&t, &postgresql_common()).expect("compute");
    assert!(report.is_empty(), "{report:?}");
    let got = paths(&out);
    let want = [
        ("var/cache/postgresql", "dir 755".to_owned()),
        ("var/cache/postgresql/dicts", "dir 755".to_owned()),
        (
            "var/cache/postgresql/dicts/en_us.affix",
            "644 SET UTF-8\nTRY esianrtolcdugmphbyfvkwzESIANRTOLCDUGMPHBYFVKWZ'\n".to_owned(),
        ),
        (
            "var/cache/postgresql/dicts/en_us.dict",
            "644 2\nhello\nworld\n".to_owned(),
        ),
        (
            "var/cache/postgresql/dicts/de_de.affix",
            "644 # comment\nSET ISO8859-1  \nTRY ä\n".to_owned(),
        ),
        (
            "var/cache/postgresql/dicts/de_de.dict",
            "644 1\nStraße\n".to_owned(),
        ),
        (
            "usr/share/postgresql/15/tsearch_data/en_us.affix",
            "-> /var/cache/postgresql/dicts/en_us.affix".to_owned(),
        ),
        (
            "usr/share/postgresql/15/tsearch_data/en_us.dict",
            "-> /var/cache/postgresql/dicts/en_us.dict".to_owned(),
        ),
        (
            "usr/share/postgresql/15/tsearch_data/de_de.affix",
            "-> /var/cache/postgresql/dicts/de_de.affix".to_owned(),
        ),
        (
            "usr/share/postgresql/15/tsearch_data/de_de.dict",
            "-> /var/cache/postgresql/dicts/de_de.dict".to_owned(),
        ),
    ];
    let mut got_sorted = got.clone();
    got_sorted.sort();
    let mut want: Vec<(String, String)> = want.iter().map(|(p, w)| (p.to_string(), w.clone())).collect();
    want.sort();
    assert_eq!(got_sorted, want);
}

#[test]
fn an_encoding_not_converted_is_listed_and_that_dictionary_left_out() {
    let mut t = server();
    t.file("usr/share/hunspell/ru_RU.aff", b"SET KOI8-R\n")
        .file("usr/share/hunspell/ru_RU.dic", b"1\n\xc1\n")
        .file("usr/share/hunspell/bad_UTF.aff", b"SET UTF-8\n")
        .file("usr/share/hunspell/bad_UTF.dic", b"1\n\xff\n");
    let (out, report) = compute(&t, &postgresql_common()).expect("compute");
    let got = paths(&out);
    assert!(
        got.iter()
            .all(|(p, _)| !p.contains("ru_ru") && !p.contains("bad_utf")),
        "{got:?}"
    );
    let listed: Vec<&str> = report.iter().map(|e| e.what.as_str()).collect();
    assert!(
        listed
            .iter()
            .any(|w| w.contains("/usr/share/hunspell/ru_RU.aff") && w.contains("KOI8-R")),
        "{listed:?}"
    );
    assert!(
        listed
            .iter()
            .any(|w| w.contains("bad_UTF.dic") && w.contains("not UTF-8")),
        "{listed:?}"
    );
}

#[test]
fn without_dictionaries_it_makes_the_cache_directory_and_removes_what_is_stale() {
    let (out, _) = compute(&server(), &postgresql_common()).expect("compute");
    assert_eq!(
        paths(&out),
        [
            ("var/cache/postgresql".to_owned(), "dir 755".to_owned()),
            ("var/cache/postgresql/dicts".to_owned(), "dir 755".to_owned())
        ]
    );
    // A cache and links left from a dictionary no longer installed; a packaged file stays.
    let mut t = server();
    t.file("var/cache/postgresql/dicts/fr_fr.dict", b"x")
        .symlink(
            "usr/share/postgresql/15/tsearch_data/fr_fr.dict",
            "/var/cache/postgresql/dicts/fr_fr.dict",
        )
        .file("usr/share/postgresql/15/tsearch_data/english.dict", b"packaged");
    let (out, _) = compute(&t, &postgresql_common()).expect("compute");
    let mut removed = out.removed.clone();
    removed.sort();
    assert_eq!(
        removed,
        [
            "usr/share/postgresql/15/tsearch_data/fr_fr.dict",
            "var/cache/postgresql/dicts/fr_fr.dict"
        ]
    );
    // Without postgresql-common nothing runs it.
    let (out, _) = compute(&t, &[]).expect("compute");
    assert!(out.files.is_empty() && out.removed.is_empty());
}

/// The conversions agree with the host's iconv, byte for byte, over every byte value.
#[test]
fn conversions_match_iconv() {
    if !have("iconv") {
        eprintln!("iconv not on this host: conversion not cross-checked");
        return;
    }
    let all: Vec<u8> = (1..=255).collect();
    for encoding in ["ISO8859-1", "ISO8859-15", "UTF-8"] {
        let input: Vec<u8> = if encoding == "UTF-8" {
            "plain and ünïcödé €\n".as_bytes().to_vec()
        } else {
            all.clone()
        };
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("in");
        std::fs::write(&file, &input).expect("write");
        let iconv = host_tool("iconv").expect("iconv");
        let out = std::process::Command::new(iconv)
            .args(["-f", encoding, "-t", "UTF-8"])
            .arg(&file)
            .output()
            .expect("iconv runs");
        assert!(
            out.status.success(),
            "{encoding}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(
            to_utf8(&input, encoding).expect("converts"),
            out.stdout,
            "{encoding}"
        );
    }
}

#[test]
fn the_encoding_is_the_first_set_line() {
    assert_eq!(
        declared_encoding(b"# x\nSET ISO8859-15\nSET UTF-8\n").as_deref(),
        Some("ISO8859-15")
    );
    assert_eq!(declared_encoding(b"SET UTF-8\r\n").as_deref(), Some("UTF-8"));
    assert_eq!(declared_encoding(b" SET UTF-8\nSETX\nSET a b\n"), None);
}

#[test]
fn the_cluster_pg_createcluster_would_make() {
    let args = |a: &[&str]| a.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    assert_eq!(
        cluster_config(&args(&["-u", "postgres", "--no-status", "15", "main"])).as_deref(),
        Some("/etc/postgresql/15/main/postgresql.conf")
    );
    assert_eq!(
        cluster_config(&args(&[
            "--port",
            "5433",
            "9.6",
            "other",
            "--",
            "--data-checksums"
        ]))
        .as_deref(),
        Some("/etc/postgresql/9.6/other/postgresql.conf")
    );
    assert_eq!(cluster_config(&args(&["main"])), None);
    // The server log made with the cluster: the default name, or the one given.
    assert_eq!(
        cluster_log(&args(&["-u", "postgres", "--no-status", "15", "main"])).as_deref(),
        Some("/var/log/postgresql/postgresql-15-main.log")
    );
    assert_eq!(
        cluster_log(&args(&["--logfile=/srv/pg.log", "15", "main"])).as_deref(),
        Some("/srv/pg.log")
    );
    assert_eq!(
        cluster_log(&args(&["-l", "/srv/l.log", "15"])).as_deref(),
        Some("/srv/l.log")
    );
    assert_eq!(cluster_log(&args(&["main"])), None);
    assert_eq!(cluster_config(&args(&["15", "../x"])), None);
}

#[test]
fn pg_lsclusters_answers_for_an_image_without_clusters() {
    let h = vec!["-h".to_owned()];
    let pending = [
        "/etc/postgresql/15/main/postgresql.conf".to_owned(),
        "/etc/ssl/x.pem".to_owned(),
    ];
    assert_eq!(
        lsclusters_output(&MemTree::new(), &h, &pending),
        Some(vec!["15/main".to_owned()])
    );
    assert_eq!(lsclusters_output(&MemTree::new(), &h, &[]), Some(Vec::new()));
    // The header form, and an image with a cluster: not computed.
    assert_eq!(lsclusters_output(&MemTree::new(), &[], &[]), None);
    let mut t = MemTree::new();
    t.file("etc/postgresql/15/main/postgresql.conf", b"port = 5432\n");
    assert_eq!(lsclusters_output(&t, &h, &[]), None);
}
