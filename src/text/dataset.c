/*
 * dataset.c — labelled text files to a data set that is a directory of
 * mapped files (include/wordbench/dataset.h is the contract,
 * docs/dataset-format.md the file format): the streamed build, the checked
 * mapping, the cache directory (key, lock, publication, listing, clearing).
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
#include "wordbench/dataset.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <xxhash.h>

#include "base/fileio.h"
#include "store/publish.h"
#include "wordbench/npy.h"
#include "wordbench/split.h"

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "the data set uses its little-endian arrays as mapped"
#endif
_Static_assert(sizeof(size_t) == 8, "label offsets are mapped as size_t");

static const char DS_MAGIC[8] = {'W', 'B', 'D', 'S', 'E', 'T', 0, 0};
#define DS_HEADER 104           /* fixed part of the meta file */
#define DS_META "meta.wbd"      /* the meta file in a data-set directory */
#define DS_MAXFILES (2 * 4096 + 4) /* x and len of each input, labels (2), split, features */
#define IOBUF (1u << 20)        /* bytes buffered by the array writers and readers */

/* ---- the data set ------------------------------------------------------ */

typedef struct fmap {
    void *p;                    /* whole file mapped read-only, NULL when empty */
    size_t len;                 /* its size */
} fmap;

typedef struct dinput {
    wb_dataset_input pub;       /* what wb_dataset_input_get returns */
    wb_ids ids;                 /* pub.ids points here when maxlen > 0 */
    char *name;                 /* owned */
    wb_vocab *vocab;            /* owned, finished */
} dinput;

/* Invariants: every array pointer points into maps[] (or is NULL for a
 * missing optional array); loff has n+1 entries, loff[n] = nnz. */
struct wb_dataset {
    char *path;                 /* published directory; NULL when temporary */
    size_t n;                   /* examples */
    wb_task task;               /* never AUTO */
    uint32_t nlabels;           /* labels in the table */
    char *lnames;               /* label names back to back, each NUL-terminated */
    size_t *lname_off;          /* (nlabels+1) start of name i; length = next - this - 1 */
    size_t nfeat;               /* numeric features per example */
    char **fnames;              /* (nfeat) feature column names */
    uint64_t skipped_unknown;   /* valid/test records skipped */
    uint64_t skipped_bad;       /* records the reader skipped, all files */
    uint64_t invalid_utf8;      /* replaced invalid UTF-8 sequences, all files */
    wb_reader_format format;    /* format of the training file as read */
    wb_text_mode mode;          /* how the inputs were made */
    uint64_t created;           /* build time, Unix seconds */
    char *sources[3];           /* training, valid, test file as recorded (NULL = none) */
    size_t ninputs;             /* text inputs */
    dinput *in;                 /* (ninputs) */
    size_t nnz;                 /* label ids */
    const size_t *loff;         /* (n+1) label CSR offsets */
    const uint32_t *lids;       /* (nnz) label ids */
    const uint8_t *split;       /* (n) WB_DS_* */
    const double *feat;         /* (n, nfeat) or NULL */
    fmap *maps;                 /* (nmaps) the mapped files */
    size_t nmaps;
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

static char *str_printf(const char *fmt, const char *a, const char *b) {
    int n = snprintf(NULL, 0, fmt, a, b);
    char *p = n < 0 ? NULL : malloc((size_t)n + 1);
    if (p) snprintf(p, (size_t)n + 1, fmt, a, b);
    return p;
}

static char *join_path(const char *dir, const char *name) { return str_printf("%s/%s", dir, name); }

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

/* Sort and dedupe k ids in place; returns the distinct count. */
static size_t uniq_ids(uint32_t *ids, size_t k) {
    if (k < 2) return k;
    qsort(ids, k, sizeof *ids, u32_cmp);
    size_t m = 1;
    for (size_t i = 1; i < k; i++)
        if (ids[i] != ids[m - 1]) ids[m++] = ids[i];
    return m;
}

static int finite(double x) { return x == x && x - x == 0; }

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
        int c = name_cmp(m, ml, name, len);
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
        const fmap *m = &ds->maps[i];
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
        return;
    }
    for (size_t j = 0; j < b; j++) {
        const uint16_t *s = (const uint16_t *)x->data + (size_t)rows[j] * T;
        for (size_t t = 0; t < T; t++) out[j * T + t] = s[t];
    }
}

/* ---- the meta file ------------------------------------------------------ */

/* Parsed meta file.  Pointers point into the buffer parsed. */
typedef struct mstr {
    const char *p;
    uint32_t len;
} mstr;

typedef struct minput {
    mstr name;
    uint64_t maxlen, distinct;
    uint32_t dtype;             /* wb_dtype of the matrix, 0 without one */
    const unsigned char *vocab; /* saved vocabulary */
    uint64_t vocab_len;
} minput;

typedef struct mfile {
    mstr name;
    uint32_t dtype, ndim;
    uint64_t rows, cols, bytes, hash;
} mfile;

typedef struct meta {
    uint64_t key, n, nnz, skipped_unknown, skipped_bad, invalid_utf8, created;
    uint32_t task, nlabels, format, mode, ninputs, nfeat, nfiles;
    mstr sources[3];
    const unsigned char *labels;   /* nlabels strings */
    const unsigned char *fnames;   /* nfeat strings */
    minput *in;                    /* (ninputs) malloc'd */
    mfile *files;                  /* (nfiles) malloc'd */
} meta;

static void meta_free(meta *m) {
    free(m->in);
    free(m->files);
    m->in = NULL, m->files = NULL;
}

typedef struct cur {
    const unsigned char *p, *end;
    int bad;
} cur;

static uint32_t c32(cur *c) {
    if (c->bad || c->end - c->p < 4) return c->bad = 1, 0;
    uint32_t v = wb_get32(c->p);
    c->p += 4;
    return v;
}
static uint64_t c64(cur *c) {
    if (c->bad || c->end - c->p < 8) return c->bad = 1, 0;
    uint64_t v = wb_get64(c->p);
    c->p += 8;
    return v;
}
static mstr cstr(cur *c) {
    mstr s = {"", 0};
    uint32_t len = c32(c);
    if (c->bad || (uint64_t)(c->end - c->p) < len) return c->bad = 1, s;
    s.p = (const char *)c->p, s.len = len;
    c->p += len;
    return s;
}
static const unsigned char *cskip(cur *c, uint64_t len) {
    if (c->bad || (uint64_t)(c->end - c->p) < len) return c->bad = 1, NULL;
    const unsigned char *p = c->p;
    c->p += len;
    return p;
}

/* Parse a meta image of len bytes.  0, or WB_EFORMAT (not a data set),
 * WB_EVERSION, WB_ECORRUPT (damaged), WB_ENOMEM; err gets why. */
static int meta_parse(const unsigned char *b, size_t len, meta *m, const char *path, wb_err *err) {
    memset(m, 0, sizeof *m);
    if (len < 8 || memcmp(b, DS_MAGIC, 8))
        return wb_err_at(err, WB_EFORMAT, path, 0, 0, "not a wordbench data set (bad magic)");
    if (len < DS_HEADER + 8)
        return wb_err_at(err, WB_ECORRUPT, path, 0, (long long)len, "truncated: %zu bytes", len);
    if (wb_get32(b + 8) != WB_DATASET_VERSION)
        return wb_err_at(err, WB_EVERSION, path, 0, 8, "data-set format version %u, this wordbench reads %u",
                         wb_get32(b + 8), WB_DATASET_VERSION);
    if (wb_get64(b + len - 8) != XXH3_64bits(b, len - 8))
        return wb_err_at(err, WB_ECORRUPT, path, 0, (long long)(len - 8), "checksum mismatch (damaged or truncated)");
    cur c = {b + 12, b + len - 8, 0};
    uint32_t flags = c32(&c);
    m->key = c64(&c), m->n = c64(&c);
    m->task = c32(&c), m->nlabels = c32(&c);
    m->nnz = c64(&c), m->skipped_unknown = c64(&c), m->skipped_bad = c64(&c), m->invalid_utf8 = c64(&c);
    m->format = c32(&c), m->mode = c32(&c), m->ninputs = c32(&c), m->nfeat = c32(&c);
    m->created = c64(&c);
    m->nfiles = c32(&c);
    uint32_t reserved = c32(&c);
    if (flags || reserved || m->task < WB_TASK_BINARY || m->task > WB_TASK_MULTILABEL || m->format > WB_READER_CSV ||
        m->mode > WB_TEXT_EACH || m->ninputs == 0 || m->ninputs > 4096 || m->nfiles > DS_MAXFILES ||
        m->n == 0 || m->n > UINT32_MAX)
        return wb_err_at(err, WB_ECORRUPT, path, 0, 12, "bad header fields");
    for (int i = 0; i < 3; i++) m->sources[i] = cstr(&c);
    m->labels = c.p;
    for (uint32_t i = 0; i < m->nlabels && !c.bad; i++) cstr(&c);
    m->fnames = c.p;
    for (uint32_t i = 0; i < m->nfeat && !c.bad; i++) cstr(&c);
    m->in = calloc(m->ninputs, sizeof *m->in);
    m->files = calloc(m->nfiles ? m->nfiles : 1, sizeof *m->files);
    if (!m->in || !m->files) {
        meta_free(m);
        return wb_err_set(err, WB_ENOMEM, "out of memory");
    }
    for (uint32_t k = 0; k < m->ninputs && !c.bad; k++) {
        minput *in = &m->in[k];
        in->name = cstr(&c);
        in->maxlen = c64(&c), in->distinct = c64(&c);
        in->dtype = c32(&c);
        if (c32(&c)) c.bad = 1;
        in->vocab_len = c64(&c);
        in->vocab = cskip(&c, in->vocab_len);
    }
    for (uint32_t f = 0; f < m->nfiles && !c.bad; f++) {
        mfile *fi = &m->files[f];
        fi->name = cstr(&c);
        fi->dtype = c32(&c), fi->ndim = c32(&c);
        fi->rows = c64(&c), fi->cols = c64(&c), fi->bytes = c64(&c), fi->hash = c64(&c);
    }
    if (c.bad || c.p != c.end) {
        meta_free(m);
        return wb_err_at(err, WB_ECORRUPT, path, 0, -1, "inconsistent sections");
    }
    return 0;
}

/* ---- mapping and checking ---------------------------------------------- */

/* The files a data set with these figures must have, in meta order: name,
 * dtype, ndim, rows, cols.  Returns the count (<= DS_MAXFILES). */
typedef struct fspec {
    char name[32];
    wb_dtype dtype;
    int ndim;
    uint64_t rows, cols;
} fspec;

static size_t file_specs(fspec *fs, uint64_t n, uint64_t nnz, uint64_t nfeat, size_t K, const uint64_t *maxlen,
                         const uint32_t *dtype) {
    size_t f = 0;
    for (size_t k = 0; k < K; k++) {
        if (maxlen[k]) {
            snprintf(fs[f].name, sizeof fs[f].name, "x%zu.npy", k);
            fs[f].dtype = (wb_dtype)dtype[k], fs[f].ndim = 2, fs[f].rows = n, fs[f].cols = maxlen[k];
            f++;
        }
        snprintf(fs[f].name, sizeof fs[f].name, "len%zu.npy", k);
        fs[f].dtype = WB_DTYPE_U32, fs[f].ndim = 1, fs[f].rows = n, fs[f].cols = 1;
        f++;
    }
    static const struct {
        const char *name;
        wb_dtype dt;
    } fixed[] = {{"label_offsets.npy", WB_DTYPE_U64}, {"label_ids.npy", WB_DTYPE_U32}, {"split.npy", WB_DTYPE_U8}};
    for (int i = 0; i < 3; i++) {
        snprintf(fs[f].name, sizeof fs[f].name, "%s", fixed[i].name);
        fs[f].dtype = fixed[i].dt, fs[f].ndim = 1, fs[f].rows = i == 0 ? n + 1 : i == 1 ? nnz : n, fs[f].cols = 1;
        f++;
    }
    if (nfeat) {
        snprintf(fs[f].name, sizeof fs[f].name, "features.npy");
        fs[f].dtype = WB_DTYPE_F64, fs[f].ndim = 2, fs[f].rows = n, fs[f].cols = nfeat;
        f++;
    }
    return f;
}

/* Map dir/name (an NPY file of spec fs, recorded as fi) into *m.  verify:
 * also the XXH3-64 of the data.  0 or WB_ECORRUPT / errno with err set. */
static int map_array(const char *dir, const fspec *fs, const mfile *fi, int verify, fmap *m, wb_err *err) {
    char *path = join_path(dir, fs->name);
    if (!path) return wb_err_set(err, WB_ENOMEM, "out of memory");
    int rc = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat sb;
    uint64_t esize = wb_dtype_size(fs->dtype);
    if (fd < 0 || fstat(fd, &sb)) {
        rc = wb_err_at(err, errno, path, 0, -1, "cannot open: %s", strerror(errno));
        goto out;
    }
    if (fi->name.len != strlen(fs->name) || memcmp(fi->name.p, fs->name, fi->name.len) || fi->dtype != fs->dtype ||
        fi->ndim != (uint32_t)fs->ndim || fi->rows != fs->rows || fi->cols != fs->cols || !esize ||
        (fs->cols && fs->rows > UINT64_MAX / fs->cols / esize) || fi->bytes != fs->rows * fs->cols * esize ||
        (uint64_t)sb.st_size != WB_NPY_DATA_OFFSET + fi->bytes || (uint64_t)sb.st_size > SIZE_MAX) {
        rc = wb_err_at(err, WB_ECORRUPT, path, 0, -1, "size or shape differs from the meta file (truncated?)");
        goto out;
    }
    m->len = (size_t)sb.st_size;
    m->p = mmap(NULL, m->len, PROT_READ, MAP_SHARED, fd, 0);
    if (m->p == MAP_FAILED) {
        m->p = NULL;
        rc = wb_err_at(err, errno, path, 0, -1, "cannot map: %s", strerror(errno));
        goto out;
    }
    unsigned char head[WB_NPY_DATA_OFFSET];
    wb_npy_header_write(head, sizeof head, fs->dtype, fs->ndim, fs->rows, fs->cols);
    if (memcmp(head, m->p, sizeof head)) {
        rc = wb_err_at(err, WB_ECORRUPT, path, 0, 0, "NPY header differs from the meta file");
        goto out;
    }
    if (verify) {
        /* read(2) into a buffer that stays in the cache, not through the
         * mapping: no page faults at start (the pages fault in as training
         * touches them), about twice as fast */
        uint64_t h;
        posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
        if ((rc = wb_hash_range(fd, WB_NPY_DATA_OFFSET, fi->bytes, &h)))
            rc = wb_err_at(err, rc, path, 0, -1, "cannot read: %s", wb_strerror(rc));
        else if (h != fi->hash) rc = wb_err_at(err, WB_ECORRUPT, path, 0, -1, "checksum mismatch (damaged)");
    }
out:
    if (fd >= 0) close(fd);
    free(path);
    return rc;
}

/* Copy n strings of the meta into a NUL-separated table (names, off). */
static int copy_names(const unsigned char *p, uint32_t n, char **names, size_t **off) {
    cur c = {p, p + SIZE_MAX / 4, 0}; /* bounds were checked by meta_parse */
    size_t bytes = 0;
    for (uint32_t i = 0; i < n; i++) bytes += cstr(&c).len + 1;
    *names = malloc(bytes ? bytes : 1);
    *off = malloc(((size_t)n + 1) * sizeof **off);
    if (!*names || !*off) return WB_ENOMEM;
    c.p = p;
    size_t at = 0;
    for (uint32_t i = 0; i < n; i++) {
        mstr s = cstr(&c);
        (*off)[i] = at;
        memcpy(*names + at, s.p, s.len);
        at += s.len;
        (*names)[at++] = 0;
    }
    (*off)[n] = at;
    return 0;
}

static char *mstr_dup(mstr s) {
    char *p = malloc((size_t)s.len + 1);
    if (p) memcpy(p, s.p, s.len), p[s.len] = 0;
    return p;
}

/* The invariants cheap to check over the mapped arrays. */
static int check_arrays(const wb_dataset *ds, const char *dir, wb_err *err) {
    const size_t n = ds->n;
    if (ds->loff[0] != 0 || ds->loff[n] != ds->nnz)
        return wb_err_at(err, WB_ECORRUPT, dir, 0, -1, "label offsets do not match the label ids");
    for (size_t i = 0; i < n; i++) {
        size_t a = ds->loff[i], b = ds->loff[i + 1];
        if (b < a || b > ds->nnz || (ds->task != WB_TASK_MULTILABEL && b - a != 1) || ds->split[i] > WB_DS_VALID)
            return wb_err_at(err, WB_ECORRUPT, dir, 0, -1, "row %zu: bad label offsets or split value", i);
        for (size_t j = a; j < b; j++)
            if (ds->lids[j] >= ds->nlabels || (j > a && ds->lids[j] <= ds->lids[j - 1]))
                return wb_err_at(err, WB_ECORRUPT, dir, 0, -1, "row %zu: bad label ids", i);
    }
    for (size_t i = 0; i < n * ds->nfeat; i++)
        if (!finite(ds->feat[i])) return wb_err_at(err, WB_ECORRUPT, dir, 0, -1, "a feature is not finite");
    return 0;
}

/* Map the data set in directory dir.  want_key: the key it must have (0 =
 * any).  verify: check the arrays' checksums and invariants (0 only for a
 * data set this process has just written). */
static int ds_map(wb_dataset **out, const char *dir, uint64_t want_key, int verify, wb_err *err) {
    *out = NULL;
    char *mpath = join_path(dir, DS_META);
    if (!mpath) return wb_err_set(err, WB_ENOMEM, "out of memory");
    unsigned char *b = NULL;
    size_t len = 0;
    int rc = wb_read_file(mpath, &b, &len);
    if (rc) {
        rc = wb_err_at(err, rc, mpath, 0, -1, "cannot read: %s", wb_strerror(rc));
        free(mpath);
        return rc;
    }
    meta m;
    wb_dataset *ds = NULL;
    fspec *fs = NULL;
    uint64_t *mls = NULL;
    uint32_t *dts = NULL;
    if ((rc = meta_parse(b, len, &m, mpath, err))) goto out;
    if (want_key && m.key != want_key) {
        rc = wb_err_at(err, WB_ECORRUPT, mpath, 0, 16, "key %016llx, expected %016llx", (unsigned long long)m.key,
                       (unsigned long long)want_key);
        goto out;
    }
    ds = calloc(1, sizeof *ds);
    fs = malloc(DS_MAXFILES * sizeof *fs);
    mls = malloc(m.ninputs * sizeof *mls);
    dts = malloc(m.ninputs * sizeof *dts);
    if (!ds || !fs || !mls || !dts) goto oom;
    ds->n = (size_t)m.n, ds->nnz = (size_t)m.nnz, ds->task = (wb_task)m.task, ds->nlabels = m.nlabels;
    ds->nfeat = m.nfeat, ds->skipped_unknown = m.skipped_unknown, ds->skipped_bad = m.skipped_bad;
    ds->invalid_utf8 = m.invalid_utf8, ds->format = (wb_reader_format)m.format, ds->mode = (wb_text_mode)m.mode;
    ds->created = m.created;
    for (int i = 0; i < 3; i++)
        if (m.sources[i].len && !(ds->sources[i] = mstr_dup(m.sources[i]))) goto oom;
    if (copy_names(m.labels, m.nlabels, &ds->lnames, &ds->lname_off)) goto oom;
    for (uint32_t i = 1; i < m.nlabels; i++) {
        const char *a = ds->lnames + ds->lname_off[i - 1], *c = ds->lnames + ds->lname_off[i];
        if (name_cmp(a, ds->lname_off[i] - ds->lname_off[i - 1] - 1, c, ds->lname_off[i + 1] - ds->lname_off[i] - 1) >=
            0) {
            rc = wb_err_at(err, WB_ECORRUPT, mpath, 0, -1, "label names out of order");
            goto out;
        }
    }
    if (m.nfeat) {
        char *fn = NULL;
        size_t *fo = NULL;
        ds->fnames = calloc(m.nfeat, sizeof *ds->fnames);
        int bad = !ds->fnames || copy_names(m.fnames, m.nfeat, &fn, &fo);
        for (uint32_t j = 0; !bad && j < m.nfeat; j++) bad = !(ds->fnames[j] = strdup(fn + fo[j]));
        free(fn);
        free(fo);
        if (bad) goto oom;
    }
    ds->ninputs = m.ninputs;
    if (!(ds->in = calloc(m.ninputs, sizeof *ds->in))) goto oom;
    for (uint32_t k = 0; k < m.ninputs; k++) {
        const minput *mi = &m.in[k];
        dinput *di = &ds->in[k];
        mls[k] = mi->maxlen, dts[k] = mi->dtype;
        if (mi->maxlen > (1u << 24) || (mi->maxlen && mi->dtype != WB_DTYPE_U16 && mi->dtype != WB_DTYPE_I32) ||
            (!mi->maxlen && mi->dtype)) {
            rc = wb_err_at(err, WB_ECORRUPT, mpath, 0, -1, "input %u: bad maxlen or id type", k);
            goto out;
        }
        if (!(di->name = mstr_dup(mi->name))) goto oom;
        if ((rc = wb_vocab_load_buf(&di->vocab, mi->vocab, (size_t)mi->vocab_len, err))) {
            rc = wb_err_at(err, WB_ECORRUPT, mpath, 0, -1, "input %u: vocabulary: %s", k, err ? err->msg : "bad");
            goto out;
        }
        size_t V = wb_vocab_size(di->vocab);
        if (mi->distinct < V - 2 || (mi->dtype == WB_DTYPE_U16 && V > 65536)) {
            rc = wb_err_at(err, WB_ECORRUPT, mpath, 0, -1, "input %u: vocabulary and id type disagree", k);
            goto out;
        }
        di->pub.name = di->name, di->pub.maxlen = (size_t)mi->maxlen, di->pub.vocab = di->vocab;
        di->pub.distinct = (size_t)mi->distinct;
    }
    size_t nf = file_specs(fs, m.n, m.nnz, m.nfeat, m.ninputs, mls, dts);
    if (nf != m.nfiles) {
        rc = wb_err_at(err, WB_ECORRUPT, mpath, 0, -1, "%u files listed, %zu expected", m.nfiles, nf);
        goto out;
    }
    if (!(ds->maps = calloc(nf, sizeof *ds->maps))) goto oom;
    ds->nmaps = nf;
    for (size_t f = 0; f < nf; f++)
        if ((rc = map_array(dir, &fs[f], &m.files[f], verify, &ds->maps[f], err))) goto out;
    /* point the arrays into the maps, in file_specs order */
    size_t f = 0;
    for (size_t k = 0; k < ds->ninputs; k++) {
        dinput *di = &ds->in[k];
        if (di->pub.maxlen) {
            di->ids.data = (const char *)ds->maps[f++].p + WB_NPY_DATA_OFFSET;
            di->ids.n = ds->n, di->ids.T = di->pub.maxlen, di->ids.width = dts[k] == WB_DTYPE_U16 ? 2 : 4;
            di->pub.ids = &di->ids;
        }
        di->pub.lengths = (const uint32_t *)((const char *)ds->maps[f++].p + WB_NPY_DATA_OFFSET);
    }
    ds->loff = (const size_t *)((const char *)ds->maps[f++].p + WB_NPY_DATA_OFFSET);
    ds->lids = (const uint32_t *)((const char *)ds->maps[f++].p + WB_NPY_DATA_OFFSET);
    ds->split = (const uint8_t *)ds->maps[f++].p + WB_NPY_DATA_OFFSET;
    if (ds->nfeat) ds->feat = (const double *)((const char *)ds->maps[f++].p + WB_NPY_DATA_OFFSET);
    if (verify && (rc = check_arrays(ds, dir, err))) goto out;
    if (!(ds->path = strdup(dir))) goto oom;
    goto out;
oom:
    rc = wb_err_set(err, WB_ENOMEM, "out of memory mapping the data set %s", dir);
out:
    if (rc) {
        wb_dataset_destroy(ds);
        ds = NULL;
    }
    *out = ds;
    meta_free(&m);
    free(fs);
    free(mls);
    free(dts);
    free(b);
    free(mpath);
    return rc;
}

int wb_dataset_open(wb_dataset **out, const char *path, wb_err *err) {
    if (!out || !path) return wb_err_set(err, WB_EUSAGE, "wb_dataset_open: NULL argument");
    return ds_map(out, path, 0, 1, err);
}

/* ---- writing arrays ---------------------------------------------------- */

/* A file being written sequentially: an NPY array (a 4096-byte header
 * placeholder, then the data, hashed; the header is written at the end when
 * the row count is known) or a raw temporary stream. */
typedef struct oarr {
    int fd;                     /* -1 when not open */
    char *path;                 /* owned */
    int raw;                    /* 1: temporary stream (no header, no hash) */
    wb_dtype dtype;             /* NPY element type */
    int ndim;                   /* 1 or 2 */
    uint64_t cols;              /* elements per row (1 for ndim 1) */
    uint64_t bytes;             /* data bytes written */
    XXH3_state_t *h;            /* hash of the data (not raw) */
    unsigned char *buf;         /* IOBUF bytes */
    size_t nbuf;                /* bytes buffered */
    int err;                    /* first errno */
} oarr;

static int oarr_open(oarr *a, const char *dir, const char *name, int raw, wb_dtype dt, int ndim, uint64_t cols,
                     wb_err *err) {
    memset(a, 0, sizeof *a);
    a->fd = -1, a->raw = raw, a->dtype = dt, a->ndim = ndim, a->cols = cols;
    a->path = join_path(dir, name);
    a->buf = malloc(IOBUF);
    a->h = raw ? NULL : XXH3_createState();
    if (!a->path || !a->buf || (!raw && !a->h)) return wb_err_set(err, WB_ENOMEM, "out of memory");
    if (a->h) XXH3_64bits_reset(a->h);
    a->fd = open(a->path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (a->fd < 0) return wb_err_at(err, errno, a->path, 0, -1, "cannot create: %s", strerror(errno));
    if (!raw) {
        memset(a->buf, 0, WB_NPY_DATA_OFFSET); /* the header's place */
        a->nbuf = WB_NPY_DATA_OFFSET;
    }
    return 0;
}

static void oarr_flush(oarr *a) {
    size_t done = 0;
    while (!a->err && done < a->nbuf) {
        ssize_t k = write(a->fd, a->buf + done, a->nbuf - done);
        if (k < 0) {
            if (errno != EINTR) a->err = errno;
            continue;
        }
        done += (size_t)k;
    }
    a->nbuf = 0;
}

static void oarr_put(oarr *a, const void *p, size_t n) {
    if (a->err || a->fd < 0) return;
    if (a->h) XXH3_64bits_update(a->h, p, n);
    a->bytes += n;
    const unsigned char *s = p;
    while (n) {
        if (a->nbuf == IOBUF) oarr_flush(a);
        if (a->err) return;
        size_t k = IOBUF - a->nbuf < n ? IOBUF - a->nbuf : n;
        memcpy(a->buf + a->nbuf, s, k);
        a->nbuf += k, s += k, n -= k;
    }
}

static void oarr_free(oarr *a) {
    if (a->fd >= 0) close(a->fd);
    a->fd = -1;
    free(a->buf);
    free(a->path);
    if (a->h) XXH3_freeState(a->h);
    a->buf = NULL, a->path = NULL, a->h = NULL;
}

/* Remove a stream (a temporary, or a file of a failed build). */
static void oarr_discard(oarr *a) {
    if (a->path) unlink(a->path);
    oarr_free(a);
}

/* Finish an NPY array of `rows` rows (or a raw stream: rows ignored); for
 * an NPY array, *rec gets its meta record.  0 or errno with err set (ENOSPC
 * for a full disk). */
static int oarr_finish(oarr *a, uint64_t rows, mfile *rec, wb_err *err) {
    if (a->fd < 0) return 0;
    oarr_flush(a);
    if (!a->err && !a->raw) {
        unsigned char head[WB_NPY_DATA_OFFSET];
        wb_npy_header_write(head, sizeof head, a->dtype, a->ndim, rows, a->cols);
        for (size_t done = 0; !a->err && done < sizeof head;) {
            ssize_t k = pwrite(a->fd, head + done, sizeof head - done, (off_t)done);
            if (k < 0 && errno != EINTR) a->err = errno;
            if (k > 0) done += (size_t)k;
        }
        if (rec) {
            const char *base = strrchr(a->path, '/');
            base = base ? base + 1 : a->path;
            rec->name.p = base, rec->name.len = (uint32_t)strlen(base);
            rec->dtype = a->dtype, rec->ndim = (uint32_t)a->ndim, rec->rows = rows, rec->cols = a->cols;
            rec->bytes = a->bytes, rec->hash = XXH3_64bits_digest(a->h);
        }
    }
    if (close(a->fd) && !a->err) a->err = errno;
    a->fd = -1;
    if (a->err) return wb_err_at(err, a->err, a->path, 0, -1, "cannot write: %s", strerror(a->err));
    return 0;
}

/* Sequential reading of a file written by oarr (skip: header bytes). */
typedef struct istream {
    int fd;
    unsigned char *buf;
    size_t pos, len;
} istream;

static int is_open(istream *s, const char *path, size_t skip, wb_err *err) {
    s->fd = open(path, O_RDONLY | O_CLOEXEC);
    s->buf = malloc(IOBUF);
    s->pos = s->len = 0;
    if (s->fd < 0) return wb_err_at(err, errno, path, 0, -1, "cannot open: %s", strerror(errno));
    if (!s->buf) return wb_err_set(err, WB_ENOMEM, "out of memory");
    posix_fadvise(s->fd, 0, 0, POSIX_FADV_SEQUENTIAL);
    if (skip && lseek(s->fd, (off_t)skip, SEEK_SET) < 0)
        return wb_err_at(err, errno, path, 0, -1, "cannot seek: %s", strerror(errno));
    return 0;
}

static void is_close(istream *s) {
    if (s->fd >= 0) close(s->fd);
    s->fd = -1;
    free(s->buf);
    s->buf = NULL;
}

/* Read exactly n bytes into p.  0, errno, or EIO at a premature end. */
static int is_read(istream *s, void *p, size_t n) {
    unsigned char *d = p;
    while (n) {
        if (s->pos == s->len) {
            ssize_t k = read(s->fd, s->buf, IOBUF);
            if (k < 0 && errno == EINTR) continue;
            if (k <= 0) return k < 0 ? errno : EIO;
            s->pos = 0, s->len = (size_t)k;
        }
        size_t k = s->len - s->pos < n ? s->len - s->pos : n;
        memcpy(d, s->buf + s->pos, k);
        s->pos += k, d += k, n -= k;
    }
    return 0;
}

/* ---- the build --------------------------------------------------------- */

/* One text input under construction. */
typedef struct binput {
    wb_vocab *v;                /* provisional ids, then finished */
    size_t T;                   /* maxlen (0: no matrix) */
    oarr xtmp;                  /* raw (n, T) u32 provisional ids */
    oarr x;                     /* x<k>.npy, final ids */
    oarr len;                   /* len<k>.npy */
    oarr tok;                   /* raw: provisional ids of every token of the training
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
    oarr loff, lids, split, feat;
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
    mfile *recs;                /* (nrecs) meta records of the finished arrays */
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
        if ((rc = oarr_open(&in->len, b->dir, name, 0, WB_DTYPE_U32, 1, 1, b->err))) return rc;
        if (in->T) {
            if (!(in->row = malloc(in->T * sizeof *in->row))) return wb_err_set(b->err, WB_ENOMEM, "out of memory");
            snprintf(name, sizeof name, "x%zu.tmp", k);
            if ((rc = oarr_open(&in->xtmp, b->dir, name, 1, WB_DTYPE_U32, 2, in->T, b->err))) return rc;
        }
        if (b->split_later) {
            snprintf(name, sizeof name, "tok%zu.tmp", k);
            if ((rc = oarr_open(&in->tok, b->dir, name, 1, WB_DTYPE_U32, 1, 1, b->err))) return rc;
        }
    }
    int rc = oarr_open(&b->loff, b->dir, "label_offsets.npy", 0, WB_DTYPE_U64, 1, 1, b->err);
    if (!rc) rc = oarr_open(&b->lids, b->dir, "label_ids.tmp", 1, WB_DTYPE_U32, 1, 1, b->err);
    if (!rc && !b->split_later) rc = oarr_open(&b->split, b->dir, "split.npy", 0, WB_DTYPE_U8, 1, 1, b->err);
    if (!rc && b->nfeat) rc = oarr_open(&b->feat, b->dir, "features.npy", 0, WB_DTYPE_F64, 2, b->nfeat, b->err);
    if (!rc) {
        uint64_t zero = 0;
        oarr_put(&b->loff, &zero, 8);
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
        if (grow(&in->ids, &in->ids_cap, n + b->tl.n + 1, sizeof *in->ids))
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
    if (grow(&b->lab, &b->lab_cap, ex->n_labels + 1, sizeof *b->lab))
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
        oarr_put(&in->len, &len32, 4);
        if (in->T) {
            size_t first, kept, dst;
            wb_pad_window(ntok, in->T, b->o->padding, b->o->truncating, &first, &kept, &dst);
            memset(in->row, 0, in->T * sizeof *in->row);
            memcpy(in->row + dst, in->ids + first, kept * sizeof *in->row);
            oarr_put(&in->xtmp, in->row, in->T * sizeof *in->row);
        }
        if (b->phase == 0 && b->split_later) oarr_put(&in->tok, in->ids, ntok * sizeof *in->ids);
    }
    oarr_put(&b->lids, b->lab, nl * sizeof *b->lab);
    b->nnz += nl;
    oarr_put(&b->loff, &b->nnz, 8);
    if (b->nfeat) oarr_put(&b->feat, ex->features, b->nfeat * sizeof *ex->features);
    if (!b->split_later) {
        static const uint8_t part[3] = {WB_DS_TRAIN, WB_DS_VALID, WB_DS_TEST};
        oarr_put(&b->split, &part[b->phase], 1);
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
    return name_cmp(x->p, x->len, y->p, y->len);
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
static int add_rec(build *b, oarr *a, uint64_t rows, wb_err *err) {
    if (grow(&b->recs, &b->recs_cap, b->nrecs + 1, sizeof *b->recs) ||
        grow(&b->rnames, &b->rnames_cap, b->nrecs + 1, sizeof *b->rnames))
        return wb_err_set(err, WB_ENOMEM, "out of memory");
    mfile *r = &b->recs[b->nrecs];
    int rc = oarr_finish(a, rows, r, err);
    if (rc) return rc;
    snprintf(b->rnames[b->nrecs], sizeof b->rnames[0], "%.*s", (int)r->name.len, r->name.p);
    r->name.p = b->rnames[b->nrecs++];
    return 0;
}

/* Rewrite the label ids of the training rows as final ids, sorted per row
 * (the provisional ids were sorted and distinct; the map keeps them
 * distinct), into label_ids.npy; the other rows' ids are final already. */
static int write_label_ids(build *b, wb_err *err) {
    istream off = {-1, NULL, 0, 0}, ids = {-1, NULL, 0, 0};
    oarr out;
    int rc = oarr_open(&out, b->dir, "label_ids.npy", 0, WB_DTYPE_U32, 1, 1, err);
    if (!rc) rc = is_open(&off, b->loff.path, WB_NPY_DATA_OFFSET, err);
    if (!rc) rc = is_open(&ids, b->lids.path, 0, err);
    uint64_t prev = 0, cur = 0;
    if (!rc && (rc = is_read(&off, &prev, 8))) rc = wb_err_at(err, rc, b->loff.path, 0, -1, "cannot read back");
    for (uint64_t i = 0; !rc && i < b->n; i++) {
        if ((rc = is_read(&off, &cur, 8))) {
            rc = wb_err_at(err, rc, b->loff.path, 0, -1, "cannot read back");
            break;
        }
        size_t k = (size_t)(cur - prev);
        if (grow(&b->lab, &b->lab_cap, k + 1, sizeof *b->lab)) {
            rc = wb_err_set(err, WB_ENOMEM, "out of memory");
            break;
        }
        if ((rc = is_read(&ids, b->lab, k * sizeof *b->lab))) {
            rc = wb_err_at(err, rc, b->lids.path, 0, -1, "cannot read back");
            break;
        }
        if (i < b->ntrain) {
            for (size_t j = 0; j < k; j++) b->lab[j] = b->lmap[b->lab[j]];
            if (k > 1) qsort(b->lab, k, sizeof *b->lab, u32_cmp);
        }
        oarr_put(&out, b->lab, k * sizeof *b->lab);
        prev = cur;
    }
    is_close(&off);
    is_close(&ids);
    if (!rc) rc = add_rec(b, &out, b->nnz, err);
    oarr_free(&out);
    oarr_discard(&b->lids);
    return rc;
}

/* Map a finished NPY array of the build (len data bytes) read-only: the
 * split needs the labels as arrays.  0 or errno with err set. */
static int map_back(const char *path, size_t len, fmap *m, const void **data, wb_err *err) {
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
    fmap mo = {NULL, 0}, mi = {NULL, 0};
    char *ipath = join_path(b->dir, "label_ids.npy");
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
    oarr out;
    if (!rc) rc = oarr_open(&out, b->dir, "split.npy", 0, WB_DTYPE_U8, 1, 1, err);
    if (!rc) {
        oarr_put(&out, sp, b->n);
        rc = add_rec(b, &out, b->n, err);
        oarr_free(&out);
    }
    /* recount each input over the training split */
    for (size_t k = 0; !rc && k < b->K; k++) {
        binput *in = &b->in[k];
        istream len = {-1, NULL, 0, 0}, tok = {-1, NULL, 0, 0};
        wb_vocab_recount(in->v);
        if (!(rc = oarr_finish(&in->tok, 0, NULL, err))) rc = is_open(&tok, in->tok.path, 0, err);
        if (!rc) rc = is_open(&len, in->len.path, WB_NPY_DATA_OFFSET, err);
        for (uint64_t i = 0; !rc && i < b->ntrain; i++) {
            uint32_t nt;
            if ((rc = is_read(&len, &nt, 4))) {
                rc = wb_err_at(err, rc, in->len.path, 0, -1, "cannot read back: %s", strerror(rc));
                break;
            }
            if (grow(&in->ids, &in->ids_cap, (size_t)nt + 1, sizeof *in->ids)) {
                rc = wb_err_set(err, WB_ENOMEM, "out of memory");
                break;
            }
            if ((rc = is_read(&tok, in->ids, (size_t)nt * 4))) {
                rc = wb_err_at(err, rc, in->tok.path, 0, -1, "cannot read back: %s", strerror(rc));
                break;
            }
            if (sp[i] == WB_DS_TRAIN && (rc = wb_vocab_count_ids(in->v, in->ids, nt, err))) break;
        }
        is_close(&len);
        is_close(&tok);
        oarr_discard(&in->tok);
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
    if ((rc = oarr_finish(&in->xtmp, 0, NULL, err))) return rc;
    char name[32];
    snprintf(name, sizeof name, "x%zu.npy", k);
    if ((rc = oarr_open(&in->x, b->dir, name, 0, in->dtype, 2, in->T, err))) return rc;
    istream s = {-1, NULL, 0, 0};
    if ((rc = is_open(&s, in->xtmp.path, 0, err))) return rc;
    const size_t T = in->T;
    uint16_t *r16 = malloc(T * sizeof *r16);
    int32_t *r32 = malloc(T * sizeof *r32);
    if (!r16 || !r32) rc = wb_err_set(err, WB_ENOMEM, "out of memory");
    for (uint64_t i = 0; !rc && i < b->n; i++) {
        if ((rc = is_read(&s, in->row, T * sizeof *in->row))) {
            rc = wb_err_at(err, rc, in->xtmp.path, 0, -1, "cannot read back");
            break;
        }
        for (size_t t = 0; t < T; t++) r32[t] = in->map[in->row[t]];
        if (in->dtype == WB_DTYPE_U16) {
            for (size_t t = 0; t < T; t++) r16[t] = (uint16_t)r32[t];
            oarr_put(&in->x, r16, T * sizeof *r16);
        } else {
            oarr_put(&in->x, r32, T * sizeof *r32);
        }
    }
    free(r16);
    free(r32);
    is_close(&s);
    oarr_discard(&in->xtmp);
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
    char *path = join_path(b->dir, DS_META);
    if (!path) return wb_err_set(err, WB_ENOMEM, "out of memory");
    wb_awriter w;
    int rc = wb_aw_open(&w, path);
    if (rc) {
        rc = wb_err_at(err, rc, path, 0, -1, "cannot create: %s", wb_strerror(rc));
        free(path);
        return rc;
    }
    wb_aw_write(&w, DS_MAGIC, 8);
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
        const mfile *r = &b->recs[f];
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
static int rec_rank(const mfile *r) {
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
        oarr_free(&in->xtmp), oarr_free(&in->x), oarr_free(&in->len), oarr_free(&in->tok);
        wb_vocab_destroy(in->v);
        free(in->ids), free(in->row), free(in->map), free(in->name);
    }
    free(b->in);
    oarr_free(&b->loff), oarr_free(&b->lids), oarr_free(&b->split), oarr_free(&b->feat);
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
    if ((rc = oarr_finish(&b.lids, 0, NULL, err)) || (rc = write_label_ids(&b, err))) goto done;
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

/* ---- cache key --------------------------------------------------------- */

static void h_u64(XXH3_state_t *st, uint64_t v) {
    unsigned char b[8];
    for (int i = 0; i < 8; i++) b[i] = (unsigned char)(v >> (8 * i));
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

static char *key_path(const char *dir, uint64_t key, const char *suffix);

/* An input's identity and state: a memo of its content hash is reused only
 * while all of these are unchanged. */
typedef struct fstate {
    uint64_t dev, ino, size, mtime_ns, ctime_ns;
} fstate;

static fstate fstate_of(const struct stat *sb) {
    fstate f = {(uint64_t)sb->st_dev, (uint64_t)sb->st_ino, (uint64_t)sb->st_size,
                (uint64_t)sb->st_mtim.tv_sec * 1000000000u + (uint64_t)sb->st_mtim.tv_nsec,
                (uint64_t)sb->st_ctim.tv_sec * 1000000000u + (uint64_t)sb->st_ctim.tv_nsec};
    return f;
}

static const char SRC_MAGIC[8] = {'W', 'B', 'D', 'S', 'S', 'R', 'C', 0};
#define SRC_BYTES (8 + 4 + 4 + 5 * 8 + 8 + 8) /* magic, version, 0, fstate, hash, checksum */

/* <cache_dir>/<16 hex>.src: the memo of one input file's content hash. */
static char *src_path(const char *dir, const fstate *f) {
    uint64_t id[2] = {f->dev, f->ino};
    return key_path(dir, XXH3_64bits(id, sizeof id), ".src");
}

/* The XXH3-64 of a file's bytes into *hash, *size.  cache_dir not NULL:
 * taken from its memo when the file's device, inode, size, mtime and ctime
 * (nanoseconds) are those recorded, else computed and memoised (a failure
 * to write the memo is ignored). */
static int content_hash(const char *path, const char *cache_dir, uint64_t *hash, uint64_t *size, wb_err *err) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return wb_err_at(err, errno, path, 0, -1, "cannot open: %s", strerror(errno));
    struct stat sb;
    int rc = fstat(fd, &sb) ? errno : 0, memo = !rc && cache_dir && S_ISREG(sb.st_mode);
    fstate f = fstate_of(&sb);
    char *mp = memo ? src_path(cache_dir, &f) : NULL;
    unsigned char *m = NULL;
    size_t mlen = 0;
    if (mp && !wb_read_file(mp, &m, &mlen) && mlen == SRC_BYTES && !memcmp(m, SRC_MAGIC, 8) &&
        wb_get32(m + 8) == 1 && wb_get64(m + SRC_BYTES - 8) == XXH3_64bits(m, SRC_BYTES - 8)) {
        fstate g = {wb_get64(m + 16), wb_get64(m + 24), wb_get64(m + 32), wb_get64(m + 40), wb_get64(m + 48)};
        if (!memcmp(&f, &g, sizeof f)) {
            *hash = wb_get64(m + 56), *size = f.size;
            free(m), free(mp);
            close(fd);
            return 0;
        }
    }
    free(m);
    uint64_t total = 0;
    XXH3_state_t *st = XXH3_createState();
    unsigned char *buf = malloc(IOBUF);
    if (!rc && (!st || !buf)) rc = WB_ENOMEM;
    if (!rc) XXH3_64bits_reset(st);
    posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
    while (!rc) {
        ssize_t got = read(fd, buf, IOBUF);
        if (got < 0 && errno == EINTR) continue;
        if (got < 0) rc = errno;
        if (got <= 0) break;
        XXH3_64bits_update(st, buf, (size_t)got);
        total += (uint64_t)got;
    }
    if (!rc) *hash = XXH3_64bits_digest(st), *size = total;
    struct stat after;
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    uint64_t now_ns = (uint64_t)now.tv_sec * 1000000000u + (uint64_t)now.tv_nsec, last = f.ctime_ns > f.mtime_ns ? f.ctime_ns : f.mtime_ns;
    /* a file changed in the last 2 s is not memoised: file systems stamp times
     * in ticks of a few ms, so a write right after ours could keep them */
    if (!rc && mp && now_ns > last + 2000000000u && !fstat(fd, &after) && total == f.size) {
        fstate g = fstate_of(&after);
        wb_awriter w;
        if (!memcmp(&f, &g, sizeof f) && !wb_aw_open(&w, mp)) { /* unchanged while hashed */
            wb_aw_write(&w, SRC_MAGIC, 8);
            wb_aw_u32(&w, 1);
            wb_aw_u32(&w, 0);
            wb_aw_u64(&w, f.dev), wb_aw_u64(&w, f.ino), wb_aw_u64(&w, f.size);
            wb_aw_u64(&w, f.mtime_ns), wb_aw_u64(&w, f.ctime_ns), wb_aw_u64(&w, *hash);
            wb_aw_commit(&w);
        }
    }
    free(buf);
    if (st) XXH3_freeState(st);
    free(mp);
    close(fd);
    if (rc == WB_ENOMEM) return wb_err_set(err, rc, "out of memory");
    if (rc) return wb_err_at(err, rc, path, 0, -1, "read error while hashing: %s", strerror(rc));
    return 0;
}

static int h_file(XXH3_state_t *st, const char *path, const char *cache_dir, wb_err *err) {
    h_str(st, path);
    if (!path) return 0;
    uint64_t hash, size;
    int rc = content_hash(path, cache_dir, &hash, &size, err);
    if (!rc) h_u64(st, hash), h_u64(st, size);
    return rc;
}

static int cache_key(const wb_dataset_opts *o, uint64_t *key, wb_err *err) {
    XXH3_state_t *st = XXH3_createState();
    if (!st) return wb_err_set(err, WB_ENOMEM, "out of memory");
    XXH3_64bits_reset(st);
    h_str(st, "wordbench data set v3");
    int rc = h_file(st, o->train_path, o->cache_dir, err);
    if (!rc) rc = h_file(st, o->valid_path, o->cache_dir, err);
    if (!rc) rc = h_file(st, o->test_path, o->cache_dir, err);
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
    h_u64(st, (uint64_t)o->text_mode);
    size_t nml = o->text_mode == WB_TEXT_EACH && o->maxlens && r->text_cols ? r->n_text_cols : 0;
    h_u64(st, nml);
    for (size_t i = 0; i < nml; i++) h_u64(st, o->maxlens[i]);
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

/* ---- the cache directory ------------------------------------------------ */

/* "<dir>/<16 hex digits><suffix>" */
static char *key_path(const char *dir, uint64_t key, const char *suffix) {
    char name[64];
    snprintf(name, sizeof name, "%016llx%s", (unsigned long long)key, suffix);
    return join_path(dir, name);
}

/* Remove leftovers of dead builders of `key` (the caller holds its lock). */
static void remove_stale(const char *dir, uint64_t key) {
    char prefix[64];
    int pl = snprintf(prefix, sizeof prefix, "%016llx.wbds.", (unsigned long long)key);
    DIR *d = opendir(dir);
    if (!d) return;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (strncmp(e->d_name, prefix, (size_t)pl)) continue;
        char *p = join_path(dir, e->d_name);
        if (p) wb_rmrf(p);
        free(p);
    }
    closedir(d);
}

/* Take the exclusive lock of a key: flock on <key>.lock.  Its holder
 * unlinks the file before releasing it (no lock files stay behind), so a
 * waiter may get a lock on a file that is gone: it then opens the path anew.
 * *waited = 1 when another process held it. */
static int take_lock(const char *path, int *fd, int *waited, wb_err *err) {
    for (;;) {
        *fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0666);
        if (*fd < 0) return wb_err_at(err, errno, path, 0, -1, "cannot create the lock file: %s", strerror(errno));
        if (flock(*fd, LOCK_EX | LOCK_NB)) {
            *waited = 1;
            while (flock(*fd, LOCK_EX) && errno == EINTR) {
            }
        }
        struct stat a, b;
        if (!fstat(*fd, &a) && !stat(path, &b) && a.st_dev == b.st_dev && a.st_ino == b.st_ino) return 0;
        close(*fd);
        *fd = -1;
    }
}

/* Publish the built directory tmp as final (replacing an invalid one). */
static int publish(const char *tmp, const char *final, const char *dir, wb_err *err) {
    if (wb_rename_noreplace(tmp, final) == 0) goto synced;
    if (errno == EEXIST || errno == ENOTEMPTY) {
        if (wb_rename_exchange(tmp, final) == 0) {
            wb_rmrf(tmp); /* now the old one; processes mapping it keep their mappings */
            goto synced;
        }
    } else if (errno == EINVAL) { /* no renameat2 flags on this file system */
        wb_rmrf(final);
        if (rename(tmp, final) == 0) goto synced;
    }
    return wb_err_at(err, errno, final, 0, -1, "cannot publish the data set: %s", strerror(errno));
synced:
    wb_fsync_path(dir, 1);
    return 0;
}

static int is_hexkey(const char *s) {
    for (int i = 0; i < 16; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f'))) return 0;
    return 1;
}

/* What kind of cache entry a file name is (WB_ENTRY_*), 0 for another file. */
static int entry_kind(const char *name) {
    if (strlen(name) < 20 || !is_hexkey(name)) return 0;
    const char *s = name + 16;
    if (!strcmp(s, ".wbds")) return WB_ENTRY_DATASET;
    if (!strncmp(s, ".wbds.", 6)) return WB_ENTRY_PARTIAL;
    if (!strcmp(s, ".lock")) return WB_ENTRY_LOCK;
    if (!strcmp(s, ".src")) return WB_ENTRY_INPUT;
    return 0;
}

/* Bytes of a file or of the files of a directory (one level). */
static uint64_t entry_bytes(const char *path) {
    struct stat sb;
    if (lstat(path, &sb)) return 0;
    if (!S_ISDIR(sb.st_mode)) return (uint64_t)sb.st_size;
    uint64_t total = 0;
    DIR *d = opendir(path);
    struct dirent *e;
    while (d && (e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
        char *p = join_path(path, e->d_name);
        if (p && !lstat(p, &sb) && S_ISREG(sb.st_mode)) total += (uint64_t)sb.st_size;
        free(p);
    }
    if (d) closedir(d);
    return total;
}

static int entry_cmp(const void *a, const void *b) {
    return strcmp(((const wb_dataset_entry *)a)->name, ((const wb_dataset_entry *)b)->name);
}

void wb_dataset_entries_free(wb_dataset_entry *e, size_t n) {
    for (size_t i = 0; e && i < n; i++) free(e[i].name), free(e[i].source);
    free(e);
}

int wb_dataset_cache_list(const char *dir, wb_dataset_entry **out, size_t *n, wb_err *err) {
    *out = NULL, *n = 0;
    DIR *d = opendir(dir);
    if (!d) return wb_err_at(err, errno, dir, 0, -1, "cannot list: %s", strerror(errno));
    wb_dataset_entry *v = NULL;
    size_t cap = 0, k = 0;
    struct dirent *e;
    int rc = 0;
    while (!rc && (e = readdir(d))) {
        int kind = entry_kind(e->d_name);
        if (!kind) continue;
        if (grow(&v, &cap, k + 1, sizeof *v)) {
            rc = wb_err_set(err, WB_ENOMEM, "out of memory");
            break;
        }
        wb_dataset_entry *x = &v[k];
        memset(x, 0, sizeof *x);
        x->kind = kind;
        char *p = join_path(dir, e->d_name);
        if (!(x->name = strdup(e->d_name)) || !p) {
            free(p);
            rc = wb_err_set(err, WB_ENOMEM, "out of memory");
            break;
        }
        k++;
        x->bytes = entry_bytes(p);
        char *mp = kind == WB_ENTRY_DATASET ? join_path(p, DS_META) : NULL;
        unsigned char *b = NULL;
        size_t len = 0;
        meta m;
        if (mp && !wb_read_file(mp, &b, &len) && !meta_parse(b, len, &m, mp, NULL)) {
            x->complete = 1;
            x->rows = m.n, x->created = m.created, x->ninputs = m.ninputs, x->maxlen = (size_t)m.in[0].maxlen;
            x->source = mstr_dup(m.sources[0]);
            meta_free(&m);
        }
        free(b);
        free(mp);
        free(p);
    }
    closedir(d);
    if (rc) {
        wb_dataset_entries_free(v, k);
        return rc;
    }
    if (k) qsort(v, k, sizeof *v, entry_cmp);
    *out = v, *n = k;
    return 0;
}

int wb_dataset_cache_clear(const char *dir, size_t *removed, uint64_t *bytes, wb_err *err) {
    wb_dataset_entry *v;
    size_t n;
    if (removed) *removed = 0;
    if (bytes) *bytes = 0;
    int rc = wb_dataset_cache_list(dir, &v, &n, err);
    for (size_t i = 0; !rc && i < n; i++) {
        char *p = join_path(dir, v[i].name);
        if (!p) {
            rc = wb_err_set(err, WB_ENOMEM, "out of memory");
            break;
        }
        wb_rmrf(p);
        struct stat sb;
        if (!lstat(p, &sb)) rc = wb_err_at(err, EACCES, p, 0, -1, "cannot remove");
        else {
            if (removed) (*removed)++;
            if (bytes) *bytes += v[i].bytes;
        }
        free(p);
    }
    wb_dataset_entries_free(v, n);
    return rc;
}

char *wb_dataset_default_cache_dir(void) {
    const char *x = getenv("XDG_CACHE_HOME");
    if (x && x[0] == '/') return join_path(x, "wordbench");
    const char *h = getenv("HOME");
    if (h && *h) return str_printf("%s/%s", h, ".cache/wordbench");
    return NULL;
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
    char *dir = join_path(root, "wordbench-ds.XXXXXX");
    if (!dir) return wb_err_set(err, WB_ENOMEM, "out of memory");
    int rc = 0;
    if (!mkdtemp(dir)) {
        rc = wb_err_at(err, errno, root, 0, -1, "cannot create a temporary directory: %s", strerror(errno));
        free(dir);
        return rc;
    }
    if (!(rc = build_into(dir, o, 0, err)) && !(rc = ds_map(out, dir, 0, 0, err))) {
        free((*out)->path);
        (*out)->path = NULL;
    }
    wb_rmrf(dir);
    free(dir);
    return rc;
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
    int use_cache = o->cache_dir && strcmp(o->train_path, "-") && !(o->valid_path && !strcmp(o->valid_path, "-")) &&
                    !(o->test_path && !strcmp(o->test_path, "-"));
    if (!use_cache) {
        rc = build_temporary(out, o, err);
        goto end;
    }
    if ((rc = wb_mkdir_p(o->cache_dir))) {
        rc = wb_err_at(err, rc, o->cache_dir, 0, -1, "cannot create the cache directory: %s", wb_strerror(rc));
        goto end;
    }
    if ((rc = cache_key(o, &st.key, err))) goto end;
    final = key_path(o->cache_dir, st.key, ".wbds");
    lock = key_path(o->cache_dir, st.key, ".lock");
    if (!final || !lock) {
        rc = wb_err_set(err, WB_ENOMEM, "out of memory");
        goto end;
    }
    struct stat sb;
    for (int attempt = 0; attempt < 2; attempt++) {
        if (lstat(final, &sb) == 0) {
            if (ds_map(out, final, st.key, 1, NULL) == 0) {
                st.cache_hit = 1;
                goto end;
            }
            st.cache_rejected = 1;
        }
        /* a miss: take the key's lock (waiting for a builder), then look again */
        if (!attempt && (rc = take_lock(lock, &lockfd, &st.cache_waited, err))) goto end;
    }
    remove_stale(o->cache_dir, st.key);
    char suffix[48];
    snprintf(suffix, sizeof suffix, ".wbds.tmp-%ld", (long)getpid());
    if (!(tmp = key_path(o->cache_dir, st.key, suffix))) {
        rc = wb_err_set(err, WB_ENOMEM, "out of memory");
        goto end;
    }
    if (mkdir(tmp, 0777)) {
        rc = wb_err_at(err, errno, tmp, 0, -1, "cannot create: %s", strerror(errno));
        goto end;
    }
    if ((rc = build_into(tmp, o, st.key, err)) || (rc = publish(tmp, final, o->cache_dir, err))) {
        wb_rmrf(tmp);
        goto end;
    }
    st.cache_written = 1;
    rc = ds_map(out, final, st.key, 0, err);
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
