#!/usr/bin/env bash
# bench/scale.sh: the team-scale figures of issue 15. For each size, a synthetic
# history (bench/scale-gen.py: one note per run, 1-7 jobs a note, ~21 edges a job, a
# model rewritten in place, params.yaml read by 40% of jobs, 1.35 git-ignored outputs
# a job) is served from a bare repository; fresh clones of it are timed, with stock
# git beside git roar.
# Usage: bench/scale.sh [JOBS...]   (default 10000 100000); the build in
# $ROAR_BUILD_DIR or build/.
#   TIMEOUT (600): seconds one command may take; past it the cell says "timeout".
#   RUNS (5): runs of a command whose first run took under 5 s (the median counts);
#             slower ones are run once.
#   SCALE_CACHE (${TMPDIR:-/tmp}): where histories are kept, by size and generator
#             hash (roar-scale-JOBS-HASH, .workfiles, .stats); KEEP=1 keeps the clones.
set -uo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "${ROAR_BUILD_DIR:-$here/build}" && pwd)
[ -x "$build/git-roar" ] || { echo "fatal: no git-roar in $build; build first" >&2; exit 128; }
export PATH="$build:$PATH"
gen=$here/bench/scale-gen.py
timeout_s=${TIMEOUT:-600}
runs=${RUNS:-5}
cache=${SCALE_CACHE:-${TMPDIR:-/tmp}}
[ $# -gt 0 ] || set -- 10000 100000

# now_ns, median: bench/lib.sh.
. "$here/bench/lib.sh"

work=$(mktemp -d "${TMPDIR:-/tmp}/roar-bench-scale.XXXXXX")
[ -n "${KEEP:-}" ] || trap 'rm -rf "$work"' EXIT
log=$work/stderr.log
# A hermetic git: no user or system configuration, no automatic gc in the middle of a
# measurement.
export HOME=$work/home GIT_CONFIG_NOSYSTEM=1 LC_ALL=C
unset GIT_DIR GIT_WORK_TREE
mkdir -p "$HOME"
git config --global user.name Bench && git config --global user.email bench@example.invalid
git config --global gc.auto 0 && git config --global maintenance.auto false
git config --global init.defaultBranch main

say() { printf '%s\n' "$*" >&2; }
load() { cut -d' ' -f1-3 /proc/loadavg; }

# ms CMD...: CMD's wall time in ms (stdout discarded), or "timeout", with " (exit N)"
# when it failed.
ms() {
    local t0 t1 rc
    t0=$(now_ns)
    timeout "$timeout_s" "$@" >/dev/null 2>>"$log"
    rc=$?
    t1=$(now_ns)
    if [ $rc -eq 124 ] || [ $rc -eq 137 ]; then
        echo "timeout (${timeout_s} s)"
    elif [ $rc -ne 0 ]; then
        echo "$(((t1 - t0) / 1000000)) (exit $rc)"
    else
        echo $(((t1 - t0) / 1000000))
    fi
}

# fmt MS: "12 ms", "3.4 s", "timeout", "... (exit N)".
fmt() {
    case $1 in
    [0-9]*" (exit "*) echo "$(fmt "${1%% *}") ${1#* }" ;;
    *[!0-9]*) echo "$1" ;;
    *) awk -v m="$1" 'BEGIN { if (m < 1000) printf "%d ms\n", m; else if (m < 10000) printf "%.2f s\n", m / 1000; else printf "%.1f s\n", m / 1000 }' ;;
    esac
}

# timed_after SETUP CMD...: CMD's time, the median of RUNS more runs when the first
# took under 5 s; the function SETUP runs, untimed, before each run.
timed_after() {
    local setup=$1 first all
    shift
    $setup >/dev/null 2>>"$log"
    first=$(ms "$@")
    case $first in *[!0-9]*) fmt "$first"; return ;; esac
    if [ "$first" -ge 5000 ] || [ "$runs" -le 1 ]; then fmt "$first"; return; fi
    all=$(for _ in $(seq "$runs"); do $setup >/dev/null 2>>"$log"; ms "$@"; done)
    case $all in *[!0-9$'\n']*) fmt "$(echo "$all" | grep '[^0-9]' | head -n 1)"; return ;; esac
    fmt "$(echo "$all" | median)"
}
timed() { timed_after : "$@"; }

# first_line CMD...: ms until CMD's first line of output (the rest is discarded).
first_line() {
    local t0 t1
    t0=$(now_ns)
    t1=$(timeout "$timeout_s" "$@" 2>>"$log" | { IFS= read -r _ && now_ns; })
    [ -n "$t1" ] || { echo "timeout (${timeout_s} s)"; return; }
    fmt $(((t1 - t0) / 1000000))
}

# rss_timed OUT CMD...: one run of CMD under /usr/bin/time; "T, RSS MB" (+ output size
# and rate when OUT is "bytes").
rss_timed() {
    local what=$1 f=$work/rss t0 t1 rc bytes
    shift
    t0=$(now_ns)
    bytes=$(timeout "$timeout_s" /usr/bin/time -f %M -o "$f" "$@" 2>>"$log" | wc -c)
    rc=$? # pipefail: timeout's status
    t1=$(now_ns)
    if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then echo "timeout (${timeout_s} s)"; return; fi
    local t=$(((t1 - t0) / 1000000)) kb
    kb=$(tail -n 1 "$f")
    local s
    s="$(fmt $t), $(awk -v k="$kb" 'BEGIN { printf "%.0f MB RSS", k / 1024 }')"
    [ "$rc" -eq 0 ] || s="$s (exit $rc)"
    if [ "$what" = bytes ]; then
        s="$s, $(awk -v b="$bytes" -v t="$t" 'BEGIN { printf "%.0f MB out at %.0f MB/s", b / 1e6, b / 1e6 / (t > 0 ? t / 1000 : 1) }')"
    fi
    echo "$s"
}

# To undo a fetch: the refs are put back, then the packs it added (packs GITDIR: the
# list before) removed with drop_packs GITDIR LIST.
packs() { ls "$1/objects/pack" | sort; }
drop_packs() {
    packs "$1" | comm -13 "$2" - | while read -r p; do rm -f "$1/objects/pack/$p"; done
}

declare -A cell
ops=()
row() { # KEY LABEL GOAL
    ops+=("$1")
    label[$1]=$2
    goal[$1]=$3
}
declare -A label goal
row gen "generate the history (bench/scale-gen.py)" "–"
row gitfetch "\`git fetch\` of the notes into a fresh clone (stock git)" "(reference)"
row gitlog "\`git log --notes=roar\` printing every note (stock git)" "(reference)"
row init "\`git roar init\` after clone (fetches and merges the notes)" "–"
row first "first command after init (\`log -n 20\`)" "init + first ≤ 20 s"
row full "\`reindex --full\`" "≤ 15 s"
row log20 "\`log -n 20\`, warm" "≤ 20 ms"
row log "\`log\` of every job, warm" "≤ 3 s"
row log1 "\`log\`: its first line" "≤ 50 ms"
row showhot "\`show params.yaml\` (read by 40% of jobs)" "≤ 1 s"
row showfile "\`show FILE\`" "≤ 20 ms"
row showcommit "\`show COMMIT\`" "≤ 20 ms"
row showjob "\`show JOB\`" "≤ 20 ms"
row status1 "\`status\`, first (hashes the ignored outputs)" "–"
row status "\`status\`, warm" "≤ 2 s"
row export "\`export --format openlineage\`" "≤ 100 MB RSS, ≥ 50 MB/s"
row fsck "\`fsck\`" "≤ 5 s"
row gitfetch100 "\`git fetch\` of 100 new notes (stock git)" "(reference)"
row fetch100 "\`git roar fetch\` of the same 100 notes" "≤ stock + 1 s"
row linedown "\`lineage --down --depth 5 params.yaml\`" "bounded memory"
row line50 "\`lineage --depth 50 models/model.pkl\`" "–"
row outputs "outputs \`status\` judged" "135k at 100k"

genhash=$(sha1sum "$gen" | cut -c1-12)
for jobs in "$@"; do
    say "== $jobs jobs (load $(load))"
    loads="$(load)"
    src=$cache/roar-scale-$jobs-$genhash
    if [ ! -d "$src" ]; then
        say "generating $src"
        rm -rf "$src.tmp" "$src.tmp.workfiles" "$src.tmp.stats"
        python3 "$gen" "$jobs" "$src.tmp" || exit 1
        mv "$src.tmp.workfiles" "$src.workfiles" && mv "$src.tmp.stats" "$src.stats" &&
            mv "$src.tmp" "$src" || exit 1
    fi
    st() { awk -v k="$1" '$1 == k { print $2 }' "$src.stats"; }
    cell[gen,$jobs]="$(st seconds) s"
    d=$work/$jobs
    mkdir -p "$d"

    # The server: the history's objects, its notes ref before the last 100 runs.
    srv=$d/server.git
    git init -q --bare "$srv"
    echo "$src/objects" >"$srv/objects/info/alternates"
    git --git-dir="$srv" update-ref refs/heads/main "$(st head)"
    before=$(git --git-dir="$src" rev-parse refs/bench/notes-before-tail)
    tip=$(git --git-dir="$src" rev-parse refs/notes/roar)
    git --git-dir="$srv" update-ref refs/notes/roar "$before"

    # Stock git: a clone of main, then its notes (timed from an empty notes ref each run).
    say "stock git fetch of the notes"
    git clone -q --single-branch --branch main "file://$srv" "$d/stock"
    sg=$d/stock/.git
    packs "$sg" >"$d/stock.packs"
    stock_unfetch() {
        git --git-dir="$sg" update-ref -d refs/notes/roar
        drop_packs "$sg" "$d/stock.packs"
    }
    cell[gitfetch,$jobs]=$(timed_after stock_unfetch git -C "$d/stock" fetch -q origin refs/notes/roar:refs/notes/roar)

    # git roar: a fresh clone, init, and the first command (once: each builds the cache).
    say "git roar init, first command"
    git clone -q --single-branch --branch main "file://$srv" "$d/roar"
    cd "$d/roar"
    cell[init,$jobs]=$(fmt "$(ms git roar init)")
    cell[first,$jobs]=$(fmt "$(ms git roar log -n 20)")

    # 100 new notes on the server: stock git fetch vs git roar fetch, each from the state
    # before (refs put back, the fetched pack removed, the cache reindexed: untimed).
    git --git-dir="$srv" update-ref refs/notes/roar "$tip"
    say "fetch of 100 new notes"
    packs "$sg" >"$d/stock.packs"
    stock_unfetch100() {
        git --git-dir="$sg" update-ref refs/notes/roar "$before"
        drop_packs "$sg" "$d/stock.packs"
    }
    cell[gitfetch100,$jobs]=$(timed_after stock_unfetch100 git -C "$d/stock" fetch -q origin refs/notes/roar:refs/notes/roar)
    rg=$d/roar/.git
    packs "$rg" >"$d/roar.packs"
    roar_unfetch100() { # the cache follows the refs back while the objects are there
        git --git-dir="$rg" update-ref refs/notes/roar "$before"
        git --git-dir="$rg" update-ref refs/notes/remotes/origin/roar "$before"
        git roar reindex -q
        drop_packs "$rg" "$d/roar.packs"
    }
    cell[fetch100,$jobs]=$(timed_after roar_unfetch100 git roar fetch -q)
    # Both now hold every note.
    [ "$(git --git-dir="$rg" rev-parse refs/notes/roar)" = "$tip" ] || say "warning: roar clone's notes are not at the tip"
    [ "$(git --git-dir="$sg" rev-parse refs/notes/roar)" = "$tip" ] || say "warning: stock clone's notes are not at the tip"
    cell[gitlog,$jobs]=$(timed git -C "$d/stock" log --notes=roar main)

    say "reindex --full, queries"
    cell[full,$jobs]=$(timed git roar reindex -q --full)
    cell[log20,$jobs]=$(timed git roar log -n 20)
    cell[log,$jobs]=$(timed git roar log)
    cell[log1,$jobs]=$(first_line git roar log)
    cell[showhot,$jobs]=$(timed git roar show params.yaml)
    cell[showfile,$jobs]=$(timed git roar show "$(st sample-file)")
    cell[showcommit,$jobs]=$(timed git roar show "$(st sample-commit)")
    cell[showjob,$jobs]=$(timed git roar show "$(st sample-job)")
    python3 "$gen" --worktree "$d/roar" "$src" 2>>"$log"
    cell[status1,$jobs]=$(fmt "$(ms git roar status)")
    cell[status,$jobs]=$(timed git roar status)
    cell[outputs,$jobs]=$(timeout "$timeout_s" git roar status 2>>"$log" | grep -m 1 '^[0-9]* outputs:')
    cell[export,$jobs]=$(rss_timed bytes git roar export --format openlineage)
    cell[fsck,$jobs]=$(timed git roar fsck -q)
    cell[linedown,$jobs]=$(rss_timed - git roar lineage --down --depth 5 params.yaml)
    cell[line50,$jobs]=$(timed git roar lineage --depth 50 models/model.pkl)
    cd "$work"
    loads="$loads → $(load)"
    cell[load,$jobs]=$loads
    [ -n "${KEEP:-}" ] || rm -rf "$d"
done

# The table: one column per size.
{
    printf '| operation |'
    for jobs in "$@"; do printf ' %s jobs |' "$jobs"; done
    printf ' goal (issue 15) |\n|---|'
    for _ in "$@"; do printf -- '---|'; done
    printf -- '---|\n'
    for k in "${ops[@]}"; do
        printf '| %s |' "${label[$k]}"
        for jobs in "$@"; do printf ' %s |' "${cell[$k,$jobs]:-–}"; done
        printf ' %s |\n' "${goal[$k]}"
    done
    printf '\nLoad average (1, 5, 15 min) before → after each size:'
    for jobs in "$@"; do printf ' %s: %s;' "$jobs" "${cell[load,$jobs]}"; done
    printf '\n'
    if [ -s "$log" ]; then
        printf '\nstderr of the timed commands (first lines):\n'
        sort "$log" | uniq -c | sort -rn | head -n 10 | sed 's/^/    /'
    fi
}
