/*
 * test_parity_model.c — whole models of model.h against PyTorch 1.13: for
 * fixed weights, embedding rows and one minibatch, the probabilities, the
 * mean loss and the gradient of every dense tensor and of every embedding
 * row, from fixtures/torch/model_CASE.txt written by
 * tools/torch_ref_models.py (cases in fixtures/torch/MODELS.md, format in
 * fixtures/torch/README.md).
 *
 * Contains: per case (tutorial multiclass, tutorial binary, kim multilabel,
 * pool multiclass, dense binary) and per Conv1D path (the projection of the
 * distinct rows, WB_CONV unset; the sgemm over the windows, WB_CONV=windows;
 * model.c reads it in wb_model_create): a model with learned embeddings and
 * SGD lr 1, its dense tensors and rows 1..V-1 set from the fixture, then
 *   - wb_model_predict: probabilities and loss;
 *   - wb_model_train_step: each dense tensor's gradient (wb_model_tensor),
 *     and each row's gradient as row_before - row_after (SGD with lr 1
 *     subtracts exactly the gradient, up to rounding);
 *   - rows the minibatch does not use are bit-for-bit unchanged.
 *
 * Tolerances (each element; the largest ratio |diff| / limit of every
 * tensor is printed, any element above its limit fails):
 *   probabilities, loss   |a - b| <= 1e-4 · max(|b|, 1e-6).  The floor only
 *       guards zero and denormals: softmax and sigmoid keep RELATIVE
 *       accuracy at any size (d log p = dz·(1 - p)), so a small p is as
 *       accurate relatively as a large one, and the loss is a positive
 *       O(1) number.
 *   dense gradients       |a - b| <= 1e-4 · max(|b|, 1e-2 · M), M = the
 *       largest |torch gradient| of the tensor.  A gradient element is a
 *       float32 sum of products (over the batch, windows, filters) whose
 *       terms reach ~M; its rounding error is absolute, a few ulp of M, so
 *       an element far below M (a cancellation) cannot be relatively exact.
 *       The floor allows 1e-6·M ≈ 16 ulp of M there, and 1e-4 relative above.
 *   row gradients         the same, with M over all rows, plus
 *       FLT_EPSILON · (|w| + |b|): the step stores fl(w - g) and the test
 *       computes fl(w - fl(w - g)); each rounding is at most 2^-24 times a
 *       value <= |w| + |g|, so the cancellation costs up to 2^-23·(|w|+|g|)
 *       absolute, far above 1e-4·|g| when |g| << |w|.
 *
 * The later kinds (tools/torch_ref_parts.py): LSTM and GRU, one and both
 * directions, last state and max over time, against nn.LSTM / nn.GRU over
 * packed sequences with the weights converted between gate orders; the
 * character CNN against nn.Conv1d over one-hot characters (no rows).
 *
 * Several inputs (tools/torch_ref_multi.py): kim and pool models of two
 * text inputs ("subject", "body": own rows, own convolutions) and numeric
 * features (standardised on the minibatch by wb_model_fit_features, with
 * and without their Dense + ReLU), merged by concatenation, against the
 * torch twin of the Keras functional-API model; input 2's rows are set and
 * compared through wb_model_set_input_row / get_input_row.
 *
 * Leaves out: dropout (torch's masks are not ours: the cases run with
 * dropout 0), max-norm (off), frozen / fine-tuned / multichannel
 * embeddings (same layers, other row sources: test_model.c), class weights,
 * optimizers other than SGD (layer parity: test_parity.c).
 */
#include <float.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "wordbench/err.h"
#include "wordbench/model.h"
#include "wordbench/optim.h"
#include "wordbench/split.h"

#ifndef WB_FIXTURES
#define WB_FIXTURES "fixtures"
#endif

#define RTOL 1e-4        /* relative tolerance of the issue */
#define PROB_FLOOR 1e-6  /* probabilities and loss: see the file comment */
#define GRAD_FLOOR 1e-2  /* gradients: fraction of the tensor's largest |gradient| */

/* ---- fixture reader -----------------------------------------------------------
 * "wbfix 1", '#' comment lines, then arrays: a header line "name ndim d0 ..."
 * followed by d0·d1·… numbers separated by white space. */

#define MX_MAXARR 64
#define MX_MAXDIM 4

typedef struct mx_arr {
    char name[32];          /* array name, unique in its file */
    int ndim;               /* 1..MX_MAXDIM */
    size_t dims[MX_MAXDIM]; /* row-major shape */
    size_t n;               /* product of dims */
    float *v;               /* n values (owned) */
} mx_arr;

typedef struct mx {
    char path[512];          /* the file, for messages */
    mx_arr a[MX_MAXARR];     /* arrays in file order */
    int na;                  /* arrays read */
} mx;

static void mx_load(mx *f, const char *cname) {
    memset(f, 0, sizeof *f);
    snprintf(f->path, sizeof f->path, "%s/torch/model_%s.txt", WB_FIXTURES, cname);
    FILE *in = fopen(f->path, "r");
    if (!in) fail_msg("%s: cannot open (regenerate with /usr/bin/python3 tools/torch_ref_models.py)", f->path);
    char line[512];
    if (!fgets(line, sizeof line, in) || strcmp(line, "wbfix 1\n") != 0)
        fail_msg("%s: first line is not \"wbfix 1\"; regenerate with /usr/bin/python3 tools/torch_ref_models.py",
                 f->path);
    for (;;) {
        int c;
        do c = fgetc(in);
        while (c == ' ' || c == '\t' || c == '\n' || c == '\r');
        if (c == EOF) break;
        if (c == '#') {
            while ((c = fgetc(in)) != '\n' && c != EOF) {}
            continue;
        }
        ungetc(c, in);
        if (f->na == MX_MAXARR) fail_msg("%s: more than %d arrays", f->path, MX_MAXARR);
        mx_arr *a = &f->a[f->na];
        if (fscanf(in, "%31s %d", a->name, &a->ndim) != 2 || a->ndim < 1 || a->ndim > MX_MAXDIM)
            fail_msg("%s: array %d: bad header", f->path, f->na + 1);
        a->n = 1;
        for (int d = 0; d < a->ndim; d++) {
            if (fscanf(in, "%zu", &a->dims[d]) != 1) fail_msg("%s: %s: bad shape", f->path, a->name);
            a->n *= a->dims[d];
        }
        a->v = malloc((a->n ? a->n : 1) * sizeof *a->v);
        assert_non_null(a->v);
        for (size_t i = 0; i < a->n; i++) {
            char tok[64], *end;
            if (fscanf(in, "%63s", tok) != 1)
                fail_msg("%s: %s: expected %zu numbers, found %zu", f->path, a->name, a->n, i);
            a->v[i] = strtof(tok, &end);
            if (*end) fail_msg("%s: %s[%zu]: not a number: %s", f->path, a->name, i, tok);
        }
        f->na++;
    }
    fclose(in);
}

static void mx_free(mx *f) {
    for (int i = 0; i < f->na; i++) free(f->a[i].v);
    f->na = 0;
}

static const mx_arr *mx_get(const mx *f, const char *name) {
    for (int i = 0; i < f->na; i++)
        if (strcmp(f->a[i].name, name) == 0) return &f->a[i];
    fail_msg("%s: no array %s", f->path, name);
    return NULL;
}

/* The values of `name`, which must hold exactly n numbers. */
static const float *mx_v(const mx *f, const char *name, size_t n) {
    const mx_arr *a = mx_get(f, name);
    if (a->n != n) fail_msg("%s: %s has %zu numbers, expected %zu", f->path, name, a->n, n);
    return a->v;
}

static size_t mx_size(const mx *f, const char *name) { return (size_t)mx_v(f, name, 1)[0]; }

/* 1 when the file has an array `name` (the later kinds' keys). */
static int mx_has(const mx *f, const char *name) {
    for (int i = 0; i < f->na; i++)
        if (strcmp(f->a[i].name, name) == 0) return 1;
    return 0;
}

/* ---- comparison ---------------------------------------------------------------- */

/* got vs want (n each), element i within RTOL·max(|want_i|, floor) +
 * extra[i]·FLT_EPSILON (extra may be NULL).  Prints the largest ratio
 * |diff| / limit; fails on any element above its limit.  Returns the
 * largest relative difference |diff| / max(|want|, floor). */
static double compare(const char *cname, const char *path, const char *what, const float *got, const float *want,
                      size_t n, double floor, const double *extra) {
    double worst = 0, worst_rel = 0;
    size_t bad = 0, first = 0;
    for (size_t i = 0; i < n; i++) {
        double a = got[i], b = want[i], d = fabs(a - b), ref = fabs(b) > floor ? fabs(b) : floor;
        double lim = RTOL * ref + (extra ? extra[i] * FLT_EPSILON : 0);
        if (d / lim > worst) worst = d / lim;
        if (d / ref > worst_rel) worst_rel = d / ref;
        if (!(d <= lim)) {
            if (!bad) first = i;
            bad++;
        }
    }
    print_message("%-22s %-8s %-14s max rel %.3g, %.3g of tolerance\n", cname, path, what, worst_rel, worst);
    if (bad)
        fail_msg("model_%s (%s path): %s: %zu of %zu elements beyond tolerance; first [%zu] = %.9g, torch %.9g",
                 cname, path, what, bad, n, first, got[first], want[first]);
    return worst_rel;
}

static double max_abs(const float *v, size_t n) {
    double m = 0;
    for (size_t i = 0; i < n; i++)
        if (fabs(v[i]) > m) m = fabs(v[i]);
    return m;
}

/* ---- one case ---------------------------------------------------------------- */

typedef struct pm_case {
    const char *name;  /* fixtures/torch/model_<name>.txt */
    int windows;       /* 1: WB_CONV=windows (sgemm Conv1D), 0: projection */
} pm_case;

static void run_case(void **state) {
    const pm_case *pc = *state;
    const char *path = pc->windows ? "windows" : "project";
    mx f;
    mx_load(&f, pc->name);

    wb_model_cfg c;
    wb_model_cfg_init(&c, (wb_model_kind)mx_size(&f, "kind"));
    c.emb = WB_EMB_LEARNED;
    c.task = (wb_task)mx_size(&f, "task");
    c.V = mx_size(&f, "V");
    c.E = mx_size(&f, "E");
    c.T = mx_size(&f, "T");
    c.H = mx_size(&f, "H");
    c.C = mx_size(&f, "C");
    c.dropout = 0;
    c.maxnorm = 0;
    c.seed = 7;
    if (mx_has(&f, "units")) {
        c.units = mx_size(&f, "units");
        c.bidirectional = (int)mx_size(&f, "bidirectional");
        c.rnn_pool = (wb_rnn_pool)mx_size(&f, "rnn_pool");
    }
    if (mx_has(&f, "nhidden")) c.nhidden = mx_size(&f, "nhidden");
    int multi = mx_has(&f, "ntext"); /* two text inputs and numeric features */
    if (multi) {
        assert_int_equal(mx_size(&f, "ntext"), 2);
        c.ntext = 2, c.text_V[1] = mx_size(&f, "V2"), c.text_T[1] = mx_size(&f, "T2");
        snprintf(c.text_name[0], sizeof c.text_name[0], "subject");
        snprintf(c.text_name[1], sizeof c.text_name[1], "body");
        c.nfeat = mx_size(&f, "nfeat"), c.feat_dense = mx_size(&f, "feat_dense");
    }
    c.hidden_dropout = 0;
    if (c.kind == WB_MODEL_TUTORIAL || c.kind == WB_MODEL_KIM || c.kind == WB_MODEL_CHARCNN) {
        const mx_arr *w = mx_get(&f, "widths");
        assert_true(w->n >= 1 && w->n <= WB_MAX_WIDTHS);
        c.F = mx_size(&f, "F");
        c.nwidths = w->n;
        for (size_t i = 0; i < w->n; i++) c.widths[i] = (size_t)w->v[i];
    }
    size_t B = mx_size(&f, "B"), V = c.V, E = c.E, T = c.T, C = c.C;

    wb_optim o;
    wb_optim_init(&o, WB_OPT_SGD);
    o.lr = 1;
    if (pc->windows)
        assert_int_equal(setenv("WB_CONV", "windows", 1), 0);
    else
        assert_int_equal(unsetenv("WB_CONV"), 0);
    wb_model *m = NULL;
    wb_err e = {0};
    int rc = wb_model_create(&m, &c, &o, B, &e);
    unsetenv("WB_CONV");
    if (rc) fail_msg("model_%s: wb_model_create: %s", pc->name, e.msg);

    /* Weights: every dense tensor, and rows 1..V-1 (row 0 is the zero padding). */
    size_t nt = wb_model_ntensors(m);
    for (size_t i = 0; i < nt; i++) {
        float *w;
        size_t n;
        const char *name = wb_model_tensor(m, i, &w, NULL, &n, NULL, NULL);
        memcpy(w, mx_v(&f, name, n), n * sizeof *w);
    }
    int nfix = 0;
    for (int i = 0; i < f.na; i++) nfix += strchr(f.a[i].name, '/') != NULL && f.a[i].name[0] != 'd';
    if ((size_t)nfix != nt) fail_msg("model_%s: fixture has %d dense tensors, the model %zu", pc->name, nfix, nt);
    int rows = mx_has(&f, "emb"); /* the character CNN has no embedding rows */
    size_t ninp = multi ? 2 : 1;
    static const char *const emb_name[2] = {"emb", "emb2"}, *const demb_name[2] = {"demb", "demb2"};
    for (size_t k = 0; rows && k < ninp; k++) {
        size_t Vk = wb_model_cfg_V(&c, k);
        const float *emb = mx_v(&f, emb_name[k], Vk * E);
        for (size_t id = 1; id < Vk; id++)
            if (wb_model_set_input_row(m, k, (int32_t)id, emb + id * E, &e)) fail_msg("set_row %zu: %s", id, e.msg);
    }

    const float *Xf = mx_v(&f, "X", B * T);
    int32_t *X = malloc(B * T * sizeof *X), *y = NULL;
    assert_non_null(X);
    for (size_t i = 0; i < B * T; i++) X[i] = (int32_t)Xf[i];
    wb_batch bt = {.B = B, .X = {X}};
    int32_t *X2 = NULL;
    double *F = NULL;
    if (multi) {
        size_t T2 = c.text_T[1], nf = c.nfeat;
        const float *X2f = mx_v(&f, "X2", B * T2), *Ff = mx_v(&f, "feat", B * nf);
        X2 = malloc(B * T2 * sizeof *X2), F = malloc(B * nf * sizeof *F);
        assert_non_null(X2), assert_non_null(F);
        for (size_t i = 0; i < B * T2; i++) X2[i] = (int32_t)X2f[i];
        for (size_t i = 0; i < B * nf; i++) F[i] = Ff[i];
        bt.X[1] = X2, bt.feat = F;
        /* the twin standardises with the minibatch's own mean and deviation */
        if (wb_model_fit_features(m, F, nf, NULL, B, &e)) fail_msg("model_%s: features: %s", pc->name, e.msg);
    }
    const float *t = NULL;
    if (c.task == WB_TASK_MULTICLASS) {
        const float *yf = mx_v(&f, "y", B);
        y = malloc(B * sizeof *y);
        assert_non_null(y);
        for (size_t b = 0; b < B; b++) y[b] = (int32_t)yf[b];
    } else {
        t = mx_v(&f, "t", B * C);
    }

    /* Forward. */
    float *prob = malloc(B * C * sizeof *prob), loss = NAN, loss2 = NAN;
    assert_non_null(prob);
    if (wb_model_predict_batch(m, &bt, y, t, NULL, prob, &loss, &e)) fail_msg("predict: %s", e.msg);
    compare(pc->name, path, "prob", prob, mx_v(&f, "prob", B * C), B * C, PROB_FLOOR, NULL);
    compare(pc->name, path, "loss", &loss, mx_v(&f, "loss", 1), 1, PROB_FLOOR, NULL);

    /* One SGD step with lr 1: gradients. */
    size_t Vmax = multi && c.text_V[1] > V ? c.text_V[1] : V;
    float *before = malloc(ninp * Vmax * E * sizeof *before), *delta = malloc(Vmax * E * sizeof *delta);
    double *extra = malloc(Vmax * E * sizeof *extra);
    assert_non_null(before), assert_non_null(delta), assert_non_null(extra);
    for (size_t k = 0; rows && k < ninp; k++)
        for (size_t id = 0; id < wb_model_cfg_V(&c, k); id++)
            if (wb_model_get_input_row(m, k, (int32_t)id, before + (k * Vmax + id) * E, &e))
                fail_msg("get_row %zu: %s", id, e.msg);
    wb_rng rng;
    wb_rng_init(&rng, 1);
    if (wb_model_train_batch(m, &bt, y, t, NULL, &rng, &loss2, NULL, &e)) fail_msg("train_step: %s", e.msg);
    compare(pc->name, path, "step loss", &loss2, mx_v(&f, "loss", 1), 1, PROB_FLOOR, NULL);
    for (size_t i = 0; i < nt; i++) {
        float *g;
        size_t n;
        const char *name = wb_model_tensor(m, i, NULL, &g, &n, NULL, NULL);
        char dname[40];
        snprintf(dname, sizeof dname, "d%s", name);
        const float *want = mx_v(&f, dname, n);
        compare(pc->name, path, dname, g, want, n, GRAD_FLOOR * max_abs(want, n), NULL);
    }
    for (size_t k = 0; rows && k < ninp; k++) {
        size_t Vk = wb_model_cfg_V(&c, k);
        const float *demb = mx_v(&f, demb_name[k], Vk * E), *bk = before + k * Vmax * E;
        for (size_t id = 0; id < Vk; id++) {
            float after[64];
            assert_true(E <= 64);
            if (wb_model_get_input_row(m, k, (int32_t)id, after, &e)) fail_msg("get_row %zu: %s", id, e.msg);
            int used = 0;
            for (size_t q = 0; q < E; q++) used |= demb[id * E + q] != 0;
            for (size_t q = 0; q < E; q++) {
                size_t i = id * E + q;
                delta[i] = bk[i] - after[q];
                extra[i] = fabs(bk[i]) + fabs(demb[i]);
                if (!used && after[q] != bk[i])
                    fail_msg("model_%s (%s path): input %zu row %zu has no gradient but changed: [%zu] %.9g -> %.9g",
                             pc->name, path, k + 1, id, q, bk[i], after[q]);
            }
        }
        compare(pc->name, path, demb_name[k], delta, demb, Vk * E, GRAD_FLOOR * max_abs(demb, Vk * E), extra);
    }

    free(before), free(delta), free(extra), free(prob), free(X), free(y), free(X2), free(F);
    wb_model_destroy(m);
    mx_free(&f);
}

#define CASE(n)                                                                                                      \
    static const pm_case n##_project = {#n, 0}, n##_windows = {#n, 1};
CASE(tutorial_multiclass)
CASE(tutorial_binary)
CASE(kim_multilabel)
CASE(pool_multiclass)
CASE(dense_binary)
CASE(multi_kim_multiclass)
CASE(multi_pool_binary)
/* the later kinds have one path: no Conv1D over embedded rows */
#define CASE1(n) static const pm_case n##_project = {#n, 0};
CASE1(lstm_multiclass)
CASE1(lstm_bi_max_multilabel)
CASE1(gru_binary)
CASE1(gru_bi_max_multiclass)
CASE1(charcnn_multiclass)

/* Named "<case>/<path>" in cmocka's output. */
#define UNIT(n)                                                                                                      \
    {#n "/project", run_case, NULL, NULL, (void *)&n##_project}, {#n "/windows", run_case, NULL, NULL, (void *)&n##_windows}

int main(void) {
    const struct CMUnitTest tests[] = {
        UNIT(tutorial_multiclass), UNIT(tutorial_binary), UNIT(kim_multilabel), UNIT(pool_multiclass),
        UNIT(dense_binary),
        /* two text inputs and numeric features (tools/torch_ref_multi.py) */
        UNIT(multi_kim_multiclass), UNIT(multi_pool_binary),
        /* the later kinds (tools/torch_ref_parts.py); they have one path each */
        {"lstm_multiclass", run_case, NULL, NULL, (void *)&lstm_multiclass_project},
        {"lstm_bi_max_multilabel", run_case, NULL, NULL, (void *)&lstm_bi_max_multilabel_project},
        {"gru_binary", run_case, NULL, NULL, (void *)&gru_binary_project},
        {"gru_bi_max_multiclass", run_case, NULL, NULL, (void *)&gru_bi_max_multiclass_project},
        {"charcnn_multiclass", run_case, NULL, NULL, (void *)&charcnn_multiclass_project},
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
