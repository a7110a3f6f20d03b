/*
 * test_similar.c — specification of cosine neighbours (src/store/similar.c).
 *
 * Contains: wb_similar against a naive double-precision twin (every row's
 * cosine, sorted) on stores of a few thousand random rows — f32 and f16,
 * rows of norm 0 never returned, excluded rows skipped, k larger than the
 * store, several sgemv blocks (more than 8192 rows) — and wb_similar_query
 * (sum of signed unit vectors, the analogy query), plus its errors.
 *
 * Leaves out: the CLI's query grammar (tests/cli/store_commands.sh).
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

#include "testutil.h"
#include "wordbench/convert.h"
#include "wordbench/floatparse.h"
#include "wordbench/similar.h"
#include "wordbench/store.h"

#define E 13u /* dims: odd, so sgemv has a remainder */

static uint64_t rng(uint64_t *s) {
    uint64_t z = (*s += 0x9e3779b97f4a7c15u);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
    return z ^ (z >> 31);
}

typedef struct fixture {
    char *dir;    /* temp dir */
    wb_store *st; /* the store */
    uint32_t rows;
} fixture;

/* A store of `rows` random rows (every 97th row all zeros), as text. */
static void build(fixture *f, uint32_t rows, wb_dtype dtype) {
    f->dir = tu_tmpdir();
    assert_non_null(f->dir);
    f->rows = rows;
    char *txt = tu_path(f->dir, "v.txt"), *store = tu_path(f->dir, "s");
    FILE *o = fopen(txt, "w");
    assert_non_null(o);
    uint64_t s = 42;
    for (uint32_t r = 0; r < rows; r++) {
        fprintf(o, "w%u", r);
        for (uint32_t j = 0; j < E; j++) {
            double v = r % 97 == 5 ? 0 : ((double)(rng(&s) % 20001) - 10000) / 5000.0;
            fprintf(o, " %.4f", v);
        }
        fputc('\n', o);
    }
    fclose(o);
    wb_convert_opts opts;
    wb_convert_opts_init(&opts);
    opts.dtype = dtype;
    wb_err e;
    wb_err_clear(&e);
    assert_int_equal(wb_convert(txt, store, &opts, NULL, &e), 0);
    assert_int_equal(wb_store_open(&f->st, store, &e), 0);
    free(txt);
    free(store);
}

static void teardown_fixture(fixture *f) {
    wb_store_close(f->st);
    tu_rmrf(f->dir);
    free(f->dir);
}

/* The naive twin: cosine of every row with q in double, via gather. */
static double *naive_scores(const fixture *f, const float *q) {
    double *sc = malloc(f->rows * sizeof *sc);
    float v[E];
    double qq = 0;
    for (uint32_t j = 0; j < E; j++) qq += (double)q[j] * q[j];
    for (uint32_t r = 0; r < f->rows; r++) {
        assert_int_equal(wb_store_gather(f->st, 1, &r, v), 0);
        double dot = 0, vv = 0;
        for (uint32_t j = 0; j < E; j++) dot += (double)v[j] * q[j], vv += (double)v[j] * v[j];
        sc[r] = vv > 0 ? dot / sqrt(vv * qq) : -INFINITY; /* zero rows: never returned */
    }
    return sc;
}

/* Check out[0..n) is a valid top-k of sc (ties within tol allowed), in
 * non-increasing order, with no excluded row. */
static void check_topk(const double *sc, uint32_t rows, const wb_neighbor *out, size_t n, size_t k,
                       const uint32_t *ex, size_t nex) {
    size_t valid = 0;
    for (uint32_t r = 0; r < rows; r++) {
        int skip = 0;
        for (size_t i = 0; i < nex; i++) skip |= ex[i] == r;
        valid += !skip && sc[r] > -INFINITY;
    }
    assert_int_equal(n, valid < k ? valid : k);
    const double tol = 1e-5;
    for (size_t i = 0; i < n; i++) {
        for (size_t j = 0; j < nex; j++) assert_int_not_equal(out[i].row, ex[j]);
        assert_true(sc[out[i].row] > -INFINITY);
        if (fabs(out[i].score - sc[out[i].row]) > tol) fail_msg("row %u: score %g, naive %g", out[i].row,
                                                                 (double)out[i].score, sc[out[i].row]);
        if (i) assert_true(out[i].score <= out[i - 1].score);
    }
    /* nothing left out scores clearly better than the last one returned */
    double last = n ? sc[out[n - 1].row] : INFINITY;
    for (uint32_t r = 0; r < rows; r++) {
        int in = 0;
        for (size_t i = 0; i < n; i++) in |= out[i].row == r;
        for (size_t i = 0; i < nex; i++) in |= ex[i] == r;
        if (!in && sc[r] > last + tol) fail_msg("row %u (%g) beats the last returned (%g)", r, sc[r], last);
    }
}

static void run_case(wb_dtype dtype, uint32_t rows, size_t k) {
    fixture f;
    build(&f, rows, dtype);
    float q[E];
    uint32_t ex[2] = {3, 11};
    for (int t = 0; t < 3; t++) {
        uint32_t qr = (uint32_t)(t * 131 + 7) % rows;
        assert_int_equal(wb_store_gather(f.st, 1, &qr, q), 0);
        double *sc = naive_scores(&f, q);
        wb_neighbor *out = malloc(k * sizeof *out);
        size_t n;
        wb_err e;
        assert_int_equal(wb_similar(f.st, q, k, ex, 2, out, &n, &e), 0);
        check_topk(sc, rows, out, n, k, ex, 2);
        if (qr != 3 && qr != 11 && n) { /* the query row itself comes first (cosine 1) */
            assert_int_equal(out[0].row, qr);
            assert_true(fabs(out[0].score - 1.0) < 1e-5);
        }
        free(out);
        free(sc);
    }
    teardown_fixture(&f);
}

static void test_f32_small(void **state) {
    (void)state;
    run_case(WB_DTYPE_F32, 300, 10);
}

static void test_f32_several_blocks(void **state) {
    (void)state;
    run_case(WB_DTYPE_F32, 20000, 25); /* > 2 sgemv blocks of 8192 rows */
}

static void test_f16(void **state) {
    (void)state;
    run_case(WB_DTYPE_F16, 9000, 10);
}

static void test_k_larger_than_store(void **state) {
    (void)state;
    run_case(WB_DTYPE_F32, 40, 100);
}

static void test_query_is_sum_of_unit_vectors(void **state) {
    (void)state;
    fixture f;
    build(&f, 50, WB_DTYPE_F32);
    uint32_t rows[3] = {1, 2, 3};
    int signs[3] = {1, -1, 1};
    float q[E], v[E];
    double want[E] = {0};
    assert_int_equal(wb_similar_query(f.st, 3, rows, signs, q), 0);
    const float *norms = wb_store_norms(f.st);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(wb_store_gather(f.st, 1, &rows[i], v), 0);
        for (uint32_t j = 0; j < E; j++) want[j] += signs[i] * (double)v[j] / norms[rows[i]];
    }
    for (uint32_t j = 0; j < E; j++) assert_true(fabs(q[j] - want[j]) < 1e-5);
    uint32_t bad = 50;
    assert_int_equal(wb_similar_query(f.st, 1, &bad, signs, q), WB_EUSAGE);
    teardown_fixture(&f);
}

static void test_errors(void **state) {
    (void)state;
    fixture f;
    build(&f, 20, WB_DTYPE_F32);
    float zero[E] = {0};
    wb_neighbor out[4];
    size_t n = 99;
    wb_err e;
    wb_err_clear(&e);
    assert_int_equal(wb_similar(f.st, zero, 4, NULL, 0, out, &n, &e), WB_EUSAGE);
    assert_int_equal(n, 0);
    float q[E];
    uint32_t r0 = 0;
    wb_store_gather(f.st, 1, &r0, q);
    assert_int_equal(wb_similar(f.st, q, 0, NULL, 0, out, &n, &e), WB_EUSAGE);
    teardown_fixture(&f);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_f32_small),
        cmocka_unit_test(test_f32_several_blocks),
        cmocka_unit_test(test_f16),
        cmocka_unit_test(test_k_larger_than_store),
        cmocka_unit_test(test_query_is_sum_of_unit_vectors),
        cmocka_unit_test(test_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
