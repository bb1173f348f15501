#!/usr/bin/env bash
# Remote cache benchmark (`just bench-remote`): one platform of a manifest built
#   (cold)  from a store holding only the inputs (.debs, artifacts, signed Releases, indices),
#           layer cache empty, no remote cache: everything decoded and compressed;
#   (warm)  by a "second CI runner": an EMPTY local store, a `docker-registry` on 127.0.0.1 that
#           a first runner filled (`--remote-cache`), and every Debian mirror pointing at a dead
#           port: the build succeeds only if the registry gives everything, and its report must
#           say 0 bytes from mirrors, 0 layers compressed;
# side by side in one run; prints both times, the ratio cold/warm, and checks the two images
# are byte-identical.
#
# Usage: scripts/bench-remote.sh [MANIFEST] [PLATFORM]
#   MANIFEST  default manifests/kube-cross.toml (its .lock beside it, or LOCKFILE=…)
#   PLATFORM  default linux/amd64
#   DEBCAST_CACHE_DIR  the store holding the inputs (default vendor; `debcast fetch` fills it)
#   DEBCAST_BIN        default ./target/release/debcast
set -euo pipefail

manifest=${1:-manifests/kube-cross.toml}
platform=${2:-linux/amd64}
store=${DEBCAST_CACHE_DIR:-vendor}
bin=${DEBCAST_BIN:-./target/release/debcast}
lock=${LOCKFILE:-${manifest%.toml}.lock}

for tool in docker-registry python3 /usr/bin/time; do
    command -v "$tool" >/dev/null || { echo "bench-remote: needs $tool (apt-get install docker-registry time)" >&2; exit 1; }
done
[ -x "$bin" ] || { echo "bench-remote: build $bin first (cargo build --release)" >&2; exit 1; }

work=$(mktemp -d "${TMPDIR:-/tmp}/debcast-bench-remote.XXXXXX")
registry_pid=
cleanup() {
    # The registry's own status (143 after SIGTERM) is not the benchmark's: never let it exit.
    if [ -n "$registry_pid" ]; then
        kill "$registry_pid" 2>/dev/null || true
        wait "$registry_pid" 2>/dev/null || true
    fi
    rm -rf "$work"
}
trap cleanup EXIT

# The platform's .debs and artifacts must be in the store.
python3 - "$lock" "$platform" "$store" >"$work/inputs.txt" <<'PY'
import os, sys, tomllib
lock_path, plat, store = sys.argv[1:]
lock = tomllib.load(open(lock_path, "rb"))
for p in lock["package"]:
    if p["platform"] == plat:
        print(os.path.join(store, "debs/sha256", p["sha256"] + ".deb"), p["size"])
for a in lock.get("artifact", []):
    if a["platform"] == plat:
        print(os.path.join(store, "artifacts/sha256", a["sha256"]), a.get("size", 0))
PY
bytes=0
while read -r path size; do
    [ -f "$path" ] || { echo "bench-remote: $path missing: run debcast fetch $manifest first" >&2; exit 1; }
    bytes=$((bytes + size))
done <"$work/inputs.txt"

# A private input store (hard links where possible) with an empty layer cache.
mkdir -p "$work/inputs/debs/sha256" "$work/inputs/artifacts/sha256"
while read -r path size; do
    sub=$(basename "$(dirname "$(dirname "$path")")")
    ln -f "$path" "$work/inputs/$sub/sha256/" 2>/dev/null || cp "$path" "$work/inputs/$sub/sha256/"
done <"$work/inputs.txt"
for sub in releases indices; do
    [ -d "$store/$sub" ] && cp -r "$store/$sub" "$work/inputs/"
done

# The registry.
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cat >"$work/registry.yml" <<EOF
version: 0.1
log:
  level: error
storage:
  filesystem:
    rootdirectory: $work/registry
http:
  addr: 127.0.0.1:$port
EOF
docker-registry serve "$work/registry.yml" >"$work/registry.log" 2>&1 &
registry_pid=$!
for _ in $(seq 100); do
    python3 -c "import socket; socket.create_connection(('127.0.0.1', $port), 0.2)" 2>/dev/null && break
    sleep 0.1
done
cache="http://127.0.0.1:$port/bench/debcast-cache"

# Every archive of the manifest on a dead port, for the warm runner.
dead=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
mirrors=()
for archive in $(python3 -c 'import sys, tomllib; print(" ".join({s["archive"] for s in tomllib.load(open(sys.argv[1], "rb"))["source"]}))' "$manifest"); do
    mirrors+=(--mirror "$archive=http://127.0.0.1:$dead/")
done

measure() { # NAME CMD…: wall seconds and peak RSS (KiB)
    local name=$1; shift
    /usr/bin/time -f '%e %M' -o "$work/$name.time" "$@" >"$work/$name.log" 2>&1 || {
        echo "bench-remote: $name failed:" >&2; cat "$work/$name.log" >&2; exit 1; }
    read -r secs rss <"$work/$name.time"
    eval "t_$name=$secs; rss_$name=$rss"
}

common=(build "$manifest" --lockfile "$lock" --platform "$platform" --compression gzip)

# Cold: inputs only, no remote cache, nothing on the network.
cp -al "$work/inputs" "$work/cold-store" 2>/dev/null || cp -r "$work/inputs" "$work/cold-store"
measure cold "$bin" "${common[@]}" --offline --cache-dir "$work/cold-store" --output "$work/cold" \
    --report "$work/cold.json"

# The first runner fills the registry (its store: the inputs; mirrors dead, so online only for the
# registry). Not part of the comparison; timed for information.
cp -al "$work/inputs" "$work/fill-store" 2>/dev/null || cp -r "$work/inputs" "$work/fill-store"
measure fill "$bin" "${common[@]}" "${mirrors[@]}" --cache-dir "$work/fill-store" --output "$work/fill" \
    --remote-cache "$cache" --report "$work/fill.json"
rm -rf "$work/fill-store" "$work/fill"

# Warm: the second runner, empty local store, mirrors dead.
measure warm "$bin" "${common[@]}" "${mirrors[@]}" --cache-dir "$work/warm-store" --output "$work/warm" \
    --remote-cache "$cache" --remote-cache-mode read --report "$work/warm.json"

cmp -s "$work/cold/index.json" "$work/warm/index.json" || { echo "bench-remote: the images differ" >&2; exit 1; }
python3 - "$work/warm.json" <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))["counts"]
assert c["bytes_from_mirrors"] == 0, c
assert c["layers_compressed"] == 0, c
print("warm report:", ", ".join(f"{k}={v}" for k, v in sorted(c.items())))
PY
ratio=$(python3 -c "print(f'{$t_cold / $t_warm:.1f}')")
cat <<EOF
manifest $manifest ($platform), $(wc -l <"$work/inputs.txt") inputs, $((bytes / 1048576)) MiB; $(nproc) CPUs
| build | wall s | peak RSS |
| --- | ---: | ---: |
| cold (inputs in the store, layer cache empty, no registry) | $t_cold | $((rss_cold / 1024)) MB |
| fill (first runner: build + push to the registry) | $t_fill | $((rss_fill / 1024)) MB |
| warm (empty store, registry filled, mirrors dead) | $t_warm | $((rss_warm / 1024)) MB |
cold / warm = ${ratio}x (the same index.json)
EOF
