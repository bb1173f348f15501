use super::super::commands::parse_ln;
use super::super::testutil::MemTree;
use super::*;

fn argv(s: &str) -> Vec<String> {
    s.split_whitespace().map(str::to_owned).collect()
}

#[test]
fn parses_ln_forms() {
    assert_eq!(
        parse_ln(&argv("-sf bash /bin/sh")),
        Some(LinkCall {
            target: "bash".into(),
            link: "/bin/sh".into(),
            force: true,
            no_deref: false,
            symbolic: true,
        })
    );
    assert!(parse_ln(&argv("-s -n a /b")).is_some_and(|c| c.no_deref));
    assert!(
        parse_ln(&argv("/a /b")).is_some_and(|c| !c.symbolic),
        "a hard link"
    );
    assert_eq!(parse_ln(&argv("-s a b c")), None);
    // The form with several targets links each into the last operand; -T refuses it.
    let (calls, into_directory) = commands::parse_ln_all(&argv("-s ../x/a ../x/b .")).unwrap();
    assert!(into_directory);
    assert_eq!(
        calls
            .iter()
            .map(|c| (c.target.as_str(), c.link.as_str()))
            .collect::<Vec<_>>(),
        [("../x/a", "."), ("../x/b", ".")]
    );
    assert_eq!(commands::ln_target_count(&argv("-s ../x/a ../x/b .")), 2);
    assert_eq!(commands::ln_target_count(&argv("/a /b /dir")), 0);
    assert!(commands::parse_ln_all(&argv("-sT a b c")).is_none());
    assert_eq!(
        parse_ln(&argv("-sv a /b")),
        None,
        "unknown options are not guessed at"
    );
}

use super::super::testutil::with_postinst as pkg;

pub(super) fn file<'c>(c: &'c Changes, path: &str) -> Option<&'c (Entry, Vec<u8>)> {
    c.files.iter().find(|(e, _)| e.path == path)
}

#[test]
fn bash_makes_bin_sh_only_when_missing_through_merged_usr() {
    let script = "#!/bin/bash\nset -e\nif [ ! -e /bin/sh ]; then\n    ln -s bash /bin/sh\nfi\n";
    let mut t = MemTree::new();
    t.symlink("bin", "usr/bin")
        .dir("usr/bin")
        .file("usr/bin/bash", b"");
    let (changes, report) = compute(&t, &[pkg("bash", script)]).unwrap();
    assert!(report.is_empty(), "{report:?}");
    let (entry, _) = file(&changes, "usr/bin/sh").unwrap();
    assert_eq!(
        entry.kind,
        EntryKind::Symlink {
            target: "bash".into()
        }
    );

    // With dash's /bin/sh present, nothing happens (but the diversions file is written).
    t.symlink("usr/bin/sh", "dash");
    let (changes, _) = compute(&t, &[pkg("bash", script)]).unwrap();
    assert!(file(&changes, "usr/bin/sh").is_none());
    assert_eq!(file(&changes, DIVERSIONS).unwrap().1, b"");
}

#[test]
fn compound_tests_are_decided() {
    // coreutils: on merged /usr, /usr/bin/touch exists, so no link.
    let script = "#!/bin/sh\nif [ \"$1\" = 'configure' -a ! -e \"$DPKG_ROOT/usr/bin/touch\" ]; then\n  ln -s /bin/touch \"$DPKG_ROOT/usr/bin/touch\"\nfi\n";
    let mut t = MemTree::new();
    t.symlink("bin", "usr/bin")
        .dir("usr/bin")
        .file("usr/bin/touch", b"");
    let (changes, report) = compute(&t, &[pkg("coreutils", script)]).unwrap();
    assert!(
        file(&changes, "usr/bin/touch").is_none() && report.is_empty(),
        "{changes:?} {report:?}"
    );
    // On split /usr it is made.
    let mut t = MemTree::new();
    t.dir("bin").dir("usr/bin").file("bin/touch", b"");
    let (changes, _) = compute(&t, &[pkg("coreutils", script)]).unwrap();
    assert!(file(&changes, "usr/bin/touch").is_some());
}

#[test]
fn commands_take_effect_in_order_with_diversions() {
    // dash's claim of /bin/sh, reduced: divert, remove, link to a temporary name, move.
    let script = "#!/bin/sh\nset -e\n\
        dpkg-divert --package dash --no-rename --divert /bin/sh.distrib --add /bin/sh\n\
        rm -f /bin/sh\n\
        if [ -e /bin/sh ]; then cp -dp /bin/sh /bin/sh.distrib; fi\n\
        ln -sf dash /bin/sh.tmp\n\
        mv -f /bin/sh.tmp /bin/sh\n\
        dpkg-divert --package dash --no-rename --divert /usr/share/man/man1/sh.distrib.1.gz --add /usr/share/man/man1/sh.1.gz\n";
    let mut t = MemTree::new();
    t.symlink("bin", "usr/bin")
        .dir("usr/bin")
        .symlink("usr/bin/sh", "dash")
        .file("usr/bin/dash", b"");
    let (changes, report) = compute(&t, &[pkg("dash", script)]).unwrap();
    assert!(report.is_empty(), "the cp is never reached: {report:?}");
    assert!(file(&changes, "usr/bin/sh.tmp").is_none(), "{changes:?}");
    assert_eq!(
        file(&changes, "usr/bin/sh").unwrap().0.kind,
        EntryKind::Symlink {
            target: "dash".into()
        }
    );
    assert_eq!(
        String::from_utf8_lossy(&file(&changes, DIVERSIONS).unwrap().1),
        "/usr/share/man/man1/sh.1.gz\n/usr/share/man/man1/sh.distrib.1.gz\ndash\n/bin/sh\n/bin/sh.distrib\ndash\n"
    );
}

#[test]
fn touch_chmod_chown_as_login_does() {
    let script = "#!/bin/sh\nfor f in /etc/subuid /etc/subgid; do\n  if [ ! -e $f ]; then\n    touch $f\n    chown 0:0 $f\n    chmod 644 $f\n  fi\ndone\nchown root:shadow /etc/subuid\n";
    let mut t = MemTree::new();
    t.dir("etc")
        .file("etc/passwd", b"root:x:0:0:root:/root:/bin/sh\n")
        .file("etc/group", b"root:x:0:\nshadow:x:42:\n");
    let (changes, report) = compute(&t, &[pkg("login", script)]).unwrap();
    assert!(report.is_empty(), "{report:?}");
    let (subuid, _) = file(&changes, "etc/subuid").unwrap();
    assert_eq!(
        (subuid.mode, subuid.uid, subuid.gid, subuid.gname.as_str()),
        (0o644, 0, 42, "shadow")
    );
    assert!(file(&changes, "etc/subgid").is_some());
}

#[test]
fn umask_applies_to_created_files() {
    let script = "#!/bin/sh\nif [ ! -f /etc/security/opasswd ]; then\n  umask 066\n  touch /etc/security/opasswd\nfi\n";
    let mut t = MemTree::new();
    t.dir("etc/security");
    let (changes, report) = compute(&t, &[pkg("libpam-modules", script)]).unwrap();
    assert!(report.is_empty(), "{report:?}");
    assert_eq!(file(&changes, "etc/security/opasswd").unwrap().0.mode, 0o600);
}

/// A merged-/usr image with Debian's `/var/run -> /run`.
fn merged_usr() -> MemTree {
    let mut t = MemTree::new();
    t.symlink("bin", "usr/bin")
        .symlink("lib", "usr/lib")
        .dir("usr/bin")
        .dir("usr/lib")
        .dir("run")
        .symlink("var/run", "/run");
    t
}

fn kind<'c>(c: &'c Changes, path: &str) -> Option<&'c EntryKind> {
    file(c, path).map(|(e, _)| &e.kind)
}

#[test]
fn mkdir_follows_links_in_the_image() {
    let script = "#!/bin/sh\nset -e\nmkdir -p /var/run/x\nmkdir /lib/x\nmkdir -p /bin/x/y\nmkdir -p -m 700 /var/run/x/z\nmkdir -p /var/run\n";
    let (changes, report) = compute(&merged_usr(), &[pkg("p", script)]).unwrap();
    assert!(report.is_empty(), "{report:?}");
    for p in ["run/x", "usr/lib/x", "usr/bin/x", "usr/bin/x/y", "run/x/z"] {
        assert_eq!(kind(&changes, p), Some(&EntryKind::Directory), "{p}: {changes:?}");
    }
    assert_eq!(file(&changes, "run/x/z").unwrap().0.mode, 0o700);
    // Nothing is made through (or instead of) a link.
    for p in ["var/run", "var/run/x", "lib", "lib/x", "bin", "bin/x"] {
        assert!(file(&changes, p).is_none(), "{p}: {changes:?}");
    }
    // A relative link, and one through `..` that is clamped at the image root.
    let mut t = merged_usr();
    t.dir("usr/share")
        .symlink("usr/lib/rel", "../share")
        .symlink("etc/up", "../../../usr");
    let script = "#!/bin/sh\nmkdir -p /usr/lib/rel/a /etc/up/b\n";
    let (changes, report) = compute(&t, &[pkg("p", script)]).unwrap();
    assert!(report.is_empty(), "{report:?}");
    assert_eq!(kind(&changes, "usr/share/a"), Some(&EntryKind::Directory));
    assert_eq!(kind(&changes, "usr/b"), Some(&EntryKind::Directory));
}

/// GNU mkdir reads a long option by its unambiguous prefix (mdadm's mkconf runs `mkdir
/// --parent`), and `--mode` with its value apart; an option it does not have is reported.
#[test]
fn mkdir_reads_long_options_as_getopt_does() {
    let script = "#!/bin/sh\nset -e\nmkdir --parent /etc\nmkdir --par --mode 0750 /etc/m/n\nmkdir --pa --mo=0700 /etc/k\n";
    let (changes, report) = compute(&merged_usr(), &[pkg("p", script)]).unwrap();
    assert!(report.is_empty(), "{report:?}");
    assert_eq!(file(&changes, "etc/m/n").map(|(e, _)| e.mode), Some(0o750));
    assert_eq!(file(&changes, "etc/k").map(|(e, _)| e.mode), Some(0o700));
    assert_eq!(kind(&changes, "etc/m"), Some(&EntryKind::Directory));
    for bad in ["mkdir --ver /etc/x", "mkdir --frob /etc/x"] {
        let (changes, report) = compute(&merged_usr(), &[pkg("p", &format!("#!/bin/sh\n{bad}\n"))]).unwrap();
        assert_eq!(report.len(), 1, "{bad}: {report:?}");
        assert!(file(&changes, "etc/x").is_none(), "{bad}");
    }
}

#[test]
fn mkdir_never_replaces_what_is_there() {
    let mut t = merged_usr();
    t.file("etc/f", b"keep")
        .symlink("etc/dangling", "/nowhere")
        .symlink("etc/loop", "loop")
        .symlink("etc/tofile", "f")
        .dir("etc/d");
    let cases = [
        ("mkdir -p /etc/f", "‘/etc/f’: File exists"),
        ("mkdir /etc/f", "‘/etc/f’: File exists"),
        ("mkdir -p /etc/f/x", "‘/etc/f’: Not a directory"),
        ("mkdir /etc/f/x", "‘/etc/f/x’: Not a directory"),
        ("mkdir -p /etc/dangling", "‘/etc/dangling’: File exists"),
        ("mkdir -p /etc/dangling/x", "‘/etc/dangling’: File exists"),
        (
            "mkdir /etc/dangling/x",
            "‘/etc/dangling/x’: No such file or directory",
        ),
        ("mkdir -p /etc/loop/x", "‘/etc/loop’: File exists"),
        ("mkdir -p /etc/tofile/x", "‘/etc/tofile’: Not a directory"),
        ("mkdir /etc/d", "‘/etc/d’: File exists"),
        ("mkdir /var/run", "‘/var/run’: File exists"),
        ("mkdir /etc/none/x", "‘/etc/none/x’: No such file or directory"),
    ];
    for (cmd, why) in cases {
        let script = format!("#!/bin/sh\nset -e\n{cmd}\n");
        let (changes, report) = compute(&t, &[pkg("p", &script)]).unwrap();
        let whats: Vec<&str> = report.iter().map(|r| r.what.as_str()).collect();
        assert_eq!(whats, [format!("{cmd} (cannot create directory {why})")], "{cmd}");
        let made: Vec<&str> = changes
            .files
            .iter()
            .map(|(e, _)| e.path.as_str())
            .filter(|p| *p != DIVERSIONS)
            .collect();
        assert!(made.is_empty(), "{cmd} changed {made:?}");
    }
    // With -p, an existing directory (or a link to one) is fine.
    let script = "#!/bin/sh\nmkdir -p /etc/d /var/run /bin\n";
    let (changes, report) = compute(&t, &[pkg("p", script)]).unwrap();
    assert!(report.is_empty(), "{report:?}");
    assert!(file(&changes, "etc/d").is_none() && file(&changes, "bin").is_none());
}

#[test]
fn dotdot_paths_are_refused_naming_package_and_script() {
    for cmd in [
        "mkdir -p /../x",
        "mkdir -p /usr/../../x",
        "touch /etc/../../x",
        "ln -sf /bin/true /../x",
        "mv /etc/a /../x",
        "rm -rf /var/../..",
        "chmod 644 /../etc/x",
        "dpkg-divert --add --divert /../x /etc/a",
    ] {
        let script = format!("#!/bin/sh\nset -e\n{cmd}\n");
        let err = compute(&merged_usr(), &[pkg("evil", &script)])
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("package evil")
                && err.contains("postinst")
                && err.contains("..")
                && err.contains(cmd),
            "{cmd}: {err}"
        );
    }
    // A link's target is not a path acted on: `..` in it is fine.
    let script = "#!/bin/sh\nln -s ../lib/x /usr/bin/x\n";
    let (changes, report) = compute(&merged_usr(), &[pkg("p", script)]).unwrap();
    assert!(report.is_empty(), "{report:?}");
    assert!(file(&changes, "usr/bin/x").is_some());
}

/// A postinst the reader cannot parse is reported, not skipped; so is one whose walk stops.
#[test]
fn unreadable_and_runaway_scripts_are_reported() {
    let deep = format!(
        "#!/bin/sh\nset -e\n{}true{}\n",
        "(".repeat(5000),
        ")".repeat(5000)
    );
    let started = std::time::Instant::now();
    let (_, report) = compute(&merged_usr(), &[pkg("hostile", &deep)]).unwrap();
    assert!(started.elapsed().as_secs() < 10, "took {:?}", started.elapsed());
    assert_eq!(report.len(), 1, "{report:?}");
    assert_eq!(
        (report[0].package.as_str(), report[0].script.as_str()),
        ("hostile", "postinst")
    );
    assert_eq!(
        report[0].what,
        format!(
            "script could not be read (line 3: nesting deeper than {} levels); none of it emulated",
            shell::MAX_NESTING
        )
    );

    let runaway = "#!/bin/sh\ntouch /etc/a\nf() { f; }\nf\n";
    let mut t = merged_usr();
    t.dir("etc");
    let (changes, report) = compute(&t, &[pkg("p", runaway)]).unwrap();
    assert!(file(&changes, "etc/a").is_some());
    let whats: Vec<&str> = report.iter().map(|r| r.what.as_str()).collect();
    assert_eq!(whats.len(), 1, "{whats:?}");
    assert!(
        whats[0].contains("evaluation stopped") && whats[0].contains("not emulated"),
        "{whats:?}"
    );
}

#[test]
fn what_cannot_be_done_is_reported() {
    let mut t = MemTree::new();
    t.file("var/cache/x/sub/f", b"").file("var/cache/xy", b"");
    let script = "#!/bin/sh\nln -s x /opt/none/y\nchmod u+x /etc/x\nrm -rf /var/cache/x /var/lib/none\n\
                  rm /var/cache\ninvoke-rc.d foo start\n";
    let (c, report) = compute(&t, &[pkg("p", script)]).unwrap();
    let whats: Vec<&str> = report.iter().map(|r| r.what.as_str()).collect();
    assert_eq!(whats.len(), 4, "{whats:?}");
    assert!(whats.iter().any(|w| w.contains("/opt/none")));
    assert!(whats.iter().any(|w| w.contains("u+x")));
    // rm without -r refuses a directory; services are reported as skipped.
    assert!(
        whats.contains(&"rm /var/cache (/var/cache is a directory)"),
        "{whats:?}"
    );
    assert!(whats.contains(&"skipped: service management: invoke-rc.d foo start"));
    // rm -r takes the directory and everything below it, not its neighbour; a path that is not
    // there is nothing to remove.
    assert_eq!(c.removed, ["var/cache/x", "var/cache/x/sub", "var/cache/x/sub/f"]);
    assert!(handles("rm", &argv("-rf /var/cache/x")));
    assert!(handles("rm", &argv("--recursive /var/cache/x")));
}

const NETBASE: &str = include_str!("../../../../tests/data/scripts/bookworm/netbase.postinst");
const LIBWRAP0: &str = include_str!("../../../../tests/data/scripts/bookworm/libwrap0.postinst");

/// netbase 6.4's postinst writes `/etc/hosts` and `/etc/networks` with `cat > FILE <<-EOF` on a
/// fresh install (leading tabs stripped), and leaves existing files alone.
#[test]
fn netbase_writes_hosts_and_networks_from_its_here_documents() {
    let mut t = MemTree::new();
    t.dir("etc");
    let (changes, report) = compute(&t, &[pkg("netbase", NETBASE)]).unwrap();
    assert!(report.is_empty(), "{report:?}");
    let (e, networks) = file(&changes, "etc/networks").unwrap();
    assert_eq!(
        std::str::from_utf8(networks).unwrap(),
        "default\t\t0.0.0.0\nloopback\t127.0.0.0\nlink-local\t169.254.0.0\n\n"
    );
    assert_eq!((e.mode, e.uid, e.gid), (0o644, 0, 0));
    let (_, hosts) = file(&changes, "etc/hosts").unwrap();
    assert_eq!(
        std::str::from_utf8(hosts).unwrap(),
        "127.0.0.1\tlocalhost\n::1\t\tlocalhost ip6-localhost ip6-loopback\nff02::1\t\tip6-allnodes\nff02::2\t\tip6-allrouters\n\n"
    );
    // The bindv6only part is commented out in the script: nothing in /etc/sysctl.d.
    assert!(
        changes
            .files
            .iter()
            .all(|(e, _)| !e.path.starts_with("etc/sysctl.d"))
    );

    // An existing /etc/networks stays as it is.
    t.file("etc/networks", b"mine\n");
    let (changes, _) = compute(&t, &[pkg("netbase", NETBASE)]).unwrap();
    assert!(file(&changes, "etc/networks").is_none());
    assert!(file(&changes, "etc/hosts").is_some());
}

/// libwrap0 7.6.q-32's postinst (`cat > FILE <<EOF`, unquoted delimiter, no expansion in the
/// text): byte-identical to what dpkg left in an mmdebstrap tree.
#[test]
fn libwrap0_writes_hosts_allow_and_deny_as_dpkg_leaves_them() {
    let mut t = MemTree::new();
    t.dir("etc");
    let (changes, report) = compute(&t, &[pkg("libwrap0", LIBWRAP0)]).unwrap();
    assert!(report.is_empty(), "{report:?}");
    for (path, expected) in [
        (
            "etc/hosts.allow",
            &include_bytes!("../../../../tests/data/scripts/bookworm/expected/hosts.allow")[..],
        ),
        (
            "etc/hosts.deny",
            &include_bytes!("../../../../tests/data/scripts/bookworm/expected/hosts.deny")[..],
        ),
    ] {
        let (e, content) = file(&changes, path).unwrap();
        assert_eq!(content.as_slice(), expected, "{path}");
        assert_eq!(e.mode, 0o644, "{path}");
    }
}

/// What the shell does with `>`/`>>` and a here-document: appends, an umask, a link followed,
/// expansions and unknown paths reported, `/dev/null` ignored; `echo` applied.
#[test]
fn here_documents_written_by_cat() {
    let mut t = MemTree::new();
    t.dir("etc")
        .file("etc/real", b"old\n")
        .symlink("etc/link", "real");
    let script = "#!/bin/sh\nset -e\numask 077\ncat >/etc/new <<'EOF'\n$not expanded\nEOF\n\
                  cat >> /etc/link <<EOF\nmore\nEOF\ncat > /etc/x <<EOF\n$HOME\nEOF\n\
                  cat <<EOF >/dev/null\nnothing\nEOF\necho hi > /etc/echoed\n";
    let (changes, report) = compute(&t, &[pkg("p", script)]).unwrap();
    let (e, new) = file(&changes, "etc/new").unwrap();
    assert_eq!((new.as_slice(), e.mode), (&b"$not expanded\n"[..], 0o600));
    let (_, real) = file(&changes, "etc/real").unwrap();
    assert_eq!(real.as_slice(), b"old\nmore\n");
    assert!(file(&changes, "etc/x").is_none());
    let (e, echoed) = file(&changes, "etc/echoed").unwrap();
    assert_eq!((echoed.as_slice(), e.mode), (&b"hi\n"[..], 0o600));
    let what: Vec<&str> = report.iter().map(|r| r.what.as_str()).collect();
    assert_eq!(
        what,
        ["cat > /etc/x (a here-document with expansions, or to a path not known, is not reproduced)"]
    );
}

/// `exec >FILE` sends the rest of the script's output to FILE (mdadm's mkconf); what goes to
/// standard error (`>&2`, `1>&2`) does not land there, `2>&1` changes nothing, and a
/// subshell's `exec` stays in the subshell.
#[test]
fn exec_sends_the_script_s_output_to_a_file() {
    let mut t = MemTree::new();
    t.dir("etc").file("etc/out.conf", b"stale\n");
    let script = "#!/bin/sh\nset -e\necho before\nexec >/etc/out.conf\necho one\necho warn >&2\n\
                  cat <<EOF\ntwo\nEOF\n( exec >/etc/sub; echo s )\necho three 1>&2\nprintf 'four\\n' 2>&1\n";
    let (changes, report) = compute(&t, &[pkg("p", script)]).unwrap();
    assert!(report.is_empty(), "{report:?}");
    let (e, out) = file(&changes, "etc/out.conf").unwrap();
    assert_eq!(String::from_utf8_lossy(out), "one\ntwo\nfour\n");
    assert_eq!(e.mode, 0o644);
    assert_eq!(
        file(&changes, "etc/sub").map(|(_, b)| b.as_slice()),
        Some(&b"s\n"[..])
    );
    // Appending: nothing is emptied.
    let script = "#!/bin/sh\nexec >>/etc/out.conf\necho more\n";
    let (changes, _) = compute(&t, &[pkg("p", script)]).unwrap();
    assert_eq!(
        file(&changes, "etc/out.conf").map(|(_, b)| b.as_slice()),
        Some(&b"stale\nmore\n"[..])
    );
}

/// After `exec >FILE` the script goes on as before: file commands apply and print nothing into
/// it, a helper script is walked (its output lands there too), a pipeline's first stages feed
/// the last, a function called with `>&2` prints to standard error, `2>&1` sends what `>&2`
/// prints into the file, and an `exec` in a pipeline's last stage ends with that stage.
#[test]
fn exec_to_a_file_keeps_the_rest_of_the_script_walked() {
    let mut t = merged_usr();
    t.dir("etc")
        .file("etc/in", b"x1\nx2\n")
        .dir("usr/share/tool")
        .file(
            "usr/share/tool/h",
            b"#!/bin/sh\nmkdir -p /var/made\necho from-helper\n",
        )
        .mode("usr/share/tool/h", 0o755);
    let script = "#!/bin/sh\nset -e\nwarn() { echo \"W: $*\"; }\nexec >/etc/out\necho a\nmkdir -p /var/d\n\
                  /usr/share/tool/h\ncat /etc/in | sed s/x/y/\nwarn no >&2\n\
                  echo x | { exec >/etc/other; cat; }\necho b\n\
                  ( exec >/etc/both 2>&1; echo c; echo d >&2; warn e >&2 )\n";
    let (changes, report) = compute(&t, &[pkg("p", script)]).unwrap();
    assert!(report.is_empty(), "{report:?}");
    let text = |p: &str| file(&changes, p).map(|(_, b)| String::from_utf8_lossy(b).into_owned());
    assert_eq!(text("etc/out").as_deref(), Some("a\nfrom-helper\ny1\ny2\nb\n"));
    assert_eq!(text("etc/other").as_deref(), Some("x\n"));
    assert_eq!(text("etc/both").as_deref(), Some("c\nd\nW: e\n"));
    assert_eq!(kind(&changes, "var/d"), Some(&EntryKind::Directory));
    assert_eq!(kind(&changes, "var/made"), Some(&EntryKind::Directory));
}

/// libvlc-bin's way: its postinst activates its own file trigger in `configure`, and dpkg runs
/// its `postinst triggered` afterwards (the activation is read once the package is configured);
/// another package's unconfigured interest is not triggered.
#[test]
fn a_trigger_a_package_activates_for_itself_runs_after_its_configure() {
    let mut t = MemTree::new();
    t.dir("usr/lib/p/plugins").dir("var/cache");
    let postinst = "#!/bin/sh\nset -e\ncase \"$1\" in\n  triggered) touch /var/cache/p-triggered ;;\n\
                    configure) dpkg-trigger /usr/lib/p/plugins ;;\nesac\n";
    let mut p = pkg("p", postinst);
    p.members.insert(
        "triggers".into(),
        b"interest-noawait /usr/lib/p/plugins\n".to_vec(),
    );
    let (changes, report) = compute(&t, &[p]).unwrap();
    assert!(report.is_empty(), "{report:?}");
    assert!(file(&changes, "var/cache/p-triggered").is_some(), "{changes:?}");
}

/// mdadm's way, in small: the config script reads settings only from a non-empty file (`[ -s
/// F ]`, false where F is missing), the postinst writes the defaults from debconf's answers and
/// runs a helper that `exec`s its output into the configuration, dated by SOURCE_DATE_EPOCH
/// (`date -R --utc -d@…`), while its warnings go to standard error.
#[test]
fn a_helper_writes_its_output_dated_by_source_date_epoch() {
    let config = "#!/bin/sh\n. /usr/share/debconf/confmodule\nset -eu\n\
        if [ -s /etc/default/tool ]; then\n  CHECK=false\n  . /etc/default/tool\n  db_set tool/check \"$CHECK\"\nfi\n\
        db_input medium tool/check || :\ndb_go\n";
    let postinst = "#!/bin/sh\nset -e\n. /usr/share/debconf/confmodule\n\
        db_get tool/check\nCHECK=\"${RET:-true}\"\n\
        cat <<_eof > /etc/default/tool\nCHECK=$CHECK\n_eof\n\
        if /usr/share/tool/mkconf generate /etc/tool/tool.conf 2>/dev/null; then echo done >&2; fi\n";
    let mkconf = "#!/bin/sh\nset -eu\nmkdir --parent ${2%/*}\nexec >$2\ncat <<_eof\n# tool.conf\nCHECK ${CHECK:-x}\n_eof\n\
        echo W: no arrays >&2\n\
        if [ -z \"${SOURCE_DATE_EPOCH:-}\" ]; then\n  echo \"# made on $(date -R)\"\nelse\n  echo \"# made on $(date -R --utc -d@$SOURCE_DATE_EPOCH)\"\nfi\n";
    let mut p = pkg("tool", postinst);
    p.members.insert("config".into(), config.as_bytes().to_vec());
    p.members.insert(
        "templates".into(),
        b"Template: tool/check\nType: boolean\nDefault: true\nDescription: x\n".to_vec(),
    );
    let mut t = MemTree::new();
    t.dir("etc/default")
        .dir("usr/share/tool")
        .file("usr/share/tool/mkconf", mkconf.as_bytes())
        .mode("usr/share/tool/mkconf", 0o755)
        .dir("usr/share/debconf")
        .file(
            "usr/share/debconf/confmodule",
            b"db_get () { _db_cmd \"GET $@\"; }\ndb_set () { _db_cmd \"SET $@\"; }\n",
        );
    let (changes, report) = compute_at(&t, &[p], 1_796_550_643)
        .map(|(c, r, _)| (c, r))
        .unwrap();
    assert!(report.is_empty(), "{report:?}");
    let text = |path: &str| file(&changes, path).map(|(_, b)| String::from_utf8_lossy(b).into_owned());
    assert_eq!(text("etc/default/tool").as_deref(), Some("CHECK=true\n"));
    assert_eq!(
        text("etc/tool/tool.conf").as_deref(),
        Some("# tool.conf\nCHECK x\n# made on Sun, 06 Dec 2026 09:50:43 +0000\n")
    );
}

/// A configuration file built the way servers' postinsts build it: debconf answers (the
/// template's default, or what the config script `db_set`), a `mktemp` file removed by an EXIT
/// trap, `cp -a` of the shipped template, `sed -i` edits chosen by the answers, then
/// `ucf`/`ucfr`. Plus `cp -p` and plain `cp` of defaults, `echo`/`printf` into files, and a
/// `||` fallback after a file test.
#[test]
fn configuration_built_from_debconf_answers_with_temporary_files() {
    let postinst = "#!/bin/sh\nset -e\n. /usr/share/debconf/confmodule\nnew=\n\
        cleanup() { if [ \"$new\" ]; then rm -f \"$new\"; fi; }\n\
        make() {\n db_get srv/root\n root=\"$RET\"\n db_get srv/pw\n pw=\"$RET\"\n trap cleanup EXIT\n\
         new=\"$(mktemp)\"\n cp -aZ /usr/share/srv/conf \"$new\"\n\
         if [ \"$root\" != true ]; then sed -i 's/^#*Root .*/Root yes/' \"$new\"; fi\n\
         if [ \"$pw\" != true ]; then sed -i 's/^#Password .*/Password no/' \"$new\"; fi\n\
         mkdir -pZ /etc/srv\n ucf --three-way --debconf-ok --sum-file /usr/share/srv/conf.md5sum \"$new\" /etc/srv/conf\n\
         ucfr srv /etc/srv/conf\n}\n\
        if [ \"$1\" = configure ]; then make; fi\n\
        [ -d /etc/extra ] || mkdir /etc/extra\n[ -f /etc/extra/cfg ] || printf '%s = %s\\n' mode fast > /etc/extra/cfg\n\
        [ ! -f /etc/inputrc ] && cp -p /usr/share/srv/inputrc /etc/inputrc\n\
        if [ ! -e /var/www/index.html ]; then mkdir -p /var/www; cp /usr/share/srv/index.html /var/www/index.html; fi\n\
        echo enabled >> /etc/srv/state\n";
    let config = "#!/bin/sh\n. /usr/share/debconf/confmodule\nif [ ! -f /etc/srv/conf ]; then db_set srv/pw false; fi\n";
    let templates = "Template: srv/root\nType: boolean\nDefault: true\nDescription: x\n\n\
                     Template: srv/pw\nType: boolean\nDefault: true\nDescription: y\n";
    let mut p = pkg("srv", postinst);
    p.members.insert("config".into(), config.as_bytes().to_vec());
    p.members
        .insert("templates".into(), templates.as_bytes().to_vec());
    let mut t = MemTree::new();
    t.tools(&["ucf", "ucfr"]);
    t.dir("etc")
        .dir("tmp")
        .dir("usr/share/srv")
        .dir("usr/share/debconf")
        .file(
            "usr/share/debconf/confmodule",
            b"db_get () { _db_cmd \"GET $@\"; }\ndb_set () { _db_cmd \"SET $@\"; }\n",
        )
        .file("usr/share/srv/conf", b"#Root prohibit\n#Password yes\nPort 22\n")
        .file("usr/share/srv/inputrc", b"set bell-style none\n")
        .file("usr/share/srv/index.html", b"<html/>\n")
        .dir("var/lib/ucf")
        .file("var/lib/ucf/hashfile", b"")
        .file("var/lib/ucf/registry", b"");
    let (changes, report) = compute(&t, &[p]).unwrap();
    assert!(report.is_empty(), "{report:?}");
    let text =
        |path: &str| file(&changes, path).map(|(e, c)| (String::from_utf8_lossy(c).into_owned(), e.mode));
    // srv/root kept its default (true: no edit); the config script set srv/pw to false.
    let conf = "#Root prohibit\nPassword no\nPort 22\n";
    assert_eq!(text("etc/srv/conf"), Some((conf.into(), 0o644)));
    assert_eq!(
        text("var/lib/ucf/cache/:etc:srv:conf"),
        Some((conf.into(), 0o644))
    );
    assert!(text("var/lib/ucf/registry").is_some_and(|(r, _)| r == "srv \t /etc/srv/conf\n"));
    // The temporary file is gone (the EXIT trap), and nothing else was left in /tmp.
    assert!(
        changes.files.iter().all(|(e, _)| !e.path.starts_with("tmp/")),
        "{:?}",
        changes.files
    );
    assert_eq!(text("etc/extra/cfg"), Some(("mode = fast\n".into(), 0o644)));
    assert!(file(&changes, "etc/extra").is_some_and(|(e, _)| e.is_dir()));
    assert_eq!(text("etc/inputrc"), Some(("set bell-style none\n".into(), 0o644)));
    assert_eq!(text("var/www/index.html"), Some(("<html/>\n".into(), 0o644)));
    assert_eq!(text("etc/srv/state"), Some(("enabled\n".into(), 0o644)));
}

/// cp's rules: a new file is the source's bits less the umask and set-id bits, root's; `-p`
/// keeps mode and owner; an existing destination keeps its own; a link source is followed
/// unless `-d`/`-a`; `-r` copies a directory; a link over a file is refused and reported.
#[test]
fn cp_as_coreutils_copies() {
    let mut t = MemTree::new();
    t.dir("etc")
        .dir("usr/share/d")
        .file("usr/share/d/f", b"data\n")
        .symlink("usr/share/d/l", "f");
    t.file("etc/existing", b"old\n");
    let mut owned = t.clone();
    if let Some((e, _)) = owned.entries.get_mut("usr/share/d/f") {
        (e.mode, e.uid, e.gid, e.uname, e.gname) = (0o4755, 5, 6, "u".into(), "g".into());
    }
    if let Some((e, _)) = owned.entries.get_mut("etc/existing") {
        e.mode = 0o600;
    }
    let script = "#!/bin/sh\numask 027\ncp /usr/share/d/f /etc/plain\ncp -p /usr/share/d/f /etc/kept\n\
                  cp /usr/share/d/f /etc/existing\ncp /usr/share/d/l /etc/followed\ncp -a /usr/share/d/l /etc/link\n\
                  cp /usr/share/d/f /usr/share/d/l /etc\ncp -r /usr/share/d /etc/dir\ncp -d /usr/share/d/l /etc/existing\n";
    let (changes, report) = compute(&owned, &[pkg("p", script)]).unwrap();
    let meta = |path: &str| file(&changes, path).map(|(e, c)| (e.mode, e.uid, c.clone(), e.kind.clone()));
    let data = b"data\n".to_vec();
    let file_kind = EntryKind::File { size: 5 };
    assert_eq!(
        meta("etc/plain"),
        Some((0o750, 0, data.clone(), file_kind.clone()))
    );
    assert_eq!(
        meta("etc/kept"),
        Some((0o4755, 5, data.clone(), file_kind.clone()))
    );
    assert_eq!(
        meta("etc/existing"),
        Some((0o600, 0, data.clone(), file_kind.clone()))
    );
    assert_eq!(meta("etc/followed").map(|m| m.2), Some(data.clone()));
    assert!(matches!(
        meta("etc/link").map(|m| m.3),
        Some(EntryKind::Symlink { .. })
    ));
    assert_eq!(meta("etc/f").map(|m| m.2), Some(data.clone()));
    assert_eq!(meta("etc/l").map(|m| m.2), Some(data));
    // `cp -r`: the directory with what it holds, modes less the umask, root's, links as links.
    assert_eq!(
        meta("etc/dir/f"),
        Some((0o750, 0, b"data\n".to_vec(), file_kind.clone()))
    );
    assert!(matches!(
        meta("etc/dir/l").map(|m| m.3),
        Some(EntryKind::Symlink { .. })
    ));
    let what: Vec<&str> = report.iter().map(|r| r.what.as_str()).collect();
    assert_eq!(what.len(), 1, "{what:?}");
    assert!(what[0].contains("over an existing /etc/existing"), "{what:?}");
}

/// `preinst install` runs before any postinst (a runtime remembering its fresh install), and
/// what it cannot do is reported under its own name.
#[test]
fn preinst_install_runs_before_every_postinst() {
    let mut p = pkg(
        "rt",
        "#!/bin/sh\nset -e\nif [ -f /var/lib/rt/fresh ]; then echo seen >> /var/lib/rt/log; fi\n",
    );
    p.members.insert(
        "preinst".into(),
        b"#!/bin/sh\nset -e\ncase \"$1\" in\n install) mkdir -p /var/lib/rt; touch /var/lib/rt/fresh; frobnicate ;;\n upgrade) touch /var/lib/rt/upgraded ;;\nesac\n"
            .to_vec(),
    );
    let mut t = MemTree::new();
    t.dir("var/lib");
    let (changes, report) = compute(
        &t,
        &[
            pkg(
                "first",
                "#!/bin/sh\n[ -d /var/lib/rt ] && echo early > /var/lib/early\n",
            ),
            p,
        ],
    )
    .unwrap();
    assert!(file(&changes, "var/lib/rt/fresh").is_some());
    assert!(file(&changes, "var/lib/rt/upgraded").is_none());
    assert_eq!(
        file(&changes, "var/lib/rt/log").map(|f| f.1.clone()),
        Some(b"seen\n".to_vec())
    );
    // The preinst of a later package has run before the first package's postinst.
    assert_eq!(
        file(&changes, "var/lib/early").map(|f| f.1.clone()),
        Some(b"early\n".to_vec())
    );
    let what: Vec<(&str, &str)> = report
        .iter()
        .map(|r| (r.script.as_str(), r.what.as_str()))
        .collect();
    assert_eq!(what, [("preinst", "frobnicate")]);
}

/// `sed SCRIPT FILE > OUT` and `grep PATTERN FILE > OUT` write the filtered file; a form not
/// reproduced is reported, naming the output it leaves unwritten.
#[test]
fn filters_of_image_files_into_files() {
    let mut t = MemTree::new();
    t.dir("etc")
        .dir("tmp")
        .file("usr/share/pg/tmpl", b"# c\nssl = off\nport = 5432\n");
    let script = "#!/bin/sh\nset -e\nT=`mktemp --tmpdir pg.XXXXXX`\ntrap \"rm -f $T\" 0 2 3 15\n\
                  sed -e \"s/^ssl =.*/ssl = on/\" /usr/share/pg/tmpl > $T\nchmod 644 $T\ncp $T /etc/pg.conf\n\
                  grep -v '^#' /usr/share/pg/tmpl > /etc/pg.nocomments\nsed -n '/^port/p' /usr/share/pg/tmpl > /etc/pg.port\n\
                  sed -n '/x/{x;p}' /usr/share/pg/tmpl > /etc/pg.n\n";
    let (changes, report) = compute(&t, &[pkg("pg", script)]).unwrap();
    let text = |p: &str| file(&changes, p).map(|(_, c)| String::from_utf8_lossy(c).into_owned());
    assert_eq!(
        text("etc/pg.conf").as_deref(),
        Some("# c\nssl = on\nport = 5432\n")
    );
    assert_eq!(
        text("etc/pg.nocomments").as_deref(),
        Some("ssl = off\nport = 5432\n")
    );
    assert_eq!(text("etc/pg.port").as_deref(), Some("port = 5432\n"));
    assert!(changes.files.iter().all(|(e, _)| !e.path.starts_with("tmp/")));
    let what: Vec<&str> = report.iter().map(|r| r.what.as_str()).collect();
    assert_eq!(what.len(), 1, "{what:?}");
    assert!(
        what[0].starts_with("sed -n '/x/{x;p}' /usr/share/pg/tmpl > /etc/pg.n"),
        "{what:?}"
    );
}

/// GNU mktemp keeps what follows the template's last `X` as a suffix (sysstat's
/// `mktemp -t sstatXXXXXXXXX.def`): the file is made in /tmp, filled by a here-document, copied
/// and removed, leaving nothing behind in /tmp.
#[test]
fn mktemp_templates_with_a_suffix() {
    let mut t = MemTree::new();
    t.dir("etc/default").dir("tmp");
    let script = "#!/bin/sh\nset -e\nENABLED=false\ndef_file=`mktemp -t sstatXXXXXXXXX.def`\n\
                  case \"$def_file\" in /tmp/sstat*.def) ;; *) exit 1 ;; esac\n\
                  cat > \"$def_file\" << EOF\nENABLED=\"$ENABLED\"\nEOF\n\
                  cp \"$def_file\" /etc/default/sysstat\nrm -f \"$def_file\"\n";
    let (changes, report) = compute(&t, &[pkg("sysstat", script)]).unwrap();
    assert!(report.is_empty(), "{report:?}");
    let (_, content) = file(&changes, "etc/default/sysstat").expect("copied");
    assert_eq!(String::from_utf8_lossy(content), "ENABLED=\"false\"\n");
    assert!(changes.files.iter().all(|(e, _)| !e.path.starts_with("tmp/")));
}

/// debhelper's /usr/local idiom: a subshell reading `DIR MODE USER GROUP` lines from a
/// here-document with `while read`, `set -- $line`, and `if mkdir …; then chown …; chmod …`.
#[test]
fn while_read_over_a_here_document() {
    let script = "#!/bin/sh\nset -e\nif [ \"$1\" = configure ]; then\n(\n\
                  \tdefault_mode=0755\n\tdefault_user=root\n\tdefault_group=root\n\
                  \tif [ -e /etc/staff-group-for-usr-local ]; then default_mode=02775; default_group=staff; fi\n\
                  \twhile read line; do\n\t\tset -- $line\n\t\tdir=\"$1\"; mode=\"$2\"; user=\"$3\"; group=\"$4\"\n\
                  \t\tif [ \"$mode\" = \"default\" ]; then mode=\"$default_mode\"; user=\"$default_user\"; group=\"$default_group\"; fi\n\
                  \t\tif [ ! -e \"$dir\" ]; then\n\t\t\tif mkdir \"$dir\" 2>/dev/null; then\n\
                  \t\t\t\tif chown \"$user\":\"$group\" \"$dir\" ; then chmod \"$mode\" \"$dir\" || true; fi\n\t\t\tfi\n\t\tfi\n\
                  \tdone\n) << DATA\n/usr/local/share default\n/usr/local/share/xml default\n/usr/local/share/xml/misc 0750 root staff\nDATA\nfi\n";
    let mut t = MemTree::new();
    t.dir("usr/local")
        .file("etc/passwd", b"root:x:0:0::/root:/bin/sh\n")
        .file("etc/group", b"root:x:0:\nstaff:x:50:\n");
    let (changes, report) = compute(&t, &[pkg("xmlish", script)]).unwrap();
    assert!(report.is_empty(), "{report:?}");
    let meta = |p: &str| file(&changes, p).map(|(e, _)| (e.is_dir(), e.mode, e.gid));
    assert_eq!(meta("usr/local/share"), Some((true, 0o755, 0)));
    assert_eq!(meta("usr/local/share/xml"), Some((true, 0o755, 0)));
    assert_eq!(meta("usr/local/share/xml/misc"), Some((true, 0o750, 50)));
}

/// `install -d -m MODE -o USER -g GROUP DIR` makes the directory (parents by the umask) and
/// sets its mode and owner even when it exists; a preinst's `dpkg-divert --rename` of a file
/// only its own package ships has nothing to rename yet.
#[test]
fn install_directories_and_a_preinst_diversion_of_its_own_file() {
    let mut t = MemTree::new();
    t.dir("var/lib/db")
        .dir("usr/bin")
        .file("usr/bin/db_config", b"#!/bin/sh\n")
        .file(
            "etc/passwd",
            b"root:x:0:0::/root:/bin/sh\ndb:x:100:102::/var/lib/db:/bin/sh\n",
        )
        .file("etc/group", b"root:x:0:\ndb:x:102:\n");
    let mut p = pkg(
        "db-common",
        "#!/bin/sh\nset -e\ninstall -d -m 2775 -o db -g db /var/run/db /var/lib/db/x/y\ninstall -d -m 0700 /var/lib/db\ninstall -m 644 /a /b\n",
    );
    p.files = vec!["usr/bin/db_config".into()];
    p.members.insert(
        "preinst".into(),
        b"#!/bin/sh\nset -e\ndpkg-divert --package db-common --rename --divert /usr/bin/db_config.dev --add /usr/bin/db_config\n".to_vec(),
    );
    let (changes, report) = compute(&t, &[p]).unwrap();
    let meta = |path: &str| file(&changes, path).map(|(e, _)| (e.is_dir(), e.mode, e.uid, e.gid));
    assert_eq!(meta("var/run/db"), Some((true, 0o2775, 100, 102)));
    assert_eq!(meta("var/lib/db/x"), Some((true, 0o755, 0, 0)));
    assert_eq!(meta("var/lib/db/x/y"), Some((true, 0o2775, 100, 102)));
    assert_eq!(meta("var/lib/db"), Some((true, 0o700, 0, 0)));
    let what: Vec<&str> = report.iter().map(|r| r.what.as_str()).collect();
    assert_eq!(
        what,
        ["install -m 644 /a /b (/a is not a regular file)"],
        "install of a file the image lacks is reported"
    );
    assert_eq!(
        file(&changes, "var/lib/dpkg/diversions").map(|f| f.1.clone()),
        Some(b"/usr/bin/db_config\n/usr/bin/db_config.dev\ndb-common\n".to_vec())
    );
    assert!(meta("usr/bin/db_config.dev").is_none());
}

/// bullseye adduser's postinst: a default copied in, then `if grep -q` of it, a value read with
/// `sed -ne 's/…/\1/p'`, and a pipeline rewriting the file only when the value differs.
#[test]
fn a_configuration_checked_with_grep_and_rewritten_through_a_pipeline() {
    let script = "#!/bin/sh\nset -e\nif [ ! -e \"/etc/tool.conf\" ]; then\n\tcp /usr/share/tool/tool.conf /etc/tool.conf\nfi\n\
                  NEW=\"$1\"\nif grep -q '^DIR_MODE=' /etc/tool.conf\nthen\n\
                  \tOLD=$(cat /etc/tool.conf|sed -ne 's/^DIR_MODE=\\([0-9]*\\).*$/\\1/p')\n\
                  \tif [ \"$OLD\" != \"$NEW\" ]; then\n\t\tmv /etc/tool.conf /etc/tool.conf.dpkg-save\n\
                  \t\tcat /etc/tool.conf.dpkg-save | \\\n\t\tsed -e \"s/^DIR_MODE=.*$/DIR_MODE=$NEW/\" > \\\n\t\t/etc/tool.conf\n\tfi\n\
                  else\n\techo \"DIR_MODE=$NEW\" >> /etc/tool.conf\nfi\n";
    let mut t = MemTree::new();
    t.dir("etc")
        .file("usr/share/tool/tool.conf", b"# tool\nDIR_MODE=0755\n");
    // The value the script wants is its first argument here ("configure"): it differs from
    // the file's, so the pipeline rewrites the file.
    let (changes, report) = compute(&t, &[pkg("tool", script)]).unwrap();
    assert!(report.is_empty(), "{report:?}");
    let text = |p: &str| file(&changes, p).map(|(_, c)| String::from_utf8_lossy(c).into_owned());
    assert_eq!(
        text("etc/tool.conf").as_deref(),
        Some("# tool\nDIR_MODE=configure\n")
    );
    assert_eq!(
        text("etc/tool.conf.dpkg-save").as_deref(),
        Some("# tool\nDIR_MODE=0755\n")
    );
    // The same value: nothing moves.
    let same = script.replace("NEW=\"$1\"", "NEW=0755");
    let (changes, report) = compute(&t, &[pkg("tool", &same)]).unwrap();
    assert!(report.is_empty(), "{report:?}");
    assert!(file(&changes, "etc/tool.conf.dpkg-save").is_none());
    assert_eq!(
        file(&changes, "etc/tool.conf").map(|(_, c)| c.clone()),
        Some(b"# tool\nDIR_MODE=0755\n".to_vec())
    );
}

/// Relative operands are made absolute against the working directory for the commands whose
/// operands are paths; modes, owners and a link's target are left as written; without a known
/// working directory nothing changes (the command then refuses the relative path).
#[test]
fn relative_operands_against_the_working_directory() {
    let abs = |name: &str, args: &str, cwd: Option<&str>| {
        let args: Vec<String> = args.split_whitespace().map(str::to_owned).collect();
        super::paths::absolutize(name, &args, cwd).join(" ")
    };
    let d = Some("/var/spool/postfix");
    assert_eq!(
        abs("mkdir", "-m 700 -Z private /abs", d),
        "-m 700 -Z /var/spool/postfix/private /abs"
    );
    assert_eq!(
        abs("chown", "postfix:root private", d),
        "postfix:root /var/spool/postfix/private"
    );
    assert_eq!(abs("chmod", "-w ./pid", d), "-w /var/spool/postfix/pid");
    assert_eq!(abs("chmod", "-f 0755 pid", d), "-f 0755 /var/spool/postfix/pid");
    assert_eq!(
        abs("ln", "-s sasl-smtp.conf smtp.conf", d),
        "-s sasl-smtp.conf /var/spool/postfix/smtp.conf"
    );
    assert_eq!(
        abs("mv", "-f a.new -- a", d),
        "-f /var/spool/postfix/a.new -- /var/spool/postfix/a"
    );
    assert_eq!(abs("rm", "-f ../x", d), "-f /var/spool/x");
    assert_eq!(abs("rm", "../../../../x", Some("/a")), "/x", "not above the root");
    assert_eq!(abs("sed", "-i s/a/b/ file", d), "-i s/a/b/ file");
    assert_eq!(abs("mkdir", "private", None), "private");
}

/// A default computed by the package's config script from the build's locale (libpaper1: the
/// paper of `locale width`/`height`, matched by awk over a here-document), chosen only when
/// debconf has no answer yet (`elif db_get Q && [ -n "$RET" ]`, decided by debconf itself),
/// then written by the postinst through ucf, with `run-parts` over an empty hook directory.
#[test]
fn a_default_the_config_script_computes_reaches_the_file() {
    let config = "#!/bin/sh\nset -e\ndefault () {\n w=$(locale width 2>/dev/null) || return 0\n\
        h=$(locale height 2>/dev/null) || return 0\n\
        LC_ALL=C awk -v w=\"$w\" -v h=\"$h\" 'NF == 4 && $2 == w && $3 == h { print $1; exit }' <<EOF\n\
        letter 216 279 mm\na4 210 297 mm\na3 297 420 mm\nEOF\n}\n\
        . /usr/share/debconf/confmodule\n\
        if [ -f /etc/paper ]; then paper=`awk '{ print $1 }' /etc/paper`\n\
        elif db_get paper/size && [ -n \"$RET\" ]; then paper=\n\
        else paper=`default`\nfi\n\
        if [ -n \"$paper\" ]; then db_set paper/size \"$paper\"; fi\ndb_input medium paper/size || true\n";
    let postinst = "#!/bin/sh\n. /usr/share/debconf/confmodule\nset -e\n\
        db_get paper/size\necho $RET > /etc/paper.new\n\
        old=`md5sum /etc/paper 2> /dev/null | awk '{print $1}'`\n\
        ucf --debconf-ok /etc/paper.new /etc/paper\n\
        new=`md5sum /etc/paper 2> /dev/null | awk '{print $1}'`\n\
        if [ \"$old\" != \"$new\" ]; then run-parts /etc/paper.d; fi\n\
        if [ -e /etc/paper.new ]; then rm -f /etc/paper.new; fi\n";
    let mut p = pkg("paper", postinst);
    p.members.insert("config".into(), config.as_bytes().to_vec());
    p.members.insert(
        "templates".into(),
        b"Template: paper/size\nType: select\nDescription: x\n".to_vec(),
    );
    let mut t = MemTree::new();
    t.tools(&["ucf", "ucfr"]);
    t.dir("etc")
        .dir("etc/paper.d")
        .file("etc/paper.d/README", b"hooks\n")
        .dir("tmp")
        .dir("usr/bin")
        .file("usr/bin/locale", b"")
        .dir("usr/share/debconf")
        .file(
            "usr/share/debconf/confmodule",
            b"db_get () { _db_cmd \"GET $@\"; }\ndb_set () { _db_cmd \"SET $@\"; }\n",
        )
        .dir("var/lib/ucf")
        .file("var/lib/ucf/hashfile", b"")
        .file("var/lib/ucf/registry", b"");
    let (changes, report) = compute(&t, &[p.clone()]).unwrap();
    assert!(report.is_empty(), "{report:?}");
    let text = |c: &Changes, path: &str| file(c, path).map(|(_, b)| String::from_utf8_lossy(b).into_owned());
    assert_eq!(text(&changes, "etc/paper").as_deref(), Some("a4\n"));
    assert_eq!(
        text(&changes, "var/lib/ucf/hashfile").as_deref(),
        Some("2f1ad364c25bfd8dcee21c2d6ea97a3a  /etc/paper\n"),
        "ucf records the file's md5 (`printf 'a4\\n' | md5sum`)"
    );
    assert!(file(&changes, "etc/paper.new").is_none());
    // A hook run-parts would start is a program not walked: reported.
    t.file("etc/paper.d/50hook", b"#!/bin/sh\n");
    t.mode("etc/paper.d/50hook", 0o755);
    let (_, report) = compute(&t, &[p]).unwrap();
    assert!(
        report
            .iter()
            .any(|r| r.what.contains("run-parts") && r.what.contains("50hook")),
        "{report:?}"
    );
}

/// A branch taken on a guess that ends the script (`exit 0`) or the function (`return`) leaves
/// what follows unwalked: that is reported too, not lost (tex-common's update-texmf).
#[test]
fn what_a_guessed_exit_skips_is_reported() {
    let postinst = "#!/bin/sh\nset -e\nL=$(ls /etc/x.d | tac)\n\
        f() {\n if [ -z \"$L\" ]; then return 0; fi\n mkdir /etc/from-function\n}\nf\n\
        if [ -z \"$L\" ]; then\n exit 0\nfi\nmkdir /etc/made\n";
    let mut t = MemTree::new();
    t.dir("etc").dir("etc/x.d");
    let (changes, report) = compute(&t, &[pkg("p", postinst)]).unwrap();
    assert!(file(&changes, "etc/made").is_none(), "the walk took the exit");
    for dir in ["/etc/made", "/etc/from-function"] {
        assert!(
            report.iter().any(|r| r
                .what
                .starts_with(&format!("mkdir {dir} (not run: whether `[ -z \"$L\" ]`"))),
            "{dir}: {report:#?}"
        );
    }
}

/// A helper that reaches a failure `exit` (its option loop on a `$1` it did not expect) took a
/// path dpkg's successful run did not: what it would have run next is reported, not dropped.
#[test]
fn what_a_failure_exit_skips_is_reported() {
    // The postinst runs with `configure`: an arm for `install` only.
    let postinst = "#!/bin/sh\nset -e\ncase \"$1\" in\n install) ;;\n *) echo \"bad: $1\"; exit 1 ;;\nesac\n\
        mkdir /etc/made\n";
    let (changes, report) = compute(&MemTree::new(), &[pkg("p", postinst)]).unwrap();
    assert!(file(&changes, "etc/made").is_none());
    assert!(
        report.iter().any(|r| r.what
            == "mkdir /etc/made (not run: the walk reached `exit 1`, a failure the install did not have: it took a path dpkg's run did not)"),
        "{report:#?}"
    );
}

/// `stat -c FORMAT` of the image's files (spamassassin's `OWNER=$(stat -c '%U' DIR)` chooses the
/// owner of what it makes next); a file that does not exist makes stat fail: unknown.
#[test]
fn stat_prints_the_image_s_owners_and_modes() {
    let postinst = "#!/bin/sh\nset -e\nchown 100:101 /var/lib/x\nchmod 2750 /var/lib/x\n\
        OWNER=$(stat -c %U /var/lib/x)\nGROUP=$(stat -c '%G' /var/lib/x)\n\
        M=$(stat --format=%a:%u:%g:%n:%% /var/lib/x)\nO=$(stat -c%U /var/lib/orphan)\n\
        echo \"$OWNER $GROUP $M $O\" > /etc/seen\nN=$(stat -c %U /etc/none)\necho \"$N\" > /etc/none-seen\n";
    let mut t = MemTree::new();
    t.dir("var/lib/x")
        .dir("var/lib/orphan")
        .file(
            "etc/passwd",
            b"root:x:0:0:root:/root:/bin/sh\nsvc:x:100:101::/:/bin/false\n",
        )
        .file("etc/group", b"root:x:0:\nsvcg:x:101:\n");
    let (changes, report) = compute(&t, &[pkg("p", postinst)]).unwrap();
    let text = |p: &str| file(&changes, p).map(|(_, c)| String::from_utf8_lossy(c).into_owned());
    assert_eq!(
        text("etc/seen").as_deref(),
        Some("svc svcg 2750:100:101:/var/lib/x:% root\n"),
        "{report:#?}"
    );
    assert!(file(&changes, "etc/none-seen").is_none());
    assert!(
        report.iter().any(|r| r.what.contains("/etc/none-seen")),
        "{report:#?}"
    );
}

/// `$(find DIR -name PAT -print | sort)` lists the image's files (tex-common's update-texmf
/// concatenates `/etc/texmf/texmf.d/*.cnf` so); unsorted, several lines are not known (find's
/// order is the directory's), one line is.
#[test]
fn found_files_feed_a_script_when_their_order_cannot_matter() {
    let postinst = "#!/bin/sh\nset -e\nFILES=`find /etc/t.d -name \\*.cnf -print | sort`\n\
        for i in $FILES; do echo \"% $i\" >> /etc/all.cnf; cat $i >> /etc/all.cnf; done\n\
        ONE=$(find /etc/t.d -name '05*')\necho \"$ONE\" > /etc/one\n\
        MANY=$(find /etc/t.d -type f)\necho \"$MANY\" > /etc/many\n";
    let mut t = MemTree::new();
    t.dir("etc/t.d")
        .file("etc/t.d/10b.cnf", b"b = 2\n")
        .file("etc/t.d/05a.cnf", b"a = 1\n")
        .file("etc/t.d/README", b"x\n");
    let (changes, report) = compute(&t, &[pkg("p", postinst)]).unwrap();
    let text = |path: &str| file(&changes, path).map(|(_, b)| String::from_utf8_lossy(b).into_owned());
    assert_eq!(
        text("etc/all.cnf").as_deref(),
        Some("% /etc/t.d/05a.cnf\na = 1\n% /etc/t.d/10b.cnf\nb = 2\n")
    );
    assert_eq!(text("etc/one").as_deref(), Some("/etc/t.d/05a.cnf\n"));
    assert!(text("etc/many").is_none());
    assert!(
        report
            .iter()
            .any(|r| r.what.starts_with("echo \"$MANY\" > /etc/many")),
        "{report:#?}"
    );
}

/// `dpkg-query -S PATH` answers from the packages' file lists as dpkg records them:
/// usr-is-merged's postinst removes a biarch link no package lists, and keeps `/lib64`, which
/// libc6 lists (`local` now hands the loop its directories).
#[test]
fn dpkg_query_search_keeps_what_a_package_lists() {
    let postinst = "#!/bin/sh\nset -e\ncleanup() {\n dpkg --compare-versions \"$2\" lt \"36~\" || return 0\n\
        local dirs=\"/lib64 /lib32\"\n for dir in $dirs; do\n  [ -e \"$dir\" ] || continue\n\
          if ! dpkg-query -S $dir >/dev/null 2>&1; then\n   rm -v \"$dir\"\n  fi\n done\n}\n\
        case \"$1\" in configure) cleanup ;; esac\n";
    let mut libc = pkg("libc6", "#!/bin/sh\n");
    libc.files = vec!["lib64".into(), "lib64/ld-linux-x86-64.so.2".into()];
    let mut t = merged_usr();
    t.dir("usr/lib64")
        .symlink("lib64", "usr/lib64")
        .dir("usr/lib32")
        .symlink("lib32", "usr/lib32");
    let (changes, report) = compute(&t, &[libc, pkg("usr-is-merged", postinst)]).unwrap();
    assert!(report.is_empty(), "{report:?}");
    assert!(
        changes.removed.iter().any(|p| p == "lib32"),
        "{:?}",
        changes.removed
    );
    assert!(
        !changes.removed.iter().any(|p| p == "lib64"),
        "{:?}",
        changes.removed
    );
}

/// A config script debcast cannot walk (Perl, like postfix's) may set answers: those it sets
/// are unknown, so a file the postinst writes from them is left out and reported, not written
/// from the templates' defaults. One that sets nothing leaves the defaults.
#[test]
fn answers_of_a_config_script_not_walked_are_unknown() {
    let postinst = "#!/bin/sh\nset -e\n. /usr/share/debconf/confmodule\n\
        db_get mail/name\necho \"myhostname = $RET\" > /etc/mail.cf\n";
    let mut p = pkg("mail", postinst);
    p.members.insert(
        "config".into(),
        b"#!/usr/bin/perl -w\nuse Debconf::Client::ConfModule;\nset('mail/name', `hostname`);\n".to_vec(),
    );
    p.members.insert(
        "templates".into(),
        b"Template: mail/name\nType: string\nDefault: localhost\nDescription: x\n".to_vec(),
    );
    let mut t = MemTree::new();
    t.dir("etc")
        .dir("usr/share/debconf")
        .file("usr/share/debconf/confmodule", b"db_get () { :; }\n");
    let (changes, report) = compute(&t, &[p.clone()]).unwrap();
    assert!(file(&changes, "etc/mail.cf").is_none());
    assert!(
        report.iter().any(|r| r.what.contains("/etc/mail.cf")),
        "{report:#?}"
    );
    // A shell config script is walked, and a Perl one that sets nothing sets nothing: the
    // default stands.
    for config in [
        &b"#!/bin/sh\n. /usr/share/debconf/confmodule\n"[..],
        b"#!/usr/bin/perl -w\nuse Debconf::Client::ConfModule;\ninput('low', 'mail/name');\n",
    ] {
        p.members.insert("config".into(), config.to_vec());
        let (changes, _) = compute(&t, std::slice::from_ref(&p)).unwrap();
        assert_eq!(
            file(&changes, "etc/mail.cf").map(|(_, b)| b.as_slice()),
            Some(&b"myhostname = localhost\n"[..])
        );
    }
}

/// What a config script prints into a file is not applied (config scripts are walked to
/// learn their answers): it is listed with the file, never left out silently (iperf3's config
/// writes `/etc/default/iperf3` from its answer with `cat <<-EOF > $DEFAULT_FILE`).
#[test]
fn a_config_scripts_write_to_a_file_is_listed() {
    let config = b"#!/bin/sh\nset -e\nDEFAULT_FILE=\"/etc/default/iperf3\"\n\
        do_default() {\n\tcat <<-EOF > $DEFAULT_FILE\n\tSTART_DAEMON=\"$1\"\n\tEOF\n}\n\
        . /usr/share/debconf/confmodule\ndb_get iperf3/start_daemon\n\
        if [ \"$RET\" = true ]; then do_default yes; else do_default no; fi\necho done >/dev/null\nexit 0\n";
    let mut p = pkg("iperf3", "#!/bin/sh\nset -e\n");
    p.members.insert("config".into(), config.to_vec());
    p.members.insert(
        "templates".into(),
        b"Template: iperf3/start_daemon\nType: boolean\nDefault: false\nDescription: x\n".to_vec(),
    );
    let mut t = MemTree::new();
    t.dir("etc/default")
        .dir("usr/share/debconf")
        .file("usr/share/debconf/confmodule", b"db_get () { :; }\n");
    let (changes, report) = compute(&t, &[p]).unwrap();
    let listed: Vec<(&str, &str)> = report
        .iter()
        .map(|r| (r.script.as_str(), r.what.as_str()))
        .collect();
    assert_eq!(listed, [("config", "cat > /etc/default/iperf3")], "{report:#?}");
    assert!(changes.files.iter().all(|(e, _)| e.path != "etc/default/iperf3"));
}

/// The config script is walked once, right before its postinst, with the answers so far: what
/// it does that is not applied is listed from that walk (as `config`), along the branches the
/// answers decide (ejabberd's config validates its host name and asks again, recursively, only
/// when it is invalid: walked without answers, it recursed until the walk's bound). A Perl
/// config script is listed as not read.
#[test]
fn a_config_script_is_reported_along_the_answers_path() {
    let config = b"#!/bin/sh\nset -e\n. /usr/share/debconf/confmodule\n\
        ask() {\n  db_get app/host\n  if [ \"$RET\" != localhost ]; then db_input high app/host; db_go; ask; fi\n}\n\
        ask\ndb_get app/host\nif [ \"$RET\" = localhost ]; then frob --here; else touch /etc/app.flag; fi\n";
    let mut p = pkg("app", "#!/bin/sh\nset -e\n");
    p.members.insert("config".into(), config.to_vec());
    p.members.insert(
        "templates".into(),
        b"Template: app/host\nType: string\nDefault: localhost\nDescription: x\n".to_vec(),
    );
    let mut t = MemTree::new();
    t.dir("etc")
        .dir("usr/share/debconf")
        .file("usr/share/debconf/confmodule", b"db_get () { :; }\n");
    let (_, report) = compute(&t, &[p.clone()]).unwrap();
    let listed: Vec<(&str, &str)> = report
        .iter()
        .map(|r| (r.script.as_str(), r.what.as_str()))
        .collect();
    assert_eq!(listed, [("config", "frob --here")], "{report:#?}");
    // Not a shell script: listed as not read, and its answers are not known.
    p.members.insert("config".into(), b"#!/usr/bin/perl\n".to_vec());
    let (_, report) = compute(&t, &[p]).unwrap();
    assert!(
        report
            .iter()
            .any(|r| r.script == "config" && r.what.starts_with("non-shell script")),
        "{report:#?}"
    );
}

/// exim4-config's shape: its config reads an installed package's version with `dpkg -s` and
/// compares it (`dpkg --compare-versions`, dpkg's order), then takes the mail name from the
/// host's name and stores it with `db_set`; the postinst writes it to `/etc/mailname`. That file
/// belongs to the machine the image runs on: left out, listed as non-deterministic by nature
/// with the command that makes it, while a file from the templates' defaults is written.
#[test]
fn a_value_from_the_host_name_is_left_out_as_non_deterministic() {
    let config = "#!/bin/sh\nset -e\n\
        v=$(dpkg -s debconf | sed -ne '/^Version/s/^Version: //p')\n\
        if dpkg --compare-versions \"$v\" le 1.4; then exit 0; fi\n\
        . /usr/share/debconf/confmodule\n\
        db_get mail/name\nif [ -z \"$RET\" ]; then\n\
        name=\"$(hostname --fqdn 2>/dev/null)\" || name=\"$(hostname)\"\n  db_set mail/name \"$name\"\nfi\n";
    let postinst = "#!/bin/sh\nset -e\n. /usr/share/debconf/confmodule\n\
        db_get mail/name\necho $RET > /etc/mailname\ndb_get mail/kind\necho $RET > /etc/mailkind\n";
    let mut app = pkg("mail", postinst);
    app.members.insert("config".into(), config.as_bytes().to_vec());
    app.members.insert(
        "templates".into(),
        b"Template: mail/name\nType: string\nDescription: x\n\n\
          Template: mail/kind\nType: string\nDefault: local\nDescription: x\n"
            .to_vec(),
    );
    let mut debconf = pkg("debconf", "#!/bin/sh\n");
    debconf.version = "1.5.82".into();
    let mut t = MemTree::new();
    t.dir("etc")
        .dir("usr/share/debconf")
        .file("usr/share/debconf/confmodule", b"db_get () { :; }\n");
    let (changes, report) = compute(&t, &[debconf, app]).unwrap();
    assert!(file(&changes, "etc/mailname").is_none(), "{report:#?}");
    assert_eq!(
        file(&changes, "etc/mailkind").map(|(_, b)| b.as_slice()),
        Some(&b"local\n"[..]),
        "the config ran past its version check: {report:#?}"
    );
    let mailname: Vec<&NotEmulated> = report
        .iter()
        .filter(|r| r.what.contains("/etc/mailname"))
        .collect();
    assert_eq!(mailname.len(), 1, "{report:#?}");
    assert!(
        mailname[0].what.starts_with(commands::SKIPPED_NONDETERMINISTIC)
            && mailname[0].what.contains("dpkg-reconfigure mail"),
        "{report:#?}"
    );
}

/// open-iscsi's initiator name: `INAME=$(iscsi-iname -p …)` then `printf … "$INAME" >> FILE`. A
/// random value, like one from the host's name, belongs to the machine the image runs on: the
/// file is left out and listed as non-deterministic by nature. A name-based `uuidgen --sha1`
/// is not random.
#[test]
fn a_random_value_is_left_out_as_non_deterministic() {
    let postinst = "#!/bin/sh\nset -e\nNAMEFILE=/etc/iscsi/initiatorname.iscsi\n\
        INAME=$(iscsi-iname -p iqn.1993-08.org.debian:01)\nif [ -n \"$INAME\" ] ; then\n\
        printf \"InitiatorName=%s\\n\" \"$INAME\" >> $NAMEFILE\nfi\n\
        echo \"id $(head -c 8 /dev/urandom | od -An -tx1)\" > /etc/iscsi/id\n";
    let mut t = MemTree::new();
    t.dir("etc/iscsi");
    let (changes, report) = compute(&t, &[pkg("open-iscsi", postinst)]).unwrap();
    assert!(
        file(&changes, "etc/iscsi/initiatorname.iscsi").is_none(),
        "{report:#?}"
    );
    for path in ["/etc/iscsi/initiatorname.iscsi", "/etc/iscsi/id"] {
        let entries: Vec<&NotEmulated> = report.iter().filter(|r| r.what.contains(path)).collect();
        assert_eq!(entries.len(), 1, "{path}: {report:#?}");
        assert!(
            entries[0].what.starts_with(commands::SKIPPED_NONDETERMINISTIC)
                && entries[0].what.contains("a random value"),
            "{report:#?}"
        );
    }
    assert!(!shell::prints_random(&["uuidgen".into(), "--sha1".into()]));
    assert!(shell::prints_random(&["/usr/bin/uuidgen".into()]));
}

/// setupcon's writability probe: `if ! touch F || ! rm F; then …; fi`. touch runs (taken as
/// succeeding), so `! touch` fails and rm runs: nothing is left behind, and the branch for a
/// read-only directory is not taken (it is told as not walked).
#[test]
fn a_negated_command_that_ran_has_failed() {
    let postinst = "#!/bin/sh\nset -e\n\
        if ! touch /etc/c/rwtest 2>/dev/null || ! rm /etc/c/rwtest 2>/dev/null; then\n\
          save=''\n  mkdir /etc/readonly-fallback\nfi\n\
        ! touch /etc/c/second || rm /etc/c/second\n";
    let mut t = MemTree::new();
    t.dir("etc/c");
    let (changes, report) = compute(&t, &[pkg("p", postinst)]).unwrap();
    assert!(file(&changes, "etc/c/rwtest").is_none(), "{:?}", changes.files);
    assert!(file(&changes, "etc/c/second").is_none(), "{:?}", changes.files);
    assert!(file(&changes, "etc/readonly-fallback").is_none());
    assert!(
        report
            .iter()
            .any(|r| r.what.starts_with("mkdir /etc/readonly-fallback (not run")),
        "{report:#?}"
    );
}

/// A negated query keeps its status unknown: `if ! id NAME; then adduser …` still makes the
/// account on a fresh install (only file commands the walk carried out count as succeeded).
#[test]
fn a_negated_query_is_still_a_guess() {
    let postinst = "#!/bin/sh\nset -e\nif ! id svc; then\n  mkdir /etc/svc-made\nfi\n";
    let mut t = MemTree::new();
    t.dir("etc");
    let (changes, _) = compute(&t, &[pkg("p", postinst)]).unwrap();
    assert!(file(&changes, "etc/svc-made").is_some(), "{:?}", changes.files);
}

/// dictionaries-common's preinst: `dpkg-divert --package dictionaries-common --divert
/// /usr/share/dict/words.pre-dictionaries-common --rename /usr/share/dict/words` (no `--add`:
/// the default action). The link wamerican ships is moved to the new name, as `--rename`
/// does (and as dpkg unpacks it when wamerican comes later); a diversion without `--rename`
/// moves a file only when every package shipping it is unpacked in a later round.
#[test]
fn a_diversion_moves_another_packages_file_to_its_new_name() {
    let mut t = MemTree::new();
    t.dir("usr/share/dict")
        .dir("var/lib/dpkg")
        .symlink("usr/share/dict/words", "american-english")
        .file("usr/share/dict/american-english", b"a\n")
        .file("usr/share/doc/x/early", b"e\n")
        .file("usr/share/doc/x/late", b"l\n");
    let mut common = pkg("dictionaries-common", "#!/bin/sh\n");
    common.members.insert(
        "preinst".into(),
        b"#!/bin/sh\nset -e\ncase \"$1\" in install|upgrade)\n    dpkg-divert --package dictionaries-common \\\n      --divert /usr/share/dict/words.pre-dictionaries-common  \\\n      --rename /usr/share/dict/words\n    ;;\nesac\n\
          dpkg-divert --package dictionaries-common --add /usr/share/doc/x/early\n\
          dpkg-divert --package dictionaries-common --add /usr/share/doc/x/late\n"
            .to_vec(),
    );
    common.round = Round::Early;
    let mut wamerican = pkg("wamerican", "#!/bin/sh\n");
    wamerican.files = vec![
        "usr/share/dict/words".into(),
        "usr/share/dict/american-english".into(),
        "usr/share/doc/x/late".into(),
    ];
    let mut early = pkg("early", "#!/bin/sh\n");
    early.files = vec!["usr/share/doc/x/early".into()];
    early.round = Round::Early;
    let (changes, report) = compute(&t, &[early, common, wamerican]).unwrap();
    assert!(report.is_empty(), "{report:?}");
    let (moved, _) = file(&changes, "usr/share/dict/words.pre-dictionaries-common").expect("moved");
    assert_eq!(
        moved.kind,
        EntryKind::Symlink {
            target: "american-english".into()
        }
    );
    assert!(changes.removed.iter().any(|r| r == "usr/share/dict/words"));
    // Unpacked later, in the Pending round: at the diverted name.
    assert!(file(&changes, "usr/share/doc/x/late.distrib").is_some());
    assert!(changes.removed.iter().any(|r| r == "usr/share/doc/x/late"));
    // Unpacked in the diverting package's own round, before it: left where it is.
    assert!(file(&changes, "usr/share/doc/x/early.distrib").is_none());
    assert_eq!(
        file(&changes, "var/lib/dpkg/diversions").map(|f| String::from_utf8_lossy(&f.1).lines().count()),
        Some(9)
    );
}

/// A conffile is in place once its package is configured (dpkg unpacks it as `.dpkg-new`): a
/// postinst configured before that package does not see it, one configured after does, and its
/// own package's postinst does.
#[test]
fn conffiles_appear_when_their_package_is_configured() {
    let mut t = MemTree::new();
    t.file("etc/b.conf", b"b\n").dir("var/lib");
    let looks = |name: &str| {
        pkg(
            name,
            &format!("#!/bin/sh\nif [ -e /etc/b.conf ]; then touch /var/lib/{name}-saw-b; fi\n"),
        )
    };
    let mut b = looks("b");
    b.members.insert("conffiles".into(), b"/etc/b.conf\n".to_vec());
    let (c, report) = compute(&t, &[looks("a"), b, looks("c")]).unwrap();
    assert!(report.is_empty(), "{report:?}");
    let made: Vec<&str> = c
        .files
        .iter()
        .map(|(e, _)| e.path.as_str())
        .filter(|p| p.ends_with("-saw-b"))
        .collect();
    assert_eq!(made, ["var/lib/b-saw-b", "var/lib/c-saw-b"]);
    assert!(
        !c.removed.iter().any(|p| p == "etc/b.conf") && !c.files.iter().any(|(e, _)| e.path == "etc/b.conf"),
        "the conffile itself is the package's, untouched: {c:?}"
    );
}

/// A branch taken on a test of values the walk does not know (an answer a Perl config sets) is
/// walked as holding, and what it changes is reported as applied on a guess; a branch whose
/// command changes nothing is not reported.
#[test]
fn what_a_guessed_test_applies_is_reported() {
    let postinst = "#!/bin/sh\nset -e\n. /usr/share/debconf/confmodule\n\
        db_get web/writeconf\nif [ \"$RET\" = true ]; then\n  chmod 0775 /etc/web\nfi\n\
        if [ \"$RET\" = false ]; then\n  chmod 0775 /etc/web\nfi\n";
    let mut p = pkg("web", postinst);
    p.members.insert(
        "config".into(),
        b"#!/usr/bin/perl -w\nuse Debconf::Client::ConfModule;\nset('web/writeconf', $answer);\n".to_vec(),
    );
    p.members.insert(
        "templates".into(),
        b"Template: web/writeconf\nType: boolean\nDefault: false\nDescription: x\n".to_vec(),
    );
    let mut t = MemTree::new();
    t.dir("etc/web")
        .dir("usr/share/debconf")
        .file("usr/share/debconf/confmodule", b"db_get () { :; }\n");
    let (changes, report) = compute(&t, &[p]).unwrap();
    assert_eq!(file(&changes, "etc/web").map(|(e, _)| e.mode), Some(0o775));
    let guesses: Vec<&str> = report
        .iter()
        .map(|r| r.what.as_str())
        .filter(|w| w.contains("applied on a guess"))
        .collect();
    assert_eq!(guesses.len(), 1, "{report:#?}");
    assert!(
        guesses[0]
            .starts_with("chmod 0775 /etc/web (applied on a guess: whether `[ \"$RET\" = true ]` holds"),
        "{guesses:?}"
    );
}
