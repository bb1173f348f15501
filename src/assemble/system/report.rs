//! The honesty report: every command a maintainer script would run on a fresh install that
//! debcast does not reproduce, one entry per command line.
//!
//! Scripts are walked with [`super::shell::Eval`] along the path a fresh install takes
//! (`postinst triggered NAMES` for the packages whose triggered postinst [`super::files`] ran
//! where dpkg runs it, for what that walk did not apply: dpkg runs no triggered postinst for an
//! activation while the interested package is not configured yet, sgml-base's own files
//! activating its catalog trigger among them;
//! `preinst install`, `config configure` and `postinst configure` are walked by
//! [`super::files`], which applies their file commands in order, gives config scripts the
//! debconf answers of the install so far, and reports the rest — here only the config scripts of
//! packages whose postinst it does not walk), with
//! file tests and `command -v` answered from the image. `prerm` and `postrm` never run when
//! packages are only installed, so they have nothing to report. Commands fall in three groups:
//! emulated (update-alternatives, add-shell, ldconfig, update-ca-certificates, …: silent),
//! harmless (tests, queries, output, debconf: silent), and the rest (reported). Service
//! management is reported as skipped, since a container has no init to talk to.

use std::collections::BTreeSet;

use super::commands::{WHOLE_POSTINST, classify};
use super::shell::{self, Call};
use super::{InstalledPackage, NotEmulated, TreeView};

/// Per package whose `postinst triggered` `files` walked, the command lines that walk met.
pub type TriggersApplied = std::collections::BTreeMap<String, BTreeSet<String>>;

/// Every not-emulated command of every package's install-time scripts, sorted. Config scripts
/// `files` does not walk are walked against `tree` (as unpacked), triggered postinsts against
/// `configured` (the tree once every package is configured, when dpkg processes triggers):
/// those of the packages of `triggers_applied`, whose `postinst triggered` `files` walked at the
/// point of the install dpkg runs it (no other package's runs). The file commands that walk met
/// (applied, or reported by it) are not listed again; the rest is, as this walk sees what the
/// sibling modules computed after `files` (the alternatives: ca-certificates-java's trigger asks `which java`, and what its
/// answer guards is listed here when the walk in `files` did not reach it).
pub fn scan(
    tree: &dyn TreeView,
    configured: &dyn TreeView,
    packages: &[InstalledPackage],
    native_arch: &str,
    triggers_applied: &TriggersApplied,
) -> Vec<NotEmulated> {
    let mut out: BTreeSet<NotEmulated> = BTreeSet::new();
    let mut activated = activated_triggers(packages);
    activated.extend(script_activations(tree, packages, native_arch));
    for pkg in packages {
        // Most config scripts are walked by `files`, with the answers the install has so far.
        if !config_walked_with_postinst(pkg) {
            scan_script(
                tree,
                pkg,
                ("config", "config"),
                &["configure".to_owned(), String::new()],
                native_arch,
                None,
                &mut out,
            );
        }
        let names: Vec<&str> = pkg
            .trigger_interests()
            .into_iter()
            .filter(|n| activated.iter().any(|a| trigger_matches(n, a)))
            .collect();
        if !names.is_empty()
            && !WHOLE_POSTINST.contains(&pkg.name.as_str())
            && let Some(met) = triggers_applied.get(&pkg.name)
        {
            let args = vec!["triggered".to_owned(), names.join(" ")];
            scan_script(
                configured,
                pkg,
                ("postinst", "postinst triggered"),
                &args,
                native_arch,
                Some(met),
                &mut out,
            );
        }
    }
    scan_certificate_hooks(configured, packages, native_arch, &mut out);
    out.into_iter().collect()
}

/// Where `update-ca-certificates` finds the hooks it runs once the store is updated.
const CERTIFICATE_HOOKS: &str = "/etc/ca-certificates/update.d";

/// ca-certificates' postinst is reproduced whole ([`WHOLE_POSTINST`]), `update-ca-certificates`
/// included, but that command ends by running the hooks in [`CERTIFICATE_HOOKS`] (the names
/// `run-parts --test` lists), which are other packages' programs: each is walked here like a
/// script, as ca-certificates' postinst runs it, so what it does (Mono's `cert-sync` filling
/// /etc/mono/certstore) is reported rather than lost. ca-certificates-java's `jks-keystore` is
/// accounted for already: it only queues the certificates for the Java keystore's trigger,
/// whose import is reported with the keystore. A hook is walked whenever the image holds it,
/// although dpkg runs it only if ca-certificates is configured or triggered after the hook is
/// unpacked (its package activating the trigger, as ca-certificates-mono does): a report that
/// may name a hook that did not run is safer than a difference nobody reported.
fn scan_certificate_hooks(
    configured: &dyn TreeView,
    packages: &[InstalledPackage],
    native_arch: &str,
    out: &mut BTreeSet<NotEmulated>,
) {
    let Some(runner) = super::installed(packages, "ca-certificates") else {
        return;
    };
    let Some((_, names)) = super::children(configured, CERTIFICATE_HOOKS) else {
        return;
    };
    for name in names.iter().filter(|n| super::commands::run_parts_name(n)) {
        let path = format!("{CERTIFICATE_HOOKS}/{name}");
        if !matches!(
            super::file_kind(configured, &path),
            Some(shell::FileKind::File { executable: true, .. })
        ) {
            continue;
        }
        let shipped = path.trim_start_matches('/');
        let owner = packages
            .iter()
            .find(|p| p.files.iter().any(|f| f == shipped))
            .unwrap_or(runner);
        if owner.name == "ca-certificates-java" && name == "jks-keystore" {
            continue;
        }
        let text = super::source_text(configured, &path).unwrap_or_default();
        // The hook runs as a child of ca-certificates' postinst: that is the environment dpkg
        // gives it (`DPKG_MAINTSCRIPT_PACKAGE`, …).
        let script = Script {
            package: &runner.name,
            architecture: &runner.architecture,
            member: "postinst",
        };
        let label = format!("{path} (update-ca-certificates' hook)");
        scan_text(
            configured,
            text.as_bytes(),
            script,
            (&owner.name, &label),
            &[],
            native_arch,
            None,
            out,
        );
    }
}

/// Why a maintainer script is not read: it is not a shell script (`None`: it is one).
pub fn non_shell(text: &str) -> Option<String> {
    let first = text.lines().next().unwrap_or("");
    (!text.starts_with("#!") || !first.contains("sh"))
        .then(|| format!("non-shell script ({first}); not read"))
}

/// A maintainer script as the walk reads it: its commands, or why it is not read (not a shell
/// script, not parsed).
pub fn walkable(raw: &[u8]) -> Result<Vec<shell::Node>, String> {
    // Bytes that are not UTF-8 become U+FFFD: unknown text to the walk (see `script_text`).
    let text = String::from_utf8_lossy(raw);
    if let Some(why) = non_shell(&text) {
        return Err(why);
    }
    shell::parse(&text).map_err(|e| unreadable(&e))
}

/// Walks `script`: the control member, and how the report names the run.
fn scan_script(
    tree: &dyn TreeView,
    pkg: &InstalledPackage,
    (member, label): (&str, &str),
    args: &[String],
    native_arch: &str,
    files_met: Option<&BTreeSet<String>>,
    out: &mut BTreeSet<NotEmulated>,
) {
    let Some(raw) = pkg.members.get(member) else {
        return;
    };
    let script = Script {
        package: &pkg.name,
        architecture: &pkg.architecture,
        member,
    };
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    scan_text(
        tree,
        raw,
        script,
        (&pkg.name, label),
        &args,
        native_arch,
        files_met,
        out,
    );
}

/// Walks the script text `raw` as `script` runs, reporting what it does not apply under
/// `(package, label)`; with `files_met`, the file commands `files` met are not listed again.
#[allow(clippy::too_many_arguments)]
fn scan_text(
    tree: &dyn TreeView,
    raw: &[u8],
    script: Script<'_>,
    (package, label): (&str, &str),
    args: &[&str],
    native_arch: &str,
    files_met: Option<&BTreeSet<String>>,
    out: &mut BTreeSet<NotEmulated>,
) {
    let entry = |what: String| NotEmulated {
        package: package.to_owned(),
        script: label.to_owned(),
        what,
    };
    let nodes = match walkable(raw) {
        Ok(read) => read,
        Err(why) => {
            out.insert(entry(why));
            return;
        }
    };
    let mut cb = |c: Call<'_>| {
        if already_holds(tree, &c)
            || files_met.is_some_and(|met| applied_by_files(&c) && met.contains(&command_line(&c)))
        {
            return;
        }
        if let Some(what) = unapplied(&c) {
            out.insert(entry(what));
        }
    };
    if let Err(why) = walk(tree, script, args, native_arch, &nodes, &mut cb) {
        out.insert(entry(cut_short(&why)));
    }
}

/// The report entry for a command of a script walked outside `files` (a config script, a
/// triggered postinst): everything but what is harmless, computed by a sibling module, or
/// skipped by design is listed; the file commands `files` applies elsewhere are listed too, as
/// they are not applied here.
pub fn unapplied(c: &Call<'_>) -> Option<String> {
    let (argv0, rest) = match &c.argv {
        Ok(argv) => (
            argv.first().cloned().unwrap_or_default(),
            argv.get(1..).unwrap_or(&[]).to_vec(),
        ),
        // The words as written: enough to tell what the command is for.
        Err(_) => {
            let mut w = c.text.split_whitespace().map(str::to_owned);
            (w.next().unwrap_or_default(), w.collect())
        }
    };
    // The commands `files` applies (file commands, accounts, PAM, statoverride, ucf, …) are
    // applied from `preinst install` and `postinst configure` only: here they are not.
    let name = argv0.rsplit('/').next().unwrap_or(&argv0);
    let statoverride_query = name == "dpkg-statoverride"
        && matches!(
            super::statoverride::parse(&rest),
            Ok(super::statoverride::Call::List(_))
        );
    // `journalctl --update-catalog` is computed from every catalog file of the image, which
    // are all there when systemd's postinst runs it: a triggered rerun would change nothing.
    let whole_tree = name == "journalctl";
    if super::commands::handles(name, &rest) && !statoverride_query && name != "umask" && !whole_tree {
        return Some(command_line(c));
    }
    let kind = classify(&argv0, &rest);
    // What a command prints into a file (iperf3's config writes `/etc/default/iperf3` with
    // `cat <<EOF > FILE`) is not applied here either: listed with the file, unless the command
    // is listed for itself.
    if let Some((super::shell::Value::Known(path) | super::shell::Value::Unknown(path), append)) = &c.stdout
        && !path.starts_with("/dev/")
        && matches!(
            kind,
            super::commands::Kind::Harmless | super::commands::Kind::Emulated
        )
    {
        let op = if *append { ">>" } else { ">" };
        return Some(format!("{} {op} {path}", command_line(c)));
    }
    super::commands::report_entry(&kind, &command_line(c))
}

/// Whether `files` applies the command (a file command, accounts, ucf, …) when it walks the
/// script: then it is `files`' to apply or report, not this walk's.
fn applied_by_files(c: &Call<'_>) -> bool {
    let words: Vec<String> = match &c.argv {
        Ok(argv) => argv.clone(),
        Err(_) => c.text.split_whitespace().map(str::to_owned).collect(),
    };
    let Some((argv0, rest)) = words.split_first() else {
        return false;
    };
    super::commands::handles(argv0.rsplit('/').next().unwrap_or(argv0), rest)
}

/// Whether a file command of a script walked outside `files` would change nothing in `tree`:
/// `mkdir -p DIR…` where every DIR is a directory already (fontconfig's triggered
/// `mkdir -p /var/cache/fontconfig`). Such a command is not worth a report entry.
fn already_holds(tree: &dyn TreeView, c: &Call<'_>) -> bool {
    let Ok(argv) = &c.argv else { return false };
    let Some((name, args)) = argv.split_first() else {
        return false;
    };
    if name.rsplit('/').next() != Some("mkdir") || c.stdout.is_some() {
        return false;
    }
    let Ok(args) = super::gnu_long_options(args, super::MKDIR_LONG_OPTIONS) else {
        return false;
    };
    let (options, dirs): (Vec<&String>, Vec<&String>) = args.iter().partition(|a| a.starts_with('-'));
    options.iter().all(|o| *o == "-p" || *o == "--parents")
        && !options.is_empty()
        && !dirs.is_empty()
        && dirs
            .iter()
            .all(|d| d.starts_with('/') && super::is_dir(tree, &super::tree_path(d)))
}

/// Whether `files` walks the package's config script, right before its `postinst configure`
/// with the answers the install has so far (and reports it): when that postinst is a shell
/// script it walks. Otherwise `scan` walks the config on its own.
pub fn config_walked_with_postinst(pkg: &InstalledPackage) -> bool {
    !WHOLE_POSTINST.contains(&pkg.name.as_str())
        && pkg
            .script_text("postinst")
            .is_some_and(|t| non_shell(&t).is_none() && shell::parse(&t).is_ok())
}

/// The maintainer script a walk runs as (what dpkg tells it in its environment).
#[derive(Clone, Copy)]
struct Script<'a> {
    package: &'a str,
    architecture: &'a str,
    /// `postinst`, `config`, …
    member: &'a str,
}

/// Walks a package's script as dpkg would run it with `args`, the image answering file tests,
/// `. FILE`, pathname expansion and helper scripts; `Err` when the walk stopped early.
fn walk(
    tree: &dyn TreeView,
    script: Script<'_>,
    args: &[&str],
    native_arch: &str,
    nodes: &[shell::Node],
    cb: &mut dyn FnMut(Call<'_>),
) -> Result<(), String> {
    let files = |p: &str| super::file_kind(tree, p);
    let links = |p: &str| super::is_symlink(tree, p);
    let source = |p: &str| super::source_text(tree, p);
    let helpers = super::commands::follow_into;
    let globs = |pattern: &str| Some(super::glob_paths(tree, pattern));
    shell::Eval::new(args, cb)
        .with_helpers(&helpers)
        .with_globs(&globs)
        .with_files(&files)
        .with_links(&links)
        .with_package(script.package, script.architecture, script.member, native_arch)
        .with_source(&source)
        .run_script(nodes)
}

/// A command's words as a shell would take them back: each quoted unless plain.
pub fn quoted(argv: &[String]) -> String {
    argv.iter()
        .map(|a| {
            let plain = !a.is_empty()
                && a.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-_./:=+,@%^".contains(&b));
            if plain {
                a.clone()
            } else {
                format!("'{}'", a.replace('\'', "'\\''"))
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// The report entry for a script the shell reader could not parse.
pub fn unreadable(e: &shell::ParseError) -> String {
    format!("script could not be read ({e}); none of it emulated")
}

/// The report entry for a script whose walk stopped early ([`shell::Eval::run_script`]).
pub fn cut_short(why: &str) -> String {
    format!("{why}; the rest of the script was not emulated")
}

/// The command as it would run (variables expanded, shell-quoted) when every part is known,
/// else as written in the script.
pub fn command_line(c: &Call<'_>) -> String {
    match &c.argv {
        Ok(argv) => quoted(argv),
        Err(_) => c.text.to_owned(),
    }
}

/// What installing every package activates: explicit `activate*` names and every shipped path
/// (which activates file triggers on it or its parents).
fn activated_triggers(packages: &[InstalledPackage]) -> Vec<String> {
    let mut out = Vec::new();
    for pkg in packages {
        out.extend(pkg.trigger_activations().into_iter().map(str::to_owned));
        out.extend(pkg.files.iter().map(|f| format!("/{f}")));
    }
    out
}

/// The triggers the packages' `postinst configure` activate with `dpkg-trigger [OPTIONS] NAME`
/// (sgml-base's `update-catalog --add --super` does, through dpkg-trigger), where the name is
/// known. Checks (`--check-supported`) and dry runs (`--no-act`) activate nothing.
fn script_activations(tree: &dyn TreeView, packages: &[InstalledPackage], native_arch: &str) -> Vec<String> {
    let mut out = Vec::new();
    for pkg in packages {
        let Some(text) = pkg.script_text("postinst") else {
            continue;
        };
        let text: &str = &text;
        if !text.contains("dpkg-trigger") || non_shell(text).is_some() {
            continue;
        }
        let Ok(nodes) = shell::parse(text) else {
            continue;
        };
        let mut cb = |c: Call<'_>| {
            let Ok(argv) = &c.argv else { return };
            let Some((argv0, args)) = argv.split_first() else {
                return;
            };
            if argv0.rsplit('/').next() == Some("dpkg-trigger")
                && let Some(name) = dpkg_trigger_name(args)
            {
                out.push(name.to_owned());
            }
        };
        // A walk cut short still activated what it reached.
        let script = Script {
            package: &pkg.name,
            architecture: &pkg.architecture,
            member: "postinst",
        };
        let _ = walk(tree, script, &["configure", ""], native_arch, &nodes, &mut cb);
    }
    out
}

/// The trigger `dpkg-trigger [OPTIONS] NAME` activates; `None` for a check
/// (`--check-supported`), a dry run (`--no-act`) or another form.
pub fn dpkg_trigger_name(args: &[String]) -> Option<&str> {
    if args.iter().any(|a| a == "--no-act" || a == "--check-supported") {
        return None;
    }
    let mut operands = args.iter().filter(|a| !a.starts_with('-'));
    match (operands.next(), operands.next()) {
        (Some(name), None) => Some(name),
        _ => None,
    }
}

/// Whether activating `activated` (a trigger name, or a path unpacked or named) fires the
/// interest `interest`: the same name, or for a file trigger the path or one below it.
pub fn trigger_matches(interest: &str, activated: &str) -> bool {
    if interest.starts_with('/') {
        activated == interest
            || activated
                .strip_prefix(interest)
                .is_some_and(|r| r.starts_with('/'))
    } else {
        interest == activated
    }
}

#[cfg(test)]
mod tests {
    /// What a build reports: `postinst configure` (walked by `files`) and the other scripts.
    fn all_reports(tree: &dyn TreeView, packages: &[InstalledPackage], arch: &str) -> Vec<NotEmulated> {
        let (mut r, applied) = super::super::files::compute_at(tree, packages, 0)
            .map(|(_, r, applied)| (r, applied))
            .unwrap_or_default();
        r.extend(scan(tree, tree, packages, arch, &applied));
        r.sort();
        r.dedup();
        r
    }
    use super::super::EffectKind;
    use super::super::testutil::MemTree;
    use super::*;

    /// The packages whose triggered postinst `files` ran, meeting no command.
    fn ran(names: &[&str]) -> TriggersApplied {
        names.iter().map(|n| (n.to_string(), BTreeSet::new())).collect()
    }

    fn pkg(name: &str, scripts: &[(&str, &str)]) -> InstalledPackage {
        InstalledPackage {
            name: name.into(),
            members: scripts
                .iter()
                .map(|(k, v)| (k.to_string(), v.as_bytes().to_vec()))
                .collect(),
            ..Default::default()
        }
    }

    #[test]
    fn reports_unrecognised_commands_once() {
        let postinst = r#"#!/bin/sh
set -e
if [ "$1" = configure ]; then
    if ! getent passwd _apt >/dev/null; then
        adduser --force-badname --system --home /nonexistent --no-create-home --quiet _apt
    fi
    chown _apt:root /var/cache/apt/archives/partial
    chmod 700 /var/cache/apt/archives/partial
    update-alternatives --install /usr/bin/x x /usr/bin/y 10
    ldconfig
fi
# Automatically added by dh_installsystemd/13.11.4
if [ "$1" = "configure" ] || [ "$1" = "abort-upgrade" ]; then
	deb-systemd-helper unmask 'apt-daily.timer' >/dev/null || true
fi
if [ -x /usr/bin/update-mime-database ]; then
    update-mime-database /usr/share/mime
fi
if which py3compile >/dev/null 2>&1; then
	py3compile -p python3-foo
fi
if [ -x "`command -v update-menus`" ]; then
	update-menus
fi
case "$1" in
    abort-upgrade) setcap cap_net_raw+ep /usr/bin/ping ;;
esac
exit 0
"#;
        let prerm = "#!/bin/sh\nset -e\nrm -rf /var/cache/foo\n";
        let mut tree = MemTree::new();
        tree.file("usr/bin/py3compile", b"");
        if let Some((e, _)) = tree.entries.get_mut("usr/bin/py3compile") {
            e.mode = 0o755;
        }
        let r = all_reports(
            &tree,
            &[pkg("apt", &[("postinst", postinst), ("prerm", prerm)])],
            "amd64",
        );
        let whats: Vec<&str> = r.iter().map(|n| n.what.as_str()).collect();
        assert_eq!(
            whats,
            [
                // The tree has no adduser: dpkg's run would fail there.
                "adduser --force-badname --system --home /nonexistent --no-create-home --quiet _apt (adduser is not in the image: under dpkg the command is not found (status 127) and makes nothing; its package, adduser, is not in the package set)",
                // `files` applies chmod/chown where it can, and says why where it cannot.
                "chmod 700 /var/cache/apt/archives/partial (/var/cache/apt/archives/partial does not exist)",
                "chown _apt:root /var/cache/apt/archives/partial (`_apt` is not in /etc/passwd)",
                "py3compile -p python3-foo (not reproduced: it runs the image's own code; byte-compiles Python modules into __pycache__; run `py3compile` (or `python3 -m compileall`) at first start)",
                "skipped: service management: deb-systemd-helper unmask apt-daily.timer",
            ]
        );
        assert!(r.iter().all(|n| n.package == "apt" && n.script == "postinst"));
    }

    #[test]
    fn effects_are_counted_by_kind() {
        // openssh-server 1:9.2p1-2+deb12u10's host key creation (its create_key call, with the
        // arguments it gets), a service restart, and its ucf call, whose new file is mktemp's.
        let postinst = r#"#!/bin/sh
set -e
create_key() {
	file="$1"
	shift
	if [ ! -f "$file" ] ; then
		ssh-keygen -q -f "$file" -N '' "$@"
		ssh-keygen -l -f "$file.pub"
	fi
}
if [ "$1" = configure ]; then
	create_key /etc/ssh/ssh_host_ed25519_key -t ed25519
	deb-systemd-invoke restart ssh.service
	new_config="$(mktemp)"
	ucf --three-way --debconf-ok --sum-file /usr/share/openssh/sshd_config.md5sum "$new_config" /etc/ssh/sshd_config
fi
"#;
        let r = all_reports(
            &MemTree::new(),
            &[pkg("openssh-server", &[("postinst", postinst)])],
            "amd64",
        );
        let got: Vec<(EffectKind, &str)> = r.iter().map(|n| (n.kind(), n.what.as_str())).collect();
        assert_eq!(
            got,
            [
                (
                    EffectKind::NonDeterministic,
                    "skipped: non-deterministic by nature: ssh-keygen -q -f /etc/ssh/ssh_host_ed25519_key -N '' -t ed25519; left out: /etc/ssh/ssh_host_ed25519_key.pub (made at first start: ssh-keygen -A)"
                ),
                (
                    EffectKind::Service,
                    "skipped: service management: deb-systemd-invoke restart ssh.service"
                ),
                (
                    EffectKind::Unsupported,
                    "ucf --three-way --debconf-ok --sum-file /usr/share/openssh/sshd_config.md5sum \"$new_config\" /etc/ssh/sshd_config (its arguments are not known)"
                ),
            ]
        );
    }

    /// An executable at `path` in `tree` (for `which`/`command -v`/`[ -x ]`).
    fn tool(tree: &mut MemTree, path: &str) {
        tree.file(path, b"");
        if let Some((e, _)) = tree.entries.get_mut(path) {
            e.mode = 0o755;
        }
    }

    /// update-ca-certificates' hooks (bookworm's two): ca-certificates-mono's `mono-keystore`
    /// runs cert-sync, reported under the hook's package; ca-certificates-java's `jks-keystore`
    /// is accounted for with the keystore; what run-parts would not start is not walked.
    #[test]
    fn update_ca_certificates_hooks_are_walked() {
        // ca-certificates-mono 6.8.0.105+dfsg-3.3+deb12u1
        let mono = "#!/bin/sh\n\nset -e\n\n[ -f /usr/bin/cert-sync ] || exit 0\n\necho \"Updating Mono key store\"\n\n\
                    /usr/bin/cert-sync /etc/ssl/certs/ca-certificates.crt || true\n\necho \"Done\"\n";
        // ca-certificates-java 20230710~deb12u1 (shortened)
        let jks = "#!/bin/sh\nset -e\nmkdir -p /var/lib/ca-certificates-java\ncat - >> /var/lib/ca-certificates-java/pending\n\
                   dpkg-trigger --no-await update-ca-certificates-java\n";
        let hooks = "etc/ca-certificates/update.d";
        let hook = |tree: &mut MemTree, name: &str, text: &str| {
            let path = format!("{hooks}/{name}");
            tree.file(&path, text.as_bytes());
            if let Some((e, _)) = tree.entries.get_mut(&path) {
                e.mode = 0o755;
            }
        };
        let mut tree = MemTree::new();
        tree.dir(hooks);
        // A name with a dot: run-parts does not start it.
        for (name, text) in [
            ("mono-keystore", mono),
            ("jks-keystore", jks),
            ("local.sh", "#!/bin/sh\nfoo\n"),
        ] {
            hook(&mut tree, name, text);
        }
        // Not executable: run-parts does not start it.
        tree.file(&format!("{hooks}/notes"), b"#!/bin/sh\nbar\n");
        let owning = |name: &str, hook: &str| {
            let mut p = pkg(name, &[]);
            p.files = vec![format!("{hooks}/{hook}")];
            p
        };
        let packages = [
            pkg("ca-certificates", &[]),
            owning("ca-certificates-mono", "mono-keystore"),
            owning("ca-certificates-java", "jks-keystore"),
        ];
        let hooks_of = |tree: &MemTree, packages: &[InstalledPackage]| {
            let mut out = BTreeSet::new();
            scan_certificate_hooks(tree, packages, "amd64", &mut out);
            out.into_iter().collect::<Vec<_>>()
        };
        // Without cert-sync, the hook exits at once.
        assert!(hooks_of(&tree, &packages).is_empty());
        tool(&mut tree, "usr/bin/cert-sync");
        let r = hooks_of(&tree, &packages);
        assert_eq!(r.len(), 1, "{r:?}");
        assert_eq!(r[0].package, "ca-certificates-mono");
        assert_eq!(
            r[0].script,
            "/etc/ca-certificates/update.d/mono-keystore (update-ca-certificates' hook)"
        );
        assert!(
            r[0].what.starts_with(
                "/usr/bin/cert-sync /etc/ssl/certs/ca-certificates.crt (not reproduced: it runs the image's own code; \
                 imports the CA certificates into Mono's certificate stores"
            ),
            "{}",
            r[0].what
        );
        assert_eq!(r[0].kind(), EffectKind::Unsupported);
        // A hook no package ships (made by a script) is ca-certificates' run's; a hook that is
        // not a shell script is reported whole.
        hook(&mut tree, "site-store", "#!/usr/bin/perl\nsystem('x');\n");
        let r = hooks_of(&tree, &packages);
        let seen: Vec<(&str, &str)> = r.iter().map(|e| (e.package.as_str(), e.what.as_str())).collect();
        assert_eq!(seen.len(), 2, "{r:?}");
        assert!(
            seen.contains(&("ca-certificates", "non-shell script (#!/usr/bin/perl); not read")),
            "{r:?}"
        );
        // Without ca-certificates nothing runs update-ca-certificates.
        assert!(hooks_of(&tree, &packages[1..]).is_empty());
    }

    /// What the real scripts of bookworm's packages run that only the image's own code makes byte
    /// for byte (or that differs on every run): each reported with its kind and the command that
    /// makes it at first start.
    #[test]
    fn effects_of_the_images_own_code_name_the_command_to_run() {
        let mut tree = MemTree::new();
        for t in [
            "usr/bin/py3compile",
            "usr/bin/update-mime-database",
            "usr/bin/fc-cache",
            "usr/bin/java",
            "usr/sbin/locale-gen",
            "usr/lib/x86_64-linux-gnu/gdk-pixbuf-2.0/gdk-pixbuf-query-loaders",
        ] {
            tool(&mut tree, t);
        }
        tree.dir("usr/lib/x86_64-linux-gnu/gdk-pixbuf-2.0/2.10.0/loaders");
        // What ca-certificates' jks-keystore hook leaves for the import (`[ -s … ]` holds).
        tree.file("var/lib/ca-certificates-java/fresh", b"+/etc/ssl/certs/x.pem\n");
        let cases: &[(&str, &str, &str, EffectKind, &str)] = &[
            // python3-six 1.16.0-4
            (
                "python3-six",
                "postinst",
                "#!/bin/sh\nset -e\nif command -v py3compile >/dev/null 2>&1; then\n\tpy3compile -p python3-six \nfi\n",
                EffectKind::Unsupported,
                "py3compile -p python3-six (not reproduced: it runs the image's own code; byte-compiles Python modules into __pycache__; run `py3compile` (or `python3 -m compileall`) at first start)",
            ),
            // python3.11-minimal 3.11.2-6+deb12u6 (`$files` comes from `dpkg -L`: not known)
            (
                "python3.11-minimal",
                "postinst",
                "#!/bin/sh\nset -e\nif [ \"$1\" = configure ]; then\n    files=$(dpkg -L libpython3.11-minimal:amd64 \\\n\t\t| sed -n '/^\\/usr\\/lib\\/python3.11\\/.*\\.py$/p')\n    if [ -n \"$files\" ]; then\n\t/usr/bin/python3.11 -E -S /usr/lib/python3.11/py_compile.py $files\n    fi\nfi\n",
                EffectKind::Unsupported,
                "/usr/bin/python3.11 -E -S /usr/lib/python3.11/py_compile.py /usr/lib/python3.11/os.py (not reproduced: it runs the image's own code; byte-compiles the interpreter's standard library into __pycache__; run `python3 -m compileall` at first start)",
            ),
            // libgdk-pixbuf-2.0-0 2.42.10+dfsg-1+deb12u1
            (
                "libgdk-pixbuf-2.0-0",
                "postinst",
                "#!/bin/sh\nset -e\nLOADERS_DIR=/usr/lib/x86_64-linux-gnu/gdk-pixbuf-2.0/2.10.0/loaders\nLOADERS_DIR_OLD=/usr/lib/gdk-pixbuf-2.0/2.10.0/loaders\nif [ -d $LOADERS_DIR ] || [ -d $LOADERS_DIR_OLD ]; then\n    /usr/lib/x86_64-linux-gnu/gdk-pixbuf-2.0/gdk-pixbuf-query-loaders \\\n        $(find $LOADERS_DIR $LOADERS_DIR_OLD -name *.so 2> /dev/null | LC_ALL=C sort) \\\n    > /usr/lib/x86_64-linux-gnu/gdk-pixbuf-2.0/2.10.0/loaders.cache || true\nfi\n",
                EffectKind::Unsupported,
                "gdk-pixbuf-query-loaders",
            ),
            // ca-certificates-java 20230710~deb12u1's update_cacerts
            (
                "ca-certificates-java",
                "postinst",
                "#!/bin/sh\nset -e\nstorepass='changeit'\nJAR=/usr/share/ca-certificates-java/ca-certificates-java.jar\nif [ \"$1\" = configure ]; then\n\tif ! which java >/dev/null; then\n\t\techo \"No JRE found. Skipping Java certificates setup.\"\n\t\texit 0\n\tfi\n\tif [ -s /var/lib/ca-certificates-java/fresh ]; then\n\t\tjava -Xmx64m -jar $JAR -storepass \"$storepass\" < /var/lib/ca-certificates-java/fresh\n\tfi\nfi\n",
                EffectKind::NonDeterministic,
                "skipped: non-deterministic by nature: java -Xmx64m -jar /usr/share/ca-certificates-java/ca-certificates-java.jar -storepass changeit (made at first start: update-ca-certificates -f (its jks-keystore hook rebuilds /etc/ssl/certs/java/cacerts))",
            ),
        ];
        // python3.11-minimal compiles what `dpkg -L libpython3.11-minimal` lists.
        let mut stdlib = pkg("libpython3.11-minimal", &[]);
        stdlib.files = vec!["usr/lib/python3.11/os.py".into()];
        for (package, script, text, kind, what) in cases {
            let r = all_reports(&tree, &[pkg(package, &[(script, text)]), stdlib.clone()], "amd64");
            assert_eq!(r.len(), 1, "{package}: {r:?}");
            assert_eq!(r[0].kind(), *kind, "{package}: {r:?}");
            assert!(r[0].what.contains(what), "{package}: {}", r[0].what);
            assert!(r[0].what.contains("at first start"), "{package}: {}", r[0].what);
        }
        // shared-mime-info 2.2-1: its database is computed (`mime`), so its postinst reports nothing.
        let smi = "#!/bin/sh\nset -e\nif which update-mime-database >/dev/null 2>&1; then\n    update-mime-database /usr/share/mime\nfi\n";
        let r = all_reports(&tree, &[pkg("shared-mime-info", &[("postinst", smi)])], "amd64");
        assert!(r.is_empty(), "{r:?}");
        // fontconfig 2.14.1-4: its system-only fc-cache leaves the tag file (`fontconfig`); only
        // its verbose log is not written, left out as non-deterministic by nature (it lists the
        // stale caches in the file system's order).
        let fc = "#!/bin/sh\nset -e\nif [ \"$1\" = configure ]; then\n  mkdir -p /var/cache/fontconfig\n  fc-cache -s -f -v 1>/var/log/fontconfig.log 2>&1 || (printf \"failed.\\n\"; exit 1)\nfi\n";
        let r = all_reports(&tree, &[pkg("fontconfig", &[("postinst", fc)])], "amd64");
        let what: Vec<&str> = r.iter().map(|e| e.what.as_str()).collect();
        assert_eq!(
            what,
            [
                "skipped: non-deterministic by nature: fc-cache -s -f -v > /var/log/fontconfig.log \
                 (made at first start: fc-cache -s -f -v (its log lists the stale caches in the order the file \
                 system returns them))"
            ]
        );
        assert_eq!(r[0].kind(), EffectKind::NonDeterministic);
        // A run for the caller's own caches is the image's code at work.
        let user = "#!/bin/sh\nset -e\nfc-cache -f\n";
        let r = all_reports(&tree, &[pkg("fonts-x", &[("postinst", user)])], "amd64");
        assert!(
            r.iter()
                .any(|e| e.what.starts_with("fc-cache -f (not reproduced")),
            "{r:?}"
        );
        // Reading the keystore or asking the JRE's version is no effect.
        let query = "#!/bin/sh\nset -e\njava -version 2>&1 | grep 1.8\nkeytool -cacerts -storepass changeit -list -rfc\n";
        let r = all_reports(
            &tree,
            &[pkg("ca-certificates-java", &[("postinst", query)])],
            "amd64",
        );
        assert!(r.is_empty(), "{r:?}");
    }

    #[test]
    fn sourced_library_functions_are_known() {
        let mut tree = MemTree::new();
        tree.file(
            "usr/share/dpkg/sh/dpkg-error.sh",
            b"setup_colors()\n{\n  :\n}\nwarning() {\n  echo \"$*\" >&2\n}\nexec something\n",
        );
        let postinst = "#!/bin/sh\nset -e\n. /usr/share/dpkg/sh/dpkg-error.sh\nsetup_colors\nwarning oops\nunknown-tool --do\n";
        let r = all_reports(&tree, &[pkg("dpkg", &[("postinst", postinst)])], "amd64");
        let whats: Vec<&str> = r.iter().map(|n| n.what.as_str()).collect();
        assert_eq!(whats, ["unknown-tool --do"]);
    }

    #[test]
    fn triggers_and_emulated_packages() {
        let man_db = pkg(
            "man-db",
            &[
                ("triggers", "interest-noawait /usr/share/man\n"),
                (
                    "postinst",
                    "#!/bin/sh\nset -e\nif [ \"$1\" = triggered ]; then\n    mandb -pq\n    exit 0\nfi\n",
                ),
            ],
        );
        // man-db is configured in an earlier round than less is unpacked: its trigger is noted
        // (in the same round it would not be: dpkg notes no trigger for an unconfigured package).
        let man_db = InstalledPackage {
            round: super::super::package::Round::Early,
            ..man_db
        };
        let mut other = pkg("less", &[]);
        other.files = vec!["usr/share/man/man1/less.1.gz".into()];
        let tz = pkg("tzdata", &[("postinst", "#!/bin/sh\necho hi\nsomething-odd\n")]);
        let r = all_reports(&MemTree::new(), &[man_db, other, tz], "amd64");
        assert_eq!(
            r,
            [NotEmulated {
                package: "man-db".into(),
                script: "postinst triggered".into(),
                what: "mandb -pq (not reproduced: it runs the image's own code; builds the manual pages' index databases in /var/cache/man (gdbm files, which debcast does not write); run `mandb -c` at first start)".into()
            }]
        );
    }

    /// Triggers run once every package is configured: the triggered postinst sees what the
    /// configure step made (the `java` alternative ca-certificates-java's trigger looks for),
    /// and `$CACERT_UPDATES`, which nothing sets, is empty.
    #[test]
    fn a_triggered_postinst_sees_the_configured_tree() {
        let cacerts = pkg(
            "ca-certificates-java",
            &[
                ("triggers", "interest-await update-ca-certificates-java\n"),
                (
                    "postinst",
                    "#!/bin/sh\nset -e\nif [ -f /etc/default/cacerts ]; then\n  . /etc/default/cacerts\nfi\n\
                     if [ \"$1\" = triggered ]; then\n  \
                     if [ \"$cacerts_updates\" != \"yes\" ] || [ \"$CACERT_UPDATES\" = \"disabled\" ]; then exit 0; fi\n  \
                     if ! which java >/dev/null; then exit 0; fi\n  \
                     java -Xmx64m -jar /usr/share/ca-certificates-java/ca-certificates-java.jar -storepass changeit\nfi\n",
                ),
            ],
        );
        let jre = pkg(
            "openjdk-17-jre-headless",
            &[(
                "postinst",
                "#!/bin/sh\nset -e\ndpkg-trigger update-ca-certificates-java\n",
            )],
        );
        let mut unpacked = MemTree::new();
        unpacked.file("etc/default/cacerts", b"# updates\ncacerts_updates=yes\n");
        let mut configured = unpacked.clone();
        configured.file("usr/bin/java", b"");
        if let Some((e, _)) = configured.entries.get_mut("usr/bin/java") {
            e.mode = 0o755;
        }
        let pkgs = [cacerts, jre];
        let kinds = |r: Vec<NotEmulated>| r.iter().map(|n| (n.script.clone(), n.kind())).collect::<Vec<_>>();
        let applied = ran(&["ca-certificates-java"]);
        assert_eq!(
            kinds(scan(&unpacked, &configured, &pkgs, "amd64", &applied)),
            [("postinst triggered".to_owned(), EffectKind::NonDeterministic)]
        );
        assert!(scan(&unpacked, &unpacked, &pkgs, "amd64", &applied).is_empty());
        // A triggered postinst dpkg does not run (the `files` walk did not) is not walked.
        assert!(scan(&unpacked, &configured, &pkgs, "amd64", &TriggersApplied::new()).is_empty());
    }

    /// A triggered postinst's writes are not applied here, so `test -s` of a file it rewrites
    /// stays undecided: ca-certificates-java's trigger empties `fresh`, appends a line per
    /// certificate `find` lists, and imports when the file is not empty — the import (left out
    /// as non-deterministic) is listed even though the configured tree's `fresh` is empty.
    #[test]
    fn sizes_a_triggered_postinst_changes_are_not_read_from_the_tree() {
        let cacerts = pkg(
            "ca-certificates-java",
            &[
                ("triggers", "interest-await update-ca-certificates-java\n"),
                (
                    "postinst",
                    "#!/bin/sh\nset -e\nif [ \"$1\" = triggered ]; then\n  >/var/lib/ca-certificates-java/fresh\n  \
                     for pem in $(find /etc/ssl/certs -name '*.pem'); do echo \"+$pem\" >> /var/lib/ca-certificates-java/fresh; done\n  \
                     if [ -s /var/lib/ca-certificates-java/fresh ]; then\n    \
                     java -Xmx64m -jar /usr/share/ca-certificates-java/ca-certificates-java.jar -storepass changeit < /var/lib/ca-certificates-java/fresh\n  fi\nfi\n",
                ),
            ],
        );
        let jre = pkg(
            "openjdk-17-jre-headless",
            &[(
                "postinst",
                "#!/bin/sh\nset -e\ndpkg-trigger update-ca-certificates-java\n",
            )],
        );
        let mut configured = MemTree::new();
        configured.file("var/lib/ca-certificates-java/fresh", b"");
        let kinds: Vec<EffectKind> = scan(
            &MemTree::new(),
            &configured,
            &[cacerts, jre],
            "amd64",
            &ran(&["ca-certificates-java"]),
        )
        .iter()
        .map(NotEmulated::kind)
        .collect();
        assert!(kinds.contains(&EffectKind::NonDeterministic), "{kinds:?}");
    }

    /// File commands of a triggered postinst are not applied, so they are listed; the journal's
    /// catalog, computed from the whole tree at configure, is not.
    #[test]
    fn file_commands_of_triggered_scripts_are_listed() {
        let watcher = pkg(
            "watcher",
            &[
                ("triggers", "interest /usr/share/watched\n"),
                (
                    "postinst",
                    "#!/bin/sh\nif [ \"$1\" = triggered ]; then\n  ln -sf /usr/share/watched/x /etc/x\n  journalctl --update-catalog\n  \
                     mkdir -p /var/cache/watched\n  mkdir -p /var/cache/watched /var/cache/new\n  \
                     dbus-send --print-reply --system --type=method_call --dest=org.freedesktop.DBus / org.freedesktop.DBus.ReloadConfig > /dev/null || true\nfi\n",
                ),
            ],
        );
        let mut shipper = pkg("shipper", &[]);
        shipper.files = vec!["usr/share/watched/x".into()];
        // A `mkdir -p` of a directory the configured tree has changes nothing: not listed; one
        // of a directory it lacks is. Reloading a running D-Bus daemon is service management.
        let mut configured = MemTree::new();
        configured.dir("var/cache/watched");
        let r = scan(
            &MemTree::new(),
            &configured,
            &[watcher, shipper],
            "amd64",
            &ran(&["watcher"]),
        );
        let what: Vec<(&str, &str)> = r.iter().map(|n| (n.script.as_str(), n.what.as_str())).collect();
        assert_eq!(
            what,
            [
                ("postinst triggered", "ln -sf /usr/share/watched/x /etc/x"),
                ("postinst triggered", "mkdir -p /var/cache/watched /var/cache/new"),
                (
                    "postinst triggered",
                    "skipped: service management: dbus-send --print-reply --system --type=method_call --dest=org.freedesktop.DBus / org.freedesktop.DBus.ReloadConfig"
                ),
            ]
        );
    }

    /// An interest only `dpkg-trigger NAME` in another package's postinst activates: its
    /// triggered postinst runs (and not for `--check-supported`, nor without the call); the
    /// catalog command it runs is applied there, so it is not listed.
    #[test]
    fn a_trigger_activated_by_dpkg_trigger_runs_the_triggered_postinst() {
        let sgml = pkg(
            "sgml-base",
            &[
                ("triggers", "interest update-sgmlcatalog\n"),
                (
                    "postinst",
                    "#!/bin/sh\nset -e\nif [ \"$1\" = triggered ]; then\n    update-catalog --quiet --update-super\nfi\n",
                ),
            ],
        );
        let user = |call: &str| {
            pkg(
                "docbook-xml",
                &[(
                    "postinst",
                    &format!("#!/bin/sh\nset -e\nT=update-sgmlcatalog\n{call}\n"),
                )],
            )
        };
        let mut tree = MemTree::new();
        tree.tools(&["update-catalog"]);
        tree.dir("var/lib/sgml-base").dir("etc/sgml");
        let walked = |pkgs: &[InstalledPackage]| {
            let (_, report, applied) = super::super::files::compute_at(&tree, pkgs, 0).unwrap();
            let mut r = report;
            r.extend(scan(&tree, &tree, pkgs, "amd64", &applied));
            (applied, r)
        };
        let (applied, r) = walked(&[sgml.clone(), user("dpkg-trigger --no-await $T")]);
        assert!(
            applied
                .get("sgml-base")
                .is_some_and(|met| met.contains("update-catalog --quiet --update-super")),
            "{applied:?}"
        );
        assert!(r.is_empty(), "{r:?}");
        for call in ["dpkg-trigger --check-supported", "true"] {
            let (applied, r) = walked(&[sgml.clone(), user(call)]);
            assert!(!applied.contains_key("sgml-base"), "{call}: {applied:?}");
            assert!(r.is_empty(), "{call}: {r:?}");
        }
    }

    /// A package whose own files match its file trigger (sgml-base ships `/usr/share/sgml`, its
    /// interest): dpkg notes no trigger for a package that is not configured yet, so its
    /// triggered postinst does not run and nothing of it is listed.
    #[test]
    fn a_package_s_own_files_do_not_trigger_it() {
        let mut sgml = pkg(
            "sgml-base",
            &[
                ("triggers", "interest /usr/share/sgml\n"),
                (
                    "postinst",
                    "#!/bin/sh\nset -e\nif [ \"$1\" = triggered ]; then\n    update-catalog --quiet --update-super\nfi\n",
                ),
            ],
        );
        sgml.files = vec!["usr/share/sgml/dtd".into()];
        let mut tree = MemTree::new();
        tree.tools(&["update-catalog"]);
        tree.dir("var/lib/sgml-base").dir("usr/share/sgml/dtd");
        let (_, report, applied) = super::super::files::compute_at(&tree, &[sgml.clone()], 0).unwrap();
        assert!(applied.is_empty(), "{applied:?}");
        let mut r = report;
        r.extend(scan(&tree, &tree, &[sgml], "amd64", &applied));
        assert!(r.is_empty(), "{r:?}");
    }

    /// A triggered postinst `files` walked: the file commands that walk met are its own (applied
    /// or reported there), those it did not reach — behind a test the finished tree answers
    /// otherwise — and the other commands are listed here.
    #[test]
    fn commands_the_files_walk_met_are_not_listed_again() {
        let watcher = pkg(
            "watcher",
            &[
                ("triggers", "interest /usr/share/watched\n"),
                (
                    "postinst",
                    "#!/bin/sh\nset -e\nif [ \"$1\" = triggered ]; then\n  touch /var/lib/watcher/stamp\n  \
                     if [ -e /usr/bin/tool ]; then rm -f /var/lib/watcher/fresh; tool --rebuild; fi\nfi\n",
                ),
            ],
        );
        let shipper = InstalledPackage {
            files: vec!["usr/share/watched/x".into()],
            ..pkg("shipper", &[])
        };
        let mut configured = MemTree::new();
        configured.tools(&["update-catalog"]);
        configured.file("usr/bin/tool", b"").dir("var/lib/watcher");
        let met: TriggersApplied = [(
            "watcher".to_owned(),
            ["touch /var/lib/watcher/stamp".to_owned()].into(),
        )]
        .into();
        let what: Vec<String> = scan(&MemTree::new(), &configured, &[watcher, shipper], "amd64", &met)
            .into_iter()
            .map(|r| r.what)
            .collect();
        assert_eq!(
            what,
            ["rm -f /var/lib/watcher/fresh", "tool --rebuild"],
            "the touch is the files walk's; what it did not reach is listed"
        );
    }
}

#[cfg(test)]
mod host_probe {
    #[test]
    #[ignore]
    fn print_host_report() {
        let mut pkgs = Vec::new();
        for e in std::fs::read_dir("/var/lib/dpkg/info").unwrap().flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            for s in ["preinst", "postinst", "config"] {
                if let Some(p) = name.strip_suffix(&format!(".{s}")) {
                    let mut pkg = super::InstalledPackage {
                        name: p.into(),
                        ..Default::default()
                    };
                    pkg.members.insert(s.into(), std::fs::read(e.path()).unwrap());
                    pkgs.push(pkg);
                }
            }
        }
        for r in super::scan(
            &super::super::testutil::MemTree::new(),
            &super::super::testutil::MemTree::new(),
            &pkgs,
            "amd64",
            &super::TriggersApplied::new(),
        ) {
            println!("{}\t{}\t{}", r.package, r.script, r.what);
        }
    }
}
