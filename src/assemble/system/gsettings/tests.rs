use super::super::testutil::{MemTree, host_tool, with_postinst};
use super::*;

const DIR: &str = "usr/share/glib-2.0/schemas";

/// Schemas using every element the tool knows: enums and flags (from an `.enums.xml`, read
/// first), choices with aliases, ranges (given and defaulted), localised defaults with and
/// without a context, children, a schema extending another with an override, a list, paths,
/// and defaults of many types (maybes, variants inferred, dictionaries, tuples, doubles, byte
/// strings, typed empty arrays).
fn rich_schemas() -> MemTree {
    let mut t = MemTree::new();
    t.file(
        &format!("{DIR}/org.example.enums.xml"),
        br#"<?xml version="1.0" encoding="UTF-8"?>
<schemalist>
  <enum id="org.example.Mode">
    <value nick="none" value="0"/>
    <value nick="fast" value="1"/>
    <value nick="very-careful" value="-7"/>
  </enum>
  <flags id="org.example.Features">
    <value nick="nothing" value="0"/>
    <value nick="alpha" value="1"/>
    <value nick="beta" value="0x4"/>
    <value nick="gamma" value="16"/>
  </flags>
</schemalist>
"#,
    )
    .file(
        &format!("{DIR}/org.example.app.gschema.xml"),
        br#"<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE schemalist SYSTEM "gschema.dtd">
<schemalist gettext-domain="example">
  <!-- a comment -->
  <schema id="org.example.app" path="/org/example/app/">
    <key name="mode" enum="org.example.Mode">
      <default>'fast'</default>
      <summary>Mode</summary>
      <description>How &amp; why</description>
    </key>
    <key name="features" flags="org.example.Features">
      <default>['alpha', 'gamma']</default>
    </key>
    <key name="level" type="i">
      <range min="-5" max="50"/>
      <default>7</default>
    </key>
    <key name="ratio" type="d">
      <range/>
      <default>0.25</default>
    </key>
    <key name="count" type="u"><default>0x10</default></key>
    <key name="big" type="x"><default>-9223372036854775808</default></key>
    <key name="small" type="y"><default>255</default></key>
    <key name="short" type="n"><default>-2</default></key>
    <key name="ushort" type="q"><default>65535</default></key>
    <key name="huge" type="t"><default>18446744073709551615</default></key>
    <key name="enabled" type="b"><default>true</default></key>
    <key name="title" type="s">
      <default l10n="messages">  'Hello'  </default>
    </key>
    <key name="format" type="s">
      <default l10n="time" context="clock">'%H:%M'</default>
    </key>
    <key name="colour" type="s">
      <choices>
        <choice value="red"/>
        <choice value="green"/>
        <choice value="a-rather-long-choice-name-indeed"/>
      </choices>
      <aliases>
        <alias value="rouge" target="red"/>
      </aliases>
      <default>"green"</default>
    </key>
    <key name="palette" type="as">
      <choices><choice value="red"/><choice value="blue"/></choices>
      <default>['blue', 'red']</default>
    </key>
    <key name="names" type="as"><default>@as []</default></key>
    <key name="maybe-name" type="ms"><default>'x'</default></key>
    <key name="maybe-none" type="mi"><default>nothing</default></key>
    <key name="pairs" type="a{ss}">
      <default>{'k1': 'v1', 'key-two': 'value two'}</default>
    </key>
    <key name="options" type="a{sv}">
      <default>{'n': &lt;5&gt;, 'f': &lt;[1, 2.5]&gt;, 's': &lt;'x'&gt;, 'm': &lt;@ms nothing&gt;, 'b': &lt;(true, byte 3)&gt;}</default>
    </key>
    <key name="point" type="(ii)"><default>(10, -20)</default></key>
    <key name="mixed" type="(sidb)"><default>('a', 1, 2.0, false)</default></key>
    <key name="nested" type="a(sas)"><default>[('a', ['b', 'c']), ('', @as [])]</default></key>
    <key name="bytes" type="ay"><default>b'ab\n\101'</default></key>
    <key name="escapes" type="s"><default>'tab\there \u00e9 \'quote\' "dq"'</default></key>
    <key name="variant" type="v"><default>&lt;uint32 7&gt;</default></key>
    <key name="path" type="o"><default>'/org/example'</default></key>
    <key name="sig" type="g"><default>'a{sv}'</default></key>
    <key name="dmin" type="d"><default>-1e-3</default></key>
    <child name="child" schema="org.example.app.child"/>
  </schema>
  <schema id="org.example.app.child">
    <key name="inner" type="i"><default>1</default></key>
  </schema>
  <schema id="org.example.base">
    <key name="size" type="i"><default>1</default></key>
    <key name="label" type="s"><default>'base'</default></key>
  </schema>
  <schema id="org.example.derived" extends="org.example.base">
    <override name="size">2</override>
    <key name="extra" type="b"><default>false</default></key>
  </schema>
  <schema id="org.example.item" gettext-domain="other">
    <key name="name" type="s"><default l10n="messages">''</default></key>
  </schema>
  <schema id="org.example.items" path="/org/example/items:/" list-of="org.example.item"/>
  <schema id="org.example.empty"/>
</schemalist>
"#,
    )
    .file(
        &format!("{DIR}/10_org.example.gschema.override"),
        b"# vendor defaults\n[org.example.app]\nlevel=9\ncolour='red'\nmode='none'\nmissing=1\nbadtype='x'\nout-of-range=100\n\n[org.example.app:GNOME]\nenabled=false\nshort=4\n[org.example.app:KDE]\nenabled=true\n[org.example.absent]\nx=1\n",
    )
    .file(
        &format!("{DIR}/20_org.example.gschema.override"),
        b"[org.example.app]\nlevel=1000\ncolour='purple'\nnames=['late']\n",
    )
    .file(&format!("{DIR}/README"), b"not a schema");
    t
}

/// Many schemas with many keys: GLib's tables grow and rehash several times.
fn many_schemas() -> MemTree {
    let mut t = MemTree::new();
    for f in 0..7 {
        let mut xml = String::from("<schemalist>\n");
        for s in 0..(13 + 5 * f) {
            xml.push_str(&format!(
                "<schema id=\"org.many.f{f}.s{s}\" path=\"/org/many/f{f}/s{s}/\">\n"
            ));
            for k in 0..((s * 7 + f) % 23) {
                xml.push_str(&format!(
                    "<key name=\"key-{k}-x{}\" type=\"as\"><default>['{}', 'v{k}']</default></key>\n",
                    "z".repeat(k % 4),
                    "w".repeat(k * 3 % 11)
                ));
            }
            xml.push_str("</schema>\n");
        }
        xml.push_str("</schemalist>\n");
        t.file(&format!("{DIR}/org.many.f{f}.gschema.xml"), xml.as_bytes());
    }
    t
}

/// What the host's glib-compile-schemas writes for the tree's schema directory, if the tool is
/// there.
fn host_compiled(tree: &MemTree) -> Option<Vec<u8>> {
    let Some(tool) = host_tool("glib-compile-schemas") else {
        eprintln!("no glib-compile-schemas on this host: not cross-checked");
        return None;
    };
    let root = tempfile::tempdir().expect("tempdir");
    tree.materialise(root.path());
    let dir = root.path().join(DIR);
    let out = std::process::Command::new(tool)
        .arg(&dir)
        .output()
        .expect("glib-compile-schemas runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    // The tool exits 0 when it drops a file: that must not happen to these schemas.
    assert!(
        out.status.success() && !stderr.contains("ignored."),
        "glib-compile-schemas: {stderr}"
    );
    Some(std::fs::read(dir.join(OUTPUT_NAME)).expect("the tool wrote its file"))
}

fn hex_lines(bytes: &[u8]) -> Vec<String> {
    bytes.chunks(16).map(|c| format!("{c:02x?}")).collect()
}

#[test]
fn compiled_schemas_match_the_hosts_glib_compile_schemas() {
    for (name, tree) in [("rich", rich_schemas()), ("many", many_schemas())] {
        let ours = compile(&tree, &format!("/{DIR}"), false)
            .unwrap_or_else(|e| panic!("{name}: not reproduced: {e}"))
            .expect("schemas found");
        let Some(theirs) = host_compiled(&tree) else {
            return;
        };
        assert_eq!(hex_lines(&ours), hex_lines(&theirs), "{name}");
    }
}

#[test]
fn a_file_the_tool_would_drop_is_reported() {
    for (bad, why) in [
        (
            "<schemalist><schema id='a'><key name='k' type='i'><default>'x'</default></key></schema></schemalist>",
            "Failed to parse",
        ),
        (
            "<schemalist><schema id='a'><key name='Bad' type='i'><default>1</default></key></schema></schemalist>",
            "Invalid name",
        ),
        (
            "<schemalist><schema id='a'><key name='k' type='i' extra='1'><default>1</default></key></schema></schemalist>",
            "attribute",
        ),
        (
            "<schemalist><schema id='a'><key name='k' type='i'><range min='0' max='5'/><default>6</default></key></schema></schemalist>",
            "range",
        ),
        (
            "<schemalist><schema id='a'><key name='k' type='i'/></schema></schemalist>",
            "<default> is required",
        ),
    ] {
        let mut t = rich_schemas();
        t.file(&format!("{DIR}/zz.gschema.xml"), bad.as_bytes());
        let err = compile(&t, &format!("/{DIR}"), false).expect_err(bad);
        assert!(err.contains("zz.gschema.xml") && err.contains(why), "{err}");
    }
    let empty = MemTree::new();
    assert_eq!(compile(&empty, &format!("/{DIR}"), false), Ok(None));
    let mut readme_only = MemTree::new();
    readme_only.file(&format!("{DIR}/README"), b"x");
    assert_eq!(compile(&readme_only, &format!("/{DIR}"), false), Ok(None));
}

#[test]
fn libglibs_postinst_asks_for_the_system_directory() {
    let mut t = rich_schemas();
    t.file(
        "usr/lib/x86_64-linux-gnu/glib-2.0/glib-compile-schemas",
        b"\x7fELF",
    )
    .mode("usr/lib/x86_64-linux-gnu/glib-2.0/glib-compile-schemas", 0o755);
    let glib = with_postinst(
        "libglib2.0-0",
        "#!/bin/sh\nset -e\nhandle_triggers () {\n    for trigger in \"$@\"; do\n        case $trigger in\n          /usr/share/glib-2.0/schemas)\n            \"/usr/lib/x86_64-linux-gnu/glib-2.0/glib-compile-schemas\" /usr/share/glib-2.0/schemas || true\n            ;;\n        esac\n    done\n}\nif [ \"$1\" = triggered ]; then\n    handle_triggers $2\n    exit 0\nfi\n\"/usr/lib/x86_64-linux-gnu/glib-2.0/glib-compile-schemas\" /usr/share/glib-2.0/schemas || true\n",
    );
    let odd = with_postinst(
        "odd",
        "#!/bin/sh\nglib-compile-schemas --frobnicate /usr/share/glib-2.0/schemas\n",
    );
    let (changes, report) = compute(&t, &[glib, odd]).expect("computed");
    assert_eq!(changes.files.len(), 1);
    let (entry, bytes) = &changes.files[0];
    assert_eq!(entry.path, format!("{DIR}/{OUTPUT_NAME}"));
    assert_eq!(entry.mode, 0o644);
    assert_eq!(
        Some(bytes),
        compile(&t, &format!("/{DIR}"), false).expect("built").as_ref()
    );
    let what: Vec<&str> = report.iter().map(|r| r.what.as_str()).collect();
    assert_eq!(
        what,
        [
            "glib-compile-schemas --frobnicate /usr/share/glib-2.0/schemas (glib-compile-schemas --frobnicate is not reproduced)"
        ]
    );
    assert_eq!(
        parse_call("glib-compile-schemas", &["--targetdir=/x".into(), "/y".into()]),
        Some(Ok(Some(CompileRequest {
            dir: "/y".into(),
            target_dir: Some("/x".into()),
            allow_any_name: false
        })))
    );
    assert_eq!(
        parse_call("glib-compile-schemas", &["--dry-run".into(), "/y".into()]),
        Some(Ok(None))
    );
    assert_eq!(parse_call("gsettings", &[]), None);
}
