#!/bin/bash
# git roar run -t ebpf: the same jobs as under the preload tracer (SPEC §4: one program,
# one job, whichever tracer), except where eBPF sees more (static programs) or cannot
# block a call (an input rewritten before it was hashed: `-`, never the new id).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-run.sh"

if ! test -f "$PRELOAD_LIB"; then
    test_skip 'git roar run -t ebpf' "libroar-preload.so not built"
    test_done
fi
if ! ebpf_usable; then
    test_skip 'git roar run -t ebpf' "the eBPF tracer cannot run here: $ebpf_why"
    test_done
fi

# same SETUP CMD...: CMD run under each tracer in a repository of its own, each first
# prepared by SETUP (shell code); their in/out/del and incomplete lines must be equal.
same() {
    local setup=$1 t
    shift
    for t in preload ebpf; do
        git init -q "$TEST_DIR/$t" &&
        (
            cd "$TEST_DIR/$t" && roar_setup && eval "$setup" &&
            # fixtures expect fd 3 to be the lowest free number
            roar_run -t $t "$@" >"$TEST_DIR/out" 3>&- 4>&- 5>&- 6>&- 7>&- 8>&- 9>&- &&
            test "$(record_field tracer)" = $t &&
            { grep -E "^(in|out|del|incomplete) " "$TEST_DIR/rec" || true; } >"$TEST_DIR/$t.lines"
        ) || {
            echo "same: the run under $t failed; its stderr and record:"
            cat "$TEST_DIR/err" "$TEST_DIR/rec"
            return 1
        }
    done
    test_cmp "$TEST_DIR/preload.lines" "$TEST_DIR/ebpf.lines"
}

# old_or_unknown ID OLD PATH: the input id recorded for PATH is the old content's, or `-`
# announced as hash-unknown; never anything else (SPEC §4.6, §4.7).
old_or_unknown() {
    if test "$1" = -; then
        test_grep -x "incomplete hash-unknown $3" "$TEST_DIR/rec"
    else
        test "$1" = "$2"
    fi
}

test_expect_success '-t ebpf: the record says ebpf, the summary line, the exit status' '
    roar_setup &&
    echo a >a &&
    test_expect_code 3 roar_run -t ebpf sh -c "cat a >b; exit 3" &&
    test "$(record_field tracer)" = ebpf &&
    test "$(record_field exit)" = 3 &&
    test_grep "^roar: job [0-9a-f]\{7\} · 1 in · 1 out · exit 3 · " "$TEST_DIR/err" &&
    expect_edges <<-EOF
	$(edge in a)
	$(edge out b)
	EOF
'

test_expect_success 'roar.tracer picks the tracer when -t is not given; -t wins' '
    roar_setup &&
    echo a >a &&
    git config roar.tracer preload && roar_run cat a &&
    test "$(record_field tracer)" = preload &&
    git config roar.tracer ebpf && roar_run cat a &&
    test "$(record_field tracer)" = ebpf &&
    roar_run -t preload cat a &&
    test "$(record_field tracer)" = preload &&
    git config roar.tracer auto && roar_run cat a &&
    test "$(record_field tracer)" = ebpf &&
    git config roar.tracer strace &&
    test_expect_code 128 git roar run cat a 2>err &&
    test_grep "bad roar.tracer value .strace." err
'

test_expect_success '-t ebpf needs no preload library' '
    inst="$TEST_DIR/bare" &&
    mkdir -p "$inst/bin" &&
    cp "$ROAR_BUILD_DIR/git-roar" "$inst/bin/" &&
    echo a >a &&
    "$inst/bin/git-roar" run -q -t ebpf cat a >/dev/null &&
    grep -x "tracer ebpf" .git/roar/pending/*
'

# The kernel side sends no read events: a file read only through an fd the job
# inherited is an input because the collector records inherited fds (SPEC §4.1).
test_expect_success 'stdin inherited by the job, read in 4 KiB pieces: an input' '
    roar_setup &&
    head -c 1048576 /dev/zero >big &&
    roar_run -t ebpf dd of=/dev/null bs=4096 <big &&
    expect_edges <<-EOF
	$(edge in big)
	EOF
'

for f in read write_trunc creat_excl rdwr_creat_trunc rdwr_trunc_read rdwr_trunc_mmap rename \
    link create_unlink pipe_reuse dup2 fork spawn openat chdir sendfile zero_write \
    mkstemp_rename fopen fd_passed; do
    test_expect_success "fixture $f: the same job under both tracers" "
        same 'echo some-input >in; echo previous >out; echo old >old; echo old >f;
              echo old >target; mkdir sub; echo x >sub/x' \"\$(fx $f)\"
    "
done

# The eBPF tracer sends no close records (docs/ebpf.md, Events), so the collector's entry
# for a closed fd stays until the number is reused; reused by an fd no tracer sees made
# (SCM_RIGHTS), only the write's identity (a pipe's) tells that it is not the file.
test_expect_success 'an fd number reused by a passed pipe: the write is not the file'"'"'s' '
    roar_setup &&
    echo some-input >in &&
    for t in preload ebpf; do
        roar_run -t $t "$(fx fd_passed)" 3>&- 4>&- 5>&- 6>&- 7>&- 8>&- 9>&- &&
        expect_edges <<-EOF || return 1
	$(edge in in)
	EOF
    done
'

test_expect_success 'shell redirections, a pipeline, cp, sort: the same jobs' '
    same "printf \"b\\na\\nb\\n\" >in" sh -c "sort <in | uniq >out; cp out copy; cat in >>log"
'

# An append lands before the collector can hash the old content; the job only appended,
# so that content is the file's first old-size bytes (docs/ebpf.md). Untracked files: no
# stat cache to fall back on.
test_expect_success '>> on an existing file, cold: the same job (the old id)' '
    same "echo old-log >log" sh -c "echo x >>log; echo y >>log" &&
    test_grep "^in [0-9a-f]\{40\} 8 log$" "$TEST_DIR/ebpf.lines"
'

test_expect_success 'fopen "a" + fputs on an existing file, cold: the same job (the old id)' '
    same "echo in >in; echo old-app >app" "$(fx fopen)" &&
    test_grep "^in [0-9a-f]\{40\} 8 app$" "$TEST_DIR/ebpf.lines"
'

# Not an append: the fd drops O_APPEND (F_SETFL) or writes with RWF_NOAPPEND, at offset
# 0. The prefix would be new bytes: the old id or -, never that.
test_expect_success 'O_APPEND dropped, or RWF_NOAPPEND: the old id or -, never the prefix' '
    roar_setup &&
    for how in setfl noappend; do
        echo "old content" >f &&
        old=$(oid f) &&
        roar_run -t ebpf /usr/bin/python3 -c "
import fcntl, os, sys
fd = os.open(\"f\", os.O_WRONLY | os.O_APPEND)
os.write(fd, b\"more\\n\")
if sys.argv[1] == \"setfl\":
    fcntl.fcntl(fd, fcntl.F_SETFL, 0)
    os.pwrite(fd, b\"X\", 0)
else:
    os.pwritev(fd, [b\"X\"], 0, 0x20)
" $how &&
        echo "Xld content" >expect && echo more >>expect && test_cmp expect f &&
        prefix=$(head -c 12 f | git hash-object --no-filters --stdin) &&
        id=$(sed -n "s/^in \([^ ]*\) 12 f$/\1/p" "$TEST_DIR/rec") &&
        test -n "$id" && test "$id" != "$prefix" &&
        old_or_unknown "$id" "$old" f || return 1
    done
'

test_expect_success 'a directory renamed by the job: the same job (its files, moved)' '
    same "mkdir -p d/sub && echo 1 >d/one && echo 2 >d/sub/two" mv d e
'

test_expect_success 'python3 (open, json, os.replace): the same job' '
    same "echo \"{\\\"a\\\": 1}\" >in.json" /usr/bin/python3 -c "
import json, os
d = json.load(open(\"in.json\"))
with open(\"tmp.json\", \"w\") as f:
    json.dump(d, f)
os.replace(\"tmp.json\", \"out.json\")
"
'

test_expect_success 'numpy np.save / np.savez: the same job' '
    if ! /usr/bin/python3 -c "import numpy" 2>/dev/null; then
        echo "# SKIP: no numpy for /usr/bin/python3" >&2
    else
        same "echo 1 2 3 >in.txt" /usr/bin/python3 -c "
import numpy as np
a = np.loadtxt(\"in.txt\")
np.save(\"a.npy\", a)
np.savez(\"b.npz\", a=a)
"
    fi
'

test_expect_success '6. in-place edit with the stat cache seeded from the index: the old id' '
    roar_setup &&
    echo "abcdef" >f && touch -d "-1 minute" f &&
    sleep 1.1 && # the index is written later than the racy margin: its stat is trusted
    git add f && git commit -qm f &&
    old=$(edge in f) &&
    roar_run -t ebpf "$(fx rdwr_inplace)" &&
    echo "Xbcdef" >expect && test_cmp expect f &&
    expect_edges <<-EOF &&
	$old
	$(edge out f)
	EOF
    expect_no_incomplete
'

test_expect_success '6. in-place edit, cold: the old id or -, never the new one' '
    roar_setup &&
    for i in 1 2 3; do
        echo "abcdef" >f &&
        old=$(oid f) &&
        roar_run -t ebpf "$(fx rdwr_inplace)" &&
        new=$(oid f) &&
        id=$(sed -n "s/^in \([^ ]*\) 7 f$/\1/p" "$TEST_DIR/rec") &&
        test -n "$id" && test "$id" != "$new" &&
        old_or_unknown "$id" "$old" f || return 1
    done
'

# SPEC §4.6: the collector hashes an eBPF input through the process's own fd while that
# still names the content seen at open. A file read, then replaced by a rename over it:
# the path names the new content at once, the fd the old one until it is closed.
test_expect_success 'read, then a new file renamed over it at once: the old id or -, never the new one' '
    roar_setup &&
    for i in 1 2 3; do
        echo "old content $i" >f &&
        old=$(oid f) &&
        roar_run -t ebpf "$(fx read_rename_over)" &&
        new=$(oid f) && test "$new" != "$old" &&
        id=$(sed -n "s/^in \([^ ]*\) [0-9]* f$/\1/p" "$TEST_DIR/rec") &&
        test -n "$id" && test "$id" != "$new" &&
        test_grep -x "out $new 12 f" "$TEST_DIR/rec" &&
        old_or_unknown "$id" "$old" f || return 1
    done
'

test_expect_success 'read, fd held 200 ms across a rename over the file: the old id, through the fd' '
    roar_setup &&
    for mode in quick hold; do
        echo "old content $mode" >f &&
        in=$(edge in f) &&
        roar_run -t ebpf "$(fx read_rename_over)" $mode &&
        expect_edges <<-EOF &&
	$in
	$(edge out f)
	EOF
        expect_no_incomplete || return 1
    done
'

test_expect_success 'a static program is seen fully: its input and output, no incomplete' '
    bb=$(command -v busybox) && test -n "$bb" &&
    ! grep -q "INTERP" <(readelf -l "$bb" 2>/dev/null) &&
    roar_setup &&
    echo data >src &&
    roar_run -t ebpf "$bb" cp src dst &&
    test_cmp src dst &&
    expect_edges <<-EOF &&
	$(edge in src)
	$(edge out dst)
	EOF
    expect_no_incomplete
'

test_expect_success 'a static shell starting programs: all of them seen' '
    bb=$(command -v busybox) && test -n "$bb" &&
    roar_setup &&
    echo data >in &&
    roar_run -t ebpf "$bb" sh -c "cat in >mid; /bin/cat mid >out" &&
    expect_edges <<-EOF &&
	$(edge in in)
	$(edge out mid)
	$(edge out out)
	EOF
    expect_no_incomplete
'

# unseen_io FIXTURE REASON: I/O no tracer sees makes the job `incomplete REASON`, with the
# warning; skipped where the kernel refuses the interface (the fixture exits 77).
unseen_io() {
    roar_setup &&
    (cd "$TEST_DIR" && "$(fx "$1")")
    if test $? = 77; then
        echo "# SKIP: $1 refused by this kernel" >&2
        return 0
    fi
    roar_run -t ebpf "$(fx "$1")" &&
    test_grep -x "incomplete $2" "$TEST_DIR/rec" &&
    test_grep "^warning: incomplete $2" "$TEST_DIR/err"
}

test_expect_success 'io_uring: incomplete io_uring' '
    unseen_io io_uring io_uring
'

test_expect_success 'native AIO: incomplete aio' '
    unseen_io aio aio
'

# nobody_repo NAME: a repository owned by the unprivileged user (65534) at
# $TEST_DIR/NAME/r, reachable through our scratch dirs; cds into it. as_nobody CMD...
# runs CMD as that user, with NAME as its home.
nobody_repo() {
    chmod o+x "$TEST_ROOT" "$TEST_DIR" &&
    mkdir "$TEST_DIR/$1" && chown 65534:65534 "$TEST_DIR/$1" &&
    NOBODY_HOME="$TEST_DIR/$1" &&
    (cd "$NOBODY_HOME" && as_nobody git init -q r) &&
    cd "$NOBODY_HOME/r"
}
as_nobody() {
    setpriv --reuid=65534 --regid=65534 --clear-groups \
        env HOME="$NOBODY_HOME" GIT_CONFIG_NOSYSTEM=1 "$@"
}

test_expect_success 'without privileges: fatal naming the fix, nothing written' '
    if ! command -v setpriv >/dev/null; then
        echo "# SKIP: no setpriv" >&2
        exit 0
    fi
    nobody_repo nb &&
    test_expect_code 128 as_nobody "$ROAR_BUILD_DIR/git-roar" run -t ebpf true 2>err &&
    test_grep "^fatal: the eBPF tracer needs root (CAP_BPF and CAP_PERFMON)" err &&
    test_grep "use .-t preload." err &&
    ! test -d .git/roar/pending
'

test_expect_success 'without privileges, -t auto: the preload tracer, silently; -q: nothing at all' '
    if ! command -v setpriv >/dev/null; then
        echo "# SKIP: no setpriv" >&2
        exit 0
    fi
    nobody_repo na &&
    as_nobody sh -c "echo a >a" &&
    as_nobody "$ROAR_BUILD_DIR/git-roar" run -t auto cat a >out 2>err &&
    test_grep -v "eBPF unavailable" err &&
    test_grep "^roar: job " err &&
    grep -x "tracer preload" .git/roar/pending/* &&
    as_nobody "$ROAR_BUILD_DIR/git-roar" run -q cat a >out 2>err &&
    test_must_be_empty err
'

test_done
