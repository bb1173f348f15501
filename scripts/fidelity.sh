#!/usr/bin/env bash
# Fidelity: debcast's images against what apt and dpkg install (mmdebstrap), per package set of
# scripts/fidelity-sets.txt; see scripts/fidelity.py. Needs root, the network (the host's apt
# sources), mmdebstrap and umoci. Usage: scripts/fidelity.sh [SET...] (default: every set).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --locked --bin debcast >&2
exec python3 scripts/fidelity.py "$@"
