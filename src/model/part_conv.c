/*
 * part_conv.c — the convolutional text part (models tutorial and kim):
 *   Embedding → Conv1D F×K_i relu, for each width K_i → GlobalMaxPool
 *   → concatenation (F·nwidths)
 * computed as max-pool of the bias-free convolution, then + bias, then
 * ReLU: equal (max commutes with adding a per-filter constant and with the
 * monotone ReLU), and the backward pass touches only the argmax window of
 * each filter.
 *
 * Two paths give the same numbers (another summation order): by default
 * the N distinct rows of the minibatch are projected once (conv_project,
 * docs/design.md "The projected convolution"); with WB_CONV=windows in the
 * environment, K sgemms over the windows of the embedded batch (nn.h).
 *
 * Leaves out: strides, dilation, padding='same' (Keras' defaults of the
 * tutorials are valid convolutions of stride 1).
 */
#include <stdlib.h>
#include <string.h>

#include "model/model_int.h"
#include "wordbench/nn.h"

#include <cblas.h>

/* What forward keeps for backward. */
typedef struct conv_saved {
    float *x;                        /* (B, T, Ei) embedded batch (windows path) or NULL */
    int32_t *amax[WB_MAX_WIDTHS];    /* (B, F) argmax window per width */
} conv_saved;

static int conv_plan(wb_part *p, const wb_model_cfg *c, wb_err *e) {
    (void)e;
    wb_part_text_table(p, c);
    p->F = c->F, p->nwidths = c->nwidths;
    memcpy(p->widths, c->widths, sizeof p->widths);
    p->W = p->F * p->nwidths;
    char nm[80];
    for (size_t i = 0; i < p->nwidths; i++) {
        snprintf(nm, sizeof nm, "%sconv%zu/kernel", p->prefix, i + 1);
        wb_part_tensor(p, nm, p->F, p->widths[i] * p->Ei);
        snprintf(nm, sizeof nm, "%sconv%zu/bias", p->prefix, i + 1);
        wb_part_tensor(p, nm, 1, p->F);
    }
    const char *cp = getenv("WB_CONV");
    p->windows_path = cp && !strcmp(cp, "windows");
    return 0;
}

static void conv_layers(const wb_part *p, wb_layers *L, const char *in) {
    wb_part_embedding_layers(p, L, in);
    char emb[48], nm[48], pools[WB_MAX_WIDTHS][48];
    snprintf(emb, sizeof emb, "%s", wb_layers_last(L));
    for (size_t i = 0; i < p->nwidths; i++) {
        uint64_t prm = (uint64_t)p->F * p->widths[i] * p->Ei + p->F;
        snprintf(nm, sizeof nm, p->nwidths > 1 ? "%sconv1d_%zu" : "%sconv1d", p->prefix, i + 1);
        wb_layers_add(L, nm, "Conv1D", 2, p->T - p->widths[i] + 1, p->F, prm, prm, emb);
        snprintf(nm, sizeof nm, p->nwidths > 1 ? "%sglobal_max_pooling1d_%zu" : "%sglobal_max_pooling1d", p->prefix,
                 i + 1);
        wb_layers_add(L, nm, "GlobalMaxPooling1D", 1, p->F, 0, 0, 0, NULL);
        snprintf(pools[i], sizeof pools[i], "%s", wb_layers_last(L));
    }
    if (p->nwidths > 1) {
        char inb[WB_MAX_WIDTHS * 50] = "";
        size_t o = 0;
        for (size_t i = 0; i < p->nwidths; i++)
            o += (size_t)snprintf(inb + o, sizeof inb - o, "%s%s", i ? "," : "", pools[i]);
        snprintf(nm, sizeof nm, "%sconcatenate", p->prefix);
        wb_layers_add(L, nm, "Concatenate", 1, p->W, 0, 0, 0, inb);
    }
}

static uint64_t conv_step_bytes(const wb_part *p, size_t B) {
    uint64_t BT = (uint64_t)B * p->T, N = BT < p->V ? BT : p->V, F = p->F, Ei = p->Ei, E = p->E, b = 0;
    /* gather: ids, U, srows, sdst, tmp, lid; the embedded batch and y for
     * the windows path; per width P, acc, amax; backward dpool, dU, dx. */
    b += wb_abytes(BT, 4) + wb_abytes(N * Ei, 4) + wb_abytes(N, 4) + wb_abytes(N, 8) + wb_abytes(N * E, 4) +
         wb_abytes(BT, 4);
    b += wb_abytes(1, sizeof(conv_saved));
    if (p->windows_path) b += wb_abytes(BT * Ei, 4) + wb_abytes(BT * F, 4) + wb_abytes(BT * Ei, 4);
    b += wb_abytes(B * F, 4);
    for (size_t i = 0; i < p->nwidths; i++) b += wb_abytes(N * p->widths[i] * F, 4) + wb_abytes(F, 4) + wb_abytes(B * F, 4);
    b += wb_abytes(B * F, 4) + wb_abytes(N * E, 4);
    return b;
}

static void conv_init(wb_part *p, wb_rng *r) {
    for (size_t i = 0; i < p->nwidths; i++) {
        wb_tensor *k = &p->t[2 * i];
        wb_glorot(k->w, k->n, (double)p->widths[i] * p->Ei, (double)p->widths[i] * p->F, r);
    }
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
static int conv_project(const wb_part *p, wb_step *s, const wb_rows *r, size_t w, float *pooled, int32_t *amax) {
    size_t B = s->B, T = p->T, Ei = p->Ei, F = p->F, K = p->widths[w], N = r->N, KF = K * F;
    const float *W = p->t[2 * w].w; /* (F, K, Ei) */
    float *P = wb_arena_alloc(s->arena, N * KF * sizeof *P), *acc = wb_arena_alloc(s->arena, F * sizeof *acc);
    if (!P || !acc) return -1;
    for (size_t t = 0; t < K; t++)
        /* P_t[N,F] = U[N,Ei] · W_t[F,Ei]ᵀ: A = U NoTrans lda Ei, B = W + t·Ei
         * Trans ldb K·Ei (row f of W_t is W[f][t]), C = P + t·F ldc K·F. */
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)N, (int)F, (int)Ei, 1.0f, r->U, (int)Ei,
                    W + t * Ei, (int)(K * Ei), 0.0f, P + t * F, (int)KF);
    for (size_t b = 0; b < B; b++) window_max(P, r->lid + b * T, T, K, F, acc, pooled + b * F, amax + b * F);
    return 0;
}

/* Backward of conv_project for the argmax windows only:
 *   dW[f][t] += dpool[b][f] · U[lid(b, s*+t)]       (s* = amax[b][f])
 *   dU[lid(b, s*+t)] += dpool[b][f] · W[f][t]       (tuned half; dU may be NULL)
 * dU is (N, E): the last E columns of each Ei-wide token vector. */
static void conv_project_backward(const wb_part *p, const wb_step *s, const wb_rows *r, size_t w, const int32_t *amax,
                                  const float *dpool, float *dW, float *dU) {
    size_t B = s->B, T = p->T, Ei = p->Ei, E = p->E, F = p->F, K = p->widths[w], off = Ei - E;
    const float *W = p->t[2 * w].w;
    for (size_t b = 0; b < B; b++)
        for (size_t k = 0; k < F; k++) {
            float g = dpool[b * F + k];
            if (g == 0) continue;
            const int32_t *lid = r->lid + b * T + amax[b * F + k];
            for (size_t t = 0; t < K; t++) {
                size_t l = (size_t)lid[t];
                cblas_saxpy((int)Ei, g, r->U + l * Ei, 1, dW + (k * K + t) * Ei, 1);
                if (dU) cblas_saxpy((int)E, g, W + (k * K + t) * Ei + off, 1, dU + l * E, 1);
            }
        }
}

/* out[b][w·F + f] = relu(max_s conv_w(x)[b][s][f] + bias_w[f]). */
static int conv_forward(wb_part *p, wb_step *s, float *out, size_t ld, wb_err *e) {
    size_t B = s->B, T = p->T, Ei = p->Ei, F = p->F;
    wb_rows *r = &s->rows[p->idx];
    int rc = wb_emb_gather(&p->emb, s, s->X[p->input], B * T, r, e);
    if (rc) return rc;
    conv_saved *sv;
    float *pooled, *y = NULL;
    WB_ALLOC(s, sv, 1);
    memset(sv, 0, sizeof *sv);
    s->saved[p->idx] = sv;
    if (p->windows_path && !(sv->x = wb_rows_embed(s->arena, r, Ei))) goto nomem;
    WB_ALLOC(s, pooled, B * F);
    if (p->windows_path) WB_ALLOC(s, y, B * T * F);
    for (size_t w = 0; w < p->nwidths; w++) {
        size_t K = p->widths[w];
        WB_ALLOC(s, sv->amax[w], B * F);
        /* relu(maxpool(conv(x)) + b) = maxpool(relu(conv(x) + b)) */
        if (p->windows_path) {
            wb_conv1d_forward(sv->x, B, T, Ei, p->t[2 * w].w, NULL, F, K, y);
            wb_gmaxpool_forward(y, B, T, T - K + 1, F, pooled, sv->amax[w]);
        } else if (conv_project(p, s, r, w, pooled, sv->amax[w])) {
            goto nomem;
        }
        const float *bias = p->t[2 * w + 1].w;
        for (size_t b = 0; b < B; b++)
            for (size_t k = 0; k < F; k++) {
                float v = pooled[b * F + k] + bias[k];
                out[b * ld + w * F + k] = v > 0 ? v : 0;
            }
    }
    return 0;
nomem:
    return wb_err_set(e, WB_ENOMEM, "out of memory in the step arena");
}

static int conv_backward(wb_part *p, wb_step *s, const float *out, float *dout, size_t ld, wb_err *e) {
    size_t B = s->B, T = p->T, Ei = p->Ei, F = p->F;
    wb_rows *r = &s->rows[p->idx];
    const conv_saved *sv = s->saved[p->idx];
    float *dpool, *dx = NULL;
    if (wb_rows_grad(s->arena, r, p->E)) goto nomem;
    /* Gradient of the token vectors: the projection writes the rows'
     * gradient dU (N, E) directly; the windows path goes through dx. */
    if (r->dU && p->windows_path) {
        WB_ALLOC(s, dx, B * T * Ei);
        memset(dx, 0, B * T * Ei * sizeof(float));
    }
    WB_ALLOC(s, dpool, B * F);
    for (size_t w = 0; w < p->nwidths; w++) {
        /* out = relu(pool + b): gradient through the relu. */
        float *db = wb_grad(s, &p->t[2 * w + 1]), *dW = wb_grad(s, &p->t[2 * w]);
        for (size_t b = 0; b < B; b++)
            for (size_t k = 0; k < F; k++) {
                size_t i = b * ld + w * F + k;
                float g = out[i] > 0 ? dout[i] : 0;
                dpool[b * F + k] = g;
                db[k] += g;
            }
        if (!p->windows_path)
            conv_project_backward(p, s, r, w, sv->amax[w], dpool, dW, r->dU);
        else
            wb_conv1d_backward_argmax(sv->x, B, T, Ei, p->t[2 * w].w, F, p->widths[w], sv->amax[w], dpool, dW, NULL, dx);
    }
    if (dx) wb_rows_scatter(r, dx, T, T * Ei, Ei, p->E);
    return 0;
nomem:
    return wb_err_set(e, WB_ENOMEM, "out of memory in the step arena");
}

static void conv_windows(const wb_part *p, const wb_step *s, size_t b, int32_t *start, int32_t *len) {
    const conv_saved *sv = s->saved[p->idx];
    for (size_t w = 0; w < p->nwidths; w++)
        for (size_t k = 0; k < p->F; k++) {
            start[w * p->F + k] = sv->amax[w][b * p->F + k];
            len[w * p->F + k] = (int32_t)p->widths[w];
        }
}

const wb_part_ops wb_part_conv = {
    .kind = "conv",
    .plan = conv_plan,
    .layers = conv_layers,
    .step_bytes = conv_step_bytes,
    .init = conv_init,
    .forward = conv_forward,
    .backward = conv_backward,
    .windows = conv_windows,
};
