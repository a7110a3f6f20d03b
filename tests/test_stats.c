/*
 * test_stats.c — specification of the correlation statistics
 * (src/base/stats.c) against scipy 1.10: fixtures/wordeval/stats.txt, made
 * by tools/make_wordeval_fixtures.py, holds pearsonr / spearmanr results on
 * data with ties, betainc and t.sf values.
 *
 * Contains: r and ρ to 1e-12, p-values and betainc / t.sf to 1e-9 relative;
 * average ranks of ties; scipy's special cases (n == 2, constant input, NaN,
 * too few values).
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

#include "wordbench/stats.h"

static void near_rel(double got, double want, double rel, const char *what) {
    if (!(fabs(got - want) <= rel * fabs(want) + 1e-300))
        fail_msg("%s: got %.17g, scipy %.17g (relative %.3g)", what, got, want, fabs(got - want) / fabs(want));
}

static void test_against_scipy(void **state) {
    (void)state;
    FILE *f = fopen(WB_FIXTURES "/wordeval/stats.txt", "r");
    assert_non_null(f);
    char line[65536];
    double x[256], y[256];
    size_t n = 0;
    int checked = 0;
    while (fgets(line, sizeof line, f)) {
        char *p = line, *end;
        if (!strncmp(line, "data ", 5)) {
            n = strtoul(line + 5, &p, 10);
            assert_true(n <= 256);
            for (size_t i = 0; i < n; i++) x[i] = strtod(p, &p);
            for (size_t i = 0; i < n; i++) y[i] = strtod(p, &p);
        } else if (!strncmp(line, "pearson ", 8)) {
            double r = strtod(line + 8, &end), pv = strtod(end, NULL), gp;
            double gr = wb_stats_pearson(x, y, n, &gp);
            near_rel(gr, r, 1e-12, "pearson r");
            near_rel(gp, pv, 1e-9, "pearson p");
            checked++;
        } else if (!strncmp(line, "spearman ", 9)) {
            double r = strtod(line + 9, &end), pv = strtod(end, NULL), gr, gp;
            assert_int_equal(wb_stats_spearman(x, y, n, &gr, &gp), 0);
            near_rel(gr, r, 1e-12, "spearman rho");
            near_rel(gp, pv, 1e-9, "spearman p");
            checked++;
        } else if (!strncmp(line, "betainc ", 8)) {
            double a = strtod(line + 8, &end), b = strtod(end, &end), xx = strtod(end, &end), v = strtod(end, NULL);
            near_rel(wb_stats_betainc(a, b, xx), v, 1e-11, "betainc");
            checked++;
        } else if (!strncmp(line, "tsf ", 4)) {
            double t = strtod(line + 4, &end), df = strtod(end, &end), v = strtod(end, NULL);
            near_rel(wb_stats_t_sf(t, df), v, 1e-10, "t sf");
            checked++;
        }
    }
    fclose(f);
    assert_true(checked >= 15);
}

static void test_ranks(void **state) {
    (void)state;
    const double x[] = {3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5};
    const double want[] = {4.5, 1.5, 6, 1.5, 8, 11, 3, 10, 8, 4.5, 8};
    double r[11];
    size_t idx[11];
    wb_stats_rank(x, 11, r, idx);
    for (int i = 0; i < 11; i++) assert_true(r[i] == want[i]);
}

static void test_special_cases(void **state) {
    (void)state;
    double p, rho;
    const double a[] = {1, 2, 3, 4}, b[] = {2, 2, 2, 2}, c[] = {1, NAN, 3, 4}, d[] = {4, 3, 1, 2};
    /* n == 2: r is the product of the signs, p = 1 (scipy); Spearman's p is NaN */
    assert_true(wb_stats_pearson(a, d, 2, &p) == -1 && p == 1);
    assert_int_equal(wb_stats_spearman(a, d, 2, &rho, &p), 0);
    assert_true(fabs(rho + 1) < 1e-15 && isnan(p)); /* scipy: -0.9999999999999999 */
    /* constant input, NaN, too few values: NaN */
    assert_true(isnan(wb_stats_pearson(a, b, 4, &p)) && isnan(p));
    assert_true(isnan(wb_stats_pearson(a, c, 4, &p)));
    assert_true(isnan(wb_stats_pearson(a, d, 1, &p)));
    assert_int_equal(wb_stats_spearman(a, b, 4, &rho, &p), 0);
    assert_true(isnan(rho) && isnan(p));
    /* perfect rank agreement: rho = 1, p = 0 */
    assert_int_equal(wb_stats_spearman(a, a, 4, &rho, &p), 0);
    assert_true(rho == 1 && p == 0);
    assert_true(isnan(wb_stats_betainc(-1, 1, 0.5)) && wb_stats_betainc(2, 3, 0) == 0 && wb_stats_betainc(2, 3, 1) == 1);
    assert_true(wb_stats_t_sf(INFINITY, 5) == 0 && wb_stats_t_sf(-INFINITY, 5) == 1 && wb_stats_t_sf(0, 5) == 0.5);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_against_scipy),
        cmocka_unit_test(test_ranks),
        cmocka_unit_test(test_special_cases),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
