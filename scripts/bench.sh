#!/usr/bin/env bash
# Build benchmark (`just bench`): debcast's build of one platform of a manifest, with every .deb
# already in the store, next to two reference pipelines measured in the same run:
#   (a) `dpkg-deb --fsys-tarfile` over all the .debs on 2 processes, then `pigz -p2`;
#   (b) mmdebstrap installing what apt would for a Debian-based image with those packages: its
#       default variant (the Essential set, Priority required and important, as debootstrap)
#       plus the image's package list, into a tar (apt and dpkg in a chroot, the image's .debs
#       pre-seeded into apt's cache from the store, indices and the rest from the host's apt
#       sources), then `pigz -p2`.
# Prints cold gzip, cold zstd, no-op rebuild, rebuild after one package changed, peak RSS, and
# every time as a ratio to (a).
#
# A reference that fails, or whose output is not a gzip tarball with files in it, stops the
# benchmark with a non-zero exit: a ratio against nothing is not printed.
#
# Usage: scripts/bench.sh [MANIFEST] [PLATFORM]
#   MANIFEST  default manifests/kube-cross.toml (its .lock beside it)
#   PLATFORM  default linux/amd64
#   DEBCAST_CACHE_DIR  the store (default vendor); DEBCAST_BIN the binary (default the release one)
#   SKIP_MMDEBSTRAP=1  leaves (b) out (said in the output); without it, a missing mmdebstrap or
#                      mirror is an error.
#   MMDEBSTRAP_VARIANT (b)'s variant (default debootstrap, mmdebstrap's default).
#   BENCH_REF_A, BENCH_REF_B  replace a reference's pipeline by this bash command, which must
#                      write a gzip tarball to "$out" (the tests use it to check that a reference
#                      producing nothing fails the benchmark).
set -euo pipefail
shopt -s inherit_errexit

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
    [ -s "$work/$out/index.json" ] || { echo "bench: $name wrote no image layout at $work/$out" >&2; exit 1; }
}

# A private store holding the same .debs (hard links), the locked artifacts and the signed
# Releases and indices the lock proof reads, so the layer cache starts empty.
mkdir -p "$work/store/debs/sha256" "$work/store/artifacts/sha256"
while read -r deb; do ln -f "$deb" "$work/store/debs/sha256/" 2>/dev/null || cp "$deb" "$work/store/debs/sha256/"; done <"$work/debs.txt"
for sub in releases indices; do
    [ -d "$store/$sub" ] && cp -r "$store/$sub" "$work/store/"
done
python3 - "$lock" "$platform" >"$work/artifacts.txt" <<'PY'
import sys, tomllib
lock = tomllib.load(open(sys.argv[1], "rb"))
for a in lock.get("artifact", []):
    if a["platform"] == sys.argv[2]:
        print(a["sha256"], a["name"], a["url"])
PY
while read -r asha aname aurl; do
    [ -f "$store/artifacts/sha256/$asha" ] || { echo "bench: artifact $aname ($aurl) is not in $store: run debcast fetch $manifest first (with --artifact-mirror PREFIX=URL where its host is unreachable)" >&2; exit 1; }
    cp "$store/artifacts/sha256/$asha" "$work/store/artifacts/sha256/"
done <"$work/artifacts.txt"

# Warm the page cache so every contender reads the .debs from memory.
cat $(cat "$work/debs.txt") >/dev/null

# A reference pipeline, measured: bash -c with errexit and pipefail (a failure anywhere in the
# pipe fails it), then its output "$out" must be a gzip tarball with at least one file in it.
reference() { # NAME COMMAND
    local name=$1 cmd=$2
    export out="$work/$name.tar.gz"
    rm -f "$out"
    if ! /usr/bin/time -f '%e %M' -o "$work/$name.time" bash -c "set -euo pipefail; $cmd" >"$work/$name.log" 2>&1; then
        echo "bench: reference $name failed (log below); no ratio against it is printed" >&2
        tail -20 "$work/$name.log" >&2
        exit 1
    fi
    local entries=0
    if [ -s "$out" ] && gzip -t "$out" 2>/dev/null; then
        # -i: (a) is several tars concatenated; tar's status does not matter here (it may stop
        # reading early and leave gzip a broken pipe), the count of entries does.
        entries=$( { gzip -dc "$out" | tar -ti 2>/dev/null || true; } | wc -l)
    fi
    if [ "$entries" -eq 0 ]; then
        echo "bench: reference $name produced nothing usable ($out: $(stat -c %s "$out" 2>/dev/null || echo no) bytes, $entries entries); no ratio against it is printed" >&2
        tail -20 "$work/$name.log" >&2
        exit 1
    fi
    read -r secs rss <"$work/$name.time"
    eval "t_$name=$secs; rss_$name=$rss"
}

# (a)
ref_a_default='mkdir -p "$work/a"
xargs -P2 -I{} sh -c '"'"'dpkg-deb --fsys-tarfile "$1" >"$2/a/$(basename "$1").tar"'"'"' sh {} "$work" <"$work/debs.txt"
cat "$work"/a/*.tar | pigz -p2 >"$out"
rm -rf "$work/a"'
export work
reference ref_a "${BENCH_REF_A:-$ref_a_default}"
unpacked=$(gzip -l "$work/ref_a.tar.gz" | awk 'NR==2 {print $2}')

# (b)
t_ref_b=""
if [ -n "${BENCH_REF_B:-}" ]; then
    reference ref_b "$BENCH_REF_B"
elif [ "${SKIP_MMDEBSTRAP:-}" = 1 ]; then
    echo "bench: SKIP_MMDEBSTRAP=1: reference (b) left out" >&2
else
    command -v mmdebstrap >/dev/null || { echo "bench: needs mmdebstrap for (b) (apt-get install mmdebstrap, or SKIP_MMDEBSTRAP=1)" >&2; exit 1; }
    suite=$(python3 -c 'import sys,tomllib; print(tomllib.load(open(sys.argv[1],"rb"))["source"][0]["suites"][0])' "$manifest")
    # Mirrors from the host's apt sources (never written down here): the URI ending in /debian.
    uri=$(grep -rhoE '(https?|file)://[^ ]*/debian/?( |$)' /etc/apt/sources.list /etc/apt/sources.list.d/ 2>/dev/null | head -1 | tr -d ' ' || true)
    uri=${uri%/}
    [ -n "$uri" ] || { echo "bench: (b) needs a Debian mirror in the host's apt sources (or SKIP_MMDEBSTRAP=1)" >&2; exit 1; }
    mkdir -p "$work/apt-cache"
    while IFS=$'\t' read -r n v a s _; do
        ln -f "$store/debs/sha256/$s.deb" "$work/apt-cache/${n}_${v//:/%3a}_${a}.deb" 2>/dev/null ||
            cp "$store/debs/sha256/$s.deb" "$work/apt-cache/${n}_${v//:/%3a}_${a}.deb"
    done <"$work/packages.tsv"
    pkgs=$(cut -f1 "$work/packages.tsv" | paste -sd,)
    variant=${MMDEBSTRAP_VARIANT:-debootstrap}
    export arch pkgs uri suite variant
    reference ref_b 'mmdebstrap --quiet --mode=root --variant="$variant" --architectures="$arch" --include="$pkgs" \
        --setup-hook='"'"'mkdir -p "$1"/var/cache/apt/archives'"'"' \
        --setup-hook="sync-in $work/apt-cache /var/cache/apt/archives/" \
        --skip=download/empty --skip=cleanup/apt \
        "$suite" - "deb $uri $suite main" "deb $uri $suite-updates main" "deb ${uri}-security $suite-security main" |
        pigz -p2 >"$out"'
fi

build cold_gzip cold-gzip --compression gzip
build noop noop --compression gzip
build cold_zstd cold-zstd --compression zstd

# One package changed: a lock in which one package moves to another version that a signed index
# of the lock's Releases lists (a lock entry no signed index lists is refused, so no repacked
# .deb will do). Candidates come from the store's verified indices, smallest first; the first
# whose lock passes debcast's proof and fetches is used. The gzip layers are cached.
python3 - "$lock" "$platform" "$store" >"$work/candidates.tsv" <<'PY'
import os, re, sys, tomllib
lock_path, plat, store = sys.argv[1:]
lock = tomllib.load(open(lock_path, "rb"))
locked = {(p["name"], p["architecture"]): p for p in lock["package"] if p["platform"] == plat}
arches = {p["architecture"] for p in locked.values()}
releases = os.path.join(store, "releases/sha256")
# The index files of the Releases the lock names (or of the Release that stands in for one a
# mirror no longer serves), as that Release lists them: store/indices/sha256/<hash>.
wanted = {}
for r in lock.get("release", []):
    sha = r.get("sha256", "")
    stand_in = os.path.join(releases, sha + ".stand-in")
    if os.path.exists(stand_in):
        sha = open(stand_in).read().strip()
    for name in (sha + ".InRelease", sha + ".Release"):
        path = os.path.join(releases, name)
        if os.path.exists(path):
            text = open(path, encoding="utf-8").read()
            section = re.search(r"^SHA256:\n((?: .*\n?)*)", text, re.M)
            for line in (section.group(1).splitlines() if section else []):
                digest, _, index = line.split()
                if any(index.endswith(f"/binary-{a}/Packages") for a in arches):
                    wanted[digest] = r["archive"]
seen, out = set(), []
for digest, archive in sorted(wanted.items()):
    try:
        text = open(os.path.join(store, "indices/sha256", digest), encoding="utf-8").read()
    except (UnicodeDecodeError, OSError):
        continue
    for stanza in text.split("\n\n"):
        fields = dict(re.findall(r"^([A-Za-z0-9-]+): (.*)$", stanza, re.M))
        p = locked.get((fields.get("Package"), fields.get("Architecture")))
        if not p or fields.get("Version") in (None, p["version"]) or "SHA256" not in fields:
            continue
        row = (int(fields["Size"]), p["name"], fields["Version"], archive, fields["Filename"], fields["SHA256"])
        if row not in seen:
            seen.add(row)
            out.append(row)
for size, name, version, archive, filename, sha in sorted(out)[:10]:
    print(name, version, archive, filename, size, sha, sep="\t")
PY
changed=""
while IFS=$'\t' read -r cname cver carchive cpath csize csha; do
    python3 - "$lock" "$work/one-changed.lock" "$platform" "$cname" "$cver" "$carchive" "$cpath" "$csize" "$csha" <<'PY'
import sys, re
src, dst, plat, name, ver, archive, path, size, sha = sys.argv[1:]
blocks = open(src).read().split("\n[[package]]\n")
for i, b in enumerate(blocks):
    if f'platform = "{plat}"\n' in b and f'\nname = "{name}"\n' in b:
        b = re.sub(r'\nversion = ".*"', f'\nversion = "{ver}"', b)
        b = re.sub(r'\narchive = ".*"', f'\narchive = "{archive}"', b)
        b = re.sub(r'\npath = ".*"', f'\npath = "{path}"', b)
        b = re.sub(r'\nsha256 = ".*"', f'\nsha256 = "{sha}"', b)
        b = re.sub(r'\nsize = \d+', f'\nsize = {size}', b)
        blocks[i] = b
open(dst, "w").write("\n[[package]]\n".join(blocks))
PY
    if "$bin" -q fetch "$manifest" --lockfile "$work/one-changed.lock" --cache-dir "$work/store" \
        >"$work/one-changed-fetch.log" 2>&1; then
        changed="$cname ($cver)"
        break
    fi
done <"$work/candidates.tsv"
[ -n "$changed" ] || { echo "bench: no package of the lock has another version its signed indices list and a mirror serves:" >&2
    cat "$work/one-changed-fetch.log" >&2 2>/dev/null; exit 1; }
build one_changed one-changed --compression gzip --lockfile "$work/one-changed.lock"

ratio() { python3 -c "print(f'{float($1)/float($2):.2f}x')"; }
cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')
echo "machine: $(nproc) cores, $cpu, $(free -g | awk '/Mem:/ {print $2}') GiB RAM, $(uname -r)"
echo "image: $manifest $platform, $count packages, $((deb_bytes >> 20)) MiB of .deb, $((unpacked >> 20)) MiB unpacked (tar)"
printf '%-44s %9s %9s %10s\n' "" seconds "vs (a)" "peak RSS"
row() { printf '%-44s %9s %9s %10s\n' "$1" "$2" "$(ratio "$2" "$t_ref_a")" "$(( $3 / 1024 )) MB"; }
row "(a) dpkg-deb --fsys-tarfile x2 | pigz -p2" "$t_ref_a" "$rss_ref_a"
if [ -n "$t_ref_b" ]; then row "(b) $(if [ -n "${variant:-}" ]; then echo "mmdebstrap $variant + packages | pigz -p2"; else echo BENCH_REF_B; fi)" "$t_ref_b" "$rss_ref_b"; else echo "(b) not measured (SKIP_MMDEBSTRAP=1)"; fi
row "debcast cold build, gzip" "$t_cold_gzip" "$rss_cold_gzip"
row "debcast cold build, zstd" "$t_cold_zstd" "$rss_cold_zstd"
row "debcast no-op rebuild (gzip)" "$t_noop" "$rss_noop"
row "debcast rebuild, $changed changed (gzip)" "$t_one_changed" "$rss_one_changed"
echo "layers written: $(ls "$work/cold-gzip/blobs/sha256" | wc -l) blobs in the gzip layout; $(du -sm "$work/cold-gzip" | cut -f1) MB gzip, $(du -sm "$work/cold-zstd" | cut -f1) MB zstd"
# What the references produced, to see they did the whole job: (a) the packages' data, (b) the
# installed system (more: maintainer scripts' files, apt's lists; less: nothing).
echo "reference outputs: (a) $(( $(stat -c %s "$work/ref_a.tar.gz") >> 20 )) MB gzip, $((unpacked >> 20)) MiB tar${t_ref_b:+; (b) $(( $(stat -c %s "$work/ref_b.tar.gz") >> 20 )) MB gzip, $(( $(gzip -l "$work/ref_b.tar.gz" | awk 'NR==2 {print $2}') >> 20 )) MiB tar}"
