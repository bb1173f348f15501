//! `debcast why MANIFEST PKG…`: the chain of dependencies that brought each package into the lock.

use std::process::ExitCode;

use anyhow::Context;

use crate::cli::WhyArgs;
use crate::fetch::packages::{FetchOptions, fetch_packages};
use crate::lockfile::{LockedPackage, Lockfile};
use crate::platform::Platform;
use crate::store::Store;

pub fn run(args: WhyArgs) -> anyhow::Result<ExitCode> {
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
