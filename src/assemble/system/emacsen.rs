//! emacsen-common's `emacs-package-install --preinst|--postinst PACKAGE` (dh_installemacsen's
//! snippets, and emacsen-common's own postinst): the record that an Emacs add-on package is
//! installed, `/var/lib/emacsen-common/state/package/installed/PACKAGE`, made by `--postinst`
//! and removed by `--preinst`.
//!
//! `--postinst` then byte-compiles the package's Emacs Lisp for each Emacs flavor installed so
//! far (`state/flavor/installed/*`): the image's own Emacs at work, not reproduced. Where no
//! flavor is installed yet (no Emacs, or one configured later, whose own `emacs-install`
//! compiles every add-on), the record is all the call leaves.

use super::{Changes, Overlay, TreeView};

const PACKAGE_STATE: &str = "var/lib/emacsen-common/state/package/installed";
const FLAVOR_STATE: &str = "var/lib/emacsen-common/state/flavor/installed";

/// The call's context and package, for the forms reproduced.
pub fn parse(args: &[String]) -> Option<(bool, &str)> {
    match args {
        [context, pkg] if !pkg.starts_with('-') && !pkg.contains('/') && !pkg.is_empty() => {
            match context.as_str() {
                "--postinst" => Some((true, pkg)),
                "--preinst" => Some((false, pkg)),
                _ => None,
            }
        }
        _ => None,
    }
}

/// Applies the call: the record made (`--postinst`, as `touch` makes it) or removed
/// (`--preinst`); `Err` for the byte-compilation a `--postinst` would run for installed
/// flavors, after the record is made.
pub fn apply(overlay: &mut Overlay<'_>, args: &[String]) -> Result<(), String> {
    let (postinst, pkg) = parse(args).ok_or("this form of emacs-package-install is not reproduced")?;
    let record = format!("{PACKAGE_STATE}/{pkg}");
    if !postinst {
        if overlay.entry(&record).is_some() {
            overlay.apply(Changes {
                files: vec![],
                removed: vec![record],
            });
        }
        return Ok(());
    }
    if !super::is_dir(overlay, PACKAGE_STATE) {
        return Err(format!("/{PACKAGE_STATE} is not a directory: its `touch` fails"));
    }
    if overlay.entry(&record).is_none() {
        // The tool sets its umask to 0022 before it touches the record.
        let mut c = Changes::default();
        c.file(&record, 0o644, Vec::new());
        overlay.apply(c);
    }
    // `glob("*[!~]")` in the flavor directory.
    let flavors: Vec<String> = super::children(overlay, FLAVOR_STATE)
        .map(|(_, names)| names)
        .unwrap_or_default()
        .into_iter()
        .filter(|n| !n.starts_with('.') && !n.ends_with('~'))
        .collect();
    if flavors.is_empty() {
        return Ok(());
    }
    Err(format!(
        "not reproduced: it byte-compiles {pkg}'s Emacs Lisp with the image's own Emacs ({}); run \
         `/usr/lib/emacsen-common/emacs-package-install --postinst {pkg}` at first start",
        flavors.join(", ")
    ))
}

#[cfg(test)]
mod tests {
    use super::super::files;
    use super::super::testutil::{MemTree, with_postinst};

    const TOOL: &str = "/usr/lib/emacsen-common/emacs-package-install";

    fn tree() -> MemTree {
        let mut t = MemTree::new();
        t.file(&TOOL[1..], b"#!/usr/bin/perl -w\n")
            .mode(&TOOL[1..], 0o755)
            .dir(super::PACKAGE_STATE)
            .dir(super::FLAVOR_STATE);
        t
    }

    /// Without an Emacs flavor installed, each add-on's postinst leaves its record, and a
    /// preinst removes a stale one.
    #[test]
    fn the_record_of_an_add_on_is_made_without_emacs() {
        let mut t = tree();
        t.file(&format!("{}/old-addon", super::PACKAGE_STATE), b"");
        let packages = [
            with_postinst(
                "emacsen-common",
                &format!("#!/bin/sh\nset -e\n{TOOL} --postinst emacsen-common\n"),
            ),
            with_postinst(
                "dictionaries-common",
                &format!(
                    "#!/bin/sh\nset -e\nif [ \"$1\" = \"configure\" ] && [ -e /var/lib/emacsen-common/state/package/installed/emacsen-common ]\nthen\n\t{TOOL} --postinst dictionaries-common\nfi\n"
                ),
            ),
            with_postinst(
                "old-addon",
                &format!("#!/bin/sh\nset -e\n{TOOL} --preinst old-addon\n"),
            ),
        ];
        let (changes, report) = files::compute(&t, &packages).expect("walk");
        assert!(report.is_empty(), "{report:?}");
        for pkg in ["emacsen-common", "dictionaries-common"] {
            let (entry, content) =
                super::super::testutil::written(&changes, &format!("{}/{pkg}", super::PACKAGE_STATE));
            assert_eq!((entry.mode, content.len()), (0o644, 0), "{pkg}");
        }
        assert!(
            changes
                .removed
                .contains(&format!("{}/old-addon", super::PACKAGE_STATE)),
            "{changes:?}"
        );
    }

    /// With a flavor installed, the record is made and the byte-compilation reported with the
    /// command to run; a form not reproduced is reported.
    #[test]
    fn byte_compilation_for_installed_emacs_is_reported() {
        let mut t = tree();
        t.file(&format!("{}/emacs", super::FLAVOR_STATE), b"")
            .file(&format!("{}/ignored~", super::FLAVOR_STATE), b"");
        let packages = [with_postinst(
            "foo-el",
            &format!("#!/bin/sh\nset -e\n{TOOL} --postinst foo-el\n{TOOL} foo-el\n"),
        )];
        let (changes, report) = files::compute(&t, &packages).expect("walk");
        super::super::testutil::written(&changes, &format!("{}/foo-el", super::PACKAGE_STATE));
        let whats: Vec<&str> = report.iter().map(|r| r.what.as_str()).collect();
        assert_eq!(whats.len(), 2, "{report:?}");
        assert!(
            whats[0].contains("with the image's own Emacs (emacs)") && whats[0].contains("at first start"),
            "{whats:?}"
        );
        assert!(whats[1].contains(&format!("{TOOL} foo-el")), "{whats:?}");
    }
}
