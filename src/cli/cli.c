/* Option parsing against a command's declared options, usage text, and the fatal/error/
 * warning printers. git's parse-options conventions, cut down to what git roar needs. */
#include "cli/cli.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/err.h"

/* Where the help column starts in option lists (git uses 26 as well). */
#define USAGE_HELP_COLUMN 26

static void vreport(const char *prefix, const char *fmt, va_list ap)
{
    /* Whatever the command already printed belongs before the complaint. */
    fflush(stdout);
    fputs(prefix, stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
}

void roar_cli_die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vreport("fatal: ", fmt, ap);
    va_end(ap);
    exit(ROAR_EXIT_FATAL);
}

void roar_cli_die_error(void)
{
    roar_cli_die("%s", roar_error_last());
}

int roar_cli_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vreport("error: ", fmt, ap);
    va_end(ap);
    return ROAR_EXIT_FATAL;
}

void roar_cli_warning(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vreport("warning: ", fmt, ap);
    va_end(ap);
}

void roar_cli_info(const roar_cli_ctx *ctx, const char *fmt, ...)
{
    va_list ap;

    if (ctx && ctx->quiet)
        return;
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

/* One line of the option list: "    -n, --max-count <N>   help". */
static void print_option(FILE *out, char short_name, const char *long_name, const char *argh,
                         const char *help)
{
    int col = fprintf(out, "    ");

    if (short_name)
        col += fprintf(out, "-%c, ", short_name);
    col += fprintf(out, "--%s", long_name);
    if (argh)
        col += fprintf(out, " <%s>", argh);
    if (col + 2 > USAGE_HELP_COLUMN) {
        fputc('\n', out);
        col = 0;
    }
    fprintf(out, "%*s%s\n", USAGE_HELP_COLUMN - col, "", help);
}

void roar_cli_print_usage(const roar_cli_command *cmd, bool to_stderr)
{
    FILE *out = to_stderr ? stderr : stdout;
    const roar_option *opt;

    fflush(stdout);
    fprintf(out, "usage: git roar %s%s%s\n\n", cmd->name, cmd->synopsis[0] ? " " : "",
            cmd->synopsis);
    for (opt = cmd->options; opt && opt->type != ROAR_OPT_END; opt++)
        print_option(out, opt->short_name, opt->long_name,
                     opt->type == ROAR_OPT_BOOL ? NULL : opt->argh, opt->help);
    print_option(out, 'q', "quiet", NULL, "suppress progress and summary output");
    print_option(out, 'h', "help", NULL, "show this usage");
    fputc('\n', out);
}

void roar_cli_usage_error(const roar_cli_command *cmd, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vreport("error: ", fmt, ap);
    va_end(ap);
    roar_cli_print_usage(cmd, true);
    exit(ROAR_EXIT_USAGE);
}

static void help_and_exit(const roar_cli_command *cmd)
{
    /* As `git <cmd> -h`: the usage is the requested output, the status says "usage". */
    roar_cli_print_usage(cmd, false);
    fflush(stdout);
    exit(ROAR_EXIT_USAGE);
}

static int find_long(const roar_cli_command *cmd, const char *name, size_t len)
{
    int i;
    for (i = 0; cmd->options && cmd->options[i].type != ROAR_OPT_END; i++)
        if (strlen(cmd->options[i].long_name) == len &&
            !strncmp(cmd->options[i].long_name, name, len))
            return i;
    return -1;
}

static int find_short(const roar_cli_command *cmd, char c)
{
    int i;
    for (i = 0; cmd->options && cmd->options[i].type != ROAR_OPT_END; i++)
        if (cmd->options[i].short_name == c)
            return i;
    return -1;
}

/* Whether `value` is one of the '|'-separated words in `choices`. */
static bool is_choice(const char *choices, const char *value)
{
    size_t len = strlen(value);
    const char *p = choices;

    while (*p) {
        size_t word = strcspn(p, "|");
        if (word == len && !strncmp(p, value, len))
            return true;
        p += word;
        if (*p == '|')
            p++;
    }
    return false;
}

/* Stores a STRING or INT option's value, complaining in git's words when it is bad. */
static void set_value(roar_cli_ctx *ctx, int i, const char *value)
{
    const roar_option *opt = &ctx->cmd->options[i];
    struct roar_cli_optval *v = &ctx->values[i];

    if (opt->type == ROAR_OPT_INT) {
        char *end;
        long num;
        errno = 0;
        num = strtol(value, &end, 10);
        if (!*value || *end || errno || num < 0)
            roar_cli_usage_error(ctx->cmd, "option `%s' expects a non-negative number",
                                 opt->long_name);
        v->num = num;
    } else if (opt->choices && !is_choice(opt->choices, value)) {
        roar_cli_usage_error(ctx->cmd, "invalid value '%s' for --%s (expected %s)", value,
                             opt->long_name, opt->choices);
    }
    v->set = true;
    v->str = value;
}

/* --name, --name=value, --name value. Returns how many extra argv entries it used. */
static int parse_long(roar_cli_ctx *ctx, const char *arg, const char *next)
{
    const char *name = arg + 2;
    const char *eq = strchr(name, '=');
    size_t len = eq ? (size_t)(eq - name) : strlen(name);
    int i;

    if (len == 4 && !strncmp(name, "help", 4))
        help_and_exit(ctx->cmd);
    if (len == 5 && !strncmp(name, "quiet", 5)) {
        if (eq)
            roar_cli_usage_error(ctx->cmd, "option `quiet' takes no value");
        ctx->quiet = true;
        return 0;
    }
    if ((i = find_long(ctx->cmd, name, len)) < 0)
        roar_cli_usage_error(ctx->cmd, "unknown option `--%.*s'", (int)len, name);

    if (ctx->cmd->options[i].type == ROAR_OPT_BOOL) {
        if (eq)
            roar_cli_usage_error(ctx->cmd, "option `%s' takes no value",
                                 ctx->cmd->options[i].long_name);
        ctx->values[i].set = true;
        return 0;
    }
    if (eq) {
        set_value(ctx, i, eq + 1);
        return 0;
    }
    if (!next)
        roar_cli_usage_error(ctx->cmd, "option `%s' requires a value",
                             ctx->cmd->options[i].long_name);
    set_value(ctx, i, next);
    return 1;
}

/* -x, a cluster -qx, -mMSG, -m MSG. Returns how many extra argv entries it used. */
static int parse_short(roar_cli_ctx *ctx, const char *arg, const char *next)
{
    const char *p;
    int i;

    for (p = arg + 1; *p; p++) {
        if (*p == 'h')
            help_and_exit(ctx->cmd);
        if (*p == 'q') {
            ctx->quiet = true;
            continue;
        }
        if ((i = find_short(ctx->cmd, *p)) < 0)
            roar_cli_usage_error(ctx->cmd, "unknown option `-%c'", *p);
        if (ctx->cmd->options[i].type == ROAR_OPT_BOOL) {
            ctx->values[i].set = true;
            continue;
        }
        if (p[1]) {
            set_value(ctx, i, p + 1);
            return 0;
        }
        if (!next)
            roar_cli_usage_error(ctx->cmd, "switch `%c' requires a value", *p);
        set_value(ctx, i, next);
        return 1;
    }
    return 0;
}

void roar_cli_parse(roar_cli_ctx *ctx, const roar_cli_command *cmd, int argc, char **argv)
{
    bool options_done = false;
    size_t nopts = 0;
    int i;

    memset(ctx, 0, sizeof(*ctx));
    ctx->cmd = cmd;
    ctx->dashdash = -1;
    while (cmd->options && cmd->options[nopts].type != ROAR_OPT_END)
        nopts++;
    ctx->values = calloc(nopts + 1, sizeof(*ctx->values));
    ctx->argv = calloc((size_t)argc + 1, sizeof(*ctx->argv));
    if (!ctx->values || !ctx->argv)
        roar_cli_die("out of memory");

    for (i = 1; i < argc; i++) {
        const char *arg = argv[i];
        const char *next = i + 1 < argc ? argv[i + 1] : NULL;

        if (options_done || arg[0] != '-' || arg[1] == '\0') { /* "-" is an argument */
            ctx->argv[ctx->argc++] = argv[i];
            if (cmd->flags & ROAR_CMD_STOP_AT_ARG)
                options_done = true;
        } else if (!strcmp(arg, "--")) {
            options_done = true;
            ctx->dashdash = ctx->argc;
        } else if (arg[1] == '-') {
            i += parse_long(ctx, arg, next);
        } else {
            i += parse_short(ctx, arg, next);
        }
    }

    if (ctx->argc < cmd->min_args)
        roar_cli_usage_error(cmd, "too few arguments");
    if (cmd->max_args >= 0 && ctx->argc > cmd->max_args)
        roar_cli_usage_error(cmd, "too many arguments");
}

void roar_cli_ctx_release(roar_cli_ctx *ctx)
{
    free(ctx->values);
    free(ctx->argv);
    roar_repo_free(ctx->repo);
    memset(ctx, 0, sizeof(*ctx));
}

/* A handler asking for an option its command does not declare is a programmer error
 * (git's BUG()): say so loudly rather than quietly answer "not set". */
static int option_index(const roar_cli_ctx *ctx, const char *name)
{
    int i = find_long(ctx->cmd, name, strlen(name));
    if (i < 0) {
        fprintf(stderr, "BUG: git roar %s has no option --%s\n", ctx->cmd->name, name);
        abort();
    }
    return i;
}

bool roar_cli_opt_set(const roar_cli_ctx *ctx, const char *name)
{
    return ctx->values[option_index(ctx, name)].set;
}

const char *roar_cli_opt_string(const roar_cli_ctx *ctx, const char *name, const char *dflt)
{
    int i = option_index(ctx, name);
    return ctx->values[i].set ? ctx->values[i].str : dflt;
}

long roar_cli_opt_int(const roar_cli_ctx *ctx, const char *name, long dflt)
{
    int i = option_index(ctx, name);
    return ctx->values[i].set ? ctx->values[i].num : dflt;
}
