/* Fixture: create a file, write it, remove it: a temporary, recorded nowhere. */
#include <fcntl.h>
#include <unistd.h>
int main(void)
{
    int fd = open("scratch", O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0 || write(fd, "tmp", 3) != 3 || close(fd) < 0)
        return 1;
    return unlink("scratch") != 0;
}
