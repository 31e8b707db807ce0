/* Acting as the user who ran sudo (SPEC §8): effective ids for git roar, all ids for the
 * command. Why effective ids rather than chown afterwards: every file SQLite, libgit2 or
 * we create (WAL, temp files, locks, objects) is the user's from birth, and the kernel
 * hands root's capabilities back only while the effective uid is 0. */
#include "util/privdrop.h"

#include <errno.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

#include "util/err.h"

#define MAX_GROUPS 65536

static struct {
    bool active, keep_root;
    uid_t uid;
    gid_t gid;
    gid_t *groups; /* the user's, from the group database (initgroups' list) */
    int ngroups;
} pd;

/* A uid/gid as sudo writes it: decimal digits only, below (id_t)-1. */
static int parse_id(unsigned long *out, const char *name, const char *s)
{
    char *end;
    unsigned long v;

    if (!s || !*s || *s < '0' || *s > '9')
        return roar_error_set(ROAR_EINVALID, "%s is not a number: '%s'", name, s ? s : "");
    errno = 0;
    v = strtoul(s, &end, 10);
    if (errno || *end || v >= (unsigned long)(uid_t)-1)
        return roar_error_set(ROAR_EINVALID, "%s is not a valid id: '%s'", name, s);
    *out = v;
    return 0;
}

static int load_groups(const char *name, gid_t gid)
{
    int n = 64;

    for (;;) {
        gid_t *g = realloc(pd.groups, (size_t)n * sizeof(*g));
        int want = n;
        if (!g)
            return roar_error_set(ROAR_ENOMEM, "out of memory");
        pd.groups = g;
        if (getgrouplist(name, gid, g, &want) >= 0) {
            pd.ngroups = want;
            return 0;
        }
        if (want <= n || want > MAX_GROUPS)
            return roar_error_set(ROAR_ERROR, "cannot list the groups of user '%s'", name);
        n = want;
    }
}

static int set_env(const char *name, const char *value)
{
    if (setenv(name, value, 1) < 0)
        return roar_error_set_errno(ROAR_ERROR, "cannot set %s", name);
    return 0;
}

int roar_privdrop_init(bool keep_root)
{
    const char *su = getenv("SUDO_UID");
    unsigned long uid, gid;
    struct passwd *pw;
    uid_t r, e, s;
    int error;

    if (getuid() != 0 || geteuid() != 0 || !su || !*su || !strcmp(su, "0"))
        return 0;
    if ((error = parse_id(&uid, "SUDO_UID", su)) < 0 ||
        (error = parse_id(&gid, "SUDO_GID", getenv("SUDO_GID"))) < 0) {
        roar_error_prefix("running as root under sudo");
        return error;
    }
    if (uid == 0)
        return 0; /* "00": root after all */
    errno = 0;
    if (!(pw = getpwuid((uid_t)uid)))
        return roar_error_set(ROAR_EINVALID, "running as root under sudo: no user has SUDO_UID %lu",
                              uid);
    if ((error = load_groups(pw->pw_name, (gid_t)gid)) < 0 ||
        (error = set_env("HOME", pw->pw_dir)) < 0 || (error = set_env("USER", pw->pw_name)) < 0 ||
        (error = set_env("LOGNAME", pw->pw_name)) < 0)
        return error;
    pd.uid = (uid_t)uid;
    pd.gid = (gid_t)gid;
    pd.keep_root = keep_root;

    /* Groups and gid while we still may; the uid last. */
    if (setgroups((size_t)pd.ngroups, pd.groups) < 0 ||
        (keep_root ? setresgid((gid_t)-1, pd.gid, (gid_t)-1) : setresgid(pd.gid, pd.gid, pd.gid)) <
            0 ||
        (keep_root ? setresuid((uid_t)-1, pd.uid, (uid_t)-1) : setresuid(pd.uid, pd.uid, pd.uid)) <
            0)
        return roar_error_set_errno(ROAR_ERROR, "cannot switch to user '%s' (uid %lu)",
                                    pw->pw_name, uid);
    if (getresuid(&r, &e, &s) < 0 || e != pd.uid || (!keep_root && (r != pd.uid || s != pd.uid)))
        return roar_error_set(ROAR_ERROR, "cannot switch to user '%s' (uid %lu)", pw->pw_name, uid);
    pd.active = true;
    return 0;
}

unsigned roar_privdrop_uid(void)
{
    return pd.active ? (unsigned)pd.uid : 0;
}

int roar_privdrop_become_root(void)
{
    if (!pd.active || !pd.keep_root)
        return 0;
    if (seteuid(0) < 0)
        return roar_error_set_errno(ROAR_ERROR, "cannot become root again");
    return 0;
}

void roar_privdrop_become_user(void)
{
    if (!pd.active || !pd.keep_root)
        return;
    if (seteuid(pd.uid) < 0 || geteuid() != pd.uid) {
        /* never go on as root by accident */
        static const char msg[] = "fatal: cannot switch back to the sudo user\n";
        if (write(2, msg, sizeof(msg) - 1) < 0) {
        }
        _exit(128);
    }
}

int roar_privdrop_child(void)
{
    uid_t r, e, s;
    gid_t rg, eg, sg;

    if (!pd.active || !pd.keep_root)
        return 0; /* nothing to drop, or dropped for good already */
    /* The capabilities come back with euid 0 (still our saved uid) for setgroups. */
    if (seteuid(0) < 0)
        return errno ? errno : EPERM;
    if (setgroups((size_t)pd.ngroups, pd.groups) < 0 || setresgid(pd.gid, pd.gid, pd.gid) < 0 ||
        setresuid(pd.uid, pd.uid, pd.uid) < 0)
        return errno ? errno : EPERM;
    if (getresuid(&r, &e, &s) < 0 || getresgid(&rg, &eg, &sg) < 0 || r != pd.uid ||
        e != pd.uid || s != pd.uid || rg != pd.gid || eg != pd.gid || sg != pd.gid)
        return EPERM;
    /* Paranoia: root must be out of reach now. */
    if (setuid(0) == 0)
        return EPERM;
    return 0;
}
