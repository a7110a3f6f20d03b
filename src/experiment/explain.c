/*
 * explain.c — explanations of one text or record (explain.h): encode it as
 * the model does, take the explained label's score apart into token spans
 * of each text input and numeric features' shares
 * (wb_model_explain_batch), map sequence positions back to the tokens the
 * model saw, merge repeated spans, rank them; and the sentence splitter.
 *
 * Leaves out: output formats (tools/cli_explain.c, report.c), batching
 * (an explanation is one forward and one backward pass of one example).
 */
#include "wordbench/explain.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "wordbench/eval.h"

/* The contributions wb_model_explain_batch reports: token spans of a
 * text input in sequence positions, or a feature (input -1, start j). */
typedef struct raw_span {
    int input;
    int32_t start, len;
    double score;
} raw_span;

typedef struct collect {
    raw_span *v;
    size_t n, cap;
    int oom;
} collect;

static void on_span(void *ctx, size_t b, int input, int32_t start, int32_t len, float score) {
    (void)b;
    collect *c = ctx;
    if (c->oom) return;
    if (c->n == c->cap) {
        size_t cap = c->cap ? 2 * c->cap : 256;
        raw_span *v = realloc(c->v, cap * sizeof *v);
        if (!v) {
            c->oom = 1;
            return;
        }
        c->v = v, c->cap = cap;
    }
    c->v[c->n++] = (raw_span){input, start, len, score};
}

static int cmp_pos(const void *a, const void *b) {
    const wb_expl_span *x = a, *y = b;
    if (x->tok != y->tok) return x->tok < y->tok ? -1 : 1;
    return (x->ntok > y->ntok) - (x->ntok < y->ntok);
}

static int cmp_score(const void *a, const void *b) {
    const wb_expl_span *x = a, *y = b;
    if (x->score != y->score) return x->score > y->score ? -1 : 1;
    return cmp_pos(a, b);
}

void wb_explanation_free(wb_explanation *x) {
    if (!x) return;
    free(x->prob), free(x->feat);
    for (size_t k = 0; k < WB_MAX_INPUTS; k++) {
        wb_expl_text *t = &x->in[k];
        free(t->tok), free(t->tokoff), free(t->tok_score), free(t->spans);
    }
    memset(x, 0, sizeof *x);
}

/* Input k's text t from its tokens tl (ntotal of them before truncation to
 * T) and the spans of col that belong to input k (sequence positions →
 * tokens the model saw, clipped; merged; ranked), scores times sign.
 * 0 or -1 (no memory). */
static int fill_text(const wb_bundle *b, wb_expl_text *t, const wb_token_list *tl, size_t ntotal, size_t T,
                     const collect *col, int k, double sign) {
    /* sequence position p holds token (p - pad) of the seen ones, which
     * start at token `first` of the text */
    size_t seen = ntotal < T ? ntotal : T;
    size_t first = ntotal > T && b->truncating == WB_PAD_PRE ? ntotal - T : 0;
    size_t pad = ntotal < T && b->padding == WB_PAD_PRE ? T - ntotal : 0;
    t->total_tokens = ntotal, t->skipped = first, t->ntok = seen;
    t->chars = b->tok.kind == WB_TOK_CHAR;
    size_t bytes = seen ? tl->off[first + seen] - tl->off[first] : 0;
    t->tok = malloc(bytes ? bytes : 1);
    t->tokoff = malloc((seen + 1) * sizeof *t->tokoff);
    t->tok_score = calloc(seen ? seen : 1, sizeof *t->tok_score);
    t->spans = malloc((col->n ? col->n : 1) * sizeof *t->spans);
    if (!t->tok || !t->tokoff || !t->tok_score || !t->spans) return -1;
    if (bytes) memcpy(t->tok, tl->buf + tl->off[first], bytes);
    for (size_t i = 0; i <= seen; i++) t->tokoff[i] = seen ? tl->off[first + i] - tl->off[first] : 0;
    size_t ns = 0;
    for (size_t i = 0; i < col->n; i++) {
        if (col->v[i].input != k) continue;
        long lo = (long)col->v[i].start - (long)pad, hi = lo + col->v[i].len;
        if (lo < 0) lo = 0;
        if (hi > (long)seen) hi = (long)seen;
        if (hi <= lo) continue; /* a window over padding only */
        t->spans[ns++] = (wb_expl_span){(size_t)lo, (size_t)(hi - lo), sign * col->v[i].score};
    }
    qsort(t->spans, ns, sizeof *t->spans, cmp_pos);
    size_t m = 0;
    for (size_t i = 0; i < ns; i++) {
        if (m && !cmp_pos(&t->spans[m - 1], &t->spans[i])) t->spans[m - 1].score += t->spans[i].score;
        else t->spans[m++] = t->spans[i];
    }
    t->nspans = m;
    for (size_t i = 0; i < m; i++) {
        const wb_expl_span *s = &t->spans[i];
        t->sum += s->score;
        for (size_t q = 0; q < s->ntok; q++) t->tok_score[s->tok + q] += s->score / (double)s->ntok;
    }
    qsort(t->spans, m, sizeof *t->spans, cmp_score);
    return 0;
}

/* Run the explanation of the one example of bt into col, and set x's
 * probabilities and label; *sign gets -1 for binary label 0 (explained as
 * minus label 1's). */
static int run_model(wb_bundle *b, const wb_batch *bt, int32_t label, float threshold, collect *col, double *sign,
                     wb_explanation *x, wb_err *e) {
    const wb_model_cfg *mc = wb_model_cfg_get(b->model);
    size_t C = mc->C;
    int bin = mc->task == WB_TASK_BINARY;
    x->C = C;
    if (!(x->prob = malloc(C * sizeof *x->prob))) return wb_err_set(e, WB_ENOMEM, "out of memory");
    /* binary: explain z (label 1) and flip the signs for label 0 */
    int32_t cls = bin ? 1 : label;
    int rc = wb_model_explain_batch(b->model, bt, &cls, x->prob, on_span, col, e);
    if (rc) return rc;
    if (col->oom) return wb_err_set(e, WB_ENOMEM, "out of memory");
    *sign = 1;
    if (bin) {
        float p = x->prob[0];
        if (label < 0) label = p >= threshold;
        *sign = label ? 1 : -1;
        x->label_prob = label ? p : 1.0 - p;
        x->predicted = (p >= threshold) == (label == 1);
    } else {
        uint32_t top;
        wb_topk(x->prob, C, 1, &top);
        if (label < 0) label = (int32_t)top;
        x->label_prob = x->prob[label];
        x->predicted = mc->task == WB_TASK_MULTICLASS ? top == (uint32_t)label : x->prob[label] >= threshold;
    }
    x->label = (uint32_t)label;
    return 0;
}

static int check_label(const wb_bundle *b, int32_t label, wb_err *e) {
    const wb_model_cfg *mc = wb_model_cfg_get(b->model);
    int bin = mc->task == WB_TASK_BINARY;
    if (label >= (int32_t)(bin ? 2 : mc->C))
        return wb_err_set(e, WB_EUSAGE, "label id %d out of range (the model has %zu labels)", label,
                          bin ? (size_t)2 : mc->C);
    return 0;
}

int wb_explain_text(wb_bundle *b, const char *text, size_t len, int32_t label, float threshold, wb_explanation *x,
                    wb_err *e) {
    memset(x, 0, sizeof *x);
    int rc = check_label(b, label, e);
    if (rc) return rc;
    if (wb_bundle_reads_records(b))
        return wb_err_set(e, WB_EUSAGE, "this model reads %zu text column(s) and %zu numeric feature(s): explain a "
                                        "record (wb_explain_record), not one text",
                          b->reader.n_text_cols, b->reader.n_feature_cols);
    size_t T = b->maxlen;
    int32_t *X = malloc(T * sizeof *X);
    collect col = {0};
    double sign;
    if (!X) goto nomem;
    size_t ntotal = 0;
    if ((rc = wb_bundle_encode(b, text, len, X, &ntotal, e))) goto fail;
    wb_batch bt = {.B = 1, .X = {X}};
    if ((rc = run_model(b, &bt, label, threshold, &col, &sign, x, e))) goto fail;
    x->ninputs = 1;
    if (fill_text(b, &x->in[0], &b->tl, ntotal, T, &col, 0, sign)) goto nomem;
    x->sum = x->in[0].sum;
    free(X), free(col.v);
    return 0;
nomem:
    rc = wb_err_set(e, WB_ENOMEM, "out of memory");
fail:
    free(X), free(col.v);
    wb_explanation_free(x);
    return rc;
}

int wb_explain_record(wb_bundle *b, const wb_example *ex, const char *path, int32_t label, float threshold,
                      wb_explanation *x, wb_err *e) {
    memset(x, 0, sizeof *x);
    int rc = check_label(b, label, e);
    if (rc) return rc;
    const wb_model_cfg *mc = wb_model_cfg_get(b->model);
    size_t ni = b->ninputs, nf = mc->nfeat, ids = 0;
    for (size_t k = 0; k < ni; k++) ids += wb_model_cfg_T(mc, k);
    int32_t *X = malloc(ids * sizeof *X), *out[WB_MAX_INPUTS] = {0};
    double *F = malloc((nf ? nf : 1) * sizeof *F);
    collect col = {0};
    double sign;
    if (!X || !F) goto nomem;
    wb_batch bt = {.B = 1, .feat = nf ? F : NULL};
    for (size_t k = 0, off = 0; k < ni; off += wb_model_cfg_T(mc, k), k++) bt.X[k] = out[k] = X + off;
    if ((rc = wb_bundle_encode_example(b, ex, path, out, F, e))) goto fail;
    if ((rc = run_model(b, &bt, label, threshold, &col, &sign, x, e))) goto fail;
    x->ninputs = ni;
    for (size_t k = 0; k < ni; k++) {
        const wb_token_list *tl;
        if ((rc = wb_bundle_tokens(b, ex, path, k, &tl, e))) goto fail;
        if (fill_text(b, &x->in[k], tl, tl->n, wb_model_cfg_T(mc, k), &col, (int)k, sign)) goto nomem;
        x->in[k].name = b->text_mode != WB_TEXT_JOIN && k < b->reader.n_text_cols ? b->text_cols[k] : NULL;
        x->sum += x->in[k].sum;
    }
    if (nf) {
        if (!(x->feat = calloc(nf, sizeof *x->feat))) goto nomem;
        x->nfeat = nf;
        for (size_t j = 0; j < nf; j++) x->feat[j] = (wb_expl_feat){b->feature_cols[j], F[j], 0};
        for (size_t i = 0; i < col.n; i++)
            if (col.v[i].input < 0) x->feat[col.v[i].start].score += sign * col.v[i].score;
        for (size_t j = 0; j < nf; j++) x->sum += x->feat[j].score;
    }
    free(X), free(F), free(col.v);
    return 0;
nomem:
    rc = wb_err_set(e, WB_ENOMEM, "out of memory");
fail:
    free(X), free(F), free(col.v);
    wb_explanation_free(x);
    return rc;
}

void wb_expl_feat_rank(const wb_explanation *x, size_t *ord) {
    for (size_t j = 0; j < x->nfeat; j++) ord[j] = j;
    for (size_t i = 1; i < x->nfeat; i++) /* insertion: stable, and a record has few features */
        for (size_t j = i; j > 0 && fabs(x->feat[ord[j]].score) > fabs(x->feat[ord[j - 1]].score); j--) {
            size_t t = ord[j];
            ord[j] = ord[j - 1], ord[j - 1] = t;
        }
}

/* ---- sentences ------------------------------------------------------------- */

static int is_space(unsigned char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }

/* Bytes of a closing quote or bracket at t[k..len), or 0. */
static size_t closer(const char *t, size_t k, size_t len) {
    unsigned char c = (unsigned char)t[k];
    if (c == '"' || c == '\'' || c == ')' || c == ']' || c == '}') return 1;
    /* ’ U+2019 and ” U+201D */
    if (c == 0xE2 && k + 2 < len && (unsigned char)t[k + 1] == 0x80 &&
        ((unsigned char)t[k + 2] == 0x99 || (unsigned char)t[k + 2] == 0x9D))
        return 3;
    return 0;
}

/* The end of the sentence starting at i. */
static size_t sentence_end(const char *t, size_t i, size_t len) {
    for (size_t j = i; j < len; j++) {
        char c = t[j];
        if (c == '.' || c == '!' || c == '?') {
            size_t k = j;
            while (k < len && (t[k] == '.' || t[k] == '!' || t[k] == '?')) k++;
            for (size_t q; k < len && (q = closer(t, k, len));) k += q;
            if (k == len || is_space((unsigned char)t[k])) return k;
            j = k - 1;
        } else if (c == '\n') {
            size_t k = j + 1;
            while (k < len && (t[k] == ' ' || t[k] == '\t' || t[k] == '\r')) k++;
            if (k < len && t[k] == '\n') return j; /* a blank line */
        }
    }
    return len;
}

size_t wb_sentences(const char *text, size_t len, wb_range *out, size_t cap) {
    size_t n = 0, i = 0;
    while (i < len) {
        while (i < len && is_space((unsigned char)text[i])) i++;
        if (i == len) break;
        size_t end = sentence_end(text, i, len), e = end;
        while (e > i && is_space((unsigned char)text[e - 1])) e--;
        if (e > i) {
            if (out && n < cap) out[n] = (wb_range){i, e};
            n++;
        }
        i = end > i ? end : i + 1;
    }
    return n;
}
