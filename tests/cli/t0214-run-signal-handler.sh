#!/bin/bash
# File I/O inside a signal handler (issue 17, item 4): fx_signal_io appends to sig.out
# from a SIGALRM handler every 100 us while it opens and reads `in` in a loop, so most
# signals land inside the preload shim's wrappers. The shim's reentrancy guard used to
# make the handler's calls go untraced there: `out sig.out` missing, or sig.out (made
# unseen, appended to later) an input with content that existed only during the job.
# Each case runs ROAR_RACE_REPEAT times (default 10) under each tracer.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-run.sh"

require_preload 'file I/O in a signal handler'
REPEAT=${ROAR_RACE_REPEAT:-10}
tracers=preload
if ebpf_usable; then
    tracers="preload ebpf"
else
    test_skip 'a signal handler under -t ebpf' "the eBPF tracer cannot run here: $ebpf_why"
fi

for t in $tracers; do
    for how in sigaction signal; do
        test_expect_success "handler installed with $how creates sig.out: out sig.out, never in (-t $t, x$REPEAT)" '
            roar_setup &&
            echo input >in && git add in && git commit -qm in &&
            for i in $(seq 1 $REPEAT); do
                rm -f sig.out &&
                roar_run -t '$t' "$(fx signal_io)" '$how' &&
                expect_edges <<-EOF || { echo "run $i of $REPEAT"; return 1; }
	$(edge in in)
	$(edge out sig.out)
	EOF
                expect_no_incomplete || return 1
            done
        '
    done

    # sig.out exists before the job: its input id is the content before the job, or `-`
    # announced (a handler that interrupted the shim in a critical part publishes but
    # does not wait for the collector), never content the job wrote.
    test_expect_success "handler appends to an existing sig.out: in the old content or - (-t $t, x$REPEAT)" '
        roar_setup &&
        echo input >in && git add in && git commit -qm in &&
        for i in $(seq 1 $REPEAT); do
            printf "old %s\n" $i >sig.out && old=$(oid sig.out) && n=$(size sig.out) &&
            roar_run -t '$t' "$(fx signal_io)" &&
            test_grep -x "$(edge out sig.out)" "$TEST_DIR/rec" &&
            id=$(sed -n "s/^in \([^ ]*\) $n sig.out$/\1/p" "$TEST_DIR/rec") &&
            if test "$id" = -; then
                test_grep -x "incomplete hash-[a-z]* sig.out" "$TEST_DIR/rec"
            else
                test "$id" = "$old"
            fi || { echo "run $i of $REPEAT"; cat "$TEST_DIR/rec"; return 1; }
        done
    '
done

test_done
