//! `setcap CAPS FILE…` (libcap's tool, as iputils-ping's and mtr-tiny's postinsts give their
//! binaries `cap_net_raw`), and `setcap -r FILE…`: the file capability as the extended attribute
//! `security.capability` that the layer carries (applied by `files`, like the other file commands).
//!
//! The attribute is the kernel's `vfs_cap_data`, revision 2 (what setcap writes as root on the
//! initial user namespace): a little-endian magic word with the effective flag, then the
//! permitted and inheritable sets, low 32 bits then high. The text form is libcap's
//! (`cap_from_text`): clauses of capability names (or `all`, or numbers), each with one or more
//! operators `=`, `+`, `-` and flags `e`, `i`, `p`.

/// The attribute's name.
pub const XATTR: &str = "security.capability";

/// The kernel's capability names, by number (`linux/capability.h`).
const NAMES: [&str; 41] = [
    "cap_chown",
    "cap_dac_override",
    "cap_dac_read_search",
    "cap_fowner",
    "cap_fsetid",
    "cap_kill",
    "cap_setgid",
    "cap_setuid",
    "cap_setpcap",
    "cap_linux_immutable",
    "cap_net_bind_service",
    "cap_net_broadcast",
    "cap_net_admin",
    "cap_net_raw",
    "cap_ipc_lock",
    "cap_ipc_owner",
    "cap_sys_module",
    "cap_sys_rawio",
    "cap_sys_chroot",
    "cap_sys_ptrace",
    "cap_sys_pacct",
    "cap_sys_admin",
    "cap_sys_boot",
    "cap_sys_nice",
    "cap_sys_resource",
    "cap_sys_time",
    "cap_sys_tty_config",
    "cap_mknod",
    "cap_lease",
    "cap_audit_write",
    "cap_audit_control",
    "cap_setfcap",
    "cap_mac_override",
    "cap_mac_admin",
    "cap_syslog",
    "cap_wake_alarm",
    "cap_block_suspend",
    "cap_audit_read",
    "cap_perfmon",
    "cap_bpf",
    "cap_checkpoint_restore",
];

const VFS_CAP_REVISION_2: u32 = 0x0200_0000;
const VFS_CAP_FLAGS_EFFECTIVE: u32 = 0x0000_0001;

/// What one call does: per file, the attribute's new value (`None`: removed, `-r`).
#[derive(Debug, PartialEq, Eq)]
pub struct Call {
    pub files: Vec<(String, Option<Vec<u8>>)>,
}

/// Parses `setcap [-q] [-r] CAPS FILE [CAPS FILE…]`; `-v` (a check, not a change) and `-n`
/// (a namespaced root id) are refused.
pub fn parse(args: &[String]) -> Result<Call, String> {
    let mut remove = false;
    let mut operands = Vec::new();
    for a in args {
        match a.as_str() {
            "-q" => {}
            "-r" => remove = true,
            s if s.starts_with('-') && s.len() > 1 && operands.is_empty() => {
                return Err(format!("setcap {s} is not reproduced"));
            }
            s => operands.push(s.to_owned()),
        }
    }
    let files = if remove {
        operands.into_iter().map(|f| (f, None)).collect::<Vec<_>>()
    } else {
        if operands.len() % 2 != 0 {
            return Err("setcap takes capabilities and a file, in pairs".into());
        }
        operands
            .chunks(2)
            .map(|pair| Ok((pair[1].clone(), Some(vfs_cap_data(&pair[0])?))))
            .collect::<Result<Vec<_>, String>>()?
    };
    if files.is_empty() {
        return Err("setcap without a file".into());
    }
    if let Some((f, _)) = files.iter().find(|(f, _)| !f.starts_with('/')) {
        return Err(format!("`{f}` is not an absolute path"));
    }
    Ok(Call { files })
}

/// libcap's text form as the attribute's bytes.
pub fn vfs_cap_data(text: &str) -> Result<Vec<u8>, String> {
    let (mut effective, mut inheritable, mut permitted) = (0u64, 0u64, 0u64);
    let all: u64 = (1 << NAMES.len()) - 1;
    for clause in text.split_whitespace() {
        let ops_at = clause
            .find(['=', '+', '-'])
            .ok_or_else(|| format!("capability clause `{clause}` has no operator"))?;
        let (names, mut ops) = clause.split_at(ops_at);
        let caps = if names.is_empty() {
            // `=ep`: every capability, only with `=`.
            if !ops.starts_with('=') {
                return Err(format!("capability clause `{clause}` names no capability"));
            }
            all
        } else {
            let mut caps = 0u64;
            for name in names.split(',') {
                caps |= capability(name).ok_or_else(|| format!("`{name}` is not a capability"))?;
            }
            caps
        };
        while let Some(op) = ops.chars().next() {
            ops = &ops[1..];
            let end = ops.find(['=', '+', '-']).unwrap_or(ops.len());
            let (flags, rest) = ops.split_at(end);
            ops = rest;
            if op == '=' {
                effective &= !caps;
                inheritable &= !caps;
                permitted &= !caps;
            } else if flags.is_empty() {
                return Err(format!("capability clause `{clause}`: `{op}` without flags"));
            }
            for f in flags.chars() {
                let set = match f {
                    'e' => &mut effective,
                    'i' => &mut inheritable,
                    'p' => &mut permitted,
                    other => return Err(format!("capability clause `{clause}`: flag `{other}`")),
                };
                if op == '-' {
                    *set &= !caps;
                } else {
                    *set |= caps;
                }
            }
        }
    }
    // A file's effective set is one flag: it must cover every permitted and inheritable bit.
    if effective != 0 && effective != (permitted | inheritable) {
        return Err(format!(
            "`{text}`: a file's effective capabilities must be all of its permitted and inheritable ones"
        ));
    }
    let magic = VFS_CAP_REVISION_2
        | if effective != 0 {
            VFS_CAP_FLAGS_EFFECTIVE
        } else {
            0
        };
    let mut out = Vec::with_capacity(20);
    out.extend_from_slice(&magic.to_le_bytes());
    for half in [0, 32] {
        out.extend_from_slice(&((permitted >> half) as u32).to_le_bytes());
        out.extend_from_slice(&((inheritable >> half) as u32).to_le_bytes());
    }
    Ok(out)
}

/// One capability's bit: its name (any case), `all`, or its number.
fn capability(name: &str) -> Option<u64> {
    let lower = name.to_ascii_lowercase();
    if lower == "all" {
        return Some((1 << NAMES.len()) - 1);
    }
    if let Ok(n) = lower.parse::<usize>() {
        return (n < NAMES.len()).then(|| 1 << n);
    }
    NAMES.iter().position(|n| *n == lower).map(|n| 1 << n)
}

#[cfg(test)]
mod tests {
    use super::super::files;
    use super::super::testutil::{MemTree, have, host_tool, with_postinst};
    use super::*;

    fn words(s: &str) -> Vec<String> {
        s.split_whitespace().map(str::to_owned).collect()
    }

    /// iputils-ping's `setcap cap_net_raw+ep /bin/ping`, as getfattr shows it on a system dpkg
    /// installed: `0x0100000200200000000000000000000000000000`.
    #[test]
    fn ping_as_setcap_leaves_it() {
        let v = vfs_cap_data("cap_net_raw+ep").unwrap();
        assert_eq!(v, [1, 0, 0, 2, 0, 0x20, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
        assert_eq!(vfs_cap_data("cap_net_raw=pe").unwrap(), v);
        assert_eq!(vfs_cap_data("CAP_NET_RAW+ep").unwrap(), v);
        assert_eq!(vfs_cap_data("13+ep").unwrap(), v);
    }

    #[test]
    fn text_forms_and_refusals() {
        // Permitted only: no effective flag; a high capability in the second word.
        let v = vfs_cap_data("cap_bpf,cap_net_admin+p").unwrap();
        assert_eq!(&v[..4], &[0, 0, 0, 2]);
        assert_eq!(u32::from_le_bytes(v[4..8].try_into().unwrap()), 1 << 12);
        assert_eq!(u32::from_le_bytes(v[12..16].try_into().unwrap()), 1 << (39 - 32));
        // `=` resets what it names; later clauses add.
        let v = vfs_cap_data("cap_net_raw+ep cap_net_raw=p cap_chown+p").unwrap();
        assert_eq!(u32::from_le_bytes(v[4..8].try_into().unwrap()), (1 << 13) | 1);
        assert_eq!(&v[..4], &[0, 0, 0, 2]);
        for bad in [
            "cap_net_raw",
            "cap_nope+ep",
            "+ep",
            "cap_net_raw+x",
            "cap_net_raw+e",
            "cap_chown+p cap_kill+ep",
        ] {
            assert!(vfs_cap_data(bad).is_err(), "{bad}");
        }
        assert!(parse(&words("-v cap_net_raw+ep /bin/ping")).is_err());
        assert!(parse(&words("cap_net_raw+ep")).is_err());
        assert!(parse(&words("cap_net_raw+ep bin/ping")).is_err());
        assert_eq!(
            parse(&words("-r /bin/ping")).unwrap().files,
            [("/bin/ping".to_owned(), None)]
        );
    }

    /// Through a link to the regular file it names (its content and mode kept); a directory
    /// is refused and reported; `-r` takes the attribute away.
    #[test]
    fn applied_through_a_link_to_a_regular_file_only() {
        let mut t = MemTree::new();
        t.tools(&["setcap"]);
        t.file("usr/bin/ping", b"\x7fELF")
            .symlink("bin", "usr/bin")
            .dir("etc");
        let script = "#!/bin/sh\nsetcap cap_net_raw+ep /bin/ping\nsetcap cap_net_raw+ep /etc\n";
        let (changes, report) = files::compute(&t, &[with_postinst("iputils-ping", script)]).unwrap();
        let what: Vec<&str> = report.iter().map(|r| r.what.as_str()).collect();
        assert_eq!(what, ["setcap cap_net_raw+ep /etc (/etc is not a regular file)"]);
        t.apply(&changes);
        let (e, content) = &t.entries["usr/bin/ping"];
        assert_eq!(e.xattrs.get(XATTR).map(Vec::len), Some(20));
        assert_eq!((content.as_slice(), e.mode), (&b"\x7fELF"[..], 0o644));
        let (changes, report) = files::compute(
            &t,
            &[with_postinst(
                "iputils-ping",
                "#!/bin/sh\nsetcap -r /usr/bin/ping\n",
            )],
        )
        .unwrap();
        assert!(report.is_empty(), "{report:?}");
        t.apply(&changes);
        assert!(t.entries["usr/bin/ping"].0.xattrs.is_empty());
    }

    /// The bytes libcap's own setcap writes, where the host has it and lets us (root).
    #[test]
    fn as_the_hosts_setcap_writes_them() {
        if !have("setcap") || !have("getfattr") {
            eprintln!("note: no setcap on this host; the comparison with it is skipped");
            return;
        }
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("tool");
        std::fs::write(&file, b"x").unwrap();
        for text in [
            "cap_net_raw+ep",
            "cap_net_bind_service,cap_net_admin=eip",
            "cap_bpf,cap_sys_nice+p",
            "cap_chown+i",
        ] {
            let status = std::process::Command::new(host_tool("setcap").unwrap())
                .args([text, file.to_str().unwrap()])
                .status()
                .unwrap();
            if !status.success() {
                eprintln!("note: setcap failed here (not root?); the comparison is skipped");
                return;
            }
            let value = xattr_of(&file);
            assert_eq!(Some(vfs_cap_data(text).unwrap()), value, "{text}");
        }
    }

    /// The attribute as the host's `getfattr` prints its value (raw bytes with `--only-values`).
    fn xattr_of(file: &std::path::Path) -> Option<Vec<u8>> {
        let out = std::process::Command::new(host_tool("getfattr")?)
            .args(["--only-values", "-n", XATTR])
            .arg(file)
            .output()
            .ok()?;
        out.status.success().then_some(out.stdout)
    }
}
