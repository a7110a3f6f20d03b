/*
 * stats.c — the statistics of wordbench/stats.h: the t and normal
 * distributions, Pearson and Spearman correlations with scipy's conventions
 * and p-values, means and standard deviations over folds and the paired
 * tests between two configurations.  Leaves out everything the header lists
 * as not here.
 */
#include "wordbench/stats.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "wordbench/err.h"

/* Continued fraction of I_x(a, b) (Numerical Recipes' betacf, modified
 * Lentz), for x < (a + 1) / (a + b + 2) where it converges fast. */
static double betacf(double a, double b, double x) {
    const double tiny = 1e-300, eps = 1e-16;
    double qab = a + b, qap = a + 1, qam = a - 1;
    double c = 1, d = 1 - qab * x / qap;
    if (fabs(d) < tiny) d = tiny;
    d = 1 / d;
    double h = d;
    for (int m = 1; m <= 10000; m++) {
        int m2 = 2 * m;
        double aa = m * (b - m) * x / ((qam + m2) * (a + m2));
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

double wb_stats_betainc(double a, double b, double x) {
    if (!(a > 0) || !(b > 0) || !(x >= 0) || !(x <= 1)) return NAN;
    if (x == 0 || x == 1) return x;
    /* x^a (1-x)^b / B(a, b), in logs */
    double lf = lgamma(a + b) - lgamma(a) - lgamma(b) + a * log(x) + b * log1p(-x);
    if (x < (a + 1) / (a + b + 2)) return exp(lf) * betacf(a, b, x) / a;
    return 1 - exp(lf) * betacf(b, a, 1 - x) / b;
}

double wb_stats_t_sf(double t, double df) {
    if (isnan(t) || !(df > 0)) return NAN;
    if (isinf(t)) return t > 0 ? 0 : 1;
    double tail = 0.5 * wb_stats_betainc(df / 2, 0.5, df / (df + t * t)); /* P(T > |t|) */
    return t > 0 ? tail : 1 - tail;
}

double wb_stats_t_p2(double t, double df) {
    if (isnan(t) || !(df > 0)) return NAN;
    if (isinf(t)) return 0;
    /* P(|T| >= |t|) = I_{df / (df + t^2)}(df / 2, 1 / 2) */
    return wb_stats_betainc(df / 2, 0.5, df / (df + t * t));
}

double wb_stats_z_p2(double z) {
    if (isnan(z)) return NAN;
    return erfc(fabs(z) / sqrt(2.0));
}

static int all_finite(const double *x, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (!isfinite(x[i])) return 0;
    return 1;
}

static int constant(const double *x, size_t n) {
    for (size_t i = 1; i < n; i++)
        if (x[i] != x[0]) return 0;
    return 1;
}

/* r of n >= 3 finite, non-constant values in scipy.stats.pearsonr's order
 * of operations: deviations from the means, each vector divided by its
 * norm, then their dot product, clipped to [-1, 1].  (The order matters at
 * |r| = 1, where the p-value falls off a cliff.) */
static double pearson_r(const double *x, const double *y, size_t n) {
    double mx = 0, my = 0;
    for (size_t i = 0; i < n; i++) mx += x[i], my += y[i];
    mx /= (double)n, my /= (double)n;
    double sxx = 0, syy = 0;
    for (size_t i = 0; i < n; i++) sxx += (x[i] - mx) * (x[i] - mx), syy += (y[i] - my) * (y[i] - my);
    double nx = sqrt(sxx), ny = sqrt(syy), r = 0;
    for (size_t i = 0; i < n; i++) r += ((x[i] - mx) / nx) * ((y[i] - my) / ny);
    return r > 1 ? 1 : r < -1 ? -1 : r;
}

/* The correlation of two rank vectors in numpy.corrcoef's order (what
 * scipy.stats.spearmanr calls): c = covariances / (n - 1), then c_xy
 * divided by sqrt(c_xx), then by sqrt(c_yy), clipped.  Identical ranks give
 * exactly 1, as in scipy. */
static double corrcoef(const double *x, const double *y, size_t n) {
    double mx = 0, my = 0;
    for (size_t i = 0; i < n; i++) mx += x[i], my += y[i];
    mx /= (double)n, my /= (double)n;
    double sxx = 0, syy = 0, sxy = 0;
    for (size_t i = 0; i < n; i++) {
        double dx = x[i] - mx, dy = y[i] - my;
        sxx += dx * dx, syy += dy * dy, sxy += dx * dy;
    }
    const double f = 1 / (double)(n - 1);
    double r = sxy * f / sqrt(sxx * f) / sqrt(syy * f);
    return r > 1 ? 1 : r < -1 ? -1 : r;
}

double wb_stats_pearson(const double *x, const double *y, size_t n, double *p) {
    if (p) *p = NAN;
    if (n < 2 || !all_finite(x, n) || !all_finite(y, n) || constant(x, n) || constant(y, n)) return NAN;
    if (n == 2) {
        if (p) *p = 1;
        double sx = (x[1] > x[0]) - (x[1] < x[0]), sy = (y[1] > y[0]) - (y[1] < y[0]);
        return sx * sy;
    }
    double r = pearson_r(x, y, n);
    double ab = (double)n / 2 - 1;
    if (p) *p = 2 * wb_stats_betainc(ab, ab, (1 - fabs(r)) / 2);
    return r;
}

void wb_stats_rank(const double *x, size_t n, double *rank, size_t *idx) {
    /* Indices sorted by value: a bottom-up merge sort (no allocation: rank[]
     * serves as the merge buffer until the ranks are written). */
    for (size_t i = 0; i < n; i++) idx[i] = i;
    size_t *buf = (size_t *)(void *)rank;
    _Static_assert(sizeof(size_t) <= sizeof(double), "rank buffer too small for indices");
    size_t *src = idx, *dst = buf;
    for (size_t w = 1; w < n; w *= 2) {
        for (size_t lo = 0; lo < n; lo += 2 * w) {
            size_t mid = lo + w < n ? lo + w : n, hi = lo + 2 * w < n ? lo + 2 * w : n;
            size_t a = lo, b = mid, k = lo;
            while (a < mid && b < hi) dst[k++] = x[src[b]] < x[src[a]] ? src[b++] : src[a++];
            while (a < mid) dst[k++] = src[a++];
            while (b < hi) dst[k++] = src[b++];
        }
        size_t *t = src;
        src = dst, dst = t;
    }
    if (src != idx)
        for (size_t i = 0; i < n; i++) idx[i] = src[i];
    /* average ranks of runs of equal values */
    for (size_t i = 0; i < n;) {
        size_t j = i + 1;
        while (j < n && x[idx[j]] == x[idx[i]]) j++;
        double r = (double)(i + 1 + j) / 2; /* mean of ranks i+1 .. j */
        for (size_t k = i; k < j; k++) rank[idx[k]] = r;
        i = j;
    }
}

int wb_stats_spearman(const double *x, const double *y, size_t n, double *rho, double *p) {
    *rho = NAN;
    if (p) *p = NAN;
    if (n < 2 || !all_finite(x, n) || !all_finite(y, n) || constant(x, n) || constant(y, n)) return 0;
    double *rx = malloc(2 * n * sizeof *rx);
    size_t *idx = malloc(n * sizeof *idx);
    if (!rx || !idx) {
        free(rx), free(idx);
        return WB_ENOMEM;
    }
    double *ry = rx + n;
    wb_stats_rank(x, n, rx, idx);
    wb_stats_rank(y, n, ry, idx);
    double r = corrcoef(rx, ry, n);
    free(rx), free(idx);
    *rho = r;
    if (p) {
        double dof = (double)n - 2;
        double q = dof / ((r + 1) * (1 - r)); /* inf at |r| = 1, NaN when dof = 0 there */
        double t = r * sqrt(q > 0 ? q : (q == q ? 0 : q));
        *p = dof > 0 ? 2 * wb_stats_t_sf(fabs(t), dof) : NAN;
    }
    return 0;
}

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

/* Two-sided p of the exact null distribution of W+ = r over m ranks 1..m
 * without ties: cnt[s] = number of subsets of 1..m summing to s. */
static int wilcoxon_exact(size_t m, double r, double *p, wb_err *e) {
    size_t top = m * (m + 1) / 2;
    double *cnt = calloc(top + 1, sizeof *cnt);
    if (!cnt) return wb_err_set(e, WB_ENOMEM, "out of memory");
    cnt[0] = 1;
    for (size_t k = 1; k <= m; k++)
        for (size_t s = top; s >= k; s--) cnt[s] += cnt[s - k];
    size_t w = (size_t)r;
    double total = ldexp(1.0, (int)m), less = 0, greater = 0;
    for (size_t s = 0; s <= top; s++) {
        if (s <= w) less += cnt[s];
        if (s >= w) greater += cnt[s];
    }
    free(cnt);
    double q = w * 2 == top ? 1.0 : 2 * (less < greater ? less : greater) / total;
    *p = q > 1 ? 1 : q;
    return 0;
}

/* Wilcoxon signed-rank test on the differences d[0..n). */
static int wilcoxon(const double *d, size_t n, wb_paired *o, wb_err *e) {
    double *v = malloc(2 * (n ? n : 1) * sizeof *v); /* |d| of the nonzero d, then their ranks */
    size_t *idx = malloc((n ? n : 1) * sizeof *idx);
    if (!v || !idx) {
        free(v), free(idx);
        return wb_err_set(e, WB_ENOMEM, "out of memory");
    }
    double *rank = v + n;
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
        if (d[i] != 0) v[m++] = fabs(d[i]);
    if (!m) { /* every difference is zero: nothing speaks against equality */
        free(v), free(idx);
        o->w = 0, o->p_w = 1, o->w_exact = 0;
        return 0;
    }
    wb_stats_rank(v, m, rank, idx);
    double rplus = 0, rminus = 0, tie_term = 0;
    for (size_t i = 0, k = 0; i < n; i++)
        if (d[i] != 0) *(d[i] > 0 ? &rplus : &rminus) += rank[k++];
    for (size_t i = 0; i < m;) { /* runs of equal |d| in sorted order */
        size_t j = i + 1;
        while (j < m && v[idx[j]] == v[idx[i]]) j++;
        double t = (double)(j - i);
        tie_term += t * (t * t - 1);
        i = j;
    }
    free(v), free(idx);
    o->w = rplus < rminus ? rplus : rminus;
    if (m == n && n <= 50 && tie_term == 0) {
        o->w_exact = 1;
        return wilcoxon_exact(n, rplus, &o->p_w, e);
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
