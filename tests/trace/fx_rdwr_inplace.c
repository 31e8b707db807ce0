/* Fixture: O_RDWR without O_TRUNC, read, then at once write in place (no pause): the
 * old content is an input (hashed before the write), the new one an output. */
#include <fcntl.h>
#include <unistd.h>
int main(void)
{
    char b[64];
    ssize_t n;
    int fd = open("f", O_RDWR);
    if (fd < 0 || (n = read(fd, b, sizeof(b))) <= 0)
        return 1;
    b[0] = (char)(b[0] == 'X' ? 'Y' : 'X');
    if (pwrite(fd, b, (size_t)n, 0) != n)
        return 1;
    return close(fd) != 0;
}
