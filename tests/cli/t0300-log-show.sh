#!/bin/bash
# `git roar log` and `git roar show` over the cache: listings, scope (HEAD + pending),
# path filters relative to cwd, jobs by prefix, files by content, and the --json schemas.
# Jobs are real records put into the cache by tests/cli/helpers/roar-put-job.
. "$(dirname "$0")/lib.sh"

PUT="$ROAR_BUILD_DIR/tests/cli/helpers/roar-put-job"
PY=/usr/bin/python3

# job_body COMMAND START END EXITLINE [LINE...]: a record without its `job` line, in
# record order, so its blob id is the job id the codec computes.
job_body() {
    local cmd=$1 start=$2 end=$3 exitline=$4
    shift 4
    printf 'command %s\ncwd .\ndirty 0\ntracer preload\nstart %s\nend %s\n%s\n' \
        "$cmd" "$start" "$end" "$exitline"
    local l
    for l in "$@"; do printf '%s\n' "$l"; done
}

blob() {
    git hash-object --no-filters "$1"
}

short() {
    printf '%s\n' "${1:0:7}"
}

# A pipeline prep -> train with a later failed job, the first two attached to HEAD.
make_pipeline() {
    mkdir -p data models &&
    printf 'a,b\n1,2\n' >data/raw.csv &&
    printf 'a,b\n1,2\n3,4\n' >data/clean.csv &&
    printf 'weights\n' >models/model.bin &&
    git add data/raw.csv && git commit -q -m base &&
    HEAD_ID=$(git rev-parse HEAD) &&
    RAW=$(blob data/raw.csv) && CLEAN=$(blob data/clean.csv) && MODEL=$(blob models/model.bin) &&
    PREP=$(job_body "python3 prep.py" 2026-01-01T00:00:00.000Z 2026-01-01T00:00:01.000Z "exit 0" \
        "in $RAW 8 data/raw.csv" "out $CLEAN 12 data/clean.csv" | "$PUT" --attach "$HEAD_ID") &&
    TRAIN=$(job_body "python3 train.py --epochs 10" 2026-01-01T00:00:02.000Z \
        2026-01-01T00:00:05.000Z "exit 0" "in $CLEAN 12 data/clean.csv" \
        "out $MODEL 8 models/model.bin" | "$PUT" --attach "$HEAD_ID") &&
    FAIL=$(job_body "sh -c 'exit 3'" 2026-01-01T00:00:06.000Z 2026-01-01T00:00:07.250Z \
        "signal 9" "in $MODEL 8 models/model.bin" "incomplete events-lost 4" | "$PUT" --pending)
}

test_expect_success 'no cache yet: log and show say there are no jobs, exit 0' '
    git roar log >out 2>err &&
    echo "no jobs recorded yet" >expect &&
    test_cmp expect out &&
    test_must_be_empty err &&
    git roar log --json >out &&
    echo "{\"version\":1,\"jobs\":[]}" >expect &&
    test_cmp expect out &&
    git roar show abcd1234 >out &&
    echo "no jobs recorded yet" >expect &&
    test_cmp expect out &&
    git roar log -q >out &&
    test_must_be_empty out &&
    test_path_is_missing() { ! test -e "$1"; } &&
    test_path_is_missing .git/roar/cache.db
'

test_expect_success 'log lists jobs newest first: id, end, exit or signal, commits or pending, command' '
    make_pipeline &&
    git roar log >out &&
    {
        echo "$(short $FAIL)  2026-01-01T00:00:07.250Z  signal 9  pending  sh -c '"'"'exit 3'"'"'  [incomplete]" &&
        echo "$(short $TRAIN)  2026-01-01T00:00:05.000Z  exit 0  $(short $HEAD_ID)  python3 train.py --epochs 10" &&
        echo "$(short $PREP)  2026-01-01T00:00:01.000Z  exit 0  $(short $HEAD_ID)  python3 prep.py"
    } >expect &&
    test_cmp expect out
'

test_expect_success 'log -n limits, --pending keeps only pending jobs' '
    make_pipeline &&
    git roar log -n 2 >out &&
    test_line_count() { test $(wc -l <"$2") -eq "$1" || { cat "$2"; false; }; } &&
    test_line_count 2 out &&
    test_grep "^$(short $FAIL) " out &&
    test_grep "^$(short $TRAIN) " out &&
    git roar log -n 0 >out &&
    test_must_be_empty out &&
    git roar log --pending >out &&
    test_line_count 1 out &&
    test_grep "^$(short $FAIL) .* pending " out
'

test_expect_success 'log -- PATH: jobs that read or wrote it, paths relative to cwd' '
    make_pipeline &&
    git roar log -- data/clean.csv >out &&
    printf "%s\n%s\n" "$(short $TRAIN)" "$(short $PREP)" >expect &&
    cut -c1-7 out >actual &&
    test_cmp expect actual &&
    (cd data && git roar log -- clean.csv) >out2 &&
    test_cmp out out2 &&
    (cd models && git roar log -- ../data/raw.csv) | cut -c1-7 >actual &&
    short $PREP >expect &&
    test_cmp expect actual &&
    git roar log models >out &&
    cut -c1-7 out >actual &&
    printf "%s\n%s\n" "$(short $FAIL)" "$(short $TRAIN)" >expect &&
    test_cmp expect actual &&
    (cd data && git roar log .) | cut -c1-7 >actual &&
    printf "%s\n%s\n" "$(short $TRAIN)" "$(short $PREP)" >expect &&
    test_cmp expect actual
'

test_expect_success 'log PATH without -- must exist; after -- a deleted path is fine' '
    make_pipeline &&
    test_expect_code 128 git roar log data/nope.csv >out 2>err &&
    test_grep "^fatal: ambiguous argument .data/nope.csv." err &&
    rm data/clean.csv &&
    git roar log -- data/clean.csv >out &&
    test $(wc -l <out) -eq 2 &&
    test_expect_code 128 git roar log -- .git/config 2>err &&
    test_grep "inside the git directory" err
'

test_expect_success 'scope: jobs attached to commits HEAD cannot reach are not listed' '
    make_pipeline &&
    git checkout -q -b side &&
    git commit -q --allow-empty -m side &&
    SIDE=$(job_body "python3 side.py" 2026-01-02T00:00:00.000Z 2026-01-02T00:00:01.000Z "exit 0" \
        "out $(echo side | git hash-object --stdin) 5 side.out" |
        "$PUT" --attach "$(git rev-parse HEAD)") &&
    git roar log >out &&
    test_grep "^$(short $SIDE) .* python3 side.py" out &&
    git checkout -q main &&
    git roar log >out &&
    test_grep -v "^$(short $SIDE)" out &&
    test $(wc -l <out) -eq 3 &&
    git roar show "$SIDE" >out &&
    test_grep "^attached  $(git rev-parse side) (not reachable from HEAD)$" out
'

test_expect_success 'log --json: the documented schema with exact values' '
    make_pipeline &&
    git roar log --json >out &&
    $PY - "$FAIL" "$TRAIN" "$PREP" "$HEAD_ID" "$(git rev-parse --absolute-git-dir)" <<-\PYEOF
	import json, sys
	fail, train, prep, head, gitdir = sys.argv[1:]
	doc = json.load(open("out"))
	assert doc["version"] == 1, doc
	jobs = doc["jobs"]
	assert [j["id"] for j in jobs] == [fail, train, prep], jobs
	f, t = jobs[0], jobs[1]
	assert f["command"] == "sh -c '"'"'exit 3'"'"'" and f["argv"] == ["sh", "-c", "exit 3"], f
	assert f["exit"] is None and f["signal"] == 9, f
	assert f["pending"] is True and f["pending_worktree"] == gitdir and f["commits"] == [], f
	assert f["incomplete"] == [{"reason": "events-lost", "count": 4, "path": None}], f
	assert f["start"] == "2026-01-01T00:00:06.000Z" and f["end"] == "2026-01-01T00:00:07.250Z"
	assert t["exit"] == 0 and t["signal"] is None and t["commits"] == [head], t
	assert t["pending"] is False and t["other_commits"] == [] and t["cwd"] == "."
	assert "inputs" not in t
	PYEOF
'

test_expect_success 'show JOB: the whole record, by any prefix of 4 or more digits' '
    make_pipeline &&
    git roar show "${TRAIN:0:4}" >out &&
    cat >expect <<-EOF &&
	job $TRAIN
	command   python3 train.py --epochs 10
	cwd       .
	attached  $HEAD_ID
	tracer    preload
	start     2026-01-01T00:00:02.000Z
	end       2026-01-01T00:00:05.000Z (3.000 s)
	exit      0

	inputs (1):
	  $CLEAN         12  data/clean.csv

	outputs (1):
	  $MODEL          8  models/model.bin
	EOF
    test_cmp expect out &&
    git roar show "$(echo $FAIL | tr a-f A-F)" >out &&
    test_grep "^attached  pending$" out &&
    test_grep "^signal    9$" out &&
    test_grep "^incomplete events-lost 4$" out &&
    test_expect_code 128 git roar show abc 2>err &&
    test_grep "neither an existing file nor a job id" err
'

test_expect_success 'show --json JOB: the full job object' '
    make_pipeline &&
    git roar show --json "$PREP" >out &&
    $PY - "$PREP" "$RAW" "$CLEAN" "$HEAD_ID" <<-\PYEOF
	import json, sys
	prep, raw, clean, head = sys.argv[1:]
	doc = json.load(open("out"))
	assert doc["version"] == 1 and doc["kind"] == "job", doc
	j = doc["job"]
	assert j["id"] == prep and j["commits"] == [head], j
	assert j["inputs"] == [{"path": "data/raw.csv", "id": raw, "size": 8}], j
	assert j["outputs"] == [{"path": "data/clean.csv", "id": clean, "size": 12}], j
	assert j["deleted"] == [] and j["env"] == [] and j["extra"] == [], j
	assert j["base"] is None and j["dirty"] is False and j["tracer"] == "preload", j
	assert j["host"] is None and j["user"] is None, j
	PYEOF
'

test_expect_success 'show JOB: an ambiguous prefix is fatal and lists the candidates' '
    git commit -q --allow-empty -m base &&
    $PY - <<-\PYEOF &&
	import hashlib
	def body(i):
	    return ("command echo %d\ncwd .\ndirty 0\ntracer preload\n"
	            "start 2026-01-01T00:00:00.000Z\nend 2026-01-01T00:00:01.000Z\nexit 0\n" % i).encode()
	def jid(b):
	    return hashlib.sha1(b"blob %d\0" % len(b) + b).hexdigest()
	seen = {}
	for i in range(100000):
	    p = jid(body(i))[:4]
	    if p in seen:
	        open("a", "wb").write(body(seen[p])); open("b", "wb").write(body(i))
	        break
	    seen[p] = i
	PYEOF
    A=$("$PUT" --pending <a) && B=$("$PUT" --pending <b) &&
    test "${A:0:4}" = "${B:0:4}" &&
    test_expect_code 128 git roar show "${A:0:4}" 2>err &&
    test_grep "ambiguous" err &&
    test_grep "$A" err &&
    test_grep "$B" err &&
    git roar show "$A" >out &&
    test_grep "^job $A$" out
'

test_expect_success 'show FILE: the jobs that produced and consumed its exact content' '
    make_pipeline &&
    git roar show data/clean.csv >out &&
    cat >expect <<-EOF &&
	file data/clean.csv
	blob $CLEAN (12 bytes)

	produced by:
	  $(short $PREP)  2026-01-01T00:00:01.000Z  exit 0  $(short $HEAD_ID)  python3 prep.py
	consumed by:
	  $(short $TRAIN)  2026-01-01T00:00:05.000Z  exit 0  $(short $HEAD_ID)  python3 train.py --epochs 10
	EOF
    test_cmp expect out &&
    (cd data && git roar show clean.csv) >out2 &&
    test_cmp out out2 &&
    (cd models && git roar show ../data/clean.csv) >out2 &&
    test_cmp out out2
'

test_expect_success 'show FILE: the same content under another name says so' '
    make_pipeline &&
    cp data/clean.csv copy.csv &&
    git roar show copy.csv >out &&
    test_grep "^  $(short $PREP) " out &&
    test_grep "^    as data/clean.csv$" out
'

test_expect_success 'show FILE: content no job produced names the latest writer and how it differs' '
    make_pipeline &&
    printf "edited by hand\n" >data/clean.csv &&
    NOW=$(blob data/clean.csv) &&
    git roar show data/clean.csv >out &&
    cat >expect <<-EOF &&
	file data/clean.csv
	blob $NOW (15 bytes)

	produced by: no job produced this content
	consumed by: no job read this content

	latest job that wrote data/clean.csv:
	  $(short $PREP)  2026-01-01T00:00:01.000Z  exit 0  $(short $HEAD_ID)  python3 prep.py
	  content differs: the job wrote $CLEAN (12 bytes); the file is now $NOW (15 bytes)
	EOF
    test_cmp expect out &&
    git roar show --json data/clean.csv >out &&
    $PY - "$PREP" "$CLEAN" "$NOW" <<-\PYEOF
	import json, sys
	prep, clean, now = sys.argv[1:]
	doc = json.load(open("out"))
	assert doc["kind"] == "file" and doc["path"] == "data/clean.csv", doc
	assert doc["exists"] is True and doc["id"] == now and doc["size"] == 15, doc
	assert doc["produced_by"] == [] and doc["consumed_by"] == [], doc
	w = doc["latest_writer"]
	assert w["path"] == "data/clean.csv" and w["id"] == clean and w["size"] == 12, w
	assert w["job"]["id"] == prep, w
	PYEOF
'

test_expect_success 'show FILE: a file no job wrote, and a missing file after --' '
    make_pipeline &&
    echo notes >README &&
    git roar show README >out &&
    test_grep "^produced by: no job produced this content$" out &&
    test_grep "^no job wrote README$" out &&
    rm models/model.bin &&
    git roar show -- models/model.bin >out &&
    test_grep "^missing: the file does not exist$" out &&
    test_grep "^  $(short $TRAIN) " out &&
    test_grep "the file is now missing" out &&
    git roar show --json -- models/model.bin >out &&
    $PY -c "import json; d = json.load(open(\"out\")); assert d[\"exists\"] is False and d[\"id\"] is None, d"
'

test_expect_success 'show: a name that is both a file and a job prefix is fatal, listing both' '
    make_pipeline &&
    P=${TRAIN:0:6} &&
    echo x >$P &&
    test_expect_code 128 git roar show $P 2>err &&
    test_grep "ambiguous" err &&
    test_grep "file $P" err &&
    test_grep "job $TRAIN" err &&
    git roar show -- $P >out &&
    test_grep "^file $P$" out
'

test_expect_success 'show: a directory lists its outputs, git dirs are refused; a revision is a commit' '
    make_pipeline &&
    git roar show data >out &&
    test_grep "^directory data (1 recorded output)$" out &&
    test_expect_code 128 git roar show .git/HEAD 2>err &&
    test_grep "inside the git directory" err &&
    git roar show HEAD >out &&
    test_grep "^commit $(git rev-parse HEAD)$" out &&
    test_expect_code 128 git roar show 0000000000 2>err &&
    test_grep "no job matches" err
'

test_expect_success 'odd names: quoted in text, exact in JSON (with _hex for non-UTF-8)' '
    git commit -q --allow-empty -m base &&
    printf "v\n" >"$(printf "sp ace\\377.bin")" &&
    ID=$(blob "$(printf "sp ace\\377.bin")") &&
    J=$(job_body "gen" 2026-01-01T00:00:00.000Z 2026-01-01T00:00:01.000Z "exit 0" \
        "out $ID 2 \"sp ace\\377.bin\"" | "$PUT" --pending) &&
    git roar show "$(printf "sp ace\\377.bin")" >out &&
    test_grep -F "file \"sp ace\\377.bin\"" out &&
    git roar log -- "$(printf "sp ace\\377.bin")" | cut -c1-7 >actual &&
    short $J >expect &&
    test_cmp expect actual &&
    git roar show --json "$J" >out &&
    $PY -c "
import json
d = json.load(open(\"out\"))[\"job\"][\"outputs\"][0]
assert d[\"path\"] == \"sp ace\ufffd.bin\", d
assert bytes.fromhex(d[\"path_hex\"]) == b\"sp ace\xff.bin\", d
"
'

test_expect_success 'outside the work tree: absolute recorded paths' '
    git commit -q --allow-empty -m base &&
    mkdir -p "$TEST_DIR/ext" &&
    printf "ext\n" >"$TEST_DIR/ext/in.txt" &&
    ID=$(git hash-object --no-filters "$TEST_DIR/ext/in.txt") &&
    J=$(job_body "cat" 2026-01-01T00:00:00.000Z 2026-01-01T00:00:01.000Z "exit 0" \
        "in $ID 4 $TEST_DIR/ext/in.txt" | "$PUT" --pending) &&
    git roar show "$TEST_DIR/ext/in.txt" >out &&
    test_grep "^file $TEST_DIR/ext/in.txt$" out &&
    test_grep "^consumed by:$" out &&
    test_grep "^  $(short $J) " out &&
    (cd "$TEST_DIR" && git -C repo roar log -- "$TEST_DIR/ext") | cut -c1-7 >actual &&
    short $J >expect &&
    test_cmp expect actual
'

test_expect_success 'a bare repository: show JOB works, paths need a work tree' '
    git init -q --bare "$TEST_DIR/bare.git" &&
    cd "$TEST_DIR/bare.git" &&
    J=$(job_body "true" 2026-01-01T00:00:00.000Z 2026-01-01T00:00:01.000Z "exit 0" | "$PUT" --pending) &&
    git roar show "$J" >out &&
    test_grep "^job $J$" out &&
    git roar log >out &&
    test_grep "^$(short $J) " out &&
    test_expect_code 128 git roar log -- x 2>err &&
    test_grep "must be run in a work tree" err
'

test_expect_success 'with git roar run: a two-step pipeline as log and show see it' '
    printf "abc\n" >in.txt && git add in.txt && git commit -q -m base &&
    git roar run -q sh -c "tr a-z A-Z <in.txt >up.txt" &&
    git roar run -q sh -c "wc -c <up.txt >n.txt" &&
    git roar log --json >out &&
    FIRST=$($PY -c "import json; print(json.load(open(\"out\"))[\"jobs\"][1][\"id\"])") &&
    SECOND=$($PY -c "import json; print(json.load(open(\"out\"))[\"jobs\"][0][\"id\"])") &&
    git roar log | cut -c1-7 >actual &&
    printf "%s\n%s\n" "$(short $SECOND)" "$(short $FIRST)" >expect &&
    test_cmp expect actual &&
    git roar log | sed -n 2p >line &&
    test_grep "^$(short $FIRST)  .*  exit 0  pending  sh -c '"'"'tr a-z A-Z <in.txt >up.txt'"'"'$" line &&
    git roar show up.txt >out &&
    grep -A1 "^produced by:$" out >prod &&
    test_grep "^  $(short $FIRST) " prod &&
    grep -A1 "^consumed by:$" out >cons &&
    test_grep "^  $(short $SECOND) " cons &&
    git roar log -- in.txt | cut -c1-7 >actual &&
    short $FIRST >expect &&
    test_cmp expect actual &&
    git roar show "$SECOND" >out &&
    test_grep "^  $(blob up.txt)          4  up.txt$" out &&
    test_grep "^  $(blob n.txt)          2  n.txt$" out
'

test_done
