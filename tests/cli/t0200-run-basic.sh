#!/bin/bash
# git roar run, the command itself: the record it writes, the summary line, exit codes
# and signals passed through, commands that fail or cannot run, tracer choice.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-run.sh"

if ! test -f "$PRELOAD_LIB"; then
    test_skip 'git roar run' "libroar-preload.so not built"
    test_expect_success 'user: the author identity a commit would record, else the login name' '
    GIT_AUTHOR_NAME="Other Person" GIT_AUTHOR_EMAIL=other@example.com \
        roar_run -t preload true &&
    test "$(record_field user)" = "Other Person <other@example.com>" &&
    git config --global --unset user.name &&
    git config --global --unset user.email &&
    EMAIL= roar_run -t preload true &&
    test "$(record_field user)" = "$(id -un)"
'

test_done
fi

test_expect_success 'a plain run: one pending record, every field, a valid job id' '
    roar_setup &&
    echo hello >in && git add in && git commit -qm base &&
    roar_run -t preload "$(fx read)" &&
    expect_valid_id &&
    test "$(record_field command)" = "$(fx read)" &&
    test "$(record_field cwd)" = "." &&
    test "$(record_field base)" = "$(git rev-parse HEAD)" &&
    test "$(record_field dirty)" = 0 &&
    test "$(record_field tracer)" = preload &&
    test "$(record_field host)" = "$(hostname)" &&
    test "$(record_field user)" = "A U Thor <author@example.com>" &&
    test "$(record_field exit)" = 0 &&
    record_field start | grep -E "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}\.[0-9]{3}Z$" &&
    record_field end | grep -E "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}\.[0-9]{3}Z$" &&
    expect_edges <<-EOF &&
	$(edge in in)
	EOF
    expect_no_incomplete &&
    id=$(record_field job) &&
    test -f ".git/roar/pending/$id@main" &&
    ! ls -a .git/roar/pending | grep "^\.tmp"
'

test_expect_success 'the fields in SPEC order, nothing else' '
    roar_setup &&
    echo x >in && git add in && git commit -qm base &&
    roar_run "$(fx read)" &&
    cut -d" " -f1 "$TEST_DIR/rec" >keys &&
    printf "%s\n" job command cwd base dirty tracer host user start end exit in >expect &&
    test_cmp expect keys
'

test_expect_success 'summary line: job id, counts, exit, duration' '
    roar_setup &&
    echo a >a && echo b >b &&
    roar_run sh -c "cat a b >c" &&
    id=$(record_field job) &&
    grep -x "roar: job ${id:0:7} · 2 in · 1 out · exit 0 · [0-9]*\.[0-9][0-9]s" "$TEST_DIR/err"
'

test_expect_success '-q drops the summary line' '
    roar_setup &&
    echo a >a &&
    git roar run -q cat a >out 2>err &&
    test_must_be_empty err &&
    test_cmp a out
'

test_expect_success 'stdin, stdout and stderr are the command'"'"'s own' '
    roar_setup &&
    echo "from stdin" >input &&
    git roar run -q sh -c "cat; echo to-stderr >&2" <input >out 2>err &&
    test_cmp input out &&
    echo to-stderr >expect &&
    test_cmp expect err
'

test_expect_success 'the exit status of the command is passed through, and recorded' '
    roar_setup &&
    test_expect_code 3 roar_run sh -c "echo x >made; exit 3" &&
    test "$(record_field exit)" = 3 &&
    grep "· exit 3 ·" "$TEST_DIR/err" &&
    expect_edges <<-EOF
	$(edge out made)
	EOF
'

test_expect_success 'a failing command is still recorded, with what it read' '
    roar_setup &&
    echo data >in &&
    test_expect_code 1 roar_run sh -c "cat in >/dev/null; false" &&
    test "$(record_field exit)" = 1 &&
    expect_edges <<-EOF
	$(edge in in)
	EOF
'

test_expect_success 'command not found: exit 127, message, job recorded' '
    roar_setup &&
    test_expect_code 127 roar_run no-such-command-here arg &&
    test_grep "cannot run .no-such-command-here." "$TEST_DIR/err" &&
    test "$(record_field exit)" = 127 &&
    test "$(record_field command)" = "no-such-command-here arg"
'

test_expect_success 'not executable: exit 126, job recorded' '
    roar_setup &&
    echo "echo hi" >script && chmod -x script &&
    test_expect_code 126 roar_run ./script &&
    test "$(record_field exit)" = 126
'

test_expect_success 'a script without #! runs through sh, as execvp does' '
    roar_setup &&
    printf "echo ran >ran.txt\n" >script && chmod +x script &&
    roar_run ./script &&
    echo ran >expect && test_cmp expect ran.txt &&
    expect_edges <<-EOF
	$(edge in script)
	$(edge out ran.txt)
	EOF
'

test_expect_success 'killed by SIGKILL: signal 9 recorded, git roar dies of it too' '
    roar_setup &&
    roar_run sh -c "echo partial >p; kill -9 \$\$"
    test $? = 137 &&
    test "$(record_field signal)" = 9 &&
    test_grep -v "^exit " "$TEST_DIR/rec" &&
    grep "· signal 9 ·" "$TEST_DIR/err" &&
    expect_edges <<-EOF
	$(edge out p)
	EOF
'

test_expect_success 'SIGTERM sent to git roar is forwarded to the command' '
    roar_setup &&
    # git-roar itself: `git` would be the process signalled otherwise.
    (git-roar run sh -c "trap \"echo got-term >t; exit 7\" TERM; echo ready >r; while :; do sleep 0.05; done" 2>err &
     echo $! >pid; wait $!; echo $? >rc) &
    for i in $(seq 100); do test -f r && break; sleep 0.05; done &&
    test -f r &&
    kill -TERM $(cat pid) &&
    wait &&
    test "$(cat rc)" = 7 &&
    echo got-term >expect && test_cmp expect t
'

test_expect_success 'SIGINT: git roar ignores it, the command dies of it, so does git roar' '
    roar_setup &&
    # A background job of a non-interactive shell starts with SIGINT ignored; give
    # git roar the default disposition, as a terminal would.
    /usr/bin/python3 -c "import os, signal, sys; signal.signal(signal.SIGINT, signal.SIG_DFL); os.execvp(sys.argv[1], sys.argv[1:])" \
        git roar run sh -c "echo \$\$ >cmdpid; exec sleep 5" 2>err &
    rpid=$! &&
    for i in $(seq 100); do test -s cmdpid && break; sleep 0.05; done &&
    test -s cmdpid &&
    kill -INT $rpid &&
    sleep 0.2 &&
    kill -0 $rpid &&
    kill -INT $(cat cmdpid) &&
    { wait $rpid; rc=$?; } &&
    test $rc = 130 &&
    f=$(ls .git/roar/pending/) &&
    grep -x "signal 2" ".git/roar/pending/$f" &&
    grep "· signal 2 ·" err
'

test_expect_success 'SIGCHLD ignored by the caller: the status is still seen, and the command keeps it' '
    roar_setup &&
    ign="import os, signal, sys; signal.signal(signal.SIGCHLD, signal.SIG_IGN); os.execvp(sys.argv[1], sys.argv[1:])" &&
    test_expect_code 5 /usr/bin/python3 -c "$ign" git-roar run sh -c "exit 5" 2>err &&
    f=$(ls .git/roar/pending/) &&
    grep -x "exit 5" ".git/roar/pending/$f" &&
    /usr/bin/python3 -c "$ign" git-roar run -q grep SigIgn /proc/self/status >"$TEST_DIR/ign" &&
    mask=$(sed -n "s/^SigIgn:[[:space:]]*//p" "$TEST_DIR/ign") &&
    test $(( 0x$mask & (1 << 16) )) -ne 0
'

test_expect_success '-t preload traces with preload; -t auto and -t ebpf with eBPF where it loads' '
    roar_setup &&
    echo a >a &&
    roar_run -t preload cat a &&
    test "$(record_field tracer)" = preload &&
    if "$TRACE_DIR/roar-ebpfdump" -q -- true 2>/dev/null; then
        roar_run -t auto cat a &&
        test "$(record_field tracer)" = ebpf &&
        test_grep -v "eBPF unavailable" "$TEST_DIR/err" &&
        roar_run -t ebpf cat a &&
        test "$(record_field tracer)" = ebpf
    else
        roar_run -t auto cat a &&
        test "$(record_field tracer)" = preload &&
        if test -x "$TRACE_DIR/roar-ebpfdump"; then
            test_grep "^roar: eBPF unavailable (.*); using the preload tracer$" "$TEST_DIR/err"
        fi &&
        test_expect_code 128 git roar run -t ebpf true 2>err &&
        test_grep "^fatal: the eBPF tracer" err
    fi
'

test_expect_success 'options after the command belong to the command' '
    roar_setup &&
    roar_run sh -c "echo \$1 >arg" sh -q &&
    echo -q >expect && test_cmp expect arg &&
    test "$(record_field command)" = "sh -c '"'"'echo \$1 >arg'"'"' sh -q"
'

test_expect_success 'outside a work tree: fatal' '
    git init -q --bare "$TEST_DIR/bare.git" &&
    cd "$TEST_DIR/bare.git" &&
    test_expect_code 128 git roar run true 2>err &&
    test_grep "fatal: " err
'

test_expect_success 'cwd is recorded relative to the top; paths are the top'"'"'s' '
    roar_setup &&
    mkdir -p sub/dir && echo x >sub/dir/in &&
    cd sub &&
    roar_run cat dir/in &&
    test "$(record_field cwd)" = sub &&
    cd .. &&
    expect_edges <<-EOF
	$(edge in sub/dir/in)
	EOF
'

test_expect_success 'dirty: 0 for committed inputs, 1 for a modified or untracked one' '
    roar_setup &&
    echo v1 >tracked && git add tracked && git commit -qm v1 &&
    roar_run cat tracked &&
    test "$(record_field dirty)" = 0 &&
    echo v2 >tracked &&
    roar_run cat tracked &&
    test "$(record_field dirty)" = 1 &&
    git checkout -q tracked &&
    echo u >untracked &&
    roar_run cat untracked &&
    test "$(record_field dirty)" = 1 &&
    echo untracked >.gitignore && git add .gitignore && git commit -qm ignore &&
    roar_run cat untracked &&
    test "$(record_field dirty)" = 0
'

test_expect_success 'no commits yet: no base line' '
    roar_setup &&
    echo x >in &&
    roar_run cat in &&
    test_grep -v "^base " "$TEST_DIR/rec"
'

test_expect_success 'secrets in argv are redacted in the command line' '
    roar_setup &&
    roar_run sh -c true sh --password=hunter2 https://me:pw@example.com/x &&
    test "$(record_field command)" = "sh -c true sh '"'"'--password=***'"'"' '"'"'https://me:***@example.com/x'"'"'" &&
    test_grep -v hunter2 "$TEST_DIR/rec"
'

test_expect_success 'a secret given as the argument after its option is redacted' '
    roar_setup &&
    roar_run sh -c true sh --password hunter2 --api-key -k3y --key-file data.txt &&
    test "$(record_field command)" = "sh -c true sh --password '"'"'***'"'"' --api-key '"'"'***'"'"' --key-file data.txt" &&
    test_grep -v hunter2 "$TEST_DIR/rec" &&
    test_grep -v k3y "$TEST_DIR/rec"
'

test_expect_success 'roar.env: named variables only, secret-looking names without their value' '
    roar_setup &&
    git config roar.env PYTHONHASHSEED &&
    git config --add roar.env GITHUB_TOKEN &&
    git config --add roar.env NOT_SET_ANYWHERE &&
    git config --add roar.env DATA_URL &&
    PYTHONHASHSEED=0 GITHUB_TOKEN=ghp_secret DATA_URL="https://u:pw@h/d" OTHER=1 \
        roar_run true &&
    grep "^env " "$TEST_DIR/rec" >actual &&
    cat >expect <<-\EOF &&
	env PYTHONHASHSEED=0
	env GITHUB_TOKEN='"'"'***'"'"'
	env DATA_URL='"'"'https://u:***@h/d'"'"'
	EOF
    test_cmp expect actual &&
    test_grep -v ghp_secret "$TEST_DIR/rec"
'

test_expect_success 'no roar.env: no env lines at all' '
    roar_setup &&
    PYTHONHASHSEED=0 roar_run true &&
    test_grep -v "^env " "$TEST_DIR/rec"
'

test_expect_success 'the job is in the cache, pending for this worktree' '
    roar_setup &&
    echo x >in &&
    roar_run cat in &&
    id=$(record_field job) &&
    cache_query "SELECT worktree FROM pending" >wt &&
    echo "$(cd .git && pwd -P)" >expect &&
    test_cmp expect wt
'

test_expect_success 'in a linked worktree: <id>@<worktree name>, in the common pending dir' '
    roar_setup &&
    git commit -q --allow-empty -m base &&
    git worktree add -q "$TEST_DIR/linked" &&
    cd "$TEST_DIR/linked" &&
    echo x >in &&
    roar_run cat in &&
    id=$(record_field job) &&
    common=$(git rev-parse --path-format=absolute --git-common-dir) &&
    test -f "$common/roar/pending/$id@linked" &&
    expect_edges <<-EOF &&
	$(edge in in)
	EOF
    cache_query "SELECT worktree FROM pending" >wt &&
    echo "$(cd "$common/worktrees/linked" && pwd -P)" >expect &&
    test_cmp expect wt
'

test_expect_success 'the stat cache is seeded from the index, once per index change' '
    roar_setup &&
    echo data >committed &&
    sleep 1.2 &&
    git add committed && git commit -qm data &&
    ino=$(stat -c %i committed) &&
    roar_run cat committed &&
    # A seeded row carries the index file'"'"'s mtime plus the 1 s margin as its hashing
    # time (git'"'"'s racy rule, hash.h), and being trusted, it answered the run without
    # a new hashing.
    cache_query "SELECT ino, blob, hashed_at_ns FROM hash_cache" >rows &&
    idx_ns=$(stat -c %.9Y .git/index | tr -d .) &&
    test_grep -x "$ino $(oid committed) $((idx_ns + 1000000000))" rows &&
    cache_query "SELECT key FROM meta WHERE key LIKE '"'"'index-seed:%'"'"'" >seeds &&
    echo "index-seed:$(cd .git && pwd -P)/index" >expect &&
    test_cmp expect seeds
'

test_expect_success 'a broken cache is a warning; the job is still recorded' '
    roar_setup &&
    mkdir -p .git/roar && echo "not a database" >.git/roar/cache.db &&
    echo x >in &&
    roar_run cat in &&
    test_grep "^warning: " "$TEST_DIR/err" &&
    expect_edges <<-EOF
	$(edge in in)
	EOF
'

test_expect_success 'a full disk: fatal, clear message, nothing half-written' '
    roar_setup &&
    echo x >in &&
    mkdir -p .git/roar &&
    if ! mount -t tmpfs -o size=16k tmpfs .git/roar 2>/dev/null; then
        echo "# cannot mount a tmpfs here: not checked"; exit 0
    fi
    mkdir .git/roar/pending &&
    { dd if=/dev/zero of=.git/roar/filler bs=1k count=64 2>/dev/null || :; } &&
    { git roar run cat in 2>err; echo $? >rc; } &&
    ls -A .git/roar/pending >left
    umount .git/roar &&
    test "$(cat rc)" = 128 &&
    test_grep "fatal: cannot record the job: .*No space left on device" err &&
    test_must_be_empty left
'

test_expect_success 'a caller that blocks SIGCHLD: the job still ends, fully recorded' '
    roar_setup &&
    echo x >in && git add in && git commit -qm base &&
    # the loop reaps on SIGCHLD, and on a slow tick for a caller like this one
    { /usr/bin/python3 -c "import os, signal, sys
signal.pthread_sigmask(signal.SIG_BLOCK, [signal.SIGCHLD])
os.execvp(sys.argv[1], sys.argv[1:])" git roar run -q -t preload sh -c "cat in >out; exit 3"
      echo $? >rc; } &&
    test "$(cat rc)" = 3 &&
    cat .git/roar/pending/* >"$TEST_DIR/rec" &&
    test "$(record_field exit)" = 3 &&
    expect_edges <<-EOF &&
	$(edge in in)
	$(edge out out)
	EOF
    expect_no_incomplete
'

test_expect_success 'user: the author identity a commit would record, else the login name' '
    GIT_AUTHOR_NAME="Other Person" GIT_AUTHOR_EMAIL=other@example.com \
        roar_run -t preload true &&
    test "$(record_field user)" = "Other Person <other@example.com>" &&
    git config --global --unset user.name &&
    git config --global --unset user.email &&
    EMAIL= roar_run -t preload true &&
    test "$(record_field user)" = "$(id -un)"
'

test_done
