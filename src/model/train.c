/*
 * train.c — the training loop of train.h: epochs of shuffled minibatches,
 * validation, early stopping, checkpoints, exact resume.
 *
 * Leaves out: learning-rate schedules, gradient accumulation, mid-epoch
 * checkpoints (the threads of a step are the model's: lanes.c).
 */
#include "wordbench/train.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "wordbench/eval.h"
#include "wordbench/split.h"

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

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

/* Trainer state: "key value" lines, then one "h ..." line per epoch. */
typedef struct tstate {
    size_t epoch, best_epoch, bad;
    double best;
    wb_epoch *hist;
    size_t nhist, cap;
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
    for (size_t i = 0; i < s->nhist; i++) {
        const wb_epoch *h = &s->hist[i];
        n += (size_t)snprintf(b + n, cap - n, "h %zu %.17g %.17g %d %.17g %.17g %.17g %zu\n", h->epoch, h->loss, h->acc,
                              h->has_val, h->val_loss, h->val_acc, h->seconds, h->examples);
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
    for (char *p = strstr(buf, "\nh "); ok && p; p = strstr(p + 1, "\nh ")) {
        wb_epoch h;
        memset(&h, 0, sizeof h);
        if (sscanf(p + 3, "%zu %lf %lf %d %lf %lf %lf %zu", &h.epoch, &h.loss, &h.acc, &h.has_val, &h.val_loss,
                   &h.val_acc, &h.seconds, &h.examples) != 8 || hist_push(s, &h))
            ok = 0;
    }
    free(buf);
    return ok && s->nhist == s->epoch ? 0 : -1;
}

static uint64_t mix(uint64_t seed, uint64_t a, uint64_t b) {
    return seed * 0x9E3779B97F4A7C15ull + a * 0xBF58476D1CE4E5B9ull + b * 0x94D049BB133111EBull;
}

int wb_train_run(wb_model **mp, const wb_dataset *ds, const wb_train_opts *o, wb_train_result *res, wb_err *e) {
    memset(res, 0, sizeof *res);
    double t0 = now_s();
    wb_model *m = *mp;
    const wb_model_cfg *c = wb_model_cfg_get(m);
    size_t T = c->T, C = c->C, B = o->batch;
    if (!o->out_path) return wb_err_set(e, WB_EUSAGE, "no output model path");
    if (wb_dataset_maxlen(ds) != T) return wb_err_set(e, WB_EUSAGE, "the data set's maxlen differs from the model's");
    if (o->resume && !o->ckpt_path) return wb_err_set(e, WB_EUSAGE, "resume needs a checkpoint path");
    size_t ntr, nval;
    uint32_t *tr = wb_split_indices(ds, WB_DS_TRAIN, &ntr);
    uint32_t *val = wb_split_indices(ds, WB_DS_VALID, &nval);
    if (!val && nval == 0) val = wb_split_indices(ds, WB_DS_TEST, &nval); /* as the Keras tutorial */
    tstate st = {.best = INFINITY};
    int32_t *xb = malloc(B * T * sizeof *xb), *y = malloc(B * sizeof *y);
    float *t = malloc(B * C * sizeof *t);
    uint32_t *perm = ntr ? malloc(ntr * sizeof *perm) : NULL;
    int rc = 0;
    if (ntr == SIZE_MAX || nval == SIZE_MAX || !xb || !y || !t || (ntr && !perm)) {
        rc = wb_err_set(e, WB_ENOMEM, "out of memory");
        goto done;
    }
    if (!ntr) {
        rc = wb_err_set(e, WB_EUSAGE, "no training examples");
        goto done;
    }
    const size_t *loff;
    const uint32_t *lids;
    wb_dataset_labels(ds, &loff, &lids);
    const int32_t *X = wb_dataset_x(ds);

    if (o->resume) {
        wb_model *nm;
        wb_model_file f;
        void *blob;
        rc = wb_model_load_ex(&nm, o->ckpt_path, B, o->max_memory, &f, &blob, e);
        if (rc) goto done;
        rc = wb_model_adopt_store(nm, m, e);
        if (!rc && (!f.trainer || !f.with_optimizer || tstate_parse(&st, f.trainer, f.trainer_len)))
            rc = wb_err_at(e, WB_ECORRUPT, o->ckpt_path, 0, -1, "not a checkpoint (trainer or optimizer state missing)");
        free(blob);
        if (rc) {
            wb_model_destroy(nm);
            goto done;
        }
        wb_model_destroy(m);
        *mp = m = nm;
        c = wb_model_cfg_get(m);
    }

    if (o->threads && (rc = wb_model_set_threads(m, o->threads, e))) goto done;

    /* what the model learns from the data before the first step (bow's
     * n-gram table); a resumed model has it already */
    if ((rc = wb_model_fit(m, X, tr, ntr, e))) goto done;

    wb_model_file mf = *o->file, cf = *o->file;
    mf.trainer = NULL, mf.with_optimizer = 0;
    cf.with_optimizer = 1, cf.embed_vectors = 0;
    int first = 1;
    for (size_t ep = st.epoch + 1; ep <= o->epochs; ep++) {
        double te = now_s();
        wb_rng shuf, drop;
        wb_rng_init(&shuf, mix(o->seed, ep, 1));
        wb_rng_init(&drop, mix(o->seed, ep, 2));
        wb_rng_permutation(&shuf, perm, (uint32_t)ntr);
        for (size_t i = 0; i < ntr; i++) perm[i] = tr[perm[i]];
        double lsum = 0, csum = 0;
        size_t seen = 0, nb = 0;
        for (size_t s = 0; s < ntr; s += B, nb++) {
            size_t b = ntr - s < B ? ntr - s : B;
            for (size_t j = 0; j < b; j++) memcpy(xb + j * T, X + (size_t)perm[s + j] * T, T * sizeof *xb);
            wb_targets(c->task, C, loff, lids, perm + s, b, y, t);
            float l;
            size_t ok;
            rc = wb_model_train_step(m, xb, b, c->task == WB_TASK_MULTICLASS ? y : NULL,
                                     c->task == WB_TASK_MULTICLASS ? NULL : t, o->class_weights, &drop, &l, &ok, e);
            if (rc) goto done;
            if (first) res->first_batch_seconds = now_s() - t0, first = 0;
            lsum += (double)l * (double)b, csum += (double)ok, seen += b;
            if (o->progress && nb % 8 == 7) o->progress(o->ctx, ep, o->epochs, seen, ntr, lsum / (double)seen, csum / (double)seen, NULL);
            if (o->should_stop && o->should_stop(o->ctx)) {
                res->interrupted = 1;
                goto done;
            }
        }
        res->examples += seen;
        res->train_seconds += now_s() - te; /* the training steps only */
        wb_epoch h = {.epoch = ep, .loss = lsum / (double)seen, .acc = csum / (double)seen, .examples = seen};
        if (nval) {
            wb_metrics vm;
            rc = wb_eval_run(m, X, loff, lids, val, nval, B, 1, 0.5f, &vm, NULL, e);
            if (rc) goto done;
            h.has_val = 1, h.val_loss = vm.loss, h.val_acc = vm.acc;
        }
        h.seconds = now_s() - te;
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
    if (!(o->restore_best && st.best_epoch)) rc = wb_model_save(m, o->out_path, &mf, e);
done:
    res->epochs_run = st.epoch;
    res->best_epoch = st.best_epoch;
    res->best_val_loss = st.best;
    res->history = st.hist;
    free(tr), free(val), free(xb), free(y), free(t), free(perm);
    return rc;
}
