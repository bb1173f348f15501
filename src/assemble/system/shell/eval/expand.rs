//! Expansion: variables and positional parameters, `${…}` forms, `$(…)`, field splitting and
//! pathname expansion against the image.

use super::super::ast::{Part, Piece, Word};
use super::super::glob::glob_match;
use super::{Eval, Value, is_machine_dependent};

/// `IFS` as the shell starts with it.
pub(super) const DEFAULT_IFS: &str = " \t\n";

/// What field splitting last met in a word: nothing yet, text, white space of `IFS`, or one of
/// its other characters.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Delimited {
    Start,
    No,
    Space,
    Other,
}

impl<'f> Eval<'f> {
    pub(super) fn var(&self, name: &str) -> Option<Value> {
        if let Ok(n) = name.parse::<usize>() {
            if n > 0 {
                return Some(
                    self.positional
                        .get(n - 1)
                        .cloned()
                        .unwrap_or(Value::Known(String::new())),
                );
            }
            // A helper script's `$0` is its path.
            if let Some(v) = self.vars.get("0") {
                return Some(v.clone());
            }
            // dpkg runs the script from its database: `$0` is its path there.
            return Some(Value::Known(
                match (
                    self.vars.get("DPKG_MAINTSCRIPT_PACKAGE"),
                    self.vars.get("DPKG_MAINTSCRIPT_NAME"),
                ) {
                    (Some(Value::Known(pkg)), Some(Value::Known(script))) => {
                        format!("/var/lib/dpkg/info/{pkg}.{script}")
                    }
                    _ => "postinst".into(),
                },
            ));
        }
        match name {
            "DPKG_ROOT" => Some(Value::Known(String::new())),
            "#" => Some(Value::Known(self.positional.len().to_string())),
            // The last command's status, where the walk knows it succeeded (a failure's code
            // is not known: a test gives 1, debconf 10, …).
            "?" => Some(match self.prev_status {
                Some(true) => Value::Known("0".to_owned()),
                Some(false) => match self.prev_code {
                    Some(code) => Value::Known(code.to_string()),
                    None => Value::Unknown(super::FAILED_STATUS.to_owned()),
                },
                None => Value::Unknown("$? (the last command's status)".to_owned()),
            }),
            // The shell's process ids and option flags: never an unset (empty) variable.
            "$" | "!" | "-" => Some(Value::Unknown(format!("${name} (the shell's own)"))),
            // bash's random number, unless the script set it (dash has none: an unset
            // variable). What is made from it belongs to the machine (debsecan-create-cron's
            // `MIN=$(($RANDOM % 60))` for its cron entry's minute).
            "RANDOM" if self.bash && !self.vars.contains_key(name) => {
                Some(Value::Unknown(format!("{}$RANDOM", super::RANDOM_DEPENDENT)))
            }
            "@" | "*" => Some(
                match self.positional.iter().find(|v| matches!(v, Value::Unknown(_))) {
                    Some(unknown) => unknown.clone(),
                    None => Value::Known(
                        self.positional
                            .iter()
                            .filter_map(|v| match v {
                                Value::Known(s) => Some(s.as_str()),
                                Value::Unknown(_) => None,
                            })
                            .collect::<Vec<_>>()
                            .join(" "),
                    ),
                },
            ),
            _ => self.vars.get(name).cloned().or_else(|| self.unset_value(name)),
        }
    }

    /// A variable whose value is not known because no assignment the walk saw set it: one a
    /// sourced file holding the host's name (or a random value) may have set is such a value.
    fn not_assigned(&self, name: &str) -> Value {
        match &self.sourced_machine {
            Some(why) if !self.script_assigned.contains(name) => Value::Unknown(format!("{why}: ${name}")),
            _ => Value::Unknown(format!("${name}")),
        }
    }

    /// A variable no walked assignment set: empty in a dpkg-run script, except what the
    /// environment dpkg is started with may carry.
    fn unset_value(&self, name: &str) -> Option<Value> {
        const ENVIRONMENT: &[&str] = &[
            "HOME",
            "PATH",
            "USER",
            "LOGNAME",
            "TERM",
            "SHELL",
            "PWD",
            "OLDPWD",
            "LANG",
            "LANGUAGE",
            "LC_ALL",
            "TZ",
            "DEBIAN_FRONTEND",
            "DEBIAN_PRIORITY",
            "DEBCONF_NONINTERACTIVE_SEEN",
        ];
        // debconf's frontend re-runs the script with its own variables set.
        let environment = ENVIRONMENT.contains(&name)
            || name.starts_with("LC_")
            || name.starts_with("DEBCONF_")
            || name == "DEBIAN_HAS_FRONTEND";
        // After sourcing a file that holds the host's name or a random value, a variable the
        // script never assigns itself may come from it.
        let from_machine_file = self.sourced_machine.is_some() && !self.script_assigned.contains(name);
        (self.unset == super::UnsetVars::Empty && !environment && !from_machine_file)
            .then(|| Value::Known(String::new()))
    }

    /// Tilde expansion of a word's unquoted leading `~` or `~USER` (up to the first `/`): `$HOME`,
    /// or the user's home in the image's `/etc/passwd` (proftpd-core's `~ftp/welcome.msg`); a
    /// user the file does not name leaves the word as written, as the shell does. `None`: no
    /// tilde to expand.
    fn tilde(&self, w: &Word) -> Option<Word> {
        let first = w.0.first()?;
        let Part::Lit(text) = &first.part else {
            return None;
        };
        if first.quoted || !text.starts_with('~') {
            return None;
        }
        let (name, rest) = match text[1..].find('/') {
            Some(i) => (&text[1..=i], &text[i + 1..]),
            None => (&text[1..], ""),
        };
        // The prefix runs to the first unquoted `/`: one that goes on into an expansion or a
        // quoted part (`~$USER`, `~"x"`) is not expanded.
        if !text.contains('/') && w.0.len() > 1 {
            return None;
        }
        let home = if name.is_empty() {
            match self.var("HOME") {
                Some(Value::Known(h)) => Part::Lit(h),
                _ => Part::Unknown("~ ($HOME)".into()),
            }
        } else {
            let passwd = self.source.and_then(|read| read("/etc/passwd"));
            match passwd {
                None => Part::Unknown(format!("~{name}")),
                Some(text) => {
                    let home = text.lines().find_map(|l| {
                        let f: Vec<&str> = l.split(':').collect();
                        (f.first() == Some(&name) && f.len() >= 7).then(|| f[5].to_owned())
                    });
                    Part::Lit(home?)
                }
            }
        };
        let mut pieces = vec![Piece {
            part: home,
            quoted: true,
        }];
        if text.contains('/') {
            pieces.push(Piece {
                part: Part::Lit(format!("/{rest}")),
                quoted: false,
            });
        }
        pieces.extend(w.0[1..].iter().cloned());
        Some(Word(pieces))
    }

    /// Expands a word into fields (unquoted expansions split on whitespace).
    pub(super) fn expand_split(&mut self, w: &Word) -> Vec<Value> {
        if let Some(expanded) = self.tilde(w) {
            return self.expand_split(&expanded);
        }
        let mut fields: Vec<Value> = Vec::new();
        let mut cur: Option<Value> = None;
        let append = |cur: &mut Option<Value>, v: Value| {
            *cur = Some(match (cur.take(), v) {
                (None, v) => v,
                (Some(Value::Known(a)), Value::Known(b)) => Value::Known(a + &b),
                // What comes from the host's name, or is random, decides where the word belongs.
                (Some(Value::Unknown(a)), Value::Unknown(b))
                    if !is_machine_dependent(&a) && is_machine_dependent(&b) =>
                {
                    Value::Unknown(b)
                }
                (Some(Value::Unknown(a)), _) => Value::Unknown(a),
                (_, Value::Unknown(b)) => Value::Unknown(b),
            });
        };
        // `"$@"`: each positional parameter is a field of its own, none when there are none
        // (a word that is only `"$@"`, and empty quotes around it, then makes no field).
        let quoted_at =
            |p: &Piece| p.quoted && matches!(&p.part, Part::Var { name, default: None } if name == "@");
        let lone_empty_at = self.positional.is_empty()
            && w.0.iter().any(quoted_at)
            && w.0
                .iter()
                .all(|p| quoted_at(p) || matches!(&p.part, Part::Lit(t) if t.is_empty()));
        // A quoted part holding a pattern character: its characters are literal, which the
        // field's text alone cannot say, so the word is not expanded as a pathname.
        let mut quoted_pattern = false;
        // The last delimiter field splitting met, while no text came after it.
        let mut delimited = Delimited::Start;
        for piece in &w.0 {
            if quoted_at(piece) {
                for (i, p) in self.positional.clone().into_iter().enumerate() {
                    if i > 0
                        && let Some(c) = cur.take()
                    {
                        fields.push(c);
                    }
                    append(&mut cur, p);
                    delimited = Delimited::No;
                }
                continue;
            }
            let v = self.expand_part(&piece.part);
            if piece.quoted && matches!(&v, Value::Known(s) if s.contains(['*', '?', '['])) {
                quoted_pattern = true;
            }
            match (&v, piece.quoted, &piece.part) {
                (Value::Known(s), false, Part::Var { .. } | Part::Alt { .. } | Part::Sub(_))
                    // A quoted part of `${x:+"a b"}` is not split (an approximation: the
                    // whole alternative then stays one field).
                    if !matches!(&piece.part, Part::Alt { word, .. } if word.0.iter().any(|p| p.quoted)) =>
                {
                    self.split_fields(s, &mut fields, &mut cur, &mut delimited);
                }
                // An unquoted alternative that expands to nothing is no field.
                (Value::Known(s), false, Part::Alt { .. }) if s.is_empty() => {}
                _ => {
                    append(&mut cur, v);
                    delimited = Delimited::No;
                }
            }
        }
        if lone_empty_at {
            return Vec::new();
        }
        if let Some(c) = cur {
            fields.push(c);
        } else if w.0.iter().any(|p| p.quoted) {
            fields.push(Value::Known(String::new()));
        }
        match self.globs {
            Some(globs) if !quoted_pattern => fields
                .into_iter()
                .flat_map(|f| match &f {
                    // An absolute pattern, or a relative one in a known working directory
                    // (ldap-account-manager's `cd …/config-samples/pdf; files=`ls -a default.*``,
                    // shellinabox's `cd …/options-enabled; ln -s ../options-available/*.css .`):
                    // the names as the shell gives them, relative like the pattern. In a
                    // working directory not known, what it names is not known either.
                    Value::Known(s) if s.contains(['*', '?', '[']) => {
                        let prefix = if s.starts_with('/') {
                            String::new()
                        } else {
                            match self.known_cwd() {
                                Some(cwd) => format!("{}/", cwd.trim_end_matches('/')),
                                None => {
                                    return vec![Value::Unknown(format!(
                                        "the files {s} names (in a working directory not known)"
                                    ))];
                                }
                            }
                        };
                        match globs(&format!("{prefix}{s}")) {
                            Some(hits) if !hits.is_empty() => hits
                                .into_iter()
                                .map(|h| {
                                    Value::Known(h.strip_prefix(&prefix).map(str::to_owned).unwrap_or(h))
                                })
                                .collect(),
                            Some(_) => vec![f],
                            None => vec![Value::Unknown(format!("the files {s} names"))],
                        }
                    }
                    _ => vec![f],
                })
                .collect(),
            _ => fields,
        }
    }

    /// Field splitting of an unquoted expansion's text `s` as POSIX has it with `$IFS`: runs of
    /// its white space end a field, each of its other characters ends one even when empty
    /// (`IFS=,` over `a,,b`: three fields); the field open before `s` is continued by its first
    /// characters, and the last one stays open for what follows. `IFS` set empty splits nothing.
    fn split_fields(
        &self,
        s: &str,
        fields: &mut Vec<Value>,
        cur: &mut Option<Value>,
        delimited: &mut Delimited,
    ) {
        let ifs = match self.vars.get("IFS") {
            Some(Value::Known(ifs)) => ifs.as_str(),
            // Not known (set from what the walk cannot read): the default.
            _ => DEFAULT_IFS,
        };
        let push_char = |cur: &mut Option<Value>, c: char| match cur {
            Some(Value::Known(text)) => text.push(c),
            Some(Value::Unknown(_)) => {}
            None => *cur = Some(Value::Known(c.to_string())),
        };
        for c in s.chars() {
            if !ifs.contains(c) {
                push_char(cur, c);
                *delimited = Delimited::No;
            } else if c.is_ascii_whitespace() {
                if let Some(field) = cur.take() {
                    fields.push(field);
                }
                if *delimited == Delimited::No {
                    *delimited = Delimited::Space;
                }
            } else {
                match cur.take() {
                    Some(field) => fields.push(field),
                    // Nothing between two such delimiters, or before the first one at the
                    // word's start: an empty field.
                    None if matches!(*delimited, Delimited::Start | Delimited::Other) => {
                        fields.push(Value::Known(String::new()))
                    }
                    None => {}
                }
                *delimited = Delimited::Other;
            }
        }
    }

    /// Expands a word without splitting (assignments, `case` subjects).
    pub(super) fn expand_one(&mut self, w: &Word) -> Value {
        if let Some(expanded) = self.tilde(w) {
            return self.expand_one(&expanded);
        }
        let mut out = String::new();
        for piece in &w.0 {
            match self.expand_part(&piece.part) {
                Value::Known(s) => out.push_str(&s),
                u => return u,
            }
        }
        Value::Known(out)
    }

    pub(super) fn expand_part(&mut self, p: &Part) -> Value {
        match p {
            Part::Lit(s) => Value::Known(s.clone()),
            Part::Var { name, default } => match (self.var(name), default) {
                (Some(Value::Known(s)), Some(d)) if s.is_empty() => self.expand_one(d),
                (Some(v), _) => v,
                (None, Some(d)) => self.expand_one(d),
                (None, None) => self.not_assigned(name),
            },
            Part::Alt { name, colon, word } => match self.var(name) {
                Some(Value::Known(s)) if s.is_empty() && *colon => Value::Known(String::new()),
                Some(Value::Known(_)) => self.expand_one(word),
                Some(Value::Unknown(u)) => Value::Unknown(u),
                None => self.not_assigned(name),
            },
            Part::Sub(nodes) => self.substitute(nodes),
            Part::Arith(expr) => match self.expand_one(expr) {
                Value::Known(text) => match super::arith::evaluate(&text, self) {
                    Ok(n) => Value::Known(n.to_string()),
                    Err(why) => Value::Unknown(format!("$(({text})): {why}")),
                },
                unknown => unknown,
            },
            Part::Trim {
                name,
                suffix,
                longest,
                pattern,
            } => {
                // A quoted pattern character is literal, which glob_match cannot say: unknown.
                let quoted_glob = pattern
                    .0
                    .iter()
                    .any(|p| p.quoted && matches!(&p.part, Part::Lit(l) if l.contains(['*', '?', '['])));
                let value = self
                    .var(name)
                    .unwrap_or_else(|| Value::Unknown(format!("${name}")));
                match (value, self.expand_one(pattern)) {
                    (Value::Known(s), Value::Known(p)) if !quoted_glob => {
                        Value::Known(trim(&s, &p, *suffix, *longest))
                    }
                    (Value::Unknown(u), _) | (_, Value::Unknown(u)) => Value::Unknown(u),
                    _ => Value::Unknown(format!("${{{name}…}} with a quoted pattern")),
                }
            }
            Part::Unknown(s) => Value::Unknown(s.clone()),
        }
    }
}

/// `${s#p}`, `${s##p}`, `${s%p}`, `${s%%p}`: the shortest or longest prefix or suffix matching
/// the glob `p` removed (nothing removed when none matches).
fn trim(s: &str, p: &str, suffix: bool, longest: bool) -> String {
    let mut cuts: Vec<usize> = s.char_indices().map(|(i, _)| i).chain([s.len()]).collect();
    // Prefixes are tried shortest first, suffixes from the end; `longest` reverses the order.
    if suffix {
        cuts.reverse();
    }
    if longest {
        cuts.reverse();
    }
    for i in cuts {
        let (head, tail) = s.split_at(i);
        if suffix && glob_match(p, tail) {
            return head.to_owned();
        }
        if !suffix && glob_match(p, head) {
            return tail.to_owned();
        }
    }
    s.to_owned()
}

impl super::arith::ArithVars for Eval<'_> {
    fn get(&mut self, name: &str) -> Result<i64, String> {
        match self.var(name) {
            Some(Value::Known(s)) if s.trim().is_empty() => Ok(0),
            Some(Value::Known(s)) => {
                super::arith::parse_number(&s).ok_or_else(|| format!("${name} ({s:?}) is not a number"))
            }
            Some(Value::Unknown(why)) => Err(why),
            None => Err(format!("${name}")),
        }
    }

    fn set(&mut self, name: &str, value: i64) {
        self.vars.insert(name.to_owned(), Value::Known(value.to_string()));
    }
}
