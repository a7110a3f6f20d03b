/*
 * test_lanes.c — the training step split over lanes (src/model/lanes.c,
 * wb_model_set_threads): for every kind of part and every task, a model
 * trained on 2 and on 3 lanes follows the unsplit model to rounding
 * (another summation order of the same gradients), two models on 2 lanes
 * agree to the bit, with dropout and with global-norm clipping too, and
 * minibatches smaller than the number of lanes work; the same for models
 * of two text inputs and numeric features (with and without their Dense);
 * Adam's three ways with rows outside the minibatch (optim.h): catch-up and
 * dense on 1, 2 and 2 lanes (to rounding, to the bit), catch-up next to
 * dense, lazy far from both.
 *
 * Method: four models from one configuration (1, 2, 2, 3 lanes), Adam (eps
 * 1e-3, so that a gradient of rounding noise stays noise), the
 * same minibatches: 9 examples, then 1, then 2; every dense weight and
 * every row compared after each step.
 *
 * Leaves out: the pool itself (test_pool.c), whole training runs with
 * threads (test_train.c, tests/cli/train_commands.sh).
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

#include "wordbench/model.h"

#define NV 15
#define NB 9

/* NB examples of T ids drawn from seed, with padding at the end of some. */
static void batch(size_t T, size_t C, unsigned seed, int32_t *X, int32_t *y, float *t) {
    uint64_t r = seed * 0x9E3779B97F4A7C15ull + 7;
    for (size_t b = 0; b < NB; b++) {
        for (size_t i = 0; i < T; i++) {
            r = r * 6364136223846793005ull + 1442695040888963407ull;
            X[b * T + i] = i + (b % 4) >= T ? 0 : (int32_t)(1 + (r >> 33) % (NV - 1));
        }
        y[b] = (int32_t)((b * b + seed) % 5 % C); /* unbalanced: no gradient cancels exactly */
        for (size_t c = 0; c < C; c++) t[b * C + c] = (float)((b * b + c + seed) % 5 < 2);
    }
}

static void cfg_for(wb_model_cfg *c, wb_model_kind kind, wb_task task) {
    wb_model_cfg_init(c, kind);
    c->task = task, c->emb = WB_EMB_LEARNED;
    c->C = task == WB_TASK_BINARY ? 1 : 3;
    c->V = NV, c->E = 6, c->T = 8, c->seed = 4;
    c->dropout = 0, c->hidden_dropout = 0;
    if (kind == WB_MODEL_TUTORIAL || kind == WB_MODEL_KIM) c->F = 5;
    if (kind == WB_MODEL_KIM) c->nwidths = 2, c->widths[0] = 2, c->widths[1] = 3;
    if (kind == WB_MODEL_TUTORIAL) c->widths[0] = 3, c->H = 4;
    if (kind == WB_MODEL_DENSE || kind == WB_MODEL_POOL) c->H = 4;
    if (kind == WB_MODEL_CHARCNN) {
        static const size_t w[4] = {3, 3, 2, 2};
        c->T = 60, c->F = 3, c->nwidths = 4, c->H = 4;
        memcpy(c->widths, w, sizeof w);
    }
    if (kind == WB_MODEL_LSTM || kind == WB_MODEL_GRU) c->units = 3, c->bidirectional = 1;
    if (kind == WB_MODEL_BOW) c->ngrams = 2;
}

static wb_model *make(const wb_model_cfg *c, size_t lanes, float clipnorm) {
    wb_optim o;
    wb_optim_init(&o, WB_OPT_ADAM);
    /* eps 1e-3: a gradient that cancels to ~0 (rounding) moves nothing,
     * where Adam's 1e-7 would turn its rounding into a step of lr */
    o.lr = 0.01f, o.clipnorm = clipnorm, o.eps = 1e-3f;
    wb_model *m = NULL;
    wb_err e;
    wb_err_clear(&e);
    if (wb_model_create(&m, c, &o, NB, &e)) fail_msg("create %s: %s", wb_model_kind_name(c->kind), e.msg);
    if (wb_model_set_threads(m, lanes, &e)) fail_msg("threads %zu: %s", lanes, e.msg);
    assert_int_equal(wb_model_threads(m), lanes);
    return m;
}

/* Every dense weight and every row (ids 1 .. rows-1) of a and b: equal to
 * the bit (tol < 0) or within tol relative. */
static void compare(wb_model *a, wb_model *b, size_t rows, size_t E, float tol, const char *what) {
    for (size_t i = 0; i < wb_model_ntensors(a); i++) {
        float *wa, *wb;
        size_t n;
        const char *name = wb_model_tensor(a, i, &wa, NULL, &n, NULL, NULL);
        wb_model_tensor(b, i, &wb, NULL, NULL, NULL, NULL);
        for (size_t k = 0; k < n; k++) {
            float d = fabsf(wa[k] - wb[k]), s = fmaxf(1.0f, fmaxf(fabsf(wa[k]), fabsf(wb[k])));
            if (tol < 0 ? memcmp(&wa[k], &wb[k], 4) != 0 : d > tol * s)
                fail_msg("%s: %s[%zu]: %.9g vs %.9g", what, name, k, wa[k], wb[k]);
        }
    }
    float ra[64], rb[64];
    assert_true(E <= 64);
    for (size_t id = 1; id < rows; id++) {
        assert_int_equal(wb_model_get_row(a, (int32_t)id, ra, NULL), 0);
        assert_int_equal(wb_model_get_row(b, (int32_t)id, rb, NULL), 0);
        for (size_t k = 0; k < E; k++) {
            float d = fabsf(ra[k] - rb[k]), s = fmaxf(1.0f, fmaxf(fabsf(ra[k]), fabsf(rb[k])));
            if (tol < 0 ? memcmp(&ra[k], &rb[k], 4) != 0 : d > tol * s)
                fail_msg("%s: row %zu [%zu]: %.9g vs %.9g", what, id, k, ra[k], rb[k]);
        }
    }
}

static void lanes_case(wb_model_kind kind, wb_task task, float dropout, float clipnorm) {
    wb_model_cfg c;
    cfg_for(&c, kind, task);
    c.dropout = dropout;
    char what[96];
    snprintf(what, sizeof what, "%s/%s dropout %g clipnorm %g", wb_model_kind_name(kind), wb_task_name(task),
             (double)dropout, (double)clipnorm);
    static const size_t lanes[4] = {1, 2, 2, 3};
    wb_model *m[4];
    wb_rng rng[4];
    int32_t X[NB * 64], y[NB];
    float t[NB * 3];
    assert_true(c.T <= 64);
    batch(c.T, c.C, 1, X, y, t);
    uint32_t idx[NB];
    for (size_t i = 0; i < NB; i++) idx[i] = (uint32_t)i;
    wb_err e;
    wb_err_clear(&e);
    for (int i = 0; i < 4; i++) {
        m[i] = make(&c, lanes[i], clipnorm);
        wb_ids xi = {.data = X, .n = NB, .T = c.T, .width = 4};
        if (wb_model_fit(m[i], &xi, idx, NB, &e)) fail_msg("%s: fit: %s", what, e.msg);
        wb_rng_init(&rng[i], 77);
    }
    const wb_model_cfg *mc = wb_model_cfg_get(m[0]);
    size_t rows = kind == WB_MODEL_BOW ? mc->D : kind == WB_MODEL_CHARCNN ? 0 : mc->V;
    size_t E = kind == WB_MODEL_BOW ? mc->C : mc->E;
    static const size_t sizes[5] = {NB, 1, 2, NB, NB};
    for (unsigned s = 0; s < 5; s++) {
        batch(c.T, c.C, s + 1, X, y, t);
        float l[4];
        size_t ok[4];
        for (int i = 0; i < 4; i++)
            if (wb_model_train_step(m[i], X, sizes[s], task == WB_TASK_MULTICLASS ? y : NULL,
                                    task == WB_TASK_MULTICLASS ? NULL : t, NULL, &rng[i], &l[i], &ok[i], &e))
                fail_msg("%s: step %u on %zu lanes: %s", what, s, lanes[i], e.msg);
        compare(m[1], m[2], rows, E, -1, what); /* the same lanes: the same bits */
        assert_true(l[1] == l[2] && ok[1] == ok[2]);
        if (dropout > 0) continue; /* the lanes draw other masks than the unsplit step */
        for (int i = 1; i < 4; i += 2) {
            if (fabsf(l[i] - l[0]) > 1e-5f * fmaxf(1.0f, l[0])) fail_msg("%s: step %u loss %.9g vs %.9g", what, s, l[i], l[0]);
            assert_int_equal(ok[i], ok[0]);
            snprintf(what + strlen(what), 8, " s%u l%d", s, i);
            compare(m[0], m[i], rows, E, 2e-5f, what);
            what[strlen(what) - 6] = 0;
        }
    }
    for (int i = 0; i < 4; i++) wb_model_destroy(m[i]);
}

/* Rows 1 .. rows-1 of text input k of a and b, equal to the bit. */
static void compare_input_rows(wb_model *a, wb_model *b, size_t k, size_t rows, size_t E, const char *what) {
    float ra[64], rb[64];
    assert_true(E <= 64);
    for (size_t id = 1; id < rows; id++) {
        assert_int_equal(wb_model_get_input_row(a, k, (int32_t)id, ra, NULL), 0);
        assert_int_equal(wb_model_get_input_row(b, k, (int32_t)id, rb, NULL), 0);
        if (memcmp(ra, rb, E * sizeof *ra)) fail_msg("%s: input %zu row %zu differs", what, k, id);
    }
}

/* A model of two text inputs (the second of another kind's sizes: V 11,
 * T 5) and three numeric features (fdense units squashing them, or none):
 * 2 lanes bit for bit twice, and 1 vs 3 lanes to rounding. */
static void multi_case(wb_model_kind kind, wb_task task, size_t fdense, float dropout, float clipnorm) {
    wb_model_cfg c;
    cfg_for(&c, kind, task);
    c.dropout = dropout;
    c.ntext = 2, c.text_V[1] = 11, c.text_T[1] = 5, c.nfeat = 3, c.feat_dense = fdense;
    char what[96];
    snprintf(what, sizeof what, "two inputs %s/%s fdense %zu dropout %g clipnorm %g", wb_model_kind_name(kind),
             wb_task_name(task), fdense, (double)dropout, (double)clipnorm);
    static const size_t lanes[4] = {1, 2, 2, 3};
    wb_model *m[4];
    wb_rng rng[4];
    int32_t X0[NB * 64], X1[NB * 5], y[NB], y1[NB];
    float t[NB * 3], t1[NB * 3];
    double F[NB * 3];
    uint32_t idx[NB];
    for (size_t i = 0; i < NB; i++) idx[i] = (uint32_t)i;
    wb_err e;
    wb_err_clear(&e);
    for (int i = 0; i < 4; i++) {
        m[i] = make(&c, lanes[i], clipnorm);
        wb_rng_init(&rng[i], 77);
    }
    static const size_t sizes[5] = {NB, 1, 2, NB, NB};
    for (unsigned s = 0; s < 5; s++) {
        batch(c.T, c.C, s + 1, X0, y, t);
        batch(5, c.C, s + 11, X1, y1, t1);
        for (size_t j = 0; j < NB * 5; j++) X1[j] %= 11; /* input 1's vocabulary */
        for (size_t b = 0; b < NB; b++)
            for (size_t j = 0; j < 3; j++) F[b * 3 + j] = (double)((b * 7 + j * 3 + s) % 11) - 4.5 * (double)j;
        if (s == 0)
            for (int i = 0; i < 4; i++)
                if (wb_model_fit_features(m[i], F, 3, idx, NB, &e)) fail_msg("%s: features: %s", what, e.msg);
        wb_batch bt = {.B = sizes[s], .X = {X0, X1}, .feat = F};
        float l[4];
        size_t ok[4];
        for (int i = 0; i < 4; i++)
            if (wb_model_train_batch(m[i], &bt, task == WB_TASK_MULTICLASS ? y : NULL, task == WB_TASK_MULTICLASS ? NULL : t,
                                     NULL, &rng[i], &l[i], &ok[i], &e))
                fail_msg("%s: step %u on %zu lanes: %s", what, s, lanes[i], e.msg);
        compare(m[1], m[2], c.V, c.E, -1, what); /* the same lanes: the same bits */
        compare_input_rows(m[1], m[2], 1, 11, c.E, what);
        assert_true(l[1] == l[2] && ok[1] == ok[2]);
        if (dropout > 0) continue;
        for (int i = 1; i < 4; i += 2) {
            if (fabsf(l[i] - l[0]) > 1e-5f * fmaxf(1.0f, l[0])) fail_msg("%s: step %u loss %.9g vs %.9g", what, s, l[i], l[0]);
            assert_int_equal(ok[i], ok[0]);
            compare(m[0], m[i], c.V, c.E, 2e-5f, what);
        }
    }
    /* a missing input is refused before the lanes start */
    wb_batch bad = {.B = NB, .X = {X0, NULL}, .feat = F};
    assert_int_equal(wb_model_train_batch(m[1], &bad, y, t, NULL, &rng[1], NULL, NULL, &e), WB_EUSAGE);
    bad.X[1] = X1, bad.feat = NULL;
    assert_int_equal(wb_model_train_batch(m[1], &bad, y, t, NULL, &rng[1], NULL, NULL, &e), WB_EUSAGE);
    for (int i = 0; i < 4; i++) wb_model_destroy(m[i]);
}

static void test_kinds(void **state) {
    (void)state;
    static const wb_model_kind kinds[] = {WB_MODEL_DENSE, WB_MODEL_POOL, WB_MODEL_TUTORIAL, WB_MODEL_KIM,
                                          WB_MODEL_CHARCNN, WB_MODEL_LSTM, WB_MODEL_GRU, WB_MODEL_BOW};
    static const wb_task tasks[] = {WB_TASK_MULTICLASS, WB_TASK_BINARY, WB_TASK_MULTILABEL};
    for (size_t k = 0; k < sizeof kinds / sizeof kinds[0]; k++)
        for (size_t t = 0; t < 3; t++) lanes_case(kinds[k], tasks[t], 0, 0);
}

static void test_dropout_clipnorm(void **state) {
    (void)state;
    lanes_case(WB_MODEL_KIM, WB_TASK_MULTICLASS, 0.5f, 0);
    lanes_case(WB_MODEL_TUTORIAL, WB_TASK_MULTILABEL, 0, 0.05f);
    lanes_case(WB_MODEL_BOW, WB_TASK_BINARY, 0, 0.05f);
}

static void test_multi_input(void **state) {
    (void)state;
    multi_case(WB_MODEL_POOL, WB_TASK_BINARY, 0, 0, 0);
    multi_case(WB_MODEL_KIM, WB_TASK_MULTICLASS, 4, 0, 0);
    multi_case(WB_MODEL_LSTM, WB_TASK_MULTILABEL, 4, 0, 0.05f);
    multi_case(WB_MODEL_TUTORIAL, WB_TASK_MULTICLASS, 0, 0.5f, 0);
}

static void test_set_threads(void **state) {
    (void)state;
    wb_model_cfg c;
    cfg_for(&c, WB_MODEL_TUTORIAL, WB_TASK_MULTICLASS);
    wb_model *m = make(&c, 1, 0);
    wb_err e;
    wb_err_clear(&e);
    assert_int_equal(wb_model_set_threads(m, 0, &e), WB_EUSAGE);
    assert_non_null(strstr(e.msg, "threads"));
    assert_int_equal(wb_model_set_threads(m, 257, &e), WB_EUSAGE);
    assert_int_equal(wb_model_threads(m), 1);
    assert_int_equal(wb_model_set_threads(m, 4, &e), 0);
    assert_int_equal(wb_model_threads(m), 4);
    assert_int_equal(wb_model_set_threads(m, 2, &e), 0);
    assert_int_equal(wb_model_threads(m), 2);
    assert_int_equal(wb_model_set_threads(m, 1, &e), 0);
    assert_int_equal(wb_model_threads(m), 1);
    assert_int_equal(wb_model_set_threads(m, 3, &e), 0);
    wb_model_destroy(m); /* with its threads running */
}

/* Minibatch s of the row test: ids 1-4 at even steps, 5-9 at odd ones,
 * 10-12 every fifth step only, 13-14 never (padding at some ends). */
static void idle_batch(size_t T, unsigned s, int32_t *X, int32_t *y) {
    for (size_t b = 0; b < NB; b++) {
        for (size_t i = 0; i < T; i++) {
            unsigned h = (unsigned)(b * 7 + i * 3 + s * 5);
            int32_t id = s % 2 ? (int32_t)(5 + h % 5) : (int32_t)(1 + h % 4);
            if (s % 5 == 0 && i == 1) id = (int32_t)(10 + b % 3);
            X[b * T + i] = i + (b % 3) >= T ? 0 : id;
        }
        y[b] = (int32_t)((b * b + s) % 5 % 3);
    }
}

/* Twelve steps in which most rows sit idle for a while: catch-up (the
 * default) and dense each on 1, 2 and 2 lanes, lazy on 1.  Same lanes: the
 * same bits; 1 vs 2 lanes: rounding; catch-up vs dense: the catch-up's
 * approximation (optim.h), far below lazy's distance from dense. */
static void test_adam_rows(void **state) {
    (void)state;
    wb_model_cfg c;
    cfg_for(&c, WB_MODEL_KIM, WB_TASK_MULTICLASS);
    static const size_t lanes[7] = {1, 2, 2, 1, 2, 2, 1};
    static const wb_adam_mode modes[7] = {WB_ADAM_CATCHUP, WB_ADAM_CATCHUP, WB_ADAM_CATCHUP, WB_ADAM_DENSE,
                                          WB_ADAM_DENSE,   WB_ADAM_DENSE,   WB_ADAM_LAZY};
    wb_model *m[7];
    wb_rng rng[7];
    for (int i = 0; i < 7; i++) {
        m[i] = make(&c, lanes[i], 0);
        wb_model_optim(m[i])->adam = modes[i];
        wb_model_optim(m[i])->eps = 1e-7f; /* Adam's own: the catch-up's approximation lives near eps */
        wb_rng_init(&rng[i], 5);
    }
    int32_t X[NB * 8], y[NB];
    wb_err e;
    wb_err_clear(&e);
    double cu_dense = 0, lazy_dense = 0;
    for (unsigned s = 0; s < 12; s++) {
        idle_batch(c.T, s, X, y);
        for (int i = 0; i < 7; i++)
            if (wb_model_train_step(m[i], X, NB, y, NULL, NULL, &rng[i], NULL, NULL, &e))
                fail_msg("step %u model %d: %s", s, i, e.msg);
        compare(m[1], m[2], NV, c.E, -1, "catchup 2 lanes twice");
        compare(m[4], m[5], NV, c.E, -1, "dense 2 lanes twice");
        compare(m[0], m[1], NV, c.E, 2e-5f, "catchup 1 vs 2 lanes");
        compare(m[3], m[4], NV, c.E, 2e-5f, "dense 1 vs 2 lanes");
        float a[8], d[8], z[8];
        for (int32_t id = 1; id < NV; id++) {
            assert_int_equal(wb_model_get_row(m[0], id, a, NULL), 0);
            assert_int_equal(wb_model_get_row(m[3], id, d, NULL), 0);
            assert_int_equal(wb_model_get_row(m[6], id, z, NULL), 0);
            for (size_t k = 0; k < c.E; k++) {
                cu_dense = fmax(cu_dense, fabs((double)a[k] - d[k]));
                lazy_dense = fmax(lazy_dense, fabs((double)z[k] - d[k]));
            }
        }
    }
    print_message("adam rows over 12 steps: catch-up within %.3g of dense, lazy %.3g away\n", cu_dense, lazy_dense);
    assert_true(cu_dense < 1e-5);
    assert_true(lazy_dense > 100 * cu_dense && lazy_dense > 1e-3);
    for (int i = 0; i < 7; i++) wb_model_destroy(m[i]);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kinds),
        cmocka_unit_test(test_dropout_clipnorm),
        cmocka_unit_test(test_multi_input),
        cmocka_unit_test(test_set_threads),
        cmocka_unit_test(test_adam_rows),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
