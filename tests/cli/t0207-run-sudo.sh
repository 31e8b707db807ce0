#!/bin/bash
# git roar as root under sudo (SPEC §8): the command runs as the user who ran sudo, and
# everything git roar creates in the repository is theirs; SUDO_UID=0 changes nothing;
# a SUDO_UID that is not a number is fatal. sudo is simulated by its variables, for
# the unprivileged account `nobody`, in a repository owned by it.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-run.sh"

if test "$(id -u)" != 0; then
    test_skip 'git roar under sudo' "not running as root"
    test_done
fi
if ! U=$(getent passwd nobody) || ! test -f "$PRELOAD_LIB"; then
    test_skip 'git roar under sudo' "no user nobody, or libroar-preload.so not built"
    test_done
fi
USER_UID=$(echo "$U" | cut -d: -f3)
USER_GID=$(echo "$U" | cut -d: -f4)
USER_HOME=$(echo "$U" | cut -d: -f6)
USER_GROUPS=$(id -G nobody)
export USER_UID USER_GID USER_HOME USER_GROUPS
ROAR="$ROAR_BUILD_DIR/git-roar"
# The test's own git (root) reads repositories the user owns.
git config --global safe.directory '*'
# nobody must reach the repositories: mktemp made the scratch root 0700.
chmod 755 "$TEST_ROOT"

# as_sudo CMD...: CMD with the variables sudo sets for nobody (HOME etc. are root's).
# Under ASan, no leak check: once git roar has switched its effective uid the kernel makes
# it non-dumpable, and LeakSanitizer cannot stop its threads (it would need ptrace). It is
# left non-dumpable on purpose: it keeps root as its saved uid for the eBPF loader.
as_sudo() {
    env SUDO_UID=$USER_UID SUDO_GID=$USER_GID SUDO_USER=nobody \
        HOME=/root USER=root LOGNAME=root \
        ${ASAN_OPTIONS+ASAN_OPTIONS="$ASAN_OPTIONS:detect_leaks=0"} "$@"
}

# as_user CMD...: CMD as the user, for what they do themselves (commit).
as_user() {
    setpriv --reuid="$USER_UID" --regid="$USER_GID" --init-groups env HOME="$TEST_ROOT/home" "$@"
}

# give_away: this repository (and its test dir) to the user, as sudo's user would have it.
give_away() {
    git config user.name "A U Thor" && git config user.email author@example.com &&
    echo a >a && git add a && git commit -q -m base &&
    chown -R "$USER_UID:$USER_GID" "$TEST_DIR" && chmod 755 "$TEST_DIR"
}

# The command reports who it runs as, then copies a to b.
WHOAMI='id -u >uid; id -g >gid; id -G >groups; echo "$HOME $USER $LOGNAME" >env; cat a >b'

# expect_user_run TRACER: the job's command ran as the user, with their HOME, and was
# recorded with its inputs and outputs; nothing in .git is root's.
expect_user_run() {
    give_away &&
    as_sudo "$ROAR" run -t "$1" sh -c "$WHOAMI" 2>"$TEST_DIR/err" &&
    test "$(cat uid)" = "$USER_UID" &&
    test "$(cat gid)" = "$USER_GID" &&
    test "$(cat groups)" = "$USER_GROUPS" &&
    test "$(cat env)" = "$USER_HOME nobody nobody" &&
    cp .git/roar/pending/*@* "$TEST_DIR/rec" &&
    test "$(record_field tracer)" = "$1" &&
    test "$(record_field user)" = "A U Thor <author@example.com>" &&
    expect_edges <<-EOF &&
	$(edge in a)
	$(edge out b)
	$(edge out env)
	$(edge out gid)
	$(edge out groups)
	$(edge out uid)
	EOF
    test -f .git/roar/cache.db &&
    find . ! -user nobody >"$TEST_DIR/root-owned" &&
    test_must_be_empty "$TEST_DIR/root-owned"
}

test_expect_success 'preload: the command runs as the user; the repository stays theirs' '
    expect_user_run preload
'

if ebpf_usable; then
    test_expect_success 'ebpf: the command runs as the user; the repository stays theirs' '
        expect_user_run ebpf
    '
    test_expect_success 'ebpf: run --commit: the commit, objects, refs and note are the user'"'"'s' '
        give_away &&
        as_sudo "$ROAR" run -t ebpf --commit -m out sh -c "cat a >c" 2>"$TEST_DIR/err" &&
        test "$(git log -1 --format=%s)" = out &&
        test -n "$(git notes --ref=roar list HEAD)" &&
        test "$(git log -1 --format=%an)" = "A U Thor" &&
        find . ! -user nobody >"$TEST_DIR/root-owned" &&
        test_must_be_empty "$TEST_DIR/root-owned"
    '
else
    test_skip 'ebpf under sudo' "the eBPF tracer cannot run here: $ebpf_why"
fi

# Under sudo git roar keeps root as its real and saved uid: the command, the user's, may
# not open /proc/<git roar>/fd/N, so the ring is a file in the private directory (owned
# by the user); a run killed with -9 leaves it, and the next run removes it.
test_expect_success 'preload under sudo: a named ring; a killed run'"'"'s is reaped by the next' '
    give_away &&
    # The command cannot kill git roar (its real uid is root): the test does.
    { as_sudo "$ROAR" run -t preload sh -c \
        "echo \"\$ROAR_RING\" >ring; echo \$PPID >collector.tmp; mv collector.tmp collector; sleep 1" & } &&
    i=0 &&
    while ! test -s collector && test $i -lt 100; do sleep 0.1; i=$((i + 1)); done &&
    kill -9 "$(cat collector)" && { wait $! || :; } &&
    d=$(dirname "$(cat ring)") &&
    case "$d" in /dev/shm/roar-*|/tmp/roar-*) ;; *) false ;; esac &&
    test "$(stat -c %U "$d/ring")" = nobody &&
    sleep 0.5 &&
    as_sudo "$ROAR" run -q -t preload true &&
    test ! -e "$d"
'

test_expect_success 'attach and log under sudo: the note objects are the user'"'"'s' '
    give_away &&
    as_sudo "$ROAR" run -q -t preload cp a d &&
    git add d && as_user git commit -q -m d &&
    as_sudo "$ROAR" attach -q &&
    test -n "$(git notes --ref=roar list HEAD)" &&
    as_sudo "$ROAR" log >"$TEST_DIR/log" &&
    test_grep "cp a d" "$TEST_DIR/log" &&
    find . ! -user nobody >"$TEST_DIR/root-owned" &&
    test_must_be_empty "$TEST_DIR/root-owned"
'

test_expect_success 'SUDO_UID=0: nothing changes, the command runs as root' '
    echo a >a &&
    env SUDO_UID=0 SUDO_GID=0 "$ROAR" run -q -t preload sh -c "id -u >uid; cat a >b" &&
    test "$(cat uid)" = 0 &&
    test "$(stat -c %u .git/roar/cache.db)" = 0
'

test_expect_success 'a SUDO_UID/SUDO_GID that is not a number or not a user is fatal; nothing runs' '
    give_away &&
    test_expect_code 128 env SUDO_UID=nobody SUDO_GID=$USER_GID "$ROAR" run -t preload touch ran 2>err &&
    test_grep "SUDO_UID is not a number" err &&
    test_expect_code 128 env SUDO_UID=$USER_UID SUDO_GID=-1 "$ROAR" run -t preload touch ran 2>err &&
    test_grep "SUDO_GID is not a number" err &&
    test_expect_code 128 env SUDO_UID=99999999999 SUDO_GID=0 "$ROAR" run -t preload touch ran 2>err &&
    test_grep "SUDO_UID is not a valid id" err &&
    test_expect_code 128 env SUDO_UID=4000000000 SUDO_GID=0 "$ROAR" run -t preload touch ran 2>err &&
    test_grep "no user has SUDO_UID 4000000000" err &&
    ! test -e ran && ! test -e .git/roar
'

test_done
