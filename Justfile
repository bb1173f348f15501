# debcast developer tasks. `just --list` shows them.

set shell := ["bash", "-euo", "pipefail", "-c"]

# Build the release binary.
build:
    cargo build --release --locked

# The whole test suite: unit and integration tests (no internet; servers on 127.0.0.1 only).
test:
    cargo test --workspace --locked

# Lint as CI does.
lint:
    cargo fmt --all -- --check
    cargo clippy --workspace --all-targets --locked -- -D warnings

# Build the default image (manifests/static.toml) into out/static.
image manifest="manifests/static.toml" output="out/static": build
    ./target/release/debcast build {{manifest}} --output {{output}}

# End to end against the real Debian archive (through the host's apt sources or DEBCAST_MIRRORS).
# Needs the network (the mirrors of the host's apt sources) and root (chroot, mmdebstrap).
e2e: build
    # apt as the oracle on the real archive (the repo's manifests, random package lists); the repo's
    # manifests built and judged by skopeo/umoci; a working Debian system checked with chroot and
    # compared path by path with mmdebstrap; the MIME database against the host's update-mime-database.
    # (One test binary: the filters pick the modules `lock_real`, `resolve_real_oracle`, `e2e*`.)
    # kube-cross's SBOMs and its shard merge need its Go and protoc archives, whose hosts CI does
    # not reach: `cargo test --release --test it -- --ignored sboms_of_kube_cross merge::kube_cross`
    # runs them where they are reachable (or in the store).
    cargo test --release --locked --test it -- --ignored --test-threads=1 \
        lock_real:: resolve_real_oracle:: e2e:: e2e_system:: e2e_kube_cross:: e2e_explain:: merge::static_ merge::base_ \
        mime_oracle:: \
        --skip e2e_explain::sboms_of_kube_cross

# Benchmarks (print ratios against reference pipelines measured in the same run).
bench: build
    scripts/bench.sh

# `debcast lock` of the kube-cross manifest next to `apt-get install -s` of the same list (warm).
bench-lock:
    scripts/bench-lock.sh

# Fetch benchmark: the kube-cross (else static) lock's amd64 packages from a loopback mirror,
# clean vs 20% transient faults in the same run; prints the ratio (acceptance: <= 1.5x).
bench-fetch:
    scripts/bench-fetch.sh

# Remote cache: a warm registry + empty local store vs a cold build of one kube-cross platform,
# side by side (acceptance: >= 5x, no Debian mirror touched).
bench-remote:
    cargo build --release --locked
    scripts/bench-remote.sh

# Fuzz every parser of untrusted input for longer (DEBCAST_FUZZ_SECS per target, default 60; the
# brief run is part of `just test`). A failure saves its input under target/fuzz-crashes/.
fuzz secs="60":
    DEBCAST_FUZZ_SECS={{secs}} cargo test --release --locked --test it -- --nocapture --test-threads=2 fuzz::

# Fidelity: each package set of scripts/fidelity-sets.txt installed by mmdebstrap and built by
# debcast from the same name=version list, compared path by path (root, network).
fidelity *sets: build
    python3 scripts/fidelity.py {{sets}}
