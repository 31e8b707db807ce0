#!/usr/bin/env bash
# bench/ebpf.sh: what the eBPF tracer costs, measured in one run beside the preload tracer
# and strace -f, so that the ratios compare like with like. Needs root (it loads BPF).
#   bench/ebpf.sh [N]     N open/read/close iterations for the micro benchmark (1e6)
# Env: ROAR_BUILD_DIR (default build/), RUNS (interleaved rounds, default 3; each row gives
# the best round and the median of the per-round ratios to the untraced run),
# TRUE_RUNS (default 20), STRACE_N (strace's iterations, default N/5). A missing strace
# skips its row, saying so.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
build=$(cd "${ROAR_BUILD_DIR:-$here/../build}" && pwd)
N=${1:-1000000}
STRACE_N=${STRACE_N:-$((N / 5))}
RUNS=${RUNS:-3}
TRUE_RUNS=${TRUE_RUNS:-20}
micro="$build/bench/micro_openloop"
edump="$build/tests/trace/roar-ebpfdump"
export PATH="$build:$PATH"

[ -x "$micro" ] && [ -x "$edump" ] || { echo "bench/ebpf.sh: build the tree first" >&2; exit 1; }
if ! why=$("$edump" -q -- true 2>&1); then
    echo "bench/ebpf.sh: the eBPF tracer cannot run here: $why" >&2
    exit 1
fi
have_strace=1; command -v strace >/dev/null || have_strace=0

. "$here/lib.sh"
bench_repo roar-bench-ebpf

# ---- load, attach, detach (roar-ebpfdump -T), medians ---------------------------------
: >"$scratch/t"
for _ in $(seq "$TRUE_RUNS"); do
    "$edump" -T -q -- true 2>&1 | tr ' ' '\n' | sed -n 's/^\(open\|load\|attach\|detach\)=\([0-9]*\)us$/\1 \2/p' >>"$scratch/t"
done
phase() { awk -v p="$1" '$1 == p { print $2 }' "$scratch/t" | median; }
t_open=$(phase open) t_load=$(phase load) t_attach=$(phase attach) t_detach=$(phase detach)

# ---- git roar run true: untraced, -t preload, -t ebpf (medians) ------------------------
true_bin=$(command -v true)
timed_true() { # prefix...
    for _ in $(seq "$TRUE_RUNS"); do
        t0=$(now_ns); "$@" "$true_bin"; echo $(( $(now_ns) - t0 ))
    done | median
}
t_true=$(timed_true)
t_pre=$(timed_true git roar run -q -t preload --)
t_ebpf=$(timed_true git roar run -q -t ebpf --)

# ---- micro: ns per open/read/close, interleaved rounds, best of RUNS -----------------
: >"$scratch/m.untraced"; : >"$scratch/m.ebpf"; : >"$scratch/m.preload"; : >"$scratch/m.floor"
for _ in $(seq "$RUNS"); do
    "$micro" small.txt "$N" >>"$scratch/m.untraced"
    # the floor: the tracepoint with an empty system call program (roar-ebpfdump -E)
    "$edump" -E -q -- "$micro" small.txt "$N" 2>/dev/null | head -n 1 >>"$scratch/m.floor"
    git roar run -q -t ebpf -- "$micro" small.txt "$N" >>"$scratch/m.ebpf" 2>/dev/null
    git roar run -q -t preload -- "$micro" small.txt "$N" >>"$scratch/m.preload" 2>/dev/null
done
col() { awk -v c="$1" '{ print $c }' "$2" | best; }
wall_u=$(col 1 "$scratch/m.untraced") cpu_u=$(col 2 "$scratch/m.untraced")
wall_e=$(col 1 "$scratch/m.ebpf") cpu_e=$(col 2 "$scratch/m.ebpf")
wall_p=$(col 1 "$scratch/m.preload") cpu_p=$(col 2 "$scratch/m.preload")
wall_f=$(col 1 "$scratch/m.floor") cpu_f=$(col 2 "$scratch/m.floor")
if [ "$have_strace" = 1 ]; then
    read -r wall_s cpu_s < <(strace -f -o /dev/null "$micro" small.txt "$STRACE_N")
fi

# ---- in-kernel cost (kernel.bpf_stats_enabled) ----------------------------------------
# roar_sys_exit's run time over a 2 s window of a traced loop, per call and per loop
# iteration (the window's length over the loop's own ns per iteration). Machine-wide:
# other processes' system calls add their (cheap) filter test, so keep the machine quiet.
per_run= per_iter=
# "id run_time_ns run_cnt" of every loaded roar_sys_exit (another job's tracer may be loaded)
stats() { bpftool prog show name roar_sys_exit 2>/dev/null |
    sed -n 's/^\([0-9]*\): .*run_time_ns \([0-9]*\) run_cnt \([0-9]*\).*/\1 \2 \3/p' | sort; }
if old=$(sysctl -n kernel.bpf_stats_enabled 2>/dev/null) && sysctl -qw kernel.bpf_stats_enabled=1 2>/dev/null; then
    git roar run -q -t ebpf -- "$micro" small.txt "$((N * 3))" >"$scratch/stats.loop" 2>/dev/null &
    sleep 1.5
    stats >"$scratch/stats.a"
    w0=$(now_ns)
    sleep 2
    stats >"$scratch/stats.b"
    w1=$(now_ns)
    wait
    sysctl -qw kernel.bpf_stats_enabled="$old"
    # the loop's own program is the one that ran longest in the window
    read -r dt dc < <(join "$scratch/stats.a" "$scratch/stats.b" |
        awk '{ print $4 - $2, $5 - $3 }' | sort -n -r | head -n 1) || true
    if [ -n "${dc:-}" ] && [ "$dc" -gt 0 ]; then
        per_run=$((dt / dc))
        per_iter=$(awk -v t="$dt" -v w="$((w1 - w0))" -v it="$(cut -d' ' -f1 "$scratch/stats.loop")" \
            'BEGIN { printf "%.0f", t / (w / it) }')
    fi
fi

# ---- report -------------------------------------------------------------------------
# median over the rounds of (this row's cpu ns / the untraced run's in the same round):
# on a VM whose speed drifts, steadier than the ratio of two bests
round_ratio() { # file
    paste -d' ' "$scratch/m.untraced" "$1" | awk '{ printf "%.4f\n", $4 / $2 }' | median |
        awk '{ printf "%.2f", $1 }'
}
row() { # label wall cpu [file]
    printf '| %-30s | %9s | %6s | %9s | %6s | %6s |\n' "$1" "$2" "$(ratio "$2" "$wall_u")" \
        "$3" "$(ratio "$3" "$cpu_u")" "${4:+$(round_ratio "$4")}"
}
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "tracer set-up, medians of $TRUE_RUNS (roar-ebpfdump -T): open ${t_open} us," \
    "load ${t_load} us, attach ${t_attach} us, detach ${t_detach} us"
printf 'git roar run true (median of %s): true %.1f ms; -t preload %.1f ms (+%.1f); -t ebpf %.1f ms (+%.1f)\n' \
    "$TRUE_RUNS" "$(ratio "$t_true" 1000000)" "$(ratio "$t_pre" 1000000)" \
    "$(ratio $((t_pre - t_true)) 1000000)" "$(ratio "$t_ebpf" 1000000)" \
    "$(ratio $((t_ebpf - t_true)) 1000000)"
echo "micro: $N open(O_RDONLY)+read+close of a small file by relative path" \
    "(strace: $STRACE_N), best of $RUNS rounds, ns per iteration; median: of the" \
    "per-round cpu ratios"
printf '| %-30s | %9s | %6s | %9s | %6s | %6s |\n' "" "wall ns" "ratio" "cpu ns" "ratio" "median"
row "untraced" "$wall_u" "$cpu_u"
row "tracepoint alone (ebpfdump -E)" "$wall_f" "$cpu_f" "$scratch/m.floor"
row "git roar run -t ebpf" "$wall_e" "$cpu_e" "$scratch/m.ebpf"
row "git roar run -t preload" "$wall_p" "$cpu_p" "$scratch/m.preload"
if [ "$have_strace" = 1 ]; then
    row "strace -f -o /dev/null" "$wall_s" "$cpu_s"
else
    echo "(strace not installed: row skipped)"
fi
if [ -n "$per_run" ]; then
    echo "in-kernel (bpf_stats): roar_sys_exit ${per_run} ns per call, ${per_iter} ns per" \
        "open/read/close iteration"
fi
