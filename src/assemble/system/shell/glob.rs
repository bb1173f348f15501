//! Shell pattern matching (`case` arms, and ld.so.conf `include` globs through `ldcache`).
//!
//! Hand-written rather than `globset`: sh's rules differ (no `{a,b}`, `[!…]`, an unclosed `[` is
//! literal) and a pattern from a script must match in bounded time without compiling a regex.

/// One element of a pattern.
#[derive(Debug, Clone)]
enum Pat {
    /// `*`: any run of characters.
    Star,
    /// `?`: any one character.
    Any,
    /// A literal character (`\x` is `x`).
    Lit(char),
    /// `[…]` / `[!…]`: one character in (or not in) the set.
    Class { negated: bool, items: Vec<ClassItem> },
}

/// A character test (`[:alpha:]` and friends).
type CharTest = fn(char) -> bool;

#[derive(Debug, Clone)]
enum ClassItem {
    Char(char),
    Range(char, char),
    /// `[:alpha:]` and the other POSIX classes (C locale).
    Named(CharTest),
}

/// Shell pattern matching as sh's `case` does it (POSIX "Pattern Matching Notation"): `*`, `?`,
/// bracket expressions (`[abc]`, `[a-z]`, `[!a]`/`[^a]`, `[]a]`, `[[:digit:]]`), `\` quoting the
/// next character, and everything else literal. A `[` without its `]` is a literal `[`.
///
/// Iterative, in time proportional to the product of the lengths at worst: a pattern from a
/// script can be long, and must not decide a recursion depth.
pub fn glob_match(pattern: &str, s: &str) -> bool {
    let p = compile(pattern);
    let s: Vec<char> = s.chars().collect();
    let (mut pi, mut si) = (0, 0);
    // After the last `*` seen: the pattern index past it and the text index it was tried at.
    let mut star: Option<(usize, usize)> = None;
    while si < s.len() {
        match p.get(pi) {
            Some(Pat::Star) => {
                star = Some((pi + 1, si));
                pi += 1;
            }
            Some(one) if matches_one(one, s[si]) => {
                pi += 1;
                si += 1;
            }
            _ => match star {
                // Let the last `*` take one more character and try again from there.
                Some((after, tried)) => {
                    pi = after;
                    si = tried + 1;
                    star = Some((after, tried + 1));
                }
                None => return false,
            },
        }
    }
    p[pi..].iter().all(|c| matches!(c, Pat::Star))
}

fn matches_one(p: &Pat, c: char) -> bool {
    match p {
        Pat::Star => false,
        Pat::Any => true,
        Pat::Lit(l) => *l == c,
        Pat::Class { negated, items } => {
            let hit = items.iter().any(|i| match i {
                ClassItem::Char(x) => *x == c,
                ClassItem::Range(lo, hi) => (*lo..=*hi).contains(&c),
                ClassItem::Named(f) => f(c),
            });
            hit != *negated
        }
    }
}

fn compile(pattern: &str) -> Vec<Pat> {
    let chars: Vec<char> = pattern.chars().collect();
    let mut out = Vec::with_capacity(chars.len());
    let mut i = 0;
    while i < chars.len() {
        match chars[i] {
            '*' => {
                // `**` is `*`: keeps the matcher's backtracking to one star.
                if !matches!(out.last(), Some(Pat::Star)) {
                    out.push(Pat::Star);
                }
                i += 1;
            }
            '?' => {
                out.push(Pat::Any);
                i += 1;
            }
            '\\' if i + 1 < chars.len() => {
                out.push(Pat::Lit(chars[i + 1]));
                i += 2;
            }
            '[' => match bracket(&chars, i + 1) {
                Some((class, next)) => {
                    out.push(class);
                    i = next;
                }
                None => {
                    out.push(Pat::Lit('['));
                    i += 1;
                }
            },
            c => {
                out.push(Pat::Lit(c));
                i += 1;
            }
        }
    }
    out
}

/// The bracket expression starting at `chars[start]` (just past `[`) and the index past its `]`;
/// `None` when it is not closed.
fn bracket(chars: &[char], start: usize) -> Option<(Pat, usize)> {
    let mut i = start;
    let negated = matches!(chars.get(i), Some('!' | '^'));
    if negated {
        i += 1;
    }
    let mut items = Vec::new();
    let first = i;
    loop {
        let c = *chars.get(i)?;
        // `]` first in the set is literal; elsewhere it closes the set.
        if c == ']' && i > first {
            return Some((Pat::Class { negated, items }, i + 1));
        }
        if c == '['
            && chars.get(i + 1) == Some(&':')
            && let Some((f, next)) = named_class(chars, i + 2)
        {
            items.push(ClassItem::Named(f));
            i = next;
            continue;
        }
        let (lo, after) = match c {
            '\\' if i + 1 < chars.len() => (chars[i + 1], i + 2),
            _ => (c, i + 1),
        };
        // `a-z`; a `-` first or last in the set is literal.
        if chars.get(after) == Some(&'-')
            && let Some(&hi) = chars.get(after + 1)
            && hi != ']'
        {
            let (hi, next) = match hi {
                '\\' if after + 2 < chars.len() => (chars[after + 2], after + 3),
                _ => (hi, after + 2),
            };
            items.push(ClassItem::Range(lo, hi));
            i = next;
        } else {
            items.push(ClassItem::Char(lo));
            i = after;
        }
    }
}

/// `[:name:]` (from just past `[:`): the class's test and the index past `:]`.
fn named_class(chars: &[char], start: usize) -> Option<(CharTest, usize)> {
    let len = chars[start..].windows(2).position(|w| w == [':', ']'])?;
    let name: String = chars[start..start + len].iter().collect();
    let f: CharTest = match name.as_str() {
        "alpha" => |c| c.is_ascii_alphabetic(),
        "digit" => |c| c.is_ascii_digit(),
        "alnum" => |c| c.is_ascii_alphanumeric(),
        "upper" => |c| c.is_ascii_uppercase(),
        "lower" => |c| c.is_ascii_lowercase(),
        "space" => |c| c.is_ascii_whitespace() || c == '\x0b',
        "blank" => |c| c == ' ' || c == '\t',
        "punct" => |c| c.is_ascii_punctuation(),
        "xdigit" => |c| c.is_ascii_hexdigit(),
        "cntrl" => |c| c.is_ascii_control(),
        "print" => |c| c.is_ascii_graphic() || c == ' ',
        "graph" => |c| c.is_ascii_graphic(),
        _ => return None,
    };
    Some((f, start + len + 2))
}

#[cfg(test)]
mod tests {
    use super::glob_match;

    #[test]
    fn bracket_expressions_match_as_sh_does() {
        for (p, s, want) in [
            ("[abc]", "b", true),
            ("[abc]", "d", false),
            ("[a-c]x", "bx", true),
            ("[a-c]x", "dx", false),
            ("[!a-c]", "d", true),
            ("[!a-c]", "a", false),
            ("[^a-c]", "d", true),
            ("[]a]", "]", true),
            ("[]a]", "a", true),
            ("[!]a]", "]", false),
            ("[a-]", "-", true),
            ("[-a]", "-", true),
            ("[[:digit:]]*", "7up", true),
            ("[[:digit:]]*", "up7", false),
            ("[[:alpha:]_][[:alnum:]_]*", "_x1", true),
            ("[![:space:]]", " ", false),
            ("lib[0-9]*.conf", "lib3x.conf", true),
            ("lib[0-9]*.conf", "libx.conf", false),
            // An unclosed `[` is literal.
            ("a[b", "a[b", true),
            ("a[b", "ab", false),
            ("[", "[", true),
            // `\` quotes the next character, inside a set too.
            ("\\*", "*", true),
            ("\\*", "x", false),
            ("[\\]]", "]", true),
            ("a\\?", "a?", true),
            ("a\\?", "ab", false),
            // Classes inside `*` runs backtrack like the rest.
            ("*[0-9]", "abc9", true),
            ("*[0-9]", "abc9x", false),
            ("*.[ch]", "x.h", true),
            ("*.[ch]", "x.o", false),
            // No brace alternation in sh.
            ("{a,b}", "a", false),
            ("{a,b}", "{a,b}", true),
        ] {
            assert_eq!(glob_match(p, s), want, "{p:?} vs {s:?}");
        }
    }

    /// ld.so.conf.d's usual `include` pattern, through the same matcher `ldcache` uses.
    #[test]
    fn ld_so_conf_patterns() {
        assert!(glob_match("*.conf", "x86_64-linux-gnu.conf"));
        assert!(glob_match("[a-z]*-linux-gnu.conf", "aarch64-linux-gnu.conf"));
        assert!(!glob_match("[a-z]*-linux-gnu.conf", "0-linux-gnu.conf"));
    }

    #[test]
    fn long_hostile_classes_are_bounded() {
        let p = "*[ab]".repeat(20_000);
        assert!(!glob_match(&p, &"c".repeat(30_000)));
        assert!(glob_match(&p, &"ca".repeat(20_000)));
    }
}
