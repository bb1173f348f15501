//! The walk's guesses: an `if` it cannot decide is walked as holding, and what the branches it
//! did not walk would have run goes to the caller, to be reported.

use super::super::ast::{Node, Word, all_commands, assigned_names, commands_text};
use super::{Eval, Value};

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
                // A value from the host's name stays one: on whichever path, it may be that.
                if matches!(self.vars.get(&name), Some(Value::Unknown(why)) if super::is_host_dependent(why))
                {
                    continue;
                }
                let why = format!("${name} (set where the walk could not tell whether `{condition}` holds)");
                self.vars.insert(name, Value::Unknown(why));
            }
        }
    }
}
