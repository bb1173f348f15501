//! awk's grammar (POSIX, as mawk reads it) into [`Program`]. What this does not run — user
//! functions, `getline`, output redirections and pipes — is refused here, before anything runs.

use super::lex::Tok;

#[derive(Debug, Clone)]
pub(super) enum Expr {
    Num(f64),
    Str(String),
    /// A bare `/re/`: whether `$0` matches.
    Ere(String),
    Lvalue(Lvalue),
    Assign(Lvalue, Option<char>, Box<Expr>),
    Cond(Box<Expr>, Box<Expr>, Box<Expr>),
    And(Box<Expr>, Box<Expr>),
    Or(Box<Expr>, Box<Expr>),
    Not(Box<Expr>),
    Neg(Box<Expr>),
    Plus(Box<Expr>),
    Arith(char, Box<Expr>, Box<Expr>),
    Cmp(&'static str, Box<Expr>, Box<Expr>),
    /// `a ~ re` (`true`) or `a !~ re`.
    Match(bool, Box<Expr>, Box<Expr>),
    Concat(Box<Expr>, Box<Expr>),
    In(Vec<Expr>, String),
    /// `++x` (`true`, +1), `x--` (`false`, -1).
    IncDec(Lvalue, bool, f64),
    Call(String, Vec<Expr>),
    /// `length` without parentheses.
    Length,
}

#[derive(Debug, Clone)]
pub(super) enum Lvalue {
    Var(String),
    Field(Box<Expr>),
    Index(String, Vec<Expr>),
}

#[derive(Debug, Clone)]
pub(super) enum Stmt {
    Print(Vec<Expr>),
    Printf(Vec<Expr>),
    Expr(Expr),
    If(Expr, Box<Stmt>, Option<Box<Stmt>>),
    While(Expr, Box<Stmt>),
    Do(Box<Stmt>, Expr),
    For(Option<Box<Stmt>>, Option<Expr>, Option<Box<Stmt>>, Box<Stmt>),
    ForIn(String, String, Box<Stmt>),
    Block(Vec<Stmt>),
    Next,
    Exit(Option<Expr>),
    Break,
    Continue,
    Delete(String, Option<Vec<Expr>>),
}

#[derive(Debug, Clone)]
pub(super) enum Pattern {
    Begin,
    End,
    All,
    Expr(Expr),
    Range(Expr, Expr),
}

#[derive(Debug, Clone)]
pub(super) struct Rule {
    pub pattern: Pattern,
    /// `None`: print the record.
    pub action: Option<Vec<Stmt>>,
}

pub(super) type Program = Vec<Rule>;

pub(super) fn program(toks: &[Tok]) -> Result<Program, String> {
    let mut p = Parser {
        toks,
        at: 0,
        no_in: false,
        no_gt: false,
    };
    let mut rules = Vec::new();
    p.terminators();
    while !p.done() {
        rules.push(p.rule()?);
        p.terminators();
    }
    Ok(rules)
}

struct Parser<'t> {
    toks: &'t [Tok],
    at: usize,
    /// Inside `for (… in …)`'s head: `in` is not an operator.
    no_in: bool,
    /// In `print`'s list: a bare `>` is an output redirection.
    no_gt: bool,
}

impl Parser<'_> {
    fn done(&self) -> bool {
        self.at >= self.toks.len()
    }
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.at)
    }
    fn is_op(&self, op: &str) -> bool {
        matches!(self.peek(), Some(Tok::Op(o)) if *o == op)
    }
    fn is_kw(&self, kw: &str) -> bool {
        matches!(self.peek(), Some(Tok::Keyword(k)) if *k == kw)
    }
    fn eat_op(&mut self, op: &str) -> bool {
        let hit = self.is_op(op);
        self.at += usize::from(hit);
        hit
    }
    fn eat_kw(&mut self, kw: &str) -> bool {
        let hit = self.is_kw(kw);
        self.at += usize::from(hit);
        hit
    }
    fn expect(&mut self, op: &str) -> Result<(), String> {
        if self.eat_op(op) {
            Ok(())
        } else {
            Err(format!("awk: expected `{op}`, found {:?}", self.peek()))
        }
    }
    fn newlines(&mut self) {
        while matches!(self.peek(), Some(Tok::Newline)) {
            self.at += 1;
        }
    }
    fn terminators(&mut self) {
        while matches!(self.peek(), Some(Tok::Newline)) || self.is_op(";") {
            self.at += 1;
        }
    }

    fn rule(&mut self) -> Result<Rule, String> {
        if self.is_kw("function") || self.is_kw("func") {
            return Err("awk: user-defined functions are not reproduced".into());
        }
        let pattern = if self.eat_kw("BEGIN") {
            Pattern::Begin
        } else if self.eat_kw("END") {
            Pattern::End
        } else if self.is_op("{") {
            Pattern::All
        } else {
            let first = self.expr()?;
            if self.eat_op(",") {
                self.newlines();
                Pattern::Range(first, self.expr()?)
            } else {
                Pattern::Expr(first)
            }
        };
        let action = if self.is_op("{") {
            Some(self.block()?)
        } else if matches!(pattern, Pattern::Begin | Pattern::End) {
            return Err("awk: BEGIN and END need an action".into());
        } else {
            None
        };
        Ok(Rule { pattern, action })
    }

    fn block(&mut self) -> Result<Vec<Stmt>, String> {
        self.expect("{")?;
        let mut body = Vec::new();
        self.terminators();
        while !self.eat_op("}") {
            if self.done() {
                return Err("awk: missing `}`".into());
            }
            body.push(self.stmt()?);
            self.terminators();
        }
        Ok(body)
    }

    /// A statement; a simple one must end at `;`, a newline, `}` or the end.
    fn stmt(&mut self) -> Result<Stmt, String> {
        if self.is_op("{") {
            return Ok(Stmt::Block(self.block()?));
        }
        if self.eat_op(";") {
            return Ok(Stmt::Block(Vec::new()));
        }
        if self.eat_kw("if") {
            self.expect("(")?;
            let cond = self.expr()?;
            self.expect(")")?;
            self.newlines();
            let then = Box::new(self.stmt()?);
            // `else` may follow on a later line, after a `;`.
            let save = self.at;
            self.terminators();
            if self.eat_kw("else") {
                self.newlines();
                return Ok(Stmt::If(cond, then, Some(Box::new(self.stmt()?))));
            }
            self.at = save;
            return Ok(Stmt::If(cond, then, None));
        }
        if self.eat_kw("while") {
            self.expect("(")?;
            let cond = self.expr()?;
            self.expect(")")?;
            if self.is_op(";") {
                self.at += 1;
                return Ok(Stmt::While(cond, Box::new(Stmt::Block(Vec::new()))));
            }
            self.newlines();
            return Ok(Stmt::While(cond, Box::new(self.stmt()?)));
        }
        if self.eat_kw("do") {
            self.newlines();
            let body = Box::new(self.stmt()?);
            self.terminators();
            if !self.eat_kw("while") {
                return Err("awk: `do` without `while`".into());
            }
            self.expect("(")?;
            let cond = self.expr()?;
            self.expect(")")?;
            self.end_simple()?;
            return Ok(Stmt::Do(body, cond));
        }
        if self.eat_kw("for") {
            self.expect("(")?;
            // `for (k in a)`
            if let (Some(Tok::Name(k)), Some(Tok::Keyword("in")), Some(Tok::Name(a)), Some(Tok::Op(")"))) = (
                self.toks.get(self.at),
                self.toks.get(self.at + 1),
                self.toks.get(self.at + 2),
                self.toks.get(self.at + 3),
            ) {
                let (k, a) = (k.clone(), a.clone());
                self.at += 4;
                self.newlines();
                return Ok(Stmt::ForIn(k, a, Box::new(self.stmt()?)));
            }
            let init = if self.is_op(";") {
                None
            } else {
                Some(Box::new(self.simple()?))
            };
            self.expect(";")?;
            self.newlines();
            let cond = if self.is_op(";") { None } else { Some(self.expr()?) };
            self.expect(";")?;
            self.newlines();
            let step = if self.is_op(")") {
                None
            } else {
                Some(Box::new(self.simple()?))
            };
            self.expect(")")?;
            if self.is_op(";") {
                self.at += 1;
                return Ok(Stmt::For(init, cond, step, Box::new(Stmt::Block(Vec::new()))));
            }
            self.newlines();
            return Ok(Stmt::For(init, cond, step, Box::new(self.stmt()?)));
        }
        let s = self.simple()?;
        self.end_simple()?;
        Ok(s)
    }

    fn end_simple(&mut self) -> Result<(), String> {
        match self.peek() {
            None | Some(Tok::Newline) => Ok(()),
            Some(Tok::Op(";")) => {
                self.at += 1;
                Ok(())
            }
            Some(Tok::Op("}")) => Ok(()),
            other => Err(format!("awk: unexpected {other:?} after a statement")),
        }
    }

    fn simple(&mut self) -> Result<Stmt, String> {
        if self.eat_kw("next") {
            return Ok(Stmt::Next);
        }
        if self.is_kw("nextfile") || self.is_kw("getline") || self.is_kw("return") {
            return Err(format!("awk: {:?} is not reproduced", self.peek()));
        }
        if self.eat_kw("break") {
            return Ok(Stmt::Break);
        }
        if self.eat_kw("continue") {
            return Ok(Stmt::Continue);
        }
        if self.eat_kw("exit") {
            let code = if self.ends_statement() {
                None
            } else {
                Some(self.expr()?)
            };
            return Ok(Stmt::Exit(code));
        }
        if self.eat_kw("delete") {
            let Some(Tok::Name(a)) = self.peek().cloned() else {
                return Err("awk: delete needs an array".into());
            };
            self.at += 1;
            if self.eat_op("[") {
                let subs = self.expr_list("]")?;
                return Ok(Stmt::Delete(a, Some(subs)));
            }
            return Ok(Stmt::Delete(a, None));
        }
        let printf = self.is_kw("printf");
        if self.eat_kw("print") || self.eat_kw("printf") {
            let mut args = Vec::new();
            if !self.ends_statement() && !self.is_op(">") && !self.is_op(">>") && !self.is_op("|") {
                // `print (a, b)`: a parenthesised list.
                let save = self.at;
                let mut grouped = false;
                if self.eat_op("(") {
                    if let Ok(list) = self.expr_list(")")
                        && list.len() > 1
                        && self.ends_statement_or_redirect()
                    {
                        args = list;
                        grouped = true;
                    }
                    if !grouped {
                        self.at = save;
                    }
                }
                if !grouped {
                    let saved = std::mem::replace(&mut self.no_gt, true);
                    args.push(self.expr()?);
                    while self.eat_op(",") {
                        self.newlines();
                        args.push(self.expr()?);
                    }
                    self.no_gt = saved;
                }
            }
            if self.is_op(">") || self.is_op(">>") || self.is_op("|") {
                return Err("awk: output redirection is not reproduced".into());
            }
            if printf && args.is_empty() {
                return Err("awk: printf without a format".into());
            }
            return Ok(if printf {
                Stmt::Printf(args)
            } else {
                Stmt::Print(args)
            });
        }
        Ok(Stmt::Expr(self.expr()?))
    }

    fn ends_statement(&self) -> bool {
        matches!(self.peek(), None | Some(Tok::Newline) | Some(Tok::Op(";" | "}")))
    }
    fn ends_statement_or_redirect(&self) -> bool {
        self.ends_statement() || matches!(self.peek(), Some(Tok::Op(">" | ">>" | "|")))
    }

    fn expr_list(&mut self, close: &str) -> Result<Vec<Expr>, String> {
        let saved = (self.no_gt, self.no_in);
        (self.no_gt, self.no_in) = (false, false);
        let mut list = Vec::new();
        self.newlines();
        if !self.eat_op(close) {
            loop {
                list.push(self.expr()?);
                self.newlines();
                if self.eat_op(close) {
                    break;
                }
                self.expect(",")?;
                self.newlines();
            }
        }
        (self.no_gt, self.no_in) = saved;
        Ok(list)
    }

    pub(super) fn expr(&mut self) -> Result<Expr, String> {
        self.ternary()
    }

    fn ternary(&mut self) -> Result<Expr, String> {
        let cond = self.or()?;
        if self.eat_op("?") {
            self.newlines();
            let a = self.ternary()?;
            self.newlines();
            self.expect(":")?;
            self.newlines();
            let b = self.ternary()?;
            return Ok(Expr::Cond(Box::new(cond), Box::new(a), Box::new(b)));
        }
        // Assignment: right-associative, its target an lvalue.
        for (op, kind) in [
            ("=", None),
            ("+=", Some('+')),
            ("-=", Some('-')),
            ("*=", Some('*')),
            ("/=", Some('/')),
            ("%=", Some('%')),
            ("^=", Some('^')),
        ] {
            if self.is_op(op) {
                let Expr::Lvalue(target) = cond else {
                    return Err("awk: assignment to something not assignable".into());
                };
                self.at += 1;
                self.newlines();
                let value = self.ternary()?;
                return Ok(Expr::Assign(target, kind, Box::new(value)));
            }
        }
        Ok(cond)
    }

    fn or(&mut self) -> Result<Expr, String> {
        let mut left = self.and()?;
        while self.eat_op("||") {
            self.newlines();
            left = Expr::Or(Box::new(left), Box::new(self.and()?));
        }
        Ok(left)
    }

    fn and(&mut self) -> Result<Expr, String> {
        let mut left = self.in_expr()?;
        while self.eat_op("&&") {
            self.newlines();
            left = Expr::And(Box::new(left), Box::new(self.in_expr()?));
        }
        Ok(left)
    }

    fn in_expr(&mut self) -> Result<Expr, String> {
        let mut left = self.matching()?;
        while !self.no_in && self.is_kw("in") {
            self.at += 1;
            let Some(Tok::Name(a)) = self.peek().cloned() else {
                return Err("awk: `in` needs an array".into());
            };
            self.at += 1;
            left = Expr::In(vec![left], a);
        }
        Ok(left)
    }

    fn matching(&mut self) -> Result<Expr, String> {
        let mut left = self.comparison()?;
        loop {
            let positive = if self.eat_op("~") {
                true
            } else if self.eat_op("!~") {
                false
            } else {
                return Ok(left);
            };
            left = Expr::Match(positive, Box::new(left), Box::new(self.comparison()?));
        }
    }

    fn comparison(&mut self) -> Result<Expr, String> {
        let left = self.concat()?;
        for op in ["<=", ">=", "!=", "==", "<", ">"] {
            if op == ">" && self.no_gt {
                continue;
            }
            if self.eat_op(op) {
                let right = self.concat()?;
                return Ok(Expr::Cmp(op_name(op), Box::new(left), Box::new(right)));
            }
        }
        Ok(left)
    }

    fn concat(&mut self) -> Result<Expr, String> {
        let mut left = self.additive()?;
        while self.starts_operand() {
            left = Expr::Concat(Box::new(left), Box::new(self.additive()?));
        }
        Ok(left)
    }

    /// Whether the next token can begin a concatenated operand (not `+`/`-`: those are binary).
    fn starts_operand(&self) -> bool {
        match self.peek() {
            Some(Tok::Num(_) | Tok::Str(_) | Tok::Ere(_) | Tok::Name(_) | Tok::Call(_) | Tok::Builtin(_)) => {
                true
            }
            Some(Tok::Op(op)) => matches!(*op, "$" | "(" | "!" | "++" | "--"),
            Some(Tok::Keyword("in")) => false,
            _ => false,
        }
    }

    fn additive(&mut self) -> Result<Expr, String> {
        let mut left = self.multiplicative()?;
        loop {
            let op = if self.eat_op("+") {
                '+'
            } else if self.eat_op("-") {
                '-'
            } else {
                return Ok(left);
            };
            left = Expr::Arith(op, Box::new(left), Box::new(self.multiplicative()?));
        }
    }

    fn multiplicative(&mut self) -> Result<Expr, String> {
        let mut left = self.unary()?;
        loop {
            let op = if self.eat_op("*") {
                '*'
            } else if self.eat_op("/") {
                '/'
            } else if self.eat_op("%") {
                '%'
            } else {
                return Ok(left);
            };
            left = Expr::Arith(op, Box::new(left), Box::new(self.unary()?));
        }
    }

    fn unary(&mut self) -> Result<Expr, String> {
        if self.eat_op("!") {
            return Ok(Expr::Not(Box::new(self.unary()?)));
        }
        if self.eat_op("-") {
            return Ok(Expr::Neg(Box::new(self.unary()?)));
        }
        if self.eat_op("+") {
            return Ok(Expr::Plus(Box::new(self.unary()?)));
        }
        self.power()
    }

    fn power(&mut self) -> Result<Expr, String> {
        let base = self.postfix()?;
        if self.eat_op("^") || self.eat_op("**") {
            // Right-associative, binding tighter than unary minus on its left only.
            let exp = if self.eat_op("-") {
                Expr::Neg(Box::new(self.power()?))
            } else {
                self.power()?
            };
            return Ok(Expr::Arith('^', Box::new(base), Box::new(exp)));
        }
        Ok(base)
    }

    fn postfix(&mut self) -> Result<Expr, String> {
        if self.eat_op("++") {
            return Ok(Expr::IncDec(self.lvalue()?, true, 1.0));
        }
        if self.eat_op("--") {
            return Ok(Expr::IncDec(self.lvalue()?, true, -1.0));
        }
        let e = self.primary()?;
        if let Expr::Lvalue(lv) = &e {
            if self.eat_op("++") {
                return Ok(Expr::IncDec(lv.clone(), false, 1.0));
            }
            if self.eat_op("--") {
                return Ok(Expr::IncDec(lv.clone(), false, -1.0));
            }
        }
        Ok(e)
    }

    fn lvalue(&mut self) -> Result<Lvalue, String> {
        match self.primary()? {
            Expr::Lvalue(lv) => Ok(lv),
            _ => Err("awk: ++/-- needs a variable".into()),
        }
    }

    fn primary(&mut self) -> Result<Expr, String> {
        let tok = self.peek().cloned().ok_or("awk: unexpected end of program")?;
        self.at += 1;
        Ok(match tok {
            Tok::Num(n) => Expr::Num(n),
            Tok::Str(s) => Expr::Str(s),
            Tok::Ere(re) => Expr::Ere(re),
            Tok::Op("$") => {
                // `$NF`, `$(i+1)`, `$i++` is `($i)++`: the field's operand is a primary.
                let inner = if self.eat_op("++") || self.eat_op("--") {
                    return Err("awk: `$++i` is not reproduced".into());
                } else if self.eat_op("-") {
                    Expr::Neg(Box::new(self.primary()?))
                } else {
                    self.primary()?
                };
                Expr::Lvalue(Lvalue::Field(Box::new(inner)))
            }
            Tok::Op("(") => {
                let saved = (self.no_gt, self.no_in);
                (self.no_gt, self.no_in) = (false, false);
                self.newlines();
                let first = self.expr()?;
                self.newlines();
                let e = if self.is_op(",") {
                    // `(i, j) in a`
                    let mut list = vec![first];
                    while self.eat_op(",") {
                        self.newlines();
                        list.push(self.expr()?);
                    }
                    self.expect(")")?;
                    if !self.eat_kw("in") {
                        return Err("awk: a parenthesised list outside `in`".into());
                    }
                    let Some(Tok::Name(a)) = self.peek().cloned() else {
                        return Err("awk: `in` needs an array".into());
                    };
                    self.at += 1;
                    Expr::In(list, a)
                } else {
                    self.expect(")")?;
                    first
                };
                (self.no_gt, self.no_in) = saved;
                e
            }
            Tok::Name(n) => {
                if self.eat_op("[") {
                    Expr::Lvalue(Lvalue::Index(n, self.expr_list("]")?))
                } else {
                    Expr::Lvalue(Lvalue::Var(n))
                }
            }
            Tok::Builtin(b) => {
                if self.eat_op("(") {
                    Expr::Call(b, self.expr_list(")")?)
                } else if b == "length" {
                    Expr::Length
                } else {
                    return Err(format!("awk: {b} without arguments"));
                }
            }
            Tok::Call(f) => return Err(format!("awk: user-defined function {f} is not reproduced")),
            Tok::Keyword("getline") => return Err("awk: getline is not reproduced".into()),
            other => return Err(format!("awk: unexpected {other:?}")),
        })
    }
}

fn op_name(op: &str) -> &'static str {
    match op {
        "<=" => "<=",
        ">=" => ">=",
        "!=" => "!=",
        "==" => "==",
        "<" => "<",
        _ => ">",
    }
}
