#!/bin/bash
# `git roar run` never loses a job whose command ran, and cleans up after killed runs
# (issue 16 items 5 and 10): an over-long command line is recorded cut with `incomplete
# command-truncated N` and the command's exit status; a broken HEAD stops `run` before
# the command; a ring left in /dev/shm by a killed run is removed by the next one.
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

test_expect_success 'the ring of a run killed with -9 is removed by the next run' '
    git commit -q --allow-empty -m base &&
    ls -d /dev/shm/roar-* /tmp/roar-??????  2>/dev/null | sort >before;
    test_expect_code 137 git roar run -t preload sh -c "kill -9 \$PPID; sleep 0.3" &&
    ls -d /dev/shm/roar-* /tmp/roar-?????? 2>/dev/null | sort >after;
    # ctest -j runs other tests at once: their live rings are new too, but mapped by a
    # running process; the killed run'"'"'s ring is mapped by none once its command
    # (which sleeps 0.3 s after the kill) is gone.
    sleep 1 &&
    for d in $(comm -13 before after); do
        test -e "$d/ring" || continue
        grep -qsF "$d/ring" /proc/[0-9]*/maps || echo "$d"
    done >leaked &&
    test $(wc -l <leaked) = 1 &&
    test -e "$(cat leaked)/ring" &&
    git roar run -t preload true 2>err &&
    test ! -e "$(cat leaked)"
'

test_done
