#!/bin/bash
# The preload shim's events, as roar-tracedump prints them: fixture programs (one
# syscall pattern each) and real programs run under the shim, exact lines asserted.
. "$(dirname "$0")/lib.sh"

. "$(dirname "$0")/lib-events.sh"

DUMP="$TRACE_DIR/roar-tracedump"
LIB="$ROAR_BUILD_DIR/lib/roar/libroar-preload.so"
EVENTS_DUMP=$DUMP

if ! test -x "$DUMP" || ! test -f "$LIB"; then
    test_skip 'preload events' "roar-tracedump or libroar-preload.so not built"
    test_done
fi

test_expect_success 'open RDONLY + read: open, close, nothing lost; the read is no news' '
    echo hi >in && fx read &&
    has "p1 exec $TRACE_DIR/fx_read" &&
    has "p1 open T/in fd=3 flags=rdonly created=0 reg" &&
    hasnt "p1 read fd=3" &&
    has "p1 close fd=3" &&
    has "end lost=0" &&
    hasnt "p1 about-to-destroy open T/in"
'

test_expect_success 'closes are announced: dup2 onto a closed number, a pipe reusing one' '
    fx dup2 && has "p1 close fd=3" &&
    echo hi >in && fx pipe_reuse && has "p1 close fd=3"
'

test_expect_success 'a read on an fd whose open was not seen: one read event' '
    echo hi >in && trace -- head -n 1 <in &&
    test "$(grep -c "^p1 read fd=0$" ev)" = 1
'

test_expect_success 'O_WRONLY|O_CREAT|O_TRUNC of a new file: created, no round trip' '
    fx write_trunc &&
    has "p1 open T/out fd=3 flags=wronly|creat|trunc created=1 reg" &&
    has "p1 write fd=3 reg" &&
    test_grep -v "about-to-destroy" ev
'

test_expect_success 'O_RDWR|O_TRUNC of an existing file: round trip before the open' '
    echo old >f && fx rdwr_trunc_read &&
    grep -n . ev >numbered &&
    a=$(grep -F "about-to-destroy open T/f" numbered | cut -d: -f1) &&
    o=$(grep -F "open T/f fd=3 flags=rdwr|trunc created=0 reg" numbered | cut -d: -f1) &&
    test -n "$a" && test -n "$o" && test "$a" -lt "$o" &&
    has "p1 answered"
'

test_expect_success 'O_CREAT: created only when the file did not exist' '
    echo o >old && fx creat_excl &&
    has "p1 open T/new fd=3 flags=wronly|creat created=1 reg" &&
    has "p1 open T/old fd=4 flags=wronly|creat created=0 reg" &&
    has "p1 about-to-destroy open T/old" &&
    has "p1 open T/excl fd=5 flags=rdwr|creat|excl created=1 reg"
'

events_common_tests

test_expect_success 'fork: the fork record, then the child writes' '
    fx fork &&
    has "p1 fork child=p2" &&
    has "p2 open T/child.out fd=3 flags=wronly|creat|trunc created=1 reg" &&
    has "p2 write fd=3 reg" &&
    test "$(grep -n "fork child=p2" ev | cut -d: -f1)" -lt \
         "$(grep -n "p2 open" ev | cut -d: -f1)"
'

# SPEC §4.9: channels and the flows the shim cannot follow (docs/preload.md, "Channels").
test_expect_success 'pipe + fork: each process sends its own first read and first write' '
    fx pipe_fork &&
    has "p1 fdnew fd=3,4 pair reads-seen fifo" &&
    test "$(grep -c "^p1 read fd=3$" ev)" = 1 &&
    has "p1 write fd=4 fifo" &&
    has "p1 fork child=p2" &&
    test "$(grep -c "^p2 read fd=3$" ev)" = 1 &&
    has "p2 write fd=4 fifo" &&
    test "$(grep -n "p1 fork child=p2" ev | cut -d: -f1)" -lt \
         "$(grep -n "p2 read fd=3" ev | cut -d: -f1)"
'

test_expect_success 'socketpair: a pair whose reads are seen (recv), in both processes' '
    fx socketpair &&
    has "p1 fdnew fd=3,4 pair reads-seen" &&
    has "p1 write fd=3 sock" &&
    has "p1 read fd=4" &&
    has "p2 read fd=4"
'

test_expect_success 'socket, eventfd, memfd: opaque; epoll: no data between processes' '
    fx opaque &&
    has "p1 fdnew fd=3 opaque" &&
    has "p1 fdnew fd=4 opaque" &&
    has "p1 fdnew fd=5 opaque" &&
    has "p1 fdnew fd=6"
'

test_expect_success 'a FIFO opened by path: first read per process, like a pipe' '
    fx fifo &&
    has "p2 open T/fifo fd=3 flags=wronly created=0 fifo" &&
    has "p2 write fd=3 fifo" &&
    has "p1 open T/fifo fd=3 flags=rdonly created=0 fifo" &&
    test "$(grep -c "^p1 read fd=3$" ev)" = 1 &&
    has "p1 fork child=p3" &&
    has "p3 read fd=3"
'

test_expect_success 'stdio on a pipe (fdopen): reported read, in the fork child too' '
    fx pipe_stdio &&
    has "p1 fdnew fd=3,4 pair reads-seen fifo" &&
    has "p2 read fd=3" &&
    has "p3 read fd=3"
'

test_expect_success 'sh -c "cat in | sort > out": the pipe, the writer, the reader (stdio)' '
    printf "b\na\n" >in && trace -- sh -c "cat in | sort >out" </dev/null &&
    printf "a\nb\n" >expect && test_cmp expect out &&
    has "p1 exec /usr/bin/dash" &&
    has "p1 fdnew fd=3,4 pair reads-seen fifo" &&
    has "p2 exec /usr/bin/cat" &&
    has "p2 write fd=1 fifo" &&
    has "p3 dup 3->0" &&
    has "p3 exec /usr/bin/sort" &&
    sed -n "/^p3 exec \/usr\/bin\/sort$/,\$p" ev >after-exec &&
    test "$(grep -c "^p3 read fd=0$" after-exec)" = 1 &&
    hasnt "p1 read fd=3" && hasnt "p1 read fd=0"
'

test_expect_success 'stdin a pipe from outside the job: one read in the reader' '
    printf "x\n" | trace -- head -n 1 >out &&
    test "$(grep -c "^p1 read fd=0$" ev)" = 1
'

test_expect_success 'shared anonymous memory and SysV shm: one flow per process' '
    fx shared_anon &&
    has "p1 fork child=p2" &&
    has "p2 flow shared-anon shm-named" &&
    test "$(grep -c "^p1 flow shared-anon$" ev)" = 1 &&
    hasnt "p3 flow shared-anon"
'

test_expect_success 'ptrace(TRACEME) and process_vm_readv: flow ptrace with the other' '
    fx ptrace &&
    has "p2 flow ptrace other=p1" &&
    has "p1 flow ptrace other=p3"
'

test_expect_success 'rename over an existing file: round trip, then the rename' '
    echo old >final && fx rename &&
    has "p1 about-to-destroy rename T/final" &&
    has "p1 rename T/tmp -> T/final"
'

test_expect_success 'link then unlink the temp name' '
    fx link &&
    has "p1 link T/tmp -> T/final" &&
    has "p1 about-to-destroy unlink T/tmp" &&
    has "p1 unlink T/tmp"
'

test_expect_success 'fopen r / w / a: the stdio opens with their flags' '
    echo hi >in && echo old >out && fx fopen &&
    has "p1 open T/in fd=3 flags=rdonly created=0 reg" &&
    has "p1 about-to-destroy open T/out" &&
    has "p1 open T/out fd=4 flags=wronly|creat|trunc created=0 reg" &&
    has "p1 open T/app fd=5 flags=wronly|creat|append created=1 reg" &&
    has "p1 close fd=5"
'

test_expect_success 'mmap PROT_WRITE|MAP_SHARED: round trip before the map' '
    printf "0123456789" >f && fx mmap &&
    has "p1 about-to-destroy mmap fd=3" &&
    has "p1 mmap fd=3 shared write"
'

test_expect_success 'the program closing / dup2-ing over the control fd is harmless' '
    echo x >f && fx protect >out &&
    echo bad=0 >expect && test_cmp expect out &&
    test "$(grep -c "p1 answered" ev)" = 2
'

test_expect_success 'cat: open, read, and the copy to stdout' '
    echo hello >a && trace -- cat a >out &&
    echo hello >expect && test_cmp expect out &&
    has "p1 exec /usr/bin/cat" &&
    has "p1 open T/a fd=3 flags=rdonly created=0 reg"
'

test_expect_success 'sort < in > out inside sh -c: the shell opens both, sort reads fd 0' '
    printf "b\na\n" >in && trace -- sh -c "sort <in >out" &&
    printf "a\nb\n" >expect && test_cmp expect out &&
    has "p1 exec /usr/bin/dash" &&
    test_grep -E "^p[0-9] open T/in fd=[0-9]+ flags=rdonly created=0 reg$" ev &&
    test_grep -E "^p[0-9] open T/out fd=[0-9]+ flags=wronly\|creat\|trunc created=1 reg$" ev &&
    test_grep -E "^p[0-9] exec /usr/bin/sort$" ev
'

test_expect_success 'cp: source opened for reading, target created' '
    echo data >src && trace -- cp src dst &&
    test_cmp src dst &&
    test_grep -E "^p1 open T/src fd=[0-9]+ flags=rdonly.* created=0 reg$" ev &&
    test_grep -E "^p1 open T/dst fd=[0-9]+ flags=wronly\|creat.* created=1 reg$" ev &&
    test_grep -E "^p1 copy fd=[0-9]+ -> fd=[0-9]+$" ev
'

test_expect_success 'python3 open(): the interpreter opens are seen' '
    echo hi >in && trace -- python3 -c "open(\"in\").read(); open(\"pyout\", \"w\").write(\"x\")" &&
    test_grep -E "^p1 open T/in fd=[0-9]+ flags=rdonly\|cloexec created=0 reg$" ev &&
    test_grep -E "^p1 open T/pyout fd=[0-9]+ flags=wronly\|creat\|trunc\|cloexec created=1 reg$" ev
'

test_expect_success 'env -i: the child is still traced' '
    echo hi >in && trace -- env -i /bin/cat in >out &&
    has "p1 exec /usr/bin/env" &&
    has "p1 exec /usr/bin/cat" &&
    has "p1 open T/in fd=3 flags=rdonly created=0 reg"
'

test_expect_success 'static busybox: an incomplete event, no loader noise' '
    bb=$(command -v busybox) && test -n "$bb" &&
    ! grep -q "INTERP" <(readelf -l "$bb" 2>/dev/null) &&
    trace -- sh -c "exec $bb echo hi" >out 2>err &&
    echo hi >expect && test_cmp expect out &&
    test_must_be_empty err &&
    test_grep -E "^p1 incomplete static-binary $bb$" ev
'

# libaio's io_submit is interposed; the raw system call (fx_aio alone) cannot be.
test_expect_success 'native AIO through libaio: an incomplete event, once' '
    "$TRACE_DIR/fx_aio" libaio; rc=$? &&
    if test $rc = 77; then
        echo "# SKIP: libaio.so.1 not installed, or io_setup refused by this kernel" >&2
    else
        echo old >aio.out && trace -- "$TRACE_DIR/fx_aio" libaio &&
        echo aio >expect && test_cmp expect aio.out &&
        test "$(grep -c "^p1 incomplete aio$" ev)" = 1
    fi
'

test_expect_success 'the user LD_PRELOAD still loads, ours is appended' '
    cat >user.c <<-\EOC &&
	#include <stdio.h>
	__attribute__((constructor)) static void hello(void) { fputs("user-preload\n", stderr); }
	EOC
    cc -shared -fPIC -o "$(pwd)/user.so" user.c &&
    LD_PRELOAD="$(pwd)/user.so" trace -- sh -c "cat /dev/null; env" >env.out 2>err &&
    test "$(grep -c user-preload err)" -ge 2 &&
    test_grep -F "LD_PRELOAD=$(pwd)/user.so:$LIB" env.out &&
    has "end lost=0"
'

test_expect_success 'no collector socket: round trips fail fast, the program runs' '
    echo old >f && "$DUMP" -n -o ev -- "$TRACE_DIR/fx_rdwr_trunc_read" &&
    test_grep "about-to-destroy open" ev &&
    test_grep -v "answered" ev
'

test_done
