//! `/etc/shells`, as debianutils' `update-shells` (5.7, run by its postinst and its
//! `usr/share/debianutils/shells.d` file trigger) and any `add-shell` calls in postinsts leave it.
//!
//! update-shells starts from `etc/shells` (or the template `usr/share/debianutils/shells`), reads
//! the template and every `shells.d/*` file (sorted) as the packaged shells, and for each also
//! registers the variant with its directory resolved through the tree's symlinks (`dpkg-realpath`:
//! `/usr/bin/bash` next to `/bin/bash` on merged /usr). Lines are kept, packaged shells missing
//! from the file appended; `var/lib/shells.state` records the packaged set. Before update-shells
//! (debianutils 4, bullseye), `/etc/shells` is the template the postinst copies, with what
//! `add-shell` appends, and there is no state file.

use super::shell::{self, Call};
use super::{Changes, InstalledPackage, SystemError, TreeView};

const TEMPLATE: &str = "usr/share/debianutils/shells";
const PKG_DIR: &str = "usr/share/debianutils/shells.d";

/// A shell and its /usr-merged twin, as update-shells derives it.
fn with_real(tree: &dyn TreeView, line: &str, out: &mut Vec<String>) {
    push_unique(out, line);
    let (dir, base) = line.rsplit_once('/').unwrap_or(("", line));
    if let Some(real_dir) = super::resolve(tree, &super::tree_path(dir)) {
        let real = if real_dir.is_empty() {
            format!("/{base}")
        } else {
            format!("/{real_dir}/{base}")
        };
        if real != line {
            push_unique(out, &real);
        }
    }
}

fn push_unique(v: &mut Vec<String>, s: &str) {
    if !v.iter().any(|x| x == s) {
        v.push(s.to_owned());
    }
}

fn text(tree: &dyn TreeView, path: &str) -> Result<Option<String>, SystemError> {
    Ok(super::read_file(tree, path)?.map(|b| String::from_utf8_lossy(&b).into_owned()))
}

pub fn compute(tree: &dyn TreeView, packages: &[InstalledPackage]) -> Result<Changes, SystemError> {
    let mut out = Changes::default();
    let mut pkg_shells: Vec<String> = Vec::new();
    let template = text(tree, TEMPLATE)?;
    // debianutils 5 (bookworm) has update-shells; before it (bullseye's 4.11) the postinst only
    // copies the template to /etc/shells, and add-shell calls append to it.
    let have_update_shells = super::exists(tree, "usr/sbin/update-shells");
    if let Some(t) = template.as_ref().filter(|_| have_update_shells) {
        for f in std::iter::once(t.clone()).chain(shells_d(tree)?) {
            for line in f.lines() {
                let shell = line.split('#').next().unwrap_or("");
                if !shell.is_empty() {
                    with_real(tree, shell, &mut pkg_shells);
                }
            }
        }
    }
    // `add-shell SHELL…` (debianutils 5.x adds the /usr-merged variant too).
    let mut added: Vec<String> = Vec::new();
    for pkg in packages {
        let Some(script) = pkg.script_text("postinst") else {
            continue;
        };
        let script: &str = &script;
        let Ok(nodes) = shell::parse(script) else { continue };
        let mut cb = |c: Call<'_>| {
            if let Ok(argv) = c.argv
                && argv.first().is_some_and(|a| a.ends_with("add-shell"))
            {
                for s in &argv[1..] {
                    with_real(tree, s, &mut added);
                }
            }
        };
        let files = |p: &str| super::file_kind(tree, p);
        shell::Eval::new(&["configure", ""], &mut cb)
            .with_files(&files)
            .run(&nodes);
    }
    // Without update-shells, the postinst still copies the template when /etc/shells is missing.
    if !have_update_shells && added.is_empty() && template.is_none() {
        return Ok(out);
    }
    let source = match text(tree, "etc/shells")? {
        Some(t) => t,
        None => template.clone().unwrap_or_default(),
    };
    let mut lines: Vec<String> = Vec::new();
    let mut present: Vec<String> = Vec::new();
    for line in source.lines() {
        let shell = line.split('#').next().unwrap_or("");
        if shell.is_empty() || !present.iter().any(|p| p == shell) {
            lines.push(line.to_owned());
            if !shell.is_empty() {
                present.push(shell.to_owned());
            }
        }
    }
    for s in pkg_shells.iter().chain(&added) {
        if !present.contains(s) {
            lines.push(s.clone());
            present.push(s.clone());
        }
    }
    let mut body = lines.join("\n");
    body.push('\n');
    out.file("etc/shells", 0o644, body.into_bytes());
    if have_update_shells {
        let mut state = pkg_shells.join("\n");
        state.push('\n');
        out.file("var/lib/shells.state", 0o644, state.into_bytes());
    }
    Ok(out)
}

/// The contents of `shells.d/*`, in C-locale glob order.
fn shells_d(tree: &dyn TreeView) -> Result<Vec<String>, SystemError> {
    let Some((dir, names)) = super::children(tree, PKG_DIR) else {
        return Ok(Vec::new());
    };
    let mut out = Vec::new();
    for p in names.iter().map(|n| format!("{dir}/{n}")) {
        if super::is_file(tree, &p)
            && let Some(t) = text(tree, &p)?
        {
            out.push(t);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::super::testutil::MemTree;
    use super::*;

    #[test]
    fn update_shells_on_merged_usr() {
        let mut t = MemTree::new();
        t.symlink("bin", "usr/bin")
            .file("usr/sbin/update-shells", b"#!/bin/sh\n")
            .file("usr/bin/bash", b"")
            .file(
                TEMPLATE,
                b"# /etc/shells: valid login shells\n/bin/sh\n/bin/bash\n",
            )
            .file("usr/share/debianutils/shells.d/bash", b"/bin/bash\n/bin/rbash\n")
            .file("usr/share/debianutils/shells.d/dash", b"/bin/dash\n");
        let zsh = InstalledPackage {
            name: "zsh".into(),
            members: [(
                "postinst".to_string(),
                b"#!/bin/sh\nset -e\nif [ \"$1\" = configure ]; then\n  add-shell /bin/zsh\nfi\n".to_vec(),
            )]
            .into(),
            ..Default::default()
        };
        let out = compute(&t, &[zsh]).unwrap();
        let mut m = MemTree::new();
        m.apply(&out);
        assert_eq!(
            m.text("etc/shells"),
            "# /etc/shells: valid login shells\n/bin/sh\n/bin/bash\n/usr/bin/sh\n/usr/bin/bash\n/bin/rbash\n/usr/bin/rbash\n/bin/dash\n/usr/bin/dash\n/bin/zsh\n/usr/bin/zsh\n"
        );
        assert_eq!(
            m.text("var/lib/shells.state"),
            "/bin/sh\n/usr/bin/sh\n/bin/bash\n/usr/bin/bash\n/bin/rbash\n/usr/bin/rbash\n/bin/dash\n/usr/bin/dash\n"
        );
    }

    /// bullseye (debianutils 4.11, split /usr): the template as copied, then add-shell's lines
    /// (dash's from a function guarded by `type add-shell`), no state file.
    #[test]
    fn add_shell_before_update_shells() {
        let mut t = MemTree::new();
        t.file("usr/sbin/add-shell", b"#!/bin/sh\n")
            .file("bin/bash", b"")
            .file(TEMPLATE, b"# /etc/shells: valid login shells\n/bin/sh\n");
        if let Some((e, _)) = t.entries.get_mut("usr/sbin/add-shell") {
            e.mode = 0o755;
        }
        let script = |body: &str| InstalledPackage {
            name: "x".into(),
            members: [(
                "postinst".to_string(),
                format!("#!/bin/sh\nset -e\n{body}").into_bytes(),
            )]
            .into(),
            ..Default::default()
        };
        let bash = script(
            "if [ \"$1\" = configure ] && which add-shell >/dev/null; then\n  add-shell /bin/bash\n  add-shell /bin/rbash\nfi\n",
        );
        let dash = script(
            "add_shell() {\n\tif ! type add-shell > /dev/null 2>&1; then\n\t\treturn\n\tfi\n\tadd-shell /bin/dash\n}\nadd_shell\n",
        );
        let out = compute(&t, &[bash, dash]).unwrap();
        let mut m = MemTree::new();
        m.apply(&out);
        assert_eq!(
            m.text("etc/shells"),
            "# /etc/shells: valid login shells\n/bin/sh\n/bin/bash\n/bin/rbash\n/bin/dash\n"
        );
        assert!(!m.entries.contains_key("var/lib/shells.state"));
    }
}
