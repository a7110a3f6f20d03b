/*
 * wordbench/bundle.h — a trained model together with everything needed to
 * use it on raw text: its vocabulary, label names, tokenizer, sequence and
 * reader options, and its embedding source (the store it was trained with,
 * checked by fingerprint, or the vectors embedded in the model file).
 *
 * The model file's META text (model.h) holds the options as "key value"
 * lines; values are escaped (%XX for bytes below 0x21, '%' and 0x7F), so
 * any bytes round-trip:
 *   tokenizer keras|fasttext|unicode|char   lower 0|1   max_doc_chars N
 *   strip_html 0|1   alphabet S (char only)   maxlen N   padding pre|post
 *   truncating pre|post   format auto|tsv|fasttext|csv   label_prefix P
 *   text_col NAME (one line per text column the model reads; the first
 *   only with text_mode first)   text_mode first|join|each (absent: first)
 *   feature_col NAME (one line per numeric feature, in order)
 *   label_col NAME   label_sep S   store PATH (absolute, as trained)
 *   label NAME (one line per label, in id order)
 * A model of several text inputs (text_mode each) holds one vocabulary
 * per input (model.h, VOCB of part k); input k's maxlen is the model's.
 *
 * Deliberately not here: streaming CSV records to predict (they are read
 * whole, as eval does).
 */
#ifndef WORDBENCH_BUNDLE_H
#define WORDBENCH_BUNDLE_H

#include <stddef.h>
#include <stdint.h>

#include "wordbench/dataset.h"
#include "wordbench/eval.h"
#include "wordbench/model.h"
#include "wordbench/reader.h"
#include "wordbench/store.h"
#include "wordbench/tokenize.h"
#include "wordbench/train.h"
#include "wordbench/vocab.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The META text of a model trained on `ds` built with options `o`, with the
 * store at store_path (NULL = none).  malloc'd; NULL when out of memory. */
char *wb_bundle_meta(const wb_dataset_opts *o, const wb_dataset *ds, const char *store_path);

/* What the model file of a model trained on ds (built with options o)
 * holds besides the weights, into *f: the META text (wb_bundle_meta with
 * store_path), the vocabulary blob of every text input, the store's
 * fingerprint (0 = none); the other fields zero.  The blobs are owned by
 * *f until wb_bundle_file_free (safe after a failure, and twice).  Returns
 * 0, WB_ENOMEM or WB_EUSAGE (a vocabulary not finished). */
int wb_bundle_file_make(wb_model_file *f, const wb_dataset_opts *o, const wb_dataset *ds, const char *store_path,
                        uint64_t fingerprint, wb_err *e);
void wb_bundle_file_free(wb_model_file *f);

/* A loaded model and its preprocessing.  Fields are read-only for callers. */
#define WB_BUNDLE_MAX_COLS 64 /* text and feature columns a bundle reads */

typedef struct wb_bundle {
    wb_model *model;            /* owned */
    wb_vocab *vocab;            /* owned: input 0's vocabulary (= vocabs[0]) */
    wb_vocab *vocabs[WB_MAX_INPUTS]; /* owned: the vocabulary of each text input */
    size_t ninputs;             /* text inputs of the model */
    wb_text_mode text_mode;     /* how the reader's text fields become inputs */
    char **labels;              /* (nlabels) owned, NUL-terminated */
    size_t *label_len;          /* (nlabels) */
    uint32_t nlabels;
    float threshold;            /* binary / multi-label decision: META "threshold" (train --tune-threshold), else 0.5 */
    int threshold_tuned;        /* 1 when the model file records a tuned threshold */
    double threshold_f1;        /* the F1 it reached on the validation examples (tuned only) */
    wb_epoch *history;          /* (nhist) owned: the training run's epochs (META "history"), or NULL */
    size_t nhist;
    size_t saved_epoch;         /* the epoch whose weights the file holds (0 = not recorded) */
    uint64_t data_key;          /* the data set's key (dataset.h wb_dataset_key; 0 = not recorded) */
    const char *data_path;      /* the training file as given (META "data"), or NULL */
    wb_tokenize_opts tok;       /* alphabet points into `strings` */
    size_t maxlen;
    wb_pad_side padding, truncating;
    wb_reader_opts reader;      /* strings point into `strings` */
    const char *text_col;       /* the reader's first text column (or NULL) */
    const char *text_cols[WB_BUNDLE_MAX_COLS];    /* the reader's text columns */
    const char *feature_cols[WB_BUNDLE_MAX_COLS]; /* the reader's numeric feature columns */
    const char *store_path;     /* as recorded, or NULL */
    uint64_t fingerprint;       /* store fingerprint recorded (0 = none) */
    wb_store *store;            /* opened by wb_bundle_attach_store, owned */
    char *strings;              /* owned: unescaped option values */
    char *path;                 /* owned: the model file's path, for messages */
    wb_token_list tl;           /* scratch for encode */
    wb_token_list tj;           /* scratch: the tokens of joined fields */
} wb_bundle;

/* Load a model file for batches of at most max_batch examples, within
 * max_memory bytes (0 = the default; wb_model_load_ex).  Errors: those of
 * wb_model_load_ex, WB_ECORRUPT for bad META or vocabulary. */
int wb_bundle_load_ex(wb_bundle **out, const char *path, size_t max_batch, uint64_t max_memory, wb_err *e);

/* wb_bundle_load_ex with the default memory limit. */
int wb_bundle_load(wb_bundle **out, const char *path, size_t max_batch, wb_err *e);

/* Make the model runnable: nothing when it needs no store or has embedded
 * vectors; else open `store_dir` (NULL = the recorded path), check that its
 * fingerprint is the recorded one and its dim the model's, resolve the
 * vocabulary.  Errors: the store's open errors (at the recorded path, the
 * message says the path came from the model file and how to give another:
 * the store may have moved), WB_EUSAGE for a different store (the message
 * gives both fingerprints) or no store at all, WB_ECORRUPT for a recorded
 * path without a recorded fingerprint (the path comes from the file, an
 * untrusted input: nothing is opened that cannot be checked). */
int wb_bundle_attach_store(wb_bundle *b, const char *store_dir, wb_err *e);

/* Release everything; NULL is a no-op. */
void wb_bundle_destroy(wb_bundle *b);

/* Tokenize and encode one text into out (maxlen ids).  *n_tokens (may be
 * NULL) gets the token count before truncation.  Returns 0 or the
 * tokenizer's errors. */
int wb_bundle_encode(wb_bundle *b, const char *text, size_t len, int32_t *out, size_t *n_tokens, wb_err *e);

/* Encode the text fields and numeric features of one record the way the
 * model reads them (text_mode; each input's vocabulary and maxlen): out[k]
 * gets input k's T_k ids, feat (NULL without features) the record's
 * numbers.  WB_EFORMAT naming path:line for a record with too few text
 * fields or features; else the tokenizer's errors. */
int wb_bundle_encode_example(wb_bundle *b, const wb_example *ex, const char *path, int32_t *const *out,
                             double *feat, wb_err *e);

/* The tokens of text input k (< b->ninputs) of record ex as the model
 * reads them (text_mode: field k, the first field, or every field's
 * tokens in turn), before truncation: *tl is the bundle's scratch,
 * borrowed until the next call on b.  WB_EFORMAT naming path:line for a
 * record with too few text fields; else the tokenizer's errors. */
int wb_bundle_tokens(wb_bundle *b, const wb_example *ex, const char *path, size_t k, const wb_token_list **tl,
                     wb_err *e);

/* 1 when the model reads records (several text columns or numeric
 * features: predict must read CSV records, not lines of text). */
int wb_bundle_reads_records(const wb_bundle *b);

/* Labelled examples read with the bundle's preprocessing.  Label ids below
 * the bundle's nlabels are the model's; an id nlabels + j is the unknown
 * label unknown[j] (WB_UNKNOWN_KEEP). */
typedef struct wb_labelled {
    size_t n;                   /* examples */
    int32_t *X;                 /* (n, maxlen) ids of text input 0 (= Xk[0]) */
    int32_t *Xk[WB_MAX_INPUTS]; /* (n, T_k) ids of each text input */
    double *feat;               /* (n, nfeat) numeric features, NULL without */
    size_t *loff;               /* (n+1) label CSR offsets */
    uint32_t *lids;             /* label ids */
    long long *line;            /* (n) source line of each example */
    char **text;                /* (n) the text (first field), if keep_text */
    uint64_t skipped_unknown;   /* records dropped: no label the model knows (skip) */
    uint64_t unknown_labels;    /* unknown label occurrences kept (keep) or dropped (skip) */
    uint64_t unknown_records;   /* records holding at least one of them */
    char **unknown;             /* (n_unknown) distinct unknown names, first seen first */
    size_t *unknown_len;        /* (n_unknown) */
    uint32_t n_unknown;
} wb_labelled;

/* What wb_bundle_read does with a label the model does not know. */
typedef enum wb_unknown_mode {
    WB_UNKNOWN_ERROR = 0,       /* WB_EFORMAT naming file:line and the label */
    WB_UNKNOWN_SKIP,            /* as fastText's `test`: the label is dropped, and
                                   a record left without labels is skipped */
    WB_UNKNOWN_KEEP             /* kept as id nlabels + j: a true label no model
                                   output stands for (eval: never predicted) */
} wb_unknown_mode;

/* Read a labelled file with reader options `ro` (NULL = the model's) and
 * the bundle's tokenizer and vocabulary; labels map by name to the model's
 * ids, unknown ones as `unknown` says (counted, names listed).  A binary or
 * multiclass record with several labels is WB_EFORMAT.  With
 * ro->unlabelled (records to predict) a record without labels is kept with
 * an empty label set. */
int wb_bundle_read(wb_bundle *b, const char *path, const wb_reader_opts *ro, wb_unknown_mode unknown, int keep_text,
                   wb_labelled *out, wb_err *e);
void wb_labelled_free(wb_labelled *l);

/* The model's view of labelled examples (wb_eval_inputs). */
void wb_labelled_inputs(const wb_bundle *b, const wb_labelled *l, wb_inputs *in);

/* Id of a label name, or -1. */
int64_t wb_bundle_label(const wb_bundle *b, const char *name, size_t len);

/* After wb_train_run: rewrite the model file to->out_path (atomically, the
 * same sections) with its META extended by what the run learned:
 *   history E,LOSS,ACC[,VAL_LOSS,VAL_ACC]  one line per epoch of the run
 *   saved_epoch N       the epoch whose weights the file holds
 *   data PATH, data_key HEX   the training file and the data set's key
 *                       (wb_dataset_key; left out for stdin)
 *   threshold T, threshold_f1 F   with tune (binary and multi-label): the
 *                       threshold that maximises F1 (metrics.h,
 *                       wb_threshold_tune) of the saved model on the
 *                       validation examples (train.h: the valid split, else
 *                       the test split); eval and predict use it.
 * The values hold no space (commas), so the file reads as before.  m is
 * the trained model (the reloaded one borrows its store); *th (may be
 * NULL) gets the threshold (0.5 without tune) and *f1 its F1.  Returns 0,
 * WB_EUSAGE (tune with a multiclass task or without validation examples),
 * WB_ECORRUPT (the file at to->out_path is not the one to->file describes:
 * another process replaced it), the model file's and the model's errors. */
int wb_bundle_finish(wb_model *m, const wb_dataset *ds, const wb_dataset_opts *dso, const wb_train_opts *to,
                     const wb_train_result *res, int tune, float *th, double *f1, wb_err *e);

#ifdef __cplusplus
}
#endif
#endif /* WORDBENCH_BUNDLE_H */
