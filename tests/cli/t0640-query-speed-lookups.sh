#!/bin/bash
# The lookups every query command makes before answering, in their cheap forms: the cache
# refresh writes nothing when no notes ref moved and pending/ lists what it listed, yet
# still follows every change and still warns; a blob id prefix is answered from the
# cache's blob ids (range scan) and git's objects, with objref's ambiguity rules.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-notes.sh"
. "$(dirname "$0")/lib-run.sh"

# count_writes: from now on, every row written to the cache's meta, pending and jobs
# tables adds a row to test_writes (triggers inside the cache itself, so writes by any
# process count). writes: how many so far.
count_writes() {
    /usr/bin/python3 - "$(git rev-parse --path-format=absolute --git-common-dir)/roar/cache.db" <<-\PY
	import sqlite3, sys
	db = sqlite3.connect(sys.argv[1])
	db.execute("CREATE TABLE test_writes (what TEXT)")
	for table in ("meta", "pending", "jobs"):
	    for op in ("INSERT", "UPDATE", "DELETE"):
	        db.execute(f"CREATE TRIGGER test_{table}_{op} AFTER {op} ON {table} "
	                   f"BEGIN INSERT INTO test_writes VALUES ('{op} {table}'); END")
	db.commit()
	PY
}
writes() {
    cache_query "SELECT count(*) FROM test_writes"
}

# blob_of NAME: the blob id of the content "NAME\n" (what pending_job NAME writes).
blob_of() {
    printf '%s\n' "$1" | git hash-object --stdin
}

# twins: two names whose pending_job outputs' blob ids share their first 4 hex digits.
twins() {
    /usr/bin/python3 - <<-\PY
	import hashlib
	seen = {}
	for i in range(1 << 20):
	    data = b"twin%d\n" % i
	    p = hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()[:4]
	    if p in seen:
	        print(seen[p], "twin%d" % i)
	        break
	    seen[p] = "twin%d" % i
	PY
}

test_expect_success 'nothing changed: queries write nothing to the cache' '
    git commit -q --allow-empty -m base &&
    a=$(pending_job alpha) &&
    git roar log >out 2>err &&
    test_grep "^${a:0:7} " out &&
    test_must_be_empty err &&
    count_writes &&
    git roar log >out &&
    git roar show ${a:0:8} >out &&
    test_grep "^job $a" out &&
    git roar status >/dev/null &&
    test "$(writes)" = 0
'

test_expect_success 'the pending listing still decides: new, removed and broken records' '
    git commit -q --allow-empty -m base &&
    a=$(pending_job alpha) &&
    git roar log >/dev/null &&
    count_writes &&
    b=$(pending_job beta) &&
    git roar log --pending >out &&
    test_grep "^${b:0:7} .*pending" out &&
    test "$(writes)" != 0 &&
    before=$(writes) &&
    git roar log >/dev/null &&
    test "$(writes)" = "$before" &&
    rm "$(git rev-parse --git-common-dir)/roar/pending/$a@main" &&
    git roar log --pending >out &&
    test_grep -v "^${a:0:7} " out &&
    test "$(cache_query "SELECT count(*) FROM jobs WHERE id = '"'"'$a'"'"'")" = 0 &&
    bad=.git/roar/pending/0123456789abcdef0123456789abcdef01234567@main &&
    printf "job 0123456789abcdef0123456789abcdef01234567\ncommand\n" >$bad &&
    git roar log >out 2>err &&
    test_grep "^warning: $(pwd)/$bad" err &&
    git roar log >out 2>err &&
    test_grep "^warning: $(pwd)/$bad" err &&
    test_grep "^${b:0:7} " out &&
    rm $bad &&
    git roar log >out 2>err &&
    test_must_be_empty err &&
    before=$(writes) &&
    git roar log >out 2>err &&
    test "$(writes)" = "$before"
'

test_expect_success 'a moved notes ref is followed; a garbage note warns on every query' '
    git commit -q --allow-empty -m base &&
    git commit -q --allow-empty -m work &&
    a=$(pending_job alpha HEAD~1) &&
    git roar attach -q &&
    git roar log >/dev/null &&
    count_writes &&
    git notes --ref=roar add -m "stray text" HEAD~1 &&
    git roar log >out 2>err &&
    test_grep "^warning: refs/notes/roar: note on $(git rev-parse HEAD~1)" err &&
    test_grep "^${a:0:7} " out &&
    before=$(writes) &&
    git roar log >out 2>err &&
    test_grep "^warning: refs/notes/roar: note on $(git rev-parse HEAD~1)" err &&
    test "$(writes)" = "$before"
'

test_expect_success 'a blob id named only by a job resolves by prefix, in either case' '
    git commit -q --allow-empty -m base &&
    a=$(pending_job alpha) &&
    b=$(blob_of alpha) &&
    test_must_fail git cat-file -e $b &&
    git roar show ${b:0:10} >out &&
    test_grep "^blob $b" out &&
    git roar show --json $(echo ${b:0:10} | tr a-f A-F) >j &&
    grep -q "\"id\":\"$b\"" j &&
    git roar lineage ${b:0:7} >out &&
    test_grep "${a:0:7}" out
'

test_expect_success 'blob prefixes: two named blobs are ambiguous, one id in both places is not' '
    git commit -q --allow-empty -m base &&
    set -- $(twins) &&
    x=$(blob_of $1) && y=$(blob_of $2) &&
    test "${x:0:4}" = "${y:0:4}" &&
    pending_job $1 >/dev/null &&
    pending_job $2 >/dev/null &&
    test_expect_code 128 git roar show ${x:0:4} 2>err &&
    test_grep "blob id prefix .${x:0:4}. is ambiguous" err &&
    test_grep "blob $x" err &&
    test_grep "blob $y" err &&
    git roar show ${x:0:12} >out &&
    test_grep "^blob $x" out &&
    printf "%s\n" $1 | git hash-object -w --stdin >/dev/null &&
    git roar show ${x:0:12} >out &&
    test_grep "^blob $x" out
'

test_expect_success 'blob prefixes: one in git objects and one named by a job are ambiguous' '
    git commit -q --allow-empty -m base &&
    set -- $(twins) &&
    x=$(blob_of $1) && y=$(blob_of $2) &&
    printf "%s\n" $1 | git hash-object -w --stdin >/dev/null &&
    pending_job $2 >/dev/null &&
    test_expect_code 128 git roar show ${x:0:4} 2>err &&
    test_grep "blob $x" err &&
    test_grep "blob $y" err
'

test_expect_success 'a blob no remaining job names is not found by prefix' '
    git commit -q --allow-empty -m base &&
    a=$(pending_job alpha) &&
    b=$(blob_of alpha) &&
    git roar show ${b:0:10} >/dev/null &&
    git roar drop -q $a &&
    test "$(cache_query "SELECT count(*) FROM artifacts WHERE id = '"'"'$b'"'"'")" = 1 &&
    test_expect_code 128 git roar show ${b:0:10} 2>err &&
    test_grep "not a file, a commit or a blob" err
'

test_done
