/*
 * eval.c — targets, metrics and batched inference over labelled examples
 * (eval.h).  Leaves out macro averages and curves.
 */
#include "wordbench/eval.h"

#include <math.h>
#include <stdio.h>
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

/* Rank of label c in row p (C): labels before it in wb_topk's order
 * (higher probability, ties: lower id first). */
static size_t rank_of(const float *p, size_t C, size_t c) {
    size_t r = 0;
    for (size_t q = 0; q < C; q++) r += p[q] > p[c] || (p[q] == p[c] && q < c);
    return r;
}

int wb_eval_wrong(wb_task task, size_t C, const float *p, const uint32_t *lab, size_t nl, wb_error_rule rule, size_t k,
                  float threshold) {
    if (task == WB_TASK_BINARY) /* one decision whatever the rule: p >= threshold is the positive label 1 */
        return nl != 1 || lab[0] > 1 || (p[0] >= threshold) != (lab[0] == 1);
    size_t unknown = 0;
    for (size_t i = 0; i < nl; i++) unknown += lab[i] >= C;
    switch (rule) {
    case WB_ERRORS_TOP1: k = 1; /* fall through */
    case WB_ERRORS_TOPK:
        if (k < 1) k = 1;
        for (size_t i = 0; i < nl; i++)
            if (lab[i] < C && rank_of(p, C, lab[i]) < k) return 0;
        return 1;
    case WB_ERRORS_THRESHOLD:
        for (size_t i = 0; i < nl; i++)
            if (lab[i] < C && p[lab[i]] >= threshold) return 0;
        return 1;
    case WB_ERRORS_EXACT:
    default: {
        if (unknown) return 1;
        size_t above = 0;
        for (size_t q = 0; q < C; q++) above += p[q] >= threshold;
        if (above != nl) return 1;
        for (size_t i = 0; i < nl; i++)
            if (!(p[lab[i]] >= threshold)) return 1;
        return 0;
    }
    }
}

const char *wb_error_rule_name(wb_error_rule r) {
    static const char *const n[] = {"top1", "topk", "exact", "threshold"};
    return (unsigned)r < 4 ? n[r] : "?";
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

int wb_model_cfg_of_dataset(wb_model_cfg *c, const wb_dataset *ds, wb_err *e) {
    size_t ninp = wb_dataset_ninputs(ds), nfeat = 0;
    if (ninp > WB_MAX_INPUTS) return wb_err_set(e, WB_EUSAGE, "%zu text inputs: the models take at most %d", ninp, WB_MAX_INPUTS);
    c->V = wb_vocab_size(wb_dataset_vocab(ds));
    c->T = wb_dataset_maxlen(ds);
    c->ntext = ninp > 1 ? ninp : 0;
    for (size_t k = 0; k < ninp && ninp > 1; k++) { /* one branch each */
        const wb_dataset_input *in = wb_dataset_input_get(ds, k);
        if (k) c->text_V[k] = wb_vocab_size(in->vocab), c->text_T[k] = in->maxlen;
        snprintf(c->text_name[k], sizeof c->text_name[k], "%.*s", (int)sizeof c->text_name[k] - 1, in->name);
    }
    wb_dataset_features(ds, &nfeat);
    c->nfeat = nfeat;
    c->task = wb_dataset_task(ds);
    c->C = c->task == WB_TASK_BINARY ? 1 : wb_dataset_nlabels(ds);
    if (c->task == WB_TASK_BINARY && wb_dataset_nlabels(ds) != 2)
        return wb_err_set(e, WB_EUSAGE, "a binary task needs two labels; the training data has %u", wb_dataset_nlabels(ds));
    return 0;
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

/* Examples from..from+n of a gathered batch. */
static wb_batch batch_slice(const wb_model_cfg *c, const wb_batch *b, size_t from, size_t n) {
    wb_batch s = {.B = n};
    for (size_t k = 0; k < wb_model_cfg_ninputs(c); k++) s.X[k] = b->X[k] + from * wb_model_cfg_T(c, k);
    if (b->feat) s.feat = b->feat + from * c->nfeat;
    return s;
}

int wb_eval_run(wb_model *m, const wb_ids *X, const size_t *loff, const uint32_t *lids, const uint32_t *idx,
                size_t nidx, size_t batch, size_t k, float threshold, wb_metrics *out, float *probs, wb_err *e) {
    if (!X) return wb_err_set(e, WB_EUSAGE, "no ids to evaluate");
    wb_inputs in = {.ninputs = 1, .X = {*X}};
    return wb_eval_inputs(m, &in, loff, lids, idx, nidx, batch, k, threshold, out, probs, e);
}

int wb_eval_inputs(wb_model *m, const wb_inputs *in, const size_t *loff, const uint32_t *lids, const uint32_t *idx,
                   size_t nidx, size_t batch, size_t k, float threshold, wb_metrics *out, float *probs, wb_err *e) {
    const wb_model_cfg *c = wb_model_cfg_get(m);
    size_t C = c->C, Tall = wb_inputs_ids_per_example(m);
    wb_task task = c->task;
    size_t L = task == WB_TASK_BINARY ? 2 : C; /* label ids the model knows */
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
    uint32_t *ord = malloc(batch * sizeof *ord); /* example ids of the batch: those in the loss first */
    if (!xb || (c->nfeat && !fb) || !y || !t || !p || !top || !ord) {
        free(xb), free(fb), free(y), free(t), free(p), free(top), free(ord);
        return wb_err_set(e, WB_ENOMEM, "out of memory");
    }
    double loss = 0, correct = 0, hits = 0, ntrue = 0, tp = 0, fp = 0, fn = 0;
    size_t nloss = 0;
    for (size_t s = 0; s < nidx; s += batch) {
        size_t B = nidx - s < batch ? nidx - s : batch, nk = 0, nu = 0;
        /* A binary or multiclass example whose label the model does not know
         * has no target: it is predicted without one and left out of the loss. */
        for (size_t j = 0; j < B; j++) {
            uint32_t i = idx[s + j];
            int unk = task != WB_TASK_MULTILABEL && loff[i] < loff[i + 1] && lids[loff[i]] >= L;
            if (!unk) ord[nk++] = i;
        }
        for (size_t j = 0; j < B; j++) {
            uint32_t i = idx[s + j];
            if (task != WB_TASK_MULTILABEL && loff[i] < loff[i + 1] && lids[loff[i]] >= L) ord[nk + nu++] = i;
        }
        wb_batch bt;
        wb_inputs_gather(m, in, ord, B, xb, fb, &bt);
        wb_targets(task, C, loff, lids, ord, nk, y, t);
        float l = 0;
        wb_batch known = batch_slice(c, &bt, 0, nk), rest = batch_slice(c, &bt, nk, nu);
        if (nk)
            rc = wb_model_predict_batch(m, &known, task == WB_TASK_MULTICLASS ? y : NULL,
                                        task == WB_TASK_MULTICLASS ? NULL : t, NULL, p, &l, e);
        if (!rc && nu) rc = wb_model_predict_batch(m, &rest, NULL, NULL, NULL, p + nk * C, NULL, e);
        if (rc) break;
        loss += (double)l * (double)nk;
        nloss += nk;
        /* ord is a stable partition of the batch: position of each example */
        size_t a = 0, b = nk;
        for (size_t j = 0; j < B; j++) {
            uint32_t i = idx[s + j];
            size_t at = a < nk && ord[a] == i ? a++ : b++;
            const float *pr = p + at * C;
            if (probs) memcpy(probs + (s + j) * C, pr, C * sizeof *pr);
            size_t la = loff[i], lb = loff[i + 1];
            if (task == WB_TASK_MULTICLASS) {
                uint32_t yi = la < lb ? lids[la] : 0;
                wb_topk(pr, C, k, top);
                correct += top[0] == yi;
                for (size_t q = 0; q < k; q++) hits += top[q] == yi;
                ntrue += 1;
                continue;
            }
            size_t unknown = 0; /* true labels no output stands for: never predicted */
            for (size_t q = la; q < lb; q++) unknown += lids[q] >= L;
            int all = unknown == 0;
            if (task == WB_TASK_BINARY) {
                int pred = pr[0] >= threshold, truth = la < lb && lids[la] == 1;
                all &= pred == truth;
                tp += pred && truth, fp += pred && !truth, fn += !pred && truth;
                correct += all;
                /* the top-1 of the two labels (1 - p, p), ties to label 0;
                 * every example has one true label, so R@1 = P@1 (issue 10:
                 * R@1 was hits / positives, 1.49 on the quick-start) */
                float two[2] = {1.0f - pr[0], pr[0]};
                wb_topk(two, 2, 1, top);
                hits += unknown == 0 && (top[0] == 1) == truth;
                ntrue += 1;
                continue;
            }
            for (size_t q = la; q < lb; q++) {
                if (lids[q] >= C) continue;
                if (!(pr[lids[q]] >= threshold)) all = 0, fn += 1;
                else tp += 1;
                ntrue += 1;
            }
            for (size_t q = 0; q < C; q++) {
                if (!(pr[q] >= threshold)) continue;
                int truth = 0;
                for (size_t r = la; r < lb; r++) truth |= lids[r] == q;
                if (!truth) all = 0, fp += 1;
            }
            fn += (double)unknown, ntrue += (double)unknown;
            correct += all;
            wb_topk(pr, C, k, top);
            for (size_t q = 0; q < k; q++)
                for (size_t r = la; r < lb; r++) hits += lids[r] == top[q];
        }
    }
    free(xb), free(fb), free(y), free(t), free(p), free(top), free(ord);
    if (rc) return rc;
    out->n = nidx;
    out->n_loss = nloss;
    if (nidx) {
        out->loss = nloss ? loss / (double)nloss : 0;
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

/* ---- ROC-AUC --------------------------------------------------------------- */

typedef struct scored {
    float s;     /* score (NaN ranks lowest) */
    uint8_t pos; /* 1 = positive example */
} scored;

static int cmp_scored(const void *a, const void *b) {
    float x = ((const scored *)a)->s, y = ((const scored *)b)->s;
    int xn = x != x, yn = y != y;
    if (xn || yn) return yn - xn; /* NaN first (lowest), NaNs equal */
    return (x > y) - (x < y);
}

/* AUC of a filled pair array (sorted here); NaN when one class is empty. */
static double auc_pairs(scored *v, size_t n) {
    qsort(v, n, sizeof *v, cmp_scored);
    double rank_pos = 0, P = 0;
    for (size_t i = 0; i < n;) {
        size_t j = i + 1;
        while (j < n && !cmp_scored(&v[i], &v[j])) j++;
        double avg = 0.5 * (double)(i + 1 + j); /* mean of the ranks i+1 .. j */
        for (size_t q = i; q < j; q++)
            if (v[q].pos) rank_pos += avg, P += 1;
        i = j;
    }
    double N = (double)n - P;
    if (P == 0 || N == 0) return NAN;
    return (rank_pos - P * (P + 1) / 2) / (P * N); /* Mann-Whitney U / (P·N) */
}

int wb_roc_auc(const float *score, size_t stride, const uint8_t *truth, size_t n, double *auc, wb_err *e) {
    *auc = NAN;
    if (!n) return 0;
    scored *v = malloc(n * sizeof *v);
    if (!v) return wb_err_set(e, WB_ENOMEM, "out of memory");
    for (size_t i = 0; i < n; i++) v[i].s = score[i * stride], v[i].pos = truth[i] != 0;
    *auc = auc_pairs(v, n);
    free(v);
    return 0;
}

int wb_auc(wb_task task, size_t C, const float *probs, const size_t *loff, const uint32_t *lids,
           const uint32_t *idx, size_t n, double *auc, size_t *nused, wb_err *e) {
    *auc = NAN;
    if (nused) *nused = 0;
    if (!n) return 0;
    scored *v = malloc(n * sizeof *v);
    uint8_t *truth = calloc(n * C, 1); /* (n, C) 0/1 */
    if (!v || !truth) {
        free(v), free(truth);
        return wb_err_set(e, WB_ENOMEM, "out of memory");
    }
    for (size_t j = 0; j < n; j++)
        for (size_t q = loff[idx ? idx[j] : j]; q < loff[(idx ? idx[j] : j) + 1]; q++) {
            uint32_t l = lids[q];
            if (task == WB_TASK_BINARY) truth[j] |= l == 1;
            else if (l < C) truth[j * C + l] = 1;
        }
    double sum = 0;
    size_t used = 0;
    for (size_t c = 0; c < C; c++) {
        for (size_t j = 0; j < n; j++) v[j].s = probs[j * C + c], v[j].pos = truth[j * C + c];
        double a = auc_pairs(v, n);
        if (a == a) sum += a, used++;
    }
    free(v), free(truth);
    if (used) *auc = sum / (double)used;
    if (nused) *nused = used;
    return 0;
}
