use super::awk;

/// Programs and inputs with what mawk 1.3.4-20200120 (Debian's awk) printed for them
/// (tests/data/awk/README.md says how they were made). Each runs here to the same output, or
/// is marked refused and must be.
#[test]
fn programs_print_what_mawk_prints() {
    let cases: Vec<serde_json::Value> =
        serde_json::from_str(include_str!("../../../../../../tests/data/awk/cases.json")).unwrap();
    let mut failures = Vec::new();
    for case in &cases {
        let args: Vec<String> = case["args"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a.as_str().unwrap().to_owned())
            .collect();
        let input = case["input"].as_str().unwrap();
        let got = awk(&args, input);
        let want = if case["refused"].as_bool() == Some(true) {
            None
        } else {
            Some(case["stdout"].as_str().unwrap().to_owned())
        };
        if got != want {
            failures.push(format!(
                "{args:?} on {input:?}:\n  want {want:?}\n  got  {got:?}\n  ({:?})",
                super::run_awk(&args, input).err()
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases differ:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}
