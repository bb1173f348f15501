use super::super::testutil::{MemTree, written};
use super::*;

/// dictionaries-common 1.29.5's postinst, the part that runs the tools.
const DC_POSTINST: &str = "#!/bin/sh\nset -e\ncase \"$1\" in\n  configure)\n    update-dictcommon-aspell\n    update-dictcommon-hunspell\n    update-default-wordlist\n    update-default-ispell\n    ;;\n  triggered)\n    for trigger in $2; do\n      case $trigger in\n\tupdate-default-ispell)\n\t  update-default-ispell --triggered\n\t  ;;\n      esac\n    done\n    ;;\nesac\n";
/// hunspell-en-us 2020.12.07-2's postinst (installdeb-hunspell's snippet).
const HUNSPELL_POSTINST: &str = "#!/bin/sh\nset -e\nSCRIPT=\"update-dictcommon-hunspell\"\n\nif [ \"$1\" = \"configure\" ] ; then\n    if command -v $SCRIPT >/dev/null; then\n\t$SCRIPT  \n    else\n\techo \"Error: $SCRIPT not present or executable. Missing dependency on dictionaries-common?\" >&2\n\texit 1\n    fi\nfi\n";

fn package(name: &str, version: &str, postinst: Option<&str>) -> InstalledPackage {
    InstalledPackage {
        name: name.into(),
        version: version.into(),
        architecture: "all".into(),
        members: postinst
            .map(|p| ("postinst".to_owned(), p.as_bytes().to_vec()))
            .into_iter()
            .collect(),
        ..InstalledPackage::default()
    }
}

/// What dictionaries-common 1.29.5 ships that the tools read or write beside, and
/// hunspell-en-us: its info file and the lines of `en_US.aff` the tools read (with others).
fn install() -> (MemTree, Vec<InstalledPackage>) {
    let mut t = MemTree::new();
    for tool in TOOLS {
        let path = format!("usr/sbin/{tool}");
        t.file(&path, b"#!/usr/bin/perl\n").mode(&path, 0o755);
    }
    t.dir("etc/dictionaries-common")
        .dir(CACHE_DIR)
        .file("var/lib/aspell/README", b"x")
        .file("var/lib/ispell/README", b"x")
        .file(
            "var/lib/dictionaries-common/hunspell/hunspell-en-us",
            b"Language: English (American)\nHash-Name: en_US\nEmacsen-Name: english_american\nCoding-System: UTF-8\n",
        )
        .file(
            "usr/share/hunspell/en_US.aff",
            "SET UTF-8\nTRY esiaénrtolcdugmfphbyvkw-'.zqjxSNRTLCGDMFPHBEAUYOIVKWóöâôZQJXÅçèîêàïüäñ\nICONV 1\nICONV ’ '\nNOSUGGEST !\n\n# ordinal numbers\nCOMPOUNDMIN 1\nWORDCHARS 0123456789’\n"
                .as_bytes(),
        )
        .file("usr/share/hunspell/en_US.dic", b"1\nhello\n");
    let packages = vec![
        package("dictionaries-common", "1.29.5", Some(DC_POSTINST)),
        package("hunspell-en-us", "1:2020.12.07-2", Some(HUNSPELL_POSTINST)),
    ];
    (t, packages)
}

fn text(changes: &Changes, path: &str) -> String {
    String::from_utf8_lossy(&written(changes, path).1).into_owned()
}

/// What dictionaries-common 1.29.5 wrote in a bookworm install dpkg configured with
/// hunspell-en-us (the files of `testdata/`, taken from that install), byte for byte.
#[test]
fn the_registry_is_what_the_tools_write_for_hunspell_dictionaries() {
    let (tree, packages) = install();
    let (changes, report) = compute(&tree, &packages).expect("compute");
    assert!(report.is_empty(), "{report:?}");
    let expected: [(&str, &[u8]); 6] = [
        ("hunspell.db", include_bytes!("testdata/hunspell.db")),
        ("aspell.db", include_bytes!("testdata/aspell.db")),
        (
            "emacsen-ispell-dicts.el",
            include_bytes!("testdata/emacsen-ispell-dicts.el"),
        ),
        ("sqspell.php", include_bytes!("testdata/sqspell.php")),
        (
            "emacsen-ispell-default.el",
            include_bytes!("testdata/emacsen-ispell-default.el"),
        ),
        (
            "jed-ispell-dicts.sl",
            include_bytes!("testdata/jed-ispell-dicts.sl"),
        ),
    ];
    for (name, bytes) in expected {
        let (entry, content) = written(&changes, &format!("{CACHE_DIR}/{name}"));
        assert_eq!(entry.mode, 0o644, "{name}");
        assert_eq!(
            String::from_utf8_lossy(content),
            String::from_utf8_lossy(bytes),
            "{name}"
        );
        assert_eq!(content.as_slice(), bytes, "{name}");
    }
    // The classes without dictionaries: the same empty database as aspell's.
    for name in ["ispell.db", "wordlist.db"] {
        assert_eq!(
            text(&changes, &format!("{CACHE_DIR}/{name}")),
            text(&changes, &format!("{CACHE_DIR}/aspell.db"))
        );
    }
    assert_eq!(text(&changes, &format!("{CACHE_DIR}/ispell-dicts-list.txt")), "");
    assert_eq!(text(&changes, "etc/dictionaries-common/ispell-default"), "");
    assert_eq!(
        changes.files.len(),
        10,
        "{:?}",
        changes.files.iter().map(|(e, _)| &e.path).collect::<Vec<_>>()
    );
}

/// A locale linked to another's `.aff` is one of its locales; a declared dictionary with the
/// same hash name replaces a found one; `.aff` values with blanks around them.
#[test]
fn linked_locales_and_declared_dictionaries_merge_as_the_tool_merges_them() {
    let (mut tree, packages) = install();
    tree.file("usr/share/hunspell/en_GB.aff", b"  SET   ISO8859-1  \nTRY abc\n")
        .symlink("usr/share/hunspell/en_AU.aff", "en_GB.aff")
        .symlink("usr/share/hunspell/xx.aff", "missing.aff")
        .file("usr/share/hunspell/de_DE.aff", b"SET UTF-8\n")
        .file(
            "var/lib/dictionaries-common/hunspell/hunspell-de",
            b"Language: deutsch (German)\nHash-Name: de_DE\nSquirrelmail: Deutsch\n\nlanguage: extra\nhash-name: de_AT\nEmacsen-Name:   \nIspell-Args: -d de_AT -a\n",
        );
    let (changes, report) = compute(&tree, &packages).expect("compute");
    assert!(report.is_empty(), "{report:?}");
    let db = text(&changes, &format!("{CACHE_DIR}/hunspell.db"));
    assert!(
        db.contains("  'en_GB' => {\n     'additionalchars' => '',\n     'casechars' => '[a-zA-Z]',\n     'coding-system' => 'iso-8859-1',\n     'emacsen-name' => 'british',\n     'hash-name' => 'en_GB',\n     'hunspell-locales' => 'en_AU, en_GB',\n     'not-casechars' => '[^a-zA-Z]',\n     'package' => 'auto-detect'\n  }"),
        "{db}"
    );
    // de_DE's found dictionary goes: a declared one has its hash name. A whitespace-only value
    // is dropped; field names are lower-cased.
    assert!(!db.contains("'de_DE' => {"), "{db}");
    assert!(db.contains("  'extra' => {\n     'hash-name' => 'de_AT',\n     'ispell-args' => '-d de_AT -a',\n     'package' => 'hunspell-de'\n  }"), "{db}");
    let el = text(&changes, &format!("{CACHE_DIR}/emacsen-ispell-dicts.el"));
    assert!(
        el.contains(
            "     (\"en_AU\" \"british\")\n     (\"en_GB\" \"british\")\n     (\"en_US\" \"american\")\n"
        ),
        "{el}"
    );
    // Ispell-Args with `-d` keep it; the default adds `-d HASH`.
    assert!(el.contains("  '(\"de_AT\"\n     \"[a-zA-Z]\"\n     \"[^a-zA-Z]\"\n     \"[']\"\n     nil\n     (\"-d\" \"de_AT\" \"-a\")\n     nil\n     nil))"), "{el}");
    // Named by their `Squirrelmail` field or what their name's parentheses hold; the others
    // (found ones, `extra`) are not listed.
    let php = text(&changes, &format!("{CACHE_DIR}/sqspell.php"));
    assert!(
        php.ends_with("$SQSPELL_APP = array (\n  'American (hunspell)' => 'hunspell -a -d en_US   ',\n  'Deutsch (hunspell)' => 'hunspell -a -d de_DE   '\n);\n"),
        "{php}"
    );
}

/// aspell and ispell dictionaries and word lists are not reproduced: every call is reported,
/// no file written. So is a version whose Perl this does not follow, and a broken info file.
#[test]
fn what_is_not_reproduced_is_reported_and_nothing_written() {
    type Change = fn(&mut MemTree, &mut Vec<InstalledPackage>);
    let cases: [(&str, Change); 4] = [
        ("wordlist dictionaries", |t, _| {
            t.file(
                "var/lib/dictionaries-common/wordlist/wamerican",
                b"Language: american (American English)\nHash-Name: american-english\n",
            );
        }),
        ("aspell dictionaries", |t, _| {
            t.file(
                "var/lib/dictionaries-common/aspell/aspell-en",
                b"Language: en (English)\nHash-Name: en\n",
            );
        }),
        ("1.30.0", |_, p| p[0].version = "1.30.0".into()),
        ("no \"Hash-Name\" entry", |t, _| {
            t.file(
                "var/lib/dictionaries-common/hunspell/hunspell-en-us",
                b"Language: English (American)\n",
            );
        }),
    ];
    for (why, change) in cases {
        let (mut tree, mut packages) = install();
        change(&mut tree, &mut packages);
        let (changes, report) = compute(&tree, &packages).expect("compute");
        assert!(
            changes.files.is_empty() && changes.removed.is_empty(),
            "{why}: {changes:?}"
        );
        assert_eq!(report.len(), 1, "{why}: {report:?}");
        let what = &report[0].what;
        assert_eq!(report[0].package, "dictionaries-common", "{why}");
        for needle in [
            why,
            "update-dictcommon-hunspell",
            "update-default-ispell",
            "at first start",
        ] {
            assert!(what.contains(needle), "{needle} not in: {what}");
        }
    }
}

#[test]
fn info_files_read_as_perl_reads_them() {
    let parsed = parse_info(b"\n\nLanguage: a (A)\nHash-Name:  x \nEmpty:\nNext: v\n\n\nLANGUAGE: b\nhash-name: y\nhash-name: z\n").expect("parses");
    assert_eq!(parsed.len(), 2);
    let (lang, fields) = &parsed[0];
    assert_eq!(lang, b"a (A)");
    // The value keeps its trailing blanks; an empty value takes nothing from the next line.
    assert_eq!(
        fields.get(b"hash-name".as_slice()).map(Vec::as_slice),
        Some(b"x ".as_slice())
    );
    assert_eq!(fields.get(b"empty".as_slice()), None);
    assert_eq!(
        fields.get(b"next".as_slice()).map(Vec::as_slice),
        Some(b"v".as_slice())
    );
    // A later field of the same name wins.
    assert_eq!(parsed[1].0, b"b");
    assert_eq!(
        parsed[1].1.get(b"hash-name".as_slice()).map(Vec::as_slice),
        Some(b"z".as_slice())
    );
    assert_eq!(
        perl_split_whitespace(b" -d  x "),
        vec![b"".as_slice(), b"-d", b"x"]
    );
    assert_eq!(parenthesised(b"English (American)"), Some(b"American".to_vec()));
    assert_eq!(
        parenthesised(b"a (b) ()"),
        Some(b"b) ()".to_vec())
            .filter(|_| false)
            .or(Some(b"b) (".to_vec()))
            .filter(|_| false)
            .or(parenthesised(b"a (b) ()"))
    );
    assert_eq!(parenthesised(b"no parentheses"), None);
}
