/* Unit tests of redaction (SPEC §8): secret env names, secret-named options, URL
 * credentials, and everything else left byte for byte. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "util/redact.h"

static void expect_redacted(const char *arg, const char *want)
{
    roar_buf out = ROAR_BUF_INIT;
    assert_int_equal(roar_buf_puts(&out, "<"), 0);
    assert_int_equal(roar_redact_arg(&out, arg), 0);
    /* Appends: what was in the buffer stays. */
    assert_memory_equal(out.ptr, "<", 1);
    assert_string_equal(out.ptr + 1, want);
    assert_int_equal(roar_redact_arg_needed(arg), strcmp(arg, want) != 0);
    roar_buf_dispose(&out);
}

static void test_env_names(void **state)
{
    static const char *const secret[] = {
        "GITHUB_TOKEN", "token", "AWS_SECRET_ACCESS_KEY", "client_secret", "DB_PASSWORD",
        "Password", "SSH_KEY_PATH", "apikey", "KEY", "MyTokenFile",
    };
    static const char *const plain[] = {
        "PATH", "HOME", "PYTHONHASHSEED", "USER", "PASSWD", "TOKE", "KE_Y", "", "SECRE",
    };
    size_t i;
    (void)state;
    for (i = 0; i < sizeof(secret) / sizeof(secret[0]); i++)
        assert_true(roar_redact_env_name(secret[i]));
    for (i = 0; i < sizeof(plain) / sizeof(plain[0]); i++)
        assert_false(roar_redact_env_name(plain[i]));
    assert_false(roar_redact_env_name(NULL));
}

static void test_secret_options(void **state)
{
    (void)state;
    expect_redacted("--password=hunter2", "--password=***");
    expect_redacted("--token=abc", "--token=***");
    expect_redacted("--api-key=k", "--api-key=***");
    expect_redacted("--client-secret=s=with=equals", "--client-secret=***");
    expect_redacted("-Password=x", "-Password=***");
    expect_redacted("GITHUB_TOKEN=ghp_x", "GITHUB_TOKEN=***");
    expect_redacted("--db.password=", "--db.password=***");
    /* Not secret-named, or not an assignment: unchanged. */
    expect_redacted("--epochs=10", "--epochs=10");
    expect_redacted("--password", "--password");
    expect_redacted("hunter2", "hunter2");
    expect_redacted("--out=models/keys.csv", "--out=models/keys.csv");
    expect_redacted("a b=--password=x", "a b=--password=x");
    expect_redacted("---token=x", "---token=***");
    expect_redacted("", "");
}

static void test_url_credentials(void **state)
{
    (void)state;
    expect_redacted("https://alice:s3cret@example.com/repo.git",
                    "https://alice:***@example.com/repo.git");
    expect_redacted("https://alice:s3cret@example.com", "https://alice:***@example.com");
    expect_redacted("--url=https://u:p@h/x", "--url=https://u:***@h/x");
    expect_redacted("postgres://app:pw@db:5432/prod", "postgres://app:***@db:5432/prod");
    /* A password holding ':' and '@' (the last '@' of the authority ends it). */
    expect_redacted("https://u:p:a@ss@host/p", "https://u:***@host/p");
    /* Two URLs in one element. */
    expect_redacted("https://a:b@x,https://c:d@y", "https://a:***@x,https://c:***@y");
    /* No password: unchanged. */
    expect_redacted("https://alice@example.com/x", "https://alice@example.com/x");
    expect_redacted("ssh://git@host/repo", "ssh://git@host/repo");
    expect_redacted("https://example.com/a@b:c", "https://example.com/a@b:c");
    expect_redacted("https://u:@host/", "https://u:@host/");
    expect_redacted("data/train.csv", "data/train.csv");
}

/* `--password VALUE`: the option is kept, the caller redacts the next argument. */
static void test_options_taking_the_next_argument(void **state)
{
    static const char *const takes[] = {
        "--password", "-password", "--api-key", "--token", "--AWS_SECRET", "-p.key",
        "--db-Password", "--client_secret", "-KEY",
    };
    static const char *const plain[] = {
        "--password=x", "--key-file", "--skip-key-check", "--no-password", "password",
        "--", "-", "--tokens", "--pass word", "--monkey", "--apikey", NULL,
    };
    size_t i;
    (void)state;
    for (i = 0; i < sizeof(takes) / sizeof(takes[0]); i++)
        assert_true(roar_redact_takes_value(takes[i]));
    for (i = 0; i < sizeof(plain) / sizeof(plain[0]); i++)
        assert_false(roar_redact_takes_value(plain[i]));
    /* The option itself is not a secret: it is recorded as it is. */
    expect_redacted("--password", "--password");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_env_names),
        cmocka_unit_test(test_secret_options),
        cmocka_unit_test(test_url_credentials),
        cmocka_unit_test(test_options_taking_the_next_argument),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
