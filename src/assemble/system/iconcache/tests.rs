use super::super::testutil::{MemTree, host_tool, with_postinst};
use super::*;

/// A theme: `index.theme`, icons in nested size directories, a name in several directories and
/// with two suffixes in one, a directory reached through a symbolic link (walked where it
/// sorts), an image at the top (ignored), files that are not images, and a directory with no
/// icon (not numbered).
fn small_theme() -> MemTree {
    let mut t = MemTree::new();
    let base = "usr/share/icons/test";
    t.file(&format!("{base}/index.theme"), b"[Icon Theme]\nName=test\n")
        .file(&format!("{base}/top.png"), b"x")
        .file(&format!("{base}/16x16/apps/editor.png"), b"x")
        .file(&format!("{base}/16x16/apps/editor.svg"), b"x")
        .file(&format!("{base}/16x16/apps/terminal.xpm"), b"x")
        .file(&format!("{base}/16x16/apps/README"), b"x")
        .file(&format!("{base}/16x16/apps/.hidden.png"), b"x")
        .file(&format!("{base}/16x16/mimetypes/text-plain.png"), b"x")
        .file(&format!("{base}/48x48/apps/editor.png"), b"x")
        .file(&format!("{base}/48x48/apps/z.tar.png"), b"x")
        .file(&format!("{base}/scalable/apps/editor.svg"), b"x")
        .file(&format!("{base}/scalable/apps/apps.svg"), b"x")
        .dir(&format!("{base}/empty/sub"))
        .symlink(&format!("{base}/32x32"), "16x16");
    t
}

/// Many names in many directories: the GLib tables grow several times.
fn large_theme() -> MemTree {
    let mut t = MemTree::new();
    let base = "usr/share/icons/large";
    t.file(&format!("{base}/index.theme"), b"[Icon Theme]\nName=large\n");
    for (d, size) in ["16x16", "22x22", "24x24", "256x256", "32x32", "48x48", "scalable"]
        .iter()
        .enumerate()
    {
        for context in ["actions", "apps", "devices", "status"] {
            for i in 0..(40 + 17 * d) {
                let suffix = if *size == "scalable" { "svg" } else { "png" };
                let name = format!("{context}-icon-{}-{}", i * 7 % 113, "x".repeat(i % 3));
                t.file(&format!("{base}/{size}/{context}/{name}.{suffix}"), b"x");
            }
        }
    }
    t
}

/// The cache the host's gtk-update-icon-cache writes for the theme, if the tool is there.
fn host_cache(tree: &MemTree, dir: &str) -> Option<Vec<u8>> {
    let Some(tool) = host_tool("gtk-update-icon-cache") else {
        eprintln!("no gtk-update-icon-cache on this host: not cross-checked");
        return None;
    };
    let root = tempfile::tempdir().expect("tempdir");
    tree.materialise(root.path());
    let theme = root.path().join(dir);
    let status = std::process::Command::new(tool)
        .args(["--force", "--quiet"])
        .arg(&theme)
        .status()
        .expect("gtk-update-icon-cache runs");
    assert!(status.success(), "gtk-update-icon-cache {}", theme.display());
    Some(std::fs::read(theme.join(CACHE_NAME)).expect("the tool wrote its cache"))
}

fn hex_lines(bytes: &[u8]) -> Vec<String> {
    bytes.chunks(16).map(|c| format!("{c:02x?}")).collect()
}

#[test]
fn caches_match_the_hosts_gtk_update_icon_cache() {
    for (tree, dir) in [
        (small_theme(), "usr/share/icons/test"),
        (large_theme(), "usr/share/icons/large"),
    ] {
        let ours = build(&tree, &format!("/{dir}"))
            .expect("reproduced")
            .expect("icons found");
        let Some(theirs) = host_cache(&tree, dir) else {
            return;
        };
        assert_eq!(hex_lines(&ours), hex_lines(&theirs), "{dir}");
    }
}

#[test]
fn the_layout_of_a_small_cache() {
    let ours = build(&small_theme(), "/usr/share/icons/test")
        .expect("reproduced")
        .expect("icons found");
    let u16_at = |o: usize| u16::from_be_bytes([ours[o], ours[o + 1]]);
    let u32_at = |o: usize| u32::from_be_bytes([ours[o], ours[o + 1], ours[o + 2], ours[o + 3]]);
    assert_eq!((u16_at(0), u16_at(2), u32_at(4)), (1, 0, 12));
    // Seven names: g_spaced_primes_closest(7 / 3) buckets.
    assert_eq!(u32_at(12), 11);
    let dirs_at = u32_at(8) as usize;
    let n_dirs = u32_at(dirs_at) as usize;
    let dirs: Vec<String> = (0..n_dirs)
        .map(|i| {
            let at = u32_at(dirs_at + 4 + 4 * i) as usize;
            let end = ours[at..].iter().position(|b| *b == 0).expect("NUL") + at;
            String::from_utf8_lossy(&ours[at..end]).into_owned()
        })
        .collect();
    // Numbered as first met, depth first in strcmp order; `32x32` is the link to `16x16`;
    // `empty` has no icon.
    assert_eq!(
        dirs,
        [
            "16x16/apps",
            "16x16/mimetypes",
            "32x32/apps",
            "32x32/mimetypes",
            "48x48/apps",
            "scalable/apps"
        ]
    );
}

#[test]
fn dot_icon_files_are_refused_and_an_empty_theme_has_no_cache() {
    let mut t = small_theme();
    t.file(
        "usr/share/icons/test/16x16/apps/editor.icon",
        b"[Icon Data]\nDisplayName=Editor\n",
    );
    let err = build(&t, "/usr/share/icons/test").expect_err("refused");
    assert!(err.contains("editor.icon"), "{err}");
    let mut empty = MemTree::new();
    empty
        .file("usr/share/icons/none/index.theme", b"[Icon Theme]\n")
        .file("usr/share/icons/none/16x16/apps/README", b"x");
    assert_eq!(build(&empty, "/usr/share/icons/none"), Ok(None));
    // A name the tool's own validator rejects (it fails): refused.
    let mut accented = small_theme();
    accented.file("usr/share/icons/test/16x16/apps/caf\u{e9}.png", b"x");
    let err = build(&accented, "/usr/share/icons/test").expect_err("refused");
    assert!(err.contains("not printable ASCII"), "{err}");
}

#[test]
fn postinsts_ask_for_their_themes() {
    let mut t = small_theme();
    t.file("usr/sbin/update-icon-caches", b"#!/bin/sh\n")
        .mode("usr/sbin/update-icon-caches", 0o755)
        .file("usr/bin/gtk-update-icon-cache", b"\x7fELF")
        .mode("usr/bin/gtk-update-icon-cache", 0o755)
        .file("usr/share/icons/hicolor/index.theme", b"[Icon Theme]\n")
        .file("usr/share/icons/hicolor/48x48/apps/browser.png", b"x")
        .dir("usr/share/icons/notheme/16x16/apps");
    let dh_icons = with_postinst(
        "test-icon-theme",
        "#!/bin/sh\nset -e\nif [ \"$1\" = \"configure\" ]; then\n\tif command -v update-icon-caches >/dev/null; then\n\t\tupdate-icon-caches /usr/share/icons/test /usr/share/icons/notheme\n\tfi\nfi\n",
    );
    let hicolor = with_postinst(
        "hicolor-icon-theme",
        "#! /bin/sh\nset -e\nUPDATE_CACHE=\nif which gtk-update-icon-cache-3.0 >/dev/null 2>&1 ; then\n    UPDATE_CACHE=gtk-update-icon-cache-3.0\nelif which gtk-update-icon-cache >/dev/null 2>&1 ; then\n    UPDATE_CACHE=gtk-update-icon-cache\nfi\nif [ -n \"$UPDATE_CACHE\" ]; then\n    if ! \"$UPDATE_CACHE\" --force --quiet /usr/share/icons/hicolor; then\n        echo \"WARNING: icon cache generation failed\"\n    fi\nfi\n",
    );
    let odd = with_postinst(
        "odd",
        "#!/bin/sh\ngtk-update-icon-cache --include-image-data /usr/share/icons/test\n",
    );
    let (changes, report) = compute(&t, &[dh_icons, hicolor, odd]).expect("computed");
    let written: Vec<&str> = changes.files.iter().map(|(e, _)| e.path.as_str()).collect();
    assert_eq!(
        written,
        [
            "usr/share/icons/hicolor/icon-theme.cache",
            "usr/share/icons/test/icon-theme.cache"
        ],
        "no cache for a directory without index.theme"
    );
    let (entry, bytes) = &changes.files[1];
    assert_eq!(entry.mode, 0o644);
    assert_eq!(
        Some(bytes),
        build(&t, "/usr/share/icons/test").expect("built").as_ref()
    );
    let what: Vec<&str> = report.iter().map(|r| r.what.as_str()).collect();
    assert_eq!(
        what,
        [
            "gtk-update-icon-cache --include-image-data /usr/share/icons/test (gtk-update-icon-cache --include-image-data is not reproduced)"
        ]
    );
}

#[test]
fn glib_and_gtk_hashes() {
    assert_eq!(icon_name_hash(""), 0);
    assert_eq!(icon_name_hash("a"), 97);
    assert_eq!(icon_name_hash("ab"), 97 * 31 + 98);
    // Bytes above 0x7f count negative, as `signed char`.
    assert_eq!(
        icon_name_hash("\u{e9}"),
        (0xc3u8 as i8 as i32 as u32)
            .wrapping_mul(31)
            .wrapping_add(0xa9u8 as i8 as i32 as u32)
    );
    assert_eq!(spaced_primes_closest(0), 11);
    assert_eq!(spaced_primes_closest(11), 19);
    assert_eq!(spaced_primes_closest(400), 557);
}
