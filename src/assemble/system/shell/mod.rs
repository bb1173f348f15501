//! Just enough of a POSIX shell parser to read maintainer scripts without running them.
//!
//! Maintainer scripts are mostly debhelper boilerplate plus a handful of idioms (`case "$1" in
//! configure)`, `if [ "$1" = configure ]`, functions, `for` loops over word lists, `$(…)` that
//! echoes options). This parses those into a small syntax tree; [`Eval`] walks it for a fresh
//! `postinst configure` (`$1 = configure`, `$2` empty) with variables resolved where the script sets
//! them. Anything it cannot resolve stays marked as unknown so callers can report it instead of
//! guessing.

mod ast;
mod eval;
mod glob;
mod lex;
mod parse;
pub mod text;

pub use ast::{Node, Part, Piece, Redir, Word, all_commands};
pub use eval::{
    Call, CodeProbe, DebconfProbe, DebconfReply, Eval, FileKind, FileProbe, GuessSink, HOST_DEPENDENT,
    LEFT_OUT_OUTPUT, LinkProbe, MAX_EVAL_DEPTH, MAX_STEPS, MachineFileProbe, NOT_RUN, OutputProbe,
    RANDOM_DEPENDENT, SCRIPT_PATH, SourceReader, StatusProbe, UNKNOWN_ARG, UNKNOWN_HOST_ARG,
    UNKNOWN_RANDOM_ARG, Value, is_host_dependent, is_machine_dependent, is_random_dependent,
    is_random_source, is_unknown_arg, left_out_output_maker, prints_host_name, prints_random,
};
pub use eval::{as_exit_after_unreproduced, as_failure_exit, join, prints_nothing};
pub use glob::glob_match;
pub use lex::{MAX_NESTING, ParseError};

use lex::{Lexer, Tok};
use parse::Parser;

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

#[cfg(test)]
mod condition_tests;
#[cfg(test)]
mod tests;
