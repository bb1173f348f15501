//! The evaluator: walks a script as a fresh `postinst configure` would, resolving variables where
//! the script sets them and handing every command it would run to a callback ([`Eval`]). Shell
//! builtins are interpreted here (`Eval::simple`); what a command *does* to the image is decided
//! by the callback's owner (see `super::super::commands`).

use std::collections::BTreeMap;
use std::rc::Rc;

use super::ast::{Node, Part, Piece, Redir, Word};
use super::glob::glob_match;
use super::{MAX_NESTING, parse};

mod arith;
mod capture;
mod condition;
mod dirs;
mod expand;
mod guess;
mod helper;
mod probe;

use dirs::WorkingDir;
pub use dirs::join;
pub use helper::HelperProbe;
pub use probe::GlobProbe;
pub use probe::{
    CodeProbe, DebconfProbe, DebconfReply, FileKind, FileProbe, GuessSink, LinkProbe, MachineFileProbe,
    OutputProbe, ReproducedProbe, SCRIPT_PATH, SourceReader, StatusProbe,
};

/// What a [`DebconfProbe`] receives in place of an argument the walk does not know (a NUL never
/// appears in a shell word).
pub const UNKNOWN_ARG: &str = "\u{0}unknown";
/// [`UNKNOWN_ARG`] for a value that comes from the host's name ([`HOST_DEPENDENT`]); it starts
/// with [`UNKNOWN_ARG`], so [`is_unknown_arg`] holds for both.
pub const UNKNOWN_HOST_ARG: &str = "\u{0}unknown: the host's name";
/// [`UNKNOWN_ARG`] for a random value ([`RANDOM_DEPENDENT`]: dbconfig-common's generated
/// password, stored with `db_set` by the config script and read back by the postinst).
pub const UNKNOWN_RANDOM_ARG: &str = "\u{0}unknown: a random value";

/// Whether a [`DebconfProbe`] argument stands for a value the walk does not know.
pub fn is_unknown_arg(arg: &str) -> bool {
    arg.starts_with(UNKNOWN_ARG)
}

/// How the `Err` of a [`Call`]'s `argv` starts for a write the walk did not run
/// ([`Eval::with_guesses`]): a command in a loop it could not run, or in a branch it did not take.
pub const NOT_RUN: &str = "not run: ";

/// How the reason of a [`Value::Unknown`] starts when the value comes from the name of the host
/// the scripts run on (`$(hostname --fqdn)`, exim4-config's mail name): on a real install it is
/// that machine's, so whatever is made from it does not belong in an image built anywhere.
pub const HOST_DEPENDENT: &str = "the host's name: ";

/// Whether an unknown value's reason says it comes from the host's name.
pub fn is_host_dependent(why: &str) -> bool {
    why.starts_with(HOST_DEPENDENT)
}

/// How the reason of a [`Value::Unknown`] starts when the value is random (`$(iscsi-iname)`,
/// `$(uuidgen)`, bytes of `/dev/urandom`): every install makes another, so whatever is made from
/// it belongs to the machine the image runs on, not in an image built anywhere.
pub const RANDOM_DEPENDENT: &str = "a random value: ";

/// Whether an unknown value's reason says it is random.
pub fn is_random_dependent(why: &str) -> bool {
    why.starts_with(RANDOM_DEPENDENT)
}

/// How the reason of a [`Value::Unknown`] starts when the value is what a command left out as
/// non-deterministic printed (munin-node-configure's choice of plugins, from probing the machine
/// it runs on), followed by what makes it at first start: what is made from it belongs to that
/// machine too.
pub const LEFT_OUT_OUTPUT: &str = "the output of a command left out as non-deterministic: ";

/// What makes, at first start, the output a [`LEFT_OUT_OUTPUT`] reason stands for.
pub fn left_out_output_maker(why: &str) -> Option<&str> {
    why.strip_prefix(LEFT_OUT_OUTPUT)
}

/// Whether an unknown value belongs to the machine it is made on: its host's name, a random
/// value, or what a command left out as non-deterministic printed.
pub fn is_machine_dependent(why: &str) -> bool {
    is_host_dependent(why) || is_random_dependent(why) || why.starts_with(LEFT_OUT_OUTPUT)
}

/// Whether a command's operand is the kernel's random numbers (`dd if=/dev/urandom`, `head -c
/// 16 /dev/urandom`, `/proc/sys/kernel/random/uuid`).
pub fn is_random_source(arg: &str) -> bool {
    let path = arg.strip_prefix("if=").unwrap_or(arg);
    matches!(path, "/dev/urandom" | "/dev/random") || path.starts_with("/proc/sys/kernel/random/")
}

/// Whether a command prints a random value: iSCSI's `iscsi-iname`, `uuidgen` (not its name-based
/// `--md5`/`--sha1` forms), `mcookie`, `pwgen`, `apg`, `systemd-id128 new`, `openssl rand`, and
/// any command reading the kernel's random numbers.
pub fn prints_random(argv: &[String]) -> bool {
    let Some((name, args)) = argv.split_first() else {
        return false;
    };
    let first = args.first().map(String::as_str);
    match name.rsplit('/').next().unwrap_or(name) {
        "iscsi-iname" | "mcookie" | "pwgen" | "apg" => true,
        "uuidgen" => !args
            .iter()
            .any(|a| matches!(a.as_str(), "-m" | "--md5" | "-s" | "--sha1")),
        "systemd-id128" => first == Some("new"),
        // An NVMe host NQN: from the machine's DMI product UUID where it has one, else random
        // (nvme-cli's postinst writes /etc/nvme/hostnqn with it).
        "nvme" => first == Some("gen-hostnqn"),
        "openssl" => first == Some("rand"),
        // A random permutation (popularity-contest's `shuf -i 0-59 -n1` minute), unless its
        // randomness is read from a given file.
        "shuf" => !args.iter().any(|a| a.starts_with("--random-source")),
        _ => args.iter().any(|a| is_random_source(a)),
    }
}

/// Whether a command prints the host's name (or its domain): `hostname` and its aliases without
/// an operand or `-F` (those set it), `uname -n`/`-a`, `hostnamectl`.
pub fn prints_host_name(argv: &[String]) -> bool {
    let Some((name, args)) = argv.split_first() else {
        return false;
    };
    match name.rsplit('/').next().unwrap_or(name) {
        "hostname" | "dnsdomainname" | "domainname" | "nisdomainname" | "ypdomainname" => {
            args.iter().all(|a| {
                a.starts_with('-')
                    && !matches!(a.as_str(), "-F" | "--file" | "-b" | "--boot")
                    && !a.starts_with("--file=")
            })
        }
        "uname" => args.iter().any(|a| {
            a == "-a"
                || a == "--all"
                || a == "--nodename"
                || (a.starts_with('-') && !a.starts_with("--") && a.contains('n'))
        }),
        "hostnamectl" => {
            // `hostnamectl`, `hostnamectl status`, `hostnamectl hostname` print it; with a name
            // after `hostname` it is set.
            let operands: Vec<&str> = args
                .iter()
                .map(String::as_str)
                .filter(|a| !a.starts_with('-'))
                .collect();
            matches!(operands.as_slice(), [] | ["status"] | ["hostname"])
        }
        _ => false,
    }
}

/// A value during evaluation: known text, or unknown (named for the report).
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Known(String),
    Unknown(String),
}

impl Value {
    /// The text, when known.
    pub fn known(self) -> Option<String> {
        match self {
            Value::Known(s) => Some(s),
            Value::Unknown(_) => None,
        }
    }
}

/// What a command did when [`Eval`] reached it, for the caller's callback.
pub struct Call<'a> {
    /// Expanded arguments (`argv[0]` first); `Err(what)` if some part could not be resolved.
    pub argv: Result<Vec<String>, String>,
    /// Where `argv` is not known: each expanded word, known or not (webalizer's `sed -i -e
    /// "s/…/HostName $(hostname)/" FILE` names its file though its program holds the host's
    /// name). Empty otherwise.
    pub words: Vec<Value>,
    pub text: &'a str,
    /// Where standard output goes (the last `>FILE`/`>>FILE`): the expanded path and whether it
    /// appends.
    pub stdout: Option<(Value, bool)>,
    /// A here-document on standard input: its text, expanded (`None` inside: unterminated, or an
    /// expansion whose value is not known).
    pub heredoc: Option<Option<String>>,
    /// The command's environment beyond dpkg's: what the script exported, then the assignments
    /// before the command (`NAME=ssh ENABLE=yes runit-helper …`), the last of a name winning.
    pub env: Vec<(String, Value)>,
    /// What the commands before it in a pipeline printed, where that is known
    /// (`cat FILE | sed … > OUT`).
    pub stdin: Option<String>,
    /// The working directory, where known (relative operands are relative to it).
    pub cwd: Option<String>,
    /// Reached only because the walk took a condition it could not decide as holding: on the
    /// real system the command may not run at all.
    pub guessed: bool,
    /// The innermost such condition that is a test of values the walk does not know (`[ "$RET"
    /// = true ]` with a debconf answer it could not compute), as written: what the command does
    /// is applied on a guess the report must state.
    pub guess: Option<String>,
    /// What the command reads that belongs to the machine it runs on, as an unknown value's
    /// reason ([`RANDOM_DEPENDENT`], [`HOST_DEPENDENT`]): its input is the kernel's random
    /// numbers (dbconfig-common's `tr -dc … < /dev/urandom`), or its here-document expands such
    /// a value (the generated password written into the package's configuration).
    pub machine_dependent: Option<String>,
}

/// Walks a script as a fresh `<script> configure` run would, calling `on_command` for every
/// simple command reached (function bodies at their call sites, loops unrolled).
pub struct Eval<'f> {
    vars: BTreeMap<String, Value>,
    /// Function bodies, shared (a call does not copy its body).
    funcs: BTreeMap<String, Rc<[Node]>>,
    /// Files read for `. FILE` (and helper scripts), parsed once per path until a command that
    /// may have rewritten them runs (`None`: unreadable or not parsed).
    sourced: BTreeMap<String, Option<Rc<[Node]>>>,
    /// `$1`…: an argument the walk could not know stays unknown in its place, so a function
    /// called with one sees the others where they are (`php_invoke enmod 8.2 cli $mod`).
    positional: Vec<Value>,
    on_command: &'f mut dyn FnMut(Call<'_>),
    depth: usize,
    /// Commands and compounds walked so far, against [`MAX_STEPS`].
    steps: usize,
    /// Why the walk stopped early (nesting or step limit), for the caller's report.
    cut: Option<String>,
    exited: bool,
    /// `return` seen in the function being run.
    returning: bool,
    /// The status the function being run returned with (`return N`), where known: `None` for
    /// no `return` yet, `Some(None)` for one whose status is not known.
    returned: Option<Option<bool>>,
    /// Branches being walked on a guess (an undecided condition taken as holding): a `return`
    /// there says nothing certain about the function's status.
    guessing: usize,
    /// The undecided tests of unknown values whose branches are being walked ([`Call::guess`]).
    value_guesses: Vec<String>,
    /// [`Eval::condition`] ran the command it was asked about (a call of one of the script's
    /// functions, run to learn its status): the caller must not run it again.
    cond_ran: bool,
    in_func: usize,
    /// Per function call being run, the variables its `local` declared and what they held
    /// before (`None`: unset), restored when it returns.
    locals: Vec<Vec<(String, Option<Value>)>>,
    /// What the commands inside `$(…)` printed so far.
    capture: String,
    /// Inside `$(…)`, what the command before this one in a pipeline printed.
    stdin: Option<String>,
    /// The script runs under bash (its `echo` reads no escapes without `-e`), not dash.
    bash: bool,
    /// A command captured since this was last cleared printed what cannot be known.
    capture_lost: bool,
    /// Why what a pipeline's earlier stages print belongs to the machine (`dd if=/dev/random |
    /// uuencode … | tail -n 1 > KEY`, wide-dhcpv6-client's control key): the later stages'
    /// input, and what they make from it, do too.
    pipe_machine: Option<String>,
    capturing: usize,
    /// The status of the last `$(…)` expanded, where known: an assignment's own status.
    substitution_status: Option<bool>,
    /// The variables `export` named: what a command reading its environment sees.
    exported: std::collections::BTreeSet<String>,
    /// Which image files are left out because they hold the host's name or a random value.
    machine_files: Option<MachineFileProbe<'f>>,
    /// Why the variables nothing assigned may hold the host's name or a random value: the
    /// script sourced a file that does (exim4's update-exim4.conf reads its debconf-made
    /// configuration).
    sourced_machine: Option<String>,
    /// The variables the script being walked assigns somewhere in its text: its own, which a
    /// file it sources is not taken to set.
    script_assigned: Rc<std::collections::BTreeSet<String>>,
    /// File tests against the image (`[ -x /usr/bin/foo ]`, `command -v foo`); unknown without.
    files: Option<FileProbe<'f>>,
    /// Whether the file probe sees the script's own writes as they happen, so that `test -s`
    /// (a size) can be decided ([`Eval::with_sizes`]).
    sizes: bool,
    /// `[ -h PATH ]`: whether the path itself (not followed) is a symbolic link.
    links: Option<LinkProbe<'f>>,
    /// `dpkg --print-architecture` inside the image.
    native_arch: Option<String>,
    /// Reads a file of the image for `. FILE`.
    source: Option<SourceReader<'f>>,
    /// The exit status of a command used as a condition, where the caller can tell.
    status: Option<StatusProbe<'f>>,
    /// The exit code of a command `status` says fails, where the caller can tell.
    codes: Option<CodeProbe<'f>>,
    /// The code `codes` gave for the last command probed, while the node that probed it runs.
    probed_code: std::cell::Cell<Option<i32>>,
    /// `probed_code` of the node before the one being run: the code `$?` gives for a failure.
    prev_code: Option<i32>,
    /// The standard output of a command inside `$(…)`, where the caller can tell (`mktemp`).
    output: Option<OutputProbe<'f>>,
    /// debconf's answers (`db_get` sets `RET`), where the caller keeps a database.
    debconf: Option<DebconfProbe<'f>>,
    /// Which commands to follow into the image's shell scripts ([`Eval::with_helpers`]).
    helpers: Option<HelperProbe<'f>>,
    /// Pathname expansion against the image ([`Eval::with_globs`]).
    globs: Option<GlobProbe<'f>>,
    /// Told of branches an undecided condition left unwalked ([`Eval::with_guesses`]).
    guesses: Option<GuessSink<'f>>,
    /// Where standard output goes for commands without a redirection of their own: the target
    /// of an enclosing compound command's `>FILE` (appending once the first command wrote).
    stdout: Option<(Value, bool)>,
    /// Where standard error goes when that is a file (`{ …; } >FILE 2>&1`, `exec >FILE 2>&1`):
    /// what `>&2` sends there; `None` for the script's own descriptor.
    stderr: Option<(Value, bool)>,
    /// Lines a `while read` loop reads: the here-document of the compound command around it.
    lines: Option<std::collections::VecDeque<String>>,
    /// `trap ACTION EXIT`: run when the script ends.
    exit_trap: Option<Rc<[Node]>>,
    /// The condition of a branch taken on a guess that ended the script (`exit`) or the
    /// function (`return`): what the enclosing sequences would have run next goes to the
    /// caller's [`GuessSink`] too.
    ended_on_guess: Option<String>,
    /// Whether the caller reproduces a command ([`Eval::with_reproduced`]).
    reproduces: Option<ReproducedProbe<'f>>,
    /// The last command of this script the caller does not reproduce, once one ran.
    unreproduced: Option<String>,
    /// How many branches the walk is in that a decision chose (an `if`'s, a `case` arm, a later
    /// part of `&&`/`||`): an `exit` there depends on what was decided.
    branch_depth: usize,
    /// The pipeline stage being walked is followed by `sort`: the order of its lines does not
    /// matter (`find … | sort`).
    sorted_after: bool,
    /// The status the walk assumes for the node it just ran where that follows from running it:
    /// `! CMD` is false once CMD ran (a command run is taken as succeeding), and a list's status
    /// follows from its parts. `None` otherwise.
    last_status: Option<bool>,
    /// `last_status` of the node before the one being run: what `$?` and a bare `return`
    /// give (is_true's `[ … ] || [ … ]; return $?`).
    prev_status: Option<bool>,
    /// `for` loops being walked, and a `break`/`continue` on its way out of the innermost.
    loops: usize,
    loop_jump: Option<LoopJump>,
    /// The working directory (`cd`): dpkg runs maintainer scripts in `/`. Shared (one pointer
    /// in the struct: every `$(…)` puts an `Eval` on the stack).
    dirs: Rc<WorkingDir>,
    /// What a variable nothing assigned holds ([`Eval::with_package`]): empty, as in the clean
    /// environment dpkg runs a fresh install's scripts in, once `Known`; unknown otherwise, and
    /// from the moment the walk lost track of what may have been assigned (an `eval`, a sourced
    /// file it could not read).
    unset: UnsetVars,
}

/// The environment the build runs dpkg in, as mmdebstrap and image builds do: the noninteractive
/// debconf frontend and the C.UTF-8 locale, whatever the host's, and the `PATH` apt gives dpkg
/// (its `DPkg::Path` default). What a script derives from them (keyboard-configuration's default
/// layout from the locale, its own `which` from `PATH`) is then one value for every build
/// instead of the caller's.
pub const SCRIPT_ENVIRONMENT: &[(&str, &str)] = &[
    ("PATH", "/usr/sbin:/usr/bin:/sbin:/bin"),
    ("DEBIAN_FRONTEND", "noninteractive"),
    ("DEBCONF_NONINTERACTIVE_SEEN", "true"),
    ("LC_ALL", "C.UTF-8"),
    ("LANG", "C.UTF-8"),
    ("LANGUAGE", "C.UTF-8"),
];

/// How [`Eval`] reads a variable no assignment it walked set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum UnsetVars {
    /// Not known (the environment may set it): plain walks.
    Unknown,
    /// Empty: a maintainer script dpkg runs (its environment carries little).
    Empty,
    /// Was `Empty`, until something may have assigned variables the walk cannot see.
    Lost,
}

/// `break` or `continue` leaving the innermost loop's body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum LoopJump {
    Break,
    Continue,
}

/// How deeply [`Eval`] follows nodes and function calls into each other (a function calling
/// itself would otherwise recurse forever). Past it the walk stops and says so.
pub const MAX_EVAL_DEPTH: usize = 2 * MAX_NESTING;

/// How many commands [`Eval`] walks in one script before it stops and says so (a function that
/// calls itself twice would otherwise take exponential time).
pub const MAX_STEPS: usize = 200_000;

impl<'f> Eval<'f> {
    pub fn new(args: &[&str], on_command: &'f mut dyn FnMut(Call<'_>)) -> Self {
        Eval {
            // The shell starts with `IFS` set (`save_IFS=$IFS` keeps it).
            vars: BTreeMap::from([("IFS".to_owned(), Value::Known(expand::DEFAULT_IFS.to_owned()))]),
            funcs: BTreeMap::new(),
            sourced: BTreeMap::new(),
            positional: args.iter().map(|s| Value::Known(s.to_string())).collect(),
            on_command,
            depth: 0,
            steps: 0,
            cut: None,
            exited: false,
            returning: false,
            returned: None,
            guessing: 0,
            value_guesses: Vec::new(),
            cond_ran: false,
            in_func: 0,
            locals: Vec::new(),
            capture: String::new(),
            stdin: None,
            bash: false,
            capture_lost: false,
            pipe_machine: None,
            capturing: 0,
            substitution_status: None,
            exported: Default::default(),
            machine_files: None,
            sourced_machine: None,
            script_assigned: Rc::default(),
            files: None,
            sizes: false,
            links: None,
            native_arch: None,
            source: None,
            status: None,
            codes: None,
            probed_code: std::cell::Cell::new(None),
            prev_code: None,
            output: None,
            debconf: None,
            helpers: None,
            globs: None,
            guesses: None,
            stdout: None,
            stderr: None,
            lines: None,
            exit_trap: None,
            ended_on_guess: None,
            reproduces: None,
            unreproduced: None,
            branch_depth: 0,
            sorted_after: false,
            last_status: None,
            prev_status: None,
            loops: 0,
            loop_jump: None,
            dirs: Rc::new(WorkingDir {
                cwd: Value::Known("/".to_owned()),
                oldpwd: Value::Unknown("OLDPWD is not set".to_owned()),
            }),
            unset: UnsetVars::Unknown,
        }
    }

    /// Lets `. FILE` read the image: the file's function definitions and plain assignments are
    /// taken (what scripts source is libraries: dpkg's `dpkg-error.sh`, debconf's confmodule),
    /// its other top-level commands are not run.
    pub fn with_source(mut self, source: SourceReader<'f>) -> Self {
        self.source = Some(source);
        self
    }

    /// Lets the walk tell an image file left out because it holds the host's name or a random
    /// value: what is read from it (`. FILE`) is then such a value too.
    pub fn with_machine_files(mut self, probe: MachineFileProbe<'f>) -> Self {
        self.machine_files = Some(probe);
        self
    }

    /// Lets the walk tell which commands the caller reproduces: after one it does not (a
    /// program of the image: a Perl configuration tool), an `exit` the walk reaches may not be
    /// the one the install took, and what follows it is told.
    pub fn with_reproduced(mut self, probe: ReproducedProbe<'f>) -> Self {
        self.reproduces = Some(probe);
        self
    }

    /// SOURCE_DATE_EPOCH, exported: the build runs dpkg with it, as reproducible builds do, so
    /// a script that dates what it writes by it (mdadm's mkconf) writes the build's date, and
    /// the same date every time.
    pub fn with_source_date_epoch(mut self, seconds: u64) -> Self {
        self.vars
            .insert("SOURCE_DATE_EPOCH".to_owned(), Value::Known(seconds.to_string()));
        self.exported.insert("SOURCE_DATE_EPOCH".to_owned());
        self
    }

    /// The environment dpkg gives a maintainer script (`DPKG_MAINTSCRIPT_*`, empty `DPKG_ROOT`)
    /// in the [`SCRIPT_ENVIRONMENT`] the build runs dpkg in, and the image's native architecture
    /// for `dpkg --print-architecture`.
    pub fn with_package(mut self, package: &str, arch: &str, script: &str, native_arch: &str) -> Self {
        for (k, v) in [
            ("DPKG_MAINTSCRIPT_PACKAGE", package),
            ("DPKG_MAINTSCRIPT_ARCH", arch),
            ("DPKG_MAINTSCRIPT_NAME", script),
            ("DPKG_RUNNING_VERSION", "1.21.22"),
        ]
        .into_iter()
        .chain(SCRIPT_ENVIRONMENT.iter().copied())
        {
            self.vars.insert(k.to_owned(), Value::Known(v.to_owned()));
        }
        self.native_arch = Some(native_arch.to_owned());
        self.unset = UnsetVars::Empty;
        self
    }

    pub fn run(&mut self, nodes: &[Node]) {
        for (at, n) in nodes.iter().enumerate() {
            if self.exited || self.returning || self.cut.is_some() || self.loop_jump.is_some() {
                return;
            }
            self.node(n);
            if (self.exited || self.returning)
                && let Some(condition) = self.ended_on_guess.clone()
            {
                self.tell_rest_unwalked(&condition, &nodes[at + 1..]);
            }
        }
    }

    /// Walks a whole script like [`Eval::run`]; `Err(why)` when the walk had to stop before the
    /// script's end (calls nested deeper than [`MAX_EVAL_DEPTH`], or more than [`MAX_STEPS`]
    /// commands), so the caller can report that the rest was not looked at.
    pub fn run_script(mut self, nodes: &[Node]) -> Result<(), String> {
        let mut assigned = std::collections::BTreeSet::new();
        super::ast::names_assigned_anywhere(nodes, &mut assigned);
        self.script_assigned = Rc::new(assigned);
        self.run(nodes);
        // The shell runs the EXIT trap once, whether the script ran off its end or called `exit`.
        if let Some(action) = self.exit_trap.take() {
            (self.exited, self.returning, self.in_func, self.loop_jump) = (false, false, 0, None);
            self.run(&action);
        }
        match self.cut {
            Some(why) => Err(why),
            None => Ok(()),
        }
    }

    fn node(&mut self, n: &Node) {
        self.prev_status = self.last_status.take();
        self.prev_code = self.probed_code.take();
        if self.cut.is_some() {
            return;
        }
        if self.depth >= MAX_EVAL_DEPTH {
            self.cut = Some(format!(
                "evaluation stopped: commands and function calls nested deeper than {MAX_EVAL_DEPTH} levels"
            ));
            return;
        }
        self.steps += 1;
        if self.steps > MAX_STEPS {
            self.cut = Some(format!("evaluation stopped after {MAX_STEPS} commands"));
            return;
        }
        self.depth += 1;
        match n {
            Node::Simple {
                assigns,
                words,
                redirs,
                text,
            } => {
                self.simple(assigns, words, redirs, text);
                self.test_status(n, assigns, words);
            }
            Node::If { branches, otherwise } => self.if_node(branches, otherwise),
            Node::For { var, items, body } => {
                let items: Vec<Value> = match items {
                    Some(words) => words.iter().flat_map(|w| self.expand_split(w)).collect(),
                    None => self.positional.clone(),
                };
                self.loops += 1;
                // The loop's status is its body's last command's, 0 when the body never ran.
                self.last_status = Some(true);
                for item in items {
                    self.vars.insert(var.clone(), item);
                    self.run(body);
                    match self.loop_jump.take() {
                        Some(LoopJump::Break) => break,
                        Some(LoopJump::Continue) | None => {}
                    }
                }
                self.loops -= 1;
            }
            // `while read A B; do …; done` over a known here-document: one pass per line.
            Node::While {
                cond,
                body,
                until: false,
            } if self.lines.is_some() && read_vars(cond).is_some() => {
                let (vars, own_ifs) = read_command(cond).unwrap_or_default();
                let ifs = match (own_ifs, self.vars.get("IFS")) {
                    (Some(ifs), _) => ifs,
                    (None, Some(Value::Known(ifs))) => ifs.clone(),
                    (None, _) => expand::DEFAULT_IFS.to_owned(),
                };
                self.loops += 1;
                while let Some(line) = self.lines.as_mut().and_then(|l| l.pop_front()) {
                    for (var, value) in read_fields(&line, &vars, &ifs) {
                        self.vars.insert(var, Value::Known(value));
                    }
                    self.run(body);
                    if self.loop_jump.take() == Some(LoopJump::Break) || self.exited || self.returning {
                        break;
                    }
                }
                self.loops -= 1;
            }
            // Other loops run while their condition is decided (`while test "$1" != "--"; do
            // …; shift; done` over getopt's output); once it is not, the body is told as not
            // walked and, inside `$(…)`, the output is not known.
            Node::While { cond, body, until } => self.while_loop(cond, body, *until),
            Node::Case { word, arms } => self.case_node(word, arms),
            Node::Func { name, body } => {
                self.funcs.insert(name.clone(), Rc::from(body.as_slice()));
            }
            Node::Group(body) => self.run(body),
            Node::Subshell(body) => self.subshell(body),
            // `$?` after `CMD &` is 0: the job's status is not waited for.
            Node::Background(body) => {
                self.subshell(body);
                self.last_status = Some(true);
            }
            Node::AndOr(parts) => self.and_or(parts),
            // Inside `$(…)` each command reads what the one before it printed.
            Node::Pipe(cmds) if self.capturing > 0 => {
                let mut input = self.stdin.take();
                for (i, c) in cmds.iter().enumerate() {
                    let saved = std::mem::take(&mut self.capture);
                    self.stdin = if i == 0 {
                        input.take()
                    } else {
                        Some(input.take().unwrap_or_default())
                    };
                    // `… | while read x; do …; done` reads the lines before it.
                    if let (Node::While { .. }, Some(text)) = (c, &self.stdin) {
                        let lines = text.lines().map(str::to_owned).collect();
                        self.stdin = None;
                        let saved_lines = self.lines.replace(lines);
                        self.node(c);
                        self.lines = saved_lines;
                    } else {
                        self.sorted_after = cmds.get(i + 1).is_some_and(is_sort);
                        self.node(c);
                        self.sorted_after = false;
                    }
                    self.stdin = None;
                    input = Some(std::mem::replace(&mut self.capture, saved));
                }
                self.capture.push_str(&input.unwrap_or_default());
            }
            // Outside `$(…)` the stages before the last run as if captured: what they print
            // is the last one's input (`cat FILE | sed … > OUT`).
            Node::Pipe(cmds) => {
                let Some((last, before)) = cmds.split_last() else {
                    return;
                };
                // Every stage of a pipeline runs in a subshell (dash, and bash without
                // `lastpipe`): what it assigns, its `cd` and its `exit` end with it (apache2's
                // `error=true` inside `cat FILE | while read …` leaves `$error` false).
                let subshell = (!before.is_empty()).then(|| {
                    (
                        self.vars.clone(),
                        self.unset,
                        self.dirs.clone(),
                        self.stdout.clone(),
                        self.stderr.clone(),
                    )
                });
                // The stages before the last print into the pipe, not where the shell's output
                // goes (`exec >FILE; cat IN | sed …`).
                let shell_stdout = if before.is_empty() {
                    None
                } else {
                    self.stdout.take()
                };
                let exited = self.exited;
                let loops = if before.is_empty() {
                    self.loops
                } else {
                    std::mem::take(&mut self.loops)
                };
                self.capturing += 1;
                let saved = std::mem::take(&mut self.capture);
                let saved_lost = std::mem::replace(&mut self.capture_lost, false);
                let saved_machine = self.pipe_machine.take();
                let mut input: Option<String> = None;
                for (i, c) in before.iter().enumerate() {
                    self.stdin = if i == 0 {
                        None
                    } else {
                        Some(input.take().unwrap_or_default())
                    };
                    // A last stage that is an order-free loop whose output is kept nowhere.
                    let order_free = i + 2 == cmds.len() && self.stdout.is_none() && order_free_loop(last);
                    self.sorted_after = order_free || cmds.get(i + 1).is_some_and(is_sort);
                    self.node(c);
                    self.sorted_after = false;
                    self.stdin = None;
                    input = Some(std::mem::take(&mut self.capture));
                }
                if !before.is_empty() {
                    self.stdout = shell_stdout;
                }
                let lost = std::mem::replace(&mut self.capture_lost, saved_lost);
                self.capture = saved;
                self.capturing -= 1;
                let input = if lost { None } else { input };
                if let (Node::While { .. }, Some(text)) = (last, &input) {
                    // `… | while read line; do …; done` reads the lines.
                    let saved_lines = self.lines.replace(text.lines().map(str::to_owned).collect());
                    self.node(last);
                    self.lines = saved_lines;
                } else {
                    self.stdin = input;
                    self.node(last);
                }
                self.stdin = None;
                self.pipe_machine = saved_machine;
                if let Some((vars, unset, dirs, stdout, stderr)) = subshell {
                    (self.vars, self.unset, self.dirs) = (vars, unset, dirs);
                    // An `exec >FILE` in the last stage ends with its subshell.
                    (self.stdout, self.stderr) = (stdout, stderr);
                    self.exited = exited;
                }
                self.loops = loops;
            }
            Node::Not(inner) => {
                self.node(inner);
                // A file command the walk carried out is taken as having succeeded: its
                // negation fails (`! touch F || ! rm F`). A query's status stays unknown (`if !
                // id clamav; then adduser …`: on a fresh install it fails).
                self.last_status = match &**inner {
                    // An assignment's status is exact (its last substitution's).
                    Node::Simple { words, .. } if words.is_empty() => self.last_status.map(|b| !b),
                    Node::Simple { words, .. } if !self.is_func_call(inner) => words
                        .first()
                        .and_then(Word::literal)
                        .filter(|name| CARRIED_OUT.contains(&name.rsplit('/').next().unwrap_or(name)))
                        .map(|_| false),
                    _ => self.last_status.map(|b| !b),
                };
            }
            Node::Redirected { body, redirs } => {
                // A here-document is what the loops inside read.
                let lines = redirs.iter().rev().find_map(|r| match r {
                    Redir::Heredoc(Some(text)) => Some(text.lines().map(str::to_owned).collect()),
                    Redir::HeredocExpands(word) => self
                        .expand_one(word)
                        .known()
                        .map(|text| text.lines().map(str::to_owned).collect()),
                    // `while read …; done < FILE` reads the file's lines, when it can be read.
                    Redir::In(word) => self
                        .read_input(word)
                        .map(|text| text.lines().map(str::to_owned).collect()),
                    _ => None,
                });
                let saved_lines = match lines {
                    Some(l) => Some(self.lines.replace(l)),
                    None => None,
                };
                self.redirected(redirs, ":", |e| e.node(body));
                if let Some(saved) = saved_lines {
                    self.lines = saved;
                }
            }
        }
        self.depth -= 1;
    }

    /// The shell's builtins and what the walk answers itself (`exit`, `.`, `cd`, `eval`,
    /// `local`/`export`, `shift`, `set --`, `break`, `trap`, `return`, a `$(…)` answer); `false`
    /// when `name` is none of them. Out of line: `simple`'s frame is on every nesting level's
    /// path (a function calling itself), and in a debug build every local here would be too.
    #[inline(never)]
    fn builtin(
        &mut self,
        fields: &[Value],
        argv: &[String],
        unknown: &Option<String>,
        words: &[Word],
        redirs: &[Redir],
        text: &str,
    ) -> bool {
        // `argv[0]`, known (the caller's check).
        let Some(name) = argv.first().map(String::as_str) else {
            return false;
        };
        if name == "exit" && self.capturing == 0 {
            self.exited = true;
            // A failure (or a status the walk does not know): dpkg's run, which succeeded,
            // did not come here, so the walk took a path it did not (`case $? in … *) exit
            // 1`): what the script would have run next is told, not dropped silently.
            let failed = unknown.is_some() || argv.get(1).is_some_and(|s| s.parse::<i32>() != Ok(0));
            if failed && self.guessing == 0 && self.ended_on_guess.is_none() {
                self.ended_on_guess = Some(failure_exit(text));
            }
            // A command the caller did not reproduce ran before (sendmail's Perl `update_conf`,
            // which writes the /etc/mail/sendmail.conf `update_sendmail` then sources): what
            // decided this exit may have been different on the install, so what the script
            // would have run next is told.
            if let Some(command) = &self.unreproduced
                && self.branch_depth > 0
                && self.guessing == 0
                && self.ended_on_guess.is_none()
            {
                self.ended_on_guess = Some(exit_after_unreproduced(text, command));
            }
            return true;
        }
        // A here-document is the command's input (`awk '…' <<EOF`); one whose text is not
        // known leaves the output unknown.
        let heredoc = redirs.iter().find_map(|r| match r {
            Redir::Heredoc(Some(text)) => Some(Some(text.clone())),
            Redir::Heredoc(None) => Some(None),
            Redir::HeredocExpands(word) => Some(self.expand_one(word).known()),
            _ => None,
        });
        // A function of the script's own name is run instead (keyboard-configuration defines
        // its own `which`): only special builtins come before functions.
        // What goes to a file is not captured (`x=$(echo x >> /etc/log)`): such a command is the
        // write it is, told to the caller, not an answer.
        let to_file = self.stdout.as_ref().is_some_and(|(t, _)| !is_dev_null(t))
            || redirs
                .iter()
                .any(|r| matches!(r, Redir::Out { target, .. } if !is_dev_null_word(target)))
            || redirs.contains(&Redir::OutToErr)
                && self
                    .stderr
                    .as_ref()
                    .is_some_and(|(t, _)| !is_dev_null(t) && !is_capture(t));
        // Nor is what goes to /dev/null or to standard error (`$(echo warning >&2; echo value)`)
        // unless `2>&1` sent standard error into the capture: such a command is answered for
        // its status, and what it prints is not part of the value.
        let (captured, err_captured) = self.captured_after(redirs);
        // So is a file it reads (cyrus-common's `$(sed --silent -e … < /etc/imapd.conf | head -1)`);
        // one the walk cannot read leaves the output unknown.
        let file_input = match redirs.iter().rev().find_map(|r| match r {
            Redir::In(word) => Some(word),
            _ => None,
        }) {
            Some(word) if self.capturing > 0 => Some(self.read_input(word)),
            _ => None,
        };
        // A command whose standard error goes into the value is answered only where it says
        // nothing there (`echo`, `printf`); another one's complaint (`ls` of a missing path,
        // `id` of an unknown user) is not known.
        let quiet_on_err = !err_captured || matches!(name, "echo" | "printf");
        if self.capturing > 0
            && !to_file
            && quiet_on_err
            && unknown.is_none()
            && heredoc != Some(None)
            && file_input != Some(None)
            && !self.funcs.contains_key(name)
        {
            let saved = match heredoc.flatten().or(file_input.flatten()) {
                Some(text) => self.stdin.replace(text),
                None => self.stdin.clone(),
            };
            if let Some(out) = self.answer(argv) {
                self.last_status = capture::answered_status(argv, self.stdin.as_deref(), &out);
                if captured {
                    self.capture.push_str(&out);
                }
                self.stdin = None;
                return true;
            }
            self.stdin = saved;
        }
        if (name == "." || name == "source")
            && let (Some(read), Some(path)) = (self.source, argv.get(1))
            && let Some(nodes) = self
                .sourced
                .entry(path.clone())
                .or_insert_with(|| read(path).and_then(|text| parse(&text).ok()).map(Rc::from))
                .clone()
        {
            // Each top-level node looked at is a step: a script that sources a large file
            // many times must not take time proportional to the product.
            self.steps = self.steps.saturating_add(nodes.len());
            if self.steps > MAX_STEPS {
                self.cut = Some(format!("evaluation stopped after {MAX_STEPS} commands"));
                return true;
            }
            self.source_library(&nodes, path);
            return true;
        }
        if name == "cd" {
            self.cd(&fields[1..]);
            return true;
        }
        // `eval WORDS…` with every word known: the words joined by spaces are a script run
        // here (`eval set -- $TEMP` after getopt, `eval "variable=\$$name"`).
        if name == "eval"
            && unknown.is_none()
            && redirs.is_empty()
            && let Ok(nodes) = parse(&argv[1..].join(" "))
        {
            self.steps = self.steps.saturating_add(nodes.len());
            if self.steps > MAX_STEPS {
                self.cut = Some(format!("evaluation stopped after {MAX_STEPS} commands"));
                return true;
            }
            self.run(&nodes);
            return true;
        }
        // A file holding the host's name or a random value: what it may have set (a variable
        // the script reads but never assigns itself) is such a value, and what is made from it
        // belongs to the machine too.
        if matches!(name, "." | "source")
            && let (Some(probe), Some(path)) = (self.machine_files, argv.get(1))
            && let Some(why) = probe(path)
        {
            self.sourced_machine = Some(format!("{why} (through {path}, which `.` read)"));
            self.last_status = Some(true);
            return true;
        }
        // What these assign cannot be seen: unset variables are no longer known to be empty.
        if matches!(name, "eval" | "." | "source") && self.unset == UnsetVars::Empty {
            self.unset = UnsetVars::Lost;
        }
        if name == "alias" && unknown.is_none() && self.alias(&argv[1..]) {
            self.last_status = Some(true);
            return true;
        }
        if name == "unset" {
            for v in &argv[1..] {
                self.vars.insert(v.clone(), Value::Known(String::new()));
            }
            self.last_status = Some(true);
            return true;
        }
        if matches!(name, "local" | "export" | "readonly") {
            self.declare(name, &words[1..]);
            self.last_status = Some(true);
            return true;
        }
        if name == "shift" {
            let n = argv.get(1).map_or(Some(1), |a| a.parse::<usize>().ok());
            match n {
                Some(n) if n <= self.positional.len() => {
                    self.positional.drain(..n);
                    self.last_status = Some(true);
                }
                // `shift` past the end fails (and a non-number is an error): the script
                // stops here, which dpkg's successful run did not (an option loop that
                // read more than it was given): what follows is told.
                _ => {
                    self.exited = true;
                    if self.guessing == 0 && self.ended_on_guess.is_none() {
                        self.ended_on_guess = Some(failure_exit(text));
                    }
                }
            }
            return true;
        }
        if name == "set" && matches!(fields.get(1), Some(Value::Known(a)) if a == "--") {
            self.positional = fields[2..].to_vec();
            self.last_status = Some(true);
            return true;
        }
        // Inside `$(…)` the walk has a loop count of its own, and a pipeline's stages start
        // from none (they are subshells): a jump ends only a loop it is in.
        if (name == "break" || name == "continue") && self.loops > 0 {
            self.loop_jump = Some(if name == "break" {
                LoopJump::Break
            } else {
                LoopJump::Continue
            });
            return true;
        }
        if name == "trap" && self.capturing == 0 {
            self.trap(&argv[1..]);
            return true;
        }
        // debconf's status, for a function ending with a `db_*` call (dbconfig-common's
        // `dbc_get_app_pass`, which `if ! dbc_get_app_pass` tests).
        if let Some(status) = self.debconf_call(fields) {
            self.last_status = status;
            return true;
        }
        if name == "return" {
            self.return_builtin(words, argv);
            return true;
        }
        false
    }

    /// The nodes of a file `. FILE` reads: its function definitions and plain assignments are
    /// taken; what its other top-level commands may assign is no longer known (confmodule's
    /// `DEBCONF_REDIR=1` under `if`), and when the names cannot be read from their text, no
    /// variable nothing assigned is known to be empty. Out of line: `simple`'s frame is on every
    /// nesting level's path.
    #[inline(never)]
    fn source_library(&mut self, nodes: &[Node], path: &str) {
        // A `return` at the file's top level ends the file, not the script.
        let returned = self.returned.take();
        self.in_func += 1;
        for n in nodes.iter() {
            if self.exited || self.returning || self.cut.is_some() {
                break;
            }
            match n {
                Node::Func { .. } => self.node(n),
                Node::Simple { words, .. } if words.is_empty() => self.node(n),
                // Top-level code without `exec` is walked as the shell runs it
                // (apache2-maintscript-helper's guard against a second sourcing, and its check
                // of whether apache2 is configured yet, which decides whether actions are
                // deferred). Code that execs (confmodule starting the frontend, redirecting the
                // script's descriptors) is not: the debconf probe answers for it.
                _ if !execs(std::slice::from_ref(n)) => self.node(n),
                _ => match super::ast::assigned_names(std::slice::from_ref(n)) {
                    Some(names) => {
                        for name in names {
                            let why = format!("${name} may be set by {path}");
                            self.vars.insert(name, Value::Unknown(why));
                        }
                    }
                    None => {
                        if self.unset == UnsetVars::Empty {
                            self.unset = UnsetVars::Lost;
                        }
                    }
                },
            }
        }
        self.in_func -= 1;
        self.returning = false;
        self.returned = returned;
        if !self.exited {
            self.ended_on_guess = None;
        }
    }

    /// `return [N]`: ends the function being run with its status (`return` and `return $?`:
    /// the last command's); outside a function it ends the script. Out of line, as
    /// [`Eval::call_function`].
    #[inline(never)]
    fn return_builtin(&mut self, words: &[Word], argv: &[String]) {
        if self.in_func > 0 {
            self.returning = true;
            // `return` and `return $?`: the last command's status.
            let last = match words.get(1).map(|w| w.0.as_slice()) {
                None => true,
                Some(
                    [
                        Piece {
                            part: Part::Var { name, default: None },
                            ..
                        },
                    ],
                ) => name == "?",
                Some(_) => false,
            };
            let status = match argv.get(1).map(|a| a.parse::<i32>()) {
                _ if self.guessing > 0 => None,
                _ if last => self.prev_status,
                Some(Ok(n)) => Some(n == 0),
                _ => None,
            };
            self.returned = Some(status);
        } else {
            self.exited = true;
        }
    }

    /// A `case` arm's pattern, expanded: what is quoted (`"$pass"`) matches itself, its pattern
    /// characters escaped; what is not keeps them. `None`: a part of it is not known.
    fn case_pattern(&mut self, w: &Word) -> Option<String> {
        let mut out = String::new();
        for piece in &w.0 {
            let text = match &piece.part {
                Part::Lit(l) => l.clone(),
                part => self.expand_part(part).known()?,
            };
            if piece.quoted {
                for c in text.chars() {
                    if matches!(c, '*' | '?' | '[' | ']' | '\\') {
                        out.push('\\');
                    }
                    out.push(c);
                }
            } else {
                out.push_str(&text);
            }
        }
        Some(out)
    }

    /// Runs one of the script's functions with `args` as its positional parameters; its status
    /// is what its `return` gave, else its last command's. Out of line: `simple`'s frame is on
    /// every nesting level's path, and a function calling itself nests as deep as the walk
    /// allows.
    #[inline(never)]
    fn call_function(&mut self, body: &[Node], args: &[Value]) {
        // The function's name is known (it is `name`): the arguments are the fields
        // after it, unknown ones in their places.
        let saved = std::mem::replace(&mut self.positional, args.to_vec());
        let saved_guessing = std::mem::take(&mut self.guessing);
        self.in_func += 1;
        self.locals.push(Vec::new());
        self.returned = None;
        self.run(body);
        self.in_func -= 1;
        // Its `local` variables are the caller's again (samba-common's `configure_smb_conf`
        // declares `local CONFIG`; after it, `CONFIG` is /etc/samba/smb.conf again).
        for (name, before) in self.locals.pop().unwrap_or_default().into_iter().rev() {
            match before {
                Some(v) => self.vars.insert(name, v),
                None => self.vars.remove(&name),
            };
        }
        // The status: what its `return` gave, else its last command's (a compound one's when
        // the walk follows its status: lists, negations, `if`, `case`, loops and groups).
        let status = if self.returning {
            self.returned.flatten()
        } else {
            match body.last() {
                Some(
                    Node::Simple { .. }
                    | Node::AndOr(_)
                    | Node::Not(_)
                    | Node::If { .. }
                    | Node::Case { .. }
                    | Node::For { .. }
                    | Node::While { .. }
                    | Node::Group(_),
                ) => self.last_status,
                None => Some(true),
                Some(_) => None,
            }
        };
        self.returned = Some(status);
        self.last_status = status;
        self.returning = false;
        // The function's rest was told; its caller goes on.
        if !self.exited {
            self.ended_on_guess = None;
        }
        self.guessing = saved_guessing;
        self.positional = saved;
    }

    /// A test's status is known without running anything (a function's last command, `$?`
    /// after it). Out of line: `node`'s frame is on every nesting level's path.
    #[inline(never)]
    fn test_status(&mut self, n: &Node, assigns: &[(String, Word)], words: &[Word]) {
        let test = words.first().and_then(Word::literal);
        if matches!(test.as_deref(), Some("[" | "test" | "true" | "false" | ":"))
            && assigns.is_empty()
            && !self.is_func_call(n)
        {
            self.last_status = self.condition(std::slice::from_ref(n));
        } else if test
            .as_deref()
            .is_some_and(|t| QUERIES.contains(&t.rsplit('/').next().unwrap_or(t)))
            && assigns.is_empty()
            && !self.is_func_call(n)
            && let Some(status) = self.condition(std::slice::from_ref(n))
        {
            // A query's status as a condition would have it, for a `$?` after it (augenrules:
            // `cmp -s NEW OLD > /dev/null 2>&1; if [ $? -eq 0 ]`).
            self.last_status = Some(status);
        } else if matches!(test.as_deref(), Some("echo" | "printf")) && !self.is_func_call(n) {
            // Output to the script's own descriptors succeeds (a function that ends with
            // `echo` returns 0).
            self.last_status = Some(true);
        }
    }

    fn simple(&mut self, assigns: &[(String, Word)], words: &[Word], redirs: &[Redir], text: &str) {
        // `exec CMD ARGS…` runs CMD in the shell's place: it is walked as CMD (followed into
        // where it is a helper script: cyrus' dispatcher execs /usr/lib/cyrus/bin/makedirs), and
        // nothing after it in this script runs. `exec` whose words expand to no command (`exec
        // $EMPTY`, or only redirections) changes the shell's descriptors and goes on; inside
        // `$(…)` it ends only the substitution's shell, which the walk does not model, so it
        // stays the command it was.
        if words.len() > 1
            && self.capturing == 0
            && words[0].literal().as_deref() == Some("exec")
            && !words[1].literal().is_some_and(|w| w.starts_with('-'))
        {
            if self.simple_command(assigns, &words[1..], redirs, text) {
                self.exited = true;
            }
            return;
        }
        // `exec >FILE` (no command): standard output is FILE from here on.
        if let [exec] = words
            && exec.literal().as_deref() == Some("exec")
            && self.capturing == 0
            && self.exec_redirect(redirs, text)
        {
            return;
        }
        self.simple_command(assigns, words, redirs, text);
    }

    /// `exec >FILE` (`2>&1`, `>&2`): the shell's standard output (and error) are FILE from here
    /// on, made empty once (mdadm's mkconf: `exec >$CONFIG`, then `cat <<_eof` and `echo`s);
    /// every later command without a redirection of its own appends to it. `false` when `redirs`
    /// redirect neither. Kept out of `simple` so that its frame stays small for deep recursion.
    #[inline(never)]
    fn exec_redirect(&mut self, redirs: &[Redir], text: &str) -> bool {
        if !redirs.iter().any(redirects_output) {
            return false;
        }
        self.redirect_shell(redirs, text);
        self.last_status = Some(true);
        true
    }

    /// `2>&1`: standard error goes where standard output goes; inside `$(…)` (or a pipeline's
    /// captured stage) a standard output with no file of its own is the capture.
    fn err_to_out(&self, stdout: &Option<(Value, bool)>) -> Option<(Value, bool)> {
        match stdout {
            None if self.capturing > 0 => Some((Value::Known(CAPTURE.to_owned()), true)),
            other => other.clone(),
        }
    }

    /// Whether what a command prints on standard output, after `redirs`, is captured: the
    /// shell's own output inside `$(…)` is, a file or /dev/null is not, standard error is only
    /// where `2>&1` sent it into the capture.
    /// (And whether its standard error is: then what it says there, not known unless it says
    /// nothing, is part of the value.)
    fn captured_after(&self, redirs: &[Redir]) -> (bool, bool) {
        let mut out = self.stdout.is_none();
        let mut err = self.stderr.as_ref().is_some_and(|(t, _)| is_capture(t));
        for r in redirs {
            match r {
                Redir::Out { .. } => out = false,
                Redir::ErrToOut => err = out,
                Redir::OutToErr => out = err,
                Redir::Heredoc(_) | Redir::HeredocExpands(_) | Redir::In(_) => {}
            }
        }
        (out, err)
    }

    /// Runs `walk` with the shell's standard output and error where `redirs` send them (a
    /// compound command's `>FILE`, a function call's `>&2`), then as they were.
    fn redirected(&mut self, redirs: &[Redir], text: &str, walk: impl FnOnce(&mut Self)) {
        if !redirs.iter().any(redirects_output) {
            return walk(self);
        }
        let saved = (self.stdout.clone(), self.stderr.clone());
        self.redirect_shell(redirs, text);
        walk(self);
        (self.stdout, self.stderr) = saved;
    }

    /// Points the shell's standard output and error where `redirs` send them, in their order,
    /// emptying a file `>FILE` names once (a call told as `text`); both then append.
    #[inline(never)]
    fn redirect_shell(&mut self, redirs: &[Redir], text: &str) {
        let (mut stdout, mut stderr) = (self.stdout.clone(), self.stderr.clone());
        for r in redirs {
            match r {
                Redir::Out { append, target } => {
                    let target = self.expand_path(target);
                    // `>FILE` makes the file empty before anything is written to it.
                    if !append && !is_dev_null(&target) {
                        self.emit(Call {
                            argv: Ok(vec![":".to_owned()]),
                            words: Vec::new(),
                            text,
                            stdout: Some((target.clone(), false)),
                            heredoc: None,
                            env: Vec::new(),
                            stdin: None,
                            cwd: self.known_cwd(),
                            guessed: self.guessing > 0,
                            guess: self.value_guesses.last().cloned(),
                            machine_dependent: None,
                        });
                    }
                    stdout = Some((target, true));
                }
                Redir::ErrToOut => stderr = self.err_to_out(&stdout),
                Redir::OutToErr => stdout = out_to_err(&stderr),
                Redir::Heredoc(_) | Redir::HeredocExpands(_) | Redir::In(_) => {}
            }
        }
        (self.stdout, self.stderr) = (stdout, stderr);
    }

    /// Redirections with no command (`>FILE`): what `: >FILE` does. Kept out of
    /// `simple_command` so that its frame stays small for deep recursion.
    #[inline(never)]
    fn redirections_alone(&mut self, redirs: &[Redir], text: &str) {
        let status = self.last_status;
        let colon = [Word(vec![Piece {
            part: Part::Lit(":".to_owned()),
            quoted: false,
        }])];
        self.simple_command(&[], &colon, redirs, text);
        self.last_status = status;
    }

    /// A simple command: assignments, a builtin, a function or a command; `false` when its words
    /// expanded to no command (only its assignments or redirections happened).
    fn simple_command(
        &mut self,
        assigns: &[(String, Word)],
        words: &[Word],
        redirs: &[Redir],
        text: &str,
    ) -> bool {
        if words.is_empty() {
            // Each `$(…)` expanded sets it (as not known where its output is not).
            let substitutes = assigns
                .iter()
                .any(|(_, w)| w.0.iter().any(|p| matches!(p.part, Part::Sub(_))));
            self.substitution_status = (!substitutes).then_some(true);
            for (name, w) in assigns {
                let v = self.expand_one(w);
                self.vars.insert(name.clone(), v);
            }
            // An assignment succeeds; with a command substitution its status is the last
            // substitution's (`! kbdnames="$(… | iconv …)"`), where the walk knows it.
            self.last_status = self.substitution_status;
            // `>FILE` with no command still empties (or makes) FILE, as `: >FILE` does.
            if redirs.iter().any(redirects_output) {
                self.redirections_alone(redirs, text);
            }
            return false;
        }
        let mut fields: Vec<Value> = words.iter().flat_map(|w| self.expand_split(w)).collect();
        // A command ran when its name is known; with a name the walk does not know, whether
        // anything ran is not known either (an `exec` of it does not end the walk).
        let ran = matches!(fields.first(), Some(Value::Known(_)));
        if fields.is_empty() {
            // Words that expand to nothing run no command; only the redirections happen
            // (`$EMPTY > FILE` empties FILE, as `:` would).
            if redirs.is_empty() {
                return false;
            }
            fields.push(Value::Known(":".to_owned()));
        }
        let mut argv = Vec::new();
        let mut unknown = None;
        for v in &fields {
            match v {
                Value::Known(s) => argv.push(s.clone()),
                Value::Unknown(what) => {
                    unknown.get_or_insert(what.clone());
                }
            }
        }
        // The command's name is its first field, when known (`$cmd arg` with `$cmd` unknown has
        // none: the command is reported as it is written).
        let named = matches!(fields.first(), Some(Value::Known(_)));
        if let Some(name) = argv.first().cloned().filter(|_| named) {
            if self.builtin(&fields, &argv, &unknown, words, redirs, text) {
                return ran;
            }
            if let Some(body) = self.funcs.get(&name).cloned() {
                // `warn "…" >&2`, `f > FILE`: what the function prints goes where the call's
                // redirections send it.
                self.redirected(redirs, text, |e| e.call_function(&body, &fields[1..]));
                return ran;
            }
        }
        let argv = match unknown {
            Some(what) => Err(what),
            None => Ok(argv),
        };
        self.command(argv, &fields, assigns, redirs, text);
        ran
    }

    /// A command that is not a builtin or function: its redirections and environment expanded,
    /// walked into where it is a helper script, else handed to the callback. Out of line:
    /// `simple`'s frame is on every nesting level's path, and this one's locals are large.
    #[inline(never)]
    fn command(
        &mut self,
        argv: Result<Vec<String>, String>,
        fields: &[Value],
        assigns: &[(String, Word)],
        redirs: &[Redir],
        text: &str,
    ) {
        let mut stdout = self.stdout.clone();
        let mut stderr = self.stderr.clone();
        let mut heredoc = None;
        let mut input: Option<Option<String>> = None;
        let mut machine_dependent = None;
        for r in redirs {
            match r {
                Redir::Out { append, target } => stdout = Some((self.expand_path(target), *append)),
                Redir::ErrToOut => stderr = self.err_to_out(&stdout),
                Redir::OutToErr => stdout = out_to_err(&stderr),
                Redir::Heredoc(body) => heredoc = Some(body.clone()),
                Redir::HeredocExpands(word) => {
                    let text = self.expand_one(word);
                    if let Value::Unknown(why) = &text
                        && is_machine_dependent(why)
                    {
                        machine_dependent = Some(why.clone());
                    }
                    heredoc = Some(text.known());
                }
                Redir::In(word) => {
                    if let Value::Known(path) = self.expand_path(word) {
                        if is_random_source(&path) {
                            machine_dependent = Some(format!("{RANDOM_DEPENDENT}{text}"));
                        } else if let Some(why) = self.machine_file(&path) {
                            machine_dependent = Some(why);
                        }
                    }
                    // What the command reads, when the file is known (`sed … < IN > OUT`).
                    input = Some(self.read_input(word));
                }
            }
        }
        // The command's environment: what the script exported, then the assignments before
        // its name (`INITRD=No linux-update-symlinks …` or `export INITRD=No` before it).
        let exported: Vec<(String, Value)> = self
            .exported
            .iter()
            .filter_map(|n| Some((n.clone(), self.vars.get(n)?.clone())))
            .collect();
        let assigned: Vec<(String, Value)> = assigns
            .iter()
            .map(|(n, w)| (n.clone(), self.expand_one(w)))
            .collect();
        let env: Vec<(String, Value)> = exported.into_iter().chain(assigned).collect();
        if machine_dependent.is_none()
            && let Ok(argv) = &argv
        {
            machine_dependent = self.machine_input(argv, &env);
        }
        // What it reads from the pipe belongs to the machine.
        if machine_dependent.is_none() && input.is_none() {
            machine_dependent = self.pipe_machine.clone();
        }
        // A helper script whose output goes nowhere in particular is walked in its place, and
        // so is one whose output goes where the shell's does (after `exec >FILE`): its
        // commands print there themselves.
        let quiet = stdout == self.stdout
            || match &stdout {
                None => true,
                Some((Value::Known(p), _)) => p.starts_with("/dev/"),
                Some((Value::Unknown(_), _)) => false,
            };
        if let (Ok(argv), true, Some(args)) = (&argv, quiet, fields.get(1..))
            && !argv.is_empty()
            && self.helper(argv, args, &env)
        {
            return;
        }
        let piped = self.stdin.take();
        let stdin = match input {
            Some(read) => read,
            None => piped,
        };
        let into_capture = stdout.is_none() || stderr.as_ref().is_some_and(|(t, _)| is_capture(t));
        if self.capturing > 0 && into_capture && !argv.as_ref().is_ok_and(|a| prints_nothing(a)) {
            // Its output is not known: a pipeline's later stages lose their input. (What goes
            // to a file, to /dev/null or to the terminal's standard error is not their input.)
            self.capture_lost = true;
        }
        let cwd = self.known_cwd();
        let words = if argv.is_err() {
            fields.to_vec()
        } else {
            Vec::new()
        };
        self.emit(Call {
            argv,
            words,
            text,
            stdout,
            heredoc,
            env,
            stdin,
            cwd,
            guessed: self.guessing > 0,
            guess: self.value_guesses.last().cloned(),
            machine_dependent,
        });
    }

    fn emit(&mut self, call: Call<'_>) {
        // A pipeline's earlier stage printing into the pipe what belongs to the machine.
        if self.capturing > 0
            && call.stdout.is_none()
            && let Some(why) = &call.machine_dependent
        {
            self.pipe_machine.get_or_insert_with(|| why.clone());
        }
        if let (Some(reproduces), Ok(argv)) = (self.reproduces, &call.argv)
            && !call.guessed
            && !reproduces(argv)
        {
            self.unreproduced = Some(call.text.trim().to_owned());
        }
        (self.on_command)(call);
        // The caller may have changed files: what is sourced from here on is read anew (exim4's
        // update-exim4.conf sources the configuration its caller sourced, then rewrote).
        self.sourced.clear();
    }

    /// `trap ACTION SIGNAL…`: only the EXIT trap (`EXIT` or `0`) matters to a script's effects;
    /// `trap - EXIT` and `trap '' EXIT` clear it.
    fn trap(&mut self, args: &[String]) {
        let Some((action, signals)) = args.split_first() else {
            return;
        };
        if !signals.iter().any(|s| s == "EXIT" || s == "0" || s == "SIGEXIT") {
            return;
        }
        self.exit_trap = match action.as_str() {
            "-" | "" => None,
            text => match parse(text) {
                Ok(nodes) => Some(Rc::from(nodes)),
                // An action that does not parse could not run either.
                Err(_) => None,
            },
        };
    }
}

/// The names of `read [-r] NAME…` when `cond` is only that.
fn read_vars(cond: &[Node]) -> Option<Vec<String>> {
    read_command(cond).map(|(names, _)| names)
}

/// `read [-r] NAME…` and the `IFS` it is given for itself (`IFS=: read user rest`), when that is
/// written literally.
fn read_command(cond: &[Node]) -> Option<(Vec<String>, Option<String>)> {
    let [Node::Simple { words, assigns, .. }] = cond else {
        return None;
    };
    let words: Vec<String> = words.iter().map(Word::literal).collect::<Option<_>>()?;
    let (first, rest) = words.split_first()?;
    let names: Vec<String> = rest.iter().filter(|w| *w != "-r").cloned().collect();
    let valid = |n: &String| !n.is_empty() && n.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    let ifs = match assigns.as_slice() {
        [] => None,
        [(name, value)] if name == "IFS" => Some(value.literal()?),
        _ => return None,
    };
    (first == "read" && !names.is_empty() && names.iter().all(valid)).then_some((names, ifs))
}

/// How `read` assigns a line to `names` with `ifs`: leading and trailing `IFS` white space is
/// dropped, each name but the last takes the text up to the next delimiter (a run of white
/// space, or one other `IFS` character with the white space around it), the last name the rest.
fn read_fields(line: &str, names: &[String], ifs: &str) -> Vec<(String, String)> {
    let is_space = |c: char| ifs.contains(c) && c.is_ascii_whitespace();
    let mut rest = line.trim_matches(is_space);
    let mut out = Vec::with_capacity(names.len());
    for (i, name) in names.iter().enumerate() {
        if i + 1 == names.len() {
            out.push((name.clone(), rest.to_owned()));
            break;
        }
        let end = rest.find(|c: char| ifs.contains(c)).unwrap_or(rest.len());
        let (field, after) = rest.split_at(end);
        out.push((name.clone(), field.to_owned()));
        let mut after = after.trim_start_matches(is_space);
        if let Some(c) = after.chars().next()
            && ifs.contains(c)
        {
            after = after[c.len_utf8()..].trim_start_matches(is_space);
        }
        rest = after;
    }
    out
}

/// A condition that is one test (`[ … ]`, `test …`, `[[ … ]]`, or text printed and filtered,
/// `echo … | grep -q …`; possibly negated or chained with `&&`/`||`): undecided, it compares values the walk does not know, unlike a command whose
/// status is assumed as on a fresh install.
fn is_test(cond: &[Node]) -> bool {
    fn test(n: &Node) -> bool {
        match n {
            Node::Simple { words, .. } => {
                matches!(
                    words.first().and_then(Word::literal).as_deref(),
                    Some("[" | "test" | "[[")
                )
            }
            Node::Not(inner) => test(inner),
            Node::AndOr(parts) => parts.iter().all(|(_, n)| test(n)),
            // `echo "$x" | grep -q …` (libnss-ldapd's `echo ' '$enablenss' ' | grep -q ' '$n' '`):
            // text filtered and matched, a test of values too.
            Node::Pipe(stages) => {
                let name = |n: &Node| match n {
                    Node::Simple { words, .. } => words.first().and_then(Word::literal),
                    _ => None,
                };
                let Some((first, rest)) = stages.split_first() else {
                    return false;
                };
                matches!(name(first).as_deref(), Some("echo" | "printf"))
                    && !rest.is_empty()
                    && rest.iter().all(|n| {
                        matches!(
                            name(n).as_deref(),
                            Some("grep" | "egrep" | "fgrep" | "sed" | "cut" | "tr" | "awk" | "head" | "tail")
                        )
                    })
            }
            _ => false,
        }
    }
    matches!(cond, [n] if test(n))
}

/// `exit N` with a literal non-zero N.
fn is_failure_exit(n: &Node) -> bool {
    match n {
        Node::Simple { words, .. } => {
            words.first().and_then(Word::literal).as_deref() == Some("exit")
                && words
                    .get(1)
                    .and_then(Word::literal)
                    .is_some_and(|c| c.parse::<i32>().is_ok_and(|c| c != 0))
        }
        _ => false,
    }
}

impl Eval<'_> {
    /// A `db_*` command the caller's debconf answers: `RET` is set and the status returned
    /// (`None` inside: not known). `None`: not a command debconf answers here.
    ///
    /// A value the walk does not know stands in its place as [`UNKNOWN_ARG`] (`db_set Q
    /// "$paper"` with `$paper` unknown leaves the answer unknown, not empty).
    pub(super) fn debconf_call(&mut self, fields: &[Value]) -> Option<Option<bool>> {
        let debconf = self.debconf?;
        if !matches!(fields.first(), Some(Value::Known(name)) if name.starts_with("db_")) {
            return None;
        }
        // An answer set on a path the walk took on a guess may not be set at all on the real
        // system (console-setup's config: `if [ "$LC_CTYPE" … ]` guessed, then `CHARMAP=…`
        // stored by `db_set`): the answer is not known.
        let guessed_set =
            self.guessing > 0 && matches!(fields.first(), Some(Value::Known(n)) if n == "db_set");
        let argv: Vec<String> = fields
            .iter()
            .enumerate()
            .map(|(i, v)| match v {
                Value::Known(_) if guessed_set && i >= 2 => UNKNOWN_ARG.to_owned(),
                Value::Known(s) => s.clone(),
                Value::Unknown(why) if is_host_dependent(why) => UNKNOWN_HOST_ARG.to_owned(),
                Value::Unknown(why) if is_random_dependent(why) => UNKNOWN_RANDOM_ARG.to_owned(),
                Value::Unknown(_) => UNKNOWN_ARG.to_owned(),
            })
            .collect();
        let DebconfReply { ret, ok } = debconf(&argv)?;
        // debconf's status: 0, 10 for a question that does not exist, and 30 ("question
        // skipped") for `db_input` under the noninteractive frontend, which shows nothing.
        let status = match &ret {
            Value::Known(_) => Some(ok && argv[0] != "db_input"),
            Value::Unknown(_) => None,
        };
        self.vars.insert("RET".to_owned(), ret);
        Some(status)
    }
}

impl Eval<'_> {
    /// `local`/`export`/`readonly NAME=VALUE…`: each NAME takes its value (nagios4-common's
    /// `local user="${1}"`, `export LC_ALL=C`). A bare `local NAME` keeps the value it had under
    /// dash (the surrounding scope's) and is unset under bash; a bare `export`/`readonly NAME`
    /// keeps it. A name the walk cannot read (`export "$variable"="$value"` over a file's
    /// lines) may set any variable: unset ones are no longer known to be empty. Scopes are not
    /// kept: the walk's variables are global.
    /// Out of line: `simple`'s frame is on every nesting level's path.
    #[inline(never)]
    fn declare(&mut self, keyword: &str, words: &[Word]) {
        for w in words {
            let text = match w.0.first().map(|p| &p.part) {
                // The common case, `NAME=…` or `NAME`: the name is the literal start.
                Some(Part::Lit(head)) if head.contains('=') || w.0.len() == 1 => match self.expand_one(w) {
                    Value::Known(s) => s,
                    Value::Unknown(why) => {
                        // The value is unknown, the name is not.
                        let name = head.split_once('=').map_or(head.as_str(), |(n, _)| n);
                        if is_name(name) {
                            self.declare_set(keyword, name, Value::Unknown(why));
                        }
                        continue;
                    }
                },
                _ => match self.expand_one(w) {
                    Value::Known(s) => s,
                    Value::Unknown(_) => {
                        if self.unset == UnsetVars::Empty {
                            self.unset = UnsetVars::Lost;
                        }
                        continue;
                    }
                },
            };
            // Options (`export -p`, `readonly -f`) assign nothing.
            if text.starts_with('-') {
                continue;
            }
            // `export NAME…`, the names also from an unquoted expansion (exim4-config's
            // `export dc_directives ${dc_directives}`).
            if keyword == "export" && !text.contains('=') {
                self.exported
                    .extend(text.split_whitespace().filter(|n| is_name(n)).map(str::to_owned));
                continue;
            }
            match text.split_once('=') {
                Some((name, value)) if is_name(name) => {
                    self.declare_set(keyword, name, Value::Known(value.to_owned()));
                }
                // `export =2`: the shell refuses it and assigns nothing.
                Some(_) => {}
                None if keyword == "local"
                    && is_name(&text)
                    && (self.bash || !self.vars.contains_key(&text)) =>
                {
                    self.declare_set(keyword, &text, Value::Known(String::new()));
                }
                // dash's `local NAME` keeps the value it had, and the name is still the
                // function's own: restored when it returns.
                None if keyword == "local" && is_name(&text) => self.remember_local(&text),
                None => {}
            }
        }
    }

    /// `local`/`export`/`readonly NAME=VALUE`: a `local` one is remembered first, to be
    /// restored when the function returns.
    fn declare_set(&mut self, keyword: &str, name: &str, value: Value) {
        if keyword == "local" {
            self.remember_local(name);
        }
        if keyword == "export" {
            self.exported.insert(name.to_owned());
        }
        self.vars.insert(name.to_owned(), value);
    }

    /// What `name` holds before the running function's `local` takes it, once per call.
    fn remember_local(&mut self, name: &str) {
        let before = self.vars.get(name).cloned();
        if let Some(frame) = self.locals.last_mut()
            && !frame.iter().any(|(n, _)| n == name)
        {
            frame.push((name.to_owned(), before));
        }
    }
}

impl Eval<'_> {
    /// Why the image file at `path` (absolute) holds the host's name or a random value, if it is
    /// left out for that.
    fn machine_file(&self, path: &str) -> Option<String> {
        path.starts_with('/')
            .then_some(self.machine_files?)
            .and_then(|probe| probe(path))
    }

    /// Why what a command reads holds the host's name or a random value, so that what it prints
    /// does too: a file left out as such among its operands (exim4's update-exim4.conf turning
    /// its debconf-made configuration into macros), or, for awk reading `ENVIRON`, an exported
    /// variable or one of `env` (exim4-config's `ENVIRON[directives[i]]`). A command that
    /// prints a random value or the host's name itself (nvme-cli's `uuidgen > /etc/nvme/hostid`)
    /// is such a command too.
    fn machine_input(&self, argv: &[String], env: &[(String, Value)]) -> Option<String> {
        if prints_random(argv) {
            return Some(format!("{RANDOM_DEPENDENT}{}", argv.join(" ")));
        }
        if prints_host_name(argv) {
            return Some(format!("{HOST_DEPENDENT}{}", argv.join(" ")));
        }
        argv[1..].iter().find_map(|a| self.machine_file(a)).or_else(|| {
            if !reads_environment(argv) {
                return None;
            }
            self.exported
                .iter()
                .filter_map(|name| self.vars.get(name))
                .chain(env.iter().map(|(_, v)| v))
                .find_map(|v| match v {
                    Value::Unknown(why) if is_machine_dependent(why) => Some(why.clone()),
                    _ => None,
                })
        })
    }
}

/// Whether a command reads its environment beyond the usual variables: an awk program that
/// names `ENVIRON`.
fn reads_environment(argv: &[String]) -> bool {
    let Some((name, args)) = argv.split_first() else {
        return false;
    };
    matches!(
        name.rsplit('/').next().unwrap_or(name),
        "awk" | "mawk" | "gawk" | "original-awk"
    ) && args.iter().any(|a| a.contains("ENVIRON"))
}

/// A shell variable name: a letter or `_`, then letters, digits, `_`.
fn is_name(s: &str) -> bool {
    let mut chars = s.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// `sort` or `sort -u`: a stage after which the order of the lines before does not matter.
fn is_sort(node: &Node) -> bool {
    let Node::Simple { words, .. } = node else {
        return false;
    };
    let lits: Option<Vec<String>> = words.iter().map(Word::literal).collect();
    matches!(lits.as_deref(), Some([s]) if s == "sort")
        || matches!(lits.as_deref(), Some([s, u]) if s == "sort" && u == "-u")
}

/// `while read VAR…; do …; done` whose effect is the same whatever order its lines come in,
/// so that it may read find's lines, which come in the directory's order (frr's `find /etc/frr …
/// | while read filename; do … chown frr: "$filename" …; done`): each iteration changes only the
/// file its line names (`chown`, `chmod`, `chgrp`, `setfacl` of the read variable, not
/// recursively), asks about files only where a failure cannot end the loop (an `if` or `&&`
/// condition: under `set -e` a bare failing test would end it at a line that depends on the
/// order), and assigns, writes, loops, calls and substitutes nothing. Its output must go nowhere
/// that keeps it: the caller takes it only outside `$(…)` and without a redirection.
fn order_free_loop(node: &Node) -> bool {
    let Node::While {
        until: false,
        cond,
        body,
    } = node
    else {
        return false;
    };
    let [
        Node::Simple {
            words,
            assigns,
            redirs,
            ..
        },
    ] = cond.as_slice()
    else {
        return false;
    };
    let literals: Option<Vec<String>> = words.iter().map(Word::literal).collect();
    let Some(literals) = literals else { return false };
    if literals.first().map(String::as_str) != Some("read") || !assigns.is_empty() || !redirs.is_empty() {
        return false;
    }
    let vars: Vec<&str> = literals[1..]
        .iter()
        .map(String::as_str)
        .filter(|w| *w != "-r")
        .collect();
    !vars.is_empty() && body.iter().all(|n| per_file(n, &vars, false))
}

/// One node of an [`order_free_loop`]'s body; `in_condition`: its failure cannot end the loop.
fn per_file(node: &Node, vars: &[&str], in_condition: bool) -> bool {
    use super::ast::Part;
    match node {
        Node::Simple {
            assigns,
            words,
            redirs,
            ..
        } => {
            // Literals and plain parameters only: no substitution, arithmetic or `${x:=y}`.
            let plain = |w: &Word| {
                w.0.iter()
                    .all(|p| matches!(&p.part, Part::Lit(_) | Part::Var { default: None, .. }))
            };
            if !assigns.is_empty() || !output_discarded(redirs) || !words.iter().all(plain) {
                return false;
            }
            let Some((name, args)) = words.split_first() else {
                return false;
            };
            // `"$f"` is an empty literal and the parameter.
            let is_read_var = |w: &Word| {
                let mut parts =
                    w.0.iter()
                        .filter(|p| !matches!(&p.part, Part::Lit(l) if l.is_empty()));
                matches!(
                    (parts.next().map(|p| &p.part), parts.next()),
                    (Some(Part::Var { name, default: None }), None) if vars.contains(&name.as_str())
                )
            };
            match name.literal().as_deref() {
                Some(":" | "true" | "echo" | "printf") => true,
                Some("continue") => args.is_empty(),
                // The file the line names, and nothing below it.
                Some("chown" | "chmod" | "chgrp" | "setfacl") => match args.split_last() {
                    Some((file, options)) => {
                        is_read_var(file)
                            && options.iter().all(|o| {
                                o.literal().is_some_and(|l| {
                                    l != "--recursive" && !(l.starts_with('-') && l.contains('R'))
                                })
                            })
                    }
                    None => false,
                },
                Some("[" | "test" | "grep" | "egrep" | "fgrep" | "stat" | "getfacl" | "id" | "false") => {
                    in_condition
                }
                _ => false,
            }
        }
        Node::If { branches, otherwise } => {
            branches.iter().all(|(c, b)| {
                c.iter().all(|n| per_file(n, vars, true)) && b.iter().all(|n| per_file(n, vars, in_condition))
            }) && otherwise.iter().all(|n| per_file(n, vars, in_condition))
        }
        Node::AndOr(parts) => parts.split_last().is_some_and(|((_, last), before)| {
            before.iter().all(|(_, n)| per_file(n, vars, true)) && per_file(last, vars, in_condition)
        }),
        Node::Pipe(stages) => stages.split_last().is_some_and(|(last, before)| {
            before.iter().all(|n| per_file(n, vars, true)) && per_file(last, vars, in_condition)
        }),
        Node::Not(inner) => per_file(inner, vars, true),
        Node::Group(nodes) => nodes.iter().all(|n| per_file(n, vars, in_condition)),
        _ => false,
    }
}

/// Whether a command of `nodes` (in any branch) is `exec`.
fn execs(nodes: &[Node]) -> bool {
    let mut commands = Vec::new();
    super::ast::all_commands(nodes, &mut commands);
    commands
        .iter()
        .any(|(words, _)| words.first().and_then(Word::literal).as_deref() == Some("exec"))
}

/// `$?` after a command the walk knows failed: a code other than 0, which one not known.
const FAILED_STATUS: &str = "$? (the last command's status: a failure, its code not known)";

/// Commands that only answer a question: their status, decided as a condition would decide it,
/// is what `$?` holds after them.
const QUERIES: &[&str] = &[
    "cmp",
    "diff",
    "grep",
    "egrep",
    "fgrep",
    "getent",
    "id",
    "expr",
    "which",
    "dpkg-query",
    "a2query",
];

/// File commands the walk carries out and takes as succeeding (so `! CMD` fails once it ran).
const CARRIED_OUT: &[&str] = &[
    "touch", "mkdir", "rm", "rmdir", "cp", "mv", "ln", "chmod", "chown", "chgrp", "install",
];

/// A file command that prints nothing (not asked to be verbose): inside `$(…)` it changes files
/// and adds nothing to the value.
pub fn prints_nothing(argv: &[String]) -> bool {
    argv.first()
        .is_some_and(|n| CARRIED_OUT.contains(&n.rsplit('/').next().unwrap_or(n)))
        && !argv[1..]
            .iter()
            .any(|a| a == "--verbose" || (a.starts_with('-') && !a.starts_with("--") && a.contains('v')))
}

/// Iterations a `while` loop may take before the walk stops it (a loop the walk cannot see end).
const MAX_LOOP_ITERATIONS: usize = 10_000;

impl Eval<'_> {
    /// `alias NAME=VALUE…` (exim4-config's `stripwhitespace`): a command named NAME then runs
    /// VALUE with the words after it, as the function `NAME() { VALUE "$@"; }` does. dash
    /// substitutes an alias while it reads a command, so only one whose value is a plain command
    /// reading none of the positional parameters (which would be the caller's) is taken this
    /// way; `false` (nothing defined) otherwise, and the call is reported.
    fn alias(&mut self, definitions: &[String]) -> bool {
        let mut defined = Vec::new();
        for definition in definitions {
            let Some((name, value)) = definition.split_once('=') else {
                return false;
            };
            let positional = |c: char| c.is_ascii_digit() || "@*#".contains(c);
            let reads_positional = value.char_indices().filter(|&(_, c)| c == '$').any(|(i, _)| {
                let after = &value[i + 1..];
                after.starts_with(positional)
                    || after.strip_prefix('{').is_some_and(|a| a.starts_with(positional))
            });
            if name.is_empty() || reads_positional {
                return false;
            }
            match parse(&format!("{value} \"$@\"")) {
                Ok(nodes) if matches!(nodes.as_slice(), [Node::Simple { words, .. }] if !words.is_empty()) => {
                    defined.push((name.to_owned(), Rc::from(nodes)));
                }
                _ => return false,
            }
        }
        self.funcs.extend(defined);
        true
    }
}

impl Eval<'_> {
    fn while_loop(&mut self, cond: &[Node], body: &[Node], until: bool) {
        // `… | while read x` whose input is not known: nothing to read, the body not walked.
        if read_vars(cond).is_some() {
            if self.capturing > 0 {
                self.capture_lost = true;
            }
            self.tell_unwalked(cond, &[], &[], body);
            let why = format!(
                "`{}` reads input the walk does not know: the loop's writes are not known",
                super::ast::commands_text(cond)
            );
            self.tell_unwalked_writes(body, &[cond], &why, false);
            self.last_status = None;
            return;
        }
        self.loops += 1;
        let mut iterations = 0;
        // The loop's status: its body's last command's, 0 when the body never ran.
        let mut status = Some(true);
        loop {
            let decided = self.condition(cond);
            let ran = std::mem::take(&mut self.cond_ran);
            let holds = match decided {
                Some(b) => b != until,
                None => {
                    if self.capturing > 0 {
                        self.capture_lost = true;
                    }
                    if !ran {
                        self.run(cond);
                    }
                    // The body may run any number of times: what it would do is told, not done.
                    self.tell_unwalked(cond, &[], &[], body);
                    let why = format!(
                        "whether `{}` holds is not known while building: the loop's writes are not known",
                        super::ast::commands_text(cond)
                    );
                    self.tell_unwalked_writes(body, &[cond], &why, false);
                    self.forget_assigned(&[body], &super::ast::commands_text(cond));
                    status = None;
                    break;
                }
            };
            if !holds {
                break;
            }
            iterations += 1;
            if iterations > MAX_LOOP_ITERATIONS {
                self.cut = Some(format!("a loop ran past {MAX_LOOP_ITERATIONS} iterations"));
                break;
            }
            self.last_status = Some(true);
            self.run(body);
            status = self.last_status;
            match self.loop_jump.take() {
                Some(LoopJump::Break) => break,
                Some(LoopJump::Continue) | None => {}
            }
            if self.exited || self.returning || self.cut.is_some() {
                break;
            }
        }
        self.loops -= 1;
        self.last_status = status;
    }
}

// The bulky arms of `node`, out of its frame: every nested command and function call recurses
// through `node`, so its frame bounds how deep a walk can go on a thread's stack.
impl Eval<'_> {
    /// `case WORD in …`: the first arm whose pattern matches runs. A subject, or a pattern, whose
    /// value is not known leaves no arm (from there on) known to run: what they would have run
    /// is told (an arm taken on a guess could be the wrong one).
    #[inline(never)]
    fn case_node(&mut self, word: &Word, arms: &[(Vec<Word>, Vec<Node>)]) {
        let subject = match self.expand_one(word) {
            Value::Known(s) => s,
            Value::Unknown(what) => {
                self.tell_arms_unwalked(&format!("case {what} in"), arms);
                self.last_status = None;
                return;
            }
        };
        // `case`'s status is the arm's last command's; 0 when no arm matches.
        self.last_status = Some(true);
        for (at, (patterns, body)) in arms.iter().enumerate() {
            let mut hit = Some(false);
            for p in patterns {
                match self.case_pattern(p) {
                    Some(p) if glob_match(&p, &subject) => {
                        hit = Some(true);
                        break;
                    }
                    Some(_) => {}
                    None => hit = None,
                }
            }
            match hit {
                Some(true) => {
                    self.branch_depth += 1;
                    self.run(body);
                    self.branch_depth -= 1;
                    return;
                }
                Some(false) => {}
                // tripwire's `case "$pass_phrase_1" in "$pass_phrase_2") break ;;`.
                None => {
                    self.tell_arms_unwalked(&format!("case {subject} in"), &arms[at..]);
                    self.last_status = None;
                    return;
                }
            }
        }
    }

    /// What `arms` would have run, told under `condition` as not walked, and what they assign
    /// no longer known.
    fn tell_arms_unwalked(&mut self, condition: &str, arms: &[(Vec<Word>, Vec<Node>)]) {
        let bodies: Vec<Node> = arms.iter().flat_map(|(_, body)| body.iter().cloned()).collect();
        self.tell_rest_unwalked(condition, &bodies);
        self.tell_branch_writes(condition, &[&bodies]);
        self.forget_assigned(&[&bodies], condition);
    }

    #[inline(never)]
    fn if_node(&mut self, branches: &[(Vec<Node>, Vec<Node>)], otherwise: &[Node]) {
        let mut taken = false;
        // `if`'s status is the taken branch's last command's, 0 when no branch is taken; it is
        // known only when every condition on the way was decided.
        let mut decided_all = true;
        for (at, (cond, body)) in branches.iter().enumerate() {
            let decided = self.condition(cond);
            // Whether deciding it ran it (a function's status is learnt by running it).
            let ran = std::mem::take(&mut self.cond_ran);
            match decided {
                Some(false) => continue,
                // An unknown condition guarding a failure exit (`if ! mountpoint -q
                // /proc; then …; exit 1; fi`) is assumed not to fire.
                None if body.iter().any(is_failure_exit) => {
                    decided_all = false;
                    continue;
                }
                // A condition whose status is not known is a command the shell runs
                // (`if mkdir /usr/local/share/fonts; then chmod …`); it is taken as
                // succeeding: on a fresh install the guarded action runs.
                None => {
                    let mut assumed = None;
                    if !ran {
                        self.run(cond);
                        assumed = self.last_status.take();
                    }
                    // Running it settled it under the walk's assumption (`if ! touch X
                    // || ! rm X`): the branch is not taken; it is told as not walked.
                    if assumed == Some(false) {
                        decided_all = false;
                        self.tell_unwalked(cond, &[], &[], body);
                        self.tell_branch_writes(&super::ast::commands_text(cond), &[body]);
                        continue;
                    }
                    self.tell_unwalked(cond, body, &branches[at + 1..], otherwise);
                    let mut later: Vec<&[Node]> = Vec::new();
                    for (c, b) in &branches[at + 1..] {
                        later.extend([c.as_slice(), b.as_slice()]);
                    }
                    later.push(otherwise);
                    self.tell_branch_writes(&super::ast::commands_text(cond), &later);
                    self.guessing += 1;
                    // A test of literal paths is undecided only for a file a left-out command
                    // makes (dovecot's snake-oil links): as on the install, not a guess.
                    let test = is_test(cond) && super::ast::commands_text(cond).contains(['$', '`']);
                    if test {
                        self.value_guesses.push(super::ast::commands_text(cond));
                    }
                    let ended = self.exited || self.returning;
                    self.run(body);
                    if test {
                        self.value_guesses.pop();
                    }
                    self.guessing -= 1;
                    let condition = super::ast::commands_text(cond);
                    let mut lists: Vec<&[Node]> = vec![body];
                    for (c, b) in &branches[at + 1..] {
                        lists.extend([c.as_slice(), b.as_slice()]);
                    }
                    lists.push(otherwise);
                    self.forget_assigned(&lists, &condition);
                    if !ended && (self.exited || self.returning) && self.ended_on_guess.is_none() {
                        self.ended_on_guess = Some(super::ast::commands_text(cond));
                    }
                    self.last_status = None;
                    return;
                }
                Some(true) => {
                    self.last_status = decided_all.then_some(true);
                    self.branch_depth += 1;
                    self.run(body);
                    self.branch_depth -= 1;
                    taken = true;
                    break;
                }
            }
        }
        if !taken {
            self.last_status = decided_all.then_some(true);
            self.branch_depth += 1;
            self.run(otherwise);
            self.branch_depth -= 1;
        }
        if !decided_all {
            self.last_status = None;
        }
    }

    #[inline(never)]
    fn and_or(&mut self, parts: &[(String, Node)]) {
        // `cmd || true`, `[ … ] && cmd`, `[ -d X ] || mkdir X`: the first command always
        // runs; a following `&&` command runs unless the status so far is known false,
        // a `||` command only when it is known false (a test the image answers, `false`,
        // a command the caller's probe says fails). An unknown status is taken as
        // success: `||` after an ordinary command is a fallback for an error.
        let mut last: Option<bool> = None;
        // Parts that run or are skipped on a status not known: what they assign is not known.
        let mut uncertain: Vec<&Node> = Vec::new();
        for (op, node) in parts {
            if !op.is_empty() && last.is_none() {
                uncertain.push(node);
            }
            let runs = match op.as_str() {
                "" => true,
                "&&" => last != Some(false),
                "||" => last == Some(false),
                _ => false,
            };
            if !runs {
                continue;
            }
            // `$?` in a later part is the status of the part before it (`a2query -m X ||
            // ret=$?`), with its code where the probe gave one.
            // Set both ways: the part may be expanded here or run as a node, which shifts them.
            if !op.is_empty() {
                let code = self.probed_code.get();
                self.prev_status = last;
                self.prev_code = code;
                self.last_status = last;
            }
            // Run on an unknown status taken as success: a guess.
            let guess = !op.is_empty() && last.is_none();
            self.guessing += usize::from(guess);
            let later = usize::from(!op.is_empty());
            self.branch_depth += later;
            last = self.condition(std::slice::from_ref(node));
            let ran = std::mem::take(&mut self.cond_ran);
            if last.is_none() && !ran {
                self.node(node);
                // `! touch X || ! rm X`: once touch ran, `! touch` failed and rm runs.
                last = self.last_status;
            }
            self.branch_depth -= later;
            self.guessing -= usize::from(guess);
        }
        if !uncertain.is_empty() {
            let condition = super::ast::commands_text(std::slice::from_ref(&parts[0].1));
            let lists: Vec<&[Node]> = uncertain.iter().map(|n| std::slice::from_ref(*n)).collect();
            self.forget_assigned(&lists, &condition);
        }
        self.last_status = last;
    }
}

/// The condition told with what follows an `exit` the walk reached after a command its caller did
/// not reproduce ([`as_exit_after_unreproduced`]): `EXIT␟COMMAND`.
fn exit_after_unreproduced(exit: &str, command: &str) -> String {
    format!("{EXIT_AFTER_UNREPRODUCED}{}\u{1f}{}", exit.trim(), command.trim())
}

const EXIT_AFTER_UNREPRODUCED: &str = "exit after an unreproduced command: ";

/// The `exit` and the command not reproduced before it, when a told condition is an `exit` the
/// walk reached after such a command (which may have made what decided it).
pub fn as_exit_after_unreproduced(condition: &str) -> Option<(&str, &str)> {
    condition
        .strip_prefix(EXIT_AFTER_UNREPRODUCED)?
        .split_once('\u{1f}')
}

/// The condition told with what follows a failure `exit` the walk reached ([`as_failure_exit`]).
fn failure_exit(text: &str) -> String {
    format!("{FAILURE_EXIT}{}", text.trim())
}

const FAILURE_EXIT: &str = "exit failing: ";

/// The `exit` command's text when a told condition is a failure exit the walk reached rather
/// than a condition it took on a guess.
pub fn as_failure_exit(condition: &str) -> Option<&str> {
    condition.strip_prefix(FAILURE_EXIT)
}

/// Whether standard output goes to `/dev/null` (nothing is written).
fn is_dev_null(target: &Value) -> bool {
    matches!(target, Value::Known(t) if t == "/dev/null")
}

/// [`is_dev_null`] of a redirection's target as written.
fn is_dev_null_word(target: &Word) -> bool {
    target.literal().as_deref() == Some("/dev/null")
}

/// Whether a command's redirections only discard its output (`>/dev/null`): no file written, no
/// input read from one.
fn output_discarded(redirs: &[Redir]) -> bool {
    redirs.iter().all(|r| {
        matches!(r, Redir::Out { target, .. } if is_dev_null_word(target))
            || matches!(r, Redir::ErrToOut | Redir::OutToErr)
    })
}

/// Where standard error goes inside `$(…)` (or a pipeline's stage) after `2>&1` while standard
/// output is the capture: into it. Not a file name (a path holds no NUL).
const CAPTURE: &str = "\0capture";

fn is_capture(target: &Value) -> bool {
    matches!(target, Value::Known(t) if t == CAPTURE)
}

/// `>&2`: standard output goes where standard error goes — the capture, a file, or the terminal
/// (seen as /dev/null).
fn out_to_err(stderr: &Option<(Value, bool)>) -> Option<(Value, bool)> {
    match stderr {
        Some((t, _)) if is_capture(t) => None,
        Some(s) => Some(s.clone()),
        None => Some(discarded()),
    }
}

/// Whether a redirection points standard output or error somewhere.
fn redirects_output(r: &Redir) -> bool {
    matches!(r, Redir::Out { .. } | Redir::ErrToOut | Redir::OutToErr)
}

/// Output sent nowhere in the image (the terminal dpkg gives the script, seen as /dev/null).
fn discarded() -> (Value, bool) {
    (Value::Known("/dev/null".to_owned()), true)
}
