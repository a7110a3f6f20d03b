/*
 * metrics.c — the figures of metrics.h from probabilities and label sets:
 * per-class counts, micro / macro / weighted averages, fastText's P@k and
 * R@k, subset accuracy, Hamming loss, log loss, average precision, the
 * sparse confusion matrix, ROC-AUC (through eval.c's wb_auc), and the
 * F1-maximising threshold.
 *
 * Leaves out: curves (the report draws them).
 */
#include "wordbench/metrics.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "wordbench/eval.h"

/* The labels of example j. */
static const uint32_t *labels_of(const size_t *loff, const uint32_t *lids, const uint32_t *idx, size_t j, size_t *nl) {
    size_t i = idx ? idx[j] : j;
    *nl = loff[i + 1] - loff[i];
    return lids + loff[i];
}

static double ratio(double a, double b) { return b > 0 ? a / b : 0; }

static int cmp_u64(const void *a, const void *b) {
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

/* A score and its 0/1 truth, for the sorts of average precision and the
 * threshold sweep. */
typedef struct scored {
    float s;
    uint8_t pos;
} scored;

/* Descending score; NaN last (the lowest). */
static int cmp_desc(const void *a, const void *b) {
    float x = ((const scored *)a)->s, y = ((const scored *)b)->s;
    int xn = x != x, yn = y != y;
    if (xn || yn) return xn - yn;
    return (x < y) - (x > y);
}

static int same_score(float x, float y) { return x == y || (x != x && y != y); }

/* Average precision of v[0..n) (sorted here); NaN without positives. */
static double ap_sorted(scored *v, size_t n) {
    qsort(v, n, sizeof *v, cmp_desc);
    double P = 0;
    for (size_t i = 0; i < n; i++) P += v[i].pos;
    if (P == 0) return NAN;
    double tp = 0, fp = 0, ap = 0, prev_r = 0;
    for (size_t i = 0; i < n;) {
        size_t j = i;
        while (j < n && same_score(v[j].s, v[i].s)) tp += v[j].pos, fp += !v[j].pos, j++;
        double r = tp / P;
        ap += (r - prev_r) * (tp / (tp + fp));
        prev_r = r;
        i = j;
    }
    return ap;
}

int wb_average_precision(const float *score, size_t stride, const uint8_t *truth, size_t n, double *ap, wb_err *e) {
    *ap = NAN;
    if (!n) return 0;
    scored *v = malloc(n * sizeof *v);
    if (!v) return wb_err_set(e, WB_ENOMEM, "out of memory");
    for (size_t i = 0; i < n; i++) v[i].s = score[i * stride], v[i].pos = truth[i] != 0;
    *ap = ap_sorted(v, n);
    free(v);
    return 0;
}

void wb_scores_free(wb_scores *s) {
    if (!s) return;
    free(s->cls), free(s->cells);
    s->cls = NULL, s->cells = NULL, s->ncells = 0;
}

uint64_t wb_scores_confusion(const wb_scores *s, uint32_t truth, uint32_t pred) {
    size_t lo = 0, hi = s->ncells;
    uint64_t key = (uint64_t)truth << 32 | pred;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        uint64_t k = (uint64_t)s->cells[mid].truth << 32 | s->cells[mid].pred;
        if (k == key) return s->cells[mid].count;
        if (k < key) lo = mid + 1;
        else hi = mid;
    }
    return 0;
}

/* q clipped to [eps, 1 - eps] as sklearn's log_loss (eps = DBL_EPSILON
 * for float64 input); NaN becomes eps. */
static double clip(double q) {
    if (!(q >= DBL_EPSILON)) return DBL_EPSILON;
    return q > 1 - DBL_EPSILON ? 1 - DBL_EPSILON : q;
}

/* -ln of the true label's share as sklearn's log_loss computes it: every
 * probability clipped, then the row renormalised. */
static double nll(const float *p, size_t C, size_t t) {
    double sum = 0;
    for (size_t c = 0; c < C; c++) sum += clip(p[c]);
    return -log(clip(p[t]) / sum);
}

/* The same for one sigmoid p and its 0/1 truth (the row (1 - p, p)). */
static double nll_sigmoid(float p, int truth) {
    double a = clip(1.0 - (double)p), b = clip(p);
    return -log((truth ? b : a) / (a + b));
}

/* Average precision of every label with a positive example, one vs rest:
 * the mean into *ap.  pos_off/pos (CSR by label) list each label's positive
 * examples. */
static int macro_ap(const float *probs, size_t C, size_t n, size_t L, const size_t *pos_off, const uint32_t *pos,
                    double *ap) {
    scored *v = malloc((n ? n : 1) * sizeof *v);
    if (!v) return -1;
    double sum = 0;
    size_t used = 0;
    for (size_t c = 0; c < L; c++) {
        if (pos_off[c] == pos_off[c + 1]) continue;
        for (size_t j = 0; j < n; j++) v[j].s = probs[j * C + c], v[j].pos = 0;
        for (size_t q = pos_off[c]; q < pos_off[c + 1]; q++) v[pos[q]].pos = 1;
        sum += ap_sorted(v, n);
        used++;
    }
    free(v);
    *ap = used ? sum / (double)used : NAN;
    return 0;
}

int wb_scores_compute(wb_scores *s, wb_task task, size_t C, const float *probs, const size_t *loff,
                      const uint32_t *lids, const uint32_t *idx, size_t n, size_t k, float threshold, wb_err *e) {
    memset(s, 0, sizeof *s);
    if (task != WB_TASK_BINARY && task != WB_TASK_MULTICLASS && task != WB_TASK_MULTILABEL)
        return wb_err_set(e, WB_EUSAGE, "unknown task %d", (int)task);
    if (C < 1 || (task == WB_TASK_BINARY && C != 1))
        return wb_err_set(e, WB_EUSAGE, "%zu outputs for a %s task", C, wb_task_name(task));
    int ml = task == WB_TASK_MULTILABEL, bin = task == WB_TASK_BINARY;
    size_t L = bin ? 2 : C;
    if (k < 1) k = 1;
    if (k > L) k = L;
    if (bin) k = 1;
    s->task = task, s->n = n, s->L = L, s->k = k, s->threshold = threshold, s->auc = NAN;

    /* pre-pass: the largest label id (unknown labels), cells needed */
    uint32_t maxid = 0;
    size_t npairs = 0;
    for (size_t j = 0; j < n; j++) {
        size_t nl;
        const uint32_t *lab = labels_of(loff, lids, idx, j, &nl);
        for (size_t q = 0; q < nl; q++) maxid = lab[q] > maxid ? lab[q] : maxid;
        npairs += ml ? nl : 1;
    }
    size_t nunk_ids = maxid >= L ? (size_t)maxid - L + 1 : 0;
    wb_class_score *cls = calloc(L, sizeof *cls);
    uint64_t *pairs = malloc((npairs ? npairs : 1) * sizeof *pairs);
    uint32_t *top = malloc(k * sizeof *top);
    uint8_t *mark = ml ? calloc(C, 1) : NULL;                      /* true labels of the current example */
    uint8_t *unk_seen = nunk_ids ? calloc(nunk_ids, 1) : NULL;     /* distinct unknown ids */
    size_t *pos_off = calloc(L + 1, sizeof *pos_off);              /* positives by label (average precision) */
    uint32_t *pos = malloc((npairs ? npairs : 1) * sizeof *pos);
    if (!cls || !pairs || !top || (ml && !mark) || (nunk_ids && !unk_seen) || !pos_off || !pos) goto nomem;

    double correct = 0, hits = 0, wrong = 0, ll = 0;
    size_t nll_terms = 0, np = 0;
    for (size_t j = 0; j < n; j++) {
        size_t nl;
        const uint32_t *lab = labels_of(loff, lids, idx, j, &nl);
        const float *p = probs + j * C;
        if (!ml) {
            uint32_t t = nl ? lab[0] : 0, pred;
            float two[2];
            if (bin) {
                two[0] = 1.0f - p[0], two[1] = p[0];
                pred = p[0] >= threshold;
                wb_topk(two, 2, 1, top);
            } else {
                wb_topk(p, C, k, top);
                pred = top[0];
            }
            s->true_labels++;
            if (t < L) {
                cls[t].support++;
                if (pred == t) cls[t].tp++, correct++;
                else cls[t].fn++, cls[pred].fp++;
                pairs[np++] = (uint64_t)t << 32 | pred;
                pos_off[t + 1]++;
                ll += bin ? nll_sigmoid(p[0], t == 1) : nll(p, C, t);
                nll_terms++;
            } else {
                s->unknown++, cls[pred].fp++;
                unk_seen[t - L] = 1;
            }
            for (size_t q = 0; q < k; q++) hits += top[q] == t;
            continue;
        }
        size_t u = 0, nt = 0;
        for (size_t q = 0; q < nl; q++) {
            if (lab[q] >= C) u++, unk_seen[lab[q] - C] = 1;
            else if (!mark[lab[q]]) mark[lab[q]] = 1, nt++;
        }
        int all = u == 0;
        for (size_t c = 0; c < C; c++) {
            int pr = p[c] >= threshold, tr = mark[c];
            if (pr && tr) cls[c].tp++;
            else if (pr) cls[c].fp++, all = 0, wrong++;
            else if (tr) cls[c].fn++, all = 0, wrong++;
            ll += nll_sigmoid(p[c], tr);
        }
        nll_terms += C;
        wrong += (double)u;
        correct += all;
        s->true_labels += nt + u, s->unknown += u;
        wb_topk(p, C, k, top);
        for (size_t q = 0; q < k; q++) hits += mark[top[q]];
        for (size_t q = 0; q < nl; q++) {
            uint32_t c = lab[q];
            if (c >= C || mark[c] != 1) continue;
            mark[c] = 2; /* once per example */
            cls[c].support++;
            pairs[np++] = (uint64_t)c << 32 | top[0];
            pos_off[c + 1]++;
        }
        for (size_t q = 0; q < nl; q++)
            if (lab[q] < C) mark[lab[q]] = 0;
    }

    /* per class, averages */
    double stp = 0, sfp = 0, sfn = 0, wsum = 0;
    for (size_t c = 0; c < L; c++) {
        wb_class_score *q = &cls[c];
        q->precision = ratio((double)q->tp, (double)(q->tp + q->fp));
        q->recall = ratio((double)q->tp, (double)(q->tp + q->fn));
        q->f1 = ratio(2.0 * (double)q->tp, (double)(2 * q->tp + q->fp + q->fn));
        stp += (double)q->tp, sfp += (double)q->fp, sfn += (double)q->fn;
        if (q->support || q->tp + q->fp) {
            s->present++;
            s->macro_precision += q->precision, s->macro_recall += q->recall, s->macro_f1 += q->f1;
        }
        double w = (double)q->support;
        s->weighted_precision += w * q->precision, s->weighted_recall += w * q->recall, s->weighted_f1 += w * q->f1;
        wsum += w;
    }
    sfn += (double)s->unknown;
    if (s->present) {
        double d = (double)s->present;
        s->macro_precision /= d, s->macro_recall /= d, s->macro_f1 /= d;
    }
    if (wsum > 0) s->weighted_precision /= wsum, s->weighted_recall /= wsum, s->weighted_f1 /= wsum;
    s->micro_precision = ratio(stp, stp + sfp);
    s->micro_recall = ratio(stp, stp + sfn);
    s->micro_f1 = ratio(2 * stp, 2 * stp + sfp + sfn);
    if (bin) {
        s->precision = cls[1].precision, s->recall = cls[1].recall, s->f1 = cls[1].f1;
    } else {
        s->precision = s->micro_precision, s->recall = s->micro_recall, s->f1 = s->micro_f1;
    }
    size_t nunk = 0;
    for (size_t i = 0; i < nunk_ids; i++) nunk += unk_seen[i];
    if (n) {
        s->accuracy = correct / (double)n;
        s->p_at_k = hits / ((double)k * (double)n);
        s->r_at_k = ratio(hits, (double)s->true_labels);
        s->hamming = ml ? wrong / ((double)n * (double)(C + nunk)) : 1 - s->accuracy;
    }
    s->log_loss = nll_terms ? ll / (double)nll_terms : NAN;

    /* the confusion cells: sort the pairs and count runs */
    qsort(pairs, np, sizeof *pairs, cmp_u64);
    size_t nc = 0;
    for (size_t i = 0; i < np; i++) nc += !i || pairs[i] != pairs[i - 1];
    s->cells = malloc((nc ? nc : 1) * sizeof *s->cells);
    if (!s->cells) goto nomem;
    for (size_t i = 0; i < np; i++) {
        if (!i || pairs[i] != pairs[i - 1]) {
            wb_confusion_cell *cc = &s->cells[s->ncells++];
            cc->truth = (uint32_t)(pairs[i] >> 32), cc->pred = (uint32_t)pairs[i], cc->count = 0;
        }
        s->cells[s->ncells - 1].count++;
    }

    /* average precision: binary of label 1; else one vs rest, macro */
    if (bin) {
        scored *v = malloc((n ? n : 1) * sizeof *v);
        if (!v) goto nomem;
        for (size_t j = 0; j < n; j++) {
            size_t nl;
            const uint32_t *lab = labels_of(loff, lids, idx, j, &nl);
            v[j].s = probs[j], v[j].pos = nl && lab[0] == 1;
        }
        s->avg_precision = n ? ap_sorted(v, n) : NAN;
        free(v);
    } else {
        for (size_t c = 0; c < L; c++) pos_off[c + 1] += pos_off[c];
        size_t *fill = calloc(L, sizeof *fill);
        if (!fill) goto nomem;
        for (size_t j = 0; j < n; j++) {
            size_t nl;
            const uint32_t *lab = labels_of(loff, lids, idx, j, &nl);
            uint32_t first = nl ? lab[0] : 0; /* single-label: no label counts as label 0 */
            for (size_t q = 0; q < (ml ? nl : 1); q++) {
                uint32_t c = ml ? lab[q] : first;
                if (c >= L) continue;
                size_t at = pos_off[c] + fill[c];
                if (fill[c] && pos[at - 1] == (uint32_t)j) continue; /* a repeated label */
                pos[at] = (uint32_t)j, fill[c]++;
            }
        }
        free(fill);
        int rc = macro_ap(probs, C, n, L, pos_off, pos, &s->avg_precision);
        if (rc) goto nomem;
    }
    /* ROC-AUC: eval.h's, the one search and eval rank by */
    if (wb_auc(task, C, probs, loff, lids, idx, n, &s->auc, NULL, e)) goto nomem;
    s->cls = cls;
    free(pairs), free(top), free(mark), free(unk_seen), free(pos_off), free(pos);
    return 0;
nomem:
    free(cls), free(pairs), free(top), free(mark), free(unk_seen), free(pos_off), free(pos);
    free(s->cells);
    memset(s, 0, sizeof *s);
    return wb_err_set(e, WB_ENOMEM, "out of memory");
}

int wb_threshold_tune(wb_task task, size_t C, const float *probs, const size_t *loff, const uint32_t *lids,
                      const uint32_t *idx, size_t n, float *th, double *f1, wb_err *e) {
    *th = 0.5f, *f1 = 0;
    if (task == WB_TASK_MULTICLASS) return wb_err_set(e, WB_EUSAGE, "a multiclass model has no threshold (it predicts its best label)");
    if (task == WB_TASK_BINARY && C != 1) return wb_err_set(e, WB_EUSAGE, "%zu outputs for a binary task", C);
    int ml = task == WB_TASK_MULTILABEL;
    size_t m = ml ? n * C : n;
    if (!m) return 0;
    scored *v = calloc(m, sizeof *v);
    if (!v) return wb_err_set(e, WB_ENOMEM, "out of memory");
    double P = 0; /* true labels, unknown ones included */
    for (size_t j = 0; j < n; j++) {
        size_t nl;
        const uint32_t *lab = labels_of(loff, lids, idx, j, &nl);
        if (!ml) {
            v[j].s = probs[j], v[j].pos = nl && lab[0] == 1;
            P += v[j].pos;
            continue;
        }
        for (size_t c = 0; c < C; c++) v[j * C + c].s = probs[j * C + c];
        for (size_t q = 0; q < nl; q++) {
            if (lab[q] >= C) P += 1;
            else if (!v[j * C + lab[q]].pos) v[j * C + lab[q]].pos = 1, P += 1;
        }
    }
    qsort(v, m, sizeof *v, cmp_desc);
    double tp = 0, fp = 0, best = 0;
    size_t best_end = 0; /* the best cut takes v[0 .. best_end) */
    for (size_t i = 0; i < m;) {
        size_t j = i;
        while (j < m && same_score(v[j].s, v[i].s)) tp += v[j].pos, fp += !v[j].pos, j++;
        if (v[i].s != v[i].s) break; /* NaN: never >= a threshold */
        double f = ratio(2 * tp, tp + fp + P);
        if (f > best) best = f, best_end = j;
        i = j;
    }
    if (best_end) {
        float hi = v[best_end - 1].s;
        float lo = best_end < m && v[best_end].s == v[best_end].s ? v[best_end].s : 0.0f;
        float mid = (float)(((double)hi + (double)lo) / 2);
        *th = mid > lo && mid <= hi ? mid : hi;
        *f1 = best;
    }
    free(v);
    return 0;
}
