#!/bin/bash
# The three figures of issue 5's Performance section, in throwaway repositories:
#   1. one call of the notes writer with 10,000 (commit, record) pairs   (target <= 5 s)
#   2. one `git roar attach` in a repository already holding 10,000 notes (target <= 50 ms)
#   3. incremental `git roar reindex` after fetching 1,000 new notes      (target <= 2 s)
# Usage: bench/notes.sh   (needs a build: ROAR_BUILD_DIR or build/, with notes_bench and
# tests/cli/helpers/roar-make-pending)
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
build=${ROAR_BUILD_DIR:-$here/../build}
bench=$build/notes_bench
mkpend=$build/tests/cli/helpers/roar-make-pending
for exe in "$bench" "$mkpend" "$build/git-roar"; do
	if [ ! -x "$exe" ]; then
		echo "fatal: $exe not found; build first: cmake --build $build" >&2
		exit 128
	fi
done

dir=$(mktemp -d "${TMPDIR:-/tmp}/roar-bench-notes.XXXXXX")
trap 'rm -rf "$dir"' EXIT
# A hermetic git, and our git-roar first in PATH.
export HOME=$dir/home GIT_CONFIG_NOSYSTEM=1 PATH="$build:$PATH" LC_ALL=C
unset GIT_DIR GIT_WORK_TREE
mkdir -p "$HOME"
git config --global user.name "Bench" && git config --global user.email bench@example.com
git config --global init.defaultBranch main

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", b - a }'; }
median() { sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

# 1. The writer: best of 3, each into a fresh repository.
for r in 1 2 3; do
	git init -q "$dir/w$r" && git -C "$dir/w$r" commit -q --allow-empty -m base
	"$bench" "$dir/w$r" 10000
	n=$(git -C "$dir/w$r" notes --ref=roar list | wc -l)
	[ "$n" -eq 10000 ] || { echo "fatal: $n notes written, not 10000" >&2; exit 1; }
done | sort -g | head -1 >"$dir/writer"

# 2. attach with 10,000 notes already there (and indexed): median of 7.
git init -q "$dir/a" && cd "$dir/a" && git commit -q --allow-empty -m base
"$bench" . 10000 >/dev/null
git roar reindex -q
for r in $(seq 7); do
	printf 'command echo bench %d\ncwd .\nbase %s\ndirty 0\ntracer preload\nstart 2026-01-01T00:00:00.000Z\nend 2026-01-01T00:00:01.000Z\nexit 0\n' \
		"$r" "$(git rev-parse HEAD)" | "$mkpend" >/dev/null
	git commit -q --allow-empty -m "work $r"
	t0=$(now)
	git roar attach -q
	t1=$(now)
	elapsed "$t0" "$t1"
	echo
done | median >"$dir/attach"
n=$(git notes --ref=roar list | wc -l)
[ "$n" -eq 10007 ] || { echo "fatal: $n notes after the attaches, not 10007" >&2; exit 1; }

# 3. A clone indexes the remote's 10,000 notes, then 1,000 more arrive.
git init -q "$dir/up" && git -C "$dir/up" commit -q --allow-empty -m base
"$bench" "$dir/up" 10000 >/dev/null
git clone -q "file://$dir/up" "$dir/down" && cd "$dir/down"
git roar init -q --no-hooks
git fetch -q
t0=$(now) && git roar reindex -q && t1=$(now)
elapsed "$t0" "$t1" >"$dir/first"
"$bench" "$dir/up" 1000 10000 >/dev/null
git fetch -q
t0=$(now) && git roar reindex -q && t1=$(now)
elapsed "$t0" "$t1" >"$dir/incr"
# ... and the same through `git roar fetch` against a local note: a real merge commit of
# 1,000 notes, then the refresh of the cache (both refs moved).
git roar fetch -q
printf 'command echo local\ncwd .\nbase %s\ndirty 0\ntracer preload\nstart 2026-01-01T00:00:00.000Z\nend 2026-01-01T00:00:01.000Z\nexit 0\n' \
	"$(git rev-parse HEAD)" | "$mkpend" >/dev/null
git commit -q --allow-empty -m local && git roar attach -q
"$bench" "$dir/up" 1000 11000 >/dev/null
t0=$(now) && git roar fetch -q && t1=$(now)
elapsed "$t0" "$t1" >"$dir/fetch"
git rev-parse -q --verify refs/notes/roar^2 >/dev/null || { echo "fatal: no merge commit" >&2; exit 1; }
n=$(git notes --ref=roar list | wc -l)
[ "$n" -eq 12001 ] || { echo "fatal: $n notes after the merge, not 12001" >&2; exit 1; }

printf '| measurement | target | result |\n|---|---:|---:|\n'
printf '| notes writer, 10,000 (commit, record) pairs in one call (best of 3) | 5 s | %s s |\n' "$(cat "$dir/writer")"
printf '| `git roar attach` of one job with 10,000 notes present (median of 7) | 50 ms | %.0f ms |\n' "$(awk '{ print $1 * 1000 }' "$dir/attach")"
printf '| `git roar reindex` after `git fetch` of 1,000 new notes | 2 s | %s s |\n' "$(cat "$dir/incr")"
printf '| (first `git roar reindex` of 10,000 notes, for scale) | | %s s |\n' "$(cat "$dir/first")"
printf '| (`git roar fetch`: merge 1,000 notes with a local one, then reindex) | | %s s |\n' "$(cat "$dir/fetch")"
