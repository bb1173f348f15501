//! Keeps a failing mirror from flooding the output: the first failure of each mirror is said
//! once (what is wrong with it and that its files move on), every later one is counted (and
//! shown at debug level), and the summary says per mirror how many files moved on.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Mutex;

use super::AttemptError;

#[derive(Default)]
struct Mirror {
    /// What is wrong with it, from its first failure.
    label: String,
    retries: usize,
    moved_on: BTreeSet<String>,
}

/// Failures per mirror, from several download threads.
#[derive(Default)]
pub struct MirrorTally {
    mirrors: Mutex<BTreeMap<String, Mirror>>,
}

/// What a failure says about the mirror (the same words for every file it fails).
fn label(error: &AttemptError) -> String {
    match error {
        AttemptError::Connect(m) if m.to_ascii_lowercase().contains("refused") => {
            "refuses connections".to_owned()
        }
        AttemptError::Connect(m) => format!("cannot be connected to ({m})"),
        AttemptError::Timeout(_) => "times out".to_owned(),
        AttemptError::Interrupted(_) => "breaks connections".to_owned(),
        AttemptError::Status { code, .. } => format!("answers HTTP {code}"),
        AttemptError::NotFound(_) | AttemptError::NotFoundFile(_) => "does not have some files".to_owned(),
        AttemptError::Tls(m) => format!("fails TLS ({m})"),
        other => format!("fails ({other})"),
    }
}

impl MirrorTally {
    /// Records one event; the line to print if it is the mirror's first failure.
    fn record(&self, what: &str, mirror: &str, error: &AttemptError, gave_up: bool) -> Option<String> {
        let Ok(mut mirrors) = self.mirrors.lock() else {
            return None;
        };
        let first = !mirrors.contains_key(mirror);
        let entry = mirrors.entry(mirror.to_owned()).or_insert_with(|| Mirror {
            label: label(error),
            ..Mirror::default()
        });
        if gave_up {
            entry.moved_on.insert(what.to_owned());
        } else {
            entry.retries += 1;
        }
        tracing::debug!(
            "{what}: {mirror}: {error}{}",
            if gave_up {
                "; moving on to the next mirror"
            } else {
                "; retrying"
            }
        );
        first.then(|| {
            format!(
                "{mirror}: {} ({error}); its files move on to the next mirror after their retries (counted at the end; -v shows each)",
                entry.label
            )
        })
    }

    /// A transient failure, retried: a line the first time the mirror fails.
    pub fn retrying(&self, what: &str, mirror: &str, error: &AttemptError) -> Option<String> {
        self.record(what, mirror, error, false)
    }

    /// `mirror` was given up on for `what`: a line the first time the mirror fails.
    pub fn gave_up(&self, what: &str, mirror: &str, error: &AttemptError) -> Option<String> {
        self.record(what, mirror, error, true)
    }

    /// One line per mirror that failed: what is wrong and how many files moved on.
    pub fn summary(&self) -> Vec<String> {
        let Ok(mirrors) = self.mirrors.lock() else {
            return Vec::new();
        };
        mirrors
            .iter()
            .map(|(url, m)| {
                format!(
                    "{url}: {}: {} file(s) moved on to the next mirror, {} retr{}",
                    m.label,
                    m.moved_on.len(),
                    m.retries,
                    if m.retries == 1 { "y" } else { "ies" }
                )
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_line_per_mirror_then_a_count() {
        let tally = MirrorTally::default();
        let refused = AttemptError::Connect("Connection refused (os error 111)".into());
        assert!(tally.retrying("a", "http://m/", &refused).is_some());
        assert!(tally.retrying("b", "http://m/", &refused).is_none());
        assert!(tally.gave_up("a", "http://m/", &refused).is_none());
        assert!(tally.gave_up("b", "http://m/", &refused).is_none());
        assert_eq!(
            tally.summary(),
            ["http://m/: refuses connections: 2 file(s) moved on to the next mirror, 2 retries"]
        );
    }
}
