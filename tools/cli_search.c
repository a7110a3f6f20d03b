/*
 * cli_search.c — the experiment commands: `search` (grid / random search
 * with k-fold, nested or holdout validation, run by worker processes, by
 * Slurm array jobs, or one trial at a time with --trial) and `compare`
 * (embeddings modes side by side with paired tests).  The plan, folds,
 * trials, log, workers, statistics and Slurm submission are the library's
 * (search.h, triallog.h, stats.h, slurm.h); this file turns options into
 * them and prints the tables.
 *
 * How a trial gets its options: the plan stores the search's fixed part as
 * option arguments ("args") and every configuration's values; a trial's
 * command line is "search" + args + "--NAME VALUE" for each parameter
 * (later options win), parsed with this command's own option table, so a
 * value means exactly what it means to `train`; parameters maxlen.NAME (one
 * text column's length) are folded into one --maxlen NAME=N,NAME=N.  The
 * inputs (text columns, numeric features) are train's options too.
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cblas.h>

#include "cli.h"
#include "cli_ds.h"
#include "cli_search.h"
#include "cli_model.h"
#include "cli_train.h"
#include "wordbench/clock.h"
#include "wordbench/bundle.h"
#include "wordbench/search.h"
#include "wordbench/slurm.h"
#include "wordbench/stats.h"
#include "wordbench/triallog.h"

/* ---- option tables ---------------------------------------------------------------- */

/* Everything `train` takes that a search can fix or search over. */
#define SEARCH_TRAIN_OPTS                                                                             \
    {"data", 'd', "FILE", NULL, "training file (required)", 0},                                       \
    CLI_DATASET_OPTS("100", "pad or truncate every text to N tokens"),                                \
    {"store", 's', "STORE", NULL, "pretrained vectors (a store made by 'wordbench convert')", 0},     \
    CLI_MODEL_OPTS, CLI_FIT_OPTS

static const cli_opt search_opts[] = {
    SEARCH_TRAIN_OPTS,
    CLI_OPT_VERIFY_ON_OPEN,
    {"param", 'p', "NAME=VALUES", NULL, "search over a training option (or maxlen.COLUMN): a,b,c | a:b:c | lo..hi | lo..hi:log", 1},
    {"grid", 0, NULL, NULL, "grid search: every combination of the lists (the default when all are lists)", 0},
    {"n-iter", 0, "N", NULL, "random search: N configurations (ranges need it)", 0},
    {"cv", 0, "K", "5", "K-fold cross-validation over the training part (default without --valid)", 0},
    {"nested", 0, "K2", NULL, "nested cross-validation: an inner K2-fold search within every outer fold", 0},
    {"metric", 0, "NAME", "auto", "acc|f1|p@1|auc|loss ranks the table (auto: p@1 multi-label, else acc)", 0},
    {"threads", 0, "N", "1", "OpenBLAS threads of one trial (part of the search: results depend on it)", 0},
    {"jobs", 'j', "N", NULL, "worker processes (default: cores / --threads)", 0},
    {"time-budget", 0, "SECONDS", NULL, "stop starting and running trials after this wall time (re-run to go on)", 0},
    {"output", 'o', "RUN_DIR", NULL, "directory of the search: plan, trial log, models (required)", 0},
    {"no-refit", 0, NULL, NULL, "do not retrain the best configuration on the whole training part", 0},
    {"slurm", 0, NULL, NULL, "submit the pending trials as a Slurm array job instead of running them", 0},
    {"partition", 0, "P", NULL, "--slurm: the partition", 0},
    {"time", 0, "T", NULL, "--slurm: time limit of one trial (sbatch --time)", 0},
    {"cpus-per-task", 0, "C", NULL, "--slurm: CPUs of one task (default: --threads)", 0},
    {"trial", 0, "I", NULL, "run trial I of the search in RUN_DIR (what a Slurm task runs)", 0},
    {"collect", 0, NULL, NULL, "merge the Slurm tasks' logs of RUN_DIR and print the table", 0},
    {"json", 0, NULL, NULL, "one JSON document on stdout", 0},
    {"quiet", 'q', NULL, NULL, "no progress, no warnings", 0},
    {"help", 'h', NULL, NULL, "show this help", 0},
    {0}};

/* The data-set options (their values make a configuration's data set). */
static const cli_opt ds_table[] = {{"data", 'd', "FILE", NULL, "", 0}, CLI_DATASET_OPTS("100", ""), {0}};

/* Options of a run, not of the search: never stored in the plan's args. */
static const char *const run_only[] = {"param", "grid", "n-iter", "cv", "nested", "metric", "threads", "jobs",
                                       "time-budget", "output", "no-refit", "slurm", "partition", "time",
                                       "cpus-per-task", "trial", "collect", "json", "quiet", "help", NULL};

/* Options that fix which examples exist and how they are split: one value
 * per search. */
static const char *const not_params[] = {"data", "format", "text-col", "label-col", "label-sep", "label-prefix",
                                         "feature-col", "skip-bad", "valid", "test", "test-size", "seed",
                                         "split-mode", "task", "unknown-label", "cache-dir", "no-cache", "store", NULL};

/* Options holding paths, made absolute in the plan (Slurm tasks run elsewhere). */
static const char *const path_opts[] = {"data", "valid", "test", "store", "cache-dir", NULL};

static int in_list(const char *const *l, const char *s) {
    for (; *l; l++)
        if (!strcmp(*l, s)) return 1;
    return 0;
}

static const cli_opt *find_opt(const char *name) {
    for (const cli_opt *o = search_opts; o->name; o++)
        if (!strcmp(o->name, name)) return o;
    return NULL;
}

/* ---- small helpers ---------------------------------------------------------------- */

static size_t cores(void) {
    cpu_set_t set;
    if (!sched_getaffinity(0, sizeof set, &set) && CPU_COUNT(&set) > 0) return (size_t)CPU_COUNT(&set);
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (size_t)n : 1;
}

static char *path_join(const char *dir, const char *name) {
    size_t n = strlen(dir) + strlen(name) + 2;
    char *p = malloc(n);
    if (p) snprintf(p, n, "%s/%s", dir, name);
    return p;
}

/* An absolute path for p (the file may not exist yet: its directory must). */
static char *abs_path(const char *p) {
    char *r = realpath(p, NULL);
    if (r) return r;
    if (p[0] == '/') return strdup(p);
    char cwd[PATH_MAX];
    if (!getcwd(cwd, sizeof cwd)) return strdup(p);
    return path_join(cwd, p);
}

static int is_flag_value(const char *v, int *on) {
    static const char *const yes[] = {"on", "true", "yes", "1", NULL}, *const no[] = {"off", "false", "no", "0", NULL};
    if (in_list(yes, v)) return *on = 1, 1;
    if (in_list(no, v)) return *on = 0, 1;
    return 0;
}

/* ---- a trial's command line ------------------------------------------------------------ */

typedef struct argvec {
    char **v;  /* owned strings, NULL-terminated */
    int n;
} argvec;

static int av_push(argvec *a, const char *s) {
    char **v = realloc(a->v, (size_t)(a->n + 2) * sizeof *v);
    if (!v) return -1;
    a->v = v;
    if (!(a->v[a->n] = strdup(s))) return -1;
    a->v[++a->n] = NULL;
    return 0;
}

static void av_free(argvec *a) {
    for (int i = 0; i < a->n; i++) free(a->v[i]);
    free(a->v);
    a->v = NULL, a->n = 0;
}

/* The fixed part of the search's command line: every given option that is
 * not a run option, in table order, paths absolute; repeated options once
 * per value. */
static int fixed_args(const cli *c, argvec *a) {
    for (int i = 0; search_opts[i].name; i++) {
        const cli_opt *o = &search_opts[i];
        if (!c->given[i] || in_list(run_only, o->name)) continue;
        char flag[80];
        snprintf(flag, sizeof flag, "--%s", o->name);
        if (!o->arg) {
            if (av_push(a, flag)) return -1;
            continue;
        }
        const char *v = c->val[i];
        for (;;) {
            const char *nl = o->repeat ? strchr(v, '\n') : NULL;
            char *one = nl ? strndup(v, (size_t)(nl - v)) : strdup(v);
            if (!one) return -1;
            if (in_list(path_opts, o->name) && strcmp(one, "-")) {
                char *ab = abs_path(one);
                free(one);
                if (!(one = ab)) return -1;
            }
            int rc = av_push(a, flag) || av_push(a, one);
            free(one);
            if (rc) return -1;
            if (!nl) break;
            v = nl + 1;
        }
    }
    return 0;
}

/* Parameter maxlen.NAME: the length of text column NAME, one entry of the
 * fixed --maxlen NAME=N,NAME=N (parse_params checks both). */
#define MAXLEN_COL "maxlen."

static int is_maxlen_col(const char *name) { return !strncmp(name, MAXLEN_COL, sizeof MAXLEN_COL - 1); }

/* The --maxlen of configuration cfg of a plan with maxlen.NAME parameters:
 * the fixed part's NAME=N list (its last --maxlen) with the searched
 * columns' entries replaced by the configuration's values.  malloc'ed;
 * NULL when out of memory. */
static char *cfg_maxlen(const wb_plan *p, size_t cfg) {
    const char *fixed = "";
    for (size_t i = 0; i + 1 < p->nargs; i++)
        if (!strcmp(p->args[i], "--maxlen")) fixed = p->args[i + 1];
    size_t cap = strlen(fixed) + 1;
    for (size_t j = 0; j < p->nparams; j++) cap += strlen(wb_plan_value(p, cfg, j)) + 1;
    char *out = malloc(cap), *o = out;
    if (!out) return NULL;
    for (const char *q = fixed; *q;) { /* NAME=N entries */
        const char *eq = strchr(q, '='), *end = strchr(q, ',');
        if (!end) end = q + strlen(q);
        const char *v = NULL;
        size_t vlen = 0;
        for (size_t j = 0; eq && eq < end && j < p->nparams; j++) {
            const char *name = p->params[j].name + sizeof MAXLEN_COL - 1;
            if (is_maxlen_col(p->params[j].name) && strlen(name) == (size_t)(eq - q) && !memcmp(name, q, (size_t)(eq - q)))
                v = wb_plan_value(p, cfg, j), vlen = strlen(v);
        }
        if (o > out) *o++ = ',';
        if (v) { /* NAME= then the value */
            memcpy(o, q, (size_t)(eq - q) + 1), o += eq - q + 1;
            memcpy(o, v, vlen), o += vlen;
        } else {
            memcpy(o, q, (size_t)(end - q)), o += end - q;
        }
        q = *end ? end + 1 : end;
    }
    *o = 0;
    return out;
}

/* "search" + args + the values of configuration cfg (maxlen.NAME ones
 * folded into one --maxlen). */
static int trial_argv(const wb_plan *p, size_t cfg, argvec *a) {
    if (av_push(a, "search")) return -1;
    for (size_t i = 0; i < p->nargs; i++)
        if (av_push(a, p->args[i])) return -1;
    int cols = 0;
    for (size_t j = 0; j < p->nparams; j++) {
        const char *name = p->params[j].name, *v = wb_plan_value(p, cfg, j);
        if (is_maxlen_col(name)) {
            cols = 1;
            continue;
        }
        const cli_opt *o = find_opt(name);
        char flag[80];
        snprintf(flag, sizeof flag, "--%s", name);
        if (o && !o->arg) {
            int on = 0;
            is_flag_value(v, &on);
            if (on && av_push(a, flag)) return -1;
            continue;
        }
        if (av_push(a, flag) || av_push(a, v)) return -1;
    }
    if (cols) {
        char *ml = cfg_maxlen(p, cfg);
        int rc = !ml || av_push(a, "--maxlen") || av_push(a, ml);
        free(ml);
        if (rc) return -1;
    }
    return 0;
}

/* "name=value name=value" of a configuration. */
static void cfg_label(const wb_plan *p, size_t cfg, char *buf, size_t n) {
    size_t o = 0;
    buf[0] = 0;
    for (size_t j = 0; j < p->nparams && o + 1 < n; j++)
        o += (size_t)snprintf(buf + o, n - o, "%s%s=%s", j ? " " : "", p->params[j].name, wb_plan_value(p, cfg, j));
    if (!p->nparams) snprintf(buf, n, "(the fixed options)");
}

/* ---- the prepared search ------------------------------------------------------------------ */

typedef struct dsent {
    char *sig;              /* the data-set options of its configurations */
    wb_dataset *ds;
    wb_folds *folds;
    int64_t *rows[WB_MAX_INPUTS]; /* [k]: store row of every id of text input k (NULL without store) */
    wb_dataset_opts dso;    /* as built (the refit's model file records it) */
    cli_ds_strings dss;     /* strings dso borrows */
    cli tc;                 /* the command line dso borrows from */
    argvec av;
} dsent;

typedef struct cfgent {
    int ready;              /* prepared */
    size_t ds;              /* index into sctx.dss */
    wb_trial_setup setup;
    char *class_weights;    /* owned copy of setup.class_weights */
} cfgent;

typedef struct sctx {
    cli *c;                 /* the command */
    char *run_dir;          /* absolute */
    wb_plan plan;
    int metric;
    wb_store *store;
    char *store_abs;
    dsent **dss;            /* (ndss) each malloc'ed: a dsent's dso points into itself */
    size_t ndss;
    cfgent *cfgs;           /* (plan.nconfigs) */
    size_t refit_config;    /* the refit trial's configuration */
    char *best_path;        /* RUN_DIR/best.wbm */
} sctx;

static void dsent_free(dsent *d) {
    if (!d) return;
    free(d->sig);
    wb_folds_destroy(d->folds);
    wb_dataset_destroy(d->ds);
    for (size_t k = 0; k < WB_MAX_INPUTS; k++) free(d->rows[k]);
    cli_ds_strings_free(&d->dss);
    cli_free(&d->tc);
    av_free(&d->av);
    free(d);
}

/* What the trials of a data set share. */
static wb_trial_env dsent_env(const sctx *s, const dsent *d) {
    wb_trial_env env = {.ds = d->ds, .folds = d->folds, .store = s->store};
    for (size_t k = 0; k < WB_MAX_INPUTS; k++) env.rows[k] = d->rows[k];
    return env;
}

static void sctx_free(sctx *s) {
    for (size_t i = 0; i < s->ndss; i++) dsent_free(s->dss[i]);
    free(s->dss);
    for (size_t i = 0; s->cfgs && i < s->plan.nconfigs; i++) free(s->cfgs[i].class_weights);
    free(s->cfgs);
    wb_store_close(s->store);
    free(s->store_abs);
    free(s->run_dir);
    free(s->best_path);
    wb_plan_free(&s->plan);
}

static char *ds_signature(const cli *tc, const wb_dataset_opts *dso) {
    size_t cap = 256, n = 0;
    char *s = malloc(cap);
    if (!s) return NULL;
    s[0] = 0;
    for (const cli_opt *o = ds_table; o->name; o++) {
        const char *v = o->arg ? cli_str(tc, o->name) : (cli_flag(tc, o->name) ? "1" : "0");
        if (!v) v = "";
        size_t need = strlen(o->name) + strlen(v) + 3;
        if (n + need >= cap) {
            char *q = realloc(s, cap = 2 * (n + need));
            if (!q) return free(s), NULL;
            s = q;
        }
        n += (size_t)snprintf(s + n, cap - n, "%s\x1f%s\x1e", o->name, v);
    }
    /* what the model kind decides when the options do not (train's rules) */
    char eff[64];
    int k = snprintf(eff, sizeof eff, "maxlen\x1f%zu\x1etok\x1f%d\x1e", dso->maxlen, (int)dso->tok.kind);
    if (n + (size_t)k >= cap) {
        char *q = realloc(s, n + (size_t)k + 1);
        if (!q) return free(s), NULL;
        s = q;
    }
    memcpy(s + n, eff, (size_t)k + 1);
    return s;
}

/* Open the store of the fixed part (once). */
static int open_store(sctx *s, const char *dir) {
    if (s->store || !dir) return 0;
    wb_err e;
    wb_err_clear(&e);
    int rc = wb_store_open(&s->store, dir, &e);
    if (rc) return cli_fail(&e, rc);
    s->store_abs = realpath(dir, NULL);
    return 0;
}

/* Prepare configuration cfg: its command line, data set (built or loaded
 * from the cache, shared by configurations with the same data options),
 * folds, store rows and trial setup, checked.  Returns 0, EXIT_USAGE or
 * EXIT_FAIL (printed). */
static int prepare(sctx *s, size_t cfg) {
    cfgent *ce = &s->cfgs[cfg];
    if (ce->ready) return 0;
    char label[512];
    cfg_label(&s->plan, cfg, label, sizeof label);
    dsent *dp = calloc(1, sizeof *dp);
    if (!dp) {
        cli_warn("out of memory");
        return EXIT_FAIL;
    }
    if (trial_argv(&s->plan, cfg, &dp->av)) {
        av_free(&dp->av);
        free(dp);
        cli_warn("out of memory");
        return EXIT_FAIL;
    }
    int rc = cli_parse(&dp->tc, &cmd_search, dp->av.n, dp->av.v);
    const char *data = rc ? NULL : cli_str(&dp->tc, "data");
    if (!rc && !data) rc = cli_usage(&dp->tc, "--data FILE is required");
    if (!rc) rc = open_store(s, cli_str(&dp->tc, "store"));
    cli_fit fit;
    if (!rc && (s->c->quiet || cfg)) dp->tc.quiet = 1; /* the fixed part's warnings once */
    if (!rc) rc = cli_ds_opts(&dp->tc, data, 0, &dp->dso, &dp->dss);
    if (!rc && cli_fit_opts(&dp->tc, s->store != NULL, &fit)) rc = EXIT_USAGE;
    if (!rc) { /* as train: the model kind's maxlen, characters for charcnn */
        if (!cli_given(&dp->tc, "maxlen")) cli_ds_set_maxlen(&dp->dso, &dp->dss, cli_model_maxlen(&fit.mc));
        if (fit.mc.kind == WB_MODEL_CHARCNN && !cli_given(&dp->tc, "tokenizer")) dp->dso.tok.kind = WB_TOK_CHAR;
    }
    if (rc) {
        if (s->plan.nparams) cli_warn("in configuration %zu (%s)", cfg, label);
        goto fail;
    }
    char *sig = ds_signature(&dp->tc, &dp->dso);
    if (!sig) {
        rc = EXIT_FAIL;
        cli_warn("out of memory");
        goto fail;
    }
    size_t di = 0;
    while (di < s->ndss && strcmp(s->dss[di]->sig, sig)) di++;
    wb_err e;
    wb_err_clear(&e);
    if (di == s->ndss) { /* a new data set */
        dp->sig = sig;
        char *cache = NULL;
        /* RUN_DIR/cache rather than the per-user default, so that every
         * worker and Slurm task maps the file this process built */
        if (!cli_given(&dp->tc, "cache-dir") && !cli_flag(&dp->tc, "no-cache")) {
            cache = path_join(s->run_dir, "cache");
            if (cache && mkdir(cache, 0777) && errno != EEXIST) {
                cli_warn("%s: %s", cache, strerror(errno));
                free(cache);
                rc = EXIT_FAIL;
                goto fail;
            }
            dp->dso.cache_dir = cache;
        }
        wb_dataset_stats st;
        int lrc = wb_dataset_build(&dp->ds, &dp->dso, &st, &e);
        if (!s->c->quiet && !lrc && !st.cache_hit) cli_ds_report(s->c, &dp->dso, &st);
        if (cache) dp->dso.cache_dir = NULL, free(cache);
        if (!lrc) lrc = wb_folds_create(&dp->folds, &s->plan, dp->ds, &e);
        for (size_t k = 0; !lrc && s->store && k < wb_dataset_ninputs(dp->ds) && k < WB_MAX_INPUTS; k++) {
            const wb_vocab *v = wb_dataset_input_get(dp->ds, k)->vocab; /* every input's words, in the one store */
            size_t V = wb_vocab_size(v), found;
            if (!(dp->rows[k] = malloc(V * sizeof *dp->rows[k]))) lrc = wb_err_set(&e, WB_ENOMEM, "out of memory");
            else if (!(lrc = wb_vocab_rows(v, s->store, dp->rows[k], &found, &e)))
                lrc = wb_store_prefetch(s->store, V, dp->rows[k], &e);
        }
        if (lrc) {
            rc = lrc == WB_EUSAGE ? cli_usage(s->c, "%s", e.msg) : cli_fail(&e, lrc);
            goto fail;
        }
        dsent **nd = realloc(s->dss, (s->ndss + 1) * sizeof *nd);
        if (!nd) {
            rc = EXIT_FAIL;
            cli_warn("out of memory");
            goto fail;
        }
        s->dss = nd;
        s->dss[s->ndss++] = dp;
        dp = NULL; /* owned by the list now */
    } else {
        free(sig);
    }
    ce->ds = di;
    wb_trial_setup *ts = &ce->setup;
    memset(ts, 0, sizeof *ts);
    ts->model = fit.mc, ts->optim = fit.opt;
    ts->epochs = fit.epochs, ts->batch = fit.batch, ts->patience = fit.patience, ts->seed = fit.seed;
    free(ce->class_weights);
    ce->class_weights = NULL;
    if (fit.class_weights && !(ce->class_weights = strdup(fit.class_weights))) {
        rc = EXIT_FAIL;
        cli_warn("out of memory");
        goto fail;
    }
    ts->class_weights = ce->class_weights, ts->threshold = 0.5f;
    const dsent *de = s->dss[di];
    wb_trial_env env = dsent_env(s, de);
    int lrc = wb_trial_check(&env, ts, &e);
    if (lrc) {
        if (s->plan.nparams) cli_warn("in configuration %zu (%s)", cfg, label);
        rc = lrc == WB_EUSAGE && !e.file[0] ? cli_usage(s->c, "%s", e.msg) : cli_fail(&e, lrc);
        goto fail;
    }
    ce->ready = 1;
fail:
    dsent_free(dp); /* not moved into the list */
    return rc;
}

/* The trial function of the workers (and of --trial and the refit). */
static int run_one(void *ctx, size_t t, int (*should_stop)(void *), void *stop_ctx, int *stopped, wb_trial_result *r,
                   wb_err *e) {
    sctx *s = ctx;
    wb_trial tr;
    wb_plan_trial(&s->plan, t, &tr);
    if (tr.refit) tr.config = s->refit_config;
    const cfgent *ce = &s->cfgs[tr.config];
    const dsent *d = s->dss[ce->ds];
    wb_trial_env env = dsent_env(s, d);
    wb_trial_setup ts = ce->setup;
    openblas_set_num_threads((int)s->plan.threads);
    if (!tr.refit) return wb_trial_run(&env, &tr, &ts, should_stop, stop_ctx, stopped, r, e);
    /* The refit writes RUN_DIR/best.wbm, a model file like train's. */
    int learned = ts.model.emb == WB_EMB_LEARNED;
    wb_model_file mf;
    int rc = wb_bundle_file_make(&mf, &d->dso, d->ds, learned ? NULL : s->store_abs,
                                 (!learned && s->store) ? wb_store_info_get(s->store)->fingerprint : 0, e);
    if (!rc) {
        ts.out_path = s->best_path, ts.file = &mf;
        rc = wb_trial_run(&env, &tr, &ts, should_stop, stop_ctx, stopped, r, e);
    }
    wb_bundle_file_free(&mf);
    return rc;
}

/* ---- signals and progress --------------------------------------------------------------------- */

static void progress(void *ctx, size_t done, size_t running, size_t total) {
    const cli *c = ctx;
    cli_progress(c, 0, "search: %zu of %zu trials done, %zu running", done, total, running);
}

/* ---- output -------------------------------------------------------------------------------- */

static const int shown[] = {WB_MET_ACC, WB_MET_F1, WB_MET_P1, WB_MET_AUC};

/* "0.919±0.012" in a column of 12. */
static void print_mean_sd(double m, double sd) {
    char b[40];
    if (m != m) snprintf(b, sizeof b, "-");
    else snprintf(b, sizeof b, "%.3f±%.3f", m, sd);
    printf("%-13s", b); /* "±" is two bytes */
}

static const char *scheme_text(const wb_plan *p, char *buf, size_t n) {
    if (!p->k) snprintf(buf, n, "holdout (scored on the valid part)");
    else if (p->k2) snprintf(buf, n, "nested cross-validation, %zu outer x %zu inner folds", p->k, p->k2);
    else snprintf(buf, n, "%zu-fold cross-validation", p->k);
    return buf;
}

static void json_metrics(const double *v, const int *which, size_t n) {
    printf("{");
    for (size_t i = 0; i < n; i++) {
        printf("%s\"%s\": ", i ? ", " : "", wb_metric_name(which[i]));
        json_num(stdout, v[which[i]]);
    }
    printf("}");
}

static void json_params(const wb_plan *p, size_t cfg) {
    printf("{");
    for (size_t j = 0; j < p->nparams; j++) {
        printf("%s", j ? ", " : "");
        json_str(stdout, p->params[j].name, strlen(p->params[j].name));
        printf(": ");
        json_str(stdout, wb_plan_value(p, cfg, j), strlen(wb_plan_value(p, cfg, j)));
    }
    printf("}");
}

static const int all_metrics[WB_NMET] = {WB_MET_ACC, WB_MET_F1, WB_MET_P1, WB_MET_AUC, WB_MET_LOSS, WB_MET_PRECISION,
                                         WB_MET_RECALL};

/* The results: table, best, nested estimate, refit. */
static size_t emb_param(const wb_plan *p);
static int print_compare(const cli *c, sctx *s, wb_trial_result *const *res, int metric, const char *base, size_t pe);

/* The table of a search (one JSON document with --json); when `embeddings`
 * is the only parameter, the compare report follows (the JSON's "compare"). */
static int print_results(const cli *c, sctx *s, wb_trial_result *const *res, const wb_triallog_stats *ls,
                         const char *note) {
    const wb_plan *p = &s->plan;
    size_t nt = wb_plan_ntrials(p), done = 0, per = wb_plan_per_config(p);
    for (size_t t = 0; t < nt; t++) done += res[t] != NULL;
    wb_table_row *rows;
    size_t nrows;
    wb_err e;
    wb_err_clear(&e);
    if (wb_search_table(p, res, s->metric, &rows, &nrows, &e)) return cli_fail(&e, WB_ENOMEM);
    wb_nested_fold *nf = p->k2 ? calloc(p->k, sizeof *nf) : NULL;
    size_t ncomplete = nf ? wb_search_nested(p, res, s->metric, nf) : 0;
    const wb_trial_result *refit = p->refit ? res[nt - 1] : NULL;
    char scheme[128];
    scheme_text(p, scheme, sizeof scheme);
    double nmean = NAN, nsd = NAN;
    if (nf && ncomplete) {
        double *x = malloc(p->k * sizeof *x);
        size_t q = 0;
        for (size_t o = 0; x && o < p->k; o++)
            if (nf[o].complete) x[q++] = nf[o].score;
        if (x) nmean = wb_stats_mean(x, q), nsd = wb_stats_sd(x, q);
        free(x);
    }
    if (c->json) {
        printf("{\"run_dir\": ");
        json_str(stdout, s->run_dir, strlen(s->run_dir));
        printf(", \"plan\": \"%016" PRIx64 "\", \"search\": \"%s\", \"configurations\": %zu, \"cv\": %zu, \"nested\": %zu"
               ", \"metric\": \"%s\", \"trials\": %zu, \"done\": %zu, \"params\": [",
               p->id, p->random ? "random" : "grid", p->nconfigs, p->k, p->k2, wb_metric_name(s->metric), nt, done);
        for (size_t j = 0; j < p->nparams; j++) {
            printf("%s", j ? ", " : "");
            json_str(stdout, p->params[j].name, strlen(p->params[j].name));
        }
        printf("], \"table\": [");
        for (size_t i = 0; i < nrows; i++) {
            const wb_table_row *r = &rows[i];
            printf("%s\n  {\"rank\": ", i ? "," : "");
            if (r->rank) printf("%zu", r->rank);
            else printf("null");
            printf(", \"config\": %zu, \"params\": ", r->config);
            json_params(p, r->config);
            printf(", \"folds\": %zu, \"expected\": %zu, \"mean\": ", r->folds, r->expected);
            json_metrics(r->mean, all_metrics, WB_NMET);
            printf(", \"sd\": ");
            json_metrics(r->sd, all_metrics, WB_NMET);
            printf(", \"train_s\": ");
            json_num(stdout, r->train_s);
            printf(", \"examples_per_s\": ");
            json_num(stdout, r->examples_per_s);
            printf("}");
        }
        printf("],\n \"best\": ");
        if (nrows && rows[0].rank) printf("{\"config\": %zu, \"params\": ", rows[0].config), json_params(p, rows[0].config), printf("}");
        else printf("null");
        printf(", \"nested\": ");
        if (nf) {
            printf("{\"complete\": %zu, \"mean\": ", ncomplete);
            json_num(stdout, nmean);
            printf(", \"sd\": ");
            json_num(stdout, nsd);
            printf(", \"outer\": [");
            for (size_t o = 0; o < p->k; o++) {
                printf("%s{\"fold\": %zu, \"config\": ", o ? ", " : "", o);
                if (nf[o].config != SIZE_MAX) printf("%zu", nf[o].config);
                else printf("null");
                printf(", \"inner_mean\": ");
                json_num(stdout, nf[o].inner_mean);
                printf(", \"score\": ");
                json_num(stdout, nf[o].score);
                printf("}");
            }
            printf("]}");
        } else {
            printf("null");
        }
        printf(", \"refit\": ");
        if (refit) {
            printf("{\"config\": %zu, \"params\": ", refit->config);
            json_params(p, refit->config);
            printf(", \"n_train\": %zu, \"n_test\": %zu, \"test\": ", refit->ntrain, refit->ntest);
            if (refit->ntest) json_metrics(refit->metric, all_metrics, WB_NMET);
            else printf("null");
            printf(", \"model\": ");
            json_str(stdout, s->best_path, strlen(s->best_path));
            printf("}");
        } else {
            printf("null");
        }
        printf(", \"log\": {\"torn\": %zu, \"damaged\": %zu, \"duplicates\": %zu}", ls->torn, ls->damaged, ls->duplicates);
        free(rows), free(nf);
        int rc = EXIT_OK;
        if (p->nparams == 1 && emb_param(p) == 0) {
            printf(", \"compare\": ");
            rc = print_compare(c, s, res, s->metric, "learned", 0);
        }
        printf("}\n");
        return rc;
    }
    printf("search %s: %s search, %zu configuration%s, %s; %zu of %zu trials done%s\n", s->run_dir,
           p->random ? "random" : "grid", p->nconfigs, p->nconfigs == 1 ? "" : "s", scheme, done, nt, note ? note : "");
    /* column widths of the parameter values */
    size_t w[64];
    size_t np = p->nparams < 64 ? p->nparams : 64;
    for (size_t j = 0; j < np; j++) {
        w[j] = strlen(p->params[j].name);
        for (size_t i = 0; i < nrows; i++) {
            size_t l = strlen(wb_plan_value(p, rows[i].config, j));
            if (l > w[j]) w[j] = l;
        }
    }
    printf("%-5s ", "rank");
    for (size_t j = 0; j < np; j++) printf("%-*s  ", (int)w[j], p->params[j].name);
    char head[32];
    snprintf(head, sizeof head, "%s (mean ± sd)", wb_metric_name(s->metric));
    printf("%-20s ", head); /* "±" is two bytes */
    for (size_t m = 0; m < sizeof shown / sizeof *shown; m++)
        if (shown[m] != s->metric) printf("%-12s", wb_metric_name(shown[m]));
    printf("%-8s %-10s %s\n", "train_s", "examples/s", "folds");
    for (size_t i = 0; i < nrows; i++) {
        const wb_table_row *r = &rows[i];
        if (r->rank) printf("%-5zu ", r->rank);
        else printf("%-5s ", "-");
        for (size_t j = 0; j < np; j++) printf("%-*s  ", (int)w[j], wb_plan_value(p, r->config, j));
        char ms[40];
        if (r->mean[s->metric] != r->mean[s->metric]) snprintf(ms, sizeof ms, "-");
        else snprintf(ms, sizeof ms, "%.4f ± %.4f", r->mean[s->metric], r->sd[s->metric]);
        printf("%-20s ", ms); /* "±" is two bytes */
        for (size_t m = 0; m < sizeof shown / sizeof *shown; m++)
            if (shown[m] != s->metric) print_mean_sd(r->mean[shown[m]], r->sd[shown[m]]);
        printf("%-8.2f %-10.0f %zu/%zu\n", r->train_s, r->examples_per_s, r->folds, r->expected);
    }
    if (nrows && rows[0].rank) {
        char label[512];
        cfg_label(p, rows[0].config, label, sizeof label);
        printf("best: %s: %s %.4f ± %.4f over %zu fold%s\n", label, wb_metric_name(s->metric), rows[0].mean[s->metric],
               rows[0].sd[s->metric], rows[0].folds, rows[0].folds == 1 ? "" : "s");
    }
    if (nf) {
        printf("nested estimate (%zu of %zu outer folds): ", ncomplete, p->k);
        if (ncomplete) printf("%s %.4f ± %.4f (the best row's mean above is chosen on the same folds, so optimistic)\n",
                              wb_metric_name(s->metric), nmean, nsd);
        else printf("-\n");
        for (size_t o = 0; o < p->k; o++) {
            char label[512];
            if (!nf[o].complete) {
                printf("  outer fold %zu: inner search not finished\n", o);
                continue;
            }
            cfg_label(p, nf[o].config, label, sizeof label);
            printf("  outer fold %zu: %.4f with %s (inner mean %.4f)\n", o, nf[o].score, label, nf[o].inner_mean);
        }
    }
    if (refit) {
        char label[512];
        cfg_label(p, refit->config, label, sizeof label);
        printf("refit: %s on %zu examples; ", label, refit->ntrain);
        if (refit->ntest) {
            printf("test (%zu examples):", refit->ntest);
            for (size_t m = 0; m < sizeof shown / sizeof *shown; m++)
                printf(" %s %.4f", wb_metric_name(shown[m]), refit->metric[shown[m]]);
        } else {
            printf("no test part (--test FILE or --test-size F)");
        }
        printf("; model %s\n", s->best_path);
    }
    (void)per;
    free(rows), free(nf);
    if (p->nparams == 1 && emb_param(p) == 0) {
        printf("\n");
        return print_compare(c, s, res, s->metric, "learned", 0);
    }
    return EXIT_OK;
}

/* Read every log of RUN_DIR into a fresh results array (warnings printed). */
static int read_results(const sctx *s, wb_trial_result ***out, wb_triallog_stats *ls) {
    size_t nt = wb_plan_ntrials(&s->plan);
    wb_trial_result **res = calloc(nt, sizeof *res);
    memset(ls, 0, sizeof *ls);
    if (!res) {
        cli_warn("out of memory");
        return EXIT_FAIL;
    }
    wb_err e;
    wb_err_clear(&e);
    int rc = wb_triallog_read_dir(s->run_dir, &s->plan, res, ls, &e);
    if (rc) {
        wb_triallog_results_free(res, nt);
        free(res);
        return cli_fail(&e, rc);
    }
    if (ls->damaged && !s->c->quiet)
        cli_warn("%zu damaged line%s of the trial log skipped (first: %s); their trials run again", ls->damaged,
                 ls->damaged == 1 ? "" : "s", ls->first_damaged);
    *out = res;
    return 0;
}

static void free_results(const sctx *s, wb_trial_result **res) {
    if (!res) return;
    wb_triallog_results_free(res, wb_plan_ntrials(&s->plan));
    free(res);
}

/* Trials of the plan without a result (the refit excluded). */
static size_t pending_trials(const sctx *s, wb_trial_result *const *res, size_t *out) {
    size_t n = 0, nt = wb_plan_ntrials(&s->plan) - (s->plan.refit ? 1 : 0);
    for (size_t t = 0; t < nt; t++)
        if (!res[t]) out[n++] = t;
    return n;
}

/* Does the refit trial have to run (again)?  Sets s->refit_config. */
static int refit_needed(sctx *s, wb_trial_result *const *res) {
    if (!s->plan.refit) return 0;
    size_t best = wb_search_best(&s->plan, res, s->metric);
    if (best == SIZE_MAX) return 0;
    s->refit_config = best;
    const wb_trial_result *r = res[wb_plan_ntrials(&s->plan) - 1];
    return !r || r->config != best;
}

/* ---- search ---------------------------------------------------------------------------------------- */

static int load_plan(sctx *s, const char *dir) {
    s->run_dir = abs_path(dir);
    wb_err e;
    wb_err_clear(&e);
    int rc = wb_plan_load(&s->plan, s->run_dir, &e);
    if (rc == ENOENT) {
        cli_warn("%s: no search here (no plan.json)", s->run_dir);
        return EXIT_FAIL;
    }
    if (rc) return cli_fail(&e, rc);
    s->metric = wb_metric_parse(s->plan.metric);
    s->best_path = path_join(s->run_dir, "best.wbm");
    s->cfgs = calloc(s->plan.nconfigs, sizeof *s->cfgs);
    if (!s->best_path || !s->cfgs) {
        cli_warn("out of memory");
        return EXIT_FAIL;
    }
    return 0;
}

/* --trial I RUN_DIR: one trial, logged to RUN_DIR/tasks/trial-I.jsonl. */
static int run_trial_mode(cli *c, const char *ts) {
    sctx s;
    memset(&s, 0, sizeof s);
    s.c = c;
    int rc = load_plan(&s, c->argv[0]);
    uint64_t t = 0;
    size_t nt = rc ? 0 : wb_plan_ntrials(&s.plan);
    if (!rc && (!nt || cli_u64(c, "trial", 0, nt - 1, &t))) rc = EXIT_USAGE;
    wb_trial_result **res = NULL;
    wb_triallog_stats ls;
    wb_trial tr;
    if (!rc) wb_plan_trial(&s.plan, (size_t)t, &tr);
    if (!rc && tr.refit && !(rc = read_results(&s, &res, &ls))) {
        size_t *pend = malloc(nt * sizeof *pend), np = pend ? pending_trials(&s, res, pend) : 0;
        free(pend);
        size_t best = wb_search_best(&s.plan, res, s.metric);
        if (np) {
            cli_warn("the refit needs every trial; %zu have no result yet (run the search again to resubmit them)", np);
            rc = EXIT_FAIL;
        } else if (best == SIZE_MAX) {
            cli_warn("no configuration has all its folds: nothing to refit");
            rc = EXIT_FAIL;
        }
        s.refit_config = tr.config = best;
    }
    if (!rc) rc = prepare(&s, tr.config);
    if (!rc) {
        char name[64];
        snprintf(name, sizeof name, "tasks/trial-%zu.jsonl", (size_t)t);
        char *tasks = path_join(s.run_dir, "tasks"), *log = path_join(s.run_dir, name);
        if (tasks) mkdir(tasks, 0777);
        wb_trial_result r;
        int stopped = 0;
        wb_err e;
        wb_err_clear(&e);
        cli_catch_stop(); /* Slurm's pre-emption and time limit send SIGTERM first */
        int lrc = log ? run_one(&s, (size_t)t, cli_stop_requested, NULL, &stopped, &r, &e) : WB_ENOMEM;
        (void)ts;
        if (!lrc && !stopped) lrc = wb_triallog_append(log, &r, s.plan.id, &e);
        if (lrc) rc = cli_fail(&e, lrc);
        else if (stopped) {
            cli_warn("trial %zu stopped by a signal before it finished (not logged)", (size_t)t);
            rc = EXIT_FAIL;
        } else {
            if (c->json) {
                char *line;
                size_t len;
                if (!wb_triallog_format(&r, s.plan.id, &line, &len)) fwrite(line, 1, len, stdout), free(line);
            } else {
                printf("trial %zu (config %zu, fold %d%s): %s %.4f, %.1f s\n", r.trial, r.config, r.outer,
                       r.refit ? ", refit" : "", s.plan.metric, r.metric[s.metric], r.wall_s);
            }
            wb_trial_result_free(&r);
        }
        free(tasks), free(log);
    }
    free_results(&s, res);
    sctx_free(&s);
    return rc;
}

/* --collect RUN_DIR: merge the task logs into trials.jsonl, print the table. */
static int run_collect(cli *c) {
    sctx s;
    memset(&s, 0, sizeof s);
    s.c = c;
    int rc = load_plan(&s, c->argv[0]);
    wb_trial_result **all = NULL, **main_only = NULL;
    wb_triallog_stats ls, ls1;
    memset(&ls1, 0, sizeof ls1);
    if (!rc) rc = read_results(&s, &all, &ls);
    size_t nt = rc ? 0 : wb_plan_ntrials(&s.plan), merged = 0;
    char *log = rc ? NULL : path_join(s.run_dir, "trials.jsonl");
    if (!rc) {
        wb_err e;
        wb_err_clear(&e);
        main_only = calloc(nt, sizeof *main_only);
        int lrc = main_only ? wb_triallog_read(log, &s.plan, main_only, &ls1, &e) : WB_ENOMEM;
        for (size_t t = 0; !lrc && t < nt; t++) {
            if (!all[t]) continue;
            if (main_only[t] && !(all[t]->refit && main_only[t]->config != all[t]->config)) continue;
            if (!(lrc = wb_triallog_append(log, all[t], s.plan.id, &e))) merged++;
        }
        if (lrc) rc = cli_fail(&e, lrc);
    }
    if (!rc && !c->quiet) cli_warn("%zu trial%s merged into %s", merged, merged == 1 ? "" : "s", log);
    if (!rc) rc = print_results(c, &s, all, &ls, NULL);
    free(log);
    if (main_only) wb_triallog_results_free(main_only, nt), free(main_only);
    free_results(&s, all);
    sctx_free(&s);
    return rc;
}

/* Remove a run directory this command created and then failed to fill:
 * the data sets in its cache/ (what wb_dataset_cache_clear lists), the
 * directory if that leaves it empty, and itself; anything else stays. */
static void remove_new_run_dir(const char *dir) {
    char *cache = path_join(dir, "cache");
    if (cache) {
        wb_err e;
        wb_dataset_cache_clear(cache, NULL, NULL, &e);
        rmdir(cache);
    }
    free(cache);
    rmdir(dir);
}

/* Parameter maxlen.COL: COL must be one of the inputs that the fixed
 * --maxlen NAME=N,NAME=N makes. */
static int check_maxlen_col(cli *c, const char *col) {
    const char *ml = cli_str(c, "maxlen"), *tc = cli_str(c, "text-col");
    if (!ml || !strchr(ml, '='))
        return cli_usage(c, "--param maxlen.%s: searches the length of one of several text inputs; give every "
                            "--text-col its fixed length with --maxlen NAME=N,NAME=N", col);
    size_t n = strlen(col);
    for (const char *q = tc; q && *q;) { /* the '\n'-joined --text-col values */
        const char *nl = strchr(q, '\n');
        size_t len = nl ? (size_t)(nl - q) : strlen(q);
        if (len == n && !memcmp(q, col, n)) return 0;
        q = nl ? nl + 1 : q + len;
    }
    return cli_usage(c, "--param maxlen.%s: '%s' is not a --text-col", col, col);
}

/* The search's parameters from --param (checked against the option table). */
static int parse_params(cli *c, wb_param **out, size_t *n) {
    *out = NULL, *n = 0;
    const char *fixed_ml = cli_str(c, "maxlen");
    int per_column = fixed_ml && strchr(fixed_ml, '=');
    const char *v = cli_str(c, "param");
    if (!v) return 0;
    size_t cap = 1;
    for (const char *q = v; *q; q++) cap += *q == '\n';
    wb_param *p = calloc(cap, sizeof *p);
    if (!p) return cli_usage(c, "out of memory");
    char *buf = strdup(v);
    int rc = buf ? 0 : EXIT_USAGE;
    for (char *tok = buf; !rc && tok;) {
        char *nl = strchr(tok, '\n');
        if (nl) *nl = 0;
        wb_err e;
        wb_err_clear(&e);
        if (wb_param_parse(tok, &p[*n], &e)) {
            rc = cli_usage(c, "--param %s", e.msg);
            break;
        }
        const wb_param *q = &p[(*n)++];
        const cli_opt *o = find_opt(q->name);
        if (is_maxlen_col(q->name))
            rc = check_maxlen_col(c, q->name + sizeof MAXLEN_COL - 1);
        else if (!o || in_list(run_only, q->name))
            rc = cli_usage(c, "--param %s: not a training option (see 'wordbench train --help')", q->name);
        else if (!strcmp(q->name, "maxlen") && per_column)
            rc = cli_usage(c, "--param maxlen: --maxlen NAME=N,... gives every text column an input of its own; "
                              "search one column's length with --param maxlen.NAME");
        else if (in_list(not_params, q->name))
            rc = cli_usage(c, "--param %s: this option decides which examples there are and how they are split; it "
                              "takes one value per search",
                           q->name);
        else if (!o->arg) {
            int on;
            for (size_t i = 0; !rc && i < q->nvalues; i++)
                if (q->kind != WB_PARAM_LIST || !is_flag_value(q->values[i], &on))
                    rc = cli_usage(c, "--param %s: a switch takes on|off values, not '%s'", q->name,
                                   q->kind == WB_PARAM_LIST ? q->values[i] : q->spec);
            if (!rc && cli_given(c, q->name))
                rc = cli_usage(c, "--%s is given as a fixed option and as a parameter", q->name);
        }
        tok = nl ? nl + 1 : NULL;
    }
    free(buf);
    if (rc) {
        for (size_t i = 0; i < *n; i++) wb_param_free(&p[i]);
        free(p);
        *n = 0;
        return rc;
    }
    *out = p;
    return 0;
}

static int run_search(cli *c) {
    const char *ts = cli_str(c, "trial");
    int collect = cli_flag(c, "collect");
    if (ts && collect) return cli_usage(c, "give --trial I or --collect, not both");
    if (ts || collect) {
        if (c->argc != 1) return cli_usage(c, "%s needs the run directory: wordbench search %s RUN_DIR",
                                           ts ? "--trial I" : "--collect", ts ? "--trial I" : "--collect");
        return ts ? run_trial_mode(c, ts) : run_collect(c);
    }
    if (c->argc) return cli_usage(c, "unexpected argument '%s' (the run directory is -o RUN_DIR)", c->argv[0]);
    const char *out = cli_str(c, "output");
    if (!out) return cli_usage(c, "-o RUN_DIR is required");
    if (!cli_str(c, "data")) return cli_usage(c, "--data FILE is required");
    /* The plan's settings. */
    wb_plan_opts po;
    memset(&po, 0, sizeof po);
    wb_param *params;
    size_t np;
    int rc = parse_params(c, &params, &np);
    if (rc) return rc;
    int all_lists = 1;
    for (size_t j = 0; j < np; j++) all_lists &= params[j].kind == WB_PARAM_LIST;
    uint64_t niter = 0, k = 5, k2 = 0, thr = 1, jobs = 0, cpt = 0, seed = 0;
    double budget = 0;
    if (cli_given(c, "n-iter") && cli_u64(c, "n-iter", 1, 1000000, &niter)) rc = EXIT_USAGE;
    else if (cli_u64(c, "cv", 2, 1000, &k) || (cli_given(c, "nested") && cli_u64(c, "nested", 2, 1000, &k2)) ||
             cli_u64(c, "threads", 1, 256, &thr) || (cli_given(c, "jobs") && cli_u64(c, "jobs", 1, 1024, &jobs)) ||
             (cli_given(c, "cpus-per-task") && cli_u64(c, "cpus-per-task", 1, 4096, &cpt)) ||
             cli_u64(c, "seed", 0, UINT64_MAX, &seed) || cli_f64(c, "time-budget", 1e-3, 1e9, 0, &budget))
        rc = EXIT_USAGE;
    else if (cli_flag(c, "grid") && cli_given(c, "n-iter"))
        rc = cli_usage(c, "give --grid or --n-iter N, not both");
    else if (!all_lists && !cli_given(c, "n-iter"))
        rc = cli_usage(c, "a range parameter needs a random search: add --n-iter N");
    else if (cli_str(c, "valid") && cli_given(c, "cv"))
        rc = cli_usage(c, "--valid makes the search a holdout one (trained on FILE, scored on the valid file); "
                          "--cv K splits FILE instead: give one of them");
    else if (cli_str(c, "valid") && cli_given(c, "nested"))
        rc = cli_usage(c, "--nested needs --cv K (not --valid)");
    else if (!cli_flag(c, "slurm") && (cli_given(c, "partition") || cli_given(c, "time") || cli_given(c, "cpus-per-task")))
        rc = cli_usage(c, "--partition, --time and --cpus-per-task go with --slurm");
    else if (cli_flag(c, "slurm") && cli_given(c, "time-budget"))
        rc = cli_usage(c, "--time-budget limits a local search; Slurm jobs have --time");
    const char *metric = cli_str(c, "metric");
    if (!rc && strcmp(metric, "auto") && wb_metric_parse(metric) < 0)
        rc = cli_usage(c, "--metric must be one of auto, acc, f1, p@1, auc, loss, not '%s'", metric);
    argvec args = {0};
    if (!rc && fixed_args(c, &args)) {
        cli_warn("out of memory");
        rc = EXIT_FAIL;
    }
    if (rc) {
        for (size_t j = 0; j < np; j++) wb_param_free(&params[j]);
        free(params);
        av_free(&args);
        return rc;
    }
    int split_mode = cli_choice(c, "split-mode", "random|stratify|iterative"); /* WB_SPLIT_* order */
    if (split_mode < 0) {
        for (size_t j = 0; j < np; j++) wb_param_free(&params[j]);
        free(params);
        av_free(&args);
        return EXIT_USAGE;
    }
    po.random = cli_given(c, "n-iter"), po.seed = seed, po.n_iter = (size_t)niter;
    po.k = cli_str(c, "valid") ? 0 : (size_t)k, po.k2 = (size_t)k2, po.split_mode = split_mode;
    po.metric = "acc", po.threads = (size_t)thr, po.refit = !cli_flag(c, "no-refit");
    po.args = (const char *const *)args.v, po.nargs = (size_t)args.n;
    po.params = params, po.nparams = np;
    sctx s;
    memset(&s, 0, sizeof s);
    s.c = c;
    wb_err e;
    wb_err_clear(&e);
    int lrc = wb_plan_create(&s.plan, &po, &e);
    for (size_t j = 0; j < po.nparams; j++) wb_param_free(&po.params[j]); /* not moved on failure */
    free(po.params);
    av_free(&args);
    if (lrc) {
        rc = lrc == WB_EUSAGE ? cli_usage(c, "%s", e.msg) : cli_fail(&e, lrc);
        sctx_free(&s);
        return rc;
    }
    /* RUN_DIR */
    int created = mkdir(out, 0777) == 0;
    if (!created && errno != EEXIST) {
        cli_warn("%s: cannot create the run directory: %s", out, strerror(errno));
        sctx_free(&s);
        return EXIT_FAIL;
    }
    s.run_dir = abs_path(out);
    s.best_path = path_join(s.run_dir, "best.wbm");
    s.cfgs = calloc(s.plan.nconfigs, sizeof *s.cfgs);
    wb_trial_result **res = NULL;
    size_t *pend = NULL;
    char *log = path_join(s.run_dir, "trials.jsonl");
    if (!s.run_dir || !s.best_path || !s.cfgs || !log) {
        cli_warn("out of memory");
        rc = EXIT_FAIL;
        goto out;
    }
    /* Configuration 0 decides the task, and so the automatic metric. */
    if ((rc = prepare(&s, 0))) goto out;
    if (!strcmp(metric, "auto"))
        metric = wb_dataset_task(s.dss[0]->ds) == WB_TASK_MULTILABEL ? "p@1" : "acc";
    snprintf(s.plan.metric, sizeof s.plan.metric, "%s", metric);
    s.metric = wb_metric_parse(metric);
    /* The same search as the one in RUN_DIR, or a new one. */
    wb_plan old;
    lrc = wb_plan_load(&old, s.run_dir, &e);
    if (lrc && lrc != ENOENT) {
        rc = cli_fail(&e, lrc);
        goto out;
    }
    char *text;
    size_t tlen;
    uint64_t id;
    if (wb_plan_text(&s.plan, &text, &tlen, &id)) {
        cli_warn("out of memory");
        rc = EXIT_FAIL;
        goto out;
    }
    free(text);
    if (!lrc) {
        uint64_t oid = old.id;
        wb_plan_free(&old);
        if (oid != id) {
            cli_warn("%s holds another search (its plan.json differs from this command's: options, parameters, seed "
                     "or validation); give another -o RUN_DIR, or remove this one",
                     s.run_dir);
            rc = EXIT_FAIL;
            goto out;
        }
        s.plan.id = id;
    }
    /* Every configuration before anything runs or is written: a bad value
     * fails now. */
    for (size_t cfg = 1; cfg < s.plan.nconfigs; cfg++)
        if ((rc = prepare(&s, cfg))) goto out;
    if (!s.plan.id && (lrc = wb_plan_save(&s.plan, s.run_dir, &e))) {
        rc = cli_fail(&e, lrc);
        goto out;
    }
    created = 0; /* the run directory holds a search now */
    wb_triallog_stats ls;
    if ((rc = read_results(&s, &res, &ls))) goto out;
    size_t nt = wb_plan_ntrials(&s.plan);
    pend = malloc(nt * sizeof *pend);
    if (!pend) {
        cli_warn("out of memory");
        rc = EXIT_FAIL;
        goto out;
    }
    size_t npend = pending_trials(&s, res, pend);
    if (cli_flag(c, "slurm")) {
        int refit = npend ? s.plan.refit : refit_needed(&s, res);
        if (!npend && !refit) {
            rc = print_results(c, &s, res, &ls, NULL);
            goto out;
        }
        char exe[PATH_MAX];
        ssize_t el = readlink("/proc/self/exe", exe, sizeof exe - 1);
        if (el < 0) {
            cli_warn("cannot find the wordbench executable: %s", strerror(errno));
            rc = EXIT_FAIL;
            goto out;
        }
        exe[el] = 0;
        wb_slurm_opts so = {.run_dir = s.run_dir, .exe = exe, .partition = cli_str(c, "partition"),
                            .time = cli_str(c, "time"), .cpus = cpt ? (size_t)cpt : s.plan.threads,
                            .sbatch = getenv("WB_SBATCH")};
        char ids[1024];
        if ((lrc = wb_slurm_submit(&so, pend, npend, refit ? nt - 1 : (size_t)-1, ids, sizeof ids, &e))) {
            rc = lrc == WB_EUSAGE ? cli_usage(c, "%s", e.msg) : cli_fail(&e, lrc);
            goto out;
        }
        if (c->json) {
            printf("{\"run_dir\": ");
            json_str(stdout, s.run_dir, strlen(s.run_dir));
            printf(", \"submitted\": %zu, \"refit\": %s, \"jobs\": \"%s\"}\n", npend, refit ? "true" : "false", ids);
        } else {
            printf("submitted %zu trial%s%s to Slurm: job%s %s\n", npend, npend == 1 ? "" : "s",
                   refit ? " and the refit" : "", strchr(ids, ' ') ? "s" : "", ids);
            printf("when they have finished: wordbench search --collect %s\n", s.run_dir);
        }
        goto out;
    }
    /* Local: worker processes. */
    size_t ncores = cores();
    if (!jobs) jobs = ncores / thr ? ncores / thr : 1;
    if (jobs * thr > ncores && !c->quiet)
        cli_warn("%" PRIu64 " jobs x %" PRIu64 " threads exceed the %zu cores: trials will compete for them", jobs, thr, ncores);
    cli_catch_stop();
    openblas_set_num_threads((int)thr);
    double t0 = wb_clock_s();
    wb_workers_opts wo = {.jobs = (size_t)jobs, .deadline = budget > 0 ? t0 + budget : 0, .log_path = log,
                          .plan_id = s.plan.id, .stop = &cli_stop, .progress = progress, .progress_ctx = c};
    wb_workers_stats ws;
    memset(&ws, 0, sizeof ws);
    if (npend && (lrc = wb_search_workers(pend, npend, &wo, run_one, &s, &ws, &e))) {
        cli_progress(c, 1, " ");
        rc = cli_fail(&e, lrc);
        goto out;
    }
    if (npend) cli_progress(c, 1, "search: %zu trials done in %.0f s", ws.done, wb_clock_s() - t0);
    if (ws.interrupted || cli_stop) {
        cli_warn("interrupted: %zu trials done; run the same command again to go on", ws.done);
        rc = EXIT_FAIL;
        goto out;
    }
    free_results(&s, res);
    res = NULL;
    if ((rc = read_results(&s, &res, &ls))) goto out;
    char note[160] = "";
    size_t left = pending_trials(&s, res, pend);
    if (ws.timed_out && left) {
        snprintf(note, sizeof note, " (time budget of %g s reached; run the same command again to go on)", budget);
        if (!c->quiet) cli_warn("time budget of %g s reached: %zu trials not run yet", budget, left);
    }
    if (refit_needed(&s, res)) { /* in this process, after the budget (as fastText's autotune) */
        if (!c->quiet && c->progress) cli_progress(c, 0, "search: refitting configuration %zu", s.refit_config);
        wb_trial_result r;
        int stopped = 0;
        lrc = run_one(&s, nt - 1, NULL, NULL, &stopped, &r, &e);
        cli_progress(c, 1, " ");
        if (!lrc) lrc = wb_triallog_append(log, &r, s.plan.id, &e);
        if (lrc) {
            rc = cli_fail(&e, lrc);
            goto out;
        }
        wb_trial_result_free(&r);
        free_results(&s, res);
        res = NULL;
        if ((rc = read_results(&s, &res, &ls))) goto out;
    } else if (s.plan.refit && wb_search_best(&s.plan, res, s.metric) == SIZE_MAX && !c->quiet) {
        cli_warn("no configuration has all its folds yet: no refit");
    }
    rc = print_results(c, &s, res, &ls, note[0] ? note : NULL);
out:
    if (created && rc && s.run_dir) remove_new_run_dir(s.run_dir); /* nothing half-made left behind */
    free(pend);
    free(log);
    free_results(&s, res);
    sctx_free(&s);
    return rc;
}

const cli_cmd cmd_search = {"search", "--data FILE -o RUN_DIR --param NAME=VALUES... [options] | --trial I RUN_DIR | --collect RUN_DIR",
                            "Grid or random search with k-fold / nested / holdout validation, on worker processes or Slurm.",
                            search_opts, 0, 1, run_search};

/* ---- compare ---------------------------------------------------------------------------------------- */

static const cli_opt compare_opts[] = {
    CLI_OPT_VERIFY_ON_OPEN,
    {"metric", 0, "NAME", NULL, "acc|f1|p@1|auc|loss (default: the search's)", 0},
    {"baseline", 0, "MODE", "learned", "the embeddings mode the others are compared with", 0},
    {"json", 0, NULL, NULL, "one JSON document", 0},
    {"quiet", 'q', NULL, NULL, "no warnings", 0},
    {"help", 'h', NULL, NULL, "show this help", 0},
    {0}};

/* The index of the search's `embeddings` parameter, or SIZE_MAX. */
static size_t emb_param(const wb_plan *p) { return wb_plan_param_index(p, "embeddings"); }

/* The compare report of a search whose parameter pe is `embeddings`
 * (wb_search_compare): each group's modes against base, with the store's
 * coverage of the group's data set (one JSON object with --json).  Returns
 * 0 or the exit status of a failure (printed). */
/* Coverage of the store over every text input of ds together (their
 * vocabularies' words, and running tokens weighted by count), and the
 * number of words. */
static int store_coverage(const wb_dataset *ds, wb_store *st, double *types, double *tokens, size_t *words, wb_err *e) {
    double found = 0, tok = 0, tok_cov = 0;
    *words = 0;
    for (size_t k = 0; k < wb_dataset_ninputs(ds); k++) {
        const wb_vocab *v = wb_dataset_input_get(ds, k)->vocab;
        double ty, to, n = 0;
        int rc = wb_vocab_coverage(v, st, &ty, &to, 0, NULL, NULL, e);
        if (rc) return rc;
        for (size_t id = 2; id < wb_vocab_size(v); id++) { /* ids 0 and 1 are no words */
            size_t len;
            uint64_t count = 0;
            wb_vocab_word(v, (int32_t)id, &len, &count);
            n += (double)count;
        }
        *words += wb_vocab_size(v) - 2;
        found += ty * (double)(wb_vocab_size(v) - 2), tok += n, tok_cov += to * n;
    }
    *types = *words ? found / (double)*words : 0, *tokens = tok > 0 ? tok_cov / tok : 0;
    return 0;
}

static int print_compare(const cli *c, sctx *s, wb_trial_result *const *res, int metric, const char *base, size_t pe) {
    const wb_plan *p = &s->plan;
    int rc = 0;
    size_t k = p->k ? p->k : 1, ngroups = 0;
    wb_compare_group *groups = NULL;
    wb_err e;
    wb_err_clear(&e);
    int lrc = wb_search_compare(p, res, metric, pe, base, &groups, &ngroups, &e);
    if (lrc) return cli_fail(&e, lrc);
    char scheme[128];
    scheme_text(p, scheme, sizeof scheme);
    if (c->json) {
        printf("{\"run_dir\": ");
        json_str(stdout, s->run_dir, strlen(s->run_dir));
        printf(", \"metric\": \"%s\", \"folds\": %zu, \"baseline\": \"%s\", \"tests\": {\"t\": \"paired t-test\", "
               "\"nb\": \"Nadeau-Bengio corrected resampled t-test\", \"wilcoxon\": \"Wilcoxon signed-rank\"}, \"groups\": [",
               wb_metric_name(metric), k, base);
    } else {
        printf("compare %s: %s over the %zu fold%s of %s; differences to %s paired fold by fold\n", s->run_dir,
               wb_metric_name(metric), k, k == 1 ? "" : "s", scheme, base);
    }
    for (size_t g = 0; g < ngroups; g++) {
        const wb_compare_group *gr = &groups[g];
        size_t first = gr->first;
        /* coverage of the store on this group's data set */
        double types = NAN, tokens = NAN;
        size_t words = 0;
        if ((rc = prepare(s, first))) goto out;
        const dsent *d = s->dss[s->cfgs[first].ds];
        if (s->store && (lrc = store_coverage(d->ds, s->store, &types, &tokens, &words, &e))) {
            rc = cli_fail(&e, lrc);
            goto out;
        }
        char label[512] = "";
        size_t lo = 0;
        for (size_t j = 0; j < p->nparams; j++)
            if (j != pe && lo < sizeof label)
                lo += (size_t)snprintf(label + lo, sizeof label - lo, "%s%s=%s", lo ? " " : "", p->params[j].name,
                                       wb_plan_value(p, first, j));
        if (c->json) {
            printf("%s\n {\"params\": {", g ? "," : "");
            for (size_t j = 0, n = 0; j < p->nparams; j++) {
                if (j == pe) continue;
                printf("%s", n++ ? ", " : "");
                json_str(stdout, p->params[j].name, strlen(p->params[j].name));
                printf(": ");
                json_str(stdout, wb_plan_value(p, first, j), strlen(wb_plan_value(p, first, j)));
            }
            printf("}, \"coverage\": ");
            if (s->store) {
                printf("{\"words\": %zu, \"types\": ", words);
                json_num(stdout, types);
                printf(", \"tokens\": ");
                json_num(stdout, tokens);
                printf("}");
            } else {
                printf("null");
            }
            printf(", \"modes\": [");
        } else {
            printf("\n%s", label[0] ? label : "embeddings only");
            if (s->store)
                printf(" — store coverage: %.1f%% of the %zu vocabulary words, %.1f%% of running tokens", 100 * types,
                       words, 100 * tokens);
            printf("\n  %-14s %-19s %-10s %-10s %-12s %-10s %s\n", "embeddings", wb_metric_name(metric),
                   "vs base", "p (t)", "p (corr. t)", "p (Wilc.)", "folds");
        }
        for (size_t q = 0; q < gr->nmodes; q++) {
            const wb_compare_mode *m = &gr->modes[q];
            const wb_paired *t = &m->paired;
            if (c->json) {
                printf("%s{\"embeddings\": ", q ? ", " : "");
                json_str(stdout, m->mode, strlen(m->mode));
                printf(", \"config\": %zu, \"folds\": %zu, \"mean\": ", m->config, m->folds);
                json_num(stdout, m->mean);
                printf(", \"sd\": ");
                json_num(stdout, m->sd);
                printf(", \"scores\": [");
                for (size_t o = 0; o < m->folds; o++) printf("%s", o ? ", " : ""), json_num(stdout, m->scores[o]);
                printf("], \"diff\": ");
                if (m->tested) {
                    json_num(stdout, t->mean_diff);
                    printf(", \"p_t\": ");
                    json_num(stdout, t->p_t);
                    printf(", \"p_nb\": ");
                    json_num(stdout, t->p_nb);
                    printf(", \"p_wilcoxon\": ");
                    json_num(stdout, t->p_w);
                    printf(", \"wilcoxon_exact\": %s}", t->w_exact ? "true" : "false");
                } else {
                    printf("null, \"p_t\": null, \"p_nb\": null, \"p_wilcoxon\": null, \"wilcoxon_exact\": null}");
                }
                continue;
            }
            char ms[48];
            if (m->folds) snprintf(ms, sizeof ms, "%.4f ± %.4f", m->mean, m->sd);
            else snprintf(ms, sizeof ms, "-");
            printf("  %-14s %-20s ", m->mode, ms);
            if (m->tested) {
                char d1[16], p1[16], p2[16], p3[16];
                snprintf(d1, sizeof d1, "%+.4f", t->mean_diff);
                snprintf(p1, sizeof p1, "%.3g", t->p_t);
                snprintf(p2, sizeof p2, "%.3g", t->p_nb);
                snprintf(p3, sizeof p3, "%.3g%s", t->p_w, t->w_exact ? "" : "*");
                printf("%-10s %-10s %-12s %-10s ", d1, p1, p2, p3);
            } else {
                printf("%-10s %-10s %-12s %-10s ", m->is_base ? "(base)" : "-", "", "", "");
            }
            printf("%zu/%zu\n", m->folds, k);
        }
        if (c->json) printf("]}");
    }
    if (c->json) {
        printf("]}\n");
    } else {
        printf("\np (t): paired t-test over the folds; p (corr. t): the same with the Nadeau-Bengio correction for\n"
               "folds that share training data (variance x (1/k + n_test/n_train)): the one to trust with k-fold scores;\n"
               "p (Wilc.): Wilcoxon signed-rank (exact; * = normal approximation, ties or zeros), no lower than 2/2^k.\n");
    }
out:
    wb_compare_free(groups, ngroups);
    return rc;
}

static int run_compare(cli *c) {
    sctx s;
    memset(&s, 0, sizeof s);
    s.c = c;
    int rc = load_plan(&s, c->argv[0]);
    wb_trial_result **res = NULL;
    wb_triallog_stats ls;
    if (rc) goto out;
    const wb_plan *p = &s.plan;
    int metric = s.metric;
    if (cli_str(c, "metric") && (metric = wb_metric_parse(cli_str(c, "metric"))) < 0) {
        rc = cli_usage(c, "--metric must be one of acc, f1, p@1, auc, loss, not '%s'", cli_str(c, "metric"));
        goto out;
    }
    const char *base = cli_str(c, "baseline");
    if (wb_emb_mode_parse(base) < 0) {
        rc = cli_usage(c, "--baseline must be frozen|finetune|learned|multichannel, not '%s'", base);
        goto out;
    }
    size_t pe = emb_param(p);
    if (pe == SIZE_MAX) {
        cli_warn("%s: the search has no 'embeddings' parameter; search with --param "
                 "embeddings=learned,frozen,finetune,multichannel to compare them",
                 s.run_dir);
        rc = EXIT_FAIL;
        goto out;
    }
    if ((rc = read_results(&s, &res, &ls))) goto out;
    rc = print_compare(c, &s, res, metric, base, pe);
out:
    free_results(&s, res);
    sctx_free(&s);
    return rc;
}

const cli_cmd cmd_compare = {"compare", "[options] RUN_DIR",
                             "Embeddings modes of a search side by side: mean ± sd, paired tests against learned, store coverage.",
                             compare_opts, 1, 1, run_compare};
