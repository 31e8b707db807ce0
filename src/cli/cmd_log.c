/* `git roar log [-n N] [--pending] [--json] [-- PATH...]`: jobs newest first, from the
 * cache, scoped as SPEC §5.3 says (attached to commits reachable from HEAD, or pending). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/cli.h"
#include "cli/query.h"
#include "util/err.h"

/* Jobs are listed in pages that grow from the first (what `-n` usually asks for) to
 * a size where a page's query costs little next to its rows. */
#define LOG_FIRST_PAGE 32
#define LOG_MAX_PAGE 8192
/* Output is flushed per line for the first page (the first lines show at once), then
 * in chunks of this size. */
#define LOG_FLUSH_BYTES 65536

int roar_cmd_log(roar_cli_ctx *ctx)
{
    roar_cache_list_opts opts = ROAR_CACHE_LIST_OPTS_INIT;
    roar_cache_jobinfo_list list = ROAR_CACHE_JOBINFO_LIST_INIT;
    roar_query_job job;
    roar_buf out = ROAR_BUF_INIT, abs = ROAR_BUF_INIT;
    roar_buf *paths = NULL;
    const char **path_ptrs = NULL;
    bool json = roar_cli_opt_set(ctx, "json");
    bool limited = roar_cli_opt_set(ctx, "max-count");
    size_t limit = (size_t)roar_cli_opt_int(ctx, "max-count", 0), shown = 0, i;
    roar_query *q = roar_query_open(ctx);

    roar_query_job_init(&job);

    /* Paths, relative to the current directory, in the form records use. Before `--`
     * an argument must exist, as with git log: a typo is not silently an empty list. */
    if (ctx->argc > 0) {
        if (!(paths = calloc((size_t)ctx->argc, sizeof(*paths))) ||
            !(path_ptrs = calloc((size_t)ctx->argc, sizeof(*path_ptrs))))
            roar_cli_die("out of memory");
        for (i = 0; i < (size_t)ctx->argc; i++) {
            struct stat st;
            roar_buf_init(&paths[i]);
            roar_buf_clear(&abs);
            roar_query_map_path(&paths[i], &abs, q, ctx->argv[i]);
            if ((ctx->dashdash < 0 || (int)i < ctx->dashdash) && lstat(abs.ptr, &st) < 0)
                roar_cli_die("ambiguous argument '%s': unknown path not in the working tree.\n"
                             "Use '--' to separate paths from options, like this:\n"
                             "'git roar log [<options>] -- [<path>...]'",
                             ctx->argv[i]);
            path_ptrs[i] = paths[i].ptr;
        }
        opts.paths = path_ptrs;
        opts.path_count = (size_t)ctx->argc;
    }
    opts.pending_only = roar_cli_opt_set(ctx, "pending");

    if (json && roar_buf_printf(&out, "{\"version\":%d,\"jobs\":[", ROAR_QUERY_JSON_VERSION) < 0)
        roar_cli_die("out of memory");

    if (!roar_query_cache(q)) {
        if (!json && !ctx->quiet)
            printf("no jobs recorded yet\n");
    } else {
        roar_scope *scope = roar_query_scope(q);
        roar_cache_jobinfo last;
        size_t page = LOG_FIRST_PAGE;
        bool more = true, in;

        /* In pages, newest first, each deciding scope before loading a job: `-n 20`
         * reads about 20 jobs, and the first lines of a long log print at once. */
        while (more && (!limited || shown < limit)) {
            opts.limit = page;
            /* One snapshot a page; the output waits outside it. */
            if (roar_cache_read_begin(roar_query_cache(q)) < 0 ||
                roar_cache_job_list(&list, roar_query_cache(q), &opts) < 0)
                roar_cli_die_error();
            for (i = 0; i < list.count && (!limited || shown < limit); i++) {
                if (roar_scope_has(&in, scope, list.items[i].id) < 0)
                    roar_cli_die_error();
                if (!in)
                    continue;
                roar_query_job_load_summary(&job, q, list.items[i].id);
                if (json) {
                    if ((shown && roar_buf_putc(&out, ',') < 0) ||
                        roar_query_json_job(&out, &job, false) < 0)
                        roar_cli_die("out of memory");
                } else if (roar_query_job_line(&out, &job) < 0 ||
                           roar_buf_putc(&out, '\n') < 0) {
                    roar_cli_die("out of memory");
                }
                shown++;
                if (out.size > LOG_FLUSH_BYTES || shown <= LOG_FIRST_PAGE) {
                    roar_cache_read_end(roar_query_cache(q));
                    roar_query_flush(&out);
                    if (roar_cache_read_begin(roar_query_cache(q)) < 0)
                        roar_cli_die_error();
                }
            }
            roar_cache_read_end(roar_query_cache(q));
            roar_query_flush(&out);
            more = list.count == page;
            if (more) {
                last = list.items[list.count - 1];
                last.pending_worktree = NULL; /* owned by the list; not needed */
                opts.after = &last;
                if (page < LOG_MAX_PAGE)
                    page *= 4;
            }
        }
    }
    if (json && roar_buf_puts(&out, "]}\n") < 0)
        roar_cli_die("out of memory");
    roar_query_flush(&out);

    for (i = 0; paths && i < (size_t)ctx->argc; i++)
        roar_buf_dispose(&paths[i]);
    free(paths);
    free(path_ptrs);
    roar_buf_dispose(&out);
    roar_buf_dispose(&abs);
    roar_query_job_dispose(&job);
    roar_cache_jobinfo_list_dispose(&list);
    roar_query_free(q);
    return ROAR_EXIT_OK;
}
