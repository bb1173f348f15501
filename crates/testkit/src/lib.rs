//! Test support for debcast.

pub mod archive;
