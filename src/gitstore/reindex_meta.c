/* What an update of the cache keeps between calls, in cache meta: each notes ref's last
 * indexed tip and the problems its notes had (see reindex_internal.h). */
#include "gitstore/reindex_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "graph/cache.h"
#include "util/buf.h"
#include "util/err.h"

#define HEXSZ ROAR_OID_HEXSZ

void roar_reindex__ref_list_dispose(ref_list *l)
{
    size_t i;
    for (i = 0; i < l->count; i++)
        free(l->items[i].ref);
    free(l->items);
    memset(l, 0, sizeof(*l));
}

ref_state *roar_reindex__ref_list_find(ref_list *l, const char *ref)
{
    size_t i;
    for (i = 0; i < l->count; i++)
        if (!strcmp(l->items[i].ref, ref))
            return &l->items[i];
    return NULL;
}

int roar_reindex__ref_list_add(ref_list *l, const char *ref, const git_oid *tip)
{
    ref_state *r;
    if (ROAR_ALLOC_GROW(l->items, l->count + 1, l->alloc) < 0)
        return roar_error_set(ROAR_ENOMEM, "out of memory");
    r = &l->items[l->count];
    memset(r, 0, sizeof(*r));
    if (!(r->ref = strdup(ref)))
        return roar_error_set(ROAR_ENOMEM, "out of memory");
    if (tip) {
        git_oid_cpy(&r->tip, tip);
        r->has_tip = true;
    }
    l->count++;
    return 0;
}

static void problem_list_remove_at(problem_list *l, size_t i)
{
    free(l->items[i].ref);
    free(l->items[i].message);
    memmove(&l->items[i], &l->items[i + 1], (l->count - i - 1) * sizeof(*l->items));
    l->count--;
}

void roar_reindex__problem_list_dispose(problem_list *l)
{
    while (l->count)
        problem_list_remove_at(l, l->count - 1);
    free(l->items);
    memset(l, 0, sizeof(*l));
}

/* Forgets the problems of one note (object NULL: of every note of the ref). */
void roar_reindex__problem_list_forget(problem_list *l, const char *ref, const char *object)
{
    size_t i = 0;
    while (i < l->count)
        if (!strcmp(l->items[i].ref, ref) && (!object || !strcmp(l->items[i].object, object)))
            problem_list_remove_at(l, i);
        else
            i++;
}

/* Messages are stored one per line, tab-separated: keep them to one line. */
int roar_reindex__problem_list_add(problem_list *l, const char *ref, const char *object,
                                   size_t line, const char *message)
{
    stored_problem *p;
    char *c;
    if (ROAR_ALLOC_GROW(l->items, l->count + 1, l->alloc) < 0)
        return roar_error_set(ROAR_ENOMEM, "out of memory");
    p = &l->items[l->count];
    p->ref = strdup(ref);
    p->message = strdup(message);
    if (!p->ref || !p->message) {
        free(p->ref);
        free(p->message);
        return roar_error_set(ROAR_ENOMEM, "out of memory");
    }
    memcpy(p->object, object, HEXSZ + 1);
    p->line = line;
    for (c = p->message; *c; c++)
        if (*c == '\t' || *c == '\n' || *c == '\r')
            *c = ' ';
    l->count++;
    return 0;
}

static int cmp_problem(const void *pa, const void *pb)
{
    const stored_problem *a = pa, *b = pb;
    int c = strcmp(a->ref, b->ref);
    if (!c)
        c = strcmp(a->object, b->object);
    if (!c)
        c = a->line < b->line ? -1 : a->line > b->line;
    return c;
}

/* Each line of `text` (meta values), NUL-terminated in place. */
void roar_reindex__problem_list_sort(problem_list *l)
{
    qsort(l->items, l->count, sizeof(*l->items), cmp_problem);
}

static char *next_line(char **cursor)
{
    char *line = *cursor, *nl;
    if (!*line)
        return NULL;
    nl = strchr(line, '\n');
    if (nl) {
        *nl = '\0';
        *cursor = nl + 1;
    } else {
        *cursor = line + strlen(line);
    }
    return line;
}

int roar_reindex__load_meta(ref_list *indexed, problem_list *problems, roar_cache *cache)
{
    roar_buf val = ROAR_BUF_INIT;
    char *cursor, *line;
    git_oid tip;
    int error;

    error = roar_cache_meta_get(&val, cache, ROAR_REINDEX_META_INDEXED);
    if (error == 0) {
        cursor = val.ptr;
        while ((line = next_line(&cursor)))
            if (strlen(line) > HEXSZ + 1 && line[HEXSZ] == ' ' &&
                !git_oid_fromstrn(&tip, line, HEXSZ) &&
                (error = roar_reindex__ref_list_add(indexed, line + HEXSZ + 1, &tip)) < 0)
                goto cleanup;
    } else if (error != ROAR_ENOTFOUND) {
        goto cleanup;
    }
    roar_buf_clear(&val);
    error = roar_cache_meta_get(&val, cache, ROAR_REINDEX_META_PROBLEMS);
    if (error == 0) {
        cursor = val.ptr;
        while ((line = next_line(&cursor))) {
            char *f[4], *p = line;
            int k;
            for (k = 0; k < 4; k++) {
                f[k] = p;
                if (k < 3) {
                    if (!(p = strchr(p, '\t')))
                        break;
                    *p++ = '\0';
                }
            }
            if (k < 4 || strlen(f[1]) != HEXSZ)
                continue;
            if ((error = roar_reindex__problem_list_add(problems, f[0], f[1],
                                                        strtoul(f[2], NULL, 10), f[3])) < 0)
                goto cleanup;
        }
    } else if (error != ROAR_ENOTFOUND) {
        goto cleanup;
    }
    error = 0;

cleanup:
    roar_buf_dispose(&val);
    return error;
}

int roar_reindex__save_meta(roar_cache *cache, const ref_list *indexed,
                            const problem_list *problems)
{
    roar_buf val = ROAR_BUF_INIT;
    char hex[HEXSZ + 1];
    size_t i;
    int error = 0;

    for (i = 0; i < indexed->count && !error; i++)
        if (indexed->items[i].has_tip) {
            git_oid_tostr(hex, sizeof(hex), &indexed->items[i].tip);
            error = roar_buf_printf(&val, "%s %s\n", hex, indexed->items[i].ref);
        }
    if (error < 0 || (error = roar_cache_meta_set(cache, ROAR_REINDEX_META_INDEXED,
                                                  val.size ? val.ptr : NULL)) < 0)
        goto cleanup;
    roar_buf_clear(&val);
    for (i = 0; i < problems->count && !error; i++)
        error = roar_buf_printf(&val, "%s\t%s\t%zu\t%s\n", problems->items[i].ref,
                                problems->items[i].object, problems->items[i].line,
                                problems->items[i].message);
    if (error == 0)
        error = roar_cache_meta_set(cache, ROAR_REINDEX_META_PROBLEMS, val.size ? val.ptr : NULL);

cleanup:
    roar_buf_dispose(&val);
    return error;
}
