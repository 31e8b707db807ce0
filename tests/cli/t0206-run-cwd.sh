#!/bin/bash
# The shim caches the cwd (docs/preload.md): relative opens must still name the right
# files after every way the cwd changes, and threads share one fd table (issue 3 #21).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-run.sh"

if ! test -f "$PRELOAD_LIB"; then
    test_skip 'git roar run' "libroar-preload.so not built"
    test_done
fi

# Both tracers must give this job: eBPF keeps each cwd as a path, so a rename of the
# directory a process is in must move it (docs/ebpf.md), and an input read just before
# its directory was renamed is hashed at its new name.
tracers=preload
if ebpf_usable; then
    tracers="preload ebpf"
else
    test_skip '18. under -t ebpf' "the eBPF tracer cannot run here: $ebpf_why"
fi

for tracer in $tracers; do
test_expect_success "18. relative opens after chdir, fchdir, a rename of the cwd, nftw, fts, a thread (-t $tracer)" '
    roar_setup &&
    mkdir d w v f t &&
    echo a >a && echo b >d/b && echo c >d/c && echo w1 >w/x && echo w2 >w/y &&
    echo v1 >v/z && echo g >f/g && echo u >t/u &&
    git add . && git commit -qm files &&
    oid_b=$(oid d/b) oid_c=$(oid d/c) &&
    roar_run -t $tracer "$(fx cwd_cache)" &&
    expect_edges <<-EOF &&
	in $(oid a) 2 a
	in $oid_b 2 d/b
	in $oid_c 2 d/c
	in $(oid f/g) 2 f/g
	in $(oid t/u) 2 t/u
	in $(oid v/z) 3 v/z
	in $(oid w/x) 3 w/x
	in $(oid w/y) 3 w/y
	out $oid_b 2 e/b
	out $oid_c 2 e/c
	del d/b
	del d/c
	EOF
    expect_no_incomplete
'
done

test_expect_success '21. threads (C): open in one thread, read in a second, write in a third' '
    roar_setup &&
    echo "threaded" >in &&
    roar_run "$(fx threads)" &&
    expect_edges <<-EOF &&
	$(edge in in)
	$(edge out out)
	EOF
    expect_no_incomplete
'

test_done
