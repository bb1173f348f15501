//! binfmt-support's `update-binfmts --import [NAME]` (version 2.2): a packaged format file of
//! `/usr/share/binfmts` (qemu-user-static's `qemu-aarch64`…) recorded in binfmt-support's
//! database, `/var/lib/binfmts/NAME`. The kernel side (`/proc/sys/fs/binfmt_misc`) is the
//! running system's: in an image build, as in a chroot, binfmt_misc is not mounted and
//! update-binfmts leaves it alone.
//!
//! The format file: one `KEY VALUE` per line (the key lower-cased, the value everything after
//! the first space, trailing white space dropped; a later line wins). The database file: ten
//! lines, `package`, `type` (`magic`, or `extension` where there is no magic), `offset` (`0` when
//! not given), `magic` (the extension, for that type), `mask`, `interpreter`, `detector`,
//! `credentials`, `preserve`, `fix_binary`, each empty when not given. A format recorded by hand
//! (package `:`) is kept, and one recorded by another package is not replaced.

use std::collections::BTreeMap;

use super::{Changes, Overlay};

const IMPORT_DIR: &str = "/usr/share/binfmts";
const ADMIN_DIR: &str = "var/lib/binfmts";

/// `update-binfmts --import [NAME]`: `None` imports every file of the import directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Import(pub Option<String>);

/// The calls this module applies: `--import` with at most one name; other modes (install,
/// remove, enable…) are refused.
pub fn parse(args: &[String]) -> Result<Import, String> {
    match args {
        [mode] if mode == "--import" => Ok(Import(None)),
        [mode, name] if mode == "--import" && !name.starts_with('-') => Ok(Import(Some(name.clone()))),
        _ => Err("update-binfmts other than --import [NAME] is not reproduced".into()),
    }
}

/// Records the format(s) in the database, as update-binfmts does. `Err` when the call fails
/// as it would (a reserved name, a file missing or without a `package` line).
pub fn apply(overlay: &mut Overlay<'_>, call: &Import, umask: u32) -> Result<(), String> {
    let names: Vec<String> = match &call.0 {
        Some(name) => vec![name.clone()],
        None => super::children(overlay, &super::tree_path(IMPORT_DIR))
            .map(|(real, names)| {
                names
                    .into_iter()
                    .filter(|n| super::is_file(overlay, &format!("{real}/{n}")))
                    .collect()
            })
            .unwrap_or_default(),
    };
    let mut failed = Vec::new();
    for name in names {
        if let Err(why) = import(overlay, &name, umask) {
            failed.push(why);
        }
    }
    if failed.is_empty() {
        Ok(())
    } else {
        Err(failed.join("; "))
    }
}

fn import(overlay: &mut Overlay<'_>, name: &str, umask: u32) -> Result<(), String> {
    let (id, path) = match name.rsplit_once('/') {
        Some((_, id)) => (id.to_owned(), name.to_owned()),
        None => (name.to_owned(), format!("{IMPORT_DIR}/{name}")),
    };
    if matches!(id.as_str(), "" | "." | ".." | "register" | "status") {
        return Err(format!("binary format name '{id}' is reserved"));
    }
    let text = super::read_file(overlay, &super::tree_path(&path))
        .map_err(|e| e.to_string())?
        .ok_or_else(|| format!("couldn't find information about '{id}' to import ({path} is not there)"))?;
    let fields = read_import(&text);
    if fields.is_empty() {
        return Err(format!("couldn't find information about '{id}' to import"));
    }
    let admin = format!("{ADMIN_DIR}/{id}");
    let recorded = super::read_file(overlay, &admin).map_err(|e| e.to_string())?;
    let recorded_package = recorded
        .as_deref()
        .and_then(|b| String::from_utf8_lossy(b).lines().next().map(str::to_owned));
    // Recorded by hand: update-binfmts keeps it (and succeeds).
    if recorded_package.as_deref() == Some(":") {
        return Ok(());
    }
    let Some(package) = fields.get("package").cloned().flatten() else {
        return Err(format!("{path}: required 'package' line missing"));
    };
    // Recorded by another package: a warning, nothing written (the import still succeeds).
    if recorded_package.is_some_and(|p| p != package) {
        return Ok(());
    }
    let get = |k: &str| fields.get(k).cloned().flatten();
    let (kind, magic, mask, offset) = match (get("magic"), fields.contains_key("extension")) {
        (Some(_), true) => return Err(format!("{id}: can't use both --magic and --extension")),
        (Some(magic), false) => ("magic", Some(magic), get("mask"), get("offset")),
        (None, true) => {
            if get("mask").is_some() || get("offset").is_some() {
                return Err(format!("{id}: can't use --mask or --offset with --extension"));
            }
            ("extension", get("extension"), None, None)
        }
        (None, false) => return Err(format!("{id}: either --magic or --extension is required")),
    };
    let offset = offset.filter(|o| !o.is_empty()).unwrap_or_else(|| "0".into());
    let lines = [
        Some(package),
        Some(kind.to_owned()),
        Some(offset),
        magic,
        Some(mask.unwrap_or_default()),
        get("interpreter"),
        get("detector"),
        get("credentials"),
        get("preserve"),
        get("fix_binary"),
    ];
    let mut out = String::new();
    for line in lines {
        out.push_str(line.as_deref().unwrap_or(""));
        out.push('\n');
    }
    if !super::is_dir(overlay, ADMIN_DIR) {
        return Err(format!("/{ADMIN_DIR} does not exist"));
    }
    let mut c = Changes::default();
    c.file(&admin, 0o666 & !umask, out.into_bytes());
    overlay.apply(c);
    Ok(())
}

/// The `KEY VALUE` lines of a format file (`None`: a key without a value).
fn read_import(bytes: &[u8]) -> BTreeMap<String, Option<String>> {
    let text = String::from_utf8_lossy(bytes);
    let mut out = BTreeMap::new();
    for line in text.split('\n') {
        let line = line.trim_end_matches(|c: char| c.is_ascii_whitespace());
        let (key, value) = match line.split_once(' ') {
            Some((k, v)) => (k, Some(v.to_owned())),
            None => (line, None),
        };
        out.insert(key.to_ascii_lowercase(), value);
    }
    // getline's last, empty piece after the final newline is no line.
    if text.ends_with('\n') || text.is_empty() {
        out.remove("");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::super::testutil::MemTree;
    use super::*;

    fn qemu_tree() -> MemTree {
        let mut t = MemTree::new();
        t.dir("var/lib/binfmts").file(
            "usr/share/binfmts/qemu-aarch64",
            b"package qemu-user-static\ninterpreter /usr/libexec/qemu-binfmt/aarch64-binfmt-P\n\
              magic \\x7f\\x45\\x4c\\x46\\x02\\x01\\x01\\x00\nOFFSET 0\nmask \\xff\\xff\\xff\\xff\\xff\\xff\\xff\\x00\n\
              credentials no\nfix_binary yes\npreserve yes   \n",
        );
        t
    }

    fn args(a: &[&str]) -> Vec<String> {
        a.iter().map(|s| s.to_string()).collect()
    }

    /// The database file as binfmt-support 2.2 wrote it for qemu-user-static's format (the
    /// reference install's `/var/lib/binfmts/qemu-aarch64`, with the magic shortened).
    #[test]
    fn an_import_records_the_format_in_the_database() {
        let t = qemu_tree();
        let mut o = Overlay::new(&t);
        apply(
            &mut o,
            &parse(&args(&["--import", "qemu-aarch64"])).unwrap(),
            0o022,
        )
        .unwrap();
        let (files, _) = o.into_changes();
        let (e, data) = files
            .iter()
            .find(|(e, _)| e.path == "var/lib/binfmts/qemu-aarch64")
            .unwrap();
        assert_eq!(e.mode, 0o644);
        assert_eq!(
            String::from_utf8_lossy(data),
            "qemu-user-static\nmagic\n0\n\\x7f\\x45\\x4c\\x46\\x02\\x01\\x01\\x00\n\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\x00\n\
             /usr/libexec/qemu-binfmt/aarch64-binfmt-P\n\nno\nyes\nyes\n"
        );
    }

    #[test]
    fn import_without_a_name_takes_every_file_and_extensions_have_no_offset() {
        let mut t = qemu_tree();
        t.file(
            "usr/share/binfmts/jar",
            b"package jarwrapper\ninterpreter /usr/bin/jarwrapper\nextension jar\n",
        );
        let mut o = Overlay::new(&t);
        apply(&mut o, &parse(&args(&["--import"])).unwrap(), 0o022).unwrap();
        let (files, _) = o.into_changes();
        let jar = files
            .iter()
            .find(|(e, _)| e.path == "var/lib/binfmts/jar")
            .unwrap();
        assert_eq!(
            String::from_utf8_lossy(&jar.1),
            "jarwrapper\nextension\n0\njar\n\n/usr/bin/jarwrapper\n\n\n\n\n"
        );
        assert!(
            files
                .iter()
                .any(|(e, _)| e.path == "var/lib/binfmts/qemu-aarch64")
        );
    }

    #[test]
    fn hand_made_and_other_packages_formats_are_kept_and_bad_files_refused() {
        let mut t = qemu_tree();
        t.file(
            "var/lib/binfmts/qemu-aarch64",
            b":\nmagic\n0\nx\n\n/bin/mine\n\n\n\n\n",
        );
        let mut o = Overlay::new(&t);
        apply(&mut o, &Import(Some("qemu-aarch64".into())), 0o022).unwrap();
        assert!(o.into_changes().0.is_empty());
        let mut t = qemu_tree();
        t.file("usr/share/binfmts/nopkg", b"interpreter /bin/x\nmagic ab\n")
            .file(
                "usr/share/binfmts/both",
                b"package p\ninterpreter /bin/x\nmagic ab\nextension e\n",
            );
        let mut o = Overlay::new(&t);
        for (name, why) in [
            ("nopkg", "required 'package' line missing"),
            ("both", "can't use both"),
            ("missing", "couldn't find information"),
            ("register", "reserved"),
        ] {
            let err = apply(&mut o, &Import(Some(name.into())), 0o022).unwrap_err();
            assert!(err.contains(why), "{name}: {err}");
        }
        assert!(parse(&args(&["--install", "x", "/bin/x", "--magic", "ab"])).is_err());
    }
}
