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
    /// `$((…))`: the expression, its parameters and substitutions expanded as in double quotes.
    Arith(Word),
    /// Something not modelled (`${#x}`, `${x:=y}`).
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
    /// `2>&1`: standard error goes where standard output goes at this point.
    ErrToOut,
    /// `>&2` (`1>&2`): standard output goes where standard error goes.
    OutToErr,
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
    /// `list &`: run as a subshell would be, in the background; the script goes on with `$?` 0.
    Background(Vec<Node>),
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

/// Every node of the script, in every branch, function body and pipeline stage (and in the
/// command substitutions of a command's words, with `substitutions`), each before what it holds.
pub fn each_node(nodes: &[Node], substitutions: bool, visit: &mut dyn FnMut(&Node)) {
    for n in nodes {
        visit(n);
        match n {
            Node::Simple { words, .. } if substitutions => {
                for w in words {
                    for p in &w.0 {
                        if let Part::Sub(inner) = &p.part {
                            each_node(inner, substitutions, visit);
                        }
                    }
                }
            }
            Node::If { branches, otherwise } => {
                for (c, b) in branches {
                    each_node(c, substitutions, visit);
                    each_node(b, substitutions, visit);
                }
                each_node(otherwise, substitutions, visit);
            }
            Node::For { body, .. } => each_node(body, substitutions, visit),
            Node::While { cond, body, .. } => {
                each_node(cond, substitutions, visit);
                each_node(body, substitutions, visit);
            }
            Node::Case { arms, .. } => {
                for (_, b) in arms {
                    each_node(b, substitutions, visit);
                }
            }
            Node::Func { body, .. }
            | Node::Group(body)
            | Node::Subshell(body)
            | Node::Background(body)
            | Node::Pipe(body) => each_node(body, substitutions, visit),
            Node::AndOr(parts) => {
                for (_, p) in parts {
                    each_node(std::slice::from_ref(p), substitutions, visit);
                }
            }
            Node::Not(inner) | Node::Redirected { body: inner, .. } => {
                each_node(std::slice::from_ref(inner), substitutions, visit)
            }
            Node::Simple { .. } => {}
        }
    }
}

/// Every simple command in the script, in every branch, with its source text: for the report.
pub fn all_commands(nodes: &[Node], out: &mut Vec<(Vec<Word>, String)>) {
    each_node(nodes, true, &mut |n| {
        if let Node::Simple { words, text, .. } = n
            && !words.is_empty()
        {
            out.push((words.clone(), text.clone()));
        }
    });
}

/// The source text of a condition's commands, joined by `; ` (how a guess names it).
pub fn commands_text(nodes: &[Node]) -> String {
    let mut texts = Vec::new();
    all_commands(nodes, &mut texts);
    texts.iter().map(|(_, t)| t.trim()).collect::<Vec<_>>().join("; ")
}

/// The variables running `nodes` may assign in the running shell: assignments, `read`, `for`,
/// `getopts`, `local`/`export`/`readonly`/`unset`, `${NAME:=word}`. `None` when what is
/// assigned cannot be read from the text (`eval`, `.`, a name given by an expansion).
/// Subshells and command substitutions assign nothing here; function bodies assign only
/// when called.
pub fn assigned_names(nodes: &[Node]) -> Option<std::collections::BTreeSet<String>> {
    let mut names = std::collections::BTreeSet::new();
    assigned_into(nodes, &mut names).then_some(names)
}

fn assigned_into(nodes: &[Node], names: &mut std::collections::BTreeSet<String>) -> bool {
    nodes.iter().all(|n| match n {
        Node::Simple { assigns, words, .. } => {
            names.extend(assigns.iter().map(|(name, _)| name.clone()));
            words.iter().all(|w| default_assigns(w, names)) && command_assigns(words, names)
        }
        Node::If { branches, otherwise } => {
            branches
                .iter()
                .all(|(c, b)| assigned_into(c, names) && assigned_into(b, names))
                && assigned_into(otherwise, names)
        }
        Node::For { var, body, .. } => {
            names.insert(var.clone());
            assigned_into(body, names)
        }
        Node::While { cond, body, .. } => assigned_into(cond, names) && assigned_into(body, names),
        Node::Case { arms, .. } => arms.iter().all(|(_, b)| assigned_into(b, names)),
        Node::Func { .. } | Node::Subshell(_) | Node::Background(_) => true,
        Node::Group(body) => assigned_into(body, names),
        Node::AndOr(parts) => parts
            .iter()
            .all(|(_, p)| assigned_into(std::slice::from_ref(p), names)),
        // Each stage of a pipeline runs in a subshell (dash, and bash without lastpipe).
        Node::Pipe(_) => true,
        Node::Not(inner) | Node::Redirected { body: inner, .. } => {
            assigned_into(std::slice::from_ref(inner), names)
        }
    })
}

/// Every variable the script's text assigns somewhere, in any function, branch or pipeline
/// stage (as far as the text says: see [`assigned_names`]): the script's own variables, as
/// opposed to what its environment or a file it sources may set.
pub fn names_assigned_anywhere(nodes: &[Node], names: &mut std::collections::BTreeSet<String>) {
    each_node(nodes, false, &mut |n| match n {
        Node::Simple { .. } => {
            assigned_into(std::slice::from_ref(n), names);
        }
        Node::For { var, .. } => {
            names.insert(var.clone());
        }
        _ => {}
    });
}

/// `${NAME:=word}`/`${NAME=word}` in a word (kept as [`Part::Unknown`] text).
fn default_assigns(word: &Word, names: &mut std::collections::BTreeSet<String>) -> bool {
    word.0.iter().all(|p| match &p.part {
        Part::Unknown(text) => {
            let Some(body) = text.strip_prefix("${") else {
                return true;
            };
            let name: String = body
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            let rest = &body[name.len()..];
            if rest.starts_with(":=") || rest.starts_with('=') {
                names.insert(name);
            }
            true
        }
        Part::Var { default: Some(w), .. } | Part::Alt { word: w, .. } | Part::Trim { pattern: w, .. } => {
            default_assigns(w, names)
        }
        // `$((i += 1))`: the names are in the expression; not read here.
        Part::Arith(w) => {
            !w.0.iter()
                .any(|p| matches!(&p.part, Part::Lit(text) if arith_assigns(text)))
                && default_assigns(w, names)
        }
        _ => true,
    })
}

/// What a builtin's words assign; `false` when the names are not in the text.
fn command_assigns(words: &[Word], names: &mut std::collections::BTreeSet<String>) -> bool {
    let Some(command) = words.first().and_then(Word::literal) else {
        // `$cmd …`: may be `eval` or `read`.
        return words.is_empty();
    };
    let args = &words[1..];
    let take = |names: &mut std::collections::BTreeSet<String>, words: &[Word]| {
        words.iter().all(|w| match declared_name(w) {
            Some(n) if n.starts_with('-') => true,
            Some(n) => {
                names.insert(n);
                true
            }
            None => false,
        })
    };
    match command.as_str() {
        "eval" | "." | "source" => false,
        "read" | "local" | "export" | "readonly" | "unset" | "declare" | "typeset" => take(names, args),
        // `getopts OPTSTRING NAME`: NAME, and OPTARG/OPTIND.
        "getopts" => {
            names.extend(["OPTARG".to_owned(), "OPTIND".to_owned()]);
            take(names, args.get(1..2).unwrap_or_default())
        }
        _ => true,
    }
}

/// The NAME of a `NAME` or `NAME=…` word of `export`/`read`/…: `NAME` alone must be wholly
/// literal; `NAME=…` may expand after the `=`.
fn declared_name(w: &Word) -> Option<String> {
    let Some(Part::Lit(head)) = w.0.first().map(|p| &p.part) else {
        return None;
    };
    match head.split_once('=') {
        Some((name, _)) => Some(name.to_owned()),
        None => (w.0.len() == 1).then(|| head.clone()),
    }
}

/// Whether arithmetic text holds an assignment operator (`=`, `+=`, `<<=`, …), not only
/// comparisons (`==`, `!=`, `<=`, `>=`).
fn arith_assigns(text: &str) -> bool {
    let b = text.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'=' {
            if b.get(i + 1) == Some(&b'=') {
                i += 2;
                continue;
            }
            let prev = i.checked_sub(1).map(|p| b[p]);
            let assigns = match prev {
                Some(b'!') => false,
                // `<<=`/`>>=` assign; `<=`/`>=` compare.
                Some(c @ (b'<' | b'>')) => i >= 2 && b[i - 2] == c,
                _ => true,
            };
            if assigns {
                return true;
            }
        }
        i += 1;
    }
    false
}
