/*
 * part_bow.c — the bag-of-words part (model bow): the tutorial's first
 * model, a logistic regression on sparse n-gram features:
 *   the text's word ids → n-grams of 1..ngrams words → counts or tf-idf
 *   (D features) → Dense C (weights (D, C), bias C) = the logits
 * The part's output is the logits; the head of a bow model has no layer of
 * its own (model.c: head.direct).
 *
 * Features: a unigram is its word id (2 .. V-1); an n-gram of n >= 2
 * consecutive word ids is a row of the n-gram table, feature V + its index.
 * Padding (id 0) is skipped; an out-of-vocabulary word (id 1) is dropped
 * and breaks n-grams, as scikit-learn's CountVectorizer drops n-grams it
 * has not seen.  The table holds every n-gram of the training examples
 * (wb_model_fit), in first-seen order (deterministic).  Counts are raw
 * counts (CountVectorizer); tf-idf is scikit-learn's TfidfTransformer
 * default: tf · idf, idf = ln((1 + n) / (1 + df)) + 1 over the n training
 * examples, then each example's vector L2-normalised.
 *
 * The weights are an embedding table of D rows of C (emb.c, mode learned,
 * zero at first): only the rows of the features a minibatch holds are
 * read, get a gradient and an optimizer step, so a step costs O(nnz · C)
 * whatever D.  L2 (--l2) is nevertheless scikit-learn's penalty on every
 * weight at every step: the table decays idle rows (decay_idle), each
 * caught up exactly when it is next read (wb_optim_idle: the bits of the
 * dense rule, --adam dense) — before a training step for the rows of its
 * features (bow_before_step, single-threaded), and for every row before a
 * prediction or a save (wb_model_catchup_ready).
 *
 * The sparse rows (feature ids sorted, values) of the examples of the data
 * set the model is fitted on are computed once, after the n-gram table and
 * idf (bow_fit), and kept in a cache looked up by the text's ids (padding
 * dropped), so epochs and evaluation stop re-deriving n-grams, sorting and
 * weighting them.  Bounded: at most WB_BOW_CACHE_MB MiB (environment;
 * default 1/16 of the RAM, 0 = no cache), training examples first; a text
 * not in it is computed as before (same code, same bits).
 *
 * Leaves out: min_df / max_df / max_features (num-words and min-count cut
 * the word vocabulary), sublinear tf, hashing.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <xxhash.h>

#include "base/fileio.h"
#include "model/model_int.h"

/* The n-gram table (n >= 2) and the idf of every feature. */
struct wb_bow_table {
    size_t V;          /* word ids (unigram features 0 .. V-1, 0 and 1 unused) */
    size_t n;          /* n-grams of 2.. words; feature of n-gram k = V + k */
    uint32_t *gram;    /* (n, WB_MAX_NGRAMS) word ids of each n-gram, 0-padded */
    size_t cap;        /* hash slots (power of 2, >= 2n) */
    uint32_t *slot;    /* (cap) n-gram index + 1, 0 = empty */
    float *idf;        /* (V + n) idf per feature, or NULL (counts) */
};

static uint64_t gram_hash(const uint32_t *g) {
    uint64_t h = 0x9E3779B97F4A7C15ull;
    for (int i = 0; i < WB_MAX_NGRAMS; i++) h = (h ^ g[i]) * 0xBF58476D1CE4E5B9ull, h ^= h >> 31;
    return h;
}

static void table_free(struct wb_bow_table *t) {
    if (!t) return;
    free(t->gram), free(t->slot), free(t->idf), free(t);
}

/* Index of n-gram g, or -1; with add, appended when missing (-2: no memory). */
static long table_find(struct wb_bow_table *t, const uint32_t *g, int add) {
    if (add && 2 * (t->n + 1) > t->cap) {
        size_t cap = t->cap ? 2 * t->cap : 1024;
        uint32_t *s = calloc(cap, sizeof *s), *gr = realloc(t->gram, cap / 2 * WB_MAX_NGRAMS * sizeof *gr);
        if (!s || !gr) {
            free(s);
            if (gr) t->gram = gr;
            return -2;
        }
        t->gram = gr;
        for (size_t k = 0; k < t->n; k++) {
            size_t h = (size_t)gram_hash(gr + k * WB_MAX_NGRAMS) & (cap - 1);
            while (s[h]) h = (h + 1) & (cap - 1);
            s[h] = (uint32_t)(k + 1);
        }
        free(t->slot);
        t->slot = s, t->cap = cap;
    }
    if (!t->cap) return -1;
    size_t h = (size_t)gram_hash(g) & (t->cap - 1);
    for (; t->slot[h]; h = (h + 1) & (t->cap - 1))
        if (!memcmp(t->gram + (size_t)(t->slot[h] - 1) * WB_MAX_NGRAMS, g, WB_MAX_NGRAMS * sizeof *g))
            return (long)t->slot[h] - 1;
    if (!add) return -1;
    memcpy(t->gram + t->n * WB_MAX_NGRAMS, g, WB_MAX_NGRAMS * sizeof *g);
    t->slot[h] = (uint32_t)(++t->n);
    return (long)t->n - 1;
}

/* The features of one text (T ids) into f (at most T·ngrams entries), in
 * order of appearance with repeats; with add, unseen n-grams join the
 * table.  at (may be NULL) gets each feature's token span [at, at + len)
 * (explain).  Returns the count, or -1 (no memory). */
static long features(const wb_part *p, struct wb_bow_table *t, const int32_t *x, size_t T, int add, uint32_t *f,
                     int32_t *at, int32_t *len) {
    size_t nf = 0, run = 0;       /* run: consecutive known words ending here */
    uint32_t hist[WB_MAX_NGRAMS]; /* the last known words, most recent first */
    size_t hpos[WB_MAX_NGRAMS];   /* their positions */
    uint32_t g[WB_MAX_NGRAMS];
    for (size_t i = 0; i < T; i++) {
        int32_t id = x[i];
        if (id == 0) continue; /* padding: not a token */
        if (id == 1) {
            run = 0; /* unknown word: dropped, breaks n-grams */
            continue;
        }
        memmove(hist + 1, hist, (WB_MAX_NGRAMS - 1) * sizeof *hist);
        memmove(hpos + 1, hpos, (WB_MAX_NGRAMS - 1) * sizeof *hpos);
        hist[0] = (uint32_t)id, hpos[0] = i;
        if (run < WB_MAX_NGRAMS) run++;
        if (at) at[nf] = (int32_t)i, len[nf] = 1;
        f[nf++] = (uint32_t)id;
        for (size_t n = 2; n <= p->ngrams && n <= run; n++) {
            memset(g, 0, sizeof g);
            for (size_t k = 0; k < n; k++) g[k] = hist[n - 1 - k]; /* in text order */
            long ix = table_find(t, g, add);
            if (ix == -2) return -1;
            if (ix < 0) continue;
            if (at) at[nf] = (int32_t)hpos[n - 1], len[nf] = (int32_t)(i - hpos[n - 1] + 1);
            f[nf++] = (uint32_t)(t->V + (size_t)ix);
        }
    }
    return (long)nf;
}

static int cmp_u32(const void *a, const void *b) {
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

/* The sparse row of one text (T ids): its distinct features, sorted, into
 * fid and their values into val (counts, or tf-idf L2-normalised); tmp:
 * scratch of T·ngrams.  Returns the count (features of the table only). */
static size_t example_row(const wb_part *p, const int32_t *x, size_t T, uint32_t *tmp, uint32_t *fid, float *val) {
    const struct wb_bow_table *t = p->bt;
    long nf = features(p, p->bt, x, T, 0, tmp, NULL, NULL);
    qsort(tmp, (size_t)nf, sizeof *tmp, cmp_u32);
    double sq = 0;
    size_t nnz = 0;
    for (long i = 0; i < nf;) {
        long j = i;
        while (j < nf && tmp[j] == tmp[i]) j++;
        float v = (float)(j - i);
        if (t->idf) v *= t->idf[tmp[i]];
        fid[nnz] = tmp[i], val[nnz++] = v;
        sq += (double)v * v;
        i = j;
    }
    if (t->idf && sq > 0) {
        float inv = (float)(1.0 / sqrt(sq));
        for (size_t k = 0; k < nnz; k++) val[k] *= inv;
    }
    return nnz;
}

/* ---- the cache of sparse rows ------------------------------------------------- */

/* The sparse rows of distinct texts, keyed by their ids without padding
 * (the features ignore padding): entry i's key is key[koff[i] ..
 * koff[i+1]), its row fid / val[roff[i] .. roff[i+1]). */
struct wb_bow_cache {
    size_t n;                /* entries */
    size_t cap;              /* hash slots (power of 2, >= 2n) */
    uint32_t *slot;          /* (cap) entry + 1, 0 = empty */
    uint64_t *hash;          /* (n) XXH3 of each key */
    uint64_t *koff, *roff;   /* (n + 1) */
    int32_t *key;
    uint32_t *fid;
    float *val;
    size_t ncap, kcap, rcap; /* capacities of the arrays */
    uint64_t bytes;          /* allocated */
};

static void cache_free(struct wb_bow_cache *c) {
    if (!c) return;
    free(c->slot), free(c->hash), free(c->koff), free(c->roff), free(c->key), free(c->fid), free(c->val), free(c);
}

uint64_t wb_bow_cache_bytes(const wb_part *p) { return p->bc ? p->bc->bytes : 0; }

/* The ids of x (T) without padding into k; returns their count. */
static size_t strip(const int32_t *x, size_t T, int32_t *k) {
    size_t n = 0;
    for (size_t i = 0; i < T; i++)
        if (x[i]) k[n++] = x[i];
    return n;
}

/* Entry of key k (nk ids, hash h), or -1; *at gets its free slot when absent. */
static long cache_find(const struct wb_bow_cache *c, const int32_t *k, size_t nk, uint64_t h, size_t *at) {
    if (!c || !c->cap) return -1;
    size_t i = (size_t)h & (c->cap - 1);
    for (; c->slot[i]; i = (i + 1) & (c->cap - 1)) {
        size_t e = c->slot[i] - 1;
        if (c->hash[e] == h && c->koff[e + 1] - c->koff[e] == nk && (!nk || !memcmp(c->key + c->koff[e], k, nk * sizeof *k)))
            return (long)e;
    }
    if (at) *at = i;
    return -1;
}

/* The capacity of an array of capacity cap that must hold need: cap, or
 * doubled (from 256) until it does. */
static size_t grown_cap(size_t cap, size_t need) {
    if (need <= cap) return cap;
    size_t nc = cap ? cap : 256;
    while (nc < need) nc *= 2;
    return nc;
}

/* *a (elements of sz bytes, capacity *cap) holding need at least
 * (grown_cap); 0, or -1 (out of memory). */
static int grow(void **a, size_t *cap, size_t need, size_t sz) {
    if (need <= *cap) return 0;
    size_t nc = grown_cap(*cap, need);
    void *q = realloc(*a, nc * sz);
    if (!q) return -1;
    *a = q, *cap = nc;
    return 0;
}

/* Bytes of the cache's arrays at their capacities. */
static uint64_t cache_size(const struct wb_bow_cache *c) {
    return (uint64_t)c->cap * sizeof *c->slot + (uint64_t)c->ncap * (sizeof *c->hash + sizeof *c->koff + sizeof *c->roff) +
           (uint64_t)c->kcap * sizeof *c->key + (uint64_t)c->rcap * (sizeof *c->fid + sizeof *c->val);
}

/* Add key k (nk ids, hash h, absent) with its row (nnz features).  0, or
 * -1 when the cache is full (it would pass limit bytes, or out of memory):
 * nothing added. */
static int cache_add(struct wb_bow_cache *c, const int32_t *k, size_t nk, uint64_t h, const uint32_t *fid,
                     const float *val, size_t nnz, uint64_t limit) {
    uint64_t ko = c->n ? c->koff[c->n] : 0, ro = c->n ? c->roff[c->n] : 0;
    /* the capacities after this entry, checked against the budget first */
    struct wb_bow_cache nc = *c;
    size_t need[3] = {c->n + 2, (size_t)ko + nk, (size_t)ro + nnz}, *capp[3] = {&nc.ncap, &nc.kcap, &nc.rcap};
    for (int i = 0; i < 3; i++) *capp[i] = grown_cap(*capp[i], need[i]);
    if (2 * (c->n + 1) > nc.cap) nc.cap = c->cap ? 2 * c->cap : 1024;
    if (cache_size(&nc) > limit) return -1;
    if (nc.cap != c->cap) {
        uint32_t *sl = calloc(nc.cap, sizeof *sl);
        if (!sl) return -1;
        for (size_t e = 0; e < c->n; e++) {
            size_t i = (size_t)c->hash[e] & (nc.cap - 1);
            while (sl[i]) i = (i + 1) & (nc.cap - 1);
            sl[i] = (uint32_t)(e + 1);
        }
        free(c->slot);
        c->slot = sl, c->cap = nc.cap;
    }
    size_t n1 = c->ncap, n2 = c->ncap, n3 = c->ncap, k1 = c->kcap, r1 = c->rcap, r2 = c->rcap;
    if (grow((void **)&c->hash, &n1, need[0], sizeof *c->hash) || grow((void **)&c->koff, &n2, need[0], sizeof *c->koff) ||
        grow((void **)&c->roff, &n3, need[0], sizeof *c->roff) || grow((void **)&c->key, &k1, need[1], sizeof *c->key) ||
        grow((void **)&c->fid, &r1, need[2], sizeof *c->fid) || grow((void **)&c->val, &r2, need[2], sizeof *c->val))
        return -1; /* the arrays that grew keep their old capacity: still valid */
    c->ncap = n1, c->kcap = k1, c->rcap = r1;
    c->bytes = cache_size(c);
    size_t at = 0;
    cache_find(c, k, nk, h, &at);
    c->hash[c->n] = h;
    c->koff[0] = 0, c->roff[0] = 0;
    if (nk) memcpy(c->key + ko, k, nk * sizeof *k); /* an empty text: arrays maybe not allocated yet */
    if (nnz) memcpy(c->fid + ro, fid, nnz * sizeof *fid), memcpy(c->val + ro, val, nnz * sizeof *val);
    c->koff[c->n + 1] = ko + nk, c->roff[c->n + 1] = ro + nnz;
    c->slot[at] = (uint32_t)(++c->n);
    return 0;
}

/* The cache's budget in bytes: WB_BOW_CACHE_MB MiB (a decimal), else 1/8 of the
 * default model memory limit (1/16 of the RAM). */
static uint64_t cache_limit(void) {
    const char *s = getenv("WB_BOW_CACHE_MB");
    if (s && *s) {
        char *end;
        double mb = strtod(s, &end);
        if (!*end && mb >= 0 && mb < 1e12) return (uint64_t)(mb * 1048576.0);
    }
    return wb_model_max_memory_default() / 8;
}

/* The cache of the rows idx of X (the training examples first), then of
 * every other row of X (the evaluation splits), as far as the budget goes.
 * Out of memory is no error: what fits is cached. */
static void cache_build(wb_part *p, const wb_ids *X, const uint32_t *idx, size_t n) {
    size_t T = p->T;
    uint64_t limit = cache_limit();
    cache_free(p->bc);
    p->bc = NULL;
    if (!limit) return;
    struct wb_bow_cache *c = calloc(1, sizeof *c);
    int32_t *x = malloc((T ? T : 1) * sizeof *x), *k = malloc((T ? T : 1) * sizeof *k);
    uint32_t *tmp = malloc((T * p->ngrams + 1) * sizeof *tmp), *fid = malloc((T * p->ngrams + 1) * sizeof *fid);
    float *val = malloc((T * p->ngrams + 1) * sizeof *val);
    if (!c || !x || !k || !tmp || !fid || !val) goto out;
    for (size_t i = 0; i < n + X->n; i++) {
        uint32_t r = i < n ? (idx ? idx[i] : (uint32_t)i) : (uint32_t)(i - n);
        wb_ids_gather(X, &r, 1, x);
        size_t nk = strip(x, T, k);
        uint64_t h = XXH3_64bits(k, nk * sizeof *k);
        if (cache_find(c, k, nk, h, NULL) >= 0) continue;
        size_t nnz = example_row(p, x, T, tmp, fid, val);
        if (cache_add(c, k, nk, h, fid, val, nnz, limit)) break; /* full */
    }
    if (c->n) p->bc = c, c = NULL;
out:
    cache_free(c), free(x), free(k), free(tmp), free(fid), free(val);
}

/* The cached row of text x (T ids; k: scratch of T), or -1. */
static long cache_row(const struct wb_bow_cache *c, const int32_t *x, size_t T, int32_t *k) {
    if (!c) return -1;
    size_t nk = strip(x, T, k);
    return cache_find(c, k, nk, XXH3_64bits(k, nk * sizeof *k), NULL);
}

static int bow_plan(wb_part *p, const wb_model_cfg *c, wb_err *e) {
    (void)e;
    p->bow = c->bow, p->ngrams = c->ngrams;
    p->W = c->C;
    p->has_emb = c->D > 0;
    wb_emb_plan(&p->emb, WB_EMB_LEARNED, WB_OOV_ZERO, c->D, c->C, p->seed, 0);
    p->emb.learn_a = 0; /* zero weights at first, as scikit-learn starts */
    p->emb.decay_idle = 1; /* L2 on every weight at every step, as scikit-learn's penalty */
    char nm[80];
    snprintf(nm, sizeof nm, "%sdense/bias", p->prefix);
    wb_part_tensor(p, nm, 1, c->C);
    p->D = c->D;
    return 0;
}

static void bow_layers(const wb_part *p, wb_layers *L, const char *in) {
    char nm[48];
    size_t D = p->D ? p->D : p->V; /* before fitting: the unigrams */
    snprintf(nm, sizeof nm, "%stext_vectorization", p->prefix);
    wb_layers_add(L, nm, "TextVectorization", 1, D, 0, 0, 0, in);
    uint64_t prm = (uint64_t)D * p->W + p->W;
    snprintf(nm, sizeof nm, "%sdense", p->prefix);
    wb_layers_add(L, nm, "Dense", 1, p->W, 0, prm, prm, NULL);
}

static uint64_t bow_step_bytes(const wb_part *p, size_t B) {
    uint64_t nnz = (uint64_t)B * p->T * p->ngrams, N = nnz, C = p->W;
    /* features, values, example offsets, scratch (features, key), gather (ids, U, srows, sdst, tmp, lid), dU */
    return wb_abytes(nnz, 4) * 2 + wb_abytes(nnz, 4) + wb_abytes(B + 1, 8) + wb_abytes(p->T * p->ngrams, 4) + wb_abytes(p->T, 4) +
           wb_abytes(nnz, 4) + wb_abytes(N * C, 4) + wb_abytes(N, 4) + wb_abytes(N, 8) + wb_abytes(N * C, 4) +
           wb_abytes(nnz, 4) + wb_abytes(N * C, 4) + wb_abytes(1, 64);
}

static void bow_init(wb_part *p, wb_rng *r) { (void)p, (void)r; } /* zero bias, zero rows */

typedef struct bow_saved {
    size_t *off;     /* (B+1) each example's features in fid/val */
    uint32_t *fid;   /* (nnz) distinct features of each example */
    float *val;      /* (nnz) their values */
} bow_saved;

/* out[b][c] = bias[c] + Σ_j val_j · Wrow(fid_j)[c]. */
static int bow_forward(wb_part *p, wb_step *s, float *out, size_t ld, wb_err *e) {
    size_t B = s->B, T = p->T, C = p->W;
    if (!p->bt || !p->has_emb) return wb_err_set(e, WB_EUSAGE, "the bag-of-words model has no n-gram table yet (wb_model_fit)");
    const int32_t *X = s->X[p->input];
    for (size_t i = 0; i < B * T; i++)
        if (X[i] < 0 || (size_t)X[i] >= p->V) return wb_err_set(e, WB_EUSAGE, "id %d out of the vocabulary (%zu)", X[i], p->V);
    bow_saved *sv;
    uint32_t *tmp;
    int32_t *ids, *key;
    WB_ALLOC(s, sv, 1);
    s->saved[p->idx] = sv;
    WB_ALLOC(s, sv->off, B + 1);
    WB_ALLOC(s, sv->fid, B * T * p->ngrams);
    WB_ALLOC(s, sv->val, B * T * p->ngrams);
    WB_ALLOC(s, tmp, T * p->ngrams);
    WB_ALLOC(s, key, T ? T : 1);
    size_t nnz = 0;
    for (size_t b = 0; b < B; b++) {
        sv->off[b] = nnz;
        long ce = cache_row(p->bc, X + b * T, T, key);
        if (ce < 0) {
            nnz += example_row(p, X + b * T, T, tmp, sv->fid + nnz, sv->val + nnz);
            continue;
        }
        size_t lo = p->bc->roff[ce], len = p->bc->roff[ce + 1] - lo;
        if (len) memcpy(sv->fid + nnz, p->bc->fid + lo, len * sizeof *sv->fid), memcpy(sv->val + nnz, p->bc->val + lo, len * sizeof *sv->val);
        nnz += len;
    }
    sv->off[B] = nnz;
    wb_rows *r = &s->rows[p->idx];
    WB_ALLOC(s, ids, nnz ? nnz : 1);
    for (size_t k = 0; k < nnz; k++) ids[k] = (int32_t)sv->fid[k];
    int rc = wb_emb_gather(&p->emb, s, ids, nnz, r, e);
    if (rc) return rc;
    const float *bias = p->t[0].w;
    for (size_t b = 0; b < B; b++) {
        float *o = out + b * ld;
        memcpy(o, bias, C * sizeof *o);
        for (size_t k = sv->off[b]; k < sv->off[b + 1]; k++) {
            const float *u = r->U + (size_t)r->lid[k] * C;
            float v = sv->val[k];
            for (size_t c = 0; c < C; c++) o[c] += v * u[c];
        }
    }
    return 0;
nomem:
    return wb_err_set(e, WB_ENOMEM, "out of memory in the step arena");
}

/* dWrow(fid_j) += val_j · dout[b];  dbias += Σ_b dout[b]. */
static int bow_backward(wb_part *p, wb_step *s, const float *out, float *dout, size_t ld, wb_err *e) {
    (void)out;
    size_t B = s->B, C = p->W;
    const bow_saved *sv = s->saved[p->idx];
    wb_rows *r = &s->rows[p->idx];
    if (wb_rows_grad(s->arena, r, C)) return wb_err_set(e, WB_ENOMEM, "out of memory in the step arena");
    float *db = wb_grad(s, &p->t[0]);
    for (size_t b = 0; b < B; b++) {
        const float *g = dout + b * ld;
        for (size_t c = 0; c < C; c++) db[c] += g[c];
        if (!r->dU) continue;
        for (size_t k = sv->off[b]; k < sv->off[b + 1]; k++) {
            float *d = r->dU + (size_t)r->lid[k] * C, v = sv->val[k];
            for (size_t c = 0; c < C; c++) d[c] += v * g[c];
        }
    }
    return 0;
}

static void bow_windows(const wb_part *p, const wb_step *s, size_t b, int32_t *start, int32_t *len) {
    (void)s, (void)b;
    for (size_t j = 0; j < p->W; j++) start[j] = -1, len[j] = 0;
}

/* Explain: feature k of example b adds val_k · (Wrow(fid_k) · g_b) to the
 * score (weight × count, or × tf-idf); each of its occurrences in the text
 * gets an equal share. */
static int bow_explain(wb_part *p, wb_step *s, const float *out, const float *g, size_t ld, wb_span_fn fn, void *ctx,
                       wb_err *e) {
    (void)out;
    size_t B = s->B, T = p->T, C = p->W;
    const int32_t *X = s->X[p->input];
    const bow_saved *sv = s->saved[p->idx];
    const wb_rows *r = &s->rows[p->idx];
    uint32_t *f, *cnt;
    int32_t *at, *len;
    WB_ALLOC(s, f, T * p->ngrams);
    WB_ALLOC(s, at, T * p->ngrams);
    WB_ALLOC(s, len, T * p->ngrams);
    WB_ALLOC(s, cnt, sv->off[B] ? sv->off[B] : 1);
    memset(cnt, 0, (sv->off[B] ? sv->off[B] : 1) * sizeof *cnt);
    for (size_t b = 0; b < B; b++) {
        long nf = features(p, p->bt, X + b * T, T, 0, f, at, len);
        if (nf < 0) goto nomem;
        const uint32_t *fid = sv->fid + sv->off[b];
        size_t nd = sv->off[b + 1] - sv->off[b];
        for (int pass = 0; pass < 2; pass++)
            for (long i = 0; i < nf; i++) {
                const uint32_t *k = bsearch(&f[i], fid, nd, sizeof *fid, cmp_u32); /* fid is sorted */
                if (!k) continue;
                size_t q = sv->off[b] + (size_t)(k - fid);
                if (!pass) {
                    cnt[q]++;
                    continue;
                }
                const float *u = r->U + (size_t)r->lid[q] * C, *gb = g + b * ld;
                double v = 0;
                for (size_t c = 0; c < C; c++) v += (double)u[c] * gb[c];
                v *= sv->val[q] / (double)cnt[q];
                if (v != 0) fn(ctx, b, at[i], len[i], (float)v);
            }
    }
    return 0;
nomem:
    return wb_err_set(e, WB_ENOMEM, "out of memory in the step arena");
}

/* ---- fitting and the model file ---------------------------------------------- */

/* The n-gram table and idf from the n training rows idx of X (idx NULL:
 * rows 0..n-1), read one row at a time into x (T ids). */
static int bow_fit(wb_part *p, const wb_ids *X, const uint32_t *idx, size_t n, wb_err *e) {
    size_t T = p->T;
    if (X->T != T) return wb_err_set(e, WB_EUSAGE, "rows of %zu ids for a model of maxlen %zu", X->T, T);
    struct wb_bow_table *t = calloc(1, sizeof *t);
    uint32_t *f = malloc((T * p->ngrams + 1) * sizeof *f);
    int32_t *x = malloc((T ? T : 1) * sizeof *x);
    uint32_t *df = NULL, *last = NULL;
    if (!t || !f || !x) goto nomem;
    t->V = p->V;
    for (size_t i = 0; i < n; i++) {
        uint32_t r = idx ? idx[i] : (uint32_t)i;
        wb_ids_gather(X, &r, 1, x);
        for (size_t k = 0; k < T; k++)
            if (x[k] < 0 || (size_t)x[k] >= p->V) {
                int32_t bad = x[k];
                free(f), free(x), table_free(t);
                return wb_err_set(e, WB_EUSAGE, "id %d out of the vocabulary (%zu)", bad, p->V);
            }
        if (features(p, t, x, T, 1, f, NULL, NULL) < 0) goto nomem;
    }
    size_t D = p->V + t->n;
    if (D > INT32_MAX) {
        free(f), free(x), table_free(t);
        return wb_err_set(e, WB_EUSAGE, "%zu n-gram features: too many (use fewer --ngrams or --num-words)", D);
    }
    if (p->bow == WB_BOW_TFIDF) {
        /* document frequency: the last example that counted each feature */
        df = calloc(D, sizeof *df), last = malloc(D * sizeof *last), t->idf = malloc(D * sizeof *t->idf);
        if (!df || !last || !t->idf) goto nomem;
        memset(last, 0xff, D * sizeof *last);
        for (size_t i = 0; i < n; i++) {
            uint32_t r = idx ? idx[i] : (uint32_t)i;
            wb_ids_gather(X, &r, 1, x);
            long nf = features(p, t, x, T, 0, f, NULL, NULL);
            for (long k = 0; k < nf; k++)
                if (last[f[k]] != (uint32_t)i) last[f[k]] = (uint32_t)i, df[f[k]]++;
        }
        for (size_t k = 0; k < D; k++) t->idf[k] = (float)(log((1.0 + (double)n) / (1.0 + (double)df[k])) + 1.0);
    }
    free(f), free(x), free(df), free(last);
    table_free(p->bt);
    p->bt = t;
    p->D = D;
    cache_build(p, X, idx, n);
    return 0;
nomem:
    free(f), free(x), free(df), free(last), table_free(t);
    return wb_err_set(e, WB_ENOMEM, "out of memory for the n-gram table");
}

/* Section BOWT: u32 ngrams, u32 flags (bit 0: idf), u64 n-grams, then per
 * n-gram WB_MAX_NGRAMS u32 word ids, then (idf) V + n floats. */
static void bow_save(const wb_part *p, wb_awriter *w, uint32_t part) {
    const struct wb_bow_table *t = p->bt;
    if (!t) return;
    size_t D = t->V + t->n;
    uint64_t len = 16 + (uint64_t)t->n * WB_MAX_NGRAMS * 4 + (t->idf ? D * 4 : 0);
    wb_aw_u32(w, WB_TAG('B', 'O', 'W', 'T')), wb_aw_u32(w, part), wb_aw_u64(w, len);
    wb_aw_u32(w, (uint32_t)p->ngrams), wb_aw_u32(w, t->idf ? 1 : 0), wb_aw_u64(w, t->n);
    for (size_t k = 0; k < t->n * WB_MAX_NGRAMS; k++) wb_aw_u32(w, t->gram[k]);
    if (t->idf) wb_aw_write(w, t->idf, D * sizeof(float));
}

static int bow_load(wb_part *p, uint32_t tag, const unsigned char *sec, uint64_t len, const char *path, wb_err *e) {
    if (tag != WB_TAG('B', 'O', 'W', 'T')) return wb_err_at(e, WB_ECORRUPT, path, 0, -1, "unexpected section in a bag-of-words part");
    if (p->bt) return wb_err_at(e, WB_ECORRUPT, path, 0, -1, "two n-gram tables");
    if (len < 16) return wb_err_at(e, WB_ECORRUPT, path, 0, -1, "n-gram table too short");
    uint64_t n = wb_get64(sec + 8), D = p->V + n;
    int idf = wb_get32(sec + 4) & 1;
    if (wb_get32(sec) != p->ngrams || n > len || D != p->D || idf != (p->bow == WB_BOW_TFIDF) ||
        len != 16 + n * WB_MAX_NGRAMS * 4 + (idf ? D * 4 : 0))
        return wb_err_at(e, WB_ECORRUPT, path, 0, -1, "n-gram table of the wrong size");
    struct wb_bow_table *t = calloc(1, sizeof *t);
    if (!t) return wb_err_set(e, WB_ENOMEM, "out of memory");
    t->V = p->V;
    const unsigned char *q = sec + 16;
    for (uint64_t k = 0; k < n; k++, q += WB_MAX_NGRAMS * 4) {
        uint32_t g[WB_MAX_NGRAMS];
        size_t words = 0;
        for (int i = 0; i < WB_MAX_NGRAMS; i++) {
            g[i] = wb_get32(q + 4 * i);
            if (g[i] && (g[i] < 2 || g[i] >= p->V || words != (size_t)i)) words = 99; /* ids 2.., no gap */
            else if (g[i]) words++;
        }
        long ix = words >= 2 && words <= p->ngrams ? table_find(t, g, 1) : -3;
        if (ix != (long)k) {
            table_free(t);
            if (ix == -2) return wb_err_set(e, WB_ENOMEM, "out of memory");
            return wb_err_at(e, WB_ECORRUPT, path, 0, -1, "n-gram %llu of the table is bad or repeated", (unsigned long long)k);
        }
    }
    if (idf) {
        t->idf = malloc(D * sizeof *t->idf);
        if (!t->idf) {
            table_free(t);
            return wb_err_set(e, WB_ENOMEM, "out of memory");
        }
        memcpy(t->idf, q, D * sizeof *t->idf);
        for (uint64_t k = 0; k < D; k++)
            if (!(t->idf[k] >= 0 && t->idf[k] < 1e6f)) {
                table_free(t);
                return wb_err_at(e, WB_ECORRUPT, path, 0, -1, "idf of feature %llu is not a number in [0, 1e6)", (unsigned long long)k);
            }
    }
    p->bt = t;
    return 0;
}

static void bow_destroy(wb_part *p) {
    table_free(p->bt);
    cache_free(p->bc);
    p->bt = NULL, p->bc = NULL;
}

/* Catch the rows of b's features up through the last step in place, so
 * that the step's lanes read them current (with the L2 decay of idle rows;
 * the gathering would otherwise compute each lagging row's value and the
 * update again).  Texts outside the cache are featurised here too. */
static void bow_before_step(wb_part *p, wb_model *m, const wb_batch *b) {
    wb_emb *t = &p->emb;
    if (!p->bt || !p->has_emb || !wb_emb_decays(t, &m->opt) || !b->X[p->input]) return;
    size_t T = p->T, per = T * p->ngrams + 1, nf = 0;
    int32_t *key = malloc((T ? T : 1) * sizeof *key);
    uint32_t *f = malloc(b->B * per * sizeof *f); /* the features of every text, repeats allowed */
    if (!key || !f) goto out; /* the gathering catches up what it reads: slower, same bits */
    for (size_t i = 0; i < b->B; i++) {
        const int32_t *x = b->X[p->input] + i * T;
        long ce = cache_row(p->bc, x, T, key);
        if (ce >= 0) {
            size_t lo = p->bc->roff[ce], len = p->bc->roff[ce + 1] - lo;
            if (len) memcpy(f + nf, p->bc->fid + lo, len * sizeof *f);
            nf += len;
            continue;
        }
        int ok = 1;
        for (size_t j = 0; j < T; j++) ok &= x[j] >= 0 && (size_t)x[j] < p->V;
        long n = ok ? features(p, p->bt, x, T, 0, f + nf, NULL, NULL) : 0; /* bad ids: the forward pass reports them */
        nf += n > 0 ? (size_t)n : 0;
    }
    wb_emb_catchup_ids(t, &m->opt, &m->cu, m->pool, f, nf);
out:
    free(key), free(f);
}

const wb_part_ops wb_part_bow = {
    .kind = "bow",
    .plan = bow_plan,
    .layers = bow_layers,
    .step_bytes = bow_step_bytes,
    .init = bow_init,
    .forward = bow_forward,
    .backward = bow_backward,
    .windows = bow_windows,
    .explain = bow_explain,
    .fit = bow_fit,
    .save = bow_save,
    .load = bow_load,
    .destroy = bow_destroy,
    .before_step = bow_before_step,
};
