/*
 * convert.c — build a store from a word-vector file in one streaming pass
 * (see wordbench/convert.h for the contract).
 *
 * Threads: one reader (decompresses, cuts the stream into chunks of whole
 * lines or binary records), `threads` parsers (chunk → words + rows in the
 * store's dtype + norms), and the calling thread as the writer (in input
 * order: duplicates, LMDB index, vectors.npy, norms.npy, block hashes).
 * Chunks circulate in a ring of NSLOT slots: FREE → FILLED (reader) →
 * PARSED (a parser) → FREE (writer).  Memory is bounded by the ring.
 *
 * Leaves out: record parsing itself (vecparse.c), reading stores (store.c).
 */
#include "wordbench/convert.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <xxhash.h>
#include <zlib.h>

#include "base/fileio.h"
#include "wordbench/clock.h"
#include "store/convert_int.h"
#include "store/index_build.h"
#include "store/publish.h"
#include "store/store_int.h"
#include "wordbench/floatparse.h"

#define CHUNK_BYTES (2u << 20)       /* target input bytes per chunk */
#define MAX_RECORD (1u << 30)        /* longest line / record we accept */
#define WHY 200                      /* room for one reason */

/* ---- small helpers ------------------------------------------------------ */

const char *wb_format_name(wb_format f) {
    switch (f) {
    case WB_FMT_AUTO: return "auto";
    case WB_FMT_GLOVE: return "glove";
    case WB_FMT_WORD2VEC: return "word2vec";
    case WB_FMT_WORD2VEC_BIN: return "word2vec-bin";
    }
    return "?";
}

int wb_format_parse(const char *name) {
    for (int f = WB_FMT_AUTO; f <= WB_FMT_WORD2VEC_BIN; f++)
        if (!strcmp(name, wb_format_name((wb_format)f))) return f;
    return -1;
}

void wb_convert_opts_init(wb_convert_opts *o) {
    memset(o, 0, sizeof *o);
    o->format = WB_FMT_AUTO;
    o->duplicates = WB_DUP_FIRST;
    o->dtype = WB_DTYPE_F32;
}

/* ---- input: file or stdin, plain or gzip -------------------------------- */

typedef struct input {
    int fd;                 /* source descriptor */
    const char *name;       /* path as given ("-" = stdin) for messages */
    uint64_t size;          /* size of a regular file, else 0 */
    int gz;                 /* gzip stream */
    z_stream zs;            /* inflate state when gz */
    unsigned char *raw;     /* raw read buffer */
    size_t raw_len, raw_pos;/* bytes in raw, next unread (plain mode) */
    int raw_eof;            /* read() returned 0 */
    int z_end;              /* inflate reached the end of the last member */
    _Atomic uint64_t raw_read; /* raw bytes read so far (for progress) */
    uint64_t text_read;     /* decompressed bytes delivered */
} input;

#define RAW_BYTES (1u << 20)

static int input_fill_raw(input *in) {
    for (;;) {
        ssize_t r = read(in->fd, in->raw, RAW_BYTES);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) return errno;
        in->raw_len = (size_t)r, in->raw_pos = 0;
        if (r == 0) in->raw_eof = 1;
        atomic_fetch_add(&in->raw_read, (uint64_t)r);
        return 0;
    }
}

static int input_open(input *in, const char *path, wb_err *err) {
    memset(in, 0, sizeof *in);
    in->name = path;
    in->fd = strcmp(path, "-") ? open(path, O_RDONLY | O_CLOEXEC) : 0;
    if (in->fd < 0) {
        int e = errno;
        return wb_err_at(err, e, path, 0, -1, "cannot open: %s", strerror(e));
    }
    struct stat sb;
    if (!fstat(in->fd, &sb) && S_ISREG(sb.st_mode)) in->size = (uint64_t)sb.st_size;
    if (!fstat(in->fd, &sb) && S_ISDIR(sb.st_mode))
        return wb_err_at(err, EISDIR, path, 0, -1, "is a directory, expected a vectors file");
    posix_fadvise(in->fd, 0, 0, POSIX_FADV_SEQUENTIAL);
    in->raw = malloc(RAW_BYTES);
    if (!in->raw) return wb_err_set(err, WB_ENOMEM, "out of memory");
    int rc = input_fill_raw(in);
    if (rc) return wb_err_at(err, rc, path, 0, -1, "cannot read: %s", strerror(rc));
    if (in->raw_len >= 2 && in->raw[0] == 0x1f && in->raw[1] == 0x8b) {
        in->gz = 1;
        if (inflateInit2(&in->zs, 15 + 32) != Z_OK) return wb_err_set(err, WB_ENOMEM, "zlib: out of memory");
        in->zs.next_in = in->raw;
        in->zs.avail_in = (uInt)in->raw_len;
    }
    return 0;
}

static void input_close(input *in) {
    if (in->gz) inflateEnd(&in->zs);
    if (in->fd > 0) close(in->fd);
    free(in->raw);
}

/* Read up to n decompressed bytes into dst; *got = bytes (0 = end).
 * Returns 0 or an error code (wordbench code or errno) with err set. */
static int input_read(input *in, char *dst, size_t n, size_t *got, wb_err *err) {
    *got = 0;
    if (!in->gz) {
        if (in->raw_pos == in->raw_len) {
            if (in->raw_eof) return 0;
            int rc = input_fill_raw(in);
            if (rc) return wb_err_at(err, rc, in->name, 0, -1, "cannot read: %s", strerror(rc));
            if (in->raw_len == 0) return 0;
        }
        size_t k = in->raw_len - in->raw_pos < n ? in->raw_len - in->raw_pos : n;
        memcpy(dst, in->raw + in->raw_pos, k);
        in->raw_pos += k;
        in->text_read += k;
        *got = k;
        return 0;
    }
    if (in->z_end) return 0;
    const uInt want = (uInt)(n > (1u << 30) ? (1u << 30) : n);
    in->zs.next_out = (unsigned char *)dst;
    in->zs.avail_out = want;
    while (in->zs.avail_out == want) { /* until some output, the end, or an error */
        if (in->zs.avail_in == 0) {
            if (in->raw_eof)
                return wb_err_at(err, WB_EIO, in->name, 0, (long long)in->raw_read,
                                  "truncated gzip stream (it ends without its trailer)");
            int rc = input_fill_raw(in);
            if (rc) return wb_err_at(err, rc, in->name, 0, -1, "cannot read: %s", strerror(rc));
            in->zs.next_in = in->raw, in->zs.avail_in = (uInt)in->raw_len;
            continue;
        }
        int zr = inflate(&in->zs, Z_NO_FLUSH);
        if (zr == Z_STREAM_END) {
            /* Another member may follow (concatenated gzip files). */
            if (in->zs.avail_in == 0 && !in->raw_eof) {
                int rc = input_fill_raw(in);
                if (rc) return wb_err_at(err, rc, in->name, 0, -1, "cannot read: %s", strerror(rc));
                in->zs.next_in = in->raw, in->zs.avail_in = (uInt)in->raw_len;
            }
            if (in->zs.avail_in == 0) {
                in->z_end = 1;
                break;
            }
            inflateReset(&in->zs);
        } else if (zr != Z_OK && zr != Z_BUF_ERROR) {
            return wb_err_at(err, WB_EIO, in->name, 0, (long long)(in->raw_read - in->zs.avail_in),
                              "corrupt gzip data: %s", in->zs.msg ? in->zs.msg : "inflate failed");
        }
    }
    size_t k = (size_t)((char *)in->zs.next_out - dst);
    in->text_read += k;
    *got = k;
    return 0;
}

/* ---- vocabulary filter (--vocab) ---------------------------------------- */

typedef struct vocab {
    char *text;          /* the file's bytes */
    uint32_t *slots;     /* open addressing: 1 + index into offs, 0 = empty */
    uint64_t *offs;      /* (start << 24 | len) of each word in text */
    size_t nwords, mask; /* count, table size - 1 */
} vocab;

static int vocab_has(const vocab *v, const char *w, size_t n) {
    uint64_t h = XXH3_64bits(w, n);
    for (size_t i = h & v->mask;; i = (i + 1) & v->mask) {
        uint32_t s = v->slots[i];
        if (!s) return 0;
        uint64_t o = v->offs[s - 1];
        if ((o & 0xffffff) == n && !memcmp(v->text + (o >> 24), w, n)) return 1;
    }
}

static void vocab_free(vocab *v) {
    free(v->text);
    free(v->slots);
    free(v->offs);
}

static int vocab_load(vocab *v, const char *path, wb_err *err) {
    memset(v, 0, sizeof *v);
    FILE *f = fopen(path, "rb");
    if (!f) return wb_err_at(err, errno, path, 0, -1, "cannot open the vocabulary: %s", strerror(errno));
    size_t cap = 1 << 16, len = 0, r;
    v->text = malloc(cap);
    while (v->text && (r = fread(v->text + len, 1, cap - len, f)) > 0) {
        len += r;
        if (len == cap) v->text = realloc(v->text, cap *= 2);
    }
    fclose(f);
    if (!v->text) return wb_err_set(err, WB_ENOMEM, "out of memory");
    size_t lines = 0;
    for (size_t i = 0; i < len; i++) lines += v->text[i] == '\n';
    size_t tab = 16;
    while (tab < 2 * (lines + 1)) tab *= 2;
    v->slots = calloc(tab, sizeof *v->slots);
    v->offs = malloc((lines + 1) * sizeof *v->offs);
    if (!v->slots || !v->offs) return wb_err_set(err, WB_ENOMEM, "out of memory");
    v->mask = tab - 1;
    size_t p = 0, lineno = 0;
    while (p < len) {
        char *nl = memchr(v->text + p, '\n', len - p);
        size_t e = nl ? (size_t)(nl - v->text) : len, we = e;
        lineno++;
        if (we > p && v->text[we - 1] == '\r') we--;
        /* the word is the whole line minus a trailing CR (words may hold spaces) */
        size_t n = we - p;
        if (n >= (1u << 24))
            return wb_err_at(err, WB_EFORMAT, path, (long long)lineno, -1, "word longer than 16 MB");
        if (n && !vocab_has(v, v->text + p, n)) {
            v->offs[v->nwords] = ((uint64_t)p << 24) | n;
            uint64_t h = XXH3_64bits(v->text + p, n);
            size_t i = h & v->mask;
            while (v->slots[i]) i = (i + 1) & v->mask;
            v->slots[i] = (uint32_t)++v->nwords;
        }
        p = e + 1;
    }
    return 0;
}

/* ---- the chunk ring ----------------------------------------------------- */

enum { SLOT_FREE, SLOT_FILLED, SLOT_PARSED };

typedef struct rec {
    uint32_t woff;       /* word offset in the chunk's buf */
    uint32_t wlen;       /* word length */
    uint32_t rel;        /* record index (line) within the chunk */
    uint32_t bad_utf8;   /* 1 if the word is not valid UTF-8 */
} rec;

typedef struct badrec {
    uint32_t rel;        /* record index within the chunk */
    uint32_t off;        /* byte offset within the chunk (binary) */
    char why[WHY];       /* reason */
} badrec;

typedef struct chunk {
    int state;           /* SLOT_* */
    uint64_t seq;        /* position in the stream of chunks */
    int last;            /* no chunk follows */
    char *buf;           /* input bytes: whole lines / records */
    size_t len, cap;     /* used / allocated */
    uint64_t text_off;   /* offset of buf[0] in the decompressed stream */
    /* parser output */
    uint32_t nrec, lines;/* records kept, records (lines) seen */
    uint32_t blank;      /* blank lines among them (skipped, not records) */
    size_t rcap;         /* capacity of recs/vals/norms in records */
    rec *recs;           /* (nrec) */
    uint8_t *vals;       /* (nrec, row_bytes) in the store's dtype */
    float *norms;        /* (nrec) */
    uint64_t not_in_vocab;/* records dropped by --vocab */
    badrec *bads;        /* skipped records (skip_bad) or the fatal one */
    size_t nbad, bcap;   /* used / allocated */
    int fatal;           /* bads[nbad-1] stopped the parse */
} chunk;

#define NSLOT_MAX 34

typedef struct ctx {
    const wb_convert_opts *o;
    wb_format fmt;
    uint32_t dim;
    size_t row_bytes;
    const vocab *voc;        /* NULL = keep all */
    input in;
    char *carry;             /* bytes read past the last cut */
    size_t carry_len, carry_cap;
    pthread_mutex_t mu;
    pthread_cond_t cv;       /* any state change */
    chunk slots[NSLOT_MAX];
    int nslot;
    uint64_t next_parse;     /* next chunk a parser claims */
    int reader_done;         /* reader produced its last chunk (or failed) */
    uint64_t nchunks;        /* total chunks when reader_done */
    int stop;                /* writer asks everyone to stop */
    uint64_t stream_base;    /* bytes before the first chunk (BOM, header) */
    int reader_rc;           /* reader failure code */
    wb_err reader_err;       /* and its detail */
} ctx;

static int chunk_reserve(chunk *c, size_t nrec, size_t row_bytes) {
    if (nrec <= c->rcap) return 0;
    /* Start at 1024 records, or fewer when rows are wide (a 5M-number
     * first line must not reserve 1024 x 20 MB); then grow with use. */
    size_t cap = c->rcap ? c->rcap : row_bytes > (4u << 20) / 1024 ? ((4u << 20) / row_bytes ? (4u << 20) / row_bytes : 1) : 1024;
    while (cap < nrec) cap *= 2;
    rec *r = realloc(c->recs, cap * sizeof *r);
    if (!r) return WB_ENOMEM;
    c->recs = r;
    uint8_t *v = realloc(c->vals, cap * row_bytes);
    if (!v) return WB_ENOMEM;
    c->vals = v;
    float *n = realloc(c->norms, cap * sizeof *n);
    if (!n) return WB_ENOMEM;
    c->norms = n;
    c->rcap = cap;
    return 0;
}

static int chunk_bad(chunk *c, uint32_t rel, uint32_t off, const char *why) {
    if (c->nbad == c->bcap) {
        size_t cap = c->bcap ? c->bcap * 2 : 16;
        badrec *b = realloc(c->bads, cap * sizeof *b);
        if (!b) return WB_ENOMEM;
        c->bads = b, c->bcap = cap;
    }
    badrec *b = &c->bads[c->nbad++];
    b->rel = rel, b->off = off;
    snprintf(b->why, sizeof b->why, "%s", why);
    return 0;
}

/* ---- parser threads ----------------------------------------------------- */

/* Finish a parsed row in place: normalise, convert to f16, compute the norm.
 * Returns -1 with why set when a finite value overflows float16 and
 * non-finite values are not allowed. */
static int finish_row(const ctx *x, float *v, uint8_t *dst, float *norm, char *why, size_t whylen) {
    const uint32_t E = x->dim;
    double ss = 0;
    for (uint32_t i = 0; i < E; i++) ss += (double)v[i] * v[i];
    if (x->o->normalize && ss > 0) {
        float inv = (float)(1.0 / sqrt(ss));
        for (uint32_t i = 0; i < E; i++) v[i] *= inv;
    }
    if (x->o->dtype == WB_DTYPE_F16) {
        uint16_t *h = (uint16_t *)dst;
        wb_f32_to_f16_n(h, v, E);
        ss = 0;
        for (uint32_t i = 0; i < E; i++) {
            double f = wb_f16_to_f32(h[i]);
            if (!x->o->allow_nonfinite && isinf(f) && isfinite(v[i])) {
                snprintf(why, whylen, "value %u (%g) overflows float16 (use --dtype f32, or --allow-nonfinite)",
                         i + 1, (double)v[i]);
                return -1;
            }
            ss += f * f;
        }
    } else {
        if ((uint8_t *)v != dst) memcpy(dst, v, (size_t)E * 4);
        if (x->o->normalize) {
            ss = 0;
            for (uint32_t i = 0; i < E; i++) ss += (double)v[i] * v[i];
        }
    }
    *norm = (float)sqrt(ss);
    return 0;
}

/* Note a bad record; returns 1 when it stops the parse (no --skip-bad),
 * 0 to go on, WB_ENOMEM. */
static int bad_record(const ctx *x, chunk *c, uint32_t rel, uint32_t off, const char *why) {
    if (chunk_bad(c, rel, off, why)) return WB_ENOMEM;
    if (x->o->skip_bad) return 0;
    c->fatal = 1;
    c->lines = rel + 1;
    return 1;
}

/* Keep a parsed record (unless --vocab drops it): finish its row and append
 * it to the chunk's output.  Returns like bad_record. */
static int keep_record(const ctx *x, chunk *c, uint32_t rel, uint32_t off, const char *w, size_t wlen, float *v) {
    if (x->voc && !vocab_has(x->voc, w, wlen)) {
        c->not_in_vocab++;
        return 0;
    }
    char why[WHY];
    if (finish_row(x, v, c->vals + (size_t)c->nrec * x->row_bytes, &c->norms[c->nrec], why, sizeof why))
        return bad_record(x, c, rel, off, why);
    rec *r = &c->recs[c->nrec++];
    r->woff = (uint32_t)(w - c->buf);
    r->wlen = (uint32_t)wlen;
    r->rel = rel;
    r->bad_utf8 = !wb_utf8_valid(w, wlen);
    return 0;
}

static int parse_text_chunk(ctx *x, chunk *c, float *tmp) {
    const char *p = c->buf, *end = c->buf + c->len;
    uint32_t rel = 0;
    char why[WHY];
    const int f32 = x->o->dtype == WB_DTYPE_F32;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *le = nl ? nl : end;
        if (chunk_reserve(c, c->nrec + 1, x->row_bytes)) return WB_ENOMEM;
        wb_line ln;
        float *v = f32 ? (float *)(c->vals + (size_t)c->nrec * x->row_bytes) : tmp;
        const uint32_t off = (uint32_t)(p - c->buf);
        int rc = 0;
        if (wb_parse_text_line(p, (size_t)(le - p), x->dim, x->o->allow_nonfinite, &ln, v, why, sizeof why))
            rc = bad_record(x, c, rel, off, why);
        else if (ln.blank)
            c->blank++;
        else
            rc = keep_record(x, c, rel, off, ln.word, ln.wlen, v);
        if (rc) return rc == 1 ? 0 : rc;
        rel++;
        p = le + 1;
    }
    c->lines = rel;
    return 0;
}

/* Binary files may end with extra newlines after the last record. */
static int only_newlines(const char *p, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (p[i] != '\n') return 0;
    return 1;
}

static int parse_bin_chunk(ctx *x, chunk *c, float *tmp) {
    size_t pos = 0;
    uint32_t rel = 0;
    char why[WHY];
    while (pos < c->len) {
        const char *w, *vals;
        size_t wlen;
        if (only_newlines(c->buf + pos, c->len - pos)) break;
        long n = wb_frame_bin_record(c->buf + pos, c->len - pos, x->dim, 1, &w, &wlen, &vals, why, sizeof why);
        if (n <= 0) { /* framing failed: the reader ended the stream here */
            if (chunk_bad(c, rel, (uint32_t)pos, n == 0 ? "truncated record" : why)) return WB_ENOMEM;
            c->fatal = 1;
            c->lines = rel + 1;
            return 0;
        }
        if (chunk_reserve(c, c->nrec + 1, x->row_bytes)) return WB_ENOMEM;
        memcpy(tmp, vals, (size_t)x->dim * 4); /* little-endian host assumed (docs/design.md) */
        int ok = 1;
        if (!x->o->allow_nonfinite) {
            for (uint32_t i = 0; i < x->dim; i++) {
                if (!isfinite(tmp[i])) {
                    snprintf(why, sizeof why, "value %u is %s (use --allow-nonfinite to keep it)", i + 1,
                             isnan(tmp[i]) ? "NaN" : "infinite");
                    ok = 0;
                    break;
                }
            }
        }
        int rc = ok ? keep_record(x, c, rel, (uint32_t)pos, w, wlen, tmp) : bad_record(x, c, rel, (uint32_t)pos, why);
        if (rc) return rc == 1 ? 0 : rc;
        rel++;
        pos += (size_t)n;
    }
    c->lines = rel;
    return 0;
}

static void *parser_main(void *arg) {
    ctx *x = arg;
    float *tmp = malloc((size_t)x->dim * sizeof(float));
    pthread_mutex_lock(&x->mu);
    for (;;) {
        /* Claim the next chunk in stream order; re-read next_parse after every
         * wait, since another parser may have claimed it meanwhile. */
        uint64_t seq;
        chunk *c;
        for (;;) {
            seq = x->next_parse;
            c = &x->slots[seq % (uint64_t)x->nslot];
            if (x->stop || (x->reader_done && seq >= x->nchunks)) goto done;
            if (c->state == SLOT_FILLED && c->seq == seq) break;
            pthread_cond_wait(&x->cv, &x->mu);
        }
        x->next_parse++;
        pthread_mutex_unlock(&x->mu);
        c->nrec = c->lines = c->blank = 0;
        c->nbad = 0;
        c->fatal = 0;
        c->not_in_vocab = 0;
        int rc = !tmp ? WB_ENOMEM
                 : x->fmt == WB_FMT_WORD2VEC_BIN ? parse_bin_chunk(x, c, tmp) : parse_text_chunk(x, c, tmp);
        if (rc) { /* out of memory: report as a fatal record */
            c->nbad = 0;
            chunk_bad(c, 0, 0, "out of memory");
            c->fatal = rc;
        }
        pthread_mutex_lock(&x->mu);
        c->state = SLOT_PARSED;
        pthread_cond_broadcast(&x->cv);
    }
done:
    pthread_mutex_unlock(&x->mu);
    free(tmp);
    return NULL;
}

/* ---- reader thread ------------------------------------------------------ */

/* Where to cut buf[0..len) so the chunk holds whole records.  Returns the
 * cut (0 = need more bytes), or len with *end_stream when the stream cannot
 * be framed any further (binary error: the parser reports it). */
static size_t find_cut(ctx *x, const char *buf, size_t len, int eof, int *end_stream) {
    *end_stream = 0;
    if (x->fmt != WB_FMT_WORD2VEC_BIN) {
        if (eof) return len;
        for (size_t i = len; i > 0; i--)
            if (buf[i - 1] == '\n') return i;
        return 0;
    }
    size_t pos = 0;
    char why[WHY];
    while (pos < len) {
        if (eof && only_newlines(buf + pos, len - pos)) return len;
        const char *w, *v;
        size_t wl;
        long n = wb_frame_bin_record(buf + pos, len - pos, x->dim, eof, &w, &wl, &v, why, sizeof why);
        if (n < 0) {
            *end_stream = 1;
            return len;
        }
        if (n == 0) break;
        pos += (size_t)n;
    }
    if (eof && pos < len) { /* only a lone '\n' can remain unframed at eof */
        *end_stream = 1;
        return len;
    }
    return pos;
}

static void *reader_main(void *arg) {
    ctx *x = arg;
    uint64_t seq = 0, off = 0;
    int eof = 0, rc = 0;
    for (;;) {
        chunk *c = &x->slots[seq % (uint64_t)x->nslot];
        pthread_mutex_lock(&x->mu);
        while (!x->stop && c->state != SLOT_FREE) pthread_cond_wait(&x->cv, &x->mu);
        int stop = x->stop;
        pthread_mutex_unlock(&x->mu);
        if (stop) break;
        /* Start with what the last cut left over. */
        size_t want = CHUNK_BYTES > x->carry_len ? CHUNK_BYTES : x->carry_len * 2;
        if (c->cap < want) {
            char *b = realloc(c->buf, want);
            if (!b) { rc = wb_err_set(&x->reader_err, WB_ENOMEM, "out of memory"); break; }
            c->buf = b, c->cap = want;
        }
        memcpy(c->buf, x->carry, x->carry_len);
        c->len = x->carry_len;
        x->carry_len = 0;
        size_t cut = 0;
        int end_stream = 0;
        for (;;) {
            while (!eof && c->len < c->cap) {
                size_t n;
                if ((rc = input_read(&x->in, c->buf + c->len, c->cap - c->len, &n, &x->reader_err))) break;
                if (n == 0) eof = 1;
                c->len += n;
                if (c->len >= CHUNK_BYTES) break;
            }
            if (rc) break;
            cut = find_cut(x, c->buf, c->len, eof, &end_stream);
            if (cut || eof) break;
            /* Not one whole record in the buffer: grow it. */
            if (c->cap >= MAX_RECORD) {
                rc = wb_err_at(&x->reader_err, WB_EFORMAT, x->in.name, 0, (long long)off,
                               "a record longer than %u bytes", MAX_RECORD);
                break;
            }
            char *b = realloc(c->buf, c->cap * 2);
            if (!b) { rc = wb_err_set(&x->reader_err, WB_ENOMEM, "out of memory"); break; }
            c->buf = b, c->cap *= 2;
        }
        if (rc) break;
        size_t rest = c->len - cut;
        if (rest) {
            if (x->carry_cap < rest) {
                char *b = realloc(x->carry, rest);
                if (!b) { rc = wb_err_set(&x->reader_err, WB_ENOMEM, "out of memory"); break; }
                x->carry = b, x->carry_cap = rest;
            }
            memcpy(x->carry, c->buf + cut, rest);
            x->carry_len = rest;
        }
        c->len = cut;
        c->text_off = off;
        off += cut;
        c->last = end_stream || (eof && x->carry_len == 0);
        pthread_mutex_lock(&x->mu);
        c->seq = seq;
        c->state = SLOT_FILLED;
        seq++;
        if (c->last) {
            x->reader_done = 1;
            x->nchunks = seq;
        }
        pthread_cond_broadcast(&x->cv);
        pthread_mutex_unlock(&x->mu);
        if (c->last) break;
    }
    pthread_mutex_lock(&x->mu);
    if (rc) {
        x->reader_rc = rc;
        x->reader_done = 1;
        x->nchunks = seq;
    }
    pthread_cond_broadcast(&x->cv);
    pthread_mutex_unlock(&x->mu);
    return NULL;
}

/* ---- writer: buffered output with streaming block hashes ---------------- */

typedef struct obuf {
    int fd;               /* output file */
    int dfd;              /* the same file opened O_DIRECT, or -1 (see obuf_flush) */
    char *buf;            /* pending bytes (4096-aligned for O_DIRECT) */
    size_t len, cap;      /* used / allocated */
    uint64_t flushed;     /* data bytes written to the file so far */
    /* vectors only: streaming block hashes */
    int hashing;          /* hash the data in WB_STORE_BLOCK_BYTES blocks */
    XXH3_state_t *hs;     /* state of the current block */
    uint64_t in_block;    /* bytes fed to the current block */
    uint64_t *hashes;     /* finished block hashes */
    size_t nhash, hcap;   /* finished blocks / allocated */
} obuf;

static int obuf_hash(obuf *o, const char *p, size_t n) {
    while (n) {
        if (o->in_block == 0) XXH3_64bits_reset(o->hs);
        size_t k = WB_STORE_BLOCK_BYTES - o->in_block < n ? (size_t)(WB_STORE_BLOCK_BYTES - o->in_block) : n;
        XXH3_64bits_update(o->hs, p, k);
        o->in_block += k, p += k, n -= k;
        if (o->in_block == WB_STORE_BLOCK_BYTES) {
            if (o->nhash == o->hcap) {
                size_t cap = o->hcap ? o->hcap * 2 : 64;
                uint64_t *h = realloc(o->hashes, cap * 8);
                if (!h) return WB_ENOMEM;
                o->hashes = h, o->hcap = cap;
            }
            o->hashes[o->nhash++] = XXH3_64bits_digest(o->hs);
            o->in_block = 0;
        }
    }
    return 0;
}

/* Write the pending bytes at data offset `flushed`.  Through the O_DIRECT
 * descriptor when there is one: only whole 4 KiB pages go that way (the
 * rest waits in the buffer), unless `final`, when the tail goes through the
 * ordinary descriptor.  Direct writes skip the page cache: on the machines
 * measured, a buffered write of 1.26 GB cost 3.1 s of system time and a
 * direct one 0.13 s (docs/benchmarks.md). */
static int obuf_flush(obuf *o, int final) {
    if (!o->len) return 0;
    size_t direct = o->dfd >= 0 ? o->len & ~(size_t)4095 : 0;
    if (direct) {
        int rc = wb_pwrite_all(o->dfd, o->buf, direct, WB_NPY_DATA_OFFSET + o->flushed);
        if (rc == EINVAL) { /* the file system refuses O_DIRECT here: stay buffered */
            close(o->dfd);
            o->dfd = -1;
            direct = 0;
        } else if (rc) {
            return rc;
        }
    }
    size_t plain = o->dfd >= 0 && !final ? 0 : o->len - direct;
    if (plain) {
        int rc = wb_pwrite_all(o->fd, o->buf + direct, plain, WB_NPY_DATA_OFFSET + o->flushed + direct);
        if (rc) return rc;
    }
    uint64_t before = o->flushed;
    o->flushed += direct + plain;
    o->len -= direct + plain;
    if (o->len) memmove(o->buf, o->buf + direct + plain, o->len);
    /* Buffered: start write-back of each finished 64 MiB so the final fsync is short. */
    if (o->dfd < 0 && o->hashing && before / WB_STORE_BLOCK_BYTES != o->flushed / WB_STORE_BLOCK_BYTES) {
        uint64_t b = (o->flushed / WB_STORE_BLOCK_BYTES - 1) * WB_STORE_BLOCK_BYTES;
        sync_file_range(o->fd, (off_t)(WB_NPY_DATA_OFFSET + b), WB_STORE_BLOCK_BYTES, SYNC_FILE_RANGE_WRITE);
    }
    return 0;
}

static int obuf_put(obuf *o, const void *p, size_t n) {
    if (o->hashing) {
        int rc = obuf_hash(o, p, n);
        if (rc) return rc;
    }
    if (o->len + n > o->cap) {
        int rc = obuf_flush(o, 0);
        if (rc) return rc;
        if (o->len + n > o->cap) { /* a row larger than the buffer */
            if ((rc = obuf_flush(o, 1))) return rc;
            if ((rc = wb_pwrite_all(o->fd, p, n, WB_NPY_DATA_OFFSET + o->flushed))) return rc;
            o->flushed += n;
            return 0;
        }
    }
    memcpy(o->buf + o->len, p, n);
    o->len += n;
    return 0;
}

/* Overwrite n bytes at data offset off (already put), in the buffer or the
 * file.  Block hashes are then stale: the caller rehashes at the end. */
static int obuf_patch(obuf *o, uint64_t off, const void *p, size_t n) {
    const char *s = p;
    if (off < o->flushed) {
        size_t k = o->flushed - off < n ? (size_t)(o->flushed - off) : n;
        int rc = wb_pwrite_all(o->fd, s, k, WB_NPY_DATA_OFFSET + off);
        if (rc) return rc;
        off += k, s += k, n -= k;
    }
    if (n) memcpy(o->buf + (off - o->flushed), s, n);
    return 0;
}

/* ---- the writer's state ------------------------------------------------- */

typedef struct writer {
    ctx *x;
    const char *tmp;        /* temporary store directory */
    obuf vec, nrm;          /* vectors.npy, norms.npy */
    wb_ixb *ix;             /* the index being built */
    uint64_t rows_n;        /* rows written */
    int rewrote;            /* --duplicates last rewrote a row */
    FILE *badf;             /* --bad-lines file */
    int badf_made;          /* we created it (removed again on failure) */
    uint64_t line_base;     /* lines (records) before the current chunk */
    uint64_t header_lines;  /* 1 when the input has a "rows dim" header */
    wb_convert_stats *st;
} writer;

static const char *show_word(char *dst, size_t cap, const char *w, size_t n) {
    size_t k = 0;
    for (size_t i = 0; i < n && k + 6 < cap; i++) {
        unsigned char c = (unsigned char)w[i];
        if (c >= 0x20 && c != 0x7f) dst[k++] = (char)c;
        else k += (size_t)snprintf(dst + k, cap - k, "\\x%02x", c);
    }
    if (k + 6 >= cap) memcpy(dst + k, "...", 3), k += 3;
    dst[k] = 0;
    return dst;
}

/* Location of record `rel` of chunk c for messages. */
static void locate(const writer *w, const chunk *c, uint32_t rel, uint32_t off, long long *line,
                   long long *offset) {
    if (w->x->fmt == WB_FMT_WORD2VEC_BIN) {
        *line = 0;
        *offset = (long long)(w->x->stream_base + c->text_off + off);
    } else {
        *line = (long long)(w->line_base + rel + 1);
        *offset = -1;
    }
}

/* Store one record; returns 0, or an error code with err set. */
static int writer_put(writer *w, const chunk *c, size_t i, wb_err *err) {
    ctx *x = w->x;
    const rec *r = &c->recs[i];
    const char *word = c->buf + r->woff;
    const uint8_t *vals = c->vals + i * x->row_bytes;
    if (w->rows_n >= UINT32_MAX) return wb_err_set(err, WB_EUSAGE, "more than 2^32-1 rows");
    uint32_t old;
    int rc = wb_ixb_add(w->ix, word, r->wlen, (uint32_t)w->rows_n, &old, err);
    if (rc) return rc;
    if (old != UINT32_MAX) {
        w->st->duplicates++;
        if (x->o->duplicates == WB_DUP_ERROR) {
            long long line, off;
            char shown[160];
            locate(w, c, r->rel, r->woff, &line, &off);
            return wb_err_at(err, WB_EDUP, x->in.name, line, off,
                             "duplicate word '%s' (first stored as row %u; see --duplicates)",
                             show_word(shown, sizeof shown, word, r->wlen), old);
        }
        if (x->o->duplicates == WB_DUP_LAST) {
            rc = obuf_patch(&w->vec, (uint64_t)old * x->row_bytes, vals, x->row_bytes);
            if (!rc) rc = obuf_patch(&w->nrm, (uint64_t)old * 4, &c->norms[i], 4);
            if (rc) return wb_err_set(err, rc, "writing the store: %s", strerror(rc));
            w->rewrote = 1;
        }
        return 0;
    }
    rc = obuf_put(&w->vec, vals, x->row_bytes);
    if (!rc) rc = obuf_put(&w->nrm, &c->norms[i], 4);
    if (rc) return wb_err_set(err, rc, "writing the store: %s", rc > 0 ? strerror(rc) : wb_strerror(rc));
    w->rows_n++;
    w->st->invalid_utf8 += r->bad_utf8;
    w->st->long_words += r->wlen > WB_STORE_MAX_KEY;
    return 0;
}

/* Bad record bi of chunk c: the error that stops the conversion (the last
 * one of a chunk whose parse stopped), or a skipped record (counted, listed
 * in --bad-lines).  Returns 0 or the error code with err set. */
static int writer_bad(writer *w, const chunk *c, size_t bi, wb_err *err) {
    const badrec *b = &c->bads[bi];
    const ctx *x = w->x;
    long long line, off;
    locate(w, c, b->rel, b->off, &line, &off);
    if (c->fatal && bi + 1 == c->nbad) {
        if (c->fatal != 1) return wb_err_set(err, c->fatal, "%s", b->why);
        if (x->fmt == WB_FMT_WORD2VEC_BIN)
            return wb_err_at(err, WB_EFORMAT, x->in.name, 0, off, "record %llu: %s",
                             (unsigned long long)(w->line_base - w->header_lines + b->rel + 1), b->why);
        return wb_err_at(err, WB_EFORMAT, x->in.name, line, -1, "%s", b->why);
    }
    w->st->skipped++;
    if (w->badf) {
        if (line) fprintf(w->badf, "%lld\t%s\n", line, b->why);
        else fprintf(w->badf, "byte %lld\t%s\n", off, b->why);
    }
    return 0;
}

/* Finish the files: the last block hash, NPY headers, meta, the index. */
static int writer_finish(writer *w, const char *source_name, wb_err *err) {
    ctx *x = w->x;
    int rc;
    if ((rc = obuf_flush(&w->vec, 1)) || (rc = obuf_flush(&w->nrm, 1)))
        return wb_err_set(err, rc, "writing the store: %s", strerror(rc));
    /* the last partial block */
    if (w->vec.in_block) {
        if (w->vec.nhash == w->vec.hcap) {
            uint64_t *h = realloc(w->vec.hashes, (w->vec.hcap + 1) * 8);
            if (!h) return wb_err_set(err, WB_ENOMEM, "out of memory");
            w->vec.hashes = h, w->vec.hcap++;
        }
        w->vec.hashes[w->vec.nhash++] = XXH3_64bits_digest(w->vec.hs);
    }
    if (w->rewrote && (rc = wb_hash_blocks(w->vec.fd, WB_NPY_DATA_OFFSET, w->rows_n * x->row_bytes, w->vec.hashes)))
        return wb_err_set(err, rc, "re-reading vectors.npy: %s", wb_strerror(rc)); /* --duplicates last rewrote rows */
    const wb_convert_stats *s = w->st;
    wb_store_info in;
    memset(&in, 0, sizeof in);
    in.rows = w->rows_n, in.dim = x->dim, in.dtype = x->o->dtype, in.normalized = !!x->o->normalize;
    snprintf(in.source, sizeof in.source, "%s", source_name);
    in.source_bytes = x->in.raw_read, in.source_gzip = x->in.gz;
    snprintf(in.source_format, sizeof in.source_format, "%s", wb_format_name(x->fmt));
    in.duplicates = s->duplicates, in.skipped = s->skipped, in.invalid_utf8 = s->invalid_utf8;
    in.long_words = s->long_words;
    return wb_pub_finish(w->tmp, w->ix, w->vec.fd, w->nrm.fd, &in, w->vec.hashes, w->vec.nhash, &w->st->fingerprint, err);
}

/* Release the writer's files and buffers; safe to call again. */
static void writer_close(writer *w) {
    wb_ixb_close(w->ix);
    w->ix = NULL;
    if (w->vec.fd > 0) close(w->vec.fd);
    if (w->nrm.fd > 0) close(w->nrm.fd);
    if (w->vec.dfd > 0) close(w->vec.dfd);
    w->vec.fd = w->nrm.fd = w->vec.dfd = -1;
    free(w->vec.buf);
    free(w->nrm.buf);
    free(w->vec.hashes);
    w->vec.buf = w->nrm.buf = NULL;
    w->vec.hashes = NULL;
    if (w->vec.hs) XXH3_freeState(w->vec.hs);
    w->vec.hs = NULL;
    if (w->badf) fclose(w->badf);
    w->badf = NULL;
}

/* ---- detection of format and dim ---------------------------------------- */

/* Read the start of the stream into x->carry until it holds `lines` complete
 * lines (or eof / 64 MiB).  Returns 0 or an error code. */
static int prefetch_lines(ctx *x, int lines, int *eof, wb_err *err) {
    for (;;) {
        int have = 0;
        for (size_t i = 0; i < x->carry_len && have < lines; i++) have += x->carry[i] == '\n';
        if (have >= lines || *eof) return 0;
        if (x->carry_len >= (64u << 20)) return 0;
        if (x->carry_cap - x->carry_len < 65536) {
            size_t cap = x->carry_cap ? x->carry_cap * 2 : 1 << 20;
            char *b = realloc(x->carry, cap);
            if (!b) return wb_err_set(err, WB_ENOMEM, "out of memory");
            x->carry = b, x->carry_cap = cap;
        }
        size_t n;
        int rc = input_read(&x->in, x->carry + x->carry_len, x->carry_cap - x->carry_len, &n, err);
        if (rc) return rc;
        if (n == 0) *eof = 1;
        x->carry_len += n;
    }
}

/* Drop n bytes from the front of the carry buffer. */
static void carry_drop(ctx *x, size_t n) {
    memmove(x->carry, x->carry + n, x->carry_len - n);
    x->carry_len -= n;
}

/* Decide the format and dim; strip BOM and header.  Sets *line_base to the
 * lines consumed (1 with a header). */
static int detect(ctx *x, wb_convert_stats *st, uint64_t *line_base, wb_err *err) {
    int eof = 0, rc;
    const char *name = x->in.name;
    if ((rc = prefetch_lines(x, 2, &eof, err))) return rc;
    if (x->carry_len == 0) return wb_err_at(err, WB_EEMPTY, name, 0, -1, "the input is empty");
    const char *kind = wb_file_kind(x->carry, x->carry_len);
    if (kind) return wb_err_at(err, WB_EFORMAT, name, 0, -1, "%s, not word vectors", kind);
    if (x->carry_len >= 3 && !memcmp(x->carry, "\xEF\xBB\xBF", 3)) carry_drop(x, 3), x->stream_base = 3;
    const char *nl = memchr(x->carry, '\n', x->carry_len);
    size_t l1 = nl ? (size_t)(nl - x->carry) : x->carry_len;
    uint64_t hrows = 0;
    uint32_t hdim = 0;
    int header = wb_parse_header_line(x->carry, l1, &hrows, &hdim) == 0;
    wb_format f = x->o->format;
    if (f == WB_FMT_AUTO) {
        if (!header) f = WB_FMT_GLOVE;
        else if (nl && wb_looks_binary(nl + 1, x->carry_len - l1 - 1, hdim)) f = WB_FMT_WORD2VEC_BIN;
        else f = WB_FMT_WORD2VEC;
    }
    x->fmt = f;
    *line_base = 0;
    if (f == WB_FMT_WORD2VEC || f == WB_FMT_WORD2VEC_BIN) {
        if (!header)
            return wb_err_at(err, WB_EFORMAT, name, 1, -1,
                             "expected a 'rows dim' header for format %s (use --format glove for headerless files)",
                             wb_format_name(f));
        if (x->o->dim && x->o->dim != hdim)
            return wb_err_at(err, WB_EFORMAT, name, 1, -1, "header says dim %u, --dim says %u", hdim, x->o->dim);
        x->dim = hdim;
        st->header_rows = hrows;
        carry_drop(x, nl ? l1 + 1 : l1);
        x->stream_base += nl ? l1 + 1 : l1;
        *line_base = 1;
        return 0;
    }
    /* GloVe: dim from the option or the first non-blank line. */
    if (x->o->dim) {
        x->dim = x->o->dim;
        return 0;
    }
    size_t p = 0;
    uint64_t skipped = 0;
    for (;;) {
        const char *e = memchr(x->carry + p, '\n', x->carry_len - p);
        size_t ll = e ? (size_t)(e - x->carry) - p : x->carry_len - p;
        size_t q = p;
        while (q < p + ll && (x->carry[q] == ' ' || x->carry[q] == '\t' || x->carry[q] == '\r')) q++;
        if (q < p + ll) {
            x->dim = wb_text_line_dim(x->carry + p, ll);
            if (x->dim == 0) {
                const char *l = x->carry + q;
                size_t n = p + ll - q;
                while (n && (l[n - 1] == '\r' || l[n - 1] == ' ')) n--;
                char show[48];
                size_t k = 0;
                for (; k < n && k < 40; k++) show[k] = (unsigned char)l[k] < 0x20 || l[k] == 0x7f ? '?' : l[k];
                show[k] = 0;
                const char *what = n >= 9 && !memcmp(l, "__label__", 9) ? "fastText training data (labels and text)"
                                   : memchr(l, ',', n) ? "CSV"
                                   : memchr(l, '\t', n) ? "TSV" : NULL;
                return wb_err_at(err, WB_EFORMAT, name, (long long)(skipped + 1), -1,
                                 "cannot find any numbers after the word on the first line ('%s%s')%s%s%s; expected "
                                 "'word v1 v2 ...' (GloVe) or a 'rows dim' header (word2vec text or binary)",
                                 show, n > 40 ? "..." : "", what ? ": this looks like " : "", what ? what : "",
                                 what ? ", not word vectors" : "");
            }
            return 0;
        }
        if (!e) return wb_err_at(err, WB_EEMPTY, name, 0, -1, "the input holds only blank lines");
        p += ll + 1;
        skipped++;
        if (p >= x->carry_len) {
            if ((rc = prefetch_lines(x, (int)skipped + 2, &eof, err))) return rc;
            if (p >= x->carry_len) return wb_err_at(err, WB_EEMPTY, name, 0, -1, "the input holds only blank lines");
        }
    }
}

/* ---- the conversion ----------------------------------------------------- */

static void stop_all(ctx *x) {
    pthread_mutex_lock(&x->mu);
    x->stop = 1;
    pthread_cond_broadcast(&x->cv);
    pthread_mutex_unlock(&x->mu);
}

static int open_out(const char *tmp, const char *name, obuf *o, size_t cap, int direct, wb_err *err) {
    char *p = wb_path_join(tmp, name);
    if (!p) return wb_err_set(err, WB_ENOMEM, "out of memory");
    o->fd = open(p, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    o->dfd = -1;
    int rc = 0;
    if (o->fd < 0) rc = wb_err_at(err, errno, p, 0, -1, "cannot create: %s", strerror(errno));
    else if (direct) o->dfd = open(p, O_WRONLY | O_DIRECT | O_CLOEXEC); /* -1: not supported here */
    free(p);
    if (rc) return rc;
    if (posix_memalign((void **)&o->buf, 4096, cap)) o->buf = NULL;
    o->cap = cap;
    if (!o->buf) return wb_err_set(err, WB_ENOMEM, "out of memory");
    char zero[WB_NPY_DATA_OFFSET] = {0}; /* header placeholder, rewritten at the end */
    if ((rc = wb_pwrite_all(o->fd, zero, sizeof zero, 0))) return wb_err_set(err, rc, "writing: %s", strerror(rc));
    return 0;
}

int wb_convert(const char *input_path, const char *store, const wb_convert_opts *opts,
               wb_convert_stats *stats, wb_err *err) {
    wb_convert_opts defaults;
    if (!opts) wb_convert_opts_init(&defaults), opts = &defaults;
    wb_convert_stats local;
    wb_convert_stats *st = stats ? stats : &local;
    memset(st, 0, sizeof *st);
    const double t0 = wb_clock_s();
    if (opts->dtype != WB_DTYPE_F32 && opts->dtype != WB_DTYPE_F16)
        return wb_err_set(err, WB_EUSAGE, "dtype must be f32 or f16");
    if (opts->threads < 0 || opts->threads > 256) return wb_err_set(err, WB_EUSAGE, "threads must be 0..256");

    /* The temporary sibling the store is written in (publish.h). */
    wb_pub pub;
    int rc = 0;
    ctx *x = calloc(1, sizeof *x);
    writer w;
    memset(&w, 0, sizeof w);
    w.vec.fd = w.nrm.fd = w.vec.dfd = w.nrm.dfd = -1;
    vocab voc;
    memset(&voc, 0, sizeof voc);
    pthread_t reader, parsers[256];
    int nparsers = 0, reader_started = 0;
    const char *tmp = pub.tmp;
    if ((rc = wb_pub_begin(&pub, store, opts->force, err))) goto out;
    if (!x) {
        rc = wb_err_set(err, WB_ENOMEM, "out of memory");
        goto out;
    }

    if (opts->vocab_path && (rc = vocab_load(&voc, opts->vocab_path, err))) goto out;
    x->o = opts;
    x->voc = opts->vocab_path ? &voc : NULL;
    pthread_mutex_init(&x->mu, NULL);
    pthread_cond_init(&x->cv, NULL);
    if ((rc = input_open(&x->in, input_path, err))) goto out;
    uint64_t line_base = 0;
    if ((rc = detect(x, st, &line_base, err))) goto out;

    st->format = x->fmt;
    st->dim = x->dim;
    st->gzip = x->in.gz;
    x->row_bytes = (size_t)x->dim * wb_dtype_size(opts->dtype);
    if (opts->bad_lines_path) {
        if (!(w.badf = fopen(opts->bad_lines_path, "w"))) {
            rc = wb_err_at(err, errno, opts->bad_lines_path, 0, -1, "cannot create: %s", strerror(errno));
            goto out;
        }
        w.badf_made = 1;
    }

    /* Output files and index. */
    w.x = x;
    w.tmp = tmp;
    w.st = st;
    w.line_base = line_base;
    w.header_lines = line_base;
    if ((rc = open_out(tmp, WB_STORE_VECTORS, &w.vec, 8u << 20, 1, err)) ||
        (rc = open_out(tmp, WB_STORE_NORMS, &w.nrm, 1u << 20, 0, err)))
        goto out;
    w.vec.hashing = 1;
    if (!(w.vec.hs = XXH3_createState())) {
        rc = wb_err_set(err, WB_ENOMEM, "out of memory");
        goto out;
    }
    /* Rows to size the duplicate table for: the header's count is only a
     * hint (it may say 5e12 or 2^64-1), so it is bounded by what the file
     * can hold (a text row needs at least "w 0 0 ...\n", a binary one
     * "w " and dim floats); wb_ixb_open caps it too and the table grows. */
    uint64_t expect = st->header_rows, most = UINT64_MAX;
    if (x->in.size && !x->in.gz)
        most = x->in.size / ((uint64_t)x->dim * (x->fmt == WB_FMT_WORD2VEC_BIN ? 4 : 2) + 2);
    if (!expect && x->in.size && !x->in.gz) expect = x->in.size / ((uint64_t)x->dim * 8 + 8);
    if (expect > most) expect = most;
    if ((rc = wb_ixb_open(&w.ix, tmp, expect, err))) goto out;

    /* Threads. */
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    nparsers = opts->threads ? opts->threads : (int)(cores > 0 ? cores : 1);
    x->nslot = 2 * nparsers + 1 < NSLOT_MAX ? 2 * nparsers + 1 : NSLOT_MAX;
    if (pthread_create(&reader, NULL, reader_main, x)) {
        rc = wb_err_set(err, WB_ENOMEM, "cannot start the reader thread");
        nparsers = 0;
        goto out;
    }
    reader_started = 1;
    for (int i = 0; i < nparsers; i++)
        if (pthread_create(&parsers[i], NULL, parser_main, x)) {
            nparsers = i;
            break;
        }
    if (nparsers == 0) {
        rc = wb_err_set(err, WB_ENOMEM, "cannot start parser threads");
        goto out;
    }

    /* The writer loop, in input order. */
    double last_progress = 0;
    int done = 0;
    for (uint64_t seq = 0; !done; seq++) {
        chunk *c = &x->slots[seq % (uint64_t)x->nslot];
        pthread_mutex_lock(&x->mu);
        while (!(c->state == SLOT_PARSED && c->seq == seq) && !(x->reader_done && seq >= x->nchunks))
            pthread_cond_wait(&x->cv, &x->mu);
        int finished = x->reader_done && seq >= x->nchunks;
        pthread_mutex_unlock(&x->mu);
        if (finished) {
            if (x->reader_rc) {
                rc = x->reader_rc;
                if (err) *err = x->reader_err;
                goto out;
            }
            break;
        }
        size_t bi = 0;
        for (size_t i = 0; i < c->nrec && !done; i++) {
            /* bad records before this one, in order */
            for (; bi < c->nbad && c->bads[bi].rel < c->recs[i].rel; bi++)
                if ((rc = writer_bad(&w, c, bi, err))) goto out;
            if (opts->limit && w.rows_n >= opts->limit) {
                done = 1;
                break;
            }
            if ((rc = writer_put(&w, c, i, err))) goto out;
            if (opts->limit && w.rows_n >= opts->limit) done = 1;
        }
        if (!done) {
            for (; bi < c->nbad; bi++)
                if ((rc = writer_bad(&w, c, bi, err))) goto out;
            if (opts->limit && w.rows_n >= opts->limit) done = 1;
        }
        st->lines += c->lines - c->blank;
        st->not_in_vocab += c->not_in_vocab;
        w.line_base += c->lines;
        int last = c->last;
        pthread_mutex_lock(&x->mu);
        c->state = SLOT_FREE;
        pthread_cond_broadcast(&x->cv);
        pthread_mutex_unlock(&x->mu);
        if (last) done = 1;
        double t = wb_clock_s();
        if (opts->progress && (t - last_progress >= 0.1 || done)) {
            wb_convert_progress pr = {atomic_load(&x->in.raw_read), x->in.size, w.rows_n, t - t0};
            opts->progress(opts->ud, &pr);
            last_progress = t;
        }
    }
    stop_all(x);
    for (int i = 0; i < nparsers; i++) pthread_join(parsers[i], NULL);
    pthread_join(reader, NULL);
    nparsers = 0;
    reader_started = 0;

    if (w.rows_n == 0) {
        rc = wb_err_at(err, WB_EEMPTY, input_path, 0, -1, "no vectors%s", st->skipped ? " (every record was skipped)" : "");
        goto out;
    }
    if (st->header_rows && st->header_rows != st->lines && !opts->limit && opts->warn) {
        char msg[256];
        snprintf(msg, sizeof msg, "%s: header says %" PRIu64 " rows, the body has %" PRIu64 "; using the body",
                 input_path, st->header_rows, st->lines);
        opts->warn(opts->ud, msg);
    }
    const char *src = strcmp(input_path, "-") ? strrchr(input_path, '/') : NULL;
    src = src ? src + 1 : input_path;
    if ((rc = writer_finish(&w, src, err))) goto out;
    st->rows = w.rows_n;
    st->bytes_in = atomic_load(&x->in.raw_read);
    st->bytes_text = x->in.text_read;
    if (w.badf) {
        int bad = fclose(w.badf) != 0;
        w.badf = NULL;
        if (bad) {
            rc = wb_err_at(err, EIO, opts->bad_lines_path, 0, -1, "cannot write the bad-lines list");
            goto out;
        }
    }
    /* The matrices were fsynced in writer_finish; publish.c does the rest. */
    writer_close(&w);
    if ((rc = wb_pub_commit(&pub, store, err))) goto out;
    st->seconds = wb_clock_s() - t0;
    if (opts->progress) {
        wb_convert_progress pr = {st->bytes_in, x->in.size, st->rows, st->seconds};
        opts->progress(opts->ud, &pr);
    }

out:
    if (x) {
        if (reader_started || nparsers) {
            stop_all(x);
            for (int i = 0; i < nparsers; i++) pthread_join(parsers[i], NULL);
            if (reader_started) pthread_join(reader, NULL);
        }
        for (int i = 0; i < NSLOT_MAX; i++) {
            chunk *c = &x->slots[i];
            free(c->buf), free(c->recs), free(c->vals), free(c->norms), free(c->bads);
        }
        if (x->o) {
            pthread_mutex_destroy(&x->mu);
            pthread_cond_destroy(&x->cv);
        }
        st->bytes_in = atomic_load(&x->in.raw_read);
        input_close(&x->in);
        free(x->carry);
        free(x);
    }
    writer_close(&w);
    vocab_free(&voc);
    wb_pub_end(&pub);
    if (rc && opts->bad_lines_path && w.badf_made) unlink(opts->bad_lines_path);
    if (!st->seconds) st->seconds = wb_clock_s() - t0;
    return rc;
}
