//! Test support for debcast: it only produces bytes and judges outputs, and never depends on
//! debcast itself, so it can judge it.

pub mod archive;
pub mod deb;
pub mod oci;
pub mod server;
