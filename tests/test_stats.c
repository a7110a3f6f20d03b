/*
 * test_stats.c — specification of the statistics of experiments
 * (src/experiment/stats.c, wordbench/stats.h): every p-value of
 * fixtures/stats/paired.txt (SciPy's ttest_rel, the Nadeau-Bengio
 * corrected t-test of scikit-learn's example, wilcoxon exact and
 * approximate; tools/make_stats_reference.py) to 1e-9, the t distribution
 * at known points, and the conventions for degenerate inputs (one pair, all
 * differences zero, all equal).
 *
 * Leaves out: the grouping of search results (test_search.c).
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

#include "wordbench/stats.h"

static void close_to(double got, double want, double tol, const char *what) {
    if (want != want) {
        if (got == got) fail_msg("%s: got %.17g, want NaN", what, got);
        return;
    }
    if (!(fabs(got - want) <= tol * (1 + fabs(want)))) fail_msg("%s: got %.17g, want %.17g", what, got, want);
}

static void test_reference(void **state) {
    (void)state;
    FILE *f = fopen(WB_FIXTURES "/stats/paired.txt", "r");
    assert_non_null(f);
    char line[8192];
    int cases = 0, exact = 0, approx = 0;
    while (fgets(line, sizeof line, f)) {
        if (line[0] == '#') continue;
        char name[64], method[16];
        size_t n;
        int off;
        assert_int_equal(sscanf(line, "%63s %zu%n", name, &n, &off), 2);
        double *a = malloc(n * sizeof *a), *b = malloc(n * sizeof *b);
        char *p = line + off;
        for (size_t i = 0; i < 2 * n; i++) {
            char *end;
            double v = strtod(p, &end);
            assert_true(end != p);
            if (i < n) a[i] = v;
            else b[i - n] = v;
            p = end;
        }
        double frac, tp, nbp, wp;
        assert_int_equal(sscanf(p, "%lf %lf %lf %lf %15s", &frac, &tp, &nbp, &wp, method), 5);
        wb_paired r;
        assert_int_equal(wb_stats_paired(a, b, n, (1 - frac) / frac, &r, NULL), 0);
        char what[128];
        snprintf(what, sizeof what, "%s: t-test p", name);
        close_to(r.p_t, tp, 1e-9, what);
        snprintf(what, sizeof what, "%s: corrected t-test p", name);
        close_to(r.p_nb, nbp, 1e-9, what);
        snprintf(what, sizeof what, "%s: Wilcoxon p", name);
        close_to(r.p_w, wp, 1e-9, what);
        assert_int_equal(r.w_exact, !strcmp(method, "exact"));
        exact += r.w_exact, approx += !r.w_exact;
        cases++;
        free(a), free(b);
    }
    fclose(f);
    assert_true(cases >= 6 && exact >= 2 && approx >= 2);
}

static void test_t_distribution(void **state) {
    (void)state;
    /* scipy: 2 * t.sf(2.0, 4) = 0.11611652351681556; 2 * t.sf(1.0, 1) = 0.5 */
    close_to(wb_stats_t_p2(2.0, 4), 0.11611652351681556, 1e-12, "t 2, df 4");
    close_to(wb_stats_t_p2(-2.0, 4), 0.11611652351681556, 1e-12, "t -2, df 4");
    close_to(wb_stats_t_p2(1.0, 1), 0.5, 1e-12, "Cauchy");
    close_to(wb_stats_t_p2(0, 7), 1, 1e-15, "t 0");
    close_to(wb_stats_t_p2(INFINITY, 3), 0, 0, "t inf");
    /* scipy: 2 * t.sf(12.7062047361747, 1) = 0.05; 2 * norm.sf(1.959963984540054) = 0.05 */
    close_to(wb_stats_t_p2(12.706204736174707, 1), 0.05, 1e-10, "t 0.975 quantile, df 1");
    close_to(wb_stats_z_p2(1.959963984540054), 0.05, 1e-12, "z 0.975 quantile");
    close_to(wb_stats_t_p2(1.959963984540054, 1e7), 0.05, 1e-6, "t approaches z");
}

static void test_degenerate(void **state) {
    (void)state;
    double a[] = {0.9, 0.8, 0.7}, b[] = {0.9, 0.8, 0.7}, c[] = {0.8, 0.7, 0.6};
    wb_paired r;
    assert_int_equal(wb_stats_paired(a, b, 3, 0.5, &r, NULL), 0);
    assert_true(r.p_t == 1 && r.p_nb == 1 && r.p_w == 1 && r.mean_diff == 0);
    assert_int_equal(wb_stats_paired(a, a, 1, 0.5, &r, NULL), 0);
    assert_true(r.p_t != r.p_t && r.p_w != r.p_w);
    double d[] = {1.0, 2.0, 3.0}, e2[] = {0.5, 1.5, 2.5};
    assert_int_equal(wb_stats_paired(d, e2, 3, 0.5, &r, NULL), 0);
    assert_true(r.p_t == 0 && r.p_nb == 0 && isinf(r.t) && r.t > 0);
    /* exact Wilcoxon, 3 positive differences of distinct size: p = 2 / 8 */
    double f3[] = {0.1, 0.3, 0.6};
    double g3[] = {0, 0, 0};
    assert_int_equal(wb_stats_paired(f3, g3, 3, 0.5, &r, NULL), 0);
    assert_true(r.w_exact && fabs(r.p_w - 0.25) < 1e-15 && r.w == 0);
    (void)c;
    assert_int_equal(wb_stats_paired(a, b, 3, -1, &r, NULL), WB_EUSAGE);
    assert_true(wb_stats_sd(a, 1) == 0 && wb_stats_mean(a, 0) != wb_stats_mean(a, 0));
    close_to(wb_stats_sd(a, 3), 0.1, 1e-12, "sd");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reference),
        cmocka_unit_test(test_t_distribution),
        cmocka_unit_test(test_degenerate),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
