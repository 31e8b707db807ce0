#!/usr/bin/env bash
# bench/export.sh: times `git roar export` in each format on synthetic histories of
# N pending jobs (each reads 5 files, 2 of them outputs of the jobs before it, and
# writes 5): export must stay linear in the edges (issue 14: prov-json of 1e5 jobs ran
# past 120 s). Usage: bench/export.sh [N...] (default 2000 8000 20000); the build in
# $ROAR_BUILD_DIR or build/. RUNS (default 3): runs per measurement, the best counts.
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "${ROAR_BUILD_DIR:-$here/build}" && pwd)
export PATH="$build:$PATH"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/roar-bench-export.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
py=/usr/bin/python3
runs=${RUNS:-3}
[ $# -gt 0 ] || set -- 2000 8000 20000

# best_ms: bench/lib.sh.
. "$(dirname "$0")/lib.sh"

# Real pending records (job ids computed as SPEC §5.1 says), so that reindex loads
# them as it would any record; every 7th job exits 2.
make_repo() {
    mkdir "$1" && cd "$1" && git init -q && git config roar.exclude "$build" &&
        $py - "$2" <<-\PY
	import hashlib, os, sys, time
	n = int(sys.argv[1])
	os.makedirs(".git/roar/pending", exist_ok=True)
	def oid(s): return hashlib.sha1(s.encode()).hexdigest()
	def blob(b): return hashlib.sha1(b"blob %d\0" % len(b) + b).hexdigest()
	def ts(ms): return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ms // 1000)) + ".%03dZ" % (ms % 1000)
	for i in range(n):
	    t = 1_700_000_000_000 + i * 1000
	    ins = [(f"src/{(i * 3 + k) % 1000}", oid(f"src {(i * 3 + k) % 1000}")) for k in range(3)]
	    if i >= 1: ins.append((f"out/{i - 1}/0", oid(f"out {i - 1} 0")))
	    if i >= 2: ins.append((f"out/{i - 2}/1", oid(f"out {i - 2} 1")))
	    outs = [(f"out/{i}/{k}", oid(f"out {i} {k}")) for k in range(5)]
	    body = (f"command step {i}\ncwd .\ndirty 0\ntracer preload\nhost h\nuser u\n"
	            f"start {ts(t)}\nend {ts(t + 500)}\nexit {0 if i % 7 else 2}\n"
	            + "".join(f"in {b} 10 {p}\n" for p, b in sorted(ins))
	            + "".join(f"out {b} 10 {p}\n" for p, b in sorted(outs))).encode()
	    jid = blob(body)
	    open(f".git/roar/pending/{jid}@main", "wb").write(b"job " + jid.encode() + b"\n" + body)
	PY
}

printf '| jobs | edges | json ms | openlineage ms | prov-json ms | log -n 1 ms (fixed cost) |\n'
printf '|-----:|------:|--------:|---------------:|-------------:|-------------------------:|\n'
for n in "$@"; do
    (make_repo "$tmp/r$n" "$n")
    cd "$tmp/r$n"
    git roar log -n 1 >/dev/null # the first query indexes the pending records
    [ "$(git roar export --format json | $py -c 'import json,sys; print(len(json.load(sys.stdin)["jobs"]))')" = "$n" ]
    printf '| %s | %s | %s | %s | %s | %s |\n' "$n" "$((n * 10 - 3))" \
        "$(best_ms "$runs" git roar export --format json)" \
        "$(best_ms "$runs" git roar export --format openlineage)" \
        "$(best_ms "$runs" git roar export --format prov-json)" \
        "$(best_ms "$runs" git roar log -n 1)"
done
