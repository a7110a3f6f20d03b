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
 * Size letters, fixed for the whole file (the names nn.h uses):
 *   B  batch size
 *   L  tokens per example (STYLE.md's T; here T is the Conv1D output length)
 *   D  embedding / input channels (STYLE.md's E)
 *   F  filters (Conv1D output channels)
 *   k  kernel width (STYLE.md's K)
 *   T  Conv1D output positions per example, L - k + 1
 *   M  windows over the whole batch, B*L - k + 1 (see the Conv1D note)
 *   I, O  dense input and output features
 *   C  classes (losses) or channels (pooling)
 * Gradients are prefixed `d`.  Every matrix product is one cblas_sgemm whose
 * comment states the math, the layout (row-major, leading dimensions) and
 * the transposes; tests/test_nn.c holds a naive-loop twin of each.
 *
 * Conv1D without im2col.  Example b's input is L rows of D floats, and
 * consecutive examples are contiguous, so window r (rows r .. r+k-1 of the
 * batch seen as B*L rows) is the k*D contiguous floats at x + r*D.  Output
 * row r = b*L + s is a real output when s < T; when s >= T the window crosses
 * into example b+1 and the row is scratch.  The product of the M×(k*D)
 * "window matrix" (lda = D) with Wᵀ is what the layer computes, but BLAS
 * requires lda >= the row length (k*D), and OpenBLAS refuses lda = D with
 * "parameter number 10 had an illegal value" (checked on 0.3.21).  So the
 * product is split along the kernel: with X_t the M×D matrix of rows t ..
 * t+M-1 (x + t*D, lda = D, legal) and W_t the F×D column block t of W
 * (W + t*D, ldb = k*D, legal),
 *     Y[M,F] = Σ_t X_t · W_tᵀ,
 * k sgemms over the whole batch, each with an inner dimension of D.  The
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

void wb_conv1d_forward(const float *x /* (B,L,D) */, size_t B, size_t L, size_t D,
                       const float *W /* (F,k,D) */, const float *b /* (F) or NULL */, size_t F,
                       size_t k, float *y /* (B,L,F), rows s >= T scratch */) {
    if (B == 0 || F == 0) return;
    const size_t M = B * L - k + 1, kD = k * D;
    /* Start every row (scratch rows included, so they never hold garbage)
     * from the bias, then accumulate the k products with beta = 1. */
    if (b)
        for (size_t r = 0; r < B * L; r++) memcpy(y + r * F, b, F * sizeof(float));
    else
        memset(y, 0, B * L * F * sizeof(float));
    if (D == 0) return;
    for (size_t t = 0; t < k; t++)
        /* y[M,F] += X_t[M,D] · W_t[F,D]ᵀ, X_t row r = x + (r+t)*D (lda D),
         * W_t row f = W + f*k*D + t*D (ldb k*D): A NoTrans, B Trans, C = y
         * ldc F.  Rows of y at or beyond M are never written by BLAS. */
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)M, (int)F, (int)D, 1.0f,
                    x + t * D, (int)D, W + t * D, (int)kD, 1.0f, y, (int)F);
}

/* Differentiates y[b][s] = b + Σ_t x[b][s+t]·W[:,t,:]ᵀ for s < T. */
void wb_conv1d_backward(const float *x /* (B,L,D) */, float *dy /* (B,L,F) */, size_t B,
                        size_t L, size_t D, const float *W /* (F,k,D) */, size_t F, size_t k,
                        float *dW /* (F,k,D) */, float *db /* (F) */, float *dx /* (B,L,D) */) {
    if (B == 0 || F == 0) return;
    const size_t T = L - k + 1, M = B * L - k + 1, kD = k * D;
    /* Scratch rows contribute nothing: zeroing them lets the products below
     * run over all M windows, boundary-crossing ones included. */
    if (k > 1)
        for (size_t i = 0; i < B; i++) memset(dy + (i * L + T) * F, 0, (k - 1) * F * sizeof(float));
    if (db)
        for (size_t i = 0; i < B; i++)
            for (size_t s = 0; s < T; s++)
                for (size_t f = 0; f < F; f++) db[f] += dy[(i * L + s) * F + f];
    if (D == 0) return;
    for (size_t t = 0; t < k; t++) {
        if (dW)
            /* dW_t[F,D] += dy[M,F]ᵀ · X_t[M,D]: A = dy Trans lda F, B = X_t
             * = x + t*D NoTrans ldb D, C = dW + t*D ldc k*D, beta 1. */
            cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)F, (int)D, (int)M, 1.0f, dy,
                        (int)F, x + t * D, (int)D, 1.0f, dW + t * D, (int)kD);
        if (dx)
            /* dX_t[M,D] += dy[M,F] · W_t[F,D], dX_t row r = dx + (r+t)*D: A =
             * dy NoTrans lda F, B = W + t*D NoTrans ldb k*D, C = dx + t*D ldc
             * D, beta 1.  The k calls write overlapping rows one after the
             * other, which is the overlap-add. */
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)M, (int)D, (int)F, 1.0f,
                        dy, (int)F, W + t * D, (int)kD, 1.0f, dx + t * D, (int)D);
    }
}

/* Differentiates pool[b][f] = y[b][argmax[b][f]][f] composed with the
 * Conv1D above: only one window per (b, f) is touched.  A zero dpool entry
 * (a filter that ReLU switched off) is skipped outright. */
void wb_conv1d_backward_argmax(const float *x /* (B,L,D) */, size_t B, size_t L, size_t D,
                               const float *W /* (F,k,D) */, size_t F, size_t k,
                               const int32_t *argmax /* (B,F) */, const float *dpool /* (B,F) */,
                               float *dW /* (F,k,D) */, float *db /* (F) */,
                               float *dx /* (B,L,D) */) {
    const size_t kD = k * D;
    for (size_t i = 0; i < B; i++)
        for (size_t f = 0; f < F; f++) {
            const float g = dpool[i * F + f];
            if (g == 0.0f) continue;
            const size_t r = i * L + (size_t)argmax[i * F + f]; /* window row */
            if (db) db[f] += g;
            if (kD == 0) continue;
            if (dW) cblas_saxpy((int)kD, g, x + r * D, 1, dW + f * kD, 1);
            if (dx) cblas_saxpy((int)kD, g, W + f * kD, 1, dx + r * D, 1);
        }
}

/* ---- pooling -------------------------------------------------------------- */

void wb_gmaxpool_forward(const float *x /* (B,stride,C) */, size_t B, size_t stride, size_t T,
                         size_t C, float *out /* (B,C) */, int32_t *argmax /* (B,C) */) {
    for (size_t i = 0; i < B; i++) {
        const float *xb = x + i * stride * C;
        float *o = out + i * C;
        int32_t *a = argmax + i * C;
        memcpy(o, xb, C * sizeof(float));
        for (size_t c = 0; c < C; c++) a[c] = 0;
        /* Row by row keeps the reads sequential; strict > keeps the first
         * maximum and never moves to a NaN. */
        for (size_t t = 1; t < T; t++) {
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

void wb_gavgpool_forward(const float *x /* (B,L,C) */, size_t B, size_t L, size_t C,
                         float *out /* (B,C) */) {
    const float inv = 1.0f / (float)L;
    for (size_t i = 0; i < B; i++) {
        float *o = out + i * C;
        memset(o, 0, C * sizeof(float));
        for (size_t t = 0; t < L; t++) {
            const float *row = x + (i * L + t) * C;
            for (size_t c = 0; c < C; c++) o[c] += row[c];
        }
        for (size_t c = 0; c < C; c++) o[c] *= inv;
    }
}

/* Differentiates out[b][c] = (1/L) Σ_t x[b][t][c]. */
void wb_gavgpool_backward(const float *dout /* (B,C) */, size_t B, size_t L, size_t C,
                          float *dx /* (B,L,C) */) {
    const float inv = 1.0f / (float)L;
    for (size_t i = 0; i < B; i++)
        for (size_t t = 0; t < L; t++) {
            float *row = dx + (i * L + t) * C;
            for (size_t c = 0; c < C; c++) row[c] += dout[i * C + c] * inv;
        }
}

void wb_maxpool_forward(const float *x /* (B,L,C) */, size_t B, size_t L, size_t C, size_t p,
                        float *out /* (B,L/p,C) */, int32_t *argmax /* (B,L/p,C) */) {
    const size_t J = L / p;
    for (size_t i = 0; i < B; i++)
        for (size_t j = 0; j < J; j++) {
            float *o = out + (i * J + j) * C;
            int32_t *a = argmax + (i * J + j) * C;
            const size_t t0 = j * p;
            memcpy(o, x + (i * L + t0) * C, C * sizeof(float));
            for (size_t c = 0; c < C; c++) a[c] = (int32_t)t0;
            for (size_t t = t0 + 1; t < t0 + p; t++) {
                const float *row = x + (i * L + t) * C;
                for (size_t c = 0; c < C; c++)
                    if (row[c] > o[c]) o[c] = row[c], a[c] = (int32_t)t;
            }
        }
}

/* Differentiates out[b][j][c] = x[b][argmax[b][j][c]][c]. */
void wb_maxpool_backward(const float *dout /* (B,L/p,C) */, const int32_t *argmax /* (B,L/p,C) */,
                         size_t B, size_t L, size_t C, size_t p, float *dx /* (B,L,C) */) {
    const size_t J = L / p;
    for (size_t i = 0; i < B; i++)
        for (size_t j = 0; j < J; j++)
            for (size_t c = 0; c < C; c++) {
                const size_t e = (i * J + j) * C + c;
                dx[(i * L + (size_t)argmax[e]) * C + c] += dout[e];
            }
}

/* ---- activations -------------------------------------------------------------- */

void wb_relu_forward(float *x /* (n) */, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (!(x[i] > 0.0f)) x[i] = 0.0f; /* also maps NaN and -0 to +0 */
}

/* Differentiates y = max(x, 0) given y; rewrites dy. */
void wb_relu_backward(const float *y /* (n) */, float *dy /* (n) */, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (!(y[i] > 0.0f)) dy[i] = 0.0f;
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
