# bench/lib.sh: what the bench scripts share; sourced, after `build` is set.

best() { sort -g | head -n 1; }
median() { sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
now_ns() { date +%s%N; }

# best_ms N CMD...: the best wall time of N runs of CMD, in ms.
best_ms() {
    local n=$1 best= t0 t1 ms
    shift
    for _ in $(seq "$n"); do
        t0=$(date +%s%N)
        "$@" >/dev/null
        t1=$(date +%s%N)
        ms=$(((t1 - t0) / 1000000))
        if [ -z "$best" ] || [ "$ms" -lt "$best" ]; then best=$ms; fi
    done
    echo "$best"
}

# bench_repo PREFIX: cds into a throwaway repository under ${TMPDIR:-/tmp} holding one
# small committed file, small.txt, with git roar told to leave the build alone. Its parent
# directory, $scratch, is removed on exit.
bench_repo() {
    scratch=$(mktemp -d "${TMPDIR:-/tmp}/$1.XXXXXX")
    trap 'rm -rf "$scratch"' EXIT
    cd "$scratch"
    git init -q repo && cd repo
    git config user.name bench && git config user.email bench@example.invalid
    git config roar.exclude "$build"
    printf 'a small input file\n' >small.txt
    git add small.txt && git commit -qm bench
}
