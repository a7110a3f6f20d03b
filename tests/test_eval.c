/*
 * test_eval.c — specification of the metrics of src/model/eval.c
 * (wordbench/eval.h) that have no other home: ROC-AUC (wb_roc_auc) and the
 * AUC of model outputs (wb_auc) against scikit-learn's roc_auc_score on
 * fixtures/stats/auc.txt (tools/make_stats_reference.py: random and heavily
 * tied binary scores, perfect and inverted rankings, one class only,
 * multiclass one-vs-rest, multilabel with an all-negative and an
 * all-positive label left out), plus strides and NaN scores.
 *
 * Leaves out: loss, accuracy, P@k, R@k and F1 of wb_eval_run (test_train.c
 * and test_model.c check them through training).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wordbench/eval.h"

static char *next_line(FILE *f) {
    static char *buf;
    static size_t cap;
    return getline(&buf, &cap, f) > 0 ? buf : NULL;
}

static void test_auc_reference(void **state) {
    (void)state;
    FILE *f = fopen(WB_FIXTURES "/stats/auc.txt", "r");
    assert_non_null(f);
    int cases = 0;
    char *l;
    while ((l = next_line(f))) {
        if (strncmp(l, "case ", 5)) continue;
        char name[64], task[32];
        size_t n, C;
        assert_int_equal(sscanf(l, "case %63s %31s %zu %zu", name, task, &n, &C), 4);
        float *p = malloc(n * C * sizeof *p);
        size_t *loff = malloc((n + 1) * sizeof *loff);
        uint32_t *lids = malloc(n * C * sizeof *lids), *idx = malloc(n * sizeof *idx);
        l = next_line(f);
        assert_true(l && !strncmp(l, "scores ", 7));
        char *q = l + 7;
        for (size_t i = 0; i < n * C; i++) p[i] = strtof(q, &q);
        l = next_line(f);
        assert_true(l && !strncmp(l, "labels ", 7));
        q = l + 7;
        size_t nnz = 0;
        for (size_t i = 0; i < n; i++) {
            loff[i] = nnz;
            while (*q == ' ') q++;
            if (*q == '-') {
                q++;
            } else {
                for (;;) {
                    lids[nnz++] = (uint32_t)strtoul(q, &q, 10);
                    if (*q != ',') break;
                    q++;
                }
            }
            idx[i] = (uint32_t)(n - 1 - i); /* any order of the examples */
        }
        loff[n] = nnz;
        /* rows in idx order, as wb_eval_run writes them */
        float *pr = malloc(n * C * sizeof *pr);
        for (size_t j = 0; j < n; j++) memcpy(pr + j * C, p + (size_t)idx[j] * C, C * sizeof *pr);
        l = next_line(f);
        char want_s[64];
        size_t want_used;
        assert_int_equal(sscanf(l, "auc %63s %zu", want_s, &want_used), 2);
        double want = strcmp(want_s, "nan") ? strtod(want_s, NULL) : NAN;
        wb_task t = !strcmp(task, "binary") ? WB_TASK_BINARY : !strcmp(task, "multiclass") ? WB_TASK_MULTICLASS : WB_TASK_MULTILABEL;
        double got;
        size_t used;
        assert_int_equal(wb_auc(t, C, pr, loff, lids, idx, n, &got, &used, NULL), 0);
        if (want != want) assert_true(got != got);
        else if (fabs(got - want) > 1e-12) fail_msg("%s: AUC %.17g, sklearn %.17g", name, got, want);
        assert_int_equal(used, want_used);
        if (t == WB_TASK_BINARY) { /* wb_roc_auc directly, in file order */
            uint8_t *truth = malloc(n);
            for (size_t i = 0; i < n; i++) truth[i] = loff[i + 1] > loff[i] && lids[loff[i]] == 1;
            assert_int_equal(wb_roc_auc(p, 1, truth, n, &got, NULL), 0);
            if (want != want) assert_true(got != got);
            else if (fabs(got - want) > 1e-12) fail_msg("%s: wb_roc_auc %.17g, sklearn %.17g", name, got, want);
            free(truth);
        }
        free(p), free(pr), free(loff), free(lids), free(idx);
        cases++;
    }
    fclose(f);
    assert_int_equal(cases, 7);
}

static void test_auc_stride_nan(void **state) {
    (void)state;
    /* column 1 of a (4, 2) matrix; one NaN score ranks lowest */
    float s[] = {9, 0.1f, 9, 0.9f, 9, NAN, 9, 0.4f};
    uint8_t y[] = {0, 1, 0, 1};
    double a;
    assert_int_equal(wb_roc_auc(s + 1, 2, y, 4, &a, NULL), 0);
    /* ranks: NaN 1 (neg), 0.1 2 (neg), 0.4 3 (pos), 0.9 4 (pos): perfect */
    assert_true(a == 1.0);
    assert_int_equal(wb_roc_auc(s, 2, y, 0, &a, NULL), 0);
    assert_true(a != a);
    /* every score tied: 0.5 */
    float t[] = {0.3f, 0.3f, 0.3f, 0.3f};
    assert_int_equal(wb_roc_auc(t, 1, y, 4, &a, NULL), 0);
    assert_true(a == 0.5);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_auc_reference),
        cmocka_unit_test(test_auc_stride_nan),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
