//! postgresql-common's tools as maintainer scripts use them: what `pg_updatedicts` leaves (its
//! postinst runs it, and its trigger on the hunspell and myspell directories), what
//! `pg_lsclusters` prints, and where `pg_createcluster` (left out: a cluster is made at first
//! start) would have put the cluster's configuration.
//!
//! `pg_updatedicts` (postgresql-common 248): for each `*.aff` of /usr/share/hunspell and
//! /usr/share/myspell/dicts that is not a symbolic link and has its `.dic` beside it, the two files
//! converted from the `SET` encoding of the affix file to UTF-8 (`iconv -o`) into
//! /var/cache/postgresql/dicts as `LOCALE.affix` and `LOCALE.dict` (the locale in lower case),
//! linked from `/usr/share/postgresql/VERSION/tsearch_data` of every server version (8.3 on)
//! that has that directory, unless a file that is not a link is there; then whatever the cache
//! and those directories hold that it did not make (links only, in tsearch_data) is removed. It
//! depends only on the finished tree, so it is computed once every package is in place, as its
//! trigger last runs.

use super::{Changes, InstalledPackage, NotEmulated, SystemError, TreeView};

const SOURCE_DIRS: &[&str] = &["/usr/share/hunspell", "/usr/share/myspell/dicts"];
const CACHE_DIR: &str = "/var/cache/postgresql/dicts";
const PG_SHARE: &str = "/usr/share/postgresql";
const PG_LIB: &str = "/usr/lib/postgresql";

/// `pg_updatedicts`' result where postgresql-common is installed, and what it could not convert
/// (an encoding other than UTF-8, ISO-8859-1 and ISO-8859-15): listed, that dictionary left out.
pub fn compute(
    tree: &dyn TreeView,
    packages: &[InstalledPackage],
) -> Result<(Changes, Vec<NotEmulated>), SystemError> {
    let mut out = Changes::default();
    let mut report = Vec::new();
    if super::installed(packages, "postgresql-common").is_none()
        || !super::is_file(tree, "usr/sbin/pg_updatedicts")
    {
        return Ok((out, report));
    }
    let entry = |what: String| NotEmulated {
        package: "postgresql-common".into(),
        script: "postinst".into(),
        what,
    };
    // `mkdir -p` under umask 022.
    let mut made_dir = false;
    for dir in ["var/cache/postgresql", "var/cache/postgresql/dicts"] {
        if !super::is_dir(tree, dir) {
            out.dir(dir, 0o755);
            made_dir = true;
        }
    }
    let versions = server_versions(tree);
    let mut current: Vec<String> = Vec::new();
    let mut links: Vec<(String, String)> = Vec::new();
    for dir in SOURCE_DIRS {
        for aff in super::glob_paths(tree, &format!("{dir}/*.aff")) {
            if super::is_symlink(tree, &aff) {
                continue;
            }
            let dic = format!("{}dic", &aff[..aff.len() - 3]);
            if !super::is_file(tree, &super::tree_path(&dic)) {
                continue;
            }
            let aff_bytes = super::read_file(tree, &super::tree_path(&aff))?.unwrap_or_default();
            let Some(encoding) = declared_encoding(&aff_bytes) else {
                continue;
            };
            let name = aff.rsplit('/').next().unwrap_or(&aff);
            let locale = name[..name.len() - 4].to_ascii_lowercase();
            let affix = format!("{CACHE_DIR}/{locale}.affix");
            let dict = format!("{CACHE_DIR}/{locale}.dict");
            current.extend([affix.clone(), dict.clone()]);
            let dic_bytes = super::read_file(tree, &super::tree_path(&dic))?.unwrap_or_default();
            match (to_utf8(&aff_bytes, &encoding), to_utf8(&dic_bytes, &encoding)) {
                (Ok(a), Ok(d)) => {
                    out.file(&super::tree_path(&affix), 0o644, a);
                    out.file(&super::tree_path(&dict), 0o644, d);
                }
                (Err(why), _) | (_, Err(why)) => {
                    // pg_updatedicts unlinks both when either conversion fails.
                    current.retain(|p| p != &affix && p != &dict);
                    report.push(entry(format!(
                        "pg_updatedicts: {aff} and {dic} are not converted ({why})"
                    )));
                    continue;
                }
            }
            for version in &versions {
                let dest = format!("{PG_SHARE}/{version}/tsearch_data");
                if !super::is_dir(tree, &super::tree_path(&dest)) {
                    continue;
                }
                let (l_affix, l_dict) = (format!("{dest}/{locale}.affix"), format!("{dest}/{locale}.dict"));
                current.extend([l_affix.clone(), l_dict.clone()]);
                let real_file =
                    |p: &str| super::exists(tree, &super::tree_path(p)) && !super::is_symlink(tree, p);
                if real_file(&l_affix) || real_file(&l_dict) {
                    continue;
                }
                links.push((l_affix, affix.clone()));
                links.push((l_dict, dict.clone()));
            }
        }
    }
    for (link, target) in links {
        out.symlink(&super::tree_path(&link), &target);
    }
    // Obsolete files: anything in the cache, and links in tsearch_data, it did not make now.
    if !made_dir {
        for f in super::glob_paths(tree, &format!("{CACHE_DIR}/*")) {
            if !current.contains(&f) {
                out.removed.push(super::tree_path(&f));
            }
        }
    }
    for pattern in ["*.affix", "*.dict"] {
        for f in super::glob_paths(tree, &format!("{PG_SHARE}/*/tsearch_data/{pattern}")) {
            if super::is_symlink(tree, &f) && !current.contains(&f) {
                out.removed.push(super::tree_path(&f));
            }
        }
    }
    Ok((out, report))
}

/// PgCommon's `get_versions` for the servers' binaries: every `/usr/lib/postgresql/VERSION`
/// (`\d+\.?\d+`) with an executable `bin/postgres`, from 8.3 on (the clusters' versions under
/// /etc/postgresql are not there: `pg_createcluster` is left out).
fn server_versions(tree: &dyn TreeView) -> Vec<String> {
    super::glob_paths(tree, &format!("{PG_LIB}/*"))
        .into_iter()
        .filter_map(|p| p.rsplit('/').next().map(str::to_owned))
        .filter(|v| is_version(v) && at_least_8_3(v))
        .filter(|v| {
            matches!(
                super::file_kind(tree, &format!("{PG_LIB}/{v}/bin/postgres")),
                Some(super::shell::FileKind::File { executable: true, .. })
            )
        })
        .collect()
}

/// `^(\d+\.?\d+)$`: two digits at least, one optional dot between them.
fn is_version(v: &str) -> bool {
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    match v.split_once('.') {
        Some((a, b)) => digits(a) && digits(b),
        None => v.len() >= 2 && digits(v),
    }
}

/// Perl's `$v < '8.3'`, numerically.
fn at_least_8_3(v: &str) -> bool {
    v.parse::<f64>().is_ok_and(|n| n >= 8.3)
}

/// The affix file's `SET ENCODING` line (`/^SET ([\w-]+)\s*$/`, the first that matches).
fn declared_encoding(aff: &[u8]) -> Option<String> {
    aff.split(|&b| b == b'\n').find_map(|line| {
        let line = line.strip_prefix(b"SET ")?;
        let end = line.iter().rposition(|b| !b.is_ascii_whitespace())? + 1;
        let (name, rest) = line.split_at(end);
        let word = |b: &u8| b.is_ascii_alphanumeric() || *b == b'_' || *b == b'-';
        (!name.is_empty() && name.iter().all(word) && rest.iter().all(u8::is_ascii_whitespace))
            .then(|| String::from_utf8_lossy(name).into_owned())
    })
}

/// `iconv -f ENCODING -t UTF-8` for the encodings dictionaries of Debian use most; iconv's
/// names compared as it does (case and punctuation aside). Hand-written: two single-byte tables
/// do not warrant a converter crate.
fn to_utf8(bytes: &[u8], encoding: &str) -> Result<Vec<u8>, String> {
    let name: String = encoding
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_uppercase())
        .collect();
    match name.as_str() {
        // iconv checks its input: a sequence that is not UTF-8 fails the conversion.
        "UTF8" => match std::str::from_utf8(bytes) {
            Ok(_) => Ok(bytes.to_vec()),
            Err(e) => Err(format!("not UTF-8 at byte {}", e.valid_up_to())),
        },
        "ISO88591" | "LATIN1" | "L1" => Ok(bytes
            .iter()
            .map(|&b| char::from(b))
            .collect::<String>()
            .into_bytes()),
        "ISO885915" | "LATIN9" => Ok(bytes.iter().map(|&b| latin9(b)).collect::<String>().into_bytes()),
        _ => Err(format!("its encoding {encoding} is not one debcast converts")),
    }
}

/// ISO-8859-15: ISO-8859-1 with eight code points replaced.
fn latin9(b: u8) -> char {
    match b {
        0xA4 => '\u{20AC}',
        0xA6 => '\u{0160}',
        0xA8 => '\u{0161}',
        0xB4 => '\u{017D}',
        0xB8 => '\u{017E}',
        0xBC => '\u{0152}',
        0xBD => '\u{0153}',
        0xBE => '\u{0178}',
        _ => char::from(b),
    }
}

/// `pg_createcluster … VERSION [NAME]`'s configuration file, which `pg_lsclusters` looks for:
/// pending once the command is left out. Options that take a value are skipped; a first operand
/// that is not a version makes nothing known.
pub fn cluster_config(args: &[String]) -> Option<String> {
    const WITH_VALUE: &[&str] = &[
        "-u",
        "-g",
        "-d",
        "-s",
        "-l",
        "-e",
        "-p",
        "-o",
        "--user",
        "--group",
        "--datadir",
        "--socketdir",
        "--logfile",
        "--encoding",
        "--port",
        "--locale",
        "--lc-collate",
        "--lc-ctype",
        "--lc-messages",
        "--lc-monetary",
        "--lc-numeric",
        "--lc-time",
        "--start-conf",
        "--pgoption",
        "--createclusterconf",
        "--environment",
        "--tablespace",
    ];
    let mut operands = Vec::new();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        if a == "--" {
            break;
        }
        if WITH_VALUE.contains(&a.as_str()) {
            it.next();
        } else if !a.starts_with('-') {
            operands.push(a.as_str());
        }
    }
    let version = operands.first().filter(|v| is_version(v))?;
    let name = operands.get(1).copied().unwrap_or("main");
    (!name.contains('/') && !name.is_empty())
        .then(|| format!("/etc/postgresql/{version}/{name}/postgresql.conf"))
}

/// The server log a `pg_createcluster` call creates with the cluster: `-l FILE`/`--logfile`,
/// else `/var/log/postgresql/postgresql-VERSION-CLUSTER.log`.
pub fn cluster_log(args: &[String]) -> Option<String> {
    let given = super::option_values(args, Some("-l"), "--logfile")
        .into_iter()
        .next();
    if given.is_some() {
        return given;
    }
    let conf = cluster_config(args)?;
    let rest = conf
        .strip_prefix("/etc/postgresql/")?
        .strip_suffix("/postgresql.conf")?;
    let (version, name) = rest.split_once('/')?;
    Some(format!("/var/log/postgresql/postgresql-{version}-{name}.log"))
}

/// What `pg_lsclusters -h` prints where the image has no cluster: nothing. `Some(pending)`: the
/// answer is empty, and names the clusters a left-out `pg_createcluster` makes at first start
/// (what the script writes from it follows the image, not the install); `None` where the image
/// has a cluster (its line is not computed) or the call is another form.
pub fn lsclusters_output<'a>(
    tree: &dyn TreeView,
    args: &[String],
    pending: impl IntoIterator<Item = &'a String>,
) -> Option<Vec<String>> {
    if args.is_empty() || !args.iter().all(|a| a == "-h" || a == "--no-header") {
        return None;
    }
    if !super::glob_paths(tree, "/etc/postgresql/*/*/postgresql.conf").is_empty() {
        return None;
    }
    let mut clusters: Vec<String> = pending
        .into_iter()
        .filter_map(|p| {
            let rest = p
                .strip_prefix("/etc/postgresql/")?
                .strip_suffix("/postgresql.conf")?;
            Some(rest.to_owned())
        })
        .collect();
    clusters.sort();
    Some(clusters)
}

#[cfg(test)]
mod tests;
