#!/usr/bin/env bash
# Benchmark: `debcast fetch` into an empty store from a loopback mirror, clean vs with 20%
# transient faults, in the same run; prints the ratio (acceptance: <= 1.5x).
#
# The package volume is the kube-cross lock's amd64 packages (manifests/kube-cross.lock), or the
# static lock's when that is not there yet (said so in the output). They are fetched once from the
# real mirrors (the host's apt sources, or DEBCAST_MIRRORS) into a seed store that later runs reuse,
# then served from 127.0.0.1 by examples/fault_mirror.rs.
#
# Knobs (environment): RUNS (timed pairs, default 3), RATE (fault rate, default 0.2), FAULT_SEED,
# BENCH_DIR (work directory, default target/bench-fetch), FETCH_FLAGS (extra `debcast fetch`
# flags for both runs, default "--stall-timeout 2s": on loopback a clean file takes milliseconds,
# so the 30 s default stall timeout would measure the timeout, not debcast).
set -euo pipefail
shopt -s inherit_errexit
cd "$(dirname "$0")/.."

RUNS=${RUNS:-3}
RATE=${RATE:-0.2}
# The fault plan's seed: each pair after the first sees other faults anyway (the mirror keeps
# counting requests per path), FAULT_SEED gives a whole other sequence.
FAULT_SEED=${FAULT_SEED:-20260}
WORK=${BENCH_DIR:-target/bench-fetch}
FETCH_FLAGS=${FETCH_FLAGS:---stall-timeout 2s}
# MBPS=N: each mirror sends at most N MB/s in all (a mirror behind a link of that speed) instead
# of as fast as loopback goes; the same for the clean and the faulty mirror.
MBPS=${MBPS:-}

if [[ -f manifests/kube-cross.lock ]]; then
    NAME=kube-cross
else
    NAME=static
    echo "note: manifests/kube-cross.lock is not there yet; benchmarking manifests/static.lock's volume instead" >&2
fi

cargo build --release --locked --bin debcast --example fault_mirror >&2
DEBCAST=target/release/debcast
MIRROR=target/release/examples/fault_mirror

mkdir -p "$WORK"
"$MIRROR" subset "manifests/$NAME.toml" "manifests/$NAME.lock" linux/amd64 "$WORK"
SEED="$WORK/seed-store"
echo "seeding $SEED from the real mirrors (once; later runs reuse it)" >&2
"$DEBCAST" fetch "$WORK/bench.toml" --lockfile "$WORK/bench.lock" --cache-dir "$SEED" -q
mapfile -t ARCHIVES < <("$MIRROR" tree "$WORK/bench.lock" "$SEED" "$WORK/mirror")

PIDS=()
cleanup() {
    for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
}
trap cleanup EXIT

# Starts a mirror; sets URL.
start_mirror() { # rate seed status-file
    local out="$WORK/url.$2"
    rm -f "$out"
    FAULT_MIRROR_STATUS="$3" FAULT_MIRROR_MBPS="$MBPS" "$MIRROR" serve "$WORK/mirror" "$1" "$2" >"$out" &
    PIDS+=("$!")
    for _ in $(seq 100); do
        [[ -s "$out" ]] && break
        sleep 0.05
    done
    URL=$(head -n1 "$out")
    [[ -n "$URL" ]] || { echo "the mirror did not start" >&2; exit 1; }
}
start_mirror 0 0 "$WORK/status.clean"
CLEAN_URL=$URL
start_mirror "$RATE" "$FAULT_SEED" "$WORK/status.faulty"
FAULTY_URL=$URL

mirror_args() { # url
    for a in "${ARCHIVES[@]}"; do printf -- '--mirror\n%s=%s%s/\n' "$a" "$1" "$a"; done
}

# Times one fetch into an empty store; prints seconds.
timed_fetch() { # url label
    local store="$WORK/store.$2"
    rm -rf "$store"
    local args
    mapfile -t args < <(mirror_args "$1")
    local start=$EPOCHREALTIME
    # shellcheck disable=SC2086
    if ! "$DEBCAST" fetch "$WORK/bench.toml" --lockfile "$WORK/bench.lock" --cache-dir "$store" \
        "${args[@]}" $FETCH_FLAGS 2>"$WORK/fetch.$2.log"; then
        echo "bench: the $2 fetch failed (log below); no time is reported for it" >&2
        tail -20 "$WORK/fetch.$2.log" >&2
        exit 1
    fi
    local end=$EPOCHREALTIME
    # A fetch that stored fewer packages than the lock pins measured less than the whole job.
    local got
    got=$(find "$store/debs/sha256" -name '*.deb' 2>/dev/null | wc -l)
    if [ "$got" -ne "$FILES" ]; then
        echo "bench: the $2 fetch stored $got of $FILES packages; no time is reported for it" >&2
        exit 1
    fi
    grep -E '^fetched [0-9]+ package' "$WORK/fetch.$2.log" >&2 || true
    awk -v a="$start" -v b="$end" 'BEGIN { printf "%.3f\n", b - a }'
}

FILES=$(grep -c '^\[\[package\]\]' "$WORK/bench.lock") || true
[ "${FILES:-0}" -gt 0 ] || { echo "bench: $WORK/bench.lock pins no packages" >&2; exit 1; }
BYTES=$(awk -F' = ' '$1 == "size" { s += $2 } END { print s }' "$WORK/bench.lock")
echo "volume: $NAME amd64, $FILES packages, $BYTES bytes; $RUNS pairs; fault rate $RATE (seed $FAULT_SEED); flags: $FETCH_FLAGS; mirror speed: ${MBPS:-loopback} MB/s" >&2

CLEAN=()
FAULTY=()
for i in $(seq "$RUNS"); do
    # Assigned first, so a failed fetch stops the script (errexit sees the substitution's status).
    t=$(timed_fetch "$CLEAN_URL" clean)
    CLEAN+=("$t")
    t=$(timed_fetch "$FAULTY_URL" faulty)
    FAULTY+=("$t")
    echo "pair $i: clean ${CLEAN[-1]} s, faulted ${FAULTY[-1]} s" >&2
done

median() { printf '%s\n' "$@" | sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
C=$(median "${CLEAN[@]}")
F=$(median "${FAULTY[@]}")
read -r REQ FAULTS <"$WORK/status.faulty"
echo "faulted mirror: $FAULTS of $REQ requests faulted over all runs"
echo "fetch $NAME (amd64, $FILES packages, $BYTES bytes, mirror at ${MBPS:-loopback} MB/s): clean ${C} s, ${RATE} faults ${F} s (medians of $RUNS)"
awk -v c="$C" -v f="$F" 'BEGIN {
    r = f / c
    printf "ratio faulted/clean: %.2fx (acceptance: <= 1.5x) %s\n", r, (r <= 1.5 ? "PASS" : "FAIL")
}'
