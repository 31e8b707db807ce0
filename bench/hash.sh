#!/bin/bash
# Hashing throughput on a warm (page-cached) file: git roar's blob-id hasher against
# `git hash-object --no-filters` and coreutils `sha1sum`. Prints GB/s (10^9 B/s) for each.
# Then (bench/hash_feed_bench.c) the ways of feeding the same SHA-1 that were measured
# for issue 19: pread buffers, huge pages, mmap, io_uring, a reader thread; and
# `openssl speed -evp sha1` in the same run.
# Usage: bench/hash.sh [SIZE_MIB]   (default 1024; needs a build: ROAR_BUILD_DIR or build/)
# FEED_RUNS (default 5): runs of each feeding way, the best kept.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
build=${ROAR_BUILD_DIR:-$here/../build}
bench=$build/hash_bench
feed_bench=$build/hash_feed_bench
size_mib=${1:-1024}
runs=3

for b in "$bench" "$feed_bench"; do
	if [ ! -x "$b" ]; then
		echo "fatal: $b not found; build it with: cmake --build $build --target $(basename "$b")" >&2
		exit 128
	fi
done

dir=$(mktemp -d "${TMPDIR:-/tmp}/roar-bench-hash.XXXXXX")
trap 'rm -rf "$dir"' EXIT
file=$dir/data.bin
head -c "$((size_mib * 1024 * 1024))" /dev/urandom >"$file"
bytes=$(stat -c %s "$file")
cat "$file" >/dev/null # warm the page cache

# best_time N CMD...: the best wall time of N runs of CMD, in seconds
best_time() {
	local n=$1 best= t0 t1 t
	shift
	for _ in $(seq "$n"); do
		t0=$(date +%s.%N)
		"$@" >/dev/null
		t1=$(date +%s.%N)
		t=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.6f", b - a }')
		if [ -z "$best" ] || awk -v t="$t" -v b="$best" 'BEGIN { exit !(t < b) }'; then best=$t; fi
	done
	echo "$best"
}
gbps() { awk -v n="$bytes" -v t="$1" 'BEGIN { printf "%.2f", n / t / 1e9 }'; }

read -r ours_id ours_gbps < <("$bench" "$file" "$runs")
git_id=$(git hash-object --no-filters -- "$file")
if [ "$ours_id" != "$git_id" ]; then
	echo "fatal: ids differ: ours $ours_id, git $git_id" >&2
	exit 1
fi

printf '%-52s %8s\n' "hasher ($size_mib MiB, warm, best of $runs)" "GB/s"
printf '%-52s %8s\n' "git roar (roar_hash_path, OpenSSL EVP SHA-1)" "$ours_gbps"
# Over core.bigFileThreshold (512 MiB) git streams through zlib: ~1 min per GiB of
# random data, so that row is run once.
printf '%-52s %8s\n' "git hash-object --no-filters (1 run)" \
	"$(gbps "$(best_time 1 git hash-object --no-filters -- "$file")")"
printf '%-52s %8s\n' "git -c core.bigFileThreshold=4g hash-object ..." \
	"$(gbps "$(best_time "$runs" git -c core.bigFileThreshold=4g hash-object --no-filters -- "$file")")"
printf '%-52s %8s\n' "sha1sum" "$(gbps "$(best_time "$runs" sha1sum "$file")")"

echo
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
"$feed_bench" "$file" "${FEED_RUNS:-5}"
openssl speed -evp sha1 -bytes 1048576 -seconds 2 2>/dev/null | awk '
    /^sha1/ { v = $NF; sub(/k$/, "", v); printf "openssl speed -evp sha1 -bytes 1048576: %.2f GB/s\n", v * 1000 / 1e9 }'
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
