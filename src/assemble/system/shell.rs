//! Just enough of a POSIX shell parser to read maintainer scripts without running them.
//!
//! Maintainer scripts are mostly debhelper boilerplate plus a handful of idioms (`case "$1" in
//! configure)`, `if [ "$1" = configure ]`, functions, `for` loops over word lists, `$(…)` that
//! echoes options). This parses those into a small syntax tree; [`Eval`] walks it for a fresh
//! `postinst configure` (`$1 = configure`, `$2` empty) with variables resolved where the script sets
//! them. Anything it cannot resolve stays marked as unknown so callers can report it instead of
//! guessing.

use std::collections::BTreeMap;
use std::rc::Rc;

/// One part of a word.
#[derive(Debug, Clone, PartialEq)]
pub enum Part {
    Lit(String),
    /// `$NAME`, `${NAME}`, `${NAME:-default}`.
    Var {
        name: String,
        default: Option<Word>,
    },
    /// `$(…)` or backquotes.
    Sub(Vec<Node>),
    /// Something not modelled (`$((…))`, `${x#y}`).
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
    fn is_unquoted_lit(&self) -> Option<String> {
        if self.0.iter().all(|p| !p.quoted) {
            self.literal()
        } else {
            None
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Node {
    /// A simple command: words and leading assignments; `text` is its source line(s).
    Simple {
        assigns: Vec<(String, Word)>,
        words: Vec<Word>,
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
    /// `a && b || c`: the commands in order with the operator before each but the first.
    AndOr(Vec<(String, Node)>),
    Pipe(Vec<Node>),
    /// `! pipeline`.
    Not(Box<Node>),
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Word(Word, usize, usize),
    Op(&'static str),
    Newline,
}

/// How deeply constructs may nest in a script: compound commands (`( … )`, `{ … }`, `if`,
/// `for`, `while`, `case`, function bodies) and `$(…)`/backquote substitutions and `${x:-…}`
/// defaults, counted together. Real maintainer scripts nest a handful of levels; a script past
/// this is refused with a [`ParseError`] rather than recursed into (the reader is recursive, and
/// a hostile script must not be able to exhaust the stack).
pub const MAX_NESTING: usize = 64;

#[derive(Debug, thiserror::Error)]
#[error("line {line}: {what}")]
pub struct ParseError {
    /// Byte offset in the script.
    pub at: usize,
    /// 1-based line of `at` (0 until [`parse`] fills it in).
    pub line: usize,
    pub what: String,
}

/// Parses a script into its top-level commands.
pub fn parse(src: &str) -> Result<Vec<Node>, ParseError> {
    parse_nested(src, 0, 0).map_err(|mut e| {
        let at = e.at.min(src.len());
        e.line = 1 + src.as_bytes()[..at].iter().filter(|b| **b == b'\n').count();
        e
    })
}

/// Parses `src`, which starts at byte `base` of the script and sits inside `depth` levels of
/// nesting.
fn parse_nested(src: &str, base: usize, depth: usize) -> Result<Vec<Node>, ParseError> {
    let mut lexer = Lexer::new(src);
    lexer.base = base;
    lexer.depth = depth;
    let (toks, offsets): (Vec<Tok>, Vec<usize>) = lexer.run()?.into_iter().unzip();
    let mut p = Parser {
        toks,
        offsets,
        pos: 0,
        src: src.to_owned(),
        base,
        depth,
    };
    let nodes = p.list(&[])?;
    if p.pos < p.toks.len() {
        return Err(p.err(&format!("unexpected {:?}", p.toks[p.pos])));
    }
    Ok(nodes)
}

fn too_deep(at: usize) -> ParseError {
    ParseError {
        at,
        line: 0,
        what: format!("nesting deeper than {MAX_NESTING} levels"),
    }
}

struct Lexer<'a> {
    s: &'a [u8],
    src: &'a str,
    i: usize,
    heredocs: Vec<(String, bool)>,
    /// Where `src` starts in the script (for error positions).
    base: usize,
    /// Nesting levels around `src` (see [`MAX_NESTING`]).
    depth: usize,
}

const OPS: &[&str] = &[
    ";;", "&&", "||", ">>", "<<-", "<<", ">&", "<&", "&>", ";", "&", "|", "(", ")", "<", ">",
];

impl<'a> Lexer<'a> {
    fn new(src: &'a str) -> Self {
        Lexer {
            s: src.as_bytes(),
            src,
            i: 0,
            heredocs: Vec::new(),
            base: 0,
            depth: 0,
        }
    }

    fn err(&self, what: &str) -> ParseError {
        ParseError {
            at: self.base + self.i,
            line: 0,
            what: what.into(),
        }
    }

    /// A lexer for `inner`, the text at byte `start` of this one's, one nesting level deeper.
    fn nested(&self, start: usize) -> Result<(usize, usize), ParseError> {
        if self.depth + 1 > MAX_NESTING {
            return Err(too_deep(self.base + start));
        }
        Ok((self.base + start, self.depth + 1))
    }

    /// Tokens with the byte offset (in this lexer's text) each starts at.
    fn run(mut self) -> Result<Vec<(Tok, usize)>, ParseError> {
        let mut out = Vec::new();
        while self.i < self.s.len() {
            let c = self.s[self.i];
            match c {
                b' ' | b'\t' | b'\r' => self.i += 1,
                b'\\' if self.s.get(self.i + 1) == Some(&b'\n') => self.i += 2,
                b'\n' => {
                    out.push((Tok::Newline, self.i));
                    self.i += 1;
                    self.skip_heredocs()?;
                }
                b'#' => {
                    while self.i < self.s.len() && self.s[self.i] != b'\n' {
                        self.i += 1;
                    }
                }
                _ => {
                    if let Some(op) = OPS.iter().find(|op| self.s[self.i..].starts_with(op.as_bytes())) {
                        let at = self.i;
                        self.i += op.len();
                        if *op == "<<" || *op == "<<-" {
                            while self.s.get(self.i).is_some_and(|c| *c == b' ' || *c == b'\t') {
                                self.i += 1;
                            }
                            let start = self.i;
                            let w = self.word()?;
                            let raw = &self.src[start..self.i];
                            let delim: String = raw
                                .chars()
                                .filter(|c| *c != '\'' && *c != '"' && *c != '\\')
                                .collect();
                            let _ = w;
                            self.heredocs.push((delim, *op == "<<-"));
                            continue;
                        }
                        out.push((Tok::Op(op), at));
                        // A redirection's target is not a command word; `2>` style fds were
                        // already dropped as part of the preceding word below.
                        continue;
                    }
                    let start = self.i;
                    let w = self.word()?;
                    // `2>` / `2>&1`: a lone number glued to a redirection is an fd, not a word.
                    if self.s.get(self.i).is_some_and(|c| *c == b'>' || *c == b'<')
                        && w.literal().is_some_and(|l| l.chars().all(|c| c.is_ascii_digit()))
                    {
                        continue;
                    }
                    out.push((Tok::Word(w, start, self.i), start));
                }
            }
        }
        Ok(strip_redirections(out))
    }

    fn skip_heredocs(&mut self) -> Result<(), ParseError> {
        let docs = std::mem::take(&mut self.heredocs);
        for (delim, tabs) in docs {
            loop {
                if self.i >= self.s.len() {
                    return Ok(());
                }
                let end = self.s[self.i..]
                    .iter()
                    .position(|c| *c == b'\n')
                    .map_or(self.s.len(), |p| self.i + p);
                let line = &self.src[self.i..end];
                self.i = (end + 1).min(self.s.len());
                let l = if tabs { line.trim_start_matches('\t') } else { line };
                if l == delim {
                    break;
                }
            }
        }
        Ok(())
    }

    fn word(&mut self) -> Result<Word, ParseError> {
        let mut pieces: Vec<Piece> = Vec::new();
        let mut lit = String::new();
        let flush = |lit: &mut String, pieces: &mut Vec<Piece>, quoted: bool| {
            if !lit.is_empty() {
                pieces.push(Piece {
                    part: Part::Lit(std::mem::take(lit)),
                    quoted,
                });
            }
        };
        while self.i < self.s.len() {
            let c = self.s[self.i];
            match c {
                b' ' | b'\t' | b'\n' | b'\r' | b';' | b'&' | b'|' | b'(' | b')' | b'<' | b'>' => break,
                b'\\' => {
                    if self.s.get(self.i + 1) == Some(&b'\n') {
                        self.i += 2;
                        continue;
                    }
                    flush(&mut lit, &mut pieces, false);
                    if let Some(ch) = self.src[self.i + 1..].chars().next() {
                        pieces.push(Piece {
                            part: Part::Lit(ch.to_string()),
                            quoted: true,
                        });
                        self.i += 1 + ch.len_utf8();
                    } else {
                        self.i += 1;
                    }
                }
                b'\'' => {
                    flush(&mut lit, &mut pieces, false);
                    let end = self.s[self.i + 1..]
                        .iter()
                        .position(|c| *c == b'\'')
                        .ok_or_else(|| self.err("unterminated '"))?;
                    pieces.push(Piece {
                        part: Part::Lit(self.src[self.i + 1..self.i + 1 + end].to_owned()),
                        quoted: true,
                    });
                    self.i += end + 2;
                }
                b'"' => {
                    flush(&mut lit, &mut pieces, false);
                    self.i += 1;
                    if pieces.is_empty() {
                        // Keep `""` as an (empty) quoted word.
                        pieces.push(Piece {
                            part: Part::Lit(String::new()),
                            quoted: true,
                        });
                    }
                    let mut qlit = String::new();
                    loop {
                        let Some(&c) = self.s.get(self.i) else {
                            return Err(self.err("unterminated \""));
                        };
                        match c {
                            b'"' => {
                                self.i += 1;
                                break;
                            }
                            b'\\' => {
                                let next = self.s.get(self.i + 1).copied();
                                match next {
                                    Some(b'\n') => self.i += 2,
                                    Some(b'"' | b'\\' | b'$' | b'`') => {
                                        qlit.push(next.unwrap_or(b'\\') as char);
                                        self.i += 2;
                                    }
                                    _ => {
                                        qlit.push('\\');
                                        self.i += 1;
                                    }
                                }
                            }
                            b'$' | b'`' => {
                                flush(&mut qlit, &mut pieces, true);
                                let part = self.dollar_or_backquote()?;
                                pieces.push(Piece { part, quoted: true });
                            }
                            _ => {
                                let ch = self.src[self.i..].chars().next().unwrap_or('?');
                                qlit.push(ch);
                                self.i += ch.len_utf8();
                            }
                        }
                    }
                    flush(&mut qlit, &mut pieces, true);
                }
                b'$' | b'`' => {
                    flush(&mut lit, &mut pieces, false);
                    let part = self.dollar_or_backquote()?;
                    pieces.push(Piece { part, quoted: false });
                }
                _ => {
                    let ch = self.src[self.i..].chars().next().unwrap_or('?');
                    lit.push(ch);
                    self.i += ch.len_utf8();
                }
            }
        }
        flush(&mut lit, &mut pieces, false);
        Ok(Word(pieces))
    }

    /// At `$` or a backquote: a variable, `${…}`, `$(…)`, `$((…))` or `` `…` ``.
    fn dollar_or_backquote(&mut self) -> Result<Part, ParseError> {
        if self.s[self.i] == b'`' {
            let end = self.s[self.i + 1..]
                .iter()
                .position(|c| *c == b'`')
                .ok_or_else(|| self.err("unterminated `"))?;
            let inner = &self.src[self.i + 1..self.i + 1 + end];
            let (base, depth) = self.nested(self.i + 1)?;
            self.i += end + 2;
            return Ok(Part::Sub(parse_nested(inner, base, depth)?));
        }
        self.i += 1;
        match self.s.get(self.i) {
            Some(b'(') => {
                let arith = self.s.get(self.i + 1) == Some(&b'(');
                let start = self.i + 1;
                let end = self.matching_paren(self.i)?;
                let inner = &self.src[start..end];
                self.i = end + 1;
                if arith {
                    Ok(Part::Unknown(format!("$({inner})")))
                } else {
                    let (base, depth) = self.nested(start)?;
                    Ok(Part::Sub(parse_nested(inner, base, depth)?))
                }
            }
            Some(b'{') => {
                let end = self.s[self.i..]
                    .iter()
                    .position(|c| *c == b'}')
                    .ok_or_else(|| self.err("unterminated ${"))?
                    + self.i;
                let inner = &self.src[self.i + 1..end];
                self.i = end + 1;
                let name_len = inner
                    .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                    .unwrap_or(inner.len());
                let (name, rest) = inner.split_at(name_len);
                let default = rest.strip_prefix(":-").or_else(|| rest.strip_prefix('-'));
                if rest.is_empty() {
                    Ok(Part::Var {
                        name: name.into(),
                        default: None,
                    })
                } else if let Some(d) = default {
                    let (base, depth) = self.nested(end - d.len())?;
                    let mut lexer = Lexer::new(d);
                    lexer.base = base;
                    lexer.depth = depth;
                    let w = lexer.word()?;
                    Ok(Part::Var {
                        name: name.into(),
                        default: Some(w),
                    })
                } else {
                    Ok(Part::Unknown(format!("${{{inner}}}")))
                }
            }
            Some(c) if c.is_ascii_digit() || b"#?@*$!-".contains(c) => {
                let name = (*c as char).to_string();
                self.i += 1;
                Ok(Part::Var { name, default: None })
            }
            Some(c) if c.is_ascii_alphabetic() || *c == b'_' => {
                let start = self.i;
                while self
                    .s
                    .get(self.i)
                    .is_some_and(|c| c.is_ascii_alphanumeric() || *c == b'_')
                {
                    self.i += 1;
                }
                Ok(Part::Var {
                    name: self.src[start..self.i].into(),
                    default: None,
                })
            }
            _ => Ok(Part::Lit("$".into())),
        }
    }

    /// Index of the `)` matching the `(` at `open`, skipping quoted text. Inside double quotes
    /// only a nested `$(` opens a level (and its `)` closes it); single quotes are literal there.
    fn matching_paren(&self, open: usize) -> Result<usize, ParseError> {
        // Stack of contexts: true = inside double quotes, false = command text.
        let mut stack: Vec<bool> = vec![false];
        let mut i = open + 1;
        while i < self.s.len() {
            let in_dq = stack.last().copied().unwrap_or(false);
            match self.s[i] {
                b'\\' => i += 1,
                b'"' if in_dq => {
                    stack.pop();
                }
                b'"' => stack.push(true),
                b'$' if self.s.get(i + 1) == Some(&b'(') => {
                    stack.push(false);
                    i += 1;
                }
                b'(' if !in_dq => stack.push(false),
                b')' if !in_dq => {
                    stack.pop();
                    if stack.is_empty() {
                        return Ok(i);
                    }
                }
                b'\'' if !in_dq => {
                    i += self.s[i + 1..].iter().position(|c| *c == b'\'').unwrap_or(0) + 1;
                }
                b'#' if !in_dq && matches!(self.s[i - 1], b' ' | b'\n' | b'\t') => {
                    while i < self.s.len() && self.s[i] != b'\n' {
                        i += 1;
                    }
                    continue;
                }
                _ => {}
            }
            i += 1;
        }
        Err(self.err("unterminated $("))
    }
}

/// Drops redirection operators and their targets (`> /dev/null`, `2>&1`, `<file`).
fn strip_redirections(toks: Vec<(Tok, usize)>) -> Vec<(Tok, usize)> {
    let mut out = Vec::with_capacity(toks.len());
    let mut it = toks.into_iter().peekable();
    while let Some(t) = it.next() {
        match t {
            (Tok::Op(">" | ">>" | "<" | ">&" | "<&" | "&>"), _) => {
                if matches!(it.peek(), Some((Tok::Word(..), _))) {
                    it.next();
                }
            }
            t => out.push(t),
        }
    }
    out
}

struct Parser {
    toks: Vec<Tok>,
    /// Byte offset (in `src`) of each token.
    offsets: Vec<usize>,
    pos: usize,
    src: String,
    /// Where `src` starts in the script.
    base: usize,
    /// Nesting levels around the command being parsed (see [`MAX_NESTING`]).
    depth: usize,
}

const RESERVED_END: &[&str] = &["then", "elif", "else", "fi", "do", "done", "esac", "}"];

impl Parser {
    fn err(&self, what: &str) -> ParseError {
        ParseError {
            at: self.base + self.offsets.get(self.pos).copied().unwrap_or(self.src.len()),
            line: 0,
            what: what.into(),
        }
    }

    fn peek_word(&self) -> Option<String> {
        match self.toks.get(self.pos) {
            Some(Tok::Word(w, ..)) => w.is_unquoted_lit(),
            _ => None,
        }
    }

    fn skip_newlines(&mut self) {
        while matches!(self.toks.get(self.pos), Some(Tok::Newline | Tok::Op(";"))) {
            self.pos += 1;
        }
    }

    fn expect_word(&mut self, w: &str) -> Result<(), ParseError> {
        self.skip_newlines();
        if self.peek_word().as_deref() == Some(w) {
            self.pos += 1;
            Ok(())
        } else {
            Err(self.err(&format!("expected `{w}`")))
        }
    }

    /// Commands until one of `stops` (a reserved word, `)` or `;;`) or the end.
    fn list(&mut self, stops: &[&str]) -> Result<Vec<Node>, ParseError> {
        let mut nodes = Vec::new();
        loop {
            self.skip_newlines();
            match self.toks.get(self.pos) {
                None => return Ok(nodes),
                Some(Tok::Op(op)) if stops.contains(op) => return Ok(nodes),
                Some(Tok::Op("&")) => {
                    self.pos += 1;
                    continue;
                }
                _ => {}
            }
            if let Some(w) = self.peek_word()
                && (stops.contains(&w.as_str()) || RESERVED_END.contains(&w.as_str()))
            {
                return Ok(nodes);
            }
            nodes.push(self.and_or()?);
        }
    }

    fn and_or(&mut self) -> Result<Node, ParseError> {
        let mut parts = vec![(String::new(), self.pipeline()?)];
        while let Some(Tok::Op(op @ ("&&" | "||"))) = self.toks.get(self.pos) {
            let op = op.to_string();
            self.pos += 1;
            while matches!(self.toks.get(self.pos), Some(Tok::Newline)) {
                self.pos += 1;
            }
            parts.push((op, self.pipeline()?));
        }
        Ok(if parts.len() == 1 {
            parts.pop().map(|(_, n)| n).unwrap_or(Node::Group(vec![]))
        } else {
            Node::AndOr(parts)
        })
    }

    fn pipeline(&mut self) -> Result<Node, ParseError> {
        // `! ! cmd` negates twice: counted here, not recursed into.
        let mut negate = false;
        while self.peek_word().as_deref() == Some("!") {
            self.pos += 1;
            negate = !negate;
        }
        let node = self.pipeline_inner()?;
        Ok(if negate { Node::Not(Box::new(node)) } else { node })
    }

    fn pipeline_inner(&mut self) -> Result<Node, ParseError> {
        let mut cmds = vec![self.command()?];
        while let Some(Tok::Op("|")) = self.toks.get(self.pos) {
            self.pos += 1;
            while matches!(self.toks.get(self.pos), Some(Tok::Newline)) {
                self.pos += 1;
            }
            cmds.push(self.command()?);
        }
        Ok(if cmds.len() == 1 {
            cmds.pop().unwrap_or(Node::Group(vec![]))
        } else {
            Node::Pipe(cmds)
        })
    }

    /// One command; compound commands nest, so this is where the depth is bounded.
    fn command(&mut self) -> Result<Node, ParseError> {
        if self.depth >= MAX_NESTING {
            return Err(too_deep(self.err("").at));
        }
        self.depth += 1;
        let node = self.command_inner();
        self.depth -= 1;
        node
    }

    fn command_inner(&mut self) -> Result<Node, ParseError> {
        if let Some(Tok::Op("(")) = self.toks.get(self.pos) {
            self.pos += 1;
            let body = self.list(&[")"])?;
            self.expect_op(")")?;
            return Ok(Node::Group(body));
        }
        match self.peek_word().as_deref() {
            Some("if") => return self.if_(),
            Some("for") => return self.for_(),
            Some("while") | Some("until") => {
                self.pos += 1;
                let cond = self.list(&["do"])?;
                self.expect_word("do")?;
                let body = self.list(&["done"])?;
                self.expect_word("done")?;
                return Ok(Node::While { cond, body });
            }
            Some("case") => return self.case(),
            Some("{") => {
                self.pos += 1;
                let body = self.list(&["}"])?;
                self.expect_word("}")?;
                return Ok(Node::Group(body));
            }
            _ => {}
        }
        // Function definition `name() compound`.
        if let (Some(name), Some(Tok::Op("(")), Some(Tok::Op(")"))) = (
            self.peek_word(),
            self.toks.get(self.pos + 1),
            self.toks.get(self.pos + 2),
        ) {
            self.pos += 3;
            self.skip_newlines();
            let body = match self.command()? {
                Node::Group(b) => b,
                other => vec![other],
            };
            return Ok(Node::Func { name, body });
        }
        self.simple()
    }

    fn expect_op(&mut self, op: &str) -> Result<(), ParseError> {
        self.skip_newlines();
        match self.toks.get(self.pos) {
            Some(Tok::Op(o)) if *o == op => {
                self.pos += 1;
                Ok(())
            }
            _ => Err(self.err(&format!("expected `{op}`"))),
        }
    }

    fn simple(&mut self) -> Result<Node, ParseError> {
        let mut assigns = Vec::new();
        let mut words = Vec::new();
        let (mut start, mut end) = (usize::MAX, 0);
        while let Some(Tok::Word(w, s, e)) = self.toks.get(self.pos) {
            start = start.min(*s);
            end = end.max(*e);
            let w = w.clone();
            self.pos += 1;
            if words.is_empty()
                && let Some(Piece {
                    part: Part::Lit(first),
                    quoted: false,
                }) = w.0.first()
                && let Some(eq) = first.find('=')
                && eq > 0
                && first[..eq].chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
            {
                let mut value = w.0.clone();
                value[0].part = Part::Lit(first[eq + 1..].to_owned());
                assigns.push((first[..eq].to_owned(), Word(value)));
                continue;
            }
            words.push(w);
        }
        if assigns.is_empty() && words.is_empty() {
            return Err(self.err(&format!("unexpected {:?}", self.toks.get(self.pos))));
        }
        let text = self.src.get(start..end).unwrap_or("").to_owned();
        let text = text
            .replace("\\\n", " ")
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
        Ok(Node::Simple { assigns, words, text })
    }

    fn if_(&mut self) -> Result<Node, ParseError> {
        self.pos += 1;
        let mut branches = Vec::new();
        let mut otherwise = Vec::new();
        loop {
            let cond = self.list(&["then"])?;
            self.expect_word("then")?;
            let body = self.list(&["elif", "else", "fi"])?;
            branches.push((cond, body));
            self.skip_newlines();
            match self.peek_word().as_deref() {
                Some("elif") => {
                    self.pos += 1;
                }
                Some("else") => {
                    self.pos += 1;
                    otherwise = self.list(&["fi"])?;
                    self.expect_word("fi")?;
                    break;
                }
                _ => {
                    self.expect_word("fi")?;
                    break;
                }
            }
        }
        Ok(Node::If { branches, otherwise })
    }

    fn for_(&mut self) -> Result<Node, ParseError> {
        self.pos += 1;
        let var = self.peek_word().ok_or_else(|| self.err("for without a name"))?;
        self.pos += 1;
        let mut items = None;
        if self.peek_word().as_deref() == Some("in") {
            self.pos += 1;
            let mut list = Vec::new();
            while let Some(Tok::Word(w, ..)) = self.toks.get(self.pos) {
                list.push(w.clone());
                self.pos += 1;
            }
            items = Some(list);
        }
        self.expect_word("do")?;
        let body = self.list(&["done"])?;
        self.expect_word("done")?;
        Ok(Node::For { var, items, body })
    }

    fn case(&mut self) -> Result<Node, ParseError> {
        self.pos += 1;
        let word = match self.toks.get(self.pos) {
            Some(Tok::Word(w, ..)) => w.clone(),
            _ => return Err(self.err("case without a word")),
        };
        self.pos += 1;
        self.expect_word("in")?;
        let mut arms = Vec::new();
        loop {
            self.skip_newlines();
            if self.peek_word().as_deref() == Some("esac") {
                self.pos += 1;
                break;
            }
            if let Some(Tok::Op("(")) = self.toks.get(self.pos) {
                self.pos += 1;
            }
            let mut patterns = Vec::new();
            loop {
                match self.toks.get(self.pos) {
                    Some(Tok::Word(w, ..)) => {
                        patterns.push(w.clone());
                        self.pos += 1;
                    }
                    Some(Tok::Op("|")) => self.pos += 1,
                    Some(Tok::Op(")")) => {
                        self.pos += 1;
                        break;
                    }
                    _ => return Err(self.err("bad case pattern")),
                }
            }
            let body = self.list(&[";;", "esac"])?;
            arms.push((patterns, body));
            self.skip_newlines_only();
            if let Some(Tok::Op(";;")) = self.toks.get(self.pos) {
                self.pos += 1;
            }
        }
        Ok(Node::Case { word, arms })
    }

    fn skip_newlines_only(&mut self) {
        while matches!(self.toks.get(self.pos), Some(Tok::Newline)) {
            self.pos += 1;
        }
    }
}

/// A value during evaluation: known text, or unknown (named for the report).
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Known(String),
    Unknown(String),
}

/// What a command did when [`Eval`] reached it, for the caller's callback.
pub struct Call<'a> {
    /// Expanded arguments (`argv[0]` first); `Err(what)` if some part could not be resolved.
    pub argv: Result<Vec<String>, String>,
    pub text: &'a str,
}

/// Walks a script as a fresh `<script> configure` run would, calling `on_command` for every
/// simple command reached (function bodies at their call sites, loops unrolled).
pub struct Eval<'f> {
    vars: BTreeMap<String, Value>,
    /// Function bodies, shared (a call does not copy its body).
    funcs: BTreeMap<String, Rc<[Node]>>,
    /// Files read for `. FILE`, parsed once per path (`None`: unreadable or not parsed).
    sourced: BTreeMap<String, Option<Rc<[Node]>>>,
    positional: Vec<String>,
    on_command: &'f mut dyn FnMut(Call<'_>),
    depth: usize,
    /// Commands and compounds walked so far, against [`MAX_STEPS`].
    steps: usize,
    /// Why the walk stopped early (nesting or step limit), for the caller's report.
    cut: Option<String>,
    exited: bool,
    /// `return` seen in the function being run.
    returning: bool,
    in_func: usize,
    /// `echo` output while inside `$(…)`.
    capture: Vec<String>,
    capturing: usize,
    /// File tests against the image (`[ -x /usr/bin/foo ]`, `command -v foo`); unknown without.
    files: Option<FileProbe<'f>>,
    /// `[ -h PATH ]`: whether the path itself (not followed) is a symbolic link.
    links: Option<LinkProbe<'f>>,
    /// `dpkg --print-architecture` inside the image.
    native_arch: Option<String>,
    /// Reads a file of the image for `. FILE`.
    source: Option<SourceReader<'f>>,
}

/// How deeply [`Eval`] follows nodes and function calls into each other (a function calling
/// itself would otherwise recurse forever). Past it the walk stops and says so.
pub const MAX_EVAL_DEPTH: usize = 2 * MAX_NESTING;

/// How many commands [`Eval`] walks in one script before it stops and says so (a function that
/// calls itself twice would otherwise take exponential time).
pub const MAX_STEPS: usize = 200_000;

/// Reads the text of an absolute path in the image, for `. FILE` in a script.
pub type SourceReader<'a> = &'a dyn Fn(&str) -> Option<String>;

/// Answers what an absolute path is in the image.
pub type FileProbe<'a> = &'a dyn Fn(&str) -> Option<FileKind>;

/// Answers whether an absolute path is itself a symbolic link in the image (`lstat`).
pub type LinkProbe<'a> = &'a dyn Fn(&str) -> bool;

/// What a path is in the image, for `test -e/-f/-d/-x` and `command -v`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    Dir,
    File { executable: bool },
    Other,
}

/// Where `command -v`/`which` look (a maintainer script's PATH under dpkg).
const SCRIPT_PATH: &[&str] = &[
    "/usr/local/sbin",
    "/usr/local/bin",
    "/usr/sbin",
    "/usr/bin",
    "/sbin",
    "/bin",
];

impl<'f> Eval<'f> {
    /// Lets file tests and `command -v` consult the image.
    pub fn with_files(mut self, files: FileProbe<'f>) -> Self {
        self.files = Some(files);
        self
    }

    /// Lets `[ -h PATH ]`/`[ -L PATH ]` consult the image.
    pub fn with_links(mut self, links: LinkProbe<'f>) -> Self {
        self.links = Some(links);
        self
    }

    /// `command -v NAME` as the script would see it: the first executable on PATH.
    fn which(&self, name: &str) -> Option<Option<String>> {
        which_in(self.files, name)
    }
}

/// `command -v NAME` against the image; `None` when there is no image to ask.
fn which_in(files: Option<FileProbe<'_>>, name: &str) -> Option<Option<String>> {
    {
        let files = files?;
        if name.contains('/') {
            return Some(
                matches!(files(name), Some(FileKind::File { executable: true })).then(|| name.to_owned()),
            );
        }
        Some(
            SCRIPT_PATH
                .iter()
                .map(|d| format!("{d}/{name}"))
                .find(|p| matches!(files(p), Some(FileKind::File { executable: true }))),
        )
    }
}

impl<'f> Eval<'f> {
    pub fn new(args: &[&str], on_command: &'f mut dyn FnMut(Call<'_>)) -> Self {
        Eval {
            vars: BTreeMap::new(),
            funcs: BTreeMap::new(),
            sourced: BTreeMap::new(),
            positional: args.iter().map(|s| s.to_string()).collect(),
            on_command,
            depth: 0,
            steps: 0,
            cut: None,
            exited: false,
            returning: false,
            in_func: 0,
            capture: Vec::new(),
            capturing: 0,
            files: None,
            links: None,
            native_arch: None,
            source: None,
        }
    }

    /// Lets `. FILE` read the image: the file's function definitions and plain assignments are
    /// taken (what scripts source is libraries: dpkg's `dpkg-error.sh`, debconf's confmodule),
    /// its other top-level commands are not run.
    pub fn with_source(mut self, source: SourceReader<'f>) -> Self {
        self.source = Some(source);
        self
    }

    /// The environment dpkg gives a maintainer script (`DPKG_MAINTSCRIPT_*`, empty `DPKG_ROOT`)
    /// and the image's native architecture for `dpkg --print-architecture`.
    pub fn with_package(mut self, package: &str, arch: &str, script: &str, native_arch: &str) -> Self {
        for (k, v) in [
            ("DPKG_MAINTSCRIPT_PACKAGE", package),
            ("DPKG_MAINTSCRIPT_ARCH", arch),
            ("DPKG_MAINTSCRIPT_NAME", script),
            ("DPKG_RUNNING_VERSION", "1.21.22"),
        ] {
            self.vars.insert(k.to_owned(), Value::Known(v.to_owned()));
        }
        self.native_arch = Some(native_arch.to_owned());
        self
    }

    pub fn run(&mut self, nodes: &[Node]) {
        for n in nodes {
            if self.exited || self.returning || self.cut.is_some() {
                return;
            }
            self.node(n);
        }
    }

    /// Walks a whole script like [`Eval::run`]; `Err(why)` when the walk had to stop before the
    /// script's end (calls nested deeper than [`MAX_EVAL_DEPTH`], or more than [`MAX_STEPS`]
    /// commands), so the caller can report that the rest was not looked at.
    pub fn run_script(mut self, nodes: &[Node]) -> Result<(), String> {
        self.run(nodes);
        match self.cut {
            Some(why) => Err(why),
            None => Ok(()),
        }
    }

    fn node(&mut self, n: &Node) {
        if self.cut.is_some() {
            return;
        }
        if self.depth >= MAX_EVAL_DEPTH {
            self.cut = Some(format!(
                "evaluation stopped: commands and function calls nested deeper than {MAX_EVAL_DEPTH} levels"
            ));
            return;
        }
        self.steps += 1;
        if self.steps > MAX_STEPS {
            self.cut = Some(format!("evaluation stopped after {MAX_STEPS} commands"));
            return;
        }
        self.depth += 1;
        match n {
            Node::Simple { assigns, words, text } => self.simple(assigns, words, text),
            Node::If { branches, otherwise } => {
                let mut taken = false;
                for (cond, body) in branches {
                    match self.condition(cond) {
                        Some(false) => continue,
                        // An unknown condition guarding a failure exit (`if ! mountpoint -q
                        // /proc; then …; exit 1; fi`) is assumed not to fire.
                        None if body.iter().any(is_failure_exit) => continue,
                        // Unknown conditions (file tests, dpkg --compare-versions on an empty
                        // old version) are taken: on a fresh install the guarded action runs.
                        _ => {
                            self.run(body);
                            taken = true;
                            break;
                        }
                    }
                }
                if !taken {
                    self.run(otherwise);
                }
            }
            Node::For { var, items, body } => {
                let items: Vec<Value> = match items {
                    Some(words) => words.iter().flat_map(|w| self.expand_split(w)).collect(),
                    None => self.positional.iter().map(|s| Value::Known(s.clone())).collect(),
                };
                for item in items {
                    self.vars.insert(var.clone(), item);
                    self.run(body);
                }
            }
            Node::While { .. } => {}
            Node::Case { word, arms } => {
                let subject = self.expand_one(word);
                for (patterns, body) in arms {
                    let hit = patterns.iter().any(|p| match (&subject, p.literal()) {
                        (Value::Known(s), Some(p)) => glob_match(&p, s),
                        _ => false,
                    });
                    if hit {
                        self.run(body);
                        break;
                    }
                }
            }
            Node::Func { name, body } => {
                self.funcs.insert(name.clone(), Rc::from(body.as_slice()));
            }
            Node::Group(body) => self.run(body),
            Node::AndOr(parts) => {
                // `cmd || true`, `[ … ] && cmd`: the first command always runs; a following
                // `&&` command runs unless the first is a test known to be false; `||` commands
                // are fallbacks and are skipped.
                let mut last: Option<bool> = None;
                for (op, node) in parts {
                    match op.as_str() {
                        "" => {
                            last = self.condition(std::slice::from_ref(node));
                            if last.is_none() {
                                self.node(node);
                            }
                        }
                        "&&" if last != Some(false) => {
                            last = self.condition(std::slice::from_ref(node));
                            if last.is_none() {
                                self.node(node);
                            }
                        }
                        _ => {}
                    }
                }
            }
            Node::Pipe(cmds) => {
                for c in cmds {
                    self.node(c);
                }
            }
            Node::Not(inner) => self.node(inner),
        }
        self.depth -= 1;
    }

    /// Evaluates `[ … ]`/`test …` conditions on the positional parameters; `None` = not a test
    /// this knows (the command then runs normally where it appeared).
    fn condition(&mut self, cond: &[Node]) -> Option<bool> {
        let words = match cond {
            [Node::Not(inner)] => return self.condition(std::slice::from_ref(inner)).map(|b| !b),
            [Node::AndOr(parts)] => {
                let mut acc: Option<bool> = None;
                for (op, n) in parts {
                    let v = self.condition(std::slice::from_ref(n));
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
            [Node::Simple { words, assigns, .. }] if assigns.is_empty() => words,
            _ => return None,
        };
        let argv: Vec<Value> = words.iter().map(|w| self.expand_one(w)).collect();
        let first = match argv.first() {
            Some(Value::Known(s)) => s.as_str(),
            _ => return None,
        };
        let args: Vec<&Value> = match first {
            "[" => {
                if !matches!(argv.last(), Some(Value::Known(s)) if s == "]") {
                    return None;
                }
                argv[1..argv.len() - 1].iter().collect()
            }
            "test" => argv[1..].iter().collect(),
            "true" | ":" => return Some(true),
            "false" => return Some(false),
            "dpkg" if argv.get(1) == Some(&Value::Known("--compare-versions".into())) => {
                // On a first install the old version ($2) is empty: `lt-nl`/`le-nl` against
                // it are false, `lt`/`le` true (dpkg treats an empty version as the lowest).
                let op = match argv.get(3) {
                    Some(Value::Known(op)) => op.as_str(),
                    _ => return None,
                };
                return match argv.get(2) {
                    Some(Value::Known(a)) if a.is_empty() => match op {
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
            _ => return None,
        };
        self.test_expr(&args)
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
            [a, op, b] => {
                let (a, b) = (known(a)?, known(b)?);
                match known(op)?.as_str() {
                    "=" | "==" => a == b,
                    "!=" => a != b,
                    _ => return None,
                }
            }
            [op, a] => {
                let a = known(a)?;
                let kind = || self.files.map(|f| f(&a));
                match known(op)?.as_str() {
                    "-z" => a.is_empty(),
                    "-n" => !a.is_empty(),
                    "-e" => kind()?.is_some(),
                    "-f" => matches!(kind()?, Some(FileKind::File { .. })),
                    "-d" => matches!(kind()?, Some(FileKind::Dir)),
                    "-x" => matches!(kind()?, Some(FileKind::File { executable: true } | FileKind::Dir)),
                    "-h" | "-L" => (self.links?)(&a),
                    _ => return None,
                }
            }
            [a] => !known(a)?.is_empty(),
            _ => return None,
        };
        Some(r != negate)
    }

    fn simple(&mut self, assigns: &[(String, Word)], words: &[Word], text: &str) {
        if words.is_empty() {
            for (name, w) in assigns {
                let v = self.expand_one(w);
                self.vars.insert(name.clone(), v);
            }
            return;
        }
        let mut argv = Vec::new();
        let mut unknown = None;
        for w in words {
            for v in self.expand_split(w) {
                match v {
                    Value::Known(s) => argv.push(s),
                    Value::Unknown(what) => {
                        unknown.get_or_insert(what);
                    }
                }
            }
        }
        if let Some(name) = argv.first().cloned() {
            if name == "exit" && self.capturing == 0 {
                self.exited = true;
                return;
            }
            if name == "echo" && self.capturing > 0 {
                self.capture.push(argv[1..].join(" "));
                return;
            }
            if (name == "." || name == "source")
                && let (Some(read), Some(path)) = (self.source, argv.get(1))
                && let Some(nodes) = self
                    .sourced
                    .entry(path.clone())
                    .or_insert_with(|| read(path).and_then(|text| parse(&text).ok()).map(Rc::from))
                    .clone()
            {
                // Each top-level node looked at is a step: a script that sources a large file
                // many times must not take time proportional to the product.
                self.steps = self.steps.saturating_add(nodes.len());
                if self.steps > MAX_STEPS {
                    self.cut = Some(format!("evaluation stopped after {MAX_STEPS} commands"));
                    return;
                }
                for n in nodes.iter() {
                    match n {
                        Node::Func { .. } => self.node(n),
                        Node::Simple { words, .. } if words.is_empty() => self.node(n),
                        _ => {}
                    }
                }
                return;
            }
            if name == "unset" || name == "local" {
                for v in &argv[1..] {
                    let n = v.split('=').next().unwrap_or(v);
                    self.vars.insert(n.to_owned(), Value::Known(String::new()));
                }
                return;
            }
            if name == "set" && argv.get(1).is_some_and(|a| a == "--") {
                self.positional = argv[2..].to_vec();
                return;
            }
            if name == "return" {
                if self.in_func > 0 {
                    self.returning = true;
                } else {
                    self.exited = true;
                }
                return;
            }
            if let Some(body) = self.funcs.get(&name).cloned() {
                let saved = std::mem::replace(&mut self.positional, argv[1..].to_vec());
                self.in_func += 1;
                self.run(&body);
                self.in_func -= 1;
                self.returning = false;
                self.positional = saved;
                return;
            }
        }
        let argv = match unknown {
            Some(what) => Err(what),
            None => Ok(argv),
        };
        (self.on_command)(Call { argv, text });
    }

    fn var(&self, name: &str) -> Option<Value> {
        if let Ok(n) = name.parse::<usize>() {
            return Some(Value::Known(if n == 0 {
                "postinst".into()
            } else {
                self.positional.get(n - 1).cloned().unwrap_or_default()
            }));
        }
        match name {
            "DPKG_ROOT" => Some(Value::Known(String::new())),
            "#" => Some(Value::Known(self.positional.len().to_string())),
            "@" | "*" => Some(Value::Known(self.positional.join(" "))),
            _ => self.vars.get(name).cloned(),
        }
    }

    /// Expands a word into fields (unquoted expansions split on whitespace).
    fn expand_split(&mut self, w: &Word) -> Vec<Value> {
        let mut fields: Vec<Value> = Vec::new();
        let mut cur: Option<Value> = None;
        let append = |cur: &mut Option<Value>, v: Value| {
            *cur = Some(match (cur.take(), v) {
                (None, v) => v,
                (Some(Value::Known(a)), Value::Known(b)) => Value::Known(a + &b),
                (Some(Value::Unknown(a)), _) => Value::Unknown(a),
                (_, Value::Unknown(b)) => Value::Unknown(b),
            });
        };
        for piece in &w.0 {
            let v = self.expand_part(&piece.part);
            match (&v, piece.quoted, &piece.part) {
                (Value::Known(s), false, Part::Var { .. } | Part::Sub(_)) => {
                    let parts: Vec<&str> = s.split_whitespace().collect();
                    if parts.is_empty() {
                        continue;
                    }
                    if s.starts_with(char::is_whitespace)
                        && let Some(c) = cur.take()
                    {
                        fields.push(c);
                    }
                    for (i, p) in parts.iter().enumerate() {
                        if i > 0
                            && let Some(c) = cur.take()
                        {
                            fields.push(c);
                        }
                        append(&mut cur, Value::Known((*p).to_owned()));
                    }
                    if s.ends_with(char::is_whitespace)
                        && let Some(c) = cur.take()
                    {
                        fields.push(c);
                    }
                }
                _ => append(&mut cur, v),
            }
        }
        if let Some(c) = cur {
            fields.push(c);
        } else if w.0.iter().any(|p| p.quoted) {
            fields.push(Value::Known(String::new()));
        }
        fields
    }

    /// Expands a word without splitting (assignments, `case` subjects).
    fn expand_one(&mut self, w: &Word) -> Value {
        let mut out = String::new();
        for piece in &w.0 {
            match self.expand_part(&piece.part) {
                Value::Known(s) => out.push_str(&s),
                u => return u,
            }
        }
        Value::Known(out)
    }

    fn expand_part(&mut self, p: &Part) -> Value {
        match p {
            Part::Lit(s) => Value::Known(s.clone()),
            Part::Var { name, default } => match (self.var(name), default) {
                (Some(Value::Known(s)), Some(d)) if s.is_empty() => self.expand_one(d),
                (Some(v), _) => v,
                (None, Some(d)) => self.expand_one(d),
                (None, None) => Value::Unknown(format!("${name}")),
            },
            Part::Sub(nodes) => {
                self.capturing += 1;
                let saved = std::mem::take(&mut self.capture);
                // Commands inside `$(…)` other than `echo` produce output we cannot know.
                let mut opaque = None;
                let mut found: Vec<String> = Vec::new();
                let files = self.files;
                let native = self.native_arch.clone();
                {
                    let mut inner_unknown = |c: Call<'_>| {
                        // `command -v NAME` / `which NAME`: answered from the image.
                        if let Ok(argv) = &c.argv {
                            let args: Vec<&str> = argv.iter().map(String::as_str).collect();
                            if let (["dpkg", "--print-architecture"], Some(a)) = (args.as_slice(), &native) {
                                found.push(a.clone());
                                return;
                            }
                            // No diversions exist on a fresh install.
                            match args.as_slice() {
                                // Where a path really is: file tests follow links anyway, so
                                // the path itself answers them the same way.
                                ["dpkg-realpath", p] | ["dpkg-realpath", "--root", "", p]
                                    if p.starts_with('/') =>
                                {
                                    found.push((*p).to_owned());
                                    return;
                                }
                                ["dpkg-divert", "--listpackage", _] => return,
                                ["dpkg-divert", "--truename", f] => {
                                    found.push((*f).to_owned());
                                    return;
                                }
                                _ => {}
                            }
                            if let Some(v) = expr(&args) {
                                found.push(v);
                                return;
                            }
                            let name = match argv.iter().map(String::as_str).collect::<Vec<_>>().as_slice() {
                                ["command", "-v", n] | ["which", n] => Some(n.to_string()),
                                _ => None,
                            };
                            if let Some(Some(hit)) = name.map(|n| which_in(files, &n)) {
                                if let Some(p) = hit {
                                    found.push(p);
                                }
                                return;
                            }
                        }
                        opaque.get_or_insert(format!("$({})", c.text));
                    };
                    let mut sub = Eval {
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
                        in_func: 0,
                        capture: Vec::new(),
                        capturing: 1,
                        files,
                        links: self.links,
                        native_arch: self.native_arch.clone(),
                        source: None,
                    };
                    sub.run(nodes);
                    self.steps = sub.steps;
                    if self.cut.is_none() {
                        self.cut = sub.cut.take();
                    }
                    self.capture = std::mem::take(&mut sub.capture);
                }
                self.capture.extend(found);
                self.capturing -= 1;
                let out = std::mem::replace(&mut self.capture, saved).join("\n");
                match opaque {
                    Some(what) => Value::Unknown(what),
                    None => Value::Known(out),
                }
            }
            Part::Unknown(s) => Value::Unknown(s.clone()),
        }
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

/// `exit N` with a literal non-zero N.
fn is_failure_exit(n: &Node) -> bool {
    match n {
        Node::Simple { words, .. } => {
            words.first().and_then(Word::literal).as_deref() == Some("exit")
                && words
                    .get(1)
                    .and_then(Word::literal)
                    .is_some_and(|c| c.parse::<i32>().is_ok_and(|c| c != 0))
        }
        _ => false,
    }
}

/// Shell pattern matching for `case` arms: `*`, `?` and literal text.
///
/// Iterative, in time proportional to the product of the lengths at worst: a pattern from a
/// script can be long, and must not decide a recursion depth.
pub fn glob_match(pattern: &str, s: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let s: Vec<char> = s.chars().collect();
    let (mut pi, mut si) = (0, 0);
    // After the last `*` seen: the pattern index past it and the text index it was tried at.
    let mut star: Option<(usize, usize)> = None;
    while si < s.len() {
        match p.get(pi) {
            Some('*') => {
                star = Some((pi + 1, si));
                pi += 1;
            }
            Some('?') => {
                pi += 1;
                si += 1;
            }
            Some(c) if *c == s[si] => {
                pi += 1;
                si += 1;
            }
            _ => match star {
                // Let the last `*` take one more character and try again from there.
                Some((after, tried)) => {
                    pi = after;
                    si = tried + 1;
                    star = Some((after, tried + 1));
                }
                None => return false,
            },
        }
    }
    p[pi..].iter().all(|c| *c == '*')
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
            Node::While { cond, body } => {
                all_commands(cond, out);
                all_commands(body, out);
            }
            Node::Case { arms, .. } => {
                for (_, b) in arms {
                    all_commands(b, out);
                }
            }
            Node::Func { body, .. } | Node::Group(body) => all_commands(body, out),
            Node::AndOr(parts) => {
                for (_, p) in parts {
                    all_commands(std::slice::from_ref(p), out);
                }
            }
            Node::Pipe(cmds) => all_commands(cmds, out),
            Node::Not(inner) => all_commands(std::slice::from_ref(inner), out),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn calls(src: &str) -> Vec<Result<Vec<String>, String>> {
        let nodes = parse(src).unwrap();
        let mut out = Vec::new();
        let mut cb = |c: Call<'_>| out.push(c.argv);
        Eval::new(&["configure", ""], &mut cb).run(&nodes);
        out
    }

    #[test]
    fn sourcing_a_large_file_many_times_is_bounded() {
        // Found by the fuzzer (tests/it/fuzz.rs, target `shell`): every `. FILE` parsed and walked
        // the whole file again, so 10 000 of them over a large file took minutes.
        let library = format!("f() {{ echo hi; }}\n{}", "x=1\n".repeat(50_000));
        let script = ". /lib/big.sh\n".repeat(5_000) + "f\n";
        let reads = std::cell::Cell::new(0usize);
        let source = |_: &str| {
            reads.set(reads.get() + 1);
            Some(library.clone())
        };
        let nodes = parse(&script).unwrap();
        let mut cb = |_: Call<'_>| {};
        let started = std::time::Instant::now();
        let r = Eval::new(&["configure", ""], &mut cb)
            .with_source(&source)
            .run_script(&nodes);
        assert_eq!(reads.get(), 1, "one read and parse per sourced path");
        assert!(
            r.unwrap_err().contains("stopped after"),
            "the sourced nodes count as steps"
        );
        assert!(started.elapsed() < std::time::Duration::from_secs(20));
        // A library sourced once still defines its functions.
        let mut seen = Vec::new();
        let mut cb = |c: Call<'_>| seen.push(c.argv);
        let nodes = parse(". /lib/big.sh\nf\n").unwrap();
        Eval::new(&["configure", ""], &mut cb)
            .with_source(&source)
            .run_script(&nodes)
            .unwrap();
        assert_eq!(seen, vec![Ok(vec!["echo".to_owned(), "hi".to_owned()])]);
    }

    #[test]
    fn case_branches_and_functions() {
        let got = calls(
            "f() {\n  echo x\n  run \"$1\" two\n}\ncase \"$1\" in\n  configure)\n    f one\n  ;;\n  abort-upgrade) nope ;;\nesac\n",
        );
        assert_eq!(
            got,
            vec![
                Ok(vec!["echo".into(), "x".into()]),
                Ok(vec!["run".into(), "one".into(), "two".into()])
            ]
        );
    }

    #[test]
    fn substitution_of_echoing_function_and_loop() {
        let got = calls(
            "s () {\n\td=$1 f=$2\n\techo \"--slave $d/$f $f\"\n}\ncmd $(\n\ts /a b\n\tfor x in c d\n\tdo\n\t\ts /e $x\n\tdone\n)\n",
        );
        assert_eq!(
            got,
            vec![Ok("cmd --slave /a/b b --slave /e/c c --slave /e/d d"
                .split(' ')
                .map(String::from)
                .collect())]
        );
    }

    /// `open` repeated `n` times around `inner`, each level closed by `close`.
    fn nest(open: &str, inner: &str, close: &str, n: usize) -> String {
        format!("{}{inner}{}", open.repeat(n), close.repeat(n))
    }

    /// Every construct whose nesting the script decides: 5000 levels is an error naming the
    /// limit and the line, returned at once, never a stack overflow.
    #[test]
    fn deep_nesting_is_a_parse_error_not_a_stack_overflow() {
        let cases = [
            nest("(", "true", ")", 5000),
            nest("{ ", "true;", " }", 5000),
            nest("if true; then ", "true;", " fi;", 5000),
            nest("while true; do ", "true;", " done;", 5000),
            nest("for x in a; do ", "true;", " done;", 5000),
            nest("case x in x) ", "true;", " ;; esac;", 5000),
            nest("echo $(", "true", ")", 5000),
            nest("echo \"$(", "true", ")\"", 5000),
            nest("echo $( ( ", "true", " ) )", 2500),
            nest("echo ${x:-", "y", "}", 5000),
            format!("{}true\n", "f() ".repeat(5000)),
            format!("{}true\n", "! ( ".repeat(5000)),
        ];
        for (i, body) in cases.iter().enumerate() {
            let script = format!("#!/bin/sh\nset -e\n{body}\n");
            let started = std::time::Instant::now();
            // A thread with a small stack: the depth limit must hold well within it.
            let result = std::thread::Builder::new()
                .stack_size(1 << 20)
                .spawn(move || parse(&script).map(|_| ()).map_err(|e| (e.line, e.to_string())))
                .unwrap()
                .join()
                .unwrap();
            match result {
                Err((line, msg)) => {
                    assert_eq!(line, 3, "case {i}: {msg}");
                    // `${x:-${x:-…}}` is cut short by its first `}` instead: any error will do.
                    if i != 9 {
                        assert!(
                            msg.contains(&format!("nesting deeper than {MAX_NESTING} levels")),
                            "case {i}: {msg}"
                        );
                    }
                }
                Ok(()) if i == 9 => {}
                Ok(()) => panic!("case {i} parsed"),
            }
            assert!(
                started.elapsed().as_secs() < 10,
                "case {i} took {:?}",
                started.elapsed()
            );
        }
    }

    /// Up to the limit, scripts still parse and are walked, on a small stack.
    #[test]
    fn nesting_up_to_the_limit_parses_and_runs() {
        let depth = MAX_NESTING - 1;
        let cases = [
            nest("( ", "touch /x", " )", depth),
            nest("if true; then ", "touch /x;", " fi;", depth),
            format!("echo {}", nest("$(", "touch /x", ")", depth)),
            format!("echo {}", nest("\"$(", "touch /x", ")\"", depth)),
            nest(
                "( ",
                &format!("echo {}", nest("$(", "touch /x", ")", depth / 2)),
                " )",
                depth / 2,
            ),
        ];
        for (i, body) in cases.into_iter().enumerate() {
            let touched = std::thread::Builder::new()
                .stack_size(1 << 20)
                .spawn(move || {
                    let nodes = parse(&format!("#!/bin/sh\n{body}\n")).map_err(|e| e.to_string())?;
                    let mut seen = false;
                    let mut cb = |c: Call<'_>| {
                        // Inside `$(…)`, the command is what makes the outer one unknown.
                        seen |= match &c.argv {
                            Ok(argv) => argv.iter().any(|a| a == "touch"),
                            Err(what) => what.contains("touch /x"),
                        };
                    };
                    Eval::new(&["configure", ""], &mut cb).run_script(&nodes)?;
                    Ok::<bool, String>(seen)
                })
                .unwrap()
                .join()
                .unwrap();
            assert_eq!(touched, Ok(true), "case {i}");
        }
    }

    #[test]
    fn parse_errors_name_the_line() {
        let e = parse("#!/bin/sh\nif true; then\n  echo 'open\n").unwrap_err();
        assert_eq!((e.line, e.what.as_str()), (3, "unterminated '"), "{e}");
        let e = parse("#!/bin/sh\ntrue\nx=$(echo )\n  fi\n").unwrap_err();
        assert_eq!(e.line, 4, "{e}");
        let e = parse("#!/bin/sh\ntrue\necho \"$(\n\n  ( if )\n)\"\n").unwrap_err();
        assert_eq!(e.line, 5, "an error inside $(…) is placed in the script: {e}");
    }

    /// A function that calls itself, once or twice: the walk stops, says why, and is quick.
    #[test]
    fn runaway_evaluation_is_cut_short_and_said() {
        for script in [
            "f() { f; }\nf\n",
            "f() { f; f; }\nf\n",
            "f() { echo $(f) $(f); }\nf\n",
        ] {
            let nodes = parse(script).unwrap();
            let started = std::time::Instant::now();
            let mut cb = |_: Call<'_>| {};
            let cut = std::thread::Builder::new()
                .stack_size(1 << 20)
                .spawn(move || Eval::new(&["configure", ""], &mut cb).run_script(&nodes))
                .unwrap()
                .join()
                .unwrap();
            let why = cut.unwrap_err();
            assert!(why.contains("evaluation stopped"), "{why}");
            assert!(
                started.elapsed().as_secs() < 20,
                "{script:?} took {:?}",
                started.elapsed()
            );
        }
    }

    #[test]
    fn glob_patterns() {
        for (p, s, want) in [
            ("*", "", true),
            ("*", "abc", true),
            ("a*c", "abbbc", true),
            ("a*c", "abcd", false),
            ("a?c", "abc", true),
            ("a?c", "ac", false),
            ("*-upgrade", "abort-upgrade", true),
            ("configure", "configure", true),
            ("configure", "configured", false),
            ("*a*b*", "xaxxbx", true),
            ("*a*b", "xaxxbx", false),
        ] {
            assert_eq!(glob_match(p, s), want, "{p} vs {s}");
        }
        // A long hostile pattern is no recursion and no exponential time.
        let p = "*a".repeat(20_000);
        assert!(!glob_match(&p, &"a".repeat(19_999)));
        assert!(glob_match(&p, &"ba".repeat(20_000)));
    }

    #[test]
    fn heredocs_and_redirections_are_skipped() {
        let got = calls("cat <<EOF\nnot a command\nEOF\nfoo >/dev/null 2>&1 || true\n");
        assert_eq!(got, vec![Ok(vec!["cat".into()]), Ok(vec!["foo".into()])]);
    }
}

#[cfg(test)]
mod host_scripts {
    /// Parses every maintainer script installed on the host (when it has a dpkg database): the
    /// parser must understand the forms real packages use.
    #[test]
    fn parses_host_maintainer_scripts() {
        let Ok(dir) = std::fs::read_dir("/var/lib/dpkg/info") else {
            eprintln!("note: no /var/lib/dpkg/info on this host, skipping");
            return;
        };
        let (mut ok, mut failed) = (0, Vec::new());
        for e in dir.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            if !["preinst", "postinst", "prerm", "postrm", "config"]
                .iter()
                .any(|s| name.ends_with(&format!(".{s}")))
            {
                continue;
            }
            let Ok(text) = std::fs::read_to_string(e.path()) else {
                continue;
            };
            if !text.starts_with("#!/bin/sh")
                && !text.starts_with("#! /bin/sh")
                && !text.starts_with("#!/bin/bash")
            {
                continue;
            }
            match super::parse(&text) {
                Ok(_) => ok += 1,
                Err(err) => failed.push(format!("{name}: {err}")),
            }
        }
        eprintln!("parsed {ok}, failed {}:\n{}", failed.len(), failed.join("\n"));
        assert!(failed.len() * 20 <= ok, "too many failures");
    }
}
