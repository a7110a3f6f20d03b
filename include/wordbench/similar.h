/*
 * wordbench/similar.h — cosine nearest neighbours over a store's matrix.
 *
 * Scores every row against a query with OpenBLAS sgemv over the mapped
 * matrix, block by block (f16 blocks are widened into a small scratch
 * buffer), divides by the precomputed norms (norms.npy: no normalised copy
 * of the matrix is ever built), and keeps the k best in a heap.  It streams
 * the whole matrix: the mapping is advised sequential for the scan and
 * random again afterwards.  Rows of norm 0 are never returned.
 *
 * Not here: approximate search or an index for it.
 */
#ifndef WORDBENCH_SIMILAR_H
#define WORDBENCH_SIMILAR_H

#include <stddef.h>
#include <stdint.h>

#include "wordbench/err.h"
#include "wordbench/store.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct wb_neighbor {
    uint32_t row;  /* store row */
    float score;   /* cosine similarity with the query */
} wb_neighbor;

/* The k rows most cosine-similar to query[dim], best first, skipping the
 * nexclude rows in exclude (e.g. the query words).  out must hold k entries;
 * *nout gets how many were filled (< k only for tiny stores).  Returns 0,
 * WB_EUSAGE (k == 0 or a zero query), WB_ENOMEM. */
int wb_similar(wb_store *st, const float *query, size_t k, const uint32_t *exclude,
               size_t nexclude, wb_neighbor *out, size_t *nout, wb_err *err);

/* Build an analogy / arithmetic query: sum of sign[i] * row_i / |row_i| over
 * n rows (king - man + woman: signs +1, -1, +1).  query has dim floats.
 * Returns 0 or WB_EUSAGE (a row out of range). */
int wb_similar_query(const wb_store *st, size_t n, const uint32_t *rows, const int *signs, float *query);

#ifdef __cplusplus
}
#endif
#endif /* WORDBENCH_SIMILAR_H */
