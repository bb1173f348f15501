//! `debcast merge DIR… --output DIR`: per-platform layouts (shards) of one lock into one layout.

use std::process::ExitCode;

use anyhow::Context;

/// `debcast merge DIR… --output DIR`.
pub fn run(args: crate::cli::MergeArgs) -> anyhow::Result<ExitCode> {
    super::build::ensure_parent(&args.output)?;
    let summary = crate::oci::merge::merge(&args.layouts, &args.output)
        .with_context(|| format!("merging into {}", args.output.display()))?;
    if summary.complete {
        tracing::info!(
            "merged {} platform(s) ({} blobs): {}",
            summary.platforms.len(),
            summary.blobs,
            summary.platforms.join(", ")
        );
    } else {
        tracing::info!(
            "merged {} platform(s) ({} blobs) into a shard: {}; merge it with the others' shards",
            summary.platforms.len(),
            summary.blobs,
            summary.platforms.join(", ")
        );
    }
    println!("{}", args.output.display());
    Ok(ExitCode::SUCCESS)
}
