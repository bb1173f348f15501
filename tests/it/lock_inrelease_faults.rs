//! `lock` over a mirror that damages `InRelease` (which no hash protects): a damaged copy is a
//! wrong body, retried within the retry budget and then failed over, never a reason to fall back
//! to another signature file; a well-formed signature that does not verify (an unknown key) fails
//! closed at once.

use crate::lock_support;

use debcast_testkit::archive::TestKey;
use debcast_testkit::server::{Fault, FaultPlan};
use lock_support::Fixture;

fn fixture() -> Fixture {
    let mut f = Fixture::new(&["stable"]);
    for arch in ["amd64", "arm64"] {
        f.pkg("stable", "hello", "1.0", arch, &[]);
    }
    f.serve();
    f.manifest(&["stable"], r#"include = ["hello"]"#, "");
    f
}

fn set_faults(f: &Fixture, plan: FaultPlan) {
    f.server.as_ref().expect("served").set_faults(plan);
}

#[test]
fn an_inrelease_damaged_three_times_in_a_row_is_retried_until_it_verifies() {
    let f = fixture();
    // Every path's first three answers have a byte flipped (a different one each time).
    set_faults(
        &f,
        FaultPlan {
            first: vec![Fault::Corrupt, Fault::Corrupt, Fault::Corrupt],
            ..FaultPlan::none()
        },
    );
    f.lock(&["--retries", "8"]).ok().stderr_has(&["wrote"]);
    assert!(f.lockfile().unwrap().contains("name = \"hello\""));
}

#[test]
fn an_inrelease_that_never_verifies_fails_closed_without_falling_back() {
    let f = fixture();
    set_faults(&f, FaultPlan::always(Fault::Corrupt));
    let run = f.lock(&["--retries", "3"]).fails();
    run.stderr_has(&["dists/stable/InRelease", "never falling back", "4 attempts"]);
    assert!(!run.stderr.contains("Release.gpg"), "{}", run.stderr);
    assert!(f.lockfile().is_none());
}

#[test]
fn a_signature_by_an_unknown_key_fails_closed_at_once() {
    let f = fixture();
    // The archive re-signed by a key the manifest's keyring does not hold.
    let stranger = TestKey::new("stranger").unwrap();
    for b in &f.suites {
        b.write(&f.archive_root(), &[&stranger]).unwrap();
    }
    let run = f.lock(&[]).fails();
    run.stderr_has(&["dists/stable/InRelease", "unknown key"]);
    let c = f.server.as_ref().unwrap().counters();
    assert_eq!(
        c.requests, 1,
        "one download of InRelease, no retry, no fallback: {c:?}"
    );
}
