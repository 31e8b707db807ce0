#!/bin/bash
# Steps (SPEC §4.9, issue 18): one command, many steps. Each fixture runs under both
# tracers, asserts the exact `step` lines of the record, and what `status` calls stale
# after each input changes (and lineage where it matters).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-run.sh"

require_preload 'steps'

# expect_steps: stdin holds the record's exact step lines (none: empty).
expect_steps() {
    cat >"$TEST_DIR/steps.expect" &&
    { grep '^step ' "$TEST_DIR/rec" || true; } >"$TEST_DIR/steps.actual" &&
    test_cmp "$TEST_DIR/steps.expect" "$TEST_DIR/steps.actual"
}

# stale_after FILE: the outputs `status` calls stale once FILE changed (sorted, one per
# line); FILE is restored after.
stale_after() {
    cp -p "$1" "$TEST_DIR/saved" &&
    echo "changed $RANDOM" >>"$1" &&
    git roar status >"$TEST_DIR/status" 2>&1
    sed -n 's/^stale  *\([^ ]*\).*/\1/p' "$TEST_DIR/status" | sort
    cp -p "$TEST_DIR/saved" "$1"
}

# expect_stale FILE OUTPUT...: exactly these outputs are stale once FILE changed.
expect_stale() {
    local file=$1
    shift
    printf '%s\n' "$@" | sed '/^$/d' | sort >"$TEST_DIR/stale.expect" &&
    stale_after "$file" >"$TEST_DIR/stale.actual" &&
    test_cmp "$TEST_DIR/stale.expect" "$TEST_DIR/stale.actual"
}

steps_tests() {
    local t=$1

    test_expect_success "$t: two steps in one sh -c: a pipeline and a copy" '
        roar_setup &&
        printf "b\na\n" >a.txt && echo b >b.txt &&
        roar_run -t '"$t"' sh -c "cat a.txt | sort > a.out; cat b.txt > b.out" &&
        expect_no_incomplete &&
        expect_steps <<-\EOF &&
	step 1 1
	step 2 2
	EOF
        expect_stale a.txt a.out &&
        expect_stale b.txt b.out &&
        git roar lineage b.out >lin && test_grep -- "-- b.txt" lin && test_grep -v -- "-- a.txt" lin &&
        git roar lineage --down a.txt >down && test_grep -- "-- a.out" down && test_grep -v -- "-- b.out" down &&
        git roar show "$(record_field job)" >show && test_grep -x "  b.out  <-  b.txt" show &&
        git roar show --json "$(record_field job)" >show.json &&
        test_grep -F "\"steps\":[{\"outputs\":[\"a.out\"],\"inputs\":[\"a.txt\"]},{\"outputs\":[\"b.out\"],\"inputs\":[\"b.txt\"]}]" show.json &&
        git add a.txt b.txt a.out b.out && git commit -qm built && git roar attach >/dev/null &&
        echo "a changed" >>a.txt && git commit -qam "a changes, no rerun" &&
        git roar review HEAD~1..HEAD >rev &&
        test_grep "^  a.out  (input a.txt changed" rev &&
        test_grep -v "^  b.out" rev
    '

    test_expect_success "$t: make -j2, then one raw file changes: only its target is stale" '
        roar_setup &&
        mkdir raw out &&
        echo 2 >raw/x.csv && echo 1 >raw/y.csv &&
        printf "all: out/x.txt out/y.txt\nout/%%.txt: raw/%%.csv\n\tsort \$< > \$@\n" >Makefile &&
        roar_run -t '"$t"' make -j2 -s &&
        expect_no_incomplete &&
        expect_steps <<-\EOF &&
	step 1 1-2
	step 2 1,3
	EOF
        expect_stale raw/x.csv out/x.txt &&
        expect_stale raw/y.csv out/y.txt &&
        expect_stale Makefile out/x.txt out/y.txt &&
        echo 3 >>raw/x.csv &&
        roar_run -t '"$t"' make -j2 -s &&
        git roar status >st &&
        test_grep -v "^stale" st &&
        test_grep "2 outputs: 2 ok" st &&
        echo 0 >>raw/y.csv &&
        git roar reproduce --yes >rep 2>&1 &&
        git roar status >st &&
        test_grep "2 outputs: 2 ok" st &&
        sort raw/y.csv >expect && test_cmp expect out/y.txt
    '

    test_expect_success "$t: make with an intermediate file deleted at the end" '
        roar_setup &&
        mkdir raw out &&
        echo 2 >raw/x.csv && echo 1 >raw/y.csv &&
        printf "%s\n" "all: out/x.txt out/y.txt" ".INTERMEDIATE: x.mid y.mid" \
            "%.mid: raw/%.csv" "	sort \$< > \$@" "out/%.txt: %.mid" "	cat \$< > \$@" >Makefile &&
        roar_run -t '"$t"' make -j2 -s &&
        ! test -e x.mid &&
        expect_edges <<-EOF &&
	$(edge in Makefile)
	$(edge in raw/x.csv)
	$(edge in raw/y.csv)
	$(edge out out/x.txt)
	$(edge out out/y.txt)
	EOF
        expect_steps <<-\EOF &&
	step 1 1-2
	step 2 1,3
	EOF
        expect_stale raw/y.csv out/y.txt
    '

    test_expect_success "$t: a pipeline through tee" '
        roar_setup &&
        printf "b\na\n" >a.txt && echo b >b.txt &&
        roar_run -t '"$t"' sh -c "sort a.txt | tee a.sorted > a.copy; cat b.txt > b.out" &&
        expect_steps <<-\EOF &&
	step 1-2 1
	step 3 2
	EOF
        expect_stale a.txt a.copy a.sorted &&
        expect_stale b.txt b.out
    '

    test_expect_success "$t: a shell loop writing many outputs from separate inputs" '
        roar_setup &&
        for i in 1 2 3 4; do echo "in $i" >in$i.txt; done &&
        roar_run -t '"$t"' sh -c "for i in 1 2 3 4; do sort in\$i.txt > out\$i.txt; done" &&
        expect_steps <<-\EOF &&
	step 1 1
	step 2 2
	step 3 3
	step 4 4
	EOF
        expect_stale in3.txt out3.txt
    '

    test_expect_success "$t: an input read after the output was written is no dependency" '
        roar_setup &&
        echo first >first.txt && echo late >late.txt &&
        cat >"$TEST_DIR/late.py" <<-\EOF &&
	src = open("first.txt").read()
	with open("out.txt", "w") as f:
	    f.write(src)
	open("late.txt").read()
	with open("late.out", "w") as f:
	    f.write("done\n")
	EOF
        roar_run -t '"$t"' /usr/bin/python3 "$TEST_DIR/late.py" &&
        expect_steps <<-\EOF &&
	step 2 1
	EOF
        expect_stale late.txt late.out &&
        expect_stale first.txt late.out out.txt
    '

    test_expect_success "$t: a daemonised child: its output depends on what it read" '
        roar_setup &&
        echo a >a.txt && echo b >b.txt &&
        cat >"$TEST_DIR/daemon.py" <<-\EOF &&
	import os, time
	if os.fork() == 0:
	    os.setsid()
	    if os.fork() == 0:
	        time.sleep(0.3)
	        data = open("a.txt").read()
	        open("a.out", "w").write(data)
	    os._exit(0)
	open("b.out", "w").write(open("b.txt").read())
	EOF
        roar_run -t '"$t"' /usr/bin/python3 "$TEST_DIR/daemon.py" &&
        test_cmp a.txt a.out &&
        expect_steps <<-\EOF &&
	step 1 1
	step 2 2
	EOF
        expect_stale a.txt a.out
    '

    test_expect_success "$t: python multiprocessing with a pool stays conservative" '
        roar_setup &&
        echo a >a.txt && echo b >b.txt &&
        cat >"$TEST_DIR/pool.py" <<-\EOF &&
	from multiprocessing import Pool
	def work(name):
	    data = open(name + ".txt").read()
	    open(name + ".out", "w").write(data.upper())
	    return name
	if __name__ == "__main__":
	    with Pool(2) as p:
	        p.map(work, ["a", "b"])
	EOF
        roar_run -t '"$t"' /usr/bin/python3 "$TEST_DIR/pool.py" &&
        expect_steps </dev/null &&
        expect_stale a.txt a.out b.out
    '

    test_expect_success "$t: shared anonymous memory across a fork: one process for the flow" '
        roar_setup &&
        echo a >a.txt && echo b >b.txt &&
        cat >"$TEST_DIR/shm.py" <<-\EOF &&
	import mmap, os
	shared = mmap.mmap(-1, 4096)
	if os.fork() == 0:
	    data = open("a.txt", "rb").read()
	    shared[:len(data)] = data
	    os._exit(0)
	os.wait()
	if os.fork() == 0:
	    open("a.out", "wb").write(shared[:2])
	    os._exit(0)
	os.wait()
	open("b.out", "w").write(open("b.txt").read())
	EOF
        roar_run -t '"$t"' /usr/bin/python3 "$TEST_DIR/shm.py" &&
        test_cmp a.txt a.out &&
        expect_steps </dev/null &&
        expect_stale a.txt a.out b.out
    '
}

steps_tests preload

test_expect_success 'preload: lost events: no steps, every output on every input' '
    roar_setup &&
    echo a >a.txt && echo b >b.txt &&
    cat >"$TEST_DIR/forge.py" <<-\EOF &&
	import mmap, os, struct
	fd = os.open(os.environ["ROAR_RING"], os.O_RDWR)
	m = mmap.mmap(fd, os.fstat(fd).st_size)
	size = struct.unpack_from("<Q", m, 16)[0]
	rec = bytearray(120)
	struct.pack_into("<I", rec, 96, 120)
	struct.pack_into("<HH", rec, 108, 9, 99)
	pos = struct.unpack_from("<Q", m, 64)[0]
	need = 8 + len(rec)
	struct.pack_into("<Q", m, 64, pos + need)
	off = 4096 + (pos & (size - 1))
	m[off + 8:off + 8 + len(rec)] = bytes(rec)
	struct.pack_into("<Q", m, off, (1 << 63) | (((pos >> 3) & 0x3fffffff) << 32) | need)
	if os.fork() == 0:
	    open("a.out", "w").write(open("a.txt").read())
	    os._exit(0)
	os.wait()
	open("b.out", "w").write(open("b.txt").read())
	EOF
    roar_run -t preload /usr/bin/python3 "$TEST_DIR/forge.py" &&
    test_grep -x "incomplete events-lost 1" "$TEST_DIR/rec" &&
    expect_steps </dev/null &&
    expect_stale a.txt a.out b.out
'

if ebpf_usable; then
    steps_tests ebpf
    test_expect_success 'ebpf: lost events (a 4 KiB ring): no steps, every output on every input' '
        roar_setup &&
        echo a >a.txt && echo b >b.txt &&
        cat >"$TEST_DIR/burst.py" <<-\EOF &&
	import os
	if os.fork() == 0:
	    open("a.out", "w").write(open("a.txt").read())
	    os._exit(0)
	os.wait()
	for i in range(20000):
	    os.close(os.open("b.txt", os.O_RDONLY))
	open("b.out", "w").write(open("b.txt").read())
	EOF
        ROAR_EBPF_RING_BYTES=4096 roar_run -t ebpf /usr/bin/python3 "$TEST_DIR/burst.py" &&
        test_grep "^incomplete events-lost" "$TEST_DIR/rec" &&
        expect_steps </dev/null
    '
    test_expect_success 'ebpf: a gap (io_uring): no steps, every output on every input' '
        roar_setup &&
        echo hi >in && echo b >b.txt &&
        roar_run -t ebpf sh -c "$(fx io_uring); cat b.txt > b.out" &&
        test_grep "^incomplete io_uring" "$TEST_DIR/rec" &&
        expect_steps </dev/null
    '
else
    test_skip 'steps under eBPF' "$ebpf_why"
fi

test_done
