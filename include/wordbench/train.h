/*
 * wordbench/train.h — the training loop: shuffled minibatches of the
 * training split, one model step each, validation after every epoch,
 * early stopping with restore-best, an atomic checkpoint every epoch and
 * exact resume, a history.
 *
 * Determinism: epoch e shuffles with a generator seeded by (seed, e) and
 * draws dropout masks from another seeded by (seed, e); nothing else is
 * random after the model's initialisation.  So the same seed and number of
 * threads (lanes of the step, see wb_model_set_threads; with one lane, the
 * OpenBLAS thread count) give bit-identical weights, and a run resumed from
 * the checkpoint of epoch e with the same threads continues exactly as the
 * uninterrupted run.
 *
 * Validation examples: the split WB_DS_VALID when the data set has any,
 * else WB_DS_TEST (as the Keras tutorial passes its test set as
 * validation_data).  Early stopping (patience > 0) watches the validation
 * loss; the best epoch's model is written to out_path when it improves,
 * and with restore_best the final out_path is that model.  Without
 * validation examples there is no early stopping and out_path gets the
 * last epoch's weights.
 *
 * out_path may be NULL when restore_best is 0: nothing is written and the
 * trained model is *m (experiments evaluate it in memory).
 *
 * Checkpoint (ckpt_path): after every epoch, the model file with the
 * optimizer state and the trainer state (epoch, best loss, patience
 * counter, best epoch, history, and the options that steer the run: batch
 * size, seed, patience, class weights, a hash of the training examples),
 * written atomically.
 *
 * Resume (resume != WB_RESUME_NO): the checkpoint is loaded, the model
 * passed in is replaced by the checkpoint's, and training continues with
 * the next epoch (note "resuming at epoch N").  Before that the two are
 * compared:
 *   - a different architecture or task (model kind, embeddings, oov,
 *     task, vocabulary size, emb-dim, maxlen, filters, widths, hidden,
 *     dropout, max-norm, labels, optimizer kind) is WB_EUSAGE naming every
 *     differing option with both values: the checkpoint is of another
 *     model;
 *   - an option that changes the results but not the shapes (lr, momentum,
 *     l2, clipnorm, clipvalue, batch size, seed, patience, class weights,
 *     the training examples) is a warning naming it with both values; the
 *     run continues with the values passed in (the optimizer settings are
 *     copied onto the checkpoint's optimizer, its step count kept), so it
 *     no longer matches an uninterrupted run.
 * WB_RESUME_IF_ANY starts from scratch, with a note, when ckpt_path does
 * not exist; WB_RESUME_REQUIRE makes that an error (the errno of the open).
 *
 * Stale temporaries: before the first epoch, `out_path.tmpXXXXXX` and
 * `ckpt_path.tmpXXXXXX` left by a writer that died are removed (fileio's
 * lock test; a note names them).
 */
#ifndef WORDBENCH_TRAIN_H
#define WORDBENCH_TRAIN_H

#include <stddef.h>
#include <stdint.h>

#include "wordbench/dataset.h"
#include "wordbench/eval.h"
#include "wordbench/model.h"

#ifdef __cplusplus
extern "C" {
#endif

/* One epoch's figures.  "acc" is the task's accuracy figure: for a
 * multi-label task it is P@1 (the best label is a true one), the number
 * people tune by; exact-match accuracy is eval's. */
typedef struct wb_epoch {
    size_t epoch;           /* 1-based */
    double loss, acc;       /* training loss / accuracy or P@1 (running, with dropout) */
    int has_val;            /* validation figures present */
    double val_loss, val_acc; /* validation loss / accuracy or P@1 */
    double val_r1;          /* multi-label: validation R@1 (else 0) */
    double seconds;         /* wall time of the epoch, validation included */
    size_t examples;        /* training examples seen */
} wb_epoch;

/* Resume modes (wb_train_opts.resume). */
enum { WB_RESUME_NO = 0, WB_RESUME_IF_ANY = 1, WB_RESUME_REQUIRE = 2 };

/* Note callback: one message (NUL-terminated, no newline) at a time;
 * warning = 1 for something the caller should look at (an option that
 * differs from the checkpoint's), 0 for information (resuming at epoch N,
 * stale temporaries removed, no checkpoint yet). */
typedef void (*wb_train_note)(void *ctx, int warning, const char *msg);

/* Progress callback: after every `done` of `total` examples of the epoch
 * (every few batches) and once at the epoch's end with ep filled (ep is
 * NULL in the middle). */
typedef void (*wb_train_progress)(void *ctx, size_t epoch, size_t epochs, size_t done, size_t total,
                                  double loss, double acc, const wb_epoch *ep);

typedef struct wb_train_opts {
    size_t epochs;            /* default 10 */
    size_t batch;             /* minibatch size, = the model's max batch (default 32) */
    uint64_t seed;            /* shuffling and dropout (default 1) */
    size_t patience;          /* 0 = no early stopping */
    int restore_best;         /* 1 = out_path ends as the best validation epoch */
    const float *class_weights; /* (C) or NULL */
    const char *out_path;     /* model file written (required) */
    const char *ckpt_path;    /* checkpoint file or NULL */
    int resume;               /* WB_RESUME_*: continue from ckpt_path */
    const wb_model_file *file;/* meta, vocabulary, fingerprint, embed_vectors for out_path
                                 (may be NULL when out_path and ckpt_path are) */
    /* Experiments (search.h): the examples to train and validate on instead
     * of the data set's split, and a view of its inputs to read instead of
     * wb_inputs_of_dataset(ds) (the same matrices with some words read as
     * OOV, the same features). */
    int custom_split;         /* 1: train_idx / val_idx replace splits WB_DS_TRAIN and VALID/TEST */
    const uint32_t *train_idx;/* (ntrain) example indices, with custom_split */
    size_t ntrain;
    const uint32_t *val_idx;  /* (nval) validation examples, with custom_split; nval may be 0 */
    size_t nval;
    const wb_inputs *inputs;  /* every text input's (n, T_k) ids and the features, or NULL */
    wb_train_progress progress; /* or NULL */
    void *ctx;
    int (*should_stop)(void *ctx); /* polled between batches (signals) or NULL */
    uint64_t max_memory;      /* memory limit of the checkpoint loaded to resume (0 = default; model.h) */
    wb_train_note note;       /* or NULL: notes and warnings (file comment) */
    size_t threads;           /* lanes of every step (wb_model_set_threads); 0 = leave the model's */
} wb_train_opts;

void wb_train_opts_init(wb_train_opts *o);

typedef struct wb_train_result {
    size_t epochs_run;        /* epochs completed (all, including resumed ones) */
    size_t best_epoch;        /* epoch of the best validation loss (0 = none) */
    double best_val_loss;
    wb_epoch *history;        /* (epochs_run) owned: free() */
    double train_seconds;     /* wall time of this call's training steps (validation,
                                 checkpoints and saving excluded: examples/s) */
    double first_batch_seconds; /* from the call to the end of the first step */
    uint64_t examples;        /* training examples processed in this call */
    size_t resumed_from;      /* epochs the checkpoint had done (0 = fresh start) */
    int stopped_early;
    int interrupted;          /* should_stop said so */
} wb_train_result;

/* Train *m (replaced when resuming) on ds.  Returns 0, WB_EUSAGE (no
 * training examples, bad options), the model's errors, errors writing
 * out_path / ckpt_path, WB_ECORRUPT for a bad checkpoint. */
int wb_train_run(wb_model **m, const wb_dataset *ds, const wb_train_opts *o, wb_train_result *res, wb_err *e);

/* Read ahead the store rows of a run's vocabulary (rows[0..V), as
 * wb_model_attach_store takes them) with wb_store_prefetch_first, the rows
 * of the first minibatch wb_train_run will train on (epoch 1 of o's seed,
 * batch size, split and X) first: a cold start waits for those.  Returns
 * what wb_store_prefetch_first returns. */
int wb_train_prefetch(wb_store *st, const wb_dataset *ds, const wb_train_opts *o, const int64_t *rows, size_t V,
                      wb_err *e);

/* Indices of the examples of one split value (WB_DS_*) into a malloc'ed
 * array; *n its length.  NULL with *n = 0 when none (or out of memory:
 * then *n = SIZE_MAX). */
uint32_t *wb_split_indices(const wb_dataset *ds, int split, size_t *n);

#ifdef __cplusplus
}
#endif
#endif /* WORDBENCH_TRAIN_H */
