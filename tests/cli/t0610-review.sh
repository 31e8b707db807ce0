#!/bin/bash
# `git roar review RANGE|REV` (SPEC §6.3): exactly the range or revision given, the
# verdict first, explained only by a writer of that path, unexplained data files (code
# globs excepted), stale outputs over the whole tip (changed params, no rerun), metric
# and parameter values old -> new, --json, --exit-code, the Markdown comment (marker,
# details, diagram), and the notes warnings.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-run.sh"

PY=/usr/bin/python3

# base, then one commit with a job's output (explained), a hand-made data file
# (unexplained) and a script (code).
make_range() {
    roar_setup &&
    printf "raw\n" >raw.txt && git add raw.txt && git commit -q -m base &&
    roar_run sh -c "tr a-z A-Z <raw.txt >out.csv" &&
    JOB=$(record_field job) &&
    echo "1,2" >hand.csv && echo "print(1)" >prep.py &&
    git add out.csv hand.csv prep.py && git commit -q -m "add data" &&
    git roar attach -q
}

test_expect_success 'text: the verdict first, then files and the jobs' '
    make_range &&
    git roar review HEAD~1..HEAD >out 2>err &&
    test_must_be_empty err &&
    sed -n 1p out | grep "^review HEAD~1..HEAD: 1 commit, " &&
    sed -n 2p out | grep "^verdict: needs attention: 1 explained, 1 unexplained, 0 stale, 0 failed (1 code, 0 deleted)$" &&
    test_grep "^  explained   out.csv  by ${JOB:0:7}$" out &&
    test_grep "^  unexplained hand.csv$" out &&
    test_grep "^  code        prep.py$" out &&
    test_grep "^  ${JOB:0:7} " out
'

test_expect_success 'a single REV reviews that commit, not the root' '
    make_range &&
    echo more >notes.md && git add notes.md && git commit -q -m docs &&
    git roar review HEAD >out &&
    test_grep "^  code        notes.md$" out &&
    test_grep -v "out.csv" out &&
    git roar review HEAD~1 >out &&
    test_grep "^  explained   out.csv  by ${JOB:0:7}$" out
'

test_expect_success 'the same bytes written at another path explain nothing' '
    make_range &&
    tr a-z A-Z <raw.txt >copy.csv && git add copy.csv && git commit -q -m copy &&
    git roar review HEAD >out &&
    test_grep "^  unexplained copy.csv$" out
'

test_expect_success 'roar.review.code replaces the default globs' '
    make_range &&
    git config roar.review.code "*.csv" &&
    git roar review HEAD~1..HEAD >out &&
    test_grep "^  code        hand.csv$" out &&
    test_grep "^  unexplained prep.py$" out
'

test_expect_success 'changed params and no rerun: every output they reach is stale at the tip' '
    roar_setup &&
    printf "lr: 0.1\nepochs: 3\n" >params.yaml && printf "raw\n" >raw.txt &&
    git add . && git commit -q -m base &&
    roar_run sh -c "cat params.yaml raw.txt >clean.csv" && PREP=$(record_field job) &&
    roar_run sh -c "cat clean.csv clean.csv >model.bin" && TRAIN=$(record_field job) &&
    git add . && git commit -q -m pipeline && git roar attach -q &&
    git checkout -q -b pr &&
    printf "lr: 0.2\nepochs: 3\n" >params.yaml && git commit -q -am "tune lr" &&
    git roar review main..pr >out &&
    test_grep "^verdict: needs attention: 0 explained, 0 unexplained, 2 stale, 0 failed (1 code, 0 deleted)$" out &&
    test_grep "^  clean.csv  (input params.yaml changed since job ${PREP:0:7})$" out &&
    test_grep "^  model.bin  (input clean.csv comes from a stale job, before job ${TRAIN:0:7})$" out &&
    test_grep "^  param   params.yaml lr: 0.1 -> 0.2$" out &&
    test_expect_code 1 git roar review --exit-code main..pr >/dev/null
'

test_expect_success 'metrics: each changed value old -> new, in JSON too' '
    roar_setup &&
    printf "{\"acc\": 0.91, \"loss\": {\"val\": 0.3}}\n" >metrics.json &&
    git add . && git commit -q -m base &&
    printf "{\"acc\": 0.87, \"loss\": {\"val\": 0.3}, \"f1\": 0.5}\n" >metrics.json &&
    git commit -q -am "new metrics" &&
    git roar review HEAD >out &&
    test_grep "^  metric  metrics.json acc: 0.91 -> 0.87$" out &&
    test_grep "^  metric  metrics.json f1: (none) -> 0.5$" out &&
    test_grep -v "loss.val" out &&
    git roar review --json HEAD >json &&
    $PY - <<-\PY
	import json
	d = json.load(open("json"))
	v = {x["key"]: (x["old"], x["new"], x["kind"]) for x in d["values"]}
	assert v == {"acc": ("0.91", "0.87", "metric"), "f1": (None, "0.5", "metric")}, v
	PY
'

# write_metrics base|tip: metrics.json, .yaml and .csv (two columns) at the 10,000-key
# limit, about 1 MB each, keys k00000_xxx... valued by their number; at the tip every
# value is one more and the first 100 keys are gone.
write_metrics() {
    $PY - "$1" <<-\PY
	import sys
	tip = sys.argv[1] == "tip"
	keys = ["k%05d_" % i + "x" * 80 for i in range(100 if tip else 0, 10000)]
	val = lambda k: str(int(k[1:6]) + (1 if tip else 0))
	with open("metrics.json", "w") as f:
	    f.write("{" + ", ".join('"%s": %s' % (k, val(k)) for k in keys) + "}\n")
	with open("metrics.yaml", "w") as f:
	    f.writelines("%s: %s\n" % (k, val(k)) for k in keys)
	with open("metrics.csv", "w") as f:
	    f.write("metric,value\n")
	    f.writelines("%s,%s\n" % (k, val(k)) for k in keys)
	PY
}

# Every change listed once, the tip's keys in order, then the dropped ones. A scan of the
# flattened text per key lookup took 1.6 s of CPU per such file (8.8 s under ASan); a map
# takes well under 0.1 s (0.4 s): 3 s for the three files tells them apart in either build.
test_expect_success 'metrics: 10,000 keys per file, in time linear in the keys' '
    roar_setup &&
    write_metrics base && git add . && git commit -q -m base &&
    write_metrics tip && git commit -q -am "new metrics" &&
    TIMEFORMAT=%U && { time git roar review HEAD >out 2>/dev/null; } 2>cpu &&
    echo "# review: $(cat cpu) s of CPU" >&2 &&
    x80=$(printf "x%.0s" $(seq 80)) &&
    for f in metrics.json metrics.yaml metrics.csv; do
        test $(grep -c "^  metric  $f " out) = 10000 &&
        grep "^  metric  $f " out | sed -n "1p;9900p;9901p;10000p" >got &&
        printf "  metric  $f %s: %s\n" k00100_$x80 "100 -> 101" k09999_$x80 "9999 -> 10000" \
            k00000_$x80 "0 -> (none)" k00099_$x80 "99 -> (none)" >want &&
        test_cmp want got || return 1
    done &&
    awk "{ exit !(\$1 < 3) }" cpu
'

test_expect_success '--json: the documented keys; --exit-code 0 when all is explained' '
    make_range &&
    git roar review --json HEAD~1..HEAD >json &&
    $PY - "$JOB" <<-\PY &&
	import json, sys
	d = json.load(open("json"))
	assert d["version"] == 1 and d["commits"] == 1 and d["verdict"] == "attention"
	s = d["summary"]
	assert (s["explained"], s["unexplained"], s["code"], s["stale"]) == (1, 1, 1, 0), s
	f = {x["path"]: x for x in d["files"]}
	assert f["out.csv"]["kind"] == "explained" and f["out.csv"]["producer"] == sys.argv[1]
	assert [j["id"] for j in d["jobs"]] == [sys.argv[1]]
	PY
    git rm -q hand.csv && git commit -q -m "drop hand" &&
    git roar review --exit-code HEAD~2..HEAD~1 >/dev/null; test $? = 1 &&
    git config roar.review.code "*.csv" && git config --add roar.review.code "*.py" &&
    git roar review --exit-code HEAD~2..HEAD~1 >/dev/null
'

test_expect_success 'markdown: marker, verdict first, details, a Mermaid diagram' '
    make_range &&
    git roar review --format markdown HEAD~1..HEAD >out &&
    sed -n 1p out | grep -x "<!-- git-roar-review -->" &&
    test_grep "^\*\*Verdict:\*\* :warning: needs attention$" out &&
    test_grep -F "| \`out.csv\` | explained | \`${JOB:0:7}\` |" out &&
    test_grep -F "| \`hand.csv\` | :warning: unexplained |  |" out &&
    test_grep "^<details><summary>Changed files (3)</summary>$" out &&
    test_grep "^\`\`\`mermaid$" out && test_grep "^flowchart LR$" out &&
    test $(grep -n "Verdict" out | cut -d: -f1) -lt $(grep -n "<details>" out | head -1 | cut -d: -f1)
'

test_expect_success 'remote notes not merged locally: a warning first' '
    make_range &&
    git update-ref refs/notes/remotes/origin/roar $(git commit-tree -m x $(git mktree </dev/null)) &&
    git roar review HEAD~1..HEAD >out 2>err &&
    test_grep "the notes of origin are ahead" out &&
    git roar review --format markdown HEAD~1..HEAD >out 2>err &&
    test_grep "Warning:" out &&
    git update-ref refs/notes/remotes/origin/roar refs/notes/roar &&
    git roar review HEAD~1..HEAD >out 2>err &&
    test_grep -v "ahead" out
'

test_expect_success 'a clone without notes says so instead of calling everything unexplained' '
    make_range &&
    git clone -q . ../bare-clone 2>/dev/null && cd ../bare-clone &&
    git roar review HEAD~1..HEAD >out 2>err &&
    test_grep "no git roar notes" err &&
    test_grep "no git roar notes" out &&
    test_grep -v "unexplained hand.csv" out &&
    test_grep "^  unjudged    hand.csv$" out &&
    test_expect_code 1 git roar review --exit-code HEAD~1..HEAD >/dev/null 2>&1
'

test_expect_success 'hostile names and commands render as literal text (cmark-gfm)' '
    if ! command -v cmark-gfm >/dev/null; then
        echo "# SKIP: cmark-gfm is not installed (scripts/install-deps installs it)" >&2
        exit 1
    fi
    roar_setup &&
    printf "raw\n" >raw.txt && git add raw.txt && git commit -q -m base &&
    bad1="a\`b|c<b>x</b>*y*[l](http://e.x)![i](http://e.x/i.png).csv" &&
    roar_run sh -c "cat raw.txt >\"\$1\"; echo \"[l](http://e.x) <img src=x> \\\`\" >/dev/null" sh "$bad1" &&
    printf "1\n" >"$(printf "n\nl.csv")" && printf "2\n" >"$(printf "bad\377utf.csv")" &&
    git add -A && git commit -q -m "<b>bold</b> *em* [l](http://e.x)" && git roar attach -q &&
    git roar review --format markdown HEAD >review.md &&
    cmark-gfm -e table review.md >review.html &&
    test_grep -v "<a " review.html &&
    test_grep -v "<img" review.html &&
    test_grep -v "<b>" review.html &&
    test_grep -v "<em>" review.html &&
    test_grep "<table>" review.html &&
    test_grep "&lt;b&gt;x&lt;/b&gt;" review.html
'

test_done
