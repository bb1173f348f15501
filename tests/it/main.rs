//! debcast's integration tests: one binary (linking the crate once), one module per area.
//!
//! Everything here drives the real `debcast` binary or the library against synthetic `.deb`
//! files and signed archives served on 127.0.0.1 by the tests themselves. The `#[ignore]`d
//! modules (`e2e*`, `lock_real`, `resolve_real_oracle`) use the real Debian archive and root:
//! `just e2e` runs them.

// Counts each thread's allocations while a fuzz target runs (see `fuzz_support`); other threads
// pay one thread-local check per allocation.
#[global_allocator]
static ALLOC: fuzz_support::CountingAlloc = fuzz_support::CountingAlloc;

// Support shared by the test modules.
mod common;
mod fetch_common;
mod fuzz_support;
mod lock_support;
mod net_support;
mod remote_support;
mod resolve_support;

// Synthetic archives on 127.0.0.1.
mod artifacts;
mod bench_scripts;
mod build;
mod build_errors;
mod build_messages;
mod fetch_hedge;
mod fetch_mirrors;
mod fetch_store;
mod fetch_transport;
mod fidelity_rules;
mod fuzz;
mod layers_budget;
mod lock_cli;
mod lock_inrelease_faults;
mod lock_report;
mod lock_trust;
mod merge;
mod net_faults;
mod net_offline;
mod preflight;
mod remote_cache;
mod reproducible;
mod resolve_apt_oracle;
mod sbom;
mod store_integrity;
mod system_accounts;
mod system_effects;

// The real Debian archive (ignored by default; `just e2e`).
mod e2e;
mod e2e_explain;
mod e2e_kube_cross;
mod e2e_system;
mod lock_real;
// The host's update-mime-database as the oracle (ignored by default; `just e2e`).
mod mime_oracle;
mod resolve_real_oracle;
