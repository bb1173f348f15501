//! Plain file commands in `postinst configure`, applied in script order: `ln -s`, `mv`, `rm -f`,
//! `touch`, `chmod`, `chown`/`chgrp`, `mkdir`, `cp` ([`copy`]), `sed -i` ([`sed`]), `mktemp`,
//! `dpkg-divert --add/--remove`, what `cat`/`echo`/`printf` print to a file ([`output`]) and
//! `ucf`/`ucfr` ([`super::ucf`]), with debconf's answers for `db_get` ([`super::debconf`]). Examples: bash's fallback `/bin/sh -> bash`, dash claiming
//! `/bin/sh` (a diversion plus `ln -sf` and `mv -f`), login's `touch`/`chmod`/`chown` of
//! `/etc/subuid`, libpam's `touch /etc/environment`, netbase's `/etc/networks`.
//!
//! Each command takes effect before the script's next file test, as it would on a real system.
//! The walk follows dpkg's timeline: a conffile appears when its package is configured, and a
//! package's `postinst triggered` runs (applied like its `postinst configure`) at the end of a
//! round for the triggers activated after it was configured — by a later package's `activate`
//! line, `dpkg-trigger` call or unpacked files.
//! Only fully known, unambiguous forms are applied (octal modes, no `-r`/`-R`); anything else
//! is reported, never guessed at.

use std::cell::RefCell;

mod attrs;
mod conditions;
mod divert;
mod nodes;
mod output;
mod paths;
mod recursive;

use divert::{Diversion, divert, list_diversions, listpackage, truename};

use super::{copy, lstat_path, sed};
use nodes::{install_file, mkdir, modify};
use paths::{absolutize, dotdot_path, not_unpacked_yet, operands};

use crate::entry::{Entry, EntryKind};

use super::commands::{self, Kind, LinkCall, WHOLE_POSTINST, handles, parse_mode};
use super::report::{self, command_line};
use super::shell::{self, Call};
use super::{Changes, InstalledPackage, NotEmulated, Overlay, Round, SystemError, TreeView};

const DIVERSIONS: &str = "var/lib/dpkg/diversions";

struct State<'t> {
    overlay: Overlay<'t>,
    diversions: Vec<Diversion>,
    /// The script's umask (dpkg runs scripts with 022).
    umask: u32,
    /// SOURCE_DATE_EPOCH, for the account tools' "last change" day.
    source_date_epoch: u64,
    /// dpkg-statoverride's database.
    overrides: super::statoverride::Overrides,
    /// The script being walked (`preinst` runs before its package's files are unpacked).
    script: &'static str,
    /// Every package's shipped paths, for what a preinst sees before its package is unpacked.
    packages: &'t [InstalledPackage],
    /// What the non-deterministic commands left out so far would have made
    /// ([`commands::left_out_outputs`]).
    pending: std::collections::BTreeSet<String>,
    /// Of the pending files, those left out because their content belongs to the machine the
    /// image runs on (a random value, the host's name), with what makes them there
    /// ([`commands::random_value`]): what is copied from them is left out as such too.
    machine_dependent: std::collections::BTreeMap<String, output::MachineFile>,
    /// The links of the alternatives installed so far, with their paths: what a later script
    /// sees at them.
    alternative_links: AlternativeLinks,
    /// The files the script being walked created (absolute paths): a write to one of them that
    /// is not reproduced leaves its content unknown, so it is left out, not kept half-written.
    created: std::collections::BTreeSet<String>,
    /// The triggers the script being walked activated (`dpkg-trigger NAME`, `update-catalog
    /// --super`), and whether it awaits their processing.
    activated: Vec<(String, bool)>,
}

/// A point of the install at which dpkg runs a package's script.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Step {
    /// `preinst install`, as the package is unpacked.
    Unpack,
    /// `postinst configure`.
    Configure,
    /// `postinst triggered NAMES`, for the triggers activated since the package was configured.
    Triggers,
}

impl Step {
    /// The control member that runs.
    fn member(self) -> &'static str {
        match self {
            Step::Unpack => "preinst",
            Step::Configure | Step::Triggers => "postinst",
        }
    }

    /// How the report names it.
    fn label(self) -> &'static str {
        match self {
            Step::Unpack => "preinst",
            Step::Configure => "postinst",
            Step::Triggers => "postinst triggered",
        }
    }
}

/// The triggers pending for each configured package, as dpkg records activations: only a
/// package already configured (not one merely unpacked) is marked, with the interest that fired.
#[derive(Default)]
struct PendingTriggers<'p> {
    /// The packages with interests, in configure order: each interest, and whether an
    /// activation of it can be awaited (not `interest-noawait`).
    interested: Vec<(&'p str, Vec<(&'p str, bool)>)>,
    pending: std::collections::BTreeMap<&'p str, Vec<String>>,
    /// The packages with pending triggers that an activating package awaits: dpkg processes
    /// them before it configures a package depending on the awaiting one (see
    /// [`InstalledPackage::after_awaited_triggers`]).
    awaited: std::collections::BTreeSet<&'p str>,
}

impl<'p> PendingTriggers<'p> {
    fn new(packages: &'p [InstalledPackage]) -> Self {
        PendingTriggers {
            interested: packages
                .iter()
                .map(|p| {
                    let noawait = p.noawait_interests();
                    let interests = p.trigger_interests();
                    let interests = interests.into_iter().map(|i| (i, !noawait.contains(&i)));
                    (p.name.as_str(), interests.collect::<Vec<_>>())
                })
                .filter(|(_, i)| !i.is_empty())
                .collect(),
            pending: Default::default(),
            awaited: Default::default(),
        }
    }

    /// `name` activated (a trigger name, or a path unpacked or named to dpkg-trigger);
    /// `awaits`: the activating package awaits the processing (not `activate-noawait`, not
    /// `dpkg-trigger --no-await`).
    fn activate(&mut self, name: &str, configured: &std::collections::BTreeSet<&str>, awaits: bool) {
        for (package, interests) in &self.interested {
            if !configured.contains(package) {
                continue;
            }
            for (interest, awaitable) in interests {
                if report::trigger_matches(interest, name) {
                    let names = self.pending.entry(package).or_default();
                    if !names.iter().any(|n| n == interest) {
                        names.push((*interest).to_owned());
                    }
                    if awaits && *awaitable {
                        self.awaited.insert(package);
                    }
                }
            }
        }
    }

    /// A package's pending trigger names, taken as its `postinst triggered` runs.
    fn take(&mut self, package: &str) -> Option<Vec<String>> {
        self.awaited.remove(package);
        self.pending.remove(package)
    }
}

/// `mkdir`'s arguments as getopt reads them: `-p`, `-v`, `-Z` bundled (`-pv`), `-m MODE` with its
/// value glued (`-m0750`, `-pm0750`) or next (`-pm 0750`), the long forms (already whole names),
/// then the directories.
struct MkdirCall {
    parents: bool,
    mode: Option<String>,
    dirs: Vec<String>,
}

fn parse_mkdir(args: &[String]) -> Result<MkdirCall, String> {
    let mut call = MkdirCall {
        parents: false,
        mode: None,
        dirs: Vec::new(),
    };
    let mut it = args.iter();
    let mut options = true;
    while let Some(a) = it.next() {
        match a.as_str() {
            "--" if options => options = false,
            "--parents" if options => call.parents = true,
            "--verbose" | "--context" if options => {}
            "--mode" if options => call.mode = Some(it.next().ok_or("mkdir --mode without a value")?.clone()),
            s if options && s.starts_with("--mode=") => call.mode = Some(s["--mode=".len()..].to_owned()),
            s if options && s.starts_with("--") => return Err(format!("mkdir option {s} is not reproduced")),
            s if options && s.len() > 1 && s.starts_with('-') => {
                for (i, c) in s.char_indices().skip(1) {
                    match c {
                        'p' => call.parents = true,
                        'v' | 'Z' => {}
                        'm' => {
                            let glued = &s[i + 1..];
                            call.mode = Some(if glued.is_empty() {
                                it.next().ok_or("mkdir -m without a value")?.clone()
                            } else {
                                glued.to_owned()
                            });
                            break;
                        }
                        _ => return Err(format!("mkdir option -{c} is not reproduced")),
                    }
                }
            }
            s => call.dirs.push(s.to_owned()),
        }
    }
    Ok(call)
}

/// The report entry for a computed tool the image does not have (`line`: the call).
fn missing_tool(line: &str, name: &str) -> String {
    let package = commands::tool_package(name).unwrap_or("its package");
    format!(
        "{line} ({name} is not in the image: under dpkg the command is not found (status 127) and makes \
         nothing; its package, {package}, is not in the package set)"
    )
}

/// Whether the image has the program a script runs: an executable file at its path, or on
/// the PATH dpkg gives scripts.
fn program_in_image(tree: &dyn TreeView, argv0: &str) -> bool {
    let executable = |abs: &str| {
        let entry = super::resolve(tree, &super::tree_path(abs)).and_then(|real| tree.entry(&real));
        // A hard link is the file it names (its mode is that file's).
        let entry = match entry.map(|e| &e.kind) {
            Some(EntryKind::Hardlink { target }) => tree.entry(target),
            _ => entry,
        };
        entry.is_some_and(|e| matches!(e.kind, EntryKind::File { .. }) && e.mode & 0o111 != 0)
    };
    if argv0.contains('/') {
        return executable(argv0);
    }
    shell::SCRIPT_PATH
        .iter()
        .any(|dir| executable(&format!("{dir}/{argv0}")))
}

/// Applies every package's file commands, in configure order.
pub fn compute(
    tree: &dyn TreeView,
    packages: &[InstalledPackage],
) -> Result<(Changes, Vec<NotEmulated>), SystemError> {
    compute_at(tree, packages, 0).map(|(changes, report, _)| (changes, report))
}

/// [`compute`], with the build's SOURCE_DATE_EPOCH for what account commands write; also
/// returns the packages whose `postinst triggered` it walked, with the commands it met (see
/// [`report::scan`]).
pub fn compute_at(
    tree: &dyn TreeView,
    packages: &[InstalledPackage],
    source_date_epoch: u64,
) -> Result<(Changes, Vec<NotEmulated>, report::TriggersApplied), SystemError> {
    let mut overlay = Overlay::new(tree);
    // dpkg unpacks a conffile as `NAME.dpkg-new` and puts it in place when it configures the
    // package: until then no script sees it (sgml-base's postinst lists /etc/sgml before
    // xml-core's catalog is there).
    overlay.hide(packages.iter().flat_map(InstalledPackage::conffiles));
    let state = RefCell::new(State {
        overlay,
        diversions: Vec::new(),
        umask: 0o022,
        source_date_epoch,
        overrides: super::statoverride::Overrides::load(tree).map_err(|message| SystemError::Invalid {
            path: super::statoverride::STATOVERRIDE.into(),
            message,
        })?,
        script: "preinst",
        packages,
        pending: Default::default(),
        machine_dependent: Default::default(),
        alternative_links: Default::default(),
        created: Default::default(),
        activated: Vec::new(),
    });
    let mut report = Vec::new();
    let debconf = super::debconf::Debconf::new(packages);
    // Round by round (the Essential set, what apt configures early, the rest): the round's
    // preinsts (`install`, as each package is unpacked), then its postinsts (`configure`), each
    // in configure order; then the triggers activated so far, as dpkg processes them at the end
    // of the Essential set's `dpkg --configure` and of apt's closing `--configure --pending`
    // (apt defers them while it configures early).
    let steps = Round::ALL.into_iter().flat_map(|round| {
        let triggers = (round != Round::Early).then_some((round, Step::Triggers));
        [(round, Step::Unpack), (round, Step::Configure)]
            .into_iter()
            .chain(triggers)
    });
    // The packages configured so far (their postinst step done), for `dpkg -s`; `previous` is
    // the one whose postinst step came last.
    let configured: RefCell<std::collections::BTreeSet<&str>> = RefCell::new(Default::default());
    let mut previous: Option<&str> = None;
    let mut triggers = PendingTriggers::new(packages);
    let triggers_applied: RefCell<report::TriggersApplied> = RefCell::new(Default::default());
    for (round, step) in steps {
        if let Some(done) = previous.take() {
            configured.borrow_mut().insert(done);
        }
        let script = step.member();
        if step == Step::Unpack {
            // Unpacking activates the triggers the packages name and the file triggers on their
            // paths, for the packages configured in earlier rounds.
            let done = configured.borrow();
            for pkg in packages.iter().filter(|p| p.round == round) {
                let awaiting = pkg.awaiting_activations();
                for name in pkg.trigger_activations() {
                    triggers.activate(name, &done, awaiting.contains(&name));
                }
                for f in &pkg.files {
                    triggers.activate(&format!("/{}", f.trim_start_matches('/')), &done, true);
                }
            }
        }
        let mut queue: std::collections::VecDeque<(&InstalledPackage, Step)> = packages
            .iter()
            .filter(|p| p.round == round || step == Step::Triggers)
            .map(|p| (p, step))
            .collect();
        while let Some((pkg, step)) = queue.pop_front() {
            if let Some(done) = previous.take() {
                configured.borrow_mut().insert(done);
            }
            // Where `dpkg --configure --pending` stalled on a package depending on one that
            // awaits triggers, it processed the awaited packages' triggers first (the order's
            // plan says where): xml-core's activation of sgml-base's catalog trigger is
            // processed before docutils-common is configured.
            if step == Step::Configure && pkg.after_awaited_triggers && !triggers.awaited.is_empty() {
                queue.push_front((pkg, step));
                for awaited in packages
                    .iter()
                    .rev()
                    .filter(|p| triggers.awaited.contains(p.name.as_str()))
                {
                    queue.push_front((awaited, Step::Triggers));
                }
                triggers.awaited.clear();
                continue;
            }
            let owned_args: Vec<String> = match step {
                Step::Unpack => vec!["install".into()],
                Step::Configure => vec!["configure".into(), String::new()],
                Step::Triggers => match triggers.take(pkg.name.as_str()) {
                    Some(names) => vec!["triggered".into(), names.join(" ")],
                    None => continue,
                },
            };
            if step == Step::Configure {
                previous = Some(pkg.name.as_str());
                state
                    .borrow_mut()
                    .overlay
                    .reveal(pkg.conffiles().iter().map(String::as_str));
                // Configuring activates the triggers the package names, as unpacking does.
                let awaiting = pkg.awaiting_activations();
                for name in pkg.trigger_activations() {
                    triggers.activate(name, &configured.borrow(), awaiting.contains(&name));
                }
            }
            if script == "postinst" && WHOLE_POSTINST.contains(&pkg.name.as_str()) {
                continue;
            }
            if step == Step::Triggers {
                triggers_applied.borrow_mut().entry(pkg.name.clone()).or_default();
            }
            let args: Vec<&str> = owned_args.iter().map(String::as_str).collect();
            let label = step.label();
            let Some(text) = pkg.script_text(script) else {
                continue;
            };
            let text: &str = &text;
            if let Some(why) = report::non_shell(text) {
                report.push(NotEmulated {
                    package: pkg.name.clone(),
                    script: label.into(),
                    what: why,
                });
                continue;
            }
            let nodes = match shell::parse(text) {
                Ok(nodes) => nodes,
                Err(e) => {
                    report.push(NotEmulated {
                        package: pkg.name.clone(),
                        script: label.into(),
                        what: report::unreadable(&e),
                    });
                    continue;
                }
            };
            let bash = shell::text::is_bash(text);
            let mut failures: Vec<String> = Vec::new();
            // A path with `..` in a file command: the build stops (see `dotdot_path`).
            let mut refused: Option<SystemError> = None;
            {
                let mut st = state.borrow_mut();
                st.umask = 0o022;
                st.script = script;
                st.created.clear();
            }
            {
                // This walk has the accurate, in-order view of the files, so it is also the one that
                // reports what `preinst install` and `postinst configure` do that is not emulated.
                let mut cb = |c: Call<'_>| {
                    if step == Step::Triggers {
                        triggers_applied
                            .borrow_mut()
                            .entry(pkg.name.clone())
                            .or_default()
                            .insert(command_line(&c));
                    }
                    // A write in commands the walk did not run (see `Eval::tell_unwalked_writes`).
                    if let Err(why) = &c.argv
                        && let Some(why) = why.strip_prefix(shell::NOT_RUN)
                    {
                        output::unwalked_write(&mut state.borrow_mut(), &c, why, &mut failures);
                        return;
                    }
                    // An edit in place whose program holds the host's name or a random value
                    // (webalizer's `sed -i -e "s/…/HostName ${WEBHOSTNAME}/" FILE` after
                    // `WEBHOSTNAME=$(hostname)`): the file it edits belongs to the machine, left
                    // out with what makes it at first start.
                    if let Err(why) = &c.argv
                        && shell::is_machine_dependent(why)
                        && let Some(targets) = output::machine_edit_targets(&c.words)
                    {
                        let mut st = state.borrow_mut();
                        let line = c.text.split_whitespace().collect::<Vec<_>>().join(" ");
                        for path in targets {
                            failures.push(machine_write(
                                &mut st,
                                &pkg.name,
                                &line,
                                &path,
                                why,
                                (c.guessed, false),
                            ));
                        }
                        return;
                    }
                    let Ok(argv) = &c.argv else {
                        let first = c.text.split_whitespace().next().unwrap_or("");
                        // The words as written: enough to tell what the command is for.
                        let written: Vec<String> =
                            c.text.split_whitespace().skip(1).map(str::to_owned).collect();
                        let entries = failures.len();
                        match commands::classify(first, &written) {
                            Kind::Harmless => {}
                            // Computed by a sibling module (update-alternatives, add-shell, …); a file command
                            // with unknown arguments is reported below.
                            // (gdk-pixbuf's loaders cache is computed from its arguments; the
                            // modules computing a cache once report such calls themselves.)
                            Kind::Emulated
                                if !handles(first.rsplit('/').next().unwrap_or(first), &written)
                                    && !super::plugins::pixbuf::is_tool(first) => {}
                            k @ (Kind::Service | Kind::NonDeterministic(_) | Kind::ImageCode(_)) => {
                                // With the file it writes, which is left out with it.
                                let line = with_output_file(c.text.to_owned(), &c.stdout);
                                failures.extend(commands::report_entry(&k, &line));
                            }
                            _ => failures.push(format!("{} (its arguments are not known)", c.text)),
                        }
                        // What it writes to a file is not known: the file's content is lost (and
                        // said so, unless the command is reported for itself).
                        if let Some((shell::Value::Known(path), append)) = &c.stdout
                            && !path.starts_with("/dev/")
                        {
                            if failures.len() == entries {
                                let op = if *append { ">>" } else { ">" };
                                // What is written from the host's name (exim4-config's
                                // `/etc/mailname`) belongs to the machine the image runs on.
                                // So does what is written from a random value (open-iscsi's
                                // initiator name).
                                let machine = c
                                    .argv
                                    .as_ref()
                                    .err()
                                    .filter(|why| shell::is_machine_dependent(why));
                                if let Some(why) = machine {
                                    failures.push(machine_write(
                                        &mut state.borrow_mut(),
                                        &pkg.name,
                                        &format!("{} {op} {path}", c.text),
                                        path,
                                        why,
                                        (c.guessed, *append),
                                    ));
                                    return;
                                }
                                failures.push(format!("{} {op} {path} (its output is not known)", c.text));
                            }
                            output::content_lost(&mut state.borrow_mut(), path, c.guessed, *append);
                        }
                        return;
                    };
                    let Some(name) = argv.first().map(|a| a.rsplit('/').next().unwrap_or(a)) else {
                        return;
                    };
                    // Relative operands name files in the working directory the walk followed.
                    let argv: &Vec<String> = &std::iter::once(argv[0].clone())
                        .chain(absolutize(name, &argv[1..], c.cwd.as_deref()))
                        .collect();
                    if refused.is_some() {
                        return;
                    }
                    // An alternative installed (its links are made once every script has run,
                    // by `alternatives`): the scripts after this one see its links as dpkg's run
                    // did (iptables-persistent's `which iptables`).
                    if name == "update-alternatives"
                        && !c.guessed
                        && let Ok(Some(install)) = super::alternatives::parse_call(&argv[1..])
                    {
                        state.borrow_mut().alternative_links.register(&install);
                    }
                    if let Some(path) = dotdot_path(name, &argv[1..]) {
                        refused = Some(SystemError::Package {
                            package: pkg.name.clone(),
                            file: script.into(),
                            message: format!(
                                "`{}` names {path}, a path with a `..` component; refused",
                                command_line(&c)
                            ),
                        });
                        return;
                    }
                    // gdk-pixbuf's loaders cache, printed to the file the script names or written
                    // by the tool itself (`--update-cache`).
                    if let Some(query) = super::plugins::pixbuf::parse_call(argv) {
                        let revision = state.borrow().overlay.revision();
                        let done = query.and_then(|q| {
                            let out = super::plugins::pixbuf::run(&state.borrow().overlay, packages, &q)?;
                            loaders_cache_written(&mut state.borrow_mut(), &c.stdout, out)
                        });
                        match done {
                            Err(why) => {
                                failures.push(format!(
                                    "{} (not reproduced: {why}; run it at first start)",
                                    with_output_file(command_line(&c), &c.stdout)
                                ));
                                let mut st = state.borrow_mut();
                                if let Some((shell::Value::Known(path), append)) = &c.stdout {
                                    output::content_lost(&mut st, path, c.guessed, *append);
                                }
                                // The cache `--update-cache` replaces is not known either.
                                if let Some(cache) =
                                    super::plugins::pixbuf::update_cache_target(&st.overlay, argv)
                                {
                                    output::content_lost(&mut st, &cache, c.guessed, false);
                                }
                            }
                            Ok(()) if state.borrow().overlay.revision() != revision => {
                                if let Some(condition) = &c.guess {
                                    failures.push(applied_on_a_guess(&c, condition));
                                }
                            }
                            Ok(()) => {}
                        }
                        return;
                    }
                    if name == "cat"
                        && argv.len() == 1
                        && let (Some((target, append)), Some(doc)) = (&c.stdout, &c.heredoc)
                    {
                        let written = match (target, doc) {
                            (shell::Value::Known(path), Some(text)) => {
                                output::write_file(&mut state.borrow_mut(), path, text, *append)
                            }
                            _ => Err(
                                "a here-document with expansions, or to a path not known, is not reproduced"
                                    .into(),
                            ),
                        };
                        // A here-document holding a random value or the host's name (the password
                        // dbconfig-common generates, written into the package's database
                        // configuration): the file belongs to the machine the image runs on.
                        if let (Err(_), shell::Value::Known(path), Some(why)) =
                            (&written, target, &c.machine_dependent)
                        {
                            let op = if *append { ">>" } else { ">" };
                            failures.push(machine_write(
                                &mut state.borrow_mut(),
                                &pkg.name,
                                &format!("cat {op} {path}"),
                                path,
                                why,
                                (c.guessed, *append),
                            ));
                            return;
                        }
                        if let Err(why) = written {
                            let (shell::Value::Known(shown) | shell::Value::Unknown(shown)) = target;
                            let op = if *append { ">>" } else { ">" };
                            failures.push(format!("cat {op} {shown} ({why})"));
                            if let shell::Value::Known(path) = target {
                                output::content_lost(&mut state.borrow_mut(), path, c.guessed, *append);
                            }
                        }
                        return;
                    }
                    if let Some((target, append)) = &c.stdout
                        && !matches!(target, shell::Value::Known(p) if p.starts_with("/dev/"))
                    {
                        let op = if *append { ">>" } else { ">" };
                        let printed =
                            output::printed(&state.borrow().overlay, argv, bash, c.stdin.as_deref());
                        // A command whose output `printed` computes (or refuses) does nothing else.
                        let printing = !matches!(printed, Ok(None));
                        // A file command or an emulated tool that prints nothing adds nothing to
                        // the file (`exec >FILE` then `mkdir -p DIR`) and is applied as usual.
                        let printed = match printed {
                            Ok(None) if commands::prints_nothing(argv) => Ok(Some(String::new())),
                            other => other,
                        };
                        let written = match (target, printed) {
                            (shell::Value::Known(path), Ok(Some(text))) => {
                                output::write_file(&mut state.borrow_mut(), path, &text, *append)
                            }
                            (_, Err(why)) => Err(why),
                            (shell::Value::Unknown(_), Ok(Some(_))) => Err("the file is not known".into()),
                            // Another command's output: what it prints is not known here.
                            (_, Ok(None)) => Err("its output is not reproduced".into()),
                        };
                        // A command reported for itself (not emulated, image code, service…) needs
                        // no second entry for its output.
                        let reported = !matches!(
                            commands::classify(name, &argv[1..]),
                            Kind::Harmless | Kind::Emulated
                        );
                        // What a command prints from the host's name or a random value (awk
                        // reading an exported one): the file belongs to the machine.
                        if let (Err(_), shell::Value::Known(path), Some(why)) =
                            (&written, target, &c.machine_dependent)
                        {
                            failures.push(machine_write(
                                &mut state.borrow_mut(),
                                &pkg.name,
                                &format!("{} {op} {path}", command_line(&c)),
                                path,
                                why,
                                (c.guessed, *append),
                            ));
                            return;
                        }
                        if let Err(why) = written {
                            let (shell::Value::Known(shown) | shell::Value::Unknown(shown)) = target;
                            if let Some(hint) = commands::nondeterministic_output(name, &argv[1..]) {
                                // What it prints differs from one file system to another
                                // (fontconfig's postinst logs `fc-cache -v`).
                                let line = format!("{} {op} {shown}", command_line(&c));
                                failures.push(commands::left_out_entry(&line, hint));
                            } else if printing || !reported {
                                failures.push(format!("{} {op} {shown} ({why})", command_line(&c)));
                            }
                            if let shell::Value::Known(path) = target {
                                output::content_lost(&mut state.borrow_mut(), path, c.guessed, *append);
                            }
                        }
                        if printing {
                            return;
                        }
                    }
                    // Left out whatever module would apply it (`install` of the kernel's
                    // randomness): what it makes is pending from here on.
                    let kind = commands::classify(name, &argv[1..]);
                    // With the file its output goes to, which is left out with it
                    // (iptables-persistent's `iptables-save > /etc/iptables/rules.v4`).
                    let line = with_output_file(command_line(&c), &c.stdout);
                    if let Kind::NonDeterministic(hint) = kind {
                        let made = commands::left_out_outputs(name, &argv[1..]);
                        let mut st = state.borrow_mut();
                        for path in &made {
                            output::replaced_by_left_out(&mut st, path, c.guessed);
                        }
                        // The entry names the files left out that its line does not (ssh-keygen's
                        // `.pub`, the key mungekey writes by default): the report says what the
                        // image lacks, not only which command was not run.
                        let unnamed: Vec<&str> = made
                            .iter()
                            .map(String::as_str)
                            .filter(|p| !names_path(&line, p))
                            .collect();
                        let line = if unnamed.is_empty() {
                            line
                        } else {
                            format!("{line}; left out: {}", unnamed.join(", "))
                        };
                        // What it makes, and what it prints to a file, is left out with it as
                        // the machine's: so is what is made from those files (courier's `cat KEY
                        // CERT > PEM` after certtool; munin-node's postinst feeding
                        // munin-node-configure's choice of plugins to sh).
                        let lost = || output::MachineFile {
                            hint: hint.to_owned(),
                            why: format!("{}{hint}", shell::LEFT_OUT_OUTPUT),
                        };
                        for path in &made {
                            st.machine_dependent.insert(path.clone(), lost());
                        }
                        if let Some((shell::Value::Known(path), append)) = &c.stdout
                            && !path.starts_with("/dev/")
                        {
                            output::machine_file_lost(&mut st, path, lost(), c.guessed, *append);
                        }
                        st.pending.extend(made);
                        drop(st);
                        failures.extend(commands::report_entry(&kind, &line));
                        return;
                    }
                    // `dpkg-trigger [OPTIONS] NAME` (not a check or a dry run): the interested
                    // packages' `postinst triggered` runs later, where dpkg runs it.
                    if name == "dpkg-trigger" {
                        if let Some(trigger) = report::dpkg_trigger_name(&argv[1..]) {
                            let awaits = !argv[1..].iter().any(|a| a == "--no-await");
                            state.borrow_mut().activated.push((trigger.to_owned(), awaits));
                        }
                        return;
                    }
                    // A tool debcast computes, of a package the image does not have (mrtg's
                    // postinst runs groupadd without depending on passwd; `update-inetd … || true`
                    // without update-inetd): dpkg's run finds no such command, status 127, and
                    // nothing is made.
                    if commands::tool_package(name).is_some()
                        && !program_in_image(&state.borrow().overlay, &argv[0])
                    {
                        failures.push(missing_tool(&command_line(&c), name));
                        return;
                    }
                    if super::runit::handles(name, &argv[1..]) {
                        if let Err(why) = super::runit::apply(&mut state.borrow_mut().overlay, &c.env) {
                            failures.push(format!("{} ({why})", command_line(&c)));
                        }
                        return;
                    }
                    // The kernel's links: the machine is the kernel package's architecture, and
                    // the script's environment may say there is no initramfs.
                    if name == "linux-update-symlinks"
                        && let Ok(call) = super::kernel::parse(&argv[1..])
                    {
                        let applied = super::kernel::apply(
                            &mut state.borrow_mut().overlay,
                            &call,
                            &pkg.architecture,
                            &c.env,
                        );
                        if let Err(why) = applied {
                            failures.push(format!("{} ({why})", command_line(&c)));
                        }
                        return;
                    }
                    if !handles(name, &argv[1..]) {
                        match (&kind, &c.machine_dependent) {
                            // A command not reproduced whose input belongs to the machine (sh
                            // reading what a left-out command printed): what it makes does too.
                            // (Not one that prints such a value itself to the script's output:
                            // it makes nothing.)
                            (Kind::NotEmulated, Some(why))
                                if !shell::prints_random(argv) && !shell::prints_host_name(argv) =>
                            {
                                let line = format!("{line} (what it works from belongs to the machine)");
                                failures
                                    .push(commands::left_out_entry(&line, &machine_value(&pkg.name, why)));
                            }
                            _ => failures.extend(commands::report_entry(&kind, &line)),
                        }
                        // An edit in place not reproduced: the file's content is not known.
                        for target in output::edited_in_place(name, &argv[1..]) {
                            output::content_lost(&mut state.borrow_mut(), &target, c.guessed, false);
                        }
                        return;
                    }
                    let mut st = state.borrow_mut();
                    // A command that reads a file left out (pending) cannot make what it would.
                    if let Some((why, machine)) = output::reads_pending(&st, name, &argv[1..]) {
                        failures.push(match machine {
                            Some(hint) => commands::left_out_entry(&command_line(&c), &hint),
                            None => format!("{} ({why})", command_line(&c)),
                        });
                        output::copy_of_pending(&mut st, name, &argv[1..], c.guessed);
                        return;
                    }
                    // A change of mode or owner of files left out (exim4's `chmod 644` of the
                    // configuration it generates from the host's name): they are made at first
                    // start, with theirs.
                    if matches!(name, "chmod" | "chown" | "chgrp") {
                        let operands: Vec<&String> =
                            argv[1..].iter().filter(|a| a.starts_with('/')).collect();
                        if !operands.is_empty() && operands.iter().all(|a| st.pending.contains(a.as_str())) {
                            return;
                        }
                    }
                    // The files this command makes are the script's own (see `output::content_lost`).
                    let absent: Vec<&String> = argv[1..]
                        .iter()
                        .filter(|a| a.starts_with('/') && !super::exists(&st.overlay, &super::tree_path(a)))
                        .collect();
                    let revision = st.overlay.revision();
                    let applied = apply(&mut st, &pkg.name, name, &argv[1..]);
                    for a in absent {
                        if super::exists(&st.overlay, &super::tree_path(a)) {
                            st.created.insert(a.clone());
                        }
                    }
                    // Applied under a test of values the walk does not know (dokuwiki's `[
                    // "$RET" = true ]` before a statoverride): the report says it is a guess.
                    if applied.is_ok()
                        && st.overlay.revision() != revision
                        && let Some(condition) = &c.guess
                    {
                        failures.push(applied_on_a_guess(&c, condition));
                    }
                    if let Err(why) = applied {
                        failures.push(match why.strip_prefix(super::NONDETERMINISTIC_EFFECT) {
                            Some(why) => format!(
                                "{}{} ({why})",
                                commands::SKIPPED_NONDETERMINISTIC,
                                command_line(&c)
                            ),
                            None => format!("{} ({why})", command_line(&c)),
                        });
                    }
                };
                let files = |p: &str| {
                    let st = state.borrow();
                    if not_unpacked_yet(&st, &pkg.name, p) {
                        return None;
                    }
                    // The kernel's randomness is the running system's.
                    if p.starts_with("/proc/sys/kernel/random/") {
                        return Some(shell::FileKind::Pending);
                    }
                    let kind = super::file_kind(&st.overlay, p);
                    if kind.is_none() && st.pending.contains(p) {
                        return Some(shell::FileKind::Pending);
                    }
                    if kind.is_none()
                        && let Some(path) = st.alternative_links.path_of(p)
                    {
                        return super::file_kind(&st.overlay, path);
                    }
                    kind
                };
                // Its own package's links are not there yet for a preinst (snmp's `[ -L
                // /usr/share/doc/snmp ] && rm -f` must not remove the link it ships).
                let links = |p: &str| {
                    let st = state.borrow();
                    let own_link =
                        not_unpacked_yet(&st, &pkg.name, p) && !paths::ships_below(&st, &pkg.name, p);
                    !own_link && super::is_symlink(&st.overlay, p)
                };
                let source = |p: &str| super::source_text(&state.borrow().overlay, p);
                let machine_files = |p: &str| state.borrow().machine_dependent.get(p).map(|m| m.why.clone());
                // What answers the walk gives that a left-out command would change: listed as
                // non-deterministic, once per script.
                let noted: RefCell<Vec<String>> = RefCell::new(Vec::new());
                // `dpkg-statoverride --list` as a condition is answered from the database.
                let status = |argv: &[String]| match argv.split_first() {
                    // A computed tool the image lacks (`if update-inetd …; then`, `ucf … &&
                    // …`): not found, so the condition fails and the call is told here (the
                    // walk does not run a command whose status it was given). setcap is run
                    // by the walk after its probe, and told as it runs.
                    Some((name, _))
                        if commands::tool_package(super::base_name(name)).is_some()
                            && super::base_name(name) != "setcap"
                            && !program_in_image(&state.borrow().overlay, name) =>
                    {
                        let entry = missing_tool(&report::quoted(argv), super::base_name(name));
                        let mut noted = noted.borrow_mut();
                        if !noted.contains(&entry) {
                            noted.push(entry);
                        }
                        Some(false)
                    }
                    Some((name, args)) if name.rsplit('/').next() == Some("dpkg-statoverride") => {
                        match super::statoverride::parse(args) {
                            Ok(super::statoverride::Call::List(globs)) => {
                                Some(state.borrow().overrides.listed(&globs))
                            }
                            _ => None,
                        }
                    }
                    // `readlink -e PATH >/dev/null || …`: whether it resolves (see its output below).
                    Some((name, args)) if name.rsplit('/').next() == Some("readlink") => {
                        paths::readlink_output(&state.borrow(), &pkg.name, args).map(|out| !out.is_empty())
                    }
                    // `if ! setcap cap_net_raw+ep /usr/bin/fping; then … dpkg-statoverride --add … 4755`
                    // (fping's postinst): setcap, which debcast applies, succeeds on a regular file
                    // the image has, as it does where file capabilities are supported (dpkg's run
                    // here); the fallback does not run.
                    Some((name, args)) if name.rsplit('/').next() == Some("setcap") => {
                        let call = super::setcap::parse(args).ok()?;
                        let overlay = &state.borrow().overlay;
                        // Without libcap2-bin there is no setcap: the fallback runs.
                        if !program_in_image(overlay, name) {
                            return Some(false);
                        }
                        Some(call.files.iter().all(|(f, _)| {
                            super::resolve(overlay, &super::tree_path(f))
                                .is_some_and(|p| super::is_file(overlay, &p))
                        }))
                    }
                    // `grep … FILE…` as a condition: whether a line of the image's files matches (a
                    // file that cannot be read makes grep fail).
                    Some((name, _)) if matches!(name.as_str(), "grep" | "egrep" | "fgrep") => {
                        let (own, files) = shell::text::file_operands(argv)?;
                        let (own, files) = recursive::grep_operands(&state.borrow().overlay, &own, &files);
                        let mut input = String::new();
                        for f in &files {
                            match output::read_text(&state.borrow().overlay, f) {
                                Ok(text) => input.push_str(&text),
                                Err(_) => return Some(false),
                            }
                            // Each file's last line is a line of its own.
                            if !input.is_empty() && !input.ends_with('\n') {
                                input.push('\n');
                            }
                        }
                        shell::text::grep_matches(&own, &input)
                    }
                    // `dpkg-query -S /PATH…` succeeds when installed packages' file lists hold
                    // every path as dpkg records it (usr-is-merged's postinst keeps `/lib64`
                    // because libc6 lists it).
                    Some((name, args))
                        if (name == "dpkg-query" || name == "dpkg")
                            && matches!(args.first().map(String::as_str), Some("-S" | "--search")) =>
                    {
                        super::search_status(packages, &args[1..])
                    }
                    // `dpkg-query -W PKG…` succeeds when every package is installed.
                    Some((name, args))
                        if name == "dpkg-query" && args.iter().any(|a| a == "-W" || a == "--show") =>
                    {
                        let mut names = Vec::new();
                        let mut value_next = false;
                        for a in args {
                            if std::mem::take(&mut value_next) {
                                continue;
                            }
                            if a == "-f" || a == "--showformat" || a == "--admindir" {
                                value_next = true;
                            } else if !a.starts_with('-') {
                                names.push(a.split(':').next().unwrap_or(a));
                            }
                        }
                        let plain = !names.is_empty() && names.iter().all(|n| !n.contains(['*', '?', '[']));
                        plain.then(|| names.iter().all(|n| super::installed(packages, n).is_some()))
                    }
                    // `chown postfix DIR || adduser … postfix`: a chown/chgrp naming an account the
                    // files do not have fails (and its fallback runs); otherwise it runs as usual.
                    Some((name, args)) if name == "chown" || name == "chgrp" => {
                        let spec = args.iter().find(|a| !a.starts_with('-'))?;
                        let (user, group) = attrs::owner_spec(name, spec);
                        let overlay = &state.borrow().overlay;
                        let missing = user.is_some_and(|u| super::account(overlay, "etc/passwd", u).is_err())
                            || group.is_some_and(|g| super::account(overlay, "etc/group", g).is_err());
                        missing.then_some(false)
                    }
                    // `if cmp -s OLD /etc/X; then rm -f /etc/X`: the two files as the image has
                    // them (a missing one makes cmp fail, as libsensors5's preinst relies on).
                    Some((name, args)) if name == "cmp" || name == "diff" => {
                        let st = state.borrow();
                        conditions::cmp_status(&st.overlay, name, args, |p| st.pending.contains(p))
                    }
                    Some((name, args)) if name == "su" => {
                        conditions::su_ownership_status(&state.borrow().overlay, args)
                    }
                    // `getent group NAME || addgroup …`: the account files as the scripts left them.
                    Some((name, args)) if name == "getent" => {
                        super::users::getent(&state.borrow().overlay, args)
                    }
                    // `if ! id clamav >/dev/null; then adduser …`: the same; a user it names
                    // fails it.
                    Some((name, args)) if name == "id" && args.iter().any(|a| !a.starts_with('-')) => {
                        use super::users::IdAnswer;
                        match super::users::id_output(&state.borrow().overlay, args) {
                            IdAnswer::NoSuchUser => Some(false),
                            IdAnswer::Exists(_) if args.iter().all(|a| !a.starts_with('-')) => Some(true),
                            IdAnswer::Exists(out) => out.map(|_| true),
                            IdAnswer::Unknown => None,
                        }
                    }
                    // php-maintscript-helper's `phpquery -v V -s SAPI -m MOD`.
                    Some((name, args)) if name.rsplit('/').next() == Some("phpquery") => {
                        super::php::query_status(&state.borrow().overlay, args)
                    }
                    // `a2query -m php8.2`: apache2's links and markers as the scripts left them.
                    Some((name, args)) if name.rsplit('/').next() == Some("a2query") => {
                        super::apache::query(&state.borrow().overlay, args).map(|(code, _)| code == 0)
                    }
                    _ => None,
                };
                // `a2query … || ret=$?`: its code (1, 32, 33).
                let codes = |argv: &[String]| match argv.split_first() {
                    Some((name, args)) if name.rsplit('/').next() == Some("a2query") => {
                        super::apache::query(&state.borrow().overlay, args).map(|(code, _)| code)
                    }
                    _ => None,
                };
                // `$(mktemp)` makes its file in the image and prints its name; `$(cat FILE)` and
                // `$(dpkg -L PKG)` read the image and the package set.
                let printed = |argv: &[String]| match argv.split_first() {
                    Some((name, args)) if name == "mktemp" => {
                        let mut st = state.borrow_mut();
                        let path = output::mktemp(&mut st.overlay, args).ok()?;
                        // The script's own file: a write to it not reproduced leaves it out
                        // (`output::content_lost`), not empty.
                        st.created.insert(path.clone());
                        // A new, empty file: whatever a file of that name was before is gone.
                        output::known_again(&mut st, &path);
                        Some(path + "\n")
                    }
                    // `pg_lsclusters -h`: the image's clusters, none (`pg_createcluster` is left
                    // out; what is written from the answer follows the image).
                    Some((name, args)) if name.rsplit('/').next() == Some("pg_lsclusters") => {
                        let st = state.borrow();
                        let clusters = super::postgres::lsclusters_output(&st.overlay, args, &st.pending)?;
                        if !clusters.is_empty() {
                            let entry = format!(
                                "{}`{}` answered with the image's clusters, none: {} is made at first start, \
                                 and what is written from the answer with it (made at first start: `pg_createcluster`, \
                                 which brings what depends on the clusters up to date)",
                                commands::SKIPPED_NONDETERMINISTIC,
                                argv.join(" "),
                                clusters.join(", ")
                            );
                            let mut noted = noted.borrow_mut();
                            if !noted.contains(&entry) {
                                noted.push(entry);
                            }
                        }
                        Some(String::new())
                    }
                    // `servlink=$(readlink -f /etc/service)` (runit's preinst, before its own
                    // link is there): the image's links as the script sees them.
                    Some((name, args)) if name.rsplit('/').next() == Some("readlink") => {
                        paths::readlink_output(&state.borrow(), &pkg.name, args)
                    }
                    // `$(ls -1v DIR | grep …)`: the directory's names as ls sorts them.
                    Some((name, args)) if name.rsplit('/').next() == Some("ls") => {
                        let st = state.borrow();
                        // Not what a left-out command made (or made inside): its listing is not known.
                        let pending = |a: &String| {
                            let a = if a.len() > 1 {
                                a.trim_end_matches('/')
                            } else {
                                a.as_str()
                            };
                            st.pending.contains(a)
                                || st.pending.iter().any(|p| p.starts_with(&format!("{a}/")))
                        };
                        if args.iter().any(pending) {
                            return None;
                        }
                        super::ls::ls_output(&st.overlay, args)
                    }
                    // `papersize=`paperconf``: the name `/etc/papersize` gives (libpaper1's
                    // postinst wrote it from its debconf answer).
                    Some((name, args)) if name.rsplit('/').next() == Some("paperconf") => {
                        super::paper::paperconf_output(&state.borrow().overlay, args)
                    }
                    // `ucfq -w FILE`: ucf's registry and hashfile as the scripts left them.
                    Some((name, args)) if name.rsplit('/').next() == Some("ucfq") => {
                        super::ucf::ucfq_output(&state.borrow().overlay, args)
                    }
                    // `dpkg -s PKG | sed -ne '/^Version/…'`: the status of a package configured
                    // before this one.
                    Some((name, args))
                        if (name == "dpkg" || name == "dpkg-query")
                            && matches!(args.first().map(String::as_str), Some("-s" | "--status"))
                            && args.len() > 1
                            && args[1..].iter().all(|a| !a.starts_with('-')) =>
                    {
                        let st = state.borrow();
                        let done = configured.borrow();
                        super::dpkgdb::status_output(&st.overlay, packages, &args[1..], &|n| done.contains(n))
                    }
                    Some((name, args))
                        if (name == "cat" && !args.is_empty())
                            || matches!(
                                name.as_str(),
                                "sed" | "grep" | "awk" | "mawk" | "gawk" | "md5sum" | "head" | "tail"
                            ) =>
                    {
                        output::printed(&state.borrow().overlay, argv, bash, None)
                            .ok()
                            .flatten()
                    }
                    // `$(find DIR -name '*.cnf' | sort)`: the walk takes it only where order
                    // does not matter (one line, or sorted after).
                    Some((name, args)) if name == "find" => match super::find::parse_find(args) {
                        Ok(call) if call.action == super::find::Action::Print => {
                            recursive::printed(&state.borrow().overlay, &call).ok()
                        }
                        _ => None,
                    },
                    Some((name, [flag, file])) if name == "dpkg-divert" && flag == "--truename" => {
                        Some(truename(&state.borrow().diversions, file))
                    }
                    Some((name, [flag, file])) if name == "dpkg-divert" && flag == "--listpackage" => {
                        Some(listpackage(&state.borrow().diversions, file))
                    }
                    Some((name, args))
                        if name == "dpkg-divert" && args.first().is_some_and(|a| a == "--list") =>
                    {
                        Some(list_diversions(
                            &state.borrow().diversions,
                            args.get(1).map(String::as_str),
                        ))
                    }
                    Some((name, args)) if name.rsplit('/').next() == Some("phpquery") => {
                        super::php::query_output(&state.borrow().overlay, args)
                    }
                    Some((name, args)) if name.rsplit('/').next() == Some("a2query") => {
                        super::apache::query(&state.borrow().overlay, args).map(|(_, out)| out)
                    }
                    // `dpkg-query -f '${Status}' -W apache2`: whether it is configured yet.
                    Some((name, args))
                        if name == "dpkg-query"
                            && args.iter().any(|a| a == "-f" || a.starts_with("--showformat")) =>
                    {
                        let done = configured.borrow();
                        super::dpkgdb::show_output(packages, args, &|n| done.contains(n), &pkg.name)
                    }
                    // `uid=$(getent passwd NAME | cut -d: -f3)`: the account files so far.
                    Some((name, args)) if name == "getent" => {
                        super::users::getent_output(&state.borrow().overlay, args)
                    }
                    // `$(id -u jetty)`: the same; a user the image lacks prints nothing on
                    // standard output (dnsmasq-base's `[ -z "`id -u dnsmasq 2> /dev/null`" ]`).
                    Some((name, args)) if name == "id" => {
                        match super::users::id_output(&state.borrow().overlay, args) {
                            super::users::IdAnswer::Exists(printed) => printed,
                            super::users::IdAnswer::NoSuchUser => Some(String::new()),
                            super::users::IdAnswer::Unknown => None,
                        }
                    }
                    Some((name, args)) if name == "stat" => {
                        output::stat_output(&state.borrow().overlay, args)
                    }
                    // `$(dpkg-statoverride --list "$dir")`: the database as the scripts left it.
                    Some((name, args)) if name.rsplit('/').next() == Some("dpkg-statoverride") => {
                        match super::statoverride::parse(args) {
                            Ok(super::statoverride::Call::List(globs)) => {
                                Some(state.borrow().overrides.list_output(&globs))
                            }
                            _ => None,
                        }
                    }
                    Some((name, args)) if name == "getfacl" => {
                        output::getfacl_output(&state.borrow().overlay, args)
                    }
                    _ => super::dpkg_listfiles(packages, argv),
                };
                let db = |argv: &[String]| debconf.answer(argv);
                let helpers = commands::follow_into;
                let globs = |pattern: &str| Some(super::glob_paths(&state.borrow().overlay, pattern));
                // The package's config script runs first (it may `db_set` answers from what it
                // finds), with the image's files and the answers so far. Its file commands are
                // not applied (debconf runs it to ask questions): every command not harmless is
                // listed, as `report::unapplied` says.
                let config = pkg
                    .members
                    .get("config")
                    .filter(|_| step == Step::Configure)
                    .map(|raw| super::report::walkable(raw));
                let config_entry = |what: String| NotEmulated {
                    package: pkg.name.clone(),
                    script: "config".into(),
                    what,
                };
                match config {
                    Some(Err(why)) => {
                        report.push(config_entry(why));
                        let raw = pkg.members.get("config").map_or(&[][..], Vec::as_slice);
                        debconf.config_not_walked(&pkg.name, raw);
                    }
                    Some(Ok(config)) => {
                        // What commands print, but not `mktemp`'s file: nothing the config makes
                        // is applied.
                        let config_printed = |argv: &[String]| match argv.first() {
                            Some(name) if name == "mktemp" => None,
                            _ => printed(argv),
                        };
                        let mut listed: Vec<String> = Vec::new();
                        let mut list = |c: Call<'_>| listed.extend(report::unapplied(&c));
                        // A config script cut short has set what it set.
                        let walked = shell::Eval::new(&["configure", ""], &mut list)
                            .with_helpers(&helpers)
                            .with_globs(&globs)
                            .with_files(&files)
                            .with_links(&links)
                            .with_status(&status)
                            .with_output(&config_printed)
                            .with_source(&source)
                            .with_machine_files(&machine_files)
                            .with_debconf(&db)
                            // Sizes as the image has them when the config runs (mdadm's `[ -s
                            // /etc/default/mdadm ]`): a config script writes no file it then
                            // tests (what it would write is reported, not applied).
                            .with_sizes()
                            .with_package(&pkg.name, &pkg.architecture, "config", &pkg.architecture)
                            .with_source_date_epoch(source_date_epoch)
                            .run_script(&config);
                        if let Err(why) = walked {
                            listed.push(report::cut_short(&why));
                        }
                        report.extend(listed.into_iter().map(config_entry));
                    }
                    None => {}
                }
                let guessed: RefCell<Vec<String>> = RefCell::new(Vec::new());
                let guesses = |condition: &str, unwalked: &[String]| {
                    guessed
                        .borrow_mut()
                        .extend(conditions::unwalked_effects(condition, unwalked));
                };
                // What the walk's caller reproduces: all but the image's programs it neither
                // applies nor follows (a Perl configuration tool).
                let reproduced = |argv: &[String]| match argv.split_first() {
                    Some((name, args)) => {
                        let base = name.rsplit('/').next().unwrap_or(name);
                        !matches!(
                            commands::classify(name, args),
                            Kind::NotEmulated | Kind::ImageCode(_)
                        ) || handles(base, args)
                    }
                    None => true,
                };
                let walked = shell::Eval::new(&args, &mut cb)
                    .with_helpers(&helpers)
                    .with_globs(&globs)
                    .with_guesses(&guesses)
                    .with_reproduced(&reproduced)
                    .with_bash(bash)
                    .with_output(&printed)
                    .with_debconf(&db)
                    .with_files(&files)
                    .with_sizes()
                    .with_status(&status)
                    .with_codes(&codes)
                    .with_links(&links)
                    .with_source(&source)
                    .with_machine_files(&machine_files)
                    .with_package(&pkg.name, &pkg.architecture, script, &pkg.architecture)
                    .with_source_date_epoch(source_date_epoch)
                    .run_script(&nodes);
                if let Err(why) = walked {
                    failures.push(report::cut_short(&why));
                }
                failures.extend(guessed.into_inner());
                failures.extend(noted.into_inner());
            }
            if let Some(err) = refused {
                return Err(err);
            }
            // What the script activated, for the packages configured before it; and, after its
            // own `postinst configure`, for the package itself: dpkg reads the activations
            // (`Unincorp`) once the package's status is set after its postinst, so a trigger it
            // activates for itself is processed later (libvlc-bin's `dpkg-trigger` of its own
            // plugin directory, whose `triggered` run builds plugins.dat).
            let activated = std::mem::take(&mut state.borrow_mut().activated);
            if !activated.is_empty() {
                let mut interested = configured.borrow().clone();
                if step == Step::Configure {
                    interested.insert(pkg.name.as_str());
                }
                for (name, awaits) in &activated {
                    triggers.activate(name, &interested, *awaits);
                }
            }
            report.extend(failures.into_iter().map(|what| NotEmulated {
                package: pkg.name.clone(),
                script: label.into(),
                what,
            }));
        }
    }
    let State {
        mut overlay,
        diversions,
        overrides,
        ..
    } = state.into_inner();
    overlay.apply(overrides.changes());
    let (mut files, removed) = overlay.into_changes();
    // Three lines each, in the order of dpkg's file-name hash table (see `divert`).
    let mut text = String::new();
    for d in &diversions {
        text.push_str(&format!("{}\n{}\n{}\n", d.path, d.divert_to, d.package));
    }
    let size = text.len() as u64;
    files.retain(|(e, _)| e.path != DIVERSIONS);
    files.push((
        Entry::generated(DIVERSIONS, EntryKind::File { size }, 0o644),
        text.into_bytes(),
    ));
    files.sort_by(|a, b| a.0.path.cmp(&b.0.path));
    Ok((Changes { files, removed }, report, triggers_applied.into_inner()))
}

fn apply(st: &mut State<'_>, package: &str, name: &str, args: &[String]) -> Result<(), String> {
    match name {
        "ln" => {
            let (calls, into_directory) = commands::parse_ln_all(args).ok_or("unsupported ln form")?;
            if let Some(dir) = calls.first().map(|c| &c.link)
                && into_directory
                && !super::is_dir(&st.overlay, &super::tree_path(dir))
            {
                return Err(format!("target {dir} is not a directory"));
            }
            for call in &calls {
                if !call.symbolic {
                    super::copy::hard_link(
                        &mut st.overlay,
                        &call.target,
                        &call.link,
                        call.force,
                        call.no_deref,
                    )?;
                } else if let Some(path) = place_link(&st.overlay, call)? {
                    let mut c = Changes::default();
                    c.symlink(&path, &call.target);
                    st.overlay.apply(c);
                }
            }
            Ok(())
        }
        "mv" => mv(&mut st.overlay, args),
        "umask" => {
            let mode = args
                .first()
                .and_then(|m| parse_mode(&format!("{m:0>3}")))
                .ok_or("umask is not octal")?;
            st.umask = mode & 0o777;
            Ok(())
        }
        "rm" => {
            // `-r`/`-R`/`--recursive`: a directory goes with everything below it (mailcap's
            // `rm -fr /var/lib/mime`, usually of a path that is not there).
            let recursive = recursive::has_recursive_flag(args, &['r', 'R']);
            for p in operands(args, &[])? {
                // A file whose directory does not exist is not there to remove (`rm -f` of an
                // unmatched pattern in a directory not made yet).
                if p.starts_with('/') && super::resolve_dir_of(&st.overlay, &super::tree_path(&p)).is_none() {
                    continue;
                }
                output::known_again(st, &p);
                let path = lstat_path(&st.overlay, &p)?;
                match st.overlay.entry(&path) {
                    None => {}
                    Some(e) if e.is_dir() && !recursive => return Err(format!("{p} is a directory")),
                    Some(e) => {
                        let mut removed = if e.is_dir() {
                            recursive::below(&st.overlay, &format!("/{path}"))
                                .iter()
                                .map(|b| super::tree_path(b))
                                .collect()
                        } else {
                            Vec::new()
                        };
                        removed.push(path);
                        st.overlay.apply(Changes {
                            files: vec![],
                            removed,
                        });
                    }
                }
            }
            Ok(())
        }
        "touch" => {
            // Timestamps do not matter (the image clamps them); only creation does.
            let no_create = args.iter().any(|a| a == "-c" || a == "--no-create");
            for p in operands(args, &["-r", "-d", "-t"])? {
                let path = lstat_path(&st.overlay, &p)?;
                if st.overlay.entry(&path).is_none() && !no_create {
                    let mut c = Changes::default();
                    c.file(&path, 0o666 & !st.umask, Vec::new());
                    st.overlay.apply(c);
                }
            }
            Ok(())
        }
        "mkdir" => {
            let args = &super::gnu_long_options(args, super::MKDIR_LONG_OPTIONS)?;
            let call = parse_mkdir(args)?;
            let mode = call
                .mode
                .map(|m| parse_mode(&m).ok_or(format!("mode `{m}` is not octal")))
                .transpose()?
                .unwrap_or(0o777 & !st.umask);
            // Parents made by -p are `u+wx` whatever the umask says, as coreutils makes them.
            let parent_mode = (0o777 & !st.umask) | 0o300;
            for p in call.dirs {
                mkdir(&mut st.overlay, &p, call.parents, mode, parent_mode)?;
            }
            Ok(())
        }
        "rmdir" => {
            // Only empty directories go; `--ignore-fail-on-non-empty` leaves the others quietly.
            let ignore = args.iter().any(|a| a == "--ignore-fail-on-non-empty");
            for p in operands(args, &[])? {
                let path = lstat_path(&st.overlay, &p)?;
                match st.overlay.entry(&path) {
                    Some(e) if e.is_dir() => {}
                    Some(_) => return Err(format!("{p} is not a directory")),
                    None => return Err(format!("{p} does not exist")),
                }
                let prefix = format!("{path}/");
                if st.overlay.paths().any(|q| q.starts_with(&prefix)) {
                    if ignore {
                        continue;
                    }
                    return Err(format!("{p} is not empty"));
                }
                st.overlay.apply(Changes {
                    files: vec![],
                    removed: vec![path],
                });
            }
            Ok(())
        }
        "install" => {
            let call = commands::parse_install(args)?;
            let parent_mode = 0o777 & !st.umask;
            let user = call
                .owner
                .as_deref()
                .map(|u| super::account(&st.overlay, "etc/passwd", u))
                .transpose()?;
            let group = call
                .group
                .as_deref()
                .map(|g| super::account(&st.overlay, "etc/group", g))
                .transpose()?;
            if let Some((source, dest)) = &call.file {
                return install_file(st, source, dest, call.mode, (&user, &group), call.backup);
            }
            for dir in &call.dirs {
                mkdir(&mut st.overlay, dir, true, call.mode, parent_mode)?;
                // install sets the mode (and owner) of the directory, new or not.
                modify(&mut st.overlay, dir, true, |e| {
                    e.mode = call.mode;
                    super::set_owner(e, &user, &group);
                })?;
            }
            Ok(())
        }
        "chmod" => attrs::chmod(st, args),
        "chown" | "chgrp" => attrs::chown(st, name, args),
        "find" => recursive::find(st, package, &super::find::parse_find(args)?),
        "dpkg-divert" => divert(st, package, args),
        "dpkg-statoverride" => super::statoverride::apply(&mut st.overlay, &mut st.overrides, args),
        "cp" => copy::apply(&mut st.overlay, &copy::parse(args)?, st.umask),
        "sed" => sed::apply(&mut st.overlay, &sed::parse(args)?),
        "mktemp" => output::mktemp(&mut st.overlay, args).map(drop),
        "systemd-tmpfiles" => super::tmpfiles::apply(&mut st.overlay, &super::tmpfiles::parse(args)?),
        "emacs-package-install" | "emacs-install" => super::emacsen::apply(&mut st.overlay, name, args),
        "update-xmlcatalog" => {
            super::xmlcatalog::apply(&mut st.overlay, &super::xmlcatalog::parse(args)?, st.umask)
        }
        "a2enmod" | "a2enconf" | "a2ensite" | "a2dismod" | "a2disconf" | "a2dissite" => {
            super::apache::apply(&mut st.overlay, &super::apache::parse(name, args)?, st.umask)
        }
        "setcap" => {
            for (file, value) in super::setcap::parse(args)?.files {
                if super::file_kind(&st.overlay, &file)
                    .is_some_and(|k| !matches!(k, shell::FileKind::File { .. }))
                {
                    return Err(format!("{file} is not a regular file"));
                }
                modify(&mut st.overlay, &file, true, |e| match value {
                    Some(v) => drop(e.xattrs.insert(super::setcap::XATTR.to_owned(), v)),
                    None => drop(e.xattrs.remove(super::setcap::XATTR)),
                })?;
            }
            Ok(())
        }
        "lighty-enable-mod" | "lighty-disable-mod" => {
            super::lighttpd::apply(&mut st.overlay, &super::lighttpd::parse(name, args)?)
        }
        "update-catalog" => {
            let call = super::sgmlcatalog::parse(args)?;
            if let super::sgmlcatalog::CatalogCall::Trigger(name) = call {
                // sgml-base's update-catalog runs `dpkg-trigger` without `--no-await`.
                st.activated.push((name.to_owned(), true));
            }
            super::sgmlcatalog::apply(&mut st.overlay, &call, st.umask)
        }
        "update-binfmts" => super::binfmts::apply(&mut st.overlay, &super::binfmts::parse(args)?, st.umask),
        "update-perl-sax-parsers" => {
            super::perlsax::apply(&mut st.overlay, &super::perlsax::parse(args)?, st.umask)
        }
        "phpenmod" => super::php::apply(&mut st.overlay, &super::php::parse(name, args)?, st.umask),
        "run-parts" => run_parts(&st.overlay, args),
        "mkfontdir" | "mkfontscale" => super::fontsdir::apply(
            &mut st.overlay,
            &super::fontsdir::parse_call(name, args)?,
            st.umask,
        ),
        "git" => super::gitlfs::apply(
            &mut st.overlay,
            super::gitlfs::parse(name, args).ok_or("this git command is not reproduced")?,
        ),
        "update-inetd" => super::inetd::apply(&mut st.overlay, &super::inetd::parse(args)?),
        "update-ccache-symlinks" => {
            super::ccache::parse(args)?;
            super::ccache::apply(&mut st.overlay)
        }
        "journalctl" => {
            // The tool writes the database whole (0644, its directories 0755) or nothing.
            if let Some(bytes) = super::catalog::database(&st.overlay)? {
                super::mkdir_p(&mut st.overlay, "var/lib/systemd/catalog", 0o755);
                let mut c = Changes::default();
                c.file(super::catalog::DATABASE, 0o644, bytes);
                st.overlay.apply(c);
            }
            Ok(())
        }
        _ if super::users::handles(name, args) => {
            let log_init = super::users::LogInit::of(st.packages);
            super::users::apply(
                &mut st.overlay,
                name,
                args,
                st.source_date_epoch / 86400,
                log_init,
            )
        }
        _ if super::pam::handles(name, args) => super::pam::apply(&mut st.overlay, args),
        _ if super::ucf::handles(name, args) => super::ucf::apply(&mut st.overlay, name, args, st.umask),
        _ => Err("not a file command".into()),
    }
}

/// `run-parts DIR`: nothing to do when DIR holds no program run-parts would start (names of
/// letters, digits, `_` and `-`, executable); one it would start is a script not walked.
fn run_parts(overlay: &Overlay<'_>, args: &[String]) -> Result<(), String> {
    let dir = commands::parse_run_parts(args).ok_or("this form of run-parts is not reproduced")?;
    let (_, names) = super::children(overlay, &dir).ok_or_else(|| format!("{dir} is not a directory"))?;
    for name in names.iter().filter(|n| commands::run_parts_name(n)) {
        let path = format!("{}/{name}", dir.trim_end_matches('/'));
        if matches!(
            super::file_kind(overlay, &path),
            Some(shell::FileKind::File { executable: true, .. })
        ) {
            return Err(format!(
                "{path} would run: the programs run-parts starts are not walked"
            ));
        }
    }
    Ok(())
}

fn mv(overlay: &mut Overlay<'_>, args: &[String]) -> Result<(), String> {
    let no_target_dir = args.iter().any(|a| a == "-T" || a == "--no-target-directory");
    let ops = operands(args, &[])?;
    let [src, dst] = ops.as_slice() else {
        return Err("mv with other than two paths".into());
    };
    let from = lstat_path(overlay, src)?;
    let entry = overlay
        .entry(&from)
        .cloned()
        .ok_or(format!("{src} does not exist"))?;
    if entry.is_dir() {
        return Err(format!("{src} is a directory"));
    }
    let mut to = lstat_path(overlay, dst)?;
    if !no_target_dir && super::is_dir(overlay, &to) {
        let base = from.rsplit('/').next().unwrap_or(&from);
        to = format!("{}/{base}", super::resolve(overlay, &to).unwrap_or(to.clone()));
    }
    if overlay.entry(&to).is_some_and(Entry::is_dir) {
        return Err(format!("{dst} is a directory"));
    }
    let content = match overlay.read(&from) {
        Some(Ok(bytes)) => bytes,
        Some(Err(e)) => return Err(format!("reading {src}: {e}")),
        None => Vec::new(),
    };
    let mut moved = entry;
    moved.path = to;
    overlay.apply(Changes {
        files: vec![(moved, content)],
        removed: vec![from],
    });
    Ok(())
}

/// The alternatives' links as the scripts walked so far installed them: each link (master or
/// slave) with the path of its highest-priority choice (the first registered among equals), as
/// update-alternatives' automatic mode sets it.
#[derive(Default)]
struct AlternativeLinks(std::collections::BTreeMap<String, (i64, String)>);

impl AlternativeLinks {
    fn register(&mut self, install: &super::alternatives::Install) {
        let slaves = install.slaves.iter().map(|(link, _, path)| (link, path));
        for (link, path) in std::iter::once((&install.link, &install.path)).chain(slaves) {
            let better = self
                .0
                .get(link)
                .is_none_or(|(priority, _)| install.priority > *priority);
            if better {
                self.0.insert(link.clone(), (install.priority, path.clone()));
            }
        }
    }

    fn path_of(&self, link: &str) -> Option<&str> {
        self.0.get(link).map(|(_, path)| path.as_str())
    }
}

/// The report entry of a command applied under a test of values the walk does not know.
fn applied_on_a_guess(c: &Call<'_>, condition: &str) -> String {
    format!(
        "{} (applied on a guess: whether `{condition}` holds is not known while building; the walk \
         took it as holding)",
        command_line(c)
    )
}

/// What a call of gdk-pixbuf-query-loaders leaves: its output in the file standard output goes
/// to, and the cache it writes itself (a new file, as GLib replaces one).
fn loaders_cache_written(
    st: &mut State<'_>,
    stdout: &Option<(shell::Value, bool)>,
    out: super::plugins::pixbuf::Output,
) -> Result<(), String> {
    match stdout {
        Some((shell::Value::Known(path), append)) => output::write_file(st, path, &out.printed, *append)?,
        Some((shell::Value::Unknown(_), _)) => return Err("the file its output goes to is not known".into()),
        None => {}
    }
    if let Some((path, text)) = out.cache {
        st.overlay.apply(Changes {
            files: vec![],
            removed: vec![super::tree_path(&path)],
        });
        output::write_file(st, &path, &text, false)?;
    }
    Ok(())
}

/// A write of what belongs to the machine the image runs on (the host's name, a random value)
/// to `path`, as `line` says it: the file is left out and remembered as the machine's (what is
/// copied, sourced or read from it is too); the report entry, with what makes it at first start.
fn machine_write(
    st: &mut State<'_>,
    package: &str,
    line: &str,
    path: &str,
    why: &str,
    (guessed, append): (bool, bool),
) -> String {
    let hint = machine_value(package, why);
    let entry = commands::left_out_entry(line, &hint);
    let lost = output::MachineFile {
        hint,
        why: why.to_owned(),
    };
    output::machine_file_lost(st, path, lost, guessed, append);
    entry
}

/// What makes, at first start, a file `package`'s script writes from a value of the machine it
/// runs on (`why`: the value's reason, random or the host's name).
fn machine_value(package: &str, why: &str) -> String {
    if let Some(made_by) = shell::left_out_output_maker(why) {
        made_by.to_owned()
    } else if shell::is_host_dependent(why) {
        commands::host_value(package)
    } else {
        commands::random_value(package)
    }
}

/// Whether `line` names `path` as a whole word (not as the start of a longer path: a key's
/// name inside its `.pub`'s).
fn names_path(line: &str, path: &str) -> bool {
    line.match_indices(path).any(|(at, _)| {
        !line[at + path.len()..]
            .chars()
            .next()
            .is_some_and(|c| c.is_alphanumeric() || matches!(c, '.' | '_' | '-' | '/'))
    })
}

/// A command's line with the file its standard output goes to (`/dev` aside): what the report
/// names, as that file is left out with the command.
fn with_output_file(line: String, stdout: &Option<(shell::Value, bool)>) -> String {
    match stdout {
        Some((shell::Value::Known(path), append)) if !path.starts_with("/dev/") => {
            format!("{line} {} {path}", if *append { ">>" } else { ">" })
        }
        _ => line,
    }
}

/// Where `ln -s` puts the link, or `None` when LINK exists and there is no `-f`.
fn place_link(tree: &dyn TreeView, call: &LinkCall) -> Result<Option<String>, String> {
    let mut path = lstat_path(tree, &call.link)?;
    // `ln -s T DIR` makes DIR/basename(T), unless -n/-T.
    if !call.no_deref && super::is_dir(tree, &path) {
        let base = call
            .target
            .trim_end_matches('/')
            .rsplit('/')
            .next()
            .unwrap_or_default();
        path = format!("{}/{base}", super::resolve(tree, &path).unwrap_or(path.clone()));
    }
    match tree.entry(&path) {
        Some(_) if !call.force => Ok(None),
        Some(e) if e.is_dir() => Err(format!("/{path} is a directory")),
        _ => Ok(Some(path)),
    }
}

#[cfg(test)]
mod script_tests;
#[cfg(test)]
mod tests;
