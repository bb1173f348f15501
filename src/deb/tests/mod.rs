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
        xattrs: Default::default(),
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

mod hostile;
