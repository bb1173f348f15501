//! The dpkg database (`/var/lib/dpkg`) as `dpkg --install` would have left it: `status`, the
//! `info/` files of every package, the trigger interest registry and the empty bookkeeping files.
//!
//! Formats follow dpkg 1.21 (bookworm): `lib/dpkg/parse.c`'s field table fixes the order of the
//! fields in `status` (`lib/dpkg/dump.c` writes them in that order, unknown fields after, in the
//! order the control file had them), `src/main/archives.c` writes `info/<pkg>.list` in archive order
//! starting with `/.`, and `lib/dpkg/triglib.c` keeps file-trigger interests in `triggers/File`
//! and named-trigger interests in `triggers/<name>`.

use md5::{Digest, Md5};

use super::{Changes, InstalledPackage, SystemError, TreeView};

const ADMINDIR: &str = "var/lib/dpkg";

/// The fields dpkg knows, in the order it writes them (parse.c `fieldinfos`). Fields it computes
/// itself (Status, Conffiles) or never writes to `status` for an installed package (Filename,
/// Size, MD5sum, MSDOS-Filename, Config-Version, Triggers-*) are handled separately.
const KNOWN_BEFORE_STATUS: &[&str] = &["Package", "Essential", "Protected"];
const KNOWN_AFTER_STATUS: &[&str] = &[
    "Priority",
    "Section",
    "Installed-Size",
    "Origin",
    "Maintainer",
    "Bugs",
    "Architecture",
    "Multi-Arch",
    "Source",
    "Version",
    "Replaces",
    "Provides",
    "Depends",
    "Pre-Depends",
    "Recommends",
    "Suggests",
    "Breaks",
    "Conflicts",
    "Enhances",
];
/// Fields dpkg drops from an installed package's record.
const DROPPED: &[&str] = &[
    "Status",
    "Conffiles",
    "Config-Version",
    "Filename",
    "Size",
    "MD5sum",
    "MSDOS-Filename",
    "Triggers-Pending",
    "Triggers-Awaited",
];

/// Maintainer scripts keep their execute bit in `info/` (dpkg extracts the control tarball with
/// its modes; Debian's are 0755 for scripts, 0644 for data).
const SCRIPTS: &[&str] = &["preinst", "postinst", "prerm", "postrm", "config"];

/// Computes `/var/lib/dpkg` for `packages` installed in `tree` (the tree as unpacked, before any
/// script emulation: conffile hashes are those of the shipped files).
pub fn compute(
    tree: &dyn TreeView,
    packages: &[InstalledPackage],
    architecture: &str,
) -> Result<Changes, SystemError> {
    let mut out = Changes::default();
    for dir in ["", "/alternatives", "/info", "/parts", "/triggers", "/updates"] {
        out.dir(&format!("{ADMINDIR}{dir}"), 0o755);
    }

    let mut sorted: Vec<&InstalledPackage> = packages.iter().collect();
    sorted.sort_by(|a, b| (&a.name, &a.architecture).cmp(&(&b.name, &b.architecture)));

    let mut status = String::new();
    for pkg in &sorted {
        status.push_str(&status_paragraph(tree, pkg)?);
        status.push('\n');
    }
    out.file(&format!("{ADMINDIR}/status"), 0o644, status.into_bytes());
    // `diversions` is written by the `files` emulation (dpkg-divert calls); `available` and
    // `statoverride` are created by dpkg only when something uses them.
    // dpkg creates its lock files 0640 (lock) and 0600 (triggers/Lock) on first use; an image
    // built by debootstrap carries them, empty.
    out.file(&format!("{ADMINDIR}/lock"), 0o640, Vec::new());
    out.file(&format!("{ADMINDIR}/triggers/Lock"), 0o600, Vec::new());
    out.file(&format!("{ADMINDIR}/triggers/Unincorp"), 0o644, Vec::new());
    // The multiarch-aware info database layout (`pkg:arch.list` for Multi-Arch: same); without
    // this marker dpkg reads the legacy layout and misses those files.
    out.file(&format!("{ADMINDIR}/info/format"), 0o644, b"1\n".to_vec());

    // Foreign architectures are recorded by `dpkg --add-architecture` in `arch`, native first.
    let mut foreign: Vec<&str> = packages
        .iter()
        .map(|p| p.architecture.as_str())
        .filter(|a| *a != "all" && *a != architecture)
        .collect();
    foreign.sort_unstable();
    foreign.dedup();
    if !foreign.is_empty() {
        let mut arch = format!("{architecture}\n");
        for a in foreign {
            arch.push_str(a);
            arch.push('\n');
        }
        out.file(&format!("{ADMINDIR}/arch"), 0o644, arch.into_bytes());
    }

    for pkg in &sorted {
        info_files(pkg, &mut out);
    }
    triggers(&sorted, &mut out)?;
    Ok(out)
}

/// What `dpkg -s NAME…` (`dpkg-query -s`, `--status`) prints while the install runs: each named
/// package's status paragraph, a blank line between two (exim4-config's config reads debconf's
/// `Version` so). A package not in the set prints nothing (dpkg says so on standard error).
/// `None` when a named package is in the set but not configured yet (`configured` says which
/// are): its status is not the one written here, and the answer is left unknown.
pub fn status_output(
    tree: &dyn TreeView,
    packages: &[InstalledPackage],
    names: &[String],
    configured: &dyn Fn(&str) -> bool,
) -> Option<String> {
    let mut paragraphs = Vec::new();
    for name in names {
        let bare = name.split(':').next().unwrap_or(name);
        let Some(pkg) = packages.iter().find(|p| p.name == bare) else {
            continue;
        };
        if !configured(bare) {
            return None;
        }
        paragraphs.push(status_paragraph(tree, pkg).ok()?);
    }
    Some(paragraphs.join("\n"))
}

/// What `dpkg-query -f FORMAT -W PKG` prints while the scripts run (apache2's helper asks
/// `-f '${Status}' -W apache2` whether apache2 is configured yet): `${Package}`, `${Version}`,
/// `${Architecture}` and `${Status}` — `install ok installed` once the package is configured,
/// `half-configured` while its own postinst runs, `unpacked` before. `None` for another form,
/// field or package.
pub fn show_output(
    packages: &[InstalledPackage],
    args: &[String],
    configured: &dyn Fn(&str) -> bool,
    current: &str,
) -> Option<String> {
    let mut format = None;
    let mut show = false;
    let mut names = Vec::new();
    let mut i = 0;
    while i < args.len() {
        let a = args[i].as_str();
        match a {
            "-W" | "--show" => show = true,
            "-f" | "--showformat" => {
                i += 1;
                format = Some(args.get(i)?.clone());
            }
            _ if a.starts_with("--showformat=") => format = Some(a["--showformat=".len()..].to_owned()),
            _ if a.starts_with('-') => return None,
            _ => names.push(a),
        }
        i += 1;
    }
    let (Some(format), true, [name]) = (format, show, names.as_slice()) else {
        return None;
    };
    let pkg = packages.iter().find(|p| p.name == *name)?;
    let status = if configured(name) {
        "install ok installed"
    } else if *name == current {
        "install ok half-configured"
    } else {
        "install ok unpacked"
    };
    let mut out = String::new();
    let mut rest = format.as_str();
    while !rest.is_empty() {
        if let Some(after) = rest.strip_prefix("${") {
            let (field, tail) = after.split_once('}')?;
            out.push_str(match field {
                "Package" | "binary:Package" => &pkg.name,
                "Version" => &pkg.version,
                "Architecture" => &pkg.architecture,
                "Status" => status,
                _ => return None,
            });
            rest = tail;
        } else if let Some(tail) = rest.strip_prefix("\\n") {
            out.push('\n');
            rest = tail;
        } else if let Some(tail) = rest.strip_prefix("\\t") {
            out.push('\t');
            rest = tail;
        } else if rest.starts_with('\\') {
            return None;
        } else {
            let c = rest.chars().next()?;
            out.push(c);
            rest = &rest[c.len_utf8()..];
        }
    }
    Some(out)
}

/// One `status` paragraph, ending with a newline (the blank separator line is the caller's).
fn status_paragraph(tree: &dyn TreeView, pkg: &InstalledPackage) -> Result<String, SystemError> {
    let mut p = String::new();
    let mut push = |name: &str, value: &str| {
        p.push_str(name);
        p.push(':');
        if !value.starts_with('\n') {
            p.push(' ');
        }
        p.push_str(value);
        p.push('\n');
    };
    let value_of = |name: &str| -> Option<String> {
        match name {
            "Package" => Some(pkg.name.clone()),
            "Version" => Some(pkg.version.clone()),
            "Architecture" => Some(pkg.architecture.clone()),
            _ => pkg.field(name).map(str::to_owned),
        }
    };
    for name in KNOWN_BEFORE_STATUS {
        if let Some(v) = value_of(name) {
            push(name, &v);
        }
    }
    push("Status", "install ok installed");
    for name in KNOWN_AFTER_STATUS {
        if let Some(v) = value_of(name) {
            // dpkg omits `Multi-Arch: no`, its default.
            if *name == "Multi-Arch" && v.trim() == "no" {
                continue;
            }
            push(name, &v);
        }
    }
    if let Some(conffiles) = conffiles_field(tree, pkg)? {
        push("Conffiles", &conffiles);
    }
    if let Some(v) = pkg.field("Description") {
        push("Description", v);
    }
    for (name, value) in &pkg.control_fields {
        let known = KNOWN_BEFORE_STATUS
            .iter()
            .chain(KNOWN_AFTER_STATUS)
            .chain(DROPPED)
            .chain(&["Description"])
            .any(|k| k.eq_ignore_ascii_case(name));
        if !known {
            push(name, value);
        }
    }
    Ok(p)
}

/// The `Conffiles` field: one ` /path md5` line per conffile the package ships, hashed from the
/// shipped content as dpkg does when it unpacks a conffile for the first time.
fn conffiles_field(tree: &dyn TreeView, pkg: &InstalledPackage) -> Result<Option<String>, SystemError> {
    let Some(raw) = pkg.members.get("conffiles") else {
        return Ok(None);
    };
    let text = std::str::from_utf8(raw).map_err(|_| SystemError::Package {
        package: pkg.name.clone(),
        file: "conffiles".into(),
        message: "not UTF-8".into(),
    })?;
    let mut field = String::new();
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        let refuse = |why: &str| SystemError::Package {
            package: pkg.name.clone(),
            file: "conffiles".into(),
            message: format!("entry {} {why}", crate::text::quoted(line)),
        };
        // Since dpkg 1.20 a line may carry a flag before the path (`remove-on-upgrade /etc/x`):
        // dpkg records it with the flag after the hash (` /etc/x newconffile
        // remove-on-upgrade`: such a conffile is not shipped, so never installed).
        let (flag, path) = match line.split_once(char::is_whitespace) {
            Some((flag, path)) if !line.starts_with('/') => (Some(flag), path.trim_start()),
            _ => (None, line),
        };
        if flag.is_some_and(|f| f != "remove-on-upgrade") {
            return Err(refuse(
                "has an unknown flag (dpkg knows only `remove-on-upgrade`)",
            ));
        }
        if !path.starts_with('/') {
            return Err(refuse("is not an absolute path"));
        }
        if path.split('/').any(|c| c == "..") {
            return Err(refuse("has a `..` component"));
        }
        if path.chars().any(char::is_control) {
            return Err(refuse("contains a control character"));
        }
        let hash = match super::read_file(tree, &super::tree_path(path))? {
            Some(bytes) => hex::encode(Md5::digest(&bytes)),
            // A conffile listed but not shipped: dpkg records it as never installed.
            None => "newconffile".to_owned(),
        };
        match flag {
            Some(flag) => field.push_str(&format!("\n {path} {hash} {flag}")),
            None => field.push_str(&format!("\n {path} {hash}")),
        }
    }
    Ok(if field.is_empty() { None } else { Some(field) })
}

/// `info/<pkg>.list` and every control member but `control` itself, as dpkg keeps them.
fn info_files(pkg: &InstalledPackage, out: &mut Changes) {
    let db = pkg.db_name();
    let mut list = String::from("/.\n");
    for f in &pkg.files {
        list.push('/');
        list.push_str(f);
        list.push('\n');
    }
    out.file(&format!("{ADMINDIR}/info/{db}.list"), 0o644, list.into_bytes());
    for (member, content) in &pkg.members {
        if member == "control" || member.contains('/') {
            continue;
        }
        let mode = if SCRIPTS.contains(&member.as_str()) {
            0o755
        } else {
            0o644
        };
        out.file(&format!("{ADMINDIR}/info/{db}.{member}"), mode, content.clone());
    }
}

/// Trigger interests from every package's `triggers` member: file triggers go to `triggers/File`
/// as `<path> <pkg>[/noawait]`, named triggers to `triggers/<name>` as `<pkg>[/noawait]` lines.
fn triggers(sorted: &[&InstalledPackage], out: &mut Changes) -> Result<(), SystemError> {
    let mut file = String::new();
    let mut named: std::collections::BTreeMap<String, String> = Default::default();
    for pkg in sorted {
        let Some(raw) = pkg.members.get("triggers") else {
            continue;
        };
        let text = std::str::from_utf8(raw).map_err(|_| SystemError::Package {
            package: pkg.name.clone(),
            file: "triggers".into(),
            message: "not UTF-8".into(),
        })?;
        for line in text.lines() {
            let line = line.split('#').next().unwrap_or("").trim();
            let mut words = line.split_whitespace();
            let (Some(directive), Some(name)) = (words.next(), words.next()) else {
                continue;
            };
            let suffix = match directive {
                "interest" | "interest-await" => "",
                "interest-noawait" => "/noawait",
                // `activate*` directives fire on install; the triggered postinst is reported
                // by the script scan, nothing is registered.
                _ => continue,
            };
            let who = format!("{}{suffix}", pkg.db_name());
            if name.starts_with('/') {
                file.push_str(&format!("{name} {who}\n"));
            } else if !name.contains('/') {
                named
                    .entry(name.to_owned())
                    .or_default()
                    .push_str(&format!("{who}\n"));
            }
        }
    }
    if !file.is_empty() {
        out.file(&format!("{ADMINDIR}/triggers/File"), 0o644, file.into_bytes());
    }
    for (name, who) in named {
        out.file(&format!("{ADMINDIR}/triggers/{name}"), 0o644, who.into_bytes());
    }
    Ok(())
}

/// dpkg's file-name hash table size (a prime; `lib/dpkg/fsys-hash.c`).
const FSYS_HASH_BINS: u32 = 262_139;

/// The bin of dpkg's file-name hash table a path falls in: [`fnv_hash`] of the path without its
/// leading `/`, modulo the bins. dpkg-divert and dpkg-statoverride write their databases by
/// walking that table, so this is the order of their lines (then the order the entries were read
/// or added, within a bin).
pub fn fsys_hash_bin(path: &str) -> u32 {
    fnv_hash(path.trim_start_matches('/')) % FSYS_HASH_BINS
}

/// dpkg's `str_fnv_hash`: 32-bit FNV-1a, bytes sign-extended as `char` is on x86. dpkg's hash
/// tables (file names, package names) are walked in its order.
pub fn fnv_hash(text: &str) -> u32 {
    let mut h: u32 = 2_166_136_261;
    for b in text.bytes() {
        h ^= i32::from(b as i8) as u32;
        h = h.wrapping_mul(16_777_619);
    }
    h
}

#[cfg(test)]
mod tests {
    use super::super::testutil::{MemTree, have};
    use super::*;

    pub(crate) fn pkg(name: &str, arch: &str, fields: &[(&str, &str)]) -> InstalledPackage {
        InstalledPackage {
            name: name.into(),
            version: "1.0-1".into(),
            architecture: arch.into(),
            control_fields: fields
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            ..Default::default()
        }
    }

    fn sample() -> (MemTree, Vec<InstalledPackage>) {
        let mut tree = MemTree::new();
        // Merged /usr: the package ships bin/hello, the image has it at usr/bin/hello.
        tree.symlink("bin", "usr/bin")
            .file("usr/bin/hello", b"#!/bin/sh\necho hello\n")
            .file("etc/hello.conf", b"greeting=hi\n")
            .file("usr/lib/x86_64-linux-gnu/libhello.so.1", b"lib")
            .dir("usr/share/doc/hello");
        let mut hello = pkg(
            "hello",
            "amd64",
            &[
                ("Package", "hello"),
                ("Version", "1.0-1"),
                ("Architecture", "amd64"),
                ("Maintainer", "Someone <someone@example.org>"),
                ("Installed-Size", "12"),
                ("Depends", "libhello1 (>= 1.0)"),
                ("Section", "misc"),
                ("Priority", "optional"),
                ("Homepage", "https://example.org/hello"),
                ("Description", "says hello\n A longer description\n .\n of hello."),
            ],
        );
        hello.files = [
            "bin",
            "bin/hello",
            "etc",
            "etc/hello.conf",
            "usr",
            "usr/share",
            "usr/share/doc",
            "usr/share/doc/hello",
        ]
        .map(String::from)
        .to_vec();
        hello.members.insert(
            "md5sums".into(),
            format!(
                "{}  bin/hello\n",
                hex::encode(Md5::digest(b"#!/bin/sh\necho hello\n"))
            )
            .into_bytes(),
        );
        hello
            .members
            .insert("conffiles".into(), b"/etc/hello.conf\n".to_vec());
        hello
            .members
            .insert("postinst".into(), b"#!/bin/sh\nset -e\n".to_vec());
        hello.members.insert(
            "triggers".into(),
            b"interest-noawait /usr/share/hello\nactivate-noawait ldconfig\n".to_vec(),
        );
        let mut lib = pkg(
            "libhello1",
            "amd64",
            &[
                ("Package", "libhello1"),
                ("Multi-Arch", "same"),
                ("Maintainer", "Someone <someone@example.org>"),
                ("Architecture", "amd64"),
                ("Description", "hello library"),
            ],
        );
        lib.files = [
            "usr",
            "usr/lib",
            "usr/lib/x86_64-linux-gnu",
            "usr/lib/x86_64-linux-gnu/libhello.so.1",
        ]
        .map(String::from)
        .to_vec();
        lib.members.insert(
            "md5sums".into(),
            format!(
                "{}  usr/lib/x86_64-linux-gnu/libhello.so.1\n",
                hex::encode(Md5::digest(b"lib"))
            )
            .into_bytes(),
        );
        (tree, vec![lib, hello])
    }

    #[test]
    fn status_has_dpkg_field_order() {
        let (tree, pkgs) = sample();
        let out = compute(&tree, &pkgs, "amd64").unwrap();
        let mut t = MemTree::new();
        t.apply(&out);
        let status = t.text("var/lib/dpkg/status");
        let hello = status.split("\n\n").next().unwrap();
        let names: Vec<&str> = hello
            .lines()
            .filter(|l| !l.starts_with(' '))
            .map(|l| l.split(':').next().unwrap())
            .collect();
        assert_eq!(
            names,
            [
                "Package",
                "Status",
                "Priority",
                "Section",
                "Installed-Size",
                "Maintainer",
                "Architecture",
                "Version",
                "Depends",
                "Conffiles",
                "Description",
                "Homepage"
            ]
        );
        assert!(hello.contains(&format!(
            "Conffiles:\n /etc/hello.conf {}\n",
            hex::encode(Md5::digest(b"greeting=hi\n"))
        )));
        assert!(t.entries.contains_key("var/lib/dpkg/info/libhello1:amd64.list"));
        assert_eq!(t.text("var/lib/dpkg/info/hello.list").lines().next(), Some("/."));
        assert_eq!(t.entries["var/lib/dpkg/info/hello.postinst"].0.mode, 0o755);
        assert_eq!(
            t.text("var/lib/dpkg/triggers/File"),
            "/usr/share/hello hello/noawait\n"
        );
        assert!(!t.entries.contains_key("var/lib/dpkg/arch"));
    }

    #[test]
    fn conffiles_that_climb_or_are_relative_are_refused() {
        for (line, why) in [
            ("/etc/../../../root/.bashrc", "`..` component"),
            ("/etc/hello/..", "`..` component"),
            ("etc/hello.conf", "is not an absolute path"),
            ("remove-on-upgrade etc/x", "is not an absolute path"),
            ("remove-on-upgrade /etc/../x", "`..` component"),
            ("frobnicate /etc/x", "unknown flag"),
            ("/etc/x\x1b[31m", "control character"),
        ] {
            let (tree, mut pkgs) = sample();
            let hello = pkgs.iter_mut().find(|p| p.name == "hello").unwrap();
            hello.members.insert(
                "conffiles".into(),
                format!("/etc/hello.conf\n{line}\n").into_bytes(),
            );
            let err = compute(&tree, &pkgs, "amd64").unwrap_err().to_string();
            assert!(
                err.contains("package hello") && err.contains("conffiles") && err.contains(why),
                "{line}: {err}"
            );
            assert!(!err.contains('\x1b'), "{err:?}");
        }
        // A flagged, absolute conffile is fine, recorded after the hash as dpkg 1.21 writes it
        // (checked against the status mmdebstrap leaves for pkgconf's `remove-on-upgrade`).
        let (tree, mut pkgs) = sample();
        let hello = pkgs.iter_mut().find(|p| p.name == "hello").unwrap();
        hello.members.insert(
            "conffiles".into(),
            b"/etc/hello.conf\nremove-on-upgrade /etc/old.conf\n".to_vec(),
        );
        let out = compute(&tree, &pkgs, "amd64").unwrap();
        let mut t = MemTree::new();
        t.apply(&out);
        let status = t.text("var/lib/dpkg/status");
        assert!(
            status.contains("/etc/hello.conf ")
                && status.contains("\n /etc/old.conf newconffile remove-on-upgrade\n"),
            "{status}"
        );
    }

    /// Real dpkg judges the database: `dpkg-query -W` lists the packages, `dpkg --verify` finds
    /// nothing wrong in a tree with merged /usr whose lists keep the packaged paths.
    #[test]
    fn real_dpkg_accepts_database() {
        if !have("dpkg-query") || !have("dpkg") {
            eprintln!("note: dpkg not installed, skipping");
            return;
        }
        let (mut tree, pkgs) = sample();
        let out = compute(&tree, &pkgs, "amd64").unwrap();
        tree.apply(&out);
        let dir = tempfile::tempdir().unwrap();
        tree.materialise(dir.path());
        let admin = dir.path().join("var/lib/dpkg");
        let q = std::process::Command::new("dpkg-query")
            .arg(format!("--admindir={}", admin.display()))
            .args([
                "-W",
                "-f",
                "${Package}:${Architecture} ${Version} ${db:Status-Abbrev}\n",
            ])
            .output()
            .unwrap();
        assert!(q.status.success(), "{}", String::from_utf8_lossy(&q.stderr));
        assert_eq!(
            String::from_utf8_lossy(&q.stdout),
            "hello:amd64 1.0-1 ii \nlibhello1:amd64 1.0-1 ii \n"
        );
        let s = std::process::Command::new("dpkg-query")
            .arg(format!("--admindir={}", admin.display()))
            .args(["-S", "/bin/hello"])
            .output()
            .unwrap();
        assert_eq!(String::from_utf8_lossy(&s.stdout), "hello: /bin/hello\n");
        // dpkg run on the materialised tree with the generated database.
        let dpkg = |action: &str| {
            std::process::Command::new("dpkg")
                .arg(format!("--root={}", dir.path().display()))
                .arg(format!("--admindir={}", admin.display()))
                .arg(action)
                .output()
                .unwrap()
        };
        let v = dpkg("--verify");
        assert!(
            v.status.success() && v.stdout.is_empty() && v.stderr.is_empty(),
            "dpkg --verify: {}{}",
            String::from_utf8_lossy(&v.stdout),
            String::from_utf8_lossy(&v.stderr)
        );
        let a = dpkg("--audit");
        assert!(
            a.status.success() && a.stdout.is_empty() && a.stderr.is_empty(),
            "dpkg --audit: {}{}",
            String::from_utf8_lossy(&a.stdout),
            String::from_utf8_lossy(&a.stderr)
        );
        // And it would notice a changed file, so the silence above means something.
        std::fs::write(dir.path().join("usr/bin/hello"), b"changed").unwrap();
        let v = dpkg("--verify");
        assert!(String::from_utf8_lossy(&v.stdout).contains("/bin/hello"));
    }
}
