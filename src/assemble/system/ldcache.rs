//! libc-bin's postinst: `etc/nsswitch.conf` from its default, and `etc/ld.so.cache`, byte for
//! byte as glibc 2.36's `ldconfig` (run by that postinst and libc-bin's `ldconfig` trigger) writes it for the image's tree: the new format only (`glibc-ld.so.cache1.1`, the
//! default since glibc 2.32), little- or big-endian per the libraries, with the generator
//! extension. Before glibc 2.32 (bullseye's 2.31), what that version writes
//! ([`build_compat_cache`]).
//!
//! What it mirrors, from glibc's `elf/ldconfig.c`, `elf/cache.c`, `elf/stringtable.c`:
//! - directories: `etc/ld.so.conf` (with `include` globs, sorted), then the built-in `/lib` and
//!   `/usr/lib` (Debian's slibdir/libdir); a directory reached twice (same real directory after
//!   following the tree's symlinks, as ldconfig compares inodes) is scanned once, under its first
//!   name; missing directories are skipped;
//! - per directory, entries named `lib*.so*`/`ld-*.so*` that are regular files or symlinks to
//!   regular files, ELF with a dynamic segment; SONAME from `DT_SONAME` (else the file name);
//!   symlinks whose name is neither the SONAME nor a `.so` development link of it count as files;
//!   one entry per SONAME, cached as `DIR/SONAME`;
//! - entries sorted by `_dl_cache_libcmp` descending, then flags descending (ties keep the scan
//!   order), strings deduplicated and tail-merged in stringtable order.
//!
//! Not covered: `glibc-hwcaps` subdirectories and legacy hwcap subdirectories (not present in
//! Debian base images), `ld.so.conf` `hwcap` lines.
//!
//! [`read_elf`] is hand-written, not `object`: it must accept exactly what ldconfig's
//! `process_elf_file` accepts (program headers only, `DT_STRTAB` through the first `PT_LOAD`), where
//! `object`'s ELF reader also reads and checks the section headers, which ldconfig never looks at.

use std::collections::BTreeMap;

use super::{Changes, InstalledPackage, SystemError, TreeView, installed};
use crate::entry::EntryKind;

const FLAG_ELF_LIBC6: i32 = 0x0003;
const FLAG_SPARC_LIB64: i32 = 0x0100;
const FLAG_X8664_LIB64: i32 = 0x0300;
const FLAG_S390_LIB64: i32 = 0x0400;
const FLAG_POWERPC_LIB64: i32 = 0x0500;
const FLAG_MIPS64_LIBN32: i32 = 0x0600;
const FLAG_MIPS64_LIBN64: i32 = 0x0700;
const FLAG_X8664_LIBX32: i32 = 0x0800;
const FLAG_ARM_LIBHF: i32 = 0x0900;
const FLAG_AARCH64_LIB64: i32 = 0x0a00;
const FLAG_ARM_LIBSF: i32 = 0x0b00;
const FLAG_MIPS64_LIBN32_NAN2008: i32 = 0x0d00;
const FLAG_MIPS64_LIBN64_NAN2008: i32 = 0x0e00;
const FLAG_RISCV_FLOAT_ABI_SOFT: i32 = 0x0f00;
const FLAG_RISCV_FLOAT_ABI_DOUBLE: i32 = 0x1000;

const CACHE_MAGIC: &[u8] = b"glibc-ld.so.cache1.1";
const EXTENSION_MAGIC: u32 = 0xeaa4_2174;

/// Writes `etc/ld.so.cache` when libc-bin (whose trigger runs ldconfig) is installed.
pub fn compute(
    tree: &dyn TreeView,
    packages: &[InstalledPackage],
    _architecture: &str,
) -> Result<Changes, SystemError> {
    let mut out = Changes::default();
    let Some(libc_bin) = installed(packages, "libc-bin") else {
        return Ok(out);
    };
    let bytes = if before_glibc_2_32(&libc_bin.version) {
        build_compat_cache(tree)?
    } else {
        build_cache(tree, &generator(&libc_bin.version))?
    };
    out.file("etc/ld.so.cache", 0o644, bytes);
    // ldconfig makes the directory of its auxiliary cache when a package does not ship it
    // (bullseye's libc-bin); the aux cache itself, a record of file times, stays out.
    if super::resolve(tree, "var/cache").is_some_and(|d| super::is_dir(tree, &d))
        && !super::exists(tree, "var/cache/ldconfig")
    {
        out.dir("var/cache/ldconfig", 0o700);
    }
    Ok(out)
}

/// The rest of libc-bin's postinst: `install_from_default` of nsswitch.conf (`cp -p`). libc-bin
/// is Essential: its postinst runs before every other package's, so this comes before the
/// maintainer scripts are walked (libnss-sss's postinst adds `sss` to the file it finds).
pub fn nsswitch(tree: &dyn TreeView, packages: &[InstalledPackage]) -> Result<Changes, SystemError> {
    let mut out = Changes::default();
    if installed(packages, "libc-bin").is_some()
        && !super::is_file(tree, "etc/nsswitch.conf")
        && let Some(real) = super::resolve(tree, "usr/share/libc-bin/nsswitch.conf")
        && let Some(entry) = tree.entry(&real)
        && let Some(content) = super::read_file(tree, &real)?
    {
        out.file("etc/nsswitch.conf", entry.mode, content);
    }
    Ok(out)
}

/// The generator string Debian's ldconfig records: `ldconfig (Debian GLIBC 2.36-9+deb12u4)
/// stable release version 2.36`.
pub fn generator(libc_version: &str) -> String {
    let upstream = libc_version
        .split_once(':')
        .map_or(libc_version, |(_, v)| v)
        .rsplit_once('-')
        .map_or(libc_version, |(u, _)| u);
    format!("ldconfig (Debian GLIBC {libc_version}) stable release version {upstream}")
}

/// A library as ldconfig's `search_dir` keeps it.
struct DLib {
    soname: String,
    name: String,
    flag: i32,
    is_link: bool,
    big_endian: bool,
    osversion: u32,
}

struct CacheEntry {
    lib: String,
    path: String,
    flags: i32,
    osversion: u32,
}

/// Whether a libc-bin version is older than glibc 2.32 (bullseye's 2.31), whose ldconfig records
/// ABI tags and has no string table or extensions yet.
fn before_glibc_2_32(libc_version: &str) -> bool {
    let upstream = libc_version.split_once(':').map_or(libc_version, |(_, v)| v);
    let mut parts = upstream.split(|c: char| !c.is_ascii_digit());
    let major: u32 = parts.next().and_then(|p| p.parse().ok()).unwrap_or(u32::MAX);
    let minor: u32 = parts.next().and_then(|p| p.parse().ok()).unwrap_or(u32::MAX);
    (major, minor) < (2, 32)
}

/// Builds the cache bytes for `tree` as glibc 2.33 and later write them.
pub fn build_cache(tree: &dyn TreeView, generator: &str) -> Result<Vec<u8>, SystemError> {
    let (entries, big_endian) = cache_entries(tree, false)?;
    Ok(serialise(&entries, generator, big_endian))
}

/// Builds the cache bytes for `tree` as Debian's glibc 2.31 (bullseye) ldconfig writes them: the
/// new format only, its header with the endianness flag and no extension section, every entry
/// with its library's ABI-tag kernel version, then each entry's name and path, NUL-terminated, in
/// entry order, neither shared nor merged (the string table came with glibc 2.33).
pub fn build_compat_cache(tree: &dyn TreeView) -> Result<Vec<u8>, SystemError> {
    let (entries, big_endian) = cache_entries(tree, true)?;
    let w32 = |v: &mut Vec<u8>, x: u32| {
        v.extend_from_slice(&if big_endian {
            x.to_be_bytes()
        } else {
            x.to_le_bytes()
        })
    };
    let header = 48 + entries.len() * 24;
    let total_strlen: usize = entries.iter().map(|e| e.lib.len() + e.path.len() + 2).sum();
    let mut v = Vec::with_capacity(header + total_strlen);
    v.extend_from_slice(CACHE_MAGIC);
    w32(&mut v, entries.len() as u32);
    w32(&mut v, total_strlen as u32);
    v.push(if big_endian { 3 } else { 2 });
    v.extend_from_slice(&[0; 19]);
    let mut at = header;
    for e in &entries {
        w32(&mut v, e.flags as u32);
        w32(&mut v, at as u32);
        at += e.lib.len() + 1;
        w32(&mut v, at as u32);
        at += e.path.len() + 1;
        w32(&mut v, e.osversion);
        v.extend_from_slice(&[0; 8]);
    }
    for e in &entries {
        v.extend_from_slice(e.lib.as_bytes());
        v.push(0);
        v.extend_from_slice(e.path.as_bytes());
        v.push(0);
    }
    Ok(v)
}

/// The cache's entries in ldconfig's order, and whether the libraries are big-endian. With
/// `by_osversion` (glibc 2.31), entries alike in name and flags are ordered by ABI-tag version,
/// higher first.
fn cache_entries(tree: &dyn TreeView, by_osversion: bool) -> Result<(Vec<CacheEntry>, bool), SystemError> {
    let dirs = directories(tree)?;
    let mut entries: Vec<CacheEntry> = Vec::new();
    let mut big_endian = false;
    for (name, real) in &dirs {
        for lib in search_dir(tree, real)? {
            big_endian |= lib.big_endian;
            let new = CacheEntry {
                path: format!("{name}/{}", lib.soname),
                lib: lib.soname,
                flags: lib.flag,
                osversion: lib.osversion,
            };
            // add_to_cache: insert before the first entry that compares greater.
            let at = entries
                .iter()
                .position(|e| compare(e, &new, by_osversion) == std::cmp::Ordering::Greater)
                .unwrap_or(entries.len());
            entries.insert(at, new);
        }
    }
    Ok((entries, big_endian))
}

/// cache.c `compare`: soname by `_dl_cache_libcmp`, reversed, then flags, higher first (then,
/// in glibc 2.31, the ABI-tag version, higher first).
fn compare(e1: &CacheEntry, e2: &CacheEntry, by_osversion: bool) -> std::cmp::Ordering {
    let order = libcmp(&e2.lib, &e1.lib).then(e2.flags.cmp(&e1.flags));
    if by_osversion {
        order.then(e2.osversion.cmp(&e1.osversion))
    } else {
        order
    }
}

/// glibc's `_dl_cache_libcmp`: digit runs compare numerically, other bytes as bytes.
pub fn libcmp(a: &str, b: &str) -> std::cmp::Ordering {
    use std::cmp::Ordering;
    let (a, b) = (a.as_bytes(), b.as_bytes());
    let (mut i, mut j) = (0, 0);
    while i < a.len() {
        let ca = a[i];
        let cb = b.get(j).copied().unwrap_or(0);
        if ca.is_ascii_digit() {
            if !cb.is_ascii_digit() {
                return Ordering::Greater;
            }
            let (mut va, mut vb) = (0u64, 0u64);
            while i < a.len() && a[i].is_ascii_digit() {
                va = va.wrapping_mul(10).wrapping_add(u64::from(a[i] - b'0'));
                i += 1;
            }
            while j < b.len() && b[j].is_ascii_digit() {
                vb = vb.wrapping_mul(10).wrapping_add(u64::from(b[j] - b'0'));
                j += 1;
            }
            if va != vb {
                return va.cmp(&vb);
            }
        } else if cb.is_ascii_digit() {
            return Ordering::Less;
        } else if ca != cb {
            return ca.cmp(&cb);
        } else {
            i += 1;
            j += 1;
        }
    }
    0u8.cmp(&b.get(j).copied().unwrap_or(0))
}

/// The directories ldconfig scans, in order: (name as configured, real path in the tree).
fn directories(tree: &dyn TreeView) -> Result<Vec<(String, String)>, SystemError> {
    let mut names = Vec::new();
    parse_conf(tree, "/etc/ld.so.conf", &mut names, 0)?;
    names.push("/lib".to_owned());
    names.push("/usr/lib".to_owned());
    let mut out: Vec<(String, String)> = Vec::new();
    for name in names {
        let Some(real) = super::resolve(tree, &super::tree_path(&name)) else {
            continue;
        };
        if !super::is_dir(tree, &real) {
            continue;
        }
        // The same directory twice: ldconfig keeps the first position (and name).
        if out.iter().any(|(_, r)| *r == real) {
            continue;
        }
        out.push((name, real));
    }
    Ok(out)
}

fn parse_conf(
    tree: &dyn TreeView,
    file: &str,
    out: &mut Vec<String>,
    depth: usize,
) -> Result<(), SystemError> {
    if depth > 16 {
        return Ok(());
    }
    let Some(bytes) = super::read_file(tree, &super::tree_path(file))? else {
        return Ok(());
    };
    let text = String::from_utf8_lossy(&bytes);
    let base = file.rsplit_once('/').map_or("", |(d, _)| d);
    for line in text.lines() {
        let line = line.split('#').next().unwrap_or("").trim();
        if line.is_empty() {
            continue;
        }
        if let Some(rest) = line
            .strip_prefix("include")
            .filter(|r| r.starts_with([' ', '\t']))
        {
            for pattern in rest.split_whitespace() {
                let pattern = if pattern.starts_with('/') {
                    pattern.to_owned()
                } else {
                    format!("{base}/{pattern}")
                };
                for f in glob(tree, &pattern) {
                    parse_conf(tree, &f, out, depth + 1)?;
                }
            }
        } else if line.len() > 5
            && line[..5].eq_ignore_ascii_case("hwcap")
            && line[5..].starts_with([' ', '\t'])
        {
            continue;
        } else {
            // `DIR=TYPE` (libc4/5 era) keeps only DIR; trailing slashes are dropped.
            let dir = line.split('=').next().unwrap_or(line).trim_end();
            let dir = dir.trim_end_matches('/');
            out.push(if dir.is_empty() {
                "/".into()
            } else {
                dir.to_owned()
            });
        }
    }
    Ok(())
}

/// glob(3) with a pattern in the last component only (as ld.so.conf includes are written),
/// sorted bytewise (the C locale).
fn glob(tree: &dyn TreeView, pattern: &str) -> Vec<String> {
    let (dir, pat) = pattern.rsplit_once('/').unwrap_or(("", pattern));
    if !pat.contains(['*', '?', '[']) {
        return vec![pattern.to_owned()];
    }
    let Some(real) = super::resolve(tree, &super::tree_path(dir)) else {
        return Vec::new();
    };
    let prefix = super::path_prefix(&real);
    let mut names: Vec<String> = tree
        .paths()
        .filter_map(|p| p.strip_prefix(&prefix))
        .filter(|n| !n.contains('/') && !n.starts_with('.'))
        .filter(|n| super::shell::glob_match(pat, n))
        .map(|n| format!("{dir}/{n}"))
        .collect();
    names.sort();
    names
}

/// ldconfig's `search_dir` for one directory, returning its libraries in scan order.
fn search_dir(tree: &dyn TreeView, real_dir: &str) -> Result<Vec<DLib>, SystemError> {
    let prefix = format!("{real_dir}/");
    let names: Vec<String> = tree
        .paths()
        .filter_map(|p| p.strip_prefix(&prefix))
        .filter(|n| !n.contains('/'))
        .map(str::to_owned)
        .collect();
    let mut dlibs: Vec<DLib> = Vec::new();
    for name in names {
        if !is_library_name(&name) {
            continue;
        }
        let path = format!("{prefix}{name}");
        let Some(entry) = tree.entry(&path) else { continue };
        let mut is_link = match entry.kind {
            EntryKind::Symlink { .. } => true,
            EntryKind::File { .. } => false,
            _ => continue,
        };
        let Some(real) = super::resolve(tree, &path) else {
            continue;
        };
        if !matches!(tree.entry(&real).map(|e| &e.kind), Some(EntryKind::File { .. })) {
            continue;
        }
        let elf = match tree.elf(&real) {
            None => continue,
            Some(Ok(elf)) => elf,
            Some(Err(source)) => return Err(SystemError::Read { path: real, source }),
        };
        let Some(elf) = elf else { continue };
        let soname = elf.soname.clone().unwrap_or_else(|| name.clone());
        if is_link && name != soname {
            let dev_link = name.ends_with(".so") && soname.starts_with(name.as_str());
            if !dev_link {
                is_link = false;
            }
        }
        let soname = if is_link { name.clone() } else { soname };
        match dlibs.iter_mut().find(|d| d.soname == soname) {
            Some(d) => {
                let newer =
                    (!is_link && d.is_link) || (is_link == d.is_link && libcmp(&d.name, &name).is_lt());
                if newer {
                    d.name = name.clone();
                    d.is_link = is_link;
                    d.flag = elf.flag;
                    d.osversion = elf.osversion;
                }
            }
            None => dlibs.insert(
                0,
                DLib {
                    soname,
                    name: name.clone(),
                    flag: elf.flag,
                    is_link,
                    big_endian: elf.big_endian,
                    osversion: elf.osversion,
                },
            ),
        }
    }
    Ok(dlibs)
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ElfInfo {
    soname: Option<String>,
    flag: i32,
    big_endian: bool,
    /// The `NT_GNU_ABI_TAG` note's kernel version (`0x00030200` for 3.2.0), which glibc before
    /// 2.32's ldconfig records in the cache (0 without the note).
    #[serde(default)]
    osversion: u32,
}

/// Whether ldconfig looks at a file of this name at all (`lib*.so*` and `ld-*.so*`, not prelink's
/// temporaries): the files whose [`ElfInfo`] the unpacker records.
pub fn is_library_name(name: &str) -> bool {
    (name.starts_with("lib") || name.starts_with("ld-"))
        && name.contains(".so")
        && !(name.ends_with(".#prelink#") || name.contains(".#prelink#."))
}

/// Reads what ldconfig's `process_elf_file` needs: class, machine (for the cache flag), and
/// `DT_SONAME` via the dynamic segment. `None` for non-ELF files and ELF files without one.
pub fn read_elf(b: &[u8]) -> Option<ElfInfo> {
    if b.len() < 52 || &b[..4] != b"\x7fELF" {
        return None;
    }
    let is64 = match b[4] {
        1 => false,
        2 => true,
        _ => return None,
    };
    let be = match b[5] {
        1 => false,
        2 => true,
        _ => return None,
    };
    let u16_at = |o: usize| -> Option<u64> {
        let s: [u8; 2] = b.get(o..o.checked_add(2)?)?.try_into().ok()?;
        Some(u64::from(if be {
            u16::from_be_bytes(s)
        } else {
            u16::from_le_bytes(s)
        }))
    };
    let u32_at = |o: usize| -> Option<u64> {
        let s: [u8; 4] = b.get(o..o.checked_add(4)?)?.try_into().ok()?;
        Some(u64::from(if be {
            u32::from_be_bytes(s)
        } else {
            u32::from_le_bytes(s)
        }))
    };
    let u64_at = |o: usize| -> Option<u64> {
        let s: [u8; 8] = b.get(o..o.checked_add(8)?)?.try_into().ok()?;
        Some(if be {
            u64::from_be_bytes(s)
        } else {
            u64::from_le_bytes(s)
        })
    };
    let word = |o: usize| if is64 { u64_at(o) } else { u32_at(o) };
    let machine = u16_at(18)?;
    let e_flags = u32_at(if is64 { 48 } else { 36 })?;
    let (phoff, phentsize, phnum) = if is64 {
        (u64_at(32)?, u16_at(54)?, u16_at(56)?)
    } else {
        (u32_at(28)?, u16_at(42)?, u16_at(44)?)
    };
    let flag = FLAG_ELF_LIBC6
        | match (machine, is64) {
            (62, true) => FLAG_X8664_LIB64,
            (62, false) => FLAG_X8664_LIBX32,
            (183, true) => FLAG_AARCH64_LIB64,
            (21, true) => FLAG_POWERPC_LIB64,
            (22, true) => FLAG_S390_LIB64,
            (43, true) => FLAG_SPARC_LIB64,
            (40, false) if e_flags & 0x400 != 0 => FLAG_ARM_LIBHF,
            (40, false) if e_flags & 0x200 != 0 => FLAG_ARM_LIBSF,
            (8, true) if e_flags & 0x400 != 0 => FLAG_MIPS64_LIBN64_NAN2008,
            (8, true) => FLAG_MIPS64_LIBN64,
            (8, false) if e_flags & 0x20 != 0 && e_flags & 0x400 != 0 => FLAG_MIPS64_LIBN32_NAN2008,
            (8, false) if e_flags & 0x20 != 0 => FLAG_MIPS64_LIBN32,
            (243, true) if e_flags & 0x6 == 0x4 => FLAG_RISCV_FLOAT_ABI_DOUBLE,
            (243, true) if e_flags & 0x6 == 0 => FLAG_RISCV_FLOAT_ABI_SOFT,
            _ => 0,
        };
    let (mut dyn_off, mut dyn_size, mut loadaddr) = (None, 0u64, None);
    let mut osversion = 0u32;
    for i in 0..phnum {
        let ph = usize::try_from(i.checked_mul(phentsize)?.checked_add(phoff)?).ok()?;
        let p_type = u32_at(ph)?;
        let (p_offset, p_vaddr, p_filesz) = if is64 {
            (u64_at(ph + 8)?, u64_at(ph + 16)?, u64_at(ph + 32)?)
        } else {
            (u32_at(ph + 4)?, u32_at(ph + 8)?, u32_at(ph + 16)?)
        };
        match p_type {
            1 if loadaddr.is_none() => loadaddr = Some(p_vaddr.wrapping_sub(p_offset)),
            2 => {
                dyn_off = Some(p_offset);
                dyn_size = p_filesz;
            }
            4 if osversion == 0 => {
                let p_align = if is64 { u64_at(ph + 48)? } else { u32_at(ph + 28)? };
                osversion = abi_tag(p_offset, p_filesz, p_align, &u32_at).unwrap_or(0);
            }
            _ => {}
        }
    }
    let dyn_off = dyn_off?;
    if dyn_size == 0 {
        return None;
    }
    let loadaddr = loadaddr.unwrap_or(0);
    let ent = if is64 { 16 } else { 8 };
    let (mut strtab, mut soname_off) = (None, None);
    let mut o = usize::try_from(dyn_off).ok()?;
    let end = o.checked_add(usize::try_from(dyn_size).ok()?)?;
    while o.checked_add(ent)? <= end {
        let tag = word(o)?;
        let val = word(o + ent / 2)?;
        match tag {
            0 => break,
            5 => strtab = Some(val),
            14 => soname_off = Some(val),
            _ => {}
        }
        o += ent;
    }
    let soname = match (strtab, soname_off) {
        (Some(st), Some(so)) => {
            let start = usize::try_from(st.wrapping_sub(loadaddr).wrapping_add(so)).ok()?;
            let rest = b.get(start..)?;
            let len = rest.iter().position(|c| *c == 0)?;
            Some(String::from_utf8_lossy(&rest[..len]).into_owned())
        }
        _ => None,
    };
    Some(ElfInfo {
        soname,
        flag,
        big_endian: be,
        osversion,
    })
}

/// glibc 2.31's `process_elf_file` for a `PT_NOTE` segment: the first `NT_GNU_ABI_TAG` note
/// (name `GNU`, 16 bytes of description: OS, then major, minor, subminor) as
/// `os << 24 | major << 16 | minor << 8 | subminor`; notes stepped over by their aligned sizes
/// (an alignment under 4 counts as 4, one other than 4 or 8 skips the segment).
fn abi_tag(offset: u64, filesz: u64, align: u64, u32_at: &dyn Fn(usize) -> Option<u64>) -> Option<u32> {
    if filesz < 32 {
        return None;
    }
    let align = match align {
        0..=3 => 4,
        4 | 8 => align,
        _ => return None,
    };
    let up = |x: u64| x.div_ceil(align) * align;
    let (mut at, mut size) = (usize::try_from(offset).ok()?, filesz);
    loop {
        let (namesz, descsz, kind) = (u32_at(at)?, u32_at(at + 4)?, u32_at(at + 8)?);
        // `memcmp (abi_note + 3, "GNU", 4)`: the name with its NUL, read as one word.
        let name = u32_at(at + 12)?;
        let gnu = u64::from(u32::from_le_bytes(*b"GNU\0"));
        let gnu_be = u64::from(u32::from_be_bytes(*b"GNU\0"));
        if namesz == 4 && descsz == 16 && kind == 1 && (name == gnu || name == gnu_be) {
            let word = |i: usize| u32_at(at + 16 + 4 * i).map(|w| w as u32);
            let (os, major, minor, sub) = (word(0)?, word(1)?, word(2)?, word(3)?);
            return Some(os << 24 | (major & 0xff) << 16 | (minor & 0xff) << 8 | (sub & 0xff));
        }
        let next = up(up(12 + namesz) + descsz);
        if size - 32 < next || next == 0 {
            return None;
        }
        size -= next;
        at = at.checked_add(usize::try_from(next).ok()?)?;
    }
}

/// stringtable.c: distinct strings, sorted so that a string that is a suffix of the previous
/// one shares its bytes; returns the table and each string's offset.
fn string_table(strings: &[&str]) -> (Vec<u8>, BTreeMap<String, u32>) {
    let mut uniq: Vec<&str> = strings.to_vec();
    uniq.sort_unstable();
    uniq.dedup();
    // finalize_compare: reversed strings in reverse lexicographic order, longer first on ties.
    uniq.sort_by(|l, r| {
        let (l, r) = (l.as_bytes(), r.as_bytes());
        for i in 1..=l.len().min(r.len()) {
            let (lc, rc) = (l[l.len() - i], r[r.len() - i]);
            if lc != rc {
                return rc.cmp(&lc);
            }
        }
        r.len().cmp(&l.len())
    });
    let mut offsets: BTreeMap<String, u32> = BTreeMap::new();
    let mut table: Vec<u8> = Vec::new();
    let mut prev: Option<(&str, u32)> = None;
    for s in uniq {
        let off = match prev {
            Some((p, poff)) if p.len() >= s.len() && p.ends_with(s) => poff + (p.len() - s.len()) as u32,
            _ => {
                let off = table.len() as u32;
                table.extend_from_slice(s.as_bytes());
                table.push(0);
                off
            }
        };
        // A merged string's "previous" for the next comparison is itself (glibc compares with
        // array[j-1], whatever offset that got).
        prev = Some((s, off));
        offsets.insert(s.to_owned(), off);
    }
    (table, offsets)
}

fn serialise(entries: &[CacheEntry], generator: &str, big_endian: bool) -> Vec<u8> {
    let w32 = |v: &mut Vec<u8>, x: u32| {
        v.extend_from_slice(&if big_endian {
            x.to_be_bytes()
        } else {
            x.to_le_bytes()
        })
    };
    let w64 = |v: &mut Vec<u8>, x: u64| {
        v.extend_from_slice(&if big_endian {
            x.to_be_bytes()
        } else {
            x.to_le_bytes()
        })
    };
    let mut all: Vec<&str> = Vec::new();
    for e in entries {
        all.push(&e.path);
        all.push(&e.lib);
    }
    let (strings, offsets) = string_table(&all);
    let header = 48usize;
    let str_offset = (header + entries.len() * 24) as u32;
    let ext_offset = (str_offset as usize + strings.len()).div_ceil(4) * 4;

    let mut v = Vec::new();
    v.extend_from_slice(CACHE_MAGIC);
    w32(&mut v, entries.len() as u32);
    w32(&mut v, strings.len() as u32);
    // cache_file_new_flags_endian_little (2) / _big (3).
    v.push(if big_endian { 3 } else { 2 });
    v.extend_from_slice(&[0, 0, 0]);
    w32(&mut v, ext_offset as u32);
    v.extend_from_slice(&[0; 12]);
    for e in entries {
        w32(&mut v, e.flags as u32);
        w32(&mut v, str_offset + offsets[&e.lib]);
        w32(&mut v, str_offset + offsets[&e.path]);
        w32(&mut v, 0);
        w64(&mut v, 0);
    }
    v.extend_from_slice(&strings);
    v.resize(ext_offset, 0);
    // One extension section: the generator string (tag 0), unterminated.
    w32(&mut v, EXTENSION_MAGIC);
    w32(&mut v, 1);
    w32(&mut v, 0);
    w32(&mut v, 0);
    w32(&mut v, (ext_offset + 8 + 16) as u32);
    w32(&mut v, generator.len() as u32);
    v.extend_from_slice(generator.as_bytes());
    v
}

#[cfg(test)]
mod tests;
