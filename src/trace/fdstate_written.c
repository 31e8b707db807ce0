/* fdstate's written files: when the last description of the job that can write a file
 * goes away, the file is queued so that the collector can hash it while the job runs
 * (issue 19), and a count of write-capable events tells the collector at the end
 * whether that early hash can still stand (roar_fdstate_unwritten_since). */
#include "trace/fdstate_internal.h"
#include "util/buf.h"
#include "util/err.h"

#include <stdlib.h>
#include <string.h>

void fdstate_written_bump(roar_fsfile *f)
{
    f->write_gen++;
}

void fdstate_writer_done(roar_fdstate *st, roar_fsfile *f)
{
    fs_written *w;
    /* Only what may be an output: a file the job opened write-capable by a name we
     * can hash. A shared mapping can still write after every close, until munmap or
     * exit, which no tracer reports: such a file is hashed at the end only. */
    if (st->disposing || !f->has_key || !f->name_count || f->shared_map_of_writable ||
        !(f->changed || f->write_pending || f->created))
        return;
    if (st->written_head > 0 && st->written_head == st->written_count)
        st->written_head = st->written_count = 0;
    if (ROAR_ALLOC_GROW(st->written, st->written_count + 1, st->written_alloc) < 0) {
        roar_error_clear(); /* not queued: hashed at the end, as without early hashing */
        return;
    }
    w = &st->written[st->written_count];
    if (!(w->path = strdup(f->names[0].path)))
        return;
    w->file = f;
    w->dev = f->dev;
    w->ino = f->ino;
    w->write_gen = f->write_gen;
    st->written_count++;
}

bool roar_fdstate_next_written(roar_fdstate *st, roar_fdstate_written *out)
{
    fs_written *w;
    free(st->popped_written);
    st->popped_written = NULL;
    memset(out, 0, sizeof(*out));
    if (st->written_head >= st->written_count)
        return false;
    w = &st->written[st->written_head++];
    st->popped_written = w->path;
    out->file = w->file;
    out->path = w->path;
    out->dev = w->dev;
    out->ino = w->ino;
    out->write_gen = w->write_gen;
    return true;
}

bool roar_fdstate_unwritten_since(const roar_fsfile *file, uint64_t write_gen)
{
    return file->write_gen == write_gen && file->writers == 0 && !file->shared_map_of_writable;
}

void fdstate_written_free(roar_fdstate *st)
{
    size_t i;
    for (i = st->written_head; i < st->written_count; i++)
        free(st->written[i].path);
    free(st->written);
    free(st->popped_written);
}
