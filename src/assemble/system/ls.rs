//! What `ls` prints when a maintainer script lists a directory to loop over its files
//! (auditd's `augenrules`: `for rules in $(/bin/ls -1v /etc/audit/rules.d | grep "\.rules$")`).
//!
//! Only the plain listing of one directory is reproduced: `ls [-1] [-v] [-a|-A] DIR`, one name a
//! line (as `ls` prints into a pipe), hidden names left out unless `-a`/`-A`, sorted as GNU ls
//! sorts them in the C locale maintainer scripts run with: by bytes, or with `-v` by GNU's
//! `filevercmp` (coreutils 9.1's gnulib), ties broken by bytes; and files named as operands
//! (apache2's `ls /etc/apache2/mods-enabled/mpm_*.load`), printed as given in the same order.
//! Anything else (long listings, a missing operand, directories among several operands, other
//! sorts) is left unknown to the walk.

use std::cmp::Ordering;

use super::TreeView;

/// `ls ARGS`' output, where this form is reproduced and the directory exists.
pub fn ls_output(tree: &dyn TreeView, args: &[String]) -> Option<String> {
    let (mut version, mut all, mut almost_all) = (false, false, false);
    let mut dirs = Vec::new();
    for a in args {
        if let Some(flags) = a
            .strip_prefix('-')
            .filter(|f| !f.is_empty() && !f.starts_with('-'))
        {
            for f in flags.chars() {
                match f {
                    '1' => {}
                    'v' => version = true,
                    'a' => all = true,
                    'A' => almost_all = true,
                    _ => return None,
                }
            }
        } else if a.starts_with('-') {
            return None;
        } else {
            dirs.push(a);
        }
    }
    if dirs.iter().any(|d| !d.starts_with('/')) {
        return None;
    }
    let sort = |names: &mut Vec<String>| {
        if version {
            names.sort_by(|a, b| filevercmp(a.as_bytes(), b.as_bytes()).then_with(|| a.cmp(b)));
        } else {
            names.sort_unstable_by(|a, b| a.as_bytes().cmp(b.as_bytes()));
        }
    };
    // Files (not directories, nor links to one) named as operands: their names as given.
    let is_file_operand = |d: &String| {
        let path = super::tree_path(d);
        tree.entry(&path).is_some() && !super::resolve(tree, &path).is_some_and(|r| super::is_dir(tree, &r))
    };
    if !dirs.is_empty() && dirs.iter().all(|d| is_file_operand(d)) {
        let mut names: Vec<String> = dirs.iter().map(|d| (*d).clone()).collect();
        sort(&mut names);
        return Some(names.iter().map(|n| format!("{n}\n")).collect());
    }
    let [dir] = dirs.as_slice() else { return None };
    // A path that is not there: ls says so on standard error and prints nothing (ntpsec's
    // `[ -n "$(ls -A /var/log/ntpstats 2> /dev/null)" ]` on a fresh install).
    if super::resolve(tree, &super::tree_path(dir)).is_none_or(|r| tree.entry(&r).is_none()) {
        return Some(String::new());
    }
    let (_, names) = super::children(tree, &super::tree_path(dir))?;
    let mut names: Vec<String> = names
        .into_iter()
        .filter(|n| all || almost_all || !n.starts_with('.'))
        .collect();
    if all {
        names.extend([".".to_owned(), "..".to_owned()]);
    }
    sort(&mut names);
    Some(names.iter().map(|n| format!("{n}\n")).collect())
}

/// gnulib's `filevercmp`: names compared as versions, a file suffix (`.tar.gz`, `.rules`) only
/// when the rest is equal; `.` first, then `..`, then other hidden names.
pub fn filevercmp(a: &[u8], b: &[u8]) -> Ordering {
    match (a.is_empty(), b.is_empty()) {
        (true, true) => return Ordering::Equal,
        (true, false) => return Ordering::Less,
        (false, true) => return Ordering::Greater,
        _ => {}
    }
    let (a, b) = if a[0] == b'.' {
        if b[0] != b'.' {
            return Ordering::Less;
        }
        for special in [&b"."[..], &b".."[..]] {
            match (a == special, b == special) {
                (true, true) => return Ordering::Equal,
                (true, false) => return Ordering::Less,
                (false, true) => return Ordering::Greater,
                _ => {}
            }
        }
        // Two hidden names compare without their leading dot (`.b` before `..a`, as
        // coreutils 9.1's ls -v sorts them).
        (&a[1..], &b[1..])
    } else if b[0] == b'.' {
        return Ordering::Greater;
    } else {
        (a, b)
    };
    let (ap, bp) = (prefix_len(a), prefix_len(b));
    let first = crate::debian::version::verrevcmp_bytes(&a[..ap], &b[..bp]);
    if first != Ordering::Equal || (ap == a.len() && bp == b.len()) {
        return first;
    }
    crate::debian::version::verrevcmp_bytes(a, b)
}

/// The length of a name without its file suffix: the longest run of `.` followed by a letter or
/// `~` and then letters, digits and `~`, at the end of the name (not counting its first byte).
fn prefix_len(s: &[u8]) -> usize {
    let mut prefix = 0;
    let mut i = 0;
    while i < s.len() {
        i += 1;
        prefix = i;
        while i + 1 < s.len() && s[i] == b'.' && (s[i + 1].is_ascii_alphabetic() || s[i + 1] == b'~') {
            i += 2;
            while i < s.len() && (s[i].is_ascii_alphanumeric() || s[i] == b'~') {
                i += 1;
            }
        }
    }
    prefix
}

#[cfg(test)]
mod tests {
    use super::super::testutil::{MemTree, host_tool};
    use super::*;

    const NAMES: &[&str] = &[
        "10-base-config.rules",
        "9-early.rules",
        "99-finalize.rules",
        "audit.rules",
        "audit.rules.prev",
        "a.tar.gz",
        "a.tar",
        "a1",
        "a01",
        "a~1",
        "A",
        "b-2.0~rc1",
        "b-2.0",
        "b-10",
        "_x",
        "x.~y",
        "x1.2.3",
        "x1.10",
        ".hidden",
        "..odd",
        ".b",
        "..a",
        ".b.txt",
    ];

    fn tree() -> MemTree {
        let mut t = MemTree::new();
        for n in NAMES {
            t.file(&format!("etc/d/{n}"), b"x");
        }
        t.dir("etc/d/subdir");
        t
    }

    fn argv(s: &str) -> Vec<String> {
        s.split(' ').map(str::to_owned).collect()
    }

    /// Every form against the host's GNU ls in the C locale, on the same names.
    #[test]
    fn listings_match_the_hosts_ls() {
        let t = tree();
        let Some(ls) = host_tool("ls") else {
            eprintln!("no ls on this host: not cross-checked");
            return;
        };
        let root = tempfile::tempdir().expect("tempdir");
        t.materialise(root.path());
        for flags in ["-1", "-1v", "-v", "-A", "-av", "-1 -v"] {
            let ours = ls_output(&t, &argv(&format!("{flags} /etc/d"))).expect("reproduced");
            let out = std::process::Command::new(&ls)
                .args(flags.split(' '))
                .arg(root.path().join("etc/d"))
                .env("LC_ALL", "C")
                .output()
                .expect("ls runs");
            assert!(out.status.success());
            assert_eq!(ours, String::from_utf8_lossy(&out.stdout), "ls {flags}");
        }
    }

    #[test]
    fn other_forms_are_left_unknown() {
        let t = tree();
        for args in ["-l /etc/d", "-1 /etc/d /etc", "-t /etc/d", "--color /etc/d", "d"] {
            assert_eq!(ls_output(&t, &argv(args)), None, "{args}");
        }
        // A path that is not there: nothing on standard output, as ls prints (its complaint
        // goes to standard error).
        assert_eq!(ls_output(&t, &argv("-A /etc/none")), Some(String::new()));
        // Files as operands: printed as given, sorted; one missing or a directory among
        // them: unknown.
        let names: Vec<String> = super::super::children(&t, "etc/d")
            .expect("a directory")
            .1
            .into_iter()
            .filter(|n| n != "subdir" && !n.starts_with('.'))
            .take(2)
            .collect();
        let [a, b] = names.as_slice() else {
            panic!("two files in /etc/d")
        };
        let mut want = [format!("/etc/d/{a}"), format!("/etc/d/{b}")];
        want.sort();
        assert_eq!(
            ls_output(&t, &argv(&format!("/etc/d/{b} /etc/d/{a}"))),
            Some(format!("{}\n{}\n", want[0], want[1]))
        );
        assert_eq!(ls_output(&t, &argv(&format!("/etc/d/{a} /etc/d/none"))), None);
        assert_eq!(ls_output(&t, &argv(&format!("/etc/d/{a} /etc/d/subdir"))), None);
        assert_eq!(
            filevercmp(b"9-early.rules", b"10-base-config.rules"),
            Ordering::Less
        );
        assert_eq!(filevercmp(b"a.tar", b"a.tar.gz"), Ordering::Less);
    }
}
