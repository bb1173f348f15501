//! Every command a maintainer script may run, and how debcast treats it: emulated (its effect is
//! computed by a sibling module: `files` for plain file commands, `alternatives`, `shells`,
//! `ldcache`, `certificates`, `accounts`, …), harmless (no lasting effect), service management
//! (skipped in a container), or not emulated (reported). A new command starts here: name it in the
//! right list (and, if it changes files, apply it in `files::apply`).

/// Plain file commands `files` applies (when their arguments are known and their form supported).
pub fn handles(argv0: &str, args: &[String]) -> bool {
    match argv0 {
        "ln" => parse_ln_all(args).is_some(),
        "mv" | "touch" | "mkdir" | "dpkg-divert" => true,
        // `-p` would remove parents too.
        "rmdir" => args
            .iter()
            .all(|a| !a.starts_with('-') || a == "--ignore-fail-on-non-empty"),
        "umask" => args.len() == 1 && parse_mode(&format!("{:0>3}", args[0])).is_some(),
        // Recursive too (`files` removes what is below a directory).
        "rm" => true,
        // `-R` reaches below a directory of the image (`files::recursive`).
        "chmod" | "chown" | "chgrp" => true,
        "find" => super::find::parse_find(args).is_ok(),
        "dpkg-statoverride" => super::statoverride::parse(args).is_ok(),
        "cp" => super::copy::parse(args).is_ok(),
        "sed" => super::sed::parse(args).is_ok(),
        "mktemp" => true,
        "install" => parse_install(args).is_ok(),
        "systemd-tmpfiles" => super::tmpfiles::parse(args).is_ok(),
        "update-xmlcatalog" => super::xmlcatalog::parse(args).is_ok(),
        "a2enmod" | "a2enconf" | "a2ensite" | "a2dismod" | "a2disconf" | "a2dissite" => {
            super::apache::parse(argv0, args).is_ok()
        }
        "phpenmod" => super::php::parse(argv0, args).is_ok(),
        // `--root=` is empty under dpkg (`${DPKG_ROOT:+--root=…}`).
        "journalctl" => args == ["--update-catalog"],
        "setcap" => super::setcap::parse(args).is_ok(),
        "update-perl-sax-parsers" => super::perlsax::parse(args).is_ok(),
        "update-catalog" => super::sgmlcatalog::parse(args).is_ok(),
        "update-binfmts" => super::binfmts::parse(args).is_ok(),
        "lighty-enable-mod" | "lighty-disable-mod" => super::lighttpd::parse(argv0, args).is_ok(),
        "run-parts" => parse_run_parts(args).is_some(),
        "mkfontdir" | "mkfontscale" => super::fontsdir::parse_call(argv0, args).is_ok(),
        "emacs-package-install" | "emacs-install" => super::emacsen::parse(argv0, args).is_some(),
        "git" => super::gitlfs::parse(argv0, args).is_some(),
        "update-inetd" => super::inetd::parse(args).is_ok(),
        "update-ccache-symlinks" => super::ccache::parse(args).is_ok(),
        "linux-update-symlinks" => super::kernel::parse(args).is_ok(),
        _ => {
            super::users::handles(argv0, args)
                || super::pam::handles(argv0, args)
                || super::ucf::handles(argv0, args)
                || super::runit::handles(argv0, args)
        }
    }
}

/// The package that ships a tool debcast computes the effects of, where that package is not
/// Essential (an image may lack it): its calls in a script make nothing without it.
pub fn tool_package(name: &str) -> Option<&'static str> {
    super::users::providing_package(name).or(match name {
        "ucf" | "ucfr" => Some("ucf"),
        "update-inetd" => Some("update-inetd"),
        "update-ccache-symlinks" => Some("ccache"),
        "linux-update-symlinks" => Some("linux-base"),
        "runit-helper" => Some("runit-helper"),
        "update-xmlcatalog" => Some("xml-core"),
        "update-catalog" => Some("sgml-base"),
        "a2enmod" | "a2enconf" | "a2ensite" | "a2dismod" | "a2disconf" | "a2dissite" => Some("apache2"),
        "lighty-enable-mod" | "lighty-disable-mod" => Some("lighttpd"),
        "phpenmod" => Some("php-common"),
        "update-perl-sax-parsers" => Some("libxml-sax-perl"),
        "mkfontdir" | "mkfontscale" => Some("xfonts-utils"),
        "update-binfmts" => Some("binfmt-support"),
        "setcap" => Some("libcap2-bin"),
        "pam-auth-update" => Some("libpam-runtime"),
        "emacs-install" | "emacs-package-install" => Some("emacsen-common"),
        _ => None,
    })
}

/// Whether a command the files module applies prints nothing on standard output: the plain
/// file commands (not asked to be verbose) and the emulated tools that write only files
/// (update-inetd's `--verbose` and warnings go to standard error).
pub fn prints_nothing(argv: &[String]) -> bool {
    let Some((name, args)) = argv.split_first() else {
        return false;
    };
    let base = name.rsplit('/').next().unwrap_or(name);
    let silent =
        matches!(base, "update-ccache-symlinks" | "update-inetd") || super::shell::prints_nothing(argv);
    silent && handles(base, args)
}

/// `run-parts [--exit-on-error|--report|-v|--verbose]… DIR`: the directory (options that list,
/// test or pass arguments are not this form).
pub fn parse_run_parts(args: &[String]) -> Option<String> {
    let mut dir = None;
    for a in args {
        match a.as_str() {
            "--exit-on-error" | "--report" | "-v" | "--verbose" | "--" => {}
            s if s.starts_with('-') => return None,
            s if dir.is_none() && s.starts_with('/') => dir = Some(s.to_owned()),
            _ => return None,
        }
    }
    dir
}

/// Whether run-parts starts a program of this name (its default, not `--lsbsysinit`, naming
/// rule): letters, digits, `_` and `-` only.
pub fn run_parts_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// One `ln -s` as a script runs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkCall {
    pub target: String,
    pub link: String,
    pub force: bool,
    /// `-n`/`-T`: never create the link inside an existing directory named LINK.
    pub no_deref: bool,
    /// `-s`: a symbolic link; else a hard link to the file `target` names.
    pub symbolic: bool,
}

/// Whether `ln ARGS` makes a hard link (no `-s`), whose first operand is a file it reads, not a
/// link's target text.
pub fn is_hard_link(args: &[String]) -> bool {
    parse_ln_all(args).is_some_and(|(calls, _)| calls.iter().all(|c| !c.symbolic))
}

/// How many of `ln`'s operands are link targets (text for a symbolic link, kept as written):
/// all but the last, or none for hard links, whose operands are all paths.
pub fn ln_target_count(args: &[String]) -> usize {
    match parse_ln_all(args) {
        Some((calls, _)) if calls.iter().all(|c| c.symbolic) => calls.len(),
        Some(_) => 0,
        // A form not applied: its first operand taken for a target, as in the common form.
        None => 1,
    }
}

/// Parses `ln` arguments; `None` unless it is `ln [-s]` with exactly TARGET and LINK.
pub fn parse_ln(args: &[String]) -> Option<LinkCall> {
    let (calls, into_directory) = parse_ln_all(args)?;
    match <[LinkCall; 1]>::try_from(calls) {
        Ok([call]) if !into_directory => Some(call),
        _ => None,
    }
}

/// Parses `ln` arguments, its `ln [-s] TARGET… DIRECTORY` form too: one call per target, each
/// linking into the last operand, and whether that form was used (then the last operand must be
/// a directory, and `-n`/`-T` are refused, as ln refuses them).
pub fn parse_ln_all(args: &[String]) -> Option<(Vec<LinkCall>, bool)> {
    let (mut symbolic, mut force, mut no_deref) = (false, false, false);
    let mut operands = Vec::new();
    let mut options_done = false;
    for a in args {
        if !options_done && a == "--" {
            options_done = true;
        } else if !options_done && a.starts_with("--") {
            match a.as_str() {
                "--symbolic" => symbolic = true,
                "--force" => force = true,
                "--no-dereference" | "--no-target-directory" => no_deref = true,
                _ => return None,
            }
        } else if !options_done && a.starts_with('-') && a.len() > 1 {
            for c in a[1..].chars() {
                match c {
                    's' => symbolic = true,
                    'f' => force = true,
                    'n' | 'T' => no_deref = true,
                    _ => return None,
                }
            }
        } else {
            operands.push(a.clone());
        }
    }
    let (link, targets) = operands.split_last()?;
    let into_directory = targets.len() > 1;
    if targets.is_empty() || (into_directory && no_deref) {
        return None;
    }
    let calls = targets
        .iter()
        .map(|target| LinkCall {
            target: target.clone(),
            link: link.clone(),
            force,
            no_deref,
            symbolic,
        })
        .collect();
    Some((calls, into_directory))
}

/// `install -d [-m MODE] [-o OWNER] [-g GROUP] DIR…`: the directories install makes.
pub struct InstallDirs {
    pub dirs: Vec<String>,
    /// The file form (`install SOURCE DEST`): source (`/dev/null` for an empty file) and
    /// destination.
    pub file: Option<(String, String)>,
    pub mode: u32,
    pub owner: Option<String>,
    pub group: Option<String>,
    /// `-b`: an existing destination is kept as `DEST~` (the simple backup install makes when
    /// no `VERSION_CONTROL` is set, as dpkg's environment has none).
    pub backup: bool,
}

/// Parses `install`: its `-d` form (directories) and the copy of one file (`install [-m MODE]
/// [-o USER] [-g GROUP] SOURCE DEST`).
pub fn parse_install(args: &[String]) -> Result<InstallDirs, String> {
    let mut call = InstallDirs {
        dirs: Vec::new(),
        file: None,
        mode: 0o755,
        owner: None,
        group: None,
        backup: false,
    };
    let mut dirs_form = false;
    let mut mode_spec: Option<String> = None;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let mut value = |name: &str| {
            it.next()
                .cloned()
                .ok_or(format!("install {name} without a value"))
        };
        match a.as_str() {
            "-d" | "--directory" => dirs_form = true,
            "-m" | "--mode" => mode_spec = Some(value("-m")?),
            "-o" | "--owner" => call.owner = Some(value("-o")?),
            "-g" | "--group" => call.group = Some(value("-g")?),
            "-v" | "--verbose" => {}
            "-b" => call.backup = true,
            s if s.starts_with("--mode=") => mode_spec = Some(s[7..].to_owned()),
            s if s.starts_with("--owner=") => call.owner = Some(s[8..].to_owned()),
            s if s.starts_with("--group=") => call.group = Some(s[8..].to_owned()),
            // Values glued to their option (exim4-base's `install -d -oDebian-exim -m750 …`).
            s if s.len() > 2 && (s.starts_with("-o") || s.starts_with("-g")) => {
                let value = s[2..].to_owned();
                if s.starts_with("-o") {
                    call.owner = Some(value);
                } else {
                    call.group = Some(value);
                }
            }
            s if s.len() > 2 && s.starts_with("-m") => mode_spec = Some(s[2..].to_owned()),
            s if s.starts_with('-') => return Err(format!("install option {s} is not reproduced")),
            s if s.starts_with('/') => call.dirs.push(s.to_owned()),
            s => return Err(format!("`{s}` is not an absolute path")),
        }
    }
    // Octal, or symbolic (`u=rwx,g=rx,o=`, ulogd2's log directory) applied to no bits with
    // no umask, as coreutils' install compiles it.
    if let Some(m) = mode_spec {
        call.mode = parse_mode(&m)
            .or_else(|| chmod_symbolic(&m, 0, dirs_form, 0))
            .ok_or(format!("install mode `{m}` is neither octal nor symbolic"))?;
    }
    if !dirs_form {
        let [source, dest] = std::mem::take(&mut call.dirs)
            .try_into()
            .map_err(|_| "install of files other than one SOURCE and DEST is not reproduced")?;
        call.file = Some((source, dest));
    }
    Ok(call)
}

/// A numeric mode as `install -m`, `mkdir -m` and dpkg-statoverride read it: any octal number
/// up to 07777, leading zeros allowed (`0`, `644`, `02750`: motion's `mkdir -m 02750 -p`).
pub fn parse_mode(m: &str) -> Option<u32> {
    (!m.is_empty() && m.bytes().all(|b| (b'0'..=b'7').contains(&b)))
        .then(|| u32::from_str_radix(m, 8).ok())
        .flatten()
        .filter(|v| *v <= 0o7777)
}

/// A numeric `chmod` mode (`755`, `04755`, `0`) applied to `mode`, as coreutils' chmod does: the
/// number is the new mode, except that a directory keeps its set-user-id and set-group-id bits
/// unless the number has five digits or more. `None` for anything that is not octal up to 07777.
pub fn chmod_octal(spec: &str, mode: u32, is_dir: bool) -> Option<u32> {
    if spec.is_empty() || !spec.bytes().all(|b| (b'0'..=b'7').contains(&b)) {
        return None;
    }
    let value = u32::from_str_radix(spec.trim_start_matches('0'), 8)
        .ok()
        .or(spec.bytes().all(|b| b == b'0').then_some(0))?;
    if value > 0o7777 {
        return None;
    }
    let kept = if is_dir && spec.len() < 5 {
        mode & 0o6000
    } else {
        0
    };
    Some(value | kept)
}

/// A symbolic `chmod` mode (`u+s`, `go-w`, `a+rX`, `u=rwx,g=rx,o=`, `+x`) applied to `mode`, as
/// coreutils' chmod does: no `ugoa` means all, without the bits the umask holds; `X` is
/// execute for a directory or where some execute bit is set; `s`/`t` set the set-id bits of the
/// classes named and the sticky bit; `=` on a directory keeps its set-id bits unless `s` is
/// given. `None` for anything that is not such a mode.
pub fn chmod_symbolic(spec: &str, mode: u32, is_dir: bool, umask: u32) -> Option<u32> {
    let mut mode = mode & 0o7777;
    for clause in spec.split(',') {
        let who_len = clause.find(['+', '-', '='])?;
        let (who, mut rest) = clause.split_at(who_len);
        let mut affected = 0;
        for c in who.chars() {
            affected |= match c {
                'u' => 0o4700,
                'g' => 0o2070,
                'o' => 0o1007,
                'a' => 0o7777,
                _ => return None,
            };
        }
        let (affected, mask) = if who.is_empty() {
            (0o7777, !umask & 0o7777)
        } else {
            (affected, affected)
        };
        while let Some(op) = rest.chars().next().filter(|c| matches!(c, '+' | '-' | '=')) {
            rest = &rest[1..];
            let end = rest.find(['+', '-', '=']).unwrap_or(rest.len());
            let (perms, next) = rest.split_at(end);
            rest = next;
            let mut value = 0;
            let copy = |shift: u32| {
                let bits = (mode >> shift) & 0o7;
                bits << 6 | bits << 3 | bits
            };
            match perms {
                "u" => value = copy(6),
                "g" => value = copy(3),
                "o" => value = copy(0),
                _ => {
                    for c in perms.chars() {
                        value |= match c {
                            'r' => 0o444,
                            'w' => 0o222,
                            'x' => 0o111,
                            'X' if is_dir || mode & 0o111 != 0 => 0o111,
                            'X' => 0,
                            's' => 0o6000,
                            't' => 0o1000,
                            _ => return None,
                        };
                    }
                }
            }
            // The set-id and sticky bits are not the umask's to hold back.
            let value = value & (mask | (affected & 0o7000));
            mode = match op {
                '+' => mode | value,
                '-' => mode & !value,
                _ => {
                    let keep = if is_dir && !perms.contains('s') { 0o6000 } else { 0 };
                    (mode & (!affected | keep)) | value
                }
            };
        }
        if !rest.is_empty() {
            return None;
        }
    }
    Some(mode)
}

/// Commands whose effect debcast computes itself, or that have none on a fresh install.
const EMULATED: &[&str] = &[
    "update-alternatives",
    "add-shell",
    "remove-shell",
    "update-shells",
    "ldconfig",
    "update-ca-certificates",
    // Its actions (rm_conffile, mv_conffile, symlink_to_dir, …) only act on upgrades.
    "dpkg-maintscript-helper",
    // Activates a trigger: dpkg runs the interested packages' `postinst triggered` before the
    // install ends and leaves no pending trigger behind; `report::scan` walks those postinsts
    // for the interests the installed files and `activate` lines fire.
    "dpkg-trigger",
    // postgresql-common's dictionaries, computed from the finished tree (`postgres`).
    "pg_updatedicts",
];

/// Commands without lasting effect: tests, queries, output, flow control, debconf.
const HARMLESS: &[&str] = &[
    "[",
    // Removing byte-compiled files: only py3compile makes them (Debian's packages ship none),
    // and debcast runs no py3compile, so there is nothing to remove (dh_python3's rtupdate
    // hooks run `py3clean -p PKG DIR` before compiling again).
    "py3clean",
    "pyclean",
    "pypy3clean",
    // postgresql-common's query of the clusters (`files` answers it from the image).
    "pg_lsclusters",
    // apache2's query of its modules, configurations, sites and MPM (answered the same way).
    "a2query",
    // Queries of the running kernel's AppArmor (false while an image is built).
    "aa-enabled",
    "aa-status",
    "test",
    "echo",
    "printf",
    "true",
    "false",
    ":",
    "set",
    "exit",
    "return",
    "shift",
    "local",
    "unset",
    "export",
    "readonly",
    "read",
    "cat",
    "command",
    "which",
    "type",
    "dpkg-query",
    "getent",
    "grep",
    "egrep",
    "fgrep",
    "basename",
    "dirname",
    "readlink",
    "realpath",
    "dpkg-realpath",
    "head",
    "tail",
    "cut",
    "tr",
    "sort",
    "uniq",
    "wc",
    "cmp",
    "diff",
    "md5sum",
    "sha256sum",
    "id",
    "uname",
    "stat",
    "ls",
    "sleep",
    "wait",
    "trap",
    "logger",
    ".",
    "source",
    "dpkg-architecture",
    "break",
    "continue",
    "umask",
    "cd",
    // Queries scripts use as conditions (`if ischroot; then`), which now run as commands.
    "ischroot",
    "mountpoint",
    "systemd-detect-virt",
    "pidof",
    "pgrep",
    "runlevel",
    "expr",
    "seq",
    "locale",
    // php-common's questions (`phpquery -V`, `-S`, `-M`, `-m`), answered by `php` where captured.
    "phpquery",
    // Prints a file's capabilities; its access control list.
    "getcap",
    "getfacl",
    // libpaper's paper size (`files` answers it from `/etc/papersize`).
    "paperconf",
];

/// Service management, meaningless in a container image.
const SERVICES: &[&str] = &[
    // Messages to a running daemon over D-Bus (dbus's triggered `ReloadConfig`).
    "dbus-send",
    "deb-systemd-helper",
    "deb-systemd-invoke",
    "invoke-rc.d",
    "update-rc.d",
    "systemctl",
];

/// What acts on the running kernel and its device manager, as a service started does on the
/// running system: fuse3's `modprobe fuse`, bubblewrap's `sysctl --system`, `udevadm trigger`.
/// Nothing of it is in the image's files (a chroot's dpkg would change the host's kernel);
/// listed with service management. udev's hardware database (`udevadm hwdb --update`) is a
/// file, computed elsewhere (`hwdb`), and a query changes nothing.
fn runs_the_kernel(name: &str, args: &[String]) -> bool {
    let first_action = || args.iter().find(|a| !a.starts_with('-')).map(String::as_str);
    match name {
        // (In a chroot it usually fails for want of the running kernel's modules; either way
        // the image's files are untouched.) Its queries and dry runs load nothing.
        "modprobe" | "insmod" | "rmmod" => !args.iter().any(|a| {
            matches!(
                a.as_str(),
                "--dry-run"
                    | "--show"
                    | "--showconfig"
                    | "--show-depends"
                    | "--resolve-alias"
                    | "--dump-modversions"
                    | "--show-modversions"
                    | "--show-exports"
                    | "--version"
            ) || (a.starts_with('-') && !a.starts_with("--") && a.contains(['n', 'c', 'D', 'R', 'V']))
        }),
        // `sysctl NAME` and `-a` print; `-w`, `-p`, `--system` and `NAME=VALUE` set.
        "sysctl" => args.iter().any(|a| {
            matches!(a.as_str(), "-w" | "--write" | "-p" | "--load" | "--system")
                || a.starts_with("-p")
                || (a.contains('=') && !a.starts_with('-'))
        }),
        "udevadm" => matches!(first_action(), Some("trigger" | "control" | "settle")),
        _ => false,
    }
}

/// Effects that differ on every run (keys, certificates, random ids, a database's system id): they
/// do not belong in an image and are left out on purpose, each with the command that makes them
/// at first start.
const NONDETERMINISTIC: &[(&str, &str)] = &[
    ("ssh-keygen", "ssh-keygen -A"),
    ("make-ssl-cert", "make-ssl-cert generate-default-snakeoil"),
    ("dbus-uuidgen", "dbus-uuidgen --ensure"),
    ("systemd-machine-id-setup", "systemd-machine-id-setup"),
    // It also runs pg_updateaptconfig, which lists the cluster's version in APT's
    // NeverAutoRemove (/etc/apt/apt.conf.d/02autoremove-postgresql).
    (
        "pg_createcluster",
        "pg_createcluster VERSION main, which also lists VERSION in /etc/apt/apt.conf.d/02autoremove-postgresql",
    ),
    // A new MariaDB data directory: its Aria control file holds a time-based UUID.
    ("mysql_install_db", "mariadb-install-db --user=mysql"),
    ("mariadb-install-db", "mariadb-install-db --user=mysql"),
    // BIND's control-channel key: a random secret.
    ("rndc-confgen", "rndc-confgen -a"),
    // The running kernel's firewall rules (iptables-persistent saves them at install): the
    // machine's own state.
    (
        "iptables-save",
        "netfilter-persistent save (the running kernel's firewall rules)",
    ),
    (
        "ip6tables-save",
        "netfilter-persistent save (the running kernel's firewall rules)",
    ),
    // Dropbear's host keys, as `ssh-keygen -A` makes OpenSSH's.
    (
        "dropbearkey",
        "dropbearkey -t TYPE -f /etc/dropbear/dropbear_TYPE_host_key (new host keys)",
    ),
    // A new OpenLDAP database (slapd's initial configuration and directory): every entry gets a
    // random entryUUID and the time it was loaded.
    ("slapadd", "dpkg-reconfigure slapd"),
    // CFEngine's host key pair (cfengine3's postinst runs `cf-key`), with the state it records
    // on its first run under /var/lib/cfengine3.
    (
        "cf-key",
        "cf-key (a new key pair for this host in /var/lib/cfengine3/ppkeys)",
    ),
    // TOMOYO Linux's initial policy (tomoyo-tools' postinst runs it): written in a directory
    // named after the time it runs (`/etc/tomoyo/policy/YY-MM-DD.hh:mm:ss`, with `current` and
    // `previous` linking to it), with the tools' configuration beside it.
    (
        "init_policy",
        "/usr/lib/tomoyo/init_policy (the policy in a directory named after the time it runs, under /etc/tomoyo)",
    ),
    // MUNGE's shared secret (munge's postinst runs `su munge … -c 'mungekey -c'`): random bytes.
    (
        "mungekey",
        "mungekey --create (a new random key, /etc/munge/munge.key by default)",
    ),
    // munin-node's plugins (its postinst runs `munin-node-configure --shell` and feeds the links
    // it prints to sh): each plugin's `autoconf` probes the machine it runs on (its network
    // interfaces, disks, sensors, kernel features), so the links, and the plugin state
    // directories the probes make, are that machine's.
    (
        "munin-node-configure",
        "munin-node-configure --shell | sh (the plugins this machine's probes choose, linked in /etc/munin/plugins, and their state under /var/lib/munin-node/plugin-state)",
    ),
    // etckeeper's repository of /etc (`etckeeper init`, `commit`, `update-ignore`): its commits
    // record the time and an author named after the host.
    (
        "etckeeper",
        "etckeeper init && etckeeper commit \"Initial commit\" (a git repository of /etc)",
    ),
    // install-info's index of the info manuals (its postinst and its trigger on /usr/share/info
    // run `update-info-dir`): the script rebuilds `dir` by running `install-info` once per file
    // in the order `find` lists the directory, and the menu install-info leaves depends on the
    // order it is run in, so it follows the build host's directory order. Checked: two dpkg
    // installs of one package set, on ext4 and on tmpfs, write two different `dir` files
    // (diffutils' `diff` and `diff3` swapped), and install-info run over the same files in name
    // order and in reverse name order writes two others. The image keeps base-files' empty `dir`.
    (
        "update-info-dir",
        "update-info-dir (/usr/share/info/dir's menu of the installed manuals, and dir.old, the menu before; \
         the image keeps base-files' empty dir)",
    ),
];

/// What a command prints where what it prints is non-deterministic by nature, for a file its
/// output goes to: `fc-cache -v` (fontconfig's postinst logs it to /var/log/fontconfig.log)
/// lists the stale caches it removes in the order the build host's file system returns the
/// cache directory's names (two dpkg installs, on ext4 and on tmpfs, write two logs). The
/// caches themselves are computed (`fontconfig`).
pub fn nondeterministic_output(name: &str, args: &[String]) -> Option<&'static str> {
    let verbose = args
        .iter()
        .any(|a| a == "--verbose" || (a.starts_with('-') && !a.starts_with("--") && a.contains('v')));
    (name == "fc-cache" && verbose).then_some(
        "fc-cache -s -f -v (its log lists the stale caches in the order the file system returns them)",
    )
}

/// What `openssl` makes from random numbers (freeradius' `openssl dhparam -out …/certs/dh 1024`).
const OPENSSL_GENERATED: &str = "the same `openssl` command (new keys, parameters or random bytes)";

/// Whether an `openssl` call makes keys, Diffie-Hellman parameters, a new certificate request or
/// random bytes (`req` only with `-new`/`-x509`; `ecparam` only with `-genkey`).
fn openssl_generates(args: &[String]) -> bool {
    let has = |flag: &str| args.iter().any(|a| a == flag);
    match args.first().map(String::as_str) {
        Some("dhparam" | "dsaparam" | "genrsa" | "gendsa" | "genpkey" | "rand") => true,
        Some("req") => has("-new") || has("-x509") || has("-newkey"),
        Some("ecparam") => has("-genkey"),
        _ => false,
    }
}

/// Octave's list of installed add-on packages, as `pkg rebuild` saves it: its first line records
/// the time and the user@host it ran as.
const OCTAVE_PACKAGES: &str = "octave --no-window-system --eval \"pkg ('rebuild');\" (/usr/share/octave/octave_packages, \
     saved with the time and the user@host it ran as)";

/// Whether an `octave` call rebuilds the add-on package list (octave's postinst and trigger:
/// `--eval 'pkg ('\''rebuild'\'');'`).
fn octave_rebuilds_packages(args: &[String]) -> bool {
    args.iter().any(|a| {
        let code: String = a.chars().filter(|c| !c.is_whitespace()).collect();
        code.contains("pkg('rebuild'") || code.contains("pkg(\"rebuild\"") || code.starts_with("pkgrebuild")
    })
}

/// What GnuTLS's `certtool` makes from random numbers.
const TWADMIN_GENERATED: &str = "the same `twadmin --generate-keys` command (a new key pair)";

/// Whether a `twadmin` call makes keys: `-m G` or `--generate-keys`.
fn twadmin_generates(args: &[String]) -> bool {
    args.iter().any(|a| a == "--generate-keys")
        || args.windows(2).any(|w| w[0] == "-m" && w[1] == "G")
        || args.iter().any(|a| a == "-mG")
}

const CERTTOOL_GENERATED: &str = "the same `certtool` command (new keys, parameters or certificates)";

/// Whether a GnuTLS `certtool` call makes a key, Diffie-Hellman parameters, a certificate or a
/// request (courier's mkdhparams and mkimapdcert): `--generate-*`, or its short forms `-p`, `-s`,
/// `-c`, `-q`. Printing and checking (`-i`, `-k`, `-e`) make nothing.
fn certtool_generates(args: &[String]) -> bool {
    args.iter()
        .any(|a| a.starts_with("--generate-") || matches!(a.as_str(), "-p" | "-s" | "-c" | "-q"))
}

/// What a command reading the kernel's randomness makes (varnish's `/etc/varnish/secret` from
/// `/proc/sys/kernel/random/uuid` or `dd if=/dev/urandom`).
const RANDOM_VALUE: &str = "the package's configuration again (`dpkg-reconfigure PACKAGE`): a random value";

/// What a file written from a random value is made by (open-iscsi's initiator name).
pub fn random_value(package: &str) -> String {
    format!("the package's configuration again (`dpkg-reconfigure {package}`): a random value")
}

/// What a file written from the host's name is made by (exim4-config's `/etc/mailname`).
pub fn host_value(package: &str) -> String {
    format!(
        "the package's configuration on the host it runs on (`dpkg-reconfigure {package}`): it holds that host's name"
    )
}

/// The command `su [OPTIONS] [USER] -c 'CMD ARGS…'` runs, when it is plain words (munge's
/// `su munge -s /bin/sh -c 'mungekey -c'`): what the report is about. `None` for a login shell
/// without `-c`, and for a command with quotes, expansions, redirections or several commands,
/// which are the shell's to read.
fn su_command(args: &[String]) -> Option<(String, Vec<String>)> {
    let mut it = args.iter();
    let mut command = None;
    while let Some(a) = it.next() {
        match a.as_str() {
            "-c" | "--command" => command = Some(it.next()?.clone()),
            "-s" | "--shell" | "-g" | "--group" | "-G" | "--supp-group" => {
                it.next()?;
            }
            s if s.starts_with("--command=") => command = Some(s["--command=".len()..].to_owned()),
            _ => {}
        }
    }
    let command = command?;
    if command.contains(|c: char| "'\"\\$`;&|<>(){}*?[]~#\n".contains(c)) {
        return None;
    }
    let mut words = command.split_whitespace().map(str::to_owned);
    let name = words.next()?;
    Some((name, words.collect()))
}

/// The command run as another user: `setpriv … -- CMD ARGS…` (man-db's `mandb` as the man
/// user), `runuser -u USER -- CMD ARGS…`, `su USER -c 'CMD ARGS…'` ([`su_command`]).
fn command_as_user(name: &str, args: &[String]) -> Option<(String, Vec<String>)> {
    match name {
        "setpriv" | "runuser" => args
            .iter()
            .position(|a| a == "--")
            .and_then(|at| args[at + 1..].split_first())
            .map(|(cmd, rest)| (cmd.clone(), rest.to_vec())),
        "su" => su_command(args),
        _ => None,
    }
}

/// What a non-deterministic command left out of the image would have made, where later scripts
/// test for it (dovecot-core links its certificate to the snake-oil pair when that exists): such
/// a test cannot be decided while building.
pub fn left_out_outputs(name: &str, args: &[String]) -> Vec<String> {
    match name {
        // What CMD makes, run as another user (`su munge … -c 'mungekey -c'`).
        "su" | "runuser" | "setpriv" => match command_as_user(name, args) {
            Some((cmd, rest)) => left_out_outputs(cmd.rsplit('/').next().unwrap_or(&cmd), &rest),
            None => Vec::new(),
        },
        // `dd if=/dev/urandom of=FILE` (pacemaker-common's authkey, which its postinst then
        // gives to the haclient group).
        "dd" if args
            .iter()
            .any(|a| a.starts_with("if=") && super::shell::is_random_source(a)) =>
        {
            args.iter()
                .filter_map(|a| a.strip_prefix("of="))
                .map(str::to_owned)
                .collect()
        }
        // `mungekey -c` writes the default key file unless `-k FILE`/`--keyfile=FILE` names another.
        "mungekey" if args.iter().any(|a| a == "-c" || a == "--create") => {
            let named = super::option_values(args, Some("-k"), "--keyfile")
                .into_iter()
                .next();
            vec![named.unwrap_or_else(|| "/etc/munge/munge.key".to_owned())]
        }
        "make-ssl-cert" if args.first().is_some_and(|a| a == "generate-default-snakeoil") => vec![
            "/etc/ssl/certs/ssl-cert-snakeoil.pem".to_owned(),
            "/etc/ssl/private/ssl-cert-snakeoil.key".to_owned(),
        ],
        // What it writes with `--outfile FILE`/`--outfile=FILE`.
        "certtool" if certtool_generates(args) => super::option_values(args, None, "--outfile"),
        // The key files of `-S SITEKEY`/`-L LOCALKEY` (`--site-keyfile`, `--local-keyfile`).
        "twadmin" if twadmin_generates(args) => args
            .windows(2)
            .filter(|w| matches!(w[0].as_str(), "-S" | "-L" | "--site-keyfile" | "--local-keyfile"))
            .map(|w| w[1].clone())
            .collect(),
        // What it writes with `-out FILE`/`-keyout FILE`.
        "openssl" if openssl_generates(args) => args
            .windows(2)
            .filter(|w| w[0] == "-out" || w[0] == "-keyout")
            .map(|w| w[1].clone())
            .collect(),
        "octave" | "octave-cli" if octave_rebuilds_packages(args) => {
            vec!["/usr/share/octave/octave_packages".to_owned()]
        }
        // Its key file, `-f FILE`.
        "dropbearkey" => args
            .windows(2)
            .filter(|w| w[0] == "-f")
            .map(|w| w[1].clone())
            .collect(),
        "ssh-keygen" if args.iter().any(|a| a == "-A") => ["rsa", "ecdsa", "ed25519"]
            .iter()
            .flat_map(|t| {
                let key = format!("/etc/ssh/ssh_host_{t}_key");
                [format!("{key}.pub"), key]
            })
            .collect(),
        // A copy of the kernel's randomness: its destination.
        "install" | "cp" if args.iter().any(|a| super::shell::is_random_source(a)) => args
            .last()
            .filter(|d| d.starts_with('/') && !super::shell::is_random_source(d))
            .map(|d| vec![d.clone()])
            .unwrap_or_default(),
        // The cluster's configuration, which `pg_lsclusters` looks for.
        // And the server's log it creates with the cluster.
        "pg_createcluster" => super::postgres::cluster_config(args)
            .into_iter()
            .chain(super::postgres::cluster_log(args))
            .collect(),
        "ssh-keygen" => match args.iter().position(|a| a == "-f").and_then(|i| args.get(i + 1)) {
            Some(key) if key.starts_with('/') => vec![format!("{key}.pub"), key.clone()],
            _ => Vec::new(),
        },
        _ => Vec::new(),
    }
}

/// The Java keystore `/etc/ssl/certs/java/cacerts`: ca-certificates-java's postinst and trigger
/// import the certificates with its own jar (or `keytool`); every JKS entry carries the time it
/// was added, so the file differs on every run.
const JAVA_KEYSTORE: &str =
    "update-ca-certificates -f (its jks-keystore hook rebuilds /etc/ssl/certs/java/cacerts)";

/// Effects that are deterministic in principle but only reproducible byte for byte by running the
/// image's own code (its Python, its MIME and font databases, its locale compiler): reported as
/// unsupported, with what they make and the command that makes it at first start (or in a
/// derived image's `RUN`). A shell script the walk follows into ([`follow_into`]) does not
/// belong here: listing it would stop the walk from reproducing what it writes (tex-common's
/// `update-texmf`, `update-fmtutil` and `update-updmap` are such scripts).
const IMAGE_CODE: &[(&str, &str)] = &[
    (
        "py3compile",
        "byte-compiles Python modules into __pycache__; run `py3compile` (or `python3 -m compileall`)",
    ),
    (
        "pycompile",
        "byte-compiles Python modules into __pycache__; run `pycompile`",
    ),
    (
        "pypy3compile",
        "byte-compiles Python modules for PyPy; run `pypy3compile`",
    ),
    (
        "update-mime-database",
        "builds /usr/share/mime's caches; run `update-mime-database /usr/share/mime`",
    ),
    (
        "fc-cache",
        "builds fontconfig's caches in /var/cache/fontconfig; run `fc-cache -s -f`",
    ),
    (
        "locale-gen",
        "compiles the locales of /etc/locale.gen; run `locale-gen`",
    ),
    (
        "mkfontdir",
        "indexes an X font directory (fonts.dir, encodings.dir) from the fonts' own properties; run `update-fonts-dir DIRECTORY`",
    ),
    (
        "mkfontscale",
        "indexes an X font directory's scalable fonts (fonts.scale) from the fonts' own properties; run `update-fonts-scale DIRECTORY`",
    ),
    (
        "cert-sync",
        "imports the CA certificates into Mono's certificate stores under /etc/mono/certstore (its new store holds each certificate as Mono's BoringSSL prints it); run `cert-sync /etc/ssl/certs/ca-certificates.crt`",
    ),
    (
        "mandb",
        "builds the manual pages' index databases in /var/cache/man (gdbm files, which debcast does not write); run `mandb -c`",
    ),
    (
        "aspell-autobuildhash",
        "compiles aspell's dictionaries into /var/lib/aspell with the image's aspell; run `aspell-autobuildhash`",
    ),
    (
        "mktexlsr",
        "indexes the TeX trees into their ls-R files; run `mktexlsr`",
    ),
    (
        "texhash",
        "indexes the TeX trees into their ls-R files; run `texhash`",
    ),
    (
        "fmtutil-sys",
        "builds the TeX formats (.fmt) by running TeX itself; run `fmtutil-sys --all`",
    ),
    (
        "fmtutil",
        "builds the TeX formats (.fmt) by running TeX itself; run `fmtutil-sys --all`",
    ),
    (
        "updmap-sys",
        "writes TeX's font map files by running updmap; run `updmap-sys`",
    ),
    (
        "updmap",
        "writes TeX's font map files by running updmap; run `updmap-sys`",
    ),
    (
        "tl-paper",
        "sets the paper size in TeX's programs' configuration; run `tl-paper set all PAPER`",
    ),
    (
        "update-language",
        "writes TeX's hyphenation configuration (language.dat, language.def, language.dat.lua); run `update-language`",
    ),
];

/// How the report's entry for a skipped service-management command starts.
pub const SKIPPED_SERVICE: &str = "skipped: service management: ";
/// How the report's entry for a non-deterministic effect starts.
pub const SKIPPED_NONDETERMINISTIC: &str = "skipped: non-deterministic by nature: ";

/// The report entry for what is left out as non-deterministic by nature, with what makes it at
/// first start.
pub fn left_out_entry(what: &str, made_by: &str) -> String {
    format!("{SKIPPED_NONDETERMINISTIC}{what} (made at first start: {made_by})")
}

/// The report entry for a command of `kind` that is not reproduced (`None`: nothing to report).
pub fn report_entry(kind: &Kind, command_line: &str) -> Option<String> {
    match kind {
        Kind::Emulated | Kind::Harmless => None,
        Kind::Service => Some(format!("{SKIPPED_SERVICE}{command_line}")),
        Kind::NonDeterministic(hint) => Some(left_out_entry(command_line, hint)),
        Kind::ImageCode(why) => Some(format!(
            "{command_line} (not reproduced: it runs the image's own code; {why} at first start)"
        )),
        Kind::NotEmulated => Some(command_line.to_owned()),
    }
}

/// Packages whose `postinst` debcast reproduces as a whole (see the sibling modules).
pub const WHOLE_POSTINST: &[&str] = &[
    "base-files",
    "libc-bin",
    "base-passwd",
    "tzdata",
    "ca-certificates",
    "debianutils",
    "locales",
];

/// How a command is treated in the report.
#[derive(Debug, PartialEq, Eq)]
pub enum Kind {
    Emulated,
    Harmless,
    Service,
    /// Left out on purpose: the effect differs on every run ([`NONDETERMINISTIC`]); the command
    /// that makes it at first start.
    NonDeterministic(&'static str),
    /// Not reproduced: only the image's own code makes it byte for byte ([`IMAGE_CODE`]); what it
    /// makes and the command to run.
    ImageCode(&'static str),
    NotEmulated,
}

/// Byte-compilation run as the interpreter itself (python3.11-minimal's postinst:
/// `python3.11 -E -S /usr/lib/python3.11/py_compile.py FILES`, or `-m py_compile`/`compileall`),
/// the Java keystore's import (`java -jar …/ca-certificates-java.jar`, `keytool -import…`), and
/// the commands of [`IMAGE_CODE`].
fn image_code(name: &str, args: &[String]) -> Option<Kind> {
    if let Some((_, why)) = IMAGE_CODE.iter().find(|(n, _)| *n == name) {
        return Some(Kind::ImageCode(why));
    }
    let python = name
        .strip_prefix("python3")
        .is_some_and(|v| v.is_empty() || v.starts_with('.'));
    let compiles = args.iter().enumerate().any(|(i, a)| {
        a.ends_with("/py_compile.py")
            || a.ends_with("/compileall.py")
            || (i > 0 && args[i - 1] == "-m" && (a == "py_compile" || a == "compileall"))
    });
    if python && compiles {
        return Some(Kind::ImageCode(
            "byte-compiles the interpreter's standard library into __pycache__; run `python3 -m compileall`",
        ));
    }
    let java_store = (name == "java" && args.iter().any(|a| a.ends_with("/ca-certificates-java.jar")))
        || (name == "keytool" && args.iter().any(|a| a.starts_with("-import") || a == "-delete"));
    if java_store {
        return Some(Kind::NonDeterministic(JAVA_KEYSTORE));
    }
    // ca-certificates-java's queries: the JRE's version, the keystore's aliases.
    let query = (name == "java" && args.iter().any(|a| a == "-version" || a == "--version"))
        || (name == "keytool" && args.iter().any(|a| a == "-list"));
    query.then_some(Kind::Harmless)
}

/// Whether `update-mime-database ARGS` updates the system database, the one [`super::mime`]
/// computes: `/usr/share/mime`, possibly with `-n` (only if newer; a fresh image always is).
pub fn updates_system_mime_database(args: &[String]) -> bool {
    let mut rest = args.iter().filter(|a| !matches!(a.as_str(), "-n" | "-V"));
    matches!((rest.next(), rest.next()), (Some(dir), None) if dir.trim_end_matches('/') == "/usr/share/mime")
}

/// Whether a command is one to follow into its script, where the image has it as a shell
/// script ([`super::shell::Eval::with_helpers`]): nothing reproduces, skips or knows it as a
/// command of its own (`ucf`, a shell script, is applied by `files`, not walked through).
pub fn follow_into(argv: &[String]) -> bool {
    argv.split_first().is_some_and(|(name, args)| {
        let base = name.rsplit('/').next().unwrap_or(name);
        // ucf is emulated whatever its arguments: a form not reproduced is reported as such.
        classify(name, args) == Kind::NotEmulated && !handles(base, args) && !matches!(base, "ucf" | "ucfr")
    })
}

pub fn classify(argv0: &str, args: &[String]) -> Kind {
    let name = argv0.rsplit('/').next().unwrap_or(argv0);
    // `bash SCRIPT ARGS…` (mariadb-server's `bash /usr/bin/mysql_install_db …`) is the script's
    // command.
    if matches!(name, "sh" | "bash" | "dash")
        && let Some((script, rest)) = args.split_first()
        && !script.starts_with('-')
    {
        return classify(script, rest);
    }
    // `setpriv … -- CMD ARGS…` (man-db's `mandb` as the man user), `runuser -u USER -- CMD` and
    // `su USER -s /bin/sh -c 'CMD ARGS…'` run CMD: it is what the report is about, except that
    // what debcast applies (a file command, an alternative) is applied only where the script
    // runs it itself, so under another user it is not applied and stays reported.
    if let Some((cmd, rest)) = command_as_user(name, args) {
        return match classify(&cmd, &rest) {
            Kind::Emulated => Kind::NotEmulated,
            kind => kind,
        };
    }
    if args.iter().any(|a| super::shell::is_random_source(a)) {
        return Kind::NonDeterministic(RANDOM_VALUE);
    }
    if EMULATED.contains(&name) {
        return Kind::Emulated;
    }
    // The system MIME database is computed from the finished tree (`mime`); another directory
    // is the image's own code at work.
    if name == "update-mime-database" && updates_system_mime_database(args) {
        return Kind::Emulated;
    }
    // fontconfig's system-only run: its lasting effect is computed (`fontconfig`).
    if name == "fc-cache" && super::fontconfig::system_only(args) {
        return Kind::Emulated;
    }
    // Icon theme caches are computed from the finished tree (`iconcache`), which also reports
    // the forms it does not reproduce.
    if super::iconcache::parse_call(name, args).is_some() {
        return Kind::Emulated;
    }
    // So are GSettings' compiled schemas (`gsettings`).
    if super::gsettings::parse_call(name, args).is_some() {
        return Kind::Emulated;
    }
    // And GIO's and GTK's module caches, Graphviz's plugin configuration (`plugins`) and
    // dictionaries-common's registry (`dictionaries`, which reports the sets it leaves out);
    // gdk-pixbuf's loaders cache is printed or written where the walk meets the call
    // (`plugins::pixbuf`, which reports what it cannot).
    if super::plugins::gio::parse_call(name, args).is_some()
        || super::plugins::gtkim::parse_call(name, args).is_some()
        || super::plugins::graphviz::parse_call(name, args).is_some()
        || super::dictionaries::parse_call(name, args).is_some()
        || super::plugins::pixbuf::is_tool(name)
    {
        return Kind::Emulated;
    }
    // And udev's hardware database (`hwdb`), and the desktop entries' MIME cache (`desktopdb`).
    if super::hwdb::parse_call(name, args).is_some() || super::desktopdb::parse_call(name, args).is_some() {
        return Kind::Emulated;
    }
    // And mailcap's table (`mailcap`); under dpkg the tool exits at once without `--triggered`.
    if name == "update-mime" {
        return match super::mailcap::parse_call(name, args) {
            Some(_) => Kind::Emulated,
            None => Kind::Harmless,
        };
    }
    // `ssh-keygen -l`/`-y`/`-F`… read keys; only making one is an effect.
    let reads_key = name == "ssh-keygen"
        && args.iter().any(|a| {
            a.starts_with('-') && !a.starts_with("--") && a[1..].contains(['l', 'y', 'F', 'R', 'H', 'e', 'i'])
        });
    if reads_key {
        return Kind::Harmless;
    }
    if let Some((_, hint)) = NONDETERMINISTIC.iter().find(|(n, _)| *n == name) {
        return Kind::NonDeterministic(hint);
    }
    if name == "openssl" && openssl_generates(args) {
        return Kind::NonDeterministic(OPENSSL_GENERATED);
    }
    if name == "certtool" && certtool_generates(args) {
        return Kind::NonDeterministic(CERTTOOL_GENERATED);
    }
    // Tripwire's `twadmin -m G` (`--generate-keys`): a new site or local key pair.
    if name == "twadmin" && twadmin_generates(args) {
        return Kind::NonDeterministic(TWADMIN_GENERATED);
    }
    if matches!(name, "octave" | "octave-cli") && octave_rebuilds_packages(args) {
        return Kind::NonDeterministic(OCTAVE_PACKAGES);
    }
    // An X font directory's index in mkfontdir's form (`fontsdir`); other forms name scalable
    // fonts through FreeType, the image's own code.
    if matches!(name, "mkfontdir" | "mkfontscale") && super::fontsdir::parse_call(name, args).is_ok() {
        return Kind::Emulated;
    }
    if let Some(kind) = image_code(name, args) {
        return kind;
    }
    // Plain file commands are applied by `files` (which reports the calls it cannot apply).
    if handles(name, args) {
        return Kind::Emulated;
    }
    // An init script run directly (`/etc/init.d/foo restart`) is service management too.
    if SERVICES.contains(&name) || argv0.starts_with("/etc/init.d/") || runs_the_kernel(name, args) {
        return Kind::Service;
    }
    // sed without -i prints (its output to a file is reported where it is redirected).
    let prints = name == "sed" && super::sed::prints_only(args);
    if HARMLESS.contains(&name) || name.starts_with("db_") || prints {
        return Kind::Harmless;
    }
    if name == "dpkg" {
        // Queries only; `dpkg --configure`/`-i` from a script would be an effect.
        let query = args.first().is_some_and(|a| {
            matches!(
                a.as_str(),
                "--compare-versions"
                    | "--print-architecture"
                    | "--print-foreign-architectures"
                    | "--assert-multi-arch"
                    | "--assert-versioned-provides"
                    | "-L"
                    | "-l"
                    | "-s"
                    | "-S"
                    | "--listfiles"
                    | "--status"
                    | "--search"
                    | "--validate-version"
            )
        });
        return if query { Kind::Harmless } else { Kind::NotEmulated };
    }
    Kind::NotEmulated
}

#[cfg(test)]
mod tests {
    use super::{chmod_octal, chmod_symbolic};

    /// Each case checked against coreutils' chmod on a scratch file or directory (umask 022).
    #[test]
    fn symbolic_modes_as_chmod_applies_them() {
        let cases: &[(&str, u32, bool, u32)] = &[
            ("u+s", 0o755, false, 0o4755),
            ("u-s", 0o4755, false, 0o755),
            ("g+s", 0o755, true, 0o2755),
            ("+x", 0o644, false, 0o755),
            ("+w", 0o444, false, 0o644),
            ("a+w", 0o444, false, 0o666),
            ("go-w", 0o666, false, 0o644),
            ("o-rwx", 0o755, false, 0o750),
            ("u=rwx,g=rx,o=", 0o600, false, 0o750),
            ("a+rX", 0o600, false, 0o644),
            ("a+rX", 0o700, false, 0o755),
            ("a+rX", 0o700, true, 0o755),
            ("+t", 0o777, true, 0o1777),
            ("o+t", 0o777, true, 0o1777),
            ("g=u", 0o740, false, 0o770),
            ("u=rw", 0o2755, true, 0o2655),
            ("u+x-w", 0o644, false, 0o544),
        ];
        for &(spec, from, dir, want) in cases {
            assert_eq!(
                chmod_symbolic(spec, from, dir, 0o022),
                Some(want),
                "chmod {spec} on {from:o} (dir: {dir})"
            );
        }
        let octal: &[(&str, u32, bool, u32)] = &[
            ("755", 0o4755, false, 0o755),
            ("04755", 0o644, false, 0o4755),
            ("0", 0o644, false, 0),
            ("7", 0o644, false, 0o7),
            ("755", 0o2755, true, 0o2755),
            ("0755", 0o2755, true, 0o2755),
            ("00755", 0o2755, true, 0o755),
            ("1777", 0o2755, true, 0o3777),
        ];
        for &(spec, from, dir, want) in octal {
            assert_eq!(
                chmod_octal(spec, from, dir),
                Some(want),
                "chmod {spec} on {from:o} (dir: {dir})"
            );
        }
        for bad in ["", "8", "17777", "u+x", "-755"] {
            assert_eq!(chmod_octal(bad, 0o644, false), None, "{bad}");
        }
        for bad in ["u+q", "z+x", "u", "", "u+x,", "755"] {
            assert_eq!(chmod_symbolic(bad, 0o644, false, 0o022), None, "{bad}");
        }
    }

    /// Init scripts run directly are service management, never followed as helper scripts.
    #[test]
    fn init_scripts_are_services_and_not_followed() {
        let argv = |s: &str| s.split(' ').map(str::to_owned).collect::<Vec<_>>();
        assert_eq!(
            super::classify("/etc/init.d/nginx", &argv("restart")),
            super::Kind::Service
        );
        assert!(!super::follow_into(&argv("/etc/init.d/nginx restart")));
        assert!(super::follow_into(&argv(
            "/usr/share/mysql-common/configure-symlinks install"
        )));
        assert!(!super::follow_into(&argv("update-alternatives --install")));
    }

    /// Tripwire's key generation (`twadmin -m G -S KEY`, `--generate-keys`) is left out as
    /// non-deterministic with the key files it makes; its other modes are not.
    #[test]
    fn twadmin_key_generation_is_non_deterministic() {
        let argv = |s: &str| s.split(' ').map(str::to_owned).collect::<Vec<_>>();
        for generating in [
            "-m G -S /etc/tripwire/site.key",
            "--generate-keys -L /etc/tripwire/h-local.key",
        ] {
            assert!(matches!(
                super::classify("/usr/sbin/twadmin", &argv(generating)),
                super::Kind::NonDeterministic(_)
            ));
        }
        assert_eq!(
            super::left_out_outputs("twadmin", &argv("-m G -S /etc/tripwire/site.key")),
            ["/etc/tripwire/site.key"]
        );
        assert!(!matches!(
            super::classify(
                "twadmin",
                &argv("-m F -S /etc/tripwire/site.key /etc/tripwire/twcfg.txt")
            ),
            super::Kind::NonDeterministic(_)
        ));
    }

    /// A command `su` runs with `-c` is classified as itself (munge's key, made as the munge user),
    /// with the files it makes; a command the shell would have to read is not unwrapped.
    #[test]
    fn su_runs_its_command_and_random_files_are_named() {
        let words = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let su = words(&["munge", "-s", "/bin/sh", "-c", "mungekey -c"]);
        assert!(matches!(
            super::classify("su", &su),
            super::Kind::NonDeterministic(_)
        ));
        assert_eq!(super::left_out_outputs("su", &su), ["/etc/munge/munge.key"]);
        assert!(matches!(
            super::classify("/usr/sbin/cf-key", &[]),
            super::Kind::NonDeterministic(_)
        ));
        // tomoyo-tools' initial policy, in a directory named after the time it runs.
        assert!(matches!(
            super::classify("/usr/lib/tomoyo/init_policy", &[]),
            super::Kind::NonDeterministic(_)
        ));
        let other = words(&["-c", "mungekey --create -k /etc/x.key", "munge"]);
        assert_eq!(super::left_out_outputs("su", &other), ["/etc/x.key"]);
        let runuser = words(&["-u", "munge", "--", "mungekey", "-c"]);
        assert_eq!(
            super::left_out_outputs("runuser", &runuser),
            ["/etc/munge/munge.key"]
        );
        assert_eq!(
            super::classify("su", &words(&["-c", "true", "nobody"])),
            super::Kind::Harmless
        );
        assert_eq!(
            super::classify("su", &words(&["munge", "-c", "mungekey -c > /dev/null"])),
            super::Kind::NotEmulated
        );
        // A file command under su is not applied: it stays reported.
        assert_eq!(
            super::classify("su", &words(&["munge", "-c", "mkdir -p /var/lib/munge/x"])),
            super::Kind::NotEmulated
        );
        // pacemaker-common's `dd if=/dev/urandom of=/etc/pacemaker/authkey bs=4096 count=1`.
        let dd = words(&[
            "if=/dev/urandom",
            "of=/etc/pacemaker/authkey",
            "bs=4096",
            "count=1",
        ]);
        assert!(matches!(
            super::classify("dd", &dd),
            super::Kind::NonDeterministic(_)
        ));
        assert_eq!(super::left_out_outputs("dd", &dd), ["/etc/pacemaker/authkey"]);
        assert!(super::left_out_outputs("dd", &words(&["if=/etc/a", "of=/etc/b"])).is_empty());
    }

    /// Octave's `pkg rebuild` (octave's postinst and trigger) saves the add-on list with the time
    /// and user@host: left out, naming the file; other Octave code is not.
    #[test]
    fn octave_package_list_rebuild_is_non_deterministic() {
        let args: Vec<String> = [
            "--silent",
            "--no-history",
            "--no-init-file",
            "--no-window-system",
            "--eval",
            "pkg ('rebuild');",
        ]
        .map(str::to_owned)
        .to_vec();
        assert!(matches!(
            super::classify("/usr/bin/octave", &args),
            super::Kind::NonDeterministic(_)
        ));
        assert_eq!(
            super::left_out_outputs("octave", &args),
            ["/usr/share/octave/octave_packages"]
        );
        for other in ["pkg list", "disp(1)"] {
            let args = ["--eval".to_owned(), other.to_owned()];
            assert_eq!(
                super::classify("octave", &args),
                super::Kind::NotEmulated,
                "{other}"
            );
        }
    }

    /// `bash SCRIPT …` is classified as SCRIPT is (mariadb-server's database, made by a script it
    /// runs through bash); `sh -c …` stays the shell's.
    #[test]
    fn a_script_run_through_a_shell_is_that_script() {
        let argv = |s: &str| s.split(' ').map(str::to_owned).collect::<Vec<_>>();
        assert!(matches!(
            super::classify("bash", &argv("/usr/bin/mysql_install_db --rpm --user=mysql")),
            super::Kind::NonDeterministic(_)
        ));
        assert_eq!(
            super::classify("sh", &argv("/usr/sbin/service-helper start")),
            super::classify("/usr/sbin/service-helper", &argv("start"))
        );
        assert_eq!(
            super::classify("sh", &argv("-c true")),
            super::classify("sh", &[])
        );
    }

    /// `setpriv … -- CMD` and `runuser -u USER -- CMD` are classified as CMD (man-db runs
    /// `mandb` as its user); the module loaders say what they make;
    /// icon caches and compiled schemas are computed.
    #[test]
    fn wrapped_commands_and_the_caches_desktop_packages_build() {
        let argv = |s: &str| s.split(' ').map(str::to_owned).collect::<Vec<_>>();
        let mandb = super::classify(
            "setpriv",
            &argv("--reuid man --regid man --init-groups -- /usr/bin/mandb -cq"),
        );
        assert!(matches!(mandb, super::Kind::ImageCode(why) if why.contains("/var/cache/man")));
        assert_eq!(
            super::classify("runuser", &argv("-u nobody -- true")),
            super::Kind::Harmless
        );
        // Without `--`, setpriv is the command itself.
        assert_eq!(
            super::classify("setpriv", &argv("--reuid man mandb")),
            super::Kind::NotEmulated
        );
        // A file command under another user is not applied there: it stays reported.
        assert_eq!(
            super::classify("runuser", &argv("-u nobody -- mkdir -p /var/lib/x")),
            super::Kind::NotEmulated
        );
        // Computed from what the modules declare (`plugins`), which reports the modules it
        // does not know.
        for (tool, args) in [
            ("/usr/lib/x86_64-linux-gnu/glib-2.0/gio-querymodules", "/x"),
            (
                "/usr/lib/x86_64-linux-gnu/gdk-pixbuf-2.0/gdk-pixbuf-query-loaders",
                "/x",
            ),
            (
                "/usr/lib/x86_64-linux-gnu/libgtk-3-0/gtk-query-immodules-3.0",
                "--update-cache",
            ),
            ("libgvc6-config-update", "-c"),
            ("update-dictcommon-hunspell", ""),
            ("update-default-ispell", "--triggered"),
        ] {
            assert_eq!(
                super::classify(tool, &argv(args)),
                super::Kind::Emulated,
                "{tool}"
            );
        }
        assert_eq!(
            super::classify("update-icon-caches", &argv("/usr/share/icons/Adwaita")),
            super::Kind::Emulated
        );
        assert_eq!(
            super::classify(
                "/usr/lib/x86_64-linux-gnu/glib-2.0/glib-compile-schemas",
                &argv("/usr/share/glib-2.0/schemas")
            ),
            super::Kind::Emulated
        );
    }

    /// Loading a kernel module, applying sysctl settings and udev's triggers act on the running
    /// kernel: listed with service management. Their queries and udev's hardware database are
    /// not.
    #[test]
    fn the_running_kernels_state_is_service_management() {
        let argv = |s: &str| s.split(' ').map(str::to_owned).collect::<Vec<_>>();
        for (name, args) in [
            ("modprobe", "fuse"),
            ("modprobe", "-q fuse"),
            (
                "sysctl",
                "--quiet --pattern ^kernel\\.unprivileged_userns_clone$ --system",
            ),
            ("sysctl", "-w net.ipv4.ip_forward=1"),
            ("sysctl", "-p /etc/sysctl.d/99-x.conf"),
            ("udevadm", "trigger --subsystem-match=net"),
            ("udevadm", "control --reload-rules"),
        ] {
            assert_eq!(
                super::classify(name, &argv(args)),
                super::Kind::Service,
                "{name} {args}"
            );
        }
        for (name, args) in [
            ("modprobe", "-n fuse"),
            ("modprobe", "-qD fuse"),
            ("modprobe", "--resolve-alias fs-fuse"),
            ("sysctl", "--pattern=^kernel --all"),
            ("sysctl", "-a"),
            ("sysctl", "kernel.hostname"),
            ("udevadm", "info /dev/null"),
        ] {
            assert_ne!(
                super::classify(name, &argv(args)),
                super::Kind::Service,
                "{name} {args}"
            );
        }
        assert_eq!(
            super::classify("udevadm", &argv("hwdb --update")),
            super::Kind::Emulated
        );
    }

    /// etckeeper's repository of /etc (its postinst runs `etckeeper init` and `etckeeper commit`
    /// on a fresh install) is left out: its commits carry the time and the host's name. The
    /// shell script is classified, not followed into.
    #[test]
    fn etckeepers_repository_is_left_out() {
        let argv = |s: &str| s.split(' ').map(str::to_owned).collect::<Vec<_>>();
        for args in ["init", "commit Initial", "update-ignore"] {
            assert!(
                matches!(
                    super::classify("etckeeper", &argv(args)),
                    super::Kind::NonDeterministic(_)
                ),
                "{args}"
            );
        }
    }

    /// openssl making keys, parameters or random bytes is non-deterministic, and what it writes
    /// (`-out`, `-keyout`) is pending; reading or printing one is harmless to the image.
    #[test]
    fn openssl_generating_is_left_out() {
        let argv = |s: &str| s.split(' ').map(str::to_owned).collect::<Vec<_>>();
        let dh = argv("dhparam -out /etc/freeradius/3.0/certs/dh 1024");
        assert!(matches!(
            super::classify("openssl", &dh),
            super::Kind::NonDeterministic(_)
        ));
        assert_eq!(
            super::left_out_outputs("openssl", &dh),
            ["/etc/freeradius/3.0/certs/dh"]
        );
        let req = argv("req -new -x509 -nodes -keyout /k.pem -out /c.pem");
        assert_eq!(super::left_out_outputs("openssl", &req), ["/k.pem", "/c.pem"]);
        assert!(!matches!(
            super::classify("openssl", &argv("x509 -in /c.pem -noout -hash")),
            super::Kind::NonDeterministic(_)
        ));
    }
}
