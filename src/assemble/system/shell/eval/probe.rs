//! What a walk asks the image and the caller: file kinds, links, `command -v`, sourced files, and
//! the status of commands used as conditions.

use super::{Eval, Value};

/// Answers whether a command (expanded arguments, `argv[0]` first) would succeed, for conditions
/// like `if ! dpkg-statoverride --list /x; then`; `None` when it cannot tell.
pub type StatusProbe<'a> = &'a dyn Fn(&[String]) -> Option<bool>;

/// Answers the exit code of a command the [`StatusProbe`] says fails, for `$?` after it
/// (a2query's 1, 32 and 33); `None` when it cannot tell.
pub type CodeProbe<'a> = &'a dyn Fn(&[String]) -> Option<i32>;

/// Answers what a command inside `$(…)` prints (expanded arguments, `argv[0]` first), where the
/// caller can tell: `mktemp` makes its file in the image and prints its name. `None`: unknown.
pub type OutputProbe<'a> = &'a dyn Fn(&[String]) -> Option<String>;

/// Answers a debconf command (`db_get QUESTION`, `db_set QUESTION VALUE`, …; `argv[0]` first)
/// with the value it leaves in `RET` and its status; `None` when the caller does not answer it.
pub type DebconfProbe<'a> = &'a dyn Fn(&[String]) -> Option<DebconfReply>;

/// What a debconf command leaves: `RET`, and whether it succeeded (debconf fails with status 10
/// for a question that does not exist: `db_get Q || RET=""`).
#[derive(Debug, Clone, PartialEq)]
pub struct DebconfReply {
    pub ret: Value,
    pub ok: bool,
}

impl DebconfReply {
    pub fn ok(ret: Value) -> Self {
        DebconfReply { ret, ok: true }
    }
}

/// Reads the text of an absolute path in the image, for `. FILE` in a script.
pub type SourceReader<'a> = &'a dyn Fn(&str) -> Option<String>;

/// Why an image file is left out because it holds the host's name or a random value (a reason
/// [`super::is_machine_dependent`] accepts); `None` for any other file.
pub type MachineFileProbe<'a> = &'a dyn Fn(&str) -> Option<String>;

/// Whether the walk's caller reproduces a command ([`super::Eval::with_reproduced`]).
pub type ReproducedProbe<'a> = &'a dyn Fn(&[String]) -> bool;

/// Told of every `if` whose condition the walk could not decide and took as true: the condition's
/// text and the commands of the branches it therefore did not walk (each with its source text),
/// so the caller can report the effects that may have been missed.
pub type GuessSink<'a> = &'a dyn Fn(&str, &[String]);

/// Answers what an absolute path is in the image.
pub type FileProbe<'a> = &'a dyn Fn(&str) -> Option<FileKind>;

/// Pathname expansion against the image: the absolute paths an absolute pattern (`\` quoting
/// the next character) matches, in the order sh sorts them; `None` when the caller cannot tell.
pub type GlobProbe<'a> = &'a dyn Fn(&str) -> Option<Vec<String>>;

/// Answers whether an absolute path is itself a symbolic link in the image (`lstat`).
pub type LinkProbe<'a> = &'a dyn Fn(&str) -> bool;

/// What a path is in the image, for `test -e/-f/-d/-x` and `command -v`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    Dir,
    File {
        executable: bool,
        /// Size 0 (`test -s` fails).
        empty: bool,
    },
    Other,
    /// Not there while building, but made at first start by a command left out of the image
    /// (the snake-oil certificate): whether it exists cannot be decided.
    Pending,
}

/// Where `command -v`/`which` look (a maintainer script's PATH under dpkg).
pub const SCRIPT_PATH: &[&str] = &[
    "/usr/local/sbin",
    "/usr/local/bin",
    "/usr/sbin",
    "/usr/bin",
    "/sbin",
    "/bin",
];

impl<'f> Eval<'f> {
    /// Tells `sink` of the branches an undecided condition left unwalked ([`GuessSink`]).
    pub fn with_guesses(mut self, sink: GuessSink<'f>) -> Self {
        self.guesses = Some(sink);
        self
    }

    /// Lets conditions ask the caller whether a command succeeds ([`StatusProbe`]).
    pub fn with_status(mut self, status: StatusProbe<'f>) -> Self {
        self.status = Some(status);
        self
    }

    /// Lets `$?` after a failing command ask the caller its code ([`CodeProbe`]).
    pub fn with_codes(mut self, codes: CodeProbe<'f>) -> Self {
        self.codes = Some(codes);
        self
    }

    /// The probe's answer for a command whose words are all known; a failure's code, where
    /// the caller knows it, is kept for the `$?` of the next command.
    pub(super) fn probe(&self, argv: &[Value]) -> Option<bool> {
        self.probed_code.set(None);
        let probe = self.status?;
        let words: Vec<String> = argv
            .iter()
            .map(|v| match v {
                Value::Known(s) => Some(s.clone()),
                Value::Unknown(_) => None,
            })
            .collect::<Option<_>>()?;
        let status = probe(&words);
        if status == Some(false) {
            self.probed_code.set(self.codes.and_then(|codes| codes(&words)));
        }
        status
    }

    /// Reads `echo` as bash does (no escapes without `-e`), for scripts whose `#!` names bash.
    pub fn with_bash(mut self, bash: bool) -> Self {
        self.bash = bash;
        self
    }

    /// Lets `$(…)` ask the caller what a command prints ([`OutputProbe`]).
    pub fn with_output(mut self, output: OutputProbe<'f>) -> Self {
        self.output = Some(output);
        self
    }

    /// Lets `db_get`/`db_set`… be answered from the caller's debconf database ([`DebconfProbe`]).
    pub fn with_debconf(mut self, debconf: DebconfProbe<'f>) -> Self {
        self.debconf = Some(debconf);
        self
    }

    /// Lets file tests and `command -v` consult the image.
    pub fn with_files(mut self, files: FileProbe<'f>) -> Self {
        self.files = Some(files);
        self
    }

    /// Lets `test -s` be decided from the file probe: only for a caller whose probe sees what
    /// the script writes as it writes it (the files walk). A walk that reports without applying
    /// (a triggered postinst: `>fresh`, then lines appended in a loop over `find`'s output)
    /// would otherwise read a size the script has changed.
    pub fn with_sizes(mut self) -> Self {
        self.sizes = true;
        self
    }

    /// Expands unquoted `*`, `?` and `[…]` in absolute words against the image, as sh's
    /// pathname expansion does (a pattern matching nothing stays as written).
    pub fn with_globs(mut self, globs: GlobProbe<'f>) -> Self {
        self.globs = Some(globs);
        self
    }

    /// Lets `[ -h PATH ]`/`[ -L PATH ]` consult the image.
    pub fn with_links(mut self, links: LinkProbe<'f>) -> Self {
        self.links = Some(links);
        self
    }

    /// `command -v NAME` as the script would see it: the first executable on PATH.
    pub(super) fn which(&self, name: &str) -> Option<Option<String>> {
        which_in(self.files, name)
    }
}

/// `command -v NAME` against the image; `None` when there is no image to ask.
pub(super) fn which_in(files: Option<FileProbe<'_>>, name: &str) -> Option<Option<String>> {
    {
        let files = files?;
        if name.contains('/') {
            return Some(
                matches!(files(name), Some(FileKind::File { executable: true, .. })).then(|| name.to_owned()),
            );
        }
        Some(
            SCRIPT_PATH
                .iter()
                .map(|d| format!("{d}/{name}"))
                .find(|p| matches!(files(p), Some(FileKind::File { executable: true, .. }))),
        )
    }
}
