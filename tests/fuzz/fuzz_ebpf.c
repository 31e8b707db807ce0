/* libFuzzer target for the eBPF loader's record conversion: whatever bytes come out of
 * the kernel's ring, what reaches the collector must be records its decoder accepts. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "trace/ebpf/loader.h"
#include "trace/ebpf/roar_bpf.h"
#include "trace/event.h"
#include "util/err.h"

static int check(const void *rec, size_t len, void *payload)
{
    roar_event ev;
    size_t used = 0;
    (void)payload;
    if (roar_event_decode(&ev, rec, len, &used) < 0 || used != len) {
        /* Header fields the kernel side always fills (a random fd for an open) may be
         * refused; the framing and the paths the converter built, never. */
        const char *m = roar_error_last();
        if (strstr(m, "not absolute") || strstr(m, "terminated string") ||
            strstr(m, "longer than") || strstr(m, "record length") || strstr(m, "version"))
            abort();
    }
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static roar_ebpf_conv *conv;
    unsigned char *copy;

    if (!conv && roar_ebpf_conv_new(&conv) < 0)
        return 0;
    /* the ring hands out 8-byte aligned records: copy for alignment, as it would be */
    if (!(copy = malloc(size ? size : 1)))
        return 0;
    memcpy(copy, data, size);
    (void)roar_ebpf_conv_record(conv, copy, size, check, NULL);
    roar_error_clear();
    free(copy);
    return 0;
}
