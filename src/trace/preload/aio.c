/* Linux native AIO: io_submit reads and writes files with no read or write call the
 * shim sees, so a process that submits says the job is incomplete (SPEC §4.7), once.
 * libaio exports io_submit and makes the system call inline; a program that makes the
 * system call itself (or links libaio statically) is not seen (docs/preload.md). */
#include "shim.h"

/* libaio's prototype (libaio.h, not needed to build): io_context_t is a pointer, the
 * result a count or a negative errno. */
int io_submit(void *ctx, long nr, void **iocbpp);

static int announced; /* this process (and the children it forks) already said so */

ROAR_EXPORT int io_submit(void *ctx, long nr, void **iocbpp)
{
    int saved;
    ROAR_REAL(io_submit);
    if (!__atomic_load_n(&announced, __ATOMIC_RELAXED) && roar_shim_enter(&saved)) {
        __atomic_store_n(&announced, 1, __ATOMIC_RELAXED);
        roar_shim_incomplete(ROAR_INC_AIO, NULL);
        roar_shim_leave(saved);
    }
    if (!real_io_submit)
        return -ENOSYS; /* libaio's convention: no errno, a negative result */
    return real_io_submit(ctx, nr, iocbpp);
}
