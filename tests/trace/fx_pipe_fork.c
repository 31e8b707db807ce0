/* Fixture: the parent writes a pipe and reads it twice, then forks; the child reads
 * and writes the same ends. Each process's first read and first write through a
 * channel is its own event (SPEC §4.9), although the child's fd table (and the shim's
 * memory of what was read) is a copy of the parent's. */
#include <sys/wait.h>
#include <unistd.h>
int main(void)
{
    char b[4];
    int p[2], st;
    pid_t pid;

    if (pipe(p) < 0 || p[0] != 3 || write(p[1], "abc", 3) != 3 || read(p[0], b, 1) != 1 ||
        read(p[0], b, 1) != 1)
        return 1;
    pid = fork();
    if (pid == 0)
        _exit(read(p[0], b, 1) != 1 || write(p[1], "d", 1) != 1 || read(p[0], b, 1) != 1);
    if (pid < 0 || waitpid(pid, &st, 0) != pid)
        return 1;
    return WEXITSTATUS(st);
}
