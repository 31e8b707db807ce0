/* Fixture (issue 3 item 21): one thread opens the input, another reads it, a third
 * writes what was read into a file the main thread opened. */
#include <fcntl.h>
#include <pthread.h>
#include <unistd.h>

static int in_fd = -1, out_fd = -1;
static char buf[64];
static ssize_t got = -1;

static void *opener(void *arg)
{
    (void)arg;
    in_fd = open("in", O_RDONLY);
    return NULL;
}
static void *reader(void *arg)
{
    (void)arg;
    got = read(in_fd, buf, sizeof(buf));
    return NULL;
}
static void *writer(void *arg)
{
    (void)arg;
    return (void *)(long)(write(out_fd, buf, (size_t)got) != got);
}

int main(void)
{
    pthread_t t;
    void *rv;

    if (pthread_create(&t, NULL, opener, NULL) || pthread_join(t, NULL) || in_fd < 0)
        return 1;
    if ((out_fd = open("out", O_WRONLY | O_CREAT | O_TRUNC, 0644)) < 0)
        return 1;
    if (pthread_create(&t, NULL, reader, NULL) || pthread_join(t, NULL) || got <= 0)
        return 1;
    if (pthread_create(&t, NULL, writer, NULL) || pthread_join(t, &rv) || rv)
        return 1;
    return close(in_fd) || close(out_fd);
}
