/* Unit tests of redaction (SPEC §8): secret names, options, credentials and token
 * shapes wherever they stand in an element, and everything else left byte for byte. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "util/redact.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* text redacted alone gives want, with n values replaced. */
static void expect_text_n(const char *text, const char *want, size_t n)
{
    roar_buf out = ROAR_BUF_INIT;
    size_t count = 5;
    assert_int_equal(roar_buf_puts(&out, "<"), 0);
    assert_int_equal(roar_redact_text(&out, &count, text), 0);
    /* Appends: what was in the buffer stays; the count is added to. */
    assert_memory_equal(out.ptr, "<", 1);
    assert_string_equal(out.ptr + 1, want);
    assert_int_equal(count, 5 + n);
    roar_buf_dispose(&out);
}

/* One value replaced, or none when want is text. */
static void expect_text(const char *text, const char *want)
{
    expect_text_n(text, want, strcmp(text, want) != 0);
}

static void expect_same(const char *text)
{
    expect_text_n(text, text, 0);
}

/* argv (NULL-terminated) redacted as a command gives want (as many), n values. */
static void expect_argv(const char *const *argv, const char *const *want, size_t n)
{
    char **out = NULL;
    size_t argc = 0, count = 0, i;
    while (argv[argc])
        argc++;
    assert_int_equal(roar_redact_argv(&out, &count, argv, argc), 0);
    for (i = 0; i < argc; i++)
        assert_string_equal(out[i], want[i]);
    assert_null(out[argc]);
    assert_int_equal(count, n);
    roar_redact_argv_free(out, argc);
}

static void test_env_names(void **state)
{
    static const char *const secret[] = {
        "GITHUB_TOKEN",
        "token",
        "AWS_SECRET_ACCESS_KEY",
        "client_secret",
        "DB_PASSWORD",
        "Password",
        "SSH_KEY_PATH",
        "apikey",
        "KEY",
        "MyTokenFile",
        "PASSWD",
        "db_passwd",
        "API_PASS",
        "DBPASS",
        "GITHUB_PAT",
        "pat",
        "GOOGLE_APPLICATION_CREDENTIALS",
        "credential",
        "AUTH",
        "NPM_AUTH",
        "HTTP_AUTHORIZATION",
        "MYSQL_PWD",
        /* The globs are literal: these match too. */
        "BYPASS",
        "COMPAT",
        "GIT_AUTHOR_NAME",
        "KEYMAP",
    };
    static const char *const plain[] = {
        "PATH", "HOME",   "PYTHONHASHSEED", "USER",      "TOKE",   "KE_Y",    "",          "SECRE",
        "PWD",  "OLDPWD", "PASSPORT",       "PATH_INFO", "PASSES", "PATTERN", "CREDENTIA", "AUT",
    };
    size_t i;
    (void)state;
    for (i = 0; i < N(secret); i++) {
        if (!roar_redact_env_name(secret[i]))
            fail_msg("not secret: %s", secret[i]);
    }
    for (i = 0; i < N(plain); i++) {
        if (roar_redact_env_name(plain[i]))
            fail_msg("secret: %s", plain[i]);
    }
    assert_false(roar_redact_env_name(NULL));
}

static void test_secret_assignments(void **state)
{
    (void)state;
    expect_text("--password=hunter2", "--password=***");
    expect_text("--token=abc", "--token=***");
    expect_text("--api-key=k", "--api-key=***");
    expect_text("--client-secret=s=with=equals", "--client-secret=***");
    expect_text("-Password=x", "-Password=***");
    expect_text("GITHUB_TOKEN=x", "GITHUB_TOKEN=***");
    expect_text("--db.password=", "--db.password=***");
    expect_text("---token=x", "---token=***");
    /* The issue's forms (#16): --passwd=, --pass=, --pwd=, --auth=, --credentials=. */
    expect_text("--passwd=hunter2", "--passwd=***");
    expect_text("--pass=hunter2", "--pass=***");
    expect_text("--pwd=hunter2", "--pwd=***");
    expect_text("--auth=user:hunter2", "--auth=***");
    expect_text("--credentials=hunter2", "--credentials=***");
    expect_text("API_PASS=hunter2", "API_PASS=***");
    expect_text("GITHUB_PAT=hunter2", "GITHUB_PAT=***");
    expect_text("-Djavax.net.ssl.keyStorePassword=hunter2", "-Djavax.net.ssl.keyStorePassword=***");
    /* A whole element is one value, blanks and all. */
    expect_text("--password=correct horse battery", "--password=***");
    /* Inside other values: after `=` and `,`. */
    expect_text("--conf=spark.hadoop.fs.s3a.secret.key=XYZ",
                "--conf=spark.hadoop.fs.s3a.secret.key=***");
    expect_text("--opts=user=alice,password=hunter2", "--opts=user=alice,password=***");
    expect_text("a b=--password=x", "a b=--password=***");
    /* Not secret-named, or not an assignment: unchanged. */
    expect_same("--epochs=10");
    expect_same("--password");
    expect_same("hunter2");
    expect_same("--out=models/keys.csv");
    expect_same("data/keys=1.csv");
    expect_same("PWD=/tmp");
    expect_same("--path=a/b");
    expect_same("");
}

static void test_shell_strings(void **state)
{
    (void)state;
    /* The issue's first form: a password inside a `sh -c` string. */
    expect_text("mysql --password=hunter2 prod < dump.sql", "mysql --password=*** prod < dump.sql");
    /* At the very start of an element a value runs to its end: an argv element is one
     * value, blanks and all, and a string cannot tell which it is. */
    expect_text("PGPASSWORD=hunter2 psql -h db", "PGPASSWORD=***");
    expect_text("cd /srv && PGPASSWORD=hunter2 psql -h db", "cd /srv && PGPASSWORD=*** psql -h db");
    expect_text("export API_TOKEN=abc; ./deploy.sh", "export API_TOKEN=***; ./deploy.sh");
    expect_text("curl -d \"password=a b\" https://x", "curl -d \"password=***\" https://x");
    expect_text("cmd --password='a b' next", "cmd --password=*** next");
    expect_text_n("echo \"$0\" > out.txt --token=t1 && x --secret=t2",
                  "echo \"$0\" > out.txt --token=*** && x --secret=***", 2);
    /* An option and its value as two words of the string. */
    expect_text("mysql --password hunter2 prod", "mysql --password *** prod");
    expect_text("tool --token 'a b' --verbose", "tool --token *** --verbose");
    expect_text("ssh h \"tool --api-key k3y run\"", "ssh h \"tool --api-key *** run\"");
    expect_text("openssl enc -pass pass:hunter2 -in f", "openssl enc -pass *** -in f");
    expect_text("openssl rsa -passin pass:hunter2", "openssl rsa -passin ***");
    /* Plain shell: unchanged. */
    expect_same("cat data/train.csv | sort -u > sorted.csv");
    expect_same("for f in *.csv; do wc -l \"$f\"; done");
    expect_same("python3 train.py --key-file keys.pem --epochs 3");
    expect_same("echo the password is secret");
}

static void test_user_password(void **state)
{
    (void)state;
    expect_text("curl -u admin:hunter2 https://x", "curl -u admin:*** https://x");
    expect_text("curl -uadmin:hunter2 https://x", "curl -uadmin:*** https://x");
    expect_text("curl --user admin:hunter2 https://x", "curl --user admin:*** https://x");
    expect_text("curl --user=admin:hunter2 x", "curl --user=admin:*** x");
    expect_text("curl -U proxy:hunter2 x", "curl -U proxy:*** x");
    expect_text("curl -u 'admin:a b' x", "curl -u 'admin:***' x");
    expect_text("-uadmin:hunter2", "-uadmin:***");
    /* No password, a uid:gid, or not -u: unchanged. */
    expect_same("curl -u admin https://x");
    expect_same("docker run -u 1000:1000 img");
    expect_same("sort -u -k1,1 a.csv");
    expect_same("-u");
    expect_same("--user=alice");
}

static void test_mysql_p(void **state)
{
    (void)state;
    expect_text("mysql -uroot -phunter2 prod", "mysql -uroot -p*** prod");
    expect_text("/usr/bin/mysqldump -phunter2 db", "/usr/bin/mysqldump -p*** db");
    expect_text("mariadb -p'a b' db", "mariadb -p*** db");
    /* -p alone prompts, and `-p NAME` is not a password; other programs' -p is theirs. */
    expect_same("mysql -p prod");
    expect_same("mkdir -p out/dir");
    expect_same("ssh -p2222 host");
    expect_same("cp -pr a b");
}

static void test_headers(void **state)
{
    (void)state;
    /* The issue's form: Authorization: Bearer … */
    expect_text("Authorization: Bearer xyz", "Authorization: ***");
    expect_text("authorization:Basic YWxhZGRpbjpvcGVuc2VzYW1l", "authorization:***");
    expect_text("Proxy-Authorization: Basic abc", "Proxy-Authorization: ***");
    expect_text("-HAuthorization: Bearer xyz", "-HAuthorization: ***");
    expect_text("curl -H 'Authorization: Bearer xyz' https://api",
                "curl -H 'Authorization: ***' https://api");
    expect_text("curl -H \"Authorization: token abc\" -o out",
                "curl -H \"Authorization: ***\" -o out");
    expect_text("curl -H Authorization:\\ Bearer\\ xyz; echo done",
                "curl -H Authorization:***; echo done");
    expect_text("X-Api-Key: k3y", "X-Api-Key: ***");
    expect_text("curl -H 'PRIVATE-TOKEN: abc' x", "curl -H 'PRIVATE-TOKEN: ***' x");
    expect_text("{\"token\": \"abc\", \"n\": 1}", "{\"token\": \"***\", \"n\": 1}");
    expect_text("{\"password\":\"abc\"}", "{\"password\":\"***\"}");
    expect_text("{\"api_key\": 12345}", "{\"api_key\": ***}");
    /* Not a secret header: unchanged. */
    expect_same("Content-Type: application/json");
    expect_same("auth: fix the login form");
    expect_same("Authorization:");
    expect_same("{\"name\": \"x\"}");
}

static void test_url_credentials(void **state)
{
    (void)state;
    expect_text("https://alice:s3cret@example.com/repo.git",
                "https://alice:***@example.com/repo.git");
    expect_text("https://alice:s3cret@example.com", "https://alice:***@example.com");
    expect_text("--url=https://u:p@h/x", "--url=https://u:***@h/x");
    expect_text("postgres://app:pw@db:5432/prod", "postgres://app:***@db:5432/prod");
    /* A password holding ':' and '@' (the last '@' of the authority ends it). */
    expect_text("https://u:p:a@ss@host/p", "https://u:***@host/p");
    expect_text_n("https://a:b@x,https://c:d@y", "https://a:***@x,https://c:***@y", 2);
    expect_text("git clone https://u:pw@h/r.git dir && make",
                "git clone https://u:***@h/r.git dir && make");
    /* scp-style, without a scheme (the issue's `user:pw@host`). */
    expect_text("admin:hunter2@db.example.com:/backups", "admin:***@db.example.com:/backups");
    expect_text("admin:hunter2@host", "admin:***@host");
    expect_text("rsync -a x admin:pw@host:dst/", "rsync -a x admin:***@host:dst/");
    expect_text("--remote=u:p@h", "--remote=u:***@h");
    /* ?token= and friends in a URL. */
    expect_text("https://h/x?token=abc&page=2", "https://h/x?token=***&page=2");
    expect_text("https://h/x?page=2&access_token=abc#top",
                "https://h/x?page=2&access_token=***#top");
    expect_text("https://h/b?sv=2020&sig=abc%2Bdef&se=x", "https://h/b?sv=2020&sig=***&se=x");
    expect_text("https://h/x?key=abc", "https://h/x?key=***");
    expect_text("https://s3/o?X-Amz-Signature=abc", "https://s3/o?X-Amz-Signature=***");
    expect_text("curl 'https://h/x?api_key=abc&n=1' -o f",
                "curl 'https://h/x?api_key=***&n=1' -o f");
    /* No password: unchanged. */
    expect_same("https://alice@example.com/x");
    expect_same("ssh://git@host/repo");
    expect_same("https://example.com/a@b:c");
    expect_same("https://u:@host/");
    expect_same("git@github.com:org/repo.git");
    expect_same("alice@example.com");
    expect_same("mailto:alice@example.com");
    expect_same("nginx:1.25@sha256:0123456789abcdef");
    expect_same("https://h/x?page=2&sort=name");
    expect_same("data/train.csv");
    expect_same("12:30");
}

static void test_token_shapes(void **state)
{
    (void)state;
    expect_text("ghp_0123456789abcdefABCDEF0123456789abcd", "***");
    expect_text("gho_0123456789abcdefABCDEF0123456789abcd", "***");
    expect_text("github_pat_11ABCDEFG0123456789_abcdefghijklmnop", "***");
    expect_text("glpat-0123456789abcdef-XYZ", "***");
    expect_text("xoxb-1234567890-abcdefghij", "***");
    expect_text("xoxp-1234567890-abcdefghij", "***");
    expect_text("AKIAIOSFODNN7EXAMPLE", "***");
    expect_text("eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk",
                "***");
    /* Where they stand: in a URL, a shell string, after -u, as a user name. */
    expect_text("https://ghp_0123456789abcdefABCDEF0123456789abcd@github.com/o/r",
                "https://***@github.com/o/r");
    expect_text_n("https://ghp_0123456789abcdefABCDEF0123456789abcd:x-oauth-basic@github.com/o/r",
                  "https://***:***@github.com/o/r", 2);
    expect_text_n("gh auth login --with-token <<< ghp_0123456789abcdefABCDEF0123456789abcd",
                  "gh auth login --with-token <<< ***", 1);
    expect_text("aws --key AKIAIOSFODNN7EXAMPLE", "aws --key ***");
    expect_text("echo AKIAIOSFODNN7EXAMPLE", "echo ***");
    /* Too short, glued, or of another length: unchanged. */
    expect_same("ghp_notes.txt");
    expect_same("xghp_0123456789abcdefABCDEF0123456789abcd");
    expect_same("AKIAIOSFODNN7EXAMPLEX");
    expect_same("AKIA");
    expect_same("eyJhbGciOiJIUzI1NiJ9");
    expect_same("keyboard.csv");
    expect_same("monkey_tokens.txt");
}

/* `--password VALUE`: the option is kept, the next element is the secret. */
static void test_options_taking_the_next_argument(void **state)
{
    static const char *const takes[] = {
        "--password",   "-password",     "--api-key",       "--token", "--AWS_SECRET",
        "-p.key",       "--db-Password", "--client_secret", "-KEY",    "--passwd",
        "--pass",       "--pwd",         "--secret",        "--auth",  "--credentials",
        "--credential", "-passin",       "-passout",
    };
    static const char *const plain[] = {
        "--password=x", "--key-file", "--skip-key-check", "--no-password", "password",
        "--",           "-",          "--tokens",         "--pass word",   "--monkey",
        "--apikey",     "--bypass",   "--passes",         "--author",      "--oauth",
        "-p",           NULL,
    };
    size_t i;
    (void)state;
    for (i = 0; i < N(takes); i++) {
        if (!roar_redact_takes_value(takes[i]))
            fail_msg("does not take a value: %s", takes[i]);
    }
    for (i = 0; i < N(plain); i++) {
        if (roar_redact_takes_value(plain[i]))
            fail_msg("takes a value: %s", plain[i]);
    }
    /* The option itself is not a secret: it is recorded as it is. */
    expect_same("--password");
}

static void test_argv(void **state)
{
    (void)state;
    {
        const char *argv[] = {"tool",  "--password",    "-hunter2", "--pass",     "x",     "--auth",
                              "basic", "--credentials", "c",        "--key-file", "k.pem", NULL};
        const char *want[] = {"tool", "--password",    "***", "--pass",     "***",  "--auth",
                              "***",  "--credentials", "***", "--key-file", "k.pem"};
        expect_argv(argv, want, 4);
    }
    {
        /* The issue's `-u admin:pw`, as two elements. */
        const char *argv[] = {
            "curl", "-u", "admin:pw", "-H", "Authorization: Bearer xyz", "https://x/?token=abc&n=1",
            NULL};
        const char *want[] = {
            "curl", "-u", "admin:***", "-H", "Authorization: ***", "https://x/?token=***&n=1"};
        expect_argv(argv, want, 3);
    }
    {
        const char *argv[] = {"docker", "run", "-u", "1000:1000", "-v", "a:/b", "img", NULL};
        expect_argv(argv, argv, 0);
    }
    {
        /* mysql named by an earlier element: its -p is a password. */
        const char *argv[] = {"docker", "exec", "db", "mysql", "-uroot", "-phunter2", NULL};
        const char *want[] = {"docker", "exec", "db", "mysql", "-uroot", "-p***"};
        expect_argv(argv, want, 1);
    }
    {
        const char *argv[] = {"mkdir", "-p", "out", "-pthing", NULL};
        expect_argv(argv, argv, 0);
    }
    {
        /* sh -c: the string and the arguments after it. */
        const char *argv[] = {"sh", "-c", "echo \"$0\" > out.txt; curl -u u:pw x",
                              "--password=hunter2", NULL};
        const char *want[] = {"sh", "-c", "echo \"$0\" > out.txt; curl -u u:*** x",
                              "--password=***"};
        expect_argv(argv, want, 2);
    }
    {
        const char *argv[] = {
            "python3",      "train.py", "--epochs", "10", "--out", "models/keyboard.csv",
            "keyboard.csv", "--sort",   "key",      NULL};
        expect_argv(argv, argv, 0);
    }
    {
        const char *argv[] = {"true", NULL};
        expect_argv(argv, argv, 0);
    }
}

/* Hostile shapes stay linear and never read past the text. */
static void test_long_inputs(void **state)
{
    static char big[1 << 20];
    roar_buf out = ROAR_BUF_INIT;
    size_t i, count = 0;
    (void)state;
    for (i = 0; i + 3 < sizeof(big); i += 3)
        memcpy(big + i, ",a:", 3);
    big[i] = '\0';
    assert_int_equal(roar_redact_text(&out, &count, big), 0);
    assert_int_equal(count, 0);
    assert_string_equal(out.ptr, big);
    roar_buf_clear(&out);
    for (i = 0; i + 2 < sizeof(big); i += 2)
        memcpy(big + i, "-H", 2);
    big[i] = '\0';
    assert_int_equal(roar_redact_text(&out, &count, big), 0);
    assert_string_equal(out.ptr, big);
    roar_buf_dispose(&out);
    expect_text("--password=\"", "--password=***");
    expect_text("x \"--password=", "x \"--password=***");
    expect_same("'");
    expect_same("\\");
    expect_same("://");
    expect_same(":@");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_env_names),
        cmocka_unit_test(test_secret_assignments),
        cmocka_unit_test(test_shell_strings),
        cmocka_unit_test(test_user_password),
        cmocka_unit_test(test_mysql_p),
        cmocka_unit_test(test_headers),
        cmocka_unit_test(test_url_credentials),
        cmocka_unit_test(test_token_shapes),
        cmocka_unit_test(test_options_taking_the_next_argument),
        cmocka_unit_test(test_argv),
        cmocka_unit_test(test_long_inputs),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
