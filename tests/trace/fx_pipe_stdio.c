/* Fixture: a child reads a pipe through stdio (fdopen + fgets: glibc reads through its
 * internal read, which no wrapper sees), then forks a grandchild that reads the same
 * FILE. Both must count as readers of the pipe. */
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

static int reap(pid_t pid)
{
    int st;
    return pid > 0 && waitpid(pid, &st, 0) == pid && WIFEXITED(st) && !WEXITSTATUS(st);
}

int main(void)
{
    char line[8];
    int p[2];
    pid_t child;

    if (pipe(p) < 0 || p[0] != 3 || write(p[1], "a\nb\n", 4) != 4 || close(p[1]) < 0)
        return 1;
    child = fork();
    if (child == 0) {
        FILE *f = fdopen(p[0], "r");
        pid_t grandchild;
        if (!f || !fgets(line, sizeof(line), f))
            _exit(1);
        grandchild = fork();
        if (grandchild == 0)
            _exit(fgets(line, sizeof(line), f) == NULL); /* buffered: no read at all */
        _exit(!reap(grandchild));
    }
    return !reap(child);
}
