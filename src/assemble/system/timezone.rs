//! tzdata's postinst on a first configure: `etc/localtime -> /usr/share/zoneinfo/ZONE` and
//! `etc/timezone` containing `ZONE`. The zone comes from the manifest's `[system] timezone` (the
//! debconf answer a preseed would give), default `Etc/UTC` as in the postinst.

use super::{Changes, InstalledPackage, SystemError, TreeView, installed};
use crate::manifest::System;

const DEFAULT_ZONE: &str = "Etc/UTC";

/// A chosen zone is a file of tzdata's `usr/share/zoneinfo`.
pub const REQUIRES: super::Requirement = super::Requirement {
    setting: "[system] timezone",
    package: "tzdata",
    used: |system| system.timezone.is_some(),
};

pub fn compute(
    tree: &dyn TreeView,
    packages: &[InstalledPackage],
    system: &System,
) -> Result<Changes, SystemError> {
    let mut out = Changes::default();
    let have_tzdata = installed(packages, REQUIRES.package).is_some();
    let zone = match (&system.timezone, have_tzdata) {
        (Some(z), _) => z.as_str(),
        (None, true) => DEFAULT_ZONE,
        (None, false) => return Ok(out),
    };
    if zone.is_empty()
        || zone.starts_with('/')
        || zone.split('/').any(|c| c == ".." || c == "." || c.is_empty())
    {
        return Err(SystemError::Manifest(format!(
            "timezone `{zone}` is not a zone name such as `Europe/Berlin`"
        )));
    }
    let file = format!("usr/share/zoneinfo/{zone}");
    if !super::is_file(tree, &file) {
        let why = if have_tzdata {
            String::new()
        } else {
            format!(" ({} is not installed)", REQUIRES.package)
        };
        return Err(SystemError::Manifest(format!(
            "timezone `{zone}`: /{file} is not in the image{why}"
        )));
    }
    out.symlink("etc/localtime", &format!("/{file}"));
    out.file("etc/timezone", 0o644, format!("{zone}\n").into_bytes());
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::super::testutil::MemTree;
    use super::*;
    use crate::entry::EntryKind;

    fn tzdata() -> Vec<InstalledPackage> {
        vec![InstalledPackage {
            name: "tzdata".into(),
            ..Default::default()
        }]
    }

    #[test]
    fn default_and_chosen_zone() {
        let mut t = MemTree::new();
        t.file("usr/share/zoneinfo/Etc/UTC", b"TZif")
            .file("usr/share/zoneinfo/Europe/Berlin", b"TZif");
        let out = compute(&t, &tzdata(), &System::default()).unwrap();
        assert_eq!(
            out.files[0].0.kind,
            EntryKind::Symlink {
                target: "/usr/share/zoneinfo/Etc/UTC".into()
            }
        );
        assert_eq!(out.files[1].1, b"Etc/UTC\n");
        let sys = System {
            timezone: Some("Europe/Berlin".into()),
            ..Default::default()
        };
        let out = compute(&t, &tzdata(), &sys).unwrap();
        assert_eq!(out.files[1].1, b"Europe/Berlin\n");
        let sys = System {
            timezone: Some("Mars/Olympus".into()),
            ..Default::default()
        };
        assert!(
            compute(&t, &tzdata(), &sys)
                .unwrap_err()
                .to_string()
                .contains("Mars/Olympus")
        );
        assert!(compute(&t, &[], &System::default()).unwrap().files.is_empty());
    }
}
