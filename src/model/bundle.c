/*
 * bundle.c — a model file with its preprocessing (bundle.h): the META text,
 * loading, the store check, encoding raw text and records (every text
 * input, the numeric features) and reading labelled files.
 * Leaves out streaming records to predict.
 */
#include "wordbench/bundle.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wordbench/kv.h"
#include "base/json.h"
#include "wordbench/eval.h"
#include "wordbench/metrics.h"

static const char *const tok_names[] = {"keras", "fasttext", "unicode", "char"};
static const char *const fmt_names[] = {"auto", "tsv", "fasttext", "csv"};

char *wb_bundle_meta(const wb_dataset_opts *o, const wb_dataset *ds, const char *store_path) {
    wb_kv s = {0};
    wb_kv_puts(&s, "tokenizer", tok_names[o->tok.kind & 3]);
    wb_kv_putf(&s, "lower", "%u", (unsigned)o->tok.lower);
    wb_kv_putf(&s, "max_doc_chars", "%zu", o->tok.max_doc_chars);
    wb_kv_putf(&s, "strip_html", "%u", (unsigned)o->tok.strip_html);
    if (o->tok.alphabet) wb_kv_puts(&s, "alphabet", o->tok.alphabet);
    wb_kv_putf(&s, "maxlen", "%zu", wb_dataset_maxlen(ds)); /* input 0's; the others' are the model's */
    wb_kv_puts(&s, "padding", o->padding == WB_PAD_PRE ? "pre" : "post");
    wb_kv_puts(&s, "truncating", o->truncating == WB_PAD_PRE ? "pre" : "post");
    wb_kv_puts(&s, "format", fmt_names[o->reader.format & 3]);
    if (o->reader.label_prefix) wb_kv_puts(&s, "label_prefix", o->reader.label_prefix);
    size_t ntc = !o->reader.text_cols ? 0 : o->text_mode == WB_TEXT_FIRST && o->reader.n_text_cols ? 1 : o->reader.n_text_cols;
    for (size_t i = 0; i < ntc; i++) wb_kv_puts(&s, "text_col", o->reader.text_cols[i]);
    if (o->text_mode != WB_TEXT_FIRST) wb_kv_puts(&s, "text_mode", o->text_mode == WB_TEXT_JOIN ? "join" : "each");
    for (size_t i = 0; o->reader.feature_cols && i < o->reader.n_feature_cols; i++)
        wb_kv_puts(&s, "feature_col", o->reader.feature_cols[i]);
    if (o->reader.label_col) wb_kv_puts(&s, "label_col", o->reader.label_col);
    if (o->reader.label_sep) wb_kv_puts(&s, "label_sep", o->reader.label_sep);
    if (store_path) wb_kv_puts(&s, "store", store_path);
    for (uint32_t i = 0; i < wb_dataset_nlabels(ds); i++) {
        size_t l;
        const char *nm = wb_dataset_label_name(ds, i, &l);
        wb_kv_put(&s, "label", nm, l);
    }
    return wb_kv_take(&s, NULL);
}

int wb_bundle_file_make(wb_model_file *f, const wb_dataset_opts *o, const wb_dataset *ds, const char *store_path,
                        uint64_t fingerprint, wb_err *e) {
    memset(f, 0, sizeof *f);
    f->fingerprint = fingerprint;
    void *blob = NULL;
    size_t len;
    if (!(f->meta = wb_bundle_meta(o, ds, store_path))) return wb_err_set(e, WB_ENOMEM, "out of memory");
    for (size_t k = 0; k < wb_dataset_ninputs(ds) && k < WB_MAX_INPUTS; k++) { /* input 0's is `vocab` */
        int rc = wb_vocab_save_buf(wb_dataset_input_get(ds, k)->vocab, &blob, &len, e);
        if (rc) {
            wb_bundle_file_free(f);
            return rc;
        }
        if (k) f->input_vocab[k] = blob, f->input_vocab_len[k] = len;
        else f->vocab = blob, f->vocab_len = len;
    }
    return 0;
}

void wb_bundle_file_free(wb_model_file *f) {
    free((char *)f->meta);
    free((void *)f->vocab);
    for (size_t k = 0; k < WB_MAX_INPUTS; k++) free((void *)f->input_vocab[k]);
    memset(f, 0, sizeof *f);
}

/* ---- load --------------------------------------------------------------- */

void wb_bundle_destroy(wb_bundle *b) {
    if (!b) return;
    wb_model_destroy(b->model);
    for (size_t k = 0; k < WB_MAX_INPUTS; k++) wb_vocab_destroy(b->vocabs[k]);
    for (uint32_t i = 0; i < b->nlabels; i++) free(b->labels[i]);
    free(b->labels);
    free(b->label_len);
    wb_store_close(b->store);
    free(b->strings);
    free(b->history);
    free(b->path);
    wb_token_list_free(&b->tl);
    wb_token_list_free(&b->tj);
    free(b);
}

int wb_bundle_load(wb_bundle **out, const char *path, size_t max_batch, wb_err *e) {
    return wb_bundle_load_ex(out, path, max_batch, 0, e);
}

int wb_bundle_load_ex(wb_bundle **out, const char *path, size_t max_batch, uint64_t max_memory, wb_err *e) {
    *out = NULL;
    wb_bundle *b = calloc(1, sizeof *b);
    if (!b) return wb_err_set(e, WB_ENOMEM, "out of memory");
    wb_token_list_init(&b->tl);
    wb_token_list_init(&b->tj);
    if (!(b->path = strdup(path))) {
        wb_bundle_destroy(b);
        return wb_err_set(e, WB_ENOMEM, "out of memory");
    }
    wb_model_file f;
    void *blob = NULL;
    int rc = wb_model_load_ex(&b->model, path, max_batch, max_memory, &f, &blob, e);
    if (rc) goto fail;
    b->fingerprint = f.fingerprint;
    if (!f.vocab) {
        rc = wb_err_at(e, WB_ECORRUPT, path, 0, -1, "the model file holds no vocabulary");
        goto fail;
    }
    const wb_model_cfg *c = wb_model_cfg_get(b->model);
    b->ninputs = wb_model_cfg_ninputs(c);
    for (size_t k = 0; k < b->ninputs; k++) { /* one vocabulary per text input */
        const void *vb = k ? f.input_vocab[k] : f.vocab;
        size_t vl = k ? f.input_vocab_len[k] : f.vocab_len;
        if (!vb) {
            rc = wb_err_at(e, WB_ECORRUPT, path, 0, -1, "the model file holds no vocabulary for text input %zu", k + 1);
            goto fail;
        }
        if (wb_vocab_load_buf(&b->vocabs[k], vb, vl, e)) {
            rc = wb_err_at(e, WB_ECORRUPT, path, 0, -1, "the vocabulary of text input %zu is unreadable", k + 1);
            goto fail;
        }
        if (wb_vocab_size(b->vocabs[k]) != wb_model_cfg_V(c, k)) {
            rc = wb_err_at(e, WB_ECORRUPT, path, 0, -1, "vocabulary of %zu ids for text input %zu of %zu",
                           wb_vocab_size(b->vocabs[k]), k + 1, wb_model_cfg_V(c, k));
            goto fail;
        }
    }
    b->vocab = b->vocabs[0];
    b->strings = strdup(f.meta);
    if (!b->strings) {
        rc = wb_err_set(e, WB_ENOMEM, "out of memory");
        goto fail;
    }
    wb_tokenize_opts_init(&b->tok, WB_TOK_KERAS);
    b->padding = b->truncating = WB_PAD_POST;
    b->threshold = 0.5f;
    size_t cap = 0, hcap = 0;
    int bad = 0;
    char *cur = b->strings, *line, *v;
    size_t vl;
    for (int r; (r = wb_kv_split(&cur, &line, &v, &vl));) {
        if (r < 0) {
            bad = 1;
            break;
        }
        unsigned long long u = strtoull(v, NULL, 10);
        if (!strcmp(line, "tokenizer")) {
            int k = -1;
            for (int i = 0; i < 4; i++)
                if (!strcmp(v, tok_names[i])) k = i;
            if (k < 0) bad = 1;
            else {
                int lower = b->tok.lower;
                wb_tokenize_opts_init(&b->tok, (wb_tok_kind)k);
                b->tok.lower = lower;
            }
        } else if (!strcmp(line, "lower")) b->tok.lower = u != 0;
        else if (!strcmp(line, "max_doc_chars")) b->tok.max_doc_chars = u;
        else if (!strcmp(line, "strip_html")) b->tok.strip_html = u != 0;
        else if (!strcmp(line, "alphabet")) b->tok.alphabet = v;
        else if (!strcmp(line, "maxlen")) b->maxlen = u;
        else if (!strcmp(line, "padding")) b->padding = strcmp(v, "pre") ? WB_PAD_POST : WB_PAD_PRE;
        else if (!strcmp(line, "truncating")) b->truncating = strcmp(v, "pre") ? WB_PAD_POST : WB_PAD_PRE;
        else if (!strcmp(line, "format")) {
            for (int i = 0; i < 4; i++)
                if (!strcmp(v, fmt_names[i])) b->reader.format = (wb_reader_format)i;
        } else if (!strcmp(line, "label_prefix")) b->reader.label_prefix = v;
        else if (!strcmp(line, "text_col")) {
            if (b->reader.n_text_cols == WB_BUNDLE_MAX_COLS) bad = 1;
            else b->text_cols[b->reader.n_text_cols++] = v;
        } else if (!strcmp(line, "feature_col")) {
            if (b->reader.n_feature_cols == WB_BUNDLE_MAX_COLS) bad = 1;
            else b->feature_cols[b->reader.n_feature_cols++] = v;
        } else if (!strcmp(line, "text_mode")) {
            if (!strcmp(v, "join")) b->text_mode = WB_TEXT_JOIN;
            else if (!strcmp(v, "each")) b->text_mode = WB_TEXT_EACH;
            else if (strcmp(v, "first")) bad = 1;
        }
        else if (!strcmp(line, "label_col")) b->reader.label_col = v;
        else if (!strcmp(line, "label_sep")) b->reader.label_sep = v;
        else if (!strcmp(line, "store")) b->store_path = v;
        else if (!strcmp(line, "threshold")) {
            char *end;
            double t = strtod(v, &end);
            if (*end || !(t >= 0 && t <= 1)) bad = 1;
            else b->threshold = (float)t, b->threshold_tuned = 1;
        } else if (!strcmp(line, "threshold_f1")) b->threshold_f1 = strtod(v, NULL);
        else if (!strcmp(line, "saved_epoch")) b->saved_epoch = u;
        else if (!strcmp(line, "data")) b->data_path = v;
        else if (!strcmp(line, "data_key")) b->data_key = strtoull(v, NULL, 16);
        else if (!strcmp(line, "history")) {
            if (b->nhist == hcap) {
                hcap = hcap ? 2 * hcap : 16;
                wb_epoch *h = realloc(b->history, hcap * sizeof *h);
                if (!h) {
                    rc = wb_err_set(e, WB_ENOMEM, "out of memory");
                    goto fail;
                }
                b->history = h;
            }
            wb_epoch *h = &b->history[b->nhist];
            memset(h, 0, sizeof *h);
            int got = sscanf(v, "%zu,%lf,%lf,%lf,%lf", &h->epoch, &h->loss, &h->acc, &h->val_loss, &h->val_acc);
            if (got != 3 && got != 5) bad = 1;
            h->has_val = got == 5;
            b->nhist++;
        }
        else if (!strcmp(line, "label")) {
            if (b->nlabels == cap) {
                cap = cap ? 2 * cap : 16;
                char **l = realloc(b->labels, cap * sizeof *l);
                size_t *ll = l ? realloc(b->label_len, cap * sizeof *ll) : NULL;
                if (l) b->labels = l;
                if (!l || !ll) {
                    rc = wb_err_set(e, WB_ENOMEM, "out of memory");
                    goto fail;
                }
                b->label_len = ll;
            }
            b->labels[b->nlabels] = malloc(vl + 1);
            if (!b->labels[b->nlabels]) {
                rc = wb_err_set(e, WB_ENOMEM, "out of memory");
                goto fail;
            }
            memcpy(b->labels[b->nlabels], v, vl + 1);
            b->label_len[b->nlabels++] = vl;
        }
    }
    if (b->reader.n_text_cols) b->text_col = b->text_cols[0], b->reader.text_cols = b->text_cols;
    if (b->reader.n_feature_cols) b->reader.feature_cols = b->feature_cols;
    size_t C = c->task == WB_TASK_BINARY ? 2 : c->C;
    /* the columns must be the model's inputs: one text input per column
     * (each), else one; a feature column per feature */
    size_t want = b->text_mode == WB_TEXT_EACH ? b->reader.n_text_cols : 1;
    if (bad || b->maxlen != c->T || b->nlabels != C || want != b->ninputs || b->reader.n_feature_cols != c->nfeat ||
        (b->text_mode != WB_TEXT_FIRST && !b->reader.n_text_cols)) {
        rc = wb_err_at(e, WB_ECORRUPT, path, 0, -1, "the model's options text is damaged");
        goto fail;
    }
    free(blob);
    *out = b;
    return 0;
fail:
    free(blob);
    wb_bundle_destroy(b);
    return rc;
}

int wb_bundle_attach_store(wb_bundle *b, const char *store_dir, wb_err *e) {
    if (wb_model_ready(b->model)) return 0;
    const char *dir = store_dir ? store_dir : b->store_path;
    if (!dir) return wb_err_set(e, WB_EUSAGE, "the model needs the store it was trained with (--store)");
    /* The recorded path comes from the model file (untrusted): the store found there is used only if
     * its fingerprint is the one recorded beside it, so a file without one names no store to open. */
    if (!store_dir && !b->fingerprint)
        return wb_err_at(e, WB_ECORRUPT, b->path, 0, -1,
                         "the model file records a store path (%s) but no store fingerprint to check it against: "
                         "give --store DIR",
                         dir);
    wb_store_close(b->store); /* a store left by a failed earlier call */
    b->store = NULL;
    int rc = wb_store_open(&b->store, dir, e);
    if (rc && !store_dir) {
        char msg[sizeof e->msg];
        snprintf(msg, sizeof msg, "%s", e->msg);
        return wb_err_at(e, rc, dir, 0, -1,
                         "%s; %s recorded this store path when it was trained: if the store has moved, give --store "
                         "DIR (its fingerprint is checked), or train with --embed-vectors to run without the store",
                         msg, b->path);
    }
    if (rc) return rc;
    const wb_store_info *in = wb_store_info_get(b->store);
    if (b->fingerprint && in->fingerprint != b->fingerprint) {
        rc = wb_err_set(e, WB_EUSAGE,
                        "%s is not the store this model was trained with (fingerprint %016" PRIx64 ", the model expects %016" PRIx64 ")",
                        dir, in->fingerprint, b->fingerprint);
        wb_store_close(b->store);
        b->store = NULL;
        return rc;
    }
    size_t nrows = 0;
    for (size_t k = 0; k < b->ninputs; k++) nrows += wb_vocab_size(b->vocabs[k]);
    int64_t *rows = malloc((nrows ? nrows : 1) * sizeof *rows);
    if (!rows) return wb_err_set(e, WB_ENOMEM, "out of memory");
    for (size_t k = 0, at = 0; k < b->ninputs && !rc; k++) { /* every input's words, all in the one store */
        rc = wb_vocab_rows(b->vocabs[k], b->store, rows + at, NULL, e);
        if (!rc) rc = wb_model_attach_input(b->model, k, b->store, rows + at, e);
        at += wb_vocab_size(b->vocabs[k]);
    }
    /* one read-ahead of every input's rows (a second would stop the first),
     * read in while the caller reads its input */
    if (!rc) rc = wb_store_prefetch(b->store, nrows, rows, e);
    free(rows);
    return rc;
}

int wb_bundle_encode(wb_bundle *b, const char *text, size_t len, int32_t *out, size_t *n_tokens, wb_err *e) {
    int rc = wb_tokenize(&b->tok, text, len, &b->tl, e);
    if (rc) return rc;
    return wb_vocab_encode(b->vocab, &b->tl, b->maxlen, b->padding, b->truncating, out, NULL, n_tokens);
}

/* Append the tokens of src to dst. */
static int tl_append(wb_token_list *dst, const wb_token_list *src, wb_err *e) {
    size_t used = dst->n ? dst->off[dst->n] : 0, bytes = src->n ? src->off[src->n] - src->off[0] : 0;
    if (used + bytes > dst->buf_cap) {
        size_t cap = (used + bytes) * 2 + 64;
        char *p = realloc(dst->buf, cap);
        if (!p) return wb_err_set(e, WB_ENOMEM, "out of memory");
        dst->buf = p, dst->buf_cap = cap;
    }
    if (dst->n + src->n + 1 > dst->off_cap) {
        size_t cap = (dst->n + src->n + 1) * 2;
        size_t *o = realloc(dst->off, cap * sizeof *o);
        if (!o) return wb_err_set(e, WB_ENOMEM, "out of memory");
        dst->off = o, dst->off_cap = cap;
    }
    if (bytes) memcpy(dst->buf + used, src->buf + src->off[0], bytes);
    for (size_t i = 0; i <= src->n; i++) dst->off[dst->n + i] = used + (src->off[i] - src->off[0]);
    dst->n += src->n;
    return 0;
}

int wb_bundle_reads_records(const wb_bundle *b) {
    return b->ninputs > 1 || b->reader.n_feature_cols > 0 || b->text_mode == WB_TEXT_JOIN;
}

/* WB_EFORMAT when ex has fewer text fields than the model reads. */
static int check_fields(const wb_bundle *b, const wb_example *ex, const char *path, wb_err *e) {
    size_t need = b->text_mode == WB_TEXT_FIRST ? 1 : b->reader.n_text_cols;
    if (ex->n_texts < need)
        return wb_err_at(e, WB_EFORMAT, path, ex->line, -1, "%zu text field%s, the model reads %zu", ex->n_texts,
                         ex->n_texts == 1 ? "" : "s", need);
    return 0;
}

int wb_bundle_tokens(wb_bundle *b, const wb_example *ex, const char *path, size_t k, const wb_token_list **tl,
                     wb_err *e) {
    int rc = check_fields(b, ex, path, e);
    if (rc) return rc;
    if (k >= b->ninputs) return wb_err_set(e, WB_EUSAGE, "text input %zu: the model has %zu", k + 1, b->ninputs);
    if (b->text_mode == WB_TEXT_JOIN) { /* the tokens of every field in turn */
        b->tj.n = 0;
        for (size_t f = 0; f < ex->n_texts; f++)
            if ((rc = wb_tokenize(&b->tok, ex->texts[f].ptr, ex->texts[f].len, &b->tl, e)) || (rc = tl_append(&b->tj, &b->tl, e)))
                return rc;
        *tl = &b->tj;
        return 0;
    }
    size_t f = b->text_mode == WB_TEXT_EACH ? k : 0;
    if ((rc = wb_tokenize(&b->tok, ex->texts[f].ptr, ex->texts[f].len, &b->tl, e))) return rc;
    *tl = &b->tl;
    return 0;
}

int wb_bundle_encode_example(wb_bundle *b, const wb_example *ex, const char *path, int32_t *const *out, double *feat,
                             wb_err *e) {
    const wb_model_cfg *c = wb_model_cfg_get(b->model);
    int rc = check_fields(b, ex, path, e);
    if (rc) return rc;
    if (ex->n_features != c->nfeat)
        return wb_err_at(e, WB_EFORMAT, path, ex->line, -1, "%zu numeric features, the model reads %zu", ex->n_features, c->nfeat);
    for (size_t k = 0; k < b->ninputs; k++) {
        const wb_token_list *tl;
        if ((rc = wb_bundle_tokens(b, ex, path, k, &tl, e))) return rc;
        rc = wb_vocab_encode(b->vocabs[k], tl, wb_model_cfg_T(c, k), b->padding, b->truncating, out[k], NULL, NULL);
        if (rc) return wb_err_set(e, rc, "cannot encode text input %zu", k + 1);
    }
    if (c->nfeat) memcpy(feat, ex->features, c->nfeat * sizeof *feat);
    return 0;
}

int64_t wb_bundle_label(const wb_bundle *b, const char *name, size_t len) {
    for (uint32_t i = 0; i < b->nlabels; i++)
        if (b->label_len[i] == len && !memcmp(b->labels[i], name, len)) return i;
    return -1;
}

/* ---- labelled files -------------------------------------------------------- */

typedef struct rctx {
    wb_bundle *b;
    wb_labelled *l;
    size_t cap, lcap, ucap;
    wb_unknown_mode unknown;
    int keep_text, unlabelled;
    const char *path;
    wb_err *e;
    uint32_t *ids;   /* scratch: the label ids of one record */
    size_t ids_cap;
} rctx;

static int on_example(void *ud, const wb_example *ex) {
    rctx *r = ud;
    wb_labelled *l = r->l;
    const wb_model_cfg *c = wb_model_cfg_get(r->b->model);
    wb_task task = c->task;
    size_t nid = 0;
    if (ex->n_labels > r->ids_cap) { /* one slot per label of the record: none is dropped */
        uint32_t *n = realloc(r->ids, ex->n_labels * sizeof *n);
        if (!n) return wb_err_set(r->e, WB_ENOMEM, "out of memory");
        r->ids = n, r->ids_cap = ex->n_labels;
    }
    uint32_t *ids = r->ids;
    size_t nunk = 0;
    for (size_t i = 0; i < ex->n_labels; i++) {
        const char *nm = ex->labels[i].ptr;
        size_t nl = ex->labels[i].len;
        int64_t id = wb_bundle_label(r->b, nm, nl);
        if (id < 0) {
            if (r->unknown == WB_UNKNOWN_ERROR)
                return wb_err_at(r->e, WB_EFORMAT, r->path, ex->line, -1,
                                 "label '%.*s' is not one of the model's %u labels (--unknown-label keep counts it as a "
                                 "true label never predicted, skip drops it)",
                                 (int)(nl > 200 ? 200 : nl), nm, r->b->nlabels);
            nunk++;
            uint32_t j = 0;
            while (j < l->n_unknown && !(l->unknown_len[j] == nl && !memcmp(l->unknown[j], nm, nl))) j++;
            if (j == l->n_unknown) {
                if (j == r->ucap) {
                    size_t cap = r->ucap ? 2 * r->ucap : 16;
                    char **u = realloc(l->unknown, cap * sizeof *u);
                    if (u) l->unknown = u;
                    size_t *ul = u ? realloc(l->unknown_len, cap * sizeof *ul) : NULL;
                    if (!ul) return wb_err_set(r->e, WB_ENOMEM, "out of memory");
                    l->unknown_len = ul, r->ucap = cap;
                }
                if (!(l->unknown[j] = strndup(nm, nl))) return wb_err_set(r->e, WB_ENOMEM, "out of memory");
                l->unknown_len[j] = nl;
                l->n_unknown++;
            }
            if (r->unknown == WB_UNKNOWN_SKIP) continue;
            id = (int64_t)r->b->nlabels + j;
        }
        int dup = 0;
        for (size_t q = 0; q < nid; q++) dup |= ids[q] == (uint32_t)id;
        if (!dup) ids[nid++] = (uint32_t)id;
    }
    if (nunk) l->unknown_labels += nunk, l->unknown_records++;
    int predict = r->unlabelled && ex->n_labels == 0; /* a record to predict: no label */
    if (nid == 0 && !predict) { /* every label was unknown and dropped */
        l->skipped_unknown++;
        return 0;
    }
    if (task != WB_TASK_MULTILABEL && nid != 1 && !predict)
        return wb_err_at(r->e, WB_EFORMAT, r->path, ex->line, -1, "%zu labels on a record of a %s model", nid, wb_task_name(task));
    if (l->n == r->cap) {
        size_t cap = r->cap ? 2 * r->cap : 1024;
        int ok = 1;
        for (size_t k = 0; k < r->b->ninputs && ok; k++) {
            int32_t *X = realloc(l->Xk[k], cap * wb_model_cfg_T(c, k) * sizeof *X);
            if (X) l->Xk[k] = X;
            ok = X != NULL;
        }
        l->X = l->Xk[0];
        if (ok && c->nfeat) {
            double *F = realloc(l->feat, cap * c->nfeat * sizeof *F);
            if (F) l->feat = F;
            ok = F != NULL;
        }
        size_t *lo = ok ? realloc(l->loff, (cap + 1) * sizeof *lo) : NULL;
        if (lo) l->loff = lo;
        long long *ln = lo ? realloc(l->line, cap * sizeof *ln) : NULL;
        if (ln) l->line = ln;
        char **tx = ln && r->keep_text ? realloc(l->text, cap * sizeof *tx) : NULL;
        if (tx) l->text = tx;
        if (!lo || !ln || (r->keep_text && !tx)) return wb_err_set(r->e, WB_ENOMEM, "out of memory");
        r->cap = cap;
        if (l->n == 0) l->loff[0] = 0;
    }
    if (l->loff[l->n] + nid > r->lcap) {
        size_t cap = (r->lcap + nid) * 2;
        uint32_t *li = realloc(l->lids, cap * sizeof *li);
        if (!li) return wb_err_set(r->e, WB_ENOMEM, "out of memory");
        l->lids = li, r->lcap = cap;
    }
    for (size_t i = 1; i < nid; i++) /* sorted, as the dataset keeps them */
        for (size_t q = i; q > 0 && ids[q - 1] > ids[q]; q--) {
            uint32_t t = ids[q];
            ids[q] = ids[q - 1], ids[q - 1] = t;
        }
    memcpy(l->lids + l->loff[l->n], ids, nid * sizeof *ids);
    l->loff[l->n + 1] = l->loff[l->n] + nid;
    int32_t *out[WB_MAX_INPUTS];
    for (size_t k = 0; k < r->b->ninputs; k++) out[k] = l->Xk[k] + l->n * wb_model_cfg_T(c, k);
    int rc = wb_bundle_encode_example(r->b, ex, r->path, out, c->nfeat ? l->feat + l->n * c->nfeat : NULL, r->e);
    if (rc) return rc;
    l->line[l->n] = ex->line;
    if (r->keep_text) {
        l->text[l->n] = strndup(ex->texts[0].ptr, ex->texts[0].len);
        if (!l->text[l->n]) return wb_err_set(r->e, WB_ENOMEM, "out of memory");
    }
    l->n++;
    return 0;
}

int wb_bundle_read(wb_bundle *b, const char *path, const wb_reader_opts *ro, wb_unknown_mode unknown, int keep_text,
                   wb_labelled *out, wb_err *e) {
    memset(out, 0, sizeof *out);
    rctx r = {.b = b, .l = out, .unknown = unknown, .keep_text = keep_text, .path = path, .e = e,
              .unlabelled = ro && ro->unlabelled};
    int rc = wb_reader_read(path, ro ? ro : &b->reader, on_example, &r, NULL, e);
    free(r.ids);
    if (!rc && out->n == 0)
        rc = out->skipped_unknown ? wb_err_at(e, WB_EFORMAT, path, 0, -1, "no examples: all %" PRIu64 " records have only labels the model does not know", out->skipped_unknown)
                                  : wb_err_at(e, WB_EFORMAT, path, 0, -1, "no examples");
    if (rc) wb_labelled_free(out);
    return rc;
}

void wb_labelled_free(wb_labelled *l) {
    if (l->text)
        for (size_t i = 0; i < l->n; i++) free(l->text[i]);
    free(l->text);
    for (size_t k = 0; k < WB_MAX_INPUTS; k++) free(l->Xk[k]);
    free(l->feat);
    free(l->loff);
    free(l->lids);
    free(l->line);
    for (uint32_t i = 0; i < l->n_unknown; i++) free(l->unknown[i]);
    free(l->unknown);
    free(l->unknown_len);
    memset(l, 0, sizeof *l);
}

void wb_labelled_inputs(const wb_bundle *b, const wb_labelled *l, wb_inputs *in) {
    const wb_model_cfg *c = wb_model_cfg_get(b->model);
    memset(in, 0, sizeof *in);
    in->ninputs = b->ninputs;
    for (size_t k = 0; k < b->ninputs; k++) in->X[k] = (wb_ids){.data = l->Xk[k], .n = l->n, .T = wb_model_cfg_T(c, k), .width = 4};
    in->feat = l->feat, in->nfeat = c->nfeat;
}

/* ---- finishing a training run ------------------------------------------------ */

/* 1 when files a and b hold the same vocabularies of text inputs 1.. */
static int same_input_vocabs(const wb_model_file *a, const wb_model_file *b) {
    for (size_t k = 1; k < WB_MAX_INPUTS; k++)
        if (a->input_vocab_len[k] != b->input_vocab_len[k] ||
            (a->input_vocab_len[k] && memcmp(a->input_vocab[k], b->input_vocab[k], a->input_vocab_len[k])))
            return 0;
    return 1;
}

int wb_bundle_finish(wb_model *m, const wb_dataset *ds, const wb_dataset_opts *dso, const wb_train_opts *to,
                     const wb_train_result *res, int tune, float *th, double *f1, wb_err *e) {
    if (th) *th = 0.5f;
    if (f1) *f1 = 0;
    const wb_model_cfg *c = wb_model_cfg_get(m);
    if (tune && c->task == WB_TASK_MULTICLASS)
        return wb_err_set(e, WB_EUSAGE, "a multiclass model predicts its best label: it has no threshold to tune");
    wb_model *nm = NULL;
    wb_model_file f;
    void *blob = NULL;
    uint32_t *val = NULL;
    float *probs = NULL;
    wb_kv s;
    wb_kv_init(&s);
    char *meta = NULL;
    int rc = wb_model_load_ex(&nm, to->out_path, to->batch, to->max_memory, &f, &blob, e);
    /* The file is read back by path, so another process may have replaced
     * it meanwhile (two trainings writing the same -o): only this
     * training's own file is finished, anything else is an error.  Its
     * META starts with this training's (a --resume with nothing left to
     * train finds the file an earlier run already finished). */
    const wb_model_file *own = to->file;
    if (!rc && own &&
        (strncmp(f.meta, own->meta, strlen(own->meta)) || f.vocab_len != own->vocab_len ||
         (f.vocab_len && memcmp(f.vocab, own->vocab, f.vocab_len)) || f.fingerprint != own->fingerprint ||
         !same_input_vocabs(&f, own)))
        rc = wb_err_at(e, WB_ECORRUPT, to->out_path, 0, -1,
                       "is no longer the model this training saved (another process replaced it?)");
    if (!rc && !wb_model_ready(nm)) rc = wb_model_adopt_store(nm, m, e);
    if (rc) goto done;
    const char *base = own ? own->meta : f.meta; /* what an earlier finish added is written anew */
    wb_kv_append(&s, base, strlen(base));
    char v[160];
    for (size_t i = 0; i < res->epochs_run && res->history; i++) {
        const wb_epoch *h = &res->history[i];
        int n = snprintf(v, sizeof v, "%zu,%.9g,%.9g", h->epoch, h->loss, h->acc);
        if (h->has_val) snprintf(v + n, sizeof v - (size_t)n, ",%.9g,%.9g", h->val_loss, h->val_acc);
        wb_kv_puts(&s, "history", v);
    }
    wb_kv_putf(&s, "saved_epoch", "%zu", to->restore_best && res->best_epoch ? res->best_epoch : res->epochs_run);
    uint64_t key;
    wb_err ke;
    if (dso && wb_dataset_key(dso, &key, &ke) == 0) {
        wb_kv_puts(&s, "data", dso->train_path);
        snprintf(v, sizeof v, "%016" PRIx64, key);
        wb_kv_puts(&s, "data_key", v);
    }
    if (tune) {
        size_t nval;
        val = wb_split_indices(ds, WB_DS_VALID, &nval);
        if (!val && nval == 0) val = wb_split_indices(ds, WB_DS_TEST, &nval);
        if (nval == SIZE_MAX) {
            rc = wb_err_set(e, WB_ENOMEM, "out of memory");
            goto done;
        }
        if (!nval) {
            rc = wb_err_set(e, WB_EUSAGE, "tuning the threshold needs validation examples (--valid FILE, or a test split)");
            goto done;
        }
        const size_t *loff;
        const uint32_t *lids;
        wb_dataset_labels(ds, &loff, &lids);
        probs = malloc(nval * c->C * sizeof *probs);
        if (!probs) {
            rc = wb_err_set(e, WB_ENOMEM, "out of memory");
            goto done;
        }
        wb_metrics met;
        float t;
        double best;
        wb_inputs in;
        wb_inputs_of_dataset(&in, ds);
        if ((rc = wb_eval_inputs(nm, &in, loff, lids, val, nval, to->batch, 1, 0.5f, &met, probs, e)) ||
            (rc = wb_threshold_tune(c->task, c->C, probs, loff, lids, val, nval, &t, &best, e)))
            goto done;
        snprintf(v, sizeof v, "%.9g", (double)t);
        wb_kv_puts(&s, "threshold", v);
        snprintf(v, sizeof v, "%.9g", best);
        wb_kv_puts(&s, "threshold_f1", v);
        if (th) *th = t;
        if (f1) *f1 = best;
    }
    if (!(meta = wb_kv_take(&s, NULL))) {
        rc = wb_err_set(e, WB_ENOMEM, "out of memory");
        goto done;
    }
    wb_model_file out = {.meta = meta, .vocab = f.vocab, .vocab_len = f.vocab_len, .fingerprint = f.fingerprint,
                         .embed_vectors = to->file ? to->file->embed_vectors : 0};
    memcpy(out.input_vocab, f.input_vocab, sizeof out.input_vocab);
    memcpy(out.input_vocab_len, f.input_vocab_len, sizeof out.input_vocab_len);
    rc = wb_model_save(nm, to->out_path, &out, e);
done:
    wb_model_destroy(nm);
    wb_kv_free(&s);
    free(blob), free(val), free(probs), free(meta);
    return rc;
}
