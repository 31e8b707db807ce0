#!/bin/bash
# `git roar run` never loses a job whose command ran, and cleans up after killed runs
# (issue 16 items 5 and 10): an over-long command line is recorded cut with `incomplete
# command-truncated N` and the command's exit status; a broken HEAD stops `run` before
# the command; a run killed with -9 leaves no ring in /dev/shm (a memfd, freed by the
# kernel), and the small directory it leaves (socket, pid file) goes with the next run.
. "$(dirname "$0")/lib.sh"

test_expect_success 'a command line over 64 KiB is recorded cut; the exit status is the command'"'"'s' '
    git commit -q --allow-empty -m base &&
    test_expect_code 3 git roar run -t preload sh -c "echo ran >out.txt; exit 3" $(seq 1 20000) 2>err &&
    test_grep "ran" out.txt &&
    test_grep "warning: the command line is over the 65536-byte line limit" err &&
    rec=$(ls .git/roar/pending/*@main) &&
    test $(wc -l <"$rec") -gt 5 &&
    test_grep "^incomplete command-truncated [0-9][0-9]*\$" "$rec" &&
    test_grep "^command sh -c .echo ran >out.txt; exit 3. 1 2 3 " "$rec" &&
    test_grep "git-roar: command line cut here, [0-9]* of 20003 arguments left out" "$rec" &&
    test $(awk "{ if (length(\$0) > m) m = length(\$0) } END { print m }" "$rec") -le 65536 &&
    test_grep "^out .* out.txt\$" "$rec" &&
    git roar fsck &&
    git roar log >log &&
    test_grep "exit 3" log
'

test_expect_success 'reproduce refuses to rerun a command recorded cut' '
    git commit -q --allow-empty -m base &&
    git roar run -q -t preload sh -c "echo x >f" $(seq 1 20000) 2>/dev/null &&
    git add f && git commit -q -m f &&
    echo changed >f &&
    test_expect_code 128 git roar reproduce --yes f >out 2>err &&
    test_grep "command line was too long to record whole" err &&
    test_grep "^changed\$" f
'

test_expect_success 'sh -c true with 20000 arguments: recorded, exit 0' '
    git commit -q --allow-empty -m base &&
    git roar run -t preload sh -c "true" $(seq 1 20000) 2>err &&
    test $(ls .git/roar/pending | wc -l) = 1 &&
    git roar fsck
'

test_expect_success 'a HEAD naming a missing commit is an error at run, before the command runs' '
    git commit -q --allow-empty -m base &&
    echo 1234567890123456789012345678901234567890 >.git/refs/heads/main &&
    test_expect_code 128 git roar run -t preload sh -c "echo ran >ran.txt" 2>err &&
    test_grep "fatal: HEAD is broken: 1234567890123456789012345678901234567890 is not a commit" err &&
    test ! -e ran.txt &&
    test_must_fail ls .git/roar/pending/*@main
'

test_expect_success 'an unreadable HEAD is an error at run; an unborn branch is not' '
    git roar run -t preload sh -c "echo ran >unborn.txt" 2>err &&
    test -e unborn.txt &&
    test_must_fail grep base .git/roar/pending/*@main &&
    git commit -q --allow-empty -m base &&
    echo garbage >.git/refs/heads/main &&
    test_expect_code 128 git roar run -t preload sh -c "echo ran >ran.txt" 2>err &&
    test_grep "fatal: cannot resolve HEAD" err &&
    test ! -e ran.txt
'

# mapped INO: whether a process still maps the memfd ring of inode INO.
mapped() {
    grep -qs " $1 */memfd:roar-ring" /proc/[0-9]*/maps
}

test_expect_success 'a run killed with -9 leaves no ring in /dev/shm; its memory is freed' '
    git commit -q --allow-empty -m base &&
    # The command notes the ring and what the run'"'"'s directory holds (while the
    # collector lives: any run reaps it once it is dead, those of other tests too),
    # kills the collector, and goes on for a moment with the ring mapped.
    test_expect_code 137 git roar run -t preload sh -c "
        stat -L -c %i \"\$ROAR_RING\" >ino && d=\$(dirname \"\$ROAR_SOCK\") &&
        echo \"\$d\" >dir && ls -A \"\$d\" >left &&
        du -sb --apparent-size \"\$d\" | cut -f1 >bytes &&
        kill -9 \$PPID; sleep 0.3" &&
    d=$(cat dir) &&
    case "$d" in /dev/shm/roar-??????|/tmp/roar-??????) ;; *) false ;; esac &&
    # What it leaves: a socket and a few bytes of pid (it was 16 MiB of ring).
    printf "ctl\npid\n" >expect &&
    test_cmp expect left &&
    test "$(cat bytes)" -lt 4200 &&
    test ! -e "$d/ring" &&
    # Once the command is gone, nothing holds the ring: the kernel has freed it.
    i=0 &&
    while mapped "$(cat ino)" && test $i -lt 100; do sleep 0.1; i=$((i + 1)); done &&
    ! mapped "$(cat ino)" &&
    git roar run -t preload true 2>err &&
    test ! -e "$d"
'

test_expect_success 'a normal run: the ring is a memfd named through /proc; the directory goes' '
    git roar run -t preload sh -c "echo \"\$ROAR_RING\" >ring; echo \$PPID >collector" &&
    test_grep -x "/proc/$(cat collector)/fd/[0-9]*" ring &&
    ! grep -lsx "$(cat collector)" /dev/shm/roar-??????/pid /tmp/roar-??????/pid
'

# le64 N: N as 8 little-endian bytes.
le64() {
    local i
    for i in 0 1 2 3 4 5 6 7; do
        printf "\\$(printf %03o $((($1 >> (8 * i)) & 255)))"
    done
}

test_expect_success 'directories of killed runs are reaped: named rings (older runs, sudo), pid files' '
    dead=$(sh -c "echo \$\$") &&
    old=$(mktemp -d /dev/shm/roar-XXXXXX) &&
    { printf RORRING1 && head -c 16 /dev/zero && le64 "$dead" && head -c 4064 /dev/zero; } \
        >"$old/ring" &&
    : >"$old/ctl" &&
    new=$(mktemp -d /dev/shm/roar-XXXXXX) && echo "$dead" >"$new/pid" &&
    bare=$(mktemp -d /dev/shm/roar-XXXXXX) && touch -d "-2 minutes" "$bare" &&
    live=$(mktemp -d /dev/shm/roar-XXXXXX) && echo $$ >"$live/pid" &&
    young=$(mktemp -d /dev/shm/roar-XXXXXX) &&
    git roar run -t preload true &&
    test ! -e "$old" && test ! -e "$new" && test ! -e "$bare" &&
    test -e "$live/pid" && test -d "$young" &&
    rm -r "$live" "$young"
'

test_done
