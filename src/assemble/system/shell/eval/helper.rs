//! Helper scripts a maintainer script runs (mysql-common's
//! `/usr/share/mysql-common/configure-symlinks install mariadb /etc/mysql/mariadb.cnf`): a shell
//! script of the image that the caller does not reproduce as a command of its own is walked like
//! the maintainer script, in a shell of its own with its arguments, so the commands it runs are
//! applied and reported one by one instead of the helper as one command nobody reproduced.

use std::collections::BTreeMap;
use std::rc::Rc;

use super::super::parse;
use super::probe::which_in;
use super::{Eval, Value};

/// Whether the caller wants a command followed into its script (it reproduces nothing of it
/// itself); called with the expanded arguments, `argv[0]` first.
pub type HelperProbe<'f> = &'f dyn Fn(&[String]) -> bool;

impl<'f> Eval<'f> {
    /// Follows commands the caller does not reproduce into the image's shell scripts by that
    /// name (see the module's documentation).
    pub fn with_helpers(mut self, helpers: HelperProbe<'f>) -> Self {
        self.helpers = Some(helpers);
        self
    }

    /// Walks `argv` as a helper script when the caller wants it followed and the image holds a
    /// `sh`/`bash` script by that name; `false` when not (the command is then handed to the
    /// caller as it is). `fields` are the arguments as values; `env` the command's assignments.
    pub(super) fn helper(&mut self, argv: &[String], fields: &[Value], env: &[(String, Value)]) -> bool {
        let (Some(wanted), Some(read)) = (self.helpers, self.source) else {
            return false;
        };
        // With an argument the walk does not know, the helper's walk would be guesswork (ucf
        // called with dbconfig-common's `"$tfile"`): the call is the caller's to report.
        if self.capturing > 0 || fields.iter().any(|f| matches!(f, Value::Unknown(_))) || !wanted(argv) {
            return false;
        }
        let Some(Some(path)) = which_in(self.files, &argv[0]) else {
            return false;
        };
        let Some(text) = read(&path) else {
            return false;
        };
        let Some(bash) = shell_of(&text) else {
            return false;
        };
        let nodes = self
            .sourced
            .entry(format!("exec:{path}"))
            .or_insert_with(|| parse(&text).ok().map(Rc::from))
            .clone();
        let Some(nodes) = nodes else {
            return false;
        };
        // A new shell: the environment (dpkg's, the build's, what the caller exported) and the
        // command's assignments, no functions, the helper's own arguments and traps.
        let mut vars: BTreeMap<String, Value> = self
            .vars
            .iter()
            .filter(|(k, _)| {
                k.starts_with("DPKG_")
                    || super::SCRIPT_ENVIRONMENT.iter().any(|(name, _)| name == k)
                    || self.exported.contains(k.as_str())
            })
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        vars.extend(env.iter().cloned());
        vars.insert("0".to_owned(), Value::Known(path.clone()));
        let saved_vars = std::mem::replace(&mut self.vars, vars);
        let saved_sourced_machine = self.sourced_machine.take();
        let mut assigned = std::collections::BTreeSet::new();
        super::super::ast::names_assigned_anywhere(&nodes, &mut assigned);
        let saved_assigned = std::mem::replace(&mut self.script_assigned, std::rc::Rc::new(assigned));
        let saved_funcs = std::mem::take(&mut self.funcs);
        let saved_positional = std::mem::replace(&mut self.positional, fields.to_vec());
        let saved_trap = self.exit_trap.take();
        // An `exec >FILE` of the helper redirects the helper's shell, not the caller's.
        let saved_outputs = (self.stdout.clone(), self.stderr.clone());
        let saved = (self.bash, self.in_func, self.loops);
        (self.bash, self.in_func, self.loops) = (bash, 0, 0);
        self.depth += 1;
        self.run(&nodes);
        if let Some(action) = self.exit_trap.take() {
            (self.exited, self.returning, self.loop_jump) = (false, false, None);
            self.run(&action);
        }
        self.depth -= 1;
        // The helper's `exit` ends the helper, not its caller (whose rest was not told).
        (self.exited, self.returning, self.loop_jump) = (false, false, None);
        self.ended_on_guess = None;
        (self.bash, self.in_func, self.loops) = saved;
        self.exit_trap = saved_trap;
        (self.stdout, self.stderr) = saved_outputs;
        self.positional = saved_positional;
        self.funcs = saved_funcs;
        self.vars = saved_vars;
        self.sourced_machine = saved_sourced_machine;
        self.script_assigned = saved_assigned;
        true
    }
}

/// Whether a script's `#!` line names a shell the walk reads: `Some(true)` for bash,
/// `Some(false)` for sh/dash, `None` for anything else (perl, python).
fn shell_of(text: &str) -> Option<bool> {
    let line = text.lines().next()?.strip_prefix("#!")?.trim();
    let mut words = line.split_whitespace();
    let mut interpreter = words.next()?;
    if interpreter.ends_with("/env") {
        interpreter = words.next()?;
    }
    match interpreter.rsplit('/').next()? {
        "sh" | "dash" => Some(false),
        "bash" => Some(true),
        _ => None,
    }
}
