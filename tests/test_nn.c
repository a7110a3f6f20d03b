/*
 * test_nn.c — specification of the layers (src/nn/nn.c, wordbench/nn.h).
 *
 * Contains:
 *   - naive-loop twins (double precision) of every sgemm-based function —
 *     dense forward/backward, Conv1D forward/backward — compared on many
 *     shapes (k = 1, k = L, B = 1, odd sizes) and on the real model shape
 *     B=32, L=100, D=300, F=128, k=5, with a relative tolerance;
 *   - central-difference gradient checks of every input and parameter
 *     gradient of every layer and of both losses (with and without class
 *     weights), the scalar being Σ r·y for a fixed random r;
 *   - wb_conv1d_backward_argmax equal to gmaxpool_backward followed by
 *     conv1d_backward;
 *   - semantics: backward accumulates into non-zero gradients, NULL
 *     gradients are skipped, dropout p = 0 is the identity, the dropout keep
 *     rate is near 1-p and reproducible for a seed, losses stay finite for
 *     logits of ±1e4, ties in the max pools go to the first index.
 *
 * Leaves out: timing (no assertion depends on speed), PyTorch reference
 * fixtures (a later fixture script), the model's layer order (test_model.c).
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

#include "wordbench/nn.h"
#include "wordbench/split.h"

/* ---- helpers ------------------------------------------------------------ */

static uint64_t g_seed = 12345;

static uint64_t rnd64(void) {
    uint64_t z = (g_seed += 0x9e3779b97f4a7c15u);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
    return z ^ (z >> 31);
}

/* Uniform in [-1, 1). */
static float urand(void) { return (float)((double)(rnd64() >> 11) * 0x1.0p-53 * 2.0 - 1.0); }

static float *fvec(size_t n) {
    float *v = malloc((n ? n : 1) * sizeof(float));
    assert_non_null(v);
    for (size_t i = 0; i < n; i++) v[i] = urand();
    return v;
}

static float *fzeros(size_t n) {
    float *v = calloc(n ? n : 1, sizeof(float));
    assert_non_null(v);
    return v;
}

static double *dzeros(size_t n) {
    double *v = calloc(n ? n : 1, sizeof(double));
    assert_non_null(v);
    return v;
}

static float *fcopy(const float *a, size_t n) {
    float *v = malloc((n ? n : 1) * sizeof(float));
    assert_non_null(v);
    memcpy(v, a, n * sizeof(float));
    return v;
}

/* Named comparison: |got - ref| <= tol · max(1, max|ref|) everywhere.
 * Prints the largest difference on failure (and always, when verbose). */
static void check_close(const char *what, const float *got, const double *ref, size_t n,
                        double tol) {
    double scale = 1.0, worst = 0.0;
    size_t wi = 0;
    for (size_t i = 0; i < n; i++)
        if (fabs(ref[i]) > scale) scale = fabs(ref[i]);
    for (size_t i = 0; i < n; i++) {
        double d = fabs((double)got[i] - ref[i]);
        if (!(d <= worst)) worst = d, wi = i; /* NaN counts as worst */
    }
    if (!(worst <= tol * scale)) {
        print_error("%s: largest difference %.3g at %zu (got %.9g, want %.9g), limit %.3g\n", what,
                    worst, wi, (double)got[wi], ref[wi], tol * scale);
        fail();
    }
}

static void check_close_f(const char *what, const float *got, const float *ref, size_t n,
                          double tol) {
    double *r = dzeros(n);
    for (size_t i = 0; i < n; i++) r[i] = ref[i];
    check_close(what, got, r, n, tol);
    free(r);
}

/* float sgemm vs the double twin, relative to max(1, max |ref|): a float
 * dot product of length K errs by up to about sqrt(K)·2^-24 of its terms. */
#define TOL_GEMM 1e-5
#define TOL_ULP 1e-6  /* two float computations of the same sum, reordered */

/* ---- naive twins (double) --------------------------------------------- */

static void naive_dense_forward(const float *x, size_t B, size_t I, const float *W,
                                const float *b, size_t O, double *y) {
    for (size_t i = 0; i < B; i++)
        for (size_t o = 0; o < O; o++) {
            double s = b ? b[o] : 0.0;
            for (size_t j = 0; j < I; j++) s += (double)x[i * I + j] * W[o * I + j];
            y[i * O + o] = s;
        }
}

static void naive_dense_backward(const float *x, const float *dy, size_t B, size_t I,
                                 const float *W, size_t O, double *dW, double *db, double *dx) {
    for (size_t i = 0; i < B; i++)
        for (size_t o = 0; o < O; o++) {
            double g = dy[i * O + o];
            db[o] += g;
            for (size_t j = 0; j < I; j++) {
                dW[o * I + j] += g * x[i * I + j];
                dx[i * I + j] += g * W[o * I + j];
            }
        }
}

/* y[b][s][f] for s < T only; other rows of y untouched. */
static void naive_conv_forward(const float *x, size_t B, size_t L, size_t D, const float *W,
                               const float *b, size_t F, size_t k, double *y) {
    const size_t T = L - k + 1;
    for (size_t i = 0; i < B; i++)
        for (size_t s = 0; s < T; s++)
            for (size_t f = 0; f < F; f++) {
                double acc = b ? b[f] : 0.0;
                for (size_t t = 0; t < k; t++)
                    for (size_t d = 0; d < D; d++)
                        acc += (double)x[(i * L + s + t) * D + d] * W[f * k * D + t * D + d];
                y[(i * L + s) * F + f] = acc;
            }
}

/* Reads only the valid rows of dy. */
static void naive_conv_backward(const float *x, const float *dy, size_t B, size_t L, size_t D,
                                const float *W, size_t F, size_t k, double *dW, double *db,
                                double *dx) {
    const size_t T = L - k + 1;
    for (size_t i = 0; i < B; i++)
        for (size_t s = 0; s < T; s++)
            for (size_t f = 0; f < F; f++) {
                double g = dy[(i * L + s) * F + f];
                db[f] += g;
                for (size_t t = 0; t < k; t++)
                    for (size_t d = 0; d < D; d++) {
                        dW[f * k * D + t * D + d] += g * x[(i * L + s + t) * D + d];
                        dx[(i * L + s + t) * D + d] += g * W[f * k * D + t * D + d];
                    }
            }
}

/* Compare only valid conv rows (s < T) of got against ref. */
static void check_conv_rows(const char *what, const float *got, const double *ref, size_t B,
                            size_t L, size_t F, size_t k, double tol) {
    const size_t T = L - k + 1;
    float *g = fzeros(B * T * F);
    double *r = dzeros(B * T * F);
    for (size_t i = 0; i < B; i++) {
        memcpy(g + i * T * F, got + i * L * F, T * F * sizeof(float));
        memcpy(r + i * T * F, ref + i * L * F, T * F * sizeof(double));
    }
    check_close(what, g, r, B * T * F, tol);
    free(g);
    free(r);
}

/* ---- dense vs naive --------------------------------------------------- */

static void dense_case(size_t B, size_t I, size_t O, int bias) {
    float *x = fvec(B * I), *W = fvec(O * I), *b = bias ? fvec(O) : NULL, *y = fvec(B * O);
    double *yr = dzeros(B * O);
    wb_dense_forward(x, B, I, W, b, O, y);
    naive_dense_forward(x, B, I, W, b, O, yr);
    check_close("dense y", y, yr, B * O, TOL_GEMM);

    float *dy = fvec(B * O), *dW = fzeros(O * I), *db = fzeros(O), *dx = fzeros(B * I);
    double *dWr = dzeros(O * I), *dbr = dzeros(O), *dxr = dzeros(B * I);
    wb_dense_backward(x, dy, B, I, W, O, dW, db, dx);
    naive_dense_backward(x, dy, B, I, W, O, dWr, dbr, dxr);
    check_close("dense dW", dW, dWr, O * I, TOL_GEMM);
    check_close("dense db", db, dbr, O, TOL_GEMM);
    check_close("dense dx", dx, dxr, B * I, TOL_GEMM);
    free(x), free(W), free(b), free(y), free(yr), free(dy), free(dW), free(db), free(dx);
    free(dWr), free(dbr), free(dxr);
}

static void test_dense_vs_naive(void **state) {
    (void)state;
    static const size_t shapes[][3] = {{1, 1, 1},   {1, 7, 3},   {4, 5, 2},   {32, 384, 2},
                                       {3, 17, 11}, {32, 128, 10}, {1, 300, 1}, {13, 64, 33}};
    for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++) {
        dense_case(shapes[i][0], shapes[i][1], shapes[i][2], 1);
        dense_case(shapes[i][0], shapes[i][1], shapes[i][2], 0);
    }
    for (int r = 0; r < 10; r++)
        dense_case(1 + rnd64() % 20, 1 + rnd64() % 70, 1 + rnd64() % 15, (int)(rnd64() & 1));
}

/* ---- conv vs naive ---------------------------------------------------- */

static void conv_case(size_t B, size_t L, size_t D, size_t F, size_t k, int bias,
                      int do_backward) {
    float *x = fvec(B * L * D), *W = fvec(F * k * D), *b = bias ? fvec(F) : NULL;
    float *y = fvec(B * L * F); /* garbage before: forward must overwrite */
    double *yr = dzeros(B * L * F);
    wb_conv1d_forward(x, B, L, D, W, b, F, k, y);
    naive_conv_forward(x, B, L, D, W, b, F, k, yr);
    check_conv_rows("conv y", y, yr, B, L, F, k, TOL_GEMM);
    for (size_t i = 0; i < B * L * F; i++) assert_true(isfinite(y[i])); /* scratch written */
    if (do_backward) {
        float *dy = fvec(B * L * F); /* scratch rows hold junk: must be ignored */
        float *dW = fzeros(F * k * D), *db = fzeros(F), *dx = fzeros(B * L * D);
        double *dWr = dzeros(F * k * D), *dbr = dzeros(F), *dxr = dzeros(B * L * D);
        naive_conv_backward(x, dy, B, L, D, W, F, k, dWr, dbr, dxr);
        wb_conv1d_backward(x, dy, B, L, D, W, F, k, dW, db, dx);
        check_close("conv dW", dW, dWr, F * k * D, TOL_GEMM);
        check_close("conv db", db, dbr, F, TOL_GEMM);
        check_close("conv dx", dx, dxr, B * L * D, TOL_GEMM);
        free(dy), free(dW), free(db), free(dx), free(dWr), free(dbr), free(dxr);
    }
    free(x), free(W), free(b), free(y), free(yr);
}

static void test_conv_vs_naive(void **state) {
    (void)state;
    /* B, L, D, F, k */
    static const size_t shapes[][5] = {
        {1, 1, 1, 1, 1},  {1, 5, 3, 2, 1},  {1, 5, 3, 2, 5},  {2, 5, 3, 2, 5},  {3, 7, 4, 5, 3},
        {4, 10, 8, 6, 1}, {4, 10, 8, 6, 10}, {1, 9, 13, 7, 4}, {5, 12, 1, 3, 2}, {2, 3, 5, 1, 2},
        {8, 20, 16, 9, 5}, {3, 6, 300, 4, 5},
    };
    for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++)
        for (int bias = 0; bias < 2; bias++)
            conv_case(shapes[i][0], shapes[i][1], shapes[i][2], shapes[i][3], shapes[i][4], bias,
                      1);
    for (int r = 0; r < 12; r++) {
        size_t L = 1 + rnd64() % 25, k = 1 + rnd64() % L;
        conv_case(1 + rnd64() % 9, L, 1 + rnd64() % 20, 1 + rnd64() % 12, k, (int)(rnd64() & 1),
                  1);
    }
}

/* The real model's shapes: the CNN over 300-d embeddings, 100 tokens. */
static void test_conv_real_shape(void **state) {
    (void)state;
    conv_case(32, 100, 300, 128, 5, 1, 0); /* forward, one full batch */
    conv_case(4, 100, 300, 128, 5, 1, 1);  /* backward on a smaller batch */
    conv_case(2, 100, 300, 128, 3, 0, 1);
}

/* ---- finite differences ------------------------------------------------- */

/* The scalar whose gradient is checked: a closure evaluated in double. */
typedef double (*loss_fn)(void *ctx);

/* Central difference d loss / d v[i] for every i, with step h, against
 * ana[i]; the actual step is the float difference of the perturbed values.
 * Passes when |ana - num| <= atol + rtol·|num|. */
static void fd_check(const char *what, loss_fn f, void *ctx, float *v, size_t n, const float *ana,
                     float h, double atol, double rtol) {
    double worst = 0.0;
    size_t wi = 0;
    double wnum = 0.0;
    for (size_t i = 0; i < n; i++) {
        const float v0 = v[i], vp = v0 + h, vm = v0 - h;
        v[i] = vp;
        double lp = f(ctx);
        v[i] = vm;
        double lm = f(ctx);
        v[i] = v0;
        double num = (lp - lm) / ((double)vp - (double)vm);
        double excess = fabs((double)ana[i] - num) - (atol + rtol * fabs(num));
        if (!(excess <= worst)) worst = excess, wi = i, wnum = num;
    }
    if (!(worst <= 0.0)) {
        print_error("%s: gradient %zu analytic %.9g numeric %.9g\n", what, wi, (double)ana[wi],
                    wnum);
        fail();
    }
}

static double dot_r(const float *y, const float *r, size_t n) {
    double s = 0.0;
    for (size_t i = 0; i < n; i++) s += (double)y[i] * r[i];
    return s;
}

/* dense: loss = Σ r·y. */
typedef struct dense_ctx {
    float *x, *W, *b, *y, *r;
    size_t B, I, O;
} dense_ctx;

static double dense_loss(void *p) {
    dense_ctx *c = p;
    wb_dense_forward(c->x, c->B, c->I, c->W, c->b, c->O, c->y);
    return dot_r(c->y, c->r, c->B * c->O);
}

static void test_dense_gradcheck(void **state) {
    (void)state;
    dense_ctx c = {.B = 3, .I = 5, .O = 4};
    c.x = fvec(c.B * c.I), c.W = fvec(c.O * c.I), c.b = fvec(c.O), c.y = fzeros(c.B * c.O);
    c.r = fvec(c.B * c.O);
    float *dW = fzeros(c.O * c.I), *db = fzeros(c.O), *dx = fzeros(c.B * c.I);
    wb_dense_backward(c.x, c.r, c.B, c.I, c.W, c.O, dW, db, dx);
    /* Linear in each argument: any step is exact up to rounding. */
    fd_check("dense dx", dense_loss, &c, c.x, c.B * c.I, dx, 0.25f, 1e-5, 1e-5);
    fd_check("dense dW", dense_loss, &c, c.W, c.O * c.I, dW, 0.25f, 1e-5, 1e-5);
    fd_check("dense db", dense_loss, &c, c.b, c.O, db, 0.25f, 1e-5, 1e-5);
    free(c.x), free(c.W), free(c.b), free(c.y), free(c.r), free(dW), free(db), free(dx);
}

/* conv: loss = Σ_{valid rows} r·y (r is zero on scratch rows). */
typedef struct conv_ctx {
    float *x, *W, *b, *y, *r;
    size_t B, L, D, F, k;
} conv_ctx;

static double conv_loss(void *p) {
    conv_ctx *c = p;
    wb_conv1d_forward(c->x, c->B, c->L, c->D, c->W, c->b, c->F, c->k, c->y);
    return dot_r(c->y, c->r, c->B * c->L * c->F);
}

static void conv_ctx_init(conv_ctx *c, size_t B, size_t L, size_t D, size_t F, size_t k) {
    *c = (conv_ctx){.B = B, .L = L, .D = D, .F = F, .k = k};
    c->x = fvec(B * L * D), c->W = fvec(F * k * D), c->b = fvec(F), c->y = fzeros(B * L * F);
    c->r = fvec(B * L * F);
    for (size_t i = 0; i < B; i++)
        for (size_t s = L - k + 1; s < L; s++)
            for (size_t f = 0; f < F; f++) c->r[(i * L + s) * F + f] = 0.0f;
}

static void conv_ctx_free(conv_ctx *c) {
    free(c->x), free(c->W), free(c->b), free(c->y), free(c->r);
}

static void test_conv_gradcheck(void **state) {
    (void)state;
    static const size_t shapes[][5] = {{2, 6, 3, 4, 3}, {1, 4, 2, 3, 4}, {3, 5, 2, 2, 1}};
    for (size_t q = 0; q < 3; q++) {
        conv_ctx c;
        conv_ctx_init(&c, shapes[q][0], shapes[q][1], shapes[q][2], shapes[q][3], shapes[q][4]);
        const size_t nW = c.F * c.k * c.D, nx = c.B * c.L * c.D;
        float *dW = fzeros(nW), *db = fzeros(c.F), *dx = fzeros(nx);
        float *dy = fcopy(c.r, c.B * c.L * c.F);
        wb_conv1d_backward(c.x, dy, c.B, c.L, c.D, c.W, c.F, c.k, dW, db, dx);
        fd_check("conv dx", conv_loss, &c, c.x, nx, dx, 0.25f, 1e-5, 1e-5);
        fd_check("conv dW", conv_loss, &c, c.W, nW, dW, 0.25f, 1e-5, 1e-5);
        fd_check("conv db", conv_loss, &c, c.b, c.F, db, 0.25f, 1e-5, 1e-5);
        free(dW), free(db), free(dx), free(dy);
        conv_ctx_free(&c);
    }
}

/* conv -> global max pool: loss = Σ r·pool.  The argmax backward is the
 * gradient; data are drawn so that no step flips an argmax. */
typedef struct convpool_ctx {
    conv_ctx c;
    float *pool, *rp;
    int32_t *am;
} convpool_ctx;

static double convpool_loss(void *p) {
    convpool_ctx *q = p;
    conv_ctx *c = &q->c;
    wb_conv1d_forward(c->x, c->B, c->L, c->D, c->W, c->b, c->F, c->k, c->y);
    wb_gmaxpool_forward(c->y, c->B, c->L, c->L - c->k + 1, c->F, q->pool, q->am);
    return dot_r(q->pool, q->rp, c->B * c->F);
}

static void test_conv_argmax_gradcheck(void **state) {
    (void)state;
    convpool_ctx q;
    conv_ctx *c = &q.c;
    conv_ctx_init(c, 3, 7, 3, 4, 3);
    q.pool = fzeros(c->B * c->F), q.rp = fvec(c->B * c->F);
    q.am = calloc(c->B * c->F, sizeof(int32_t));
    assert_non_null(q.am);
    /* Redraw x until every pooled maximum leads the runner-up by 0.05: a
     * step of 1e-3 in x or W then moves each output by far less. */
    const size_t T = c->L - c->k + 1;
    for (int tries = 0;; tries++) {
        assert_true(tries < 1000);
        for (size_t i = 0; i < c->B * c->L * c->D; i++) c->x[i] = urand();
        (void)convpool_loss(&q);
        float gap = INFINITY;
        for (size_t i = 0; i < c->B; i++)
            for (size_t f = 0; f < c->F; f++)
                for (size_t s = 0; s < T; s++)
                    if (s != (size_t)q.am[i * c->F + f]) {
                        float d = q.pool[i * c->F + f] - c->y[(i * c->L + s) * c->F + f];
                        if (d < gap) gap = d;
                    }
        if (gap > 0.05f) break;
    }
    const size_t nW = c->F * c->k * c->D, nx = c->B * c->L * c->D;
    float *dW = fzeros(nW), *db = fzeros(c->F), *dx = fzeros(nx);
    wb_conv1d_backward_argmax(c->x, c->B, c->L, c->D, c->W, c->F, c->k, q.am, q.rp, dW, db, dx);
    /* A step of 1e-2 moves each conv output by at most 1e-2 (|x|, |W| <= 1),
     * less than half the 0.05 gap: the loss stays on one linear piece. */
    fd_check("convmax dx", convpool_loss, &q, c->x, nx, dx, 1e-2f, 2e-5, 1e-4);
    fd_check("convmax dW", convpool_loss, &q, c->W, nW, dW, 1e-2f, 2e-5, 1e-4);
    fd_check("convmax db", convpool_loss, &q, c->b, c->F, db, 1e-2f, 2e-5, 1e-4);
    free(dW), free(db), free(dx), free(q.pool), free(q.rp), free(q.am);
    conv_ctx_free(c);
}

/* argmax backward == gmaxpool_backward then conv1d_backward. */
static void argmax_equiv_case(size_t B, size_t L, size_t D, size_t F, size_t k) {
    const size_t T = L - k + 1;
    float *x = fvec(B * L * D), *W = fvec(F * k * D), *b = fvec(F), *y = fzeros(B * L * F);
    float *pool = fzeros(B * F), *dpool = fvec(B * F);
    int32_t *am = calloc(B * F, sizeof(int32_t));
    assert_non_null(am);
    dpool[0] = 0.0f; /* a switched-off filter is skipped, with the same result */
    wb_conv1d_forward(x, B, L, D, W, b, F, k, y);
    wb_gmaxpool_forward(y, B, L, T, F, pool, am);
    for (size_t i = 0; i < B * F; i++) assert_true(am[i] >= 0 && (size_t)am[i] < T);
    float *dW1 = fzeros(F * k * D), *db1 = fzeros(F), *dx1 = fzeros(B * L * D);
    float *dW2 = fzeros(F * k * D), *db2 = fzeros(F), *dx2 = fzeros(B * L * D);
    float *dy = fzeros(B * L * F);
    wb_conv1d_backward_argmax(x, B, L, D, W, F, k, am, dpool, dW1, db1, dx1);
    wb_gmaxpool_backward(dpool, am, B, L, F, dy);
    wb_conv1d_backward(x, dy, B, L, D, W, F, k, dW2, db2, dx2);
    check_close_f("argmax dW", dW1, dW2, F * k * D, TOL_ULP * 10);
    check_close_f("argmax db", db1, db2, F, TOL_ULP * 10);
    check_close_f("argmax dx", dx1, dx2, B * L * D, TOL_ULP * 10);
    free(x), free(W), free(b), free(y), free(pool), free(dpool), free(am), free(dW1), free(db1);
    free(dx1), free(dW2), free(db2), free(dx2), free(dy);
}

static void test_conv_argmax_equiv(void **state) {
    (void)state;
    argmax_equiv_case(4, 10, 6, 5, 3);
    argmax_equiv_case(1, 8, 4, 3, 8); /* k = L: T = 1 */
    argmax_equiv_case(3, 9, 5, 7, 1);
    argmax_equiv_case(8, 100, 300, 128, 5);
}

/* pools: loss = Σ r·out.  Inputs are distinct multiples of 1/64 shuffled,
 * so a step of 1e-3 never changes a maximum. */
static void fill_distinct(float *x, size_t n) {
    for (size_t i = 0; i < n; i++) x[i] = (float)i / 64.0f - (float)n / 128.0f;
    for (size_t i = n; i > 1; i--) {
        size_t j = rnd64() % i;
        float t = x[i - 1];
        x[i - 1] = x[j], x[j] = t;
    }
}

typedef struct pool_ctx {
    float *x, *out, *r;
    int32_t *am;
    size_t B, L, T, C, p;
    int kind; /* 0 gmax, 1 gavg, 2 maxpool */
} pool_ctx;

static size_t pool_nout(const pool_ctx *c) {
    return c->kind == 2 ? c->B * (c->L / c->p) * c->C : c->B * c->C;
}

static double pool_loss(void *p) {
    pool_ctx *c = p;
    if (c->kind == 0) wb_gmaxpool_forward(c->x, c->B, c->L, c->T, c->C, c->out, c->am);
    if (c->kind == 1) wb_gavgpool_forward(c->x, c->B, c->L, c->C, c->out);
    if (c->kind == 2) wb_maxpool_forward(c->x, c->B, c->L, c->C, c->p, c->out, c->am);
    return dot_r(c->out, c->r, pool_nout(c));
}

static void test_pool_gradcheck(void **state) {
    (void)state;
    for (int kind = 0; kind < 3; kind++) {
        pool_ctx c = {.B = 3, .L = 7, .T = kind == 0 ? 5 : 7, .C = 4, .p = 3, .kind = kind};
        const size_t nx = c.B * c.L * c.C, no = pool_nout(&c);
        c.x = fzeros(nx), c.out = fzeros(no), c.r = fvec(no);
        c.am = calloc(no, sizeof(int32_t));
        assert_non_null(c.am);
        fill_distinct(c.x, nx);
        (void)pool_loss(&c);
        float *dx = fzeros(nx);
        if (kind == 0) wb_gmaxpool_backward(c.r, c.am, c.B, c.L, c.C, dx);
        if (kind == 1) wb_gavgpool_backward(c.r, c.B, c.L, c.C, dx);
        if (kind == 2) wb_maxpool_backward(c.r, c.am, c.B, c.L, c.C, c.p, dx);
        static const char *names[] = {"gmaxpool dx", "gavgpool dx", "maxpool dx"};
        fd_check(names[kind], pool_loss, &c, c.x, nx, dx, 1e-3f, 1e-4, 1e-3);
        if (kind == 0) /* rows [T, L) are past the pool: zero gradient */
            for (size_t i = 0; i < c.B; i++)
                for (size_t t = c.T; t < c.L; t++)
                    for (size_t ch = 0; ch < c.C; ch++)
                        assert_true(dx[(i * c.L + t) * c.C + ch] == 0.0f);
        if (kind == 2) /* row 6 is dropped by floor(7/3) = 2 windows */
            for (size_t i = 0; i < c.B; i++)
                for (size_t ch = 0; ch < c.C; ch++)
                    assert_true(dx[(i * c.L + 6) * c.C + ch] == 0.0f);
        free(c.x), free(c.out), free(c.r), free(c.am), free(dx);
    }
}

/* Pool forwards against loops; ties go to the first index. */
static void test_pool_values_and_ties(void **state) {
    (void)state;
    /* B=1, L=6, C=2: column 0 has its max 5 at t=1 and t=4, column 1 all equal. */
    const float x[12] = {1, 7, 5, 7, 2, 7, 3, 7, 5, 7, 0, 7};
    float out[2], mout[6], avg[2];
    int32_t am[2], mam[6];
    wb_gmaxpool_forward(x, 1, 6, 6, 2, out, am);
    assert_true(out[0] == 5.0f && out[1] == 7.0f);
    assert_int_equal(am[0], 1);
    assert_int_equal(am[1], 0);
    wb_gmaxpool_forward(x, 1, 6, 1, 2, out, am); /* T = 1: only row 0 */
    assert_true(out[0] == 1.0f && out[1] == 7.0f);
    assert_int_equal(am[0], 0);
    wb_maxpool_forward(x, 1, 6, 2, 2, mout, mam); /* windows {0,1}, {2,3}, {4,5} */
    const float mwant[6] = {5, 7, 3, 7, 5, 7};
    const int32_t awant[6] = {1, 0, 3, 2, 4, 4};
    for (int i = 0; i < 6; i++) {
        assert_true(mout[i] == mwant[i]);
        assert_int_equal(mam[i], awant[i]);
    }
    wb_gavgpool_forward(x, 1, 6, 2, avg);
    assert_true(fabsf(avg[0] - 16.0f / 6.0f) < 1e-6f && avg[1] == 7.0f);
    /* NaN never yields an out-of-range argmax. */
    const float xn[4] = {NAN, 1, 2, NAN};
    wb_gmaxpool_forward(xn, 1, 2, 2, 2, out, am);
    assert_true(am[0] >= 0 && am[0] < 2 && am[1] >= 0 && am[1] < 2);
}

/* relu: loss = Σ r·relu(x); inputs kept away from 0. */
typedef struct relu_ctx {
    float *x, *y, *r;
    size_t n;
} relu_ctx;

static double relu_loss(void *p) {
    relu_ctx *c = p;
    memcpy(c->y, c->x, c->n * sizeof(float));
    wb_relu_forward(c->y, c->n);
    return dot_r(c->y, c->r, c->n);
}

static void test_relu(void **state) {
    (void)state;
    relu_ctx c = {.n = 50};
    c.x = fvec(c.n), c.y = fzeros(c.n), c.r = fvec(c.n);
    for (size_t i = 0; i < c.n; i++) c.x[i] += c.x[i] < 0 ? -0.1f : 0.1f;
    (void)relu_loss(&c);
    for (size_t i = 0; i < c.n; i++) assert_true(c.y[i] == (c.x[i] > 0 ? c.x[i] : 0.0f));
    float *dx = fcopy(c.r, c.n);
    wb_relu_backward(c.y, dx, c.n);
    for (size_t i = 0; i < c.n; i++) assert_true(dx[i] == (c.x[i] > 0 ? c.r[i] : 0.0f));
    fd_check("relu dx", relu_loss, &c, c.x, c.n, dx, 1e-2f, 1e-5, 1e-4);
    free(c.x), free(c.y), free(c.r), free(dx);
}

/* dropout: loss = Σ r·dropout(x) with the mask drawn from the same seed each
 * time, hence linear in x. */
typedef struct drop_ctx {
    float *x, *y, *r;
    uint8_t *mask;
    size_t n;
    float p;
} drop_ctx;

static double drop_loss(void *p) {
    drop_ctx *c = p;
    wb_rng rng;
    wb_rng_init(&rng, 99);
    memcpy(c->y, c->x, c->n * sizeof(float));
    wb_dropout_forward(c->y, c->n, c->p, &rng, c->mask);
    return dot_r(c->y, c->r, c->n);
}

static void test_dropout_gradcheck(void **state) {
    (void)state;
    drop_ctx c = {.n = 64, .p = 0.4f};
    c.x = fvec(c.n), c.y = fzeros(c.n), c.r = fvec(c.n), c.mask = malloc(c.n);
    assert_non_null(c.mask);
    (void)drop_loss(&c);
    size_t kept = 0;
    for (size_t i = 0; i < c.n; i++) {
        assert_true(c.mask[i] <= 1);
        kept += c.mask[i];
        assert_true(c.y[i] == (c.mask[i] ? c.x[i] * (1.0f / (1.0f - c.p)) : 0.0f));
    }
    assert_true(kept > 0 && kept < c.n);
    float *dx = fcopy(c.r, c.n);
    wb_dropout_backward(dx, c.n, c.p, c.mask);
    fd_check("dropout dx", drop_loss, &c, c.x, c.n, dx, 0.25f, 1e-5, 1e-5);
    free(c.x), free(c.y), free(c.r), free(c.mask), free(dx);
}

static void test_dropout_semantics(void **state) {
    (void)state;
    enum { N = 200000 };
    float *x = fvec(N), *x0 = fcopy(x, N);
    uint8_t *m = malloc(N), *m2 = malloc(N);
    assert_non_null(m);
    assert_non_null(m2);
    wb_rng rng, ref;
    /* p = 0: identity, all kept, rng not advanced. */
    wb_rng_init(&rng, 7), wb_rng_init(&ref, 7);
    memset(m, 0, N);
    wb_dropout_forward(x, N, 0.0f, &rng, m);
    assert_memory_equal(x, x0, N * sizeof(float));
    for (size_t i = 0; i < N; i++) assert_int_equal(m[i], 1);
    assert_memory_equal(&rng, &ref, sizeof rng);
    float *dy = fcopy(x0, N);
    wb_dropout_backward(dy, N, 0.0f, m);
    assert_memory_equal(dy, x0, N * sizeof(float));
    /* Keep rate near 1-p: within 6 standard deviations. */
    static const float ps[] = {0.1f, 0.25f, 0.5f, 0.9f};
    for (size_t q = 0; q < 4; q++) {
        const float p = ps[q];
        memcpy(x, x0, N * sizeof(float));
        wb_rng_init(&rng, 1000 + q);
        wb_dropout_forward(x, N, p, &rng, m);
        size_t kept = 0;
        for (size_t i = 0; i < N; i++) kept += m[i];
        const double rate = (double)kept / N, sd = sqrt((double)p * (1.0 - p) / N);
        if (fabs(rate - (1.0 - p)) > 6 * sd) {
            print_error("p=%.2f keep rate %.5f, want %.5f +- %.5f\n", (double)p, rate, 1.0 - p,
                        6 * sd);
            fail();
        }
        /* Same seed: bit-identical mask and output; another seed differs. */
        float *x2 = fcopy(x0, N);
        wb_rng_init(&rng, 1000 + q);
        wb_dropout_forward(x2, N, p, &rng, m2);
        assert_memory_equal(m, m2, N);
        assert_memory_equal(x, x2, N * sizeof(float));
        memcpy(x2, x0, N * sizeof(float));
        wb_rng_init(&rng, 5000 + q);
        wb_dropout_forward(x2, N, p, &rng, m2);
        assert_true(memcmp(m, m2, N) != 0);
        free(x2);
    }
    /* The documented bit mapping: drop iff the draw < floor(p·2^64). */
    wb_rng_init(&rng, 3), wb_rng_init(&ref, 3);
    memcpy(x, x0, 1000 * sizeof(float));
    wb_dropout_forward(x, 1000, 0.3f, &rng, m);
    const uint64_t thr = (uint64_t)((double)0.3f * 18446744073709551616.0);
    for (size_t i = 0; i < 1000; i++) assert_int_equal(m[i], wb_rng_next(&ref) >= thr);
    free(x), free(x0), free(m), free(m2), free(dy);
}

/* ---- losses -------------------------------------------------------------- */

static double naive_xent(const float *z, const int32_t *y, const float *cw, size_t B, size_t C,
                         double *prob) {
    double loss = 0.0;
    for (size_t i = 0; i < B; i++) {
        double m = z[i * C], s = 0.0;
        for (size_t c = 1; c < C; c++) m = fmax(m, z[i * C + c]);
        for (size_t c = 0; c < C; c++) s += exp(z[i * C + c] - m);
        for (size_t c = 0; c < C; c++) prob[i * C + c] = exp(z[i * C + c] - m) / s;
        loss += (cw ? cw[y[i]] : 1.0) * (m + log(s) - z[i * C + (size_t)y[i]]);
    }
    return loss / (double)B;
}

static double naive_bce(const float *z, const float *t, const float *cw, size_t B, size_t C,
                        double *prob) {
    double loss = 0.0;
    for (size_t i = 0; i < B * C; i++) {
        double s = 1.0 / (1.0 + exp(-(double)z[i]));
        prob[i] = s;
        double w = (cw && t[i] == 1.0f) ? cw[i % C] : 1.0;
        loss += -w * (t[i] * log(s) + (1.0 - t[i]) * log(1.0 - s));
    }
    return loss / (double)(B * C);
}

typedef struct loss_ctx {
    float *z, *t, *cw, *dz, *prob;
    int32_t *y;
    size_t B, C;
    int bce;
} loss_ctx;

static double loss_eval(void *p) {
    loss_ctx *c = p;
    return c->bce ? wb_sigmoid_bce(c->z, c->t, c->cw, c->B, c->C, c->dz, NULL)
                  : wb_softmax_xent(c->z, c->y, c->cw, c->B, c->C, c->dz, NULL);
}

static void loss_case(int bce, int weighted, size_t B, size_t C) {
    loss_ctx c = {.B = B, .C = C, .bce = bce};
    const size_t n = B * C;
    c.z = fvec(n), c.dz = fzeros(n), c.prob = fzeros(n), c.t = fzeros(n);
    c.y = calloc(B, sizeof(int32_t));
    assert_non_null(c.y);
    for (size_t i = 0; i < n; i++) c.z[i] *= 3.0f, c.t[i] = (float)(rnd64() & 1);
    for (size_t i = 0; i < B; i++) c.y[i] = (int32_t)(rnd64() % C);
    if (weighted) {
        c.cw = fzeros(C);
        for (size_t i = 0; i < C; i++) c.cw[i] = 0.5f + 2.0f * (float)(rnd64() % 100) / 100.0f;
    }
    double *pr = dzeros(n);
    const double want =
        bce ? naive_bce(c.z, c.t, c.cw, B, C, pr) : naive_xent(c.z, c.y, c.cw, B, C, pr);
    const float got = bce ? wb_sigmoid_bce(c.z, c.t, c.cw, B, C, c.dz, c.prob)
                          : wb_softmax_xent(c.z, c.y, c.cw, B, C, c.dz, c.prob);
    if (!(fabs(got - want) <= 1e-6 * fmax(1.0, fabs(want)))) {
        print_error("%s loss %.9g, want %.9g\n", bce ? "bce" : "xent", (double)got, want);
        fail();
    }
    check_close(bce ? "bce prob" : "xent prob", c.prob, pr, n, 1e-6);
    /* The gradient formula, in double: w·(p - onehot)/B, w·(σ - t)/(B·C). */
    double *gr = dzeros(n);
    for (size_t i = 0; i < B; i++)
        for (size_t j = 0; j < C; j++) {
            const size_t e = i * C + j;
            if (bce)
                gr[e] = ((c.cw && c.t[e] == 1.0f) ? c.cw[j] : 1.0) * (pr[e] - c.t[e]) / (double)n;
            else
                gr[e] = (c.cw ? c.cw[c.y[i]] : 1.0) * (pr[e] - ((size_t)c.y[i] == j)) / (double)B;
        }
    check_close(bce ? "bce dz formula" : "xent dz formula", c.dz, gr, n, 1e-6);
    /* Central differences of the returned float: its rounding (half an ulp of
     * the loss, plus the float exp and subtraction errors inside, below
     * 1e-6 per weight unit) divided by the step bounds the numerical
     * noise; the O(h²) truncation is covered by rtol. */
    const float h = 2e-2f;
    double wmax = 1.0;
    for (size_t i = 0; c.cw && i < C; i++) wmax = fmax(wmax, c.cw[i]);
    const double noise = 0x1p-24 * fmax(1.0, fabs(want)) + 1e-6 * wmax;
    float *ana = fcopy(c.dz, n);
    fd_check(bce ? (weighted ? "bce dz (cw)" : "bce dz") : (weighted ? "xent dz (cw)" : "xent dz"),
             loss_eval, &c, c.z, n, ana, h, 2.0 * noise / (2.0 * h), 5e-3);
    free(gr);
    free(c.z), free(c.dz), free(c.prob), free(c.t), free(c.y), free(c.cw), free(pr), free(ana);
}

static void test_loss_gradcheck(void **state) {
    (void)state;
    for (int bce = 0; bce < 2; bce++)
        for (int w = 0; w < 2; w++) {
            loss_case(bce, w, 4, 5);
            loss_case(bce, w, 1, 2);
            loss_case(bce, w, 7, 1 + (size_t)bce); /* binary BCE: C = 1 */
        }
}

/* Huge logits: finite loss and gradients, with the right values. */
static void test_loss_stability(void **state) {
    (void)state;
    const float z[6] = {1e4f, -1e4f, 0.0f, -1e4f, 1e4f, 1e4f};
    const int32_t y[2] = {0, 0};
    float dz[6], prob[6];
    float l = wb_softmax_xent(z, y, NULL, 2, 3, dz, prob);
    assert_true(isfinite(l));
    for (int i = 0; i < 6; i++) assert_true(isfinite(dz[i]) && isfinite(prob[i]));
    /* row 0: loss 0; row 1: logsumexp = 1e4 + log 2, minus -1e4. */
    assert_true(fabs(l - (2e4 + log(2.0)) / 2.0) < 1e-2);
    assert_true(prob[0] == 1.0f && prob[4] == 0.5f && prob[5] == 0.5f);
    assert_true(fabsf(dz[3] + 0.5f) < 1e-6f && fabsf(dz[4] - 0.25f) < 1e-6f);

    const float t[6] = {0, 1, 1, 0, 1, 0};
    const float cw[3] = {2, 3, 4};
    float lb = wb_sigmoid_bce(z, t, cw, 2, 3, dz, prob);
    assert_true(isfinite(lb));
    for (int i = 0; i < 6; i++) assert_true(isfinite(dz[i]) && isfinite(prob[i]));
    /* element losses: 1e4 (t=0,z=1e4), 3·1e4 (t=1,z=-1e4), 4·log 2, 0, 0, 1e4 */
    assert_true(fabs(lb - (1e4 + 3e4 + 4 * log(2.0) + 1e4) / 6.0) < 1e-2);
    assert_true(fabsf(dz[0] - 1.0f / 6) < 1e-6f && fabsf(dz[1] + 3.0f / 6) < 1e-6f);

    float s[4] = {1e4f, -1e4f, 0.0f, -88.0f};
    wb_sigmoid(s, 4);
    assert_true(s[0] == 1.0f && s[1] == 0.0f && s[2] == 0.5f && s[3] > 0.0f);
    float r[3] = {1e4f, 1e4f, -1e4f};
    wb_softmax_row(r, 3);
    assert_true(r[0] == 0.5f && r[1] == 0.5f && r[2] == 0.0f);
}

static void test_softmax_sigmoid_values(void **state) {
    (void)state;
    float z[7], s[7];
    for (int i = 0; i < 7; i++) z[i] = 4.0f * urand(), s[i] = z[i];
    double want[7], sum = 0.0, ws[7];
    for (int i = 0; i < 7; i++) sum += exp(z[i]);
    for (int i = 0; i < 7; i++) want[i] = exp(z[i]) / sum, ws[i] = 1.0 / (1.0 + exp(-(double)z[i]));
    wb_softmax_row(z, 7);
    wb_sigmoid(s, 7);
    check_close("softmax_row", z, want, 7, 1e-6);
    check_close("sigmoid", s, ws, 7, 1e-6);
}

/* ---- accumulation and NULL gradients ------------------------------------ */

/* Runs a backward twice: once into zeros, once into random prefilled
 * buffers; the second must be the first plus the prefill. */
static void test_backward_accumulates(void **state) {
    (void)state;
    const size_t B = 3, L = 8, D = 5, F = 4, k = 3, I = 6, O = 4, T = L - k + 1;
    float *x = fvec(B * L * D), *W = fvec(F * k * D), *dy = fvec(B * L * F);
    float *dW0 = fzeros(F * k * D), *db0 = fzeros(F), *dx0 = fzeros(B * L * D);
    float *pW = fvec(F * k * D), *pb = fvec(F), *px = fvec(B * L * D);
    float *dW = fcopy(pW, F * k * D), *db = fcopy(pb, F), *dx = fcopy(px, B * L * D);

#define EXPECT_SUM(name, got, pre, z, n)                                                   \
    do {                                                                                   \
        for (size_t i_ = 0; i_ < (n); i_++) want[i_] = (double)(pre)[i_] + (z)[i_];       \
        check_close(name, got, want, n, TOL_ULP * 4);                                      \
    } while (0)
    double *want = dzeros(B * L * D + F * k * D);

    /* conv1d_backward */
    float *dyc = fcopy(dy, B * L * F);
    wb_conv1d_backward(x, dyc, B, L, D, W, F, k, dW0, db0, dx0);
    memcpy(dyc, dy, B * L * F * sizeof(float));
    wb_conv1d_backward(x, dyc, B, L, D, W, F, k, dW, db, dx);
    EXPECT_SUM("conv acc dW", dW, pW, dW0, F * k * D);
    EXPECT_SUM("conv acc db", db, pb, db0, F);
    EXPECT_SUM("conv acc dx", dx, px, dx0, B * L * D);

    /* conv1d_backward_argmax */
    int32_t am[12];
    for (size_t i = 0; i < B * F; i++) am[i] = (int32_t)(rnd64() % T);
    float *dp = fvec(B * F);
    memset(dW0, 0, F * k * D * 4), memset(db0, 0, F * 4), memset(dx0, 0, B * L * D * 4);
    memcpy(dW, pW, F * k * D * 4), memcpy(db, pb, F * 4), memcpy(dx, px, B * L * D * 4);
    wb_conv1d_backward_argmax(x, B, L, D, W, F, k, am, dp, dW0, db0, dx0);
    wb_conv1d_backward_argmax(x, B, L, D, W, F, k, am, dp, dW, db, dx);
    EXPECT_SUM("argmax acc dW", dW, pW, dW0, F * k * D);
    EXPECT_SUM("argmax acc db", db, pb, db0, F);
    EXPECT_SUM("argmax acc dx", dx, px, dx0, B * L * D);

    /* dense_backward (reuses the buffers with I, O sizes) */
    float *xd = fvec(B * I), *Wd = fvec(O * I), *dyd = fvec(B * O);
    memset(dW0, 0, O * I * 4), memset(db0, 0, O * 4), memset(dx0, 0, B * I * 4);
    memcpy(dW, pW, O * I * 4), memcpy(db, pb, O * 4), memcpy(dx, px, B * I * 4);
    wb_dense_backward(xd, dyd, B, I, Wd, O, dW0, db0, dx0);
    wb_dense_backward(xd, dyd, B, I, Wd, O, dW, db, dx);
    EXPECT_SUM("dense acc dW", dW, pW, dW0, O * I);
    EXPECT_SUM("dense acc db", db, pb, db0, O);
    EXPECT_SUM("dense acc dx", dx, px, dx0, B * I);

    /* pools */
    int32_t pam[3 * 8 * 5]; /* B·L·D, more than either pool needs */
    float *pout = fzeros(B * L * D);
    memset(dx0, 0, B * L * D * 4), memcpy(dx, px, B * L * D * 4);
    wb_gmaxpool_forward(x, B, L, L, D, pout, pam);
    wb_gmaxpool_backward(dy, pam, B, L, D, dx0);
    wb_gmaxpool_backward(dy, pam, B, L, D, dx);
    EXPECT_SUM("gmaxpool acc dx", dx, px, dx0, B * L * D);
    memset(dx0, 0, B * L * D * 4), memcpy(dx, px, B * L * D * 4);
    wb_gavgpool_backward(dy, B, L, D, dx0);
    wb_gavgpool_backward(dy, B, L, D, dx);
    EXPECT_SUM("gavgpool acc dx", dx, px, dx0, B * L * D);
    memset(dx0, 0, B * L * D * 4), memcpy(dx, px, B * L * D * 4);
    wb_maxpool_forward(x, B, L, D, 4, pout, pam);
    wb_maxpool_backward(dy, pam, B, L, D, 4, dx0);
    wb_maxpool_backward(dy, pam, B, L, D, 4, dx);
    EXPECT_SUM("maxpool acc dx", dx, px, dx0, B * L * D);
#undef EXPECT_SUM

    free(x), free(W), free(dy), free(dW0), free(db0), free(dx0), free(pW), free(pb), free(px);
    free(dW), free(db), free(dx), free(want), free(dyc), free(dp);
    free(xd), free(Wd), free(dyd), free(pout);
}

/* Each subset of NULL gradients: the others come out as with all three. */
static void test_null_gradients(void **state) {
    (void)state;
    const size_t B = 2, L = 6, D = 4, F = 3, k = 2, I = 5, O = 3, T = L - k + 1;
    float *x = fvec(B * L * D), *W = fvec(F * k * D), *dy = fvec(B * L * F);
    float *fW = fzeros(F * k * D), *fb = fzeros(F), *fx = fzeros(B * L * D);
    float *dyc = fcopy(dy, B * L * F);
    wb_conv1d_backward(x, dyc, B, L, D, W, F, k, fW, fb, fx);
    int32_t am[6];
    for (size_t i = 0; i < B * F; i++) am[i] = (int32_t)(rnd64() % T);
    float *dp = fvec(B * F);
    float *aW = fzeros(F * k * D), *ab = fzeros(F), *ax = fzeros(B * L * D);
    wb_conv1d_backward_argmax(x, B, L, D, W, F, k, am, dp, aW, ab, ax);
    float *xd = fvec(B * I), *Wd = fvec(O * I), *dyd = fvec(B * O);
    float *eW = fzeros(O * I), *eb = fzeros(O), *ex = fzeros(B * I);
    wb_dense_backward(xd, dyd, B, I, Wd, O, eW, eb, ex);

    for (int mask = 0; mask < 8; mask++) {
        float *gW = (mask & 1) ? fzeros(F * k * D) : NULL, *gb = (mask & 2) ? fzeros(F) : NULL;
        float *gx = (mask & 4) ? fzeros(B * L * D) : NULL;
        memcpy(dyc, dy, B * L * F * sizeof(float));
        wb_conv1d_backward(x, dyc, B, L, D, W, F, k, gW, gb, gx);
        if (gW) assert_memory_equal(gW, fW, F * k * D * sizeof(float));
        if (gb) assert_memory_equal(gb, fb, F * sizeof(float));
        if (gx) assert_memory_equal(gx, fx, B * L * D * sizeof(float));
        if (gW) memset(gW, 0, F * k * D * 4);
        if (gb) memset(gb, 0, F * 4);
        if (gx) memset(gx, 0, B * L * D * 4);
        wb_conv1d_backward_argmax(x, B, L, D, W, F, k, am, dp, gW, gb, gx);
        if (gW) assert_memory_equal(gW, aW, F * k * D * sizeof(float));
        if (gb) assert_memory_equal(gb, ab, F * sizeof(float));
        if (gx) assert_memory_equal(gx, ax, B * L * D * sizeof(float));
        free(gW), free(gb), free(gx);

        float *hW = (mask & 1) ? fzeros(O * I) : NULL, *hb = (mask & 2) ? fzeros(O) : NULL;
        float *hx = (mask & 4) ? fzeros(B * I) : NULL;
        wb_dense_backward(xd, dyd, B, I, Wd, O, hW, hb, hx);
        if (hW) assert_memory_equal(hW, eW, O * I * sizeof(float));
        if (hb) assert_memory_equal(hb, eb, O * sizeof(float));
        if (hx) assert_memory_equal(hx, ex, B * I * sizeof(float));
        free(hW), free(hb), free(hx);
    }
    free(x), free(W), free(dy), free(fW), free(fb), free(fx), free(dyc), free(dp), free(aW);
    free(ab), free(ax), free(xd), free(Wd), free(dyd), free(eW), free(eb), free(ex);
}

int main(void) {
    /* WB_NN_SEED=n reruns every random case on other data (the default is
     * fixed so that a failure reproduces). */
    const char *seed = getenv("WB_NN_SEED");
    if (seed) g_seed = strtoull(seed, NULL, 10);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dense_vs_naive),
        cmocka_unit_test(test_conv_vs_naive),
        cmocka_unit_test(test_conv_real_shape),
        cmocka_unit_test(test_dense_gradcheck),
        cmocka_unit_test(test_conv_gradcheck),
        cmocka_unit_test(test_conv_argmax_gradcheck),
        cmocka_unit_test(test_conv_argmax_equiv),
        cmocka_unit_test(test_pool_gradcheck),
        cmocka_unit_test(test_pool_values_and_ties),
        cmocka_unit_test(test_relu),
        cmocka_unit_test(test_dropout_gradcheck),
        cmocka_unit_test(test_dropout_semantics),
        cmocka_unit_test(test_loss_gradcheck),
        cmocka_unit_test(test_loss_stability),
        cmocka_unit_test(test_softmax_sigmoid_values),
        cmocka_unit_test(test_backward_accumulates),
        cmocka_unit_test(test_null_gradients),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
