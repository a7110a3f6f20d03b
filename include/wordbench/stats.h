/*
 * wordbench/stats.h — the statistics wordbench reports, with the
 * distribution functions they need, checked against SciPy:
 *   - correlations as scipy 1.10 computes them (pearsonr, spearmanr,
 *     rankdata) with their two-sided p-values, for the word-similarity
 *     benchmarks (wordeval.h) and anything else that reports a correlation
 *     (fixtures/wordeval/stats.txt, tools/make_wordeval_fixtures.py);
 *   - the statistics of experiments: mean and standard deviation over folds,
 *     and paired tests between two configurations scored on the same folds
 *     (the paired t-test, the Nadeau-Bengio corrected resampled t-test, the
 *     Wilcoxon signed-rank test) (fixtures/stats/paired.txt,
 *     tools/make_stats_reference.py).
 * Every p-value is two-sided and comes from the regularized incomplete beta
 * function by Lentz's continued fraction (relative error ~1e-14 against
 * scipy's Boost code), or erfc for the normal.
 *
 * Correlation conventions follow scipy exactly where it returns a number:
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
 *
 * Which paired test to read.  Folds of one cross-validation share most of
 * their training examples, so their scores are not independent and the
 * plain paired t-test is too eager to call a difference significant
 * (Dietterich 1998; Nadeau & Bengio 2003).  The corrected test inflates the
 * variance of the differences by (1/n + n_test/n_train) (Nadeau & Bengio
 * 2003, as scikit-learn's example "Statistical comparison of models using
 * grid search" does); it is the one `wordbench compare` ranks by.  The
 * Wilcoxon test assumes nothing about the shape of the differences but
 * cannot go below p = 2/2^n with n folds (0.0625 for 5 folds).
 *
 * Not here: one-sided tests, multiple-comparison corrections, confidence
 * intervals, the 5x2cv test, other correlation kinds.
 */
#ifndef WORDBENCH_STATS_H
#define WORDBENCH_STATS_H

#include <stddef.h>

#include "wordbench/err.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- distributions ---- */

/* The regularized incomplete beta function I_x(a, b), a, b > 0, x in [0, 1]
 * (NaN outside). */
double wb_stats_betainc(double a, double b, double x);

/* P(T > t) for Student's t with df > 0 degrees of freedom (scipy's
 * stdtr(df, -t)). */
double wb_stats_t_sf(double t, double df);

/* Two-sided p-value of a Student t statistic with df > 0 degrees of
 * freedom: P(|T| >= |t|).  1 for t = 0, 0 for an infinite t, NaN for a NaN
 * t. */
double wb_stats_t_p2(double t, double df);

/* Two-sided p-value of a standard normal statistic: P(|Z| >= |z|). */
double wb_stats_z_p2(double z);

/* ---- correlations ---- */

/* Pearson's r of x[n], y[n]; *p (may be NULL) gets the two-sided p-value. */
double wb_stats_pearson(const double *x, const double *y, size_t n, double *p);

/* Spearman's ρ of x[n], y[n] into *rho, the two-sided p-value into *p (may
 * be NULL).  Returns 0 or WB_ENOMEM (the ranks need 2n doubles and n
 * indices of scratch). */
int wb_stats_spearman(const double *x, const double *y, size_t n, double *rho, double *p);

/* Ranks 1..n of x[n] into rank[n], ties sharing their average rank
 * (scipy.stats.rankdata(x, 'average')).  idx[n] is scratch and holds, on
 * return, the indices of x in ascending order of value (stable).  x must
 * hold no NaN. */
void wb_stats_rank(const double *x, size_t n, double *rank, size_t *idx);

/* ---- experiments ---- */

/* Mean of x[0..n) (NaN when n is 0). */
double wb_stats_mean(const double *x, size_t n);

/* Sample standard deviation (n - 1 in the denominator, as numpy's ddof=1
 * and pandas); 0 when n < 2. */
double wb_stats_sd(const double *x, size_t n);

/* The paired comparison of a and b over n folds (a_i and b_i scored on
 * fold i).  Differences d_i = a_i - b_i. */
typedef struct wb_paired {
    size_t n;            /* pairs */
    double mean_diff;    /* mean of d */
    double sd_diff;      /* sample standard deviation of d */
    double t, p_t;       /* paired t-test: t = mean / (sd / sqrt(n)), n - 1 df (scipy ttest_rel) */
    double t_nb, p_nb;   /* Nadeau-Bengio: t = mean / (sd * sqrt(1/n + test_train)), n - 1 df */
    double w, p_w;       /* Wilcoxon signed-rank: min(W+, W-) and its two-sided p */
    int w_exact;         /* 1: p_w from the exact distribution, 0: normal approximation */
} wb_paired;

/* Run the three tests.  test_train is n_test / n_train of one fold (1/(k-1)
 * for k-fold cross-validation).  Conventions where the tests are undefined:
 * with n < 2 every p is NaN; when every difference is 0 the t statistics
 * are 0 and every p is 1; when the differences are all equal and not 0
 * the t statistics are infinite and p_t = p_nb = 0.  Wilcoxon drops zero
 * differences (Wilcoxon's convention, scipy's zero_method="wilcox"), ranks
 * |d| with average ranks for ties (wb_stats_rank), and uses the exact
 * distribution of W+ when n <= 50 and there are neither zeros nor ties,
 * else the normal approximation with the tie correction and no continuity
 * correction (what scipy.stats.wilcoxon computes in both cases).  Returns
 * 0, WB_EUSAGE (test_train < 0 or NaN) or WB_ENOMEM. */
int wb_stats_paired(const double *a, const double *b, size_t n, double test_train, wb_paired *out, wb_err *e);

#ifdef __cplusplus
}
#endif
#endif /* WORDBENCH_STATS_H */
