/* fdstate's lifecycle: creating the state of one job, and freeing it with everything
 * that each of its parts (fdstate_internal.h lists them) holds. */
#include "trace/fdstate_internal.h"
#include "util/keymap.h"
#include "util/err.h"

#include <stdlib.h>

int roar_fdstate_new(roar_fdstate **out)
{
    *out = calloc(1, sizeof(**out));
    if (!*out)
        return roar_error_set(ROAR_ENOMEM, "out of memory");
    return 0;
}

void roar_fdstate_free(roar_fdstate *st)
{
    size_t i;
    if (!st)
        return;
    st->disposing = true;
    fdstate_procs_free(st);
    for (i = 0; i < st->file_count; i++)
        fdstate_file_free(st->files[i]);
    free(st->files);
    for (i = st->req_head; i < st->req_count; i++)
        free(st->reqs[i].path);
    free(st->reqs);
    free(st->popped_path);
    fdstate_written_free(st);
    for (i = 0; i < st->inc_count; i++)
        free(st->inc[i].path);
    free(st->inc);
    roar_keymap_dispose(&st->by_path);
    roar_keymap_dispose(&st->by_ident);
    roar_keymap_dispose(&st->prepaths);
    roar_keymap_dispose(&st->madepaths);
    fdstate_history_free(st);
    fdstate_flow_free(st);
    free(st);
}
