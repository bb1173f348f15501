//! `find START… EXPRESSION` as maintainer scripts call it: the starting points (absolute),
//! `-maxdepth`/`-mindepth`, the tests `-type f|d|l`, `-name PATTERN`, `-path PATTERN`, `-empty`,
//! `-uid N`, `-gid N`, `-user NAME`, `-group NAME`, combined with `!`/`-not`, `-a`/`-and` (or
//! nothing), `-o`/`-or` and parentheses, and one action at the end, `-exec CMD … {} ;`/`+`,
//! `-delete`, or `-print` (the default: what `$(find …)` reads). Anything else (`-newer`, an
//! action inside an `-o` or parentheses) is refused, and the call reported. `files` applies it;
//! `commands` classifies it.

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Test {
    Type(char),
    Name(String),
    /// `-path PATTERN`: the whole path, `/` matched by `*` too.
    Path(String),
    Empty,
    Uid(u32),
    Gid(u32),
    /// `-user NAME`: the image's account of that name (or a number where there is none).
    User(String),
    Group(String),
}

/// The tests combined as find evaluates them, left to right, `-a` before `-o`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expr {
    Test(Test),
    Not(Box<Expr>),
    /// Every one holds (none: true).
    And(Vec<Expr>),
    /// One of them holds.
    Or(Vec<Expr>),
}

impl Expr {
    /// Every test of the expression, wherever it stands.
    pub fn tests(&self) -> Vec<&Test> {
        match self {
            Expr::Test(t) => vec![t],
            Expr::Not(e) => e.tests(),
            Expr::And(es) | Expr::Or(es) => es.iter().flat_map(Expr::tests).collect(),
        }
    }

    /// The expression with each test replaced by what `f` makes of it.
    pub fn try_map(&self, f: &impl Fn(&Test) -> Result<Test, String>) -> Result<Expr, String> {
        Ok(match self {
            Expr::Test(t) => Expr::Test(f(t)?),
            Expr::Not(e) => Expr::Not(Box::new(e.try_map(f)?)),
            Expr::And(es) => Expr::And(es.iter().map(|e| e.try_map(f)).collect::<Result<_, _>>()?),
            Expr::Or(es) => Expr::Or(es.iter().map(|e| e.try_map(f)).collect::<Result<_, _>>()?),
        })
    }

    /// Whether the expression holds, `test` answering each test.
    pub fn holds(&self, test: &impl Fn(&Test) -> bool) -> bool {
        match self {
            Expr::Test(t) => test(t),
            Expr::Not(e) => !e.holds(test),
            Expr::And(es) => es.iter().all(|e| e.holds(test)),
            Expr::Or(es) => es.iter().any(|e| e.holds(test)),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// The command and its arguments, `{}` standing for the path; `batch` for the `+` form.
    Exec {
        argv: Vec<String>,
        batch: bool,
    },
    Delete,
    /// The paths, one a line (no change to the image).
    Print,
}

/// One `find` call of the subset debcast applies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FindCall {
    pub starts: Vec<String>,
    pub min_depth: usize,
    pub max_depth: Option<usize>,
    pub expr: Expr,
    pub action: Action,
}

pub fn parse_find(args: &[String]) -> Result<FindCall, String> {
    // `-H`: a start that is a symbolic link is followed, which is how the starts are resolved
    // here (cyrus' makedirs runs `find -H "$confdir" …`).
    let args = match args.first().map(String::as_str) {
        Some("-H") => &args[1..],
        _ => args,
    };
    let starts: Vec<String> = args
        .iter()
        .take_while(|a| !a.starts_with('-') && !matches!(a.as_str(), "(" | "!" | ")"))
        .cloned()
        .collect();
    if starts.is_empty() || starts.iter().any(|s| !s.starts_with('/')) {
        return Err("find without absolute starting points".into());
    }
    let mut parser = Parser {
        words: &args[starts.len()..],
        at: 0,
        min_depth: 0,
        max_depth: None,
        action: None,
        parens: 0,
        top_or: false,
    };
    let expr = parser.or()?;
    if let Some(word) = parser.words.get(parser.at) {
        return Err(format!("find `{word}` where it stands is not emulated"));
    }
    // `A -o B -delete`: the action is B's alone, which this form does not carry (`( A -o B )
    // -delete` is the whole group's).
    if parser.action.is_some() && parser.top_or {
        return Err("find with an action after `-o` is not emulated".into());
    }
    Ok(FindCall {
        starts,
        min_depth: parser.min_depth,
        max_depth: parser.max_depth,
        expr,
        action: parser.action.unwrap_or(Action::Print),
    })
}

/// find's expression grammar, over the words after the starting points. The action may only
/// close the expression at its top level, where it applies to what the rest selects.
struct Parser<'a> {
    words: &'a [String],
    at: usize,
    min_depth: usize,
    max_depth: Option<usize>,
    action: Option<Action>,
    /// How many parentheses are open.
    parens: usize,
    /// Whether the top level (outside parentheses) has a `-o`.
    top_or: bool,
}

impl Parser<'_> {
    fn peek(&self) -> Option<&str> {
        self.words.get(self.at).map(String::as_str)
    }

    fn next(&mut self) -> Option<&str> {
        let word = self.words.get(self.at).map(String::as_str);
        self.at += 1;
        word
    }

    fn value(&mut self, option: &str) -> Result<String, String> {
        self.next()
            .map(str::to_owned)
            .ok_or(format!("find {option} without its value"))
    }

    /// `A -o B -o …`: an operand on each side of every `-o`, as find requires.
    fn or(&mut self) -> Result<Expr, String> {
        let operand = |p: &mut Self| -> Result<Expr, String> {
            let from = p.at;
            let e = p.and()?;
            if p.at == from {
                return Err("find: an operator without an operand".into());
            }
            Ok(e)
        };
        let mut parts = vec![operand(self)?];
        while matches!(self.peek(), Some("-o" | "-or")) {
            if self.action.is_some() {
                return Err("find with an action before `-o` is not emulated".into());
            }
            self.at += 1;
            parts.push(operand(self)?);
        }
        if parts.len() > 1 && self.parens == 0 {
            self.top_or = true;
        }
        Ok(if parts.len() == 1 {
            parts.remove(0)
        } else {
            Expr::Or(parts)
        })
    }

    /// `A -a B …` or `A B …`, up to `-o`, `)` or the end.
    fn and(&mut self) -> Result<Expr, String> {
        let start = self.at;
        let mut parts = Vec::new();
        loop {
            match self.peek() {
                None | Some("-o" | "-or" | ")") => break,
                Some("-a" | "-and") => {
                    // An operand on each side.
                    if self.at == start
                        || matches!(
                            self.words.get(self.at + 1).map(String::as_str),
                            None | Some("-o" | "-or" | "-a" | "-and" | ")")
                        )
                    {
                        return Err("find: `-a` without an operand".into());
                    }
                    self.at += 1;
                    continue;
                }
                _ => {}
            }
            if self.action.is_some() {
                return Err("find with a test after its action is not emulated".into());
            }
            if let Some(e) = self.unary()? {
                parts.push(e);
            }
        }
        Ok(if parts.len() == 1 {
            parts.remove(0)
        } else {
            Expr::And(parts)
        })
    }

    /// A negation, a parenthesised expression, a test; `None` for an option or the action.
    fn unary(&mut self) -> Result<Option<Expr>, String> {
        let word = self.next().map(str::to_owned).unwrap_or_default();
        let test = |t| Ok(Some(Expr::Test(t)));
        match word.as_str() {
            "!" | "-not" => match self.unary()? {
                Some(e) => Ok(Some(Expr::Not(Box::new(e)))),
                None => Err(format!("find {word} before an option or action is not emulated")),
            },
            "(" => {
                self.parens += 1;
                let inner = self.or()?;
                self.parens -= 1;
                if self.next() != Some(")") {
                    return Err("find with an unclosed `(`".into());
                }
                if self.action.is_some() {
                    return Err("find with an action inside parentheses is not emulated".into());
                }
                Ok(Some(inner))
            }
            "-maxdepth" | "-mindepth" => {
                let n: usize = self
                    .value(&word)?
                    .parse()
                    .map_err(|_| format!("find {word} with a value that is not a number"))?;
                if word == "-maxdepth" {
                    self.max_depth = Some(n);
                } else {
                    self.min_depth = n;
                }
                Ok(None)
            }
            "-type" => match self.value(&word)?.as_str() {
                t @ ("f" | "d" | "l") => test(Test::Type(t.chars().next().unwrap_or('f'))),
                t => Err(format!("find -type {t} is not emulated")),
            },
            "-name" => test(Test::Name(self.value(&word)?)),
            "-path" | "-wholename" => test(Test::Path(self.value(&word)?)),
            "-empty" => test(Test::Empty),
            "-uid" | "-gid" => {
                let v = self.value(&word)?;
                let n: u32 = v
                    .parse()
                    .ok()
                    .filter(|_| v.starts_with(|c: char| c.is_ascii_digit()))
                    .ok_or_else(|| format!("find {word} {v}: not a number (`+N`/`-N` are not emulated)"))?;
                test(if word == "-uid" {
                    Test::Uid(n)
                } else {
                    Test::Gid(n)
                })
            }
            "-user" => test(Test::User(self.value(&word)?)),
            "-group" => test(Test::Group(self.value(&word)?)),
            "-delete" | "-print" | "-exec" | "-execdir" if self.action.is_some() => {
                Err("find with two actions is not emulated".into())
            }
            "-delete" => {
                self.action = Some(Action::Delete);
                Ok(None)
            }
            "-print" => {
                self.action = Some(Action::Print);
                Ok(None)
            }
            "-exec" | "-execdir" => {
                let mut argv = Vec::new();
                let batch = loop {
                    match self.next() {
                        Some(";") => break false,
                        Some("+") if argv.last().is_some_and(|l| l == "{}") => break true,
                        Some(word) => argv.push(word.to_owned()),
                        None => return Err("find -exec without its `;` or `+`".into()),
                    }
                };
                if argv.is_empty() {
                    return Err("find -exec without a command".into());
                }
                // `-execdir` runs the command from the file's directory on `./NAME`: the same
                // file, so the same effect, for the commands that change only the file they
                // name (cyrus' `-execdir chown cyrus:mail '{}' \;`); another command may
                // depend on where it runs.
                if word == "-execdir"
                    && !(argv.last().is_some_and(|l| l == "{}")
                        && matches!(argv[0].as_str(), "chown" | "chgrp" | "chmod" | "rm"))
                {
                    return Err(format!("find -execdir {} is not emulated", argv[0]));
                }
                self.action = Some(Action::Exec { argv, batch });
                Ok(None)
            }
            other => Err(format!("find `{other}` is not emulated")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(s: &str) -> Vec<String> {
        s.split_whitespace().map(str::to_owned).collect()
    }

    /// frr's postinst: operators, parentheses, ids; `-a` binds before `-o`.
    #[test]
    fn operators_and_parentheses_make_the_expression() {
        let call = parse_find(&args(
            "/etc/frr /var/log/frr ( -uid 0 -o -uid 7 ) -a ( -gid 0 -o -gid 7 )",
        ))
        .unwrap();
        assert_eq!(call.starts, ["/etc/frr", "/var/log/frr"]);
        assert_eq!(call.action, Action::Print);
        let either = |a, b| Expr::Or(vec![Expr::Test(a), Expr::Test(b)]);
        assert_eq!(
            call.expr,
            Expr::And(vec![
                either(Test::Uid(0), Test::Uid(7)),
                either(Test::Gid(0), Test::Gid(7))
            ])
        );
        let call = parse_find(&args("/d -name a -o ! -name b -type f")).unwrap();
        assert_eq!(
            call.expr,
            Expr::Or(vec![
                Expr::Test(Test::Name("a".into())),
                Expr::And(vec![
                    Expr::Not(Box::new(Expr::Test(Test::Name("b".into())))),
                    Expr::Test(Test::Type('f'))
                ])
            ])
        );
        // cyrus' makedirs: `-H`, `-not`, `-or`, and `-execdir` of a command on the file alone.
        let call = parse_find(&args(
            "-H /var/lib/cyrus ( -not -user cyrus -or -not -group mail ) -execdir chown cyrus:mail {} ;",
        ))
        .unwrap();
        assert_eq!(call.starts, ["/var/lib/cyrus"]);
        assert_eq!(
            call.action,
            Action::Exec {
                argv: vec!["chown".into(), "cyrus:mail".into(), "{}".into()],
                batch: false
            }
        );
        assert!(parse_find(&args("/d -execdir sh -c x {} ;")).is_err());
        assert!(parse_find(&args("/d -execdir chown a {} b ;")).is_err());
        assert!(parse_find(&args("-L /d -print")).is_err());
        // An action after a parenthesised `-o` is the whole group's; after a bare one, not.
        assert!(parse_find(&args("/d ( -name a -o -name b ) -delete")).is_ok());
        assert!(parse_find(&args("/d -name a -o -name b -delete")).is_err());
        let call = parse_find(&args(
            "/etc/frr -maxdepth 1 ( -name vtysh.conf -o -name frr.conf ) -group frrvty -exec chgrp frr {} ;",
        ))
        .unwrap();
        assert_eq!(call.max_depth, Some(1));
        assert!(matches!(call.action, Action::Exec { batch: false, .. }));
        assert_eq!(call.expr.tests().len(), 3);
        // Options count as operands (always true), as GNU find takes them.
        assert!(parse_find(&args("/d -maxdepth 1 -a -name a")).is_ok());
    }

    /// What would need find's own evaluation order of actions is refused.
    #[test]
    fn actions_inside_the_expression_are_refused() {
        for refused in [
            "/d -name a -print -o -name b",
            "/d ( -name a -delete )",
            "/d -delete -name a",
            "/d -print -print",
            "/d ( -name a",
            "/d -uid +5",
            "/d -newer /x",
            "d -name a",
            "/d -name a -o -name b -delete",
            "/d -o -name a",
            "/d -name a -o",
            "/d -a -name a",
            "/d -name a -a",
            "/d ( ) -print",
            "/d ! -print",
        ] {
            assert!(parse_find(&args(refused)).is_err(), "{refused}");
        }
    }
}
