/*
 * part_flat.c — the flattening text part (model dense):
 *   Embedding → Flatten (T·Ei)
 * every token position gets its own weights in the head's first Dense.
 *
 * Leaves out: nothing; it is the tutorial's first, simplest model.
 */
#include <string.h>

#include "model/model_int.h"

static int flat_plan(wb_part *p, const wb_model_cfg *c, wb_err *e) {
    (void)e;
    wb_part_text_table(p, c);
    p->W = p->T * p->Ei;
    return 0;
}

static void flat_layers(const wb_part *p, wb_layers *L, const char *in) {
    wb_part_embedding_layers(p, L, in);
    char nm[48];
    snprintf(nm, sizeof nm, "%sflatten", p->prefix);
    wb_layers_add(L, nm, "Flatten", 1, p->T * p->Ei, 0, 0, 0, NULL);
}

static uint64_t flat_step_bytes(const wb_part *p, size_t B) {
    uint64_t BT = (uint64_t)B * p->T, N = BT < p->V ? BT : p->V, Ei = p->Ei, E = p->E;
    return wb_abytes(BT, 4) + wb_abytes(N * Ei, 4) + wb_abytes(N, 4) + wb_abytes(N, 8) + wb_abytes(N * E, 4) +
           wb_abytes(BT, 4) + wb_abytes(N * E, 4);
}

static void flat_init(wb_part *p, wb_rng *r) { (void)p, (void)r; }

/* out[b][t·Ei + c] = x[b][t][c]. */
static int flat_forward(wb_part *p, wb_step *s, float *out, size_t ld, wb_err *e) {
    size_t B = s->B, T = p->T, Ei = p->Ei;
    wb_rows *r = &s->rows[p->idx];
    int rc = wb_emb_gather(&p->emb, s, s->X[p->input], B * T, r, e);
    if (rc) return rc;
    for (size_t b = 0; b < B; b++)
        for (size_t t = 0; t < T; t++)
            memcpy(out + b * ld + t * Ei, r->U + (size_t)r->lid[b * T + t] * Ei, Ei * sizeof *out);
    return 0;
}

/* Flatten's gradient is dout itself, read per token. */
static int flat_backward(wb_part *p, wb_step *s, const float *out, float *dout, size_t ld, wb_err *e) {
    (void)out;
    wb_rows *r = &s->rows[p->idx];
    if (wb_rows_grad(s->arena, r, p->E)) return wb_err_set(e, WB_ENOMEM, "out of memory in the step arena");
    if (r->dU) wb_rows_scatter(r, dout, p->T, ld, p->Ei, p->E);
    return 0;
}

static void flat_windows(const wb_part *p, const wb_step *s, size_t b, int32_t *start, int32_t *len) {
    (void)s, (void)b;
    for (size_t j = 0; j < p->W; j++) start[j] = (int32_t)(j / p->Ei), len[j] = 1;
}

const wb_part_ops wb_part_flat = {
    .kind = "flatten",
    .plan = flat_plan,
    .layers = flat_layers,
    .step_bytes = flat_step_bytes,
    .init = flat_init,
    .forward = flat_forward,
    .backward = flat_backward,
    .windows = flat_windows,
};
