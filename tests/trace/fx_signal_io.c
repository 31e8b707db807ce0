/* Fixture: file I/O inside a signal handler that interrupts the program's own I/O
 * (issue 17, item 4). A SIGALRM handler appends a line to sig.out (open O_CREAT |
 * O_APPEND, write, close) every 100 us while the program opens, reads and closes `in`
 * in a loop, so that most signals land inside the preload shim's wrappers. argv[1]
 * "signal" installs the handler with signal() instead of sigaction(). Exits once the
 * handler ran 300 times; exit 4 if the program is not given its own handler back
 * (the shim runs it through a trampoline). */
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

static volatile sig_atomic_t ran;

static void on_alarm(int sig)
{
    int fd = open("sig.out", O_WRONLY | O_CREAT | O_APPEND, 0644);
    (void)sig;
    if (fd >= 0) {
        if (write(fd, "x\n", 2) != 2)
            _exit(3);
        close(fd);
    }
    ran++;
}

int main(int argc, char **argv)
{
    struct itimerval it = {{0, 100}, {0, 100}}, off = {{0, 0}, {0, 0}};
    char b[64];

    if (argc > 1 && !strcmp(argv[1], "signal")) {
        if (signal(SIGALRM, on_alarm) == SIG_ERR)
            return 1;
    } else {
        struct sigaction sa;
        memset(&sa, 0, sizeof(sa));
        sa.sa_handler = on_alarm;
        sa.sa_flags = SA_RESTART;
        sigemptyset(&sa.sa_mask);
        if (sigaction(SIGALRM, &sa, NULL) < 0)
            return 1;
    }
    if (setitimer(ITIMER_REAL, &it, NULL) < 0)
        return 1;
    while (ran < 300) {
        int fd = open("in", O_RDONLY);
        if (fd < 0 || read(fd, b, sizeof(b)) < 0)
            return 2;
        close(fd);
    }
    setitimer(ITIMER_REAL, &off, NULL);
    {
        struct sigaction cur;
        if (sigaction(SIGALRM, NULL, &cur) < 0 || cur.sa_handler != on_alarm ||
            signal(SIGALRM, SIG_DFL) != on_alarm || signal(SIGALRM, SIG_IGN) != SIG_DFL ||
            sigaction(SIGALRM, NULL, &cur) < 0 || cur.sa_handler != SIG_IGN)
            return 4;
    }
    return 0;
}
