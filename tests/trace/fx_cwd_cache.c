/* Fixture: relative opens after every way the cwd can change under the shim's cwd
 * cache: chdir, fchdir, a rename of the cwd's own directory, nftw with FTW_CHDIR and
 * fts (glibc changes directory internally), and a chdir made by another thread. */
#include <fcntl.h>
#include <fts.h>
#include <ftw.h>
#include <pthread.h>
#include <stdio.h>
#include <unistd.h>

static int readrel(const char *name)
{
    char b[64];
    int fd = open(name, O_RDONLY);
    if (fd < 0) {
        perror(name);
        return -1;
    }
    if (read(fd, b, sizeof(b)) < 0)
        return -1;
    return close(fd);
}

static int walk(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
    (void)st;
    return type == FTW_F ? readrel(path + ftw->base) : 0;
}

static void *to_t(void *arg)
{
    return (void *)(long)chdir((const char *)arg);
}

int main(void)
{
    char *roots[] = {"v", NULL};
    FTS *fts;
    FTSENT *e;
    pthread_t t;
    void *rv;
    int dfd;

    /* cached: the top; chdir; then a rename of the directory we are in */
    if (readrel("a") || chdir("d") || readrel("b") || rename("../d", "../e") ||
        readrel("c") || chdir(".."))
        return 1;
    /* nftw changes directory with internal calls the shim never sees */
    if (nftw("w", walk, 4, FTW_CHDIR | FTW_PHYS) != 0 || readrel("a"))
        return 2;
    /* fts too (fts_accpath is relative to the directory fts moved to) */
    if (!(fts = fts_open(roots, FTS_PHYSICAL, NULL)))
        return 3;
    while ((e = fts_read(fts)))
        if (e->fts_info == FTS_F && readrel(e->fts_accpath))
            return 3;
    if (fts_close(fts) || readrel("a"))
        return 3;
    /* fchdir */
    if ((dfd = open("f", O_RDONLY | O_DIRECTORY)) < 0 || fchdir(dfd) || readrel("g") ||
        chdir(".."))
        return 4;
    /* another thread changes the process's cwd */
    if (pthread_create(&t, NULL, to_t, "t") || pthread_join(t, &rv) || rv || readrel("u"))
        return 5;
    return 0;
}
