#!/bin/bash
# git roar run and the shape of a job: concurrent runs in one repository, descendants
# that outlive the command, a run nested in a traced job, programs the shim cannot
# enter (static), and a child started with an empty environment.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-run.sh"

if ! test -f "$PRELOAD_LIB"; then
    test_skip 'git roar run' "libroar-preload.so not built"
    test_done
fi

test_expect_success '31. two git roar run at once in one repo: two jobs, nothing lost' '
    roar_setup &&
    echo a >a && echo b >b &&
    git roar run -q sh -c "sleep 0.3; cat a >a.out" &
    git roar run -q sh -c "sleep 0.3; cat b >b.out" &
    wait &&
    ls .git/roar/pending >names &&
    test_line_count() { test $(wc -l <"$2") -eq "$1"; } &&
    test_line_count 2 names &&
    cat .git/roar/pending/* >both &&
    grep -x "$(edge in a)" both && grep -x "$(edge out a.out)" both &&
    grep -x "$(edge in b)" both && grep -x "$(edge out b.out)" both &&
    cache_query "SELECT count(*) FROM pending" >n &&
    echo 2 >expect && test_cmp expect n
'

test_expect_success '31. eight at once: eight jobs, eight cache rows' '
    roar_setup &&
    for i in 1 2 3 4 5 6 7 8; do echo $i >in$i; done &&
    for i in 1 2 3 4 5 6 7 8; do git roar run -q sh -c "cat in$i >out$i" & done; wait &&
    test $(ls .git/roar/pending | wc -l) = 8 &&
    for i in 1 2 3 4 5 6 7 8; do grep -x "$(edge out out$i)" .git/roar/pending/* || return 1; done &&
    cache_query "SELECT count(*) FROM pending" >n &&
    echo 8 >expect && test_cmp expect n
'

test_expect_success '33. a descendant still running 2 s after the root exits: incomplete' '
    roar_setup &&
    start=$(date +%s) &&
    roar_run sh -c "sleep 6 >/dev/null 2>&1 & echo \$! >bg.pid; echo done >early" &&
    end=$(date +%s) &&
    kill $(cat bg.pid) 2>/dev/null;
    test $((end - start)) -lt 6 &&
    test_grep -x "incomplete running-descendants 1" "$TEST_DIR/rec" &&
    test_grep "^warning: incomplete running-descendants 1" "$TEST_DIR/err" &&
    expect_edges <<-EOF
	$(edge out bg.pid)
	$(edge out early)
	EOF
'

test_expect_success '33. roar.waitDescendants: a descendant that ends in time is waited for' '
    roar_setup &&
    git config roar.waitDescendants 3s &&
    roar_run sh -c "(sleep 0.5; echo late >late) >/dev/null 2>&1 &" &&
    test_grep -v "^incomplete" "$TEST_DIR/rec" &&
    expect_edges <<-EOF
	$(edge out late)
	EOF
'

test_expect_success '33. a bad roar.waitDescendants is fatal, naming the key' '
    roar_setup &&
    git config roar.waitDescendants soon &&
    test_expect_code 128 git roar run true 2>err &&
    test_grep "fatal: bad roar.waitDescendants" err
'

# pick_nested: after one nested run, $TEST_DIR/rec is the outer record (its command
# starts git roar) and $TEST_DIR/inner the inner one.
pick_nested() {
    local f
    test $(ls .git/roar/pending | wc -l) = 2 || return 1
    for f in .git/roar/pending/*; do
        if grep -q "^command sh -c .git roar run" "$f"; then
            cp "$f" "$TEST_DIR/rec"
        else
            cp "$f" "$TEST_DIR/inner"
        fi
    done
    test -f "$TEST_DIR/rec" && test -f "$TEST_DIR/inner"
}

test_expect_success '34. a git roar run nested in a traced job: both jobs hold the accesses' '
    roar_setup &&
    echo "nested input" >in &&
    git roar run -q sh -c "git roar run -q sh -c \"cat in >mid\" && cat mid >out" &&
    pick_nested &&
    grep -E "^(in|out|del) " "$TEST_DIR/inner" >inner.edges &&
    cat >expect <<-EOF &&
	$(edge in in)
	$(edge out mid)
	EOF
    test_cmp expect inner.edges &&
    expect_edges <<-EOF &&
	$(edge in in)
	$(edge out mid)
	$(edge out out)
	EOF
    test_grep -v "^incomplete" "$TEST_DIR/rec" &&
    test_grep -v "^incomplete" "$TEST_DIR/inner"
'

test_expect_success '34. nested in-place edit: the outer job too has the old id as input' '
    roar_setup &&
    echo "abcdef" >f &&
    old=$(edge in f) &&
    git roar run -t preload -q sh -c "git roar run -t preload -q \"$(fx rdwr_inplace)\"" &&
    pick_nested &&
    expect_edges <<-EOF &&
	$old
	$(edge out f)
	EOF
    cp "$TEST_DIR/inner" "$TEST_DIR/rec" &&
    expect_edges <<-EOF
	$old
	$(edge out f)
	EOF
'

test_expect_success '26. a static program: incomplete static-binary, the job still recorded' '
    bb=$(command -v busybox-static || ls /bin/busybox 2>/dev/null) &&
    if test -z "$bb" || file -L "$bb" 2>/dev/null | grep -q dynamic; then
        echo "# no static busybox: not checked"; exit 0
    fi
    roar_setup &&
    echo x >in &&
    roar_run -t preload "$bb" cat in &&
    test_grep "^incomplete static-binary " "$TEST_DIR/rec" &&
    test_grep "^warning: incomplete static-binary" "$TEST_DIR/err" &&
    test_grep -v "ERROR: ld.so" "$TEST_DIR/err"
'

test_expect_success '26. a static program started by a traced shell: incomplete too' '
    bb=$(command -v busybox-static || ls /bin/busybox 2>/dev/null) &&
    if test -z "$bb" || file -L "$bb" 2>/dev/null | grep -q dynamic; then
        echo "# no static busybox: not checked"; exit 0
    fi
    roar_setup &&
    echo x >in &&
    roar_run -t preload sh -c "\"$bb\" cat in >/dev/null; cat in >out" &&
    test_grep "^incomplete static-binary " "$TEST_DIR/rec" &&
    test_grep -x "$(edge out out)" "$TEST_DIR/rec"
'

test_expect_success '27. env -i: the child is still traced' '
    roar_setup &&
    echo x >in &&
    roar_run env -i /bin/sh -c "/bin/cat in >out" &&
    expect_edges <<-EOF
	$(edge in in)
	$(edge out out)
	EOF
'

test_expect_success '21. threads: open in one, read in another (python threading)' '
    roar_setup &&
    echo "threaded" >in &&
    roar_run /usr/bin/python3 -c "
import os, threading
fd = os.open(\"in\", os.O_RDONLY)
t = threading.Thread(target=lambda: open(\"out\", \"wb\").write(os.read(fd, 100)))
t.start(); t.join()
" &&
    expect_edges <<-EOF
	$(edge in in)
	$(edge out out)
	EOF
'

test_expect_success 'a program that scribbles over the event ring: counted, never fatal' '
    roar_setup &&
    echo x >in &&
    cat >"$TEST_DIR/scribble.py" <<-\EOF &&
	import mmap, os, random
	fd = os.open(os.environ["ROAR_RING"], os.O_RDWR)
	m = mmap.mmap(fd, os.fstat(fd).st_size)
	rnd = random.Random(7)
	for _ in range(2000):
	    at = rnd.randrange(4096, len(m) - 16)
	    m[at:at + 16] = bytes(rnd.randrange(256) for _ in range(16))
	m[4096:4096 + 4096] = bytes(rnd.randrange(256) for _ in range(4096))
	open("in").read()
	open("out", "w").write("still traced\n")
	EOF
    roar_run -t preload /usr/bin/python3 "$TEST_DIR/scribble.py" &&
    test "$(record_field exit)" = 0 &&
    test_grep -x "$(edge out out)" "$TEST_DIR/rec"
'

test_expect_success 'a forged record in the ring: counted as events-lost 1, the job goes on' '
    roar_setup &&
    echo x >in &&
    cat >"$TEST_DIR/forge.py" <<-\EOF &&
	import mmap, os, struct
	fd = os.open(os.environ["ROAR_RING"], os.O_RDWR)
	m = mmap.mmap(fd, os.fstat(fd).st_size)
	size = struct.unpack_from("<Q", m, 16)[0]
	rec = bytearray(120)                       # a record header...
	struct.pack_into("<I", rec, 96, 120)       # len
	struct.pack_into("<HH", rec, 108, 9, 99)   # type write, version 99: not ours
	pos = struct.unpack_from("<Q", m, 64)[0]   # reserve a slot as a producer would
	need = 8 + len(rec)
	struct.pack_into("<Q", m, 64, pos + need)
	off = 4096 + (pos & (size - 1))
	m[off + 8:off + 8 + len(rec)] = bytes(rec)
	struct.pack_into("<Q", m, off, (1 << 63) | (((pos >> 3) & 0x3fffffff) << 32) | need)
	open("in").read()
	open("out", "w").write("after the forged record\n")
	EOF
    roar_run -t preload /usr/bin/python3 "$TEST_DIR/forge.py" &&
    expect_edges <<-EOF &&
	$(edge in in)
	$(edge out out)
	EOF
    test_grep -x "incomplete events-lost 1" "$TEST_DIR/rec" &&
    test_grep "^warning: incomplete events-lost 1" "$TEST_DIR/err"
'

test_expect_success 'roar.hashWait exceeded: the input is -, incomplete hash-timeout, never a new id' '
    roar_setup &&
    git config roar.hashWait 1ms &&
    head -c 150000000 /dev/zero >f &&
    roar_run -t preload "$(fx rdwr_inplace)" &&
    expect_edges <<-EOF &&
	in - 150000000 f
	$(edge out f)
	EOF
    test_grep -x "incomplete hash-timeout f" "$TEST_DIR/rec" &&
    test_grep "^warning: incomplete hash-timeout f" "$TEST_DIR/err"
'

test_done
