/* Fixture: mkstemp next to the target, write, rename over the (tracked) target without
 * reading it: the target is an output, its old content no input. */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
int main(void)
{
    char tmpl[] = "target.XXXXXX";
    int fd = mkstemp(tmpl);
    if (fd < 0 || write(fd, "fresh\n", 6) != 6 || close(fd) != 0)
        return 1;
    return rename(tmpl, "target") != 0;
}
