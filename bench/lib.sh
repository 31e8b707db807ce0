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

# wall_ms CMD...: the wall time of one run of CMD, in ms (its output dropped).
wall_ms() {
    local t0 t1
    t0=$(date +%s%N)
    "$@" >/dev/null 2>&1
    t1=$(date +%s%N)
    echo $(((t1 - t0) / 1000000))
}

# pair_wall N BASE -- CMD...: N rounds of CMD and BASE (a shell command line) in turn,
# the order alternating, so that the machine's drift falls on both. Prints the median
# wall s of CMD and of BASE, and the median of the per-round ratios CMD/BASE.
pair_wall() {
    local n=$1 base=$2 i a b
    shift 3
    : >"$scratch/pair.a"
    : >"$scratch/pair.b"
    : >"$scratch/pair.r"
    for i in $(seq "$n"); do
        if [ $((i % 2)) = 1 ]; then
            b=$(wall_ms sh -c "$base")
            a=$(wall_ms "$@")
        else
            a=$(wall_ms "$@")
            b=$(wall_ms sh -c "$base")
        fi
        echo "$a" >>"$scratch/pair.a"
        echo "$b" >>"$scratch/pair.b"
        awk -v a="$a" -v b="$b" 'BEGIN { printf "%.3f\n", a / (b ? b : 1) }' >>"$scratch/pair.r"
    done
    printf '%.2f %.2f %s\n' "$(median <"$scratch/pair.a")e-3" "$(median <"$scratch/pair.b")e-3" \
        "$(median <"$scratch/pair.r")"
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
