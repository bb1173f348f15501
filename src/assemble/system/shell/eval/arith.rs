//! Arithmetic expansion, `$((…))`, as dash evaluates it (debconf state machines:
//! `STATE=$(($STATE + 1))`): signed 64-bit integers, C's operators and precedence (no `++`,
//! `--`, `**` or comma, which dash does not have), variables by name, assignments.
//!
//! Hand-written: the grammar is small and its edge cases (octal constants, wrapping, what an
//! unevaluated branch may not do) are dash's, not a general expression crate's.

/// Where the expression's names are read and assigned.
pub(super) trait ArithVars {
    /// A variable's value as dash reads it: unset or empty is 0, else an integer constant.
    /// `Err` when the walk does not know it.
    fn get(&mut self, name: &str) -> Result<i64, String>;
    fn set(&mut self, name: &str, value: i64);
}

/// Evaluates `expr` (its parameters and substitutions already expanded). `Err` says why it
/// cannot be: a value not known, or an expression dash refuses (the script stops there).
pub(super) fn evaluate(expr: &str, vars: &mut dyn ArithVars) -> Result<i64, String> {
    let tokens = tokenize(expr)?;
    let mut p = Parser {
        tokens,
        at: 0,
        depth: 0,
        vars,
    };
    let v = p.assignment(true)?;
    match p.tokens.get(p.at) {
        None => Ok(v),
        Some(t) => Err(format!("arithmetic: unexpected {t:?} in {expr:?}")),
    }
}

/// An integer constant as dash reads it (`strtoimax` with base 0): decimal, `0` octal, `0x`
/// hexadecimal, with an optional sign; surrounding blanks allowed.
pub(super) fn parse_number(text: &str) -> Option<i64> {
    let t = text.trim_matches([' ', '\t', '\n']);
    let (negative, digits) = match t.as_bytes().first() {
        Some(b'-') => (true, &t[1..]),
        Some(b'+') => (false, &t[1..]),
        _ => (false, t),
    };
    let magnitude = crate::assemble::system::clib::magnitude(digits)?;
    let value = magnitude as i64;
    Some(if negative { value.wrapping_neg() } else { value })
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Num(i64),
    Name(String),
    Op(&'static str),
}

/// Longest first: `<<=` before `<<` before `<=` before `<`.
const OPS: &[&str] = &[
    "<<=", ">>=", "<<", ">>", "<=", ">=", "==", "!=", "&&", "||", "*=", "/=", "%=", "+=", "-=", "&=", "^=",
    "|=", "+", "-", "*", "/", "%", "<", ">", "&", "^", "|", "!", "~", "?", ":", "=", "(", ")",
];

fn tokenize(expr: &str) -> Result<Vec<Tok>, String> {
    let mut out = Vec::new();
    let mut rest = expr;
    loop {
        rest = rest.trim_start_matches([' ', '\t', '\n']);
        let Some(c) = rest.chars().next() else {
            return Ok(out);
        };
        if c.is_ascii_digit() {
            let len = rest
                .find(|c: char| !c.is_ascii_alphanumeric())
                .unwrap_or(rest.len());
            let n = parse_number(&rest[..len])
                .ok_or_else(|| format!("arithmetic: {:?} is not a number", &rest[..len]))?;
            out.push(Tok::Num(n));
            rest = &rest[len..];
        } else if c.is_ascii_alphabetic() || c == '_' {
            let len = rest
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(rest.len());
            out.push(Tok::Name(rest[..len].to_owned()));
            rest = &rest[len..];
        } else {
            let op = OPS
                .iter()
                .find(|op| rest.starts_with(**op))
                .ok_or_else(|| format!("arithmetic: {c:?} is not an operator dash knows"))?;
            out.push(Tok::Op(op));
            rest = &rest[op.len()..];
        }
    }
}

struct Parser<'v> {
    tokens: Vec<Tok>,
    at: usize,
    /// Parentheses and unary operators open: bounded, so a hostile expression cannot exhaust
    /// the stack.
    depth: usize,
    vars: &'v mut dyn ArithVars,
}

/// How deeply parentheses and unary operators may nest.
const MAX_DEPTH: usize = 100;

/// The binary operators by precedence, loosest first (C's, below `?:`).
const LEVELS: &[&[&str]] = &[
    &["||"],
    &["&&"],
    &["|"],
    &["^"],
    &["&"],
    &["==", "!="],
    &["<", "<=", ">", ">="],
    &["<<", ">>"],
    &["+", "-"],
    &["*", "/", "%"],
];

impl Parser<'_> {
    fn peek_op(&self) -> Option<&'static str> {
        match self.tokens.get(self.at) {
            Some(Tok::Op(op)) => Some(op),
            _ => None,
        }
    }

    fn expect(&mut self, op: &str) -> Result<(), String> {
        if self.peek_op() == Some(op) {
            self.at += 1;
            Ok(())
        } else {
            Err(format!("arithmetic: expected {op:?}"))
        }
    }

    /// `NAME op= expr` (right to left), else a conditional. `eval` false: an operand `&&`,
    /// `||` or `?:` does not evaluate, which reads and assigns nothing and cannot fail.
    fn assignment(&mut self, eval: bool) -> Result<i64, String> {
        if let (Some(Tok::Name(name)), Some(Tok::Op(op))) =
            (self.tokens.get(self.at), self.tokens.get(self.at + 1))
            && op.ends_with('=')
            && !matches!(*op, "==" | "!=" | "<=" | ">=")
        {
            let (name, op) = (name.clone(), *op);
            self.at += 2;
            let rhs = self.assignment(eval)?;
            if !eval {
                return Ok(0);
            }
            let value = match op {
                "=" => rhs,
                _ => binary(&op[..op.len() - 1], self.vars.get(&name)?, rhs)?,
            };
            self.vars.set(&name, value);
            return Ok(value);
        }
        self.conditional(eval)
    }

    fn conditional(&mut self, eval: bool) -> Result<i64, String> {
        let cond = self.binary(0, eval)?;
        if self.peek_op() != Some("?") {
            return Ok(cond);
        }
        self.at += 1;
        let yes = self.assignment(eval && cond != 0)?;
        self.expect(":")?;
        let no = self.assignment(eval && cond == 0)?;
        Ok(if cond != 0 { yes } else { no })
    }

    fn binary(&mut self, level: usize, eval: bool) -> Result<i64, String> {
        let Some(ops) = LEVELS.get(level) else {
            return self.unary(eval);
        };
        let mut left = self.binary(level + 1, eval)?;
        while let Some(op) = self.peek_op().filter(|op| ops.contains(op)) {
            self.at += 1;
            // `&&`/`||` evaluate their right side only when it decides.
            let right_eval = match op {
                "&&" => eval && left != 0,
                "||" => eval && left == 0,
                _ => eval,
            };
            let right = self.binary(level + 1, right_eval)?;
            left = match op {
                "&&" => i64::from(left != 0 && right != 0),
                "||" => i64::from(left != 0 || right != 0),
                _ if !eval => 0,
                _ => binary(op, left, right)?,
            };
        }
        Ok(left)
    }

    fn unary(&mut self, eval: bool) -> Result<i64, String> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(format!("arithmetic: nested deeper than {MAX_DEPTH} levels"));
        }
        let v = self.operand(eval);
        self.depth -= 1;
        v
    }

    fn operand(&mut self, eval: bool) -> Result<i64, String> {
        match self.peek_op() {
            Some(op @ ("-" | "+" | "!" | "~")) => {
                self.at += 1;
                let v = self.unary(eval)?;
                Ok(match op {
                    "-" => v.wrapping_neg(),
                    "+" => v,
                    "!" => i64::from(v == 0),
                    _ => !v,
                })
            }
            Some("(") => {
                self.at += 1;
                let v = self.assignment(eval)?;
                self.expect(")")?;
                Ok(v)
            }
            _ => match self.tokens.get(self.at).cloned() {
                Some(Tok::Num(n)) => {
                    self.at += 1;
                    Ok(n)
                }
                Some(Tok::Name(name)) => {
                    self.at += 1;
                    if eval { self.vars.get(&name) } else { Ok(0) }
                }
                other => Err(format!("arithmetic: expected a number, found {other:?}")),
            },
        }
    }
}

/// A binary operator on two evaluated operands (C's, on 64 bits, wrapping).
fn binary(op: &str, a: i64, b: i64) -> Result<i64, String> {
    Ok(match op {
        "*" => a.wrapping_mul(b),
        "/" | "%" if b == 0 => return Err("arithmetic: division by zero".to_owned()),
        "/" => a.wrapping_div(b),
        "%" => a.wrapping_rem(b),
        "+" => a.wrapping_add(b),
        "-" => a.wrapping_sub(b),
        "<<" => a.wrapping_shl(b as u32),
        ">>" => a.wrapping_shr(b as u32),
        "<" => i64::from(a < b),
        "<=" => i64::from(a <= b),
        ">" => i64::from(a > b),
        ">=" => i64::from(a >= b),
        "==" => i64::from(a == b),
        "!=" => i64::from(a != b),
        "&" => a & b,
        "^" => a ^ b,
        "|" => a | b,
        _ => return Err(format!("arithmetic: {op:?} is not an operator dash knows")),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    struct Map(BTreeMap<String, Option<String>>);

    impl ArithVars for Map {
        fn get(&mut self, name: &str) -> Result<i64, String> {
            match self.0.get(name) {
                None => Ok(0),
                Some(None) => Err(format!("${name} not known")),
                Some(Some(s)) if s.is_empty() => Ok(0),
                Some(Some(s)) => parse_number(s).ok_or_else(|| format!("{s:?} is not a number")),
            }
        }
        fn set(&mut self, name: &str, value: i64) {
            self.0.insert(name.to_owned(), Some(value.to_string()));
        }
    }

    fn eval_with(expr: &str, vars: &[(&str, Option<&str>)]) -> (Result<i64, String>, Map) {
        let mut m = Map(vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.map(str::to_owned)))
            .collect());
        (evaluate(expr, &mut m), m)
    }

    /// Each expression with what dash 0.5.12 prints for `echo $((EXPR))` (checked on the host's
    /// dash 0.5.12-2; so are the refusals below).
    #[test]
    fn evaluates_as_dash_does() {
        for (expr, want) in [
            ("1 + 2 * 3", 7),
            ("(1 + 2) * 3", 9),
            ("7 / 2", 3),
            ("-7 / 2", -3),
            ("-7 % 3", -1),
            ("010", 8),
            ("0x1F", 31),
            ("1 << 4 | 1", 17),
            ("5 > 3 && 2 > 1", 1),
            ("0 || 0", 0),
            ("!0 + ~0", 0),
            ("3 == 3 ? 10 : 20", 10),
            ("0 ? 10 : 1 ? 20 : 30", 20),
            ("2 - - 2", 4),
            ("9223372036854775807 + 1", i64::MIN),
            ("4 ^ 1 & 5", 5),
            ("1 < 2 == 1", 1),
        ] {
            assert_eq!(eval_with(expr, &[]).0, Ok(want), "{expr}");
        }
    }

    #[test]
    fn variables_are_read_and_assigned() {
        let (r, m) = eval_with("STATE + STATE - old", &[("STATE", Some("3")), ("old", Some("2"))]);
        assert_eq!(r, Ok(4));
        assert_eq!(m.0.len(), 2);
        // Unset and empty are 0.
        assert_eq!(eval_with("x + 1", &[("x", Some(""))]).0, Ok(1));
        assert_eq!(eval_with("nothere + 1", &[]).0, Ok(1));
        let (r, m) = eval_with("i += 2", &[("i", Some("1"))]);
        assert_eq!((r, m.0["i"].clone()), (Ok(3), Some("3".to_owned())));
        let (r, m) = eval_with("a = b = 5", &[]);
        assert_eq!(
            (r, m.0["a"].clone(), m.0["b"].clone()),
            (Ok(5), Some("5".into()), Some("5".into()))
        );
        // A branch not taken reads and assigns nothing and cannot fail.
        let (r, m) = eval_with("0 && (x = 1 / 0)", &[("u", None)]);
        assert_eq!(r, Ok(0));
        assert!(!m.0.contains_key("x"));
        assert_eq!(eval_with("1 ? 2 : u", &[("u", None)]).0, Ok(2));
        assert!(eval_with("u + 1", &[("u", None)]).0.is_err());
        assert!(eval_with("x + 1", &[("x", Some("abc"))]).0.is_err());
    }

    #[test]
    fn what_dash_refuses_is_an_error() {
        let deep = format!("{}1{}", "(".repeat(10_000), ")".repeat(10_000));
        assert!(eval_with(&deep, &[]).0.is_err(), "bounded, not a stack overflow");
        assert!(eval_with(&"-".repeat(10_000), &[]).0.is_err());
        for expr in [
            "", "1 / 0", "5 % 0", "1 +", "(1", "x++", "2 ** 3", "1, 2", "08", "1 $ 2",
        ] {
            assert!(eval_with(expr, &[]).0.is_err(), "{expr}");
        }
    }
}
