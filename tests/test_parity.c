/*
 * test_parity.c — wordbench against PyTorch 1.13: reference values in
 * fixtures/torch/CASE.txt, written by tools/torch_ref.py (format in
 * fixtures/torch/README.md).
 *
 * Contains: five steps of each optimizer of optim.h against torch.optim
 * (Adam, Adam + weight decay, Adam after clip_grad_norm_, SGD, SGD +
 * momentum + weight decay, RMSprop, Adagrad, Adadelta) and the lazy row
 * updates against torch.optim.SparseAdam.
 *
 * Tolerance: every element, |ours - torch| <= 1e-4 · max(1, |torch|); the
 * largest difference of each tensor is printed, and any element outside
 * fails the test.
 *
 * Leaves out, for now: the layers of nn.h (their fixtures are already in
 * fixtures/torch/; the checks come with src/nn.c).
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

#ifndef WB_FIXTURES
#define WB_FIXTURES "fixtures"
#endif

#define RTOL 1e-4

/* ---- fixture reader ---------------------------------------------------------
 * "wbfix 1", then '#' comment lines, then arrays: a line "name ndim d0 ...",
 * followed by d0·d1·… numbers separated by any white space. */

#define FX_MAXARR 32
#define FX_MAXDIM 4

typedef struct fx_arr {
    char name[32];         /* array name, unique in its file */
    int ndim;              /* 1..FX_MAXDIM */
    size_t dims[FX_MAXDIM];/* shape, row-major */
    size_t n;              /* product of dims */
    float *v;              /* n values (owned) */
} fx_arr;

typedef struct fx {
    char path[512];        /* file, for messages */
    fx_arr a[FX_MAXARR];   /* arrays in file order */
    int na;                /* arrays read */
} fx;

static void fx_load(fx *f, const char *name) {
    memset(f, 0, sizeof *f);
    snprintf(f->path, sizeof f->path, "%s/torch/%s.txt", WB_FIXTURES, name);
    FILE *in = fopen(f->path, "r");
    if (!in) fail_msg("%s: cannot open (regenerate with /usr/bin/python3 tools/torch_ref.py)", f->path);
    char line[256];
    if (!fgets(line, sizeof line, in) || strcmp(line, "wbfix 1\n") != 0)
        fail_msg("%s: not a version-1 fixture (first line must be \"wbfix 1\"); "
                 "regenerate with /usr/bin/python3 tools/torch_ref.py", f->path);
    for (;;) {
        int c;
        while ((c = fgetc(in)) == ' ' || c == '\n' || c == '\t' || c == '\r') {}
        if (c == EOF) break;
        if (c == '#') {
            if (!fgets(line, sizeof line, in)) break;
            continue;
        }
        ungetc(c, in);
        if (f->na == FX_MAXARR) fail_msg("%s: more than %d arrays", f->path, FX_MAXARR);
        fx_arr *a = &f->a[f->na];
        if (fscanf(in, "%31s %d", a->name, &a->ndim) != 2 || a->ndim < 1 || a->ndim > FX_MAXDIM)
            fail_msg("%s: array %d: bad header", f->path, f->na);
        a->n = 1;
        for (int d = 0; d < a->ndim; d++) {
            if (fscanf(in, "%zu", &a->dims[d]) != 1) fail_msg("%s: %s: bad shape", f->path, a->name);
            a->n *= a->dims[d];
        }
        a->v = malloc((a->n ? a->n : 1) * sizeof(float));
        assert_non_null(a->v);
        for (size_t i = 0; i < a->n; i++) {
            char tok[64];
            if (fscanf(in, "%63s", tok) != 1)
                fail_msg("%s: %s: expected %zu values, found %zu", f->path, a->name, a->n, i);
            char *end;
            a->v[i] = strtof(tok, &end);
            if (*end) fail_msg("%s: %s[%zu]: not a number: %s", f->path, a->name, i, tok);
        }
        f->na++;
    }
    fclose(in);
}

static void fx_free(fx *f) {
    for (int i = 0; i < f->na; i++) free(f->a[i].v);
    f->na = 0;
}

static const fx_arr *fx_get(const fx *f, const char *name) {
    for (int i = 0; i < f->na; i++)
        if (strcmp(f->a[i].name, name) == 0) return &f->a[i];
    fail_msg("%s: no array %s", f->path, name);
    return NULL;
}

/* Values of `name`, which must hold exactly n of them. */
static const float *fx_v(const fx *f, const char *name, size_t n) {
    const fx_arr *a = fx_get(f, name);
    if (a->n != n) fail_msg("%s: %s has %zu values, expected %zu", f->path, name, a->n, n);
    return a->v;
}

static size_t fx_dim(const fx *f, const char *name, int d) {
    const fx_arr *a = fx_get(f, name);
    if (d >= a->ndim) fail_msg("%s: %s has %d dims", f->path, name, a->ndim);
    return a->dims[d];
}

static float fx_scalar(const fx *f, const char *name) { return fx_v(f, name, 1)[0]; }

/* A float buffer of n, zeroed, freed by the caller. */
static float *zeros(size_t n) {
    float *p = calloc(n ? n : 1, sizeof(float));
    assert_non_null(p);
    return p;
}

static float *copy(const float *src, size_t n) {
    float *p = zeros(n);
    memcpy(p, src, n * sizeof(float));
    return p;
}

/* got[i·gstride + j] for i < rows, j < cols vs want (rows·cols, dense):
 * prints the largest difference, fails on any element outside the
 * tolerance. */
static void check_strided(const fx *f, const char *what, const float *got, size_t rows,
                          size_t cols, size_t gstride, const float *want) {
    double worst = 0, worst_rel = 0;
    size_t bad = 0, first = 0;
    for (size_t i = 0; i < rows; i++)
        for (size_t j = 0; j < cols; j++) {
            double a = got[i * gstride + j], b = want[i * cols + j];
            double d = fabs(a - b), lim = RTOL * (fabs(b) > 1 ? fabs(b) : 1);
            if (d > worst) worst = d;
            if (d / lim > worst_rel) worst_rel = d / lim;
            if (!(d <= lim)) {
                if (!bad) first = i * cols + j;
                bad++;
            }
        }
    const char *base = strrchr(f->path, '/');
    print_message("%-22s %-6s max |diff| %.3g (%.3g of tolerance)\n", base ? base + 1 : f->path,
                  what, worst, worst_rel);
    if (bad)
        fail_msg("%s: %s: %zu of %zu elements differ beyond %g; first [%zu] = %.9g, torch %.9g",
                 f->path, what, bad, rows * cols, RTOL, first, got[first / cols * gstride + first % cols],
                 want[first]);
}

/* ---- optimizers ------------------------------------------------------------ */

static void optim_from(const fx *f, wb_optim *o) {
    wb_optim_init(o, (wb_opt_kind)(int)fx_scalar(f, "kind"));
    o->lr = fx_scalar(f, "lr");
    o->beta1 = fx_scalar(f, "beta1");
    o->beta2 = fx_scalar(f, "beta2");
    o->eps = fx_scalar(f, "eps");
    o->momentum = fx_scalar(f, "momentum");
    o->rho = fx_scalar(f, "rho");
    o->l2 = fx_scalar(f, "l2");
    o->clipnorm = fx_scalar(f, "clipnorm");
}

/* Dense: S steps of the fixture's gradients on w0; weights after each step. */
static void optim_case(const char *name) {
    fx f;
    fx_load(&f, name);
    size_t n = fx_get(&f, "w0")->n, S = fx_dim(&f, "g", 0);
    wb_optim o;
    optim_from(&f, &o);
    float *w = copy(fx_v(&f, "w0", n), n), *st = zeros(wb_optim_nstate(o.kind) * n);
    const float *g = fx_v(&f, "g", S * n), *wref = fx_v(&f, "w", S * n);
    for (size_t s = 0; s < S; s++) {
        wb_optim_begin(&o, o.clipnorm > 0 ? wb_sqnorm(g + s * n, n) : 0);
        wb_optim_update(&o, w, g + s * n, st, n);
        char what[32];
        snprintf(what, sizeof what, "w[%zu]", s);
        check_strided(&f, what, w, 1, n, n, wref + s * n);
    }
    free(w), free(st);
    fx_free(&f);
}

static void test_adam(void **unused) { (void)unused; optim_case("adam"); }
static void test_adam_l2(void **unused) { (void)unused; optim_case("adam_l2"); }
static void test_adam_clipnorm(void **unused) { (void)unused; optim_case("adam_clipnorm"); }
static void test_sgd(void **unused) { (void)unused; optim_case("sgd"); }
static void test_sgd_momentum(void **unused) { (void)unused; optim_case("sgd_momentum"); }
static void test_rmsprop(void **unused) { (void)unused; optim_case("rmsprop"); }
static void test_adagrad(void **unused) { (void)unused; optim_case("adagrad"); }
static void test_adadelta(void **unused) { (void)unused; optim_case("adadelta"); }

/* Lazy Adam, one update per touched row with that row's state, against
 * torch.optim.SparseAdam; untouched rows must not move at all. */
static void test_sparse_adam(void **unused) {
    (void)unused;
    fx f;
    fx_load(&f, "sparse_adam");
    size_t V = fx_dim(&f, "w0", 0), E = fx_dim(&f, "w0", 1), S = fx_dim(&f, "g", 0);
    wb_optim o;
    optim_from(&f, &o);
    size_t ns = wb_optim_nstate(o.kind);
    float *w = copy(fx_v(&f, "w0", V * E), V * E), *st = zeros(V * ns * E), *prev = zeros(V * E);
    const float *touched = fx_v(&f, "touched", S * V), *g = fx_v(&f, "g", S * V * E);
    const float *wref = fx_v(&f, "w", S * V * E);
    for (size_t s = 0; s < S; s++) {
        memcpy(prev, w, V * E * sizeof(float));
        wb_optim_begin(&o, 0);
        for (size_t r = 0; r < V; r++)
            if (touched[s * V + r] != 0)
                wb_optim_update(&o, w + r * E, g + (s * V + r) * E, st + r * ns * E, E);
        char what[32];
        snprintf(what, sizeof what, "w[%zu]", s);
        check_strided(&f, what, w, 1, V * E, V * E, wref + (s * V) * E);
        for (size_t r = 0; r < V; r++)
            if (touched[s * V + r] == 0)
                assert_memory_equal(w + r * E, prev + r * E, E * sizeof(float));
    }
    free(w), free(st), free(prev);
    fx_free(&f);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_adam),
        cmocka_unit_test(test_adam_l2),
        cmocka_unit_test(test_adam_clipnorm),
        cmocka_unit_test(test_sgd),
        cmocka_unit_test(test_sgd_momentum),
        cmocka_unit_test(test_rmsprop),
        cmocka_unit_test(test_adagrad),
        cmocka_unit_test(test_adadelta),
        cmocka_unit_test(test_sparse_adam),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
