//! systemd's hardware database compiler, `systemd-hwdb update` (systemd 252, bookworm's udev):
//! `hwdb.bin` from the `*.hwdb` files of `/etc/udev/hwdb.d` and `/lib/udev/hwdb.d`, as udev's
//! postinst and its trigger on `/lib/udev/hwdb.d` leave it.
//!
//! The file is a radix trie of the match patterns with each node's properties, written post-order,
//! followed by one string buffer that shares the tails of the strings it holds (`strbuf.c`). Every
//! byte follows from the order the tool adds strings in — files by name, records and properties by
//! line, one insertion per match — so the trie and the buffer are built here the way the tool
//! builds them, and written as it writes them. The source file names in the file are the paths the
//! tool opened (its directory's symbolic links resolved, as the chroot's `/lib → usr/lib`).
//! Checked byte for byte against the host's tool (tests) and against dpkg-installed images.
//!
//! Not reproduced, and reported: another systemd version (its header records the version),
//! `--root`, and a source that is a symbolic link or has carriage returns or NULs (the tool's line
//! reader splits lines there too).

use std::collections::BTreeMap;

use super::{Changes, InstalledPackage, NotEmulated, SystemError, TreeView};

/// The systemd version whose tool this reproduces (the file's header records it).
const TOOL_VERSION: u64 = 252;
/// Where the tool reads sources from, in priority order (`conf_file_dirs`).
const SOURCE_DIRS: [&str; 2] = ["/etc/udev/hwdb.d", "/lib/udev/hwdb.d"];
const HEADER_SIZE: u64 = 80;
const NODE_SIZE: u64 = 24;
const CHILD_ENTRY_SIZE: u64 = 16;
/// A property with its source (file, line, priority), and without (`udevadm hwdb`'s format).
const VALUE_ENTRY_SIZE: u64 = 32;
const COMPAT_VALUE_ENTRY_SIZE: u64 = 16;

/// One compile a script asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UpdateRequest {
    /// The output file, absolute.
    pub output: String,
    /// `udevadm hwdb --update`: properties without their source.
    pub compat: bool,
}

/// What a call asks for: `systemd-hwdb [--usr] [--strict] update` or `udevadm hwdb --update
/// [--usr]`; `Err` for a form not reproduced; `None` for another command (or a query).
pub fn parse_call(argv0: &str, args: &[String]) -> Option<Result<UpdateRequest, String>> {
    let name = argv0.rsplit('/').next().unwrap_or(argv0);
    let (compat, rest) = match name {
        "systemd-hwdb" => (false, args),
        "udevadm" if args.first().is_some_and(|a| a == "hwdb") => (true, &args[1..]),
        _ => return None,
    };
    let mut usr = false;
    let mut update = false;
    for a in rest {
        match a.as_str() {
            "--usr" => usr = true,
            "-s" | "--strict" => {}
            "update" if !compat => update = true,
            "-u" | "--update" if compat => update = true,
            "query" | "-t" | "--test" | "--version" | "-h" | "--help" => return None,
            o => return Some(Err(format!("{name} {o} is not reproduced"))),
        }
    }
    if !update {
        return None;
    }
    let dir = if usr { "/lib/udev" } else { "/etc/udev" };
    Some(Ok(UpdateRequest {
        output: format!("{dir}/hwdb.bin"),
        compat,
    }))
}

/// The databases the packages' postinsts compile, from the finished tree, and what was not
/// reproduced.
pub fn compute(
    tree: &dyn TreeView,
    packages: &[InstalledPackage],
) -> Result<(Changes, Vec<NotEmulated>), SystemError> {
    let (calls, mut report) = super::calls::postinst_calls(tree, packages, "hwdb", parse_call);
    let mut requests: BTreeMap<String, (UpdateRequest, String, String)> = BTreeMap::new();
    for (r, pkg) in calls {
        requests
            .entry(r.output.clone())
            .or_insert((r, pkg.name.clone(), pkg.version.clone()));
    }
    let mut out = Changes::default();
    for (output, (request, package, version)) in requests {
        let unreproduced = |why: String| NotEmulated {
            package: package.clone(),
            script: "postinst".into(),
            what: format!(
                "systemd-hwdb update → {output} (not reproduced: {why}; run `systemd-hwdb{} update` at first start)",
                if output.starts_with("/lib/") { " --usr" } else { "" }
            ),
        };
        let major = version
            .split(['.', '-', '~', '+'])
            .next()
            .and_then(|m| m.parse::<u64>().ok());
        if major != Some(TOOL_VERSION) {
            report.push(unreproduced(format!(
                "systemd {version}'s tool; debcast reproduces systemd {TOOL_VERSION}'s"
            )));
            continue;
        }
        let Some(dir) = super::resolve(
            tree,
            &super::tree_path(output.rsplit_once('/').map_or("", |(d, _)| d)),
        ) else {
            // The tool makes the directory; udev always ships it.
            report.push(unreproduced("its directory is missing".into()));
            continue;
        };
        match compile(tree, "", request.compat) {
            Ok(Some(bytes)) => out.file(&super::child_path(&dir, "hwdb.bin"), 0o444, bytes),
            // No source: the tool writes nothing (and removes a database there was).
            Ok(None) => {}
            Err(why) => report.push(unreproduced(why)),
        }
    }
    Ok((out, report))
}

/// `strbuf`: strings, NUL-terminated, in one buffer; a string that ends another one already
/// there is not stored again. The lookup is a trie of the strings read backwards, whose nodes
/// remember the string that made them.
struct StrBuf {
    buf: Vec<u8>,
    nodes: Vec<StrNode>,
}

struct StrNode {
    value_off: usize,
    value_len: usize,
    /// By character, sorted.
    children: Vec<(u8, usize)>,
}

impl StrBuf {
    fn new() -> Self {
        StrBuf {
            buf: vec![0],
            nodes: vec![StrNode {
                value_off: 0,
                value_len: 0,
                children: Vec::new(),
            }],
        }
    }

    /// `strbuf_add_string`: the offset of `s` in the buffer, adding it if no stored string ends
    /// with it.
    fn add(&mut self, s: &[u8]) -> usize {
        let len = s.len();
        if len == 0 {
            return 0;
        }
        let mut node = 0usize;
        let mut c = 0u8;
        for depth in 0..=len {
            let n = &self.nodes[node];
            if depth == len {
                return n.value_off + n.value_len - len;
            }
            if n.value_len >= len {
                let off = n.value_off + n.value_len - len;
                if &self.buf[off..off + len] == s {
                    return off;
                }
            }
            c = s[len - 1 - depth];
            match n.children.binary_search_by_key(&c, |(ch, _)| *ch) {
                Ok(i) => node = n.children[i].1,
                Err(_) => break,
            }
        }
        let off = self.buf.len();
        self.buf.extend_from_slice(s);
        self.buf.push(0);
        let child = self.nodes.len();
        self.nodes.push(StrNode {
            value_off: off,
            value_len: len,
            children: Vec::new(),
        });
        let children = &mut self.nodes[node].children;
        let at = children.partition_point(|(ch, _)| *ch <= c);
        children.insert(at, (c, child));
        off
    }

    /// The NUL-terminated string at `off`.
    fn at(&self, off: usize) -> &[u8] {
        let end = self.buf[off..]
            .iter()
            .position(|b| *b == 0)
            .map_or(self.buf.len(), |e| off + e);
        &self.buf[off..end]
    }
}

#[derive(Debug, Clone, Copy)]
struct Property {
    key_off: usize,
    value_off: usize,
    filename_off: usize,
    line_number: u32,
    file_priority: u16,
}

#[derive(Default)]
struct TrieNode {
    prefix_off: usize,
    /// By character, sorted.
    children: Vec<(u8, usize)>,
    /// By key, sorted.
    values: Vec<Property>,
}

struct Trie {
    strings: StrBuf,
    nodes: Vec<TrieNode>,
    compat: bool,
}

/// Where a property comes from.
struct Source<'a> {
    filename: &'a str,
    priority: u16,
    line: u32,
}

impl Trie {
    fn new(compat: bool) -> Self {
        Trie {
            strings: StrBuf::new(),
            nodes: vec![TrieNode::default()],
            compat,
        }
    }

    fn add_child(&mut self, node: usize, c: u8, child: usize) {
        let children = &mut self.nodes[node].children;
        let at = children.partition_point(|(ch, _)| *ch < c);
        children.insert(at, (c, child));
    }

    /// `trie_node_add_value`: the strings are added first (a replaced property's too).
    fn add_value(&mut self, node: usize, key: &[u8], value: &[u8], src: &Source<'_>) {
        let k = self.strings.add(key);
        let v = self.strings.add(value);
        let f = if self.compat {
            0
        } else {
            self.strings.add(src.filename.as_bytes())
        };
        let strings = &self.strings;
        let values = &mut self.nodes[node].values;
        match values.binary_search_by(|p| strings.at(p.key_off).cmp(key)) {
            Ok(i) => {
                let p = &mut values[i];
                p.value_off = v;
                p.filename_off = f;
                p.file_priority = src.priority;
                p.line_number = src.line;
            }
            Err(i) => values.insert(
                i,
                Property {
                    key_off: k,
                    value_off: v,
                    filename_off: f,
                    line_number: src.line,
                    file_priority: src.priority,
                },
            ),
        }
    }

    /// `trie_insert`: walks `search` down the trie, splitting a node whose prefix diverges.
    fn insert(&mut self, search: &[u8], key: &[u8], value: &[u8], src: &Source<'_>) {
        let at = |i: usize| search.get(i).copied().unwrap_or(0);
        let mut node = 0usize;
        let mut i = 0usize;
        loop {
            let mut p = 0usize;
            loop {
                let prefix_off = self.nodes[node].prefix_off;
                let c = self.strings.buf[prefix_off + p];
                if c == 0 {
                    break;
                }
                if c == at(i + p) {
                    p += 1;
                    continue;
                }
                // Split: the node keeps the common part, a new child takes the rest, with the
                // node's children and properties.
                let moved = TrieNode {
                    prefix_off: prefix_off + p + 1,
                    children: std::mem::take(&mut self.nodes[node].children),
                    values: std::mem::take(&mut self.nodes[node].values),
                };
                let common = self.strings.buf[prefix_off..prefix_off + p].to_vec();
                let off = self.strings.add(&common);
                self.nodes[node].prefix_off = off;
                let child = self.nodes.len();
                self.nodes.push(moved);
                self.add_child(node, c, child);
                break;
            }
            i += p;
            let c = at(i);
            if c == 0 {
                self.add_value(node, key, value, src);
                return;
            }
            let found = self.nodes[node]
                .children
                .binary_search_by_key(&c, |(ch, _)| *ch)
                .ok()
                .map(|x| self.nodes[node].children[x].1);
            match found {
                Some(child) => {
                    node = child;
                    i += 1;
                }
                None => {
                    let off = self.strings.add(search.get(i + 1..).unwrap_or(&[]));
                    let child = self.nodes.len();
                    self.nodes.push(TrieNode {
                        prefix_off: off,
                        ..TrieNode::default()
                    });
                    self.add_child(node, c, child);
                    self.add_value(child, key, value, src);
                    return;
                }
            }
        }
    }

    fn value_entry_size(&self) -> u64 {
        if self.compat {
            COMPAT_VALUE_ENTRY_SIZE
        } else {
            VALUE_ENTRY_SIZE
        }
    }

    /// `trie_store`: the nodes post-order after the header, then the strings.
    fn store(&self) -> Vec<u8> {
        let entry = self.value_entry_size();
        let nodes_size: u64 = self
            .nodes
            .iter()
            .map(|n| NODE_SIZE + CHILD_ENTRY_SIZE * n.children.len() as u64 + entry * n.values.len() as u64)
            .sum();
        let strings_off = HEADER_SIZE + nodes_size;
        let mut out = vec![0u8; HEADER_SIZE as usize];
        // Post-order without recursion: (node, children done).
        let mut offsets: Vec<u64> = vec![0; self.nodes.len()];
        let mut stack: Vec<(usize, bool)> = vec![(0, false)];
        while let Some((n, done)) = stack.pop() {
            let node = &self.nodes[n];
            if !done {
                stack.push((n, true));
                for (_, child) in node.children.iter().rev() {
                    stack.push((*child, false));
                }
                continue;
            }
            offsets[n] = out.len() as u64;
            out.extend_from_slice(&(strings_off + node.prefix_off as u64).to_le_bytes());
            out.push(node.children.len() as u8);
            out.extend_from_slice(&[0; 7]);
            out.extend_from_slice(&(node.values.len() as u64).to_le_bytes());
            for (c, child) in &node.children {
                out.push(*c);
                out.extend_from_slice(&[0; 7]);
                out.extend_from_slice(&offsets[*child].to_le_bytes());
            }
            for v in &node.values {
                out.extend_from_slice(&(strings_off + v.key_off as u64).to_le_bytes());
                out.extend_from_slice(&(strings_off + v.value_off as u64).to_le_bytes());
                if !self.compat {
                    out.extend_from_slice(&(strings_off + v.filename_off as u64).to_le_bytes());
                    out.extend_from_slice(&v.line_number.to_le_bytes());
                    out.extend_from_slice(&v.file_priority.to_le_bytes());
                    out.extend_from_slice(&[0; 2]);
                }
            }
        }
        let nodes_len = out.len() as u64 - HEADER_SIZE;
        out.extend_from_slice(&self.strings.buf);
        let header: [u64; 9] = [
            TOOL_VERSION,
            out.len() as u64,
            HEADER_SIZE,
            NODE_SIZE,
            CHILD_ENTRY_SIZE,
            entry,
            offsets[0],
            nodes_len,
            self.strings.buf.len() as u64,
        ];
        out[..8].copy_from_slice(b"KSLPHHRH");
        for (i, v) in header.iter().enumerate() {
            out[8 + 8 * i..16 + 8 * i].copy_from_slice(&v.to_le_bytes());
        }
        out
    }
}

/// `import_file`: records of match lines followed by indented `KEY=VALUE` lines, a blank line
/// between records; `#` starts a comment; what the tool warns about and skips is skipped.
fn import(trie: &mut Trie, text: &[u8], filename: &str, priority: u16) {
    #[derive(PartialEq)]
    enum State {
        None,
        Match,
        Data,
    }
    let mut state = State::None;
    let mut matches: Vec<Vec<u8>> = Vec::new();
    let body = text.strip_suffix(b"\n").unwrap_or(text);
    if text.is_empty() {
        return;
    }
    for (n, raw) in body.split(|b| *b == b'\n').enumerate() {
        let line_number = n as u32 + 1;
        if raw.first() == Some(&b'#') {
            continue;
        }
        let mut line = match raw.iter().position(|b| *b == b'#') {
            Some(p) => &raw[..p],
            None => raw,
        };
        while let Some((last, rest)) = line.split_last() {
            if super::clib::is_space(*last) {
                line = rest;
            } else {
                break;
            }
        }
        match state {
            State::None => {
                if line.is_empty() || line[0] == b' ' {
                    continue;
                }
                state = State::Match;
                matches.push(line.to_vec());
            }
            State::Match | State::Data => {
                if line.is_empty() {
                    state = State::None;
                    matches.clear();
                    continue;
                }
                if line[0] != b' ' {
                    if state == State::Match {
                        matches.push(line.to_vec());
                    } else {
                        state = State::None;
                        matches.clear();
                    }
                    continue;
                }
                state = State::Data;
                insert_data(trie, &matches, line, filename, priority, line_number);
            }
        }
    }
}

/// `insert_data`: ` KEY=VALUE` under every match of the record (leading blanks folded into one).
fn insert_data(
    trie: &mut Trie,
    matches: &[Vec<u8>],
    line: &[u8],
    filename: &str,
    priority: u16,
    line_number: u32,
) {
    let Some(eq) = line.iter().position(|b| *b == b'=') else {
        return;
    };
    let (mut key, value) = (&line[..eq], &line[eq + 1..]);
    while key.len() >= 2 && matches!(key[0], b' ' | b'\t') && matches!(key[1], b' ' | b'\t') {
        key = &key[1..];
    }
    if key.len() <= 1 {
        return;
    }
    let src = Source {
        filename,
        priority,
        line: line_number,
    };
    for m in matches {
        trie.insert(m, key, value, &src);
    }
}

/// The `hwdb.bin` the tool writes for the tree's sources; `None` when there is none. `root` is
/// what the tool's `--root` would put before the source paths it records (empty in the image).
pub fn compile(tree: &dyn TreeView, root: &str, compat: bool) -> Result<Option<Vec<u8>>, String> {
    // By name: the first directory's file (`/etc` overrides `/lib`), with its resolved path.
    let mut sources: BTreeMap<String, String> = BTreeMap::new();
    for dir in SOURCE_DIRS {
        let Some((real, names)) = super::children(tree, &super::tree_path(dir)) else {
            continue;
        };
        for name in names {
            if !name.ends_with(".hwdb") || name.starts_with('.') {
                continue;
            }
            let path = super::child_path(&real, &name);
            sources.entry(name).or_insert(path);
        }
    }
    if sources.is_empty() {
        return Ok(None);
    }
    let mut trie = Trie::new(compat);
    for (priority, (name, path)) in sources.iter().enumerate() {
        let entry = tree.entry(path).ok_or_else(|| format!("/{path} vanished"))?;
        if !matches!(entry.kind, crate::entry::EntryKind::File { .. }) {
            return Err(format!("/{path} is not a regular file"));
        }
        let text = match tree.read(path) {
            Some(Ok(t)) => t,
            _ => return Err(format!("/{path} cannot be read")),
        };
        if text.contains(&b'\r') || text.contains(&0) {
            return Err(format!("/{path} has carriage returns or NULs"));
        }
        let priority =
            u16::try_from(priority + 1).map_err(|_| format!("more than 65535 sources (at {name})"))?;
        import(&mut trie, &text, &format!("{root}/{path}"), priority);
    }
    Ok(Some(trie.store()))
}

#[cfg(test)]
mod tests;
