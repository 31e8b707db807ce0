/* Fixture: openat with a real dirfd and a relative path. */
#include <fcntl.h>
#include <unistd.h>
int main(void)
{
    char b[8];
    int dfd = open("sub", O_RDONLY | O_DIRECTORY), fd;
    if (dfd < 0 || (fd = openat(dfd, "../sub/./x", O_RDONLY)) < 0 || read(fd, b, 8) < 0)
        return 1;
    return close(fd) != 0;
}
