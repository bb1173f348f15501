//! `pam-auth-update` (libpam-runtime): `/etc/pam.d/common-{auth,account,password,session,
//! session-noninteractive}` and its state in `/var/lib/pam`, merged from the profiles in
//! `/usr/share/pam-configs` into the templates in `/usr/share/pam`, as the tool does without a
//! debconf answer (a fresh install, `DEBIAN_FRONTEND=noninteractive`).
//!
//! The algorithm, as facts from the tool's source (Debian's `pam`, `debian/local/pam-auth-update`):
//! - Profiles are the directory's entries except names ending in `~` or of the form `#…#`; a
//!   profile naming `pam_tally` anywhere is dropped. A profile is `Field: value` lines with
//!   indented continuation lines (trimmed, joined with `\n`); `X-Final` is read as `X`; without
//!   `Session-Interactive-Only` the `Session*` fields also serve `Session-noninteractive*`.
//! - Profiles are ordered by `Priority` (descending), then by name (descending). The enabled set
//!   is the one found in the current configuration (when `/var/lib/pam` and the managed blocks
//!   agree), plus `--enable`, minus `--disable`/`--remove`, plus every `Default: yes` profile not
//!   listed in `/var/lib/pam/seen`; of two conflicting profiles the first keeps its place.
//! - Without a readable current configuration and without `--force`, nothing is written.
//! - For each type, the template is the current file, or `/usr/share/pam/common-TYPE` when the
//!   current file's text outside the managed blocks has a known stock checksum (or, forced, when
//!   the current file lacks the markers). The Primary block holds the enabled profiles with
//!   `TYPE-Type: Primary` (the first one's `TYPE-Initial` lines if it has them), each line
//!   `type<TAB>CONTROL MODULE OPTIONS` with `end` in `CONTROL MODULE` replaced by the number of
//!   lines left in the block; with no Primary lines a `[default=1] pam_permit.so` line keeps the
//!   stack intact. The Additional block likewise, counting one line less.
//! - `/var/lib/pam/TYPE` holds `Module: NAME` and the profile's lines (Primary first, then the
//!   others; `Module: null` for an empty Primary block); `/var/lib/pam/seen` every profile name in
//!   priority order. Files are written 0644 (the tool's umask is 022).

#[cfg(test)]
mod tests;

use std::collections::{BTreeMap, BTreeSet};

use md5::{Digest, Md5};

use super::{Changes, Overlay, TreeView};

const INPUT_DIR: &str = "usr/share/pam-configs";
const SAVE_DIR: &str = "var/lib/pam";
const TYPES: [&str; 5] = ["auth", "account", "password", "session", "session-noninteractive"];
const PRIMARY: &str = "# here are the per-package modules (the \"Primary\" block)";
const FALLBACK: &str = "# here's the fallback if no module succeeds";
const ADDITIONAL: &str = "# and here are more per-package modules (the \"Additional\" block)";
const END: &str = "# end of pam-auth-update config";

/// Checksums of stock templates' text outside the managed blocks, per type (from the tool).
fn stock_md5s(ty: &str) -> &'static [&'static str] {
    match ty {
        "auth" => &["8d4fe17e66ba25de16a117035d1396aa"],
        "account" => &["3c0c362eaf3421848b679d63fd48c3fa"],
        "password" => &[
            "4d5c92d595a46b69cd61f18feb4c0574",
            "50fce2113dfda83ac8bdd5a6e706caec",
            "4bd7610f2e85f8ddaef79c7db7cb49eb",
            "9ba753d0824276b44bcadfee1f87b6bc",
        ],
        "session" => &[
            "f297c731a467822cbd86e1283263e8a3",
            "240fb92986c885b327cdb21dd641da8c",
            "4a25673e8b36f1805219027d3be02cd2",
        ],
        "session-noninteractive" => &["ad2b78ce1498dd637ef36469430b6ac6"],
        _ => &[],
    }
}

/// Whether this is a `pam-auth-update` call this module models.
pub fn handles(argv0: &str, args: &[String]) -> bool {
    argv0 == "pam-auth-update" && parse_args(args).is_ok()
}

#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Args {
    pub force: bool,
    pub package: bool,
    pub enable: BTreeSet<String>,
    pub disable: BTreeSet<String>,
    pub remove: BTreeSet<String>,
}

pub fn parse_args(args: &[String]) -> Result<Args, String> {
    let mut a = Args::default();
    let mut i = 0;
    while i < args.len() {
        let opt = args[i].as_str();
        i += 1;
        let list = |set: &mut BTreeSet<String>, i: &mut usize| {
            while *i < args.len() && !args[*i].starts_with("--") {
                set.insert(args[*i].clone());
                *i += 1;
            }
        };
        match opt {
            "--force" => a.force = true,
            "--package" => a.package = true,
            "--root" => {
                let root = args.get(i).ok_or("--root needs a directory")?;
                if !(root.is_empty() || root.chars().all(|c| c == '/')) {
                    return Err(format!("--root {root}: only the image root is modelled"));
                }
                i += 1;
            }
            "--enable" => list(&mut a.enable, &mut i),
            "--disable" => list(&mut a.disable, &mut i),
            "--remove" => list(&mut a.remove, &mut i),
            // The tool ignores anything else.
            _ => {}
        }
    }
    Ok(a)
}

/// One profile's fields (values as the tool holds them).
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Profile {
    pub fields: BTreeMap<String, String>,
    pub conflicts: BTreeSet<String>,
    pub disabled: bool,
}

impl Profile {
    fn get(&self, key: &str) -> Option<&str> {
        self.fields.get(key).map(String::as_str)
    }

    /// Perl truthiness of a field.
    fn truthy(&self, key: &str) -> Option<&str> {
        self.get(key).filter(|v| !v.is_empty() && *v != "0")
    }

    fn priority(&self) -> f64 {
        perl_number(self.get("Priority").unwrap_or(""))
    }
}

/// A string in Perl's numeric context.
fn perl_number(s: &str) -> f64 {
    let t = s.trim_start();
    let mut end = 0;
    let b = t.as_bytes();
    if end < b.len() && (b[end] == b'-' || b[end] == b'+') {
        end += 1;
    }
    while end < b.len() && b[end].is_ascii_digit() {
        end += 1;
    }
    if end < b.len() && b[end] == b'.' {
        end += 1;
        while end < b.len() && b[end].is_ascii_digit() {
            end += 1;
        }
    }
    t[..end].parse().unwrap_or(0.0)
}

/// Parses a profile as `parse_pam_profile` does.
pub fn parse_profile(text: &str) -> Profile {
    let mut p = Profile::default();
    let mut field = String::new();
    for raw in text.split_inclusive('\n') {
        let run_end = raw.find(char::is_whitespace).unwrap_or(raw.len());
        let run = &raw[..run_end];
        if run.len() >= 2 && run.ends_with(':') && run_end < raw.len() {
            let mut name = run[..run.len() - 1].to_owned();
            if let Some(n) = name.strip_suffix("-Final") {
                name = n.to_owned();
            }
            let rest = raw[run_end..].trim_start();
            let value = rest.strip_suffix('\n').unwrap_or(rest).to_owned();
            if name == "Conflicts" {
                for c in value.split(", ") {
                    p.conflicts.insert(c.to_owned());
                }
            } else {
                p.fields.insert(name.clone(), value);
            }
            field = name;
        } else {
            let line = raw.trim();
            let v = p.fields.entry(field.clone()).or_default();
            if !line.is_empty() {
                v.push('\n');
                v.push_str(line);
            }
            if v.contains("pam_tally") {
                p.disabled = true;
            }
            let trimmed = v.trim_start().to_owned();
            *v = trimmed;
        }
    }
    if !p.fields.contains_key("Session-Interactive-Only") {
        for (from, to) in [
            ("Session-Type", "Session-noninteractive-Type"),
            ("Session", "Session-noninteractive"),
            ("Session-Initial", "Session-noninteractive-Initial"),
        ] {
            match p.fields.get(from).cloned() {
                Some(v) => p.fields.insert(to.to_owned(), v),
                None => p.fields.remove(to),
            };
        }
    }
    p
}

/// `ucfirst`.
fn uc_type(ty: &str) -> String {
    let mut c = ty.chars();
    match c.next() {
        Some(f) => f.to_ascii_uppercase().to_string() + c.as_str(),
        None => String::new(),
    }
}

/// Priority descending, then name descending.
fn sort_profiles(names: &mut [String], profiles: &BTreeMap<String, Profile>) {
    let prio = |n: &String| profiles.get(n).map_or(0.0, Profile::priority);
    names.sort_by(|a, b| {
        prio(b)
            .partial_cmp(&prio(a))
            .unwrap_or(std::cmp::Ordering::Equal)
            .then_with(|| b.as_bytes().cmp(a.as_bytes()))
    });
}

fn lines_for<'p>(p: &'p Profile, uctype: &str, modpos: usize) -> Option<&'p str> {
    if modpos == 0
        && let Some(v) = p.truthy(&format!("{uctype}-Initial"))
    {
        return Some(v);
    }
    p.get(uctype)
}

/// Strips the first digit run inside `[…]` (the tool's `s/(\[[^0-9]*)[0-9]+(.*\])/$1$2/g`).
fn strip_jump(s: &str) -> String {
    let mut out = String::new();
    let mut rest = s;
    loop {
        let Some(open) = rest.find('[') else {
            out.push_str(rest);
            return out;
        };
        let after = &rest[open..];
        // `[` then non-digits, then digits, then anything up to the last `]`.
        let digits_at = after.find(|c: char| c.is_ascii_digit());
        let last_close = after.rfind(']');
        match (digits_at, last_close) {
            (Some(d), Some(c)) if d < c => {
                let dend = d + after[d..]
                    .find(|c: char| !c.is_ascii_digit())
                    .unwrap_or(after.len() - d);
                if dend <= c {
                    out.push_str(&rest[..open]);
                    out.push_str(&after[..d]);
                    out.push_str(&after[dend..=c]);
                    rest = &after[c + 1..];
                    continue;
                }
                out.push_str(rest);
                return out;
            }
            _ => {
                // No match from this `[`: try from the next one.
                out.push_str(&rest[..open + 1]);
                rest = &rest[open + 1..];
            }
        }
    }
}

/// Splits a profile line into `CONTROL MODULE` and its options (the tool's
/// `^((\[[^]]+\]|\w+)\s+\S+)\s*(.*)`).
fn split_line(line: &str) -> Option<(&str, &str)> {
    let ctrl_end = if let Some(inner) = line.strip_prefix('[') {
        let close = inner.find(']')? + 1;
        if close == 1 {
            return None;
        }
        close + 1
    } else {
        let e = line
            .find(|c: char| !(c.is_alphanumeric() || c == '_'))
            .unwrap_or(line.len());
        if e == 0 {
            return None;
        }
        e
    };
    let after = &line[ctrl_end..];
    let ws = after.len() - after.trim_start().len();
    if ws == 0 {
        return None;
    }
    let module_start = ctrl_end + ws;
    let m = &line[module_start..];
    let mlen = m.find(char::is_whitespace).unwrap_or(m.len());
    if mlen == 0 {
        return None;
    }
    let modline = &line[..module_start + mlen];
    let opts = line[module_start + mlen..].trim_start();
    Some((modline, opts))
}

/// Options an admin added to or removed from a module line, by type and module key.
#[derive(Debug, Default, Clone)]
struct Diff {
    mods: Vec<String>,
    add: BTreeMap<(String, String), BTreeSet<String>>,
    remove: BTreeMap<(String, String), BTreeSet<String>>,
}

fn merge_one_line(line: &str, diff: Option<&Diff>, ty: &str, count: i64) -> String {
    let (modline, opts) = split_line(line).unwrap_or((line, ""));
    let modline = modline.replace("end", &count.to_string());
    let mut opts: Vec<String> = opts.split_whitespace().map(str::to_owned).collect();
    let mut adds = BTreeSet::new();
    if let Some(d) = diff {
        let key = (ty.to_owned(), strip_jump(&modline));
        adds = d.add.get(&key).cloned().unwrap_or_default();
        let removes = d.remove.get(&key).cloned().unwrap_or_default();
        opts.retain(|o| {
            adds.remove(o);
            !removes.contains(o)
        });
    }
    opts.extend(adds);
    format!("{modline} {}\n", opts.join(" "))
}

/// `create_from_template`: `None` if the template lacks a marker.
fn create_from_template(
    template: &str,
    profiles: &BTreeMap<String, Profile>,
    enabled: &[String],
    diff: Option<&Diff>,
    ty: &str,
) -> Option<String> {
    let uctype = uc_type(ty);
    let ptype = ty.strip_suffix("-noninteractive").unwrap_or(ty);
    let type_key = format!("{uctype}-Type");
    let mut out = String::new();
    let mut state = 0;
    for line in template.split_inclusive('\n') {
        if state == 1 {
            if line.starts_with(FALLBACK) {
                out.push_str(line);
                state += 1;
            }
            continue;
        }
        if state == 3 {
            if line.starts_with(END) {
                out.push_str(line);
                state += 1;
            }
            continue;
        }
        out.push_str(line);
        let val = match state {
            0 if line.starts_with(PRIMARY) => "Primary",
            2 if line.starts_with(ADDITIONAL) => "Additional",
            _ => continue,
        };
        let block: Vec<&Profile> = enabled
            .iter()
            .filter_map(|m| profiles.get(m))
            .filter(|p| p.truthy(&type_key) == Some(val))
            .collect();
        let mut count: i64 = block
            .iter()
            .enumerate()
            .map(|(i, p)| {
                lines_for(p, &uctype, i).map_or(0, |o| o.split('\n').filter(|l| !l.is_empty()).count())
            })
            .sum::<usize>() as i64;
        if val == "Additional" {
            count -= 1;
        }
        if val == "Primary" && count == 0 {
            out.push_str(&format!("{ptype}\t[default=1]\t\t\tpam_permit.so\n"));
        }
        for (i, p) in block.iter().enumerate() {
            let Some(output) = lines_for(p, &uctype, i) else {
                continue;
            };
            // Perl's split drops trailing empty fields (an empty value gives no line).
            let mut lines: Vec<&str> = output.split('\n').collect();
            while lines.last() == Some(&"") {
                lines.pop();
            }
            for l in lines {
                out.push_str(&format!("{ptype}\t{}", merge_one_line(l, diff, ty, count)));
                count -= 1;
            }
        }
        state += 1;
    }
    (state >= 4).then_some(out)
}

/// The template's text outside the managed blocks, hashed (`get_template_md5sum`).
fn template_md5(template: &str) -> String {
    let mut kept = String::new();
    let mut state = 0;
    for line in template.split_inclusive('\n') {
        if state == 1 {
            if line.starts_with(FALLBACK) {
                kept.push_str(line);
                state += 1;
            }
            continue;
        }
        if state == 3 {
            if line.starts_with(END) {
                kept.push_str(line);
                state += 1;
            }
            continue;
        }
        kept.push_str(line);
        if (state == 0 && line.starts_with(PRIMARY)) || (state == 2 && line.starts_with(ADDITIONAL)) {
            state += 1;
        }
    }
    Md5::digest(kept.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// `/var/lib/pam/TYPE`.
fn saved_state(profiles: &BTreeMap<String, Profile>, enabled: &[String], ty: &str) -> String {
    let uctype = uc_type(ty);
    let type_key = format!("{uctype}-Type");
    let mut out = String::new();
    for (first_pass, skip) in [(true, "Additional"), (false, "Primary")] {
        let mut i = 0;
        for m in enabled {
            let Some(p) = profiles.get(m) else { continue };
            let Some(t) = p.truthy(&type_key) else {
                continue;
            };
            if t == skip {
                continue;
            }
            let output = lines_for(p, &uctype, i);
            i += 1;
            if let Some(o) = output.filter(|o| !o.is_empty() && *o != "0") {
                out.push_str(&format!("Module: {m}\n{o}\n"));
            }
        }
        if first_pass && i == 0 {
            out.push_str("Module: null\n[default=1]\t\t\tpam_permit.so\n");
        }
    }
    out
}

fn read_text(tree: &dyn TreeView, path: &str) -> Option<String> {
    super::read_file(tree, path)
        .ok()
        .flatten()
        .map(|b| String::from_utf8_lossy(&b).into_owned())
}

/// `diff_profiles`: the enabled modules and admin edits found in the current files, or `None`
/// when they cannot be matched with the saved state.
fn diff_profiles(tree: &dyn TreeView) -> Option<Diff> {
    let mut diff = Diff::default();
    for ty in TYPES {
        let saved_text = read_text(tree, &format!("{SAVE_DIR}/{ty}"))?;
        let mut saved: Vec<(String, String)> = Vec::new();
        let mut modname = String::new();
        for line in saved_text.split_inclusive('\n') {
            if let Some(m) = line.strip_prefix("Module: ") {
                modname = m.strip_suffix('\n').unwrap_or(m).to_owned();
                continue;
            }
            let l = line.strip_suffix('\n').unwrap_or(line);
            let l = strip_jump(l);
            // s/(\[.*)end(.*\])/$1$2/g: the last `end` between a `[` and a later `]`.
            let l = match (l.find('['), l.rfind(']')) {
                (Some(o), Some(c)) if o < c => match l[o..c].rfind("end") {
                    Some(e) if o + e + 3 <= c => format!("{}{}", &l[..o + e], &l[o + e + 3..]),
                    _ => l,
                },
                _ => l,
            };
            saved.push((modname.clone(), l));
        }
        let current = read_text(tree, &format!("etc/pam.d/common-{ty}"))?;
        let realtype = ty.strip_suffix("-noninteractive").unwrap_or(ty);
        let strip_type = |l: &str| -> String {
            match l.strip_prefix(realtype) {
                Some(r) if r.starts_with(char::is_whitespace) => r.trim_start().to_owned(),
                _ => l.to_owned(),
            }
        };
        let mut state = 0;
        for line in current.split_inclusive('\n') {
            let mut line = line.to_owned();
            if state == 0 {
                if line.starts_with(PRIMARY) {
                    state = 1;
                }
                continue;
            }
            if state == 1 {
                line = strip_type(&line);
                if line.starts_with(FALLBACK) {
                    state = 2;
                    continue;
                }
            }
            if state == 2 {
                if line.starts_with(ADDITIONAL) {
                    state = 3;
                }
                continue;
            }
            if state == 3 {
                if line.starts_with(END) {
                    break;
                }
                line = strip_type(&line);
            }
            let mut found = None;
            while found.is_none() && !saved.is_empty() {
                let (m, s) = saved.remove(0);
                let Some((curmod, prev)) = split_line(&s) else {
                    continue;
                };
                line = strip_jump(&line);
                let body = line.strip_suffix('\n').unwrap_or(&line);
                if let Some(rest) = body.strip_prefix(curmod) {
                    diff.mods.push(m);
                    found = Some((
                        curmod.to_owned(),
                        prev.split_whitespace().map(str::to_owned).collect::<Vec<_>>(),
                        rest.trim_start().to_owned(),
                    ));
                }
            }
            let (curmod, mut prev, curopts) = found?;
            let key = (ty.to_owned(), curmod);
            for opt in curopts.split_whitespace() {
                let before = prev.len();
                prev.retain(|p| p != opt);
                if prev.len() == before {
                    diff.add.entry(key.clone()).or_default().insert(opt.to_owned());
                }
            }
            for opt in prev {
                diff.remove.entry(key.clone()).or_default().insert(opt);
            }
        }
        if state < 3 {
            return None;
        }
    }
    Some(diff)
}

/// Runs `pam-auth-update ARGS` against the overlay.
pub fn apply(overlay: &mut Overlay<'_>, args: &[String]) -> Result<(), String> {
    let a = parse_args(args)?;
    let changes = run(overlay, &a)?;
    overlay.apply(changes);
    Ok(())
}

/// What one run writes.
pub fn run(tree: &dyn TreeView, a: &Args) -> Result<Changes, String> {
    let prefix = format!("{INPUT_DIR}/");
    let names: Vec<String> = tree
        .paths()
        .filter_map(|p| p.strip_prefix(&prefix))
        .filter(|n| !n.contains('/') && !n.is_empty())
        .filter(|n| !(n.ends_with('~') || (n.len() > 2 && n.starts_with('#') && n.ends_with('#'))))
        .map(str::to_owned)
        .collect();
    if names.is_empty() && super::resolve(tree, INPUT_DIR).is_none() {
        return Err(format!("could not open config directory /{INPUT_DIR}"));
    }
    let mut profiles = BTreeMap::new();
    for n in names {
        let path = format!("{prefix}{n}");
        let text = read_text(tree, &path).ok_or_else(|| format!("could not read profile /{path}"))?;
        let p = parse_profile(&text);
        if !p.disabled {
            profiles.insert(n, p);
        }
    }
    let mut sorted: Vec<String> = profiles.keys().cloned().collect();
    sort_profiles(&mut sorted, &profiles);
    sorted.retain(|n| !a.remove.contains(n));

    let diff = diff_profiles(tree);
    // Without a mergeable configuration, the debconf answer would be used: a fresh install has
    // none.
    let mut enabled: Vec<String> = match &diff {
        Some(d) => d
            .mods
            .iter()
            .filter(|m| !a.remove.contains(*m))
            .cloned()
            .collect(),
        None => Vec::new(),
    };
    let mut seen: BTreeSet<String> = read_text(tree, &format!("{SAVE_DIR}/seen"))
        .map(|t| t.lines().map(str::to_owned).collect())
        .unwrap_or_default();
    enabled.retain(|m| profiles.contains_key(m));
    enabled.extend(sorted.iter().filter(|n| a.enable.contains(*n)).cloned());
    enabled.retain(|m| !a.disable.contains(m));
    seen.extend(a.disable.iter().cloned());
    if enabled.is_empty() {
        seen.clear();
    }
    enabled.extend(
        sorted
            .iter()
            .filter(|n| profiles[*n].get("Default") == Some("yes") && !seen.contains(*n))
            .cloned(),
    );
    sort_profiles(&mut enabled, &profiles);
    enabled.dedup();

    if diff.is_none() && !a.force {
        // "Local modifications to /etc/pam.d/common-*, not updating."
        return Ok(Changes::default());
    }
    // Conflicts: each enabled profile drops the later-listed ones it conflicts with.
    let mut i = 0;
    while i < enabled.len() {
        let elem = enabled[i].clone();
        let conflicts = profiles
            .get(&elem)
            .map(|p| p.conflicts.clone())
            .unwrap_or_default();
        let mut j = enabled.len();
        while j > 0 {
            j -= 1;
            if conflicts.contains(&enabled[j]) {
                enabled.remove(j);
            }
        }
        i += 1;
    }
    if enabled.is_empty() {
        return Err("no PAM profile would be enabled (the tool would ask)".into());
    }

    let mut out = Changes::default();
    if super::resolve(tree, SAVE_DIR).is_none() {
        out.dir(SAVE_DIR, 0o755);
    }
    out.file(
        &format!("{SAVE_DIR}/seen"),
        0o644,
        sorted
            .iter()
            .map(|n| format!("{n}\n"))
            .collect::<String>()
            .into_bytes(),
    );
    for ty in TYPES {
        let target = format!("etc/pam.d/common-{ty}");
        let stock_path = format!("usr/share/pam/common-{ty}");
        let stock = read_text(tree, &stock_path);
        let template = match read_text(tree, &target) {
            Some(cur) if !stock_md5s(ty).contains(&template_md5(&cur).as_str()) => Some(cur),
            _ => stock.clone(),
        };
        let created = template
            .as_deref()
            .and_then(|t| create_from_template(t, &profiles, &enabled, diff.as_ref(), ty));
        let text = match created {
            Some(t) => t,
            None if a.force => match stock
                .as_deref()
                .and_then(|t| create_from_template(t, &profiles, &enabled, diff.as_ref(), ty))
            {
                Some(t) => t,
                None => break,
            },
            None => break,
        };
        out.file(&target, 0o644, text.into_bytes());
        out.file(
            &format!("{SAVE_DIR}/{ty}"),
            0o644,
            saved_state(&profiles, &enabled, ty).into_bytes(),
        );
    }
    Ok(out)
}
