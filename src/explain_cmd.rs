//! CLI glue for `debcast diff`, `debcast why` and the SBOM lines of `build`: load inputs, fetch
//! what the store lacks, call [`crate::explain`] / [`crate::sbom`], print.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;

use crate::cli::{DiffArgs, DiffFormat, WhyArgs};
use crate::explain::diff::{self, Side};
use crate::fetch::Expected;
use crate::fetch::mirrors::Mirrors;
use crate::fetch::packages::{FetchOptions, fetch_packages};
use crate::fetch::transport::{Transport, TransportConfig};
use crate::lockfile::{LockedPackage, Lockfile};
use crate::platform::Platform;
use crate::store::{Kind, Store};

/// Prints one line per platform about its SBOMs and, with `--sbom DIR`, writes them there.
pub(crate) fn report_sboms(sboms: &[crate::sbom::Documents], dir: Option<&Path>) -> anyhow::Result<()> {
    for docs in sboms {
        let bom: serde_json::Value = serde_json::from_slice(&docs.cyclonedx)?;
        let components = bom["components"].as_array().map_or(0, Vec::len);
        let licensed = bom["components"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|c| c.get("licenses").is_some())
            .count();
        tracing::info!(
            "{}: SBOMs (SPDX 2.3, CycloneDX 1.6): {components} component(s), {licensed} with a machine-readable license{}",
            docs.platform,
            if dir.is_none() { "" } else { ", written to --sbom" }
        );
    }
    if let Some(dir) = dir {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        for docs in sboms {
            for (ext, bytes) in [("spdx.json", &docs.spdx), ("cdx.json", &docs.cyclonedx)] {
                let path = dir.join(format!("{}.{ext}", docs.stem()));
                write_beside(&path, bytes)?;
            }
        }
    }
    Ok(())
}

/// Writes `bytes` to a temporary file beside `path` and renames it into place.
fn write_beside(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    let parent = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let mut tmp = tempfile::Builder::new()
        .prefix(&crate::cleanup::prefix(".sbom-"))
        .tempfile_in(parent)
        .with_context(|| format!("writing {}", path.display()))?;
    std::io::Write::write_all(&mut tmp, bytes).with_context(|| format!("writing {}", path.display()))?;
    tmp.persist(path)
        .with_context(|| format!("writing {}", path.display()))?;
    Ok(())
}

fn read_side(path: &Path) -> anyhow::Result<(Side, Option<Lockfile>)> {
    if path.is_dir() {
        return Ok((diff::read_layout(path)?, None));
    }
    let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let lock = Lockfile::parse(&text, path)?;
    Ok((Side::from_lock(&lock), Some(lock)))
}

pub fn diff(args: DiffArgs) -> anyhow::Result<ExitCode> {
    let (old, _) = read_side(&args.old)?;
    let (new, new_lock) = read_side(&args.new)?;
    let mut d = diff::compare(&old, &new);
    let needed = d.needed();
    let store = Store::at(&args.cache_dir);
    let missing: Vec<LockedPackage> = needed.iter().filter(|p| !in_store(&store, p)).cloned().collect();
    if !missing.is_empty() {
        if args.offline {
            tracing::warn!(
                "{} changed package(s) not in {}: their changelogs are not read (--offline)",
                missing.len(),
                store.root().display()
            );
        } else {
            let store = Store::open(&args.cache_dir)?;
            let releases = new_lock
                .as_ref()
                .map(|l| l.releases.as_slice())
                .unwrap_or_default();
            let transport = transport(&args.mirrors, releases)?;
            let progress = crate::fetch::progress::for_stderr();
            fetch_packages(
                &missing,
                &store,
                &transport,
                &FetchOptions::default(),
                progress.as_ref(),
            )
            .context("fetching the new .debs to read their changelogs")?;
        }
    }
    diff::read_changelogs(&mut d, &new, &store, &|p| in_store(&store, p))?;
    let out = match args.format {
        DiffFormat::Text => diff::render_text(&d),
        DiffFormat::Markdown => diff::render_markdown(&d),
        DiffFormat::Json => diff::render_json(&d)?,
    };
    print!("{out}");
    Ok(ExitCode::SUCCESS)
}

fn in_store(store: &Store, p: &LockedPackage) -> bool {
    store.contains(
        Kind::Deb,
        &Expected {
            size: p.size,
            sha256: p.sha256,
        },
    )
}

fn transport(mirrors: &[String], releases: &[crate::lockfile::LockedRelease]) -> anyhow::Result<Transport> {
    let env = std::env::var(crate::fetch::mirrors::MIRRORS_ENV).ok();
    let apt_root = std::env::var_os("DEBCAST_APT_ROOT").map_or_else(|| PathBuf::from("/"), PathBuf::from);
    let mirrors = Mirrors::from_parts(mirrors, env.as_deref(), Some(&apt_root))?.with_releases(releases);
    Ok(Transport::new(mirrors, TransportConfig::default()))
}

pub fn why(args: WhyArgs) -> anyhow::Result<ExitCode> {
    let inputs = crate::commands::load_manifest(&args.common)?;
    let manifest = &inputs.manifest.manifest;
    let lock = Lockfile::load_for(&inputs.lock_path, manifest, &inputs.manifest.path)?;
    let platforms: Vec<Platform> = match &args.platform {
        Some(p) => vec![p.parse().with_context(|| format!("--platform {p}"))?],
        None => manifest.image.platforms.clone(),
    };
    let wanted: Vec<LockedPackage> = lock
        .packages
        .iter()
        .filter(|p| platforms.contains(&p.platform))
        .cloned()
        .collect();
    for name in &args.packages {
        if !wanted.iter().any(|p| &p.name == name) {
            anyhow::bail!(
                "{} is not locked for {} in {}",
                crate::text::escape(name),
                platforms
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join(", "),
                inputs.lock_path.display()
            );
        }
    }
    let store = if args.common.offline {
        let store = Store::at(&args.common.cache_dir);
        crate::fetch::packages::check_offline_inputs(&wanted, &[], &store, &inputs.manifest.path)?;
        store
    } else {
        let store = Store::open(&args.common.cache_dir)?;
        let mirrors = crate::commands::mirrors(&args.common)?.with_releases(&lock.releases);
        let transport = crate::commands::transport(&args.common, mirrors);
        let progress = crate::fetch::progress::for_stderr();
        fetch_packages(
            &wanted,
            &store,
            &transport,
            &FetchOptions::default(),
            progress.as_ref(),
        )
        .with_context(|| format!("fetching the packages of {}", inputs.lock_path.display()))?;
        store
    };
    let answers = crate::explain::why::why(manifest, &lock, &store, &platforms, &args.packages)?;
    for (name, answers) in args.packages.iter().zip(&answers) {
        if args.packages.len() > 1 {
            println!("{}:", crate::text::escape(name));
        }
        print!("{}", crate::explain::why::render(name, answers));
    }
    Ok(ExitCode::SUCCESS)
}
