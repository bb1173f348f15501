//! What `build` checks before it downloads anything: the lock (present, fresh, covering the
//! manifest), the packages the manifest's `[system]` settings need, and the output path. Every
//! problem found is reported at once, so one run names all of them.
//!
//! The package requirements of `[system]` settings are declared beside the emulations that need
//! them ([`crate::assemble::system::REQUIREMENTS`]); this module only compares them with the lock.

use std::path::{Path, PathBuf};

use crate::lockfile::Lockfile;
use crate::manifest::{LoadedManifest, Manifest};
use crate::platform::Platform;

/// Everything that stops a build before it starts, one line each.
#[derive(Debug, thiserror::Error)]
#[error("{} problem(s) found {when}:\n{}", problems.len(), list(problems))]
pub struct PreflightError {
    /// `before downloading anything`, `in the new lock`.
    pub when: &'static str,
    pub problems: Vec<String>,
}

fn list(problems: &[String]) -> String {
    problems
        .iter()
        .map(|p| format!("  - {p}"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// What a build writes: a directory (OCI image layout) or a file (docker-archive).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutputKind {
    Oci,
    DockerArchive,
}

/// The checks of `debcast build`: loads the lock and returns it if the manifest, the lock and the
/// output are all usable; otherwise every problem at once. Notes that do not stop the build (an
/// existing layout whose other images the build replaces) are logged as warnings.
pub fn check_build(
    manifest: &LoadedManifest,
    lock_path: &Path,
    output: &Path,
    kind: OutputKind,
) -> Result<Lockfile, PreflightError> {
    let mut problems = Vec::new();
    let lock = match Lockfile::load_for(lock_path, &manifest.manifest, &manifest.path) {
        Ok(lock) => {
            problems.extend(lock_coverage(manifest, lock_path, &lock));
            problems.extend(system_requirements(manifest, lock_path, &lock));
            Some(lock)
        }
        Err(e) => {
            problems.push(e.to_string());
            None
        }
    };
    let checked = check_output(output, kind, &manifest.manifest);
    problems.extend(checked.problems);
    match lock {
        Some(lock) if problems.is_empty() => {
            for note in checked.notes {
                tracing::warn!("{note}");
            }
            if !lock.no_depends.is_empty() {
                tracing::info!(
                    "taken without their dependencies ([packages] no-depends, as locked): {}",
                    lock.no_depends.join(", ")
                );
            }
            Ok(lock)
        }
        _ => Err(PreflightError {
            when: "before downloading anything",
            problems,
        }),
    }
}

/// The checks of `debcast lock` on the lock it is about to write: a `no-depends` name it does not
/// pin is an error (a typo would otherwise pass unnoticed); a package a `[system]` setting needs
/// and the lock lacks is a warning (`build` refuses it).
pub fn check_new_lock(
    manifest: &LoadedManifest,
    lock_path: &Path,
    lock: &Lockfile,
) -> Result<(), PreflightError> {
    for warning in system_requirements(manifest, lock_path, lock) {
        tracing::warn!("{warning}");
    }
    let problems: Vec<String> = no_depends_unlocked(&manifest.manifest, lock)
        .into_iter()
        .map(|(name, platforms)| {
            format!(
                "{}: [packages] no-depends names `{name}`, which the image does not install for {platforms} (add it to [packages] include, or remove it from no-depends)",
                manifest.path.display()
            )
        })
        .collect();
    if problems.is_empty() {
        Ok(())
    } else {
        Err(PreflightError {
            when: "in the new lock (not written)",
            problems,
        })
    }
}

/// Whether the lock pins, for every platform of the manifest, some package, every requested
/// package (at the requested version; a name pinned for no platform at all is missing) and every
/// `no-depends` package.
pub fn lock_coverage(manifest: &LoadedManifest, lock_path: &Path, lock: &Lockfile) -> Vec<String> {
    let m = &manifest.manifest;
    let relock = format!("run `debcast lock {}`", manifest.path.display());
    let mut problems = Vec::new();
    for platform in &m.image.platforms {
        let at = || format!("{} for {platform}", lock_path.display());
        if lock.packages_for(platform).next().is_none() {
            problems.push(format!("{} has no packages; {relock}", at()));
            continue;
        }
        let (include, _) = m.requests_for(platform);
        for req in include {
            let locked: Vec<&str> = lock
                .packages_for(platform)
                .filter(|p| p.name == req.name)
                .map(|p| p.version.as_str())
                .collect();
            // A name pinned for another platform only is left alone: manifests list names for
            // every platform that only some platforms' archives carry under that name.
            let anywhere = lock.packages.iter().any(|p| p.name == req.name);
            match (&req.version, locked.as_slice()) {
                (_, []) if anywhere => {}
                (_, []) => problems.push(format!(
                    "{} does not pin `{}`, which [packages] include asks for; {relock}",
                    at(),
                    req.name
                )),
                (Some(want), have) if !have.contains(&want.as_str()) => problems.push(format!(
                    "{} pins `{}` at {}, [packages] include asks for {want}; {relock}",
                    at(),
                    req.name,
                    have.join(", ")
                )),
                _ => {}
            }
        }
    }
    problems.extend(no_depends_unlocked(m, lock).into_iter().map(|(name, platforms)| {
        format!(
            "[packages] no-depends names `{name}`, which {} does not pin for {platforms}: add it to [packages] include (or remove it from no-depends) and {relock}",
            lock_path.display()
        )
    }));
    problems
}

/// The `no-depends` names the lock does not pin, each with the platforms that lack it
/// (`linux/amd64, linux/arm64`): a misspelt name, or one nothing installs.
pub fn no_depends_unlocked(manifest: &Manifest, lock: &Lockfile) -> Vec<(String, String)> {
    manifest
        .packages
        .no_depends
        .iter()
        .filter_map(|name| {
            let missing: Vec<String> = manifest
                .image
                .platforms
                .iter()
                .filter(|p| !lock.packages_for(p).any(|l| &l.name == name))
                .map(ToString::to_string)
                .collect();
            (!missing.is_empty()).then(|| (name.clone(), missing.join(", ")))
        })
        .collect()
}

/// The packages `[system]` settings need that the lock does not pin, one problem per setting
/// with every platform that lacks its package.
pub fn system_requirements(manifest: &LoadedManifest, lock_path: &Path, lock: &Lockfile) -> Vec<String> {
    let m = &manifest.manifest;
    // (setting, package) -> platforms lacking it, in the declared order of the requirements.
    let mut lacking: Vec<((&str, &str), Vec<String>)> = Vec::new();
    for platform in &m.image.platforms {
        let unmet = crate::assemble::system::unmet_requirements(&m.system, |name| {
            lock.packages_for(platform).any(|l| l.name == name)
        });
        for req in unmet {
            let key = (req.setting, req.package);
            match lacking.iter_mut().find(|(k, _)| *k == key) {
                Some((_, platforms)) => platforms.push(platform.to_string()),
                None => lacking.push((key, vec![platform.to_string()])),
            }
        }
    }
    lacking
        .into_iter()
        .map(|((setting, package), platforms)| {
            format!(
                "{}: {setting} needs the package {package}, which {} does not install for {}: add `{package}` to [packages] include and run `debcast lock {}`",
                manifest.path.display(),
                lock_path.display(),
                platforms.join(", "),
                manifest.path.display()
            )
        })
        .collect()
}

/// What [`check_output`] found: problems stop the build, notes are said and the build goes on.
#[derive(Debug, Default)]
pub struct OutputCheck {
    pub problems: Vec<String>,
    pub notes: Vec<String>,
}

/// Pseudo filesystems (statfs `f_type`) an image cannot be written to.
const PSEUDO_FILESYSTEMS: &[(i64, &str)] = &[
    (0x9fa0, "proc"),
    (0x6265_6572, "sysfs"),
    (0x1cd1, "devpts"),
    (0x0027_e0eb, "cgroup"),
    (0x6367_7270, "cgroup2"),
    (0x6462_6720, "debugfs"),
    (0x7472_6163, "tracefs"),
    (0x7363_6673, "securityfs"),
    (0xcafe_4a11, "bpf"),
    (0x6165_676c, "pstore"),
    (0x6265_6570, "configfs"),
    (0x4249_4e4d, "binfmt_misc"),
    (0x6e73_6673, "nsfs"),
    (0x5049_5045, "pipefs"),
];

/// Checks `--output` as the build will use it: what exists there, the filesystem it is on, and
/// whether debcast can create files beside it.
pub fn check_output(output: &Path, kind: OutputKind, manifest: &Manifest) -> OutputCheck {
    let mut out = OutputCheck::default();
    let shown = output.display();
    // A layout names its image by the manifest's name and tag, in a grammar stricter than
    // Docker's (which a docker archive's tags follow).
    if kind == OutputKind::Oci
        && let Err(e) = crate::oci::layout::validate_ref_name(&manifest.ref_name())
    {
        out.problems.push(format!(
            "[image] name and tag: {e}; an OCI layout cannot name the image so (change them, or use --format docker-archive)"
        ));
    }
    if output.file_name().is_none() {
        out.problems.push(format!(
            "--output {shown}: names no file or directory (give a path such as out/image)"
        ));
        return out;
    }
    // The nearest ancestor that exists: the output's parents are created by the build.
    let parent = match output.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_owned(),
        _ => PathBuf::from("."),
    };
    let mut existing = parent.clone();
    while std::fs::symlink_metadata(&existing).is_err() {
        match existing.parent() {
            Some(p) if !p.as_os_str().is_empty() => existing = p.to_owned(),
            _ => {
                existing = PathBuf::from(if parent.is_absolute() { "/" } else { "." });
                break;
            }
        }
    }
    let probe = if std::fs::symlink_metadata(output).is_ok() {
        output
    } else {
        existing.as_path()
    };
    if let Some(fs) = pseudo_filesystem(probe) {
        out.problems.push(format!(
            "--output {shown}: {} is on {fs}, a pseudo filesystem of the kernel; write the image to a real directory",
            probe.display()
        ));
        return out;
    }
    if !existing.is_dir() {
        out.problems.push(format!(
            "--output {shown}: {} is not a directory, so nothing can be created below it",
            existing.display()
        ));
        return out;
    }
    // The build writes a temporary file or directory here and renames it onto the output.
    if let Err(e) = crate::cleanup::temp_file(&existing, ".debcast-check-") {
        out.problems.push(format!(
            "--output {shown}: cannot create files in {}: {e}{}",
            existing.display(),
            if e.raw_os_error() == Some(libc::EPERM) {
                " (is it immutable? see lsattr)"
            } else {
                ""
            }
        ));
        return out;
    }
    let Ok(meta) = std::fs::symlink_metadata(output) else {
        return out;
    };
    match kind {
        OutputKind::Oci => check_existing_layout(output, &meta, manifest, &mut out),
        OutputKind::DockerArchive => {
            if meta.is_dir() {
                out.problems.push(format!(
                    "--output {shown}: it is a directory; a docker archive is a file (use --format oci for a layout, or another --output)"
                ));
            } else if !meta.is_file() {
                out.problems.push(format!(
                    "--output {shown}: it exists and is not a regular file; refusing to replace it"
                ));
            } else if meta.len() != 0 && !crate::oci::docker::is_docker_archive(output) {
                out.problems.push(format!(
                    "--output {shown}: it exists and is neither empty nor a docker archive; refusing to replace it (remove it, or choose another --output)"
                ));
            }
        }
    }
    out
}

fn check_existing_layout(
    output: &Path,
    meta: &std::fs::Metadata,
    manifest: &Manifest,
    out: &mut OutputCheck,
) {
    let shown = output.display();
    if meta.file_type().is_symlink() {
        out.problems.push(format!(
            "--output {shown}: it is a symbolic link; the build replaces the output by renaming a new layout onto it, which would replace the link, not what it points to (give the layout's own path)"
        ));
        return;
    }
    if !meta.is_dir() {
        out.problems.push(format!(
            "--output {shown}: it exists and is not a directory; an OCI image layout is a directory (use --format docker-archive for a file, or another --output)"
        ));
        return;
    }
    let empty = std::fs::read_dir(output).is_ok_and(|mut d| d.next().is_none());
    if empty {
        return;
    }
    if !output.join("oci-layout").is_file() {
        out.problems.push(format!(
            "--output {shown}: it exists and is neither empty nor an OCI image layout; refusing to replace it (remove it, or choose another --output)"
        ));
        return;
    }
    let others = other_images(output, manifest);
    if !others.is_empty() {
        out.notes.push(format!(
            "--output {shown} is an OCI layout that also holds {}; the build replaces the whole layout with one holding only `{}` (copy images into one layout with `skopeo copy oci:A:REF oci:B:REF`)",
            others.join(", "),
            manifest.ref_name()
        ));
    }
}

/// The images of an existing layout that this build would not write again: their ref names, or
/// their digests where they have none.
fn other_images(layout: &Path, manifest: &Manifest) -> Vec<String> {
    let Ok(text) = std::fs::read(layout.join("index.json")) else {
        return vec!["an unreadable index.json".to_owned()];
    };
    use crate::oci::image::{ANNOTATION_REF_NAME, DescriptorExt, ImageIndex};
    let Ok(index) = serde_json::from_slice::<ImageIndex>(&text) else {
        return vec!["an index.json that is not an OCI image index".to_owned()];
    };
    let ours = manifest.ref_name();
    let own_refs: Vec<String> = std::iter::once(ours.clone())
        .chain(
            manifest
                .image
                .platforms
                .iter()
                .map(|p: &Platform| crate::oci::layout::platform_ref_name(&ours, p)),
        )
        // This image's own SBOM artifacts are replaced with it.
        .flat_map(|r| {
            let sboms = ["spdx", "cyclonedx"].map(|k| crate::sbom::sbom_ref_name(&r, k));
            std::iter::once(r).chain(sboms)
        })
        .collect();
    index
        .manifests()
        .iter()
        .filter_map(|d| match d.annotation(ANNOTATION_REF_NAME) {
            Some(n) if own_refs.iter().any(|o| o == n) => None,
            Some(n) => Some(format!("`{n}`")),
            None => Some(d.digest().to_string()),
        })
        .collect()
}

/// The name of the pseudo filesystem `path` is on, if it is on one.
fn pseudo_filesystem(path: &Path) -> Option<&'static str> {
    use std::os::unix::ffi::OsStrExt;
    let c = std::ffi::CString::new(path.as_os_str().as_bytes()).ok()?;
    let mut st: libc::statfs = unsafe { std::mem::zeroed() };
    // SAFETY: `c` is a NUL-terminated path and `st` a statfs buffer owned by this frame.
    if unsafe { libc::statfs(c.as_ptr(), &mut st) } != 0 {
        return None;
    }
    #[allow(clippy::unnecessary_cast)]
    let magic = st.f_type as i64;
    PSEUDO_FILESYSTEMS
        .iter()
        .find(|(m, _)| *m == magic)
        .map(|(_, name)| *name)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn manifest() -> Manifest {
        Manifest::parse(
            r#"
[image]
name = "img"
platforms = ["linux/amd64"]
[[source]]
archive = "debian"
suites = ["bookworm"]
keyring = "k.gpg"
[packages]
include = ["a"]
"#,
            Path::new("m.toml"),
        )
        .unwrap()
    }

    #[test]
    fn output_under_proc_a_file_and_a_foreign_directory_are_refused() {
        let m = manifest();
        let p = check_output(Path::new("/proc/img"), OutputKind::Oci, &m);
        assert!(p.problems[0].contains("proc, a pseudo filesystem"), "{p:?}");
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("f");
        std::fs::write(&file, b"mine").unwrap();
        let p = check_output(&file, OutputKind::Oci, &m);
        assert!(p.problems[0].contains("not a directory"), "{p:?}");
        let p = check_output(&file, OutputKind::DockerArchive, &m);
        assert!(
            p.problems[0].contains("neither empty nor a docker archive"),
            "{p:?}"
        );
        let p = check_output(&file.join("x"), OutputKind::Oci, &m);
        assert!(p.problems[0].contains("is not a directory"), "{p:?}");
        let p = check_output(dir.path(), OutputKind::Oci, &m);
        assert!(
            p.problems[0].contains("neither empty nor an OCI image layout"),
            "{p:?}"
        );
        let p = check_output(dir.path(), OutputKind::DockerArchive, &m);
        assert!(p.problems[0].contains("it is a directory"), "{p:?}");
        let p = check_output(&dir.path().join("new/deeper/img"), OutputKind::Oci, &m);
        assert!(p.problems.is_empty() && p.notes.is_empty(), "{p:?}");
        // A link to a layout: the rename would replace the link, so its own path is asked for.
        let layout = dir.path().join("layout");
        std::fs::create_dir(&layout).unwrap();
        let link = dir.path().join("link");
        std::os::unix::fs::symlink(&layout, &link).unwrap();
        let p = check_output(&link, OutputKind::Oci, &m);
        assert!(p.problems[0].contains("it is a symbolic link"), "{p:?}");
    }

    /// A name and tag a layout cannot carry are refused before anything is downloaded for a
    /// layout, and accepted for a docker archive, whose tags follow Docker's wider grammar.
    #[test]
    fn a_ref_name_a_layout_cannot_carry_is_refused_for_layouts_only() {
        let mut m = manifest();
        let dir = tempfile::tempdir().unwrap();
        for tag in ["a b", "_dev", "v1.0-"] {
            m.image.tag = Some(tag.into());
            let p = check_output(&dir.path().join("img"), OutputKind::Oci, &m);
            assert!(
                p.problems
                    .iter()
                    .any(|q| q.contains(&format!("`img:{tag}`")) && q.contains("[image] name and tag")),
                "{tag}: {p:?}"
            );
            let p = check_output(&dir.path().join("img.tar"), OutputKind::DockerArchive, &m);
            assert!(p.problems.is_empty(), "{tag}: {p:?}");
        }
        m.image.tag = Some("v1.33.0-go1.24.4-bullseye.0".into());
        let p = check_output(&dir.path().join("img"), OutputKind::Oci, &m);
        assert!(p.problems.is_empty(), "{p:?}");
    }

    #[test]
    fn a_layout_with_other_images_is_named() {
        let m = manifest();
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("oci-layout"), b"{}").unwrap();
        std::fs::write(
            dir.path().join("index.json"),
            format!(
                r#"{{"schemaVersion":2,"manifests":[
                {{"mediaType":"application/vnd.oci.image.index.v1+json","size":1,"digest":"sha256:{0}","annotations":{{"org.opencontainers.image.ref.name":"img"}}}},
                {{"mediaType":"application/vnd.oci.image.manifest.v1+json","size":2,"digest":"sha256:{1}","annotations":{{"org.opencontainers.image.ref.name":"img-linux-amd64"}}}},
                {{"mediaType":"application/vnd.oci.image.manifest.v1+json","size":3,"digest":"sha256:{2}","annotations":{{"org.opencontainers.image.ref.name":"other:1"}}}}]}}"#,
                "1".repeat(64),
                "2".repeat(64),
                "3".repeat(64)
            ),
        )
        .unwrap();
        let p = check_output(dir.path(), OutputKind::Oci, &m);
        assert!(p.problems.is_empty(), "{p:?}");
        assert_eq!(p.notes.len(), 1);
        assert!(
            p.notes[0].contains("also holds `other:1`; the build replaces"),
            "{p:?}"
        );
    }
}
