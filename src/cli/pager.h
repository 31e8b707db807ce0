/* Paging and color for the query commands, as git does them: a pager when standard
 * output is a terminal, and color when color.roar / color.ui allow it. */
#ifndef ROAR_CLI_PAGER_H
#define ROAR_CLI_PAGER_H

#include <stdbool.h>

#include "gitstore/repo.h"

/* Starts the pager when stdout is a terminal, unless git already runs one for us
 * (GIT_PAGER_IN_USE) or the pager is empty or "cat". The pager is chosen as git
 * chooses it: GIT_PAGER, core.pager, PAGER, then "less" (with LESS=FRX and LV=-c
 * unless set). Our stdout (and stderr, when it is a terminal) go to it; at exit we
 * close them and wait for it. repo may be NULL (no core.pager then). */
void roar_cli_pager_start(roar_repo *repo);

/* Whether a pager (ours or git's) receives our output. */
bool roar_cli_pager_in_use(void);

/* Decides once whether to color stdout: color.roar, else color.ui (default auto);
 * "always"/"never"/"false" as git reads them, "auto"/"true" = when stdout is a
 * terminal or a pager, and TERM is not "dumb". Call after roar_cli_pager_start. */
void roar_cli_color_init(roar_repo *repo);

typedef enum {
    ROAR_COLOR_RESET,
    ROAR_COLOR_ID,   /* job and commit ids: yellow, like git log's commit line */
    ROAR_COLOR_GOOD, /* status ok: green */
    ROAR_COLOR_WARN, /* stale, unknown: yellow */
    ROAR_COLOR_BAD,  /* modified, missing: red */
} roar_color;

/* The escape sequence for c, or "" when color is off. Borrowed, static. */
const char *roar_cli_color(roar_color c);

#endif
