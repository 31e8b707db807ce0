#!/usr/bin/env bash
# bench/run.sh: the cost of tracing, untraced vs `git roar run -t preload` vs `strace -f`,
# all measured in this one run so that the ratios compare like with like.
#   bench/run.sh [N]     N open/read/close iterations for the micro benchmark (1e6)
# Env: ROAR_BUILD_DIR (default build/), BASELINE_PRELOAD (another libroar-preload.so to
# compare with, e.g. one built from an older commit; or the build directory of that
# commit, whose own git-roar then runs it: needed when the ring version differs, since a
# shim ignores a ring of another version), STRACE_N (strace's iterations,
# default N/5: strace -f costs ~60-100 us a syscall, 1e6 would take minutes), RUNS
# (repetitions, best taken, default 3), TRUE_RUNS (default 20). A missing strace or
# /usr/bin/python3 skips its column, saying so.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
build=$(cd "${ROAR_BUILD_DIR:-$here/../build}" && pwd)
N=${1:-1000000}
STRACE_N=${STRACE_N:-$((N / 5))}
RUNS=${RUNS:-3}
TRUE_RUNS=${TRUE_RUNS:-20}
micro="$build/bench/micro_openloop"
export PATH="$build:$PATH"

[ -x "$micro" ] || { echo "bench/run.sh: build $micro first" >&2; exit 1; }
have_strace=1; command -v strace >/dev/null || have_strace=0

. "$here/lib.sh"
bench_repo roar-bench

# ---- micro: ns per open/read/close iteration, measured inside the program -----------
# Rounds interleave the columns so that a burst of load elsewhere hits them alike; each
# column keeps its best round. The program prints "wall_ns cpu_ns" per iteration.
base_roar=
if [ -d "${BASELINE_PRELOAD:-}" ]; then # an older build: its git-roar and its shim
    base_roar=$(cd "$BASELINE_PRELOAD" && pwd)/git-roar
    [ -f "${base_roar%/git-roar}/lib/roar/libroar-preload.so" ] ||
        { echo "bench/run.sh: no lib/roar/libroar-preload.so in $BASELINE_PRELOAD" >&2; exit 1; }
elif [ -n "${BASELINE_PRELOAD:-}" ]; then # an older libroar-preload.so, same ring version
    mkdir -p "$scratch/base/lib/roar"
    cp "$build/git-roar" "$scratch/base/git-roar"
    cp "$BASELINE_PRELOAD" "$scratch/base/lib/roar/libroar-preload.so"
    base_roar="$scratch/base/git-roar"
fi
: >"$scratch/m.untraced"; : >"$scratch/m.preload"; : >"$scratch/m.base"
for _ in $(seq "$RUNS"); do
    "$micro" small.txt "$N" >>"$scratch/m.untraced"
    git roar run -q -t preload -- "$micro" small.txt "$N" >>"$scratch/m.preload" 2>/dev/null
    if [ -n "$base_roar" ]; then
        "$base_roar" run -q -t preload -- "$micro" small.txt "$N" >>"$scratch/m.base" 2>/dev/null
    fi
done
col() { awk -v c="$1" '{ print $c }' "$2" | best; }
wall_untraced=$(col 1 "$scratch/m.untraced") cpu_untraced=$(col 2 "$scratch/m.untraced")
wall_preload=$(col 1 "$scratch/m.preload") cpu_preload=$(col 2 "$scratch/m.preload")
if [ -n "$base_roar" ]; then
    wall_base=$(col 1 "$scratch/m.base") cpu_base=$(col 2 "$scratch/m.base")
fi
if [ "$have_strace" = 1 ]; then
    read -r wall_strace cpu_strace < <(strace -f -o /dev/null "$micro" small.txt "$STRACE_N")
fi

# ---- git roar run true -----------------------------------------------------------
true_bin=$(command -v true)
t_true=$( { for _ in $(seq "$TRUE_RUNS"); do
    t0=$(now_ns); "$true_bin"; echo $(( $(now_ns) - t0 )); done; } | sort -g |
    awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }')
t_run=$( { for _ in $(seq "$TRUE_RUNS"); do
    t0=$(now_ns); git roar run -q -t preload -- "$true_bin"; echo $(( $(now_ns) - t0 )); done; } |
    sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }')

# ---- a small real pipeline: examples/pipeline with /usr/bin/python3 ----------------
py=/usr/bin/python3
pipe_untraced= pipe_preload= pipe_strace=
if [ -x "$py" ]; then
    cp -R "$here/../examples/pipeline/." "$scratch/repo/"
    git add . && git commit -qm pipeline
    steps() { # $1: prefix command (may be empty)
        for s in prepare featurize train evaluate; do $1 "$py" "$s.py" >/dev/null; done
        $1 sh -c 'cut -d, -f5 data/raw.csv | tail -n +2 | sort | uniq -c > data/label_counts.txt'
    }
    timed() { t0=$(now_ns); steps "$1" 2>/dev/null; echo $(( $(now_ns) - t0 )); }
    pipe_untraced=$( { for _ in $(seq "$RUNS"); do timed ""; done; } | best)
    pipe_preload=$( { for _ in $(seq "$RUNS"); do timed "git roar run -q -t preload --"; done; } | best)
    if [ "$have_strace" = 1 ]; then
        pipe_strace=$( { for _ in $(seq "$RUNS"); do timed "strace -f -o /dev/null"; done; } | best)
    fi
fi

# ---- report ----------------------------------------------------------------------
row() { # label wall cpu
    printf '| %-34s | %10s | %6s | %10s | %6s |\n' "$1" "$2" "$(ratio "$2" "$wall_untraced")" \
        "$3" "$(ratio "$3" "$cpu_untraced")"
}
echo "micro: $N open(O_RDONLY)+read+close of a small file by relative path (strace: $STRACE_N)," \
    "best of $RUNS, ns per iteration"
printf '| %-34s | %10s | %6s | %10s | %6s |\n' "" "wall ns" "ratio" "cpu ns" "ratio"
row "untraced" "$wall_untraced" "$cpu_untraced"
row "git roar run -t preload" "$wall_preload" "$cpu_preload"
[ -n "$base_roar" ] && row "preload, BASELINE_PRELOAD" "$wall_base" "$cpu_base"
if [ "$have_strace" = 1 ]; then
    row "strace -f -o /dev/null" "$wall_strace" "$cpu_strace"
else
    echo "(strace not installed: column skipped)"
fi
printf 'git roar run true: %.1f ms vs true %.1f ms: +%.1f ms (median of %s)\n' \
    "$(ratio "$t_run" 1000000)" "$(ratio "$t_true" 1000000)" \
    "$(ratio $((t_run - t_true)) 1000000)" "$TRUE_RUNS"
if [ -n "$pipe_untraced" ]; then
    printf 'pipeline (examples/pipeline, 5 steps): untraced %.0f ms, preload %.0f ms (%s)' \
        "$(ratio "$pipe_untraced" 1000000)" "$(ratio "$pipe_preload" 1000000)" \
        "$(ratio "$pipe_preload" "$pipe_untraced")"
    if [ -n "$pipe_strace" ]; then
        printf ', strace -f %.0f ms (%s)' "$(ratio "$pipe_strace" 1000000)" \
            "$(ratio "$pipe_strace" "$pipe_untraced")"
    fi
    echo
else
    echo "(no /usr/bin/python3: pipeline skipped)"
fi
