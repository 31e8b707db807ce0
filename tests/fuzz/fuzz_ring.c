/* libFuzzer target for the preload ring's consumer: the data area is writable by every
 * traced program, so arbitrary bytes there (slot words, pads, full and compact records)
 * must only ever be read, refused and counted, never trusted. The input is the data
 * area's first bytes, all of them reserved, at a cursor where slot tags start from 0
 * (so seeds are real slots); what reads out is decoded and applied to fdstate as the
 * collector does. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "trace/event.h"
#include "trace/fdstate.h"
#include "trace/ring.h"
#include "util/err.h"

static roar_ring *ring;
static unsigned char *rec;

static int setup(void)
{
    char *dir = NULL, path[4200];

    if (roar_ring_dir_create(&dir) < 0)
        return -1;
    snprintf(path, sizeof(path), "%s/ring", dir);
    /* The file is unlinked at once: the mapping is all this process needs. */
    if (roar_ring_create(&ring, path, ROAR_RING_MIN_DATA) < 0)
        return -1;
    roar_ring_dir_remove(dir);
    free(dir);
    rec = malloc(ROAR_RING_RECORD_MAX);
    roar_ring_set_stall_ms(ring, 0); /* skip unpublished slots at once (resync) */
    return rec ? 0 : -1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct roar_ring_hdr *h;
    unsigned char *area;
    roar_fdstate *st = NULL;
    roar_fdstate_result res;
    const uint64_t period = (uint64_t)8 << 30; /* bytes per cycle of slot tags */
    uint64_t start;
    unsigned i, empty = 0;

    if (!ring && setup() < 0)
        abort();
    h = roar_ring_header(ring);
    area = (unsigned char *)h + ROAR_RING_HDR_SIZE;
    if (size > ROAR_RING_MIN_DATA)
        size = ROAR_RING_MIN_DATA;
    /* Cursors only grow (the consumer keeps a copy of reserve): the next tag cycle. */
    start = (h->reserve + period) & ~(period - 1);
    if (start < h->reserve) { /* after 2^31 inputs: a fresh ring */
        roar_ring_free(ring);
        ring = NULL;
        free(rec);
        return LLVMFuzzerTestOneInput(data, size);
    }
    memset(area, 0, ROAR_RING_MIN_DATA);
    memcpy(area, data, size);
    h->read = start;
    h->reserve = start + ((size + 7) & ~(size_t)7);
    if (roar_fdstate_new(&st) < 0)
        return 0;
    /* Every call consumes at least one slot word or returns nothing: bounded. A second
     * empty answer in a row means an unpublished slot nothing published follows. */
    for (i = 0; i < ROAR_RING_MIN_DATA / ROAR_SLOT_WORD + 2 && empty < 2; i++) {
        roar_event ev;
        size_t len = 0, used = 0;
        if (roar_ring_read(ring, rec, ROAR_RING_RECORD_MAX, &len, 0) < 0) {
            roar_error_clear();
            continue;
        }
        if (len == 0) {
            empty++;
            continue;
        }
        empty = 0;
        if (len > ROAR_RING_RECORD_MAX)
            abort();
        if (roar_event_decode(&ev, rec, len, &used) < 0 || used != len) {
            roar_error_clear();
            continue;
        }
        roar_fdstate_apply(st, &ev, NULL);
    }
    if (h->read > h->reserve)
        abort(); /* the consumer went past what was reserved */
    /* Whatever is left unread (a slot never published) is dropped for the next input. */
    h->read = h->reserve;
    if (roar_fdstate_result_get(&res, st) == 0)
        roar_fdstate_result_dispose(&res);
    roar_fdstate_free(st);
    return 0;
}
