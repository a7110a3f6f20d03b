/*
 * wordbench/store_writer.h — write a new store from vectors in memory, one
 * word at a time: the way a model's learned or fine-tuned embedding becomes
 * a store (`wordbench export-embeddings`) that other runs, `evaluate`,
 * `neighbors` or the Python binding can open like any converted store.
 *
 * The store is born exactly as `convert` makes it (the same publishing path,
 * src/store/publish.c): files written into a temporary sibling
 * PARENT/.NAME.wbtmp-PID/, NPY headers, block hashes, norms, meta and the
 * LMDB index built by the converter's index builder, fsync, then one atomic
 * rename (RENAME_NOREPLACE, or RENAME_EXCHANGE with force).  Until
 * wb_store_writer_commit returns 0 nothing is visible at the target, and
 * closing an uncommitted writer removes its temporary directory.
 *
 * Rows are kept in the order they are added; a norm is computed per row from
 * the stored values (as the converter does: double sum, rounded once).
 * Memory: a 1 MiB output buffer and the index builder's bounded buffers.
 *
 * Not here: parsing vector files (convert.h), reading stores (store.h).
 */
#ifndef WORDBENCH_STORE_WRITER_H
#define WORDBENCH_STORE_WRITER_H

#include <stddef.h>
#include <stdint.h>

#include "wordbench/err.h"
#include "wordbench/npy.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct wb_store_writer_opts {
    wb_dtype dtype;            /* WB_DTYPE_F32 (or F16: values rounded to half) */
    int force;                 /* replace an existing store (0) */
    int allow_nonfinite;       /* accept NaN / Inf values (0: WB_EFORMAT) */
    const char *source;        /* meta 'source': what the rows came from ("-") */
    const char *source_format; /* meta 'source_format' ("model") */
    uint64_t expect_rows;      /* sizing hint for the duplicate table (0 = unknown) */
} wb_store_writer_opts;

/* dtype f32, no force, source "-", source_format "model". */
void wb_store_writer_opts_init(wb_store_writer_opts *o);

typedef struct wb_store_writer wb_store_writer;

/* Start a store at `store` with rows of `dim` floats.  Errors: WB_EUSAGE
 * (dim 0, a bad dtype or store name), WB_EEXIST (exists without force, or
 * not a store), errno, WB_ELMDB, WB_ENOMEM.  *out is set even on failure
 * (close it). */
int wb_store_writer_open(wb_store_writer **out, const char *store, uint32_t dim, const wb_store_writer_opts *o,
                         wb_err *e);

/* Append the row of `word` (len bytes, any bytes but not empty): vec has dim
 * floats.  Errors: WB_EUSAGE (empty word, more than 2^32 - 1 rows), WB_EDUP
 * (the word is already in the store: the message names it and its row),
 * WB_EFORMAT (a NaN / Inf value without allow_nonfinite, or a value that
 * overflows float16), errno, WB_ELMDB, WB_ENOMEM. */
int wb_store_writer_add(wb_store_writer *w, const char *word, size_t len, const float *vec, wb_err *e);

/* Rows added so far. */
uint64_t wb_store_writer_rows(const wb_store_writer *w);

/* Finish and publish the store.  *fingerprint (may be NULL) gets its
 * fingerprint.  Errors: WB_EEMPTY (no row added), errno, WB_ELMDB,
 * WB_EEXIST (a store appeared at the target meanwhile, without force). */
int wb_store_writer_commit(wb_store_writer *w, uint64_t *fingerprint, wb_err *e);

/* Release everything; an uncommitted store is removed.  NULL is a no-op. */
void wb_store_writer_close(wb_store_writer *w);

#ifdef __cplusplus
}
#endif
#endif /* WORDBENCH_STORE_WRITER_H */
