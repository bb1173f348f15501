//! dictionaries-common's registry of spelling dictionaries: what its Perl tools
//! (`update-dictcommon-aspell`, `update-dictcommon-hunspell`, `update-default-wordlist`,
//! `update-default-ispell`, dictionaries-common 1.29's `Debian::DictionariesCommon`) write in
//! `/var/cache/dictionaries-common` and `/etc/dictionaries-common`. Its postinst runs all four,
//! and its triggers and each dictionary package's postinst run them again: the files depend only
//! on the finished tree, so they are computed once, as the last run leaves them.
//!
//! From the dictionary packages' info files (`/var/lib/dictionaries-common/CLASS/PACKAGE`) and,
//! for hunspell, the dictionaries found in `/usr/share/hunspell` (their `.aff` files' `SET`,
//! `WORDCHARS` and `TRY`): each class's database (`CLASS.db`, Perl source), Emacs' dictionary
//! alists (`emacsen-ispell-dicts.el`), jed's (`jed-ispell-dicts.sl`), SquirrelMail's
//! (`sqspell.php`), the list of ispell dictionaries and Emacs' default.
//!
//! Reproduced where the image has hunspell dictionaries only. Choosing a default ispell
//! dictionary or word list goes through debconf questions the config script (Perl) asks from
//! the installer's language, and aspell's dictionaries are compiled by aspell itself: an image
//! with aspell or ispell dictionaries or word lists gets the calls reported instead, and none
//! of these files.

use std::collections::{BTreeMap, BTreeSet};

use super::{Changes, InstalledPackage, NotEmulated, SystemError, TreeView};

const TOOLS: [&str; 4] = [
    "update-dictcommon-aspell",
    "update-dictcommon-hunspell",
    "update-default-wordlist",
    "update-default-ispell",
];
/// The upstream versions whose Perl this module follows.
const KNOWN_VERSIONS: [&str; 1] = ["1.29.5"];
const INFO_DIR: &str = "var/lib/dictionaries-common";
const CACHE_DIR: &str = "var/cache/dictionaries-common";
const HUNSPELL_DIR: &str = "usr/share/hunspell";
/// Classes whose dictionaries make the default selection or a compiler run.
const UNREPRODUCED_CLASSES: [&str; 3] = ["aspell", "ispell", "wordlist"];

/// Raw bytes: info and `.aff` files are read as bytes, and written back as they are.
type Bytes = Vec<u8>;
/// A dictionary's fields and values.
type Fields = BTreeMap<Bytes, Bytes>;
/// One class's dictionaries: name, then fields.
type Database = BTreeMap<Bytes, Fields>;

/// A call of one of the tools (`None`: another command): its name, or why the form is not
/// reproduced.
pub fn parse_call(argv0: &str, args: &[String]) -> Option<Result<&'static str, String>> {
    let name = argv0.rsplit('/').next().unwrap_or(argv0);
    let tool = TOOLS.iter().find(|t| **t == name)?;
    let options_known = args
        .iter()
        .all(|a| matches!(a.as_str(), "--triggered" | "--rebuild" | "--skip-symlinks"));
    Some(if name.starts_with("update-default-") && !options_known {
        Err(format!("{name} {} is not reproduced", args.join(" ")))
    } else {
        Ok(*tool)
    })
}

/// The registry's files as the packages' postinsts leave them, and what was not reproduced.
pub fn compute(
    tree: &dyn TreeView,
    packages: &[InstalledPackage],
) -> Result<(Changes, Vec<NotEmulated>), SystemError> {
    let (calls, mut report) = super::calls::postinst_calls(tree, packages, "update-d", parse_call);
    if calls.is_empty() {
        return Ok((Changes::default(), report));
    }
    let called: BTreeSet<&str> = calls.iter().map(|(tool, _)| *tool).collect();
    let first_caller = calls.first().map(|(_, p)| p.name.clone()).unwrap_or_default();
    let refused = |why: String| NotEmulated {
        package: first_caller.clone(),
        script: "postinst".into(),
        what: format!(
            "{} (not reproduced: {why}; run them at first start)",
            called.iter().copied().collect::<Vec<_>>().join(", ")
        ),
    };
    let Some(dc) = super::installed(packages, "dictionaries-common") else {
        // Its tools are not in the image: the callers test for them first.
        return Ok((Changes::default(), report));
    };
    let upstream = crate::debian::version::upstream(&dc.version);
    if !KNOWN_VERSIONS.contains(&upstream) {
        report.push(refused(format!(
            "dictionaries-common {upstream}'s tools are not ones debcast follows"
        )));
        return Ok((Changes::default(), report));
    }
    if called.len() != TOOLS.len() {
        report.push(refused("the tools are called apart from each other".into()));
        return Ok((Changes::default(), report));
    }
    match files(tree) {
        Ok(out) => Ok((out, report)),
        Err(why) => {
            report.push(refused(why));
            Ok((Changes::default(), report))
        }
    }
}

/// Every file the four tools leave, or why they are not reproduced.
fn files(tree: &dyn TreeView) -> Result<Changes, String> {
    for class in UNREPRODUCED_CLASSES {
        if let Some(file) = info_files(tree, class)?.first() {
            return Err(format!(
                "{class} dictionaries ({file}): the default is chosen through debconf, or aspell compiles them"
            ));
        }
    }
    let hunspell = hunspell_database(tree)?;
    let empty = Database::new();
    let mut out = Changes::default();
    let cache = |name: &str| format!("{CACHE_DIR}/{name}");
    // `dico_dumpdb` makes the directory if it is not there (0777 less dpkg's umask).
    if !super::is_dir(tree, CACHE_DIR) {
        out.dir(CACHE_DIR, 0o755);
    }
    for class in ["aspell", "hunspell", "ispell", "wordlist"] {
        let db = if class == "hunspell" { &hunspell } else { &empty };
        out.file(&cache(&format!("{class}.db")), 0o644, dump_database(db));
    }
    out.file(
        &cache("emacsen-ispell-dicts.el"),
        0o644,
        emacsen_support(&hunspell)?,
    );
    // jed's file lists aspell and ispell dictionaries only: none here.
    out.file(&cache("jed-ispell-dicts.sl"), 0o644, comment("%%% ").into_bytes());
    out.file(&cache("sqspell.php"), 0o644, squirrelmail_support(&hunspell));
    // No ispell dictionary: the default is unset (the "manual" branch), the list is empty and
    // SquirrelMail's old default file is made empty.
    out.file(&cache("ispell-dicts-list.txt"), 0o644, Vec::new());
    out.file(
        &cache("emacsen-ispell-default.el"),
        0o644,
        b";; File automatically generated by update-default-ispell\n;;\n;; Do not manually edit!! \
          Use select-default-ispell script instead\n\n(set-variable 'debian-ispell-dictionary nil)\n"
            .to_vec(),
    );
    // (Perl's open fails quietly where the directory is not there.)
    if super::is_dir(tree, "etc/dictionaries-common") {
        out.file("etc/dictionaries-common/ispell-default", 0o644, Vec::new());
    }
    // The classes' defaults unset, their new-dictionary flags consumed.
    for name in [
        "ispell-default",
        "wordlist-default",
        "flag-ispell-new",
        "flag-wordlist-new",
    ] {
        if tree.entry(&cache(name)).is_some() {
            out.removed.push(cache(name));
        }
    }
    // `dico_preprocess_default_symlinks` without dictionaries: dangling default links go.
    for link in [
        "etc/dictionaries-common/default.hash",
        "etc/dictionaries-common/default.aff",
        "usr/lib/ispell/default.hash",
        "usr/lib/ispell/default.aff",
        "etc/dictionaries-common/words",
        "usr/share/dict/words",
    ] {
        let dangling = tree
            .entry(link)
            .is_some_and(|e| matches!(e.kind, crate::entry::EntryKind::Symlink { .. }))
            && super::resolve(tree, link).is_none();
        if dangling {
            out.removed.push(link.to_owned());
        }
    }
    Ok(out)
}

/// The info files of a class, in glob order (`~` backups skipped), as tree paths.
fn info_files(tree: &dyn TreeView, class: &str) -> Result<Vec<String>, String> {
    let Some((real, names)) = super::children(tree, &format!("{INFO_DIR}/{class}")) else {
        return Ok(Vec::new());
    };
    Ok(names
        .iter()
        .filter(|n| !n.starts_with('.') && !n.ends_with('~'))
        .map(|n| super::child_path(&real, n))
        .collect())
}

fn read(tree: &dyn TreeView, rel: &str) -> Result<Bytes, String> {
    super::read_file(tree, rel)
        .map_err(|e| e.to_string())?
        .ok_or_else(|| format!("/{rel} is not a file"))
}

/// `updatedb("hunspell")`: the info files' dictionaries, each with its package, merged with
/// the dictionaries found in the hunspell directory.
fn hunspell_database(tree: &dyn TreeView) -> Result<Database, String> {
    let mut declared = Database::new();
    for file in info_files(tree, "hunspell")? {
        let package = file.rsplit('/').next().unwrap_or(&file).as_bytes().to_vec();
        for (language, mut fields) in
            parse_info(&read(tree, &file)?).map_err(|why| format!("/{file}: {why}"))?
        {
            fields.insert(b"package".to_vec(), package.clone());
            declared.insert(language, fields);
        }
    }
    merge_installed_hunspell(tree, declared)
}

/// dictionaries-common's `parseinfo`: paragraphs of `Field: value` lines, field names lower
/// cased, whitespace-only values dropped, keyed by `Language`; a paragraph without `Language`
/// or `Hash-Name` makes the tool die.
fn parse_info(text: &[u8]) -> Result<Vec<(Bytes, Fields)>, String> {
    let mut out = Vec::new();
    for record in paragraphs(text) {
        let record = lowercase_field_names(record);
        let mut fields: Fields = field_matches(&record).into_iter().collect();
        fields.retain(|_, v| !v.iter().all(|b| b.is_ascii_whitespace()) || v.is_empty());
        let language = fields
            .remove(b"language".as_slice())
            .ok_or("a record has no \"Language\" entry")?;
        if !fields.contains_key(b"hash-name".as_slice()) {
            return Err("a record has no \"Hash-Name\" entry".into());
        }
        out.push((language, fields));
    }
    Ok(out)
}

/// Perl's paragraph mode (`$/ = ""`): records end at two or more newlines; leading newlines are
/// skipped.
fn paragraphs(text: &[u8]) -> Vec<&[u8]> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < text.len() {
        while i < text.len() && text[i] == b'\n' {
            i += 1;
        }
        if i >= text.len() {
            break;
        }
        let start = i;
        let end = text[start..]
            .windows(2)
            .position(|w| w == b"\n\n")
            .map_or(text.len(), |p| start + p + 1);
        out.push(&text[start..end]);
        i = end;
    }
    out
}

/// `s/^([^:]+):/lc($1).":"/meg`: what precedes the first colon after a line start (possibly
/// across lines) lower-cased, ASCII only (Perl's `lc` of bytes).
fn lowercase_field_names(record: &[u8]) -> Bytes {
    let mut out = record.to_vec();
    let mut pos = 0;
    while pos < out.len() {
        let at_line_start = pos == 0 || out[pos - 1] == b'\n';
        if at_line_start
            && out[pos] != b':'
            && let Some(colon) = out[pos..].iter().position(|&b| b == b':')
        {
            out[pos..pos + colon].make_ascii_lowercase();
            pos += colon + 1;
            continue;
        }
        pos += 1;
    }
    out
}

/// `/^([^:]+):\s*((?<!\n)[^\n]+)\s*$/mg`: each field and value, in order (a later one of the
/// same name wins when they become a hash). The value starts after the whitespace following
/// the colon, never right after a newline, and runs to the end of its line.
fn field_matches(record: &[u8]) -> Vec<(Bytes, Bytes)> {
    let mut out = Vec::new();
    let mut pos = 0;
    while pos < record.len() {
        let at_line_start = pos == 0 || record[pos - 1] == b'\n';
        if !at_line_start || record[pos] == b':' {
            pos += 1;
            continue;
        }
        let Some(colon) = record[pos..].iter().position(|&b| b == b':').map(|c| pos + c) else {
            break;
        };
        let spaces = record[colon + 1..]
            .iter()
            .take_while(|b| b.is_ascii_whitespace() || **b == 0x0b)
            .count();
        // `\s*` gives characters back until the value starts after something not a newline
        // and is at least one character that is not a newline.
        let start = (0..=spaces)
            .rev()
            .map(|n| colon + 1 + n)
            .find(|&s| s < record.len() && record[s] != b'\n' && (s == 0 || record[s - 1] != b'\n'));
        let Some(start) = start else {
            pos += 1;
            continue;
        };
        let end = record[start..]
            .iter()
            .position(|&b| b == b'\n')
            .map_or(record.len(), |e| start + e);
        out.push((record[pos..colon].to_vec(), record[start..end].to_vec()));
        // `\s*$` then takes the blank lines after it, if any.
        let mut next = end;
        let mut probe = end;
        while probe < record.len() && (record[probe].is_ascii_whitespace() || record[probe] == 0x0b) {
            probe += 1;
            if probe == record.len() || record[probe] == b'\n' {
                next = probe;
            }
        }
        pos = next.max(end);
        if pos == end && pos < record.len() {
            // At the newline ending the value: the next line starts after it.
            pos += 1;
        }
    }
    out
}

/// Emacs' names for hunspell's locales (`dc_merge_installed_hunspell_dicts`).
const EMACS_EQUIVS: [(&str, &str); 21] = [
    ("cs_CZ", "czech"),
    ("da_DK", "dansk"),
    ("de_DE", "german8"),
    ("en_GB", "british"),
    ("en_US", "american"),
    ("eo", "esperanto"),
    ("es", "castellano8"),
    ("es_ES", "castellano8"),
    ("fi_FI", "finnish"),
    ("fr_FR", "francais"),
    ("he_IL", "hebrew"),
    ("it_IT", "italiano"),
    ("nl_NL", "nederlands"),
    ("nn_NO", "norsk"),
    ("pl_PL", "polish"),
    ("pt_BR", "brasileiro"),
    ("pt_PT", "portugues"),
    ("ru_RU", "russian"),
    ("sk_SK", "slovak"),
    ("sl_SI", "slovenian"),
    ("sv_SE", "svenska"),
];

/// `dc_merge_installed_hunspell_dicts`: a dictionary for each `.aff` of the hunspell directory
/// (a link names a locale of the one it points to), unless a declared dictionary has its Emacs
/// or hash name or one of its locales; the declared ones win.
fn merge_installed_hunspell(tree: &dyn TreeView, declared: Database) -> Result<Database, String> {
    let Some((real_dir, names)) = super::children(tree, HUNSPELL_DIR) else {
        // No hunspell directory: the tool returns an empty set, declared ones included.
        return Ok(Database::new());
    };
    let mut parsed = Database::new();
    let mut locales: BTreeMap<Bytes, BTreeSet<Bytes>> = BTreeMap::new();
    // `s/.aff$//`: the `.` matches any character.
    let aff_base = |name: &str| -> Bytes {
        let b = name.as_bytes();
        if b.len() >= 4 && b.ends_with(b"aff") {
            b[..b.len() - 4].to_vec()
        } else {
            b.to_vec()
        }
    };
    for name in names
        .iter()
        .filter(|n| n.ends_with(".aff") && !n.starts_with('.'))
    {
        let rel = super::child_path(&real_dir, name);
        let Some(entry) = tree.entry(&rel) else { continue };
        let lang = aff_base(name);
        if let crate::entry::EntryKind::Symlink { target } = &entry.kind {
            if super::resolve(tree, &rel).is_none() {
                // A broken link: skipped.
                continue;
            }
            let target_name = target.rsplit('/').next().unwrap_or(target);
            locales.entry(aff_base(target_name)).or_default().insert(lang);
            continue;
        }
        let contents = read(tree, &rel)?;
        let lines: Vec<&[u8]> = contents.split_inclusive(|&b| b == b'\n').collect();
        let mut info = Fields::new();
        info.insert(b"hash-name".to_vec(), lang.clone());
        info.insert(b"emacsen-name".to_vec(), lang.clone());
        if let Some(coding) = aff_value(&lines, b"SET") {
            let mut coding = coding;
            if coding.len() > 3 && coding[..3].eq_ignore_ascii_case(b"iso") && coding[3].is_ascii_digit() {
                coding.splice(0..3, b"iso-".iter().copied());
            }
            coding.make_ascii_lowercase();
            info.insert(b"coding-system".to_vec(), coding);
        }
        if let Some(wordchars) = aff_value(&lines, b"WORDCHARS") {
            info.insert(
                b"otherchars".to_vec(),
                [b"[".as_slice(), &wordchars, b"]"].concat(),
            );
        }
        if let Some(all) = aff_value(&lines, b"TRY") {
            let non_ascii: Bytes = all.into_iter().filter(|b| !b.is_ascii()).collect();
            let octal: String = non_ascii.iter().map(|b| format!("\\{b:o}")).collect();
            info.insert(b"additionalchars".to_vec(), non_ascii);
            info.insert(b"casechars".to_vec(), format!("[a-zA-Z{octal}]").into_bytes());
            info.insert(
                b"not-casechars".to_vec(),
                format!("[^a-zA-Z{octal}]").into_bytes(),
            );
        }
        info.insert(b"package".to_vec(), b"auto-detect".to_vec());
        locales.entry(lang.clone()).or_default().insert(lang.clone());
        parsed.insert(lang, info);
    }
    for (lang, info) in &mut parsed {
        if let Some(l) = locales.get(lang) {
            let joined: Vec<&[u8]> = l.iter().map(Bytes::as_slice).collect();
            info.insert(b"hunspell-locales".to_vec(), joined.join(b", ".as_slice()));
        }
        if let Some((_, emacs)) = EMACS_EQUIVS.iter().find(|(l, _)| l.as_bytes() == lang.as_slice()) {
            info.insert(b"emacsen-name".to_vec(), emacs.as_bytes().to_vec());
        }
    }
    let declared_emacsen: BTreeSet<&Bytes> = declared
        .values()
        .filter_map(|d| d.get(b"emacsen-name".as_slice()))
        .collect();
    let declared_hashes: BTreeSet<&Bytes> = declared
        .values()
        .filter(|d| d.get(b"emacsen-name".as_slice()).map(Bytes::as_slice) != Some(b"english_american"))
        .filter_map(|d| d.get(b"hash-name".as_slice()))
        .collect();
    parsed.retain(|_, info| {
        let named = info
            .get(b"emacsen-name".as_slice())
            .is_some_and(|n| declared_emacsen.contains(n))
            || info
                .get(b"hash-name".as_slice())
                .is_some_and(|n| declared_hashes.contains(n));
        let a_locale = info.get(b"hunspell-locales".as_slice()).is_some_and(|l| {
            l.split(|&b| b == b',')
                .map(|s| s.trim_ascii())
                .any(|loc| declared_hashes.iter().any(|h| h.as_slice() == loc))
        });
        !(named || a_locale)
    });
    parsed.extend(declared);
    Ok(parsed)
}

/// The `.aff` value of the first line starting (after blanks) with `key`: the rest of the line,
/// blanks around it removed.
fn aff_value(lines: &[&[u8]], key: &[u8]) -> Option<Bytes> {
    let is_space = |b: &u8| b.is_ascii_whitespace() || *b == 0x0b;
    lines.iter().find_map(|line| {
        let rest = &line[line.iter().take_while(|b| is_space(b)).count()..];
        let after = rest.strip_prefix(key)?;
        let mut value = &after[after.iter().take_while(|b| is_space(b)).count()..];
        while let Some((last, init)) = value.split_last()
            && is_space(last)
        {
            value = init;
        }
        Some(value.to_vec())
    })
}

/// `generate_comment(PREFIX)`.
fn comment(prefix: &str) -> String {
    [
        "This file is part of the dictionaries-common package.",
        "It has been automatically generated.",
        "DO NOT EDIT!",
    ]
    .iter()
    .map(|l| format!("{prefix}{l}\n"))
    .collect()
}

/// `dico_dumpdb`: the database as Perl source, names and fields sorted, `\` and `'` escaped in
/// names and values.
fn dump_database(db: &Database) -> Bytes {
    let escape = |v: &[u8]| -> Bytes {
        let mut out = Vec::with_capacity(v.len());
        for &b in v {
            if b == b'\\' || b == b'\'' {
                out.push(b'\\');
            }
            out.push(b);
        }
        out
    };
    let entries: Vec<Bytes> = db
        .iter()
        .map(|(name, fields)| {
            let lines: Vec<Bytes> = fields
                .iter()
                .map(|(k, v)| [b"     '".as_slice(), k, b"' => '", &escape(v), b"'"].concat())
                .collect();
            [
                b"  '".as_slice(),
                &escape(name),
                b"' => {\n",
                &lines.join(b",\n".as_slice()),
                b"\n  }",
            ]
            .concat()
        })
        .collect();
    [
        comment("### ").as_bytes(),
        b"\npackage Debian::DictionariesCommon::dbfile;\n\n%dictionaries = (\n",
        &entries.join(b",\n".as_slice()),
        b"\n);\n\n1;\n",
    ]
    .concat()
}

/// Perl's `split(/\s+/, S)`: a leading empty field is kept, trailing ones dropped.
fn perl_split_whitespace(s: &[u8]) -> Vec<&[u8]> {
    let mut fields: Vec<&[u8]> = s.split(|b| b.is_ascii_whitespace()).collect();
    // Runs of whitespace make empty fields between them: `\s+` takes the run as one.
    let leading = fields.first().is_some_and(|f| f.is_empty()) && !s.is_empty();
    fields.retain(|f| !f.is_empty());
    if leading {
        fields.insert(0, b"");
    }
    fields
}

/// `build_emacsen_support` with the hunspell class only: each dictionary under each of its
/// Emacs names, the names in reverse order, then the locales' Emacs names.
fn emacsen_support(hunspell: &Database) -> Result<Bytes, String> {
    let field = |lang: &Fields, k: &str| lang.get(k.as_bytes()).cloned();
    let mut entries: BTreeMap<Bytes, Vec<Bytes>> = BTreeMap::new();
    let mut locales: BTreeMap<Bytes, Bytes> = BTreeMap::new();
    for lang in hunspell.values() {
        if field(lang, "emacs-display").as_deref() == Some(b"no") {
            continue;
        }
        let hash = field(lang, "hash-name").unwrap_or_default();
        let quoted = |v: &[u8]| [b"\"".as_slice(), v, b"\""].concat();
        let casechars = field(lang, "casechars").unwrap_or_else(|| b"[a-zA-Z]".to_vec());
        let notcasechars = field(lang, "not-casechars").unwrap_or_else(|| b"[^a-zA-Z]".to_vec());
        let mut otherchars = field(lang, "otherchars").unwrap_or_else(|| b"[']".to_vec());
        let many = match field(lang, "many-otherchars").as_deref() {
            Some(b"yes") => b"t".to_vec(),
            _ => b"nil".to_vec(),
        };
        let mut args = field(lang, "ispell-args").unwrap_or_else(|| [b"-d ".as_slice(), &hash].concat());
        let extended = field(lang, "extended-character-mode").map_or(b"nil".to_vec(), |m| quoted(&m));
        let coding = field(lang, "coding-system").map_or(b"nil".to_vec(), |c| c.to_ascii_lowercase());
        let name = field(lang, "emacsen-name").unwrap_or_else(|| hash.clone());
        let names = field(lang, "emacsen-names").unwrap_or_else(|| name.clone());
        // `( |^)-d`: add the hash name unless a `-d` option is there.
        let has_d = args.starts_with(b"-d") || args.windows(3).any(|w| w == b" -d");
        if !has_d {
            args.extend_from_slice(b" -d ");
            args.extend_from_slice(&hash);
        }
        // The first `"` escaped, unless one already is.
        if !otherchars.windows(2).any(|w| w == b"\\\"")
            && let Some(q) = otherchars.iter().position(|&b| b == b'"')
        {
            otherchars.insert(q, b'\\');
        }
        let args_list = [
            b"(\"".as_slice(),
            &perl_split_whitespace(&args).join(b"\" \"".as_slice()),
            b"\")",
        ]
        .concat();
        // Within one dictionary, a locale goes to its last Emacs name.
        let mut own_locales: BTreeMap<Bytes, Bytes> = BTreeMap::new();
        for emacs_name in split_names(&names) {
            let fields = vec![
                quoted(&emacs_name),
                quoted(&casechars),
                quoted(&notcasechars),
                quoted(&otherchars),
                many.clone(),
                args_list.clone(),
                extended.clone(),
                coding.clone(),
            ];
            // Two dictionaries under one Emacs name: Perl's hash order picks the one kept.
            if entries.get(&emacs_name).is_some_and(|e| *e != fields) {
                return Err(format!(
                    "two hunspell dictionaries share the Emacs name {}",
                    String::from_utf8_lossy(&emacs_name)
                ));
            }
            entries.insert(emacs_name.clone(), fields);
            if let Some(locs) = field(lang, "hunspell-locales") {
                for loc in locs.split(|&b| b == b',').map(<[u8]>::trim_ascii) {
                    own_locales.insert(loc.to_vec(), emacs_name.clone());
                }
            }
        }
        // Across dictionaries, Perl's hash order would pick the one kept.
        for (loc, name) in own_locales {
            if locales.get(&loc).is_some_and(|n| *n != name) {
                return Err(format!(
                    "hunspell's locale {} has two Emacs names",
                    String::from_utf8_lossy(&loc)
                ));
            }
            locales.insert(loc, name);
        }
    }
    let mut elisp: Bytes = comment(";;; ").into_bytes();
    if !entries.is_empty() {
        elisp.extend_from_slice(b"\n;; Adding hunspell dicts\n\n");
        for fields in entries.values().rev() {
            elisp.extend_from_slice(b"(add-to-list 'debian-hunspell-only-dictionary-alist\n  '(");
            elisp.extend_from_slice(&fields.join(b"\n     ".as_slice()));
            elisp.extend_from_slice(b"))\n");
        }
        elisp.extend_from_slice(b"\n");
    }
    elisp.extend_from_slice(b"\n\n;; No emacsen-aspell-equivs entries were found\n");
    if locales.is_empty() {
        elisp.extend_from_slice(b"\n\n;; No emacsen-hunspell-equivs entries were found\n");
    } else {
        elisp.extend_from_slice(
            b"\n\n;; An alist that will try to map hunspell locales to emacsen names\n\n(setq debian-hunspell-equivs-alist '(\n",
        );
        for (loc, name) in &locales {
            elisp.extend_from_slice(&[b"     (\"".as_slice(), loc, b"\" \"", name, b"\")\n"].concat());
        }
        elisp.extend_from_slice(
            b"))\n\n;; Get default value for debian-hunspell-dictionary. Will be used if\n;; spellchecker is \
              hunspell and ispell-local-dictionary is not set.\n;; We need to get it here, after \
              debian-hunspell-equivs-alist is loaded\n\n(setq debian-hunspell-dictionary \
              (debian-ispell-get-hunspell-default))\n\n",
        );
    }
    Ok(elisp)
}

/// `split(',\s*', NAMES)`.
fn split_names(names: &[u8]) -> Vec<Bytes> {
    let mut out: Vec<Bytes> = names
        .split(|&b| b == b',')
        .enumerate()
        .map(|(i, n)| {
            let n = if i == 0 {
                n
            } else {
                &n[n.iter().take_while(|b| b.is_ascii_whitespace()).count()..]
            };
            n.to_vec()
        })
        .collect();
    while out.last().is_some_and(Vec::is_empty) {
        out.pop();
    }
    out
}

/// `build_squirrelmail_support` with the hunspell class only.
fn squirrelmail_support(hunspell: &Database) -> Bytes {
    let mut list: Vec<Bytes> = Vec::new();
    for (name, lang) in hunspell {
        // `/.*[^a-z]tex[^a-z]/i`: TeX variants are left out.
        let lower = name.to_ascii_lowercase();
        let tex = lower
            .windows(5)
            .any(|w| !w[0].is_ascii_lowercase() && &w[1..4] == b"tex" && !w[4].is_ascii_lowercase());
        if tex {
            continue;
        }
        let squirrel_name = match lang.get(b"squirrelmail".as_slice()) {
            Some(v) if v.eq_ignore_ascii_case(b"no") => continue,
            Some(v) => v.clone(),
            // `/^(.*)\((.+)\)$/`: what the last parentheses hold.
            None => match parenthesised(name) {
                Some(inner) => inner,
                None => continue,
            },
        };
        let params = spellchecker_params(lang);
        list.push(
            [
                b"  '".as_slice(),
                &squirrel_name,
                b" (hunspell)' => 'hunspell -a ",
                &params,
                b"'",
            ]
            .concat(),
        );
    }
    list.sort();
    [
        b"<?php\n".as_slice(),
        comment("### ").as_bytes(),
        b"$SQSPELL_APP = array (\n",
        &list.join(b",\n".as_slice()),
        b"\n);\n",
    ]
    .concat()
}

/// `/^(.*)\((.+)\)$/`'s second group: the greedy `.*` makes the `(` the last one that leaves
/// something before the final `)`.
fn parenthesised(name: &[u8]) -> Option<Bytes> {
    if name.contains(&b'\n') {
        return None;
    }
    let inner = name.strip_suffix(b")")?;
    let open = inner.iter().rposition(|&b| b == b'(')?;
    // `.+` needs a character; a `(` right before the `)` backs up to an earlier one.
    if open + 1 < inner.len() {
        return Some(inner[open + 1..].to_vec());
    }
    let earlier = inner[..open].iter().rposition(|&b| b == b'(')?;
    Some(inner[earlier + 1..].to_vec())
}

/// `dico_get_spellchecker_params`: `-d HASH -w CHARS -T MODE ARGS`, each possibly empty.
fn spellchecker_params(lang: &Fields) -> Bytes {
    let get = |k: &str| lang.get(k.as_bytes());
    let mut d = get("hash-name").map_or(Vec::new(), |h| [b"-d ".as_slice(), h].concat());
    let w = get("additionalchars").map_or(Vec::new(), |c| [b"-w ".as_slice(), c].concat());
    let t = get("extended-character-mode").map_or(Vec::new(), |m| {
        [b"-T ".as_slice(), m.strip_prefix(b"~").unwrap_or(m)].concat()
    });
    let args = get("ispell-args").cloned().unwrap_or_default();
    if perl_split_whitespace(&args).iter().any(|a| a.starts_with(b"-d")) {
        d.clear();
    }
    [d.as_slice(), b" ", &w, b" ", &t, b" ", &args].concat()
}

#[cfg(test)]
mod tests;
