//! The control area: the `control` paragraph, kept verbatim, and the other control files
//! (maintainer scripts, `conffiles`, `md5sums`, `shlibs`, `triggers`, …).

use std::collections::BTreeMap;
use std::fmt;

use crate::debian::deb822::{self, Deb822Error, Dialect, Event};
use crate::text::quoted;

/// The control area of a package.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ControlArchive {
    pub control: Control,
    /// Every control file other than `control`, by file name (`postinst`, `md5sums`, …).
    pub members: BTreeMap<String, Vec<u8>>,
}

impl ControlArchive {
    /// A control file other than `control` by name.
    pub fn member(&self, name: &str) -> Option<&[u8]> {
        self.members.get(name).map(Vec::as_slice)
    }
}

/// A binary package's `control` paragraph.
///
/// Fields stay in file order with their names as spelled and their values verbatim: the first
/// line without the whitespace after the colon, then each continuation line as written (leading
/// space included), joined with `\n`; trailing whitespace of the whole value is dropped, as dpkg
/// does. A value whose first line is empty (`Description:` followed by continuation lines) starts
/// with `\n`. [`Display`](fmt::Display) writes the paragraph back byte for byte in that form, which
/// is what dpkg's status file needs.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Control {
    fields: Vec<(String, String)>,
}

/// Why a control file did not parse; `line` is 1-based.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ControlParseError {
    pub line: usize,
    pub what: String,
}

impl Control {
    /// Parses one deb822 paragraph and checks the fields every binary package has: `Package`,
    /// `Version` and `Architecture` on one line each, and `Installed-Size` (if present) a number.
    pub fn parse(text: &str) -> Result<Control, ControlParseError> {
        let mut fields: Vec<(String, String)> = Vec::new();
        let mut ended_at: Option<usize> = None;
        // CRLF line ends (and any run of CRs before the LF) are not part of the value (the
        // reader drops them): a CR kept inside a multi-line value would be lost when the
        // paragraph is written back and read again, so the status file would not say what was
        // parsed.
        for event in deb822::read(text, Dialect::Strict) {
            let line_no = match &event {
                Ok(Event::Field(f)) => f.line,
                Ok(Event::End { line } | Event::Comment { line }) => *line,
                Err(e) => e.line(),
            };
            let err = |what: String| ControlParseError { line: line_no, what };
            if let Some(blank) = ended_at {
                return Err(err(format!(
                    "a second paragraph starts after the blank line {blank}; a control file has one"
                )));
            }
            let field = match event {
                Ok(Event::Field(f)) => f,
                Ok(Event::End { line }) => {
                    ended_at = Some(line);
                    continue;
                }
                // deb822 comment lines carry no data.
                Ok(Event::Comment { .. }) => continue,
                Err(Deb822Error::Orphan { .. }) => {
                    return Err(err("continuation line before any field".into()));
                }
                Err(Deb822Error::NotAField { text, .. }) => {
                    return Err(err(format!("expected `Field: value`, found {}", quoted(&text))));
                }
            };
            let name = field.name;
            if !deb822::valid_field_name(name) {
                return Err(err(format!("invalid field name {}", quoted(name))));
            }
            if fields.iter().any(|(n, _)| n.eq_ignore_ascii_case(name)) {
                return Err(err(format!("duplicate field {}", quoted(name))));
            }
            // Only the end of a whole value is trimmed, as dpkg does: a multi-line Description
            // whose first line ends in a space keeps it in the status file.
            fields.push((name.to_owned(), field.verbatim()));
        }
        let control = Control { fields };
        for required in ["Package", "Version", "Architecture"] {
            match control.get(required) {
                None => {
                    return Err(ControlParseError {
                        line: 0,
                        what: format!("missing required field {required}"),
                    });
                }
                Some(v) if v.is_empty() || v.contains('\n') => {
                    return Err(ControlParseError {
                        line: control.line_of(required),
                        what: format!(
                            "field {required} must be a single non-empty line, found {}",
                            quoted(v)
                        ),
                    });
                }
                Some(_) => {}
            }
        }
        if let Some(v) = control.get("Installed-Size")
            && v.parse::<u64>().is_err()
        {
            return Err(ControlParseError {
                line: control.line_of("Installed-Size"),
                what: format!("Installed-Size {} is not a number of KiB", quoted(v)),
            });
        }
        Ok(control)
    }

    /// The 1-based line a field starts on (for error messages).
    fn line_of(&self, name: &str) -> usize {
        let mut line = 1;
        for (n, v) in &self.fields {
            if n.eq_ignore_ascii_case(name) {
                return line;
            }
            line += 1 + v.matches('\n').count();
        }
        0
    }

    /// Fields in file order, as `(name, value)`.
    pub fn fields(&self) -> impl Iterator<Item = (&str, &str)> {
        self.fields.iter().map(|(n, v)| (n.as_str(), v.as_str()))
    }

    /// A field's value; names compare case-insensitively, as deb822 says.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn package(&self) -> &str {
        // Checked present by `parse`, the only constructor.
        self.get("Package").unwrap_or_default()
    }

    pub fn version(&self) -> &str {
        self.get("Version").unwrap_or_default()
    }

    pub fn architecture(&self) -> &str {
        self.get("Architecture").unwrap_or_default()
    }

    /// `Installed-Size` in KiB (checked to be a number by `parse`).
    pub fn installed_size(&self) -> Option<u64> {
        self.get("Installed-Size").and_then(|v| v.parse().ok())
    }

    pub fn multi_arch(&self) -> Option<&str> {
        self.get("Multi-Arch")
    }

    pub fn essential(&self) -> bool {
        self.get("Essential")
            .is_some_and(|v| v.eq_ignore_ascii_case("yes"))
    }

    pub fn source(&self) -> Option<&str> {
        self.get("Source")
    }

    pub fn depends(&self) -> Option<&str> {
        self.get("Depends")
    }

    pub fn pre_depends(&self) -> Option<&str> {
        self.get("Pre-Depends")
    }

    pub fn provides(&self) -> Option<&str> {
        self.get("Provides")
    }

    pub fn conflicts(&self) -> Option<&str> {
        self.get("Conflicts")
    }

    pub fn breaks(&self) -> Option<&str> {
        self.get("Breaks")
    }

    pub fn replaces(&self) -> Option<&str> {
        self.get("Replaces")
    }

    pub fn description(&self) -> Option<&str> {
        self.get("Description")
    }
}

impl fmt::Display for Control {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (name, value) in &self.fields {
            if value.is_empty() || value.starts_with('\n') {
                writeln!(f, "{name}:{value}")?;
            } else {
                writeln!(f, "{name}: {value}")?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn carriage_returns_before_line_ends_are_dropped_so_written_back_parses_the_same() {
        // Found by the fuzzer (tests/it/fuzz.rs, target `control`): `x\r\r` kept one CR, which the
        // next read of the written paragraph dropped.
        let text = "Package: p\r\nVersion: 1\r\r\nArchitecture: all\nMaintainer: m\r\r\n more\r\r\n";
        let c = Control::parse(text).unwrap();
        assert_eq!(c.get("Maintainer"), Some("m\n more"));
        assert_eq!(c.version(), "1");
        assert_eq!(Control::parse(&c.to_string()).unwrap(), c);
    }

    const SAMPLE: &str = "Package: bash\nVersion: 5.2.15-2+b7\nArchitecture: amd64\nEssential: yes\n\
Maintainer: Matthias Klose <doko@debian.org>\nInstalled-Size: 7164\n\
Pre-Depends: libc6 (>= 2.36), libtinfo6 (>= 6)\nReplaces: bash-completion (<< 20060301-0), bash-doc (<= 2.05-1)\n\
Multi-Arch: foreign\nDescription: GNU Bourne Again SHell\n Bash is an sh-compatible command language interpreter.\n .\n   indented  \n";

    #[test]
    fn inner_trailing_space_is_kept_and_the_end_trimmed_as_dpkg_does() {
        let c = Control::parse(
            "Package: p\nVersion: 1\nArchitecture: all\nDescription: short \n long line \n .\n end  \n",
        )
        .unwrap();
        assert_eq!(c.get("Description"), Some("short \n long line \n .\n end"));
        let c = Control::parse("Package: p \nVersion: 1\nArchitecture: all\n").unwrap();
        assert_eq!(c.package(), "p");
    }

    #[test]
    fn keeps_fields_in_order_and_verbatim() {
        let c = Control::parse(SAMPLE).unwrap();
        assert_eq!(c.package(), "bash");
        assert_eq!(c.version(), "5.2.15-2+b7");
        assert_eq!(c.architecture(), "amd64");
        assert_eq!(c.installed_size(), Some(7164));
        assert_eq!(c.multi_arch(), Some("foreign"));
        assert!(c.essential());
        assert_eq!(c.get("pre-depends"), Some("libc6 (>= 2.36), libtinfo6 (>= 6)"));
        assert_eq!(
            c.replaces(),
            Some("bash-completion (<< 20060301-0), bash-doc (<= 2.05-1)")
        );
        assert_eq!(
            c.description(),
            Some(
                "GNU Bourne Again SHell\n Bash is an sh-compatible command language interpreter.\n .\n   indented"
            )
        );
        let names: Vec<&str> = c.fields().map(|(n, _)| n).collect();
        assert_eq!(names[..4], ["Package", "Version", "Architecture", "Essential"]);
        // Only the trailing whitespace of the last value is lost.
        assert_eq!(c.to_string(), SAMPLE.replace("   indented  \n", "   indented\n"));
    }

    #[test]
    fn empty_first_line_round_trips() {
        let text = "Package: a\nVersion: 1\nArchitecture: all\nConffiles:\n /etc/a 0123\n /etc/b 4567\n";
        let c = Control::parse(text).unwrap();
        assert_eq!(c.get("Conffiles"), Some("\n /etc/a 0123\n /etc/b 4567"));
        assert_eq!(c.to_string(), text);
    }

    #[test]
    fn rejects_malformed_paragraphs() {
        let cases = [
            ("Package: a\nVersion: 1\n", "missing required field Architecture"),
            (" cont\nPackage: a\n", "continuation line before any field"),
            (
                "Package: a\nPackage: b\nVersion: 1\nArchitecture: all\n",
                "duplicate field",
            ),
            (
                "Package: a\nVersion: 1\nArchitecture: all\nno colon here\n",
                "expected `Field: value`",
            ),
            (
                "Package: a\nVersion: 1\n\nArchitecture: all\n",
                "second paragraph",
            ),
            (
                "Package: a\nVersion: 1\nArchitecture: all\nInstalled-Size: lots\n",
                "not a number",
            ),
            (
                "Package: a\nVersion:\n 1\nArchitecture: all\n",
                "single non-empty line",
            ),
        ];
        for (text, want) in cases {
            let e = Control::parse(text).unwrap_err();
            assert!(e.what.contains(want), "{text:?}: {e:?}");
        }
        let e = Control::parse("Package: a\nVersion: 1\nArchitecture: all\nno colon\n").unwrap_err();
        assert_eq!(e.line, 4);
    }
}
