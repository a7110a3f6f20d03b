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

/* The rule over n elements whose state slots are s0 and s1 (the second
 * slot of the rules that have two). */
static void update(const wb_optim *o, float *w, const float *g, float *s0, float *s1, size_t n) {
    switch (o->kind) {
    case WB_OPT_ADAM: {
        /* torch: denom = sqrt(v)/sqrt(bc2) + eps;  w -= (lr/bc1)·m/denom */
        float *m = s0, *v = s1;
        double t = (double)(o->t ? o->t : 1);
        double bc1 = 1.0 - pow((double)o->beta1, t), bc2 = 1.0 - pow((double)o->beta2, t);
        float step = (float)((double)o->lr / bc1), bc2s = (float)sqrt(bc2);
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
