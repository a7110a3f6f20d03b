/*
 * stats.c — means, standard deviations and the paired tests of stats.h,
 * with the distribution functions they need.  Leaves out everything the
 * header lists as not here.
 */
#include "wordbench/stats.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

double wb_stats_mean(const double *x, size_t n) {
    if (!n) return NAN;
    double s = 0;
    for (size_t i = 0; i < n; i++) s += x[i];
    return s / (double)n;
}

double wb_stats_sd(const double *x, size_t n) {
    if (n < 2) return 0;
    double m = wb_stats_mean(x, n), s = 0;
    for (size_t i = 0; i < n; i++) s += (x[i] - m) * (x[i] - m);
    return sqrt(s / (double)(n - 1));
}

/* Continued fraction of the incomplete beta function (modified Lentz),
 * converging fast for x < (a + 1) / (a + b + 2). */
static double beta_cf(double a, double b, double x) {
    const double tiny = 1e-300, eps = 1e-16;
    double qab = a + b, qap = a + 1, qam = a - 1, c = 1, d = 1 - qab * x / qap;
    if (fabs(d) < tiny) d = tiny;
    d = 1 / d;
    double h = d;
    for (int m = 1; m <= 1000; m++) {
        double m2 = 2.0 * m, aa = m * (b - m) * x / ((qam + m2) * (a + m2));
        d = 1 + aa * d;
        if (fabs(d) < tiny) d = tiny;
        c = 1 + aa / c;
        if (fabs(c) < tiny) c = tiny;
        d = 1 / d;
        h *= d * c;
        aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2));
        d = 1 + aa * d;
        if (fabs(d) < tiny) d = tiny;
        c = 1 + aa / c;
        if (fabs(c) < tiny) c = tiny;
        d = 1 / d;
        double del = d * c;
        h *= del;
        if (fabs(del - 1) < eps) break;
    }
    return h;
}

/* Regularized incomplete beta I_x(a, b) for a, b > 0, 0 <= x <= 1. */
static double beta_inc(double a, double b, double x) {
    if (x <= 0) return 0;
    if (x >= 1) return 1;
    double lbt = lgamma(a + b) - lgamma(a) - lgamma(b) + a * log(x) + b * log1p(-x);
    if (x < (a + 1) / (a + b + 2)) return exp(lbt) * beta_cf(a, b, x) / a;
    return 1 - exp(lbt) * beta_cf(b, a, 1 - x) / b;
}

double wb_stats_t_p2(double t, double df) {
    if (t != t || df != df || df <= 0) return NAN;
    if (isinf(t)) return 0;
    /* P(|T| >= |t|) = I_{df / (df + t^2)}(df / 2, 1 / 2) */
    return beta_inc(df / 2, 0.5, df / (df + t * t));
}

double wb_stats_z_p2(double z) {
    if (z != z) return NAN;
    return erfc(fabs(z) / sqrt(2.0));
}

typedef struct absd {
    double v;   /* |d| */
    int sign;   /* +1 or -1 */
} absd;

static int cmp_absd(const void *a, const void *b) {
    double x = ((const absd *)a)->v, y = ((const absd *)b)->v;
    return (x > y) - (x < y);
}

/* Wilcoxon signed-rank test on the differences d[0..n). */
static int wilcoxon(const double *d, size_t n, wb_paired *o, wb_err *e) {
    absd *v = malloc((n ? n : 1) * sizeof *v);
    if (!v) return wb_err_set(e, WB_ENOMEM, "out of memory");
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
        if (d[i] != 0) v[m].v = fabs(d[i]), v[m].sign = d[i] > 0 ? 1 : -1, m++;
    if (!m) { /* every difference is zero: nothing speaks against equality */
        free(v);
        o->w = 0, o->p_w = 1, o->w_exact = 0;
        return 0;
    }
    qsort(v, m, sizeof *v, cmp_absd);
    double rplus = 0, rminus = 0, tie_term = 0;
    int ties = 0;
    for (size_t i = 0; i < m;) {
        size_t j = i + 1;
        while (j < m && v[j].v == v[i].v) j++;
        double avg = 0.5 * (double)(i + 1 + j), t = (double)(j - i);
        for (size_t q = i; q < j; q++) *(v[q].sign > 0 ? &rplus : &rminus) += avg;
        if (j - i > 1) ties = 1, tie_term += t * (t * t - 1);
        i = j;
    }
    free(v);
    o->w = rplus < rminus ? rplus : rminus;
    if (m == n && n <= 50 && !ties) {
        /* Exact: cnt[s] = number of subsets of the ranks 1..n summing to s. */
        size_t top = n * (n + 1) / 2;
        double *cnt = calloc(top + 1, sizeof *cnt);
        if (!cnt) return wb_err_set(e, WB_ENOMEM, "out of memory");
        cnt[0] = 1;
        for (size_t r = 1; r <= n; r++)
            for (size_t s = top; s >= r; s--) cnt[s] += cnt[s - r];
        size_t r = (size_t)rplus;
        double total = ldexp(1.0, (int)n), less = 0, greater = 0;
        for (size_t s = 0; s <= top; s++) {
            if (s <= r) less += cnt[s];
            if (s >= r) greater += cnt[s];
        }
        free(cnt);
        double p = r == top / 2 ? 1.0 : 2 * (less < greater ? less : greater) / total;
        o->p_w = p > 1 ? 1 : p;
        o->w_exact = 1;
        return 0;
    }
    double M = (double)m, mean = M * (M + 1) / 4, var = M * (M + 1) * (2 * M + 1) - 0.5 * tie_term;
    double se = sqrt(var / 24);
    o->p_w = se > 0 ? wb_stats_z_p2((o->w - mean) / se) : 1;
    o->w_exact = 0;
    return 0;
}

int wb_stats_paired(const double *a, const double *b, size_t n, double test_train, wb_paired *o, wb_err *e) {
    memset(o, 0, sizeof *o);
    o->n = n;
    if (!(test_train >= 0)) return wb_err_set(e, WB_EUSAGE, "test/train ratio must be >= 0");
    if (n < 2) {
        o->mean_diff = n ? a[0] - b[0] : NAN;
        o->t = o->t_nb = o->w = NAN;
        o->p_t = o->p_nb = o->p_w = NAN;
        return 0;
    }
    double *d = malloc(n * sizeof *d);
    if (!d) return wb_err_set(e, WB_ENOMEM, "out of memory");
    for (size_t i = 0; i < n; i++) d[i] = a[i] - b[i];
    o->mean_diff = wb_stats_mean(d, n);
    o->sd_diff = wb_stats_sd(d, n);
    double df = (double)(n - 1);
    if (o->sd_diff > 0) {
        o->t = o->mean_diff / (o->sd_diff / sqrt((double)n));
        o->t_nb = o->mean_diff / (o->sd_diff * sqrt(1.0 / (double)n + test_train));
        o->p_t = wb_stats_t_p2(o->t, df);
        o->p_nb = wb_stats_t_p2(o->t_nb, df);
    } else if (o->mean_diff == 0) {
        o->t = o->t_nb = 0, o->p_t = o->p_nb = 1;
    } else {
        o->t = o->t_nb = o->mean_diff > 0 ? INFINITY : -INFINITY, o->p_t = o->p_nb = 0;
    }
    int rc = wilcoxon(d, n, o, e);
    free(d);
    return rc;
}
