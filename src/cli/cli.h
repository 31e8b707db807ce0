/* The CLI's shared helpers: the command table entry, declarative options, and output
 * in git's voice (fatal/error/warning, exit 0/1/128/129). Only the CLI prints or exits. */
#ifndef ROAR_CLI_CLI_H
#define ROAR_CLI_CLI_H

#include <stdbool.h>
#include <stddef.h>

#include "gitstore/reindex.h"
#include "gitstore/repo.h"
#include "graph/job.h"

/* Exit codes, as git uses them (SPEC §3). */
enum {
    ROAR_EXIT_OK = 0,
    ROAR_EXIT_NEGATIVE = 1, /* a negative answer, e.g. `status --exit-code` */
    ROAR_EXIT_FATAL = 128,
    ROAR_EXIT_USAGE = 129,
};

/* ---- options -------------------------------------------------------------------
 * Each command declares its options as data in its table entry; the parser in cli.c
 * fills the context, and the handler reads values back by long name. -h/--help and
 * -q/--quiet are implicit for every command and must not be declared. */

typedef enum {
    ROAR_OPT_END = 0,
    ROAR_OPT_BOOL,   /* --json; -n. Repeating it is harmless. */
    ROAR_OPT_STRING, /* --remote NAME, --remote=NAME, -mMSG, -m MSG. Last one wins. */
    ROAR_OPT_INT,    /* a non-negative decimal: -n 5, --depth=3. Last one wins. */
} roar_opt_type;

typedef struct {
    roar_opt_type type;
    char short_name;       /* 0 when there is none */
    const char *long_name; /* required: the key handlers use, e.g. "max-count" */
    const char *argh;      /* the value's placeholder in usage, e.g. "N" (STRING/INT) */
    const char *help;      /* one line for the usage text */
    const char *choices;   /* STRING only: "text|json|dot", or NULL for any value */
} roar_option;

/* clang-format off */
#define ROAR_OPT_BOOL_(s, l, h) {ROAR_OPT_BOOL, (s), (l), NULL, (h), NULL}
#define ROAR_OPT_STRING_(s, l, a, h) {ROAR_OPT_STRING, (s), (l), (a), (h), NULL}
#define ROAR_OPT_CHOICE_(s, l, a, h) {ROAR_OPT_STRING, (s), (l), (a), (h), (a)}
#define ROAR_OPT_INT_(s, l, a, h) {ROAR_OPT_INT, (s), (l), (a), (h), NULL}
#define ROAR_OPT_END_ {ROAR_OPT_END, 0, NULL, NULL, NULL, NULL}
/* clang-format on */

/* ---- commands ------------------------------------------------------------------ */

/* What main prepares before calling a handler. */
enum {
    ROAR_CMD_NEED_REPO = 1 << 0,     /* discover the repository; fatal outside one */
    ROAR_CMD_NEED_WORKTREE = 1 << 1, /* ... and fatal in a bare one (implies NEED_REPO) */
    ROAR_CMD_STOP_AT_ARG = 1 << 2,   /* options end at the first argument (`run CMD -x`) */
    ROAR_CMD_PAGER = 1 << 3,         /* page stdout when it is a terminal (cli/pager.h) */
};

typedef struct roar_cli_ctx roar_cli_ctx;

/* A handler returns the exit status (ROAR_EXIT_OK or ROAR_EXIT_NEGATIVE); for a fatal
 * error it calls roar_cli_die*() (or returns roar_cli_error(...), which is 128), for a
 * usage error roar_cli_usage_error(). It owns nothing in ctx: main releases it. */
typedef int (*roar_cmd_fn)(roar_cli_ctx *ctx);

typedef struct {
    const char *name;           /* "log" */
    const char *synopsis;       /* after "git roar <name> ", from SPEC §3 */
    const char *summary;        /* one line for `git roar -h` */
    roar_cmd_fn fn;             /* NULL: not implemented yet (fatal after parsing) */
    unsigned flags;             /* ROAR_CMD_* */
    int min_args, max_args;     /* positional arguments accepted; max -1 = no limit */
    const roar_option *options; /* ROAR_OPT_END-terminated, or NULL */
} roar_cli_command;

/* Everything a handler gets. Borrowed from main for the handler's duration. */
struct roar_cli_ctx {
    const roar_cli_command *cmd;
    char **argv; /* positional arguments (options removed), NULL-terminated */
    int argc;
    int dashdash;    /* index in argv of the first argument after `--`, or -1 */
    bool quiet;      /* -q/--quiet */
    roar_repo *repo; /* discovered per cmd->flags, else NULL */

    /* Parsed option values, parallel to cmd->options (internal: use the accessors). */
    struct roar_cli_optval {
        bool set;
        const char *str; /* borrowed from argv */
        long num;
    } * values;
};

/* The whole table, defined in git-roar.c, NULL-name terminated. */
extern const roar_cli_command roar_cli_commands[];

/* The handlers, each defined in src/cli/cmd_<name>.c. Declared here so git-roar.c's
 * table can point at them; adding a command = write the file, set `.fn` in the table. */
int roar_cmd_init(roar_cli_ctx *ctx);
int roar_cmd_run(roar_cli_ctx *ctx);
int roar_cmd_attach(roar_cli_ctx *ctx);
int roar_cmd_drop(roar_cli_ctx *ctx);
int roar_cmd_log(roar_cli_ctx *ctx);
int roar_cmd_show(roar_cli_ctx *ctx);
int roar_cmd_lineage(roar_cli_ctx *ctx);
int roar_cmd_status(roar_cli_ctx *ctx);
int roar_cmd_reproduce(roar_cli_ctx *ctx);
int roar_cmd_review(roar_cli_ctx *ctx);
int roar_cmd_fetch(roar_cli_ctx *ctx);
int roar_cmd_push(roar_cli_ctx *ctx);
int roar_cmd_sync(roar_cli_ctx *ctx);
int roar_cmd_reindex(roar_cli_ctx *ctx);
int roar_cmd_fsck(roar_cli_ctx *ctx);
int roar_cmd_export(roar_cli_ctx *ctx);

/* Prints a problem met while bringing the cache up to date ("warning: refs/notes/roar:
 * note on <commit>: line N: ..."); a roar_reindex_problem_cb (gitstore/reindex.h) for
 * every command that calls roar_reindex_refresh first. Defined in cmd_reindex.c. */
int roar_cli_warn_reindex_problem(const roar_reindex_problem *problem, void *payload);

/* Brings the cache up to date after the notes or pending/ changed (attach, fetch,
 * init); a failure is a warning: the cache is derived data. With report_problems,
 * unreadable records are reported as roar_cli_warn_reindex_problem does. In
 * cmd_reindex.c. */
void roar_cli_refresh_cache(roar_cli_ctx *ctx, bool report_problems);

/* `run --commit` once the job is recorded: commits its outputs and attaches exactly it
 * (SPEC §3 run). Returns the exit status run should end with: `status` (the command's),
 * or 1 when the command succeeded but the commit failed. Defined in cmd_attach.c. */
int roar_cli_run_commit(roar_cli_ctx *ctx, const roar_job *job, int status);

/* Fetches REMOTE's notes and merges them into the local notes ref, then brings the
 * cache up to date, saying what happened (SPEC §3 fetch). With `fatal` false (init), a
 * failure is a warning and 0 is returned; else it dies. Defined in cmd_fetch.c. */
int roar_cli_fetch_notes(roar_cli_ctx *ctx, const char *remote, bool fatal);

/* ---- option values (name = the option's long name; asserting it was declared) ---- */

/* Whether the option was given at all (any type). */
bool roar_cli_opt_set(const roar_cli_ctx *ctx, const char *name);
/* A STRING option's last value, or `dflt` when absent. Borrowed from argv. */
const char *roar_cli_opt_string(const roar_cli_ctx *ctx, const char *name, const char *dflt);
/* An INT option's last value, or `dflt` when absent. */
long roar_cli_opt_int(const roar_cli_ctx *ctx, const char *name, long dflt);

/* ---- parsing and usage (used by main; handlers rarely need them) ---------------- */

/* Parses argv (argv[0] = the command name) against cmd into ctx: options, positional
 * arguments, -h (usage on stdout, exit 129) and usage errors (message and usage on
 * stderr, exit 129). ctx->values and ctx->argv are malloc'd; roar_cli_ctx_release
 * frees them and the repo. */
void roar_cli_parse(roar_cli_ctx *ctx, const roar_cli_command *cmd, int argc, char **argv);
void roar_cli_ctx_release(roar_cli_ctx *ctx);

/* Prints "usage: git roar <name> <synopsis>" and the option list, on stderr or stdout. */
void roar_cli_print_usage(const roar_cli_command *cmd, bool to_stderr);

/* ---- output in git's voice ----------------------------------------------------- */

/* "fatal: <msg>" on stderr, exit 128. */
void roar_cli_die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
/* "fatal: <roar_error_last()>" on stderr, exit 128; for a failed library call. */
void roar_cli_die_error(void) __attribute__((noreturn));
/* "error: <msg>" and the command's usage on stderr, exit 129. */
void roar_cli_usage_error(const roar_cli_command *cmd, const char *fmt, ...)
    __attribute__((format(printf, 2, 3), noreturn));
/* "error: <msg>" on stderr; returns ROAR_EXIT_FATAL for `return roar_cli_error(...)`
 * where a handler reports and gives up without exiting from deep inside. */
int roar_cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* "warning: <msg>" on stderr (printed even with -q: warnings are not chatter). */
void roar_cli_warning(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Progress and informational lines on stderr, suppressed by -q. */
void roar_cli_info(const roar_cli_ctx *ctx, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Shows the progress of long cache updates on stderr when it is a terminal and the
 * command is not --quiet (cli/progress.c). */
void roar_cli_progress_init(const roar_cli_ctx *ctx);

#endif
