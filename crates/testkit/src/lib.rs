//! Test support for debcast.

pub mod deb;
