/* Fixture: dup2 onto a closed fd number, then write through the new number. */
#include <fcntl.h>
#include <unistd.h>
int main(void)
{
    int fd = open("out", O_WRONLY | O_CREAT | O_TRUNC, 0644);
    close(7);
    if (fd < 0 || dup2(fd, 7) != 7 || close(fd) < 0 || write(7, "x", 1) != 1)
        return 1;
    return 0;
}
