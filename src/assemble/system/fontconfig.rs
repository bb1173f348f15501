//! What `fc-cache -s` (fontconfig's postinst and trigger) leaves in an image built with
//! SOURCE_DATE_EPOCH: the cache directory and its `CACHEDIR.TAG`, nothing else.
//!
//! fc-cache writes one cache per font directory, stamped with the directory's time — or, with
//! SOURCE_DATE_EPOCH set and older than the directory, with SOURCE_DATE_EPOCH (fontconfig 2.14's
//! `FcDirChecksum`). Its closing clean-up then loads every cache back and checks that stamp against
//! the directory's real time (`FcCacheTimeValid`, which does not apply SOURCE_DATE_EPOCH): a font
//! directory unpacked by the install is newer than any SOURCE_DATE_EPOCH of its lock, so every cache
//! is found invalid and removed ("invalid cache file" in `/var/log/fontconfig.log` of an mmdebstrap
//! install). What stays is the tag file the run writes into the system cache directory.

use super::{Changes, InstalledPackage, SystemError, TreeView};

/// fontconfig's cache directory tag (`FcCacheCreateTagFile`, fontconfig 2.14).
const CACHEDIR_TAG: &str = "Signature: 8a477f597d28d172789f06886806bc55\n\
# This file is a cache directory tag created by fontconfig.\n\
# For information about cache directory tags, see:\n\
#       http://www.brynosaurus.com/cachedir/\n";

const CACHE_DIR: &str = "var/cache/fontconfig";

/// The configuration line naming the system cache directory (Debian's `fonts.conf`).
const CACHE_DIR_LINE: &str = "<cachedir>/var/cache/fontconfig</cachedir>";

/// The system cache directory and its tag, where fontconfig is installed with `fc-cache` and a
/// configuration whose system cache directory is `/var/cache/fontconfig`.
pub fn compute(tree: &dyn TreeView, packages: &[InstalledPackage]) -> Result<Changes, SystemError> {
    let mut out = Changes::default();
    if super::installed(packages, "fontconfig").is_none() || !super::is_file(tree, "usr/bin/fc-cache") {
        return Ok(out);
    }
    let config = super::read_file(tree, "etc/fonts/fonts.conf")?.unwrap_or_default();
    if !String::from_utf8_lossy(&config).contains(CACHE_DIR_LINE) {
        return Ok(out);
    }
    if !super::is_dir(tree, CACHE_DIR) {
        out.dir(CACHE_DIR, 0o755);
    }
    out.file(
        &format!("{CACHE_DIR}/CACHEDIR.TAG"),
        0o644,
        CACHEDIR_TAG.as_bytes().to_vec(),
    );
    Ok(out)
}

/// Whether an `fc-cache` call is the system-only run [`compute`] stands for (`-s`, alone or
/// among other short options, or `--system-only`); another run also writes the caller's own
/// cache directory.
pub fn system_only(args: &[String]) -> bool {
    args.iter()
        .any(|a| a == "--system-only" || (a.starts_with('-') && !a.starts_with("--") && a[1..].contains('s')))
}

#[cfg(test)]
mod tests {
    use super::super::testutil::MemTree;
    use super::*;

    fn fontconfig() -> Vec<InstalledPackage> {
        vec![InstalledPackage {
            name: "fontconfig".into(),
            ..InstalledPackage::default()
        }]
    }

    fn tree(config: &str) -> MemTree {
        let mut t = MemTree::new();
        t.file("usr/bin/fc-cache", b"\x7fELF");
        t.file("etc/fonts/fonts.conf", config.as_bytes());
        t.dir("usr/share/fonts/truetype/dejavu");
        t
    }

    #[test]
    fn the_tag_is_all_that_stays() {
        let t = tree("<fontconfig>\n\t<cachedir>/var/cache/fontconfig</cachedir>\n</fontconfig>\n");
        let out = compute(&t, &fontconfig()).expect("compute");
        let paths: Vec<(&str, u32)> = out.files.iter().map(|(e, _)| (e.path.as_str(), e.mode)).collect();
        assert_eq!(
            paths,
            [
                ("var/cache/fontconfig", 0o755),
                ("var/cache/fontconfig/CACHEDIR.TAG", 0o644)
            ]
        );
        // fontconfig 2.14's tag: 200 bytes, as in the reference install.
        assert_eq!(out.files[1].1.len(), 200);
        assert!(
            out.files[1]
                .1
                .starts_with(b"Signature: 8a477f597d28d172789f06886806bc55\n")
        );
    }

    #[test]
    fn nothing_without_fontconfig_or_its_system_cache_directory() {
        let t = tree("<fontconfig>\n\t<cachedir>/var/cache/fontconfig</cachedir>\n</fontconfig>\n");
        assert!(compute(&t, &[]).expect("compute").files.is_empty());
        let other = tree("<fontconfig><cachedir>/opt/cache</cachedir></fontconfig>\n");
        assert!(compute(&other, &fontconfig()).expect("compute").files.is_empty());
    }

    #[test]
    fn only_system_runs_are_this_one() {
        let args = |a: &[&str]| a.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert!(system_only(&args(&["-s", "-f", "-v"])));
        assert!(system_only(&args(&["-sfv"])));
        assert!(system_only(&args(&["--system-only"])));
        assert!(!system_only(&args(&["-f", "-v"])));
        assert!(!system_only(&args(&["--force"])));
    }
}
