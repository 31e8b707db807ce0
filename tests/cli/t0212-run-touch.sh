#!/bin/bash
# `touch` of an existing file is no change (SPEC §4.5), under both tracers, even when the
# stat cache cannot vouch for the file (issue 17, item 2): the eBPF collector reads the
# open after touch has moved the mtime, so the open-time id is unknown, and the end-of-job
# check used to compare mtimes. A tracer that sees every write saw none: no change.
# The cold cases run ROAR_RACE_REPEAT times (default 20) under each tracer.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-run.sh"

require_preload 'git roar run: touch'
REPEAT=${ROAR_RACE_REPEAT:-20}
tracers=preload
if ebpf_usable; then
    tracers="preload ebpf"
else
    test_skip 'touch under -t ebpf' "the eBPF tracer cannot run here: $ebpf_why"
fi

# commit_cold FILE...: commits FILEs as they are; their stat is too recent for the
# index (git's racy rule), so the stat cache cannot vouch for them.
commit_cold() {
    git add "$@" && git commit -qm files
}

# no_edges: the record has no in/out/del and no incomplete line.
no_edges() {
    if grep -E '^(in|out|del|incomplete) ' "$TEST_DIR/rec"; then
        echo "expected no edges; the record was:" && cat "$TEST_DIR/rec"
        return 1
    fi
}

# mprotect.py: a shared read-only mapping through an O_RDWR fd, made writable by
# mprotect (no system call any tracer reports as a write), then written through.
write_mprotect_py() {
    cat >"$TEST_DIR/mprotect.py" <<-\PY
	import ctypes, os
	libc = ctypes.CDLL(None, use_errno=True)
	libc.mmap.restype = ctypes.c_void_p
	libc.mmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_int,
	                      ctypes.c_int, ctypes.c_long]
	libc.mprotect.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
	libc.msync.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
	fd = os.open("f", os.O_RDWR)
	p = libc.mmap(None, 4096, 1, 1, fd, 0)  # PROT_READ, MAP_SHARED
	assert p not in (None, ctypes.c_void_p(-1).value)
	assert libc.mprotect(p, 4096, 3) == 0  # PROT_READ | PROT_WRITE
	ctypes.memmove(p, b"X", 1)
	assert libc.msync(p, 4096, 4) == 0  # MS_SYNC
	os.close(fd)
	PY
}

for t in $tracers; do
    test_expect_success "touch of an existing file, cold: nothing (-t $t, x$REPEAT)" '
        roar_setup &&
        echo stamp >stamp &&
        for i in $(seq 1 $REPEAT); do
            echo "stamp $i" >stamp && commit_cold stamp &&
            roar_run -t '$t' touch stamp && no_edges || {
                echo "run $i of $REPEAT" && return 1
            }
        done
    '

    test_expect_success "touch -d of an existing file, warm and cold: nothing (-t $t)" '
        roar_setup &&
        echo warm >warm && touch -d "-1 minute" warm &&
        sleep 1.1 && # the index is written later than the racy margin: its stat is trusted
        echo cold >cold && commit_cold warm cold &&
        roar_run -t '$t' touch -d 2001-01-01 warm cold && no_edges &&
        roar_run -t '$t' touch warm cold && no_edges
    '

    test_expect_success "touch of an existing file and a new one: out the new one only (-t $t)" '
        roar_setup &&
        echo stamp >stamp && commit_cold stamp &&
        roar_run -t '$t' touch stamp new &&
        expect_edges <<-EOF
	$(edge out new)
	EOF
    '

    test_expect_success "O_WRONLY open, futimens, no write: nothing (-t $t)" '
        roar_setup &&
        echo data >f && commit_cold f &&
        roar_run -t '$t' /usr/bin/python3 -c "
import os
fd = os.open(\"f\", os.O_WRONLY)
os.utime(fd, (1, 1))
os.close(fd)
" &&
        no_edges
    '

    # The control: a write after the open is a change: out the new content, in the old
    # one (eBPF: or `-`, announced; touch moved the mtime before the collector read it).
    test_expect_success "an append after touch: in the old content, out the new (-t $t)" '
        roar_setup &&
        echo stamp >stamp && commit_cold stamp &&
        old=$(oid stamp) &&
        roar_run -t '$t' sh -c "touch stamp && echo more >>stamp" &&
        test_grep -x "out $(oid stamp) 11 stamp" "$TEST_DIR/rec" &&
        id=$(sed -n "s/^in \([^ ]*\) 6 stamp$/\1/p" "$TEST_DIR/rec") &&
        if test "$id" = -; then
            test '$t' = ebpf && test_grep -x "incomplete hash-unknown stamp" "$TEST_DIR/rec"
        else
            test "$id" = "$old"
        fi
    '

    # A shared mapping made writable by mprotect: no tracer sees that write, so the end-
    # of-job check must still run for a tracer that sees every write system call.
    test_expect_success "a write through a shared mapping made writable by mprotect: a change (-t $t)" '
        roar_setup && write_mprotect_py &&
        echo "abcdef" >f && commit_cold f &&
        old=$(oid f) &&
        roar_run -t '$t' /usr/bin/python3 "$TEST_DIR/mprotect.py" &&
        echo "Xbcdef" >expect && test_cmp expect f &&
        test_grep -x "out $(oid f) 7 f" "$TEST_DIR/rec" &&
        id=$(sed -n "s/^in \([^ ]*\) 7 f$/\1/p" "$TEST_DIR/rec") &&
        if test "$id" = -; then
            test '$t' = ebpf && test_grep -x "incomplete hash-unknown f" "$TEST_DIR/rec"
        else
            test "$id" = "$old"
        fi
    '
done

test_done
