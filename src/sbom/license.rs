//! Licenses from machine-readable Debian `copyright` files (DEP-5, `copyright-format/1.0`) as
//! SPDX license expressions. Only what the file states is used: a short name Debian defines is
//! mapped to its SPDX identifier, anything else becomes a `LicenseRef-`; a file that is not
//! machine-readable gives no license at all (the SBOMs say `NOASSERTION`). Never guessed.

use std::collections::BTreeMap;

/// What a package's copyright file says about its licenses.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Licenses {
    /// The SPDX expression over every `License:` of the file (`A AND (B OR C)`), or `None` when
    /// the file is missing, not machine-readable or names no license.
    pub expression: Option<String>,
    /// Each `LicenseRef-…` used, with the text the file gives for it (or the short name).
    pub references: BTreeMap<String, String>,
}

/// Parses a `copyright` file. `None` expression unless it declares the DEP-5 format.
pub fn from_copyright(text: &str) -> Licenses {
    let paragraphs = paragraphs(text);
    let Some(header) = paragraphs.first() else {
        return Licenses::default();
    };
    let machine_readable = field(header, "format").is_some_and(|f| f.contains("copyright-format/1.0"))
        || field(header, "format-specification").is_some_and(|f| f.contains("copyright-format"));
    if !machine_readable {
        return Licenses::default();
    }
    // License paragraphs with text (stand-alone, or a Files paragraph's) give the text of a name.
    let mut texts: BTreeMap<String, String> = BTreeMap::new();
    for p in &paragraphs {
        if let Some(l) = field(p, "license") {
            let (name, body) = l.split_once('\n').unwrap_or((l, ""));
            if !body.trim().is_empty() {
                texts.insert(name.trim().to_ascii_lowercase(), body.trim().to_owned());
            }
        }
    }
    let mut terms: Vec<String> = Vec::new();
    let mut references = BTreeMap::new();
    for (i, p) in paragraphs.iter().enumerate() {
        // The header's License covers the work as a whole; every Files paragraph's its files.
        if i > 0 && field(p, "files").is_none() {
            continue;
        }
        let Some(l) = field(p, "license") else { continue };
        let name = l.lines().next().unwrap_or("").trim();
        if name.is_empty() {
            continue;
        }
        let expr = to_spdx(name, &texts, &mut references);
        if !terms.contains(&expr) {
            terms.push(expr);
        }
    }
    let expression = match terms.len() {
        0 => None,
        1 => terms.pop(),
        _ => Some(
            terms
                .iter()
                .map(|t| {
                    if t.contains(" OR ") || t.contains(" AND ") {
                        format!("({t})")
                    } else {
                        t.clone()
                    }
                })
                .collect::<Vec<_>>()
                .join(" AND "),
        ),
    };
    Licenses {
        expression,
        references,
    }
}

/// A DEP-5 `License:` short-name expression (`GPL-2+ or Artistic`, `LGPL-2.1+ and BSD-3-clause`,
/// `GPL-3+ with GCC-exception-3.1 exception`) as an SPDX expression.
fn to_spdx(name: &str, texts: &BTreeMap<String, String>, refs: &mut BTreeMap<String, String>) -> String {
    // DEP-5 reads `A or B and C` as `A or (B and C)`? The spec only says `and` and `or` combine
    // names; its examples, and Debian's files, group `or` alternatives within `and` parts.
    let and_parts: Vec<String> = split_words(name, &["and", ","])
        .into_iter()
        .map(|part| {
            let or_parts: Vec<String> = split_words(&part, &["or"])
                .into_iter()
                .map(|term| one(&term, texts, refs))
                .collect();
            if or_parts.len() > 1 {
                format!("({})", or_parts.join(" OR "))
            } else {
                or_parts.into_iter().next().unwrap_or_default()
            }
        })
        .filter(|s| !s.is_empty())
        .collect();
    if and_parts.len() == 1 {
        let only = &and_parts[0];
        // No parentheses around a lone OR group.
        if only.starts_with('(') && only.ends_with(')') && !only[1..only.len() - 1].contains('(') {
            return only[1..only.len() - 1].to_owned();
        }
        return only.clone();
    }
    and_parts.join(" AND ")
}

/// Splits on whole words (case-insensitive) or on `,`.
fn split_words(s: &str, seps: &[&str]) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur: Vec<&str> = Vec::new();
    for word in s.split_whitespace() {
        let (w, comma) = match word.strip_suffix(',') {
            Some(w) if seps.contains(&",") => (w, true),
            _ => (word, false),
        };
        if seps.iter().any(|sep| *sep != "," && w.eq_ignore_ascii_case(sep)) {
            out.push(cur.join(" "));
            cur.clear();
            continue;
        }
        if !w.is_empty() {
            cur.push(w);
        }
        if comma {
            out.push(cur.join(" "));
            cur.clear();
        }
    }
    out.push(cur.join(" "));
    out.into_iter().filter(|s| !s.trim().is_empty()).collect()
}

/// One license term, possibly with `with X exception`.
fn one(term: &str, texts: &BTreeMap<String, String>, refs: &mut BTreeMap<String, String>) -> String {
    let lower = term.to_ascii_lowercase();
    let (base, exception) = match lower.find(" with ") {
        Some(i) => (term[..i].trim(), Some(term[i + 6..].trim())),
        None => (term.trim(), None),
    };
    let mapped = short_name(base);
    match (mapped, exception) {
        (Some(id), None) => id.to_owned(),
        (Some(id), Some(exc)) if !id.contains(' ') => match exception_id(exc) {
            Some(e) => format!("{id} WITH {e}"),
            None => reference(term, texts, refs),
        },
        _ => reference(term, texts, refs),
    }
}

fn reference(term: &str, texts: &BTreeMap<String, String>, refs: &mut BTreeMap<String, String>) -> String {
    let id: String = term
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' || c == '-' {
                c
            } else {
                '-'
            }
        })
        .collect();
    let mut collapsed = String::with_capacity(id.len());
    for c in id.chars() {
        if !(c == '-' && collapsed.ends_with('-')) {
            collapsed.push(c);
        }
    }
    let id = format!("LicenseRef-{}", collapsed.trim_matches('-'));
    let text = texts
        .get(&term.to_ascii_lowercase())
        .cloned()
        .unwrap_or_else(|| format!("The license named `{term}` in the package's Debian copyright file."));
    refs.entry(id.clone()).or_insert(text);
    id
}

/// Debian's short names (copyright-format 1.0, "License short name") and common spellings.
fn short_name(name: &str) -> Option<&'static str> {
    let n = name.trim().to_ascii_lowercase();
    let (base, plus) = match n.strip_suffix('+') {
        Some(b) => (b.to_owned(), true),
        None => (n.clone(), false),
    };
    let or_later = |only: &'static str, later: &'static str| Some(if plus { later } else { only });
    match base.as_str() {
        "gpl-1" | "gpl-1.0" => or_later("GPL-1.0-only", "GPL-1.0-or-later"),
        "gpl-2" | "gpl-2.0" => or_later("GPL-2.0-only", "GPL-2.0-or-later"),
        "gpl-3" | "gpl-3.0" => or_later("GPL-3.0-only", "GPL-3.0-or-later"),
        "gpl" if plus => Some("GPL-1.0-or-later"),
        "lgpl-2" | "lgpl-2.0" => or_later("LGPL-2.0-only", "LGPL-2.0-or-later"),
        "lgpl-2.1" => or_later("LGPL-2.1-only", "LGPL-2.1-or-later"),
        "lgpl-3" | "lgpl-3.0" => or_later("LGPL-3.0-only", "LGPL-3.0-or-later"),
        "agpl-3" | "agpl-3.0" => or_later("AGPL-3.0-only", "AGPL-3.0-or-later"),
        "gfdl-1.1" => or_later("GFDL-1.1-only", "GFDL-1.1-or-later"),
        "gfdl-1.2" => or_later("GFDL-1.2-only", "GFDL-1.2-or-later"),
        "gfdl-1.3" => or_later("GFDL-1.3-only", "GFDL-1.3-or-later"),
        "gfdl-niv-1.1" => or_later("GFDL-1.1-no-invariants-only", "GFDL-1.1-no-invariants-or-later"),
        "gfdl-niv-1.2" => or_later("GFDL-1.2-no-invariants-only", "GFDL-1.2-no-invariants-or-later"),
        "gfdl-niv-1.3" => or_later("GFDL-1.3-no-invariants-only", "GFDL-1.3-no-invariants-or-later"),
        "mpl-1.1" if !plus => Some("MPL-1.1"),
        "mpl-2.0" if !plus => Some("MPL-2.0"),
        "apache-2.0" if !plus => Some("Apache-2.0"),
        "apache-1.1" if !plus => Some("Apache-1.1"),
        "apache-1.0" if !plus => Some("Apache-1.0"),
        "artistic" | "artistic-1" | "artistic-1.0" if !plus => Some("Artistic-1.0"),
        "artistic-2" | "artistic-2.0" if !plus => Some("Artistic-2.0"),
        "bsd-2-clause" if !plus => Some("BSD-2-Clause"),
        "bsd-3-clause" if !plus => Some("BSD-3-Clause"),
        "bsd-4-clause" if !plus => Some("BSD-4-Clause"),
        "expat" | "mit" if !plus => Some("MIT"),
        "isc" if !plus => Some("ISC"),
        "zlib" if !plus => Some("Zlib"),
        "cc0-1.0" | "cc0" if !plus => Some("CC0-1.0"),
        "cc-by-3.0" if !plus => Some("CC-BY-3.0"),
        "cc-by-4.0" if !plus => Some("CC-BY-4.0"),
        "cc-by-sa-3.0" if !plus => Some("CC-BY-SA-3.0"),
        "cc-by-sa-4.0" if !plus => Some("CC-BY-SA-4.0"),
        "cddl-1.0" if !plus => Some("CDDL-1.0"),
        "epl-1.0" if !plus => Some("EPL-1.0"),
        "epl-2.0" if !plus => Some("EPL-2.0"),
        "lppl-1.3c" if !plus => Some("LPPL-1.3c"),
        "ofl-1.1" | "sil-ofl-1.1" if !plus => Some("OFL-1.1"),
        "openssl" if !plus => Some("OpenSSL"),
        "python-2.0" | "psf-2" if !plus => Some("Python-2.0"),
        "qpl-1.0" if !plus => Some("QPL-1.0"),
        "w3c" if !plus => Some("W3C"),
        "zope-2.1" if !plus => Some("ZPL-2.1"),
        "unicode-dfs-2016" if !plus => Some("Unicode-DFS-2016"),
        "curl" if !plus => Some("curl"),
        "x11" if !plus => Some("X11"),
        "bsl-1.0" if !plus => Some("BSL-1.0"),
        "ftl" if !plus => Some("FTL"),
        "0bsd" if !plus => Some("0BSD"),
        "unlicense" if !plus => Some("Unlicense"),
        "wtfpl" if !plus => Some("WTFPL"),
        // Perl's dual license, as Debian's short name defines it.
        "perl" if !plus => Some("Artistic-1.0-Perl OR GPL-1.0-or-later"),
        _ => None,
    }
}

/// SPDX exception identifiers for Debian's `with X exception` forms.
fn exception_id(exc: &str) -> Option<&'static str> {
    let e = exc.to_ascii_lowercase();
    let e = e.strip_suffix(" exception").unwrap_or(&e).trim();
    match e {
        "gcc-exception-3.1" | "gcc-3.1" => Some("GCC-exception-3.1"),
        "gcc-exception-2.0" | "gcc-2.0" => Some("GCC-exception-2.0"),
        "autoconf-exception-2.0" | "autoconf" => Some("Autoconf-exception-2.0"),
        "autoconf-exception-3.0" => Some("Autoconf-exception-3.0"),
        "bison-exception-2.2" | "bison" => Some("Bison-exception-2.2"),
        "classpath-exception-2.0" | "classpath" => Some("Classpath-exception-2.0"),
        "font-exception-2.0" | "font" => Some("Font-exception-2.0"),
        "libtool-exception" | "libtool" => Some("Libtool-exception"),
        "llvm-exception" => Some("LLVM-exception"),
        _ => None,
    }
}

/// deb822 paragraphs as (lower-case field name, value) lists; continuation lines joined with
/// `\n` and their one leading space (and the ` .` blank-line marker) removed.
fn paragraphs(text: &str) -> Vec<Vec<(String, String)>> {
    let mut out = Vec::new();
    let mut cur: Vec<(String, String)> = Vec::new();
    for line in text.lines() {
        if line.trim().is_empty() {
            if !cur.is_empty() {
                out.push(std::mem::take(&mut cur));
            }
            continue;
        }
        if line.starts_with('#') {
            continue;
        }
        if line.starts_with(' ') || line.starts_with('\t') {
            if let Some((_, v)) = cur.last_mut() {
                let l = line.trim();
                v.push('\n');
                if l != "." {
                    v.push_str(l);
                }
            }
            continue;
        }
        if let Some((k, v)) = line.split_once(':') {
            cur.push((k.trim().to_ascii_lowercase(), v.trim().to_owned()));
        }
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

fn field<'a>(p: &'a [(String, String)], name: &str) -> Option<&'a str> {
    p.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    const DEP5: &str = "Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\nUpstream-Name: foo\n\nFiles: *\nCopyright: 2020 A\nLicense: GPL-2+\n\nFiles: lib/*\nCopyright: 2020 B\nLicense: LGPL-2.1+ or BSD-3-clause\n\nFiles: debian/*\nCopyright: 2021 C\nLicense: GPL-2+\n\nFiles: weird/*\nCopyright: 2021 D\nLicense: Frobnicate-License\n\nLicense: Frobnicate-License\n Do what you want.\n .\n Really.\n";

    #[test]
    fn dep5_file_gives_an_spdx_expression() {
        let l = from_copyright(DEP5);
        assert_eq!(
            l.expression.as_deref(),
            Some(
                "GPL-2.0-or-later AND (LGPL-2.1-or-later OR BSD-3-Clause) AND LicenseRef-Frobnicate-License"
            )
        );
        assert_eq!(
            l.references
                .get("LicenseRef-Frobnicate-License")
                .map(String::as_str),
            Some("Do what you want.\n\nReally.")
        );
    }

    #[test]
    fn free_form_copyright_is_no_assertion() {
        let l = from_copyright("This package was debianized by someone.\n\nLicense: GPL-2+\n");
        assert_eq!(l.expression, None);
        assert!(l.references.is_empty());
        assert_eq!(from_copyright("").expression, None);
    }

    #[test]
    fn exceptions_and_short_names() {
        let text = "Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\n\nFiles: *\nCopyright: x\nLicense: GPL-3+ with GCC-exception-3.1 exception\n\nFiles: a\nCopyright: x\nLicense: Expat\n\nFiles: b\nCopyright: x\nLicense: GPL-2+ with OpenSSL exception\n\nFiles: c\nCopyright: x\nLicense: public-domain\n";
        let l = from_copyright(text);
        assert_eq!(
            l.expression.as_deref(),
            Some(
                "GPL-3.0-or-later WITH GCC-exception-3.1 AND MIT AND LicenseRef-GPL-2-with-OpenSSL-exception AND LicenseRef-public-domain"
            )
        );
        assert_eq!(l.references.len(), 2);
    }
}
