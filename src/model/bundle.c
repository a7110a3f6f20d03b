/*
 * bundle.c — a model file with its preprocessing (bundle.h): the META text,
 * loading, the store check, encoding raw text and reading labelled files.
 * Leaves out several text inputs and numeric features.
 */
#include "wordbench/bundle.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/json.h"
#include "wordbench/eval.h"
#include "wordbench/metrics.h"

static const char *const tok_names[] = {"keras", "fasttext", "unicode", "char"};
static const char *const fmt_names[] = {"auto", "tsv", "fasttext", "csv"};

/* ---- escaped "key value" text ------------------------------------------- */

static void sb_kv(wb_sbuf *s, const char *key, const char *v, size_t vl) {
    wb_sb_put(s, key, strlen(key));
    wb_sb_put(s, " ", 1);
    for (size_t i = 0; i < vl; i++) {
        unsigned char ch = (unsigned char)v[i];
        if (ch < 0x21 || ch == '%' || ch == 0x7f) {
            char h[4];
            snprintf(h, sizeof h, "%%%02X", ch);
            wb_sb_put(s, h, 3);
        } else {
            wb_sb_put(s, (const char *)&ch, 1);
        }
    }
    wb_sb_put(s, "\n", 1);
}

static void sb_kvs(wb_sbuf *s, const char *key, const char *v) { sb_kv(s, key, v, strlen(v)); }

static void sb_kvu(wb_sbuf *s, const char *key, unsigned long long v) {
    char b[32];
    snprintf(b, sizeof b, "%llu", v);
    sb_kvs(s, key, b);
}

char *wb_bundle_meta(const wb_dataset_opts *o, const wb_dataset *ds, const char *store_path) {
    wb_sbuf s = {0};
    sb_kvs(&s, "tokenizer", tok_names[o->tok.kind & 3]);
    sb_kvu(&s, "lower", (unsigned)o->tok.lower);
    sb_kvu(&s, "max_doc_chars", o->tok.max_doc_chars);
    sb_kvu(&s, "strip_html", (unsigned)o->tok.strip_html);
    if (o->tok.alphabet) sb_kvs(&s, "alphabet", o->tok.alphabet);
    sb_kvu(&s, "maxlen", o->maxlen);
    sb_kvs(&s, "padding", o->padding == WB_PAD_PRE ? "pre" : "post");
    sb_kvs(&s, "truncating", o->truncating == WB_PAD_PRE ? "pre" : "post");
    sb_kvs(&s, "format", fmt_names[o->reader.format & 3]);
    if (o->reader.label_prefix) sb_kvs(&s, "label_prefix", o->reader.label_prefix);
    if (o->reader.text_cols && o->reader.n_text_cols) sb_kvs(&s, "text_col", o->reader.text_cols[0]);
    if (o->reader.label_col) sb_kvs(&s, "label_col", o->reader.label_col);
    if (o->reader.label_sep) sb_kvs(&s, "label_sep", o->reader.label_sep);
    if (store_path) sb_kvs(&s, "store", store_path);
    for (uint32_t i = 0; i < wb_dataset_nlabels(ds); i++) {
        size_t l;
        const char *nm = wb_dataset_label_name(ds, i, &l);
        sb_kv(&s, "label", nm, l);
    }
    if (s.oom || !s.p) {
        free(s.p);
        return NULL;
    }
    return s.p;
}

/* Unescape %XX in place; returns the new length, or -1 on a bad escape. */
static long unescape(char *v) {
    char *w = v;
    for (char *r = v; *r; r++) {
        if (*r != '%') {
            *w++ = *r;
            continue;
        }
        unsigned x;
        if (!r[1] || !r[2] || sscanf(r + 1, "%2x", &x) != 1) return -1;
        *w++ = (char)x;
        r += 2;
    }
    *w = 0;
    return (long)(w - v);
}

/* ---- load --------------------------------------------------------------- */

void wb_bundle_destroy(wb_bundle *b) {
    if (!b) return;
    wb_model_destroy(b->model);
    wb_vocab_destroy(b->vocab);
    for (uint32_t i = 0; i < b->nlabels; i++) free(b->labels[i]);
    free(b->labels);
    free(b->label_len);
    wb_store_close(b->store);
    free(b->strings);
    free(b->history);
    free(b->path);
    wb_token_list_free(&b->tl);
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
    rc = wb_vocab_load_buf(&b->vocab, f.vocab, f.vocab_len, e);
    if (rc) {
        rc = wb_err_at(e, WB_ECORRUPT, path, 0, -1, "the model's vocabulary is unreadable");
        goto fail;
    }
    const wb_model_cfg *c = wb_model_cfg_get(b->model);
    if (wb_vocab_size(b->vocab) != c->V) {
        rc = wb_err_at(e, WB_ECORRUPT, path, 0, -1, "vocabulary of %zu ids for a model of %zu", wb_vocab_size(b->vocab), c->V);
        goto fail;
    }
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
    for (char *line = b->strings, *next; line && *line; line = next) {
        next = strchr(line, '\n');
        if (next) *next++ = 0;
        char *v = strchr(line, ' ');
        if (!v) {
            bad = 1;
            break;
        }
        *v++ = 0;
        long vl = unescape(v);
        if (vl < 0) {
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
        else if (!strcmp(line, "text_col")) b->text_col = v;
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
            b->labels[b->nlabels] = malloc((size_t)vl + 1);
            if (!b->labels[b->nlabels]) {
                rc = wb_err_set(e, WB_ENOMEM, "out of memory");
                goto fail;
            }
            memcpy(b->labels[b->nlabels], v, (size_t)vl + 1);
            b->label_len[b->nlabels++] = (size_t)vl;
        }
    }
    if (b->text_col) b->reader.text_cols = &b->text_col, b->reader.n_text_cols = 1;
    size_t C = c->task == WB_TASK_BINARY ? 2 : c->C;
    if (bad || b->maxlen != c->T || b->nlabels != C) {
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
    size_t V = wb_vocab_size(b->vocab);
    int64_t *rows = malloc(V * sizeof *rows);
    if (!rows) return wb_err_set(e, WB_ENOMEM, "out of memory");
    rc = wb_vocab_rows(b->vocab, b->store, rows, NULL, e);
    if (!rc) rc = wb_store_prefetch(b->store, V, rows, e); /* read in while the caller reads its input */
    if (!rc) rc = wb_model_attach_store(b->model, b->store, rows, e);
    free(rows);
    return rc;
}

int wb_bundle_encode(wb_bundle *b, const char *text, size_t len, int32_t *out, size_t *n_tokens, wb_err *e) {
    int rc = wb_tokenize(&b->tok, text, len, &b->tl, e);
    if (rc) return rc;
    return wb_vocab_encode(b->vocab, &b->tl, b->maxlen, b->padding, b->truncating, out, NULL, n_tokens);
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
    int keep_text;
    const char *path;
    wb_err *e;
    uint32_t *ids;   /* scratch: the label ids of one record */
    size_t ids_cap;
} rctx;

static int on_example(void *ud, const wb_example *ex) {
    rctx *r = ud;
    wb_labelled *l = r->l;
    wb_task task = wb_model_cfg_get(r->b->model)->task;
    size_t T = r->b->maxlen;
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
    if (nid == 0) { /* every label was unknown and dropped */
        l->skipped_unknown++;
        return 0;
    }
    if (task != WB_TASK_MULTILABEL && nid != 1)
        return wb_err_at(r->e, WB_EFORMAT, r->path, ex->line, -1, "%zu labels on a record of a %s model", nid, wb_task_name(task));
    if (l->n == r->cap) {
        size_t cap = r->cap ? 2 * r->cap : 1024;
        int32_t *X = realloc(l->X, cap * T * sizeof *X);
        if (X) l->X = X;
        size_t *lo = X ? realloc(l->loff, (cap + 1) * sizeof *lo) : NULL;
        if (lo) l->loff = lo;
        long long *ln = lo ? realloc(l->line, cap * sizeof *ln) : NULL;
        if (ln) l->line = ln;
        char **tx = ln && r->keep_text ? realloc(l->text, cap * sizeof *tx) : NULL;
        if (tx) l->text = tx;
        if (!X || !lo || !ln || (r->keep_text && !tx)) return wb_err_set(r->e, WB_ENOMEM, "out of memory");
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
    int rc = wb_bundle_encode(r->b, ex->texts[0].ptr, ex->texts[0].len, l->X + l->n * T, NULL, r->e);
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
    rctx r = {.b = b, .l = out, .unknown = unknown, .keep_text = keep_text, .path = path, .e = e};
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
    free(l->X);
    free(l->loff);
    free(l->lids);
    free(l->line);
    for (uint32_t i = 0; i < l->n_unknown; i++) free(l->unknown[i]);
    free(l->unknown);
    free(l->unknown_len);
    memset(l, 0, sizeof *l);
}

/* ---- finishing a training run ------------------------------------------------ */

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
    wb_sbuf s = {0};
    int rc = wb_model_load_ex(&nm, to->out_path, to->batch, to->max_memory, &f, &blob, e);
    /* The file is read back by path, so another process may have replaced
     * it meanwhile (two trainings writing the same -o): only this
     * training's own file is finished, anything else is an error.  Its
     * META starts with this training's (a --resume with nothing left to
     * train finds the file an earlier run already finished). */
    const wb_model_file *own = to->file;
    if (!rc && own &&
        (strncmp(f.meta, own->meta, strlen(own->meta)) || f.vocab_len != own->vocab_len ||
         (f.vocab_len && memcmp(f.vocab, own->vocab, f.vocab_len)) || f.fingerprint != own->fingerprint))
        rc = wb_err_at(e, WB_ECORRUPT, to->out_path, 0, -1,
                       "is no longer the model this training saved (another process replaced it?)");
    if (!rc && !wb_model_ready(nm)) rc = wb_model_adopt_store(nm, m, e);
    if (rc) goto done;
    const char *base = own ? own->meta : f.meta; /* what an earlier finish added is written anew */
    wb_sb_put(&s, base, strlen(base));
    char v[160];
    for (size_t i = 0; i < res->epochs_run && res->history; i++) {
        const wb_epoch *h = &res->history[i];
        int n = snprintf(v, sizeof v, "%zu,%.9g,%.9g", h->epoch, h->loss, h->acc);
        if (h->has_val) snprintf(v + n, sizeof v - (size_t)n, ",%.9g,%.9g", h->val_loss, h->val_acc);
        sb_kvs(&s, "history", v);
    }
    sb_kvu(&s, "saved_epoch", to->restore_best && res->best_epoch ? res->best_epoch : res->epochs_run);
    uint64_t key;
    wb_err ke;
    if (dso && wb_dataset_key(dso, &key, &ke) == 0) {
        sb_kvs(&s, "data", dso->train_path);
        snprintf(v, sizeof v, "%016" PRIx64, key);
        sb_kvs(&s, "data_key", v);
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
        if ((rc = wb_eval_run(nm, wb_dataset_ids(ds), loff, lids, val, nval, to->batch, 1, 0.5f, &met, probs, e)) ||
            (rc = wb_threshold_tune(c->task, c->C, probs, loff, lids, val, nval, &t, &best, e)))
            goto done;
        snprintf(v, sizeof v, "%.9g", (double)t);
        sb_kvs(&s, "threshold", v);
        snprintf(v, sizeof v, "%.9g", best);
        sb_kvs(&s, "threshold_f1", v);
        if (th) *th = t;
        if (f1) *f1 = best;
    }
    if (s.oom) {
        rc = wb_err_set(e, WB_ENOMEM, "out of memory");
        goto done;
    }
    wb_model_file out = {.meta = s.p, .vocab = f.vocab, .vocab_len = f.vocab_len, .fingerprint = f.fingerprint,
                         .embed_vectors = to->file ? to->file->embed_vectors : 0};
    rc = wb_model_save(nm, to->out_path, &out, e);
done:
    wb_model_destroy(nm);
    free(blob), free(val), free(probs), free(s.p);
    return rc;
}
