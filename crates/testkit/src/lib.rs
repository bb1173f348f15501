//! Test support for debcast.

pub mod oci;
