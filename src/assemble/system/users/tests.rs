//! Tests of the account commands against base-passwd's files.

use super::super::Overlay;
use super::super::testutil::MemTree;
use super::adduser::parse_adduser;
use super::useradd::Usermod;
use super::*;

/// base-passwd's master files after `shadowconfig on` (as `accounts` writes them).
fn base() -> MemTree {
    let mut t = MemTree::new();
    t.file(
        "etc/passwd",
        b"root:x:0:0:root:/root:/bin/bash\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n",
    )
    .file(
        "etc/group",
        b"root:x:0:\nshadow:x:42:\nusers:x:100:\nnogroup:x:65534:\n",
    )
    .file(
        "etc/shadow",
        b"root:*:19000:0:99999:7:::\nnobody:*:19000:0:99999:7:::\n",
    )
    .file("etc/gshadow", b"root:*::\nshadow:*::\nusers:*::\nnogroup:*::\n")
    .dir("var/lib")
    .dir("run");
    // The tools, as adduser and passwd ship them: a script runs only what the image has.
    for tool in ["adduser", "addgroup", "useradd", "groupadd", "usermod", "chfn"] {
        let path = format!("usr/sbin/{tool}");
        t.file(&path, b"#!/bin/true\n").mode(&path, 0o755);
    }
    t
}

fn run(t: &MemTree, cmds: &[&str]) -> MemTree {
    let mut o = Overlay::new(t);
    for c in cmds {
        let argv: Vec<String> = c.split(' ').map(str::to_owned).collect();
        apply(&mut o, &argv[0], &argv[1..], 19500, LogInit::Unchanged).unwrap_or_else(|e| panic!("{c}: {e}"));
    }
    let (files, removed) = o.into_changes();
    let mut m = t.clone();
    m.apply(&Changes { files, removed });
    m
}

fn tail(m: &MemTree, path: &str, n: usize) -> Vec<String> {
    let t = m.text(path);
    let lines: Vec<String> = t.lines().map(str::to_owned).collect();
    lines[lines.len() - n..].to_vec()
}

/// bullseye's useradd (shadow 4.8.1) resets a new uid's records in lastlog and faillog,
/// extending them: after `_apt` (uid 100, as adduser 3.118 makes it) a dpkg install has 101
/// zeroed records in each (3232 and 29492 bytes on amd64, the fidelity reference's sizes); `-l`
/// leaves them alone; bookworm's (4.13) changes nothing; an architecture whose record sizes are
/// not known is said.
#[test]
fn useradd_resets_the_log_records_as_its_version_does() {
    let mut t = base();
    t.file("var/log/faillog", b"").file("var/log/lastlog", b"");
    let records = LogInit::Records {
        faillog: 32,
        lastlog: 292,
    };
    let mut o = Overlay::new(&t);
    let argv = |s: &str| s.split(' ').map(str::to_owned).collect::<Vec<_>>();
    apply(
        &mut o,
        "useradd",
        &argv("-d /nonexistent -g nogroup -s /usr/sbin/nologin -u 100 _apt"),
        1,
        records,
    )
    .unwrap();
    apply(&mut o, "useradd", &argv("-l -u 200 quiet"), 1, records).unwrap();
    let size = |o: &Overlay<'_>, f: &str| {
        o.read(f)
            .and_then(Result::ok)
            .map(|b| (b.len(), b.iter().all(|&x| x == 0)))
    };
    assert_eq!(size(&o, "var/log/faillog"), Some((3232, true)));
    assert_eq!(size(&o, "var/log/lastlog"), Some((29492, true)));
    let mut o = Overlay::new(&t);
    apply(&mut o, "useradd", &argv("-u 100 _apt"), 1, LogInit::Unchanged).unwrap();
    assert_eq!(size(&o, "var/log/lastlog"), Some((0, true)));
    let mut o = Overlay::new(&t);
    let err = apply(&mut o, "useradd", &argv("-u 100 _apt"), 1, LogInit::Unknown).unwrap_err();
    assert!(
        err.contains("/var/log/faillog and /var/log/lastlog for uid [100]"),
        "{err}"
    );
    assert!(
        o.read("etc/passwd")
            .and_then(Result::ok)
            .is_some_and(|p| String::from_utf8_lossy(&p).contains("_apt:x:100"))
    );
    // Without the files, nothing to reset, whatever the architecture.
    let bare = base();
    let mut o = Overlay::new(&bare);
    apply(&mut o, "useradd", &argv("-u 100 _apt"), 1, LogInit::Unknown).unwrap();
    assert!(o.entry("var/log/lastlog").is_none());
}

#[test]
fn apt_system_user_as_adduser_makes_it() {
    // apt's postinst, verbatim.
    let m = run(
        &base(),
        &["adduser --force-badname --system --home /nonexistent --no-create-home --quiet _apt"],
    );
    assert_eq!(
        tail(&m, "etc/passwd", 1),
        ["_apt:x:100:65534::/nonexistent:/usr/sbin/nologin"]
    );
    assert_eq!(tail(&m, "etc/shadow", 1), ["_apt:!:19500::::::"]);
    // No group of its own: nogroup; group files untouched.
    assert_eq!(m.text("etc/group"), base().text("etc/group"));
    assert!(!m.entries.contains_key("nonexistent"));
}

#[test]
fn system_ids_are_the_lowest_free_ascending() {
    let m = run(
        &base(),
        &[
            "adduser --system --quiet a",
            // uid 101; its group takes the lowest free gid (101: 100 is `users`).
            "adduser --system --group --quiet b",
            "addgroup --system --quiet ssl-cert",
            "adduser --system --ingroup ssl-cert --quiet c",
            // An existing system user is success, nothing changes.
            "adduser --system --quiet a",
        ],
    );
    assert_eq!(
        tail(&m, "etc/passwd", 3),
        [
            "a:x:100:65534::/nonexistent:/usr/sbin/nologin",
            "b:x:101:101::/nonexistent:/usr/sbin/nologin",
            "c:x:102:102::/nonexistent:/usr/sbin/nologin",
        ]
    );
    assert_eq!(tail(&m, "etc/group", 2), ["b:x:101:", "ssl-cert:x:102:"]);
    assert_eq!(tail(&m, "etc/gshadow", 2), ["b:!::", "ssl-cert:!::"]);
}

#[test]
fn adduser_options_home_shell_gecos_membership() {
    // postgresql-common's calls.
    let mut t = base();
    t.dir("var/lib/postgresql");
    let m = run(
        &t,
        &[
            "addgroup --quiet --system ssl-cert",
            "adduser --system --quiet --home /var/lib/postgresql --no-create-home --shell /bin/bash --group --gecos PostgreSQL_administrator postgres",
            "adduser --quiet postgres ssl-cert",
            "adduser --quiet postgres ssl-cert",
            "adduser --quiet postgres postgres",
        ],
    );
    assert_eq!(
        tail(&m, "etc/passwd", 1),
        ["postgres:x:100:102:PostgreSQL_administrator,,,:/var/lib/postgresql:/bin/bash"]
    );
    assert_eq!(
        tail(&m, "etc/group", 2),
        ["ssl-cert:x:101:postgres", "postgres:x:102:"]
    );
    assert_eq!(
        tail(&m, "etc/gshadow", 2),
        ["ssl-cert:!::postgres", "postgres:!::"]
    );
    // --gecos with commas: chfn -f/-r then -w/-h.
    let m = run(&base(), &["adduser --system --gecos=A,B,C,D x"]);
    assert_eq!(
        tail(&m, "etc/passwd", 1),
        ["x:x:100:65534:A,B,C,D:/nonexistent:/usr/sbin/nologin"]
    );
}

#[test]
fn adduser_makes_the_home_owned_by_the_user() {
    let m = run(
        &base(),
        &["adduser --system --group --home /var/lib/svc/data svc"],
    );
    let (e, _) = &m.entries["var/lib/svc/data"];
    assert_eq!(
        (e.uid, e.gid, e.mode, e.uname.as_str(), e.gname.as_str()),
        (100, 101, 0o755, "svc", "svc")
    );
    let (p, _) = &m.entries["var/lib/svc"];
    assert_eq!((p.uid, p.gid, p.mode), (0, 0, 0o755));
    // adduser.conf's SYS_DIR_MODE and FIRST_SYSTEM_UID are honoured.
    let mut t = base();
    t.file(
        "etc/adduser.conf",
        b"# comment\nSYS_DIR_MODE=0750\nFIRST_SYSTEM_UID = 200\n",
    );
    let m = run(&t, &["adduser --system --home /srv/x x"]);
    assert_eq!(m.entries["srv/x"].0.mode, 0o750);
    assert_eq!(
        tail(&m, "etc/passwd", 1),
        ["x:x:200:65534::/srv/x:/usr/sbin/nologin"]
    );
    // An existing home is left alone.
    let mut t = base();
    t.dir("srv/y");
    let m = run(&t, &["adduser --system --home /srv/y y"]);
    assert_eq!(m.entries["srv/y"].0.uid, 0);
}

#[test]
fn adduser_uid_gid_and_bad_names() {
    let m = run(&base(), &["adduser --system --uid 150 --gid 100 x"]);
    assert_eq!(
        tail(&m, "etc/passwd", 1),
        ["x:x:150:100::/nonexistent:/usr/sbin/nologin"]
    );
    let b = base();
    let mut o = Overlay::new(&b);
    let argv = |s: &str| s.split(' ').map(str::to_owned).collect::<Vec<_>>();
    assert!(apply(&mut o, "adduser", &argv("--system Bad"), 1, LogInit::Unchanged).is_err());
    assert!(
        apply(
            &mut o,
            "adduser",
            &argv("--system --force-badname Bad"),
            1,
            LogInit::Unchanged
        )
        .is_ok()
    );
    assert!(
        apply(
            &mut o,
            "adduser",
            &argv("--system --group --gid 5 x"),
            1,
            LogInit::Unchanged
        )
        .is_err()
    );
    // The root user exists and is not a system user: adduser exits without a change (what
    // apt's `adduser … _apt || true` meets with base-passwd's static _apt, uid 42).
    let before = o.read("etc/passwd").map(|r| r.unwrap());
    assert!(apply(&mut o, "adduser", &argv("--system root"), 1, LogInit::Unchanged).is_ok());
    assert!(apply(&mut o, "useradd", &argv("-r root"), 1, LogInit::Unchanged).is_ok());
    assert_eq!(o.read("etc/passwd").map(|r| r.unwrap()), before);
}

#[test]
fn normal_adduser_takes_a_pair_from_1000() {
    let m = run(
        &base(),
        &["adduser --disabled-password --gecos Dev --home /home/dev dev"],
    );
    assert_eq!(
        tail(&m, "etc/passwd", 1),
        ["dev:x:1000:1000:Dev,,,:/home/dev:/bin/bash"]
    );
    assert_eq!(tail(&m, "etc/shadow", 1), ["dev:!:19500::::::"]);
    assert_eq!(m.entries["home/dev"].0.mode, 0o700);
}

#[test]
fn useradd_and_groupadd_allocate_from_the_top() {
    let mut t = base();
    t.file(
        "etc/login.defs",
        b"UMASK\t\t022\nUID_MIN 1000\nUSERGROUPS_ENAB yes\nPASS_MAX_DAYS\t99999\nPASS_MIN_DAYS\t0\nPASS_WARN_AGE\t7\n",
    );
    let m = run(
        &t,
        &[
            "groupadd -r grp",
            "useradd -r -s /usr/sbin/nologin -d /var/lib/u -M -c User u",
            "useradd --system -g grp -G users v",
            "useradd -m -u 1500 w",
        ],
    );
    assert_eq!(
        tail(&m, "etc/passwd", 3),
        [
            "u:x:999:998:User:/var/lib/u:/usr/sbin/nologin",
            "v:x:998:999::/home/v:/bin/sh",
            "w:x:1500:1500::/home/w:/bin/sh",
        ]
    );
    assert_eq!(
        tail(&m, "etc/group", 5),
        [
            "users:x:100:v",
            "nogroup:x:65534:",
            "grp:x:999:",
            "u:x:998:",
            "w:x:1500:"
        ]
    );
    // -r: empty aging fields; otherwise login.defs' values.
    assert_eq!(
        tail(&m, "etc/shadow", 2),
        ["v:!:19500::::::", "w:!:19500:0:99999:7:::"]
    );
    let h = &m.entries["home/w"].0;
    assert_eq!((h.uid, h.gid, h.mode), (1500, 1500, 0o755));
    assert!(!m.entries.contains_key("var/lib/u"));
}

#[test]
fn shadow_allocation_order() {
    // System: below the lowest used id of the range, then the gaps from the top.
    assert_eq!(shadow_allocate(&[0, 65534], 101, 999, true), Some(999));
    assert_eq!(shadow_allocate(&[999, 998], 101, 999, true), Some(997));
    assert_eq!(shadow_allocate(&[500, 999], 101, 999, true), Some(499));
    assert_eq!(shadow_allocate(&[101, 999], 101, 999, true), Some(998));
    // Others: above the highest used one, then the gaps from the bottom.
    assert_eq!(shadow_allocate(&[1000, 1005], 1000, 60000, false), Some(1006));
    assert_eq!(shadow_allocate(&[60000], 1000, 60000, false), Some(1000));
    assert_eq!(shadow_allocate(&[101, 102], 101, 102, true), None);
    // adduser: the lowest free id, ascending.
    assert_eq!(adduser_allocate(|i| i == 100 || i == 102, 100, 999), Some(101));
    assert_eq!(adduser_allocate(|_| true, 100, 999), None);
}

#[test]
fn option_forms() {
    let v = |s: &str| s.split(' ').map(str::to_owned).collect::<Vec<_>>();
    let c = parse_useradd(&v("-rMs /bin/false -d/x -u 5 -gstaff -G a,b -c C n")).unwrap();
    assert_eq!(
        (
            c.system,
            c.create_home,
            c.shell.as_deref(),
            c.home.as_deref(),
            c.uid
        ),
        (true, false, Some("/bin/false"), Some("/x"), Some(5))
    );
    assert_eq!(
        (c.group.as_deref(), c.groups.clone(), c.comment.as_deref()),
        (Some("staff"), v("a b"), Some("C"))
    );
    let c = parse_useradd(&v("--system --shell=/bin/sh --home-dir /h --create-home n")).unwrap();
    assert!(c.system && c.create_home);
    assert!(parse_useradd(&v("-Z x n")).is_err());
    let g = parse_groupadd(&v("-r -g 77 grp")).unwrap();
    assert_eq!((g.system, g.gid, g.name.as_str()), (true, Some(77), "grp"));
    let a = parse_adduser(&v("--sys --no-create -q --home=/h --shell /s --comment x n")).unwrap();
    assert!(a.system && a.no_create_home);
    assert_eq!(
        (a.home.as_deref(), a.shell.as_deref(), a.comment.as_deref()),
        (Some("/h"), Some("/s"), Some("x"))
    );
    assert!(parse_adduser(&v("--g 1 n")).is_err(), "ambiguous prefix");
    assert_eq!(
        parse_usermod(&v("-a -G g1,g2 u")),
        Some(Usermod {
            user: "u".into(),
            groups: Some(v("g1 g2")),
            append: true,
            ..Default::default()
        })
    );
    assert_eq!(
        parse_usermod(&v("-G g u")).and_then(|c| c.groups),
        Some(v("g")),
        "without -a: the list replaces the user's groups"
    );
    assert_eq!(
        parse_usermod(&v("-c comment -s /bin/false -d /h u")).map(|c| c.fields),
        Some(super::UserFields {
            comment: Some("comment".into()),
            home: Some("/h".into()),
            shell: Some("/bin/false".into()),
            ..Default::default()
        })
    );
    let unlock = parse_usermod(&["-U".into(), "-e".into(), String::new(), "ceph".into()]).unwrap();
    assert!(unlock.unlock && !unlock.lock && unlock.expire.as_deref() == Some(""));
    for refused in ["-a -g g u", "-L -U u", "u", "-l new u", "-u 5 u", "-m u"] {
        assert_eq!(parse_usermod(&v(refused)), None, "{refused}");
    }
    assert!(handles("adduser", &[]) && handles("usermod", &v("-L u")) && !handles("usermod", &v("-l x u")));
}

/// The account files before the sysusers runs of `tests/data/sysusers` (shadow files root:shadow
/// 0640, as pwconv leaves them).
fn sysusers_base() -> MemTree {
    let mut t = MemTree::new();
    t.file(
        "etc/passwd",
        b"root:x:0:0:root:/root:/bin/bash\ndaemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n",
    )
    .file(
        "etc/group",
        b"root:x:0:\ndaemon:x:1:\nadm:x:4:\nshadow:x:42:\nusers:x:100:\nnogroup:x:65534:\n",
    )
    .file(
        "etc/shadow",
        b"root:*:19000:0:99999:7:::\ndaemon:*:19000:0:99999:7:::\nnobody:*:19000:0:99999:7:::\n",
    )
    .file("etc/gshadow", b"root:*::\ndaemon:*::\nadm:*::\nshadow:*::\nusers:*::\nnogroup:*::\n");
    for f in ["etc/shadow", "etc/gshadow"] {
        if let Some((e, _)) = t.entries.get_mut(f) {
            (e.mode, e.gid, e.gname) = (0o640, 42, "shadow".into());
        }
    }
    macro_rules! conf {
        ($($name:literal),*) => {
            $(t.file(
                concat!("usr/lib/sysusers.d/", $name),
                include_bytes!(concat!("../../../../tests/data/sysusers/conf/", $name)),
            );)*
        };
    }
    conf!(
        "basic.conf",
        "systemd-journal.conf",
        "systemd-network.conf",
        "systemd-timesync.conf",
        "polkitd.conf",
        "custom.conf"
    );
    t
}

#[test]
fn systemd_sysusers_matches_the_real_tool() {
    // systemd's postinst (dh_installsysusers), then timesyncd's and polkitd's calls and a file
    // with the other line forms; the expected files are what systemd-sysusers 252 wrote.
    let t = sysusers_base();
    let m = run(
        &t,
        &[
            "systemd-sysusers basic.conf systemd-journal.conf systemd-network.conf",
            "systemd-sysusers systemd-timesync.conf polkitd.conf custom.conf",
        ],
    );
    // `run` uses day 19500; the real run's day was 20789.
    let fix = |s: String| s.replace(":19500:", ":20789:");
    macro_rules! expect {
        ($($f:literal),*) => {
            $(assert_eq!(
                fix(m.text(concat!("etc/", $f))),
                include_str!(concat!("../../../../tests/data/sysusers/expected/", $f)),
                "etc/{}", $f
            );)*
        };
    }
    expect!(
        "passwd", "group", "shadow", "gshadow", "passwd-", "group-", "shadow-", "gshadow-"
    );
    // Backups keep the file's owner and mode; the lock file stays.
    let (e, _) = &m.entries["etc/shadow-"];
    assert_eq!((e.mode, e.gid), (0o640, 42));
    let (e, _) = &m.entries["etc/.pwd.lock"];
    assert_eq!((e.mode, e.uid), (0o600, 0));
}

#[test]
fn systemd_sysusers_without_arguments_reads_every_file_and_etc_wins() {
    let mut t = sysusers_base();
    // /etc/sysusers.d hides the same name in /usr/lib; files are read sorted by name.
    t.file("etc/sysusers.d/polkitd.conf", b"u polkitd 700 \"local polkit\"\n");
    let m = run(&t, &["systemd-sysusers"]);
    let passwd = m.text("etc/passwd");
    assert!(
        passwd.contains("polkitd:x:700:700:local polkit:/:/usr/sbin/nologin\n"),
        "{passwd}"
    );
    // basic.conf before custom.conf before systemd-*.conf.
    let names: Vec<&str> = passwd
        .lines()
        .map(|l| l.split(':').next().unwrap_or(""))
        .collect();
    let at = |n: &str| names.iter().position(|x| *x == n).unwrap_or(usize::MAX);
    assert!(
        at("bin") < at("myuser") && at("myuser") < at("systemd-network"),
        "{passwd}"
    );
    // A second run finds everything there: nothing changes.
    let again = run(&m, &["systemd-sysusers"]);
    assert_eq!(again.text("etc/passwd"), m.text("etc/passwd"));
    assert_eq!(again.text("etc/passwd-"), m.text("etc/passwd-"));
}

#[test]
fn systemd_sysusers_inline_and_unsupported_forms() {
    let m = run(&base(), &["systemd-sysusers --inline"]);
    assert_eq!(m.text("etc/group"), base().text("etc/group"));
    let b = base();
    let mut o = Overlay::new(&b);
    let argv = |s: &str| s.split(' ').map(str::to_owned).collect::<Vec<_>>();
    assert!(
        apply(
            &mut o,
            "systemd-sysusers",
            &argv("--root=/srv x.conf"),
            1,
            LogInit::Unchanged
        )
        .is_err()
    );
    assert!(
        apply(
            &mut o,
            "systemd-sysusers",
            &argv("missing.conf"),
            1,
            LogInit::Unchanged
        )
        .is_err()
    );
    assert!(!handles("systemd-sysusers", &argv("--image=/x")));
}

#[test]
fn shadow_tools_leave_backups_of_what_they_changed() {
    // apt's postinst on base: useradd writes passwd and shadow, not the group files.
    let m = run(
        &base(),
        &["adduser --force-badname --system --home /nonexistent --no-create-home --quiet _apt"],
    );
    assert_eq!(m.text("etc/passwd-"), base().text("etc/passwd"));
    assert_eq!(m.text("etc/shadow-"), base().text("etc/shadow"));
    assert!(!m.entries.contains_key("etc/group-"));
    assert!(!m.entries.contains_key("etc/gshadow-"));
    assert!(m.entries.contains_key("etc/.pwd.lock"));
    // adduser --group: groupadd, useradd, then chfn for --gecos, each its own run: passwd- is
    // passwd as useradd left it (before chfn), group- is group before groupadd.
    let m = run(&base(), &["adduser --system --group --gecos Svc svc"]);
    let passwd_minus = m.text("etc/passwd-");
    assert!(
        passwd_minus.ends_with("svc:x:100:101::/nonexistent:/usr/sbin/nologin\n"),
        "{passwd_minus}"
    );
    assert_eq!(m.text("etc/group-"), base().text("etc/group"));
    // Nothing to do (the user exists): no backup, no lock.
    let mut t = base();
    t.file("etc/adduser.conf", b"");
    let first = run(&t, &["adduser --system --quiet a"]);
    let again = run(&first, &["adduser --system --quiet a"]);
    assert_eq!(again.text("etc/passwd-"), first.text("etc/passwd-"));
    let untouched = run(&base(), &["adduser --system --quiet nobody"]);
    assert!(!untouched.entries.contains_key("etc/passwd-"));
    assert!(!untouched.entries.contains_key("etc/.pwd.lock"));
}

/// `getent DB KEY…` as a condition answers from the account files: by name, by number in
/// passwd and group, every key needed; other databases are the runtime's (not answered).
#[test]
fn getent_answers_from_the_account_files() {
    let t = base();
    let q = |s: &str| getent(&t, &s.split(' ').map(str::to_owned).collect::<Vec<_>>());
    assert_eq!(q("group nogroup"), Some(true));
    assert_eq!(q("group 65534"), Some(true));
    assert_eq!(q("group crontab"), Some(false));
    assert_eq!(q("passwd root nobody"), Some(true));
    assert_eq!(q("passwd root _apt"), Some(false));
    assert_eq!(q("shadow nobody"), Some(true));
    assert_eq!(q("shadow 0"), Some(false), "shadow has no numbers");
    assert_eq!(q("passwd"), Some(true), "listing succeeds");
    assert_eq!(q("hosts localhost"), None);
}

/// tor's postinst: the account is made only when `uid=`getent passwd debian-tor | cut -d ":"
/// -f 3`` comes back empty; the directories are then given to it. A second run finds it (the
/// home check passes) and makes nothing twice.
#[test]
fn an_account_made_when_getents_printed_entry_is_empty() {
    let mut t = base();
    t.dir("var/lib/tor");
    t.dir("var/log/tor");
    let script = "#!/bin/sh -e\nuid=`getent passwd debian-tor | cut -d \":\" -f 3`\n\
                  home=`getent passwd debian-tor | cut -d \":\" -f 6`\n\
                  if [ \"$uid\" ]; then\n\tif [ \"$home\" = \"/var/lib/tor\" ]; then\n\t\t:\n\telse\n\t\texit 1\n\tfi\n\
                  else\n\tadduser --quiet --system --disabled-password --home /var/lib/tor --no-create-home \\\n\
                  \t\t--shell /bin/false --group debian-tor\nfi\n\
                  chown debian-tor:debian-tor /var/lib/tor\nchmod 02700 /var/lib/tor\n";
    let pkg = super::super::testutil::with_postinst("tor", script);
    let (changes, report) = super::super::files::compute(&t, std::slice::from_ref(&pkg)).unwrap();
    assert!(report.is_empty(), "{report:?}");
    let mut m = t.clone();
    m.apply(&changes);
    let passwd = m.text("etc/passwd");
    let line = passwd
        .lines()
        .find(|l| l.starts_with("debian-tor:"))
        .unwrap_or_else(|| panic!("no debian-tor in\n{passwd}"));
    assert!(line.ends_with(":/var/lib/tor:/bin/false"), "{line}");
    let uid: u32 = line.split(':').nth(2).and_then(|u| u.parse().ok()).unwrap_or(0);
    let (dir, _) = &m.entries["var/lib/tor"];
    assert_eq!((dir.mode & 0o7777, dir.uid), (0o2700, uid));
    // Run again over the result: the account is found, nothing changes.
    let (again, report) = super::super::files::compute(&m, &[pkg]).unwrap();
    assert!(report.is_empty(), "{report:?}");
    let mut n = m.clone();
    n.apply(&again);
    assert_eq!(n.text("etc/passwd"), passwd);
}

/// nfs-common's postinst: `chown statd: DIR` gives DIR the user and the user's login group
/// (`nogroup` for a system user made without `--group`).
#[test]
fn chown_user_colon_gives_the_login_group() {
    let mut t = base();
    t.dir("var/lib/nfs/sm");
    let script = "#!/bin/sh\nset -e\nif ! getent passwd statd >/dev/null; then\n    adduser --system --home /var/lib/nfs --no-create-home statd\nfi\n\
                  chown statd: /var/lib/nfs/sm\n";
    let pkg = super::super::testutil::with_postinst("nfs-common", script);
    let (changes, report) = super::super::files::compute(&t, &[pkg]).unwrap();
    assert!(report.is_empty(), "{report:?}");
    let mut m = t.clone();
    m.apply(&changes);
    let statd = m.text("etc/passwd");
    let statd = statd
        .lines()
        .find(|l| l.starts_with("statd:"))
        .unwrap_or_default()
        .to_owned();
    let uid: u32 = statd.split(':').nth(2).and_then(|u| u.parse().ok()).unwrap_or(0);
    let gid: u32 = statd.split(':').nth(3).and_then(|g| g.parse().ok()).unwrap_or(0);
    assert_eq!(gid, 65534, "{statd}");
    let (dir, _) = &m.entries["var/lib/nfs/sm"];
    assert_eq!((dir.uid, dir.gid, dir.gname.as_str()), (uid, 65534, "nogroup"));
}

/// `usermod -g GROUP USER`: another login group rewrites passwd (with its backup `passwd-`); the
/// group the user already has changes nothing, not even the lock.
#[test]
fn usermod_g_changes_the_login_group() {
    let t = base();
    let made = run(
        &t,
        &["adduser --system --quiet varnishlog", "addgroup --system varnish"],
    );
    let passwd_before = made.text("etc/passwd");
    let changed = run(&made, &["usermod -g varnish varnishlog"]);
    let gid = changed
        .text("etc/group")
        .lines()
        .find(|l| l.starts_with("varnish:"))
        .and_then(|l| l.split(':').nth(2).map(str::to_owned))
        .unwrap_or_default();
    let line = changed.text("etc/passwd");
    let line = line
        .lines()
        .find(|l| l.starts_with("varnishlog:"))
        .unwrap_or_default()
        .to_owned();
    assert_eq!(line.split(':').nth(3), Some(gid.as_str()), "{line}");
    assert_eq!(changed.text("etc/passwd-"), passwd_before);
    assert_eq!(
        changed.text("etc/shadow"),
        made.text("etc/shadow"),
        "shadow is not written"
    );

    let again = run(&changed, &["usermod -g varnish varnishlog"]);
    assert_eq!(again.text("etc/passwd"), changed.text("etc/passwd"));
    assert_eq!(again.text("etc/passwd-"), changed.text("etc/passwd-"));
}

/// lightdm's postinst: `usermod -c`, `-d`, `-g` and `-s` one after the other. A value equal to the
/// current one is no change (nothing written); each change rewrites passwd with its backup, so
/// `passwd-` holds the line from before the last one (the shell).
#[test]
fn usermod_sets_comment_home_and_shell() {
    let t = base();
    let made = run(
        &t,
        &[
            "addgroup --system lightdm",
            "adduser --system --ingroup lightdm --home /var/lib/lightdm lightdm",
        ],
    );
    let mut o = Overlay::new(&made);
    for argv in [
        vec!["-c", "Light Display Manager", "lightdm"],
        vec!["-d", "/var/lib/lightdm/", "lightdm"],
        vec!["-g", "lightdm", "lightdm"],
        vec!["-s", "/bin/false", "lightdm"],
    ] {
        let args: Vec<String> = argv.iter().map(|a| a.to_string()).collect();
        apply(&mut o, "usermod", &args, 19500, LogInit::Unchanged)
            .unwrap_or_else(|e| panic!("{argv:?}: {e}"));
    }
    let (files, removed) = o.into_changes();
    let mut m = made.clone();
    m.apply(&Changes { files, removed });
    let line = |path: &str| {
        m.text(path)
            .lines()
            .find(|l| l.starts_with("lightdm:"))
            .unwrap_or_default()
            .to_owned()
    };
    assert_eq!(
        line("etc/passwd"),
        "lightdm:x:100:101:Light Display Manager:/var/lib/lightdm:/bin/false"
    );
    assert_eq!(
        line("etc/passwd-"),
        "lightdm:x:100:101:Light Display Manager:/var/lib/lightdm:/usr/sbin/nologin"
    );
    assert_eq!(
        m.text("etc/shadow"),
        made.text("etc/shadow"),
        "shadow is not written"
    );
    // Nothing to change: passwd and its backup stay as they are.
    let again = run(&m, &["usermod -s /bin/false lightdm"]);
    assert_eq!(again.text("etc/passwd"), m.text("etc/passwd"));
    assert_eq!(again.text("etc/passwd-"), m.text("etc/passwd-"));
}

/// dh-sysuser's `usermod --move-home --home /nonexistent USER` after `useradd --system USER`
/// (home /home/USER, never made): nothing to move, so only the field changes; a home that is
/// there to move, a new home that exists, and `-m` without `-d` are refused.
#[test]
fn usermod_move_home_with_nothing_to_move_changes_the_field() {
    let t = base();
    let made = run(&t, &["useradd --system --shell /usr/sbin/nologin _runit-log"]);
    let m = run(&made, &["usermod --move-home --home /nonexistent _runit-log"]);
    let line = m
        .text("etc/passwd")
        .lines()
        .find(|l| l.starts_with("_runit-log:"))
        .unwrap_or_default()
        .to_owned();
    assert!(line.ends_with(":/nonexistent:/usr/sbin/nologin"), "{line}");
    // The same home again: no change, nothing to move.
    let again = run(&m, &["usermod -m -d /nonexistent/ _runit-log"]);
    assert_eq!(again.text("etc/passwd"), m.text("etc/passwd"));

    let refused = |tree: &MemTree, argv: &[&str]| {
        let mut o = Overlay::new(tree);
        let args: Vec<String> = argv.iter().map(|a| a.to_string()).collect();
        apply(&mut o, "usermod", &args, 19500, LogInit::Unchanged).unwrap_err()
    };
    let mut with_home = made.clone();
    with_home.dir("home/_runit-log");
    let err = refused(&with_home, &["-m", "-d", "/var/lib/runit-log", "_runit-log"]);
    assert!(
        err.contains("moving the home directory /home/_runit-log"),
        "{err}"
    );
    // A new home already there: usermod changes the field, then refuses to move (status 12).
    let mut new_there = made.clone();
    new_there.dir("var/lib/runit-log");
    let mut o = Overlay::new(&new_there);
    let args: Vec<String> = ["-m", "-d", "/var/lib/runit-log", "_runit-log"]
        .iter()
        .map(|a| a.to_string())
        .collect();
    let err = apply(&mut o, "usermod", &args, 19500, LogInit::Unchanged).unwrap_err();
    assert!(err.contains("directory /var/lib/runit-log exists"), "{err}");
    let (files, removed) = o.into_changes();
    let mut m = new_there.clone();
    m.apply(&Changes { files, removed });
    assert!(
        m.text("etc/passwd").contains(":/var/lib/runit-log:"),
        "{}",
        m.text("etc/passwd")
    );
    assert!(parse_usermod(&["-m".into(), "_runit-log".into()]).is_none());
}

/// `getent DB KEY…` prints each key's entry in the order of the keys, the whole file without
/// keys, nothing for a key not found.
#[test]
fn getent_prints_the_entries_found() {
    let t = base();
    let out = |s: &str| getent_output(&t, &s.split(' ').map(str::to_owned).collect::<Vec<_>>());
    let passwd = t.text("etc/passwd");
    let line = |name: &str| {
        passwd
            .lines()
            .find(|l| l.starts_with(&format!("{name}:")))
            .map(|l| format!("{l}\n"))
            .unwrap_or_default()
    };
    assert_eq!(out("passwd nobody root"), Some(line("nobody") + &line("root")));
    assert_eq!(out("passwd debian-tor"), Some(String::new()));
    assert_eq!(out("passwd"), Some(passwd.clone()));
    assert_eq!(out("hosts localhost"), None);
}

/// cron-daemon-common's postinst: `getent group crontab >/dev/null 2>&1 || addgroup --system
/// crontab`, then the spool directory given to the group.
#[test]
fn a_group_made_only_when_getent_does_not_find_it() {
    let mut t = base();
    t.dir("var/spool/cron/crontabs");
    let script = "#!/bin/sh\nset -e\ngetent group crontab > /dev/null 2>&1 || addgroup --system crontab\n\
                  getent group crontab > /dev/null 2>&1 || touch /var/lib/made-twice\n\
                  chown root:crontab /var/spool/cron/crontabs\nchmod 1730 /var/spool/cron/crontabs\n";
    let pkg = super::super::testutil::with_postinst("cron-daemon-common", script);
    let (changes, report) = super::super::files::compute(&t, &[pkg]).unwrap();
    assert!(report.is_empty(), "{report:?}");
    let mut m = t.clone();
    m.apply(&changes);
    assert!(
        m.text("etc/group").contains("\ncrontab:x:"),
        "{}",
        m.text("etc/group")
    );
    assert!(!m.entries.contains_key("var/lib/made-twice"));
    let (dir, _) = &m.entries["var/spool/cron/crontabs"];
    assert_eq!((dir.mode, dir.uid), (0o1730, 0));
    assert_ne!(dir.gid, 0, "the crontab group");
}

/// bullseye's adduser (3.118) makes a system user with a plain useradd (login.defs' aging), then
/// `usermod -p '*'` and `chage -M 99999`, which rewrite the files they update: passwd's and
/// shadow's backups end up equal to the files, as on a bullseye system.
#[test]
fn bullseye_adduser_system_user_with_usermod_and_chage() {
    let mut t = base();
    t.file(
        "usr/sbin/adduser",
        b"#!/usr/bin/perl\n    if (system($chage, '-M', '99999', $new_name)) {\n",
    )
    .file(
        "etc/login.defs",
        b"PASS_MAX_DAYS\t99999\nPASS_MIN_DAYS\t0\nPASS_WARN_AGE\t7\n",
    );
    let m = run(
        &t,
        &["adduser --force-badname --system --home /nonexistent --no-create-home --quiet _apt"],
    );
    assert_eq!(
        tail(&m, "etc/passwd", 1),
        ["_apt:x:100:65534::/nonexistent:/usr/sbin/nologin"]
    );
    assert_eq!(tail(&m, "etc/shadow", 1), ["_apt:*:19500:0:99999:7:::"]);
    assert_eq!(
        m.text("etc/passwd-"),
        m.text("etc/passwd"),
        "usermod rewrote passwd"
    );
    assert_eq!(
        m.text("etc/shadow-"),
        m.text("etc/shadow"),
        "chage rewrote shadow"
    );
    // --disabled-login keeps useradd's `!`.
    let m = run(&t, &["adduser --system --disabled-login --quiet svc"]);
    assert_eq!(tail(&m, "etc/shadow", 1), ["svc:!:19500:0:99999:7:::"]);
}

/// postfix's postinst: `chown postfix DIR 2>/dev/null || adduser --system … postfix`: the chown
/// names a user the files do not have, so it fails and the fallback makes the user; a chown
/// whose accounts exist runs as a command (its fallback does not).
#[test]
fn a_chown_of_a_missing_account_fails_into_its_fallback() {
    let mut t = base();
    t.dir("var/spool/postfix/private").dir("var/lib/x");
    let script = "#!/bin/sh\nset -e\nchown postfix /var/spool/postfix/private 2>/dev/null ||\n\
                  \x20   adduser --system --home /var/spool/postfix --no-create-home --disabled-password postfix\n\
                  chown nobody /var/lib/x || touch /var/lib/not-run\n";
    let pkg = super::super::testutil::with_postinst("postfix", script);
    let (changes, report) = super::super::files::compute(&t, &[pkg]).unwrap();
    assert!(report.is_empty(), "{report:?}");
    let mut m = t.clone();
    m.apply(&changes);
    assert!(
        m.text("etc/passwd").contains("\npostfix:x:"),
        "{}",
        m.text("etc/passwd")
    );
    assert_eq!(
        m.entries["var/lib/x"].0.uid, 65534,
        "the chown with known accounts ran"
    );
    assert!(!m.entries.contains_key("var/lib/not-run"));
}

/// A condition the walk cannot decide is taken as holding, and what the branches after it would
/// have run is reported, not lost: here an account made only when a value nobody can know at
/// build time is empty.
#[test]
fn an_undecided_condition_reports_the_branch_it_did_not_walk() {
    let t = base();
    let script = "#!/bin/sh -e\nuid=`frobnicate passwd x | cut -d \":\" -f 3`\n\
                  if [ \"$uid\" ]; then\n\t:\nelif [ -e /etc/x ]; then\n\techo found\nelse\n\t\
                  adduser --system --group x\nfi\n";
    let pkg = super::super::testutil::with_postinst("x", script);
    let (changes, report) = super::super::files::compute(&t, &[pkg]).unwrap();
    let whats: Vec<&str> = report.iter().map(|r| r.what.as_str()).collect();
    assert_eq!(
        whats,
        [
            "adduser --system --group x (not run: whether `[ \"$uid\" ]` holds is not known while building; the walk took it as holding)"
        ],
        "the elif's test and echo have no effect: not listed"
    );
    let mut m = t.clone();
    m.apply(&changes);
    assert!(!m.text("etc/passwd").contains("\nx:"));
}

/// bacula-common's preinst: `usermod -G tape bacula` (no `-a`) makes the list the user's
/// supplementary groups: tape gains the member in group and gshadow (added last), a group not
/// listed loses it; group and gshadow are rewritten with their backups, passwd is not.
#[test]
fn usermod_g_list_replaces_the_supplementary_groups() {
    let mut t = base();
    t.file(
        "etc/group",
        b"root:x:0:\nshadow:x:42:\nusers:x:100:\ntape:x:26:amanda\nnogroup:x:65534:\n",
    )
    .file(
        "etc/gshadow",
        b"root:*::\nshadow:*::\nusers:*::\ntape:*::amanda\nnogroup:*::\n",
    );
    let made = run(
        &t,
        &[
            "adduser --system --group --home /var/lib/bacula bacula",
            "usermod -a -G users bacula",
        ],
    );
    let passwd = made.text("etc/passwd-");
    let changed = run(&made, &["usermod -G tape bacula"]);
    let member = |m: &MemTree, file: &str, group: &str| {
        m.text(file)
            .lines()
            .find(|l| l.starts_with(&format!("{group}:")))
            .unwrap_or_default()
            .to_owned()
    };
    assert_eq!(member(&changed, "etc/group", "tape"), "tape:x:26:amanda,bacula");
    assert_eq!(member(&changed, "etc/gshadow", "tape"), "tape:*::amanda,bacula");
    assert_eq!(member(&changed, "etc/group", "users"), "users:x:100:");
    assert_eq!(member(&changed, "etc/gshadow", "users"), "users:*::");
    assert_eq!(changed.text("etc/group-"), made.text("etc/group"));
    assert_eq!(changed.text("etc/gshadow-"), made.text("etc/gshadow"));
    assert_eq!(changed.text("etc/passwd-"), passwd, "passwd is not written");
    // The same list again changes nothing, and writes nothing.
    let again = run(&changed, &["usermod -G tape bacula"]);
    assert_eq!(again.text("etc/group-"), changed.text("etc/group-"));
    let err = {
        let mut o = Overlay::new(&changed);
        apply(
            &mut o,
            "usermod",
            &["-G".into(), "nosuch".into(), "bacula".into()],
            19500,
            LogInit::Unchanged,
        )
        .unwrap_err()
    };
    assert!(err.contains("group `nosuch` does not exist"), "{err}");
}

/// ceph-common's and sbuild's postinsts: `usermod -U -e '' USER` on a system user. The password
/// `!` alone stays locked (usermod refuses a passwordless account) and the expiry is already
/// none, yet `-U` rewrites passwd and shadow: their backups become the files as they are, as on
/// a real install. `-L` puts a `!` in front; `-e DAYS` sets the expiry.
#[test]
fn usermod_unlock_and_expiry_rewrite_passwd_and_shadow() {
    let made = run(
        &base(),
        &[
            "adduser --system --home /var/lib/ceph ceph",
            "usermod -c Ceph ceph",
        ],
    );
    let line = |m: &MemTree, file: &str| {
        m.text(file)
            .lines()
            .find(|l| l.starts_with("ceph:"))
            .unwrap_or_default()
            .to_owned()
    };
    let mut o = Overlay::new(&made);
    apply(
        &mut o,
        "usermod",
        &["-U".into(), "-e".into(), String::new(), "ceph".into()],
        19500,
        LogInit::Unchanged,
    )
    .unwrap();
    let (files, removed) = o.into_changes();
    let mut unlocked = made.clone();
    unlocked.apply(&Changes { files, removed });
    assert_eq!(unlocked.text("etc/passwd"), made.text("etc/passwd"));
    assert_eq!(
        unlocked.text("etc/passwd-"),
        made.text("etc/passwd"),
        "passwd rewritten"
    );
    assert_eq!(unlocked.text("etc/shadow"), made.text("etc/shadow"));
    assert_eq!(
        unlocked.text("etc/shadow-"),
        made.text("etc/shadow"),
        "shadow rewritten"
    );
    assert!(
        line(&made, "etc/shadow").starts_with("ceph:!:"),
        "{}",
        line(&made, "etc/shadow")
    );

    let locked = run(&made, &["usermod -L -e 20000 ceph"]);
    let shadow = line(&locked, "etc/shadow");
    assert!(shadow.starts_with("ceph:!:"), "already locked: {shadow}");
    assert_eq!(shadow.split(':').nth(7), Some("20000"), "{shadow}");
    let again = run(&locked, &["usermod -e 20000 ceph"]);
    assert_eq!(
        again.text("etc/shadow-"),
        locked.text("etc/shadow-"),
        "the same expiry: no change"
    );
}

/// `passwd --lock` as shadow's passwd (4.13) runs it: sidedoor's postinst (`adduser --system
/// --group … sidedoor`, then `passwd --quiet --lock sidedoor`) leaves the field as it was (`!`
/// already) but rewrites shadow, so its backup holds the new account (an unseen set showed
/// `/etc/shadow-` one line short); passwd is not rewritten. `-u` takes the `!` off, and refuses
/// to leave an empty password.
#[test]
fn passwd_lock_rewrites_shadow_as_shadow_does() {
    let made = run(
        &base(),
        &[
            "adduser --quiet --system --no-create-home --group --home /var/lib/sidedoor --shell /bin/sh sidedoor",
        ],
    );
    let locked = run(&made, &["passwd --quiet --lock sidedoor"]);
    assert_eq!(locked.text("etc/shadow"), made.text("etc/shadow"));
    assert_eq!(
        locked.text("etc/shadow-"),
        made.text("etc/shadow"),
        "shadow rewritten"
    );
    assert_eq!(
        locked.text("etc/passwd-"),
        made.text("etc/passwd-"),
        "passwd not rewritten"
    );
    assert!(
        locked
            .text("etc/shadow")
            .lines()
            .any(|l| l.starts_with("sidedoor:!")),
        "{}",
        locked.text("etc/shadow")
    );
    // A password set: locked, then unlocked.
    let with_password = run(&made, &["usermod -p $6$salt$hash sidedoor"]);
    let locked = run(&with_password, &["passwd -l sidedoor"]);
    assert!(
        locked.text("etc/shadow").contains("\nsidedoor:!$6$salt$hash:"),
        "{}",
        locked.text("etc/shadow")
    );
    let unlocked = run(&locked, &["passwd -u sidedoor"]);
    assert_eq!(unlocked.text("etc/shadow"), with_password.text("etc/shadow"));
    // Unlocking `!` alone would leave no password: refused.
    let mut o = Overlay::new(&made);
    let argv: Vec<String> = ["-u", "sidedoor"].map(str::to_owned).to_vec();
    let err = apply(&mut o, "passwd", &argv, 19500, LogInit::Unchanged).unwrap_err();
    assert!(err.contains("passwordless"), "{err}");
    // Other forms are not this module's.
    for other in [
        &["sidedoor"][..],
        &["-S", "sidedoor"],
        &["-l", "-u", "sidedoor"],
        &["-l"],
        // getopt_long refuses a value for a flag.
        &["--lock=no", "sidedoor"],
    ] {
        let args: Vec<String> = other.iter().map(|a| a.to_string()).collect();
        assert!(!handles("passwd", &args), "{other:?}");
    }
    assert!(handles(
        "passwd",
        &["--quiet".into(), "--lock".into(), "x".into()]
    ));
}

/// `chfn` as shadow's chfn (4.13) rewrites the GECOS: logcheck's `chfn -f 'logcheck system
/// account' logcheck` on an account adduser made without one gives `NAME,,,`; the fields not
/// given keep their old values, a `key=value` field moves to the end with what follows the
/// fourth field, and passwd gets its backup.
#[test]
fn chfn_rewrites_the_gecos_as_shadow_does() {
    let made = run(&base(), &["adduser --system --no-create-home logcheck"]);
    let gecos = |m: &MemTree, user: &str| {
        m.text("etc/passwd")
            .lines()
            .find(|l| l.starts_with(&format!("{user}:")))
            .and_then(|l| l.split(':').nth(4))
            .unwrap_or_default()
            .to_owned()
    };
    let named = run(&made, &["chfn -f logcheck_system_account logcheck"]);
    assert_eq!(gecos(&named, "logcheck"), "logcheck_system_account,,,");
    assert_eq!(
        named.text("etc/passwd-"),
        made.text("etc/passwd"),
        "passwd rewritten with its backup"
    );

    let mut o = Overlay::new(&made);
    apply(
        &mut o,
        "usermod",
        &["-c".into(), "Old,12,555,666,x=1,rest".into(), "logcheck".into()],
        19500,
        LogInit::Unchanged,
    )
    .unwrap();
    let (files, removed) = o.into_changes();
    let mut before = made.clone();
    before.apply(&Changes { files, removed });
    let mut o = Overlay::new(&before);
    apply(
        &mut o,
        "chfn",
        &["-r".into(), "7".into(), "logcheck".into()],
        19500,
        LogInit::Unchanged,
    )
    .unwrap();
    let (files, removed) = o.into_changes();
    let mut after = before.clone();
    after.apply(&Changes { files, removed });
    assert_eq!(gecos(&after, "logcheck"), "Old,7,555,666,x=1,rest");

    let mut o = Overlay::new(&made);
    for bad in [
        &["-f", "a:b", "logcheck"][..],
        &["-f", "a,b", "logcheck"],
        &["-f", "x", "nosuch"],
    ] {
        let args: Vec<String> = bad.iter().map(|s| s.to_string()).collect();
        assert!(
            apply(&mut o, "chfn", &args, 19500, LogInit::Unchanged).is_err(),
            "{bad:?}"
        );
    }
    assert!(
        !handles("chfn", &["logcheck".into()]),
        "chfn without a field asks for them"
    );
}

/// mrtg's postinst runs groupadd and useradd without depending on passwd: in an image without
/// them dpkg's run fails there. Nothing is made, and the report names the missing package.
#[test]
fn an_account_tool_the_image_lacks_is_reported_not_emulated() {
    let mut t = base();
    for tool in ["useradd", "groupadd"] {
        t.entries.remove(&format!("usr/sbin/{tool}"));
    }
    let script = "#!/bin/sh\nset -e\ngroupadd --system mrtg\nuseradd --system --gid mrtg mrtg\n";
    let pkg = super::super::testutil::with_postinst("mrtg", script);
    let (changes, report) = super::super::files::compute(&t, &[pkg]).unwrap();
    assert!(
        changes.files.iter().all(|(e, _)| !e.path.starts_with("etc/")),
        "{changes:#?}"
    );
    let what: Vec<&str> = report.iter().map(|r| r.what.as_str()).collect();
    assert!(
        what.iter()
            .any(|w| w.starts_with("groupadd --system mrtg")
                && w.contains("passwd, is not in the package set")),
        "{what:#?}"
    );
}
