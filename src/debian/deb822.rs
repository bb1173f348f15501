//! The one deb822 paragraph reader (control files, Release files, apt `.sources`).
//! Hand-written, not `deb822-fast`: its callers need 1-based line numbers in errors, continuation
//! lines verbatim (dpkg's status file writes them back byte for byte) and CR handling the fuzz
//! tests pin, none of which that crate exposes. (`archive/packages.rs` keeps its own byte walker
//! for the ~60k-stanza `Packages` indices, for speed.)
//!
//! The reader folds lines into [`Event`]s: a field with its continuation lines, or the end of a
//! paragraph. Lines are split on `\n` and lose every `\r` before it (a CR kept inside a value
//! would not survive being written back and read again). A line of only whitespace is blank; a
//! line starting with a space or tab continues the last field; a line starting with `#` is a
//! comment (with [`Dialect::Apt`], an indented `#` too). What a caller then requires of the
//! fields (names, duplicates, required ones) is its own business.

/// Which deb822 a text is written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    /// dpkg's (control files, Release files): `#` comments only at the start of a line; a line
    /// that is not `Name: value` is an error.
    Strict,
    /// apt's `.sources`: a `#` after leading whitespace starts a comment too, and a line that is
    /// not `Name: value` is skipped (the field before it goes on).
    Apt,
}

/// One field: `Name: value` and its continuation lines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Field<'a> {
    /// 1-based line of `Name:`.
    pub line: usize,
    /// The name as written (what precedes the first `:`; not trimmed, not checked).
    pub name: &'a str,
    /// The rest of the first line, leading whitespace removed (trailing kept).
    pub first: &'a str,
    /// The continuation lines, verbatim (leading whitespace kept, trailing `\r`s removed).
    pub continuation: Vec<&'a str>,
}

impl Field<'_> {
    /// The value as dpkg keeps it: the first line, then each continuation line, joined with
    /// `\n`, with the trailing whitespace of the whole value removed.
    pub fn verbatim(&self) -> String {
        let mut v = self.first.to_owned();
        for c in &self.continuation {
            v.push('\n');
            v.push_str(c);
        }
        v.truncate(v.trim_end().len());
        v
    }

    /// The value folded onto one line: every line trimmed, joined with one space (empty lines
    /// dropped), as apt reads `URIs`/`Suites` that span lines.
    pub fn folded(&self) -> String {
        std::iter::once(self.first)
            .chain(self.continuation.iter().copied())
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .collect::<Vec<_>>()
            .join(" ")
    }
}

/// What the reader finds, in line order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event<'a> {
    Field(Field<'a>),
    /// The first blank line after a paragraph that had fields (1-based).
    End {
        line: usize,
    },
    /// A comment line (1-based); most callers skip it.
    Comment {
        line: usize,
    },
}

/// A line the reader could not place.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Deb822Error {
    #[error("line {line}: continuation line before any field")]
    Orphan { line: usize },
    /// The line as written (trailing `\r`s removed).
    #[error("line {line}: expected `Field: value`, found `{}`", crate::text::escape(.text))]
    NotAField { line: usize, text: String },
}

impl Deb822Error {
    pub fn line(&self) -> usize {
        match self {
            Deb822Error::Orphan { line } | Deb822Error::NotAField { line, .. } => *line,
        }
    }
}

/// Reads `text` as deb822 in `dialect`. Errors are yielded in line order and reading goes on
/// after them, so a lenient caller can skip them and a strict one stop at the first.
pub fn read(text: &str, dialect: Dialect) -> Reader<'_> {
    Reader {
        lines: text.split('\n').enumerate(),
        dialect,
        pending: None,
        queued: None,
        in_paragraph: false,
    }
}

/// The iterator [`read`] returns.
pub struct Reader<'a> {
    lines: std::iter::Enumerate<std::str::Split<'a, char>>,
    dialect: Dialect,
    /// The field being read (its continuation lines may follow).
    pending: Option<Field<'a>>,
    /// What to yield after `pending` was flushed.
    queued: Option<Result<Event<'a>, Deb822Error>>,
    /// Whether the current paragraph has a field (so a blank line ends it).
    in_paragraph: bool,
}

impl<'a> Reader<'a> {
    /// Yields the pending field first (if any), then `item`.
    fn emit(&mut self, item: Result<Event<'a>, Deb822Error>) -> Option<Result<Event<'a>, Deb822Error>> {
        match self.pending.take() {
            Some(f) => {
                self.queued = Some(item);
                Some(Ok(Event::Field(f)))
            }
            None => Some(item),
        }
    }
}

impl<'a> Iterator for Reader<'a> {
    type Item = Result<Event<'a>, Deb822Error>;

    fn next(&mut self) -> Option<Self::Item> {
        if let Some(q) = self.queued.take() {
            return Some(q);
        }
        loop {
            let Some((i, raw)) = self.lines.next() else {
                return self.pending.take().map(|f| Ok(Event::Field(f)));
            };
            let line_no = i + 1;
            let line = raw.trim_end_matches('\r');
            if line.trim().is_empty() {
                if self.in_paragraph {
                    self.in_paragraph = false;
                    return self.emit(Ok(Event::End { line: line_no }));
                }
                continue;
            }
            let comment = match self.dialect {
                Dialect::Strict => line.starts_with('#'),
                Dialect::Apt => line.trim_start().starts_with('#'),
            };
            if comment {
                // A comment does not end the field: a continuation line after it still belongs
                // to the field before.
                return Some(Ok(Event::Comment { line: line_no }));
            }
            if line.starts_with([' ', '\t']) {
                match self.pending.as_mut() {
                    Some(f) => f.continuation.push(line),
                    None => return Some(Err(Deb822Error::Orphan { line: line_no })),
                }
                continue;
            }
            let Some((name, value)) = line.split_once(':') else {
                match self.dialect {
                    Dialect::Apt => continue,
                    Dialect::Strict => {
                        return self.emit(Err(Deb822Error::NotAField {
                            line: line_no,
                            text: line.to_owned(),
                        }));
                    }
                }
            };
            self.in_paragraph = true;
            let field = Field {
                line: line_no,
                name,
                first: value.trim_start(),
                continuation: Vec::new(),
            };
            if let Some(done) = self.pending.replace(field) {
                return Some(Ok(Event::Field(done)));
            }
        }
    }
}

/// Whether `name` is a field name dpkg accepts: printable ASCII without `:`, not starting with
/// `-` (or `#`, which would make the line a comment).
pub fn valid_field_name(name: &str) -> bool {
    !name.is_empty() && !name.starts_with('-') && name.bytes().all(|b| b.is_ascii_graphic() && b != b':')
}

/// The paragraphs of `text` as `(lower-case name, folded value)` lists, skipping whatever does
/// not parse: apt's reading of `.sources` files. A later field of the same name wins.
pub fn apt_paragraphs(text: &str) -> Vec<std::collections::BTreeMap<String, String>> {
    let mut out = Vec::new();
    let mut para = std::collections::BTreeMap::new();
    for event in read(text, Dialect::Apt).flatten() {
        match event {
            Event::Field(f) => {
                para.insert(f.name.trim().to_ascii_lowercase(), f.folded());
            }
            Event::End { .. } => out.push(std::mem::take(&mut para)),
            Event::Comment { .. } => {}
        }
    }
    if !para.is_empty() {
        out.push(para);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn events(text: &str, dialect: Dialect) -> Vec<Result<Event<'_>, Deb822Error>> {
        read(text, dialect).collect()
    }

    fn field<'a>(line: usize, name: &'a str, first: &'a str, continuation: &[&'a str]) -> Event<'a> {
        Event::Field(Field {
            line,
            name,
            first,
            continuation: continuation.to_vec(),
        })
    }

    #[test]
    fn folds_continuation_lines_and_ends_paragraphs() {
        let text = "\n\nA: 1 \nB:\n x\n\t y \r\n\n \nC:3\n";
        assert_eq!(
            events(text, Dialect::Strict),
            [
                Ok(field(3, "A", "1 ", &[])),
                Ok(field(4, "B", "", &[" x", "\t y "])),
                Ok(Event::End { line: 7 }),
                Ok(field(9, "C", "3", &[])),
                // The empty "line" after the final newline ends the paragraph too.
                Ok(Event::End { line: 10 }),
            ]
        );
        let Ok(Event::Field(b)) = &events(text, Dialect::Strict)[1] else {
            panic!("not a field");
        };
        assert_eq!(b.verbatim(), "\n x\n\t y");
        assert_eq!(b.folded(), "x y");
    }

    #[test]
    fn carriage_returns_before_line_ends_are_dropped() {
        let e = events("A: a\r\r\n b\r\r\nC: c\r", Dialect::Strict);
        assert_eq!(e, [Ok(field(1, "A", "a", &[" b"])), Ok(field(3, "C", "c", &[]))]);
        // A CR inside a line is data.
        let e = events("A: a\rb\n", Dialect::Strict);
        assert_eq!(e, [Ok(field(1, "A", "a\rb", &[])), Ok(Event::End { line: 2 })]);
    }

    #[test]
    fn comments_where_each_dialect_allows_them() {
        // A comment between a field and its continuation keeps the field open.
        let text = "A: 1\n# c\n 2\n  # indented\n";
        assert_eq!(
            events(text, Dialect::Strict),
            [
                Ok(Event::Comment { line: 2 }),
                Ok(field(1, "A", "1", &[" 2", "  # indented"])),
                Ok(Event::End { line: 5 }),
            ]
        );
        assert_eq!(
            events(text, Dialect::Apt),
            [
                Ok(Event::Comment { line: 2 }),
                Ok(Event::Comment { line: 4 }),
                Ok(field(1, "A", "1", &[" 2"])),
                Ok(Event::End { line: 5 }),
            ]
        );
    }

    #[test]
    fn errors_name_the_line_and_reading_goes_on() {
        let e = events(" orphan\nA: 1\nno colon\n x\n", Dialect::Strict);
        assert_eq!(
            e,
            [
                Err(Deb822Error::Orphan { line: 1 }),
                Ok(field(2, "A", "1", &[])),
                Err(Deb822Error::NotAField {
                    line: 3,
                    text: "no colon".into()
                }),
                Err(Deb822Error::Orphan { line: 4 }),
                Ok(Event::End { line: 5 }),
            ]
        );
        assert_eq!(
            e[2].as_ref().unwrap_err().to_string(),
            "line 3: expected `Field: value`, found `no colon`"
        );
        // apt skips the line and the field before it goes on.
        assert_eq!(
            events("A: 1\nno colon\n x", Dialect::Apt),
            [Ok(field(1, "A", "1", &[" x"]))]
        );
    }

    #[test]
    fn field_names() {
        assert!(valid_field_name("Pre-Depends"));
        for bad in ["", "-X", "a b", "ä", "a\tb"] {
            assert!(!valid_field_name(bad), "{bad:?}");
        }
    }

    #[test]
    fn apt_paragraphs_lower_case_names_and_fold_values() {
        let p = apt_paragraphs("Types: deb\nURIs: a\n  b\nuris: c\n\n\n# only a comment\n\nX: 1");
        assert_eq!(p.len(), 2);
        assert_eq!(p[0].get("types").map(String::as_str), Some("deb"));
        assert_eq!(p[0].get("uris").map(String::as_str), Some("c"));
        assert_eq!(p[1].get("x").map(String::as_str), Some("1"));
    }
}
