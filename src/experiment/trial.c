/*
 * trial.c — one trial of a search (search.h, wb_trial_run): the held-out
 * examples re-encoded as if the vocabulary came from the training examples,
 * a model for the configuration, training on the trial's examples, the
 * metrics on the held-out ones.  Leaves out choosing the trial's
 * configuration (the caller) and logging it (triallog.c).
 */
#include "wordbench/search.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "wordbench/eval.h"

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* A copy of X in which every id of a held-out row that occurs in no
 * training row is 1 (OOV): the held-out examples as the vocabulary of the
 * training examples alone would encode them (ids and the num_words cut stay
 * those of the whole training part).  NULL on ENOMEM. */
static int32_t *trial_x(const wb_dataset *ds, const uint32_t *train, size_t ntrain, const uint32_t *test, size_t ntest) {
    size_t N = wb_dataset_n(ds), T = wb_dataset_maxlen(ds), V = wb_vocab_size(wb_dataset_vocab(ds));
    const int32_t *X = wb_dataset_x(ds);
    int32_t *Y = malloc(N * T * sizeof *Y);
    uint8_t *seen = calloc(V ? V : 1, 1);
    if (!Y || !seen) {
        free(Y), free(seen);
        return NULL;
    }
    memcpy(Y, X, N * T * sizeof *Y);
    for (size_t j = 0; j < ntrain; j++) {
        const int32_t *row = X + (size_t)train[j] * T;
        for (size_t t = 0; t < T; t++)
            if (row[t] >= 0 && (size_t)row[t] < V) seen[row[t]] = 1;
    }
    for (size_t j = 0; j < ntest; j++) {
        int32_t *row = Y + (size_t)test[j] * T;
        for (size_t t = 0; t < T; t++)
            if (row[t] > 1 && (size_t)row[t] < V && !seen[row[t]]) row[t] = 1;
    }
    free(seen);
    return Y;
}

/* The model configuration of a trial: the setup's architecture with the
 * data set's sizes and the store's dimension. */
static int trial_cfg(const wb_trial_env *env, const wb_trial_setup *s, wb_model_cfg *mc, wb_err *e) {
    const wb_dataset *ds = env->ds;
    *mc = s->model;
    mc->V = wb_vocab_size(wb_dataset_vocab(ds));
    mc->T = wb_dataset_maxlen(ds);
    mc->task = wb_dataset_task(ds);
    mc->C = mc->task == WB_TASK_BINARY ? 1 : wb_dataset_nlabels(ds);
    mc->seed = s->seed;
    if (mc->emb != WB_EMB_LEARNED) {
        if (!env->store)
            return wb_err_set(e, WB_EUSAGE, "--embeddings %s needs a store (--store)", wb_emb_mode_name(mc->emb));
        uint32_t dim = wb_store_info_get(env->store)->dim;
        if (mc->E && mc->E != dim)
            return wb_err_set(e, WB_EUSAGE, "--emb-dim %zu differs from the store's dimension %u", mc->E, dim);
        mc->E = dim;
    } else if (!mc->E) { /* learned rows as wide as the store's, so that modes compare fairly */
        mc->E = env->store ? wb_store_info_get(env->store)->dim : 100;
    }
    if (mc->task == WB_TASK_BINARY && wb_dataset_nlabels(ds) != 2)
        return wb_err_set(e, WB_EUSAGE, "a binary task needs two labels; the data set has %u", wb_dataset_nlabels(ds));
    if (!s->batch || !s->epochs) return wb_err_set(e, WB_EUSAGE, "epochs and batch size must be >= 1");
    return wb_model_cfg_check(mc, e);
}

/* The class weights of the setup over the training examples idx[0..n)
 * into *cw (malloc'ed, NULL without class weights) and *ncw. */
static int trial_cw(const wb_trial_env *env, const wb_trial_setup *s, const wb_model_cfg *mc, const uint32_t *idx,
                    size_t n, float **cw, size_t *ncw, wb_err *e) {
    *cw = NULL, *ncw = 0;
    if (!s->class_weights) return 0;
    if (!(*cw = malloc((mc->C + 1) * sizeof **cw))) return wb_err_set(e, WB_ENOMEM, "out of memory");
    return wb_class_weights_parse(s->class_weights, env->ds, idx, n, *cw, ncw, e);
}

int wb_trial_check(const wb_trial_env *env, const wb_trial_setup *s, wb_err *e) {
    wb_model_cfg mc;
    int rc = trial_cfg(env, s, &mc, e);
    if (rc) return rc;
    float *cw;
    size_t ncw;
    rc = trial_cw(env, s, &mc, NULL, 0, &cw, &ncw, e);
    free(cw);
    return rc;
}

int wb_trial_run(const wb_trial_env *env, const wb_trial *t, const wb_trial_setup *s, int (*should_stop)(void *),
                 void *stop_ctx, int *stopped, wb_trial_result *r, wb_err *e) {
    double t0 = now_s();
    memset(r, 0, sizeof *r);
    *stopped = 0;
    const wb_dataset *ds = env->ds;
    const uint32_t *train, *test;
    size_t ntrain, ntest;
    wb_folds_get(env->folds, t, &train, &ntrain, &test, &ntest);
    wb_model_cfg mc;
    int rc = trial_cfg(env, s, &mc, e);
    if (rc) return rc;
    int uses_store = mc.emb != WB_EMB_LEARNED;

    /* Held-out ids unseen in training become OOV.  Not needed when the
     * trial trains on the whole training part, which the vocabulary comes
     * from (holdout, refit). */
    int32_t *X = NULL;
    size_t nall;
    uint32_t *all = wb_split_indices(ds, WB_DS_TRAIN, &nall);
    free(all);
    if (nall == SIZE_MAX) return wb_err_set(e, WB_ENOMEM, "out of memory");
    if (!t->refit && ntest && ntrain != nall && !(X = trial_x(ds, train, ntrain, test, ntest)))
        return wb_err_set(e, WB_ENOMEM, "out of memory");

    wb_model *m = NULL;
    float *cw = NULL, *probs = NULL;
    wb_optim opt = s->optim;
    wb_train_result tr;
    memset(&tr, 0, sizeof tr);
    if ((rc = wb_model_create(&m, &mc, &opt, s->batch, e))) goto done;
    if (uses_store && (rc = wb_model_attach_store(m, env->store, env->rows, e))) goto done;
    size_t ncw;
    if ((rc = trial_cw(env, s, &mc, train, ntrain, &cw, &ncw, e)) || (cw && (rc = wb_model_set_class_weights(m, cw, ncw, e))))
        goto done;
    wb_train_opts to;
    wb_train_opts_init(&to);
    to.epochs = s->epochs, to.batch = s->batch, to.seed = s->seed, to.patience = s->patience;
    to.restore_best = 0;
    to.out_path = s->out_path, to.file = s->file;
    to.custom_split = 1, to.train_idx = train, to.ntrain = ntrain;
    to.val_idx = t->refit ? NULL : test, to.nval = t->refit ? 0 : ntest; /* a refit never looks at the test part */
    to.X = X;
    to.should_stop = should_stop, to.ctx = stop_ctx;
    if ((rc = wb_train_run(&m, ds, &to, &tr, e))) goto done;
    if (tr.interrupted) {
        *stopped = 1;
        goto done;
    }
    r->trial = t->index, r->config = t->config, r->outer = t->outer, r->inner = t->inner, r->refit = t->refit;
    r->ntrain = ntrain, r->ntest = ntest;
    for (int q = 0; q < WB_NMET; q++) r->metric[q] = NAN;
    if (ntest) {
        const size_t *lo;
        const uint32_t *li;
        wb_dataset_labels(ds, &lo, &li);
        probs = malloc(ntest * mc.C * sizeof *probs);
        if (!probs) {
            rc = wb_err_set(e, WB_ENOMEM, "out of memory");
            goto done;
        }
        wb_metrics vm;
        rc = wb_eval_run(m, X ? X : wb_dataset_x(ds), lo, li, test, ntest, s->batch, 1, s->threshold, &vm, probs, e);
        if (rc) goto done;
        double auc;
        if ((rc = wb_auc(mc.task, mc.C, probs, lo, li, test, ntest, &auc, NULL, e))) goto done;
        r->metric[WB_MET_ACC] = vm.acc, r->metric[WB_MET_F1] = vm.f1, r->metric[WB_MET_P1] = vm.p_at_k;
        r->metric[WB_MET_AUC] = auc, r->metric[WB_MET_LOSS] = vm.loss;
        r->metric[WB_MET_PRECISION] = vm.precision, r->metric[WB_MET_RECALL] = vm.recall;
    }
    r->epochs = tr.epochs_run;
    r->train_s = tr.train_seconds;
    r->examples_per_s = tr.train_seconds > 0 ? (double)tr.examples / tr.train_seconds : 0;
    r->history = tr.history, tr.history = NULL;
    r->wall_s = now_s() - t0;
done:
    free(tr.history);
    free(probs);
    free(cw);
    free(X);
    wb_model_destroy(m);
    return rc;
}
