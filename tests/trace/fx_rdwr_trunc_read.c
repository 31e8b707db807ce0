/* Fixture: O_RDWR|O_TRUNC of an existing file, then read: an output, never an input. */
#include <fcntl.h>
#include <unistd.h>
int main(void)
{
    char b[8];
    int fd = open("f", O_RDWR | O_TRUNC);
    if (fd < 0 || read(fd, b, sizeof(b)) < 0)
        return 1;
    return close(fd) != 0;
}
