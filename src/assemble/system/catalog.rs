//! `journalctl --update-catalog` (systemd's postinst, and its trigger on the catalog directory):
//! the journal's message catalog, `/var/lib/systemd/catalog/database`, built from the
//! `*.catalog` files as systemd's `catalog_update` writes it.
//!
//! The files are those of `/usr/local/lib/systemd/catalog` and `/usr/lib/systemd/catalog`, one per
//! name (the first directory wins), read in the order of their names. Each entry (`-- ID [LANG]`
//! after an empty line) becomes an item keyed by its 128-bit id and language (the file's
//! `NAME.LANG.catalog` language by default); a second entry with the same key is merged into the
//! first (its header lines first, its body if it has one). The database is a header, the items
//! sorted by id and language, and the payloads in a string buffer where a payload that is the
//! tail of one stored before shares its bytes (systemd's `strbuf`, whose layout follows the order
//! the items were first read). A catalog the tool would refuse (payload before an id, an entry
//! without text, a language of one or more than 31 bytes) is an error here too.

use std::collections::HashMap;

use super::TreeView;

/// Where the database goes.
pub const DATABASE: &str = "var/lib/systemd/catalog/database";

/// Where catalogs are read from, in the order a name is looked up.
const DIRS: [&str; 2] = ["usr/local/lib/systemd/catalog", "usr/lib/systemd/catalog"];

/// `"RHHHKSLP"`, the database's signature.
const SIGNATURE: &[u8; 8] = b"RHHHKSLP";
/// The header's size (signature, two flag words, three 64-bit counts), already 8-aligned.
const HEADER_SIZE: u64 = 40;
/// One item: the id, a 32-byte NUL-padded language, the payload's offset.
const ITEM_SIZE: u64 = 56;

/// One catalog entry, keyed by id and language.
struct Item {
    id: [u8; 16],
    language: String,
    payload: String,
}

/// The database's bytes (`None`: no catalog has an entry, and the tool writes nothing), or why
/// the tool would fail, naming the catalog file and line.
pub fn database(tree: &dyn TreeView) -> Result<Option<Vec<u8>>, String> {
    let mut items: Vec<Item> = Vec::new();
    let mut index: HashMap<([u8; 16], String), usize> = HashMap::new();
    for path in catalog_files(tree) {
        let bytes = super::read_file(tree, &path)
            .map_err(|e| format!("/{path}: {e}"))?
            .unwrap_or_default();
        import(&path, &String::from_utf8_lossy(&bytes), &mut items, &mut index)?;
    }
    if items.is_empty() {
        return Ok(None);
    }
    // Payloads go into the string buffer in the order the items were first read.
    let mut strings = StringBuffer::new();
    let offsets: Vec<u64> = items.iter().map(|i| strings.add(i.payload.as_bytes())).collect();
    let mut order: Vec<usize> = (0..items.len()).collect();
    order.sort_by(|&a, &b| {
        (items[a].id, items[a].language.as_bytes()).cmp(&(items[b].id, items[b].language.as_bytes()))
    });
    let mut out =
        Vec::with_capacity(HEADER_SIZE as usize + items.len() * ITEM_SIZE as usize + strings.buf.len());
    out.extend_from_slice(SIGNATURE);
    out.extend_from_slice(&0u32.to_le_bytes());
    out.extend_from_slice(&0u32.to_le_bytes());
    out.extend_from_slice(&HEADER_SIZE.to_le_bytes());
    out.extend_from_slice(&(items.len() as u64).to_le_bytes());
    out.extend_from_slice(&ITEM_SIZE.to_le_bytes());
    for i in order {
        let item = &items[i];
        out.extend_from_slice(&item.id);
        let mut language = [0u8; 32];
        language[..item.language.len()].copy_from_slice(item.language.as_bytes());
        out.extend_from_slice(&language);
        out.extend_from_slice(&offsets[i].to_le_bytes());
    }
    out.extend_from_slice(&strings.buf);
    Ok(Some(out))
}

/// The catalog files, one per name (the first directory's), in the order of their names.
fn catalog_files(tree: &dyn TreeView) -> Vec<String> {
    let mut by_name: std::collections::BTreeMap<String, String> = std::collections::BTreeMap::new();
    for dir in DIRS {
        let Some((real, names)) = super::children(tree, dir) else {
            continue;
        };
        for name in names
            .into_iter()
            .filter(|n| n.ends_with(".catalog") && !n.starts_with('.'))
        {
            let path = format!("{real}/{name}");
            // A name masked by a link to /dev/null, or not a regular file, is skipped.
            if super::is_file(tree, &path) {
                by_name.entry(name).or_insert(path);
            } else {
                by_name.entry(name).or_default();
            }
        }
    }
    by_name.into_values().filter(|p| !p.is_empty()).collect()
}

/// The language a file's name gives its entries (`systemd.de.catalog` → `de`), as
/// `catalog_file_lang` finds it: the part between the last dot and `.catalog`, if it is shorter
/// than 32 bytes.
fn file_language(path: &str) -> Option<&str> {
    let stem = format!("/{path}");
    let end = stem.len().checked_sub(".catalog".len())?;
    let bytes = stem.as_bytes();
    let mut beg = end.checked_sub(1)?;
    while beg > 0 && bytes[beg] != b'.' && bytes[beg] != b'/' && end - beg < 32 {
        beg -= 1;
    }
    (bytes[beg] == b'.' && end > beg + 1).then(|| &path[beg..end - 1])
}

/// Reads one catalog file into the items (`catalog_import_file`).
fn import(
    path: &str,
    text: &str,
    items: &mut Vec<Item>,
    index: &mut HashMap<([u8; 16], String), usize>,
) -> Result<(), String> {
    let default_language = file_language(path);
    if let Some(l) = default_language
        && l.len() < 2
    {
        return Err(format!("/{path}: language `{l}` is too short"));
    }
    let mut current: Option<([u8; 16], Option<String>)> = None;
    let mut payload = String::new();
    let mut empty_line = true;
    let mut finish = |current: &Option<([u8; 16], Option<String>)>, payload: &mut String, n: usize| {
        let Some((id, language)) = current else {
            return Ok(());
        };
        if payload.is_empty() {
            return Err(format!("/{path}:{n}: an entry without text"));
        }
        let language = language
            .clone()
            .or(default_language.map(str::to_owned))
            .unwrap_or_default();
        let key = (*id, language.clone());
        match index.get(&key) {
            Some(&i) => items[i].payload = merge(payload, &items[i].payload),
            None => {
                index.insert(key, items.len());
                items.push(Item {
                    id: *id,
                    language,
                    payload: payload.clone(),
                });
            }
        }
        payload.clear();
        Ok(())
    };
    let mut n = 0;
    for raw in text.split_inclusive('\n') {
        n += 1;
        let line = raw.strip_suffix('\n').unwrap_or(raw);
        let line = line.strip_suffix('\r').unwrap_or(line);
        if line.is_empty() {
            empty_line = true;
            continue;
        }
        if line.starts_with(['#', ';']) {
            continue;
        }
        let b = line.as_bytes();
        if empty_line
            && b.len() >= 35
            && b.starts_with(b"-- ")
            && (b.len() == 35 || b[35] == b' ')
            && let Some(id) = parse_id(&b[3..35])
        {
            finish(&current, &mut payload, n)?;
            let language = if b.len() > 35 {
                let t = line[36..].trim_matches([' ', '\t', '\n', '\r']);
                if t.len() < 2 {
                    return Err(format!("/{path}:{n}: language `{t}` is too short"));
                }
                if t.len() > 31 {
                    return Err(format!("/{path}:{n}: language `{t}` is too long"));
                }
                (Some(t) != default_language).then(|| t.to_owned())
            } else {
                None
            };
            current = Some((id, language));
            empty_line = false;
            continue;
        }
        if current.is_none() {
            return Err(format!("/{path}:{n}: text before the first `-- ID` line"));
        }
        if empty_line {
            payload.push('\n');
        }
        payload.push_str(line);
        payload.push('\n');
        empty_line = false;
    }
    finish(&current, &mut payload, n)
}

/// 32 hexadecimal digits as the id's 16 bytes.
fn parse_id(hex: &[u8]) -> Option<[u8; 16]> {
    let digit = |c: u8| (c as char).to_digit(16).map(|d| d as u8);
    let mut id = [0u8; 16];
    for (i, pair) in hex.chunks(2).enumerate() {
        id[i] = digit(pair[0])? << 4 | digit(pair[1])?;
    }
    Some(id)
}

/// `combine_entries(new, old)`: the header lines (those before the first empty line) of the new
/// entry, then the old one's, then the new body if it has one, else the old body.
fn merge(new: &str, old: &str) -> String {
    let (h1, b1) = new.split_at(header_end(new));
    let (h2, b2) = old.split_at(header_end(old));
    format!("{h1}{h2}{}", if b1.is_empty() { b2 } else { b1 })
}

/// Where a payload's headers end: at its first empty line, or after its last complete line.
fn header_end(s: &str) -> usize {
    let mut at = 0;
    while let Some(nl) = s[at..].find('\n') {
        if nl == 0 {
            break;
        }
        at += nl + 1;
    }
    at
}

/// systemd's `strbuf`: strings stored once each, NUL-terminated, after a leading NUL (the empty
/// string, offset 0); a string that is the tail of one already stored is given that tail's
/// offset. Which tails are found follows a trie of the stored strings read backwards, whose
/// nodes each hold the string that made them: a tail is found only along that trie's path, as
/// the tool finds it.
struct StringBuffer {
    buf: Vec<u8>,
    nodes: Vec<TrieNode>,
}

struct TrieNode {
    offset: usize,
    len: usize,
    /// Children by the next byte (from the end), sorted.
    children: Vec<(u8, usize)>,
}

impl StringBuffer {
    fn new() -> Self {
        StringBuffer {
            buf: vec![0],
            nodes: vec![TrieNode {
                offset: 0,
                len: 0,
                children: Vec::new(),
            }],
        }
    }

    fn add(&mut self, s: &[u8]) -> u64 {
        let len = s.len();
        if len == 0 {
            return 0;
        }
        let mut node = 0;
        let mut c = s[len - 1];
        for depth in 0..=len {
            let n = &self.nodes[node];
            if depth == len {
                return (n.offset + n.len - len) as u64;
            }
            if n.len >= len {
                let off = n.offset + n.len - len;
                if &self.buf[off..off + len] == s {
                    return off as u64;
                }
            }
            c = s[len - 1 - depth];
            match n.children.binary_search_by_key(&c, |&(k, _)| k) {
                Ok(i) => node = n.children[i].1,
                Err(_) => break,
            }
        }
        let offset = self.buf.len();
        self.buf.extend_from_slice(s);
        self.buf.push(0);
        let child = self.nodes.len();
        self.nodes.push(TrieNode {
            offset,
            len,
            children: Vec::new(),
        });
        let children = &mut self.nodes[node].children;
        let at = children.partition_point(|&(k, _)| k <= c);
        children.insert(at, (c, child));
        offset as u64
    }
}

#[cfg(test)]
mod tests;
