/*
 * wordbench/search.h — experiments made of many trainings over one cached
 * data set and one store: a hyper-parameter search (grid or random) as a
 * fixed list of trials (configuration × fold), k-fold / nested / holdout
 * validation, one trial's training and scoring, worker processes that run
 * trials side by side, and the results table.
 *
 * Parameters ("NAME=SPEC", wb_param_parse).  NAME is the long name of a
 * training option (the front end checks it); SPEC is one of
 *   V1,V2,...        a list of values;
 *   V1:V2:...        a list whose values contain commas (widths=3,4,5:5 is
 *                    the two values "3,4,5" and "5"): a SPEC holding ':'
 *                    and no ".." is split at ':' only;
 *   LO..HI           a range, drawn uniformly (random search only); an
 *                    integer range when LO and HI are both integers
 *                    (filters=50..200), else a real one (dropout=0.2..0.6);
 *   LO..HI:log       drawn log-uniformly (lr=1e-4..1e-2:log), LO > 0.
 * Values are strings handed to the front end's option parser, so anything
 * an option accepts works as a value; drawn reals are written with %.4g,
 * integers in decimal.
 *
 * Configurations.  Grid (every parameter a list): the Cartesian product in
 * the order the parameters were given, the last varying fastest.  Random
 * (n_iter configurations): configuration i draws every parameter from a
 * generator seeded by the i-th output of one seeded by the plan's seed: a
 * list by a uniform index, a range as above.  When every parameter is a list, random search samples n_iter
 * distinct grid points (all of them when the grid is no larger), as
 * scikit-learn's ParameterSampler does.  A plan with no parameter has one
 * configuration (the fixed part alone).
 *
 * Validation schemes (wb_plan.k, .k2):
 *   k >= 2, k2 = 0   k-fold cross-validation over the training part of the
 *                    data set (split WB_DS_TRAIN): folds from wb_split_kfold
 *                    with the plan's split mode (per-class stratified for
 *                    single-label tasks, iterative for multi-label), seeded
 *                    by the plan seed; the same folds for every
 *                    configuration, so scores pair up fold by fold.
 *   k >= 2, k2 >= 2  nested cross-validation (scikit-learn's user guide):
 *                    for every outer fold o, an inner k2-fold search over
 *                    the other outer folds picks a configuration, which is
 *                    scored on fold o.  The trial list holds every
 *                    configuration on every outer fold as well as the
 *                    inner trials, so the list is fixed before anything
 *                    runs and the plain k-fold table comes for free (the
 *                    nested estimate is reported beside it).
 *   k = 0            holdout: train on the training part, score on the
 *                    valid part (WB_DS_VALID, the --valid file), as
 *                    fastText's -autotune-validation.
 * In every scheme a trial validates on the examples it is scored on (the
 * history's val_* figures; early stopping when the fixed part asks for
 * patience), its model is the last epoch's (no restore-best), and the
 * vocabulary is the data set's, built from the whole training part; ids of
 * words that occur in none of a trial's training examples are read as OOV
 * (id 1) in its held-out examples, so a held-out fold is encoded as if the
 * vocabulary had been built from the training folds.
 *
 * Trials.  Trial t of a plan is (configuration, outer fold, inner fold):
 * configuration-major, so a configuration's folds finish together; within a
 * configuration the k outer trials come first, then (nested) the k·k2
 * inner ones (outer fold o, inner fold i).  With refit the last trial
 * retrains the best configuration (rank 1 of the table) on the whole
 * training part and scores it on the test part (WB_DS_TEST) when there is
 * one; which configuration that is, is decided when it runs.
 *
 * The plan file (RUN_DIR/plan.json) is one JSON object: "wordbench_plan"
 * (the format version, 1), the settings, "args" (the fixed part: the front
 * end's option arguments), "params" (name and spec), "configs" (values,
 * one array per configuration), and last "check": XXH3-64 (16 hex digits)
 * of every byte before ", \"check\"".  That checksum is the plan's id: it
 * is written into every trial log line, so a log is never read against
 * another plan.  Written atomically (temporary file, fsync, rename).
 *
 * Workers (wb_search_workers): jobs processes forked from the caller, so
 * they share, copy-on-write, everything the caller built before (data sets,
 * folds, the mapped store, the store rows of the vocabulary; no LMDB call
 * is needed in a worker).  Each claims the next pending trial from a
 * counter in shared memory, runs it through the caller's function, appends
 * its line to the trial log (triallog.h) and claims again.  A deadline
 * (time budget) stops the trials running at that moment (they are not
 * logged and run again next time); the caller's stop flag does the same.
 *
 * Errors: WB_EUSAGE (bad parameter or plan settings: the message says
 * which), WB_EFORMAT / WB_ECORRUPT / WB_EVERSION (a plan file that is not
 * one: file and byte offset), WB_ENOMEM, positive errno; a worker's failure
 * is reported with the trial it was running.
 *
 * Threads: none of our own; one trial uses OpenBLAS with the plan's thread
 * count (set by the caller in each worker).  Deliberately not here: the
 * front end's options (the plan stores them as text), Bayesian or
 * successive-halving search, several stores per search.
 */
#ifndef WORDBENCH_SEARCH_H
#define WORDBENCH_SEARCH_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include "wordbench/dataset.h"
#include "wordbench/err.h"
#include "wordbench/model.h"
#include "wordbench/optim.h"
#include "wordbench/stats.h"
#include "wordbench/store.h"
#include "wordbench/train.h"

#ifdef __cplusplus
extern "C" {
#endif

#define WB_PLAN_VERSION 1u

/* ---- parameters ------------------------------------------------------------ */

typedef enum wb_param_kind {
    WB_PARAM_LIST = 0,   /* values[0..nvalues) */
    WB_PARAM_REAL,       /* uniform in [lo, hi] */
    WB_PARAM_REAL_LOG,   /* log-uniform in [lo, hi] */
    WB_PARAM_INT,        /* uniform integer in [lo, hi] */
    WB_PARAM_INT_LOG     /* log-uniform integer in [lo, hi] */
} wb_param_kind;

/* One searched option.  Invariants: name is non-empty and holds no '=' or
 * whitespace; a list has >= 1 values, none empty or holding a tab,
 * newline or NUL; a range has finite lo <= hi (lo > 0 for the log kinds,
 * integral bounds for the integer kinds). */
typedef struct wb_param {
    char *name;          /* option name, owned */
    char *spec;          /* SPEC as given, owned */
    wb_param_kind kind;
    char **values;       /* list values, owned */
    size_t nvalues;
    double lo, hi;       /* range bounds */
} wb_param;

/* Parse "NAME=SPEC" (file comment) into *p (free with wb_param_free).
 * Returns 0, WB_EUSAGE naming what is wrong, WB_ENOMEM. */
int wb_param_parse(const char *text, wb_param *p, wb_err *e);
void wb_param_free(wb_param *p);

/* ---- the plan ---------------------------------------------------------------- */

typedef struct wb_plan {
    int random;          /* 0 grid, 1 random search */
    uint64_t seed;       /* sampling and folds */
    size_t n_iter;       /* random: configurations asked for */
    size_t k;            /* outer folds; 0 = holdout */
    size_t k2;           /* inner folds (nested), 0 = none */
    int split_mode;      /* WB_SPLIT_* for the folds */
    char metric[16];     /* "acc", "f1", "p@1", "auc" or "loss": ranks the table */
    size_t threads;      /* OpenBLAS threads of one trial */
    int refit;           /* 1: the last trial refits the best configuration */
    char **args;         /* (nargs) the fixed part, owned */
    size_t nargs;
    wb_param *params;    /* (nparams), owned */
    size_t nparams;
    char **values;       /* (nconfigs × nparams) configuration values, owned */
    size_t nconfigs;
    uint64_t id;         /* checksum of the plan file (set by save and load) */
} wb_plan;

/* Settings of a new plan. */
typedef struct wb_plan_opts {
    int random;              /* random search (else grid) */
    uint64_t seed;
    size_t n_iter;           /* random: >= 1 */
    size_t k, k2;            /* as in wb_plan */
    int split_mode;
    const char *metric;      /* one of the metric names */
    size_t threads;          /* >= 1 */
    int refit;
    const char *const *args; /* the fixed part (copied) */
    size_t nargs;
    wb_param *params;        /* moved into the plan: o->params becomes NULL (and
                                the caller no longer frees them) once the
                                settings have passed their checks */
    size_t nparams;
} wb_plan_opts;

/* Make the configurations.  Errors (WB_EUSAGE): grid search with a range
 * parameter, the same name twice, k == 1, k2 == 1, k2 without k, unknown
 * metric, n_iter 0 in random search, a grid of more than 1,000,000
 * configurations.  On failure the plan is empty (wb_plan_free safe). */
int wb_plan_create(wb_plan *p, wb_plan_opts *o, wb_err *e);
void wb_plan_free(wb_plan *p);

/* Value of parameter j in configuration c (borrowed). */
static inline const char *wb_plan_value(const wb_plan *p, size_t c, size_t j) {
    return p->values[c * p->nparams + j];
}

/* Write RUN_DIR/plan.json (dir must exist) and set p->id.  Returns 0 or
 * errno / WB_ENOMEM (e names the file). */
int wb_plan_save(wb_plan *p, const char *dir, wb_err *e);

/* The plan file's bytes as wb_plan_save would write them, and its id,
 * without writing (to compare a new search with the one in RUN_DIR). */
int wb_plan_text(const wb_plan *p, char **text, size_t *len, uint64_t *id);

/* Read RUN_DIR/plan.json.  Returns 0, ENOENT when there is none, WB_ECORRUPT
 * (checksum), WB_EVERSION, WB_EFORMAT (anything else: e has the byte
 * offset), WB_ENOMEM. */
int wb_plan_load(wb_plan *p, const char *dir, wb_err *e);

/* One trial of the plan. */
typedef struct wb_trial {
    size_t index;        /* 0 .. wb_plan_ntrials - 1 */
    size_t config;       /* configuration (refit: SIZE_MAX, chosen when it runs) */
    int outer;           /* outer fold (holdout: 0; refit: -1) */
    int inner;           /* inner fold (nested), else -1 */
    int refit;           /* 1: the refit trial */
} wb_trial;

/* Trials per configuration: k (holdout 1), plus k·k2 when nested. */
size_t wb_plan_per_config(const wb_plan *p);
/* All trials: nconfigs × per_config, + 1 with refit. */
size_t wb_plan_ntrials(const wb_plan *p);
/* Decode trial t (< wb_plan_ntrials). */
void wb_plan_trial(const wb_plan *p, size_t t, wb_trial *out);

/* ---- folds ---------------------------------------------------------------------- */

/* The example sets of every trial of a plan on one data set: computed once
 * (k-fold splits are cheap but iterative stratification of a multi-label
 * set is not free), then read by any number of trials.  Immutable after
 * creation; share it between processes by creating it before forking. */
typedef struct wb_folds wb_folds;

/* Errors: WB_EUSAGE (fewer training examples than folds, no training
 * examples, holdout without valid examples: the message says which),
 * WB_ENOMEM, the split module's errors. */
int wb_folds_create(wb_folds **out, const wb_plan *p, const wb_dataset *ds, wb_err *e);
void wb_folds_destroy(wb_folds *f);

/* Borrowed training and held-out example indices of a trial (sorted):
 * cv: the other outer folds / fold o; nested inner: the inner folds other
 * than i / inner fold i, both within the outer training part of o; holdout:
 * the training part / the valid part; refit: the training part / the test
 * part (possibly empty).  Valid until wb_folds_destroy. */
void wb_folds_get(const wb_folds *f, const wb_trial *t, const uint32_t **train, size_t *ntrain,
                  const uint32_t **test, size_t *ntest);

/* ---- one trial ------------------------------------------------------------------- */

/* Metrics of a trial, in this order everywhere (log, table, JSON). */
enum { WB_MET_ACC = 0, WB_MET_F1, WB_MET_P1, WB_MET_AUC, WB_MET_LOSS, WB_MET_PRECISION, WB_MET_RECALL, WB_NMET };

/* "acc" "f1" "p@1" "auc" "loss" "precision" "recall"; and back (-1). */
const char *wb_metric_name(int m);
int wb_metric_parse(const char *name);
/* 1 when larger is better (every metric but loss). */
int wb_metric_higher_better(int m);

/* What a trial reports (also one trial log line, triallog.h). */
typedef struct wb_trial_result {
    size_t trial;            /* index in the plan */
    size_t config;           /* configuration trained (refit: the one chosen) */
    int outer, inner, refit; /* as in wb_trial */
    size_t ntrain, ntest;    /* examples trained on / scored */
    double metric[WB_NMET];  /* on the held-out examples; NaN when undefined or ntest = 0 */
    size_t epochs;           /* epochs run */
    double train_s;          /* training steps' wall time (train.h) */
    double wall_s;           /* the whole trial */
    double examples_per_s;   /* training examples / train_s */
    wb_epoch *history;       /* (epochs) per epoch, owned (free) */
} wb_trial_result;

void wb_trial_result_free(wb_trial_result *r);

/* What a trial trains: the architecture and training options of the fixed
 * part with the configuration's values applied (the front end parses them).
 * The data set decides the inputs, as for train: one text input, or one
 * per text column (wb_dataset_ninputs), and its numeric features, which
 * every trial standardises on its own training examples; the held-out
 * examples of every text input read words unseen in them as OOV. */
typedef struct wb_trial_setup {
    wb_model_cfg model;   /* kind, emb, oov, E (0: the store's dimension, also for learned
                             rows when there is a store; else 100), F, widths, H,
                             dropout, maxnorm, feat_dense; V, T, C, task, the inputs,
                             nfeat and seed are set by the runner
                             (wb_model_cfg_of_dataset) */
    wb_optim optim;
    size_t epochs, batch, patience;
    uint64_t seed;        /* initialisation, shuffling, dropout */
    const char *class_weights; /* NULL or a wb_class_weights_parse spec; "balanced" counts the
                                  trial's training examples; saved in the refit's model file */
    float threshold;      /* sigmoid threshold of acc / F1 (0.5) */
    const char *out_path; /* refit: the model file to write, else NULL */
    const wb_model_file *file; /* refit: meta, vocabulary, fingerprint of that file */
} wb_trial_setup;

/* What trials share: the data set, its folds, the store and the store row
 * of every vocabulary id of each text input (NULL without a store; learned
 * embeddings ignore them).  Borrowed. */
typedef struct wb_trial_env {
    const wb_dataset *ds;
    const wb_folds *folds;
    wb_store *store;
    const int64_t *rows[WB_MAX_INPUTS]; /* [k]: (V_k) store rows of text input k's ids */
} wb_trial_env;

/* Check that the setup fits the environment (the checks wb_trial_run makes
 * before training: a store for the embeddings mode, its dimension, the
 * model configuration with the data set's sizes, the class weights).
 * Returns 0, WB_EUSAGE with the reason, or wb_class_weights_parse's errors
 * (a weights file: errno, WB_EFORMAT at FILE:line). */
int wb_trial_check(const wb_trial_env *env, const wb_trial_setup *s, wb_err *e);

/* Run trial t (t->config must be a configuration: the caller resolves the
 * refit's): train on its training examples, validate and score on its
 * held-out ones.  should_stop (may be NULL) is polled between minibatches;
 * when it says stop, *stopped = 1 and the result is not filled.  Returns 0,
 * WB_EUSAGE (a model configuration that does not fit the data, e.g. a
 * width > maxlen: the message says which), the trainer's and evaluator's
 * errors. */
int wb_trial_run(const wb_trial_env *env, const wb_trial *t, const wb_trial_setup *s,
                 int (*should_stop)(void *), void *stop_ctx, int *stopped, wb_trial_result *r, wb_err *e);

/* ---- results ---------------------------------------------------------------------- */

/* One row of the table: a configuration's outer trials. */
typedef struct wb_table_row {
    size_t config;
    size_t folds;            /* outer trials with a result */
    size_t expected;         /* outer trials in the plan (k, holdout 1) */
    double mean[WB_NMET];    /* over those trials (NaN-free means: NaN folds are skipped) */
    double sd[WB_NMET];      /* sample standard deviation */
    double train_s;          /* mean training time of a trial */
    double examples_per_s;   /* mean training speed */
    size_t rank;             /* 1-based among complete rows; 0 = incomplete */
} wb_table_row;

/* Rows of every configuration that has at least one outer result, sorted:
 * complete rows by the metric's mean (best first; ties by configuration),
 * then incomplete ones by configuration.  res is indexed by trial (NULL =
 * no result), length wb_plan_ntrials.  *rows is malloc'ed (free).  Returns
 * 0 or WB_ENOMEM. */
int wb_search_table(const wb_plan *p, wb_trial_result *const *res, int metric, wb_table_row **rows, size_t *nrows,
                    wb_err *e);

/* The configuration of the best complete row, or SIZE_MAX when none is
 * complete. */
size_t wb_search_best(const wb_plan *p, wb_trial_result *const *res, int metric);

/* Nested cross-validation, outer fold o. */
typedef struct wb_nested_fold {
    int complete;            /* every inner trial and the chosen outer trial have results */
    size_t config;           /* the configuration the inner search chose (best inner mean) */
    double inner_mean;       /* its mean inner score */
    double score;            /* its score on outer fold o (the metric) */
} wb_nested_fold;

/* Fill out[0..k) for a nested plan.  Returns the number of complete outer
 * folds. */
size_t wb_search_nested(const wb_plan *p, wb_trial_result *const *res, int metric, wb_nested_fold *out);

/* ---- embeddings modes compared (wordbench compare, the report) ------------------------ */

/* The index of parameter `name` in the plan, or SIZE_MAX. */
size_t wb_plan_param_index(const wb_plan *p, const char *name);

/* One configuration of a compare group. */
typedef struct wb_compare_mode {
    size_t config;
    const char *mode;        /* its value of the compared parameter (the plan's string) */
    size_t folds;            /* outer trials with a result */
    double mean, sd;         /* of the metric over them (wb_stats_mean, wb_stats_sd) */
    const double *scores;    /* (folds) the metric of those trials in fold order (the group's) */
    int is_base;             /* the baseline's configuration */
    int tested;              /* 1: it and the baseline have all k folds and it is not the
                                baseline: `paired` holds it against the baseline fold by fold */
    wb_paired paired;        /* wb_stats_paired(its scores, the baseline's, k, 1/(k-1)) */
} wb_compare_mode;

/* Configurations that differ only in the compared parameter. */
typedef struct wb_compare_group {
    size_t first;            /* its first configuration (the other parameters' values) */
    size_t base;             /* the baseline's configuration, or SIZE_MAX when the group has none */
    wb_compare_mode *modes;  /* (nmodes) in configuration order, owned */
    size_t nmodes;
    double *scores;          /* storage of the modes' scores, owned */
} wb_compare_group;

/* Group the configurations by every parameter but pe (groups in order of
 * their first configuration) and compare each configuration's metric with
 * the configuration of its group whose value of pe is `base`: the paired
 * t-test, the Nadeau-Bengio corrected one (n_test/n_train = 1/(k-1); 0
 * for a holdout) and Wilcoxon's (stats.h).  *groups is malloc'ed (free with
 * wb_compare_free).  Returns 0, WB_EUSAGE (pe out of range) or
 * WB_ENOMEM. */
int wb_search_compare(const wb_plan *p, wb_trial_result *const *res, int metric, size_t pe, const char *base,
                      wb_compare_group **groups, size_t *ngroups, wb_err *e);
void wb_compare_free(wb_compare_group *g, size_t n);

/* ---- workers ------------------------------------------------------------------------- */

/* Runs trial `trial` in a worker; fills r (its history owned by r).  A
 * return of 0 with *stopped = 1 means interrupted (not logged). */
typedef int (*wb_trial_fn)(void *ctx, size_t trial, int (*should_stop)(void *), void *stop_ctx, int *stopped,
                           wb_trial_result *r, wb_err *e);

typedef struct wb_workers_opts {
    size_t jobs;                 /* worker processes, >= 1 */
    double deadline;             /* CLOCK_MONOTONIC seconds; 0 = none */
    const char *log_path;        /* the trial log the workers append to */
    uint64_t plan_id;
    volatile sig_atomic_t *stop; /* the caller's stop flag (signal handler), or NULL */
    /* Called in the parent every ~0.2 s and when a trial ends (may be NULL). */
    void (*progress)(void *ctx, size_t done, size_t running, size_t total);
    void *progress_ctx;
} wb_workers_opts;

typedef struct wb_workers_stats {
    size_t done;                 /* trials logged */
    size_t stopped;              /* trials stopped by the deadline or the stop flag */
    int timed_out;               /* the deadline passed */
    int interrupted;             /* the stop flag was set */
} wb_workers_stats;

/* Run trials[0..n) in o->jobs forked workers (file comment).  Returns 0
 * when every trial was logged or stopped; else the first failure: the
 * trial function's code with e naming the trial, errno of the log, or
 * WB_EIO when a worker died (e says how: signal or exit status).  The
 * other workers are stopped at their next minibatch. */
int wb_search_workers(const size_t *trials, size_t n, const wb_workers_opts *o, wb_trial_fn fn, void *ctx,
                      wb_workers_stats *st, wb_err *e);

#ifdef __cplusplus
}
#endif
#endif /* WORDBENCH_SEARCH_H */
