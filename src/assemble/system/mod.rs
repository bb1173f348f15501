//! What dpkg and the maintainer scripts would have left in the image, computed without running
//! either.
//!
//! `debcast` unpacks packages but never executes `dpkg --configure` or a maintainer script. This
//! module looks at the unpacked tree and the packages' control data and computes the files those
//! would have produced on a fresh install: the dpkg database, alternatives, accounts, the base-files
//! and tzdata configuration, `/etc/shells`, the CA certificate store, shared-mime-info's database
//! and `/etc/ld.so.cache`. Whatever a script does that is not emulated is reported, package by
//! package, in [`SystemChanges::report`].
//!
//! The emulations run in a fixed order, each one seeing the tree as the previous ones left it (as a
//! configure run would: base-passwd before base-files, certificates before the dpkg database).

use std::collections::{BTreeMap, BTreeSet};

use crate::entry::{Entry, EntryKind};
use crate::manifest::System;

pub mod accounts;
pub mod acl;
pub mod alternatives;
pub mod apache;
pub mod basefiles;
pub mod binfmts;
pub mod calls;
pub mod catalog;
pub mod ccache;
pub mod certificates;
pub mod clib;
pub mod commands;
pub mod copy;
pub mod debconf;
pub mod desktopdb;
pub mod dictionaries;
pub mod dpkgdb;
pub mod emacsen;
pub mod files;
pub mod find;
pub mod fontconfig;
pub mod fontsdir;
pub mod ghash;
pub mod gitlfs;
pub mod gsettings;
pub mod hwdb;
pub mod iconcache;
pub mod inetd;
pub mod kernel;
pub mod keyfile;
pub mod ldcache;
pub mod lighttpd;
pub mod locales;
pub mod ls;
pub mod mailcap;
pub mod mime;
mod package;
pub mod pam;
pub mod paper;
pub mod perlsax;
pub mod php;
pub mod plugins;
pub mod postgres;
pub mod report;
pub mod runit;
pub mod sed;
pub mod setcap;
pub mod sgmlcatalog;
pub mod shell;
pub mod shells;
pub mod statoverride;
pub mod timezone;
pub mod tmpfiles;
pub mod ucf;
pub mod users;
pub mod xmlcatalog;

pub use package::{InstalledPackage, Round};

#[cfg(test)]
pub(crate) mod testutil;

/// A read-only view of the assembled image tree, after every package was unpacked.
///
/// Paths are normalised (`usr/bin/bash`: no leading `/`, no `.`/`..`, no trailing `/`).
pub trait TreeView {
    /// The entry at `path` itself (a symlink is returned as a symlink, never followed).
    fn entry(&self, path: &str) -> Option<&Entry>;
    /// The content of the regular file at `path` (symlinks are not followed).
    fn read(&self, path: &str) -> Option<std::io::Result<Vec<u8>>>;
    /// Every path in the tree, sorted bytewise.
    fn paths(&self) -> Box<dyn Iterator<Item = &str> + '_>;
    /// What ldconfig reads from the regular file at `path` (`Ok(None)`: not a shared library it
    /// would cache). A tree that recorded it while unpacking answers without the file's bytes.
    fn elf(&self, path: &str) -> Option<std::io::Result<Option<ldcache::ElfInfo>>> {
        self.read(path).map(|r| r.map(|b| ldcache::read_elf(&b)))
    }
}

/// A package a `[system]` setting needs in the image, declared once beside the emulation that
/// needs it: the emulation names it in its own error, and `build` checks the lock for it before
/// anything is downloaded ([`unmet_requirements`]).
#[derive(Debug, Clone, Copy)]
pub struct Requirement {
    /// The manifest setting, as a user writes it (`[system] timezone`).
    pub setting: &'static str,
    /// The package it needs.
    pub package: &'static str,
    /// Whether the manifest uses the setting.
    pub used: fn(&System) -> bool,
}

/// Every package requirement of the emulations below.
pub const REQUIREMENTS: &[Requirement] = &[accounts::REQUIRES, timezone::REQUIRES, locales::REQUIRES];

/// The requirements `system` uses whose package `has_package` says the image lacks.
pub fn unmet_requirements(system: &System, has_package: impl Fn(&str) -> bool) -> Vec<Requirement> {
    REQUIREMENTS
        .iter()
        .filter(|r| (r.used)(system) && !has_package(r.package))
        .copied()
        .collect()
}

/// Something a maintainer script does that debcast does not reproduce.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct NotEmulated {
    pub package: String,
    /// `preinst`, `postinst`, `prerm`, `postrm`, `config`, `triggers`.
    pub script: String,
    /// The command line (or a description of what was skipped).
    pub what: String,
}

/// How an emulation's refusal starts when the effect it refuses is non-deterministic by nature
/// (the caller reports it as such: [`commands::SKIPPED_NONDETERMINISTIC`]).
pub const NONDETERMINISTIC_EFFECT: &str = "non-deterministic: ";

/// Why an effect is not reproduced, as the build report counts them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum EffectKind {
    /// Left out on purpose: it differs on every run (host keys, certificates, ids).
    NonDeterministic,
    /// Service management: a container has no init to talk to.
    Service,
    /// Not emulated (yet).
    Unsupported,
}

impl EffectKind {
    pub const ALL: [EffectKind; 3] = [
        EffectKind::NonDeterministic,
        EffectKind::Service,
        EffectKind::Unsupported,
    ];

    /// The report's name for the kind.
    pub fn as_str(self) -> &'static str {
        match self {
            EffectKind::NonDeterministic => "non-deterministic",
            EffectKind::Service => "service-management",
            EffectKind::Unsupported => "unsupported",
        }
    }

    /// How the summary line says it.
    pub fn describe(self) -> &'static str {
        match self {
            EffectKind::NonDeterministic => "non-deterministic by nature",
            EffectKind::Service => "service management",
            EffectKind::Unsupported => "unsupported yet",
        }
    }
}

impl NotEmulated {
    /// Why the effect is not reproduced (from how the report entry starts).
    pub fn kind(&self) -> EffectKind {
        if self.what.starts_with(commands::SKIPPED_SERVICE) {
            EffectKind::Service
        } else if self.what.starts_with(commands::SKIPPED_NONDETERMINISTIC) {
            EffectKind::NonDeterministic
        } else {
            EffectKind::Unsupported
        }
    }
}

/// Everything the emulations add to, replace in or remove from the tree. Deterministic: `files`
/// sorted by path, `removed` sorted, `report` sorted.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SystemChanges {
    /// New or replaced entries, with the content of regular files (empty for others).
    pub files: Vec<(Entry, Vec<u8>)>,
    pub removed: Vec<String>,
    pub report: Vec<NotEmulated>,
}

/// What the emulations need besides the tree.
pub struct SystemInput<'a> {
    pub tree: &'a dyn TreeView,
    /// In configure order ([`crate::assemble::configure_order`]: as apt and dpkg configure
    /// them): alternatives of equal priority resolve to the one registered first.
    pub packages: &'a [InstalledPackage],
    pub system: &'a System,
    /// The image's Debian architecture (`amd64`, `arm64`, …).
    pub architecture: &'a str,
    /// SOURCE_DATE_EPOCH of the build; shadow's "last change" day is derived from it.
    pub source_date_epoch: u64,
}

#[derive(Debug, thiserror::Error)]
pub enum SystemError {
    #[error("cannot read /{path} from the image tree: {source}")]
    Read { path: String, source: std::io::Error },
    #[error("package {package}: {file}: {message}")]
    Package {
        package: String,
        file: String,
        message: String,
    },
    #[error("/{path}: {message}")]
    Invalid { path: String, message: String },
    #[error("[system] {0}")]
    Manifest(String),
}

/// Runs every emulation over the tree and returns what they change.
pub fn compute(input: &SystemInput<'_>) -> Result<SystemChanges, SystemError> {
    let mut overlay = Overlay::new(input.tree);
    let mut report = Vec::new();

    // The order a configure run of a debootstrapped system follows: base-passwd and base-files
    // are configured first (they are Essential and early in the dependency order), shells and
    // alternatives by their packages' postinsts, tzdata and ca-certificates later, and the
    // ldconfig trigger of libc-bin last of all.
    overlay.apply(accounts::compute(&overlay, input.system)?);
    overlay.apply(basefiles::compute(&overlay, input.packages)?);
    overlay.apply(shells::compute(&overlay, input.packages)?);
    overlay.apply(ldcache::nsswitch(&overlay, input.packages)?);
    let (file_ops, file_report, triggers_applied) =
        files::compute_at(&overlay, input.packages, input.source_date_epoch)?;
    overlay.apply(file_ops);
    report.extend(file_report);
    let (alt, alt_report) =
        alternatives::compute(&overlay, input.packages, input.system, input.architecture)?;
    overlay.apply(alt);
    report.extend(alt_report);
    overlay.apply(timezone::compute(&overlay, input.packages, input.system)?);
    let (locale_files, locale_report) = locales::compute(&overlay, input.packages, input.system)?;
    overlay.apply(locale_files);
    report.extend(locale_report);
    overlay.apply(certificates::compute(&overlay, input.packages)?);
    // postgresql-common's dictionary trigger: once every dictionary package is in place.
    let (pg_dicts, pg_report) = postgres::compute(&overlay, input.packages)?;
    overlay.apply(pg_dicts);
    report.extend(pg_report);
    // shared-mime-info's trigger: once every package's XML source is in place.
    let (mime_files, mime_report) = mime::compute(&overlay, input.packages)?;
    overlay.apply(mime_files);
    report.extend(mime_report);
    // gtk-update-icon-cache, as the last run of the themes' postinsts and triggers leaves it.
    let (icon_caches, icon_report) = iconcache::compute(&overlay, input.packages)?;
    overlay.apply(icon_caches);
    report.extend(icon_report);
    // glib-compile-schemas, as libglib's trigger leaves it once every schema is in place.
    let (schemas, schema_report) = gsettings::compute(&overlay, input.packages)?;
    overlay.apply(schemas);
    report.extend(schema_report);
    // gio-querymodules, as libglib's trigger leaves it once every module is in place.
    let (gio_caches, gio_report) = plugins::gio::compute(&overlay, input.packages)?;
    overlay.apply(gio_caches);
    report.extend(gio_report);
    // gtk-query-immodules, as libgtk's triggers leave them once every module is in place.
    let (im_caches, im_report) = plugins::gtkim::compute(&overlay, input.packages)?;
    overlay.apply(im_caches);
    report.extend(im_report);
    // libgvc6-config-update -c, as the last plugin package's postinst leaves it.
    let (gv_config, gv_report) = plugins::graphviz::compute(&overlay, input.packages)?;
    overlay.apply(gv_config);
    report.extend(gv_report);
    // dictionaries-common's registry, as its tools' last runs leave it.
    let (dict_files, dict_report) = dictionaries::compute(&overlay, input.packages)?;
    overlay.apply(dict_files);
    report.extend(dict_report);
    // update-desktop-database, as desktop-file-utils' trigger leaves it once every entry is in
    // place.
    let (desktop_files, desktop_report) = desktopdb::compute(&overlay, input.packages)?;
    overlay.apply(desktop_files);
    report.extend(desktop_report);
    // update-mime's /etc/mailcap, as mailcap's trigger leaves it once every entry is in place.
    let (mailcap_files, mailcap_report) = mailcap::compute(&overlay, input.packages)?;
    overlay.apply(mailcap_files);
    report.extend(mailcap_report);
    // systemd-hwdb, as udev's trigger leaves it once every hwdb.d source is in place.
    let (hwdb_files, hwdb_report) = hwdb::compute(&overlay, input.packages)?;
    overlay.apply(hwdb_files);
    report.extend(hwdb_report);
    overlay.apply(fontconfig::compute(&overlay, input.packages)?);
    overlay.apply(ldcache::compute(&overlay, input.packages, input.architecture)?);
    // The database describes the packages as shipped (conffile hashes are those of the packaged
    // files), so it reads the original tree, not the overlay.
    overlay.apply(dpkgdb::compute(input.tree, input.packages, input.architecture)?);
    // Triggers are processed once every package is configured: their postinsts see the result.
    report.extend(report::scan(
        input.tree,
        &overlay,
        input.packages,
        input.architecture,
        &triggers_applied,
    ));

    let (files, removed) = overlay.into_changes();
    report.sort();
    report.dedup();
    Ok(SystemChanges {
        files,
        removed,
        report,
    })
}

/// One emulation's output: entries to write (with content) and paths to remove.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Changes {
    pub files: Vec<(Entry, Vec<u8>)>,
    pub removed: Vec<String>,
}

impl Changes {
    pub fn file(&mut self, path: &str, mode: u32, content: Vec<u8>) {
        let size = content.len() as u64;
        self.files
            .push((Entry::generated(path, EntryKind::File { size }, mode), content));
    }

    pub fn file_owned(&mut self, path: &str, mode: u32, owner: Owner, content: Vec<u8>) {
        let size = content.len() as u64;
        let mut e = Entry::generated(path, EntryKind::File { size }, mode);
        owner.apply(&mut e);
        self.files.push((e, content));
    }

    pub fn dir(&mut self, path: &str, mode: u32) {
        self.files
            .push((Entry::generated(path, EntryKind::Directory, mode), Vec::new()));
    }

    pub fn dir_owned(&mut self, path: &str, mode: u32, owner: Owner) {
        let mut e = Entry::generated(path, EntryKind::Directory, mode);
        owner.apply(&mut e);
        self.files.push((e, Vec::new()));
    }

    pub fn symlink(&mut self, path: &str, target: &str) {
        self.files.push((
            Entry::generated(
                path,
                EntryKind::Symlink {
                    target: target.to_owned(),
                },
                0o777,
            ),
            Vec::new(),
        ));
    }

    pub fn extend(&mut self, other: Changes) {
        self.files.extend(other.files);
        self.removed.extend(other.removed);
    }
}

/// Owner of a generated entry other than root:root.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Owner {
    pub uid: u32,
    pub gid: u32,
    pub uname: String,
    pub gname: String,
}

impl Owner {
    pub fn apply(&self, e: &mut Entry) {
        e.uid = self.uid;
        e.gid = self.gid;
        e.uname = self.uname.clone();
        e.gname = self.gname.clone();
    }
}

/// The base tree with the emulations' changes laid over it, so each emulation sees the previous
/// ones' results.
pub struct Overlay<'a> {
    base: &'a dyn TreeView,
    /// `Some` = added or replaced, `None` = removed.
    changes: BTreeMap<String, Option<(Entry, Vec<u8>)>>,
    /// Paths of the base not there yet (conffiles of packages not configured yet, which dpkg
    /// unpacks as `.dpkg-new` and puts in place when it configures their package); a change
    /// to one is seen as usual.
    hidden: BTreeSet<String>,
    /// How many times applied changes made a difference: whether a command changed anything.
    revision: u64,
}

impl<'a> Overlay<'a> {
    pub fn new(base: &'a dyn TreeView) -> Self {
        Overlay {
            base,
            changes: BTreeMap::new(),
            hidden: BTreeSet::new(),
            revision: 0,
        }
    }

    /// Hides base paths until [`Overlay::reveal`]ed.
    pub fn hide(&mut self, paths: impl IntoIterator<Item = String>) {
        self.hidden.extend(paths);
    }

    /// Shows hidden base paths again.
    pub fn reveal<'p>(&mut self, paths: impl IntoIterator<Item = &'p str>) {
        for p in paths {
            self.hidden.remove(p);
        }
    }

    /// The base's entry at `path`, unless it is hidden.
    fn base_entry(&self, path: &str) -> Option<&Entry> {
        if self.hidden.contains(path) {
            return None;
        }
        self.base.entry(path)
    }

    pub fn apply(&mut self, changes: Changes) {
        let differs = changes.removed.iter().any(|p| self.entry(p).is_some())
            || changes.files.iter().any(|(e, content)| {
                self.entry(&e.path) != Some(e)
                    || (matches!(e.kind, EntryKind::File { .. })
                        && !self.read(&e.path).is_some_and(|r| r.is_ok_and(|b| &b == content)))
            });
        if differs {
            self.revision += 1;
        }
        for path in changes.removed {
            self.changes.insert(path, None);
        }
        for (entry, content) in changes.files {
            self.changes.insert(entry.path.clone(), Some((entry, content)));
        }
    }

    /// A count that moves whenever applied changes make a difference.
    pub fn revision(&self) -> u64 {
        self.revision
    }

    /// Whether an emulation added, replaced or removed `path`.
    pub fn changed(&self, path: &str) -> bool {
        self.changes.contains_key(path)
    }

    /// Sorted changes, as [`SystemChanges`] carries them. A removal of a path the base does not
    /// have is dropped.
    pub fn into_changes(self) -> (Vec<(Entry, Vec<u8>)>, Vec<String>) {
        let mut files = Vec::new();
        let mut removed = Vec::new();
        for (path, change) in self.changes {
            match change {
                Some(fc) => files.push(fc),
                None if self.base.entry(&path).is_some() => removed.push(path),
                None => {}
            }
        }
        (files, removed)
    }
}

impl TreeView for Overlay<'_> {
    fn entry(&self, path: &str) -> Option<&Entry> {
        match self.changes.get(path) {
            Some(Some((e, _))) => Some(e),
            Some(None) => None,
            None => self.base_entry(path),
        }
    }

    fn read(&self, path: &str) -> Option<std::io::Result<Vec<u8>>> {
        match self.changes.get(path) {
            Some(Some((e, content))) => match e.kind {
                EntryKind::File { .. } => Some(Ok(content.clone())),
                _ => None,
            },
            Some(None) => None,
            None if self.hidden.contains(path) => None,
            None => self.base.read(path),
        }
    }

    fn elf(&self, path: &str) -> Option<std::io::Result<Option<ldcache::ElfInfo>>> {
        match self.changes.get(path) {
            Some(Some((e, content))) => match e.kind {
                EntryKind::File { .. } => Some(Ok(ldcache::read_elf(content))),
                _ => None,
            },
            Some(None) => None,
            None if self.hidden.contains(path) => None,
            None => self.base.elf(path),
        }
    }

    fn paths(&self) -> Box<dyn Iterator<Item = &str> + '_> {
        let mut all: BTreeSet<&str> = self.base.paths().filter(|p| !self.hidden.contains(*p)).collect();
        for (path, change) in &self.changes {
            match change {
                Some(_) => {
                    all.insert(path.as_str());
                }
                None => {
                    all.remove(path.as_str());
                }
            }
        }
        Box::new(all.into_iter())
    }
}

/// Reads a regular file of the tree, following symlinks inside the tree; `Ok(None)` if absent.
pub fn read_file(tree: &dyn TreeView, path: &str) -> Result<Option<Vec<u8>>, SystemError> {
    let Some(real) = resolve(tree, path) else {
        return Ok(None);
    };
    match tree.read(&real) {
        None => Ok(None),
        Some(Ok(bytes)) => Ok(Some(bytes)),
        Some(Err(source)) => Err(SystemError::Read { path: real, source }),
    }
}

/// Resolves `path` inside the tree the way the kernel would inside a chroot: every symlink,
/// in any component, is followed (absolute targets from the image root, `..` clamped at the root).
/// Returns the normalised path of the final, non-symlink entry, or `None` if a component is
/// missing or the links loop. The empty string is the root.
pub fn resolve(tree: &dyn TreeView, path: &str) -> Option<String> {
    resolve_parent(tree, path, true)
}

/// Like [`resolve`] but leaves the last component unresolved (as `lstat` would), requiring only
/// its parent directory to exist.
pub fn resolve_dir_of(tree: &dyn TreeView, path: &str) -> Option<String> {
    resolve_parent(tree, path, false)
}

fn resolve_parent(tree: &dyn TreeView, path: &str, follow_last: bool) -> Option<String> {
    let mut pending: Vec<String> = path
        .split('/')
        .filter(|c| !c.is_empty())
        .rev()
        .map(str::to_owned)
        .collect();
    let mut done: Vec<String> = Vec::new();
    let mut hops = 0;
    while let Some(comp) = pending.pop() {
        match comp.as_str() {
            "." => continue,
            ".." => {
                done.pop();
                continue;
            }
            _ => {}
        }
        done.push(comp);
        let here = done.join("/");
        let last = pending.is_empty();
        let entry = match tree.entry(&here) {
            Some(e) => e,
            None if last => return if follow_last { None } else { Some(here) },
            None => return None,
        };
        if let EntryKind::Symlink { target } = &entry.kind {
            if last && !follow_last {
                return Some(here);
            }
            hops += 1;
            if hops > 40 {
                return None;
            }
            done.pop();
            if target.starts_with('/') {
                done.clear();
            }
            pending.extend(
                target
                    .split('/')
                    .filter(|c| !c.is_empty())
                    .rev()
                    .map(str::to_owned),
            );
        }
    }
    Some(done.join("/"))
}

/// Whether `path` exists in the tree (following symlinks) as anything.
pub fn exists(tree: &dyn TreeView, path: &str) -> bool {
    resolve(tree, path).is_some_and(|p| p.is_empty() || tree.entry(&p).is_some())
}

/// Whether `path` is (after following symlinks) a regular file.
pub fn is_file(tree: &dyn TreeView, path: &str) -> bool {
    resolve(tree, path)
        .and_then(|p| tree.entry(&p).map(|e| matches!(e.kind, EntryKind::File { .. })))
        .unwrap_or(false)
}

/// The tree path of an absolute path with its parents resolved and its last component not.
pub fn lstat_path(tree: &dyn TreeView, abs: &str) -> Result<String, String> {
    if !abs.starts_with('/') {
        return Err(format!("`{abs}` is not an absolute path"));
    }
    resolve_dir_of(tree, &tree_path(abs)).ok_or_else(|| format!("the directory of {abs} does not exist"))
}

/// Gives an entry the user and group resolved from a command's arguments (those given).
pub fn set_owner(e: &mut Entry, user: &Option<(u32, String)>, group: &Option<(u32, String)>) {
    if let Some((id, name)) = user {
        (e.uid, e.uname) = (*id, name.clone());
    }
    if let Some((id, name)) = group {
        (e.gid, e.gname) = (*id, name.clone());
    }
}

/// The last component of a path (a command's name as written, `/usr/sbin/ucf` → `ucf`).
pub fn base_name(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

/// The values a command's option is given, in order: `LONG=VALUE`, or `LONG VALUE` / `SHORT
/// VALUE` (the next argument), or `SHORTVALUE` glued, as getopt reads a short option's value.
pub fn option_values(args: &[String], short: Option<&str>, long: &str) -> Vec<String> {
    args.iter()
        .enumerate()
        .filter_map(
            |(i, a)| match a.strip_prefix(long).and_then(|rest| rest.strip_prefix('=')) {
                Some(value) => Some(value.to_owned()),
                None if a == long || Some(a.as_str()) == short => args.get(i + 1).cloned(),
                // `-m0750`: the short option's value glued to it (i2pd's `mkdir -p -m0750`).
                None => short
                    .filter(|s| s.len() == 2 && !a.starts_with("--"))
                    .and_then(|s| a.strip_prefix(s))
                    .filter(|value| !value.is_empty())
                    .map(str::to_owned),
            },
        )
        .collect()
}

/// Why an option name matched none of a tool's options, or several.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Abbreviation {
    Unknown,
    Ambiguous,
}

/// The option `key` names, as getopt_long and Perl's Getopt::Long read a long option: the one
/// named exactly, else the one it is an unambiguous prefix of.
pub fn abbreviated<'a, T>(
    key: &str,
    options: &'a [T],
    name: impl Fn(&T) -> &str,
) -> Result<&'a T, Abbreviation> {
    if let Some(exact) = options.iter().find(|o| name(o) == key) {
        return Ok(exact);
    }
    let mut prefixed = options.iter().filter(|o| name(o).starts_with(key));
    match (prefixed.next(), prefixed.next()) {
        (Some(only), None) => Ok(only),
        (None, _) => Err(Abbreviation::Unknown),
        (Some(_), Some(_)) => Err(Abbreviation::Ambiguous),
    }
}

/// The arguments with each long option spelled in full, as GNU getopt_long reads them: the
/// exact name, else the one option it is an unambiguous prefix of (`mkdir --parent`), with its
/// `=VALUE` kept. An option that is none of `known`, or abbreviates several, is an error.
pub fn gnu_long_options(args: &[String], known: &[&str]) -> Result<Vec<String>, String> {
    let mut out = Vec::with_capacity(args.len());
    let mut done = false;
    for a in args {
        if done || !a.starts_with("--") {
            out.push(a.clone());
            continue;
        }
        if a == "--" {
            done = true;
            out.push(a.clone());
            continue;
        }
        let (key, value) = match a.split_once('=') {
            Some((k, v)) => (k, Some(v)),
            None => (a.as_str(), None),
        };
        let full = match abbreviated(key, known, |k| k) {
            Ok(k) => *k,
            Err(Abbreviation::Unknown) => return Err(format!("option `{a}` is not one this tool has")),
            Err(Abbreviation::Ambiguous) => return Err(format!("option `{a}` is ambiguous")),
        };
        out.push(match value {
            Some(v) => format!("{full}={v}"),
            None => full.to_owned(),
        });
    }
    Ok(out)
}

/// GNU mkdir's long options.
pub const MKDIR_LONG_OPTIONS: &[&str] = &[
    "--mode",
    "--parents",
    "--verbose",
    "--context",
    "--help",
    "--version",
];

/// A user or group by name or number, from the image's `etc/passwd` or `etc/group`.
pub fn account(tree: &dyn TreeView, file: &str, name: &str) -> Result<(u32, String), String> {
    let text = match read_file(tree, file) {
        Ok(Some(bytes)) => String::from_utf8_lossy(&bytes).into_owned(),
        _ => String::new(),
    };
    let rows = text.lines().filter_map(|l| {
        let mut f = l.split(':');
        let n = f.next()?;
        let id: u32 = f.nth(1)?.parse().ok()?;
        Some((n.to_owned(), id))
    });
    let rows: Vec<(String, u32)> = rows.collect();
    if let Ok(id) = name.parse::<u32>() {
        let n = rows
            .iter()
            .find(|(_, i)| *i == id)
            .map_or_else(|| id.to_string(), |(n, _)| n.clone());
        return Ok((id, n));
    }
    rows.into_iter()
        .find(|(n, _)| n == name)
        .map(|(n, id)| (id, n))
        .ok_or_else(|| format!("`{name}` is not in /{file}"))
}

/// Writes `bytes` to the file at absolute path `abs` as a program opening it for writing does
/// (the shell's `>`/`>>`, Perl's `open(">…")`): a new file is `0666` less the umask, root's; an
/// existing one (a symbolic link followed) keeps its mode and owner, and with `append` its
/// content. A directory, a dangling link or a missing directory is an error.
pub fn write_through(
    overlay: &mut Overlay<'_>,
    abs: &str,
    bytes: &[u8],
    append: bool,
    umask: u32,
) -> Result<(), String> {
    let mut path = lstat_path(overlay, abs)?;
    if let Some(EntryKind::Symlink { .. }) = overlay.entry(&path).map(|e| &e.kind) {
        path = resolve(overlay, &path).ok_or_else(|| format!("{abs} is a dangling link"))?;
    }
    let (mut entry, mut content) = match overlay.entry(&path).cloned() {
        Some(e) if e.is_dir() => return Err(format!("{abs} is a directory")),
        Some(e) => {
            let old = match overlay.read(&path) {
                Some(Ok(bytes)) if append => bytes,
                Some(Err(e)) => return Err(format!("reading {abs}: {e}")),
                _ => Vec::new(),
            };
            (e, old)
        }
        None => (
            Entry::generated(&path, EntryKind::File { size: 0 }, 0o666 & !umask),
            Vec::new(),
        ),
    };
    content.extend_from_slice(bytes);
    entry.kind = EntryKind::File {
        size: content.len() as u64,
    };
    overlay.apply(Changes {
        files: vec![(entry, content)],
        removed: vec![],
    });
    Ok(())
}

/// The text of the file at absolute path `abs` (a script's `. FILE`, `< FILE`), when it is
/// a readable regular file.
pub fn source_text(tree: &dyn TreeView, abs: &str) -> Option<String> {
    read_file(tree, &tree_path(abs))
        .ok()
        .flatten()
        .map(|b| String::from_utf8_lossy(&b).into_owned())
}

/// The names in a directory of the tree (its symbolic links followed), in byte order, with the
/// directory's real tree path; `None` when the path is not a directory.
pub fn children(tree: &dyn TreeView, dir: &str) -> Option<(String, Vec<String>)> {
    let real = resolve(tree, dir)?;
    if !is_dir(tree, &real) {
        return None;
    }
    let prefix = path_prefix(&real);
    let names = tree
        .paths()
        .filter_map(|p| p.strip_prefix(&prefix))
        .filter(|n| !n.is_empty() && !n.contains('/'))
        .map(str::to_owned)
        .collect();
    Some((real, names))
}

/// Every tree path below a directory of the tree (its symbolic links followed), in byte order
/// (a directory before what it holds), with the directory's real tree path; `None` when the
/// path is not a directory.
pub fn descendants(tree: &dyn TreeView, dir: &str) -> Option<(String, Vec<String>)> {
    let real = resolve(tree, dir)?;
    if !is_dir(tree, &real) {
        return None;
    }
    let prefix = path_prefix(&real);
    let below = tree
        .paths()
        .filter(|p| p.len() > prefix.len() && p.starts_with(&prefix))
        .map(str::to_owned)
        .collect();
    Some((real, below))
}

/// What the tree paths below `dir` start with (nothing for the root).
fn path_prefix(dir: &str) -> String {
    if dir.is_empty() {
        String::new()
    } else {
        format!("{dir}/")
    }
}

/// The tree path of `name` in the directory at tree path `dir` (the root is `""`).
pub fn child_path(dir: &str, name: &str) -> String {
    format!("{}{name}", path_prefix(dir))
}

/// sh's pathname expansion of an absolute pattern against the tree (`\` quotes the next
/// character): each component with `*`, `?` or `[…]` matched against the names in its directory
/// (a leading `.` only by a pattern that starts with one), the others taken as they are; the
/// paths that exist, spelled as the pattern spells their directories, sorted.
pub fn glob_paths(tree: &dyn TreeView, pattern: &str) -> Vec<String> {
    let special = |c: &str| {
        let mut escaped = false;
        c.chars().any(|ch| {
            let hit = !escaped && matches!(ch, '*' | '?' | '[');
            escaped = !escaped && ch == '\\';
            hit
        })
    };
    let unescape = |c: &str| {
        let mut out = String::new();
        let mut escaped = false;
        for ch in c.chars() {
            if !escaped && ch == '\\' {
                escaped = true;
            } else {
                out.push(ch);
                escaped = false;
            }
        }
        out
    };
    let comps: Vec<&str> = pattern.split('/').filter(|c| !c.is_empty()).collect();
    let mut found: Vec<String> = vec![String::new()];
    for comp in comps {
        let mut next = Vec::new();
        for dir in &found {
            if !special(comp) {
                let path = format!("{dir}/{}", unescape(comp));
                if exists(tree, &tree_path(&path)) || is_symlink(tree, &path) {
                    next.push(path);
                }
                continue;
            }
            let Some((_, names)) = children(tree, &tree_path(dir)) else {
                continue;
            };
            next.extend(
                names
                    .into_iter()
                    .filter(|n| !n.starts_with('.') || comp.starts_with('.'))
                    .filter(|n| shell::glob_match(comp, n))
                    .map(|n| format!("{dir}/{n}")),
            );
        }
        found = next;
    }
    found.retain(|p| !p.is_empty());
    found.sort();
    found
}

/// How apache2's and php-common's helpers record who enabled something: the `stale` markers
/// removed, then an empty `STATE/enabled_by_maint/NAME` (maintainer scripts) or
/// `enabled_by_admin/NAME` made, its directories as `mkdir -p` makes them under `umask`.
pub fn enabled_marker(
    overlay: &mut Overlay<'_>,
    state: &str,
    name: &str,
    maint: bool,
    umask: u32,
    stale: Vec<String>,
) {
    switch_marker(overlay, state, "enabled", name, maint, umask, stale);
}

/// [`enabled_marker`] for `enabled` or `disabled`.
pub fn switch_marker(
    overlay: &mut Overlay<'_>,
    state: &str,
    what: &str,
    name: &str,
    maint: bool,
    umask: u32,
    stale: Vec<String>,
) {
    overlay.apply(Changes {
        files: vec![],
        removed: stale,
    });
    let dir = format!("{state}/{what}_by_{}", if maint { "maint" } else { "admin" });
    mkdir_p(overlay, &dir, 0o777 & !umask);
    let marker = format!("{dir}/{name}");
    if !exists(overlay, &marker) {
        let mut c = Changes::default();
        c.file(&marker, 0o666 & !umask, Vec::new());
        overlay.apply(c);
    }
}

/// `mkdir -p` of a directory whose existing components are real directories (state
/// directories of Debian's tools): each missing one made with `mode`.
pub fn mkdir_p(overlay: &mut Overlay<'_>, path: &str, mode: u32) {
    let mut c = Changes::default();
    let mut here = String::new();
    for comp in path.split('/') {
        here = child_path(&here, comp);
        if overlay.entry(&here).is_none() {
            c.dir(&here, mode);
        }
    }
    overlay.apply(c);
}

/// Normalises an absolute path from a script (`/usr/bin/x`) into tree form (`usr/bin/x`).
pub fn tree_path(abs: &str) -> String {
    abs.split('/')
        .filter(|c| !c.is_empty() && *c != ".")
        .collect::<Vec<_>>()
        .join("/")
}

/// The `Package`, `Version`, … of the installed package `name`, if installed.
/// What `dpkg -L PKG…` prints: each installed package's file list as dpkg keeps it (`/.`, then
/// the packaged paths); packages not installed only make dpkg complain on standard error.
pub fn dpkg_listfiles(packages: &[InstalledPackage], argv: &[String]) -> Option<String> {
    let names = match argv.split_first() {
        Some((dpkg, rest)) if dpkg == "dpkg" => match rest.split_first() {
            Some((op, names)) if op == "-L" || op == "--listfiles" => names,
            _ => return None,
        },
        _ => return None,
    };
    let mut out = String::new();
    for name in names {
        if let Some(pkg) = installed(packages, name.split(':').next().unwrap_or(name)) {
            out.push_str("/.\n");
            for f in &pkg.files {
                out.push('/');
                out.push_str(f);
                out.push('\n');
            }
        }
    }
    Some(out)
}

/// `dpkg-query -S PATH…`'s status: every path, absolute and without wildcards, is in some
/// package's file list (as dpkg records it: the data archive's paths, `/lib64` not
/// `/usr/lib64`); `None` for patterns and options.
pub fn search_status(packages: &[InstalledPackage], paths: &[String]) -> Option<bool> {
    if paths.is_empty()
        || paths
            .iter()
            .any(|p| !p.starts_with('/') || p.contains(['*', '?', '[', '\\']))
    {
        return None;
    }
    Some(paths.iter().all(|path| {
        let rel = path.trim_start_matches('/').trim_end_matches('/');
        packages
            .iter()
            .any(|pkg| pkg.files.iter().any(|f| f.trim_end_matches('/') == rel))
    }))
}

pub fn installed<'p>(packages: &'p [InstalledPackage], name: &str) -> Option<&'p InstalledPackage> {
    packages.iter().find(|p| p.name == name)
}

/// Whether `path` is (after following symlinks) a directory; the root is one.
pub fn is_dir(tree: &dyn TreeView, path: &str) -> bool {
    resolve(tree, path)
        .map(|p| p.is_empty() || tree.entry(&p).is_some_and(Entry::is_dir))
        .unwrap_or(false)
}

/// Whether an absolute path is itself a symbolic link (its parents followed, not it), for the
/// shell evaluator's `-h`/`-L`.
pub fn is_symlink(tree: &dyn TreeView, abs: &str) -> bool {
    resolve_dir_of(tree, &tree_path(abs))
        .and_then(|p| {
            tree.entry(&p)
                .map(|e| matches!(e.kind, EntryKind::Symlink { .. }))
        })
        .unwrap_or(false)
}

/// What an absolute path from a script is in the tree (symlinks followed), for the shell
/// evaluator's file tests and `command -v`.
pub fn file_kind(tree: &dyn TreeView, abs: &str) -> Option<shell::FileKind> {
    if abs.is_empty() {
        return None;
    }
    let p = resolve(tree, &tree_path(abs))?;
    if p.is_empty() {
        return Some(shell::FileKind::Dir);
    }
    let e = tree.entry(&p)?;
    Some(match e.kind {
        EntryKind::Directory => shell::FileKind::Dir,
        EntryKind::File { size } => shell::FileKind::File {
            executable: e.mode & 0o111 != 0,
            empty: size == 0,
        },
        _ => shell::FileKind::Other,
    })
}

#[cfg(test)]
mod tests;
