/*
 * nn.c — the layers of the CNN text classifiers (see wordbench/nn.h): dense,
 * Conv1D (valid, stride 1), global max / global average / windowed max
 * pooling, ReLU, inverted dropout, softmax + cross-entropy, sigmoid + binary
 * cross-entropy, and the stable softmax / sigmoid used by predict.
 *
 * Leaves out: allocation (callers own every buffer, including scratch),
 * shape validation (done once by the model), parameter initialisation and
 * the optimizer (optim.c), and the order of the layers (model.c).
 *
 * Size letters, fixed for the whole file (STYLE.md's, and the names nn.h uses):
 *   B  batch size
 *   T  tokens (rows) per example
 *   E  embedding / input channels per row
 *   F  filters (Conv1D output channels)
 *   K  kernel width
 *   S  Conv1D output positions per example, T - K + 1
 *   M  windows over the whole batch, B*T - K + 1 (see the Conv1D note)
 *   I, O  dense input and output features
 *   C  classes (losses) or channels (pooling)
 * Gradients are prefixed `d`.  Every matrix product is one cblas_sgemm whose
 * comment states the math, the layout (row-major, leading dimensions) and
 * the transposes; tests/test_nn.c holds a naive-loop twin of each.
 *
 * Conv1D without im2col.  Example b's input is T rows of E floats, and
 * consecutive examples are contiguous, so window r (rows r .. r+K-1 of the
 * batch seen as B*T rows) is the K*E contiguous floats at x + r*E.  Output
 * row r = b*T + s is a real output when s < S; when s >= S the window crosses
 * into example b+1 and the row is scratch.  The product of the M×(K*E)
 * "window matrix" (lda = E) with Wᵀ is what the layer computes, but BLAS
 * requires lda >= the row length (K*E), and OpenBLAS refuses lda = E with
 * "parameter number 10 had an illegal value" (checked on 0.3.21).  So the
 * product is split along the kernel: with X_t the M×E matrix of rows t ..
 * t+M-1 (x + t*E, lda = E, legal) and W_t the F×E column block t of W
 * (W + t*E, ldb = K*E, legal),
 *     Y[M,F] = Σ_t X_t · W_tᵀ,
 * K sgemms over the whole batch, each with an inner dimension of E.  The
 * backward passes split the same way.
 */
#include "wordbench/nn.h"

#include <cblas.h>
#include <math.h>
#include <string.h>

/* OpenBLAS' cblas.h pulls in <complex.h>, whose macro I (the imaginary
 * unit) would swallow the dense layer's size letter. */
#ifdef I
#undef I
#endif

/* ---- dense ---------------------------------------------------------------- */

void wb_dense_forward(const float *x /* (B,I) */, size_t B, size_t I,
                      const float *W /* (O,I) */, const float *b /* (O) or NULL */, size_t O,
                      float *y /* (B,O) */) {
    if (B == 0 || O == 0) return;
    if (b)
        for (size_t i = 0; i < B; i++) memcpy(y + i * O, b, O * sizeof(float));
    if (I == 0) {
        if (!b) memset(y, 0, B * O * sizeof(float));
        return;
    }
    /* y[B,O] = x[B,I] · W[O,I]ᵀ (+ y when it holds the bias): row-major,
     * A = x NoTrans lda I, B = W Trans ldb I, C = y ldc O. */
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)B, (int)O, (int)I, 1.0f, x, (int)I,
                W, (int)I, b ? 1.0f : 0.0f, y, (int)O);
}

/* Differentiates y = x·Wᵀ + b. */
void wb_dense_backward(const float *x /* (B,I) */, const float *dy /* (B,O) */, size_t B,
                       size_t I, const float *W /* (O,I) */, size_t O, float *dW /* (O,I) */,
                       float *db /* (O) */, float *dx /* (B,I) */) {
    if (B == 0 || O == 0) return;
    if (dW && I > 0)
        /* dW[O,I] += dy[B,O]ᵀ · x[B,I]: A = dy Trans lda O, B = x NoTrans
         * ldb I, C = dW ldc I, beta 1. */
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)O, (int)I, (int)B, 1.0f, dy,
                    (int)O, x, (int)I, 1.0f, dW, (int)I);
    if (db)
        for (size_t i = 0; i < B; i++)
            for (size_t o = 0; o < O; o++) db[o] += dy[i * O + o];
    if (dx && I > 0)
        /* dx[B,I] += dy[B,O] · W[O,I]: A = dy NoTrans lda O, B = W NoTrans
         * ldb I, C = dx ldc I, beta 1. */
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)B, (int)I, (int)O, 1.0f, dy,
                    (int)O, W, (int)I, 1.0f, dx, (int)I);
}

/* ---- Conv1D ---------------------------------------------------------------- */

void wb_conv1d_forward(const float *x /* (B,T,E) */, size_t B, size_t T, size_t E,
                       const float *W /* (F,K,E) */, const float *b /* (F) or NULL */, size_t F,
                       size_t K, float *y /* (B,T,F), rows s >= S scratch */) {
    if (B == 0 || F == 0) return;
    const size_t M = B * T - K + 1, KE = K * E;
    /* Start every row (scratch rows included, so they never hold garbage)
     * from the bias, then accumulate the K products with beta = 1. */
    if (b)
        for (size_t r = 0; r < B * T; r++) memcpy(y + r * F, b, F * sizeof(float));
    else
        memset(y, 0, B * T * F * sizeof(float));
    if (E == 0) return;
    for (size_t t = 0; t < K; t++)
        /* y[M,F] += X_t[M,E] · W_t[F,E]ᵀ, X_t row r = x + (r+t)*E (lda E),
         * W_t row f = W + f*K*E + t*E (ldb K*E): A NoTrans, B Trans, C = y
         * ldc F.  Rows of y at or beyond M are never written by BLAS. */
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)M, (int)F, (int)E, 1.0f,
                    x + t * E, (int)E, W + t * E, (int)KE, 1.0f, y, (int)F);
}

/* Differentiates y[b][s] = b + Σ_t x[b][s+t]·W[:,t,:]ᵀ for s < S. */
void wb_conv1d_backward(const float *x /* (B,T,E) */, float *dy /* (B,T,F) */, size_t B,
                        size_t T, size_t E, const float *W /* (F,K,E) */, size_t F, size_t K,
                        float *dW /* (F,K,E) */, float *db /* (F) */, float *dx /* (B,T,E) */) {
    if (B == 0 || F == 0) return;
    const size_t S = T - K + 1, M = B * T - K + 1, KE = K * E;
    /* Scratch rows contribute nothing: zeroing them lets the products below
     * run over all M windows, boundary-crossing ones included. */
    if (K > 1)
        for (size_t i = 0; i < B; i++) memset(dy + (i * T + S) * F, 0, (K - 1) * F * sizeof(float));
    if (db)
        for (size_t i = 0; i < B; i++)
            for (size_t s = 0; s < S; s++)
                for (size_t f = 0; f < F; f++) db[f] += dy[(i * T + s) * F + f];
    if (E == 0) return;
    for (size_t t = 0; t < K; t++) {
        if (dW)
            /* dW_t[F,E] += dy[M,F]ᵀ · X_t[M,E]: A = dy Trans lda F, B = X_t
             * = x + t*E NoTrans ldb E, C = dW + t*E ldc K*E, beta 1. */
            cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)F, (int)E, (int)M, 1.0f, dy,
                        (int)F, x + t * E, (int)E, 1.0f, dW + t * E, (int)KE);
        if (dx)
            /* dX_t[M,E] += dy[M,F] · W_t[F,E], dX_t row r = dx + (r+t)*E: A =
             * dy NoTrans lda F, B = W + t*E NoTrans ldb K*E, C = dx + t*E ldc
             * E, beta 1.  The K calls write overlapping rows one after the
             * other, which is the overlap-add. */
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)M, (int)E, (int)F, 1.0f,
                        dy, (int)F, W + t * E, (int)KE, 1.0f, dx + t * E, (int)E);
    }
}

/* Differentiates pool[b][f] = y[b][argmax[b][f]][f] composed with the
 * Conv1D above: only one window per (b, f) is touched.  A zero dpool entry
 * (a filter that ReLU switched off) is skipped outright. */
void wb_conv1d_backward_argmax(const float *x /* (B,T,E) */, size_t B, size_t T, size_t E,
                               const float *W /* (F,K,E) */, size_t F, size_t K,
                               const int32_t *argmax /* (B,F) */, const float *dpool /* (B,F) */,
                               float *dW /* (F,K,E) */, float *db /* (F) */,
                               float *dx /* (B,T,E) */) {
    const size_t KE = K * E;
    for (size_t i = 0; i < B; i++)
        for (size_t f = 0; f < F; f++) {
            const float g = dpool[i * F + f];
            if (g == 0.0f) continue;
            const size_t r = i * T + (size_t)argmax[i * F + f]; /* window row */
            if (db) db[f] += g;
            if (KE == 0) continue;
            if (dW) cblas_saxpy((int)KE, g, x + r * E, 1, dW + f * KE, 1);
            if (dx) cblas_saxpy((int)KE, g, W + f * KE, 1, dx + r * E, 1);
        }
}

/* ---- pooling -------------------------------------------------------------- */

void wb_gmaxpool_forward(const float *x /* (B,stride,C) */, size_t B, size_t stride, size_t S,
                         size_t C, float *out /* (B,C) */, int32_t *argmax /* (B,C) */) {
    for (size_t i = 0; i < B; i++) {
        const float *xb = x + i * stride * C;
        float *o = out + i * C;
        int32_t *a = argmax + i * C;
        memcpy(o, xb, C * sizeof(float));
        for (size_t c = 0; c < C; c++) a[c] = 0;
        /* Row by row keeps the reads sequential; strict > keeps the first
         * maximum and never moves to a NaN. */
        for (size_t t = 1; t < S; t++) {
            const float *row = xb + t * C;
            for (size_t c = 0; c < C; c++)
                if (row[c] > o[c]) o[c] = row[c], a[c] = (int32_t)t;
        }
    }
}

/* Differentiates out[b][c] = x[b][argmax[b][c]][c]. */
void wb_gmaxpool_backward(const float *dout /* (B,C) */, const int32_t *argmax /* (B,C) */,
                          size_t B, size_t stride, size_t C, float *dx /* (B,stride,C) */) {
    for (size_t i = 0; i < B; i++)
        for (size_t c = 0; c < C; c++)
            dx[(i * stride + (size_t)argmax[i * C + c]) * C + c] += dout[i * C + c];
}

void wb_gavgpool_forward(const float *x /* (B,T,C) */, size_t B, size_t T, size_t C,
                         float *out /* (B,C) */) {
    const float inv = 1.0f / (float)T;
    for (size_t i = 0; i < B; i++) {
        float *o = out + i * C;
        memset(o, 0, C * sizeof(float));
        for (size_t t = 0; t < T; t++) {
            const float *row = x + (i * T + t) * C;
            for (size_t c = 0; c < C; c++) o[c] += row[c];
        }
        for (size_t c = 0; c < C; c++) o[c] *= inv;
    }
}

/* Differentiates out[b][c] = (1/T) Σ_t x[b][t][c]. */
void wb_gavgpool_backward(const float *dout /* (B,C) */, size_t B, size_t T, size_t C,
                          float *dx /* (B,T,C) */) {
    const float inv = 1.0f / (float)T;
    for (size_t i = 0; i < B; i++)
        for (size_t t = 0; t < T; t++) {
            float *row = dx + (i * T + t) * C;
            for (size_t c = 0; c < C; c++) row[c] += dout[i * C + c] * inv;
        }
}

void wb_maxpool_forward(const float *x /* (B,T,C) */, size_t B, size_t T, size_t C, size_t p,
                        float *out /* (B,T/p,C) */, int32_t *argmax /* (B,T/p,C) */) {
    const size_t J = T / p;
    for (size_t i = 0; i < B; i++)
        for (size_t j = 0; j < J; j++) {
            float *restrict o = out + (i * J + j) * C;
            int32_t *restrict a = argmax + (i * J + j) * C;
            const size_t t0 = j * p;
            memcpy(o, x + (i * T + t0) * C, C * sizeof(float));
            for (size_t c = 0; c < C; c++) a[c] = (int32_t)t0;
            for (size_t t = t0 + 1; t < t0 + p; t++) {
                const float *restrict row = x + (i * T + t) * C;
                const int32_t ti = (int32_t)t;
                for (size_t c = 0; c < C; c++) { /* masks, not branches: gcc vectorizes it */
                    const float r = row[c], m = o[c];
                    const int32_t gt = -(int32_t)(r > m); /* all ones where row c is larger */
                    o[c] = gt ? r : m;
                    a[c] = (ti & gt) | (a[c] & ~gt);
                }
            }
        }
}

/* Differentiates out[b][j][c] = x[b][argmax[b][j][c]][c]. */
void wb_maxpool_backward(const float *dout /* (B,T/p,C) */, const int32_t *argmax /* (B,T/p,C) */,
                         size_t B, size_t T, size_t C, size_t p, float *dx /* (B,T,C) */) {
    const size_t J = T / p;
    for (size_t i = 0; i < B; i++)
        for (size_t j = 0; j < J; j++)
            for (size_t c = 0; c < C; c++) {
                const size_t e = (i * J + j) * C + c;
                dx[(i * T + (size_t)argmax[e]) * C + c] += dout[e];
            }
}

/* ---- activations -------------------------------------------------------------- */

void wb_relu_forward(float *x /* (n) */, size_t n) {
    /* a select, not a branch: the compiler vectorizes it, and random signs
     * made the branch mispredict half the time (13% of a charcnn step) */
    for (size_t i = 0; i < n; i++) {
        float v = x[i];
        x[i] = v > 0.0f ? v : 0.0f; /* also maps NaN and -0 to +0 */
    }
}

/* Differentiates y = max(x, 0) given y; rewrites dy. */
void wb_relu_backward(const float *y /* (n) */, float *dy /* (n) */, size_t n) {
    for (size_t i = 0; i < n; i++) dy[i] = y[i] > 0.0f ? dy[i] : 0.0f;
}

/* The keep decision: one wb_rng_next() per element, in index order; element
 * i is dropped iff the 64-bit draw u satisfies u < floor(p · 2^64), so
 * P(drop) = p to within 2^-64.  p = 0 draws nothing and leaves rng as it was.
 * Kept values are multiplied by the float 1/(1-p), backward uses the same
 * float, so forward and backward scale identically. */
void wb_dropout_forward(float *x /* (n) */, size_t n, float p, wb_rng *rng,
                        uint8_t *mask /* (n) */) {
    if (p <= 0.0f) {
        memset(mask, 1, n);
        return;
    }
    /* p < 1, so p·2^64 < 2^64 exactly in double (a float has 24 bits). */
    const uint64_t thr = (uint64_t)((double)p * 18446744073709551616.0);
    const float scale = 1.0f / (1.0f - p);
    for (size_t i = 0; i < n; i++) {
        const int keep = wb_rng_next(rng) >= thr;
        mask[i] = (uint8_t)keep;
        x[i] = keep ? x[i] * scale : 0.0f;
    }
}

/* Differentiates y = mask · x / (1-p); rewrites dy. */
void wb_dropout_backward(float *dy /* (n) */, size_t n, float p, const uint8_t *mask /* (n) */) {
    if (p <= 0.0f) return; /* mask is all ones and the scale is 1 */
    const float scale = 1.0f / (1.0f - p);
    for (size_t i = 0; i < n; i++) dy[i] = mask[i] ? dy[i] * scale : 0.0f;
}

/* ---- heads and losses ------------------------------------------------------------ */

/* Per row: m = max z, e_c = exp(z_c - m) (in (0, 1], at least one is 1, so
 * the sum is in [1, C] and never overflows), logsumexp = m + log Σ e,
 * softmax = e / Σ e.  The loss is summed in double. */
float wb_softmax_xent(const float *z /* (B,C) */, const int32_t *y /* (B) */,
                      const float *cw /* (C) or NULL */, size_t B, size_t C,
                      float *dz /* (B,C) */, float *prob /* (B,C) or NULL */) {
    double loss = 0.0;
    const float invB = 1.0f / (float)B;
    for (size_t i = 0; i < B; i++) {
        const float *zr = z + i * C;
        float *g = dz + i * C;
        float m = zr[0];
        for (size_t c = 1; c < C; c++)
            if (zr[c] > m) m = zr[c];
        double sum = 0.0;
        for (size_t c = 0; c < C; c++) {
            g[c] = expf(zr[c] - m);
            sum += g[c];
        }
        const size_t yi = (size_t)y[i];
        const float w = cw ? cw[yi] : 1.0f;
        const double lse = (double)m + log(sum);
        loss += (double)w * (lse - (double)zr[yi]);
        /* d/dz_c of w·(lse - z_y) / B = w·(softmax_c - [c == y]) / B. */
        const float inv = (float)(1.0 / sum), wb = w * invB;
        for (size_t c = 0; c < C; c++) {
            const float pc = g[c] * inv;
            if (prob) prob[i * C + c] = pc;
            g[c] = wb * (pc - (c == yi ? 1.0f : 0.0f));
        }
    }
    return (float)(loss / (double)B);
}

/* σ(z) without overflow: exp of a non-positive number only. */
static float sigmoidf_stable(float z) {
    if (z >= 0.0f) return 1.0f / (1.0f + expf(-z));
    const float e = expf(z);
    return e / (1.0f + e);
}

/* Per element: softplus(z) = max(z, 0) + log1p(exp(-|z|)) (exp of a
 * non-positive number only), loss w·(softplus(z) - t·z), gradient
 * w·(σ(z) - t)/(B·C).  For t in {0, 1} this is -w·[t·log σ + (1-t)·log(1-σ)]
 * with w = pos_weight on positives, i.e. BCEWithLogitsLoss. */
float wb_sigmoid_bce(const float *z /* (B,C) */, const float *t /* (B,C) */,
                     const float *cw /* (C) or NULL */, size_t B, size_t C,
                     float *dz /* (B,C) */, float *prob /* (B,C) or NULL */) {
    return wb_sigmoid_bce_weighted(z, t, cw, NULL, B, C, dz, prob);
}

float wb_sigmoid_bce_weighted(const float *z /* (B,C) */, const float *t /* (B,C) */, const float *pos /* (C) or NULL */,
                              const float *neg /* (C) or NULL */, size_t B, size_t C, float *dz /* (B,C) */,
                              float *prob /* (B,C) or NULL */) {
    double loss = 0.0;
    const size_t n = B * C;
    const float invn = 1.0f / (float)n;
    for (size_t i = 0; i < n; i++) {
        const float zi = z[i], ti = t[i];
        const float w = ti == 1.0f ? (pos ? pos[i % C] : 1.0f) : (neg ? neg[i % C] : 1.0f);
        const double sp = (double)fmaxf(zi, 0.0f) + log1p(exp(-fabs((double)zi)));
        loss += (double)w * (sp - (double)ti * (double)zi);
        const float s = sigmoidf_stable(zi);
        if (prob) prob[i] = s;
        dz[i] = w * (s - ti) * invn;
    }
    return (float)(loss / (double)n);
}

void wb_softmax_row(float *z /* (C) */, size_t C) {
    if (C == 0) return;
    float m = z[0];
    for (size_t c = 1; c < C; c++)
        if (z[c] > m) m = z[c];
    double sum = 0.0;
    for (size_t c = 0; c < C; c++) {
        z[c] = expf(z[c] - m);
        sum += z[c];
    }
    const float inv = (float)(1.0 / sum);
    for (size_t c = 0; c < C; c++) z[c] *= inv;
}

void wb_sigmoid(float *z /* (n) */, size_t n) {
    for (size_t i = 0; i < n; i++) z[i] = sigmoidf_stable(z[i]);
}
