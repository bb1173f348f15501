//! Turns an I/O failure deep in a build (a full disk, an immutable or read-only output, a kernel
//! file system given as `--output`) into one line that names the place by the option or variable
//! that chose it and says what to do, instead of the bare `PATH: os error`.

use std::io;
use std::path::{Path, PathBuf};

use crate::assemble::AssembleError;
use crate::build::BuildError;
use crate::oci::OciError;
use crate::store::StoreError;

/// Where a command writes, each with how the user chose it.
#[derive(Debug, Default)]
pub(crate) struct Places {
    /// `--output PATH`.
    pub output: Option<PathBuf>,
    /// `--cache-dir DIR`.
    pub store: Option<PathBuf>,
}

/// One place: the directory it covers, how to name it, and how to move it elsewhere.
struct Place {
    dir: PathBuf,
    name: String,
    elsewhere: &'static str,
}

impl Places {
    fn list(&self) -> Vec<Place> {
        let mut out = Vec::new();
        if let Some(output) = &self.output {
            // The output, the temporary directory beside it, and its parent.
            let parent = match output.parent() {
                Some(p) if !p.as_os_str().is_empty() => p.to_owned(),
                _ => PathBuf::from("."),
            };
            out.push(Place {
                dir: absolute(&parent),
                name: format!("--output {}", output.display()),
                elsewhere: "choose another --output",
            });
        }
        if let Some(store) = &self.store {
            out.push(Place {
                dir: absolute(store),
                name: format!(
                    "the package store {} (--cache-dir, DEBCAST_CACHE_DIR; layers are cached under it)",
                    store.display()
                ),
                elsewhere: "point --cache-dir elsewhere (or build with --no-layer-cache)",
            });
        }
        out.push(Place {
            dir: absolute(&std::env::temp_dir()),
            name: format!(
                "the temporary directory {} (TMPDIR)",
                std::env::temp_dir().display()
            ),
            elsewhere: "point TMPDIR at another file system",
        });
        out
    }
}

fn absolute(p: &Path) -> PathBuf {
    std::fs::canonicalize(p)
        .or_else(|_| std::path::absolute(p))
        .unwrap_or_else(|_| p.to_owned())
}

/// The path an error of the chain names, and the I/O error under it.
fn io_cause(err: &anyhow::Error) -> Option<(Option<PathBuf>, &io::Error)> {
    let mut path = None;
    let mut io_err = None;
    for cause in err.chain() {
        // Store errors a build error holds without making them its source.
        if let Some(
            BuildError::Cache(StoreError::Io { path: p, source })
            | BuildError::Store {
                source: StoreError::Io { path: p, source },
                ..
            },
        ) = cause.downcast_ref::<BuildError>()
        {
            return Some((Some(p.clone()), source));
        }
        // A package's `.deb` the decoder could not read from the store.
        if let Some(AssembleError::Store {
            source: StoreError::Io { path: p, source },
            ..
        }) = cause.downcast_ref::<AssembleError>()
        {
            return Some((Some(p.clone()), source));
        }
        if path.is_none() {
            path = match cause.downcast_ref::<OciError>() {
                Some(OciError::Io { path, .. } | OciError::Output { path, .. }) => Some(path.clone()),
                _ => match cause.downcast_ref::<StoreError>() {
                    Some(StoreError::Io { path, .. }) => Some(path.clone()),
                    _ => None,
                },
            };
        }
        if let Some(e) = cause.downcast_ref::<io::Error>() {
            io_err = Some(e);
        }
    }
    io_err.map(|e| (path, e))
}

/// A kernel pseudo file system no image can be written to (`/proc`, `/sys`).
fn pseudo_fs(path: &Path) -> Option<&'static str> {
    let path = absolute(path);
    [("/proc", "procfs"), ("/sys", "sysfs")]
        .into_iter()
        .find(|(root, _)| path.starts_with(root))
        .map(|(_, name)| name)
}

/// EACCES or EPERM: an error that carries only its kind.
const PERMISSION: i32 = -1;

/// One line for `err` if it is an I/O failure under one of `places`, else `None`.
pub(crate) fn explain(err: &anyhow::Error, places: &Places) -> Option<String> {
    let (path, io_err) = io_cause(err)?;
    // `--output` under a kernel file system, whatever the errno.
    if let Some(output) = &places.output
        && let Some(fs) = pseudo_fs(output)
    {
        return Some(format!(
            "--output {}: that is under a kernel pseudo file system ({fs}), where no image can be written: choose a directory on a disk",
            output.display()
        ));
    }
    let all = places.list();
    let place = path.as_ref().and_then(|p| {
        let p = absolute(p);
        // The most specific place holding the path.
        all.iter()
            .filter(|pl| p.starts_with(&pl.dir))
            .max_by_key(|pl| pl.dir.as_os_str().len())
    });
    let shown = path
        .as_ref()
        .map_or_else(|| "a file".to_owned(), |p| p.display().to_string());
    // The errno, or (for errors wrapped without one, as tempfile's) what the kind implies.
    let raw = io_err.raw_os_error().or(match io_err.kind() {
        io::ErrorKind::StorageFull | io::ErrorKind::QuotaExceeded => Some(libc::ENOSPC),
        io::ErrorKind::ReadOnlyFilesystem => Some(libc::EROFS),
        io::ErrorKind::PermissionDenied => Some(PERMISSION),
        _ => None,
    });
    let line = match (place, raw) {
        (Some(pl), Some(libc::ENOSPC | libc::EDQUOT)) => format!(
            "{}: no space left on the device of {} (writing {shown}): free space there, or {}",
            pl.name,
            pl.dir.display(),
            pl.elsewhere
        ),
        (None, Some(libc::ENOSPC | libc::EDQUOT)) => format!(
            "no space left on a device (writing {shown}): free space there, or {}",
            all.iter()
                .map(|pl| format!("{} for {}", pl.elsewhere, pl.name))
                .collect::<Vec<_>>()
                .join("; ")
        ),
        (Some(pl), Some(libc::EPERM)) => format!(
            "{}: not permitted to change {shown}: if it is immutable or append-only (`lsattr -d {shown}` shows `i` or `a`), run `chattr -i -a {shown}` as root, or {}",
            pl.name, pl.elsewhere
        ),
        (Some(pl), Some(libc::EACCES)) => format!(
            "{}: {shown} is not writable by this user (permission denied): change its owner or mode, or {}",
            pl.name, pl.elsewhere
        ),
        (Some(pl), Some(PERMISSION)) => format!(
            "{}: {shown} cannot be written (permission denied): change its owner or mode, or if it is immutable (`lsattr -d {shown}`) run `chattr -i -a {shown}` as root, or {}",
            pl.name, pl.elsewhere
        ),
        (Some(pl), Some(libc::EROFS)) => format!(
            "{}: {shown} is on a read-only file system: {}",
            pl.name, pl.elsewhere
        ),
        _ => return None,
    };
    Some(line)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn oci_io(path: &Path, errno: i32) -> anyhow::Error {
        anyhow::Error::new(OciError::Io {
            path: path.to_owned(),
            source: io::Error::from_raw_os_error(errno),
        })
        .context("building image.toml")
    }

    #[test]
    fn names_the_option_and_what_to_do() {
        let dir = tempfile::tempdir().unwrap();
        let output = dir.path().join("out");
        let store = dir.path().join("store");
        let places = Places {
            output: Some(output.clone()),
            store: Some(store.clone()),
        };
        let line = explain(&oci_io(&output, libc::EPERM), &places).unwrap();
        assert!(
            line.starts_with("--output ") && line.contains("chattr -i"),
            "{line}"
        );
        let line = explain(&oci_io(&store.join("layers/x"), libc::ENOSPC), &places).unwrap();
        assert!(
            line.contains("package store") && line.contains("no space left"),
            "{line}"
        );
        let line = explain(&oci_io(&std::env::temp_dir().join("x"), libc::ENOSPC), &places);
        // The temp dir may hold the output here (tests run in it): either place is named.
        assert!(line.is_some_and(|l| l.contains("no space left")));
        assert!(explain(&oci_io(&output, libc::EIO), &places).is_none());
        let line = explain(
            &oci_io(Path::new("/proc"), libc::ENOENT),
            &Places {
                output: Some(PathBuf::from("/proc/img")),
                store: None,
            },
        )
        .unwrap();
        assert!(
            line.contains("--output /proc/img") && line.contains("procfs"),
            "{line}"
        );
    }
}
