/*
 * head.c — the merge and the head of model_int.h:
 *   merged (B, Ff) → dropout p → [Dense H relu] → Dense C → logits
 * The merge is the concatenation of the parts' outputs: each part writes
 * its columns of `merged` directly, so it costs nothing here.  Dropout acts
 * on the merged features (the input of the first Dense), in place.
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
    h->Hin = c->H ? c->H : Ff;
    if (c->H) {
        h->hid_w = head_tensor(h, "hidden/kernel", c->H, Ff);
        h->hid_b = head_tensor(h, "hidden/bias", 1, c->H);
    }
    h->out_w = head_tensor(h, "output/kernel", c->C, h->Hin);
    h->out_b = head_tensor(h, "output/bias", 1, c->C);
}

void wb_head_layers(const wb_head *h, wb_layers *L, const char *in) {
    char prev[48];
    snprintf(prev, sizeof prev, "%s", in);
    if (h->dropout > 0) {
        wb_layers_add(L, "dropout", "Dropout", 1, h->Ff, 0, 0, 0, prev);
        snprintf(prev, sizeof prev, "%s", wb_layers_last(L));
    }
    uint64_t p;
    if (h->H) {
        p = (uint64_t)h->Ff * h->H + h->H;
        wb_layers_add(L, "dense", "Dense", 1, h->H, 0, p, p, prev);
        snprintf(prev, sizeof prev, "%s", wb_layers_last(L));
    }
    p = (uint64_t)h->Hin * h->C + h->C;
    wb_layers_add(L, "dense", "Dense", 1, h->C, 0, p, p, prev);
}

uint64_t wb_head_step_bytes(const wb_head *h, size_t B) {
    /* merged, mask, hidden, z, dz, prob; backward: dmerged, dh */
    return 2 * wb_abytes((uint64_t)B * h->Ff, 4) + wb_abytes((uint64_t)B * h->Ff, 1) + 2 * wb_abytes((uint64_t)B * h->H, 4) +
           3 * wb_abytes((uint64_t)B * h->C, 4);
}

void wb_head_init(wb_head *h, wb_rng *r) {
    if (h->H) wb_glorot(h->hid_w->w, h->hid_w->n, (double)h->Ff, (double)h->H, r);
    wb_glorot(h->out_w->w, h->out_w->n, (double)h->Hin, (double)h->C, r);
}

/* s->merged (filled by the parts) → s->z. */
int wb_head_forward(wb_head *h, wb_step *s, wb_err *e) {
    size_t B = s->B, Ff = h->Ff, C = h->C;
    s->mask = NULL;
    if (s->train && h->dropout > 0) {
        WB_ALLOC(s, s->mask, B * Ff);
        wb_dropout_forward(s->merged, B * Ff, h->dropout, s->rng, s->mask);
    }
    const float *hin = s->merged;
    s->h = NULL;
    if (h->H) {
        WB_ALLOC(s, s->h, B * h->H);
        wb_dense_forward(s->merged, B, Ff, h->hid_w->w, h->hid_b->w, h->H, s->h);
        wb_relu_forward(s->h, B * h->H);
        hin = s->h;
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
    size_t B = s->B, Ff = h->Ff, C = h->C;
    if (h->H) {
        float *dh;
        WB_ALLOC(s, dh, B * h->H);
        memset(dh, 0, B * h->H * sizeof(float));
        /* z = h·Woutᵀ + b;  h = relu(merged·Whidᵀ + b) */
        wb_dense_backward(s->h, s->dz, B, h->Hin, h->out_w->w, C, wb_grad(s, h->out_w), wb_grad(s, h->out_b), dh);
        wb_relu_backward(s->h, dh, B * h->H);
        wb_dense_backward(s->merged, dh, B, Ff, h->hid_w->w, h->H, wb_grad(s, h->hid_w), wb_grad(s, h->hid_b), dmerged);
    } else {
        wb_dense_backward(s->merged, s->dz, B, Ff, h->out_w->w, C, wb_grad(s, h->out_w), wb_grad(s, h->out_b), dmerged);
    }
    if (s->mask) wb_dropout_backward(dmerged, B * Ff, h->dropout, s->mask);
    return 0;
nomem:
    return wb_err_set(e, WB_ENOMEM, "out of memory in the step arena");
}

void wb_head_maxnorm(wb_head *h) {
    if (h->maxnorm > 0) wb_maxnorm_rows(h->out_w->w, h->out_w->rows, h->out_w->cols, h->maxnorm);
}
