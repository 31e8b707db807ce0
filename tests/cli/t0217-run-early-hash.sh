#!/bin/bash
# Outputs hashed while the job runs (issue 19): each pattern below changes a file after
# the job's writers were first done with it, when the collector may already have hashed
# it. The record must hold exactly the final content's id (git hash-object) or, for a
# file gone by the end, nothing; never an id of content that was overwritten. Under
# both tracers. ROAR_RUN_STATS tells which ids came from a hash made during the job.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-run.sh"

require_preload 'outputs hashed while the job runs'
PY=/usr/bin/python3
if ! test -x "$PY"; then
    test_skip 'outputs hashed while the job runs' "$PY missing"
    test_done
fi
tracers=preload
if ebpf_usable; then
    tracers="preload ebpf"
else
    test_skip 'outputs hashed early under -t ebpf' "the eBPF tracer cannot run here: $ebpf_why"
fi
export ROAR_RUN_STATS=1

# stats EARLY END: the stats line of the last run says so many ids were taken from a
# hash made during the job and so many hashed at the end.
stats() {
    test_grep "stats: [0-9]* events, $1 hashed during the job, $2 at the end" "$TEST_DIR/err"
}

for t in $tracers; do
    # The eBPF tracer sends no closes: out1 is done when out2's open takes its fd
    # number, out2 only at the exit, hashed by a thread or, if not begun by the end of
    # the job, by the end.
    test_expect_success "two files written in turn, then 50 ms of work: ids from during the job (-t $t)" '
        roar_setup &&
        roar_run -t '$t' $PY -c "
import time
with open(\"out1\", \"w\") as f: f.write(\"x\" * 100000)
with open(\"out2\", \"w\") as f: f.write(\"y\" * 100000)
time.sleep(0.05)
" &&
        expect_edges <<-EOF &&
	$(edge out out1)
	$(edge out out2)
	EOF
        if test '$t' = preload; then stats 2 0; else stats "[12]" "[01]"; fi &&
        expect_no_incomplete
    '

    test_expect_success "roar.hashThreads=0: everything hashed at the end (-t $t)" '
        roar_setup && git config roar.hashThreads 0 &&
        roar_run -t '$t' $PY -c "open(\"out\", \"w\").write(\"y\")" &&
        expect_edges <<-EOF &&
	$(edge out out)
	EOF
        stats 0 1
    '

    # The worst case for an identity: rewritten at once, same size, so only the job
    # seeing the second open can tell; 20 rounds to meet the hash at every point.
    test_expect_success "a file rewritten after its first close, same size, at once and later (-t $t)" '
        roar_setup &&
        cat >"$TEST_DIR/rewrite.py" <<-\EOF &&
	import os, time
	for i in range(20):
	    with open("f%d" % i, "wb") as f: f.write(b"a" * 65536)
	    if i % 2: time.sleep(0.01)
	    fd = os.open("f%d" % i, os.O_WRONLY)
	    os.write(fd, b"b" * 65536)
	    os.close(fd)
	EOF
        roar_run -t '$t' $PY "$TEST_DIR/rewrite.py" &&
        for i in $(seq 0 19); do edge out f$i; done | sort >"$TEST_DIR/want" &&
        expect_edges <"$TEST_DIR/want" && expect_no_incomplete
    '

    test_expect_success "a file reopened and appended by a child after the parent closed it (-t $t)" '
        roar_setup &&
        roar_run -t '$t' $PY -c "
import subprocess, time
with open(\"log\", \"w\") as f: f.write(\"parent\n\")
time.sleep(0.03)
subprocess.run([\"sh\", \"-c\", \"echo child >>log\"], check=True)
" &&
        printf "parent\nchild\n" >expect && test_cmp expect log &&
        expect_edges <<-EOF
	$(edge out log)
	EOF
    '

    test_expect_success "a file truncated by name after its last close: no fd, no close (-t $t)" '
        roar_setup &&
        roar_run -t '$t' $PY -c "
import os, time
with open(\"t\", \"w\") as f: f.write(\"x\" * 100000)
time.sleep(0.03)
os.truncate(\"t\", 10)
" &&
        test $(size t) = 10 &&
        expect_edges <<-EOF &&
	$(edge out t)
	EOF
        # preload: hashed at the close, stale by the end; eBPF: done at the exit only
        if test '$t' = preload; then stats 0 1; fi
    '

    test_expect_success "a file renamed after its last close: out under the new name (-t $t)" '
        roar_setup &&
        roar_run -t '$t' $PY -c "
import os, time
with open(\"tmp\", \"w\") as f: f.write(\"final\n\")
time.sleep(0.03)
os.rename(\"tmp\", \"final\")
" &&
        expect_edges <<-EOF &&
	$(edge out final)
	EOF
        expect_no_incomplete
    '

    test_expect_success "a file deleted after its last close: no line (-t $t)" '
        roar_setup &&
        roar_run -t '$t' $PY -c "
import os, time
with open(\"gone\", \"w\") as f: f.write(\"x\" * 100000)
with open(\"kept\", \"w\") as f: f.write(\"kept\n\")
time.sleep(0.03)
os.unlink(\"gone\")
" &&
        expect_edges <<-EOF
	$(edge out kept)
	EOF
    '

    test_expect_success "writes through a shared mapping after the last close (-t $t)" '
        roar_setup &&
        roar_run -t '$t' "$(fx mmap_after_close)" &&
        head -c 4096 /dev/zero | tr "\0" b >expect && test_cmp expect f &&
        expect_edges <<-EOF &&
	$(edge out f)
	EOF
        stats 0 1
    '
done

test_expect_success 'roar.hashThreads must be a count' '
    roar_setup && git config roar.hashThreads many &&
    test_must_fail git roar run true 2>err &&
    test_grep "roar.hashThreads" err
'

test_done
