#!/bin/bash
# Killed at any point, `git roar push`, `fetch` and `sync` lose no job on either side,
# duplicate none, and the next command recovers (issue 16; t0409 does the same for
# attach). Bob's clone and Alice's share a bare remote given by its path. Each round,
# Alice syncs a new job to the remote and Bob attaches one of his own, then Bob's command
# is killed with SIGKILL at the Kth call of one system call on one file (strace -P FILE
# -e inject=SC:signal=KILL:when=K), or at its Nth call where the file's name changes
# from run to run (objects) or there is none (each fork of git, each wait for it). The
# points come from a profile of an unkilled run: the first call of each kind (each file
# a call writes, creates, renames, links, locks or syncs, object names folded together),
# and every fork and wait; code two commands share is killed in one of them (profile).
# Bounded: at most ROAR_KILL_POINTS points per command (spread over the profile when
# there are more); 46 in all.
#
# Only git-roar itself is traced (no strace -f): killing the git it runs would also kill,
# on a local remote, the receive-pack that holds the REMOTE's ref lock, which no command
# of Bob's can or should recover. A killed git-roar's git goes on, orphaned; each round
# waits for it (it carries the round's marker in its environment) before looking.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-notes.sh"

if ! command -v strace >/dev/null; then
    test_skip 'kill points for push, fetch and sync' \
        "strace is not installed (scripts/install-deps installs it)"
    test_done
fi

MAX_POINTS=${ROAR_KILL_POINTS:-40}
# LeakSanitizer cannot run under ptrace (ASan build): no leak check for the traced runs;
# every other command still has it.
NO_LSAN="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"
SYSCALLS="openat write pwrite64 rename link unlink mkdir rmdir ftruncate fsync fdatasync fcntl
          clone vfork wait4"

# profile CMD: the kill points of `git-roar CMD` in Bob's clone, from an unkilled run
# (which does the round's work), one "SYSCALL N K FILE" per line: the Nth call of
# SYSCALL, which is its Kth on FILE; K and FILE are "-" when the file's name is not the
# same in the next run (objects) or there is none. Code that two commands share
# is killed in one of them only: the cache refresh at the end (.git/roar/: cache.db, its
# WAL and locks) with push, and sync's first half, which is fetch's very code
# (roar_cli_fetch_notes), with fetch: sync's points start at the fork of its git push.
profile() {
    ASAN_OPTIONS=$NO_LSAN strace -qq -o ../profile -e trace="$(echo $SYSCALLS | tr ' ' ,)" \
        git-roar "$1" -q &&
    awk '
        # The kind of a call: its file, with object and temporary names folded.
        function norm(s) {
            gsub(/objects\/[0-9a-f][0-9a-f]\/[0-9a-f]+/, "objects/XX/OBJ", s)
            gsub(/objects\/[0-9a-f][0-9a-f]"/, "objects/XX\"", s)
            gsub(/tmp_object_git2_[0-9a-zA-Z]+/, "tmp_object", s)
            gsub(/pack-[0-9a-f]+/, "pack-X", s)
            return s
        }
        {
            sc = $0
            if (!sub(/\(.*/, "", sc) || sc !~ /^[a-z0-9_]+$/) next
            n = ++count[sc]
            args = $0; sub(/^[^(]*\(/, "", args)
            fd = args; sub(/[,)].*/, "", fd)
            ret = $0; sub(/.*= /, "", ret); sub(/ .*/, "", ret)
            # file: the (first) file the call names, or its descriptor is open on.
            file = ""
            if (sc == "openat" || sc ~ /^(link|unlink|rename|mkdir|rmdir)$/) {
                file = args; sub(/^[^"]*"/, "", file); sub(/".*/, "", file)
            }
            if (sc == "openat")
                fdfile[ret] = file
            else if (sc ~ /^(write|pwrite64|fdatasync|fsync|ftruncate|fcntl)$/)
                file = fdfile[fd]
            k = ++on_file[sc, file]
            if (sc == "openat") {
                kind = norm(file)
                if ($0 !~ /O_CREAT|O_WRONLY|O_RDWR|O_TRUNC/) next
            } else if (sc ~ /^(write|pwrite64|fdatasync|fsync|ftruncate)$/) {
                kind = norm(file)
            } else if (sc == "fcntl") {
                op = args; sub(/^[^,]*, /, "", op); sub(/[,)].*/, "", op)
                if (op !~ /SETLK/) next
                kind = norm(file) " " op
            } else if (sc ~ /^(link|unlink|rename|mkdir|rmdir)$/) {
                kind = norm(args); sub(/\) *=.*/, "", kind)
            } else {
                kind = n # clone, wait4: each run of git is a point of its own
            }
            if (cmd == "sync" && !pushing && !(sc == "clone" && n == 2))
                next
            pushing = 1
            if (cmd != "push" && file ~ /\/\.git\/roar(\/|$)/)
                next
            if (!((sc, kind) in seen)) {
                seen[sc, kind]
                if (file == "" || file ~ /\/objects\//)
                    print sc, n, "-", "-"
                else
                    print sc, n, k, file
            }
        }' cmd="$1" ../profile >../points.all &&
    awk -v max="$MAX_POINTS" -v total="$(wc -l <../points.all)" '
        total <= max || int(NR * max / total) != int((NR - 1) * max / total)
    ' ../points.all
}

# wait_orphans MARK: waits (at most 60 s) until no process carries ROAR_KILL_MARK=MARK:
# the git a killed git-roar ran, and on this local remote its receive-pack or
# upload-pack, finish on their own.
wait_orphans() {
    local i
    for i in $(seq 600); do
        grep -qsxzF "ROAR_KILL_MARK=$1" /proc/[0-9]*/environ || return 0
        sleep 0.1
    done
    echo "processes of the killed command still running after 60 s" >&2
    return 1
}

# killed_at SYSCALL N K FILE CMD: Bob's `git-roar CMD` under strace, killed at the Kth
# SYSCALL on FILE, or the Nth when FILE is "-"; returns once its orphans are done. 0 when
# it was killed (128 + SIGKILL), 1 when it finished first (the point lies past this run's
# calls), 2 when its orphans hang.
killed_at() {
    local mark="$$-$1-$2" rc
    if test "$4" = -; then
        set -- "$1" "$2" "$5"
    else
        set -- "$1" "$3" "$5" -P "$4"
    fi
    ROAR_KILL_MARK=$mark ASAN_OPTIONS=$NO_LSAN strace -qq -o /dev/null "${@:4}" -e trace="$1" \
        -e inject="$1":signal=KILL:when="$2" git-roar "$3" -q >/dev/null 2>&1
    rc=$?
    wait_orphans "$mark" || return 2
    test $rc -eq 137
}

# jobs_of GITDIR: the job ids in GITDIR's note on WORK (every job of this test is attached
# there), once per record: a job twice in the note shows twice.
jobs_of() {
    git --git-dir="$1" notes --ref=roar show $WORK 2>/dev/null | sed -n 's/^job //p'
}

# has_all EXPECTED GITDIR: GITDIR's notes hold every job in EXPECTED, none twice.
has_all() {
    jobs_of "$2" | sort >../have &&
    if test -n "$(uniq -d ../have)"; then
        echo "jobs twice in $2: $(uniq -d ../have)" >&2
        return 1
    fi &&
    comm -23 "$1" ../have >../lost &&
    if test -s ../lost; then
        echo "jobs lost from $2: $(cat ../lost)" >&2
        return 1
    fi
}

# new_round: Alice syncs a new job to the remote, Bob attaches a new one; ../all lists
# every job made so far, ../remote-before and ../bob-before what each side holds now.
ROUND=0
new_round() {
    ROUND=$((ROUND + 1))
    (cd ../alice && pending_job "alice-$ROUND" HEAD~1 >>../all &&
        git roar attach -q && git roar sync -q) &&
    pending_job "bob-$ROUND" HEAD~1 >>../all && git roar attach -q &&
    sort -u ../all -o ../all &&
    jobs_of ../remote.git | sort -u >../remote-before &&
    jobs_of .git | sort -u >../bob-before
}

# locks_in GITDIR: its lock files (objects/ holds none, and grows every round).
locks_in() {
    find "$1" -path "$1/objects" -prune -o -name '*.lock' -print | sort
}

# stale_locks: lock files a kill left in Bob's clone (the remote must have none: none of
# its processes was killed).
stale_locks() {
    if test -n "$(locks_in ../remote.git)"; then
        echo "a lock was left in the remote: $(locks_in ../remote.git)" >&2
        return 1
    fi
    locks_in "$PWD/.git"
}

# recover CMD LOCKS: the next `git roar CMD` must succeed, and name as removed each lock
# in LOCKS (left by the kill).
recover() {
    local lock
    git roar "$1" -q 2>../err || {
        echo "the next git roar $1 failed:" >&2
        cat ../err >&2
        return 1
    }
    for lock in $2; do
        grep -F "removed the stale lock '$lock'" ../err >/dev/null || {
            echo "the next git roar $1 did not name the lock $lock:" >&2
            cat ../err >&2
            return 1
        }
    done
}

# converged: after one more sync, Bob's notes, the remote's and Bob's cache hold every job
# made so far, once each, and fsck finds nothing on either side.
converged() {
    git roar sync -q &&
    has_all ../all .git && has_all ../all ../remote.git &&
    test "$(jobs_of .git | wc -l)" = "$(wc -l <../all)" &&
    git roar log --json | grep -o '"id":"[0-9a-f]*"' | sort >../logged &&
    test -z "$(uniq -d ../logged)" && test "$(wc -l <../logged)" = "$(wc -l <../all)" &&
    git roar fsck -q && git -C ../remote.git roar fsck -q
}

# The first lock of each name a kill leaves in this script takes the real wait (10 s
# until stale: docs/notes.md), which is how the tracking ref's lock was found to make the
# next push and fetch fail at once; later ones are made old at once, so that the loop
# stays short (t0406 covers the wait itself).
WAITED="$TEST_ROOT/locks-waited-for"

# kill_points CMD: each kill point of CMD, in a round of its own.
kill_points() {
    local cmd=$1 sc n k file at locks lock kills=0 points=0 start=$(date +%s)
    new_round && profile "$cmd" >../points && converged || return 1
    while read -r sc n k file; do
        at="$sc #$n" && test "$file" = - || at="$sc #$k on ${file#$TEST_DIR/}"
        new_round || return 1
        points=$((points + 1))
        killed_at "$sc" "$n" "$k" "$file" "$cmd"
        case $? in
        0) kills=$((kills + 1)) ;;
        1) echo "# $cmd finished before $at (checked all the same)" >&2 ;;
        *) return 1 ;;
        esac
        # Right after the kill: nothing either side had is gone, no lock in the remote.
        has_all ../remote-before ../remote.git && has_all ../bob-before .git &&
        locks=$(stale_locks) || { echo "after $cmd killed at $at" >&2; return 1; }
        for lock in $locks; do
            echo "# $cmd killed at $at left ${lock#$TEST_DIR/}" >&2
            if grep -qxF "${lock#$TEST_DIR/}" "$WAITED" 2>/dev/null; then
                touch -d "@$(($(date +%s) - 60))" "$lock"
            else
                echo "${lock#$TEST_DIR/}" >>"$WAITED"
            fi
        done
        # The next command succeeds and does its work, doubling nothing. (fsck runs at
        # the end: notes only grow, so whatever a kill broke would still be there.)
        recover "$cmd" "$locks" &&
        case $cmd in
        push) has_all ../bob-before ../remote.git ;;
        fetch) has_all ../remote-before .git ;;
        sync) has_all ../bob-before ../remote.git && has_all ../remote-before .git ;;
        esac || { echo "after $cmd killed at $at" >&2; return 1; }
    done <../points
    converged &&
    echo "# $cmd: killed at $kills of $points points in $(($(date +%s) - start)) s" >&2 &&
    # Every point but the odd one past a shorter run's end is reached.
    test $kills -ge 4 && test $((points - kills)) -le 2
}

setup_remote() {
    git init -q --bare ../remote.git &&
    git clone -q ../remote.git ../alice 2>/dev/null &&
    (cd ../alice && git commit -q --allow-empty -m base && git commit -q --allow-empty -m work &&
        git push -q origin HEAD:main && git roar init -q) &&
    cd .. && rm -rf repo && git clone -q remote.git repo && cd repo && git roar init -q &&
    WORK=$(git rev-parse HEAD) && : >../all
}

for cmd in push fetch sync; do
    test_expect_success "$cmd killed at every kill point: nothing lost or doubled, the next one recovers" "
        setup_remote && kill_points $cmd
    "
done

test_done
