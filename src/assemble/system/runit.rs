//! dh_runit's postinst call, `NAME=… ENABLE=yes ONUPGRADE=… /lib/runit-helper/runit-helper
//! postinst configure` (runit-helper 2.15.2), as it runs on a fresh install: the service is
//! enabled for runit with `ln -sf /etc/sv/NAME /etc/runit/runsvdir/default/NAME`, unless the
//! administrator's `.NAME` (disabled) or `NAME` link is already there. Its other steps do nothing
//! in an image: `/run/runit/supervise` is the runtime's, `make_svlinks` exists only with runit
//! itself installed (then the call is refused and reported), the log-user and supervise-directory
//! transitions need files of an earlier install, and `sv` is only run under a running runit.

use super::shell::Value;
use super::{Changes, Overlay, TreeView};

const RUNSVDIR: &str = "etc/runit/runsvdir/default";

/// Whether this is runit-helper's postinst call (what [`apply`] computes).
pub fn handles(argv0: &str, args: &[String]) -> bool {
    argv0 == "runit-helper" && args.first().is_some_and(|a| a == "postinst")
}

/// Applies `runit-helper postinst …` with the environment the script gives it.
pub fn apply(overlay: &mut Overlay<'_>, env: &[(String, Value)]) -> Result<(), String> {
    let var = |name: &str| {
        env.iter().rev().find(|(n, _)| n == name).map(|(_, v)| match v {
            Value::Known(s) => Ok(s.as_str()),
            Value::Unknown(what) => Err(format!("{name} is not known ({what})")),
        })
    };
    let name = var("NAME").ok_or("NAME is not set")??;
    if name.is_empty() || name.contains('/') {
        return Err(format!("NAME `{name}` is no service name"));
    }
    if super::exists(overlay, "lib/runit/make_svlinks") {
        return Err("runit is installed: its make_svlinks is not emulated".into());
    }
    if var("ENABLE").transpose()? != Some("yes") {
        return Ok(());
    }
    let is_link = |p: &str| super::is_symlink(overlay, p);
    if is_link(&format!("/{RUNSVDIR}/.{name}")) || is_link(&format!("/{RUNSVDIR}/{name}")) {
        return Ok(());
    }
    let dir = super::resolve(overlay, RUNSVDIR)
        .filter(|d| super::is_dir(overlay, d))
        .ok_or_else(|| format!("/{RUNSVDIR} does not exist"))?;
    let link = format!("{dir}/{name}");
    if overlay.entry(&link).is_some_and(|e| e.is_dir()) {
        return Err(format!("/{link} is a directory"));
    }
    let mut c = Changes::default();
    c.symlink(&link, &format!("/etc/sv/{name}"));
    overlay.apply(c);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::InstalledPackage;
    use super::super::files;
    use super::super::testutil::MemTree;
    use crate::entry::EntryKind;

    /// openssh-server 1:9.2p1-2+deb12u10's dh_runit section, as it ships it.
    const OPENSSH_RUNIT: &str = "#!/bin/sh\nset -e\n# Automatically added by dh_runit/2.15.2\n\
        # Unlike postrm, I can be sure, that runit-helper is present on\n# postinst.\n\
        if [ -z \"${DPKG_ROOT:-}\" ] ; then\n    NAME='ssh' ENABLE='yes' ONUPGRADE='restart' \
        /lib/runit-helper/runit-helper postinst \"$@\"\nfi\n# End automatically added section\n";

    fn pkg(postinst: &str) -> InstalledPackage {
        InstalledPackage {
            name: "openssh-server".into(),
            members: [("postinst".to_owned(), postinst.as_bytes().to_vec())].into(),
            ..InstalledPackage::default()
        }
    }

    #[test]
    fn runit_helper_enables_the_service_as_on_a_fresh_install() {
        let mut t = MemTree::new();
        t.tools(&["/lib/runit-helper/runit-helper"]);
        t.dir("etc/runit/runsvdir/default").dir("etc/sv/ssh");
        let (changes, report) = files::compute(&t, &[pkg(OPENSSH_RUNIT)]).unwrap();
        assert!(report.is_empty(), "{report:?}");
        let (e, _) = changes
            .files
            .iter()
            .find(|(e, _)| e.path == "etc/runit/runsvdir/default/ssh")
            .unwrap();
        assert_eq!(
            e.kind,
            EntryKind::Symlink {
                target: "/etc/sv/ssh".into()
            }
        );

        // The administrator's "disabled" link, ENABLE=no: nothing; runit installed: reported.
        let mut disabled = t.clone();
        disabled.symlink("etc/runit/runsvdir/default/.ssh", "/etc/sv/ssh");
        let no = OPENSSH_RUNIT.replace("ENABLE='yes'", "ENABLE='no'");
        for (tree, script) in [(&disabled, OPENSSH_RUNIT), (&t, no.as_str())] {
            let (changes, report) = files::compute(tree, &[pkg(script)]).unwrap();
            assert!(report.is_empty(), "{report:?}");
            assert!(
                changes
                    .files
                    .iter()
                    .all(|(e, _)| e.path != "etc/runit/runsvdir/default/ssh")
            );
        }
        t.file("lib/runit/make_svlinks", b"");
        let (_, report) = files::compute(&t, &[pkg(OPENSSH_RUNIT)]).unwrap();
        assert_eq!(report.len(), 1, "{report:?}");
        assert!(report[0].what.contains("make_svlinks"), "{report:?}");
    }
}
