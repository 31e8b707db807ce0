/* Fixture: write a temp file, link it to the final name, unlink the temp name. */
#include <fcntl.h>
#include <unistd.h>
int main(void)
{
    int fd = open("tmp", O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0 || write(fd, "new", 3) != 3 || close(fd) < 0)
        return 1;
    return link("tmp", "final") != 0 || unlink("tmp") != 0;
}
