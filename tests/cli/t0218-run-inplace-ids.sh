#!/bin/bash
# In-place edits of files the job did not write before: the input's id is the pre-job
# content's, or `-` announced by `incomplete hash-unknown`, never another (issue 17,
# item 5), under both tracers. Right after a checkout the stat cache is seeded from git's
# index under git's own racy rule, and under eBPF an open that may be an editor's input
# wakes the collector at once: at most 2% `-` there. With the stat no longer matching the
# index (mtimes rewritten) the eBPF collector races the editor: `-` may be many, but
# every one is announced and no id is wrong (preload holds each editor back while its
# input is hashed: exact either way, so it runs the checkout cases only). Each case runs
# ROAR_RACE_REPEAT times (default 2) on FILES files (default 200).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-run.sh"

require_preload 'git roar run: in-place edits'
REPEAT=${ROAR_RACE_REPEAT:-2}
FILES=${ROAR_INPLACE_FILES:-200}
tracers=preload
if ebpf_usable; then
    tracers="preload ebpf"
else
    test_skip 'in-place edits under -t ebpf' "the eBPF tracer cannot run here: $ebpf_why"
fi

# make_tree: FILES small files (FILES >= 100, < 1000), committed on the current branch, with an empty branch `other` to check out and back.
make_tree() {
    git commit -q --allow-empty -m root && git branch other &&
    /usr/bin/python3 - "$FILES" <<-\PY &&
	import sys
	for i in range(int(sys.argv[1])):
	    with open("f%04d.txt" % i, "w") as f:
	        f.write(("line a %d\n" % i) * (1 + i % 7) + "zz\n" * (i % 3))
	PY
    git add . && git commit -qm files
}

# unvouch HOW: `checkout` (another branch and back: every file written anew, then the
# index) or `touch` (every mtime rewritten after the index).
unvouch() {
    case $1 in
    checkout) git checkout -q other && git checkout -q - ;;
    touch) touch f*.txt ;;
    esac
}

# check_ids MAXDASH: every `in` line of a f*.txt in the record has the id of that path
# in HEAD, or `-` with its `incomplete hash-unknown` line; at most MAXDASH percent `-`.
# The committed ids are the pre-job content: each case starts from a checkout of HEAD.
check_ids() {
    git ls-tree HEAD >"$TEST_DIR/tree" &&
    /usr/bin/python3 - "$TEST_DIR/tree" "$TEST_DIR/rec" "$1" <<-\PY
	import sys
	want = {}
	for line in open(sys.argv[1]):
	    meta, path = line.rstrip("\n").split("\t")
	    if path.startswith("f"):
	        want[path] = meta.split()[2]
	got, said = {}, set()
	for line in open(sys.argv[2]):
	    line = line.rstrip("\n")
	    if line.startswith("in "):
	        _, oid, _, path = line.split(" ", 3)
	        got[path] = oid
	    elif line.startswith("incomplete hash-unknown "):
	        said.add(line.split(" ", 2)[2])
	bad = 0
	for path in sorted(want):
	    if path not in got:
	        print("missing input", path); bad += 1
	    elif got[path] == "-" and path not in said:
	        print("silent -", path); bad += 1
	    elif got[path] not in ("-", want[path]):
	        print("WRONG id", path, got[path], "want", want[path]); bad += 1
	dash = sum(1 for p in want if got.get(p) == "-")
	print("%d of %d inputs are -" % (dash, len(want)))
	if dash * 100 > float(sys.argv[3]) * len(want):
	    print("more than %s%% -" % sys.argv[3]); bad += 1
	sys.exit(1 if bad else 0)
	PY
}

for t in $tracers; do
    hows=checkout
    test $t = ebpf && hows="checkout touch"
    for how in $hows; do
        max=2
        test $how = touch && max=100
        test_expect_success "sed -i on $FILES files after a $how: pre-job ids (-t $t, x$REPEAT)" '
            roar_setup && make_tree &&
            for i in $(seq 1 $REPEAT); do
                git checkout -q -f HEAD && unvouch '$how' &&
                roar_run -t '$t' sh -c "sed -i s/a/b/ f*.txt" && check_ids '$max' || {
                    echo "run $i of $REPEAT" && return 1
                }
            done
        '

        test_expect_success "sort -o, truncate and sed -i after a $how: pre-job ids (-t $t, x$REPEAT)" '
            roar_setup && make_tree &&
            for i in $(seq 1 $REPEAT); do
                git checkout -q -f HEAD && unvouch '$how' &&
                roar_run -t '$t' sh -c "for f in f00[0-4]*.txt; do sort -o \$f \$f; done &&
                    truncate -s 5 f00[5-9]*.txt && sed -i s/a/c/ f0[1-9]*.txt" &&
                check_ids '$max' || {
                    echo "run $i of $REPEAT" && return 1
                }
            done
        '
    done
done

test_done
