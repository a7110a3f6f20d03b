/*
 * test_parts.c — the parts of the model graph (src/model/part_*.c, head.c)
 * checked against finite differences: for every kind of part (conv, pool,
 * flatten, charcnn, lstm, gru both ways and both poolings, bow counts and
 * tf-idf, several hidden layers), the gradient a training step computes for
 * every dense tensor and every embedding row equals the central difference
 * (L(w + h) - L(w - h)) / 2h of the loss predict reports.
 *
 * Method: SGD with lr 1 (a dense gradient is read from wb_model_tensor; a
 * row's is row_before - row_after), the weights restored, then each
 * parameter perturbed by ±h.  Tolerance per element: |fd - g| <= 2e-2 ·
 * max(|g|, |fd|) + 3e-4 (float32 forward passes: the loss carries ~1e-7 of
 * rounding, /2h = 5e-5).  ReLU and max pooling are not differentiable at
 * ties and at 0: a difference quotient that straddles a kink misses.  So
 * the weights are moved off ties (every weight shifted a little, biases by
 * +0.3 so that ReLUs sit inside their linear part, rows of a clear scale),
 * and an element that misses at h = 1e-3 is tried at 2.5e-4 and 4e-3 too;
 * then no element of any kind may miss.
 *
 * Also: masking (an RNN's output ignores padding anywhere), bow features
 * (n-grams, tf-idf as scikit-learn), the charcnn's shapes, a model file
 * round trip per kind (same predictions), windows for explain.
 *
 * Leaves out: PyTorch parity (test_parity_model.c), training to accuracy
 * (tests/cli/train_commands.sh).
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <xxhash.h>

#include "testutil.h"
#include "wordbench/model.h"

#define NV 12
#define NB 5

static char *g_dir;

static int group_setup(void **state) {
    (void)state;
    g_dir = tu_tmpdir();
    return g_dir ? 0 : -1;
}

static int group_teardown(void **state) {
    (void)state;
    tu_rmrf(g_dir);
    free(g_dir);
    return 0;
}

/* A minibatch of B examples of T ids: post-padding of 0..B-1 positions, an
 * OOV id, one example with pre-padding, one empty text. */
static void batch(size_t T, int32_t *X, int32_t *y, float *t, size_t C, unsigned seed) {
    uint64_t r = seed * 2654435761u + 1;
    for (size_t b = 0; b < NB; b++)
        for (size_t i = 0; i < T; i++) {
            r = r * 6364136223846793005ull + 1442695040888963407ull;
            X[b * T + i] = (int32_t)(2 + (r >> 33) % (NV - 2));
        }
    for (size_t b = 0; b < NB; b++)
        for (size_t i = T - b * T / 6; i < T; i++) X[b * T + i] = 0;
    X[1] = 1;
    for (size_t i = 0; i < T / 3; i++) X[3 * T + i] = 0; /* pre-padding */
    for (size_t i = 0; i < T; i++) X[4 * T + i] = 0;     /* an empty text */
    for (size_t b = 0; b < NB; b++) {
        if (y) y[b] = (int32_t)(b % C);
        if (t)
            for (size_t c = 0; c < C; c++) t[b * C + c] = (float)((b + c) % 2);
    }
}

static void cfg_for(wb_model_cfg *c, wb_model_kind kind, wb_task task, size_t T) {
    wb_model_cfg_init(c, kind);
    c->task = task;
    c->C = task == WB_TASK_BINARY ? 1 : 3;
    c->V = NV, c->E = 5, c->T = T, c->seed = 9;
    c->dropout = 0, c->hidden_dropout = 0, c->maxnorm = 0;
    if (kind == WB_MODEL_TUTORIAL || kind == WB_MODEL_KIM) c->F = 4;
    if (kind == WB_MODEL_KIM) c->nwidths = 2, c->widths[0] = 2, c->widths[1] = 3;
    if (kind == WB_MODEL_TUTORIAL) c->widths[0] = 3, c->H = 4;
    if (kind == WB_MODEL_DENSE || kind == WB_MODEL_POOL) c->H = 4;
    if (kind == WB_MODEL_CHARCNN) {
        static const size_t w[4] = {3, 3, 2, 2};
        c->F = 3, c->nwidths = 4, c->H = 4;
        memcpy(c->widths, w, sizeof w);
    }
    if (kind == WB_MODEL_LSTM || kind == WB_MODEL_GRU) c->units = 3;
}

static wb_model *make(const wb_model_cfg *c) {
    wb_optim o;
    wb_optim_init(&o, WB_OPT_SGD);
    o.lr = 1;
    wb_model *m = NULL;
    wb_err e;
    wb_err_clear(&e);
    if (wb_model_create(&m, c, &o, NB, &e)) fail_msg("create %s: %s", wb_model_kind_name(c->kind), e.msg);
    return m;
}

static float loss_of(wb_model *m, const wb_batch *bt, const int32_t *y, const float *t) {
    float p[NB * 8], l = NAN;
    wb_err e;
    wb_err_clear(&e);
    if (wb_model_predict_batch(m, bt, y, t, NULL, p, &l, &e)) fail_msg("predict: %s", e.msg);
    return l;
}

typedef struct fdstat {
    size_t n, bad;
    double worst;
} fdstat;

static int fd_close(double g, double fd) { return fabs(fd - g) <= 2e-2 * fmax(fabs(g), fabs(fd)) + 3e-4; }

/* One parameter: a dense weight (w != NULL) or element k of row id of
 * text input inp's table. */
typedef struct param {
    float *w;
    size_t inp;
    int32_t id;
    size_t k, rowE;
    const float *row0;
} param;

static void param_set(wb_model *m, const param *p, float delta) {
    if (p->w) {
        *p->w += delta;
        return;
    }
    float r[64];
    assert_true(p->rowE <= 64);
    memcpy(r, p->row0, p->rowE * sizeof *r);
    r[p->k] += delta;
    wb_err e;
    assert_int_equal(wb_model_set_input_row(m, p->inp, p->id, r, &e), 0);
}

static void param_reset(wb_model *m, const param *p, float keep) {
    if (p->w) {
        *p->w = keep;
        return;
    }
    wb_err e;
    assert_int_equal(wb_model_set_input_row(m, p->inp, p->id, p->row0, &e), 0);
}

/* The central difference at h = 1e-3; where it misses g (a kink within h
 * of the weights, or the float32 loss's resolution), the smaller and the
 * larger steps 2.5e-4 and 4e-3 get a chance: a real error misses at all. */
static void fd_param(fdstat *st, wb_model *m, const param *p, const char *what, size_t i, double g, const wb_batch *X,
                     const int32_t *y, const float *t) {
    static const float hs[3] = {1e-3f, 2.5e-4f, 4e-3f};
    float keep = p->w ? *p->w : 0;
    double fd = 0;
    int ok = 0;
    for (int j = 0; j < 3 && !ok; j++) {
        float h = hs[j];
        param_set(m, p, h);
        float lp = loss_of(m, X, y, t);
        param_reset(m, p, keep);
        param_set(m, p, -h);
        float lm = loss_of(m, X, y, t);
        param_reset(m, p, keep);
        double f = ((double)lp - (double)lm) / (2.0 * h);
        if (!j) fd = f;
        ok = fd_close(g, f);
    }
    double d = fabs(fd - g) / (2e-2 * fmax(fabs(g), fabs(fd)) + 3e-4);
    st->n++;
    if (!ok && d > st->worst) st->worst = d;
    if (!ok) {
        st->bad++;
        if (st->bad <= 3) print_message("  %s[%zu]: step %.6g, difference quotient %.6g\n", what, i, g, fd);
    }
}

/* The finite-difference check of one model on one minibatch: every dense
 * tensor, and the rows of every text input's table. */
static void fd_check(const char *name, wb_model *m, const wb_batch *X, const int32_t *y, const float *t) {
    const wb_model_cfg *c = wb_model_cfg_get(m);
    size_t nt = wb_model_ntensors(m), rowE = c->kind == WB_MODEL_BOW ? c->C : c->E, ni = wb_model_cfg_ninputs(c);
    float **w0 = calloc(nt, sizeof *w0), **g = calloc(nt, sizeof *g);
    float *rows0[WB_MAX_INPUTS], *rows1[WB_MAX_INPUTS];
    size_t nid[WB_MAX_INPUTS];
    assert_non_null(w0), assert_non_null(g);
    wb_err e;
    wb_err_clear(&e);
    for (size_t k = 0; k < ni; k++) {
        nid[k] = c->kind == WB_MODEL_BOW ? c->D : c->kind == WB_MODEL_CHARCNN ? 0 : wb_model_cfg_V(c, k);
        rows0[k] = calloc(nid[k] * rowE + 1, sizeof(float)), rows1[k] = calloc(nid[k] * rowE + 1, sizeof(float));
        assert_non_null(rows0[k]), assert_non_null(rows1[k]);
        for (size_t id = 0; id < nid[k]; id++)
            assert_int_equal(wb_model_get_input_row(m, k, (int32_t)id, rows0[k] + id * rowE, &e), 0);
    }
    for (size_t i = 0; i < nt; i++) {
        float *w;
        size_t n;
        wb_model_tensor(m, i, &w, NULL, &n, NULL, NULL);
        w0[i] = malloc(n * sizeof(float)), g[i] = malloc(n * sizeof(float));
        memcpy(w0[i], w, n * sizeof(float));
    }
    wb_rng rng;
    wb_rng_init(&rng, 1);
    float l0 = 0;
    if (wb_model_train_batch(m, X, y, t, NULL, &rng, &l0, NULL, &e)) fail_msg("%s: step: %s", name, e.msg);
    for (size_t i = 0; i < nt; i++) {
        float *w, *gg;
        size_t n;
        wb_model_tensor(m, i, &w, &gg, &n, NULL, NULL);
        memcpy(g[i], gg, n * sizeof(float));
        memcpy(w, w0[i], n * sizeof(float)); /* undo the step */
    }
    for (size_t k = 0; k < ni; k++)
        for (size_t id = 0; id < nid[k]; id++) {
            float *r0 = rows0[k] + id * rowE, *r1 = rows1[k] + id * rowE;
            assert_int_equal(wb_model_get_input_row(m, k, (int32_t)id, r1, &e), 0);
            if (id && memcmp(r0, r1, rowE * sizeof(float)))
                assert_int_equal(wb_model_set_input_row(m, k, (int32_t)id, r0, &e), 0);
        }
    assert_true(fabsf(loss_of(m, X, y, t) - l0) <= 1e-6f * fmaxf(1, fabsf(l0)));
    fdstat st = {0};
    for (size_t i = 0; i < nt; i++) {
        float *w;
        size_t n;
        const char *tn = wb_model_tensor(m, i, &w, NULL, &n, NULL, NULL);
        size_t step = n > 120 ? n / 120 : 1; /* at most ~120 elements per tensor */
        for (size_t k = 0; k < n; k += step) {
            param p = {.w = w + k};
            fd_param(&st, m, &p, tn, k, g[i][k], X, y, t);
        }
    }
    /* rows: trainable ids only (learned embeddings: all but 0); a row's
     * gradient is what SGD with lr 1 subtracted */
    for (size_t in = 0; in < ni; in++)
        for (size_t id = 1; id < nid[in]; id++) {
            const float *r0 = rows0[in] + id * rowE, *r1 = rows1[in] + id * rowE;
            int used = memcmp(r0, r1, rowE * sizeof(float)) != 0;
            for (size_t k = 0; k < rowE; k++) {
                param p = {.inp = in, .id = (int32_t)id, .k = k, .rowE = rowE, .row0 = r0};
                double gk = used ? (double)r0[k] - (double)r1[k] : 0.0;
                fd_param(&st, m, &p, in ? "row of input 2+" : "row", id * rowE + k, gk, X, y, t);
            }
        }
    print_message("%-28s %5zu elements, %zu beyond tolerance (worst %.3g of it)\n", name, st.n, st.bad, st.worst);
    if (st.bad > 0)
        fail_msg("%s: %zu of %zu gradient elements differ from finite differences", name, st.bad, st.n);
    for (size_t i = 0; i < nt; i++) free(w0[i]), free(g[i]);
    for (size_t k = 0; k < ni; k++) free(rows0[k]), free(rows1[k]);
    free(w0), free(g);
}

/* Numeric features of the NB examples (NB, nf): counts and ratios of
 * clearly different scales and means, as hand-made features are. */
static void features(size_t nf, double *F) {
    for (size_t b = 0; b < NB; b++)
        for (size_t j = 0; j < nf; j++) F[b * nf + j] = (j % 2 ? 0.01 : 40.0) * (double)(j + 1) * (1.0 + sin((double)(b * 5 + j * 3 + 1)));
}

/* Build a model of cfg c, fit it (bow) on the batch, random learned rows
 * from the model's own initialisation, then the check. */
static void check_kind(const char *name, wb_model_cfg *c) {
    size_t ni = wb_model_cfg_ninputs(c);
    int32_t X[WB_MAX_INPUTS][NB * 64], y[NB];
    float t[NB * 8];
    double F[NB * 16];
    assert_true(c->nfeat <= 16);
    wb_batch bt = {.B = NB, .feat = c->nfeat ? F : NULL};
    for (size_t k = 0; k < ni; k++) {
        assert_true(wb_model_cfg_T(c, k) <= 64);
        batch(wb_model_cfg_T(c, k), X[k], y, t, c->C, (unsigned)(c->kind + 3 + 11 * k));
        bt.X[k] = X[k];
    }
    features(c->nfeat, F);
    wb_model *m = make(c);
    uint32_t idx[NB] = {0, 1, 2, 3, 4};
    wb_err e;
    wb_err_clear(&e);
    if (wb_model_fit(m, &(wb_ids){.data = X[0], .n = NB, .T = c->T, .width = 4}, idx, NB, &e)) fail_msg("%s: fit: %s", name, e.msg);
    if (c->nfeat && wb_model_fit_features(m, F, c->nfeat, idx, NB, &e)) fail_msg("%s: features: %s", name, e.msg);
    /* Zero biases put an empty text's pre-activations exactly on a ReLU's
     * kink (0 + 0): shift every weight a little, away from such ties, and
     * every bias by +0.3 so that most ReLUs are well inside their linear
     * part (as tools/torch_ref_models.py does for the hidden layers). */
    for (size_t i = 0; i < wb_model_ntensors(m); i++) {
        float *w;
        size_t n;
        const char *tn = wb_model_tensor(m, i, &w, NULL, &n, NULL, NULL);
        int bias = strstr(tn, "/bias") != NULL;
        for (size_t k = 0; k < n; k++) w[k] += 0.05f * sinf((float)(i * 131 + k * 17 + 1)) + (bias ? 0.3f : 0.0f);
    }
    if (c->kind != WB_MODEL_CHARCNN) {
        /* rows of a clear scale (bow's start at zero, which would hide
         * errors; learned ones at U(-0.05, 0.05), where max pooling meets
         * the padding row's zeros at every turn) */
        const wb_model_cfg *mc = wb_model_cfg_get(m);
        size_t E = c->kind == WB_MODEL_BOW ? mc->C : mc->E;
        float *r = malloc(E * sizeof *r);
        for (size_t in = 0; in < ni; in++) {
            size_t nid = c->kind == WB_MODEL_BOW ? mc->D : wb_model_cfg_V(mc, in);
            for (size_t id = 1; id < nid; id++) {
                for (size_t k = 0; k < E; k++) r[k] = 0.4f * sinf((float)(id * 7 + k * 3 + 1 + in * 5));
                assert_int_equal(wb_model_set_input_row(m, in, (int32_t)id, r, &e), 0);
            }
        }
        free(r);
    }
    fd_check(name, m, &bt, c->task == WB_TASK_MULTICLASS ? y : NULL, c->task == WB_TASK_MULTICLASS ? NULL : t);
    wb_model_destroy(m);
}

static void test_fd_conv(void **state) {
    (void)state;
    wb_model_cfg c;
    cfg_for(&c, WB_MODEL_TUTORIAL, WB_TASK_MULTICLASS, 8);
    check_kind("tutorial multiclass", &c);
    cfg_for(&c, WB_MODEL_KIM, WB_TASK_MULTILABEL, 8);
    check_kind("kim multilabel", &c);
    cfg_for(&c, WB_MODEL_POOL, WB_TASK_BINARY, 8);
    check_kind("pool binary", &c);
    cfg_for(&c, WB_MODEL_DENSE, WB_TASK_MULTICLASS, 6);
    check_kind("dense multiclass", &c);
    /* several hidden layers */
    cfg_for(&c, WB_MODEL_TUTORIAL, WB_TASK_BINARY, 8);
    c.nhidden = 3;
    check_kind("tutorial, 3 hidden layers", &c);
}

static void test_fd_rnn(void **state) {
    (void)state;
    static const wb_task tasks[] = {WB_TASK_BINARY, WB_TASK_MULTICLASS, WB_TASK_MULTILABEL};
    for (int gru = 0; gru < 2; gru++)
        for (int bi = 0; bi < 2; bi++)
            for (int pool = 0; pool < 2; pool++) {
                wb_model_cfg c;
                cfg_for(&c, gru ? WB_MODEL_GRU : WB_MODEL_LSTM, tasks[(gru + bi + pool) % 3], 7);
                c.bidirectional = bi, c.rnn_pool = pool ? WB_RNN_MAX : WB_RNN_LAST;
                if (bi && !pool) c.H = 3; /* and a hidden layer once */
                char name[64];
                snprintf(name, sizeof name, "%s%s %s", bi ? "bi-" : "", gru ? "gru" : "lstm", pool ? "max" : "last");
                check_kind(name, &c);
            }
}

static void test_fd_charcnn(void **state) {
    (void)state;
    wb_model_cfg c;
    cfg_for(&c, WB_MODEL_CHARCNN, WB_TASK_MULTICLASS, 60);
    c.nhidden = 2;
    check_kind("charcnn", &c);
}

static void test_fd_bow(void **state) {
    (void)state;
    wb_model_cfg c;
    cfg_for(&c, WB_MODEL_BOW, WB_TASK_MULTICLASS, 10);
    c.ngrams = 2;
    check_kind("bow counts 1-2", &c);
    cfg_for(&c, WB_MODEL_BOW, WB_TASK_BINARY, 10);
    c.ngrams = 3, c.bow = WB_BOW_TFIDF;
    check_kind("bow tfidf 1-3", &c);
}

/* ---- several text inputs and numeric features ------------------------------ */

/* ni text inputs (input k >= 1: NV + k ids, T - k tokens), nf numeric
 * features squashed by a Dense of fd units (0: none). */
static void multi(wb_model_cfg *c, size_t ni, size_t nf, size_t fd) {
    c->ntext = ni;
    for (size_t k = 1; k < ni; k++) c->text_V[k] = NV + k, c->text_T[k] = c->T - k;
    c->nfeat = nf, c->feat_dense = fd;
}

static void test_fd_multi(void **state) {
    (void)state;
    wb_model_cfg c;
    cfg_for(&c, WB_MODEL_TUTORIAL, WB_TASK_MULTICLASS, 8);
    multi(&c, 2, 0, 0);
    check_kind("tutorial, 2 inputs", &c);
    cfg_for(&c, WB_MODEL_KIM, WB_TASK_BINARY, 8);
    multi(&c, 3, 4, 0);
    snprintf(c.text_name[0], sizeof c.text_name[0], "subject");
    check_kind("kim, 3 inputs + 4 features", &c);
    cfg_for(&c, WB_MODEL_POOL, WB_TASK_MULTILABEL, 8);
    multi(&c, 1, 3, 5);
    check_kind("pool + 3 features, Dense 5", &c);
    cfg_for(&c, WB_MODEL_LSTM, WB_TASK_BINARY, 7);
    c.bidirectional = 1;
    multi(&c, 2, 2, 3);
    check_kind("bi-lstm, 2 inputs + Dense 3", &c);
    cfg_for(&c, WB_MODEL_DENSE, WB_TASK_MULTICLASS, 6);
    c.nhidden = 2;
    multi(&c, 2, 5, 0);
    check_kind("dense, 2 inputs, 2 hidden", &c);
}

/* Standardisation with the training rows' mean and population deviation;
 * a constant feature gets 1; bad calls refused; missing inputs refused. */
static void test_features(void **state) {
    (void)state;
    wb_model_cfg c;
    cfg_for(&c, WB_MODEL_POOL, WB_TASK_BINARY, 6);
    multi(&c, 2, 3, 0);
    wb_model *m = make(&c);
    wb_err e;
    wb_err_clear(&e);
    const double *sd = NULL;
    const double *mu = wb_model_feature_stats(m, &sd);
    assert_non_null(mu), assert_non_null(sd);
    assert_true(mu[1] == 0 && sd[1] == 1); /* identity before fitting */
    double F[4 * 3] = {1, 5, 7, 3, 5, 100, 5, 5, -3, 1e9, 1e9, 1e9}; /* row 3 is not a training row */
    uint32_t idx[3] = {0, 1, 2};
    assert_int_equal(wb_model_fit_features(m, F, 3, idx, 3, &e), 0);
    assert_true(fabs(mu[0] - 3) < 1e-12 && fabs(sd[0] - sqrt(8.0 / 3)) < 1e-12);
    assert_true(mu[1] == 5 && sd[1] == 1);
    assert_true(fabs(mu[2] - 104.0 / 3) < 1e-9);
    assert_int_equal(wb_model_fit_features(m, F, 2, idx, 3, &e), WB_EUSAGE);
    assert_int_equal(wb_model_fit_features(m, F, 3, idx, 0, &e), WB_EUSAGE);
    double G[3] = {1, NAN, 2};
    assert_int_equal(wb_model_fit_features(m, G, 3, NULL, 1, &e), WB_EUSAGE);
    assert_non_null(strstr(e.msg, "not a number"));
    /* the merged vector: two pooled inputs of E, then the 3 standardised features */
    assert_int_equal(wb_model_features(m), 2 * c.E + 3);
    assert_int_equal(wb_model_feature_input(m, 0), 0);
    assert_int_equal(wb_model_feature_input(m, c.E), 1);
    assert_int_equal(wb_model_feature_input(m, 2 * c.E + 1), -1);
    int32_t X0[NB * 6], X1[NB * 5];
    batch(6, X0, NULL, NULL, 1, 1), batch(5, X1, NULL, NULL, 1, 2);
    float p[NB];
    double Fb[NB * 3];
    features(3, Fb);
    wb_batch b = {.B = NB, .X = {X0, X1}, .feat = Fb};
    if (wb_model_predict_batch(m, &b, NULL, NULL, NULL, p, NULL, &e)) fail_msg("predict: %s", e.msg);
    b.feat = NULL;
    assert_int_equal(wb_model_predict_batch(m, &b, NULL, NULL, NULL, p, NULL, &e), WB_EUSAGE);
    assert_non_null(strstr(e.msg, "numeric features"));
    b.feat = Fb, b.X[1] = NULL;
    assert_int_equal(wb_model_predict_batch(m, &b, NULL, NULL, NULL, p, NULL, &e), WB_EUSAGE);
    assert_non_null(strstr(e.msg, "text input 2"));
    assert_int_equal(wb_model_predict(m, X0, NB, NULL, NULL, NULL, p, NULL, &e), WB_EUSAGE);
    Fb[4] = INFINITY, b.X[1] = X1;
    assert_int_equal(wb_model_predict_batch(m, &b, NULL, NULL, NULL, p, NULL, &e), WB_EUSAGE);
    wb_model_destroy(m);
    /* configurations refused */
    static const char *const bad[] = {"inputs", "V", "T", "features", "dense", "bow"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        cfg_for(&c, i == 5 ? WB_MODEL_BOW : WB_MODEL_POOL, WB_TASK_BINARY, 6);
        if (i == 5) c.ngrams = 1, c.H = 0;
        multi(&c, 2, 1, 0);
        if (i == 0) c.ntext = WB_MAX_INPUTS + 1;
        if (i == 1) c.text_V[1] = 1;
        if (i == 2) c.text_T[1] = 0;
        if (i == 3) c.nfeat = WB_MAX_FEATURES + 1;
        if (i == 4) c.nfeat = 0, c.feat_dense = 3;
        assert_int_equal(wb_model_cfg_check(&c, &e), WB_EUSAGE);
    }
}

/* A model of two named inputs and squashed features: the file (version
 * 3) gives the same predictions, the statistics, the names; training goes
 * on identically from it; the summary's graph merges the three branches. */
static void test_multi_roundtrip(void **state) {
    (void)state;
    wb_model_cfg c;
    cfg_for(&c, WB_MODEL_GRU, WB_TASK_MULTICLASS, 8);
    multi(&c, 2, 3, 4);
    snprintf(c.text_name[0], sizeof c.text_name[0], "subject");
    snprintf(c.text_name[1], sizeof c.text_name[1], "body");
    wb_model *m = make(&c);
    wb_err e;
    wb_err_clear(&e);
    int32_t X0[NB * 8], X1[NB * 7], y[NB];
    double F[NB * 3];
    batch(8, X0, y, NULL, 3, 1), batch(7, X1, NULL, NULL, 3, 2);
    features(3, F);
    uint32_t idx[NB] = {0, 1, 2, 3, 4};
    assert_int_equal(wb_model_fit_features(m, F, 3, idx, NB, &e), 0);
    wb_batch b = {.B = NB, .X = {X0, X1}, .feat = F};
    wb_rng rng;
    wb_rng_init(&rng, 3);
    for (int s = 0; s < 3; s++) assert_int_equal(wb_model_train_batch(m, &b, y, NULL, NULL, &rng, NULL, NULL, &e), 0);
    float p[NB * 3], q[NB * 3];
    assert_int_equal(wb_model_predict_batch(m, &b, NULL, NULL, NULL, p, NULL, &e), 0);
    char *path = tu_path(g_dir, "multi.model");
    wb_model_file f = {.meta = "x 1\n", .vocab = "v0", .vocab_len = 2, .with_optimizer = 1};
    f.input_vocab[1] = "vocab1", f.input_vocab_len[1] = 6;
    assert_int_equal(wb_model_save(m, path, &f, &e), 0);
    size_t n;
    unsigned char *raw = (unsigned char *)tu_read_file(path, &n);
    assert_int_equal(raw[8], 3);
    /* an untrusted file: the statistics missing (tag renamed), a deviation
     * of 0, a NaN mean are refused (checksum recomputed each time) */
    size_t at = 0;
    while (at + 4 <= n && memcmp(raw + at, "FEAT", 4)) at++;
    assert_true(at + 4 <= n);
    char *bad = tu_path(g_dir, "multi-bad.model");
    for (int k = 0; k < 3; k++) {
        unsigned char *b2 = malloc(n);
        memcpy(b2, raw, n);
        double v = k == 1 ? 0.0 : NAN;
        if (k == 0) b2[at + 3] = 'X';
        else memcpy(b2 + at + 16 + 8 + (k == 1 ? 3 * 8 : 0), &v, 8); /* std[0] or mean[0] */
        uint64_t h = XXH3_64bits(b2, n - 8);
        memcpy(b2 + n - 8, &h, 8);
        assert_int_equal(tu_write_file(bad, b2, n), 0);
        wb_model *x = NULL;
        void *xb = NULL;
        wb_model_file xf;
        assert_int_equal(wb_model_load(&x, bad, NB, &xf, &xb, &e), WB_ECORRUPT);
        assert_non_null(strstr(e.msg, k ? "not a number" : "statistics are missing"));
        free(b2);
    }
    free(bad);
    free(raw);
    wb_model *l = NULL;
    void *blob = NULL;
    wb_model_file g;
    if (wb_model_load(&l, path, NB, &g, &blob, &e)) fail_msg("load: %s", e.msg);
    assert_int_equal(g.vocab_len, 2);
    assert_int_equal(g.input_vocab_len[1], 6);
    assert_memory_equal(g.input_vocab[1], "vocab1", 6);
    const wb_model_cfg *lc = wb_model_cfg_get(l);
    assert_int_equal(lc->ntext, 2);
    assert_int_equal(lc->text_V[1], NV + 1);
    assert_int_equal(lc->text_T[1], 7);
    assert_int_equal(lc->nfeat, 3);
    assert_int_equal(lc->feat_dense, 4);
    assert_string_equal(lc->text_name[1], "body");
    const double *sm, *ss, *lm, *ls;
    sm = wb_model_feature_stats(m, &ss), lm = wb_model_feature_stats(l, &ls);
    assert_memory_equal(sm, lm, 3 * sizeof *sm);
    assert_memory_equal(ss, ls, 3 * sizeof *ss);
    assert_int_equal(wb_model_predict_batch(l, &b, NULL, NULL, NULL, q, NULL, &e), 0);
    assert_memory_equal(p, q, sizeof p);
    wb_rng r1, r2;
    wb_rng_init(&r1, 4), wb_rng_init(&r2, 4);
    assert_int_equal(wb_model_train_batch(m, &b, y, NULL, NULL, &r1, NULL, NULL, &e), 0);
    assert_int_equal(wb_model_train_batch(l, &b, y, NULL, NULL, &r2, NULL, NULL, &e), 0);
    assert_int_equal(wb_model_predict_batch(m, &b, NULL, NULL, NULL, p, NULL, &e), 0);
    assert_int_equal(wb_model_predict_batch(l, &b, NULL, NULL, NULL, q, NULL, &e), 0);
    assert_memory_equal(p, q, sizeof p);
    free(blob), free(path);
    wb_model_destroy(l);
    wb_model_destroy(m);
}

/* ---- masking: padding anywhere is no step --------------------------------- */

static void test_rnn_masking(void **state) {
    (void)state;
    for (int gru = 0; gru < 2; gru++)
        for (int bi = 0; bi < 2; bi++)
            for (int pool = 0; pool < 2; pool++) {
                wb_model_cfg c;
                cfg_for(&c, gru ? WB_MODEL_GRU : WB_MODEL_LSTM, WB_TASK_MULTICLASS, 7);
                c.bidirectional = bi, c.rnn_pool = pool ? WB_RNN_MAX : WB_RNN_LAST;
                wb_model *m = make(&c);
                /* the same three words post-padded, pre-padded, with padding between, and
                 * unpadded among other examples */
                int32_t X[NB * 7] = {5, 9, 3, 0, 0, 0, 0, 0, 0, 0, 0, 5, 9, 3, 0, 5, 0, 0, 9, 0, 3,
                                     2, 4, 6, 8, 10, 11, 7, 0, 0, 0, 0, 0, 0, 0};
                float p[NB * 3];
                wb_err e;
                wb_err_clear(&e);
                assert_int_equal(wb_model_predict(m, X, NB, NULL, NULL, NULL, p, NULL, &e), 0);
                for (int b = 1; b < 3; b++)
                    for (int k = 0; k < 3; k++)
                        if (fabsf(p[b * 3 + k] - p[k]) > 1e-6f)
                            fail_msg("%s: padding changed the prediction: %g vs %g", wb_model_kind_name(c.kind), p[b * 3 + k], p[k]);
                /* an empty text: the state never moves, the output is zero (softmax of the head's biases) */
                float f[NB * 6];
                int32_t st[NB * 6], ln[NB * 6];
                assert_int_equal(wb_model_features(m), c.units * (bi ? 2 : 1));
                assert_int_equal(wb_model_windows(m, X, NB, f, st, ln, &e), 0);
                for (size_t j = 0; j < wb_model_features(m); j++) {
                    assert_true(f[4 * wb_model_features(m) + j] == 0.0f);
                    if (pool) { /* max: the token of the maximum, a real one */
                        int32_t t0 = st[j];
                        assert_true(t0 >= 0 && t0 < 3 && ln[j] == 1);
                    } else {
                        assert_int_equal(st[j], -1);
                    }
                }
                wb_model_destroy(m);
            }
}

/* ---- bag of words: features as scikit-learn computes them ------------------ */

static void test_bow_features(void **state) {
    (void)state;
    /* three training texts; T = 6 */
    int32_t X[NB * 6] = {2, 3, 2, 0, 0, 0,   /* a b a  */
                         3, 4, 0, 0, 0, 0,   /* b c    */
                         2, 1, 3, 0, 0, 0,   /* a ? b : the OOV word breaks the bigram */
                         0, 0, 2, 3, 4, 0,   /* pre-padded a b c */
                         0, 0, 0, 0, 0, 0};
    uint32_t idx[3] = {0, 1, 2};
    for (int tfidf = 0; tfidf < 2; tfidf++) {
        wb_model_cfg c;
        cfg_for(&c, WB_MODEL_BOW, WB_TASK_BINARY, 6);
        c.ngrams = 2, c.bow = tfidf ? WB_BOW_TFIDF : WB_BOW_COUNTS;
        wb_model *m = make(&c);
        wb_err e;
        wb_err_clear(&e);
        int32_t x1[6] = {2, 3, 0, 0, 0, 0};
        float p[NB];
        assert_int_equal(wb_model_predict(m, x1, 1, NULL, NULL, NULL, p, NULL, &e), WB_EUSAGE); /* not fitted */
        /* fitted on int32 ids (counts) and on a uint16 copy (tf-idf), as
         * a data set stores them when the vocabulary fits */
        uint16_t X16[NB * 6];
        for (size_t k = 0; k < NB * 6; k++) X16[k] = (uint16_t)X[k];
        wb_ids xi = tfidf ? (wb_ids){.data = X16, .n = NB, .T = 6, .width = 2} : (wb_ids){.data = X, .n = NB, .T = 6, .width = 4};
        assert_int_equal(wb_model_fit(m, &xi, idx, 3, &e), 0);
        /* bigrams seen: (a b), (b a), (b c): D = V + 3 */
        const wb_model_cfg *mc = wb_model_cfg_get(m);
        assert_int_equal(mc->D, NV + 3);
        /* logits = Σ value · w(feature) with w = 1 on one feature at a time:
         * the value of that feature in each text */
        double idf[NV + 3], n = 3;
        /* df: a 2, b 3, c 1, (a b) 1, (b a) 1, (b c) 1 */
        for (size_t f = 0; f < NV + 3; f++) idf[f] = 1;
        if (tfidf) {
            idf[2] = log(4.0 / 3) + 1, idf[3] = log(4.0 / 4) + 1, idf[4] = log(4.0 / 2) + 1;
            idf[NV] = idf[NV + 1] = idf[NV + 2] = log(4.0 / 2) + 1;
            (void)n;
        }
        /* counts of each text: features a b c (ab) (ba) (bc) */
        static const double cnt[NB][6] = {{2, 1, 0, 1, 1, 0}, {0, 1, 1, 0, 0, 1}, {1, 1, 0, 0, 0, 0}, {1, 1, 1, 1, 0, 1}, {0}};
        static const size_t feat[6] = {2, 3, 4, NV, NV + 1, NV + 2};
        float zero[1] = {0}, one[1] = {1};
        for (int j = 0; j < 6; j++) {
            for (size_t f = 1; f < mc->D; f++) assert_int_equal(wb_model_set_row(m, (int32_t)f, f == feat[j] ? one : zero, &e), 0);
            assert_int_equal(wb_model_predict(m, X, NB, NULL, NULL, NULL, p, NULL, &e), 0);
            for (int b = 0; b < NB; b++) {
                double norm = 0;
                for (int k = 0; k < 6; k++) norm += pow(cnt[b][k] * idf[feat[k]], 2);
                double v = cnt[b][j] * idf[feat[j]];
                if (tfidf && norm > 0) v /= sqrt(norm);
                double logit = log(p[b] / (1 - p[b]));
                if (fabs(logit - v) > 1e-5) fail_msg("%s text %d feature %d: %g, expected %g", tfidf ? "tfidf" : "counts", b, j, logit, v);
            }
        }
        wb_model_destroy(m);
    }
}

/* ---- the character CNN: the paper's shapes ---------------------------------- */

static void test_charcnn_shapes(void **state) {
    (void)state;
    wb_model_cfg c;
    wb_model_cfg_init(&c, WB_MODEL_CHARCNN);
    c.task = WB_TASK_MULTICLASS, c.C = 4, c.V = 72, c.E = 1, c.T = 1014; /* 70 characters */
    assert_int_equal(wb_model_cfg_check(&c, NULL), 0);
    wb_layer_info l[40];
    size_t n = wb_model_layers(&c, l, 40);
    static const size_t want[][2] = {{1014, 0}, {1008, 256}, {336, 256}, {330, 256}, {110, 256}, {108, 256},
                                     {106, 256}, {104, 256}, {102, 256}, {34, 256}, {8704, 0}, {1024, 0},
                                     {1024, 0}, {1024, 0}, {1024, 0}, {4, 0}};
    assert_int_equal(n, sizeof want / sizeof want[0]);
    uint64_t total = 0;
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(l[i].shape[0], want[i][0]);
        if (want[i][1]) assert_int_equal(l[i].shape[1], want[i][1]);
        total += l[i].params;
    }
    assert_string_equal(l[1].type, "Conv1D");
    assert_int_equal(l[1].params, 256 * 7 * 70 + 256);
    assert_string_equal(l[2].type, "MaxPooling1D");
    assert_string_equal(l[10].type, "Flatten");
    assert_string_equal(l[12].type, "Dropout");
    /* conv 256·7·70 + 256·7·256 + 4·256·3·256 (+ biases), dense 8704·1024 + 1024·1024 + 1024·4 (+ biases) */
    assert_int_equal(total, 256ull * 7 * 70 + 256 * 7 * 256 + 4ull * 256 * 3 * 256 + 6 * 256 + 8704ull * 1024 + 1024 +
                                1024ull * 1024 + 1024 + 1024 * 4 + 4);
    c.T = 100;
    wb_err e;
    wb_err_clear(&e);
    assert_int_equal(wb_model_cfg_check(&c, &e), WB_EUSAGE);
    assert_non_null(strstr(e.msg, "too short"));
}

/* ---- a model file round trip per kind ----------------------------------------- */

static void test_roundtrip(void **state) {
    (void)state;
    static const wb_model_kind kinds[] = {WB_MODEL_CHARCNN, WB_MODEL_LSTM, WB_MODEL_GRU, WB_MODEL_BOW};
    for (int i = 0; i < 4; i++) {
        wb_model_cfg c;
        cfg_for(&c, kinds[i], WB_TASK_MULTILABEL, kinds[i] == WB_MODEL_CHARCNN ? 60 : 9);
        if (kinds[i] == WB_MODEL_GRU) c.bidirectional = 1, c.rnn_pool = WB_RNN_MAX;
        if (kinds[i] == WB_MODEL_BOW) c.bow = WB_BOW_TFIDF, c.ngrams = 3;
        if (kinds[i] == WB_MODEL_CHARCNN) c.nhidden = 2, c.hidden_dropout = 0.5f;
        int32_t X[NB * 64], y[NB];
        float t[NB * 8], p[NB * 8], q[NB * 8];
        batch(c.T, X, y, t, c.C, 7);
        wb_model *m = make(&c);
        wb_err e;
        wb_err_clear(&e);
        wb_ids xi = {.data = X, .n = NB, .T = c.T, .width = 4};
        assert_int_equal(wb_model_fit(m, &xi, NULL, NB, &e), 0); /* NULL: rows 0..NB-1, as idx */
        wb_rng rng;
        wb_rng_init(&rng, 3);
        for (int s = 0; s < 3; s++) assert_int_equal(wb_model_train_step(m, X, NB, NULL, t, NULL, &rng, NULL, NULL, &e), 0);
        float cw[3] = {1, 2, 0.5f};
        assert_int_equal(wb_model_set_class_weights(m, cw, 3, &e), 0);
        assert_int_equal(wb_model_predict(m, X, NB, NULL, NULL, NULL, p, NULL, &e), 0);
        char *path = tu_path(g_dir, "rt.model");
        wb_model_file f = {.meta = "x 1\n", .with_optimizer = 1, .trainer = "T", .trainer_len = 1};
        assert_int_equal(wb_model_save(m, path, &f, &e), 0);
        wb_model *l = NULL;
        void *blob = NULL;
        wb_model_file g;
        if (wb_model_load(&l, path, NB, &g, &blob, &e)) fail_msg("%s: load: %s", wb_model_kind_name(c.kind), e.msg);
        assert_int_equal(wb_model_predict(l, X, NB, NULL, NULL, NULL, q, NULL, &e), 0);
        assert_memory_equal(p, q, NB * c.C * sizeof *p);
        const wb_model_cfg *lc = wb_model_cfg_get(l);
        assert_int_equal(lc->kind, c.kind);
        assert_int_equal(lc->D, wb_model_cfg_get(m)->D);
        assert_true(lc->hidden_dropout == c.hidden_dropout);
        size_t ncw;
        const float *lw = wb_model_class_weights(l, &ncw);
        assert_int_equal(ncw, 3);
        assert_memory_equal(lw, cw, sizeof cw);
        /* a newer kind is written as version 2: older builds refuse it clearly */
        size_t n;
        unsigned char *b = (unsigned char *)tu_read_file(path, &n);
        assert_int_equal(b[8], 2);
        /* training goes on identically from the file (optimizer state, rows,
         * class weights saved) */
        wb_rng r1, r2;
        wb_rng_init(&r1, 4), wb_rng_init(&r2, 4);
        assert_int_equal(wb_model_train_step(m, X, NB, NULL, t, NULL, &r1, NULL, NULL, &e), 0);
        assert_int_equal(wb_model_train_step(l, X, NB, NULL, t, NULL, &r2, NULL, NULL, &e), 0);
        assert_int_equal(wb_model_predict(m, X, NB, NULL, NULL, NULL, p, NULL, &e), 0);
        assert_int_equal(wb_model_predict(l, X, NB, NULL, NULL, NULL, q, NULL, &e), 0);
        assert_memory_equal(p, q, NB * c.C * sizeof *p);
        free(b), free(blob), free(path);
        wb_model_destroy(l);
        wb_model_destroy(m);
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fd_conv),
        cmocka_unit_test(test_fd_rnn),
        cmocka_unit_test(test_fd_charcnn),
        cmocka_unit_test(test_fd_bow),
        cmocka_unit_test(test_fd_multi),
        cmocka_unit_test(test_features),
        cmocka_unit_test(test_multi_roundtrip),
        cmocka_unit_test(test_rnn_masking),
        cmocka_unit_test(test_bow_features),
        cmocka_unit_test(test_charcnn_shapes),
        cmocka_unit_test(test_roundtrip),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
