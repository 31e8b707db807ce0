#!/usr/bin/env bash
# bench/steps.sh: what a change to the tracers costs against the build before it (issue
# 18's data flow: item 5 bounds both figures at 0.02). The open/read/close loop, and a
# clean make -j2 of this project, untraced and traced by an older build (BASE) and this
# one under each tracer, interleaved in rounds, the two builds' order alternating from
# round to round; medians of the per-round ratios. Root for the eBPF rows.
#   BASE=<older build dir> bench/steps.sh [micro] [build]     (default: both)
# Env: ROAR_BUILD_DIR (default build/), BASE (required: its git-roar runs its own shim),
# ROUNDS (micro, default 15), N (loop iterations, default 5e5), BUILD_ROUNDS (default 5),
# JOBS (make -j, default 2), BUILD_TARGET (default all; git-roar for a shorter build),
# REV (the commit built, default HEAD: give the same one when comparing runs, since the
# tree grows).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
build=$(cd "${ROAR_BUILD_DIR:-$here/../build}" && pwd)
base=$(cd "${BASE:?BASE=<the older build dir>}" && pwd)
ROUNDS=${ROUNDS:-15} N=${N:-500000} BUILD_ROUNDS=${BUILD_ROUNDS:-5} JOBS=${JOBS:-2}
TARGET=${BUILD_TARGET:-all}
micro="$build/bench/micro_openloop"
parts=("$@")
[ ${#parts[@]} -gt 0 ] || parts=(micro build)
for b in "$base" "$build"; do
    [ -x "$b/git-roar" ] || { echo "bench/steps.sh: no git-roar in $b" >&2; exit 1; }
done

. "$here/lib.sh"
scratch=$(mktemp -d "${TMPDIR:-/tmp}/roar-bench-steps.XXXXXX")
trap 'rm -rf "$scratch"' EXIT
git clone -q "$here/.." "$scratch/repo"
cd "$scratch/repo"
git checkout -q "${REV:-HEAD}"
git config user.name bench && git config user.email bench@example.invalid
printf 'a small input file\n' >small.txt

# traced WHICH TRACER CMD...: CMD under the base build's git-roar or this one's
traced() {
    local roar=$build/git-roar
    [ "$1" = base ] && roar=$base/git-roar
    "$roar" run -q -t "$2" -- "${@:3}"
}
# order ROUND: the two builds, the older first in even rounds
order() { if [ $(($1 % 2)) = 0 ]; then echo base new; else echo new base; fi; }
# per_round A B: the median over rounds of A's figure over B's
per_round() { paste "$scratch/$1" "$scratch/$2" | awk '{ printf "%.3f\n", $1 / $2 }' | median; }
spread() { sort -g "$scratch/$1" | awk '{ v[NR] = $1 } END { printf "%s-%s", v[1], v[NR] }'; }
report() { # UNIT: one row per tracer and build, then new/base per round
    printf '| %-18s | %13s | %13s | %9s |\n' "" "median $1" "min-max" "/untraced"
    printf '| %-18s | %13s | %13s | %9s |\n' untraced "$(median <"$scratch/untraced")" \
        "$(spread untraced)" 1.000
    for t in preload ebpf; do
        for w in base new; do
            printf '| %-18s | %13s | %13s | %9s |\n' "$t, $w" "$(median <"$scratch/$t.$w")" \
                "$(spread "$t.$w")" "$(per_round "$t.$w" untraced)"
        done
    done
    for t in preload ebpf; do echo "$t: new/base per round, median $(per_round "$t.new" "$t.base")"; done
}

micro_part() { # cpu ns per iteration, measured inside the loop
    rm -f "$scratch"/untraced "$scratch"/preload.* "$scratch"/ebpf.*
    for r in $(seq "$ROUNDS"); do
        "$micro" small.txt "$N" | cut -d' ' -f2 >>"$scratch/untraced"
        for t in preload ebpf; do
            for w in $(order "$r"); do
                traced "$w" "$t" "$micro" small.txt "$N" | cut -d' ' -f2 >>"$scratch/$t.$w"
            done
        done
    done
    echo "micro: $N open+read+close, $ROUNDS rounds, load average $(cut -d' ' -f1-3 /proc/loadavg)"
    report "cpu ns"
}

build_part() { # wall s of a clean make, configured once
    rm -f "$scratch"/untraced "$scratch"/preload.* "$scratch"/ebpf.* "$scratch"/steps.*
    cmake -S . -B b >/dev/null
    make -C b -s -j"$JOBS" "$TARGET" >/dev/null # untimed: warms the page cache
    timed() { make -C b -s clean; local t0; t0=$(now_ns); "$@" >/dev/null
        echo "$(ratio $(($(now_ns) - t0)) 1000000000)"; }
    for r in $(seq "$BUILD_ROUNDS"); do
        timed make -C b -s -j"$JOBS" "$TARGET" >>"$scratch/untraced"
        for t in preload ebpf; do
            for w in $(order "$r"); do
                timed traced "$w" "$t" make -C b -s -j"$JOBS" "$TARGET" >>"$scratch/$t.$w"
                [ "$w" = base ] || grep -c '^step ' "$(ls -t .git/roar/pending/* | head -n 1)" \
                    >>"$scratch/steps.$t" || true
            done
        done
    done
    echo "build: make -j$JOBS $TARGET from clean ($(find b -name '*.o' | wc -l) object files), $BUILD_ROUNDS rounds, load average $(cut -d' ' -f1-3 /proc/loadavg)"
    report "wall s"
    # a data flow that stopped being seen would be cheap: this build's jobs must have steps
    for t in preload ebpf; do echo "$t: step lines per job of this build: $(sort -u "$scratch/steps.$t" | xargs)"; done
}

for p in "${parts[@]}"; do "${p}_part"; done
