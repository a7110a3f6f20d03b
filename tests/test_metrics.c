/*
 * test_metrics.c — specification of the classification figures
 * (src/model/metrics.c) against scikit-learn 1.2: the files of fixtures/metrics/,
 * made by tools/make_metrics_reference.py, hold fixed probabilities and
 * labels (binary at thresholds 0.5 and 0.3, with ties; multiclass with a
 * label never true but predicted; multilabel with a label never true nor
 * predicted) and sklearn's figures for them.
 *
 * Contains: every figure of wb_scores to 1e-12 (relative), per-class rows,
 * confusion cells, the tuned threshold's F1 against sklearn's best over all
 * cuts (and that the threshold reproduces it); R@k <= 1 for single-label
 * tasks (the bug of issue 10); unknown labels; tie rules; empty input.
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

#include "wordbench/metrics.h"

#define assert_near(a, b, eps) assert_true(fabs((double)(a) - (double)(b)) <= (eps))

static void near(double got, double want, const char *file, const char *what) {
    if (want != want) {
        if (got == got) fail_msg("%s: %s: got %.17g, sklearn nan", file, what, got);
        return;
    }
    if (!(fabs(got - want) <= 1e-12 * fabs(want) + 1e-15))
        fail_msg("%s: %s: got %.17g, sklearn %.17g", file, what, got, want);
}

typedef struct fixture {
    wb_task task;
    size_t n, C, k;
    float th;
    float *P;
    size_t *loff;
    uint32_t *lids;
    FILE *f; /* positioned after the labels */
} fixture;

static void fixture_read(fixture *x, const char *name) {
    char path[512], line[65536], task[32];
    snprintf(path, sizeof path, WB_FIXTURES "/metrics/%s", name);
    memset(x, 0, sizeof *x);
    x->f = fopen(path, "r");
    assert_non_null(x->f);
    do assert_non_null(fgets(line, sizeof line, x->f));
    while (line[0] == '#');
    assert_int_equal(sscanf(line, "task %31s", task), 1);
    x->task = !strcmp(task, "binary") ? WB_TASK_BINARY : !strcmp(task, "multiclass") ? WB_TASK_MULTICLASS : WB_TASK_MULTILABEL;
    assert_int_equal(fscanf(x->f, " n %zu C %zu k %zu threshold %f probs ", &x->n, &x->C, &x->k, &x->th), 4);
    x->P = malloc(x->n * x->C * sizeof *x->P);
    x->loff = calloc(x->n + 1, sizeof *x->loff);
    x->lids = malloc(x->n * 8 * sizeof *x->lids);
    for (size_t i = 0; i < x->n * x->C; i++) assert_int_equal(fscanf(x->f, "%f", &x->P[i]), 1);
    assert_int_equal(fscanf(x->f, " labels "), 0);
    size_t nl = 0;
    for (size_t i = 0; i < x->n; i++) {
        assert_non_null(fgets(line, sizeof line, x->f));
        for (char *p = line; *p && *p != '\n';) {
            x->lids[nl++] = (uint32_t)strtoul(p, &p, 10);
            if (*p == ',') p++;
        }
        x->loff[i + 1] = nl;
    }
}

static void fixture_free(fixture *x) {
    fclose(x->f);
    free(x->P), free(x->loff), free(x->lids);
}

static void check_file(const char *name) {
    fixture x;
    fixture_read(&x, name);
    wb_scores s;
    wb_err e;
    assert_int_equal(wb_scores_compute(&s, x.task, x.C, x.P, x.loff, x.lids, NULL, x.n, x.k, x.th, &e), 0);
    static const struct {
        const char *name;
        size_t off;
    } figs[] = {
#define F(f) {#f, offsetof(wb_scores, f)}
        F(accuracy), F(precision), F(recall), F(f1), F(micro_precision), F(micro_recall), F(micro_f1),
        F(macro_precision), F(macro_recall), F(macro_f1), F(weighted_precision), F(weighted_recall),
        F(weighted_f1), F(p_at_k), F(r_at_k), F(hamming), F(log_loss), F(avg_precision), F(auc)
#undef F
    };
    char line[4096], key[64];
    int checked = 0, cells = 0, classes = 0;
    while (fgets(line, sizeof line, x.f)) {
        double v;
        if (sscanf(line, "%63s", key) != 1) continue;
        if (!strcmp(key, "class")) {
            unsigned c;
            double p, r, f1;
            unsigned long long sup;
            assert_int_equal(sscanf(line, "class %u %lf %lf %lf %llu", &c, &p, &r, &f1, &sup), 5);
            assert_true(c < s.L);
            near(s.cls[c].precision, p, name, "class precision");
            near(s.cls[c].recall, r, name, "class recall");
            near(s.cls[c].f1, f1, name, "class f1");
            assert_int_equal(s.cls[c].support, sup);
            classes++;
        } else if (!strcmp(key, "cell")) {
            unsigned a, b;
            unsigned long long cnt;
            assert_int_equal(sscanf(line, "cell %u %u %llu", &a, &b, &cnt), 3);
            assert_int_equal(wb_scores_confusion(&s, a, b), cnt);
            cells++;
        } else if (!strcmp(key, "tuned_f1")) {
            assert_int_equal(sscanf(line, "tuned_f1 %lf", &v), 1);
            float th;
            double f1;
            assert_int_equal(wb_threshold_tune(x.task, x.C, x.P, x.loff, x.lids, NULL, x.n, &th, &f1, &e), 0);
            near(f1, v, name, "tuned F1");
            /* the returned threshold classifies as the best cut */
            wb_scores t;
            assert_int_equal(wb_scores_compute(&t, x.task, x.C, x.P, x.loff, x.lids, NULL, x.n, 1, th, &e), 0);
            near(x.task == WB_TASK_BINARY ? t.f1 : t.micro_f1, v, name, "F1 at the tuned threshold");
            wb_scores_free(&t);
            checked++;
        } else {
            for (size_t i = 0; i < sizeof figs / sizeof *figs; i++)
                if (!strcmp(key, figs[i].name)) {
                    assert_int_equal(sscanf(line, "%*s %lf", &v) == 1 || strstr(line, "nan"), 1);
                    if (strstr(line, " nan")) v = NAN;
                    near(*(const double *)((const char *)&s + figs[i].off), v, name, key);
                    checked++;
                }
        }
    }
    assert_true(checked >= 18);
    assert_int_equal((size_t)classes, s.L);
    /* every cell of ours is one of sklearn's: the counts add up to the pairs */
    uint64_t total = 0;
    for (size_t i = 0; i < s.ncells; i++) total += s.cells[i].count;
    assert_int_equal(s.ncells, (size_t)cells);
    if (x.task != WB_TASK_MULTILABEL) assert_int_equal(total, x.n);
    assert_true(s.r_at_k <= 1.0 && s.p_at_k <= 1.0);
    wb_scores_free(&s);
    fixture_free(&x);
}

static void test_binary(void **state) {
    (void)state;
    check_file("binary.txt");
    check_file("binary_t03.txt");
}

static void test_multiclass(void **state) {
    (void)state;
    check_file("multiclass.txt");
}

static void test_multilabel(void **state) {
    (void)state;
    check_file("multilabel.txt");
    check_file("multilabel_t04.txt");
}

/* Issue 10: a binary model's R@1 was hits / positive examples (1.49 on the
 * quick-start's spam model).  Each example has one true label: R@1 = P@1 =
 * the share of examples whose top label is the true one. */
static void test_binary_recall_at_most_one(void **state) {
    (void)state;
    float p[6] = {0.9f, 0.8f, 0.2f, 0.1f, 0.3f, 0.7f};
    size_t loff[7] = {0, 1, 2, 3, 4, 5, 6};
    uint32_t lids[6] = {1, 0, 0, 0, 0, 0}; /* one positive, five negatives */
    wb_scores s;
    wb_err e;
    assert_int_equal(wb_scores_compute(&s, WB_TASK_BINARY, 1, p, loff, lids, NULL, 6, 5, 0.5f, &e), 0);
    assert_int_equal(s.k, 1);
    assert_near(s.p_at_k, 4.0 / 6, 1e-12); /* right: 0.9 (1), 0.2, 0.1, 0.3 (0) */
    assert_near(s.r_at_k, 4.0 / 6, 1e-12);
    assert_int_equal(s.true_labels, 6);
    wb_scores_free(&s);
}

/* Ties: wb_topk's order (lower id first); binary top-1 at p = 0.5 is label
 * 0 while the threshold rule (p >= 0.5) says 1. */
static void test_ties(void **state) {
    (void)state;
    wb_scores s;
    wb_err e;
    float pb[1] = {0.5f};
    size_t lo1[2] = {0, 1};
    uint32_t one[1] = {1};
    assert_int_equal(wb_scores_compute(&s, WB_TASK_BINARY, 1, pb, lo1, one, NULL, 1, 1, 0.5f, &e), 0);
    assert_near(s.accuracy, 1, 0);
    assert_near(s.p_at_k, 0, 0);
    wb_scores_free(&s);
    float pm[3] = {0.4f, 0.4f, 0.2f};
    assert_int_equal(wb_scores_compute(&s, WB_TASK_MULTICLASS, 3, pm, lo1, one, NULL, 1, 1, 0.5f, &e), 0);
    assert_near(s.accuracy, 0, 0); /* label 0 wins the tie */
    assert_int_equal(wb_scores_confusion(&s, 1, 0), 1);
    wb_scores_free(&s);
}

/* Unknown labels (ids >= L): true labels never predicted. */
static void test_unknown(void **state) {
    (void)state;
    wb_scores s;
    wb_err e;
    /* multiclass, 3 labels; example 1's label 5 is unknown */
    float pm[6] = {0.7f, 0.2f, 0.1f, 0.1f, 0.8f, 0.1f};
    size_t lo[3] = {0, 1, 2};
    uint32_t lm[2] = {0, 5};
    assert_int_equal(wb_scores_compute(&s, WB_TASK_MULTICLASS, 3, pm, lo, lm, NULL, 2, 1, 0.5f, &e), 0);
    assert_near(s.accuracy, 0.5, 1e-12);
    assert_near(s.r_at_k, 0.5, 1e-12);
    assert_int_equal(s.unknown, 1);
    assert_int_equal(s.cls[1].fp, 1);
    assert_near(s.micro_recall, 0.5, 1e-12);
    assert_near(s.micro_precision, 0.5, 1e-12);
    assert_int_equal(s.ncells, 1);
    assert_near(s.log_loss, -log(0.7), 1e-7); /* the unknown example has no term */
    wb_scores_free(&s);
    /* multilabel, 2 outputs; example 0 has labels {0, 7}, 7 unknown */
    float pl[4] = {0.9f, 0.1f, 0.2f, 0.6f};
    size_t lo2[3] = {0, 2, 3};
    uint32_t ll[3] = {0, 7, 1};
    assert_int_equal(wb_scores_compute(&s, WB_TASK_MULTILABEL, 2, pl, lo2, ll, NULL, 2, 1, 0.5f, &e), 0);
    assert_near(s.accuracy, 0.5, 1e-12);             /* example 0 is not an exact match */
    assert_near(s.hamming, 1.0 / (2 * 3), 1e-12);    /* one wrong decision of 2 x (2 + 1 unknown column) */
    assert_near(s.micro_recall, 2.0 / 3, 1e-12);
    assert_near(s.r_at_k, 2.0 / 3, 1e-12);
    assert_int_equal(s.unknown, 1);
    assert_int_equal(s.true_labels, 3);
    wb_scores_free(&s);
}

static void test_edges(void **state) {
    (void)state;
    wb_scores s;
    wb_err e;
    size_t lo[1] = {0};
    assert_int_equal(wb_scores_compute(&s, WB_TASK_MULTILABEL, 4, NULL, lo, NULL, NULL, 0, 2, 0.5f, &e), 0);
    assert_int_equal(s.n, 0);
    assert_true(isnan(s.log_loss) && isnan(s.avg_precision) && isnan(s.auc));
    wb_scores_free(&s);
    wb_scores_free(&s); /* twice is fine */
    float p[2] = {0.5f, 0.5f};
    assert_int_equal(wb_scores_compute(&s, WB_TASK_BINARY, 2, p, lo, NULL, NULL, 0, 1, 0.5f, &e), WB_EUSAGE);
    float th;
    double f1;
    assert_int_equal(wb_threshold_tune(WB_TASK_MULTICLASS, 2, p, lo, NULL, NULL, 0, &th, &f1, &e), WB_EUSAGE);
    /* no positive label: nothing to tune */
    size_t lo2[3] = {0, 1, 2};
    uint32_t z[2] = {0, 0};
    assert_int_equal(wb_threshold_tune(WB_TASK_BINARY, 1, p, lo2, z, NULL, 2, &th, &f1, &e), 0);
    assert_true(th == 0.5f && f1 == 0);
    /* a perfect separation: the threshold lies between the classes */
    float q[4] = {0.1f, 0.3f, 0.6f, 0.9f};
    size_t lo4[5] = {0, 1, 2, 3, 4};
    uint32_t y[4] = {0, 0, 1, 1};
    assert_int_equal(wb_threshold_tune(WB_TASK_BINARY, 1, q, lo4, y, NULL, 4, &th, &f1, &e), 0);
    assert_near(f1, 1, 0);
    assert_true(th > 0.3f && th <= 0.6f);
    /* average precision */
    double ap;
    uint8_t t[4] = {0, 0, 1, 1};
    assert_int_equal(wb_average_precision(q, 1, t, 4, &ap, &e), 0);
    assert_near(ap, 1, 1e-12);
    uint8_t none[4] = {0};
    assert_int_equal(wb_average_precision(q, 1, none, 4, &ap, &e), 0);
    assert_true(isnan(ap));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_binary),       cmocka_unit_test(test_multiclass),
        cmocka_unit_test(test_multilabel),   cmocka_unit_test(test_binary_recall_at_most_one),
        cmocka_unit_test(test_ties),         cmocka_unit_test(test_unknown),
        cmocka_unit_test(test_edges),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
