/*
 * trial.c — one trial of a search (search.h, wb_trial_run): the held-out
 * examples read as if every text input's vocabulary came from the training
 * examples, a model for the configuration (every text input and the
 * numeric features of the data set, as train builds it), training on the
 * trial's examples, the metrics on the held-out ones.  Leaves out choosing the trial's
 * configuration (the caller) and logging it (triallog.c).
 */
#include "wordbench/search.h"
#include "wordbench/clock.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "wordbench/eval.h"

/* The flags of a trial's view of the ids (wb_ids.oov): 1 for every word
 * that occurs in no training row, so that the held-out examples read as the
 * vocabulary of the training examples alone would encode them (ids and the
 * num_words cut stay those of the whole training part).  The training rows
 * hold no flagged word, so one view serves training and scoring, and the
 * (mapped) matrix is shared, not copied.  NULL on ENOMEM. */
static uint8_t *trial_oov(const wb_ids *X, size_t V, const uint32_t *train, size_t ntrain) {
    size_t T = X->T;
    uint8_t *oov = malloc(V ? V : 1);
    int32_t *row = malloc((T ? T : 1) * sizeof *row);
    if (!oov || !row) {
        free(oov), free(row);
        return NULL;
    }
    memset(oov, 1, V);
    for (size_t j = 0; j < ntrain; j++) {
        wb_ids_gather(X, &train[j], 1, row);
        for (size_t t = 0; t < T; t++)
            if (row[t] >= 0 && (size_t)row[t] < V) oov[row[t]] = 0;
    }
    free(row);
    return oov;
}

/* The model configuration of a trial: the setup's architecture with the
 * data set's sizes (every text input, the features: as train) and the
 * store's dimension. */
static int trial_cfg(const wb_trial_env *env, const wb_trial_setup *s, wb_model_cfg *mc, wb_err *e) {
    *mc = s->model;
    int rc = wb_model_cfg_of_dataset(mc, env->ds, e);
    if (rc) return rc;
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
    double t0 = wb_clock_s();
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
    size_t ninp = wb_model_cfg_ninputs(&mc);

    wb_model *m = NULL;
    float *cw = NULL, *probs = NULL;
    wb_optim opt = s->optim;
    wb_train_result tr;
    memset(&tr, 0, sizeof tr);
    /* Held-out ids unseen in training become OOV, in every text input.
     * Not needed when the trial trains on the whole training part, which
     * the vocabularies come from (holdout, refit).  The features are the
     * data set's: the trainer standardises them on the trial's training
     * examples (wb_model_fit_features), as train does on its split. */
    uint8_t *oov[WB_MAX_INPUTS] = {0};
    wb_inputs in;
    wb_inputs_of_dataset(&in, ds);
    size_t nall;
    uint32_t *all = wb_split_indices(ds, WB_DS_TRAIN, &nall);
    free(all);
    if (nall == SIZE_MAX) {
        rc = wb_err_set(e, WB_ENOMEM, "out of memory");
        goto done;
    }
    for (size_t k = 0; k < ninp && k < in.ninputs && !t->refit && ntest && ntrain != nall; k++) {
        if (!in.X[k].data) continue; /* no id matrix (maxlen 0) */
        size_t V = wb_model_cfg_V(&mc, k);
        if (!(oov[k] = trial_oov(&in.X[k], V, train, ntrain))) {
            rc = wb_err_set(e, WB_ENOMEM, "out of memory");
            goto done;
        }
        in.X[k].oov = oov[k], in.X[k].noov = V;
    }

    if ((rc = wb_model_create(&m, &mc, &opt, s->batch, e))) goto done;
    for (size_t k = 0; uses_store && k < ninp; k++)
        if ((rc = wb_model_attach_input(m, k, env->store, env->rows[k], e))) goto done;
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
    to.inputs = &in;
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
        rc = wb_eval_inputs(m, &in, lo, li, test, ntest, s->batch, 1, s->threshold, &vm, probs, e);
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
    r->wall_s = wb_clock_s() - t0;
done:
    free(tr.history);
    free(probs);
    free(cw);
    wb_model_destroy(m);
    for (size_t k = 0; k < WB_MAX_INPUTS; k++) free(oov[k]);
    return rc;
}
