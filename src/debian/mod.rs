//! Debian's own rules, written once: the dpkg version order ([`version`]), relationship fields
//! ([`relation`]), deb822 paragraphs ([`deb822`]) and the dates Release files and images carry
//! ([`date`]). Every pipeline stage calls these; this module imports from none of them.

pub mod date;
pub mod deb822;
pub mod relation;
pub mod version;
