/* Fixture: chdir, then a relative open resolves against the new cwd. */
#include <fcntl.h>
#include <unistd.h>
int main(void)
{
    char b[8];
    int fd;
    if (chdir("sub") < 0 || (fd = open("x", O_RDONLY)) < 0 || read(fd, b, 8) < 0)
        return 1;
    return close(fd) != 0;
}
