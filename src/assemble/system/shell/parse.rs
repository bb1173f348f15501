//! The parser: tokens to the syntax tree (entered through [`super::parse`]).

use super::ast::{Node, Part, Piece, Word};
use super::lex::{MAX_NESTING, ParseError, Tok, too_deep};

pub(super) struct Parser {
    pub(super) toks: Vec<Tok>,
    /// Byte offset (in `src`) of each token.
    pub(super) offsets: Vec<usize>,
    pub(super) pos: usize,
    pub(super) src: String,
    /// Where `src` starts in the script.
    pub(super) base: usize,
    /// Nesting levels around the command being parsed (see [`MAX_NESTING`]).
    pub(super) depth: usize,
}

pub(super) const RESERVED_END: &[&str] = &["then", "elif", "else", "fi", "do", "done", "esac", "}"];

impl Parser {
    pub(super) fn err(&self, what: &str) -> ParseError {
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
    pub(super) fn list(&mut self, stops: &[&str]) -> Result<Vec<Node>, ParseError> {
        let mut nodes = Vec::new();
        loop {
            self.skip_newlines();
            match self.toks.get(self.pos) {
                None => return Ok(nodes),
                Some(Tok::Op(op)) if stops.contains(op) => return Ok(nodes),
                // A `&` with no command before it (a syntax error to sh) is passed over.
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
            let node = self.and_or()?;
            // `CMD &` runs in a subshell of its own: its `exec`, `exit` and assignments do not
            // reach the script (its file effects do, as the job runs to its end).
            if let Some(Tok::Op("&")) = self.toks.get(self.pos) {
                self.pos += 1;
                nodes.push(Node::Background(vec![node]));
            } else {
                nodes.push(node);
            }
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
        let node = node?;
        // A compound command's own `>FILE`: what its commands print goes there.
        let mut redirs = Vec::new();
        while let Some(Tok::Redir(r)) = self.toks.get(self.pos) {
            redirs.push(r.clone());
            self.pos += 1;
        }
        Ok(match node {
            Node::Func { .. } | Node::Simple { .. } => node,
            _ if redirs.is_empty() => node,
            body => Node::Redirected {
                body: Box::new(body),
                redirs,
            },
        })
    }

    fn command_inner(&mut self) -> Result<Node, ParseError> {
        if let Some(Tok::Op("(")) = self.toks.get(self.pos) {
            self.pos += 1;
            let body = self.list(&[")"])?;
            self.expect_op(")")?;
            return Ok(Node::Subshell(body));
        }
        match self.peek_word().as_deref() {
            Some("if") => return self.if_(),
            Some("for") => return self.for_(),
            Some(word @ ("while" | "until")) => {
                let until = word == "until";
                self.pos += 1;
                let cond = self.list(&["do"])?;
                self.expect_word("do")?;
                let body = self.list(&["done"])?;
                self.expect_word("done")?;
                return Ok(Node::While { cond, body, until });
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
        // bash's `function name [()] compound` (nbd-server's `#! /bin/bash` postinst); dash has
        // no such keyword, and a script using it fails there before doing anything.
        if self.peek_word().as_deref() == Some("function")
            && let Some(Tok::Word(w, ..)) = self.toks.get(self.pos + 1)
            && let Some(name) = w.is_unquoted_lit()
        {
            self.pos += 2;
            if let (Some(Tok::Op("(")), Some(Tok::Op(")"))) =
                (self.toks.get(self.pos), self.toks.get(self.pos + 1))
            {
                self.pos += 2;
            }
            return self.function_body(name);
        }
        // Function definition `name() compound`.
        if let (Some(name), Some(Tok::Op("(")), Some(Tok::Op(")"))) = (
            self.peek_word(),
            self.toks.get(self.pos + 1),
            self.toks.get(self.pos + 2),
        ) {
            self.pos += 3;
            return self.function_body(name);
        }
        self.simple()
    }

    /// A function's compound command, after its name (and `()`).
    fn function_body(&mut self, name: String) -> Result<Node, ParseError> {
        self.skip_newlines();
        let body = match self.command()? {
            Node::Group(b) => b,
            other => vec![other],
        };
        Ok(Node::Func { name, body })
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
        let mut redirs = Vec::new();
        let (mut start, mut end) = (usize::MAX, 0);
        loop {
            let (w, s, e) = match self.toks.get(self.pos) {
                Some(Tok::Word(w, s, e)) => (w, s, e),
                Some(Tok::Redir(r)) => {
                    redirs.push(r.clone());
                    self.pos += 1;
                    continue;
                }
                _ => break,
            };
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
        if assigns.is_empty() && words.is_empty() && redirs.is_empty() {
            return Err(self.err(&format!("unexpected {:?}", self.toks.get(self.pos))));
        }
        let text = self.src.get(start..end).unwrap_or("").to_owned();
        let text = text
            .replace("\\\n", " ")
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
        Ok(Node::Simple {
            assigns,
            words,
            redirs,
            text,
        })
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
