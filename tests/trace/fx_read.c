/* Fixture: open RDONLY + read (the plain input pattern). */
#include <fcntl.h>
#include <unistd.h>
int main(void)
{
    char b[64];
    int fd = open("in", O_RDONLY);
    if (fd < 0 || read(fd, b, sizeof(b)) < 0)
        return 1;
    return close(fd) != 0;
}
