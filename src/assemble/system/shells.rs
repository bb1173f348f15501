//! `/etc/shells`, as debianutils' `update-shells` (5.7, run by its postinst and its
//! `usr/share/debianutils/shells.d` file trigger) and any `add-shell` calls in postinsts leave it.
//!
//! update-shells starts from `etc/shells` (or the template `usr/share/debianutils/shells`), reads
//! the template and every `shells.d/*` file (sorted) as the packaged shells, and for each also
//! registers the variant with its directory resolved through the tree's symlinks (`dpkg-realpath`:
//! `/usr/bin/bash` next to `/bin/bash` on merged /usr) — without removing repeats: zsh's
//! `/bin/zsh` and `/usr/bin/zsh` give `/usr/bin/zsh` twice, and the script writes both. Lines of
//! the file are kept (once each), packaged shells that are neither in it nor in the previous
//! run's `var/lib/shells.state` appended, and the state file records the packaged list.
//!
//! It runs as an install runs it: when debianutils is configured (with the shells.d files of
//! the Essential set, unpacked by then), then `add-shell` in the order packages are configured,
//! and once more as the trigger if a package installed after the Essential set ships a shells.d
//! file. Before update-shells (debianutils 4, bullseye), `/etc/shells` is the template the
//! postinst copies, with what `add-shell` appends, and there is no state file.

use super::shell::{self, Call};
use super::{Changes, InstalledPackage, Round, SystemError, TreeView};

const TEMPLATE: &str = "usr/share/debianutils/shells";
const PKG_DIR: &str = "usr/share/debianutils/shells.d";

/// A shell and its /usr-merged twin, as update-shells derives it (repeats kept).
fn with_real(tree: &dyn TreeView, line: &str, out: &mut Vec<String>) {
    out.push(line.to_owned());
    if let Some(real) = real_shell(tree, line)
        && real != line
    {
        out.push(real);
    }
}

/// `$(dpkg-realpath "$(dirname SHELL)")/$(basename SHELL)`.
fn real_shell(tree: &dyn TreeView, line: &str) -> Option<String> {
    let (dir, base) = line.rsplit_once('/').unwrap_or(("", line));
    let real_dir = super::resolve(tree, &super::tree_path(dir))?;
    Some(if real_dir.is_empty() {
        format!("/{base}")
    } else {
        format!("/{real_dir}/{base}")
    })
}

/// add-shell's variants of a shell: itself and its /usr-merged twin, once each.
fn add_shell_variants(tree: &dyn TreeView, line: &str, out: &mut Vec<String>) {
    let mut v = Vec::new();
    with_real(tree, line, &mut v);
    for s in v {
        if !out.contains(&s) {
            out.push(s);
        }
    }
}

fn text(tree: &dyn TreeView, path: &str) -> Result<Option<String>, SystemError> {
    Ok(super::read_file(tree, path)?.map(|b| String::from_utf8_lossy(&b).into_owned()))
}

/// The shell named on a line of /etc/shells or a shells.d file: what precedes a `#`.
fn shell_of(line: &str) -> &str {
    line.split('#').next().unwrap_or("")
}

/// One run of update-shells: the new `/etc/shells` lines and state, from the file's lines, the
/// previous state and the packaged shells (`packaged`: the template and shells.d files' texts).
fn update_shells(
    tree: &dyn TreeView,
    etc: &[String],
    state: &[String],
    packaged: &[String],
) -> (Vec<String>, Vec<String>) {
    let mut pkg_shells = Vec::new();
    for f in packaged {
        for line in f.lines() {
            let shell = shell_of(line);
            if !shell.is_empty() {
                with_real(tree, shell, &mut pkg_shells);
            }
        }
    }
    let mut lines: Vec<String> = Vec::new();
    let mut present: Vec<&str> = Vec::new();
    for line in etc {
        let shell = shell_of(line);
        let keep =
            shell.is_empty() || pkg_shells.iter().any(|p| p == shell) || !state.iter().any(|s| s == shell);
        if keep && (shell.is_empty() || !present.contains(&shell)) {
            lines.push(line.clone());
            present.push(shell);
        }
    }
    // `present` is not updated while appending: a packaged shell listed twice is written twice.
    let appended: Vec<String> = pkg_shells
        .iter()
        .filter(|s| !present.contains(&s.as_str()) && !state.contains(s))
        .cloned()
        .collect();
    lines.extend(appended);
    (lines, pkg_shells)
}

pub fn compute(tree: &dyn TreeView, packages: &[InstalledPackage]) -> Result<Changes, SystemError> {
    let mut out = Changes::default();
    let template = text(tree, TEMPLATE)?;
    // debianutils 5 (bookworm) has update-shells; before it (bullseye's 4.11) the postinst only
    // copies the template to /etc/shells, and add-shell calls append to it.
    let have_update_shells = super::exists(tree, "usr/sbin/update-shells");
    // `add-shell SHELL…` (debianutils 5.x adds the /usr-merged variant too), in configure order.
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
                    add_shell_variants(tree, s, &mut added);
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
    let mut etc: Vec<String> = source.lines().map(str::to_owned).collect();
    let mut state: Vec<String> = Vec::new();
    let template = template.filter(|_| have_update_shells);
    // The shells.d files, each with whether the Essential set has it (unpacked before
    // debianutils is configured).
    let shells_d = if template.is_some() {
        shells_d(tree)?
            .into_iter()
            .map(|(name, text)| (essentials(packages, &name), text))
            .collect()
    } else {
        Vec::new()
    };
    if let Some(t) = &template {
        // debianutils' postinst: the template and the Essential set's shells.d files.
        let essential = shells_d.iter().filter(|(e, _)| *e).map(|(_, text)| text.clone());
        let packaged: Vec<String> = std::iter::once(t.clone()).chain(essential).collect();
        (etc, state) = update_shells(tree, &etc, &state, &packaged);
    } else {
        // Lines kept once each, as the postinst's copy and add-shell leave them.
        let mut seen: Vec<String> = Vec::new();
        etc.retain(|l| {
            let s = shell_of(l).to_owned();
            s.is_empty()
                || !seen.contains(&s) && {
                    seen.push(s);
                    true
                }
        });
    }
    // add-shell compares whole lines (`grep -q "^SHELL$"`).
    for s in &added {
        if !etc.iter().any(|l| l == s) {
            etc.push(s.clone());
        }
    }
    if let Some(t) = &template {
        // The trigger, when a package unpacked after debianutils was configured ships a
        // shells.d file.
        if shells_d.iter().any(|(essential, _)| !essential) {
            let all = shells_d.iter().map(|(_, text)| text.clone());
            let packaged: Vec<String> = std::iter::once(t.clone()).chain(all).collect();
            (etc, state) = update_shells(tree, &etc, &state, &packaged);
        }
    }
    let mut body = etc.join("\n");
    body.push('\n');
    out.file("etc/shells", 0o644, body.into_bytes());
    if have_update_shells {
        let mut text = state.join("\n");
        text.push('\n');
        out.file("var/lib/shells.state", 0o644, text.into_bytes());
    }
    Ok(out)
}

/// Whether the shells.d file `name` is the Essential set's: shipped by a package of that round,
/// or by none (it was there before the install).
fn essentials(packages: &[InstalledPackage], name: &str) -> bool {
    let path = format!("{PKG_DIR}/{name}");
    let mut owners = packages.iter().filter(|p| p.ships(&path)).peekable();
    owners.peek().is_none() || owners.any(|p| p.round == Round::Essential)
}

/// The `shells.d/*` files, by name with their contents, in C-locale glob order.
fn shells_d(tree: &dyn TreeView) -> Result<Vec<(String, String)>, SystemError> {
    let Some((dir, names)) = super::children(tree, PKG_DIR) else {
        return Ok(Vec::new());
    };
    let mut out = Vec::new();
    for name in names {
        let p = format!("{dir}/{name}");
        if super::is_file(tree, &p)
            && let Some(t) = text(tree, &p)?
        {
            out.push((name, t));
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
        // What debianutils 5.7's update-shells writes for these files (run on a copy of the
        // tree): `/usr/bin/bash` comes from the template's `/bin/bash` and from bash's file, and
        // is written twice; then add-shell's two lines.
        assert_eq!(
            m.text("etc/shells"),
            "# /etc/shells: valid login shells\n/bin/sh\n/bin/bash\n/usr/bin/sh\n/usr/bin/bash\n/usr/bin/bash\n/bin/rbash\n/usr/bin/rbash\n/bin/dash\n/usr/bin/dash\n/bin/zsh\n/usr/bin/zsh\n"
        );
        assert_eq!(
            m.text("var/lib/shells.state"),
            "/bin/sh\n/usr/bin/sh\n/bin/bash\n/usr/bin/bash\n/bin/bash\n/usr/bin/bash\n/bin/rbash\n/usr/bin/rbash\n/bin/dash\n/usr/bin/dash\n"
        );
    }

    /// zsh ships its shells.d file after the Essential set is configured: update-shells runs
    /// again as debianutils' trigger, after the postinsts' add-shell lines, and appends zsh's
    /// shells (`/usr/bin/zsh` twice: from `/bin/zsh` and as listed). Expected texts: bookworm's
    /// update-shells run twice on a copy of the tree, tmux's and fish's add-shell in between.
    #[test]
    fn a_later_shells_d_file_runs_update_shells_again_after_add_shell() {
        let mut t = MemTree::new();
        t.symlink("bin", "usr/bin")
            .dir("usr/bin")
            .file("usr/sbin/update-shells", b"#!/bin/sh\n")
            .file(TEMPLATE, b"# /etc/shells: valid login shells\n/bin/sh\n")
            .file("usr/share/debianutils/shells.d/bash", b"/bin/bash\n/bin/rbash\n")
            .file("usr/share/debianutils/shells.d/dash", b"/bin/dash\n")
            .file("usr/share/debianutils/shells.d/zsh", b"/bin/zsh\n/usr/bin/zsh\n");
        let package = |name: &str, round: Round, postinst: &str, files: &[&str]| InstalledPackage {
            name: name.into(),
            round,
            members: [("postinst".to_string(), postinst.as_bytes().to_vec())].into(),
            files: files.iter().map(|f| (*f).to_owned()).collect(),
            ..Default::default()
        };
        let packages = [
            package(
                "bash",
                Round::Essential,
                "#!/bin/sh\n",
                &["usr/share/debianutils/shells.d/bash"],
            ),
            package(
                "tmux",
                Round::Pending,
                "#!/bin/sh\nadd-shell /usr/bin/tmux\n",
                &[],
            ),
            package(
                "fish",
                Round::Pending,
                "#!/bin/sh\nadd-shell /usr/bin/fish\n",
                &[],
            ),
            package(
                "zsh",
                Round::Pending,
                "#!/bin/sh\n",
                &["usr/share/debianutils/shells.d/zsh"],
            ),
        ];
        let out = compute(&t, &packages).unwrap();
        let mut m = MemTree::new();
        m.apply(&out);
        assert_eq!(
            m.text("etc/shells"),
            "# /etc/shells: valid login shells\n/bin/sh\n/usr/bin/sh\n/bin/bash\n/usr/bin/bash\n/bin/rbash\n/usr/bin/rbash\n/bin/dash\n/usr/bin/dash\n/usr/bin/tmux\n/usr/bin/fish\n/bin/zsh\n/usr/bin/zsh\n/usr/bin/zsh\n"
        );
        assert_eq!(
            m.text("var/lib/shells.state"),
            "/bin/sh\n/usr/bin/sh\n/bin/bash\n/usr/bin/bash\n/bin/rbash\n/usr/bin/rbash\n/bin/dash\n/usr/bin/dash\n/bin/zsh\n/usr/bin/zsh\n/usr/bin/zsh\n"
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
