/*
 * test_stats.c — specification of the statistics (src/base/stats.c,
 * wordbench/stats.h) against SciPy:
 *   - correlations against scipy 1.10: fixtures/wordeval/stats.txt, made by
 *     tools/make_wordeval_fixtures.py, holds pearsonr / spearmanr results on
 *     data with ties, betainc and t.sf values; r and ρ to 1e-12, p-values
 *     and betainc / t.sf to 1e-9 relative; average ranks of ties; scipy's
 *     special cases (n == 2, constant input, NaN, too few values);
 *   - the paired tests of experiments: every p-value of
 *     fixtures/stats/paired.txt (SciPy's ttest_rel, the Nadeau-Bengio
 *     corrected t-test of scikit-learn's example, wilcoxon exact and
 *     approximate; tools/make_stats_reference.py) to 1e-9 relative, the t
 *     distribution at known points, and the conventions for degenerate
 *     inputs (one pair, all differences zero, all equal).
 *
 * Leaves out: the grouping of search results (test_search.c).
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

/* got within rel of want, relatively; a NaN want asks for a NaN. */
static void near_rel(double got, double want, double rel, const char *what) {
    if (isnan(want)) {
        if (!isnan(got)) fail_msg("%s: got %.17g, want NaN", what, got);
        return;
    }
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
        near_rel(r.p_t, tp, 1e-9, what);
        snprintf(what, sizeof what, "%s: corrected t-test p", name);
        near_rel(r.p_nb, nbp, 1e-9, what);
        snprintf(what, sizeof what, "%s: Wilcoxon p", name);
        near_rel(r.p_w, wp, 1e-9, what);
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
    near_rel(wb_stats_t_p2(2.0, 4), 0.11611652351681556, 1e-12, "t 2, df 4");
    near_rel(wb_stats_t_p2(-2.0, 4), 0.11611652351681556, 1e-12, "t -2, df 4");
    near_rel(wb_stats_t_p2(1.0, 1), 0.5, 1e-12, "Cauchy");
    near_rel(wb_stats_t_p2(0, 7), 1, 1e-15, "t 0");
    near_rel(wb_stats_t_p2(INFINITY, 3), 0, 0, "t inf");
    /* scipy: 2 * t.sf(12.7062047361747, 1) = 0.05; 2 * norm.sf(1.959963984540054) = 0.05 */
    near_rel(wb_stats_t_p2(12.706204736174707, 1), 0.05, 1e-10, "t 0.975 quantile, df 1");
    near_rel(wb_stats_z_p2(1.959963984540054), 0.05, 1e-12, "z 0.975 quantile");
    near_rel(wb_stats_t_p2(1.959963984540054, 1e7), 0.05, 1e-6, "t approaches z");
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
    near_rel(wb_stats_sd(a, 3), 0.1, 1e-12, "sd");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_against_scipy),
        cmocka_unit_test(test_ranks),
        cmocka_unit_test(test_special_cases),
        cmocka_unit_test(test_reference),
        cmocka_unit_test(test_t_distribution),
        cmocka_unit_test(test_degenerate),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
