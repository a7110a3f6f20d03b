/*
 * wordbench/eval.h — running a model over labelled examples: targets from
 * label sets, loss, accuracy and the multi-label metrics.
 *
 * Metrics (wb_metrics):
 *   loss      mean loss (the training loss: nn.h, without class weights);
 *   acc       binary: prob >= threshold equals the label; multiclass:
 *             argmax equals the label; multilabel: the predicted set
 *             {c : prob_c >= threshold} equals the true set (exact match);
 *   p_at_k, r_at_k   fastText's `test` definitions: over all examples, the
 *             k highest-probability labels (ties: lower id first) are
 *             predicted; P@k = correct predictions / (k · N), R@k = correct
 *             predictions / number of true labels.  Binary: k = 1 over
 *             the two labels (label 1 when p > 1 - p, ties to label 0);
 *             every single-label example has one true label, so R@k <= 1
 *             and, for binary, R@1 = P@1;
 *   precision, recall, f1   micro-averaged over labels with the threshold
 *             rule (multilabel; binary: of the positive class).
 *
 *   auc       area under the ROC curve (wb_auc): binary, of the one
 *             sigmoid against label 1; multiclass and multilabel, the
 *             unweighted mean of the one-vs-rest AUCs of the labels that
 *             have both positive and negative examples (sklearn's
 *             roc_auc_score with average="macro", multi_class="ovr").
 *
 * Unknown labels.  A label id the model has no output for (>= C; binary:
 * >= 2; bundle.h's WB_UNKNOWN_KEEP) is a true label that is never
 * predicted: it counts in the true labels of R@k and recall (a false
 * negative), never as a hit, and the example is never an exact match.  A
 * binary or multiclass example with such a label is predicted without a
 * target: it counts as wrong in accuracy and P@k and is left out of the
 * loss (n_loss).  Multi-label examples all count in the loss (the BCE over
 * the outputs the model has).
 *
 * Every other figure (per class, averages, ROC-AUC, confusion): metrics.h,
 * from the probabilities this returns.
 */
#ifndef WORDBENCH_EVAL_H
#define WORDBENCH_EVAL_H

#include <stddef.h>
#include <stdint.h>

#include "wordbench/dataset.h"
#include "wordbench/model.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Targets of a minibatch from label sets in CSR form (dataset.h):
 * example j of the batch is idx[j].  Multiclass fills y[B] with the first
 * (only) label id; binary and multilabel fill t[B, C] with 0/1 (binary:
 * label id 1 is the positive class).  Pass NULL for the unused one. */
void wb_targets(wb_task task, size_t C, const size_t *loff, const uint32_t *lids, const uint32_t *idx,
                size_t B, int32_t *y, float *t);

typedef struct wb_metrics {
    size_t n;                /* examples */
    size_t n_loss;           /* examples in the loss (file comment: unknown labels) */
    double loss;             /* mean loss over n_loss examples */
    double acc;              /* accuracy (file comment) */
    size_t k;                /* k of P@k, R@k */
    double p_at_k, r_at_k;   /* fastText's P@k and R@k */
    double precision, recall, f1; /* micro, at the threshold */
    float threshold;         /* sigmoid threshold used */
} wb_metrics;

/* Every example a model reads, all rows at once: the (n, T_k) id matrix of
 * each text input and the (n, nfeat) numeric features (NULL, 0 without).
 * Borrowed. */
typedef struct wb_inputs {
    size_t ninputs;
    wb_ids X[WB_MAX_INPUTS];
    const double *feat;
    size_t nfeat;
} wb_inputs;

/* The inputs of a data set (every text input, the features). */
void wb_inputs_of_dataset(wb_inputs *in, const wb_dataset *ds);

/* What a model reading data set ds takes from it, into *c (the rest of *c
 * is left alone): input 0's V and T, the task and its outputs C, and with
 * several text inputs ntext and each input's V, T and column name; nfeat.
 * The one rule train and a search trial share.  Errors (WB_EUSAGE): more
 * text inputs than WB_MAX_INPUTS, a binary task without two labels. */
int wb_model_cfg_of_dataset(wb_model_cfg *c, const wb_dataset *ds, wb_err *e);

/* Ids per example of a model (the sum of its inputs' maxlens): the int32
 * room wb_inputs_gather needs per example. */
size_t wb_inputs_ids_per_example(const wb_model *m);

/* 0 when `in` is what model m reads (as many text inputs, each of the
 * model's maxlen, and the model's features, the same rows everywhere),
 * else WB_EUSAGE naming the difference. */
int wb_inputs_check(const wb_model *m, const wb_inputs *in, wb_err *e);

/* Rows rows[0..b) of `in` (checked by wb_inputs_check) as a minibatch of
 * model m: ids into xbuf (b * wb_inputs_ids_per_example), features into
 * fbuf (b * nfeat; may be NULL without features), pointers into *out. */
void wb_inputs_gather(const wb_model *m, const wb_inputs *in, const uint32_t *rows, size_t b, int32_t *xbuf,
                      double *fbuf, wb_batch *out);

/* Run the model over examples idx[0..nidx) of `in` with labels (loff,
 * lids); minibatches of `batch` examples (at most the model's max batch).
 * probs (may be NULL) gets (nidx, C) probabilities.  Returns 0,
 * wb_inputs_check's error or the model's. */
int wb_eval_inputs(wb_model *m, const wb_inputs *in, const size_t *loff, const uint32_t *lids, const uint32_t *idx,
                   size_t nidx, size_t batch, size_t k, float threshold, wb_metrics *out, float *probs, wb_err *e);

/* wb_eval_inputs for a model of one text input and no features: X holds
 * (rows of T ids, T the model's: else WB_EUSAGE). */
int wb_eval_run(wb_model *m, const wb_ids *X, const size_t *loff, const uint32_t *lids, const uint32_t *idx,
                size_t nidx, size_t batch, size_t k, float threshold, wb_metrics *out, float *probs, wb_err *e);

/* ROC-AUC of n scores (score[i * stride]) against 0/1 truths truth[i]:
 * the probability that a positive drawn at random scores higher than a
 * negative drawn at random, a tie counting one half; equal to the area
 * under the ROC curve drawn with tied scores as one diagonal step, and to
 * sklearn's roc_auc_score.  Computed from the average ranks of the sorted
 * scores (Mann-Whitney U / (P·N)) in O(n log n); NaN scores rank lowest.
 * *auc is NaN when every truth is equal (the AUC is undefined).
 * Returns 0 or WB_ENOMEM (n entries of scratch). */
int wb_roc_auc(const float *score, size_t stride, const uint8_t *truth, size_t n, double *auc, wb_err *e);

/* AUC of model outputs (file comment): probs (n, C) rows as wb_eval_run
 * writes them for examples idx[0..n) (idx NULL: 0..n-1) with labels
 * (loff, lids); C = 1 for binary.  Labels whose column is all-positive or
 * all-negative over the n examples are left out of the mean; *auc is NaN when none is left (and
 * *nused, may be NULL, gets the number of labels averaged).  Returns 0 or
 * WB_ENOMEM. */
int wb_auc(wb_task task, size_t C, const float *probs, const size_t *loff, const uint32_t *lids,
           const uint32_t *idx, size_t n, double *auc, size_t *nused, wb_err *e);

/* Which examples an error listing shows (eval --errors-by). */
typedef enum wb_error_rule {
    WB_ERRORS_TOP1 = 0,     /* the best label is not a true label (what P@1 counts) */
    WB_ERRORS_TOPK,         /* none of the k best labels is a true label */
    WB_ERRORS_EXACT,        /* the labels at >= threshold are not exactly the true
                               set (multi-label accuracy's errors) */
    WB_ERRORS_THRESHOLD     /* no true label reaches the threshold */
} wb_error_rule;

/* 1 when an example is an error under `rule`: p (C) its probabilities,
 * lab[0..nl) its label ids (an id >= C, binary >= 2, is unknown: never
 * predicted).  Ties rank as wb_topk.  For a binary model every rule is the
 * one decision (p >= threshold) != (label is 1). */
int wb_eval_wrong(wb_task task, size_t C, const float *p, const uint32_t *lab, size_t nl, wb_error_rule rule, size_t k,
                  float threshold);

/* "top1", "topk", "exact", "threshold". */
const char *wb_error_rule_name(wb_error_rule r);

/* The k best labels of one probability row (ties: lower id first) into
 * top[0..k) (k <= C). */
void wb_topk(const float *p, size_t C, size_t k, uint32_t *top);

#ifdef __cplusplus
}
#endif
#endif /* WORDBENCH_EVAL_H */
