#!/usr/bin/env bash
# bench/queries.sh: times `git roar lineage --depth 50` and `git roar show` (of a job id, a
# blob id and a path) on a synthetic cache of 100,000 jobs and 1,000,000 edges, and
# `git roar status` over 10,000 unchanged outputs.
# Usage: bench/queries.sh [JOBS] [STATUS_OUTPUTS]; the build in $ROAR_BUILD_DIR or build/.
# RUNS (default 5): runs per measurement, the best one counts.
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "${ROAR_BUILD_DIR:-$here/build}" && pwd)
export PATH="$build:$PATH"
jobs=${1:-100000}
outputs=${2:-10000}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/roar-bench-queries.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
py=/usr/bin/python3
runs=${RUNS:-5}

# best_ms: bench/lib.sh.
. "$(dirname "$0")/lib.sh"

# A repository whose cache the generator fills directly (the schema comes from a real
# `git roar run`, so it is the one this build writes). Each job reads 5 blobs (the
# outputs of the two jobs before it and 3 of 1,000 sources) and writes 5.
lineage_repo() {
    mkdir "$tmp/lin" && cd "$tmp/lin" && git init -q &&
        git config roar.exclude "$build" && git roar run -q true &&
        git -c user.name=b -c user.email=b@b commit -q --allow-empty -m base &&
        $py - "$jobs" "$(git rev-parse HEAD)" <<-\PY
	import hashlib, sqlite3, sys
	n, head = int(sys.argv[1]), sys.argv[2]
	db = sqlite3.connect(".git/roar/cache.db")
	def oid(s): return hashlib.sha1(s.encode()).hexdigest()
	# The last job's first output is the content of root.txt: a path to start from.
	root = b"root\n"
	open("root.txt", "wb").write(root)
	def out(i, k):
	    if (i, k) == (n - 1, 0):
	        return hashlib.sha1(b"blob %d\0" % len(root) + root).hexdigest()
	    return oid(f"out {i} {k}")
	jobs, edges, arts = [], [], {}
	for i in range(n):
	    pk = 1000 + i
	    jid = oid(f"job {i}")
	    t = 1_700_000_000_000 + i * 1000
	    jobs.append((pk, jid, t, t + 500, 0, 0, f"step\0{i}\0".encode(), 2, b".", None, 0,
	                 b"preload", None, None, 0, b"synthetic"))
	    ins = [oid(f"src {(i * 3 + k) % 1000}") for k in range(3)]
	    if i >= 1: ins.append(out(i - 1, 0))
	    if i >= 2: ins.append(out(i - 2, 1))
	    seq = 0
	    for k, b in enumerate(ins):
	        edges.append((pk, seq, 0, f"in/{k}".encode(), b, 10)); arts[b] = 10; seq += 1
	    for k in range(10 - len(ins)):
	        b = out(i, k)
	        edges.append((pk, seq, 1, f"out/{i}/{k}".encode(), b, 10)); arts[b] = 10; seq += 1
	db.executemany("INSERT INTO jobs (pk, id, start_ms, end_ms, end_kind, end_code, argv, argc,"
	               " cwd, base, dirty, tracer, host, user, incomplete, record)"
	               " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)", jobs)
	db.executemany("INSERT OR IGNORE INTO artifacts (id, size) VALUES (?, ?)", arts.items())
	db.executemany("INSERT INTO edges (job, seq, role, path, blob, size) VALUES (?,?,?,?,?,?)",
	               edges)
	# Attached to HEAD, so that every job is in scope (SPEC §5.5) as in a real history.
	db.executemany("INSERT INTO attachments (job, commit_id) VALUES (?, ?)",
	               [(j[0], head) for j in jobs])
	db.commit()
	print(f"lineage cache: {len(jobs)} jobs, {len(edges)} edges, {len(arts)} artifacts")
	PY
}

# A work tree of real files: outputs/(JOB)/(K) written by jobs of 10 outputs each, each
# job reading the previous job's first output and a source file; all pending here.
status_repo() {
    mkdir "$tmp/st" && cd "$tmp/st" && git init -q &&
        git config roar.exclude "$build" && git roar run -q true &&
        $py - "$outputs" "$(cd .git && pwd -P)" <<-\PY
	import hashlib, os, sqlite3, sys
	n, gitdir = int(sys.argv[1]), sys.argv[2]
	db = sqlite3.connect(".git/roar/cache.db")
	def blob(data): return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()
	def write(path, data):
	    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
	    open(path, "wb").write(data)
	    return blob(data)
	jobs, edges, arts, pend = [], [], {}, []
	src = write("src/input", b"source\n")
	for i in range(n // 10):
	    pk = 1000 + i
	    jid = hashlib.sha1(f"job {i}".encode()).hexdigest()
	    t = 1_700_000_000_000 + i * 1000
	    jobs.append((pk, jid, t, t + 500, 0, 0, f"step\0{i}\0".encode(), 2, b".", None, 0,
	                 b"preload", None, None, 0, b"synthetic"))
	    ins = [("src/input", src)]
	    if i: ins.append((f"out/{i - 1}/0", prev))
	    seq = 0
	    for p, b in ins:
	        edges.append((pk, seq, 0, p.encode(), b, 7)); arts[b] = 7; seq += 1
	    for k in range(10):
	        p = f"out/{i}/{k}"
	        b = write(p, f"{i} {k}\n".encode())
	        if k == 0: prev = b
	        edges.append((pk, seq, 1, p.encode(), b, 7)); arts[b] = 7; seq += 1
	    pend.append((pk, gitdir.encode()))
	db.executemany("INSERT INTO jobs (pk, id, start_ms, end_ms, end_kind, end_code, argv, argc,"
	               " cwd, base, dirty, tracer, host, user, incomplete, record)"
	               " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)", jobs)
	db.executemany("INSERT OR IGNORE INTO artifacts (id, size) VALUES (?, ?)", arts.items())
	db.executemany("INSERT INTO edges (job, seq, role, path, blob, size) VALUES (?,?,?,?,?,?)",
	               edges)
	db.executemany("INSERT INTO pending (job, worktree) VALUES (?, ?)", pend)
	db.commit()
	print(f"status cache: {len(jobs)} jobs, {sum(1 for e in edges if e[2] == 1)} outputs")
	PY
}

(lineage_repo)
cd "$tmp/lin"
# `-- root.txt`: a path and nothing else, so the time is the walk's, not OBJ resolution's.
nodes=$(git roar lineage --depth 50 --format json -- root.txt | $py -c 'import json,sys; d=json.load(sys.stdin); print(sum(n["kind"]=="job" for n in d["nodes"]), len(d["nodes"]))')
echo "lineage --depth 50: jobs, nodes = $nodes"
# The last job (it wrote root.txt) and root.txt's blob, as a user would abbreviate them.
job=$($py -c 'import hashlib,sys; print(hashlib.sha1(b"job %d" % (int(sys.argv[1]) - 1)).hexdigest())' "$jobs")
blob=$(git hash-object root.txt)
git roar show "${job:0:12}" | grep "^job $job" >/dev/null # each resolves to what it names
git roar show "${blob:0:12}" | grep "^blob $blob" >/dev/null
echo "git roar --version:            $(best_ms "$runs" git roar --version) ms (process start, git's dispatch)"
echo "lineage --depth 1 (fixed cost): $(best_ms "$runs" git roar lineage --depth 1 -- root.txt) ms"
echo "lineage --depth 50 (text):     $(best_ms "$runs" git roar lineage --depth 50 -- root.txt) ms"
echo "lineage --depth 50 (json):     $(best_ms "$runs" git roar lineage --depth 50 --format json -- root.txt) ms"
echo "lineage --depth 50 BLOB:       $(best_ms "$runs" git roar lineage --depth 50 "${blob:0:10}") ms (a 10-digit blob id)"
echo "show JOB:                      $(best_ms "$runs" git roar show "${job:0:12}") ms (a 12-digit job id)"
echo "show BLOB:                     $(best_ms "$runs" git roar show "${blob:0:12}") ms (a 12-digit blob id)"
echo "show PATH:                     $(best_ms "$runs" git roar show root.txt) ms"

(status_repo)
cd "$tmp/st"
sleep 2 # past the racy-timestamp margin, so the stat cache rows are trusted
echo "status, cold stat cache:     $(best_ms 1 git roar status) ms (hashes every file once)"
echo "status, unchanged outputs:   $(best_ms 5 git roar status) ms (best of 5)"
git roar status --exit-code >/dev/null && echo "status: every output ok"
