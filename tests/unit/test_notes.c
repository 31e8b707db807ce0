/* Unit tests of src/gitstore/notes against real repositories and the git CLI: batch
 * writes with fanout, what stock git writes and reads, union merges, bad records, CAS. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <git2.h>

#include "gitstore/notes.h"
#include "gitstore/pending.h"
#include "gitstore/reindex.h"
#include "graph/cache.h"
#include "gitstore/repo.h"
#include "graph/oid.h"
#include "graph/record.h"
#include "util/err.h"

#include "testutil.h"

static char root[PATH_MAX];

typedef struct {
    char dir[PATH_MAX]; /* the repository's work tree */
    roar_repo *repo;
} fixture;

static long count_lines(const char *s)
{
    long n = 0;
    for (; *s; s++)
        n += *s == '\n';
    return n;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int group_setup(void **state)
{
    (void)state;

    if (roar_test_git_sandbox(root, "notes") < 0)
        return -1;
    setenv("LC_ALL", "C", 1);
    unsetenv("GIT_NOTES_REF");
    git_libgit2_init();
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    git_libgit2_shutdown();
    roar_test_sh("rm -rf '%s'", root);
    return 0;
}

static int setup(void **state)
{
    static unsigned counter;
    fixture *fx = calloc(1, sizeof(*fx));

    if (!fx)
        return -1;
    roar_test_fmt_path(fx->dir, sizeof(fx->dir), "%s/t%u", root, ++counter);
    roar_test_sh("git init -q -b main '%s' && cd '%s' && git commit -q --allow-empty -m first",
                 fx->dir, fx->dir);
    if (roar_repo_open(&fx->repo, fx->dir) < 0)
        return -1;
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    fixture *fx = *state;
    roar_repo_free(fx->repo);
    roar_test_sh("rm -rf '%s'", fx->dir);
    free(fx);
    return 0;
}

/* A commit of the fixture's repository: one new empty commit per call. */
static void new_commit(char out[ROAR_OID_HEXSZ + 1], fixture *fx, const char *msg)
{
    char line[128];
    roar_test_sh("cd '%s' && git commit -q --allow-empty -m '%s'", fx->dir, msg);
    roar_test_sh_line(line, sizeof(line), "git -C '%s' rev-parse HEAD", fx->dir);
    assert_int_equal(strlen(line), ROAR_OID_HEXSZ);
    memcpy(out, line, ROAR_OID_HEXSZ + 1);
}

/* A fake object id (notes may annotate ids the object db does not hold). */
static void fake_id(char out[ROAR_OID_HEXSZ + 1], unsigned i)
{
    char text[32];
    snprintf(text, sizeof(text), "object %u", i);
    assert_int_equal(roar_blob_id_of_buffer(out, text, strlen(text)), 0);
}

/* A small job whose record differs with n; its id lands in job->id via the note. */
static void add_job(roar_note *note, unsigned n, int64_t start_ms)
{
    roar_job job;
    char arg[32], path[64], id[ROAR_OID_HEXSZ + 1];
    const char *argv[3] = {"python3", "train.py", arg};

    roar_job_init(&job);
    snprintf(arg, sizeof(arg), "--seed=%u", n);
    snprintf(path, sizeof(path), "out/model-%u.bin", n);
    assert_int_equal(roar_job_set_argv(&job, argv, 3), 0);
    job.cwd = strdup(".");
    job.tracer = strdup("preload");
    job.dirty = 0;
    job.start_ms = start_ms;
    job.end_ms = start_ms + 1000;
    fake_id(id, n + 1000000);
    assert_int_equal(roar_job_add_edge(&job, ROAR_ROLE_OUT, path, id, 42), 0);
    assert_int_equal(roar_note_add_job(note, &job), 0);
    roar_job_dispose(&job);
}

static void notes_ref(fixture *fx, roar_buf *ref)
{
    assert_int_equal(roar_notes_ref(ref, fx->repo), 0);
}

/* ---- tests ---------------------------------------------------------------------- */

static void test_ref_name_from_config(void **state)
{
    fixture *fx = *state;
    roar_buf ref = ROAR_BUF_INIT;

    notes_ref(fx, &ref);
    assert_string_equal(ref.ptr, "refs/notes/roar");
    roar_test_sh("git -C '%s' config roar.notesRef lineage", fx->dir);
    notes_ref(fx, &ref);
    assert_string_equal(ref.ptr, "refs/notes/lineage");
    roar_test_sh("git -C '%s' config roar.notesRef notes/x", fx->dir);
    notes_ref(fx, &ref);
    assert_string_equal(ref.ptr, "refs/notes/x");
    roar_test_sh("git -C '%s' config roar.notesRef refs/notes/team/roar", fx->dir);
    notes_ref(fx, &ref);
    assert_string_equal(ref.ptr, "refs/notes/team/roar");
    roar_test_sh("git -C '%s' config roar.notesRef 'bad..name'", fx->dir);
    assert_int_equal(roar_notes_ref(&ref, fx->repo), ROAR_EINVALID);
    roar_buf_dispose(&ref);
}

/* 10,000 (commit, record) pairs in one call within the 5 s; stock git then
 * lists and shows every note through the 2/38 fanout. */
static void test_ten_thousand_in_one_call(void **state)
{
    enum { N = 10000 };
    fixture *fx = *state;
    roar_note *notes = calloc(N, sizeof(*notes));
    roar_notes_edit *edits = calloc(N, sizeof(*edits));
    roar_notes_update up;
    roar_buf want = ROAR_BUF_INIT;
    char *out, tip[ROAR_OID_HEXSZ + 1];
    double t0, dt;
    unsigned i;

    assert_non_null(notes);
    assert_non_null(edits);
    for (i = 0; i < N; i++) {
        roar_note_init(&notes[i]);
        add_job(&notes[i], i, 1700000000000 + i);
        fake_id(edits[i].object, i);
        edits[i].add = &notes[i];
    }
    t0 = now_s();
    assert_int_equal(roar_notes_write(&up, fx->repo, "refs/notes/roar", edits, N,
                                      "Notes added by 'git roar attach'", NULL, NULL),
                     0);
    dt = now_s() - t0;
    /* Speed is measured in bench/notes.sh, never asserted here (a loaded machine
     * would fail a correct build); this test checks what was written. */
    print_message("notes write: %d notes in %.2f s\n", N, dt);
    assert_true(up.changed);
    assert_false(up.had_old);
    git_oid_tostr(tip, sizeof(tip), &up.new_tip);

    out = roar_test_sh_all("git -C '%s' notes --ref=roar list | wc -l", fx->dir);
    assert_int_equal(atol(out), N);
    free(out);
    /* Fanned out: the root holds only the 256 two-digit subtrees. */
    out = roar_test_sh_all("git -C '%s' ls-tree refs/notes/roar | "
                           "awk '$2 == \"tree\" && $4 ~ /^[0-9a-f][0-9a-f]$/' | wc -l",
                           fx->dir);
    assert_int_equal(atol(out), 256);
    free(out);
    out = roar_test_sh_all("git -C '%s' ls-tree refs/notes/roar | wc -l", fx->dir);
    assert_int_equal(atol(out), 256);
    free(out);
    /* One commit, no parent. */
    out = roar_test_sh_all("git -C '%s' rev-list refs/notes/roar | wc -l", fx->dir);
    assert_int_equal(atol(out), 1);
    free(out);
    for (i = 0; i < N; i += 997) {
        assert_int_equal(roar_note_serialize(&want, &notes[i]), 0);
        out = roar_test_sh_all("git -C '%s' notes --ref=roar show %s", fx->dir, edits[i].object);
        assert_string_equal(out, want.ptr);
        free(out);
        roar_buf_clear(&want);
    }
    for (i = 0; i < N; i++)
        roar_note_dispose(&notes[i]);
    roar_buf_dispose(&want);
    free(notes);
    free(edits);
}

/* A note written by stock `git notes add` reads back as its record. */
static void test_reads_note_from_stock_git(void **state)
{
    fixture *fx = *state;
    roar_note mine, read;
    roar_buf text = ROAR_BUF_INIT;
    char commit[ROAR_OID_HEXSZ + 1], file[PATH_MAX];
    git_oid tip;
    FILE *f;

    new_commit(commit, fx, "second");
    roar_note_init(&mine);
    roar_note_init(&read);
    add_job(&mine, 1, 1700000000000);
    assert_int_equal(roar_note_serialize(&text, &mine), 0);
    roar_test_fmt_path(file, sizeof(file), "%s/../record-%d", fx->dir, (int)getpid());
    f = fopen(file, "w");
    assert_non_null(f);
    fwrite(text.ptr, 1, text.size, f);
    fclose(f);
    roar_test_sh("git -C '%s' notes --ref=roar add -F '%s' %s", fx->dir, file, commit);

    assert_int_equal(roar_notes_tip(&tip, fx->repo, "refs/notes/roar"), 0);
    assert_int_equal(roar_notes_read(&read, fx->repo, &tip, commit, NULL, NULL), 0);
    assert_int_equal(read.count, 1);
    assert_string_equal(read.records[0].job.id, mine.records[0].job.id);
    assert_string_equal(read.records[0].text, mine.records[0].text);

    /* Another commit has no note. */
    roar_note_dispose(&read);
    roar_note_init(&read);
    roar_test_sh_line(commit, sizeof(commit), "git -C '%s' rev-parse HEAD~1", fx->dir);
    assert_int_equal(roar_notes_read(&read, fx->repo, &tip, commit, NULL, NULL), ROAR_ENOTFOUND);
    assert_int_equal(read.count, 0);

    unlink(file);
    roar_buf_dispose(&text);
    roar_note_dispose(&mine);
    roar_note_dispose(&read);
}

static void write_file(const char *path, const char *text, size_t len)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    assert_int_equal(fwrite(text, 1, len, f), len);
    fclose(f);
}

/* `git notes merge -s union` and `git notes append` (concatenation, as
 * notes.rewriteMode=concatenate does) give notes that read as the deduplicated set. */
static void test_reads_union_and_concatenated_notes(void **state)
{
    fixture *fx = *state;
    roar_note a, b, read;
    roar_buf ta = ROAR_BUF_INIT, tb = ROAR_BUF_INIT;
    char commit[ROAR_OID_HEXSZ + 1], fa[PATH_MAX], fb[PATH_MAX];
    char *shown;
    git_oid tip;

    new_commit(commit, fx, "second");
    roar_note_init(&a);
    roar_note_init(&b);
    roar_note_init(&read);
    add_job(&a, 1, 1700000000000);
    add_job(&b, 2, 1700000005000);
    assert_int_equal(roar_note_serialize(&ta, &a), 0);
    assert_int_equal(roar_note_serialize(&tb, &b), 0);
    roar_test_fmt_path(fa, sizeof(fa), "%s/../a-%d", fx->dir, (int)getpid());
    roar_test_fmt_path(fb, sizeof(fb), "%s/../b-%d", fx->dir, (int)getpid());
    write_file(fa, ta.ptr, ta.size);
    write_file(fb, tb.ptr, tb.size);

    /* Ours: A. Theirs: A then B (an append). Union merge: A, A, B's lines. */
    roar_test_sh(
        "cd '%s' && git notes --ref=roar add -F '%s' %s && "
        "git notes --ref=theirs add -F '%s' %s && git notes --ref=theirs append -F '%s' %s && "
        "git notes --ref=roar merge -q -s union refs/notes/theirs",
        fx->dir, fa, commit, fa, commit, fb, commit);
    shown =
        roar_test_sh_all("git -C '%s' notes --ref=roar show %s | grep -c '^job '", fx->dir, commit);
    assert_true(atol(shown) >= 2);
    free(shown);

    assert_int_equal(roar_notes_tip(&tip, fx->repo, "refs/notes/roar"), 0);
    assert_int_equal(roar_notes_read(&read, fx->repo, &tip, commit, NULL, NULL), 0);
    assert_int_equal(read.count, 2);
    assert_non_null(roar_note_find(&read, a.records[0].job.id));
    assert_non_null(roar_note_find(&read, b.records[0].job.id));

    /* Append the same record again: still two. */
    roar_test_sh("git -C '%s' notes --ref=roar append -F '%s' %s", fx->dir, fa, commit);
    roar_note_dispose(&read);
    roar_note_init(&read);
    assert_int_equal(roar_notes_tip(&tip, fx->repo, "refs/notes/roar"), 0);
    assert_int_equal(roar_notes_read(&read, fx->repo, &tip, commit, NULL, NULL), 0);
    assert_int_equal(read.count, 2);

    unlink(fa);
    unlink(fb);
    roar_buf_dispose(&ta);
    roar_buf_dispose(&tb);
    roar_note_dispose(&a);
    roar_note_dispose(&b);
    roar_note_dispose(&read);
}

/* Stock git shows what we write: git log --notes=roar, git notes list. */
static void test_stock_git_reads_our_notes(void **state)
{
    fixture *fx = *state;
    roar_note n1, n2;
    roar_notes_edit edits[2];
    char c1[ROAR_OID_HEXSZ + 1], c2[ROAR_OID_HEXSZ + 1], want[128];
    char *out;

    new_commit(c1, fx, "one");
    new_commit(c2, fx, "two");
    roar_note_init(&n1);
    roar_note_init(&n2);
    add_job(&n1, 1, 1700000000000);
    add_job(&n1, 2, 1700000001000);
    add_job(&n2, 3, 1700000002000);
    memset(edits, 0, sizeof(edits));
    memcpy(edits[0].object, c1, sizeof(c1));
    edits[0].add = &n1;
    memcpy(edits[1].object, c2, sizeof(c2));
    edits[1].add = &n2;
    assert_int_equal(roar_notes_write(NULL, fx->repo, "refs/notes/roar", edits, 2,
                                      "Notes added by 'git roar attach'", NULL, NULL),
                     0);

    out = roar_test_sh_all("git -C '%s' log --notes=roar --format='%%H%%n%%N' -2", fx->dir);
    snprintf(want, sizeof(want), "job %s\n", n1.records[0].job.id);
    assert_non_null(strstr(out, want));
    snprintf(want, sizeof(want), "job %s\n", n1.records[1].job.id);
    assert_non_null(strstr(out, want));
    snprintf(want, sizeof(want), "job %s\n", n2.records[0].job.id);
    assert_non_null(strstr(out, want));
    free(out);

    out = roar_test_sh_all("git -C '%s' notes --ref=roar list", fx->dir);
    assert_int_equal(count_lines(out), 2);
    assert_non_null(strstr(out, c1));
    assert_non_null(strstr(out, c2));
    free(out);
    /* The notes commit has an author and message git accepts. */
    out =
        roar_test_sh_all("git -C '%s' log -1 --format='%%cn <%%ce>|%%s' refs/notes/roar", fx->dir);
    assert_string_equal(out,
                        "C O Mitter <committer@example.com>|Notes added by 'git roar attach'\n");
    free(out);
    roar_test_sh("git -C '%s' fsck --no-progress --strict >/dev/null 2>&1", fx->dir);

    roar_note_dispose(&n1);
    roar_note_dispose(&n2);
}

/* Writes notes on fake ids [from, to) one call each or in one call. */
static void write_range(fixture *fx, unsigned from, unsigned to)
{
    unsigned i, n = to - from;
    roar_note *notes = calloc(n, sizeof(*notes));
    roar_notes_edit *edits = calloc(n, sizeof(*edits));

    for (i = 0; i < n; i++) {
        roar_note_init(&notes[i]);
        add_job(&notes[i], from + i, 1700000000000 + from + i);
        fake_id(edits[i].object, from + i);
        edits[i].add = &notes[i];
    }
    assert_int_equal(
        roar_notes_write(NULL, fx->repo, "refs/notes/roar", edits, n, "add", NULL, NULL), 0);
    for (i = 0; i < n; i++)
        roar_note_dispose(&notes[i]);
    free(notes);
    free(edits);
}

/* Flat up to 256 notes, 2/38 past that, as SPEC §5.3 says; stock git reads both, and a
 * later write rewrites only the subtree it touches. */
static void test_fanout_past_256(void **state)
{
    fixture *fx = *state;
    char *out, old_tip[ROAR_OID_HEXSZ + 1];
    char id[ROAR_OID_HEXSZ + 1];
    roar_note read;
    git_oid tip;
    unsigned i;

    write_range(fx, 0, 200);
    write_range(fx, 200, 256);
    out =
        roar_test_sh_all("git -C '%s' ls-tree refs/notes/roar | grep -c '^100644 blob '", fx->dir);
    assert_int_equal(atol(out), 256);
    free(out);

    write_range(fx, 256, 257);
    out = roar_test_sh_all("git -C '%s' ls-tree refs/notes/roar | grep -vc '^040000 tree ' || true",
                           fx->dir);
    assert_int_equal(atol(out), 0);
    free(out);
    out = roar_test_sh_all("git -C '%s' ls-tree -r --name-only refs/notes/roar | "
                           "grep -c '^[0-9a-f][0-9a-f]/[0-9a-f]\\{38\\}$'",
                           fx->dir);
    assert_int_equal(atol(out), 257);
    free(out);
    out = roar_test_sh_all("git -C '%s' notes --ref=roar list | wc -l", fx->dir);
    assert_int_equal(atol(out), 257);
    free(out);

    /* Every note still reads, with us and with git. */
    assert_int_equal(roar_notes_tip(&tip, fx->repo, "refs/notes/roar"), 0);
    for (i = 0; i < 257; i += 16) {
        roar_note_init(&read);
        fake_id(id, i);
        assert_int_equal(roar_notes_read(&read, fx->repo, &tip, id, NULL, NULL), 0);
        assert_int_equal(read.count, 1);
        roar_note_dispose(&read);
        out = roar_test_sh_all("git -C '%s' notes --ref=roar show %s | head -1 | awk '{print $1}'",
                               fx->dir, id);
        assert_string_equal(out, "job\n");
        free(out);
    }

    /* One more note touches one note path and one subtree. */
    git_oid_tostr(old_tip, sizeof(old_tip), &tip);
    write_range(fx, 257, 258);
    out = roar_test_sh_all("git -C '%s' diff-tree -r --name-only %s refs/notes/roar | wc -l",
                           fx->dir, old_tip);
    assert_int_equal(atol(out), 1);
    free(out);
    out = roar_test_sh_all("git -C '%s' diff-tree --name-only %s refs/notes/roar | wc -l", fx->dir,
                           old_tip);
    assert_int_equal(atol(out), 1);
    free(out);
}

typedef struct {
    char object[ROAR_OID_HEXSZ + 1];
    size_t line, record_line;
    int calls;
} problem_log;

static int log_problem(const roar_notes_problem *p, void *payload)
{
    problem_log *log = payload;
    memcpy(log->object, p->object, ROAR_OID_HEXSZ + 1);
    log->line = p->line;
    log->record_line = p->record_line;
    log->calls++;
    return 0;
}

/* A bad record inside a note is reported with the commit and its line; the rest load,
 * and rewriting the note keeps the bad part verbatim. */
static void test_bad_record_reported_rest_loads(void **state)
{
    fixture *fx = *state;
    roar_note a, b, c, read;
    roar_notes_edit edit;
    roar_buf text = ROAR_BUF_INIT, ta = ROAR_BUF_INIT;
    problem_log log;
    char commit[ROAR_OID_HEXSZ + 1], file[PATH_MAX];
    size_t junk_line;
    char *out;
    git_oid tip;

    new_commit(commit, fx, "second");
    roar_note_init(&a);
    roar_note_init(&b);
    roar_note_init(&c);
    roar_note_init(&read);
    add_job(&a, 1, 1700000000000);
    add_job(&b, 2, 1700000001000);
    add_job(&c, 3, 1700000002000);
    assert_int_equal(roar_note_serialize(&text, &a), 0);
    junk_line = (size_t)count_lines(text.ptr) + 2;
    assert_int_equal(roar_buf_puts(&text, "\nthis is not a record\n\n"), 0);
    assert_int_equal(roar_note_serialize(&ta, &b), 0);
    assert_int_equal(roar_buf_put(&text, ta.ptr, ta.size), 0);
    roar_test_fmt_path(file, sizeof(file), "%s/../bad-%d", fx->dir, (int)getpid());
    write_file(file, text.ptr, text.size);
    roar_test_sh("git -C '%s' notes --ref=roar add -F '%s' %s", fx->dir, file, commit);

    memset(&log, 0, sizeof(log));
    assert_int_equal(roar_notes_tip(&tip, fx->repo, "refs/notes/roar"), 0);
    assert_int_equal(roar_notes_read(&read, fx->repo, &tip, commit, log_problem, &log), 0);
    assert_int_equal(read.count, 2);
    assert_int_equal(log.calls, 1);
    assert_string_equal(log.object, commit);
    assert_int_equal(log.line, junk_line);
    assert_int_equal(log.record_line, junk_line);

    /* Add C: A, B, C sorted, then the unreadable part, kept. */
    memset(&edit, 0, sizeof(edit));
    memcpy(edit.object, commit, sizeof(commit));
    edit.add = &c;
    memset(&log, 0, sizeof(log));
    assert_int_equal(
        roar_notes_write(NULL, fx->repo, "refs/notes/roar", &edit, 1, "add", log_problem, &log), 0);
    assert_int_equal(log.calls, 1);
    out = roar_test_sh_all("git -C '%s' notes --ref=roar show %s", fx->dir, commit);
    assert_non_null(strstr(out, "\n\nthis is not a record\n"));
    assert_int_equal(strstr(out, a.records[0].text) - out, 0);
    assert_non_null(strstr(out, b.records[0].text));
    assert_non_null(strstr(out, c.records[0].text));
    assert_true(strstr(out, c.records[0].text) < strstr(out, "this is not"));
    free(out);

    unlink(file);
    roar_buf_dispose(&text);
    roar_buf_dispose(&ta);
    roar_note_dispose(&a);
    roar_note_dispose(&b);
    roar_note_dispose(&c);
    roar_note_dispose(&read);
}

/* Removing job ids: a note keeps its other records; an emptied note disappears. */
static void test_remove_records(void **state)
{
    fixture *fx = *state;
    roar_note n;
    roar_notes_edit edit;
    char commit[ROAR_OID_HEXSZ + 1], first[ROAR_OID_HEXSZ + 1], second[ROAR_OID_HEXSZ + 1];
    const char *ids[1];
    char *out;

    new_commit(commit, fx, "second");
    roar_note_init(&n);
    add_job(&n, 1, 1700000000000);
    add_job(&n, 2, 1700000001000);
    memcpy(first, n.records[0].job.id, sizeof(first));
    memcpy(second, n.records[1].job.id, sizeof(second));
    memset(&edit, 0, sizeof(edit));
    memcpy(edit.object, commit, sizeof(commit));
    edit.add = &n;
    assert_int_equal(
        roar_notes_write(NULL, fx->repo, "refs/notes/roar", &edit, 1, "add", NULL, NULL), 0);

    edit.add = NULL;
    ids[0] = first;
    edit.remove = ids;
    edit.remove_count = 1;
    assert_int_equal(
        roar_notes_write(NULL, fx->repo, "refs/notes/roar", &edit, 1, "remove", NULL, NULL), 0);
    out = roar_test_sh_all("git -C '%s' notes --ref=roar show %s", fx->dir, commit);
    assert_null(strstr(out, first));
    assert_non_null(strstr(out, second));
    free(out);

    ids[0] = second;
    assert_int_equal(
        roar_notes_write(NULL, fx->repo, "refs/notes/roar", &edit, 1, "remove", NULL, NULL), 0);
    out = roar_test_sh_all("git -C '%s' notes --ref=roar list | wc -l", fx->dir);
    assert_int_equal(atol(out), 0);
    free(out);
    roar_note_dispose(&n);
}

typedef struct {
    int changes;
    int added, removed, modified;
} diff_count;

static int count_change(const roar_notes_change *c, void *payload)
{
    diff_count *d = payload;
    d->changes++;
    if (!c->old_count)
        d->added++;
    else if (!c->new_count)
        d->removed++;
    else
        d->modified++;
    return 0;
}

/* The diff reports only what changed, across a flat -> fanned conversion too. */
static void test_diff_across_fanout(void **state)
{
    fixture *fx = *state;
    git_oid t1, t2;
    diff_count d;

    write_range(fx, 0, 200);
    assert_int_equal(roar_notes_tip(&t1, fx->repo, "refs/notes/roar"), 0);
    write_range(fx, 200, 300); /* converts to 2/38 */
    assert_int_equal(roar_notes_tip(&t2, fx->repo, "refs/notes/roar"), 0);

    memset(&d, 0, sizeof(d));
    assert_int_equal(roar_notes_diff(fx->repo, &t1, &t2, count_change, &d), 0);
    assert_int_equal(d.changes, 100);
    assert_int_equal(d.added, 100);
    memset(&d, 0, sizeof(d));
    assert_int_equal(roar_notes_diff(fx->repo, &t2, &t1, count_change, &d), 0);
    assert_int_equal(d.removed, 100);
    assert_int_equal(d.changes, 100);
    memset(&d, 0, sizeof(d));
    assert_int_equal(roar_notes_diff(fx->repo, NULL, &t2, count_change, &d), 0);
    assert_int_equal(d.added, 300);
    memset(&d, 0, sizeof(d));
    assert_int_equal(roar_notes_diff(fx->repo, &t2, &t2, count_change, &d), 0);
    assert_int_equal(d.changes, 0);
}

/* Merge: union note by note across fanouts, both tips as parents; fast-forward and
 * up-to-date cases; never drops a local record. */
static void test_merge(void **state)
{
    fixture *fx = *state;
    roar_note mine, theirs, read;
    roar_notes_edit edit;
    roar_notes_merge_result res;
    char commit[ROAR_OID_HEXSZ + 1], base_hex[ROAR_OID_HEXSZ + 1], *out;
    git_oid base, their_tip, our_tip;

    new_commit(commit, fx, "second");
    write_range(fx, 0, 10);
    assert_int_equal(roar_notes_tip(&base, fx->repo, "refs/notes/roar"), 0);
    git_oid_tostr(base_hex, sizeof(base_hex), &base);

    /* Theirs: base + 300 notes (fanned) + B on commit. */
    write_range(fx, 10, 310);
    roar_note_init(&theirs);
    add_job(&theirs, 7001, 1700000009000);
    memset(&edit, 0, sizeof(edit));
    memcpy(edit.object, commit, sizeof(commit));
    edit.add = &theirs;
    assert_int_equal(
        roar_notes_write(NULL, fx->repo, "refs/notes/roar", &edit, 1, "theirs", NULL, NULL), 0);
    assert_int_equal(roar_notes_tip(&their_tip, fx->repo, "refs/notes/roar"), 0);

    /* Ours: back at base (flat), + A on commit. */
    roar_test_sh("git -C '%s' update-ref refs/notes/roar %s", fx->dir, base_hex);
    roar_note_init(&mine);
    add_job(&mine, 7000, 1700000008000);
    edit.add = &mine;
    assert_int_equal(
        roar_notes_write(NULL, fx->repo, "refs/notes/roar", &edit, 1, "ours", NULL, NULL), 0);
    assert_int_equal(roar_notes_tip(&our_tip, fx->repo, "refs/notes/roar"), 0);

    assert_int_equal(
        roar_notes_merge(&res, fx->repo, "refs/notes/roar", &their_tip, "merge", NULL, NULL), 0);
    assert_int_equal(res.kind, ROAR_NOTES_MERGED);
    assert_true(res.update.changed);
    assert_true(git_oid_equal(&res.update.old_tip, &our_tip));
    out = roar_test_sh_all("git -C '%s' rev-parse refs/notes/roar^1 refs/notes/roar^2", fx->dir);
    {
        char want[2 * (ROAR_OID_HEXSZ + 1) + 1];
        char a[ROAR_OID_HEXSZ + 1], b[ROAR_OID_HEXSZ + 1];
        git_oid_tostr(a, sizeof(a), &our_tip);
        git_oid_tostr(b, sizeof(b), &their_tip);
        snprintf(want, sizeof(want), "%s\n%s\n", a, b);
        assert_string_equal(out, want);
    }
    free(out);
    out = roar_test_sh_all("git -C '%s' notes --ref=roar list | wc -l", fx->dir);
    assert_int_equal(atol(out), 311);
    free(out);
    roar_note_init(&read);
    assert_int_equal(roar_notes_tip(&our_tip, fx->repo, "refs/notes/roar"), 0);
    assert_int_equal(roar_notes_read(&read, fx->repo, &our_tip, commit, NULL, NULL), 0);
    assert_int_equal(read.count, 2);
    assert_non_null(roar_note_find(&read, mine.records[0].job.id));
    assert_non_null(roar_note_find(&read, theirs.records[0].job.id));
    /* Sorted by start: ours (earlier) first. */
    assert_string_equal(read.records[0].job.id, mine.records[0].job.id);
    roar_note_dispose(&read);

    /* Merging theirs again: up to date. */
    assert_int_equal(
        roar_notes_merge(&res, fx->repo, "refs/notes/roar", &their_tip, "merge", NULL, NULL), 0);
    assert_int_equal(res.kind, ROAR_NOTES_UP_TO_DATE);
    assert_false(res.update.changed);

    /* Fast-forward: a ref at base takes theirs as is. */
    roar_test_sh("git -C '%s' update-ref refs/notes/other %s", fx->dir, base_hex);
    assert_int_equal(
        roar_notes_merge(&res, fx->repo, "refs/notes/other", &their_tip, "merge", NULL, NULL), 0);
    assert_int_equal(res.kind, ROAR_NOTES_FAST_FORWARD);
    out = roar_test_sh_all("git -C '%s' rev-parse refs/notes/other", fx->dir);
    {
        char b[ROAR_OID_HEXSZ + 2];
        git_oid_tostr(b, ROAR_OID_HEXSZ + 1, &their_tip);
        strcat(b, "\n");
        assert_string_equal(out, b);
    }
    free(out);
    /* A missing ref is created at theirs. */
    assert_int_equal(
        roar_notes_merge(&res, fx->repo, "refs/notes/new", &their_tip, "merge", NULL, NULL), 0);
    assert_int_equal(res.kind, ROAR_NOTES_FAST_FORWARD);

    roar_note_dispose(&mine);
    roar_note_dispose(&theirs);
}

/* Forks a process that writes notes first..first+count-1 to `ref` in the repository at
 * dir, one call each, and exits 0 when every write succeeded. With a gate (a pipe), it
 * starts writing only once the parent has closed the pipe's write end. */
static pid_t spawn_writer(const char *dir, const char *ref, unsigned first, unsigned count,
                          const int *gate)
{
    pid_t pid = fork();
    roar_repo *repo = NULL;
    unsigned i;
    int rc = 0;
    char c;

    assert_true(pid >= 0);
    if (pid > 0)
        return pid;
    if (roar_repo_open(&repo, dir) < 0)
        _exit(2);
    if (gate) {
        close(gate[1]);
        (void)!read(gate[0], &c, 1); /* EOF once the parent closes its end */
    }
    for (i = first; i < first + count && rc == 0; i++) {
        roar_note n;
        roar_notes_edit edit;
        roar_note_init(&n);
        add_job(&n, i, 1700000000000);
        memset(&edit, 0, sizeof(edit));
        fake_id(edit.object, i);
        edit.add = &n;
        rc = roar_notes_write(NULL, repo, ref, &edit, 1, "add", NULL, NULL);
        roar_note_dispose(&n);
    }
    roar_repo_free(repo);
    _exit(rc == 0 ? 0 : 1);
}

static void wait_writers(const pid_t *pids, int n)
{
    int p, status;
    for (p = 0; p < n; p++) {
        assert_int_equal(waitpid(pids[p], &status, 0), pids[p]);
        assert_true(WIFEXITED(status));
        assert_int_equal(WEXITSTATUS(status), 0);
    }
}

/* Eight processes writing twenty notes each, one call per note, on one ref: every
 * note is there (compare-and-swap with retry). */
static void test_concurrent_writers(void **state)
{
    enum { PROCS = 8, EACH = 20 };
    fixture *fx = *state;
    pid_t pids[PROCS];
    int p;
    char *out;

    for (p = 0; p < PROCS; p++)
        pids[p] = spawn_writer(fx->dir, "refs/notes/roar", (unsigned)p * 1000, EACH, NULL);
    wait_writers(pids, PROCS);
    out = roar_test_sh_all("git -C '%s' notes --ref=roar list | wc -l", fx->dir);
    assert_int_equal(atol(out), PROCS * EACH);
    free(out);
    out = roar_test_sh_all("git -C '%s' rev-list refs/notes/roar | wc -l", fx->dir);
    assert_int_equal(atol(out), PROCS * EACH);
    free(out);
}

/* Writers racing to create the notes ref: exactly one creates it, the others see it
 * exists and retry on top of it, so no first note is lost. Each round starts all
 * writers at once (they block on a pipe until the parent closes it). */
static void test_concurrent_first_writers(void **state)
{
    enum { PROCS = 6, ROUNDS = 8 };
    fixture *fx = *state;
    int round;

    for (round = 0; round < ROUNDS; round++) {
        pid_t pids[PROCS];
        int gate[2], p;
        char ref[64], *out;

        snprintf(ref, sizeof(ref), "refs/notes/first%d", round);
        assert_int_equal(pipe(gate), 0);
        for (p = 0; p < PROCS; p++)
            pids[p] = spawn_writer(fx->dir, ref, (unsigned)p, 1, gate);
        close(gate[0]);
        close(gate[1]);
        wait_writers(pids, PROCS);
        out = roar_test_sh_all("git -C '%s' notes --ref=%s list | wc -l", fx->dir, ref);
        assert_int_equal(atol(out), PROCS);
        free(out);
    }
}

/* Without user.name and GIT_COMMITTER_*, a notes commit still gets a committer. */
static void test_committer_without_identity(void **state)
{
    fixture *fx = *state;
    char *name = strdup(getenv("GIT_COMMITTER_NAME")),
         *email = strdup(getenv("GIT_COMMITTER_EMAIL"));
    char *out;

    unsetenv("GIT_COMMITTER_NAME");
    unsetenv("GIT_COMMITTER_EMAIL");
    unsetenv("EMAIL");
    write_range(fx, 0, 1);
    setenv("GIT_COMMITTER_NAME", name, 1);
    setenv("GIT_COMMITTER_EMAIL", email, 1);
    out = roar_test_sh_all("git -C '%s' log -1 --format='%%cn <%%ce>' refs/notes/roar", fx->dir);
    assert_string_equal(out, "git roar <git-roar@localhost>\n");
    free(out);
    free(name);
    free(email);
}

/* Nothing to change: no commit. */
static void test_no_change_no_commit(void **state)
{
    fixture *fx = *state;
    roar_note n;
    roar_notes_edit edit;
    roar_notes_update up;

    roar_note_init(&n);
    add_job(&n, 1, 1700000000000);
    memset(&edit, 0, sizeof(edit));
    fake_id(edit.object, 1);
    edit.add = &n;
    assert_int_equal(
        roar_notes_write(&up, fx->repo, "refs/notes/roar", &edit, 1, "add", NULL, NULL), 0);
    assert_true(up.changed);
    assert_int_equal(
        roar_notes_write(&up, fx->repo, "refs/notes/roar", &edit, 1, "add", NULL, NULL), 0);
    assert_false(up.changed);
    assert_true(git_oid_equal(&up.old_tip, &up.new_tip));
    roar_note_dispose(&n);
}

/* ---- reindex: the cache follows notes refs and pending/ -------------------------- */

static size_t attachment_count(roar_cache *cache, const char *job)
{
    roar_cache_id_list l = ROAR_CACHE_ID_LIST_INIT;
    size_t n;
    int rc = roar_cache_attachments(&l, cache, job);
    assert_true(rc == 0 || rc == ROAR_ENOTFOUND);
    n = l.count;
    roar_cache_id_list_dispose(&l);
    return n;
}

static bool job_cached(roar_cache *cache, const char *id)
{
    roar_job j;
    int rc;
    roar_job_init(&j);
    rc = roar_cache_job_get(&j, cache, id);
    roar_job_dispose(&j);
    assert_true(rc == 0 || rc == ROAR_ENOTFOUND);
    return rc == 0;
}

typedef struct {
    int calls;
    char object[ROAR_OID_HEXSZ + 1];
    char ref[64];
    size_t line;
} reindex_log;

static int log_reindex_problem(const roar_reindex_problem *p, void *payload)
{
    reindex_log *log = payload;
    log->calls++;
    if (p->object)
        memcpy(log->object, p->object, ROAR_OID_HEXSZ + 1);
    if (p->ref)
        snprintf(log->ref, sizeof(log->ref), "%s", p->ref);
    log->line = p->line;
    return 0;
}

/* Incremental reindex: only changed notes are read; a record gone from the local ref
 * stays attached while a remote tracking ref still has it; orphans go. */
static void test_reindex_follows_refs(void **state)
{
    fixture *fx = *state;
    roar_cache *cache = NULL;
    roar_reindex_stats st;
    roar_note n;
    roar_notes_edit edit;
    char commit[ROAR_OID_HEXSZ + 1], a[ROAR_OID_HEXSZ + 1], b[ROAR_OID_HEXSZ + 1];
    const char *ids[1];

    new_commit(commit, fx, "second");
    write_range(fx, 0, 300);
    roar_note_init(&n);
    add_job(&n, 9001, 1700000000000);
    add_job(&n, 9002, 1700000001000);
    memcpy(a, n.records[0].job.id, sizeof(a));
    memcpy(b, n.records[1].job.id, sizeof(b));
    memset(&edit, 0, sizeof(edit));
    memcpy(edit.object, commit, sizeof(commit));
    edit.add = &n;
    assert_int_equal(
        roar_notes_write(NULL, fx->repo, "refs/notes/roar", &edit, 1, "add", NULL, NULL), 0);

    assert_int_equal(roar_reindex_open_cache(&cache, fx->repo, false), 0);
    assert_int_equal(roar_reindex_update(&st, fx->repo, cache, false, NULL, NULL), 0);
    assert_int_equal(st.notes_read, 301);
    assert_int_equal(st.jobs_indexed, 302);
    assert_int_equal(attachment_count(cache, a), 1);
    assert_int_equal(attachment_count(cache, b), 1);

    /* Nothing moved: nothing read. */
    assert_int_equal(roar_reindex_update(&st, fx->repo, cache, false, NULL, NULL), 0);
    assert_int_equal(st.notes_read, 0);
    assert_int_equal(st.refs_indexed, 0);

    /* A remote tracking ref holds the same notes; the local ref drops A. */
    roar_test_sh("git -C '%s' update-ref refs/notes/remotes/origin/roar refs/notes/roar", fx->dir);
    edit.add = NULL;
    ids[0] = a;
    edit.remove = ids;
    edit.remove_count = 1;
    assert_int_equal(
        roar_notes_write(NULL, fx->repo, "refs/notes/roar", &edit, 1, "drop", NULL, NULL), 0);
    assert_int_equal(roar_reindex_update(&st, fx->repo, cache, false, NULL, NULL), 0);
    assert_int_equal(st.refs_indexed, 2);
    assert_int_equal(st.notes_read, 1 + 301);
    assert_int_equal(st.detached, 0);
    assert_int_equal(attachment_count(cache, a), 1);

    /* The remote ref goes: A has no holder left and leaves the cache; B stays. */
    roar_test_sh("git -C '%s' update-ref -d refs/notes/remotes/origin/roar", fx->dir);
    assert_int_equal(roar_reindex_update(&st, fx->repo, cache, false, NULL, NULL), 0);
    assert_int_equal(st.detached, 1);
    assert_false(job_cached(cache, a));
    assert_true(job_cached(cache, b));
    assert_int_equal(attachment_count(cache, b), 1);

    /* --full gives the same state from scratch. */
    assert_int_equal(roar_reindex_update(&st, fx->repo, cache, true, NULL, NULL), 0);
    assert_int_equal(st.notes_read, 301);
    assert_false(job_cached(cache, a));
    assert_int_equal(attachment_count(cache, b), 1);

    roar_cache_free(cache);
    roar_note_dispose(&n);
}

/* Pending records are marked for their worktree's git dir, unmarked when gone; a note's
 * unreadable record is reported on every refresh, with its commit and line. */
static void test_reindex_pending_and_problems(void **state)
{
    fixture *fx = *state;
    roar_cache *cache = NULL;
    roar_cache_jobinfo_list pend = ROAR_CACHE_JOBINFO_LIST_INIT;
    roar_cache_list_opts opts = ROAR_CACHE_LIST_OPTS_INIT;
    roar_reindex_stats st;
    roar_buf dir = ROAR_BUF_INIT, path = ROAR_BUF_INIT;
    reindex_log log;
    roar_note n;
    char commit[ROAR_OID_HEXSZ + 1], id[ROAR_OID_HEXSZ + 1];

    roar_note_init(&n);
    add_job(&n, 42, 1700000000000);
    memcpy(id, n.records[0].job.id, sizeof(id));
    assert_int_equal(roar_repo_ensure_roar_dir(fx->repo), 0);
    assert_int_equal(roar_pending_dir(&dir, fx->repo), 0);
    assert_int_equal(
        roar_pending_write(&path, dir.ptr, id, "main", n.records[0].text, n.records[0].len), 0);
    assert_int_equal(roar_reindex_open_cache(&cache, fx->repo, false), 0);
    assert_int_equal(roar_reindex_update(&st, fx->repo, cache, false, NULL, NULL), 0);
    assert_int_equal(st.pending_marked, 1);
    opts.pending_only = true;
    assert_int_equal(roar_cache_job_list(&pend, cache, &opts), 0);
    assert_int_equal(pend.count, 1);
    assert_string_equal(pend.items[0].id, id);
    assert_string_equal(pend.items[0].pending_worktree, roar_repo_gitdir(fx->repo));

    assert_int_equal(unlink(path.ptr), 0);
    assert_int_equal(roar_reindex_update(&st, fx->repo, cache, false, NULL, NULL), 0);
    assert_int_equal(st.pending_unmarked, 1);
    assert_false(job_cached(cache, id));

    new_commit(commit, fx, "second");
    roar_test_sh("git -C '%s' notes --ref=roar add -m junk %s", fx->dir, commit);
    memset(&log, 0, sizeof(log));
    assert_int_equal(roar_reindex_update(&st, fx->repo, cache, false, log_reindex_problem, &log),
                     0);
    assert_int_equal(log.calls, 1);
    assert_string_equal(log.object, commit);
    assert_string_equal(log.ref, "refs/notes/roar");
    assert_int_equal(log.line, 1);
    memset(&log, 0, sizeof(log));
    assert_int_equal(roar_reindex_refresh(fx->repo, cache, log_reindex_problem, &log), 0);
    assert_int_equal(log.calls, 1);
    assert_string_equal(log.object, commit);
    /* Fixed note: no more warnings. */
    roar_test_sh("git -C '%s' notes --ref=roar remove %s 2>/dev/null", fx->dir, commit);
    memset(&log, 0, sizeof(log));
    assert_int_equal(roar_reindex_refresh(fx->repo, cache, log_reindex_problem, &log), 0);
    assert_int_equal(log.calls, 0);

    roar_cache_jobinfo_list_dispose(&pend);
    roar_cache_free(cache);
    roar_buf_dispose(&dir);
    roar_buf_dispose(&path);
    roar_note_dispose(&n);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_ref_name_from_config, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ten_thousand_in_one_call, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reads_note_from_stock_git, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reads_union_and_concatenated_notes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stock_git_reads_our_notes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fanout_past_256, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_record_reported_rest_loads, setup, teardown),
        cmocka_unit_test_setup_teardown(test_remove_records, setup, teardown),
        cmocka_unit_test_setup_teardown(test_diff_across_fanout, setup, teardown),
        cmocka_unit_test_setup_teardown(test_merge, setup, teardown),
        cmocka_unit_test_setup_teardown(test_concurrent_writers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_concurrent_first_writers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_committer_without_identity, setup, teardown),
        cmocka_unit_test_setup_teardown(test_no_change_no_commit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reindex_follows_refs, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reindex_pending_and_problems, setup, teardown),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
