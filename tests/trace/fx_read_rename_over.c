/* Fixture: open f for reading and read it, then have it replaced by a new file renamed
 * over it, holding the fd 200 ms on one side of the rename: `hold` sleeps before the
 * rename, `quick` (the default) after it. Either way the fd names the old content until
 * it is closed, so f's input id is the old content's (SPEC §4.6: the eBPF tracer hashes
 * through the process's fd), never the new one's. */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
static void pause_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0)
        ;
}
int main(int argc, char **argv)
{
    int hold = argc > 1 && !strcmp(argv[1], "hold");
    char b[64];
    int fd = open("f", O_RDONLY), nfd;
    if (fd < 0 || read(fd, b, sizeof(b)) <= 0)
        return 1;
    if (hold)
        pause_ms(200);
    nfd = open("f.new", O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (nfd < 0 || write(nfd, "new content\n", 12) != 12 || close(nfd) != 0 ||
        rename("f.new", "f") != 0)
        return 1;
    if (!hold)
        pause_ms(200);
    return close(fd) != 0;
}
