//! `mime.cache` (format 1.2), laid out as update-mime-database 2.2's `write_cache` lays it out:
//! a string pool in the slot order of its own `GHashTable`, then the alias, parent, literal,
//! suffix-tree, glob, magic, namespace, icon and type sections, every number big-endian.

use std::collections::HashMap;

use super::super::ghash::StrTable;
use super::magic::Match;
use super::source::{Database, Glob};

const MAJOR_VERSION: u16 = 1;
const MINOR_VERSION: u16 = 2;
const HEADER_LEN: u32 = 44;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum GlobKind {
    Literal,
    /// `*` then a literal suffix: stored in the suffix tree.
    Simple,
    Full,
}

/// `glob_type`.
fn glob_kind(pattern: &str) -> GlobKind {
    let mut simple = false;
    for (i, c) in pattern.chars().enumerate() {
        if c == '*' && i == 0 {
            simple = true;
        } else if matches!(c, '\\' | '[' | '?' | '*') {
            return GlobKind::Full;
        }
    }
    if simple {
        GlobKind::Simple
    } else {
        GlobKind::Literal
    }
}

fn align4(n: u32) -> u32 {
    (n + 3) & !3
}

struct Writer {
    out: Vec<u8>,
    /// String → its offset in the pool (0 until the pool is written: a missing string).
    pool: StrTable<u32>,
}

impl Writer {
    fn card32(&mut self, n: u32) {
        self.out.extend_from_slice(&n.to_be_bytes());
    }

    /// `write_data`: the bytes, zero-padded to a multiple of 4.
    fn data(&mut self, bytes: &[u8]) {
        self.out.extend_from_slice(bytes);
        let padded = align4(bytes.len() as u32) as usize;
        self.out.resize(self.out.len() + padded - bytes.len(), 0);
    }

    fn string_offset(&self, s: &str) -> u32 {
        self.pool.get(s).copied().unwrap_or(0)
    }

    fn offset(&self) -> u32 {
        self.out.len() as u32
    }

    /// `write_map`: the entries of `keys` (sorted), each a run of string offsets (and, when
    /// `weighted`, every third value a number).
    fn map(&mut self, mut entries: Vec<(String, Vec<Value>)>, per_entry: usize) {
        entries.sort_by(|a, b| a.0.cmp(&b.0));
        let count: usize = entries.iter().map(|(_, v)| v.len() / per_entry).sum();
        self.card32(count as u32);
        for (_, values) in entries {
            for v in values {
                let n = match v {
                    Value::Str(s) => self.string_offset(&s),
                    Value::Num(n) => n,
                };
                self.card32(n);
            }
        }
    }
}

enum Value {
    Str(String),
    Num(u32),
}

fn glob_values(globs: &[Glob]) -> Vec<Value> {
    globs
        .iter()
        .flat_map(|g| {
            let flags = (g.weight as u32 & 0xff) | if g.case_sensitive { 0x100 } else { 0 };
            [
                Value::Str(g.pattern.clone()),
                Value::Str(g.mime.clone()),
                Value::Num(flags),
            ]
        })
        .collect()
}

/// `collect_strings`: every string a section refers to, inserted in update-mime-database's order
/// (that order decides the pool's slot order).
fn collect_strings(db: &Database, magic: &[&super::source::Magic]) -> StrTable<u32> {
    let mut pool = StrTable::new();
    for (alias, mime) in db.aliases.iter() {
        pool.insert(alias, 0);
        pool.insert(mime, 0);
    }
    for (mime, parents) in db.subclasses.iter() {
        pool.insert(mime, 0);
        for p in parents {
            pool.insert(p, 0);
        }
    }
    for (pattern, globs) in db.globs.iter() {
        if glob_kind(pattern) != GlobKind::Simple {
            pool.insert(pattern, 0);
        }
        for g in globs {
            pool.insert(&g.mime, 0);
        }
    }
    for m in magic {
        pool.insert(&m.mime, 0);
    }
    for (key, mime) in db.namespaces.iter() {
        pool.insert(mime, 0);
        match key.split_once(' ') {
            Some((uri, local)) => {
                pool.insert(uri, 0);
                pool.insert(local, 0);
            }
            None => pool.insert(key, 0),
        }
    }
    for table in [&db.generic_icons, &db.icons] {
        for (mime, icon) in table.iter() {
            pool.insert(mime, 0);
            pool.insert(icon, 0);
        }
    }
    pool
}

/// One node of the suffix tree: a character (0 for a leaf naming a type).
struct SuffixEntry {
    character: u32,
    mime: Option<String>,
    weight: i32,
    flags: u32,
    children: Vec<SuffixEntry>,
}

impl SuffixEntry {
    fn new(character: u32) -> Self {
        SuffixEntry {
            character,
            mime: None,
            weight: 0,
            flags: 0,
            children: Vec::new(),
        }
    }

    fn depth(&self) -> usize {
        self.children.iter().map(|c| c.depth() + 1).max().unwrap_or(0)
    }
}

/// `insert_suffix`: siblings sorted by character, a type's leaf first among its node's children
/// (merged with an existing leaf of the same type, keeping the higher weight).
fn insert_suffix(suffix: &[u32], mime: &str, weight: i32, flags: u32, list: &mut Vec<SuffixEntry>) {
    let Some(&first) = suffix.first() else {
        return;
    };
    let pos = match list.iter().position(|s| s.character >= first) {
        Some(i) if list[i].character == first => i,
        Some(i) => {
            list.insert(i, SuffixEntry::new(first));
            i
        }
        None => {
            list.push(SuffixEntry::new(first));
            list.len() - 1
        }
    };
    let node = &mut list[pos];
    if suffix.len() == 1 {
        let leaves = node.children.iter().take_while(|c| c.character == 0).count();
        match node.children[..leaves]
            .iter_mut()
            .find(|c| c.mime.as_deref() == Some(mime))
        {
            Some(leaf) => leaf.weight = leaf.weight.max(weight),
            None => node.children.insert(
                leaves,
                SuffixEntry {
                    character: 0,
                    mime: Some(mime.to_owned()),
                    weight,
                    flags,
                    children: Vec::new(),
                },
            ),
        }
    } else {
        insert_suffix(&suffix[1..], mime, weight, flags, &mut node.children);
    }
}

/// `write_suffix_entries`: the entries `depth` levels below `entry`, breadth first.
fn write_suffix_level(w: &mut Writer, depth: usize, entry: &SuffixEntry, child_offset: &mut u32) {
    if depth > 0 {
        for c in &entry.children {
            write_suffix_level(w, depth - 1, c, child_offset);
        }
        return;
    }
    if entry.character == 0 {
        let offset = entry.mime.as_deref().map_or(0, |m| w.string_offset(m));
        w.card32(0);
        w.card32(offset);
        w.card32((entry.weight as u32 & 0xff) | entry.flags);
    } else {
        w.card32(entry.character);
        w.card32(entry.children.len() as u32);
        w.card32(*child_offset);
    }
    *child_offset += 12 * entry.children.len() as u32;
}

fn suffix_section(w: &mut Writer, db: &Database) {
    let mut roots: Vec<SuffixEntry> = Vec::new();
    for (pattern, globs) in db.globs.iter() {
        if glob_kind(pattern) != GlobKind::Simple {
            continue;
        }
        let mut suffix: Vec<u32> = pattern.chars().skip(1).map(u32::from).collect();
        suffix.reverse();
        for g in globs {
            let flags = if g.case_sensitive { 0x100 } else { 0 };
            insert_suffix(&suffix, &g.mime, g.weight, flags, &mut roots);
        }
    }
    let start = w.offset() + 8;
    let mut child_offset = start + 12 * roots.len() as u32;
    let depth = roots.iter().map(|r| r.depth() + 1).max().unwrap_or(0);
    w.card32(roots.len() as u32);
    w.card32(start);
    for d in 0..depth {
        for r in &roots {
            write_suffix_level(w, d, r, &mut child_offset);
        }
    }
}

/// `collect_matches_list`: siblings first, then each sibling's children, recursively.
fn flatten<'a>(list: &'a [Match], out: &mut Vec<&'a Match>) {
    out.extend(list.iter());
    for m in list {
        flatten(&m.matches, out);
    }
}

fn magic_section(w: &mut Writer, magic: &[&super::source::Magic]) {
    let mut flat: Vec<&Match> = Vec::new();
    for m in magic {
        flatten(&m.matches, &mut flat);
    }
    let index: HashMap<*const Match, u32> = flat
        .iter()
        .enumerate()
        .map(|(i, m)| (*m as *const Match, i as u32))
        .collect();
    let first_child = |list: &[Match]| {
        list.first()
            .and_then(|m| index.get(&(m as *const Match)).copied())
            .unwrap_or(0)
    };
    let max_extent = flat
        .iter()
        .map(|m| m.data.len() as i64 + m.range_start + i64::from(m.range_length))
        .fold(0i64, i64::max) as u32;
    let entries_at = w.offset() + 12;
    w.card32(magic.len() as u32);
    w.card32(max_extent);
    w.card32(entries_at);
    let matches_at = entries_at + 16 * magic.len() as u32;
    for m in magic {
        w.card32(m.priority as u32);
        let offset = w.string_offset(&m.mime);
        w.card32(offset);
        w.card32(m.matches.len() as u32);
        w.card32(matches_at + 32 * first_child(&m.matches));
    }
    let mut data_at = matches_at + 32 * flat.len() as u32;
    for m in &flat {
        let len = m.data.len() as u32;
        w.card32(m.range_start as u32);
        w.card32(m.range_length as u32);
        w.card32(u32::from(m.word_size));
        w.card32(len);
        w.card32(data_at);
        data_at = align4(data_at + len);
        if m.mask.is_some() {
            w.card32(data_at);
            data_at = align4(data_at + len);
        } else {
            w.card32(0);
        }
        if m.matches.is_empty() {
            w.card32(0);
            w.card32(0);
        } else {
            w.card32(m.matches.len() as u32);
            w.card32(matches_at + 32 * first_child(&m.matches));
        }
    }
    for m in &flat {
        w.data(&m.data);
        if let Some(mask) = &m.mask {
            w.data(mask);
        }
    }
}

/// The bytes of `mime.cache` for `db`, its magic rules in `magic` (sorted as the `magic` file).
pub fn write(db: &Database, magic: &[&super::source::Magic]) -> Vec<u8> {
    let mut w = Writer {
        out: vec![0; HEADER_LEN as usize],
        pool: collect_strings(db, magic),
    };
    // The pool: each string NUL-terminated and padded, its offset recorded as it is written.
    let strings: Vec<String> = w.pool.keys().map(str::to_owned).collect();
    for s in strings {
        let at = w.offset();
        let mut bytes = s.as_bytes().to_vec();
        bytes.push(0);
        w.data(&bytes);
        w.pool.insert(&s, at);
    }
    let mut sections = Vec::new();

    sections.push(w.offset());
    let aliases = db
        .aliases
        .iter()
        .map(|(alias, mime)| {
            (
                alias.to_owned(),
                vec![Value::Str(alias.to_owned()), Value::Str(mime.clone())],
            )
        })
        .collect();
    w.map(aliases, 2);

    sections.push(w.offset());
    let mut parents: Vec<(&str, &Vec<String>)> = db.subclasses.iter().collect();
    parents.sort_by(|a, b| a.0.cmp(b.0));
    w.card32(parents.len() as u32);
    let mut list_at = w.offset() + 8 * parents.len() as u32;
    for (mime, list) in &parents {
        let offset = w.string_offset(mime);
        w.card32(offset);
        w.card32(list_at);
        list_at += 4 + 4 * list.len() as u32;
    }
    for (_, list) in &parents {
        w.card32(list.len() as u32);
        for p in list.iter() {
            let offset = w.string_offset(p);
            w.card32(offset);
        }
    }

    for kind in [GlobKind::Literal, GlobKind::Simple, GlobKind::Full] {
        sections.push(w.offset());
        if kind == GlobKind::Simple {
            suffix_section(&mut w, db);
            continue;
        }
        let globs = db
            .globs
            .iter()
            .filter(|(p, _)| glob_kind(p) == kind)
            .map(|(p, list)| (p.to_owned(), glob_values(list)))
            .collect();
        w.map(globs, 3);
    }

    sections.push(w.offset());
    magic_section(&mut w, magic);

    sections.push(w.offset());
    let namespaces = db
        .namespaces
        .iter()
        .map(|(key, mime)| {
            let (uri, local) = key.split_once(' ').unwrap_or((key, ""));
            (
                key.to_owned(),
                vec![
                    Value::Str(uri.to_owned()),
                    Value::Str(local.to_owned()),
                    Value::Str(mime.clone()),
                ],
            )
        })
        .collect();
    w.map(namespaces, 2);

    for table in [&db.icons, &db.generic_icons] {
        sections.push(w.offset());
        let icons = table
            .iter()
            .map(|(mime, icon)| {
                (
                    mime.to_owned(),
                    vec![Value::Str(mime.to_owned()), Value::Str(icon.clone())],
                )
            })
            .collect();
        w.map(icons, 2);
    }

    sections.push(w.offset());
    let mut types: Vec<&str> = db.types.keys().collect();
    types.sort();
    w.card32(types.len() as u32);
    for t in types {
        // update-mime-database looks each type up with the newline of its `types` line, so no
        // entry of this section is ever found: they are all 0 in its output, and in this one.
        let offset = w.string_offset(&format!("{t}\n"));
        w.card32(offset);
    }

    let mut header = Vec::with_capacity(HEADER_LEN as usize);
    header.extend_from_slice(&MAJOR_VERSION.to_be_bytes());
    header.extend_from_slice(&MINOR_VERSION.to_be_bytes());
    for s in sections {
        header.extend_from_slice(&s.to_be_bytes());
    }
    w.out[..HEADER_LEN as usize].copy_from_slice(&header);
    w.out
}
