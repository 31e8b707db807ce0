#!/bin/bash
# Killed at any point, attach loses no job and the next one recovers (SPEC §5.3, issue
# 16): each run is killed with SIGKILL at the Nth call of one system call (strace -e
# inject=SYSCALL:signal=KILL:when=N), for the calls that change files or refs, then the
# invariants are checked and attach is run again. Bounded: at most MAX_N kill points per
# system call (ROAR_KILL_POINTS). A kill inside the notes ref update leaves a lock that
# the next attach removes once it is old enough (docs/notes.md), so a few points cost
# that wait. Push, fetch and sync: t0410, which traces git-roar alone (killing the git
# they run would kill, on a local remote, its receive-pack, whose lock is the remote's).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-notes.sh"

if ! command -v strace >/dev/null; then
    test_skip 'kill points' "strace is not installed (scripts/install-deps installs it)"
    test_done
fi

MAX_N=${ROAR_KILL_POINTS:-20}
SYSCALLS="rename link unlink write mkdir rmdir openat"

# killed_at SYSCALL N CMD...: CMD under strace, killed at the Nth SYSCALL. True when the
# kill happened (the command did not get that far otherwise).
killed_at() {
    local sc=$1 n=$2
    shift 2
    strace -qq -o /dev/null -e trace="$sc" -e inject="$sc":signal=KILL:when="$n" "$@" \
        >/dev/null 2>&1
    test $? -ne 0
}

# all_jobs: every job id this clone holds, pending (claimed by an attach included: the
# next one recovers it) or in the local notes, sorted, once.
all_jobs() {
    {
        find "$(git rev-parse --git-common-dir)/roar/pending" -name "*@*" 2>/dev/null |
            sed -n "s|.*/\([0-9a-f]\{40\}\)@.*|\1|p"
        git notes --ref=roar list 2>/dev/null | while read -r _ obj; do note_jobs "$obj"; done
    } | sort -u
}

test_expect_success 'attach killed at every kill point: no job lost, none attached twice' '
    git commit -q --allow-empty -m base &&
    for i in 1 2 3; do pending_job "job-$i" >>expect || return 1; done &&
    git commit -q --allow-empty -m work &&
    sort -o expect expect && kills=0 &&
    for sc in $SYSCALLS; do
        for n in $(seq $MAX_N); do
            killed_at "$sc" "$n" git-roar attach -q || break
            kills=$((kills + 1)) &&
            all_jobs >have && test_cmp expect have || return 1
        done || return 1
    done &&
    echo "# $kills kill points" >&2 && test $kills -gt 10 &&
    git roar attach -q && git roar fsck &&
    note_jobs HEAD | sort >attached && test_cmp expect attached &&
    test "$(note_jobs HEAD | wc -l)" = 3 && test $(pending_count) -eq 0 && test -z "$(claim_dirs)"
'

test_done
