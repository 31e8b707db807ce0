#!/bin/bash
# contrib/git-roar-completion.bash: offers every subcommand of `git roar -h` and each
# command's long options of `git roar CMD -h`, choice values, and is wired with complete.
. "$(dirname "$0")/lib.sh"

COMPLETION="$ROAR_SOURCE_DIR/contrib/git-roar-completion.bash"

# complete_words WORD...: what the completion offers for the command line WORD... (the
# last word is the one being completed), one per line, sorted.
complete_words() {
    bash -c '
        . "$1"; shift
        COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1))
        if [ "$1" = git-roar ]; then _git_roar_main; else _git_roar; fi
        printf "%s\n" "${COMPREPLY[@]}" | sort' bash "$COMPLETION" "$@"
}

test_expect_success 'complete -p: git-roar and (without git completion) git are wired' '
    bash -c ". \"$COMPLETION\" && complete -p git-roar && complete -p git" >out &&
    test_grep "_git_roar_main git-roar" out &&
    test_grep "_git_roar git$" out
'

test_expect_success 'every subcommand of git roar -h is offered, and only those' '
    git roar -h | sed -n "s/^   \([a-z]*\) .*/\1/p" | sort >expect &&
    complete_words git roar "" >actual &&
    test_cmp expect actual &&
    complete_words git roar re >actual &&
    printf "reindex\nreproduce\nreview\n" >expect &&
    test_cmp expect actual
'

test_expect_success 'each command offers exactly the long options of its -h' '
    for c in $(git roar -h | sed -n "s/^   \([a-z]*\) .*/\1/p"); do
        git roar $c -h | grep "^    " | grep -o -- "--[a-z-]*\( <\)\?" | sed "s/ <$/=/" | sort -u >expect &&
        complete_words git roar $c --  >actual &&
        test_cmp expect actual || { echo "command $c"; return 1; }
    done
'

test_expect_success 'choice values after --format= and after -t; git-roar alone too' '
    complete_words git roar export --format= >actual &&
    printf "%s\n" --format=dot --format=json --format=openlineage --format=prov-json >expect &&
    test_cmp expect actual &&
    complete_words git roar review --format m >actual &&
    echo markdown >expect &&
    test_cmp expect actual &&
    complete_words git-roar run -t e >actual &&
    echo ebpf >expect &&
    test_cmp expect actual
'

test_done
