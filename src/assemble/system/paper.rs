//! What libpaper-utils' `paperconf` prints (libpaper1 1.1, bookworm's), for the scripts that
//! read the system's paper size with `$(paperconf)` (r-base-core writes it into
//! `/etc/R/Renviron`).
//!
//! Without options `paperconf` prints the name of the system's paper: the first word of
//! `/etc/papersize` (text after `#` to the end of a line is a comment; words are separated by
//! white space; libpaper1's postinst writes the file from its debconf answer), as libpaper's
//! table spells it (names compare ignoring case). Maintainer scripts run with no `PAPERSIZE` or
//! `PAPERCONF` in their environment, so the file decides. Anything else — an option, a missing
//! or empty file (libpaper's compiled-in default then), a name outside the table below — is left
//! unknown to the walk rather than guessed.

use super::TreeView;

const PAPERSIZE: &str = "etc/papersize";

/// The names of libpaper's table that a `/etc/papersize` holds in practice (the ISO A and B
/// series, the North American sizes, envelopes); a name outside them is left unknown.
const NAMES: &[&str] = &[
    "a0",
    "a1",
    "a2",
    "a3",
    "a4",
    "a5",
    "a6",
    "a7",
    "a8",
    "a9",
    "a10",
    "b0",
    "b1",
    "b2",
    "b3",
    "b4",
    "b5",
    "b6",
    "b7",
    "b8",
    "b9",
    "b10",
    "c5",
    "dl",
    "letter",
    "legal",
    "executive",
    "ledger",
    "tabloid",
    "note",
    "statement",
    "halfletter",
    "halfexecutive",
    "folio",
    "quarto",
    "11x17",
    "10x14",
];

/// `paperconf ARGS`' output (with its newline), where it is known.
pub fn paperconf_output(tree: &dyn TreeView, args: &[String]) -> Option<String> {
    if !args.is_empty() {
        return None;
    }
    let bytes = super::read_file(tree, PAPERSIZE).ok()??;
    let text = String::from_utf8_lossy(&bytes);
    let word = text
        .lines()
        .map(|l| l.split('#').next().unwrap_or(""))
        .flat_map(str::split_whitespace)
        .next()?;
    let name = NAMES.iter().find(|n| n.eq_ignore_ascii_case(word))?;
    Some(format!("{name}\n"))
}

#[cfg(test)]
mod tests {
    use super::super::testutil::MemTree;
    use super::*;

    fn output(papersize: Option<&str>, args: &[&str]) -> Option<String> {
        let mut tree = MemTree::new();
        if let Some(text) = papersize {
            tree.file(PAPERSIZE, text.as_bytes());
        }
        let args: Vec<String> = args.iter().map(|a| (*a).to_owned()).collect();
        paperconf_output(&tree, &args)
    }

    #[test]
    fn prints_the_first_word_of_etc_papersize_as_the_table_spells_it() {
        assert_eq!(output(Some("a4\n"), &[]).as_deref(), Some("a4\n"));
        assert_eq!(
            output(Some("# comment\n\n  Letter  \n"), &[]).as_deref(),
            Some("letter\n")
        );
        assert_eq!(
            output(Some("A4 # the default\nletter\n"), &[]).as_deref(),
            Some("a4\n")
        );
    }

    #[test]
    fn leaves_unknown_what_the_file_does_not_decide() {
        // No file, an empty one: libpaper's compiled-in default, not guessed.
        assert_eq!(output(None, &[]), None);
        assert_eq!(output(Some(""), &[]), None);
        assert_eq!(output(Some("# only a comment\n"), &[]), None);
        // A name outside the table: paperconf fails.
        assert_eq!(output(Some("napkin\n"), &[]), None);
        // Options print other things (sizes, every paper).
        assert_eq!(output(Some("a4\n"), &["-s"]), None);
    }
}
