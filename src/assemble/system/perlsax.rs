//! libxml-sax-perl's `update-perl-sax-parsers` (its version 0.3/0.4 script): the registry of
//! Perl SAX parsers that `XML::SAX->ParserFactory` reads.
//!
//! - `--add MODULE [--priority N]` writes `DIR/N-MODULE` (`DIR/MODULE` with priority 0, the
//!   default when `--directory` is given; 50 otherwise): `[MODULE]`, one `FEATURE = 1` line for
//!   each feature `MODULE->supported_features` returns, an empty line, and one more. The features
//!   come from the module's own Perl code, read here without running it: the class that defines
//!   `supported_features` (the module or the first of its `@ISA` ancestors, depth first, as Perl
//!   looks methods up) must return a list of string literals, where a `…->SUPER::supported_features`
//!   item stands for what the class's parents return (XML::SAX::Expat adds two features to
//!   XML::SAX::Base's). Any other computed list is refused. The features are written once each,
//!   in byte order: XML::SAX keeps them as a hash's keys, and Debian's `save_parsers_debian`
//!   (XML::SAX::Debian, which `--add` calls) prints them `sort keys`.
//! - `--remove MODULE` deletes that file.
//! - `--update` concatenates the files of each directory (names in byte order) and installs the
//!   result as `/etc/perl/XML/SAX/ParserDetails.ini` with `ucf` (a 0644 temporary file as NEW),
//!   or writes `--file FILE` directly (without ucf unless `--ucf 1`).

use super::{Changes, Overlay, TreeView};
use crate::entry::{Entry, EntryKind};

const PARSER_DETAILS_DIR: &str = "/var/lib/libxml-sax-perl/ParserDetails.d";
const PARSER_DETAILS_FILE: &str = "/etc/perl/XML/SAX/ParserDetails.ini";

#[derive(Debug, Clone, PartialEq, Eq)]
enum Action {
    Add(String),
    Remove(String),
    Update,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SaxCall {
    action: Action,
    directories: Vec<String>,
    file: String,
    priority: i64,
    ucf: bool,
}

/// Parses the arguments as the script's `GetOptions` does (one or two dashes, `=VALUE` or the
/// next argument); options it would not accept, or several actions at once, are refused.
pub fn parse(args: &[String]) -> Result<SaxCall, String> {
    let (mut add, mut remove, mut update) = (None, None, false);
    let (mut directories, mut file, mut priority, mut ucf) = (Vec::new(), None, None, None);
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        let body = arg
            .strip_prefix("--")
            .or_else(|| arg.strip_prefix('-'))
            .ok_or_else(|| format!("unexpected argument `{arg}`"))?;
        let (name, inline) = match body.split_once('=') {
            Some((n, v)) => (n, Some(v.to_owned())),
            None => (body, None),
        };
        let mut value = || {
            inline
                .clone()
                .or_else(|| it.next().cloned())
                .ok_or_else(|| format!("`{arg}` without its value"))
        };
        let integer = |v: String| {
            v.parse::<i64>()
                .map_err(|_| format!("`{arg}` takes an integer, not `{v}`"))
        };
        match name {
            "add" => add = Some(value()?),
            "remove" => remove = Some(value()?),
            "update" => update = true,
            "directory" => directories.push(value()?),
            "file" => file = Some(value()?),
            "priority" => priority = Some(integer(value()?)?),
            "ucf" => ucf = Some(integer(value()?)? != 0),
            "quiet" => {}
            other => {
                return Err(format!(
                    "update-perl-sax-parsers option `{other}` is not emulated"
                ));
            }
        }
    }
    let action = match (add, remove, update) {
        (Some(m), None, false) => Action::Add(m),
        (None, Some(m), false) => Action::Remove(m),
        (None, None, true) => Action::Update,
        _ => return Err("update-perl-sax-parsers without exactly one of --add, --remove, --update".into()),
    };
    let priority = priority.unwrap_or(if directories.is_empty() { 50 } else { 0 });
    if directories.is_empty() {
        directories.push(PARSER_DETAILS_DIR.to_owned());
    }
    let ucf = ucf.unwrap_or(file.is_none());
    if directories.iter().chain(&file).any(|p| !p.starts_with('/')) {
        return Err("update-perl-sax-parsers with a relative path".into());
    }
    Ok(SaxCall {
        action,
        directories,
        file: file.unwrap_or_else(|| PARSER_DETAILS_FILE.to_owned()),
        priority,
        ucf,
    })
}

/// The file `--add`/`--remove` name for `module` in the first directory.
fn details_file(call: &SaxCall, module: &str) -> String {
    let name = if call.priority == 0 {
        module.to_owned()
    } else {
        format!("{}-{module}", call.priority)
    };
    format!("{}/{name}", call.directories[0].trim_end_matches('/'))
}

/// Applies one call to the image.
pub fn apply(overlay: &mut Overlay<'_>, call: &SaxCall, umask: u32) -> Result<(), String> {
    match &call.action {
        Action::Add(module) => {
            let features = features(overlay, module)?;
            let mut text = format!("[{module}]\n");
            for f in &features {
                text.push_str(&format!("{f} = 1\n"));
            }
            text.push_str("\n\n");
            let path = super::tree_path(&details_file(call, module));
            let dir = path.rsplit_once('/').map_or("", |(d, _)| d);
            if !super::is_dir(overlay, dir) {
                return Err(format!("/{dir} is not a directory"));
            }
            // The script chmods and unlinks the old file, then `open(">…")`: a new file.
            let mut c = Changes::default();
            c.file(&path, 0o666 & !umask, text.into_bytes());
            overlay.apply(c);
            Ok(())
        }
        Action::Remove(module) => {
            let path = super::tree_path(&details_file(call, module));
            if super::is_file(overlay, &path) {
                overlay.apply(Changes {
                    files: vec![],
                    removed: vec![path],
                });
            }
            Ok(())
        }
        Action::Update => {
            let mut text = Vec::new();
            for dir in &call.directories {
                let (real, names) = super::children(overlay, &super::tree_path(dir))
                    .ok_or_else(|| format!("{dir} is not a directory"))?;
                for name in names {
                    let path = format!("{real}/{name}");
                    let body = super::read_file(overlay, &path)
                        .map_err(|e| e.to_string())?
                        .ok_or_else(|| format!("/{path} is not a regular file"))?;
                    text.extend_from_slice(&body);
                }
            }
            if call.ucf {
                // File::Temp's file, chmod 0644, is ucf's NEW.
                let new = Entry::generated("tmp/update-perl-sax-parsers", EntryKind::File { size: 0 }, 0o644);
                super::ucf::install(overlay, &new, text, &call.file, false, false, umask)
            } else {
                // `open(">$file")`.
                super::write_through(overlay, &call.file, &text, false, umask)
            }
        }
    }
}

/// The directories of the image's Perl `@INC`, in Debian's order: `/etc/perl`, the local ones,
/// the packaged architecture-dependent and -independent ones, perl-base, perl's own library.
fn inc_dirs(tree: &dyn TreeView) -> Vec<String> {
    let sub = |dir: &str| -> Vec<String> {
        super::children(tree, dir)
            .map(|(real, names)| names.into_iter().map(|n| format!("{real}/{n}")).collect())
            .unwrap_or_default()
    };
    let triplets: Vec<String> = sub("usr/lib")
        .into_iter()
        .filter(|d| d.contains("-linux-"))
        .collect();
    let mut dirs = vec!["etc/perl".to_owned()];
    for t in &triplets {
        dirs.extend(sub(&format!(
            "{}/perl",
            t.replacen("usr/lib", "usr/local/lib", 1)
        )));
    }
    dirs.extend(sub("usr/local/share/perl"));
    for t in &triplets {
        dirs.extend(sub(&format!("{t}/perl5")));
    }
    dirs.push("usr/share/perl5".to_owned());
    for t in &triplets {
        dirs.push(format!("{t}/perl-base"));
        dirs.extend(sub(&format!("{t}/perl")));
    }
    dirs.extend(sub("usr/share/perl"));
    dirs
}

/// The code of package `module`: its `.pm` file's first in `@INC`, without POD and what
/// follows `__END__`/`__DATA__`, cut to the part after `package MODULE` (up to the next
/// `package` statement) when the file declares packages.
fn package_code(tree: &dyn TreeView, inc: &[String], module: &str) -> Result<String, String> {
    let rel = format!("{}.pm", module.replace("::", "/"));
    let text = inc
        .iter()
        .find_map(|dir| super::read_file(tree, &format!("{dir}/{rel}")).ok().flatten())
        .ok_or_else(|| format!("the Perl module {module} ({rel}) is not in the image's @INC"))?;
    let text = String::from_utf8_lossy(&text);
    let mut code = Vec::new();
    let mut pod = false;
    for line in text.lines() {
        if line.starts_with('=') && line[1..].starts_with(|c: char| c.is_ascii_alphabetic()) {
            pod = !line.starts_with("=cut");
            continue;
        }
        if pod {
            continue;
        }
        if line == "__END__" || line == "__DATA__" {
            break;
        }
        code.push(strip_comment(line));
    }
    let package = |l: &str| {
        l.trim_start().strip_prefix("package ").map(|r| {
            r.trim_start()
                .split([';', ' ', '{'])
                .next()
                .unwrap_or("")
                .to_owned()
        })
    };
    if !code.iter().any(|l| package(l).is_some()) {
        return Ok(code.join("\n"));
    }
    let mut mine = Vec::new();
    let mut inside = false;
    for line in code {
        if let Some(name) = package(&line) {
            inside = name == module;
        }
        if inside {
            mine.push(line);
        }
    }
    if mine.is_empty() {
        return Err(format!("{rel} has no `package {module}`"));
    }
    Ok(mine.join("\n"))
}

/// A line without its `#` comment (a `#` outside quotes; Perl's other uses of `#` — `qw#…#`,
/// `$#array` — are not in the lines this reads for).
fn strip_comment(line: &str) -> String {
    let mut quote = None;
    for (i, c) in line.char_indices() {
        match (quote, c) {
            (None, '\'' | '"') => quote = Some(c),
            (Some(q), _) if c == q => quote = None,
            (None, '#') if !line[..i].ends_with('$') => return line[..i].to_owned(),
            _ => {}
        }
    }
    line.to_owned()
}

/// The string literals of a Perl list: `qw(…)` (any bracket) or `'…'`/`"…"` items separated by
/// commas (a double-quoted one without `$`, `@` or `\`); `None` for anything else.
fn literal_list(text: &str) -> Option<Vec<String>> {
    let t = text.trim();
    if let Some(rest) = t.strip_prefix("qw") {
        let rest = rest.trim_start();
        let open = rest.chars().next()?;
        let close = match open {
            '(' => ')',
            '[' => ']',
            '{' => '}',
            '<' => '>',
            c if c.is_ascii_punctuation() => c,
            _ => return None,
        };
        let inner = rest[1..].strip_suffix(close)?;
        // `qw(a b), f()`: the delimiter closes the list before the end, which is more than it.
        if inner.contains(close) {
            return None;
        }
        return Some(inner.split_whitespace().map(str::to_owned).collect());
    }
    let inner = t.strip_prefix('(').and_then(|r| r.strip_suffix(')')).unwrap_or(t);
    let mut out = Vec::new();
    for item in inner.split(',').map(str::trim).filter(|i| !i.is_empty()) {
        let lit = if let Some(s) = item.strip_prefix('\'').and_then(|s| s.strip_suffix('\'')) {
            (!s.contains(['\'', '\\'])).then(|| s.to_owned())
        } else if let Some(s) = item.strip_prefix('"').and_then(|s| s.strip_suffix('"')) {
            (!s.contains(['"', '\\', '$', '@'])).then(|| s.to_owned())
        } else {
            None
        };
        out.push(lit?);
    }
    Some(out)
}

/// The body of `sub NAME { … }` in `code` (braces balanced), if the package defines it.
fn sub_body<'c>(code: &'c str, name: &str) -> Option<&'c str> {
    let mut search = 0;
    while let Some(at) = code[search..].find("sub ") {
        let start = search + at;
        search = start + 4;
        let before_ok = code[..start]
            .chars()
            .next_back()
            .is_none_or(|c| !c.is_alphanumeric() && c != '_');
        let rest = code[start + 4..].trim_start();
        let Some(after) = rest.strip_prefix(name) else {
            continue;
        };
        // The name whole (not `supported_features2`); a prototype or attributes may come
        // before the body; `sub NAME;` only declares it.
        let whole = !after.starts_with(|c: char| c.is_alphanumeric() || c == '_');
        let Some(brace) = after.find(['{', ';']).filter(|&i| after.as_bytes()[i] == b'{') else {
            continue;
        };
        if !before_ok || !whole {
            continue;
        }
        let open = code.len() - after.len() + brace;
        let mut depth = 0;
        for (i, c) in code[open..].char_indices() {
            match c {
                '{' => depth += 1,
                '}' => {
                    depth -= 1;
                    if depth == 0 {
                        return Some(&code[open + 1..open + i]);
                    }
                }
                _ => {}
            }
        }
        return None;
    }
    None
}

/// The parents a package names: `use base …`, `use parent [-norequire,] …`, `@ISA = …`
/// (`our`, `push @ISA, …` too), in order.
fn parents(code: &str) -> Result<Vec<String>, String> {
    let mut out = Vec::new();
    for statement in code.split(';') {
        let s = statement.trim();
        let list = if let Some(r) = s.strip_prefix("use base") {
            r
        } else if let Some(r) = s.strip_prefix("use parent") {
            // `use parent -norequire, 'A', 'B'`: the flag is no class.
            let r = r.trim_start();
            r.strip_prefix("-norequire")
                .map_or(r, |rest| rest.trim_start().trim_start_matches(','))
        } else if let Some((_, r)) = s.split_once("@ISA")
            && let Some(r) = r.trim_start().strip_prefix('=')
            && (s.starts_with("@ISA") || s.starts_with("our"))
        {
            r
        } else if let Some(r) = s
            .strip_prefix("push @ISA,")
            .or_else(|| s.strip_prefix("push(@ISA,"))
        {
            r.trim_end_matches(')')
        } else {
            continue;
        };
        let names = literal_list(list)
            .ok_or_else(|| format!("its parent classes are computed (`{}`)", s.replace('\n', " ")))?;
        out.extend(names);
    }
    Ok(out)
}

/// What `MODULE->supported_features` returns, found as Perl's method lookup finds the method.
fn features(tree: &dyn TreeView, module: &str) -> Result<Vec<String>, String> {
    fn lookup(
        tree: &dyn TreeView,
        inc: &[String],
        class: &str,
        depth: usize,
    ) -> Result<Option<Vec<String>>, String> {
        if depth > 16 {
            return Err(format!("{class}'s ancestry is deeper than 16 classes"));
        }
        let code = package_code(tree, inc, class)?;
        if let Some(body) = sub_body(&code, "supported_features") {
            let items = returned_items(body)
                .ok_or_else(|| format!("{class}::supported_features computes its list"))?;
            let mut features = Vec::new();
            for item in items {
                match item {
                    Returned::Literal(f) => features.push(f),
                    Returned::Inherited => {
                        features.extend(inherited(tree, inc, class, &code, depth)?.ok_or_else(|| {
                            format!("no parent class of {class} defines supported_features")
                        })?)
                    }
                }
            }
            return Ok(Some(features));
        }
        inherited(tree, inc, class, &code, depth)
    }
    /// What the first of the class's parents (depth first) that defines the method returns.
    fn inherited(
        tree: &dyn TreeView,
        inc: &[String],
        class: &str,
        code: &str,
        depth: usize,
    ) -> Result<Option<Vec<String>>, String> {
        for parent in parents(code).map_err(|e| format!("{class}: {e}"))? {
            if let Some(f) = lookup(tree, inc, &parent, depth + 1)? {
                return Ok(Some(f));
            }
        }
        Ok(None)
    }
    let inc = inc_dirs(tree);
    let mut features = lookup(tree, &inc, module, 0)?
        .ok_or_else(|| format!("neither {module} nor a class it inherits from defines supported_features"))?;
    // The keys of XML::SAX's hash, as `sort keys` prints them.
    features.sort();
    features.dedup();
    Ok(features)
}

/// An item of the list `supported_features` returns.
#[derive(Debug, PartialEq, Eq)]
enum Returned {
    Literal(String),
    /// `$_[0]->SUPER::supported_features` (`$self->…`, `shift->…`, with or without `()`): what
    /// the parents return.
    Inherited,
}

/// The list a method body returns when it is only `my $self = shift;` (or `my (…) = @_;`)
/// statements and one `return LIST;` of string literals and calls of the parents' method.
fn returned_items(body: &str) -> Option<Vec<Returned>> {
    let mut list = None;
    for statement in body.split(';').map(str::trim).filter(|s| !s.is_empty()) {
        if let Some(r) = statement.strip_prefix("return") {
            if list.is_some() {
                return None;
            }
            list = Some(returned_list(r)?);
        } else if !(statement.starts_with("my ")
            && (statement.ends_with("shift") || statement.ends_with("@_")))
        {
            return None;
        }
    }
    list
}

/// `LIST` of `return LIST`: a `qw` list, or items that are each a string literal or a call of the
/// parents' `supported_features` on the invocant.
fn returned_list(text: &str) -> Option<Vec<Returned>> {
    let t = text.trim();
    if t.starts_with("qw")
        && let Some(list) = literal_list(t)
    {
        return Some(list.into_iter().map(Returned::Literal).collect());
    }
    let inner = t.strip_prefix('(').and_then(|r| r.strip_suffix(')')).unwrap_or(t);
    let mut out = Vec::new();
    for item in inner.split(',').map(str::trim).filter(|i| !i.is_empty()) {
        let call = ["$_[0]", "$self", "shift"].iter().find_map(|invocant| {
            item.strip_prefix(invocant)
                .and_then(|r| r.trim_start().strip_prefix("->SUPER::supported_features"))
        });
        match call {
            Some(rest) if rest.trim().is_empty() || rest.trim() == "()" => out.push(Returned::Inherited),
            Some(_) => return None,
            None => out.extend(literal_list(item)?.into_iter().map(Returned::Literal)),
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests;
