/* Fixture: fopen/fclose a file for reading, then a socket and a pipe take its fd
 * number and are written: the file must not become an output. */
#include <stdio.h>
#include <sys/socket.h>
#include <unistd.h>
int main(void)
{
    int p[2], s, n;
    FILE *f = fopen("in", "r");
    if (!f || fgetc(f) == EOF || (n = fileno(f)) < 0 || fclose(f) != 0)
        return 1;
    /* each new fd takes the lowest free number: the one the file had */
    if ((s = socket(AF_UNIX, SOCK_DGRAM, 0)) != n || close(s) != 0)
        return 2;
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, p) != 0 || p[0] != n || write(p[0], "x", 1) != 1)
        return 3;
    close(p[0]);
    close(p[1]);
    if (pipe(p) != 0 || p[0] != n || write(p[1], "x", 1) != 1)
        return 4;
    return 0;
}
