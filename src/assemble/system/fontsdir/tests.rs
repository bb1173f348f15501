use std::io::Write;

use super::super::testutil::{MemTree, have, host_tool};
use super::*;

/// A PCF font of one table, its properties (`(name, value)` string properties), in the byte
/// order asked: enough for mkfontscale's own reading of the `FONT` property.
fn pcf(props: &[(&str, &str)], big_endian: bool) -> Vec<u8> {
    let mut strings = Vec::new();
    let mut entries = Vec::new();
    for (name, value) in props {
        let n = strings.len() as u32;
        strings.extend_from_slice(name.as_bytes());
        strings.push(0);
        let v = strings.len() as u32;
        strings.extend_from_slice(value.as_bytes());
        strings.push(0);
        entries.push((n, v));
    }
    let word = |x: u32| {
        if big_endian {
            x.to_be_bytes()
        } else {
            x.to_le_bytes()
        }
    };
    let format: u32 = if big_endian { 0x0c } else { 0 };
    let mut table = format.to_le_bytes().to_vec();
    table.extend_from_slice(&word(entries.len() as u32));
    for (n, v) in &entries {
        table.extend_from_slice(&word(*n));
        table.push(1);
        table.extend_from_slice(&word(*v));
    }
    while !(table.len() - 8).is_multiple_of(4) {
        table.push(0);
    }
    table.extend_from_slice(&word(strings.len() as u32));
    table.extend_from_slice(&strings);
    let mut out = b"\x01fcp".to_vec();
    out.extend_from_slice(&1u32.to_le_bytes());
    // The table of contents: type PCF_PROPERTIES, its format, size and offset.
    for x in [1u32, format, table.len() as u32, 24] {
        out.extend_from_slice(&x.to_le_bytes());
    }
    out.extend_from_slice(&table);
    out
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(bytes).unwrap();
    enc.finish().unwrap()
}

fn bdf(font: &str) -> Vec<u8> {
    format!("STARTFONT 2.1\nCOMMENT made by hand\nFONT {font}\nSIZE 10 75 75\nCHARS 0\nENDFONT\n")
        .into_bytes()
}

/// A TrueType file with a `glyf` table: scalable.
fn ttf() -> Vec<u8> {
    let mut out = vec![0, 1, 0, 0, 0, 1, 0, 16, 0, 0, 0, 0];
    out.extend_from_slice(b"glyf");
    out.extend_from_slice(&[0; 12]);
    out
}

const ENC: &str = "usr/share/fonts/X11/encodings";
const MISC: &str = "usr/share/fonts/X11/misc";

/// A font directory with what mkfontdir weighs: PCF fonts in both byte orders, gzipped or not,
/// a BDF font, a link naming the same font as a file, a scalable font, fonts.alias, fonts.scale;
/// and two encoding directories, one encoding with aliases, comments, a file that is not one.
fn sample() -> MemTree {
    let mut t = MemTree::new();
    t.tools(&["mkfontdir", "mkfontscale"]);
    let fixed = "-Misc-Fixed-Medium-R-Normal--20-200-75-75-C-100-ISO8859-1";
    t.file(
        &format!("{MISC}/10x20-ISO8859-1.pcf.gz"),
        &gzip(&pcf(&[("FOUNDRY", "Misc"), ("FONT", fixed)], false)),
    )
    .file(
        &format!("{MISC}/6x13.pcf.gz"),
        &gzip(&pcf(&[("FONT", "-Misc-Fixed-Medium-R-SemiCondensed--13-120-75-75-C-60-ISO10646-1")], true)),
    )
    // The same XLFD as a link (lower priority) and as an uncompressed file (higher).
    .symlink(&format!("{MISC}/alias-of-10x20.pcf.gz"), "10x20-ISO8859-1.pcf.gz")
    .file(&format!("{MISC}/cursor.pcf"), &pcf(&[("FONT", "cursor")], false))
    .file(&format!("{MISC}/cursor.pcf.gz"), &gzip(&pcf(&[("FONT", "CURSOR")], false)))
    .file(&format!("{MISC}/misc.pcf"), &pcf(&[("FONT", "misc")], false))
    .file(&format!("{MISC}/misc.pcf.gz"), &gzip(&pcf(&[("FONT", "misc")], false)))
    .file(&format!("{MISC}/olgl10.bdf"), &bdf("-Sun-OpenLook Glyph-----10-100-75-75-P-101-Sun-FontSpecific"))
    .file(&format!("{MISC}/Scalable.ttf"), &ttf())
    .file(&format!("{MISC}/fonts.alias"), b"fixed -misc-fixed-medium-r-semicondensed--13-120-75-75-c-60-iso8859-1\n")
    .file(
        &format!("{MISC}/fonts.scale"),
        b"2\nScalable.ttf   -Misc-Scaled-Medium-R-Normal--0-0-0-0-P-0-ISO8859-1\nZ.pfb -misc-fixed-medium-r-normal--20-200-75-75-c-100-iso8859-1\n",
    )
    .file(
        &format!("{ENC}/koi8-r.enc.gz"),
        &gzip(b"# KOI8-R\nSTARTENCODING koi8-r\nALIAS koi8r#spelled so too\nALIAS ignored # a blank before the comment\nalias  Russian\nSIZE 0x100\nSTARTMAPPING unicode\nALIAS not-an-alias\n0x80 0x2500\nENDMAPPING\nENDENCODING\n"),
    )
    .file(&format!("{ENC}/dingbats.enc"), b"\nSTARTENCODING adobe-dingbats\nENDENCODING\n")
    .file(&format!("{ENC}/README"), b"not an encoding\n")
    .file(&format!("{ENC}/bad.enc"), b"STARTENCODING two words\n")
    // libfontenc's quirks: a name past 100 characters is cut there; a STARTMAPPING without its
    // target is no mapping line, so aliases after it count; a token it cannot read ends the line
    // where it stands (`%ALIAS`), and so does a range (`1 2 3 ALIAS`).
    .file(&format!("{ENC}/long.enc"), format!("STARTENCODING {}\n", "l".repeat(120)).as_bytes())
    .file(
        &format!("{ENC}/quirks.enc"),
        b"STARTENCODING quirks\nSTARTMAPPING\nALIAS after-bare\n%ALIAS pct\n1 2 3 ALIAS num\nSTARTMAPPING unicode\nALIAS too-late\n",
    )
    .file(&format!("{ENC}/large/big5.eten-0.enc.gz"), &gzip(b"STARTENCODING big5.eten-0\nALIAS koi8-r\n"));
    t
}

fn args(a: &[&str]) -> Vec<String> {
    a.iter().map(|s| s.to_string()).collect()
}

fn run(t: &MemTree, argv: &[&str]) -> Result<Vec<(crate::entry::Entry, Vec<u8>)>, String> {
    let mut o = Overlay::new(t);
    let (name, rest) = argv.split_first().unwrap();
    apply(&mut o, &parse_call(name, &args(rest))?, 0o022)?;
    Ok(o.into_changes().0)
}

fn text_of(files: &[(crate::entry::Entry, Vec<u8>)], path: &str) -> Option<String> {
    files
        .iter()
        .find(|(e, _)| e.path == path)
        .map(|(_, c)| String::from_utf8_lossy(c).into_owned())
}

/// fonts.dir: fonts.scale's entries come lowercased; a regular file wins over a link, `.pcf`
/// over `.pcf.gz`; the XLFDs lowercased, sorted by file name; the scalable font, the alias file
/// and what is not a font left out. Names that differ in case are told apart as mkfontscale's
/// table does (by a hash of the name as given): a font's own `FONT` beside fonts.scale's
/// lowercased spelling, `cursor` beside `CURSOR`. encodings.dir: every name and alias before the
/// mapping, sorted by line, duplicates kept.
#[test]
fn fonts_dir_and_encodings_dir_as_mkfontdir_writes_them() {
    let t = sample();
    let files = run(
        &t,
        &[
            "mkfontdir",
            "-e",
            "/usr/share/fonts/X11/encodings",
            "-e",
            "/usr/share/fonts/X11/encodings/large/",
            "/usr/share/fonts/X11/misc",
        ],
    )
    .unwrap();
    assert_eq!(
        text_of(&files, &format!("{MISC}/fonts.dir")).unwrap(),
        "8\n\
         10x20-ISO8859-1.pcf.gz -misc-fixed-medium-r-normal--20-200-75-75-c-100-iso8859-1\n\
         6x13.pcf.gz -misc-fixed-medium-r-semicondensed--13-120-75-75-c-60-iso10646-1\n\
         Scalable.ttf -misc-scaled-medium-r-normal--0-0-0-0-p-0-iso8859-1\n\
         Z.pfb -misc-fixed-medium-r-normal--20-200-75-75-c-100-iso8859-1\n\
         cursor.pcf cursor\n\
         cursor.pcf.gz cursor\n\
         misc.pcf misc\n\
         olgl10.bdf -sun-openlook glyph-----10-100-75-75-p-101-sun-fontspecific\n"
    );
    assert_eq!(
        text_of(&files, &format!("{MISC}/encodings.dir")).unwrap(),
        format!(
            "11\n\
         Russian /usr/share/fonts/X11/encodings/koi8-r.enc.gz\n\
         adobe-dingbats /usr/share/fonts/X11/encodings/dingbats.enc\n\
         after-bare /usr/share/fonts/X11/encodings/quirks.enc\n\
         big5.eten-0 /usr/share/fonts/X11/encodings/large/big5.eten-0.enc.gz\n\
         koi8-r /usr/share/fonts/X11/encodings/koi8-r.enc.gz\n\
         koi8-r /usr/share/fonts/X11/encodings/large/big5.eten-0.enc.gz\n\
         koi8r /usr/share/fonts/X11/encodings/koi8-r.enc.gz\n\
         l{long} /usr/share/fonts/X11/encodings/long.enc\n\
         num /usr/share/fonts/X11/encodings/quirks.enc\n\
         pct /usr/share/fonts/X11/encodings/quirks.enc\n\
         quirks /usr/share/fonts/X11/encodings/quirks.enc\n",
            long = "l".repeat(99)
        )
    );
    let (entry, _) = files.iter().find(|(e, _)| e.path.ends_with("fonts.dir")).unwrap();
    assert_eq!((entry.mode, entry.uid), (0o644, 0));
}

/// Without `-e`, an old encodings.dir is removed and none written; an existing fonts.dir keeps
/// its mode; a directory without fonts gets `0`.
#[test]
fn without_encodings_the_old_list_goes_and_fonts_dir_keeps_its_mode() {
    let mut t = MemTree::new();
    t.file("usr/share/fonts/X11/empty/encodings.dir", b"1\nx /x.enc\n")
        .file("usr/share/fonts/X11/empty/fonts.dir", b"9\n")
        .mode("usr/share/fonts/X11/empty/fonts.dir", 0o600);
    let mut o = Overlay::new(&t);
    apply(
        &mut o,
        &parse_call("mkfontdir", &args(&["/usr/share/fonts/X11/empty"])).unwrap(),
        0o022,
    )
    .unwrap();
    let (files, removed) = o.into_changes();
    assert_eq!(removed, ["usr/share/fonts/X11/empty/encodings.dir"]);
    let (entry, content) = &files[0];
    assert_eq!(
        (entry.path.as_str(), entry.mode, content.as_slice()),
        ("usr/share/fonts/X11/empty/fonts.dir", 0o600, &b"0\n"[..])
    );
}

/// What only FreeType would name, and an order the image does not fix, are refused with the
/// file; so are the forms that index scalable fonts and relative directories.
#[test]
fn what_takes_freetype_or_an_unfixed_order_is_refused() {
    let mut t = MemTree::new();
    t.file(
        &format!("{MISC}/noname.pcf.gz"),
        &gzip(&pcf(&[("FOUNDRY", "Misc")], false)),
    );
    let err = run(&t, &["mkfontdir", "/usr/share/fonts/X11/misc"]).unwrap_err();
    assert!(err.contains("noname.pcf.gz") && err.contains("FONT"), "{err}");

    let mut t = MemTree::new();
    t.file(&format!("{MISC}/a.pcf.gz"), &gzip(&pcf(&[("FONT", "x")], false)))
        .file(&format!("{MISC}/b.pcf.gz"), &gzip(&pcf(&[("FONT", "x")], false)));
    let err = run(&t, &["mkfontdir", "/usr/share/fonts/X11/misc"]).unwrap_err();
    assert!(err.contains("a.pcf.gz") && err.contains("b.pcf.gz"), "{err}");

    // A bitmap-only TrueType font (no outlines) is FreeType's to name.
    let mut t = MemTree::new();
    let mut bitmap_only = vec![0, 1, 0, 0, 0, 1, 0, 16, 0, 0, 0, 0];
    bitmap_only.extend_from_slice(b"EBLC");
    bitmap_only.extend_from_slice(&[0; 12]);
    t.file(&format!("{MISC}/strike.otb"), &bitmap_only);
    let err = run(&t, &["mkfontdir", "/usr/share/fonts/X11/misc"]).unwrap_err();
    assert!(err.contains("strike.otb"), "{err}");

    // Which of three files wins may depend on the order they are read in.
    let c = |priority: u32| Candidate {
        file: b"f".to_vec(),
        priority,
    };
    assert_eq!(
        order_free_winner(&[c(9), c(7), c(7)]).map(|w| w.priority),
        Some(9)
    );
    assert_eq!(order_free_winner(&[c(9), c(7), c(5)]), None);
    assert_eq!(order_free_winner(&[c(7), c(7)]), None);

    // BDF as mkfontscale reads it: keywords of 19 letters at most, a FONT line ended by a newline.
    for bdf in [
        &b"STARTFONT 2.1\nABCDEFGHIJKLMNOPQRST x\nFONT -k20-x\nCHARS 0\n"[..],
        b"STARTFONT 2.1\nFONT -eof-x",
    ] {
        let mut t = MemTree::new();
        t.file(&format!("{MISC}/f.bdf"), bdf);
        assert!(run(&t, &["mkfontdir", "/usr/share/fonts/X11/misc"]).is_err());
    }
    // A PCF whose table of contents claims more entries than the file holds is read quickly.
    let mut t = MemTree::new();
    t.file(&format!("{MISC}/huge.pcf"), b"\x01fcp\xff\xff\xff\x7f");
    assert!(run(&t, &["mkfontdir", "/usr/share/fonts/X11/misc"]).is_err());

    // Options as mkfontscale reads them: none after a directory; `-l` switches re-encoding.
    for refused in [
        &["-x", ".bak", "/d"][..],
        &["d"],
        &[],
        &["/d", "-e", "/enc"],
        &["-l", "/d"],
    ] {
        assert!(parse_call("mkfontdir", &args(refused)).is_err(), "{refused:?}");
    }
    assert!(parse_call("mkfontscale", &args(&["/d"])).is_err());
    assert_eq!(
        parse_call("mkfontscale", &args(&["-b", "-s", "-l", "-e", "/e/", "/d"])),
        Ok(FontsDirCall {
            encodings: vec!["/e".into()],
            dirs: vec!["/d".into()]
        })
    );
}

/// The host's own mkfontdir (xfonts-utils), where it is installed, writes the same bytes for the
/// sample directory.
#[test]
fn the_host_mkfontdir_writes_the_same_files() {
    let Some(tool) = host_tool("mkfontdir") else {
        eprintln!("note: mkfontdir (xfonts-utils) is not installed; the comparison is skipped");
        return;
    };
    assert!(have("mkfontdir"));
    let t = sample();
    let root = tempfile::tempdir().unwrap();
    t.materialise(root.path());
    let host = |rel: &str| root.path().join(rel).to_string_lossy().into_owned();
    let out = std::process::Command::new(tool)
        .args([
            "-e",
            &host(ENC),
            "-e",
            &host(&format!("{ENC}/large")),
            &host(MISC),
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let ours = run(
        &t,
        &[
            "mkfontdir",
            "-e",
            "/usr/share/fonts/X11/encodings",
            "-e",
            "/usr/share/fonts/X11/encodings/large",
            "/usr/share/fonts/X11/misc",
        ],
    )
    .unwrap();
    let prefix = root.path().to_string_lossy().into_owned();
    for name in ["fonts.dir", "encodings.dir"] {
        let theirs = std::fs::read_to_string(root.path().join(MISC).join(name)).unwrap();
        assert_eq!(
            text_of(&ours, &format!("{MISC}/{name}")).unwrap(),
            theirs.replace(&prefix, ""),
            "{name}"
        );
    }
}

/// update-fonts-dir's shape (xfonts-base's postinst): mkfontdir with both encoding directories,
/// then a directory whose fonts.dir says `0` is emptied and removed. What the script reads back
/// (`head -n 1 fonts.dir`) is what mkfontdir wrote.
#[test]
fn update_fonts_dir_indexes_a_directory_and_removes_an_empty_one() {
    let mut t = sample();
    t.dir("usr/share/fonts/X11/empty").dir("bin");
    let script = "#!/bin/sh\nset -e\nENCDIR=/usr/share/fonts/X11/encodings\n\
                  for XDIR in /usr/share/fonts/X11/misc /usr/share/fonts/X11/empty; do\n\
                  \x20 if [ -d \"$ENCDIR\" ] && [ -d \"$ENCDIR/large\" ]; then\n\
                  \x20   mkfontdir -e \"$ENCDIR\" -e \"$ENCDIR/large\" \"$XDIR\"\n\
                  \x20 else\n    mkfontdir \"$XDIR\"\n  fi\n\
                  \x20 if [ \"$(head -n 1 \"$XDIR/fonts.dir\")\" = \"0\" ]; then\n\
                  \x20   rm -f \"$XDIR/fonts.dir\" \"$XDIR/encodings.dir\"\n\
                  \x20   rmdir \"$XDIR\" >/dev/null 2>&1 || true\n  fi\ndone\n";
    let pkg = super::super::testutil::with_postinst("xfonts-base", script);
    let (changes, report) = super::super::files::compute(&t, &[pkg]).unwrap();
    assert!(report.is_empty(), "{report:?}");
    let dir = changes
        .files
        .iter()
        .find(|(e, _)| e.path == format!("{MISC}/fonts.dir"))
        .map(|(_, c)| String::from_utf8_lossy(c).into_owned());
    assert!(dir.is_some_and(|d| d.starts_with("8\n")));
    assert!(
        changes
            .files
            .iter()
            .any(|(e, _)| e.path == format!("{MISC}/encodings.dir"))
    );
    assert!(
        changes.removed.iter().any(|p| p == "usr/share/fonts/X11/empty"),
        "{:?}",
        changes.removed
    );
    assert!(
        changes
            .files
            .iter()
            .all(|(e, _)| !e.path.starts_with("usr/share/fonts/X11/empty"))
    );
}
