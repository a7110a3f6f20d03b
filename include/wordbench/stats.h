/*
 * wordbench/stats.h — correlation statistics as scipy 1.10 computes them
 * (scipy.stats.pearsonr, scipy.stats.spearmanr, scipy.stats.rankdata), with
 * their two-sided p-values, for the word-similarity benchmarks
 * (wordeval.h) and anything else that reports a correlation.
 *
 * Conventions follow scipy exactly where it returns a number:
 *   - Pearson r: means and deviations in double, r = <x - x̄, y - ȳ> /
 *     (|x - x̄| |y - ȳ|) clipped to [-1, 1]; n == 2 gives r = ±1 (the signs
 *     of the two differences) and p = 1; p = 2 · I_{(1-|r|)/2}(n/2-1, n/2-1),
 *     the beta(n/2 - 1, n/2 - 1) law of r on (-1, 1) under no correlation.
 *   - Spearman ρ: Pearson of the ranks, ties given their average rank
 *     (rankdata 'average'); p from Student's t with n - 2 degrees of freedom,
 *     t = ρ · sqrt((n - 2) / ((1 + ρ)(1 - ρ))), p = 2 · P(T > |t|).
 *   - NaN where scipy returns NaN: a constant input, a NaN or infinite
 *     value, fewer than 2 values for Pearson (scipy raises there) or fewer
 *     than 2 for Spearman.
 * p-values come from the regularized incomplete beta function by Lentz's
 * continued fraction (relative error ~1e-14 against scipy's Boost code in
 * tests/test_stats.c).
 *
 * Not here: confidence intervals, other correlation kinds.
 */
#ifndef WORDBENCH_STATS_H
#define WORDBENCH_STATS_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Pearson's r of x[n], y[n]; *p (may be NULL) gets the two-sided p-value. */
double wb_stats_pearson(const double *x, const double *y, size_t n, double *p);

/* Spearman's ρ of x[n], y[n] into *rho, the two-sided p-value into *p (may
 * be NULL).  Returns 0 or WB_ENOMEM (the ranks need 2n doubles and n
 * indices of scratch). */
int wb_stats_spearman(const double *x, const double *y, size_t n, double *rho, double *p);

/* Ranks 1..n of x[n] into rank[n], ties sharing their average rank
 * (scipy.stats.rankdata(x, 'average')).  idx[n] is scratch.  x must hold no
 * NaN. */
void wb_stats_rank(const double *x, size_t n, double *rank, size_t *idx);

/* The regularized incomplete beta function I_x(a, b), a, b > 0, x in [0, 1]
 * (NaN outside). */
double wb_stats_betainc(double a, double b, double x);

/* P(T > t) for Student's t with df > 0 degrees of freedom (scipy's
 * stdtr(df, -t)). */
double wb_stats_t_sf(double t, double df);

#ifdef __cplusplus
}
#endif
#endif /* WORDBENCH_STATS_H */
