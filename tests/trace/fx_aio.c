/* Fixture: a write through Linux native AIO (io_setup, io_submit IOCB_CMD_PWRITE): no
 * read or write call carries the data, so the tracer must say the job is incomplete.
 * Writes "aio\n" at offset 0 of aio.out (created if missing).
 *   fx_aio          the raw system calls (what the eBPF tracer sees)
 *   fx_aio libaio   libaio.so.1's functions, looked up as a program linked with it
 *                   would bind them (so the preload shim's io_submit comes first)
 * Exits 77 when the kernel refuses AIO or libaio.so.1 is not installed. */
#include <dlfcn.h>
#include <fcntl.h>
#include <linux/aio_abi.h>
#include <stdint.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static long (*setup_fn)(unsigned, aio_context_t *);
static long (*submit_fn)(aio_context_t, long, struct iocb **);
static long (*getevents_fn)(aio_context_t, long, long, struct io_event *, struct timespec *);

static long sys_setup(unsigned n, aio_context_t *ctx)
{
    return syscall(SYS_io_setup, n, ctx);
}
static long sys_submit(aio_context_t ctx, long n, struct iocb **cbs)
{
    return syscall(SYS_io_submit, ctx, n, cbs);
}
static long sys_getevents(aio_context_t ctx, long lo, long n, struct io_event *ev,
                          struct timespec *t)
{
    return syscall(SYS_io_getevents, ctx, lo, n, ev, t);
}

int main(int argc, char **argv)
{
    static const char data[] = "aio\n";
    aio_context_t ctx = 0;
    struct iocb cb, *cbs[1] = {&cb};
    struct io_event ev;
    int fd;

    setup_fn = sys_setup, submit_fn = sys_submit, getevents_fn = sys_getevents;
    if (argc > 1 && strcmp(argv[1], "libaio") == 0) {
        /* libaio's struct iocb and io_context_t are the kernel's, passed through */
        if (!dlopen("libaio.so.1", RTLD_NOW | RTLD_GLOBAL) ||
            !(*(void **)&setup_fn = dlsym(RTLD_DEFAULT, "io_setup")) ||
            !(*(void **)&submit_fn = dlsym(RTLD_DEFAULT, "io_submit")) ||
            !(*(void **)&getevents_fn = dlsym(RTLD_DEFAULT, "io_getevents")))
            return 77;
    }
    if (setup_fn(1, &ctx) != 0)
        return 77;
    if ((fd = open("aio.out", O_WRONLY | O_CREAT, 0644)) < 0)
        return 1;
    memset(&cb, 0, sizeof(cb));
    cb.aio_lio_opcode = IOCB_CMD_PWRITE;
    cb.aio_fildes = (uint32_t)fd;
    cb.aio_buf = (uint64_t)(uintptr_t)data;
    cb.aio_nbytes = sizeof(data) - 1;
    if (submit_fn(ctx, 1, cbs) != 1 || getevents_fn(ctx, 1, 1, &ev, NULL) != 1 ||
        ev.res != (long long)sizeof(data) - 1)
        return 1;
    syscall(SYS_io_destroy, ctx);
    return close(fd) != 0;
}
