//! GLib's `GHashTable` with `g_str_hash` keys, reproduced for its iteration order.
//!
//! update-mime-database writes `globs`, `globs2`, `subclasses`, `icons`, `generic-icons` and the
//! string table of `mime.cache` in the order `g_hash_table_foreach` visits its tables, and
//! gtk-update-icon-cache chains an icon cache's buckets in that order too ([`super::iconcache`]);
//! that order is the slot order of GLib's open-addressing table: the bucket `(hash * 11) % prime`,
//! quadratic probing, growth and in-place rehashing as GLib 2.74 does them (`ghash.c`). The tables
//! here never remove, so there are no tombstones. Written here rather than taken from a crate
//! because the point is GLib's exact slot arithmetic, which no general-purpose map reproduces.

/// GLib's `prime_mod`: for a table of `1 << shift` slots, the largest prime below it.
const PRIME_MOD: [u32; 32] = [
    1, 2, 3, 7, 13, 31, 61, 127, 251, 509, 1021, 2039, 4093, 8191, 16381, 32749, 65521, 131071, 262139,
    524287, 1048573, 2097143, 4194301, 8388593, 16777213, 33554393, 67108859, 134217689, 268435399,
    536870909, 1073741789, 2147483647,
];

const MIN_SHIFT: u32 = 3;

/// `g_str_hash`: djb2 over the bytes read as `signed char` (bytes ≥ 0x80 count negative).
pub fn str_hash(key: &str) -> u32 {
    key.bytes().fold(5381u32, |h, b| {
        h.wrapping_shl(5)
            .wrapping_add(h)
            .wrapping_add(b as i8 as i32 as u32)
    })
}

/// A `GHashTable` keyed by strings, in GLib's slot layout.
#[derive(Debug, Clone)]
pub struct StrTable<V> {
    /// `0`: unused; otherwise the key's hash (values 0 and 1 are mapped to 2, as GLib does).
    hashes: Vec<u32>,
    slots: Vec<Option<(String, V)>>,
    mod_: u32,
    mask: u32,
    nnodes: usize,
    noccupied: usize,
}

impl<V> Default for StrTable<V> {
    fn default() -> Self {
        Self::new()
    }
}

impl<V> StrTable<V> {
    pub fn new() -> Self {
        let mut t = StrTable {
            hashes: Vec::new(),
            slots: Vec::new(),
            mod_: 0,
            mask: 0,
            nnodes: 0,
            noccupied: 0,
        };
        t.set_shift(MIN_SHIFT);
        t.hashes = vec![0; t.size()];
        t.slots = (0..t.size()).map(|_| None).collect();
        t
    }

    fn size(&self) -> usize {
        self.mask as usize + 1
    }

    fn set_shift(&mut self, shift: u32) {
        self.mod_ = PRIME_MOD[shift as usize];
        self.mask = (1u32 << shift) - 1;
    }

    fn index_of(&self, hash: u32) -> usize {
        (hash.wrapping_mul(11) % self.mod_) as usize
    }

    fn hash(key: &str) -> u32 {
        match str_hash(key) {
            h if h < 2 => 2,
            h => h,
        }
    }

    /// `g_hash_table_lookup_node`: the slot holding `key`, or the unused slot it would take.
    fn lookup_node(&self, key: &str, hash: u32) -> usize {
        let mut index = self.index_of(hash);
        let mut step = 0usize;
        while self.hashes[index] != 0 {
            if self.hashes[index] == hash && self.slots[index].as_ref().is_some_and(|(k, _)| k == key) {
                return index;
            }
            step += 1;
            index = (index + step) & self.mask as usize;
        }
        index
    }

    pub fn get(&self, key: &str) -> Option<&V> {
        let index = self.lookup_node(key, Self::hash(key));
        self.slots[index].as_ref().map(|(_, v)| v)
    }

    pub fn get_mut(&mut self, key: &str) -> Option<&mut V> {
        let index = self.lookup_node(key, Self::hash(key));
        self.slots[index].as_mut().map(|(_, v)| v)
    }

    pub fn contains(&self, key: &str) -> bool {
        self.get(key).is_some()
    }

    /// `g_hash_table_insert`: a new key takes its slot (and may grow the table); an existing key
    /// keeps its slot and its first spelling, and gets the new value.
    pub fn insert(&mut self, key: &str, value: V) {
        let hash = Self::hash(key);
        let index = self.lookup_node(key, hash);
        if let Some((_, v)) = self.slots[index].as_mut() {
            *v = value;
            return;
        }
        self.hashes[index] = hash;
        self.slots[index] = Some((key.to_owned(), value));
        self.nnodes += 1;
        self.noccupied += 1;
        self.maybe_resize();
    }

    pub fn len(&self) -> usize {
        self.nnodes
    }

    pub fn is_empty(&self) -> bool {
        self.nnodes == 0
    }

    /// `g_hash_table_foreach`'s order: slot by slot.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &V)> {
        self.slots
            .iter()
            .filter_map(|s| s.as_ref().map(|(k, v)| (k.as_str(), v)))
    }

    /// The keys in slot order.
    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.iter().map(|(k, _)| k)
    }

    fn maybe_resize(&mut self) {
        let size = self.size();
        if (size > self.nnodes * 4 && size > 1 << MIN_SHIFT) || size <= self.noccupied + self.noccupied / 16 {
            self.resize();
        }
    }

    /// `g_hash_table_resize`: a new size from `nnodes * 1.333`, then GLib's in-place rehash
    /// (entries evicted along their new probe chains, marked in a bitmap of relocated slots).
    fn resize(&mut self) {
        let old_size = self.size();
        // GLib computes `nnodes * 1.333` in double precision and truncates it to an int.
        let wanted = (self.nnodes as f64 * 1.333) as u64;
        let shift = (u64::BITS - wanted.leading_zeros()).max(MIN_SHIFT);
        self.set_shift(shift);
        let new_size = self.size();
        if new_size > old_size {
            self.hashes.resize(new_size, 0);
            self.slots.resize_with(new_size, || None);
        }
        let mut relocated = vec![false; new_size.max(old_size)];
        for i in 0..old_size {
            if self.hashes[i] == 0 || relocated[i] {
                continue;
            }
            let mut node_hash = self.hashes[i];
            self.hashes[i] = 0;
            let mut entry = self.slots[i].take();
            loop {
                let mut index = self.index_of(node_hash);
                let mut step = 0usize;
                while relocated[index] {
                    step += 1;
                    index = (index + step) & self.mask as usize;
                }
                relocated[index] = true;
                let replaced = std::mem::replace(&mut self.hashes[index], node_hash);
                let evicted = std::mem::replace(&mut self.slots[index], entry);
                if replaced == 0 {
                    break;
                }
                node_hash = replaced;
                entry = evicted;
            }
        }
        if new_size < old_size {
            self.hashes.truncate(new_size);
            self.slots.truncate(new_size);
        }
        self.noccupied = self.nnodes;
    }
}
