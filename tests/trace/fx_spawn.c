/* Fixture: posix_spawn of cat reading a file; the child is traced too. */
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>
extern char **environ;
int main(void)
{
    char *argv[] = {"cat", "in", NULL};
    pid_t pid;
    int st;
    if (posix_spawn(&pid, "/bin/cat", NULL, NULL, argv, environ) != 0 ||
        waitpid(pid, &st, 0) != pid)
        return 1;
    return WEXITSTATUS(st);
}
