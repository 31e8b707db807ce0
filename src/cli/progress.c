/* The progress line a long cache update shows on a terminal (reindex.h): nothing for
 * the first second, then at most ten redraws a second, on stderr, as git's own
 * progress does ("roar: indexing notes: 45% (11250/25000), 45000 jobs").
 * ROAR_PROGRESS_DELAY sets the quiet start in seconds, as GIT_PROGRESS_DELAY does
 * git's (0 shows every update: tests). */
#include "cli/cli.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "gitstore/reindex.h"

#define REDRAW_MS 100

static struct {
    int64_t show_after_ms;
    int64_t start_ms, drawn_ms;
    bool started, shown;
} progress;

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void draw(const roar_reindex_progress *p, const char *tail)
{
    fputs("\rroar: indexing notes: ", stderr);
    if (p->notes_total && p->notes_done <= p->notes_total)
        fprintf(stderr, "%3zu%% (%zu/%zu)", p->notes_done * 100 / p->notes_total, p->notes_done,
                p->notes_total);
    else
        fprintf(stderr, "%zu", p->notes_done);
    /* \033[K clears what a longer earlier line left on the right. */
    fprintf(stderr, ", %zu job%s%s\033[K", p->jobs, p->jobs == 1 ? "" : "s", tail);
    fflush(stderr);
}

static void on_progress(const roar_reindex_progress *p, void *payload)
{
    int64_t now = mono_ms();

    (void)payload;
    if (!progress.started) {
        progress.started = true;
        progress.start_ms = now;
    }
    switch (p->phase) {
    case ROAR_REINDEX_READING:
        if (now - progress.start_ms < progress.show_after_ms ||
            (progress.shown && now - progress.drawn_ms < REDRAW_MS))
            return;
        break;
    case ROAR_REINDEX_BUILDING:
        if (!progress.shown && now - progress.start_ms < progress.show_after_ms)
            return;
        draw(p, ", building indexes...");
        progress.shown = true;
        progress.drawn_ms = now;
        return;
    case ROAR_REINDEX_DONE:
        if (progress.shown)
            draw(p, ", done.\n");
        progress.started = progress.shown = false;
        return;
    }
    draw(p, "");
    progress.shown = true;
    progress.drawn_ms = now;
}

void roar_cli_progress_init(const roar_cli_ctx *ctx)
{
    const char *delay = getenv("ROAR_PROGRESS_DELAY");
    char *end;
    long seconds = 1;

    if (delay && *delay) {
        seconds = strtol(delay, &end, 10);
        if (*end || seconds < 0)
            seconds = 1;
    }
    progress.show_after_ms = (int64_t)seconds * 1000;
    if (!ctx->quiet && isatty(STDERR_FILENO))
        roar_reindex_set_progress(on_progress, NULL);
}
