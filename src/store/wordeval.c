/*
 * wordeval.c — gensim's analogy and word-similarity benchmarks over a
 * store's mapped rows (see wordbench/wordeval.h for the conventions).
 *
 * Contains: reading the benchmark files the way gensim reads them (pytext.h
 * for Python's string rules), interning their words, resolving words to
 * rows with one scan of the vocabulary's words, the blocked sgemm over the
 * rows with a top-8 per question, gensim's choice among the top 5, and the
 * correlations (stats.h).
 * Leaves out: the model's view of the vectors (the model layer builds the
 * wb_wordvecs) and printing.
 */
#include "wordbench/wordeval.h"

#include <cblas.h>
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <xxhash.h>

#include "wordbench/clock.h"
#include "store/convert_int.h"
#include "store/pytext.h"
#include "wordbench/floatparse.h"
#include "wordbench/stats.h"

#define TOPK 8          /* best rows kept per question: gensim's topn 5 + 3 question words */
#define TOPN 5          /* gensim's topn in evaluate_word_analogies */
#define BLOCK_ROWS 1024 /* rows per sgemm block */

/* ---- interned words ------------------------------------------------------- */

/* Distinct (transformed) words of the benchmark files.  Invariant: word i
 * is bytes[off[i] .. off[i] + len[i]), found through slot[] (linear probing
 * on XXH3-64, load <= 1/2; a slot holds id + 1, 0 = empty). */
typedef struct words {
    char *bytes;      /* arena of word bytes */
    size_t nbytes, capbytes;
    size_t *off;      /* (n) */
    uint32_t *len;    /* (n) */
    uint64_t *hash;   /* (n) */
    size_t n, cap;
    uint32_t *slot;   /* (nslot) */
    size_t nslot;     /* power of two */
} words;

static int64_t words_find(const words *w, const char *s, size_t n, uint64_t h) {
    if (!w->nslot) return -1;
    for (size_t i = h & (w->nslot - 1);; i = (i + 1) & (w->nslot - 1)) {
        uint32_t id = w->slot[i];
        if (!id) return -1;
        id--;
        if (w->hash[id] == h && w->len[id] == n && !memcmp(w->bytes + w->off[id], s, n)) return id;
    }
}

static int words_grow_slots(words *w) {
    size_t ns = w->nslot ? w->nslot * 2 : 1024;
    uint32_t *s = calloc(ns, sizeof *s);
    if (!s) return WB_ENOMEM;
    for (size_t id = 0; id < w->n; id++) {
        size_t i = w->hash[id] & (ns - 1);
        while (s[i]) i = (i + 1) & (ns - 1);
        s[i] = (uint32_t)id + 1;
    }
    free(w->slot);
    w->slot = s, w->nslot = ns;
    return 0;
}

/* Id of s[0..n), added when new.  Returns the id or a negative code. */
static int64_t words_intern(words *w, const char *s, size_t n) {
    uint64_t h = XXH3_64bits(s, n);
    int64_t id = words_find(w, s, n, h);
    if (id >= 0) return id;
    if (2 * (w->n + 1) > w->nslot && words_grow_slots(w)) return WB_ENOMEM;
    if (w->n == w->cap) {
        size_t cap = w->cap ? 2 * w->cap : 256;
        size_t *o = realloc(w->off, cap * sizeof *o);
        if (o) w->off = o;
        uint32_t *l = realloc(w->len, cap * sizeof *l);
        if (l) w->len = l;
        uint64_t *hh = realloc(w->hash, cap * sizeof *hh);
        if (hh) w->hash = hh;
        if (!o || !l || !hh) return WB_ENOMEM;
        w->cap = cap;
    }
    if (w->nbytes + n > w->capbytes) {
        size_t cap = w->capbytes ? 2 * w->capbytes : 4096;
        while (cap < w->nbytes + n) cap *= 2;
        char *b = realloc(w->bytes, cap);
        if (!b) return WB_ENOMEM;
        w->bytes = b, w->capbytes = cap;
    }
    memcpy(w->bytes + w->nbytes, s, n);
    w->off[w->n] = w->nbytes, w->len[w->n] = (uint32_t)n, w->hash[w->n] = h;
    w->nbytes += n;
    size_t i = h & (w->nslot - 1);
    while (w->slot[i]) i = (i + 1) & (w->nslot - 1);
    w->slot[i] = (uint32_t)w->n + 1;
    return (int64_t)w->n++;
}

static void words_free(words *w) {
    free(w->bytes), free(w->off), free(w->len), free(w->hash), free(w->slot);
}

/* ---- the benchmark files ----------------------------------------------------- */

typedef struct question {
    uint32_t w[4];     /* word ids of a, b, c, expected */
    uint32_t section;  /* index into the file's sections */
} question;

typedef struct afile {
    char *path;
    char **sections;   /* (nsec) names, owned */
    size_t nsec;
    question *q;       /* (nq) */
    size_t nq, capq;
    uint64_t invalid;  /* lines that are not 4 words */
} afile;

typedef struct pair {
    uint32_t a, b;     /* word ids */
    double gold;       /* the human score */
} pair;

typedef struct pfile {
    char *path;
    pair *p;           /* (np) */
    size_t np, capp;
    uint64_t invalid;  /* lines that are not word TAB word TAB number */
} pfile;

struct wb_wordtests {
    int case_sensitive;  /* 0: words upper-cased as read */
    words w;             /* every word of every file */
    afile *af;           /* (naf) */
    size_t naf;
    pfile *pf;           /* (npf) */
    size_t npf;
    char *tmp;           /* scratch for upper-casing */
    size_t tmpcap;
};

int wb_wordtests_create(wb_wordtests **out, int case_sensitive, wb_err *e) {
    *out = calloc(1, sizeof **out);
    if (!*out) return wb_err_set(e, WB_ENOMEM, "out of memory");
    (*out)->case_sensitive = case_sensitive;
    return 0;
}

void wb_wordtests_destroy(wb_wordtests *t) {
    if (!t) return;
    for (size_t i = 0; i < t->naf; i++) {
        for (size_t s = 0; s < t->af[i].nsec; s++) free(t->af[i].sections[s]);
        free(t->af[i].sections), free(t->af[i].q), free(t->af[i].path);
    }
    for (size_t i = 0; i < t->npf; i++) free(t->pf[i].p), free(t->pf[i].path);
    free(t->af), free(t->pf), free(t->tmp);
    words_free(&t->w);
    free(t);
}

/* Intern a word as read from a file: upper-cased unless case-sensitive. */
static int64_t intern_read(wb_wordtests *t, const char *s, size_t n) {
    if (t->case_sensitive) return words_intern(&t->w, s, n);
    if (WB_PY_UPPER_GROWTH * n > t->tmpcap) {
        size_t cap = WB_PY_UPPER_GROWTH * n + 64;
        char *b = realloc(t->tmp, cap);
        if (!b) return WB_ENOMEM;
        t->tmp = b, t->tmpcap = cap;
    }
    return words_intern(&t->w, t->tmp, wb_py_upper(s, n, t->tmp));
}

/* The whole file in a malloc'd buffer. */
static int slurp(const char *path, char **buf, size_t *len, wb_err *e) {
    FILE *f = fopen(path, "rb");
    if (!f) return wb_err_at(e, errno, path, 0, -1, "cannot open: %s", strerror(errno));
    size_t cap = 1 << 16, n = 0;
    char *b = malloc(cap);
    int rc = 0;
    while (b) {
        if (n == cap) {
            char *nb = realloc(b, cap *= 2);
            if (!nb) {
                free(b);
                b = NULL;
                break;
            }
            b = nb;
        }
        size_t k = fread(b + n, 1, cap - n, f);
        n += k;
        if (k == 0) break;
    }
    if (!b) rc = wb_err_set(e, WB_ENOMEM, "out of memory");
    else if (ferror(f)) rc = wb_err_at(e, EIO, path, 0, -1, "read error");
    fclose(f);
    if (rc) {
        free(b);
        return rc;
    }
    *buf = b, *len = n;
    return 0;
}

/* Length of the Python white space at s[0..n) (0 when none there). */
static size_t space_at(const char *s, size_t n) {
    uint32_t c;
    size_t k = (unsigned char)s[0] < 0x80 ? (c = (unsigned char)s[0], 1) : wb_utf8_next(s, n, &c);
    return k && wb_py_isspace(c) ? k : 0;
}

/* Python's str.split() with no argument: up to `max` tokens of s[0..n) into
 * tok/tlen; returns the number of tokens (may exceed max: counted only). */
static size_t py_split(const char *s, size_t n, const char **tok, size_t *tlen, size_t max) {
    size_t nt = 0, i = 0;
    while (i < n) {
        size_t k;
        while (i < n && (k = space_at(s + i, n - i))) i += k;
        if (i >= n) break;
        size_t st = i;
        while (i < n && !space_at(s + i, n - i)) i++;
        if (nt < max) tok[nt] = s + st, tlen[nt] = i - st;
        nt++;
    }
    return nt;
}

int wb_wordtests_add_analogies(wb_wordtests *t, const char *path, wb_err *e) {
    char *buf;
    size_t len;
    int rc = slurp(path, &buf, &len, e);
    if (rc) return rc;
    afile *af = realloc(t->af, (t->naf + 1) * sizeof *af);
    if (!af) {
        free(buf);
        return wb_err_set(e, WB_ENOMEM, "out of memory");
    }
    t->af = af;
    afile *f = &t->af[t->naf++];
    memset(f, 0, sizeof *f);
    if (!(f->path = strdup(path))) rc = wb_err_set(e, WB_ENOMEM, "out of memory");
    long long line = 0;
    /* As gensim: the file is read in binary and cut at '\n' only; each line
     * is decoded as strict UTF-8; ": " starts a section (its name is the
     * rest with ':' and ' ' stripped on the left, then white space on both
     * ends); any other line must come after a section and is a question
     * when str.split() gives 4 words. */
    for (size_t p = 0; !rc && p < len; line++) {
        const char *s = buf + p, *nl = memchr(s, '\n', len - p);
        size_t n = nl ? (size_t)(nl - s) : len - p;
        p += n + (nl != NULL);
        if (!wb_utf8_valid(s, n)) {
            rc = wb_err_at(e, WB_EFORMAT, path, line + 1, -1, "not valid UTF-8");
            break;
        }
        if (n >= 2 && s[0] == ':' && s[1] == ' ') {
            size_t a = 0, b = n, k;
            while (a < b && (s[a] == ':' || s[a] == ' ')) a++;
            while (a < b && (k = space_at(s + a, b - a))) a += k;
            while (b > a) { /* strip white space at the end (walk back one code point) */
                size_t c = b - 1;
                while (c > a && ((unsigned char)s[c] & 0xc0) == 0x80) c--;
                if (!space_at(s + c, b - c)) break;
                b = c;
            }
            char **secs = realloc(f->sections, (f->nsec + 1) * sizeof *secs);
            char *name = secs ? strndup(s + a, b - a) : NULL;
            if (secs) f->sections = secs;
            if (!name) {
                rc = wb_err_set(e, WB_ENOMEM, "out of memory");
                break;
            }
            f->sections[f->nsec++] = name;
            continue;
        }
        if (!f->nsec) {
            rc = wb_err_at(e, WB_EFORMAT, path, line + 1, -1,
                           "a question before the first section (a line ': name' must come first)");
            break;
        }
        const char *tok[4];
        size_t tl[4];
        if (py_split(s, n, tok, tl, 4) != 4) {
            f->invalid++;
            continue;
        }
        if (f->nq == f->capq) {
            size_t cap = f->capq ? 2 * f->capq : 1024;
            question *q = realloc(f->q, cap * sizeof *q);
            if (!q) {
                rc = wb_err_set(e, WB_ENOMEM, "out of memory");
                break;
            }
            f->q = q, f->capq = cap;
        }
        question *q = &f->q[f->nq];
        for (int i = 0; i < 4 && !rc; i++) {
            int64_t id = intern_read(t, tok[i], tl[i]);
            if (id < 0) rc = wb_err_set(e, WB_ENOMEM, "out of memory");
            else q->w[i] = (uint32_t)id;
        }
        q->section = (uint32_t)(f->nsec - 1);
        if (!rc) f->nq++;
    }
    free(buf);
    return rc;
}

int wb_wordtests_add_pairs(wb_wordtests *t, const char *path, wb_err *e) {
    char *buf;
    size_t len;
    int rc = slurp(path, &buf, &len, e);
    if (rc) return rc;
    pfile *pf = realloc(t->pf, (t->npf + 1) * sizeof *pf);
    if (!pf) {
        free(buf);
        return wb_err_set(e, WB_ENOMEM, "out of memory");
    }
    t->pf = pf;
    pfile *f = &t->pf[t->npf++];
    memset(f, 0, sizeof *f);
    if (!(f->path = strdup(path))) rc = wb_err_set(e, WB_ENOMEM, "out of memory");
    long long line = 0;
    /* As gensim: a text file (strict UTF-8, universal newlines: '\n', '\r\n'
     * and '\r' end lines); '#' lines are comments; a pair is exactly three
     * tab-separated fields, the words as they are (upper-cased, not
     * stripped) and a number for Python's float(). */
    for (size_t p = 0; !rc && p < len; line++) {
        const char *s = buf + p;
        size_t n = 0;
        while (p + n < len && s[n] != '\n' && s[n] != '\r') n++;
        p += n;
        if (p < len) p += (buf[p] == '\r' && p + 1 < len && buf[p + 1] == '\n') ? 2 : 1;
        if (!wb_utf8_valid(s, n)) {
            rc = wb_err_at(e, WB_EFORMAT, path, line + 1, -1, "not valid UTF-8");
            break;
        }
        if (n && s[0] == '#') continue;
        const char *t1 = memchr(s, '\t', n);
        const char *t2 = t1 ? memchr(t1 + 1, '\t', (size_t)(s + n - t1 - 1)) : NULL;
        double gold;
        if (!t2 || memchr(t2 + 1, '\t', (size_t)(s + n - t2 - 1)) ||
            wb_py_float(t2 + 1, (size_t)(s + n - t2 - 1), &gold)) {
            f->invalid++;
            continue;
        }
        int64_t a = intern_read(t, s, (size_t)(t1 - s)), b = a < 0 ? a : intern_read(t, t1 + 1, (size_t)(t2 - t1 - 1));
        if (b < 0) {
            rc = wb_err_set(e, WB_ENOMEM, "out of memory");
            break;
        }
        if (f->np == f->capp) {
            size_t cap = f->capp ? 2 * f->capp : 512;
            pair *np = realloc(f->p, cap * sizeof *np);
            if (!np) {
                rc = wb_err_set(e, WB_ENOMEM, "out of memory");
                break;
            }
            f->p = np, f->capp = cap;
        }
        f->p[f->np++] = (pair){(uint32_t)a, (uint32_t)b, gold};
    }
    free(buf);
    return rc;
}

/* ---- the vectors ------------------------------------------------------------- */

void wb_wordeval_opts_init(wb_wordeval_opts *o) {
    memset(o, 0, sizeof *o);
    o->restrict_vocab = 300000;
    o->method = WB_ANALOGY_ADD;
    o->threads = 1;
}

/* The vectors judged, with what the blocks need.  Invariant: onorm[i] is
 * the norm of override_vecs row i, computed like the converter computes
 * norms.npy (double sum, rounded once). */
typedef struct view {
    const wb_wordvecs *v;
    uint64_t rows;         /* all rows */
    uint64_t vocab;        /* rows searched: min(restrict, rows) */
    size_t E;              /* dim */
    const float *norms;    /* (rows) the store's, or own_norms */
    float *own_norms;      /* matrix views: computed */
    float *onorm;          /* (noverride) */
    int needs_copy;        /* blocks are copied (f16 rows, replaced rows) into a scratch buffer */
} view;

static float row_norm(const float *x, size_t E) {
    double ss = 0;
    for (size_t i = 0; i < E; i++) ss += (double)x[i] * x[i];
    return (float)sqrt(ss);
}

/* Index of `row` in the override list, or -1. */
static int64_t override_find(const wb_wordvecs *v, uint64_t row) {
    size_t lo = 0, hi = v->noverride;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (v->override_rows[mid] < row) lo = mid + 1;
        else hi = mid;
    }
    return lo < v->noverride && v->override_rows[lo] == row ? (int64_t)lo : -1;
}

static int view_open(view *w, const wb_wordvecs *v, uint64_t restrict_vocab, wb_err *e) {
    memset(w, 0, sizeof *w);
    w->v = v;
    if (v->store) {
        const wb_store_info *in = wb_store_info_get(v->store);
        w->rows = in->rows, w->E = in->dim;
        w->norms = wb_store_norms(v->store);
        for (size_t i = 0; i < v->noverride; i++)
            if (v->override_rows[i] >= w->rows || (i && v->override_rows[i] <= v->override_rows[i - 1]))
                return wb_err_set(e, WB_EUSAGE, "override rows must be ascending store rows");
        if (v->noverride) {
            if (!(w->onorm = malloc(v->noverride * sizeof *w->onorm))) return wb_err_set(e, WB_ENOMEM, "out of memory");
            for (size_t i = 0; i < v->noverride; i++) w->onorm[i] = row_norm(v->override_vecs + i * w->E, w->E);
        }
        w->needs_copy = v->noverride || in->dtype != WB_DTYPE_F32;
    } else {
        if (!v->mat || !v->words || !v->lens || !v->dim) return wb_err_set(e, WB_EUSAGE, "no vectors to evaluate");
        w->rows = v->rows, w->E = v->dim;
        if (!(w->own_norms = malloc((v->rows ? v->rows : 1) * sizeof(float)))) return wb_err_set(e, WB_ENOMEM, "out of memory");
        for (uint64_t r = 0; r < v->rows; r++) w->own_norms[r] = row_norm(v->mat + r * w->E, w->E);
        w->norms = w->own_norms;
    }
    if (!w->rows) return wb_err_set(e, WB_EUSAGE, "no vectors to evaluate");
    w->vocab = restrict_vocab && restrict_vocab < w->rows ? restrict_vocab : w->rows;
    return 0;
}

static void view_close(view *w) {
    free(w->own_norms), free(w->onorm);
}

static float view_norm(const view *w, uint64_t r) {
    int64_t o = w->v->noverride ? override_find(w->v, r) : -1;
    return o >= 0 ? w->onorm[o] : w->norms[r];
}

static void view_row(const view *w, uint64_t r, float *out) {
    const wb_wordvecs *v = w->v;
    int64_t o = v->noverride ? override_find(v, r) : -1;
    if (o >= 0) memcpy(out, v->override_vecs + (size_t)o * w->E, w->E * sizeof(float));
    else if (v->store) {
        uint32_t r32 = (uint32_t)r;
        wb_store_gather(v->store, 1, &r32, out);
    } else memcpy(out, v->mat + r * w->E, w->E * sizeof(float));
}

/* Rows r0 .. r0 + m - 1 as float32 (m <= BLOCK_ROWS): the mapping itself
 * when it can be, else a copy in scratch (BLOCK_ROWS x E floats, needed
 * when w->needs_copy); norms into nrm[m].  Safe from several threads. */
static const float *view_block(const view *w, uint64_t r0, size_t m, float *nrm, float *scratch) {
    const wb_wordvecs *v = w->v;
    memcpy(nrm, w->norms + r0, m * sizeof(float));
    if (!v->store) return v->mat + r0 * w->E;
    const float *b = wb_store_row(v->store, r0);
    size_t lo = 0, hi = v->noverride; /* first override >= r0 */
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (v->override_rows[mid] < r0) lo = mid + 1;
        else hi = mid;
    }
    int patched = lo < v->noverride && v->override_rows[lo] < r0 + m;
    if (!w->needs_copy || (!patched && wb_store_info_get(v->store)->dtype == WB_DTYPE_F32)) return b;
    if (wb_store_info_get(v->store)->dtype == WB_DTYPE_F16) wb_f16_to_f32_n(scratch, (const uint16_t *)(const void *)b, m * w->E);
    else memcpy(scratch, b, m * w->E * sizeof(float));
    for (size_t i = lo; i < v->noverride && v->override_rows[i] < r0 + m; i++) {
        memcpy(scratch + (v->override_rows[i] - r0) * w->E, v->override_vecs + i * w->E, w->E * sizeof(float));
        nrm[v->override_rows[i] - r0] = w->onorm[i];
    }
    return scratch;
}

/* ---- resolving words to rows ---------------------------------------------------- */

/* After the scan: row[id] = the first vocabulary row whose (transformed)
 * word is word id, or -1; cls[r] = the word id of row r's word, or -1 when
 * it is no benchmark word (gensim compares predictions by word). */
typedef struct resolve {
    const wb_wordtests *t;
    int64_t *row;       /* (t->w.n) */
    int32_t *cls;       /* (vocab) */
    char *tmp;          /* upper-case scratch */
    size_t tmpcap;
} resolve;

static int resolve_word(void *ud, uint32_t r, const char *s, size_t n) {
    resolve *z = ud;
    const char *k = s;
    size_t kn = n;
    if (!z->t->case_sensitive) {
        if (WB_PY_UPPER_GROWTH * n > z->tmpcap) {
            size_t cap = WB_PY_UPPER_GROWTH * n + 64;
            char *b = realloc(z->tmp, cap);
            if (!b) return WB_ENOMEM;
            z->tmp = b, z->tmpcap = cap;
        }
        kn = wb_py_upper(s, n, z->tmp);
        k = z->tmp;
    }
    int64_t id = words_find(&z->t->w, k, kn, XXH3_64bits(k, kn));
    z->cls[r] = (int32_t)id;
    if (id >= 0 && z->row[id] < 0) z->row[id] = r;
    return 0;
}

static int resolve_run(resolve *z, const view *w, wb_err *e) {
    const words *tw = &z->t->w;
    z->row = malloc((tw->n ? tw->n : 1) * sizeof *z->row);
    z->cls = malloc(w->vocab * sizeof *z->cls);
    if (!z->row || !z->cls) return wb_err_set(e, WB_ENOMEM, "out of memory");
    for (size_t i = 0; i < tw->n; i++) z->row[i] = -1;
    for (uint64_t r = 0; r < w->vocab; r++) z->cls[r] = -1;
    int rc = 0;
    if (w->v->store) {
        rc = wb_store_words(w->v->store, 0, w->vocab, resolve_word, z);
        if (rc == WB_ELMDB || rc == WB_ECORRUPT) return wb_err_set(e, rc, "reading the store's words: %s", wb_strerror(rc));
        if (rc) return wb_err_set(e, rc, "out of memory");
    } else {
        for (uint64_t r = 0; r < w->vocab && !rc; r++) rc = resolve_word(z, (uint32_t)r, w->v->words[r], w->v->lens[r]);
        if (rc) return wb_err_set(e, rc, "out of memory");
    }
    return 0;
}

static void resolve_free(resolve *z) {
    free(z->row), free(z->cls), free(z->tmp);
}

/* ---- analogies --------------------------------------------------------------- */

/* A question being searched: its rows and the columns of its a, b, c in
 * the word matrix.  Read-only during the scan. */
typedef struct active {
    uint32_t file, index;  /* which question */
    uint32_t row[4];       /* rows of a, b, c, expected */
    uint32_t col[3];       /* columns of a, b, c in S */
} active;

/* The best rows of one question so far, score descending; on equal scores
 * the lower row first (so the result does not depend on the threads). */
typedef struct topk {
    uint32_t n;            /* entries used */
    float score[TOPK];
    uint32_t row[TOPK];
} topk;

static void topk_push(topk *q, float s, uint32_t row) {
    uint32_t i = q->n < TOPK ? q->n++ : TOPK - 1;
    while (i > 0 && (q->score[i - 1] < s || (q->score[i - 1] == s && q->row[i - 1] > row))) {
        q->score[i] = q->score[i - 1], q->row[i] = q->row[i - 1];
        i--;
    }
    q->score[i] = s, q->row[i] = row;
}

/* Eight floats as one vector (GCC/clang vector extension: SSE pairs, or
 * one AVX register in the avx2 clone below). */
typedef float v8f __attribute__((vector_size(32)));
typedef int32_t v8i __attribute__((vector_size(32)));

/* The avx2 clone where the CPU has it (not under the sanitizers, whose
 * run-time cannot run ifunc resolvers that early, nor with clang). */
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && !defined(__SANITIZE_ADDRESS__)
#define WB_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define WB_CLONES
#endif

/* Scores of one question over a block of m rows, kept when among the best:
 *   add: t = (S_b + S_c - S_a) · inv   (∝ cos(r, b̂ + ĉ - â): gensim's ranking)
 *   mul: t = P_b · P_c / (P_a + 1e-6)  with P = (1 + cos) / 2 already in S
 * inv[m] = 1 / |r|, NaN for rows of norm 0 (never chosen: NaN compares
 * false, as such rows score NaN in gensim).  Eight scores at a time; the
 * heap is touched only when one beats the current 8th best. */
WB_CLONES
static void score_block(topk *q, const float *sa, const float *sb, const float *sc, const float *inv, size_t m,
                        uint32_t r0, int mul) {
    float thr = q->n < TOPK ? -INFINITY : q->score[TOPK - 1];
    const v8f eps = {1e-6f, 1e-6f, 1e-6f, 1e-6f, 1e-6f, 1e-6f, 1e-6f, 1e-6f};
    size_t i = 0;
    for (; i + 8 <= m; i += 8) { /* (no helper functions: vector arguments would change the ABI) */
        v8f a, b, c, t;
        memcpy(&a, sa + i, sizeof a), memcpy(&b, sb + i, sizeof b), memcpy(&c, sc + i, sizeof c);
        if (mul) t = b * c / (a + eps);
        else {
            v8f r;
            memcpy(&r, inv + i, sizeof r);
            t = (b + c - a) * r;
        }
        v8f th = {thr, thr, thr, thr, thr, thr, thr, thr};
        v8i gt = t > th;
        uint64_t u[4];
        memcpy(u, &gt, sizeof u);
        if (!(u[0] | u[1] | u[2] | u[3])) continue;
        float ts[8];
        memcpy(ts, &t, sizeof ts);
        for (int j = 0; j < 8; j++)
            if (ts[j] > thr) {
                topk_push(q, ts[j], r0 + (uint32_t)(i + j));
                if (q->n == TOPK) thr = q->score[TOPK - 1];
            }
    }
    for (; i < m; i++) {
        float t = mul ? sb[i] * sc[i] / (sa[i] + 1e-6f) : (sb[i] + sc[i] - sa[i]) * inv[i];
        if (t > thr) {
            topk_push(q, t, r0 + (uint32_t)i);
            if (q->n == TOPK) thr = q->score[TOPK - 1];
        }
    }
}

static int cmp_u32(const void *a, const void *b) {
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

/* gensim's answer: of the best (TOPN + question words) rows, drop the rows
 * of a, b, c, keep the first TOPN, and take the first whose word is none of
 * A, B, C (else the last one looked at). */
static int answer_right(const active *q, const topk *best, const question *qq, const int32_t *cls, int mul) {
    uint32_t distinct = 1 + (q->row[1] != q->row[0]) + (q->row[2] != q->row[0] && q->row[2] != q->row[1]);
    uint32_t k = TOPN + (mul ? distinct : 3);
    if (k > best->n) k = best->n;
    int64_t predicted = -2; /* none */
    uint32_t seen = 0;
    for (uint32_t i = 0; i < k && seen < TOPN; i++) {
        uint32_t r = best->row[i];
        if (r == q->row[0] || r == q->row[1] || r == q->row[2]) continue;
        seen++;
        predicted = cls[r];
        if (predicted != qq->w[0] && predicted != qq->w[1] && predicted != qq->w[2]) break;
    }
    return predicted == qq->w[3];
}

/* The scan, shared by its threads: thread k takes the blocks k, k + T, ...
 * with its own S, scratch and best rows, merged at the end. */
typedef struct scan {
    view *w;
    const float *W;        /* (nw, E) unit vectors of the question words */
    size_t nw;
    const active *act;     /* (nact) */
    const uint32_t *order; /* (nact) questions sorted by their b, a columns (cache reuse of S rows) */
    size_t nact;
    int mul;
    size_t nthreads;
    const wb_wordeval_opts *o;
    _Atomic uint64_t done; /* rows scanned, for progress */
} scan;

typedef struct scan_thread {
    scan *sc;
    size_t id;
    float *S;              /* (nw, BLOCK_ROWS) */
    float *inv;            /* (BLOCK_ROWS) */
    float *scratch;        /* (BLOCK_ROWS, E) block copies, or NULL */
    topk *best;            /* (nact) */
} scan_thread;

static void *scan_main(void *arg) {
    scan_thread *t = arg;
    scan *sc = t->sc;
    view *w = sc->w;
    const size_t E = w->E, nw = sc->nw;
    for (uint64_t r0 = t->id * BLOCK_ROWS; r0 < w->vocab; r0 += sc->nthreads * BLOCK_ROWS) {
        size_t m = w->vocab - r0 < BLOCK_ROWS ? (size_t)(w->vocab - r0) : BLOCK_ROWS;
        const float *B = view_block(w, r0, m, t->inv, t->scratch);
        for (size_t i = 0; i < m; i++) t->inv[i] = t->inv[i] > 0 ? 1.0f / t->inv[i] : NAN;
        float *S = t->S;
        /* S (nw, m) = Ŵ (nw, E) · B (m, E)ᵀ   row-major, B transposed */
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)nw, (int)m, (int)E, 1.0f, sc->W, (int)E, B,
                    (int)E, 0.0f, S, (int)m);
        if (sc->mul) /* P = (1 + cos) / 2: gensim's shift of the cosines to [0, 1] */
            for (size_t j = 0; j < nw; j++)
                for (size_t i = 0; i < m; i++) S[j * m + i] = (1 + S[j * m + i] * t->inv[i]) / 2;
        for (size_t k = 0; k < sc->nact; k++) {
            uint32_t qi = sc->order[k];
            const active *q = &sc->act[qi];
            score_block(&t->best[qi], S + q->col[0] * m, S + q->col[1] * m, S + q->col[2] * m, t->inv, m,
                        (uint32_t)r0, sc->mul);
        }
        if (w->v->store) wb_store_drop(w->v->store, r0, m);
        uint64_t done = atomic_fetch_add(&sc->done, m) + m;
        if (t->id == 0 && sc->o->progress) sc->o->progress(sc->o->ud, done, w->vocab);
    }
    return NULL;
}

/* A question's place in the scan order: by the S rows of its b, then a,
 * then c, so consecutive questions reuse rows of S from the cache. */
typedef struct qkey {
    uint32_t b, a, c;   /* columns */
    uint32_t i;         /* question */
} qkey;

static int cmp_qkey(const void *x, const void *y) {
    const qkey *p = x, *q = y;
    if (p->b != q->b) return p->b < q->b ? -1 : 1;
    if (p->a != q->a) return p->a < q->a ? -1 : 1;
    if (p->c != q->c) return p->c < q->c ? -1 : 1;
    return (p->i > q->i) - (p->i < q->i);
}

static int run_analogies(view *w, const wb_wordtests *t, const resolve *z, const wb_wordeval_opts *o,
                         wb_wordeval_result *res, wb_err *e) {
    const int mul = o->method == WB_ANALOGY_MUL;
    const size_t E = w->E;
    size_t nact = 0, cap = 0;
    active *act = NULL;
    int rc = 0;
    /* Which questions are searched; out-of-vocabulary ones are counted now. */
    for (size_t f = 0; f < t->naf && !rc; f++) {
        const afile *af = &t->af[f];
        wb_analogy_result *ar = &res->analogies[f];
        for (size_t i = 0; i < af->nq; i++) {
            const question *qq = &af->q[i];
            int oov = 0;
            for (int j = 0; j < 4; j++) oov |= z->row[qq->w[j]] < 0;
            ar->questions++;
            if (oov) {
                ar->oov++;
                if (o->dummy4unknown) ar->sections[qq->section].incorrect++;
                continue;
            }
            if (nact == cap) {
                cap = cap ? 2 * cap : 1024;
                active *na = realloc(act, cap * sizeof *na);
                if (!na) {
                    rc = wb_err_set(e, WB_ENOMEM, "out of memory");
                    break;
                }
                act = na;
            }
            active *q = &act[nact++];
            memset(q, 0, sizeof *q);
            q->file = (uint32_t)f, q->index = (uint32_t)i;
            for (int j = 0; j < 4; j++) q->row[j] = (uint32_t)z->row[qq->w[j]];
        }
    }
    /* The distinct rows of the questions' a, b, c: the word matrix. */
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    size_t nw = 0, nthreads = o->threads ? o->threads : (size_t)(cores > 0 ? cores : 1);
    if (nthreads > WB_WORDEVAL_MAX_THREADS) nthreads = WB_WORDEVAL_MAX_THREADS;
    uint32_t *cols = rc ? NULL : malloc((3 * nact + 1) * sizeof *cols);
    uint32_t *order = cols ? malloc((nact + 1) * sizeof *order) : NULL;
    qkey *keys = order ? malloc((nact + 1) * sizeof *keys) : NULL;
    float *W = NULL;
    if (!rc && !keys) rc = wb_err_set(e, WB_ENOMEM, "out of memory");
    if (!rc && nact) {
        for (size_t i = 0; i < nact; i++)
            for (int j = 0; j < 3; j++) cols[nw++] = act[i].row[j];
        qsort(cols, nw, sizeof *cols, cmp_u32);
        size_t u = 0;
        for (size_t i = 0; i < nw; i++)
            if (!u || cols[i] != cols[u - 1]) cols[u++] = cols[i];
        nw = u;
        for (size_t i = 0; i < nact; i++) {
            for (int j = 0; j < 3; j++) {
                uint32_t *hit = bsearch(&act[i].row[j], cols, nw, sizeof *cols, cmp_u32);
                act[i].col[j] = (uint32_t)(hit - cols);
            }
            keys[i] = (qkey){act[i].col[1], act[i].col[0], act[i].col[2], (uint32_t)i};
        }
        qsort(keys, nact, sizeof *keys, cmp_qkey);
        for (size_t i = 0; i < nact; i++) order[i] = keys[i].i;
        if (!(W = malloc(nw * E * sizeof *W))) rc = wb_err_set(e, WB_ENOMEM, "out of memory");
    }
    /* Ŵ: unit vectors of the question words (a zero vector stays zero). */
    for (size_t j = 0; !rc && j < nw; j++) {
        view_row(w, cols[j], W + j * E);
        float nr = view_norm(w, cols[j]);
        if (nr > 0)
            for (size_t i = 0; i < E; i++) W[j * E + i] /= nr;
    }
    /* The scan: threads over blocks of rows, OpenBLAS single-threaded in
     * each (restored afterwards). */
    uint64_t blocks = (w->vocab + BLOCK_ROWS - 1) / BLOCK_ROWS;
    if (nthreads > blocks) nthreads = blocks ? (size_t)blocks : 1;
    scan sc = {w, W, nw, act, order, nact, mul, nthreads, o, 0};
    scan_thread *th = rc || !nact ? NULL : calloc(nthreads, sizeof *th);
    if (!rc && nact && !th) rc = wb_err_set(e, WB_ENOMEM, "out of memory");
    for (size_t k = 0; th && k < nthreads && !rc; k++) {
        th[k].sc = &sc, th[k].id = k;
        th[k].S = malloc(nw * BLOCK_ROWS * sizeof(float));
        th[k].inv = malloc(BLOCK_ROWS * sizeof(float));
        th[k].best = calloc(nact, sizeof(topk));
        th[k].scratch = w->needs_copy ? malloc(BLOCK_ROWS * E * sizeof(float)) : NULL;
        if (!th[k].S || !th[k].inv || !th[k].best || (w->needs_copy && !th[k].scratch))
            rc = wb_err_set(e, WB_ENOMEM, "out of memory");
    }
    if (!rc && th) {
        int blas = openblas_get_num_threads();
        openblas_set_num_threads(1);
        pthread_t tid[WB_WORDEVAL_MAX_THREADS];
        size_t started = 1;
        for (size_t k = 1; k < nthreads; k++, started++)
            if (pthread_create(&tid[k], NULL, scan_main, &th[k])) break;
        scan_main(&th[0]);
        for (size_t k = started; k < nthreads; k++) scan_main(&th[k]); /* threads that could not start */
        for (size_t k = 1; k < started; k++) pthread_join(tid[k], NULL);
        openblas_set_num_threads(blas);
        for (size_t k = 1; k < nthreads; k++) /* merge every thread's best rows into thread 0's */
            for (size_t i = 0; i < nact; i++)
                for (uint32_t j = 0; j < th[k].best[i].n; j++) {
                    topk *q = &th[0].best[i];
                    float s = th[k].best[i].score[j];
                    uint32_t r = th[k].best[i].row[j];
                    if (q->n < TOPK || s > q->score[TOPK - 1] || (s == q->score[TOPK - 1] && r < q->row[TOPK - 1]))
                        topk_push(q, s, r);
                }
    }
    /* gensim's choice among the best rows, per question. */
    for (size_t i = 0; !rc && i < nact; i++) {
        const active *q = &act[i];
        const question *qq = &t->af[q->file].q[q->index];
        wb_analogy_section *s = &res->analogies[q->file].sections[qq->section];
        int zero = !(view_norm(w, q->row[0]) > 0) || !(view_norm(w, q->row[1]) > 0) || !(view_norm(w, q->row[2]) > 0);
        if (!zero && answer_right(q, &th[0].best[i], qq, z->cls, mul)) s->correct++;
        else s->incorrect++;
    }
    for (size_t f = 0; !rc && f < t->naf; f++) {
        wb_analogy_result *ar = &res->analogies[f];
        for (size_t s = 0; s < ar->nsections; s++) {
            wb_analogy_section *sec = &ar->sections[s];
            uint64_t n = sec->correct + sec->incorrect;
            sec->accuracy = n ? (double)sec->correct / (double)n : 0;
            ar->total.correct += sec->correct, ar->total.incorrect += sec->incorrect;
        }
        uint64_t n = ar->total.correct + ar->total.incorrect;
        ar->total.accuracy = n ? (double)ar->total.correct / (double)n : 0;
        ar->oov_ratio = ar->questions ? 100.0 * (double)ar->oov / (double)ar->questions : 0;
    }
    for (size_t k = 0; th && k < nthreads; k++) free(th[k].S), free(th[k].inv), free(th[k].best), free(th[k].scratch);
    free(th), free(act), free(cols), free(order), free(keys), free(W);
    return rc;
}

/* ---- word pairs ---------------------------------------------------------------- */

static int run_pairs(view *w, const wb_wordtests *t, const resolve *z, const wb_wordeval_opts *o,
                     wb_wordeval_result *res, wb_err *e) {
    const size_t E = w->E;
    float *va = malloc(2 * E * sizeof *va);
    if (!va) return wb_err_set(e, WB_ENOMEM, "out of memory");
    float *vb = va + E;
    int rc = 0;
    for (size_t f = 0; f < t->npf && !rc; f++) {
        const pfile *pf = &t->pf[f];
        wb_pairs_result *pr = &res->pairs[f];
        double *gold = malloc((2 * pf->np + 1) * sizeof *gold);
        if (!gold) {
            rc = wb_err_set(e, WB_ENOMEM, "out of memory");
            break;
        }
        double *model = gold + pf->np;
        size_t n = 0;
        for (size_t i = 0; i < pf->np; i++) {
            const pair *p = &pf->p[i];
            int64_t ra = z->row[p->a], rb = z->row[p->b];
            if (ra < 0 || rb < 0) {
                pr->oov++;
                if (o->dummy4unknown) gold[n] = p->gold, model[n++] = 0;
                continue;
            }
            /* gensim: dot(unitvec(a), unitvec(b)) in float32; a zero vector
             * stays zero, so its similarity is 0 */
            view_row(w, (uint64_t)ra, va);
            view_row(w, (uint64_t)rb, vb);
            float na = view_norm(w, (uint64_t)ra), nb = view_norm(w, (uint64_t)rb);
            double dot = 0;
            for (size_t k = 0; k < E; k++) dot += (double)va[k] * vb[k];
            double sim = na > 0 && nb > 0 ? dot / ((double)na * nb) : 0;
            gold[n] = p->gold, model[n++] = (float)sim;
        }
        pr->pairs = n;
        pr->pearson = wb_stats_pearson(gold, model, n, &pr->pearson_p);
        if (wb_stats_spearman(gold, model, n, &pr->spearman, &pr->spearman_p)) rc = wb_err_set(e, WB_ENOMEM, "out of memory");
        uint64_t denom = o->dummy4unknown ? n : n + pr->oov;
        pr->oov_ratio = denom ? 100.0 * (double)pr->oov / (double)denom : 0;
        free(gold);
    }
    free(va);
    return rc;
}

/* ---- the run ------------------------------------------------------------------- */

int wb_wordeval_run(const wb_wordvecs *v, const wb_wordtests *t, const wb_wordeval_opts *o,
                    wb_wordeval_result *res, wb_err *e) {
    const double t0 = wb_clock_s();
    wb_wordeval_opts defaults;
    if (!o) wb_wordeval_opts_init(&defaults), o = &defaults;
    memset(res, 0, sizeof *res);
    res->analogies = calloc(t->naf + 1, sizeof *res->analogies);
    res->pairs = calloc(t->npf + 1, sizeof *res->pairs);
    if (!res->analogies || !res->pairs) return wb_err_set(e, WB_ENOMEM, "out of memory");
    res->nanalogies = t->naf, res->npairs = t->npf;
    for (size_t f = 0; f < t->naf; f++) {
        wb_analogy_result *ar = &res->analogies[f];
        ar->path = t->af[f].path;
        ar->invalid = t->af[f].invalid;
        ar->total.name = "Total accuracy";
        ar->nsections = t->af[f].nsec;
        if (!(ar->sections = calloc(ar->nsections + 1, sizeof *ar->sections))) return wb_err_set(e, WB_ENOMEM, "out of memory");
        for (size_t s = 0; s < ar->nsections; s++) ar->sections[s].name = t->af[f].sections[s];
    }
    for (size_t f = 0; f < t->npf; f++) {
        res->pairs[f].path = t->pf[f].path;
        res->pairs[f].invalid = t->pf[f].invalid;
    }
    view w;
    resolve z = {t, NULL, NULL, NULL, 0};
    int rc = view_open(&w, v, o->restrict_vocab, e);
    if (!rc) {
        res->vocab = w.vocab;
        rc = resolve_run(&z, &w, e);
    }
    if (!rc && t->naf) rc = run_analogies(&w, t, &z, o, res, e);
    if (!rc && t->npf) rc = run_pairs(&w, t, &z, o, res, e);
    resolve_free(&z);
    view_close(&w);
    res->seconds = wb_clock_s() - t0;
    return rc;
}

void wb_wordeval_result_free(wb_wordeval_result *res) {
    if (!res) return;
    for (size_t f = 0; res->analogies && f < res->nanalogies; f++) free(res->analogies[f].sections);
    free(res->analogies), free(res->pairs);
    memset(res, 0, sizeof *res);
}
