//! What a command prints, where a script sends it to a file (`echo TEXT >FILE`, `printf … >>FILE`,
//! `cat A B >FILE`, `: >FILE`) or reads it back (`$(mktemp)`), computed without running it.
//! `echo` and `printf` are [`shell::text`]'s. Writing it to the file, and what a write that is not
//! reproduced leaves (the file left out, pending).

use super::super::commands::is_hard_link;
use super::super::shell;
use super::super::shell::text::{echo, file_operands, filter, printf};
use super::super::{Changes, Overlay, TreeView};
use super::State;
use crate::entry::EntryKind;

/// What a printing command writes, or `Err` when it cannot be known; `Ok(None)` for a command
/// that is not one of these.
pub fn printed(
    tree: &dyn TreeView,
    argv: &[String],
    bash: bool,
    stdin: Option<&str>,
) -> Result<Option<String>, String> {
    let Some((name, args)) = argv.split_first() else {
        return Ok(None);
    };
    Ok(Some(match name.as_str() {
        // Tests print nothing on standard output (their errors go to standard error).
        ":" | "true" | "false" | "[" | "test" => String::new(),
        "echo" => echo(args, bash)?,
        "printf" => {
            let (format, args) = args.split_first().ok_or("printf without a format")?;
            printf(format, args)?
        }
        // A filter of a pipeline's known input (`cat FILE | sed … > OUT`).
        "sed" | "grep" | "awk" | "mawk" | "gawk" | "tr" | "wc" | "cut" | "sort" | "uniq" | "head" | "cat"
            if stdin.is_some() && file_operands(argv).is_none() && (name != "cat" || args.is_empty()) =>
        {
            filter(argv, stdin.unwrap_or_default()).ok_or("this form is not reproduced")?
        }
        "sed" | "grep" | "awk" | "mawk" | "gawk" | "head" | "tail" => {
            let (own, files) = file_operands(argv).ok_or("it reads no file")?;
            let mut input = String::new();
            for f in &files {
                input.push_str(&read_text(tree, f)?);
            }
            filter(&own, &input).ok_or("this form is not reproduced")?
        }
        // `md5sum FILE…` (ucf's hashfile lines, `md5_old=$(md5sum /etc/x | …)`). A file that is
        // not there fails it: that, like a file left out, stays unknown.
        "md5sum" if !args.is_empty() && args.iter().all(|a| !a.starts_with('-')) => {
            use md5::{Digest, Md5};
            let mut out = String::new();
            for a in args {
                let bytes = read_bytes(tree, a)?;
                out.push_str(&format!("{}  {a}\n", hex::encode(Md5::digest(&bytes))));
            }
            out
        }
        "cat" if !args.is_empty() => {
            let mut out = String::new();
            for a in args {
                if a.starts_with('-') {
                    return Err(format!("cat option {a} is not reproduced"));
                }
                out.push_str(&read_text(tree, a)?);
            }
            out
        }
        _ => return Ok(None),
    }))
}

/// `mktemp [-d] [-p DIR | --tmpdir[=DIR] | -t] [-q] [TEMPLATE]` made in the image: the file
/// (0600) or directory (0700), root's, with the template's trailing `X`s replaced by a counter
/// instead of random letters, so the build stays deterministic. Returns the path mktemp prints.
pub fn mktemp(overlay: &mut Overlay<'_>, args: &[String]) -> Result<String, String> {
    let (mut dir_mode, mut in_tmp) = (false, false);
    let mut base_dir = None;
    let mut template = None;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "-d" | "--directory" => dir_mode = true,
            "-q" | "--quiet" => {}
            "-t" | "--tmpdir" => in_tmp = true,
            "-p" => {
                in_tmp = true;
                base_dir = Some(it.next().ok_or("mktemp -p without a directory")?.clone());
            }
            s if s.starts_with("--tmpdir=") => {
                in_tmp = true;
                base_dir = Some(s["--tmpdir=".len()..].to_owned());
            }
            s if s.starts_with('-') => return Err(format!("mktemp option {s} is not reproduced")),
            s if template.is_none() => template = Some(s.to_owned()),
            _ => return Err("mktemp with more than one template".into()),
        }
    }
    let default = template.is_none();
    let template = template.unwrap_or_else(|| "tmp.XXXXXXXXXX".to_owned());
    // GNU mktemp: what follows the last `X` is a suffix kept as it is (`sstatXXXXXXXXX.def`).
    let x_end = template.rfind('X').map_or(template.len(), |i| i + 1);
    let suffix = &template[x_end..];
    let xs = x_end - template[..x_end].trim_end_matches('X').len();
    if xs < 3 {
        return Err(format!("mktemp template `{template}` has fewer than 3 X's"));
    }
    // dpkg gives scripts no TMPDIR: mktemp's directory is /tmp.
    let path_of = |name: &str| {
        if default || in_tmp {
            format!(
                "{}/{name}",
                base_dir.as_deref().unwrap_or("/tmp").trim_end_matches('/')
            )
        } else {
            name.to_owned()
        }
    };
    let stem = &template[..x_end - xs];
    for n in 1..10_000u32 {
        let name = format!("{stem}{n:0xs$}{suffix}");
        let abs = path_of(&name);
        if !abs.starts_with('/') {
            return Err(format!(
                "mktemp in the working directory ({name}) is not reproduced"
            ));
        }
        let rel = super::super::lstat_path(overlay, &abs)?;
        if overlay.entry(&rel).is_some() {
            continue;
        }
        let mut c = Changes::default();
        if dir_mode {
            c.dir(&rel, 0o700);
        } else {
            c.file(&rel, 0o600, Vec::new());
        }
        overlay.apply(c);
        return Ok(abs);
    }
    Err("mktemp: no free name".into())
}

/// A regular file of the image as text (a link followed).
pub(super) fn read_text(tree: &dyn TreeView, abs: &str) -> Result<String, String> {
    String::from_utf8(read_bytes(tree, abs)?).map_err(|_| format!("{abs} is not UTF-8 text"))
}

/// The bytes of a regular file of the image (its links followed).
fn read_bytes(tree: &dyn TreeView, abs: &str) -> Result<Vec<u8>, String> {
    // The running system's /dev/null (the image has no /dev): reads as empty.
    if abs == "/dev/null" {
        return Ok(Vec::new());
    }
    let path = super::super::lstat_path(tree, abs)?;
    let real = super::super::resolve(tree, &path).ok_or_else(|| format!("{abs}: No such file"))?;
    match tree.entry(&real).map(|e| &e.kind) {
        Some(EntryKind::File { .. }) => {}
        _ => return Err(format!("{abs} is not a regular file")),
    }
    match tree.read(&real) {
        Some(Ok(bytes)) => Ok(bytes),
        Some(Err(e)) => Err(format!("reading {abs}: {e}")),
        None => Ok(Vec::new()),
    }
}

/// `cat >PATH <<EOF` (`>>`: appended), as the shell writes it: a new file is the umask's
/// `0666`, root's; an existing one (a symbolic link followed) keeps its mode and owner. Writes to
/// `/dev` (`/dev/null`) have no effect on the image.
pub(super) fn write_file(st: &mut State<'_>, abs: &str, text: &str, append: bool) -> Result<(), String> {
    if abs.starts_with("/dev/") {
        return Ok(());
    }
    if abs.split('/').any(|c| c == "..") {
        return Err(format!("{abs} has a `..` component"));
    }
    // What is appended to a file left out would be all it holds: it stays left out.
    if append && st.pending.contains(abs) {
        return Err(format!(
            "{abs} is left out: its content is not known while building"
        ));
    }
    let existed = super::super::exists(&st.overlay, &super::super::tree_path(abs));
    super::super::write_through(&mut st.overlay, abs, text.as_bytes(), append, st.umask)?;
    if !existed {
        st.created.insert(abs.to_owned());
    }
    // A whole new content is known again.
    if !append {
        known_again(st, abs);
    }
    Ok(())
}

/// `abs` is no longer left out: removed, or made anew with content the walk knows. Whatever
/// marked it as pending or as the machine's goes with it.
pub(super) fn known_again(st: &mut State<'_>, abs: &str) {
    st.pending.remove(abs);
    st.machine_dependent.remove(abs);
}

/// A file left out because what it holds belongs to the machine the image runs on.
#[derive(Debug, Clone)]
pub(super) struct MachineFile {
    /// What makes it there ([`commands::host_value`], [`commands::random_value`]).
    pub hint: String,
    /// The unknown value's reason it holds ([`shell::is_machine_dependent`]).
    pub why: String,
}

/// A write of the host's name or a random value to `abs`: its content is lost, and the file,
/// left out, is remembered as the machine's (what is copied or sourced from it is too).
pub(super) fn machine_file_lost(
    st: &mut State<'_>,
    abs: &str,
    lost: MachineFile,
    guessed: bool,
    append: bool,
) {
    content_lost(st, abs, guessed, append);
    if st.pending.contains(abs) {
        st.machine_dependent.insert(abs.to_owned(), lost);
    }
}

/// A write to `abs` was not reproduced. A file the script made itself (clamav-daemon's
/// configuration assembled line by line from debconf answers, then handed to ucf) or one that
/// does not exist has content nobody knows: it is left out and pending, as what a left-out
/// command makes, so nothing copies it half-written into place. A file that was there before the
/// script keeps what it had (a registry other packages wrote to); the report names the write.
/// An append reached only through a condition the walk could not decide (`guessed`) may not
/// happen on the real system (exim4-config appends a root alias only for a postmaster it was
/// given): the file keeps what it has. A guessed rewrite of a file the script made itself
/// (courier's `cat KEY CERT >PEM` after `install /dev/null PEM`) leaves it either as made or with
/// content nobody knows: it is left out, never kept half-written.
pub(super) fn content_lost(st: &mut State<'_>, abs: &str, guessed: bool, append: bool) {
    if (guessed && (append || !st.created.contains(abs)))
        || abs.starts_with("/dev/")
        || abs.split('/').any(|c| c == "..")
    {
        return;
    }
    let path = super::super::tree_path(abs);
    let exists = super::super::exists(&st.overlay, &path);
    if exists && !st.created.contains(abs) {
        return;
    }
    if exists {
        drop_written(st, abs);
    } else {
        st.created.remove(abs);
    }
    st.pending.insert(abs.to_owned());
}

/// A write in commands the walk did not run ([`shell::Eval`]'s `tell_unwalked_writes`), listed
/// with why. In a loop that runs a number of times the walk cannot tell (`guessed` false: `…
/// | while read v; do echo "$v" >> "$TMP"; done` over input it cannot read), what the file holds
/// is not known: [`content_lost`] (a file the script made is left out, never kept as if the
/// loop had not run). In a branch an undecided `if` did not take (`guessed`), the walk keeps to
/// its guess and the report says what the other branch would have written.
pub(super) fn unwalked_write(st: &mut State<'_>, c: &shell::Call<'_>, why: &str, failures: &mut Vec<String>) {
    let Some((target, append)) = &c.stdout else {
        return;
    };
    failures.push(match target {
        shell::Value::Known(p) if p.starts_with("/dev/") => return,
        shell::Value::Known(p) => format!("{} {p} ({}{why})", c.text, shell::NOT_RUN),
        shell::Value::Unknown(what) => format!("{} {what} ({}{why})", c.text, shell::NOT_RUN),
    });
    if let shell::Value::Known(path) = target
        && !c.guessed
    {
        content_lost(st, path, false, *append);
    }
}

/// Removes what the image has at `abs` (a file or link; a directory stays) and forgets that the
/// script made it: its content is not what the real run leaves. `false`, and nothing done, for
/// `/dev` and paths with `..`.
fn drop_written(st: &mut State<'_>, abs: &str) -> bool {
    if abs.starts_with("/dev/") || abs.split('/').any(|c| c == "..") {
        return false;
    }
    let path = super::super::tree_path(abs);
    if st.overlay.entry(&path).is_some_and(|e| !e.is_dir()) {
        st.overlay.apply(Changes {
            files: Vec::new(),
            removed: vec![path],
        });
    }
    st.created.remove(abs);
    true
}

/// Why a command that reads its operands cannot run: one of them is left out (pending), its
/// content not known while building; with what makes it at first start when it is left out as
/// belonging to the machine the image runs on. `None` for commands that only change names or
/// metadata.
pub(super) fn reads_pending(st: &State<'_>, name: &str, args: &[String]) -> Option<(String, Option<String>)> {
    // The files read: every operand but the destination (the last), or sed's in-place edits.
    let read = match name {
        "cp" | "mv" | "install" | "ucf" => {
            let operands: Vec<&String> = args.iter().filter(|a| a.starts_with('/')).collect();
            operands
                .split_last()
                .map(|(_, sources)| sources.to_vec())
                .unwrap_or_default()
        }
        "sed" => args.iter().collect(),
        // A hard link is a copy here (see `copy::hard_link`).
        "ln" if is_hard_link(args) => args.iter().filter(|a| a.starts_with('/')).take(1).collect(),
        _ => return None,
    };
    read.into_iter()
        .find(|a| st.pending.contains(a.as_str()))
        .map(|a| {
            (
                format!("{a} is left out: its content is not known while building"),
                st.machine_dependent.get(a.as_str()).map(|m| m.hint.clone()),
            )
        })
}

/// What a command left out writes over (courier's `install /dev/null KEY`, then `certtool
/// --outfile KEY`): the file as it was is not what the image would have, so it goes, and a later
/// `cat KEY CERT >PEM` cannot read it as empty. On a guessed path the command may not run: the
/// file stays.
pub(super) fn replaced_by_left_out(st: &mut State<'_>, abs: &str, guessed: bool) {
    // A relative `--outfile` is relative to a working directory not tracked here: left alone.
    if !guessed && abs.starts_with('/') {
        drop_written(st, abs);
    }
}

/// A copy that reads a file left out (`reads_pending`) is not made, but what it would make is not
/// what the image has either: its destination (under the source's name in a directory operand)
/// gets content nobody knows, so it is left out and pending too, even a file that existed before
/// the script, as the copy would replace all of it (ejabberd's configuration, built in a
/// `mktemp` file by a sed the walk does not reproduce, then handed to ucf). `mv` takes its source
/// away. On a guessed path the copy may not happen: the destination keeps what it has.
pub(super) fn copy_of_pending(st: &mut State<'_>, name: &str, args: &[String], guessed: bool) {
    // `-t DIR` names the destination first: not read here (the copy is reported all the same).
    let target_first = args.iter().any(|a| {
        a == "-t" || a.starts_with("--target-directory") || (a.starts_with("-t") && !a.starts_with("--"))
    });
    let hard_link = name == "ln" && is_hard_link(args);
    if guessed || target_first || !(hard_link || matches!(name, "cp" | "mv" | "install" | "ucf")) {
        return;
    }
    let operands: Vec<&String> = args.iter().filter(|a| a.starts_with('/')).collect();
    let Some((dest, sources)) = operands.split_last() else {
        return;
    };
    let into_dir = st
        .overlay
        .entry(&super::super::tree_path(dest))
        .is_some_and(|e| e.is_dir());
    let left_out: Vec<&String> = sources
        .iter()
        .copied()
        .filter(|s| st.pending.contains(s.as_str()))
        .collect();
    for source in left_out {
        let target = if into_dir {
            let file = source.rsplit('/').next().unwrap_or(source);
            format!("{}/{file}", dest.trim_end_matches('/'))
        } else {
            (*dest).clone()
        };
        if !drop_written(st, &target) {
            continue;
        }
        match st.machine_dependent.get(source.as_str()).cloned() {
            Some(hint) => st.machine_dependent.insert(target.clone(), hint),
            None => st.machine_dependent.remove(&target),
        };
        st.pending.insert(target);
        if name == "mv" {
            known_again(st, source.as_str());
        }
    }
}

/// The files an in-place editor changes (`perl -pi -e … FILE`, `sed -i SCRIPT FILE` of a form the
/// walk does not apply): the absolute operands, the program text aside.
/// The files an edit in place (`sed -i`, `perl -pi`) with words not all known edits, where
/// they are known and every unknown word is part of the program, not a file or an option.
pub(super) fn machine_edit_targets(words: &[shell::Value]) -> Option<Vec<String>> {
    // A stand-in for an unknown word: no option, file or program is spelt so.
    const UNKNOWN: &str = "\0unknown";
    let (shell::Value::Known(name), rest) = words.split_first()? else {
        return None;
    };
    let args: Vec<String> = rest
        .iter()
        .map(|w| match w {
            shell::Value::Known(s) => s.clone(),
            shell::Value::Unknown(_) => UNKNOWN.to_owned(),
        })
        .collect();
    let targets = edited_in_place(name.rsplit('/').next().unwrap_or(name), &args);
    (!targets.is_empty() && targets.iter().all(|t| t.starts_with('/'))).then_some(targets)
}

pub(super) fn edited_in_place(name: &str, args: &[String]) -> Vec<String> {
    // perl's switches bundle (`-pi`, `-i.bak`): an `i` among them, before any backup suffix.
    let perl_in_place = |a: &str| {
        a.len() > 1
            && a.starts_with('-')
            && !a.starts_with("--")
            && a[1..]
                .split('.')
                .next()
                .is_some_and(|s| s.contains('i') && s.chars().all(|c| "pinlaw".contains(c)))
    };
    let in_place = match name {
        "perl" => args.iter().any(|a| perl_in_place(a)),
        "sed" => args
            .iter()
            .any(|a| a == "--in-place" || a.starts_with("--in-place=") || a.starts_with("-i")),
        _ => false,
    };
    if !in_place {
        return Vec::new();
    }
    // Without `-e`, the first operand is the program (sed's script, perl's script file).
    let mut program_given = false;
    let mut program_next = false;
    let mut out = Vec::new();
    for a in args {
        if program_next {
            program_next = false;
        } else if a == "-e" || a == "--expression" {
            (program_given, program_next) = (true, true);
        } else if a.starts_with('-') && a.len() > 1 {
        } else if !program_given {
            program_given = true;
        } else if a.starts_with('/') {
            out.push(a.clone());
        }
    }
    out
}

/// `getfacl -c PATH…` (`--omit-header`) as acl's tool prints it for the image's entries, which
/// carry no access control list beyond their mode (dpkg cannot ship one): the owner's, group's
/// and others' permissions, and an empty line, for each path (its links followed). `None` for
/// other options, a path that does not exist, and an entry with an ACL attribute.
pub(super) fn getfacl_output(tree: &dyn TreeView, args: &[String]) -> Option<String> {
    let (options, paths): (Vec<&String>, Vec<&String>) = args.iter().partition(|a| a.starts_with('-'));
    if paths.is_empty() || !options.iter().any(|o| *o == "-c" || *o == "--omit-header") {
        return None;
    }
    if options
        .iter()
        .any(|o| !matches!(o.as_str(), "-c" | "--omit-header" | "-p" | "--absolute-names"))
    {
        return None;
    }
    let rwx = |bits: u32| {
        let flag = |bit: u32, c: char| if bits & bit != 0 { c } else { '-' };
        [flag(4, 'r'), flag(2, 'w'), flag(1, 'x')]
            .iter()
            .collect::<String>()
    };
    let mut out = String::new();
    for p in paths {
        if !p.starts_with('/') {
            return None;
        }
        let real = super::super::resolve(tree, &super::super::tree_path(p))?;
        let e = tree.entry(&real)?;
        if e.xattrs.keys().any(|k| k.starts_with("system.posix_acl")) {
            return None;
        }
        let m = e.mode;
        out.push_str(&format!(
            "user::{}\ngroup::{}\nother::{}\n\n",
            rwx(m >> 6),
            rwx(m >> 3),
            rwx(m)
        ));
    }
    Some(out)
}

/// `stat -c FORMAT PATH…` (or `--format=FORMAT`) as coreutils prints it for the image's entries
/// (spamassassin's `OWNER=$(stat -c '%U' /var/lib/spamassassin)`): `%U`/`%G` the names the
/// image's account files give the ids (`UNKNOWN` for an id without one, as stat prints), `%u`,
/// `%g`, `%a` (the octal mode), `%n`, `%%`; a link is described itself, as without `-L`. `None`
/// for other directives and options, and for a path that does not exist (stat fails).
pub(super) fn stat_output(tree: &dyn TreeView, args: &[String]) -> Option<String> {
    let (format, paths) = match args {
        [c, format, paths @ ..] if c == "-c" || c == "--format" => (format.as_str(), paths),
        // `stat -c%a FILE` (screen's postinst), `--format=%a`.
        [f, paths @ ..] => (
            f.strip_prefix("-c").or_else(|| f.strip_prefix("--format="))?,
            paths,
        ),
        [] => return None,
    };
    let paths = paths.strip_prefix(&["--".to_owned()][..]).unwrap_or(paths);
    if paths.is_empty() || paths.iter().any(|p| !p.starts_with('/')) {
        return None;
    }
    let name = |db: &str, id: u32| {
        let line = super::super::users::getent_output(tree, &[db.to_owned(), id.to_string()])?;
        Some(match line.split(':').next() {
            Some(n) if !n.is_empty() => n.to_owned(),
            _ => "UNKNOWN".to_owned(),
        })
    };
    let mut out = String::new();
    for p in paths {
        let real = super::super::resolve_dir_of(tree, &super::super::tree_path(p))?;
        let e = tree.entry(&real)?;
        let mut chars = format.chars();
        while let Some(c) = chars.next() {
            if c != '%' {
                out.push(c);
                continue;
            }
            match chars.next()? {
                'U' => out.push_str(&name("passwd", e.uid)?),
                'G' => out.push_str(&name("group", e.gid)?),
                'u' => out.push_str(&e.uid.to_string()),
                'g' => out.push_str(&e.gid.to_string()),
                'a' => out.push_str(&format!("{:o}", e.mode & 0o7777)),
                'n' => out.push_str(p),
                '%' => out.push('%'),
                _ => return None,
            }
        }
        out.push('\n');
    }
    Some(out)
}
