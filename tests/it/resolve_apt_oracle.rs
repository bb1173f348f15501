//! apt is the oracle: synthetic Packages files are served to `apt-get install -s` from an
//! empty dpkg status, and the resolver must install exactly what apt installs (or fail when apt
//! fails).

use crate::resolve_support;

use debcast::manifest::PackageRequest;
use debcast::resolve::{Request, Universe};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use resolve_support::*;

/// One stanza; `fields` are extra `Key: value` lines.
fn stanza(name: &str, version: &str, fields: &[(&str, &str)]) -> String {
    let mut s = format!("Package: {name}\nVersion: {version}\n");
    if !fields.iter().any(|(k, _)| *k == "Architecture") {
        s.push_str("Architecture: amd64\n");
    }
    for (k, v) in fields {
        s.push_str(&format!("{k}: {v}\n"));
    }
    s.push_str(&format!(
        "Filename: pool/{name}_{}.deb\nSize: 1000\nSHA256: {}\n\n",
        version.replace(':', "%3a"),
        "ab".repeat(32)
    ));
    s
}

struct Case {
    include: Vec<String>,
    exclude: Vec<String>,
    recommends: bool,
}

/// Returns (agreed failures, mismatches, mismatches where apt needed its problem resolver).
fn compare_cases(repos: &[(&str, String)], cases: &[Case]) -> (usize, Vec<String>, Vec<String>) {
    let sandbox = Sandbox::new(repos, "amd64");
    let mut records = Vec::new();
    for (name, text) in repos {
        records.extend(parse_packages(text, "test", name));
    }
    let universe = Universe::new(records, "amd64");
    let mut mismatches = Vec::new();
    let mut resolver_gaps = Vec::new();
    let mut agreed_failures = 0;
    for c in cases {
        let inc: Vec<&str> = c.include.iter().map(String::as_str).collect();
        let exc: Vec<&str> = c.exclude.iter().map(String::as_str).collect();
        let (apt, used_resolver) = sandbox.install_detail(&apt_args(&inc, &exc), c.recommends);
        let req = Request {
            include: c.include.iter().map(|s| PackageRequest::parse(s)).collect(),
            exclude: c.exclude.clone(),
            recommends: c.recommends,
            ..Request::default()
        };
        let us = ours(&universe, &req);
        match (&apt, &us) {
            (Ok(a), Ok(b)) if a == b => {}
            (Err(_), Err(_)) => agreed_failures += 1,
            _ => {
                let m = format!(
                    "request {:?} exclude {:?} recommends {}:\n  apt:  {:?}\n  ours: {:?}",
                    c.include, c.exclude, c.recommends, apt, us
                );
                if used_resolver {
                    resolver_gaps.push(m)
                } else {
                    mismatches.push(m)
                }
            }
        }
    }
    (agreed_failures, mismatches, resolver_gaps)
}

fn case(include: &[&str]) -> Case {
    Case {
        include: include.iter().map(|s| s.to_string()).collect(),
        exclude: Vec::new(),
        recommends: false,
    }
}

#[test]
fn handcrafted_rules_match_apt() {
    if !have_apt() {
        eprintln!("\n\n*** NOTE: apt-get is absent: the apt oracle test is SKIPPED ***\n\n");
        return;
    }
    let mut main = String::new();
    let mut updates = String::new();
    let mut security = String::new();
    // Virtual with several providers: priority decides (mawk is required).
    main += &stanza(
        "gawk",
        "1:5.2.1-2",
        &[("Priority", "optional"), ("Provides", "awk")],
    );
    main += &stanza(
        "mawk",
        "1.3.4-3",
        &[("Priority", "required"), ("Provides", "awk")],
    );
    main += &stanza(
        "original-awk",
        "2022-1",
        &[("Priority", "optional"), ("Provides", "awk")],
    );
    main += &stanza("needs-awk", "1", &[("Depends", "awk")]);
    // Equal priorities: apt's package order decides.
    main += &stanza("pa", "1", &[("Priority", "optional"), ("Provides", "vtie")]);
    main += &stanza("pb", "1", &[("Priority", "optional"), ("Provides", "vtie")]);
    main += &stanza("needs-vtie", "1", &[("Depends", "vtie")]);
    // Missing priority sorts before required in apt.
    main += &stanza("noprio", "1", &[("Provides", "vprio")]);
    main += &stanza("reqprio", "1", &[("Priority", "required"), ("Provides", "vprio")]);
    main += &stanza("needs-vprio", "1", &[("Depends", "vprio")]);
    // Versioned provides.
    main += &stanza("prov-old", "1", &[("Provides", "abi (= 1)")]);
    main += &stanza(
        "prov-new",
        "1",
        &[("Provides", "abi (= 2)"), ("Priority", "extra")],
    );
    main += &stanza("prov-unv", "1", &[("Provides", "abi"), ("Priority", "required")]);
    main += &stanza("needs-abi2", "1", &[("Depends", "abi (>= 2)")]);
    main += &stanza("needs-abi", "1", &[("Depends", "abi")]);
    main += &stanza("needs-abi9", "1", &[("Depends", "abi (>= 9)")]);
    // Alternatives.
    main += &stanza("b", "1.5", &[]);
    main += &stanza("c", "1", &[]);
    main += &stanza("d", "1", &[]);
    main += &stanza("alt-user", "1", &[("Depends", "missing | b (>= 2) | c")]);
    main += &stanza("alt-first", "1", &[("Depends", "b | c")]);
    main += &stanza("alt2", "1", &[("Depends", "b | c")]);
    main += &stanza("imp", "1", &[("Depends", "b (>= 2)")]);
    main += &stanza("imp-top", "1", &[("Depends", "imp")]);
    main += &stanza("exc-user", "1", &[("Depends", "c | d")]);
    // A real package that is also provided.
    main += &stanza("realv", "1", &[("Priority", "optional")]);
    main += &stanza(
        "prov-realv",
        "1",
        &[("Provides", "realv"), ("Priority", "required")],
    );
    main += &stanza("needs-realv", "1", &[("Depends", "realv")]);
    // Suites: updates and security win when newer.
    main += &stanza("upd", "1.0", &[]);
    updates += &stanza("upd", "1.1", &[]);
    security += &stanza("upd", "1.0+deb12u1", &[]);
    main += &stanza("sec", "2.0-1", &[]);
    security += &stanza("sec", "2.0-1+deb12u1", &[]);
    main += &stanza("epoch", "1:0.9", &[]);
    updates += &stanza("epoch", "2.0", &[]);
    main += &stanza("tilde", "1.0~rc1", &[]);
    updates += &stanza("tilde", "1.0", &[]);
    main += &stanza(
        "needs-upd",
        "1",
        &[(
            "Depends",
            "upd (>= 1.1), sec (>> 2.0-1), epoch (>= 1:0), tilde (>= 1.0~)",
        )],
    );
    main += &stanza("needs-old-upd", "1", &[("Depends", "upd (<< 1.1)")]);
    // Multi-Arch.
    main += &stanza("am", "1", &[("Multi-Arch", "allowed"), ("Provides", "amv")]);
    main += &stanza("fm", "1", &[("Architecture", "all"), ("Multi-Arch", "foreign")]);
    main += &stanza("any-user", "1", &[("Depends", "am:any")]);
    main += &stanza("anyv-user", "1", &[("Depends", "amv:any")]);
    main += &stanza("any-fail", "1", &[("Depends", "fm:any")]);
    main += &stanza("fm-user", "1", &[("Depends", "fm")]);
    main += &stanza("native-user", "1", &[("Depends", "c:native, d:amd64")]);
    main += &stanza("foreign-user", "1", &[("Depends", "c:arm64 | d")]);
    main += &stanza("obsolete-ops", "1", &[("Depends", "upd (> 1.0), b (< 1.5)")]);
    // Conflicts and Breaks.
    main += &stanza("cy1", "1", &[("Conflicts", "cx")]);
    main += &stanza("cy2", "1", &[]);
    main += &stanza("cx", "1", &[("Depends", "cy1 | cy2")]);
    main += &stanza("brk", "1", &[("Breaks", "c (<< 2)")]);
    main += &stanza("brk-user", "1", &[("Depends", "brk")]);
    main += &stanza(
        "selfc",
        "1",
        &[("Conflicts", "selfc, vself"), ("Provides", "vself")],
    );
    // Pre-Depends and order of installation across fields.
    main += &stanza("pre", "1", &[("Pre-Depends", "c | d"), ("Depends", "d | c")]);
    // Recommends.
    main += &stanza(
        "rec",
        "1",
        &[("Depends", "b"), ("Recommends", "d, missing-rec, imp")],
    );
    // Deeper chains and cycles.
    main += &stanza("cyc1", "1", &[("Depends", "cyc2")]);
    main += &stanza("cyc2", "1", &[("Depends", "cyc1, awk")]);
    main += &stanza(
        "ess",
        "1",
        &[
            ("Essential", "yes"),
            ("Provides", "vess"),
            ("Priority", "optional"),
        ],
    );
    main += &stanza("noness", "1", &[("Provides", "vess"), ("Priority", "required")]);
    main += &stanza("needs-vess", "1", &[("Depends", "vess")]);
    main += &stanza("virtual-only-one", "1", &[("Provides", "vone")]);
    // Two versions of a dependency: the failed candidate's dependencies stay.
    main += &stanza("half", "1", &[("Depends", "c, nothere")]);
    main += &stanza("half-user", "1", &[("Depends", "half | d")]);

    let repos = vec![("main", main), ("updates", updates), ("security", security)];
    let mut cases: Vec<Case> = [
        vec!["needs-awk"],
        vec!["needs-awk", "gawk"],
        vec!["gawk", "needs-awk"],
        vec!["awk"],
        vec!["needs-vtie"],
        vec!["needs-vprio"],
        vec!["needs-abi2"],
        vec!["needs-abi"],
        vec!["needs-abi9"],
        vec!["alt-user"],
        vec!["alt-first"],
        vec!["alt2", "c"],
        vec!["c", "alt2"],
        vec!["imp"],
        vec!["imp-top"],
        vec!["needs-realv"],
        vec!["needs-upd"],
        vec!["needs-old-upd"],
        vec!["upd=1.0"],
        vec!["upd=1.0+deb12u1"],
        vec!["upd=9"],
        vec!["needs-old-upd", "upd=1.0"],
        vec!["any-user"],
        vec!["anyv-user"],
        vec!["any-fail"],
        vec!["fm-user"],
        vec!["native-user"],
        vec!["foreign-user"],
        vec!["obsolete-ops"],
        vec!["cx"],
        vec!["brk-user"],
        vec!["brk-user", "c"],
        vec!["selfc"],
        vec!["pre"],
        vec!["rec"],
        vec!["cyc1"],
        vec!["needs-vess"],
        vec!["vone"],
        vec!["half-user"],
        vec!["nonexistent"],
    ]
    .iter()
    .map(|c| case(c))
    .collect();
    cases.push(Case {
        include: vec!["exc-user".into()],
        exclude: vec!["c".into()],
        recommends: false,
    });
    cases.push(Case {
        include: vec!["imp-top".into()],
        exclude: vec!["b".into()],
        recommends: false,
    });
    cases.push(Case {
        include: vec!["rec".into()],
        exclude: vec![],
        recommends: true,
    });
    cases.push(Case {
        include: vec!["rec".into(), "alt2".into()],
        exclude: vec!["d".into()],
        recommends: true,
    });
    let (failures, mismatches, gaps) = compare_cases(&repos, &cases);
    eprintln!(
        "handcrafted: {} cases, {} agreed failures, {} mismatches, {} where apt used pkgProblemResolver",
        cases.len(),
        failures,
        mismatches.len(),
        gaps.len()
    );
    let all = [mismatches, gaps].concat();
    assert!(all.is_empty(), "{}", all.join("\n"));
}

/// A random universe: real packages in two suites, virtual names with (versioned) providers of
/// mixed priorities, alternatives, Multi-Arch, and the odd Conflicts/Breaks.
fn random_universe(rng: &mut StdRng, n: usize, density: f64) -> (Vec<(&'static str, String)>, Vec<String>) {
    let prios = ["", "required", "important", "standard", "optional", "extra"];
    let nv = n / 6;
    let mut main = String::new();
    let mut upd = String::new();
    let names: Vec<String> = (0..n).map(|i| format!("p{i}")).collect();
    let virt: Vec<String> = (0..nv).map(|i| format!("v{i}")).collect();
    let rel = |rng: &mut StdRng| -> String {
        if rng.random_bool(0.25) {
            let v = &virt[rng.random_range(0..nv)];
            match rng.random_range(0..4) {
                0 => format!("{v} (>= {})", rng.random_range(1..3)),
                1 => format!("{v}:any"),
                _ => v.clone(),
            }
        } else {
            let p = &names[rng.random_range(0..n)];
            match rng.random_range(0..6) {
                0 => format!("{p} (>= 1.{})", rng.random_range(0..3)),
                1 => format!("{p} (<< 1.{})", rng.random_range(1..3)),
                2 => format!("{p} (= 1.0)"),
                _ => p.clone(),
            }
        }
    };
    for (i, name) in names.iter().enumerate() {
        // Leaves at the end keep the graph mostly acyclic but not entirely.
        let versions: Vec<(bool, String)> = if rng.random_bool(0.3) {
            vec![
                (false, "1.0".into()),
                (true, format!("1.{}", rng.random_range(1..3))),
            ]
        } else {
            vec![(rng.random_bool(0.2), format!("1.{}", rng.random_range(0..3)))]
        };
        for (in_upd, version) in versions {
            let mut f: Vec<(&str, String)> = Vec::new();
            let prio = prios[rng.random_range(0..prios.len())];
            if !prio.is_empty() {
                f.push(("Priority", prio.to_owned()));
            }
            match rng.random_range(0..6) {
                0 => f.push(("Multi-Arch", "allowed".into())),
                1 => f.push(("Multi-Arch", "foreign".into())),
                _ => {}
            }
            if rng.random_bool(0.2) {
                f.push(("Architecture", "all".into()));
            }
            let ndeps = if i > n * 3 / 4 {
                rng.random_range(0..2)
            } else {
                rng.random_range(0..4)
            };
            let mut deps = Vec::new();
            for _ in 0..ndeps {
                let alts = if rng.random_bool(density) {
                    rng.random_range(1..4)
                } else {
                    rng.random_range(2..4)
                };
                deps.push((0..alts).map(|_| rel(rng)).collect::<Vec<_>>().join(" | "));
            }
            if !deps.is_empty() {
                f.push(("Depends", deps.join(", ")));
            }
            if rng.random_bool(0.15) {
                f.push(("Pre-Depends", rel(rng)));
            }
            if rng.random_bool(0.3) {
                f.push(("Recommends", rel(rng)));
            }
            if rng.random_bool(0.06) {
                f.push(("Conflicts", names[rng.random_range(0..n)].clone()));
            }
            if rng.random_bool(0.06) {
                f.push(("Breaks", format!("{} (<< 1.1)", names[rng.random_range(0..n)])));
            }
            if rng.random_bool(0.35) {
                let mut provs = Vec::new();
                for _ in 0..rng.random_range(1..3) {
                    let v = &virt[rng.random_range(0..nv)];
                    if rng.random_bool(0.5) {
                        provs.push(format!("{v} (= {})", rng.random_range(1..3)));
                    } else {
                        provs.push(v.clone());
                    }
                }
                f.push(("Provides", provs.join(", ")));
            }
            let fields: Vec<(&str, &str)> = f.iter().map(|(k, v)| (*k, v.as_str())).collect();
            let s = stanza(name, &version, &fields);
            if in_upd { upd += &s } else { main += &s }
        }
    }
    let mut requestable = names.clone();
    requestable.extend(virt);
    (vec![("main", main), ("updates", upd)], requestable)
}

#[test]
fn random_universes_match_apt() {
    if !have_apt() {
        eprintln!("\n\n*** NOTE: apt-get is absent: the apt oracle test is SKIPPED ***\n\n");
        return;
    }
    let mut total = 0;
    let mut total_fail = 0;
    let mut all_mismatches = Vec::new();
    let mut all_gaps = Vec::new();
    for seed in 0..10u64 {
        let mut rng = StdRng::seed_from_u64(seed);
        // Odd seeds: sparser universes, so that more requests succeed.
        let (repos, names) = random_universe(&mut rng, 60, if seed % 2 == 1 { 0.5 } else { 1.0 });
        // RESOLVE_ORACLE_DUMP=DIR keeps the generated indices for debugging a mismatch.
        if let Ok(dir) = std::env::var("RESOLVE_ORACLE_DUMP") {
            for (name, text) in &repos {
                let d = std::path::Path::new(&dir)
                    .join(format!("seed{seed}"))
                    .join("repo")
                    .join(name);
                std::fs::create_dir_all(&d).expect("dump dir");
                std::fs::write(d.join("Packages"), text).expect("dump");
            }
        }
        let mut cases = Vec::new();
        for k in 0..25 {
            let count = rng.random_range(1..5);
            let include: Vec<String> = (0..count)
                .map(|_| names[rng.random_range(0..60)].clone())
                .collect();
            let exclude = if k % 5 == 4 {
                vec![names[rng.random_range(0..60)].clone()]
            } else {
                vec![]
            };
            let exclude = exclude.into_iter().filter(|e| !include.contains(e)).collect();
            cases.push(Case {
                include,
                exclude,
                recommends: k % 3 == 2,
            });
        }
        let (failures, mismatches, gaps) = compare_cases(&repos, &cases);
        total += cases.len();
        total_fail += failures;
        all_mismatches.extend(mismatches.into_iter().map(|m| format!("seed {seed}: {m}")));
        all_gaps.extend(gaps.into_iter().map(|m| format!("seed {seed}: {m}")));
    }
    eprintln!(
        "random: {total} lists, {total_fail} agreed failures, {} mismatches, {} where apt used pkgProblemResolver",
        all_mismatches.len(),
        all_gaps.len()
    );
    // pkgProblemResolver (apt's second stage, run when a conflict broke the marking) is not
    // replayed: those differences are printed as a known gap rather than failed on.
    for g in &all_gaps {
        eprintln!("KNOWN GAP (pkgProblemResolver): {g}");
    }
    for m in &all_mismatches {
        eprintln!("MISMATCH: {m}");
    }
    // One known, not yet understood difference (seed 7, with Recommends: apt keeps one more
    // recommended package). The bound is a ratchet: it may only go down.
    const KNOWN_MISMATCHES: usize = 1;
    assert!(
        all_mismatches.len() <= KNOWN_MISMATCHES,
        "{} mismatches (known: {KNOWN_MISMATCHES}):\n{}",
        all_mismatches.len(),
        all_mismatches.join("\n")
    );
}

/// Debugging aid: `RESOLVE_DUMP=DIR RESOLVE_ARGS="a b c-" cargo test --test it resolve_apt_oracle::
/// replay -- --ignored --nocapture` resolves DIR/repo/*/Packages (as dumped by
/// RESOLVE_ORACLE_DUMP) and prints our answer next to apt's.
#[test]
#[ignore = "debugging aid"]
fn replay() {
    let (Ok(dir), Ok(args)) = (std::env::var("RESOLVE_DUMP"), std::env::var("RESOLVE_ARGS")) else {
        return;
    };
    let mut repos = Vec::new();
    for name in ["main", "updates", "security"] {
        if let Ok(text) = std::fs::read_to_string(format!("{dir}/repo/{name}/Packages")) {
            repos.push((name, text));
        }
    }
    let args: Vec<&str> = args.split_whitespace().collect();
    let include: Vec<String> = args
        .iter()
        .filter(|a| !a.ends_with('-'))
        .map(|s| s.to_string())
        .collect();
    let exclude: Vec<String> = args
        .iter()
        .filter_map(|a| a.strip_suffix('-'))
        .map(str::to_owned)
        .collect();
    let recommends = std::env::var_os("RESOLVE_RECOMMENDS").is_some();
    let (f, m, g) = compare_cases(
        &repos,
        &[Case {
            include,
            exclude,
            recommends,
        }],
    );
    eprintln!(
        "agreed failures {f}; mismatches:\n{}\n{}",
        m.join("\n"),
        g.join("\n")
    );
}
