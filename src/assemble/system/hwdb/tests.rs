use super::super::testutil::{MemTree, host_tool, with_postinst};
use super::*;

/// Sources exercising the reader and the trie: comments (whole-line and trailing), several
/// matches per record, indented properties with extra blanks, a property repeated (the later
/// wins, in another file too), records that share prefixes (node splits), a record without
/// properties, a stray indented line, an empty key, a value with `=`, an overriding `/etc` file,
/// a file without a final newline, and a name that is not a source.
fn sources() -> MemTree {
    let mut t = MemTree::new();
    t.file(
        "lib/udev/hwdb.d/20-vendor.hwdb",
        b"# vendors\nusb:v1D6B*\n ID_VENDOR_FROM_DATABASE=Linux Foundation\n\nusb:v1D6Bp0001*\nusb:v1D6Bp0002*\n  ID_MODEL_FROM_DATABASE=root hub # trailing comment\n ID_VENDOR_FROM_DATABASE=Linux\n\nusb:v1D50*\n ID_VENDOR_FROM_DATABASE=OpenMoko, Inc.\n\n ID_STRAY=1\nusb:v0000*\n\nusb:v1234*\n =nothing\n KEY=a=b\n",
    )
    .file(
        "lib/udev/hwdb.d/60-keyboard.hwdb",
        b"evdev:input:b0003v046Dp*\n KEYBOARD_KEY_70039=leftctrl\n KEYBOARD_KEY_70039=capslock\n\nevdev:name:*Keyboard*:dmi:*\n XKB_FIXED_LAYOUT=us\n\nusb:v1D6B*\n ID_VENDOR_FROM_DATABASE=Linux Foundation (again)\n",
    )
    .file(
        "lib/udev/hwdb.d/70-mouse.hwdb",
        b"mouse:usb:v046dp*:name:*:\n MOUSE_DPI=1000@125\nmouse:*:name:*Trackball*:\n MOUSE_WHEEL_CLICK_ANGLE=15",
    )
    .file("lib/udev/hwdb.d/70-mouse.hwdb.orig", b"not a source\n")
    .file(
        "etc/udev/hwdb.d/60-keyboard.hwdb",
        b"evdev:atkbd:dmi:*\n KEYBOARD_KEY_3a=esc\n",
    );
    t
}

/// What the host's systemd-hwdb writes for the tree (with `--root`, so the paths it records
/// start with the root), if the tool is there and is systemd 252's.
fn host_database(tree: &MemTree, compat: bool) -> Option<(String, Vec<u8>)> {
    let tool = if compat { "udevadm" } else { "systemd-hwdb" };
    let Some(tool) = host_tool(tool) else {
        eprintln!("no systemd-hwdb on this host: not cross-checked");
        return None;
    };
    let version = std::process::Command::new(&tool).arg("--version").output().ok()?;
    // `systemd 252 (252.39-1~deb12u2)` from systemd-hwdb, `252` from udevadm.
    let version = String::from_utf8_lossy(&version.stdout).into_owned();
    let major = version
        .trim()
        .trim_start_matches("systemd ")
        .split([' ', '.'])
        .next()
        .unwrap_or("");
    if major != TOOL_VERSION.to_string() {
        eprintln!("the host's systemd is not {TOOL_VERSION}: not cross-checked");
        return None;
    }
    let root = tempfile::tempdir().expect("tempdir");
    tree.materialise(root.path());
    let root_str = root.path().to_string_lossy().into_owned();
    let mut cmd = std::process::Command::new(&tool);
    if compat {
        cmd.args(["hwdb", "--update", "--usr", &format!("--root={root_str}")]);
    } else {
        cmd.args([&format!("--root={root_str}"), "--usr", "update"]);
    }
    let out = cmd.output().expect("the tool runs");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let bytes = std::fs::read(root.path().join("lib/udev/hwdb.bin")).expect("the tool wrote its database");
    Some((root_str, bytes))
}

fn hex_lines(bytes: &[u8]) -> Vec<String> {
    bytes.chunks(16).map(|c| format!("{c:02x?}")).collect()
}

#[test]
fn databases_match_the_hosts_systemd_hwdb() {
    for compat in [false, true] {
        let tree = sources();
        let Some((root, theirs)) = host_database(&tree, compat) else {
            return;
        };
        let ours = compile(&tree, &root, compat)
            .expect("reproduced")
            .expect("sources found");
        assert_eq!(hex_lines(&ours), hex_lines(&theirs), "compat {compat}");
    }
}

/// The real thing: the host's own hwdb.d (udev, installed by `.ci/run`) against the hwdb.bin its
/// postinst compiled, when the host's udev is systemd 252's.
#[test]
fn the_hosts_own_database() {
    let bin = std::path::Path::new("/usr/lib/udev/hwdb.bin");
    let Ok(theirs) = std::fs::read(bin) else {
        eprintln!("no hwdb.bin on this host: not cross-checked");
        return;
    };
    if theirs.get(8..16) != Some(&TOOL_VERSION.to_le_bytes()[..]) {
        eprintln!("the host's hwdb.bin is not systemd {TOOL_VERSION}'s: not cross-checked");
        return;
    }
    let mut tree = MemTree::new();
    for dir in ["etc/udev/hwdb.d", "usr/lib/udev/hwdb.d"] {
        let Ok(entries) = std::fs::read_dir(format!("/{dir}")) else {
            continue;
        };
        for e in entries.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            if let Ok(bytes) = std::fs::read(e.path()) {
                tree.file(&format!("{dir}/{name}"), &bytes);
            }
        }
    }
    tree.symlink("lib", "usr/lib");
    let ours = compile(&tree, "", false)
        .expect("reproduced")
        .expect("sources found");
    assert!(
        ours == theirs,
        "{} bytes against the host's {}",
        ours.len(),
        theirs.len()
    );
}

#[test]
fn udevs_postinst_asks_for_the_usr_database() {
    let mut t = sources();
    let udev = with_postinst(
        "udev",
        "#!/bin/sh\nset -e\nupdate_hwdb() {\n  systemd-hwdb --usr update || true\n}\ncase \"$1\" in\n    configure)\n    update_hwdb\n    ;;\n    triggered)\n    update_hwdb\n    exit 0\n    ;;\nesac\n",
    );
    let mut udev = udev;
    udev.version = "252.39-1~deb12u2".into();
    let (changes, report) = compute(&t, std::slice::from_ref(&udev)).expect("computed");
    assert!(report.is_empty(), "{report:?}");
    let (entry, bytes) = &changes.files[0];
    assert_eq!((entry.path.as_str(), entry.mode), ("lib/udev/hwdb.bin", 0o444));
    assert_eq!(Some(bytes), compile(&t, "", false).expect("built").as_ref());
    // Another systemd's tool is reported, not guessed.
    udev.version = "257.9-1~deb13u1".into();
    let (changes, report) = compute(&t, &[udev]).expect("computed");
    assert!(changes.files.is_empty());
    assert!(report[0].what.contains("systemd 257.9-1~deb13u1"), "{report:?}");
    // A masked source (a link to /dev/null) is reported.
    t.symlink("etc/udev/hwdb.d/70-mouse.hwdb", "/dev/null");
    assert!(compile(&t, "", false).is_err());
    assert_eq!(
        parse_call("udevadm", &["hwdb".into(), "--update".into()]),
        Some(Ok(UpdateRequest {
            output: "/etc/udev/hwdb.bin".into(),
            compat: true
        }))
    );
    assert_eq!(
        parse_call("systemd-hwdb", &["query".into(), "usb:v1D6B".into()]),
        None
    );
}

#[test]
fn strings_share_their_tails() {
    let mut s = StrBuf::new();
    assert_eq!(s.add(b"hello"), 1);
    assert_eq!(s.add(b"llo"), 3);
    assert_eq!(s.add(b"hello"), 1);
    assert_eq!(s.add(b""), 0);
    assert_eq!(s.add(b"jello"), 7);
    assert_eq!(s.add(b"o"), 5);
    assert_eq!(s.buf, b"\0hello\0jello\0");
}
