//! Which small files the unpacker keeps a copy of, for the configure step (and the unpack
//! records of the build's machinery, which store them).

/// Files the configure step may read are kept in the record up to this size.
const KEEP_MAX: u64 = 256 << 10;

/// Where the configure step reads files (configuration, the sources of accounts, shells,
/// certificates, base-files, and the shell libraries maintainer scripts source).
const KEEP_UNDER: &[&str] = &[
    "etc/",
    "usr/share/base-files/",
    "usr/share/base-passwd/",
    "usr/share/ca-certificates/",
    "usr/local/share/ca-certificates/",
    "usr/share/debconf/",
    "usr/share/debianutils/",
    "usr/share/dpkg/",
    "usr/share/libc-bin/",
];

/// Whether the unpacker keeps a copy of this regular file's bytes for the configure step.
pub fn keeps(path: &str, size: u64) -> bool {
    size <= KEEP_MAX && KEEP_UNDER.iter().any(|dir| path.starts_with(dir))
}
