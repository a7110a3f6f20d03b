/*
 * dataset_file.c — the files of a data set (docs/dataset-format.md): the
 * meta file parsed and checked, every array mapped read-only and verified,
 * and the sequential writer and reader the build uses for its arrays and
 * temporary streams.  Leaves out: what goes into the files (dataset.c) and
 * where they live (dataset_cache.c).
 */
#include "text/dataset_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <xxhash.h>

#include "store/publish.h"

const char WB_DS_MAGIC[8] = {'W', 'B', 'D', 'S', 'E', 'T', 0, 0};

/* ---- small helpers ----------------------------------------------------- */

/* Make room for `need` elements of `elem` bytes in *p (capacity *cap). */
int wb_ds_grow(void *pp, size_t *cap, size_t need, size_t elem) {
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

char *wb_ds_join(const char *dir, const char *name) { return str_printf("%s/%s", dir, name); }

/* Byte-wise order of two label names (shorter first on a common prefix). */
int wb_ds_name_cmp(const char *a, size_t al, const char *b, size_t bl) {
    int c = memcmp(a, b, al < bl ? al : bl);
    if (c) return c;
    return al < bl ? -1 : al > bl;
}

static int finite(double x) { return x == x && x - x == 0; }


/* ---- the meta file ------------------------------------------------------ */

void wb_ds_meta_free(wb_ds_meta *m) {
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
static wb_ds_str cstr(cur *c) {
    wb_ds_str s = {"", 0};
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
int wb_ds_meta_parse(const unsigned char *b, size_t len, wb_ds_meta *m, const char *path, wb_err *err) {
    memset(m, 0, sizeof *m);
    if (len < 8 || memcmp(b, WB_DS_MAGIC, 8))
        return wb_err_at(err, WB_EFORMAT, path, 0, 0, "not a wordbench data set (bad magic)");
    if (len < WB_DS_HEADER + 8)
        return wb_err_at(err, WB_ECORRUPT, path, 0, (long long)len, "truncated: %zu bytes", len);
    if (wb_get32(b + 8) != WB_DATASET_VERSION)
        return wb_err_at(err, WB_EVERSION, path, 0, 8, "data-set format version %u, this wordbench reads %u",
                         wb_get32(b + 8), WB_DATASET_VERSION);
    if (wb_get64(b + len - 8) != XXH3_64bits(b, len - 8))
        return wb_err_at(err, WB_ECORRUPT, path, 0, (long long)(len - 8), "checksum mismatch (damaged or truncated)");
    cur c = {b + 12, b + len - 8, 0};
    m->end = c.end;
    uint32_t flags = c32(&c);
    m->key = c64(&c), m->n = c64(&c);
    m->task = c32(&c), m->nlabels = c32(&c);
    m->nnz = c64(&c), m->skipped_unknown = c64(&c), m->skipped_bad = c64(&c), m->invalid_utf8 = c64(&c);
    m->format = c32(&c), m->mode = c32(&c), m->ninputs = c32(&c), m->nfeat = c32(&c);
    m->created = c64(&c);
    m->nfiles = c32(&c);
    uint32_t reserved = c32(&c);
    if (flags || reserved || m->task < WB_TASK_BINARY || m->task > WB_TASK_MULTILABEL || m->format > WB_READER_CSV ||
        m->mode > WB_TEXT_EACH || m->ninputs == 0 || m->ninputs > 4096 || m->nfiles > WB_DS_MAXFILES ||
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
        wb_ds_meta_free(m);
        return wb_err_set(err, WB_ENOMEM, "out of memory");
    }
    for (uint32_t k = 0; k < m->ninputs && !c.bad; k++) {
        wb_ds_minput *in = &m->in[k];
        in->name = cstr(&c);
        in->maxlen = c64(&c), in->distinct = c64(&c);
        in->dtype = c32(&c);
        if (c32(&c)) c.bad = 1;
        in->vocab_len = c64(&c);
        in->vocab = cskip(&c, in->vocab_len);
    }
    for (uint32_t f = 0; f < m->nfiles && !c.bad; f++) {
        wb_ds_file *fi = &m->files[f];
        fi->name = cstr(&c);
        fi->dtype = c32(&c), fi->ndim = c32(&c);
        fi->rows = c64(&c), fi->cols = c64(&c), fi->bytes = c64(&c), fi->hash = c64(&c);
    }
    if (c.bad || c.p != c.end) {
        wb_ds_meta_free(m);
        return wb_err_at(err, WB_ECORRUPT, path, 0, -1, "inconsistent sections");
    }
    return 0;
}


/* ---- mapping and checking ---------------------------------------------- */

/* The files a data set with these figures must have, in meta order: name,
 * dtype, ndim, rows, cols.  Returns the count (<= WB_DS_MAXFILES). */
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
static int map_array(const char *dir, const fspec *fs, const wb_ds_file *fi, int verify, wb_ds_fmap *m, wb_err *err) {
    char *path = wb_ds_join(dir, fs->name);
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

/* Copy n strings of the meta (at p, before end) into a NUL-separated table
 * (names, off); meta_parse has checked that they are there. */
static int copy_names(const unsigned char *p, const unsigned char *end, uint32_t n, char **names, size_t **off) {
    cur c = {p, end, 0};
    size_t bytes = 0;
    for (uint32_t i = 0; i < n; i++) bytes += cstr(&c).len + 1;
    *names = malloc(bytes ? bytes : 1);
    *off = malloc(((size_t)n + 1) * sizeof **off);
    if (!*names || !*off) return WB_ENOMEM;
    c.p = p;
    size_t at = 0;
    for (uint32_t i = 0; i < n; i++) {
        wb_ds_str s = cstr(&c);
        (*off)[i] = at;
        memcpy(*names + at, s.p, s.len);
        at += s.len;
        (*names)[at++] = 0;
    }
    (*off)[n] = at;
    return 0;
}

char *wb_ds_str_dup(wb_ds_str s) {
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
        if ((i & ((1u << 16) - 1)) == 0) wb_dataset_release_pages(ds); /* the RSS stays flat */
        size_t a = ds->loff[i], b = ds->loff[i + 1];
        if (b < a || b > ds->nnz || (ds->task != WB_TASK_MULTILABEL && b - a != 1) || ds->split[i] > WB_DS_VALID)
            return wb_err_at(err, WB_ECORRUPT, dir, 0, -1, "row %zu: bad label offsets or split value", i);
        for (size_t j = a; j < b; j++)
            if (ds->lids[j] >= ds->nlabels || (j > a && ds->lids[j] <= ds->lids[j - 1]))
                return wb_err_at(err, WB_ECORRUPT, dir, 0, -1, "row %zu: bad label ids", i);
    }
    for (size_t i = 0; i < n * ds->nfeat; i++)
        if (!finite(ds->feat[i])) return wb_err_at(err, WB_ECORRUPT, dir, 0, -1, "a feature is not finite");
    wb_dataset_release_pages(ds);
    return 0;
}

void wb_dataset_release_pages(const wb_dataset *ds) {
    for (size_t i = 0; ds && i < ds->nmaps; i++)
        if (ds->maps[i].p) madvise(ds->maps[i].p, ds->maps[i].len, MADV_DONTNEED);
}

/* Map the data set in directory dir.  want_key: the key it must have (0 =
 * any).  verify: check the arrays' checksums and invariants (0 only for a
 * data set this process has just written). */
int wb_ds_map(wb_dataset **out, const char *dir, uint64_t want_key, int verify, wb_err *err) {
    *out = NULL;
    char *mpath = wb_ds_join(dir, WB_DS_META);
    if (!mpath) return wb_err_set(err, WB_ENOMEM, "out of memory");
    unsigned char *b = NULL;
    size_t len = 0;
    int rc = wb_read_file(mpath, &b, &len);
    if (rc) {
        rc = wb_err_at(err, rc, mpath, 0, -1, "cannot read: %s", wb_strerror(rc));
        free(mpath);
        return rc;
    }
    wb_ds_meta m;
    wb_dataset *ds = NULL;
    fspec *fs = NULL;
    uint64_t *mls = NULL;
    uint32_t *dts = NULL;
    if ((rc = wb_ds_meta_parse(b, len, &m, mpath, err))) goto out;
    if (want_key && m.key != want_key) {
        rc = wb_err_at(err, WB_ECORRUPT, mpath, 0, 16, "key %016llx, expected %016llx", (unsigned long long)m.key,
                       (unsigned long long)want_key);
        goto out;
    }
    ds = calloc(1, sizeof *ds);
    fs = malloc(WB_DS_MAXFILES * sizeof *fs);
    mls = malloc(m.ninputs * sizeof *mls);
    dts = malloc(m.ninputs * sizeof *dts);
    if (!ds || !fs || !mls || !dts) goto oom;
    ds->n = (size_t)m.n, ds->nnz = (size_t)m.nnz, ds->task = (wb_task)m.task, ds->nlabels = m.nlabels;
    ds->nfeat = m.nfeat, ds->skipped_unknown = m.skipped_unknown, ds->skipped_bad = m.skipped_bad;
    ds->invalid_utf8 = m.invalid_utf8, ds->format = (wb_reader_format)m.format, ds->mode = (wb_text_mode)m.mode;
    ds->created = m.created;
    for (int i = 0; i < 3; i++)
        if (m.sources[i].len && !(ds->sources[i] = wb_ds_str_dup(m.sources[i]))) goto oom;
    if (copy_names(m.labels, m.end, m.nlabels, &ds->lnames, &ds->lname_off)) goto oom;
    for (uint32_t i = 1; i < m.nlabels; i++) {
        const char *a = ds->lnames + ds->lname_off[i - 1], *c = ds->lnames + ds->lname_off[i];
        if (wb_ds_name_cmp(a, ds->lname_off[i] - ds->lname_off[i - 1] - 1, c, ds->lname_off[i + 1] - ds->lname_off[i] - 1) >=
            0) {
            rc = wb_err_at(err, WB_ECORRUPT, mpath, 0, -1, "label names out of order");
            goto out;
        }
    }
    if (m.nfeat) {
        char *fn = NULL;
        size_t *fo = NULL;
        ds->fnames = calloc(m.nfeat, sizeof *ds->fnames);
        int bad = !ds->fnames || copy_names(m.fnames, m.end, m.nfeat, &fn, &fo);
        for (uint32_t j = 0; !bad && j < m.nfeat; j++) bad = !(ds->fnames[j] = strdup(fn + fo[j]));
        free(fn);
        free(fo);
        if (bad) goto oom;
    }
    ds->ninputs = m.ninputs;
    if (!(ds->in = calloc(m.ninputs, sizeof *ds->in))) goto oom;
    for (uint32_t k = 0; k < m.ninputs; k++) {
        const wb_ds_minput *mi = &m.in[k];
        wb_ds_input *di = &ds->in[k];
        mls[k] = mi->maxlen, dts[k] = mi->dtype;
        if (mi->maxlen > (1u << 24) || (mi->maxlen && mi->dtype != WB_DTYPE_U16 && mi->dtype != WB_DTYPE_I32) ||
            (!mi->maxlen && mi->dtype)) {
            rc = wb_err_at(err, WB_ECORRUPT, mpath, 0, -1, "input %u: bad maxlen or id type", k);
            goto out;
        }
        if (!(di->name = wb_ds_str_dup(mi->name))) goto oom;
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
        wb_ds_input *di = &ds->in[k];
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
    wb_ds_meta_free(&m);
    free(fs);
    free(mls);
    free(dts);
    free(b);
    free(mpath);
    return rc;
}

int wb_dataset_open(wb_dataset **out, const char *path, wb_err *err) {
    if (!out || !path) return wb_err_set(err, WB_EUSAGE, "wb_dataset_open: NULL argument");
    return wb_ds_map(out, path, 0, 1, err);
}


/* ---- writing arrays ---------------------------------------------------- */


int wb_ds_arr_open(wb_ds_arr *a, const char *dir, const char *name, int raw, wb_dtype dt, int ndim, uint64_t cols,
                     wb_err *err) {
    memset(a, 0, sizeof *a);
    a->fd = -1, a->raw = raw, a->dtype = dt, a->ndim = ndim, a->cols = cols;
    a->path = wb_ds_join(dir, name);
    a->buf = malloc(WB_DS_IOBUF);
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

static void arr_flush(wb_ds_arr *a) {
    if (!a->err) a->err = wb_write_all(a->fd, a->buf, a->nbuf);
    a->nbuf = 0;
}

void wb_ds_arr_put(wb_ds_arr *a, const void *p, size_t n) {
    if (a->err || a->fd < 0) return;
    if (a->h) XXH3_64bits_update(a->h, p, n);
    a->bytes += n;
    const unsigned char *s = p;
    while (n) {
        if (a->nbuf == WB_DS_IOBUF) arr_flush(a);
        if (a->err) return;
        size_t k = WB_DS_IOBUF - a->nbuf < n ? WB_DS_IOBUF - a->nbuf : n;
        memcpy(a->buf + a->nbuf, s, k);
        a->nbuf += k, s += k, n -= k;
    }
}

void wb_ds_arr_free(wb_ds_arr *a) {
    if (a->fd >= 0) close(a->fd);
    a->fd = -1;
    free(a->buf);
    free(a->path);
    if (a->h) XXH3_freeState(a->h);
    a->buf = NULL, a->path = NULL, a->h = NULL;
}

/* Remove a stream (a temporary, or a file of a failed build). */
void wb_ds_arr_discard(wb_ds_arr *a) {
    if (a->path) unlink(a->path);
    wb_ds_arr_free(a);
}

/* Finish an NPY array of `rows` rows (or a raw stream: rows ignored); for
 * an NPY array, *rec gets its meta record.  0 or errno with err set (ENOSPC
 * for a full disk). */
int wb_ds_arr_finish(wb_ds_arr *a, uint64_t rows, wb_ds_file *rec, wb_err *err) {
    if (a->fd < 0) return 0;
    arr_flush(a);
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


int wb_ds_in_open(wb_ds_in *s, const char *path, size_t skip, wb_err *err) {
    s->fd = open(path, O_RDONLY | O_CLOEXEC);
    s->buf = malloc(WB_DS_IOBUF);
    s->pos = s->len = 0;
    if (s->fd < 0) return wb_err_at(err, errno, path, 0, -1, "cannot open: %s", strerror(errno));
    if (!s->buf) return wb_err_set(err, WB_ENOMEM, "out of memory");
    posix_fadvise(s->fd, 0, 0, POSIX_FADV_SEQUENTIAL);
    if (skip && lseek(s->fd, (off_t)skip, SEEK_SET) < 0)
        return wb_err_at(err, errno, path, 0, -1, "cannot seek: %s", strerror(errno));
    return 0;
}

void wb_ds_in_close(wb_ds_in *s) {
    if (s->fd >= 0) close(s->fd);
    s->fd = -1;
    free(s->buf);
    s->buf = NULL;
}

/* Read exactly n bytes into p.  0, errno, or EIO at a premature end. */
int wb_ds_in_read(wb_ds_in *s, void *p, size_t n) {
    unsigned char *d = p;
    while (n) {
        if (s->pos == s->len) {
            ssize_t k = read(s->fd, s->buf, WB_DS_IOBUF);
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

