//! What the SBOMs, `diff` and `why` need to know about a locked package beyond the lock: its
//! control fields, its license (from `/usr/share/doc/PKG/copyright`) and, on request, its Debian
//! changelog. Read from the verified `.deb` in the store, never from the image or the host.

use std::io::{Cursor, Read};

use crate::deb::{Deb, DebError};
use crate::entry::EntryKind;
use crate::fetch::Expected;
use crate::lockfile::LockedPackage;
use crate::store::{Kind, Store, StoreError};

/// The most of one documentation file read (a changelog is a few hundred KiB at worst).
const DOC_CAP: u64 = 16 << 20;

#[derive(Debug, thiserror::Error)]
pub enum FactsError {
    #[error(
        "package {package}: the stored .deb is missing or damaged ({source}); `debcast fetch` downloads it again"
    )]
    Store { package: String, source: StoreError },
    #[error("package {package}: {source}")]
    Deb { package: String, source: DebError },
    #[error("package {package}: cannot read {path} from the .deb: {source}")]
    Doc {
        package: String,
        path: String,
        source: std::io::Error,
    },
}

impl From<DebError> for FactsError {
    fn from(source: DebError) -> Self {
        FactsError::Deb {
            package: String::new(),
            source,
        }
    }
}

/// Which documentation files to read besides the control area.
#[derive(Debug, Clone, Copy, Default)]
pub struct Wanted {
    pub copyright: bool,
    pub changelog: bool,
}

/// One package's facts.
#[derive(Debug, Clone, Default)]
pub struct PackageFacts {
    /// Control fields in file order.
    pub control: Vec<(String, String)>,
    /// The text of `usr/share/doc/NAME/copyright`, when read and present.
    pub copyright: Option<String>,
    /// The Debian changelog(s): `changelog.Debian.gz` (or a native package's `changelog.gz`)
    /// followed by a binNMU's `changelog.Debian.ARCH.gz`, decompressed.
    pub changelogs: Vec<String>,
    /// Where `usr/share/doc/NAME` is a symlink (to another package's documentation directory of
    /// the same source, as policy allows), the name it points to.
    pub doc_link: Option<String>,
}

impl PackageFacts {
    /// The control fields a signed index lists for a package (what `why` needs: priority and
    /// relationships), without its documentation: no `.deb` read.
    pub fn from_index(r: &crate::archive::PackageRecord) -> Self {
        let mut control = vec![
            ("Package".to_owned(), r.name.clone()),
            ("Version".to_owned(), r.version.clone()),
            ("Architecture".to_owned(), r.architecture.clone()),
        ];
        if r.essential {
            control.push(("Essential".to_owned(), "yes".to_owned()));
        }
        if !r.priority.is_empty() {
            control.push(("Priority".to_owned(), r.priority.clone()));
        }
        for (field, value) in [
            ("Pre-Depends", &r.pre_depends),
            ("Depends", &r.depends),
            ("Recommends", &r.recommends),
            ("Provides", &r.provides),
        ] {
            if let Some(value) = value {
                control.push((field.to_owned(), value.clone()));
            }
        }
        PackageFacts {
            control,
            copyright: None,
            changelogs: Vec::new(),
            doc_link: None,
        }
    }

    pub fn field(&self, name: &str) -> Option<&str> {
        self.control
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The source package's name and version (`Source: foo (1.2-3)`; the binary's when absent).
    pub fn source(&self, name: &str, version: &str) -> (String, String) {
        match self.field("Source") {
            Some(s) => {
                let mut parts = s.split_whitespace();
                let n = parts.next().unwrap_or(name).to_owned();
                let v = parts
                    .next()
                    .map(|v| v.trim_start_matches('(').trim_end_matches(')').to_owned())
                    .unwrap_or_else(|| strip_binnmu(version));
                (n, v)
            }
            None => (name.to_owned(), strip_binnmu(version)),
        }
    }
}

/// `1.2-3+b1` → `1.2-3`: a binNMU's source version.
fn strip_binnmu(version: &str) -> String {
    if let Some(i) = version.rfind("+b")
        && version[i + 2..].chars().all(|c| c.is_ascii_digit())
        && i + 2 < version.len()
    {
        return version[..i].to_owned();
    }
    version.to_owned()
}

/// Reads the facts of `p` from its verified `.deb` in `store`.
pub fn read(store: &Store, p: &LockedPackage, wanted: Wanted) -> Result<PackageFacts, FactsError> {
    let expected = Expected {
        size: p.size,
        sha256: p.sha256,
    };
    // A store that lacks the `.deb` takes it from the remote cache, if one is on (verified on
    // the way in), so an SBOM never sends a build back to the mirrors.
    let _ = store.contains(Kind::Deb, &expected);
    let bytes = store
        .read_verified(Kind::Deb, &expected, &p.label())
        .map_err(|source| FactsError::Store {
            package: p.label(),
            source,
        })?;
    read_bytes(bytes, &p.label(), &p.name, &p.architecture, wanted)
}

/// Reads the facts from a `.deb`'s bytes; `name` and `arch` locate its documentation directory.
pub fn read_bytes(
    bytes: Vec<u8>,
    label: &str,
    name: &str,
    arch: &str,
    wanted: Wanted,
) -> Result<PackageFacts, FactsError> {
    let with_pkg = |source: DebError| FactsError::Deb {
        package: label.to_owned(),
        source,
    };
    let mut deb = Deb::from_reader(Cursor::new(bytes), label).map_err(with_pkg)?;
    let mut facts = PackageFacts {
        control: deb
            .control()
            .fields()
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect(),
        ..PackageFacts::default()
    };
    if !wanted.copyright && !wanted.changelog {
        return Ok(facts);
    }
    let doc = format!("usr/share/doc/{name}");
    let copyright = format!("{doc}/copyright");
    let changelogs = [
        format!("{doc}/changelog.Debian.gz"),
        format!("{doc}/changelog.gz"),
        format!("{doc}/changelog.Debian.{arch}.gz"),
    ];
    let mut found: [Option<String>; 3] = [None, None, None];
    let result = deb.visit_data(|entry, content| {
        if entry.path == doc
            && let EntryKind::Symlink { target } = &entry.kind
        {
            let t = target.trim_end_matches('/');
            facts.doc_link = Some(t.rsplit('/').next().unwrap_or(t).to_owned());
            return Ok(());
        }
        if !matches!(entry.kind, EntryKind::File { .. }) {
            return Ok(());
        }
        let doc_err = |source| FactsError::Doc {
            package: label.to_owned(),
            path: entry.path.clone(),
            source,
        };
        if wanted.copyright && entry.path == copyright {
            let mut text = Vec::new();
            content.take(DOC_CAP).read_to_end(&mut text).map_err(doc_err)?;
            facts.copyright = Some(String::from_utf8_lossy(&text).into_owned());
        } else if wanted.changelog
            && let Some(i) = changelogs.iter().position(|c| *c == entry.path)
        {
            let mut text = String::new();
            let mut gz = flate2::read::GzDecoder::new(content).take(DOC_CAP);
            let mut raw = Vec::new();
            gz.read_to_end(&mut raw).map_err(doc_err)?;
            text.push_str(&String::from_utf8_lossy(&raw));
            found[i] = Some(text);
        }
        Ok(())
    });
    match result {
        Ok(()) => {}
        Err(FactsError::Deb { package, source }) if package.is_empty() => return Err(with_pkg(source)),
        Err(e) => return Err(e),
    }
    // The binNMU's own entry first: it is the newest.
    let [debian, native, binnmu] = found;
    facts.changelogs = binnmu.into_iter().chain(debian.or(native)).collect();
    Ok(facts)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn source_of_a_binnmu() {
        let f = PackageFacts::default();
        assert_eq!(f.source("bash", "5.2-2+b7"), ("bash".into(), "5.2-2".into()));
        let f = PackageFacts {
            control: vec![("Source".into(), "gcc-12 (12.2.0-14)".into())],
            ..PackageFacts::default()
        };
        assert_eq!(
            f.source("libgcc-s1", "12.2.0-14"),
            ("gcc-12".into(), "12.2.0-14".into())
        );
        let f = PackageFacts {
            control: vec![("Source".into(), "openssl".into())],
            ..PackageFacts::default()
        };
        assert_eq!(
            f.source("libssl3", "3.0.11-1~deb12u2"),
            ("openssl".into(), "3.0.11-1~deb12u2".into())
        );
    }
}
