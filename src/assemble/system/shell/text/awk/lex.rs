//! awk's tokens. A `/` starts a regular expression where an operand is expected and divides
//! after one (the grammar's one lexical ambiguity); newlines are tokens (they end statements).

#[derive(Debug, Clone, PartialEq)]
pub(super) enum Tok {
    Num(f64),
    Str(String),
    Ere(String),
    Name(String),
    /// A name written right before `(`: a call (awk requires no blank there).
    Call(String),
    Builtin(String),
    Keyword(&'static str),
    /// Operators and punctuation, longest first (`>=` before `>`).
    Op(&'static str),
    Newline,
}

const KEYWORDS: &[&str] = &[
    "BEGIN", "END", "function", "func", "getline", "if", "else", "while", "for", "do", "break", "continue",
    "next", "nextfile", "exit", "return", "delete", "in", "print", "printf",
];

const BUILTINS: &[&str] = &[
    "length", "substr", "index", "split", "sub", "gsub", "match", "sprintf", "tolower", "toupper", "int",
    "sqrt", "exp", "log", "sin", "cos", "atan2", "rand", "srand", "system", "close", "fflush",
];

const OPS: &[&str] = &[
    "+=", "-=", "*=", "/=", "%=", "^=", "==", "<=", ">=", "!=", "++", "--", "&&", "||", ">>", "!~", "**",
    "{", "}", "(", ")", "[", "]", ";", ",", "+", "-", "*", "/", "%", "^", "!", ">", "<", "|", "?", ":", "~",
    "$", "=",
];

/// The program's tokens; `Err` names what awk would refuse (or this does not read).
pub(super) fn tokens(src: &str) -> Result<Vec<Tok>, String> {
    let chars: Vec<char> = src.chars().collect();
    let mut out: Vec<Tok> = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        match c {
            ' ' | '\t' | '\r' => i += 1,
            // A backslash before a newline continues the line.
            '\\' if chars.get(i + 1) == Some(&'\n') => i += 2,
            '\\' if chars.get(i + 1) == Some(&'\r') && chars.get(i + 2) == Some(&'\n') => i += 3,
            '#' => {
                while i < chars.len() && chars[i] != '\n' {
                    i += 1;
                }
            }
            '\n' => {
                out.push(Tok::Newline);
                i += 1;
            }
            '"' => {
                let (s, next) = string(&chars, i + 1)?;
                out.push(Tok::Str(s));
                i = next;
            }
            '/' if !after_operand(out.last()) => {
                let (re, next) = ere(&chars, i + 1)?;
                out.push(Tok::Ere(re));
                i = next;
            }
            c if c.is_ascii_digit() || (c == '.' && chars.get(i + 1).is_some_and(char::is_ascii_digit)) => {
                let start = i;
                while i < chars.len() && (chars[i].is_ascii_digit() || chars[i] == '.') {
                    i += 1;
                }
                if i < chars.len() && (chars[i] == 'e' || chars[i] == 'E') {
                    let mut j = i + 1;
                    if j < chars.len() && (chars[j] == '+' || chars[j] == '-') {
                        j += 1;
                    }
                    if j < chars.len() && chars[j].is_ascii_digit() {
                        i = j;
                        while i < chars.len() && chars[i].is_ascii_digit() {
                            i += 1;
                        }
                    }
                }
                let text: String = chars[start..i].iter().collect();
                let n = text
                    .parse::<f64>()
                    .map_err(|_| format!("awk: bad number {text}"))?;
                out.push(Tok::Num(n));
            }
            c if c.is_ascii_alphabetic() || c == '_' => {
                let start = i;
                while i < chars.len() && (chars[i].is_ascii_alphanumeric() || chars[i] == '_') {
                    i += 1;
                }
                let word: String = chars[start..i].iter().collect();
                if let Some(k) = KEYWORDS.iter().find(|k| **k == word) {
                    out.push(Tok::Keyword(k));
                } else if BUILTINS.contains(&word.as_str()) {
                    out.push(Tok::Builtin(word));
                } else if chars.get(i) == Some(&'(') {
                    out.push(Tok::Call(word));
                } else {
                    out.push(Tok::Name(word));
                }
            }
            _ => {
                let rest: String = chars[i..chars.len().min(i + 2)].iter().collect();
                let op = OPS
                    .iter()
                    .find(|op| rest.starts_with(**op))
                    .ok_or_else(|| format!("awk: unexpected character {c:?}"))?;
                i += op.chars().count();
                out.push(Tok::Op(op));
            }
        }
    }
    Ok(out)
}

/// Whether the token before a `/` ends an operand (then `/` divides).
fn after_operand(prev: Option<&Tok>) -> bool {
    match prev {
        Some(Tok::Num(_) | Tok::Str(_) | Tok::Name(_) | Tok::Ere(_)) => true,
        // `length / 2`: the builtin without parentheses is an operand.
        Some(Tok::Builtin(b)) => b == "length",
        Some(Tok::Op(op)) => matches!(*op, ")" | "]" | "++" | "--"),
        _ => false,
    }
}

/// A string literal's text from after its opening quote, with its escapes read; the index after
/// the closing quote.
fn string(chars: &[char], mut i: usize) -> Result<(String, usize), String> {
    let mut s = String::new();
    while i < chars.len() {
        match chars[i] {
            '"' => return Ok((s, i + 1)),
            '\n' => return Err("awk: newline in string".into()),
            '\\' => {
                let n = *chars.get(i + 1).ok_or("awk: unterminated string")?;
                i += 2;
                match n {
                    '"' => s.push('"'),
                    '\\' => s.push('\\'),
                    '/' => s.push('/'),
                    'n' => s.push('\n'),
                    't' => s.push('\t'),
                    'r' => s.push('\r'),
                    'a' => s.push('\x07'),
                    'b' => s.push('\x08'),
                    'f' => s.push('\x0c'),
                    'v' => s.push('\x0b'),
                    '\n' => {}
                    '0'..='7' => {
                        let mut v = n.to_digit(8).unwrap_or(0);
                        let mut k = 0;
                        while k < 2 && chars.get(i).and_then(|c| c.to_digit(8)).is_some() {
                            v = v * 8 + chars[i].to_digit(8).unwrap_or(0);
                            i += 1;
                            k += 1;
                        }
                        s.push(
                            char::from_u32(v)
                                .filter(|c| c.is_ascii())
                                .ok_or("awk: octal escape above 0177")?,
                        );
                    }
                    // mawk keeps an escape it does not know as written.
                    other => {
                        s.push('\\');
                        s.push(other);
                    }
                }
            }
            c => {
                s.push(c);
                i += 1;
            }
        }
    }
    Err("awk: unterminated string".into())
}

/// A regular expression literal's text from after its `/` (`\/` is a slash; other escapes are
/// the expression's); the index after the closing `/`.
fn ere(chars: &[char], mut i: usize) -> Result<(String, usize), String> {
    let mut s = String::new();
    let mut in_bracket = false;
    while i < chars.len() {
        let c = chars[i];
        match c {
            '\n' => return Err("awk: newline in regular expression".into()),
            '/' if !in_bracket => return Ok((s, i + 1)),
            '\\' if chars.get(i + 1) == Some(&'/') => {
                s.push('/');
                i += 2;
                continue;
            }
            '\\' => {
                s.push('\\');
                s.push(*chars.get(i + 1).ok_or("awk: unterminated regular expression")?);
                i += 2;
                continue;
            }
            '[' if !in_bracket => {
                in_bracket = true;
                s.push(c);
                i += 1;
                // A `]` first in the list (or after `^`) is literal.
                if chars.get(i) == Some(&'^') {
                    s.push('^');
                    i += 1;
                }
                if chars.get(i) == Some(&']') {
                    s.push(']');
                    i += 1;
                }
                continue;
            }
            '[' if in_bracket && chars.get(i + 1) == Some(&':') => {
                // A class (`[:blank:]`) inside a list.
                let end = (i + 2..chars.len().saturating_sub(1))
                    .find(|&k| chars[k] == ':' && chars[k + 1] == ']')
                    .ok_or("awk: unterminated character class")?;
                s.extend(&chars[i..end + 2]);
                i = end + 2;
                continue;
            }
            ']' if in_bracket => in_bracket = false,
            _ => {}
        }
        s.push(c);
        i += 1;
    }
    Err("awk: unterminated regular expression".into())
}
