//! Tests of the oci module as a whole: exact tar headers, determinism, and layouts judged by the
//! OCI schemas and the real clients (skopeo, umoci) through the testkit.

use std::collections::BTreeMap;
use std::fs;
use std::io::{self, Read};
use std::path::Path;

use debcast_testkit::oci as check;

use super::*;
use crate::entry::{Entry, EntryKind};
use crate::manifest::ImageConfig;
use crate::platform::Platform;

const SDE: u64 = 1_700_000_000;

fn entry(path: &str, kind: EntryKind, mode: u32) -> Entry {
    Entry {
        path: path.into(),
        kind,
        mode,
        uid: 0,
        gid: 0,
        uname: "root".into(),
        gname: "root".into(),
        mtime: SDE - 100,
        xattrs: Default::default(),
    }
}

fn file(path: &str, content: &[u8]) -> (Entry, Vec<u8>) {
    (
        entry(
            path,
            EntryKind::File {
                size: content.len() as u64,
            },
            0o644,
        ),
        content.to_vec(),
    )
}

fn dir(path: &str) -> (Entry, Vec<u8>) {
    (entry(path, EntryKind::Directory, 0o755), Vec::new())
}

/// A small tree with every entry kind.
fn sample_entries(marker: &str) -> Vec<(Entry, Vec<u8>)> {
    let mut v = vec![
        dir("etc"),
        file("etc/marker", marker.as_bytes()),
        dir("usr"),
        dir("usr/bin"),
        file("usr/bin/tool", &vec![0x5a; 70_000]),
        (
            entry(
                "usr/bin/tool-link",
                EntryKind::Hardlink {
                    target: "usr/bin/tool".into(),
                },
                0o755,
            ),
            Vec::new(),
        ),
        (
            entry(
                "usr/bin/sym",
                EntryKind::Symlink {
                    target: "tool".into(),
                },
                0o777,
            ),
            Vec::new(),
        ),
    ];
    let mut setuid = file("usr/bin/su", b"#!/bin/false\n");
    setuid.0.mode = 0o4755;
    setuid.0.mtime = SDE + 1_000_000; // in the future: clamped
    v.push(setuid);
    v
}

fn build_layer(entries: &[(Entry, Vec<u8>)], compression: Compression) -> (LayerInfo, Vec<u8>) {
    let mut b = LayerBuilder::new(Vec::new(), compression, SDE).unwrap();
    for (e, content) in entries {
        b.append(e, &mut &content[..]).unwrap();
    }
    b.finish_with_writer().unwrap()
}

fn headers(tar_bytes: &[u8]) -> Vec<check::TarEntry> {
    check::tar_entries(tar_bytes).unwrap()
}

#[test]
fn layers_are_byte_identical_and_hashed_while_streaming() {
    let entries = sample_entries("x");
    for compression in [
        Compression::Gzip { level: 6 },
        Compression::Zstd { level: 3 },
        Compression::None,
    ] {
        let (info1, bytes1) = build_layer(&entries, compression);
        let (info2, bytes2) = build_layer(&entries, compression);
        assert_eq!(bytes1, bytes2, "{compression:?}");
        assert_eq!(info1, info2);
        assert_eq!(info1.digest, crate::hash::Sha256Digest::of(&bytes1));
        assert_eq!(info1.size, bytes1.len() as u64);
        assert_eq!(info1.media_type, compression.media_type());
        let mut tar_bytes = Vec::new();
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("layer");
        fs::write(&p, &bytes1).unwrap();
        check::open_layer(&p, info1.media_type)
            .unwrap()
            .read_to_end(&mut tar_bytes)
            .unwrap();
        assert_eq!(info1.diff_id, crate::hash::Sha256Digest::of(&tar_bytes));
        if compression == Compression::None {
            assert_eq!(info1.digest, info1.diff_id);
        }
        // Two zero blocks end the archive; no 10 KiB record padding.
        assert_eq!(tar_bytes.len() % 512, 0);
        assert!(tar_bytes[tar_bytes.len() - 1024..].iter().all(|&b| b == 0));
    }
    // Fixed gzip header: magic, deflate, no flags, mtime 0, XFL, OS 255.
    let (_, gz) = build_layer(&entries, Compression::Gzip { level: 6 });
    assert_eq!(&gz[..4], &[0x1f, 0x8b, 8, 0]);
    assert_eq!(&gz[4..8], &[0, 0, 0, 0]);
    assert_eq!(gz[9], 255);
}

#[test]
fn headers_say_exactly_what_the_entries_say() {
    let mut entries = sample_entries("hello");
    entries.push((entry("run/fifo", EntryKind::Fifo, 0o600), Vec::new()));
    entries.push((
        entry("dev/null", EntryKind::CharDevice { major: 1, minor: 3 }, 0o666),
        Vec::new(),
    ));
    entries.push((
        entry(
            "dev/sda",
            EntryKind::BlockDevice {
                major: 8,
                minor: 1_048_575,
            },
            0o660,
        ),
        Vec::new(),
    ));
    let mut owned = file("home/user/f", b"data");
    owned.0.uid = 1000;
    owned.0.gid = 1001;
    owned.0.uname = "user".into();
    owned.0.gname = "staff".into();
    owned.0.mtime = 12345;
    entries.push(owned);

    let (_, tar_bytes) = build_layer(&entries, Compression::None);
    // No PAX header anywhere: every field fits ustar.
    for block in tar_bytes.chunks(512) {
        if &block[257..263] == b"ustar\0" {
            assert_ne!(block[156], b'x');
        }
    }
    let hs = headers(&tar_bytes);
    let by_path: BTreeMap<&str, &check::TarEntry> = hs.iter().map(|h| (h.path.as_str(), h)).collect();
    let names: Vec<&str> = hs.iter().map(|h| h.path.as_str()).collect();
    assert!(
        names.contains(&"etc/") && names.contains(&"usr/bin/"),
        "{names:?}"
    );
    assert!(names.iter().all(|n| !n.starts_with("./") && !n.starts_with('/')));

    let h = |p: &str| &by_path[p].header;
    assert!(h("etc/").entry_type().is_dir());
    assert_eq!(h("etc/").mode().unwrap(), 0o755);
    assert_eq!(by_path["etc/marker"].content, b"hello");
    assert_eq!(h("etc/marker").mtime().unwrap(), SDE - 100);
    assert_eq!(h("usr/bin/su").mode().unwrap(), 0o4755);
    assert_eq!(h("usr/bin/su").mtime().unwrap(), SDE, "future mtime clamped");

    let hl = h("usr/bin/tool-link");
    assert!(hl.entry_type().is_hard_link());
    assert_eq!(
        by_path["usr/bin/tool-link"].link_name.as_deref(),
        Some("usr/bin/tool")
    );
    assert_eq!(hl.size().unwrap(), 0);
    let sl = h("usr/bin/sym");
    assert!(sl.entry_type().is_symlink());
    assert_eq!(by_path["usr/bin/sym"].link_name.as_deref(), Some("tool"));
    assert_eq!(sl.mode().unwrap(), 0o777);

    assert!(h("run/fifo").entry_type().is_fifo());
    let c = h("dev/null");
    assert!(c.entry_type().is_character_special());
    assert_eq!(
        (c.device_major().unwrap(), c.device_minor().unwrap()),
        (Some(1), Some(3))
    );
    let b = h("dev/sda");
    assert!(b.entry_type().is_block_special());
    assert_eq!(
        (b.device_major().unwrap(), b.device_minor().unwrap()),
        (Some(8), Some(1_048_575))
    );

    let o = h("home/user/f");
    assert_eq!((o.uid().unwrap(), o.gid().unwrap()), (1000, 1001));
    assert_eq!(o.username().unwrap(), Some("user"));
    assert_eq!(o.groupname().unwrap(), Some("staff"));
    assert_eq!(o.mtime().unwrap(), 12345);
    assert!(o.as_ustar().is_some());
}

#[test]
fn pax_headers_only_for_what_ustar_cannot_hold() {
    let long_dir = format!("usr/share/{}", "d".repeat(95));
    let long = format!("{long_dir}/{}", "é".repeat(40));
    let long_target = format!("/{}", "t".repeat(150));
    let mut big = file("big-ids", b"x");
    big.0.uid = 3_000_000_000;
    big.0.gid = 2_097_152;
    big.0.uname = "u".repeat(40);
    let entries = vec![
        dir(&long_dir),
        file(&long, b"payload"),
        (
            entry(
                "link",
                EntryKind::Symlink {
                    target: long_target.clone(),
                },
                0o777,
            ),
            Vec::new(),
        ),
        big,
        file("short", b"s"),
    ];
    let (_, tar_bytes) = build_layer(&entries, Compression::None);
    let hs = headers(&tar_bytes);
    let names: Vec<&str> = hs.iter().map(|h| h.path.as_str()).collect();
    assert_eq!(
        names,
        [
            format!("{long_dir}/").as_str(),
            long.as_str(),
            "link",
            "big-ids",
            "short"
        ]
    );
    assert_eq!(hs[1].content, b"payload");
    assert_eq!(hs[2].link_name.as_deref(), Some(long_target.as_str()));
    assert!(hs[4].pax.is_empty(), "short entries get no PAX header");

    // Walk the raw blocks: a PAX header precedes exactly the entries that need one.
    let mut records = Vec::new();
    let mut off = 0;
    while off + 512 <= tar_bytes.len() && tar_bytes[off] != 0 {
        let block = &tar_bytes[off..off + 512];
        let size = u64::from_str_radix(
            std::str::from_utf8(&block[124..135])
                .unwrap()
                .trim_end_matches('\0'),
            8,
        )
        .unwrap() as usize;
        if block[156] == b'x' {
            assert_eq!(&block[..14], b"././@PaxHeader");
            records.push(String::from_utf8(tar_bytes[off + 512..off + 512 + size].to_vec()).unwrap());
        }
        off += 512 + size.div_ceil(512) * 512;
    }
    assert_eq!(records.len(), 4, "{records:?}");
    assert!(records[0].ends_with(&format!(" path={long_dir}/\n")));
    assert!(records[1].ends_with(&format!(" path={long}\n")));
    assert!(records[2].ends_with(&format!(" linkpath={long_target}\n")));
    // Sorted keys: gid, uid, uname.
    let keys: Vec<&str> = records[3]
        .lines()
        .map(|l| l.split_once(' ').unwrap().1.split_once('=').unwrap().0)
        .collect();
    assert_eq!(keys, ["gid", "uid", "uname"]);
    // The raw ustar fields that overflow hold 0; the PAX records carry the values.
    let raw = tar_bytes
        .chunks(512)
        .find(|b| b.starts_with(b"big-ids\0"))
        .unwrap();
    assert_eq!(&raw[108..116], b"0000000\0");
    assert_eq!(&raw[116..124], b"0000000\0");
    assert_eq!(&raw[265..297], "u".repeat(32).as_bytes());
    let pax = &hs[3].pax;
    assert_eq!(pax["uid"], "3000000000");
    assert_eq!(pax["gid"], "2097152");
    assert_eq!(pax["uname"], "u".repeat(40));
}

#[test]
fn content_of_the_wrong_size_is_refused_naming_the_path() {
    let e = entry("etc/passwd", EntryKind::File { size: 10 }, 0o644);
    let mut b = LayerBuilder::new(Vec::new(), Compression::None, SDE).unwrap();
    let err = b.append(&e, &mut &b"short"[..]).unwrap_err();
    assert!(matches!(
        err,
        OciError::ContentTooShort {
            actual: 5,
            expected: 10,
            ..
        }
    ));
    assert!(err.to_string().contains("etc/passwd"), "{err}");

    let mut b = LayerBuilder::new(Vec::new(), Compression::None, SDE).unwrap();
    let err = b.append(&e, &mut &b"this is too long"[..]).unwrap_err();
    assert!(matches!(err, OciError::ContentTooLong { expected: 10, .. }));
    assert!(err.to_string().contains("etc/passwd"), "{err}");

    struct Failing;
    impl Read for Failing {
        fn read(&mut self, _: &mut [u8]) -> io::Result<usize> {
            Err(io::Error::other("disk on fire"))
        }
    }
    let mut b = LayerBuilder::new(Vec::new(), Compression::None, SDE).unwrap();
    let err = b.append(&e, &mut Failing).unwrap_err();
    assert!(err.to_string().contains("etc/passwd") && err.to_string().contains("disk on fire"));
}

#[test]
fn unnormalised_paths_and_bad_links_are_refused() {
    for path in ["./etc", "/etc", "etc/", "a/../b", "", "a//b"] {
        let mut b = LayerBuilder::new(Vec::new(), Compression::None, SDE).unwrap();
        let e = entry(path, EntryKind::Directory, 0o755);
        assert!(
            matches!(b.append(&e, &mut io::empty()), Err(OciError::InvalidEntry { .. })),
            "{path:?}"
        );
    }
    let mut b = LayerBuilder::new(Vec::new(), Compression::None, SDE).unwrap();
    let e = entry(
        "x",
        EntryKind::Hardlink {
            target: "../../etc/shadow".into(),
        },
        0o644,
    );
    assert!(b.append(&e, &mut io::empty()).is_err());
    let e = entry(
        "x",
        EntryKind::CharDevice {
            major: 1 << 30,
            minor: 0,
        },
        0o644,
    );
    assert!(b.append(&e, &mut io::empty()).is_err());
    assert!(LayerBuilder::new(Vec::new(), Compression::Gzip { level: 10 }, SDE).is_err());
    assert!(LayerBuilder::new(Vec::new(), Compression::Zstd { level: 0 }, SDE).is_err());
}

fn siblings(parent: &Path) -> Vec<String> {
    let mut v: Vec<String> = fs::read_dir(parent)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

#[test]
fn a_layout_dropped_before_commit_leaves_nothing() {
    let parent = tempfile::tempdir().unwrap();
    let out = parent.path().join("image");
    {
        let w = LayoutWriter::create(&out).unwrap();
        assert!(w.temp_path().starts_with(parent.path()));
        assert!(
            w.temp_path()
                .file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with(".image.tmp-")
        );
        let mut l = w.layer_builder(Compression::default(), SDE).unwrap();
        for (e, c) in sample_entries("a") {
            l.append(&e, &mut &c[..]).unwrap();
        }
        // A layer left unfinished and one that failed mid-way.
        let mut l2 = w.layer_builder(Compression::default(), SDE).unwrap();
        let e = entry("f", EntryKind::File { size: 3 }, 0o644);
        assert!(l2.append(&e, &mut &b""[..]).is_err());
        l.finish().unwrap();
        w.add_blob(b"{}").unwrap();
    }
    assert!(
        siblings(parent.path()).is_empty(),
        "{:?}",
        siblings(parent.path())
    );
}

fn platform_image(
    w_layer: impl Fn(Compression) -> BlobLayerBuilder,
    platform: &str,
    second: Compression,
) -> PlatformImage {
    let platform: Platform = platform.parse().unwrap();
    let mut layers = Vec::new();
    // A shared bottom layer (same bytes for every platform) and a per-platform one.
    for (i, entries) in [
        sample_entries("shared"),
        vec![dir("etc"), file("etc/arch", platform.to_string().as_bytes())],
    ]
    .into_iter()
    .enumerate()
    {
        // umoci 0.4.7 reads gzip and plain tar layers only (zstd: "blob is not correct
        // mediatype"), so the layouts it unpacks use those two; zstd is judged by skopeo below.
        let compression = if i == 0 {
            Compression::Gzip { level: 6 }
        } else {
            second
        };
        let mut b = w_layer(compression);
        for (e, c) in &entries {
            b.append(e, &mut &c[..]).unwrap();
        }
        layers.push(LayerRecord {
            info: b.finish().unwrap(),
            created_by: format!("debcast: layer {i} for {platform}"),
        });
    }
    let mut env = BTreeMap::new();
    env.insert("LANG".into(), "C.UTF-8".into());
    env.insert("A".into(), "1".into());
    let mut labels = BTreeMap::new();
    labels.insert("org.example.z".into(), "z".into());
    PlatformImage {
        platform,
        config: ImageConfig {
            env,
            cmd: Some(vec!["/bin/sh".into()]),
            workdir: Some("/".into()),
            user: Some("0:0".into()),
            labels,
            exposed_ports: vec!["8080/tcp".into()],
            stop_signal: Some("SIGTERM".into()),
            ..ImageConfig::default()
        },
        source_date_epoch: SDE,
        layers,
        annotations: BTreeMap::new(),
    }
}

fn build_layout(out: &Path, ref_name: &str, platforms: &[&str], second: Compression) -> ImageIndex {
    let w = LayoutWriter::create(out).unwrap();
    let mut manifests = Vec::new();
    for p in platforms {
        let image = platform_image(|c| w.layer_builder(c, SDE).unwrap(), p, second);
        let blobs = w.add_image(&image).unwrap();
        manifests.push(blobs.manifest_descriptor);
    }
    w.commit_images(ref_name, &manifests).unwrap()
}

#[test]
fn config_has_sorted_env_default_path_and_history() {
    let parent = tempfile::tempdir().unwrap();
    let w = LayoutWriter::create(&parent.path().join("x")).unwrap();
    let image = platform_image(
        |c| w.layer_builder(c, SDE).unwrap(),
        "linux/arm/v7",
        Compression::None,
    );
    let blobs = image.blobs().unwrap();
    let json: serde_json::Value = serde_json::from_slice(&blobs.config_json).unwrap();
    assert_eq!(
        json["config"]["Env"],
        serde_json::json!(["A=1", "LANG=C.UTF-8", format!("PATH={}", image::DEFAULT_PATH)])
    );
    assert_eq!(json["created"], "2023-11-14T22:13:20Z");
    assert_eq!(json["architecture"], "arm");
    assert_eq!(json["variant"], "v7");
    assert_eq!(
        json["config"]["ExposedPorts"],
        serde_json::json!({"8080/tcp": {}})
    );
    assert_eq!(
        json["history"][1]["created_by"],
        "debcast: layer 1 for linux/arm/v7"
    );
    assert_eq!(json["history"][1]["created"], "2023-11-14T22:13:20Z");
    assert_eq!(
        json["rootfs"]["diff_ids"][0],
        image.layers[0].info.diff_id.oci().as_str()
    );
    // Canonical: re-serialising gives the same bytes, and keys are in order.
    assert_eq!(to_canonical_json(&json).unwrap(), blobs.config_json);
    let text = String::from_utf8(blobs.config_json.clone()).unwrap();
    assert!(text.starts_with(r#"{"architecture":"arm","config":{"Cmd":["/bin/sh"],"Env":"#));
    // A given PATH is kept.
    let mut custom = image.clone();
    custom.config.env.insert("PATH".into(), "/opt/bin".into());
    let config = custom.oci_config().unwrap();
    let env = config
        .config()
        .as_ref()
        .and_then(|c| c.env().clone())
        .unwrap_or_default();
    assert!(env.contains(&"PATH=/opt/bin".to_owned()), "{env:?}");
}

#[test]
fn two_platform_layout_passes_schemas_skopeo_and_umoci() {
    let parent = tempfile::tempdir().unwrap();
    let out = parent.path().join("layout");
    let index = build_layout(
        &out,
        "static:latest",
        &["linux/amd64", "linux/arm64"],
        Compression::None,
    );
    assert_eq!(siblings(parent.path()), ["layout"]);
    assert_eq!(index.manifests().len(), 3);

    let report = check::check_layout(&out).unwrap();
    assert_eq!(
        report.images.len(),
        4,
        "two via the nested index, two via per-platform refs"
    );
    assert_eq!(
        report.refs.keys().collect::<Vec<_>>(),
        [
            "static:latest",
            "static:latest-linux-amd64",
            "static:latest-linux-arm64"
        ]
    );
    assert_eq!(report.refs["static:latest"]["mediaType"], image::MEDIA_TYPE_INDEX);
    assert_eq!(
        fs::read(out.join("oci-layout")).unwrap(),
        br#"{"imageLayoutVersion":"1.0.0"}"#
    );
    let mode = |p: &Path| {
        use std::os::unix::fs::PermissionsExt;
        fs::metadata(p).unwrap().permissions().mode() & 0o777
    };
    assert_eq!(mode(&out), 0o755);
    assert_eq!(mode(&out.join("index.json")), 0o644);

    // Same inputs, another directory: the same bytes.
    let again = parent.path().join("again");
    build_layout(
        &again,
        "static:latest",
        &["linux/amd64", "linux/arm64"],
        Compression::None,
    );
    assert_eq!(
        fs::read(out.join("index.json")).unwrap(),
        fs::read(again.join("index.json")).unwrap()
    );

    if !check::clients_enabled() {
        return;
    }
    let oci_ref = format!("oci:{}:static:latest", out.display());
    for arch in ["amd64", "arm64"] {
        let inspected = check::skopeo_inspect(&oci_ref, &["--override-arch", arch]).unwrap();
        assert_eq!(inspected["Architecture"], arch, "{inspected}");
        assert_eq!(inspected["Layers"].as_array().unwrap().len(), 2);
        assert!(
            inspected["Env"]
                .as_array()
                .unwrap()
                .contains(&serde_json::json!("LANG=C.UTF-8"))
        );
    }
    let raw = check::skopeo_inspect_raw(&oci_ref).unwrap();
    assert_eq!(raw["mediaType"], image::MEDIA_TYPE_INDEX);

    for arch in ["amd64", "arm64"] {
        let bundle = parent.path().join(format!("bundle-{arch}"));
        let rootfs = check::umoci_unpack(&out, &format!("static:latest-linux-{arch}"), &bundle).unwrap();
        assert_eq!(
            fs::read_to_string(rootfs.join("etc/arch")).unwrap(),
            format!("linux/{arch}")
        );
        assert_eq!(fs::read_to_string(rootfs.join("etc/marker")).unwrap(), "shared");
        assert_eq!(
            fs::read_link(rootfs.join("usr/bin/sym")).unwrap(),
            Path::new("tool")
        );
        assert_eq!(fs::read(rootfs.join("usr/bin/tool-link")).unwrap().len(), 70_000);
    }

    let copy = parent.path().join("copy");
    check::skopeo_copy(&oci_ref, &format!("oci:{}:copied", copy.display()), &["--all"]).unwrap();
    let copied = check::check_layout(&copy).unwrap();
    // skopeo compresses our uncompressed layers on the way (so manifests change), but the
    // image content, hence every config, is the same.
    let configs = |r: &check::LayoutReport| {
        let mut v: Vec<String> = r
            .images
            .iter()
            .map(|i| i.manifest["config"]["digest"].to_string())
            .collect();
        v.sort();
        v.dedup();
        v
    };
    assert_eq!(configs(&copied), configs(&report));
}

#[test]
fn single_platform_layout_unpacks_by_its_plain_ref() {
    let parent = tempfile::tempdir().unwrap();
    let out = parent.path().join("one");
    build_layout(&out, "base", &["linux/amd64"], Compression::None);
    check::check_layout(&out).unwrap();
    if !check::clients_enabled() {
        return;
    }
    let rootfs = check::umoci_unpack(&out, "base", &parent.path().join("b")).unwrap();
    assert_eq!(
        fs::read_to_string(rootfs.join("etc/arch")).unwrap(),
        "linux/amd64"
    );
}

#[test]
fn commit_replaces_a_layout_but_not_other_directories() {
    let parent = tempfile::tempdir().unwrap();
    let out = parent.path().join("out");
    build_layout(&out, "a", &["linux/amd64"], Compression::None);
    let first = fs::read(out.join("index.json")).unwrap();
    build_layout(&out, "b", &["linux/arm64"], Compression::None);
    assert_ne!(fs::read(out.join("index.json")).unwrap(), first);
    check::check_layout(&out).unwrap();
    assert_eq!(siblings(parent.path()), ["out"]);

    let precious = parent.path().join("home");
    fs::create_dir(&precious).unwrap();
    fs::write(precious.join("thesis.tex"), b"...").unwrap();
    let w = LayoutWriter::create(&precious).unwrap();
    let image = platform_image(
        |c| w.layer_builder(c, SDE).unwrap(),
        "linux/amd64",
        Compression::None,
    );
    let m = w.add_image(&image).unwrap().manifest_descriptor;
    let err = w.commit_images("x", &[m]).unwrap_err();
    assert!(err.to_string().contains("refusing"), "{err}");
    assert!(precious.join("thesis.tex").exists());
    assert_eq!(siblings(parent.path()), ["home", "out"]);
}

#[test]
fn docker_archive_is_deterministic_and_loadable() {
    let parent = tempfile::tempdir().unwrap();
    let build = |name: &str| {
        let path = parent.path().join(name);
        let w = DockerArchiveWriter::create(&path).unwrap();
        let image = platform_image(
            |_| w.layer_builder(SDE).unwrap(),
            "linux/arm64",
            Compression::None,
        );
        w.commit(&image, &["static".to_owned()]).unwrap()
    };
    let a = build("a.tar");
    let b = build("b.tar");
    assert_eq!(fs::read(&a).unwrap(), fs::read(&b).unwrap());
    assert_eq!(siblings(parent.path()), ["a.tar", "b.tar"]);

    let manifest = check::check_docker_archive(&a).unwrap();
    assert_eq!(manifest[0]["RepoTags"], serde_json::json!(["static:latest"]));
    let hs = check::tar_entries(fs::File::open(&a).unwrap()).unwrap();
    let names: Vec<&str> = hs.iter().map(|h| h.path.as_str()).collect();
    let mut sorted = names.clone();
    sorted.sort();
    assert_eq!(names, sorted);
    assert!(hs.iter().all(|h| h.header.mtime().unwrap() == SDE));

    if !check::clients_enabled() {
        return;
    }
    let inspected = check::skopeo_inspect(&format!("docker-archive:{}", a.display()), &[]).unwrap();
    assert_eq!(inspected["Architecture"], "arm64");
    assert_eq!(inspected["Layers"].as_array().unwrap().len(), 2);
    let copy = parent.path().join("from-archive");
    check::skopeo_copy(
        &format!("docker-archive:{}", a.display()),
        &format!("oci:{}:x", copy.display()),
        &[],
    )
    .unwrap();
    check::check_layout(&copy).unwrap();
}

#[test]
fn docker_archive_refuses_compressed_layers() {
    let parent = tempfile::tempdir().unwrap();
    let w = DockerArchiveWriter::create(&parent.path().join("x.tar")).unwrap();
    let layout = LayoutWriter::create(&parent.path().join("l")).unwrap();
    let image = platform_image(
        |c| layout.layer_builder(c, SDE).unwrap(),
        "linux/amd64",
        Compression::None,
    );
    assert!(w.commit(&image, &[]).is_err());
    drop(layout);
    assert!(siblings(parent.path()).is_empty());
}

#[test]
fn zstd_layout_passes_schemas_and_skopeo() {
    let parent = tempfile::tempdir().unwrap();
    let out = parent.path().join("z");
    build_layout(
        &out,
        "z:1",
        &["linux/arm/v7", "linux/amd64"],
        Compression::Zstd { level: 3 },
    );
    let report = check::check_layout(&out).unwrap();
    assert!(report.refs.contains_key("z:1-linux-arm-v7"));
    if !check::clients_enabled() {
        return;
    }
    let oci_ref = format!("oci:{}:z:1", out.display());
    let inspected =
        check::skopeo_inspect(&oci_ref, &["--override-arch", "arm", "--override-variant", "v7"]).unwrap();
    assert_eq!(inspected["Architecture"], "arm");
    let raw = check::skopeo_inspect_raw(&format!("oci:{}:z:1-linux-arm-v7", out.display())).unwrap();
    assert_eq!(
        raw["layers"][1]["mediaType"],
        "application/vnd.oci.image.layer.v1.tar+zstd"
    );
    let copy = parent.path().join("copy");
    check::skopeo_copy(&oci_ref, &format!("oci:{}:z", copy.display()), &["--all"]).unwrap();
    check::check_layout(&copy).unwrap();
}

#[test]
fn the_layout_checker_is_not_vacuous() {
    let parent = tempfile::tempdir().unwrap();
    let out = parent.path().join("l");
    build_layout(&out, "t", &["linux/amd64"], Compression::None);
    check::check_layout(&out).unwrap();

    // A schema violation in index.json.
    let index = fs::read(out.join("index.json")).unwrap();
    let broken = String::from_utf8(index.clone())
        .unwrap()
        .replace(r#""schemaVersion":2"#, r#""schemaVersion":"2""#);
    fs::write(out.join("index.json"), broken).unwrap();
    let err = check::check_layout(&out).unwrap_err();
    assert!(err.0.contains("schemaVersion"), "{err}");
    fs::write(out.join("index.json"), &index).unwrap();

    // A blob whose bytes no longer match its digest.
    let report = check::check_layout(&out).unwrap();
    let layer = &report.images[0].manifest["layers"][1]["digest"];
    let hex = layer.as_str().unwrap().strip_prefix("sha256:").unwrap();
    let path = out.join("blobs/sha256").join(hex);
    let mut bytes = fs::read(&path).unwrap();
    bytes[0] ^= 1;
    fs::write(&path, bytes).unwrap();
    let err = check::check_layout(&out).unwrap_err();
    assert!(err.0.contains(hex), "{err}");
}
