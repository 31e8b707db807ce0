#!/usr/bin/env bash
# bench/build.sh: what tracing a real build costs. A clone of this project's HEAD is built
# from clean with make -j2, untraced, under `git roar run -t ebpf`, under `-t preload` and
# under strace -f, interleaved, so that the ratios compare like with like. Needs root for
# the eBPF row (skipped, saying so, where the tracer cannot run).
#   bench/build.sh
# Env: ROAR_BUILD_DIR (default build/), RUNS (rounds, median taken, default 3),
# BUILD_TARGET (a make target for a quick check, e.g. roar_util; default: everything),
# JOBS (make -j, default 2), CPU=1 (also git-roar's own CPU-s per traced build, from
# `perf stat --no-inherit -e task-clock` on the git-roar process: needs perf).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
build=$(cd "${ROAR_BUILD_DIR:-$here/../build}" && pwd)
RUNS=${RUNS:-3}
JOBS=${JOBS:-2}
TARGET=${BUILD_TARGET:-all}
edump="$build/tests/trace/roar-ebpfdump"
export PATH="$build:$PATH"

[ -x "$build/git-roar" ] || { echo "bench/build.sh: build the tree first" >&2; exit 1; }
modes="untraced"
if [ -x "$edump" ] && why=$("$edump" -q -- true 2>&1); then
    modes="$modes ebpf"
else
    echo "bench/build.sh: eBPF row skipped: ${why:-roar-ebpfdump not built}" >&2
fi
modes="$modes preload"
if command -v strace >/dev/null; then modes="$modes strace"; else
    echo "bench/build.sh: strace not installed: row skipped" >&2
fi

scratch=$(mktemp -d "${TMPDIR:-/tmp}/roar-bench-build.XXXXXX")
trap 'rm -rf "$scratch"' EXIT
git clone -q "$here/.." "$scratch/repo"
cd "$scratch/repo"
git config user.name bench && git config user.email bench@example.invalid
git config roar.exclude "$build"
cmake -S . -B b >/dev/null
. "$here/lib.sh"

# jobs that wrote this object file: each traced build must add one, or its trace is broken
jobs_writing() { git roar log -- "$1" 2>/dev/null | grep -c " make " || true; }

make_cmd=(make -C b -s -j"$JOBS" "$TARGET")
# git-roar run directly, not through git (which would be the process perf counts)
roar=(git roar)
if [ "${CPU:-0}" = 1 ]; then
    roar=(perf stat --no-inherit -x, -e task-clock -o "$scratch/cpu.out" -- "$build/git-roar")
fi
make -C b -s clean
"${make_cmd[@]}" >/dev/null # untimed: warms the page cache, finds an object to check
obj=$(find b -name '*.o' -print -quit)
[ -n "$obj" ] || { echo "bench/build.sh: the build made no object file" >&2; exit 1; }
nobj=$(find b -name '*.o' | wc -l)

for _ in $(seq "$RUNS"); do
    for m in $modes; do
        make -C b -s clean
        before=$(jobs_writing "$obj")
        t0=$(now_ns)
        case $m in
        untraced) "${make_cmd[@]}" >/dev/null ;;
        ebpf) "${roar[@]}" run -q -t ebpf -- "${make_cmd[@]}" >/dev/null ;;
        preload) "${roar[@]}" run -q -t preload -- "${make_cmd[@]}" >/dev/null ;;
        strace) strace -f -o /dev/null "${make_cmd[@]}" >/dev/null ;;
        esac
        echo $(( $(now_ns) - t0 )) >>"$scratch/t.$m"
        if [ "${CPU:-0}" = 1 ] && [ -f "$scratch/cpu.out" ]; then # task-clock is in ms
            awk -F, '$3 == "task-clock" { printf "%.3f\n", $1 / 1000 }' "$scratch/cpu.out" \
                >>"$scratch/cpu.$m"
            rm -f "$scratch/cpu.out"
        fi
        case $m in ebpf | preload)
            if [ "$(jobs_writing "$obj")" -le "$before" ]; then
                echo "bench/build.sh: the $m job did not record $obj as an output" >&2
                exit 1
            fi
        esac
    done
done

echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "build: make -j$JOBS $TARGET from clean ($nobj object files), median of $RUNS, seconds"
cpu_col() { # git-roar's CPU-s for a mode, when measured
    if [ -s "$scratch/cpu.$1" ]; then median <"$scratch/cpu.$1"; else echo "-"; fi
}
if [ "${CPU:-0}" = 1 ]; then
    printf '| %-30s | %8s | %6s | %12s |\n' "" "wall s" "ratio" "git-roar CPU-s"
else
    printf '| %-30s | %8s | %6s |\n' "" "wall s" "ratio"
fi
base=$(median <"$scratch/t.untraced")
for m in $modes; do
    case $m in
    untraced) label="untraced" ;;
    ebpf) label="git roar run -t ebpf" ;;
    preload) label="git roar run -t preload" ;;
    strace) label="strace -f -o /dev/null" ;;
    esac
    t=$(median <"$scratch/t.$m")
    if [ "${CPU:-0}" = 1 ]; then
        printf '| %-30s | %8s | %6s | %12s |\n' "$label" "$(ratio "$t" 1000000000)" \
            "$(ratio "$t" "$base")" "$(cpu_col "$m")"
    else
        printf '| %-30s | %8s | %6s |\n' "$label" "$(ratio "$t" 1000000000)" "$(ratio "$t" "$base")"
    fi
done
