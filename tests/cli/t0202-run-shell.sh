#!/bin/bash
# git roar run over shells and process trees: redirections (of the shell inside the job
# and of git roar itself), pipelines, inherited fds, fork/spawn/subprocess, moves.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-run.sh"

if ! test -f "$PRELOAD_LIB"; then
    test_skip 'git roar run' "libroar-preload.so not built"
    test_done
fi

test_expect_success '14. sort < in > out inside sh -c: in and out' '
    roar_setup &&
    printf "b\na\nc\n" >in &&
    roar_run sh -c "sort < in > out" &&
    printf "a\nb\nc\n" >expect && test_cmp expect out &&
    expect_edges <<-EOF
	$(edge in in)
	$(edge out out)
	EOF
'

test_expect_success '14. git roar run sort < in > out: the inherited fds count' '
    roar_setup &&
    printf "b\na\nc\n" >in &&
    roar_run sort <in >out &&
    printf "a\nb\nc\n" >expect && test_cmp expect out &&
    expect_edges <<-EOF
	$(edge in in)
	$(edge out out)
	EOF
'

test_expect_success '14. prep > data.csv < raw.csv with a program that writes through stdio' '
    roar_setup &&
    printf "x,y\n1,2\n" >raw.csv &&
    roar_run awk -F, "{print \$2 \",\" \$1}" <raw.csv >data.csv &&
    expect_edges <<-EOF
	$(edge in raw.csv)
	$(edge out data.csv)
	EOF
'

test_expect_success '14. >> of git roar run: the old content is an input too' '
    roar_setup &&
    echo "first" >log &&
    old=$(edge in log) &&
    roar_run echo second >>log &&
    expect_edges <<-EOF
	$old
	$(edge out log)
	EOF
'

test_expect_success '15. cat a | tr a-z A-Z | sort > out: every process traced' '
    roar_setup &&
    printf "b\na\n" >a &&
    roar_run sh -c "cat a | tr a-z A-Z | sort > out" &&
    printf "A\nB\n" >expect && test_cmp expect out &&
    expect_edges <<-EOF
	$(edge in a)
	$(edge out out)
	EOF
'

test_expect_success '16. an inherited fd: exec 3<f; cat <&3: f in' '
    roar_setup &&
    echo "through fd 3" >f &&
    roar_run bash -c "exec 3<f; cat <&3 >copy" &&
    test_cmp f copy &&
    expect_edges <<-EOF
	$(edge in f)
	$(edge out copy)
	EOF
'

test_expect_success '16. an fd open in the caller of git roar: read through it, an input' '
    roar_setup &&
    echo "from the caller" >f &&
    roar_run sh -c "cat <&5 >copy" 5<f &&
    expect_edges <<-EOF
	$(edge in f)
	$(edge out copy)
	EOF
'

test_expect_success '22. a fork child writes' '
    roar_setup &&
    roar_run "$(fx fork)" &&
    expect_edges <<-EOF
	$(edge out child.out)
	EOF
'

test_expect_success '22. posix_spawn of cat reading a file' '
    roar_setup &&
    echo "spawned" >in &&
    roar_run "$(fx spawn)" >out &&
    expect_edges <<-EOF
	$(edge in in)
	$(edge out out)
	EOF
'

test_expect_success '22. python subprocess (vfork+exec) and os.system' '
    roar_setup &&
    echo "sub" >a && echo "sys" >b &&
    cat >"$TEST_DIR/p.py" <<-\EOF &&
	import os, subprocess
	subprocess.run(["cp", "a", "a.copy"], check=True)
	os.system("cat b > b.copy")
	EOF
    roar_run /usr/bin/python3 "$TEST_DIR/p.py" &&
    expect_edges <<-EOF
	$(edge in a)
	$(edge in b)
	$(edge out a.copy)
	$(edge out b.copy)
	EOF
'

test_expect_success '23. a script in the repo that is executed: in' '
    roar_setup &&
    printf "#!/bin/sh\necho made >made\n" >run.sh && chmod +x run.sh &&
    roar_run ./run.sh &&
    expect_edges <<-EOF
	$(edge in run.sh)
	$(edge out made)
	EOF
'

test_expect_success '24. cp (copy_file_range): in and out with the same id' '
    roar_setup &&
    head -c 100000 /dev/urandom >src &&
    roar_run cp src dst &&
    expect_edges <<-EOF
	$(edge in src)
	$(edge out dst)
	EOF
'

test_expect_success '32. mv a b of an untouched file: in a, out b (same id), del a' '
    roar_setup &&
    echo "moved" >a &&
    id_in=$(edge in a) &&
    roar_run mv a b &&
    expect_edges <<-EOF &&
	$id_in
	$(edge out b)
	del a
	EOF
    expect_no_incomplete
'

test_expect_success '32. a directory renamed by the job: every file beneath under its new name' '
    roar_setup &&
    mkdir -p d/sub && echo 1 >d/one && echo 2 >d/sub/two &&
    one=$(oid d/one) && two=$(oid d/sub/two) &&
    roar_run mv d e &&
    expect_edges <<-EOF
	in $one 2 d/one
	in $two 2 d/sub/two
	out $one 2 e/one
	out $two 2 e/sub/two
	del d/one
	del d/sub/two
	EOF
'

test_expect_success 'a file written and renamed twice: one output, under its final name' '
    roar_setup &&
    roar_run sh -c "echo x >t1 && mv t1 t2 && mv t2 final" &&
    expect_edges <<-EOF
	$(edge out final)
	EOF
'

test_expect_success 'a temp file in /tmp renamed into the work tree: an output' '
    roar_setup &&
    roar_run sh -c "t=\$(mktemp) && echo data >\$t && mv \$t result" &&
    expect_edges <<-EOF
	$(edge out result)
	EOF
'

test_expect_success 'files outside the work tree are recorded absolute, unless filtered' '
    roar_setup &&
    mkdir -p "$TEST_DIR/../ext" 2>/dev/null; ext=$(cd "$TEST_ROOT" && pwd -P) &&
    # TEST_ROOT is under /tmp: filtered by default; roar.include brings it back
    echo outside >"$ext/outside-$$" &&
    roar_run cat "$ext/outside-$$" &&
    expect_edges </dev/null &&
    git config roar.include "$ext/outside-$$" &&
    roar_run cat "$ext/outside-$$" &&
    expect_edges <<-EOF
	in $(oid "$ext/outside-$$") $(size "$ext/outside-$$") $ext/outside-$$
	EOF
'

test_expect_success '.roarignore and roar.exclude drop work-tree paths' '
    roar_setup &&
    echo "scratch/" >.roarignore &&
    git config --add roar.exclude "**/*.log" &&
    mkdir scratch && echo s >scratch/s && echo l >x.log && echo k >keep &&
    roar_run cat scratch/s x.log keep &&
    expect_edges <<-EOF
	$(edge in keep)
	EOF
'

test_expect_success 'git -c roar.exclude=... applies to that run only' '
    roar_setup &&
    echo l >x.log && echo k >keep &&
    (git() { command git -c roar.exclude="**/*.log" "$@"; } && roar_run cat x.log keep) &&
    expect_edges <<-EOF &&
	$(edge in keep)
	EOF
    roar_run cat x.log keep &&
    expect_edges <<-EOF
	$(edge in keep)
	$(edge in x.log)
	EOF
'

test_expect_success 'a malformed GIT_CONFIG_PARAMETERS is refused before the command runs' '
    roar_setup &&
    test_must_fail env GIT_CONFIG_PARAMETERS="roar.exclude=x" git roar run touch ran 2>err &&
    test_grep "bogus format in GIT_CONFIG_PARAMETERS" err &&
    test ! -e ran
'

test_done
