//! Text from hostile input (control fields, tar headers, Release and Packages fields, file names)
//! made safe to put in a message: control characters and bidirectional overrides escaped, so a
//! package cannot write terminal escape sequences to a user's terminal or make one name look like
//! another; very long values cut, so one header cannot flood the screen.

use std::fmt::Write;

/// The most bytes of one hostile value a message shows.
pub const SHOWN: usize = 256;

/// `s` in double quotes, escaped as Rust's `{:?}` escapes it (`"a\u{1b}[31m"`), cut after
/// [`SHOWN`] bytes with `…(N bytes)` saying how long it was. For names: entries, members, files.
pub fn quoted(s: &str) -> String {
    let cut = cut(s);
    let mut out = format!("{cut:?}");
    if cut.len() < s.len() {
        let _ = write!(out, "…({} bytes)", s.len());
    }
    out
}

/// `s` with control characters (C0, DEL, C1) and bidirectional formatting characters escaped
/// (`\u{1b}`, `\n`), everything else as is, cut after [`SHOWN`] bytes. For values a message
/// already quotes or puts in backticks.
pub fn escape(s: &str) -> String {
    let cut = cut(s);
    let mut out = String::with_capacity(cut.len());
    push_escaped(&mut out, cut, |_| true);
    if cut.len() < s.len() {
        let _ = write!(out, "…({} bytes)", s.len());
    }
    out
}

/// A whole message about to be printed: control characters escaped except newlines and tabs,
/// nothing cut. The last line of defence at the CLI, for text no call site escaped.
pub fn sanitize(message: &str) -> String {
    if !message.chars().any(needs_escape) {
        return message.to_owned();
    }
    let mut out = String::with_capacity(message.len() + 16);
    push_escaped(&mut out, message, |c| c != '\n' && c != '\t');
    out
}

fn push_escaped(out: &mut String, s: &str, escape_this: impl Fn(char) -> bool) {
    for c in s.chars() {
        if needs_escape(c) && escape_this(c) {
            match c {
                '\n' => out.push_str("\\n"),
                '\r' => out.push_str("\\r"),
                '\t' => out.push_str("\\t"),
                '\0' => out.push_str("\\0"),
                _ => {
                    let _ = write!(out, "\\u{{{:x}}}", c as u32);
                }
            }
        } else {
            out.push(c);
        }
    }
}

fn needs_escape(c: char) -> bool {
    c.is_control() || matches!(c, '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// At most [`SHOWN`] bytes of `s`, cut at a character boundary.
fn cut(s: &str) -> &str {
    if s.len() <= SHOWN {
        return s;
    }
    let mut end = SHOWN;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_terminal_sequences_and_bidi_overrides() {
        assert_eq!(escape("red\x1b[31mtext"), "red\\u{1b}[31mtext");
        assert_eq!(escape("a\nb\u{202e}c\u{9b}"), "a\\nb\\u{202e}c\\u{9b}");
        assert_eq!(escape("plain `text` ü"), "plain `text` ü");
        assert_eq!(quoted("x\x1by"), "\"x\\u{1b}y\"");
        assert_eq!(sanitize("line 1\n\tline\x1b[2J 2"), "line 1\n\tline\\u{1b}[2J 2");
        assert_eq!(sanitize("clean"), "clean");
    }

    #[test]
    fn cuts_long_values_saying_how_long_they_were() {
        let long = "é".repeat(1000);
        let q = quoted(&long);
        assert!(q.len() < SHOWN + 40, "{q}");
        assert!(q.ends_with("…(2000 bytes)"), "{q}");
        let e = escape(&"a/".repeat(5000));
        assert!(e.starts_with("a/a/") && e.ends_with("…(10000 bytes)"), "{e}");
    }
}
