use super::super::files;
use super::super::testutil::MemTree;
use super::*;

const PHP_CLI: &str = include_str!("../../../../tests/data/scripts/bookworm/php8.2-cli.postinst");

use super::super::testutil::with_postinst as pkg;

use super::super::testutil::written as file;

/// A tree after ucf's own postinst (`touch /var/lib/ucf/hashfile /var/lib/ucf/registry`) and
/// php8.2-cli's unpack, with `size` bytes of php.ini.
fn php_tree(size: usize) -> (MemTree, Vec<u8>) {
    let ini: Vec<u8> = b"; PHP's initialization file\n"
        .iter()
        .copied()
        .cycle()
        .take(size)
        .collect();
    let mut t = MemTree::new();
    t.tools(&["ucf", "ucfr"]);
    t.dir("etc/php/8.2/cli/conf.d")
        .dir("var/lib/ucf")
        .file("var/lib/ucf/hashfile", b"")
        .file("var/lib/ucf/registry", b"")
        .file("usr/lib/php/8.2/php.ini-production.cli", &ini);
    (t, ini)
}

/// php8.2-cli 8.2.36-1~deb12u1's postinst: `ucf NEW DEST` then `ucfr PKG DEST`, as ucf 3.0043
/// leaves them on a fresh install (php.ini is over 25600 bytes: no cache copy without
/// `--three-way`).
#[test]
fn php_cli_configuration_as_ucf_installs_it() {
    let (t, ini) = php_tree(73_000);
    let (changes, report) = files::compute(&t, &[pkg("php8.2-cli", PHP_CLI)]).unwrap();
    assert!(report.is_empty(), "{report:?}");
    let (e, content) = file(&changes, "etc/php/8.2/cli/php.ini");
    assert_eq!(content, &ini);
    assert_eq!((e.mode, e.uid, e.gid), (0o644, 0, 0));
    let sum = hex::encode(Md5::digest(&ini));
    assert_eq!(
        file(&changes, "var/lib/ucf/hashfile").1,
        format!("{sum}  /etc/php/8.2/cli/php.ini\n").as_bytes()
    );
    assert_eq!(
        file(&changes, "var/lib/ucf/registry").1,
        b"php8.2-cli \t /etc/php/8.2/cli/php.ini\n"
    );
    for backup in ["var/lib/ucf/hashfile.0", "var/lib/ucf/registry.0"] {
        let (e, content) = file(&changes, backup);
        assert!(content.is_empty(), "{backup}");
        assert_eq!(e.mode, 0o644, "{backup}");
    }
    assert!(file(&changes, "var/lib/ucf/cache").0.is_dir());
    assert!(
        changes
            .files
            .iter()
            .all(|(e, _)| !e.path.starts_with("var/lib/ucf/cache/"))
    );
}

/// Below 25600 bytes (or with `--three-way`) ucf keeps NEW in its cache, named after DEST; a
/// second call keeps the first file's line and rotates the backups; a destination that exists
/// already without a recorded sum would send ucf to historical sums or a question: refused.
#[test]
fn cache_rotation_and_existing_destinations() {
    let (mut t, ini) = php_tree(100);
    t.file("usr/share/foo/foo.conf", b"x=1\n");
    let script = format!(
        "{}\nucf --three-way --debconf-ok --sum-file /usr/share/foo/foo.conf.md5sum \
         /usr/share/foo/foo.conf /etc/foo.conf\nucfr foo /etc/foo.conf\n",
        PHP_CLI.trim_end().trim_end_matches("exit 0")
    );
    let (changes, report) = files::compute(&t, &[pkg("php8.2-cli", &script)]).unwrap();
    assert!(report.is_empty(), "{report:?}");
    let (e, cached) = file(&changes, "var/lib/ucf/cache/:etc:php:8.2:cli:php.ini");
    assert_eq!((cached, e.mode), (&ini, 0o644));
    assert_eq!(file(&changes, "var/lib/ucf/cache/:etc:foo.conf").1, b"x=1\n");
    let php = hex::encode(Md5::digest(&ini));
    let foo = hex::encode(Md5::digest(b"x=1\n"));
    assert_eq!(
        file(&changes, "var/lib/ucf/hashfile").1,
        format!("{php}  /etc/php/8.2/cli/php.ini\n{foo}  /etc/foo.conf\n").as_bytes()
    );
    assert_eq!(
        file(&changes, "var/lib/ucf/hashfile.0").1,
        format!("{php}  /etc/php/8.2/cli/php.ini\n").as_bytes()
    );
    assert!(file(&changes, "var/lib/ucf/hashfile.1").1.is_empty());
    assert_eq!(
        file(&changes, "var/lib/ucf/registry").1,
        b"php8.2-cli \t /etc/php/8.2/cli/php.ini\nfoo \t /etc/foo.conf\n"
    );

    t.file("etc/foo.conf", b"mine\n");
    let script = "#!/bin/sh\nucf /usr/share/foo/foo.conf /etc/foo.conf\nucfr foo /etc/foo.conf\nucfr bar /etc/foo.conf\n";
    let (changes, report) = files::compute(&t, &[pkg("foo", script)]).unwrap();
    let what: Vec<&str> = report.iter().map(|r| r.what.as_str()).collect();
    assert_eq!(
        what,
        [
            "ucf /usr/share/foo/foo.conf /etc/foo.conf (/etc/foo.conf exists and ucf's hash file has no single sum for it: ucf would look for historical sums (and may ask))",
            "ucfr bar /etc/foo.conf (/etc/foo.conf is registered to foo: ucfr refuses without --force)",
        ]
    );
    assert!(
        changes.files.iter().all(|(e, _)| e.path != "etc/foo.conf"),
        "the file is left alone"
    );
}

/// A destination ucf installed and nobody changed: the same version again does nothing; a new
/// one replaces it in place (`cp -f`: the destination's mode kept), its sum and cached copy
/// follow, the previous hash file is `hashfile.0`. One changed since would make ucf ask: refused,
/// the file left as it is.
#[test]
fn an_unchanged_destination_is_replaced_by_a_new_version() {
    let mut t = MemTree::new();
    t.tools(&["ucf", "ucfr"]);
    t.dir("etc")
        .dir("var/lib/ucf")
        .file("var/lib/ucf/hashfile", b"")
        .dir("usr/share/foo")
        .file("usr/share/foo/v1", b"x=1\n")
        .file("usr/share/foo/v2", b"x=2\n");
    let script = "#!/bin/sh\nucf /usr/share/foo/v1 /etc/foo.conf\nchmod 640 /etc/foo.conf\n\
                  ucf /usr/share/foo/v1 /etc/foo.conf\nucf /usr/share/foo/v2 /etc/foo.conf\n";
    let (changes, report) = files::compute(&t, &[pkg("foo", script)]).unwrap();
    assert!(report.is_empty(), "{report:?}");
    let (e, body) = file(&changes, "etc/foo.conf");
    assert_eq!((body.as_slice(), e.mode), (&b"x=2\n"[..], 0o640));
    let (v1, v2) = (
        hex::encode(Md5::digest(b"x=1\n")),
        hex::encode(Md5::digest(b"x=2\n")),
    );
    assert_eq!(
        file(&changes, "var/lib/ucf/hashfile").1,
        format!("{v2}  /etc/foo.conf\n").as_bytes()
    );
    // Two rotations (the creation, the replacement; the identical call rotates nothing).
    assert_eq!(
        file(&changes, "var/lib/ucf/hashfile.0").1,
        format!("{v1}  /etc/foo.conf\n").as_bytes()
    );
    assert!(file(&changes, "var/lib/ucf/hashfile.1").1.is_empty());
    assert!(
        changes
            .files
            .iter()
            .all(|(e, _)| e.path != "var/lib/ucf/hashfile.2")
    );
    assert_eq!(file(&changes, "var/lib/ucf/cache/:etc:foo.conf").1, b"x=2\n");

    let script = "#!/bin/sh\nucf /usr/share/foo/v1 /etc/foo.conf\necho local >>/etc/foo.conf\n\
                  ucf /usr/share/foo/v2 /etc/foo.conf\n";
    let (changes, report) = files::compute(&t, &[pkg("foo", script)]).unwrap();
    let what: Vec<&str> = report.iter().map(|r| r.what.as_str()).collect();
    assert_eq!(
        what,
        [
            "ucf /usr/share/foo/v2 /etc/foo.conf (/etc/foo.conf was changed since ucf installed it: ucf would ask)"
        ]
    );
    assert_eq!(file(&changes, "etc/foo.conf").1, b"x=1\nlocal\n");
}

#[test]
fn options_that_change_the_outcome_are_not_guessed() {
    let args = |s: &str| s.split_whitespace().map(str::to_owned).collect::<Vec<_>>();
    assert!(handles("ucf", &args("--three-way --debconf-ok -d5 /a /etc/b")));
    assert!(handles("ucf", &args("-three-way --sum-file /s /a /etc/b")));
    for refused in [
        "--purge /a /etc/b",
        "-n /a /etc/b",
        "--state-dir /x /a /etc/b",
        "/a",
        "/a etc/b",
    ] {
        assert!(!handles("ucf", &args(refused)), "{refused}");
    }
    assert!(handles("ucfr", &args("--force foo /etc/b")));
    assert!(handles("ucfr", &args("--purge foo /etc/b")));
    assert!(handles("ucf", &args("--purge /etc/b")));
    assert!(!handles("ucfr", &args("foo etc/b")));
}

/// dh_ucf's calls name NEW relative to the working directory (postgrey's `ucf
/// "usr/share/postgrey/postgrey-default" "/etc/default/postgrey"`): dpkg runs the script in `/`,
/// and after a `cd` the path is relative to where the script went.
#[test]
fn a_relative_new_file_is_read_from_the_working_directory() {
    let mut t = MemTree::new();
    t.tools(&["ucf", "ucfr"]);
    t.dir("etc/default")
        .dir("var/lib/ucf")
        .file("var/lib/ucf/hashfile", b"")
        .file("var/lib/ucf/registry", b"")
        .file("usr/share/p/p-default", b"A=1\n")
        .file("usr/share/p/other", b"B=2\n");
    let script = "#!/bin/sh\nset -e\nucf \"usr/share/p/p-default\" \"/etc/default/p\"\nucfr p /etc/default/p\n\
                  cd /usr/share\nucf p/other /etc/default/other\n";
    let (changes, report) = files::compute(&t, &[pkg("p", script)]).unwrap();
    assert!(report.is_empty(), "{report:?}");
    assert_eq!(file(&changes, "etc/default/p").1, b"A=1\n");
    assert_eq!(file(&changes, "etc/default/other").1, b"B=2\n");
    assert!(
        String::from_utf8_lossy(&file(&changes, "var/lib/ucf/hashfile").1).contains("  /etc/default/p\n")
    );
}

/// `ucf --purge` and `ucfr --purge` of a file never installed (a postinst forgetting its old
/// logrotate file on a fresh install): the hash files still rotate, as ucf does; the registry,
/// which has no line for it, is left alone; a registered file loses its line and cached copy.
#[test]
fn purging_rotates_and_forgets() {
    let (t, ini) = php_tree(100);
    let script = format!(
        "{}\nucf --purge /etc/logrotate.d/php\nucfr --purge php8.2-cli /etc/logrotate.d/php\n",
        PHP_CLI.trim_end().trim_end_matches("exit 0")
    );
    let (changes, report) = files::compute(&t, &[pkg("php8.2-cli", &script)]).unwrap();
    assert!(report.is_empty(), "{report:?}");
    let php = format!("{}  /etc/php/8.2/cli/php.ini\n", hex::encode(Md5::digest(&ini)));
    assert_eq!(file(&changes, "var/lib/ucf/hashfile").1, php.as_bytes());
    assert_eq!(file(&changes, "var/lib/ucf/hashfile.0").1, php.as_bytes());
    assert!(file(&changes, "var/lib/ucf/hashfile.1").1.is_empty());
    assert!(
        changes
            .files
            .iter()
            .all(|(e, _)| e.path != "var/lib/ucf/registry.1")
    );

    let script = format!(
        "{}\nucf --purge /etc/php/8.2/cli/php.ini\nucfr --purge php8.2-cli /etc/php/8.2/cli/php.ini\n",
        PHP_CLI.trim_end().trim_end_matches("exit 0")
    );
    let (changes, report) = files::compute(&t, &[pkg("php8.2-cli", &script)]).unwrap();
    assert!(report.is_empty(), "{report:?}");
    assert!(file(&changes, "var/lib/ucf/hashfile").1.is_empty());
    assert!(file(&changes, "var/lib/ucf/registry").1.is_empty());
    assert!(
        changes
            .files
            .iter()
            .all(|(e, _)| !e.path.starts_with("var/lib/ucf/cache/:etc"))
    );
}

/// nfs-common ships `/etc/default/nfs-common` as a conffile and also hands the same bytes to ucf:
/// a destination ucf has no sum for that already holds the new file gets its sum and cached copy
/// recorded and is left as it is (ucf's "nothing needs be done"). With historical sums beside the
/// new file ucf would look at those first: still refused.
#[test]
fn a_destination_that_already_is_the_new_file_is_only_recorded() {
    let mut t = MemTree::default();
    t.tools(&["ucf", "ucfr"]);
    t.dir("usr/share/nfs-common/conffiles")
        .dir("etc/default")
        .dir("var/lib/ucf")
        .file(
            "usr/share/nfs-common/conffiles/nfs-common.default",
            b"NEED_STATD=\n",
        )
        .file("etc/default/nfs-common", b"NEED_STATD=\n");
    if let Some((e, _)) = t.entries.get_mut("etc/default/nfs-common") {
        e.mode = 0o600;
    }
    let script = "#!/bin/sh\nucf --three-way /usr/share/nfs-common/conffiles/nfs-common.default /etc/default/nfs-common\n";
    let (changes, report) = files::compute(&t, &[pkg("nfs-common", script)]).unwrap();
    assert!(report.is_empty(), "{report:?}");
    let sum = hex::encode(Md5::digest(b"NEED_STATD=\n"));
    assert_eq!(
        file(&changes, "var/lib/ucf/hashfile").1,
        format!("{sum}  /etc/default/nfs-common\n").as_bytes()
    );
    assert_eq!(
        file(&changes, "var/lib/ucf/cache/:etc:default:nfs-common").1,
        b"NEED_STATD=\n"
    );
    assert!(
        changes
            .files
            .iter()
            .all(|(e, _)| e.path != "etc/default/nfs-common"),
        "the destination is left as it is (its mode too)"
    );

    t.file(
        "usr/share/nfs-common/conffiles/nfs-common.default.md5sum",
        b"0123  default\n",
    );
    let (_, report) = files::compute(&t, &[pkg("nfs-common", script)]).unwrap();
    assert_eq!(report.len(), 1, "{report:?}");
    assert!(report[0].what.contains("historical sums"), "{report:?}");
}

/// `ucfq -w FILE…` as ucf 3.0043's ucfq prints it (the same state checked with the host's
/// ucfq): sorted, `FILE:PACKAGE:EXISTS:MODIFIED`, empty
/// fields for what it does not know (an unregistered file that is not there); a file whose sum
/// differs from the hashfile's is modified. autofs's postinst takes a file over with `--force`
/// only when ucfq names the old package.
#[test]
fn ucfq_with_colons_reports_registry_presence_and_changes() {
    let mut t = MemTree::new();
    t.dir("etc")
        .file("etc/a.conf", b"x\n")
        .file("etc/b.conf", b"changed\n")
        .file(
            "var/lib/ucf/registry",
            b"autofs5 \t /etc/a.conf\nother \t /etc/b.conf\n",
        )
        .file(
            "var/lib/ucf/hashfile",
            b"401b30e3b8b5d629635a5c613cdb7919  /etc/a.conf\n401b30e3b8b5d629635a5c613cdb7919  /etc/b.conf\n",
        );
    let args = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    assert_eq!(
        ucfq_output(&t, &args(&["-w", "/etc/new.conf", "/etc/b.conf", "/etc/a.conf"])).as_deref(),
        Some("/etc/a.conf:autofs5:Yes:No\n/etc/b.conf:other:Yes:Yes\n/etc/new.conf:::\n")
    );
    // The table form and package names are not answered.
    assert_eq!(ucfq_output(&t, &args(&["/etc/a.conf"])), None);
    assert_eq!(ucfq_output(&t, &args(&["-w", "autofs"])), None);
}
