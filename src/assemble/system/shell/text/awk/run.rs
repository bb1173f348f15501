//! Running a parsed program over its input, as mawk does in the C locale: values that are
//! numbers, strings, or strings from input that compare as numbers where they look like ones;
//! numbers printed as integers when integral, else with `%.6g`.

use std::collections::BTreeMap;

use regex::Regex;
use rustc_hash::FxHashMap;

use super::format::sprintf;
use super::parse::{Expr, Lvalue, Pattern, Program, Stmt};
use super::value::{Run, Value, float_format, number_text, prints_as_integer};

/// A runaway program (`while (1)`) stops here: its output is then not known.
const MAX_STEPS: usize = 1_000_000;

enum Flow {
    Normal,
    Next,
    Exit,
    Break,
    Continue,
}

pub(super) struct Machine<'p> {
    program: &'p Program,
    vars: FxHashMap<String, Value>,
    arrays: FxHashMap<String, BTreeMap<String, Value>>,
    record: String,
    fields: Vec<String>,
    nf: usize,
    /// Whether `fields` matches `record` (fields are split when first asked for).
    split_done: bool,
    out: String,
    steps: usize,
    regexes: FxHashMap<String, Regex>,
    in_range: Vec<bool>,
    exiting: bool,
}

impl<'p> Machine<'p> {
    pub(super) fn new(program: &'p Program, assigns: &[(String, String)], fs: Option<String>) -> Run<Self> {
        let mut vars = FxHashMap::default();
        for (k, v) in [
            ("FS", " "),
            ("OFS", " "),
            ("ORS", "\n"),
            ("RS", "\n"),
            ("SUBSEP", "\x1c"),
            ("CONVFMT", "%.6g"),
            ("OFMT", "%.6g"),
        ] {
            vars.insert(k.to_owned(), Value::Str(v.to_owned()));
        }
        if let Some(fs) = fs {
            vars.insert("FS".to_owned(), Value::Str(fs));
        }
        for (k, v) in assigns {
            if matches!(k.as_str(), "CONVFMT" | "OFMT") {
                float_format(v)?;
            }
            vars.insert(k.clone(), Value::StrNum(v.clone()));
        }
        vars.insert("NR".to_owned(), Value::Num(0.0));
        vars.insert("FNR".to_owned(), Value::Num(0.0));
        Ok(Machine {
            program,
            vars,
            arrays: FxHashMap::default(),
            record: String::new(),
            fields: Vec::new(),
            nf: 0,
            split_done: true,
            out: String::new(),
            steps: 0,
            regexes: FxHashMap::default(),
            in_range: vec![false; program.len()],
            exiting: false,
        })
    }

    /// BEGIN, each record of `input`, END; what the program printed.
    pub(super) fn run(mut self, input: &str) -> Run<String> {
        let rules = self.program;
        for rule in rules.iter().filter(|r| matches!(r.pattern, Pattern::Begin)) {
            if let Some(action) = &rule.action
                && let Flow::Exit = self.block(action)?
            {
                break;
            }
        }
        let has_main = rules.iter().any(|r| !matches!(r.pattern, Pattern::Begin));
        if has_main && !self.exiting {
            if self.vars.get("RS").map(Value::text).as_deref() != Some("\n") {
                return Err("awk: a record separator other than newline is not reproduced".into());
            }
            let mut records = input.split('\n').collect::<Vec<_>>();
            if input.ends_with('\n') || input.is_empty() {
                records.pop();
            }
            'records: for rec in records {
                let nr = self.get_var("NR").num()? + 1.0;
                self.vars.insert("NR".into(), Value::Num(nr));
                self.vars.insert("FNR".into(), Value::Num(nr));
                self.set_record(rec.to_owned());
                for (at, rule) in rules.iter().enumerate() {
                    let hit = match &rule.pattern {
                        Pattern::Begin | Pattern::End => continue,
                        Pattern::All => true,
                        Pattern::Expr(e) => self.eval(e)?.truth()?,
                        Pattern::Range(a, b) => {
                            if self.in_range[at] {
                                if self.eval(b)?.truth()? {
                                    self.in_range[at] = false;
                                }
                                true
                            } else if self.eval(a)?.truth()? {
                                self.in_range[at] = !self.eval(b)?.truth()?;
                                true
                            } else {
                                false
                            }
                        }
                    };
                    if !hit {
                        continue;
                    }
                    let flow = match &rule.action {
                        Some(action) => self.block(action)?,
                        None => {
                            let line = self.record.clone() + &self.get_var("ORS").text();
                            self.out.push_str(&line);
                            Flow::Normal
                        }
                    };
                    match flow {
                        Flow::Next => continue 'records,
                        Flow::Exit => break 'records,
                        _ => {}
                    }
                }
            }
        }
        // `exit` in BEGIN or a main rule still runs END (an `exit` there stops it).
        for rule in rules.iter().filter(|r| matches!(r.pattern, Pattern::End)) {
            if let Some(action) = &rule.action {
                self.exiting = false;
                if let Flow::Exit = self.block(action)? {
                    break;
                }
            }
        }
        Ok(self.out)
    }

    fn tick(&mut self) -> Run<()> {
        self.steps += 1;
        if self.steps > MAX_STEPS {
            return Err(format!("awk: stopped after {MAX_STEPS} steps"));
        }
        Ok(())
    }

    fn block(&mut self, body: &[Stmt]) -> Run<Flow> {
        for s in body {
            match self.stmt(s)? {
                Flow::Normal => {}
                other => return Ok(other),
            }
        }
        Ok(Flow::Normal)
    }

    fn stmt(&mut self, s: &Stmt) -> Run<Flow> {
        self.tick()?;
        match s {
            Stmt::Print(args) => {
                let ofs = self.get_var("OFS").text();
                let ors = self.get_var("ORS").text();
                let line = if args.is_empty() {
                    self.record.clone()
                } else {
                    let mut parts = Vec::new();
                    for a in args {
                        let v = self.eval(a)?;
                        parts.push(match v {
                            Value::Num(n) => self.number_with(n, "OFMT"),
                            other => other.text(),
                        });
                    }
                    parts.join(&ofs)
                };
                self.out.push_str(&line);
                self.out.push_str(&ors);
            }
            Stmt::Printf(args) => {
                let values = args.iter().map(|a| self.eval(a)).collect::<Run<Vec<_>>>()?;
                let (fmt, rest) = values.split_first().ok_or("awk: printf without a format")?;
                let text = sprintf(&fmt.text(), rest)?;
                self.out.push_str(&text);
            }
            Stmt::Expr(e) => {
                self.eval(e)?;
            }
            Stmt::If(c, a, b) => {
                if self.eval(c)?.truth()? {
                    return self.stmt(a);
                } else if let Some(b) = b {
                    return self.stmt(b);
                }
            }
            Stmt::While(c, body) => {
                while self.eval(c)?.truth()? {
                    match self.stmt(body)? {
                        Flow::Break => break,
                        Flow::Continue | Flow::Normal => {}
                        other => return Ok(other),
                    }
                }
            }
            Stmt::Do(body, c) => loop {
                match self.stmt(body)? {
                    Flow::Break => break,
                    Flow::Continue | Flow::Normal => {}
                    other => return Ok(other),
                }
                if !self.eval(c)?.truth()? {
                    break;
                }
            },
            Stmt::For(init, cond, step, body) => {
                if let Some(init) = init {
                    self.stmt(init)?;
                }
                loop {
                    if let Some(c) = cond
                        && !self.eval(c)?.truth()?
                    {
                        break;
                    }
                    match self.stmt(body)? {
                        Flow::Break => break,
                        Flow::Continue | Flow::Normal => {}
                        other => return Ok(other),
                    }
                    if let Some(step) = step {
                        self.stmt(step)?;
                    }
                    self.tick()?;
                }
            }
            Stmt::ForIn(k, a, body) => {
                // awk leaves the order unspecified; mawk's is its hash table's. Only a loop whose
                // result cannot depend on it is reproduced: one element at most.
                let keys: Vec<String> = self
                    .arrays
                    .get(a)
                    .map(|m| m.keys().cloned().collect())
                    .unwrap_or_default();
                if keys.len() > 1 {
                    return Err(
                        "awk: `for (k in a)` over several elements (mawk's order) is not reproduced".into(),
                    );
                }
                for key in keys {
                    self.vars.insert(k.clone(), Value::StrNum(key));
                    match self.stmt(body)? {
                        Flow::Break => break,
                        Flow::Continue | Flow::Normal => {}
                        other => return Ok(other),
                    }
                }
            }
            Stmt::Block(body) => return self.block(body),
            Stmt::Next => return Ok(Flow::Next),
            Stmt::Exit(code) => {
                // The status is not the output's; its expression still runs.
                if let Some(code) = code {
                    self.eval(code)?;
                }
                self.exiting = true;
                return Ok(Flow::Exit);
            }
            Stmt::Break => return Ok(Flow::Break),
            Stmt::Continue => return Ok(Flow::Continue),
            Stmt::Delete(a, subs) => match subs {
                None => {
                    self.arrays.remove(a);
                }
                Some(subs) => {
                    let key = self.subscript(subs)?;
                    if let Some(m) = self.arrays.get_mut(a) {
                        m.remove(&key);
                    }
                }
            },
        }
        Ok(Flow::Normal)
    }

    fn get_var(&mut self, name: &str) -> Value {
        if name == "NF" {
            self.split();
            return Value::Num(self.nf as f64);
        }
        self.vars.get(name).cloned().unwrap_or(Value::Uninit)
    }

    fn subscript(&mut self, subs: &[Expr]) -> Run<String> {
        let sep = self.get_var("SUBSEP").text();
        let mut parts = Vec::new();
        for s in subs {
            let v = self.eval(s)?;
            parts.push(self.convert(&v));
        }
        Ok(parts.join(&sep))
    }

    /// A value as a string, numbers through CONVFMT.
    fn convert(&mut self, v: &Value) -> String {
        match v {
            Value::Num(n) => self.number_with(*n, "CONVFMT"),
            other => other.text(),
        }
    }

    /// A number as text through OFMT or CONVFMT (`var`): integral ones as integers, others by
    /// the format (one float conversion, checked where it is set).
    fn number_with(&mut self, n: f64, var: &str) -> String {
        let fmt = self.get_var(var).text();
        if fmt == "%.6g" || !n.is_finite() || prints_as_integer(n) {
            return number_text(n);
        }
        sprintf(&fmt, &[Value::Num(n)]).unwrap_or_else(|_| number_text(n))
    }

    fn set_record(&mut self, rec: String) {
        self.record = rec;
        self.split_done = false;
    }

    fn split(&mut self) {
        if self.split_done {
            return;
        }
        let fs = self.vars.get("FS").map(Value::text).unwrap_or_else(|| " ".into());
        let record = std::mem::take(&mut self.record);
        self.fields = self.split_text(&record, &fs).unwrap_or_default();
        self.record = record;
        self.nf = self.fields.len();
        self.split_done = true;
    }

    /// Splits as FS does: `" "` on runs of blanks and newlines, ignoring them at the ends; one
    /// other character literally; anything longer as a regular expression.
    fn split_text(&mut self, text: &str, fs: &str) -> Run<Vec<String>> {
        if text.is_empty() {
            return Ok(Vec::new());
        }
        if fs == " " {
            return Ok(text
                .split([' ', '\t', '\n'])
                .filter(|f| !f.is_empty())
                .map(str::to_owned)
                .collect());
        }
        let mut chars = fs.chars();
        if let (Some(c), None) = (chars.next(), chars.next())
            && c != '\\'
        {
            return Ok(text.split(c).map(str::to_owned).collect());
        }
        let re = self.regex(fs, false)?;
        Ok(re.split(text).map(str::to_owned).collect())
    }

    fn rebuild_record(&mut self) {
        let ofs = self
            .vars
            .get("OFS")
            .map(Value::text)
            .unwrap_or_else(|| " ".into());
        self.fields.truncate(self.nf);
        while self.fields.len() < self.nf {
            self.fields.push(String::new());
        }
        self.record = self.fields.join(&ofs);
    }

    /// `positional`: where the match is used (sub, gsub, match, not only whether there is one),
    /// so it must be POSIX's leftmost-longest one.
    fn regex(&mut self, re: &str, positional: bool) -> Run<Regex> {
        let translated = super::translate_ere(re, positional)?;
        if let Some(r) = self.regexes.get(&translated) {
            return Ok(r.clone());
        }
        let compiled = Regex::new(&translated).map_err(|e| format!("awk: regular expression {re:?}: {e}"))?;
        self.regexes.insert(translated, compiled.clone());
        Ok(compiled)
    }

    /// A regular expression operand: a literal's text, or any other value's string.
    fn regex_of(&mut self, e: &Expr, positional: bool) -> Run<Regex> {
        let text = match e {
            Expr::Ere(re) => re.clone(),
            other => {
                let v = self.eval(other)?;
                self.convert(&v)
            }
        };
        self.regex(&text, positional)
    }

    fn load(&mut self, lv: &Lvalue) -> Run<Value> {
        Ok(match lv {
            Lvalue::Var(n) => {
                if n == "ENVIRON" {
                    return Err("awk: ENVIRON (the script's environment) is not known".into());
                }
                self.get_var(n)
            }
            Lvalue::Field(i) => {
                let i = self.field_index(i)?;
                if i == 0 {
                    Value::StrNum(self.record.clone())
                } else {
                    self.split();
                    self.fields
                        .get(i - 1)
                        .map_or(Value::Uninit, |f| Value::StrNum(f.clone()))
                }
            }
            Lvalue::Index(a, subs) => {
                if a == "ENVIRON" {
                    return Err("awk: ENVIRON (the script's environment) is not known".into());
                }
                let key = self.subscript(subs)?;
                // Referencing an element creates it (what `in` then sees).
                self.arrays
                    .entry(a.clone())
                    .or_default()
                    .entry(key)
                    .or_insert(Value::Uninit)
                    .clone()
            }
        })
    }

    fn field_index(&mut self, e: &Expr) -> Run<usize> {
        let n = self.eval(e)?.num()?;
        if n < 0.0 || n.is_nan() || n > 100_000.0 {
            return Err(format!("awk: field index {n} is not reproduced"));
        }
        Ok(n as usize)
    }

    fn store(&mut self, lv: &Lvalue, v: Value) -> Run<()> {
        match lv {
            Lvalue::Var(n) => {
                if n == "NF" {
                    self.split();
                    let nf = v.num()?;
                    if !(0.0..=100_000.0).contains(&nf) {
                        return Err("awk: NF out of range".into());
                    }
                    self.nf = nf as usize;
                    self.rebuild_record();
                } else {
                    if matches!(n.as_str(), "RS" | "FILENAME" | "ENVIRON") {
                        return Err(format!("awk: assigning {n} is not reproduced"));
                    }
                    if matches!(n.as_str(), "CONVFMT" | "OFMT") {
                        float_format(&v.text())?;
                    }
                    self.vars.insert(n.clone(), v);
                }
            }
            Lvalue::Field(i) => {
                let i = self.field_index(i)?;
                let text = self.convert(&v);
                if i == 0 {
                    self.set_record(text);
                } else {
                    self.split();
                    if i > self.nf {
                        self.nf = i;
                    }
                    self.rebuild_record_with(i - 1, text);
                }
            }
            Lvalue::Index(a, subs) => {
                let key = self.subscript(subs)?;
                self.arrays.entry(a.clone()).or_default().insert(key, v);
            }
        }
        Ok(())
    }

    fn rebuild_record_with(&mut self, at: usize, text: String) {
        while self.fields.len() < self.nf {
            self.fields.push(String::new());
        }
        self.fields[at] = text;
        self.rebuild_record();
    }

    /// An expression's value; a NaN is refused (mawk prints `nan` or `-nan` by its sign bit).
    fn eval(&mut self, e: &Expr) -> Run<Value> {
        let v = self.value(e)?;
        if matches!(v, Value::Num(n) if n.is_nan()) {
            return Err("awk: a NaN result is not reproduced".into());
        }
        Ok(v)
    }

    fn value(&mut self, e: &Expr) -> Run<Value> {
        self.tick()?;
        Ok(match e {
            Expr::Num(n) => Value::Num(*n),
            Expr::Str(s) => Value::Str(s.clone()),
            Expr::Ere(_) => {
                let re = self.regex_of(e, false)?;
                Value::Num(f64::from(u8::from(re.is_match(&self.record))))
            }
            Expr::Lvalue(lv) => self.load(lv)?,
            Expr::Assign(lv, op, value) => {
                let v = self.eval(value)?;
                let v = match op {
                    None => match v {
                        Value::Uninit => Value::Uninit,
                        other => other,
                    },
                    Some(op) => {
                        let old = self.load(lv)?.num()?;
                        Value::Num(arith(*op, old, v.num()?)?)
                    }
                };
                self.store(lv, v.clone())?;
                v
            }
            Expr::Cond(c, a, b) => {
                if self.eval(c)?.truth()? {
                    self.eval(a)?
                } else {
                    self.eval(b)?
                }
            }
            Expr::And(a, b) => Value::Num(f64::from(u8::from(
                self.eval(a)?.truth()? && self.eval(b)?.truth()?,
            ))),
            Expr::Or(a, b) => Value::Num(f64::from(u8::from(
                self.eval(a)?.truth()? || self.eval(b)?.truth()?,
            ))),
            Expr::Not(a) => Value::Num(f64::from(u8::from(!self.eval(a)?.truth()?))),
            Expr::Neg(a) => Value::Num(-self.eval(a)?.num()?),
            Expr::Plus(a) => Value::Num(self.eval(a)?.num()?),
            Expr::Arith(op, a, b) => {
                let (x, y) = (self.eval(a)?.num()?, self.eval(b)?.num()?);
                Value::Num(arith(*op, x, y)?)
            }
            Expr::Cmp(op, a, b) => {
                let (x, y) = (self.eval(a)?, self.eval(b)?);
                let ord = if x.numeric()? && y.numeric()? {
                    x.num()?
                        .partial_cmp(&y.num()?)
                        .ok_or("awk: comparison with NaN")?
                } else {
                    let (xs, ys) = (self.convert(&x), self.convert(&y));
                    // The C locale collates bytewise.
                    xs.as_bytes().cmp(ys.as_bytes())
                };
                use std::cmp::Ordering::*;
                let hit = match *op {
                    "<" => ord == Less,
                    "<=" => ord != Greater,
                    ">" => ord == Greater,
                    ">=" => ord != Less,
                    "==" => ord == Equal,
                    _ => ord != Equal,
                };
                Value::Num(f64::from(u8::from(hit)))
            }
            Expr::Match(positive, a, re) => {
                let v = self.eval(a)?;
                let text = self.convert(&v);
                let re = self.regex_of(re, false)?;
                Value::Num(f64::from(u8::from(re.is_match(&text) == *positive)))
            }
            Expr::Concat(a, b) => {
                let x = self.eval(a)?;
                let x = self.convert(&x);
                let y = self.eval(b)?;
                Value::Str(x + &self.convert(&y))
            }
            Expr::In(subs, a) => {
                let key = self.subscript(subs)?;
                Value::Num(f64::from(u8::from(
                    self.arrays.get(a).is_some_and(|m| m.contains_key(&key)),
                )))
            }
            Expr::IncDec(lv, pre, delta) => {
                let old = self.load(lv)?.num()?;
                self.store(lv, Value::Num(old + delta))?;
                Value::Num(if *pre { old + delta } else { old })
            }
            Expr::Length => Value::Num(self.record.len() as f64),
            Expr::Call(f, args) => self.call(f, args)?,
        })
    }

    fn call(&mut self, f: &str, args: &[Expr]) -> Run<Value> {
        let arg = |m: &mut Self, i: usize| -> Run<Value> {
            match args.get(i) {
                Some(e) => m.eval(e),
                None => Err(format!("awk: {f} needs argument {}", i + 1)),
            }
        };
        Ok(match (f, args.len()) {
            ("length", 0) => Value::Num(self.record.len() as f64),
            ("length", 1) => {
                if let Expr::Lvalue(Lvalue::Var(a)) = &args[0]
                    && let Some(m) = self.arrays.get(a)
                {
                    return Ok(Value::Num(m.len() as f64));
                }
                let v = arg(self, 0)?;
                // mawk counts bytes.
                Value::Num(self.convert(&v).len() as f64)
            }
            ("substr", 2 | 3) => {
                let v = arg(self, 0)?;
                let s = self.convert(&v);
                let start = arg(self, 1)?.num()?;
                let len = if args.len() == 3 {
                    arg(self, 2)?.num()?
                } else {
                    f64::INFINITY
                };
                Value::Str(substr(&s, start, len)?)
            }
            ("index", 2) => {
                let (a, b) = (arg(self, 0)?, arg(self, 1)?);
                let (a, b) = (self.convert(&a), self.convert(&b));
                Value::Num(a.find(&b).map_or(0.0, |at| (at + 1) as f64))
            }
            ("split", 2 | 3) => {
                let v = arg(self, 0)?;
                let text = self.convert(&v);
                let Expr::Lvalue(Lvalue::Var(a)) = &args[1] else {
                    return Err("awk: split needs an array".into());
                };
                let pieces = match args.get(2) {
                    Some(Expr::Ere(re)) => {
                        let re = re.clone();
                        if text.is_empty() {
                            Vec::new()
                        } else {
                            let r = self.regex(&re, false)?;
                            r.split(&text).map(str::to_owned).collect()
                        }
                    }
                    Some(e) => {
                        let v = self.eval(e)?;
                        let fs = self.convert(&v);
                        self.split_text(&text, &fs)?
                    }
                    None => {
                        let fs = self.get_var("FS").text();
                        self.split_text(&text, &fs)?
                    }
                };
                let n = pieces.len();
                let m: BTreeMap<String, Value> = pieces
                    .into_iter()
                    .enumerate()
                    .map(|(i, p)| ((i + 1).to_string(), Value::StrNum(p)))
                    .collect();
                self.arrays.insert(a.clone(), m);
                Value::Num(n as f64)
            }
            ("sub" | "gsub", 2 | 3) => {
                let re = self.regex_of(&args[0], true)?;
                let repl = arg(self, 1)?;
                let repl = self.convert(&repl);
                let target = match args.get(2) {
                    Some(Expr::Lvalue(lv)) => lv.clone(),
                    Some(_) => return Err(format!("awk: {f}'s target must be assignable")),
                    None => Lvalue::Field(Box::new(Expr::Num(0.0))),
                };
                let v = self.load(&target)?;
                let text = self.convert(&v);
                let (out, n) = substitute(&re, &text, &repl, f == "gsub");
                if n > 0 {
                    self.store(&target, Value::Str(out))?;
                }
                Value::Num(n as f64)
            }
            ("match", 2) => {
                let v = arg(self, 0)?;
                let text = self.convert(&v);
                let re = self.regex_of(&args[1], true)?;
                let (start, len) = match re.find(&text) {
                    Some(m) => ((m.start() + 1) as f64, m.len() as f64),
                    None => (0.0, -1.0),
                };
                self.vars.insert("RSTART".into(), Value::Num(start));
                self.vars.insert("RLENGTH".into(), Value::Num(len));
                Value::Num(start)
            }
            ("sprintf", n) if n >= 1 => {
                let values = args.iter().map(|a| self.eval(a)).collect::<Run<Vec<_>>>()?;
                Value::Str(sprintf(&values[0].text(), &values[1..])?)
            }
            ("tolower", 1) => {
                let v = arg(self, 0)?;
                Value::Str(self.convert(&v).to_ascii_lowercase())
            }
            ("toupper", 1) => {
                let v = arg(self, 0)?;
                Value::Str(self.convert(&v).to_ascii_uppercase())
            }
            ("int", 1) => Value::Num(arg(self, 0)?.num()?.trunc()),
            ("sqrt", 1) => Value::Num(arg(self, 0)?.num()?.sqrt()),
            ("exp", 1) => Value::Num(arg(self, 0)?.num()?.exp()),
            ("log", 1) => Value::Num(arg(self, 0)?.num()?.ln()),
            ("sin", 1) => Value::Num(arg(self, 0)?.num()?.sin()),
            ("cos", 1) => Value::Num(arg(self, 0)?.num()?.cos()),
            ("atan2", 2) => {
                let y = arg(self, 0)?.num()?;
                Value::Num(y.atan2(arg(self, 1)?.num()?))
            }
            // Output streams are not written: closing or flushing one does nothing.
            ("close" | "fflush", _) => Value::Num(0.0),
            (other, _) => return Err(format!("awk: {other}() is not reproduced")),
        })
    }
}

fn arith(op: char, x: f64, y: f64) -> Run<f64> {
    Ok(match op {
        '+' => x + y,
        '-' => x - y,
        '*' => x * y,
        '/' if y == 0.0 => return Err("awk: division by zero".into()),
        '/' => x / y,
        '%' if y == 0.0 => return Err("awk: division by zero in %".into()),
        '%' => x % y,
        _ => x.powf(y),
    })
}

/// substr(s, m, n) as mawk 1.3.4 computes it, bytewise: both truncated toward zero. A start
/// before 1 is refused: mawk then takes more than POSIX says (`substr("hello", 0, 1)` is `h`).
fn substr(s: &str, start: f64, len: f64) -> Run<String> {
    if start.is_nan() || start < 1.0 || len.is_nan() {
        return Err("awk: substr from before the first character is not reproduced".into());
    }
    let first = start.trunc();
    let len = len.trunc();
    if len <= 0.0 || first > s.len() as f64 {
        return Ok(String::new());
    }
    let a = first as usize - 1;
    let b = if len >= (s.len() - a) as f64 {
        s.len()
    } else {
        a + len as usize
    };
    s.get(a..b)
        .map(str::to_owned)
        .ok_or_else(|| "awk: substr inside a multibyte character".into())
}

/// sub/gsub's replacement: `&` is the match, `\&` a literal ampersand, `\\` a backslash.
fn substitute(re: &Regex, text: &str, repl: &str, global: bool) -> (String, usize) {
    let mut out = String::new();
    let mut last = 0;
    let mut n = 0;
    for m in re.find_iter(text) {
        out.push_str(&text[last..m.start()]);
        let mut chars = repl.chars().peekable();
        while let Some(c) = chars.next() {
            match c {
                '\\' if matches!(chars.peek(), Some('&')) => {
                    chars.next();
                    out.push('&');
                }
                '\\' if matches!(chars.peek(), Some('\\')) => {
                    chars.next();
                    out.push('\\');
                }
                '&' => out.push_str(m.as_str()),
                c => out.push(c),
            }
        }
        last = m.end();
        n += 1;
        if !global {
            break;
        }
    }
    out.push_str(&text[last..]);
    (out, n)
}
