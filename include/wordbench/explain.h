/*
 * wordbench/explain.h — which parts of a text decided a model's
 * prediction: the token spans (n-grams of a convolution's winning windows,
 * tokens of a pooling or recurrent model, n-grams of a bag of words) with
 * their contributions to the explained label's score (model.h,
 * wb_model_explain, says how each kind of part shares it out), on the
 * tokens the model saw; and a sentence splitter for explaining a long
 * document sentence by sentence.
 *
 * A record of a model of several inputs gets one list of spans per text
 * input and a contribution per numeric feature.  Tokens are shown as the
 * tokenizer gives them (lower-cased, punctuation removed for the keras
 * tokenizer; characters for a character model).
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

/* The tokens one text input of the model saw, and their spans.  Tokens
 * are shown as the tokenizer gives them, after the truncation to the
 * input's maxlen: `skipped` tokens were cut from the front (truncating
 * pre), total_tokens - skipped - ntok from the end. */
typedef struct wb_expl_text {
    const char *name;           /* the text column (borrowed from the bundle), or NULL (a text given alone) */
    size_t total_tokens;        /* tokens of the text */
    size_t skipped;             /* tokens cut before the first one the model saw */
    size_t ntok;                /* tokens the model saw */
    char *tok;                  /* their bytes, back to back (not NUL-terminated) */
    size_t *tokoff;             /* (ntok + 1) token i is tok[tokoff[i] .. tokoff[i+1]) */
    double *tok_score;          /* (ntok) every span's score spread evenly over its tokens */
    wb_expl_span *spans;        /* (nspans) distinct spans, highest score first (ties: earlier first) */
    size_t nspans;
    double sum;                 /* Σ of its spans' scores */
    int chars;                  /* 1: tokens are characters (show them joined without spaces) */
} wb_expl_text;

/* One numeric feature's contribution (model.h, wb_model_explain_batch:
 * gradient × input on the standardised value). */
typedef struct wb_expl_feat {
    const char *name;           /* the feature column (borrowed from the bundle) */
    double value;               /* the record's value, as read */
    double score;               /* contribution to the explained label's score */
} wb_expl_feat;

/* The explanation of one text or record.  Arrays owned: wb_explanation_free. */
typedef struct wb_explanation {
    size_t C;                   /* outputs of the model */
    float *prob;                /* (C) probabilities */
    uint32_t label;             /* the label explained (binary: 0 or 1) */
    double label_prob;          /* its probability (binary label 0: 1 - p) */
    int predicted;              /* 1: the label is predicted (binary / multilabel: p >= threshold; multiclass: top-1) */
    size_t ninputs;             /* text inputs explained */
    wb_expl_text in[WB_MAX_INPUTS]; /* (ninputs) each input's tokens and spans */
    wb_expl_feat *feat;         /* (nfeat) the numeric features in column order, or NULL */
    size_t nfeat;
    double sum;                 /* Σ every input's and feature's scores: the label's score minus what
                                   nothing explains (biases...) */
} wb_explanation;

/* Explain one text with the bundle's preprocessing (wb_bundle_encode), for
 * a model of one text input and no numeric features (x->in[0]).
 * label: the label to explain, or -1 for the prediction (binary: label 1
 * when p >= threshold, else 0; multiclass and multilabel: the best label).
 * threshold also decides x->predicted.  On error x holds nothing.  Returns
 * 0, WB_EUSAGE (label out of range, or a model that reads records:
 * wb_explain_record), the tokenizer's and the model's errors, WB_ENOMEM. */
int wb_explain_text(wb_bundle *b, const char *text, size_t len, int32_t label, float threshold, wb_explanation *x,
                    wb_err *e);

/* Explain one record (a CSV record read with the bundle's reader options:
 * its text columns and numeric features) for any model: x->in[k] is text
 * input k (named by its column), x->feat the features.  label and
 * threshold as wb_explain_text.  Errors as wb_explain_text, and
 * WB_EFORMAT naming path:line for a record without the fields the model
 * reads (wb_bundle_encode_example). */
int wb_explain_record(wb_bundle *b, const wb_example *ex, const char *path, int32_t label, float threshold,
                      wb_explanation *x, wb_err *e);

/* The order to show x's numeric features in: ord[0..nfeat) gets their
 * indices, the largest |score| first (ties: column order). */
void wb_expl_feat_rank(const wb_explanation *x, size_t *ord);

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
