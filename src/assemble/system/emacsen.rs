//! emacsen-common's records of what is installed for Emacs, as its tools keep them under
//! `/var/lib/emacsen-common/state`:
//!
//! - `emacs-package-install --preinst|--postinst PACKAGE` (dh_installemacsen's snippets, and
//!   emacsen-common's own postinst): an add-on package's record, `package/installed/PACKAGE`,
//!   removed by `--preinst` and made by `--postinst`;
//! - `emacs-install [--postinst] FLAVOR` (each Emacs' postinst): the flavor's record,
//!   `flavor/installed/FLAVOR` (`--preinst` removes it).
//!
//! After making its record, each tool byte-compiles: `emacs-package-install` the package's
//! Emacs Lisp for each flavor installed so far, `emacs-install` every installed add-on for the
//! new flavor. That is the image's own Emacs at work, not reproduced: reported, with the
//! command to run. Where there is nothing to compile (no Emacs yet, or one configured later,
//! whose `emacs-install` compiles every add-on), the record is all the call leaves.

use super::{Changes, Overlay, TreeView};

const PACKAGE_STATE: &str = "var/lib/emacsen-common/state/package/installed";
const FLAVOR_STATE: &str = "var/lib/emacsen-common/state/flavor/installed";
const ADD_ONS: &str = "usr/lib/emacsen-common/packages/install";
const NEW_STYLE: &str = "usr/lib/emacsen-common/packages/compat";

/// A call of one of the tools, for the forms reproduced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Call<'a> {
    /// `emacs-install` (a flavor) rather than `emacs-package-install` (an add-on package).
    pub flavor: bool,
    /// `--postinst` (or `emacs-install`'s one-argument form), not `--preinst`.
    pub postinst: bool,
    /// The flavor or package.
    pub name: &'a str,
}

/// The call `name ARGS` of one of the tools, where its form is reproduced.
pub fn parse<'a>(name: &str, args: &'a [String]) -> Option<Call<'a>> {
    let flavor = match name {
        "emacs-install" => true,
        "emacs-package-install" => false,
        _ => return None,
    };
    let (postinst, target) = match args {
        [context, target] if context == "--postinst" => (true, target),
        [context, target] if context == "--preinst" => (false, target),
        [target] if flavor => (true, target),
        _ => return None,
    };
    let plain = !target.is_empty() && !target.starts_with('-') && !target.contains('/');
    plain.then_some(Call {
        flavor,
        postinst,
        name: target,
    })
}

/// The names in a directory as the tools' `glob("*[!~]")` lists them.
fn listed(tree: &dyn TreeView, dir: &str) -> Vec<String> {
    super::children(tree, dir)
        .map(|(_, names)| names)
        .unwrap_or_default()
        .into_iter()
        .filter(|n| !n.starts_with('.') && !n.ends_with('~'))
        .collect()
}

/// Applies the call: the record made (as `touch` makes it) or removed; `Err` for the
/// byte-compilation that follows the record, where there is something to compile.
pub fn apply(overlay: &mut Overlay<'_>, name: &str, args: &[String]) -> Result<(), String> {
    let call = parse(name, args).ok_or_else(|| format!("this form of {name} is not reproduced"))?;
    let dir = if call.flavor { FLAVOR_STATE } else { PACKAGE_STATE };
    let record = format!("{dir}/{}", call.name);
    if !call.postinst {
        if overlay.entry(&record).is_some() {
            overlay.apply(Changes {
                files: vec![],
                removed: vec![record],
            });
        }
        return Ok(());
    }
    // (emacs-install lists the flavors before it adds its own.)
    let flavors = listed(overlay, FLAVOR_STATE);
    if !super::is_dir(overlay, dir) {
        return Err(format!("/{dir} is not a directory: its `touch` fails"));
    }
    if overlay.entry(&record).is_none() {
        // The tools set their umask to 0022 before they touch the record.
        let mut c = Changes::default();
        c.file(&record, 0o644, Vec::new());
        overlay.apply(c);
    }
    let compiled: Vec<String> = if call.flavor {
        // `get_installed_add_on_packages`: every add-on, a new-style one once its record is
        // there.
        let new_style = listed(overlay, NEW_STYLE);
        listed(overlay, ADD_ONS)
            .into_iter()
            .filter(|p| !new_style.contains(p) || overlay.entry(&format!("{PACKAGE_STATE}/{p}")).is_some())
            .collect()
    } else {
        flavors
    };
    if compiled.is_empty() {
        return Ok(());
    }
    let (what, tool) = if call.flavor {
        (
            format!("the Emacs add-ons ({}) for {}", compiled.join(", "), call.name),
            "emacs-install",
        )
    } else {
        (
            format!("{}'s Emacs Lisp for {}", call.name, compiled.join(", ")),
            "emacs-package-install --postinst",
        )
    };
    Err(format!(
        "not reproduced: it byte-compiles {what} with the image's own Emacs; run \
         `/usr/lib/emacsen-common/{tool} {}` at first start",
        call.name
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
            whats[0].contains("foo-el's Emacs Lisp for emacs with the image's own Emacs")
                && whats[0].contains("at first start"),
            "{whats:?}"
        );
        assert!(whats[1].contains(&format!("{TOOL} foo-el")), "{whats:?}");
    }

    /// An Emacs flavor's postinst: its record is made, and compiling the add-ons installed so
    /// far (emacsen-common's own, a new-style one only once its record is there) is reported;
    /// with none, nothing is.
    #[test]
    fn a_flavor_is_recorded_and_its_add_ons_compilation_reported() {
        let emacs_install = "/usr/lib/emacsen-common/emacs-install";
        let mut t = tree();
        t.file(&emacs_install[1..], b"#!/usr/bin/perl -w\n")
            .mode(&emacs_install[1..], 0o755)
            .file(&format!("{}/emacsen-common", super::ADD_ONS), b"#!/bin/sh\n")
            .file(&format!("{}/emacsen-common", super::NEW_STYLE), b"0\n")
            .file(&format!("{}/not-yet", super::ADD_ONS), b"#!/bin/sh\n")
            .file(&format!("{}/not-yet", super::NEW_STYLE), b"0\n")
            .file(&format!("{}/emacsen-common", super::PACKAGE_STATE), b"");
        let packages = [with_postinst(
            "emacs-common",
            &format!("#!/bin/sh\nset -e\n{emacs_install} --postinst emacs\n"),
        )];
        let (changes, report) = files::compute(&t, &packages).expect("walk");
        super::super::testutil::written(&changes, &format!("{}/emacs", super::FLAVOR_STATE));
        assert_eq!(report.len(), 1, "{report:?}");
        assert!(
            report[0]
                .what
                .contains("the Emacs add-ons (emacsen-common) for emacs"),
            "{report:?}"
        );

        let mut bare = tree();
        bare.file(&emacs_install[1..], b"#!/usr/bin/perl -w\n")
            .mode(&emacs_install[1..], 0o755);
        let (changes, report) = files::compute(&bare, &packages).expect("walk");
        assert!(report.is_empty(), "{report:?}");
        super::super::testutil::written(&changes, &format!("{}/emacs", super::FLAVOR_STATE));
    }
}
