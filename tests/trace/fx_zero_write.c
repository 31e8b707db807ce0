/* Fixture: a zero-byte write to an existing file opened O_WRONLY (no O_TRUNC): the
 * file is unchanged, so it is neither an input nor an output. */
#include <fcntl.h>
#include <unistd.h>
int main(void)
{
    int fd = open("f", O_WRONLY);
    if (fd < 0 || write(fd, "", 0) != 0)
        return 1;
    return close(fd) != 0;
}
