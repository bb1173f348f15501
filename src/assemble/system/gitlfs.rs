//! `git lfs install --system` (git-lfs's postinst: `git lfs install --skip-repo --system`): Git
//! LFS's filter in the system Git configuration, `/etc/gitconfig`, as git-lfs writes it through
//! `git config --system` — the `[filter "lfs"]` section with `required`, `clean`, `smudge` and
//! `process`, in that order (git-lfs 3.3's; `--skip-smudge` makes smudge and process pass the
//! pointers through). Where `/etc/gitconfig` already says anything about the filter, git's own
//! editing of the file is not reproduced: reported.

use super::{Changes, Overlay};

const GITCONFIG: &str = "etc/gitconfig";

/// A `git lfs install` call in the form reproduced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Install {
    skip_smudge: bool,
}

/// `git lfs install [--skip-repo] [--skip-smudge] --system` (`git` and its arguments); `None`
/// for other forms (a repository's or the user's configuration, `--force`, `--manual`).
pub fn parse(argv0: &str, args: &[String]) -> Option<Install> {
    if argv0.rsplit('/').next() != Some("git") {
        return None;
    }
    let [lfs, install, options @ ..] = args else {
        return None;
    };
    if lfs != "lfs" || install != "install" {
        return None;
    }
    let mut call = Install { skip_smudge: false };
    let mut system = false;
    for o in options {
        match o.as_str() {
            "--system" => system = true,
            "--skip-repo" => {}
            "--skip-smudge" | "-s" => call.skip_smudge = true,
            _ => return None,
        }
    }
    system.then_some(call)
}

/// The section git-lfs adds to a configuration that has none.
fn section(call: Install) -> String {
    let (smudge, process) = if call.skip_smudge {
        ("git-lfs smudge --skip -- %f", "git-lfs filter-process --skip")
    } else {
        ("git-lfs smudge -- %f", "git-lfs filter-process")
    };
    format!(
        "[filter \"lfs\"]\n\trequired = true\n\tclean = git-lfs clean -- %f\n\tsmudge = {smudge}\n\tprocess = {process}\n"
    )
}

/// Writes the filter into `/etc/gitconfig` (made 0644, as git makes it under dpkg's umask).
pub fn apply(overlay: &mut Overlay<'_>, call: Install) -> Result<(), String> {
    let existing = super::read_file(overlay, GITCONFIG).map_err(|e| e.to_string())?;
    let wanted = section(call);
    match existing {
        None => {
            let mut c = Changes::default();
            c.file(GITCONFIG, 0o644, wanted.into_bytes());
            overlay.apply(c);
            Ok(())
        }
        // Run again over its own result: nothing changes.
        Some(bytes) if bytes == wanted.as_bytes() => Ok(()),
        Some(_) => Err("/etc/gitconfig exists: git's editing of it is not reproduced".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::super::TreeView;
    use super::super::testutil::MemTree;
    use super::*;

    fn argv(s: &str) -> Vec<String> {
        s.split(' ').map(str::to_owned).collect()
    }

    /// git-lfs 3.3.0's postinst in a dpkg install left these 126 bytes in /etc/gitconfig (the
    /// fidelity reference of the `git-lfs` set); running it again changes nothing; another
    /// configuration is not edited; other forms are not this call.
    #[test]
    fn the_system_filter_is_written_as_git_lfs_writes_it() {
        let call = parse("git", &argv("lfs install --skip-repo --system")).unwrap();
        let t = MemTree::new();
        let mut o = Overlay::new(&t);
        apply(&mut o, call).unwrap();
        let written = o.read(GITCONFIG).and_then(Result::ok).unwrap();
        assert_eq!(
            written,
            b"[filter \"lfs\"]\n\trequired = true\n\tclean = git-lfs clean -- %f\n\tsmudge = git-lfs smudge -- %f\n\tprocess = git-lfs filter-process\n"
        );
        assert_eq!(written.len(), 126);
        assert_eq!(o.entry(GITCONFIG).map(|e| e.mode), Some(0o644));
        apply(&mut o, call).unwrap();
        let mut other = MemTree::new();
        other.file(GITCONFIG, b"[user]\n\tname = x\n");
        let mut o = Overlay::new(&other);
        assert!(apply(&mut o, call).is_err());
        let skip = parse("/usr/bin/git", &argv("lfs install --skip-smudge --system")).unwrap();
        assert!(section(skip).contains("smudge = git-lfs smudge --skip -- %f"));
        for other in [
            "lfs install",
            "lfs install --force --system",
            "lfs uninstall --system",
            "config --system a.b c",
        ] {
            assert_eq!(parse("git", &argv(other)), None, "{other}");
        }
    }
}
