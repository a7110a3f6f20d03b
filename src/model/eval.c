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

void wb_inputs_of_dataset(wb_inputs *in, const wb_dataset *ds) {
    memset(in, 0, sizeof *in);
    in->ninputs = wb_dataset_ninputs(ds);
    if (in->ninputs > WB_MAX_INPUTS) in->ninputs = WB_MAX_INPUTS + 1; /* refused by wb_inputs_check */
    for (size_t k = 0; k < in->ninputs && k < WB_MAX_INPUTS; k++) {
        const wb_ids *x = wb_dataset_input_get(ds, k)->ids;
        if (x) in->X[k] = *x;
    }
    in->feat = wb_dataset_features(ds, &in->nfeat);
}

size_t wb_inputs_ids_per_example(const wb_model *m) {
    const wb_model_cfg *c = wb_model_cfg_get(m);
    size_t n = 0;
    for (size_t k = 0; k < wb_model_cfg_ninputs(c); k++) n += wb_model_cfg_T(c, k);
    return n;
}

int wb_inputs_check(const wb_model *m, const wb_inputs *in, wb_err *e) {
    const wb_model_cfg *c = wb_model_cfg_get(m);
    size_t ni = wb_model_cfg_ninputs(c);
    if (in->ninputs != ni)
        return wb_err_set(e, WB_EUSAGE, "%zu text input%s for a model of %zu", in->ninputs, in->ninputs == 1 ? "" : "s", ni);
    for (size_t k = 0; k < ni; k++) {
        if (!in->X[k].data && in->X[k].n) return wb_err_set(e, WB_EUSAGE, "text input %zu has no ids", k + 1);
        if (in->X[k].T != wb_model_cfg_T(c, k))
            return wb_err_set(e, WB_EUSAGE, "text input %zu: rows of %zu ids, the model takes %zu", k + 1, in->X[k].T,
                              wb_model_cfg_T(c, k));
        if (in->X[k].n != in->X[0].n)
            return wb_err_set(e, WB_EUSAGE, "text input %zu has %zu rows, input 1 %zu", k + 1, in->X[k].n, in->X[0].n);
    }
    if (c->nfeat && (!in->feat || in->nfeat != c->nfeat))
        return wb_err_set(e, WB_EUSAGE, "%zu numeric features for a model of %zu", in->feat ? in->nfeat : 0, c->nfeat);
    return 0;
}

void wb_inputs_gather(const wb_model *m, const wb_inputs *in, const uint32_t *rows, size_t b, int32_t *xbuf,
                      double *fbuf, wb_batch *out) {
    const wb_model_cfg *c = wb_model_cfg_get(m);
    memset(out, 0, sizeof *out);
    out->B = b;
    for (size_t k = 0; k < wb_model_cfg_ninputs(c); k++) {
        wb_ids_gather(&in->X[k], rows, b, xbuf);
        out->X[k] = xbuf;
        xbuf += b * in->X[k].T;
    }
    if (c->nfeat) {
        for (size_t j = 0; j < b; j++) memcpy(fbuf + j * c->nfeat, in->feat + (size_t)rows[j] * c->nfeat, c->nfeat * sizeof *fbuf);
        out->feat = fbuf;
    }
}

int wb_eval_run(wb_model *m, const wb_ids *X, const size_t *loff, const uint32_t *lids, const uint32_t *idx,
                size_t nidx, size_t batch, size_t k, float threshold, wb_metrics *out, float *probs, wb_err *e) {
    wb_inputs in = {.ninputs = 1, .X = {*X}};
    return wb_eval_inputs(m, &in, loff, lids, idx, nidx, batch, k, threshold, out, probs, e);
}

int wb_eval_inputs(wb_model *m, const wb_inputs *in, const size_t *loff, const uint32_t *lids, const uint32_t *idx,
                   size_t nidx, size_t batch, size_t k, float threshold, wb_metrics *out, float *probs, wb_err *e) {
    const wb_model_cfg *c = wb_model_cfg_get(m);
    size_t C = c->C, Tall = wb_inputs_ids_per_example(m);
    wb_task task = c->task;
    memset(out, 0, sizeof *out);
    out->threshold = threshold;
    int rc = wb_inputs_check(m, in, e);
    if (rc) return rc;
    if (k < 1) k = 1;
    if (task != WB_TASK_BINARY && k > C) k = C;
    if (task == WB_TASK_BINARY) k = 1;
    out->k = k;
    int32_t *xb = malloc(batch * Tall * sizeof *xb);
    double *fb = c->nfeat ? malloc(batch * c->nfeat * sizeof *fb) : NULL;
    int32_t *y = malloc(batch * sizeof *y);
    float *t = malloc(batch * C * sizeof *t);
    float *p = malloc(batch * C * sizeof *p);
    uint32_t *top = malloc(k * sizeof *top);
    if (!xb || (c->nfeat && !fb) || !y || !t || !p || !top) {
        free(xb), free(fb), free(y), free(t), free(p), free(top);
        return wb_err_set(e, WB_ENOMEM, "out of memory");
    }
    double loss = 0, correct = 0, hits = 0, ntrue = 0, tp = 0, fp = 0, fn = 0;
    for (size_t s = 0; s < nidx; s += batch) {
        size_t B = nidx - s < batch ? nidx - s : batch;
        wb_batch bt;
        wb_inputs_gather(m, in, idx + s, B, xb, fb, &bt);
        wb_targets(task, C, loff, lids, idx + s, B, y, t);
        float l;
        rc = wb_model_predict_batch(m, &bt, task == WB_TASK_MULTICLASS ? y : NULL, task == WB_TASK_MULTICLASS ? NULL : t,
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
                ntrue += truth;
            }
            correct += all;
            if (task == WB_TASK_MULTILABEL) {
                wb_topk(pr, C, k, top);
                for (size_t q = 0; q < k; q++) hits += tr[top[q]] > 0.5f;
            } else {
                hits += all;
            }
        }
    }
    free(xb), free(fb), free(y), free(t), free(p), free(top);
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
