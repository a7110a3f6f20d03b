/*
 * similar.c — cosine nearest neighbours by streaming sgemv over the mapped
 * matrix (see wordbench/similar.h).  Leaves out: approximate indexes.
 */
#include "wordbench/similar.h"

#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "wordbench/floatparse.h"

#define BLOCK_ROWS 8192          /* rows scored per sgemv, at most */
#define BLOCK_BYTES (64u << 20)  /* and at most this many bytes of (widened) rows: 8192 rows up to dim 2048 */

/* Min-heap of the best k by score (root = worst kept). */
static void heap_push(wb_neighbor *h, size_t *n, size_t k, uint32_t row, float s) {
    if (*n < k) {
        size_t i = (*n)++;
        while (i && h[(i - 1) / 2].score > s) h[i] = h[(i - 1) / 2], i = (i - 1) / 2;
        h[i].row = row, h[i].score = s;
        return;
    }
    if (s <= h[0].score) return;
    size_t i = 0;
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        float ms = s;
        if (l < k && h[l].score < ms) m = l, ms = h[l].score;
        if (r < k && h[r].score < ms) m = r;
        if (m == i) break;
        h[i] = h[m], i = m;
    }
    h[i].row = row, h[i].score = s;
}

static int cmp_desc(const void *a, const void *b) {
    const wb_neighbor *x = a, *y = b;
    return (x->score < y->score) - (x->score > y->score);
}

int wb_similar(wb_store *st, const float *query, size_t k, const uint32_t *exclude,
               size_t nexclude, wb_neighbor *out, size_t *nout, wb_err *err) {
    const wb_store_info *in = wb_store_info_get(st);
    const size_t E = in->dim;
    *nout = 0;
    if (k == 0) return wb_err_set(err, WB_EUSAGE, "k must be at least 1");
    double qq = 0;
    for (size_t i = 0; i < E; i++) qq += (double)query[i] * query[i];
    if (qq == 0) return wb_err_set(err, WB_EUSAGE, "the query vector is zero");
    const float qn = (float)sqrt(qq);
    /* Rows per block: 8192, fewer for wide rows (an f16 store of dim 5M
     * would otherwise widen 8192 x 20 MB at a time). */
    const size_t block = E * sizeof(float) >= BLOCK_BYTES ? 1
                         : BLOCK_BYTES / (E * sizeof(float)) < BLOCK_ROWS ? BLOCK_BYTES / (E * sizeof(float))
                                                                            : BLOCK_ROWS;
    float *scores = malloc(block * sizeof(float));
    float *wide = in->dtype == WB_DTYPE_F16 ? malloc(block * E * sizeof(float)) : NULL;
    if (!scores || (in->dtype == WB_DTYPE_F16 && !wide)) {
        free(scores), free(wide);
        return wb_err_set(err, WB_ENOMEM, "out of memory");
    }
    const float *norms = wb_store_norms(st);
    size_t n = 0;
    wb_store_advise(st, 1);
    for (uint64_t r0 = 0; r0 < in->rows; r0 += block) {
        size_t m = in->rows - r0 < block ? (size_t)(in->rows - r0) : block;
        const float *A = wb_store_row(st, r0);
        if (wide) {
            wb_f16_to_f32_n(wide, wb_store_row(st, r0), m * E);
            A = wide;
        }
        /* scores[m] = A[m, E] · query[E]  (row-major, no transpose) */
        cblas_sgemv(CblasRowMajor, CblasNoTrans, (int)m, (int)E, 1.0f, A, (int)E, query, 1, 0.0f, scores, 1);
        for (size_t i = 0; i < m; i++) {
            float nr = norms[r0 + i];
            if (!(nr > 0)) continue;
            float s = scores[i] / (nr * qn);
            if (!(s == s)) continue; /* NaN (non-finite stores) */
            uint32_t row = (uint32_t)(r0 + i);
            int skip = 0;
            for (size_t j = 0; j < nexclude && !skip; j++) skip = exclude[j] == row;
            if (!skip) heap_push(out, &n, k, row, s);
        }
    }
    wb_store_advise(st, 0);
    qsort(out, n, sizeof *out, cmp_desc);
    *nout = n;
    free(scores);
    free(wide);
    return 0;
}

int wb_similar_query(const wb_store *st, size_t n, const uint32_t *rows, const int *signs, float *query) {
    const wb_store_info *in = wb_store_info_get(st);
    const size_t E = in->dim;
    memset(query, 0, E * sizeof(float));
    float *v = malloc(E * sizeof(float));
    if (!v) return WB_ENOMEM;
    const float *norms = wb_store_norms(st);
    for (size_t i = 0; i < n; i++) {
        if (wb_store_gather(st, 1, &rows[i], v)) {
            free(v);
            return WB_EUSAGE;
        }
        float nr = norms[rows[i]];
        float s = (float)signs[i] / (nr > 0 ? nr : 1.0f);
        for (size_t j = 0; j < E; j++) query[j] += s * v[j];
    }
    free(v);
    return 0;
}
