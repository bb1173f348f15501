//! Shared by the resolver's oracle tests: a tiny Packages parser and an apt-get sandbox that
//! resolves from an empty dpkg status.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use debcast::archive::{MultiArch, PackageRecord};
use debcast::hash::Sha256Digest;

/// Parses a Packages index (deb822 stanzas, continuation lines folded away).
pub fn parse_packages(text: &str, archive: &str, suite: &str) -> Vec<PackageRecord> {
    let mut out = Vec::new();
    for stanza in text.split("\n\n") {
        let mut fields: Vec<(String, String)> = Vec::new();
        for line in stanza.lines() {
            if line.starts_with(' ') || line.starts_with('\t') {
                if let Some(last) = fields.last_mut() {
                    last.1.push(' ');
                    last.1.push_str(line.trim());
                }
            } else if let Some((k, v)) = line.split_once(':') {
                fields.push((k.to_owned(), v.trim().to_owned()));
            }
        }
        let get = |k: &str| {
            fields
                .iter()
                .find(|(f, _)| f.eq_ignore_ascii_case(k))
                .map(|(_, v)| v.clone())
        };
        let Some(name) = get("Package") else { continue };
        out.push(PackageRecord {
            name,
            version: get("Version").unwrap_or_default(),
            architecture: get("Architecture").unwrap_or_default(),
            multi_arch: match get("Multi-Arch").as_deref() {
                Some("same") => MultiArch::Same,
                Some("foreign") => MultiArch::Foreign,
                Some("allowed") => MultiArch::Allowed,
                _ => MultiArch::No,
            },
            essential: get("Essential").as_deref() == Some("yes"),
            priority: get("Priority").unwrap_or_default(),
            depends: get("Depends"),
            pre_depends: get("Pre-Depends"),
            recommends: get("Recommends"),
            provides: get("Provides"),
            conflicts: get("Conflicts"),
            breaks: get("Breaks"),
            replaces: get("Replaces"),
            filename: get("Filename").unwrap_or_default(),
            size: get("Size").and_then(|s| s.parse().ok()).unwrap_or(0),
            sha256: get("SHA256")
                .and_then(|s| s.parse().ok())
                .unwrap_or(Sha256Digest([0; 32])),
            archive: archive.to_owned(),
            suite: suite.to_owned(),
            component: "main".to_owned(),
        });
    }
    out
}

pub fn have_apt() -> bool {
    Command::new("apt-get")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

/// A throw-away apt configuration: its own state, cache and sources, an empty dpkg status.
pub struct Sandbox {
    /// Holds the sandbox's files for as long as the sandbox lives.
    _dir: tempfile::TempDir,
    pub conf: PathBuf,
}

/// Result of `apt-get install -s`: the set of `name=version` it would install, or its errors.
pub type AptAnswer = Result<BTreeSet<String>, String>;

thread_local! {
    static LAST_STDERR: std::cell::RefCell<String> = const { std::cell::RefCell::new(String::new()) };
}

fn resolver_used(stderr: &str) -> bool {
    stderr.lines().any(|l| {
        l.split("broken count: ")
            .nth(1)
            .and_then(|n| n.trim().parse::<u32>().ok())
            .is_some_and(|n| n > 0)
    })
}

impl Sandbox {
    /// `repos`: (name, Packages text) — each becomes a flat `file:` repository, listed in order.
    pub fn new(repos: &[(&str, String)], arch: &str) -> Sandbox {
        let dir = tempfile::tempdir().expect("tempdir");
        let d = dir.path();
        for sub in [
            "state/lists/partial",
            "cache/archives/partial",
            "etc/apt.conf.d",
            "etc/preferences.d",
            "etc/sources.list.d",
            "log",
        ] {
            std::fs::create_dir_all(d.join(sub)).expect("mkdir");
        }
        std::fs::write(d.join("state/status"), "").expect("status");
        let mut sources = String::new();
        for (name, text) in repos {
            let r = d.join("repo").join(name);
            std::fs::create_dir_all(&r).expect("mkdir repo");
            std::fs::write(r.join("Packages"), text).expect("write Packages");
            sources.push_str(&format!("deb [trusted=yes] file:{} ./\n", r.display()));
        }
        std::fs::write(d.join("etc/sources.list"), sources).expect("sources");
        let conf = d.join("apt.conf");
        let p = d.display();
        std::fs::write(
            &conf,
            format!(
                r#"Dir "{p}/";
Dir::State "{p}/state/";
Dir::State::status "{p}/state/status";
Dir::Cache "{p}/cache/";
Dir::Etc "{p}/etc/";
Dir::Etc::SourceList "{p}/etc/sources.list";
Dir::Etc::SourceParts "{p}/etc/sources.list.d";
Dir::Etc::main "/dev/null";
Dir::Etc::Parts "{p}/etc/apt.conf.d";
Dir::Etc::Preferences "{p}/etc/preferences";
Dir::Etc::PreferencesParts "{p}/etc/preferences.d";
Dir::Log "{p}/log";
APT::Architecture "{arch}";
APT::Architectures {{ "{arch}"; }};
APT::Install-Recommends "false";
APT::Install-Suggests "false";
Debug::NoLocking "1";
Acquire::Languages "none";
"#
            ),
        )
        .expect("apt.conf");
        let out = Command::new("apt-get")
            .env("APT_CONFIG", &conf)
            .args(["-q", "update"])
            .output()
            .expect("apt-get update");
        assert!(
            out.status.success(),
            "apt-get update failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        Sandbox { _dir: dir, conf }
    }

    /// `apt-get install -s` in the sandbox; also tells whether apt had to call its `pkgProblemResolver` on a
    /// broken marking (which the resolver does not replay).
    pub fn install_detail(&self, args: &[String], recommends: bool) -> (AptAnswer, bool) {
        let extra = ["Debug::pkgProblemResolver=1".to_owned()];
        let answer = apt_install(&self.conf, &extra, args, recommends);
        let used = match &answer {
            Ok(_) => LAST_STDERR.with(|s| resolver_used(&s.borrow())),
            Err(e) => resolver_used(e),
        };
        (answer, used)
    }
}

/// Runs `apt-get install -s` with `conf` as APT_CONFIG plus `extra` `-o` options.
pub fn apt_install(conf: &Path, extra: &[String], args: &[String], recommends: bool) -> AptAnswer {
    let mut cmd = Command::new("apt-get");
    cmd.env("APT_CONFIG", conf).env("LC_ALL", "C").args([
        "-q",
        "-s",
        "-o",
        "APT::Get::Show-Versions=1",
        "-o",
        "quiet::NoProgress=1",
    ]);
    for o in extra {
        cmd.args(["-o", o]);
    }
    cmd.args(["-o", &format!("APT::Install-Recommends={recommends}")]);
    cmd.arg("install").args(args);
    let out = cmd.output().expect("apt-get install -s");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    LAST_STDERR.with(|s| *s.borrow_mut() = stderr.to_string());
    // The resolution is the "NEW packages" list (with Show-Versions).
    // apt prints the summary line only once the resolution succeeded; errors after it come
    // from ordering the simulated run (SmartUnPack loops, "Conf Broken", immediate
    // configuration), which is not what is compared here.
    let resolved = out.status.success() || stdout.contains(" newly installed, ");
    if !resolved {
        return Err(format!("{stdout}{stderr}"));
    }
    let mut set = BTreeSet::new();
    let mut in_new = false;
    for line in stdout.lines() {
        if line.starts_with("The following NEW packages will be installed") {
            in_new = true;
            continue;
        }
        if in_new {
            let Some(entry) = line.strip_prefix("   ") else {
                break;
            };
            if let Some((name, ver)) = entry.trim().split_once(" (") {
                set.insert(format!("{name}={}", ver.trim_end_matches(')')));
            }
        }
    }
    Ok(set)
}

/// Our answer in the same shape.
pub fn ours(u: &debcast::resolve::Universe, req: &debcast::resolve::Request) -> AptAnswer {
    debcast::resolve::resolve(u, req)
        .map(|r| r.name_versions().into_iter().collect())
        .map_err(|e| e.to_string())
}

/// apt-get arguments for a request: includes, then `name-` for excludes.
pub fn apt_args(include: &[&str], exclude: &[&str]) -> Vec<String> {
    include
        .iter()
        .map(|s| s.to_string())
        .chain(exclude.iter().map(|s| format!("{s}-")))
        .collect()
}
