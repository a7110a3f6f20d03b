/*
 * wordbench/embedding.h — a trained model's word vectors as the model sees
 * them, to judge them (wordeval.h) and to save them as a store
 * (store_writer.h): what `wordbench evaluate MODEL` and `wordbench
 * export-embeddings` run on.
 *
 * Two views of the same model:
 *   - over its store (wb_embedding_view, when the model reads a store:
 *     frozen, finetune, multichannel): every row of the store in store
 *     order, with the rows the model changed (fine-tuned words of its
 *     vocabulary found in the store) in place of the originals.  The row
 *     order, hence gensim's restrict_vocab, stays the store's; words of the
 *     vocabulary the store lacks have no place in it.  For multichannel the
 *     tuned channel is the one shown.
 *   - its vocabulary (the view of models without a store: learned
 *     embeddings, or vectors embedded in the model file; and always what
 *     wb_embedding_export writes): ids 2 .. V-1 in id order (descending
 *     training frequency, vocab.h), each with the row the model uses for it
 *     (learned, fine-tuned, store, random or zero row).
 * A changed row is one whose values differ from the store's, found by
 * comparing every vocabulary row with its store row (so it needs no access
 * to the model's internals and counts exactly what training moved).
 *
 * Not here: the benchmarks (wordeval.h), writing files (store_writer.h).
 */
#ifndef WORDBENCH_EMBEDDING_H
#define WORDBENCH_EMBEDDING_H

#include <stddef.h>
#include <stdint.h>

#include "wordbench/bundle.h"
#include "wordbench/err.h"
#include "wordbench/store_writer.h"
#include "wordbench/wordeval.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct wb_embedding_view {
    wb_wordvecs vecs;     /* for wb_wordeval_run (points into this struct and the bundle) */
    int over_store;       /* 1: store rows with the changed rows in place; 0: the vocabulary */
    uint64_t words;       /* words of the model's vocabulary (ids 2 .. V-1) */
    uint64_t in_store;    /* of which found in the store (0 without a store) */
    uint64_t changed;     /* of which the model changed (their rows replace the store's) */
    /* owned buffers */
    uint32_t *rows_;      /* (changed) store rows, ascending */
    float *vecs_;         /* (changed or words, E) */
    const char **words_;  /* (words) vocabulary view only */
    size_t *lens_;        /* (words) */
} wb_embedding_view;

/* Build the model's view (file comment) of a bundle whose store is attached
 * (wb_bundle_attach_store).  Free it with wb_embedding_view_free (also
 * after a failure).  The bundle must outlive the view.  Errors: WB_ENOMEM,
 * WB_EUSAGE (a model that is not runnable), the store's gather errors. */
int wb_embedding_view_build(wb_bundle *b, wb_embedding_view *v, wb_err *e);
void wb_embedding_view_free(wb_embedding_view *v);

typedef struct wb_embedding_export_stats {
    uint64_t rows;         /* rows written: the vocabulary's words */
    uint64_t from_store;   /* words whose row is the store's, unchanged */
    uint64_t changed;      /* words whose store row the model changed */
    uint64_t own;          /* words without a store row (learned, random, zero rows) */
    uint64_t zero;         /* of all rows, those that are all zeros */
    uint64_t fingerprint;  /* the new store's */
} wb_embedding_export_stats;

/* Write the model's vocabulary view as a new store at `store` (options: the
 * store writer's; NULL = f32, no force).  st (may be NULL) gets the counts.
 * Errors: those of wb_store_writer_* and wb_embedding_view_build. */
int wb_embedding_export(wb_bundle *b, const char *store, const wb_store_writer_opts *o,
                        wb_embedding_export_stats *st, wb_err *e);

#ifdef __cplusplus
}
#endif
#endif /* WORDBENCH_EMBEDDING_H */
