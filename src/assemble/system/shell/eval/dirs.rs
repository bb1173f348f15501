//! The working directory (`cd`, relative paths, `< FILE`) and subshells (`( … )`), which keep
//! their own copy of it and of the variables.

use std::collections::BTreeMap;
use std::rc::Rc;

use super::super::ast::{Node, Word};
use super::{Eval, Value};

/// The working directory, and where `cd -` goes back to.
#[derive(Debug, Clone)]
pub(super) struct WorkingDir {
    pub(super) cwd: Value,
    pub(super) oldpwd: Value,
}

/// What a subshell changes only for itself.
pub(super) struct SavedShell {
    vars: BTreeMap<String, Value>,
    positional: Vec<Value>,
    dirs: Rc<WorkingDir>,
    exited: bool,
    ended_on_guess: Option<String>,
    stdout: Option<(Value, bool)>,
    stderr: Option<(Value, bool)>,
}

impl Eval<'_> {
    /// The working directory when known.
    pub(super) fn known_cwd(&self) -> Option<String> {
        match &self.dirs.cwd {
            Value::Known(d) => Some(d.clone()),
            Value::Unknown(_) => None,
        }
    }

    /// What makes a relative name a path below the known working directory (`/var/lib/x/` for
    /// `default.*` there, `/` at the root). `None` when the directory is not known, or for a name
    /// with `.` or `..` components, which the callers leave as written.
    pub(super) fn cwd_prefix(&self, relative: &str) -> Option<String> {
        if relative.split('/').any(|c| c == "." || c == "..") {
            return None;
        }
        self.known_cwd()
            .map(|cwd| format!("{}/", cwd.trim_end_matches('/')))
    }

    /// `path` as the shell would reach it: an absolute path as it is, a relative one below the
    /// working directory (unknown when that is).
    pub(super) fn absolute(&self, path: &str) -> Value {
        // An empty name is no file (`[ -x "" ]` is false), not the working directory.
        if path.starts_with('/') || path.is_empty() {
            return Value::Known(path.to_owned());
        }
        match &self.dirs.cwd {
            Value::Known(dir) => Value::Known(join(dir, path)),
            Value::Unknown(_) => Value::Unknown(format!("{path} (in a working directory not known)")),
        }
    }

    /// The text of the file a `<WORD` redirection reads, when the word and the file are known.
    pub(super) fn read_input(&mut self, word: &Word) -> Option<String> {
        let Value::Known(path) = self.expand_path(word) else {
            return None;
        };
        self.source.and_then(|read| read(&path))
    }

    /// A word naming a file (a redirection's target), made absolute.
    pub(super) fn expand_path(&mut self, word: &Word) -> Value {
        match self.expand_one(word) {
            Value::Known(p) => self.absolute(&p),
            unknown => unknown,
        }
    }

    /// `cd [-P|-L] [DIR|-]`: the new working directory (unknown when DIR is, or for `cd` alone,
    /// `$HOME`). Out of line: `simple`'s frame is on every nesting level's path.
    #[inline(never)]
    pub(super) fn cd(&mut self, args: &[Value]) {
        let args: Vec<Value> = args
            .iter()
            .filter(|f| !matches!(f, Value::Known(o) if o == "-P" || o == "-L"))
            .cloned()
            .collect();
        let target = match args.as_slice() {
            [Value::Known(d)] if d == "-" => self.dirs.oldpwd.clone(),
            [Value::Known(d)] if !d.is_empty() => self.absolute(d),
            [Value::Unknown(what)] => Value::Unknown(what.clone()),
            _ => Value::Unknown("cd without a directory".to_owned()),
        };
        self.dirs = Rc::new(WorkingDir {
            oldpwd: self.dirs.cwd.clone(),
            cwd: target,
        });
    }

    /// `( list )`: what it may change saved before and put back after.
    pub(super) fn subshell(&mut self, body: &[Node]) {
        let saved = self.save_shell();
        self.run(body);
        self.restore_shell(saved);
    }

    #[inline(never)]
    fn save_shell(&self) -> SavedShell {
        SavedShell {
            vars: self.vars.clone(),
            positional: self.positional.clone(),
            dirs: self.dirs.clone(),
            exited: self.exited,
            ended_on_guess: self.ended_on_guess.clone(),
            stdout: self.stdout.clone(),
            stderr: self.stderr.clone(),
        }
    }

    #[inline(never)]
    fn restore_shell(&mut self, saved: SavedShell) {
        let SavedShell {
            vars,
            positional,
            dirs,
            exited,
            ended_on_guess,
            stdout,
            stderr,
        } = saved;
        // `exec >FILE` in a subshell redirects that subshell only.
        (self.stdout, self.stderr) = (stdout, stderr);
        self.vars = vars;
        self.positional = positional;
        self.dirs = dirs;
        // `exit` ends the subshell only (the walk of the script goes on).
        self.exited = exited;
        // So does the failure it ended on: the script's walk did not end there.
        self.ended_on_guess = ended_on_guess;
    }
}

/// The absolute path `path` names from the directory `dir`: `.` and empty components dropped,
/// `..` taking one off (at the root it stays there, as the kernel's lookup does; the symbolic
/// links on the way are not followed).
pub fn join(dir: &str, path: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for c in dir.split('/').chain(path.split('/')) {
        match c {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            c => parts.push(c),
        }
    }
    format!("/{}", parts.join("/"))
}
