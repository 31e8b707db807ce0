/* Fixture: O_WRONLY|O_CREAT|O_TRUNC + write (the plain output pattern). */
#include <fcntl.h>
#include <unistd.h>
int main(void)
{
    int fd = open("out", O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0 || write(fd, "x\n", 2) != 2)
        return 1;
    return close(fd) != 0;
}
