/*
 * dataset.c — labelled text files to padded index sequences, label table,
 * task, split and vocabulary, with an XXH3-keyed on-disk cache
 * (see include/wordbench/dataset.h for the contract and the file format).
 *
 * Leaves out: several text fields, k-fold (see header).
 */
#include "wordbench/dataset.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <xxhash.h>

#include "base/fileio.h"
#include "wordbench/split.h"

static const char DS_MAGIC[8] = {'W', 'B', 'D', 'S', 'E', 'T', 0, 0};
#define DS_HEADER 112

struct wb_dataset {
    size_t n;            /* examples */
    size_t maxlen;       /* columns of x */
    int32_t *x;          /* (n, maxlen) */
    size_t *loff;        /* (n+1) label CSR offsets */
    uint32_t *lids;      /* (loff[n]) label ids */
    uint8_t *split;      /* (n) WB_DS_* */
    wb_vocab *vocab;     /* finished vocabulary */
    wb_task task;        /* never AUTO */
    uint32_t nlabels;    /* labels in the table */
    char *lnames;        /* label names back to back, each NUL-terminated */
    size_t *lname_off;   /* (nlabels+1) start of name i in lnames; length = next - this - 1 */
    uint64_t skipped_unknown; /* valid/test records skipped */
    uint32_t *len;       /* (n) tokens of each example before padding/truncating */
    size_t nfeat;        /* numeric features per example */
    double *feat;        /* (n, nfeat) row-major; NULL when nfeat is 0 */
    uint64_t skipped_bad;  /* records the reader skipped (skip_bad), all files */
    uint64_t invalid_utf8; /* invalid UTF-8 sequences the reader replaced, all files */
    wb_reader_format format; /* format of the training file as read */
    uint64_t distinct;   /* distinct training words before min_count / num_words */
};

/* ---- small helpers ----------------------------------------------------- */

/* Make room for `need` elements of `elem` bytes in *p (capacity *cap). */
static int grow(void *pp, size_t *cap, size_t need, size_t elem) {
    void **p = pp;
    if (need <= *cap) return 0;
    size_t nc = *cap ? *cap : 16;
    while (nc < need) {
        if (nc > SIZE_MAX / 2 / elem) return WB_ENOMEM;
        nc *= 2;
    }
    void *q = realloc(*p, nc * elem);
    if (!q) return WB_ENOMEM;
    *p = q;
    *cap = nc;
    return 0;
}

static void put32(unsigned char *p, uint32_t v) {
    for (int i = 0; i < 4; i++) p[i] = (unsigned char)(v >> (8 * i));
}
static void put64(unsigned char *p, uint64_t v) {
    for (int i = 0; i < 8; i++) p[i] = (unsigned char)(v >> (8 * i));
}
static uint32_t get32(const unsigned char *p) {
    uint32_t v = 0;
    for (int i = 0; i < 4; i++) v |= (uint32_t)p[i] << (8 * i);
    return v;
}
static uint64_t get64(const unsigned char *p) {
    uint64_t v = 0;
    for (int i = 0; i < 8; i++) v |= (uint64_t)p[i] << (8 * i);
    return v;
}

/* Byte-wise order of two label names (shorter first on a common prefix). */
static int name_cmp(const char *a, size_t al, const char *b, size_t bl) {
    int c = memcmp(a, b, al < bl ? al : bl);
    if (c) return c;
    return al < bl ? -1 : al > bl;
}

static int u32_cmp(const void *a, const void *b) {
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

/* ---- public small functions -------------------------------------------- */

void wb_dataset_opts_init(wb_dataset_opts *o) {
    memset(o, 0, sizeof *o);
    wb_tokenize_opts_init(&o->tok, WB_TOK_KERAS);
    o->maxlen = 100;
    o->padding = WB_PAD_POST;
    o->truncating = WB_PAD_POST;
    o->split_mode = WB_SPLIT_STRATIFY;
    o->task = WB_TASK_AUTO;
}

const char *wb_task_name(wb_task t) {
    switch (t) {
    case WB_TASK_AUTO: return "auto";
    case WB_TASK_BINARY: return "binary";
    case WB_TASK_MULTICLASS: return "multiclass";
    case WB_TASK_MULTILABEL: return "multilabel";
    }
    return "?";
}

int wb_task_parse(const char *name) {
    if (!name) return -1;
    for (int t = WB_TASK_AUTO; t <= WB_TASK_MULTILABEL; t++)
        if (!strcmp(name, wb_task_name((wb_task)t))) return t;
    return -1;
}

void wb_dataset_destroy(wb_dataset *ds) {
    if (!ds) return;
    free(ds->x);
    free(ds->loff);
    free(ds->lids);
    free(ds->split);
    free(ds->len);
    free(ds->feat);
    wb_vocab_destroy(ds->vocab);
    free(ds->lnames);
    free(ds->lname_off);
    free(ds);
}

size_t wb_dataset_n(const wb_dataset *ds) { return ds->n; }
size_t wb_dataset_maxlen(const wb_dataset *ds) { return ds->maxlen; }
const int32_t *wb_dataset_x(const wb_dataset *ds) { return ds->x; }
const uint8_t *wb_dataset_split(const wb_dataset *ds) { return ds->split; }
const uint32_t *wb_dataset_lengths(const wb_dataset *ds) { return ds->len; }
size_t wb_dataset_vocab_distinct(const wb_dataset *ds) { return (size_t)ds->distinct; }

const double *wb_dataset_features(const wb_dataset *ds, size_t *nfeat) {
    if (nfeat) *nfeat = ds->nfeat;
    return ds->feat;
}
const wb_vocab *wb_dataset_vocab(const wb_dataset *ds) { return ds->vocab; }
wb_task wb_dataset_task(const wb_dataset *ds) { return ds->task; }
uint32_t wb_dataset_nlabels(const wb_dataset *ds) { return ds->nlabels; }

size_t wb_dataset_labels(const wb_dataset *ds, const size_t **offsets, const uint32_t **ids) {
    if (offsets) *offsets = ds->loff;
    if (ids) *ids = ds->lids;
    return ds->loff[ds->n];
}

const char *wb_dataset_label_name(const wb_dataset *ds, uint32_t id, size_t *len) {
    if (!ds || id >= ds->nlabels) return NULL;
    if (len) *len = ds->lname_off[id + 1] - ds->lname_off[id] - 1;
    return ds->lnames + ds->lname_off[id];
}

int64_t wb_dataset_label_find(const wb_dataset *ds, const char *name, size_t len) {
    size_t lo = 0, hi = ds->nlabels;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const char *m = ds->lnames + ds->lname_off[mid];
        size_t ml = ds->lname_off[mid + 1] - ds->lname_off[mid] - 1;
        int c = name_cmp(m, ml, name, len);
        if (c == 0) return (int64_t)mid;
        if (c < 0) lo = mid + 1;
        else hi = mid;
    }
    return -1;
}

/* ---- reading: tokens and labels of every record ------------------------ */

/* Everything read so far.  Token bytes of all documents live in one buffer;
 * toff holds absolute offsets of every token plus a sentinel (ntok+1
 * entries), so document d is the token range [dtok[d], dtok[d+1]). */
typedef struct docs {
    char *tb;            /* token bytes */
    size_t tb_len, tb_cap;
    size_t *toff;        /* (ntok+1) token starts in tb */
    size_t ntok, toff_cap;
    size_t *dtok;        /* (n+1) first token of each document */
    size_t dtok_cap;
    long long *line;     /* (n) line of each record in its file */
    size_t line_cap;
    double *feat;        /* (n, nfeat) numeric features */
    size_t feat_cap;
    size_t nfeat;        /* features per document, set by the first one */
    size_t n;            /* documents */
    /* training file: label names as read (per document: labels [dls[d], dls[d+1])) */
    char *ls;            /* label bytes */
    size_t ls_len, ls_cap;
    size_t *lsoff;       /* (nls+1) label string starts in ls */
    size_t nls, lsoff_cap;
    size_t *dls;         /* (n+1) first label string of each document */
    size_t dls_cap;
    /* label ids (valid after the training file): CSR */
    size_t *loff;        /* (n+1) */
    size_t loff_cap;
    uint32_t *lids;
    size_t nlids, lids_cap;
} docs;

static void docs_free(docs *d) {
    free(d->tb);
    free(d->toff);
    free(d->dtok);
    free(d->line);
    free(d->feat);
    free(d->ls);
    free(d->lsoff);
    free(d->dls);
    free(d->loff);
    free(d->lids);
}

/* Read context shared by the callbacks. */
typedef struct rctx {
    docs *d;
    wb_token_list tl;
    const wb_dataset_opts *o;
    const char *path;     /* file being read */
    int phase;            /* 0 training file (label names), 1 valid/test (label ids) */
    wb_dataset *ds;       /* phase 1: the label table */
    wb_task task;         /* phase 1: the task */
    uint32_t *tmp;        /* phase 1: scratch label ids */
    size_t tmp_cap;
    uint64_t skipped;     /* phase 1: records skipped for unknown labels */
    wb_err *err;
} rctx;

/* Append the tokens of ex->texts[0] as a new document (line and features
 * recorded). */
static int add_tokens(rctx *c, const wb_example *ex) {
    docs *d = c->d;
    if (d->n == 0) d->nfeat = ex->n_features;
    if (ex->n_features != d->nfeat)
        return wb_err_at(c->err, WB_EFORMAT, c->path, ex->line, -1,
                         "%zu numeric features here but %zu in the first record of %s "
                         "(are all files in the same format?)",
                         ex->n_features, d->nfeat, c->o->train_path);
    int rc = wb_tokenize(&c->o->tok, ex->texts[0].ptr, ex->texts[0].len, &c->tl, c->err);
    if (rc) return rc;
    const wb_token_list *t = &c->tl;
    size_t bytes = t->n ? t->off[t->n] - t->off[0] : 0;
    if (grow(&d->tb, &d->tb_cap, d->tb_len + bytes + 1, 1) ||
        grow(&d->toff, &d->toff_cap, d->ntok + t->n + 1, sizeof *d->toff) ||
        grow(&d->dtok, &d->dtok_cap, d->n + 2, sizeof *d->dtok) ||
        grow(&d->line, &d->line_cap, d->n + 1, sizeof *d->line) ||
        grow(&d->feat, &d->feat_cap, (d->n + 1) * ex->n_features + 1, sizeof *d->feat))
        return wb_err_set(c->err, WB_ENOMEM, "out of memory holding %zu documents", d->n);
    if (ex->n_features)
        memcpy(d->feat + d->n * ex->n_features, ex->features, ex->n_features * sizeof *d->feat);
    if (d->n == 0) {
        d->dtok[0] = 0;
        d->toff[0] = 0;
    }
    if (bytes) memcpy(d->tb + d->tb_len, t->buf + t->off[0], bytes);
    for (size_t i = 0; i < t->n; i++) d->toff[d->ntok + i] = d->tb_len + (t->off[i] - t->off[0]);
    d->ntok += t->n;
    d->tb_len += bytes;
    d->toff[d->ntok] = d->tb_len;
    d->dtok[d->n + 1] = d->ntok;
    d->line[d->n] = ex->line;
    return 0;
}

/* Training file: keep the label names, the tokens. */
static int on_train(void *ud, const wb_example *ex) {
    rctx *c = ud;
    docs *d = c->d;
    if (grow(&d->dls, &d->dls_cap, d->n + 2, sizeof *d->dls) ||
        grow(&d->lsoff, &d->lsoff_cap, d->nls + ex->n_labels + 1, sizeof *d->lsoff))
        return wb_err_set(c->err, WB_ENOMEM, "out of memory holding labels");
    if (d->n == 0) {
        d->dls[0] = 0;
        d->lsoff[0] = 0;
    }
    for (size_t i = 0; i < ex->n_labels; i++) {
        if (grow(&d->ls, &d->ls_cap, d->ls_len + ex->labels[i].len + 1, 1))
            return wb_err_set(c->err, WB_ENOMEM, "out of memory holding labels");
        memcpy(d->ls + d->ls_len, ex->labels[i].ptr, ex->labels[i].len);
        d->ls_len += ex->labels[i].len;
        d->lsoff[++d->nls] = d->ls_len;
    }
    int rc = add_tokens(c, ex);
    if (rc) return rc;
    d->dls[d->n + 1] = d->nls;
    d->n++;
    return 0;
}

/* Append sorted distinct ids ids[0..k) as document n's label set. */
static int push_ids(docs *d, size_t doc, const uint32_t *ids, size_t k) {
    if (grow(&d->loff, &d->loff_cap, doc + 2, sizeof *d->loff) ||
        grow(&d->lids, &d->lids_cap, d->nlids + k + 1, sizeof *d->lids))
        return WB_ENOMEM;
    if (doc == 0) d->loff[0] = 0;
    memcpy(d->lids + d->nlids, ids, k * sizeof *ids);
    d->nlids += k;
    d->loff[doc + 1] = d->nlids;
    return 0;
}

/* Sort and dedupe k ids in place; returns the distinct count. */
static size_t uniq_ids(uint32_t *ids, size_t k) {
    if (k < 2) return k;
    qsort(ids, k, sizeof *ids, u32_cmp);
    size_t m = 1;
    for (size_t i = 1; i < k; i++)
        if (ids[i] != ids[m - 1]) ids[m++] = ids[i];
    return m;
}

/* Valid/test files: labels mapped through the table at once. */
static int on_other(void *ud, const wb_example *ex) {
    rctx *c = ud;
    if (grow(&c->tmp, &c->tmp_cap, ex->n_labels, sizeof *c->tmp))
        return wb_err_set(c->err, WB_ENOMEM, "out of memory");
    for (size_t i = 0; i < ex->n_labels; i++) {
        int64_t id = wb_dataset_label_find(c->ds, ex->labels[i].ptr, ex->labels[i].len);
        if (id < 0) {
            if (c->o->unknown_skip) {
                c->skipped++;
                return 0;
            }
            return wb_err_at(c->err, WB_EFORMAT, c->path, ex->line, -1,
                             "label \"%.*s\" never appears in the training file %s "
                             "(fix the label, or skip such records with the unknown-label skip option)",
                             (int)(ex->labels[i].len > 200 ? 200 : ex->labels[i].len),
                             ex->labels[i].ptr, c->o->train_path);
        }
        c->tmp[i] = (uint32_t)id;
    }
    size_t k = uniq_ids(c->tmp, ex->n_labels);
    if (c->task != WB_TASK_MULTILABEL && k != 1)
        return wb_err_at(c->err, WB_EFORMAT, c->path, ex->line, -1,
                         "%zu labels in one record, but the task is %s (use multilabel)", k,
                         wb_task_name(c->task));
    int rc = add_tokens(c, ex);
    if (rc) return rc;
    if (push_ids(c->d, c->d->n, c->tmp, k)) return wb_err_set(c->err, WB_ENOMEM, "out of memory");
    c->d->n++;
    return 0;
}

/* ---- label table and task ---------------------------------------------- */

typedef struct lref {
    const char *p;
    size_t len;
} lref;

static int lref_cmp(const void *a, const void *b) {
    const lref *x = a, *y = b;
    return name_cmp(x->p, x->len, y->p, y->len);
}

/* Build ds's label table from d's label names, then d's CSR ids. */
static int build_labels(wb_dataset *ds, docs *d, wb_err *err) {
    size_t m = d->nls;
    lref *r = malloc((m ? m : 1) * sizeof *r);
    if (!r) return wb_err_set(err, WB_ENOMEM, "out of memory sorting labels");
    for (size_t i = 0; i < m; i++) r[i] = (lref){d->ls + d->lsoff[i], d->lsoff[i + 1] - d->lsoff[i]};
    qsort(r, m, sizeof *r, lref_cmp);
    size_t u = 0, bytes = 0;
    for (size_t i = 0; i < m; i++)
        if (u == 0 || lref_cmp(&r[u - 1], &r[i])) {
            r[u++] = r[i];
            bytes += r[i].len + 1;
        }
    if (u > UINT32_MAX) {
        free(r);
        return wb_err_set(err, WB_EUSAGE, "more than 4 billion labels");
    }
    ds->lnames = malloc(bytes ? bytes : 1);
    ds->lname_off = malloc((u + 1) * sizeof *ds->lname_off);
    if (!ds->lnames || !ds->lname_off) {
        free(r);
        return wb_err_set(err, WB_ENOMEM, "out of memory for the label table");
    }
    size_t at = 0;
    for (size_t i = 0; i < u; i++) {
        ds->lname_off[i] = at;
        memcpy(ds->lnames + at, r[i].p, r[i].len);
        at += r[i].len;
        ds->lnames[at++] = 0;
    }
    ds->lname_off[u] = at;
    ds->nlabels = (uint32_t)u;
    free(r);

    uint32_t *tmp = NULL;
    size_t tcap = 0;
    for (size_t doc = 0; doc < d->n; doc++) {
        size_t k = d->dls[doc + 1] - d->dls[doc];
        if (grow(&tmp, &tcap, k ? k : 1, sizeof *tmp)) goto oom;
        for (size_t j = 0; j < k; j++) {
            size_t s = d->dls[doc] + j;
            tmp[j] = (uint32_t)wb_dataset_label_find(ds, d->ls + d->lsoff[s],
                                                    d->lsoff[s + 1] - d->lsoff[s]);
        }
        k = uniq_ids(tmp, k);
        if (push_ids(d, doc, tmp, k)) goto oom;
    }
    free(tmp);
    return 0;
oom:
    free(tmp);
    return wb_err_set(err, WB_ENOMEM, "out of memory mapping labels");
}

/* Decide or check the task over the first n documents (the training file). */
static int decide_task(wb_dataset *ds, const docs *d, size_t n, wb_task want, const char *path,
                       wb_err *err) {
    size_t multi_at = SIZE_MAX;
    for (size_t i = 0; i < n && multi_at == SIZE_MAX; i++)
        if (d->loff[i + 1] - d->loff[i] != 1) multi_at = i;
    if (want == WB_TASK_AUTO) {
        ds->task = multi_at != SIZE_MAX ? WB_TASK_MULTILABEL
                   : ds->nlabels == 2   ? WB_TASK_BINARY
                                        : WB_TASK_MULTICLASS;
        return 0;
    }
    ds->task = want;
    if (want == WB_TASK_MULTILABEL) return 0;
    if (multi_at != SIZE_MAX)
        return wb_err_at(err, WB_EFORMAT, path, d->line[multi_at], -1,
                         "%zu labels in one record, but the task is %s (use multilabel)",
                         d->loff[multi_at + 1] - d->loff[multi_at], wb_task_name(want));
    if (want == WB_TASK_BINARY && ds->nlabels > 2) {
        uint32_t seen[2];
        int ns = 0;
        for (size_t i = 0; i < n; i++) {
            uint32_t id = d->lids[d->loff[i]];
            if ((ns > 0 && seen[0] == id) || (ns > 1 && seen[1] == id)) continue;
            if (ns < 2) {
                seen[ns++] = id;
                continue;
            }
            size_t l0, l1, l2;
            const char *a = wb_dataset_label_name(ds, seen[0], &l0);
            const char *b = wb_dataset_label_name(ds, seen[1], &l1);
            const char *c = wb_dataset_label_name(ds, id, &l2);
            return wb_err_at(err, WB_EFORMAT, path, d->line[i], -1,
                             "third label \"%.*s\" (after \"%.*s\" and \"%.*s\") but the task is "
                             "binary (use multiclass)",
                             (int)(l2 > 200 ? 200 : l2), c, (int)(l0 > 200 ? 200 : l0), a,
                             (int)(l1 > 200 ? 200 : l1), b);
        }
    }
    return 0;
}

/* ---- cache key --------------------------------------------------------- */

static void h_u64(XXH3_state_t *st, uint64_t v) {
    unsigned char b[8];
    put64(b, v);
    XXH3_64bits_update(st, b, 8);
}

static void h_str(XXH3_state_t *st, const char *s) {
    if (!s) {
        h_u64(st, UINT64_MAX);
        return;
    }
    size_t n = strlen(s);
    h_u64(st, n);
    XXH3_64bits_update(st, s, n);
}

static int h_file(XXH3_state_t *st, const char *path, wb_err *err) {
    h_str(st, path);
    if (!path) return 0;
    FILE *f = fopen(path, "rb");
    if (!f) return wb_err_at(err, errno, path, 0, -1, "cannot open: %s", strerror(errno));
    static const size_t CH = 1 << 16;
    unsigned char *buf = malloc(CH);
    if (!buf) {
        fclose(f);
        return wb_err_set(err, WB_ENOMEM, "out of memory");
    }
    uint64_t total = 0;
    size_t got;
    while ((got = fread(buf, 1, CH, f)) > 0) {
        XXH3_64bits_update(st, buf, got);
        total += got;
    }
    int bad = ferror(f);
    free(buf);
    fclose(f);
    if (bad) return wb_err_at(err, EIO, path, 0, -1, "read error while hashing");
    h_u64(st, total);
    return 0;
}

static int cache_key(const wb_dataset_opts *o, uint64_t *key, wb_err *err) {
    XXH3_state_t *st = XXH3_createState();
    if (!st) return wb_err_set(err, WB_ENOMEM, "out of memory");
    XXH3_64bits_reset(st);
    h_str(st, "wordbench dataset cache v1, reader 2"); /* reader 2: CR in fields read as LF */
    int rc = h_file(st, o->train_path, err);
    if (!rc) rc = h_file(st, o->valid_path, err);
    if (!rc) rc = h_file(st, o->test_path, err);
    if (rc) {
        XXH3_freeState(st);
        return rc;
    }
    const wb_reader_opts *r = &o->reader;
    h_u64(st, (uint64_t)r->format);
    h_u64(st, (uint64_t)(int64_t)r->tsv_header);
    h_str(st, r->label_prefix);
    h_u64(st, r->text_cols ? r->n_text_cols : UINT64_MAX);
    for (size_t i = 0; r->text_cols && i < r->n_text_cols; i++) h_str(st, r->text_cols[i]);
    h_str(st, r->label_col);
    h_str(st, r->label_sep);
    h_u64(st, r->feature_cols ? r->n_feature_cols : UINT64_MAX);
    for (size_t i = 0; r->feature_cols && i < r->n_feature_cols; i++) h_str(st, r->feature_cols[i]);
    h_u64(st, (uint64_t)(int64_t)r->skip_bad);
    const wb_tokenize_opts *t = &o->tok;
    h_u64(st, (uint64_t)t->kind);
    h_u64(st, (uint64_t)(int64_t)t->lower);
    h_u64(st, t->max_doc_chars);
    h_u64(st, (uint64_t)(int64_t)t->strip_html);
    h_str(st, t->kind == WB_TOK_CHAR ? t->alphabet : NULL);
    h_u64(st, o->num_words);
    h_u64(st, o->min_count);
    h_u64(st, o->maxlen);
    h_u64(st, (uint64_t)o->padding);
    h_u64(st, (uint64_t)o->truncating);
    uint64_t fb;
    memcpy(&fb, &o->test_fraction, 8);
    h_u64(st, o->test_fraction == 0 ? 0 : fb);
    h_u64(st, o->seed);
    h_u64(st, (uint64_t)(int64_t)o->split_mode);
    h_u64(st, (uint64_t)o->task);
    h_u64(st, (uint64_t)(int64_t)o->unknown_skip);
    *key = XXH3_64bits_digest(st);
    XXH3_freeState(st);
    return 0;
}

int wb_dataset_key(const wb_dataset_opts *o, uint64_t *key, wb_err *err) {
    *key = 0;
    if (!o->train_path || !strcmp(o->train_path, "-") || (o->valid_path && !strcmp(o->valid_path, "-")) ||
        (o->test_path && !strcmp(o->test_path, "-")))
        return wb_err_set(err, WB_EUSAGE, "a data set read from stdin has no key");
    return cache_key(o, key, err);
}

static char *cache_path(const char *dir, uint64_t key) {
    size_t n = strlen(dir) + 32;
    char *p = malloc(n);
    if (p) snprintf(p, n, "%s/%016llx.wbds", dir, (unsigned long long)key);
    return p;
}

/* ---- cache write ------------------------------------------------------- */

static int cache_write(const wb_dataset *ds, const char *dir, uint64_t key) {
    void *vb = NULL;
    size_t vlen = 0;
    int rc = wb_vocab_save_buf(ds->vocab, &vb, &vlen, NULL);
    if (rc) return rc;
    size_t n = ds->n, nnz = ds->loff[n];
    size_t names = 0;
    for (uint32_t i = 0; i < ds->nlabels; i++)
        names += 4 + (ds->lname_off[i + 1] - ds->lname_off[i] - 1);
    size_t total = DS_HEADER + names + vlen + n * ds->maxlen * 4 + (n + 1) * 8 + nnz * 4 + n +
                   n * 4 + n * ds->nfeat * 8 + 8;
    unsigned char *b = malloc(total);
    if (!b) {
        free(vb);
        return WB_ENOMEM;
    }
    memcpy(b, DS_MAGIC, 8);
    put32(b + 8, WB_DATASET_VERSION);
    put32(b + 12, 0);
    put64(b + 16, key);
    put64(b + 24, n);
    put64(b + 32, ds->maxlen);
    put32(b + 40, (uint32_t)ds->task);
    put32(b + 44, ds->nlabels);
    put64(b + 48, nnz);
    put64(b + 56, ds->skipped_unknown);
    put64(b + 64, vlen);
    put64(b + 72, ds->nfeat);
    put64(b + 80, ds->skipped_bad);
    put64(b + 88, ds->invalid_utf8);
    put32(b + 96, (uint32_t)ds->format);
    put32(b + 100, 0);
    put64(b + 104, ds->distinct);
    unsigned char *p = b + DS_HEADER;
    for (uint32_t i = 0; i < ds->nlabels; i++) {
        size_t l = ds->lname_off[i + 1] - ds->lname_off[i] - 1;
        put32(p, (uint32_t)l);
        memcpy(p + 4, ds->lnames + ds->lname_off[i], l);
        p += 4 + l;
    }
    memcpy(p, vb, vlen);
    p += vlen;
    free(vb);
    for (size_t i = 0; i < n * ds->maxlen; i++, p += 4) put32(p, (uint32_t)ds->x[i]);
    for (size_t i = 0; i <= n; i++, p += 8) put64(p, ds->loff[i]);
    for (size_t i = 0; i < nnz; i++, p += 4) put32(p, ds->lids[i]);
    memcpy(p, ds->split, n);
    p += n;
    for (size_t i = 0; i < n; i++, p += 4) put32(p, ds->len[i]);
    for (size_t i = 0; i < n * ds->nfeat; i++, p += 8) {
        uint64_t bits;
        memcpy(&bits, &ds->feat[i], 8);
        put64(p, bits);
    }
    /* The trailing XXH3-64 of every preceding byte is appended by the
     * atomic writer (fileio.h): temporary file, fsync, rename. */
    char *final = cache_path(dir, key);
    if (!final) {
        free(b);
        return WB_ENOMEM;
    }
    wb_awriter w;
    rc = wb_aw_open(&w, final);
    if (!rc) {
        wb_aw_write(&w, b, total - 8);
        rc = wb_aw_commit(&w);
    }
    free(final);
    free(b);
    return rc;
}

/* ---- cache read -------------------------------------------------------- */

/* Parse and check a cache image; 0 and *out on success, -1 when invalid. */
static int cache_parse(const unsigned char *b, size_t len, uint64_t key, size_t maxlen,
                       wb_dataset **out) {
    if (len < DS_HEADER + 8) return -1;
    if (get64(b + len - 8) != XXH3_64bits(b, len - 8)) return -1;
    if (memcmp(b, DS_MAGIC, 8) || get32(b + 8) != WB_DATASET_VERSION || get64(b + 16) != key)
        return -1;
    uint64_t n = get64(b + 24), ml = get64(b + 32), nnz = get64(b + 48), vlen = get64(b + 64);
    uint64_t nfeat = get64(b + 72);
    uint32_t task = get32(b + 40), nl = get32(b + 44), fmt = get32(b + 96);
    if (ml != maxlen || task < WB_TASK_BINARY || task > WB_TASK_MULTILABEL) return -1;
    if (fmt > WB_READER_CSV || get32(b + 100) != 0 || get32(b + 12) != 0) return -1;
    size_t avail = len - 8 - DS_HEADER;
    /* every size is bounded by the file length before any multiplication */
    if (n > avail || nnz > avail / 4 || vlen > avail || nl > avail / 4) return -1;
    if (ml && n > avail / ml / 4) return -1;
    if (nfeat > avail / 8 || (nfeat && n > avail / nfeat / 8)) return -1;
    const unsigned char *p = b + DS_HEADER, *end = b + len - 8;
    wb_dataset *ds = calloc(1, sizeof *ds);
    if (!ds) return -1;
    ds->n = n;
    ds->maxlen = ml;
    ds->task = (wb_task)task;
    ds->nlabels = nl;
    ds->skipped_unknown = get64(b + 56);
    ds->nfeat = (size_t)nfeat;
    ds->skipped_bad = get64(b + 80);
    ds->invalid_utf8 = get64(b + 88);
    ds->format = (wb_reader_format)fmt;
    ds->distinct = get64(b + 104);
    /* label names */
    size_t bytes = 0;
    const unsigned char *q = p;
    for (uint32_t i = 0; i < nl; i++) {
        if ((size_t)(end - q) < 4) goto bad;
        size_t l = get32(q);
        if ((size_t)(end - q) - 4 < l) goto bad;
        q += 4 + l;
        bytes += l + 1;
    }
    ds->lnames = malloc(bytes ? bytes : 1);
    ds->lname_off = malloc(((size_t)nl + 1) * sizeof *ds->lname_off);
    if (!ds->lnames || !ds->lname_off) goto bad;
    size_t at = 0;
    for (uint32_t i = 0; i < nl; i++) {
        size_t l = get32(p);
        ds->lname_off[i] = at;
        memcpy(ds->lnames + at, p + 4, l);
        at += l;
        ds->lnames[at++] = 0;
        p += 4 + l;
        if (i > 0 && name_cmp(ds->lnames + ds->lname_off[i - 1],
                              ds->lname_off[i] - ds->lname_off[i - 1] - 1,
                              ds->lnames + ds->lname_off[i], l) >= 0)
            goto bad;
    }
    ds->lname_off[nl] = at;
    /* remaining fixed-size sections */
    size_t need = (size_t)vlen + (size_t)n * ml * 4 + ((size_t)n + 1) * 8 + (size_t)nnz * 4 + (size_t)n +
                  (size_t)n * 4 + (size_t)n * (size_t)nfeat * 8;
    if ((size_t)(end - p) != need) goto bad;
    if (wb_vocab_load_buf(&ds->vocab, p, (size_t)vlen, NULL)) goto bad;
    p += vlen;
    size_t vsize = wb_vocab_size(ds->vocab);
    if (ds->distinct < vsize - 2) goto bad;
    ds->x = malloc((n ? n * ml : 1) * sizeof *ds->x);
    ds->loff = malloc(((size_t)n + 1) * sizeof *ds->loff);
    ds->lids = malloc((nnz ? nnz : 1) * sizeof *ds->lids);
    ds->split = malloc(n ? n : 1);
    ds->len = malloc((n ? n : 1) * sizeof *ds->len);
    if (nfeat) ds->feat = malloc((size_t)n * (size_t)nfeat * sizeof *ds->feat);
    if (!ds->x || !ds->loff || !ds->lids || !ds->split || !ds->len || (nfeat && !ds->feat)) goto bad;
    for (size_t i = 0; i < n * ml; i++, p += 4) {
        uint32_t v = get32(p);
        if (v >= vsize) goto bad;
        ds->x[i] = (int32_t)v;
    }
    for (size_t i = 0; i <= n; i++, p += 8) {
        ds->loff[i] = get64(p);
        if ((i == 0 && ds->loff[0]) || (i > 0 && ds->loff[i] < ds->loff[i - 1])) goto bad;
    }
    if (ds->loff[n] != nnz) goto bad;
    for (size_t i = 0; i < nnz; i++, p += 4) {
        ds->lids[i] = get32(p);
        if (ds->lids[i] >= nl) goto bad;
    }
    for (size_t i = 0; i < n; i++) {
        if (ds->task != WB_TASK_MULTILABEL && ds->loff[i + 1] - ds->loff[i] != 1) goto bad;
        for (size_t j = ds->loff[i] + 1; j < ds->loff[i + 1]; j++)
            if (ds->lids[j] <= ds->lids[j - 1]) goto bad;
    }
    memcpy(ds->split, p, n);
    p += n;
    for (size_t i = 0; i < n; i++)
        if (ds->split[i] > WB_DS_VALID) goto bad;
    /* lengths: a row holds min(length, maxlen) non-zero ids (tokens are never 0) */
    for (size_t i = 0; i < n; i++, p += 4) {
        ds->len[i] = get32(p);
        size_t nz = 0;
        for (size_t j = 0; j < ml; j++) nz += ds->x[i * ml + j] != 0;
        if (nz != (ds->len[i] < ml ? ds->len[i] : ml)) goto bad;
    }
    for (size_t i = 0; i < n * nfeat; i++, p += 8) {
        uint64_t bits = get64(p);
        memcpy(&ds->feat[i], &bits, 8);
        if (ds->feat[i] != ds->feat[i] || ds->feat[i] - ds->feat[i] != 0) goto bad; /* finite only */
    }
    *out = ds;
    return 0;
bad:
    wb_dataset_destroy(ds);
    return -1;
}

/* ---- build ------------------------------------------------------------- */

static void fill_counts(const wb_dataset *ds, wb_dataset_stats *st) {
    st->skipped_unknown = ds->skipped_unknown;
    st->skipped_bad = ds->skipped_bad;
    st->invalid_utf8 = ds->invalid_utf8;
    st->format = ds->format;
    st->n_train = st->n_valid = st->n_test = 0;
    for (size_t i = 0; i < ds->n; i++) {
        if (ds->split[i] == WB_DS_TRAIN) st->n_train++;
        else if (ds->split[i] == WB_DS_TEST) st->n_test++;
        else st->n_valid++;
    }
}

/* A token list viewing document `doc` inside d (no copy). */
static wb_token_list doc_view(const docs *d, size_t doc) {
    wb_token_list t;
    wb_token_list_init(&t);
    t.buf = d->tb;
    t.off = d->toff + d->dtok[doc];
    t.n = d->dtok[doc + 1] - d->dtok[doc];
    return t;
}

static int build_fresh(wb_dataset *ds, const wb_dataset_opts *o, wb_err *err) {
    docs d;
    memset(&d, 0, sizeof d);
    rctx c;
    memset(&c, 0, sizeof c);
    c.d = &d;
    c.o = o;
    c.err = err;
    c.path = o->train_path;
    wb_token_list_init(&c.tl);
    wb_read_stats rs;
    int rc = wb_reader_read(o->train_path, &o->reader, on_train, &c, &rs, err);
    if (rc) goto done;
    ds->format = rs.format;
    ds->skipped_bad = rs.skipped;
    ds->invalid_utf8 = rs.invalid_utf8;
    size_t ntrain = d.n;
    if (ntrain == 0) {
        rc = wb_err_at(err, WB_EFORMAT, o->train_path, 0, -1, "no records in the training file");
        goto done;
    }
    if ((rc = build_labels(ds, &d, err))) goto done;
    if ((rc = decide_task(ds, &d, ntrain, o->task, o->train_path, err))) goto done;

    c.phase = 1;
    c.ds = ds;
    c.task = ds->task;
    const char *others[2] = {o->valid_path, o->test_path};
    size_t ends[2];
    for (int k = 0; k < 2; k++) {
        if (others[k]) {
            c.path = others[k];
            rc = wb_reader_read(others[k], &o->reader, on_other, &c, &rs, err);
            if (rc) goto done;
            ds->skipped_bad += rs.skipped;
            ds->invalid_utf8 += rs.invalid_utf8;
        }
        ends[k] = d.n;
    }
    ds->skipped_unknown = c.skipped;

    size_t n = d.n;
    ds->n = n;
    ds->maxlen = o->maxlen;
    ds->split = calloc(n, 1);
    ds->x = malloc(n * o->maxlen * sizeof *ds->x);
    ds->len = malloc(n * sizeof *ds->len);
    if (!ds->split || !ds->x || !ds->len) {
        rc = wb_err_set(err, WB_ENOMEM, "out of memory for %zu x %zu ids", n, o->maxlen);
        goto done;
    }
    if (o->test_fraction > 0) {
        wb_split_labels lb = {d.loff, d.lids, ds->nlabels};
        if ((rc = wb_split_train_test(ntrain, &lb, o->test_fraction, o->seed, o->split_mode,
                                      ds->split, err)))
            goto done;
    }
    for (size_t i = ntrain; i < ends[0]; i++) ds->split[i] = WB_DS_VALID;
    for (size_t i = ends[0]; i < ends[1]; i++) ds->split[i] = WB_DS_TEST;

    if ((rc = wb_vocab_create(&ds->vocab, err))) goto done;
    for (size_t i = 0; i < n; i++) {
        if (ds->split[i] != WB_DS_TRAIN) continue;
        wb_token_list t = doc_view(&d, i);
        if ((rc = wb_vocab_add(ds->vocab, &t, err))) goto done;
    }
    ds->distinct = wb_vocab_distinct(ds->vocab);
    if ((rc = wb_vocab_finish(ds->vocab, o->num_words, o->min_count, err))) goto done;
    for (size_t i = 0; i < n; i++) {
        size_t k = d.dtok[i + 1] - d.dtok[i];
        ds->len[i] = k > UINT32_MAX ? UINT32_MAX : (uint32_t)k;
        wb_token_list t = doc_view(&d, i);
        if ((rc = wb_vocab_encode(ds->vocab, &t, o->maxlen, o->padding, o->truncating,
                                  ds->x + i * o->maxlen, NULL, NULL))) {
            rc = wb_err_set(err, rc, "encoding example %zu failed", i);
            goto done;
        }
    }
    ds->loff = d.loff;
    ds->lids = d.lids;
    d.loff = NULL;
    d.lids = NULL;
    ds->nfeat = d.nfeat;
    if (d.nfeat) {
        ds->feat = d.feat;
        d.feat = NULL;
    }
done:
    wb_token_list_free(&c.tl);
    free(c.tmp);
    docs_free(&d);
    return rc;
}

int wb_dataset_build(wb_dataset **out, const wb_dataset_opts *o, wb_dataset_stats *stats,
                     wb_err *err) {
    wb_dataset_stats st;
    memset(&st, 0, sizeof st);
    int rc = 0;
    if (out) *out = NULL;
    if (!out || !o || !o->train_path) {
        rc = wb_err_set(err, WB_EUSAGE, "wb_dataset_build: NULL argument or no training file");
        goto end;
    }
    if (o->maxlen == 0) {
        rc = wb_err_set(err, WB_EUSAGE, "maxlen must be at least 1");
        goto end;
    }
    if (o->padding != WB_PAD_PRE && o->padding != WB_PAD_POST) {
        rc = wb_err_set(err, WB_EUSAGE, "padding must be pre or post");
        goto end;
    }
    if (o->truncating != WB_PAD_PRE && o->truncating != WB_PAD_POST) {
        rc = wb_err_set(err, WB_EUSAGE, "truncating must be pre or post");
        goto end;
    }
    if (!(o->test_fraction >= 0 && o->test_fraction < 1)) {
        rc = wb_err_set(err, WB_EUSAGE, "test fraction %g is outside [0, 1)", o->test_fraction);
        goto end;
    }
    if (o->test_fraction > 0 && o->test_path) {
        rc = wb_err_set(err, WB_EUSAGE, "give either a test fraction or a test file, not both");
        goto end;
    }
    if ((int)o->task < WB_TASK_AUTO || o->task > WB_TASK_MULTILABEL) {
        rc = wb_err_set(err, WB_EUSAGE, "unknown task %d", (int)o->task);
        goto end;
    }
    if (o->split_mode < WB_SPLIT_RANDOM || o->split_mode > WB_SPLIT_ITERATIVE) {
        rc = wb_err_set(err, WB_EUSAGE, "unknown split mode %d", o->split_mode);
        goto end;
    }
    int use_cache = o->cache_dir && strcmp(o->train_path, "-") &&
                    !(o->valid_path && !strcmp(o->valid_path, "-")) &&
                    !(o->test_path && !strcmp(o->test_path, "-"));
    if (use_cache) {
        if ((rc = cache_key(o, &st.key, err))) goto end;
        char *path = cache_path(o->cache_dir, st.key);
        if (!path) {
            rc = wb_err_set(err, WB_ENOMEM, "out of memory");
            goto end;
        }
        size_t len = 0;
        unsigned char *b = NULL;
        wb_read_file(path, &b, &len); /* missing or unreadable: no cache */
        free(path);
        if (b) {
            wb_dataset *ds = NULL;
            if (cache_parse(b, len, st.key, o->maxlen, &ds) == 0) {
                free(b);
                st.cache_hit = 1;
                fill_counts(ds, &st);
                *out = ds;
                goto end;
            }
            free(b);
            st.cache_rejected = 1;
        }
    }
    wb_dataset *ds = calloc(1, sizeof *ds);
    if (!ds) {
        rc = wb_err_set(err, WB_ENOMEM, "out of memory");
        goto end;
    }
    if ((rc = build_fresh(ds, o, err))) {
        wb_dataset_destroy(ds);
        goto end;
    }
    fill_counts(ds, &st);
    if (use_cache) {
        st.cache_write_error = cache_write(ds, o->cache_dir, st.key);
        st.cache_written = st.cache_write_error == 0;
    }
    *out = ds;
end:
    if (stats) *stats = st;
    return rc;
}
