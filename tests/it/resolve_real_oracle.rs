//! Real-data oracle (run by `just e2e`, ignored by default): the host's real Packages lists, as
//! `apt-get update` left them, resolved by us and by `apt-get install -s` from an empty status.

use crate::resolve_support;

use std::process::Command;
use std::time::Instant;

use debcast::resolve::{Request, Universe};
use rand::SeedableRng;
use rand::rngs::StdRng;
use rand::seq::IndexedRandom;
use resolve_support::*;

/// The host's Packages lists in apt's own order (sources order), with their suites.
fn host_lists() -> Vec<(String, String)> {
    let out = Command::new("apt-get")
        .args(["indextargets", "--format", "$(FILENAME) $(RELEASE) $(IDENTIFIER)"])
        .output()
        .expect("apt-get indextargets");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| {
            let mut it = l.split_whitespace();
            let (file, suite, id) = (it.next()?, it.next()?, it.next()?);
            (id == "Packages" && std::path::Path::new(file).exists())
                .then(|| (file.to_owned(), suite.to_owned()))
        })
        .collect()
}

fn cat_file(path: &str) -> String {
    // apt-helper decompresses whatever compression apt stored the list with.
    let out = Command::new("/usr/lib/apt/apt-helper")
        .args(["cat-file", path])
        .output()
        .expect("apt-helper cat-file");
    assert!(out.status.success(), "cannot read {path}");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
#[ignore = "needs the host's apt lists; run with `just e2e`"]
fn real_lists_match_apt() {
    if !have_apt() {
        eprintln!("\n\n*** NOTE: apt-get is absent: the real-data oracle is SKIPPED ***\n\n");
        return;
    }
    let lists = host_lists();
    if lists.is_empty() {
        eprintln!("\n\n*** NOTE: no Packages lists on this host (run apt-get update): SKIPPED ***\n\n");
        return;
    }
    let arch = String::from_utf8_lossy(
        &Command::new("dpkg")
            .arg("--print-architecture")
            .output()
            .expect("dpkg")
            .stdout,
    )
    .trim()
    .to_owned();
    let t = Instant::now();
    let mut records = Vec::new();
    for (file, suite) in &lists {
        let archive = if suite.ends_with("-security") {
            "debian-security"
        } else {
            "debian"
        };
        records.extend(parse_packages(&cat_file(file), archive, suite));
    }
    let parse_time = t.elapsed();
    let nrec = records.len();
    let t = Instant::now();
    let universe = Universe::new(records, &arch);
    let universe_time = t.elapsed();
    eprintln!("{nrec} stanzas parsed in {parse_time:?}; universe built in {universe_time:?}");

    let tmp = tempfile::tempdir().expect("tempdir");
    let status = tmp.path().join("status");
    std::fs::write(&status, "").expect("status");
    let conf = tmp.path().join("apt.conf");
    std::fs::write(&conf, "").expect("conf");
    std::fs::create_dir_all(tmp.path().join("cache/archives/partial")).expect("cache");
    let extra = vec![
        format!("Dir::State::status={}", status.display()),
        format!("Dir::Cache={}", tmp.path().join("cache").display()),
        format!("Dir::State::extended_states={}", tmp.path().join("ext").display()),
        "Debug::NoLocking=1".to_owned(),
    ];
    // Keep the host's sources and lists (the real data) but not its apt.conf.d tweaks.
    let conf_path = conf.clone();

    let kube_cross = "apt-utils curl file git gnupg iproute2 jq openssh-client patch rsync unzip wget build-essential mingw-w64 crossbuild-essential-arm64 crossbuild-essential-armhf";
    let mut lists_to_check: Vec<(Vec<String>, bool)> = [
        "ca-certificates tzdata netbase base-files media-types",
        "build-essential git curl",
        kube_cross,
        "python3",
        "openjdk-17-jre-headless",
        "awk",
        "mawk",
        "vim",
        "postgresql",
        "nginx",
        "default-jdk-headless maven",
        "golang gcc g++ make",
    ]
    .iter()
    .map(|l| (l.split_whitespace().map(str::to_owned).collect(), false))
    .collect();
    lists_to_check.push((
        ["ca-certificates", "curl", "git"].map(String::from).to_vec(),
        true,
    ));
    lists_to_check.push((vec!["python3".to_owned()], true));
    // A dozen random packages, one list each, and a few random combinations.
    let mut names: Vec<String> = (0..universe.len()).filter_map(|_| None).collect();
    for (file, _) in lists.iter().take(1) {
        for rec in parse_packages(&cat_file(file), "debian", "x") {
            if rec.architecture == arch || rec.architecture == "all" {
                names.push(rec.name);
            }
        }
    }
    names.sort();
    names.dedup();
    let mut rng = StdRng::seed_from_u64(20240601);
    for _ in 0..12 {
        lists_to_check.push((vec![names.choose(&mut rng).cloned().unwrap_or_default()], false));
    }
    for _ in 0..4 {
        let l: Vec<String> = names.choose_multiple(&mut rng, 5).cloned().collect();
        lists_to_check.push((l, false));
    }

    let mut mismatches = Vec::new();
    let mut agreed_failures = 0;
    for (list, recommends) in &lists_to_check {
        let req = Request {
            include: list
                .iter()
                .map(|s| debcast::manifest::PackageRequest::parse(s))
                .collect(),
            recommends: *recommends,
            ..Request::default()
        };
        let t = Instant::now();
        let us = ours(&universe, &req);
        let took = t.elapsed();
        let apt = apt_install(&conf_path, &extra, list, *recommends);
        let n = us.as_ref().map(|s| s.len()).unwrap_or(0);
        eprintln!(
            "{:>4} packages in {took:>10.3?}  recommends={recommends}  {}",
            n,
            list.join(" ")
        );
        match (&apt, &us) {
            (Ok(a), Ok(b)) if a == b => {}
            (Err(_), Err(e)) => {
                agreed_failures += 1;
                eprintln!("      both fail; ours: {}", e.lines().next().unwrap_or_default());
            }
            (Ok(a), Ok(b)) => mismatches.push(format!(
                "{list:?}: only apt: {:?}; only ours: {:?}",
                a.difference(b).collect::<Vec<_>>(),
                b.difference(a).collect::<Vec<_>>()
            )),
            _ => mismatches.push(format!("{list:?}:\n  apt:  {apt:?}\n  ours: {us:?}")),
        }
    }
    eprintln!(
        "real data: {} lists, {} agreed failures, {} mismatches",
        lists_to_check.len(),
        agreed_failures,
        mismatches.len()
    );
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
}
