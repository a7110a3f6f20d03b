/*
 * optim.c — the update rules of include/wordbench/optim.h: Adam, SGD with
 * momentum, RMSprop, Adagrad, Adadelta; global-norm and element gradient
 * clipping, L2 (weight decay) and the max-norm constraint.
 *
 * Each rule is written in the order PyTorch 1.13's single-tensor CPU
 * implementation evaluates it (torch/optim/<name>.py), so float32 results
 * agree with torch to the last bit or two: e.g. Adam divides sqrt(v) by
 * sqrt(1-β2^t) and multiplies m/denom by lr/(1-β1^t), rather than forming
 * m̂ and v̂.  Bias corrections are computed in double and cast once, as
 * torch does with its Python-float step size.
 *
 * Leaves out: parameter bookkeeping (which tensors, which rows, where the
 * state lives) — that is the model's and the trainer's; learning-rate
 * schedules; Nesterov momentum, AMSGrad, centred RMSprop.
 */
#include "wordbench/optim.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static const char *const optim_names[] = {"adam", "sgd", "rmsprop", "adagrad", "adadelta"};
#define NKINDS (sizeof optim_names / sizeof optim_names[0])

void wb_optim_init(wb_optim *o, wb_opt_kind kind) {
    memset(o, 0, sizeof *o);
    o->kind = kind;
    o->beta1 = 0.9f;
    o->beta2 = 0.999f;
    o->eps = 1e-7f;
    o->scale = 1.0f;
    switch (kind) {
    case WB_OPT_ADAM: o->lr = 1e-3f; break;
    case WB_OPT_SGD: o->lr = 0.01f; break;
    case WB_OPT_RMSPROP: o->lr = 1e-3f; o->rho = 0.9f; break;
    case WB_OPT_ADAGRAD: o->lr = 1e-2f; break;
    case WB_OPT_ADADELTA: o->lr = 1.0f; o->rho = 0.95f; break;
    }
}

const char *wb_optim_name(wb_opt_kind kind) {
    return (unsigned)kind < NKINDS ? optim_names[kind] : "unknown";
}

int wb_optim_parse(const char *name) {
    if (!name) return -1;
    for (size_t i = 0; i < NKINDS; i++)
        if (strcmp(name, optim_names[i]) == 0) return (int)i;
    return -1;
}

static const char *const adam_names[] = {"catchup", "lazy", "dense"};

const char *wb_adam_mode_name(wb_adam_mode mode) { return (unsigned)mode < 3 ? adam_names[mode] : "unknown"; }

int wb_adam_mode_parse(const char *name) {
    for (int i = 0; name && i < 3; i++)
        if (strcmp(name, adam_names[i]) == 0) return i;
    return -1;
}

size_t wb_optim_nstate(wb_opt_kind kind) {
    switch (kind) {
    case WB_OPT_ADAM: return 2;
    case WB_OPT_SGD: return 1;
    case WB_OPT_RMSPROP: return 1;
    case WB_OPT_ADAGRAD: return 1;
    case WB_OPT_ADADELTA: return 2;
    }
    return 0;
}

void wb_optim_begin(wb_optim *o, double grad_sqnorm) {
    o->t += 1;
    o->scale = 1.0f;
    if (o->clipnorm > 0 && grad_sqnorm > 0) {
        double norm = sqrt(grad_sqnorm);
        if (norm > (double)o->clipnorm) o->scale = (float)((double)o->clipnorm / norm);
    }
}

double wb_sqnorm(const float *g, size_t n) {
    double s = 0;
    for (size_t i = 0; i < n; i++) s += (double)g[i] * (double)g[i];
    return s;
}

/* The gradient the rule sees: scaled by the step's clipnorm factor, clipped
 * to [-clipvalue, clipvalue], plus l2·w (optim.h's order). */
static inline float effective_grad(const wb_optim *o, float g, float w) {
    g *= o->scale;
    if (o->clipvalue > 0) {
        if (g > o->clipvalue) g = o->clipvalue;
        else if (g < -o->clipvalue) g = -o->clipvalue;
    }
    if (o->l2 != 0) g += o->l2 * w;
    return g;
}

/* Adam over n elements, written so that the compiler vectorizes it (no
 * branches, restrict pointers; sqrtf needs -fno-math-errno, set in
 * CMakeLists.txt): the same arithmetic as effective_grad + the rule, with
 * clipping as min/max against +-INFINITY when off and l2 = 0 adding 0;
 * an AVX2 clone is picked at load time where the CPU has it. */
__attribute__((target_clones("avx2", "default"))) static void adam_span(float *restrict w, const float *restrict g, float *restrict m, float *restrict v, size_t n,
                      float scale, float cv, float l2, float b1, float b2, float step, float bc2s, float eps) {
    float c1 = 1.0f - b1, c2 = 1.0f - b2;
    for (size_t i = 0; i < n; i++) {
        float gi = g[i] * scale;
        gi = gi > cv ? cv : gi;
        gi = gi < -cv ? -cv : gi;
        gi += l2 * w[i];
        m[i] = b1 * m[i] + c1 * gi;
        v[i] = b2 * v[i] + c2 * (gi * gi);
        float denom = sqrtf(v[i]) / bc2s + eps;
        w[i] -= step * (m[i] / denom);
    }
}

/* Adam's step size lr/bc1 and sqrt(bc2) of step u >= 1, in double from
 * the float betas and cast once (torch's Python floats); from c's tables
 * when they hold u (c NULL: computed). */
static void adam_consts(const wb_optim *o, const wb_catchup *c, uint64_t u, float *step, float *bc2s) {
    double bc1;
    if (c && c->K && c->beta1 == o->beta1 && c->beta2 == o->beta2 && (u <= c->len || u > c->flat)) {
        bc1 = u <= c->len ? c->bc1[u - 1] : 1.0; /* past flat both corrections are 1.0 in double */
        *bc2s = u <= c->len ? c->bc2s[u - 1] : 1.0f;
    } else {
        double t = (double)u, bc2 = 1.0 - pow((double)o->beta2, t);
        bc1 = 1.0 - pow((double)o->beta1, t);
        *bc2s = (float)sqrt(bc2);
    }
    *step = (float)((double)o->lr / bc1);
}

/* The rule over n elements whose state slots are s0 and s1 (the second
 * slot of the rules that have two). */
static void update(const wb_optim *o, float *w, const float *g, float *s0, float *s1, size_t n) {
    switch (o->kind) {
    case WB_OPT_ADAM: {
        /* torch: denom = sqrt(v)/sqrt(bc2) + eps;  w -= (lr/bc1)·m/denom */
        float *m = s0, *v = s1, step, bc2s;
        adam_consts(o, NULL, o->t ? o->t : 1, &step, &bc2s);
        adam_span(w, g, m, v, n, o->scale, o->clipvalue > 0 ? o->clipvalue : INFINITY, o->l2, o->beta1, o->beta2,
                  step, bc2s, o->eps);
        break;
    }
    case WB_OPT_SGD: {
        /* torch: buf = momentum·buf + g (buf starts at g = 0·0 + g);  w -= lr·buf */
        float *buf = s0;
        for (size_t i = 0; i < n; i++) {
            float gi = effective_grad(o, g[i], w[i]);
            if (o->momentum != 0) {
                buf[i] = o->momentum * buf[i] + gi;
                gi = buf[i];
            }
            w[i] -= o->lr * gi;
        }
        break;
    }
    case WB_OPT_RMSPROP: {
        /* torch (alpha = rho, centered=False, momentum=0) */
        float *v = s0, r = o->rho, c = 1.0f - r;
        for (size_t i = 0; i < n; i++) {
            float gi = effective_grad(o, g[i], w[i]);
            v[i] = r * v[i] + c * (gi * gi);
            w[i] -= o->lr * (gi / (sqrtf(v[i]) + o->eps));
        }
        break;
    }
    case WB_OPT_ADAGRAD: {
        /* torch (initial_accumulator_value = 0, lr_decay = 0) */
        float *acc = s0;
        for (size_t i = 0; i < n; i++) {
            float gi = effective_grad(o, g[i], w[i]);
            acc[i] += gi * gi;
            w[i] -= o->lr * (gi / (sqrtf(acc[i]) + o->eps));
        }
        break;
    }
    case WB_OPT_ADADELTA: {
        /* torch: std = sqrt(v+eps); d = sqrt(u+eps)/std·g; u = rho·u + (1-rho)·d² */
        float *v = s0, *u = s1, r = o->rho, c = 1.0f - r;
        for (size_t i = 0; i < n; i++) {
            float gi = effective_grad(o, g[i], w[i]);
            v[i] = r * v[i] + c * (gi * gi);
            float d = sqrtf(u[i] + o->eps) / sqrtf(v[i] + o->eps) * gi;
            u[i] = r * u[i] + c * (d * d);
            w[i] -= o->lr * d;
        }
        break;
    }
    }
}

void wb_optim_update(const wb_optim *o, float *w, const float *g, float *state, size_t n) {
    update(o, w, g, state, state + n, n);
}

void wb_optim_update_slice(const wb_optim *o, float *w, const float *g, float *state, size_t n, size_t lo, size_t hi) {
    if (hi > n) hi = n;
    if (lo >= hi) return;
    update(o, w + lo, g + lo, state + lo, state + n + lo, hi - lo);
}

/* ---- Adam's catch-up of idle rows ------------------------------------------ */

#define CU_CHUNK 4096u

void wb_catchup_init(wb_catchup *c) { memset(c, 0, sizeof *c); }

void wb_catchup_free(wb_catchup *c) {
    free(c->qa);
    free(c->qd);
    free(c->bc1);
    free(c->bc2s);
    wb_catchup_init(c);
}

int wb_catchup_valid(const wb_optim *o) {
    double b1 = o->beta1, b2 = o->beta2;
    return o->kind == WB_OPT_ADAM && b1 > 0 && b1 < 1 && b2 > 0 && b2 < 1 && b1 / sqrt(b2) <= 1 - 1e-5;
}

/* The summands at step u: 1/bc1(u) and sqrt(bc2(u))/bc1(u), in double from
 * the float betas (as update() forms its bias corrections). */
static void cu_terms(const wb_catchup *c, uint64_t u, double *fa, double *fd) {
    double bc1 = 1.0 - pow((double)c->beta1, (double)u), bc2 = 1.0 - pow((double)c->beta2, (double)u);
    *fa = 1.0 / bc1;
    *fd = sqrt(bc2) / bc1;
}

/* Q̃a(u), Q̃d(u) by a direct sum of K terms. */
static void cu_direct(const wb_catchup *c, uint64_t u, double *qa, double *qd) {
    double sa = 0, sd = 0, pa = 1, pd = 1, b1 = c->beta1;
    for (size_t i = 0; i < c->K; i++) {
        double fa, fd;
        cu_terms(c, u + i, &fa, &fd);
        sa += pa * fa, sd += pd * fd;
        pa *= b1, pd *= c->rho;
    }
    *qa = sa, *qd = sd;
}

/* Set up c for o's betas (no table yet). */
static void cu_setup(wb_catchup *c, const wb_optim *o) {
    wb_catchup_free(c);
    c->beta1 = o->beta1, c->beta2 = o->beta2;
    double b1 = o->beta1, b2 = o->beta2;
    c->rho = b1 / sqrt(b2);
    double r = c->rho > b1 ? c->rho : b1;
    c->K = (size_t)ceil(-60.0 * log(2.0) / log(r)) + 1;
    /* the first u with β^u < 2^-54 for both betas: 1 - β^u is 1.0 from there */
    double lim = -54.0 * log(2.0);
    double u1 = ceil(lim / log(b1)), u2 = ceil(lim / log(b2)), u = u1 > u2 ? u1 : u2;
    uint64_t chunks = (uint64_t)(u / CU_CHUNK) + 1;
    c->flat = chunks * CU_CHUNK;
    cu_direct(c, c->flat + 1, &c->qa_flat, &c->qd_flat);
}

/* The values of chunk `ch` (steps ch·CHUNK+1 .. (ch+1)·CHUNK) down to step
 * `lo` of it: qa[u - lo], qd[u - lo] for u in [lo, end] (qa, qd may be NULL
 * to keep only Q(lo) in *la, *ld). */
static void cu_chunk(const wb_catchup *c, uint64_t ch, uint64_t lo, double *qa, double *qd, double *la, double *ld) {
    uint64_t end = (ch + 1) * CU_CHUNK;
    double a, d;
    if (end >= c->flat) a = c->qa_flat, d = c->qd_flat;
    else cu_direct(c, end + 1, &a, &d);
    double b1 = c->beta1;
    for (uint64_t u = end; u >= lo; u--) {
        double fa, fd;
        cu_terms(c, u, &fa, &fd);
        a = fa + b1 * a, d = fd + c->rho * d;
        if (qa) qa[u - lo] = a, qd[u - lo] = d;
    }
    *la = a, *ld = d;
}

/* *p reallocated to `bytes`; 0, or -1 (left as it was). */
static int resize(void **p, size_t bytes) {
    void *q = realloc(*p, bytes);
    if (!q) return -1;
    *p = q;
    return 0;
}

int wb_catchup_reserve(wb_catchup *c, const wb_optim *o, uint64_t upto) {
    if (!wb_catchup_valid(o)) return 0;
    if (c->beta1 != o->beta1 || c->beta2 != o->beta2 || !c->K) cu_setup(c, o);
    if (upto > c->flat) upto = c->flat;
    if (upto <= c->len) return 0;
    uint64_t need = (upto + CU_CHUNK - 1) / CU_CHUNK * CU_CHUNK;
    if (need > c->cap) { /* a table that grew before a failure stays valid (larger) */
        if (resize((void **)&c->qa, need * sizeof *c->qa) || resize((void **)&c->qd, need * sizeof *c->qd) ||
            resize((void **)&c->bc1, need * sizeof *c->bc1) || resize((void **)&c->bc2s, need * sizeof *c->bc2s))
            return -1;
        c->cap = need;
    }
    for (; c->len < need; c->len += CU_CHUNK) {
        double la, ld;
        cu_chunk(c, c->len / CU_CHUNK, c->len + 1, c->qa + c->len, c->qd + c->len, &la, &ld);
        for (uint64_t u = c->len + 1; u <= c->len + CU_CHUNK; u++) { /* as adam_consts computes them */
            double t = (double)u;
            c->bc1[u - 1] = 1.0 - pow((double)o->beta1, t);
            c->bc2s[u - 1] = (float)sqrt(1.0 - pow((double)o->beta2, t));
        }
    }
    return 0;
}

/* Q̃a(u), Q̃d(u), u >= 1. */
static void cu_q(const wb_catchup *c, uint64_t u, double *qa, double *qd) {
    if (u > c->flat) {
        *qa = c->qa_flat, *qd = c->qd_flat;
    } else if (u <= c->len) {
        *qa = c->qa[u - 1], *qd = c->qd[u - 1];
    } else {
        cu_chunk(c, (u - 1) / CU_CHUNK, u, NULL, NULL, qa, qd);
    }
}

int wb_catchup_coef_get(const wb_catchup *c, const wb_optim *o, uint64_t t0, uint64_t t, wb_catchup_coef *k) {
    if (t <= t0 || !wb_catchup_valid(o)) return 0;
    wb_catchup own;
    if (!c || c->beta1 != o->beta1 || c->beta2 != o->beta2 || !c->K) { /* no table (or a stale one) */
        wb_catchup_init(&own);
        cu_setup(&own, o);
        c = &own;
    }
    double n = (double)(t - t0), b1 = c->beta1, b2 = c->beta2, qa0, qd0, qa1, qd1;
    cu_q(c, t0 + 1, &qa0, &qd0);
    cu_q(c, t + 1, &qa1, &qd1);
    double A = b1 * qa0 - pow(b1, n + 1) * qa1, P = c->rho * qd0 - pow(c->rho, n + 1) * qd1;
    k->step = (float)((double)o->lr * P);
    k->eps = (float)((double)o->eps * P / A);
    k->fm = (float)pow(b1, n);
    k->fv = (float)pow(b2, n);
    return 1;
}

void wb_catchup_weights(const wb_catchup_coef *k, float *out, const float *w, const float *m, const float *v, size_t n) {
    float step = k->step, eps = k->eps;
    for (size_t i = 0; i < n; i++) out[i] = w[i] - step * (m[i] / (sqrtf(v[i]) + eps));
}

void wb_catchup_moments(const wb_catchup_coef *k, float *m, float *v, size_t n) {
    float fm = k->fm, fv = k->fv;
    for (size_t i = 0; i < n; i++) m[i] *= fm, v[i] *= fv;
}

/* ---- idle steps with weight decay ------------------------------------------- */

#define IDLE_CHUNK 1024 /* elements stepped side by side */

/* Idle step u over len elements (state slots s0, s1): the rule with a zero
 * gradient; Adam's constants from c's tables (no pow per call). */
static void idle_step(const wb_optim *o, const wb_catchup *c, uint64_t u, float *w, float *s0, float *s1, size_t len) {
    static const float zero[IDLE_CHUNK];
    if (o->kind == WB_OPT_ADAM) {
        float step, bc2s;
        adam_consts(o, c, u, &step, &bc2s);
        /* scale 1: it scales the zero gradient, any value gives the same bits */
        adam_span(w, zero, s0, s1, len, 1.0f, o->clipvalue > 0 ? o->clipvalue : INFINITY, o->l2, o->beta1, o->beta2,
                  step, bc2s, o->eps);
    } else {
        wb_optim at = *o;
        at.t = u, at.scale = 1.0f;
        update(&at, w, zero, s0, s1, len);
    }
}

void wb_optim_idle(const wb_optim *o, const wb_catchup *c, uint64_t t0, uint64_t t, float *w, float *state, size_t n) {
    size_t ns = wb_optim_nstate(o->kind);
    /* element by element the rule is independent: chunks of elements, each
     * through every step while it is in the cache */
    for (size_t lo = 0; lo < n; lo += IDLE_CHUNK) {
        size_t len = n - lo < IDLE_CHUNK ? n - lo : IDLE_CHUNK;
        for (uint64_t u = t0 + 1; u <= t; u++) idle_step(o, c, u, w + lo, state + lo, ns > 1 ? state + n + lo : NULL, len);
    }
}

void wb_optim_idle_rows(const wb_optim *o, const wb_catchup *c, float *const *rows, const uint64_t *t0, size_t nrows,
                        uint64_t t, size_t n) {
    size_t ns = wb_optim_nstate(o->kind);
    if (n > IDLE_CHUNK / 2) { /* wide rows fill the vector units alone */
        for (size_t r = 0; r < nrows; r++) wb_optim_idle(o, c, t0[r], t, rows[r], rows[r] + n, n);
        return;
    }
    /* up to IDLE_CHUNK elements of consecutive rows side by side (structure
     * of arrays): one call a step for all of them, and a narrow row's chain
     * of dependent divisions and square roots interleaves with the others';
     * rows sorted by t0, so the elements a step applies to are a prefix that
     * grows */
    float w[IDLE_CHUNK], s[2][IDLE_CHUNK];
    uint64_t from[IDLE_CHUNK];
    for (size_t r = 0; r < nrows;) {
        size_t nl = 0, r2 = r;
        for (; r2 < nrows && nl + n <= IDLE_CHUNK; r2++)
            for (size_t e = 0; e < n; e++, nl++) {
                w[nl] = rows[r2][e], from[nl] = t0[r2];
                for (size_t j = 0; j < ns; j++) s[j][nl] = rows[r2][(1 + j) * n + e];
            }
        size_t act = 0;
        for (uint64_t u = from[0] + 1; u <= t; u++) {
            while (act < nl && from[act] < u) act++;
            idle_step(o, c, u, w, s[0], ns > 1 ? s[1] : NULL, act);
        }
        for (size_t q = r, l = 0; q < r2; q++)
            for (size_t e = 0; e < n; e++, l++) {
                rows[q][e] = w[l];
                for (size_t j = 0; j < ns; j++) rows[q][(1 + j) * n + e] = s[j][l];
            }
        r = r2;
    }
}

void wb_maxnorm_rows(float *W, size_t rows, size_t cols, float c) {
    for (size_t r = 0; r < rows; r++) {
        float *row = W + r * cols;
        double norm = sqrt(wb_sqnorm(row, cols));
        if (norm > (double)c) {
            float s = (float)((double)c / norm);
            for (size_t j = 0; j < cols; j++) row[j] *= s;
        }
    }
}
