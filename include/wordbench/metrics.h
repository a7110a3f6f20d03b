/*
 * wordbench/metrics.h — every figure of a classifier's predictions, computed
 * from its probabilities and the true label sets: what scikit-learn's
 * classification_report, confusion_matrix, average_precision_score,
 * log_loss, hamming_loss and fastText's `test` print, with their
 * definitions (checked against scikit-learn 1.2 on fixed predictions:
 * tests/test_metrics.c, fixtures/metrics/, tests/cli/metrics_sklearn.sh).
 *
 * Input: probs (n, C) as the model gives them (C = 1 for a binary task: the
 * probability of label 1; softmax rows for multiclass; one sigmoid per label
 * for multilabel) and each example's label ids in CSR form (dataset.h).
 * The task has L labels: 2 for binary (ids 0 and 1), C otherwise.  A label
 * id >= L is UNKNOWN (a label the model has no output for, bundle.h's
 * WB_UNKNOWN_KEEP): a true label that is never predicted.
 *
 * Predictions:
 *   binary      label 1 when p >= threshold (accuracy, precision, recall,
 *               F1, per class, confusion); top-1 (for P@1) is label 1 when
 *               p > 1 - p, ties to label 0, as wb_topk over (1 - p, p);
 *   multiclass  the top-1 label (ties: lower id); the threshold is unused;
 *   multilabel  the set {c : p_c >= threshold}.
 *
 * Figures (NaN where undefined, as noted):
 *   accuracy    binary and multiclass: correct / n; multilabel: subset
 *               accuracy (the predicted set is exactly the true set;
 *               sklearn's accuracy_score on indicator matrices);
 *   per class   precision tp/(tp+fp), recall tp/(tp+fn), F1 2tp/(2tp+fp+fn)
 *               (0 when the denominator is 0, sklearn's zero_division=0),
 *               support = true occurrences;
 *   micro       the same over the summed counts; unknown true labels are
 *               false negatives.  Single-label without unknown labels:
 *               micro P = R = F1 = accuracy;
 *   macro       the unweighted mean over the PRESENT labels: those with a
 *               true occurrence or a prediction (sklearn's default for
 *               single-label data; for multi-label data sklearn's default
 *               averages over all C columns, pass labels=<present> to get
 *               ours: absent labels would each add a 0);
 *   weighted    the mean weighted by support;
 *   precision, recall, f1   the headline figures: binary: of the positive
 *               class (sklearn's average="binary"); multiclass and
 *               multilabel: micro;
 *   p_at_k, r_at_k  fastText's `test`: the k highest-probability labels of
 *               every example are its predictions (ties: lower id; binary:
 *               k = 1 over the two labels); P@k = hits / (k·n), R@k = hits /
 *               true labels.  A single-label example has exactly one true
 *               label, so R@k <= 1 always;
 *   hamming     multilabel: wrong label decisions / (n · (C + U)), U the
 *               distinct unknown labels (columns never predicted);
 *               single-label: 1 - accuracy (sklearn's hamming_loss);
 *   log_loss    binary and multiclass: mean of -ln p(true label) with
 *               sklearn's clipping to [eps, 1 - eps] (eps = DBL_EPSILON) and
 *               its row normalisation; examples with an unknown label are
 *               left out; multilabel: the mean binary cross-entropy of the
 *               n·C decisions (sklearn's log_loss of the flattened matrix);
 *   avg_precision  binary: average precision of the positive class (sklearn's
 *               average_precision_score: Σ (R_i - R_{i-1}) P_i over the
 *               distinct scores, no interpolation); multiclass (one vs rest)
 *               and multilabel: the mean over the labels with a positive
 *               example (NaN when none);
 *   auc         ROC-AUC, eval.h's wb_auc (sklearn's roc_auc_score: the
 *               area under the ROC curve, ties as a diagonal step; the
 *               one figure eval, search and compare rank by): binary of
 *               label 1, NaN
 *               unless both labels occur; multiclass (one vs rest) and
 *               multilabel: the mean over the labels with at least one
 *               positive and one negative example (NaN when none);
 *   confusion   counts of (true label, predicted label) pairs, sparse,
 *               sorted by true then predicted label: binary at the
 *               threshold, multiclass top-1, multilabel: for every known
 *               true label of an example, the example's top-1 label (which
 *               label the model put first instead).  Unknown true labels
 *               have no cell.
 *
 * Deliberately not here: curves (the report draws them from the same
 * inputs), per-example figures, ranking losses.
 */
#ifndef WORDBENCH_METRICS_H
#define WORDBENCH_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "wordbench/err.h"
#include "wordbench/model.h"

#ifdef __cplusplus
extern "C" {
#endif

/* One label's counts and figures. */
typedef struct wb_class_score {
    uint64_t tp, fp, fn;     /* counts */
    uint64_t support;        /* true occurrences = tp + fn */
    double precision, recall, f1;
} wb_class_score;

/* One cell of the confusion matrix. */
typedef struct wb_confusion_cell {
    uint32_t truth, pred;    /* label ids (< L) */
    uint64_t count;
} wb_confusion_cell;

/* Every figure (file comment).  Arrays are owned: wb_scores_free. */
typedef struct wb_scores {
    wb_task task;
    size_t n;                /* examples */
    size_t L;                /* labels: 2 (binary) or C */
    size_t k;                /* k of P@k, R@k as used (clamped to 1..L; binary 1) */
    float threshold;         /* sigmoid threshold used */
    double accuracy;
    double precision, recall, f1;                      /* headline (file comment) */
    double micro_precision, micro_recall, micro_f1;
    double macro_precision, macro_recall, macro_f1;
    double weighted_precision, weighted_recall, weighted_f1;
    double p_at_k, r_at_k;
    double hamming;
    double log_loss;
    double avg_precision;
    double auc;              /* ROC-AUC (file comment) */
    size_t present;          /* labels in the macro averages */
    uint64_t true_labels;    /* true label occurrences, unknown ones included */
    uint64_t unknown;        /* unknown true label occurrences */
    wb_class_score *cls;     /* (L) per label */
    wb_confusion_cell *cells;/* (ncells) sorted by (truth, pred) */
    size_t ncells;
} wb_scores;

/* Compute every figure of n examples: probs (n, C) row j for example j,
 * whose labels are lids[loff[i] .. loff[i+1]) with i = idx[j] (idx NULL:
 * i = j).  k >= 1 (clamped), threshold in [0, 1].  An example of a binary
 * or multiclass task with no label counts as label 0 (wb_targets).  On
 * success s owns its arrays (wb_scores_free); on error s holds nothing.
 * Returns 0, WB_EUSAGE (C, task), WB_ENOMEM. */
int wb_scores_compute(wb_scores *s, wb_task task, size_t C, const float *probs, const size_t *loff,
                      const uint32_t *lids, const uint32_t *idx, size_t n, size_t k, float threshold, wb_err *e);

/* Release the arrays (s stays valid, empty).  NULL and a zeroed s are fine. */
void wb_scores_free(wb_scores *s);

/* Count of confusion cell (truth, pred); 0 when absent.  O(log ncells). */
uint64_t wb_scores_confusion(const wb_scores *s, uint32_t truth, uint32_t pred);

/* The threshold that maximises F1 on these examples (binary: the positive
 * class's F1; multilabel: micro F1), for `--tune-threshold` on the
 * validation split: every distinct probability is a candidate cut; the
 * threshold returned lies halfway between the best cut's probability and
 * the next lower one (so the examples are classified as at the cut, with a
 * margin on both sides).  *f1 gets the F1 reached.  When no cut gives F1 >
 * 0 (no positive labels) *th is 0.5 and *f1 0.  Arguments as
 * wb_scores_compute.  Returns 0, WB_EUSAGE (multiclass: no threshold),
 * WB_ENOMEM. */
int wb_threshold_tune(wb_task task, size_t C, const float *probs, const size_t *loff, const uint32_t *lids,
                      const uint32_t *idx, size_t n, float *th, double *f1, wb_err *e);

/* Average precision of n scores (score[i·stride]) against 0/1 truths
 * (sklearn's average_precision_score of one column); NaN when no truth is
 * positive.  Returns 0 or WB_ENOMEM. */
int wb_average_precision(const float *score, size_t stride, const uint8_t *truth, size_t n, double *ap, wb_err *e);

#ifdef __cplusplus
}
#endif
#endif /* WORDBENCH_METRICS_H */
