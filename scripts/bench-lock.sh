#!/usr/bin/env bash
# Benchmark: `debcast lock` of manifests/kube-cross.toml with warm indices (`--update` forces a
# full resolution) next to `apt-get install -s` of the same amd64 package list, from an empty
# dpkg status, in a throw-away APT configuration over the same suites of the same mirror (its
# lists warm too). Prints both timings and the ratio.
#
# The mirror is this machine's: DEBCAST_MIRRORS (debian=URL,debian-security=URL) or the host's
# apt sources, as debcast itself picks them. Nothing host-specific is written to the repository.
set -euo pipefail
shopt -s inherit_errexit

cd "$(dirname "$0")/.."
MANIFEST=${MANIFEST:-manifests/kube-cross.toml}
RUNS=${RUNS:-10}
KEYRING=/usr/share/keyrings/debian-archive-keyring.gpg

command -v hyperfine >/dev/null || { echo "hyperfine is missing: apt-get install hyperfine" >&2; exit 1; }
command -v apt-get >/dev/null || { echo "apt-get is missing" >&2; exit 1; }

cargo build --release --locked
DEBCAST=$PWD/target/release/debcast

WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

# The mirror URI for an archive name: DEBCAST_MIRRORS first, else the host's apt sources (an URI
# whose last path component is the archive's name), as debcast resolves it.
mirror_for() {
    local archive=$1 item
    local mirrors=${DEBCAST_MIRRORS:-}
    for item in ${mirrors//,/ }; do
        if [[ $item == "$archive="* ]]; then echo "${item#*=}"; return; fi
    done
    { cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null | awk '$1 == "deb" { for (i = 2; i <= NF; i++) if ($i ~ /^[a-z]+:\/\//) { print $i; break } }'
      cat /etc/apt/sources.list.d/*.sources 2>/dev/null | awk '/^URIs:/ { for (i = 2; i <= NF; i++) print $i }'
    } | grep -E "/${archive}/?\$" | head -n1
}

# The manifest's sources and the amd64 package list, read with python's TOML parser.
read -r -d '' PY <<'PYEOF' || true
import sys, tomllib
m = tomllib.load(open(sys.argv[1], "rb"))
if sys.argv[2] == "sources":
    for s in m["source"]:
        for suite in s["suites"]:
            print(s["archive"], suite, " ".join(s["components"]))
else:
    p = m["packages"]
    names = p.get("include", []) + p.get("platform", {}).get("linux/" + sys.argv[3], {}).get("include", [])
    print(" ".join(names))
PYEOF

ARCH=amd64
: > "$WORK/sources.list"
while read -r archive suite components; do
    uri=$(mirror_for "$archive")
    [[ -n $uri ]] || { echo "no mirror for archive $archive (set DEBCAST_MIRRORS)" >&2; exit 1; }
    echo "deb [arch=$ARCH signed-by=$KEYRING] $uri $suite $components" >> "$WORK/sources.list"
done < <(python3 -c "$PY" "$MANIFEST" sources)
LIST=$(python3 -c "$PY" "$MANIFEST" packages "$ARCH")

mkdir -p "$WORK"/state/lists/partial "$WORK"/cache/archives/partial "$WORK"/etc/apt.conf.d \
    "$WORK"/etc/preferences.d "$WORK"/etc/sources.list.d "$WORK"/log
: > "$WORK/state/status"
cat > "$WORK/apt.conf" <<CONF
Dir::State "$WORK/state/";
Dir::State::status "$WORK/state/status";
Dir::Cache "$WORK/cache/";
Dir::Etc::SourceList "$WORK/sources.list";
Dir::Etc::SourceParts "$WORK/etc/sources.list.d";
Dir::Etc::main "/dev/null";
Dir::Etc::Parts "$WORK/etc/apt.conf.d";
Dir::Etc::Preferences "$WORK/etc/preferences";
Dir::Etc::PreferencesParts "$WORK/etc/preferences.d";
Dir::Log "$WORK/log";
APT::Architecture "$ARCH";
APT::Architectures { "$ARCH"; };
APT::Install-Recommends "false";
Debug::NoLocking "1";
Acquire::Languages "none";
CONF
export APT_CONFIG=$WORK/apt.conf

echo "== warming: apt-get update, debcast lock (indices into $WORK/store)"
apt-get -q update >/dev/null
"$DEBCAST" lock "$MANIFEST" --update --lockfile "$WORK/warm.lock" --cache-dir "$WORK/store" 2>"$WORK/warm.log" ||
    { echo "bench: debcast lock failed:" >&2; tail -20 "$WORK/warm.log" >&2; exit 1; }
# apt's binary caches (pkgcache.bin, srcpkgcache.bin) are built by the first run: warm them.
# shellcheck disable=SC2086
apt-get -s install $LIST >"$WORK/apt.log" 2>&1 ||
    { echo "bench: the reference apt-get -s install failed:" >&2; tail -20 "$WORK/apt.log" >&2; exit 1; }
# Both must have resolved something: a reference that installs nothing measures nothing.
LOCKED=$(grep -c '^\[\[package\]\]' "$WORK/warm.lock") || true
INST=$(grep -c '^Inst ' "$WORK/apt.log") || true
[ "${LOCKED:-0}" -gt 0 ] || { echo "bench: debcast lock pinned no packages" >&2; exit 1; }
[ "${INST:-0}" -gt 0 ] || { echo "bench: apt-get -s install would install nothing:" >&2; tail -20 "$WORK/apt.log" >&2; exit 1; }
echo "== resolved: debcast $LOCKED packages (all platforms), apt-get $INST (amd64)"

LOCK_CMD="$DEBCAST lock $MANIFEST --update --lockfile $WORK/bench.lock --cache-dir $WORK/store"
APT_CMD="apt-get -s install $LIST"

echo "== $(nproc) CPUs, $(date -u +%Y-%m-%dT%H:%MZ), $MANIFEST ($ARCH list: $(wc -w <<<"$LIST") names)"
hyperfine --warmup 1 --runs "$RUNS" --export-json "$WORK/bench.json" \
    -n "debcast lock --update (2 platforms)" "$LOCK_CMD" \
    -n "apt-get install -s (amd64)" "$APT_CMD"

python3 - "$WORK/bench.json" <<'PYEOF'
import json, sys
r = json.load(open(sys.argv[1]))["results"]
lock, apt = r[0], r[1]
print(f"debcast lock: {lock['mean']:.3f} s ± {lock['stddev']:.3f}  (median {lock['median']:.3f})")
print(f"apt-get -s:   {apt['mean']:.3f} s ± {apt['stddev']:.3f}  (median {apt['median']:.3f})")
print(f"ratio debcast/apt (mean): {lock['mean'] / apt['mean']:.2f}")
PYEOF
