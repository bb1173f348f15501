//! GLib's GVariant, as far as `glib-compile-schemas` needs it: type strings, values, their
//! serialised normal form (`gvariant-serialiser.c`) and the text format of `<default>` elements
//! and override files (`g_variant_parse`, `gvariant-parser.c`, GLib 2.74).
//!
//! The parser keeps GLib's two passes: text → syntax tree, then tree → value for a wanted type;
//! a value in `<…>` has no wanted type and is given one by GLib's pattern inference (numbers
//! `i`, strings `s`, maybes dropped where they can be). Written here rather than taken from a
//! crate because the point is GLib's exact bytes and its exact notion of an invalid value: a
//! schema file with one is dropped whole by the tool.
//!
//! Two kinds of failure: [`ParseError::Invalid`] is what GLib rejects too (the file is dropped,
//! as the tool does), [`ParseError::Unsupported`] is text whose value debcast does not
//! reproduce with certainty (hexadecimal floats, `nan`, out-of-range escapes…): the whole
//! compile is then reported instead of written.

use std::fmt;

use super::super::clib::is_space;

/// GLib's `G_VARIANT_MAX_RECURSION_DEPTH`.
const MAX_DEPTH: usize = 128;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ParseError {
    /// GLib refuses the text too.
    Invalid(String),
    /// Text GLib may accept, whose value debcast does not compute.
    Unsupported(String),
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ParseError::Invalid(m) => write!(f, "{m}"),
            ParseError::Unsupported(m) => write!(f, "not reproduced: {m}"),
        }
    }
}

fn invalid<T>(m: impl Into<String>) -> Result<T, ParseError> {
    Err(ParseError::Invalid(m.into()))
}

fn unsupported<T>(m: impl Into<String>) -> Result<T, ParseError> {
    Err(ParseError::Unsupported(m.into()))
}

// ---------------------------------------------------------------------------------------------
// Type strings

const BASIC: &[u8] = b"bynqiuxthdsog";

/// The length of the single complete definite type at the start of `t`, if there is one.
/// (Indefinite types — `*`, `?`, `r` — never name a key's type in a schema debcast compiles.)
pub fn type_len(t: &[u8]) -> Option<usize> {
    type_len_depth(t, 0)
}

fn type_len_depth(t: &[u8], depth: usize) -> Option<usize> {
    if depth > MAX_DEPTH {
        return None;
    }
    match *t.first()? {
        c if BASIC.contains(&c) || c == b'v' => Some(1),
        b'a' | b'm' => Some(1 + type_len_depth(&t[1..], depth + 1)?),
        b'(' => {
            let mut i = 1;
            while *t.get(i)? != b')' {
                i += type_len_depth(&t[i..], depth + 1)?;
            }
            Some(i + 1)
        }
        b'{' => {
            let k = *t.get(1)?;
            if !BASIC.contains(&k) {
                return None;
            }
            let v = type_len_depth(&t[2..], depth + 1)?;
            (*t.get(2 + v)? == b'}').then_some(3 + v)
        }
        _ => None,
    }
}

/// Whether `t` is one complete definite type.
pub fn is_type(t: &str) -> bool {
    type_len(t.as_bytes()) == Some(t.len())
}

/// The member types of a tuple or dictionary-entry type.
fn members(t: &str) -> Vec<&str> {
    let b = t.as_bytes();
    let mut out = Vec::new();
    let mut i = 1;
    while i < b.len() - 1 {
        let n = type_len(&b[i..]).unwrap_or(b.len() - 1 - i);
        out.push(&t[i..i + n]);
        i += n;
    }
    out
}

/// `g_variant_type_info_query`'s alignment (as a byte count: 1, 2, 4 or 8).
pub fn alignment(t: &str) -> usize {
    match t.as_bytes().first() {
        Some(b'n' | b'q') => 2,
        Some(b'i' | b'u' | b'h') => 4,
        Some(b'x' | b't' | b'd' | b'v') => 8,
        Some(b'a' | b'm') => alignment(&t[1..]),
        Some(b'(' | b'{') => members(t).iter().map(|m| alignment(m)).max().unwrap_or(1),
        _ => 1,
    }
}

/// The fixed size of values of `t`, `None` for a variable-size type.
pub fn fixed_size(t: &str) -> Option<usize> {
    match t.as_bytes().first()? {
        b'b' | b'y' => Some(1),
        b'n' | b'q' => Some(2),
        b'i' | b'u' | b'h' => Some(4),
        b'x' | b't' | b'd' => Some(8),
        b'(' | b'{' => {
            let mut offset = 0usize;
            for m in members(t) {
                let a = alignment(m);
                offset = offset.div_ceil(a) * a;
                offset += fixed_size(m)?;
            }
            let a = alignment(t);
            Some(match offset.div_ceil(a) * a {
                0 => 1,
                n => n,
            })
        }
        _ => None,
    }
}

// ---------------------------------------------------------------------------------------------
// Values

/// A GVariant value; containers carry their type where their children cannot give it (an
/// empty array, `nothing`).
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Bool(bool),
    Byte(u8),
    I16(i16),
    U16(u16),
    I32(i32),
    U32(u32),
    I64(i64),
    U64(u64),
    Handle(i32),
    Double(f64),
    Str(String),
    ObjectPath(String),
    Signature(String),
    Variant(Box<Value>),
    /// The maybe type (`m…`) and its content.
    Maybe(String, Option<Box<Value>>),
    /// The array type (`a…`) and its elements.
    Array(String, Vec<Value>),
    Tuple(Vec<Value>),
    DictEntry(Box<Value>, Box<Value>),
}

impl Value {
    pub fn type_string(&self) -> String {
        match self {
            Value::Bool(_) => "b".into(),
            Value::Byte(_) => "y".into(),
            Value::I16(_) => "n".into(),
            Value::U16(_) => "q".into(),
            Value::I32(_) => "i".into(),
            Value::U32(_) => "u".into(),
            Value::I64(_) => "x".into(),
            Value::U64(_) => "t".into(),
            Value::Handle(_) => "h".into(),
            Value::Double(_) => "d".into(),
            Value::Str(_) => "s".into(),
            Value::ObjectPath(_) => "o".into(),
            Value::Signature(_) => "g".into(),
            Value::Variant(_) => "v".into(),
            Value::Maybe(t, _) | Value::Array(t, _) => t.clone(),
            Value::Tuple(items) => {
                let mut s = String::from("(");
                for i in items {
                    s.push_str(&i.type_string());
                }
                s.push(')');
                s
            }
            Value::DictEntry(k, v) => format!("{{{}{}}}", k.type_string(), v.type_string()),
        }
    }

    /// The serialised normal form (`g_variant_store` of `g_variant_get_normal_form`).
    pub fn serialise(&self) -> Vec<u8> {
        match self {
            Value::Bool(b) => vec![u8::from(*b)],
            Value::Byte(v) => vec![*v],
            Value::I16(v) => v.to_le_bytes().to_vec(),
            Value::U16(v) => v.to_le_bytes().to_vec(),
            Value::I32(v) | Value::Handle(v) => v.to_le_bytes().to_vec(),
            Value::U32(v) => v.to_le_bytes().to_vec(),
            Value::I64(v) => v.to_le_bytes().to_vec(),
            Value::U64(v) => v.to_le_bytes().to_vec(),
            Value::Double(v) => v.to_le_bytes().to_vec(),
            Value::Str(s) | Value::ObjectPath(s) | Value::Signature(s) => {
                let mut out = s.as_bytes().to_vec();
                out.push(0);
                out
            }
            Value::Variant(child) => {
                let mut out = child.serialise();
                out.push(0);
                out.extend_from_slice(child.type_string().as_bytes());
                out
            }
            Value::Maybe(_, None) => Vec::new(),
            Value::Maybe(_, Some(child)) => {
                let mut out = child.serialise();
                if fixed_size(&child.type_string()).is_none() {
                    out.push(0);
                }
                out
            }
            Value::Array(t, items) => serialise_array(&t[1..], items),
            Value::Tuple(items) => serialise_members(&self.type_string(), items.iter()),
            Value::DictEntry(k, v) => serialise_members(&self.type_string(), [&**k, &**v].into_iter()),
        }
    }

    /// `g_variant_compare` for the number types a `<range>` allows.
    fn compare_number(&self, other: &Value) -> Option<std::cmp::Ordering> {
        use Value::*;
        match (self, other) {
            (Byte(a), Byte(b)) => Some(a.cmp(b)),
            (I16(a), I16(b)) => Some(a.cmp(b)),
            (U16(a), U16(b)) => Some(a.cmp(b)),
            (I32(a), I32(b)) => Some(a.cmp(b)),
            (U32(a), U32(b)) => Some(a.cmp(b)),
            (I64(a), I64(b)) => Some(a.cmp(b)),
            (U64(a), U64(b)) => Some(a.cmp(b)),
            (Double(a), Double(b)) => a.partial_cmp(b),
            _ => None,
        }
    }

    /// Whether `self` lies outside `[min, max]` (GLib compares with `<` and `>`).
    pub fn outside(&self, min: &Value, max: &Value) -> bool {
        use std::cmp::Ordering::{Greater, Less};
        self.compare_number(min) == Some(Less) || self.compare_number(max) == Some(Greater)
    }

    /// `g_variant_compare (self, other) > 0` for two numbers of one type.
    pub fn greater(&self, other: &Value) -> bool {
        self.compare_number(other) == Some(std::cmp::Ordering::Greater)
    }

    /// Every string in a value made of maybes and arrays of strings (`is_valid_choices`).
    pub fn strings(&self) -> Vec<&str> {
        match self {
            Value::Str(s) => vec![s.as_str()],
            Value::Maybe(_, Some(c)) => c.strings(),
            Value::Array(_, items) => items.iter().flat_map(Value::strings).collect(),
            _ => Vec::new(),
        }
    }
}

/// GLib's `gvs_calculate_total_size`: the body plus framing offsets of the smallest size that
/// can address the whole.
fn total_size(body: usize, offsets: usize) -> usize {
    if body + offsets <= u8::MAX as usize {
        body + offsets
    } else if body + 2 * offsets <= u16::MAX as usize {
        body + 2 * offsets
    } else if body + 4 * offsets <= u32::MAX as usize {
        body + 4 * offsets
    } else {
        body + 8 * offsets
    }
}

/// GLib's `gvs_get_offset_size` for a container of `size` bytes.
fn offset_size(size: usize) -> usize {
    if size > u32::MAX as usize {
        8
    } else if size > u16::MAX as usize {
        4
    } else if size > u8::MAX as usize {
        2
    } else if size > 0 {
        1
    } else {
        0
    }
}

fn pad(out: &mut Vec<u8>, align: usize) {
    while !out.len().is_multiple_of(align) {
        out.push(0);
    }
}

fn push_offset(out: &mut Vec<u8>, value: usize, size: usize) {
    out.extend_from_slice(&(value as u64).to_le_bytes()[..size]);
}

fn serialise_array(element: &str, items: &[Value]) -> Vec<u8> {
    let mut body = Vec::new();
    if fixed_size(element).is_some() {
        for i in items {
            body.extend(i.serialise());
        }
        return body;
    }
    let align = alignment(element);
    let mut ends = Vec::with_capacity(items.len());
    for i in items {
        pad(&mut body, align);
        body.extend(i.serialise());
        ends.push(body.len());
    }
    let size = offset_size(total_size(body.len(), ends.len()));
    for e in ends {
        push_offset(&mut body, e, size);
    }
    body
}

/// A tuple or dictionary entry: members at their alignment, the ends of the variable-size
/// members but the last as framing offsets in reverse order at the end; a fixed-size one padded
/// to its size.
fn serialise_members<'v>(ty: &str, items: impl ExactSizeIterator<Item = &'v Value>) -> Vec<u8> {
    let n = items.len();
    let mut body = Vec::new();
    let mut ends = Vec::new();
    for (i, item) in items.enumerate() {
        let t = item.type_string();
        pad(&mut body, alignment(&t));
        body.extend(item.serialise());
        if fixed_size(&t).is_none() && i + 1 < n {
            ends.push(body.len());
        }
    }
    if let Some(size) = fixed_size(ty) {
        body.resize(size, 0);
        return body;
    }
    let size = offset_size(total_size(body.len(), ends.len()));
    for e in ends.into_iter().rev() {
        push_offset(&mut body, e, size);
    }
    body
}

// ---------------------------------------------------------------------------------------------
// Text format: tokens

struct Tokens<'a> {
    text: &'a [u8],
    pos: usize,
    /// The current token's span, once prepared.
    this: Option<(usize, usize)>,
}

impl<'a> Tokens<'a> {
    fn at(&self, i: usize) -> u8 {
        self.text.get(i).copied().unwrap_or(0)
    }

    /// `token_stream_prepare`: the next token's span, `None` at the end.
    fn prepare(&mut self) -> Option<(usize, usize)> {
        if let Some(t) = self.this {
            return Some(t);
        }
        while is_space(self.at(self.pos)) {
            self.pos += 1;
        }
        let start = self.pos;
        let c = self.at(start);
        if c == 0 {
            return None;
        }
        let quoted_end = |quote: u8, from: usize| {
            let mut end = from;
            loop {
                let ch = self.at(end);
                if ch == quote || ch == 0 {
                    break;
                }
                if ch == b'\\' {
                    end += 1;
                    if self.at(end) == 0 {
                        break;
                    }
                }
                end += 1;
            }
            if self.at(end) != 0 { end + 1 } else { end }
        };
        let end = match c {
            b'-' | b'+' | b'.' | b'0'..=b'9' => {
                let mut end = start;
                while matches!(self.at(end), b'-' | b'+' | b'.') || self.at(end).is_ascii_alphanumeric() {
                    end += 1;
                }
                end
            }
            b'b' if matches!(self.at(start + 1), b'\'' | b'"') => quoted_end(self.at(start + 1), start + 2),
            b'a'..=b'z' => {
                let mut end = start;
                while self.at(end).is_ascii_alphanumeric() {
                    end += 1;
                }
                end
            }
            b'\'' | b'"' => quoted_end(c, start + 1),
            b'@' | b'%' => {
                let mut end = start + 1;
                let mut brackets = 0i32;
                loop {
                    let ch = self.at(end);
                    if ch == 0 || matches!(ch, b',' | b':' | b'>' | b']') || is_space(ch) {
                        break;
                    }
                    if ch == b'(' || ch == b'{' {
                        brackets += 1;
                    } else if ch == b')' || ch == b'}' {
                        let was = brackets;
                        brackets -= 1;
                        if was == 0 {
                            break;
                        }
                    }
                    end += 1;
                }
                end
            }
            _ => start + 1,
        };
        self.pos = end;
        self.this = Some((start, end));
        self.this
    }

    fn token(&mut self) -> &'a [u8] {
        match self.prepare() {
            Some((s, e)) => &self.text[s..e],
            None => &[],
        }
    }

    fn next(&mut self) {
        self.this = None;
    }

    fn peek(&mut self, c: u8) -> bool {
        self.token().first() == Some(&c)
    }

    fn peek_string(&mut self, s: &str) -> bool {
        self.token() == s.as_bytes()
    }

    fn consume(&mut self, s: &str) -> bool {
        let hit = self.peek_string(s);
        if hit {
            self.next();
        }
        hit
    }

    fn require(&mut self, s: &str, purpose: &str) -> Result<(), ParseError> {
        if self.consume(s) {
            Ok(())
        } else {
            invalid(format!("expected '{s}'{purpose}"))
        }
    }

    fn is_keyword(&mut self) -> bool {
        let t = self.token();
        t.len() >= 2 && t[0].is_ascii_alphabetic() && t[1].is_ascii_alphabetic()
    }

    fn is_numeric(&mut self) -> bool {
        matches!(self.token().first(), Some(b'0'..=b'9' | b'-' | b'+' | b'.'))
    }
}

// ---------------------------------------------------------------------------------------------
// Text format: syntax tree

#[derive(Debug)]
enum Ast {
    Maybe(Option<Box<Ast>>),
    Array(Vec<Ast>),
    Tuple(Vec<Ast>),
    Variant(Box<Ast>),
    /// `{k: v, …}` (`entry == false`) or the single entry `{k, v}`.
    Dict {
        keys: Vec<Ast>,
        values: Vec<Ast>,
        entry: bool,
    },
    Str(String),
    Bytes(Vec<u8>),
    Number(String),
    Bool(bool),
    TypeDecl(String, Box<Ast>),
}

fn parse_ast(t: &mut Tokens<'_>, depth: usize) -> Result<Ast, ParseError> {
    if depth == 0 {
        return invalid("variant nested too deeply");
    }
    if t.peek(b'[') {
        t.next();
        let mut items = Vec::new();
        let mut need_comma = false;
        while !t.consume("]") {
            if need_comma {
                t.require(",", " or ']' to follow array element")?;
            }
            items.push(parse_ast(t, depth - 1)?);
            need_comma = true;
        }
        return Ok(Ast::Array(items));
    }
    if t.peek(b'(') {
        t.next();
        let mut items = Vec::new();
        let mut need_comma = false;
        let mut first = true;
        while !t.consume(")") {
            if need_comma {
                t.require(",", " or ')' to follow tuple element")?;
            }
            items.push(parse_ast(t, depth - 1)?);
            if first {
                t.require(",", " after first tuple element")?;
                first = false;
            } else {
                need_comma = true;
            }
        }
        return Ok(Ast::Tuple(items));
    }
    if t.peek(b'<') {
        t.next();
        let value = parse_ast(t, depth - 1)?;
        t.require(">", " to follow variant value")?;
        return Ok(Ast::Variant(Box::new(value)));
    }
    if t.peek(b'{') {
        t.next();
        let (mut keys, mut values) = (Vec::new(), Vec::new());
        if t.consume("}") {
            return Ok(Ast::Dict {
                keys,
                values,
                entry: false,
            });
        }
        keys.push(parse_ast(t, depth - 1)?);
        let only_one = t.consume(",");
        if !only_one {
            t.require(":", " or ',' to follow dictionary entry key")?;
        }
        values.push(parse_ast(t, depth - 1)?);
        if only_one {
            t.require("}", " at end of dictionary entry")?;
            return Ok(Ast::Dict {
                keys,
                values,
                entry: true,
            });
        }
        while !t.consume("}") {
            t.require(",", " or '}' to follow dictionary entry")?;
            keys.push(parse_ast(t, depth - 1)?);
            t.require(":", " to follow dictionary entry key")?;
            values.push(parse_ast(t, depth - 1)?);
        }
        return Ok(Ast::Dict {
            keys,
            values,
            entry: false,
        });
    }
    if t.consume("true") {
        return Ok(Ast::Bool(true));
    }
    if t.consume("false") {
        return Ok(Ast::Bool(false));
    }
    if t.is_numeric() || t.peek_string("inf") || t.peek_string("nan") {
        let token = String::from_utf8_lossy(t.token()).into_owned();
        t.next();
        return Ok(Ast::Number(token));
    }
    if t.peek(b'n') || t.peek(b'j') {
        if t.consume("just") {
            return Ok(Ast::Maybe(Some(Box::new(parse_ast(t, depth - 1)?))));
        }
        if t.consume("nothing") {
            return Ok(Ast::Maybe(None));
        }
        return invalid("unknown keyword");
    }
    if t.peek(b'@') || t.is_keyword() {
        let ty = if t.peek(b'@') {
            let token = String::from_utf8_lossy(&t.token()[1..]).into_owned();
            if !is_type(&token) {
                return invalid("invalid type declaration");
            }
            t.next();
            token
        } else {
            const KEYWORDS: [(&str, &str); 13] = [
                ("boolean", "b"),
                ("byte", "y"),
                ("int16", "n"),
                ("uint16", "q"),
                ("int32", "i"),
                ("handle", "h"),
                ("uint32", "u"),
                ("int64", "x"),
                ("uint64", "t"),
                ("double", "d"),
                ("string", "s"),
                ("objectpath", "o"),
                ("signature", "g"),
            ];
            let Some((_, ty)) = KEYWORDS.iter().find(|(k, _)| t.peek_string(k)) else {
                return invalid("unknown keyword");
            };
            t.next();
            (*ty).to_owned()
        };
        let child = parse_ast(t, depth - 1)?;
        return Ok(Ast::TypeDecl(ty, Box::new(child)));
    }
    if t.peek(b'\'') || t.peek(b'"') {
        let token = t.token();
        let s = unescape_string(token)?;
        t.next();
        return Ok(Ast::Str(s));
    }
    if t.token().len() >= 2 && t.token()[0] == b'b' && matches!(t.token()[1], b'\'' | b'"') {
        let token = t.token();
        let bytes = unescape_bytestring(token)?;
        t.next();
        return Ok(Ast::Bytes(bytes));
    }
    invalid("expected value")
}

/// `string_parse`: the token between its quotes, escapes resolved (`\\u`/`\\U` as UTF-8).
fn unescape_string(token: &[u8]) -> Result<String, ParseError> {
    let bytes = unescape_quoted(token, 0, false)?;
    String::from_utf8(bytes).or_else(|_| unsupported("a string that is not UTF-8"))
}

/// `bytestring_parse`: `b'…'` with C's escapes (octal up to three digits).
fn unescape_bytestring(token: &[u8]) -> Result<Vec<u8>, ParseError> {
    unescape_quoted(token, 1, true)
}

/// The text between the quote at `token[open]` and its match: C's letter escapes, a backslash
/// before a newline dropped, any other escaped byte kept; then a string's unicode escapes or a
/// byte string's octal ones.
fn unescape_quoted(token: &[u8], open: usize, bytestring: bool) -> Result<Vec<u8>, ParseError> {
    let quote = token[open];
    let at = |i: usize| token.get(i).copied().unwrap_or(0);
    let mut out: Vec<u8> = Vec::new();
    let mut i = open + 1;
    while at(i) != quote {
        let c = at(i);
        if c == 0 {
            return invalid("unterminated string constant");
        }
        i += 1;
        if c != b'\\' {
            out.push(c);
            continue;
        }
        let esc = at(i);
        match esc {
            0 => return invalid("unterminated string constant"),
            b'u' | b'U' if !bytestring => {
                let len = if esc == b'u' { 4 } else { 8 };
                let digits = token.get(i + 1..i + 1 + len).unwrap_or(&[]);
                let value = (digits.len() == len && digits.iter().all(u8::is_ascii_hexdigit))
                    .then(|| u32::from_str_radix(&String::from_utf8_lossy(digits), 16).ok())
                    .flatten()
                    .filter(|v| *v != 0);
                let Some(value) = value else {
                    return invalid(format!("invalid {len}-character unicode escape"));
                };
                let Some(ch) = char::from_u32(value) else {
                    return unsupported(format!("the unicode escape {value:#x} is not a character"));
                };
                let mut buf = [0u8; 4];
                out.extend_from_slice(ch.encode_utf8(&mut buf).as_bytes());
                i += 1 + len;
            }
            b'0'..=b'7' if bytestring => {
                let mut val = esc - b'0';
                i += 1;
                for _ in 0..2 {
                    if (b'0'..b'8').contains(&at(i)) {
                        val = (val << 3) | (at(i) - b'0');
                        i += 1;
                    }
                }
                out.push(val);
            }
            b'\n' => i += 1,
            other => {
                out.push(match other {
                    b'a' => 0x07,
                    b'b' => 0x08,
                    b'f' => 0x0c,
                    b'n' => b'\n',
                    b'r' => b'\r',
                    b't' => b'\t',
                    b'v' => 0x0b,
                    kept => kept,
                });
                i += 1;
            }
        }
    }
    Ok(out)
}

// ---------------------------------------------------------------------------------------------
// Text format: values

fn type_error<T>(ty: &str) -> Result<T, ParseError> {
    invalid(format!("can not parse as value of type '{ty}'"))
}

/// `ast_get_value`: the value of `ast` as type `ty`.
fn value_of(ast: &Ast, ty: &str) -> Result<Value, ParseError> {
    match ast {
        Ast::Maybe(child) => {
            let Some(element) = ty.strip_prefix('m') else {
                return type_error(ty);
            };
            let inner = match child {
                Some(c) => Some(Box::new(value_of(c, element)?)),
                None => None,
            };
            Ok(Value::Maybe(ty.to_owned(), inner))
        }
        Ast::TypeDecl(_, child) => value_of(child, ty),
        _ => {
            // `maybe_wrapper`: a bare value given for a maybe type is its `just`.
            let base = ty.trim_start_matches('m');
            let mut value = base_value(ast, base)?;
            let depth = ty.len() - base.len();
            for d in (0..depth).rev() {
                value = Value::Maybe(ty[d..].to_owned(), Some(Box::new(value)));
            }
            Ok(value)
        }
    }
}

fn base_value(ast: &Ast, ty: &str) -> Result<Value, ParseError> {
    match ast {
        Ast::Array(items) => {
            let Some(element) = ty.strip_prefix('a') else {
                return type_error(ty);
            };
            let values = items
                .iter()
                .map(|i| value_of(i, element))
                .collect::<Result<Vec<_>, _>>()?;
            Ok(Value::Array(ty.to_owned(), values))
        }
        Ast::Tuple(items) => {
            if !ty.starts_with('(') {
                return type_error(ty);
            }
            let types = members(ty);
            if types.len() != items.len() {
                return type_error(ty);
            }
            let values = items
                .iter()
                .zip(types)
                .map(|(i, t)| value_of(i, t))
                .collect::<Result<Vec<_>, _>>()?;
            Ok(Value::Tuple(values))
        }
        Ast::Variant(child) => {
            if ty != "v" {
                return type_error(ty);
            }
            Ok(Value::Variant(Box::new(resolve(child)?)))
        }
        Ast::Dict { keys, values, entry } => {
            if *entry {
                if !ty.starts_with('{') {
                    return type_error(ty);
                }
                let m = members(ty);
                return Ok(Value::DictEntry(
                    Box::new(value_of(&keys[0], m[0])?),
                    Box::new(value_of(&values[0], m[1])?),
                ));
            }
            let Some(entry_ty) = ty.strip_prefix('a').filter(|e| e.starts_with('{')) else {
                return type_error(ty);
            };
            let m = members(entry_ty);
            let items = keys
                .iter()
                .zip(values)
                .map(|(k, v)| {
                    Ok(Value::DictEntry(
                        Box::new(value_of(k, m[0])?),
                        Box::new(value_of(v, m[1])?),
                    ))
                })
                .collect::<Result<Vec<_>, ParseError>>()?;
            Ok(Value::Array(ty.to_owned(), items))
        }
        Ast::Str(s) => match ty {
            "s" => Ok(Value::Str(s.clone())),
            "o" if is_object_path(s) => Ok(Value::ObjectPath(s.clone())),
            "o" => invalid("not a valid object path"),
            "g" if is_signature(s) => Ok(Value::Signature(s.clone())),
            "g" => invalid("not a valid signature"),
            _ => type_error(ty),
        },
        Ast::Bytes(b) => {
            if ty != "ay" {
                return type_error(ty);
            }
            let mut items: Vec<Value> = b.iter().map(|b| Value::Byte(*b)).collect();
            items.push(Value::Byte(0));
            Ok(Value::Array("ay".into(), items))
        }
        Ast::Number(token) => number_value(token, ty),
        Ast::Bool(b) => {
            if ty != "b" {
                return type_error(ty);
            }
            Ok(Value::Bool(*b))
        }
        Ast::Maybe(_) | Ast::TypeDecl(..) => value_of(ast, ty),
    }
}

fn is_object_path(s: &str) -> bool {
    if s == "/" {
        return true;
    }
    let Some(rest) = s.strip_prefix('/') else {
        return false;
    };
    rest.split('/')
        .all(|c| !c.is_empty() && c.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_'))
}

fn is_signature(s: &str) -> bool {
    if !s.bytes().all(|b| b"ybnqiuxthdvasog(){}".contains(&b)) {
        return false;
    }
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        match type_len(&b[i..]) {
            Some(n) => i += n,
            None => return false,
        }
    }
    true
}

/// `g_ascii_strtoull (token, &end, 0)` over the whole token: `0x` hexadecimal, a leading `0`
/// octal, decimal otherwise.
fn parse_unsigned(token: &str) -> Result<u64, ParseError> {
    let digits = token.strip_prefix('+').unwrap_or(token);
    if digits.starts_with(['-', '+']) {
        return unsupported(format!("the number `{token}` (two signs)"));
    }
    match super::super::clib::radix(digits) {
        (_, "") => invalid("invalid character in number"),
        (radix, body) if !body.chars().all(|c| c.is_digit(radix)) => invalid("invalid character in number"),
        (radix, body) => {
            u64::from_str_radix(body, radix).or_else(|_| invalid("integer too big for any type"))
        }
    }
}

fn number_value(token: &str, ty: &str) -> Result<Value, ParseError> {
    if ty == "d" {
        // `g_ascii_strtod` reads infinities too (a `<range>` of doubles defaults to them).
        let unsigned = token.trim_start_matches(['-', '+']);
        if token.len() - unsigned.len() <= 1
            && (unsigned.eq_ignore_ascii_case("inf") || unsigned.eq_ignore_ascii_case("infinity"))
        {
            let v = if token.starts_with('-') {
                f64::NEG_INFINITY
            } else {
                f64::INFINITY
            };
            return Ok(Value::Double(v));
        }
        let plain = token
            .bytes()
            .all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'e' | b'E' | b'+' | b'-'));
        return match token.parse::<f64>() {
            Ok(v) if plain && v.is_finite() && (v == 0.0 || v.is_normal()) => Ok(Value::Double(v)),
            Ok(v) if plain && v.is_infinite() => invalid("number too big for any type"),
            _ => unsupported(format!("the number `{token}` as a double")),
        };
    }
    let (negative, rest) = match token.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, token),
    };
    let abs = parse_unsigned(rest)?;
    let negative = negative && abs != 0;
    let overflow = || invalid(format!("number out of range for type '{}'", &ty[..1]));
    // A magnitude one past the type's maximum is its minimum when negative.
    let signed = |max: u64| -> Option<i64> {
        if abs.saturating_sub(u64::from(negative)) > max {
            None
        } else if negative {
            Some((abs as i128).wrapping_neg() as i64)
        } else {
            Some(abs as i64)
        }
    };
    match ty {
        "y" if !negative && abs <= u8::MAX as u64 => Ok(Value::Byte(abs as u8)),
        "n" => signed(i16::MAX as u64).map_or_else(overflow, |v| Ok(Value::I16(v as i16))),
        "q" if !negative && abs <= u16::MAX as u64 => Ok(Value::U16(abs as u16)),
        "i" => signed(i32::MAX as u64).map_or_else(overflow, |v| Ok(Value::I32(v as i32))),
        "u" if !negative && abs <= u32::MAX as u64 => Ok(Value::U32(abs as u32)),
        "x" => signed(i64::MAX as u64).map_or_else(overflow, |v| Ok(Value::I64(v))),
        "t" if !negative => Ok(Value::U64(abs)),
        "h" => signed(i32::MAX as u64).map_or_else(overflow, |v| Ok(Value::Handle(v as i32))),
        "y" | "q" | "u" | "t" => overflow(),
        _ => type_error(ty),
    }
}

// ---------------------------------------------------------------------------------------------
// Text format: inference (`ast_resolve`, for values in `<…>`)

fn pattern(ast: &Ast) -> Result<String, ParseError> {
    Ok(match ast {
        Ast::Maybe(Some(c)) => format!("m{}", pattern(c)?),
        Ast::Maybe(None) => "m*".into(),
        Ast::Array(items) if items.is_empty() => "Ma*".into(),
        Ast::Array(items) => format!("Ma{}", coalesce_all(items)?),
        Ast::Tuple(items) => {
            let mut s = String::from("M(");
            for i in items {
                s.push_str(&pattern(i)?);
            }
            s.push(')');
            s
        }
        Ast::Variant(_) => "Mv".into(),
        Ast::Dict { keys, .. } if keys.is_empty() => "Ma{**}".into(),
        Ast::Dict { keys, values, entry } => {
            let key = coalesce_all(keys)?;
            let kb = key.as_bytes();
            let key_char = if kb[0] == b'M' {
                kb.get(1).copied().unwrap_or(0)
            } else {
                kb[0]
            };
            if !b"bynqiuxthdsogNS".contains(&key_char) {
                return invalid("dictionary keys must have basic types");
            }
            format!(
                "M{}{{{}{}}}",
                if *entry { "" } else { "a" },
                key_char as char,
                pattern(&values[0])?
            )
        }
        Ast::Str(_) => "MS".into(),
        Ast::Bytes(_) => "May".into(),
        Ast::Number(t) => {
            if t.contains('.')
                || (!t.starts_with("0x") && t.contains('e'))
                || t.contains("inf")
                || t.contains("nan")
            {
                "Md".into()
            } else {
                "MN".into()
            }
        }
        Ast::Bool(_) => "Mb".into(),
        Ast::TypeDecl(t, _) => t.clone(),
    })
}

fn coalesce_all(items: &[Ast]) -> Result<String, ParseError> {
    let mut p = pattern(&items[0])?;
    for i in &items[1..] {
        let q = pattern(i)?;
        p = match coalesce(&p, &q) {
            Some(m) => m,
            None => return invalid("unable to find a common type"),
        };
    }
    Ok(p)
}

/// `pattern_copy`: one complete pattern (its `a`/`m`/`M` prefixes and one bracketed group or
/// character).
fn pattern_copy(out: &mut Vec<u8>, p: &[u8], i: &mut usize) {
    let at = |k: usize| p.get(k).copied().unwrap_or(0);
    while matches!(at(*i), b'a' | b'm' | b'M') {
        out.push(at(*i));
        *i += 1;
    }
    let mut brackets = 0i32;
    loop {
        let c = at(*i);
        if c == b'(' || c == b'{' {
            brackets += 1;
        } else if c == b')' || c == b'}' {
            brackets -= 1;
        }
        out.push(c);
        *i += 1;
        if brackets == 0 || c == 0 {
            break;
        }
    }
}

/// `pattern_coalesce`: the most general pattern both `left` and `right` match.
fn coalesce(left: &str, right: &str) -> Option<String> {
    let (l, r) = (left.as_bytes(), right.as_bytes());
    let (mut li, mut ri) = (0usize, 0usize);
    let mut out = Vec::new();
    let at = |p: &[u8], k: usize| p.get(k).copied().unwrap_or(0);
    while at(l, li) != 0 && at(r, ri) != 0 {
        if at(l, li) == at(r, ri) {
            out.push(at(l, li));
            li += 1;
            ri += 1;
            continue;
        }
        // Try with left as `one`, then with right as `one`.
        let mut progressed = false;
        for swap in [false, true] {
            let (one, oi, other, ti) = if swap {
                (r, &mut ri, l, &mut li)
            } else {
                (l, &mut li, r, &mut ri)
            };
            let (c, d) = (at(one, *oi), at(other, *ti));
            if c == b'*' && d != b')' {
                pattern_copy(&mut out, other, ti);
                *oi += 1;
            } else if c == b'M' && d == b'm' {
                out.push(d);
                *ti += 1;
            } else if c == b'M' && d != b'm' && d != b'*' {
                *oi += 1;
            } else if (c == b'N' && b"ynqiuxthd".contains(&d)) || (c == b'S' && b"sog".contains(&d)) {
                out.push(d);
                *ti += 1;
                *oi += 1;
            } else {
                continue;
            }
            progressed = true;
            break;
        }
        if !progressed {
            break;
        }
    }
    if at(l, li) != 0 || at(r, ri) != 0 {
        return None;
    }
    String::from_utf8(out).ok()
}

/// `ast_resolve`: the value of `ast` with the type its own pattern gives it.
fn resolve(ast: &Ast) -> Result<Value, ParseError> {
    let p = pattern(ast)?;
    let mut ty = String::new();
    for c in p.chars() {
        match c {
            '*' => return invalid("unable to infer type"),
            'M' => {}
            'S' => ty.push('s'),
            'N' => ty.push('i'),
            c => ty.push(c),
        }
    }
    value_of(ast, &ty)
}

/// `g_variant_parse (type, text, NULL, NULL, &error)`: `text` as a value of type `ty`, nothing
/// but white space after it.
pub fn parse(ty: &str, text: &str) -> Result<Value, ParseError> {
    if !is_type(ty) {
        return unsupported(format!("the type `{ty}`"));
    }
    let mut tokens = Tokens {
        text: text.as_bytes(),
        pos: 0,
        this: None,
    };
    let ast = parse_ast(&mut tokens, MAX_DEPTH)?;
    let value = value_of(&ast, ty)?;
    // What follows the value (GLib checks from past the last token it read).
    if text.as_bytes()[tokens.pos..].iter().any(|b| !is_space(*b)) {
        return invalid("expected end of input");
    }
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(v: &Value) -> String {
        hex::encode(v.serialise())
    }

    #[test]
    fn basic_values_and_their_bytes() {
        assert_eq!(parse("b", "true").map(|v| hex(&v)), Ok("01".into()));
        assert_eq!(parse("i", " -5 ").map(|v| hex(&v)), Ok("fbffffff".into()));
        assert_eq!(parse("u", "0x10").map(|v| hex(&v)), Ok("10000000".into()));
        assert_eq!(parse("i", "010").map(|v| hex(&v)), Ok("08000000".into()));
        assert_eq!(parse("n", "-32768"), Ok(Value::I16(i16::MIN)));
        assert!(matches!(parse("n", "32768"), Err(ParseError::Invalid(_))));
        assert!(matches!(parse("y", "-1"), Err(ParseError::Invalid(_))));
        assert_eq!(parse("d", "1"), Ok(Value::Double(1.0)));
        assert_eq!(parse("s", r"'it\'s \u00e9'"), Ok(Value::Str("it's é".into())));
        assert_eq!(parse("s", "\"a\\tb\""), Ok(Value::Str("a\tb".into())));
        assert!(matches!(parse("s", "'a' 'b'"), Err(ParseError::Invalid(_))));
        assert!(matches!(parse("s", "5"), Err(ParseError::Invalid(_))));
    }

    #[test]
    fn containers_in_normal_form() {
        // ['a', 'bc']: "a\0bc\0" then the ends 2 and 5.
        assert_eq!(hex(&parse("as", "['a', 'bc']").unwrap()), "61006263000205");
        assert_eq!(hex(&parse("as", "@as []").unwrap()), "");
        // (i, s): the string's end is not framed (last member).
        assert_eq!(
            hex(&parse("(is)", "(1, 'x')").unwrap()),
            "0100000078 00".replace(' ', "")
        );
        // (s, i): one framing offset at the end.
        assert_eq!(
            hex(&parse("(si)", "('x', 1)").unwrap()),
            "7800000001000000 02".replace(' ', "")
        );
        // a bare value for a maybe type is its `just`.
        assert_eq!(hex(&parse("ms", "'x'").unwrap()), "780000");
        assert_eq!(hex(&parse("mi", "nothing").unwrap()), "");
        assert_eq!(hex(&parse("mi", "just 3").unwrap()), "03000000");
        // A variant infers its content: `i` for a number.
        assert_eq!(hex(&parse("v", "<5>").unwrap()), "050000000069");
        assert_eq!(
            hex(&parse("a{sv}", "{'k': <'v'>}").unwrap()),
            "6b000000000000007600007302 0d".replace(' ', "")
        );
        assert_eq!(hex(&parse("()", "()").unwrap()), "00");
        assert_eq!(hex(&parse("ay", "b'ab'").unwrap()), "616200");
    }

    #[test]
    fn inference_follows_glib() {
        assert_eq!(coalesce("MN", "Md").as_deref(), Some("Md"));
        assert_eq!(coalesce("Ma*", "MaS").as_deref(), Some("MaS"));
        // As GLib: the maybe-able string inside; `ast_resolve` drops the `M`.
        assert_eq!(coalesce("m*", "MS").as_deref(), Some("mMS"));
        assert_eq!(coalesce("MS", "MN"), None);
        assert_eq!(parse("v", "<[1, 2.5]>").map(|v| v.type_string()), Ok("v".into()));
        let Value::Variant(inner) = parse("v", "<[1, 2.5]>").unwrap() else {
            panic!("not a variant")
        };
        assert_eq!(inner.type_string(), "ad");
        assert!(matches!(parse("v", "<[]>"), Err(ParseError::Invalid(_))));
    }
}
