//! Command substitution: what the commands inside `$(…)` print, where it can be told, and the
//! text flowing through their pipelines.

use super::super::ast::Node;
use super::super::text;
use super::probe::which_in;
use super::{Call, Eval, Value};

impl<'f> Eval<'f> {
    /// `$(…)`: the commands run in a walk of their own whose output is captured; any command
    /// whose output is not known makes the substitution unknown.
    pub(super) fn substitute(&mut self, nodes: &[Node]) -> Value {
        self.capturing += 1;
        // Commands inside `$(…)` whose output [`Eval::answer`] cannot tell make the
        // whole substitution unknown.
        let mut opaque = None;
        let mut out = String::new();
        let status;
        // File commands inside it still change files (wordpress's `list=$(add_new_wp_content_files
        // DIR)` makes its links there): they go to the walk's caller like any other, and print
        // nothing unless asked to be verbose.
        let outer: &mut dyn FnMut(Call<'_>) = &mut *self.on_command;
        {
            let mut inner_unknown = |c: Call<'_>| {
                // A write to a file inside `$(…)` is made (or reported) by the caller like any
                // other; what the substitution is worth is then not known.
                if c.stdout.as_ref().is_some_and(|(t, _)| !super::is_dev_null(t)) {
                    opaque.get_or_insert(format!("$({})", c.text));
                    outer(c);
                    return;
                }
                let silent_file_command =
                    c.stdout.is_none() && c.argv.as_ref().is_ok_and(|argv| super::prints_nothing(argv));
                // What it prints goes to /dev/null or standard error: not into the value.
                let discarded = c.stdout.as_ref().is_some_and(|(t, _)| super::is_dev_null(t));
                if silent_file_command || discarded {
                    outer(c);
                    return;
                }
                // The host's name, wherever it is in the pipeline, is what the value depends on.
                let host = c.argv.as_ref().is_ok_and(|argv| super::prints_host_name(argv))
                    || c.argv.as_ref().is_err_and(|why| super::is_host_dependent(why))
                    || c.machine_dependent
                        .as_deref()
                        .is_some_and(super::is_host_dependent);
                // So is a random value (`INAME=$(iscsi-iname -p …)`, `$(tr -dc … </dev/urandom
                // | dd …)`).
                let random = c.argv.as_ref().is_ok_and(|argv| super::prints_random(argv))
                    || c.argv.as_ref().is_err_and(|why| super::is_random_dependent(why))
                    || c.machine_dependent
                        .as_deref()
                        .is_some_and(super::is_random_dependent);
                // And what a command left out printed or made (`fp=$(cat KEY.pub)` after
                // ssh-keygen): its reason, which carries what makes it, goes on unchanged.
                let left_out = c
                    .machine_dependent
                    .as_deref()
                    .filter(|why| super::left_out_output_maker(why).is_some());
                if host && !opaque.as_deref().is_some_and(super::is_host_dependent) {
                    opaque = Some(format!("{}$({})", super::HOST_DEPENDENT, c.text));
                } else if random && !opaque.as_deref().is_some_and(super::is_machine_dependent) {
                    opaque = Some(format!("{}$({})", super::RANDOM_DEPENDENT, c.text));
                } else if let Some(why) = left_out
                    && !opaque.as_deref().is_some_and(super::is_machine_dependent)
                {
                    opaque = Some(why.to_owned());
                } else {
                    opaque.get_or_insert(format!("$({})", c.text));
                }
            };
            // On the heap: nested substitutions recurse through here, and an `Eval` is large.
            let mut sub = Box::new(Eval {
                vars: self.vars.clone(),
                funcs: self.funcs.clone(),
                sourced: self.sourced.clone(),
                positional: self.positional.clone(),
                on_command: &mut inner_unknown,
                // A substitution's frames are large: it counts as two levels.
                depth: self.depth + 1,
                steps: self.steps,
                cut: None,
                exited: false,
                returning: false,
                returned: None,
                guessing: self.guessing,
                value_guesses: self.value_guesses.clone(),
                cond_ran: false,
                in_func: 0,
                locals: Vec::new(),
                capture: String::new(),
                // What the commands inside read is the input of the command the substitution
                // is part of (`IN="$(cat)"` in a function a pipeline feeds). It stays that
                // command's too: the walk's commands inside take it whether they read it or
                // not, and one substitution reading what its own command then reads is rare.
                stdin: self.stdin.clone(),
                bash: self.bash,
                capture_lost: false,
                pipe_machine: None,
                capturing: 1,
                substitution_status: None,
                exported: self.exported.clone(),
                machine_files: self.machine_files,
                sourced_machine: self.sourced_machine.clone(),
                script_assigned: self.script_assigned.clone(),
                files: self.files,
                sizes: self.sizes,
                links: self.links,
                native_arch: self.native_arch.clone(),
                // What its commands read from files (`$(sed … < /etc/imapd.conf)`), and what it
                // sources.
                source: self.source,
                status: self.status,
                codes: self.codes,
                probed_code: std::cell::Cell::new(None),
                prev_code: None,
                output: self.output,
                debconf: self.debconf,
                helpers: None,
                globs: self.globs,
                guesses: self.guesses,
                stdout: None,
                stderr: None,
                lines: None,
                exit_trap: None,
                ended_on_guess: None,
                reproduces: self.reproduces,
                unreproduced: None,
                branch_depth: 0,
                sorted_after: false,
                last_status: None,
                prev_status: None,
                loops: 0,
                loop_jump: None,
                dirs: self.dirs.clone(),
                unset: self.unset,
            });
            sub.run(nodes);
            status = sub.last_status;
            self.steps = sub.steps;
            if self.cut.is_none() {
                self.cut = sub.cut.take();
            }
            std::mem::swap(&mut out, &mut sub.capture);
            if sub.capture_lost {
                opaque.get_or_insert_with(|| {
                    "$(…) with output (a loop's, or standard error sent into it) that is not known".to_owned()
                });
            }
        }
        self.capturing -= 1;
        match opaque {
            Some(what) => {
                self.substitution_status = None;
                Value::Unknown(what)
            }
            None => {
                self.substitution_status = status;
                // The shell drops the trailing newlines of what the commands printed.
                Value::Known(out.trim_end_matches('\n').to_owned())
            }
        }
    }

    /// What a command inside `$(…)` prints, where it can be told: output builtins, queries the
    /// image answers, the caller's [`OutputProbe`], and text filters reading the pipeline's
    /// input. `None`: not known (the substitution becomes unknown).
    pub(super) fn answer(&self, argv: &[String]) -> Option<String> {
        let args: Vec<&str> = argv.iter().map(String::as_str).collect();
        let line = |s: &str| format!("{s}\n");
        match args.as_slice() {
            ["echo", ..] => return text::echo(&argv[1..], self.bash).ok(),
            ["printf", format, ..] => return text::printf(format, &argv[2..]).ok(),
            ["dpkg", "--print-architecture"] => return self.native_arch.as_deref().map(line),
            // The kernel's name: every Debian image runs on Linux (libc6's preinst checks it
            // before it compares the running kernel's release, which stays unknown).
            ["uname"] | ["uname", "-s"] | ["uname", "--kernel-name"] => return Some(line("Linux")),
            ["pwd"] => return self.known_cwd().map(|d| line(&d)),
            // dpkg runs maintainer scripts as root (under fakeroot too, `id` says so).
            ["id", "-u"] | ["id", "-g"] | ["id", "-ru"] | ["id", "-rg"] => return Some(line("0")),
            ["id", "-un"] | ["id", "-gn"] | ["whoami"] => return Some(line("root")),
            ["getopt", ..] => return text::getopt(&argv[1..]),
            // No daemon runs while an image is built (nor in dpkg's chroot): CUPS' scheduler is
            // not there to answer (cups' postinst updates its queues' PPDs only when it is).
            ["lpstat", "-r"] => return Some(line("scheduler is not running")),
            ["lpstat", "-h", server, "-r"] if server.starts_with('/') || server.starts_with("localhost") => {
                return Some(line("scheduler is not running"));
            }
            ["expr", ..] => return text::expr(&argv[1..]).map(|(out, _)| line(&out)),
            ["date", ..] => return text::date(&argv[1..]),
            // The paper size of the locale scripts run under (C.UTF-8, glibc's C locale has
            // A4's, in millimetres); libpaper1's config asks.
            ["locale", "width"] => return Some(line("210")),
            ["locale", "height"] => return Some(line("297")),
            ["locale"] => return self.locale_settings(),
            ["locale", "charmap"] => return self.locale_charmap().map(|c| line(&c)),
            // Where a path really is: file tests follow links anyway, so the path itself
            // answers them the same way.
            ["dpkg-realpath", p] | ["dpkg-realpath", "--root", "", p] if p.starts_with('/') => {
                return Some(line(p));
            }
            // The caller knows the diversions the scripts made so far; without it, none.
            ["dpkg-divert", "--listpackage", _] => {
                return self.output.and_then(|probe| probe(argv)).or(Some(String::new()));
            }
            ["dpkg-divert", "--truename", f] => {
                return self
                    .output
                    .and_then(|probe| probe(argv))
                    .or_else(|| Some(line(f)));
            }
            ["command", "-v", n] | ["which", n] => {
                return which_in(self.files, n).map(|hit| hit.map(|p| line(&p)).unwrap_or_default());
            }
            _ => {}
        }
        // `dpkg-query -W … PKG` of a package that is not installed fails and prints nothing
        // (locales' `locales-all` check).
        if args.first() == Some(&"dpkg-query") && self.status.and_then(|probe| probe(argv)) == Some(false) {
            return Some(String::new());
        }
        if let Some(v) = expr(&args) {
            return Some(line(&v));
        }
        if let Some(p) = text::path_part(argv) {
            return Some(line(&p));
        }
        if let Some(numbers) = text::seq(argv) {
            return Some(numbers);
        }
        // `ls` of relative names in a known working directory (ldap-account-manager's `cd DIR;
        // files=`ls -a default.*``): asked of the caller as absolute paths, printed as given.
        let relative = |a: &String| !a.starts_with('-') && !a.starts_with('/');
        if args.first().is_some_and(|a| a.rsplit('/').next() == Some("ls")) && argv[1..].iter().any(relative)
        {
            let prefixes: Option<Vec<String>> = argv[1..]
                .iter()
                .filter(|a| relative(a))
                .map(|a| self.cwd_prefix(a))
                .collect();
            // One working directory: every prefix is the same.
            let prefix = prefixes?.pop()?;
            let absolute: Vec<String> = std::iter::once(argv[0].clone())
                .chain(argv[1..].iter().map(|a| {
                    if relative(a) {
                        format!("{prefix}{a}")
                    } else {
                        a.clone()
                    }
                }))
                .collect();
            return self.output.and_then(|probe| probe(&absolute)).map(|text| {
                text.lines()
                    .map(|l| format!("{}\n", l.strip_prefix(&prefix).unwrap_or(l)))
                    .collect()
            });
        }
        // What the caller can answer (`mktemp` makes its file in the image, `dpkg -L`).
        if let Some(text) = self.output.and_then(|probe| probe(argv)) {
            // find prints in the order it meets directory entries: taken where that cannot
            // matter (one line, or `| sort` after it).
            if args.first() == Some(&"find") && text.lines().nth(1).is_some() && !self.sorted_after {
                return None;
            }
            return Some(text);
        }
        self.stdin.as_deref().and_then(|input| text::filter(argv, input))
    }
}

impl Eval<'_> {
    /// An environment variable's value, empty when unset; `None` while it is not known.
    fn environment_value(&self, name: &str) -> Option<String> {
        match self.var(name) {
            Some(Value::Known(v)) => Some(v),
            Some(Value::Unknown(_)) => None,
            None => Some(String::new()),
        }
    }

    /// `locale`: the categories as glibc prints them from `LANG`, `LC_*` and `LC_ALL` (a
    /// category set by its own variable unquoted, one derived from `LC_ALL` or `LANG` quoted).
    /// `None` while one of them is not known.
    fn locale_settings(&self) -> Option<String> {
        const CATEGORIES: [&str; 12] = [
            "LC_CTYPE",
            "LC_NUMERIC",
            "LC_TIME",
            "LC_COLLATE",
            "LC_MONETARY",
            "LC_MESSAGES",
            "LC_PAPER",
            "LC_NAME",
            "LC_ADDRESS",
            "LC_TELEPHONE",
            "LC_MEASUREMENT",
            "LC_IDENTIFICATION",
        ];
        let lang = self.environment_value("LANG")?;
        let all = self.environment_value("LC_ALL")?;
        let mut out = format!("LANG={lang}\nLANGUAGE={}\n", self.environment_value("LANGUAGE")?);
        for category in CATEGORIES {
            let own = self.environment_value(category)?;
            if all.is_empty() && !own.is_empty() {
                out.push_str(&format!("{category}={own}\n"));
            } else {
                let value = [&all, &own, &lang]
                    .into_iter()
                    .find(|v| !v.is_empty())
                    .map_or("POSIX", |v| v.as_str());
                out.push_str(&format!("{category}=\"{value}\"\n"));
            }
        }
        out.push_str(&format!("LC_ALL={all}\n"));
        Some(out)
    }

    /// `locale charmap`: the character set of the `LC_CTYPE` locale in force, where it is the C
    /// locale or names its own (`C.UTF-8`, `en_US.UTF-8`): the image's compiled locales are not
    /// read.
    fn locale_charmap(&self) -> Option<String> {
        let ctype = [
            self.environment_value("LC_ALL")?,
            self.environment_value("LC_CTYPE")?,
            self.environment_value("LANG")?,
        ]
        .into_iter()
        .find(|v| !v.is_empty())
        .unwrap_or_default();
        match ctype.as_str() {
            "" | "C" | "POSIX" => Some("ANSI_X3.4-1968".to_owned()),
            _ => {
                let (_, charset) = ctype.split_once('.')?;
                let charset = charset.split('@').next().unwrap_or(charset);
                match charset.to_ascii_lowercase().replace('-', "").as_str() {
                    "utf8" => Some("UTF-8".to_owned()),
                    _ => None,
                }
            }
        }
    }
}

/// The status of a command whose output [`Eval::answer`] told: grep's is whether a line was
/// selected; the text filters' and output builtins' is success. Commands whose status carries
/// their result otherwise (`expr`, `which`, `dpkg-query`, `awk`'s `exit`) stay unknown.
pub(super) fn answered_status(argv: &[String], stdin: Option<&str>, printed: &str) -> Option<bool> {
    let name = argv.first()?;
    match name.as_str() {
        // `id -u NAME` prints nothing only when there is no such user (frr's
        // `quaggauid=\`id -u quagga 2>/dev/null || echo 0\``).
        "id" => Some(!printed.is_empty()),
        // So does readlink, for a path that is no link (or cannot be resolved).
        "readlink" => Some(!printed.is_empty()),
        // Answered only for paths the image has.
        "stat" | "getfacl" => Some(true),
        "grep" | "egrep" | "fgrep" => text::grep_matches(argv, stdin.unwrap_or_default()),
        "echo" | "printf" | "cat" | "sed" | "tr" | "cut" | "sort" | "uniq" | "head" | "tail" | "wc"
        | "iconv" | "xargs" | "basename" | "dirname" | "pwd" | "uname" | "locale" | "whoami" | "date" => {
            Some(true)
        }
        // Told only once its file is made (setupcon's `TMPFILE=$(mktemp /tmp/…) || TMPFILE=$(mktemp
        // /run/…) || …` stops at the first).
        "mktemp" => Some(true),
        _ => None,
    }
}

/// `expr A OP B` on integers (`priority=$(expr $priority - 1)`).
fn expr(args: &[&str]) -> Option<String> {
    let ["expr", a, op, b] = args else { return None };
    let (a, b): (i64, i64) = (a.parse().ok()?, b.parse().ok()?);
    Some(
        match *op {
            "+" => a.checked_add(b)?,
            "-" => a.checked_sub(b)?,
            "*" => a.checked_mul(b)?,
            "/" if b != 0 => a / b,
            _ => return None,
        }
        .to_string(),
    )
}
