/*
 * test_bow.c — the bag-of-words part's training (src/model/part_bow.c):
 * the L2 decay of the rows outside a minibatch, caught up exactly, gives
 * the bits of the dense rule (--adam dense: every row stepped every step),
 * with one lane and two, through evaluations in between; and the cache of
 * sparse rows changes nothing (whole, partial, none).  The features
 * themselves are checked against scikit-learn's in test_parts.c.
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
#include "wordbench/optim.h"
#include "wordbench/rng.h"

#define NX 96   /* texts */
#define TX 14   /* ids per text */
#define VX 60   /* vocabulary */
#define BX 8    /* minibatch */
#define NTR 72 /* the first NTR texts train, the others are evaluated */

/* Texts of Zipf-like word ids (rare words: rows that go idle for long),
 * post-padded to various lengths, an OOV id now and then; label: whether
 * word 2 or 3 occurs.  A few texts repeat (the cache keeps one row), the
 * first is empty. */
static void corpus(int32_t *X, float *y) {
    uint64_t r = 12345;
    for (size_t i = 0; i < NX; i++) {
        size_t len = 3 + i % (TX - 2);
        int pos = 0;
        for (size_t j = 0; j < TX; j++) {
            r = r * 6364136223846793005ull + 1442695040888963407ull;
            double u = (double)(r >> 11) / 9007199254740992.0;
            int32_t id = 2 + (int32_t)((VX - 2) * u * u * u);
            if ((r >> 7) % 23 == 0) id = 1;
            X[i * TX + j] = j < len ? id : 0;
            pos |= j < len && (id == 2 || id == 3);
        }
        y[i] = (float)pos;
    }
    memset(X, 0, TX * sizeof *X), y[0] = 0; /* an empty text, the cache's first */
    for (size_t i = 40; i < 44; i++) memcpy(X + i * TX, X + (i - 40) * TX, TX * sizeof *X), y[i] = y[i - 40];
}

typedef struct run_opts {
    wb_opt_kind kind;
    wb_adam_mode adam;
    float l2;
    size_t threads;
    int eval;            /* predict the held-out texts after every epoch */
    const char *cache;   /* WB_BOW_CACHE_MB, NULL: unset */
} run_opts;

/* Train a bow tf-idf 1-2-gram model 4 epochs; w gets every row (D × 1) then the bias. */
static size_t train(const run_opts *ro, float *w, size_t cap, uint64_t *cache_bytes) {
    static int32_t X[NX * TX];
    static float y[NX];
    corpus(X, y);
    wb_model_cfg c;
    wb_model_cfg_init(&c, WB_MODEL_BOW);
    c.task = WB_TASK_BINARY, c.C = 1, c.V = VX, c.T = TX, c.E = 1, c.seed = 3, c.dropout = 0;
    c.bow = WB_BOW_TFIDF, c.ngrams = 2;
    wb_optim o;
    wb_optim_init(&o, ro->kind);
    o.lr = ro->kind == WB_OPT_ADAM ? 0.05f : 0.5f, o.l2 = ro->l2, o.adam = ro->adam;
    if (ro->kind == WB_OPT_SGD) o.momentum = 0.9f;
    wb_model *m = NULL;
    wb_err e;
    wb_err_clear(&e);
    if (ro->cache) setenv("WB_BOW_CACHE_MB", ro->cache, 1);
    else unsetenv("WB_BOW_CACHE_MB");
    if (wb_model_create(&m, &c, &o, BX, &e)) fail_msg("create: %s", e.msg);
    if (ro->threads > 1) assert_int_equal(wb_model_set_threads(m, ro->threads, &e), 0);
    wb_ids xi = {.data = X, .n = NX, .T = TX, .width = 4};
    uint32_t idx[NTR];
    for (uint32_t i = 0; i < NTR; i++) idx[i] = i;
    assert_int_equal(wb_model_fit(m, &xi, idx, NTR, &e), 0);
    unsetenv("WB_BOW_CACHE_MB");
    wb_model_mem mm;
    wb_model_mem_get(m, &mm);
    *cache_bytes = mm.cache_bytes;
    wb_rng rng; /* the lanes' dropout generators (no dropout here) */
    wb_rng_init(&rng, 5);
    for (int ep = 0; ep < 4; ep++) {
        for (size_t s = 0; s < NTR; s += BX) {
            size_t b = NTR - s < BX ? NTR - s : BX;
            float loss;
            if (wb_model_train_step(m, X + s * TX, b, NULL, y + s, NULL, &rng, &loss, NULL, &e)) fail_msg("step: %s", e.msg);
        }
        if (ro->eval) {
            float p[BX];
            for (size_t s = NTR; s < NX; s += BX)
                assert_int_equal(wb_model_predict(m, X + s * TX, NX - s < BX ? NX - s : BX, NULL, NULL, NULL, p, NULL, &e), 0);
        }
    }
    size_t D = wb_model_cfg_get(m)->D;
    assert_true(D + 1 <= cap);
    for (size_t f = 0; f < D; f++) assert_int_equal(wb_model_get_row(m, (int32_t)f, w + f, &e), 0);
    float *bias = NULL;
    size_t n = 0;
    for (size_t i = 0; i < wb_model_ntensors(m); i++)
        if (strstr(wb_model_tensor(m, i, &bias, NULL, &n, NULL, NULL), "bias")) break;
    assert_non_null(bias);
    w[D] = bias[0];
    wb_model_destroy(m);
    return D + 1;
}

#define CAP 4096

static void same(const char *what, const float *a, size_t na, const float *b, size_t nb) {
    assert_int_equal(na, nb);
    for (size_t i = 0; i < na; i++)
        if (memcmp(&a[i], &b[i], sizeof *a)) fail_msg("%s: weight %zu: %.9g vs %.9g", what, i, a[i], b[i]);
}

/* With --l2 the idle rows decay, caught up exactly: the dense rule's bits. */
static void test_l2_equals_dense(void **unused) {
    (void)unused;
    static float a[CAP], d[CAP], lz[CAP];
    uint64_t cb;
    for (size_t th = 1; th <= 2; th++) {
        run_opts ro = {.kind = WB_OPT_ADAM, .adam = WB_ADAM_CATCHUP, .l2 = 0.02f, .threads = th};
        size_t na = train(&ro, a, CAP, &cb);
        ro.adam = WB_ADAM_DENSE;
        size_t nd = train(&ro, d, CAP, &cb);
        same(th > 1 ? "catch-up vs dense, 2 lanes" : "catch-up vs dense", a, na, d, nd);
        ro.adam = WB_ADAM_CATCHUP, ro.eval = 1; /* predictions in between catch every row up early */
        nd = train(&ro, d, CAP, &cb);
        same("with evaluations", a, na, d, nd);
        /* lazy Adam leaves idle rows alone: other weights, larger in norm */
        ro.adam = WB_ADAM_LAZY, ro.eval = 0;
        size_t nl = train(&ro, lz, CAP, &cb);
        assert_int_equal(nl, na);
        double sa = 0, sl = 0;
        for (size_t i = 0; i + 1 < na; i++) sa += (double)a[i] * a[i], sl += (double)lz[i] * lz[i];
        if (!(sa < sl)) fail_msg("the decayed rows' norm %g is not below the lazy ones' %g", sa, sl);
    }
}

/* The cache of sparse rows (whole, partial, none) changes no bit, with
 * and without L2, Adam and SGD with momentum. */
static void test_cache_identical(void **unused) {
    (void)unused;
    static float a[CAP], b[CAP];
    static const float l2s[] = {0, 0.02f};
    for (int k = 0; k < 2; k++)
        for (size_t li = 0; li < 2; li++) {
            run_opts ro = {.kind = k ? WB_OPT_SGD : WB_OPT_ADAM, .l2 = l2s[li], .eval = 1};
            uint64_t whole, part, none;
            size_t na = train(&ro, a, CAP, &whole);
            assert_true(whole > 0);
            ro.cache = "0";
            size_t nb = train(&ro, b, CAP, &none);
            assert_int_equal(none, 0);
            same("cached vs not", a, na, b, nb);
            ro.cache = "0.016"; /* 16 KiB: some texts */
            nb = train(&ro, b, CAP, &part);
            if (!(part > 0 && part <= 16777 && part < whole)) fail_msg("cache of %llu bytes (whole: %llu)", (unsigned long long)part, (unsigned long long)whole);
            same("partly cached vs not", a, na, b, nb);
        }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_l2_equals_dense),
        cmocka_unit_test(test_cache_identical),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
