//! Test support for debcast.
pub mod server;
