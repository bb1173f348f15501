use super::super::testutil::{MemTree, have, host_tool};
use super::*;
use std::cmp::Ordering;

/// `include` patterns with bracket expressions select as glob(3) does.
#[test]
fn include_globs_honour_bracket_expressions() {
    let mut tree = MemTree::new();
    for f in ["a.conf", "b.conf", "1.conf", "x.conf.bak"] {
        tree.file(&format!("etc/ld.so.conf.d/{f}"), b"");
    }
    assert_eq!(
        glob(&tree, "/etc/ld.so.conf.d/[a-z].conf"),
        ["/etc/ld.so.conf.d/a.conf", "/etc/ld.so.conf.d/b.conf"]
    );
    assert_eq!(
        glob(&tree, "/etc/ld.so.conf.d/[!a-z].conf"),
        ["/etc/ld.so.conf.d/1.conf"]
    );
}

#[test]
fn libcmp_orders_versions_numerically() {
    assert_eq!(libcmp("libz.so.1.2.13", "libz.so.1.2.9"), Ordering::Greater);
    assert_eq!(libcmp("libz.so.1", "libz.so"), Ordering::Greater);
    assert_eq!(libcmp("liba.so", "libb.so"), Ordering::Less);
    assert_eq!(libcmp("libc.so.6", "libc.so.6"), Ordering::Equal);
    assert_eq!(libcmp("lib2", "libx"), Ordering::Greater);
}

/// Hostile headers: program-header offsets and dynamic-segment offsets near the top of the
/// address space are "not a library", not an arithmetic overflow (a panic in debug builds).
#[test]
fn hostile_offsets_are_not_libraries() {
    let mut elf = vec![0u8; 64];
    elf[..4].copy_from_slice(b"\x7fELF");
    elf[4] = 2; // 64-bit
    elf[5] = 1; // little-endian
    elf[18] = 62; // x86-64
    elf[32..40].copy_from_slice(&u64::MAX.to_le_bytes()); // e_phoff
    elf[54] = 56; // e_phentsize
    elf[56] = 2; // e_phnum
    assert_eq!(read_elf(&elf), None);
    // One PT_DYNAMIC whose offset is the largest usize and size 1.
    let mut elf = elf.clone();
    elf[32..40].copy_from_slice(&64u64.to_le_bytes());
    elf[56] = 1;
    let mut ph = vec![0u8; 56];
    ph[0] = 2; // PT_DYNAMIC
    ph[8..16].copy_from_slice(&(usize::MAX as u64).to_le_bytes()); // p_offset
    ph[32..40].copy_from_slice(&0u64.to_le_bytes()); // p_filesz
    ph[32] = 1;
    elf.extend(ph);
    assert_eq!(read_elf(&elf), None);
}

#[test]
fn generator_string() {
    assert_eq!(
        generator("2.36-9+deb12u4"),
        "ldconfig (Debian GLIBC 2.36-9+deb12u4) stable release version 2.36"
    );
}

/// Debian glibc 2.31's layout (as bullseye's ld.so.cache has it) for real host libraries:
/// the new header with the endianness flag and no extension, libc's ABI tag (Linux 3.2.0),
/// each entry's name then path in entry order; the host's ldconfig reads it back as the same
/// libraries in the same order.
#[test]
fn compat_cache_as_glibc_2_31_lays_it_out() {
    let host = "/usr/lib/x86_64-linux-gnu";
    let libs = ["libc.so.6", "libm.so.6", "libz.so.1"];
    if !libs
        .iter()
        .all(|l| std::path::Path::new(&format!("{host}/{l}")).exists())
    {
        eprintln!("note: no host x86-64 libraries, skipping");
        return;
    }
    let mut t = MemTree::new();
    t.dir("usr/lib/x86_64-linux-gnu")
        .dir("lib/x86_64-linux-gnu")
        .file(
            "etc/ld.so.conf",
            b"/lib/x86_64-linux-gnu\n/usr/lib/x86_64-linux-gnu\n",
        );
    for l in libs {
        t.file(
            &format!("lib/x86_64-linux-gnu/{l}"),
            &std::fs::read(format!("{host}/{l}")).unwrap(),
        );
    }
    let c = build_compat_cache(&t).unwrap();
    let u32_at = |o: usize| u32::from_le_bytes(c[o..o + 4].try_into().unwrap());
    assert_eq!(&c[..20], b"glibc-ld.so.cache1.1");
    assert_eq!(u32_at(20), 3);
    assert_eq!(c[28], 2, "little-endian flag");
    assert_eq!(u32_at(32), 0, "no extension section");
    let strings_len = u32_at(24) as usize;
    assert_eq!(c.len(), 48 + 3 * 24 + strings_len);
    let mut expected_key = 48 + 3 * 24;
    for i in 0..3 {
        let ent = 48 + 24 * i;
        let (key, value) = (u32_at(ent + 4) as usize, u32_at(ent + 8) as usize);
        assert_eq!(key, expected_key, "names follow each other unshared");
        let name: Vec<u8> = c[key..].iter().take_while(|b| **b != 0).copied().collect();
        let name = String::from_utf8(name).unwrap();
        assert_eq!(value, key + name.len() + 1, "the path right after the name");
        let path_len = c[value..].iter().position(|b| *b == 0).unwrap();
        expected_key = value + path_len + 1;
        if name == "libc.so.6" {
            assert_eq!(u32_at(ent + 12), 0x0003_0200, "Linux 3.2.0");
        }
    }
    if have("ldconfig") {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("ld.so.cache");
        std::fs::write(&file, &c).unwrap();
        let listed = std::process::Command::new(host_tool("ldconfig").unwrap())
            .arg("-C")
            .arg(&file)
            .arg("-p")
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&listed.stdout);
        let names: Vec<&str> = text
            .lines()
            .skip(1)
            .filter_map(|l| l.split_whitespace().next())
            .collect();
        assert_eq!(names, ["libz.so.1", "libm.so.6", "libc.so.6"], "{text}");
    }
}

/// A tree with real host libraries (merged /usr, Debian's ld.so.conf layout) is cached
/// byte-identically to what the host's ldconfig writes for it.
#[test]
fn matches_real_ldconfig() {
    let host = "/usr/lib/x86_64-linux-gnu";
    let libs = [
        "libz.so.1.2.13",
        "libc.so.6",
        "libm.so.6",
        "ld-linux-x86-64.so.2",
        "libpthread.so.0",
        "libdl.so.2",
        "libselinux.so.1",
        "libpcre2-8.so.0.11.2",
        "libcrypto.so.3",
        "libssl.so.3",
    ];
    if !std::path::Path::new(&format!("{host}/libc.so.6")).exists() || !have("ldconfig") {
        eprintln!("note: no host x86-64 libraries or ldconfig, skipping");
        return;
    }
    let is_root = std::process::Command::new("id")
        .arg("-u")
        .output()
        .map(|o| o.stdout == b"0\n")
        .unwrap_or(false);
    if !is_root {
        eprintln!("note: ldconfig -r needs root, skipping");
        return;
    }
    let mut t = MemTree::new();
    t.symlink("lib", "usr/lib")
        .symlink("lib64", "usr/lib64")
        .dir("usr/lib64")
        .dir("usr/local/lib");
    for l in libs {
        if let Ok(bytes) = std::fs::read(format!("{host}/{l}")) {
            t.file(&format!("usr/lib/x86_64-linux-gnu/{l}"), &bytes);
        }
    }
    t.symlink("usr/lib/x86_64-linux-gnu/libz.so.1", "libz.so.1.2.13")
        .symlink("usr/lib/x86_64-linux-gnu/libz.so", "/lib/x86_64-linux-gnu/libz.so.1.2.13")
        .symlink("usr/lib/x86_64-linux-gnu/libpcre2-8.so.0", "libpcre2-8.so.0.11.2")
        .symlink("usr/lib/x86_64-linux-gnu/libdangling.so.1", "nowhere.so.1")
        .symlink("usr/lib64/ld-linux-x86-64.so.2", "../lib/x86_64-linux-gnu/ld-linux-x86-64.so.2")
        // A linker script named like a library, and a library with an unrelated link name.
        .file("usr/lib/x86_64-linux-gnu/libc.so", b"/* GNU ld script */\nGROUP ( libc.so.6 )\n")
        .symlink("usr/lib/x86_64-linux-gnu/libzz-compat.so.1", "libz.so.1.2.13")
        .file("etc/ld.so.conf", b"include /etc/ld.so.conf.d/*.conf\n\n")
        .file("etc/ld.so.conf.d/libc.conf", b"# libc default configuration\n/usr/local/lib\n")
        .file(
            "etc/ld.so.conf.d/x86_64-linux-gnu.conf",
            b"# Multiarch support\n/usr/local/lib/x86_64-linux-gnu\n/lib/x86_64-linux-gnu\n/usr/lib/x86_64-linux-gnu\n",
        );
    let version = std::process::Command::new("dpkg-query")
        .args(["-W", "-f", "${Version}", "libc-bin"])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
        .unwrap_or_default();
    let first = std::process::Command::new(host_tool("ldconfig").unwrap())
        .arg("--version")
        .output()
        .unwrap();
    let expected_gen = String::from_utf8_lossy(&first.stdout)
        .lines()
        .next()
        .unwrap_or("")
        .to_owned();
    let gen_str = generator(&version);
    if !expected_gen.contains(&version) || version.is_empty() {
        eprintln!("note: cannot tell the host ldconfig's version ({expected_gen}), skipping");
        return;
    }
    let ours = build_cache(&t, &gen_str).unwrap();
    let dir = tempfile::tempdir().unwrap();
    t.materialise(dir.path());
    let o = std::process::Command::new(host_tool("ldconfig").unwrap())
        .arg("-X")
        .arg("-r")
        .arg(dir.path())
        .args(["-C", "/etc/ld.so.cache.real"])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let real = std::fs::read(dir.path().join("etc/ld.so.cache.real")).unwrap();
    if ours != real {
        std::fs::write("/tmp/ldcache.ours", &ours).ok();
        std::fs::write("/tmp/ldcache.real", &real).ok();
    }
    assert!(
        ours == real,
        "cache differs (written to /tmp/ldcache.{{ours,real}})"
    );
    let nlibs = u32::from_le_bytes([real[20], real[21], real[22], real[23]]);
    assert!(
        nlibs >= 10,
        "only {nlibs} libraries cached: the comparison proves little"
    );
}
