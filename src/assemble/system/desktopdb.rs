//! desktop-file-utils' `update-desktop-database` (0.26, bookworm's): `mimeinfo.cache`, the map
//! from MIME types to the desktop entries that open them, as desktop-file-utils' postinst and its
//! trigger on `/usr/share/applications` leave it.
//!
//! The tool reads every `*.desktop` file below the directory (a subdirectory's entries get its
//! name and `-` as a prefix: `kde4/a.desktop` is `kde4-a.desktop`), skips those GLib's key-file
//! reader refuses and those with `Hidden=true`, and lists each entry under every type of its
//! `MimeType` list that is a valid MIME type (`mimeutils.c`: a known media type, a subtype of
//! token characters; discouraged ones are kept). The file is `[MIME Cache]`, then one
//! `TYPE=ENTRY;ENTRY;` line per type, types and entries sorted bytewise: nothing depends on the
//! order the directory lists its files in, so the file is computed from the finished tree.
//! Without a directory argument the tool updates `applications` under GLib's system data
//! directories (`/usr/local/share`, `/usr/share`: dpkg runs scripts without `XDG_DATA_DIRS`),
//! skipping a directory that does not exist.

use std::collections::BTreeMap;

use super::{Changes, InstalledPackage, NotEmulated, SystemError, TreeView};

/// Where the tool looks without arguments (GLib's default system data directories).
const DEFAULT_DIRS: [&str; 2] = ["/usr/local/share/applications", "/usr/share/applications"];
const CACHE_NAME: &str = "mimeinfo.cache";
/// Links followed to a directory or entry before giving up (a loop in the tree).
const MAX_DEPTH: usize = 16;

/// The directories a call updates: `update-desktop-database [-q] [-v] [DIR…]`; `None` for
/// another command or a query (`--version`, `--help`); `Err` for a form not reproduced.
pub fn parse_call(argv0: &str, args: &[String]) -> Option<Result<Vec<String>, String>> {
    if argv0.rsplit('/').next() != Some("update-desktop-database") {
        return None;
    }
    let mut dirs = Vec::new();
    for a in args {
        match a.as_str() {
            "-q" | "--quiet" | "-v" | "--verbose" => {}
            "--version" | "-h" | "--help" | "-?" => return None,
            d if d.starts_with('/') => dirs.push(d.trim_end_matches('/').to_owned()),
            other => return Some(Err(format!("update-desktop-database {other} is not reproduced"))),
        }
    }
    if dirs.is_empty() {
        dirs = DEFAULT_DIRS.iter().map(|d| (*d).to_owned()).collect();
    }
    Some(Ok(dirs))
}

/// Every cache the packages' postinsts ask for, from the finished tree.
pub fn compute(
    tree: &dyn TreeView,
    packages: &[InstalledPackage],
) -> Result<(Changes, Vec<NotEmulated>), SystemError> {
    let (calls, report) = super::calls::postinst_calls(tree, packages, "update-desktop-database", parse_call);
    let mut dirs: Vec<String> = calls.into_iter().flat_map(|(dirs, _)| dirs).collect();
    dirs.sort();
    dirs.dedup();
    let mut out = Changes::default();
    for dir in dirs {
        let Some(real) = super::resolve(tree, &super::tree_path(&dir)) else {
            continue;
        };
        if !super::is_dir(tree, &real) {
            continue;
        }
        let cache = mime_cache(tree, &real)?;
        out.file(&super::child_path(&real, CACHE_NAME), 0o644, cache.into_bytes());
    }
    Ok((out, report))
}

/// The cache of one directory (a tree path).
pub fn mime_cache(tree: &dyn TreeView, dir: &str) -> Result<String, SystemError> {
    let mut map: BTreeMap<String, Vec<String>> = BTreeMap::new();
    collect(tree, dir, "", &mut map, 0)?;
    let mut out = String::from("[MIME Cache]\n");
    for (mime_type, mut entries) in map {
        entries.sort();
        out.push_str(&mime_type);
        out.push('=');
        for e in entries {
            out.push_str(&e);
            out.push(';');
        }
        out.push('\n');
    }
    Ok(out)
}

fn collect(
    tree: &dyn TreeView,
    dir: &str,
    prefix: &str,
    map: &mut BTreeMap<String, Vec<String>>,
    depth: usize,
) -> Result<(), SystemError> {
    if depth > MAX_DEPTH {
        return Ok(());
    }
    let Some((real, names)) = super::children(tree, dir) else {
        return Ok(());
    };
    for name in names {
        let path = super::child_path(&real, &name);
        let Some(target) = super::resolve(tree, &path) else {
            continue;
        };
        if super::is_dir(tree, &target) {
            collect(tree, &target, &format!("{prefix}{name}-"), map, depth + 1)?;
            continue;
        }
        if !name.ends_with(".desktop") {
            continue;
        }
        let Some(bytes) = super::read_file(tree, &path)? else {
            continue;
        };
        let id = format!("{prefix}{name}");
        for mime_type in entry_mime_types(&bytes) {
            let entries = map.entry(mime_type).or_default();
            // A type listed twice in one entry counts once (the tool compares with the entry it
            // added last for the type).
            if entries.last() != Some(&id) {
                entries.push(id.clone());
            }
        }
    }
    Ok(())
}

/// The valid MIME types a desktop entry lists, in its order; none for an entry GLib does not
/// load, a hidden one, or one whose list cannot be read.
fn entry_mime_types(bytes: &[u8]) -> Vec<String> {
    let Ok(text) = std::str::from_utf8(bytes) else {
        return Vec::new();
    };
    let Some(groups) = super::keyfile::parse(text) else {
        return Vec::new();
    };
    let Some((_, keys)) = groups.iter().find(|(g, _)| g == "Desktop Entry") else {
        return Vec::new();
    };
    let value = |key: &str| keys.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str());
    if value("Hidden").and_then(super::keyfile::boolean) == Some(true) {
        return Vec::new();
    }
    let Some(list) = value("MimeType").and_then(super::keyfile::string_list) else {
        return Vec::new();
    };
    list.into_iter()
        // `g_strchomp`: trailing blanks only.
        .map(|t| t.trim_end_matches(|c: char| c.is_ascii_whitespace()).to_owned())
        .filter(|t| is_valid_mime_type(t))
        .collect()
}

/// `mu_mime_type_is_valid` is not `MU_INVALID`.
fn is_valid_mime_type(mime_type: &str) -> bool {
    // Valid although their media type is not (mimeutils' exceptions and the aliases it only
    // discourages).
    const EXCEPTIONS: &[&str] = &["message/rfc822", "multipart/related", "misc/ultravox"];
    const ALIASES: &[&str] = &[
        "flv-application/octet-stream",
        "zz-application/zz-winassoc-123",
        "zz-application/zz-winassoc-cab",
        "zz-application/zz-winassoc-cdr",
        "zz-application/zz-winassoc-doc",
        "zz-application/zz-winassoc-hlp",
        "zz-application/zz-winassoc-ini",
        "zz-application/zz-winassoc-lwp",
        "zz-application/zz-winassoc-lzh",
        "zz-application/zz-winassoc-mdb",
        "zz-application/zz-winassoc-uu",
        "zz-application/zz-winassoc-xls",
    ];
    let Some((media, subtype)) = mime_type.split_once('/') else {
        return false;
    };
    if subtype.is_empty() || !subtype.bytes().all(is_token_byte) {
        return false;
    }
    let media_ok = match media {
        "inode" | "x-content" | "x-scheme-handler" | "chemical" | "x-directory" => true,
        m if m.len() >= 2 && m[..2].eq_ignore_ascii_case("x-") => m.bytes().skip(2).all(is_token_byte),
        "application" | "audio" | "font" | "image" | "model" | "text" | "video" | "message" | "multipart" => {
            true
        }
        _ => false,
    };
    media_ok || EXCEPTIONS.contains(&mime_type) || ALIASES.contains(&mime_type)
}

/// A byte of a MIME token (RFC 2045): not a control, space or one of the specials (bytes of
/// UTF-8 sequences pass, as in the tool).
fn is_token_byte(b: u8) -> bool {
    b > 32 && b != 127 && !b"()<>@,;:\\\"/[]?=".contains(&b)
}

#[cfg(test)]
mod tests {
    use super::super::testutil::MemTree;
    use super::*;

    fn argv(s: &str) -> Vec<String> {
        s.split_whitespace().map(str::to_owned).collect()
    }

    #[test]
    fn calls_and_their_directories() {
        assert_eq!(
            parse_call("update-desktop-database", &argv("-q")),
            Some(Ok(vec![
                "/usr/local/share/applications".to_owned(),
                "/usr/share/applications".to_owned()
            ]))
        );
        assert_eq!(
            parse_call(
                "/usr/bin/update-desktop-database",
                &argv("-q /usr/share/applications/")
            ),
            Some(Ok(vec!["/usr/share/applications".to_owned()]))
        );
        assert_eq!(parse_call("update-desktop-database", &argv("--version")), None);
        assert!(matches!(
            parse_call("update-desktop-database", &argv("-o x")),
            Some(Err(_))
        ));
        assert_eq!(parse_call("update-mime-database", &argv("-q")), None);
    }

    #[test]
    fn mime_types_as_the_tool_validates_them() {
        for valid in [
            "text/plain",
            "x-scheme-handler/http",
            "inode/directory",
            "X-Foo/bar",
            "message/rfc822",
            "multipart/mixed",
            "zz-application/zz-winassoc-doc",
            "font/ttf",
        ] {
            assert!(is_valid_mime_type(valid), "{valid}");
        }
        for invalid in [
            "text",
            "text/",
            "foo/bar",
            "example/x",
            "text/pl ain",
            "text/a=b",
            " text/plain",
        ] {
            assert!(!is_valid_mime_type(invalid), "{invalid}");
        }
    }

    /// Entries in a directory and a subdirectory, a hidden one, one GLib refuses, one with an
    /// escape it refuses, duplicates and an invalid type: the cache as the tool writes it.
    #[test]
    fn the_cache_of_a_directory() {
        let mut t = MemTree::new();
        t.file(
            "usr/share/applications/b.desktop",
            b"[Desktop Entry]\nName=B\nMimeType=text/plain;image/png;text/plain;foo/bar;\n",
        )
        .file(
            "usr/share/applications/a.desktop",
            b"# c\n[Desktop Entry]\nMimeType = text/plain ;x-scheme-handler/http\n[Desktop Action x]\nMimeType=audio/x\n",
        )
        .file(
            "usr/share/applications/kde4/c.desktop",
            b"[Desktop Entry]\nMimeType=image/png;\n",
        )
        .file(
            "usr/share/applications/hidden.desktop",
            b"[Desktop Entry]\nHidden=true\nMimeType=text/plain;\n",
        )
        .file("usr/share/applications/broken.desktop", b"MimeType=text/plain;\n")
        .file(
            "usr/share/applications/escape.desktop",
            b"[Desktop Entry]\nMimeType=text/html;\\q;\n",
        )
        .file("usr/share/applications/notes.txt", b"[Desktop Entry]\nMimeType=text/x;\n");
        let cache = mime_cache(&t, "usr/share/applications").unwrap();
        assert_eq!(
            cache,
            "[MIME Cache]\nimage/png=b.desktop;kde4-c.desktop;\ntext/plain=a.desktop;b.desktop;\n\
             x-scheme-handler/http=a.desktop;\n"
        );
    }

    /// The host's tool, where it is installed, writes the same file for the same entries.
    #[test]
    fn the_cache_matches_the_host_tool() {
        let Some(tool) = super::super::testutil::host_tool("update-desktop-database") else {
            eprintln!("update-desktop-database not installed: skipped");
            return;
        };
        let mut t = MemTree::new();
        let entries: [(&str, &[u8]); 6] = [
            (
                "z.desktop",
                b"[Desktop Entry]\nName=Z\nMimeType=text/plain;application/pdf;\n",
            ),
            (
                "a.desktop",
                b"[Desktop Entry]\nMimeType=application/pdf;X-Custom/thing;inode/directory;\n",
            ),
            ("sub/y.desktop", b"[Desktop Entry]\nMimeType=text/plain;\n"),
            ("h.desktop", b"[Desktop Entry]\nHidden=1\nMimeType=text/plain;\n"),
            (
                "bad.desktop",
                b"[Desktop Entry]\nMimeType=text/plain;nosubtype;example/x;\n",
            ),
            (
                "e.desktop",
                b"[Desktop Entry]\nMimeType=text/plain\\;x;video/mp4\n",
            ),
        ];
        for (name, body) in entries {
            t.file(&format!("apps/{name}"), body);
        }
        let dir = tempfile::tempdir().unwrap();
        t.materialise(dir.path());
        let apps = dir.path().join("apps");
        let status = std::process::Command::new(tool)
            .arg("-q")
            .arg(&apps)
            .status()
            .unwrap();
        assert!(status.success());
        let host = std::fs::read_to_string(apps.join(CACHE_NAME)).unwrap();
        assert_eq!(mime_cache(&t, "apps").unwrap(), host);
    }
}
