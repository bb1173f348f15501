//! One installed package as the emulations see it, and the install round that unpacks and
//! configures it.

use std::collections::BTreeMap;

/// One installed package, as the dpkg database needs to describe it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InstalledPackage {
    pub name: String,
    pub version: String,
    pub architecture: String,
    /// The `control` file's fields in file order, values verbatim (continuation lines included,
    /// without the leading field name and `: `).
    pub control_fields: Vec<(String, String)>,
    /// Every other control member by name: `postinst`, `conffiles`, `md5sums`, `shlibs`,
    /// `triggers`, `templates`, …
    pub members: BTreeMap<String, Vec<u8>>,
    /// Normalised paths this package shipped, directories included, in archive order, **as
    /// packaged** (before any merged-/usr rewriting): `bin/bash`, not `usr/bin/bash`. This is what
    /// dpkg records in `info/<pkg>.list` on a merged-/usr system, and what keeps a later
    /// `dpkg -i` inside the image from deleting files it believes vanished.
    pub files: Vec<String>,
    /// The install round that unpacks and configures it.
    pub round: Round,
    /// Whether dpkg processes the triggers that packages configured before it await, right
    /// before it configures it ([`crate::assemble::configure_order::ConfigurePlan`]).
    pub after_awaited_triggers: bool,
}

/// The rounds a Debian install unpacks and configures packages in
/// ([`crate::assemble::configure_order`]): a round's preinsts all run (as its packages are
/// unpacked) before its postinsts, and a round is configured before the next one is unpacked —
/// so a package's preinst sees what its `Pre-Depends` targets' postinsts did (mariadb-server's
/// `adduser` runs with the shadow files passwd's postinst turned on).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Round {
    /// The Essential set and what it depends on (debootstrap's and mmdebstrap's `dpkg --install`).
    Essential,
    /// What apt configures while it unpacks: `Pre-Depends` targets and their dependencies.
    Early,
    /// Everything else (apt's closing `dpkg --configure --pending`).
    #[default]
    Pending,
}

impl Round {
    /// The rounds in the order an install goes through them.
    pub const ALL: [Round; 3] = [Round::Essential, Round::Early, Round::Pending];
}

impl InstalledPackage {
    /// The first control field named `name` (case-insensitive, as dpkg compares field names).
    pub fn field(&self, name: &str) -> Option<&str> {
        self.control_fields
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// A control member as text, if present and UTF-8.
    pub fn member_text(&self, name: &str) -> Option<&str> {
        self.members.get(name).and_then(|b| std::str::from_utf8(b).ok())
    }

    /// A maintainer script as the walk reads it, if present. Bytes that are not UTF-8 (a
    /// Latin-1 `ö` in exim4-config's config) become U+FFFD, which the shell lexer turns into
    /// unknown text wherever it is used: the rest of the script is still read.
    pub fn script_text(&self, name: &str) -> Option<std::borrow::Cow<'_, str>> {
        self.members.get(name).map(|b| String::from_utf8_lossy(b))
    }

    /// Whether it ships the tree path `rel` (`usr/share/dict/words`; its packaged paths are
    /// compared as [`super::tree_path`] normalises them).
    pub fn ships(&self, rel: &str) -> bool {
        self.files
            .iter()
            .any(|f| super::tree_path(&format!("/{f}")) == rel)
    }

    /// The tree paths of the conffiles it installs (`conffiles` lines without a flag: a
    /// `remove-on-upgrade` one is not shipped). `dpkgdb` refuses malformed lines.
    pub fn conffiles(&self) -> Vec<String> {
        self.member_text("conffiles")
            .unwrap_or("")
            .lines()
            .map(str::trim)
            .filter(|l| l.starts_with('/') && !l.contains(char::is_whitespace))
            .map(super::tree_path)
            .collect()
    }

    /// Its trigger interests (`interest`, `interest-await`, `interest-noawait` lines of its
    /// `triggers`): file trigger paths and explicit trigger names.
    pub fn trigger_interests(&self) -> Vec<&str> {
        self.trigger_lines(&["interest", "interest-await", "interest-noawait"])
    }

    /// The triggers it activates itself (`activate`, `activate-await`, `activate-noawait`
    /// lines), which dpkg activates as it unpacks and as it configures it.
    pub fn trigger_activations(&self) -> Vec<&str> {
        self.trigger_lines(&["activate", "activate-await", "activate-noawait"])
    }

    /// Its `interest-noawait` trigger names: an activation of one never leaves the activating
    /// package awaiting this one's trigger processing.
    pub fn noawait_interests(&self) -> Vec<&str> {
        self.trigger_lines(&["interest-noawait"])
    }

    /// Of [`Self::trigger_activations`], those that leave it awaiting the interested package's
    /// trigger processing (`activate`, `activate-await`).
    pub fn awaiting_activations(&self) -> Vec<&str> {
        self.trigger_lines(&["activate", "activate-await"])
    }

    fn trigger_lines(&self, directives: &[&str]) -> Vec<&str> {
        let Some(text) = self.member_text("triggers") else {
            return Vec::new();
        };
        text.lines()
            .filter_map(|l| {
                let mut w = l.split('#').next().unwrap_or("").split_whitespace();
                match (w.next(), w.next()) {
                    (Some(d), Some(n)) if directives.contains(&d) => Some(n),
                    _ => None,
                }
            })
            .collect()
    }

    /// `Multi-Arch: same` packages are named `pkg:arch` in dpkg's database file names.
    pub fn is_multiarch_same(&self) -> bool {
        self.field("Multi-Arch")
            .is_some_and(|v| v.trim().eq_ignore_ascii_case("same"))
    }

    /// The name dpkg uses for this package's `info/` files and trigger registrations.
    pub fn db_name(&self) -> String {
        if self.is_multiarch_same() {
            format!("{}:{}", self.name, self.architecture)
        } else {
            self.name.clone()
        }
    }
}
