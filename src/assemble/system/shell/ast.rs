//! The syntax tree of a maintainer script: words (literal text and expansions) and commands.

/// One part of a word.
#[derive(Debug, Clone, PartialEq)]
pub enum Part {
    Lit(String),
    /// `$NAME`, `${NAME}`, `${NAME:-default}`.
    Var {
        name: String,
        default: Option<Word>,
    },
    /// `${NAME:+word}` (`colon`: NAME set and not empty) or `${NAME+word}` (NAME set).
    Alt {
        name: String,
        colon: bool,
        word: Word,
    },
    /// `${NAME#pattern}`, `${NAME##pattern}` (a prefix removed: shortest, `longest`) and
    /// `${NAME%pattern}`, `${NAME%%pattern}` (a `suffix`).
    Trim {
        name: String,
        suffix: bool,
        longest: bool,
        pattern: Word,
    },
    /// `$(…)` or backquotes.
    Sub(Vec<Node>),
    /// Something not modelled (`$((…))`, `${#x}`, `${x:=y}`).
    Unknown(String),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Piece {
    pub part: Part,
    pub quoted: bool,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct Word(pub Vec<Piece>);

impl Word {
    /// The word's text if it is a plain literal (no expansion at all).
    pub fn literal(&self) -> Option<String> {
        let mut s = String::new();
        for p in &self.0 {
            match &p.part {
                Part::Lit(l) => s.push_str(l),
                _ => return None,
            }
        }
        Some(s)
    }
    pub(super) fn is_unquoted_lit(&self) -> Option<String> {
        if self.0.iter().all(|p| !p.quoted) {
            self.literal()
        } else {
            None
        }
    }
}

/// A redirection of a simple command the evaluator passes on; the lexer drops the others
/// (other descriptors, duplications, input files, redirections of compound commands).
#[derive(Debug, Clone, PartialEq)]
pub enum Redir {
    /// `>FILE` or `>>FILE` (`append`) of standard output.
    Out { append: bool, target: Word },
    /// A here-document on standard input without expansions (a quoted delimiter, or no `$`,
    /// `` ` `` or `\` in the body): its text; `None` when unterminated.
    Heredoc(Option<String>),
    /// A here-document whose body expands (an unquoted delimiter): the body as the word a
    /// double-quoted string of it is (parameters, substitutions, `\$`/`` \` ``/`\\`).
    HeredocExpands(Word),
    /// `<FILE`: standard input read from a file.
    In(Word),
}

#[derive(Debug, Clone, PartialEq)]
pub enum Node {
    /// A simple command: words and leading assignments; `text` is its source line(s).
    Simple {
        assigns: Vec<(String, Word)>,
        words: Vec<Word>,
        redirs: Vec<Redir>,
        text: String,
    },
    If {
        branches: Vec<(Vec<Node>, Vec<Node>)>,
        otherwise: Vec<Node>,
    },
    For {
        var: String,
        items: Option<Vec<Word>>,
        body: Vec<Node>,
    },
    While {
        /// `until`: the body runs while the condition fails.
        until: bool,
        cond: Vec<Node>,
        body: Vec<Node>,
    },
    Case {
        word: Word,
        arms: Vec<(Vec<Word>, Vec<Node>)>,
    },
    Func {
        name: String,
        body: Vec<Node>,
    },
    Group(Vec<Node>),
    /// `( list )`: run in a copy of the shell, so its variables, working directory and `exit`
    /// stay inside.
    Subshell(Vec<Node>),
    /// `a && b || c`: the commands in order with the operator before each but the first.
    AndOr(Vec<(String, Node)>),
    Pipe(Vec<Node>),
    /// `! pipeline`.
    Not(Box<Node>),
    /// A compound command with standard output redirected (`for …; done >FILE`, `{ …; } >>FILE`).
    Redirected {
        body: Box<Node>,
        redirs: Vec<Redir>,
    },
}

/// Every simple command in the script, in every branch, with its source text: for the report.
pub fn all_commands(nodes: &[Node], out: &mut Vec<(Vec<Word>, String)>) {
    for n in nodes {
        match n {
            Node::Simple { words, text, .. } => {
                if !words.is_empty() {
                    out.push((words.clone(), text.clone()));
                }
                for w in words {
                    for p in &w.0 {
                        if let Part::Sub(inner) = &p.part {
                            all_commands(inner, out);
                        }
                    }
                }
            }
            Node::If { branches, otherwise } => {
                for (c, b) in branches {
                    all_commands(c, out);
                    all_commands(b, out);
                }
                all_commands(otherwise, out);
            }
            Node::For { body, .. } => all_commands(body, out),
            Node::While { cond, body, .. } => {
                all_commands(cond, out);
                all_commands(body, out);
            }
            Node::Case { arms, .. } => {
                for (_, b) in arms {
                    all_commands(b, out);
                }
            }
            Node::Func { body, .. } | Node::Group(body) | Node::Subshell(body) => all_commands(body, out),
            Node::AndOr(parts) => {
                for (_, p) in parts {
                    all_commands(std::slice::from_ref(p), out);
                }
            }
            Node::Pipe(cmds) => all_commands(cmds, out),
            Node::Not(inner) | Node::Redirected { body: inner, .. } => {
                all_commands(std::slice::from_ref(inner), out)
            }
        }
    }
}

/// The source text of a condition's commands, joined by `; ` (how a guess names it).
pub fn commands_text(nodes: &[Node]) -> String {
    let mut texts = Vec::new();
    all_commands(nodes, &mut texts);
    texts.iter().map(|(_, t)| t.trim()).collect::<Vec<_>>().join("; ")
}
