/*
 * part_charcnn.c — the character-level CNN of Zhang, Zhao & LeCun (2015),
 * "small" (model charcnn):
 *   one-hot characters (T, A) → Conv1D F×K_1 relu → MaxPool 3
 *   → Conv1D F×K_2 relu → MaxPool 3 → Conv1D F×K_i relu (i = 3..n)
 *   → MaxPool 3 → Flatten
 * with the paper's defaults T = 1014, F = 256, K = 7, 7, 3, 3, 3, 3: shapes
 * (1008, 256) → (336, 256) → (330, 256) → (110, 256) → (108, 256) → ...
 * → (102, 256) → (34, 256) → 8704.  The head (model.h) adds the two Dense
 * 1024 layers with dropout 0.5.
 *
 * Characters are the text's ids (the `char` tokenizer and its vocabulary):
 * id i >= 2 is one-hot channel i - 2, ids 0 (padding) and 1 (a character
 * outside the alphabet) are zero vectors, as the paper quantizes unknown
 * characters.  The one-hot (B, T, A) input is never built: the first
 * convolution gathers, for every window, the kernel columns of its K ids:
 *   y[b][s][f] = bias[f] + Σ_t W1[f][t][id(b, s+t) - 2]
 * done as P[id][t][f] = W1[f][t][id-2] (the kernel transposed once per
 * step) and sums of K rows of P per position.  Its backward scatters dy
 * into dP by id and transposes back.  Layers 2.. are nn.h's Conv1D over the
 * windows of the previous layer's output (K sgemms each).
 *
 * Leaves out: the paper's "large" variant (F = 1024: use --filters), its
 * Gaussian initialisation (Keras' Glorot here, as the Keras twins use),
 * reversing the text (the paper reads it backwards).
 */
#include <string.h>

#include "model/model_int.h"
#include "wordbench/nn.h"

/* What forward keeps. */
typedef struct cc_saved {
    float *a[WB_MAX_WIDTHS];       /* (B, Lc[i], F) relu(conv i) */
    int32_t *am[WB_MAX_WIDTHS];    /* (B, L[i+1], F) pool argmax, or NULL (no pool after i) */
    float *x[WB_MAX_WIDTHS + 1];   /* (B, L[i], F) input of conv i+1 (x[i] for i >= 1; x[0] unused) */
} cc_saved;

static int has_pool(const wb_part *p, size_t i) { return i < 2 || i + 1 == p->nwidths; }

static int cc_plan(wb_part *p, const wb_model_cfg *c, wb_err *e) {
    p->has_emb = 0;
    p->A = p->V - 2;
    p->F = c->F, p->nwidths = c->nwidths;
    memcpy(p->widths, c->widths, sizeof p->widths);
    p->L[0] = p->T;
    char nm[80];
    for (size_t i = 0; i < p->nwidths; i++) {
        if (p->L[i] < p->widths[i]) return wb_err_set(e, WB_EUSAGE, "maxlen %zu is too short for the character CNN", p->T);
        p->Lc[i] = p->L[i] - p->widths[i] + 1;
        p->L[i + 1] = has_pool(p, i) ? p->Lc[i] / 3 : p->Lc[i];
        if (!p->L[i + 1]) return wb_err_set(e, WB_EUSAGE, "maxlen %zu is too short for the character CNN", p->T);
        size_t din = i ? p->F : p->A;
        snprintf(nm, sizeof nm, "%sconv%zu/kernel", p->prefix, i + 1);
        wb_part_tensor(p, nm, p->F, p->widths[i] * din);
        snprintf(nm, sizeof nm, "%sconv%zu/bias", p->prefix, i + 1);
        wb_part_tensor(p, nm, 1, p->F);
    }
    p->W = p->L[p->nwidths] * p->F;
    return 0;
}

static void cc_layers(const wb_part *p, wb_layers *L, const char *in) {
    char nm[48];
    const char *prev = in;
    char pv[48];
    for (size_t i = 0; i < p->nwidths; i++) {
        size_t din = i ? p->F : p->A;
        uint64_t prm = (uint64_t)p->F * p->widths[i] * din + p->F;
        snprintf(nm, sizeof nm, "%sconv1d", p->prefix);
        wb_layers_add(L, nm, "Conv1D", 2, p->Lc[i], p->F, prm, prm, prev);
        if (has_pool(p, i)) {
            snprintf(nm, sizeof nm, "%smax_pooling1d", p->prefix);
            wb_layers_add(L, nm, "MaxPooling1D", 2, p->L[i + 1], p->F, 0, 0, NULL);
        }
        snprintf(pv, sizeof pv, "%s", wb_layers_last(L));
        prev = pv;
    }
    snprintf(nm, sizeof nm, "%sflatten", p->prefix);
    wb_layers_add(L, nm, "Flatten", 1, p->W, 0, 0, 0, NULL);
}

static uint64_t cc_step_bytes(const wb_part *p, size_t B) {
    uint64_t F = p->F, b = wb_abytes(1, sizeof(cc_saved)) + 2 * wb_abytes((uint64_t)p->V * p->widths[0] * F, 4);
    for (size_t i = 0; i < p->nwidths; i++) {
        uint64_t Lin = p->L[i], Lc = p->Lc[i], Lo = p->L[i + 1];
        /* forward: conv output at the input's stride, relu copy, pool + argmax, next input;
         * backward: the same again plus the input gradient */
        b += 2 * (wb_abytes(B * Lin * F, 4) + wb_abytes(B * Lc * F, 4) + wb_abytes(B * Lo * F, 4) + wb_abytes(B * Lo * F, 4));
    }
    return b;
}

static void cc_init(wb_part *p, wb_rng *r) {
    for (size_t i = 0; i < p->nwidths; i++) {
        wb_tensor *k = &p->t[2 * i];
        size_t din = i ? p->F : p->A;
        wb_glorot(k->w, k->n, (double)p->widths[i] * din, (double)p->widths[i] * p->F, r);
    }
}

static int cc_forward(wb_part *p, wb_step *s, float *out, size_t ld, wb_err *e) {
    size_t B = s->B, T = p->T, F = p->F, A = p->A, V = p->V, K1 = p->widths[0];
    const int32_t *X = s->X[p->input];
    for (size_t i = 0; i < B * T; i++)
        if (X[i] < 0 || (size_t)X[i] >= V) return wb_err_set(e, WB_EUSAGE, "id %d out of the vocabulary (%zu)", X[i], V);
    cc_saved *sv;
    WB_ALLOC(s, sv, 1);
    memset(sv, 0, sizeof *sv);
    s->saved[p->idx] = sv;
    /* layer 1: P[id][t][f] = W1[f][t·A + id-2], zero rows for ids 0 and 1 */
    float *P, *y;
    WB_ALLOC(s, P, V * K1 * F);
    memset(P, 0, 2 * K1 * F * sizeof *P);
    const float *W1 = p->t[0].w, *b1 = p->t[1].w;
    for (size_t f = 0; f < F; f++)
        for (size_t t = 0; t < K1; t++)
            for (size_t a = 0; a < A; a++) P[((a + 2) * K1 + t) * F + f] = W1[f * K1 * A + t * A + a];
    size_t Lc = p->Lc[0];
    WB_ALLOC(s, sv->a[0], B * Lc * F);
    for (size_t b = 0; b < B; b++)
        for (size_t q = 0; q < Lc; q++) {
            float *yo = sv->a[0] + (b * Lc + q) * F;
            memcpy(yo, b1, F * sizeof *yo);
            for (size_t t = 0; t < K1; t++) {
                const float *pr = P + ((size_t)X[b * T + q + t] * K1 + t) * F;
                for (size_t f = 0; f < F; f++) yo[f] += pr[f];
            }
        }
    for (size_t i = 0;; i++) {
        Lc = p->Lc[i];
        wb_relu_forward(sv->a[i], B * Lc * F);
        size_t Lo = p->L[i + 1];
        float *nx;
        WB_ALLOC(s, nx, B * Lo * F);
        if (has_pool(p, i)) {
            WB_ALLOC(s, sv->am[i], B * Lo * F);
            wb_maxpool_forward(sv->a[i], B, Lc, F, 3, nx, sv->am[i]);
        } else {
            memcpy(nx, sv->a[i], B * Lo * F * sizeof *nx);
        }
        sv->x[i + 1] = nx;
        if (i + 1 == p->nwidths) break;
        /* conv i+1 over nx (B, Lo, F): y at the input's example stride Lo */
        size_t K = p->widths[i + 1], Ln = p->Lc[i + 1];
        WB_ALLOC(s, y, B * Lo * F);
        wb_conv1d_forward(nx, B, Lo, F, p->t[2 * (i + 1)].w, p->t[2 * (i + 1) + 1].w, F, K, y);
        WB_ALLOC(s, sv->a[i + 1], B * Ln * F);
        for (size_t b = 0; b < B; b++) memcpy(sv->a[i + 1] + b * Ln * F, y + b * Lo * F, Ln * F * sizeof *y);
    }
    size_t W = p->W;
    for (size_t b = 0; b < B; b++) memcpy(out + b * ld, sv->x[p->nwidths] + b * W, W * sizeof *out);
    return 0;
nomem:
    return wb_err_set(e, WB_ENOMEM, "out of memory in the step arena");
}

static int cc_backward(wb_part *p, wb_step *s, const float *out, float *dout, size_t ld, wb_err *e) {
    (void)out;
    size_t B = s->B, T = p->T, F = p->F, A = p->A, V = p->V, K1 = p->widths[0], n = p->nwidths;
    const int32_t *X = s->X[p->input];
    const cc_saved *sv = s->saved[p->idx];
    /* dx: the gradient of x[n] (flattened output), then of each layer's input */
    float *dx;
    WB_ALLOC(s, dx, B * p->W);
    for (size_t b = 0; b < B; b++) memcpy(dx + b * p->W, dout + b * ld, p->W * sizeof *dx);
    for (size_t i = n; i-- > 0;) {
        size_t Lc = p->Lc[i], Lo = p->L[i + 1], Lin = p->L[i];
        /* x[i+1] = pool(a[i]) (or a[i]); a[i] = relu(conv_i(x[i]) + b) */
        float *da;
        WB_ALLOC(s, da, B * Lin * F); /* Lin >= Lc rows per example: the conv's stride layout */
        memset(da, 0, B * Lin * F * sizeof *da);
        if (has_pool(p, i)) {
            float *dac;
            WB_ALLOC(s, dac, B * Lc * F);
            memset(dac, 0, B * Lc * F * sizeof *dac);
            wb_maxpool_backward(dx, sv->am[i], B, Lc, F, 3, dac);
            wb_relu_backward(sv->a[i], dac, B * Lc * F);
            for (size_t b = 0; b < B; b++) memcpy(da + b * Lin * F, dac + b * Lc * F, Lc * F * sizeof *da);
        } else {
            wb_relu_backward(sv->a[i], dx, B * Lo * F);
            for (size_t b = 0; b < B; b++) memcpy(da + b * Lin * F, dx + b * Lo * F, Lc * F * sizeof *da);
        }
        float *dW = wb_grad(s, &p->t[2 * i]), *db = wb_grad(s, &p->t[2 * i + 1]);
        if (i) {
            float *dxi;
            WB_ALLOC(s, dxi, B * Lin * F);
            memset(dxi, 0, B * Lin * F * sizeof *dxi);
            wb_conv1d_backward(sv->x[i], da, B, Lin, F, p->t[2 * i].w, F, p->widths[i], dW, db, dxi);
            dx = dxi;
            continue;
        }
        /* layer 1: y[b][q] = bias + Σ_t P[id(b, q+t)][t]:  dP[id][t] += dy[b][q], then back to W1 */
        float *dP;
        WB_ALLOC(s, dP, V * K1 * F);
        memset(dP, 0, V * K1 * F * sizeof *dP);
        for (size_t b = 0; b < B; b++)
            for (size_t q = 0; q < Lc; q++) {
                const float *g = da + (b * Lin + q) * F;
                for (size_t f = 0; f < F; f++) db[f] += g[f];
                for (size_t t = 0; t < K1; t++) {
                    float *d = dP + ((size_t)X[b * T + q + t] * K1 + t) * F;
                    for (size_t f = 0; f < F; f++) d[f] += g[f];
                }
            }
        for (size_t f = 0; f < F; f++)
            for (size_t t = 0; t < K1; t++)
                for (size_t a = 0; a < A; a++) dW[f * K1 * A + t * A + a] += dP[((a + 2) * K1 + t) * F + f];
    }
    return 0;
nomem:
    return wb_err_set(e, WB_ENOMEM, "out of memory in the step arena");
}

/* The receptive field of output position q of the last layer, in characters. */
static void cc_windows(const wb_part *p, const wb_step *s, size_t b, int32_t *start, int32_t *len) {
    (void)s, (void)b;
    for (size_t q = 0; q < p->L[p->nwidths]; q++) {
        size_t lo = q, hi = q + 1; /* [lo, hi) at the current layer's output */
        for (size_t i = p->nwidths; i-- > 0;) {
            if (has_pool(p, i)) lo *= 3, hi *= 3;
            hi += p->widths[i] - 1;
        }
        for (size_t f = 0; f < p->F; f++) start[q * p->F + f] = (int32_t)lo, len[q * p->F + f] = (int32_t)(hi - lo);
    }
}

const wb_part_ops wb_part_charcnn = {
    .kind = "charcnn",
    .plan = cc_plan,
    .layers = cc_layers,
    .step_bytes = cc_step_bytes,
    .init = cc_init,
    .forward = cc_forward,
    .backward = cc_backward,
    .windows = cc_windows,
};
