//! `debcast diff OLD NEW`: load both sides, fetch the `.deb`s whose changelogs are needed (unless
//! `--offline`), call [`crate::explain::diff`], print.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;

use crate::cli::{DiffArgs, DiffFormat};
use crate::explain::diff::{self, Side};
use crate::fetch::mirrors::Mirrors;
use crate::fetch::packages::{FetchOptions, fetch_packages};
use crate::fetch::transport::{Transport, TransportConfig};
use crate::lockfile::{LockedPackage, Lockfile};
use crate::store::Store;

fn read_side(path: &Path) -> anyhow::Result<(Side, Option<Lockfile>)> {
    if path.is_dir() {
        return Ok((diff::read_layout(path)?, None));
    }
    let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let lock = Lockfile::parse(&text, path)?;
    Ok((Side::from_lock(&lock), Some(lock)))
}

pub fn run(args: DiffArgs) -> anyhow::Result<ExitCode> {
    let (old, _) = read_side(&args.old)?;
    let (new, new_lock) = read_side(&args.new)?;
    let mut d = diff::compare(&old, &new);
    let needed = d.needed();
    let store = Store::at(&args.cache_dir);
    let missing: Vec<LockedPackage> = needed
        .iter()
        .filter(|p| !diff::deb_in_store(&store, p))
        .cloned()
        .collect();
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
    diff::read_changelogs(&mut d, &new, &store, &|p| diff::deb_in_store(&store, p))?;
    let out = match args.format {
        DiffFormat::Text => diff::render_text(&d),
        DiffFormat::Markdown => diff::render_markdown(&d),
        DiffFormat::Json => diff::render_json(&d)?,
    };
    print!("{out}");
    Ok(ExitCode::SUCCESS)
}

fn transport(mirrors: &[String], releases: &[crate::lockfile::LockedRelease]) -> anyhow::Result<Transport> {
    let env = std::env::var(crate::fetch::mirrors::MIRRORS_ENV).ok();
    let apt_root = std::env::var_os("DEBCAST_APT_ROOT").map_or_else(|| PathBuf::from("/"), PathBuf::from);
    let mirrors = Mirrors::from_parts(mirrors, env.as_deref(), Some(&apt_root))?.with_releases(releases);
    Ok(Transport::new(mirrors, TransportConfig::default()))
}
