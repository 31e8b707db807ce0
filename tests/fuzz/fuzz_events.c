/* libFuzzer target for the collector's untrusted input: a byte stream of event records
 * (from the preload shim inside arbitrary programs) decoded and applied to fdstate. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "trace/event.h"
#include "trace/fdstate.h"

static const char fake_id[] = "ce013625030ba8dba906f756967f9e9ca394464a";

/* The names the collector would list at the end (roar_fdstate_renamed_names). */
typedef struct {
    char *v[16];
    size_t n;
} renamed;

static int keep_renamed(const char *path, void *payload)
{
    renamed *r = payload;
    if (r->n < sizeof(r->v) / sizeof(*r->v) && (r->v[r->n] = strdup(path)) != NULL)
        r->n++;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    roar_fdstate *st = NULL;
    roar_fdstate_result res;
    roar_fdstate_hashreq req0;
    size_t at = 0;
    unsigned n = 0;

    if (roar_fdstate_new(&st) < 0)
        return 0;
    /* Records are decoded in place: the decoder copies the header out, so no alignment. */
    while (at < size) {
        roar_event ev;
        roar_fdstate_hashreq req;
        size_t used = 0;

        if (roar_event_decode(&ev, data + at, size - at, &used) < 0 || used == 0)
            break;
        if (used > size - at)
            abort(); /* the decoder claimed bytes it was not given */
        roar_fdstate_apply(st, &ev, NULL);
        /* Answer hash requests, alternating known and unknown ids. */
        while (roar_fdstate_next_hash(st, &req))
            roar_fdstate_set_preimage(st, req.file, (n++ & 1) ? fake_id : NULL,
                                      req.ident.size);
        at += used;
    }
    {
        /* The collector's listing at the end: each name, and a file beneath it, found
         * with identities the events may or may not have shown. */
        renamed r = {{0}, 0};
        size_t i;
        roar_fdstate_renamed_names(st, keep_renamed, &r);
        for (i = 0; i < r.n; i++) {
            size_t len = strlen(r.v[i]);
            char *sub = malloc(len + 3);
            roar_ident id = {true, 8, 1000 + i, 3, 0, 0, 0100644};
            roar_fdstate_add_moved(st, r.v[i], &id);
            if (sub) {
                memcpy(sub, r.v[i], len);
                memcpy(sub + len, "/f", 3);
                id.ino = 2000 + i;
                roar_fdstate_add_moved(st, sub, &id);
                free(sub);
            }
            free(r.v[i]);
        }
        while (roar_fdstate_next_hash(st, &req0))
            roar_fdstate_set_preimage(st, req0.file, fake_id, req0.ident.size);
    }
    if (roar_fdstate_result_get(&res, st) == 0)
        roar_fdstate_result_dispose(&res);
    roar_fdstate_free(st);
    return 0;
}
