#!/usr/bin/env bash
# bench/shards.sh: what tracing costs a job that writes big outputs, and what the end of a
# job costs (issue 19), each traced run paired with an untraced one (bench/lib.sh
# pair_wall: in turn, the order alternating, the ratio taken per pair).
#   bench/shards.sh [shards|dd|all]   the 40-shard job, dd of 1 GiB, or both (default)
# - shards: a python3 job writing 40 shards of 25 MB, with ~30 ms of CPU work (a spin)
#   before each, untraced vs `git roar run -t preload` vs `-t ebpf`;
# - dd: `dd if=/dev/zero of=big bs=1M count=1024`, untraced vs both tracers: the
#   traced-minus-untraced medians are what the end of the job costs, shown against
#   `openssl speed -evp sha1` (one core) for 1 GiB.
# Env: ROAR_BUILD_DIR (default build/), BASELINE_BUILD (another build dir, e.g. main's,
# measured the same way for a before/after table), RUNS (paired runs, default 3),
# SHARDS (40), SHARD_MB (25), WORK_MS (30), TMPDIR (where the repository goes: /dev/shm
# keeps the disk's writeback of 1 GiB per run out of the figures). Needs python3;
# eBPF needs root.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
build=$(cd "${ROAR_BUILD_DIR:-$here/../build}" && pwd)
what=${1:-all}
RUNS=${RUNS:-3}
SHARDS=${SHARDS:-40}
SHARD_MB=${SHARD_MB:-25}
WORK_MS=${WORK_MS:-30}

. "$here/lib.sh"
bench_repo roar-shards

cat >"$scratch/shards.py" <<EOF
import time
block = bytes(range(256)) * 4096  # 1 MiB
for i in range($SHARDS):
    t = time.perf_counter() + $WORK_MS / 1000
    while time.perf_counter() < t:  # the work that makes shard i
        pass
    with open("shard-%02d.bin" % i, "wb") as f:
        for _ in range($SHARD_MB):
            f.write(block)
EOF

builds="$build"
[ -n "${BASELINE_BUILD:-}" ] && builds="$(cd "$BASELINE_BUILD" && pwd) $build"

# pair NAME UNTRACED -- TRACED...: the median wall of each and of their per-pair ratio.
pair() {
    local name=$1 base=$2
    shift 2
    pair_wall "$RUNS" "$base" -- "$@" |
        awk -v name="$name" '{ printf "%-44s %8s %8s %6s\n", name, $1, $2, $3 }'
}

echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-44s %8s %8s %6s\n' "case (medians of $RUNS pairs)" traced untraced ratio
[ "$what" = dd ] || for b in $builds; do
    for t in preload ebpf; do
        pair "shards, -t $t, $b" "python3 $scratch/shards.py" \
            env PATH="$b:$PATH" git roar run -q -t $t -- python3 "$scratch/shards.py"
    done
done
[ "$what" = shards ] || for b in $builds; do
    for t in preload ebpf; do
        pair "dd 1 GiB, -t $t, $b" "dd if=/dev/zero of=big bs=1M count=1024 status=none" \
            env PATH="$b:$PATH" git roar run -q -t $t -- dd if=/dev/zero of=big bs=1M count=1024 status=none
    done
done
# Three traced dd with the stats line: ms from the end of tracing to the result.
[ "$what" = shards ] || for _ in 1 2 3; do PATH="$build:$PATH" ROAR_RUN_STATS=1 git roar run -q -t preload -- \
    dd if=/dev/zero of=big bs=1M count=1024 status=none 2>&1 | sed -n 's/^roar: stats: /dd -t preload stats: /p'
done
openssl speed -evp sha1 -bytes 1048576 -seconds 2 2>/dev/null | awk '
    /^sha1/ { v = $NF; sub(/k$/, "", v); printf "openssl speed sha1, 1 MiB blocks, 1 core: %.2f GB/s, 1 GiB in %.0f ms\n", v * 1000 / 1e9, 1073741824 / (v * 1000) * 1000 }'
exit 0
