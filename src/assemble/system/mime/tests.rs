use super::super::testutil::MemTree;
use super::*;

use std::collections::BTreeMap;
use std::path::Path;

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/mime");

/// Every regular file below `dir`, by path relative to it.
fn read_tree(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<String, Vec<u8>>) {
        let mut entries: Vec<_> = std::fs::read_dir(dir)
            .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
            .map(|e| e.unwrap_or_else(|e| panic!("{}: {e}", dir.display())).path())
            .collect();
        entries.sort();
        for path in entries {
            if path.is_dir() {
                walk(root, &path, out);
            } else {
                let rel = path
                    .strip_prefix(root)
                    .unwrap_or(&path)
                    .to_string_lossy()
                    .into_owned();
                let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
                out.insert(rel, bytes);
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(dir, dir, &mut out);
    out
}

fn fixture_database() -> Database {
    let sources = read_tree(&Path::new(FIXTURES).join("packages"));
    let names: Vec<String> = sources.keys().cloned().collect();
    let mut db = Database::default();
    for name in source::source_order(&names) {
        let text = String::from_utf8(sources[&name].clone()).expect("fixture is UTF-8");
        db.load(&name, &text).unwrap_or_else(|e| panic!("{name}: {e:?}"));
    }
    db
}

/// A readable account of where two files first differ.
fn first_difference(want: &[u8], got: &[u8]) -> String {
    let at = want
        .iter()
        .zip(got)
        .position(|(a, b)| a != b)
        .unwrap_or(want.len().min(got.len()));
    let show =
        |b: &[u8]| String::from_utf8_lossy(&b[at.saturating_sub(40)..(at + 40).min(b.len())]).into_owned();
    format!(
        "first difference at byte {at} (lengths {} and {}):\n  want …{:?}…\n  got  …{:?}…",
        want.len(),
        got.len(),
        show(want),
        show(got)
    )
}

#[test]
fn every_file_is_what_update_mime_database_2_2_wrote() {
    let db = fixture_database();
    let want = read_tree(&Path::new(FIXTURES).join("expected"));
    let got: BTreeMap<String, Vec<u8>> = files(&db, "2.2")
        .into_iter()
        .filter_map(|(path, _, content)| content.map(|c| (path, c)))
        .collect();
    let missing: Vec<&String> = want.keys().filter(|k| !got.contains_key(*k)).collect();
    let extra: Vec<&String> = got.keys().filter(|k| !want.contains_key(*k)).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "missing {missing:?}, extra {extra:?}"
    );
    let differing: Vec<String> = want
        .iter()
        .filter(|(path, bytes)| got[*path] != **bytes)
        .map(|(path, bytes)| format!("{path}: {}", first_difference(bytes, &got[path])))
        .collect();
    assert!(
        differing.is_empty(),
        "{} files differ:\n{}",
        differing.len(),
        differing.join("\n")
    );
}

#[test]
fn errors_cut_a_type_short_and_are_recorded() {
    let db = fixture_database();
    assert!(
        db.warnings
            .iter()
            .any(|w| w.contains("image/x-debcast-broken") && w.contains("Bad weight")),
        "{:?}",
        db.warnings
    );
    // The glob with the bad weight is kept (as update-mime-database keeps it); the comment after
    // it is not read.
    assert!(db.globs.get("*.dcb").is_some_and(|g| g[0].weight == -1));
    let broken = db.types.get("image/x-debcast-broken").expect("type kept");
    let text = String::from_utf8(xmlsave::document(&broken.output)).expect("UTF-8");
    assert!(!text.contains("jamais lu"), "{text}");
    // A rejected <magic> ends its type before the glob after it.
    assert!(db.globs.get("*.never").is_none());
}

#[test]
fn directories_are_made_for_each_media_type() {
    let db = fixture_database();
    let dirs: Vec<(String, u32)> = files(&db, "2.2")
        .into_iter()
        .filter(|(_, _, c)| c.is_none())
        .map(|(p, mode, _)| (p, mode))
        .collect();
    for media in ["application", "text", "video", "weird", "x-scheme-handler"] {
        assert!(dirs.contains(&(media.to_owned(), 0o755)), "{media} in {dirs:?}");
    }
}

#[test]
fn a_document_libxml2_would_read_differently_is_refused() {
    let mut db = Database::default();
    let cdata = "<mime-info xmlns=\"http://www.freedesktop.org/standards/shared-mime-info\">\
                 <mime-type type=\"a/b\"><comment><![CDATA[x]]></comment></mime-type></mime-info>";
    assert!(db.load("cdata.xml", cdata).is_err());
    let entity = "<?xml version=\"1.0\"?>\n<!DOCTYPE mime-info [<!ENTITY app \"Debcast\">]>\n\
                  <mime-info xmlns=\"http://www.freedesktop.org/standards/shared-mime-info\">\
                  <mime-type type=\"a/b\"><comment>&app; file</comment></mime-type></mime-info>";
    assert!(db.load("entity.xml", entity).is_err());
    let undeclared = "<mime-info xmlns=\"http://www.freedesktop.org/standards/shared-mime-info\">\
                      <mime-type type=\"a/b\"><p:x/></mime-type></mime-info>";
    let err = db.load("prefix.xml", undeclared).expect_err("undeclared prefix");
    assert!(err.0.contains("prefix.xml"), "{err:?}");
}

#[test]
fn other_documents_are_skipped_with_a_warning() {
    let mut db = Database::default();
    db.load("other.xml", "<other xmlns=\"http://example.org\"/>")
        .expect("read");
    db.load(
        "root.xml",
        "<mime-types xmlns=\"http://www.freedesktop.org/standards/shared-mime-info\"/>",
    )
    .expect("read");
    assert!(db.types.is_empty());
    assert_eq!(db.warnings.len(), 2, "{:?}", db.warnings);
}

#[test]
fn sources_are_read_by_name_with_override_last() {
    let names: Vec<String> = ["b.xml", "Override.xml", "A.xml", "notes.txt", ".xml", "a.xml"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    assert_eq!(
        source::source_order(&names),
        [".xml", "A.xml", "a.xml", "b.xml", "Override.xml"]
    );
}

#[test]
fn magic_values_follow_c_conventions() {
    assert_eq!(magic::unescape(r"PK\003\004"), b"PK\x03\x04");
    assert_eq!(magic::unescape(r"\x7fELF\x"), b"\x7fELFx");
    assert_eq!(magic::unescape(r"a\tb\\c\q\"), b"a\tb\\cq");
    assert_eq!(magic::unescape(r"\777\18"), [0xff, 0x01, b'8']);
    assert_eq!(magic::strtoul("0x1F"), Some((31, "")));
    assert_eq!(magic::strtoul("0777"), Some((511, "")));
    assert_eq!(magic::strtoul("  12abc"), Some((12, "abc")));
    assert_eq!(magic::strtoul("-1"), Some((u64::MAX, "")));
    assert_eq!(magic::strtoul("0x"), Some((0, "x")));
    assert_eq!(magic::strtoul("99999999999999999999"), None);
    assert_eq!(magic::strtol("10:5"), Some((10, ":5")));
    assert_eq!(magic::strtol("abc"), Some((0, "abc")));
}

#[test]
fn str_table_keeps_first_slots_and_finds_everything_after_growth() {
    let mut t = super::super::ghash::StrTable::new();
    for i in 0..500 {
        t.insert(&format!("key{i}"), i);
    }
    let order: Vec<String> = t.keys().map(str::to_owned).collect();
    t.insert("key7", 7000);
    assert_eq!(
        t.keys().map(str::to_owned).collect::<Vec<_>>(),
        order,
        "a value update moves nothing"
    );
    assert_eq!(t.len(), 500);
    assert_eq!(t.get("key7"), Some(&7000));
    assert!((0..500).all(|i| t.contains(&format!("key{i}"))));
    assert!(!t.contains("key500"));
}

#[test]
fn str_hash_reads_bytes_as_signed_char() {
    // djb2 over `signed char`: a byte ≥ 0x80 is subtracted, not added.
    assert_eq!(super::super::ghash::str_hash(""), 5381);
    assert_eq!(super::super::ghash::str_hash("a"), 5381 * 33 + 97);
    assert_eq!(
        super::super::ghash::str_hash("\u{e9}"),
        (5381u32 * 33)
            .wrapping_sub(0x3d)
            .wrapping_mul(33)
            .wrapping_sub(0x57)
    );
}

fn shared_mime_info(version: &str) -> InstalledPackage {
    InstalledPackage {
        name: "shared-mime-info".into(),
        version: version.into(),
        ..InstalledPackage::default()
    }
}

fn tree_with_sources() -> MemTree {
    let mut tree = MemTree::default();
    tree.dir("usr/share/mime");
    tree.dir("usr/share/mime/packages");
    tree.dir("usr/share/mime/application");
    // A generated file left from elsewhere, for a type no source defines.
    tree.file("usr/share/mime/application/x-stale.xml", b"old");
    tree.file(
        "usr/share/mime/packages/debcast.xml",
        b"<?xml version=\"1.0\"?>\n<mime-info xmlns=\"http://www.freedesktop.org/standards/shared-mime-info\">\n\
          <mime-type type=\"application/x-debcast\"><comment>Debcast</comment><glob pattern=\"*.dc\"/></mime-type>\n</mime-info>\n",
    );
    tree
}

#[test]
fn the_database_is_built_where_shared_mime_info_is_installed() {
    let tree = tree_with_sources();
    let (changes, report) = compute(&tree, &[shared_mime_info("2.2-1")]).expect("compute");
    assert!(report.is_empty(), "{report:?}");
    let paths: Vec<&str> = changes.files.iter().map(|(e, _)| e.path.as_str()).collect();
    for want in [
        "usr/share/mime/application/x-debcast.xml",
        "usr/share/mime/globs2",
        "usr/share/mime/mime.cache",
        "usr/share/mime/version",
    ] {
        assert!(paths.contains(&want), "{want} in {paths:?}");
    }
    // The existing media directory is left as it is.
    assert!(!paths.contains(&"usr/share/mime/application"), "{paths:?}");
    assert_eq!(changes.removed, ["usr/share/mime/application/x-stale.xml"]);
    let version = changes
        .files
        .iter()
        .find(|(e, _)| e.path == "usr/share/mime/version")
        .map(|(_, c)| c.clone());
    assert_eq!(version.as_deref(), Some(&b"2.2\n"[..]));
}

#[test]
fn nothing_is_built_without_shared_mime_info() {
    let (changes, report) = compute(&tree_with_sources(), &[]).expect("compute");
    assert!(changes.files.is_empty() && changes.removed.is_empty() && report.is_empty());
}

#[test]
fn another_version_is_reported_not_guessed() {
    let (changes, report) = compute(&tree_with_sources(), &[shared_mime_info("2.4-5")]).expect("compute");
    assert!(changes.files.is_empty(), "{:?}", changes.files);
    assert_eq!(report.len(), 1, "{report:?}");
    assert_eq!(report[0].package, "shared-mime-info");
    assert!(report[0].what.contains("2.4"), "{}", report[0].what);
    assert!(
        report[0].what.starts_with("update-mime-database /usr/share/mime"),
        "{}",
        report[0].what
    );
}

#[test]
fn an_unreadable_source_is_reported_with_its_path() {
    let mut tree = tree_with_sources();
    tree.file(
        "usr/share/mime/packages/zz.xml",
        b"<mime-info><unclosed></mime-info>",
    );
    let (changes, report) = compute(&tree, &[shared_mime_info("2.2-1")]).expect("compute");
    assert!(changes.files.is_empty());
    assert!(
        report[0].what.contains("/usr/share/mime/packages/zz.xml"),
        "{report:?}"
    );
}

#[test]
fn only_the_system_database_counts_as_emulated() {
    let args = |a: &[&str]| a.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    assert!(commands::updates_system_mime_database(&args(&[
        "/usr/share/mime"
    ])));
    assert!(commands::updates_system_mime_database(&args(&[
        "-n",
        "/usr/share/mime/"
    ])));
    assert!(!commands::updates_system_mime_database(&args(&[
        "/usr/local/share/mime"
    ])));
    assert!(!commands::updates_system_mime_database(&args(&[])));
    assert_eq!(
        commands::classify("update-mime-database", &args(&["/usr/share/mime"])),
        Kind::Emulated
    );
    assert!(matches!(
        commands::classify("update-mime-database", &args(&["/opt/mime"])),
        Kind::ImageCode(_)
    ));
}

#[test]
fn without_a_packages_directory_nothing_is_written() {
    let mut tree = MemTree::default();
    tree.dir("usr/share/mime");
    let (changes, report) = compute(&tree, &[shared_mime_info("2.2-1")]).expect("compute");
    assert!(changes.files.is_empty() && changes.removed.is_empty() && report.is_empty());
}
