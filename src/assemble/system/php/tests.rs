use super::super::files;
use super::super::testutil::{MemTree, with_postinst as pkg};
use super::*;
use crate::entry::EntryKind;

fn words(s: &str) -> Vec<String> {
    s.split_whitespace().map(str::to_owned).collect()
}

/// A helper shaped like php-common's `php_invoke` (a subshell function: `phpenmod -r` for every
/// SAPI when asked for ALL, then per SAPI a `phpquery -m` check whose status decides the next
/// call, and a trigger on the SAPI's `conf.d`), written here for the test.
const HELPER: &str = r#"
php_invoke()
(
    CMD=$1
    VERSION=$2
    SAPI=$3
    MOD=$4
    [ -x "/usr/sbin/php$CMD" ] || return 1
    [ -x "/usr/sbin/phpquery" ] || return 1
    case "$SAPI" in
        ALL)
            sapi_list=$(phpquery -S -v "$VERSION")
            "php$CMD" -q -v "$VERSION" -m -r "$MOD" || return 1
            ;;
        *)
            sapi_list="$SAPI"
            ;;
    esac
    for sapi in $sapi_list; do
        ret=0
        phpquery -v "$VERSION" -s "$sapi" -m "$MOD" > /dev/null 2>&1 || ret=$?
        if [ "$ret" -eq 0 ]; then
            "php$CMD" -m -v "$VERSION" -s "$sapi" -q "$MOD" > /dev/null 2>&1 || return 1
        else
            "php$CMD" -m -v "$VERSION" -s "$sapi" -q "$MOD" > /dev/null 2>&1 || return 1
        fi
        dpkg-trigger "/etc/php/$VERSION/$sapi/conf.d"
    done
)
"#;

/// The extension package's postinst: enable its modules for every SAPI.
const EXTENSION: &str = "#!/bin/sh\nset -e\nif [ \"$1\" = configure ]; then\n  . /usr/lib/php/php-maintscript-helper\n  for m in ctype opcache; do\n    php_invoke enmod 8.2 ALL $m\n  done\nfi\n";

/// A SAPI's postinst: enable every registered module for itself.
fn sapi_postinst(sapi: &str) -> String {
    format!(
        "#!/bin/sh\nset -e\nif [ \"$1\" = configure ]; then\n  . /usr/lib/php/php-maintscript-helper\n  mods=$(phpquery -M -v 8.2)\n  for mod in $mods; do\n    php_invoke enmod 8.2 {sapi} $mod\n  done\nfi\n"
    )
}

/// PHP 8.2 unpacked with the CLI SAPI (its `conf.d` too); fpm's files only when `fpm`.
fn php_tree(fpm: bool) -> MemTree {
    let mut t = MemTree::new();
    t.file("usr/lib/php/php-maintscript-helper", HELPER.as_bytes())
        .file("usr/sbin/phpenmod", b"#!/bin/sh\n")
        .file("usr/sbin/phpquery", b"#!/bin/sh\n")
        .dir("usr/lib/php/20220829")
        .file("usr/lib/php/8.2/sapi/cli", b"")
        .dir("etc/php/8.2/cli/conf.d")
        .file("etc/php/8.2/mods-available/ctype.ini", b"extension=ctype.so\n")
        .file(
            "etc/php/8.2/mods-available/opcache.ini",
            b"; configuration for php opcache module\n; priority=10\nzend_extension=opcache.so\n",
        )
        .dir("var/lib");
    for exe in ["usr/sbin/phpenmod", "usr/sbin/phpquery"] {
        if let Some((e, _)) = t.entries.get_mut(exe) {
            e.mode = 0o755;
        }
    }
    if fpm {
        t.file("usr/lib/php/8.2/sapi/fpm", b"")
            .dir("etc/php/8.2/fpm/conf.d");
    }
    t
}

fn link_target(t: &MemTree, path: &str) -> Option<String> {
    match t.entries.get(path).map(|(e, _)| &e.kind) {
        Some(EntryKind::Symlink { target }) => Some(target.clone()),
        _ => None,
    }
}

/// The extension enables its modules for every installed SAPI with its priority, marks them
/// as the maintainer's and registers them; a SAPI configured later enables every registered
/// module for itself from the registry.
#[test]
fn modules_enabled_for_every_sapi_and_for_a_sapi_configured_later() {
    let mut t = php_tree(false);
    let (changes, report) = files::compute(&t, &[pkg("php8.2-common", EXTENSION)]).unwrap();
    assert!(report.is_empty(), "{report:?}");
    t.apply(&changes);
    assert_eq!(
        link_target(&t, "etc/php/8.2/cli/conf.d/20-ctype.ini").as_deref(),
        Some("/etc/php/8.2/mods-available/ctype.ini")
    );
    assert_eq!(
        link_target(&t, "etc/php/8.2/cli/conf.d/10-opcache.ini").as_deref(),
        Some("/etc/php/8.2/mods-available/opcache.ini")
    );
    for marker in [
        "var/lib/php/modules/8.2/cli/enabled_by_maint/ctype",
        "var/lib/php/modules/8.2/cli/enabled_by_maint/opcache",
        "var/lib/php/modules/8.2/registry/ctype",
        "var/lib/php/modules/8.2/registry/opcache",
    ] {
        let (e, content) = t
            .entries
            .get(marker)
            .unwrap_or_else(|| panic!("{marker} missing"));
        assert!(content.is_empty() && e.mode == 0o644, "{marker}: {e:?}");
    }
    assert!(
        t.entries
            .get("var/lib/php/modules/8.2/cli")
            .is_some_and(|(e, _)| e.is_dir() && e.mode == 0o755)
    );
    // No fpm SAPI yet: nothing of it.
    assert!(
        !t.entries.keys().any(|p| p.contains("/fpm/")),
        "nothing for fpm before it is installed"
    );

    // fpm unpacked and configured after: its postinst asks the registry.
    t.file("usr/lib/php/8.2/sapi/fpm", b"")
        .dir("etc/php/8.2/fpm/conf.d");
    let (changes, report) = files::compute(&t, &[pkg("php8.2-fpm", &sapi_postinst("fpm"))]).unwrap();
    assert!(report.is_empty(), "{report:?}");
    t.apply(&changes);
    assert_eq!(
        link_target(&t, "etc/php/8.2/fpm/conf.d/10-opcache.ini").as_deref(),
        Some("/etc/php/8.2/mods-available/opcache.ini")
    );
    assert!(t.entries.contains_key("etc/php/8.2/fpm/conf.d/20-ctype.ini"));
    assert!(
        t.entries
            .contains_key("var/lib/php/modules/8.2/fpm/enabled_by_maint/ctype")
    );
    // The CLI's links are unchanged: enabled once.
    assert_eq!(
        changes
            .files
            .iter()
            .filter(|(e, _)| e.path.contains("/cli/"))
            .count(),
        0
    );
}

/// Both orders apt may configure them in end with the same tree.
#[test]
fn sapi_first_or_extension_first_give_the_same_tree() {
    let base = php_tree(true);
    let mut a = base.clone();
    // The extension first, then both SAPIs (which find everything enabled already).
    for p in [
        pkg("php8.2-common", EXTENSION),
        pkg("php8.2-cli", &sapi_postinst("cli")),
        pkg("php8.2-fpm", &sapi_postinst("fpm")),
    ] {
        let (c, r) = files::compute(&a, &[p]).unwrap();
        assert!(r.is_empty(), "{r:?}");
        a.apply(&c);
    }
    let mut b = base.clone();
    for p in [
        pkg("php8.2-cli", &sapi_postinst("cli")),
        pkg("php8.2-fpm", &sapi_postinst("fpm")),
        pkg("php8.2-common", EXTENSION),
    ] {
        let (c, r) = files::compute(&b, &[p]).unwrap();
        assert!(r.is_empty(), "{r:?}");
        b.apply(&c);
    }
    let shape = |t: &MemTree| -> Vec<(String, String)> {
        t.entries
            .iter()
            .map(|(p, (e, _))| (p.clone(), format!("{:?} {:o}", e.kind, e.mode)))
            .collect()
    };
    assert_eq!(shape(&a), shape(&b));
    assert!(a.entries.contains_key("etc/php/8.2/fpm/conf.d/20-ctype.ini"));
}

/// What the administrator decided stays: a module disabled by the administrator is not enabled
/// by a maintainer script, a link pointing elsewhere is kept, a SAPI without `conf.d` gets
/// nothing.
#[test]
fn administrator_decisions_and_missing_directories_are_respected() {
    let mut t = php_tree(true);
    t.file("var/lib/php/modules/8.2/cli/disabled_by_admin/ctype", b"")
        .file("srv/my-opcache.ini", b"")
        .symlink("etc/php/8.2/fpm/conf.d/10-opcache.ini", "/srv/my-opcache.ini")
        .file("usr/lib/php/8.2/sapi/embed", b"");
    let mut o = Overlay::new(&t);
    apply(
        &mut o,
        &parse("phpenmod", &words("-m -r -q -v 8.2 ctype opcache")).unwrap(),
        0o022,
    )
    .unwrap();
    let (files, removed) = o.into_changes();
    t.apply(&Changes { files, removed });
    assert!(
        !t.entries.contains_key("etc/php/8.2/cli/conf.d/20-ctype.ini"),
        "disabled by the administrator"
    );
    assert!(
        t.entries
            .contains_key("var/lib/php/modules/8.2/cli/disabled_by_admin/ctype")
    );
    assert_eq!(
        link_target(&t, "etc/php/8.2/fpm/conf.d/10-opcache.ini").as_deref(),
        Some("/srv/my-opcache.ini")
    );
    assert!(
        !t.entries
            .contains_key("var/lib/php/modules/8.2/fpm/enabled_by_maint/opcache")
    );
    assert!(
        !t.entries.keys().any(|p| p.contains("/embed/")),
        "no conf.d for embed"
    );
    // The administrator enabling it (no -m) replaces the disabled marker.
    let mut o = Overlay::new(&t);
    apply(
        &mut o,
        &parse("phpenmod", &words("-v 8.2 -s cli ctype")).unwrap(),
        0o022,
    )
    .unwrap();
    let (files, removed) = o.into_changes();
    t.apply(&Changes { files, removed });
    assert!(t.entries.contains_key("etc/php/8.2/cli/conf.d/20-ctype.ini"));
    assert!(
        t.entries
            .contains_key("var/lib/php/modules/8.2/cli/enabled_by_admin/ctype")
    );
    assert!(
        !t.entries
            .contains_key("var/lib/php/modules/8.2/cli/disabled_by_admin/ctype")
    );
}

#[test]
fn phpquery_answers_and_refusals() {
    let mut t = php_tree(true);
    t.dir("usr/lib/php/7.4")
        .dir("usr/lib/php/10.0")
        .dir("usr/lib/php/8.10");
    let args = |s: &str| words(s);
    assert_eq!(query_output(&t, &args("-V")).as_deref(), Some("10.0\n8.2\n7.4\n"));
    assert_eq!(
        query_output(&t, &args("-S -v 8.2")).as_deref(),
        Some("cli\nfpm\n")
    );
    assert_eq!(query_output(&t, &args("-M -v 8.2")).as_deref(), Some(""));
    assert_eq!(query_output(&t, &args("-S -V")), None, "two actions: usage");
    assert_eq!(query_status(&t, &args("-v 8.2 -s cli -m ctype")), Some(false));
    assert_eq!(
        query_status(&t, &args("-v 9.9 -s cli -m ctype")),
        Some(false),
        "unknown version"
    );
    t.symlink(
        "etc/php/8.2/cli/conf.d/20-ctype.ini",
        "/etc/php/8.2/mods-available/ctype.ini",
    );
    assert_eq!(query_status(&t, &args("-q -v 8.2 -s cli -m ctype")), Some(true));
    assert!(parse("phpdismod", &args("-v 8.2 ctype")).is_err());
    assert!(parse("phpenmod", &args("-v 8.2 -v ALL ctype")).is_err());
    assert!(parse("phpenmod", &args("-v 8.2")).is_err(), "no module");
    assert!(parse("phpenmod", &args("-x ctype")).is_err());
    assert_eq!(
        parse("phpenmod", &args("-v8.2 -s cli mysqli/extra")).unwrap(),
        Call {
            versions: Some(vec!["8.2".into()]),
            sapis: Some(vec!["cli".into()]),
            mods: vec!["mysqli".into()],
            maint: false,
            register: false
        }
    );
}

#[test]
fn priority_as_the_helpers_sed_reads_it() {
    assert_eq!(priority_line("; priority=10"), Some("10"));
    assert_eq!(priority_line(";priority = 05 "), Some("05"));
    assert_eq!(priority_line("; priority=1a"), None);
    assert_eq!(priority_line("priority=10"), None);
    let mut t = MemTree::new();
    t.file("etc/php/8.2/mods-available/a.ini", b"; x\n42\n; priority=15\n")
        .file(
            "etc/php/8.2/mods-available/b.ini",
            b"; priority=30\n; priority=15\n",
        );
    assert_eq!(
        priority(&t, "8.2", "a").as_deref(),
        Some("20"),
        "a line of digits ends the search"
    );
    assert_eq!(priority(&t, "8.2", "b").as_deref(), Some("30"));
    assert_eq!(priority(&t, "8.2", "c"), None);
}
