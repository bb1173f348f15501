//! Layer cache keys: what a layer's bytes depend on, and the running executable's identity for
//! what depends on debcast's own code (the generated layer, the unpack records).

use std::fmt::Write as _;
use std::sync::OnceLock;

use crate::hash::Sha256Digest;
use crate::layering::PackageLayer;
use crate::lockfile::LockedPackage;
use crate::manifest::Manifest;
use crate::oci::Compression;
use crate::platform::Platform;

use super::artifacts::PlatformArtifact;

/// Version of how debcast turns packages into layer bytes; part of every layer cache key, bumped
/// whenever the tar writer, the entry order or the layer contents change, and (as the project's
/// one format version) whenever an image's bytes change: 2 added the manifest annotations of the
/// lockfile's hash and the standard `org.opencontainers.image.*` keys; 3 the accounts maintainer
/// scripts create (adduser/useradd…) and pam-auth-update's `/etc/pam.d/common-*` and `/var/lib/pam`;
/// 4 systemd-sysusers' accounts, dpkg-statoverride's database and modes, and the files the account
/// tools leave beside theirs (`/etc/passwd-`, `group-`, `shadow-`, `gshadow-`, `/etc/.pwd.lock`);
/// 5 files postinsts write with `cat >FILE <<EOF` (netbase's `/etc/networks` and `/etc/hosts`,
/// libwrap0's `/etc/hosts.allow`/`deny`), ucf's fresh installs of configuration files (with its
/// hash file, registry and cache), and runit-helper's service links; 6 what postinsts write with
/// `cp`, `sed -i`, `mktemp`, `echo`/`printf` into files, their `||` fallbacks after file tests and
/// their branches on debconf answers (openssh-server's `sshd_config`, python3's
/// `/etc/python3/debian_config`, readline's `/etc/inputrc`), and `remove-on-upgrade` conffiles in
/// dpkg's status as dpkg records them; 7 php-common's `phpenmod` (conf.d links, module state and
/// registry), systemd's message catalog database (`journalctl --update-catalog`), symbolic
/// `chmod` modes (`u+s`) and five-digit numeric ones, `getent` answered as a condition (cron's
/// `crontab` group) and a `chown` of a missing account failing into its fallback (postfix's
/// `|| adduser`), `dpkg-divert --truename` from the diversions made, dpkg's diversions file in
/// its hash-table order, `setcap`'s capabilities as `security.capability` extended attributes
/// (PAX `SCHILY.xattr` records), `rmdir`, the shell scripts maintainer scripts run as helpers
/// (mysql-common's `configure-symlinks`) walked command by command, pathname expansion of
/// unquoted patterns against the image, and on bullseye its own `ld.so.cache` layout (Debian
/// glibc 2.31's), `/etc/shells` without update-shells and adduser 3.118's system users; 8
/// libxml-sax-perl's parser registry (`update-perl-sax-parsers`) and ucf replacing a file it
/// installed that nobody changed, the working directory after `cd` (relative paths and
/// redirections: postfix's queue directories and `dynamicmaps.cf`), `( … )` as a subshell,
/// `< FILE` read by `while read` loops and commands, a blank in `${x%% *}`, `A | grep -q` as a
/// condition (mariadb-common's `my.cnf` priority through `update-alternatives --query`), `[ -r ]`
/// and `[ -w ]`, `install` of one file (`/dev/null` too), `chmod`/`chown`/`chgrp` changing the
/// files they can when another is missing, AppArmor seen as disabled at build time, and a
/// preinst not seeing the files only its own package ships (squid's AppArmor `disable/` link),
/// sed's `\t` inside a bracket list (lighttpd's placeholder page), `lighty-enable-mod`, and
/// `install -d` with glued option values (exim4's spool directories), and variables nothing
/// assigned read as empty in the scripts dpkg runs, and sgml-base's `update-catalog`; 9 the
/// order packages are configured in (apt's and dpkg's: the Essential set, `Pre-Depends` targets,
/// then `dpkg --configure --pending`'s hash-table order; it decides dynamic ids and registry
/// lines), `getent`'s printed entries (tor's `debian-tor` account), `cut -b`/`-c` (dovecot's
/// `conf.d` modes), the script's functions as conditions (slapd's first configuration now
/// reaches `mkdir -p /etc/ldap/slapd.d`), `chown USER:` with the user's login group (nfs-common),
/// ucf recording a destination that already holds the new file, and links to what a command
/// left out would make (dovecot-core's certificate links to the snake-oil pair), `usermod -g`,
/// and copies of the kernel's randomness left out (varnish's secret is no longer an empty file),
/// `cmp -s A B` as a condition (libsensors5's preinst removed the packaged `/etc/sensors3.conf`),
/// a debconf answer set from an unknown value left unknown (libpaper1's empty `/etc/papersize`),
/// `shadowconfig on` (pwconv/grpconv) where passwd is configured, after the accounts of packages
/// configured before it (systemd-sysusers' entries open the shadow files), `chmod`/`chown`/`chgrp
/// -R`, `find … -exec CMD {} ;`/`-delete` and `grep -r` as a condition (freeradius'
/// `/etc/freeradius`, its `ssl-cert` membership), `cp -r` of a directory (tomcat10's `ROOT`
/// webapp), `openssl` making keys or parameters left out as non-deterministic, a file a script
/// assembles from values not known left out instead of half-written (clamav-daemon's `clamd.conf`),
/// and `~USER` expanded to the user's home (proftpd-core's `~ftp/welcome.msg`); 10 shared-mime-info's
/// database (`update-mime-database /usr/share/mime`: the per-type XML files, `globs`, `magic`,
/// `mime.cache` and the rest, byte for byte), the install rounds (a round's preinsts after the
/// previous round's postinsts: mariadb-server's user made with shadow on), here-documents with
/// expansions written expanded and appends to a file left out refused (tftpd-hpa's
/// `/etc/default/tftpd-hpa`), `awk '{ print $N }'` in pipelines (tftpd-hpa's user), and
/// fontconfig's `CACHEDIR.TAG` (`fc-cache -s`); 11 awk programs run (libpaper1's paper size
/// from the locale, through a here-document), debconf commands deciding conditions (an answer
/// the config script would have computed is no longer skipped), `md5sum` of image files (ucf's
/// hashfile), `run-parts` over a directory with nothing to run, update-alternatives taking
/// a choice that is another group's link (uwsgi-plugin-python3's `uwsgi` group), `local
/// NAME=VALUE` assigning (nagios4-common's modes and owners), `$(find … | sort)` (tex-common's
/// `texmf.cnf`), `dpkg-query -S`, `eval`, `while`/`until` loops, test's integer comparisons,
/// getopt's output, and a config script not walked leaving its package's answers unknown (a
/// file built from them is left out); 12 debconf's confmodule no longer making every unset
/// variable unknown, `export NAME=VALUE`, `$?` and functions' statuses, debconf's failure for a
/// question without a template and `db_metaget Q value` (clamav-daemon's `clamd.conf` and
/// clamav-freshclam's `freshclam.conf` written as the scripts write them), arithmetic expansion
/// (debconf state machines), and values set on a guessed path no longer written as known
/// (console-setup's `CHARMAP`: its file is left out and listed); 13 sed addresses, ranges, `d`,
/// `p` and case conversion (ejabberd's `ejabberd.yml`, nslcd's `nslcd.conf`), scripts with bytes
/// that are not UTF-8 walked (exim4-config's config), a `mktemp` file written by a command not
/// reproduced and what is copied from it left out instead of empty, config scripts walked with
/// the image's condition answers and helpers, `cp /dev/null`, `install -b`, certtool's keys left
/// out as non-deterministic, files written from the host's name left out, `dpkg -s`, and
/// `ucfq -w` (autofs's ucf registry); 14 a file written in a loop the walk cannot run (over input
/// it cannot read) left out instead of kept as if the loop ran no time, postgresql-common's
/// `pg_updatedicts` (dictionaries converted to UTF-8 and linked for each server), `pg_lsclusters
/// -h` answered for an image without clusters, and `su USER -c 'test -O DIR && test -G DIR'`
/// answered from the image (postgresql-common's chown of /var/lib/postgresql); 15 `expr` (its
/// `STRING : REGEX`, `length` and one-operator forms) deciding conditions and printing
/// (xfonts-utils' `update-fonts-alias` writes `fonts.alias` now that `update-fonts-dir` takes the
/// right branch); 16 binfmt-support's `update-binfmts --import` (qemu-user-static's formats in
/// /var/lib/binfmts) and `grep -z` as a condition; 17 `local` variables restored when their
/// function returns (samba-common's smb.conf), and sed's blocks (`ADDRESS { … }`) with GNU's
/// start of a numbered range first reached past its line; 18 backquotes read with sh's escapes
/// (`\\`, `` \` ``, `\$`) and sed's `-eSCRIPT` (samba-common's workgroup escaping); 19 libc-bin's
/// nsswitch.conf installed before the other postinsts run (libnss-sss adds `sss` to it) and grep
/// with several `-e` patterns; 20 sed's `-e` scripts read as one program (a block in a later
/// one), a loop's `read VAR` target not taken as the value before the loop, grep's operand before
/// `-e` a file, and expr's integers and null values as GNU's; 21 libpaper's `paperconf` answered
/// from /etc/papersize (r-base-core's /etc/R/Renviron and ucf's copy of it), `wc`'s single
/// counts and `tr`'s character classes in pipelines (xfonts-utils' `update-fonts-scale` writes
/// `fonts.scale`), and `/etc/shells` as update-shells' runs write it (a later shells.d file runs
/// it again after the postinsts' add-shell lines; a shell listed twice is written twice); 22
/// another package's file diverted by a script moved to the new name (`--rename`, or unpacked in
/// a later round: dictionaries-common's divert of wamerican's /usr/share/dict/words), and
/// dpkg-divert's default action `--add`; 23 icon themes' `icon-theme.cache` computed
/// (gtk-update-icon-cache, asked for by update-icon-caches and hicolor-icon-theme's postinst); 24
/// `ls [-1] [-v] DIR` answered, `test -s` decided, a query's status kept for `$?`, and mawk's
/// undefined regular-expression escapes taken literally (auditd's augenrules writes
/// /etc/audit/audit.rules); 25 `id [-u|-g|-un|-gn] USER` answered from the image's accounts
/// (jetty9's authbind file); 26 GSettings' `gschemas.compiled` written as libglib2.0-0's
/// glib-compile-schemas run and trigger leave it (GTK, browsers, desktop applications); 27 udev's
/// `hwdb.bin` compiled as systemd-hwdb writes it, `mktemp` templates with a suffix, `usermod
/// -c/-d/-s`, `update-alternatives --display` answered and debconf's answers in the alternatives
/// walk (sysstat's `sar`), a select question taking its first choice at `db_go` (lightdm's
/// /etc/X11/default-display-manager); 28 that select checked against the untranslated `Choices-C`
/// (27's first version lost fontconfig's `hintslight` link), etckeeper's repository left out
/// instead of walked; 29 conffiles hidden from the scripts until their package is configured,
/// and `postinst triggered` walked and applied where dpkg runs it (sgml-base's
/// `supercatalog.old`); 30 a2dismod and a2query (libapache2-mod-php's MPM switch), a sourced
/// file's top-level code walked, and desktop-file-utils' `mimeinfo.cache` computed; 31 awaited
/// triggers processed where `dpkg --configure --pending` stalls on them, before the dependent
/// package is configured (docutils-common: sgml-base's `supercatalog.old`), mailcap's
/// `/etc/mailcap` computed as update-mime writes it, `rm -r` applied, and `usermod -G` (without
/// `-a`), `-L`, `-U`, `-e`, `-f`, `-p` as shadow's usermod writes them (bacula's tape member,
/// ceph's rewritten `passwd-`), a preinst's `[ -L ]` not seeing its own package's link (snmp's
/// doc link kept); 32 compound commands' statuses (a function ending in `if`, `case` or a loop
/// returns it: dbconfig-common's global configuration written), `IFS` field splitting and
/// `read`, `case` patterns expanded, hard links (cups' backends), sed's labels and branches and
/// exclusive literal alternation (libnss-winbind's nsswitch.conf), `| xargs`, chfn, the
/// alternatives earlier scripts installed seen by later ones, and a here-document holding a
/// random value left out as non-deterministic; 33 the scripts walked in the build's fixed
/// environment (C.UTF-8, noninteractive debconf, apt's PATH) with `locale` answered from it
/// (keyboard-configuration's /etc/default/keyboard), an assignment's status from its
/// substitution, a script's function before a command inside `$(…)`, sed's delimiter inside
/// brackets, identity `iconv`, aliases, `"$@"` without parameters as no field, `${@}`, `id -u`
/// as root's, a substitution reading its command's input, sourced files read anew after a
/// rewrite, and what is made from the host's name kept the machine's through files (exim4's
/// update-exim4.conf.conf and config.autogenerated left out as non-deterministic); 34 mktemp's
/// status known (setupcon's temporary files no longer left in /tmp and /run), X font
/// directories indexed as mkfontdir does (fonts.dir, encodings.dir), Octave's package list left
/// out as non-deterministic, find's operators and owner tests feeding a per-file `while read`
/// loop (frr's /etc/frr owned by frr), find's paths named from the start as given, `getfacl
/// -c`, `id -u` of a missing user failing, `stat -c%a`, `head`/`tail` of a file, `tr -s`, and
/// CUPS' scheduler not running (cups' postinst no longer leaves /var/cache/cups/ppd-updates),
/// no accounts made by an account tool the image does not have, and a write inside `$(…)` made
/// instead of taken as the substitution's value; 35 `dpkg-statoverride --list`'s output
/// answered from the database (amavisd-new's override check), `tr -s SET1 SET2`, sed's bundled
/// short options as getopt reads them (dma's `sed -i -re …` makes /etc/dma/dma.conf) and its
/// `--silent`/`--quiet`/`--expression`/`--regexp-extended` in a filter (cyrus-common's
/// user_deny.db), and the files a left-out `dd if=/dev/urandom of=FILE` or `mungekey` would
/// make treated as such (pacemaker's authkey, munge's key), and `exec CMD` walked as CMD
/// (cyrus-common's `cyrus makedirs` makes its spool directories), and a command inside `$(…)`
/// reading its input from a file (cyrus-common's `getconf`: `sed … < /etc/imapd.conf`), and
/// find's `-H`, `-execdir` of chown/chgrp/chmod/rm, and an action after a parenthesised `-o`
/// (cyrus' makedirs gives its directories to cyrus:mail), and a `setcap` condition decided as
/// the call succeeds (fping's postinst no longer adds its set-user-id fallback); 36 `grep -c`
/// answered (squidguard's configuration is no longer saved aside and edited), `CMD &` run as a
/// subshell (an `exec` or `exit` in it no longer ends the script), and the file a command left
/// out as non-deterministic prints to left out with it, as is what a command not reproduced
/// makes from it (munin-node's `munin-node-configure --shell > TMP; sh < TMP`), and what a
/// left-out command makes treated as the machine's (courier's PEM files), a file printed from
/// a random value or the host's name left out (nvme-cli's hostid and hostnqn), getopt's own
/// long options by prefix (dbconfig-generate-include), bash's `function NAME` (nbd-server's
/// configuration and account), modes such as `02750` (motion's set-group-id directory), bash's
/// `$RANDOM` (debsecan's cron entry), and relative patterns and `ls` of relative names in a
/// known working directory (ldap-account-manager's templates); 37 gdk-pixbuf's loaders.cache
/// and GIO's giomodule.cache written from what the modules of known versions declare, and GTK's
/// immodules.cache and Graphviz's config6a, and dictionaries-common's registry where only
/// hunspell dictionaries are installed (a config script's write to a file is now reported, no
/// byte changes), and emacsen-common's records of each Emacs add-on package and flavor (their
/// byte-compilation stays reported); 38 install-info's `update-info-dir` left out as
/// non-deterministic by nature (its menu follows the host's directory order): the image keeps
/// base-files' `dir` instead of a `dir.old` copy of it and no `dir`, and `mountpoint -q DIR`
/// answered as dpkg's run in a chroot sees it (usrmerge's preinst no longer stops at `exit 1`),
/// and systemd-tmpfiles' `a`/`a+` lines written as POSIX ACL attributes (systemd's
/// `/var/log/journal`), and useradd before shadow 4.13 (bullseye) resetting a new uid's
/// lastlog and faillog records, and git-lfs's filter in /etc/gitconfig (`git lfs install
/// --system`); 39 update-inetd's entries in /etc/inetd.conf (amanda-common's, talkd's,
/// fingerd's lines under their group headings); 40 `exec >FILE` in scripts (mdadm's mkconf
/// writes mdadm.conf that way), SOURCE_DATE_EPOCH in the scripts' environment with `date` of a
/// given instant, `>&2` kept out of an enclosing file, and ccache's compiler links; 41 standard
/// error modelled for redirections (`2>&1`, `>&2`, a function call's), file commands after
/// `exec >FILE` applied, and `${X:-…}` words that keep their blanks and `<`, `>` (mdadm's
/// `#DEVICE partitions containers`, `HOMEHOST <system>`); 42 ucf's NEW relative to the working
/// directory (postgrey's configuration), and alternatives' slaves whose file is another group's
/// link (fp-compiler's `pc.1.gz`); 43 a trigger a package activates for itself in its
/// `postinst configure` processed after it (libvlc-bin's plugin cache is reported); 44 a
/// redirection before a command's words (`>FILE cmd`, `>&2 echo`, `>FILE` alone) is the
/// command's, `$(…)` captures standard output (and standard error after `2>&1`) only,
/// `readlink` is answered from the image, exported variables reach a command's environment,
/// `usermod -m -d` with nothing to move changes the home, a short option's glued value is read
/// (`mkdir -m0750`), `ls` of a missing path prints nothing, a computed tool whose package is
/// not in the image makes nothing, a file edited in place from the host's name or a random
/// value is left out, and so is one a pipeline writes from such a value, install's symbolic
/// modes are read, and a kernel package's `linux-update-symlinks` makes the default kernel's
/// links; 45 a Perl SAX parser with several features registered, sorted as Debian's
/// `save_parsers_debian` writes them, its parents' features included (XML::SAX::Expat), and a
/// relative pattern with `.` or `..` expanded in a known working directory, with `ln -s
/// TARGET… DIRECTORY` (shellinabox's option links; an unknown directory's pattern is reported),
/// and `passwd -l`/`-u` rewriting shadow with its backup (sidedoor's `/etc/shadow-`).
pub(super) const LAYER_FORMAT: u32 = 45;

/// A key per artifact layer, each chained to the one before (an artifact's layer depends on
/// what the artifacts below it placed).
pub(super) fn artifact_layer_keys(
    artifacts: &[PlatformArtifact<'_>],
    below: Sha256Digest,
    usrmerge: bool,
    compression: Compression,
    sde: u64,
) -> Vec<Sha256Digest> {
    let mut previous = below;
    artifacts
        .iter()
        .map(|a| {
            let spec = serde_json::to_string(a.artifact).unwrap_or_default();
            let text = format!(
                "{}artifact\nbelow {previous}\nformat {:?}\nsha256 {}\nspec {spec}\n",
                key_preamble(usrmerge, compression, sde),
                a.format,
                a.locked.sha256
            );
            previous = Sha256Digest::of(text.as_bytes());
            previous
        })
        .collect()
}

/// What every layer's bytes depend on besides its own contents.
pub(super) fn key_preamble(usrmerge: bool, compression: Compression, sde: u64) -> String {
    let compression = match compression {
        Compression::Gzip { level } => format!("gzip {level}"),
        Compression::Zstd { level } => format!("zstd {level}"),
        Compression::None => "none".to_owned(),
    };
    format!(
        "debcast layer format {LAYER_FORMAT} ({})\ncompression {compression}\nsource-date-epoch {sde}\nusrmerge {usrmerge}\n",
        env!("CARGO_PKG_VERSION")
    )
}

pub(super) fn package_lines(out: &mut String, locked: &[&LockedPackage], layer: &PackageLayer) {
    for &i in &layer.packages {
        let p = locked[i];
        let _ = writeln!(
            out,
            "package {} {} {} {}",
            p.name, p.version, p.architecture, p.sha256
        );
    }
}

/// A package layer is a pure function of its `.deb` files (and the preamble).
pub(super) fn package_layer_key(
    locked: &[&LockedPackage],
    layer: &PackageLayer,
    usrmerge: bool,
    compression: Compression,
    sde: u64,
) -> Sha256Digest {
    let mut text = key_preamble(usrmerge, compression, sde);
    package_lines(&mut text, locked, layer);
    Sha256Digest::of(text.as_bytes())
}

/// The generated layer depends on every package, how they are layered, the manifest's `[system]`,
/// the architecture, and on the configure step's code: the running executable's identity (size,
/// modification time, inode) stands for that, so a rebuilt debcast never reuses an old one's dpkg
/// database (at worst an identical rebuild misses once).
pub(super) fn generated_layer_key(
    manifest: &Manifest,
    platform: &Platform,
    locked: &[&LockedPackage],
    groups: &[PackageLayer],
    compression: Compression,
    sde: u64,
) -> Sha256Digest {
    let mut text = key_preamble(manifest.usrmerge(), compression, sde);
    let system = serde_json::to_string(&manifest.system).unwrap_or_default();
    let _ = writeln!(
        text,
        "generated\nexecutable {}\nplatform {platform} {}\nsystem {system}",
        executable_identity(),
        platform.debian_arch()
    );
    for g in groups {
        text.push_str("layer\n");
        package_lines(&mut text, locked, g);
    }
    Sha256Digest::of(text.as_bytes())
}

/// Which debcast executable is running (size, mtime, device and inode of the file), for cache
/// entries that depend on its code.
pub(crate) fn executable_identity() -> String {
    use std::os::unix::fs::MetadataExt;
    static ID: OnceLock<String> = OnceLock::new();
    ID.get_or_init(|| {
        // Shared through a remote cache, entries must match on other machines: the content.
        if crate::remote::active().is_some()
            && let Some(hash) = std::env::current_exe()
                .and_then(std::fs::File::open)
                .and_then(|f| {
                    let mut r = crate::hash::HashingReader::new(std::io::BufReader::new(f));
                    std::io::copy(&mut r, &mut std::io::sink()).map(|_| r.finish().0)
                })
                .ok()
        {
            return format!("sha256 {}", hash.hex());
        }
        std::env::current_exe().and_then(std::fs::metadata).map_or_else(
            // Unknown: never match another process's entries.
            |_| {
                format!(
                    "unknown {} {:?}",
                    std::process::id(),
                    std::time::SystemTime::now()
                )
            },
            |m| {
                format!(
                    "{} {}.{} {}:{}",
                    m.len(),
                    m.mtime(),
                    m.mtime_nsec(),
                    m.dev(),
                    m.ino()
                )
            },
        )
    })
    .clone()
}
