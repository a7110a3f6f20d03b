/*
 * cli_train.c — the model commands: train, eval, predict, summary.  Each
 * parses its options (tables below), calls the library (dataset, model,
 * train, eval, bundle) and prints results on stdout (one JSON document with
 * --json); progress and diagnostics go to stderr.
 */
#include <errno.h>
#include <inttypes.h>
#include <jemalloc/jemalloc.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cblas.h>

#include "cli.h"
#include "cli_ds.h"
#include "cli_model.h"
#include "cli_train.h"
#include "wordbench/clock.h"
#include "wordbench/bundle.h"
#include "wordbench/eval.h"
#include "wordbench/metrics.h"
#include "wordbench/model.h"
#include "wordbench/train.h"

/* --name as a float in [lo, hi]; *out unchanged when not given. */
static int opt_float(const cli *c, const char *name, double lo, double hi, float *out) {
    return cli_f32(c, name, lo, hi, out);
}

/* ---- train ------------------------------------------------------------------ */

static const cli_opt train_opts[] = {
    {"data", 'd', "FILE", NULL, "training file (required)", 0},
    CLI_DATASET_OPTS("100", "pad or truncate every text to N tokens"),
    {"store", 's', "STORE", NULL, "pretrained vectors (a store made by 'wordbench convert')", 0},
    CLI_OPT_VERIFY_ON_OPEN,
    CLI_MODEL_OPTS,
    {"output", 'o', "MODEL", NULL, "model file to write (required)", 0},
    CLI_FIT_OPTS,
    {"no-restore-best", 0, NULL, NULL, "keep the last epoch's weights, not the best validation epoch's", 0},
    {"checkpoint", 0, "FILE", NULL, "checkpoint after every epoch (default MODEL.ckpt)", 0},
    {"resume", 0, "[require]", NULL, "continue from the checkpoint (none yet: start, with a note; =require: fail)", 0},
    {"history", 0, "FILE", NULL, "write the per-epoch history as CSV", 0},
    {"tune-threshold", 0, NULL, NULL, "binary, multi-label: store the F1-maximising threshold on the validation examples", 0},
    {"threads", 0, "N", "2", "threads of every training step (its examples split in N lanes; OpenBLAS at one thread in each)", 0},
    {"embed-vectors", 0, NULL, NULL, "store the frozen rows in the model file (runs without the store)", 0},
    CLI_MAX_MEMORY_OPT,
    {"mem-report", 0, NULL, NULL, "print memory figures at the end (stderr, or in --json)", 0},
    {"quiet", 'q', NULL, NULL, "no progress, no epoch lines", 0},
    {"json", 0, NULL, NULL, "one JSON document on stdout", 0},
    {"help", 'h', NULL, NULL, "show this help", 0},
    {0}};

typedef struct tctx {
    cli *c;
    double t_epoch;
    int multilabel;   /* the accuracy figure is P@1 */
} tctx;

static void train_note(void *ud, int warning, const char *msg) {
    (void)ud;
    cli_warn("%s%s", warning ? "warning: " : "", msg);
}

static void progress(void *ud, size_t epoch, size_t epochs, size_t done, size_t total, double loss, double acc,
                     const wb_epoch *ep) {
    tctx *t = ud;
    cli *c = t->c;
    if (!ep) {
        int w = (int)(30.0 * (double)done / (double)(total ? total : 1));
        char bar[32];
        for (int i = 0; i < 30; i++) bar[i] = i < w ? '=' : (i == w ? '>' : '.');
        bar[30] = 0;
        cli_progress(c, 0, "Epoch %zu/%zu %zu/%zu [%s] loss %.4f %s %.4f", epoch, epochs, done, total, bar, loss,
                     t->multilabel ? "P@1" : "acc", acc);
        return;
    }
    if (c->quiet) return;
    char line[256];
    int n = snprintf(line, sizeof line, "Epoch %zu/%zu %zu/%zu [==============================] %.0fs loss %.4f %s %.4f",
                     epoch, epochs, done, total, ep->seconds, ep->loss, t->multilabel ? "P@1" : "acc", ep->acc);
    if (ep->has_val && t->multilabel)
        snprintf(line + n, sizeof line - (size_t)n, " val_loss %.4f val_P@1 %.4f val_R@1 %.4f", ep->val_loss, ep->val_acc,
                 ep->val_r1);
    else if (ep->has_val)
        snprintf(line + n, sizeof line - (size_t)n, " val_loss %.4f val_acc %.4f", ep->val_loss, ep->val_acc);
    if (c->progress) fprintf(stderr, "\r%-79s\n", line);
    else fprintf(stderr, "%s\n", line);
}

/* A "Key:  N kB" line of /proc/self/status in bytes (0 when unknown):
 * RssAnon (heap, stacks, anonymous maps), RssFile (mapped file pages this
 * process has touched: the store's), VmHWM (peak RSS). */
static uint64_t proc_status(const char *key) {
    FILE *f = fopen("/proc/self/status", "r");
    if (!f) return 0;
    char line[256];
    uint64_t kb = 0;
    size_t kl = strlen(key);
    while (fgets(line, sizeof line, f))
        if (!strncmp(line, key, kl) && line[kl] == ':' && sscanf(line + kl + 1, "%" SCNu64, &kb) == 1) break;
    fclose(f);
    return kb * 1024;
}

/* Resident bytes of [p, p+n) (mincore). */
static uint64_t resident(const void *p, size_t n) {
    long pg = sysconf(_SC_PAGESIZE);
    uintptr_t a = (uintptr_t)p & ~(uintptr_t)(pg - 1), end = (uintptr_t)p + n;
    size_t pages = (end - a + (size_t)pg - 1) / (size_t)pg;
    unsigned char *v = malloc(pages ? pages : 1);
    if (!v) return 0;
    uint64_t r = 0;
    if (mincore((void *)a, end - a, v) == 0)
        for (size_t i = 0; i < pages; i++) r += v[i] & 1;
    free(v);
    return r * (uint64_t)pg;
}

typedef struct memrep {
    uint64_t rss_anon, rss_file, hwm, je_allocated, je_resident, store_resident, store_bytes;
    uint64_t dataset_resident, dataset_bytes; /* the mapped data set's files */
    wb_model_mem mm;
} memrep;

static void mem_measure(memrep *r, wb_model *m, wb_store *st, const wb_dataset *ds) {
    memset(r, 0, sizeof *r);
    r->rss_anon = proc_status("RssAnon");
    r->rss_file = proc_status("RssFile");
    r->hwm = proc_status("VmHWM");
    uint64_t ep = 1;
    size_t sz = sizeof ep;
    mallctl("epoch", &ep, &sz, &ep, sz);
    size_t v;
    sz = sizeof v;
    if (!mallctl("stats.allocated", &v, &sz, NULL, 0)) r->je_allocated = v;
    sz = sizeof v;
    if (!mallctl("stats.resident", &v, &sz, NULL, 0)) r->je_resident = v;
    if (st) {
        const wb_store_info *in = wb_store_info_get(st);
        size_t el = in->dtype == WB_DTYPE_F16 ? 2 : 4;
        r->store_bytes = in->rows * in->dim * el;
        if (in->rows) r->store_resident = resident(wb_store_row(st, 0), r->store_bytes);
    }
    r->dataset_bytes = wb_dataset_mapped_bytes(ds);
    r->dataset_resident = wb_dataset_resident_bytes(ds);
    wb_model_mem_get(m, &r->mm);
}

/* The history as CSV; a multi-label run has P@1 where others have accuracy,
 * and the validation R@1. */
static int write_history(const char *path, const wb_train_result *r, int multilabel) {
    FILE *f = fopen(path, "w");
    if (!f) return errno;
    fprintf(f, multilabel ? "epoch,loss,p_at_1,val_loss,val_p_at_1,val_r_at_1,seconds\n" : "epoch,loss,acc,val_loss,val_acc,seconds\n");
    for (size_t i = 0; i < r->epochs_run; i++) {
        const wb_epoch *h = &r->history[i];
        fprintf(f, "%zu,%.6f,%.6f,", h->epoch, h->loss, h->acc);
        if (h->has_val) fprintf(f, "%.6f,%.6f,", h->val_loss, h->val_acc);
        else fprintf(f, ",,");
        if (multilabel) fprintf(f, h->has_val ? "%.6f," : ",", h->val_r1);
        fprintf(f, "%.3f\n", h->seconds);
    }
    int rc = ferror(f) ? EIO : 0;
    if (fclose(f) && !rc) rc = errno;
    return rc;
}

static int run_train(cli *c) {
    double t_start = wb_clock_s();
    const char *data = cli_str(c, "data"), *out = cli_str(c, "output"), *store_dir = cli_str(c, "store");
    if (!data) return cli_usage(c, "--data FILE is required");
    if (!out) return cli_usage(c, "-o MODEL is required");
    cli_fit fit;
    if (cli_fit_opts(c, store_dir != NULL, &fit)) return EXIT_USAGE;
    wb_model_cfg mc = fit.mc;
    if (mc.emb != WB_EMB_LEARNED && !store_dir)
        return cli_usage(c, "--embeddings %s needs --store", wb_emb_mode_name(mc.emb));
    if (mc.emb == WB_EMB_LEARNED && store_dir) return cli_usage(c, "--embeddings learned uses no --store");
    wb_optim opt = fit.opt;
    wb_train_opts to;
    wb_train_opts_init(&to);
    uint64_t thr;
    if (cli_u64(c, "threads", 1, 256, &thr)) return EXIT_USAGE;
    uint64_t maxmem;
    if (cli_max_memory(c, &maxmem)) return EXIT_USAGE;
    const char *cwspec = fit.class_weights;
    to.epochs = fit.epochs, to.batch = fit.batch, to.patience = fit.patience, to.seed = fit.seed;
    to.restore_best = !cli_flag(c, "no-restore-best");
    to.max_memory = maxmem;
    if (cli_given(c, "resume")) {
        const char *r = cli_str(c, "resume");
        if (*r && strcmp(r, "require")) return cli_usage(c, "--resume takes no value or =require, not '%s'", r);
        to.resume = *r ? WB_RESUME_REQUIRE : WB_RESUME_IF_ANY;
    }
    mc.seed = to.seed;
    to.threads = thr;
    openblas_set_num_threads(1); /* the step's lanes are the threads */

    /* The data set. */
    wb_dataset_opts dso;
    cli_ds_strings dss;
    int rc = cli_ds_opts(c, data, 0, &dso, &dss);
    if (rc) {
        cli_ds_strings_free(&dss);
        return rc;
    }
    if (!cli_given(c, "maxlen")) cli_ds_set_maxlen(&dso, &dss, cli_model_maxlen(&mc));
    if (mc.kind == WB_MODEL_CHARCNN && !cli_given(c, "tokenizer")) dso.tok.kind = WB_TOK_CHAR; /* one id per character */
    wb_err e;
    wb_err_clear(&e);
    wb_dataset *ds = NULL;
    wb_dataset_stats dst;
    wb_store *st = NULL;
    wb_model *m = NULL;
    int64_t *rows = NULL, *irows[WB_MAX_INPUTS] = {0}; /* store rows of input 0, of inputs k >= 1 */
    char *ckpt = NULL, *store_abs = NULL;
    wb_model_file mf; /* meta and vocabularies of the model file */
    memset(&mf, 0, sizeof mf);
    float *cw = NULL;
    wb_train_result res;
    memset(&res, 0, sizeof res);
    int lrc = wb_dataset_build(&ds, &dso, &dst, &e);
    cli_ds_report(c, &dso, &dst);
    if (lrc) {
        rc = cli_fail(&e, lrc);
        goto out;
    }
    double t_data = wb_clock_s();
    const wb_vocab *v = wb_dataset_vocab(ds);
    /* every text input (one branch each) and the numeric features */
    if ((lrc = wb_model_cfg_of_dataset(&mc, ds, &e))) {
        rc = cli_usage(c, "%s", e.msg);
        goto out;
    }
    size_t ninp = wb_model_cfg_ninputs(&mc);
    if (cli_flag(c, "tune-threshold") && mc.task == WB_TASK_MULTICLASS) {
        rc = cli_usage(c, "--tune-threshold: a multiclass model predicts its best label, it has no threshold");
        goto out;
    }
    if (cli_flag(c, "tune-threshold") && !dst.n_valid && !dst.n_test) {
        rc = cli_usage(c, "--tune-threshold needs validation examples (--valid FILE, --test FILE or --test-size F)");
        goto out;
    }
    size_t found = 0;
    if (store_dir) {
        if ((lrc = wb_store_open(&st, store_dir, &e))) {
            rc = cli_fail(&e, lrc);
            goto out;
        }
        uint32_t dim = wb_store_info_get(st)->dim;
        if (!mc.E) mc.E = dim;
        rows = malloc(mc.V * sizeof *rows);
        if (!rows) {
            rc = cli_fail(&e, wb_err_set(&e, WB_ENOMEM, "out of memory"));
            goto out;
        }
        /* the rows come in from disk (when the page cache lacks them) while the model is built */
        if ((lrc = wb_vocab_rows(v, st, rows, &found, &e)) || (lrc = wb_train_prefetch(st, ds, &to, rows, mc.V, &e))) {
            rc = cli_fail(&e, lrc);
            goto out;
        }
        for (size_t k = 1; k < ninp; k++) { /* every input's words, in the one store */
            size_t fk = 0;
            irows[k] = malloc(mc.text_V[k] * sizeof *irows[k]);
            if (!irows[k]) {
                rc = cli_fail(&e, wb_err_set(&e, WB_ENOMEM, "out of memory"));
                goto out;
            }
            if ((lrc = wb_vocab_rows(wb_dataset_input_get(ds, k)->vocab, st, irows[k], &fk, &e))) {
                rc = cli_fail(&e, lrc);
                goto out;
            }
            found += fk;
        }
        store_abs = realpath(store_dir, NULL);
    }
    if (!mc.E) mc.E = 100;
    if ((lrc = wb_model_create(&m, &mc, &opt, to.batch, &e))) {
        rc = lrc == WB_EUSAGE ? cli_usage(c, "%s", e.msg) : cli_fail(&e, lrc);
        goto out;
    }
    for (size_t k = 0; st && k < ninp; k++)
        if ((lrc = wb_model_attach_input(m, k, st, k ? irows[k] : rows, &e))) {
            rc = lrc == WB_EUSAGE ? cli_usage(c, "%s", e.msg) : cli_fail(&e, lrc);
            goto out;
        }
    double t_model = wb_clock_s();
    if (cwspec) { /* into the model: the loss of every training step, saved with it */
        size_t ncw;
        cw = malloc((mc.C + 1) * sizeof *cw);
        if (!cw) {
            rc = cli_fail(&e, wb_err_set(&e, WB_ENOMEM, "out of memory"));
            goto out;
        }
        if ((lrc = wb_class_weights_parse(cwspec, ds, NULL, 0, cw, &ncw, &e)) || (lrc = wb_model_set_class_weights(m, cw, ncw, &e))) {
            rc = lrc == WB_EUSAGE && !e.file[0] ? cli_usage(c, "--class-weights: %s", e.msg) : cli_fail(&e, lrc);
            goto out;
        }
    }
    if ((lrc = wb_bundle_file_make(&mf, &dso, ds, store_abs, st ? wb_store_info_get(st)->fingerprint : 0, &e))) {
        rc = cli_fail(&e, lrc);
        goto out;
    }
    mf.embed_vectors = cli_flag(c, "embed-vectors");
    if (cli_str(c, "checkpoint")) ckpt = strdup(cli_str(c, "checkpoint"));
    else if (asprintf(&ckpt, "%s.ckpt", out) < 0) ckpt = NULL;
    if (!ckpt) {
        rc = cli_fail(&e, wb_err_set(&e, WB_ENOMEM, "out of memory"));
        goto out;
    }
    to.out_path = out, to.ckpt_path = ckpt, to.file = &mf;
    tctx tc = {.c = c, .multilabel = mc.task == WB_TASK_MULTILABEL};
    to.progress = progress, to.ctx = &tc, to.should_stop = cli_stop_requested, to.note = train_note;
    cli_catch_stop();
    double t_train = wb_clock_s();
    lrc = wb_train_run(&m, ds, &to, &res, &e);
    cli_progress(c, 1, " ");
    if (lrc) {
        rc = cli_fail(&e, lrc);
        goto out;
    }
    if (res.interrupted) {
        cli_warn("interrupted after %zu complete epochs; resume with --resume (checkpoint %s)", res.epochs_run, ckpt);
        rc = EXIT_FAIL;
        goto out;
    }
    if (cli_str(c, "history") && (lrc = write_history(cli_str(c, "history"), &res, mc.task == WB_TASK_MULTILABEL))) {
        cli_warn("%s: %s", cli_str(c, "history"), strerror(lrc));
        rc = EXIT_FAIL;
        goto out;
    }
    /* The model file records the run's history, data set and tuned threshold. */
    float th = 0.5f;
    double th_f1 = 0;
    if ((lrc = wb_bundle_finish(m, ds, &dso, &to, &res, cli_flag(c, "tune-threshold"), &th, &th_f1, &e))) {
        rc = cli_fail(&e, lrc);
        goto out;
    }
    if (cli_flag(c, "tune-threshold") && !dst.n_valid && !c->quiet)
        cli_warn("the threshold was tuned on the test split (no --valid): its test figures are optimistic");
    /* Test figures of the saved model. */
    size_t ntest;
    uint32_t *tidx = wb_split_indices(ds, WB_DS_TEST, &ntest);
    wb_metrics tm;
    memset(&tm, 0, sizeof tm);
    if (ntest && ntest != SIZE_MAX) {
        wb_model *fm = NULL;
        wb_model_file ff;
        void *blob = NULL;
        lrc = wb_model_load_ex(&fm, out, to.batch, maxmem, &ff, &blob, &e);
        /* The file is read back by path, so another process may have
         * replaced it meanwhile (two trainings writing the same -o): `rows`
         * fits this training's vocabulary only, so anything else is an
         * error, not a read past it (review bug 2). */
        int same = !lrc && wb_model_cfg_get(fm)->V == mc.V && ff.vocab_len == mf.vocab_len && !memcmp(ff.vocab, mf.vocab, mf.vocab_len) &&
                   ff.fingerprint == mf.fingerprint && wb_model_cfg_ninputs(wb_model_cfg_get(fm)) == ninp;
        for (size_t k = 1; same && k < ninp; k++)
            same = wb_model_cfg_get(fm)->text_V[k] == mc.text_V[k] && ff.input_vocab_len[k] == mf.input_vocab_len[k] &&
                   !memcmp(ff.input_vocab[k], mf.input_vocab[k], mf.input_vocab_len[k]);
        if (!lrc && !same)
            lrc = wb_err_at(&e, WB_ECORRUPT, out, 0, -1,
                            "is no longer the model this training saved (another process replaced it?)");
        for (size_t k = 0; !lrc && st && !wb_model_has_embedded(fm) && k < ninp; k++)
            lrc = wb_model_attach_input(fm, k, st, k ? irows[k] : rows, &e);
        const size_t *lo;
        const uint32_t *li;
        wb_dataset_labels(ds, &lo, &li);
        wb_inputs tin;
        wb_inputs_of_dataset(&tin, ds);
        if (!lrc) lrc = wb_eval_inputs(fm, &tin, lo, li, tidx, ntest, to.batch, 1, th, &tm, NULL, &e);
        wb_model_destroy(fm);
        free(blob);
        free(tidx);
        if (lrc) {
            rc = cli_fail(&e, lrc);
            goto out;
        }
    }
    double eps = res.train_seconds > 0 ? (double)res.examples / res.train_seconds : 0;
    memrep mr;
    int want_mem = cli_flag(c, "mem-report");
    if (want_mem) mem_measure(&mr, m, st, ds);
    const wb_epoch *last = res.epochs_run ? &res.history[res.epochs_run - 1] : NULL;
    /* the epoch whose weights the model file holds, and its validation figures */
    const wb_epoch *saved = to.restore_best && res.best_epoch ? &res.history[res.best_epoch - 1] : last;
    if (saved && !saved->has_val) saved = NULL;
    int tmain = mc.task == WB_TASK_MULTILABEL;
    if (c->json) {
        printf("{\"model\": \"%s\", \"embeddings\": \"%s\", \"task\": \"%s\", \"output\": ", wb_model_kind_name(mc.kind),
               wb_emb_mode_name(mc.emb), wb_task_name(mc.task));
        json_str(stdout, out, strlen(out));
        printf(", \"train\": %" PRIu64 ", \"valid\": %" PRIu64 ", \"test\": %" PRIu64 ", \"vocab\": %zu, \"labels\": %zu"
               ", \"store_found\": %zu, \"epochs\": %zu, \"resumed_from\": %zu, \"best_epoch\": %zu, \"stopped_early\": %s",
               dst.n_train, dst.n_valid, dst.n_test, mc.V, (size_t)wb_dataset_nlabels(ds), found, res.epochs_run,
               res.resumed_from, res.best_epoch, res.stopped_early ? "true" : "false");
        printf(", \"seconds\": ");
        json_num(stdout, res.train_seconds);
        printf(", \"examples_per_s\": ");
        json_num(stdout, eps);
        printf(", \"data_s\": ");
        json_num(stdout, t_data - t_start);
        printf(", \"setup_s\": ");
        json_num(stdout, t_model - t_data);
        printf(", \"first_batch_s\": ");
        json_num(stdout, (t_train - t_start) + res.first_batch_seconds);
        if (last) {
            printf(", \"loss\": ");
            json_num(stdout, last->loss);
            printf(tmain ? ", \"p_at_1\": " : ", \"acc\": ");
            json_num(stdout, last->acc);
            if (last->has_val) {
                printf(", \"val_loss\": ");
                json_num(stdout, last->val_loss);
                printf(tmain ? ", \"val_p_at_1\": " : ", \"val_acc\": ");
                json_num(stdout, last->val_acc);
                if (tmain) {
                    printf(", \"val_r_at_1\": ");
                    json_num(stdout, last->val_r1);
                }
            }
        }
        if (saved && dst.n_valid) {
            printf(", \"saved_epoch\": %zu, \"saved_val_loss\": ", saved->epoch);
            json_num(stdout, saved->val_loss);
            printf(tmain ? ", \"saved_val_p_at_1\": " : ", \"saved_val_acc\": ");
            json_num(stdout, saved->val_acc);
            if (tmain) {
                printf(", \"saved_val_r_at_1\": ");
                json_num(stdout, saved->val_r1);
            }
        }
        if (cli_flag(c, "tune-threshold")) {
            printf(", \"threshold\": ");
            json_num(stdout, th);
            printf(", \"threshold_f1\": ");
            json_num(stdout, th_f1);
        }
        if (tm.n) {
            printf(", \"test_loss\": ");
            json_num(stdout, tm.loss);
            printf(", \"test_acc\": ");
            json_num(stdout, tm.acc);
            if (tmain) {
                printf(", \"test_p_at_1\": ");
                json_num(stdout, tm.p_at_k);
                printf(", \"test_r_at_1\": ");
                json_num(stdout, tm.r_at_k);
            }
        }
        if (want_mem)
            printf(", \"mem\": {\"rss_anon\": %" PRIu64 ", \"rss_file\": %" PRIu64 ", \"peak_rss\": %" PRIu64 ", \"jemalloc_allocated\": %" PRIu64 ", \"jemalloc_resident\": %" PRIu64
                   ", \"model_block\": %" PRIu64 ", \"overlay_rows\": %" PRIu64 ", \"overlay_bytes\": %" PRIu64
                   ", \"arena_bytes\": %" PRIu64 ", \"store_resident\": %" PRIu64 ", \"store_bytes\": %" PRIu64
                   ", \"dataset_resident\": %" PRIu64 ", \"dataset_bytes\": %" PRIu64 ", \"bow_cache_bytes\": %" PRIu64 "}",
                   mr.rss_anon, mr.rss_file, mr.hwm, mr.je_allocated, mr.je_resident, mr.mm.block_bytes, mr.mm.overlay_rows, mr.mm.overlay_bytes,
                   mr.mm.arena_bytes, mr.store_resident, mr.store_bytes, mr.dataset_resident, mr.dataset_bytes, mr.mm.cache_bytes);
        printf("}\n");
    } else {
        printf("model %s (%s, %s embeddings, %s): %zu epochs, %.1f s, %.0f examples/s\n", out, wb_model_kind_name(mc.kind),
               wb_emb_mode_name(mc.emb), wb_task_name(mc.task), res.epochs_run, res.train_seconds, eps);
        if (res.best_epoch) printf("best validation loss %.4f at epoch %zu%s\n", res.best_val_loss, res.best_epoch,
                                   to.restore_best ? " (saved)" : "");
        if (saved && dst.n_valid) {
            printf("validation (epoch %zu): %" PRIu64 " examples, loss %.4f", saved->epoch, dst.n_valid, saved->val_loss);
            if (tmain) printf(", P@1 %.4f, R@1 %.4f\n", saved->val_acc, saved->val_r1);
            else printf(", accuracy %.4f\n", saved->val_acc);
        }
        if (cli_flag(c, "tune-threshold"))
            printf("threshold %.4g (F1 %.4f on the %s examples), stored in the model\n", (double)th, th_f1,
                   dst.n_valid ? "validation" : "test");
        if (tm.n && tmain)
            printf("test: %zu examples, loss %.4f, P@1 %.4f, R@1 %.4f, exact match %.4f\n", tm.n, tm.loss, tm.p_at_k,
                   tm.r_at_k, tm.acc);
        else if (tm.n)
            printf("test: %zu examples, loss %.4f, accuracy %.4f\n", tm.n, tm.loss, tm.acc);
        if (want_mem) {
            char a[32], b[32], d[32], f[32], g[32], h[32], i2[32], j2[32], k2[32], l2[32];
            fprintf(stderr,
                    "memory: anonymous RSS %s, file-backed RSS %s (libraries, store and data-set pages), peak RSS %s; jemalloc allocated %s, resident %s; "
                    "overlay %" PRIu64 " rows (%s); store matrix in the page cache %s of %s; data set mapped %s of %s\n",
                    cli_bytes(a, sizeof a, (double)mr.rss_anon), cli_bytes(i2, sizeof i2, (double)mr.rss_file),
                    cli_bytes(j2, sizeof j2, (double)mr.hwm), cli_bytes(b, sizeof b, (double)mr.je_allocated),
                    cli_bytes(d, sizeof d, (double)mr.je_resident), mr.mm.overlay_rows,
                    cli_bytes(f, sizeof f, (double)mr.mm.overlay_bytes), cli_bytes(g, sizeof g, (double)mr.store_resident),
                    cli_bytes(h, sizeof h, (double)mr.store_bytes), cli_bytes(k2, sizeof k2, (double)mr.dataset_resident),
                    cli_bytes(l2, sizeof l2, (double)mr.dataset_bytes));
            if (mr.mm.cache_bytes) fprintf(stderr, "bag-of-words rows cached: %s\n", cli_bytes(a, sizeof a, (double)mr.mm.cache_bytes));
        }
    }
    rc = EXIT_OK;
out:
    free(res.history);
    free(cw);
    wb_bundle_file_free(&mf);
    free(ckpt);
    free(store_abs);
    free(rows);
    for (size_t k = 0; k < WB_MAX_INPUTS; k++) free(irows[k]);
    wb_model_destroy(m);
    wb_store_close(st);
    wb_dataset_destroy(ds);
    cli_ds_strings_free(&dss);
    return rc;
}

const cli_cmd cmd_train = {"train", "--data FILE -o MODEL [options]",
                           "Train a CNN text classifier (frozen, fine-tuned or learned embeddings).", train_opts, 0, 0,
                           run_train};

/* ---- eval and predict ---------------------------------------------------------- */

char *cli_best_path(const char *dir) {
    char *p = malloc(strlen(dir) + sizeof "/best.wbm");
    if (p) sprintf(p, "%s/best.wbm", dir);
    return p;
}

/* Load MODEL and make it runnable (store from --store or as recorded).  A
 * directory is a search's RUN_DIR: its refit model RUN_DIR/best.wbm. */
int cli_load_bundle(cli *c, const char *path, size_t batch, wb_bundle **b) {
    wb_err e;
    wb_err_clear(&e);
    uint64_t maxmem;
    *b = NULL;
    if (cli_max_memory(c, &maxmem)) return EXIT_USAGE;
    struct stat st;
    char *best = NULL;
    int rc = 0;
    if (!stat(path, &st) && S_ISDIR(st.st_mode)) {
        if (!(best = cli_best_path(path))) return cli_fail(&e, wb_err_set(&e, WB_ENOMEM, "out of memory"));
        if (access(best, F_OK))
            rc = wb_err_at(&e, ENOENT, path, 0, -1,
                           "a directory without best.wbm: not a search's RUN_DIR, or its search has not refitted "
                           "a model yet (--no-refit, or not finished)");
        path = best;
    }
    if (!rc) rc = wb_bundle_load_ex(b, path, batch, maxmem, &e);
    if (!rc) rc = wb_bundle_attach_store(*b, cli_str(c, "store"), &e);
    free(best);
    if (rc) {
        wb_bundle_destroy(*b);
        *b = NULL;
        return cli_fail(&e, rc);
    }
    return 0;
}

static const cli_opt eval_opts[] = {
    {"store", 's', "STORE", NULL, "the store the model was trained with (default: the recorded path)", 0},
    CLI_OPT_VERIFY_ON_OPEN,
    {"k", 'k', "K", "1", "P@K and R@K (fastText's definitions); predictions shown per error", 0},
    {"threshold", 0, "T", NULL, "sigmoid threshold of binary and multi-label decisions (default: the model's, 0.5 unless train --tune-threshold)", 0},
    {"classes", 0, "N", "20", "per-class table: the N best-supported labels (0: none)", 0},
    {"unknown-label", 0, "WHAT", "keep", "a label the model does not know: keep (a true label never predicted)|skip (dropped, as fastText's test)|error", 0},
    {"errors", 0, "FILE", NULL, "list misclassified examples to FILE ('-' = stdout): file:line, true labels, predictions, text", 0},
    {"errors-by", 0, "RULE", "top1", "what --errors lists: top1|topk|exact|threshold", 0},
    {"batch-size", 'b', "N", "256", "examples per forward pass", 0},
    {"threads", 0, "N", "2", "OpenBLAS threads", 0},
    CLI_MAX_MEMORY_OPT,
    {"json", 0, NULL, NULL, "one JSON document", 0},
    {"quiet", 'q', NULL, NULL, "no warnings", 0},
    {"help", 'h', NULL, NULL, "show this help", 0},
    {0}};

/* Name of label id `id` of a labelled file: the model's, or an unknown one. */
static void put_label(FILE *f, const wb_bundle *b, const wb_labelled *l, uint32_t id) {
    if (id < b->nlabels) fputs(b->labels[id], f);
    else fwrite(l->unknown[id - b->nlabels], 1, l->unknown_len[id - b->nlabels], f);
}

/* The first few unknown label names, "a, b, c, ..." into out. */
static const char *unknown_names(const wb_labelled *l, char *out, size_t cap) {
    size_t n = 0;
    out[0] = 0;
    for (uint32_t i = 0; i < l->n_unknown && n + 8 < cap; i++) {
        if (i == 5) {
            snprintf(out + n, cap - n, ", ...");
            break;
        }
        int k = snprintf(out + n, cap - n, "%s'%.*s'", i ? ", " : "", (int)(l->unknown_len[i] > 60 ? 60 : l->unknown_len[i]),
                         l->unknown[i]);
        if (k < 0) break;
        n = n + (size_t)k < cap ? n + (size_t)k : cap - 1;
    }
    return out;
}

/* One line of the error listing: file:line, true labels, predictions, text.
 * The predictions are the label shown with ITS probability (binary), the k
 * best (top1, topk) or the labels at >= threshold (exact, threshold). */
static void error_line(FILE *f, const char *file, const wb_bundle *b, const wb_labelled *l, size_t i, const float *p,
                       wb_task task, size_t C, wb_error_rule rule, size_t k, float th, uint32_t *top) {
    fprintf(f, "%s:%lld\t", file, l->line[i]);
    for (size_t q = l->loff[i]; q < l->loff[i + 1]; q++) {
        if (q > l->loff[i]) fputc(',', f);
        put_label(f, b, l, l->lids[q]);
    }
    fputc('\t', f);
    if (task == WB_TASK_BINARY) {
        int pos = p[0] >= th;
        fprintf(f, "%s %.4f", b->labels[pos], (double)(pos ? p[0] : 1 - p[0]));
    } else if (rule == WB_ERRORS_TOP1 || rule == WB_ERRORS_TOPK) {
        size_t kk = rule == WB_ERRORS_TOP1 && k < 1 ? 1 : k;
        if (kk > C) kk = C;
        wb_topk(p, C, kk, top);
        for (size_t q = 0; q < kk; q++) fprintf(f, "%s%s %.4f", q ? ", " : "", b->labels[top[q]], (double)p[top[q]]);
    } else {
        size_t n = 0;
        wb_topk(p, C, C < 1024 ? C : 1024, top);
        for (size_t q = 0; q < (C < 1024 ? C : 1024) && p[top[q]] >= th; q++, n++)
            fprintf(f, "%s%s %.4f", q ? ", " : "", b->labels[top[q]], (double)p[top[q]]);
        if (!n) fprintf(f, "(none >= %g; best %s %.4f)", (double)th, b->labels[top[0]], (double)p[top[0]]);
    }
    fputc('\t', f);
    const char *t = l->text[i];
    for (size_t q = 0; t[q] && q < 200; q++) fputc(t[q] == '\n' || t[q] == '\t' || t[q] == '\r' ? ' ' : t[q], f);
    fputc('\n', f);
}

/* {"precision": P, "recall": R, "f1": F} */
static void json_prf(double p, double r, double f) {
    printf("{\"precision\": ");
    json_num(stdout, p);
    printf(", \"recall\": ");
    json_num(stdout, r);
    printf(", \"f1\": ");
    json_num(stdout, f);
    printf("}");
}

static void json_label(const wb_bundle *b, uint32_t id) { json_str(stdout, b->labels[id], b->label_len[id]); }

/* eval --json: every figure of metrics.h (docs/cli.md lists the fields). */
static void eval_json(const wb_bundle *b, const wb_metrics *m, const wb_scores *s, const wb_labelled *l, int unk,
                      long long nerr, wb_error_rule rule) {
    static const char *const keys[] = {"loss", "acc", "p_at_k", "r_at_k", "precision", "recall", "f1",
                                       "auc", "avg_precision", "log_loss", "hamming"};
    const double vals[] = {m->loss, s->accuracy, s->p_at_k, s->r_at_k, s->precision, s->recall, s->f1,
                           s->auc, s->avg_precision, s->log_loss, s->hamming};
    printf("{\"examples\": %zu, \"task\": \"%s\", \"k\": %zu, \"threshold\": ", s->n, wb_task_name(s->task), s->k);
    json_num(stdout, s->threshold);
    for (size_t i = 0; i < sizeof keys / sizeof *keys; i++) {
        printf(", \"%s\": ", keys[i]);
        json_num(stdout, vals[i]);
    }
    printf(", \"micro\": ");
    json_prf(s->micro_precision, s->micro_recall, s->micro_f1);
    printf(", \"macro\": ");
    json_prf(s->macro_precision, s->macro_recall, s->macro_f1);
    printf(", \"weighted\": ");
    json_prf(s->weighted_precision, s->weighted_recall, s->weighted_f1);
    printf(", \"loss_examples\": %zu, \"true_labels\": %" PRIu64 ", \"classes\": [", m->n_loss, s->true_labels);
    for (size_t c = 0; c < s->L; c++) {
        const wb_class_score *q = &s->cls[c];
        printf("%s{\"label\": ", c ? ", " : "");
        json_label(b, (uint32_t)c);
        printf(", \"precision\": ");
        json_num(stdout, q->precision);
        printf(", \"recall\": ");
        json_num(stdout, q->recall);
        printf(", \"f1\": ");
        json_num(stdout, q->f1);
        printf(", \"support\": %" PRIu64 "}", q->support);
    }
    printf("], \"confusion\": [");
    for (size_t i = 0; i < s->ncells; i++) {
        printf("%s[", i ? ", " : "");
        json_label(b, s->cells[i].truth);
        printf(", ");
        json_label(b, s->cells[i].pred);
        printf(", %" PRIu64 "]", s->cells[i].count);
    }
    printf("], \"unknown_label\": \"%s\", \"unknown_labels\": %" PRIu64 ", \"unknown_records\": %" PRIu64 ", \"unknown\": [",
           unk == 0 ? "error" : unk == 1 ? "skip" : "keep", l->unknown_labels, l->unknown_records);
    for (uint32_t i = 0; i < l->n_unknown; i++) {
        if (i) printf(", ");
        json_str(stdout, l->unknown[i], l->unknown_len[i]);
    }
    printf("], \"skipped_unknown\": %" PRIu64, l->skipped_unknown);
    if (nerr >= 0) printf(", \"errors\": %lld, \"errors_by\": \"%s\"", nerr, wb_error_rule_name(rule));
    printf("}\n");
}

/* Support descending, then label id: the order of eval's per-class table. */
static const wb_scores *g_sort_scores;
static int cmp_support(const void *a, const void *b) {
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    uint64_t sx = g_sort_scores->cls[x].support, sy = g_sort_scores->cls[y].support;
    if (sx != sy) return sx < sy ? 1 : -1;
    return (x > y) - (x < y);
}

/* eval's text report: the figures, one per line (NaN as "-"), then the
 * averages and the per-class table of the ncls best-supported labels, as
 * scikit-learn's classification_report lays them out. */
static void eval_text(const wb_bundle *b, const wb_metrics *m, const wb_scores *s, size_t ncls) {
    int bin = s->task == WB_TASK_BINARY, ml = s->task == WB_TASK_MULTILABEL;
    printf("examples\t%zu\nloss\t%.4f\n%s\t%.4f\n", s->n, m->loss, ml ? "subset accuracy" : "accuracy", s->accuracy);
    if (!bin) printf("P@%zu\t%.4f\nR@%zu\t%.4f\n", s->k, s->p_at_k, s->k, s->r_at_k);
    if (!(s->task == WB_TASK_MULTICLASS)) printf("precision\t%.4f\nrecall\t%.4f\nF1\t%.4f\n", s->precision, s->recall, s->f1);
    const struct {
        const char *name;
        double v;
    } more[] = {{"ROC-AUC", s->auc}, {"average precision", s->avg_precision}, {"log loss", s->log_loss},
                {"Hamming loss", s->hamming}};
    for (size_t i = 0; i < sizeof more / sizeof *more; i++) {
        if (more[i].v == more[i].v) printf("%s\t%.4f\n", more[i].name, more[i].v);
        else printf("%s\t-\n", more[i].name);
    }
    if (bin) { /* the 2 x 2 confusion matrix, rows true, columns predicted */
        int cw = 10;
        for (int c = 0; c < 2; c++) cw = (int)b->label_len[c] > cw ? ((int)b->label_len[c] > 30 ? 30 : (int)b->label_len[c]) : cw;
        printf("\nconfusion (rows: true, columns: predicted)\n%*s  %*.*s  %*.*s\n", cw, "", cw, cw, b->labels[0], cw, cw,
               b->labels[1]);
        for (uint32_t t = 0; t < 2; t++)
            printf("%*.*s  %*" PRIu64 "  %*" PRIu64 "\n", cw, cw, b->labels[t], cw, wb_scores_confusion(s, t, 0), cw,
                   wb_scores_confusion(s, t, 1));
    }
    if (!ncls) return;
    uint32_t *order = malloc(s->L * sizeof *order);
    if (!order) return;
    for (size_t c = 0; c < s->L; c++) order[c] = (uint32_t)c;
    g_sort_scores = s;
    qsort(order, s->L, sizeof *order, cmp_support);
    int w = 12;
    for (size_t i = 0; i < s->L && i < ncls; i++) {
        int len = (int)b->label_len[order[i]];
        if (len > w) w = len > 40 ? 40 : len;
    }
    printf("\n%*s  precision     recall         f1    support\n", w, "");
    for (size_t i = 0; i < s->L && i < ncls; i++) {
        const wb_class_score *q = &s->cls[order[i]];
        printf("%*.*s  %9.4f  %9.4f  %9.4f  %9" PRIu64 "\n", w, w, b->labels[order[i]], q->precision, q->recall, q->f1,
               q->support);
    }
    if (s->L > ncls) printf("%*s  (%zu more labels: --classes N)\n", w, "", s->L - ncls);
    printf("\n%*s  %9.4f  %9.4f  %9.4f  %9" PRIu64 "\n", w, "micro avg", s->micro_precision, s->micro_recall, s->micro_f1,
           s->true_labels);
    printf("%*s  %9.4f  %9.4f  %9.4f  %9" PRIu64 "\n", w, "macro avg", s->macro_precision, s->macro_recall, s->macro_f1,
           s->true_labels);
    printf("%*s  %9.4f  %9.4f  %9.4f  %9" PRIu64 "\n", w, "weighted avg", s->weighted_precision, s->weighted_recall,
           s->weighted_f1, s->true_labels);
    free(order);
}

static int run_eval(cli *c) {
    uint64_t k, bs, thr, ncls;
    float th = 0.5f;
    if (cli_u64(c, "k", 1, 1000, &k) || cli_u64(c, "batch-size", 1, 65536, &bs) || cli_u64(c, "threads", 1, 256, &thr) ||
        cli_u64(c, "classes", 0, UINT32_MAX, &ncls) || opt_float(c, "threshold", 0, 1, &th))
        return EXIT_USAGE;
    int unk = cli_choice(c, "unknown-label", "error|skip|keep");
    int rule = cli_choice(c, "errors-by", "top1|topk|exact|threshold");
    if (unk < 0 || rule < 0) return EXIT_USAGE;
    const char *errs = cli_str(c, "errors");
    if (errs && !strcmp(errs, "-") && c->json)
        return cli_usage(c, "--errors - and --json would both write to stdout; give --errors a file name");
    if (cli_given(c, "errors-by") && !errs) return cli_usage(c, "--errors-by chooses what --errors lists; give --errors FILE");
    openblas_set_num_threads((int)thr);
    wb_bundle *b;
    int rc = cli_load_bundle(c, c->argv[0], bs, &b);
    if (rc) return rc;
    if (!cli_given(c, "threshold")) th = b->threshold; /* train --tune-threshold's, else 0.5 */
    wb_err e;
    wb_err_clear(&e);
    wb_labelled l;
    const char *file = c->argv[1];
    static const wb_unknown_mode umode[] = {WB_UNKNOWN_ERROR, WB_UNKNOWN_SKIP, WB_UNKNOWN_KEEP};
    int lrc = wb_bundle_read(b, file, NULL, umode[unk], errs != NULL, &l, &e);
    if (lrc) {
        wb_bundle_destroy(b);
        return cli_fail(&e, lrc);
    }
    if (l.unknown_labels && !c->quiet) {
        char names[512];
        unknown_names(&l, names, sizeof names);
        if (umode[unk] == WB_UNKNOWN_KEEP)
            cli_warn("warning: %s: %" PRIu64 " true label%s in %" PRIu64 " record%s %s not among the model's %u labels (%u "
                     "distinct: %s): counted as true labels never predicted (--unknown-label skip drops them, as fastText's "
                     "test does)",
                     file, l.unknown_labels, l.unknown_labels > 1 ? "s" : "", l.unknown_records, l.unknown_records > 1 ? "s" : "",
                     l.unknown_labels > 1 ? "are" : "is", b->nlabels, l.n_unknown, names);
        else
            cli_warn("warning: %s: %" PRIu64 " label%s the model does not know dropped (%u distinct: %s); %" PRIu64
                     " record%s left without labels skipped",
                     file, l.unknown_labels, l.unknown_labels > 1 ? "s" : "", l.n_unknown, names, l.skipped_unknown,
                     l.skipped_unknown == 1 ? "" : "s");
    }
    const wb_model_cfg *mc = wb_model_cfg_get(b->model);
    size_t C = mc->C;
    uint32_t *idx = malloc(l.n * sizeof *idx);
    float *probs = malloc(l.n * C * sizeof *probs);
    uint32_t *top = malloc((C < 1024 ? C : 1024) * sizeof *top);
    if (!idx || !probs || !top) {
        free(idx), free(probs), free(top), wb_labelled_free(&l), wb_bundle_destroy(b);
        return cli_fail(&e, wb_err_set(&e, WB_ENOMEM, "out of memory"));
    }
    for (size_t i = 0; i < l.n; i++) idx[i] = (uint32_t)i;
    wb_metrics m;
    wb_inputs lin;
    wb_labelled_inputs(b, &l, &lin);
    lrc = wb_eval_inputs(b->model, &lin, l.loff, l.lids, idx, l.n, bs, k, th, &m, probs, &e);
    if (lrc) rc = cli_fail(&e, lrc);
    size_t nerr = 0;
    if (!lrc && errs) {
        FILE *f = strcmp(errs, "-") ? fopen(errs, "w") : stdout;
        if (!f) {
            cli_warn("%s: %s", errs, strerror(errno));
            rc = EXIT_FAIL;
        } else {
            for (size_t i = 0; i < l.n; i++) {
                const float *p = probs + i * C;
                const uint32_t *lab = l.lids + l.loff[i];
                size_t nl = l.loff[i + 1] - l.loff[i];
                if (!wb_eval_wrong(mc->task, C, p, lab, nl, (wb_error_rule)rule, m.k, th)) continue;
                nerr++;
                error_line(f, file, b, &l, i, p, mc->task, C, (wb_error_rule)rule, m.k, th, top);
            }
            if (f != stdout && fclose(f)) {
                cli_warn("%s: %s", errs, strerror(errno));
                rc = EXIT_FAIL;
            }
        }
    }
    wb_scores sc;
    memset(&sc, 0, sizeof sc);
    if (!lrc && (lrc = wb_scores_compute(&sc, mc->task, mc->C, probs, l.loff, l.lids, NULL, l.n, k, th, &e)))
        rc = cli_fail(&e, lrc);
    if (!lrc) {
        if (c->json) {
            eval_json(b, &m, &sc, &l, unk, errs ? (long long)nerr : -1, (wb_error_rule)rule);
        } else {
            eval_text(b, &m, &sc, (size_t)ncls);
            if (errs) printf("errors\t%zu (%s)\n", nerr, wb_error_rule_name((wb_error_rule)rule));
        }
    }
    wb_scores_free(&sc);
    free(idx);
    free(probs);
    free(top);
    wb_labelled_free(&l);
    wb_bundle_destroy(b);
    return rc;
}

const cli_cmd cmd_eval = {"eval", "[options] MODEL FILE",
                          "Loss, accuracy, P/R/F1 per class and averaged, P@k, R@k, ROC-AUC, confusion of a model on a labelled file; list the errors.",
                          eval_opts, 2, 2, run_eval};

static const cli_opt predict_opts[] = {
    {"store", 's', "STORE", NULL, "the store the model was trained with (default: the recorded path)", 0},
    CLI_OPT_VERIFY_ON_OPEN,
    {"top-k", 'k', "K", "1", "labels per record, best first (binary: the decided label first)", 0},
    {"threshold", 0, "T", NULL, "multi-label: every label with probability >= T, best first (instead of --top-k; default: the model's tuned threshold, if any)", 0},
    {"format", 'f', "FMT", "lines", "input records: lines (one text per line)|fasttext|tsv|csv (labels, if any, ignored)", 0},
    {"text-col", 0, "NAME", NULL, "CSV text column (default: the model's)", 0},
    {"id-col", 0, "NAME", NULL, "CSV column printed before the labels of each record", 0},
    {"batch-size", 'b', "N", "64", "records per forward pass", 0},
    {"threads", 0, "N", "2", "OpenBLAS threads", 0},
    CLI_MAX_MEMORY_OPT,
    {"json", 0, NULL, NULL, "one JSON object per record (JSON Lines)", 0},
    {"quiet", 'q', NULL, NULL, "no warnings", 0},
    {"help", 'h', NULL, NULL, "show this help", 0},
    {0}};

/* State of a predict run: the records of the current batch. */
typedef struct pctx {
    cli *c;
    wb_bundle *b;
    const char *in;            /* input name for messages */
    size_t bs, T, C, k, nb;    /* batch capacity, model sizes, --top-k, records in the batch */
    float th;
    int use_th;
    int32_t *X;                /* (bs, T): text input 0; a model of several inputs: (bs, T_k) of
                                  each input k, one block after the other */
    double *F;                 /* (bs, nfeat) numeric features, NULL without */
    int cols;                  /* the model reads its columns and features (wb_bundle_reads_records) */
    float *p;                  /* (bs, C) */
    long long *line;           /* (bs) source line of each record */
    char **id;                 /* (bs) --id-col values (owned) or NULL */
    unsigned char *empty;      /* (bs) 1 = no tokens: no prediction */
    uint32_t *top;             /* (C + 1) scratch */
    uint64_t records, empties;
    long long first_empty;     /* line of the first empty record */
    int looked;                /* the first record was checked for labels */
    wb_reader_format fmt;
    wb_err *e;
} pctx;

static void predict_print(pctx *x, size_t i) {
    const wb_model_cfg *mc = wb_model_cfg_get(x->b->model);
    const float *p = x->p + i * x->C;
    /* binary: two classes from one sigmoid */
    float two[2];
    const float *pp = p;
    size_t n = x->C, kk = 0;
    if (mc->task == WB_TASK_BINARY) two[0] = 1 - p[0], two[1] = p[0], pp = two, n = 2;
    uint32_t *top = x->top;
    if (x->empty[i]) {
        kk = 0;
    } else if (x->use_th) { /* every label at or above T, best first (ties: lower id) */
        for (size_t q = 0; q < n; q++) {
            if (!(pp[q] >= x->th)) continue;
            size_t j = kk++;
            for (; j > 0 && pp[top[j - 1]] < pp[q]; j--) top[j] = top[j - 1];
            top[j] = (uint32_t)q;
        }
    } else {
        kk = x->k > n ? n : x->k;
        wb_topk(pp, n, kk, top);
        if (mc->task == WB_TASK_BINARY) { /* the decided label first: label 1 when p >= the model's threshold */
            top[0] = p[0] >= x->th;
            if (kk > 1) top[1] = !top[0];
        }
    }
    const wb_bundle *b = x->b;
    if (x->c->json) {
        printf("{\"line\": %lld", x->line[i]);
        if (x->id[i]) {
            printf(", \"id\": ");
            json_str(stdout, x->id[i], strlen(x->id[i]));
        }
        printf(", \"labels\": [");
    } else if (x->id[i]) { /* one line per record: the id's own tabs and newlines become spaces */
        for (const char *q = x->id[i]; *q; q++) putchar(*q == '\t' || *q == '\n' || *q == '\r' ? ' ' : *q);
        putchar('\t');
    }
    for (size_t q = 0; q < kk; q++) {
        if (x->c->json) {
            printf("%s{\"label\": ", q ? ", " : "");
            json_str(stdout, b->labels[top[q]], b->label_len[top[q]]);
            printf(", \"prob\": ");
            json_num(stdout, pp[top[q]]);
            printf("}");
        } else {
            printf("%s%s\t%.6f", q ? "\t" : "", b->labels[top[q]], (double)pp[top[q]]);
        }
    }
    if (x->c->json) printf(x->empty[i] ? "], \"empty\": true}\n" : "]}\n");
    else printf(x->empty[i] ? "(empty)\n" : "\n");
}

/* Predict and print the records of the batch. */
/* The batch view of x: input k's block of X, the features. */
static wb_batch predict_batch(const pctx *x, size_t nb) {
    const wb_model_cfg *mc = wb_model_cfg_get(x->b->model);
    wb_batch bt = {.B = nb, .feat = x->F};
    size_t off = 0;
    for (size_t k = 0; k < wb_model_cfg_ninputs(mc); k++) bt.X[k] = x->X + off * x->bs, off += wb_model_cfg_T(mc, k);
    return bt;
}

static int predict_flush(pctx *x) {
    if (!x->nb) return 0;
    wb_batch bt = predict_batch(x, x->nb);
    int rc = wb_model_predict_batch(x->b->model, &bt, NULL, NULL, NULL, x->p, NULL, x->e);
    if (rc) return rc;
    for (size_t i = 0; i < x->nb; i++) {
        predict_print(x, i);
        free(x->id[i]);
        x->id[i] = NULL;
    }
    x->nb = 0;
    return 0;
}

/* A plain-lines input whose first record looks like a labelled file. */
static void predict_look(pctx *x, const wb_example *ex) {
    x->looked = 1;
    if (x->fmt != WB_READER_LINES || x->c->quiet) return;
    const char *pre = x->b->reader.label_prefix ? x->b->reader.label_prefix : "__label__";
    const char *t = ex->texts[0].ptr;
    size_t n = strlen(x->in);
    while (*t == ' ' || *t == '\t') t++;
    if (!strncmp(t, pre, strlen(pre)))
        cli_warn("warning: %s:%lld starts with '%s': a labelled fastText file? predict reads plain lines, so its "
                 "labels are read as words; give --format fasttext",
                 x->in, ex->line, pre);
    else if (n > 4 && !strcasecmp(x->in + n - 4, ".csv"))
        cli_warn("warning: %s looks like CSV: predict reads one text per physical line; give --format csv "
                 "(and --text-col NAME)",
                 x->in);
    else if (n > 4 && !strcasecmp(x->in + n - 4, ".tsv"))
        cli_warn("warning: %s looks like TSV: predict reads whole lines, labels included; give --format tsv", x->in);
}

static int predict_record(void *ud, const wb_example *ex) {
    pctx *x = ud;
    if (!x->looked) predict_look(x, ex);
    size_t ntok = 0;
    int rc;
    if (x->cols) { /* every text input, the features */
        const wb_model_cfg *mc = wb_model_cfg_get(x->b->model);
        wb_batch bt = predict_batch(x, x->bs);
        int32_t *out[WB_MAX_INPUTS];
        for (size_t k = 0; k < wb_model_cfg_ninputs(mc); k++) out[k] = (int32_t *)bt.X[k] + x->nb * wb_model_cfg_T(mc, k);
        rc = wb_bundle_encode_example(x->b, ex, x->in, out, x->F ? x->F + x->nb * mc->nfeat : NULL, x->e);
        if (rc) return rc; /* names file:line */
        for (size_t k = 0; k < wb_model_cfg_ninputs(mc); k++)
            for (size_t t = 0; t < wb_model_cfg_T(mc, k); t++) ntok += out[k][t] != 0;
        if (mc->nfeat) ntok++; /* features are never empty */
    } else {
        rc = wb_bundle_encode(x->b, ex->texts[0].ptr, ex->texts[0].len, x->X + x->nb * x->T, &ntok, x->e);
    }
    if (rc) {
        char msg[sizeof x->e->msg];
        snprintf(msg, sizeof msg, "%s", x->e->msg); /* never format e->msg into itself */
        return wb_err_at(x->e, rc, x->in, ex->line, -1, "%s", msg);
    }
    x->line[x->nb] = ex->line;
    x->empty[x->nb] = ntok == 0;
    if (ntok == 0 && !x->empties++) x->first_empty = ex->line;
    if (ex->id.ptr && !(x->id[x->nb] = strndup(ex->id.ptr, ex->id.len))) return wb_err_set(x->e, WB_ENOMEM, "out of memory");
    x->records++;
    if (++x->nb == x->bs) return predict_flush(x);
    return 0;
}

static int run_predict(cli *c) {
    uint64_t k, bs, thr;
    float th = 0.5f;
    if (cli_u64(c, "top-k", 1, 1000000, &k) || cli_u64(c, "batch-size", 1, 65536, &bs) ||
        cli_u64(c, "threads", 1, 256, &thr) || opt_float(c, "threshold", 0, 1, &th))
        return EXIT_USAGE;
    static const wb_reader_format fmts[] = {WB_READER_LINES, WB_READER_FASTTEXT, WB_READER_TSV, WB_READER_CSV};
    int fi = cli_choice(c, "format", "lines|fasttext|tsv|csv");
    if (fi < 0) return EXIT_USAGE;
    if ((cli_str(c, "text-col") || cli_str(c, "id-col")) && fmts[fi] != WB_READER_CSV)
        return cli_usage(c, "--text-col and --id-col are for --format csv");
    openblas_set_num_threads((int)thr);
    const char *in = c->argc > 1 ? c->argv[1] : "-";
    wb_bundle *b;
    int rc = cli_load_bundle(c, c->argv[0], bs, &b);
    if (rc) return rc;
    const wb_model_cfg *mc = wb_model_cfg_get(b->model);
    if (cli_str(c, "threshold") && mc->task != WB_TASK_MULTILABEL) {
        wb_bundle_destroy(b);
        return cli_usage(c, "--threshold is for multi-label models");
    }
    /* the model's threshold (train --tune-threshold, else 0.5): binary decides by it; a multi-label model
     * with a tuned one prints the labels at or above it unless --top-k or --threshold is given */
    int use_th = cli_given(c, "threshold");
    if (!use_th) th = b->threshold;
    if (!use_th && mc->task == WB_TASK_MULTILABEL && b->threshold_tuned && !cli_given(c, "top-k")) use_th = 1;
    wb_err e;
    wb_err_clear(&e);
    pctx x = {.c = c, .b = b, .in = strcmp(in, "-") ? in : "<stdin>", .bs = bs, .T = mc->T, .C = mc->C, .k = k,
              .th = th, .use_th = use_th, .fmt = fmts[fi], .e = &e};
    x.cols = wb_bundle_reads_records(b);
    if (x.cols) { /* several text columns or features: CSV records with the model's columns */
        if ((cli_given(c, "format") && x.fmt != WB_READER_CSV) || cli_str(c, "text-col")) {
            size_t ni = wb_model_cfg_ninputs(mc), nf = mc->nfeat; /* mc dies with the bundle */
            wb_bundle_destroy(b);
            return cli_usage(c, "this model reads %zu text input%s and %zu numeric feature%s from CSV columns: "
                                "give --format csv (or nothing) and no --text-col",
                             ni, ni > 1 ? "s" : "", nf, nf == 1 ? "" : "s");
        }
        x.fmt = WB_READER_CSV;
        if (mc->nfeat) x.F = malloc(bs * mc->nfeat * sizeof *x.F);
    }
    x.X = malloc(bs * wb_inputs_ids_per_example(b->model) * sizeof *x.X);
    x.p = malloc(bs * x.C * sizeof *x.p);
    x.line = malloc(bs * sizeof *x.line);
    x.id = calloc(bs, sizeof *x.id);
    x.empty = malloc(bs);
    x.top = malloc((x.C + 1) * sizeof *x.top);
    if (!x.X || !x.p || !x.line || !x.id || !x.empty || !x.top || (mc->nfeat && !x.F)) {
        rc = cli_fail(&e, wb_err_set(&e, WB_ENOMEM, "out of memory"));
    } else {
        /* the model's reader options (label prefix, text column), the record format asked for */
        wb_reader_opts ro = b->reader;
        const char *tcol = cli_str(c, "text-col");
        ro.format = x.fmt;
        ro.unlabelled = 1;
        ro.skip_bad = 0;
        if (!x.cols) ro.n_feature_cols = 0, ro.feature_cols = NULL;
        ro.label_sep = NULL;
        if (tcol) ro.text_cols = &tcol, ro.n_text_cols = 1;
        ro.id_col = cli_str(c, "id-col");
        int lrc = wb_reader_read(in, &ro, predict_record, &x, NULL, &e);
        if (!lrc) lrc = predict_flush(&x);
        if (lrc) rc = cli_fail(&e, lrc);
        else if (x.empties && !c->quiet)
            cli_warn("warning: %s: %" PRIu64 " record%s without any token (the first at line %lld): no prediction, "
                     "marked %s",
                     x.in, x.empties, x.empties > 1 ? "s" : "", x.first_empty, c->json ? "\"empty\": true" : "(empty)");
    }
    if (x.id)
        for (size_t i = 0; i < bs; i++) free(x.id[i]);
    free(x.X), free(x.F), free(x.p), free(x.line), free(x.id), free(x.empty), free(x.top);
    wb_bundle_destroy(b);
    return rc;
}

const cli_cmd cmd_predict = {"predict", "[options] MODEL [FILE|-]",
                             "Label(s) and probabilities for each record of raw text (a line, or --format records).",
                             predict_opts, 1, 2, run_predict};
