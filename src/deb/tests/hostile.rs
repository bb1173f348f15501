//! Hostile and broken input: every refusal names the package, the member or the entry and what
//! was expected.

use super::*;

#[test]
fn hostile_paths_are_rejected_naming_the_entry() {
    let base = || DebBuilder::new("t", "1", "amd64").file("usr/bin/ok", b"ok", 0o755);
    let file = |p: &str| RawEntry::new(p, RawKind::File(b"evil".to_vec()));
    entry_error(
        base().raw_entry(file("../etc/passwd")),
        "../etc/passwd",
        "`..` component",
    );
    entry_error(
        base().raw_entry(file("./usr/../../x")),
        "./usr/../../x",
        "`..` component",
    );
    entry_error(
        base().raw_entry(file("/etc/shadow")),
        "/etc/shadow",
        "absolute path",
    );
    entry_error(
        base().raw_entry(file("./")),
        "./",
        "root of the archive must be a directory",
    );
    // A long (GNU `L`) hostile name is checked like a short one.
    let long = format!("./{}/../../../etc/x", "a".repeat(120));
    entry_error(base().raw_entry(file(&long)), &long, "`..` component");
    // So is one smuggled in by a PAX `path` record.
    entry_error(
        base().raw_entry(file("./innocent").pax("path", "../../escape")),
        "../../escape",
        "`..` component",
    );
}

#[test]
fn escaping_symlinks_are_rejected_and_others_kept() {
    let base = || DebBuilder::new("t", "1", "amd64").file("usr/bin/ok", b"ok", 0o755);
    let link = |p: &str, t: &str| RawEntry::new(p, RawKind::Symlink(t.as_bytes().to_vec()));
    entry_error(
        base().raw_entry(link("./usr/bin/evil", "../../../etc/shadow")),
        "./usr/bin/evil",
        "climbs out",
    );
    entry_error(base().raw_entry(link("./top", "..")), "./top", "climbs out");
    entry_error(
        base().raw_entry(link("./usr/x", "a/../../..")),
        "./usr/x",
        "climbs out",
    );
    entry_error(base().raw_entry(link("./usr/x", "")), "./usr/x", "empty target");

    let ok = base()
        .symlink("usr/bin/up", "../../etc/alternatives/x")
        .symlink("usr/bin/abs", "/etc/../../alternatives/x")
        .symlink("usr/bin/down", "./a/../b");
    let got = build_and_collect(&ok).unwrap();
    let targets: Vec<_> = got
        .iter()
        .filter_map(|(e, _)| match &e.kind {
            EntryKind::Symlink { target } => Some(target.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(
        targets,
        [
            "../../etc/alternatives/x",
            "/etc/../../alternatives/x",
            "./a/../b"
        ]
    );
}

#[test]
fn hard_links_must_point_to_an_earlier_file() {
    let base = || {
        DebBuilder::new("t", "1", "amd64")
            .file("usr/bin/ok", b"ok", 0o755)
            .dir("usr/share", 0o755)
    };
    let hard = |p: &str, t: &str| RawEntry::new(p, RawKind::Hardlink(t.as_bytes().to_vec()));
    entry_error(
        base().raw_entry(hard("./usr/bin/h", "./usr/bin/missing")),
        "./usr/bin/h",
        "not an earlier",
    );
    entry_error(
        base().raw_entry(hard("./usr/bin/h", "./usr/share")),
        "./usr/bin/h",
        "not an earlier",
    );
    entry_error(
        base().raw_entry(hard("./usr/bin/h", "/etc/passwd")),
        "./usr/bin/h",
        "absolute path",
    );
    entry_error(
        base().raw_entry(hard("./usr/bin/h", "../etc/passwd")),
        "./usr/bin/h",
        "`..` component",
    );
    // A link to a later entry is as bad as one to a missing entry: dpkg extracts in order.
    let later = base()
        .raw_entry(hard("./usr/bin/h", "./usr/bin/later"))
        .raw_entry(RawEntry::new("./usr/bin/later", RawKind::File(b"x".to_vec())));
    entry_error(later, "./usr/bin/h", "not an earlier");
    // A link to a link is fine.
    let chain = base()
        .hardlink("usr/bin/h1", "usr/bin/ok")
        .hardlink("usr/bin/h2", "usr/bin/h1");
    let got = build_and_collect(&chain).unwrap();
    let links: Vec<(&str, &EntryKind)> = got[got.len() - 2..]
        .iter()
        .map(|(e, _)| (e.path.as_str(), &e.kind))
        .collect();
    assert_eq!(
        links,
        [
            (
                "usr/bin/h1",
                &EntryKind::Hardlink {
                    target: "usr/bin/ok".into()
                }
            ),
            (
                "usr/bin/h2",
                &EntryKind::Hardlink {
                    target: "usr/bin/h1".into()
                }
            ),
        ]
    );
}

#[test]
fn device_nodes_and_unknown_types_are_rejected() {
    let base = || DebBuilder::new("t", "1", "amd64").dir("dev", 0o755);
    entry_error(
        base().raw_entry(RawEntry::new(
            "./dev/sda",
            RawKind::BlockDevice { major: 8, minor: 0 },
        )),
        "./dev/sda",
        "block device node",
    );
    entry_error(
        base().raw_entry(RawEntry::new(
            "./dev/null",
            RawKind::CharDevice { major: 1, minor: 3 },
        )),
        "./dev/null",
        "character device node",
    );
    entry_error(
        base().raw_entry(RawEntry::new("./dev/vol", RawKind::Typeflag(b'V', vec![]))),
        "./dev/vol",
        "unsupported tar entry type 'V'",
    );
}

#[test]
fn decompression_bombs_are_refused() {
    // The cap follows Installed-Size, with a 64 MiB floor.
    let big = DebBuilder::new("t", "1", "amd64").control_field("Installed-Size", "1000000");
    assert_eq!(open(big.build()).unwrap().data_cap(), 2 * 1_000_000 * 1024);
    let small = DebBuilder::new("t", "1", "amd64").control_field("Installed-Size", "1");
    assert_eq!(open(small.build()).unwrap().data_cap(), MIN_DATA_CAP);

    // Regular files totalling more than the cap: refused at the entry that crosses it.
    let b = DebBuilder::new("t", "1", "amd64")
        .file("a", vec![0u8; 3000], 0o644)
        .file("b", vec![0u8; 3000], 0o644);
    let mut deb = open(b.build()).unwrap();
    deb.set_data_cap(5000);
    let err = collect(&mut deb).unwrap_err();
    assert!(matches!(err, DebError::TooLarge { .. }), "{err}");
    assert!(err.to_string().contains("entry \"./b\""), "{err}");

    // An entry claiming an absurd size is refused before anything is read.
    let b = DebBuilder::new("t", "1", "amd64")
        .raw_entry(RawEntry::new("./huge", RawKind::File(b"tiny".to_vec())).claimed_size(1 << 40));
    let err = build_and_collect(&b).unwrap_err();
    assert!(matches!(err, DebError::TooLarge { .. }), "{err}");
    assert!(err.to_string().contains("./huge"), "{err}");

    // Metadata (here a 20 KiB GNU long name) counts against the stream cap too.
    let long = format!("./{}", "n".repeat(20_000));
    let b = DebBuilder::new("t", "1", "amd64").raw_entry(RawEntry::new(&long, RawKind::File(vec![])));
    let mut deb = open(b.build()).unwrap();
    deb.set_data_cap(4096);
    let err = collect(&mut deb).unwrap_err();
    assert!(matches!(err, DebError::TooLarge { .. }), "{err}");
}

#[test]
fn capped_reader_fails_past_its_cap_and_not_at_it() {
    let mut exact = compression::Capped::new(&[1u8; 10][..], 10);
    let mut buf = Vec::new();
    assert_eq!(exact.read_to_end(&mut buf).unwrap(), 10);
    let mut over = compression::Capped::new(&[1u8; 11][..], 10);
    let err = over.read_to_end(&mut Vec::new()).unwrap_err();
    assert_eq!(compression::cap_exceeded(&err), Some(10));
}

#[test]
fn container_errors_name_the_package_and_what_was_expected() {
    let good = sample(C::Gzip, C::Gzip, LongNames::Gnu);
    let members = good.members();
    let m = |i: usize| (members[i].0.as_str(), members[i].1.as_slice());
    let cases: Vec<(Vec<u8>, &str)> = vec![
        (b"PK\x03\x04 not an ar archive".to_vec(), "expected an ar archive"),
        (b"!<ar".to_vec(), "expected an ar archive"),
        (b"!<arch>\n".to_vec(), "empty ar archive"),
        (ar_archive(&[m(0), m(1)]), "no data.tar* member"),
        (ar_archive(&[m(0)]), "no control.tar* member"),
        (ar_archive(&[m(1), m(0), m(2)]), "expected debian-binary"),
        (ar_archive(&[m(0), m(2), m(1)]), "comes before any control.tar*"),
        (
            ar_archive(&[m(0), ("extra", b"x"), m(1), m(2)]),
            "unexpected member \"extra\"",
        ),
        (ar_archive(&[m(0), m(1), m(1), m(2)]), "second control member"),
        (
            ar_archive(&[m(0), m(1), ("data.tar.lz4", b"x")]),
            "unsupported compression suffix \".lz4\"",
        ),
        (
            ar_archive(&[m(0), ("control.tar.bz2", b"x"), m(2)]),
            "unsupported compression suffix \".bz2\"",
        ),
        (
            ar_archive(&[("debian-binary", b"3.0\n"), m(1), m(2)]),
            "expected format version 2.x",
        ),
        (
            ar_archive(&[("debian-binary", b"2.\n"), m(1), m(2)]),
            "expected format version 2.x",
        ),
    ];
    for (bytes, want) in cases {
        let err = open(bytes).unwrap_err();
        let msg = err.to_string();
        assert!(msg.starts_with(LABEL), "{msg}");
        assert!(msg.contains(want), "wanted {want:?} in: {msg}");
    }
    // 2.x with any minor is fine.
    let ok = ar_archive(&[("debian-binary", b"2.1\n"), m(1), m(2)]);
    assert!(open(ok).is_ok());
}

#[test]
fn truncated_and_corrupt_archives_say_where() {
    let good = sample(C::Gzip, C::Xz, LongNames::Gnu).build();

    // Cut inside the file: the ar layer notices before decompressing anything.
    // (`len - 2`: the last byte may be the ar padding byte, whose absence at the end is tolerated.)
    for cut in [20, 70, good.len() / 2, good.len() - 2] {
        let err = open(good[..cut].to_vec()).unwrap_err();
        assert!(matches!(err, DebError::Ar { .. }), "cut at {cut}: {err}");
        assert!(err.to_string().contains("truncated"), "cut at {cut}: {err}");
    }

    // A compressed data member cut short inside a consistent ar container.
    let b = sample(C::Gzip, C::Gzip, LongNames::Gnu);
    let members = b.members();
    let data = &members[2].1;
    let cut_data = &data[..data.len() / 2];
    let bytes = ar_archive(&[
        (&members[0].0, &members[0].1),
        (&members[1].0, &members[1].1),
        (&members[2].0, cut_data),
    ]);
    let err = collect(&mut open(bytes).unwrap()).unwrap_err();
    let msg = err.to_string();
    assert!(msg.starts_with(LABEL) && msg.contains("data.tar.gz"), "{msg}");

    // A bad gzip CRC at the very end is still caught: the stream is read to its end.
    let mut bad_crc = data.clone();
    let at = bad_crc.len() - 6;
    bad_crc[at] ^= 0xff;
    let bytes = ar_archive(&[
        (&members[0].0, &members[0].1),
        (&members[1].0, &members[1].1),
        (&members[2].0, &bad_crc),
    ]);
    let err = collect(&mut open(bytes).unwrap()).unwrap_err();
    assert!(matches!(err, DebError::Corrupt { .. }), "{err}");
    assert!(err.to_string().contains("data.tar.gz"), "{err}");

    // An uncompressed tar cut in the middle of a file's content: the read names the entry.
    let b = DebBuilder::new("t", "1", "amd64")
        .file("usr/big", vec![9u8; 5000], 0o644)
        .data_compression(C::None);
    let members = b.members();
    let tar = &members[2].1;
    let cut_tar = &tar[..512 * 4 + 1000];
    let bytes = ar_archive(&[
        (&members[0].0, &members[0].1),
        (&members[1].0, &members[1].1),
        (&members[2].0, cut_tar),
    ]);
    let err = collect(&mut open(bytes).unwrap()).unwrap_err();
    assert!(
        err.to_string()
            .contains("data.tar: entry \"./usr/big\": truncated"),
        "{err}"
    );

    // A corrupt tar header checksum.
    let mut bad_tar = tar.clone();
    bad_tar[512 + 10] ^= 0x20;
    let bytes = ar_archive(&[
        (&members[0].0, &members[0].1),
        (&members[1].0, &members[1].1),
        (&members[2].0, &bad_tar),
    ]);
    let err = collect(&mut open(bytes).unwrap()).unwrap_err();
    assert!(err.to_string().contains("after entry \"./\""), "{err}");
    assert!(err.to_string().contains("checksum"), "{err}");
}

#[test]
fn control_area_errors_name_the_member() {
    let err = open(
        DebBuilder::new("t", "1", "amd64")
            .remove_control_field("Version")
            .build(),
    )
    .unwrap_err();
    assert!(matches!(err, DebError::Control { .. }), "{err}");
    let msg = err.to_string();
    assert!(msg.starts_with(LABEL) && msg.contains("control.tar.xz"), "{msg}");
    assert!(msg.contains("missing required field Version"), "{msg}");

    let err = open(
        DebBuilder::new("t", "1", "amd64")
            .control_member("control", "Package: t\nVersion 1\n")
            .build(),
    )
    .unwrap_err();
    assert!(err.to_string().contains("line 2"), "{err}");

    let err = open(
        DebBuilder::new("t", "1", "amd64")
            .control_member("control", b"Package: t\xff\nVersion: 1\nArchitecture: all\n")
            .build(),
    )
    .unwrap_err();
    assert!(err.to_string().contains("not UTF-8"), "{err}");

    // A control tar without ./control.
    let b = DebBuilder::new("t", "1", "amd64");
    let members = b.members();
    let mut tar = tar::Builder::new(Vec::new());
    let mut h = tar::Header::new_gnu();
    h.set_path("./postinst").unwrap();
    h.set_size(0);
    h.set_cksum();
    tar.append(&h, &[][..]).unwrap();
    let control = tar.into_inner().unwrap();
    let bytes = ar_archive(&[
        (&members[0].0, &members[0].1),
        ("control.tar", &control),
        (&members[2].0, &members[2].1),
    ]);
    let err = open(bytes).unwrap_err();
    assert!(
        err.to_string().contains("control.tar has no ./control file"),
        "{err}"
    );
}

#[test]
fn paths_and_names_too_long_for_a_filesystem_are_refused() {
    let base = || DebBuilder::new("t", "1", "amd64").file("usr/bin/ok", b"ok", 0o755);
    let file = |p: &str| RawEntry::new(p, RawKind::File(b"x".to_vec()));
    // 20,000 directories deep: refused at once, and the message shows only the start of it.
    let deep = format!("./{}f", "a/".repeat(20_000));
    let err = build_and_collect(&base().raw_entry(file(&deep))).unwrap_err();
    let msg = err.to_string();
    assert!(matches!(err, DebError::Entry { .. }), "{msg}");
    assert!(msg.starts_with(LABEL) && msg.contains("data.tar"), "{msg}");
    assert!(msg.contains("./a/a/a/"), "{msg}");
    assert!(
        msg.contains("is 40001 bytes long; paths may have at most 4096"),
        "{msg}"
    );
    assert!(msg.contains(&format!("({} bytes)", deep.len())), "{msg}");
    assert!(
        msg.len() < 1000,
        "the message repeats the whole path: {} bytes",
        msg.len()
    );
    // Just over the limit, and through a PAX `path` record too.
    let over = format!("{}/f", "d".repeat(4095));
    entry_error(base().raw_entry(file(&over)), "dddd", "4097 bytes long");
    entry_error(
        base().raw_entry(file("./innocent").pax("path", &over)),
        "dddd",
        "4097 bytes long",
    );
    // One component over NAME_MAX.
    let name = format!("usr/{}", "n".repeat(256));
    entry_error(
        base().raw_entry(file(&name)),
        "usr/nnn",
        "a component of 256 bytes",
    );
    // A hard link's target and a symlink's target are bounded the same way.
    let hard = RawEntry::new("./usr/h", RawKind::Hardlink(over.clone().into_bytes()));
    entry_error(base().raw_entry(hard), "./usr/h", "4097 bytes long");
    let sym = RawEntry::new("./usr/s", RawKind::Symlink("x/".repeat(2100).into_bytes()));
    entry_error(
        base().raw_entry(sym),
        "./usr/s",
        "symlink target is 4200 bytes long",
    );
    // Exactly at the limits is fine.
    let at = format!(
        "{}{}/f",
        format!("{}/", "d".repeat(255)).repeat(15),
        "e".repeat(254)
    );
    assert_eq!(at.len(), 4096);
    let entries = build_and_collect(&base().raw_entry(file(&at))).unwrap();
    assert!(entries.iter().any(|(e, _)| e.path == at));
}

#[test]
fn deep_legal_paths_are_read_in_linear_time() {
    // 2000 levels of one-byte names (a 4001-byte path), none of them listed, and many files in
    // the deepest directory: each entry costs a walk up to its nearest known parent only.
    let dir = "a/".repeat(2000);
    let mut b = DebBuilder::new("t", "1", "amd64");
    for i in 0..200 {
        let name = format!("./{dir}{:x}", i % 16);
        b = b.raw_entry(RawEntry::new(name, RawKind::File(vec![b'x'; i])));
    }
    // The names repeat; that only makes later entries replace earlier ones in the tree.
    let entries = build_and_collect(&b).unwrap();
    assert_eq!(entries.len(), 200);
    assert_eq!(entries[0].0.path.len(), 4001);
}

#[test]
fn unlisted_parent_directories_count_against_the_stream_cap() {
    // Each file in a fresh 1000-deep chain of directories the archive never lists: together
    // their paths would cost far more than the archive itself.
    let mut b = DebBuilder::new("t", "1", "amd64").data_compression(C::Xz);
    for i in 0..50 {
        let name = format!("./{i}/{}f", "a/".repeat(1000));
        b = b.raw_entry(RawEntry::new(name, RawKind::File(b"x".to_vec())));
    }
    let mut deb = open(b.build()).unwrap();
    deb.set_data_cap(2 << 20);
    let err = collect(&mut deb).unwrap_err();
    let msg = err.to_string();
    assert!(matches!(err, DebError::TooLarge { .. }), "{msg}");
    assert!(
        msg.contains("parent directories the archive does not list") && msg.contains("limit 4194304"),
        "{msg}"
    );
    // The same archive with a cap its unlisted directories fit in is read.
    let mut deb = open(b.build()).unwrap();
    deb.set_data_cap(64 << 20);
    assert_eq!(collect(&mut deb).unwrap().len(), 50);
}

#[test]
fn tar_header_errors_escape_what_the_header_holds() {
    let b = DebBuilder::new("t", "1", "amd64")
        .data_compression(C::None)
        .raw_entry(RawEntry::new("./evil\x1b[31mname", RawKind::File(b"x".to_vec())));
    let mut bytes = b.build();
    let at = bytes
        .windows(15)
        .position(|w| w == b"./evil\x1b[31mname")
        .unwrap();
    // The checksum field (8 bytes at offset 148 of the header) holds an escape sequence.
    bytes[at + 148..at + 156].copy_from_slice(b"\x1b[31m\0\0\0");
    let msg = collect(&mut open(bytes).unwrap()).unwrap_err().to_string();
    assert!(msg.contains("cksum"), "{msg}");
    assert!(
        !msg.contains('\x1b'),
        "an escape sequence reached the message: {msg:?}"
    );
    assert!(msg.contains("\\u{1b}[31m"), "{msg}");
}

#[test]
fn control_fields_in_messages_are_escaped() {
    let b = DebBuilder::new("t", "1", "amd64").control_field("Installed-Size", "\x1b[31m12");
    let msg = open(b.build()).unwrap_err().to_string();
    assert!(msg.contains("Installed-Size"), "{msg}");
    assert!(
        !msg.contains('\x1b'),
        "an escape sequence reached the message: {msg:?}"
    );
    assert!(msg.contains("\\u{1b}[31m12"), "{msg}");
}
