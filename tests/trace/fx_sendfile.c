/* Fixture: sendfile from an input into a new output. */
#include <fcntl.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <unistd.h>
int main(void)
{
    struct stat st;
    int in = open("in", O_RDONLY), out = open("out", O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (in < 0 || out < 0 || fstat(in, &st) != 0)
        return 1;
    if (sendfile(out, in, NULL, (size_t)st.st_size) != st.st_size)
        return 1;
    return close(in) != 0 || close(out) != 0;
}
