//! `find START… TESTS ACTION` as maintainer scripts call it: the starting points (absolute),
//! `-maxdepth`/`-mindepth`, the tests `-type f|d|l`, `-name PATTERN` and `-empty`, and one
//! action, `-exec CMD … {} ;`/`+`, `-delete`, or `-print` (the default: what `$(find …)` reads).
//! Anything else (`-newer`, operators) is refused, and the call reported. `files` applies it;
//! `commands` classifies it.

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Test {
    Type(char),
    Name(String),
    Empty,
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
    pub tests: Vec<Test>,
    pub action: Action,
}

pub fn parse_find(args: &[String]) -> Result<FindCall, String> {
    let starts: Vec<String> = args.iter().take_while(|a| !a.starts_with('-')).cloned().collect();
    if starts.is_empty() || starts.iter().any(|s| !s.starts_with('/')) {
        return Err("find without absolute starting points".into());
    }
    let mut call = FindCall {
        starts,
        min_depth: 0,
        max_depth: None,
        tests: Vec::new(),
        action: Action::Delete,
    };
    let mut action = None;
    let mut rest = args[call.starts.len()..].iter();
    let value = |v: Option<&String>, what: &str| v.cloned().ok_or(format!("find {what} without its value"));
    while let Some(a) = rest.next() {
        match a.as_str() {
            "-maxdepth" | "-mindepth" => {
                let n: usize = value(rest.next(), a)?
                    .parse()
                    .map_err(|_| format!("find {a} with a value that is not a number"))?;
                if a == "-maxdepth" {
                    call.max_depth = Some(n);
                } else {
                    call.min_depth = n;
                }
            }
            "-type" => match value(rest.next(), a)?.as_str() {
                t @ ("f" | "d" | "l") => call.tests.push(Test::Type(t.chars().next().unwrap_or('f'))),
                t => return Err(format!("find -type {t} is not emulated")),
            },
            "-name" => call.tests.push(Test::Name(value(rest.next(), a)?)),
            "-empty" => call.tests.push(Test::Empty),
            "-delete" if action.is_none() => action = Some(Action::Delete),
            "-print" if action.is_none() => action = Some(Action::Print),
            "-exec" if action.is_none() => {
                let mut argv = Vec::new();
                let batch = loop {
                    match rest.next().map(String::as_str) {
                        Some(";") => break false,
                        Some("+") if argv.last().is_some_and(|l| l == "{}") => break true,
                        Some(word) => argv.push(word.to_owned()),
                        None => return Err("find -exec without its `;` or `+`".into()),
                    }
                };
                if argv.is_empty() {
                    return Err("find -exec without a command".into());
                }
                action = Some(Action::Exec { argv, batch });
            }
            other => return Err(format!("find `{other}` is not emulated")),
        }
    }
    call.action = action.unwrap_or(Action::Print);
    Ok(call)
}
