//! The lexer: script text to words and operators (quotes, `$…` expansions, here-documents).

use super::ast::{Part, Piece, Redir, Word};
use super::parse_nested;

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

pub(super) fn too_deep(at: usize) -> ParseError {
    ParseError {
        at,
        line: 0,
        what: format!("nesting deeper than {MAX_NESTING} levels"),
    }
}

#[derive(Debug, Clone, PartialEq)]
pub(super) enum Tok {
    Word(Word, usize, usize),
    Op(&'static str),
    Newline,
    /// A redirection kept for the command it follows (see [`strip_redirections`]).
    Redir(Redir),
    /// Where a here-document's operator stood; its body is read after the line ends.
    HeredocAt(usize),
}

/// A here-document being read: its delimiter, whether `<<-` strips leading tabs, whether the
/// delimiter was quoted (no expansions in the body), and its index in `bodies`.
pub(super) struct PendingDoc {
    delim: String,
    tabs: bool,
    quoted: bool,
    index: usize,
}

pub(super) struct Lexer<'a> {
    pub(super) s: &'a [u8],
    pub(super) src: &'a str,
    pub(super) i: usize,
    pub(super) heredocs: Vec<PendingDoc>,
    /// Here-document bodies by index (`None`: unterminated).
    pub(super) bodies: Vec<Option<Body>>,
    /// Where `src` starts in the script (for error positions).
    pub(super) base: usize,
    /// Nesting levels around `src` (see [`MAX_NESTING`]).
    pub(super) depth: usize,
}

/// A here-document's body as read.
#[derive(Debug, Clone)]
pub(super) enum Body {
    Text(String),
    Expands(Word),
    /// With expansions this lexer cannot read (an unterminated `$(`).
    Unknown,
}

/// A here-document body with expansions as the double-quoted word it expands like: `"` is
/// literal in a here-document, so it is escaped (a `\"` of the body stays a backslash and a
/// quote); the rest (`\$`, `` \` ``, `\\`, `\` + newline, other backslashes kept) is what double
/// quotes do too.
fn expanding_body(body: &str, depth: usize) -> Option<Word> {
    let mut quoted = String::with_capacity(body.len() + 2);
    quoted.push('"');
    let mut chars = body.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' if chars.peek() == Some(&'"') => quoted.push_str("\\\\"),
            '"' => quoted.push_str("\\\""),
            c => quoted.push(c),
        }
    }
    quoted.push('"');
    let mut lexer = Lexer::new(&quoted);
    lexer.depth = depth;
    let word = lexer.word().ok()?;
    (lexer.i == quoted.len()).then_some(word)
}

/// Literal text holding U+FFFD, what a script's bytes that are not UTF-8 were read as: its
/// real bytes are not known, so neither is the text (a sed expression written in Latin-1).
fn undecoded_unknown(piece: Piece) -> Piece {
    match piece.part {
        Part::Lit(text) if text.contains(char::REPLACEMENT_CHARACTER) => Piece {
            part: Part::Unknown(format!("text that is not UTF-8: {text}")),
            quoted: piece.quoted,
        },
        _ => piece,
    }
}

pub(super) const OPS: &[&str] = &[
    ";;", "&&", "||", ">>", "<<-", "<<", ">&", "<&", "&>", ";", "&", "|", "(", ")", "<", ">",
];

impl<'a> Lexer<'a> {
    pub(super) fn new(src: &'a str) -> Self {
        Lexer {
            s: src.as_bytes(),
            src,
            i: 0,
            heredocs: Vec::new(),
            bodies: Vec::new(),
            base: 0,
            depth: 0,
        }
    }

    pub(super) fn err(&self, what: &str) -> ParseError {
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
    pub(super) fn run(mut self) -> Result<Vec<(Tok, usize)>, ParseError> {
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
                            let index = self.bodies.len();
                            self.bodies.push(None);
                            self.heredocs.push(PendingDoc {
                                quoted: delim.len() != raw.len(),
                                delim,
                                tabs: *op == "<<-",
                                index,
                            });
                            out.push((Tok::HeredocAt(index), at));
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
                    // Only standard output's redirections are kept (see `strip_redirections`).
                    if self.s.get(self.i).is_some_and(|c| *c == b'>' || *c == b'<')
                        && let Some(fd) = w.literal().filter(|l| l.chars().all(|c| c.is_ascii_digit()))
                    {
                        if fd != "1" {
                            let op = if self.s[self.i..].starts_with(b">>") {
                                "N>>"
                            } else {
                                "N>"
                            };
                            if self.s[self.i..].starts_with(b">&") {
                                // `2>&1` is kept (standard error joins standard output);
                                // another descriptor's duplication is dropped with its target.
                                self.i += 2;
                                out.push((Tok::Op(if fd == "2" { "2>&" } else { "N>&" }), start));
                            } else if self.s[self.i..].starts_with(b">") {
                                self.i += op.len() - 1;
                                out.push((Tok::Op(op), start));
                            }
                        }
                        continue;
                    }
                    out.push((Tok::Word(w, start, self.i), start));
                }
            }
        }
        let bodies = std::mem::take(&mut self.bodies);
        let out = out
            .into_iter()
            .map(|(t, at)| match t {
                Tok::HeredocAt(i) => {
                    let redir = match bodies.get(i).cloned().flatten() {
                        Some(Body::Text(text)) => Redir::Heredoc(Some(text)),
                        Some(Body::Expands(word)) => Redir::HeredocExpands(word),
                        Some(Body::Unknown) | None => Redir::Heredoc(None),
                    };
                    (Tok::Redir(redir), at)
                }
                t => (t, at),
            })
            .collect();
        Ok(strip_redirections(out))
    }

    fn skip_heredocs(&mut self) -> Result<(), ParseError> {
        let docs = std::mem::take(&mut self.heredocs);
        for doc in docs {
            let mut body = String::new();
            loop {
                if self.i >= self.s.len() {
                    // Unterminated: the body is not known for sure.
                    return Ok(());
                }
                let end = self.s[self.i..]
                    .iter()
                    .position(|c| *c == b'\n')
                    .map_or(self.s.len(), |p| self.i + p);
                let line = &self.src[self.i..end];
                self.i = (end + 1).min(self.s.len());
                let l = if doc.tabs {
                    line.trim_start_matches('\t')
                } else {
                    line
                };
                if l == doc.delim {
                    break;
                }
                body.push_str(l);
                body.push('\n');
            }
            let expands = !doc.quoted && body.contains(['$', '`', '\\']);
            if let Some(slot) = self.bodies.get_mut(doc.index) {
                *slot = Some(if expands {
                    match expanding_body(&body, self.depth) {
                        Some(word) => Body::Expands(word),
                        None => Body::Unknown,
                    }
                } else if body.contains(char::REPLACEMENT_CHARACTER) {
                    // Bytes that were not UTF-8 (see `undecoded_unknown`).
                    Body::Unknown
                } else {
                    Body::Text(body)
                });
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
        Ok(Word(pieces.into_iter().map(undecoded_unknown).collect()))
    }

    /// At `$` or a backquote: a variable, `${…}`, `$(…)`, `$((…))` or `` `…` ``.
    fn dollar_or_backquote(&mut self) -> Result<Part, ParseError> {
        if self.s[self.i] == b'`' {
            // The closing backquote is the first one not escaped; inside, `\\`, `` \` `` and
            // `\$` stand for the character itself (sh reads the command from that text), every
            // other backslash stays (samba-common's `` `echo $W | sed -e's/\\\\/…/'` ``).
            let mut end = None;
            let mut j = self.i + 1;
            while j < self.s.len() {
                match self.s[j] {
                    b'\\' => j += 2,
                    b'`' => {
                        end = Some(j);
                        break;
                    }
                    _ => j += 1,
                }
            }
            let end = end.ok_or_else(|| self.err("unterminated `"))?;
            let raw = &self.src[self.i + 1..end];
            let mut inner = String::with_capacity(raw.len());
            let mut chars = raw.chars();
            while let Some(c) = chars.next() {
                if c == '\\' {
                    match chars.next() {
                        Some(n @ ('\\' | '`' | '$')) => inner.push(n),
                        Some(n) => {
                            inner.push('\\');
                            inner.push(n);
                        }
                        None => inner.push('\\'),
                    }
                } else {
                    inner.push(c);
                }
            }
            let (base, depth) = self.nested(self.i + 1)?;
            self.i = end + 1;
            return Ok(Part::Sub(parse_nested(&inner, base, depth)?));
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
                    // `inner` is `(EXPR)`.
                    let expr = &inner[1..inner.len() - 1];
                    let (_, depth) = self.nested(start)?;
                    Ok(match expanding_body(expr, depth) {
                        Some(word) => Part::Arith(word),
                        None => Part::Unknown(format!("$({inner})")),
                    })
                } else {
                    let (base, depth) = self.nested(start)?;
                    Ok(Part::Sub(parse_nested(inner, base, depth)?))
                }
            }
            Some(b'{') => {
                let end = self.matching_brace(self.i)?;
                let inner = &self.src[self.i + 1..end];
                self.i = end + 1;
                // `${@}`, `${*}`, `${?}`…: a special parameter's name is its one character
                // (`${#}` alone: `${#NAME}` is a length, not handled here).
                let special = match inner.as_bytes() {
                    [b'#' | b'-'] => 1,
                    [b'@' | b'*' | b'?' | b'$' | b'!', rest @ ..]
                        if rest.is_empty() || b":-+#%".contains(&rest[0]) =>
                    {
                        1
                    }
                    _ => 0,
                };
                let name_len = if special > 0 {
                    special
                } else {
                    inner
                        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                        .unwrap_or(inner.len())
                };
                let (name, rest) = inner.split_at(name_len);
                let default = rest.strip_prefix(":-").or_else(|| rest.strip_prefix('-'));
                let alt = rest
                    .strip_prefix(":+")
                    .map(|w| (true, w))
                    .or_else(|| rest.strip_prefix('+').map(|w| (false, w)));
                if let (false, Some((colon, a))) = (name.is_empty(), alt) {
                    let (base, depth) = self.nested(end - a.len())?;
                    let protected = protect_word(a);
                    let mut lexer = Lexer::new(&protected);
                    lexer.base = base;
                    lexer.depth = depth;
                    let word = lexer.word()?;
                    return Ok(Part::Alt {
                        name: name.into(),
                        colon,
                        word,
                    });
                }
                let trim = [
                    ("##", false, true),
                    ("#", false, false),
                    ("%%", true, true),
                    ("%", true, false),
                ]
                .into_iter()
                .find_map(|(op, suffix, longest)| rest.strip_prefix(op).map(|p| (suffix, longest, p)));
                if let (false, Some((suffix, longest, pattern))) = (name.is_empty(), trim) {
                    let (base, depth) = self.nested(end - pattern.len())?;
                    let protected = protect_blanks(pattern);
                    let mut lexer = Lexer::new(&protected);
                    lexer.base = base;
                    lexer.depth = depth;
                    let pattern = if pattern.is_empty() {
                        Word::default()
                    } else {
                        lexer.word()?
                    };
                    return Ok(Part::Trim {
                        name: name.into(),
                        suffix,
                        longest,
                        pattern,
                    });
                }
                if rest.is_empty() {
                    Ok(Part::Var {
                        name: name.into(),
                        default: None,
                    })
                } else if let Some(d) = default {
                    let (base, depth) = self.nested(end - d.len())?;
                    let protected = protect_word(d);
                    let mut lexer = Lexer::new(&protected);
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
    /// The `}` closing the `${` whose `{` is at `open`: expansions nested in its word
    /// (`${dom:+.${dom%.}}`), `$(…)`, quotes and backslashes are stepped over.
    fn matching_brace(&self, open: usize) -> Result<usize, ParseError> {
        let mut depth = 1;
        let mut in_dq = false;
        let mut i = open + 1;
        while i < self.s.len() {
            match self.s[i] {
                b'\\' => i += 1,
                b'"' => in_dq = !in_dq,
                b'\'' if !in_dq => {
                    i += self.s[i + 1..].iter().position(|c| *c == b'\'').unwrap_or(0) + 1;
                }
                b'$' if self.s.get(i + 1) == Some(&b'(') => i = self.matching_paren(i + 1)?,
                b'$' if self.s.get(i + 1) == Some(&b'{') => {
                    depth += 1;
                    i += 1;
                }
                b'}' => {
                    depth -= 1;
                    if depth == 0 {
                        return Ok(i);
                    }
                }
                _ => {}
            }
            i += 1;
        }
        Err(self.err("unterminated ${"))
    }

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

/// Keeps standard output's `>`/`>>` and here-documents of simple and compound commands (after
/// `done`, `fi`, `esac`, `}` or `)`) as [`Tok::Redir`] (the files module applies `cat >FILE
/// <<EOF`, `echo … >FILE`; a loop reads a here-document line by line); drops every other
/// redirection operator and its target (`2>/dev/null`, `2>&1`, `<file`).
fn strip_redirections(toks: Vec<(Tok, usize)>) -> Vec<(Tok, usize)> {
    let mut out: Vec<(Tok, usize)> = Vec::with_capacity(toks.len());
    let mut it = toks.into_iter().peekable();
    let closes_compound = |out: &[(Tok, usize)]| match out.last() {
        Some((Tok::Word(w, ..), _)) => {
            matches!(w.is_unquoted_lit().as_deref(), Some("done" | "fi" | "esac" | "}"))
        }
        Some((Tok::Op(")"), _)) => true,
        _ => false,
    };
    let after_simple = |out: &[(Tok, usize)]| match out.last() {
        Some((Tok::Word(w, ..), _)) => {
            !matches!(w.is_unquoted_lit().as_deref(), Some("done" | "fi" | "esac" | "}"))
        }
        Some((Tok::Redir(_), _)) => true,
        _ => false,
    };
    // Whether the tokens since the last compound closer are only kept redirections.
    let after_compound = |out: &[(Tok, usize)]| {
        let redirs = out
            .iter()
            .rev()
            .take_while(|(t, _)| matches!(t, Tok::Redir(_)))
            .count();
        closes_compound(&out[..out.len() - redirs])
    };
    // A redirection may also come before the command's words (`>FILE cmd`, `>&2 echo …`, or
    // `>FILE` alone, which empties FILE): it then follows a separator or starts the script.
    let at_command_start = |out: &[(Tok, usize)]| {
        matches!(
            out.last(),
            None | Some((
                Tok::Newline | Tok::Op(";" | ";;" | "&&" | "||" | "|" | "&" | "("),
                _
            ))
        )
    };
    let kept = |out: &[(Tok, usize)]| after_simple(out) || after_compound(out) || at_command_start(out);
    while let Some(t) = it.next() {
        match t {
            (Tok::Op(op @ (">" | ">>")), at) => {
                if let Some((Tok::Word(..), _)) = it.peek()
                    && let Some((Tok::Word(target, ..), _)) = it.next()
                    && kept(&out)
                {
                    out.push((
                        Tok::Redir(Redir::Out {
                            append: op == ">>",
                            target,
                        }),
                        at,
                    ));
                }
            }
            (Tok::Op("<"), at) => {
                if let Some((Tok::Word(..), _)) = it.peek()
                    && let Some((Tok::Word(source, ..), _)) = it.next()
                    && kept(&out)
                {
                    out.push((Tok::Redir(Redir::In(source)), at));
                }
            }
            // `>&2` (`1>&2`): standard output goes where standard error goes, so an enclosing
            // `>FILE` (or an earlier `exec >FILE`) does not take what the command prints
            // (mkconf's warnings) unless standard error goes there too. Another descriptor
            // (debconf's 3) is not a file of the image: kept as /dev/null.
            (Tok::Op(">&"), at) => {
                if let Some((Tok::Word(..), _)) = it.peek()
                    && let Some((Tok::Word(fd, ..), _)) = it.next()
                    && let Some(fd) = fd
                        .literal()
                        .filter(|l| l != "1" && l.chars().all(|c| c.is_ascii_digit()))
                    && kept(&out)
                {
                    let redir = if fd == "2" {
                        Redir::OutToErr
                    } else {
                        let target = Word(vec![Piece {
                            part: Part::Lit("/dev/null".to_owned()),
                            quoted: false,
                        }]);
                        Redir::Out { append: true, target }
                    };
                    out.push((Tok::Redir(redir), at));
                }
            }
            (Tok::Op("2>&"), at) => {
                if let Some((Tok::Word(..), _)) = it.peek()
                    && let Some((Tok::Word(fd, ..), _)) = it.next()
                    && fd.literal().as_deref() == Some("1")
                    && kept(&out)
                {
                    out.push((Tok::Redir(Redir::ErrToOut), at));
                }
            }
            (Tok::Op("N>" | "N>>" | "N>&" | "<&" | "&>"), _) => {
                if matches!(it.peek(), Some((Tok::Word(..), _))) {
                    it.next();
                }
            }
            (Tok::Redir(r), at) => {
                if kept(&out) {
                    out.push((Tok::Redir(r), at));
                }
            }
            t => out.push(t),
        }
    }
    out
}

/// The word of `${name:-…}` and `${name:+…}`: neither blanks nor `<`, `>`, `|`, `&`, `;` end it or
/// make it a redirection (mdadm's `${DEVICE:-partitions containers}`, `${HOMEHOST:-<system>}`).
/// Escaped, the word lexer takes them as its text; whether the expansion is split into fields
/// is the enclosing `${…}`'s quoting, as in sh.
fn protect_word(text: &str) -> String {
    escape_unquoted(text, " \t<>|&;")
}

/// The pattern of `${name%…}` (and `#`, `%%`, `##`), where blanks do not end the word (`${line%%
/// *}`): unquoted blanks escaped, so the word lexer takes them as part of it (a blank is no
/// glob character, so quoting it changes nothing else).
fn protect_blanks(text: &str) -> String {
    escape_unquoted(text, " \t")
}

/// `text` with a backslash before each of `chars` that is outside quotes and outside a nested
/// `$(…)`/`${…}`.
fn escape_unquoted(text: &str, chars: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let (mut quote, mut escaped, mut depth) = (None, false, 0usize);
    for c in text.chars() {
        if escaped {
            escaped = false;
        } else if c == '\\' && quote != Some('\'') {
            escaped = true;
        } else if let Some(q) = quote {
            if c == q {
                quote = None;
            }
        } else if c == '\'' || c == '"' {
            quote = Some(c);
        } else if c == '(' || c == '{' {
            depth += 1;
        } else if (c == ')' || c == '}') && depth > 0 {
            depth -= 1;
        } else if chars.contains(c) && depth == 0 {
            out.push('\\');
        }
        out.push(c);
    }
    out
}
