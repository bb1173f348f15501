//! A filesystem entry as it travels through the pipeline: read from a `.deb`'s data tar, placed in
//! the image tree by `assemble`, written into a layer by `oci`. One type, so no stage re-interprets
//! another's metadata.

/// One entry of an image filesystem. `path` is relative to the root, normalised: no leading `/` or
/// `./`, no `.` or `..` components, no trailing `/`, `/`-separated (`usr/bin/bash`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Entry {
    pub path: String,
    pub kind: EntryKind,
    /// Permission bits including setuid/setgid/sticky (`0o7777` mask).
    pub mode: u32,
    pub uid: u32,
    pub gid: u32,
    pub uname: String,
    pub gname: String,
    /// Seconds since the epoch, as packaged; writers clamp it to SOURCE_DATE_EPOCH.
    pub mtime: u64,
    /// Extended attributes, by name (`security.capability`, which `setcap` in a maintainer
    /// script gives a file); a layer carries them as PAX `SCHILY.xattr.` records. Packages
    /// themselves carry none (dpkg has no way to ship them).
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub xattrs: std::collections::BTreeMap<String, Vec<u8>>,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum EntryKind {
    Directory,
    File {
        size: u64,
    },
    /// Target as packaged (absolute targets are relative to the image root, never the host's).
    Symlink {
        target: String,
    },
    /// Target is another entry's normalised path in the same image.
    Hardlink {
        target: String,
    },
    Fifo,
    CharDevice {
        major: u32,
        minor: u32,
    },
    BlockDevice {
        major: u32,
        minor: u32,
    },
}

impl Entry {
    pub fn is_dir(&self) -> bool {
        matches!(self.kind, EntryKind::Directory)
    }

    /// A root-owned entry with the given kind and mode, for files debcast generates itself.
    pub fn generated(path: impl Into<String>, kind: EntryKind, mode: u32) -> Self {
        Entry {
            path: path.into(),
            kind,
            mode,
            uid: 0,
            gid: 0,
            uname: "root".into(),
            gname: "root".into(),
            mtime: 0,
            xattrs: Default::default(),
        }
    }
}

/// The longest path an entry may have, in bytes (Linux's `PATH_MAX`): nothing could create a
/// longer one on disk, and refusing it keeps what a path costs (its parents, each written out
/// in full in a layer) bounded.
pub const MAX_PATH: usize = 4096;
/// The longest one path component may be, in bytes (Linux's `NAME_MAX`).
pub const MAX_NAME: usize = 255;

/// Why a normalised path is too long for a filesystem, if it is.
pub fn check_path_length(path: &str) -> Result<(), String> {
    if path.len() > MAX_PATH {
        return Err(format!(
            "is {} bytes long; paths may have at most {MAX_PATH}",
            path.len()
        ));
    }
    if let Some(long) = path.split('/').find(|c| c.len() > MAX_NAME) {
        return Err(format!(
            "has a component of {} bytes ({}); names may have at most {MAX_NAME}",
            long.len(),
            crate::text::quoted(long)
        ));
    }
    Ok(())
}

/// Normalises a path from an archive into `Entry::path` form; `None` if it is absolute after
/// stripping a leading `./`, or climbs out of the root with `..`, or is empty (the root itself).
pub fn normalize_path(raw: &str) -> Option<String> {
    let trimmed = raw.strip_prefix("./").unwrap_or(raw);
    if trimmed.starts_with('/') {
        return None;
    }
    let mut parts: Vec<&str> = Vec::new();
    for comp in trimmed.split('/') {
        match comp {
            "" | "." => {}
            ".." => return None,
            c => parts.push(c),
        }
    }
    if parts.is_empty() {
        None
    } else {
        Some(parts.join("/"))
    }
}

#[cfg(test)]
mod tests {
    use super::normalize_path;

    #[test]
    fn normalizes_archive_paths() {
        assert_eq!(normalize_path("./usr/bin/").as_deref(), Some("usr/bin"));
        assert_eq!(
            normalize_path("usr//share/./doc").as_deref(),
            Some("usr/share/doc")
        );
        assert_eq!(normalize_path("./"), None);
        assert_eq!(normalize_path("/etc/passwd"), None);
        assert_eq!(normalize_path("./usr/../../etc"), None);
        assert_eq!(normalize_path("usr/a..b").as_deref(), Some("usr/a..b"));
    }
}
