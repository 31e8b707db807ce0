#!/bin/bash
# OBJ resolution (SPEC §3) through `git roar show`: a file, `<rev>:<path>`, a job prefix,
# a commit, a blob id prefix; a string naming two kinds is fatal listing both; a commit
# shows which changed files a job produced, also under a `text eol=crlf` attribute.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-run.sh"

# A commit with one produced file (out.txt, by a real job) and one hand-edited file.
make_commit() {
    roar_setup &&
    printf "raw\n" >raw.txt && git add raw.txt && git commit -q -m base &&
    roar_run sh -c "tr a-z A-Z <raw.txt >out.txt" &&
    JOB=$(record_field job) &&
    echo hand >hand.txt &&
    git add out.txt hand.txt && git commit -q -m work &&
    git roar attach -q
}

test_expect_success 'every kind resolves: file, rev:path, job, commit, blob' '
    make_commit &&
    OUT=$(git hash-object --no-filters out.txt) &&
    git roar show --json out.txt >j && grep -q "\"kind\":\"file\"" j && grep -q "$JOB" j &&
    git roar show --json HEAD:out.txt >j && grep -q "\"kind\":\"blob\"" j &&
    grep -q "\"commit\":\"$(git rev-parse HEAD)\"" j && grep -q "$JOB" j &&
    git roar show --json ${JOB:0:8} >j && grep -q "\"kind\":\"job\"" j &&
    git roar show --json HEAD >j && grep -q "\"kind\":\"commit\"" j &&
    git roar show --json ${OUT:0:10} >j && grep -q "\"kind\":\"blob\"" j &&
    grep -q "\"id\":\"$OUT\"" j && grep -q "$JOB" j
'

test_expect_success 'a file named like a job prefix is ambiguous, fatal, lists both' '
    make_commit &&
    P=${JOB:0:6} && echo x >$P &&
    test_expect_code 128 git roar show $P 2>err &&
    test_grep "ambiguous" err &&
    test_grep "file $P" err &&
    test_grep "job $JOB" err &&
    git roar show -- $P >out && test_grep "^file $P$" out
'

test_expect_success 'an abbreviated commit id is a commit; a tree is nothing' '
    make_commit &&
    C=$(git rev-parse HEAD) &&
    git roar show ${C:0:10} >out && test_grep "^commit $C$" out &&
    test_expect_code 128 git roar show HEAD^{tree} 2>err &&
    test_grep "is neither" err
'

test_expect_success 'show COMMIT: the attached job, one produced and one unproduced file' '
    make_commit &&
    git roar show HEAD >out &&
    test_grep "^commit $(git rev-parse HEAD)$" out &&
    test_grep "^  ${JOB:0:7} .*tr a-z A-Z" out &&
    test_grep "^  produced   out.txt  by ${JOB:0:7}$" out &&
    test_grep "^  unproduced hand.txt$" out &&
    test_grep "2, 1 produced by a recorded job" out &&
    git roar show --json HEAD >j &&
    python3 - <<-PYEOF
	import json
	d = json.load(open("j"))
	f = {x["path"]: x for x in d["files"]}
	assert f["out.txt"]["produced"] and f["out.txt"]["produced_by"] == ["$JOB"], f
	assert not f["hand.txt"]["produced"], f
	assert d["jobs"][0]["id"] == "$JOB", d
	PYEOF
'

test_expect_success 'show COMMIT under text eol=crlf: the work-tree bytes still match' '
    roar_setup &&
    printf "*.txt text eol=crlf\n" >.gitattributes &&
    printf "raw\n" >raw.txt && git add .gitattributes raw.txt && git commit -q -m base &&
    roar_run sh -c "printf \"A\\r\\nB\\r\\n\" >out.txt" &&
    JOB=$(record_field job) &&
    git add out.txt && git commit -q -m crlf &&
    test "$(git rev-parse HEAD:out.txt)" != "$(git hash-object --no-filters out.txt)" &&
    git roar attach -q &&
    git roar show HEAD >out &&
    test_grep "^  produced   out.txt  by ${JOB:0:7}$" out &&
    git roar show HEAD:out.txt >out &&
    test_grep "work-tree form $(git hash-object --no-filters out.txt)" out &&
    test_grep "^  ${JOB:0:7} " out
'

test_expect_success 'nothing matches: fatal naming what was tried' '
    make_commit &&
    test_expect_code 128 git roar show no-such-thing 2>err &&
    test_grep "neither an existing file nor a job id" err
'

test_expect_success 'a directory: every recorded output beneath it, with its producer' '
    roar_setup &&
    mkdir -p models other && echo r >raw &&
    roar_run sh -c "cat raw >models/a" && A=$(record_field job) &&
    roar_run sh -c "cat raw raw >models/b" && B=$(record_field job) &&
    roar_run sh -c "cat raw raw raw >other/c" &&
    echo hand >models/b &&
    git roar show models >out &&
    test_grep "^directory models (2 recorded outputs)$" out &&
    test_grep "^  models/a  [0-9a-f]\{7\}  ok$" out &&
    test_grep "^  models/b  [0-9a-f]\{7\}  modified$" out &&
    test_grep "^    produced by ${A:0:7} " out && test_grep "^    produced by ${B:0:7} " out &&
    test_grep -v "other/c" out &&
    git roar show --json models/ | /usr/bin/python3 -c "import json, sys; d = json.load(sys.stdin); \
assert d[\"kind\"] == \"directory\" and [o[\"path\"] for o in d[\"outputs\"]] == [\"models/a\", \"models/b\"], d"
'

test_done
