/* SPEC §4.8 filters, applied to final recorded paths when a record is written. The
 * rules and their order are documented in docs/filters.md; keep the two in step. */
#include "trace/pathfilter.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <stdint.h>

#include "trace/vmanager.h"
#include "util/keymap.h"
#include "util/err.h"
#include "util/wildmatch.h"

/* One .roarignore line, parsed as gitignore does. */
typedef struct {
    char *pattern; /* without the `!`, the anchoring `/` and the trailing `/` */
    bool negated;  /* `!pattern`: re-includes */
    bool dir_only; /* `pattern/`: matches directories only */
    bool anchored; /* held a `/` before its end: matched from the top, not per name */
} ignore_rule;

typedef struct {
    char **items;
    size_t count, alloc;
} strlist;

struct roar_pathfilter {
    char *top;
    strlist outside_dirs; /* outside: these directories and all below are not recorded */
    strlist lib_parents;  /* outside: for P here, P/lib* is not recorded */
    strlist exclude, include;
    ignore_rule *rules;
    size_t nrules, rules_alloc;
    roar_keymap venv;     /* directory -> VENV_YES / VENV_NO: it or an ancestor is a venv root */
    roar_keymap vmanager; /* outside directory -> roar_vmanager_kind + 1 */
    strlist home;         /* $HOME normalised and resolved: never a manager's root */
    roar_buf abs, scratch;
};

#define VENV_NO ((void *)1)
#define VENV_YES ((void *)2)

static const char *const default_outside[] = {
    "/proc", "/sys", "/dev",  "/run", "/tmp",       "/var/tmp", "/etc",
    "/usr",  "/bin", "/sbin", "/opt", "/var/cache", "/var/lib",
};

static void strlist_dispose(strlist *l)
{
    size_t i;
    for (i = 0; i < l->count; i++)
        free(l->items[i]);
    free(l->items);
    l->items = NULL;
    l->count = l->alloc = 0;
}

/* Adds a copy of s unless it is already there. */
static int strlist_add(strlist *l, const char *s)
{
    size_t i;
    char *copy;
    for (i = 0; i < l->count; i++)
        if (!strcmp(l->items[i], s))
            return 0;
    if (ROAR_ALLOC_GROW(l->items, l->count + 1, l->alloc) < 0 || !(copy = strdup(s)))
        return roar_error_set(ROAR_ENOMEM, "out of memory");
    l->items[l->count++] = copy;
    return 0;
}

/* Adds an absolute directory, lexically normalised, and its realpath when that
 * differs: recorded outside paths are resolved, but $TMPDIR may be given through a
 * symlink. `suffix` (may be NULL) is appended first, e.g. "/.cache" to $HOME. */
static int add_outside_dir(roar_pathfilter *pf, const char *dir, const char *suffix)
{
    roar_buf joined = ROAR_BUF_INIT, norm = ROAR_BUF_INIT;
    char *real = NULL;
    int error;

    if (!dir || dir[0] != '/')
        return 0; /* unset or relative $HOME/$TMPDIR: nothing to exclude */
    if ((error = roar_buf_puts(&joined, dir)) < 0 ||
        (suffix && (error = roar_buf_puts(&joined, suffix)) < 0) ||
        (error = roar_pathlex_normalise(&norm, joined.ptr)) < 0)
        goto cleanup;
    /* `TMPDIR=/` would otherwise exclude everything outside the work tree. */
    if (!strcmp(norm.ptr, "/"))
        goto cleanup;
    if ((error = strlist_add(&pf->outside_dirs, norm.ptr)) < 0)
        goto cleanup;
    if ((real = realpath(norm.ptr, NULL)) != NULL && strcmp(real, "/") != 0)
        error = strlist_add(&pf->outside_dirs, real);

cleanup:
    free(real);
    roar_buf_dispose(&joined);
    roar_buf_dispose(&norm);
    return error;
}

/* $HOME as given (normalised) and resolved, to tell it from a version manager's root. */
static int add_home(roar_pathfilter *pf, const char *home)
{
    roar_buf norm = ROAR_BUF_INIT;
    char *real = NULL;
    int error = 0;

    if (!home || home[0] != '/')
        return 0;
    if ((error = roar_pathlex_normalise(&norm, home)) < 0 ||
        (error = strlist_add(&pf->home, norm.ptr)) < 0)
        goto cleanup;
    if ((real = realpath(norm.ptr, NULL)) != NULL)
        error = strlist_add(&pf->home, real);
cleanup:
    free(real);
    roar_buf_dispose(&norm);
    return error;
}

static int add_globs(strlist *l, const char *const *globs, size_t n)
{
    size_t i;
    int error;
    for (i = 0; i < n; i++)
        if (globs[i] && globs[i][0] && (error = strlist_add(l, globs[i])) < 0)
            return error;
    return 0;
}

/* One line of .roarignore, gitignore syntax. */
static int add_ignore_line(roar_pathfilter *pf, const char *line, size_t len)
{
    ignore_rule rule = {NULL, false, false, false};
    size_t i;

    if (len && line[len - 1] == '\r')
        len--;
    if (len == 0 || line[0] == '#')
        return 0;
    /* Trailing spaces go, unless escaped with a backslash (`a\ `). */
    while (len && line[len - 1] == ' ' && !(len >= 2 && line[len - 2] == '\\'))
        len--;
    if (line[0] == '!') {
        rule.negated = true;
        line++;
        len--;
    }
    if (len && line[len - 1] == '/') {
        rule.dir_only = true;
        len--;
    }
    for (i = 0; i < len; i++)
        if (line[i] == '/')
            rule.anchored = true;
    if (len && line[0] == '/') {
        line++;
        len--;
    }
    if (len == 0)
        return 0;
    if (ROAR_ALLOC_GROW(pf->rules, pf->nrules + 1, pf->rules_alloc) < 0 ||
        !(rule.pattern = strndup(line, len)))
        return roar_error_set(ROAR_ENOMEM, "out of memory");
    pf->rules[pf->nrules++] = rule;
    return 0;
}

static int parse_roarignore(roar_pathfilter *pf, const char *text, size_t len)
{
    size_t start = 0, i;
    int error;
    for (i = 0; i <= len; i++) {
        if (i == len || text[i] == '\n') {
            if ((error = add_ignore_line(pf, text + start, i - start)) < 0)
                return error;
            start = i + 1;
        }
    }
    return 0;
}

int roar_pathfilter_new(roar_pathfilter **out, const roar_pathfilter_opts *opts)
{
    roar_pathfilter *pf;
    roar_buf top = ROAR_BUF_INIT;
    size_t i;
    int error;

    *out = NULL;
    if (!opts->worktree_real || opts->worktree_real[0] != '/')
        return roar_error_set(ROAR_EINVALID, "work tree is not an absolute path");
    if (!(pf = calloc(1, sizeof(*pf))))
        return roar_error_set(ROAR_ENOMEM, "out of memory");
    roar_buf_init(&pf->abs);
    roar_buf_init(&pf->scratch);

    if ((error = roar_pathlex_normalise(&top, opts->worktree_real)) < 0)
        goto cleanup;
    if (!(pf->top = roar_buf_detach(&top))) {
        error = roar_error_set(ROAR_ENOMEM, "out of memory");
        goto cleanup;
    }
    for (i = 0; i < sizeof(default_outside) / sizeof(default_outside[0]); i++)
        if ((error = strlist_add(&pf->outside_dirs, default_outside[i])) < 0)
            goto cleanup;
    if ((error = add_home(pf, opts->home)) < 0 ||
        (error = strlist_add(&pf->lib_parents, "/")) < 0 ||
        (error = add_outside_dir(pf, opts->tmpdir, NULL)) < 0 ||
        (error = add_outside_dir(pf, opts->home, "/.cache")) < 0 ||
        (error = add_globs(&pf->exclude, opts->exclude, opts->nexclude)) < 0 ||
        (error = add_globs(&pf->include, opts->include, opts->ninclude)) < 0)
        goto cleanup;
    if (opts->roarignore &&
        (error = parse_roarignore(pf, opts->roarignore, opts->roarignore_len)) < 0)
        goto cleanup;
    *out = pf;
    return 0;

cleanup:
    roar_buf_dispose(&top);
    roar_pathfilter_free(pf);
    return error;
}

void roar_pathfilter_free(roar_pathfilter *pf)
{
    size_t i;
    if (!pf)
        return;
    free(pf->top);
    strlist_dispose(&pf->outside_dirs);
    strlist_dispose(&pf->lib_parents);
    strlist_dispose(&pf->exclude);
    strlist_dispose(&pf->include);
    for (i = 0; i < pf->nrules; i++)
        free(pf->rules[i].pattern);
    free(pf->rules);
    roar_keymap_dispose(&pf->venv);
    roar_keymap_dispose(&pf->vmanager);
    strlist_dispose(&pf->home);
    roar_buf_dispose(&pf->abs);
    roar_buf_dispose(&pf->scratch);
    free(pf);
}

int roar_pathfilter_add_exec(roar_pathfilter *pf, const char *program_path)
{
    roar_buf prefix = ROAR_BUF_INIT, dir = ROAR_BUF_INIT;
    const char *name, *bin;
    int error = 0;

    if (!program_path || program_path[0] != '/' || roar_pathlex_below(program_path, pf->top))
        return 0;
    name = strrchr(program_path, '/');
    /* `<prefix>/bin/<name>`: the component before the name must be exactly `bin`. */
    if (name - program_path < 4 || memcmp(name - 4, "/bin", 4) != 0 || !name[1])
        return 0;
    bin = name - 4;
    if (bin == program_path)
        error = roar_buf_putc(&prefix, '/');
    else
        error = roar_buf_put(&prefix, program_path, (size_t)(bin - program_path));
    if (error < 0 || (error = strlist_add(&pf->lib_parents, prefix.ptr)) < 0)
        goto cleanup;
    if (prefix.size == 1)
        roar_buf_clear(&prefix); /* "/" + "/include" must not become "//include" */
    if ((error = roar_buf_printf(&dir, "%s/include", prefix.ptr)) < 0 ||
        (error = strlist_add(&pf->outside_dirs, dir.ptr)) < 0)
        goto cleanup;
    roar_buf_clear(&dir);
    if ((error = roar_buf_printf(&dir, "%s/share", prefix.ptr)) < 0 ||
        (error = strlist_add(&pf->outside_dirs, dir.ptr)) < 0)
        goto cleanup;

cleanup:
    roar_buf_dispose(&prefix);
    roar_buf_dispose(&dir);
    return error;
}

/* ---- matching ------------------------------------------------------------------- */

/* Whether glob matches the path or one of its leading directories, so that a glob
 * naming a directory covers everything below it, as a git pathspec does. */
static bool glob_matches(roar_pathfilter *pf, const char *glob, const char *path)
{
    const char *p;
    if (roar_wildmatch(glob, path, ROAR_WM_PATHNAME))
        return true;
    for (p = path + 1; (p = strchr(p, '/')) != NULL; p++) {
        roar_buf_clear(&pf->scratch);
        if (roar_buf_put(&pf->scratch, path, (size_t)(p - path)) < 0)
            return false;
        if (roar_wildmatch(glob, pf->scratch.ptr, ROAR_WM_PATHNAME))
            return true;
    }
    return false;
}

static bool any_glob(roar_pathfilter *pf, const strlist *globs, const char *path)
{
    size_t i;
    for (i = 0; i < globs->count; i++)
        if (glob_matches(pf, globs->items[i], path))
            return true;
    return false;
}

/* site-packages/, dist-packages/, __pycache__/ as a directory, or a *.pyc name. */
static bool python_default(const char *path)
{
    const char *p = path, *end;
    size_t len;
    for (;;) {
        end = strchr(p, '/');
        len = end ? (size_t)(end - p) : strlen(p);
        if (!end)
            return len >= 4 && !memcmp(p + len - 4, ".pyc", 4);
        if ((len == 13 && (!memcmp(p, "site-packages", 13) || !memcmp(p, "dist-packages", 13))) ||
            (len == 11 && !memcmp(p, "__pycache__", 11)))
            return true;
        p = end + 1;
    }
}

static bool holds_pyvenv_cfg(roar_pathfilter *pf, const char *dir, size_t len)
{
    struct stat st;
    roar_buf_clear(&pf->scratch);
    if (roar_buf_put(&pf->scratch, dir, len) < 0 ||
        roar_buf_puts(&pf->scratch, len == 1 ? "pyvenv.cfg" : "/pyvenv.cfg") < 0)
        return false;
    return stat(pf->scratch.ptr, &st) == 0 && S_ISREG(st.st_mode);
}

/* Whether some directory above the file `abs` (absolute), strictly below `stop` (the
 * top for work-tree paths, the root otherwise), holds pyvenv.cfg. The answer for each
 * directory (it or an ancestor is a venv root) is cached, so each is stat'ed once. */
static bool under_venv(roar_pathfilter *pf, const char *abs, size_t stop_len)
{
    size_t *lens = NULL, nlens = 0, alloc = 0, len;
    const char *slash = strrchr(abs, '/');
    bool inside = false;
    void *cached;

    len = (size_t)(slash - abs);
    /* Climb until a cached directory or the stop. */
    while (len > stop_len) {
        if ((cached = roar_keymap_get(&pf->venv, abs, len)) != NULL) {
            inside = cached == VENV_YES;
            break;
        }
        if (ROAR_ALLOC_GROW(lens, nlens + 1, alloc) < 0) {
            free(lens);
            return false;
        }
        lens[nlens++] = len;
        while (len > 0 && abs[len - 1] != '/')
            len--;
        if (len > 0)
            len--;
    }
    /* Come back down, deciding and caching each directory. */
    while (nlens > 0) {
        len = lens[--nlens];
        inside = inside || holds_pyvenv_cfg(pf, abs, len);
        (void)roar_keymap_put(&pf->venv, abs, len, inside ? VENV_YES : VENV_NO);
    }
    free(lens);
    return inside;
}

static bool rule_matches(const ignore_rule *rule, const char *path, bool is_dir)
{
    const char *name;
    if (rule->dir_only && !is_dir)
        return false;
    if (rule->anchored)
        return roar_wildmatch(rule->pattern, path, ROAR_WM_PATHNAME);
    name = strrchr(path, '/');
    return roar_wildmatch(rule->pattern, name ? name + 1 : path, ROAR_WM_PATHNAME);
}

/* gitignore semantics: each leading directory, then the file, is decided by the last
 * rule that matches it; an excluded directory excludes everything below it (git
 * cannot re-include a file whose parent directory is excluded). */
static bool roarignored(roar_pathfilter *pf, const char *rel)
{
    const char *p = rel;
    if (!pf->nrules)
        return false;
    for (;;) {
        const char *end = strchr(p, '/');
        const char *path = rel;
        bool is_dir = end != NULL, excluded = false;
        size_t i;
        if (is_dir) {
            roar_buf_clear(&pf->abs);
            if (roar_buf_put(&pf->abs, rel, (size_t)(end - rel)) < 0)
                return false;
            path = pf->abs.ptr;
        }
        for (i = pf->nrules; i-- > 0;) {
            if (rule_matches(&pf->rules[i], path, is_dir)) {
                excluded = !pf->rules[i].negated;
                break;
            }
        }
        if (excluded)
            return true;
        if (!end)
            return false;
        p = end + 1;
    }
}

static bool is_home(roar_pathfilter *pf, const char *dir, size_t len)
{
    size_t i;
    for (i = 0; i < pf->home.count; i++)
        if (strlen(pf->home.items[i]) == len && !memcmp(pf->home.items[i], dir, len))
            return true;
    return false;
}

/* Whether an outside file is a version manager's own (vmanager.h): some directory above
 * it, below the root and other than $HOME, is a manager's root by its layout, and the
 * file is not one it installed. Each directory is classified once per filter. */
static bool vmanager_owned(roar_pathfilter *pf, const char *path)
{
    size_t len = (size_t)(strrchr(path, '/') - path);
    roar_vmanager_kind kind;
    void *cached;

    while (len > 0) {
        if ((cached = roar_keymap_get(&pf->vmanager, path, len)) != NULL) {
            kind = (roar_vmanager_kind)((uintptr_t)cached - 1);
        } else {
            kind = ROAR_VMANAGER_NONE;
            roar_buf_clear(&pf->scratch);
            if (roar_buf_put(&pf->scratch, path, len) < 0)
                return false;
            if (!is_home(pf, path, len))
                kind = roar_vmanager_classify(pf->scratch.ptr);
            (void)roar_keymap_put(&pf->vmanager, path, len, (void *)((uintptr_t)kind + 1));
        }
        if (kind != ROAR_VMANAGER_NONE && roar_vmanager_owns(kind, path + len + 1))
            return true;
        while (len > 0 && path[len - 1] != '/')
            len--;
        if (len > 0)
            len--;
    }
    return false;
}

static bool outside_default(roar_pathfilter *pf, const char *path)
{
    size_t i;
    for (i = 0; i < pf->outside_dirs.count; i++)
        if (roar_pathlex_below(path, pf->outside_dirs.items[i]))
            return true;
    for (i = 0; i < pf->lib_parents.count; i++) {
        const char *rest = roar_pathlex_below(path, pf->lib_parents.items[i]);
        if (rest && !strncmp(rest, "lib", 3))
            return true;
    }
    return vmanager_owned(pf, path);
}

bool roar_pathfilter_keep(roar_pathfilter *pf, const char *recorded_path, roar_path_kind kind)
{
    const char *abs;
    size_t stop_len;

    if (kind == ROAR_PATH_GITDIR || !recorded_path || !recorded_path[0])
        return false;
    if (any_glob(pf, &pf->include, recorded_path))
        return true;
    if (python_default(recorded_path))
        return false;

    if (kind == ROAR_PATH_WORKTREE) {
        roar_buf_clear(&pf->abs);
        if (roar_buf_printf(&pf->abs, "%s/%s", strcmp(pf->top, "/") ? pf->top : "", recorded_path) <
            0)
            return true;
        stop_len = strlen(pf->top);
        abs = pf->abs.ptr;
    } else {
        stop_len = 0;
        abs = recorded_path;
    }
    /* under_venv reads abs (maybe pf->abs) and writes only pf->scratch; roarignored
     * reuses pf->abs afterwards, when abs is no longer needed. */
    if (under_venv(pf, abs, stop_len))
        return false;

    if (kind == ROAR_PATH_WORKTREE) {
        if (roarignored(pf, recorded_path))
            return false;
    } else if (outside_default(pf, recorded_path)) {
        return false;
    }
    return !any_glob(pf, &pf->exclude, recorded_path);
}
