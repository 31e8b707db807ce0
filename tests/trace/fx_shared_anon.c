/* Fixture: shared memory. A child attaches SysV shared memory; then the parent maps
 * shared anonymous memory twice (one event: the process already shares) and private
 * anonymous memory (none), and forks a child that writes into the shared map. */
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/shm.h>
#include <sys/wait.h>
#include <unistd.h>

static int reap(pid_t pid)
{
    int st;
    return pid > 0 && waitpid(pid, &st, 0) == pid && WIFEXITED(st) && !WEXITSTATUS(st);
}

int main(void)
{
    pid_t a, b;
    char *m, *m2, *priv;

    a = fork();
    if (a == 0) {
        int id = shmget(IPC_PRIVATE, 4096, IPC_CREAT | 0600);
        void *p = id < 0 ? (void *)-1 : shmat(id, NULL, 0);
        if (id >= 0)
            shmctl(id, IPC_RMID, NULL);
        _exit(p == (void *)-1);
    }
    if (!reap(a))
        return 1;
    m = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    m2 = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    priv = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED || m2 == MAP_FAILED || priv == MAP_FAILED)
        return 1;
    b = fork();
    if (b == 0) {
        m[0] = 'x';
        _exit(0);
    }
    return !reap(b) || m[0] != 'x';
}
