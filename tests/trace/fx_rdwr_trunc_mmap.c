/* Fixture: O_RDWR|O_TRUNC of an existing file, then mmap(PROT_READ) and a read of the
 * mapping: the file is an output (empty, then sized), never an input. */
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>
int main(void)
{
    volatile char c;
    char *p;
    int fd = open("f", O_RDWR | O_TRUNC);
    if (fd < 0 || ftruncate(fd, 4096) != 0)
        return 1;
    p = mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd, 0);
    if (p == MAP_FAILED)
        return 1;
    c = p[0];
    (void)c;
    return munmap(p, 4096) != 0 || close(fd) != 0;
}
