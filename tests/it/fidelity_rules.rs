//! The fidelity measurement's own rules (`scripts/fidelity.py`): which differences the build's
//! report explains, and which count as non-deterministic by nature. Its unit tests are Python
//! (`scripts/test_fidelity.py`, trees made in a temporary directory: no network, no root); this
//! runs them with the workspace's tests and prints their output when one fails.

use crate::common::repo_root;

use std::process::Command;

#[test]
fn fidelity_rules() {
    let out = Command::new("python3")
        .args(["-m", "unittest", "-v", "scripts/test_fidelity.py"])
        .current_dir(repo_root())
        // Nothing written into the checkout (`scripts/__pycache__`).
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .output()
        .expect("python3 runs (`.ci/run` installs it)");
    assert!(
        out.status.success(),
        "scripts/test_fidelity.py failed ({}):\n{}{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}
