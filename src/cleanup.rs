//! Temporary files and directories this process owns: what an interrupted process removes, and
//! how the next run tells a dead process's leftovers from a live one's.
//!
//! Every temporary path debcast creates beside an output or in the store (`.NAME.tmp-*`,
//! `tmp/incoming-*`, `layers/blobs/sha256/.layer-*`, …) is
//!
//! - named with the creator's process id: `<prefix><pid>-<random>` (see [`prefix`]);
//! - locked (`flock`, exclusive) by the creator for as long as it lives: the lock goes with the
//!   process, however it ends;
//! - registered here until it is committed (renamed into place) or dropped, so that on SIGINT or
//!   SIGTERM the handler installed by [`install_signal_handler`] removes it before exiting.
//!
//! A leftover is *dead*, and [`reclaim`] removes it, only when the process its name carries is not
//! running here **and** its lock can be taken (the second catches a live creator in another pid
//! namespace sharing the store). A name without a pid (written by an older debcast) is never taken
//! for dead by [`reclaim`]; `debcast store gc` removes those once they are a day old.

use std::collections::BTreeMap;
use std::fs::{self, File};
use std::io;
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, SystemTime};

static REGISTRY: Mutex<BTreeMap<u64, PathBuf>> = Mutex::new(BTreeMap::new());
static NEXT_ID: AtomicU64 = AtomicU64::new(0);

fn registry() -> MutexGuard<'static, BTreeMap<u64, PathBuf>> {
    REGISTRY.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// `<base><pid>-`: the prefix of a temporary name this process creates.
pub fn prefix(base: &str) -> String {
    format!("{base}{}-", std::process::id())
}

/// A temporary path this process owns: registered for removal on interruption and locked while
/// the process lives. Dropping it (after the path was renamed into place or removed) unregisters
/// it and releases the lock.
#[derive(Debug)]
pub struct Owned {
    id: u64,
    _lock: Option<File>,
}

impl Owned {
    /// Takes ownership of `path` (a file or directory this process just created).
    pub fn new(path: &Path) -> Self {
        Self::register(&mut registry(), path)
    }

    fn register(registry: &mut BTreeMap<u64, PathBuf>, path: &Path) -> Self {
        let lock = File::open(path).ok().filter(try_lock);
        if lock.is_none() {
            // Still registered, and its name carries our pid: only the lock across pid
            // namespaces is lost.
            tracing::debug!("could not lock {}", path.display());
        }
        let id = NEXT_ID.fetch_add(1, Ordering::Relaxed);
        registry.insert(id, path.to_owned());
        Owned { id, _lock: lock }
    }
}

/// A temporary file `<dir>/<base><pid>-<random>`, created and registered as one step: the
/// signal handler, which holds the registry once it runs, either finds it registered or stops
/// the process before it exists (a file created between the two would be left behind).
pub fn temp_file(dir: &Path, base: &str) -> io::Result<(tempfile::NamedTempFile, Owned)> {
    let mut registry = registry();
    let file = tempfile::Builder::new().prefix(&prefix(base)).tempfile_in(dir)?;
    let owned = Owned::register(&mut registry, file.path());
    Ok((file, owned))
}

/// [`temp_file`] for a temporary directory.
pub fn temp_dir(dir: &Path, base: &str) -> io::Result<(tempfile::TempDir, Owned)> {
    let mut registry = registry();
    let made = tempfile::Builder::new().prefix(&prefix(base)).tempdir_in(dir)?;
    let owned = Owned::register(&mut registry, made.path());
    Ok((made, owned))
}

impl Drop for Owned {
    fn drop(&mut self) {
        registry().remove(&self.id);
    }
}

fn try_lock(file: &File) -> bool {
    // SAFETY: flock on a file descriptor we own; no memory is shared.
    unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) == 0 }
}

fn remove_path(path: &Path) -> io::Result<()> {
    match fs::symlink_metadata(path) {
        Ok(m) if m.is_dir() => fs::remove_dir_all(path),
        Ok(_) => fs::remove_file(path),
        Err(e) => Err(e),
    }
}

/// Removes every registered path that still exists; returns how many were removed. The registry
/// stays locked in the calling thread, so nothing can be committed or registered afterwards: call
/// it only right before the process exits.
fn remove_all_registered() -> usize {
    let guard = registry();
    let removed = guard.values().filter(|p| remove_while_written(p).is_ok()).count();
    std::mem::forget(guard);
    removed
}

/// Removes a registered path that other threads may still be writing into (a build's workers
/// keep renaming finished blobs into its temporary output directory until the process exits). A
/// directory is first renamed out of their way, keeping its prefix and pid (a leftover is still
/// reclaimed as dead): paths they resolve from then on do not exist, so only an operation already
/// under way can land in it, and a second pass removes that.
fn remove_while_written(path: &Path) -> io::Result<()> {
    let is_dir = fs::symlink_metadata(path)?.is_dir();
    if !is_dir {
        return fs::remove_file(path);
    }
    let mut moved = path.as_os_str().to_owned();
    moved.push(".removing");
    let target = match fs::rename(path, &moved) {
        Ok(()) => PathBuf::from(moved),
        Err(_) => path.to_owned(),
    };
    let mut result = fs::remove_dir_all(&target);
    for _ in 0..20 {
        if result.is_ok() || !target.exists() {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(5));
        result = fs::remove_dir_all(&target);
    }
    result
}

/// Runs `f` (renames that must not be cut in two) with the signal handler held off: it waits
/// for `f` to finish before it removes anything. `f` must not create or drop an [`Owned`].
pub fn critical<R>(f: impl FnOnce() -> R) -> R {
    let _held_off = registry();
    f()
}

/// Installs the SIGINT/SIGTERM handler: a thread that, on either signal, removes what this
/// process registered, prints one line and exits with 128 + the signal's number (130, 143).
pub fn install_signal_handler() -> io::Result<()> {
    use signal_hook::consts::{SIGINT, SIGTERM};
    let mut signals = signal_hook::iterator::Signals::new([SIGINT, SIGTERM])?;
    std::thread::Builder::new()
        .name("signals".into())
        .spawn(move || {
            if let Some(signal) = signals.forever().next() {
                let removed = remove_all_registered();
                // On a terminal, a progress bar may be mid-line.
                let newline = if io::IsTerminal::is_terminal(&io::stderr()) {
                    "\n"
                } else {
                    ""
                };
                eprintln!(
                    "{newline}interrupted: removed {removed} temporary file{}",
                    if removed == 1 { "" } else { "s" }
                );
                std::process::exit(128 + signal);
            }
        })?;
    Ok(())
}

/// Whether a process of this id runs here (it may be a later process that reused the id: then a
/// leftover is kept longer than it need be, never removed too early).
fn process_alive(pid: u32) -> bool {
    let Ok(pid) = libc::pid_t::try_from(pid) else {
        return false;
    };
    if pid <= 0 {
        return true;
    }
    // SAFETY: signal 0 only checks that the process exists.
    let r = unsafe { libc::kill(pid, 0) };
    r == 0 || io::Error::last_os_error().raw_os_error() != Some(libc::ESRCH)
}

/// The pid in a temporary name `<prefix><pid>-<random>`, if it has one.
fn owner_pid(name: &str, prefix: &str) -> Option<u32> {
    let rest = name.strip_prefix(prefix)?;
    let (pid, random) = rest.split_once('-')?;
    if random.is_empty() {
        return None;
    }
    pid.parse().ok()
}

/// Whether the leftover `path` (named by a process `pid`) is dead: that process is gone and
/// nobody holds its lock. The lock taken to find out is held by the returned file until the
/// path is removed.
fn dead(path: &Path, pid: u32) -> Option<File> {
    if pid == std::process::id() || process_alive(pid) {
        return None;
    }
    let file = File::open(path).ok()?;
    try_lock(&file).then_some(file)
}

/// What [`reclaim`] and [`reclaim_unowned`] removed.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Reclaimed {
    pub paths: Vec<PathBuf>,
}

/// Removes the entries of `dir` named `<prefix><pid>-*` whose creating process is dead (see the
/// module docs). Entries of live processes, and names without a pid, are left alone.
pub fn reclaim(dir: &Path, prefixes: &[&str]) -> Reclaimed {
    let mut out = Reclaimed::default();
    let Ok(entries) = fs::read_dir(dir) else {
        return out;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        let Some(pid) = prefixes.iter().find_map(|p| owner_pid(name, p)) else {
            continue;
        };
        let path = entry.path();
        if let Some(_lock) = dead(&path, pid)
            && remove_path(&path).is_ok()
        {
            out.paths.push(path);
        }
    }
    out
}

/// Like [`reclaim`], and also removes entries named `<prefix>*` without a pid (older debcast
/// versions) whose last change is older than `min_age` and whose lock can be taken.
pub fn reclaim_unowned(dir: &Path, prefixes: &[&str], min_age: Duration) -> Reclaimed {
    let mut out = reclaim(dir, prefixes);
    let Ok(entries) = fs::read_dir(dir) else {
        return out;
    };
    let now = SystemTime::now();
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        if !prefixes.iter().any(|p| name.starts_with(p))
            || prefixes.iter().any(|p| owner_pid(name, p).is_some())
        {
            continue;
        }
        let path = entry.path();
        let old = fs::symlink_metadata(&path)
            .and_then(|m| m.modified())
            .is_ok_and(|t| now.duration_since(t).is_ok_and(|age| age >= min_age));
        if !old {
            continue;
        }
        if let Ok(file) = File::open(&path)
            && try_lock(&file)
            && remove_path(&path).is_ok()
        {
            out.paths.push(path);
        }
    }
    out
}

/// The prefixes of the temporary names beside an output `dest` (`.NAME.tmp-`, `.NAME.old-`).
pub fn output_prefixes(dest: &Path) -> Option<(PathBuf, [String; 2])> {
    let name = dest.file_name()?.to_string_lossy().into_owned();
    let parent = match dest.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_owned(),
        _ => PathBuf::from("."),
    };
    Some((parent, [format!(".{name}.tmp-"), format!(".{name}.old-")]))
}

/// Removes dead leftovers beside the output `dest` (see [`reclaim`]).
pub fn reclaim_beside(dest: &Path) -> Reclaimed {
    match output_prefixes(dest) {
        Some((parent, [tmp, old])) => reclaim(&parent, &[&tmp, &old]),
        None => Reclaimed::default(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_owner_pids() {
        assert_eq!(owner_pid(".out.tmp-123-abc", ".out.tmp-"), Some(123));
        assert_eq!(owner_pid(".out.tmp-abc", ".out.tmp-"), None);
        assert_eq!(owner_pid(".out.tmp-123-", ".out.tmp-"), None);
        assert_eq!(owner_pid(".other.tmp-1-a", ".out.tmp-"), None);
    }

    /// A pid no process has: a child that has exited and been waited for.
    fn dead_pid() -> u32 {
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let pid = child.id();
        child.wait().unwrap();
        pid
    }

    /// An interrupted build's temporary output directory is removed even while a worker keeps
    /// renaming finished blobs into it: nothing is left beside the output.
    #[test]
    fn a_directory_still_written_into_is_removed_whole() {
        use std::sync::Arc;
        use std::sync::atomic::AtomicBool;
        let parent = tempfile::tempdir().unwrap();
        let (made, owned) = temp_dir(parent.path(), ".out.tmp-").unwrap();
        let dir = made.keep();
        let stop = Arc::new(AtomicBool::new(false));
        // A worker finishing blobs as a build's do: write a temporary file, rename it into place.
        let writer = {
            let (dir, stop) = (dir.clone(), stop.clone());
            std::thread::spawn(move || {
                let mut i = 0u64;
                while !stop.load(Ordering::Relaxed) {
                    let tmp = dir.join(format!(".blob-{i}"));
                    if fs::write(&tmp, b"layer").is_ok() {
                        let _ = fs::rename(&tmp, dir.join(format!("blob-{i}")));
                    }
                    i += 1;
                }
            })
        };
        std::thread::sleep(Duration::from_millis(20));
        remove_while_written(&dir).unwrap();
        std::thread::sleep(Duration::from_millis(20));
        stop.store(true, Ordering::Relaxed);
        writer.join().unwrap();
        drop(owned);
        let left: Vec<_> = fs::read_dir(parent.path())
            .unwrap()
            .flatten()
            .map(|e| e.path())
            .collect();
        assert!(left.is_empty(), "left behind: {left:?}");
    }

    /// A temporary file or directory is registered by the same step that creates it (no window
    /// in which a signal finds it unregistered), and unregistered when its owner goes.
    #[test]
    fn temporaries_are_registered_as_they_are_created() {
        let dir = tempfile::tempdir().unwrap();
        let registered = |p: &Path| registry().values().any(|r| r == p);
        let (file, owned) = temp_file(dir.path(), ".t-").unwrap();
        assert!(registered(file.path()));
        assert!(
            file.path()
                .file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with(&prefix(".t-"))
        );
        let (made, owned_dir) = temp_dir(dir.path(), ".d-").unwrap();
        assert!(registered(made.path()));
        let (f, d) = (file.path().to_owned(), made.path().to_owned());
        drop((owned, owned_dir));
        assert!(!registered(&f) && !registered(&d));
    }

    #[test]
    fn reclaims_only_what_no_live_process_owns() {
        let dir = tempfile::tempdir().unwrap();
        let dead = dir.path().join(format!(".out.tmp-{}-x", dead_pid()));
        fs::create_dir(&dead).unwrap();
        fs::write(dead.join("blob"), b"partial").unwrap();
        // Ours, registered and locked.
        let mine = dir.path().join(format!("{}x", prefix(".out.tmp-")));
        fs::create_dir(&mine).unwrap();
        let owned = Owned::new(&mine);
        // A dead pid whose lock is held (its owner lives in another pid namespace).
        let foreign = dir.path().join(format!(".out.tmp-{}-y", dead_pid()));
        fs::write(&foreign, b"").unwrap();
        let held = File::open(&foreign).unwrap();
        assert!(try_lock(&held));
        // Not ours to judge: another output's name, and a name without a pid.
        let other = dir.path().join(format!(".other.tmp-{}-z", dead_pid()));
        fs::create_dir(&other).unwrap();
        let legacy = dir.path().join(".out.tmp-abcdef");
        fs::create_dir(&legacy).unwrap();

        let r = reclaim_beside(&dir.path().join("out"));
        assert_eq!(r.paths, vec![dead.clone()]);
        assert!(!dead.exists());
        for kept in [&mine, &foreign, &other, &legacy] {
            assert!(kept.exists(), "{}", kept.display());
        }
        drop(owned);
        drop(held);
        // Unlocked now: the foreign one goes; ours stays (its pid is ours, and alive).
        let r = reclaim_beside(&dir.path().join("out"));
        assert_eq!(r.paths, vec![foreign]);
        assert!(mine.exists());
        // The legacy name goes only with an age limit.
        let r = reclaim_unowned(dir.path(), &[".out.tmp-"], Duration::from_secs(3600));
        assert!(r.paths.is_empty(), "{r:?}");
        let r = reclaim_unowned(dir.path(), &[".out.tmp-"], Duration::ZERO);
        assert_eq!(r.paths, vec![legacy]);
    }
}
