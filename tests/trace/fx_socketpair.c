/* Fixture: a socket pair written with send() and read with recv() by the parent, then
 * read through the same end by a forked child: both processes' reads are events. */
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
int main(void)
{
    char b[4];
    int sv[2], st;
    pid_t pid;

    if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0 || sv[0] != 3 ||
        send(sv[0], "ab", 2, 0) != 2 || recv(sv[1], b, 1, 0) != 1)
        return 1;
    pid = fork();
    if (pid == 0)
        _exit(recv(sv[1], b, 1, 0) != 1);
    if (pid < 0 || waitpid(pid, &st, 0) != pid)
        return 1;
    return WEXITSTATUS(st);
}
