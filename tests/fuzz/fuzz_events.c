/* libFuzzer target for the collector's untrusted input: a byte stream of event records
 * (from the preload shim inside arbitrary programs) decoded and applied to fdstate. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "trace/event.h"
#include "trace/fdstate.h"

static const char fake_id[] = "ce013625030ba8dba906f756967f9e9ca394464a";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    roar_fdstate *st = NULL;
    roar_fdstate_result res;
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
    if (roar_fdstate_result_get(&res, st) == 0)
        roar_fdstate_result_dispose(&res);
    roar_fdstate_free(st);
    return 0;
}
