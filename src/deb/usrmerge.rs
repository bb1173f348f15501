//! Merged /usr: `/bin`, `/sbin` and `/lib*` are symbolic links into `/usr`, and whatever a package
//! ships under them lands at its `/usr` location, as it does when dpkg unpacks through those links.

/// Top-level directories that merged-/usr systems turn into links (Debian's usrmerge list).
pub const MERGED_DIRS: &[&str] = &["bin", "sbin", "lib", "lib32", "lib64", "libx32", "libo32"];

/// The path an entry lands at on a merged-/usr system: `bin/x` -> `usr/bin/x`. A top-level merged
/// directory itself maps to its `/usr` twin (`bin` -> `usr/bin`).
pub fn map_path(path: &str) -> std::borrow::Cow<'_, str> {
    let top = path.split('/').next().unwrap_or(path);
    if MERGED_DIRS.contains(&top) {
        std::borrow::Cow::Owned(format!("usr/{path}"))
    } else {
        std::borrow::Cow::Borrowed(path)
    }
}

/// The links to create: one per merged directory whose `/usr` twin exists in the image. `/bin`,
/// `/sbin` and `/lib` always exist on Debian; the multilib ones only where something uses them.
pub fn links<'a>(usr_dir_exists: impl Fn(&str) -> bool + 'a) -> Vec<(&'static str, String)> {
    MERGED_DIRS
        .iter()
        .filter(|d| matches!(**d, "bin" | "sbin" | "lib") || usr_dir_exists(&format!("usr/{d}")))
        .map(|d| (*d, format!("usr/{d}")))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maps_merged_directories_only() {
        assert_eq!(map_path("bin/sh"), "usr/bin/sh");
        assert_eq!(
            map_path("lib64/ld-linux-x86-64.so.2"),
            "usr/lib64/ld-linux-x86-64.so.2"
        );
        assert_eq!(map_path("lib"), "usr/lib");
        assert_eq!(map_path("library/x"), "library/x");
        assert_eq!(map_path("usr/bin/sh"), "usr/bin/sh");
        assert_eq!(map_path("etc/bin/x"), "etc/bin/x");
    }

    #[test]
    fn links_multilib_dirs_only_when_used() {
        let l = links(|p| p == "usr/lib64");
        let names: Vec<_> = l.iter().map(|(d, _)| *d).collect();
        assert_eq!(names, ["bin", "sbin", "lib", "lib64"]);
    }
}
