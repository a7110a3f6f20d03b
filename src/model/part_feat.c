/*
 * part_feat.c — the numeric-features part: a record's hand-made numbers
 * (counts of links, a capitals ratio, a length...) joining the text parts
 * after their pooling, the Keras functional-API way:
 *   x (nfeat) → (x - mean) / std  [→ Dense feat_dense relu]  → the merge
 * The mean and the deviation are the training split's (wb_model_fit_
 * features; a constant feature gets a deviation of 1), kept in the model
 * file (section FEAT), so prediction standardises exactly as training did.
 * Before fitting they are 0 and 1.
 *
 * Explained by gradient × input on the standardised values (feat_explain).
 *
 * Leaves out: missing values (the data set holds finite numbers only),
 * categorical features, per-feature transforms (log, clipping).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/fileio.h"
#include "model/model_int.h"
#include "wordbench/nn.h"

typedef struct feat_saved {
    float *x;   /* (B, nfeat) standardised features */
} feat_saved;

static int feat_plan(wb_part *p, const wb_model_cfg *c, wb_err *e) {
    (void)e;
    p->has_emb = 0;
    p->nfeat = c->nfeat, p->fdense = c->feat_dense;
    p->W = p->fdense ? p->fdense : p->nfeat;
    if (p->fdense) {
        wb_part_tensor(p, "features/kernel", p->fdense, p->nfeat);
        wb_part_tensor(p, "features/bias", 1, p->fdense);
    }
    return 0;
}

static void feat_layers(const wb_part *p, wb_layers *L, const char *in) {
    (void)in;
    wb_layers_add(L, "features", "InputLayer", 1, p->nfeat, 0, 0, 0, "");
    if (p->fdense) {
        uint64_t prm = (uint64_t)p->nfeat * p->fdense + p->fdense;
        wb_layers_add(L, "feature_dense", "Dense", 1, p->fdense, 0, prm, prm, NULL);
    }
}

static uint64_t feat_step_bytes(const wb_part *p, size_t B) {
    return wb_abytes(1, sizeof(feat_saved)) + wb_abytes((uint64_t)B * p->nfeat, 4) + 2 * wb_abytes((uint64_t)B * p->W, 4);
}

static void feat_init(wb_part *p, wb_rng *r) {
    if (p->fdense) wb_glorot(p->t[0].w, p->t[0].n, (double)p->nfeat, (double)p->fdense, r);
}

/* out = standardised features, or relu(x·Wᵀ + b). */
static int feat_forward(wb_part *p, wb_step *s, float *out, size_t ld, wb_err *e) {
    size_t B = s->B, n = p->nfeat, W = p->W;
    if (!s->feat) return wb_err_set(e, WB_EUSAGE, "the model reads %zu numeric features: none given", n);
    feat_saved *sv;
    WB_ALLOC(s, sv, 1);
    s->saved[p->idx] = sv;
    WB_ALLOC(s, sv->x, B * n);
    for (size_t b = 0; b < B; b++)
        for (size_t j = 0; j < n; j++) {
            double v = s->feat[b * n + j];
            if (!isfinite(v)) return wb_err_set(e, WB_EUSAGE, "numeric feature %zu of example %zu is not a number", j, b);
            sv->x[b * n + j] = (float)((v - p->fmean[j]) / p->fstd[j]);
        }
    if (!p->fdense) {
        for (size_t b = 0; b < B; b++) memcpy(out + b * ld, sv->x + b * n, n * sizeof *out);
        return 0;
    }
    float *y;
    WB_ALLOC(s, y, B * W);
    wb_dense_forward(sv->x, B, n, p->t[0].w, p->t[1].w, W, y);
    wb_relu_forward(y, B * W);
    for (size_t b = 0; b < B; b++) memcpy(out + b * ld, y + b * W, W * sizeof *out);
    return 0;
nomem:
    return wb_err_set(e, WB_ENOMEM, "out of memory in the step arena");
}

/* Only the squashing Dense has weights: dW += dyᵀ·x, db += Σ dy (through
 * the ReLU, whose output is the merged columns as the head left them). */
static int feat_backward(wb_part *p, wb_step *s, const float *out, float *dout, size_t ld, wb_err *e) {
    if (!p->fdense) return 0;
    size_t B = s->B, W = p->W;
    const feat_saved *sv = s->saved[p->idx];
    float *dy;
    WB_ALLOC(s, dy, B * W);
    for (size_t b = 0; b < B; b++)
        for (size_t j = 0; j < W; j++) dy[b * W + j] = out[b * ld + j] > 0 ? dout[b * ld + j] : 0.0f;
    wb_dense_backward(sv->x, dy, B, p->nfeat, p->t[0].w, W, wb_grad(s, &p->t[0]), wb_grad(s, &p->t[1]), NULL);
    return 0;
nomem:
    return wb_err_set(e, WB_ENOMEM, "out of memory in the step arena");
}

static void feat_windows(const wb_part *p, const wb_step *s, size_t b, int32_t *start, int32_t *len) {
    (void)s, (void)b;
    for (size_t j = 0; j < p->W; j++) start[j] = -1, len[j] = 0;
}

/* Explain: feature j's contribution is gradient × input on its
 * standardised value x_j: x_j · g_j without the Dense (g the gradient of
 * the score with respect to the part's output), else x_j · Σ_u g_u
 * [y_u > 0] W_uj through the ReLU (the Dense's bias is left unexplained).
 * Every feature of every example is reported (a zero too), as the span
 * [j, j + 1) of the part's positions, which are its features. */
static int feat_explain(wb_part *p, wb_step *s, const float *out, const float *g, size_t ld, wb_span_fn fn, void *ctx,
                        wb_err *e) {
    (void)e;
    size_t B = s->B, n = p->nfeat, W = p->W;
    const feat_saved *sv = s->saved[p->idx];
    const float *Wk = p->fdense ? p->t[0].w : NULL; /* (W, n) */
    for (size_t b = 0; b < B; b++)
        for (size_t j = 0; j < n; j++) {
            double dx = 0;
            if (!Wk) dx = g[b * ld + j];
            else
                for (size_t u = 0; u < W; u++)
                    if (out[b * ld + u] > 0) dx += (double)g[b * ld + u] * Wk[u * n + j];
            fn(ctx, b, (int32_t)j, 1, (float)(sv->x[b * n + j] * dx));
        }
    return 0;
}

/* Section FEAT: u64 nfeat, then nfeat means and nfeat deviations (f64). */
static void feat_save(const wb_part *p, wb_awriter *w, uint32_t part) {
    wb_aw_u32(w, WB_TAG('F', 'E', 'A', 'T')), wb_aw_u32(w, part), wb_aw_u64(w, 8 + 16 * (uint64_t)p->nfeat);
    wb_aw_u64(w, p->nfeat);
    wb_aw_write(w, p->fmean, p->nfeat * sizeof(double));
    wb_aw_write(w, p->fstd, p->nfeat * sizeof(double));
}

static int feat_load(wb_part *p, uint32_t tag, const unsigned char *sec, uint64_t len, const char *path, wb_err *e) {
    if (tag != WB_TAG('F', 'E', 'A', 'T') || len != 8 + 16 * (uint64_t)p->nfeat || wb_get64(sec) != p->nfeat)
        return wb_err_at(e, WB_ECORRUPT, path, 0, -1, "feature statistics of the wrong size");
    memcpy(p->fmean, sec + 8, p->nfeat * sizeof(double));
    memcpy(p->fstd, sec + 8 + p->nfeat * sizeof(double), p->nfeat * sizeof(double));
    for (size_t j = 0; j < p->nfeat; j++)
        if (!isfinite(p->fmean[j]) || !(p->fstd[j] > 0) || !isfinite(p->fstd[j]))
            return wb_err_at(e, WB_ECORRUPT, path, 0, -1, "feature %zu: mean or deviation is not a number", j);
    return 0;
}

const wb_part_ops wb_part_feat = {
    .kind = "features",
    .plan = feat_plan,
    .layers = feat_layers,
    .step_bytes = feat_step_bytes,
    .init = feat_init,
    .forward = feat_forward,
    .backward = feat_backward,
    .windows = feat_windows,
    .explain = feat_explain,
    .save = feat_save,
    .load = feat_load,
};
