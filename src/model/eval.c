/*
 * eval.c — targets, metrics and batched inference over labelled examples
 * (eval.h).  Leaves out macro averages and curves.
 */
#include "wordbench/eval.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void wb_targets(wb_task task, size_t C, const size_t *loff, const uint32_t *lids, const uint32_t *idx,
                size_t B, int32_t *y, float *t) {
    for (size_t j = 0; j < B; j++) {
        size_t i = idx[j], a = loff[i], b = loff[i + 1];
        if (task == WB_TASK_MULTICLASS) {
            if (y) y[j] = a < b ? (int32_t)lids[a] : 0;
        } else if (t) {
            float *row = t + j * C;
            if (task == WB_TASK_BINARY) {
                row[0] = (a < b && lids[a] == 1) ? 1.0f : 0.0f;
            } else {
                memset(row, 0, C * sizeof *row);
                for (size_t q = a; q < b; q++)
                    if (lids[q] < C) row[lids[q]] = 1.0f;
            }
        }
    }
}

void wb_topk(const float *p, size_t C, size_t k, uint32_t *top) {
    /* k is small (1..5 typically): selection by repeated scans. */
    for (size_t r = 0; r < k; r++) {
        size_t best = C;
        for (size_t c = 0; c < C; c++) {
            int used = 0;
            for (size_t q = 0; q < r; q++) used |= top[q] == c;
            if (used) continue;
            if (best == C || p[c] > p[best]) best = c;
        }
        top[r] = (uint32_t)best;
    }
}

int wb_eval_run(wb_model *m, const int32_t *X, const size_t *loff, const uint32_t *lids, const uint32_t *idx,
                size_t nidx, size_t batch, size_t k, float threshold, wb_metrics *out, float *probs, wb_err *e) {
    const wb_model_cfg *c = wb_model_cfg_get(m);
    size_t C = c->C, T = c->T;
    wb_task task = c->task;
    memset(out, 0, sizeof *out);
    out->threshold = threshold;
    if (k < 1) k = 1;
    if (task != WB_TASK_BINARY && k > C) k = C;
    if (task == WB_TASK_BINARY) k = 1;
    out->k = k;
    int32_t *xb = malloc(batch * T * sizeof *xb);
    int32_t *y = malloc(batch * sizeof *y);
    float *t = malloc(batch * C * sizeof *t);
    float *p = malloc(batch * C * sizeof *p);
    uint32_t *top = malloc(k * sizeof *top);
    if (!xb || !y || !t || !p || !top) {
        free(xb), free(y), free(t), free(p), free(top);
        return wb_err_set(e, WB_ENOMEM, "out of memory");
    }
    double loss = 0, correct = 0, hits = 0, ntrue = 0, tp = 0, fp = 0, fn = 0;
    int rc = 0;
    for (size_t s = 0; s < nidx; s += batch) {
        size_t B = nidx - s < batch ? nidx - s : batch;
        for (size_t j = 0; j < B; j++) memcpy(xb + j * T, X + (size_t)idx[s + j] * T, T * sizeof *xb);
        wb_targets(task, C, loff, lids, idx + s, B, y, t);
        float l;
        rc = wb_model_predict(m, xb, B, task == WB_TASK_MULTICLASS ? y : NULL, task == WB_TASK_MULTICLASS ? NULL : t,
                              NULL, p, &l, e);
        if (rc) break;
        loss += (double)l * (double)B;
        for (size_t j = 0; j < B; j++) {
            const float *pr = p + j * C;
            if (probs) memcpy(probs + (s + j) * C, pr, C * sizeof *pr);
            if (task == WB_TASK_MULTICLASS) {
                wb_topk(pr, C, k, top);
                correct += top[0] == (uint32_t)y[j];
                for (size_t q = 0; q < k; q++) hits += top[q] == (uint32_t)y[j];
                ntrue += 1;
                continue;
            }
            const float *tr = t + j * C;
            int all = 1;
            for (size_t q = 0; q < C; q++) {
                int pred = pr[q] >= threshold, truth = tr[q] > 0.5f;
                all &= pred == truth;
                tp += pred && truth, fp += pred && !truth, fn += !pred && truth;
                ntrue += task == WB_TASK_MULTILABEL && truth;
            }
            correct += all;
            if (task == WB_TASK_MULTILABEL) {
                wb_topk(pr, C, k, top);
                for (size_t q = 0; q < k; q++) hits += tr[top[q]] > 0.5f;
            } else {
                /* binary: the top-1 of the two labels (1 - p, p), ties to
                 * label 0; every example has one true label, so R@1 = P@1 */
                float two[2] = {1.0f - pr[0], pr[0]};
                wb_topk(two, 2, 1, top);
                hits += (top[0] == 1) == (tr[0] > 0.5f);
                ntrue += 1;
            }
        }
    }
    free(xb), free(y), free(t), free(p), free(top);
    if (rc) return rc;
    out->n = nidx;
    if (nidx) {
        out->loss = loss / (double)nidx;
        out->acc = correct / (double)nidx;
        out->p_at_k = hits / ((double)k * (double)nidx);
        out->r_at_k = ntrue > 0 ? hits / ntrue : 0;
        if (task == WB_TASK_MULTICLASS) out->precision = out->recall = out->f1 = out->acc;
        else {
            out->precision = tp + fp > 0 ? tp / (tp + fp) : 0;
            out->recall = tp + fn > 0 ? tp / (tp + fn) : 0;
            out->f1 = out->precision + out->recall > 0 ? 2 * out->precision * out->recall / (out->precision + out->recall) : 0;
        }
    }
    return 0;
}
