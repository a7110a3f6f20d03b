/*
 * wordbench.c — the command-line entry point: picks the command, runs it,
 * and owns the exit status (0 ok, 1 failure, 2 usage).  The commands live
 * in cli_*.c; the work itself is in the library (include/wordbench/).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "cli_explain.h"
#include "cli_report.h"
#include "cli_search.h"
#include "cli_model.h"
#include "cli_train.h"

/* jemalloc (the process allocator, linked by the library) keeps freed pages
 * for 10 s by default; the converter frees and reuses large buffers, so
 * return them to the system sooner to keep peak RSS near what is in use. */
const char *malloc_conf = "dirty_decay_ms:1000,muzzy_decay_ms:0";

static const cli_cmd *const commands[] = {&cmd_convert, &cmd_info, &cmd_lookup, &cmd_neighbors,
                                          &cmd_verify, &cmd_export, &cmd_data, &cmd_train,
                                          &cmd_eval, &cmd_predict, &cmd_explain, &cmd_report, &cmd_summary, &cmd_evaluate,
                                          &cmd_export_embeddings, &cmd_search, &cmd_compare};
#define NCMD (sizeof commands / sizeof commands[0])

static void usage(FILE *f) {
    fprintf(f, "usage: wordbench <command> [options] <args>\n\ncommands:\n");
    for (size_t i = 0; i < NCMD; i++) fprintf(f, "  %-17s %s\n", commands[i]->name, commands[i]->summary);
    fprintf(f, "\n'wordbench <command> --help' shows a command's options and defaults; see docs/cli.md.\n");
}

/* The text and training commands allocate and grow many buffers (tokens,
 * offsets, the data set, the model's working memory).  On a virtual machine
 * a page fault costs several microseconds, and 4 KB pages made page faults
 * a third of `data stats` on the spam CSV (45,000 of them).  For these
 * commands jemalloc is asked to back its extents with transparent huge
 * pages and to keep freed pages longer: the options are read once, when
 * the allocator starts (before main), so the process re-executes itself
 * once with MALLOC_CONF set.  `convert` keeps the default above: huge
 * pages would raise its peak RSS, which has a target.  A MALLOC_CONF the
 * user set is respected (no re-execution). */
static void huge_pages_for(const char *cmd, char **argv) {
    static const char *const heavy[] = {"data", "train", "eval", "predict", "search", "compare"};
    int want = 0;
    for (size_t i = 0; i < sizeof heavy / sizeof heavy[0]; i++) want |= !strcmp(cmd, heavy[i]);
    if (!want || getenv("MALLOC_CONF") || getenv("WB_REEXEC")) return;
    if (setenv("MALLOC_CONF", "thp:always,dirty_decay_ms:10000", 1) || setenv("WB_REEXEC", "1", 1)) return;
    execv("/proc/self/exe", argv);
    unsetenv("MALLOC_CONF"); /* exec failed: carry on with the defaults */
}

int main(int argc, char **argv) {
    if (argc >= 2) huge_pages_for(argv[1], argv);
    if (argc < 2) {
        usage(stderr);
        fprintf(stderr, "Try 'wordbench --help'.\n");
        return EXIT_USAGE;
    }
    const char *name = argv[1];
    if (!strcmp(name, "--help") || !strcmp(name, "-h") || !strcmp(name, "help")) {
        if (argc > 2) {
            for (size_t i = 0; i < NCMD; i++)
                if (!strcmp(argv[2], commands[i]->name)) return cli_help(commands[i], stdout), EXIT_OK;
        }
        usage(stdout);
        return EXIT_OK;
    }
    if (!strcmp(name, "--version")) {
        printf("wordbench %s\n", WB_VERSION);
        return EXIT_OK;
    }
    for (size_t i = 0; i < NCMD; i++) {
        if (strcmp(name, commands[i]->name)) continue;
        cli c;
        int rc = cli_parse(&c, commands[i], argc - 1, argv + 1);
        if (rc == 0) rc = commands[i]->run(&c);
        else if (rc < 0) rc = EXIT_OK; /* --help */
        cli_free(&c);
        if (fflush(stdout)) {
            cli_warn("cannot write the output");
            return EXIT_FAIL;
        }
        return rc;
    }
    fprintf(stderr, "wordbench: unknown command '%s'\nTry 'wordbench --help'.\n", name);
    return EXIT_USAGE;
}
