/*
 * emb.c — the embedding tables of model_int.h: where the row of an id comes
 * from (store, rows embedded in a model file, the fine-tuning overlay,
 * learned and random rows drawn from (seed, id)), gathering the distinct
 * rows of a minibatch into the step arena, their gradients and their lazy
 * optimizer step.  Shared by every text part; one table per text input.
 *
 * Leaves out: the model file's sections (modelfile.c), which rows a part
 * uses and how (the parts).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <cblas.h>

#include "base/pool.h"
#include "model/model_int.h"

float wb_unif(wb_rng *r, float a) {
    /* Uniform float in [-a, a) from 24 random bits. */
    return a * ((float)(wb_rng_next(r) >> 40) * (2.0f / 16777216.0f) - 1.0f);
}

void wb_glorot(float *w, size_t n, double fan_in, double fan_out, wb_rng *r) {
    float lim = (float)sqrt(6.0 / (fan_in + fan_out));
    for (size_t i = 0; i < n; i++) w[i] = wb_unif(r, lim);
}

/* The random initial row of `id` (learned rows, oov random): U(-a, a)
 * from a generator seeded by (seed, id), so it does not depend on when the
 * row is first touched. */
static void random_row(const wb_emb *t, int32_t id, float a, float *out) {
    if (a == 0) {
        memset(out, 0, t->E * sizeof *out);
        return;
    }
    wb_rng r;
    wb_rng_init(&r, t->seed * 0x9E3779B97F4A7C15ull ^ ((uint64_t)id + 0x632BE59BD9B4E019ull));
    for (size_t i = 0; i < t->E; i++) out[i] = wb_unif(&r, a);
}

void wb_emb_plan(wb_emb *t, wb_emb_mode mode, wb_oov_mode oov, size_t V, size_t E, uint64_t seed, size_t nstate) {
    memset(t, 0, sizeof *t);
    t->mode = mode, t->oov = oov, t->V = V, t->E = E, t->seed = seed, t->nstate = nstate;
    t->Ei = mode == WB_EMB_MULTICHANNEL ? 2 * E : E;
    t->orow_floats = (1 + nstate) * E;
    t->oov_a = 0.05f;
    t->learn_a = 0.05f;
}

uint64_t wb_emb_bytes(size_t V) { return (uint64_t)V * (sizeof(int64_t) + 2 * sizeof(int32_t) + sizeof(uint32_t)); }

int wb_emb_alloc(wb_emb *t, wb_err *e) {
    size_t V = t->V;
    t->row = malloc(V * sizeof *t->row);
    t->slot = malloc(V * sizeof *t->slot);
    t->stamp = calloc(V, sizeof *t->stamp);
    t->local = malloc(V * sizeof *t->local);
    t->zrow = calloc(t->E ? t->E : 1, sizeof *t->zrow);
    if (!t->row || !t->slot || !t->stamp || !t->local || !t->zrow)
        return wb_err_set(e, WB_ENOMEM, "out of memory for the embedding table (%zu ids)", V);
    for (size_t i = 0; i < V; i++) t->row[i] = -1, t->slot[i] = -1;
    return 0;
}

int wb_emb_set_lanes(wb_emb *t, size_t n, wb_err *e) {
    for (size_t k = 0; k < t->nlanes; k++) free(t->lanes[k].stamp), free(t->lanes[k].local);
    free(t->lanes);
    t->lanes = NULL, t->nlanes = 0;
    if (n <= 1) return 0;
    if (!(t->lanes = calloc(n - 1, sizeof *t->lanes)))
        return wb_err_set(e, WB_ENOMEM, "out of memory for the lanes' stamps");
    t->nlanes = n - 1;
    for (size_t k = 0; k < n - 1; k++) {
        t->lanes[k].stamp = calloc(t->V, sizeof *t->lanes[k].stamp);
        t->lanes[k].local = malloc(t->V * sizeof *t->lanes[k].local);
        if (!t->lanes[k].stamp || !t->lanes[k].local) {
            wb_emb_set_lanes(t, 1, e);
            return wb_err_set(e, WB_ENOMEM, "out of memory for the lanes' stamps (%zu ids)", t->V);
        }
    }
    return 0;
}

void wb_emb_free(wb_emb *t) {
    wb_emb_set_lanes(t, 1, NULL);
    free(t->row);
    free(t->slot);
    free(t->stamp);
    free(t->local);
    free(t->embedded);
    for (size_t i = 0; i < t->nochunk; i++) free(t->ochunk[i]);
    free(t->ochunk);
    free(t->oid);
    free(t->olast);
    free(t->zrow);
    t->row = NULL, t->slot = NULL, t->stamp = NULL, t->local = NULL, t->embedded = NULL, t->zrow = NULL;
    t->ochunk = NULL, t->oid = NULL, t->olast = NULL, t->nochunk = t->ochunk_cap = t->orows = 0;
}

int wb_emb_needs_store(const wb_emb *t) { return t->mode != WB_EMB_LEARNED; }

/* Is the tuned value of `id` a trainable row? */
int wb_emb_trainable(const wb_emb *t, int32_t id) {
    if (id == 0) return 0;
    if (t->mode == WB_EMB_FROZEN) return t->oov == WB_OOV_LEARN && t->row[id] < 0;
    return 1;
}

/* The frozen value of `id` when it needs no store (pad, missing) into out;
 * returns 1 when the store (or embedded) row must be used instead. */
static int fixed_value(const wb_emb *t, int32_t id, float *out) {
    if (id == 0 || t->mode == WB_EMB_LEARNED) {
        memset(out, 0, t->E * sizeof *out);
        return 0;
    }
    if (t->row[id] >= 0) return 1;
    if (t->oov == WB_OOV_ZERO)
        memset(out, 0, t->E * sizeof *out);
    else
        random_row(t, id, t->oov_a, out);
    return 0;
}

/* n resolved rows (row[] values) into out (n, E). */
static int resolved_rows(const wb_emb *t, size_t n, const uint32_t *rows, float *out) {
    if (t->embedded) {
        for (size_t i = 0; i < n; i++) memcpy(out + i * t->E, t->embedded + (size_t)rows[i] * t->E, t->E * sizeof *out);
        return 0;
    }
    if (!t->st) return -1;
    return wb_store_gather(t->st, n, rows, out) ? -1 : 0;
}

void wb_emb_oov_scale(wb_emb *t) {
    size_t V = t->V, E = t->E, nfound = 0;
    for (size_t i = 0; i < V; i++) nfound += t->row[i] >= 0;
    if (!nfound) return;
    size_t step = nfound > 4096 ? nfound / 4096 : 1, k = 0;
    double s = 0, s2 = 0, cnt = 0;
    float *buf = malloc(E * sizeof *buf);
    if (!buf) return;
    for (size_t i = 0; i < V; i++) {
        if (t->row[i] < 0) continue;
        if (k++ % step) continue;
        uint32_t r = (uint32_t)t->row[i];
        if (resolved_rows(t, 1, &r, buf)) continue;
        for (size_t d = 0; d < E; d++) s += buf[d], s2 += (double)buf[d] * buf[d];
        cnt += (double)E;
    }
    free(buf);
    if (cnt > 0) {
        double var = s2 / cnt - (s / cnt) * (s / cnt);
        if (var > 0) t->oov_a = (float)sqrt(3.0 * var);
    }
}

int wb_emb_attach(wb_emb *t, wb_store *st, const int64_t *rows, wb_err *e) {
    if (!wb_emb_needs_store(t)) return wb_err_set(e, WB_EUSAGE, "embeddings 'learned' use no store");
    const wb_store_info *in = wb_store_info_get(st);
    if (in->dim != t->E)
        return wb_err_set(e, WB_EUSAGE, "the store has dimension %u but the model's embedding dimension is %zu (--emb-dim)",
                          in->dim, t->E);
    for (size_t i = 2; i < t->V; i++)
        if (rows[i] >= (int64_t)in->rows)
            return wb_err_set(e, WB_EUSAGE, "row %lld of id %zu is beyond the store", (long long)rows[i], i);
    for (size_t i = 0; i < t->V; i++) t->row[i] = i < 2 ? -1 : rows[i];
    t->st = st;
    t->attached = 1;
    free(t->embedded);
    t->embedded = NULL;
    t->n_emb = 0;
    if (t->oov != WB_OOV_ZERO) wb_emb_oov_scale(t);
    return 0;
}

void wb_emb_adopt(wb_emb *dst, const wb_emb *src) {
    if (!src->st) return;
    memcpy(dst->row, src->row, dst->V * sizeof *dst->row);
    /* The row numbers are the store's now: rows embedded in the loaded file
     * (indexed by the old numbers) must not be read any more. */
    free(dst->embedded);
    dst->embedded = NULL;
    dst->n_emb = 0;
    dst->st = src->st;
    dst->attached = 1;
    dst->oov_a = src->oov_a;
}

/* ---- overlay ---------------------------------------------------------------- */

float *wb_emb_ovl_row(const wb_emb *t, int32_t slot) {
    size_t s = (size_t)slot;
    return t->ochunk[s >> t->oshift] + (s & (((size_t)1 << t->oshift) - 1)) * t->orow_floats;
}

int32_t wb_emb_ovl_get(wb_emb *t, int32_t id, const float *init, uint64_t last) {
    if (t->slot[id] >= 0) return t->slot[id];
    if (!t->nochunk) t->oshift = wb_ovl_chunk_shift(t->orow_floats);
    size_t crows = (size_t)1 << t->oshift;
    if (t->orows == t->nochunk * crows) {
        if (t->nochunk == t->ochunk_cap) {
            size_t cap = t->ochunk_cap ? t->ochunk_cap * 2 : 16;
            float **nc = realloc(t->ochunk, cap * sizeof *nc);
            if (!nc) return -1;
            t->ochunk = nc;
            int32_t *no = realloc(t->oid, cap * crows * sizeof *no);
            if (!no) return -1;
            t->oid = no;
            uint64_t *nl = realloc(t->olast, cap * crows * sizeof *nl);
            if (!nl) return -1;
            t->olast = nl;
            t->ochunk_cap = cap;
        }
        float *ch = malloc(crows * t->orow_floats * sizeof(float));
        if (!ch) return -1;
        t->ochunk[t->nochunk++] = ch;
    }
    int32_t s = (int32_t)t->orows++;
    float *r = wb_emb_ovl_row(t, s);
    memcpy(r, init, t->E * sizeof(float));
    memset(r + t->E, 0, t->nstate * t->E * sizeof(float));
    t->slot[id] = s;
    t->oid[s] = id;
    t->olast[s] = last;
    return s;
}

/* The catch-up of slot s through step `to`: 1 with its coefficients when
 * Adam catches up (not lazy) and the row lags, else 0. */
static int ovl_lag(const wb_emb *t, const wb_optim *o, const wb_catchup *cu, int32_t s, uint64_t to, wb_catchup_coef *k) {
    if (o->kind != WB_OPT_ADAM || o->adam == WB_ADAM_LAZY || t->nstate != 2) return 0;
    return wb_catchup_coef_get(cu, o, t->olast[s], to, k);
}

/* 1 when idle rows take their weight decay: decay_idle and L2 (not lazy Adam). */
int wb_emb_decays(const wb_emb *t, const wb_optim *o) {
    return t->decay_idle && o->l2 != 0 && t->nstate == wb_optim_nstate(o->kind) &&
           !(o->kind == WB_OPT_ADAM && o->adam == WB_ADAM_LAZY);
}

void wb_emb_ovl_value(const wb_emb *t, const wb_optim *o, const wb_catchup *cu, int32_t s, float *out) {
    const float *w = wb_emb_ovl_row(t, s);
    size_t E = t->E;
    wb_catchup_coef k;
    if (wb_emb_decays(t, o) && t->olast[s] < o->t) {
        /* the idle steps on a copy, a chunk of elements at a time (the rule is elementwise) */
        enum { CH = 64 };
        float buf[3 * CH];
        size_t ns = t->nstate;
        for (size_t lo = 0; lo < E; lo += CH) {
            size_t len = E - lo < CH ? E - lo : CH;
            memcpy(buf, w + lo, len * sizeof *buf);
            for (size_t j = 0; j < ns && j < 2; j++) memcpy(buf + (1 + j) * len, w + (1 + j) * E + lo, len * sizeof *buf);
            wb_optim_idle(o, cu, t->olast[s], o->t, buf, buf + len, len);
            memcpy(out + lo, buf, len * sizeof *out);
        }
    } else if (ovl_lag(t, o, cu, s, o->t, &k)) wb_catchup_weights(&k, out, w, w + E, w + 2 * E, E);
    else memcpy(out, w, E * sizeof *out);
}

/* Catch slot s up through step `to` in place. */
static void ovl_catchup_to(const wb_emb *t, const wb_optim *o, const wb_catchup *cu, int32_t s, uint64_t to) {
    float *w = wb_emb_ovl_row(t, s);
    size_t E = t->E;
    wb_catchup_coef k;
    if (wb_emb_decays(t, o)) {
        if (t->olast[s] < to) wb_optim_idle(o, cu, t->olast[s], to, w, w + E, E), t->olast[s] = to;
        return;
    }
    if (!ovl_lag(t, o, cu, s, to, &k)) return;
    wb_catchup_weights(&k, w, w, w + E, w + 2 * E, E);
    wb_catchup_moments(&k, w + E, w + 2 * E, E);
    t->olast[s] = to;
}

void wb_emb_ovl_catchup(const wb_emb *t, const wb_optim *o, const wb_catchup *cu, int32_t s) {
    ovl_catchup_to(t, o, cu, s, o->t);
}

/* A slot and the step it is current through. */
typedef struct lagging {
    uint64_t last;
    int32_t slot;
} lagging;

static int cmp_lagging(const void *a, const void *b) {
    const lagging *x = a, *y = b;
    if (x->last != y->last) return x->last < y->last ? -1 : 1;
    return (x->slot > y->slot) - (x->slot < y->slot);
}

/* The catch-up of lagging rows, shared by the lanes of a pool. */
typedef struct catchup_job {
    const wb_emb *t;
    const wb_optim *o;
    const wb_catchup *cu;
    const lagging *lg;       /* sorted, no repeats */
    size_t n, chunk;         /* lane k takes chunks k, k + lanes, ... */
} catchup_job;

static void catchup_lane(void *ctx, size_t k, size_t lanes) {
    enum { CH = 1024 };
    const catchup_job *j = ctx;
    float *rows[CH];
    uint64_t t0[CH];
    for (size_t lo = k * j->chunk; lo < j->n; lo += lanes * j->chunk) {
        size_t hi = lo + j->chunk < j->n ? lo + j->chunk : j->n;
        for (size_t i = lo; i < hi;) {
            size_t c = 0;
            for (; i < hi && c < CH; i++, c++) {
                rows[c] = wb_emb_ovl_row(j->t, j->lg[i].slot), t0[c] = j->lg[i].last;
                j->t->olast[j->lg[i].slot] = j->o->t;
            }
            wb_optim_idle_rows(j->o, j->cu, rows, t0, c, j->o->t, j->t->E);
        }
    }
}

/* Catch the n slots of lg (any order, repeats allowed) up through o->t in
 * place, many rows at a time (wb_optim_idle_rows), shared by the lanes of
 * pool (NULL: the caller): every row is computed alone, so the bits do not
 * depend on the lanes. */
static void catchup_lagging(const wb_emb *t, const wb_optim *o, const wb_catchup *cu, struct wb_pool *pool, lagging *lg,
                            size_t n) {
    qsort(lg, n, sizeof *lg, cmp_lagging);
    size_t k = 0;
    for (size_t i = 0; i < n; i++) /* a repeat is adjacent */
        if (!k || lg[i].slot != lg[k - 1].slot) lg[k++] = lg[i];
    size_t lanes = wb_pool_lanes(pool);
    /* small interleaved chunks: the rows that lag most (first) are spread */
    catchup_job j = {t, o, cu, lg, k, lanes > 1 ? k / (8 * lanes) + 16 : k + 1};
    if (k) wb_pool_run(lanes > 1 && k > 32 ? pool : NULL, catchup_lane, &j);
}

void wb_emb_catchup_all(const wb_emb *t, const wb_optim *o, const wb_catchup *cu, struct wb_pool *pool) {
    if (!wb_emb_decays(t, o)) return;
    size_t n = 0;
    for (size_t s = 0; s < t->orows; s++) n += t->olast[s] < o->t;
    if (!n) return;
    lagging *lg = malloc(n * sizeof *lg);
    if (!lg) { /* one row at a time: slower, same bits */
        for (size_t s = 0; s < t->orows; s++) ovl_catchup_to(t, o, cu, (int32_t)s, o->t);
        return;
    }
    n = 0;
    for (size_t s = 0; s < t->orows; s++)
        if (t->olast[s] < o->t) lg[n++] = (lagging){t->olast[s], (int32_t)s};
    catchup_lagging(t, o, cu, pool, lg, n);
    free(lg);
}

void wb_emb_catchup_ids(const wb_emb *t, const wb_optim *o, const wb_catchup *cu, struct wb_pool *pool, const uint32_t *ids,
                        size_t n) {
    if (!wb_emb_decays(t, o) || !n) return;
    lagging *lg = malloc(n * sizeof *lg);
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        int32_t s = ids[i] < t->V ? t->slot[ids[i]] : -1;
        if (s < 0 || t->olast[s] >= o->t) continue;
        if (lg) lg[k++] = (lagging){t->olast[s], s};
        else ovl_catchup_to(t, o, cu, s, o->t); /* out of memory: one at a time */
    }
    if (lg) catchup_lagging(t, o, cu, pool, lg, k);
    free(lg);
}

/* ---- a minibatch's rows ----------------------------------------------------------- */

#define ALLOC(ptr, count)                                                \
    do {                                                                 \
        (ptr) = wb_arena_alloc(a, (size_t)(count) * sizeof *(ptr));      \
        if (!(ptr)) goto nomem;                                          \
    } while (0)

/* The stamps of lane k: the table's own for lane 0. */
static wb_emb_lane lane_get(const wb_emb *t, size_t k) {
    if (k == 0 || k > t->nlanes) return (wb_emb_lane){t->stamp, t->local, t->now};
    return t->lanes[k - 1];
}

static void lane_put(wb_emb *t, size_t k, const wb_emb_lane *l) {
    if (k == 0 || k > t->nlanes) t->now = l->now;
    else t->lanes[k - 1].now = l->now;
}

/* The next stamp of lane l (clearing the stamps when it wraps). */
static uint32_t lane_next(const wb_emb *t, wb_emb_lane *l) {
    if (++l->now == 0) {
        memset(l->stamp, 0, t->V * sizeof *l->stamp);
        l->now = 1;
    }
    return l->now;
}

int wb_emb_gather(wb_emb *t, struct wb_step *s, const int32_t *X, size_t n, wb_rows *r, wb_err *e) {
    size_t E = t->E, Ei = t->Ei;
    wb_arena *a = s->arena;
    memset(r, 0, sizeof *r);
    r->n = n;
    wb_emb_lane ln = lane_get(t, s->lane);
    uint32_t now = lane_next(t, &ln);
    lane_put(t, s->lane, &ln);
    ALLOC(r->ids, n);
    size_t N = 0;
    for (size_t i = 0; i < n; i++) {
        int32_t id = X[i];
        if (id < 0 || (size_t)id >= t->V) return wb_err_set(e, WB_EUSAGE, "id %d out of the vocabulary (%zu)", id, t->V);
        if (ln.stamp[id] != now) ln.stamp[id] = now, ln.local[id] = (int32_t)N, r->ids[N++] = id;
    }
    r->N = N;
    ALLOC(r->U, N * Ei);
    uint32_t *srows;
    size_t *sdst, ns = 0;
    ALLOC(srows, N);
    ALLOC(sdst, N);
    for (size_t j = 0; j < N; j++) {
        int32_t id = r->ids[j];
        float *u = r->U + j * Ei;
        int tr = wb_emb_trainable(t, id);
        r->any_trainable |= tr;
        /* The frozen half (multichannel), or the only value when the row
         * is not trainable, or the initial value of a trainable row. */
        float *fixed = u;
        float *tuned = t->mode == WB_EMB_MULTICHANNEL ? u + E : u;
        int from_store = fixed_value(t, id, fixed);
        if (from_store) srows[ns] = (uint32_t)t->row[id], sdst[ns++] = j;
        if (tr && t->slot[id] >= 0) {
            wb_emb_ovl_value(t, &s->m->opt, &s->m->cu, t->slot[id], tuned);
            if (t->mode != WB_EMB_MULTICHANNEL) /* the store value is not needed */
                if (from_store) ns--;
        } else if (tr && t->mode == WB_EMB_LEARNED) {
            random_row(t, id, t->learn_a, tuned);
        } else if (t->mode == WB_EMB_MULTICHANNEL && !from_store) {
            memcpy(tuned, fixed, E * sizeof(float));
        }
    }
    if (ns) {
        float *tmp;
        ALLOC(tmp, ns * E);
        if (resolved_rows(t, ns, srows, tmp)) return wb_err_set(e, WB_ECORRUPT, "a store row is out of range");
        for (size_t i = 0; i < ns; i++) {
            float *u = r->U + sdst[i] * Ei;
            memcpy(u, tmp + i * E, E * sizeof(float));
            if (t->mode == WB_EMB_MULTICHANNEL && t->slot[r->ids[sdst[i]]] < 0)
                memcpy(u + E, tmp + i * E, E * sizeof(float)); /* tuned = store until updated */
        }
    }
    ALLOC(r->lid, n);
    for (size_t i = 0; i < n; i++) r->lid[i] = ln.local[X[i]];
    return 0;
nomem:
    return wb_err_set(e, WB_ENOMEM, "out of memory in the step arena");
}

float *wb_rows_embed(wb_arena *a, const wb_rows *r, size_t Ei) {
    float *x = wb_arena_alloc(a, r->n * Ei * sizeof *x);
    if (!x) return NULL;
    for (size_t i = 0; i < r->n; i++) memcpy(x + i * Ei, r->U + (size_t)r->lid[i] * Ei, Ei * sizeof(float));
    return x;
}

int wb_rows_grad(wb_arena *a, wb_rows *r, size_t E) {
    r->dU = NULL;
    if (!r->any_trainable) return 0;
    r->dU = wb_arena_calloc(a, r->N * E * sizeof *r->dU);
    return r->dU ? 0 : -1;
}

void wb_rows_scatter(wb_rows *r, const float *dx, size_t per, size_t ld, size_t Ei, size_t E) {
    size_t off = Ei - E;
    for (size_t i = 0; i < r->n; i++) {
        float *d = r->dU + (size_t)r->lid[i] * E;
        const float *g = dx + (i / per) * ld + (i % per) * Ei + off;
        for (size_t k = 0; k < E; k++) d[k] += g[k];
    }
}

double wb_emb_sqnorm(const wb_emb *t, const wb_rows *r) {
    double sq = 0;
    if (!r->dU) return 0;
    for (size_t j = 0; j < r->N; j++)
        if (wb_emb_trainable(t, r->ids[j])) sq += wb_sqnorm(r->dU + j * t->E, t->E);
    return sq;
}

int wb_emb_touch(wb_emb *t, const wb_rows *r, uint64_t last, wb_err *e) {
    if (!r->dU) return 0;
    size_t off = t->Ei - t->E;
    for (size_t j = 0; j < r->N; j++) {
        int32_t id = r->ids[j];
        if (t->slot[id] >= 0 || !wb_emb_trainable(t, id)) continue;
        if (wb_emb_ovl_get(t, id, r->U + j * t->Ei + off, last) < 0)
            return wb_err_set(e, WB_ENOMEM, "out of memory for the embedding overlay");
    }
    return 0;
}

/* The step of slot s with gradient g: first the idle steps it missed
 * (through o->t - 1), then step o->t. */
static void ovl_step(const wb_emb *t, const wb_optim *o, const wb_catchup *cu, int32_t s, const float *g) {
    float *w = wb_emb_ovl_row(t, s);
    ovl_catchup_to(t, o, cu, s, o->t - 1);
    wb_optim_update(o, w, g, w + t->E, t->E);
    t->olast[s] = o->t;
}

void wb_emb_update_rows(const wb_emb *t, const wb_optim *o, const wb_catchup *cu, const wb_rows *r, size_t lo, size_t hi) {
    if (!r->dU) return;
    for (size_t j = lo; j < hi; j++) {
        int32_t id = r->ids[j];
        if (wb_emb_trainable(t, id)) ovl_step(t, o, cu, t->slot[id], r->dU + j * t->E);
    }
}

void wb_emb_update_idle(const wb_emb *t, const wb_optim *o, const wb_catchup *cu, size_t lo, size_t hi) {
    if (hi > t->orows) hi = t->orows;
    for (size_t s = lo; s < hi; s++) {
        int32_t id = t->oid[s];
        if (t->stamp[id] != t->now) ovl_step(t, o, cu, (int32_t)s, t->zrow);
    }
}

int wb_emb_update(wb_emb *t, wb_optim *o, const wb_catchup *cu, const wb_rows *r, wb_err *e) {
    int rc = wb_emb_touch(t, r, o->t - 1, e);
    if (rc) return rc;
    wb_emb_update_rows(t, o, cu, r, 0, r->N);
    if (o->kind == WB_OPT_ADAM && o->adam == WB_ADAM_DENSE) wb_emb_update_idle(t, o, cu, 0, t->orows);
    return 0;
}

int wb_emb_merge(wb_emb *t, wb_arena *a, wb_rows *const *lanes, size_t n, wb_rows *u, int32_t **map, uint64_t last, wb_err *e) {
    size_t E = t->E, Ei = t->Ei, off = Ei - E, tot = 0;
    int grad = 0;
    memset(u, 0, sizeof *u);
    for (size_t k = 0; k < n; k++) tot += lanes[k]->N, grad |= lanes[k]->dU != NULL, u->n += lanes[k]->n;
    wb_emb_lane ln = lane_get(t, 0);
    uint32_t now = lane_next(t, &ln);
    lane_put(t, 0, &ln);
    ALLOC(u->ids, tot ? tot : 1);
    size_t N = 0;
    for (size_t k = 0; k < n; k++) {
        const wb_rows *r = lanes[k];
        ALLOC(map[k], r->N ? r->N : 1);
        u->any_trainable |= r->any_trainable;
        for (size_t j = 0; j < r->N; j++) {
            int32_t id = r->ids[j];
            if (ln.stamp[id] != now) {
                ln.stamp[id] = now, ln.local[id] = (int32_t)N, u->ids[N++] = id;
                /* first touch of a trainable row: its slot, from this lane's value */
                if (r->dU && t->slot[id] < 0 && wb_emb_trainable(t, id) && wb_emb_ovl_get(t, id, r->U + j * Ei + off, last) < 0)
                    return wb_err_set(e, WB_ENOMEM, "out of memory for the embedding overlay");
            }
            map[k][j] = ln.local[id];
        }
    }
    u->N = N;
    if (grad && !(u->dU = wb_arena_calloc(a, N * E * sizeof *u->dU))) goto nomem;
    return 0;
nomem:
    return wb_err_set(e, WB_ENOMEM, "out of memory in the step arena");
}

void wb_rows_reduce(wb_rows *u, wb_rows *const *lanes, int32_t *const *map, size_t n, size_t E, size_t lo, size_t hi) {
    if (!u->dU) return;
    for (size_t k = 0; k < n; k++) {
        const wb_rows *r = lanes[k];
        if (!r->dU) continue;
        for (size_t j = 0; j < r->N; j++) {
            size_t i = (size_t)map[k][j];
            if (i < lo || i >= hi) continue;
            float *d = u->dU + i * E;
            const float *g = r->dU + j * E;
            for (size_t c = 0; c < E; c++) d[c] += g[c];
        }
    }
}

/* ---- single rows --------------------------------------------------------------- */

int wb_emb_get_row(wb_emb *t, const wb_optim *o, const wb_catchup *cu, int32_t id, float *out, wb_err *e) {
    if (id < 0 || (size_t)id >= t->V) return wb_err_set(e, WB_EUSAGE, "id %d out of range", id);
    if (t->slot[id] >= 0) {
        wb_emb_ovl_value(t, o, cu, t->slot[id], out);
        return 0;
    }
    if (wb_emb_trainable(t, id) && t->mode == WB_EMB_LEARNED) {
        random_row(t, id, t->learn_a, out);
        return 0;
    }
    if (fixed_value(t, id, out)) {
        uint32_t r = (uint32_t)t->row[id];
        if (resolved_rows(t, 1, &r, out)) return wb_err_set(e, WB_EUSAGE, "no store attached");
    }
    return 0;
}

int wb_emb_set_row(wb_emb *t, const wb_optim *o, const wb_catchup *cu, int32_t id, const float *v, wb_err *e) {
    if (id <= 0 || (size_t)id >= t->V) return wb_err_set(e, WB_EUSAGE, "id %d: not a settable row", id);
    if (!wb_emb_trainable(t, id)) return wb_err_set(e, WB_EUSAGE, "row %d is not trainable with these embeddings", id);
    int32_t s = wb_emb_ovl_get(t, id, v, o->t);
    if (s < 0) return wb_err_set(e, WB_ENOMEM, "out of memory for the embedding overlay");
    wb_emb_ovl_catchup(t, o, cu, s); /* the moments, as dense Adam's would be now */
    memcpy(wb_emb_ovl_row(t, s), v, t->E * sizeof *v);
    return 0;
}
