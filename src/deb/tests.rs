use std::io::{Cursor, Read};

use debcast_testkit::deb::{Compression as C, DebBuilder, LongNames, RawEntry, RawKind, ar_archive};

use super::*;
use crate::entry::{Entry, EntryKind};

const LABEL: &str = "t=1.0-1 (amd64) at test.deb";

fn open(bytes: Vec<u8>) -> Result<Deb<Cursor<Vec<u8>>>, DebError> {
    Deb::from_reader(Cursor::new(bytes), LABEL)
}

/// Every entry with its content.
fn collect(deb: &mut Deb<Cursor<Vec<u8>>>) -> Result<Vec<(Entry, Vec<u8>)>, DebError> {
    let mut out = Vec::new();
    deb.visit_data(|e, r| {
        let mut content = Vec::new();
        r.read_to_end(&mut content).map_err(|source| DebError::Io {
            deb: "test callback".into(),
            what: e.path.clone(),
            source,
        })?;
        out.push((e.clone(), content));
        Ok::<(), DebError>(())
    })?;
    Ok(out)
}

fn build_and_collect(b: &DebBuilder) -> Result<Vec<(Entry, Vec<u8>)>, DebError> {
    collect(&mut open(b.build())?)
}

fn entry(path: &str, kind: EntryKind, mode: u32) -> Entry {
    Entry {
        path: path.into(),
        kind,
        mode,
        uid: 0,
        gid: 0,
        uname: "root".into(),
        gname: "root".into(),
        mtime: debcast_testkit::deb::DEFAULT_MTIME,
    }
}

fn dir(path: &str) -> Entry {
    entry(path, EntryKind::Directory, 0o755)
}

/// The error of a hostile data entry: must be an `Entry` error naming the label and the entry.
fn entry_error(b: DebBuilder, entry_name: &str, want: &str) {
    let err = match build_and_collect(&b) {
        Ok(entries) => panic!("accepted hostile entry {entry_name:?}: {entries:?}"),
        Err(e) => e,
    };
    let msg = err.to_string();
    assert!(matches!(err, DebError::Entry { .. }), "{msg}");
    assert!(msg.starts_with(LABEL), "{msg}");
    assert!(msg.contains("data.tar"), "{msg}");
    assert!(msg.contains(entry_name), "{msg}");
    assert!(msg.contains(want), "wanted {want:?} in: {msg}");
}

fn long_path() -> String {
    format!("usr/share/doc/{}/{}", "d".repeat(60), "f".repeat(70))
}

fn sample(data: C, control: C, long: LongNames) -> DebBuilder {
    DebBuilder::new("t", "1.0-1", "amd64")
        .depends("libc6 (>= 2.36)")
        .control_field("Multi-Arch", "foreign")
        .control_field("Replaces", "old-t (<< 1.0)")
        .file("usr/bin/t", b"#!/bin/sh\necho t\n", 0o4755)
        .dir("var/lib/t", 0o2770)
        .owner("var/lib/t", 105, 110, "tuser", "tgroup")
        .symlink("usr/bin/t-link", "t")
        .symlink("usr/lib/abs-link", "/usr/bin/t")
        .hardlink("usr/bin/t-hard", "usr/bin/t")
        .fifo("run/t.fifo")
        .file(&long_path(), vec![7u8; 3000], 0o644)
        .symlink("usr/lib/long-target", &format!("../../{}", long_path()))
        .entry_mtime("usr/bin/t", 1_234_567_890)
        .maintainer_script("postinst", "#!/bin/sh\nset -e\necho configured\n")
        .control_member("conffiles", "/etc/t.conf\n")
        .data_compression(data)
        .control_compression(control)
        .long_names(long)
}

fn expected_sample() -> Vec<(Entry, Vec<u8>)> {
    let lp = long_path();
    let mut t = entry("usr/bin/t", EntryKind::File { size: 17 }, 0o4755);
    t.mtime = 1_234_567_890;
    let mut var_t = entry("var/lib/t", EntryKind::Directory, 0o2770);
    (var_t.uid, var_t.gid, var_t.uname, var_t.gname) = (105, 110, "tuser".into(), "tgroup".into());
    let link = |p: &str, target: &str| {
        entry(
            p,
            EntryKind::Symlink {
                target: target.into(),
            },
            0o777,
        )
    };
    let mut out: Vec<(Entry, Vec<u8>)> = vec![
        (dir("usr"), vec![]),
        (dir("usr/bin"), vec![]),
        (t, b"#!/bin/sh\necho t\n".to_vec()),
        (dir("var"), vec![]),
        (dir("var/lib"), vec![]),
        (var_t, vec![]),
        (link("usr/bin/t-link", "t"), vec![]),
        (dir("usr/lib"), vec![]),
        (link("usr/lib/abs-link", "/usr/bin/t"), vec![]),
        (
            entry(
                "usr/bin/t-hard",
                EntryKind::Hardlink {
                    target: "usr/bin/t".into(),
                },
                0o644,
            ),
            vec![],
        ),
        (dir("run"), vec![]),
        (entry("run/t.fifo", EntryKind::Fifo, 0o644), vec![]),
        (dir("usr/share"), vec![]),
        (dir("usr/share/doc"), vec![]),
    ];
    let long_dir = lp.rsplit_once('/').map(|(d, _)| d.to_owned()).unwrap_or_default();
    out.push((dir(&long_dir), vec![]));
    out.push((entry(&lp, EntryKind::File { size: 3000 }, 0o644), vec![7u8; 3000]));
    out.push((link("usr/lib/long-target", &format!("../../{lp}")), vec![]));
    out
}

#[test]
fn round_trips_every_compression_entry_kind_and_long_name_style() {
    let controls = [C::None, C::Gzip, C::Xz, C::Zstd];
    for (i, data) in C::ALL.into_iter().enumerate() {
        for long in [LongNames::Gnu, LongNames::Pax] {
            let control = controls[(i + (long == LongNames::Pax) as usize) % controls.len()];
            let what = format!("{data:?}/{control:?}/{long:?}");
            let mut deb = open(sample(data, control, long).build()).unwrap_or_else(|e| panic!("{what}: {e}"));
            assert_eq!(
                deb.data_member().0,
                format!("data.tar{}", data.suffix()),
                "{what}"
            );
            let c = deb.control();
            assert_eq!(
                (c.package(), c.version(), c.architecture()),
                ("t", "1.0-1", "amd64")
            );
            assert_eq!(c.multi_arch(), Some("foreign"));
            assert_eq!(c.replaces(), Some("old-t (<< 1.0)"));
            assert_eq!(c.depends(), Some("libc6 (>= 2.36)"));
            assert!(c.description().is_some_and(|d| d.contains("\n .\n")), "{what}");
            let members = &deb.control_archive().members;
            assert_eq!(
                members.keys().map(String::as_str).collect::<Vec<_>>(),
                ["conffiles", "md5sums", "postinst"],
                "{what}"
            );
            assert_eq!(
                deb.control_archive().member("postinst"),
                Some(&b"#!/bin/sh\nset -e\necho configured\n"[..])
            );
            let md5sums = String::from_utf8_lossy(&members["md5sums"]).into_owned();
            assert!(md5sums.contains("  usr/bin/t\n"), "{what}: {md5sums}");

            let got = collect(&mut deb).unwrap_or_else(|e| panic!("{what}: {e}"));
            pretty_assertions::assert_eq!(got, expected_sample(), "{what}");
        }
    }
}

#[test]
fn the_control_paragraph_is_kept_verbatim() {
    let b = sample(C::Gzip, C::Gzip, LongNames::Gnu);
    let deb = open(b.build()).unwrap();
    assert_eq!(deb.control().to_string(), b.control_text());
    let names: Vec<&str> = deb.control().fields().map(|(n, _)| n).collect();
    assert_eq!(names[..3], ["Package", "Version", "Architecture"]);
}

#[test]
fn read_control_only_reads_a_file_on_disk() {
    let dir = tempfile::tempdir().unwrap();
    let b = sample(C::Xz, C::Xz, LongNames::Gnu);
    let path = b.write_to(dir.path()).unwrap();
    let control = read_control_only(&path, "t from disk").unwrap();
    assert_eq!(control.control.package(), "t");
    assert!(control.members.contains_key("conffiles"));
    // And control-then-data on the same open file.
    let mut deb = Deb::open(&path, "t from disk").unwrap();
    let mut paths = Vec::new();
    deb.visit_data(|e, _| {
        paths.push(e.path.clone());
        Ok::<(), DebError>(())
    })
    .unwrap();
    assert_eq!(paths.len(), expected_sample().len());

    let err = Deb::open(&dir.path().join("absent.deb"), "absent=1").unwrap_err();
    assert!(err.to_string().starts_with("absent=1: reading "), "{err}");
}

#[test]
fn pax_headers_override_path_link_size_owner_and_mtime() {
    let b = DebBuilder::new("t", "1", "amd64")
        .long_names(LongNames::Pax)
        .raw_entry(RawEntry::new("./", RawKind::Dir))
        .raw_entry(
            RawEntry::new("./short-name", RawKind::File(b"hello".to_vec()))
                .pax("path", "./opt/real-name")
                .pax("size", "5")
                .pax("uid", "3000000")
                .pax("gid", "3000001")
                .pax("uname", "big")
                .pax("gname", "biggroup")
                .pax("mtime", "1600000000.987654321")
                .pax("atime", "1.5")
                .claimed_size(0),
        )
        .raw_entry(RawEntry::new("./opt/ln", RawKind::Symlink(b"x".to_vec())).pax("linkpath", "real-name"))
        .raw_entry(RawEntry::new("./opt/old", RawKind::File(vec![])).pax("mtime", "-20"));
    let got = build_and_collect(&b).unwrap();
    let (file, content) = &got[0];
    assert_eq!(file.path, "opt/real-name");
    assert_eq!(file.kind, EntryKind::File { size: 5 });
    assert_eq!(content, b"hello");
    assert_eq!((file.uid, file.gid), (3_000_000, 3_000_001));
    assert_eq!((file.uname.as_str(), file.gname.as_str()), ("big", "biggroup"));
    assert_eq!(file.mtime, 1_600_000_000);
    assert_eq!(
        got[1].0.kind,
        EntryKind::Symlink {
            target: "real-name".into()
        }
    );
    assert_eq!(got[2].0.mtime, 0, "times before the epoch clamp to 0");

    let bad = DebBuilder::new("t", "1", "amd64")
        .raw_entry(RawEntry::new("./f", RawKind::File(vec![])).pax("mtime", "yesterday"));
    entry_error(bad, "./f", "PAX mtime");
}

#[test]
fn large_gnu_ids_and_mode_bits_survive() {
    let b = DebBuilder::new("t", "1", "amd64")
        .file("srv/f", b"x", 0o7777)
        .owner("srv/f", 4_000_000_000, 4_000_000_001, "u", "g");
    let got = build_and_collect(&b).unwrap();
    let f = &got[1].0;
    assert_eq!((f.path.as_str(), f.mode), ("srv/f", 0o7777));
    assert_eq!((f.uid, f.gid), (4_000_000_000, 4_000_000_001));
}

#[test]
fn ar_name_quirks_and_underscore_members_are_accepted() {
    let b = sample(C::Zstd, C::Gzip, LongNames::Gnu)
        .gnu_ar_names(true)
        .extra_member("_gpgorigin", b"signature bytes");
    assert_eq!(build_and_collect(&b).unwrap(), expected_sample());

    // BSD ar keeps long names at the start of the content: `#1/<len>`.
    let members = sample(C::Gzip, C::Gzip, LongNames::Gnu).members();
    let mut bsd_binary = b"debian-binary".to_vec();
    bsd_binary.extend_from_slice(&members[0].1);
    let bytes = ar_archive(&[
        ("#1/13", &bsd_binary),
        (&members[1].0, &members[1].1),
        (&members[2].0, &members[2].1),
    ]);
    assert_eq!(collect(&mut open(bytes).unwrap()).unwrap(), expected_sample());
}

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

#[derive(Debug)]
enum CallerError {
    #[allow(dead_code)] // read through Debug in assertion messages
    Deb(DebError),
    Stop(String),
}

impl From<DebError> for CallerError {
    fn from(e: DebError) -> Self {
        CallerError::Deb(e)
    }
}

#[test]
fn callback_errors_pass_through_and_unread_content_is_skipped() {
    let b = DebBuilder::new("t", "1", "amd64")
        .file("a", vec![1u8; 5000], 0o644)
        .file("b", b"bee", 0o644);
    let mut deb = open(b.build()).unwrap();
    let mut seen = Vec::new();
    // Reads nothing of `a`, all of `b`.
    deb.visit_data(|e, r| {
        let mut s = String::new();
        if e.path == "b" {
            r.read_to_string(&mut s)
                .map_err(|e| CallerError::Stop(e.to_string()))?;
        }
        seen.push((e.path.clone(), s));
        Ok::<(), CallerError>(())
    })
    .unwrap();
    assert_eq!(
        seen,
        [
            ("a".to_owned(), String::new()),
            ("b".to_owned(), "bee".to_owned())
        ]
    );

    // Visiting again works (the data member is found by offset) and a callback error stops it.
    let mut calls = 0;
    let r = deb.visit_data(|e, _| {
        calls += 1;
        if e.path == "a" {
            return Err(CallerError::Stop(format!("stop at {}", e.path)));
        }
        Ok(())
    });
    assert!(
        matches!(r, Err(CallerError::Stop(ref s)) if s == "stop at a"),
        "{r:?}"
    );
    assert_eq!(calls, 1);
}

/// Real packages, when the host has some cached (tests never download). Set `DEBCAST_TEST_DEBS`
/// to a directory of `.deb` files to use others.
#[test]
fn reads_real_debs_from_the_host_cache() {
    let mut dirs = vec![std::path::PathBuf::from("/var/cache/apt/archives")];
    if let Some(d) = std::env::var_os("DEBCAST_TEST_DEBS") {
        dirs.insert(0, d.into());
    }
    let mut debs: Vec<std::path::PathBuf> = dirs
        .iter()
        .filter_map(|d| std::fs::read_dir(d).ok())
        .flatten()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "deb"))
        .collect();
    debs.sort();
    debs.truncate(20);
    if debs.is_empty() {
        eprintln!("note: no .deb files in {dirs:?}; skipping the real-package check");
        return;
    }
    for path in debs {
        let label = path.display().to_string();
        let mut deb = Deb::open(&path, label.clone()).unwrap_or_else(|e| panic!("{e}"));
        let file_name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        assert!(
            file_name.starts_with(&format!("{}_", deb.control().package())),
            "{label}: control says {}",
            deb.control().package()
        );
        let mut ours: Vec<(String, Option<u64>)> = Vec::new();
        let mut bytes = 0u64;
        deb.visit_data(|e, r| {
            let n = std::io::copy(r, &mut std::io::sink()).map_err(|source| DebError::Io {
                deb: label.clone(),
                what: e.path.clone(),
                source,
            })?;
            bytes += n;
            let size = matches!(e.kind, EntryKind::File { .. }).then_some(n);
            ours.push((e.path.clone(), size));
            Ok::<(), DebError>(())
        })
        .unwrap_or_else(|e| panic!("{e}"));
        assert!(!ours.is_empty(), "{label}: no entries");
        let installed = deb.control().installed_size().unwrap_or(0) * 1024;
        assert!(
            bytes <= installed + 1024 * ours.len() as u64,
            "{label}: {bytes} bytes vs Installed-Size"
        );
        eprintln!("{label}: {} entries, {bytes} bytes", ours.len());

        // dpkg-deb is the oracle for what the data tar holds, where it is installed.
        let Ok(out) = std::process::Command::new("dpkg-deb")
            .arg("--fsys-tarfile")
            .arg(&path)
            .output()
        else {
            eprintln!("note: dpkg-deb not runnable; {label} checked without an oracle");
            continue;
        };
        assert!(out.status.success(), "{label}: dpkg-deb failed");
        let mut theirs: Vec<(String, Option<u64>)> = Vec::new();
        let mut tar = tar::Archive::new(out.stdout.as_slice());
        for entry in tar.entries().unwrap() {
            let entry = entry.unwrap();
            let raw = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
            if let Some(p) = crate::entry::normalize_path(&raw) {
                let size = entry.header().entry_type().is_file().then(|| entry.size());
                theirs.push((p, size));
            }
        }
        assert_eq!(ours, theirs, "{label}: entries differ from dpkg-deb's");

        // The paragraph written back is the packaged control file, byte for byte.
        let raw_control = std::process::Command::new("dpkg-deb")
            .arg("--info")
            .arg(&path)
            .arg("control")
            .output()
            .unwrap();
        assert_eq!(
            deb.control().to_string(),
            String::from_utf8_lossy(&raw_control.stdout),
            "{label}: control paragraph"
        );
    }
}

#[test]
fn legacy_lzma_data_members_are_read() {
    use std::io::Write;
    let b = sample(C::Gzip, C::Gzip, LongNames::Gnu);
    let members = b.members();
    let options = liblzma::stream::LzmaOptions::new_preset(6).unwrap();
    let stream = liblzma::stream::Stream::new_lzma_encoder(&options).unwrap();
    let mut enc = liblzma::write::XzEncoder::new_stream(Vec::new(), stream);
    enc.write_all(&b.data_tar()).unwrap();
    let lzma = enc.finish().unwrap();
    let bytes = ar_archive(&[
        (&members[0].0, &members[0].1),
        (&members[1].0, &members[1].1),
        ("data.tar.lzma", &lzma),
    ]);
    let mut deb = open(bytes).unwrap();
    assert_eq!(deb.data_member(), ("data.tar.lzma", Compression::Lzma));
    assert_eq!(collect(&mut deb).unwrap(), expected_sample());
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
