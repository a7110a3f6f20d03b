/*
 * wordbench/split.h — deterministic train/test and k-fold splits.
 *
 * Splits example indices 0..n-1.  Every split is a pure function of its
 * arguments and the caller's 64-bit seed: the generator is xoshiro256**
 * seeded through splitmix64, bounded draws use integer rejection (no
 * floating point, no platform RNG), so the same seed gives the same split on
 * any machine.  A different seed gives a different split (for n large enough
 * that more than one split exists).
 *
 * Labels are given CSR-style so that single- and multi-label tasks share one
 * API: example i has the label ids ids[offsets[i] .. offsets[i+1]).  A
 * single-label task lists exactly one id per example; a multi-label task any
 * number, zero included.
 *
 * Modes (the `mode` argument):
 *   WB_SPLIT_RANDOM     a seeded shuffle; labels are ignored (may be NULL).
 *   WB_SPLIT_STRATIFY   the default for a labelled task.  When every example
 *                       has exactly one label: per-class stratification
 *                       (exact guarantees below).  Otherwise: iterative
 *                       stratification.
 *   WB_SPLIT_ITERATIVE  iterative stratification even for single-label data.
 *
 * Rounding rules.
 *   Train/test, every mode: the test set has exactly T = floor(n*f + 0.5)
 *     examples (round half up; may be 0 or n for tiny n).  Exception: the
 *     iterative mode only aims at T (see below).
 *   Train/test, per-class: class c of size n_c gets t_c = floor(n_c*f) or
 *     floor(n_c*f)+1 test examples, so |t_c - n_c*f| < 1.  The T - sum of
 *     floors extra examples go to the classes with the largest fractional
 *     parts n_c*f - floor(n_c*f) (largest-remainder / Hamilton method); ties
 *     between equal remainders are broken by a seeded random order of the
 *     classes.
 *   k-fold, random and per-class: fold sizes are floor(n/k) or ceil(n/k).
 *     Per-class, class c has floor(n_c/k) or ceil(n_c/k) examples in every
 *     fold.  (Examples grouped by class, shuffled within the class, are dealt
 *     round-robin to the folds starting at a seeded random fold.)
 *   Iterative (Sechidis, Tsoumakas & Vlahavas 2011, "On the stratification of
 *     multi-label data"): subset j has a target size s_j (train/test: n-T and
 *     T; k-fold: floor(n/k) or ceil(n/k), the larger ones at seeded random
 *     folds) and proportion r_j = s_j/n; label l wants r_j * D_l of its D_l
 *     examples in subset j.  Repeatedly take the label with the fewest
 *     examples not yet assigned (ties: seeded random order of labels); give
 *     each of its unassigned examples (in a seeded random order) to the
 *     subset with the largest remaining desired count for that label, ties by
 *     largest remaining desired size, then by the generator; decrement the
 *     desired counts of every label of the example and of the subset.
 *     Examples without labels come last, each to the subset with the largest
 *     remaining desired size.  This is a greedy method: subset sizes and
 *     per-label proportions are close to target, not exactly on it.
 *
 * Not here: reading --valid/--test files, grouping (keeping related examples
 * together), time-ordered splits, shuffling minibatches (use wb_rng).
 *
 * Errors: WB_EUSAGE (an argument out of range, malformed labels; the message
 * names the argument or the example), WB_ENOMEM.  All functions take a
 * caller-owned wb_err (may be NULL).  Output arrays are caller-owned and are
 * only fully written on success.  Memory: O(n + number of label ids +
 * nlabels * subsets) scratch, freed before return.
 */
#ifndef WORDBENCH_SPLIT_H
#define WORDBENCH_SPLIT_H

#include <stddef.h>
#include <stdint.h>

#include "wordbench/err.h"
#include "wordbench/rng.h" /* wb_rng, declared here before it had a module of its own */

#ifdef __cplusplus
extern "C" {
#endif

enum {
    WB_SPLIT_RANDOM = 0,    /* seeded shuffle, labels ignored */
    WB_SPLIT_STRATIFY = 1,  /* per-class if single-label, else iterative */
    WB_SPLIT_ITERATIVE = 2  /* iterative stratification always */
};

/* Label sets of n examples, CSR layout.  Borrowed: the split functions only
 * read them during the call.  Invariants checked by every stratified split:
 * offsets[0] == 0, offsets non-decreasing, every id < nlabels, no id twice in
 * one example. */
typedef struct wb_split_labels {
    const size_t *offsets;  /* (n+1): example i's ids are ids[offsets[i]..offsets[i+1]) */
    const uint32_t *ids;    /* (offsets[n]): label ids, each < nlabels */
    uint32_t nlabels;       /* number of distinct labels: ids are 0..nlabels-1 */
} wb_split_labels;

/* Train/test split of n examples (1 <= n <= UINT32_MAX).
 *   labels         in: label sets of the n examples; may be NULL only for
 *                  WB_SPLIT_RANDOM.
 *   test_fraction  in: share of examples in the test set, 0 < f < 1.
 *   seed           in: any value; same arguments + seed = same split.
 *   mode           in: WB_SPLIT_RANDOM, WB_SPLIT_STRATIFY or WB_SPLIT_ITERATIVE.
 *   test           out (n): 1 if example i is in the test set, 0 if train.
 * Returns 0, WB_EUSAGE (n out of range, f outside (0,1) or NaN, unknown
 * mode, NULL output, NULL or malformed labels in a stratified mode), or
 * WB_ENOMEM. */
int wb_split_train_test(size_t n, const wb_split_labels *labels, double test_fraction,
                        uint64_t seed, int mode, uint8_t *test, wb_err *err);

/* k-fold split of n examples (2 <= k <= n <= UINT32_MAX).
 *   labels  in: as for wb_split_train_test.
 *   k       in: number of folds.
 *   seed    in: any value.
 *   mode    in: as for wb_split_train_test.
 *   fold    out (n): the fold 0..k-1 of example i (its test fold).
 * Returns 0, WB_EUSAGE (k < 2, k > n, and the cases of wb_split_train_test)
 * or WB_ENOMEM. */
int wb_split_kfold(size_t n, const wb_split_labels *labels, uint32_t k, uint64_t seed,
                   int mode, uint32_t *fold, wb_err *err);

#ifdef __cplusplus
}
#endif
#endif /* WORDBENCH_SPLIT_H */
