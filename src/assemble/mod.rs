//! (in progress)
pub mod system;
