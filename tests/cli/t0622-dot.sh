#!/bin/bash
# The pictures (export --format dot, lineage --format dot|mermaid): files are nodes keyed
# by (path, blob id); inputs outside the work tree fold into one "N outside files" node
# per job unless --outside, and an outside file that links two jobs stays drawn. Dot
# output is parsed with graphviz's `dot -Tsvg` when it is installed.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-run.sh"
. "$(dirname "$0")/lib-queries.sh"

require_preload 'the dot and mermaid pictures'

# A job reading three files outside the work tree and one inside; a copy of its output
# to two paths (one blob at three paths); one path written twice (two blobs); a file
# written outside the work tree by one job and read by the next. $TEST_DIR is under
# /tmp, filtered by default: roar.include brings it back.
outside_jobs() {
    roar_setup &&
    git config roar.include "$TEST_DIR/**" &&
    EXT=$TEST_DIR/ext && mkdir "$EXT" &&
    echo a >"$EXT/a.txt" && echo b >"$EXT/b.txt" && echo c >"$EXT/c.txt" &&
    echo raw >raw.txt &&
    step "cat $EXT/a.txt $EXT/b.txt $EXT/c.txt raw.txt >clean.txt" && CLEAN=$(last_job) &&
    step "cat clean.txt >copy1.txt; cat clean.txt >copy2.txt" && COPY=$(last_job) &&
    step "echo v1 >ver.txt" && step "echo v2 >ver.txt" &&
    step "cat raw.txt raw.txt >$EXT/mid.txt" && step "cat $EXT/mid.txt >final.txt" &&
    SHORT=$(git hash-object clean.txt | cut -c1-7)
}

# parses FILE...: graphviz reads each dot file, when it is installed.
parses() {
    if ! command -v dot >/dev/null; then
        echo "# graphviz not installed: dot output not parsed" >&2
        return 0
    fi
    for f in "$@"; do dot -Tsvg "$f" >/dev/null || return 1; done
}

test_expect_success 'export dot: one node per (path, blob), outside inputs folded per job' '
    outside_jobs &&
    git roar export --format dot >g.dot &&
    parses g.dot &&
    test "$(grep -c "label=\"3 outside files\"" g.dot)" = 1 &&
    test "$(grep -c "outside file" g.dot)" = 1 &&
    # (Commands name them: a file node is labelled with its path first.)
    test_grep -v -F "label=\"$EXT/a.txt" g.dot &&
    test_grep -v -F "label=\"$EXT/c.txt" g.dot &&
    test_grep "^  \"outside:$CLEAN\" -> \"job:$CLEAN\";$" g.dot &&
    # mid.txt, outside but written by one job and read by another, links them.
    test "$(grep -c -F "label=\"$EXT/mid.txt" g.dot)" = 1 &&
    # One blob at three paths: three nodes, each declared once.
    test "$(grep -c "^  a[0-9]* \[shape=ellipse,label=\"clean.txt\\\\n$SHORT\"\];$" g.dot)" = 1 &&
    test "$(grep -c "^  a[0-9]* \[shape=ellipse,label=\"copy[12].txt\\\\n$SHORT\"\];$" g.dot)" = 2 &&
    test "$(grep -c "^  a[0-9]* \[.*\\\\n$SHORT\"\];$" g.dot)" = 3 &&
    # One path, two contents: two nodes.
    test "$(grep -c "^  a[0-9]* \[shape=ellipse,label=\"ver.txt" g.dot)" = 2 &&
    # The copy job reads the very node the first job wrote.
    node=$(sed -n "s/^  \(a[0-9]*\) \[shape=ellipse,label=\"clean.txt.*/\1/p" g.dot) &&
    test_grep "^  \"job:$CLEAN\" -> $node;$" g.dot &&
    test_grep "^  $node -> \"job:$COPY\";$" g.dot
'

test_expect_success 'export dot --outside: every outside input drawn' '
    outside_jobs &&
    git roar export --format dot --outside >g.dot &&
    parses g.dot &&
    test_grep -v "outside file" g.dot &&
    for f in a b c; do
        test "$(grep -c -F "label=\"$EXT/$f.txt" g.dot)" = 1 || return 1
    done &&
    test "$(grep -c -F "label=\"$EXT/mid.txt" g.dot)" = 1
'

test_expect_success 'lineage dot and mermaid: outside inputs folded, --outside draws them' '
    outside_jobs &&
    git roar lineage --format dot copy1.txt >l.dot &&
    git roar lineage --format mermaid copy1.txt >l.mm &&
    git roar lineage --format dot --outside copy1.txt >all.dot &&
    git roar lineage --format mermaid --outside copy1.txt >all.mm &&
    parses l.dot all.dot &&
    for f in l.dot l.mm; do
        test "$(grep -c "3 outside files" $f)" = 1 &&
        test "$(grep -c "outside file" $f)" = 1 &&
        test_grep -v -F "\"$EXT" $f || return 1
    done &&
    test_grep "^  o[0-9]* -> n[0-9]*;$" l.dot &&
    test_grep "^  o[0-9]*(\[\"3 outside files\"\]) --> n[0-9]*$" l.mm &&
    for f in all.dot all.mm; do
        test_grep -v "outside file" $f &&
        for x in a b c; do
            test "$(grep -c -F "\"$EXT/$x.txt" $f)" = 1 || return 1
        done || return 1
    done &&
    # --outside: two jobs, copy1.txt, clean.txt, raw.txt and the 3 outside files; by
    # default the 3 give way to one node and one edge.
    test "$(grep -c "^  n[0-9]* \[" all.dot)" = 8 &&
    test "$(grep -c "^  n[0-9]* \[" l.dot)" = 5 &&
    test "$(grep -c " -> " all.dot)" = 7 &&
    test "$(grep -c " -> " l.dot)" = 5
'

test_expect_success 'lineage: an outside file with a producer stays; json keeps every node' '
    outside_jobs &&
    git roar lineage --format dot final.txt >l.dot &&
    git roar lineage --format mermaid final.txt >l.mm &&
    parses l.dot &&
    test_grep -F "$EXT/mid.txt" l.dot &&
    test_grep -F "$EXT/mid.txt" l.mm &&
    test_grep -v "outside file" l.dot &&
    git roar lineage --json copy1.txt >l.json &&
    $PY - "$EXT" <<-\PYEOF
	import json, sys
	ext = sys.argv[1]
	d = json.load(open("l.json"))
	paths = sorted(n["path"] for n in d["nodes"] if n["kind"] == "artifact")
	assert paths == sorted(["copy1.txt", "clean.txt", "raw.txt"] +
	                       [ext + "/%s.txt" % x for x in "abc"]), paths
	PYEOF
'

test_done
