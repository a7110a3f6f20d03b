/*
 * wordbench/nn.h — the layers of the CNN text classifiers: explicit forward
 * and backward functions on plain float arrays.  No graph, no tensors, no
 * allocation: the model (model.h) owns every buffer and calls these in order.
 *
 * Conventions (every function):
 *   - float32, row-major, batch-major.  Size letters are STYLE.md's: B
 *     batch, T tokens (rows) per example, E values per row, F filters, K
 *     kernel width, S = T - K + 1 Conv1D output positions, C classes or
 *     channels; the dense layer's input and output widths are I and O.
 *   - Forward functions OVERWRITE their outputs.
 *   - Backward functions ACCUMULATE (+=) into every gradient they produce:
 *     parameter gradients (dW, db) and input gradients (dx).  The caller
 *     zeroes them before the first contribution.  A NULL gradient pointer
 *     means "not needed": that work is skipped entirely (a frozen embedding
 *     below the first layer passes dx = NULL).
 *   - Weight layouts are PyTorch's, except Conv1D (below).  Every matrix
 *     product goes through OpenBLAS (cblas_sgemm / cblas_sgemv).
 *   - Sizes are size_t; nothing here checks them beyond what the comments
 *     state: callers validate shapes once, at model construction.
 *   - Deterministic: the same inputs give bit-identical outputs for a fixed
 *     OpenBLAS thread count.
 *
 * Threads: every function is reentrant; OpenBLAS may use its own threads.
 *
 * Include order: <complex.h> (which OpenBLAS' <cblas.h> includes) defines a
 * macro I, the name of the dense input size below, so include this header
 * before either of them (src/nn.c #undefs I after <cblas.h>).
 */
#ifndef WORDBENCH_NN_H
#define WORDBENCH_NN_H

#include <stddef.h>
#include <stdint.h>

#include "wordbench/rng.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- dense ---------------------------------------------------------------
 * y[B,O] = x[B,I] · Wᵀ + b.   W is [O, I] (torch.nn.Linear.weight), b [O]
 * (may be NULL: no bias). */
void wb_dense_forward(const float *x, size_t B, size_t I, const float *W, const float *b,
                      size_t O, float *y);

/* dW[O,I] += dyᵀ·x;  db[O] += Σ_b dy;  dx[B,I] += dy·W.  Any of dW, db, dx
 * may be NULL. */
void wb_dense_backward(const float *x, const float *dy, size_t B, size_t I, const float *W,
                       size_t O, float *dW, float *db, float *dx);

/* ---- Conv1D: valid, stride 1 ----------------------------------------------
 * x is [B, T, E]: example b starts at x + b*T*E.  W is [F, K*E] with
 * W[f*K*E + t*E + d] multiplying x[b][s+t][d] (PyTorch's Conv1d weight
 * [F, E, K] transposed to [F, K, E]: W[f][t][d] = Wt[f][d][t]); b is [F]
 * (may be NULL).  Requires 1 <= K <= T.
 *
 * Output y[b][s][f] for s in [0, S), S = T-K+1, is stored at
 * y[(b*T + s)*F + f]: the output keeps an example stride of T rows, and
 * the K-1 rows s in [S, T) of every example are scratch (unspecified
 * values, though always written, never left uninitialised).  So y holds
 * B*T*F floats.  This lets the whole batch be computed over the
 * M = B*T-K+1 overlapping windows, each K*E contiguous floats of x, with
 * no im2col copy; windows crossing an example boundary land in the
 * scratch rows.
 * BLAS forbids the single product with lda = E < K*E (OpenBLAS rejects it
 * as an illegal parameter), so it is K sgemms, one per kernel offset t:
 * Y[M,F] += X_t[M,E] · W_t[F,E]ᵀ with X_t = x + t*E (lda E) and W_t the
 * columns [t*E, t*E+E) of W (ldb K*E). */
void wb_conv1d_forward(const float *x, size_t B, size_t T, size_t E, const float *W,
                       const float *b, size_t F, size_t K, float *y);

/* General backward.  dy has the layout of y; its scratch rows are ignored
 * (this function may overwrite them with zeros, hence not const).
 * dW[F,K*E] += Σ dy[b][s][f]·window(b,s);  db[F] += Σ dy;  dx[B,T,E] +=
 * the overlap-add of dy·W.  Any of dW, db, dx may be NULL. */
void wb_conv1d_backward(const float *x, float *dy, size_t B, size_t T, size_t E,
                        const float *W, size_t F, size_t K, float *dW, float *db, float *dx);

/* Backward of Conv1D followed by a global max pool over time (the pool's
 * forward gave argmax[b][f] in [0, S)): only window argmax[b][f] of each
 * filter receives gradient dpool[b][f], so the cost is O(B·F·K·E) axpys
 * instead of sgemms; entries with dpool[b][f] == 0 (filters switched off
 * by a ReLU) are skipped.  dpool and argmax are [B, F].  The bias
 * gradient is db[f] += Σ_b dpool[b][f].  Any of dW, db, dx may be NULL.  Equal (to
 * rounding) to wb_gmaxpool_backward followed by wb_conv1d_backward. */
void wb_conv1d_backward_argmax(const float *x, size_t B, size_t T, size_t E, const float *W,
                               size_t F, size_t K, const int32_t *argmax, const float *dpool,
                               float *dW, float *db, float *dx);

/* ---- pooling ------------------------------------------------------------
 * Global max pool over time of x with an example stride of `stride` rows
 * of C floats, of which rows [0, S) are valid (1 <= S <= stride):
 * out[b][c] = max_{t<S} x[(b*stride + t)*C + c]; argmax[b][c] = the first
 * t reaching it.  For a plain [B, T, C] tensor pass stride = S = T; for a
 * Conv1D output pass stride = T, S = T-K+1.  (NaN inputs: unspecified but
 * never out-of-range argmax.) */
void wb_gmaxpool_forward(const float *x, size_t B, size_t stride, size_t S, size_t C,
                         float *out, int32_t *argmax);

/* dx[(b*stride + argmax[b][c])*C + c] += dout[b][c]. */
void wb_gmaxpool_backward(const float *dout, const int32_t *argmax, size_t B, size_t stride,
                          size_t C, float *dx);

/* Global average pool: out[b][c] = (1/T) Σ_{t<T} x[b][t][c] over ALL T
 * rows (padding positions included, as Keras' GlobalAveragePooling1D
 * without a mask).  x is [B, T, C]. */
void wb_gavgpool_forward(const float *x, size_t B, size_t T, size_t C, float *out);
void wb_gavgpool_backward(const float *dout, size_t B, size_t T, size_t C, float *dx);

/* Max pool of size p, stride p, valid (Keras MaxPooling1D(pool_size=p)):
 * x [B, T, C] -> out [B, T/p, C] (floor; trailing rows dropped);
 * argmax[b][j][c] = the row t in [j*p, j*p+p) of the maximum (first one).
 * Requires 1 <= p <= T. */
void wb_maxpool_forward(const float *x, size_t B, size_t T, size_t C, size_t p, float *out,
                        int32_t *argmax);
void wb_maxpool_backward(const float *dout, const int32_t *argmax, size_t B, size_t T,
                         size_t C, size_t p, float *dx);

/* ---- activations ----------------------------------------------------------
 * ReLU in place: x = max(x, 0).  Backward in place on dy: dy[i] = 0 where
 * y[i] <= 0 (y = the forward OUTPUT).  (The one exception to "backward
 * accumulates": it rewrites the incoming gradient.) */
void wb_relu_forward(float *x, size_t n);
void wb_relu_backward(const float *y, float *dy, size_t n);

/* Inverted dropout in place with drop probability p in [0, 1): each x[i] is
 * zeroed with probability p (mask[i] = 0) or scaled by 1/(1-p)
 * (mask[i] = 1).  Draws from rng (deterministic for a seed): one
 * wb_rng_next() per element in index order, element i dropped iff the draw
 * is < floor(p * 2^64).  Kept values are multiplied by the float
 * 1/(1-p), and backward multiplies by the same float.  p = 0 sets every
 * mask[i] = 1, leaves x unchanged and does not advance rng.  Backward in
 * place on dy: dy[i] = mask[i] ? dy[i]·(1/(1-p)) : 0. */
void wb_dropout_forward(float *x, size_t n, float p, wb_rng *rng, uint8_t *mask);
void wb_dropout_backward(float *dy, size_t n, float p, const uint8_t *mask);

/* ---- heads and losses -------------------------------------------------------
 * Both losses take logits z[B, C] and are numerically stable for any finite
 * z (log-sum-exp; softplus).  They return the MEAN loss over the batch and
 * OVERWRITE dz[B, C] with its gradient (d mean / d z).  prob (may be NULL)
 * receives the probabilities (softmax rows or sigmoids).  cw (may be NULL)
 * are per-class weights [C].
 *
 * Softmax + cross-entropy, y[B] class ids in [0, C):
 *   loss = (1/B) Σ_b cw[y_b] · (logsumexp(z_b) - z_b[y_b])
 * (Keras' class_weight: divided by B, not by the sum of weights.) */
float wb_softmax_xent(const float *z, const int32_t *y, const float *cw, size_t B, size_t C,
                      float *dz, float *prob);

/* Sigmoid + binary cross-entropy, targets t[B, C] in {0, 1} (binary task:
 * C = 1; multi-label: one column per label):
 *   loss = (1/(B·C)) Σ_{b,c} w_bc · (softplus(z) - t·z),
 *   w_bc = cw[c] where t_bc = 1, else 1
 * which is PyTorch's BCEWithLogitsLoss(pos_weight = cw) with its default
 * mean over all elements (as Keras' binary_crossentropy).  For the binary
 * task C = 1 and cw[0] weights the positive class. */
float wb_sigmoid_bce(const float *z, const float *t, const float *cw, size_t B, size_t C,
                     float *dz, float *prob);

/* The same with a weight per target value: w_bc = pos[c] where t_bc = 1,
 * neg[c] where t_bc = 0 (pos or neg NULL: 1).  wb_sigmoid_bce(cw) is
 * pos = cw, neg = NULL.  For the binary task (C = 1), neg[0] and pos[0]
 * are the weights of the two classes (Keras' class_weight). */
float wb_sigmoid_bce_weighted(const float *z, const float *t, const float *pos, const float *neg, size_t B, size_t C,
                              float *dz, float *prob);

/* Numerically stable helpers used by predict: softmax of one row in place;
 * sigmoid of n values in place. */
void wb_softmax_row(float *z, size_t C);
void wb_sigmoid(float *z, size_t n);

#ifdef __cplusplus
}
#endif
#endif /* WORDBENCH_NN_H */
