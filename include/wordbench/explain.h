/*
 * wordbench/explain.h — which parts of a text decided a model's
 * prediction: the token spans (n-grams of a convolution's winning windows,
 * tokens of a pooling or recurrent model, n-grams of a bag of words) with
 * their contributions to the explained label's score (model.h,
 * wb_model_explain, says how each kind of part shares it out), on the
 * tokens the model saw; and a sentence splitter for explaining a long
 * document sentence by sentence.
 *
 * Tokens are shown as the tokenizer gives them (lower-cased, punctuation
 * removed for the keras tokenizer; characters for a character model), after
 * the truncation to maxlen: `skipped` tokens were cut from the front
 * (truncating pre), or total_tokens - skipped - ntok from the end.
 *
 * Deliberately not here: printing (the CLI and report.h draw it), labels
 * read from files, integrated gradients or occlusion.
 */
#ifndef WORDBENCH_EXPLAIN_H
#define WORDBENCH_EXPLAIN_H

#include <stddef.h>
#include <stdint.h>

#include "wordbench/bundle.h"
#include "wordbench/err.h"

#ifdef __cplusplus
extern "C" {
#endif

/* One span of the tokens the model saw and its contribution. */
typedef struct wb_expl_span {
    size_t tok;                 /* first token (index into the explanation's tokens) */
    size_t ntok;                /* tokens */
    double score;               /* contribution to the explained label's score */
} wb_expl_span;

/* The explanation of one text.  Arrays owned: wb_explanation_free. */
typedef struct wb_explanation {
    size_t C;                   /* outputs of the model */
    float *prob;                /* (C) probabilities */
    uint32_t label;             /* the label explained (binary: 0 or 1) */
    double label_prob;          /* its probability (binary label 0: 1 - p) */
    int predicted;              /* 1: the label is predicted (binary / multilabel: p >= threshold; multiclass: top-1) */
    size_t total_tokens;        /* tokens of the text */
    size_t skipped;             /* tokens cut before the first one the model saw */
    size_t ntok;                /* tokens the model saw */
    char *tok;                  /* their bytes, back to back (not NUL-terminated) */
    size_t *tokoff;             /* (ntok + 1) token i is tok[tokoff[i] .. tokoff[i+1]) */
    double *tok_score;          /* (ntok) every span's score spread evenly over its tokens */
    wb_expl_span *spans;        /* (nspans) distinct spans, highest score first (ties: earlier first) */
    size_t nspans;
    double sum;                 /* Σ scores: the label's score minus what no span explains (bias...) */
    int chars;                  /* 1: tokens are characters (show them joined without spaces) */
} wb_explanation;

/* Explain one text with the bundle's preprocessing (wb_bundle_encode).
 * label: the label to explain, or -1 for the prediction (binary: label 1
 * when p >= threshold, else 0; multiclass and multilabel: the best label).
 * threshold also decides x->predicted.  On error x holds nothing.  Returns
 * 0, WB_EUSAGE (label out of range), the tokenizer's and the model's
 * errors, WB_ENOMEM. */
int wb_explain_text(wb_bundle *b, const char *text, size_t len, int32_t label, float threshold, wb_explanation *x,
                    wb_err *e);

/* Release the arrays (x stays valid, empty); a zeroed x is fine. */
void wb_explanation_free(wb_explanation *x);

/* A byte range of a text. */
typedef struct wb_range {
    size_t start, end;          /* [start, end) */
} wb_range;

/* Split text into sentences: a sentence ends after a run of '.', '!' or
 * '?' (with closing quotes and brackets) followed by white space, or at a
 * blank line; leading and trailing white space is left out, empty
 * sentences are dropped.  Writes up to cap ranges into out (may be NULL to
 * count) and returns the number of sentences. */
size_t wb_sentences(const char *text, size_t len, wb_range *out, size_t cap);

#ifdef __cplusplus
}
#endif
#endif /* WORDBENCH_EXPLAIN_H */
