/*
 * dataset.c — labelled text files to a data set that is a directory of
 * mapped files (include/wordbench/dataset.h is the contract,
 * docs/dataset-format.md the file format): the streamed build, the API's
 * accessors, wb_dataset_build (cache hit, lock, build, publish).  The files
 * themselves are dataset_file.c's, the cache directory dataset_cache.c's.
 *
 * The build reads every record once.  Tokens get provisional ids (an
 * unfinished vocabulary per input, vocab.h) and go to the files at once:
 * padded rows of provisional ids to a temporary matrix, token counts, label
 * offsets, features and (without a split) split values to their final
 * arrays.  Label names of the training file get provisional ids in order of
 * first appearance; once the file is read they are sorted into the final
 * table.  Then: the label ids are rewritten, the split computed, the
 * vocabularies finished (from a recount of the training rows' provisional ids
 * when the training file is split), and the matrices rewritten with final ids
 * as uint16 or int32.  Nothing held in memory grows with the rows or tokens.
 *
 * Leaves out: k-fold, multi-threaded tokenizing, fault injection (see header).
 */
#include "text/dataset_int.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <xxhash.h>

#include "wordbench/split.h"

/* ---- small helpers ----------------------------------------------------- */

static int u32_cmp(const void *a, const void *b) {
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
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

/* ---- public small functions -------------------------------------------- */

void wb_dataset_opts_init(wb_dataset_opts *o) {
    memset(o, 0, sizeof *o);
    wb_tokenize_opts_init(&o->tok, WB_TOK_KERAS);
    o->maxlen = 100;
    o->padding = WB_PAD_POST;
    o->truncating = WB_PAD_POST;
    o->split_mode = WB_SPLIT_STRATIFY;
    o->task = WB_TASK_AUTO;
    o->text_mode = WB_TEXT_FIRST;
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
    for (size_t i = 0; i < ds->nmaps; i++)
        if (ds->maps[i].p) munmap(ds->maps[i].p, ds->maps[i].len);
    free(ds->maps);
    for (size_t k = 0; k < ds->ninputs; k++) {
        free(ds->in[k].name);
        wb_vocab_destroy(ds->in[k].vocab);
    }
    free(ds->in);
    for (size_t j = 0; ds->fnames && j < ds->nfeat; j++) free(ds->fnames[j]);
    free(ds->fnames);
    for (int i = 0; i < 3; i++) free(ds->sources[i]);
    free(ds->lnames);
    free(ds->lname_off);
    free(ds->path);
    free(ds);
}

size_t wb_dataset_n(const wb_dataset *ds) { return ds->n; }
size_t wb_dataset_ninputs(const wb_dataset *ds) { return ds->ninputs; }
const wb_dataset_input *wb_dataset_input_get(const wb_dataset *ds, size_t k) {
    return ds && k < ds->ninputs ? &ds->in[k].pub : NULL;
}
size_t wb_dataset_maxlen(const wb_dataset *ds) { return ds->in[0].pub.maxlen; }
const wb_ids *wb_dataset_ids(const wb_dataset *ds) { return ds->in[0].pub.ids; }
const uint32_t *wb_dataset_lengths(const wb_dataset *ds) { return ds->in[0].pub.lengths; }
const wb_vocab *wb_dataset_vocab(const wb_dataset *ds) { return ds->in[0].vocab; }
size_t wb_dataset_vocab_distinct(const wb_dataset *ds) { return ds->in[0].pub.distinct; }
const uint8_t *wb_dataset_split(const wb_dataset *ds) { return ds->split; }
wb_task wb_dataset_task(const wb_dataset *ds) { return ds->task; }
uint32_t wb_dataset_nlabels(const wb_dataset *ds) { return ds->nlabels; }
const char *wb_dataset_path(const wb_dataset *ds) { return ds->path; }

const double *wb_dataset_features(const wb_dataset *ds, size_t *nfeat) {
    if (nfeat) *nfeat = ds->nfeat;
    return ds->feat;
}

const char *wb_dataset_feature_name(const wb_dataset *ds, size_t j) {
    return ds && j < ds->nfeat ? ds->fnames[j] : NULL;
}

size_t wb_dataset_labels(const wb_dataset *ds, const size_t **offsets, const uint32_t **ids) {
    if (offsets) *offsets = ds->loff;
    if (ids) *ids = ds->lids;
    return ds->nnz;
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
        int c = wb_ds_name_cmp(m, ml, name, len);
        if (c == 0) return (int64_t)mid;
        if (c < 0) lo = mid + 1;
        else hi = mid;
    }
    return -1;
}

uint64_t wb_dataset_mapped_bytes(const wb_dataset *ds) {
    uint64_t b = 0;
    for (size_t i = 0; ds && i < ds->nmaps; i++) b += ds->maps[i].len;
    return b;
}

uint64_t wb_dataset_resident_bytes(const wb_dataset *ds) {
    long pg = sysconf(_SC_PAGESIZE);
    uint64_t r = 0;
    unsigned char v[4096];
    for (size_t i = 0; ds && i < ds->nmaps; i++) {
        const wb_ds_fmap *m = &ds->maps[i];
        size_t pages = (m->len + (size_t)pg - 1) / (size_t)pg;
        for (size_t at = 0; m->p && at < pages; at += sizeof v) {
            size_t k = pages - at < sizeof v ? pages - at : sizeof v;
            if (mincore((char *)m->p + at * (size_t)pg, k * (size_t)pg, v)) break;
            for (size_t j = 0; j < k; j++) r += v[j] & 1;
        }
    }
    return r * (uint64_t)pg;
}

void wb_ids_gather(const wb_ids *x, const uint32_t *rows, size_t b, int32_t *out) {
    const size_t T = x->T;
    if (x->width == 4) {
        for (size_t j = 0; j < b; j++)
            memcpy(out + j * T, (const int32_t *)x->data + (size_t)rows[j] * T, T * sizeof *out);
    } else {
        for (size_t j = 0; j < b; j++) {
            const uint16_t *s = (const uint16_t *)x->data + (size_t)rows[j] * T;
            for (size_t t = 0; t < T; t++) out[j * T + t] = s[t];
        }
    }
    if (!x->oov) return;
    for (size_t k = 0; k < b * T; k++) {
        int32_t v = out[k];
        if (v > 1 && (size_t)v < x->noov && x->oov[v]) out[k] = 1;
    }
}


/* ---- the build --------------------------------------------------------- */

/* One text input under construction. */
typedef struct binput {
    wb_vocab *v;                /* provisional ids, then finished */
    size_t T;                   /* maxlen (0: no matrix) */
    wb_ds_arr xtmp;                  /* raw (n, T) u32 provisional ids */
    wb_ds_arr x;                     /* x<k>.npy, final ids */
    wb_ds_arr len;                   /* len<k>.npy */
    wb_ds_arr tok;                   /* raw: provisional ids of every token of the training
                                   file (only when it is split) */
    uint32_t *ids;              /* one record's provisional ids */
    size_t ids_cap;
    uint32_t *row;              /* (T) */
    int32_t *map;               /* (nmap) provisional → final id */
    size_t nmap;
    size_t distinct;            /* counted words before finish */
    wb_dtype dtype;             /* of the matrix */
    char *name;                 /* input name (owned) */
} binput;

typedef struct build {
    const wb_dataset_opts *o;
    const char *dir;            /* build directory */
    wb_err *err;
    int phase;                  /* 0 training file, 1 valid file, 2 test file */
    const char *path;           /* file being read */
    size_t K;                   /* inputs (0 until the first record) */
    size_t ntexts;              /* text fields per record (set by the first record) */
    binput *in;                 /* (K) */
    wb_token_list tl;
    wb_ds_arr loff, lids, split, feat;
    size_t nfeat;               /* features per record (set by the first record) */
    uint64_t n, nnz, ntrain;    /* rows and label ids so far; rows of the training file */
    uint64_t skipped;           /* valid/test records skipped for unknown labels */
    uint32_t *lab;              /* one record's label ids */
    size_t lab_cap;
    wb_vocab *labv;             /* training label names → provisional label ids */
    uint32_t *lmap;             /* provisional label → final id */
    wb_dataset *ds;             /* label table and task (set after the training file) */
    long long multi_line;       /* first training record with != 1 distinct labels (0: none) */
    size_t multi_k;             /* its number of labels */
    long long third_line;       /* first training record bringing a third label (0: none) */
    uint32_t third_p;           /* that label's provisional id */
    int split_later;            /* test_fraction > 0: split after reading */
    wb_ds_file *recs;                /* (nrecs) meta records of the finished arrays */
    char (*rnames)[32];         /* (nrecs) their file names (recs[i].name points here) */
    size_t nrecs, recs_cap, rnames_cap;
} build;

/* Input k's name, for the meta file (fmt: the training file's format). */
static char *input_name(const build *b, size_t k, wb_reader_format fmt) {
    const wb_reader_opts *r = &b->o->reader;
    int csv = fmt == WB_READER_CSV && r->text_cols;
    if (b->o->text_mode == WB_TEXT_JOIN && csv && b->ntexts > 1) {
        size_t bytes = 0;
        for (size_t i = 0; i < b->ntexts; i++) bytes += strlen(r->text_cols[i]) + 1;
        char *s = malloc(bytes);
        if (!s) return NULL;
        s[0] = 0;
        for (size_t i = 0; i < b->ntexts; i++) strcat(i ? strcat(s, "+") : s, r->text_cols[i]);
        return s;
    }
    return strdup(csv ? r->text_cols[k] : "text");
}

/* The first record fixes the inputs and the feature count; open their files. */
static int start(build *b, const wb_example *ex) {
    const wb_dataset_opts *o = b->o;
    b->ntexts = ex->n_texts;
    b->nfeat = ex->n_features;
    b->K = o->text_mode == WB_TEXT_EACH ? ex->n_texts : 1;
    if (!b->K) return wb_err_at(b->err, WB_EFORMAT, b->path, ex->line, -1, "a record without text fields");
    if (b->K > 4096) return wb_err_set(b->err, WB_EUSAGE, "more than 4096 text inputs");
    if (!(b->in = calloc(b->K, sizeof *b->in))) return wb_err_set(b->err, WB_ENOMEM, "out of memory");
    for (size_t k = 0; k < b->K; k++) {
        binput *in = &b->in[k];
        in->xtmp.fd = in->x.fd = in->len.fd = in->tok.fd = -1;
        in->T = o->text_mode == WB_TEXT_EACH && o->maxlens ? o->maxlens[k] : o->maxlen;
        if (in->T > (1u << 24)) return wb_err_set(b->err, WB_EUSAGE, "maxlen %zu of input %zu is above 2^24", in->T, k);
        char name[48];
        int rc = wb_vocab_create(&in->v, b->err);
        if (rc) return rc;
        snprintf(name, sizeof name, "len%zu.npy", k);
        if ((rc = wb_ds_arr_open(&in->len, b->dir, name, 0, WB_DTYPE_U32, 1, 1, b->err))) return rc;
        if (in->T) {
            if (!(in->row = malloc(in->T * sizeof *in->row))) return wb_err_set(b->err, WB_ENOMEM, "out of memory");
            snprintf(name, sizeof name, "x%zu.tmp", k);
            if ((rc = wb_ds_arr_open(&in->xtmp, b->dir, name, 1, WB_DTYPE_U32, 2, in->T, b->err))) return rc;
        }
        if (b->split_later) {
            snprintf(name, sizeof name, "tok%zu.tmp", k);
            if ((rc = wb_ds_arr_open(&in->tok, b->dir, name, 1, WB_DTYPE_U32, 1, 1, b->err))) return rc;
        }
    }
    int rc = wb_ds_arr_open(&b->loff, b->dir, "label_offsets.npy", 0, WB_DTYPE_U64, 1, 1, b->err);
    if (!rc) rc = wb_ds_arr_open(&b->lids, b->dir, "label_ids.tmp", 1, WB_DTYPE_U32, 1, 1, b->err);
    if (!rc && !b->split_later) rc = wb_ds_arr_open(&b->split, b->dir, "split.npy", 0, WB_DTYPE_U8, 1, 1, b->err);
    if (!rc && b->nfeat) rc = wb_ds_arr_open(&b->feat, b->dir, "features.npy", 0, WB_DTYPE_F64, 2, b->nfeat, b->err);
    if (!rc) {
        uint64_t zero = 0;
        wb_ds_arr_put(&b->loff, &zero, 8);
    }
    return rc;
}

/* The provisional ids of input k of a record into in->ids; *ntok their count. */
static int record_ids(build *b, const wb_example *ex, size_t k, size_t *ntok) {
    binput *in = &b->in[k];
    size_t first = b->o->text_mode == WB_TEXT_EACH ? k : 0;
    size_t last = b->o->text_mode == WB_TEXT_JOIN ? ex->n_texts : first + 1;
    int count = b->phase == 0 && !b->split_later;
    size_t n = 0;
    for (size_t j = first; j < last; j++) {
        int rc = wb_tokenize(&b->o->tok, ex->texts[j].ptr, ex->texts[j].len, &b->tl, b->err);
        if (rc) return rc;
        if (wb_ds_grow(&in->ids, &in->ids_cap, n + b->tl.n + 1, sizeof *in->ids))
            return wb_err_set(b->err, WB_ENOMEM, "out of memory for a record of %zu tokens", n + b->tl.n);
        if ((rc = wb_vocab_add_ids(in->v, &b->tl, count, in->ids + n, b->err))) return rc;
        n += b->tl.n;
    }
    if (n >= UINT32_MAX)
        return wb_err_at(b->err, WB_EFORMAT, b->path, ex->line, -1, "more than 4 billion tokens in one record");
    *ntok = n;
    return 0;
}

/* Labels of a record as ids into b->lab; *k their count; *skip 1 when a
 * valid/test record is dropped for an unknown label. */
static int record_labels(build *b, const wb_example *ex, size_t *k, int *skip) {
    *skip = 0;
    if (wb_ds_grow(&b->lab, &b->lab_cap, ex->n_labels + 1, sizeof *b->lab))
        return wb_err_set(b->err, WB_ENOMEM, "out of memory");
    for (size_t i = 0; i < ex->n_labels; i++) {
        if (b->phase == 0) {
            uint32_t id;
            int rc = wb_vocab_add_word(b->labv, ex->labels[i].ptr, ex->labels[i].len, 0, &id, b->err);
            if (rc) return rc;
            b->lab[i] = id - WB_VOCAB_FIRST;
            continue;
        }
        int64_t id = wb_dataset_label_find(b->ds, ex->labels[i].ptr, ex->labels[i].len);
        if (id < 0) {
            if (b->o->unknown_skip) {
                b->skipped++;
                *skip = 1;
                return 0;
            }
            return wb_err_at(b->err, WB_EFORMAT, b->path, ex->line, -1,
                             "label \"%.*s\" never appears in the training file %s "
                             "(fix the label, or skip such records with the unknown-label skip option)",
                             (int)(ex->labels[i].len > 200 ? 200 : ex->labels[i].len), ex->labels[i].ptr,
                             b->o->train_path);
        }
        b->lab[i] = (uint32_t)id;
    }
    *k = uniq_ids(b->lab, ex->n_labels);
    if (b->phase == 0) {
        if (*k != 1 && !b->multi_line) b->multi_line = ex->line, b->multi_k = *k;
        if (*k == 1 && b->lab[0] >= 2 && !b->third_line) b->third_line = ex->line, b->third_p = b->lab[0];
    } else if (b->ds->task != WB_TASK_MULTILABEL && *k != 1) {
        return wb_err_at(b->err, WB_EFORMAT, b->path, ex->line, -1,
                         "%zu labels in one record, but the task is %s (use multilabel)", *k,
                         wb_task_name(b->ds->task));
    }
    return 0;
}

/* Reader callback: one record to every array. */
static int on_record(void *ud, const wb_example *ex) {
    build *b = ud;
    int rc;
    if (!b->K && (rc = start(b, ex))) return rc;
    size_t nl = 0;
    int skip;
    if ((rc = record_labels(b, ex, &nl, &skip)) || skip) return rc;
    if (ex->n_features != b->nfeat)
        return wb_err_at(b->err, WB_EFORMAT, b->path, ex->line, -1,
                         "%zu numeric features here but %zu in the first record of %s "
                         "(are all files in the same format?)",
                         ex->n_features, b->nfeat, b->o->train_path);
    if (ex->n_texts != b->ntexts && b->o->text_mode != WB_TEXT_FIRST)
        return wb_err_at(b->err, WB_EFORMAT, b->path, ex->line, -1,
                         "%zu text fields here but %zu in the first record of %s (are all files in the same "
                         "format?)",
                         ex->n_texts, b->ntexts, b->o->train_path);
    if (b->n >= UINT32_MAX)
        return wb_err_at(b->err, WB_EUSAGE, b->path, ex->line, -1, "more than 4294967295 records");
    for (size_t k = 0; k < b->K; k++) {
        binput *in = &b->in[k];
        size_t ntok = 0;
        if ((rc = record_ids(b, ex, k, &ntok))) return rc;
        uint32_t len32 = (uint32_t)ntok;
        wb_ds_arr_put(&in->len, &len32, 4);
        if (in->T) {
            size_t first, kept, dst;
            wb_pad_window(ntok, in->T, b->o->padding, b->o->truncating, &first, &kept, &dst);
            memset(in->row, 0, in->T * sizeof *in->row);
            memcpy(in->row + dst, in->ids + first, kept * sizeof *in->row);
            wb_ds_arr_put(&in->xtmp, in->row, in->T * sizeof *in->row);
        }
        if (b->phase == 0 && b->split_later) wb_ds_arr_put(&in->tok, in->ids, ntok * sizeof *in->ids);
    }
    wb_ds_arr_put(&b->lids, b->lab, nl * sizeof *b->lab);
    b->nnz += nl;
    wb_ds_arr_put(&b->loff, &b->nnz, 8);
    if (b->nfeat) wb_ds_arr_put(&b->feat, ex->features, b->nfeat * sizeof *ex->features);
    if (!b->split_later) {
        static const uint8_t part[3] = {WB_DS_TRAIN, WB_DS_VALID, WB_DS_TEST};
        wb_ds_arr_put(&b->split, &part[b->phase], 1);
    }
    b->n++;
    return 0;
}

/* A label name of the training file and its provisional id. */
typedef struct lref {
    const char *p;
    size_t len;
    uint32_t idx;
} lref;

static int lref_cmp(const void *a, const void *b) {
    const lref *x = a, *y = b;
    return wb_ds_name_cmp(x->p, x->len, y->p, y->len);
}

/* After the training file: the sorted label table (into b->ds), the map of
 * provisional label ids, the task. */
static int finish_labels(build *b, wb_err *err) {
    wb_dataset *ds = b->ds;
    size_t L = wb_vocab_entries(b->labv);
    if (L > UINT32_MAX) return wb_err_set(err, WB_EUSAGE, "more than 4 billion labels");
    uint32_t *ord = malloc((L ? L : 1) * sizeof *ord);
    b->lmap = malloc((L ? L : 1) * sizeof *b->lmap);
    if (!ord || !b->lmap) {
        free(ord);
        return wb_err_set(err, WB_ENOMEM, "out of memory sorting labels");
    }
    lref *r = malloc((L ? L : 1) * sizeof *r);
    if (!r) {
        free(ord);
        return wb_err_set(err, WB_ENOMEM, "out of memory sorting labels");
    }
    for (size_t i = 0; i < L; i++) r[i].p = wb_vocab_entry(b->labv, i, &r[i].len), r[i].idx = (uint32_t)i;
    qsort(r, L, sizeof *r, lref_cmp); /* names are distinct: no ties */
    for (size_t i = 0; i < L; i++) ord[i] = r[i].idx;
    free(r);
    size_t bytes = 0;
    for (size_t i = 0; i < L; i++) {
        size_t l;
        wb_vocab_entry(b->labv, i, &l);
        bytes += l + 1;
    }
    ds->lnames = malloc(bytes ? bytes : 1);
    ds->lname_off = malloc((L + 1) * sizeof *ds->lname_off);
    if (!ds->lnames || !ds->lname_off) {
        free(ord);
        return wb_err_set(err, WB_ENOMEM, "out of memory for the label table");
    }
    size_t at = 0;
    for (size_t i = 0; i < L; i++) {
        size_t l;
        const char *s = wb_vocab_entry(b->labv, ord[i], &l);
        ds->lname_off[i] = at;
        memcpy(ds->lnames + at, s, l);
        at += l;
        ds->lnames[at++] = 0;
        b->lmap[ord[i]] = (uint32_t)i;
    }
    ds->lname_off[L] = at;
    ds->nlabels = (uint32_t)L;
    free(ord);

    /* the task */
    wb_task want = b->o->task;
    if (want == WB_TASK_AUTO) {
        ds->task = b->multi_line ? WB_TASK_MULTILABEL : L == 2 ? WB_TASK_BINARY : WB_TASK_MULTICLASS;
        return 0;
    }
    ds->task = want;
    if (want == WB_TASK_MULTILABEL) return 0;
    if (b->multi_line)
        return wb_err_at(err, WB_EFORMAT, b->o->train_path, b->multi_line, -1,
                         "%zu labels in one record, but the task is %s (use multilabel)", b->multi_k,
                         wb_task_name(want));
    if (want == WB_TASK_BINARY && L > 2) {
        size_t l0, l1, l2;
        const char *a = wb_vocab_entry(b->labv, 0, &l0), *c = wb_vocab_entry(b->labv, 1, &l1);
        const char *t = wb_vocab_entry(b->labv, b->third_p, &l2);
        return wb_err_at(err, WB_EFORMAT, b->o->train_path, b->third_line, -1,
                         "third label \"%.*s\" (after \"%.*s\" and \"%.*s\") but the task is binary (use multiclass)",
                         (int)(l2 > 200 ? 200 : l2), t, (int)(l0 > 200 ? 200 : l0), a, (int)(l1 > 200 ? 200 : l1), c);
    }
    return 0;
}

/* Finish an NPY array of the build and keep its meta record. */
static int add_rec(build *b, wb_ds_arr *a, uint64_t rows, wb_err *err) {
    if (wb_ds_grow(&b->recs, &b->recs_cap, b->nrecs + 1, sizeof *b->recs) ||
        wb_ds_grow(&b->rnames, &b->rnames_cap, b->nrecs + 1, sizeof *b->rnames))
        return wb_err_set(err, WB_ENOMEM, "out of memory");
    wb_ds_file *r = &b->recs[b->nrecs];
    int rc = wb_ds_arr_finish(a, rows, r, err);
    if (rc) return rc;
    snprintf(b->rnames[b->nrecs], sizeof b->rnames[0], "%.*s", (int)r->name.len, r->name.p);
    r->name.p = b->rnames[b->nrecs++];
    return 0;
}

/* Rewrite the label ids of the training rows as final ids, sorted per row
 * (the provisional ids were sorted and distinct; the map keeps them
 * distinct), into label_ids.npy; the other rows' ids are final already. */
static int write_label_ids(build *b, wb_err *err) {
    wb_ds_in off = {-1, NULL, 0, 0}, ids = {-1, NULL, 0, 0};
    wb_ds_arr out;
    int rc = wb_ds_arr_open(&out, b->dir, "label_ids.npy", 0, WB_DTYPE_U32, 1, 1, err);
    if (!rc) rc = wb_ds_in_open(&off, b->loff.path, WB_NPY_DATA_OFFSET, err);
    if (!rc) rc = wb_ds_in_open(&ids, b->lids.path, 0, err);
    uint64_t prev = 0, cur = 0;
    if (!rc && (rc = wb_ds_in_read(&off, &prev, 8))) rc = wb_err_at(err, rc, b->loff.path, 0, -1, "cannot read back");
    for (uint64_t i = 0; !rc && i < b->n; i++) {
        if ((rc = wb_ds_in_read(&off, &cur, 8))) {
            rc = wb_err_at(err, rc, b->loff.path, 0, -1, "cannot read back");
            break;
        }
        size_t k = (size_t)(cur - prev);
        if (wb_ds_grow(&b->lab, &b->lab_cap, k + 1, sizeof *b->lab)) {
            rc = wb_err_set(err, WB_ENOMEM, "out of memory");
            break;
        }
        if ((rc = wb_ds_in_read(&ids, b->lab, k * sizeof *b->lab))) {
            rc = wb_err_at(err, rc, b->lids.path, 0, -1, "cannot read back");
            break;
        }
        if (i < b->ntrain) {
            for (size_t j = 0; j < k; j++) b->lab[j] = b->lmap[b->lab[j]];
            if (k > 1) qsort(b->lab, k, sizeof *b->lab, u32_cmp);
        }
        wb_ds_arr_put(&out, b->lab, k * sizeof *b->lab);
        prev = cur;
    }
    wb_ds_in_close(&off);
    wb_ds_in_close(&ids);
    if (!rc) rc = add_rec(b, &out, b->nnz, err);
    wb_ds_arr_free(&out);
    wb_ds_arr_discard(&b->lids);
    return rc;
}

/* Map a finished NPY array of the build (len data bytes) read-only: the
 * split needs the labels as arrays.  0 or errno with err set. */
static int map_back(const char *path, size_t len, wb_ds_fmap *m, const void **data, wb_err *err) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return wb_err_at(err, errno, path, 0, -1, "cannot open: %s", strerror(errno));
    m->len = len + WB_NPY_DATA_OFFSET;
    m->p = mmap(NULL, m->len, PROT_READ, MAP_SHARED, fd, 0);
    int rc = m->p == MAP_FAILED ? errno : 0;
    close(fd);
    if (rc) {
        m->p = NULL;
        return wb_err_at(err, rc, path, 0, -1, "cannot map: %s", strerror(rc));
    }
    *data = (const char *)m->p + WB_NPY_DATA_OFFSET;
    return 0;
}

/* test_fraction > 0: split the training rows (labels read back mapped),
 * write split.npy, recount every input's words over the training split. */
static int split_and_recount(build *b, wb_err *err) {
    const wb_dataset_opts *o = b->o;
    uint8_t *sp = malloc(b->n);
    if (!sp) return wb_err_set(err, WB_ENOMEM, "out of memory for the split of %llu rows", (unsigned long long)b->n);
    wb_ds_fmap mo = {NULL, 0}, mi = {NULL, 0};
    char *ipath = wb_ds_join(b->dir, "label_ids.npy");
    const void *loff = NULL, *lids = NULL;
    int rc = ipath ? 0 : wb_err_set(err, WB_ENOMEM, "out of memory");
    if (!rc) rc = map_back(b->loff.path, (b->n + 1) * 8, &mo, &loff, err);
    if (!rc) rc = map_back(ipath, b->nnz * 4, &mi, &lids, err);
    if (!rc) {
        wb_split_labels lb = {loff, lids, b->ds->nlabels};
        rc = wb_split_train_test((size_t)b->ntrain, &lb, o->test_fraction, o->seed, o->split_mode, sp, err);
    }
    if (mo.p) munmap(mo.p, mo.len);
    if (mi.p) munmap(mi.p, mi.len);
    free(ipath);
    for (uint64_t i = b->ntrain; i < b->n; i++) sp[i] = WB_DS_VALID; /* no test file with a split */
    wb_ds_arr out;
    if (!rc) rc = wb_ds_arr_open(&out, b->dir, "split.npy", 0, WB_DTYPE_U8, 1, 1, err);
    if (!rc) {
        wb_ds_arr_put(&out, sp, b->n);
        rc = add_rec(b, &out, b->n, err);
        wb_ds_arr_free(&out);
    }
    /* recount each input over the training split */
    for (size_t k = 0; !rc && k < b->K; k++) {
        binput *in = &b->in[k];
        wb_ds_in len = {-1, NULL, 0, 0}, tok = {-1, NULL, 0, 0};
        wb_vocab_recount(in->v);
        if (!(rc = wb_ds_arr_finish(&in->tok, 0, NULL, err))) rc = wb_ds_in_open(&tok, in->tok.path, 0, err);
        if (!rc) rc = wb_ds_in_open(&len, in->len.path, WB_NPY_DATA_OFFSET, err);
        for (uint64_t i = 0; !rc && i < b->ntrain; i++) {
            uint32_t nt;
            if ((rc = wb_ds_in_read(&len, &nt, 4))) {
                rc = wb_err_at(err, rc, in->len.path, 0, -1, "cannot read back: %s", strerror(rc));
                break;
            }
            if (wb_ds_grow(&in->ids, &in->ids_cap, (size_t)nt + 1, sizeof *in->ids)) {
                rc = wb_err_set(err, WB_ENOMEM, "out of memory");
                break;
            }
            if ((rc = wb_ds_in_read(&tok, in->ids, (size_t)nt * 4))) {
                rc = wb_err_at(err, rc, in->tok.path, 0, -1, "cannot read back: %s", strerror(rc));
                break;
            }
            if (sp[i] == WB_DS_TRAIN && (rc = wb_vocab_count_ids(in->v, in->ids, nt, err))) break;
        }
        wb_ds_in_close(&len);
        wb_ds_in_close(&tok);
        wb_ds_arr_discard(&in->tok);
    }
    free(sp);
    return rc;
}

/* Finish input k's vocabulary and write its matrix with final ids. */
static int finish_input(build *b, size_t k, wb_err *err) {
    binput *in = &b->in[k];
    in->distinct = wb_vocab_distinct(in->v);
    int rc = wb_vocab_finish_map(in->v, b->o->num_words, b->o->min_count, &in->map, &in->nmap, err);
    if (rc) return rc;
    in->dtype = wb_vocab_size(in->v) <= 65536 ? WB_DTYPE_U16 : WB_DTYPE_I32;
    if (!in->T) return 0;
    if ((rc = wb_ds_arr_finish(&in->xtmp, 0, NULL, err))) return rc;
    char name[32];
    snprintf(name, sizeof name, "x%zu.npy", k);
    if ((rc = wb_ds_arr_open(&in->x, b->dir, name, 0, in->dtype, 2, in->T, err))) return rc;
    wb_ds_in s = {-1, NULL, 0, 0};
    if ((rc = wb_ds_in_open(&s, in->xtmp.path, 0, err))) return rc;
    const size_t T = in->T;
    uint16_t *r16 = malloc(T * sizeof *r16);
    int32_t *r32 = malloc(T * sizeof *r32);
    if (!r16 || !r32) rc = wb_err_set(err, WB_ENOMEM, "out of memory");
    for (uint64_t i = 0; !rc && i < b->n; i++) {
        if ((rc = wb_ds_in_read(&s, in->row, T * sizeof *in->row))) {
            rc = wb_err_at(err, rc, in->xtmp.path, 0, -1, "cannot read back");
            break;
        }
        for (size_t t = 0; t < T; t++) r32[t] = in->map[in->row[t]];
        if (in->dtype == WB_DTYPE_U16) {
            for (size_t t = 0; t < T; t++) r16[t] = (uint16_t)r32[t];
            wb_ds_arr_put(&in->x, r16, T * sizeof *r16);
        } else {
            wb_ds_arr_put(&in->x, r32, T * sizeof *r32);
        }
    }
    free(r16);
    free(r32);
    wb_ds_in_close(&s);
    wb_ds_arr_discard(&in->xtmp);
    return rc;
}

static void aw_str(wb_awriter *w, const char *s, size_t len) {
    wb_aw_u32(w, (uint32_t)len);
    wb_aw_write(w, s, len);
}

static void aw_source(wb_awriter *w, const char *path) {
    if (!path) {
        aw_str(w, "", 0);
        return;
    }
    char *abs = strcmp(path, "-") ? realpath(path, NULL) : NULL;
    const char *s = abs ? abs : path;
    aw_str(w, s, strlen(s));
    free(abs);
}

/* Write the meta file (written last: a directory without it is no data set). */
static int write_meta(build *b, uint64_t key, const wb_read_stats *rs, wb_err *err) {
    const wb_dataset_opts *o = b->o;
    const wb_dataset *ds = b->ds;
    char *path = wb_ds_join(b->dir, WB_DS_META);
    if (!path) return wb_err_set(err, WB_ENOMEM, "out of memory");
    wb_awriter w;
    int rc = wb_aw_open(&w, path);
    if (rc) {
        rc = wb_err_at(err, rc, path, 0, -1, "cannot create: %s", wb_strerror(rc));
        free(path);
        return rc;
    }
    wb_aw_write(&w, WB_DS_MAGIC, 8);
    wb_aw_u32(&w, WB_DATASET_VERSION);
    wb_aw_u32(&w, 0);
    wb_aw_u64(&w, key);
    wb_aw_u64(&w, b->n);
    wb_aw_u32(&w, (uint32_t)ds->task);
    wb_aw_u32(&w, ds->nlabels);
    wb_aw_u64(&w, b->nnz);
    wb_aw_u64(&w, b->skipped);
    wb_aw_u64(&w, ds->skipped_bad);
    wb_aw_u64(&w, ds->invalid_utf8);
    wb_aw_u32(&w, (uint32_t)rs->format);
    wb_aw_u32(&w, (uint32_t)o->text_mode);
    wb_aw_u32(&w, (uint32_t)b->K);
    wb_aw_u32(&w, (uint32_t)b->nfeat);
    wb_aw_u64(&w, (uint64_t)time(NULL));
    wb_aw_u32(&w, (uint32_t)b->nrecs);
    wb_aw_u32(&w, 0);
    aw_source(&w, o->train_path);
    aw_source(&w, o->valid_path);
    aw_source(&w, o->test_path);
    for (uint32_t i = 0; i < ds->nlabels; i++) {
        size_t l;
        const char *s = wb_dataset_label_name(ds, i, &l);
        aw_str(&w, s, l);
    }
    for (size_t j = 0; j < b->nfeat; j++) {
        const char *s = o->reader.feature_cols[j];
        aw_str(&w, s, strlen(s));
    }
    for (size_t k = 0; k < b->K && !rc; k++) {
        binput *in = &b->in[k];
        void *vb = NULL;
        size_t vlen = 0;
        if ((rc = wb_vocab_save_buf(in->v, &vb, &vlen, err))) break;
        aw_str(&w, in->name, strlen(in->name));
        wb_aw_u64(&w, in->T);
        wb_aw_u64(&w, in->distinct);
        wb_aw_u32(&w, in->T ? (uint32_t)in->dtype : 0);
        wb_aw_u32(&w, 0);
        wb_aw_u64(&w, vlen);
        wb_aw_write(&w, vb, vlen);
        free(vb);
    }
    for (size_t f = 0; f < b->nrecs; f++) {
        const wb_ds_file *r = &b->recs[f];
        aw_str(&w, r->name.p, r->name.len);
        wb_aw_u32(&w, r->dtype);
        wb_aw_u32(&w, r->ndim);
        wb_aw_u64(&w, r->rows);
        wb_aw_u64(&w, r->cols);
        wb_aw_u64(&w, r->bytes);
        wb_aw_u64(&w, r->hash);
    }
    if (rc) wb_aw_abort(&w);
    else if ((rc = wb_aw_commit(&w))) rc = wb_err_at(err, rc, path, 0, -1, "cannot write: %s", wb_strerror(rc));
    free(path);
    return rc;
}

/* The records of the finished arrays must come in file_specs order: sort
 * them by that order (x, len per input; labels; split; features). */
static int rec_rank(const wb_ds_file *r) {
    char name[40];
    snprintf(name, sizeof name, "%.*s", (int)(r->name.len < 39 ? r->name.len : 39), r->name.p);
    unsigned k;
    if (sscanf(name, "x%u.npy", &k) == 1) return (int)(2 * k);
    if (sscanf(name, "len%u.npy", &k) == 1) return (int)(2 * k + 1);
    if (!strcmp(name, "label_offsets.npy")) return INT_MAX - 3;
    if (!strcmp(name, "label_ids.npy")) return INT_MAX - 2;
    if (!strcmp(name, "split.npy")) return INT_MAX - 1;
    return INT_MAX;
}

static int rec_cmp(const void *a, const void *b) {
    int x = rec_rank(a), y = rec_rank(b);
    return (x > y) - (x < y);
}

static void build_free(build *b) {
    for (size_t k = 0; b->in && k < b->K; k++) {
        binput *in = &b->in[k];
        wb_ds_arr_free(&in->xtmp), wb_ds_arr_free(&in->x), wb_ds_arr_free(&in->len), wb_ds_arr_free(&in->tok);
        wb_vocab_destroy(in->v);
        free(in->ids), free(in->row), free(in->map), free(in->name);
    }
    free(b->in);
    wb_ds_arr_free(&b->loff), wb_ds_arr_free(&b->lids), wb_ds_arr_free(&b->split), wb_ds_arr_free(&b->feat);
    wb_token_list_free(&b->tl);
    free(b->lab);
    wb_vocab_destroy(b->labv);
    free(b->lmap);
    free(b->recs);
    free(b->rnames);
    wb_dataset_destroy(b->ds);
}

/* Build the data set of `o` into the (existing, empty) directory dir. */
static int build_into(const char *dir, const wb_dataset_opts *o, uint64_t key, wb_err *err) {
    build b;
    memset(&b, 0, sizeof b);
    b.o = o, b.dir = dir, b.err = err;
    b.loff.fd = b.lids.fd = b.split.fd = b.feat.fd = -1;
    b.split_later = o->test_fraction > 0;
    wb_token_list_init(&b.tl);
    wb_read_stats rs, r2;
    memset(&rs, 0, sizeof rs);
    int rc = wb_vocab_create(&b.labv, err);
    if (!rc && !(b.ds = calloc(1, sizeof *b.ds))) rc = wb_err_set(err, WB_ENOMEM, "out of memory");
    if (rc) goto done;
    b.path = o->train_path;
    if ((rc = wb_reader_read(o->train_path, &o->reader, on_record, &b, &rs, err))) goto done;
    b.ds->skipped_bad = rs.skipped, b.ds->invalid_utf8 = rs.invalid_utf8;
    b.ntrain = b.n;
    if (!b.n) {
        rc = wb_err_at(err, WB_EFORMAT, o->train_path, 0, -1, "no records in the training file");
        goto done;
    }
    for (size_t k = 0; k < b.K; k++)
        if (!(b.in[k].name = input_name(&b, k, rs.format))) {
            rc = wb_err_set(err, WB_ENOMEM, "out of memory");
            goto done;
        }
    if ((rc = finish_labels(&b, err))) goto done;
    const char *others[2] = {o->valid_path, o->test_path};
    for (int k = 0; k < 2; k++) {
        if (!others[k]) continue;
        b.phase = k + 1, b.path = others[k];
        if ((rc = wb_reader_read(others[k], &o->reader, on_record, &b, &r2, err))) goto done;
        b.ds->skipped_bad += r2.skipped, b.ds->invalid_utf8 += r2.invalid_utf8;
    }
    for (size_t k = 0; k < b.K; k++)
        if ((rc = add_rec(&b, &b.in[k].len, b.n, err))) goto done;
    if ((rc = add_rec(&b, &b.loff, b.n + 1, err))) goto done;
    if ((rc = wb_ds_arr_finish(&b.lids, 0, NULL, err)) || (rc = write_label_ids(&b, err))) goto done;
    if (b.nfeat && (rc = add_rec(&b, &b.feat, b.n, err))) goto done;
    if (b.split_later) rc = split_and_recount(&b, err);
    else rc = add_rec(&b, &b.split, b.n, err);
    if (rc) goto done;
    for (size_t k = 0; k < b.K; k++) {
        if ((rc = finish_input(&b, k, err))) goto done;
        if (b.in[k].T && (rc = add_rec(&b, &b.in[k].x, b.n, err))) goto done;
    }
    qsort(b.recs, b.nrecs, sizeof *b.recs, rec_cmp);
    rc = write_meta(&b, key, &rs, err);
done:
    build_free(&b);
    return rc;
}


/* ---- build ------------------------------------------------------------- */

static void fill_counts(const wb_dataset *ds, wb_dataset_stats *st) {
    st->skipped_unknown = ds->skipped_unknown;
    st->skipped_bad = ds->skipped_bad;
    st->invalid_utf8 = ds->invalid_utf8;
    st->format = ds->format;
    st->n_train = st->n_valid = st->n_test = 0;
    for (size_t i = 0; i < ds->n; i++) {
        if ((i & ((1u << 16) - 1)) == 0) wb_dataset_release_pages(ds); /* the RSS stays flat */
        if (ds->split[i] == WB_DS_TRAIN) st->n_train++;
        else if (ds->split[i] == WB_DS_TEST) st->n_test++;
        else st->n_valid++;
    }
}

static int check_opts(const wb_dataset_opts *o, wb_err *err) {
    if (!o->train_path) return wb_err_set(err, WB_EUSAGE, "wb_dataset_build: NULL argument or no training file");
    if (o->padding != WB_PAD_PRE && o->padding != WB_PAD_POST)
        return wb_err_set(err, WB_EUSAGE, "padding must be pre or post");
    if (o->truncating != WB_PAD_PRE && o->truncating != WB_PAD_POST)
        return wb_err_set(err, WB_EUSAGE, "truncating must be pre or post");
    if (o->maxlen > (1u << 24)) return wb_err_set(err, WB_EUSAGE, "maxlen %zu is above 2^24", o->maxlen);
    if (!(o->test_fraction >= 0 && o->test_fraction < 1))
        return wb_err_set(err, WB_EUSAGE, "test fraction %g is outside [0, 1)", o->test_fraction);
    if (o->test_fraction > 0 && o->test_path)
        return wb_err_set(err, WB_EUSAGE, "give either a test fraction or a test file, not both");
    if ((int)o->task < WB_TASK_AUTO || o->task > WB_TASK_MULTILABEL)
        return wb_err_set(err, WB_EUSAGE, "unknown task %d", (int)o->task);
    if (o->split_mode < WB_SPLIT_RANDOM || o->split_mode > WB_SPLIT_ITERATIVE)
        return wb_err_set(err, WB_EUSAGE, "unknown split mode %d", o->split_mode);
    if ((int)o->text_mode < WB_TEXT_FIRST || o->text_mode > WB_TEXT_EACH)
        return wb_err_set(err, WB_EUSAGE, "unknown text mode %d", (int)o->text_mode);
    if (o->maxlens && (o->text_mode != WB_TEXT_EACH || !o->reader.text_cols))
        return wb_err_set(err, WB_EUSAGE, "maxlens needs the text mode 'each' and the text columns");
    return 0;
}

/* Build into a new temporary directory under the temporary root, map it, and
 * remove the directory (the mappings stay). */
static int build_temporary(wb_dataset **out, const wb_dataset_opts *o, wb_err *err) {
    const char *root = o->tmp_dir ? o->tmp_dir : getenv("TMPDIR");
    if (!root || !*root) root = "/tmp";
    char *dir = wb_ds_join(root, "wordbench-ds.XXXXXX");
    if (!dir) return wb_err_set(err, WB_ENOMEM, "out of memory");
    int rc = 0;
    if (!mkdtemp(dir)) {
        rc = wb_err_at(err, errno, root, 0, -1, "cannot create a temporary directory: %s", strerror(errno));
        free(dir);
        return rc;
    }
    if (!(rc = build_into(dir, o, 0, err)) && !(rc = wb_ds_map(out, dir, 0, 0, err))) {
        free((*out)->path);
        (*out)->path = NULL;
    }
    wb_rmrf(dir);
    free(dir);
    return rc;
}

/* An input the cache can key: absent, or a regular file (not stdin, a pipe
 * such as <(zcat ...), which hashing would consume, or a directory, which
 * the reader names). */
static int cacheable(const char *path) {
    struct stat sb;
    return !path || (strcmp(path, "-") && !stat(path, &sb) && S_ISREG(sb.st_mode));
}

int wb_dataset_build(wb_dataset **out, const wb_dataset_opts *o, wb_dataset_stats *stats, wb_err *err) {
    wb_dataset_stats st;
    memset(&st, 0, sizeof st);
    int rc = 0, lockfd = -1;
    char *final = NULL, *tmp = NULL, *lock = NULL;
    if (out) *out = NULL;
    if (!out || !o) {
        rc = wb_err_set(err, WB_EUSAGE, "wb_dataset_build: NULL argument or no training file");
        goto end;
    }
    if ((rc = check_opts(o, err))) goto end;
    int use_cache = o->cache_dir && cacheable(o->train_path) && cacheable(o->valid_path) && cacheable(o->test_path);
    if (!use_cache) {
        rc = build_temporary(out, o, err);
        goto end;
    }
    if ((rc = wb_mkdir_p(o->cache_dir))) {
        rc = wb_err_at(err, rc, o->cache_dir, 0, -1, "cannot create the cache directory: %s", wb_strerror(rc));
        goto end;
    }
    if ((rc = wb_ds_key(o, &st.key, err))) goto end;
    final = wb_ds_key_path(o->cache_dir, st.key, ".wbds");
    lock = wb_ds_key_path(o->cache_dir, st.key, ".lock");
    if (!final || !lock) {
        rc = wb_err_set(err, WB_ENOMEM, "out of memory");
        goto end;
    }
    struct stat sb;
    for (int attempt = 0; attempt < 2; attempt++) {
        if (lstat(final, &sb) == 0) {
            if (wb_ds_map(out, final, st.key, 1, NULL) == 0) {
                st.cache_hit = 1;
                goto end;
            }
            st.cache_rejected = 1;
        }
        /* a miss: take the key's lock (waiting for a builder), then look again */
        if (!attempt && (rc = wb_ds_take_lock(lock, &lockfd, &st.cache_waited, err))) goto end;
    }
    wb_ds_remove_stale(o->cache_dir, st.key);
    char suffix[48];
    snprintf(suffix, sizeof suffix, ".wbds.tmp-%ld", (long)getpid());
    if (!(tmp = wb_ds_key_path(o->cache_dir, st.key, suffix))) {
        rc = wb_err_set(err, WB_ENOMEM, "out of memory");
        goto end;
    }
    if (mkdir(tmp, 0777)) {
        rc = wb_err_at(err, errno, tmp, 0, -1, "cannot create: %s", strerror(errno));
        goto end;
    }
    if ((rc = build_into(tmp, o, st.key, err)) || (rc = wb_ds_publish(tmp, final, o->cache_dir, err))) {
        wb_rmrf(tmp);
        goto end;
    }
    st.cache_written = 1;
    rc = wb_ds_map(out, final, st.key, 0, err);
end:
    if (lockfd >= 0) {
        unlink(lock); /* before the release: see take_lock */
        close(lockfd);
    }
    if (out && *out) fill_counts(*out, &st);
    free(final);
    free(tmp);
    free(lock);
    if (stats) *stats = st;
    return rc;
}

