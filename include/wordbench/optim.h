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
} wb_optim;

/* Defaults of `kind` (table above), t = 0, scale = 1, no clipping, no L2. */
void wb_optim_init(wb_optim *o, wb_opt_kind kind);

/* "adam", "sgd", "rmsprop", "adagrad", "adadelta"; and back (-1 unknown). */
const char *wb_optim_name(wb_opt_kind kind);
int wb_optim_parse(const char *name);

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
