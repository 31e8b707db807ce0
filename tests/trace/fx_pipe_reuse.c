/* Fixture: read a file, close it, pipe() reuses the fd number, write the pipe: the
 * write must not be charged to the file (an FDNEW for the reused number). */
#include <fcntl.h>
#include <unistd.h>
int main(void)
{
    char b[8];
    int p[2], fd = open("in", O_RDONLY);
    if (fd != 3 || read(fd, b, 8) < 0 || close(fd) < 0 || pipe(p) < 0 || p[0] != 3)
        return 1;
    return write(p[1], "x", 1) != 1;
}
