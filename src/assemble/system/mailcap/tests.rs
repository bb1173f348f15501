use super::super::testutil::{MemTree, with_postinst, written};
use super::*;

const RULE: &str = "###############################################################################";

/// mailcap's postinst: the call without `--triggered` exits at once under dpkg.
fn mailcap_package() -> InstalledPackage {
    with_postinst(
        "mailcap",
        "#!/bin/sh\nset -e\nif [ \"$1\" = triggered ]; then update-mime --triggered; exit 0; fi\n\
         update-mime\nif command -v update-mime > /dev/null; then update-mime --triggered; fi\n",
    )
}

fn template(t: &mut MemTree) {
    t.file("usr/sbin/update-mime", b"#! /usr/bin/perl\n")
        .mode("usr/sbin/update-mime", 0o755)
        .file(
            "usr/lib/mime/mailcap",
            b"# header\n# ----- User Section Begins ----- #\nmine; install-mime %s\n\
          # -----  User Section Ends  ----- #\nold/entry; dropped\n",
        );
}

/// Priorities (highest first), wild types after specific ones within a priority, the order
/// file's codes first, `priority=` and a trailing `;` taken off, the user section kept.
#[test]
fn entries_ordered_as_the_tool_orders_them() {
    let mut t = MemTree::new();
    template(&mut t);
    t.file(
        "usr/lib/mime/packages/a",
        b"text/*; atext %s\n\n  # note\ntext/plain; aplain %s; priority=2\n",
    )
    .file(
        "usr/lib/mime/packages/b",
        b"*/*; bany %s; priority=9\ntext/html; bhtml %s; priority=12\n",
    )
    .file("usr/lib/mime/packages/b~", b"x/y; backup %s\n")
    .file(
        "etc/mailcap.order",
        b"# first\na:text/plain   # the plain viewer\n",
    );
    let (c, report) = compute(&t, &[mailcap_package()]).unwrap();
    assert!(report.is_empty(), "{report:?}");
    assert_eq!(
        String::from_utf8_lossy(&written(&c, "etc/mailcap").1),
        format!(
            "# header\n# ----- User Section Begins ----- #\nmine; update-mime %s\n\
             # -----  User Section Ends  ----- #\n\n{RULE}\n\n\
             text/plain; aplain %s\n*/*; bany %s\ntext/html; bhtml %s\ntext/*; atext %s\n"
        )
    );
    assert_eq!(written(&c, "etc/mailcap").0.mode, 0o644);
}

/// Desktop entries with the tool's loose patterns: `TryExec=` read as `Exec=`, `%c`/`%i`
/// expanded, `Terminal=true`, another group's keys ignored, a subdirectory's entries first, a
/// name a package file took skipped, an entry without `Exec` giving nothing.
#[test]
fn desktop_entries_as_the_tool_reads_them() {
    let mut t = MemTree::new();
    template(&mut t);
    t.file("usr/lib/mime/packages/tar", b"application/x-tar; tar tvf %s\n")
        .file(
            "usr/share/applications/viewer.desktop",
            b"[Desktop Entry]\nName=Viewer\nExec=viewer --title %c %U\nTryExec=viewer-bin\nIcon=vi\n\
              MimeType=image/png; image/gif;;\n",
        )
        .file(
            "usr/share/applications/Term.desktop",
            b"[Desktop Entry]\nExec=vim %F\nTerminal=true\nMimeType=text/x-c;\n\
              [Desktop Action New]\nExec=other\nMimeType=text/x-other\n",
        )
        .file(
            "usr/share/applications/sub/nested.desktop",
            b"[Desktop Entry]\nExec=nest %i\nIcon=nicon\nName=N\nMimeType=application/x-nest\n",
        )
        .file(
            "usr/share/applications/tar.desktop",
            b"[Desktop Entry]\nExec=x\nMimeType=a/b\n",
        )
        .file(
            "usr/share/applications/noexec.desktop",
            b"[Desktop Entry]\nMimeType=a/b\n",
        );
    let (c, report) = compute(&t, &[mailcap_package()]).unwrap();
    assert!(report.is_empty(), "{report:?}");
    let text = String::from_utf8_lossy(&written(&c, "etc/mailcap").1).into_owned();
    let entries: Vec<&str> = text.lines().skip_while(|l| *l != RULE).skip(2).collect();
    assert_eq!(
        entries,
        [
            "application/x-tar; tar tvf %s",
            "application/x-nest; nest --icon nicon %s; test=test -n \"$DISPLAY\"",
            "text/x-c; vim %s; needsterminal",
            "image/png; viewer-bin %s; test=test -n \"$DISPLAY\"",
            "image/gif; viewer-bin %s; test=test -n \"$DISPLAY\"",
        ]
    );
}

/// No `--triggered` call, no file; the tool's Perl configuration is reported, not guessed.
#[test]
fn calls_that_do_nothing_and_a_configuration_file() {
    let mut t = MemTree::new();
    template(&mut t);
    let plain = with_postinst("other", "#!/bin/sh\nupdate-mime\n");
    let (c, report) = compute(&t, &[plain]).unwrap();
    assert!(c.files.is_empty() && report.is_empty(), "{c:?} {report:?}");
    t.file("etc/update-mime.conf", b"$mimedir = '/opt/mime';\n");
    let (c, report) = compute(&t, &[mailcap_package()]).unwrap();
    assert!(c.files.is_empty(), "{c:?}");
    assert!(
        report.len() == 1 && report[0].what.contains("/etc/update-mime.conf"),
        "{report:?}"
    );
}

/// The host's tool, where it is installed (mailcap), writes the same file for the same tree:
/// its paths are pointed at a temporary directory.
#[test]
fn the_table_matches_the_host_tool() {
    let Some(tool) = super::super::testutil::host_tool("update-mime") else {
        eprintln!("update-mime not installed: skipped");
        return;
    };
    let mut t = MemTree::new();
    template(&mut t);
    let files: [(&str, &[u8]); 9] = [
        (
            "usr/lib/mime/packages/tar",
            b"application/x-tar; /bin/tar tvf %s; print=/bin/tar tvf - | print text/plain:-; copiousoutput\ntext/*; less %s; priority=3\n",
        ),
        (
            "usr/lib/mime/packages/Zed",
            b"*/*; zview %s; priority=5\nimage/*; iview %s\nimage/png; pngview %s; priority=7;\n",
        ),
        (
            "usr/lib/mime/packages/lessfile",
            b"text/plain; less '%s'; needsterminal; priority=12\n\n   # comment\n  text/x-indented; ind %s\n",
        ),
        ("usr/lib/mime/packages/#scratch", b"x/y; skipped %s\n"),
        (
            "usr/share/applications/viewer.desktop",
            b"[Desktop Entry]\nName=Viewer\nExec=viewer --title %c %U\nTryExec=viewer-bin\nIcon=vi\nMimeType=image/png; image/gif;;\n",
        ),
        (
            "usr/share/applications/term.desktop",
            b"[Desktop Entry]\nExec=vim %F\nTerminal=true\nMimeType=text/x-c;\n[Desktop Action New]\nExec=other\n",
        ),
        (
            "usr/share/applications/sub/nested.desktop",
            b"[Desktop Entry]\nExec=nest %i\nIcon=nicon\nMimeType=application/x-nest\n",
        ),
        ("usr/share/applications/Lessfile.desktop", b"[Desktop Entry]\nExec=lf\nMimeType=text/lf\n"),
        ("etc/mailcap.order", b"# order\nZed:image/*\ntar\nlessfile: text/plain\n"),
    ];
    for (path, body) in files {
        t.file(path, body);
    }
    // Not tempfile's default `.tmp…` name: the tool skips every path with a component starting
    // with a dot.
    let dir = tempfile::Builder::new().prefix("mailcap-").tempdir().unwrap();
    t.materialise(dir.path());
    let root = dir.path().to_str().unwrap();
    // The tool's path constants (`my $mailcap\t= "/etc/mailcap";`), rooted in the directory.
    let script = std::fs::read_to_string(&tool).unwrap();
    let mut moved = 0;
    let rooted: String = script
        .split_inclusive('\n')
        .map(|line| match line.split_once("= \"/") {
            Some((left, right)) if line.starts_with("my $") => {
                moved += 1;
                format!("{left}= \"{root}/{right}")
            }
            _ => line.to_owned(),
        })
        .collect();
    assert_eq!(
        moved, 6,
        "the tool's constants are not where they were:\n{script}"
    );
    let copy = dir.path().join("update-mime");
    std::fs::write(&copy, rooted).unwrap();
    let out = std::process::Command::new("perl")
        .arg(&copy)
        .arg("--triggered")
        .env_remove("DPKG_RUNNING_VERSION")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let host = std::fs::read_to_string(dir.path().join("etc/mailcap")).unwrap();
    let (c, report) = compute(&t, &[mailcap_package()]).unwrap();
    assert!(report.is_empty(), "{report:?}");
    assert_eq!(String::from_utf8_lossy(&written(&c, "etc/mailcap").1), host);
}
