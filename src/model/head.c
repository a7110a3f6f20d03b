/*
 * head.c — the merge and the head of model_int.h:
 *   merged (B, Ff) → dropout p → [Dense H relu → dropout q]×nh → Dense C → logits
 * The merge is the concatenation of the parts' outputs: each part writes
 * its columns of `merged` directly, so it costs nothing here.  Dropout acts
 * on the merged features (the input of the first Dense), in place, and
 * after every hidden layer (the character CNN's two 1024-unit layers).
 *
 * Leaves out: the loss (model.c: it depends on the task, not on layers).
 */
#include <string.h>

#include "model/model_int.h"
#include "wordbench/nn.h"

static wb_tensor *head_tensor(wb_head *h, const char *name, size_t rows, size_t cols) {
    wb_tensor *t = &h->t[h->nt++];
    memset(t, 0, sizeof *t);
    snprintf(t->name, sizeof t->name, "%s", name);
    t->rows = rows, t->cols = cols, t->n = rows * cols;
    return t;
}

void wb_head_plan(wb_head *h, const wb_model_cfg *c, size_t Ff) {
    memset(h, 0, sizeof *h);
    h->Ff = Ff, h->H = c->H, h->C = c->C, h->dropout = c->dropout, h->maxnorm = c->maxnorm;
    h->nh = wb_model_nhidden(c), h->hdropout = c->hidden_dropout;
    h->Hin = h->nh ? c->H : Ff;
    if (c->kind == WB_MODEL_BOW) { /* the part's Dense gives the logits */
        h->direct = 1, h->nh = 0;
        return;
    }
    char kn[48], bn[48];
    for (size_t k = 0; k < h->nh; k++) {
        /* "hidden/kernel", then "hidden2/kernel", ... */
        if (k) snprintf(kn, sizeof kn, "hidden%zu/kernel", k + 1), snprintf(bn, sizeof bn, "hidden%zu/bias", k + 1);
        else snprintf(kn, sizeof kn, "hidden/kernel"), snprintf(bn, sizeof bn, "hidden/bias");
        h->hid_w[k] = head_tensor(h, kn, c->H, k ? c->H : Ff);
        h->hid_b[k] = head_tensor(h, bn, 1, c->H);
    }
    h->out_w = head_tensor(h, "output/kernel", c->C, h->Hin);
    h->out_b = head_tensor(h, "output/bias", 1, c->C);
}

void wb_head_layers(const wb_head *h, wb_layers *L, const char *in) {
    if (h->direct) return;
    char prev[48];
    snprintf(prev, sizeof prev, "%s", in);
    if (h->dropout > 0) {
        wb_layers_add(L, "dropout", "Dropout", 1, h->Ff, 0, 0, 0, prev);
        snprintf(prev, sizeof prev, "%s", wb_layers_last(L));
    }
    uint64_t p;
    for (size_t k = 0; k < h->nh; k++) {
        size_t in_w = k ? h->H : h->Ff;
        p = (uint64_t)in_w * h->H + h->H;
        wb_layers_add(L, "dense", "Dense", 1, h->H, 0, p, p, prev);
        snprintf(prev, sizeof prev, "%s", wb_layers_last(L));
        if (h->hdropout > 0) {
            wb_layers_add(L, "dropout", "Dropout", 1, h->H, 0, 0, 0, prev);
            snprintf(prev, sizeof prev, "%s", wb_layers_last(L));
        }
    }
    p = (uint64_t)h->Hin * h->C + h->C;
    wb_layers_add(L, "dense", "Dense", 1, h->C, 0, p, p, prev);
}

uint64_t wb_head_step_bytes(const wb_head *h, size_t B) {
    /* merged, its mask and gradient; per hidden layer: h, mask, dh; z, dz, prob */
    uint64_t BF = (uint64_t)B * h->Ff, BH = (uint64_t)B * h->H;
    return 2 * wb_abytes(BF, 4) + wb_abytes(BF, 1) + h->nh * (2 * wb_abytes(BH, 4) + wb_abytes(BH, 1)) +
           wb_abytes(BH, 4) + 3 * wb_abytes((uint64_t)B * h->C, 4);
}

void wb_head_init(wb_head *h, wb_rng *r) {
    if (h->direct) return;
    for (size_t k = 0; k < h->nh; k++) wb_glorot(h->hid_w[k]->w, h->hid_w[k]->n, (double)h->hid_w[k]->cols, (double)h->H, r);
    wb_glorot(h->out_w->w, h->out_w->n, (double)h->Hin, (double)h->C, r);
}

/* s->merged (filled by the parts) → s->z.  Dropout masks are drawn in
 * layer order: the merged features, then each hidden layer. */
int wb_head_forward(wb_head *h, wb_step *s, wb_err *e) {
    size_t B = s->B, Ff = h->Ff, C = h->C, H = h->H;
    s->mask = NULL;
    if (h->direct) {
        WB_ALLOC(s, s->dz, B * C);
        WB_ALLOC(s, s->prob, B * C);
        s->z = s->merged; /* Ff == C */
        return 0;
    }
    if (s->train && h->dropout > 0) {
        WB_ALLOC(s, s->mask, B * Ff);
        wb_dropout_forward(s->merged, B * Ff, h->dropout, s->rng, s->mask);
    }
    const float *hin = s->merged;
    size_t in_w = Ff;
    for (size_t k = 0; k < h->nh; k++) {
        WB_ALLOC(s, s->h[k], B * H);
        wb_dense_forward(hin, B, in_w, h->hid_w[k]->w, h->hid_b[k]->w, H, s->h[k]);
        wb_relu_forward(s->h[k], B * H);
        s->hmask[k] = NULL;
        if (s->train && h->hdropout > 0) {
            WB_ALLOC(s, s->hmask[k], B * H);
            wb_dropout_forward(s->h[k], B * H, h->hdropout, s->rng, s->hmask[k]);
        }
        hin = s->h[k], in_w = H;
    }
    WB_ALLOC(s, s->z, B * C);
    WB_ALLOC(s, s->dz, B * C);
    WB_ALLOC(s, s->prob, B * C);
    wb_dense_forward(hin, B, h->Hin, h->out_w->w, h->out_b->w, C, s->z);
    return 0;
nomem:
    return wb_err_set(e, WB_ENOMEM, "out of memory in the step arena");
}

/* From s->dz: the head's weight gradients, and dmerged += d loss / d merged. */
int wb_head_backward(wb_head *h, wb_step *s, float *dmerged, wb_err *e) {
    size_t B = s->B, Ff = h->Ff, C = h->C, H = h->H, nh = h->nh;
    if (h->direct) {
        for (size_t i = 0; i < B * C; i++) dmerged[i] += s->dz[i];
        return 0;
    }
    if (!nh) {
        wb_dense_backward(s->merged, s->dz, B, Ff, h->out_w->w, C, wb_grad(s, h->out_w), wb_grad(s, h->out_b), dmerged);
    } else {
        float *dh;
        WB_ALLOC(s, dh, B * H);
        memset(dh, 0, B * H * sizeof(float));
        /* z = h_last·Woutᵀ + b */
        wb_dense_backward(s->h[nh - 1], s->dz, B, h->Hin, h->out_w->w, C, wb_grad(s, h->out_w), wb_grad(s, h->out_b), dh);
        for (size_t k = nh; k-- > 0;) {
            /* h_k = dropout(relu(in_k·W_kᵀ + b_k)), in_k = h_{k-1} or merged */
            if (s->hmask[k]) wb_dropout_backward(dh, B * H, h->hdropout, s->hmask[k]);
            wb_relu_backward(s->h[k], dh, B * H);
            float *din = dmerged;
            if (k) {
                WB_ALLOC(s, din, B * H);
                memset(din, 0, B * H * sizeof(float));
            }
            wb_dense_backward(k ? s->h[k - 1] : s->merged, dh, B, k ? H : Ff, h->hid_w[k]->w, H, wb_grad(s, h->hid_w[k]),
                              wb_grad(s, h->hid_b[k]), din);
            dh = din;
        }
    }
    if (s->mask) wb_dropout_backward(dmerged, B * Ff, h->dropout, s->mask);
    return 0;
nomem:
    return wb_err_set(e, WB_ENOMEM, "out of memory in the step arena");
}

void wb_head_maxnorm(wb_head *h) {
    if (!h->direct && h->maxnorm > 0) wb_maxnorm_rows(h->out_w->w, h->out_w->rows, h->out_w->cols, h->maxnorm);
}
