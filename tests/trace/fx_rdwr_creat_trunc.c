/* Fixture: O_RDWR|O_CREAT|O_TRUNC + write, what numpy's savez does: an output only. */
#include <fcntl.h>
#include <unistd.h>
int main(void)
{
    int fd = open("out", O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0 || write(fd, "savez\n", 6) != 6)
        return 1;
    return close(fd) != 0;
}
