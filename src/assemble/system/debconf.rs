//! debconf as a fresh, non-interactive install sees it, for the scripts' `db_*` calls.
//!
//! With no preseeded answers and nothing asked (the noninteractive frontend, what image builds
//! run), every question holds its template's `Default` (empty without one). A package's `config`
//! script runs before its postinst (dpkg-preconfigure, then again when the postinst loads
//! confmodule) and may `db_set` answers from what it finds in the system; the postinst then reads
//! them with `db_get`. This keeps that database so the scripts' branches on answers are taken as
//! they would be (openssh-server builds `sshd_config` from two answers). The database itself
//! (`/var/cache/debconf`) is a cache the image does not need and is not written.

use std::cell::RefCell;
use std::collections::BTreeMap;

use super::InstalledPackage;
use super::shell::{
    DebconfReply, HOST_DEPENDENT, RANDOM_DEPENDENT, UNKNOWN_ARG, UNKNOWN_HOST_ARG, UNKNOWN_RANDOM_ARG, Value,
    is_unknown_arg,
};
use crate::debian::deb822;

/// Every question of the installed packages' templates, with its current value.
#[derive(Clone)]
pub struct Debconf {
    values: RefCell<BTreeMap<String, Question>>,
    /// The questions `db_input` gave the frontend since the last `db_go`.
    pending: RefCell<Vec<String>>,
}

#[derive(Debug, Clone)]
struct Question {
    value: String,
    default: String,
    seen: bool,
    /// The package whose templates define it.
    owner: String,
    /// Every package whose templates define it (a shared question has several), sorted.
    owners: std::collections::BTreeSet<String>,
    /// The template's `Type`, `Choices` and untranslated `Choices-C` (with `${VAR}`s), and the
    /// `db_subst` values.
    kind: String,
    choices: String,
    choices_c: Option<String>,
    vars: BTreeMap<String, String>,
}

impl Question {
    /// `Debconf::Question::choices`: the template's choices with the `db_subst` values in
    /// (`\${VAR}` kept as `${VAR}`, a variable never set expands to nothing).
    fn choices(&self) -> String {
        self.expand(&self.choices)
    }

    fn expand(&self, template: &str) -> String {
        let mut out = String::new();
        let mut rest = template;
        while let Some(at) = rest.find("${") {
            let Some(len) = rest[at + 2..].find('}') else {
                break;
            };
            let name = &rest[at + 2..at + 2 + len];
            if name.is_empty() || name.contains('{') {
                break;
            }
            let escaped = rest[..at].ends_with('\\');
            out.push_str(&rest[..if escaped { at - 1 } else { at }]);
            if escaped {
                out.push_str(&format!("${{{name}}}"));
            } else if let Some(v) = self.vars.get(name) {
                out.push_str(v);
            }
            rest = &rest[at + 3 + len..];
        }
        out.push_str(rest);
        out
    }

    /// `choices_split` with translations off, as the noninteractive select element takes them
    /// (`Choices-C` when the template has it: fontconfig's `hintslight`): split at `, ` (any
    /// blanks after the comma), `\,` and `\ ` escaped.
    fn choices_split(&self) -> Vec<String> {
        let text = self.expand(self.choices_c.as_deref().unwrap_or(&self.choices));
        let mut items = Vec::new();
        let mut item = String::new();
        let mut chars = text.chars().peekable();
        while let Some(c) = chars.next() {
            match c {
                '\\' if matches!(chars.peek(), Some(',' | ' ')) => item.push(chars.next().unwrap_or(' ')),
                ',' if chars.peek().is_some_and(|n| n.is_whitespace()) => {
                    while chars.peek().is_some_and(|n| n.is_whitespace()) {
                        chars.next();
                    }
                    items.push(std::mem::take(&mut item));
                }
                c => item.push(c),
            }
        }
        if !item.is_empty() {
            items.push(item);
        }
        items
    }
}

impl Debconf {
    /// The questions of every package's `templates` member, each at its default.
    pub fn new(packages: &[InstalledPackage]) -> Self {
        let mut values: BTreeMap<String, Question> = BTreeMap::new();
        for pkg in packages {
            let Some(text) = pkg.member_text("templates") else {
                continue;
            };
            for para in deb822::apt_paragraphs(text) {
                if let Some(name) = para.get("template") {
                    let default = para.get("default").cloned().unwrap_or_default();
                    let mut owners = values
                        .get(name.trim())
                        .map(|q| q.owners.clone())
                        .unwrap_or_default();
                    owners.insert(pkg.name.clone());
                    values.insert(
                        name.trim().to_owned(),
                        Question {
                            value: default.clone(),
                            default,
                            seen: false,
                            owner: pkg.name.clone(),
                            owners,
                            kind: para.get("type").map(|t| t.trim().to_owned()).unwrap_or_default(),
                            choices: para
                                .get("choices")
                                .map(|c| c.trim().to_owned())
                                .unwrap_or_default(),
                            choices_c: para.get("choices-c").map(|c| c.trim().to_owned()),
                            vars: BTreeMap::new(),
                        },
                    );
                }
            }
        }
        Debconf {
            values: RefCell::new(values),
            pending: RefCell::new(Vec::new()),
        }
    }

    /// A package's config script could not be walked (not text, not a shell script, not
    /// parsed): whatever it would have set is not known (postfix's Perl config computes
    /// `mailname`; its postinst then writes `main.cf` from it). Where every set the script's
    /// text holds names its question literally (Perl's and Python's `set("NAME", …)`, the
    /// protocol's `SET NAME …`), only those answers are unknown: the others keep their defaults,
    /// as noninteractive debconf leaves what is only asked (dokuwiki's `writeconf`). Otherwise
    /// (a name computed, or a script that is not text) none of its package's answers is known.
    pub fn config_not_walked(&self, package: &str, config: &[u8]) {
        let names = literal_set_names(config);
        for q in self
            .values
            .borrow_mut()
            .iter_mut()
            .filter(|(name, q)| q.owner == package && names.as_ref().is_none_or(|n| n.contains(*name)))
            .map(|(_, q)| q)
        {
            q.value = UNKNOWN_ARG.to_owned();
        }
    }

    /// What a `db_*` command leaves in `RET` (and its effect on the database); `None` for a
    /// command this does not answer (the script's own definition, from confmodule, then runs).
    pub fn answer(&self, argv: &[String]) -> Option<DebconfReply> {
        let (name, args) = argv.split_first()?;
        if matches!(name.as_str(), "db_get" | "db_fget" | "db_metaget")
            && args.iter().any(|a| is_unknown_arg(a))
        {
            return Some(DebconfReply::ok(Value::Unknown(format!(
                "{name} of a question not known while building"
            ))));
        }
        let mut values = self.values.borrow_mut();
        let known = |s: &str| Some(DebconfReply::ok(Value::Known(s.to_owned())));
        match (name.as_str(), args) {
            ("db_get", [q]) => current(&values, q),
            ("db_metaget", [q, field]) if field == "value" => current(&values, q),
            ("db_metaget", [q, field]) if field == "owners" || field == "choices" => match values.get(q) {
                Some(question) if field == "owners" => {
                    known(&question.owners.iter().cloned().collect::<Vec<_>>().join(", "))
                }
                Some(question) => known(&question.choices()),
                None => missing(q),
            },
            ("db_subst", [q, var, rest @ ..]) => match values.get_mut(q) {
                Some(question) => {
                    question.vars.insert(var.clone(), rest.join(" "));
                    known("")
                }
                None => missing(q),
            },
            ("db_set", [q, rest @ ..]) => match values.get_mut(q) {
                Some(question) => {
                    // A part not known makes the whole answer unknown (kept as the marker); one
                    // from the host's name makes it the host's, a random one random.
                    question.value = if rest.iter().any(|r| r == UNKNOWN_HOST_ARG) {
                        UNKNOWN_HOST_ARG.to_owned()
                    } else if rest.iter().any(|r| r == UNKNOWN_RANDOM_ARG) {
                        UNKNOWN_RANDOM_ARG.to_owned()
                    } else if rest.iter().any(|r| is_unknown_arg(r)) {
                        UNKNOWN_ARG.to_owned()
                    } else {
                        rest.join(" ")
                    };
                    known("value set")
                }
                None => missing(q),
            },
            ("db_reset", [q]) => {
                if let Some(question) = values.get_mut(q) {
                    question.value = question.default.clone();
                }
                known("")
            }
            // `db_register TEMPLATE QUESTION`: a question of its own, at the template's
            // default, unless it exists.
            ("db_register", [template, q]) => {
                let Some(t) = values.get(template).cloned() else {
                    return missing(template);
                };
                values.entry(q.clone()).or_insert(Question {
                    value: t.default.clone(),
                    seen: false,
                    ..t
                });
                known("")
            }
            ("db_fget", [q, flag]) if flag == "seen" => match values.get(q) {
                Some(question) => known(if question.seen { "true" } else { "false" }),
                None => missing(q),
            },
            ("db_fset", [q, flag, v]) if flag == "seen" => {
                if let Some(question) = values.get_mut(q) {
                    question.seen = v == "true";
                }
                known("")
            }
            // Nothing is shown: the noninteractive frontend skips every question, but its
            // element still runs at `db_go`.
            ("db_input", [_, q]) if values.contains_key(q) => {
                self.pending.borrow_mut().push(q.clone());
                known("question skipped")
            }
            ("db_input", _) => known("question skipped"),
            // The noninteractive frontend's elements at `db_go`: a select question whose value is
            // not one of its choices takes the first (`Element::Noninteractive::Select`); the
            // others keep their values.
            ("db_go", _) => {
                for q in self.pending.borrow_mut().drain(..) {
                    if let Some(question) = values.get_mut(&q)
                        && question.kind == "select"
                        && !is_unknown_arg(&question.value)
                    {
                        let choices = question.choices_split();
                        if !choices.contains(&question.value) {
                            question.value = choices.into_iter().next().unwrap_or_default();
                        }
                    }
                }
                known("ok")
            }
            ("db_version", _) => known("2.0"),
            (
                "db_capb"
                | "db_title"
                | "db_settitle"
                | "db_beginblock"
                | "db_endblock"
                | "db_stop"
                | "db_progress"
                | "db_info"
                | "db_unregister"
                | "db_clear"
                | "db_purge"
                | "db_x_loadtemplatefile"
                | "db_x_save",
                _,
            ) => known(""),
            _ => None,
        }
    }
}

/// A question's current value (`db_get`, `db_metaget Q value`).
fn current(values: &BTreeMap<String, Question>, q: &str) -> Option<DebconfReply> {
    let Some(question) = values.get(q) else {
        return missing(q);
    };
    Some(DebconfReply::ok(if question.value == UNKNOWN_HOST_ARG {
        Value::Unknown(format!(
            "{HOST_DEPENDENT}debconf question {q} (set from the host's name)"
        ))
    } else if question.value == UNKNOWN_RANDOM_ARG {
        Value::Unknown(format!(
            "{RANDOM_DEPENDENT}debconf question {q} (set from a random value)"
        ))
    } else if question.value == UNKNOWN_ARG {
        Value::Unknown(format!(
            "debconf question {q} (set from a value not known while building)"
        ))
    } else {
        Value::Known(question.value.clone())
    }))
}

/// debconf's answer about a question no installed package's templates define: status 10, and
/// `RET` the whole reply line (confmodule strips a one-digit code only).
fn missing(q: &str) -> Option<DebconfReply> {
    Some(DebconfReply {
        ret: Value::Known(format!("10 {q} doesn't exist")),
        ok: false,
    })
}

/// The questions a config script in another language sets, where each of its set calls names
/// one literally; `None` where one does not (or the script is not text).
fn literal_set_names(config: &[u8]) -> Option<std::collections::BTreeSet<String>> {
    let text = std::str::from_utf8(config).ok()?;
    // Every call that may set a value: `set(`, `db_set`, the protocol's `SET`, `register`.
    let any = regex::Regex::new(r"\b(?:set\s*\(|db_set\b|SET\b|register\b)").ok()?;
    let literal = regex::Regex::new(r#"\bset\s*\(\s*(?:"([\w./+-]+)"|'([\w./+-]+)')\s*,"#).ok()?;
    let names: std::collections::BTreeSet<String> = literal
        .captures_iter(text)
        .filter_map(|c| c.get(1).or(c.get(2)).map(|m| m.as_str().to_owned()))
        .collect();
    (any.find_iter(text).count() == literal.find_iter(text).count()).then_some(names)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn package(templates: &str) -> InstalledPackage {
        let mut p = InstalledPackage {
            name: "srv".into(),
            version: "1".into(),
            architecture: "amd64".into(),
            control_fields: vec![],
            members: BTreeMap::new(),
            files: vec![],
            round: super::super::Round::default(),
            after_awaited_triggers: false,
        };
        p.members
            .insert("templates".into(), templates.as_bytes().to_vec());
        p
    }

    fn argv(words: &[&str]) -> Vec<String> {
        words.iter().map(|w| w.to_string()).collect()
    }

    /// A config in another language (dokuwiki's Perl) that sets questions by literal names
    /// leaves those answers unknown and the others at their defaults; one set with a computed
    /// name (or a config that is not text) leaves them all unknown.
    #[test]
    fn a_config_not_walked_loses_the_answers_it_sets() {
        let templates = "Template: srv/password\nType: password\nDescription: x\n\n\
                         Template: srv/writeconf\nType: boolean\nDefault: false\nDescription: x\n";
        let known = |db: &Debconf, q: &str| match db.answer(&argv(&["db_get", q])) {
            Some(DebconfReply {
                ret: Value::Known(v), ..
            }) if !is_unknown_arg(&v) => Some(v),
            _ => None,
        };
        let literal = b"#!/usr/bin/perl -w\ninput('medium', 'srv/writeconf');\nreset('srv/x');\n\
                        set(\"srv/password\", \"fix\");\nset( 'srv/password', $p);\n";
        let db = Debconf::new(&[package(templates)]);
        db.config_not_walked("srv", literal);
        assert_eq!(known(&db, "srv/writeconf").as_deref(), Some("false"));
        assert_eq!(known(&db, "srv/password"), None);
        for computed in [
            &b"set($question, 1);\n"[..],
            b"print \"SET srv/writeconf true\\n\";\n",
            b"\xff\xfe",
        ] {
            let db = Debconf::new(&[package(templates)]);
            db.config_not_walked("srv", computed);
            assert_eq!(
                known(&db, "srv/writeconf"),
                None,
                "{}",
                String::from_utf8_lossy(computed)
            );
        }
    }

    /// lightdm's config: the shared display-manager question has no default and its choices
    /// are `${choices}`, filled with its owners by `db_subst`; `db_input` then `db_go` in the
    /// noninteractive frontend give a select question outside its choices the first one.
    #[test]
    fn a_select_question_takes_its_first_choice_at_go() {
        let mut p = package(
            "Template: shared/default-x-display-manager\nType: select\nChoices: ${choices}\nDescription: x\n\n\
             Template: lightdm/daemon_name\nType: string\nDefault: /usr/sbin/lightdm\nDescription: x\n",
        );
        p.name = "lightdm".into();
        let db = Debconf::new(&[p]);
        let ret = |words: &[&str]| match db.answer(&argv(words)) {
            Some(DebconfReply {
                ret: Value::Known(v), ..
            }) => v,
            other => panic!("{words:?}: {other:?}"),
        };
        assert_eq!(
            ret(&["db_metaget", "shared/default-x-display-manager", "owners"]),
            "lightdm"
        );
        assert_eq!(
            ret(&["db_metaget", "shared/default-x-display-manager", "choices"]),
            ""
        );
        ret(&[
            "db_subst",
            "shared/default-x-display-manager",
            "choices",
            "lightdm",
        ]);
        assert_eq!(ret(&["db_get", "shared/default-x-display-manager"]), "");
        ret(&["db_input", "high", "shared/default-x-display-manager"]);
        // Not before `db_go`.
        assert_eq!(ret(&["db_get", "shared/default-x-display-manager"]), "");
        ret(&["db_go"]);
        assert_eq!(ret(&["db_get", "shared/default-x-display-manager"]), "lightdm");
        // A value among the choices stays; an escaped comma is part of a choice.
        ret(&[
            "db_subst",
            "shared/default-x-display-manager",
            "choices",
            "gdm3, a\\, b, lightdm",
        ]);
        ret(&["db_set", "shared/default-x-display-manager", "a, b"]);
        ret(&["db_input", "high", "shared/default-x-display-manager"]);
        ret(&["db_go"]);
        assert_eq!(ret(&["db_get", "shared/default-x-display-manager"]), "a, b");
        // With `Choices-C`, that is what the value is checked against (fontconfig's
        // `hintslight`, not one of the translatable `None, Slight, …`).
        let db = Debconf::new(&[package(
            "Template: fontconfig/hinting_style\nType: select\nChoices: None, Slight\nChoices-C: hintnone, hintslight\nDefault: hintslight\nDescription: x\n",
        )]);
        let ret = |words: &[&str]| match db.answer(&argv(words)) {
            Some(DebconfReply {
                ret: Value::Known(v), ..
            }) => v,
            other => panic!("{words:?}: {other:?}"),
        };
        ret(&["db_input", "low", "fontconfig/hinting_style"]);
        ret(&["db_go"]);
        assert_eq!(ret(&["db_get", "fontconfig/hinting_style"]), "hintslight");
    }

    /// libpaper1's config script sets the paper size from `locale width` (not known while
    /// building): the answer is then unknown, not the empty string (its postinst wrote an empty
    /// /etc/papersize).
    #[test]
    fn a_value_set_from_something_not_known_is_not_known() {
        let db = Debconf::new(&[package(
            "Template: libpaper/defaultpaper\nType: select\nChoices: a4, letter\nDescription: Paper\n",
        )]);
        let set = db.answer(&argv(&["db_set", "libpaper/defaultpaper", UNKNOWN_ARG]));
        assert_eq!(set, Some(DebconfReply::ok(Value::Known("value set".into()))));
        assert!(
            matches!(
                db.answer(&argv(&["db_get", "libpaper/defaultpaper"]))
                    .map(|r| r.ret),
                Some(Value::Unknown(_))
            ),
            "unknown after db_set of an unknown value"
        );
        assert!(matches!(
            db.answer(&argv(&["db_get", UNKNOWN_ARG])).map(|r| r.ret),
            Some(Value::Unknown(_))
        ));
        db.answer(&argv(&["db_set", "libpaper/defaultpaper", "a4"]));
        assert_eq!(
            db.answer(&argv(&["db_get", "libpaper/defaultpaper"])),
            Some(DebconfReply::ok(Value::Known("a4".into())))
        );
    }

    #[test]
    fn questions_start_at_their_default_and_keep_what_config_sets() {
        let db = Debconf::new(&[package(
            "Template: srv/root\nType: boolean\nDefault: true\nDescription: Allow?\n Long text.\n\n\
             Template: srv/mode\nType: select\nChoices: a, b\nDescription: Mode\n",
        )]);
        let known = |s: &str| Some(DebconfReply::ok(Value::Known(s.into())));
        assert_eq!(db.answer(&argv(&["db_get", "srv/root"])), known("true"));
        // No Default: the empty answer.
        assert_eq!(db.answer(&argv(&["db_get", "srv/mode"])), known(""));
        assert_eq!(db.answer(&argv(&["db_set", "srv/mode", "b"])), known("value set"));
        assert_eq!(db.answer(&argv(&["db_get", "srv/mode"])), known("b"));
        assert_eq!(db.answer(&argv(&["db_reset", "srv/mode"])), known(""));
        assert_eq!(db.answer(&argv(&["db_get", "srv/mode"])), known(""));
        assert_eq!(db.answer(&argv(&["db_fget", "srv/root", "seen"])), known("false"));
        assert_eq!(
            db.answer(&argv(&["db_input", "high", "srv/root"])),
            known("question skipped")
        );
        assert_eq!(db.answer(&argv(&["db_metaget", "srv/mode", "value"])), known(""));
        assert_eq!(db.answer(&argv(&["db_metaget", "srv/root", "Description"])), None);
        // A question no template defines: debconf's status 10, the reply line in RET
        // (clamav-daemon's `db_get clamav-daemon/BlockMax || RET=""`).
        let missing = |q: &str| {
            Some(DebconfReply {
                ret: Value::Known(format!("10 {q} doesn't exist")),
                ok: false,
            })
        };
        for command in ["db_get", "db_set"] {
            assert_eq!(db.answer(&argv(&[command, "other/q"])), missing("other/q"));
        }
        assert_eq!(
            db.answer(&argv(&["db_fget", "other/q", "seen"])),
            missing("other/q")
        );
        // `db_register TEMPLATE QUESTION` makes a question of the template's, at its default.
        assert_eq!(
            db.answer(&argv(&["db_register", "srv/root", "srv/root2"])),
            known("")
        );
        assert_eq!(db.answer(&argv(&["db_get", "srv/root2"])), known("true"));
    }
}
