/* Fixture: write a temp file, then rename it over the final name (which exists). */
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>
int main(void)
{
    int fd = open("tmp", O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0 || write(fd, "new", 3) != 3 || close(fd) < 0)
        return 1;
    return rename("tmp", "final") != 0;
}
