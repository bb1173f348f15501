//! debcast: hermetic, reproducible OCI base images from pinned Debian packages.
//!
//! The modules follow the pipeline:
//!
//! ```text
//! manifest ──lock──> lockfile ──fetch──> store ──unpack──> entries ──assemble──> tree ──write──> OCI layout
//! ```
//!
//! - [`manifest`], [`lockfile`]: the two input files.
//! - [`archive`]: signed Release files and Packages indices; [`resolve`]: dependency resolution.
//! - [`fetch`]: the HTTP transport and mirrors; [`store`]: the content-addressed `.deb` store.
//! - [`deb`]: reading `.deb` files (ar, control, data tar); [`entry`]: the entries they yield.
//! - [`assemble`]: the image filesystem, including what dpkg and maintainer scripts would have done.
//! - [`debian`]: Debian's own rules (version order, relations, deb822, dates), used by all.
//! - [`oci`]: layers, config, manifests, index, image layout and docker-archive.

pub mod archive;
pub mod artifact;
pub mod assemble;
pub mod build;
pub mod cleanup;
pub mod cli;
pub mod commands;
pub mod deb;
pub mod debian;
pub mod entry;
pub mod explain;
pub mod fetch;
pub mod hash;
pub mod layering;
pub mod lockfile;
pub mod manifest;
pub mod oci;
pub mod platform;
pub mod preflight;
pub mod remote;
pub mod resolve;
pub mod sbom;
pub mod store;
pub mod text;
