#!/bin/bash
# `git roar export` streams (issue 15): a history of 6,000 jobs (bench/scale-gen.py)
# exports in every format under a data-segment limit that holding every job, as the
# export once did, exceeds; the streamed prov-json answers which entity each input
# used as an oracle computes it from the json export; every format lists the jobs in
# the same order. No times are asserted.
# ROAR_SCALE_JOBS sets the size (default 6000; 2000 in a sanitizer build).
. "$(dirname "$0")/lib.sh"

jobs=${ROAR_SCALE_JOBS:-6000}
sanitized=
if grep -q '^ROAR_SANITIZE:BOOL=ON' "$ROAR_BUILD_DIR/CMakeCache.txt" 2>/dev/null; then
    sanitized=yes
    test -n "${ROAR_SCALE_JOBS:-}" || jobs=2000
fi
hist=$TEST_ROOT/hist
clone=$TEST_ROOT/clone
/usr/bin/python3 "$ROAR_SOURCE_DIR/bench/scale-gen.py" "$jobs" "$hist" >/dev/null 2>&1 || exit 1

test_expect_success "a clone of $jobs jobs, indexed; json lists every job in scope, oldest first" '
    git clone -q "$hist" "$clone" && cd "$clone" &&
    git roar init -q &&
    git roar export --format json >"$TEST_ROOT/all.json" &&
    git roar log | wc -l >logged &&
    /usr/bin/python3 - "$TEST_ROOT/all.json" "$(cat logged)" <<-\PY
	import json, sys
	jobs = json.load(open(sys.argv[1]))["jobs"]
	assert len(jobs) == int(sys.argv[2]), (len(jobs), sys.argv[2])
	keys = [(j["start"], j["id"]) for j in jobs]
	assert keys == sorted(keys) and len(set(keys)) == len(keys)
	PY
'

# The export once loaded every selected job before writing: at 6,000 jobs json and dot
# needed 40-56 MiB of data segment, streamed they need under 32 (SQLite's page cache
# for the passes is 16 MiB of it). RLIMIT_DATA counts the heap, not the mapped
# database or the binary; a sanitizer's shadow memory does not fit under it.
if test -n "$sanitized"; then
    test_skip 'every format exports under a 36 MiB data limit' 'sanitizer build'
elif ! command -v prlimit >/dev/null; then
    test_skip 'every format exports under a 36 MiB data limit' 'no prlimit'
else
    test_expect_success 'every format exports under a 36 MiB data limit, complete' '
        cd "$clone" &&
        for f in json prov-json openlineage dot; do
            prlimit --data=$((36 * 1024 * 1024)) git roar export --format $f >"$TEST_ROOT/lim.$f" ||
                { echo "$f failed under the limit"; return 1; }
        done &&
        test_cmp "$TEST_ROOT/all.json" "$TEST_ROOT/lim.json" &&
        test $(wc -l <"$TEST_ROOT/lim.openlineage") -eq $((2 * $(cat logged))) &&
        tail -c 2 "$TEST_ROOT/lim.prov-json" | grep -q "}" &&
        tail -n 1 "$TEST_ROOT/lim.dot" | grep -q "^}$"
    '
fi

test_expect_success 'prov-json: each input uses the latest writing that ended before it started' '
    cd "$clone" &&
    git roar export --format prov-json >"$TEST_ROOT/prov.json" &&
    /usr/bin/python3 - "$TEST_ROOT/all.json" "$TEST_ROOT/prov.json" <<-\PY
	import json, sys, urllib.parse
	jobs = json.load(open(sys.argv[1]))["jobs"]
	prov = json.load(open(sys.argv[2]))
	def qname(prefix, s):
	    return prefix + ":" + urllib.parse.quote(s, safe="._~/-")
	# (path, id) -> [(end, position, job id)] of every known output
	writings = {}
	for pos, j in enumerate(jobs):
	    for o in j["outputs"]:
	        if o["id"]:
	            writings.setdefault((o["path"], o["id"]), []).append((j["end"], pos, j["id"]))
	expect = []
	for j in jobs:
	    for i in j["inputs"]:
	        if not i["id"]:
	            continue
	        before = [w for w in writings.get((i["path"], i["id"]), []) if w[0] < j["start"]]
	        entity = ("blob:" + i["id"] if not before
	                  else qname("out", max(before)[2] + "/" + i["path"]))
	        expect.append(("job:" + j["id"], entity))
	got = [(u["prov:activity"], u["prov:entity"]) for u in prov["used"].values()]
	assert got == expect, (len(got), len(expect))
	assert any(e.startswith("out:") for _, e in got)
	assert len(prov["activity"]) == len(jobs)
	assert len(prov["wasGeneratedBy"]) == sum(len(j["outputs"]) for j in jobs)
	assert list(prov["activity"]) == ["job:" + j["id"] for j in jobs]
	users = list(dict.fromkeys(j["user"] for j in jobs if j["user"]))
	assert list(prov["agent"]) == [qname("agent", u) for u in users]
	PY
'

test_expect_success 'openlineage and dot list the jobs in the json order' '
    cd "$clone" &&
    git roar export --format openlineage >"$TEST_ROOT/all.ol" &&
    git roar export --format dot >"$TEST_ROOT/all.dot" &&
    /usr/bin/python3 - "$TEST_ROOT/all.json" "$TEST_ROOT/all.ol" "$TEST_ROOT/all.dot" <<-\PY
	import json, re, sys
	ids = [j["id"] for j in json.load(open(sys.argv[1]))["jobs"]]
	events = [json.loads(l) for l in open(sys.argv[2])]
	assert [e["eventType"] for e in events[::2]] == ["START"] * len(ids)
	runs = [e["run"]["runId"] for e in events]
	assert runs[::2] == runs[1::2] and len(set(runs)) == len(ids)
	def uuid(i):
	    h = list(i[:32]); h[12] = "5"; h[16] = "0123456789abcdef"[(int(h[16], 16) & 3) | 8]
	    h = "".join(h)
	    return "-".join((h[:8], h[8:12], h[12:16], h[16:20], h[20:32]))
	assert runs[::2] == [uuid(i) for i in ids]
	drawn = re.findall(r"^  \"job:([0-9a-f]{40})\" \[shape=box", open(sys.argv[3]).read(), re.M)
	assert drawn == ids
	PY
'

test_done
