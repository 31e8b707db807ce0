/* The pager and the color decision of the query commands (see pager.h). Only the CLI
 * uses this: it changes where stdout goes and is undone at exit. */
#include "cli/pager.h"

#include <errno.h>
#include <git2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static pid_t pager_pid = -1;
static bool color_on;

static char *config_string(roar_repo *repo, const char *key)
{
    git_config *cfg = NULL;
    git_buf val = {0};
    char *out = NULL;

    if (repo && git_repository_config_snapshot(&cfg, roar_repo_git(repo)) == 0 &&
        git_config_get_string_buf(&val, cfg, key) == 0)
        out = strdup(val.ptr);
    git_buf_dispose(&val);
    git_config_free(cfg);
    return out;
}

static void wait_for_pager(void)
{
    fflush(stdout);
    fflush(stderr);
    /* Closing our ends is the pager's end of input; then let it finish drawing. */
    close(STDOUT_FILENO);
    close(STDERR_FILENO);
    while (waitpid(pager_pid, NULL, 0) < 0 && errno == EINTR)
        ;
}

void roar_cli_pager_start(roar_repo *repo)
{
    const char *env = getenv("GIT_PAGER_IN_USE");
    char *configured = NULL, *pager;
    int fds[2];

    if (!isatty(STDOUT_FILENO) || (env && *env && strcmp(env, "false") && strcmp(env, "0")))
        return;
    if ((env = getenv("GIT_PAGER")))
        pager = strdup(env);
    else if ((configured = config_string(repo, "core.pager")))
        pager = configured, configured = NULL;
    else if ((env = getenv("PAGER")))
        pager = strdup(env);
    else
        pager = strdup("less");
    if (!pager || !*pager || !strcmp(pager, "cat") || pipe(fds) < 0)
        goto done;

    fflush(stdout);
    pager_pid = fork();
    if (pager_pid < 0) {
        close(fds[0]);
        close(fds[1]);
        goto done;
    }
    if (pager_pid == 0) {
        dup2(fds[0], STDIN_FILENO);
        close(fds[0]);
        close(fds[1]);
        setenv("LESS", getenv("LESS") ? getenv("LESS") : "FRX", 1);
        setenv("LV", getenv("LV") ? getenv("LV") : "-c", 1);
        execl("/bin/sh", "sh", "-c", pager, (char *)NULL);
        _exit(127);
    }
    dup2(fds[1], STDOUT_FILENO);
    if (isatty(STDERR_FILENO))
        dup2(fds[1], STDERR_FILENO);
    close(fds[0]);
    close(fds[1]);
    /* Children we start (git, traced commands) must not page again. */
    setenv("GIT_PAGER_IN_USE", "true", 1);
    atexit(wait_for_pager);
done:
    free(pager);
    free(configured);
}

bool roar_cli_pager_in_use(void)
{
    const char *env = getenv("GIT_PAGER_IN_USE");
    return pager_pid > 0 || (env && *env && strcmp(env, "false") && strcmp(env, "0"));
}

void roar_cli_color_init(roar_repo *repo)
{
    char *value = config_string(repo, "color.roar");
    const char *term = getenv("TERM");

    if (!value)
        value = config_string(repo, "color.ui");
    if (value && (!strcmp(value, "always")))
        color_on = true;
    else if (value && (!strcmp(value, "never") || !strcmp(value, "false")))
        color_on = false;
    else /* unset, "auto", "true": as git, color only for a terminal or its pager */
        color_on = (isatty(STDOUT_FILENO) || roar_cli_pager_in_use()) &&
                   !(term && !strcmp(term, "dumb"));
    free(value);
}

const char *roar_cli_color(roar_color c)
{
    static const char *const codes[] = {
        [ROAR_COLOR_RESET] = "\033[m",   [ROAR_COLOR_ID] = "\033[33m",
        [ROAR_COLOR_GOOD] = "\033[32m",  [ROAR_COLOR_WARN] = "\033[33m",
        [ROAR_COLOR_BAD] = "\033[31m",
    };
    return color_on ? codes[c] : "";
}
