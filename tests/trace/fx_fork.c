/* Fixture: the child of a fork writes a file. */
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>
int main(void)
{
    int st;
    pid_t pid = fork();
    if (pid == 0) {
        int fd = open("child.out", O_WRONLY | O_CREAT | O_TRUNC, 0644);
        _exit(fd < 0 || write(fd, "c", 1) != 1);
    }
    if (pid < 0 || waitpid(pid, &st, 0) != pid)
        return 1;
    return WEXITSTATUS(st);
}
