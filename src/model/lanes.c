/*
 * lanes.c — a training step split over the model's lanes (model.h,
 * "Threads"): a pool of worker threads created by wb_model_set_threads and
 * kept with the model, and the split step.
 *
 *   lanes (in parallel): lane k takes examples [k·B/n, (k+1)·B/n) through
 *       gather, forward, loss (dz scaled by b_k / B, so the lanes' sum is
 *       the gradient of the minibatch's mean), backward — with its own
 *       step arena, gradient buffer, dropout generator and gather stamps
 *   merge (caller): per embedding table, the union of the lanes' rows in
 *       lane order, new overlay slots
 *   reduce + update (in parallel): lane k sums slice k of the dense
 *       gradient and rows k of the union's gradient over the lanes in lane
 *       order, then applies the optimizer to the same slice and rows
 *       (with clipnorm, the global norm needs every sum first: two passes)
 *   max-norm (caller).
 *
 * Every lane's share is fixed by (B, n), and every sum runs in lane order,
 * so the bits depend on n and not on scheduling.  A lane's dropout masks
 * come from a generator seeded by one draw of the step's generator and k.
 *
 * Every text input (each part's rows of the lane's examples) and the
 * numeric features are split alike.
 *
 * Leaves out: splitting inference (eval and predict run unsplit), lanes
 * that steal work, models with more than one text input sharing a table.
 */
#include <cblas.h>
#include <stdlib.h>
#include <string.h>

#include "base/pool.h"
#include "model/model_int.h"

typedef struct wb_lane {
    wb_arena *arena;         /* lane 0: the model's arena (not owned) */
    float *grad;             /* (nparam) lane 0: the model's gradients (not owned) */
    wb_step s;
    wb_rng rng;
    float loss;              /* mean over the lane's examples */
    size_t ok;
    int rc;
    wb_err err;
} wb_lane;

void wb_lanes_free(wb_model *m) {
    wb_pool_destroy(m->pool);
    m->pool = NULL;
    for (size_t k = 1; m->lane && k < m->nlanes; k++) {
        wb_arena_destroy(m->lane[k].arena);
        free(m->lane[k].grad);
    }
    free(m->lane);
    m->lane = NULL;
    for (size_t i = 0; i < m->g.nparts; i++)
        if (m->g.part[i].has_emb) wb_emb_set_lanes(&m->g.part[i].emb, 1, NULL);
    m->nlanes = 1;
}

size_t wb_model_threads(const wb_model *m) { return m->nlanes > 1 ? m->nlanes : 1; }

int wb_model_set_threads(wb_model *m, size_t n, wb_err *e) {
    if (n < 1 || n > 256) return wb_err_set(e, WB_EUSAGE, "threads %zu out of range 1..256", n);
    if (n == wb_model_threads(m)) return 0;
    wb_lanes_free(m);
    if (n == 1) return 0;
    size_t np = m->nparam ? m->nparam : 1;
    int rc = 0;
    if (!(m->lane = calloc(n, sizeof *m->lane))) return wb_err_set(e, WB_ENOMEM, "out of memory for %zu lanes", n);
    m->nlanes = n;
    m->lane[0].arena = m->arena, m->lane[0].grad = m->block + m->nparam;
    for (size_t k = 1; k < n; k++) {
        m->lane[k].arena = wb_arena_create(0);
        m->lane[k].grad = malloc(np * sizeof(float));
        if (!m->lane[k].arena || !m->lane[k].grad) {
            rc = wb_err_set(e, WB_ENOMEM, "out of memory for %zu lanes", n);
            goto fail;
        }
    }
    for (size_t i = 0; i < m->g.nparts; i++)
        if (m->g.part[i].has_emb && (rc = wb_emb_set_lanes(&m->g.part[i].emb, n, e))) goto fail;
    if ((rc = wb_pool_create(&m->pool, n))) {
        rc = wb_err_set(e, rc, "cannot start %zu worker threads (error %d)", n - 1, rc);
        goto fail;
    }
    openblas_set_num_threads(1);
    return 0;
fail:
    wb_lanes_free(m);
    return rc;
}

void wb_lanes_arena(const wb_model *m, size_t *cap, size_t *peak) {
    for (size_t k = 1; m->lane && k < m->nlanes; k++) {
        *cap += wb_arena_capacity(m->lane[k].arena);
        *peak += wb_arena_peak(m->lane[k].arena);
    }
}

/* What the passes of one split step share. */
typedef struct split {
    wb_model *m;
    const wb_batch *bt;      /* every input of the minibatch */
    size_t B, n;             /* examples, lanes used (<= B) */
    const int32_t *y;
    const float *t, *cw;
    uint64_t seed;           /* of the lanes' dropout generators */
    int reduce, update;      /* what reduce_update does */
    wb_rows u[WB_MAX_PARTS]; /* union of the lanes' rows per part */
    wb_rows **lr[WB_MAX_PARTS];  /* (n) the lanes' rows per part */
    int32_t **map[WB_MAX_PARTS]; /* (n) lane row → union row */
} split;

static void lane_pass(void *ctx, size_t k, size_t nl) {
    (void)nl;
    split *S = ctx;
    if (k >= S->n) return;
    wb_model *m = S->m;
    wb_lane *L = &m->lane[k];
    size_t b0 = S->B * k / S->n, b1 = S->B * (k + 1) / S->n, b = b1 - b0, C = m->c.C;
    wb_step *s = &L->s;
    memset(s, 0, sizeof *s);
    wb_arena_reset(L->arena);
    wb_rng_init(&L->rng, S->seed ^ (uint64_t)(k + 1) * 0x9E3779B97F4A7C15ull);
    s->m = m, s->lane = k, s->B = b, s->train = 1, s->rng = &L->rng, s->arena = L->arena, s->grad = L->grad;
    for (size_t i = 0; i < m->g.nparts; i++) { /* the lane's rows of every input */
        const wb_part *p = &m->g.part[i];
        if (p->input >= 0) s->X[p->input] = S->bt->X[p->input] + b0 * p->T;
    }
    if (S->bt->feat) s->feat = S->bt->feat + b0 * m->c.nfeat;
    const int32_t *y = S->y ? S->y + b0 : NULL;
    const float *t = S->t ? S->t + b0 * C : NULL;
    if ((L->rc = wb_step_forward(m, s, &L->err))) return;
    L->loss = wb_step_loss(m, s, y, t, S->cw, 1);
    /* dz is of this lane's mean: of the minibatch's mean, scaled by b/B */
    float f = (float)((double)b / (double)S->B);
    for (size_t i = 0; i < b * C; i++) s->dz[i] *= f;
    L->ok = wb_step_correct(m, s, y, t);
    L->rc = wb_step_backward(m, s, &L->err);
}

/* Slice k of nl of the dense gradient and of every union of rows: sums
 * over the lanes (lane order), then the optimizer on the same slice. */
static void reduce_update(void *ctx, size_t k, size_t nl) {
    split *S = ctx;
    wb_model *m = S->m;
    wb_graph *g = &m->g;
    size_t np = m->nparam, lo = np * k / nl, hi = np * (k + 1) / nl;
    float *g0 = m->lane[0].grad;
    if (S->reduce)
        for (size_t j = 1; j < S->n; j++) {
            const float *gj = m->lane[j].grad;
            for (size_t i = lo; i < hi; i++) g0[i] += gj[i];
        }
    if (S->update)
        for (size_t i = 0; i < g->nts; i++) {
            wb_tensor *t = g->ts[i];
            size_t a = t->off > lo ? t->off : lo, z = t->off + t->n < hi ? t->off + t->n : hi;
            if (a < z) wb_optim_update_slice(&m->opt, t->w, g0 + t->off, t->s, t->n, a - t->off, z - t->off);
        }
    for (size_t i = 0; i < g->nparts; i++) {
        wb_part *p = &g->part[i];
        wb_rows *u = &S->u[i];
        if (!p->has_emb) continue;
        size_t rlo = u->N * k / nl, rhi = u->N * (k + 1) / nl;
        if (S->reduce && u->dU) wb_rows_reduce(u, S->lr[i], S->map[i], S->n, p->emb.E, rlo, rhi);
        if (S->update && u->dU) wb_emb_update_rows(&p->emb, &m->opt, &m->cu, u, rlo, rhi);
        if (S->update && m->opt.kind == WB_OPT_ADAM && m->opt.adam == WB_ADAM_DENSE) {
            size_t n = p->emb.orows; /* idle rows too, a slice each */
            wb_emb_update_idle(&p->emb, &m->opt, &m->cu, n * k / nl, n * (k + 1) / nl);
        }
    }
}

int wb_lanes_train_step(wb_model *m, const wb_batch *bt, const int32_t *y, const float *t, const float *cw,
                        wb_rng *rng, float *loss, size_t *correct, wb_err *e) {
    wb_graph *g = &m->g;
    size_t B = bt->B;
    split S;
    memset(&S, 0, sizeof S);
    S.m = m, S.bt = bt, S.B = B, S.y = y, S.t = t, S.cw = cw;
    S.n = m->nlanes < B ? m->nlanes : B;
    S.seed = wb_rng_next(rng);
    wb_pool_run(m->pool, lane_pass, &S);
    double lsum = 0;
    size_t ok = 0;
    for (size_t k = 0; k < S.n; k++) {
        wb_lane *L = &m->lane[k];
        if (L->rc) {
            if (e) *e = L->err;
            return L->rc;
        }
        size_t b = B * (k + 1) / S.n - B * k / S.n;
        lsum += (double)L->loss * (double)b, ok += L->ok;
    }
    if (loss) *loss = (float)(lsum / (double)B);
    if (correct) *correct = ok;
    /* the union of the lanes' rows (lane 0's arena is the model's) */
    for (size_t i = 0; i < g->nparts; i++) {
        if (!g->part[i].has_emb) continue;
        S.lr[i] = wb_arena_alloc(m->arena, S.n * sizeof *S.lr[i]);
        S.map[i] = wb_arena_alloc(m->arena, S.n * sizeof *S.map[i]);
        if (!S.lr[i] || !S.map[i]) return wb_err_set(e, WB_ENOMEM, "out of memory in the step arena");
        for (size_t k = 0; k < S.n; k++) S.lr[i][k] = &m->lane[k].s.rows[i];
        int rc = wb_emb_merge(&g->part[i].emb, m->arena, S.lr[i], S.n, &S.u[i], S.map[i], m->opt.t, e);
        if (rc) return rc;
    }
    S.reduce = 1, S.update = m->opt.clipnorm <= 0;
    double sq = 0;
    if (!S.update) { /* clipnorm: the norm of the summed gradients first */
        wb_pool_run(m->pool, reduce_update, &S);
        sq = wb_sqnorm(m->lane[0].grad, m->nparam);
        for (size_t i = 0; i < g->nparts; i++)
            if (g->part[i].has_emb) sq += wb_emb_sqnorm(&g->part[i].emb, &S.u[i]);
        S.reduce = 0, S.update = 1;
    }
    wb_optim_begin(&m->opt, sq);
    wb_pool_run(m->pool, reduce_update, &S);
    wb_head_maxnorm(&g->head);
    return 0;
}
