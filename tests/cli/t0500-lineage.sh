#!/bin/bash
# git roar lineage over real `git roar run` jobs: chains, diamonds and fan-in through
# exact blob ids, failed jobs, --down, --depth, and the text/json/dot/mermaid forms.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-run.sh"
. "$(dirname "$0")/lib-queries.sh"

require_preload 'git roar lineage'

# lineage_json OBJ [OPTS]: "kind id-or-path" per node of the JSON graph, sorted.
lineage_nodes() {
    git roar lineage --format json "$@" | $PY -c '
import json, sys
d = json.load(sys.stdin)
for n in d["nodes"]:
    print(n["kind"], n["id"] if n["kind"] == "job" else n["path"])' | sort
}

test_expect_success 'linear chain: raw -> clean -> model, upstream and downstream' '
    roar_setup &&
    echo raw >raw.txt &&
    step "tr a-z A-Z <raw.txt >clean.txt" && A=$(last_job) &&
    step "cat clean.txt clean.txt >model.txt" && B=$(last_job) &&
    git roar lineage model.txt >out &&
    cat >expect <<-EOF &&
	model.txt  $(git hash-object model.txt | cut -c1-7)
	\`-- job ${B:0:7}  sh -c '"'"'cat clean.txt clean.txt >model.txt'"'"'
	    \`-- clean.txt  $(git hash-object clean.txt | cut -c1-7)
	        \`-- job ${A:0:7}  sh -c '"'"'tr a-z A-Z <raw.txt >clean.txt'"'"'
	            \`-- raw.txt  $(git hash-object raw.txt | cut -c1-7)
	EOF
    test_cmp expect out &&
    lineage_nodes --down raw.txt >nodes &&
    printf "%s\n" "artifact clean.txt" "artifact model.txt" "artifact raw.txt" \
        "job $A" "job $B" | sort >expect &&
    test_cmp expect nodes
'

test_expect_success 'diamond: a -> b, a -> c, b + c -> d: the lineage of d has all three jobs and a' '
    roar_setup &&
    echo a >a &&
    step "sed s/a/b/ a >b" && B=$(last_job) &&
    step "sed s/a/c/ a >c" && C=$(last_job) &&
    step "cat b c >d" && D=$(last_job) &&
    lineage_nodes d >nodes &&
    printf "%s\n" "artifact a" "artifact b" "artifact c" "artifact d" "job $B" "job $C" "job $D" |
        sort >expect &&
    test_cmp expect nodes &&
    git roar lineage d >out &&
    test "$(grep -c -- "-- a  " out)" = 2
'

test_expect_success 'fan-in ensemble: three trainings feed one combine' '
    roar_setup &&
    echo data >data &&
    step "echo 1 | cat data - >m1" && T1=$(last_job) &&
    step "echo 2 | cat data - >m2" && T2=$(last_job) &&
    step "echo 3 | cat data - >m3" && T3=$(last_job) &&
    step "cat m1 m2 m3 >ensemble" && E=$(last_job) &&
    lineage_nodes ensemble >nodes &&
    for j in $T1 $T2 $T3 $E; do grep -x "job $j" nodes || return 1; done &&
    test "$(grep -c "^job" nodes)" = 4 &&
    test "$(grep -cx "artifact data" nodes)" = 1 &&
    lineage_nodes --down data >down &&
    test "$(grep -c "^job" down)" = 4
'

test_expect_success 'matching is by content: an input matches the producer of that exact blob' '
    roar_setup &&
    step "echo one >f" && ONE=$(last_job) &&
    step "cp f g" && G=$(last_job) &&
    step "echo two >f" &&
    lineage_nodes g >nodes &&
    grep -x "job $ONE" nodes && grep -x "job $G" nodes &&
    test "$(grep -c "^job" nodes)" = 2
'

test_expect_success 'a failed job is shown but never taken as a producer' '
    roar_setup &&
    step "echo good >out" && GOOD=$(last_job) &&
    echo good >expect_content &&
    test_must_fail git roar run -q sh -c "echo good >out; exit 3" &&
    lineage_nodes out >nodes &&
    grep -x "job $GOOD" nodes && test "$(grep -c "^job" nodes)" = 1 &&
    git roar lineage --down $(last_job) >down &&
    grep "\[exit 3\]" down && test "$(wc -l <down)" = 1
'

test_expect_success 'a file updated in place: each version points at its own writer' '
    roar_setup &&
    step_preload "echo v1 >log" && V1=$(last_job) &&
    step_preload "echo v2 >>log" && V2=$(last_job) &&
    step_preload "echo v3 >>log" && V3=$(last_job) &&
    lineage_nodes log >nodes &&
    printf "%s\n" "artifact log" "artifact log" "artifact log" "job $V1" "job $V2" "job $V3" |
        sort >expect &&
    test_cmp expect nodes
'

test_expect_success '--depth limits the jobs followed and marks the cut' '
    roar_setup &&
    echo 0 >f0 &&
    step "cat f0 >f1" && step "cat f1 >f2" && step "cat f2 >f3" && step "cat f3 >f4" &&
    lineage_nodes --depth 2 f4 >nodes &&
    test "$(grep -c "^job" nodes)" = 2 &&
    git roar lineage --format json --depth 2 f4 >json &&
    $PY -c "import json; d = json.load(open(\"json\")); assert d[\"depth\"] == 2; \
assert [n[\"path\"] for n in d[\"nodes\"] if n.get(\"truncated\")] == [\"f2\"]" &&
    git roar lineage --depth 2 f4 | grep -- "f2  .*  \.\.\.$" &&
    test_expect_code 129 git roar lineage --depth 0 f4
'

test_expect_success 'json: documented fields, edges in data-flow direction' '
    roar_setup &&
    echo x >x && step "cat x x >y" && J=$(last_job) &&
    git roar lineage --format json y >json &&
    $PY - "$J" <<-\PY
	import json, sys
	d = json.load(open("json"))
	assert d["version"] == 1 and d["direction"] == "up" and d["depth"] is None and d["root"] == 0
	n = d["nodes"]
	assert [x["kind"] for x in n] == ["artifact", "job", "artifact"], n
	assert n[0]["path"] == "y" and len(n[0]["id"]) == 40 and n[0]["depth"] == 0
	assert n[1]["id"] == sys.argv[1] and n[1]["exit"] == 0 and n[1]["signal"] is None
	assert n[1]["command"].startswith("sh -c") and n[1]["cwd"] == "." and n[1]["depth"] == 1
	assert {(e["from"], e["to"], e["role"]) for e in d["edges"]} == {(1, 0, "out"), (2, 1, "in")}
	PY
'

test_expect_success 'dot and mermaid: every node and edge, valid syntax' '
    roar_setup &&
    printf "a\"b\n" >"in put" && step "cat \"in put\" >out" &&
    git roar lineage --format dot out >dot &&
    head -n 1 dot | grep -x "digraph lineage {" && tail -n 1 dot | grep -x "}" &&
    test "$(grep -c "shape=box" dot)" = 1 && test "$(grep -c "shape=ellipse" dot)" = 2 &&
    test "$(grep -c " -> " dot)" = 2 &&
    grep "sh -c '"'"'cat \\\\\"in put\\\\\" >out'"'"'" dot &&
    if command -v dot >/dev/null; then dot -Tsvg dot >/dev/null; fi &&
    git roar lineage --format mermaid out >mm &&
    head -n 1 mm | grep -x "flowchart LR" &&
    test "$(grep -c " --> " mm)" = 2 &&
    grep "#34;in put#34;" mm && ! grep "n[0-9]*\[\"[^\"]*\"[^\]]" mm
'

test_expect_success 'a job id, a blob id and <rev>:<path> as OBJ' '
    roar_setup &&
    echo s >s && step "cat s s >t" && J=$(last_job) &&
    git add t && git commit -qm t &&
    lineage_nodes "${J:0:8}" >by_job &&
    lineage_nodes "$(git hash-object t)" >by_blob &&
    lineage_nodes HEAD:t >by_rev &&
    grep -x "job $J" by_job && grep -x "job $J" by_blob && grep -x "job $J" by_rev
'

test_expect_success 'content no job wrote: one node, says so' '
    roar_setup &&
    echo lonely >lonely &&
    step "cat lonely >/dev/null" &&
    git roar lineage lonely >out &&
    grep "no recorded job produced this content" out
'

test_expect_success 'a directory: the lineage of every recorded output beneath it' '
    roar_setup &&
    mkdir -p models && echo r >raw &&
    step "cat raw >clean" && PREP=$(last_job) &&
    step "cat clean >models/a" && A=$(last_job) &&
    step "cat clean clean >models/b" && B=$(last_job) &&
    git roar lineage models >out &&
    test_grep "^models/a " out && test_grep "^models/b " out &&
    test_grep "job ${A:0:7} " out && test_grep "job ${B:0:7} " out &&
    test "$(grep -c "job ${PREP:0:7} " out)" -ge 1 &&
    git roar lineage --json models/ >j && git roar lineage --format json models/ | cmp - j &&
    $PY <j -c "import json, sys; d = json.load(sys.stdin); \
assert d[\"roots\"] == [0, 1] and [d[\"nodes\"][i][\"path\"] for i in d[\"roots\"]] == [\"models/a\", \"models/b\"], d[\"roots\"]"
'

test_expect_success 'a producer out of scope is no producer: lineage agrees with show' '
    roar_setup &&
    git commit -q --allow-empty -m base &&
    git checkout -q -b side && step "echo side >f" && git commit -q --allow-empty -m side &&
    git roar attach -q && git checkout -q - && echo side >g && echo other >f &&
    git roar lineage g >out &&
    test_grep "no recorded job produced this content" out
'

test_done
