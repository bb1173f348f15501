//! Helpers shared by the integration tests: run the real `debcast` binary and, when something
//! fails, print everything needed to understand why (command, environment, stdout, stderr).

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// A `debcast` invocation with a clean, explicit environment.
pub struct Debcast {
    cmd: Command,
    shown: String,
}

impl Debcast {
    pub fn new(cwd: &Path) -> Self {
        Self::wrapped(cwd, &[])
    }

    /// `debcast` run through a wrapper command (`setpriv …`, `sh -c 'umask 077; exec "$@"' sh`).
    pub fn wrapped(cwd: &Path, prefix: &[&str]) -> Self {
        Self::wrapped_bin(cwd, prefix, Path::new(env!("CARGO_BIN_EXE_debcast")))
    }

    /// As [`Debcast::wrapped`], running the binary at `bin` (a copy another user can reach).
    pub fn wrapped_bin(cwd: &Path, prefix: &[&str], bin: &Path) -> Self {
        let mut cmd = match prefix.split_first() {
            Some((program, rest)) => {
                let mut c = Command::new(program);
                c.args(rest).arg(bin);
                c
            }
            None => Command::new(bin),
        };
        cmd.current_dir(cwd);
        // Nothing from the developer's machine may leak in: no mirrors, no apt sources, no epoch.
        for var in [
            "DEBCAST_MIRRORS",
            "DEBCAST_CACHE_DIR",
            "SOURCE_DATE_EPOCH",
            "RUST_LOG",
        ] {
            cmd.env_remove(var);
        }
        cmd.env("DEBCAST_APT_ROOT", cwd.join("no-apt-sources"));
        let shown = format!("(cd {} && {} debcast", cwd.display(), prefix.join(" "));
        Debcast { cmd, shown }
    }

    /// `debcast` against the real archive, reached through this machine's configuration (its
    /// apt sources, or `DEBCAST_MIRRORS` where set), not a test fixture: for the end-to-end tests.
    pub fn real_archive(cwd: &Path) -> Self {
        let mut d = Self::new(cwd).env("DEBCAST_APT_ROOT", "/");
        if let Ok(m) = std::env::var("DEBCAST_MIRRORS") {
            d = d.env("DEBCAST_MIRRORS", m);
        }
        d
    }

    pub fn arg(mut self, arg: impl AsRef<OsStr>) -> Self {
        self.shown.push(' ');
        self.shown.push_str(&arg.as_ref().to_string_lossy());
        self.cmd.arg(arg);
        self
    }

    pub fn args<I: IntoIterator<Item = S>, S: AsRef<OsStr>>(mut self, args: I) -> Self {
        for a in args {
            self = self.arg(a);
        }
        self
    }

    pub fn env(mut self, key: &str, value: impl AsRef<OsStr>) -> Self {
        self.shown = format!("{key}={} {}", value.as_ref().to_string_lossy(), self.shown);
        self.cmd.env(key, value);
        self
    }

    fn output(&mut self) -> Output {
        match self.cmd.output() {
            Ok(o) => o,
            Err(e) => panic!("could not run {}): {e}", self.shown),
        }
    }

    /// Runs and requires success; returns stdout + stderr.
    pub fn ok(mut self) -> Run {
        let out = self.output();
        let run = Run::from(&self.shown, out);
        if !run.success {
            panic!("expected success, but it failed:\n{run}");
        }
        run
    }

    /// `lock --check` on a lock of the real archive: fresh is exit 0, or 3 when the archive has
    /// moved on since (newer candidates: information for the periodic job, not staleness).
    pub fn lock_is_fresh(mut self) -> Run {
        let out = self.output();
        let run = Run::from(&self.shown, out);
        if !matches!(run.code, Some(0 | 3)) {
            panic!("expected a fresh lock (exit 0, or 3: updates available):\n{run}");
        }
        run
    }

    /// Runs, whatever the outcome (the caller decides what a failure means).
    pub fn run(mut self) -> Run {
        let out = self.output();
        Run::from(&self.shown, out)
    }

    /// Runs and requires failure.
    pub fn fails(mut self) -> Run {
        let out = self.output();
        let run = Run::from(&self.shown, out);
        if run.success {
            panic!("expected a failure, but it succeeded:\n{run}");
        }
        run
    }
}

pub struct Run {
    pub command: String,
    pub success: bool,
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    fn from(shown: &str, out: Output) -> Self {
        Run {
            command: format!("{shown})"),
            success: out.status.success(),
            code: out.status.code(),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    /// Requires stderr to contain every one of `needles`.
    pub fn stderr_has(&self, needles: &[&str]) -> &Self {
        for n in needles {
            assert!(self.stderr.contains(n), "stderr lacks {n:?}:\n{self}");
        }
        self
    }

    /// Requires stderr to contain none of `needles`.
    pub fn stderr_lacks(&self, needles: &[&str]) -> &Self {
        for n in needles {
            assert!(!self.stderr.contains(n), "stderr has {n:?}:\n{self}");
        }
        self
    }
}

impl std::fmt::Display for Run {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(f, "--- command: {}", self.command)?;
        writeln!(f, "--- exit code: {:?}", self.code)?;
        writeln!(f, "--- stdout:\n{}", self.stdout)?;
        writeln!(f, "--- stderr:\n{}", self.stderr)
    }
}

/// Runs an external tool (skopeo, umoci, dpkg-query…) and requires success, printing everything
/// on failure. A missing tool is a failure too: a judge that is not there judges nothing.
pub fn tool(program: &str, args: &[&dyn AsRef<OsStr>]) -> String {
    let shown = std::iter::once(program.to_owned())
        .chain(args.iter().map(|a| a.as_ref().to_string_lossy().into_owned()))
        .collect::<Vec<_>>()
        .join(" ");
    let out = Command::new(program)
        .args(args.iter().map(|a| a.as_ref()))
        .output()
        .unwrap_or_else(|e| panic!("cannot run `{shown}` ({e}); install it (see .ci/run)"));
    let run = Run::from(&format!("({shown}"), out);
    assert!(run.success, "external tool failed:\n{run}");
    run.stdout
}

pub mod image;

/// Whether the tests run as root (ownership is only real then; umoci needs --rootless otherwise).
pub fn is_root() -> bool {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata("/proc/self").is_ok_and(|m| m.uid() == 0)
}

/// `umoci unpack` of one ref of a layout into `bundle`.
pub fn umoci_unpack(layout: &Path, reference: &str, bundle: &Path) {
    let image = format!("{}:{reference}", layout.display());
    if is_root() {
        tool("umoci", &[&"unpack", &"--image", &image, &bundle]);
    } else {
        tool("umoci", &[&"unpack", &"--rootless", &"--image", &image, &bundle]);
    }
}

/// An end-to-end test's work directory, `target/AREA/NAME`: emptied when the test starts and
/// removed when it passes, kept when it fails so what it left can be looked at. The end-to-end
/// tests write gigabytes each (stores, images, unpacked roots); a CI runner's disk holds a few of
/// them, not all of them at once (stop 29's CI ran out of space in the seventh).
pub struct WorkDir {
    path: PathBuf,
}

impl WorkDir {
    pub fn fresh(area: &str, name: &str) -> WorkDir {
        let path = repo_root().join("target").join(area).join(name);
        match std::fs::remove_dir_all(&path) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => panic!("cannot empty {}: {e}", path.display()),
        }
        std::fs::create_dir_all(&path).unwrap_or_else(|e| panic!("mkdir {}: {e}", path.display()));
        WorkDir { path }
    }
}

impl std::ops::Deref for WorkDir {
    type Target = Path;
    fn deref(&self) -> &Path {
        &self.path
    }
}

impl AsRef<Path> for WorkDir {
    fn as_ref(&self) -> &Path {
        &self.path
    }
}

impl AsRef<OsStr> for WorkDir {
    fn as_ref(&self) -> &OsStr {
        self.path.as_os_str()
    }
}

impl Drop for WorkDir {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!("kept for a look: {}", self.path.display());
        } else if let Some(mount) = mount_under(&self.path) {
            // A /proc or /dev bind mount left in an image root: never delete through it.
            eprintln!("kept {}: {mount} is still mounted", self.path.display());
        } else if let Err(e) = std::fs::remove_dir_all(&self.path) {
            eprintln!("cannot remove {}: {e}", self.path.display());
        }
    }
}

/// A mount point at or under `dir`, from /proc/self/mountinfo (its fifth field).
fn mount_under(dir: &Path) -> Option<String> {
    let info = std::fs::read_to_string("/proc/self/mountinfo").ok()?;
    let dir = dir.to_string_lossy();
    info.lines()
        .filter_map(|line| line.split(' ').nth(4))
        .find(|point| {
            point
                .strip_prefix(dir.as_ref())
                .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
        })
        .map(str::to_owned)
}

pub fn tempdir() -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix("debcast-test-")
        .tempdir()
        .unwrap_or_else(|e| panic!("tempdir: {e}"))
}

pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The heading (`Options`, `Network`, …) a `--help` text lists `option` under.
pub fn help_heading(help: &str, option: &str) -> Option<String> {
    let mut heading = None;
    for line in help.lines() {
        if !line.starts_with(' ') && line.ends_with(':') {
            heading = Some(line.trim_end_matches(':').to_owned());
        }
        let item = line.trim_start();
        if item.starts_with("-") && item.split([' ', ',', '=', '[', '<']).any(|w| w == option) {
            return heading;
        }
    }
    None
}

/// A `passwd` package whose postinst turns shadow passwords on as bookworm's does on a new install
/// (`shadowconfig on`, after making sure of the `shadow` group).
pub fn passwd_deb() -> debcast_testkit::deb::DebBuilder {
    let mut deb = debcast_testkit::deb::DebBuilder::new("passwd", "1", "amd64").dir("./usr/sbin", 0o755);
    // Its tools, which scripts run only where the image has them.
    for tool in ["useradd", "groupadd", "usermod", "chfn"] {
        deb = deb.file(&format!("./usr/sbin/{tool}"), "\x7fELF", 0o755);
    }
    deb.maintainer_script(
        "postinst",
        "#!/bin/sh\nset -e\n\
             if [ \"$1\" = configure ] && ! getent group shadow | grep -q '^shadow:[^:]*:42'; then\n\
             \tgroupadd -g 42 shadow\nfi\n\
             [ -z \"$2\" ] && shadowconfig on\nexit 0\n",
    )
}

/// adduser's package: its two programs (Perl scripts in Debian; their code is not run), on
/// passwd's tools.
pub fn adduser_deb() -> debcast_testkit::deb::DebBuilder {
    debcast_testkit::deb::DebBuilder::new("adduser", "1", "all")
        .depends("passwd")
        .file("./usr/sbin/adduser", "#!/usr/bin/perl\n", 0o755)
        .file("./usr/sbin/addgroup", "#!/usr/bin/perl\n", 0o755)
}
