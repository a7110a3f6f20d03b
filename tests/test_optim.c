/*
 * test_optim.c — specification of the optimizers (src/nn/optim.c,
 * include/wordbench/optim.h).
 *
 * Contains: the defaults table; name/parse round trip; nstate; the first two
 * steps of every rule on a scalar, against values worked out by hand in
 * double (the arithmetic is in the comments); global-norm scaling
 * (wb_optim_begin), element clipping, L2 and their order; max-norm; the
 * lazy sparse update: one call per row with its own state equals one dense
 * call when every row is touched every step, rows not touched keep their
 * weights and state bit for bit, and Adam's bias correction of a row first
 * touched at step t uses the global t; Adam's catch-up of idle rows
 * against k dense zero-gradient steps (in double) over a grid of last steps,
 * idle spans and gradient scales, and its tables against no tables.
 *
 * Leaves out: agreement with PyTorch over several steps (tests/test_parity.c
 * against fixtures/torch/).
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

#include "wordbench/optim.h"

/* |a - b| <= tol·max(1, |b|), reporting both values on failure. */
#define assert_close(a, b, tol) assert_close_at((a), (b), (tol), #a, __FILE__, __LINE__)
static void assert_close_at(double a, double b, double tol, const char *what, const char *file,
                            int line) {
    double lim = tol * (fabs(b) > 1 ? fabs(b) : 1);
    if (!(fabs(a - b) <= lim)) {
        print_error("%s = %.9g, expected %.9g (|diff| %.3g > %.3g)\n", what, a, b, fabs(a - b), lim);
        _fail(file, line);
    }
}

static uint64_t rng(uint64_t *s) {
    uint64_t z = (*s += 0x9e3779b97f4a7c15u);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
    return z ^ (z >> 31);
}
/* Uniform in [-1, 1). */
static float urand(uint64_t *s) { return (float)((double)(rng(s) >> 11) / 9007199254740992.0 * 2 - 1); }

/* One step of o on a scalar. */
static void step1(wb_optim *o, float *w, float g, float *state) {
    wb_optim_begin(o, 0);
    wb_optim_update(o, w, &g, state, 1);
}

static void test_defaults(void **unused) {
    (void)unused;
    wb_optim o;
    wb_optim_init(&o, WB_OPT_ADAM);
    assert_int_equal(o.kind, WB_OPT_ADAM);
    assert_true(o.lr == 1e-3f && o.beta1 == 0.9f && o.beta2 == 0.999f && o.eps == 1e-7f);
    assert_true(o.l2 == 0 && o.clipnorm == 0 && o.clipvalue == 0 && o.scale == 1.0f);
    assert_int_equal(o.t, 0);
    wb_optim_init(&o, WB_OPT_SGD);
    assert_true(o.lr == 0.01f && o.momentum == 0);
    wb_optim_init(&o, WB_OPT_RMSPROP);
    assert_true(o.lr == 1e-3f && o.rho == 0.9f && o.eps == 1e-7f);
    wb_optim_init(&o, WB_OPT_ADAGRAD);
    assert_true(o.lr == 1e-2f && o.eps == 1e-7f);
    wb_optim_init(&o, WB_OPT_ADADELTA);
    assert_true(o.lr == 1.0f && o.rho == 0.95f && o.eps == 1e-7f);
    assert_int_equal(o.t, 0);
    assert_true(o.scale == 1.0f);
}

static void test_names(void **unused) {
    (void)unused;
    const char *names[] = {"adam", "sgd", "rmsprop", "adagrad", "adadelta"};
    for (int k = WB_OPT_ADAM; k <= WB_OPT_ADADELTA; k++) {
        assert_string_equal(wb_optim_name((wb_opt_kind)k), names[k]);
        assert_int_equal(wb_optim_parse(wb_optim_name((wb_opt_kind)k)), k);
    }
    assert_int_equal(wb_optim_parse("nadam"), -1);
    assert_int_equal(wb_optim_parse(""), -1);
    assert_int_equal(wb_optim_parse("adam "), -1);
    assert_int_equal(wb_optim_parse("ADAM"), -1);
}

static void test_nstate(void **unused) {
    (void)unused;
    assert_int_equal(wb_optim_nstate(WB_OPT_ADAM), 2);
    assert_int_equal(wb_optim_nstate(WB_OPT_SGD), 1);
    assert_int_equal(wb_optim_nstate(WB_OPT_RMSPROP), 1);
    assert_int_equal(wb_optim_nstate(WB_OPT_ADAGRAD), 1);
    assert_int_equal(wb_optim_nstate(WB_OPT_ADADELTA), 2);
}

/* Defaults, w = 1, g = 0.5 then -0.25.
 * t=1: m = 0.05, v = 0.00025; m̂ = 0.5, v̂ = 0.25;
 *      w = 1 - 1e-3·0.5/(0.5 + 1e-7) = 0.9990000002
 * t=2: m = 0.9·0.05 - 0.1·0.25 = 0.02, v = 0.999·0.00025 + 0.001·0.0625 = 0.00031225;
 *      m̂ = 0.02/0.19, v̂ = 0.00031225/0.001999;
 *      w = 0.9990000002 - 1e-3·0.1052632/(0.3952254 + 1e-7) = 0.9987336632 */
static void test_adam_steps(void **unused) {
    (void)unused;
    wb_optim o;
    wb_optim_init(&o, WB_OPT_ADAM);
    float w = 1, st[2] = {0, 0};
    step1(&o, &w, 0.5f, st);
    assert_int_equal(o.t, 1);
    assert_close(st[0], 0.05, 1e-6);
    assert_close(st[1], 0.00025, 1e-6);
    assert_close(w, 0.9990000002, 1e-6);
    step1(&o, &w, -0.25f, st);
    assert_close(st[0], 0.02, 1e-6);
    assert_close(st[1], 0.00031225, 1e-6);
    assert_close(w, 0.9987336632, 1e-6);
}

/* lr 0.1, momentum 0.9, w = 1, g = 0.5 twice: buf 0.5 then 0.95;
 * w = 1 - 0.05 = 0.95, then 0.95 - 0.095 = 0.855.  Momentum 0: w -= lr·g. */
static void test_sgd_steps(void **unused) {
    (void)unused;
    wb_optim o;
    wb_optim_init(&o, WB_OPT_SGD);
    o.lr = 0.1f;
    o.momentum = 0.9f;
    float w = 1, buf = 0;
    step1(&o, &w, 0.5f, &buf);
    assert_close(buf, 0.5, 1e-7);
    assert_close(w, 0.95, 1e-7);
    step1(&o, &w, 0.5f, &buf);
    assert_close(buf, 0.95, 1e-7);
    assert_close(w, 0.855, 1e-7);

    wb_optim_init(&o, WB_OPT_SGD);
    w = 1;
    buf = 0;
    step1(&o, &w, 0.5f, &buf);
    assert_close(w, 0.995, 1e-7);
    step1(&o, &w, -1.0f, &buf);
    assert_close(w, 1.005, 1e-7);
}

/* Defaults (lr 1e-3, rho 0.9), w = 1, g = 0.5 twice:
 * v = 0.025, w = 1 - 1e-3·0.5/(0.1581139 + 1e-7) = 0.9968377243;
 * v = 0.0225 + 0.025 = 0.0475, w -= 1e-3·0.5/(0.2179449 + 1e-7) -> 0.9945435681. */
static void test_rmsprop_steps(void **unused) {
    (void)unused;
    wb_optim o;
    wb_optim_init(&o, WB_OPT_RMSPROP);
    float w = 1, v = 0;
    step1(&o, &w, 0.5f, &v);
    assert_close(v, 0.025, 1e-6);
    assert_close(w, 0.9968377243, 1e-6);
    step1(&o, &w, 0.5f, &v);
    assert_close(v, 0.0475, 1e-6);
    assert_close(w, 0.9945435681, 1e-6);
}

/* Defaults (lr 1e-2), w = 1, g = 0.5 twice:
 * s = 0.25, w = 1 - 0.01·0.5/(0.5 + 1e-7) = 0.990000002;
 * s = 0.5,  w -= 0.01·0.5/(0.7071068 + 1e-7) -> 0.9829289352. */
static void test_adagrad_steps(void **unused) {
    (void)unused;
    wb_optim o;
    wb_optim_init(&o, WB_OPT_ADAGRAD);
    float w = 1, s = 0;
    step1(&o, &w, 0.5f, &s);
    assert_close(s, 0.25, 1e-7);
    assert_close(w, 0.990000002, 1e-6);
    step1(&o, &w, 0.5f, &s);
    assert_close(s, 0.5, 1e-7);
    assert_close(w, 0.9829289352, 1e-6);
}

/* Defaults (lr 1, rho 0.95, eps 1e-7), w = 1, g = 0.5 twice:
 * t=1: v = 0.0125, d = sqrt(1e-7)/sqrt(0.0125001)·0.5 = 0.0014142079,
 *      u = 0.05·d² = 9.99992e-8, w = 0.9985857921
 * t=2: v = 0.024375, d = sqrt(1.999992e-7)/sqrt(0.0243751)·0.5 = 0.0014322239,
 *      u = 1.9756251e-7, w = 0.9971535681 */
static void test_adadelta_steps(void **unused) {
    (void)unused;
    wb_optim o;
    wb_optim_init(&o, WB_OPT_ADADELTA);
    float w = 1, st[2] = {0, 0};
    step1(&o, &w, 0.5f, st);
    assert_close(st[0], 0.0125, 1e-6);
    assert_close(st[1] * 1e7, 0.999992, 1e-5);
    assert_close(w, 0.9985857921, 1e-6);
    step1(&o, &w, 0.5f, st);
    assert_close(st[0], 0.024375, 1e-6);
    assert_close(st[1] * 1e7, 1.9756251, 1e-5);
    assert_close(w, 0.9971535681, 1e-6);
}

/* begin: t counts steps; scale = clipnorm/‖g‖ only when ‖g‖ > clipnorm. */
static void test_clipnorm(void **unused) {
    (void)unused;
    wb_optim o;
    wb_optim_init(&o, WB_OPT_SGD);
    o.lr = 1;
    wb_optim_begin(&o, 16.0); /* clipnorm 0: off whatever the norm */
    assert_true(o.scale == 1.0f);
    o.clipnorm = 1;
    wb_optim_begin(&o, 16.0); /* ‖g‖ = 4 */
    assert_close(o.scale, 0.25, 1e-7);
    wb_optim_begin(&o, 0.25); /* ‖g‖ = 0.5 <= 1 */
    assert_true(o.scale == 1.0f);
    wb_optim_begin(&o, 1.0); /* ‖g‖ = clipnorm exactly: unchanged */
    assert_true(o.scale == 1.0f);
    wb_optim_begin(&o, 0.0);
    assert_true(o.scale == 1.0f);
    assert_int_equal(o.t, 5);

    /* g = (3, 4), ‖g‖ = 5, clipnorm 1: the step uses (0.6, 0.8). */
    float w[2] = {0, 0}, g[2] = {3, 4}, buf[2] = {0, 0};
    assert_close(wb_sqnorm(g, 2), 25.0, 0);
    wb_optim_begin(&o, wb_sqnorm(g, 2));
    wb_optim_update(&o, w, g, buf, 2);
    assert_close(w[0], -0.6, 1e-7);
    assert_close(w[1], -0.8, 1e-7);
}

static void test_clipvalue(void **unused) {
    (void)unused;
    wb_optim o;
    wb_optim_init(&o, WB_OPT_SGD);
    o.lr = 1;
    o.clipvalue = 1;
    float w[4] = {0, 0, 0, 0}, g[4] = {2, -3, 0.5f, -1}, buf[4] = {0};
    wb_optim_begin(&o, 0);
    wb_optim_update(&o, w, g, buf, 4);
    assert_close(w[0], -1, 0);
    assert_close(w[1], 1, 0);
    assert_close(w[2], -0.5, 0);
    assert_close(w[3], 1, 0);
}

/* l2 adds l2·w to the (scaled, clipped) gradient: scale, then clip, then L2. */
static void test_l2_and_order(void **unused) {
    (void)unused;
    wb_optim o;
    wb_optim_init(&o, WB_OPT_SGD);
    o.lr = 0.1f;
    o.l2 = 0.5f;
    float w = 2, buf = 0;
    step1(&o, &w, 1.0f, &buf); /* g = 1 + 0.5·2 = 2 */
    assert_close(w, 1.8, 1e-7);

    /* g = 4, clipnorm 2 (scale 0.5) -> 2, clipvalue 1.5 -> 1.5, + 0.5·w (w = 2) -> 2.5 */
    wb_optim_init(&o, WB_OPT_SGD);
    o.lr = 1;
    o.l2 = 0.5f;
    o.clipnorm = 2;
    o.clipvalue = 1.5f;
    w = 2;
    float g = 4;
    wb_optim_begin(&o, 16.0);
    wb_optim_update(&o, &w, &g, &buf, 1);
    assert_close(w, -0.5, 1e-7);

    /* L2 also reaches the adaptive rules: adagrad's s sees (g + l2·w)². */
    wb_optim_init(&o, WB_OPT_ADAGRAD);
    o.l2 = 0.25f;
    w = 2;
    float s = 0;
    step1(&o, &w, 0.5f, &s); /* g = 1 */
    assert_close(s, 1.0, 1e-7);
    assert_close(w, 2 - 0.01 / (1 + 1e-7), 1e-7);
}

static void test_maxnorm(void **unused) {
    (void)unused;
    float W[4][2] = {{3, 4}, {0.6f, 0.8f}, {0, 0}, {0, -3}};
    wb_maxnorm_rows(&W[0][0], 4, 2, 3.0f);
    assert_close(W[0][0], 1.8, 1e-6); /* norm 5 -> 3 */
    assert_close(W[0][1], 2.4, 1e-6);
    assert_true(W[1][0] == 0.6f && W[1][1] == 0.8f); /* norm 1: untouched */
    assert_true(W[2][0] == 0 && W[2][1] == 0);
    assert_true(W[3][0] == 0 && W[3][1] == -3); /* norm exactly c: untouched */
}

/* Rows of V x E updated one call per row with their own state equal one
 * dense call over the whole matrix, bit for bit, when every row is touched
 * every step (the rules are elementwise; slot-major per span). */
enum { V = 6, E = 5, STEPS = 5 };

static void configure(wb_optim *o, wb_opt_kind k, int extras) {
    wb_optim_init(o, k);
    if (k == WB_OPT_SGD) {
        o->lr = 0.1f;
        o->momentum = 0.9f;
    }
    if (extras) {
        o->l2 = 0.01f;
        o->clipvalue = 0.8f;
        o->clipnorm = 2.0f;
    }
}

static void test_sparse_equals_dense(void **unused) {
    (void)unused;
    for (int k = WB_OPT_ADAM; k <= WB_OPT_ADADELTA; k++) {
        for (int extras = 0; extras < 2; extras++) {
            size_t ns = wb_optim_nstate((wb_opt_kind)k);
            float wd[V * E], ws[V * E], g[V * E];
            float *sd = calloc(ns * V * E, sizeof(float)), *ss = calloc(ns * V * E, sizeof(float));
            assert_non_null(sd);
            assert_non_null(ss);
            uint64_t seed = 7;
            for (int i = 0; i < V * E; i++) wd[i] = ws[i] = urand(&seed);
            wb_optim od, os;
            configure(&od, (wb_opt_kind)k, extras);
            configure(&os, (wb_opt_kind)k, extras);
            for (int s = 0; s < STEPS; s++) {
                for (int i = 0; i < V * E; i++) g[i] = urand(&seed);
                double sq = wb_sqnorm(g, V * E);
                wb_optim_begin(&od, sq);
                wb_optim_update(&od, wd, g, sd, V * E);
                /* Sparse: the norm is accumulated row by row, as the trainer does. */
                double sqr = 0;
                for (int r = 0; r < V; r++) sqr += wb_sqnorm(g + r * E, E);
                wb_optim_begin(&os, sqr);
                for (int r = 0; r < V; r++)
                    wb_optim_update(&os, ws + r * E, g + r * E, ss + r * ns * E, E);
            }
            for (int i = 0; i < V * E; i++) {
                if (wd[i] != ws[i]) fail_msg("%s extras=%d: w[%d] dense %.9g sparse %.9g",
                                             wb_optim_name((wb_opt_kind)k), extras, i, wd[i], ws[i]);
            }
            /* and the state, slot j of element (r, e): dense sd[j·V·E + r·E + e],
             * per row ss[r·ns·E + j·E + e]. */
            for (size_t j = 0; j < ns; j++)
                for (int r = 0; r < V; r++)
                    for (int e = 0; e < E; e++)
                        assert_true(sd[j * V * E + r * E + e] == ss[r * ns * E + j * E + e]);
            free(sd);
            free(ss);
        }
    }
}

/* Rows not passed to update keep weights and state bit for bit, whatever
 * the other rows do; a row's history only depends on the steps it was in. */
static void test_untouched_rows(void **unused) {
    (void)unused;
    for (int k = WB_OPT_ADAM; k <= WB_OPT_ADADELTA; k++) {
        size_t ns = wb_optim_nstate((wb_opt_kind)k);
        float w[V * E], w0[V * E], g[E];
        float *st = calloc(ns * V * E, sizeof(float));
        assert_non_null(st);
        uint64_t seed = 99;
        for (int i = 0; i < V * E; i++) w0[i] = w[i] = urand(&seed);
        wb_optim o;
        configure(&o, (wb_opt_kind)k, 0);
        /* rows 0 and 3 every step, row 1 on odd steps, rows 2, 4, 5 never */
        for (int s = 0; s < STEPS; s++) {
            wb_optim_begin(&o, 0);
            for (int r = 0; r < 4; r++) {
                if (r == 2 || (r == 1 && s % 2 == 0)) continue;
                for (int e = 0; e < E; e++) g[e] = urand(&seed);
                wb_optim_update(&o, w + r * E, g, st + r * ns * E, E);
            }
        }
        for (int r = 0; r < V; r++) {
            int touched = r == 0 || r == 1 || r == 3;
            for (int e = 0; e < E; e++) {
                if (touched) assert_true(w[r * E + e] != w0[r * E + e]);
                else assert_true(w[r * E + e] == w0[r * E + e]);
                for (size_t j = 0; j < ns; j++) {
                    float sv = st[r * ns * E + j * E + e];
                    if (!touched) assert_true(sv == 0.0f);
                }
            }
        }
        free(st);
    }
}

/* Lazy Adam: a row first touched at step 3 (zero moments) is corrected
 * with t = 3, not with its own count of 1: with g = 0.5, m = 0.05,
 * v = 0.00025, the change is 1e-3·(0.05/(1-0.9³))/(sqrt(0.00025/(1-0.999³)) + 1e-7)
 * = 6.388133782e-4 (with t = 1 it would be 1e-3). */
static void test_adam_lazy_global_t(void **unused) {
    (void)unused;
    wb_optim o;
    wb_optim_init(&o, WB_OPT_ADAM);
    float w = 1, st[2] = {0, 0};
    wb_optim_begin(&o, 0);
    wb_optim_begin(&o, 0);
    step1(&o, &w, 0.5f, st);
    assert_int_equal(o.t, 3);
    assert_close(1.0 - w, 6.388133782e-4, 1e-6);
    assert_true(fabs((1.0 - w) - 1e-3) > 1e-4); /* not the t = 1 correction */
}

/* The dense reference of a catch-up: k Adam steps with a zero gradient from
 * state (w, m, v) current through step t0, in double (torch's formula). */
static double dense_idle(const wb_optim *o, uint64_t t0, uint64_t k, double w, double m, double v) {
    double b1 = o->beta1, b2 = o->beta2;
    for (uint64_t j = 1; j <= k; j++) {
        double s = (double)(t0 + j), bc1 = 1 - pow(b1, s), bc2 = 1 - pow(b2, s);
        m *= b1, v *= b2;
        w -= (double)o->lr / bc1 * m / (sqrt(v) / sqrt(bc2) + (double)o->eps);
    }
    return w;
}

/* The catch-up against dense_idle, as a fraction of the distance the dense
 * steps travel: the state after one real step at t0 with gradient g (m and
 * v as Adam leaves them, gradient scales from 1 (sqrt(v) >> eps) down to
 * 1e-9 (sqrt(v) << eps) through sqrt(v) ≈ eps), idle for k steps.
 * Tolerances (optim.h derives them): eps = 0 is exact, 1e-5 (float
 * rounding); eps > 0 and t0 >= 1000, 1e-4; rows idle from the first steps,
 * where the bias corrections change fastest, 5%.  The worst of each is
 * printed. */
/* wb_optim_idle: the steps t0+1..t with a zero gradient and L2 equal,
 * bit for bit, t - t0 calls of wb_optim_update with g = 0 (the dense rule
 * every idle row would get), for every rule, with Adam's tables, without
 * (NULL) and past the step where the bias corrections are 1 (flat), for
 * spans of more and fewer elements than one chunk. */
static void test_idle_steps(void **unused) {
    (void)unused;
    uint64_t seed = 7;
    static const uint64_t t0s[] = {0, 1, 5, 3000, 40950, 41000};
    static const uint64_t ks[] = {1, 2, 17, 300};
    for (int kind = 0; kind < 5; kind++)
        for (int tab = 0; tab < 2; tab++) {
            wb_optim o;
            wb_optim_init(&o, (wb_opt_kind)kind);
            o.l2 = 0.01f, o.momentum = kind == WB_OPT_SGD ? 0.9f : 0, o.lr = kind == WB_OPT_ADADELTA ? 1.0f : 0.01f;
            o.clipvalue = tab ? 0.5f : 0; /* a zero gradient stays zero */
            wb_catchup cu;
            wb_catchup_init(&cu);
            if (tab) assert_int_equal(wb_catchup_reserve(&cu, &o, 50000), 0);
            size_t ns = wb_optim_nstate(o.kind);
            for (size_t ti = 0; ti < sizeof t0s / sizeof *t0s; ti++)
                for (size_t ki = 0; ki < sizeof ks / sizeof *ks; ki++) {
                    if (kind != WB_OPT_ADAM && t0s[ti] > 5) continue; /* t matters to Adam only */
                    enum { N = 70 };
                    float w[N], st[2 * N], w2[N], st2[2 * N], zero[N] = {0};
                    for (size_t i = 0; i < N; i++) w[i] = urand(&seed), st[i] = urand(&seed) * 0.1f, st[N + i] = fabsf(urand(&seed)) * 0.01f;
                    if (kind == WB_OPT_SGD || kind == WB_OPT_RMSPROP) /* one slot: SGD's buffer signed, RMSprop's v >= 0 */
                        for (size_t i = 0; i < N; i++) st[i] = kind == WB_OPT_RMSPROP ? fabsf(st[i]) : st[i];
                    if (kind == WB_OPT_ADAGRAD || kind == WB_OPT_ADADELTA)
                        for (size_t i = 0; i < N; i++) st[i] = fabsf(st[i]);
                    for (size_t n = 1; n <= N; n += N - 1) { /* one element, then more than a chunk */
                        memcpy(w2, w, sizeof w), memcpy(st2, st, sizeof st);
                        float sd[2 * N];
                        for (size_t j = 0; j < ns; j++) memcpy(sd + j * n, st + j * N, n * sizeof *sd); /* slot-major for n */
                        float wd[N];
                        memcpy(wd, w, sizeof w);
                        wb_optim d = o;
                        for (uint64_t u = t0s[ti] + 1; u <= t0s[ti] + ks[ki]; u++) {
                            d.t = u, d.scale = 0.25f; /* any scale: it multiplies zero */
                            wb_optim_update(&d, wd, zero, sd, n);
                        }
                        float si[2 * N];
                        for (size_t j = 0; j < ns; j++) memcpy(si + j * n, st2 + j * N, n * sizeof *si);
                        wb_optim_idle(&o, tab ? &cu : NULL, t0s[ti], t0s[ti] + ks[ki], w2, si, n);
                        if (memcmp(w2, wd, n * sizeof *wd) || memcmp(si, sd, ns * n * sizeof *sd))
                            fail_msg("%s%s t0 %llu k %llu n %zu: idle steps differ from the dense rule", wb_optim_name(o.kind),
                                     tab ? " (tables)" : "", (unsigned long long)t0s[ti], (unsigned long long)ks[ki], n);
                        assert_true(memcmp(w2, w, n * sizeof *w) != 0); /* the steps did move the weights */
                    }
                }
            if (tab && kind == WB_OPT_ADAM) /* the t0s above cross flat, where the tables stop */
                assert_true(cu.flat > 40950 && cu.flat < 41300 && cu.len == cu.flat);
            wb_catchup_free(&cu);
        }
}

/* wb_optim_idle_rows: rows of 1, 3, 20 and 600 elements (alone), current through
 * different steps (ties included), side by side: wb_optim_idle's bits. */
static void test_idle_rows(void **unused) {
    (void)unused;
    uint64_t seed = 11;
    for (int kind = 0; kind < 5; kind++) {
        wb_optim o;
        wb_optim_init(&o, (wb_opt_kind)kind);
        o.l2 = 0.03f, o.momentum = kind == WB_OPT_SGD ? 0.5f : 0;
        wb_catchup cu;
        wb_catchup_init(&cu);
        assert_int_equal(wb_catchup_reserve(&cu, &o, 400), 0);
        size_t ns = wb_optim_nstate(o.kind);
        static const size_t widths[] = {1, 3, 20, 600};
        for (size_t wi = 0; wi < 4; wi++) {
            enum { R = 90 };
            size_t n = widths[wi], rf = (1 + ns) * n;
            float *a = malloc(R * rf * sizeof *a), *b = malloc(R * rf * sizeof *b), *rows[R];
            assert_non_null(a), assert_non_null(b);
            uint64_t t0[R], t = 300;
            for (size_t r = 0; r < R; r++) {
                t0[r] = r < 10 ? 0 : r < 20 ? 5 : 5 + 3 * r; /* sorted, with ties, one row already current */
                if (t0[r] > t) t0[r] = t;
                for (size_t i = 0; i < rf; i++) a[r * rf + i] = i < n ? urand(&seed) : fabsf(urand(&seed)) * 0.01f;
                rows[r] = b + r * rf;
            }
            memcpy(b, a, R * rf * sizeof *a);
            for (size_t r = 0; r < R; r++) wb_optim_idle(&o, &cu, t0[r], t, a + r * rf, a + r * rf + n, n);
            wb_optim_idle_rows(&o, &cu, rows, t0, R, t, n);
            if (memcmp(a, b, R * rf * sizeof *a)) fail_msg("%s, rows of %zu: side by side differs", wb_optim_name(o.kind), n);
            free(a), free(b);
        }
        wb_catchup_free(&cu);
    }
}

static void test_adam_catchup(void **unused) {
    (void)unused;
    static const uint64_t t0s[] = {1, 2, 5, 20, 100, 1000, 5000, 40000, 1000000};
    static const uint64_t ks[] = {1, 2, 3, 10, 50, 300, 2000, 100000};
    static const double gs[] = {1, 1e-3, 1e-5, 1e-6, 3e-7, 1e-7, 3e-8, 1e-9};
    for (int pass = 0; pass < 2; pass++) {
        wb_optim o;
        wb_optim_init(&o, WB_OPT_ADAM);
        o.lr = 0.01f;
        if (pass == 0) o.eps = 0;
        wb_catchup cu;
        wb_catchup_init(&cu);
        assert_int_equal(wb_catchup_reserve(&cu, &o, 50000), 0);
        double worst_early = 0, worst_late = 0;
        for (size_t a = 0; a < sizeof t0s / sizeof *t0s; a++)
            for (size_t b = 0; b < sizeof ks / sizeof *ks; b++)
                for (size_t c = 0; c < sizeof gs / sizeof *gs; c++) {
                    uint64_t t0 = t0s[a], k = ks[b];
                    /* the state after step t0 of a row with gradient g at t0 - 1 and t0 */
                    double g = gs[c], m = 0.19 * g, v = (1 - 0.999 * 0.999) * g * g;
                    float wf = 0.5f, mf = (float)m, vf = (float)v;
                    double want = dense_idle(&o, t0, k, wf, mf, vf), moved = fabs(want - wf);
                    wb_catchup_coef co, co2;
                    assert_int_equal(wb_catchup_coef_get(&cu, &o, t0, t0 + k, &co), 1);
                    assert_int_equal(wb_catchup_coef_get(NULL, &o, t0, t0 + k, &co2), 1);
                    assert_memory_equal(&co, &co2, sizeof co);
                    float got;
                    wb_catchup_weights(&co, &got, &wf, &mf, &vf, 1);
                    float m2 = mf, v2 = vf;
                    wb_catchup_moments(&co, &m2, &v2, 1);
                    assert_true(fabs(m2 - mf * pow(0.9, (double)k)) <= 1e-6 * fabs(mf) + 1e-38);
                    assert_true(fabs(v2 - vf * pow((double)0.999f, (double)k)) <= 1e-6 * fabs(vf) + 1e-38);
                    /* float rounding of w itself: 0.5 has an ulp of 6e-8 */
                    double err = fabs((double)got - want), rel = err / (moved > 1e-30 ? moved : 1e-30);
                    if (err <= 1.2e-7) rel = 0;
                    double tol = pass == 0 ? 1e-5 : t0 >= 1000 ? 1e-4 : 0.05;
                    if (t0 >= 1000 || pass == 0) worst_late = rel > worst_late ? rel : worst_late;
                    else worst_early = rel > worst_early ? rel : worst_early;
                    if (rel > tol)
                        fail_msg("eps %g t0 %llu k %llu g %g: %.9g, dense %.9g (moved %.3g, %.3g of it)", (double)o.eps,
                                 (unsigned long long)t0, (unsigned long long)k, g, (double)got, want, moved, rel);
                }
        print_message("adam catch-up, eps %g: worst %.3g of the distance (t0 >= 1000 or eps 0), %.3g (t0 < 1000)\n",
                      (double)o.eps, worst_late, worst_early);
        /* nothing to do: no idle step, or not an Adam the catch-up serves */
        wb_catchup_coef co;
        assert_int_equal(wb_catchup_coef_get(&cu, &o, 7, 7, &co), 0);
        o.beta1 = 0.99f, o.beta2 = 0.98f; /* β1 > sqrt(β2): an idle row's step grows */
        assert_int_equal(wb_catchup_valid(&o), 0);
        assert_int_equal(wb_catchup_coef_get(&cu, &o, 1, 7, &co), 0);
        wb_catchup_free(&cu);
    }
    assert_string_equal(wb_adam_mode_name(WB_ADAM_DENSE), "dense");
    assert_int_equal(wb_adam_mode_parse("lazy"), WB_ADAM_LAZY);
    assert_int_equal(wb_adam_mode_parse("catchup"), WB_ADAM_CATCHUP);
    assert_int_equal(wb_adam_mode_parse("eager"), -1);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_nstate),
        cmocka_unit_test(test_adam_steps),
        cmocka_unit_test(test_sgd_steps),
        cmocka_unit_test(test_rmsprop_steps),
        cmocka_unit_test(test_adagrad_steps),
        cmocka_unit_test(test_adadelta_steps),
        cmocka_unit_test(test_clipnorm),
        cmocka_unit_test(test_clipvalue),
        cmocka_unit_test(test_l2_and_order),
        cmocka_unit_test(test_maxnorm),
        cmocka_unit_test(test_sparse_equals_dense),
        cmocka_unit_test(test_untouched_rows),
        cmocka_unit_test(test_adam_lazy_global_t),
        cmocka_unit_test(test_adam_catchup),
        cmocka_unit_test(test_idle_steps),
        cmocka_unit_test(test_idle_rows),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
