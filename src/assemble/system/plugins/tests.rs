use std::collections::BTreeMap;

use super::super::testutil::{MemTree, host_tool};
use super::super::{InstalledPackage, files};
use super::*;

const LIBDIR: &str = "usr/lib/x86_64-linux-gnu";
const TOOL: &str = "usr/lib/x86_64-linux-gnu/gdk-pixbuf-2.0/gdk-pixbuf-query-loaders";
const LOADERS: &str = "usr/lib/x86_64-linux-gnu/gdk-pixbuf-2.0/2.10.0/loaders";
const CACHE: &str = "usr/lib/x86_64-linux-gnu/gdk-pixbuf-2.0/2.10.0/loaders.cache";

/// libgdk-pixbuf-2.0-0 2.42.10+dfsg-1+deb12u4's postinst (the trigger's branch and the
/// install's run the same command).
const PIXBUF_POSTINST: &str = "#!/bin/sh\nset -e\n\nLOADERS_DIR=/usr/lib/x86_64-linux-gnu/gdk-pixbuf-2.0/2.10.0/loaders\nLOADERS_DIR_OLD=/usr/lib/gdk-pixbuf-2.0/2.10.0/loaders\n\nif [ \"$1\" = triggered ]; then\n    for trigger in $2; do\n        if ! [ -d $trigger ]; then\n            continue\n        fi\n        case $trigger in\n          $LOADERS_DIR|$LOADERS_DIR_OLD)\n            /usr/lib/x86_64-linux-gnu/gdk-pixbuf-2.0/gdk-pixbuf-query-loaders \\\n                $(find $LOADERS_DIR $LOADERS_DIR_OLD -name *.so 2> /dev/null | LC_ALL=C sort) \\\n            > /usr/lib/x86_64-linux-gnu/gdk-pixbuf-2.0/2.10.0/loaders.cache || true\n            ;;\n        esac\n    done\n    exit 0\nfi\n\n# Also handle the initial installation\nif [ -d $LOADERS_DIR ] || [ -d $LOADERS_DIR_OLD ]; then\n    /usr/lib/x86_64-linux-gnu/gdk-pixbuf-2.0/gdk-pixbuf-query-loaders \\\n        $(find $LOADERS_DIR $LOADERS_DIR_OLD -name *.so 2> /dev/null | LC_ALL=C sort) \\\n    > /usr/lib/x86_64-linux-gnu/gdk-pixbuf-2.0/2.10.0/loaders.cache || true\nfi\n";

/// libglib2.0-0 2.74.6-2+deb12u9's postinst, its install branch.
const GLIB_POSTINST: &str = "#!/bin/sh\nset -e\n\ninstall -d \"/usr/lib/x86_64-linux-gnu/gio/modules\"\n\n\"/usr/lib/x86_64-linux-gnu/glib-2.0/gio-querymodules\" \"/usr/lib/x86_64-linux-gnu/gio/modules\" || true\n";

fn package(name: &str, version: &str, files: &[&str], postinst: Option<&str>) -> InstalledPackage {
    InstalledPackage {
        name: name.into(),
        version: version.into(),
        architecture: "amd64".into(),
        members: postinst
            .map(|p| ("postinst".to_owned(), p.as_bytes().to_vec()))
            .into_iter()
            .collect(),
        files: files.iter().map(|f| (*f).to_owned()).collect(),
        ..InstalledPackage::default()
    }
}

fn module(name: &str) -> String {
    format!("{LOADERS}/{name}")
}

/// The tool and loaders of bookworm's libgdk-pixbuf-2.0-0 (two of them) and librsvg2-common.
fn pixbuf_install() -> (MemTree, Vec<InstalledPackage>) {
    let mut t = MemTree::new();
    t.file(TOOL, b"\x7fELF").mode(TOOL, 0o755);
    for m in [
        "libpixbufloader-bmp.so",
        "libpixbufloader-ani.so",
        "libpixbufloader-svg.so",
    ] {
        t.file(&module(m), b"\x7fELF");
    }
    let (ani, bmp, svg) = (
        module("libpixbufloader-ani.so"),
        module("libpixbufloader-bmp.so"),
        module("libpixbufloader-svg.so"),
    );
    let packages = vec![
        package(
            "libgdk-pixbuf-2.0-0",
            "2.42.10+dfsg-1+deb12u4",
            &[TOOL, &ani, &bmp],
            Some(PIXBUF_POSTINST),
        ),
        package("librsvg2-common", "2.54.7+dfsg-1~deb12u2", &[&svg], None),
    ];
    (t, packages)
}

#[test]
fn the_declarations_parse_and_name_each_module_once() {
    let records = RECORDS.as_ref().expect("declarations.txt parses");
    let mut keys = std::collections::BTreeSet::new();
    let mut loaders = 0;
    for r in records {
        let key = match r {
            Record::PixbufTool {
                package, upstream, ..
            } => ("tool", package.clone(), upstream.clone(), String::new()),
            Record::Loader { module, stanza } => {
                loaders += 1;
                // Name and flags, MIME types, extensions, then at least one signature.
                assert!(stanza.lines().count() >= 4, "{module:?}: {stanza}");
                assert!(
                    stanza.lines().nth(1).is_some_and(|l| l.ends_with("\"\"")),
                    "{module:?}"
                );
                (
                    "loader",
                    module.package.clone(),
                    module.upstream.clone(),
                    module.file.clone(),
                )
            }
            Record::GioModule { module, points } => {
                assert!(!points.is_empty() && !points.contains(' '), "{module:?}");
                (
                    "gio",
                    module.package.clone(),
                    module.upstream.clone(),
                    module.file.clone(),
                )
            }
            Record::GtkImTool {
                package,
                upstream,
                architecture,
                cache,
                modules_path,
                ..
            } => {
                assert!(
                    cache.starts_with("@LIBDIR@/") && modules_path.contains("@LIBDIR@/"),
                    "{package}"
                );
                (
                    "gtkim-tool",
                    package.clone(),
                    upstream.clone(),
                    architecture.clone(),
                )
            }
            Record::GraphvizTool {
                package,
                upstream,
                config,
                plugin_version,
                header,
            } => {
                assert!(
                    header.starts_with('#') && plugin_version.parse::<u32>().is_ok(),
                    "{package}"
                );
                ("gvconfig-tool", package.clone(), upstream.clone(), config.clone())
            }
            Record::GraphvizPlugin { module, name, stanza } => {
                // APIs, each with its types, then the library's closing brace.
                assert!(
                    !name.is_empty() && stanza.starts_with('\t') && stanza.ends_with("\t}\n}\n"),
                    "{module:?}"
                );
                (
                    "gvplugin",
                    module.package.clone(),
                    module.upstream.clone(),
                    module.file.clone(),
                )
            }
            Record::GtkImModule { module, stanza } => {
                // Each context: id, name, domain, its directory, default locales.
                assert!(
                    stanza
                        .lines()
                        .all(|l| l.matches('"').count() >= 10 && l.ends_with("\" ")),
                    "{module:?}: {stanza}"
                );
                (
                    "gtkim",
                    module.package.clone(),
                    module.upstream.clone(),
                    module.file.clone(),
                )
            }
        };
        assert!(keys.insert(key.clone()), "{key:?} twice");
    }
    assert!(loaders >= 30, "{loaders} loaders");
    // What is not a record is refused, with its line.
    let err = parse("loader a 1\n").expect_err("a short record");
    assert!(err.contains("line 1"), "{err}");
    assert!(parse("| \"x\"\n").is_err(), "text before any record");
    assert!(
        parse("gio a 1 x.so p\n| x\n").is_err(),
        "text after a record that has none"
    );
    assert!(parse("loader a 1 x.so\n|x\n").is_err(), "`|` without its space");
    assert!(parse("loader a 1 x.so\n").is_err(), "a loader without its stanza");
    let empty_line = parse("gvconfig-tool a 1 config6a 6\n| # x\n|\n").expect("an empty line");
    assert!(matches!(&empty_line[0], Record::GraphvizTool { header, .. } if header == "# x\n\n"));
}

/// The postinst's run, walked: the modules `find | sort` lists, each with the stanza its
/// package's version declares, under the header of the tool's gdk-pixbuf version, and the
/// newline the tool prints after the text.
#[test]
fn the_loaders_cache_is_what_the_postinst_writes() {
    let (tree, packages) = pixbuf_install();
    let (changes, report) = files::compute(&tree, &packages).expect("walk");
    assert!(report.is_empty(), "{report:?}");
    let (entry, content) = super::super::testutil::written(&changes, CACHE);
    assert_eq!(entry.mode, 0o644);
    let expected = concat!(
        "# GdkPixbuf Image Loader Modules file\n",
        "# Automatically generated file, do not edit\n",
        "# Created by gdk-pixbuf-query-loaders from gdk-pixbuf-2.42.10\n",
        "#\n",
        "\"/usr/lib/x86_64-linux-gnu/gdk-pixbuf-2.0/2.10.0/loaders/libpixbufloader-ani.so\"\n",
        "\"ani\" 4 \"gdk-pixbuf\" \"Windows animated cursor\" \"LGPL\"\n",
        "\"application/x-navi-animation\" \"\"\n",
        "\"ani\" \"\"\n",
        "\"RIFF    ACON\" \"    xxxx    \" 100\n",
        "\n",
        "\"/usr/lib/x86_64-linux-gnu/gdk-pixbuf-2.0/2.10.0/loaders/libpixbufloader-bmp.so\"\n",
        "\"bmp\" 5 \"gdk-pixbuf\" \"BMP\" \"LGPL\"\n",
        "\"image/bmp\" \"image/x-bmp\" \"image/x-MS-bmp\" \"\"\n",
        "\"bmp\" \"\"\n",
        "\"BM\" \"\" 100\n",
        "\n",
        "\"/usr/lib/x86_64-linux-gnu/gdk-pixbuf-2.0/2.10.0/loaders/libpixbufloader-svg.so\"\n",
        "\"svg\" 6 \"gdk-pixbuf\" \"Scalable Vector Graphics\" \"LGPL\"\n",
        "\"image/svg+xml\" \"image/svg\" \"image/svg-xml\" \"image/vnd.adobe.svg+xml\" \"text/xml-svg\" \"image/svg+xml-compressed\" \"\"\n",
        "\"svg\" \"svgz\" \"svg.gz\" \"\"\n",
        "\" <svg\" \"*    \" 100\n",
        "\" <!DOCTYPE svg\" \"*             \" 100\n",
        "\n",
        "\n",
    );
    assert_eq!(String::from_utf8_lossy(content), expected);
}

/// A loader the data does not know (another package, or another upstream version of a known
/// one): the call is reported with the command to run, and no cache is written in part.
#[test]
fn an_unknown_loader_leaves_the_cache_out_and_says_which() {
    for (name, version, file) in [
        ("libfoo-gdk-pixbuf", "1.0-1", "libpixbufloader-foo.so"),
        ("librsvg2-common", "2.99.0+dfsg-1", "libpixbufloader-svg.so"),
    ] {
        let (mut tree, mut packages) = pixbuf_install();
        packages.retain(|p| p.name != name);
        let path = module(file);
        tree.file(&path, b"\x7fELF");
        packages.push(package(name, version, &[&path], None));
        let (changes, report) = files::compute(&tree, &packages).expect("walk");
        assert!(
            changes.files.iter().all(|(e, _)| e.path != CACHE),
            "{name}: a cache was written"
        );
        assert_eq!(report.len(), 1, "{report:?}");
        let what = &report[0].what;
        assert_eq!(report[0].package, "libgdk-pixbuf-2.0-0");
        for needle in [
            file,
            &format!("{name} {}", crate::debian::version::upstream(version)),
            "at first start",
            "> /usr/lib/x86_64-linux-gnu/gdk-pixbuf-2.0/2.10.0/loaders.cache",
        ] {
            assert!(what.contains(needle), "{needle} not in: {what}");
        }
    }
}

/// `--update-cache` without modules: the module directory's `*.so` in byte order after a
/// `# LoaderDir` line, written by the tool to its cache file, without the printed newline.
#[test]
fn update_cache_reads_the_module_directory() {
    let (mut tree, packages) = pixbuf_install();
    tree.file(&module("README"), b"").dir(&module("sub.so.d"));
    let query = pixbuf::parse_call(&[format!("/{TOOL}"), "--update-cache".into()])
        .expect("the tool")
        .expect("a form reproduced");
    let out = pixbuf::run(&tree, &packages, &query).expect("known loaders");
    assert_eq!(out.printed, "");
    let (path, text) = out.cache.expect("a cache file");
    assert_eq!(path, format!("/{CACHE}"));
    assert!(
        text.contains("#\n# LoaderDir = /usr/lib/x86_64-linux-gnu/gdk-pixbuf-2.0/2.10.0/loaders\n#\n\"/usr"),
        "{text}"
    );
    let order: Vec<&str> = text.lines().filter(|l| l.starts_with("\"/")).collect();
    assert_eq!(order.len(), 3, "{text}");
    assert!(order.windows(2).all(|w| w[0] < w[1]), "{order:?}");
    assert!(
        text.ends_with(" 100\n\n") && !text.ends_with("\n\n\n"),
        "{text:?}"
    );
    // The tool's own version comes from its package's.
    let mut old = packages.clone();
    old[0].version = "2.40.2-2".into();
    let err = pixbuf::run(&tree, &old, &query).expect_err("an unknown tool version");
    assert!(err.contains("libgdk-pixbuf-2.0-0 2.40.2"), "{err}");
    // Called by name, it is not found on a Debian system's PATH.
    assert!(matches!(
        pixbuf::parse_call(&["gdk-pixbuf-query-loaders".into()]),
        Some(Err(_))
    ));
    assert_eq!(pixbuf::parse_call(&["/usr/bin/true".into()]), None);
}

/// The host's own gdk-pixbuf-query-loaders on the host's loaders, where the host has the
/// version the data knows: debcast prints what it prints, byte for byte.
#[test]
fn the_cache_matches_the_hosts_tool() {
    let tool = format!("/{TOOL}");
    let Some(host) = host_tool(&tool) else {
        eprintln!("no {tool} on this host: not cross-checked");
        return;
    };
    let installed = std::process::Command::new("dpkg-query")
        .args(["-W", "-f", "${Version}", "libgdk-pixbuf-2.0-0"])
        .output();
    let Ok(installed) = installed else {
        eprintln!("no dpkg-query on this host: not cross-checked");
        return;
    };
    let version = String::from_utf8_lossy(&installed.stdout).into_owned();
    let mut modules: Vec<String> = std::fs::read_dir(format!("/{LOADERS}"))
        .map(|d| {
            d.filter_map(Result::ok)
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| {
                    n.starts_with("libpixbufloader-") && n.ends_with(".so") && n != "libpixbufloader-svg.so"
                })
                .map(|n| format!("/{}", module(&n)))
                .collect()
        })
        .unwrap_or_default();
    modules.sort();
    let mut tree = MemTree::new();
    tree.file(TOOL, b"\x7fELF").mode(TOOL, 0o755);
    let mut shipped = vec![TOOL.to_owned()];
    for m in &modules {
        tree.file(&m[1..], b"\x7fELF");
        shipped.push(m[1..].to_owned());
    }
    let shipped: Vec<&str> = shipped.iter().map(String::as_str).collect();
    let packages = vec![package("libgdk-pixbuf-2.0-0", &version, &shipped, None)];
    let mut argv = vec![tool.clone()];
    argv.extend(modules.iter().cloned());
    let query = pixbuf::parse_call(&argv).expect("the tool").expect("reproduced");
    let ours = match pixbuf::run(&tree, &packages, &query) {
        Ok(out) => out.printed,
        Err(why) => {
            eprintln!(
                "the host's gdk-pixbuf ({version}) is not one the data knows ({why}): not cross-checked"
            );
            return;
        }
    };
    let theirs = std::process::Command::new(host)
        .args(&modules)
        .output()
        .expect("the host's tool runs");
    assert!(theirs.status.success());
    assert_eq!(
        ours,
        String::from_utf8_lossy(&theirs.stdout),
        "{} modules",
        modules.len()
    );
    assert!(modules.len() >= 5, "{modules:?}");
}

fn gio_install(modules: &[(&str, &str, &str)]) -> (MemTree, Vec<InstalledPackage>) {
    let mut t = MemTree::new();
    let querymodules = format!("{LIBDIR}/glib-2.0/gio-querymodules");
    t.file(&querymodules, b"\x7fELF").mode(&querymodules, 0o755);
    t.dir(&format!("{LIBDIR}/gio/modules"));
    let mut packages = vec![package(
        "libglib2.0-0",
        "2.74.6-2+deb12u9",
        &[&querymodules],
        Some(GLIB_POSTINST),
    )];
    for (pkg, version, file) in modules {
        let path = format!("{LIBDIR}/gio/modules/{file}");
        t.file(&path, b"\x7fELF");
        packages.push(package(pkg, version, &[&path], None));
    }
    (t, packages)
}

#[test]
fn giomodule_cache_lists_each_modules_extension_points_in_name_order() {
    let (mut tree, packages) = gio_install(&[
        ("gvfs", "1.50.3-1+deb12u1", "libgvfsdbus.so"),
        ("glib-networking", "2.74.0-4", "libgiognutls.so"),
        ("dconf-gsettings-backend", "0.40.0-4", "libdconfsettings.so"),
    ]);
    // Not modules by name: skipped.
    tree.file(&format!("{LIBDIR}/gio/modules/README"), b"")
        .file(&format!("{LIBDIR}/gio/modules/extra.so"), b"");
    let (changes, report) = gio::compute(&tree, &packages).expect("compute");
    assert!(report.is_empty(), "{report:?}");
    let (entry, content) =
        super::super::testutil::written(&changes, &format!("{LIBDIR}/gio/modules/giomodule.cache"));
    assert_eq!(entry.mode, 0o644);
    assert_eq!(
        String::from_utf8_lossy(content),
        "libdconfsettings.so: gsettings-backend\nlibgiognutls.so: gio-tls-backend\nlibgvfsdbus.so: gio-vfs,gio-volume-monitor\n"
    );
}

#[test]
fn giomodule_cache_of_an_unknown_module_is_reported_and_none_is_removed() {
    let (tree, packages) = gio_install(&[
        ("glib-networking", "2.74.0-4", "libgiognutls.so"),
        ("libfoo-gio", "3-1", "libgiofoo.so"),
    ]);
    let (changes, report) = gio::compute(&tree, &packages).expect("compute");
    assert!(changes.files.is_empty(), "{:?}", changes.files);
    assert_eq!(report.len(), 1, "{report:?}");
    assert_eq!(report[0].package, "libglib2.0-0");
    for needle in [
        "libgiofoo.so",
        "libfoo-gio 3",
        "gio-querymodules /usr/lib/x86_64-linux-gnu/gio/modules",
        "at first start",
    ] {
        assert!(report[0].what.contains(needle), "{needle}: {}", report[0].what);
    }
    // No module at all: a stale cache goes, as the tool unlinks it.
    let (mut tree, packages) = gio_install(&[]);
    tree.file(&format!("{LIBDIR}/gio/modules/giomodule.cache"), b"old: x\n");
    let (changes, report) = gio::compute(&tree, &packages).expect("compute");
    assert!(report.is_empty(), "{report:?}");
    assert_eq!(
        changes.removed,
        vec![format!("{LIBDIR}/gio/modules/giomodule.cache")]
    );
}

/// The host's own gio-querymodules on a copy of the host's dconf module, where the host has
/// the version the data knows: debcast writes what it writes.
#[test]
fn giomodule_cache_matches_the_hosts_tool() {
    let tool = format!("/{LIBDIR}/glib-2.0/gio-querymodules");
    let file = "libdconfsettings.so";
    let host_module = format!("/{LIBDIR}/gio/modules/{file}");
    let (Some(host), true) = (host_tool(&tool), std::path::Path::new(&host_module).is_file()) else {
        eprintln!("no {tool} or {host_module} on this host: not cross-checked");
        return;
    };
    let Ok(installed) = std::process::Command::new("dpkg-query")
        .args(["-W", "-f", "${Version}", "dconf-gsettings-backend"])
        .output()
    else {
        eprintln!("no dpkg-query on this host: not cross-checked");
        return;
    };
    let version = String::from_utf8_lossy(&installed.stdout).into_owned();
    let (tree, packages) = gio_install(&[("dconf-gsettings-backend", &version, file)]);
    let (changes, report) = gio::compute(&tree, &packages).expect("compute");
    if !report.is_empty() {
        eprintln!(
            "the host's dconf-gsettings-backend ({version}) is not one the data knows: not cross-checked"
        );
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::copy(&host_module, dir.path().join(file)).expect("copy the module");
    let status = std::process::Command::new(host)
        .arg(dir.path())
        .status()
        .expect("the host's tool runs");
    assert!(status.success());
    let theirs = std::fs::read(dir.path().join("giomodule.cache")).expect("the tool wrote its cache");
    let (_, ours) =
        super::super::testutil::written(&changes, &format!("{LIBDIR}/gio/modules/giomodule.cache"));
    assert_eq!(String::from_utf8_lossy(ours), String::from_utf8_lossy(&theirs));
}

/// libgtk-3-0 3.24.38-2~deb12u3's postinst, its install branch.
const GTK3_POSTINST: &str = "#!/bin/sh\nset -e\n\nIMMODULES_DIR=/usr/lib/x86_64-linux-gnu/gtk-3.0/3.0.0/immodules\n\nif [ \"$1\" = triggered ]; then\n    /usr/lib/x86_64-linux-gnu/libgtk-3-0/gtk-query-immodules-3.0 --update-cache || true\n    exit 0\nfi\n\nif [ -d \"$IMMODULES_DIR\" ]; then\n     /usr/lib/x86_64-linux-gnu/libgtk-3-0/gtk-query-immodules-3.0 --update-cache || true\nfi\n";
const GTK3_TOOL: &str = "usr/lib/x86_64-linux-gnu/libgtk-3-0/gtk-query-immodules-3.0";
const GTK3_MODULES: &str = "usr/lib/x86_64-linux-gnu/gtk-3.0/3.0.0/immodules";

/// GTK 3 with two of its own modules and ibus-gtk3's (shipped in another package, listed in
/// byte order with them), and what is not a module.
fn gtk3_install() -> (MemTree, Vec<InstalledPackage>) {
    let mut t = MemTree::new();
    t.file(GTK3_TOOL, b"\x7fELF").mode(GTK3_TOOL, 0o755);
    let path = |m: &str| format!("{GTK3_MODULES}/{m}");
    for m in ["im-ibus.so", "im-cedilla.so", "im-am-et.so", "README"] {
        t.file(&path(m), b"\x7fELF");
    }
    let packages = vec![
        package(
            "libgtk-3-0",
            "3.24.38-2~deb12u3",
            &[
                GTK3_TOOL,
                &path("im-am-et.so"),
                &path("im-cedilla.so"),
                &path("README"),
            ],
            Some(GTK3_POSTINST),
        ),
        package("ibus-gtk3", "1.5.27-5", &[&path("im-ibus.so")], None),
    ];
    (t, packages)
}

#[test]
fn the_input_method_cache_is_what_the_trigger_leaves() {
    let (tree, packages) = gtk3_install();
    let (changes, report) = gtkim::compute(&tree, &packages).expect("compute");
    assert!(report.is_empty(), "{report:?}");
    let (entry, content) =
        super::super::testutil::written(&changes, "usr/lib/x86_64-linux-gnu/gtk-3.0/3.0.0/immodules.cache");
    assert_eq!(entry.mode, 0o644);
    let expected = concat!(
        "# GTK+ Input Method Modules file\n",
        "# Automatically generated file, do not edit\n",
        "# Created by /usr/lib/x86_64-linux-gnu/libgtk-3-0/gtk-query-immodules-3.0 from gtk+-3.24.38\n",
        "#\n",
        "# ModulesPath = /usr/lib/x86_64-linux-gnu/gtk-3.0/3.0.0/linux/immodules:/usr/lib/x86_64-linux-gnu/gtk-3.0/3.0.0/immodules:/usr/lib/x86_64-linux-gnu/gtk-3.0/linux/immodules:/usr/lib/x86_64-linux-gnu/gtk-3.0/immodules\n",
        "#\n",
        "\"/usr/lib/x86_64-linux-gnu/gtk-3.0/3.0.0/immodules/im-am-et.so\" \n",
        "\"am_et\" \"Amharic (EZ+)\" \"gtk30\" \"/usr/share/locale\" \"am\" \n",
        "\n",
        "\"/usr/lib/x86_64-linux-gnu/gtk-3.0/3.0.0/immodules/im-cedilla.so\" \n",
        "\"cedilla\" \"Cedilla\" \"gtk30\" \"/usr/share/locale\" \"az:ca:co:fr:gv:oc:pt:sq:tr:wa\" \n",
        "\n",
        "\"/usr/lib/x86_64-linux-gnu/gtk-3.0/3.0.0/immodules/im-ibus.so\" \n",
        "\"ibus\" \"IBus (Intelligent Input Bus)\" \"ibus\" \"\" \"ja:ko:zh:*\" \n",
        "\n",
    );
    assert_eq!(String::from_utf8_lossy(content), expected);
}

/// A module of a version the data does not know, and GTK 2's tool on an architecture whose
/// compiled-in path (it names the GNU triplet) was not recorded: reported, nothing written.
#[test]
fn the_input_method_cache_is_reported_where_a_module_or_path_is_not_known() {
    let (tree, mut packages) = gtk3_install();
    packages[1].version = "1.5.99-1".into();
    let (changes, report) = gtkim::compute(&tree, &packages).expect("compute");
    assert!(changes.files.is_empty(), "{:?}", changes.files);
    assert_eq!(report.len(), 1, "{report:?}");
    assert_eq!(report[0].package, "libgtk-3-0");
    for needle in [
        "im-ibus.so",
        "ibus-gtk3 1.5.99",
        "gtk-query-immodules-3.0 --update-cache",
        "at first start",
    ] {
        assert!(report[0].what.contains(needle), "{needle}: {}", report[0].what);
    }

    let tool = "usr/lib/x86_64-linux-gnu/libgtk2.0-0/gtk-query-immodules-2.0";
    let mut tree = MemTree::new();
    tree.file(tool, b"\x7fELF").mode(tool, 0o755);
    let module = "usr/lib/x86_64-linux-gnu/gtk-2.0/2.10.0/immodules/im-ipa.so";
    tree.file(module, b"\x7fELF");
    let postinst = format!("#!/bin/sh\nset -e\n/{tool} --update-cache || true\n");
    let packages = vec![package(
        "libgtk2.0-0",
        "2.24.33-2+deb12u1",
        &[tool, module],
        Some(&postinst),
    )];
    // The tool's package of another architecture than the one its path was recorded on (an
    // i386 GTK 2 in an amd64 image would name its own triplet).
    let mut foreign = packages.clone();
    foreign[0].architecture = "i386".into();
    let (changes, report) = gtkim::compute(&tree, &foreign).expect("compute");
    assert!(changes.files.is_empty());
    assert!(
        report.len() == 1 && report[0].what.contains("(i386)"),
        "{report:?}"
    );
    // On the architecture it was recorded on, the path names amd64's GNU triplet and root's home.
    let (changes, report) = gtkim::compute(&tree, &packages).expect("compute");
    assert!(report.is_empty(), "{report:?}");
    let (_, content) = super::super::testutil::written(
        &changes,
        "usr/lib/x86_64-linux-gnu/gtk-2.0/2.10.0/immodules.cache",
    );
    let text = String::from_utf8_lossy(content);
    assert!(
        text.contains("# ModulesPath = /root/.gtk-2.0/2.10.0/x86_64-pc-linux-gnu/immodules:"),
        "{text}"
    );
    assert!(text.contains("from gtk+-2.24.33\n"), "{text}");
    assert!(
        text.ends_with("/im-ipa.so\" \n\"ipa\" \"IPA\" \"gtk20\" \"/usr/share/locale\" \"\" \n\n"),
        "{text}"
    );
}

/// GTK 4's postinst runs gio-querymodules on its input-method directory, whose modules declare
/// no extension point: no cache there.
#[test]
fn gtk4_input_methods_declare_no_extension_point() {
    let mut tree = MemTree::new();
    let querymodules = format!("{LIBDIR}/glib-2.0/gio-querymodules");
    tree.file(&querymodules, b"\x7fELF").mode(&querymodules, 0o755);
    let dir = format!("{LIBDIR}/gtk-4.0/4.0.0/immodules");
    tree.file(&format!("{dir}/libim-ibus.so"), b"\x7fELF");
    let postinst = format!(
        "#!/bin/sh\nset -e\nfor dir in immodules printbackends; do\n    if [ -d \"/{LIBDIR}/gtk-4.0/4.0.0/$dir\" ]; then\n        /{querymodules} \"/{LIBDIR}/gtk-4.0/4.0.0/$dir\" || true\n    fi\ndone\n"
    );
    let packages = vec![
        package(
            "libgtk-4-1",
            "4.8.3+ds-2+deb12u1",
            &[&querymodules],
            Some(&postinst),
        ),
        package("ibus-gtk4", "1.5.27-5", &[&format!("{dir}/libim-ibus.so")], None),
    ];
    let (changes, report) = gio::compute(&tree, &packages).expect("compute");
    assert!(report.is_empty(), "{report:?}");
    assert!(
        changes.files.is_empty() && changes.removed.is_empty(),
        "{changes:?}"
    );
}

const GV_TOOL: &str = "usr/sbin/libgvc6-config-update";
const GV_DIR: &str = "usr/lib/x86_64-linux-gnu/graphviz";
/// libgvc6 2.42.2-7+deb12u1's postinst (libgvc6-plugins-gtk's runs the same command).
const GV_POSTINST: &str = "#!/bin/sh\n\nset -e\n\nif [ -x /usr/sbin/libgvc6-config-update ]; then\n\tlibgvc6-config-update -c\nfi\n\nif [ -f /usr/lib/graphviz/config ]; then\n\trm -f /usr/lib/graphviz/config6\nfi\n";

/// libgvc6 with two of its plugins (each a `.so.6` link to the library), and
/// libgvc6-plugins-gtk with one; plus what the glob takes but is not a plugin of version 6.
fn graphviz_install() -> (MemTree, Vec<InstalledPackage>) {
    let mut t = MemTree::new();
    t.file(GV_TOOL, b"\x7fELF").mode(GV_TOOL, 0o755);
    t.file("usr/lib/x86_64-linux-gnu/libgvc.so.6.0.0", b"\x7fELF")
        .symlink("usr/lib/x86_64-linux-gnu/libgvc.so.6", "libgvc.so.6.0.0");
    let mut shipped: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    for plugin in ["rsvg", "gtk", "dot_layout"] {
        let lib = format!("{GV_DIR}/libgvplugin_{plugin}.so.6.0.0");
        let link = format!("{GV_DIR}/libgvplugin_{plugin}.so.6");
        t.file(&lib, b"\x7fELF")
            .symlink(&link, &format!("libgvplugin_{plugin}.so.6.0.0"));
        let owner = if plugin == "dot_layout" {
            "libgvc6"
        } else {
            "libgvc6-plugins-gtk"
        };
        shipped.entry(owner).or_default().extend([lib, link]);
    }
    t.file(&format!("{GV_DIR}/libgvplugin_old.so.5"), b"\x7fELF");
    shipped
        .entry("libgvc6")
        .or_default()
        .push(format!("{GV_DIR}/libgvplugin_old.so.5"));
    let files = |owner: &str, extra: &[&str]| -> Vec<String> {
        let mut f: Vec<String> = extra.iter().map(|s| (*s).to_owned()).collect();
        f.extend(shipped.get(owner).cloned().unwrap_or_default());
        f
    };
    let libgvc6 = files(
        "libgvc6",
        &[
            GV_TOOL,
            "usr/lib/x86_64-linux-gnu/libgvc.so.6.0.0",
            "usr/lib/x86_64-linux-gnu/libgvc.so.6",
        ],
    );
    let gtk = files("libgvc6-plugins-gtk", &[]);
    let libgvc6: Vec<&str> = libgvc6.iter().map(String::as_str).collect();
    let gtk: Vec<&str> = gtk.iter().map(String::as_str).collect();
    let packages = vec![
        package("libgvc6", "2.42.2-7+deb12u1", &libgvc6, Some(GV_POSTINST)),
        package("libgvc6-plugins-gtk", "2.42.2-7+deb12u1", &gtk, Some(GV_POSTINST)),
    ];
    (t, packages)
}

#[test]
fn graphviz_configuration_lists_each_plugins_block_in_glob_order() {
    let (tree, packages) = graphviz_install();
    let (changes, report) = graphviz::compute(&tree, &packages).expect("compute");
    assert!(report.is_empty(), "{report:?}");
    let (entry, content) = super::super::testutil::written(&changes, &format!("{GV_DIR}/config6a"));
    assert_eq!(entry.mode, 0o644);
    let expected = concat!(
        "# This file was generated by \"dot -c\" at time of install.\n",
        "\n",
        "# You may temporarily disable a plugin by removing or commenting out\n",
        "# a line in this file, or you can modify its \"quality\" value to affect\n",
        "# default plugin selection.\n",
        "\n",
        "# Manual edits to this file **will be lost** on upgrade.\n",
        "\n",
        "libgvplugin_dot_layout.so.6 dot_layout {\n\tlayout {\n\t\tdot 0\n\t}\n}\n",
        "libgvplugin_gtk.so.6 gtk {\n\tdevice {\n\t\tgtk:cairo 0\n\t}\n}\n",
        "libgvplugin_rsvg.so.6 rsvg {\n\tloadimage {\n\t\tsvg:cairo 1\n\t}\n}\n",
    );
    assert_eq!(String::from_utf8_lossy(content), expected);
}

#[test]
fn graphviz_configuration_with_an_unknown_plugin_is_reported() {
    let (mut tree, mut packages) = graphviz_install();
    tree.file(&format!("{GV_DIR}/libgvplugin_extra.so.6"), b"\x7fELF");
    packages.push(package(
        "graphviz-extra",
        "1.0-1",
        &[&format!("{GV_DIR}/libgvplugin_extra.so.6")],
        None,
    ));
    let (changes, report) = graphviz::compute(&tree, &packages).expect("compute");
    assert!(changes.files.is_empty(), "{:?}", changes.files);
    assert_eq!(report.len(), 1, "{report:?}");
    assert_eq!(report[0].package, "libgvc6");
    for needle in [
        "libgvplugin_extra.so.6",
        "graphviz-extra 1.0",
        "libgvc6-config-update -c",
        "at first start",
    ] {
        assert!(report[0].what.contains(needle), "{needle}: {}", report[0].what);
    }
    // The tool not in the image: its postinst's `-x` test fails and nothing is written.
    let (tree, packages) = graphviz_install();
    let mut tree = tree;
    tree.entries.remove(GV_TOOL);
    let (changes, report) = graphviz::compute(&tree, &packages).expect("compute");
    assert!(
        changes.files.is_empty() && report.is_empty(),
        "{changes:?} {report:?}"
    );
    assert_eq!(
        graphviz::parse_call("libgvc6-config-update", &["-v".to_owned()]).map(|r| r.is_err()),
        Some(true)
    );
    assert_eq!(
        graphviz::parse_call("libgvcx-config-update", &["-c".to_owned()]),
        None
    );
}

/// GTK's tool fails, writing nothing, where a `*.so` of its path cannot be loaded (a dangling
/// link, a directory): the cache is reported, not written without it.
#[test]
fn an_input_method_that_cannot_be_loaded_leaves_the_cache_out() {
    for broken in ["link", "dir"] {
        let (mut tree, packages) = gtk3_install();
        let path = format!("{GTK3_MODULES}/im-zz.so");
        match broken {
            "link" => tree.symlink(&path, "nowhere.so"),
            _ => tree.dir(&path),
        };
        let (changes, report) = gtkim::compute(&tree, &packages).expect("compute");
        assert!(changes.files.is_empty(), "{broken}: {:?}", changes.files);
        assert!(
            report.len() == 1 && report[0].what.contains("im-zz.so cannot be loaded"),
            "{broken}: {report:?}"
        );
    }
}

/// The paths compiled into a tool are its library directory's, however it is called: on a
/// merged-/usr tree, `/lib/…/gtk-query-immodules-3.0` and `/lib/…/gdk-pixbuf-query-loaders`
/// print `/usr/lib/…`. (GTK's header names the tool as it was called.)
#[test]
fn a_tool_called_through_a_link_writes_its_own_paths() {
    let (mut tree, mut packages) = gtk3_install();
    tree.symlink("lib", "usr/lib");
    let postinst = GTK3_POSTINST.replace(
        "/usr/lib/x86_64-linux-gnu/libgtk-3-0/",
        "/lib/x86_64-linux-gnu/libgtk-3-0/",
    );
    packages[0]
        .members
        .insert("postinst".into(), postinst.into_bytes());
    let (changes, report) = gtkim::compute(&tree, &packages).expect("compute");
    assert!(report.is_empty(), "{report:?}");
    let text = String::from_utf8_lossy(
        &super::super::testutil::written(&changes, "usr/lib/x86_64-linux-gnu/gtk-3.0/3.0.0/immodules.cache")
            .1,
    )
    .into_owned();
    assert!(
        text.contains(
            "# Created by /lib/x86_64-linux-gnu/libgtk-3-0/gtk-query-immodules-3.0 from gtk+-3.24.38\n"
        ),
        "{text}"
    );
    assert!(
        text.contains("# ModulesPath = /usr/lib/x86_64-linux-gnu/gtk-3.0/3.0.0/linux/immodules:"),
        "{text}"
    );
    assert!(
        text.contains("\"/usr/lib/x86_64-linux-gnu/gtk-3.0/3.0.0/immodules/im-am-et.so\" \n"),
        "{text}"
    );

    let (mut tree, packages) = pixbuf_install();
    tree.symlink("lib", "usr/lib");
    let query = pixbuf::parse_call(&[
        "/lib/x86_64-linux-gnu/gdk-pixbuf-2.0/gdk-pixbuf-query-loaders".into(),
        "--update-cache".into(),
    ])
    .expect("the tool")
    .expect("reproduced");
    let out = pixbuf::run(&tree, &packages, &query).expect("known loaders");
    let (path, text) = out.cache.expect("a cache");
    assert_eq!(path, format!("/{CACHE}"));
    assert!(
        text.contains("# LoaderDir = /usr/lib/x86_64-linux-gnu/gdk-pixbuf-2.0/2.10.0/loaders\n"),
        "{text}"
    );
}

/// A call whose arguments the walk does not know is reported, not dropped; so is an
/// `--update-cache` of a module the data does not know (the cache an earlier package's run
/// wrote stays, as any file a command not reproduced would have rewritten, and the entry says
/// so).
#[test]
fn calls_not_computed_are_reported() {
    let (mut tree, mut packages) = gio_install(&[("libfoo-gio", "3-1", "libgiofoo.so")]);
    let querymodules = format!("/{LIBDIR}/glib-2.0/gio-querymodules");
    packages[0].members.insert(
        "postinst".into(),
        format!(
            "#!/bin/sh\nset -e\n{querymodules} \"$(pkg-config --variable=giomoduledir gio-2.0)\" || true\n"
        )
        .into_bytes(),
    );
    tree.file(&format!("{LIBDIR}/gio/modules/giomodule.cache"), b"");
    let (changes, report) = gio::compute(&tree, &packages).expect("compute");
    assert!(
        changes.files.is_empty() && changes.removed.is_empty(),
        "{changes:?}"
    );
    assert!(
        report.len() == 1 && report[0].what.contains("its arguments are not known"),
        "{report:?}"
    );

    let (mut tree, mut packages) = pixbuf_install();
    let foo = "usr/lib/foo/libpixbufloader-foo.so";
    tree.file(foo, b"\x7fELF");
    packages.push(package(
        "libfoo",
        "1-1",
        &[foo],
        Some(&format!("#!/bin/sh\nset -e\n/{TOOL} --update-cache /{foo}\n")),
    ));
    let (_, report) = files::compute(&tree, &packages).expect("walk");
    assert!(
        report
            .iter()
            .any(|r| r.package == "libfoo" && r.what.contains("libpixbufloader-foo.so")),
        "{report:?}"
    );
}
