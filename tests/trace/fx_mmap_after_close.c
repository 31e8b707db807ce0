/* Fixture: writes after the last close, through a shared mapping (issue 19). f is
 * written and closed (hashed early by then, 4096 x 'a'), reopened and mapped shared
 * writable, closed again, and only then rewritten through the mapping (4096 x 'b', the
 * same size); the process exits without munmap. The job's output is the 'b' content. */
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

int main(void)
{
    char buf[4096];
    char *p;
    int fd = open("f", O_RDWR | O_CREAT | O_TRUNC, 0644);

    memset(buf, 'a', sizeof(buf));
    if (fd < 0 || write(fd, buf, sizeof(buf)) != (ssize_t)sizeof(buf) || close(fd) != 0)
        return 1;
    usleep(30000); /* long enough for the early hash of the 'a' content */
    if ((fd = open("f", O_RDWR)) < 0)
        return 1;
    p = mmap(NULL, sizeof(buf), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (p == MAP_FAILED || close(fd) != 0)
        return 1;
    usleep(30000);
    memset(p, 'b', sizeof(buf));
    return 0;
}
