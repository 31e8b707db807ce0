#!/bin/bash
# Both tracers against an independent oracle (issue 17; tests/oracle/roar-oracle): real
# programs run under `strace -f` with the work tree hashed before and after, the sets
# derived as SPEC §4.4/§4.5 define them, and compared with each tracer's job from the
# same committed start tree. A wrong edge (a path the oracle does not have, a differing
# id) fails; a missing edge must be announced by an `incomplete` line.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-run.sh"

ORACLE="$ROAR_SOURCE_DIR/tests/oracle/roar-oracle"
require_preload 'roar-oracle'
if ! command -v strace >/dev/null; then
    test_skip 'roar-oracle' 'strace is not installed'
    test_done
fi
tracer_args="-t preload"
if ebpf_usable; then
    tracer_args="-t ebpf -t preload"
else
    test_skip 'roar-oracle under -t ebpf' "the eBPF tracer cannot run here: $ebpf_why"
fi

test_expect_success 'the comparison: a wrong or silent edge fails, an announced gap does not' '
    python3 - "$ORACLE" <<-\PY >out
	import importlib.machinery, sys
	m = importlib.machinery.SourceFileLoader("oracle", sys.argv[1]).load_module()
	o = {("in", "a"): "1" * 40, ("out", "b"): "2" * 40, ("del", "c"): None}
	assert m.compare("same", o, dict(o), [], False) == 0
	assert m.compare("phantom", o, {**o, ("in", "z"): "3" * 40}, [], False) == 1
	assert m.compare("wrong-id", o, {**o, ("in", "a"): "3" * 40}, [], False) == 1
	assert m.compare("dash", o, {**o, ("in", "a"): "-"}, [], False) == 1
	assert m.compare("dash-said", o, {**o, ("in", "a"): "-"}, ["hash-unknown a"], False) == 0
	less = dict(o); del less[("del", "c")]
	assert m.compare("silent", o, less, [], False) == 1
	assert m.compare("said", o, less, ["events-lost 3"], False) == 0
	PY
    cat out &&
    test_grep "^WRONG phantom: in z: not in the oracle" out &&
    test_grep "^SILENT silent: missing del c$" out &&
    test_grep "^incomplete said: missing del c (announced: events-lost 3)$" out
'

# commit_start: the fixture tree, committed: the start state every run resets to.
commit_start() {
    printf "b\na\nc\n" >a.txt && echo hello >h.txt && echo data >d.txt &&
    mkdir src && echo "int f(void) { return 2; }" >src/f.c &&
    printf "#include <stdio.h>\nint f(void);\nint main(void) { printf(\"%%d\\\\n\", f()); return 0; }\n" \
        >src/main.c &&
    printf "prog: main.o f.o\n\tcc -o \$@ main.o f.o\n%%.o: src/%%.c\n\tcc -c -o \$@ \$<\n" >Makefile &&
    git add . && git commit -qm start
}

# oracle CMD: roar-oracle over CMD with both tracers; its report in $TEST_DIR/report.
oracle() {
    "$ORACLE" -v $tracer_args -- "$1" >"$TEST_DIR/report" 2>&1
    local rc=$?
    cat "$TEST_DIR/report"
    return $rc
}

test_expect_success 'coreutils: cp, sort -o in place, cat >' '
    commit_start &&
    oracle "cp a.txt b.txt && sort -o a.txt a.txt && cat h.txt >c.txt" &&
    test_grep "^oracle: in .* a.txt$" "$TEST_DIR/report" &&
    test_grep "^oracle: out .* a.txt$" "$TEST_DIR/report"
'

test_expect_success 'sed -i: in the old content, out the new, through a renamed temp' '
    commit_start &&
    oracle "sed -i s/hello/bye/ h.txt" &&
    test_grep "^oracle: in $(echo hello | git hash-object --stdin) h.txt$" "$TEST_DIR/report" &&
    test_grep "^oracle: out $(echo bye | git hash-object --stdin) h.txt$" "$TEST_DIR/report"
'

test_expect_success 'tar: create an archive, extract it elsewhere in the tree, delete a file' '
    commit_start &&
    # the archive must not depend on the run: each run checks the tree out anew
    oracle "tar --mtime=@0 --sort=name --owner=0 --group=0 --numeric-owner -cf a.tar src d.txt && mkdir x && tar xf a.tar -C x && rm d.txt" &&
    test_grep "^oracle: out .* x/src/f.c$" "$TEST_DIR/report" &&
    test_grep "^oracle: del  d.txt$" "$TEST_DIR/report"
'

if command -v make >/dev/null && command -v cc >/dev/null; then
    test_expect_success 'make: a two-file C project compiled, linked and run' '
        commit_start &&
        oracle "make -s && ./prog >out.txt" &&
        test_grep "^oracle: out .* prog$" "$TEST_DIR/report" &&
        test_grep "^oracle: in .* src/main.c$" "$TEST_DIR/report"
    '
else
    test_skip 'roar-oracle over make' 'make or cc is not installed'
fi

test_expect_success 'python3: reads one file, writes another, renames it over a third' '
    commit_start &&
    oracle "python3 -c \"import os; open(\\\"p.txt\\\", \\\"w\\\").write(open(\\\"d.txt\\\").read() * 2); os.replace(\\\"p.txt\\\", \\\"h.txt\\\")\"" &&
    test_grep "^oracle: out .* h.txt$" "$TEST_DIR/report"
'

test_done
