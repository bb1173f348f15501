//! sed programs, run on text as GNU sed runs them: the `s`, `d` and `p` commands, each with no
//! address, one address (`N`, `$`, `/RE/`, `\cREc`, `I` for case) or a range (`A,B`, GNU's
//! `0,/RE/` and `A,+N`), negated with `!` (ejabberd's `0,/  ##   user/s/…/…/`, nslcd's
//! `1,/^_uri_ / s|…|…|i`), and blocks of them, `ADDRESS { … }` (samba-common's
//! `1,/^[[:space:]]*\[/ { /^[^[]/d; /^$/d }`), labels and branches (`:label`, `b`, `t`, GNU's
//! `T`: libnss-winbind's `/^(passwd|group):.*[[:space:]]winbind\b/b` skips the lines that have it).
//!
//! Case conversion in replacements (`\L`, `\U`, `\l`, `\u`, `\E`) is ASCII's: a letter outside
//! ASCII would be converted by the locale dpkg ran in, so such an edit is refused when it meets
//! one. Anything else (`a`/`i`/`c`, hold space, `n`/`N`, `q`, `addr~step`, the empty regular
//! expression) is refused: the caller reports the command instead of guessing its output.

use regex::Regex;

use super::{translate, translate_address};

/// One command of a sed program.
#[derive(Debug)]
pub struct Command {
    address: Address,
    /// `ADDRESS!COMMAND`: the command runs on the lines the address does not select.
    negated: bool,
    action: Action,
}

#[derive(Debug)]
enum Action {
    Substitute(Substitute),
    /// `d`: the line is not printed and the next cycle starts.
    Delete,
    /// `p`: the pattern space is printed now.
    Print,
    /// `{`: the commands up to the matching `}` (at index `end`) run only on the lines the
    /// address selects; otherwise the cycle goes on after it, as GNU sed jumps.
    Block {
        end: usize,
    },
    /// `}`: the end of a block.
    BlockEnd,
    /// `:label`: where a branch to it goes on.
    Label(String),
    /// `b`, `t`, `T` [label]: the cycle goes on at command `to` (the label's, or the end of the
    /// program without one), always, after a substitution made since the line was read or the
    /// last `t`/`T`, or without one.
    Branch {
        when: BranchWhen,
        label: Option<String>,
        to: usize,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum BranchWhen {
    Always,
    Substituted,
    NotSubstituted,
}

#[derive(Debug)]
enum Address {
    Every,
    One(Line),
    Range { start: Line, end: End },
}

/// A line selected by number (`0` only as the start of `0,/RE/`), as the last (`$`), or by a
/// regular expression.
#[derive(Debug)]
enum Line {
    Number(usize),
    Last,
    Match(Regex),
}

/// Where a range ends: a line number, the last line, the next line matching, or `+N` lines on.
#[derive(Debug)]
enum End {
    Number(usize),
    Last,
    Match(Regex),
    Following(usize),
}

/// One `s/RE/REPLACEMENT/FLAGS` command.
#[derive(Debug)]
pub struct Substitute {
    re: Regex,
    replacement: Vec<Piece>,
    global: bool,
    /// The `p` flag: the line is printed when the substitution was made.
    print: bool,
}

#[derive(Debug, PartialEq)]
enum Piece {
    Text(String),
    /// `&` (0) or `\1`…`\9`.
    Group(usize),
    /// GNU's `\L`/`\U` (what follows, up to `\E` or the other), `\l`/`\u` (the next character)
    /// and `\E`.
    Case(CaseChange),
}

#[derive(Debug, PartialEq, Clone, Copy)]
enum CaseChange {
    Lower,
    Upper,
    NextLower,
    NextUpper,
    End,
}

/// Commands separated by `;` or newlines.
/// One of sed's short options, as getopt reads a bundle of them.
#[derive(Debug, PartialEq, Eq)]
pub enum ShortOption {
    /// `-E`, `-r`.
    Extended,
    /// `-n`.
    Quiet,
    /// `-s`: each file on its own (what `-i` implies).
    Separate,
    /// `-i[SUFFIX]`: the suffix is the rest of the bundle, never the next word.
    InPlace(Option<String>),
    /// `-e SCRIPT`: the rest of the bundle, or the next word when the bundle ends with it.
    Script(String),
    /// An option the edit is not reproduced with (`-z`, `-u`, `-b`, `-f FILE`, `-l N`, or one
    /// sed does not have); one that takes an argument has taken it.
    NotReproduced(char),
}

/// A bundle of short options (`-re SCRIPT`, dma's `sed -i -re 's@…@…@' FILE`; `-ne`, `-Ei`,
/// `-i.orig`, `-es/a/b/`) without its `-`, as GNU sed's getopt reads `bsnrzuEe:f:l:i::`: flags
/// until an option that takes an argument, which takes the rest of the bundle (for `-e`, `-f`
/// and `-l`, the next word when the bundle ends with it). `Err`: `-e` without its script.
pub fn short_options<'a>(
    bundle: &str,
    next: &mut impl Iterator<Item = &'a String>,
) -> Result<Vec<ShortOption>, String> {
    let mut out = Vec::new();
    for (i, c) in bundle.char_indices() {
        let rest = &bundle[i + c.len_utf8()..];
        match c {
            'E' | 'r' => out.push(ShortOption::Extended),
            'n' => out.push(ShortOption::Quiet),
            's' => out.push(ShortOption::Separate),
            'i' => {
                out.push(ShortOption::InPlace((!rest.is_empty()).then(|| rest.to_owned())));
                return Ok(out);
            }
            'e' => {
                let script = if rest.is_empty() {
                    next.next().ok_or("sed -e without a script")?.clone()
                } else {
                    rest.to_owned()
                };
                out.push(ShortOption::Script(script));
                return Ok(out);
            }
            'f' | 'l' => {
                if rest.is_empty() {
                    next.next();
                }
                out.push(ShortOption::NotReproduced(c));
                return Ok(out);
            }
            other => out.push(ShortOption::NotReproduced(other)),
        }
    }
    Ok(out)
}

pub fn parse_script(script: &str, extended: bool) -> Result<Vec<Command>, String> {
    let chars: Vec<char> = script.chars().collect();
    let mut i = 0;
    let mut out = Vec::new();
    let skip_blanks = |i: &mut usize| {
        while chars.get(*i).is_some_and(|c| *c == ' ' || *c == '\t') {
            *i += 1;
        }
    };
    // The indexes of the blocks open at this point.
    let mut open: Vec<usize> = Vec::new();
    loop {
        while i < chars.len() && (chars[i].is_whitespace() || chars[i] == ';') {
            i += 1;
        }
        if i >= chars.len() {
            if !open.is_empty() {
                return Err(format!("sed script `{script}`: unmatched `{{`"));
            }
            return resolve_branches(out, script);
        }
        if chars[i] == '}' {
            let start = open
                .pop()
                .ok_or_else(|| format!("sed script `{script}`: unexpected `}}`"))?;
            let end = out.len();
            if let Some(Command {
                action: Action::Block { end: e },
                ..
            }) = out.get_mut(start)
            {
                *e = end;
            }
            out.push(Command {
                address: Address::Every,
                negated: false,
                action: Action::BlockEnd,
            });
            i += 1;
            continue;
        }
        let address = address(&chars, &mut i, extended)?;
        skip_blanks(&mut i);
        let negated = chars.get(i) == Some(&'!');
        if negated {
            i += 1;
            skip_blanks(&mut i);
        }
        let action = match chars.get(i) {
            Some('s') => {
                i += 1;
                Action::Substitute(substitute_command(&chars, &mut i, extended)?)
            }
            Some('d') => {
                i += 1;
                Action::Delete
            }
            Some('p') => {
                i += 1;
                Action::Print
            }
            Some(':') if matches!(address, Address::Every) && !negated => {
                i += 1;
                let name = label(&chars, &mut i);
                if name.is_empty() {
                    return Err(format!("sed script `{script}`: `:` without a label"));
                }
                Action::Label(name)
            }
            Some(c @ ('b' | 't' | 'T')) => {
                let when = match c {
                    'b' => BranchWhen::Always,
                    't' => BranchWhen::Substituted,
                    _ => BranchWhen::NotSubstituted,
                };
                i += 1;
                let name = label(&chars, &mut i);
                Action::Branch {
                    when,
                    label: (!name.is_empty()).then_some(name),
                    to: 0,
                }
            }
            Some('{') => {
                i += 1;
                open.push(out.len());
                out.push(Command {
                    address,
                    negated,
                    action: Action::Block { end: 0 },
                });
                continue;
            }
            Some(c) => {
                return Err(format!(
                    "sed script `{script}`: the command `{c}` is not reproduced"
                ));
            }
            None => return Err(format!("sed script `{script}`: an address without a command")),
        };
        skip_blanks(&mut i);
        match chars.get(i) {
            // GNU sed ends a command at `}` too (`1,/x/ { d }`); the loop reads it.
            None | Some(';' | '\n' | '}') => {}
            Some(c) => {
                return Err(format!(
                    "sed script `{script}`: `{c}` after a command is not reproduced"
                ));
            }
        }
        out.push(Command {
            address,
            negated,
            action,
        });
    }
}

/// A label after `:`, `b`, `t` or `T`: up to the end of the line, a `;` or a `}` (as GNU sed
/// reads them), blanks around it dropped.
fn label(chars: &[char], i: &mut usize) -> String {
    let mut name = String::new();
    while let Some(&c) = chars.get(*i) {
        if matches!(c, '\n' | ';' | '}') {
            break;
        }
        name.push(c);
        *i += 1;
    }
    name.trim().to_owned()
}

/// Points every branch at its label's command (the end of the program without a label).
fn resolve_branches(mut commands: Vec<Command>, script: &str) -> Result<Vec<Command>, String> {
    let labels: Vec<(String, usize)> = commands
        .iter()
        .enumerate()
        .filter_map(|(k, c)| match &c.action {
            Action::Label(name) => Some((name.clone(), k)),
            _ => None,
        })
        .collect();
    let end = commands.len();
    for c in &mut commands {
        if let Action::Branch { label, to, .. } = &mut c.action {
            *to = match label {
                None => end,
                Some(name) => labels
                    .iter()
                    .find(|(l, _)| l == name)
                    .map(|(_, k)| *k)
                    .ok_or_else(|| format!("sed script `{script}`: can't find label for jump to `{name}`"))?,
            };
        }
    }
    Ok(commands)
}

/// How many branches one line may take before the program is taken as looping for ever (`:a;
/// s/x/x/; ta`): its output is then not known.
const MAX_BRANCHES_PER_LINE: usize = 10_000;

/// The address before a command (none: every line).
fn address(chars: &[char], i: &mut usize, extended: bool) -> Result<Address, String> {
    let Some(start) = line(chars, i, extended)? else {
        return Ok(Address::Every);
    };
    if chars.get(*i) != Some(&',') {
        return match start {
            Line::Number(0) => Err("sed: line address 0 only starts a range `0,/RE/`".into()),
            start => Ok(Address::One(start)),
        };
    }
    *i += 1;
    while chars.get(*i).is_some_and(|c| *c == ' ' || *c == '\t') {
        *i += 1;
    }
    let end = if chars.get(*i) == Some(&'+') {
        *i += 1;
        End::Following(number(chars, i).ok_or("sed: `+` without a number in an address")?)
    } else {
        match line(chars, i, extended)? {
            Some(Line::Number(n)) => End::Number(n),
            Some(Line::Last) => End::Last,
            Some(Line::Match(re)) => End::Match(re),
            None => return Err("sed: a range without its end".into()),
        }
    };
    if matches!(start, Line::Number(0)) && !matches!(end, End::Match(_)) {
        return Err("sed: line address 0 only starts a range `0,/RE/`".into());
    }
    if chars.get(*i) == Some(&'~') {
        return Err("sed: `~` in an address is not reproduced".into());
    }
    Ok(Address::Range { start, end })
}

/// One line address at `i` (`None`: there is none).
fn line(chars: &[char], i: &mut usize, extended: bool) -> Result<Option<Line>, String> {
    let delim = match chars.get(*i) {
        Some(c) if c.is_ascii_digit() => {
            let n = number(chars, i).ok_or("sed: line number out of range")?;
            if chars.get(*i) == Some(&'~') {
                return Err("sed: `first~step` addresses are not reproduced".into());
            }
            return Ok(Some(Line::Number(n)));
        }
        Some('$') => {
            *i += 1;
            return Ok(Some(Line::Last));
        }
        Some('/') => '/',
        Some('\\') => {
            let d = *chars.get(*i + 1).ok_or("sed: unterminated address")?;
            if d == '\n' || d == '\\' {
                return Err("sed: address delimiter not reproduced".into());
            }
            *i += 1;
            d
        }
        _ => return Ok(None),
    };
    *i += 1;
    let re = regex_field(chars, i, delim)?;
    if re.is_empty() {
        return Err("sed: the empty regular expression (the last one used) is not reproduced".into());
    }
    let mut icase = false;
    while let Some(flag) = chars.get(*i) {
        match flag {
            'I' => icase = true,
            'M' => return Err("sed: the `M` address flag is not reproduced".into()),
            _ => break,
        }
        *i += 1;
    }
    let pattern = translate_address(&re, extended, delim)?;
    let pattern = if icase { format!("(?i){pattern}") } else { pattern };
    let re = Regex::new(&pattern).map_err(|e| format!("sed: regular expression `{re}`: {e}"))?;
    Ok(Some(Line::Match(re)))
}

fn number(chars: &[char], i: &mut usize) -> Option<usize> {
    let digits: String = chars[*i..].iter().take_while(|c| c.is_ascii_digit()).collect();
    *i += digits.len();
    digits.parse().ok()
}

/// An `s` command from after its `s`.
fn substitute_command(chars: &[char], i: &mut usize, extended: bool) -> Result<Substitute, String> {
    let delim = *chars.get(*i).ok_or("sed: unterminated `s` command")?;
    if delim == '\\' || delim == '\n' {
        return Err("sed: delimiter not reproduced".into());
    }
    *i += 1;
    let re = regex_field(chars, i, delim)?;
    let replacement = field(chars, i, delim)?;
    let (mut global, mut icase, mut print) = (false, false, false);
    while *i < chars.len() && chars[*i] != ';' && chars[*i] != '\n' && chars[*i] != '}' {
        match chars[*i] {
            'g' => global = true,
            'p' => print = true,
            'I' | 'i' => icase = true,
            c if c.is_whitespace() => {}
            c => return Err(format!("sed flag `{c}` is not reproduced")),
        }
        *i += 1;
    }
    if re.is_empty() {
        return Err("sed: the empty regular expression (the last one used) is not reproduced".into());
    }
    let pattern = translate(&re, extended, delim)?;
    let pattern = if icase { format!("(?i){pattern}") } else { pattern };
    let re = Regex::new(&pattern).map_err(|e| format!("sed: regular expression `{re}`: {e}"))?;
    Ok(Substitute {
        re,
        replacement: replacement_pieces(&replacement, delim)?,
        global,
        print,
    })
}

/// The text up to the next unescaped `delim` (escapes kept, `\DELIM` kept for the caller).
/// A regular expression up to the delimiter, which a bracket expression holds as itself, as GNU
/// sed reads it: keyboard-configuration's `s/[/]/%slash%/g`. A `]` first in the brackets (after
/// any `^`) is one of its characters, and `[:class:]`, `[=c=]` and `[.c.]` end at their own `]`.
fn regex_field(chars: &[char], i: &mut usize, delim: char) -> Result<String, String> {
    const UNTERMINATED: &str = "sed: unterminated `s` command";
    let mut s = String::new();
    while let Some(&c) = chars.get(*i) {
        *i += 1;
        if c == delim {
            return Ok(s);
        }
        s.push(c);
        match c {
            '\\' => {
                s.push(*chars.get(*i).ok_or(UNTERMINATED)?);
                *i += 1;
            }
            '[' => {
                let mut first = true;
                loop {
                    let c = *chars.get(*i).ok_or(UNTERMINATED)?;
                    *i += 1;
                    s.push(c);
                    match c {
                        '^' if first && s.ends_with("[^") => continue,
                        ']' if !first => break,
                        '[' if matches!(chars.get(*i), Some(':' | '=' | '.')) => {
                            let kind = chars[*i];
                            s.push(kind);
                            *i += 1;
                            // Up to the class's own closing `X]`.
                            loop {
                                let c = *chars.get(*i).ok_or(UNTERMINATED)?;
                                *i += 1;
                                s.push(c);
                                if c == kind && chars.get(*i) == Some(&']') {
                                    s.push(']');
                                    *i += 1;
                                    break;
                                }
                            }
                        }
                        _ => {}
                    }
                    first = false;
                }
            }
            _ => {}
        }
    }
    Err(UNTERMINATED.into())
}

fn field(chars: &[char], i: &mut usize, delim: char) -> Result<String, String> {
    let mut s = String::new();
    while let Some(&c) = chars.get(*i) {
        *i += 1;
        if c == delim {
            return Ok(s);
        }
        s.push(c);
        if c == '\\' {
            let next = *chars.get(*i).ok_or("sed: unterminated `s` command")?;
            s.push(next);
            *i += 1;
        }
    }
    Err("sed: unterminated `s` command".into())
}

fn replacement_pieces(text: &str, delim: char) -> Result<Vec<Piece>, String> {
    let mut pieces = Vec::new();
    let mut lit = String::new();
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        match c {
            '&' => {
                pieces.push(Piece::Text(std::mem::take(&mut lit)));
                pieces.push(Piece::Group(0));
            }
            '\\' => match chars.next() {
                Some(d @ '1'..='9') => {
                    pieces.push(Piece::Text(std::mem::take(&mut lit)));
                    pieces.push(Piece::Group(d as usize - '0' as usize));
                }
                Some('n') => lit.push('\n'),
                Some('t') => lit.push('\t'),
                Some(c @ ('L' | 'U' | 'l' | 'u' | 'E')) => {
                    pieces.push(Piece::Text(std::mem::take(&mut lit)));
                    pieces.push(Piece::Case(match c {
                        'L' => CaseChange::Lower,
                        'U' => CaseChange::Upper,
                        'l' => CaseChange::NextLower,
                        'u' => CaseChange::NextUpper,
                        _ => CaseChange::End,
                    }));
                }
                Some(c) if c == delim || !c.is_ascii_alphanumeric() => lit.push(c),
                Some(c) => return Err(format!("sed: `\\{c}` in a replacement is not reproduced")),
                None => return Err("sed: trailing backslash in a replacement".into()),
            },
            c => lit.push(c),
        }
    }
    pieces.push(Piece::Text(lit));
    pieces.retain(|p| *p != Piece::Text(String::new()));
    Ok(pieces)
}

/// Edits one line (without its newline). `None` where a case conversion meets a letter outside
/// ASCII, which GNU sed converts by the locale dpkg was run in.
fn substitute(line: &str, cmd: &Substitute) -> Option<String> {
    let mut out = String::new();
    let mut last = 0;
    for caps in cmd.re.captures_iter(line) {
        let Some(whole) = caps.get(0) else { continue };
        out.push_str(&line[last..whole.start()]);
        let mut case = Cased::default();
        for p in &cmd.replacement {
            match p {
                Piece::Text(t) => case.push(&mut out, t)?,
                Piece::Group(n) => case.push(&mut out, caps.get(*n).map_or("", |m| m.as_str()))?,
                Piece::Case(change) => case.change(*change),
            }
        }
        last = whole.end();
        if !cmd.global {
            break;
        }
    }
    out.push_str(&line[last..]);
    Some(out)
}

/// The case conversion in force while a replacement is written.
#[derive(Default)]
struct Cased {
    /// `\L` or `\U` (`Lower`/`Upper`), up to `\E`.
    span: Option<CaseChange>,
    /// `\l` or `\u`: the next character only.
    next: Option<CaseChange>,
}

impl Cased {
    fn change(&mut self, change: CaseChange) {
        // GNU sed: `\L`, `\U` or `\E` after `\u`/`\l` cancels it (`\u\L&` lowers all); the
        // other way round both hold (`\L\u&` is `One.two`).
        match change {
            CaseChange::NextLower | CaseChange::NextUpper => self.next = Some(change),
            CaseChange::Lower | CaseChange::Upper => {
                self.span = Some(change);
                self.next = None;
            }
            CaseChange::End => {
                self.span = None;
                self.next = None;
            }
        }
    }

    fn push(&mut self, out: &mut String, text: &str) -> Option<()> {
        if self.span.is_none() && self.next.is_none() {
            out.push_str(text);
            return Some(());
        }
        for c in text.chars() {
            let how = self.next.take().or(self.span);
            if how.is_some() && c.is_alphabetic() && !c.is_ascii() {
                return None;
            }
            out.push(match how {
                Some(CaseChange::Lower | CaseChange::NextLower) => c.to_ascii_lowercase(),
                Some(CaseChange::Upper | CaseChange::NextUpper) => c.to_ascii_uppercase(),
                _ => c,
            });
        }
        Some(())
    }
}

/// Where a range stands between lines.
#[derive(Clone, Copy, Default)]
enum RangeState {
    #[default]
    Outside,
    /// Inside, up to the line the end names or matches (`None`: a `$` or regex end).
    Inside(Option<usize>),
    /// A range whose start is a line number, once it ended: it never starts again.
    Done,
}

/// The line sed is on: its number (from 1), whether it is the last, its text.
struct Cursor<'a> {
    number: usize,
    last: bool,
    text: &'a str,
}

impl Command {
    /// Whether the command's address selects the line, moving its range along (a range is only
    /// looked at on the lines its command is reached on, as in GNU sed).
    fn selects(&self, state: &mut RangeState, at: &Cursor<'_>) -> bool {
        let hit = match &self.address {
            Address::Every => true,
            Address::One(l) => line_matches(l, at),
            Address::Range { start, end } => range_selects(start, end, state, at),
        };
        hit != self.negated
    }
}

fn line_matches(l: &Line, at: &Cursor<'_>) -> bool {
    match l {
        Line::Number(n) => *n == at.number,
        Line::Last => at.last,
        Line::Match(re) => re.is_match(at.text),
    }
}

fn range_selects(start: &Line, end: &End, state: &mut RangeState, at: &Cursor<'_>) -> bool {
    // Where the range goes when it ends: a numbered start is passed for good.
    let ended = if matches!(start, Line::Number(_)) {
        RangeState::Done
    } else {
        RangeState::Outside
    };
    match *state {
        RangeState::Done => false,
        RangeState::Inside(limit) => {
            // A numbered end line the command was not reached on (an earlier `d`): GNU sed
            // closes the range on the next line it sees, without selecting it.
            if let (End::Number(_), Some(n)) = (end, limit)
                && at.number > n
            {
                *state = ended;
                return false;
            }
            let closes = match (end, limit) {
                (End::Number(_) | End::Following(_), Some(n)) => at.number >= n,
                (End::Last, _) => at.last,
                (End::Match(re), _) => re.is_match(at.text),
                _ => true,
            };
            if closes {
                *state = ended;
            }
            true
        }
        RangeState::Outside => {
            // A numbered start the command was not reached on (an earlier `d` ended that
            // cycle): GNU sed starts the range on the first line it is reached on after it.
            let starts = match start {
                Line::Number(n) => at.number >= *n,
                _ => line_matches(start, at),
            };
            if !starts {
                return false;
            }
            // A line-number end at or before the start selects the start line alone.
            *state = match end {
                End::Number(n) if *n > at.number => RangeState::Inside(Some(*n)),
                End::Following(n) if *n > 0 => RangeState::Inside(Some(at.number + n)),
                End::Last if !at.last => RangeState::Inside(None),
                // The end is looked for from the next line on.
                End::Match(_) => RangeState::Inside(None),
                _ => ended,
            };
            true
        }
    }
}

/// Runs a program on text line by line, as sed prints it (a last line without its newline
/// keeps lacking it; `quiet` is `-n`). `None`: a case conversion met a letter outside ASCII, or a
/// line took more than [`MAX_BRANCHES_PER_LINE`] branches.
pub fn sed_text(text: &str, commands: &[Command], quiet: bool) -> Option<String> {
    let mut edited = Output::default();
    // `0,/RE/`: the range is open before the first line, so the end can match on line 1.
    let mut ranges: Vec<RangeState> = commands
        .iter()
        .map(|c| match &c.address {
            Address::Range {
                start: Line::Number(0),
                ..
            } => RangeState::Inside(None),
            _ => RangeState::Outside,
        })
        .collect();
    let lines: Vec<&str> = text.split_inclusive('\n').collect();
    for (index, line) in lines.iter().enumerate() {
        let (body, newline) = match line.strip_suffix('\n') {
            Some(b) => (b, "\n"),
            None => (*line, ""),
        };
        let mut body = body.to_owned();
        let mut deleted = false;
        // A substitution made since the line was read or the last `t`/`T`.
        let mut substituted = false;
        let mut branches = 0;
        let mut k = 0;
        while k < commands.len() {
            let (cmd, state) = (&commands[k], &mut ranges[k]);
            k += 1;
            let at = Cursor {
                number: index + 1,
                last: index + 1 == lines.len(),
                text: &body,
            };
            if !cmd.selects(state, &at) {
                // A block not selected is jumped over, its own commands not looked at.
                if let Action::Block { end } = cmd.action {
                    k = end + 1;
                }
                continue;
            }
            match &cmd.action {
                Action::Block { .. } | Action::BlockEnd | Action::Label(_) => {}
                Action::Branch { when, to, .. } => {
                    let jump = match when {
                        BranchWhen::Always => true,
                        BranchWhen::Substituted => std::mem::take(&mut substituted),
                        BranchWhen::NotSubstituted => !std::mem::take(&mut substituted),
                    };
                    if jump {
                        branches += 1;
                        if branches > MAX_BRANCHES_PER_LINE {
                            return None;
                        }
                        k = *to;
                    }
                }
                Action::Substitute(s) => {
                    let made = s.re.is_match(&body);
                    let changed = substitute(&body, s)?;
                    // `p` prints the pattern space as it is after a substitution that was made.
                    if s.print && made {
                        edited.line(&changed, newline);
                    }
                    substituted |= made;
                    body = changed;
                }
                Action::Print => edited.line(&body, newline),
                Action::Delete => {
                    deleted = true;
                    break;
                }
            }
        }
        // Without `-n` every line is printed at the end of its cycle.
        if !quiet && !deleted {
            edited.line(&body, newline);
        }
    }
    Some(edited.text)
}

/// What sed prints. A last line without its newline is printed without it, unless more follows
/// (`printf a | sed p` prints `a`, a newline, `a`), as GNU sed does.
#[derive(Default)]
struct Output {
    text: String,
    missing_newline: bool,
}

impl Output {
    fn line(&mut self, body: &str, newline: &str) {
        if self.missing_newline {
            self.text.push('\n');
        }
        self.text.push_str(body);
        self.text.push_str(newline);
        self.missing_newline = newline.is_empty();
    }
}
