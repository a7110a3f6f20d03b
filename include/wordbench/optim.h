/*
 * wordbench/optim.h — optimizers, gradient clipping, L2 and max-norm.
 *
 * One update rule per optimizer, applied to a span of parameters with its
 * own state.  The same call serves dense tensors (the whole tensor) and
 * sparse embedding rows (one call per row touched in the minibatch, with
 * that row's state): rows not in the minibatch are not visited at all, so a
 * step costs O(rows touched · dim), not O(vocabulary · dim).  This lazy
 * update is torch.optim.SparseAdam's: moments of untouched rows do not
 * decay, and Adam's bias correction uses the global step count o->t.
 * One difference: SparseAdam adds eps before the bias correction,
 * w -= lr·sqrt(1-β2^t)/(1-β1^t) · m/(sqrt(v) + eps), so its eps acts as
 * eps/sqrt(1-β2^t) in the formula below (about 32·eps at t = 1); wordbench
 * uses torch.optim.Adam's placement for dense and sparse spans alike.  A
 * step then differs by about lr·eps/(sqrt(1-β2^t)·|g|): 3e-6 for lr 0.01,
 * eps 1e-7, |g| 0.01 at t = 1 (tests/test_parity.c, sparse_adam).
 *
 * Update rules (PyTorch's formulas; defaults are Keras 2's values, which is
 * what the tutorials our users follow assume).  g is the gradient after
 * scaling by o->scale (global-norm clipping), element clipping to
 * [-clipvalue, clipvalue] and adding l2·w (PyTorch's weight_decay):
 *   adam:     m = β1·m + (1-β1)·g;  v = β2·v + (1-β2)·g²;
 *             w -= lr · (m/(1-β1^t)) / (sqrt(v/(1-β2^t)) + eps)
 *             defaults lr 1e-3, β1 0.9, β2 0.999, eps 1e-7           (2 slots)
 *   sgd:      buf = momentum·buf + g;  w -= lr·buf  (momentum 0: w -= lr·g)
 *             defaults lr 0.01, momentum 0                            (1 slot)
 *   rmsprop:  v = rho·v + (1-rho)·g²;  w -= lr·g/(sqrt(v) + eps)
 *             defaults lr 1e-3, rho 0.9, eps 1e-7                      (1 slot)
 *   adagrad:  s += g²;  w -= lr·g/(sqrt(s) + eps)
 *             defaults lr 1e-2, eps 1e-7                               (1 slot)
 *   adadelta: v = rho·v + (1-rho)·g²;  d = sqrt(u+eps)/sqrt(v+eps)·g;
 *             u = rho·u + (1-rho)·d²;  w -= lr·d
 *             defaults lr 1.0, rho 0.95, eps 1e-7                      (2 slots)
 * Arithmetic is float32 except the bias corrections (double, then cast),
 * so results match PyTorch's float32 optimizers to rounding.
 *
 * State: wb_optim_nstate(kind) floats per parameter element, slot-major:
 * slot j of element i is state[j*n + i] for a span of n elements.  The
 * caller allocates and ZEROES it before the first update of that span.
 *
 * Threads: a wb_optim is read-only during wb_optim_update, so spans may be
 * updated from several threads between two wb_optim_begin calls.
 *
 * Adam on embedding rows (o->adam; the model applies it, docs/design.md
 * "Adam on rows outside the minibatch"): PyTorch's and Keras' Adam decay the
 * moments of EVERY row at every step, so a row keeps moving after its word
 * was last seen.  WB_ADAM_CATCHUP (the default) reproduces that without
 * visiting idle rows: a row remembers the step t0 its state is current
 * through, and before it is read at step t0 + k + 1 it gets the k updates
 * it would have had with a zero gradient, in O(1) per element:
 *   m' = β1^k·m,  v' = β2^k·v,  w' = w - P·m / (sqrt(v) + eps·P/A)
 *   A = lr·Σ_{j=1..k} β1^j / bc1(t0+j),
 *   P = lr·Σ_{j=1..k} (β1/sqrt(β2))^j · sqrt(bc2(t0+j)) / bc1(t0+j)
 * (bc1(s) = 1-β1^s, bc2(s) = 1-β2^s), A and P read from per-step tables of
 * discounted suffix sums (wb_catchup).  Exact with eps = 0; with eps > 0
 * the k terms m·a_j·x_j/(sqrt(v) + eps·x_j) share one denominator
 * (x_j = sqrt(bc2)/β2^{j/2} replaced by its a_j-weighted mean P/A), which
 * is exact in the limits sqrt(v) >> eps and sqrt(v) << eps and in between
 * overestimates the displacement by at most Var(x)/(4·mean(x)²) of it
 * (Jensen): measured below 2e-5 of it once t0 >= 1000, up to 4.3% for rows
 * idle from the very first steps (bias corrections change fast there;
 * tests/test_optim.c).  Weight decay (l2) of
 * an idle row is not applied: idle steps count as zero gradient (clipnorm
 * and clipvalue leave a zero gradient zero, so they are exact) — except
 * where the model asks for it (the bag of words' rows): wb_optim_idle
 * below, stepwise and exact.
 * WB_ADAM_LAZY is torch.optim.SparseAdam's (idle rows frozen, moments
 * kept); WB_ADAM_DENSE updates every row that has an overlay slot at every
 * step with a zero gradient when idle (exact, O(rows) per step: for checks).
 */
#ifndef WORDBENCH_OPTIM_H
#define WORDBENCH_OPTIM_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum wb_opt_kind {
    WB_OPT_ADAM = 0,
    WB_OPT_SGD,
    WB_OPT_RMSPROP,
    WB_OPT_ADAGRAD,
    WB_OPT_ADADELTA
} wb_opt_kind;

/* How Adam treats the embedding rows outside a minibatch (above). */
typedef enum wb_adam_mode {
    WB_ADAM_CATCHUP = 0,
    WB_ADAM_LAZY,
    WB_ADAM_DENSE
} wb_adam_mode;

typedef struct wb_optim {
    wb_opt_kind kind;
    float lr;        /* learning rate */
    float beta1;     /* adam */
    float beta2;     /* adam */
    float eps;       /* adam, rmsprop, adagrad, adadelta */
    float momentum;  /* sgd */
    float rho;       /* rmsprop, adadelta */
    float l2;        /* weight decay added to the gradient (0 = off) */
    float clipnorm;  /* clip the global gradient norm to this (0 = off) */
    float clipvalue; /* clip each gradient element to [-v, v] (0 = off) */
    uint64_t t;      /* steps begun (wb_optim_begin), starts at 0 */
    float scale;     /* gradient scale of the current step (set by begin) */
    wb_adam_mode adam; /* adam: rows outside the minibatch (catchup, lazy, dense) */
} wb_optim;

/* Defaults of `kind` (table above), t = 0, scale = 1, no clipping, no L2. */
void wb_optim_init(wb_optim *o, wb_opt_kind kind);

/* "adam", "sgd", "rmsprop", "adagrad", "adadelta"; and back (-1 unknown). */
const char *wb_optim_name(wb_opt_kind kind);
int wb_optim_parse(const char *name);

/* "catchup", "lazy", "dense"; and back (-1 unknown). */
const char *wb_adam_mode_name(wb_adam_mode mode);
int wb_adam_mode_parse(const char *name);

/* State floats per parameter element (table above). */
size_t wb_optim_nstate(wb_opt_kind kind);

/* Begin a step: t += 1; scale = clipnorm / sqrt(grad_sqnorm) when
 * clipnorm > 0 and sqrt(grad_sqnorm) > clipnorm, else 1.  grad_sqnorm is
 * the sum of squares of EVERY gradient of the step (dense tensors and
 * touched rows: see wb_sqnorm); pass 0 when clipnorm is 0.  (PyTorch's
 * clip_grad_norm_ divides by norm + 1e-6 instead: a relative difference of
 * 1e-6/norm.) */
void wb_optim_begin(wb_optim *o, double grad_sqnorm);

/* Update n parameters w with gradients g and state (nstate·n floats,
 * slot-major), by the rule of o->kind at step o->t (>= 1). */
void wb_optim_update(const wb_optim *o, float *w, const float *g, float *state, size_t n);

/* The elements [lo, hi) of a span of n (state as above, for the whole
 * span): the same numbers as wb_optim_update over the span, so a span may
 * be cut between threads anywhere. */
void wb_optim_update_slice(const wb_optim *o, float *w, const float *g, float *state, size_t n, size_t lo, size_t hi);

/* ---- Adam's catch-up of idle rows (above) ----------------------------------
 * Q̃a(u) = Σ_{i>=0} β1^i / bc1(u+i) and Q̃d(u) = Σ_{i>=0} ρ^i·sqrt(bc2(u+i)) /
 * bc1(u+i) (ρ = β1/sqrt(β2)), so that A = lr·(β1·Q̃a(t0+1) - β1^(k+1)·Q̃a(t+1))
 * and P likewise with ρ and Q̃d.  Values are computed in chunks of 4096 steps
 * by the backward recursion Q(u) = f(u) + β·Q(u+1) from a direct sum at the
 * chunk's end (terms down to 2^-60), and are a pure function of u: a table
 * filled ahead and the fallback for steps beyond it give the same bits.
 * Past the step where both bias corrections round to 1 in double, Q is
 * constant and not stored (at most ~37,000 steps for β2 = 0.999: 600 KB). */
typedef struct wb_catchup {
    float beta1, beta2;      /* the table's (the optimizer's may change: checked) */
    double rho;              /* β1/sqrt(β2) */
    size_t K;                /* terms of a direct sum */
    uint64_t flat;           /* Q(u) is constant for u > flat (a chunk multiple) */
    double qa_flat, qd_flat;
    double *qa, *qd;         /* Q̃a(u), Q̃d(u) at index u-1, u <= len */
    uint64_t len, cap;
    double *bc1;             /* 1-β1^u at index u-1, u <= len (wb_optim_idle) */
    float *bc2s;             /* (float)sqrt(1-β2^u), likewise */
} wb_catchup;

/* The per-row numbers of a catch-up of k idle steps. */
typedef struct wb_catchup_coef {
    float step;              /* P */
    float eps;               /* eps·P/A */
    float fm, fv;            /* β1^k, β2^k */
} wb_catchup_coef;

void wb_catchup_init(wb_catchup *c);
void wb_catchup_free(wb_catchup *c);
/* 1 when o is Adam with 0 < β1 < sqrt(β2) <= 1 by a margin (ρ <= 1-1e-5),
 * which the catch-up needs (with β1 >= sqrt(β2) an idle row's step grows). */
int wb_catchup_valid(const wb_optim *o);
/* Tables up to step `upto` (rebuilt when o's betas changed).  0, or -1 when
 * out of memory (the catch-up then computes what it needs: slower, same bits). */
int wb_catchup_reserve(wb_catchup *c, const wb_optim *o, uint64_t upto);
/* The coefficients of a row whose state is current through step t0, caught
 * up through step t > t0 (k = t - t0 idle steps).  c may be NULL or stale
 * (the values are then computed).  0 when there is nothing to do (t <= t0,
 * or o is not a valid Adam for the catch-up), else 1. */
int wb_catchup_coef_get(const wb_catchup *c, const wb_optim *o, uint64_t t0, uint64_t t, wb_catchup_coef *k);
/* out[i] = w[i] - step·m[i]/(sqrt(v[i]) + eps) for n elements (out may be w). */
void wb_catchup_weights(const wb_catchup_coef *k, float *out, const float *w, const float *m, const float *v, size_t n);
/* m *= β1^k, v *= β2^k. */
void wb_catchup_moments(const wb_catchup_coef *k, float *m, float *v, size_t n);

/* ---- idle steps with weight decay (the bag-of-words rows, docs/design.md) ----
 * The steps t0+1 .. t of n elements (state as wb_optim_update's) whose
 * gradient is zero, so that only l2·w (and the state's decay) moves them:
 * the same bits as t - t0 calls of wb_optim_update with g = 0 and o->t set
 * to each step, for every rule, in O((t - t0)·n) without visiting other
 * rows.  Adam's bias corrections come from c's tables when they reach (c
 * may be NULL: computed, same bits). */
void wb_optim_idle(const wb_optim *o, const wb_catchup *c, uint64_t t0, uint64_t t, float *w, float *state, size_t n);

/* wb_optim_idle of many rows of n elements through the same step t: row r
 * is rows[r] (n weights, then its state, slot-major), current through
 * t0[r], sorted ascending (no row twice).  The same bits; narrow rows (a
 * binary model's one weight per feature) are stepped side by side, as one
 * row's steps are a chain of dependent square roots and divisions. */
void wb_optim_idle_rows(const wb_optim *o, const wb_catchup *c, float *const *rows, const uint64_t *t0, size_t nrows,
                        uint64_t t, size_t n);

/* Σ g[i]² in double. */
double wb_sqnorm(const float *g, size_t n);

/* Max-norm constraint (Keras max_norm(c) on a Dense kernel): every row of
 * W[rows, cols] (one output unit's incoming weights, torch Linear layout)
 * whose L2 norm exceeds c is scaled to norm c.  Kim 2014 uses c = 3. */
void wb_maxnorm_rows(float *W, size_t rows, size_t cols, float c);

#ifdef __cplusplus
}
#endif
#endif /* WORDBENCH_OPTIM_H */
