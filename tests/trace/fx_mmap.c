/* Fixture: mmap PROT_WRITE|MAP_SHARED of an existing file, then change it. */
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>
int main(void)
{
    char *p;
    int fd = open("f", O_RDWR);
    if (fd < 0)
        return 1;
    p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (p == MAP_FAILED)
        return 1;
    p[0] = 'X';
    return munmap(p, 4096) != 0 || close(fd) != 0;
}
