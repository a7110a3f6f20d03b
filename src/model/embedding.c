/*
 * embedding.c — a model's word vectors as it sees them: over its store
 * (changed rows in place) or as its vocabulary, and the vocabulary written
 * as a store (see wordbench/embedding.h).  Uses only the public model API
 * (wb_model_get_row) and the vocabulary's store rows.
 * Leaves out: the benchmarks themselves (src/store/wordeval.c).
 */
#include "wordbench/embedding.h"

#include <stdlib.h>
#include <string.h>

#include "wordbench/model.h"
#include "wordbench/vocab.h"

void wb_embedding_view_free(wb_embedding_view *v) {
    if (!v) return;
    free(v->rows_), free(v->vecs_), free(v->words_), free(v->lens_);
    memset(v, 0, sizeof *v);
}

/* Store row of every id (-1: none), or NULL without a store. */
static int store_rows(wb_bundle *b, int64_t **rows, wb_err *e) {
    *rows = NULL;
    if (!b->store) return 0;
    size_t V = wb_vocab_size(b->vocab);
    if (!(*rows = malloc(V * sizeof **rows))) return wb_err_set(e, WB_ENOMEM, "out of memory");
    return wb_vocab_rows(b->vocab, b->store, *rows, NULL, e);
}

typedef struct idrow {
    uint32_t row;  /* store row */
    int32_t id;    /* vocabulary id */
} idrow;

static int cmp_row(const void *a, const void *b) {
    const idrow *x = a, *y = b;
    return (x->row > y->row) - (x->row < y->row);
}

/* The vocabulary view: ids 2 .. V-1 with the model's rows. */
static int vocab_view(wb_bundle *b, wb_embedding_view *v, wb_err *e) {
    const size_t V = wb_vocab_size(b->vocab), E = wb_model_cfg_get(b->model)->E;
    const size_t n = V > 2 ? V - 2 : 0;
    v->vecs_ = malloc((n ? n : 1) * E * sizeof(float));
    v->words_ = malloc((n ? n : 1) * sizeof *v->words_);
    v->lens_ = malloc((n ? n : 1) * sizeof *v->lens_);
    if (!v->vecs_ || !v->words_ || !v->lens_) return wb_err_set(e, WB_ENOMEM, "out of memory");
    for (size_t i = 0; i < n; i++) {
        v->words_[i] = wb_vocab_word(b->vocab, (int32_t)(i + 2), &v->lens_[i], NULL);
        int rc = wb_model_get_row(b->model, (int32_t)(i + 2), v->vecs_ + i * E, e);
        if (rc) return rc;
    }
    v->vecs = (wb_wordvecs){.rows = n, .dim = (uint32_t)E, .mat = v->vecs_, .words = v->words_, .lens = v->lens_};
    return 0;
}

int wb_embedding_view_build(wb_bundle *b, wb_embedding_view *v, wb_err *e) {
    memset(v, 0, sizeof *v);
    if (!wb_model_ready(b->model)) return wb_err_set(e, WB_EUSAGE, "the model has no embedding source (attach its store)");
    const size_t V = wb_vocab_size(b->vocab), E = wb_model_cfg_get(b->model)->E;
    v->words = V > 2 ? V - 2 : 0;
    if (!b->store) return vocab_view(b, v, e);
    v->over_store = 1;
    int64_t *rows;
    int rc = store_rows(b, &rows, e);
    idrow *ch = rc ? NULL : malloc((V ? V : 1) * sizeof *ch);
    float *m = ch ? malloc(2 * E * sizeof *m) : NULL;
    if (!rc && !m) rc = wb_err_set(e, WB_ENOMEM, "out of memory");
    size_t nch = 0;
    /* A changed row: the model's row differs from the store's. */
    for (size_t id = 2; !rc && id < V; id++) {
        if (rows[id] < 0) continue;
        v->in_store++;
        uint32_t r = (uint32_t)rows[id];
        rc = wb_model_get_row(b->model, (int32_t)id, m, e);
        if (!rc && wb_store_gather(b->store, 1, &r, m + E)) rc = wb_err_set(e, WB_EUSAGE, "store row %u out of range", r);
        if (!rc && memcmp(m, m + E, E * sizeof *m)) ch[nch++] = (idrow){r, (int32_t)id};
    }
    if (!rc) {
        qsort(ch, nch, sizeof *ch, cmp_row);
        v->rows_ = malloc((nch ? nch : 1) * sizeof *v->rows_);
        v->vecs_ = malloc((nch ? nch : 1) * E * sizeof *v->vecs_);
        if (!v->rows_ || !v->vecs_) rc = wb_err_set(e, WB_ENOMEM, "out of memory");
    }
    for (size_t i = 0; !rc && i < nch; i++) {
        v->rows_[i] = ch[i].row;
        rc = wb_model_get_row(b->model, ch[i].id, v->vecs_ + i * E, e);
    }
    v->changed = nch;
    v->vecs = (wb_wordvecs){.store = b->store, .noverride = nch, .override_rows = v->rows_, .override_vecs = v->vecs_};
    free(rows), free(ch), free(m);
    return rc;
}

int wb_embedding_export(wb_bundle *b, const char *store, const wb_store_writer_opts *o,
                        wb_embedding_export_stats *st, wb_err *e) {
    wb_embedding_export_stats local;
    if (!st) st = &local;
    memset(st, 0, sizeof *st);
    if (!wb_model_ready(b->model)) return wb_err_set(e, WB_EUSAGE, "the model has no embedding source (attach its store)");
    const size_t V = wb_vocab_size(b->vocab), E = wb_model_cfg_get(b->model)->E;
    if (V <= 2) return wb_err_set(e, WB_EEMPTY, "the model's vocabulary has no words");
    int64_t *rows;
    int rc = store_rows(b, &rows, e);
    float *m = rc ? NULL : malloc(2 * E * sizeof *m);
    wb_store_writer *w = NULL;
    if (!rc && !m) rc = wb_err_set(e, WB_ENOMEM, "out of memory");
    wb_store_writer_opts wo;
    if (o) wo = *o;
    else wb_store_writer_opts_init(&wo);
    if (!wo.expect_rows) wo.expect_rows = V - 2;
    if (!rc) rc = wb_store_writer_open(&w, store, (uint32_t)E, &wo, e);
    for (size_t id = 2; !rc && id < V; id++) {
        size_t len;
        const char *word = wb_vocab_word(b->vocab, (int32_t)id, &len, NULL);
        rc = wb_model_get_row(b->model, (int32_t)id, m, e);
        if (rc) break;
        if (rows && rows[id] >= 0) {
            uint32_t r = (uint32_t)rows[id];
            if (wb_store_gather(b->store, 1, &r, m + E)) rc = wb_err_set(e, WB_EUSAGE, "store row %u out of range", r);
            else if (memcmp(m, m + E, E * sizeof *m)) st->changed++;
            else st->from_store++;
        } else {
            st->own++;
        }
        int zero = 1;
        for (size_t i = 0; i < E && zero; i++) zero = m[i] == 0;
        st->zero += (uint64_t)zero;
        if (!rc) rc = wb_store_writer_add(w, word, len, m, e);
    }
    st->rows = w ? wb_store_writer_rows(w) : 0;
    if (!rc) rc = wb_store_writer_commit(w, &st->fingerprint, e);
    wb_store_writer_close(w);
    free(rows), free(m);
    return rc;
}
