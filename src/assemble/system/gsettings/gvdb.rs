//! GLib's GVDB file format, written as `gvdb-builder.c` writes it (the copy GLib 2.74 builds
//! `glib-compile-schemas` with): nested hash tables of GVariant values.
//!
//! The bytes follow the builder's walk: a table's header, buckets and items in one block; then,
//! item by item in bucket order, the item's key and right after it its value, its children's
//! indices or (depth first) its nested table. A bucket chains its items in the reverse of the
//! order GLib's hash table of the keys visits them ([`super::super::ghash`]). No bloom filter
//! (the builder never fills one in).

use super::super::ghash::{StrTable, str_hash};
use super::gvariant::Value;

/// "GVariant", as two little-endian words.
const SIGNATURE: &[u8; 8] = b"GVariant";
const HEADER_SIZE: usize = 24;
const HASH_ITEM_SIZE: usize = 24;
/// The builder's bloom shift (with no bloom words, only recorded).
const BLOOM_SHIFT: u32 = 5;

/// What an item holds.
#[derive(Debug)]
pub enum Content {
    /// Nothing (a list head without children).
    Empty,
    Value(Value),
    Table(Table),
}

#[derive(Debug)]
struct Item {
    parent: Option<String>,
    content: Content,
    /// Children, in `strcmp` order of their keys (`gvdb_item_set_parent`).
    children: Vec<String>,
}

/// A `GHashTable` of `GvdbItem`s, in GLib's slot order.
#[derive(Debug, Default)]
pub struct Table {
    items: StrTable<Item>,
}

impl Table {
    pub fn new() -> Self {
        Self::default()
    }

    /// `gvdb_hash_table_insert` (+ `gvdb_item_set_parent` when `parent` is given, which must be
    /// in the table already, and `gvdb_item_set_value`/`_set_hash_table`).
    pub fn insert(&mut self, key: &str, parent: Option<&str>, content: Content) {
        self.items.insert(
            key,
            Item {
                parent: parent.map(str::to_owned),
                content,
                children: Vec::new(),
            },
        );
        if let Some(p) = parent
            && let Some(parent) = self.items.get_mut(p)
        {
            let at = parent
                .children
                .iter()
                .position(|c| c.as_bytes() > key.as_bytes())
                .unwrap_or(parent.children.len());
            parent.children.insert(at, key.to_owned());
        }
    }
}

/// Why a file cannot be written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TooLarge(pub String);

struct Builder {
    out: Vec<u8>,
}

impl Builder {
    /// `file_builder_allocate`: `size` zeroed bytes at `alignment`; nothing for size 0.
    fn allocate(&mut self, alignment: usize, size: usize) -> Option<(usize, usize)> {
        if size == 0 {
            return None;
        }
        while !self.out.len().is_multiple_of(alignment) {
            self.out.push(0);
        }
        let start = self.out.len();
        self.out.resize(start + size, 0);
        Some((start, start + size))
    }

    fn put32(&mut self, at: usize, v: u32) {
        self.out[at..at + 4].copy_from_slice(&v.to_le_bytes());
    }

    fn offset(v: usize) -> Result<u32, TooLarge> {
        u32::try_from(v).map_err(|_| TooLarge("the file would be larger than 4 GiB".into()))
    }

    /// `file_builder_add_hash`: the table's block, then each item's key and content.
    fn add_hash(&mut self, table: &Table) -> Result<(u32, u32), TooLarge> {
        let n_buckets = table.items.len();
        let mut buckets: Vec<Vec<(&str, &Item)>> = (0..n_buckets).map(|_| Vec::new()).collect();
        for (key, item) in table.items.iter() {
            let b = str_hash(key) as usize % n_buckets.max(1);
            buckets[b].insert(0, (key, item));
        }
        let order: Vec<(&str, &Item)> = buckets.iter().flatten().copied().collect();
        let indices: rustc_hash::FxHashMap<&str, usize> =
            order.iter().enumerate().map(|(i, (k, _))| (*k, i)).collect();
        let index_of = |key: &str| indices.get(key).copied();
        let size = 8 + 4 * n_buckets + HASH_ITEM_SIZE * order.len();
        let (start, end) = self.allocate(4, size).unwrap_or((self.out.len(), self.out.len()));
        self.put32(start, BLOOM_SHIFT << 27);
        self.put32(start + 4, Self::offset(n_buckets)?);
        let mut index = 0usize;
        for (b, chain) in buckets.iter().enumerate() {
            self.put32(start + 8 + 4 * b, Self::offset(index)?);
            index += chain.len();
        }
        let items_at = start + 8 + 4 * n_buckets;
        for (i, (key, item)) in order.iter().enumerate() {
            let at = items_at + HASH_ITEM_SIZE * i;
            let parent = item.parent.as_deref();
            let basename = match parent {
                Some(p) => key.strip_prefix(p).unwrap_or(key),
                None => key,
            };
            let key_start = Self::offset(self.out.len())?;
            let key_size = u16::try_from(basename.len())
                .map_err(|_| TooLarge(format!("the key `{basename}` is longer than 65535 bytes")))?;
            self.out.extend_from_slice(basename.as_bytes());
            let (kind, pointer) = match &item.content {
                Content::Value(v) => {
                    let bytes = Value::Variant(Box::new(v.clone())).serialise();
                    let ptr = self.allocate(8, bytes.len());
                    if let Some((s, e)) = ptr {
                        self.out[s..e].copy_from_slice(&bytes);
                    }
                    (b'v', ptr)
                }
                Content::Empty if !item.children.is_empty() => {
                    let ptr = self.allocate(4, 4 * item.children.len());
                    if let Some((s, _)) = ptr {
                        for (n, child) in item.children.iter().enumerate() {
                            let idx = index_of(child).map_or(u32::MAX, |x| x as u32);
                            self.put32(s + 4 * n, idx);
                        }
                    }
                    (b'L', ptr)
                }
                Content::Empty => (0, None),
                Content::Table(t) => {
                    let (s, e) = self.add_hash(t)?;
                    (b'H', Some((s as usize, e as usize)))
                }
            };
            let (ps, pe) = pointer.unwrap_or((0, 0));
            self.put32(at, str_hash(key));
            self.put32(at + 4, parent.and_then(index_of).map_or(u32::MAX, |x| x as u32));
            self.put32(at + 8, key_start);
            self.out[at + 12..at + 14].copy_from_slice(&key_size.to_le_bytes());
            self.out[at + 14] = kind;
            self.out[at + 15] = 0;
            self.put32(at + 16, Self::offset(ps)?);
            self.put32(at + 20, Self::offset(pe)?);
        }
        Ok((Self::offset(start)?, Self::offset(end)?))
    }
}

/// `gvdb_table_write_contents` (little-endian, no byte swapping): the file's bytes.
pub fn write(table: &Table) -> Result<Vec<u8>, TooLarge> {
    let mut b = Builder {
        out: vec![0; HEADER_SIZE],
    };
    let (start, end) = b.add_hash(table)?;
    b.out[..8].copy_from_slice(SIGNATURE);
    // version 0, options 0
    b.put32(16, start);
    b.put32(20, end);
    Ok(b.out)
}
