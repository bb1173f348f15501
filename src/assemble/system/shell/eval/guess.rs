//! The walk's guesses: an `if` it cannot decide is walked as holding, and what the branches it
//! did not walk would have run goes to the caller, to be reported.

use std::collections::BTreeSet;

use super::super::ast::{Node, Part, Redir, Word, all_commands, assigned_names, commands_text};
use super::{Call, Eval, NOT_RUN, Value};

impl Eval<'_> {
    /// An `if` whose condition could not be decided is walked as if it held: the commands of
    /// the branches after it go to the caller's [`GuessSink`] (tor's `if [ "$uid" ]; then …;
    /// else adduser …` must not lose its `adduser` silently).
    /// A command the taken branch runs too (php-maintscript-helper runs the same `phpenmod`
    /// either way) is not one the guess missed.
    pub(super) fn tell_unwalked(
        &self,
        cond: &[Node],
        taken: &[Node],
        later: &[(Vec<Node>, Vec<Node>)],
        otherwise: &[Node],
    ) {
        let Some(sink) = self.guesses else { return };
        let mut commands = Vec::new();
        for (c, b) in later {
            all_commands(c, &mut commands);
            all_commands(b, &mut commands);
        }
        all_commands(otherwise, &mut commands);
        let mut walked = Vec::new();
        all_commands(taken, &mut walked);
        commands.retain(|(_, text)| !walked.iter().any(|(_, t)| t.trim() == text.trim()));
        if commands.is_empty() {
            return;
        }
        let condition = commands_text(cond);
        let unwalked: Vec<String> = commands.into_iter().map(|(_, t)| t.trim().to_owned()).collect();
        sink(&condition, &unwalked);
    }

    /// What a sequence would have run after a branch taken on a guess ended the script or the
    /// function there (tex-common's `update-texmf`: `if [ -z "$CNFFILES" ]; then …; exit 0; fi`
    /// with the file list not known would otherwise end the walk silently).
    pub(super) fn tell_rest_unwalked(&self, condition: &str, rest: &[Node]) {
        let Some(sink) = self.guesses else { return };
        let mut commands: Vec<(Vec<Word>, String)> = Vec::new();
        all_commands(rest, &mut commands);
        if commands.is_empty() {
            return;
        }
        let unwalked: Vec<String> = commands.into_iter().map(|(_, t)| t.trim().to_owned()).collect();
        sink(condition, &unwalked);
    }

    /// After commands the walk ran on a guess, or did not run though they may have run: the
    /// variables they may assign hold what the walk cannot know (console-setup's config set
    /// `CHARMAP=ISO-8859-15` under a guessed `[ "$locale" = C ]` and stored it with `db_set`).
    pub(super) fn forget_assigned(&mut self, lists: &[&[Node]], condition: &str) {
        for list in lists {
            let Some(names) = assigned_names(list) else {
                continue;
            };
            for name in names {
                // A value from the host's name (or a random one) stays one: on whichever path,
                // it may be that.
                if matches!(self.vars.get(&name), Some(Value::Unknown(why)) if super::is_machine_dependent(why))
                {
                    continue;
                }
                let why = format!("${name} (set where the walk could not tell whether `{condition}` holds)");
                self.vars.insert(name, Value::Unknown(why));
            }
        }
    }

    /// The writes of branches an undecided `if` did not take, told (not applied: the walk took
    /// the condition as holding, and the report says so).
    pub(super) fn tell_branch_writes(&mut self, condition: &str, lists: &[&[Node]]) {
        let why =
            format!("whether `{condition}` holds is not known while building; the walk took it as holding");
        // What one list assigns (an `elif`'s condition) is not known in the next either.
        for list in lists {
            self.tell_unwalked_writes(list, lists, &why, true);
        }
    }

    /// The files commands the walk did not run would have written (`… | while read v; do echo
    /// "$v" >> "$TMP"; done` over input it cannot read, a branch an undecided `if` left): each
    /// write goes to the caller as a command not run (`argv` is `Err` starting with [`NOT_RUN`]),
    /// with its target where the walk knows it, so the caller can tell the file's content is not
    /// what the walk made and say so. `guessed`: the commands may not run on the real system at
    /// all (a branch not taken), as against commands that run some number of times not known (a
    /// loop). Only for a caller that takes guesses ([`Eval::with_guesses`]).
    /// `context`: the other commands not run with them (a loop's condition, whose `read VAR`
    /// assigns what the body writes to): what they assign is not known either.
    pub(super) fn tell_unwalked_writes(
        &mut self,
        nodes: &[Node],
        context: &[&[Node]],
        why: &str,
        guessed: bool,
    ) {
        if self.guesses.is_none() {
            return;
        }
        let mut writes: Vec<(String, Option<Word>, bool)> = Vec::new();
        let mut seen_funcs = BTreeSet::new();
        self.writes_in(nodes, false, &mut writes, &mut seen_funcs);
        // A target naming a variable the unwalked commands assign, or a substitution, is not
        // known: its value is not the one the walk has now.
        let assigned = std::iter::once(nodes).chain(context.iter().copied()).try_fold(
            BTreeSet::new(),
            |mut names, list| {
                names.extend(assigned_names(list)?);
                names.extend(super::read_vars(list).unwrap_or_default());
                Some(names)
            },
        );
        let mut calls: Vec<(String, Value, bool)> = Vec::new();
        for (text, target, append) in writes {
            let target = match (&assigned, target) {
                (_, Some(target)) if target.literal().is_some() => self.expand_path(&target),
                (Some(names), Some(target)) if !uses_any(&target, names) => self.expand_path(&target),
                _ => Value::Unknown("a file the walk cannot name".into()),
            };
            calls.push((text, target, append));
        }
        // Inside a compound whose output is redirected (`while …; done > FILE`), whatever the
        // commands print goes there.
        if let Some((target, _)) = self.stdout.clone()
            && nodes.iter().any(|n| !matches!(n, Node::Func { .. }))
        {
            calls.push((commands_text(nodes), target, true));
        }
        let cwd = self.known_cwd();
        for (text, target, append) in calls {
            self.emit(Call {
                argv: Err(format!("{NOT_RUN}{why}")),
                words: Vec::new(),
                text: &text,
                stdout: Some((target, append)),
                heredoc: None,
                env: Vec::new(),
                stdin: None,
                cwd: cwd.clone(),
                guessed,
                guess: None,
                machine_dependent: None,
            });
        }
    }

    /// Every output redirection in `nodes` and in the functions they call (each once): the
    /// command's text with its operator, the target word (`None` where it expands in a
    /// function's body: its `$1` is not the caller's), and whether it appends.
    fn writes_in(
        &self,
        nodes: &[Node],
        in_func: bool,
        out: &mut Vec<(String, Option<Word>, bool)>,
        seen_funcs: &mut BTreeSet<String>,
    ) {
        let op = |append: bool| if append { ">>" } else { ">" };
        let word = |w: &Word| (!in_func || w.literal().is_some()).then(|| w.clone());
        for n in nodes {
            match n {
                Node::Simple {
                    words, redirs, text, ..
                } => {
                    if let Some((target, append)) = last_output(redirs) {
                        out.push((format!("{text} {}", op(append)), word(target), append));
                    }
                    if let Some(name) = words.first().and_then(Word::literal)
                        && let Some(body) = self.funcs.get(&name)
                        && seen_funcs.insert(name)
                    {
                        let body = body.clone();
                        self.writes_in(&body, true, out, seen_funcs);
                    }
                }
                Node::If { branches, otherwise } => {
                    for (c, b) in branches {
                        self.writes_in(c, in_func, out, seen_funcs);
                        self.writes_in(b, in_func, out, seen_funcs);
                    }
                    self.writes_in(otherwise, in_func, out, seen_funcs);
                }
                Node::For { body, .. } => self.writes_in(body, in_func, out, seen_funcs),
                Node::While { cond, body, .. } => {
                    self.writes_in(cond, in_func, out, seen_funcs);
                    self.writes_in(body, in_func, out, seen_funcs);
                }
                Node::Case { arms, .. } => {
                    for (_, b) in arms {
                        self.writes_in(b, in_func, out, seen_funcs);
                    }
                }
                // A definition runs nothing.
                Node::Func { .. } => {}
                Node::Group(body) | Node::Subshell(body) | Node::Background(body) | Node::Pipe(body) => {
                    self.writes_in(body, in_func, out, seen_funcs)
                }
                Node::AndOr(parts) => {
                    for (_, p) in parts {
                        self.writes_in(std::slice::from_ref(p), in_func, out, seen_funcs);
                    }
                }
                Node::Not(inner) => self.writes_in(std::slice::from_ref(&**inner), in_func, out, seen_funcs),
                Node::Redirected { body, redirs } => {
                    let inner = std::slice::from_ref(&**body);
                    if let Some((target, append)) = last_output(redirs) {
                        out.push((
                            format!("{} {}", commands_text(inner), op(append)),
                            word(target),
                            append,
                        ));
                    }
                    self.writes_in(inner, in_func, out, seen_funcs);
                }
            }
        }
    }
}

/// The last `>FILE`/`>>FILE` of a command (the one its output goes to).
fn last_output(redirs: &[Redir]) -> Option<(&Word, bool)> {
    redirs.iter().rev().find_map(|r| match r {
        Redir::Out { append, target } => Some((target, *append)),
        Redir::Heredoc(_) | Redir::HeredocExpands(_) | Redir::In(_) | Redir::ErrToOut | Redir::OutToErr => {
            None
        }
    })
}

/// Whether expanding `word` reads one of `names`, or runs a command (a substitution), or needs
/// something the walk does not model.
fn uses_any(word: &Word, names: &BTreeSet<String>) -> bool {
    word.0.iter().any(|p| match &p.part {
        Part::Lit(_) => false,
        Part::Var { name, default } => {
            names.contains(name) || default.as_ref().is_some_and(|d| uses_any(d, names))
        }
        Part::Alt { name, word, .. } => names.contains(name) || uses_any(word, names),
        Part::Trim { name, pattern, .. } => names.contains(name) || uses_any(pattern, names),
        Part::Arith(w) => uses_any(w, names),
        Part::Sub(_) | Part::Unknown(_) => true,
    })
}
