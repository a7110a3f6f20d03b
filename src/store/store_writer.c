/*
 * store_writer.c — a store from rows in memory (see wordbench/store_writer.h).
 * The files are written with plain buffered pwrite; block hashes are taken
 * by re-reading the finished data (publish.c's wb_hash_blocks), which for
 * the sizes a model's vocabulary has costs less than hashing while writing.
 * Leaves out: the publishing path itself (publish.c) and the index
 * (index_build.c).
 */
#include "wordbench/store_writer.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store/convert_int.h"
#include "store/index_build.h"
#include "store/publish.h"
#include "store/store_int.h"
#include "wordbench/floatparse.h"

#define OUT_BYTES (1u << 20) /* output buffer per file */

/* One output file: data goes after the 4096-byte header space. */
typedef struct outf {
    int fd;            /* -1 when closed */
    char *buf;         /* pending bytes */
    size_t len;        /* used of OUT_BYTES */
    uint64_t written;  /* data bytes already in the file */
} outf;

struct wb_store_writer {
    wb_pub pub;              /* the temporary sibling and its publication */
    char *store;             /* target path (owned) */
    wb_store_writer_opts o;  /* options (strings borrowed until commit) */
    uint32_t dim;
    size_t row_bytes;        /* dim * element size */
    outf vec, nrm;           /* vectors.npy, norms.npy */
    wb_ixb *ix;              /* the index being built */
    uint64_t rows;           /* rows added */
    uint64_t invalid_utf8;   /* words that are not UTF-8 */
    uint64_t long_words;     /* words longer than WB_STORE_MAX_KEY */
    void *row;               /* (row_bytes) one row in the store's dtype */
    int committed;
};

void wb_store_writer_opts_init(wb_store_writer_opts *o) {
    memset(o, 0, sizeof *o);
    o->dtype = WB_DTYPE_F32;
    o->source = "-";
    o->source_format = "model";
}

static int out_open(wb_store_writer *w, const char *name, outf *f, wb_err *e) {
    f->fd = -1;
    char *p = wb_path_join(w->pub.tmp, name);
    if (!p || !(f->buf = malloc(OUT_BYTES))) {
        free(p);
        return wb_err_set(e, WB_ENOMEM, "out of memory");
    }
    f->fd = open(p, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    int rc = f->fd < 0 ? wb_err_at(e, errno, p, 0, -1, "cannot create: %s", strerror(errno)) : 0;
    if (!rc) {
        char zero[WB_NPY_DATA_OFFSET] = {0}; /* header placeholder, written at the end */
        int r = wb_pwrite_all(f->fd, zero, sizeof zero, 0);
        if (r) rc = wb_err_at(e, r, p, 0, -1, "writing: %s", strerror(r));
    }
    free(p);
    return rc;
}

static int out_flush(outf *f) {
    int rc = wb_pwrite_all(f->fd, f->buf, f->len, WB_NPY_DATA_OFFSET + f->written);
    if (!rc) f->written += f->len, f->len = 0;
    return rc;
}

static int out_put(outf *f, const void *p, size_t n) {
    const char *s = p;
    while (n) {
        if (f->len == OUT_BYTES) {
            int rc = out_flush(f);
            if (rc) return rc;
        }
        size_t k = OUT_BYTES - f->len < n ? OUT_BYTES - f->len : n;
        memcpy(f->buf + f->len, s, k);
        f->len += k, s += k, n -= k;
    }
    return 0;
}

static void out_close(outf *f) {
    if (f->fd >= 0) close(f->fd);
    f->fd = -1;
    free(f->buf);
    f->buf = NULL;
}

int wb_store_writer_open(wb_store_writer **out, const char *store, uint32_t dim, const wb_store_writer_opts *o,
                         wb_err *e) {
    wb_store_writer *w = *out = calloc(1, sizeof *w);
    if (!w) return wb_err_set(e, WB_ENOMEM, "out of memory");
    w->vec.fd = w->nrm.fd = -1;
    if (o) w->o = *o;
    else wb_store_writer_opts_init(&w->o);
    if (!w->o.source) w->o.source = "-";
    if (!w->o.source_format) w->o.source_format = "model";
    if (dim == 0) return wb_err_set(e, WB_EUSAGE, "the vectors have no dimensions");
    if (w->o.dtype != WB_DTYPE_F32 && w->o.dtype != WB_DTYPE_F16) return wb_err_set(e, WB_EUSAGE, "dtype must be f32 or f16");
    w->dim = dim;
    w->row_bytes = (size_t)dim * wb_dtype_size(w->o.dtype);
    if (!(w->store = strdup(store)) || !(w->row = malloc(w->row_bytes))) return wb_err_set(e, WB_ENOMEM, "out of memory");
    int rc = wb_pub_begin(&w->pub, store, w->o.force, e);
    if (!rc) rc = out_open(w, WB_STORE_VECTORS, &w->vec, e);
    if (!rc) rc = out_open(w, WB_STORE_NORMS, &w->nrm, e);
    if (!rc) rc = wb_ixb_open(&w->ix, w->pub.tmp, w->o.expect_rows, e);
    return rc;
}

uint64_t wb_store_writer_rows(const wb_store_writer *w) {
    return w->rows;
}

static const char *shown(char *dst, size_t cap, const char *s, size_t n) {
    size_t k = 0;
    for (size_t i = 0; i < n && k + 8 < cap; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c != 0x7f) dst[k++] = (char)c;
        else k += (size_t)snprintf(dst + k, cap - k, "\\x%02x", c);
    }
    dst[k] = 0;
    return dst;
}

int wb_store_writer_add(wb_store_writer *w, const char *word, size_t len, const float *vec, wb_err *e) {
    char sh[128];
    if (len == 0) return wb_err_set(e, WB_EUSAGE, "row %llu: an empty word cannot be stored", (unsigned long long)w->rows);
    if (w->rows >= UINT32_MAX) return wb_err_set(e, WB_EUSAGE, "more than 2^32-1 rows");
    const uint32_t E = w->dim;
    double ss = 0;
    for (uint32_t i = 0; i < E; i++) {
        if (!w->o.allow_nonfinite && !isfinite(vec[i]))
            return wb_err_set(e, WB_EFORMAT, "the vector of '%s' has a non-finite value (%g) at %u",
                              shown(sh, sizeof sh, word, len), (double)vec[i], i + 1);
        ss += (double)vec[i] * vec[i];
    }
    if (w->o.dtype == WB_DTYPE_F16) {
        uint16_t *h = w->row;
        wb_f32_to_f16_n(h, vec, E);
        ss = 0;
        for (uint32_t i = 0; i < E; i++) {
            double f = wb_f16_to_f32(h[i]);
            if (!w->o.allow_nonfinite && isinf(f))
                return wb_err_set(e, WB_EFORMAT, "the vector of '%s' has a value that overflows float16 (%g) at %u",
                                  shown(sh, sizeof sh, word, len), (double)vec[i], i + 1);
            ss += f * f;
        }
    } else {
        memcpy(w->row, vec, w->row_bytes);
    }
    float norm = (float)sqrt(ss);
    uint32_t old;
    int rc = wb_ixb_add(w->ix, word, len, (uint32_t)w->rows, &old, e);
    if (rc) return rc;
    if (old != UINT32_MAX)
        return wb_err_set(e, WB_EDUP, "duplicate word '%s' (already row %u)", shown(sh, sizeof sh, word, len), old);
    if ((rc = out_put(&w->vec, w->row, w->row_bytes)) || (rc = out_put(&w->nrm, &norm, 4)))
        return wb_err_set(e, rc, "writing the store: %s", strerror(rc));
    w->rows++;
    w->invalid_utf8 += !wb_utf8_valid(word, len);
    w->long_words += len > WB_STORE_MAX_KEY;
    return 0;
}

int wb_store_writer_commit(wb_store_writer *w, uint64_t *fingerprint, wb_err *e) {
    if (!w->rows) return wb_err_set(e, WB_EEMPTY, "no vectors to write");
    int rc;
    if ((rc = out_flush(&w->vec)) || (rc = out_flush(&w->nrm)))
        return wb_err_set(e, rc, "writing the store: %s", strerror(rc));
    uint64_t data = w->rows * w->row_bytes;
    size_t nhash = (size_t)((data + WB_STORE_BLOCK_BYTES - 1) / WB_STORE_BLOCK_BYTES);
    uint64_t *hashes = malloc((nhash + 1) * sizeof *hashes);
    if (!hashes) return wb_err_set(e, WB_ENOMEM, "out of memory");
    if ((rc = wb_hash_blocks(w->vec.fd, WB_NPY_DATA_OFFSET, data, hashes))) {
        free(hashes);
        return wb_err_set(e, rc, "re-reading vectors.npy: %s", wb_strerror(rc));
    }
    wb_store_info in;
    memset(&in, 0, sizeof in);
    in.rows = w->rows, in.dim = w->dim, in.dtype = w->o.dtype;
    snprintf(in.source, sizeof in.source, "%s", w->o.source);
    snprintf(in.source_format, sizeof in.source_format, "%s", w->o.source_format);
    in.invalid_utf8 = w->invalid_utf8, in.long_words = w->long_words;
    uint64_t fpr;
    rc = wb_pub_finish(w->pub.tmp, w->ix, w->vec.fd, w->nrm.fd, &in, hashes, nhash, &fpr, e);
    free(hashes);
    if (rc) return rc;
    wb_ixb_close(w->ix);
    w->ix = NULL;
    out_close(&w->vec);
    out_close(&w->nrm);
    if ((rc = wb_pub_commit(&w->pub, w->store, e))) return rc;
    w->committed = 1;
    if (fingerprint) *fingerprint = fpr;
    return 0;
}

void wb_store_writer_close(wb_store_writer *w) {
    if (!w) return;
    wb_ixb_close(w->ix);
    out_close(&w->vec);
    out_close(&w->nrm);
    wb_pub_end(&w->pub);
    free(w->store), free(w->row);
    free(w);
}
