//! `debcast why MANIFEST PKG…`: the chain of dependencies that brought each package into the lock.

use std::process::ExitCode;

use anyhow::Context;

use crate::cli::WhyArgs;
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
    // The answer comes from the signed indices' records of the locked packages, which the
    // lock's proof reads (from the store, else the mirrors by hash; offline from the store).
    let store = if args.common.offline {
        Store::at(&args.common.cache_dir)
    } else {
        Store::open(&args.common.cache_dir)?
    };
    let records = crate::commands::verify_lock(&args.common, &inputs, &lock, &wanted, &store)?;
    let answers = crate::explain::why::why(manifest, &lock, &records, &platforms, &args.packages);
    for (name, answers) in args.packages.iter().zip(&answers) {
        if args.packages.len() > 1 {
            println!("{}:", crate::text::escape(name));
        }
        print!("{}", crate::explain::why::render(name, answers));
    }
    Ok(ExitCode::SUCCESS)
}
