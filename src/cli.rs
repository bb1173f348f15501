//! The command line's argument types (clap), and nothing else: what each verb does is in
//! [`crate::commands`], one file per verb.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};

#[derive(Debug, Parser)]
#[command(
    name = "debcast",
    version,
    about = "Hermetic, reproducible OCI base images from pinned Debian packages"
)]
pub struct Cli {
    /// More output (-v: debug, -vv: trace). RUST_LOG overrides.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
    /// Only errors.
    #[arg(short, long, global = true)]
    pub quiet: bool,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Resolve the manifest's packages against the signed archives into the lockfile.
    Lock(LockArgs),
    /// Download every locked .deb into the package store, verified.
    Fetch(FetchArgs),
    /// Build the OCI image from the lockfile and the package store.
    Build(BuildArgs),
    /// Combine per-platform layouts of one lock (`build --platform P`, on separate machines)
    /// into one multi-platform layout, byte-identical to building every platform on one machine.
    Merge(MergeArgs),
    /// Check or tidy the package store.
    #[command(subcommand)]
    Store(StoreCommand),
    /// What changed between two lockfiles (or two OCI layouts built by debcast): packages added,
    /// removed and changed per platform, with the Debian changelog entries and CVEs in between.
    Diff(DiffArgs),
    /// The chain of dependencies from the manifest's packages that brought a locked package in.
    Why(WhyArgs),
}

#[derive(Debug, Args)]
pub struct DiffArgs {
    /// The old lockfile, or an OCI layout directory built by debcast.
    pub old: PathBuf,
    /// The new lockfile, or an OCI layout directory built by debcast.
    pub new: PathBuf,
    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    pub format: DiffFormat,
    /// The package store (the new .debs' changelogs are read from it).
    #[arg(long, default_value = "vendor", env = "DEBCAST_CACHE_DIR")]
    pub cache_dir: PathBuf,
    /// A mirror for an archive, ARCHIVE=URL; repeat to give several, tried in order.
    #[arg(long = "mirror", value_name = "ARCHIVE=URL")]
    pub mirrors: Vec<String>,
    /// Never open a network connection: changelogs of .debs the store lacks are not read.
    #[arg(long)]
    pub offline: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DiffFormat {
    Text,
    Markdown,
    Json,
}

#[derive(Debug, Args)]
pub struct WhyArgs {
    #[command(flatten)]
    pub common: Common,
    /// The locked package(s) to explain.
    #[arg(required = true)]
    pub packages: Vec<String>,
    /// Only this platform of the manifest.
    #[arg(long)]
    pub platform: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum StoreCommand {
    /// Re-hash every entry (debs, indices, artifacts, layer blobs) and name each damaged one by
    /// path; exits 1 if any is damaged, unless --repair removed them (`debcast fetch` and
    /// `debcast build` then download or rebuild what they need).
    Verify(StoreVerifyArgs),
    /// Remove what the given locks do not need: other .deb files and what was derived from them,
    /// layer blobs no cache record names, and temporary files of debcast processes that are no
    /// longer running (in tmp/ and beside outputs builds recorded). Safe while other debcast
    /// processes use the store: nothing a live process owns is removed.
    Gc(StoreGcArgs),
}

#[derive(Debug, Args)]
pub struct StoreVerifyArgs {
    /// The package store.
    #[arg(long, default_value = "vendor", env = "DEBCAST_CACHE_DIR")]
    pub cache_dir: PathBuf,
    /// Delete the damaged entries found (and exit 0).
    #[arg(long)]
    pub repair: bool,
}

#[derive(Debug, Args)]
pub struct StoreGcArgs {
    /// Manifests whose lockfiles (the manifest's path with the extension .lock) say what to keep.
    #[arg(required_unless_present = "lockfiles")]
    pub manifests: Vec<PathBuf>,
    /// Lockfiles that say what to keep (repeatable).
    #[arg(long = "lockfile", value_name = "LOCKFILE")]
    pub lockfiles: Vec<PathBuf>,
    /// The package store.
    #[arg(long, default_value = "vendor", env = "DEBCAST_CACHE_DIR")]
    pub cache_dir: PathBuf,
    /// Only list what would be removed.
    #[arg(long)]
    pub dry_run: bool,
}

#[derive(Debug, Args)]
pub struct MergeArgs {
    /// The per-platform OCI layouts (from `debcast build MANIFEST --platform P --output DIR`).
    #[arg(required = true)]
    pub layouts: Vec<PathBuf>,
    /// The merged layout.
    #[arg(long, short)]
    pub output: PathBuf,
}

/// Options every command shares.
#[derive(Debug, Args, Clone)]
pub struct Common {
    /// The image manifest (TOML).
    pub manifest: PathBuf,
    /// The lockfile [default: the manifest's path with the extension .lock]
    #[arg(long)]
    pub lockfile: Option<PathBuf>,
    /// The package store.
    #[arg(long, default_value = "vendor", env = "DEBCAST_CACHE_DIR")]
    pub cache_dir: PathBuf,
    /// A mirror for an archive, ARCHIVE=URL; repeat to give several, tried in order.
    #[arg(long = "mirror", value_name = "ARCHIVE=URL")]
    pub mirrors: Vec<String>,
    /// Fetch `[[artifact]]` URLs starting with PREFIX from URL instead (an internal mirror of
    /// that host), PREFIX=URL, both ending with `/`; repeatable, tried in order, in place of the
    /// artifact's own URL [env: DEBCAST_ARTIFACT_MIRRORS, items separated by spaces or commas].
    #[arg(long = "artifact-mirror", value_name = "PREFIX=URL")]
    pub artifact_mirrors: Vec<String>,
    /// Never open a network connection; fail naming whatever is missing.
    #[arg(long)]
    pub offline: bool,
    /// Parallel downloads.
    #[arg(long, default_value_t = 8, env = "DEBCAST_JOBS")]
    pub jobs: usize,
    #[command(flatten)]
    pub network: NetworkArgs,
    #[command(flatten)]
    pub remote: RemoteArgs,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum RemoteCacheMode {
    /// Take what the registry has; push nothing.
    Read,
    /// Take what the registry has; push what this run used that the registry lacks.
    #[default]
    ReadWrite,
}

/// A shared cache of the store in an OCI registry (see the README, "Beyond one machine").
#[derive(Debug, Args, Clone, Default)]
#[command(next_help_heading = "Remote cache")]
pub struct RemoteArgs {
    /// An OCI registry repository that caches the store's content for other machines:
    /// `https://registry.example/team/debcast-cache` (`http://` for a loopback registry).
    /// Read before the mirrors, verified by digest; a registry that fails costs a warning and
    /// local work, never the build. Credentials: DEBCAST_REMOTE_CACHE_USERNAME/_PASSWORD, else
    /// Docker/Podman config.json (auths, credential helpers).
    #[arg(long, value_name = "URL", env = "DEBCAST_REMOTE_CACHE")]
    pub remote_cache: Option<String>,
    /// `read`: only take from the remote cache; `read-write`: also push what it lacks.
    #[arg(long, value_enum, default_value_t = RemoteCacheMode::ReadWrite, env = "DEBCAST_REMOTE_CACHE_MODE")]
    pub remote_cache_mode: RemoteCacheMode,
}

/// How hard downloads try. Durations take a unit: `500ms`, `15s`, `2m`, `1h` (bare numbers are
/// seconds).
#[derive(Debug, Args, Clone, Default)]
#[command(next_help_heading = "Network")]
pub struct NetworkArgs {
    /// Transient failures (timeouts, resets, truncated bodies, 408, 429, 5xx) retried per mirror
    /// before the next mirror is tried [default: 5]
    #[arg(long, value_name = "N", env = "DEBCAST_RETRIES")]
    pub retries: Option<u32>,
    /// Give up connecting to a mirror after this long [default: 15s]
    #[arg(long, value_name = "DURATION", env = "DEBCAST_CONNECT_TIMEOUT", value_parser = crate::fetch::parse_duration)]
    pub connect_timeout: Option<Duration>,
    /// Fail an attempt that receives no byte for this long [default: 30s]
    #[arg(long, value_name = "DURATION", env = "DEBCAST_STALL_TIMEOUT", value_parser = crate::fetch::parse_duration)]
    pub stall_timeout: Option<Duration>,
    /// Race a transfer that has received nothing for this long with a second request (the next
    /// mirror's, or the same one resuming with Range); the first to deliver carries on. 0 turns
    /// hedging off [default: a quarter of the stall timeout; for the first hedge of a request
    /// still waiting for its first byte, 3 times the 95th percentile of this run's times to
    /// first byte, at least 50ms]
    #[arg(long, value_name = "DURATION", env = "DEBCAST_HEDGE_AFTER", value_parser = crate::fetch::parse_duration)]
    pub hedge_after: Option<Duration>,
    /// Give up on one file after this long, across all its attempts and mirrors [default: 1h]
    #[arg(long, value_name = "DURATION", env = "DEBCAST_DEADLINE", value_parser = crate::fetch::parse_duration)]
    pub deadline: Option<Duration>,
    /// The first pause before a retry; doubles with each retry, with jitter [default: 500ms]
    #[arg(long, value_name = "DURATION", env = "DEBCAST_RETRY_BACKOFF", value_parser = crate::fetch::parse_duration)]
    pub retry_backoff: Option<Duration>,
    /// The longest Retry-After honoured; a mirror asking for longer is tried after the others
    /// [default: 60s]
    #[arg(long, value_name = "DURATION", env = "DEBCAST_MAX_RETRY_AFTER", value_parser = crate::fetch::parse_duration)]
    pub max_retry_after: Option<Duration>,
}

#[derive(Debug, Args)]
#[command(after_help = LOCK_EXIT_CODES)]
pub struct LockArgs {
    #[command(flatten)]
    pub common: Common,
    /// Words after the manifest: refused, naming `--update=NAME` (a package name given to
    /// `--update` with a space would otherwise be taken for the manifest, or the manifest for it).
    #[arg(hide = true)]
    pub stray: Vec<String>,
    #[command(flatten)]
    pub mode: LockMode,
}

/// What `lock --help` says about its exit codes (also in the README).
pub const LOCK_EXIT_CODES: &str = "Exit codes: 0 done (with --check: the lock is fresh, proven, and \
no locked package has a newer candidate); 1 error; 2 (--check) the lockfile is stale or missing; \
3 (--check) the lock is fresh and proven but newer candidates exist (`lock --update` moves them).";

/// `--update` and `--check`.
#[derive(Debug, Args)]
#[command(next_help_heading = "Lock")]
pub struct LockMode {
    /// Move packages (and artifacts) to the newest candidates: all of them with a bare `--update`,
    /// or only those named, as `--update=NAME[,NAME…]` (repeatable; the `=` is required, so the
    /// manifest is never taken for a name). A name the lock does not hold is an error.
    #[arg(
        long,
        num_args = 0..=1,
        require_equals = true,
        value_delimiter = ',',
        action = clap::ArgAction::Append,
        value_name = "PKG"
    )]
    pub update: Option<Vec<String>>,
    /// Write nothing; say whether the lockfile is fresh against the manifest, proven against the
    /// signed indices, and whether newer candidates exist (exit codes below).
    #[arg(long, conflicts_with = "update")]
    pub check: bool,
}

#[derive(Debug, Args)]
pub struct FetchArgs {
    #[command(flatten)]
    pub common: Common,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Oci,
    DockerArchive,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CompressionArg {
    Gzip,
    Zstd,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LayeringArg {
    Flat,
    Budget,
}

#[derive(Debug, Args)]
pub struct BuildArgs {
    #[command(flatten)]
    pub common: Common,
    /// Where to write the image (a directory for oci, a file for docker-archive).
    #[arg(help_heading = "Build", long, short)]
    pub output: PathBuf,
    #[arg(help_heading = "Build", long, value_enum, default_value_t = Format::Oci)]
    pub format: Format,
    /// The platform to build: with docker-archive, the one it holds [default: the manifest's
    /// first]; with oci, build only this one of the manifest's platforms [default: all].
    #[arg(help_heading = "Build", long)]
    pub platform: Option<String>,
    /// Timestamps in the image [default: SOURCE_DATE_EPOCH, else the newest Release date of the lock].
    #[arg(help_heading = "Build", long, env = "SOURCE_DATE_EPOCH")]
    pub source_date_epoch: Option<u64>,
    /// Layer compression.
    #[arg(help_heading = "Build", long, value_enum, default_value_t = CompressionArg::Gzip)]
    pub compression: CompressionArg,
    /// Compression level [default: 6 for gzip, 3 for zstd].
    #[arg(help_heading = "Build", long)]
    pub compression_level: Option<u32>,
    /// Layering: `flat` (one layer) or `budget` (shared package layers, then a generated layer)
    /// [default: the manifest's `[image] layering`, else budget].
    #[arg(help_heading = "Build", long, value_enum)]
    pub layering: Option<LayeringArg>,
    /// Most layers budget layering may use [default: the manifest's `[image] layers`, else 50].
    #[arg(help_heading = "Build", long)]
    pub layers: Option<usize>,
    /// Neither read nor fill the layer cache in the package store (compress every layer).
    #[arg(help_heading = "Build", long)]
    pub no_layer_cache: bool,
    /// Write a JSON report of what debcast could not emulate, package by package.
    #[arg(help_heading = "Build", long)]
    pub report: Option<PathBuf>,
    /// Also write each platform's SBOMs as plain files into DIR (`linux-amd64.spdx.json`,
    /// `linux-amd64.cdx.json`, …).
    #[arg(help_heading = "Build", long, value_name = "DIR", conflicts_with = "no_sbom")]
    pub sbom: Option<PathBuf>,
    /// Do not generate SBOMs (an OCI layout then lists only the image, as before SBOMs).
    #[arg(help_heading = "Build", long)]
    pub no_sbom: bool,
}
