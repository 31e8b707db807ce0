#!/usr/bin/env bash
# bench/ebpf-pinned.sh: the eBPF tracer's cost on the open/read/close loop, steadier than
# a best-of: the loop pinned to CPU 0 and the tracer's reader to CPU 1, untraced and
# traced rounds interleaved, the median of the per-round ratios reported. Give other
# builds' roar-ebpfdump binaries to compare a change against the one before it in the
# same rounds, their order rotating (a ratio moves by ±0.03 between batches on this VM;
# pairs in one batch compare). Needs root and two CPUs.
#   bench/ebpf-pinned.sh [DUMP...]   (default: this build's roar-ebpfdump)
# Env: ROAR_BUILD_DIR (default build/), ROUNDS (default 15), N (iterations, default 2e5).
# Rows: the tracepoint alone (`-E`: an empty system call program) and each DUMP. The
# reader is roar-ebpfdump, not `git roar run`: no hashing of inputs beside the loop.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
build=$(cd "${ROAR_BUILD_DIR:-$here/../build}" && pwd)
ROUNDS=${ROUNDS:-15}
N=${N:-200000}
micro="$build/bench/micro_openloop"
dumps=("$@")
[ ${#dumps[@]} -gt 0 ] || dumps=("$build/tests/trace/roar-ebpfdump")

[ -x "$micro" ] || { echo "bench/ebpf-pinned.sh: build the tree first" >&2; exit 1; }
command -v taskset >/dev/null || { echo "bench/ebpf-pinned.sh: needs taskset" >&2; exit 1; }
[ "$(nproc)" -ge 2 ] || { echo "bench/ebpf-pinned.sh: needs two CPUs" >&2; exit 1; }
for i in "${!dumps[@]}"; do
    d=$(realpath "${dumps[$i]}")
    dumps[$i]=$d
    if ! why=$("$d" -q -- true 2>&1); then
        echo "bench/ebpf-pinned.sh: $d cannot run here: $why" >&2
        exit 1
    fi
done

. "$here/lib.sh"
scratch=$(mktemp -d "${TMPDIR:-/tmp}/roar-bench-pinned.XXXXXX")
trap 'rm -rf "$scratch"' EXIT
cd "$scratch"
printf 'a small input file\n' >small.txt

loop() { taskset -c 0 "$micro" small.txt "$N" | cut -d' ' -f2; }
traced() { # dump [flag]: the loop's cpu ns per iteration under that reader
    local ns
    ns=$(taskset -c 1 "$@" -q -- taskset -c 0 "$micro" small.txt "$N" 2>/dev/null |
        head -n 1 | cut -d' ' -f2)
    [ -n "$ns" ] || { echo "bench/ebpf-pinned.sh: $* failed" >&2; exit 1; }
    echo "$ns"
}
# one line per round and row: "row cpu_ns untraced_cpu_ns". The dumps' order rotates
# from round to round: a run's place in the round moves its number (the first after
# the floor row came out ~0.015 lower here).
n=${#dumps[@]}
for r in $(seq "$ROUNDS"); do
    u=$(loop)
    echo "untraced $u $u"
    echo "floor $(traced "${dumps[0]}" -E) $u"
    for k in $(seq 0 $((n - 1))); do
        i=$(((k + r) % n))
        echo "dump$((i + 1)) $(traced "${dumps[$i]}") $u"
    done
done >rounds

row() { # key label
    printf '| %-44s | %8s | %6s |\n' "$2" \
        "$(awk -v k="$1" '$1 == k { print $2 }' rounds | median)" \
        "$(awk -v k="$1" '$1 == k { printf "%.4f\n", $2 / $3 }' rounds | median |
            awk '{ printf "%.3f", $1 }')"
}
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "pinned loop: $N open+read+close, $ROUNDS interleaved rounds, medians (cpu ns per" \
    "iteration; ratio: of each round's traced to untraced)"
printf '| %-44s | %8s | %6s |\n' "" "cpu ns" "ratio"
row untraced "untraced"
row floor "tracepoint alone (${dumps[0]##*/} -E)"
i=0
for d in "${dumps[@]}"; do
    i=$((i + 1))
    row "dump$i" "$d"
done
