//! A binary package as a `Packages` index describes it: what the resolver reasons about and what
//! the lockfile pins.

use crate::hash::Sha256Digest;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub enum MultiArch {
    #[default]
    No,
    Same,
    Foreign,
    Allowed,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PackageRecord {
    pub name: String,
    pub version: String,
    /// `amd64`, `arm64`, …, or `all`.
    pub architecture: String,
    pub multi_arch: MultiArch,
    pub essential: bool,
    /// `required`, `important`, `standard`, `optional`, `extra` (empty when absent).
    pub priority: String,
    // Relationship fields, verbatim (the resolver parses them).
    pub depends: Option<String>,
    pub pre_depends: Option<String>,
    pub recommends: Option<String>,
    pub provides: Option<String>,
    pub conflicts: Option<String>,
    pub breaks: Option<String>,
    pub replaces: Option<String>,
    /// Pool path relative to the archive root.
    pub filename: String,
    pub size: u64,
    pub sha256: Sha256Digest,
    /// Where it was found: logical archive name, suite, component.
    pub archive: String,
    pub suite: String,
    pub component: String,
}
