#!/bin/bash
# A job started as root whose processes switch to another user (runuser, su, setpriv):
# under preload the shim in those processes cannot open root's ring by its path (issue
# 17, item 3: `0 in · 0 out`, silently). They map the ring through the fd the job
# inherits (ROAR_RING_FD, dev/ino checked); where that fd is gone too, the job says
# `incomplete setuid <program>`: never a silent gap. eBPF traces them like any process.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-run.sh"

if test "$(id -u)" != 0; then
    test_skip 'a user switch inside the job' "not running as root"
    test_done
fi
require_preload 'a user switch inside the job'
if ! getent passwd nobody >/dev/null || ! command -v runuser >/dev/null ||
    ! command -v setpriv >/dev/null; then
    test_skip 'a user switch inside the job' "no user nobody, runuser or setpriv"
    test_done
fi
tracers=preload
if ebpf_usable; then
    tracers="preload ebpf"
else
    test_skip 'a user switch under -t ebpf' "the eBPF tracer cannot run here: $ebpf_why"
fi
# nobody must reach the repositories: mktemp made the scratch root 0700.
chmod 755 "$TEST_ROOT"

# setup_shared: a.txt readable by nobody, and w/ writable by it.
setup_shared() {
    roar_setup && chmod 755 "$TEST_DIR" . &&
    echo "some input" >a.txt && git add a.txt && git commit -qm a &&
    mkdir -m 777 w
}

for t in $tracers; do
    for how in "runuser -u nobody -- sh" "setpriv --reuid=nobody --regid=nogroup --clear-groups sh" \
        "su nobody -s /bin/sh"; do
        test_expect_success "$how -c 'cat a.txt > w/x.txt': in and out (-t $t)" '
            if test "$how" = "su nobody -s /bin/sh" && ! command -v su >/dev/null; then
                exit 0
            fi &&
            setup_shared &&
            roar_run -t '$t' $how -c "cat a.txt > w/x.txt" &&
            test "$(stat -c %U w/x.txt)" = nobody &&
            expect_edges <<-EOF &&
	$(edge in a.txt)
	$(edge out w/x.txt)
	EOF
            expect_no_incomplete &&
            test_grep "· 1 in · 1 out ·" "$TEST_DIR/err"
        '
    done

    # The program closes the inherited ring fd before switching (bash can name it):
    # preload then cannot follow, and says so for the program it exec'd; eBPF can.
    test_expect_success "the ring fd closed before the switch: announced, never silent (-t $t)" '
        setup_shared &&
        fd=$(git roar run -q -t preload printenv ROAR_RING_FD | cut -d: -f1) &&
        test -n "$fd" &&
        roar_run -t '$t' bash -c "exec $fd>&-; runuser -u nobody -- sh -c \"cat a.txt > w/y.txt\"" &&
        if test '$t' = preload; then
            test_grep -x "incomplete setuid /usr/bin/sh" "$TEST_DIR/rec" &&
            test_grep "warning: incomplete setuid /usr/bin/sh" "$TEST_DIR/err"
        else
            expect_edges <<-EOF
	$(edge in a.txt)
	$(edge out w/y.txt)
	EOF
        fi
    '

    # python closes every fd but the standard three in its children (close_fds=True).
    test_expect_success "python subprocess (fds closed) then runuser: announced (-t $t)" '
        setup_shared &&
        roar_run -t '$t' /usr/bin/python3 -c "
import subprocess
subprocess.run([\"runuser\", \"-u\", \"nobody\", \"--\", \"sh\", \"-c\", \"cat a.txt > w/z.txt\"], check=True)
" &&
        if test '$t' = preload; then
            test_grep -x "incomplete setuid /usr/bin/sh" "$TEST_DIR/rec"
        else
            test_grep -x "$(edge out w/z.txt)" "$TEST_DIR/rec"
        fi
    '

    # After the switch the shim has no round trip (the control socket is in root's
    # directory): an input rewritten in place is its old id or `-`, announced.
    test_expect_success "sed -i by nobody: in the old content or -, never the new (-t $t)" '
        setup_shared &&
        echo "aaaa" >w/own.txt && chown nobody w/own.txt &&
        old=$(oid w/own.txt) &&
        roar_run -t '$t' runuser -u nobody -- sed -i s/a/b/ w/own.txt &&
        test_grep -x "$(edge out w/own.txt)" "$TEST_DIR/rec" &&
        id=$(sed -n "s/^in \([^ ]*\) 5 w\/own.txt$/\1/p" "$TEST_DIR/rec") &&
        if test "$id" = -; then
            test_grep -x "incomplete hash-[a-z]* w/own.txt" "$TEST_DIR/rec"
        else
            test "$id" = "$old"
        fi
    '
done

# The ring's path is /proc/<collector>/fd/<n> (docs/preload.md): a pid namespace with
# its own /proc, or a chroot, puts it out of reach. A root job still has the inherited
# fd; where that is gone too, or the library itself is out of reach, the exec is
# announced as `incomplete untraced`, never a silent gap.
if command -v unshare >/dev/null && unshare -p -f --mount-proc true 2>/dev/null; then
    test_expect_success 'a pid namespace with its own /proc: traced through the fd (-t preload)' '
        setup_shared &&
        roar_run -t preload unshare -p -f --mount-proc sh -c "cat a.txt > w/p.txt" &&
        expect_edges <<-EOF &&
	$(edge in a.txt)
	$(edge out w/p.txt)
	EOF
        expect_no_incomplete
    '
    test_expect_success 'a pid namespace with its own /proc and no fd: announced (-t preload)' '
        setup_shared &&
        roar_run -t preload bash -c "exec 800>&-; unshare -p -f --mount-proc cat a.txt > w/q.txt" &&
        test_grep -x "incomplete untraced /usr/bin/cat" "$TEST_DIR/rec" &&
        test_grep "warning: incomplete untraced /usr/bin/cat" "$TEST_DIR/err"
    '
else
    test_skip 'a pid namespace with its own /proc' "unshare -p -f --mount-proc does not work here"
fi

test_expect_success 'a chroot without the ring or the library: announced (-t preload)' '
    setup_shared &&
    root="$TEST_DIR/root" && mkdir -p "$root/bin" &&
    cp /bin/cat "$root/bin/" &&
    for l in $(ldd /bin/cat | grep -o "/[^ ]*"); do
        mkdir -p "$root$(dirname "$l")" && cp "$l" "$root$l" || return 1
    done &&
    echo inside >"$root/in.txt" &&
    roar_run -t preload chroot "$root" /bin/cat /in.txt >out 2>&1 &&
    test_grep -x inside out &&
    test_grep -x "incomplete untraced \(/usr\)\{0,1\}/bin/cat" "$TEST_DIR/rec"
'

# The fd is the job's only where it can be used: a job that does not start as root
# cannot switch users (a setuid program is incomplete anyway), and gets none.
test_expect_success 'a job not started as root inherits no ring fd' '
    setup_shared &&
    git roar run -q -t preload sh -c "ls /proc/self/fd >w/root-fds" &&
    grep -qx 800 w/root-fds &&
    chown -R nobody . &&
    runuser -u nobody -- env HOME="$TEST_DIR" GIT_CONFIG_GLOBAL=/dev/null \
        "$ROAR_BUILD_DIR/git-roar" run -q -t preload \
        sh -c "printenv ROAR_RING_FD >w/env; ls /proc/self/fd >w/fds" &&
    ! grep -q . w/env &&
    ! grep -qx 800 w/fds
'

test_done
