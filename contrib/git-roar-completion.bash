# bash completion for git roar: subcommands, each command's options and their values,
# job ids, revisions and files. Kept in step with src/cli/git-roar.c (t0630 checks).
#
# Source it after git's own completion (`git roar <TAB>` then calls _git_roar), or alone
# (it completes `git-roar` itself, and `git roar` when git's completion is absent).

__git_roar_commands="init run attach drop log show lineage status reproduce review fetch push sync reindex fsck export"

__git_roar_options() {
    case "$1" in
    init) echo "--no-hooks --no-fetch --remote=" ;;
    attach) echo "--rewritten" ;;
    run) echo "--tracer= -t --commit --message= -m" ;;
    drop) echo "--from-notes" ;;
    log) echo "--max-count= -n --pending --json" ;;
    show) echo "--json --all" ;;
    lineage) echo "--down --depth= --format= --json --outside" ;;
    status) echo "--all --json --exit-code" ;;
    reproduce) echo "--dry-run -n --yes --force" ;;
    review) echo "--format= --json --exit-code" ;;
    reindex) echo "--full" ;;
    export) echo "--format= --outside" ;;
    esac
    echo "--quiet -q --help -h"
}

# The values of a choice option: "<command> <option>".
__git_roar_choices() {
    case "$1 $2" in
    "run --tracer" | "run -t") echo "auto ebpf preload" ;;
    "lineage --format") echo "text json dot mermaid" ;;
    "review --format") echo "text markdown json" ;;
    "export --format") echo "prov-json openlineage dot json" ;;
    esac
}

# Job id prefixes (the 7-digit form `git roar log` prints), quietly nothing outside a repo.
__git_roar_jobs() {
    git roar log 2>/dev/null | cut -c1-7
}

__git_roar_refs() {
    git for-each-ref --format='%(refname:short)' refs/heads refs/tags refs/remotes 2>/dev/null
    echo HEAD
}

__git_roar_remotes() {
    git remote 2>/dev/null
}

# Completes from COMP_WORDS/COMP_CWORD; `start` is the index of the word after "roar"
# (or after "git-roar").
__git_roar_complete() {
    local start=$1 cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD - 1]}
    local cmd="" i w
    for ((i = start; i < COMP_CWORD; i++)); do
        w=${COMP_WORDS[i]}
        case "$w" in -*) ;; *) cmd=$w; break ;; esac
    done
    COMPREPLY=()
    if [ -z "$cmd" ]; then
        case "$cur" in
        -*) COMPREPLY=($(compgen -W "--version --help -h" -- "$cur")) ;;
        *) COMPREPLY=($(compgen -W "$__git_roar_commands" -- "$cur")) ;;
        esac
        return 0
    fi
    # `run` takes a command line after its options: complete commands, then files.
    if [ "$cmd" = run ] && [ "$i" -lt $((COMP_CWORD - 1)) ]; then
        local j seen=""
        for ((j = i + 1; j < COMP_CWORD; j++)); do
            case "${COMP_WORDS[j]}" in
            -t | --tracer | -m | --message) j=$((j + 1)) ;;
            --) seen=1; break ;;
            -*) ;;
            *) seen=1; break ;;
            esac
        done
        if [ -n "$seen" ]; then
            COMPREPLY=($(compgen -f -- "$cur"))
            return 0
        fi
    fi
    local choices
    case "$cur" in
    --*=*)
        choices=$(__git_roar_choices "$cmd" "${cur%%=*}")
        COMPREPLY=($(compgen -P "${cur%%=*}=" -W "$choices" -- "${cur#*=}"))
        return 0
        ;;
    -*)
        COMPREPLY=($(compgen -W "$(__git_roar_options "$cmd")" -- "$cur"))
        # No space after an option that takes `=value`.
        [ "${#COMPREPLY[@]}" -eq 1 ] && [ "${COMPREPLY[0]%=}" != "${COMPREPLY[0]}" ] &&
            compopt -o nospace 2>/dev/null
        return 0
        ;;
    esac
    choices=$(__git_roar_choices "$cmd" "$prev")
    if [ -n "$choices" ]; then
        COMPREPLY=($(compgen -W "$choices" -- "$cur"))
        return 0
    fi
    case "$cmd" in
    run) COMPREPLY=($(compgen -c -- "$cur")) ;;
    attach) COMPREPLY=($(compgen -W "$(__git_roar_refs)" -- "$cur")) ;;
    drop) COMPREPLY=($(compgen -W "$(__git_roar_jobs)" -- "$cur")) ;;
    fetch | push | sync) COMPREPLY=($(compgen -W "$(__git_roar_remotes)" -- "$cur")) ;;
    show | lineage | reproduce | export | review)
        COMPREPLY=($(compgen -W "$(__git_roar_jobs) $(__git_roar_refs)" -- "$cur")
            $(compgen -f -- "$cur"))
        ;;
    log) COMPREPLY=($(compgen -f -- "$cur")) ;;
    esac
    return 0
}

# Called by git's completion for `git roar ...`.
_git_roar() {
    local i
    for ((i = 1; i < COMP_CWORD; i++)); do
        [ "${COMP_WORDS[i]}" = roar ] && break
    done
    __git_roar_complete $((i + 1))
}

# `git-roar ...` directly.
_git_roar_main() {
    __git_roar_complete 1
}

complete -o bashdefault -o default -F _git_roar_main git-roar
# Without git's completion loaded, complete `git roar` ourselves.
if ! declare -F __git_main >/dev/null 2>&1 && ! complete -p git >/dev/null 2>&1; then
    complete -o bashdefault -o default -F _git_roar git
fi
