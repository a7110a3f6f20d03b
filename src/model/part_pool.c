/*
 * part_pool.c — the pooling text part (model pool):
 *   Embedding → GlobalMaxPool over the T tokens (Ei)
 * Padding positions take part in the max (their row is zero), as in the
 * Keras tutorial's model without a mask.
 *
 * Leaves out: average pooling (nn.h has it; no model uses it yet).
 */
#include <string.h>

#include "model/model_int.h"
#include "wordbench/nn.h"

typedef struct pool_saved {
    int32_t *amax;   /* (B, Ei) token of the maximum */
} pool_saved;

static int pool_plan(wb_part *p, const wb_model_cfg *c, wb_err *e) {
    (void)e;
    wb_part_text_table(p, c);
    p->W = p->Ei;
    return 0;
}

static void pool_layers(const wb_part *p, wb_layers *L, const char *in) {
    wb_part_embedding_layers(p, L, in);
    char nm[48];
    snprintf(nm, sizeof nm, "%sglobal_max_pooling1d", p->prefix);
    wb_layers_add(L, nm, "GlobalMaxPooling1D", 1, p->Ei, 0, 0, 0, NULL);
}

static uint64_t pool_step_bytes(const wb_part *p, size_t B) {
    uint64_t BT = (uint64_t)B * p->T, N = BT < p->V ? BT : p->V, Ei = p->Ei, E = p->E;
    return wb_abytes(BT, 4) + wb_abytes(N * Ei, 4) + wb_abytes(N, 4) + wb_abytes(N, 8) + wb_abytes(N * E, 4) +
           wb_abytes(BT, 4) + wb_abytes(1, sizeof(pool_saved)) + 2 * wb_abytes(BT * Ei, 4) +
           3 * wb_abytes(B * Ei, 4) + wb_abytes(N * E, 4);
}

static void pool_init(wb_part *p, wb_rng *r) { (void)p, (void)r; }

/* out[b][c] = max_t x[b][t][c]. */
static int pool_forward(wb_part *p, wb_step *s, float *out, size_t ld, wb_err *e) {
    size_t B = s->B, T = p->T, Ei = p->Ei;
    wb_rows *r = &s->rows[p->idx];
    int rc = wb_emb_gather(&p->emb, s, s->X[p->input], B * T, r, e);
    if (rc) return rc;
    pool_saved *sv;
    float *x, *pooled = out;
    WB_ALLOC(s, sv, 1);
    s->saved[p->idx] = sv;
    if (!(x = wb_rows_embed(s->arena, r, Ei))) goto nomem;
    WB_ALLOC(s, sv->amax, B * Ei);
    if (ld != Ei) WB_ALLOC(s, pooled, B * Ei);
    wb_gmaxpool_forward(x, B, T, T, Ei, pooled, sv->amax);
    if (pooled != out)
        for (size_t b = 0; b < B; b++) memcpy(out + b * ld, pooled + b * Ei, Ei * sizeof *out);
    return 0;
nomem:
    return wb_err_set(e, WB_ENOMEM, "out of memory in the step arena");
}

/* dx[b][amax[b][c]][c] += dout[b][c], then the rows' gradient. */
static int pool_backward(wb_part *p, wb_step *s, const float *out, float *dout, size_t ld, wb_err *e) {
    (void)out;
    size_t B = s->B, T = p->T, Ei = p->Ei;
    wb_rows *r = &s->rows[p->idx];
    const pool_saved *sv = s->saved[p->idx];
    if (wb_rows_grad(s->arena, r, p->E)) goto nomem;
    if (!r->dU) return 0; /* no weights, no trainable rows: nothing to do */
    float *dx, *dp = dout;
    WB_ALLOC(s, dx, B * T * Ei);
    memset(dx, 0, B * T * Ei * sizeof(float));
    if (ld != Ei) {
        WB_ALLOC(s, dp, B * Ei);
        for (size_t b = 0; b < B; b++) memcpy(dp + b * Ei, dout + b * ld, Ei * sizeof *dp);
    }
    wb_gmaxpool_backward(dp, sv->amax, B, T, Ei, dx);
    wb_rows_scatter(r, dx, T, T * Ei, Ei, p->E);
    return 0;
nomem:
    return wb_err_set(e, WB_ENOMEM, "out of memory in the step arena");
}

static void pool_windows(const wb_part *p, const wb_step *s, size_t b, int32_t *start, int32_t *len) {
    const pool_saved *sv = s->saved[p->idx];
    for (size_t c = 0; c < p->Ei; c++) start[c] = sv->amax[b * p->Ei + c], len[c] = 1;
}

const wb_part_ops wb_part_pool = {
    .kind = "pool",
    .plan = pool_plan,
    .layers = pool_layers,
    .step_bytes = pool_step_bytes,
    .init = pool_init,
    .forward = pool_forward,
    .backward = pool_backward,
    .windows = pool_windows,
};
