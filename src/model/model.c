/*
 * model.c — the CNN text classifiers of model.h: configuration and the
 * Keras-style layer table, the parameter block, the embedding sources
 * (store rows, overlay, learned rows), the training step, inference and
 * the model file.
 *
 * Size letters (STYLE.md): B batch, T tokens (maxlen), E embedding dim per
 * channel, Ei = E·channels the width of a token vector, F filters, K kernel
 * width, C outputs, V vocabulary, H hidden units, Ff feature width, N the
 * distinct ids of a minibatch.
 *
 * Leaves out: the char-CNN, several text inputs, per-example weights,
 * multi-threaded loops of our own (OpenBLAS threads the products).
 */
#include "wordbench/model.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <xxhash.h>

#include "base/fileio.h"
#include "wordbench/arena.h"
#include "wordbench/nn.h"

#include <cblas.h>

#define OVL_CHUNK_ROWS 1024u /* overlay rows per chunk */

/* One dense tensor of the parameter block.  w, g and s point into the
 * block: weights, gradients and optimizer state (nstate·n floats). */
typedef struct tensor {
    char name[32];   /* "conv1d_1/kernel" */
    float *w;        /* (n) weights */
    float *g;        /* (n) gradients */
    float *s;        /* (nstate·n) optimizer state */
    size_t n;        /* elements */
    size_t rows;     /* rows (kernels: output units / filters) */
    size_t cols;     /* columns */
} tensor;

struct wb_model {
    wb_model_cfg c;          /* configuration (checked) */
    wb_optim opt;            /* optimizer settings and step count */
    size_t nstate;           /* optimizer floats per parameter */
    size_t Bmax;             /* largest minibatch */
    size_t Ei;               /* token vector width: E or 2E */
    size_t Ff;               /* feature vector width */
    size_t Hin;              /* input width of the output Dense */

    float *block;            /* weights | gradients | state */
    size_t nparam;           /* dense parameters */
    tensor conv_w[WB_MAX_WIDTHS], conv_b[WB_MAX_WIDTHS]; /* (F, K·Ei), (F) */
    tensor hid_w, hid_b;     /* (H, Ff), (H) */
    tensor out_w, out_b;     /* (C, Hin), (C) */
    tensor *ts[2 * WB_MAX_WIDTHS + 4]; /* every tensor, in file order */
    size_t nts;

    /* embedding sources, per id (V entries each) */
    wb_store *st;            /* borrowed, or NULL */
    int64_t *row;            /* store row (or embedded index), -1 = missing */
    int32_t *slot;           /* overlay slot, -1 = none */
    uint32_t *stamp;         /* step stamp of the last minibatch using the id */
    int32_t *local;          /* index of the id in the current minibatch */
    uint32_t now;            /* current stamp */
    float oov_a;             /* half-width of oov random rows */
    int attached;            /* a store or embedded rows are attached */

    float *embedded;         /* (n_emb, E) frozen rows from a model file */
    size_t n_emb;

    float **ochunk;          /* overlay chunks of OVL_CHUNK_ROWS rows */
    size_t nochunk, ochunk_cap;
    size_t orows;            /* overlay rows in use */
    int32_t *oid;            /* (ochunk_cap·OVL_CHUNK_ROWS) id of each slot */
    size_t orow_floats;      /* floats per overlay row: (1 + nstate)·E */

    wb_arena *arena;         /* step arena */
    int conv_windows;        /* 1: Conv1D as sgemms over the windows of the
                                embedded batch (nn.h); 0: projection of the
                                distinct rows (see conv_project) */
};

/* ---- names ------------------------------------------------------------- */

static const char *const kind_names[] = {"dense", "pool", "tutorial", "kim"};
static const char *const emb_names[] = {"frozen", "finetune", "learned", "multichannel"};
static const char *const oov_names[] = {"zero", "random", "learn"};

static int parse_name(const char *s, const char *const *names, int n) {
    for (int i = 0; s && i < n; i++)
        if (!strcmp(s, names[i])) return i;
    return -1;
}

const char *wb_model_kind_name(wb_model_kind k) { return (unsigned)k < 4 ? kind_names[k] : "?"; }
int wb_model_kind_parse(const char *s) { return parse_name(s, kind_names, 4); }
const char *wb_emb_mode_name(wb_emb_mode m) { return (unsigned)m < 4 ? emb_names[m] : "?"; }
int wb_emb_mode_parse(const char *s) { return parse_name(s, emb_names, 4); }
const char *wb_oov_mode_name(wb_oov_mode m) { return (unsigned)m < 3 ? oov_names[m] : "?"; }
int wb_oov_mode_parse(const char *s) { return parse_name(s, oov_names, 3); }

/* ---- configuration ------------------------------------------------------ */

void wb_model_cfg_init(wb_model_cfg *c, wb_model_kind kind) {
    memset(c, 0, sizeof *c);
    c->kind = kind;
    c->emb = WB_EMB_LEARNED;
    c->oov = WB_OOV_ZERO;
    c->H = 10;
    switch (kind) {
    case WB_MODEL_TUTORIAL:
        c->F = 128, c->nwidths = 1, c->widths[0] = 5;
        break;
    case WB_MODEL_KIM:
        c->F = 100, c->nwidths = 3, c->widths[0] = 3, c->widths[1] = 4, c->widths[2] = 5;
        c->H = 0, c->dropout = 0.5f, c->maxnorm = 3.0f;
        break;
    default:
        break;
    }
}

static int is_conv(const wb_model_cfg *c) { return c->kind == WB_MODEL_TUTORIAL || c->kind == WB_MODEL_KIM; }

int wb_model_cfg_check(const wb_model_cfg *c, wb_err *e) {
    if ((unsigned)c->kind > WB_MODEL_KIM) return wb_err_set(e, WB_EUSAGE, "unknown model kind");
    if ((unsigned)c->emb > WB_EMB_MULTICHANNEL) return wb_err_set(e, WB_EUSAGE, "unknown embedding mode");
    if ((unsigned)c->oov > WB_OOV_LEARN) return wb_err_set(e, WB_EUSAGE, "unknown oov mode");
    if (c->V < 2) return wb_err_set(e, WB_EUSAGE, "vocabulary size %zu: need at least 2 (padding and OOV)", c->V);
    if (c->V > INT32_MAX) return wb_err_set(e, WB_EUSAGE, "vocabulary size %zu too large", c->V);
    if (c->E < 1 || c->E > 65536) return wb_err_set(e, WB_EUSAGE, "embedding dim %zu out of range 1..65536", c->E);
    if (c->T < 1 || c->T > 1000000) return wb_err_set(e, WB_EUSAGE, "maxlen %zu out of range 1..1000000", c->T);
    if (!(c->dropout >= 0 && c->dropout < 1)) return wb_err_set(e, WB_EUSAGE, "dropout %g not in [0, 1)", c->dropout);
    if (!(c->maxnorm >= 0)) return wb_err_set(e, WB_EUSAGE, "max-norm %g is negative", c->maxnorm);
    if (c->task != WB_TASK_BINARY && c->task != WB_TASK_MULTICLASS && c->task != WB_TASK_MULTILABEL)
        return wb_err_set(e, WB_EUSAGE, "the task must be binary, multiclass or multilabel");
    if (c->C < 1 || c->C > 1000000) return wb_err_set(e, WB_EUSAGE, "%zu outputs: need 1..1000000", c->C);
    if (c->task == WB_TASK_BINARY && c->C != 1) return wb_err_set(e, WB_EUSAGE, "a binary task has one output, not %zu", c->C);
    if (c->H > 100000) return wb_err_set(e, WB_EUSAGE, "hidden units %zu out of range 0..100000", c->H);
    if (is_conv(c)) {
        if (c->F < 1 || c->F > 100000) return wb_err_set(e, WB_EUSAGE, "filters %zu out of range 1..100000", c->F);
        if (c->nwidths < 1 || c->nwidths > WB_MAX_WIDTHS)
            return wb_err_set(e, WB_EUSAGE, "%zu convolution widths: need 1..%d", c->nwidths, WB_MAX_WIDTHS);
        for (size_t i = 0; i < c->nwidths; i++)
            if (c->widths[i] < 1 || c->widths[i] > c->T)
                return wb_err_set(e, WB_EUSAGE, "convolution width %zu must be in 1..maxlen (%zu)", c->widths[i], c->T);
    }
    return 0;
}

static size_t channels(const wb_model_cfg *c) { return c->emb == WB_EMB_MULTICHANNEL ? 2 : 1; }

static size_t feat_width(const wb_model_cfg *c) {
    size_t Ei = c->E * channels(c);
    switch (c->kind) {
    case WB_MODEL_DENSE: return c->T * Ei;
    case WB_MODEL_POOL: return Ei;
    default: return c->F * c->nwidths;
    }
}

/* ---- the layer table (summary) ----------------------------------------- */

static void layer(wb_layer_info *out, size_t cap, size_t *n, const char *name, const char *type,
                  int ndim, size_t s0, size_t s1, uint64_t params, uint64_t trainable) {
    if (*n < cap) {
        wb_layer_info *l = &out[*n];
        memset(l, 0, sizeof *l);
        snprintf(l->name, sizeof l->name, "%s", name);
        snprintf(l->type, sizeof l->type, "%s", type);
        l->ndim = ndim, l->shape[0] = s0, l->shape[1] = s1;
        l->params = params, l->trainable = trainable;
    }
    (*n)++;
}

size_t wb_model_layers(const wb_model_cfg *c, wb_layer_info *out, size_t cap) {
    size_t n = 0, E = c->E, Ei = E * channels(c), VE = (size_t)c->V * E;
    char nm[32];
    /* Embedding: frozen counts as non-trainable (Keras trainable=False);
     * oov learn rows are trainable but Keras has no such thing: counted
     * with the frozen table. */
    switch (c->emb) {
    case WB_EMB_FROZEN: layer(out, cap, &n, "embedding", "Embedding", 2, c->T, E, VE, 0); break;
    case WB_EMB_MULTICHANNEL:
        layer(out, cap, &n, "embedding_static", "Embedding", 2, c->T, E, VE, 0);
        layer(out, cap, &n, "embedding_tuned", "Embedding", 2, c->T, E, VE, VE);
        layer(out, cap, &n, "concatenate", "Concatenate", 2, c->T, Ei, 0, 0);
        break;
    default: layer(out, cap, &n, "embedding", "Embedding", 2, c->T, E, VE, VE); break;
    }
    if (c->kind == WB_MODEL_DENSE) {
        layer(out, cap, &n, "flatten", "Flatten", 1, c->T * Ei, 0, 0, 0);
    } else if (c->kind == WB_MODEL_POOL) {
        layer(out, cap, &n, "global_max_pooling1d", "GlobalMaxPooling1D", 1, Ei, 0, 0, 0);
    } else {
        for (size_t i = 0; i < c->nwidths; i++) {
            uint64_t p = (uint64_t)c->F * c->widths[i] * Ei + c->F;
            snprintf(nm, sizeof nm, c->nwidths > 1 ? "conv1d_%zu" : "conv1d", i + 1);
            layer(out, cap, &n, nm, "Conv1D", 2, c->T - c->widths[i] + 1, c->F, p, p);
            snprintf(nm, sizeof nm, c->nwidths > 1 ? "global_max_pooling1d_%zu" : "global_max_pooling1d", i + 1);
            layer(out, cap, &n, nm, "GlobalMaxPooling1D", 1, c->F, 0, 0, 0);
        }
        if (c->nwidths > 1) layer(out, cap, &n, "concatenate", "Concatenate", 1, feat_width(c), 0, 0, 0);
    }
    size_t Ff = feat_width(c), in = Ff;
    if (c->dropout > 0) layer(out, cap, &n, "dropout", "Dropout", 1, Ff, 0, 0, 0);
    if (c->H) {
        uint64_t p = (uint64_t)in * c->H + c->H;
        layer(out, cap, &n, "dense", "Dense", 1, c->H, 0, p, p);
        in = c->H;
    }
    uint64_t p = (uint64_t)in * c->C + c->C;
    layer(out, cap, &n, c->H ? "dense_1" : "dense", "Dense", 1, c->C, 0, p, p);
    return n;
}

/* ---- random rows ---------------------------------------------------------- */

/* Uniform float in [-a, a) from 24 random bits. */
static float unif(wb_rng *r, float a) {
    return a * ((float)(wb_rng_next(r) >> 40) * (2.0f / 16777216.0f) - 1.0f);
}

/* The random initial row of `id` (learned rows, oov random): U(-a, a)
 * from a generator seeded by (seed, id), so it does not depend on when the
 * row is first touched. */
static void random_row(const wb_model *m, int32_t id, float a, float *out) {
    wb_rng r;
    wb_rng_init(&r, m->c.seed * 0x9E3779B97F4A7C15ull ^ ((uint64_t)id + 0x632BE59BD9B4E019ull));
    for (size_t i = 0; i < m->c.E; i++) out[i] = unif(&r, a);
}

/* Glorot-uniform (Keras' default kernel initializer). */
static void glorot(float *w, size_t n, double fan_in, double fan_out, wb_rng *r) {
    float lim = (float)sqrt(6.0 / (fan_in + fan_out));
    for (size_t i = 0; i < n; i++) w[i] = unif(r, lim);
}

/* ---- create / destroy --------------------------------------------------- */

static void tensor_def(wb_model *m, tensor *t, const char *name, size_t rows, size_t cols, size_t *off) {
    snprintf(t->name, sizeof t->name, "%s", name);
    t->rows = rows, t->cols = cols, t->n = rows * cols;
    t->w = (float *)(uintptr_t)*off; /* offsets first, pointers after allocation */
    *off += t->n;
    m->ts[m->nts++] = t;
}

int wb_model_create(wb_model **out, const wb_model_cfg *c, const wb_optim *opt, size_t max_batch,
                    wb_err *e) {
    *out = NULL;
    int rc = wb_model_cfg_check(c, e);
    if (rc) return rc;
    if (max_batch < 1 || max_batch > 1000000)
        return wb_err_set(e, WB_EUSAGE, "batch size %zu out of range 1..1000000", max_batch);
    wb_model *m = calloc(1, sizeof *m);
    if (!m) return wb_err_set(e, WB_ENOMEM, "out of memory");
    m->c = *c;
    m->opt = *opt;
    m->nstate = wb_optim_nstate(opt->kind);
    m->Bmax = max_batch;
    m->Ei = c->E * channels(c);
    m->Ff = feat_width(c);
    m->Hin = c->H ? c->H : m->Ff;

    size_t off = 0;
    char nm[32];
    if (is_conv(c))
        for (size_t i = 0; i < c->nwidths; i++) {
            snprintf(nm, sizeof nm, "conv%zu/kernel", i + 1);
            tensor_def(m, &m->conv_w[i], nm, c->F, c->widths[i] * m->Ei, &off);
            snprintf(nm, sizeof nm, "conv%zu/bias", i + 1);
            tensor_def(m, &m->conv_b[i], nm, 1, c->F, &off);
        }
    if (c->H) {
        tensor_def(m, &m->hid_w, "hidden/kernel", c->H, m->Ff, &off);
        tensor_def(m, &m->hid_b, "hidden/bias", 1, c->H, &off);
    }
    tensor_def(m, &m->out_w, "output/kernel", c->C, m->Hin, &off);
    tensor_def(m, &m->out_b, "output/bias", 1, c->C, &off);
    m->nparam = off;

    size_t total = off * (2 + m->nstate);
    m->block = calloc(total ? total : 1, sizeof(float));
    m->row = malloc(c->V * sizeof *m->row);
    m->slot = malloc(c->V * sizeof *m->slot);
    m->stamp = calloc(c->V, sizeof *m->stamp);
    m->local = malloc(c->V * sizeof *m->local);
    m->arena = wb_arena_create(0);
    if (!m->block || !m->row || !m->slot || !m->stamp || !m->local || !m->arena) {
        wb_model_destroy(m);
        return wb_err_set(e, WB_ENOMEM, "out of memory for the model (%zu parameters)", off);
    }
    for (size_t i = 0; i < m->nts; i++) {
        tensor *t = m->ts[i];
        size_t o = (size_t)(uintptr_t)t->w;
        t->w = m->block + o;
        t->g = m->block + off + o;
        t->s = m->block + 2 * off + o * m->nstate;
    }
    for (size_t i = 0; i < c->V; i++) m->row[i] = -1, m->slot[i] = -1;
    m->orow_floats = (1 + m->nstate) * c->E;

    wb_rng r;
    wb_rng_init(&r, c->seed ^ 0xC0FFEEull);
    if (is_conv(c))
        for (size_t i = 0; i < c->nwidths; i++)
            glorot(m->conv_w[i].w, m->conv_w[i].n, (double)c->widths[i] * m->Ei,
                   (double)c->widths[i] * c->F, &r);
    if (c->H) glorot(m->hid_w.w, m->hid_w.n, (double)m->Ff, (double)c->H, &r);
    glorot(m->out_w.w, m->out_w.n, (double)m->Hin, (double)c->C, &r);
    m->oov_a = 0.05f;
    m->attached = 0;
    const char *cp = getenv("WB_CONV");
    m->conv_windows = cp && !strcmp(cp, "windows");
    *out = m;
    return 0;
}

void wb_model_destroy(wb_model *m) {
    if (!m) return;
    free(m->block);
    free(m->row);
    free(m->slot);
    free(m->stamp);
    free(m->local);
    free(m->embedded);
    for (size_t i = 0; i < m->nochunk; i++) free(m->ochunk[i]);
    free(m->ochunk);
    free(m->oid);
    wb_arena_destroy(m->arena);
    free(m);
}

const wb_model_cfg *wb_model_cfg_get(const wb_model *m) { return &m->c; }
wb_optim *wb_model_optim(wb_model *m) { return &m->opt; }

static int needs_store(const wb_model *m) { return m->c.emb != WB_EMB_LEARNED; }

int wb_model_ready(const wb_model *m) { return !needs_store(m) || m->attached; }
int wb_model_has_embedded(const wb_model *m) { return m->embedded != NULL; }

/* Variance of the store values over up to 4096 resolved rows spread over
 * the vocabulary: the scale of oov random rows (Kim 2014). */
static void oov_scale(wb_model *m) {
    size_t V = m->c.V, E = m->c.E, nfound = 0;
    for (size_t i = 0; i < V; i++) nfound += m->row[i] >= 0;
    if (!nfound) return;
    size_t step = nfound > 4096 ? nfound / 4096 : 1, k = 0;
    double s = 0, s2 = 0, cnt = 0;
    float *buf = malloc(E * sizeof *buf);
    if (!buf) return;
    for (size_t i = 0; i < V; i++) {
        if (m->row[i] < 0) continue;
        if (k++ % step) continue;
        const float *p = buf;
        if (m->embedded) {
            p = m->embedded + (size_t)m->row[i] * E;
        } else {
            uint32_t r = (uint32_t)m->row[i];
            if (wb_store_gather(m->st, 1, &r, buf)) continue;
        }
        for (size_t d = 0; d < E; d++) s += p[d], s2 += (double)p[d] * p[d];
        cnt += (double)E;
    }
    free(buf);
    if (cnt > 0) {
        double var = s2 / cnt - (s / cnt) * (s / cnt);
        if (var > 0) m->oov_a = (float)sqrt(3.0 * var);
    }
}

int wb_model_attach_store(wb_model *m, wb_store *st, const int64_t *rows, wb_err *e) {
    if (!needs_store(m))
        return wb_err_set(e, WB_EUSAGE, "embeddings 'learned' use no store");
    const wb_store_info *in = wb_store_info_get(st);
    if (in->dim != m->c.E)
        return wb_err_set(e, WB_EUSAGE, "the store has dimension %u but the model's embedding dimension is %zu (--emb-dim)",
                          in->dim, m->c.E);
    for (size_t i = 2; i < m->c.V; i++)
        if (rows[i] >= (int64_t)in->rows)
            return wb_err_set(e, WB_EUSAGE, "row %lld of id %zu is beyond the store", (long long)rows[i], i);
    for (size_t i = 0; i < m->c.V; i++) m->row[i] = i < 2 ? -1 : rows[i];
    m->st = st;
    m->attached = 1;
    free(m->embedded);
    m->embedded = NULL;
    if (m->c.oov != WB_OOV_ZERO) oov_scale(m);
    return 0;
}

int wb_model_adopt_store(wb_model *dst, const wb_model *src, wb_err *e) {
    const wb_model_cfg *a = &dst->c, *b = &src->c;
    const char *diff = a->kind != b->kind ? "model" : a->emb != b->emb ? "embeddings" : a->oov != b->oov ? "oov"
                     : a->task != b->task ? "task" : a->V != b->V ? "vocabulary size" : a->E != b->E ? "emb-dim"
                     : a->T != b->T ? "maxlen" : a->F != b->F ? "filters" : a->H != b->H ? "hidden"
                     : a->C != b->C ? "labels" : a->nwidths != b->nwidths || memcmp(a->widths, b->widths, a->nwidths * sizeof *a->widths) ? "widths"
                     : NULL;
    if (diff) return wb_err_set(e, WB_EUSAGE, "the checkpoint was made with a different %s", diff);
    if (!src->st) return 0;
    memcpy(dst->row, src->row, a->V * sizeof *dst->row);
    dst->st = src->st;
    dst->attached = 1;
    dst->oov_a = src->oov_a;
    return 0;
}

/* ---- overlay ---------------------------------------------------------------- */

/* Is the tuned value of `id` a trainable row? */
static int trainable(const wb_model *m, int32_t id) {
    if (id == 0) return 0;
    switch (m->c.emb) {
    case WB_EMB_FROZEN: return m->c.oov == WB_OOV_LEARN && m->row[id] < 0;
    default: return 1;
    }
}

/* The frozen value of `id` when it needs no store (pad, missing) into out;
 * returns 1 when the store (or embedded) row must be used instead. */
static int fixed_value(const wb_model *m, int32_t id, float *out) {
    if (id == 0 || m->c.emb == WB_EMB_LEARNED) {
        memset(out, 0, m->c.E * sizeof *out);
        return 0;
    }
    if (m->row[id] >= 0) return 1;
    if (m->c.oov == WB_OOV_ZERO)
        memset(out, 0, m->c.E * sizeof *out);
    else
        random_row(m, id, m->oov_a, out);
    return 0;
}

static float *ovl_row(const wb_model *m, int32_t slot) {
    return m->ochunk[(size_t)slot / OVL_CHUNK_ROWS] + ((size_t)slot % OVL_CHUNK_ROWS) * m->orow_floats;
}

/* Slot of id, creating it (weights = initial value, zero state) on first
 * touch.  `init` is the row the forward pass used.  -1 when out of memory. */
static int32_t ovl_get(wb_model *m, int32_t id, const float *init) {
    if (m->slot[id] >= 0) return m->slot[id];
    if (m->orows == m->nochunk * OVL_CHUNK_ROWS) {
        if (m->nochunk == m->ochunk_cap) {
            size_t cap = m->ochunk_cap ? m->ochunk_cap * 2 : 16;
            float **nc = realloc(m->ochunk, cap * sizeof *nc);
            if (!nc) return -1;
            m->ochunk = nc;
            int32_t *no = realloc(m->oid, cap * OVL_CHUNK_ROWS * sizeof *no);
            if (!no) return -1;
            m->oid = no;
            m->ochunk_cap = cap;
        }
        float *ch = malloc(OVL_CHUNK_ROWS * m->orow_floats * sizeof(float));
        if (!ch) return -1;
        m->ochunk[m->nochunk++] = ch;
    }
    int32_t s = (int32_t)m->orows++;
    float *r = ovl_row(m, s);
    memcpy(r, init, m->c.E * sizeof(float));
    memset(r + m->c.E, 0, m->nstate * m->c.E * sizeof(float));
    m->slot[id] = s;
    m->oid[s] = id;
    return s;
}

/* ---- the step ---------------------------------------------------------------- */

/* Buffers of one forward pass (all in the step arena). */
typedef struct fwd {
    size_t B, N;          /* examples, distinct ids */
    int32_t *ids;         /* (N) distinct ids in first-seen order */
    float *U;             /* (N, Ei) their vectors */
    int32_t *lid;         /* (B, T) local index (into U) of every token */
    float *x;             /* (B, T, Ei) the embedded batch (not for projected Conv1D) */
    float *y;             /* (B, T, F) Conv1D output scratch */
    int32_t *amax[WB_MAX_WIDTHS]; /* (B, F) argmax per width; [0] also pool's (B, Ei) */
    float *feat;          /* (B, Ff) features (after relu / dropout); x for dense */
    uint8_t *mask;        /* (B, Ff) dropout mask or NULL */
    float *h;             /* (B, H) hidden after relu, or NULL */
    float *z;             /* (B, C) logits */
    float *dz;            /* (B, C) */
    float *prob;          /* (B, C) */
    int any_trainable;    /* some id of the batch has a trainable row */
} fwd;

#define ALLOC(ptr, count)                                                   \
    do {                                                                    \
        (ptr) = wb_arena_alloc(m->arena, (size_t)(count) * sizeof *(ptr)); \
        if (!(ptr)) goto nomem;                                             \
    } while (0)

/* Distinct ids, their vectors U, the embedded batch x. */
static int embed(wb_model *m, fwd *f, const int32_t *X, wb_err *e) {
    size_t B = f->B, T = m->c.T, E = m->c.E, Ei = m->Ei, BT = B * T;
    if (++m->now == 0) { /* stamp wrapped: forget old stamps */
        memset(m->stamp, 0, m->c.V * sizeof *m->stamp);
        m->now = 1;
    }
    ALLOC(f->ids, BT);
    size_t N = 0;
    for (size_t i = 0; i < BT; i++) {
        int32_t id = X[i];
        if (id < 0 || (size_t)id >= m->c.V) return wb_err_set(e, WB_EUSAGE, "id %d out of the vocabulary (%zu)", id, m->c.V);
        if (m->stamp[id] != m->now) m->stamp[id] = m->now, m->local[id] = (int32_t)N, f->ids[N++] = id;
    }
    f->N = N;
    ALLOC(f->U, N * Ei);
    uint32_t *srows;
    size_t *sdst, ns = 0;
    ALLOC(srows, N);
    ALLOC(sdst, N);
    f->any_trainable = 0;
    for (size_t j = 0; j < N; j++) {
        int32_t id = f->ids[j];
        float *u = f->U + j * Ei;
        int tr = trainable(m, id);
        f->any_trainable |= tr;
        /* The frozen half (multichannel), or the only value when the row
         * is not trainable, or the initial value of a trainable row. */
        float *fixed = u;
        float *tuned = m->c.emb == WB_EMB_MULTICHANNEL ? u + E : u;
        int from_store = fixed_value(m, id, fixed);
        if (from_store) srows[ns] = (uint32_t)m->row[id], sdst[ns++] = j;
        if (tr && m->slot[id] >= 0) {
            memcpy(tuned, ovl_row(m, m->slot[id]), E * sizeof(float));
            if (m->c.emb != WB_EMB_MULTICHANNEL) /* the store value is not needed */
                if (from_store) ns--;
        } else if (tr && m->c.emb == WB_EMB_LEARNED) {
            random_row(m, id, 0.05f, tuned);
        } else if (m->c.emb == WB_EMB_MULTICHANNEL && !from_store) {
            memcpy(tuned, fixed, E * sizeof(float));
        }
    }
    if (ns) {
        float *tmp;
        ALLOC(tmp, ns * E);
        if (m->embedded) {
            for (size_t i = 0; i < ns; i++)
                memcpy(tmp + i * E, m->embedded + (size_t)srows[i] * E, E * sizeof(float));
        } else if (wb_store_gather(m->st, ns, srows, tmp)) {
            return wb_err_set(e, WB_ECORRUPT, "a store row is out of range");
        }
        for (size_t i = 0; i < ns; i++) {
            float *u = f->U + sdst[i] * Ei;
            memcpy(u, tmp + i * E, E * sizeof(float));
            if (m->c.emb == WB_EMB_MULTICHANNEL && m->slot[f->ids[sdst[i]]] < 0)
                memcpy(u + E, tmp + i * E, E * sizeof(float)); /* tuned = store until updated */
        }
    }
    ALLOC(f->lid, BT);
    for (size_t i = 0; i < BT; i++) f->lid[i] = m->local[X[i]];
    f->x = NULL;
    if (!is_conv(&m->c) || m->conv_windows) { /* the embedded batch: pool, dense, or the sgemm Conv1D */
        ALLOC(f->x, BT * Ei);
        for (size_t i = 0; i < BT; i++) memcpy(f->x + i * Ei, f->U + (size_t)f->lid[i] * Ei, Ei * sizeof(float));
    }
    return 0;
nomem:
    return wb_err_set(e, WB_ENOMEM, "out of memory in the step arena");
}

/* One example of conv_project (below): the window sums of P over the T ids
 * lid and their running max / first argmax over s.  Branch-free inner loops
 * (the compiler vectorizes them; an AVX2 clone where the CPU has it).
 * Defined before its use and never declared apart: clang 14 compiles both
 * clones of a target_clones function that has a separate prototype to an
 * empty body (a bare `ret`; with UBSan, an unconditional report). */
__attribute__((target_clones("avx2", "default"))) static void window_max(const float *P, const int32_t *lid, size_t T, size_t K,
                                                                          size_t F, float *acc, float *mx, int32_t *am) {
    size_t KF = K * F;
    for (size_t s = 0; s + K <= T; s++) {
        const float *p0 = P + (size_t)lid[s] * KF;
        for (size_t k = 0; k < F; k++) acc[k] = p0[k];
        for (size_t t = 1; t < K; t++) {
            const float *pt = P + (size_t)lid[s + t] * KF + t * F;
            for (size_t k = 0; k < F; k++) acc[k] += pt[k];
        }
        if (s == 0) {
            memcpy(mx, acc, F * sizeof *acc);
            memset(am, 0, F * sizeof *am);
            continue;
        }
        int32_t si = (int32_t)s;
        for (size_t k = 0; k < F; k++) {
            int gt = acc[k] > mx[k];
            mx[k] = gt ? acc[k] : mx[k];
            am[k] = gt ? si : am[k];
        }
    }
}

/* Conv1D of width K = widths[w] + global max pool, by projecting the N
 * distinct rows of the minibatch instead of its B·T positions:
 *   P[n][t][f] = U[n] · W[f][t]          (K sgemms, N×F×Ei each)
 *   y[b][s][f] = Σ_t P[lid(b, s+t)][t][f]  (vector adds)
 *   pooled[b][f] = max_s y[b][s][f], amax[b][f] = the first such s.
 * Equal to the convolution of the embedded batch (same products, another
 * summation order), with N·K·F·Ei multiply-adds instead of B·T·K·F·Ei: a
 * real minibatch repeats words and is mostly padding, so N is several
 * times smaller than B·T.  No (B, T, Ei) copy and no (B, T, F) output are
 * made.  Returns 0 or -1 (arena). */
static int conv_project(wb_model *m, fwd *f, size_t w, float *pooled) {
    size_t B = f->B, T = m->c.T, Ei = m->Ei, F = m->c.F, K = m->c.widths[w], N = f->N, KF = K * F;
    const float *W = m->conv_w[w].w; /* (F, K, Ei) */
    float *P = wb_arena_alloc(m->arena, N * KF * sizeof *P), *acc = wb_arena_alloc(m->arena, F * sizeof *acc);
    if (!P || !acc) return -1;
    for (size_t t = 0; t < K; t++)
        /* P_t[N,F] = U[N,Ei] · W_t[F,Ei]ᵀ: A = U NoTrans lda Ei, B = W + t·Ei
         * Trans ldb K·Ei (row f of W_t is W[f][t]), C = P + t·F ldc K·F. */
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)N, (int)F, (int)Ei, 1.0f, f->U, (int)Ei,
                    W + t * Ei, (int)(K * Ei), 0.0f, P + t * F, (int)KF);
    for (size_t b = 0; b < B; b++) window_max(P, f->lid + b * T, T, K, F, acc, pooled + b * F, f->amax[w] + b * F);
    return 0;
}

/* Backward of conv_project for the argmax windows only:
 *   dW[f][t] += dpool[b][f] · U[lid(b, s*+t)]       (s* = amax[b][f])
 *   dU[lid(b, s*+t)] += dpool[b][f] · W[f][t]       (tuned half; dU may be NULL)
 * dU is (N, E): the last E columns of each Ei-wide token vector. */
static void conv_project_backward(wb_model *m, const fwd *f, size_t w, const float *dpool, float *dU) {
    size_t B = f->B, T = m->c.T, Ei = m->Ei, E = m->c.E, F = m->c.F, K = m->c.widths[w], off = Ei - E;
    const float *W = m->conv_w[w].w;
    float *dW = m->conv_w[w].g;
    const int32_t *amax = f->amax[w];
    for (size_t b = 0; b < B; b++)
        for (size_t k = 0; k < F; k++) {
            float g = dpool[b * F + k];
            if (g == 0) continue;
            const int32_t *lid = f->lid + b * T + amax[b * F + k];
            for (size_t t = 0; t < K; t++) {
                size_t l = (size_t)lid[t];
                cblas_saxpy((int)Ei, g, f->U + l * Ei, 1, dW + (k * K + t) * Ei, 1);
                if (dU) cblas_saxpy((int)E, g, W + (k * K + t) * Ei + off, 1, dU + l * E, 1);
            }
        }
}

/* Forward pass to the logits. */
static int forward(wb_model *m, fwd *f, const int32_t *X, int train, wb_rng *rng, wb_err *e) {
    size_t B = f->B, T = m->c.T, Ei = m->Ei, F = m->c.F, Ff = m->Ff, C = m->c.C;
    int rc = embed(m, f, X, e);
    if (rc) return rc;
    if (is_conv(&m->c)) {
        ALLOC(f->feat, B * Ff);
        float *pooled;
        ALLOC(pooled, B * F);
        if (m->conv_windows) ALLOC(f->y, B * T * F);
        for (size_t w = 0; w < m->c.nwidths; w++) {
            size_t K = m->c.widths[w];
            ALLOC(f->amax[w], B * F);
            /* relu(maxpool(conv(x)) + b) = maxpool(relu(conv(x) + b)) */
            if (m->conv_windows) {
                wb_conv1d_forward(f->x, B, T, Ei, m->conv_w[w].w, NULL, F, K, f->y);
                wb_gmaxpool_forward(f->y, B, T, T - K + 1, F, pooled, f->amax[w]);
            } else if (conv_project(m, f, w, pooled)) {
                goto nomem;
            }
            const float *bias = m->conv_b[w].w;
            for (size_t b = 0; b < B; b++)
                for (size_t k = 0; k < F; k++) {
                    float v = pooled[b * F + k] + bias[k];
                    f->feat[b * Ff + w * F + k] = v > 0 ? v : 0;
                }
        }
    } else if (m->c.kind == WB_MODEL_POOL) {
        ALLOC(f->feat, B * Ff);
        ALLOC(f->amax[0], B * Ei);
        wb_gmaxpool_forward(f->x, B, T, T, Ei, f->feat, f->amax[0]);
    } else {
        f->feat = f->x; /* Flatten: (B, T, Ei) is (B, T·Ei) */
    }
    f->mask = NULL;
    if (train && m->c.dropout > 0) {
        ALLOC(f->mask, B * Ff);
        wb_dropout_forward(f->feat, B * Ff, m->c.dropout, rng, f->mask);
    }
    const float *hin = f->feat;
    f->h = NULL;
    if (m->c.H) {
        ALLOC(f->h, B * m->c.H);
        wb_dense_forward(f->feat, B, Ff, m->hid_w.w, m->hid_b.w, m->c.H, f->h);
        wb_relu_forward(f->h, B * m->c.H);
        hin = f->h;
    }
    ALLOC(f->z, B * C);
    ALLOC(f->dz, B * C);
    ALLOC(f->prob, B * C);
    wb_dense_forward(hin, B, m->Hin, m->out_w.w, m->out_b.w, C, f->z);
    return 0;
nomem:
    return wb_err_set(e, WB_ENOMEM, "out of memory in the step arena");
}

static float loss_of(const wb_model *m, fwd *f, const int32_t *y, const float *t, const float *cw) {
    if (m->c.task == WB_TASK_MULTICLASS) return wb_softmax_xent(f->z, y, cw, f->B, m->c.C, f->dz, f->prob);
    return wb_sigmoid_bce(f->z, t, cw, f->B, m->c.C, f->dz, f->prob);
}

/* Right answers of a batch: the best label (multiclass: the label; multilabel:
 * a true one, P@1's hits) or, binary, the 0.5 decision. */
static size_t count_correct(const wb_model *m, const fwd *f, const int32_t *y, const float *t) {
    size_t ok = 0, C = m->c.C;
    for (size_t b = 0; b < f->B; b++) {
        const float *p = f->prob + b * C;
        size_t best = 0;
        for (size_t k = 1; k < C; k++)
            if (p[k] > p[best]) best = k;
        if (m->c.task == WB_TASK_MULTICLASS) ok += (int32_t)best == y[b];
        else if (m->c.task == WB_TASK_MULTILABEL) ok += t[b * C + best] >= 0.5f;
        else ok += (p[0] >= 0.5f) == (t[b] >= 0.5f);
    }
    return ok;
}

/* Backward pass and the optimizer step. */
static int backward_update(wb_model *m, fwd *f, wb_err *e) {
    size_t B = f->B, T = m->c.T, E = m->c.E, Ei = m->Ei, F = m->c.F, Ff = m->Ff, C = m->c.C;
    memset(m->block + m->nparam, 0, m->nparam * sizeof(float)); /* gradients */
    float *dfeat, *dx = NULL;
    int need_dx = f->any_trainable;
    ALLOC(dfeat, B * Ff);
    memset(dfeat, 0, B * Ff * sizeof(float));
    /* Output Dense: z = hin·Woutᵀ + b. */
    if (m->c.H) {
        float *dh;
        ALLOC(dh, B * m->c.H);
        memset(dh, 0, B * m->c.H * sizeof(float));
        wb_dense_backward(f->h, f->dz, B, m->Hin, m->out_w.w, C, m->out_w.g, m->out_b.g, dh);
        wb_relu_backward(f->h, dh, B * m->c.H);
        wb_dense_backward(f->feat, dh, B, Ff, m->hid_w.w, m->c.H, m->hid_w.g, m->hid_b.g, dfeat);
    } else {
        wb_dense_backward(f->feat, f->dz, B, Ff, m->out_w.w, C, m->out_w.g, m->out_b.g, dfeat);
    }
    if (f->mask) wb_dropout_backward(dfeat, B * Ff, m->c.dropout, f->mask);
    /* Gradient of the token vectors: dx (B, T, Ei) for pool and dense and
     * the windowed Conv1D; the projected Conv1D writes the rows' gradient
     * dU (N, E) directly. */
    float *dU = NULL;
    size_t N = f->N, BT = B * T, off = Ei - E;
    int project = is_conv(&m->c) && !m->conv_windows;
    if (need_dx && project) {
        ALLOC(dU, N * E);
        memset(dU, 0, N * E * sizeof(float));
    }
    if (m->c.kind == WB_MODEL_DENSE) {
        dx = need_dx ? dfeat : NULL; /* Flatten: the same memory */
    } else {
        if (need_dx && !project) {
            ALLOC(dx, B * T * Ei);
            memset(dx, 0, B * T * Ei * sizeof(float));
        }
        if (m->c.kind == WB_MODEL_POOL) {
            if (dx) wb_gmaxpool_backward(dfeat, f->amax[0], B, T, Ei, dx);
        } else {
            float *dpool;
            ALLOC(dpool, B * F);
            for (size_t w = 0; w < m->c.nwidths; w++) {
                /* feat = relu(pool + b): gradient through the relu. */
                float *db = m->conv_b[w].g;
                for (size_t b = 0; b < B; b++)
                    for (size_t k = 0; k < F; k++) {
                        size_t i = b * Ff + w * F + k;
                        float g = f->feat[i] > 0 ? dfeat[i] : 0;
                        dpool[b * F + k] = g;
                        db[k] += g;
                    }
                if (project)
                    conv_project_backward(m, f, w, dpool, dU);
                else
                    wb_conv1d_backward_argmax(f->x, B, T, Ei, m->conv_w[w].w, F, m->c.widths[w], f->amax[w], dpool,
                                              m->conv_w[w].g, NULL, dx);
            }
        }
    }
    /* Embedding rows: dU[local(id)] += dx[token]; only the tuned half
     * (the last E columns of a token vector) of trainable ids matters. */
    if (dx) {
        ALLOC(dU, N * E);
        memset(dU, 0, N * E * sizeof(float));
        for (size_t i = 0; i < BT; i++) {
            float *d = dU + (size_t)f->lid[i] * E;
            const float *g = dx + i * Ei + off;
            for (size_t k = 0; k < E; k++) d[k] += g[k];
        }
    }
    /* Optimizer: one step over the dense tensors and the touched rows. */
    double sq = 0;
    if (m->opt.clipnorm > 0) {
        sq = wb_sqnorm(m->block + m->nparam, m->nparam);
        if (dU)
            for (size_t j = 0; j < N; j++)
                if (trainable(m, f->ids[j])) sq += wb_sqnorm(dU + j * E, E);
    }
    wb_optim_begin(&m->opt, sq);
    for (size_t i = 0; i < m->nts; i++) wb_optim_update(&m->opt, m->ts[i]->w, m->ts[i]->g, m->ts[i]->s, m->ts[i]->n);
    if (m->c.maxnorm > 0) wb_maxnorm_rows(m->out_w.w, m->out_w.rows, m->out_w.cols, m->c.maxnorm);
    if (dU)
        for (size_t j = 0; j < N; j++) {
            int32_t id = f->ids[j];
            if (!trainable(m, id)) continue;
            int32_t s = ovl_get(m, id, f->U + j * Ei + off);
            if (s < 0) return wb_err_set(e, WB_ENOMEM, "out of memory for the embedding overlay");
            float *r = ovl_row(m, s);
            wb_optim_update(&m->opt, r, dU + j * E, r + E, E);
        }
    return 0;
nomem:
    return wb_err_set(e, WB_ENOMEM, "out of memory in the step arena");
}

/* The checks of a minibatch shared by train_step (targets required) and
 * predict (targets optional; class ids checked when given). */
static int check_batch(const wb_model *m, size_t B, const int32_t *y, const float *t, int need_targets, wb_err *e) {
    if (B < 1 || B > m->Bmax) return wb_err_set(e, WB_EUSAGE, "batch of %zu examples: the model takes 1..%zu", B, m->Bmax);
    if (!wb_model_ready(m)) return wb_err_set(e, WB_EUSAGE, "the model needs its store (or embedded vectors)");
    if (need_targets && (m->c.task == WB_TASK_MULTICLASS ? !y : !t))
        return wb_err_set(e, WB_EUSAGE, "targets missing for the task");
    if (y && (need_targets || m->c.task == WB_TASK_MULTICLASS))
        for (size_t b = 0; b < B; b++)
            if (y[b] < 0 || (size_t)y[b] >= m->c.C) return wb_err_set(e, WB_EUSAGE, "class id %d out of range", y[b]);
    return 0;
}

int wb_model_train_step(wb_model *m, const int32_t *X, size_t B, const int32_t *y, const float *t,
                        const float *cw, wb_rng *rng, float *loss, size_t *correct, wb_err *e) {
    int rc = check_batch(m, B, y, t, 1, e);
    if (rc) return rc;
    wb_arena_reset(m->arena);
    fwd f = {.B = B};
    rc = forward(m, &f, X, 1, rng, e);
    if (rc) return rc;
    float l = loss_of(m, &f, y, t, cw);
    if (loss) *loss = l;
    if (correct) *correct = count_correct(m, &f, y, t);
    return backward_update(m, &f, e);
}

int wb_model_predict(wb_model *m, const int32_t *X, size_t B, const int32_t *y, const float *t,
                     const float *cw, float *prob, float *loss, wb_err *e) {
    int rc = check_batch(m, B, y, t, 0, e);
    if (rc) return rc;
    wb_arena_reset(m->arena);
    fwd f = {.B = B};
    rc = forward(m, &f, X, 0, NULL, e);
    if (rc) return rc;
    size_t C = m->c.C;
    if ((m->c.task == WB_TASK_MULTICLASS && y) || (m->c.task != WB_TASK_MULTICLASS && t)) {
        float l = loss_of(m, &f, y, t, cw);
        if (loss) *loss = l;
    } else {
        memcpy(f.prob, f.z, B * C * sizeof(float));
        if (m->c.task == WB_TASK_MULTICLASS)
            for (size_t b = 0; b < B; b++) wb_softmax_row(f.prob + b * C, C);
        else
            wb_sigmoid(f.prob, B * C);
        if (loss) *loss = NAN;
    }
    memcpy(prob, f.prob, B * C * sizeof(float));
    return 0;
}

void wb_model_mem_get(const wb_model *m, wb_model_mem *o) {
    memset(o, 0, sizeof *o);
    o->block_bytes = (uint64_t)m->nparam * (2 + m->nstate) * sizeof(float);
    o->overlay_rows = m->orows;
    o->overlay_bytes = (uint64_t)m->nochunk * OVL_CHUNK_ROWS * m->orow_floats * sizeof(float);
    o->arena_bytes = wb_arena_capacity(m->arena);
    o->embedded_bytes = (uint64_t)m->n_emb * m->c.E * sizeof(float);
}

/* ---- model file --------------------------------------------------------------- */

#define TAG(a, b, c, d) ((uint32_t)(a) | (uint32_t)(b) << 8 | (uint32_t)(c) << 16 | (uint32_t)(d) << 24)
#define TAG_CONF TAG('C', 'O', 'N', 'F')
#define TAG_META TAG('M', 'E', 'T', 'A')
#define TAG_VOCB TAG('V', 'O', 'C', 'B')
#define TAG_PARM TAG('P', 'A', 'R', 'M')
#define TAG_OPTS TAG('O', 'P', 'T', 'S')
#define TAG_OVLY TAG('O', 'V', 'L', 'Y')
#define TAG_EMBD TAG('E', 'M', 'B', 'D')
#define TAG_TRST TAG('T', 'R', 'S', 'T')
static const char model_magic[8] = {'W', 'B', 'M', 'O', 'D', 'E', 'L', 0};

/* The configuration as "key value" lines. */
static char *conf_text(const wb_model *m, size_t *len) {
    const wb_model_cfg *c = &m->c;
    const wb_optim *o = &m->opt;
    char widths[WB_MAX_WIDTHS * 12 + 1] = "", *p = widths;
    for (size_t i = 0; i < c->nwidths; i++) p += sprintf(p, "%s%zu", i ? "," : "", c->widths[i]);
    char *s = NULL;
    int n = asprintf(&s,
                     "kind %s\nembeddings %s\noov %s\ntask %s\nV %zu\nE %zu\nT %zu\nF %zu\nwidths %s\nH %zu\n"
                     "dropout %.9g\nC %zu\nmaxnorm %.9g\nseed %llu\noptimizer %s\nlr %.9g\nbeta1 %.9g\nbeta2 %.9g\n"
                     "eps %.9g\nmomentum %.9g\nrho %.9g\nl2 %.9g\nclipnorm %.9g\nclipvalue %.9g\nstep %llu\n",
                     wb_model_kind_name(c->kind), wb_emb_mode_name(c->emb), wb_oov_mode_name(c->oov),
                     wb_task_name(c->task), c->V, c->E, c->T, c->F, c->nwidths ? widths : "-", c->H,
                     (double)c->dropout, c->C, (double)c->maxnorm, (unsigned long long)c->seed,
                     wb_optim_name(o->kind), (double)o->lr, (double)o->beta1, (double)o->beta2, (double)o->eps,
                     (double)o->momentum, (double)o->rho, (double)o->l2, (double)o->clipnorm,
                     (double)o->clipvalue, (unsigned long long)o->t);
    if (n < 0) return NULL;
    *len = (size_t)n;
    return s;
}

/* Value of `key` in conf text (len bytes), copied into v (cap bytes); 0 or -1. */
static int conf_get(const char *s, size_t len, const char *key, char *v, size_t cap) {
    size_t kl = strlen(key);
    for (size_t i = 0; i < len;) {
        size_t e = i;
        while (e < len && s[e] != '\n') e++;
        if (e - i > kl && !memcmp(s + i, key, kl) && s[i + kl] == ' ') {
            size_t vl = e - i - kl - 1;
            if (vl >= cap) return -1;
            memcpy(v, s + i + kl + 1, vl);
            v[vl] = 0;
            return 0;
        }
        i = e + 1;
    }
    return -1;
}

static int conf_u64(const char *s, size_t len, const char *key, uint64_t *out) {
    char v[64], *end;
    if (conf_get(s, len, key, v, sizeof v) || !v[0]) return -1;
    errno = 0;
    unsigned long long x = strtoull(v, &end, 10);
    if (*end || errno || v[0] == '-') return -1;
    *out = x;
    return 0;
}

static int conf_f(const char *s, size_t len, const char *key, float *out) {
    char v[64], *end;
    if (conf_get(s, len, key, v, sizeof v) || !v[0]) return -1;
    float x = strtof(v, &end);
    if (*end || !isfinite(x)) return -1;
    *out = x;
    return 0;
}

static int conf_parse(const char *s, size_t len, wb_model_cfg *c, wb_optim *o) {
    char v[128];
    uint64_t x;
    memset(c, 0, sizeof *c);
    if (conf_get(s, len, "kind", v, sizeof v) || (x = (uint64_t)(int64_t)wb_model_kind_parse(v)) > 3) return -1;
    c->kind = (wb_model_kind)x;
    if (conf_get(s, len, "embeddings", v, sizeof v) || (x = (uint64_t)(int64_t)wb_emb_mode_parse(v)) > 3) return -1;
    c->emb = (wb_emb_mode)x;
    if (conf_get(s, len, "oov", v, sizeof v) || (x = (uint64_t)(int64_t)wb_oov_mode_parse(v)) > 2) return -1;
    c->oov = (wb_oov_mode)x;
    if (conf_get(s, len, "task", v, sizeof v) || wb_task_parse(v) <= 0) return -1;
    c->task = (wb_task)wb_task_parse(v);
    uint64_t V, E, T, F, H, C, seed, step;
    if (conf_u64(s, len, "V", &V) || conf_u64(s, len, "E", &E) || conf_u64(s, len, "T", &T) ||
        conf_u64(s, len, "F", &F) || conf_u64(s, len, "H", &H) || conf_u64(s, len, "C", &C) ||
        conf_u64(s, len, "seed", &seed) || conf_u64(s, len, "step", &step))
        return -1;
    c->V = V, c->E = E, c->T = T, c->F = F, c->H = H, c->C = C, c->seed = seed;
    if (conf_get(s, len, "widths", v, sizeof v)) return -1;
    if (strcmp(v, "-")) {
        char *p = v, *end;
        while (*p) {
            if (c->nwidths == WB_MAX_WIDTHS || *p < '0' || *p > '9') return -1;
            c->widths[c->nwidths++] = strtoul(p, &end, 10);
            p = *end == ',' ? end + 1 : end;
            if (*end && *end != ',') return -1;
        }
    }
    if (conf_f(s, len, "dropout", &c->dropout) || conf_f(s, len, "maxnorm", &c->maxnorm)) return -1;
    if (conf_get(s, len, "optimizer", v, sizeof v) || wb_optim_parse(v) < 0) return -1;
    wb_optim_init(o, (wb_opt_kind)wb_optim_parse(v));
    if (conf_f(s, len, "lr", &o->lr) || conf_f(s, len, "beta1", &o->beta1) || conf_f(s, len, "beta2", &o->beta2) ||
        conf_f(s, len, "eps", &o->eps) || conf_f(s, len, "momentum", &o->momentum) || conf_f(s, len, "rho", &o->rho) ||
        conf_f(s, len, "l2", &o->l2) || conf_f(s, len, "clipnorm", &o->clipnorm) ||
        conf_f(s, len, "clipvalue", &o->clipvalue))
        return -1;
    o->t = step;
    return 0;
}

static void section(wb_awriter *w, uint32_t tag, uint64_t len) {
    wb_aw_u32(w, tag);
    wb_aw_u32(w, 0);
    wb_aw_u64(w, len);
}

int wb_model_save(wb_model *m, const char *path, const wb_model_file *f, wb_err *e) {
    size_t clen = 0, E = m->c.E;
    char *conf = conf_text(m, &clen);
    if (!conf) return wb_err_set(e, WB_ENOMEM, "out of memory");
    /* Embedded rows: every id the store resolves. */
    size_t n_emb = 0;
    int embed = f->embed_vectors && needs_store(m) && m->attached;
    if (embed)
        for (size_t i = 0; i < m->c.V; i++) n_emb += m->row[i] >= 0;
    wb_awriter w;
    int rc = wb_aw_open(&w, path);
    if (rc) {
        free(conf);
        return wb_err_at(e, rc, path, 0, -1, "cannot create the model file: %s", wb_strerror(rc));
    }
    wb_aw_write(&w, model_magic, 8);
    wb_aw_u32(&w, WB_MODEL_VERSION);
    wb_aw_u32(&w, (f->trainer ? 1u : 0u) | (embed ? 2u : 0u));
    wb_aw_u64(&w, f->fingerprint);
    section(&w, TAG_CONF, clen);
    wb_aw_write(&w, conf, clen);
    free(conf);
    size_t mlen = f->meta ? strlen(f->meta) + 1 : 1;
    section(&w, TAG_META, mlen);
    wb_aw_write(&w, f->meta ? f->meta : "", mlen);
    if (f->vocab) {
        section(&w, TAG_VOCB, f->vocab_len);
        wb_aw_write(&w, f->vocab, f->vocab_len);
    }
    section(&w, TAG_PARM, m->nparam * sizeof(float));
    wb_aw_write(&w, m->block, m->nparam * sizeof(float));
    if (f->with_optimizer) {
        section(&w, TAG_OPTS, m->nparam * m->nstate * sizeof(float));
        wb_aw_write(&w, m->block + 2 * m->nparam, m->nparam * m->nstate * sizeof(float));
    }
    size_t rowf = f->with_optimizer ? m->orow_floats : E;
    section(&w, TAG_OVLY, 16 + m->orows * (4 + rowf * sizeof(float)));
    wb_aw_u64(&w, m->orows);
    wb_aw_u32(&w, f->with_optimizer ? 1 : 0);
    wb_aw_u32(&w, 0);
    for (size_t s = 0; s < m->orows; s++) {
        wb_aw_u32(&w, (uint32_t)m->oid[s]);
        wb_aw_write(&w, ovl_row(m, (int32_t)s), rowf * sizeof(float));
    }
    if (embed) {
        section(&w, TAG_EMBD, 8 + n_emb * (4 + E * sizeof(float)));
        wb_aw_u64(&w, n_emb);
        float *buf = malloc(E * sizeof *buf);
        if (!buf) {
            wb_aw_abort(&w);
            return wb_err_set(e, WB_ENOMEM, "out of memory");
        }
        for (size_t i = 0; i < m->c.V; i++) {
            if (m->row[i] < 0) continue;
            uint32_t r = (uint32_t)m->row[i];
            if (m->embedded)
                memcpy(buf, m->embedded + (size_t)r * E, E * sizeof(float));
            else
                wb_store_gather(m->st, 1, &r, buf);
            wb_aw_u32(&w, (uint32_t)i);
            wb_aw_write(&w, buf, E * sizeof(float));
        }
        free(buf);
    }
    if (f->trainer) {
        section(&w, TAG_TRST, f->trainer_len);
        wb_aw_write(&w, f->trainer, f->trainer_len);
    }
    rc = wb_aw_commit(&w);
    if (rc) return wb_err_at(e, rc, path, 0, -1, "cannot write the model file: %s", wb_strerror(rc));
    return 0;
}

#define CORRUPT(...) (wb_err_at(e, WB_ECORRUPT, path, 0, -1, __VA_ARGS__))

int wb_model_load(wb_model **out, const char *path, size_t max_batch, wb_model_file *of, void **blob, wb_err *e) {
    *out = NULL, *blob = NULL;
    memset(of, 0, sizeof *of);
    unsigned char *b;
    size_t len;
    int rc = wb_read_file(path, &b, &len);
    if (rc) return wb_err_at(e, rc, path, 0, -1, "cannot read the model file: %s", wb_strerror(rc));
    wb_model *m = NULL;
    if (len < 32 || memcmp(b, model_magic, 8)) {
        rc = CORRUPT("not a wordbench model file (bad magic)");
        goto fail;
    }
    if (XXH3_64bits(b, len - 8) != wb_get64(b + len - 8)) {
        rc = CORRUPT("checksum mismatch: the model file is damaged or truncated");
        goto fail;
    }
    if (wb_get32(b + 8) != WB_MODEL_VERSION) {
        rc = wb_err_at(e, WB_EVERSION, path, 0, -1, "model file version %u; this build reads version %u: retrain the model",
                       wb_get32(b + 8), WB_MODEL_VERSION);
        goto fail;
    }
    of->fingerprint = wb_get64(b + 16);
    const unsigned char *sec[9] = {0};
    uint64_t slen[9] = {0};
    static const uint32_t tags[9] = {TAG_CONF, TAG_META, TAG_VOCB, TAG_PARM, TAG_OPTS, TAG_OVLY, TAG_EMBD, TAG_TRST, 0};
    for (size_t p = 24; p < len - 8;) {
        if (len - 8 - p < 16) {
            rc = CORRUPT("section header cut at byte %zu", p);
            goto fail;
        }
        uint32_t tag = wb_get32(b + p);
        uint64_t l = wb_get64(b + p + 8);
        p += 16;
        if (l > len - 8 - p) {
            rc = CORRUPT("section at byte %zu runs past the end", p - 16);
            goto fail;
        }
        for (int i = 0; i < 8; i++)
            if (tags[i] == tag) sec[i] = b + p, slen[i] = l;
        p += l;
    }
    wb_model_cfg c;
    wb_optim o;
    if (!sec[0] || conf_parse((const char *)sec[0], slen[0], &c, &o)) {
        rc = CORRUPT("configuration missing or unreadable");
        goto fail;
    }
    /* Bound what wb_model_create allocates by what the file holds, before
     * allocating: the dense parameters must be exactly the PARM section
     * (their count follows from the configuration: the non-embedding rows
     * of the layer table), and every id costs at least one byte of the
     * file (a vocabulary entry takes 12), so V cannot exceed its size.
     * Without this a few edited CONF digits made the loader allocate and
     * fill gigabytes (24 bytes per id, 2-4 floats per parameter). */
    wb_err ce; /* not e: its message is an argument of the one formatted into e */
    if (wb_model_cfg_check(&c, &ce)) {
        rc = CORRUPT("bad configuration: %s", ce.msg);
        goto fail;
    }
    if (c.V > len) {
        rc = CORRUPT("vocabulary size %zu is larger than the file (%zu bytes)", c.V, len);
        goto fail;
    }
    wb_layer_info li[4 + 2 * WB_MAX_WIDTHS + 4];
    size_t nl = wb_model_layers(&c, li, sizeof li / sizeof li[0]);
    uint64_t want = 0;
    for (size_t i = 0; i < nl && i < sizeof li / sizeof li[0]; i++)
        if (strcmp(li[i].type, "Embedding")) want += li[i].params;
    if (!sec[3] || slen[3] % sizeof(float) || slen[3] / sizeof(float) != want) {
        rc = CORRUPT("parameters missing or of the wrong size");
        goto fail;
    }
    rc = wb_model_create(&m, &c, &o, max_batch, &ce);
    if (rc) {
        if (rc == WB_EUSAGE) rc = CORRUPT("bad configuration: %s", ce.msg);
        else rc = wb_err_at(e, rc, path, 0, -1, "%s", ce.msg);
        goto fail;
    }
    m->opt = o;
    size_t E = c.E;
    if (!sec[3] || slen[3] != m->nparam * sizeof(float)) {
        rc = CORRUPT("parameters missing or of the wrong size");
        goto fail;
    }
    memcpy(m->block, sec[3], slen[3]);
    if (sec[4]) {
        if (slen[4] != m->nparam * m->nstate * sizeof(float)) {
            rc = CORRUPT("optimizer state of the wrong size");
            goto fail;
        }
        memcpy(m->block + 2 * m->nparam, sec[4], slen[4]);
    }
    if (sec[5]) {
        if (slen[5] < 16) {
            rc = CORRUPT("overlay section too short");
            goto fail;
        }
        uint64_t n = wb_get64(sec[5]);
        int with_state = wb_get32(sec[5] + 8) == 1;
        size_t rowf = with_state ? m->orow_floats : E, rb = 4 + rowf * sizeof(float);
        if (n > c.V || slen[5] != 16 + n * rb) {
            rc = CORRUPT("overlay section of the wrong size");
            goto fail;
        }
        float *zero = calloc(E, sizeof *zero);
        if (!zero) {
            rc = wb_err_set(e, WB_ENOMEM, "out of memory");
            goto fail;
        }
        for (uint64_t i = 0; i < n; i++) {
            const unsigned char *q = sec[5] + 16 + i * rb;
            uint32_t id = wb_get32(q);
            if (id == 0 || id >= c.V || m->slot[id] >= 0) {
                free(zero);
                rc = CORRUPT("overlay row %llu has a bad id", (unsigned long long)i);
                goto fail;
            }
            int32_t s = ovl_get(m, (int32_t)id, zero);
            if (s < 0) {
                free(zero);
                rc = wb_err_set(e, WB_ENOMEM, "out of memory");
                goto fail;
            }
            memcpy(ovl_row(m, s), q + 4, rowf * sizeof(float));
        }
        free(zero);
    }
    if (sec[6]) {
        uint64_t n = slen[6] >= 8 ? wb_get64(sec[6]) : 0;
        size_t rb = 4 + E * sizeof(float);
        if (slen[6] < 8 || n > c.V || slen[6] != 8 + n * rb) {
            rc = CORRUPT("embedded vectors section of the wrong size");
            goto fail;
        }
        m->embedded = malloc((n ? n : 1) * E * sizeof(float));
        if (!m->embedded) {
            rc = wb_err_set(e, WB_ENOMEM, "out of memory for %llu embedded rows", (unsigned long long)n);
            goto fail;
        }
        for (uint64_t i = 0; i < n; i++) {
            const unsigned char *q = sec[6] + 8 + i * rb;
            uint32_t id = wb_get32(q);
            if (id < 2 || id >= c.V || m->row[id] >= 0) {
                rc = CORRUPT("embedded row %llu has a bad id", (unsigned long long)i);
                goto fail;
            }
            memcpy(m->embedded + i * E, q + 4, E * sizeof(float));
            m->row[id] = (int64_t)i;
        }
        m->n_emb = n;
        m->attached = 1;
        if (c.oov != WB_OOV_ZERO) oov_scale(m);
    }
    if (!sec[1] || !slen[1] || sec[1][slen[1] - 1]) {
        rc = CORRUPT("meta text missing");
        goto fail;
    }
    of->meta = (const char *)sec[1];
    of->vocab = sec[2], of->vocab_len = sec[2] ? slen[2] : 0;
    of->trainer = sec[7], of->trainer_len = sec[7] ? slen[7] : 0;
    of->with_optimizer = sec[4] != NULL;
    of->embed_vectors = sec[6] != NULL;
    *out = m;
    *blob = b;
    return 0;
fail:
    wb_model_destroy(m);
    free(b);
    return rc;
}

/* ---- low level ------------------------------------------------------------ */

size_t wb_model_ntensors(const wb_model *m) { return m->nts; }

const char *wb_model_tensor(wb_model *m, size_t i, float **w, float **g, size_t *n, size_t *rows, size_t *cols) {
    if (i >= m->nts) return NULL;
    tensor *t = m->ts[i];
    if (w) *w = t->w;
    if (g) *g = t->g;
    if (n) *n = t->n;
    if (rows) *rows = t->rows;
    if (cols) *cols = t->cols;
    return t->name;
}

int wb_model_get_row(wb_model *m, int32_t id, float *out, wb_err *e) {
    if (id < 0 || (size_t)id >= m->c.V) return wb_err_set(e, WB_EUSAGE, "id %d out of range", id);
    size_t E = m->c.E;
    if (m->slot[id] >= 0) {
        memcpy(out, ovl_row(m, m->slot[id]), E * sizeof *out);
        return 0;
    }
    if (trainable(m, id) && m->c.emb == WB_EMB_LEARNED) {
        random_row(m, id, 0.05f, out);
        return 0;
    }
    if (fixed_value(m, id, out)) {
        if (m->embedded) {
            memcpy(out, m->embedded + (size_t)m->row[id] * E, E * sizeof *out);
        } else {
            uint32_t r = (uint32_t)m->row[id];
            if (!m->st || wb_store_gather(m->st, 1, &r, out)) return wb_err_set(e, WB_EUSAGE, "no store attached");
        }
    }
    return 0;
}

int wb_model_set_row(wb_model *m, int32_t id, const float *v, wb_err *e) {
    if (id <= 0 || (size_t)id >= m->c.V) return wb_err_set(e, WB_EUSAGE, "id %d: not a settable row", id);
    if (!trainable(m, id)) return wb_err_set(e, WB_EUSAGE, "row %d is not trainable with these embeddings", id);
    int32_t s = ovl_get(m, id, v);
    if (s < 0) return wb_err_set(e, WB_ENOMEM, "out of memory for the embedding overlay");
    memcpy(ovl_row(m, s), v, m->c.E * sizeof *v);
    return 0;
}
