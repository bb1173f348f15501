//! Explaining an image and its changes: `debcast diff` ([`diff`], with Debian changelogs read by
//! [`changelog`]) and `debcast why` ([`why`]).

pub mod changelog;
pub mod diff;
pub mod why;
