//! Synthetic `.deb` files, built in memory the way `dpkg-deb --build` lays them out: an ar archive
//! holding `debian-binary`, `control.tar[.X]` (with `./control` and `./md5sums`) and
//! `data.tar[.X]` with `./`-prefixed paths and every parent directory present.
//!
//! Besides well-formed packages, the builder has escape hatches for hostile ones: [`RawEntry`]
//! writes header bytes verbatim (`../` paths, absolute paths, device nodes, lying sizes, arbitrary
//! PAX records), and [`ar_archive`] assembles any member list, so tests can drop, reorder or corrupt
//! members.
//!
//! This module only produces bytes; it never depends on debcast itself, so it can judge it.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::path::{Path, PathBuf};

use md5::{Digest, Md5};

/// How a tar member is compressed; the suffix of its ar member name says which.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    None,
    Gzip,
    Xz,
    Zstd,
    Bzip2,
}

impl Compression {
    /// Every compression a data member may use (control members don't allow bzip2).
    pub const ALL: [Compression; 5] = [
        Compression::None,
        Compression::Gzip,
        Compression::Xz,
        Compression::Zstd,
        Compression::Bzip2,
    ];

    /// The ar member name suffix: `""`, `".gz"`, `".xz"`, `".zst"`, `".bz2"`.
    pub fn suffix(self) -> &'static str {
        match self {
            Compression::None => "",
            Compression::Gzip => ".gz",
            Compression::Xz => ".xz",
            Compression::Zstd => ".zst",
            Compression::Bzip2 => ".bz2",
        }
    }

    /// Compresses `data` in memory. Panics only if an in-memory encoder fails, which is a bug.
    pub fn compress(self, data: &[u8]) -> Vec<u8> {
        match self {
            Compression::None => data.to_vec(),
            Compression::Gzip => {
                // mtime 0 and no file name: the bytes depend only on the content.
                let mut enc = flate2::GzBuilder::new()
                    .mtime(0)
                    .write(Vec::new(), flate2::Compression::default());
                enc.write_all(data).expect("gzip into memory");
                enc.finish().expect("gzip into memory")
            }
            Compression::Xz => {
                let mut enc = liblzma::write::XzEncoder::new(Vec::new(), 6);
                enc.write_all(data).expect("xz into memory");
                enc.finish().expect("xz into memory")
            }
            Compression::Zstd => zstd::stream::encode_all(data, 3).expect("zstd into memory"),
            Compression::Bzip2 => {
                let mut enc = bzip2::write::BzEncoder::new(Vec::new(), bzip2::Compression::default());
                enc.write_all(data).expect("bzip2 into memory");
                enc.finish().expect("bzip2 into memory")
            }
        }
    }
}

/// How names longer than the 100 bytes of a tar header are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LongNames {
    /// GNU headers with `././@LongLink` entries of type `L` (names) and `K` (link targets), as
    /// dpkg-deb writes them.
    Gnu,
    /// ustar headers preceded by a PAX `x` header carrying `path`/`linkpath` (and `uid`/`gid`
    /// when they do not fit the octal fields).
    Pax,
}

/// The kind (and content) of a raw tar entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RawKind {
    File(Vec<u8>),
    Dir,
    Symlink(Vec<u8>),
    Hardlink(Vec<u8>),
    Fifo,
    CharDevice {
        major: u32,
        minor: u32,
    },
    BlockDevice {
        major: u32,
        minor: u32,
    },
    /// Any type flag byte, with content written after the header.
    Typeflag(u8, Vec<u8>),
}

/// A tar entry written exactly as described: the path and link bytes go into the header
/// unchecked (longer than 100 bytes: via the builder's [`LongNames`] mechanism).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawEntry {
    pub path: Vec<u8>,
    pub kind: RawKind,
    pub mode: u32,
    pub uid: u64,
    pub gid: u64,
    pub uname: String,
    pub gname: String,
    pub mtime: u64,
    /// PAX records written in an `x` header before this entry, in order.
    pub pax: Vec<(String, Vec<u8>)>,
    /// A size to put in the header instead of the content's length (the content is still
    /// written, padded to a block): for entries that lie about their size.
    pub claimed_size: Option<u64>,
}

impl RawEntry {
    /// A root-owned entry with mode 0644 (0755 for directories) and the default mtime.
    pub fn new(path: impl AsRef<[u8]>, kind: RawKind) -> Self {
        let mode = if kind == RawKind::Dir { 0o755 } else { 0o644 };
        RawEntry {
            path: path.as_ref().to_vec(),
            kind,
            mode,
            uid: 0,
            gid: 0,
            uname: "root".into(),
            gname: "root".into(),
            mtime: DEFAULT_MTIME,
            pax: Vec::new(),
            claimed_size: None,
        }
    }

    pub fn pax(mut self, key: &str, value: impl AsRef<[u8]>) -> Self {
        self.pax.push((key.to_owned(), value.as_ref().to_vec()));
        self
    }

    pub fn claimed_size(mut self, size: u64) -> Self {
        self.claimed_size = Some(size);
        self
    }
}

/// The mtime entries get unless told otherwise (2023-11-14).
pub const DEFAULT_MTIME: u64 = 1_700_000_000;

#[derive(Debug, Clone)]
struct Owner {
    uid: u64,
    gid: u64,
    uname: String,
    gname: String,
}

impl Default for Owner {
    fn default() -> Self {
        Owner {
            uid: 0,
            gid: 0,
            uname: "root".into(),
            gname: "root".into(),
        }
    }
}

#[derive(Debug, Clone)]
enum Kind {
    File(Vec<u8>),
    Dir,
    Symlink(String),
    Hardlink(String),
    Fifo,
}

#[derive(Debug, Clone)]
enum Item {
    Normal { path: String, kind: Kind, mode: u32 },
    Raw(RawEntry),
}

/// Builds a synthetic `.deb`. Paths may be given as `usr/bin/x`, `/usr/bin/x` or `./usr/bin/x`;
/// they are written as `./usr/bin/x` with missing parent directories (0755, root) added first.
#[derive(Debug, Clone)]
pub struct DebBuilder {
    name: String,
    version: String,
    arch: String,
    fields: Vec<(String, String)>,
    items: Vec<Item>,
    owners: BTreeMap<String, Owner>,
    mtimes: BTreeMap<String, u64>,
    mtime: u64,
    control_members: BTreeMap<String, (Vec<u8>, u32)>,
    data_compression: Compression,
    control_compression: Compression,
    long_names: LongNames,
    gnu_ar_names: bool,
    extra_members: Vec<(String, Vec<u8>)>,
    debian_binary: Vec<u8>,
}

impl DebBuilder {
    pub fn new(name: &str, version: &str, arch: &str) -> Self {
        DebBuilder {
            name: name.to_owned(),
            version: version.to_owned(),
            arch: arch.to_owned(),
            fields: vec![
                ("Package".into(), name.to_owned()),
                ("Version".into(), version.to_owned()),
                ("Architecture".into(), arch.to_owned()),
                (
                    "Maintainer".into(),
                    "Debcast Tests <tests@example.invalid>".into(),
                ),
            ],
            items: Vec::new(),
            owners: BTreeMap::new(),
            mtimes: BTreeMap::new(),
            mtime: DEFAULT_MTIME,
            control_members: BTreeMap::new(),
            data_compression: Compression::Xz,
            control_compression: Compression::Xz,
            long_names: LongNames::Gnu,
            gnu_ar_names: false,
            extra_members: Vec::new(),
            debian_binary: b"2.0\n".to_vec(),
        }
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn version(&self) -> &str {
        &self.version
    }

    pub fn arch(&self) -> &str {
        &self.arch
    }

    /// A control field's value, if set (names compare case-insensitively).
    pub fn field(&self, key: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| v.as_str())
    }

    /// Sets a control field, replacing an existing one in place (names compare case-insensitively).
    /// Multi-line values are written as given: continuation lines must start with a space.
    pub fn control_field(mut self, key: &str, value: &str) -> Self {
        match self.fields.iter_mut().find(|(k, _)| k.eq_ignore_ascii_case(key)) {
            Some(slot) => slot.1 = value.to_owned(),
            None => self.fields.push((key.to_owned(), value.to_owned())),
        }
        self
    }

    /// Removes a control field (e.g. to build a control file lacking `Version`).
    pub fn remove_control_field(mut self, key: &str) -> Self {
        self.fields.retain(|(k, _)| !k.eq_ignore_ascii_case(key));
        self
    }

    fn append_relation(self, field: &str, rel: &str) -> Self {
        let value = match self.fields.iter().find(|(k, _)| k.eq_ignore_ascii_case(field)) {
            Some((_, old)) => format!("{old}, {rel}"),
            None => rel.to_owned(),
        };
        self.control_field(field, &value)
    }

    /// Appends to `Depends` (comma-separated).
    pub fn depends(self, rel: &str) -> Self {
        self.append_relation("Depends", rel)
    }

    /// Appends to `Pre-Depends` (comma-separated).
    pub fn pre_depends(self, rel: &str) -> Self {
        self.append_relation("Pre-Depends", rel)
    }

    pub fn file(mut self, path: &str, content: impl AsRef<[u8]>, mode: u32) -> Self {
        self.items.push(Item::Normal {
            path: clean(path),
            kind: Kind::File(content.as_ref().to_vec()),
            mode,
        });
        self
    }

    pub fn dir(mut self, path: &str, mode: u32) -> Self {
        self.items.push(Item::Normal {
            path: clean(path),
            kind: Kind::Dir,
            mode,
        });
        self
    }

    pub fn symlink(mut self, path: &str, target: &str) -> Self {
        self.items.push(Item::Normal {
            path: clean(path),
            kind: Kind::Symlink(target.to_owned()),
            mode: 0o777,
        });
        self
    }

    /// A hard link to `target`, written `./target` as tar does.
    pub fn hardlink(mut self, path: &str, target: &str) -> Self {
        self.items.push(Item::Normal {
            path: clean(path),
            kind: Kind::Hardlink(clean(target)),
            mode: 0o644,
        });
        self
    }

    pub fn fifo(mut self, path: &str) -> Self {
        self.items.push(Item::Normal {
            path: clean(path),
            kind: Kind::Fifo,
            mode: 0o644,
        });
        self
    }

    /// Owner of one path (a declared entry or an implied parent directory).
    pub fn owner(mut self, path: &str, uid: u64, gid: u64, uname: &str, gname: &str) -> Self {
        self.owners.insert(
            clean(path),
            Owner {
                uid,
                gid,
                uname: uname.to_owned(),
                gname: gname.to_owned(),
            },
        );
        self
    }

    /// The mtime of every entry without its own.
    pub fn mtime(mut self, mtime: u64) -> Self {
        self.mtime = mtime;
        self
    }

    pub fn entry_mtime(mut self, path: &str, mtime: u64) -> Self {
        self.mtimes.insert(clean(path), mtime);
        self
    }

    /// A maintainer script (`preinst`, `postinst`, `prerm`, `postrm`, `config`), mode 0755.
    pub fn maintainer_script(mut self, name: &str, text: &str) -> Self {
        self.control_members
            .insert(name.to_owned(), (text.as_bytes().to_vec(), 0o755));
        self
    }

    /// Any other control-area file (`conffiles`, `triggers`, `shlibs`, …), mode 0644. Giving
    /// `md5sums` or `control` replaces the generated one.
    pub fn control_member(mut self, name: &str, bytes: impl AsRef<[u8]>) -> Self {
        self.control_members
            .insert(name.to_owned(), (bytes.as_ref().to_vec(), 0o644));
        self
    }

    pub fn data_compression(mut self, c: Compression) -> Self {
        self.data_compression = c;
        self
    }

    pub fn control_compression(mut self, c: Compression) -> Self {
        self.control_compression = c;
        self
    }

    pub fn long_names(mut self, mode: LongNames) -> Self {
        self.long_names = mode;
        self
    }

    /// Writes ar member names with GNU ar's trailing `/` (`debian-binary/`).
    pub fn gnu_ar_names(mut self, yes: bool) -> Self {
        self.gnu_ar_names = yes;
        self
    }

    /// An extra ar member placed right after `debian-binary` (dpkg ignores names starting `_`).
    pub fn extra_member(mut self, name: &str, bytes: impl AsRef<[u8]>) -> Self {
        self.extra_members
            .push((name.to_owned(), bytes.as_ref().to_vec()));
        self
    }

    /// Replaces the `debian-binary` member's content (default `2.0\n`).
    pub fn debian_binary(mut self, bytes: impl AsRef<[u8]>) -> Self {
        self.debian_binary = bytes.as_ref().to_vec();
        self
    }

    /// A data entry written verbatim; see [`RawEntry`]. No parent directories are implied.
    pub fn raw_entry(mut self, entry: RawEntry) -> Self {
        self.items.push(Item::Raw(entry));
        self
    }

    /// The `control` file text as it will be packed.
    pub fn control_text(&self) -> String {
        let mut fields = self.fields.clone();
        if !fields
            .iter()
            .any(|(k, _)| k.eq_ignore_ascii_case("Installed-Size"))
        {
            // After Maintainer, where dpkg-gencontrol puts it.
            let at = fields.len().min(4);
            fields.insert(
                at,
                ("Installed-Size".into(), self.installed_size_kib().to_string()),
            );
        }
        if !fields.iter().any(|(k, _)| k.eq_ignore_ascii_case("Description")) {
            fields.push((
                "Description".into(),
                format!(
                    "synthetic package {}\n Built in memory by debcast-testkit.\n .\n Not for installation.",
                    self.name
                ),
            ));
        }
        let mut out = String::new();
        for (k, v) in fields {
            out.push_str(&k);
            out.push(':');
            if !v.starts_with('\n') {
                out.push(' ');
            }
            out.push_str(&v);
            out.push('\n');
        }
        out
    }

    /// Installed-Size as dpkg-gencontrol estimates it: KiB per file, rounded up, plus one per
    /// other entry.
    fn installed_size_kib(&self) -> u64 {
        self.data_entries()
            .iter()
            .map(|e| match &e.kind {
                RawKind::File(c) => (c.len() as u64).div_ceil(1024),
                _ => 1,
            })
            .sum()
    }

    /// The data entries in archive order, parents first, as raw entries.
    fn data_entries(&self) -> Vec<RawEntry> {
        let explicit_dirs: BTreeMap<&str, u32> = self
            .items
            .iter()
            .filter_map(|i| match i {
                Item::Normal {
                    path,
                    kind: Kind::Dir,
                    mode,
                } => Some((path.as_str(), *mode)),
                _ => None,
            })
            .collect();
        let mut emitted: BTreeSet<String> = BTreeSet::new();
        let mut out = Vec::new();
        let dir_entry = |path: &str, mode: u32| {
            let name = if path.is_empty() {
                "./".to_owned()
            } else {
                format!("./{path}/")
            };
            let mut e = RawEntry::new(name, RawKind::Dir);
            e.mode = mode;
            e
        };
        let needs_root = self.items.iter().any(|i| matches!(i, Item::Normal { .. }));
        if needs_root {
            out.push(self.finish_entry("", dir_entry("", 0o755)));
            emitted.insert(String::new());
        }
        for item in &self.items {
            match item {
                Item::Raw(raw) => out.push(raw.clone()),
                Item::Normal { path, kind, mode } => {
                    let comps: Vec<&str> = path.split('/').collect();
                    for n in 1..comps.len() {
                        let parent = comps[..n].join("/");
                        if emitted.insert(parent.clone()) {
                            let m = explicit_dirs.get(parent.as_str()).copied().unwrap_or(0o755);
                            out.push(self.finish_entry(&parent, dir_entry(&parent, m)));
                        }
                    }
                    if matches!(kind, Kind::Dir) {
                        if emitted.insert(path.clone()) {
                            out.push(self.finish_entry(path, dir_entry(path, *mode)));
                        }
                        continue;
                    }
                    let raw_kind = match kind {
                        Kind::File(c) => RawKind::File(c.clone()),
                        Kind::Dir => RawKind::Dir,
                        Kind::Symlink(t) => RawKind::Symlink(t.clone().into_bytes()),
                        Kind::Hardlink(t) => RawKind::Hardlink(format!("./{t}").into_bytes()),
                        Kind::Fifo => RawKind::Fifo,
                    };
                    let mut e = RawEntry::new(format!("./{path}"), raw_kind);
                    e.mode = *mode;
                    out.push(self.finish_entry(path, e));
                }
            }
        }
        out
    }

    fn finish_entry(&self, path: &str, mut e: RawEntry) -> RawEntry {
        let owner = self.owners.get(path).cloned().unwrap_or_default();
        e.uid = owner.uid;
        e.gid = owner.gid;
        e.uname = owner.uname;
        e.gname = owner.gname;
        e.mtime = self.mtimes.get(path).copied().unwrap_or(self.mtime);
        e
    }

    /// The uncompressed data tar.
    pub fn data_tar(&self) -> Vec<u8> {
        let mut b = tar::Builder::new(Vec::new());
        for e in self.data_entries() {
            append_raw(&mut b, &e, self.long_names);
        }
        b.into_inner().expect("tar into memory")
    }

    /// The uncompressed control tar: `./`, `./control`, `./md5sums` (when there are files),
    /// then the other members by name.
    pub fn control_tar(&self) -> Vec<u8> {
        let mut members = self.control_members.clone();
        if !members.contains_key("md5sums") {
            let mut sums = String::new();
            for e in self.data_entries() {
                if let RawKind::File(c) = &e.kind {
                    let path = String::from_utf8_lossy(&e.path);
                    let path = path.trim_start_matches("./");
                    let digest = Md5::digest(c);
                    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
                    sums.push_str(&format!("{hex}  {path}\n"));
                }
            }
            if !sums.is_empty() {
                members.insert("md5sums".into(), (sums.into_bytes(), 0o644));
            }
        }
        let control = members
            .remove("control")
            .unwrap_or_else(|| (self.control_text().into_bytes(), 0o644));
        let mut b = tar::Builder::new(Vec::new());
        let mut root = RawEntry::new("./", RawKind::Dir);
        root.mtime = self.mtime;
        append_raw(&mut b, &root, LongNames::Gnu);
        let mut add = |name: &str, (bytes, mode): (Vec<u8>, u32)| {
            let mut e = RawEntry::new(format!("./{name}"), RawKind::File(bytes));
            e.mode = mode;
            e.mtime = self.mtime;
            append_raw(&mut b, &e, LongNames::Gnu);
        };
        add("control", control);
        if let Some(sums) = members.remove("md5sums") {
            add("md5sums", sums);
        }
        for (name, m) in members {
            add(&name, m);
        }
        b.into_inner().expect("tar into memory")
    }

    /// The ar members in order: `debian-binary`, extra members, `control.tar.X`, `data.tar.X`.
    pub fn members(&self) -> Vec<(String, Vec<u8>)> {
        let mut out = vec![("debian-binary".to_owned(), self.debian_binary.clone())];
        out.extend(self.extra_members.iter().cloned());
        out.push((
            format!("control.tar{}", self.control_compression.suffix()),
            self.control_compression.compress(&self.control_tar()),
        ));
        out.push((
            format!("data.tar{}", self.data_compression.suffix()),
            self.data_compression.compress(&self.data_tar()),
        ));
        if self.gnu_ar_names {
            for (name, _) in &mut out {
                name.push('/');
            }
        }
        out
    }

    /// The `.deb` bytes.
    pub fn build(&self) -> Vec<u8> {
        let members = self.members();
        let refs: Vec<(&str, &[u8])> = members.iter().map(|(n, b)| (n.as_str(), b.as_slice())).collect();
        ar_archive(&refs)
    }

    /// `name_version_arch.deb`, with `:` in the version (an epoch) written `%3a` as the archive does.
    pub fn file_name(&self) -> String {
        format!(
            "{}_{}_{}.deb",
            self.name,
            self.version.replace(':', "%3a"),
            self.arch
        )
    }

    /// Builds and writes the `.deb` into `dir` under [`Self::file_name`]; returns its path.
    pub fn write_to(&self, dir: &Path) -> std::io::Result<PathBuf> {
        let path = dir.join(self.file_name());
        std::fs::write(&path, self.build())?;
        Ok(path)
    }
}

/// Strips `/` and `./` prefixes and trailing `/` from a builder path.
fn clean(path: &str) -> String {
    let p = path.strip_prefix("./").unwrap_or(path);
    p.trim_matches('/').to_owned()
}

/// An ar archive as dpkg-deb writes it: `!<arch>\n`, then per member a 60-byte header (name
/// padded to 16, mtime 0, owner 0/0, mode 100644, size) and the content padded to an even length
/// with `\n`. Panics on a name longer than 16 bytes.
pub fn ar_archive(members: &[(&str, &[u8])]) -> Vec<u8> {
    let mut out = b"!<arch>\n".to_vec();
    for (name, data) in members {
        assert!(name.len() <= 16, "ar member name {name:?} longer than 16 bytes");
        let header = format!(
            "{:<16}{:<12}{:<6}{:<6}{:<8}{:<10}`\n",
            name,
            0,
            0,
            0,
            "100644",
            data.len()
        );
        debug_assert_eq!(header.len(), 60);
        out.extend_from_slice(header.as_bytes());
        out.extend_from_slice(data);
        if data.len() % 2 == 1 {
            out.push(b'\n');
        }
    }
    out
}

/// One PAX record: `<len> <key>=<value>\n`, where `<len>` counts the whole record including itself.
fn pax_record(key: &str, value: &[u8]) -> Vec<u8> {
    let body = key.len() + value.len() + 3; // space, `=`, newline
    let mut len = body + 1;
    while len != body + len.to_string().len() {
        len = body + len.to_string().len();
    }
    let mut rec = format!("{len} {key}=").into_bytes();
    rec.extend_from_slice(value);
    rec.push(b'\n');
    rec
}

fn put_bytes(field: &mut [u8], value: &[u8]) {
    field.fill(0);
    let n = value.len().min(field.len());
    field[..n].copy_from_slice(&value[..n]);
}

/// Appends a `././@LongLink` entry of type `L` or `K` carrying `name`.
fn append_gnu_long(b: &mut tar::Builder<Vec<u8>>, flag: u8, name: &[u8]) {
    let mut h = tar::Header::new_gnu();
    put_bytes(&mut h.as_old_mut().name, b"././@LongLink");
    h.set_entry_type(tar::EntryType::new(flag));
    h.set_mode(0o644);
    let mut data = name.to_vec();
    data.push(0);
    h.set_size(data.len() as u64);
    h.set_cksum();
    b.append(&h, data.as_slice()).expect("tar into memory");
}

/// Writes one raw entry, with the long-name entries or PAX header it needs.
fn append_raw(b: &mut tar::Builder<Vec<u8>>, e: &RawEntry, long: LongNames) {
    let (flag, content, link): (u8, &[u8], Option<&[u8]>) = match &e.kind {
        RawKind::File(c) => (b'0', c, None),
        RawKind::Dir => (b'5', &[], None),
        RawKind::Symlink(t) => (b'2', &[], Some(t)),
        RawKind::Hardlink(t) => (b'1', &[], Some(t)),
        RawKind::Fifo => (b'6', &[], None),
        RawKind::CharDevice { .. } => (b'3', &[], None),
        RawKind::BlockDevice { .. } => (b'4', &[], None),
        RawKind::Typeflag(f, c) => (*f, c, None),
    };
    let mut pax: Vec<(String, Vec<u8>)> = Vec::new();
    let mut h = match long {
        LongNames::Gnu => tar::Header::new_gnu(),
        LongNames::Pax => tar::Header::new_ustar(),
    };
    let id_limit = 0o7777777;
    match long {
        LongNames::Gnu => {
            if let Some(link) = link.filter(|l| l.len() > 100) {
                append_gnu_long(b, b'K', link);
            }
            if e.path.len() > 100 {
                append_gnu_long(b, b'L', &e.path);
            }
        }
        LongNames::Pax => {
            if e.path.len() > 100 {
                pax.push(("path".into(), e.path.clone()));
            }
            if let Some(link) = link.filter(|l| l.len() > 100) {
                pax.push(("linkpath".into(), link.to_vec()));
            }
            if e.uid > id_limit {
                pax.push(("uid".into(), e.uid.to_string().into_bytes()));
            }
            if e.gid > id_limit {
                pax.push(("gid".into(), e.gid.to_string().into_bytes()));
            }
        }
    }
    pax.extend(e.pax.iter().cloned());
    if !pax.is_empty() {
        let data: Vec<u8> = pax.iter().flat_map(|(k, v)| pax_record(k, v)).collect();
        let mut ph = tar::Header::new_ustar();
        let mut pname = b"./PaxHeaders/".to_vec();
        let base = e
            .path
            .rsplit(|c| *c == b'/')
            .find(|s| !s.is_empty())
            .unwrap_or(b"root");
        pname.extend_from_slice(base);
        put_bytes(&mut ph.as_old_mut().name, &pname);
        ph.set_entry_type(tar::EntryType::XHeader);
        ph.set_mode(0o644);
        ph.set_mtime(e.mtime);
        ph.set_size(data.len() as u64);
        ph.set_cksum();
        b.append(&ph, data.as_slice()).expect("tar into memory");
    }
    put_bytes(&mut h.as_old_mut().name, &e.path);
    if let Some(link) = link {
        put_bytes(&mut h.as_old_mut().linkname, link);
    }
    h.set_entry_type(tar::EntryType::new(flag));
    h.set_mode(e.mode);
    // ustar cannot hold large ids; the PAX record above carries them and the field stays 0.
    let fits = |id: u64| long == LongNames::Gnu || id <= id_limit;
    h.set_uid(if fits(e.uid) { e.uid } else { 0 });
    h.set_gid(if fits(e.gid) { e.gid } else { 0 });
    h.set_mtime(e.mtime);
    h.set_username(&e.uname).expect("user name fits a tar header");
    h.set_groupname(&e.gname).expect("group name fits a tar header");
    if let RawKind::CharDevice { major, minor } | RawKind::BlockDevice { major, minor } = e.kind {
        h.set_device_major(major).expect("device numbers fit");
        h.set_device_minor(minor).expect("device numbers fit");
    }
    h.set_size(e.claimed_size.unwrap_or(content.len() as u64));
    h.set_cksum();
    // `append` copies exactly the content and pads it; a claimed size only changes the header.
    let out = b.get_mut();
    out.extend_from_slice(h.as_bytes());
    out.extend_from_slice(content);
    let pad = (512 - content.len() % 512) % 512;
    out.extend(std::iter::repeat_n(0u8, pad));
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::process::Command;

    fn sample(data: Compression, control: Compression, long: LongNames) -> DebBuilder {
        let long_dir = "usr/share/doc/".to_owned() + &"d".repeat(60);
        let long_file = format!("{long_dir}/{}", "f".repeat(70));
        DebBuilder::new("hello", "1:2.10-3", "amd64")
            .depends("libc6 (>= 2.34)")
            .file("usr/bin/hello", b"#!/bin/sh\necho hello\n", 0o755)
            .dir("var/lib/hello", 0o700)
            .symlink("usr/bin/hi", "hello")
            .hardlink("usr/bin/hello2", "usr/bin/hello")
            .fifo("run/hello.fifo")
            .file(&long_file, b"long", 0o644)
            .symlink("usr/lib/long-link", &format!("/{long_file}"))
            .owner("var/lib/hello", 100, 101, "hello", "hello")
            .maintainer_script("postinst", "#!/bin/sh\nset -e\n")
            .control_member("conffiles", "/etc/hello.conf\n")
            .data_compression(data)
            .control_compression(control)
            .long_names(long)
    }

    fn dpkg_deb(args: &[&str], deb: &Path) -> Option<std::process::Output> {
        match Command::new("dpkg-deb").args(args).arg(deb).output() {
            Ok(out) => Some(out),
            Err(e) => {
                eprintln!("note: dpkg-deb not runnable ({e}); skipping the dpkg-deb check");
                None
            }
        }
    }

    #[test]
    fn dpkg_deb_accepts_every_compression() {
        let dir = tempfile::tempdir().unwrap();
        let controls = [
            Compression::None,
            Compression::Gzip,
            Compression::Xz,
            Compression::Zstd,
        ];
        for (i, data) in Compression::ALL.into_iter().enumerate() {
            let control = controls[i % controls.len()];
            for long in [LongNames::Gnu, LongNames::Pax] {
                let b = sample(data, control, long);
                let deb = b.write_to(dir.path()).unwrap();
                let what = format!("{data:?}/{control:?}/{long:?}");

                let Some(info) = dpkg_deb(&["--info"], &deb) else {
                    return;
                };
                let stdout = String::from_utf8_lossy(&info.stdout);
                assert!(
                    info.status.success(),
                    "{what}: {}",
                    String::from_utf8_lossy(&info.stderr)
                );
                assert!(stdout.contains("Package: hello"), "{what}: {stdout}");
                assert!(stdout.contains("Version: 1:2.10-3"), "{what}: {stdout}");
                assert!(stdout.contains("postinst"), "{what}: {stdout}");

                let Some(contents) = dpkg_deb(&["--contents"], &deb) else {
                    return;
                };
                let stdout = String::from_utf8_lossy(&contents.stdout);
                assert!(
                    contents.status.success(),
                    "{what}: {}",
                    String::from_utf8_lossy(&contents.stderr)
                );
                assert!(stdout.contains("./usr/bin/hello"), "{what}: {stdout}");
                assert!(stdout.contains("./usr/bin/hi -> hello"), "{what}: {stdout}");
                assert!(stdout.contains("link to ./usr/bin/hello"), "{what}: {stdout}");
                assert!(stdout.contains(&"f".repeat(70)), "{what}: {stdout}");
                assert!(stdout.contains("hello/hello"), "{what}: owner names: {stdout}");

                let Some(fsys) = dpkg_deb(&["--fsys-tarfile"], &deb) else {
                    return;
                };
                assert!(
                    fsys.status.success(),
                    "{what}: {}",
                    String::from_utf8_lossy(&fsys.stderr)
                );
                assert_eq!(fsys.stdout, b.data_tar(), "{what}: fsys tarfile differs");

                let Some(field) = dpkg_deb(&["--field"], &deb) else {
                    return;
                };
                assert_eq!(String::from_utf8_lossy(&field.stdout), b.control_text(), "{what}");
            }
        }
    }

    #[test]
    fn control_area_has_control_and_md5sums() {
        let b = sample(Compression::None, Compression::None, LongNames::Gnu);
        let tar_bytes = b.control_tar();
        let mut archive = tar::Archive::new(tar_bytes.as_slice());
        let names: Vec<String> = archive
            .entries()
            .unwrap()
            .map(|e| e.unwrap().path().unwrap().to_string_lossy().into_owned())
            .collect();
        assert_eq!(
            names,
            ["./", "./control", "./md5sums", "./conffiles", "./postinst"]
        );
        let text = b.control_text();
        assert!(
            text.starts_with("Package: hello\nVersion: 1:2.10-3\nArchitecture: amd64\n"),
            "{text}"
        );
        assert!(text.contains("\nDepends: libc6 (>= 2.34)\n"), "{text}");
        assert!(text.contains("\nInstalled-Size: "), "{text}");
    }

    #[test]
    fn pax_records_have_self_consistent_lengths() {
        for v in [0usize, 1, 5, 90, 95, 996, 10_000] {
            let rec = pax_record("path", &vec![b'a'; v]);
            let (len, _) = std::str::from_utf8(&rec).unwrap().split_once(' ').unwrap();
            assert_eq!(len.parse::<usize>().unwrap(), rec.len());
        }
    }
}
