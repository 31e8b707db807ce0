#!/bin/bash
# git roar status (SPEC §6.2) over real `git roar run` jobs: states and their precedence,
# cascades through producers, failed jobs, in-place updates, the rerun order, --json,
# --exit-code.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-run.sh"
. "$(dirname "$0")/lib-queries.sh"

require_preload 'git roar status'

test_expect_success 'all ok; --exit-code 0; no outputs at all is ok too' '
    roar_setup &&
    git roar status >out && echo "no recorded outputs" >expect && test_cmp expect out &&
    git roar status --exit-code &&
    two_branches &&
    git roar status >out &&
    echo "3 outputs: 3 ok" >expect &&
    test_cmp expect out &&
    git roar status --all >out &&
    printf "%-9s %s\n" ok clean ok model ok side >expect &&
    echo >>expect && echo "3 outputs: 3 ok" >>expect &&
    test_cmp expect out &&
    git roar status --exit-code
'

test_expect_success 'change the raw input: every downstream output stale, the other branch ok' '
    two_branches &&
    echo changed >raw &&
    test "$(state_of clean)" = stale && test "$(state_of model)" = stale &&
    test "$(state_of side)" = ok &&
    git roar status >out &&
    grep "^stale     model  (input clean)$" out &&
    test_expect_code 1 git roar status --exit-code >/dev/null &&
    git roar status >/dev/null
'

test_expect_success 'the jobs to rerun come in dependency order' '
    two_branches &&
    echo changed >raw &&
    git roar status --json >json &&
    $PY - "$CLEAN" "$MODEL" <<-\PY
	import json, sys
	d = json.load(open("json"))
	assert [j["id"] for j in d["rerun"]] == sys.argv[1:3], d["rerun"]
	PY
'

test_expect_success 'an output edited by hand is modified; its consumers stale' '
    two_branches &&
    echo hand >clean &&
    test "$(state_of clean)" = modified && test "$(state_of model)" = stale
'

test_expect_success 'a deleted intermediate is missing, and what it fed stale' '
    two_branches &&
    rm clean &&
    test "$(state_of clean)" = missing && test "$(state_of model)" = stale &&
    test "$(state_of side)" = ok
'

test_expect_success 'missing wins over stale; modified wins over stale' '
    two_branches &&
    echo changed >raw && rm model &&
    test "$(state_of model)" = missing &&
    echo x >model &&
    test "$(state_of model)" = modified
'

test_expect_success 'a failed job produces nothing' '
    roar_setup &&
    step "echo good >out" && GOOD=$(last_job) &&
    test_must_fail git roar run -q sh -c "echo bad >out; exit 1" &&
    test "$(state_of out)" = modified &&
    git roar status --json | $PY -c "import json, sys; \
o = json.load(sys.stdin)[\"outputs\"]; assert [x[\"job\"] for x in o] == [\"$GOOD\"], o"
'

test_expect_success 'a file updated in place keeps its chain: judged through its previous writer' '
    roar_setup &&
    echo src >src &&
    step_preload "cat src >log" && FIRST=$(last_job) &&
    step_preload "echo more >>log" && SECOND=$(last_job) &&
    test "$(state_of log)" = ok &&
    echo new >src &&
    test "$(state_of log)" = stale &&
    git roar status --json >json &&
    $PY - "$FIRST" "$SECOND" <<-\PY
	import json, sys
	d = json.load(open("json"))
	assert d["outputs"][0]["job"] == sys.argv[2]
	assert [j["id"] for j in d["rerun"]] == sys.argv[1:3], d["rerun"]
	PY
'

test_expect_success 'an input recorded "-" makes its outputs unknown, not ok' '
    roar_setup &&
    echo result >result &&
    printf "command %s\ncwd .\ndirty 0\ntracer preload\nstart %s\nend %s\nexit 0\n%s\n%s\n" \
        "./make-result" 2026-01-01T00:00:00.000Z 2026-01-01T00:00:01.000Z \
        "in - 3 source" "out $(git hash-object result) 7 result" |
        "$ROAR_BUILD_DIR/tests/cli/helpers/roar-put-job" --pending &&
    test "$(state_of result)" = unknown &&
    step "cat result >after" &&
    test "$(state_of after)" = unknown &&
    test_expect_code 1 git roar status --exit-code >/dev/null
'

test_expect_success '--json: the documented fields' '
    two_branches &&
    rm side && echo changed >raw &&
    git roar status --json >json &&
    $PY - "$CLEAN" "$MODEL" "$SIDE" <<-\PY
	import json, sys
	clean, model, side = sys.argv[1:4]
	d = json.load(open("json"))
	assert d["version"] == 1
	o = {x["path"]: x for x in d["outputs"]}
	assert sorted(o) == ["clean", "model", "side"]
	assert o["clean"]["state"] == "stale" and o["clean"]["job"] == clean
	assert o["clean"]["because"] == "raw" and len(o["clean"]["id"]) == 40
	assert o["clean"]["current"] == o["clean"]["id"]
	assert o["model"]["state"] == "stale" and o["model"]["because"] == "clean"
	assert o["side"]["state"] == "missing" and o["side"]["current"] is None
	assert o["side"]["because"] is None
	r = [j["id"] for j in d["rerun"]]
	assert r.index(clean) < r.index(model) and side in r, r
	assert all("command" in j and "cwd" in j for j in d["rerun"])
	PY
'

test_expect_success 'scope: a job attached only to a commit HEAD cannot reach is not a producer' '
    roar_setup &&
    git commit -q --allow-empty -m base &&
    git checkout -q -b other &&
    step "echo from-other >f" &&
    git commit -q --allow-empty -m other && git roar attach >/dev/null 2>&1 &&
    git checkout -q - &&
    echo edited >f &&
    git roar status >out &&
    echo "no recorded outputs" >expect && test_cmp expect out
'

test_expect_success 'scope by content: the work tree holding what it wrote brings the job in' '
    roar_setup &&
    git commit -q --allow-empty -m base &&
    git checkout -q -b other &&
    step "echo from-other >f" &&
    git commit -q --allow-empty -m other && git roar attach >/dev/null 2>&1 &&
    git checkout -q - &&
    test "$(state_of f)" = ok
'

test_expect_success 'only what needs attention is listed, with a summary; --all lists the rest' '
    two_branches &&
    echo changed >raw && rm side &&
    git roar status >out &&
    cat >expect <<-EOF &&
	stale     clean  (input raw)
	stale     model  (input clean)
	missing   side

	3 outputs: 1 missing, 2 stale
	EOF
    head -n 5 out >head && test_cmp expect head &&
    test_grep "^jobs to rerun, in order (3):" out &&
    git roar status --json >json &&
    $PY -c "import json; d = json.load(open(\"json\")); s = d[\"summary\"]; \
assert (s[\"total\"], s[\"stale\"], s[\"missing\"], s[\"ok\"]) == (3, 2, 1, 0), s"
'

test_expect_success 'PATH arguments narrow the list, the summary and the jobs to rerun' '
    two_branches &&
    rm side && echo changed >raw &&
    git roar status side >out &&
    test_grep "^missing   side$" out &&
    test_grep -v "clean" out &&
    test_grep "^1 output: 1 missing$" out &&
    test_grep "^jobs to rerun, in order (1):" out &&
    git roar status --exit-code . >/dev/null; test $? = 1 &&
    mkdir -p sub && git roar status nothing-here >out &&
    test_grep "no recorded outputs under the given paths" out
'

test_expect_success 'a later job that deleted an output retires it' '
    roar_setup &&
    step "echo x >gone" &&
    test "$(state_of gone)" = ok &&
    step "rm gone" &&
    git roar status >out &&
    echo "no recorded outputs" >expect && test_cmp expect out &&
    step "echo again >gone" &&
    test "$(state_of gone)" = ok
'

test_expect_success 'a note whose times cannot be true produces nothing' '
    roar_setup &&
    step "echo good >f" && GOOD=$(last_job) &&
    for times in "2026-01-01T00:00:00.000Z 9999-12-31T23:59:59.000Z" \
                 "2026-06-01T00:00:00.000Z 2026-01-01T00:00:00.000Z"; do
        set -- $times &&
        printf "command %s\ncwd .\ndirty 0\ntracer preload\nstart %s\nend %s\nexit 0\n%s\n" \
            "./forge" "$1" "$2" "out $(echo evil | git hash-object --stdin) 5 f" |
            "$ROAR_BUILD_DIR/tests/cli/helpers/roar-put-job" --pending >/dev/null || return 1
    done &&
    git roar status --all >out 2>err &&
    test_grep "^ok        f$" out &&
    test_grep "2 jobs left out: their times cannot be true" err &&
    git roar log >out 2>err &&
    test_grep "2 jobs left out: their times cannot be true" err &&
    test "$(wc -l <out)" = 1 && test_grep "^${GOOD:0:7} " out &&
    git roar status --json | $PY -c "import json, sys; \
o = json.load(sys.stdin)[\"outputs\"]; assert o == [], o"
'

test_expect_success 'hostile outputs: unreadable paths are unknown, files outside are never hashed' '
    roar_setup &&
    long=$(printf "%0300d" 0) && mkdir d && ln -s loop loop &&
    truncate -s 50G "$TEST_DIR/big.bin" &&
    put() {
        printf "command %s\ncwd .\ndirty 0\ntracer preload\nstart %s\nend %s\nexit 0\n%s\n" \
            "./forge" 2026-01-01T00:00:00.000Z 2026-01-01T00:00:01.000Z \
            "out $(echo x | git hash-object --stdin) 2 $1" |
            "$ROAR_BUILD_DIR/tests/cli/helpers/roar-put-job" --pending >/dev/null
    } &&
    put "d/$long" && put loop && put "$TEST_DIR/big.bin" &&
    start=$(date +%s) &&
    git roar status --all >out 2>err &&
    test $(($(date +%s) - start)) -lt 20 &&
    test_grep "^unknown   d/$long$" out &&
    test_grep "^unknown   loop$" out &&
    test_grep "^unknown   $TEST_DIR/big.bin$" out &&
    test_expect_code 1 git roar status --exit-code >/dev/null
'

test_expect_success 'an input outside the work tree this clone recorded is judged; others are not' '
    roar_setup &&
    git config roar.include "$TEST_DIR/**" && echo outside >"$TEST_DIR/in.txt" &&
    step "cat $TEST_DIR/in.txt >copy" &&
    test "$(state_of copy)" = ok &&
    echo changed >"$TEST_DIR/in.txt" &&
    git roar status --all >out &&
    test_grep "^stale     copy  (input $TEST_DIR/in.txt)$" out &&
    echo theirs >"$TEST_DIR/theirs.txt" && echo r >r &&
    printf "command %s\ncwd .\ndirty 0\ntracer preload\nstart %s\nend %s\nexit 0\n%s\n%s\n" \
        "./forge" 2026-01-01T00:00:00.000Z 2026-01-01T00:00:01.000Z \
        "in $(git hash-object "$TEST_DIR/theirs.txt") 7 $TEST_DIR/theirs.txt" \
        "out $(git hash-object r) 2 r" |
        "$ROAR_BUILD_DIR/tests/cli/helpers/roar-put-job" --pending >/dev/null &&
    git roar status --all >out &&
    test_grep "^unknown   r  (input $TEST_DIR/theirs.txt)$" out
'

# put_foreign HOST IN_ID IN_PATH OUT: a job recorded on HOST (another clone's, come with
# its notes) that read IN_PATH as IN_ID and wrote OUT as it is now.
put_foreign() {
    printf "command %s\ncwd .\ndirty 0\ntracer preload\nhost %s\nstart %s\nend %s\nexit 0\n%s\n%s\n" \
        "./train" "$1" 2026-01-01T00:00:00.000Z 2026-01-01T00:00:01.000Z \
        "in $2 7 $3" "out $(git hash-object "$4") $(wc -c <"$4" | tr -d " ") $4" |
        "$ROAR_BUILD_DIR/tests/cli/helpers/roar-put-job" --pending >/dev/null
}

test_expect_success 'inputs outside the work tree recorded on another host are not checked' '
    roar_setup &&
    git config roar.include "$TEST_DIR/**" &&
    mkdir -p "$TEST_DIR/pyenv" && echo "ours" >"$TEST_DIR/pyenv/lib.py" &&
    # this host read its lib.py: the stat cache knows the file, status would judge it
    step "cat $TEST_DIR/pyenv/lib.py >copy" &&
    test "$(state_of copy)" = ok &&
    # their lib.py held other bytes, and their /opt is not here at all
    theirs=$(echo theirs | git hash-object --stdin) &&
    echo r >r && put_foreign build-07 "$theirs" "$TEST_DIR/pyenv/lib.py" r &&
    echo s >s && put_foreign build-07 "$theirs" "/opt/theirs-$$/lib.py" s &&
    git roar status >out && cat out &&
    echo "3 outputs: 3 ok; 2 with inputs from another host, not checked" >expect &&
    test_cmp expect out &&
    git roar status --exit-code &&
    git roar status --all >out && cat out &&
    test_grep "^ok        r  (unchecked: $TEST_DIR/pyenv/lib.py, recorded on host build-07)$" out &&
    test_grep "^ok        s  (unchecked: /opt/theirs-$$/lib.py, recorded on host build-07)$" out &&
    test_grep "^ok        copy$" out &&
    git roar status --all --json | $PY -c "import json, sys; d = json.load(sys.stdin); \
o = {x[\"path\"]: x for x in d[\"outputs\"]}; \
assert o[\"r\"][\"state\"] == \"ok\" and o[\"r\"][\"unchecked\"] == \
    {\"path\": \"$TEST_DIR/pyenv/lib.py\", \"more\": 0, \"host\": \"build-07\"}, o; \
assert o[\"copy\"][\"unchecked\"] is None, o; assert d[\"summary\"][\"unchecked\"] == 2, d" &&
    # a change here makes this host'"'"'s job stale, never theirs
    echo "changed" >"$TEST_DIR/pyenv/lib.py" &&
    git roar status --all >out && cat out &&
    test_grep "^stale     copy  (input $TEST_DIR/pyenv/lib.py)$" out &&
    test_grep "^ok        r  (unchecked: " out
'

test_expect_success 'the same job recorded on this host is judged: changed or missing is stale' '
    roar_setup &&
    git config roar.include "$TEST_DIR/**" &&
    echo "ours" >"$TEST_DIR/lib.py" &&
    step "cat $TEST_DIR/lib.py >copy" &&
    echo r >r && put_foreign "$(hostname)" "$(git hash-object "$TEST_DIR/lib.py")" "$TEST_DIR/lib.py" r &&
    echo s >s && put_foreign "$(hostname)" "$(echo x | git hash-object --stdin)" "/opt/gone-$$/lib.py" s &&
    test "$(state_of r)" = ok &&
    echo "changed" >"$TEST_DIR/lib.py" &&
    git roar status --all >out && cat out &&
    test_grep "^stale     r  (input $TEST_DIR/lib.py)$" out &&
    test_grep "^stale     s  (input /opt/gone-$$/lib.py)$" out &&
    test_grep -v unchecked out
'

test_expect_success 'unchecked inputs upstream are shown on what was made from their outputs' '
    roar_setup &&
    echo r >r && put_foreign build-07 "$(echo x | git hash-object --stdin)" "/opt/theirs-$$/a.py" r &&
    step "cat r >r2" &&
    git roar status --all >out && cat out &&
    test_grep "^ok        r2  (unchecked: /opt/theirs-$$/a.py, recorded on host build-07)$" out
'

test_done
