/*
 * cli_report.c — `wordbench report`: load the models (and labelled data)
 * named on the command line, hand them to the report module
 * (wordbench/report.h), and publish the HTML page atomically: written to a
 * temporary file beside the output, renamed over it at the end, removed on
 * any failure.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cblas.h>

#include "cli.h"
#include "cli_model.h"
#include "cli_report.h"
#include "cli_train.h"
#include "wordbench/report.h"

static const cli_opt report_opts[] = {
    {"output", 'o', "FILE", NULL, "the HTML page to write ('-' = stdout); required", 0},
    {"data", 'd', "FILE", NULL, "labelled file to evaluate every model on (figures, confusion, errors)", 0},
    {"store", 's', "STORE", NULL, "the store the models were trained with (default: the recorded path)", 0},
    {"title", 0, "TEXT", NULL, "page title (default: wordbench report)", 0},
    {"top-classes", 0, "N", "20", "labels in the confusion heat map (the best supported)", 0},
    {"errors", 0, "N", "20", "most confident errors shown per model", 0},
    {"k", 'k', "K", "1", "P@K and R@K", 0},
    {"threshold", 0, "T", NULL, "binary and multi-label decision threshold (default: each model's own, 0.5 unless tuned)", 0},
    {"unknown-label", 0, "WHAT", "keep", "a label of --data the model does not know: keep (a true label never predicted)|skip|error (as eval)", 0},
    {"batch-size", 'b', "N", "64", "examples per forward pass", 0},
    {"threads", 0, "N", "2", "OpenBLAS threads", 0},
    CLI_MAX_MEMORY_OPT,
    {"quiet", 'q', NULL, NULL, "no notes on stderr", 0},
    {"help", 'h', NULL, NULL, "show this help", 0},
    {0}};

static int run_report(cli *c) {
    uint64_t top, nerr, k, bs, thr;
    float th = 0.5f;
    if (cli_u64(c, "top-classes", 2, 1000, &top) || cli_u64(c, "errors", 0, 10000, &nerr) || cli_u64(c, "k", 1, 1000, &k) ||
        cli_u64(c, "batch-size", 1, 65536, &bs) || cli_u64(c, "threads", 1, 256, &thr) ||
        cli_f32(c, "threshold", 0, 1, &th))
        return EXIT_USAGE;
    int unk = cli_choice(c, "unknown-label", "error|skip|keep"); /* = wb_unknown_mode */
    if (unk < 0) return EXIT_USAGE;
    const char *out = cli_str(c, "output");
    if (!out || !*out) return cli_usage(c, "-o FILE is required (the HTML page)");
    openblas_set_num_threads((int)thr);
    wb_report_opts ro;
    wb_report_opts_init(&ro);
    ro.title = cli_str(c, "title");
    ro.generator = "wordbench " WB_VERSION;
    ro.top_classes = top, ro.errors = nerr, ro.k = k, ro.batch = bs;
    if (cli_given(c, "threshold")) ro.threshold = th;
    wb_err e;
    wb_err_clear(&e);
    wb_report *r = NULL;
    wb_bundle **bs_ = calloc((size_t)c->argc, sizeof *bs_);
    wb_labelled *ls = calloc((size_t)c->argc, sizeof *ls);
    char *tmp = NULL, *best = NULL;
    FILE *f = NULL;
    int rc = EXIT_OK, lrc;
    if (!bs_ || !ls || (lrc = wb_report_create(&r, &ro, &e))) {
        rc = cli_fail(&e, wb_err_set(&e, WB_ENOMEM, "out of memory"));
        goto done;
    }
    const char *data = cli_str(c, "data");
    for (int i = 0; i < c->argc; i++) {
        /* a search's RUN_DIR: its table and curves, then its refit model best.wbm when there is one */
        const char *path = c->argv[i];
        struct stat st;
        if (!stat(path, &st) && S_ISDIR(st.st_mode)) {
            if ((lrc = wb_report_add_run(r, path, &e))) {
                rc = cli_fail(&e, lrc);
                goto done;
            }
            free(best);
            if (!(best = cli_best_path(path))) {
                rc = cli_fail(&e, wb_err_set(&e, WB_ENOMEM, "out of memory"));
                goto done;
            }
            if (access(best, F_OK)) continue;
            path = best;
        }
        if ((rc = cli_load_bundle(c, path, bs, &bs_[i]))) goto done;
        if (data && (lrc = wb_bundle_read(bs_[i], data, NULL, unk, 1, &ls[i], &e))) {
            rc = cli_fail(&e, lrc);
            goto done;
        }
        if (data && ls[i].unknown_labels && !c->quiet)
            cli_warn("warning: %s: %llu label%s of %s the model does not know %s", path,
                     (unsigned long long)ls[i].unknown_labels, ls[i].unknown_labels == 1 ? "" : "s", data,
                     unk == WB_UNKNOWN_KEEP ? "kept as true labels never predicted" : "dropped");
        if ((lrc = wb_report_add_model(r, path, bs_[i], data ? &ls[i] : NULL, data, &e))) {
            rc = cli_fail(&e, lrc);
            goto done;
        }
    }
    if (strcmp(out, "-")) {
        size_t n = strlen(out) + 16;
        tmp = malloc(n);
        if (!tmp) {
            rc = cli_fail(&e, wb_err_set(&e, WB_ENOMEM, "out of memory"));
            goto done;
        }
        snprintf(tmp, n, "%s.tmpXXXXXX", out);
        int fd = mkstemp(tmp);
        mode_t um = umask(0);
        umask(um);
        if (fd >= 0) fchmod(fd, 0666 & ~um); /* mkstemp's 0600 is for secrets; a page is not one */
        if (fd < 0 || !(f = fdopen(fd, "w"))) {
            cli_warn("%s: %s", out, strerror(errno));
            if (fd >= 0) close(fd), unlink(tmp);
            free(tmp), tmp = NULL;
            rc = EXIT_FAIL;
            goto done;
        }
    } else {
        f = stdout;
    }
    lrc = wb_report_write(r, f, &e);
    if (f != stdout) {
        if (fflush(f) || fsync(fileno(f))) lrc = lrc ? lrc : wb_err_set(&e, errno, "%s: %s", out, strerror(errno));
        if (fclose(f) && !lrc) lrc = wb_err_set(&e, errno, "%s: %s", out, strerror(errno));
        if (!lrc && rename(tmp, out)) lrc = wb_err_set(&e, errno, "%s: %s", out, strerror(errno));
        if (lrc) unlink(tmp);
        else if (!c->quiet) cli_warn("report written: %s", out);
    }
    if (lrc) rc = cli_fail(&e, lrc);
done:
    wb_report_destroy(r);
    for (int i = 0; i < c->argc; i++) {
        if (ls) wb_labelled_free(&ls[i]);
        if (bs_) wb_bundle_destroy(bs_[i]);
    }
    free(ls), free(bs_), free(tmp), free(best);
    return rc;
}

const cli_cmd cmd_report = {"report", "[options] MODEL|RUN_DIR... -o FILE",
                            "One self-contained HTML page: search table, figures, curves, confusion, errors explained, configuration.",
                            report_opts, 1, -1, run_report};
