//! `systemd-tmpfiles --create CONFIG…` as a postinst runs it (dh_installtmpfiles): the
//! directories, files and links of the named `tmpfiles.d` configurations, made in the image.
//!
//! A configuration named by its file name is the first of `/etc/tmpfiles.d`,
//! `/usr/local/lib/tmpfiles.d` and `/usr/lib/tmpfiles.d` that has it (`/run/tmpfiles.d` is empty
//! in an image). Lines are `TYPE PATH MODE USER GROUP AGE ARGUMENT`. Reproduced: `d`, `D`, `v`,
//! `q`, `Q` (a directory, parents made as needed; an existing one gets the line's mode and
//! owner unless the mode is `:`-prefixed), `e`, `z` (mode and owner of an existing path), `f`,
//! `f+` (a file, with the argument as content), `L`, `L+` (a link). Nothing to do at
//! `--create`: `x`, `X`, `r`, `R` (they only protect from or act on `--clean`/`--remove`), `h`,
//! `H` (file attributes such as nocow, which an image layer cannot carry). Boot-only lines
//! (`!`) are skipped without `--boot`, and lines reading credentials (`^`) find none at build
//! time, as under dpkg. Paths under `/run` (and its `/var/run`, `/var/lock`), `/tmp`, `/dev`,
//! `/proc` and `/sys` are the container runtime's, and are left to it. ACLs (`a`, `a+`) are
//! written as the kernel keeps them ([`super::acl`]). A line that only adjusts a path named
//! after the running machine (`z /var/log/journal/%m`) has nothing to act on. The rest
//! (recursive ACLs, extended attributes, device nodes, copies, other specifiers, unknown users)
//! is reported, line by line.

use super::{Changes, Overlay, TreeView, acl};
use crate::entry::{Entry, EntryKind};

const CONFIG_DIRS: &[&str] = &["etc/tmpfiles.d", "usr/local/lib/tmpfiles.d", "usr/lib/tmpfiles.d"];

/// Where a container's runtime mounts its own filesystems: nothing of the image shows there.
const RUNTIME: &[&str] = &["/run", "/tmp", "/dev", "/proc", "/sys", "/var/run", "/var/lock"];

/// One `systemd-tmpfiles` call.
#[derive(Debug, PartialEq, Eq)]
pub struct Call {
    configs: Vec<String>,
    boot: bool,
    prefixes: Vec<String>,
    excluded: Vec<String>,
}

/// Parses the arguments; `Err` for actions other than `--create` (`--clean`, `--remove`).
pub fn parse(args: &[String]) -> Result<Call, String> {
    let mut call = Call {
        configs: Vec::new(),
        boot: false,
        prefixes: Vec::new(),
        excluded: Vec::new(),
    };
    let mut create = false;
    for a in args {
        match a.as_str() {
            "--create" => create = true,
            "--boot" => call.boot = true,
            // dpkg's empty DPKG_ROOT: the image's root.
            "--root=" | "--root=/" => {}
            s if s.starts_with("--prefix=") => call.prefixes.push(s["--prefix=".len()..].to_owned()),
            s if s.starts_with("--exclude-prefix=") => {
                call.excluded.push(s["--exclude-prefix=".len()..].to_owned())
            }
            s if s.starts_with('-') => return Err(format!("systemd-tmpfiles {s} is not reproduced")),
            s => call.configs.push(s.to_owned()),
        }
    }
    if !create {
        return Err("systemd-tmpfiles without --create".into());
    }
    if call.configs.is_empty() {
        return Err("systemd-tmpfiles --create of every configuration is not reproduced".into());
    }
    Ok(call)
}

/// Applies the call's configurations to the image; `Err` lists the lines not reproduced (the
/// others are applied, as tmpfiles goes on past a failing line).
pub fn apply(overlay: &mut Overlay<'_>, call: &Call) -> Result<(), String> {
    let mut failed = Vec::new();
    for config in &call.configs {
        let path = if config.starts_with('/') {
            Some(super::tree_path(config))
        } else if config.contains('/') {
            None
        } else {
            CONFIG_DIRS
                .iter()
                .map(|d| format!("{d}/{config}"))
                .find(|p| super::is_file(overlay, p))
        };
        let text = match path.map(|p| super::read_file(overlay, &p)) {
            Some(Ok(Some(bytes))) => String::from_utf8_lossy(&bytes).into_owned(),
            _ => {
                failed.push(format!("{config}: no such tmpfiles.d configuration"));
                continue;
            }
        };
        for line in text.lines() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            if let Err(why) = apply_line(overlay, call, line) {
                failed.push(format!("{config}: `{line}`: {why}"));
            }
        }
    }
    if failed.is_empty() {
        Ok(())
    } else {
        Err(failed.join("; "))
    }
}

fn apply_line(overlay: &mut Overlay<'_>, call: &Call, line: &str) -> Result<(), String> {
    let fields = split_fields(line)?;
    let get = |i: usize| fields.get(i).map(String::as_str).unwrap_or("-");
    let raw_type = get(0);
    let kind = raw_type.chars().next().ok_or("empty line type")?;
    let modifiers = &raw_type[kind.len_utf8()..];
    if modifiers.contains('!') && !call.boot {
        return Ok(());
    }
    // Credentials are passed by a service manager at boot; at build time there are none.
    if modifiers.contains('^') {
        return Ok(());
    }
    let path = get(1);
    if !call.prefixes.is_empty() && !call.prefixes.iter().any(|p| under(path, p)) {
        return Ok(());
    }
    if call.excluded.iter().any(|p| under(path, p)) {
        return Ok(());
    }
    if matches!(kind, 'x' | 'X' | 'r' | 'R' | 'h' | 'H') {
        return Ok(());
    }
    if !path.starts_with('/') {
        return Err("the path is not absolute".into());
    }
    // The runtime's, whatever a specifier further down names (`/run/log/journal/%m`).
    if RUNTIME.iter().any(|r| under(path, r)) {
        return Ok(());
    }
    if path.contains('%') && path.replace("%%", "").contains('%') {
        // A path named after the machine's or the boot's identity (`/var/log/journal/%m`)
        // exists only on a running machine: a line that only adjusts an existing path has
        // nothing to act on in an image, as in dpkg's run, where journald never ran.
        if matches!(kind, 'z' | 'Z' | 'a' | 'A' | 't' | 'T') && names_a_running_machine(path) {
            return Ok(());
        }
        return Err("specifiers such as %m (known only on the running system) are not reproduced".into());
    }
    let path = path.replace("%%", "%");
    if path.split('/').any(|c| c == "..") {
        return Err("a path with `..`".into());
    }
    let (mode_text, only_on_create) = match get(2) {
        m if m.starts_with(':') => (&m[1..], true),
        m => (m, false),
    };
    let mode = match mode_text.trim_start_matches('~') {
        "-" => None,
        m => Some(u32::from_str_radix(m, 8).map_err(|_| format!("mode `{m}` is not octal"))?),
    };
    // `:USER`, `:GROUP`: given only to what the line creates.
    let user = owner(overlay, "etc/passwd", get(3).trim_start_matches(':'))?;
    let group = owner(overlay, "etc/group", get(4).trim_start_matches(':'))?;
    let kept =
        |field: &str, who: &Option<(u32, String)>| if field.starts_with(':') { None } else { who.clone() };
    let (user_existing, group_existing) = (kept(get(3), &user), kept(get(4), &group));
    let arg = fields.get(6).map(String::as_str);
    let rel = super::tree_path(&path);
    let existing = overlay.entry(&rel).cloned();
    match kind {
        'd' | 'D' | 'v' | 'q' | 'Q' | 'e' => {
            match &existing {
                Some(e) if e.is_dir() => {
                    let mode = if only_on_create { None } else { mode };
                    adjust(overlay, e, mode, &user_existing, &group_existing);
                }
                Some(_) => return Err("exists and is not a directory".into()),
                None if kind == 'e' => {}
                None => {
                    make_parents(overlay, &rel)?;
                    let mut c = Changes::default();
                    c.dir(&rel, mode.unwrap_or(0o755));
                    overlay.apply(c);
                    if let Some(e) = overlay.entry(&rel).cloned() {
                        adjust(overlay, &e, None, &user, &group);
                    }
                }
            }
            Ok(())
        }
        'z' if is_glob(&path) => Err("a glob pattern's paths are not expanded".into()),
        'z' => {
            if let Some(e) = &existing {
                let mode = if only_on_create { None } else { mode };
                adjust(overlay, e, mode, &user_existing, &group_existing);
            }
            Ok(())
        }
        'f' => {
            if modifiers.contains('~') {
                return Err("base64 arguments are not reproduced".into());
            }
            let content = arg.map(unescape).unwrap_or_default();
            match &existing {
                Some(e) if e.is_dir() => Err("exists and is a directory".into()),
                Some(e) if modifiers.contains('+') => {
                    let mut e = e.clone();
                    e.kind = EntryKind::File {
                        size: content.len() as u64,
                    };
                    overlay.apply(Changes {
                        files: vec![(e.clone(), content.into_bytes())],
                        removed: vec![],
                    });
                    let mode = if only_on_create { None } else { mode };
                    adjust(overlay, &e, mode, &user_existing, &group_existing);
                    Ok(())
                }
                Some(e) => {
                    let mode = if only_on_create { None } else { mode };
                    adjust(overlay, e, mode, &user_existing, &group_existing);
                    Ok(())
                }
                None => {
                    make_parents(overlay, &rel)?;
                    let mut c = Changes::default();
                    c.file(&rel, mode.unwrap_or(0o644), content.into_bytes());
                    overlay.apply(c);
                    if let Some(e) = overlay.entry(&rel).cloned() {
                        adjust(overlay, &e, None, &user, &group);
                    }
                    Ok(())
                }
            }
        }
        'L' => {
            let target = match arg {
                Some(t) if t != "-" => t.to_owned(),
                _ => format!("/usr/share/factory{path}"),
            };
            match &existing {
                Some(e) if e.is_dir() => Err("exists and is a directory".into()),
                Some(_) if !modifiers.contains('+') => Ok(()),
                _ => {
                    make_parents(overlay, &rel)?;
                    let mut c = Changes::default();
                    c.symlink(&rel, &target);
                    overlay.apply(c);
                    Ok(())
                }
            }
        }
        'a' => {
            let accounts = |user: bool, name: &str| {
                let file = if user { "etc/passwd" } else { "etc/group" };
                super::account(overlay, file, name).map(|(id, _)| id)
            };
            let spec = match arg {
                Some(text) if text != "-" => acl::parse(text, &accounts)?,
                _ => return Err("an ACL line without its ACL".into()),
            };
            match existing {
                // tmpfiles expands the path as a glob pattern: not done here.
                _ if is_glob(&path) => Err("a glob pattern's paths are not expanded".into()),
                // Nothing to set on a path the image lacks (tmpfiles passes over it); tmpfiles
                // skips links.
                None => Ok(()),
                Some(e) if matches!(e.kind, EntryKind::Symlink { .. }) => Ok(()),
                Some(e) => set_acls(overlay, &e, &spec, modifiers.contains('+')),
            }
        }
        'A' => Err("recursive ACLs are not written into the image".into()),
        't' | 'T' => Err("extended attributes are not written into the image".into()),
        'c' | 'b' | 'p' => Err("device nodes and FIFOs are not made in the image".into()),
        'C' => Err("copies are not reproduced".into()),
        'w' => Err("writing to a file is not reproduced".into()),
        other => Err(format!("line type `{other}` is not reproduced")),
    }
}

/// Whether tmpfiles takes a line's path as a glob pattern (for the lines that adjust paths).
fn is_glob(path: &str) -> bool {
    path.contains(['*', '?', '['])
}

/// Whether a path names the machine's id, the boot's, or the host's name (`%m`, `%b`, `%H`, `%l`).
fn names_a_running_machine(path: &str) -> bool {
    let unescaped = path.replace("%%", "");
    ["%m", "%b", "%H", "%l"].iter().any(|s| unescaped.contains(s))
}

/// An `a` line's ACLs on an existing entry, as tmpfiles sets them: the access ACL merged into
/// the path's (`a+`) or replacing it, its base entries from the mode, the mask where needed;
/// then the default ACL (directories only) the same way, from the mode the access ACL left.
/// An access ACL that says no more than a mode is a mode, as the kernel keeps it.
fn set_acls(overlay: &mut Overlay<'_>, e: &Entry, spec: &acl::Spec, modify: bool) -> Result<(), String> {
    let mut changed = e.clone();
    let fill = |old: Vec<acl::AclEntry>, new: &[acl::AclEntry], mode: u32| {
        let mut list = if modify {
            acl::merge(&old, new)
        } else {
            new.to_vec()
        };
        acl::add_mask_if_needed(&mut list);
        acl::add_base_if_needed(&mut list, mode);
        acl::check(&list).map(|()| list)
    };
    if !spec.access.is_empty() {
        let old = match changed.xattrs.get(acl::ACCESS) {
            Some(bytes) => acl::decode(bytes).ok_or("its access ACL is not one debcast reads")?,
            None => acl::from_mode(changed.mode),
        };
        let list = fill(old, &spec.access, changed.mode)?;
        changed.mode = acl::mode_of(&list, changed.mode);
        if acl::is_minimal(&list) {
            changed.xattrs.remove(acl::ACCESS);
        } else {
            changed.xattrs.insert(acl::ACCESS.to_owned(), acl::encode(&list));
        }
    }
    // tmpfiles sets default ACLs on directories only, and skips them elsewhere without a word.
    if !spec.default.is_empty() && changed.is_dir() {
        let old = match changed.xattrs.get(acl::DEFAULT) {
            Some(bytes) => acl::decode(bytes).ok_or("its default ACL is not one debcast reads")?,
            None => Vec::new(),
        };
        let list = fill(old, &spec.default, changed.mode)?;
        changed.xattrs.insert(acl::DEFAULT.to_owned(), acl::encode(&list));
    }
    replace_metadata(overlay, changed);
    Ok(())
}

/// `path` is `prefix` or below it.
fn under(path: &str, prefix: &str) -> bool {
    let prefix = prefix.trim_end_matches('/');
    path == prefix || path.starts_with(&format!("{prefix}/"))
}

/// The fields of a line: whitespace-separated, the last (the argument) the rest of the line;
/// double quotes group a field.
fn split_fields(line: &str) -> Result<Vec<String>, String> {
    let mut fields = Vec::new();
    let mut rest = line.trim_start();
    while !rest.is_empty() && fields.len() < 6 {
        let (field, after) = if let Some(q) = rest.strip_prefix('"') {
            let end = q.find('"').ok_or("unterminated quote")?;
            (q[..end].to_owned(), &q[end + 1..])
        } else {
            let end = rest.find(char::is_whitespace).unwrap_or(rest.len());
            (rest[..end].to_owned(), &rest[end..])
        };
        fields.push(field);
        rest = after.trim_start();
    }
    if !rest.is_empty() {
        let arg = rest
            .strip_prefix('"')
            .and_then(|r| r.strip_suffix('"'))
            .unwrap_or(rest);
        fields.push(arg.to_owned());
    }
    Ok(fields)
}

/// C-style escapes of an argument (`\n`, `\t`, `\\`, `\xNN`), as tmpfiles reads them.
fn unescape(s: &str) -> String {
    let mut out = String::new();
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some('t') => out.push('\t'),
            Some('x') => {
                let hex: String = chars.by_ref().take(2).collect();
                match u8::from_str_radix(&hex, 16) {
                    Ok(b) if b.is_ascii() => out.push(b as char),
                    _ => {
                        out.push_str("\\x");
                        out.push_str(&hex);
                    }
                }
            }
            Some(other) => out.push(other),
            None => out.push('\\'),
        }
    }
    out
}

/// A user or group of the line (`-`: root), from the image's account tables.
fn owner(tree: &dyn TreeView, file: &str, name: &str) -> Result<Option<(u32, String)>, String> {
    if name == "-" {
        return Ok(None);
    }
    super::account(tree, file, name).map(Some)
}

/// Gives an existing entry the line's mode and owner (those given).
fn adjust(
    overlay: &mut Overlay<'_>,
    e: &Entry,
    mode: Option<u32>,
    user: &Option<(u32, String)>,
    group: &Option<(u32, String)>,
) {
    if mode.is_none() && user.is_none() && group.is_none() {
        return;
    }
    let mut changed = e.clone();
    if let Some(m) = mode {
        acl::set_mode(&mut changed, m);
    }
    super::set_owner(&mut changed, user, group);
    replace_metadata(overlay, changed);
}

/// Puts an entry back with new metadata (mode, owner, attributes), its content as it was.
fn replace_metadata(overlay: &mut Overlay<'_>, changed: Entry) {
    let content = match overlay.read(&changed.path) {
        Some(Ok(bytes)) => bytes,
        _ => Vec::new(),
    };
    overlay.apply(Changes {
        files: vec![(changed, content)],
        removed: vec![],
    });
}

/// The missing parents of `rel`, made 0755 and root's (as tmpfiles makes them).
fn make_parents(overlay: &mut Overlay<'_>, rel: &str) -> Result<(), String> {
    let mut here = String::new();
    let comps: Vec<&str> = rel.split('/').collect();
    for comp in &comps[..comps.len().saturating_sub(1)] {
        here = super::child_path(&here, comp);
        match overlay.entry(&here).map(|e| e.kind.clone()) {
            None => {
                let mut c = Changes::default();
                c.dir(&here, 0o755);
                overlay.apply(c);
            }
            Some(EntryKind::Directory) => {}
            Some(EntryKind::Symlink { .. }) => return Err(format!("/{here} is a link; not followed")),
            Some(_) => return Err(format!("/{here} is not a directory")),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::testutil::MemTree;
    use super::*;

    fn words(s: &str) -> Vec<String> {
        s.split_whitespace().map(str::to_owned).collect()
    }

    #[test]
    fn lines_of_the_named_configurations_are_made() {
        let mut t = MemTree::new();
        t.dir("root")
            .dir("var/lib")
            .dir("usr/lib/tmpfiles.d")
            .dir("etc/tmpfiles.d");
        t.file(
            "etc/passwd",
            b"root:x:0:0::/root:/bin/sh\nmessagebus:x:100:101::/x:/x\n",
        );
        t.file("etc/group", b"root:x:0:\nutmp:x:43:\n");
        t.file(
            "usr/lib/tmpfiles.d/a.conf",
            b"# comment\nd /var/lib/private 0700 root root -\nd- /root/.ssh :0700 root :root -\n\
              f^ /root/.ssh/authorized_keys :0600 root :root - ssh.authorized_keys.root\n\
              d /run/user 0755 root root -\nf+! /run/nologin 0644 - - - \"no\"\nh /var/log/journal - - - - +C\n\
              f /var/log/wtmp 0664 root utmp -\nL /var/log/README - - - - ../../usr/share/doc/README\n\
              d /var/lib/dbus 0755 messagebus - -\nf /etc/greeting 0644 - - - hello\\tworld\\n\n\
              z /root 0750 - - -\n",
        );
        // /etc wins over /usr/lib for the same name.
        t.file("usr/lib/tmpfiles.d/b.conf", b"d /var/lib/from-usr 0755 - - -\n");
        t.file("etc/tmpfiles.d/b.conf", b"d /var/lib/from-etc 0755 - - -\n");
        let mut o = Overlay::new(&t);
        let call = parse(&words("--create a.conf b.conf")).unwrap();
        apply(&mut o, &call).unwrap();
        let meta = |p: &str| o.entry(p).map(|e| (e.kind.clone(), e.mode, e.uid, e.gid));
        assert_eq!(meta("var/lib/private"), Some((EntryKind::Directory, 0o700, 0, 0)));
        assert_eq!(meta("root/.ssh"), Some((EntryKind::Directory, 0o700, 0, 0)));
        assert_eq!(
            meta("root/.ssh/authorized_keys"),
            None,
            "no credentials at build time"
        );
        assert_eq!(meta("run/user"), None, "the runtime's");
        assert_eq!(
            meta("var/log/wtmp"),
            Some((EntryKind::File { size: 0 }, 0o664, 0, 43))
        );
        assert!(matches!(
            meta("var/log/README"),
            Some((EntryKind::Symlink { .. }, ..))
        ));
        assert_eq!(meta("var/lib/dbus"), Some((EntryKind::Directory, 0o755, 100, 0)));
        assert_eq!(
            o.read("etc/greeting").and_then(Result::ok),
            Some(b"hello\tworld\n".to_vec())
        );
        assert_eq!(meta("root").map(|m| m.1), Some(0o750));
        assert!(meta("var/lib/from-etc").is_some() && meta("var/lib/from-usr").is_none());
        // What is not reproduced is said, line by line; the rest still applies.
        t.file("usr/lib/tmpfiles.d/c.conf", b"A+ /var/log/journal - - - - group:adm:r-x\nd /var/lib/x 0755 nobody - -\nd /var/lib/y 0755 - - -\n");
        let mut o = Overlay::new(&t);
        let err = apply(&mut o, &parse(&words("--create c.conf missing.conf")).unwrap()).unwrap_err();
        assert!(
            err.contains("recursive ACLs")
                && err.contains("`nobody` is not in /etc/passwd")
                && err.contains("missing.conf"),
            "{err}"
        );
        assert!(o.entry("var/lib/y").is_some());
        assert!(parse(&words("--remove a.conf")).is_err());
    }

    /// systemd's own journal lines, as its postinst runs them: the ACLs of /var/log/journal as
    /// a dpkg install leaves them (the bytes `acl`'s test checks), the lines under /run and
    /// those naming the machine's id left alone without a word; a default ACL on a file and an
    /// unknown group are said.
    #[test]
    fn the_journals_acl_lines_are_applied() {
        let mut t = MemTree::new();
        t.dir("var/log").dir("usr/lib/tmpfiles.d");
        t.file("etc/passwd", b"root:x:0:0::/root:/bin/sh\n");
        t.file("etc/group", b"root:x:0:\nadm:x:4:\nsystemd-journal:x:999:\n");
        t.file("var/log/syslog", b"");
        t.file(
            "usr/lib/tmpfiles.d/systemd.conf",
            b"z /run/log/journal 2755 root systemd-journal - -\nZ /run/log/journal/%m ~2750 root systemd-journal - -\n\
              a+ /run/log/journal/%m - - - - d:group:adm:r-x,group:adm:r-x\n\
              d /var/log/journal 2755 root systemd-journal - -\n\
              z /var/log/journal/%m 2755 root systemd-journal - -\n\
              z /var/log/journal/%m/system.journal 0640 root systemd-journal - -\n\
              a+ /var/log/journal    - - - - d:group::r-x,d:group:adm:r-x,group::r-x,group:adm:r-x\n\
              a+ /var/log/journal/%m - - - - d:group:adm:r-x,group:adm:r-x\n\
              a+ /var/log/journal/%m/system.journal - - - - group:adm:r--\n\
              a /var/log/missing - - - - group:adm:r--\n",
        );
        let mut o = Overlay::new(&t);
        apply(&mut o, &parse(&words("--create systemd.conf")).unwrap()).unwrap();
        let journal = o.entry("var/log/journal").cloned().unwrap();
        assert_eq!((journal.mode, journal.gid), (0o2755, 999));
        let expected = acl::encode(&[
            acl::AclEntry {
                tag: acl::Tag::UserObj,
                id: None,
                perms: 7,
            },
            acl::AclEntry {
                tag: acl::Tag::GroupObj,
                id: None,
                perms: 5,
            },
            acl::AclEntry {
                tag: acl::Tag::Group,
                id: Some(4),
                perms: 5,
            },
            acl::AclEntry {
                tag: acl::Tag::Mask,
                id: None,
                perms: 5,
            },
            acl::AclEntry {
                tag: acl::Tag::Other,
                id: None,
                perms: 5,
            },
        ]);
        assert_eq!(journal.xattrs.get(acl::ACCESS), Some(&expected));
        assert_eq!(journal.xattrs.get(acl::DEFAULT), Some(&expected));
        assert!(o.entry("run").is_none() && o.entry("var/log/missing").is_none());
        // A group's write through the mask shows in the mode's group bits; a file gets no
        // default ACL (its access part is still set); an unknown group, a glob pattern and an
        // ACL line without its ACL are errors of their lines.
        t.file(
            "usr/lib/tmpfiles.d/other.conf",
            b"a /var/log/syslog - - - - group:adm:rw-\na+ /var/log/syslog - - - - d:group:adm:r--,other::r--\n\
              a+ /var/log/journal - - - - group:nobody:r--\nz /var/log/*.log 0640 - - -\na /var/log/syslog\n",
        );
        let mut o = Overlay::new(&t);
        let err = apply(&mut o, &parse(&words("--create other.conf")).unwrap()).unwrap_err();
        assert!(
            err.contains("`nobody` is not in /etc/group")
                && err.contains("`z /var/log/*.log")
                && err.contains("`a /var/log/syslog`: an ACL line without its ACL"),
            "{err}"
        );
        let syslog = o.entry("var/log/syslog").cloned().unwrap();
        assert_eq!(syslog.mode, 0o664, "{syslog:?}");
        assert!(syslog.xattrs.contains_key(acl::ACCESS) && !syslog.xattrs.contains_key(acl::DEFAULT));
    }
}
