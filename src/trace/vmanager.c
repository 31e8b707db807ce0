/* Version managers recognised by their layout (vmanager.h). The layouts asked for are
 * specific (a `shims/` beside `versions/`, `nvm.sh` beside `versions/`, `conda-meta/`)
 * so that a data directory is not taken for one; the interpreters a manager installs
 * (`versions/`, `installs/`, a conda prefix's own files) are left to the other rules:
 * the executable stays an input, its library goes with its `<prefix>/bin` rule. */
#include "trace/vmanager.h"

#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

/* Managers whose own commands live in <root>/libexec: a root before its first `rehash`
 * has no shims yet, and `pyenv exec python` never runs one. */
static const char *const libexec_managers[] = {"libexec/pyenv", "libexec/rbenv", "libexec/nodenv"};

/* conda's own files in a prefix: its metadata, its commands and the activation scripts
 * that `conda activate` and `conda run` source. Directories cover everything below. */
static const char *const conda_owned[] = {
    "conda-meta",   "condabin",       "etc/conda",     "etc/profile.d", "bin/conda",
    "bin/activate", "bin/deactivate", "bin/conda-env", ".condarc",      "condarc",
};

static bool has(const char *dir, const char *name, mode_t type)
{
    char path[4096];
    struct stat st;
    int n = snprintf(path, sizeof(path), "%s/%s", dir, name);
    return n > 0 && (size_t)n < sizeof(path) && stat(path, &st) == 0 &&
           (st.st_mode & S_IFMT) == type;
}

roar_vmanager_kind roar_vmanager_classify(const char *dir)
{
    size_t i;
    if (has(dir, "conda-meta", S_IFDIR))
        return ROAR_VMANAGER_CONDA;
    if (has(dir, "versions", S_IFDIR)) {
        if (has(dir, "shims", S_IFDIR) || has(dir, "nvm.sh", S_IFREG))
            return ROAR_VMANAGER_VERSIONS;
        for (i = 0; i < sizeof(libexec_managers) / sizeof(libexec_managers[0]); i++)
            if (has(dir, libexec_managers[i], S_IFREG))
                return ROAR_VMANAGER_VERSIONS;
        return ROAR_VMANAGER_NONE;
    }
    if (has(dir, "installs", S_IFDIR) && has(dir, "shims", S_IFDIR))
        return ROAR_VMANAGER_INSTALLS;
    return ROAR_VMANAGER_NONE;
}

/* Whether rest is `name` or below it. */
static bool at_or_below(const char *rest, const char *name)
{
    size_t n = strlen(name);
    return !strncmp(rest, name, n) && (rest[n] == '\0' || rest[n] == '/');
}

bool roar_vmanager_owns(roar_vmanager_kind kind, const char *rest)
{
    size_t i;
    switch (kind) {
    case ROAR_VMANAGER_VERSIONS:
        return !at_or_below(rest, "versions");
    case ROAR_VMANAGER_INSTALLS:
        return !at_or_below(rest, "installs");
    case ROAR_VMANAGER_CONDA:
        for (i = 0; i < sizeof(conda_owned) / sizeof(conda_owned[0]); i++)
            if (at_or_below(rest, conda_owned[i]))
                return true;
        return false;
    case ROAR_VMANAGER_NONE:
        break;
    }
    return false;
}
