/*
 * test_explain.c — specification of explanations: wb_model_explain (model.h:
 * the parts' explain operation) and the explain module
 * (src/experiment/explain.c: texts, tokens, sentences).
 *
 * Contains:
 *   - exactness for heads without hidden layers: for kim, pool, dense and
 *     bag of words (counts and tf-idf, n-grams), every task and every class,
 *     the spans' scores plus the output bias add up to the logit the model
 *     computes (binary class 0: minus the logit; multiclass: differences of
 *     log-probabilities, which equal differences of logits);
 *   - gradient × input of recurrent parts (lstm, gru, both directions, last
 *     state and max pooling, with a hidden layer) against finite
 *     differences: scaling a word's row by 1 ± h changes the score by the
 *     sum of that word's token contributions; padding gets nothing;
 *   - several text inputs and numeric features (wb_model_explain_batch):
 *     kim without hidden layers, every input's spans plus the features
 *     plus the bias are the logit, and each input's sum is its own
 *     columns' (spans land in their input); lstm and gru with a hidden
 *     layer and squashed features, a word of the second input and every
 *     feature against finite differences;
 *   - spans inside the sequence, for every kind (charcnn, tutorial with a
 *     hidden layer too); class ids out of range refused;
 *   - wb_explain_text on a model trained by the CLI: tokens as the model
 *     saw them (post and pre truncation), spans ranked and merged, token
 *     shares adding up to the sum, binary label 0 = label 1 negated;
 *   - wb_explain_record on a model of two text columns and a feature
 *     trained by the CLI: each input named by its column, token shares and
 *     the inputs' and feature's sums adding up, with the bias, to the logit;
 *     label 0 negated; a text alone refused, a record without a field
 *     named by its line;
 *   - wb_sentences: terminal punctuation with closing quotes, blank lines,
 *     abbreviations-like dots inside words, white space trimmed.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "testutil.h"
#include "wordbench/explain.h"
#include "wordbench/model.h"

#define NV 12
#define NB 5
#define TT 40

/* NB examples of TT ids: varied lengths (post-padding), one pre-padded,
 * an OOV id. */
static void batch(int32_t *X, unsigned seed) {
    uint64_t r = seed * 2654435761u + 1;
    for (size_t i = 0; i < NB * TT; i++) {
        r = r * 6364136223846793005ull + 1442695040888963407ull;
        X[i] = (int32_t)(2 + (r >> 33) % (NV - 2));
    }
    for (size_t b = 0; b < NB; b++)
        for (size_t i = TT - b; i < TT; i++) X[b * TT + i] = 0;
    X[1] = 1;
    for (size_t i = 0; i < 3; i++) X[3 * TT + i] = 0;
}

/* A model of configuration c for NB examples, plain SGD. */
static wb_model *create(const wb_model_cfg *c) {
    wb_optim o;
    wb_optim_init(&o, WB_OPT_SGD);
    wb_model *m = NULL;
    wb_err e;
    if (wb_model_create(&m, c, &o, NB, &e)) fail_msg("create: %s", e.msg);
    return m;
}

static wb_model *make(wb_model_kind kind, wb_task task, size_t H) {
    wb_model_cfg c;
    wb_model_cfg_init(&c, kind);
    c.task = task, c.C = task == WB_TASK_BINARY ? 1 : 3;
    c.V = NV, c.E = 4, c.T = TT, c.seed = 5, c.H = H, c.dropout = 0, c.maxnorm = 0;
    if (kind == WB_MODEL_KIM || kind == WB_MODEL_TUTORIAL) c.F = 3, c.nwidths = 2, c.widths[0] = 2, c.widths[1] = 3;
    if (kind == WB_MODEL_TUTORIAL) c.nwidths = 1;
    if (kind == WB_MODEL_LSTM || kind == WB_MODEL_GRU) c.units = 3;
    if (kind == WB_MODEL_BOW) c.ngrams = 2;
    if (kind == WB_MODEL_CHARCNN) {
        static const size_t w[2] = {2, 2};
        c.F = 3, c.nwidths = 2, c.H = 4, c.T = TT;
        memcpy(c.widths, w, sizeof w);
    }
    return create(&c);
}

/* Fit (bow), then weights and rows away from zero (bow's start at 0). */
static void shake(wb_model *m, const int32_t *X) {
    uint32_t idx[NB] = {0, 1, 2, 3, 4};
    wb_err e;
    wb_ids xv = {.data = X, .n = NB, .T = wb_model_cfg_get(m)->T, .width = 4};
    if (wb_model_fit(m, &xv, idx, NB, &e)) fail_msg("fit: %s", e.msg);
    for (size_t i = 0; i < wb_model_ntensors(m); i++) {
        float *w;
        size_t n;
        wb_model_tensor(m, i, &w, NULL, &n, NULL, NULL);
        for (size_t k = 0; k < n; k++) w[k] += 0.3f * sinf((float)(i * 131 + k * 17 + 1));
    }
    const wb_model_cfg *mc = wb_model_cfg_get(m);
    if (mc->kind == WB_MODEL_CHARCNN) return;
    size_t nid = mc->kind == WB_MODEL_BOW ? mc->D : mc->V, E = mc->kind == WB_MODEL_BOW ? mc->C : mc->E;
    float r[16];
    for (size_t id = 1; id < nid; id++) {
        for (size_t k = 0; k < E; k++) r[k] = 0.5f * sinf((float)(id * 7 + k * 3 + 1));
        assert_int_equal(wb_model_set_row(m, (int32_t)id, r, &e), 0);
    }
}

/* Per example: the sum of the scores, per position: the scores of spans of
 * one token, and every span checked inside the sequence. */
typedef struct sums {
    double sum[NB];
    double pos[NB * TT];
    size_t n;
} sums;

static void add(void *ctx, size_t b, int32_t start, int32_t len, float score) {
    sums *s = ctx;
    assert_true(b < NB);
    assert_true(start >= 0 && len >= 1 && start + len <= TT);
    s->sum[b] += score;
    for (int32_t t = start; t < start + len; t++) s->pos[b * TT + (size_t)t] += score / len;
    s->n++;
}

/* The weights of the tensor called `name` (NULL when none). */
static float *tensor_named(wb_model *m, const char *name) {
    for (size_t i = 0; i < wb_model_ntensors(m); i++) {
        float *w;
        if (!strcmp(wb_model_tensor(m, i, &w, NULL, NULL, NULL, NULL), name)) return w;
    }
    return NULL;
}

static float output_bias(wb_model *m, size_t c) {
    float *w = NULL;
    for (size_t i = 0; i < wb_model_ntensors(m); i++) {
        float *x;
        const char *nm = wb_model_tensor(m, i, &x, NULL, NULL, NULL, NULL);
        if (strstr(nm, "bias")) w = x; /* the last bias: the output layer's */
    }
    return w[c];
}

static void explain(wb_model *m, const int32_t *X, const int32_t *cls, float *p, sums *s) {
    memset(s, 0, sizeof *s);
    wb_err e;
    if (wb_model_explain(m, X, NB, cls, p, add, s, &e)) fail_msg("explain: %s", e.msg);
}

static void check_linear(wb_model_kind kind, wb_task task) {
    int32_t X[NB * TT];
    batch(X, (unsigned)kind * 3 + (unsigned)task);
    wb_model *m = make(kind, task, 0);
    shake(m, X);
    size_t C = task == WB_TASK_BINARY ? 1 : 3, L = task == WB_TASK_BINARY ? 2 : 3;
    float p[NB * 3];
    sums s[3];
    for (size_t c = 0; c < L; c++) {
        int32_t cls[NB];
        for (size_t b = 0; b < NB; b++) cls[b] = (int32_t)c;
        explain(m, X, cls, p, &s[c]);
        assert_true(s[c].n > 0);
    }
    for (size_t b = 0; b < NB; b++) {
        if (task == WB_TASK_MULTICLASS) {
            for (size_t c = 1; c < C; c++) {
                double want = log(p[b * C + c]) - log(p[b * C]);
                double got = (s[c].sum[b] + output_bias(m, c)) - (s[0].sum[b] + output_bias(m, 0));
                if (fabs(got - want) > 1e-3 * (1 + fabs(want)))
                    fail_msg("%s multiclass example %zu class %zu: spans %.6g, log-probabilities %.6g",
                             wb_model_kind_name(kind), b, c, got, want);
            }
            continue;
        }
        for (size_t c = 0; c < L; c++) {
            double q = p[b * C + (task == WB_TASK_BINARY ? 0 : c)], z = log(q) - log1p(-q);
            double bias = output_bias(m, task == WB_TASK_BINARY ? 0 : c);
            double want = task == WB_TASK_BINARY && c == 0 ? -z : z;
            double got = s[c].sum[b] + (task == WB_TASK_BINARY && c == 0 ? -bias : bias);
            if (fabs(got - want) > 1e-3 * (1 + fabs(want)))
                fail_msg("%s %s example %zu class %zu: spans + bias %.6g, logit %.6g", wb_model_kind_name(kind),
                         wb_task_name(task), b, c, got, want);
        }
    }
    wb_model_destroy(m);
}

static void test_linear_heads(void **state) {
    (void)state;
    const wb_model_kind kinds[] = {WB_MODEL_KIM, WB_MODEL_POOL, WB_MODEL_DENSE, WB_MODEL_BOW};
    const wb_task tasks[] = {WB_TASK_BINARY, WB_TASK_MULTICLASS, WB_TASK_MULTILABEL};
    for (size_t i = 0; i < 4; i++)
        for (size_t j = 0; j < 3; j++) check_linear(kinds[i], tasks[j]);
}

/* The score of class 1 (multilabel) of example b: the logit. */
static double score_of(wb_model *m, const int32_t *X, size_t b) {
    float p[NB * 3];
    wb_err e;
    if (wb_model_predict(m, X, NB, NULL, NULL, NULL, p, NULL, &e)) fail_msg("predict: %s", e.msg);
    double q = p[b * 3 + 1];
    return log(q) - log1p(-q);
}

static wb_model *make_rnn(wb_model_kind kind, int bi, wb_rnn_pool pool, size_t H) {
    wb_model_cfg c;
    wb_model_cfg_init(&c, kind);
    c.task = WB_TASK_MULTILABEL, c.C = 3, c.V = NV, c.E = 4, c.T = TT, c.seed = 5, c.H = H, c.dropout = 0;
    c.units = 3, c.bidirectional = bi, c.rnn_pool = pool;
    return create(&c);
}

/* Scaling word id's row (learned) by 1 ± h moves example b's score by
 * the sum of that word's token contributions (gradient × input). */
static void check_fd(wb_model *m, const int32_t *X, const char *name) {
    int32_t cls[NB] = {1, 1, 1, 1, 1};
    float p[NB * 3];
    sums s;
    explain(m, X, cls, p, &s);
    wb_err e;
    size_t checked = 0;
    for (size_t b = 0; b < NB; b += 2) {
        for (size_t t = 0; t < TT; t++)
            if (!X[b * TT + t]) assert_true(s.pos[b * TT + t] == 0); /* padding explains nothing */
        int32_t id = X[b * TT + 2];
        if (id < 2) continue;
        double g = 0;
        for (size_t t = 0; t < TT; t++)
            if (X[b * TT + t] == id) g += s.pos[b * TT + t];
        float r0[4], r[4];
        assert_int_equal(wb_model_get_row(m, id, r0, &e), 0);
        const float h = 1e-2f;
        for (size_t k = 0; k < 4; k++) r[k] = r0[k] * (1 + h);
        assert_int_equal(wb_model_set_row(m, id, r, &e), 0);
        double up = score_of(m, X, b);
        for (size_t k = 0; k < 4; k++) r[k] = r0[k] * (1 - h);
        assert_int_equal(wb_model_set_row(m, id, r, &e), 0);
        double down = score_of(m, X, b);
        assert_int_equal(wb_model_set_row(m, id, r0, &e), 0);
        double fd = (up - down) / (2 * h);
        if (fabs(fd - g) > 2e-2 * fmax(fabs(fd), fabs(g)) + 1e-3)
            fail_msg("%s example %zu word %d: gradient x input %.6g, finite difference %.6g", name, b, id, g, fd);
        checked++;
    }
    assert_true(checked > 0);
}

static void test_rnn_gradient_times_input(void **state) {
    (void)state;
    for (int gru = 0; gru < 2; gru++)
        for (int bi = 0; bi < 2; bi++)
            for (int pool = 0; pool < 2; pool++) {
                wb_model_kind kind = gru ? WB_MODEL_GRU : WB_MODEL_LSTM;
                size_t H = (size_t)(bi && pool) * 4;
                wb_model *m = make_rnn(kind, bi, pool ? WB_RNN_MAX : WB_RNN_LAST, H);
                int32_t X[NB * TT];
                batch(X, 11 + (unsigned)kind + (unsigned)bi * 2 + (unsigned)pool);
                shake(m, X);
                char name[64];
                snprintf(name, sizeof name, "%s bi %d %s H %zu", wb_model_kind_name(kind), bi, pool ? "max" : "last", H);
                check_fd(m, X, name);
                wb_model_destroy(m);
            }
}

static void test_every_kind_in_range(void **state) {
    (void)state;
    const wb_model_kind kinds[] = {WB_MODEL_TUTORIAL, WB_MODEL_CHARCNN, WB_MODEL_DENSE, WB_MODEL_LSTM};
    for (size_t i = 0; i < 4; i++) {
        int32_t X[NB * TT];
        batch(X, 21 + (unsigned)i);
        wb_model *m = make(kinds[i], WB_TASK_MULTICLASS, 4);
        shake(m, X);
        sums s;
        explain(m, X, NULL, NULL, &s); /* add() checks every span */
        assert_true(s.n > 0);
        int32_t bad[NB] = {0, 0, 3, 0, 0};
        wb_err e;
        assert_int_equal(wb_model_explain(m, X, NB, bad, NULL, add, &s, &e), WB_EUSAGE);
        wb_model_destroy(m);
    }
}

/* ---- several text inputs and numeric features (wb_model_explain_batch) ------- */

#define NV2 9  /* vocabulary of text input 1 */
#define T2 15  /* its maxlen */
#define NF 3   /* numeric features */

/* Per example and input (0, 1; the features at 2): the sum of the scores;
 * the token shares of input 1 and the features' scores. */
typedef struct msums {
    double sum[NB][3];
    double pos1[NB * T2];
    double feat[NB * NF];
    unsigned fseen[NB * NF];
    size_t n;
} msums;

static void madd(void *ctx, size_t b, int input, int32_t start, int32_t len, float score) {
    msums *s = ctx;
    assert_true(b < NB);
    if (input < 0) { /* feature `start`, once per example */
        assert_true(start >= 0 && start < NF && len == 1);
        s->feat[b * NF + (size_t)start] += score;
        s->fseen[b * NF + (size_t)start]++;
        s->sum[b][2] += score;
        return;
    }
    assert_true(input <= 1);
    int32_t T = input ? T2 : TT;
    assert_true(start >= 0 && len >= 1 && start + len <= T);
    s->sum[b][input] += score;
    if (input == 1)
        for (int32_t t = start; t < start + len; t++) s->pos1[b * T2 + (size_t)t] += score / len;
    s->n++;
}

static wb_model *make_multi(wb_model_kind kind, wb_task task, size_t H, size_t fdense) {
    wb_model_cfg c;
    wb_model_cfg_init(&c, kind);
    c.task = task, c.C = task == WB_TASK_BINARY ? 1 : 3;
    c.V = NV, c.E = 4, c.T = TT, c.seed = 7, c.H = H, c.dropout = 0, c.maxnorm = 0;
    c.ntext = 2, c.text_V[1] = NV2, c.text_T[1] = T2, c.nfeat = NF, c.feat_dense = fdense;
    snprintf(c.text_name[0], sizeof c.text_name[0], "subject");
    snprintf(c.text_name[1], sizeof c.text_name[1], "body");
    if (kind == WB_MODEL_KIM) c.F = 3, c.nwidths = 2, c.widths[0] = 2, c.widths[1] = 3;
    if (kind == WB_MODEL_LSTM || kind == WB_MODEL_GRU) c.units = 3;
    return create(&c);
}

/* Inputs of a multi batch: X0 (NB, TT), X1 (NB, T2) with post-padding,
 * the features F (NB, NF) standardised by their own mean and deviation;
 * weights and the rows of both inputs shaken away from their start. */
static void multi_batch(wb_model *m, int32_t *X0, int32_t *X1, double *F, unsigned seed, wb_batch *bt) {
    batch(X0, seed);
    uint64_t r = seed * 40503u + 3;
    for (size_t b = 0; b < NB; b++)
        for (size_t t = 0; t < T2; t++) {
            r = r * 6364136223846793005ull + 1442695040888963407ull;
            X1[b * T2 + t] = t < T2 - 2 * b ? (int32_t)(2 + (r >> 33) % (NV2 - 2)) : 0;
        }
    for (size_t i = 0; i < NB * NF; i++) F[i] = 10.0 * sin((double)(i * 3 + seed)) + (double)(i % NF) * 5;
    uint32_t idx[NB] = {0, 1, 2, 3, 4};
    wb_err e;
    if (wb_model_fit_features(m, F, NF, idx, NB, &e)) fail_msg("fit features: %s", e.msg);
    for (size_t i = 0; i < wb_model_ntensors(m); i++) {
        float *w;
        size_t n;
        wb_model_tensor(m, i, &w, NULL, &n, NULL, NULL);
        for (size_t k = 0; k < n; k++) w[k] += 0.3f * sinf((float)(i * 131 + k * 17 + 1));
    }
    float row[4];
    for (size_t in = 0; in < 2; in++)
        for (size_t id = 1; id < (in ? NV2 : NV); id++) {
            for (size_t k = 0; k < 4; k++) row[k] = 0.5f * sinf((float)(id * 7 + k * 3 + 1 + in * 5));
            assert_int_equal(wb_model_set_input_row(m, in, (int32_t)id, row, &e), 0);
        }
    *bt = (wb_batch){.B = NB, .X = {X0, X1}, .feat = F};
}

static void mexplain(wb_model *m, const wb_batch *bt, const int32_t *cls, float *p, msums *s) {
    memset(s, 0, sizeof *s);
    wb_err e;
    if (wb_model_explain_batch(m, bt, cls, p, madd, s, &e)) fail_msg("explain: %s", e.msg);
    for (size_t i = 0; i < NB * NF; i++) assert_int_equal(s->fseen[i], 1);
}

/* Kim over two inputs + features without hidden layers: every input's
 * spans and the features add up, with the output bias, to the logit (as
 * the single-input kinds do); and each input's sum is the sum of its own
 * columns' feature × weight: spans land in the input they come from. */
static void test_multi_linear(void **state) {
    (void)state;
    const wb_task tasks[] = {WB_TASK_BINARY, WB_TASK_MULTILABEL};
    for (size_t ti = 0; ti < 2; ti++) {
        wb_task task = tasks[ti];
        wb_model *m = make_multi(WB_MODEL_KIM, task, 0, 0);
        int32_t X0[NB * TT], X1[NB * T2];
        double F[NB * NF];
        wb_batch bt;
        multi_batch(m, X0, X1, F, 31 + (unsigned)ti, &bt);
        size_t C = task == WB_TASK_BINARY ? 1 : 3, L = task == WB_TASK_BINARY ? 2 : 3, Ff = wb_model_features(m);
        float *feat = malloc(NB * Ff * sizeof *feat), *W = NULL;
        int32_t *st = malloc(NB * Ff * sizeof *st), *ln = malloc(NB * Ff * sizeof *ln);
        wb_err e;
        assert_int_equal(wb_model_windows_batch(m, &bt, feat, st, ln, &e), 0);
        W = tensor_named(m, "output/kernel"); /* (C, Ff) */
        assert_non_null(W);
        for (size_t c = 0; c < L; c++) {
            int32_t cls[NB];
            for (size_t b = 0; b < NB; b++) cls[b] = (int32_t)c;
            float p[NB * 3];
            msums s;
            mexplain(m, &bt, cls, p, &s);
            double sg = task == WB_TASK_BINARY && c == 0 ? -1 : 1;
            size_t oc = task == WB_TASK_BINARY ? 0 : c;
            for (size_t b = 0; b < NB; b++) {
                double q = p[b * C + oc], z = log(q) - log1p(-q);
                double got = s.sum[b][0] + s.sum[b][1] + s.sum[b][2] + sg * output_bias(m, oc);
                if (fabs(got - sg * z) > 1e-3 * (1 + fabs(z)))
                    fail_msg("multi %s example %zu class %zu: spans + features + bias %.6g, logit %.6g", wb_task_name(task),
                             b, c, got, sg * z);
                double col[3] = {0, 0, 0};
                for (size_t j = 0; j < Ff; j++) {
                    int in = wb_model_feature_input(m, j);
                    col[in < 0 ? 2 : in] += sg * feat[b * Ff + j] * W[oc * Ff + j];
                }
                for (size_t k = 0; k < 3; k++)
                    if (fabs(col[k] - s.sum[b][k]) > 1e-4 * (1 + fabs(col[k])))
                        fail_msg("multi %s example %zu class %zu input %zu: spans %.6g, its columns %.6g",
                                 wb_task_name(task), b, c, k, s.sum[b][k], col[k]);
                assert_true(s.sum[b][1] != 0 && s.sum[b][2] != 0);
            }
        }
        /* the single-input call refuses a model of several inputs */
        sums one;
        assert_int_equal(wb_model_explain(m, X0, NB, NULL, NULL, add, &one, &e), WB_EUSAGE);
        free(feat), free(st), free(ln);
        wb_model_destroy(m);
    }
}

/* The logit of class 1 of example b (multilabel). */
static double mscore(wb_model *m, const wb_batch *bt, size_t b) {
    float p[NB * 3];
    wb_err e;
    if (wb_model_predict_batch(m, bt, NULL, NULL, NULL, p, NULL, &e)) fail_msg("predict: %s", e.msg);
    double q = p[b * 3 + 1];
    return log(q) - log1p(-q);
}

static void near_fd(const char *what, size_t b, double g, double fd) {
    if (fabs(fd - g) > 2e-2 * fmax(fabs(fd), fabs(g)) + 1e-3)
        fail_msg("%s example %zu: gradient x input %.6g, finite difference %.6g", what, b, g, fd);
}

/* A recurrent model of two inputs with a hidden layer and squashed
 * features: a word of input 1 (its row scaled by 1 ± h) and a feature
 * (its standardised value scaled by 1 ± h) move the score by their
 * contributions, gradient × input, as single-input recurrent models do. */
static void test_multi_gradient_times_input(void **state) {
    (void)state;
    for (int gru = 0; gru < 2; gru++) {
        wb_model *m = make_multi(gru ? WB_MODEL_GRU : WB_MODEL_LSTM, WB_TASK_MULTILABEL, 4, 3);
        int32_t X0[NB * TT], X1[NB * T2];
        double F[NB * NF];
        wb_batch bt;
        multi_batch(m, X0, X1, F, 41 + (unsigned)gru, &bt);
        int32_t cls[NB] = {1, 1, 1, 1, 1};
        msums s;
        mexplain(m, &bt, cls, NULL, &s);
        const double *mean, *sd;
        mean = wb_model_feature_stats(m, &sd);
        wb_err e;
        const double h = 1e-2;
        size_t checked = 0;
        for (size_t b = 0; b < NB; b += 2) {
            for (size_t t = 0; t < T2; t++)
                if (!X1[b * T2 + t]) assert_true(s.pos1[b * T2 + t] == 0); /* padding explains nothing */
            int32_t id = X1[b * T2 + 1];
            double g = 0;
            for (size_t t = 0; t < T2; t++)
                if (X1[b * T2 + t] == id) g += s.pos1[b * T2 + t];
            float r0[4], r[4];
            assert_int_equal(wb_model_get_input_row(m, 1, id, r0, &e), 0);
            for (size_t k = 0; k < 4; k++) r[k] = r0[k] * (float)(1 + h);
            assert_int_equal(wb_model_set_input_row(m, 1, id, r, &e), 0);
            double up = mscore(m, &bt, b);
            for (size_t k = 0; k < 4; k++) r[k] = r0[k] * (float)(1 - h);
            assert_int_equal(wb_model_set_input_row(m, 1, id, r, &e), 0);
            double down = mscore(m, &bt, b);
            assert_int_equal(wb_model_set_input_row(m, 1, id, r0, &e), 0);
            near_fd(gru ? "gru body word" : "lstm body word", b, g, (up - down) / (2 * h));
            for (size_t j = 0; j < NF; j++) {
                double v0 = F[b * NF + j], x = (v0 - mean[j]) / sd[j];
                F[b * NF + j] = mean[j] + sd[j] * x * (1 + h);
                up = mscore(m, &bt, b);
                F[b * NF + j] = mean[j] + sd[j] * x * (1 - h);
                down = mscore(m, &bt, b);
                F[b * NF + j] = v0;
                near_fd(gru ? "gru feature" : "lstm feature", b, s.feat[b * NF + j], (up - down) / (2 * h));
                checked += s.feat[b * NF + j] != 0;
            }
        }
        assert_true(checked > 0);
        wb_model_destroy(m);
    }
}

/* ---- the explain module on a trained model ---------------------------------- */

/* `wordbench train -q ARGS -o DIR/name`, the file loaded. */
static wb_bundle *train_args(const char *name, const char *args) {
    char cmd[2048], *path = tu_path(tu_dir, name);
    snprintf(cmd, sizeof cmd, "%s train -q %s -o %s", WB_CLI, args, path);
    char *err = NULL;
    if (tu_run(cmd, NULL, &err) != 0) fail_msg("%s: %s", cmd, err ? err : "");
    free(err);
    wb_bundle *b;
    wb_err e;
    if (wb_bundle_load(&b, path, 1, &e) || wb_bundle_attach_store(b, NULL, &e)) fail_msg("load: %s", e.msg);
    free(path);
    return b;
}

static wb_bundle *train(const char *name, const char *extra) {
    char args[1024];
    snprintf(args, sizeof args,
             "--data %s/text/demo_sentiment.tsv --maxlen 20 --model kim --embeddings learned --emb-dim 8 "
             "--filters 6 --widths 2,3 --epochs 4 %s",
             WB_FIXTURES, extra);
    return train_args(name, args);
}

static int tok_is(const wb_explanation *x, size_t i, const char *s) {
    const wb_expl_text *t = &x->in[0];
    return t->tokoff[i + 1] - t->tokoff[i] == strlen(s) && !memcmp(t->tok + t->tokoff[i], s, strlen(s));
}

static void test_explain_text(void **state) {
    (void)state;
    wb_bundle *b = train("post.wbm", "");
    wb_explanation x, y;
    wb_err e;
    const char *t = "Puppy of a quuxly good, happy village!";
    assert_int_equal(wb_explain_text(b, t, strlen(t), 1, 0.5f, &x, &e), 0);
    assert_int_equal(x.in[0].ntok, 7);
    assert_int_equal(x.in[0].total_tokens, 7);
    assert_int_equal(x.in[0].skipped, 0);
    assert_true(tok_is(&x, 0, "puppy") && tok_is(&x, 4, "good") && tok_is(&x, 6, "village"));
    assert_int_equal(x.label, 1);
    assert_true(x.in[0].nspans > 0);
    double tsum = 0;
    for (size_t i = 0; i < x.in[0].ntok; i++) tsum += x.in[0].tok_score[i];
    assert_true(fabs(tsum - x.sum) < 1e-9);
    for (size_t i = 0; i + 1 < x.in[0].nspans; i++) assert_true(x.in[0].spans[i].score >= x.in[0].spans[i + 1].score);
    for (size_t i = 0; i < x.in[0].nspans; i++) {
        assert_true(x.in[0].spans[i].tok + x.in[0].spans[i].ntok <= x.in[0].ntok);
        for (size_t j = 0; j < i; j++) /* merged: each span once */
            assert_false(x.in[0].spans[i].tok == x.in[0].spans[j].tok && x.in[0].spans[i].ntok == x.in[0].spans[j].ntok);
    }
    /* kim without hidden layers: the spans + bias are the logit */
    double z = log(x.prob[0]) - log1p(-x.prob[0]);
    float *bias = tensor_named(b->model, "output/bias");
    assert_non_null(bias);
    assert_true(fabs(x.sum + bias[0] - z) < 1e-3 * (1 + fabs(z)));
    /* label 0: the same spans, negated */
    assert_int_equal(wb_explain_text(b, t, strlen(t), 0, 0.5f, &y, &e), 0);
    assert_int_equal(y.in[0].nspans, x.in[0].nspans);
    assert_true(fabs(y.sum + x.sum) < 1e-9);
    assert_true(fabs(y.label_prob - (1 - x.prob[0])) < 1e-6);
    assert_int_equal(y.predicted, !x.predicted);
    wb_explanation_free(&y);
    /* the prediction: label by the threshold */
    assert_int_equal(wb_explain_text(b, t, strlen(t), -1, 0.5f, &y, &e), 0);
    assert_int_equal(y.label, x.prob[0] >= 0.5f);
    assert_true(y.predicted);
    wb_explanation_free(&y);
    assert_int_equal(wb_explain_text(b, t, strlen(t), 2, 0.5f, &y, &e), WB_EUSAGE);
    wb_explanation_free(&x);
    /* 25 tokens, maxlen 20, truncating post: the first 20 */
    const char *longt = "a b c d e f g h i j k l m n o p q r s t u v w x y";
    assert_int_equal(wb_explain_text(b, longt, strlen(longt), -1, 0.5f, &x, &e), 0);
    assert_int_equal(x.in[0].ntok, 20);
    assert_int_equal(x.in[0].total_tokens, 25);
    assert_int_equal(x.in[0].skipped, 0);
    assert_true(tok_is(&x, 19, "t"));
    wb_explanation_free(&x);
    /* empty text */
    assert_int_equal(wb_explain_text(b, "", 0, -1, 0.5f, &x, &e), 0);
    assert_int_equal(x.in[0].ntok, 0);
    assert_int_equal(x.in[0].nspans, 0);
    wb_explanation_free(&x);
    wb_explanation_free(&x);
    wb_bundle_destroy(b);
    /* pre padding and truncation: the last 20 tokens, positions shifted */
    b = train("pre.wbm", "--padding pre --truncating pre");
    assert_int_equal(wb_explain_text(b, longt, strlen(longt), -1, 0.5f, &x, &e), 0);
    assert_int_equal(x.in[0].ntok, 20);
    assert_int_equal(x.in[0].skipped, 5);
    assert_true(tok_is(&x, 0, "f") && tok_is(&x, 19, "y"));
    wb_explanation_free(&x);
    assert_int_equal(wb_explain_text(b, t, strlen(t), 1, 0.5f, &x, &e), 0);
    assert_int_equal(x.in[0].ntok, 7);
    assert_true(tok_is(&x, 0, "puppy"));
    for (size_t i = 0; i < x.in[0].nspans; i++) assert_true(x.in[0].spans[i].tok + x.in[0].spans[i].ntok <= 7);
    wb_explanation_free(&x);
    wb_bundle_destroy(b);
}

/* ---- records of a model of two text columns and a feature ------------------ */

typedef struct rec_ctx {
    wb_bundle *b;
    float bias;      /* the output bias */
    size_t n;        /* records checked */
} rec_ctx;

static int check_record(void *ud, const wb_example *ex) {
    rec_ctx *r = ud;
    wb_explanation x, y;
    wb_err e;
    if (wb_explain_record(r->b, ex, "rec.csv", 1, 0.5f, &x, &e)) fail_msg("explain record: %s", e.msg);
    assert_int_equal(x.ninputs, 2);
    assert_string_equal(x.in[0].name, "subj");
    assert_string_equal(x.in[1].name, "body");
    assert_int_equal(x.nfeat, 1);
    assert_string_equal(x.feat[0].name, "n");
    assert_true(x.feat[0].value == ex->features[0]);
    assert_int_equal(x.in[0].ntok, 2); /* "subject wordN" of maxlen 4 */
    double sum = x.feat[0].score;
    for (size_t k = 0; k < 2; k++) {
        const wb_expl_text *t = &x.in[k];
        double ts = 0;
        for (size_t i = 0; i < t->ntok; i++) ts += t->tok_score[i];
        assert_true(fabs(ts - t->sum) < 1e-9);
        for (size_t i = 0; i < t->nspans; i++) assert_true(t->spans[i].tok + t->spans[i].ntok <= t->ntok);
        sum += t->sum;
    }
    assert_true(fabs(sum - x.sum) < 1e-9);
    /* no hidden layer: every input, the feature and the bias are the logit */
    double z = log(x.prob[0]) - log1p(-x.prob[0]);
    if (fabs(x.sum + r->bias - z) > 1e-3 * (1 + fabs(z)))
        fail_msg("record line %lld: inputs + feature + bias %.6g, logit %.6g", ex->line, x.sum + r->bias, z);
    if (wb_explain_record(r->b, ex, "rec.csv", 0, 0.5f, &y, &e)) fail_msg("explain record: %s", e.msg);
    assert_true(fabs(y.sum + x.sum) < 1e-9 && fabs(y.feat[0].score + x.feat[0].score) < 1e-9);
    wb_explanation_free(&y);
    wb_explanation_free(&x);
    r->n++;
    return 0;
}

static void test_explain_record(void **state) {
    (void)state;
    char *csv = tu_path(tu_dir, "rec.csv"), args[1024];
    FILE *f = fopen(csv, "w");
    assert_non_null(f);
    fputs("label,subj,body,n\n", f);
    for (int i = 0; i < 60; i++)
        fprintf(f, "%d,subject word%d,\"the body says %s\",%d\n", i % 2, i % 3, i % 4 < 2 ? "good things" : "bad news",
                i % 2 ? 5 + i % 3 : i % 3);
    fclose(f);
    snprintf(args, sizeof args,
             "--data %s --format csv --text-col subj --text-col body --maxlen subj=4,body=6 --feature-col n "
             "--model pool --hidden 0 --embeddings learned --emb-dim 8 --epochs 5",
             csv);
    wb_bundle *b = train_args("rec.wbm", args);
    wb_err e;
    float *bias = tensor_named(b->model, "output/bias");
    assert_non_null(bias);
    rec_ctx r = {b, bias[0], 0};
    wb_reader_opts ro = b->reader;
    ro.unlabelled = 1;
    assert_int_equal(wb_reader_read(csv, &ro, check_record, &r, NULL, &e), 0);
    assert_int_equal(r.n, 60);
    /* one text is not a record of this model; a record without the body field names its line */
    wb_explanation x;
    assert_int_equal(wb_explain_text(b, "subject word1", 13, -1, 0.5f, &x, &e), WB_EUSAGE);
    wb_span one = {"subject word1", 13};
    double v = 1;
    wb_example ex = {.line = 7, .n_texts = 1, .texts = &one, .n_features = 1, .features = &v};
    assert_int_equal(wb_explain_record(b, &ex, "rec.csv", -1, 0.5f, &x, &e), WB_EFORMAT);
    assert_int_equal(e.line, 7);
    assert_int_equal(x.ninputs, 0);
    wb_bundle_destroy(b);
    free(csv);
}

static void test_sentences(void **state) {
    (void)state;
    wb_range r[16];
    const char *t = "  First one. Second \"quoted!\" Third?! x.y stays\n"
                    "wrapped line.\n\n  Paragraph two\nstill two\n \nlast ";
    size_t n = wb_sentences(t, strlen(t), r, 16);
    const char *want[] = {"First one.", "Second \"quoted!\"", "Third?!", "x.y stays\nwrapped line.",
                          "Paragraph two\nstill two", "last"};
    assert_int_equal(n, 6);
    for (size_t i = 0; i < n; i++) {
        size_t l = r[i].end - r[i].start;
        if (l != strlen(want[i]) || memcmp(t + r[i].start, want[i], l))
            fail_msg("sentence %zu: '%.*s', want '%s'", i, (int)l, t + r[i].start, want[i]);
    }
    assert_int_equal(wb_sentences(t, strlen(t), NULL, 0), 6);
    assert_int_equal(wb_sentences(" \n\n ", 4, r, 16), 0);
    assert_int_equal(wb_sentences("no end", 6, r, 1), 1);
    const char *u = "Done\xE2\x80\x9D. Next \xE2\x80\x98one.\xE2\x80\x99 End";
    assert_int_equal(wb_sentences(u, strlen(u), r, 16), 3);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_linear_heads),
        cmocka_unit_test(test_rnn_gradient_times_input),
        cmocka_unit_test(test_every_kind_in_range),
        cmocka_unit_test(test_multi_linear),
        cmocka_unit_test(test_multi_gradient_times_input),
        cmocka_unit_test(test_explain_text),
        cmocka_unit_test(test_explain_record),
        cmocka_unit_test(test_sentences),
    };
    return cmocka_run_group_tests(tests, tu_dir_setup, tu_dir_teardown);
}
