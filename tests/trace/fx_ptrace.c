/* Fixture: one process reaching into another. A child asks to be traced by the parent
 * (PTRACE_TRACEME); the parent reads a second child's memory (process_vm_readv). */
#include <sys/ptrace.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

static int value = 42;

static int reap(pid_t pid)
{
    int st;
    return pid > 0 && waitpid(pid, &st, 0) == pid && WIFEXITED(st) && !WEXITSTATUS(st);
}

int main(void)
{
    char b;
    int got = 0, p[2];
    pid_t traced, read_from;
    struct iovec local = {&got, sizeof(got)}, remote = {&value, sizeof(value)};

    traced = fork();
    if (traced == 0)
        _exit(ptrace(PTRACE_TRACEME, 0, NULL, NULL) != 0);
    if (!reap(traced) || pipe(p) < 0)
        return 1;
    read_from = fork();
    if (read_from == 0) {
        close(p[1]);
        _exit(read(p[0], &b, 1) != 0); /* until the parent closes its end */
    }
    if (process_vm_readv(read_from, &local, 1, &remote, 1, 0) != sizeof(got) || got != 42)
        return 1;
    close(p[1]);
    return !reap(read_from);
}
