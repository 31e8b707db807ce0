/* `git roar review [--format text|markdown|json] [--json] [--exit-code] RANGE|REV`
 * (SPEC §6.3): the findings of review_model.c, printed for a terminal, as one
 * pull-request comment (Markdown, with a hidden marker), or as JSON. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/check.h"
#include "cli/cli.h"
#include "cli/query.h"
#include "cli/review.h"
#include "util/keymap.h"
#include "util/err.h"
#include "util/escape.h"
#include "util/json.h"
#include "util/quote.h"

/* The hidden line CI looks for to update its own comment instead of adding one. */
#define REVIEW_MARKER "<!-- git-roar-review -->"
/* Forges cap a comment at 65,536 characters: details stop well before, and the rest
 * is summarised. */
#define MARKDOWN_BUDGET 60000
/* The diagram draws at most this many jobs. */
#define DIAGRAM_JOBS 40

static const char *kind_word(roar_review_kind k)
{
    switch (k) {
    case ROAR_REVIEW_EXPLAINED:
        return "explained";
    case ROAR_REVIEW_UNEXPLAINED:
        return "unexplained";
    case ROAR_REVIEW_CODE:
        return "code";
    case ROAR_REVIEW_DELETED:
        return "deleted";
    case ROAR_REVIEW_UNJUDGED:
        return "unjudged";
    }
    return "?";
}

static bool needs_attention(const roar_review *r)
{
    return r->no_notes || r->counts[ROAR_REVIEW_UNEXPLAINED] || r->stale_count;
}

static bool failed(const roar_job *job)
{
    return job->end_kind != ROAR_END_EXIT || job->end_code != 0;
}

/* ---- text ------------------------------------------------------------------------- */

static void put_text(roar_buf *out, roar_query *q, const roar_review *r)
{
    roar_query_job j;
    size_t i;

    roar_query_job_init(&j);
    CHECK(roar_buf_puts(out, "review "));
    CHECK(roar_escape_term_cstr(out, r->range));
    CHECK(roar_buf_printf(out, ": %zu commit%s, %.7s..%.7s\n", r->commits,
                          r->commits == 1 ? "" : "s", r->base[0] ? r->base : "(root)", r->tip));
    if (r->no_notes)
        CHECK(roar_buf_puts(out, "warning: this clone has no git roar notes; nothing can be "
                                 "judged (run 'git roar init' or 'git roar fetch')\n"));
    if (r->behind[0]) {
        CHECK(roar_buf_puts(out, "warning: the notes of "));
        CHECK(roar_escape_term_cstr(out, r->behind));
        CHECK(roar_buf_puts(out, " are ahead of the local notes; this report may miss jobs "
                                 "(run 'git roar fetch')\n"));
    }
    CHECK(roar_buf_printf(out,
                          "verdict: %s: %zu explained, %zu unexplained, %zu stale, %zu failed "
                          "(%zu code, %zu deleted)\n",
                          needs_attention(r) ? "needs attention" : "ok",
                          r->counts[ROAR_REVIEW_EXPLAINED], r->counts[ROAR_REVIEW_UNEXPLAINED],
                          r->stale_count, r->failed, r->counts[ROAR_REVIEW_CODE],
                          r->counts[ROAR_REVIEW_DELETED]));
    if (r->stale_count) {
        CHECK(roar_buf_printf(out, "\nstale at %.7s:\n", r->tip));
        for (i = 0; i < r->stale_count; i++) {
            const roar_review_stale *s = &r->stale[i];
            CHECK(roar_buf_puts(out, "  "));
            CHECK(roar_escape_path(out, s->output, strlen(s->output)));
            CHECK(roar_buf_puts(out, "  (input "));
            CHECK(roar_escape_path(out, s->input, strlen(s->input)));
            CHECK(roar_buf_printf(out, " %s job %.7s)\n",
                                  s->through ? "comes from a stale job, before" : "changed since",
                                  s->job));
        }
    }
    if (r->value_count) {
        CHECK(roar_buf_puts(out, "\nmetrics and parameters:\n"));
        for (i = 0; i < r->value_count; i++) {
            const roar_review_value *v = &r->values[i];
            CHECK(roar_buf_puts(out, v->metric ? "  metric  " : "  param   "));
            CHECK(roar_escape_path(out, v->file, strlen(v->file)));
            CHECK(roar_buf_putc(out, ' '));
            CHECK(roar_escape_term_cstr(out, v->key));
            CHECK(roar_buf_puts(out, ": "));
            CHECK(roar_escape_term_cstr(out, v->old_value ? v->old_value : "(none)"));
            CHECK(roar_buf_puts(out, " -> "));
            CHECK(roar_escape_term_cstr(out, v->new_value ? v->new_value : "(none)"));
            CHECK(roar_buf_putc(out, '\n'));
        }
    }
    CHECK(roar_buf_printf(out, "\ncommits (%zu):\n", r->commits));
    for (i = 0; i < r->commits; i++) {
        CHECK(roar_buf_printf(out, "  %.7s ", r->commit_ids[i]));
        CHECK(roar_escape_term_cstr(out, r->summaries[i]));
        CHECK(roar_buf_putc(out, '\n'));
    }
    CHECK(roar_buf_printf(out, "\nchanged files (%zu):\n", r->file_count));
    for (i = 0; i < r->file_count; i++) {
        const roar_review_file *f = &r->files[i];
        CHECK(roar_buf_printf(out, "  %-12s", kind_word(f->kind)));
        CHECK(roar_escape_path(out, f->path, strlen(f->path)));
        if (f->producer[0])
            CHECK(roar_buf_printf(out, "  by %.7s", f->producer));
        CHECK(roar_buf_putc(out, '\n'));
    }
    CHECK(roar_buf_printf(out, "\njobs (%zu):\n", r->jobs.count));
    for (i = 0; i < r->jobs.count; i++) {
        roar_query_job_load(&j, q, r->jobs.items[i]);
        CHECK(roar_buf_puts(out, "  "));
        CHECK(roar_query_job_line(out, &j));
        CHECK(roar_buf_putc(out, '\n'));
    }
    roar_query_job_dispose(&j);
}

/* ---- Markdown ------------------------------------------------------------------------ */

static void md_code(roar_buf *out, const char *s, bool in_table)
{
    CHECK(roar_escape_md_code_cstr(out, s, in_table));
}

static void md_command(roar_buf *out, const roar_job *job, bool in_table)
{
    roar_buf cmd = ROAR_BUF_INIT;
    CHECK(roar_quote_argv(&cmd, (const char *const *)job->argv, job->argc));
    md_code(out, cmd.ptr, in_table);
    roar_buf_dispose(&cmd);
}

/* A Mermaid label: the caller writes the quotes. */
static void mermaid_label(roar_buf *out, const char *s)
{
    CHECK(roar_escape_mermaid(out, s, strlen(s)));
}

/* The range's jobs and the work-tree files they read and wrote; files outside the work
 * tree collapsed into one "N outside files" node per job. */
static void put_diagram(roar_buf *out, roar_query *q, const roar_review *r)
{
    roar_query_job j;
    roar_keymap seen = ROAR_KEYMAP_INIT; /* "<path>\t<id>" -> artifact node index + 1 */
    roar_buf key = ROAR_BUF_INIT;
    size_t i, e, nodes = 0;

    roar_query_job_init(&j);
    CHECK(roar_buf_puts(out, "```mermaid\nflowchart LR\n"));
    for (i = 0; i < r->jobs.count && i < DIAGRAM_JOBS; i++) {
        size_t outside = 0;
        roar_query_job_load(&j, q, r->jobs.items[i]);
        CHECK(roar_buf_printf(out, "  j%zu[\"job %.7s%s\"]\n", i, j.job.id,
                              failed(&j.job) ? " (failed)" : ""));
        for (e = 0; e < j.job.edge_count; e++) {
            const roar_edge *edge = &j.job.edges[e];
            void *hit;
            size_t node;
            if (edge->role == ROAR_ROLE_DEL)
                continue;
            if (edge->path[0] == '/') {
                outside += edge->role == ROAR_ROLE_IN;
                continue;
            }
            roar_buf_clear(&key);
            CHECK(roar_buf_printf(&key, "%s\t%s", edge->path, edge->id_known ? edge->id : "-"));
            if ((hit = roar_keymap_get(&seen, key.ptr, key.size)) != NULL) {
                node = (size_t)(uintptr_t)hit - 1;
            } else {
                node = nodes++;
                CHECK(roar_keymap_put(&seen, key.ptr, key.size, (void *)(uintptr_t)(node + 1)));
                CHECK(roar_buf_printf(out, "  a%zu([\"", node));
                mermaid_label(out, edge->path);
                CHECK(roar_buf_puts(out, "\"])\n"));
            }
            if (edge->role == ROAR_ROLE_IN)
                CHECK(roar_buf_printf(out, "  a%zu --> j%zu\n", node, i));
            else
                CHECK(roar_buf_printf(out, "  j%zu --> a%zu\n", i, node));
        }
        if (outside)
            CHECK(roar_buf_printf(out, "  o%zu([\"%zu outside file%s\"]) --> j%zu\n", i, outside,
                                  outside == 1 ? "" : "s", i));
    }
    CHECK(roar_buf_puts(out, "```\n"));
    if (r->jobs.count > DIAGRAM_JOBS)
        CHECK(roar_buf_printf(out, "\n_%zu more jobs not drawn._\n",
                              r->jobs.count - DIAGRAM_JOBS));
    roar_keymap_dispose(&seen);
    roar_buf_dispose(&key);
    roar_query_job_dispose(&j);
}

static bool over_budget(const roar_buf *out)
{
    return out->size > MARKDOWN_BUDGET;
}

static void put_markdown(roar_buf *out, roar_query *q, const roar_review *r)
{
    roar_query_job j;
    size_t i;

    roar_query_job_init(&j);
    CHECK(roar_buf_puts(out, REVIEW_MARKER "\n## git roar review "));
    md_code(out, r->range, false);
    CHECK(roar_buf_printf(out, "\n\n%zu commit%s, `%.7s..%.7s`.\n", r->commits,
                          r->commits == 1 ? "" : "s", r->base[0] ? r->base : "root", r->tip));
    if (r->no_notes)
        CHECK(roar_buf_puts(out, "\n> **Warning:** this clone has no git roar notes, so nothing "
                                 "can be judged. Fetch them first (`git roar fetch`).\n"));
    if (r->behind[0]) {
        CHECK(roar_buf_puts(out, "\n> **Warning:** the notes of "));
        md_code(out, r->behind, false);
        CHECK(roar_buf_puts(out, " are ahead of the local notes; this report may miss jobs "
                                 "(`git roar fetch`).\n"));
    }
    CHECK(roar_buf_printf(out, "\n**Verdict:** %s\n\n",
                          needs_attention(r) ? ":warning: needs attention"
                                             : ":white_check_mark: every changed data file is "
                                               "explained and nothing is stale"));
    CHECK(roar_buf_puts(out, "| explained | unexplained | stale | failed | code | deleted |\n"
                             "|---|---|---|---|---|---|\n"));
    CHECK(roar_buf_printf(out, "| %zu | %zu | %zu | %zu | %zu | %zu |\n",
                          r->counts[ROAR_REVIEW_EXPLAINED], r->counts[ROAR_REVIEW_UNEXPLAINED],
                          r->stale_count, r->failed, r->counts[ROAR_REVIEW_CODE],
                          r->counts[ROAR_REVIEW_DELETED]));

    if (r->stale_count) {
        CHECK(roar_buf_printf(out, "\n### Stale at `%.7s`\n\n", r->tip));
        for (i = 0; i < r->stale_count && !over_budget(out); i++) {
            const roar_review_stale *s = &r->stale[i];
            CHECK(roar_buf_puts(out, "- "));
            md_code(out, s->output, false);
            CHECK(roar_buf_puts(out, ": input "));
            md_code(out, s->input, false);
            CHECK(roar_buf_printf(out, " %s job `%.7s`\n",
                                  s->through ? "comes from a stale job, before" : "changed since",
                                  s->job));
        }
        if (i < r->stale_count)
            CHECK(roar_buf_printf(out, "- _%zu more not shown_\n", r->stale_count - i));
    }
    if (r->value_count) {
        CHECK(roar_buf_puts(out, "\n### Metrics and parameters\n\n| File | Key | Old | New |\n"
                                 "|---|---|---|---|\n"));
        for (i = 0; i < r->value_count && !over_budget(out); i++) {
            const roar_review_value *v = &r->values[i];
            CHECK(roar_buf_puts(out, "| "));
            md_code(out, v->file, true);
            CHECK(roar_buf_puts(out, v->metric ? " (metric) | " : " (param) | "));
            md_code(out, v->key, true);
            CHECK(roar_buf_puts(out, " | "));
            md_code(out, v->old_value ? v->old_value : "", true);
            CHECK(roar_buf_puts(out, " | "));
            md_code(out, v->new_value ? v->new_value : "", true);
            CHECK(roar_buf_puts(out, " |\n"));
        }
        if (i < r->value_count)
            CHECK(roar_buf_printf(out, "\n_%zu more values not shown._\n", r->value_count - i));
    }

    CHECK(roar_buf_printf(out, "\n<details><summary>Changed files (%zu)</summary>\n\n"
                               "| File | Status | Produced by |\n|---|---|---|\n",
                          r->file_count));
    for (i = 0; i < r->file_count && !over_budget(out); i++) {
        const roar_review_file *f = &r->files[i];
        CHECK(roar_buf_puts(out, "| "));
        md_code(out, f->path, true);
        CHECK(roar_buf_printf(out, " | %s%s | ",
                              f->kind == ROAR_REVIEW_UNEXPLAINED ? ":warning: " : "",
                              kind_word(f->kind)));
        if (f->producer[0])
            CHECK(roar_buf_printf(out, "`%.7s`", f->producer));
        CHECK(roar_buf_puts(out, " |\n"));
    }
    if (i < r->file_count)
        CHECK(roar_buf_printf(out, "\n_%zu more files not shown._\n", r->file_count - i));
    CHECK(roar_buf_puts(out, "\n</details>\n"));

    CHECK(roar_buf_printf(out, "\n<details><summary>Commits (%zu)</summary>\n\n", r->commits));
    for (i = 0; i < r->commits && !over_budget(out); i++) {
        CHECK(roar_buf_printf(out, "- `%.7s` ", r->commit_ids[i]));
        CHECK(roar_escape_md(out, r->summaries[i], strlen(r->summaries[i])));
        CHECK(roar_buf_putc(out, '\n'));
    }
    if (i < r->commits)
        CHECK(roar_buf_printf(out, "- _%zu more commits not shown_\n", r->commits - i));
    CHECK(roar_buf_puts(out, "\n</details>\n"));

    CHECK(roar_buf_printf(out, "\n<details><summary>Jobs (%zu)</summary>\n\n", r->jobs.count));
    for (i = 0; i < r->jobs.count && !over_budget(out); i++) {
        roar_query_job_load(&j, q, r->jobs.items[i]);
        CHECK(roar_buf_printf(out, "- `%.7s` ", j.job.id));
        md_command(out, &j.job, false);
        if (failed(&j.job))
            CHECK(roar_buf_printf(out, " :x: **failed** (%s %d); its writes explain nothing",
                                  j.job.end_kind == ROAR_END_SIGNAL ? "signal" : "exit",
                                  j.job.end_code));
        CHECK(roar_buf_putc(out, '\n'));
    }
    if (i < r->jobs.count)
        CHECK(roar_buf_printf(out, "- _%zu more jobs not shown_\n", r->jobs.count - i));
    CHECK(roar_buf_puts(out, "\n</details>\n"));

    if (r->jobs.count && !over_budget(out)) {
        CHECK(roar_buf_puts(out, "\n<details><summary>Lineage of the range's jobs</summary>\n\n"));
        put_diagram(out, q, r);
        CHECK(roar_buf_puts(out, "\n</details>\n"));
    }
    CHECK(roar_buf_puts(out, "\n<sub>Stale: outputs the tip holds whose inputs, as of the tip, "
                             "differ from what their producer read, directly or through "
                             "another stale job. Generated by git roar.</sub>\n"));
    roar_query_job_dispose(&j);
}

/* ---- JSON ----------------------------------------------------------------------------- */

static void json_str(roar_buf *out, const char *s)
{
    if (s)
        CHECK(roar_json_cstr(out, s));
    else
        CHECK(roar_buf_puts(out, "null"));
}

static void put_json(roar_buf *out, roar_query *q, const roar_review *r)
{
    size_t i;

    CHECK(roar_buf_printf(out, "{\"version\":%d,\"range\":", ROAR_QUERY_JSON_VERSION));
    json_str(out, r->range);
    CHECK(roar_buf_puts(out, ",\"base\":"));
    json_str(out, r->base[0] ? r->base : NULL);
    CHECK(roar_buf_printf(out, ",\"tip\":\"%s\",\"commits\":%zu,\"no_notes\":%s,\"notes_behind\":",
                          r->tip, r->commits, r->no_notes ? "true" : "false"));
    json_str(out, r->behind[0] ? r->behind : NULL);
    CHECK(roar_buf_printf(out,
                          ",\"verdict\":\"%s\",\"summary\":{\"explained\":%zu,\"unexplained\":%zu,"
                          "\"stale\":%zu,\"failed\":%zu,\"code\":%zu,\"deleted\":%zu,"
                          "\"unjudged\":%zu},\"files\":[",
                          needs_attention(r) ? "attention" : "ok", r->counts[ROAR_REVIEW_EXPLAINED],
                          r->counts[ROAR_REVIEW_UNEXPLAINED], r->stale_count, r->failed,
                          r->counts[ROAR_REVIEW_CODE], r->counts[ROAR_REVIEW_DELETED],
                          r->counts[ROAR_REVIEW_UNJUDGED]));
    for (i = 0; i < r->file_count; i++) {
        const roar_review_file *f = &r->files[i];
        CHECK(roar_buf_puts(out, i ? ",{" : "{"));
        CHECK(roar_query_json_path(out, "path", f->path));
        CHECK(roar_buf_printf(out, ",\"status\":\"%c\",\"kind\":\"%s\",\"producer\":", f->status,
                              kind_word(f->kind)));
        json_str(out, f->producer[0] ? f->producer : NULL);
        CHECK(roar_buf_putc(out, '}'));
    }
    CHECK(roar_buf_puts(out, "],\"stale\":["));
    for (i = 0; i < r->stale_count; i++) {
        const roar_review_stale *s = &r->stale[i];
        CHECK(roar_buf_puts(out, i ? ",{" : "{"));
        CHECK(roar_query_json_path(out, "output", s->output));
        CHECK(roar_buf_putc(out, ','));
        CHECK(roar_query_json_path(out, "input", s->input));
        CHECK(roar_buf_printf(out, ",\"job\":\"%s\",\"through_stale_job\":%s}", s->job,
                              s->through ? "true" : "false"));
    }
    CHECK(roar_buf_puts(out, "],\"values\":["));
    for (i = 0; i < r->value_count; i++) {
        const roar_review_value *v = &r->values[i];
        CHECK(roar_buf_puts(out, i ? ",{" : "{"));
        CHECK(roar_query_json_path(out, "file", v->file));
        CHECK(roar_buf_puts(out, ",\"key\":"));
        json_str(out, v->key);
        CHECK(roar_buf_puts(out, ",\"old\":"));
        json_str(out, v->old_value);
        CHECK(roar_buf_puts(out, ",\"new\":"));
        json_str(out, v->new_value);
        CHECK(roar_buf_printf(out, ",\"kind\":\"%s\"}", v->metric ? "metric" : "param"));
    }
    CHECK(roar_buf_puts(out, "],\"jobs\":["));
    roar_query_put_json_jobs(out, q, &r->jobs);
    CHECK(roar_buf_puts(out, "]}\n"));
}

int roar_cmd_review(roar_cli_ctx *ctx)
{
    const char *format = roar_cli_opt_set(ctx, "json") ? "json"
                                                       : roar_cli_opt_string(ctx, "format", "text");
    roar_query *q = roar_query_open(ctx);
    roar_review r;
    roar_buf out = ROAR_BUF_INIT;
    int status = ROAR_EXIT_OK;

    roar_review_init(&r);
    roar_review_compute(&r, q, ctx->repo, ctx->argv[0]);
    if (r.no_notes && !ctx->quiet)
        roar_cli_warning("this clone has no git roar notes; nothing can be judged "
                         "(run 'git roar init' or 'git roar fetch')");
    if (!strcmp(format, "json"))
        put_json(&out, q, &r);
    else if (!strcmp(format, "markdown"))
        put_markdown(&out, q, &r);
    else
        put_text(&out, q, &r);
    roar_query_flush(&out);
    if (roar_cli_opt_set(ctx, "exit-code") && needs_attention(&r))
        status = ROAR_EXIT_NEGATIVE;
    roar_review_dispose(&r);
    roar_buf_dispose(&out);
    roar_query_free(q);
    return status;
}
