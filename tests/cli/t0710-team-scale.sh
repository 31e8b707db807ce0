#!/bin/bash
# A team-scale history (issue 15): bench/scale-gen.py's synthetic clone of 20,000 jobs
# (one note per run, 1-7 jobs a note, ~21 edges a job, a model rewritten in place,
# params.yaml read by 40% of jobs, git-ignored outputs). Asserts answers, never times
# (the timings are bench/scale.sh's): the fresh-clone index, the scope as HEAD moves
# back, forward and to a branch (the reachable set kept in the cache), log's pages,
# a full reindex, show and status. The expected answers come from an oracle below that
# reads the notes with stock git and applies SPEC §5.5 itself.
# ROAR_SCALE_JOBS sets the size (default 20000; 5000 in a sanitizer build, ~4x slower).
. "$(dirname "$0")/lib.sh"

jobs=${ROAR_SCALE_JOBS:-20000}
if test -z "${ROAR_SCALE_JOBS:-}" && grep -q '^ROAR_SANITIZE:BOOL=ON' "$ROAR_BUILD_DIR/CMakeCache.txt" 2>/dev/null; then
    jobs=5000
fi
hist=$TEST_ROOT/hist
clone=$TEST_ROOT/clone
/usr/bin/python3 "$ROAR_SOURCE_DIR/bench/scale-gen.py" "$jobs" "$hist" >/dev/null 2>&1 || exit 1
stat_of() { sed -n "s/^$1 //p" "$hist.stats"; }

# oracle REV: the abbreviated (7) ids of the jobs in REV's scope by SPEC §5.5 without
# the work tree (nothing ignored is materialised in these clones): attached to REV or
# an ancestor, or an output (path, blob id) that REV's tree holds. Sorted.
oracle() {
    /usr/bin/python3 - "$1" <<-\PY
	import subprocess, sys
	rev = sys.argv[1]
	def git(*a, data=None):
	    return subprocess.run(["git", *a], input=data, capture_output=True, check=True).stdout
	reach = set(git("rev-list", rev).decode().split())
	tree = {}
	for line in git("ls-tree", "-r", rev).decode().splitlines():
	    meta, path = line.split("\t", 1)
	    tree[path] = meta.split()[2]
	pairs = [l.split() for l in git("notes", "--ref=roar", "list").decode().splitlines()]
	blobs = git("cat-file", "--batch", data="".join(b + "\n" for b, _ in pairs).encode())
	inscope, pos = {}, 0
	for note, commit in pairs:
	    header_end = blobs.index(b"\n", pos)
	    size = int(blobs[pos:header_end].split()[2])
	    text = blobs[header_end + 1:header_end + 1 + size].decode()
	    pos = header_end + 1 + size + 1
	    for record in text.split("\n\n"):
	        lines = record.strip("\n").splitlines()
	        if not lines:
	            continue
	        job = next(l[4:] for l in lines if l.startswith("job "))
	        outs = [l.split(" ", 3) for l in lines if l.startswith("out ")]
	        if commit in reach or any(tree.get(p) == i for _, i, _, p in outs):
	            inscope[job] = job[:7]
	print("\n".join(sorted(inscope.values())))
	PY
}
log_ids() { git roar log | cut -d' ' -f1 | sort; }

test_expect_success "a fresh clone of $jobs jobs: init indexes every job, once" '
    git clone -q "$hist" "$clone" && cd "$clone" &&
    git roar init -q &&
    git roar log >"$TEST_ROOT/log.full" &&
    test $(wc -l <"$TEST_ROOT/log.full") -eq $(stat_of jobs) &&
    git roar log --json | /usr/bin/python3 -c "
import json, sys
print(len(set(j[\"id\"] for j in json.load(sys.stdin)[\"jobs\"])))" >distinct &&
    test $(cat distinct) -eq $(stat_of jobs) &&
    cut -d" " -f1 "$TEST_ROOT/log.full" | sort >ids &&
    oracle HEAD >expect && test_cmp expect ids &&
    git roar fsck >fsck 2>&1 && test_grep " 0 problems" fsck
'

test_expect_success 'log: newest first, and -n N is the head of the whole log across pages' '
    cd "$clone" &&
    cut -d" " -f3 "$TEST_ROOT/log.full" >ends && sort -r -c ends &&
    for n in 1 20 31 32 33 160 161 2000; do
        git roar log -n $n >got &&
        head -n $n "$TEST_ROOT/log.full" >want &&
        test_cmp want got || return 1
    done
'

test_expect_success 'HEAD moved back, forward and to a branch: the scope follows each move' '
    cd "$clone" &&
    git reset -q --hard HEAD~40 && oracle HEAD >expect && log_ids >got && test_cmp expect got &&
    test $(wc -l <got) -lt $(stat_of jobs) &&
    git reset -q --hard HEAD~7 && oracle HEAD >expect && log_ids >got && test_cmp expect got &&
    git reset -q --hard origin/main && oracle HEAD >expect && log_ids >got && test_cmp expect got &&
    test $(wc -l <got) -eq $(stat_of jobs) &&
    git checkout -q -b side HEAD~25 && git commit -q --allow-empty -m side &&
    oracle HEAD >expect && log_ids >got && test_cmp expect got &&
    git checkout -q main && oracle HEAD >expect && log_ids >got && test_cmp expect got
'

test_expect_success 'a log held by its pager keeps its scope while another worktree moves the kept set' '
    cd "$clone" &&
    git worktree add -q -b early "$TEST_ROOT/wt-side" $(git rev-list --max-parents=0 HEAD) &&
    (cd "$TEST_ROOT/wt-side" && oracle HEAD | sed "/^\$/d" >"$TEST_ROOT/side.expect") &&
    # The pager reads one line, lets the other worktree (at the root commit, which
    # reaches none of the jobs) rebuild the shared reachable set, then reads the rest:
    # past the pipe buffer, the log was blocked writing while that happened.
    cat >"$TEST_ROOT/pager" <<-EOF &&
	#!/bin/sh
	IFS= read -r first
	(cd "$TEST_ROOT/wt-side" && git roar log >"$TEST_ROOT/side.log")
	{ printf "%s\\n" "\$first"; cat; } >"$TEST_ROOT/paged"
	EOF
    chmod +x "$TEST_ROOT/pager" &&
    PAGER="$TEST_ROOT/pager" script -qec "git -c color.ui=false roar log" /dev/null </dev/null >/dev/null &&
    cut -d" " -f1 "$TEST_ROOT/side.log" | sort >side.got &&
    test_cmp "$TEST_ROOT/side.expect" side.got &&
    tr -d "\r" <"$TEST_ROOT/paged" >paged &&
    test_cmp "$TEST_ROOT/log.full" paged
'

test_expect_success 'reindex --full gives the same answers as the first index' '
    cd "$clone" &&
    git roar reindex --full -q &&
    git roar log >again && test_cmp "$TEST_ROOT/log.full" again
'

# writer_of PATH BLOB: the abbreviated id of the newest (end, start, id) job whose
# record says `out BLOB ... PATH` and that exited 0 (all jobs here are in scope).
writer_of() {
    /usr/bin/python3 - "$1" "$2" <<-\PY
	import subprocess, sys
	path, blob, best = sys.argv[1], sys.argv[2], None
	def git(*a, data=None):
	    return subprocess.run(["git", *a], input=data, capture_output=True, check=True).stdout
	pairs = [l.split() for l in git("notes", "--ref=roar", "list").decode().splitlines()]
	blobs = git("cat-file", "--batch", data="".join(b + "\n" for b, _ in pairs).encode())
	pos = 0
	for _ in pairs:
	    header_end = blobs.index(b"\n", pos)
	    size = int(blobs[pos:header_end].split()[2])
	    text = blobs[header_end + 1:header_end + 1 + size].decode()
	    pos = header_end + 1 + size + 1
	    for record in text.split("\n\n"):
	        f, outs = {}, []
	        for line in record.strip("\n").splitlines():
	            key, _, value = line.partition(" ")
	            if key == "out":
	                outs.append(value.split(" ", 2))
	            else:
	                f.setdefault(key, value)
	        if f.get("exit") == "0" and any(i == blob and p == path for i, _, p in outs):
	            k = (f["end"], f["start"], f["job"])
	            best = max(best, k) if best else k
	print(best[2][:7] if best else "")
	PY
}

test_expect_success 'show FILE names the newest writer of what HEAD holds' '
    cd "$clone" &&
    for f in $(stat_of sample-file) $(stat_of sample-result) models/model.pkl metrics.json; do
        blob=$(git rev-parse HEAD:"$f") && want=$(writer_of "$f" $blob) &&
        test -n "$want" &&
        git roar show "$f" >out && test_grep "blob $blob" out &&
        sed -n "/^produced by:/{n;p;}" out >first && test_grep "^  $want " first || return 1
    done
'

test_expect_success 'show of a file thousands of jobs read: every one listed, summarised on a terminal' '
    cd "$clone" &&
    git roar show params.yaml >all &&
    sed -n "/^consumed by:/,\$p" all | grep -c "^  [0-9a-f]\{7\} " >n &&
    test $(cat n) -ge $(stat_of shared-readers) &&
    git roar show --json params.yaml | /usr/bin/python3 -c "
import json, sys
print(len(json.load(sys.stdin)[\"consumed_by\"]))" >nj && test_cmp n nj &&
    PAGER=cat script -qec "git -c color.ui=false roar show params.yaml" /dev/null </dev/null >tty &&
    test_grep "^  \.\.\. and $(($(cat n) - 20)) more (--all lists every one)" tty &&
    test $(grep -c "^  [0-9a-f]\{7\} " tty) -eq 20 &&
    PAGER=cat script -qec "git -c color.ui=false roar show --all params.yaml" /dev/null </dev/null >tty-all &&
    test_grep -v "more (--all" tty-all
'

test_expect_success 'status over the materialised outputs: every output ok, none left out' '
    cd "$clone" &&
    /usr/bin/python3 "$ROAR_SOURCE_DIR/bench/scale-gen.py" --worktree . "$hist" >/dev/null 2>&1 &&
    git roar status >st && test_grep "^[0-9]* outputs: [0-9]* ok$" st &&
    n=$(sed -n "s/^\([0-9]*\) outputs: .*/\1/p" st) &&
    git roar status --all | grep -c "^ok " >oks && test $(cat oks) -eq $n &&
    test $n -ge $(stat_of ignored-out)
'

# The whole status reads every producer's edges in one pass and every job's scope
# facts at once; a status narrowed to one directory asks job by job. Both must judge
# each output alike, stale ones included.
test_expect_success 'an input changed: the whole status and narrowed ones judge alike' '
    cd "$clone" &&
    echo "changed: 1" >>params.yaml &&
    git roar status --all >whole &&
    grep -q "^stale " whole &&
    for dir in results/r00001 models; do
        git roar status --all "$dir" >part &&
        states="^(ok|unknown|stale|modified|missing) " &&
        grep -E "$states" whole | awk -v d="$dir/" "index(\$2, d) == 1" >expect &&
        grep -E "$states" part >got &&
        test -s got &&
        test_cmp expect got || return 1
    done &&
    git checkout -q params.yaml &&
    git roar status >st && test_grep "^[0-9]* outputs: [0-9]* ok$" st
'

# log reads in snapshots, which cannot write: the files it hashes to decide scope by
# content are written to the hash cache when each snapshot ends, so the next command
# does not hash them again. On an unborn branch every job is in scope by content only.
test_expect_success 'log keeps the hashes it took to decide scope by content' '
    cd "$clone" &&
    git checkout -q --orphan lonely &&
    rows() { /usr/bin/python3 -c "import sqlite3; print(sqlite3.connect(\".git/roar/cache.db\").execute(\"SELECT count(*) FROM hash_cache\").fetchone()[0])"; } &&
    /usr/bin/python3 -c "import sqlite3; c = sqlite3.connect(\".git/roar/cache.db\"); c.execute(\"DELETE FROM hash_cache\"); c.commit()" &&
    git roar log >log1 &&
    n=$(rows) && test "$n" -gt 0 &&
    git roar log >log2 && test_cmp log1 log2 &&
    test "$(rows)" -eq "$n" &&
    git checkout -q -f main
'

test_done
