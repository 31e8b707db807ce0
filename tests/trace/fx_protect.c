/* Fixture: the program closes and dup2s over the shim's control fd (>= 900); its
 * calls must behave as without the shim, and round trips must keep working. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>
int main(void)
{
    int fd = open("f", O_WRONLY | O_TRUNC), bad = 0; /* connects the shim */
    close(fd);
    /* 900 was the shim's: for the program it was never open */
    errno = 0;
    if (close(900) != -1 || errno != EBADF)
        bad |= 1;
    if (dup2(1, 900) != 900 || fcntl(900, F_GETFD) != 0)
        bad |= 2;
    if (close(900) != 0)
        bad |= 4;
    fd = open("f", O_WRONLY | O_TRUNC); /* another round trip */
    if (fd < 0)
        bad |= 8;
    printf("bad=%d\n", bad);
    return bad;
}
