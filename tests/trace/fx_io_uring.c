/* Fixture: io_uring_setup, whose later I/O no syscall tracepoint sees (the eBPF tracer
 * must say the job is incomplete). Exits 77 when the kernel refuses io_uring. */
#include <linux/io_uring.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>
int main(void)
{
    struct io_uring_params p;
    long fd;
    memset(&p, 0, sizeof(p));
    fd = syscall(__NR_io_uring_setup, 4, &p);
    if (fd < 0)
        return 77;
    return close((int)fd) != 0;
}
