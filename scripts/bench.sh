#!/usr/bin/env bash
# Build benchmark (`just bench`): debcast's build of one platform of a manifest, with every .deb
# already in the store, next to two reference pipelines measured in the same run:
#   (a) `dpkg-deb --fsys-tarfile` over all the .debs on 2 processes, then `pigz -p2`;
#   (b) mmdebstrap installing the same package list into a tar (apt and dpkg in a chroot, .debs
#       pre-seeded into apt's cache from the store, indices from the host's apt sources), then
#       `pigz -p2`.
# Prints cold gzip, cold zstd, no-op rebuild, rebuild after one package changed, peak RSS, and
# every time as a ratio to (a).
#
# Usage: scripts/bench.sh [MANIFEST] [PLATFORM]
#   MANIFEST  default manifests/kube-cross.toml (its .lock beside it)
#   PLATFORM  default linux/amd64
#   DEBCAST_CACHE_DIR  the store (default vendor); SKIP_MMDEBSTRAP=1 skips (b).
set -euo pipefail

manifest=${1:-manifests/kube-cross.toml}
platform=${2:-linux/amd64}
store=${DEBCAST_CACHE_DIR:-vendor}
bin=${DEBCAST_BIN:-./target/release/debcast}
lock=${manifest%.toml}.lock
arch=${platform#*/}

for tool in pigz dpkg-deb python3 /usr/bin/time; do
    command -v "$tool" >/dev/null || { echo "bench: needs $tool (apt-get install pigz time)" >&2; exit 1; }
done
[ -x "$bin" ] || { echo "bench: build $bin first (just build)" >&2; exit 1; }

work=$(mktemp -d "${TMPDIR:-/tmp}/debcast-bench.XXXXXX")
trap 'rm -rf "$work"' EXIT

# The platform's packages: name, version, architecture, sha256, size.
python3 - "$lock" "$platform" >"$work/packages.tsv" <<'PY'
import sys, tomllib
lock = tomllib.load(open(sys.argv[1], "rb"))
for p in lock["package"]:
    if p["platform"] == sys.argv[2]:
        print(p["name"], p["version"], p["architecture"], p["sha256"], p["size"], sep="\t")
PY
count=$(wc -l <"$work/packages.tsv")
deb_bytes=$(awk -F'\t' '{s+=$5} END {print s}' "$work/packages.tsv")
cut -f4 "$work/packages.tsv" | sed "s#^#$store/debs/sha256/#; s#\$#.deb#" >"$work/debs.txt"
while read -r deb; do
    [ -f "$deb" ] || { echo "bench: $deb missing: run debcast fetch $manifest first" >&2; exit 1; }
done <"$work/debs.txt"

# Seconds (wall) and peak RSS (KiB) of a command, via GNU time.
measure() {
    local name=$1; shift
    /usr/bin/time -f '%e %M' -o "$work/$name.time" "$@" >"$work/$name.log" 2>&1 || {
        echo "bench: $name failed:" >&2; cat "$work/$name.log" >&2; exit 1; }
    read -r secs rss <"$work/$name.time"
    eval "t_$name=$secs; rss_$name=$rss"
}

build() { # NAME OUT [ARGS…]: a measured debcast build
    local name=$1 out=$2; shift 2
    measure "$name" "$bin" -q build "$manifest" --offline --cache-dir "$work/store" --platform "$platform" \
        --output "$work/$out" "$@"
}

# A private store holding the same .debs (hard links), so the layer cache starts empty.
mkdir -p "$work/store/debs/sha256"
while read -r deb; do ln -f "$deb" "$work/store/debs/sha256/" 2>/dev/null || cp "$deb" "$work/store/debs/sha256/"; done <"$work/debs.txt"

# Warm the page cache so every contender reads the .debs from memory.
cat $(cat "$work/debs.txt") >/dev/null

# (a)
ref_a() {
    mkdir -p "$work/a"
    xargs -P2 -I{} sh -c 'dpkg-deb --fsys-tarfile "$1" >"$2/a/$(basename "$1").tar"' sh {} "$work" <"$work/debs.txt"
    cat "$work"/a/*.tar | pigz -p2 >"$work/a.tar.gz"
    rm -rf "$work/a"
}
export -f ref_a; export work
measure ref_a bash -c ref_a
unpacked=$(gzip -l "$work/a.tar.gz" | awk 'NR==2 {print $2}')

build cold_gzip cold-gzip --compression gzip
build noop noop --compression gzip
build cold_zstd cold-zstd --compression zstd

# One package changed: a copy of a small package with its version bumped (rebuilt with dpkg-deb,
# put in the store under its hash) and a lock pointing at it; the gzip layers are cached.
changed=$(awk -F'\t' '$1=="patch"||$1=="netbase"||$1=="tzdata" {print $1; exit}' "$work/packages.tsv")
[ -n "$changed" ] || changed=$(awk -F'\t' 'NR==int(NR/2)*2 {print $1; exit}' "$work/packages.tsv")
IFS=$'\t' read -r _ cver carch csha _ < <(awk -F'\t' -v n="$changed" '$1==n' "$work/packages.tsv")
mkdir -p "$work/repack"
dpkg-deb -R "$store/debs/sha256/$csha.deb" "$work/repack/root"
sed -i "s/^Version: .*/Version: $cver+bench1/" "$work/repack/root/DEBIAN/control"
dpkg-deb -Zxz -b "$work/repack/root" "$work/repack/new.deb" >/dev/null
nsha=$(sha256sum "$work/repack/new.deb" | cut -d' ' -f1)
nsize=$(stat -c %s "$work/repack/new.deb")
cp "$work/repack/new.deb" "$work/store/debs/sha256/$nsha.deb"
mkdir -p "$work/m2"
cp "$manifest" "$work/m2/"
python3 - "$lock" "$work/m2/$(basename "$lock")" "$platform" "$changed" "$cver+bench1" "$nsha" "$nsize" <<'PY'
import sys, re
src, dst, plat, name, ver, sha, size = sys.argv[1:]
blocks = open(src).read().split("\n[[package]]\n")
for i, b in enumerate(blocks):
    if f'platform = "{plat}"\n' in b and f'\nname = "{name}"\n' in b:
        b = re.sub(r'\nversion = ".*"', f'\nversion = "{ver}"', b)
        b = re.sub(r'\nsha256 = ".*"', f'\nsha256 = "{sha}"', b)
        b = re.sub(r'\nsize = \d+', f'\nsize = {size}', b)
        blocks[i] = b
open(dst, "w").write("\n[[package]]\n".join(blocks))
PY
manifest_orig=$manifest
manifest="$work/m2/$(basename "$manifest")"
build one_changed one-changed --compression gzip
manifest=$manifest_orig

# (b)
t_ref_b=""
if [ "${SKIP_MMDEBSTRAP:-}" != 1 ] && command -v mmdebstrap >/dev/null; then
    suite=$(python3 -c 'import sys,tomllib; print(tomllib.load(open(sys.argv[1],"rb"))["source"][0]["suites"][0])' "$manifest")
    # Mirrors from the host's apt sources (never written down here): the URI ending in /debian.
    uri=$(grep -rhoE '(https?|file)://[^ ]*/debian/?( |$)' /etc/apt/sources.list /etc/apt/sources.list.d/ 2>/dev/null | head -1 | tr -d ' ' || true)
    uri=${uri%/}
    if [ -n "$uri" ]; then
        mkdir -p "$work/apt-cache"
        while IFS=$'\t' read -r n v a s _; do
            ln -f "$store/debs/sha256/$s.deb" "$work/apt-cache/${n}_${v//:/%3a}_${a}.deb" 2>/dev/null || true
        done <"$work/packages.tsv"
        pkgs=$(cut -f1 "$work/packages.tsv" | paste -sd,)
        ref_b() {
            mmdebstrap --quiet --mode=root --variant=custom --architectures="$arch" --include="$pkgs" \
                --setup-hook='mkdir -p "$1"/var/cache/apt/archives' \
                --setup-hook="sync-in $work/apt-cache /var/cache/apt/archives/" \
                --skip=download/empty --skip=cleanup/apt \
                "$suite" - "deb $uri $suite main" "deb ${uri}-security $suite-security main" |
                pigz -p2 >"$work/b.tar.gz"
        }
        export -f ref_b; export arch pkgs uri suite
        if /usr/bin/time -f '%e %M' -o "$work/ref_b.time" bash -c ref_b >"$work/ref_b.log" 2>&1; then
            read -r t_ref_b rss_ref_b <"$work/ref_b.time"
        else
            echo "bench: (b) mmdebstrap failed (log below); reported as missing" >&2
            tail -5 "$work/ref_b.log" >&2
        fi
    fi
fi

ratio() { python3 -c "print(f'{float($1)/float($2):.2f}x')"; }
cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')
echo "machine: $(nproc) cores, $cpu, $(free -g | awk '/Mem:/ {print $2}') GiB RAM, $(uname -r)"
echo "image: $manifest $platform, $count packages, $((deb_bytes >> 20)) MiB of .deb, $((unpacked >> 20)) MiB unpacked (tar)"
printf '%-44s %9s %9s %10s\n' "" seconds "vs (a)" "peak RSS"
row() { printf '%-44s %9s %9s %10s\n' "$1" "$2" "$(ratio "$2" "$t_ref_a")" "$(( $3 / 1024 )) MB"; }
row "(a) dpkg-deb --fsys-tarfile x2 | pigz -p2" "$t_ref_a" "$rss_ref_a"
[ -n "$t_ref_b" ] && row "(b) mmdebstrap | pigz -p2" "$t_ref_b" "$rss_ref_b"
row "debcast cold build, gzip" "$t_cold_gzip" "$rss_cold_gzip"
row "debcast cold build, zstd" "$t_cold_zstd" "$rss_cold_zstd"
row "debcast no-op rebuild (gzip)" "$t_noop" "$rss_noop"
row "debcast rebuild, $changed changed (gzip)" "$t_one_changed" "$rss_one_changed"
echo "layers written: $(ls "$work/cold-gzip/blobs/sha256" | wc -l) blobs in the gzip layout; $(du -sm "$work/cold-gzip" | cut -f1) MB gzip, $(du -sm "$work/cold-zstd" | cut -f1) MB zstd"
# What the references produced, to see they did the whole job: (a) the packages' data, (b) the
# installed system (more: maintainer scripts' files, apt's lists; less: nothing).
echo "reference outputs: (a) $(( $(stat -c %s "$work/a.tar.gz") >> 20 )) MB gzip, $((unpacked >> 20)) MiB tar${t_ref_b:+; (b) $(( $(stat -c %s "$work/b.tar.gz") >> 20 )) MB gzip, $(( $(gzip -l "$work/b.tar.gz" | awk 'NR==2 {print $2}') >> 20 )) MiB tar}"
