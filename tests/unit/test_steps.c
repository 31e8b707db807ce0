/* Unit tests of step lines (SPEC §4.9): the value codec, the checks against a job, the
 * grouping of outputs by their inputs, and records that carry steps. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "graph/oid.h"
#include "graph/record.h"
#include "graph/steps.h"
#include "util/buf.h"
#include "util/err.h"

static void roundtrip(const char *value)
{
    roar_steps s = {0};
    roar_buf b = ROAR_BUF_INIT;
    assert_int_equal(roar_steps_parse_value(&s, value, strlen(value)), 0);
    assert_int_equal(s.count, 1);
    assert_int_equal(roar_steps_format_value(&b, &s.v[0]), 0);
    assert_string_equal(b.ptr, value);
    roar_buf_dispose(&b);
    roar_steps_dispose(&s);
}

static void refused(const char *value)
{
    roar_steps s = {0};
    int rc = roar_steps_parse_value(&s, value, strlen(value));
    if (rc != ROAR_EINVALID)
        fail_msg("'%s' was accepted (%d)", value, rc);
    roar_error_clear();
    assert_int_equal(s.count, 0);
    roar_steps_dispose(&s);
}

static void test_value_codec(void **state)
{
    (void)state;
    roundtrip("1 1");
    roundtrip("1,3 -");
    roundtrip("2-4,7 1,3-5,9");
    roundtrip("4294967295 1");
    refused("");
    refused("1");          /* no inputs */
    refused("- 1");        /* no outputs */
    refused("0 1");        /* positions are 1-based */
    refused("01 1");       /* leading zero */
    refused("1 2,1");      /* not ascending */
    refused("1 1,2");      /* touching: must be 1-2 */
    refused("1 2-2");      /* a range of one */
    refused("1 3-2");
    refused("1 1,");
    refused("1 ,1");
    refused("1  1");
    refused("1 4294967296"); /* past 2^32 - 1 */
    refused("1 +1");
}

static void test_check_against_job(void **state)
{
    roar_steps s = {0};
    (void)state;
    assert_int_equal(roar_steps_parse_value(&s, "1 1", 3), 0);
    assert_int_equal(roar_steps_parse_value(&s, "3 2", 3), 0);
    assert_int_equal(roar_steps_check(&s, 2, 3), 0);
    assert_int_equal(roar_steps_check(&s, 1, 3), ROAR_EINVALID); /* input 2 of 1 */
    assert_int_equal(roar_steps_check(&s, 2, 2), ROAR_EINVALID); /* output 3 of 2 */
    assert_int_equal(roar_steps_parse_value(&s, "2-3 1", 5), 0); /* 3 twice */
    assert_int_equal(roar_steps_check(&s, 2, 3), ROAR_EINVALID);
    roar_error_clear();
    roar_steps_dispose(&s);

    assert_int_equal(roar_steps_parse_value(&s, "2 1", 3), 0);
    assert_int_equal(roar_steps_parse_value(&s, "1 2", 3), 0); /* out of order */
    assert_int_equal(roar_steps_check(&s, 2, 2), ROAR_EINVALID);
    roar_error_clear();
    roar_steps_dispose(&s);
}

static void test_find(void **state)
{
    roar_steps s = {0};
    const roar_step *st;
    (void)state;
    assert_int_equal(roar_steps_parse_value(&s, "1,4-6 2,5-7", 11), 0);
    assert_null(roar_steps_find(&s, 1));
    assert_non_null(st = roar_steps_find(&s, 4));
    assert_true(roar_step_has_input(st, 1));
    assert_true(roar_step_has_input(st, 6));
    assert_false(roar_step_has_input(st, 0));
    assert_false(roar_step_has_input(st, 2));
    assert_false(roar_step_has_input(st, 7));
    /* indexed (a binary search over every output span): the same answers */
    assert_int_equal(roar_steps_parse_value(&s, "2-3,8 1", 7), 0);
    assert_int_equal(roar_steps_index(&s), 0);
    assert_int_equal(s.nindex, 4);
    assert_ptr_equal(roar_steps_find(&s, 4), &s.v[0]);
    assert_ptr_equal(roar_steps_find(&s, 0), &s.v[0]);
    assert_ptr_equal(roar_steps_find(&s, 2), &s.v[1]);
    assert_ptr_equal(roar_steps_find(&s, 7), &s.v[1]);
    assert_null(roar_steps_find(&s, 6));
    assert_null(roar_steps_find(&s, 100));
    /* an output in two steps cannot be indexed */
    assert_int_equal(roar_steps_parse_value(&s, "6 1", 3), 0);
    assert_int_equal(roar_steps_index(&s), ROAR_EINVALID);
    roar_error_clear();
    roar_steps_dispose(&s);
}

/* Outputs with equal inputs share a step; outputs on every input get none. */
static void test_from_deps(void **state)
{
    static const size_t d0[] = {0}, d1[] = {1, 2}, d3[] = {0};
    const size_t *deps[] = {d0, d1, NULL, d3, NULL};
    size_t count[] = {1, 2, 0, 1, 0};
    bool all[] = {false, false, false, false, true};
    roar_steps s = {0};
    roar_buf b = ROAR_BUF_INIT;
    (void)state;

    assert_int_equal(roar_steps_from_deps(&s, 3, 5, deps, count, all), 0);
    assert_int_equal(roar_steps_to_text(&b, &s), 0);
    assert_string_equal(b.ptr, "1,4 1\n2 2-3\n3 -");
    assert_int_equal(roar_steps_check(&s, 3, 5), 0);
    roar_buf_dispose(&b);
    roar_steps_dispose(&s);

    /* every output on every input: no steps at all */
    {
        static const size_t every[] = {0, 1};
        const size_t *d[] = {every, every};
        size_t c[] = {2, 2};
        bool a[] = {false, false};
        assert_int_equal(roar_steps_from_deps(&s, 2, 2, d, c, a), 0);
        assert_int_equal(s.count, 0);
    }
}

#define RECORD_HEAD                                                                        \
    "command sh -c x\n"                                                                    \
    "cwd .\n"                                                                              \
    "dirty 0\n"                                                                            \
    "start 2026-12-07T12:00:00.000Z\n"                                                     \
    "end 2026-12-07T12:00:01.000Z\n"                                                       \
    "exit 0\n"
#define A_ID "78981922613b2afb6025042ff6bd878ac1994e85"
#define B_ID "61780798228d17af2d34fce4cfbdf35556832472"

/* A record with steps, as a writer produces it, parsed: the job id covers the steps. */
static void test_record_roundtrip(void **state)
{
    roar_job job;
    roar_buf text = ROAR_BUF_INIT, again = ROAR_BUF_INIT;
    const char *body = RECORD_HEAD "in " A_ID " 2 a.txt\n"
                                   "in " B_ID " 2 b.txt\n"
                                   "out " A_ID " 2 a.out\n"
                                   "out " B_ID " 2 b.out\n"
                                   "step 1 1\n"
                                   "step 2 2\n";
    (void)state;

    roar_job_init(&job);
    assert_int_equal(roar_record_parse(&job, body, strlen(body)), ROAR_EINVALID); /* no job line */
    roar_error_clear();
    /* serialize what the body says, then read it back */
    assert_int_equal(roar_job_set_argv(&job, (const char *const[]){"sh", "-c", "x"}, 3), 0);
    job.cwd = strdup(".");
    job.start_ms = 1796644800000;
    job.end_ms = job.start_ms + 1000;
    assert_int_equal(roar_job_add_edge(&job, ROAR_ROLE_IN, "a.txt", A_ID, 2), 0);
    assert_int_equal(roar_job_add_edge(&job, ROAR_ROLE_IN, "b.txt", B_ID, 2), 0);
    assert_int_equal(roar_job_add_edge(&job, ROAR_ROLE_OUT, "a.out", A_ID, 2), 0);
    assert_int_equal(roar_job_add_edge(&job, ROAR_ROLE_OUT, "b.out", B_ID, 2), 0);
    assert_int_equal(roar_steps_parse_value(&job.steps, "1 1", 3), 0);
    assert_int_equal(roar_steps_parse_value(&job.steps, "2 2", 3), 0);
    assert_int_equal(roar_record_serialize(&text, &job), 0);
    assert_non_null(strstr(text.ptr, "\nstep 1 1\nstep 2 2\n"));
    {
        roar_job back;
        assert_int_equal(roar_record_parse(&back, text.ptr, text.size), 0);
        assert_true(roar_job_equal(&job, &back));
        assert_int_equal(back.steps.count, 2);
        roar_job_dispose(&back);
    }
    /* the id covers the steps: another step, another id */
    {
        char id[ROAR_OID_HEXSZ + 1];
        memcpy(id, job.id, sizeof(id));
        roar_steps_dispose(&job.steps);
        assert_int_equal(roar_steps_parse_value(&job.steps, "1 2", 3), 0);
        assert_int_equal(roar_record_serialize(&again, &job), 0);
        assert_string_not_equal(id, job.id);
    }
    /* a step naming a line that is not there cannot be written */
    roar_steps_dispose(&job.steps);
    assert_int_equal(roar_steps_parse_value(&job.steps, "3 1", 3), 0);
    roar_buf_clear(&again);
    assert_int_equal(roar_record_serialize(&again, &job), ROAR_EINVALID);
    roar_error_clear();
    roar_job_dispose(&job);
    roar_buf_dispose(&text);
    roar_buf_dispose(&again);
}

/* A record from others whose job id matches its body: `job <id>` first. */
static char *with_id(const char *body)
{
    char id[ROAR_OID_HEXSZ + 1];
    char *text = malloc(strlen(body) + 64);
    assert_int_equal(roar_blob_id_of_buffer(id, body, strlen(body)), 0);
    sprintf(text, "job %s\n%s", id, body);
    return text;
}

/* Records from others: a step past the lines is an error naming its line; edges out of
 * record order make the steps unusable, and they are dropped (every input). */
static void test_record_hostile_steps(void **state)
{
    roar_job job;
    char *text;
    (void)state;

    text = with_id(RECORD_HEAD "in " A_ID " 2 a.txt\n"
                               "out " A_ID " 2 a.out\n"
                               "step 1 2\n");
    assert_int_equal(roar_record_parse(&job, text, strlen(text)), ROAR_EINVALID);
    assert_non_null(strstr(roar_error_last(), "line 10:"));
    roar_error_clear();
    free(text);

    text = with_id(RECORD_HEAD "in " A_ID " 2 a.txt\n"
                               "out " A_ID " 2 a.out\n"
                               "step 1 1\n"
                               "step 1 1\n");
    assert_int_equal(roar_record_parse(&job, text, strlen(text)), ROAR_EINVALID);
    roar_error_clear();
    free(text);

    /* inputs out of order: the positions cannot be trusted, the steps go */
    text = with_id(RECORD_HEAD "in " B_ID " 2 b.txt\n"
                               "in " A_ID " 2 a.txt\n"
                               "out " A_ID " 2 a.out\n"
                               "step 1 1\n");
    assert_int_equal(roar_record_parse(&job, text, strlen(text)), 0);
    assert_int_equal(job.steps.count, 0);
    roar_job_dispose(&job);
    free(text);

    /* and in order, kept */
    text = with_id(RECORD_HEAD "in " A_ID " 2 a.txt\n"
                               "in " B_ID " 2 b.txt\n"
                               "out " A_ID " 2 a.out\n"
                               "step 1 1\n");
    assert_int_equal(roar_record_parse(&job, text, strlen(text)), 0);
    assert_int_equal(job.steps.count, 1);
    roar_job_dispose(&job);
    free(text);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_value_codec),
        cmocka_unit_test(test_check_against_job),
        cmocka_unit_test(test_find),
        cmocka_unit_test(test_from_deps),
        cmocka_unit_test(test_record_roundtrip),
        cmocka_unit_test(test_record_hostile_steps),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
