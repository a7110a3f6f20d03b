/*
 * model.c — the model of model.h as a graph of parts (model_int.h): the
 * configuration, the plan of the graph and its summary table, the
 * parameter block, the embedding sources seen from outside, the training
 * step (forward over the parts, merge, head, loss, backward, optimizer) and
 * inference.  It loops over parts and never switches on their kinds; the
 * one place that maps a configuration's kind to a table of operations is
 * part_ops().
 *
 * Leaves out: the layers (part_*.c, head.c), the embedding tables (emb.c),
 * the model file (modelfile.c), the step split over lanes (lanes.c);
 * per-example weights.
 */
#include "wordbench/model.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "model/model_int.h"
#include "wordbench/eval.h"
#include "wordbench/nn.h"

/* ---- names ------------------------------------------------------------- */

static const char *const kind_names[] = {"dense", "pool", "tutorial", "kim", "charcnn", "lstm", "gru", "bow"};
static const char *const emb_names[] = {"frozen", "finetune", "learned", "multichannel"};
static const char *const oov_names[] = {"zero", "random", "learn"};
#define NKINDS (sizeof kind_names / sizeof kind_names[0])

static int parse_name(const char *s, const char *const *names, int n) {
    for (int i = 0; s && i < n; i++)
        if (!strcmp(s, names[i])) return i;
    return -1;
}

const char *wb_model_kind_name(wb_model_kind k) { return (unsigned)k < NKINDS ? kind_names[k] : "?"; }
int wb_model_kind_parse(const char *s) { return parse_name(s, kind_names, (int)NKINDS); }
const char *wb_emb_mode_name(wb_emb_mode m) { return (unsigned)m < 4 ? emb_names[m] : "?"; }
int wb_emb_mode_parse(const char *s) { return parse_name(s, emb_names, 4); }
const char *wb_oov_mode_name(wb_oov_mode m) { return (unsigned)m < 3 ? oov_names[m] : "?"; }
int wb_oov_mode_parse(const char *s) { return parse_name(s, oov_names, 3); }

/* The table of operations of the part a text input of kind k gets. */
static const wb_part_ops *part_ops(wb_model_kind k) {
    switch (k) {
    case WB_MODEL_DENSE: return &wb_part_flat;
    case WB_MODEL_POOL: return &wb_part_pool;
    case WB_MODEL_CHARCNN: return &wb_part_charcnn;
    case WB_MODEL_LSTM:
    case WB_MODEL_GRU: return &wb_part_rnn;
    case WB_MODEL_BOW: return &wb_part_bow;
    default: return &wb_part_conv;
    }
}

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
    case WB_MODEL_CHARCNN: {
        static const size_t zw[6] = {7, 7, 3, 3, 3, 3};
        c->F = 256, c->nwidths = 6;
        memcpy(c->widths, zw, sizeof zw);
        c->H = 1024, c->nhidden = 2, c->hidden_dropout = 0.5f;
        break;
    }
    case WB_MODEL_LSTM:
    case WB_MODEL_GRU:
        c->units = 100, c->H = 0;
        break;
    case WB_MODEL_BOW:
        c->H = 0, c->ngrams = 1;
        break;
    default:
        break;
    }
}

static int is_conv(const wb_model_cfg *c) {
    return c->kind == WB_MODEL_TUTORIAL || c->kind == WB_MODEL_KIM || c->kind == WB_MODEL_CHARCNN;
}
static int is_rnn(const wb_model_cfg *c) { return c->kind == WB_MODEL_LSTM || c->kind == WB_MODEL_GRU; }

size_t wb_model_nhidden(const wb_model_cfg *c) { return !c->H ? 0 : c->nhidden ? c->nhidden : 1; }

/* Every field is checked whatever the kind (a field a kind does not use
 * must still be in range: it is saved, printed and read back). */
int wb_model_cfg_check(const wb_model_cfg *c, wb_err *e) {
    if ((unsigned)c->kind >= NKINDS) return wb_err_set(e, WB_EUSAGE, "unknown model kind");
    if ((unsigned)c->emb > WB_EMB_MULTICHANNEL) return wb_err_set(e, WB_EUSAGE, "unknown embedding mode");
    if ((unsigned)c->oov > WB_OOV_LEARN) return wb_err_set(e, WB_EUSAGE, "unknown oov mode");
    if (c->V < 2) return wb_err_set(e, WB_EUSAGE, "vocabulary size %zu: need at least 2 (padding and OOV)", c->V);
    if (c->V > INT32_MAX) return wb_err_set(e, WB_EUSAGE, "vocabulary size %zu too large", c->V);
    if (c->E < 1 || c->E > WB_MAX_E) return wb_err_set(e, WB_EUSAGE, "embedding dim %zu out of range 1..%d", c->E, WB_MAX_E);
    if (c->T < 1 || c->T > WB_MAX_T) return wb_err_set(e, WB_EUSAGE, "maxlen %zu out of range 1..%d", c->T, WB_MAX_T);
    if (!(c->dropout >= 0 && c->dropout < 1)) return wb_err_set(e, WB_EUSAGE, "dropout %g not in [0, 1)", c->dropout);
    if (!(c->maxnorm >= 0) || !isfinite(c->maxnorm)) return wb_err_set(e, WB_EUSAGE, "max-norm %g is negative", c->maxnorm);
    if (c->task != WB_TASK_BINARY && c->task != WB_TASK_MULTICLASS && c->task != WB_TASK_MULTILABEL)
        return wb_err_set(e, WB_EUSAGE, "the task must be binary, multiclass or multilabel");
    if (c->C < 1 || c->C > WB_MAX_C) return wb_err_set(e, WB_EUSAGE, "%zu outputs: need 1..%d", c->C, WB_MAX_C);
    if (c->task == WB_TASK_BINARY && c->C != 1) return wb_err_set(e, WB_EUSAGE, "a binary task has one output, not %zu", c->C);
    if (c->H > WB_MAX_UNITS) return wb_err_set(e, WB_EUSAGE, "hidden units %zu out of range 0..%d", c->H, WB_MAX_UNITS);
    if (c->F > WB_MAX_UNITS || (is_conv(c) && c->F < 1))
        return wb_err_set(e, WB_EUSAGE, "filters %zu out of range 1..%d", c->F, WB_MAX_UNITS);
    if (c->nwidths > WB_MAX_WIDTHS || (is_conv(c) && c->nwidths < 1))
        return wb_err_set(e, WB_EUSAGE, "%zu convolution widths: need 1..%d", c->nwidths, WB_MAX_WIDTHS);
    for (size_t i = 0; i < c->nwidths; i++)
        if (c->widths[i] < 1 || c->widths[i] > c->T)
            return wb_err_set(e, WB_EUSAGE, "convolution width %zu must be in 1..maxlen (%zu)", c->widths[i], c->T);
    if (c->nhidden > WB_MAX_HIDDEN) return wb_err_set(e, WB_EUSAGE, "%zu hidden layers: at most %d", c->nhidden, WB_MAX_HIDDEN);
    if (!(c->hidden_dropout >= 0 && c->hidden_dropout < 1))
        return wb_err_set(e, WB_EUSAGE, "hidden dropout %g not in [0, 1)", c->hidden_dropout);
    if (c->units > WB_MAX_UNITS || (is_rnn(c) && c->units < 1))
        return wb_err_set(e, WB_EUSAGE, "recurrent units %zu out of range 1..%d", c->units, WB_MAX_UNITS);
    if ((unsigned)c->bidirectional > 1) return wb_err_set(e, WB_EUSAGE, "bidirectional must be 0 or 1");
    if ((unsigned)c->rnn_pool > WB_RNN_MAX) return wb_err_set(e, WB_EUSAGE, "unknown recurrent pooling");
    if ((unsigned)c->bow > WB_BOW_TFIDF) return wb_err_set(e, WB_EUSAGE, "unknown bag-of-words weighting");
    if (c->ngrams > WB_MAX_NGRAMS || (c->kind == WB_MODEL_BOW && c->ngrams < 1))
        return wb_err_set(e, WB_EUSAGE, "n-grams up to %zu: need 1..%d", c->ngrams, WB_MAX_NGRAMS);
    if (c->D > INT32_MAX) return wb_err_set(e, WB_EUSAGE, "%zu bag-of-words features: too many", c->D);
    if (c->kind == WB_MODEL_BOW && (c->emb != WB_EMB_LEARNED || c->H || c->dropout > 0 || c->maxnorm > 0))
        return wb_err_set(e, WB_EUSAGE,
                          "the bag-of-words model is a logistic regression: no store, hidden layer, dropout or max-norm");
    size_t nt = wb_model_cfg_ninputs(c);
    if (nt > WB_MAX_INPUTS) return wb_err_set(e, WB_EUSAGE, "%zu text inputs: at most %d", nt, WB_MAX_INPUTS);
    for (size_t k = 1; k < nt; k++) {
        if (c->text_V[k] < 2 || c->text_V[k] > INT32_MAX)
            return wb_err_set(e, WB_EUSAGE, "text input %zu: vocabulary size %zu out of range 2..%d", k + 1, c->text_V[k], INT32_MAX);
        if (c->text_T[k] < 1 || c->text_T[k] > WB_MAX_T)
            return wb_err_set(e, WB_EUSAGE, "text input %zu: maxlen %zu out of range 1..%d", k + 1, c->text_T[k], WB_MAX_T);
        for (size_t i = 0; i < c->nwidths; i++)
            if (c->widths[i] > c->text_T[k])
                return wb_err_set(e, WB_EUSAGE, "convolution width %zu must be in 1..maxlen (%zu) of text input %zu", c->widths[i],
                                  c->text_T[k], k + 1);
    }
    for (size_t k = 0; k < WB_MAX_INPUTS; k++)
        if (!memchr(c->text_name[k], 0, sizeof c->text_name[k])) return wb_err_set(e, WB_EUSAGE, "input name %zu too long", k + 1);
    if (c->nfeat > WB_MAX_FEATURES) return wb_err_set(e, WB_EUSAGE, "%zu numeric features: at most %d", c->nfeat, WB_MAX_FEATURES);
    if (c->feat_dense > WB_MAX_UNITS || (c->feat_dense && !c->nfeat))
        return wb_err_set(e, WB_EUSAGE, "feature Dense of %zu units%s", c->feat_dense, c->nfeat ? ": too many" : " without features");
    if (c->kind == WB_MODEL_BOW && (nt > 1 || c->nfeat))
        return wb_err_set(e, WB_EUSAGE, "the bag-of-words model reads one text and no numeric features");
    for (size_t k = 0; c->kind == WB_MODEL_CHARCNN && k < nt; k++) {
        size_t T = wb_model_cfg_T(c, k), L = T;
        for (size_t i = 0; i < c->nwidths; i++) {
            if (L < c->widths[i]) L = 0;
            else L = L - c->widths[i] + 1;
            if (i < 2 || i + 1 == c->nwidths) L /= 3;
            if (!L)
                return wb_err_set(e, WB_EUSAGE, "maxlen %zu is too short for the character CNN's %zu convolutions and 3 pools",
                                  T, c->nwidths);
        }
    }
    if (c->kind == WB_MODEL_CHARCNN) {
        if (c->emb != WB_EMB_LEARNED) return wb_err_set(e, WB_EUSAGE, "the character CNN reads one-hot characters: no store");
    }
    return 0;
}

/* ---- summary rows ---------------------------------------------------------- */

/* 1 when a row before L->n is named `name`. */
static int name_taken(const wb_layers *L, const char *name) {
    for (size_t i = 0; i < L->n && i < L->cap; i++)
        if (!strcmp(L->out[i].name, name)) return 1;
    return 0;
}

void wb_layers_add(wb_layers *L, const char *name, const char *type, int ndim, size_t s0, size_t s1,
                   uint64_t params, uint64_t trainable, const char *inbound) {
    if (L->out && L->n < L->cap) {
        wb_layer_info *l = &L->out[L->n];
        const char *prev = L->n ? L->out[L->n - 1].name : "";
        char nm[sizeof l->name];
        snprintf(nm, sizeof nm, "%s", name);
        for (unsigned k = 1; name_taken(L, nm) && k < 1000; k++) snprintf(nm, sizeof nm, "%.40s_%u", name, k % 1000u); /* Keras: name_1, ... */
        memset(l, 0, sizeof *l);
        snprintf(l->name, sizeof l->name, "%s", nm);
        snprintf(l->type, sizeof l->type, "%s", type);
        snprintf(l->connected, sizeof l->connected, "%s", inbound ? inbound : prev);
        l->ndim = ndim, l->shape[0] = s0, l->shape[1] = s1;
        l->params = params, l->trainable = trainable;
    }
    L->n++;
}

const char *wb_layers_last(const wb_layers *L) {
    if (!L->out || !L->n || L->n > L->cap) return "";
    return L->out[L->n - 1].name;
}

void wb_part_text_table(wb_part *p, const wb_model_cfg *c) {
    p->has_emb = 1;
    wb_emb_plan(&p->emb, c->emb, c->oov, p->V, p->E, p->seed, 0);
    p->Ei = p->emb.Ei;
}

void wb_part_embedding_layers(const wb_part *p, wb_layers *L, const char *in) {
    uint64_t VE = (uint64_t)p->V * p->E;
    char nm[48], a[48], b[48];
    switch (p->emb.mode) {
    case WB_EMB_FROZEN:
        snprintf(nm, sizeof nm, "%sembedding", p->prefix);
        wb_layers_add(L, nm, "Embedding", 2, p->T, p->E, VE, 0, in);
        break;
    case WB_EMB_MULTICHANNEL:
        snprintf(a, sizeof a, "%sembedding_static", p->prefix);
        snprintf(b, sizeof b, "%sembedding_tuned", p->prefix);
        wb_layers_add(L, a, "Embedding", 2, p->T, p->E, VE, 0, in);
        char inb[100];
        snprintf(inb, sizeof inb, "%s,", wb_layers_last(L));
        wb_layers_add(L, b, "Embedding", 2, p->T, p->E, VE, VE, in);
        snprintf(inb + strlen(inb), sizeof inb - strlen(inb), "%s", wb_layers_last(L));
        snprintf(nm, sizeof nm, "%sconcatenate", p->prefix);
        wb_layers_add(L, nm, "Concatenate", 2, p->T, p->Ei, 0, 0, inb);
        break;
    default:
        snprintf(nm, sizeof nm, "%sembedding", p->prefix);
        wb_layers_add(L, nm, "Embedding", 2, p->T, p->E, VE, VE, in);
        break;
    }
}

/* ---- the graph -------------------------------------------------------------- */

wb_tensor *wb_part_tensor(wb_part *p, const char *name, size_t rows, size_t cols) {
    wb_tensor *t = &p->t[p->nt++];
    memset(t, 0, sizeof *t);
    snprintf(t->name, sizeof t->name, "%s", name);
    t->rows = rows, t->cols = cols, t->n = rows * cols;
    return t;
}

int wb_graph_plan(wb_graph *g, const wb_model_cfg *c, wb_err *e) {
    memset(g, 0, sizeof *g);
    size_t nt = wb_model_cfg_ninputs(c);
    for (size_t k = 0; k < nt; k++) {
        wb_part *p = &g->part[g->nparts];
        p->ops = part_ops(c->kind);
        p->idx = g->nparts, p->input = (int)k;
        p->V = k ? c->text_V[k] : c->V, p->T = k ? c->text_T[k] : c->T, p->E = c->E, p->Ei = c->E;
        /* input 0's rows come from the model's seed, as with one input */
        p->seed = c->seed + k * 0x9E3779B97F4A7C15ull;
        if (nt > 1) { /* layer names of several inputs carry the column's name */
            if (c->text_name[k][0]) snprintf(p->prefix, sizeof p->prefix, "%.22s_", c->text_name[k]);
            else snprintf(p->prefix, sizeof p->prefix, "input%u_", (unsigned)k + 1);
        }
        int rc = p->ops->plan(p, c, e);
        if (rc) return rc;
        g->nparts++;
    }
    if (c->nfeat) {
        wb_part *p = &g->part[g->nparts];
        p->ops = &wb_part_feat;
        p->idx = g->nparts, p->input = -1;
        int rc = p->ops->plan(p, c, e);
        if (rc) return rc;
        g->nparts++;
    }
    size_t off = 0;
    for (size_t i = 0; i < g->nparts; i++) {
        wb_part *q = &g->part[i];
        q->col = g->Ff;
        g->Ff += q->W;
        for (size_t k = 0; k < q->nt; k++) q->t[k].off = off, off += q->t[k].n, g->ts[g->nts++] = &q->t[k];
    }
    wb_head_plan(&g->head, c, g->Ff);
    for (size_t k = 0; k < g->head.nt; k++) g->head.t[k].off = off, off += g->head.t[k].n, g->ts[g->nts++] = &g->head.t[k];
    g->nparam = off;
    return 0;
}

/* The summary rows of a plan. */
static void graph_layers(const wb_graph *g, wb_layers *L) {
    char last[WB_MAX_PARTS][48];
    for (size_t i = 0; i < g->nparts; i++) {
        const wb_part *p = &g->part[i];
        char in[48] = "";
        if (p->input >= 0) { /* a text input: its InputLayer row, then the part's */
            if (p->prefix[0]) snprintf(in, sizeof in, "%.*s", (int)strlen(p->prefix) - 1, p->prefix); /* "subject_" */
            else snprintf(in, sizeof in, "input_%d", p->input + 1);
            wb_layers_add(L, in, "InputLayer", 1, p->T, 0, 0, 0, "");
            snprintf(in, sizeof in, "%s", wb_layers_last(L));
        }
        p->ops->layers(p, L, in);
        snprintf(last[i], sizeof last[i], "%s", wb_layers_last(L));
    }
    if (g->nparts > 1) { /* the merge */
        char inb[WB_MAX_PARTS * 49] = "";
        size_t o = 0;
        for (size_t i = 0; i < g->nparts; i++) o += (size_t)snprintf(inb + o, sizeof inb - o, "%s%s", i ? "," : "", last[i]);
        wb_layers_add(L, "concatenate", "Concatenate", 1, g->Ff, 0, 0, 0, inb);
        snprintf(last[0], sizeof last[0], "%s", wb_layers_last(L));
    }
    wb_head_layers(&g->head, L, last[0]);
}

size_t wb_model_layers(const wb_model_cfg *c, wb_layer_info *out, size_t cap) {
    wb_graph *g = malloc(sizeof *g);
    if (!g) return 0;
    wb_layers L = {.out = out, .cap = cap};
    if (!wb_graph_plan(g, c, NULL)) graph_layers(g, &L);
    free(g);
    return L.n;
}

uint64_t wb_graph_bytes(const wb_graph *g, size_t nstate, size_t max_batch) {
    uint64_t b = (uint64_t)g->nparam * (2 + nstate) * sizeof(float) + sizeof(wb_model);
    uint64_t arena = wb_head_step_bytes(&g->head, max_batch);
    for (size_t i = 0; i < g->nparts; i++) {
        const wb_part *p = &g->part[i];
        if (p->has_emb) b += wb_emb_bytes(p->emb.V);
        arena += p->ops->step_bytes(p, max_batch);
    }
    return b + arena;
}

uint64_t wb_model_max_memory_default(void) {
    long pages = sysconf(_SC_PHYS_PAGES), psz = sysconf(_SC_PAGESIZE);
    uint64_t ram = pages > 0 && psz > 0 ? (uint64_t)pages * (uint64_t)psz : (uint64_t)4 << 30;
    uint64_t lim = ram / 2;
    struct rlimit rl;
    if (!getrlimit(RLIMIT_AS, &rl) && rl.rlim_cur != RLIM_INFINITY && (uint64_t)rl.rlim_cur / 2 < lim)
        lim = (uint64_t)rl.rlim_cur / 2;
    return lim;
}

/* ---- create / destroy --------------------------------------------------- */

int wb_model_create(wb_model **out, const wb_model_cfg *c, const wb_optim *opt, size_t max_batch, wb_err *e) {
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
    if ((rc = wb_graph_plan(&m->g, c, e))) {
        free(m);
        return rc;
    }
    wb_graph *g = &m->g;
    size_t np = m->nparam = g->nparam;
    size_t nblock = np * (2 + m->nstate);
    m->block = calloc(nblock ? nblock : 1, sizeof(float));
    m->arena = wb_arena_create(0);
    if (!m->block || !m->arena) {
        wb_model_destroy(m);
        return wb_err_set(e, WB_ENOMEM, "out of memory for the model (%zu parameters)", np);
    }
    for (size_t i = 0; i < g->nts; i++) {
        wb_tensor *t = g->ts[i];
        t->w = m->block + t->off;
        t->g = m->block + np + t->off;
        t->s = m->block + 2 * np + t->off * m->nstate;
    }
    for (size_t i = 0; i < g->nparts; i++) {
        wb_part *p = &g->part[i];
        if (p->nfeat) { /* standardisation: identity until fitted */
            p->fmean = calloc(p->nfeat, sizeof *p->fmean), p->fstd = malloc(p->nfeat * sizeof *p->fstd);
            if (!p->fmean || !p->fstd) {
                wb_model_destroy(m);
                return wb_err_set(e, WB_ENOMEM, "out of memory");
            }
            for (size_t j = 0; j < p->nfeat; j++) p->fstd[j] = 1;
        }
        if (!p->has_emb) continue;
        p->emb.nstate = m->nstate;
        p->emb.orow_floats = (1 + m->nstate) * p->emb.E;
        if ((rc = wb_emb_alloc(&p->emb, e))) {
            wb_model_destroy(m);
            return rc;
        }
    }
    wb_rng r;
    wb_rng_init(&r, c->seed ^ 0xC0FFEEull);
    for (size_t i = 0; i < g->nparts; i++) g->part[i].ops->init(&g->part[i], &r);
    wb_head_init(&g->head, &r);
    *out = m;
    return 0;
}

void wb_model_destroy(wb_model *m) {
    if (!m) return;
    for (size_t i = 0; i < m->g.nparts; i++) {
        wb_part *p = &m->g.part[i];
        wb_emb_free(&p->emb);
        free(p->fmean), free(p->fstd);
        if (p->ops->destroy) p->ops->destroy(p);
    }
    wb_lanes_free(m);
    wb_catchup_free(&m->cu);
    free(m->cw);
    free(m->block);
    wb_arena_destroy(m->arena);
    free(m);
}

const wb_model_cfg *wb_model_cfg_get(const wb_model *m) { return &m->c; }
wb_optim *wb_model_optim(wb_model *m) { return &m->opt; }

/* The part reading text input k (text parts come first, in input order),
 * or NULL. */
static wb_part *text_part(const wb_model *m, size_t k) {
    if (k >= wb_model_cfg_ninputs(&m->c)) return NULL;
    return (wb_part *)&m->g.part[k];
}

/* The embedding table of text input 0. */
static wb_emb *table0(const wb_model *m) { return &text_part(m, 0)->emb; }

int wb_model_ready(const wb_model *m) {
    for (size_t i = 0; i < m->g.nparts; i++) {
        const wb_part *p = &m->g.part[i];
        if (p->has_emb && wb_emb_needs_store(&p->emb) && !p->emb.attached) return 0;
    }
    return 1;
}

int wb_model_has_embedded(const wb_model *m) {
    for (size_t i = 0; i < m->g.nparts; i++)
        if (m->g.part[i].has_emb && m->g.part[i].emb.embedded) return 1;
    return 0;
}

int wb_model_attach_store(wb_model *m, wb_store *st, const int64_t *rows, wb_err *e) {
    return wb_emb_attach(table0(m), st, rows, e);
}

int wb_model_attach_input(wb_model *m, size_t k, wb_store *st, const int64_t *rows, wb_err *e) {
    wb_part *p = text_part(m, k);
    if (!p) return wb_err_set(e, WB_EUSAGE, "text input %zu: the model has %zu", k + 1, wb_model_cfg_ninputs(&m->c));
    return wb_emb_attach(&p->emb, st, rows, e);
}

int wb_model_adopt_store(wb_model *dst, const wb_model *src, wb_err *e) {
    const wb_model_cfg *a = &dst->c, *b = &src->c;
    const char *diff = a->kind != b->kind ? "model" : a->emb != b->emb ? "embeddings" : a->oov != b->oov ? "oov"
                     : a->task != b->task ? "task" : a->V != b->V ? "vocabulary size" : a->E != b->E ? "emb-dim"
                     : a->T != b->T ? "maxlen" : a->F != b->F ? "filters" : a->H != b->H ? "hidden"
                     : a->C != b->C ? "labels" : a->nwidths != b->nwidths || memcmp(a->widths, b->widths, a->nwidths * sizeof *a->widths) ? "widths"
                     : a->nhidden != b->nhidden || a->hidden_dropout != b->hidden_dropout ? "hidden layers"
                     : a->units != b->units || a->bidirectional != b->bidirectional || a->rnn_pool != b->rnn_pool ? "recurrent layer"
                     : a->bow != b->bow || a->ngrams != b->ngrams ? "bag of words"
                     : wb_model_cfg_ninputs(a) != wb_model_cfg_ninputs(b) || memcmp(a->text_V, b->text_V, sizeof a->text_V) ||
                       memcmp(a->text_T, b->text_T, sizeof a->text_T) ? "text inputs"
                     : a->nfeat != b->nfeat || a->feat_dense != b->feat_dense ? "numeric features"
                     : NULL;
    if (diff) return wb_err_set(e, WB_EUSAGE, "the checkpoint was made with a different %s", diff);
    for (size_t i = 0; i < dst->g.nparts; i++)
        if (dst->g.part[i].has_emb) wb_emb_adopt(&dst->g.part[i].emb, &src->g.part[i].emb);
    return 0;
}

int wb_model_fit(wb_model *m, const wb_ids *X, const uint32_t *idx, size_t n, wb_err *e) {
    for (size_t i = 0; i < m->g.nparts; i++) {
        wb_part *p = &m->g.part[i];
        if (!p->ops->fit || p->D) continue; /* nothing to learn, or fitted already */
        if (!n) return wb_err_set(e, WB_EUSAGE, "no training examples to fit the model's features on");
        int rc = p->ops->fit(p, X, idx, n, e);
        if (rc) return rc;
        /* the table of the part's rows now has its size: D rows of W */
        int decay = p->emb.decay_idle;
        wb_emb_free(&p->emb);
        wb_emb_plan(&p->emb, WB_EMB_LEARNED, WB_OOV_ZERO, p->D, p->W, p->seed, m->nstate);
        p->emb.learn_a = 0, p->emb.decay_idle = decay;
        if ((rc = wb_emb_alloc(&p->emb, e))) return rc;
        /* the new table's lanes: each lane gathers with stamps of its own */
        if (m->nlanes > 1 && (rc = wb_emb_set_lanes(&p->emb, m->nlanes, e))) return rc;
        p->has_emb = 1;
        m->c.D = p->D;
    }
    return 0;
}

int wb_model_fit_features(wb_model *m, const double *F, size_t nfeat, const uint32_t *idx, size_t n, wb_err *e) {
    wb_part *p = NULL;
    for (size_t i = 0; i < m->g.nparts; i++)
        if (m->g.part[i].nfeat) p = &m->g.part[i];
    if (!p || nfeat != p->nfeat)
        return wb_err_set(e, WB_EUSAGE, "%zu numeric features for a model of %zu", nfeat, p ? p->nfeat : 0);
    if (!n) return wb_err_set(e, WB_EUSAGE, "no training examples to standardise the numeric features on");
    for (size_t j = 0; j < nfeat; j++) { /* two passes in double: the mean, then the deviation around it */
        double s = 0, s2 = 0;
        for (size_t i = 0; i < n; i++) {
            double v = F[(size_t)(idx ? idx[i] : i) * nfeat + j];
            if (!isfinite(v)) return wb_err_set(e, WB_EUSAGE, "numeric feature %zu is not a number in row %zu", j, i);
            s += v;
        }
        double mean = s / (double)n;
        for (size_t i = 0; i < n; i++) {
            double d = F[(size_t)(idx ? idx[i] : i) * nfeat + j] - mean;
            s2 += d * d;
        }
        double sd = sqrt(s2 / (double)n); /* population deviation, as scikit-learn's StandardScaler */
        p->fmean[j] = mean, p->fstd[j] = sd > 0 ? sd : 1;
    }
    return 0;
}

int wb_model_set_class_weights(wb_model *m, const float *w, size_t n, wb_err *e) {
    size_t want = m->c.task == WB_TASK_BINARY ? 2 : m->c.C;
    if (!w) {
        free(m->cw);
        m->cw = NULL;
        return 0;
    }
    if (n != want) return wb_err_set(e, WB_EUSAGE, "%zu class weights for a model of %zu classes", n, want);
    for (size_t k = 0; k < n; k++)
        if (!(w[k] > 0 && w[k] < 1e6f)) return wb_err_set(e, WB_EUSAGE, "class weight %g is not in (0, 1e6)", (double)w[k]);
    float *c = malloc(n * sizeof *c);
    if (!c) return wb_err_set(e, WB_ENOMEM, "out of memory");
    memcpy(c, w, n * sizeof *c);
    free(m->cw);
    m->cw = c;
    return 0;
}

const float *wb_model_class_weights(const wb_model *m, size_t *n) {
    if (n) *n = m->cw ? (m->c.task == WB_TASK_BINARY ? 2 : m->c.C) : 0;
    return m->cw;
}

/* ---- the step ---------------------------------------------------------------- */

/* Forward pass to the logits: every part writes its columns of merged. */
int wb_step_forward(wb_model *m, wb_step *s, wb_err *e) {
    wb_graph *g = &m->g;
    WB_ALLOC(s, s->merged, s->B * g->Ff);
    for (size_t i = 0; i < g->nparts; i++) {
        wb_part *p = &g->part[i];
        int rc = p->ops->forward(p, s, s->merged + p->col, g->Ff, e);
        if (rc) return rc;
    }
    return wb_head_forward(&g->head, s, e);
nomem:
    return wb_err_set(e, WB_ENOMEM, "out of memory in the step arena");
}

/* The mean loss and s->dz.  cw (the caller's, nn.h semantics) wins over the
 * model's class weights, which are used when `weighted`: multiclass and
 * binary weigh an example by its class's weight (Keras' class_weight: a
 * weight of 2 counts the example twice in the sum, the mean still divides
 * by B); multilabel weighs the positive term of each label
 * (BCEWithLogitsLoss's pos_weight). */
float wb_step_loss(const wb_model *m, wb_step *s, const int32_t *y, const float *t, const float *cw, int weighted) {
    const float *mw = weighted ? m->cw : NULL;
    if (m->c.task == WB_TASK_MULTICLASS) return wb_softmax_xent(s->z, y, cw ? cw : mw, s->B, m->c.C, s->dz, s->prob);
    if (cw || !mw) return wb_sigmoid_bce(s->z, t, cw, s->B, m->c.C, s->dz, s->prob);
    if (m->c.task == WB_TASK_BINARY) return wb_sigmoid_bce_weighted(s->z, t, mw + 1, mw, s->B, 1, s->dz, s->prob);
    return wb_sigmoid_bce_weighted(s->z, t, mw, NULL, s->B, m->c.C, s->dz, s->prob);
}

/* Right answers of a batch: the best label (multiclass: the label; multilabel:
 * a true one, P@1's hits) or, binary, the 0.5 decision. */
size_t wb_step_correct(const wb_model *m, const wb_step *s, const int32_t *y, const float *t) {
    size_t ok = 0, C = m->c.C;
    for (size_t b = 0; b < s->B; b++) {
        const float *p = s->prob + b * C;
        size_t best = 0;
        for (size_t k = 1; k < C; k++)
            if (p[k] > p[best]) best = k;
        if (m->c.task == WB_TASK_MULTICLASS) ok += (int32_t)best == y[b];
        else if (m->c.task == WB_TASK_MULTILABEL) ok += t[b * C + best] >= 0.5f;
        else ok += (p[0] >= 0.5f) == (t[b] >= 0.5f);
    }
    return ok;
}

int wb_step_backward(wb_model *m, wb_step *s, wb_err *e) {
    wb_graph *g = &m->g;
    size_t B = s->B;
    memset(s->grad, 0, m->nparam * sizeof(float));
    float *dmerged = wb_arena_calloc(s->arena, B * g->Ff * sizeof *dmerged);
    if (!dmerged) return wb_err_set(e, WB_ENOMEM, "out of memory in the step arena");
    int rc = wb_head_backward(&g->head, s, dmerged, e);
    for (size_t i = 0; !rc && i < g->nparts; i++) {
        wb_part *p = &g->part[i];
        rc = p->ops->backward(p, s, s->merged + p->col, dmerged + p->col, g->Ff, e);
    }
    return rc;
}

/* Backward pass and the optimizer step: dense tensors, max-norm, then the
 * embedding rows of the minibatch. */
static int backward_update(wb_model *m, wb_step *s, wb_err *e) {
    wb_graph *g = &m->g;
    int rc = wb_step_backward(m, s, e);
    if (rc) return rc;
    double sq = 0;
    if (m->opt.clipnorm > 0) {
        sq = wb_sqnorm(s->grad, m->nparam);
        for (size_t i = 0; i < g->nparts; i++)
            if (g->part[i].has_emb) sq += wb_emb_sqnorm(&g->part[i].emb, &s->rows[i]);
    }
    wb_optim_begin(&m->opt, sq);
    for (size_t i = 0; i < g->nts; i++) wb_optim_update(&m->opt, g->ts[i]->w, wb_grad(s, g->ts[i]), g->ts[i]->s, g->ts[i]->n);
    wb_head_maxnorm(&g->head);
    for (size_t i = 0; !rc && i < g->nparts; i++)
        if (g->part[i].has_emb) rc = wb_emb_update(&g->part[i].emb, &m->opt, &m->cu, &s->rows[i], e);
    return rc;
}

/* The checks of a minibatch shared by train_step (targets required) and
 * predict (targets optional; class ids checked when given). */
static int check_batch(const wb_model *m, size_t B, const int32_t *y, const float *t, int need_targets, wb_err *e) {
    if (B < 1 || B > m->Bmax) return wb_err_set(e, WB_EUSAGE, "batch of %zu examples: the model takes 1..%zu", B, m->Bmax);
    for (size_t i = 0; i < m->g.nparts; i++)
        if (m->g.part[i].ops->fit && !m->g.part[i].D)
            return wb_err_set(e, WB_EUSAGE, "the model has not learned its features yet (wb_model_fit, or train it)");
    if (!wb_model_ready(m)) return wb_err_set(e, WB_EUSAGE, "the model needs its store (or embedded vectors)");
    if (need_targets && (m->c.task == WB_TASK_MULTICLASS ? !y : !t))
        return wb_err_set(e, WB_EUSAGE, "targets missing for the task");
    if (y && (need_targets || m->c.task == WB_TASK_MULTICLASS))
        for (size_t b = 0; b < B; b++)
            if (y[b] < 0 || (size_t)y[b] >= m->c.C) return wb_err_set(e, WB_EUSAGE, "class id %d out of range", y[b]);
    return 0;
}

/* WB_EUSAGE when an input model m reads is missing from batch b. */
static int check_inputs(const wb_model *m, const wb_batch *b, wb_err *e) {
    size_t nt = wb_model_cfg_ninputs(&m->c);
    for (size_t k = 0; k < nt; k++)
        if (!b->X[k]) return wb_err_set(e, WB_EUSAGE, "text input %zu of the model is missing", k + 1);
    if (m->c.nfeat && !b->feat) return wb_err_set(e, WB_EUSAGE, "the model reads %zu numeric features: none given", m->c.nfeat);
    return 0;
}

/* A step over batch b; WB_EUSAGE when an input the model reads is missing. */
static int step_begin(wb_model *m, wb_step *s, const wb_batch *b, int train, wb_rng *rng, wb_err *e) {
    memset(s, 0, sizeof *s);
    int rc = check_inputs(m, b, e);
    if (rc) return rc;
    wb_arena_reset(m->arena);
    s->m = m, s->B = b->B, s->train = train, s->rng = rng, s->arena = m->arena;
    s->grad = m->block + m->nparam;
    memcpy(s->X, b->X, sizeof s->X);
    s->feat = b->feat;
    return 0;
}

/* Adam's tables through the next step; out of memory: the catch-up
 * computes what it needs (same bits). */
static void catchup_tables(wb_model *m) { (void)wb_catchup_reserve(&m->cu, &m->opt, m->opt.t + 2); }

void wb_model_catchup_ready(wb_model *m) {
    catchup_tables(m);
    /* rows that decay while idle (bow with --l2): all current before a
     * prediction or a save reads them (a training step catches up its own
     * rows: before_step) */
    for (size_t i = 0; i < m->g.nparts; i++)
        if (m->g.part[i].has_emb) wb_emb_catchup_all(&m->g.part[i].emb, &m->opt, &m->cu, m->pool);
}

/* s->prob from the logits s->z (softmax rows or sigmoids). */
static void probs_of(const wb_model *m, wb_step *s) {
    size_t B = s->B, C = m->c.C;
    memcpy(s->prob, s->z, B * C * sizeof(float));
    if (m->c.task == WB_TASK_MULTICLASS)
        for (size_t b = 0; b < B; b++) wb_softmax_row(s->prob + b * C, C);
    else
        wb_sigmoid(s->prob, B * C);
}

int wb_model_train_step(wb_model *m, const int32_t *X, size_t B, const int32_t *y, const float *t,
                        const float *cw, wb_rng *rng, float *loss, size_t *correct, wb_err *e) {
    wb_batch b = {.B = B, .X = {X}};
    return wb_model_train_batch(m, &b, y, t, cw, rng, loss, correct, e);
}

int wb_model_train_batch(wb_model *m, const wb_batch *bt, const int32_t *y, const float *t, const float *cw,
                         wb_rng *rng, float *loss, size_t *correct, wb_err *e) {
    int rc = check_batch(m, bt->B, y, t, 1, e);
    if (rc) return rc;
    catchup_tables(m);
    for (size_t i = 0; i < m->g.nparts; i++) /* single-threaded work on the model before the step */
        if (m->g.part[i].ops->before_step) m->g.part[i].ops->before_step(&m->g.part[i], m, bt);
    if (m->nlanes > 1 && bt->B > 1) {
        if ((rc = check_inputs(m, bt, e))) return rc;
        return wb_lanes_train_step(m, bt, y, t, cw, rng, loss, correct, e);
    }
    wb_step s;
    if ((rc = step_begin(m, &s, bt, 1, rng, e))) return rc;
    rc = wb_step_forward(m, &s, e);
    if (rc) return rc;
    float l = wb_step_loss(m, &s, y, t, cw, 1);
    if (loss) *loss = l;
    if (correct) *correct = wb_step_correct(m, &s, y, t);
    return backward_update(m, &s, e);
}

int wb_model_predict(wb_model *m, const int32_t *X, size_t B, const int32_t *y, const float *t,
                     const float *cw, float *prob, float *loss, wb_err *e) {
    wb_batch b = {.B = B, .X = {X}};
    return wb_model_predict_batch(m, &b, y, t, cw, prob, loss, e);
}

int wb_model_predict_batch(wb_model *m, const wb_batch *bt, const int32_t *y, const float *t, const float *cw,
                           float *prob, float *loss, wb_err *e) {
    size_t B = bt->B;
    int rc = check_batch(m, B, y, t, 0, e);
    if (rc) return rc;
    wb_model_catchup_ready(m);
    wb_step s;
    if ((rc = step_begin(m, &s, bt, 0, NULL, e))) return rc;
    rc = wb_step_forward(m, &s, e);
    if (rc) return rc;
    size_t C = m->c.C;
    if ((m->c.task == WB_TASK_MULTICLASS && y) || (m->c.task != WB_TASK_MULTICLASS && t)) {
        float l = wb_step_loss(m, &s, y, t, cw, 0);
        if (loss) *loss = l;
    } else {
        probs_of(m, &s);
        if (loss) *loss = NAN;
    }
    memcpy(prob, s.prob, B * C * sizeof(float));
    return 0;
}

int wb_model_windows(wb_model *m, const int32_t *X, size_t B, float *feat, int32_t *start, int32_t *len, wb_err *e) {
    wb_batch b = {.B = B, .X = {X}};
    return wb_model_windows_batch(m, &b, feat, start, len, e);
}

int wb_model_windows_batch(wb_model *m, const wb_batch *bt, float *feat, int32_t *start, int32_t *len, wb_err *e) {
    size_t B = bt->B;
    int rc = check_batch(m, B, NULL, NULL, 0, e);
    if (rc) return rc;
    wb_step s;
    if ((rc = step_begin(m, &s, bt, 0, NULL, e))) return rc;
    rc = wb_step_forward(m, &s, e);
    if (rc) return rc;
    size_t Ff = m->g.Ff;
    if (feat) memcpy(feat, s.merged, B * Ff * sizeof *feat);
    for (size_t i = 0; i < m->g.nparts; i++) {
        const wb_part *p = &m->g.part[i];
        for (size_t b = 0; b < B; b++) p->ops->windows(p, &s, b, start + b * Ff + p->col, len + b * Ff + p->col);
    }
    return 0;
}

/* A part's contributions by its windows: column j's out·g goes to the
 * window that column comes from. */
static int explain_windows(wb_part *p, wb_step *s, const float *out, const float *g, size_t ld, wb_span_fn fn,
                           void *ctx, wb_err *e) {
    int32_t *start, *len;
    WB_ALLOC(s, start, p->W);
    WB_ALLOC(s, len, p->W);
    for (size_t b = 0; b < s->B; b++) {
        p->ops->windows(p, s, b, start, len);
        for (size_t j = 0; j < p->W; j++) {
            float v = out[b * ld + j] * g[b * ld + j];
            if (start[j] >= 0 && v != 0) fn(ctx, b, start[j], len[j], v);
        }
    }
    return 0;
nomem:
    return wb_err_set(e, WB_ENOMEM, "out of memory in the step arena");
}

/* The single-input callback behind the batch one: drops the input. */
typedef struct span_adapter {
    wb_span_fn fn;
    void *ctx;
} span_adapter;

static void span_drop_input(void *ctx, size_t b, int input, int32_t start, int32_t len, float score) {
    (void)input;
    const span_adapter *a = ctx;
    a->fn(a->ctx, b, start, len, score);
}

int wb_model_explain(wb_model *m, const int32_t *X, size_t B, const int32_t *cls, float *prob, wb_span_fn fn,
                     void *ctx, wb_err *e) {
    if (wb_model_cfg_ninputs(&m->c) > 1 || m->c.nfeat)
        return wb_err_set(e, WB_EUSAGE, "wb_model_explain reads one text: this model reads %zu text input(s) and %zu "
                                        "numeric feature(s) (wb_model_explain_batch)",
                          wb_model_cfg_ninputs(&m->c), m->c.nfeat);
    wb_batch bt = {.B = B, .X = {X}};
    span_adapter a = {fn, ctx};
    return wb_model_explain_batch(m, &bt, cls, prob, span_drop_input, &a, e);
}

/* A part's spans tagged with its input (-1: the features part, whose
 * "positions" are its features). */
typedef struct part_tag {
    wb_input_span_fn fn;
    void *ctx;
    int input;
} part_tag;

static void span_tag_input(void *ctx, size_t b, int32_t start, int32_t len, float score) {
    const part_tag *t = ctx;
    t->fn(t->ctx, b, t->input, start, len, score);
}

int wb_model_explain_batch(wb_model *m, const wb_batch *bt, const int32_t *cls, float *prob, wb_input_span_fn fn,
                           void *ctx, wb_err *e) {
    size_t B = bt->B;
    int rc = check_batch(m, B, NULL, NULL, 0, e);
    if (rc) return rc;
    size_t C = m->c.C, Ff = m->g.Ff;
    int bin = m->c.task == WB_TASK_BINARY;
    if (cls)
        for (size_t b = 0; b < B; b++)
            if (cls[b] >= (int32_t)(bin ? 2 : C)) return wb_err_set(e, WB_EUSAGE, "class id %d out of range", cls[b]);
    wb_step s;
    if ((rc = step_begin(m, &s, bt, 0, NULL, e))) return rc;
    rc = wb_step_forward(m, &s, e);
    if (rc) return rc;
    probs_of(m, &s);
    if (prob) memcpy(prob, s.prob, B * C * sizeof *prob);
    /* d score / d logits: one per example */
    memset(s.dz, 0, B * C * sizeof *s.dz);
    for (size_t b = 0; b < B; b++) {
        int32_t c = cls ? cls[b] : -1;
        const float *p = s.prob + b * C;
        if (bin) {
            if (c < 0) c = p[0] > 1.0f - p[0];
            s.dz[b] = c ? 1.0f : -1.0f;
        } else {
            if (c < 0) {
                uint32_t t;
                wb_topk(p, C, 1, &t);
                c = (int32_t)t;
            }
            s.dz[b * C + (size_t)c] = 1.0f;
        }
    }
    float *dmerged;
    WB_ALLOC(&s, dmerged, B * Ff);
    memset(dmerged, 0, B * Ff * sizeof *dmerged);
    s.grad = wb_arena_calloc(s.arena, m->nparam * sizeof *s.grad); /* scratch: weight gradients are not wanted */
    if (!s.grad) goto nomem;
    if ((rc = wb_head_backward(&m->g.head, &s, dmerged, e))) return rc;
    for (size_t i = 0; i < m->g.nparts; i++) {
        wb_part *p = &m->g.part[i];
        part_tag tag = {fn, ctx, p->input};
        rc = (p->ops->explain ? p->ops->explain : explain_windows)(p, &s, s.merged + p->col, dmerged + p->col, Ff,
                                                                   span_tag_input, &tag, e);
        if (rc) return rc;
    }
    return 0;
nomem:
    return wb_err_set(e, WB_ENOMEM, "out of memory in the step arena");
}

size_t wb_model_features(const wb_model *m) { return m->g.Ff; }

void wb_model_mem_get(const wb_model *m, wb_model_mem *o) {
    memset(o, 0, sizeof *o);
    o->block_bytes = (uint64_t)m->nparam * (2 + m->nstate) * sizeof(float);
    for (size_t i = 0; i < m->g.nparts; i++) {
        const wb_emb *t = &m->g.part[i].emb;
        if (!m->g.part[i].has_emb) continue;
        o->overlay_rows += t->orows;
        o->overlay_bytes += ((uint64_t)t->nochunk << t->oshift) * t->orow_floats * sizeof(float);
        o->embedded_bytes += (uint64_t)t->n_emb * t->E * sizeof(float);
        o->cache_bytes += wb_bow_cache_bytes(&m->g.part[i]);
    }
    size_t cap = wb_arena_capacity(m->arena), peak = wb_arena_peak(m->arena);
    wb_lanes_arena(m, &cap, &peak);
    o->arena_bytes = cap;
    o->arena_peak = peak;
}

/* ---- low level ------------------------------------------------------------ */

size_t wb_model_ntensors(const wb_model *m) { return m->g.nts; }

const char *wb_model_tensor(wb_model *m, size_t i, float **w, float **g, size_t *n, size_t *rows, size_t *cols) {
    if (i >= m->g.nts) return NULL;
    wb_tensor *t = m->g.ts[i];
    if (w) *w = t->w;
    if (g) *g = t->g;
    if (n) *n = t->n;
    if (rows) *rows = t->rows;
    if (cols) *cols = t->cols;
    return t->name;
}

int wb_model_get_row(wb_model *m, int32_t id, float *out, wb_err *e) {
    wb_model_catchup_ready(m);
    return wb_emb_get_row(table0(m), &m->opt, &m->cu, id, out, e);
}

int wb_model_set_row(wb_model *m, int32_t id, const float *v, wb_err *e) {
    wb_model_catchup_ready(m);
    return wb_emb_set_row(table0(m), &m->opt, &m->cu, id, v, e);
}

int wb_model_get_input_row(wb_model *m, size_t k, int32_t id, float *out, wb_err *e) {
    wb_part *p = text_part(m, k);
    if (!p) return wb_err_set(e, WB_EUSAGE, "text input %zu: the model has %zu", k + 1, wb_model_cfg_ninputs(&m->c));
    wb_model_catchup_ready(m);
    return wb_emb_get_row(&p->emb, &m->opt, &m->cu, id, out, e);
}

int wb_model_set_input_row(wb_model *m, size_t k, int32_t id, const float *v, wb_err *e) {
    wb_part *p = text_part(m, k);
    if (!p) return wb_err_set(e, WB_EUSAGE, "text input %zu: the model has %zu", k + 1, wb_model_cfg_ninputs(&m->c));
    wb_model_catchup_ready(m);
    return wb_emb_set_row(&p->emb, &m->opt, &m->cu, id, v, e);
}

const double *wb_model_feature_stats(const wb_model *m, const double **std) {
    for (size_t i = 0; i < m->g.nparts; i++)
        if (m->g.part[i].nfeat) {
            if (std) *std = m->g.part[i].fstd;
            return m->g.part[i].fmean;
        }
    if (std) *std = NULL;
    return NULL;
}

int wb_model_feature_input(const wb_model *m, size_t j) {
    for (size_t i = 0; i < m->g.nparts; i++) {
        const wb_part *p = &m->g.part[i];
        if (j >= p->col && j < p->col + p->W) return p->input;
    }
    return -1;
}
