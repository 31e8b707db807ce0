/* git-roar's main: the command table (every command of SPEC §3, its synopsis, options
 * and handler) and the dispatch that parses, discovers the repository, then runs it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <git2.h>

#include "cli/cli.h"
#include "cli/gitinit.h"
#include "cli/pager.h"
#include "cli/run.h"
#include "util/privdrop.h"
#include "util/err.h"

/* ---- option declarations, one array per command (SPEC §3) ---------------------- */

static const roar_option init_options[] = {
    ROAR_OPT_BOOL_(0, "no-hooks", "do not install the hooks"),
    ROAR_OPT_BOOL_(0, "no-fetch", "do not fetch the remote's notes now"),
    ROAR_OPT_STRING_(0, "remote", "NAME", "remote to add the notes fetch refspec to (origin)"),
    ROAR_OPT_END_,
};

static const roar_option run_options[] = {
    ROAR_OPT_CHOICE_('t', "tracer", "auto|ebpf|preload", "how to trace the command (auto)"),
    ROAR_OPT_BOOL_(0, "commit", "commit the job's outputs and attach the job to that commit"),
    ROAR_OPT_STRING_('m', "message", "MSG", "commit message for --commit"),
    ROAR_OPT_END_,
};

static const roar_option attach_options[] = {
    ROAR_OPT_BOOL_(0, "rewritten",
                   "read git's post-rewrite list on stdin; carry pending jobs to the new commits"),
    ROAR_OPT_END_,
};

static const roar_option drop_options[] = {
    ROAR_OPT_BOOL_(0, "from-notes", "also remove attached jobs from the notes"),
    ROAR_OPT_END_,
};

static const roar_option log_options[] = {
    ROAR_OPT_INT_('n', "max-count", "N", "show at most N jobs"),
    ROAR_OPT_BOOL_(0, "pending", "show only jobs not yet attached to a commit"),
    ROAR_OPT_BOOL_(0, "json", "machine-readable output"),
    ROAR_OPT_END_,
};

static const roar_option show_options[] = {
    ROAR_OPT_BOOL_(0, "json", "machine-readable output"),
    ROAR_OPT_BOOL_(0, "all", "list every job behind a file (a terminal shows the newest 20)"),
    ROAR_OPT_END_,
};

static const roar_option lineage_options[] = {
    ROAR_OPT_BOOL_(0, "down", "what was derived from OBJ, instead of what it came from"),
    ROAR_OPT_INT_(0, "depth", "N", "follow at most N levels"),
    ROAR_OPT_CHOICE_(0, "format", "text|json|dot|mermaid", "output format (text)"),
    ROAR_OPT_BOOL_(0, "json", "machine-readable output (as the json format)"),
    ROAR_OPT_BOOL_(0, "outside",
                   "dot, mermaid: draw each input outside the work tree, not a count"),
    ROAR_OPT_END_,
};

static const roar_option status_options[] = {
    ROAR_OPT_BOOL_(0, "all", "list the outputs that are ok too"),
    ROAR_OPT_BOOL_(0, "json", "machine-readable output"),
    ROAR_OPT_BOOL_(0, "exit-code", "exit 1 unless every output is ok"),
    ROAR_OPT_END_,
};

static const roar_option reproduce_options[] = {
    ROAR_OPT_BOOL_('n', "dry-run", "print the plan only"),
    ROAR_OPT_BOOL_(0, "yes", "run the plan without asking"),
    ROAR_OPT_BOOL_(0, "force", "rerun even what is current, to check that it reproduces"),
    ROAR_OPT_END_,
};

static const roar_option review_options[] = {
    ROAR_OPT_CHOICE_(0, "format", "text|markdown|json", "output format (text)"),
    ROAR_OPT_BOOL_(0, "json", "machine-readable output (as the json format)"),
    ROAR_OPT_BOOL_(0, "exit-code", "exit 1 when anything is unexplained or stale"),
    ROAR_OPT_END_,
};

static const roar_option reindex_options[] = {
    ROAR_OPT_BOOL_(0, "full", "rebuild the cache from scratch"),
    ROAR_OPT_END_,
};

static const roar_option export_options[] = {
    ROAR_OPT_CHOICE_(0, "format", "prov-json|openlineage|dot|json", "output format"),
    ROAR_OPT_BOOL_(0, "outside", "dot: draw each input outside the work tree, not a count"),
    ROAR_OPT_END_,
};

/* ---- the table ------------------------------------------------------------------
 * `.fn = NULL` means "not implemented yet": main still parses the options and finds
 * the repository, so -h, usage errors and "not a git repository" already behave. */

#define REPO ROAR_CMD_NEED_REPO
#define WORKTREE (ROAR_CMD_NEED_REPO | ROAR_CMD_NEED_WORKTREE)
#define PAGER ROAR_CMD_PAGER

const roar_cli_command roar_cli_commands[] = {
    {"init", "[--no-hooks] [--remote NAME]",
     "Set up hooks, notes rewriting and the notes fetch refspec", roar_cmd_init, REPO, 0, 0,
     init_options},
    {"run", "[-t auto|ebpf|preload] [--commit [-m MSG]] [-q] [--] CMD [ARG...]",
     "Run a command, trace the files it reads and writes, record a job", roar_cmd_run,
     WORKTREE | ROAR_CMD_STOP_AT_ARG, 1, -1, run_options},
    {"attach", "[REV]", "Attach pending jobs to a commit (HEAD) as a git note",
     roar_cmd_attach, WORKTREE, 0, 1, attach_options},
    {"drop", "[--from-notes] JOB...", "Discard pending jobs", roar_cmd_drop, REPO, 1, -1,
     drop_options},
    {"log", "[-n N] [--pending] [--json] [-- PATH...]", "List jobs, newest first", roar_cmd_log,
     REPO | PAGER, 0, -1, log_options},
    {"show", "[--json] OBJ", "Show a job, or the jobs behind a file, blob or commit",
     roar_cmd_show, REPO | PAGER, 1, 1, show_options},
    {"lineage", "[--down] [--depth N] [--format text|json|dot|mermaid] OBJ",
     "Show what OBJ was derived from, or what was derived from it", roar_cmd_lineage, REPO | PAGER, 1,
     1, lineage_options},
    {"status", "[--all] [--json] [--exit-code] [PATH...]",
     "Show the recorded outputs that need attention, and what to rerun", roar_cmd_status,
     WORKTREE | PAGER, 0, -1, status_options},
    {"reproduce", "[-n] [--yes] [--force] [OBJ...|REV]",
     "Rerun the jobs needed to rebuild OBJ (or whatever is not ok)", roar_cmd_reproduce, WORKTREE,
     0, -1, reproduce_options},
    {"review", "[--format text|markdown|json] [--exit-code] RANGE|REV",
     "Explain the data changes of a commit range, for reviewers", roar_cmd_review, REPO | PAGER, 1, 1,
     review_options},
    {"fetch", "[REMOTE]", "Fetch and merge the remote's notes", roar_cmd_fetch, REPO, 0, 1,
     NULL},
    {"push", "[REMOTE]", "Push the local notes", roar_cmd_push, REPO, 0, 1, NULL},
    {"sync", "[REMOTE]", "Fetch, merge and push the notes", roar_cmd_sync, REPO, 0, 1, NULL},
    {"reindex", "[--full]", "Bring the cache up to date from the notes and pending jobs",
     roar_cmd_reindex, REPO, 0, 0, reindex_options},
    {"fsck", "", "Check every note and pending record", roar_cmd_fsck, REPO, 0, 0, NULL},
    {"export", "--format prov-json|openlineage|dot|json [OBJ|RANGE]",
     "Export lineage as PROV-JSON, OpenLineage, dot or JSON", roar_cmd_export, REPO, 0, 1,
     export_options},
    {NULL, NULL, NULL, NULL, 0, 0, 0, NULL},
};

static const roar_cli_command *find_command(const char *name)
{
    const roar_cli_command *cmd;
    for (cmd = roar_cli_commands; cmd->name; cmd++)
        if (!strcmp(cmd->name, name))
            return cmd;
    return NULL;
}

static void print_command_list(FILE *out)
{
    const roar_cli_command *cmd;

    fprintf(out, "These are the git roar commands:\n");
    for (cmd = roar_cli_commands; cmd->name; cmd++)
        fprintf(out, "   %-12s%s\n", cmd->name, cmd->summary);
}

static void print_main_usage(FILE *out)
{
    fprintf(out, "usage: git roar [--version] [-h | --help] <command> [<args>]\n\n"
                 "Record and query the lineage of data produced in a git repository.\n\n");
    print_command_list(out);
    fprintf(out, "\nSee 'git roar <command> -h' for a command's options, and 'git help roar'"
                 " for the manual.\n");
}

static int unknown_command(const char *name)
{
    fprintf(stderr, "git roar: '%s' is not a git roar command. See 'git roar -h'.\n\n", name);
    print_command_list(stderr);
    return ROAR_EXIT_USAGE;
}

/* git dies when it cannot write its output (a full disk must not look like success). */
static int finish_stdout(int status)
{
    if (fflush(stdout) != 0 || ferror(stdout))
        roar_cli_die("unable to write to standard output");
    return status;
}

/* What the library repaired on its own (util/err.h notices): a warning, shown even
 * with -q, since it names a file the user may want to look at. */
static void print_notice(const char *message)
{
    roar_cli_warning("%s", message);
}

int main(int argc, char **argv)
{
    const roar_cli_command *cmd;
    roar_cli_ctx ctx;
    const char *arg;
    int status;

    if (argc < 2) {
        print_main_usage(stderr);
        return ROAR_EXIT_USAGE;
    }
    arg = argv[1];
    if (!strcmp(arg, "-h") || !strcmp(arg, "--help")) {
        print_main_usage(stdout);
        return finish_stdout(ROAR_EXIT_OK);
    }
    if (!strcmp(arg, "--version")) {
        printf("git roar version %s\n", ROAR_VERSION);
        return finish_stdout(ROAR_EXIT_OK);
    }
    if (!strcmp(arg, "help")) {
        if (argc < 3) {
            print_main_usage(stdout);
            return finish_stdout(ROAR_EXIT_OK);
        }
        if (!(cmd = find_command(argv[2])))
            return unknown_command(argv[2]);
        roar_cli_print_usage(cmd, false);
        return finish_stdout(ROAR_EXIT_OK);
    }
    if (arg[0] == '-') {
        fprintf(stderr, "error: unknown option `%s'\n", arg);
        print_main_usage(stderr);
        return ROAR_EXIT_USAGE;
    }
    if (!(cmd = find_command(arg)))
        return unknown_command(arg);

    roar_cli_parse(&ctx, cmd, argc - 1, argv + 1);
    roar_cli_progress_init(&ctx);
    roar_notice_set_handler(print_notice);

    /* SPEC §8: under sudo, act as the user; only the commands that trace keep a way
     * back to root (the eBPF loader), the others drop it for good. */
    if (roar_privdrop_init(cmd->fn == roar_cmd_run || cmd->fn == roar_cmd_reproduce) < 0)
        roar_cli_die_error();
    /* What needs no libgit2 runs while it initialises (cli/gitinit.h). */
    roar_cli_libgit2_start();
    /* With -t the tracer is known before the repository: load it while libgit2 starts.
     * Otherwise roar.tracer decides, once the repository (and its config) is open. */
    bool prepare_late = cmd->fn == roar_cmd_run && !roar_cli_opt_set(&ctx, "tracer");
    if (cmd->fn == roar_cmd_run && !prepare_late)
        roar_run_prepare(roar_cli_opt_string(&ctx, "tracer", "auto"));
    roar_cli_libgit2_wait();
    if ((cmd->flags & (ROAR_CMD_NEED_REPO | ROAR_CMD_NEED_WORKTREE)) &&
        roar_repo_open(&ctx.repo, NULL) < 0)
        roar_cli_die_error();
    if (prepare_late && ctx.repo)
        roar_run_prepare(roar_run_tracer_choice(NULL, ctx.repo));
    if ((cmd->flags & ROAR_CMD_NEED_WORKTREE) && roar_repo_require_worktree(ctx.repo) < 0)
        roar_cli_die_error();

    if (cmd->flags & ROAR_CMD_PAGER)
        roar_cli_pager_start(ctx.repo);
    roar_cli_color_init(ctx.repo);

    if (!cmd->fn)
        roar_cli_die("'git roar %s' is not implemented yet", cmd->name);
    status = cmd->fn(&ctx);

    roar_cli_ctx_release(&ctx);
    git_libgit2_shutdown();
    return finish_stdout(status);
}
