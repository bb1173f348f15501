//! Conditions: `[ … ]`/`test`, `true`/`false`, `dpkg --compare-versions` on a fresh install,
//! `command -v`, and what the caller's status probe answers, in three-valued logic (`None`: the
//! image cannot tell).

use super::super::ast::{Node, Redir};
use super::super::text;
use super::{Eval, FileKind, Value};

/// Whether a condition's part is a `setcap` call (negated or not), which the condition runs as
/// it decides it: inside a list it is left to the caller, as a function call is, so that the
/// list's other commands run too.
fn is_setcap(n: &Node) -> bool {
    match n {
        Node::Not(inner) => is_setcap(inner),
        Node::Simple { words, .. } => words
            .first()
            .and_then(|w| w.literal())
            .is_some_and(|w| w.rsplit('/').next() == Some("setcap")),
        _ => false,
    }
}

impl<'f> Eval<'f> {
    /// Evaluates `[ … ]`/`test …` conditions on the positional parameters; `None` = not a test
    /// this knows (the command then runs normally where it appeared).
    pub(super) fn condition(&mut self, cond: &[Node]) -> Option<bool> {
        let words = match cond {
            [Node::Not(inner)] => return self.condition(std::slice::from_ref(inner)).map(|b| !b),
            [Node::AndOr(parts)] => {
                let mut acc: Option<bool> = None;
                for (op, n) in parts {
                    // Short-circuited: not evaluated (nor run).
                    let skipped = matches!((op.as_str(), acc), ("&&", Some(false)) | ("||", Some(true)));
                    // A function call that would be evaluated would run here and again where
                    // the caller runs the whole list: left to the caller.
                    if !skipped && (self.is_func_call(n) || is_setcap(n)) {
                        return None;
                    }
                    let v = if skipped {
                        None
                    } else {
                        self.condition(std::slice::from_ref(n))
                    };
                    acc = match (op.as_str(), acc, v) {
                        ("", _, v) => v,
                        ("&&", Some(false), _) => Some(false),
                        ("&&", Some(true), v) => v,
                        ("&&", None, Some(false)) => Some(false),
                        ("||", Some(true), _) => Some(true),
                        ("||", Some(false), v) => v,
                        ("||", None, Some(true)) => Some(true),
                        _ => None,
                    };
                }
                return acc;
            }
            // An assignment's status is its last substitution's (keyboard-configuration's
            // `! kbdnames="$(… | iconv …)"`): learnt by making it.
            [Node::Simple { words, assigns, .. }] if words.is_empty() && !assigns.is_empty() => {
                self.node(&cond[0]);
                self.cond_ran = true;
                return self.last_status;
            }
            [Node::Simple { words, assigns, .. }] if assigns.is_empty() => words,
            [Node::Pipe(cmds)] => return self.pipeline_status(cmds),
            _ => return None,
        };
        let argv: Vec<Value> = words.iter().map(|w| self.expand_one(w)).collect();
        let first = match argv.first() {
            Some(Value::Known(s)) => s.as_str(),
            _ => return None,
        };
        // debconf answers at once (`db_get Q && [ -n "$RET" ]`): asked here, `RET` is set
        // before the next part of the list is decided, and the status is debconf's.
        if let Some(status) = self.debconf_call(&argv) {
            return status;
        }
        // One of the script's functions (slapd's `if is_initial_configuration "$@"`): run it
        // here, and its status is the one its `return` gave, where that is known.
        if self.funcs.contains_key(first) {
            self.returned = None;
            self.node(&cond[0]);
            self.cond_ran = true;
            return self.returned.take().flatten();
        }
        let args: Vec<&Value> = match first {
            "[" => {
                if !matches!(argv.last(), Some(Value::Known(s)) if s == "]") {
                    return None;
                }
                argv[1..argv.len() - 1].iter().collect()
            }
            "test" => argv[1..].iter().collect(),
            "true" | ":" => return Some(true),
            // AppArmor is the running kernel's: an image being built has none to load profiles
            // into (dpkg in a chroot, without /sys, sees it disabled too).
            "aa-enabled" => return Some(false),
            "aa-status"
                if argv
                    .iter()
                    .any(|a| matches!(a, Value::Known(s) if s == "--enabled")) =>
            {
                return Some(false);
            }
            "false" => return Some(false),
            // `if expr "$1" : "/.*" >/dev/null` (xfonts-utils' update-fonts-dir).
            "expr" => {
                let known: Option<Vec<String>> = argv[1..].iter().map(|v| v.clone().known()).collect();
                return text::expr(&known?).map(|(_, ok)| ok);
            }
            // An image is built, not booted: its scripts run as in a chroot (libc6's postinst
            // then leaves init alone; dpkg inside mmdebstrap's chroot sees the same).
            "ischroot" => return Some(true),
            // `mountpoint -q DIR` (usrmerge's preinst refuses a separate /usr without an
            // initramfs): an image has no mounts of its own, and dpkg's run in a chroot sees
            // none but what its runner mounted for it, which depends on the runner (the kernel's
            // file systems under /proc, /sys and /dev, maybe the root): any other directory is
            // no mount point, those are not decided, nor are other forms (`-d`, `-x DEVICE`).
            _ if first.rsplit('/').next() == Some("mountpoint") => {
                let mut dirs = Vec::new();
                for arg in &argv[1..] {
                    match arg {
                        Value::Known(a) if matches!(a.as_str(), "-q" | "--quiet" | "--nofollow") => {}
                        Value::Known(a) if a.starts_with('-') => return None,
                        Value::Known(a) => dirs.push(a.as_str()),
                        _ => return None,
                    }
                }
                let [dir] = dirs.as_slice() else {
                    return None;
                };
                let comps: Vec<&str> = dir.split('/').filter(|c| !c.is_empty() && *c != ".").collect();
                if !dir.starts_with('/') || comps.contains(&"..") {
                    return None;
                }
                return match comps.first() {
                    None | Some(&("proc" | "sys" | "dev")) => None,
                    Some(_) => Some(false),
                };
            }
            "dpkg" if argv.get(1) == Some(&Value::Known("--compare-versions".into())) => {
                // On a first install the old version ($2) is empty: `lt-nl`/`le-nl` against
                // it are false, `lt`/`le` true (dpkg treats an empty version as the lowest).
                let op = match argv.get(3) {
                    Some(Value::Known(op)) => op.as_str(),
                    _ => return None,
                };
                return match (argv.get(2), argv.get(4)) {
                    // Two known versions: dpkg's order (exim4-config's config checks the
                    // installed debconf's version, from `dpkg -s`).
                    (Some(Value::Known(a)), Some(Value::Known(b))) => compare_versions(a, op, b),
                    (Some(Value::Known(a)), _) if a.is_empty() => match op {
                        "lt" | "le" | "<<" | "<=" | "ne" | "gt-nl" | "ge-nl" => Some(true),
                        "lt-nl" | "le-nl" | "gt" | "ge" | ">>" | ">=" | "eq" => Some(false),
                        _ => None,
                    },
                    _ => None,
                };
            }
            "which" | "command" => {
                let name = match argv.as_slice() {
                    [_, Value::Known(n)] if first == "which" => n.clone(),
                    [_, Value::Known(v), Value::Known(n)] if v == "-v" => n.clone(),
                    _ => return None,
                };
                return self.which(&name).map(|hit| hit.is_some());
            }
            // `type NAME` (dash's postinst: `if ! type add-shell >/dev/null 2>&1`): a function
            // of the script, else a command on the PATH. Shell builtins are not told apart.
            "type" => {
                let [_, Value::Known(name)] = argv.as_slice() else {
                    return None;
                };
                if self.funcs.contains_key(name) {
                    return Some(true);
                }
                return self.which(name).map(|hit| hit.is_some());
            }
            // A command the caller both applies and answers (fping's `if ! setcap … FILE; then`
            // falls back to a set-user-id override): it runs here, as a function does, and its
            // status is the probe's.
            _ if first.rsplit('/').next() == Some("setcap") => {
                let status = self.probe(&argv)?;
                self.node(&cond[0]);
                self.cond_ran = true;
                return Some(status);
            }
            _ => return self.probe(&argv),
        };
        self.test_expr(&args)
    }

    /// The status of `A | … | grep …` (sh's: the last command's): grep's on what the stages
    /// before it print, where every one of them is a command whose output is known
    /// ([`Eval::answer`]: queries, the caller's probe, text filters). Nothing runs when it is not
    /// known (`None`), so the caller can run the pipeline instead.
    fn pipeline_status(&mut self, cmds: &[Node]) -> Option<bool> {
        let (last, before) = cmds.split_last()?;
        // grep's own output may go anywhere (`>/dev/null`): its status is what counts.
        let grep = self.known_argv(last, true)?;
        if !matches!(grep.first().map(String::as_str), Some("grep" | "egrep" | "fgrep")) || before.is_empty()
        {
            return None;
        }
        let mut input = None;
        for stage in before {
            // A list in braces (frr's `{ getfacl -c "$f" 2>/dev/null || true; } | grep …`) prints
            // what its commands print, told as a substitution of it would be.
            // Only where it asks and prints without changing anything: nothing it runs here
            // runs twice when a later stage is not known and the caller runs the pipeline.
            if let Node::Group(inner) = stage
                && queries_only(inner)
            {
                let saved = std::mem::replace(&mut self.stdin, input.take());
                let printed = self.substitute(std::slice::from_ref(stage));
                self.stdin = saved;
                input = Some(printed.known()?);
                continue;
            }
            let argv = self.known_argv(stage, false)?;
            let saved = std::mem::replace(&mut self.stdin, input.take());
            let printed = self.answer(&argv);
            self.stdin = saved;
            input = Some(printed?);
        }
        super::super::text::grep_matches(&grep, &input.unwrap_or_default())
    }

    /// The words of a plain command without assignments or a here-document (or, unless
    /// `output_elsewhere`, a redirection of its output), all known.
    fn known_argv(&mut self, node: &Node, output_elsewhere: bool) -> Option<Vec<String>> {
        let Node::Simple {
            words,
            assigns,
            redirs,
            ..
        } = node
        else {
            return None;
        };
        let redirected = |r: &Redir| match r {
            Redir::Out { .. } | Redir::OutToErr => !output_elsewhere,
            Redir::ErrToOut => false,
            Redir::Heredoc(_) | Redir::HeredocExpands(_) | Redir::In(_) => true,
        };
        // `LC_ALL=C lpstat -r`: a status query whose answer the walk gives the same in any
        // locale. Text tools are not (`LC_ALL=C grep '^.$'` on a non-ASCII line).
        let locale_only = assigns.is_empty()
            || words.first().and_then(|w| w.literal()).as_deref() == Some("lpstat")
                && assigns.iter().all(|(name, value)| {
                    (name == "LC_ALL" || name == "LANG" || name.starts_with("LC_"))
                        && matches!(value.literal().as_deref(), Some("C" | "POSIX" | "C.UTF-8"))
                });
        if !locale_only || redirs.iter().any(redirected) {
            return None;
        }
        words
            .iter()
            .map(|w| match self.expand_one(w) {
                Value::Known(s) => Some(s),
                Value::Unknown(_) => None,
            })
            .collect()
    }

    /// A `test`/`[` expression: `-o` of `-a` of primaries (`-a` binds tighter, as in test(1)),
    /// in three-valued logic: `None` where the image cannot tell.
    fn test_expr(&self, args: &[&Value]) -> Option<bool> {
        // A binary `-a`/`-o` needs an operand on each side; a leading one is a unary primary.
        fn split<'v>(args: &[&'v Value], op: &str) -> Vec<Vec<&'v Value>> {
            let is = |v: &Value, op: &str| matches!(v, Value::Known(s) if s == op);
            let mut parts = vec![Vec::new()];
            for (i, a) in args.iter().enumerate() {
                let binary = i > 0 && i + 1 < args.len() && !parts.last().is_some_and(Vec::is_empty);
                if binary && is(a, op) {
                    parts.push(Vec::new());
                } else if let Some(last) = parts.last_mut() {
                    last.push(*a);
                }
            }
            parts
        }
        let mut any: Option<bool> = Some(false);
        for or_part in split(args, "-o") {
            let mut all: Option<bool> = Some(true);
            for and_part in split(&or_part, "-a") {
                all = match (all, self.test_primary(&and_part)) {
                    (Some(false), _) | (_, Some(false)) => Some(false),
                    (Some(true), v) => v,
                    (None, _) => None,
                };
            }
            any = match (any, all) {
                (Some(true), _) | (_, Some(true)) => Some(true),
                (Some(false), v) => v,
                (None, _) => None,
            };
        }
        any
    }

    /// One primary: `! P`, `A = B`, `-e PATH`, a non-empty string…
    fn test_primary(&self, args: &[&Value]) -> Option<bool> {
        let mut args = args.to_vec();
        let mut negate = false;
        if matches!(args.first(), Some(Value::Known(s)) if s == "!") {
            negate = true;
            args.remove(0);
        }
        let known = |v: &Value| match v {
            Value::Known(s) => Some(s.clone()),
            Value::Unknown(_) => None,
        };
        let r = match args.as_slice() {
            // `$?` after a known failure against 0: its code is not known, but it is not 0
            // (augenrules: `cmp -s …; if [ $? -eq 0 ]`).
            [a, op, b]
                if [a, b]
                    .iter()
                    .any(|v| matches!(v, Value::Unknown(u) if u == super::FAILED_STATUS))
                    && [a, b].iter().any(|v| matches!(v, Value::Known(z) if z == "0"))
                    && matches!(op, Value::Known(o) if matches!(o.as_str(), "-eq" | "-ne" | "=" | "!=")) =>
            {
                matches!(op, Value::Known(o) if o == "-ne" || o == "!=")
            }
            [a, op, b] => {
                let (a, b) = (known(a)?, known(b)?);
                let int = |s: &str| s.trim_start().parse::<i64>().ok();
                match known(op)?.as_str() {
                    "=" | "==" => a == b,
                    "!=" => a != b,
                    // Integers; anything else is test's error (not known).
                    op @ ("-eq" | "-ne" | "-lt" | "-le" | "-gt" | "-ge") => {
                        let (a, b) = (int(&a)?, int(&b)?);
                        match op {
                            "-eq" => a == b,
                            "-ne" => a != b,
                            "-lt" => a < b,
                            "-le" => a <= b,
                            "-gt" => a > b,
                            _ => a >= b,
                        }
                    }
                    _ => return None,
                }
            }
            [op, a] => {
                let a = known(a)?;
                // A file test's relative path is the working directory's.
                let path = || match self.absolute(&a) {
                    Value::Known(p) => Some(p),
                    Value::Unknown(_) => None,
                };
                let kind = || self.files.and_then(|f| path().map(|p| f(&p)));
                let op = known(op)?;
                let file_test = matches!(op.as_str(), "-e" | "-r" | "-w" | "-f" | "-d" | "-x" | "-s");
                if file_test && kind() == Some(Some(FileKind::Pending)) {
                    return None;
                }
                match op.as_str() {
                    "-z" => a.is_empty(),
                    "-n" => !a.is_empty(),
                    // Scripts run as root: whatever exists can be read and written.
                    "-e" | "-r" | "-w" => kind()?.is_some(),
                    "-f" => matches!(kind()?, Some(FileKind::File { .. })),
                    "-d" => matches!(kind()?, Some(FileKind::Dir)),
                    "-x" => matches!(
                        kind()?,
                        Some(FileKind::File { executable: true, .. } | FileKind::Dir)
                    ),
                    // Non-empty: a directory always is; another kind of entry (a hard link, a
                    // device) is not decided here.
                    "-s" if !self.sizes => return None,
                    "-s" => match kind()? {
                        Some(FileKind::File { empty, .. }) => !empty,
                        Some(FileKind::Dir) => true,
                        None => false,
                        Some(_) => return None,
                    },
                    "-h" | "-L" => (self.links?)(&path()?),
                    _ => return None,
                }
            }
            [a] => !known(a)?.is_empty(),
            _ => return None,
        };
        Some(r != negate)
    }
}

impl Eval<'_> {
    /// Whether `node` calls one of the script's functions (by a literal name).
    pub(super) fn is_func_call(&self, node: &Node) -> bool {
        match node {
            // confmodule defines `db_get` and the rest as functions; debconf answers them.
            Node::Simple { words, .. } => words.first().and_then(|w| w.literal()).is_some_and(|name| {
                self.funcs.contains_key(name.as_str()) && !(name.starts_with("db_") && self.debconf.is_some())
            }),
            Node::Not(inner) => self.is_func_call(inner),
            _ => false,
        }
    }
}

/// `dpkg --compare-versions A OP B`'s status: dpkg's order; an empty version is the lowest, or
/// with an `-nl` operator the highest; `<` and `>` are dpkg's obsolete `<=` and `>=`.
fn compare_versions(a: &str, op: &str, b: &str) -> Option<bool> {
    use std::cmp::Ordering::{Equal, Greater, Less};
    // dpkg fails (status 2) on a version it cannot parse: not decided here.
    let parses = |v: &str| {
        let (epoch, rest) = v.split_once(':').unwrap_or(("0", v));
        v.is_empty()
            || (!epoch.is_empty()
                && epoch.bytes().all(|c| c.is_ascii_digit())
                && rest.starts_with(|c: char| c.is_ascii_digit())
                && rest
                    .bytes()
                    .all(|c| c.is_ascii_alphanumeric() || b".+~-:".contains(&c)))
    };
    if !parses(a) || !parses(b) {
        return None;
    }
    let (op, empty_highest) = op.strip_suffix("-nl").map_or((op, false), |o| (o, true));
    let ord = match (a.is_empty(), b.is_empty()) {
        (true, true) => Equal,
        (true, false) if empty_highest => Greater,
        (true, false) => Less,
        (false, true) if empty_highest => Less,
        (false, true) => Greater,
        (false, false) => crate::debian::version::compare(a, b),
    };
    Some(match op {
        "lt" | "<<" => ord == Less,
        "le" | "<=" | "<" => ord != Greater,
        "eq" | "=" => ord == Equal,
        "ne" => ord != Equal,
        "ge" | ">=" | ">" => ord != Less,
        "gt" | ">>" => ord == Greater,
        _ => return None,
    })
}

/// Whether a list only asks and prints (`{ getfacl -c "$f" 2>/dev/null || true; }`): commands
/// that change nothing, no output to a file.
fn queries_only(nodes: &[Node]) -> bool {
    const QUERIES: &[&str] = &[
        ":", "true", "false", "echo", "printf", "cat", "head", "tail", "grep", "egrep", "fgrep", "stat",
        "getfacl", "id",
    ];
    let mut only = true;
    super::super::ast::each_node(nodes, true, &mut |n| match n {
        Node::Simple {
            assigns,
            words,
            redirs,
            ..
        } => {
            let command = words.first().and_then(|w| w.literal());
            only &= assigns.is_empty()
                && super::output_discarded(redirs)
                && command.is_some_and(|c| QUERIES.contains(&c.as_str()));
        }
        Node::AndOr(_) | Node::Pipe(_) | Node::Not(_) | Node::Group(_) => {}
        _ => only = false,
    });
    only
}
