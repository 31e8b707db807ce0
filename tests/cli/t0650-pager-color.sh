#!/bin/bash
# Pager and color of the query commands, as git does them: a pager only when stdout is
# a terminal (GIT_PAGER, core.pager, PAGER), color from color.roar / color.ui.
# A terminal is made with script(1) from util-linux.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-run.sh"

# on_tty CMD: runs the shell command CMD with a pseudo-terminal as its stdout.
on_tty() {
    script -qec "$1" /dev/null >tty.out 2>&1
}

if ! command -v script >/dev/null 2>&1; then
    test_skip 'pager and color' 'script(1) is not installed'
    test_done
fi

one_job() {
    roar_setup && echo hi >a && git add a && git commit -q -m a &&
    git roar run -q cp a b
}

test_expect_success 'log on a terminal goes through GIT_PAGER' '
    one_job &&
    on_tty "GIT_PAGER=\"sed s/^/PAGED:/ >paged\" git roar log" &&
    test_grep "^PAGED:.*cp a b" paged
'

test_expect_success 'core.pager is used when GIT_PAGER is unset' '
    one_job &&
    git config core.pager "sed s/^/CORE:/ >paged" &&
    on_tty "unset GIT_PAGER; git roar status" &&
    test_grep "^CORE:.*ok" paged
'

test_expect_success 'no pager when stdout is not a terminal' '
    one_job &&
    GIT_PAGER="echo PAGED >paged" git roar log >out &&
    test_grep "cp a b" out &&
    ! test -e paged
'

test_expect_success 'no pager when git already runs one (GIT_PAGER_IN_USE)' '
    one_job &&
    on_tty "GIT_PAGER_IN_USE=true GIT_PAGER=\"echo PAGED >paged\" git roar log" &&
    test_grep "cp a b" tty.out &&
    ! test -e paged
'

test_expect_success 'commands that are not queries never page' '
    one_job &&
    on_tty "GIT_PAGER=\"echo PAGED >paged\" git roar run -q true" &&
    ! test -e paged
'

# The progress line of a cache update (cli/progress.c), with the quiet first second
# turned off: on stderr when it is a terminal, never with -q or into a pipe.
test_expect_success 'a reindex on a terminal shows its progress; -q and a pipe do not' '
    roar_setup && echo hi >a && git add a && git commit -q -m a &&
    git roar run -q --commit cp a b &&
    test -n "$(git notes --ref=roar list)" &&
    ROAR_PROGRESS_DELAY=0 on_tty "git roar reindex --full" &&
    test_grep "indexing notes: 100% (1/1), 1 job, building indexes" tty.out &&
    test_grep "indexing notes: 100% (1/1), 1 job, done\." tty.out &&
    ROAR_PROGRESS_DELAY=0 on_tty "git roar reindex -q --full" &&
    test_grep -v "indexing notes" tty.out &&
    ROAR_PROGRESS_DELAY=0 git roar reindex --full 2>err &&
    test_grep -v "indexing notes" err &&
    on_tty "git roar reindex --full" &&
    test_grep -v "indexing notes" tty.out
'

esc=$(printf "\033")

test_expect_success 'color.ui=always colors status states and job ids, even into a file' '
    one_job &&
    git config color.ui always &&
    git roar status --all >out &&
    test_grep "^${esc}\[32mok" out &&
    git roar log >log &&
    test_grep "^${esc}\[33m[0-9a-f]\{7\}${esc}\[m" log
'

test_expect_success 'color.ui=auto: none into a file, color on a terminal' '
    one_job &&
    git roar status >out &&
    test_grep -v "$esc" out &&
    on_tty "GIT_PAGER=cat git roar status --all" &&
    test_grep "${esc}\[32mok" tty.out
'

test_expect_success 'color.roar=never wins over color.ui=always, even on a terminal' '
    one_job &&
    git config color.ui always && git config color.roar never &&
    on_tty "GIT_PAGER=cat git roar status --all" &&
    test_grep "ok" tty.out &&
    test_grep -v "${esc}\[3" tty.out
'

test_expect_success 'a stale output is yellow, a missing one red' '
    one_job &&
    git config color.ui always &&
    echo changed >a && git roar status >out &&
    test_grep "${esc}\[33mstale" out &&
    rm b && git roar status >out &&
    test_grep "${esc}\[31mmissing" out
'

test_done
