/*
 * model_int.h — the internals shared by the files of src/model/ that make
 * up wordbench/model.h: the model as a small graph of parts.
 *
 *   text input 0 ─ part ─┐
 *   text input 1 ─ part ─┼─ merge (concatenation, B × Ff) ─ head ─ logits (B × C)
 *   features     ─ part ─┘
 *
 * A PART reads one input (the ids of a text column, or the numeric
 * features) and reduces it to W floats per example, written into its
 * columns [col, col + W) of the merged matrix.  Every kind of part fills
 * one table of operations (wb_part_ops) in a file of its own, forward and
 * backward side by side:
 *   part_conv.c   tutorial, kim   Embedding → Conv1D (widths) → GlobalMaxPool
 *   part_pool.c   pool            Embedding → GlobalMaxPool
 *   part_flat.c   dense           Embedding → Flatten
 *   part_charcnn.c, part_rnn.c, part_bow.c   the later kinds
 *   part_feat.c   the numeric features: standardised [→ Dense relu]
 * The model (model.c) loops over its parts and never switches on kinds.
 * head.c is the merge and the head (dropout, hidden Dense layers, output
 * Dense); emb.c the embedding tables a text part reads its rows from
 * (store rows, the fine-tuning overlay, learned rows) and the gathering of
 * a minibatch's distinct rows, shared by every text part; modelfile.c the
 * model file.
 *
 * Two phases.  A PLAN (wb_graph_plan) is computed from the configuration
 * alone, without allocating: every part's sizes, output width, tensor
 * shapes, summary rows and a bound of its step-arena bytes.  Summary and
 * the model file's bounds use plans; wb_model_create then allocates the
 * parameter block and the embedding tables of a plan.
 *
 * A STEP (wb_step) holds everything of one forward/backward pass: the
 * inputs, each part's saved buffers (in the step arena), the merged
 * matrix, the head's activations, and the gradient buffer the backward
 * pass adds into (grad: a tensor's gradient is grad + tensor.off).  Forward
 * and backward touch the model's weights read-only, and the model's
 * mutable state only through emb.c's gathering (the stamp arrays): so a
 * later split of one minibatch over threads gathers once, then gives each
 * thread a sub-step with its own arena and gradient buffer.
 *
 * Size letters (STYLE.md): B batch, T tokens, E embedding dim per channel,
 * Ei = E·channels the width of a token vector, F filters, K kernel width,
 * C outputs, V vocabulary, H hidden units, Ff merged width, W a part's
 * output width, N the distinct ids of a minibatch.
 */
#ifndef WB_MODEL_INT_H
#define WB_MODEL_INT_H

#include <stddef.h>
#include <stdint.h>

#include "base/fileio.h"
#include "wordbench/arena.h"
#include "wordbench/model.h"

/* A section tag of the model file: four characters, little-endian. */
#define WB_TAG(a, b, c, d) ((uint32_t)(a) | (uint32_t)(b) << 8 | (uint32_t)(c) << 16 | (uint32_t)(d) << 24)

#define WB_PART_TENSORS 16               /* dense tensors per part at most */
#define WB_HEAD_TENSORS (2 * WB_MAX_HIDDEN + 2) /* hidden + output kernels and biases */
#define WB_MAX_PARTS (WB_MAX_INPUTS + 1)  /* parts per model: the text inputs, the features */
#define WB_MAX_TENSORS (WB_MAX_PARTS * WB_PART_TENSORS + WB_HEAD_TENSORS)
#define OVL_CHUNK_ROWS 1024u             /* overlay rows per chunk, at most */
#define OVL_CHUNK_BYTES (1u << 20)       /* and bytes per chunk, at most (one row at least) */

/* log2 of the overlay rows per chunk for rows of orow_floats floats: 1024
 * rows while they fit in OVL_CHUNK_BYTES, fewer for wide rows (one row of a
 * dim-65536 table with Adam's two slots is 768 KiB; 1024 of them, reserved
 * for the first fine-tuned row, were 768 MiB). */
static inline unsigned wb_ovl_chunk_shift(size_t orow_floats) {
    unsigned s = 10; /* OVL_CHUNK_ROWS */
    while (s && ((size_t)1 << s) * orow_floats * sizeof(float) > OVL_CHUNK_BYTES) s--;
    return s;
}

/* One dense tensor of the parameter block.  off is its offset among the
 * weights (and among the gradients: grad + off); w, g and s point into the
 * block: weights, the model's gradients, optimizer state (nstate·n). */
typedef struct wb_tensor {
    char name[48];   /* "conv1/kernel" */
    size_t off;      /* offset of the first element */
    size_t n;        /* elements = rows · cols */
    size_t rows;     /* rows (kernels: output units / filters) */
    size_t cols;     /* columns */
    float *w;        /* (n) weights, NULL in a plan */
    float *g;        /* (n) gradients of the last step */
    float *s;        /* (nstate·n) optimizer state */
} wb_tensor;

/* ---- embedding tables (emb.c) ----------------------------------------------
 * The rows a text part reads: per id, a store row (or an index into rows
 * embedded in the model file), an overlay slot (rows changed by training),
 * or a learned / random row generated from (seed, id).  See model.h for the
 * modes.  Invariants: row[0] = row[1] = -1; slot[id] >= 0 only for
 * trainable ids; embedded != NULL implies row[] indexes embedded. */
struct wb_step;

/* The distinct-id stamps of one lane of a split step. */
typedef struct wb_emb_lane {
    uint32_t *stamp;         /* (V) */
    int32_t *local;          /* (V) */
    uint32_t now;
} wb_emb_lane;

typedef struct wb_emb {
    wb_emb_mode mode;        /* frozen, finetune, learned, multichannel */
    wb_oov_mode oov;         /* ids the store lacks */
    size_t V;                /* ids */
    size_t E;                /* row width (per channel) */
    size_t Ei;               /* token vector width: E or 2E */
    uint64_t seed;           /* learned / random rows are drawn from (seed, id) */
    size_t nstate;           /* optimizer floats per weight */
    float learn_a;           /* learned rows start as U(-learn_a, learn_a); 0 = zeros */
    wb_store *st;            /* borrowed, or NULL */
    int64_t *row;            /* (V) store row (or embedded index), -1 = missing */
    int32_t *slot;           /* (V) overlay slot, -1 = none */
    uint32_t *stamp;         /* (V) step stamp of the last minibatch using the id */
    int32_t *local;          /* (V) index of the id in the current minibatch */
    uint32_t now;            /* current stamp */
    struct wb_emb_lane *lanes; /* (nlanes) stamps of lanes 1.. of a split step (lane 0: stamp, local, now) */
    size_t nlanes;
    float oov_a;             /* half-width of oov random rows */
    int attached;            /* a store or embedded rows are attached */
    float *embedded;         /* (n_emb, E) frozen rows from a model file */
    size_t n_emb;
    float **ochunk;          /* overlay chunks of 2^oshift rows */
    size_t nochunk, ochunk_cap;
    unsigned oshift;         /* wb_ovl_chunk_shift(orow_floats), set with the first chunk */
    size_t orows;            /* overlay rows in use */
    int32_t *oid;            /* (ochunk_cap·2^oshift) id of each slot */
    uint64_t *olast;         /* (same) the step each slot's optimizer state is current through */
    float *zrow;             /* (E) zeros: the gradient of an idle row (--adam dense) */
    size_t orow_floats;      /* floats per overlay row: (1 + nstate)·E */
    int decay_idle;          /* 1: with --l2, a row outside the minibatch takes its weight decay (bow:
                              * scikit-learn's penalty on every weight), caught up exactly (wb_optim_idle) */
} wb_emb;

/* The rows of one minibatch of one table (step arena).  U holds, per
 * distinct id, the token vector (Ei: the frozen half first for
 * multichannel); dU, when the backward pass needs it, the gradient of the
 * trainable (tuned) half. */
typedef struct wb_rows {
    size_t n;                /* positions (B·T) */
    size_t N;                /* distinct ids */
    int32_t *ids;            /* (N) distinct ids in first-seen order */
    float *U;                /* (N, Ei) their vectors */
    int32_t *lid;            /* (n) local index (into U) of every position */
    float *dU;               /* (N, E) gradient of the tuned rows, or NULL */
    int any_trainable;       /* some id has a trainable row */
} wb_rows;

/* Plan only: sizes, no allocation.  seed mixes into the learned rows. */
void wb_emb_plan(wb_emb *t, wb_emb_mode mode, wb_oov_mode oov, size_t V, size_t E, uint64_t seed, size_t nstate);
/* Allocate the per-id arrays of a planned table.  0 or WB_ENOMEM. */
int wb_emb_alloc(wb_emb *t, wb_err *e);
void wb_emb_free(wb_emb *t);
int wb_emb_needs_store(const wb_emb *t);
int wb_emb_trainable(const wb_emb *t, int32_t id);
int wb_emb_attach(wb_emb *t, wb_store *st, const int64_t *rows, wb_err *e);
/* dst gets src's store and store rows; dst's embedded rows, if any, are
 * dropped (the row numbers now index the store). */
void wb_emb_adopt(wb_emb *dst, const wb_emb *src);
/* Distinct ids of X (n ids, each checked < V), their vectors U, in the
 * arena of step s, finding distinct ids with the stamps of s's lane (so
 * the lanes of a split step gather at once).  Errors: WB_EUSAGE (id out of
 * range), WB_ENOMEM (arena), WB_ECORRUPT (store). */
int wb_emb_gather(wb_emb *t, struct wb_step *s, const int32_t *X, size_t n, wb_rows *r, wb_err *e);
/* Stamps for n lanes (lane 0 is the table's own).  0 or WB_ENOMEM. */
int wb_emb_set_lanes(wb_emb *t, size_t n, wb_err *e);
/* x (n, Ei) = U[lid] copied per position (the embedded batch), or NULL. */
float *wb_rows_embed(wb_arena *a, const wb_rows *r, size_t Ei);
/* r->dU = zeroed (N, E) when some row is trainable (else NULL).  0 or -1. */
int wb_rows_grad(wb_arena *a, wb_rows *r, size_t E);
/* dU[lid(i)] += dx[i][Ei-E ..] for the n positions, dx rows of Ei floats at
 * a stride of `ld` floats per group of `per` positions (an example). */
void wb_rows_scatter(wb_rows *r, const float *dx, size_t per, size_t ld, size_t Ei, size_t E);
double wb_emb_sqnorm(const wb_emb *t, const wb_rows *r);
/* The optimizer step of the trainable rows of r (after wb_optim_begin):
 * wb_emb_touch, then wb_emb_update_rows over all of r. */
int wb_emb_update(wb_emb *t, wb_optim *o, const wb_catchup *cu, const wb_rows *r, wb_err *e);
/* Overlay slots for the trainable rows of r that have none, initialised
 * from r->U (the tuned half).  0 or WB_ENOMEM. */
int wb_emb_touch(wb_emb *t, const wb_rows *r, uint64_t last, wb_err *e);
/* The optimizer step of the trainable rows [lo, hi) of r, whose slots
 * exist (after wb_optim_begin): Adam's catch-up of a row that lags
 * (optim.h), the update, the row's last step = o->t.  Rows of disjoint
 * ranges may be updated from several threads.  cu may be NULL. */
void wb_emb_update_rows(const wb_emb *t, const wb_optim *o, const wb_catchup *cu, const wb_rows *r, size_t lo, size_t hi);
/* --adam dense: the step of the overlay slots [lo, hi) whose id is not in
 * the step's rows (the table's stamps), with a zero gradient. */
void wb_emb_update_idle(const wb_emb *t, const wb_optim *o, const wb_catchup *cu, size_t lo, size_t hi);
/* The value of slot s caught up through step o->t (optim.h) into out (E). */
void wb_emb_ovl_value(const wb_emb *t, const wb_optim *o, const wb_catchup *cu, int32_t s, float *out);
/* Catch slot s up through step o->t in place (weights and moments). */
void wb_emb_ovl_catchup(const wb_emb *t, const wb_optim *o, const wb_catchup *cu, int32_t s);
/* 1 when the idle rows of t take o's weight decay (decay_idle, l2 != 0, not
 * lazy Adam): they are then caught up by wb_optim_idle. */
int wb_emb_decays(const wb_emb *t, const wb_optim *o);
/* With decay_idle and L2: every overlay slot caught up through o->t in place
 * (before a prediction or a save reads them; same bits as later), rows
 * shared by the lanes of pool (NULL: on the caller). */
struct wb_pool;
void wb_emb_catchup_all(const wb_emb *t, const wb_optim *o, const wb_catchup *cu, struct wb_pool *pool);
/* The same for the rows of ids[0..n) (repeats allowed; ids out of range or
 * without a slot skipped). */
void wb_emb_catchup_ids(const wb_emb *t, const wb_optim *o, const wb_catchup *cu, struct wb_pool *pool, const uint32_t *ids,
                        size_t n);
/* The rows of a step split in n lanes, as one: u gets the distinct ids of
 * lanes[0..n) in lane order (and, with rows that carry a gradient, a
 * zeroed dU (u->N, E)); map[k][j] is the index in u of row j of lane k
 * (arena a).  New trainable rows get their overlay slot (from the first
 * lane's U).  Uses the table's own stamps: call after every lane has
 * gathered.  0 or WB_ENOMEM. */
int wb_emb_merge(wb_emb *t, wb_arena *a, wb_rows *const *lanes, size_t n, wb_rows *u, int32_t **map, uint64_t last, wb_err *e);
/* u->dU[i] = Σ_k lanes[k]->dU[j] over (k, j) with map[k][j] = i, summed in
 * lane order, for the rows i in [lo, hi) of u (ranges from several threads
 * are disjoint, and the sum does not depend on them). */
void wb_rows_reduce(wb_rows *u, wb_rows *const *lanes, int32_t *const *map, size_t n, size_t E, size_t lo, size_t hi);
/* The current value of a row (an overlay row caught up through o->t). */
int wb_emb_get_row(wb_emb *t, const wb_optim *o, const wb_catchup *cu, int32_t id, float *out, wb_err *e);
/* Set a trainable row (its moments caught up first). */
int wb_emb_set_row(wb_emb *t, const wb_optim *o, const wb_catchup *cu, int32_t id, const float *v, wb_err *e);
/* Slot of id, created with `init` as its weights, zero optimizer state
 * current through step `last`, on first touch; -1 when out of memory. */
int32_t wb_emb_ovl_get(wb_emb *t, int32_t id, const float *init, uint64_t last);
float *wb_emb_ovl_row(const wb_emb *t, int32_t slot);
/* Variance of the resolved rows: the scale of oov random rows. */
void wb_emb_oov_scale(wb_emb *t);
/* Bytes the per-id arrays take (24 per id). */
uint64_t wb_emb_bytes(size_t V);

/* ---- parts ---------------------------------------------------------------- */

typedef struct wb_part wb_part;
typedef struct wb_step wb_step;

/* One row of the summary as a part or the head produces it: the layer
 * table of model.h plus the layer it is connected to (the previous row of
 * the same part when `inbound` is NULL). */
typedef struct wb_layers {
    wb_layer_info *out;      /* rows, or NULL to count */
    size_t cap, n;           /* capacity, rows produced */
} wb_layers;
void wb_layers_add(wb_layers *L, const char *name, const char *type, int ndim, size_t s0, size_t s1,
                   uint64_t params, uint64_t trainable, const char *inbound);
/* The name of the last row added ("" when none). */
const char *wb_layers_last(const wb_layers *L);

/* The table of operations of a kind of part.  plan, layers and step_bytes
 * work on a plan (no weights, no tables); the others on a created model. */
typedef struct wb_part_ops {
    const char *kind;        /* "conv", "pool", "flatten" */
    /* Sizes of the part reading text input `input` of c: p->W, tensor
     * shapes (wb_part_tensor), the table plan.  Returns 0 or WB_EUSAGE. */
    int (*plan)(wb_part *p, const wb_model_cfg *c, wb_err *e);
    /* Summary rows after the input row named `in`. */
    void (*layers)(const wb_part *p, wb_layers *L, const char *in);
    /* Upper bound of the step-arena bytes of forward + backward for B
     * examples (the model file's memory bound). */
    uint64_t (*step_bytes)(const wb_part *p, size_t B);
    /* Initial weights, drawing from r in a fixed order (determinism). */
    void (*init)(wb_part *p, wb_rng *r);
    /* out[b·ld + j], j < W: the part's output for the B examples of s. */
    int (*forward)(wb_part *p, wb_step *s, float *out, size_t ld, wb_err *e);
    /* Given dout (same layout; the part may overwrite it) and out as the
     * head left it (dropout applied in place), add the weight gradients
     * into s->grad and the rows' gradient into the part's wb_rows. */
    int (*backward)(wb_part *p, wb_step *s, const float *out, float *dout, size_t ld, wb_err *e);
    /* Explain: for example b of the last forward, the token window
     * [start[j], start[j] + len[j]) that output column j comes from
     * (start -1: no single window, e.g. a whole sequence). */
    void (*windows)(const wb_part *p, const wb_step *s, size_t b, int32_t *start, int32_t *len);
    /* Optional (NULL when the kind has none): */
    /* explain (model.h, wb_model_explain) for kinds whose output columns
     * do not each come from one window: after a forward pass without
     * dropout, with out the part's output (B rows at stride ld) and g the
     * gradient of each example's explained score with respect to it, report
     * every token span's contribution through fn (a span may come several
     * times: the scores add).  NULL: the contributions out·g of the columns,
     * each given to its window (the `windows` operation).  The features
     * part's positions are its features: feature j is the span [j, j+1). */
    int (*explain)(wb_part *p, wb_step *s, const float *out, const float *g, size_t ld, wb_span_fn fn, void *ctx,
                   wb_err *e);
    /* learn from the n training rows idx of X (n_all, T) before training
     * (the bag-of-words n-gram table); sets p->D.  0 or an error. */
    int (*fit)(wb_part *p, const wb_ids *X, const uint32_t *idx, size_t n, wb_err *e);
    /* write the part's own sections (tagged with `part`) / read one back */
    void (*save)(const wb_part *p, wb_awriter *w, uint32_t part);
    int (*load)(wb_part *p, uint32_t tag, const unsigned char *sec, uint64_t len, const char *path, wb_err *e);
    /* release what fit / load allocated */
    void (*destroy)(wb_part *p);
    /* before a training step over b, single-threaded (the lanes run after):
     * bow catches up the rows of b's features (wb_emb_ovl_catchup), so the
     * lanes read them current */
    void (*before_step)(wb_part *p, wb_model *m, const wb_batch *b);
} wb_part_ops;

extern const wb_part_ops wb_part_conv, wb_part_pool, wb_part_flat, wb_part_charcnn, wb_part_rnn, wb_part_bow,
    wb_part_feat;

/* Bytes of a bow part's cache of sparse rows (part_bow.c; 0 for others). */
uint64_t wb_bow_cache_bytes(const wb_part *p);

/* Plan the embedding table of a text part from the configuration (mode,
 * oov, p->V, p->E, p->seed) and set p->Ei. */
void wb_part_text_table(wb_part *p, const wb_model_cfg *c);

/* The summary rows of a text part's embedding (after the input row `in`):
 * frozen counts as non-trainable (Keras trainable=False); oov learn rows
 * are trainable but Keras has no such thing: counted with the frozen
 * table. */
void wb_part_embedding_layers(const wb_part *p, wb_layers *L, const char *in);

/* A part: what every kind has, then the kind's sizes. */
struct wb_part {
    const wb_part_ops *ops;
    size_t idx;              /* index in the graph (step arrays) */
    int input;               /* text input index, -1 for the features */
    char prefix[24];         /* layer-name prefix ("" for a single input) */
    size_t V, T, E, Ei;      /* the text input's sizes */
    uint64_t seed;           /* the model's seed (learned rows) */
    size_t W;                /* output width */
    size_t col;              /* first merged column */
    wb_tensor t[WB_PART_TENSORS]; /* dense tensors, in file order */
    size_t nt;
    int has_emb;             /* reads rows from emb */
    wb_emb emb;              /* its embedding table */
    /* kind sizes */
    size_t F;                /* filters per width (conv) */
    size_t nwidths;          /* widths (conv) */
    size_t widths[WB_MAX_WIDTHS];
    int windows_path;        /* conv: Conv1D as sgemms over the embedded batch (WB_CONV=windows) */
    size_t R;                /* rnn: units */
    size_t G;                /* rnn: gates (4 lstm, 3 gru) */
    size_t ndir;             /* rnn: directions */
    int gru;                 /* rnn: 1 = GRU */
    wb_rnn_pool pool;        /* rnn: last or max */
    size_t A;                /* charcnn: one-hot channels (V - 2) */
    size_t L[WB_MAX_WIDTHS + 1]; /* charcnn: lengths: L[0] = T, L[i] after layer i (and its pool) */
    size_t Lc[WB_MAX_WIDTHS];    /* charcnn: length after conv i, before its pool */
    wb_bow_mode bow;         /* bow: weighting */
    struct wb_bow_cache *bc; /* bow: each fitted example's features (NULL: none) */
    size_t D;                /* bow: features (0 until fitted) */
    size_t ngrams;           /* bow */
    struct wb_bow_table *bt; /* bow: n-gram table and idf (NULL until fitted) */
    size_t nfeat;            /* features: numbers per example */
    size_t fdense;           /* features: units of the squashing Dense (0 = none) */
    double *fmean, *fstd;    /* features: (nfeat) standardisation (0 and 1 until fitted) */
};

/* Define tensor t[p->nt] of a part (or the head) with the given name and
 * shape; offsets are assigned by the graph. */
wb_tensor *wb_part_tensor(wb_part *p, const char *name, size_t rows, size_t cols);

/* ---- the head (head.c) --------------------------------------------------------
 * merged (B, Ff) → dropout → [Dense H relu → dropout_h]×nh → Dense C. */
typedef struct wb_head {
    size_t Ff;               /* merged width */
    size_t H;                /* hidden units (0 = none) */
    size_t nh;               /* hidden layers (0 when H = 0) */
    size_t Hin;              /* input width of the output Dense */
    size_t C;                /* outputs */
    float dropout;           /* on the merged features */
    float hdropout;          /* after every hidden layer */
    float maxnorm;           /* of the output rows */
    int direct;              /* 1: the merged features are the logits (bow): no layer */
    wb_tensor t[WB_HEAD_TENSORS];
    size_t nt;
    wb_tensor *hid_w[WB_MAX_HIDDEN], *hid_b[WB_MAX_HIDDEN], *out_w, *out_b;
} wb_head;

/* Hidden layers of a configuration (nhidden, or 1 when H > 0). */
size_t wb_model_nhidden(const wb_model_cfg *c);

void wb_head_plan(wb_head *h, const wb_model_cfg *c, size_t Ff);
void wb_head_layers(const wb_head *h, wb_layers *L, const char *in);
uint64_t wb_head_step_bytes(const wb_head *h, size_t B);
void wb_head_init(wb_head *h, wb_rng *r);
int wb_head_forward(wb_head *h, wb_step *s, wb_err *e);
/* dmerged (B, Ff) gets (+=) the gradient of the merged features. */
int wb_head_backward(wb_head *h, wb_step *s, float *dmerged, wb_err *e);
void wb_head_maxnorm(wb_head *h);

/* ---- the graph ---------------------------------------------------------------- */

typedef struct wb_graph {
    wb_part part[WB_MAX_PARTS];
    size_t nparts;
    wb_head head;
    size_t Ff;               /* merged width = Σ W */
    size_t nparam;           /* dense parameters (weights) */
    wb_tensor *ts[WB_MAX_TENSORS]; /* every tensor in file order */
    size_t nts;
} wb_graph;

/* Plan the graph of a checked configuration.  0 or WB_EUSAGE. */
int wb_graph_plan(wb_graph *g, const wb_model_cfg *c, wb_err *e);

/* Bytes a model of plan g needs for minibatches of max_batch examples
 * (block, tables, step arena bound), without overlay / embedded rows. */
uint64_t wb_graph_bytes(const wb_graph *g, size_t nstate, size_t max_batch);

struct wb_model {
    wb_model_cfg c;          /* configuration (checked) */
    wb_optim opt;            /* optimizer settings and step count */
    wb_catchup cu;           /* Adam's catch-up tables (optim.h) */
    size_t nstate;           /* optimizer floats per parameter */
    size_t Bmax;             /* largest minibatch */
    wb_graph g;              /* parts, head, tensors (pointing into block) */
    float *block;            /* weights | gradients | state */
    size_t nparam;           /* = g.nparam */
    wb_arena *arena;         /* step arena */
    float *cw;               /* class weights in the training loss (2 for binary: negative, positive; else C), or NULL */
    size_t nlanes;           /* lanes of a training step (wb_model_set_threads), 1 = not split */
    struct wb_pool *pool;    /* their threads (NULL when 1) */
    struct wb_lane *lane;    /* (nlanes) per-lane step state (model.c) */
};

/* One forward (and backward) pass: inputs, saved buffers, activations. */
struct wb_step {
    wb_model *m;
    size_t lane;             /* lane of a split step (0 when not split): which stamps gather uses */
    size_t B;                /* examples */
    const int32_t *X[WB_MAX_INPUTS]; /* (B, T_k) ids of each text input */
    const double *feat;      /* (B, nfeat) raw numeric features, or NULL */
    int train;               /* 1: dropout on, backward follows */
    wb_rng *rng;             /* dropout masks */
    wb_arena *arena;         /* where every buffer below lives */
    float *grad;             /* (nparam) gradients: tensor gradient = grad + off */
    wb_rows rows[WB_MAX_PARTS];  /* per part (idx): gathered rows */
    void *saved[WB_MAX_PARTS];   /* per part (idx): what forward keeps for backward */
    float *merged;           /* (B, Ff) the merged features (after dropout) */
    uint8_t *mask;           /* (B, Ff) dropout mask or NULL */
    float *h[WB_MAX_HIDDEN]; /* (B, H) hidden layers after relu (and their dropout) */
    uint8_t *hmask[WB_MAX_HIDDEN]; /* (B, H) their dropout masks or NULL */
    float *z;                /* (B, C) logits */
    float *dz;               /* (B, C) */
    float *prob;             /* (B, C) */
};

/* The pieces of a training step (model.c), shared with the split step
 * (lanes.c).  forward: every part, the merge, the head (to s->z);
 * loss: the mean loss over s->B examples and s->dz, y / t the step's
 * targets (cw: nn.h's class weights, else the model's when weighted);
 * correct: examples predicted right; backward: zero s->grad, then the
 * head and every part add their gradients (and the rows' dU). */
int wb_step_forward(wb_model *m, wb_step *s, wb_err *e);
float wb_step_loss(const wb_model *m, wb_step *s, const int32_t *y, const float *t, const float *cw, int weighted);
size_t wb_step_correct(const wb_model *m, const wb_step *s, const int32_t *y, const float *t);
int wb_step_backward(wb_model *m, wb_step *s, wb_err *e);

/* Adam's catch-up tables through the next step (model.c; call where no
 * other thread reads them: before a step, a prediction, a save). */
void wb_model_catchup_ready(wb_model *m);

/* ---- the split step (lanes.c) ---------------------------------------------- */
/* wb_model_train_step over m->nlanes lanes (B > 1, checks done). */
int wb_lanes_train_step(wb_model *m, const wb_batch *bt, const int32_t *y, const float *t, const float *cw,
                        wb_rng *rng, float *loss, size_t *correct, wb_err *e);
/* Stop the threads and free the lanes (model destroy). */
void wb_lanes_free(wb_model *m);
/* Step-arena bytes the lanes hold (capacity, peak), added to the model's. */
void wb_lanes_arena(const wb_model *m, size_t *cap, size_t *peak);

/* The gradient of tensor t in step s. */
static inline float *wb_grad(const wb_step *s, const wb_tensor *t) { return s->grad + t->off; }

/* Arena allocation in a step; on failure jumps to `nomem`. */
#define WB_ALLOC(s, ptr, count)                                                    \
    do {                                                                           \
        (ptr) = wb_arena_alloc((s)->arena, (size_t)(count) * sizeof *(ptr));       \
        if (!(ptr)) goto nomem;                                                    \
    } while (0)

/* Arena bytes of n elements of size sz, rounded as the arena does. */
static inline uint64_t wb_abytes(uint64_t n, uint64_t sz) { return (n * sz + 63) / 64 * 64 + 64; }

/* Glorot-uniform (Keras' default kernel initializer) and U(-a, a) draws. */
float wb_unif(wb_rng *r, float a);
void wb_glorot(float *w, size_t n, double fan_in, double fan_out, wb_rng *r);

#endif /* WB_MODEL_INT_H */
