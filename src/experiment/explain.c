/*
 * explain.c — explanations of one text (explain.h): encode it as the model
 * does, take the explained label's score apart into token spans
 * (wb_model_explain), map sequence positions back to the tokens the model
 * saw, merge repeated spans, rank them; and the sentence splitter.
 *
 * Leaves out: output formats (tools/cli_explain.c, report.c), batching
 * (an explanation is one forward and one backward pass of one text).
 */
#include "wordbench/explain.h"

#include <stdlib.h>
#include <string.h>

#include "wordbench/eval.h"

/* The spans wb_model_explain reports, in sequence positions. */
typedef struct raw_span {
    int32_t start, len;
    double score;
} raw_span;

typedef struct collect {
    raw_span *v;
    size_t n, cap;
    int oom;
} collect;

static void on_span(void *ctx, size_t b, int32_t start, int32_t len, float score) {
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
    c->v[c->n++] = (raw_span){start, len, score};
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
    free(x->prob), free(x->tok), free(x->tokoff), free(x->tok_score), free(x->spans);
    memset(x, 0, sizeof *x);
}

int wb_explain_text(wb_bundle *b, const char *text, size_t len, int32_t label, float threshold, wb_explanation *x,
                    wb_err *e) {
    memset(x, 0, sizeof *x);
    const wb_model_cfg *mc = wb_model_cfg_get(b->model);
    size_t T = b->maxlen, C = mc->C;
    int bin = mc->task == WB_TASK_BINARY;
    if (label >= (int32_t)(bin ? 2 : C))
        return wb_err_set(e, WB_EUSAGE, "label id %d out of range (the model has %zu labels)", label, bin ? (size_t)2 : C);
    int32_t *X = malloc(T * sizeof *X);
    collect col = {0};
    int rc;
    x->prob = malloc(C * sizeof *x->prob);
    if (!X || !x->prob) goto nomem;
    size_t ntotal = 0;
    if ((rc = wb_bundle_encode(b, text, len, X, &ntotal, e))) goto fail;

    /* sequence position p holds token (p - pad) of the seen ones, which
     * start at token `first` of the text */
    const wb_token_list *tl = &b->tl;
    size_t seen = ntotal < T ? ntotal : T;
    size_t first = ntotal > T && b->truncating == WB_PAD_PRE ? ntotal - T : 0;
    size_t pad = ntotal < T && b->padding == WB_PAD_PRE ? T - ntotal : 0;
    x->C = C, x->total_tokens = ntotal, x->skipped = first, x->ntok = seen;
    x->chars = b->tok.kind == WB_TOK_CHAR;
    size_t bytes = seen ? tl->off[first + seen] - tl->off[first] : 0;
    x->tok = malloc(bytes ? bytes : 1);
    x->tokoff = malloc((seen + 1) * sizeof *x->tokoff);
    x->tok_score = calloc(seen ? seen : 1, sizeof *x->tok_score);
    if (!x->tok || !x->tokoff || !x->tok_score) goto nomem;
    memcpy(x->tok, tl->buf + (seen ? tl->off[first] : 0), bytes);
    for (size_t i = 0; i <= seen; i++) x->tokoff[i] = seen ? tl->off[first + i] - tl->off[first] : 0;

    /* binary: explain z (label 1) and flip the signs for label 0 */
    int32_t cls = bin ? 1 : label;
    if ((rc = wb_model_explain(b->model, X, 1, &cls, x->prob, on_span, &col, e))) goto fail;
    if (col.oom) goto nomem;
    double sign = 1;
    if (bin) {
        float p = x->prob[0];
        if (label < 0) label = p >= threshold;
        sign = label ? 1 : -1;
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

    /* positions → tokens (clipped to the seen ones), merged, ranked */
    x->spans = malloc((col.n ? col.n : 1) * sizeof *x->spans);
    if (!x->spans) goto nomem;
    size_t ns = 0;
    for (size_t i = 0; i < col.n; i++) {
        long lo = (long)col.v[i].start - (long)pad, hi = lo + col.v[i].len;
        if (lo < 0) lo = 0;
        if (hi > (long)seen) hi = (long)seen;
        if (hi <= lo) continue; /* a window over padding only */
        x->spans[ns++] = (wb_expl_span){(size_t)lo, (size_t)(hi - lo), sign * col.v[i].score};
    }
    qsort(x->spans, ns, sizeof *x->spans, cmp_pos);
    size_t m = 0;
    for (size_t i = 0; i < ns; i++) {
        if (m && !cmp_pos(&x->spans[m - 1], &x->spans[i])) x->spans[m - 1].score += x->spans[i].score;
        else x->spans[m++] = x->spans[i];
    }
    x->nspans = m;
    for (size_t i = 0; i < m; i++) {
        const wb_expl_span *s = &x->spans[i];
        x->sum += s->score;
        for (size_t t = 0; t < s->ntok; t++) x->tok_score[s->tok + t] += s->score / (double)s->ntok;
    }
    qsort(x->spans, m, sizeof *x->spans, cmp_score);
    free(X), free(col.v);
    return 0;
nomem:
    rc = wb_err_set(e, WB_ENOMEM, "out of memory");
fail:
    free(X), free(col.v);
    wb_explanation_free(x);
    return rc;
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
