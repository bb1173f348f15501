//! `update-ccache-symlinks` (ccache's postinst, and its trigger on the GCC directories): a
//! `../../bin/ccache` link in `/usr/lib/ccache` for every compiler the image has — `cc`, `c++`,
//! `gcc`/`g++` with the `c89-`/`c99-` prefixes, each GCC target and version found under the GCC
//! library directories (`aarch64-linux-gnu-gcc-12`), the clang names and `nvcc` — and none for a
//! name `/usr/bin` no longer has. ccache 4.8's Perl script, computed from the image: the GCC
//! directories are the ones the image's own script lists (its build put the architecture's
//! multiarch directory among them); a script that does not list them as that version does is
//! not reproduced.

use std::collections::BTreeSet;

use super::{Changes, Overlay, TreeView, file_kind, glob_paths, is_symlink, read_file};

const SCRIPT: &str = "usr/sbin/update-ccache-symlinks";
/// The links' directory, as the tree names it (the script's `$ccache_dir`, `/usr/lib/ccache`).
const CCACHE_DIR: &str = "usr/lib/ccache";
const TARGET: &str = "../../bin/ccache";

/// `update-ccache-symlinks` takes no arguments (it reads none).
pub fn parse(args: &[String]) -> Result<(), String> {
    if args.is_empty() {
        Ok(())
    } else {
        Err("update-ccache-symlinks with arguments is not reproduced".into())
    }
}

/// The GCC directories of the image's script: the `my @gcc_dirs = ("…", …);` list.
fn gcc_dirs(script: &str) -> Option<Vec<String>> {
    let start = script.find("my @gcc_dirs = (")? + "my @gcc_dirs = (".len();
    let list = &script[start..start + script[start..].find(");")?];
    let dirs: Vec<String> = list
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| s.strip_prefix('"')?.strip_suffix('"').map(str::to_owned))
        .collect::<Option<_>>()?;
    (!dirs.is_empty()
        && dirs
            .iter()
            .all(|d| d.starts_with('/') && !d.contains(['*', '$', '@'])))
    .then_some(dirs)
}

/// What the script's rules are made of, checked in the image's copy: the lines that decide
/// which names it links and unlinks.
const RULES: &[&str] = &[
    "my @standard_names = qw(cc c++);",
    "my $clang_names = qr/^(llvm-)?clang(\\+\\+)?(-[0-9.]+)?$/;",
    "consider_gcc \"c89-\", \"\";",
    "consider_gcc \"c99-\", \"\";",
    "consider \"nvcc\";",
    "if (! -e \"/usr/bin/$_\") {",
    "symlink \"../../bin/ccache\", \"$ccache_dir/$_\";",
];

/// `-x /usr/bin/NAME` as root: an executable file or a directory (links followed).
fn executable(tree: &dyn TreeView, name: &str) -> bool {
    matches!(
        file_kind(tree, &format!("/usr/bin/{name}")),
        Some(super::shell::FileKind::File { executable: true, .. }) | Some(super::shell::FileKind::Dir)
    )
}

/// The names the script links: every candidate `/usr/bin` has as an executable.
fn wanted(tree: &dyn TreeView, dirs: &[String]) -> BTreeSet<String> {
    let mut names: Vec<String> = vec!["cc".into(), "c++".into()];
    let mut gcc = |prefix: &str, suffix: &str| {
        names.push(format!("{prefix}gcc{suffix}"));
        names.push(format!("{prefix}g++{suffix}"));
    };
    for prefix in ["", "c89-", "c99-"] {
        gcc(prefix, "");
    }
    for dir in dirs {
        for kind_path in glob_paths(tree, &format!("{dir}/*")) {
            let kind = super::base_name(&kind_path).to_owned();
            gcc(&format!("{kind}-"), "");
            for version_path in glob_paths(tree, &format!("{kind_path}/*")) {
                if !is_symlink(tree, &version_path) && super::is_dir(tree, &super::tree_path(&version_path)) {
                    let version = super::base_name(&version_path);
                    gcc("", &format!("-{version}"));
                    gcc(&format!("{kind}-"), &format!("-{version}"));
                }
            }
        }
    }
    for clang in glob_paths(tree, "/usr/bin/*clang*") {
        let name = super::base_name(&clang);
        if is_clang_name(name) {
            names.push(name.to_owned());
        }
    }
    names.push("nvcc".into());
    names.into_iter().filter(|n| executable(tree, n)).collect()
}

/// `^(llvm-)?clang(\+\+)?(-[0-9.]+)?$`.
fn is_clang_name(name: &str) -> bool {
    let rest = name.strip_prefix("llvm-").unwrap_or(name);
    let Some(rest) = rest.strip_prefix("clang") else {
        return false;
    };
    let rest = rest.strip_prefix("++").unwrap_or(rest);
    rest.is_empty()
        || rest
            .strip_prefix('-')
            .is_some_and(|v| !v.is_empty() && v.chars().all(|c| c.is_ascii_digit() || c == '.'))
}

/// Runs the image's `update-ccache-symlinks`: links removed for names `/usr/bin` lacks, links
/// added for compilers it has (where nothing is in their place: Perl's `symlink` fails quietly).
pub fn apply(overlay: &mut Overlay<'_>) -> Result<(), String> {
    let script = read_file(overlay, SCRIPT)
        .map_err(|e| e.to_string())?
        .ok_or("/usr/sbin/update-ccache-symlinks is not in the image")?;
    let script = String::from_utf8_lossy(&script);
    let dirs = gcc_dirs(&script)
        .filter(|_| RULES.iter().all(|r| script.contains(r)))
        .ok_or("this update-ccache-symlinks is not the version reproduced (ccache 4.8's)")?;
    let links: BTreeSet<String> = glob_paths(overlay, &format!("/{CCACHE_DIR}/*"))
        .into_iter()
        .filter(|p| is_symlink(overlay, p))
        .map(|p| super::base_name(&p).to_owned())
        .collect();
    let wanted = wanted(overlay, &dirs);
    let mut c = Changes::default();
    for name in &links {
        if file_kind(overlay, &format!("/usr/bin/{name}")).is_none() {
            c.removed.push(format!("{CCACHE_DIR}/{name}"));
        }
    }
    // The directory is ccache's; a file already there keeps its link out.
    let dir_there = super::is_dir(overlay, CCACHE_DIR);
    for name in wanted.difference(&links) {
        let path = format!("{CCACHE_DIR}/{name}");
        if dir_there && overlay.entry(&path).is_none() {
            c.symlink(&path, TARGET);
        }
    }
    overlay.apply(c);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::testutil::MemTree;
    use super::*;

    const PERL: &str = "my @gcc_dirs = (\n    \"/usr/lib/gcc\",\n    \"/usr/lib/gcc-cross\",\n    \"/usr/lib/x86_64-linux-gnu/gcc\",\n);\nmy @standard_names = qw(cc c++);\nmy $clang_names = qr/^(llvm-)?clang(\\+\\+)?(-[0-9.]+)?$/;\nconsider_gcc \"c89-\", \"\";\nconsider_gcc \"c99-\", \"\";\nconsider \"nvcc\";\nif (! -e \"/usr/bin/$_\") {\nsymlink \"../../bin/ccache\", \"$ccache_dir/$_\";\n";

    fn exe(t: &mut MemTree, path: &str) {
        t.file(path, b"\x7fELF");
        t.mode(path, 0o755);
    }

    /// crossbuild-essential-arm64 beside ccache: the cross compilers' four names (the reference
    /// install's links), none for what /usr/bin lacks; the native GCC's names and clang's when
    /// they are there; a stale link goes, a file in a link's place stays.
    #[test]
    fn links_follow_the_compilers_of_the_image() {
        let mut t = MemTree::new();
        t.dir("usr/lib/ccache")
            .dir("usr/lib/gcc-cross/aarch64-linux-gnu/12");
        t.symlink("usr/lib/gcc-cross/aarch64-linux-gnu/old", "12");
        t.file("usr/sbin/update-ccache-symlinks", PERL.as_bytes());
        for b in ["aarch64-linux-gnu-gcc-12", "aarch64-linux-gnu-g++-12"] {
            exe(&mut t, &format!("usr/bin/{b}"));
        }
        t.symlink("usr/bin/aarch64-linux-gnu-gcc", "aarch64-linux-gnu-gcc-12")
            .symlink("usr/bin/aarch64-linux-gnu-g++", "aarch64-linux-gnu-g++-12")
            .symlink("usr/lib/ccache/gone", TARGET);
        let mut o = Overlay::new(&t);
        apply(&mut o).unwrap();
        let mut links: Vec<String> = glob_paths(&o, "/usr/lib/ccache/*");
        links.sort();
        assert_eq!(
            links,
            [
                "/usr/lib/ccache/aarch64-linux-gnu-g++",
                "/usr/lib/ccache/aarch64-linux-gnu-g++-12",
                "/usr/lib/ccache/aarch64-linux-gnu-gcc",
                "/usr/lib/ccache/aarch64-linux-gnu-gcc-12",
            ]
        );
        for l in &links {
            let e = o.entry(&l[1..]).unwrap();
            assert!(matches!(&e.kind, crate::entry::EntryKind::Symlink { target } if target == TARGET));
        }

        let mut t = MemTree::new();
        t.dir("usr/lib/ccache").dir("usr/lib/gcc/x86_64-linux-gnu/12");
        t.file("usr/sbin/update-ccache-symlinks", PERL.as_bytes());
        for b in [
            "gcc-12",
            "g++-12",
            "x86_64-linux-gnu-gcc-12",
            "clang-14",
            "clang++-14",
            "clang-tidy",
            "cc",
        ] {
            exe(&mut t, &format!("usr/bin/{b}"));
        }
        t.file("usr/lib/ccache/cc", b"mine");
        let mut o = Overlay::new(&t);
        apply(&mut o).unwrap();
        let links: Vec<String> = glob_paths(&o, "/usr/lib/ccache/*");
        assert_eq!(
            links,
            [
                "/usr/lib/ccache/cc",
                "/usr/lib/ccache/clang++-14",
                "/usr/lib/ccache/clang-14",
                "/usr/lib/ccache/g++-12",
                "/usr/lib/ccache/gcc-12",
                "/usr/lib/ccache/x86_64-linux-gnu-gcc-12",
            ]
        );
        assert!(matches!(
            o.entry("usr/lib/ccache/cc").unwrap().kind,
            crate::entry::EntryKind::File { .. }
        ));
    }

    /// Another version of the script, or arguments, are not this call.
    #[test]
    fn another_script_is_not_reproduced() {
        let mut t = MemTree::new();
        t.dir("usr/lib/ccache");
        t.file("usr/sbin/update-ccache-symlinks", b"#!/usr/bin/perl\nprint 1;\n");
        let mut o = Overlay::new(&t);
        assert!(apply(&mut o).is_err());
        assert!(parse(&["-v".to_owned()]).is_err());
        assert_eq!(gcc_dirs(PERL).unwrap().len(), 3);
        assert!(is_clang_name("llvm-clang++-14.0") && is_clang_name("clang") && !is_clang_name("clang-tidy"));
    }
}
