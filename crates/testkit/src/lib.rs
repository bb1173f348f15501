//! Test support for debcast.
