/*
 * train.c — the training loop of train.h: epochs of shuffled minibatches,
 * validation, early stopping, checkpoints, exact resume.
 *
 * Leaves out: learning-rate schedules, gradient accumulation, mid-epoch
 * checkpoints (the threads of a step are the model's: lanes.c).
 */
#include "wordbench/train.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <xxhash.h>

#include "base/fileio.h"
#include "wordbench/clock.h"
#include "wordbench/eval.h"
#include "wordbench/split.h"
#include "wordbench/store.h"

void wb_train_opts_init(wb_train_opts *o) {
    memset(o, 0, sizeof *o);
    o->epochs = 10;
    o->batch = 32;
    o->seed = 1;
    o->restore_best = 1;
}

uint32_t *wb_split_indices(const wb_dataset *ds, int split, size_t *n) {
    size_t N = wb_dataset_n(ds), k = 0;
    const uint8_t *sp = wb_dataset_split(ds);
    for (size_t i = 0; i < N; i++) k += sp[i] == split;
    *n = 0;
    if (!k) return NULL;
    uint32_t *idx = malloc(k * sizeof *idx);
    if (!idx) {
        *n = SIZE_MAX;
        return NULL;
    }
    for (size_t i = 0, j = 0; i < N; i++)
        if (sp[i] == split) idx[j++] = (uint32_t)i;
    *n = k;
    return idx;
}

/* Trainer state: "key value" lines, then one "h ..." line per epoch.  The
 * run's options (batch ... data) are absent from checkpoints written before
 * they were recorded: has_opts says whether they were read. */
typedef struct tstate {
    size_t epoch, best_epoch, bad;
    double best;
    wb_epoch *hist;
    size_t nhist, cap;
    int has_opts;
    uint64_t batch, seed, patience, cw, data; /* cw, data: XXH3 of the class weights (0 = none), of the training examples */
    uint64_t threads;        /* lanes of the steps (0: a checkpoint from before lanes) */
} tstate;

static int hist_push(tstate *s, const wb_epoch *ep) {
    if (s->nhist == s->cap) {
        size_t cap = s->cap ? 2 * s->cap : 16;
        wb_epoch *h = realloc(s->hist, cap * sizeof *h);
        if (!h) return -1;
        s->hist = h, s->cap = cap;
    }
    s->hist[s->nhist++] = *ep;
    return 0;
}

static char *tstate_text(const tstate *s, size_t *len) {
    size_t cap = 256 + s->nhist * 200, n = 0;
    char *b = malloc(cap);
    if (!b) return NULL;
    n += (size_t)snprintf(b + n, cap - n, "epoch %zu\nbest %.17g\nbest_epoch %zu\nbad %zu\n", s->epoch, s->best,
                          s->best_epoch, s->bad);
    n += (size_t)snprintf(b + n, cap - n, "batch %" PRIu64 "\nseed %" PRIu64 "\npatience %" PRIu64 "\ncw %016" PRIx64
                          "\ndata %016" PRIx64 "\n", s->batch, s->seed, s->patience, s->cw, s->data);
    n += (size_t)snprintf(b + n, cap - n, "threads %" PRIu64 "\n", s->threads);
    for (size_t i = 0; i < s->nhist; i++) {
        const wb_epoch *h = &s->hist[i];
        n += (size_t)snprintf(b + n, cap - n, "h %zu %.17g %.17g %d %.17g %.17g %.17g %zu %.17g\n", h->epoch, h->loss,
                              h->acc, h->has_val, h->val_loss, h->val_acc, h->seconds, h->examples, h->val_r1);
    }
    *len = n;
    return b;
}

static int tstate_parse(tstate *s, const char *t, size_t len) {
    char *buf = malloc(len + 1);
    if (!buf) return -1;
    memcpy(buf, t, len);
    buf[len] = 0;
    int ok = sscanf(buf, "epoch %zu\nbest %lf\nbest_epoch %zu\nbad %zu\n", &s->epoch, &s->best, &s->best_epoch,
                    &s->bad) == 4;
    const char *o = strstr(buf, "\nbatch ");
    s->has_opts = o && sscanf(o, "\nbatch %" SCNu64 "\nseed %" SCNu64 "\npatience %" SCNu64 "\ncw %" SCNx64
                                 "\ndata %" SCNx64, &s->batch, &s->seed, &s->patience, &s->cw, &s->data) == 5;
    const char *th = strstr(buf, "\nthreads ");
    if (!th || sscanf(th, "\nthreads %" SCNu64, &s->threads) != 1) s->threads = 0;
    for (char *p = strstr(buf, "\nh "); ok && p; p = strstr(p + 1, "\nh ")) {
        wb_epoch h;
        memset(&h, 0, sizeof h);
        /* 8 fields in checkpoints written before val_r1 was recorded */
        if (sscanf(p + 3, "%zu %lf %lf %d %lf %lf %lf %zu %lf", &h.epoch, &h.loss, &h.acc, &h.has_val, &h.val_loss,
                   &h.val_acc, &h.seconds, &h.examples, &h.val_r1) < 8 || hist_push(s, &h))
            ok = 0;
    }
    free(buf);
    return ok && s->nhist == s->epoch ? 0 : -1;
}

static void note(const wb_train_opts *o, int warning, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void note(const wb_train_opts *o, int warning, const char *fmt, ...) {
    if (!o->note) return;
    char msg[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    o->note(o->ctx, warning, msg);
}

/* XXH3 of the training examples in split order (rows tr; NULL: rows
 * 0..ntr-1): their ids of input 0 as int32 and their label sets, then
 * (several inputs, features) the other inputs' ids and the features; 0
 * when out of memory (then nothing is compared).  A pass over the training
 * rows of the mapped data set, so it is made only when needed (a resume,
 * the first checkpoint), not before the first step. */
static uint64_t data_hash(const wb_inputs *in, const size_t *loff, const uint32_t *lids, const uint32_t *tr, size_t ntr) {
    enum { BLOCK = 256 };
    size_t Tmax = 1;
    for (size_t k = 0; k < in->ninputs; k++) Tmax = in->X[k].T > Tmax ? in->X[k].T : Tmax;
    XXH3_state_t *h = XXH3_createState();
    int32_t *x = malloc(BLOCK * Tmax * sizeof *x);
    uint32_t rows[BLOCK];
    if (!h || !x) {
        free(x);
        XXH3_freeState(h);
        return 0;
    }
    XXH3_64bits_reset(h);
    for (size_t k = 0; k < in->ninputs; k++) {
        size_t T = in->X[k].T;
        for (size_t s = 0; s < ntr; s += BLOCK) {
            size_t b = ntr - s < BLOCK ? ntr - s : BLOCK;
            for (size_t j = 0; j < b; j++) rows[j] = tr ? tr[s + j] : (uint32_t)(s + j);
            wb_ids_gather(&in->X[k], rows, b, x);
            for (size_t j = 0; j < b; j++) {
                XXH3_64bits_update(h, x + j * T, T * sizeof *x);
                if (k) continue; /* the label sets go with input 0 */
                uint64_t nl = loff[rows[j] + 1] - loff[rows[j]];
                XXH3_64bits_update(h, &nl, sizeof nl);
                XXH3_64bits_update(h, lids + loff[rows[j]], nl * sizeof *lids);
            }
        }
    }
    for (size_t i = 0; in->feat && i < ntr; i++)
        XXH3_64bits_update(h, in->feat + (size_t)(tr ? tr[i] : i) * in->nfeat, in->nfeat * sizeof *in->feat);
    uint64_t d = XXH3_64bits_digest(h);
    XXH3_freeState(h);
    free(x);
    return d ? d : 1;
}

/* A list of "name A (checkpoint: B)" items. */
typedef struct difflist {
    char s[1536];
    size_t n;
    int count;
} difflist;

/* An item "name now (checkpoint: was)" when now and was differ; with now
 * NULL, the item is `name` alone. */
static void diff_add(difflist *d, const char *name, const char *now, const char *was) {
    if ((now && !strcmp(now, was)) || d->n >= sizeof d->s - 1) return;
    int k = now ? snprintf(d->s + d->n, sizeof d->s - d->n, "%s%s %s (checkpoint: %s)", d->count ? ", " : "", name, now, was)
                : snprintf(d->s + d->n, sizeof d->s - d->n, "%s%s", d->count ? ", " : "", name);
    if (k > 0) d->n = d->n + (size_t)k < sizeof d->s ? d->n + (size_t)k : sizeof d->s - 1;
    d->count++;
}

static void diff_u(difflist *d, const char *name, uint64_t now, uint64_t was) {
    char a[32], b[32];
    snprintf(a, sizeof a, "%" PRIu64, now), snprintf(b, sizeof b, "%" PRIu64, was);
    diff_add(d, name, a, b);
}

static void diff_f(difflist *d, const char *name, double now, double was) {
    char a[32], b[32];
    snprintf(a, sizeof a, "%g", now), snprintf(b, sizeof b, "%g", was);
    diff_add(d, name, a, b);
}

static void widths_text(const wb_model_cfg *c, char *out, size_t cap) {
    size_t n = 0;
    out[0] = 0;
    for (size_t i = 0; i < c->nwidths && n < cap; i++) {
        int k = snprintf(out + n, cap - n, "%s%zu", i ? "," : "", c->widths[i]);
        if (k < 0) break;
        n += (size_t)k;
    }
}

/* Options that fix the shapes or the computation: any difference means the
 * checkpoint is of another model. */
static void diff_model(difflist *d, const wb_model_cfg *a, const wb_model_cfg *b, const wb_optim *oa, const wb_optim *ob) {
    diff_add(d, "model", wb_model_kind_name(a->kind), wb_model_kind_name(b->kind));
    diff_add(d, "embeddings", wb_emb_mode_name(a->emb), wb_emb_mode_name(b->emb));
    diff_add(d, "oov", wb_oov_mode_name(a->oov), wb_oov_mode_name(b->oov));
    diff_add(d, "task", wb_task_name(a->task), wb_task_name(b->task));
    diff_u(d, "labels", a->C, b->C);
    diff_u(d, "vocabulary size", a->V, b->V);
    diff_u(d, "emb-dim", a->E, b->E);
    diff_u(d, "maxlen", a->T, b->T);
    if (a->kind == b->kind && (a->kind == WB_MODEL_TUTORIAL || a->kind == WB_MODEL_KIM)) {
        char wa[128], wb[128];
        widths_text(a, wa, sizeof wa), widths_text(b, wb, sizeof wb);
        diff_u(d, "filters", a->F, b->F);
        diff_add(d, "widths", wa, wb);
    }
    diff_u(d, "hidden", a->H, b->H);
    diff_f(d, "dropout", a->dropout, b->dropout);
    diff_f(d, "max-norm", a->maxnorm, b->maxnorm);
    diff_add(d, "optimizer", wb_optim_name(oa->kind), wb_optim_name(ob->kind));
}

/* Replace *mp by the checkpoint's model and fill st, or leave both when
 * mode is WB_RESUME_IF_ANY and there is no checkpoint (*resumed = 0). */
static int resume_load(wb_model **mp, const wb_train_opts *o, tstate *st, uint64_t cw,
                       uint64_t data, int *resumed, wb_err *e) {
    *resumed = 0;
    wb_model *m = *mp, *nm = NULL;
    wb_model_file f;
    void *blob = NULL;
    if (access(o->ckpt_path, F_OK) && errno == ENOENT) {
        if (o->resume == WB_RESUME_REQUIRE)
            return wb_err_at(e, ENOENT, o->ckpt_path, 0, -1, "no checkpoint to resume from (resume required)");
        note(o, 0, "no checkpoint %s yet: starting at epoch 1", o->ckpt_path);
        return 0;
    }
    int rc = wb_model_load_ex(&nm, o->ckpt_path, o->batch, o->max_memory, &f, &blob, e);
    if (rc) return rc;
    if (!f.trainer || !f.with_optimizer || tstate_parse(st, f.trainer, f.trainer_len)) {
        rc = wb_err_at(e, WB_ECORRUPT, o->ckpt_path, 0, -1, "not a checkpoint (trainer or optimizer state missing)");
        goto fail;
    }
    const wb_model_cfg *a = wb_model_cfg_get(m), *b = wb_model_cfg_get(nm);
    wb_optim *oa = wb_model_optim(m), *ob = wb_model_optim(nm);
    difflist d = {.n = 0};
    diff_model(&d, a, b, oa, ob);
    if (d.count) {
        rc = wb_err_at(e, WB_EUSAGE, o->ckpt_path, 0, -1,
                       "a checkpoint of another model: %s; resume with the checkpoint's options, or train without "
                       "--resume to start over",
                       d.s);
        goto fail;
    }
    if ((rc = wb_model_adopt_store(nm, m, e))) goto fail;
    /* Options that change the results: the run goes on with the new ones. */
    difflist w = {.n = 0};
    diff_f(&w, "lr", oa->lr, ob->lr);
    diff_f(&w, "momentum", oa->momentum, ob->momentum);
    diff_f(&w, "l2", oa->l2, ob->l2);
    diff_f(&w, "clipnorm", oa->clipnorm, ob->clipnorm);
    diff_f(&w, "clipvalue", oa->clipvalue, ob->clipvalue);
    if (oa->kind == WB_OPT_ADAM && oa->adam != ob->adam) diff_add(&w, "adam", wb_adam_mode_name(oa->adam), wb_adam_mode_name(ob->adam));
    if (st->has_opts) {
        diff_u(&w, "batch-size", o->batch, st->batch);
        diff_u(&w, "seed", o->seed, st->seed);
        diff_u(&w, "patience", o->patience, st->patience);
        if (st->threads) diff_u(&w, "threads", o->threads ? o->threads : 1, st->threads);
        if (!cw != !st->cw) diff_add(&w, "class-weights", cw ? "set" : "none", st->cw ? "set" : "none");
        else if (cw != st->cw) diff_add(&w, "class-weights (other values)", NULL, NULL);
        if (data && st->data && data != st->data)
            diff_add(&w, "the training examples (another file, split or preprocessing)", NULL, NULL);
    }
    if (w.count)
        note(o, 1, "%s differ%s from the checkpoint %s: %s; the run continues with the new value%s and will not "
                   "match an uninterrupted run",
             w.count > 1 ? "options that change the results" : "an option that changes the results", w.count > 1 ? "" : "s",
             o->ckpt_path, w.s, w.count > 1 ? "s" : "");
    uint64_t t = ob->t;
    *ob = *oa;
    ob->t = t;
    free(blob);
    wb_model_destroy(m);
    *mp = nm;
    *resumed = 1;
    return 0;
fail:
    free(blob);
    wb_model_destroy(nm);
    return rc;
}

static uint64_t mix(uint64_t seed, uint64_t a, uint64_t b) {
    return seed * 0x9E3779B97F4A7C15ull + a * 0xBF58476D1CE4E5B9ull + b * 0x94D049BB133111EBull;
}

/* Epoch ep's order of the training examples tr[0..ntr) (NULL: 0..ntr-1) into perm. */
static void epoch_order(uint64_t seed, size_t ep, const uint32_t *tr, uint32_t *perm, size_t ntr) {
    wb_rng shuf;
    wb_rng_init(&shuf, mix(seed, ep, 1));
    wb_rng_permutation(&shuf, perm, (uint32_t)ntr);
    if (tr)
        for (size_t i = 0; i < ntr; i++) perm[i] = tr[perm[i]];
}

int wb_train_prefetch(wb_store *st, const wb_dataset *ds, const wb_train_opts *o, const int64_t *rows, size_t V,
                      wb_err *e) {
    const wb_ids *X = o->inputs ? &o->inputs->X[0] : wb_dataset_ids(ds); /* input 0's (NULL: no text input) */
    if (X && !X->data) X = NULL;
    size_t ntr = o->custom_split ? o->ntrain : 0, T = X ? wb_dataset_maxlen(ds) : 0, B = o->batch;
    uint32_t *tr = o->custom_split ? NULL : wb_split_indices(ds, WB_DS_TRAIN, &ntr);
    const uint32_t *trc = o->custom_split ? o->train_idx : tr;
    if (B > ntr) B = ntr;
    uint32_t *perm = ntr ? malloc(ntr * sizeof *perm) : NULL;
    int32_t *xb = B ? malloc(B * T * sizeof *xb) : NULL;
    int64_t *first = B ? malloc(B * T * sizeof *first) : NULL;
    size_t nf = 0;
    if (B && T && perm && xb && first) { /* epoch 1's first minibatch (a resumed run starts later: a hint only) */
        epoch_order(o->seed, 1, trc, perm, ntr);
        wb_ids_gather(X, perm, B, xb);
        for (size_t i = 0; i < B * T; i++)
            if (xb[i] >= 0 && (size_t)xb[i] < V && rows[xb[i]] >= 0) first[nf++] = rows[xb[i]];
    }
    int rc = wb_store_prefetch_first(st, V, rows, nf, first, e); /* out of memory above: no first rows */
    free(tr), free(perm), free(xb), free(first);
    return rc;
}

int wb_train_run(wb_model **mp, const wb_dataset *ds, const wb_train_opts *o, wb_train_result *res, wb_err *e) {
    memset(res, 0, sizeof *res);
    double t0 = wb_clock_s();
    wb_model *m = *mp;
    const wb_model_cfg *c = wb_model_cfg_get(m);
    size_t C = c->C, B = o->batch;
    if (!o->out_path && o->restore_best) return wb_err_set(e, WB_EUSAGE, "no output model path");
    wb_inputs in;
    if (o->inputs) in = *o->inputs; /* a search trial's view */
    else wb_inputs_of_dataset(&in, ds);
    int rc = wb_inputs_check(m, &in, e);
    if (rc) return rc;
    if (o->resume && !o->ckpt_path) return wb_err_set(e, WB_EUSAGE, "resume needs a checkpoint path");
    size_t ntr, nval;
    uint32_t *tr, *val;
    if (o->custom_split) {
        ntr = o->ntrain, nval = o->nval;
        tr = ntr ? malloc(ntr * sizeof *tr) : NULL;
        val = nval ? malloc(nval * sizeof *val) : NULL;
        if ((ntr && !tr) || (nval && !val)) ntr = SIZE_MAX;
        else {
            if (ntr) memcpy(tr, o->train_idx, ntr * sizeof *tr);
            if (nval) memcpy(val, o->val_idx, nval * sizeof *val);
        }
    } else {
        tr = wb_split_indices(ds, WB_DS_TRAIN, &ntr);
        val = wb_split_indices(ds, WB_DS_VALID, &nval);
        if (!val && nval == 0) val = wb_split_indices(ds, WB_DS_TEST, &nval); /* as the Keras tutorial */
    }
    tstate st = {.best = INFINITY};
    int32_t *xb = malloc(B * wb_inputs_ids_per_example(m) * sizeof *xb), *y = malloc(B * sizeof *y);
    double *fb = c->nfeat ? malloc(B * c->nfeat * sizeof *fb) : NULL;
    float *t = malloc(B * C * sizeof *t);
    uint32_t *perm = ntr ? malloc(ntr * sizeof *perm) : NULL;
    if (ntr == SIZE_MAX || nval == SIZE_MAX || !xb || !y || !t || (ntr && !perm) || (c->nfeat && !fb)) {
        rc = wb_err_set(e, WB_ENOMEM, "out of memory");
        goto done;
    }
    if (!ntr) {
        rc = wb_err_set(e, WB_EUSAGE, "no training examples");
        goto done;
    }
    /* Training rows 0..ntr-1 (no --test-size): shuffle the rows themselves and
     * keep no row list, 4 bytes a row less (same permutation, same bytes). */
    size_t first_other = 0;
    while (first_other < ntr && tr[first_other] == first_other) first_other++;
    if (first_other == ntr) free(tr), tr = NULL;
    const size_t *loff;
    const uint32_t *lids;
    wb_dataset_labels(ds, &loff, &lids);

    /* Temporaries of writers that died (kill -9) before their rename. */
    const char *paths[2] = {o->out_path, o->ckpt_path};
    for (int i = 0; i < 2; i++) {
        char first[512];
        size_t k = paths[i] ? wb_aw_clean_stale(paths[i], first, sizeof first) : 0;
        if (k) note(o, 0, "removed %zu temporary file%s of an interrupted run (%s%s)", k, k > 1 ? "s" : "", first,
                    k > 1 ? ", ..." : "");
    }
    uint64_t cwh = o->class_weights ? XXH3_64bits(o->class_weights, C * sizeof *o->class_weights) | 1 : 0;
    uint64_t dh = o->resume ? data_hash(&in, loff, lids, tr, ntr) : 0; /* else at the first checkpoint */
    int resumed = 0;
    if (o->resume) {
        if ((rc = resume_load(mp, o, &st, cwh, dh, &resumed, e))) goto done;
        m = *mp;
        c = wb_model_cfg_get(m);
        if (resumed) {
            res->resumed_from = st.epoch;
            if (st.epoch >= o->epochs)
                note(o, 0, "the checkpoint %s has done %zu epochs of %zu: nothing left to train (raise --epochs to go on)",
                     o->ckpt_path, st.epoch, o->epochs);
            else
                note(o, 0, "resuming at epoch %zu of %zu (checkpoint %s)", st.epoch + 1, o->epochs, o->ckpt_path);
        }
    }
    st.batch = B, st.seed = o->seed, st.patience = o->patience, st.cw = cwh, st.data = dh, st.has_opts = 1;
    st.threads = o->threads ? o->threads : wb_model_threads(m);

    if (o->threads && (rc = wb_model_set_threads(m, o->threads, e))) goto done;

    /* what the model learns from the data before the first step (bow's
     * n-gram table); a resumed model has it already */
    if ((rc = wb_model_fit(m, &in.X[0], tr, ntr, e))) goto done;
    /* the numeric features' standardisation, from the training rows (a
     * resumed model has the first run's in its checkpoint) */
    if (c->nfeat && !resumed && (rc = wb_model_fit_features(m, in.feat, in.nfeat, tr, ntr, e))) goto done;

    static const wb_model_file no_file; /* o->file may be NULL when nothing is written */
    wb_model_file mf = o->file ? *o->file : no_file, cf = mf;
    mf.trainer = NULL, mf.with_optimizer = 0;
    cf.with_optimizer = 1, cf.embed_vectors = 0;
    int first = 1;
    for (size_t ep = st.epoch + 1; ep <= o->epochs; ep++) {
        double te = wb_clock_s();
        wb_rng drop;
        wb_rng_init(&drop, mix(o->seed, ep, 2));
        epoch_order(o->seed, ep, tr, perm, ntr);
        double lsum = 0, csum = 0;
        size_t seen = 0, nb = 0;
        for (size_t s = 0; s < ntr; s += B, nb++) {
            size_t b = ntr - s < B ? ntr - s : B;
            wb_batch bt;
            wb_inputs_gather(m, &in, perm + s, b, xb, fb, &bt);
            wb_targets(c->task, C, loff, lids, perm + s, b, y, t);
            float l;
            size_t ok;
            rc = wb_model_train_batch(m, &bt, c->task == WB_TASK_MULTICLASS ? y : NULL,
                                      c->task == WB_TASK_MULTICLASS ? NULL : t, o->class_weights, &drop, &l, &ok, e);
            if (rc) goto done;
            if (first) res->first_batch_seconds = wb_clock_s() - t0, first = 0;
            lsum += (double)l * (double)b, csum += (double)ok, seen += b;
            if (o->progress && nb % 8 == 7) o->progress(o->ctx, ep, o->epochs, seen, ntr, lsum / (double)seen, csum / (double)seen, NULL);
            if (o->should_stop && o->should_stop(o->ctx)) {
                res->interrupted = 1;
                goto done;
            }
        }
        res->examples += seen;
        res->train_seconds += wb_clock_s() - te; /* the training steps only */
        wb_epoch h = {.epoch = ep, .loss = lsum / (double)seen, .acc = csum / (double)seen, .examples = seen};
        if (nval) {
            wb_metrics vm;
            rc = wb_eval_inputs(m, &in, loff, lids, val, nval, B, 1, 0.5f, &vm, NULL, e);
            if (rc) goto done;
            h.has_val = 1, h.val_loss = vm.loss, h.val_acc = vm.acc;
            if (c->task == WB_TASK_MULTILABEL) h.val_acc = vm.p_at_k, h.val_r1 = vm.r_at_k; /* k = 1 */
        }
        h.seconds = wb_clock_s() - te;
        if (hist_push(&st, &h)) {
            rc = wb_err_set(e, WB_ENOMEM, "out of memory");
            goto done;
        }
        st.epoch = ep;
        int improved = h.has_val && h.val_loss < st.best;
        if (improved) {
            st.best = h.val_loss, st.best_epoch = ep, st.bad = 0;
            if (o->restore_best && (rc = wb_model_save(m, o->out_path, &mf, e))) goto done;
        } else if (h.has_val) {
            st.bad++;
        }
        if (o->ckpt_path) {
            if (!st.data) st.data = data_hash(&in, loff, lids, tr, ntr);
            size_t tl;
            char *txt = tstate_text(&st, &tl);
            if (!txt) {
                rc = wb_err_set(e, WB_ENOMEM, "out of memory");
                goto done;
            }
            cf.trainer = txt, cf.trainer_len = tl;
            rc = wb_model_save(m, o->ckpt_path, &cf, e);
            free(txt);
            if (rc) goto done;
        }
        if (o->progress) o->progress(o->ctx, ep, o->epochs, seen, ntr, h.loss, h.acc, &h);
        if (o->patience && h.has_val && st.bad >= o->patience) {
            res->stopped_early = 1;
            break;
        }
    }
    /* The final model: the best epoch's (already written) or the last. */
    if (!(o->restore_best && st.best_epoch) && o->out_path) rc = wb_model_save(m, o->out_path, &mf, e);
done:
    res->epochs_run = st.epoch;
    res->best_epoch = st.best_epoch;
    res->best_val_loss = st.best;
    res->history = st.hist;
    free(tr), free(val), free(xb), free(fb), free(y), free(t), free(perm);
    return rc;
}
