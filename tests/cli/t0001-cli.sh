#!/bin/bash
# The command-line surface every command shares: usage, --version, -h, -q, exit codes,
# unknown commands and options, dispatch through git, the man page.
. "$(dirname "$0")/lib.sh"

roar_commands="init run attach drop log show lineage status reproduce review fetch push sync
reindex fsck export"

version=$(sed -n 's/^project(git-roar VERSION \([0-9.]*\).*/\1/p' "$ROAR_SOURCE_DIR/CMakeLists.txt")

test_expect_success 'no command: usage on stderr, exit 129' '
    test_expect_code 129 git-roar >out 2>err &&
    test_must_be_empty out &&
    test_grep "^usage: git roar " err &&
    for c in $roar_commands; do test_grep "^   $c " err || return 1; done
'

test_expect_success '-h, --help and help list every command, exit 0' '
    git-roar -h >out-h 2>err &&
    test_must_be_empty err &&
    git-roar --help >out-help &&
    git-roar help >out-cmd &&
    test_cmp out-h out-help &&
    test_cmp out-h out-cmd &&
    test_grep "^usage: git roar " out-h &&
    for c in $roar_commands; do test_grep "^   $c " out-h || return 1; done
'

test_expect_success 'help CMD prints that command'"'"'s usage, exit 0' '
    git-roar help log >out &&
    test_grep -F "usage: git roar log [-n N] [--pending] [--json] [-- PATH...]" out
'

test_expect_success '--version prints the project version' '
    test -n "$version" &&
    git-roar --version >out &&
    echo "git roar version $version" >expect &&
    test_cmp expect out
'

test_expect_success 'unknown command: message, exit 129' '
    test_expect_code 129 git-roar frobnicate >out 2>err &&
    test_must_be_empty out &&
    test_grep -F "git roar: '"'"'frobnicate'"'"' is not a git roar command. See '"'"'git roar -h'"'"'." err &&
    test_grep "^   status " err
'

test_expect_success 'unknown option before the command: exit 129' '
    test_expect_code 129 git-roar --frob 2>err &&
    test_grep -F "error: unknown option \`--frob'"'"'" err
'

test_expect_success 'git roar CMD -h prints its usage on stdout and exits 129, for every command' '
    cd "$TEST_DIR" &&
    for c in $roar_commands; do
        test_expect_code 129 git-roar $c -h >out 2>err &&
        test_must_be_empty err &&
        test_grep "^usage: git roar $c" out &&
        test_grep -e "-q, --quiet" out &&
        test_expect_code 129 git-roar $c --help >out2 &&
        test_cmp out out2 || return 1
    done
'

test_expect_success 'the synopses are those of the specification' '
    test_expect_code 129 git-roar run -h >run &&
    test_grep -F "usage: git roar run [-t auto|ebpf|preload] [--commit [-m MSG]] [-q] [--] CMD [ARG...]" run &&
    test_expect_code 129 git-roar lineage -h >lineage &&
    test_grep -F "usage: git roar lineage [--down] [--depth N] [--format text|json|dot|mermaid] OBJ" lineage &&
    test_expect_code 129 git-roar export -h >export &&
    test_grep -F "usage: git roar export --format prov-json|openlineage|dot|json [OBJ|RANGE]" export &&
    test_expect_code 129 git-roar status -h >status &&
    test_grep -F "usage: git roar status [--all] [--json] [--exit-code] [PATH...]" status &&
    test_expect_code 129 git-roar reproduce -h >reproduce &&
    test_grep -F "usage: git roar reproduce [-n] [--yes] [--force] [OBJ...|REV]" reproduce &&
    test_expect_code 129 git-roar review -h >review &&
    test_grep -F "usage: git roar review [--format text|markdown|json] [--exit-code] RANGE|REV" review &&
    test_expect_code 129 git-roar attach -h >attach &&
    test_grep -F "usage: git roar attach [REV]" attach &&
    test_expect_code 129 git-roar init -h >init &&
    test_grep -F "usage: git roar init [--no-hooks] [--remote NAME]" init
'

test_expect_success 'unknown options: error and usage on stderr, exit 129' '
    test_expect_code 129 git-roar log --bogus >out 2>err &&
    test_must_be_empty out &&
    test_grep -F "error: unknown option \`--bogus'"'"'" err &&
    test_grep "^usage: git roar log" err &&
    test_expect_code 129 git-roar status -Z 2>err &&
    test_grep -F "error: unknown option \`-Z'"'"'" err &&
    test_expect_code 129 git-roar log --json=yes 2>err &&
    test_grep "takes no value" err
'

test_expect_success 'bad option values and argument counts are usage errors' '
    test_expect_code 129 git-roar log -n many 2>err &&
    test_grep "expects a non-negative number" err &&
    test_expect_code 129 git-roar lineage --format svg HEAD 2>err &&
    test_grep -F "invalid value '"'"'svg'"'"' for --format" err &&
    test_expect_code 129 git-roar run -t strace true 2>err &&
    test_grep -F "invalid value" err &&
    test_expect_code 129 git-roar show 2>err &&
    test_grep "too few arguments" err &&
    test_expect_code 129 git-roar show a b 2>err &&
    test_grep "too many arguments" err &&
    test_expect_code 129 git-roar attach one two 2>err &&
    test_grep "too many arguments" err &&
    test_expect_code 129 git-roar run 2>err &&
    test_grep "too few arguments" err
'

test_expect_success 'run stops parsing at CMD: its options belong to CMD' '
    git-roar run ls -h >out 2>err
    test $? -ne 129 &&
    test_grep -v "usage: git roar run" out &&
    test_grep -v "unknown option" err
'

test_expect_success 'git roar works through git'"'"'s dispatch' '
    git roar --version >via-git &&
    git-roar --version >direct &&
    test_cmp direct via-git &&
    test_expect_code 129 git roar frobnicate 2>err &&
    test_grep "is not a git roar command" err &&
    test_expect_code 129 git roar log -h >out &&
    test_grep "^usage: git roar log" out
'

test_expect_success 'outside a repository every command is fatal (128) with git'"'"'s message' '
    cd "$TEST_DIR" &&
    for c in $roar_commands; do
        test_expect_code 128 git roar $c $(args_for $c) >out 2>err &&
        echo "fatal: not a git repository (or any of the parent directories): .git" >expect &&
        test_cmp expect err || return 1
    done
'

test_expect_success '-q and --quiet are accepted by every command' '
    git commit -q --allow-empty -m base &&
    for c in $roar_commands; do
        for q in -q --quiet; do
            git roar $c $q $(args_for $c) >out 2>err
            code=$?
            test $code -ne 129 &&
            test_grep -v "unknown option" err &&
            test_grep -v "^usage:" err || return 1
        done
    done
'

test_expect_success 'a command not written yet says so clearly after parsing, exit 128' '
    git commit -q --allow-empty -m base &&
    for c in $roar_commands; do
        git roar $c $(args_for $c) >out 2>err </dev/null
        code=$?
        if grep -q "is not implemented yet" err; then
            test $code -eq 128 &&
            echo "fatal: '"'"'git roar $c'"'"' is not implemented yet" >expect &&
            test_cmp expect err || return 1
        fi
    done
'

if command -v man >/dev/null 2>&1; then
    test_expect_success 'the man page renders and covers every command' '
        MANWIDTH=100 man -l "$ROAR_SOURCE_DIR/docs/git-roar.1" >page 2>err &&
        test_grep -v -i "warning" err &&
        test_grep "^NAME" page &&
        test_grep "^EXIT STATUS" page &&
        test_grep "^FILES" page &&
        for c in $roar_commands; do test_grep "git roar $c" page || return 1; done
    '
    test_expect_success 'git help roar finds the installed man page' '
        mkdir -p "$TEST_DIR/share/man/man1" &&
        cp "$ROAR_SOURCE_DIR/docs/git-roar.1" "$TEST_DIR/share/man/man1/" &&
        MANPATH="$TEST_DIR/share/man" MANWIDTH=100 git help -m roar >page 2>err &&
        test_grep "git-roar" page &&
        test_grep "git roar status" page
    '
else
    test_skip 'the man page renders and covers every command' 'man is not installed'
    test_skip 'git help roar finds the installed man page' 'man is not installed'
fi

test_done
