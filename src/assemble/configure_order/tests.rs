use super::*;

fn pkg(name: &str, depends: &str) -> OrderPackage {
    OrderPackage {
        name: name.into(),
        depends: depends.into(),
        has_postinst: true,
        ..OrderPackage::default()
    }
}

/// Names whose hash-table order is not their name order.
const NAMES: [&str; 8] = [
    "dbus",
    "openssh-client",
    "curl",
    "less",
    "zip",
    "adduser",
    "polkitd",
    "sudo",
];

fn names(packages: &[OrderPackage]) -> Vec<&str> {
    configure_order(packages)
        .into_iter()
        .map(|i| packages[i].name.as_str())
        .collect()
}

/// Names sorted as dpkg's package hash table walks them.
fn in_hash_order<'a>(names: &[&'a str]) -> Vec<&'a str> {
    let mut v = names.to_vec();
    v.sort_by_key(|n| (pkg_hash_bin(n), n.to_string()));
    v
}

#[test]
fn the_hash_is_dpkgs_fnv_1a() {
    // FNV-1a 32-bit test vectors (the algorithm's published ones): "" and "a" and "foobar".
    assert_eq!(super::super::system::dpkgdb::fnv_hash(""), 0x811c_9dc5);
    assert_eq!(super::super::system::dpkgdb::fnv_hash("a"), 0xe40c_292c);
    assert_eq!(super::super::system::dpkgdb::fnv_hash("foobar"), 0xbf9c_f968);
    assert_eq!(pkg_hash_bin("a"), 0xe40c_292c % 65_521);
}

#[test]
fn independent_packages_are_configured_in_hash_table_order_not_by_name() {
    let all = NAMES;
    let packages: Vec<OrderPackage> = all.iter().map(|n| pkg(n, "")).collect();
    let got = names(&packages);
    assert_eq!(got, in_hash_order(&all));
    let mut by_name = all.to_vec();
    by_name.sort();
    assert_ne!(got, by_name, "the fixture must tell hash order from name order");
}

#[test]
fn a_package_waits_for_what_it_depends_on_at_the_back_of_the_queue() {
    let all = NAMES;
    let hashed = in_hash_order(&all);
    // The first in hash order depends on the last: it goes to the back of the queue, and is
    // configured after the last, and so after everything else.
    let (first, last) = (hashed[0], hashed[hashed.len() - 1]);
    let packages: Vec<OrderPackage> = all
        .iter()
        .map(|n| pkg(n, if *n == first { last } else { "" }))
        .collect();
    let got = names(&packages);
    let mut want: Vec<&str> = hashed[1..].to_vec();
    want.push(first);
    assert_eq!(got, want);
}

#[test]
fn the_essential_set_comes_first_then_what_pre_depends_needs_then_the_rest() {
    let mut base = pkg("zz-essential", "libzz");
    base.essential = true;
    let lib = pkg("libzz", "");
    let mut tool = pkg("aa-tool", "");
    tool.pre_depends = "aa-helper".into();
    let helper = pkg("aa-helper", "aa-helper-lib");
    let helper_lib = pkg("aa-helper-lib", "");
    let other = pkg("aaa-other", "");
    let packages = vec![other, tool, helper_lib, helper, lib, base];
    let got = names(&packages);
    assert_eq!(&got[..4], ["libzz", "zz-essential", "aa-helper-lib", "aa-helper"]);
    let mut rest = got[4..].to_vec();
    rest.sort();
    assert_eq!(rest, ["aa-tool", "aaa-other"]);
}

#[test]
fn a_cycle_is_broken_at_the_package_without_a_postinst() {
    // Both orders of the queue: the one without a postinst is configured first either way.
    for (a, b) in [("dbus", "openssh-client"), ("openssh-client", "dbus")] {
        let mut no_postinst = pkg(a, b);
        no_postinst.has_postinst = false;
        let packages = vec![no_postinst, pkg(b, a)];
        assert_eq!(names(&packages), [a, b], "{a} has no postinst");
    }
}

#[test]
fn a_cycle_of_packages_with_postinsts_breaks_the_link_of_the_first_met() {
    let all = ["dbus", "openssh-client"];
    let hashed = in_hash_order(&all);
    let packages: Vec<OrderPackage> = vec![pkg(hashed[0], hashed[1]), pkg(hashed[1], hashed[0])];
    // The search starts at the first in the queue; the cycle closes back at it, whose link
    // (to the second) is broken: the first is configured first.
    assert_eq!(names(&packages), [hashed[0], hashed[1]]);
}

#[test]
fn what_depends_on_a_package_awaiting_triggers_waits_until_the_triggers_are_processed() {
    let all = NAMES;
    let hashed = in_hash_order(&all);
    let (awaiter, waiter) = (hashed[0], hashed[1]);
    let mut interested = pkg("sgml-base", "");
    interested.essential = true;
    interested.triggers = "interest update-sgmlcatalog\ninterest /usr/share/xml\n".into();
    let packages: Vec<OrderPackage> = all
        .iter()
        .map(|n| {
            let mut p = pkg(n, if *n == waiter { awaiter } else { "" });
            if *n == awaiter {
                p.triggers = "# a comment\nactivate-await update-sgmlcatalog\n".into();
            }
            p
        })
        .chain([interested])
        .collect();
    let got = names(&packages);
    let mut want = vec!["sgml-base", awaiter];
    want.extend(&hashed[2..]);
    want.push(waiter);
    assert_eq!(got, want);
    // The stall is broken by processing the awaited triggers, just before the waiter is
    // configured: the plan says so (the files walk runs sgml-base's `postinst triggered` there).
    let plan = super::configure_plan(&packages);
    let index = |name: &str| packages.iter().position(|p| p.name == name).unwrap();
    assert_eq!(
        plan.awaited_triggers_before,
        [index(waiter)].into_iter().collect(),
        "{plan:?}"
    );

    // A -noawait interest (or activation) leaves nothing awaiting: plain queue order.
    let noawait: Vec<OrderPackage> = packages
        .iter()
        .cloned()
        .map(|mut p| {
            p.triggers = p.triggers.replace("interest update", "interest-noawait update");
            p
        })
        .collect();
    let got = names(&noawait);
    assert_eq!(&got[1..], &hashed[..]);
    assert!(super::configure_plan(&noawait).awaited_triggers_before.is_empty());
}

#[test]
fn alternatives_and_provides_are_satisfied_by_whichever_is_installed() {
    let all = ["dbus", "openssh-client", "curl", "less"];
    let hashed = in_hash_order(&all);
    // The first depends on a virtual name the last provides, through an alternative that is
    // not installed.
    let packages: Vec<OrderPackage> = all
        .iter()
        .map(|n| {
            let mut p = pkg(
                n,
                if *n == hashed[0] {
                    "not-here | virtual-bus"
                } else {
                    ""
                },
            );
            if *n == hashed[3] {
                p.provides = "virtual-bus".into();
            }
            p
        })
        .collect();
    assert_eq!(names(&packages), [hashed[1], hashed[2], hashed[3], hashed[0]]);
}
