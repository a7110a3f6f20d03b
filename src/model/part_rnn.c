/*
 * part_rnn.c — the recurrent text part (models lstm and gru):
 *   Embedding (mask_zero) → LSTM / GRU of R units [→ both directions]
 *   → the last state or the max over time (R, or 2R bidirectional)
 * with Keras' semantics:
 *   LSTM  g = W·x + b + U·h (gates i, f, c, o);  i, f, o = σ(g_i, g_f, g_o);
 *         c~ = tanh(g_c);  c' = f⊙c + i⊙c~;  h' = o⊙tanh(c')
 *   GRU   (reset_after, Keras 2's default; PyTorch's formula)
 *         [x_z x_r x_h] = W·x + b;  [u_z u_r u_h] = U·h + b_rec
 *         z = σ(x_z + u_z);  r = σ(x_r + u_r);  h~ = tanh(x_h + r⊙u_h)
 *         h' = z⊙h + (1 - z)⊙h~
 * Masking: a step whose id is 0 (padding, pre or post) leaves h (and c)
 * unchanged, as Keras' mask_zero=True; so "last" is the state after the
 * last real token and "max" is the max over the real tokens' outputs (0
 * for an empty text).  The backward direction reads the text from its end.
 *
 * Layouts (weights [G·R, ·], gate blocks in Keras' order; PyTorch's
 * weight_ih_l0 order for LSTM, (r, z, n) for GRU: the parity script
 * converts):  kernel (G·R, Ei), recurrent_kernel (G·R, R), bias (G·R),
 * GRU recurrent_bias (G·R).  Initialisation as Keras: Glorot-uniform kernel,
 * orthogonal recurrent kernel, zero biases but the LSTM's forget gate 1.
 *
 * Cost: the input projection P = U·Wᵀ + b is computed once per distinct row
 * of the minibatch (N·G·R·Ei), then every step gathers P rows by id and
 * adds one sgemm of its active examples' states (n_a·G·R·R).  BPTT keeps
 * every step's gates and states: T·B·(G + 2)·R floats per direction.
 *
 * Leaves out: stacked layers, return_sequences to other layers, dropout
 * inside the cell (Keras' dropout / recurrent_dropout), peepholes.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "model/model_int.h"

#include <cblas.h>

/* What forward keeps, per direction. */
typedef struct rnn_dir {
    float *P;        /* (N, G·R) input projections of the distinct rows, bias included */
    float *act;      /* (T, B, G·R) gate activations (LSTM: i f c~ o; GRU: z r h~) */
    float *urh;      /* (T, B, R) GRU: u_h = U_h·h + b_rec_h, or NULL */
    float *hs;       /* (T, B, R) state h after each step (carried over masked steps) */
    float *cs;       /* (T, B, R) LSTM: cell state after each step, or NULL */
    float *tc;       /* (T, B, R) LSTM: tanh of the cell state of each active step, or NULL */
    int32_t *amax;   /* (B, R) max pool: processing step of the max, -1 = none */
} rnn_dir;

typedef struct rnn_saved {
    rnn_dir d[2];
} rnn_saved;

static int rnn_plan(wb_part *p, const wb_model_cfg *c, wb_err *e) {
    (void)e;
    wb_part_text_table(p, c);
    p->gru = c->kind == WB_MODEL_GRU;
    p->G = p->gru ? 3 : 4;
    p->R = c->units;
    p->ndir = c->bidirectional ? 2 : 1;
    p->pool = c->rnn_pool;
    p->W = p->ndir * p->R;
    const char *k = p->gru ? "gru" : "lstm";
    char nm[96];
    for (size_t d = 0; d < p->ndir; d++) {
        const char *dir = d ? "_backward" : "";
        snprintf(nm, sizeof nm, "%s%s%s/kernel", p->prefix, k, dir);
        wb_part_tensor(p, nm, p->G * p->R, p->Ei);
        snprintf(nm, sizeof nm, "%s%s%s/recurrent_kernel", p->prefix, k, dir);
        wb_part_tensor(p, nm, p->G * p->R, p->R);
        snprintf(nm, sizeof nm, "%s%s%s/bias", p->prefix, k, dir);
        wb_part_tensor(p, nm, 1, p->G * p->R);
        if (p->gru) {
            snprintf(nm, sizeof nm, "%s%s%s/recurrent_bias", p->prefix, k, dir);
            wb_part_tensor(p, nm, 1, p->G * p->R);
        }
    }
    return 0;
}

/* The tensors of direction d: kernel, recurrent kernel, bias, recurrent bias (GRU). */
static wb_tensor *tens(const wb_part *p, size_t d, size_t which) {
    return (wb_tensor *)&p->t[d * (p->gru ? 4 : 3) + which];
}

static void rnn_layers(const wb_part *p, wb_layers *L, const char *in) {
    wb_part_embedding_layers(p, L, in);
    uint64_t GR = (uint64_t)p->G * p->R, prm = GR * p->Ei + GR * p->R + GR * (p->gru ? 2 : 1);
    char nm[48];
    const char *type = p->gru ? "GRU" : "LSTM";
    if (p->ndir == 2) {
        snprintf(nm, sizeof nm, "%sbidirectional", p->prefix);
        wb_layers_add(L, nm, "Bidirectional", p->pool == WB_RNN_MAX ? 2 : 1, p->pool == WB_RNN_MAX ? p->T : p->W,
                      p->pool == WB_RNN_MAX ? p->W : 0, 2 * prm, 2 * prm, NULL);
    } else {
        snprintf(nm, sizeof nm, "%s%s", p->prefix, p->gru ? "gru" : "lstm");
        wb_layers_add(L, nm, type, p->pool == WB_RNN_MAX ? 2 : 1, p->pool == WB_RNN_MAX ? p->T : p->R,
                      p->pool == WB_RNN_MAX ? p->R : 0, prm, prm, NULL);
    }
    if (p->pool == WB_RNN_MAX) {
        snprintf(nm, sizeof nm, "%sglobal_max_pooling1d", p->prefix);
        wb_layers_add(L, nm, "GlobalMaxPooling1D", 1, p->W, 0, 0, 0, NULL);
    }
}

static uint64_t rnn_step_bytes(const wb_part *p, size_t B) {
    uint64_t BT = (uint64_t)B * p->T, N = BT < p->V ? BT : p->V, Ei = p->Ei, E = p->E, R = p->R, GR = p->G * R;
    /* gather (ids, U, srows, sdst, tmp, lid), saved struct */
    uint64_t b = wb_abytes(BT, 4) + wb_abytes(N * Ei, 4) + wb_abytes(N, 4) + wb_abytes(N, 8) + wb_abytes(N * E, 4) +
                 wb_abytes(BT, 4) + wb_abytes(1, sizeof(rnn_saved)) + wb_abytes(N * E, 4);
    /* per direction: P, act, urh, hs, cs, amax; step scratch (active list, Hprev, Z);
     * backward: dP, dh, dc, dZ, dHprev, dU rows (N, Ei) */
    uint64_t d = wb_abytes(N * GR, 4) + wb_abytes(BT * GR, 4) + 4 * wb_abytes(BT * R, 4) + wb_abytes(B * R, 4) +
                 wb_abytes(B, 4) + wb_abytes(B * R, 4) + 2 * wb_abytes(B * GR, 4) + wb_abytes(N * GR, 4) +
                 3 * wb_abytes(B * R, 4) + 2 * wb_abytes(B * GR, 4) + wb_abytes(B * R, 4) + wb_abytes(N * Ei, 4);
    return b + p->ndir * d;
}

/* A standard normal draw (Box-Muller on two 24-bit uniforms). */
static double normal(wb_rng *r) {
    double u1 = ((double)(wb_rng_next(r) >> 40) + 0.5) / 16777216.0, u2 = (double)(wb_rng_next(r) >> 40) / 16777216.0;
    return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}

/* Keras' Orthogonal initializer for the recurrent kernel: a normal (GR, R)
 * matrix whose columns are made orthonormal (modified Gram-Schmidt, the Q
 * of its QR decomposition up to signs). */
static void orthogonal(float *w, size_t rows, size_t cols, wb_rng *r) {
    double *a = malloc(rows * cols * sizeof *a);
    if (!a) { /* out of memory at init: fall back to Glorot (still a sane start) */
        wb_glorot(w, rows * cols, (double)rows, (double)cols, r);
        return;
    }
    for (size_t i = 0; i < rows * cols; i++) a[i] = normal(r);
    for (size_t j = 0; j < cols; j++) {
        for (size_t k = 0; k < j; k++) {
            double dot = 0;
            for (size_t i = 0; i < rows; i++) dot += a[i * cols + j] * a[i * cols + k];
            for (size_t i = 0; i < rows; i++) a[i * cols + j] -= dot * a[i * cols + k];
        }
        double nn = 0;
        for (size_t i = 0; i < rows; i++) nn += a[i * cols + j] * a[i * cols + j];
        nn = nn > 0 ? 1.0 / sqrt(nn) : 0;
        for (size_t i = 0; i < rows; i++) a[i * cols + j] *= nn;
    }
    for (size_t i = 0; i < rows * cols; i++) w[i] = (float)a[i];
    free(a);
}

static void rnn_init(wb_part *p, wb_rng *r) {
    for (size_t d = 0; d < p->ndir; d++) {
        wb_tensor *k = tens(p, d, 0), *u = tens(p, d, 1), *b = tens(p, d, 2);
        wb_glorot(k->w, k->n, (double)p->Ei, (double)(p->G * p->R), r);
        orthogonal(u->w, p->G * p->R, p->R, r);
        if (!p->gru)
            for (size_t i = 0; i < p->R; i++) b->w[p->R + i] = 1.0f; /* unit_forget_bias */
    }
}

static inline float sigm(float x) { return 1.0f / (1.0f + expf(-x)); }

/* tanh through expf: glibc's tanhf goes through expm1f, three times slower,
 * and the recurrent loops spent a third of their time there.  For |x| >=
 * 1/16, 1 - 2/(e^{2|x|} + 1) loses nothing (the subtraction keeps ~1e-6
 * relative); below, where it would cancel, the Taylor series to x^7 (the
 * next term is 62/2835·x^9 < 1e-13·|x|: exact in float). */
static inline float tanh_fast(float x) {
    float a = fabsf(x);
    if (a < 0.0625f) {
        float x2 = x * x;
        return x * (1.0f + x2 * (-1.0f / 3 + x2 * (2.0f / 15 + x2 * (-17.0f / 315))));
    }
    float t = 1.0f - 2.0f / (expf(2.0f * a) + 1.0f);
    return x < 0 ? -t : t;
}

/* One direction over the whole minibatch.  out (B, R) at stride ld gets the
 * last state or the max over time. */
static int rnn_dir_forward(const wb_part *p, wb_step *s, const wb_rows *rw, size_t d, rnn_dir *sd, float *out, size_t ld) {
    size_t B = s->B, T = p->T, R = p->R, G = p->G, GR = G * R, Ei = p->Ei, N = rw->N;
    const int32_t *X = s->X[p->input];
    const float *Wk = tens(p, d, 0)->w, *Ur = tens(p, d, 1)->w, *bias = tens(p, d, 2)->w;
    const float *brec = p->gru ? tens(p, d, 3)->w : NULL;
    int rev = d == 1;
    float *h, *c = NULL, *Hp, *Z, *Rz = NULL;
    int32_t *act;
    WB_ALLOC(s, sd->P, N * GR);
    WB_ALLOC(s, sd->act, T * B * GR);
    WB_ALLOC(s, sd->hs, T * B * R);
    WB_ALLOC(s, h, B * R);
    WB_ALLOC(s, act, B);
    WB_ALLOC(s, Hp, B * R);
    WB_ALLOC(s, Z, B * GR);
    memset(h, 0, B * R * sizeof *h);
    sd->cs = NULL, sd->urh = NULL, sd->amax = NULL;
    sd->tc = NULL;
    if (!p->gru) {
        WB_ALLOC(s, sd->cs, T * B * R);
        WB_ALLOC(s, sd->tc, T * B * R);
        WB_ALLOC(s, c, B * R);
        memset(c, 0, B * R * sizeof *c);
    } else {
        WB_ALLOC(s, sd->urh, T * B * R);
        WB_ALLOC(s, Rz, B * GR);
    }
    if (p->pool == WB_RNN_MAX) {
        WB_ALLOC(s, sd->amax, B * R);
        for (size_t i = 0; i < B * R; i++) sd->amax[i] = -1;
        for (size_t b = 0; b < B; b++) memset(out + b * ld, 0, R * sizeof *out);
    }
    /* P[N, GR] = U[N, Ei] · Wᵀ (W [GR, Ei]: Trans) + bias per row */
    for (size_t n = 0; n < N; n++) memcpy(sd->P + n * GR, bias, GR * sizeof *bias);
    if (N) cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)N, (int)GR, (int)Ei, 1.0f, rw->U, (int)Ei, Wk, (int)Ei,
                       1.0f, sd->P, (int)GR);
    /* The steps' products are small (n_a × G·R × R): OpenBLAS's threads
     * cost more to wake than they save (on a busy machine they yield for
     * most of the time), so the time loop runs on this thread alone. */
    int blas = openblas_get_num_threads();
    openblas_set_num_threads(1);
    for (size_t k = 0; k < T; k++) {
        size_t tp = rev ? T - 1 - k : k, na = 0;
        for (size_t b = 0; b < B; b++)
            if (X[b * T + tp] != 0) act[na++] = (int32_t)b;
        if (na) {
            for (size_t a = 0; a < na; a++) {
                size_t b = (size_t)act[a];
                memcpy(Hp + a * R, h + b * R, R * sizeof *Hp);
                memcpy(Z + a * GR, sd->P + (size_t)rw->lid[b * T + tp] * GR, GR * sizeof *Z);
            }
            if (!p->gru) {
                /* Z[na, GR] += Hp[na, R] · Urᵀ (Ur [GR, R]: Trans) */
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)na, (int)GR, (int)R, 1.0f, Hp, (int)R, Ur, (int)R,
                            1.0f, Z, (int)GR);
            } else {
                /* Rz[na, GR] = Hp · Urᵀ + b_rec */
                for (size_t a = 0; a < na; a++) memcpy(Rz + a * GR, brec, GR * sizeof *Rz);
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)na, (int)GR, (int)R, 1.0f, Hp, (int)R, Ur, (int)R,
                            1.0f, Rz, (int)GR);
            }
            for (size_t a = 0; a < na; a++) {
                size_t b = (size_t)act[a];
                float *z = Z + a * GR, *g = sd->act + (k * B + b) * GR, *hb = h + b * R;
                if (!p->gru) {
                    float *cb = c + b * R, *tcs = sd->tc + (k * B + b) * R;
                    for (size_t j = 0; j < R; j++) {
                        float ig = sigm(z[j]), fg = sigm(z[R + j]), cg = tanh_fast(z[2 * R + j]), og = sigm(z[3 * R + j]);
                        g[j] = ig, g[R + j] = fg, g[2 * R + j] = cg, g[3 * R + j] = og;
                        cb[j] = fg * cb[j] + ig * cg;
                        float tc = tanh_fast(cb[j]);
                        tcs[j] = tc;
                        hb[j] = og * tc;
                    }
                } else {
                    const float *rz = Rz + a * GR;
                    float *uh = sd->urh + (k * B + b) * R;
                    for (size_t j = 0; j < R; j++) {
                        float zg = sigm(z[j] + rz[j]), rg = sigm(z[R + j] + rz[R + j]);
                        float hg = tanh_fast(z[2 * R + j] + rg * rz[2 * R + j]);
                        g[j] = zg, g[R + j] = rg, g[2 * R + j] = hg;
                        uh[j] = rz[2 * R + j];
                        hb[j] = zg * hb[j] + (1.0f - zg) * hg;
                    }
                }
                if (p->pool == WB_RNN_MAX) {
                    float *o = out + b * ld;
                    int32_t *am = sd->amax + b * R;
                    for (size_t j = 0; j < R; j++)
                        if (am[j] < 0 || hb[j] > o[j]) o[j] = hb[j], am[j] = (int32_t)k;
                }
            }
        }
        memcpy(sd->hs + k * B * R, h, B * R * sizeof *h);
        if (c) memcpy(sd->cs + k * B * R, c, B * R * sizeof *c);
    }
    openblas_set_num_threads(blas);
    if (p->pool == WB_RNN_LAST)
        for (size_t b = 0; b < B; b++) memcpy(out + b * ld, h + b * R, R * sizeof *out);
    return 0;
nomem:
    return -1;
}

static int rnn_forward(wb_part *p, wb_step *s, float *out, size_t ld, wb_err *e) {
    size_t B = s->B, T = p->T;
    wb_rows *r = &s->rows[p->idx];
    int rc = wb_emb_gather(&p->emb, s, s->X[p->input], B * T, r, e);
    if (rc) return rc;
    rnn_saved *sv;
    WB_ALLOC(s, sv, 1);
    s->saved[p->idx] = sv;
    for (size_t d = 0; d < p->ndir; d++)
        if (rnn_dir_forward(p, s, r, d, &sv->d[d], out + d * p->R, ld)) goto nomem;
    return 0;
nomem:
    return wb_err_set(e, WB_ENOMEM, "out of memory in the step arena");
}

/* BPTT of one direction: dout (B, R) at stride ld is d loss / d output.
 * dPt (B·T, G·R), when not NULL, gets d loss / d P at every position that
 * holds a token (explain). */
static int rnn_dir_backward(const wb_part *p, wb_step *s, wb_rows *rw, size_t d, const rnn_dir *sd, const float *dout,
                            size_t ld, float *dPt) {
    size_t B = s->B, T = p->T, R = p->R, G = p->G, GR = G * R, Ei = p->Ei, E = p->E, N = rw->N;
    const int32_t *X = s->X[p->input];
    wb_tensor *tk = tens(p, d, 0), *tu = tens(p, d, 1), *tb = tens(p, d, 2);
    const float *Ur = tu->w;
    float *dUr = wb_grad(s, tu), *db = wb_grad(s, tb), *dbrec = p->gru ? wb_grad(s, tens(p, d, 3)) : NULL;
    int rev = d == 1;
    float *dP, *dh, *dc = NULL, *dZ, *dR = NULL, *Hp, *dHp;
    int32_t *act;
    WB_ALLOC(s, dP, N * GR);
    WB_ALLOC(s, dh, B * R);
    WB_ALLOC(s, dZ, B * GR);
    WB_ALLOC(s, Hp, B * R);
    WB_ALLOC(s, dHp, B * R);
    WB_ALLOC(s, act, B);
    memset(dP, 0, N * GR * sizeof *dP);
    memset(dh, 0, B * R * sizeof *dh);
    if (!p->gru) {
        WB_ALLOC(s, dc, B * R);
        memset(dc, 0, B * R * sizeof *dc);
    } else {
        WB_ALLOC(s, dR, B * GR);
    }
    if (p->pool == WB_RNN_LAST)
        for (size_t b = 0; b < B; b++) memcpy(dh + b * R, dout + b * ld, R * sizeof *dh);
    int blas = openblas_get_num_threads(); /* as in the forward pass: small products, one thread */
    openblas_set_num_threads(1);
    for (size_t k = T; k-- > 0;) {
        size_t tp = rev ? T - 1 - k : k, na = 0;
        if (p->pool == WB_RNN_MAX) /* the output of step k: its share of the max */
            for (size_t b = 0; b < B; b++)
                for (size_t j = 0; j < R; j++)
                    if (sd->amax[b * R + j] == (int32_t)k) dh[b * R + j] += dout[b * ld + j];
        for (size_t b = 0; b < B; b++)
            if (X[b * T + tp] != 0) act[na++] = (int32_t)b;
        if (!na) continue; /* a masked step passes dh (and dc) through unchanged */
        for (size_t a = 0; a < na; a++) {
            size_t b = (size_t)act[a];
            const float *g = sd->act + (k * B + b) * GR;
            const float *hp = k ? sd->hs + ((k - 1) * B + b) * R : NULL; /* state before step k */
            float *z = dZ + a * GR, *dhb = dh + b * R;
            if (hp) memcpy(Hp + a * R, hp, R * sizeof *Hp);
            else memset(Hp + a * R, 0, R * sizeof *Hp);
            if (!p->gru) {
                /* c = f⊙c_prev + i⊙c~, h = o⊙tanh(c) */
                const float *tct = sd->tc + (k * B + b) * R, *cp = k ? sd->cs + ((k - 1) * B + b) * R : NULL;
                float *dcb = dc + b * R;
                for (size_t j = 0; j < R; j++) {
                    float ig = g[j], fg = g[R + j], cg = g[2 * R + j], og = g[3 * R + j], tc = tct[j];
                    float dct = dcb[j] + dhb[j] * og * (1.0f - tc * tc);
                    z[j] = dct * cg * ig * (1.0f - ig);
                    z[R + j] = dct * (cp ? cp[j] : 0.0f) * fg * (1.0f - fg);
                    z[2 * R + j] = dct * ig * (1.0f - cg * cg);
                    z[3 * R + j] = dhb[j] * tc * og * (1.0f - og);
                    dcb[j] = dct * fg;
                }
            } else {
                /* h = z⊙h_prev + (1-z)⊙h~, h~ = tanh(x_h + r⊙u_h) */
                const float *uh = sd->urh + (k * B + b) * R;
                float *rr = dR + a * GR;
                for (size_t j = 0; j < R; j++) {
                    float zg = g[j], rg = g[R + j], hg = g[2 * R + j], hpj = hp ? hp[j] : 0.0f;
                    float da = dhb[j] * (1.0f - zg) * (1.0f - hg * hg);
                    float dzp = dhb[j] * (hpj - hg) * zg * (1.0f - zg);
                    float drp = da * uh[j] * rg * (1.0f - rg);
                    z[j] = dzp, z[R + j] = drp, z[2 * R + j] = da;
                    rr[j] = dzp, rr[R + j] = drp, rr[2 * R + j] = da * rg;
                }
            }
            float *dp = dP + (size_t)rw->lid[b * T + tp] * GR;
            for (size_t j = 0; j < GR; j++) dp[j] += z[j];
            if (dPt) memcpy(dPt + (b * T + tp) * GR, z, GR * sizeof *z);
        }
        /* the recurrent product: dUr[GR, R] += dRᵀ[GR, na] · Hp[na, R];
         * dHp[na, R] = dR · Ur (dR = dZ for LSTM) */
        const float *dRr = p->gru ? dR : dZ;
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)GR, (int)R, (int)na, 1.0f, dRr, (int)GR, Hp, (int)R, 1.0f,
                    dUr, (int)R);
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)na, (int)R, (int)GR, 1.0f, dRr, (int)GR, Ur, (int)R, 0.0f,
                    dHp, (int)R);
        for (size_t a = 0; a < na; a++) {
            size_t b = (size_t)act[a];
            float *dhb = dh + b * R;
            if (p->gru) {
                const float *zg = sd->act + (k * B + b) * GR;
                for (size_t j = 0; j < R; j++) dhb[j] = dHp[a * R + j] + dhb[j] * zg[j];
                for (size_t j = 0; j < GR; j++) dbrec[j] += dR[a * GR + j];
            } else {
                memcpy(dhb, dHp + a * R, R * sizeof *dhb);
            }
        }
    }
    openblas_set_num_threads(blas);
    /* P = U·Wᵀ + b per distinct row: dW[GR, Ei] += dPᵀ · U;  db += Σ_n dP[n];
     * the rows' tuned half: dU[N, E] += dP · W[:, Ei-E ..]. */
    if (N) {
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)GR, (int)Ei, (int)N, 1.0f, dP, (int)GR, rw->U, (int)Ei, 1.0f,
                    wb_grad(s, tk), (int)Ei);
        for (size_t n = 0; n < N; n++)
            for (size_t j = 0; j < GR; j++) db[j] += dP[n * GR + j];
        if (rw->dU)
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)N, (int)E, (int)GR, 1.0f, dP, (int)GR,
                        tk->w + (Ei - E), (int)Ei, 1.0f, rw->dU, (int)E);
    }
    return 0;
nomem:
    return -1;
}

static int rnn_backward(wb_part *p, wb_step *s, const float *out, float *dout, size_t ld, wb_err *e) {
    (void)out;
    wb_rows *r = &s->rows[p->idx];
    const rnn_saved *sv = s->saved[p->idx];
    if (wb_rows_grad(s->arena, r, p->E)) goto nomem;
    for (size_t d = 0; d < p->ndir; d++)
        if (rnn_dir_backward(p, s, r, d, &sv->d[d], dout + d * p->R, ld, NULL)) goto nomem;
    return 0;
nomem:
    return wb_err_set(e, WB_ENOMEM, "out of memory in the step arena");
}

/* Explain by gradient × input: per direction, the BPTT of g gives d score
 * / d P_t at every token; dx_t (Ei) = d P_t · W (W: (G·R, Ei), P = x·Wᵀ + b),
 * and the token's contribution is x_t · dx_t, summed over directions. */
static int rnn_explain(wb_part *p, wb_step *s, const float *out, const float *g, size_t ld, wb_span_fn fn, void *ctx,
                       wb_err *e) {
    (void)out;
    size_t B = s->B, T = p->T, GR = p->G * p->R, Ei = p->Ei;
    const int32_t *X = s->X[p->input];
    wb_rows *r = &s->rows[p->idx];
    const rnn_saved *sv = s->saved[p->idx];
    float *dPt, *dX, *score;
    WB_ALLOC(s, dPt, B * T * GR);
    WB_ALLOC(s, dX, B * T * Ei);
    WB_ALLOC(s, score, B * T);
    memset(score, 0, B * T * sizeof *score);
    for (size_t d = 0; d < p->ndir; d++) {
        memset(dPt, 0, B * T * GR * sizeof *dPt);
        if (rnn_dir_backward(p, s, r, d, &sv->d[d], g + d * p->R, ld, dPt)) goto nomem;
        /* dX[BT, Ei] = dPt[BT, GR] · W[GR, Ei] */
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)(B * T), (int)Ei, (int)GR, 1.0f, dPt, (int)GR,
                    tens(p, d, 0)->w, (int)Ei, 0.0f, dX, (int)Ei);
        for (size_t i = 0; i < B * T; i++) {
            if (!X[i]) continue;
            const float *x = r->U + (size_t)r->lid[i] * Ei, *dx = dX + i * Ei;
            double v = 0;
            for (size_t q = 0; q < Ei; q++) v += (double)x[q] * dx[q];
            score[i] += (float)v;
        }
    }
    for (size_t b = 0; b < B; b++)
        for (size_t t = 0; t < T; t++)
            if (X[b * T + t] && score[b * T + t] != 0) fn(ctx, b, (int32_t)t, 1, score[b * T + t]);
    return 0;
nomem:
    return wb_err_set(e, WB_ENOMEM, "out of memory in the step arena");
}

static void rnn_windows(const wb_part *p, const wb_step *s, size_t b, int32_t *start, int32_t *len) {
    const rnn_saved *sv = s->saved[p->idx];
    for (size_t d = 0; d < p->ndir; d++)
        for (size_t j = 0; j < p->R; j++) {
            int32_t k = p->pool == WB_RNN_MAX ? sv->d[d].amax[b * p->R + j] : -1;
            /* max: the token whose step gave the maximum; last: the whole text */
            start[d * p->R + j] = k < 0 ? -1 : d ? (int32_t)p->T - 1 - k : k;
            len[d * p->R + j] = k < 0 ? 0 : 1;
        }
}

const wb_part_ops wb_part_rnn = {
    .kind = "rnn",
    .plan = rnn_plan,
    .layers = rnn_layers,
    .step_bytes = rnn_step_bytes,
    .init = rnn_init,
    .forward = rnn_forward,
    .backward = rnn_backward,
    .windows = rnn_windows,
    .explain = rnn_explain,
};
