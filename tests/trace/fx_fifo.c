/* Fixture: a FIFO opened by path. A child writes it; the parent reads it, then forks
 * a second child that reads it too: each process's first read is an event. */
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static int reap(pid_t pid)
{
    int st;
    return pid > 0 && waitpid(pid, &st, 0) == pid && WIFEXITED(st) && !WEXITSTATUS(st);
}

int main(void)
{
    char b[4];
    pid_t writer, reader;
    int fd;

    if (mkfifo("fifo", 0600) < 0)
        return 1;
    writer = fork();
    if (writer == 0) {
        fd = open("fifo", O_WRONLY);
        _exit(fd < 0 || write(fd, "abcd", 4) != 4);
    }
    fd = open("fifo", O_RDONLY);
    if (fd != 3 || read(fd, b, 1) != 1 || read(fd, b, 1) != 1)
        return 1;
    reader = fork();
    if (reader == 0)
        _exit(read(fd, b, 1) != 1);
    return !reap(writer) || !reap(reader);
}
