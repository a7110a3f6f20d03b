/*
 * test_search.c — specification of a search (src/experiment/search.c,
 * trial.c, workers.c, triallog.c; wordbench/search.h, triallog.h):
 *
 *   parameters   lists, ':'-lists with commas inside, integer / real / log
 *                ranges, every malformed spec refused with the reason;
 *   plans        grid order (last parameter fastest), random search
 *                reproducible from the seed and different for another,
 *                distinct grid points when every parameter is a list,
 *                ranges within bounds (integers integral, log ranges
 *                positive), settings refused (k = 1, grid with a range, a
 *                name twice); the plan file round trip, its id, a flipped
 *                byte and a truncated file refused, trial numbering;
 *   folds        on the sentiment fixture: k folds partition the training
 *                part and are stratified, nested inner folds partition each
 *                outer training part, holdout and refit sets;
 *   trial log    format/parse round trip (NaN as null, history), every
 *                corruption refused, torn and damaged lines skipped and
 *                counted, another plan's line an error with file:line, the
 *                refit's last record winning, append cutting a torn tail;
 *   table        means, sample sd, ranking, incomplete rows, loss ranked
 *                low-first, the best configuration, nested selection;
 *   workers      every trial logged once by 3 forked workers, a failing
 *                trial reported with its number, a deadline stopping trials
 *                unlogged;
 *   trials       wb_trial_run on the fixture: held-out words unseen in
 *                training read as OOV (a model trained where the fold's
 *                only words are held out scores like one that never saw
 *                them), determinism, wb_trial_check errors.
 *
 * Leaves out: the CLI (tests/cli/search.sh), Slurm (tests/cli/slurm.sh).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "testutil.h"
#include "wordbench/dataset.h"
#include "wordbench/search.h"
#include "wordbench/split.h"
#include "wordbench/train.h"
#include "wordbench/triallog.h"

#define SENT WB_FIXTURES "/text/demo_sentiment.tsv"
#define SENT_TEST WB_FIXTURES "/text/demo_sentiment_test.tsv"
#define TOPICS WB_FIXTURES "/text/demo_topics.txt"

static wb_param P(const char *text) {
    wb_param p;
    wb_err e;
    if (wb_param_parse(text, &p, &e)) fail_msg("%s: %s", text, e.msg);
    return p;
}

/* ---- parameters ------------------------------------------------------------------ */

static void test_params(void **state) {
    (void)state;
    wb_param p = P("filters=64,128");
    assert_int_equal(p.kind, WB_PARAM_LIST);
    assert_string_equal(p.name, "filters");
    assert_int_equal(p.nvalues, 2);
    assert_string_equal(p.values[1], "128");
    wb_param_free(&p);
    p = P("widths=3,4,5:5");
    assert_int_equal(p.nvalues, 2);
    assert_string_equal(p.values[0], "3,4,5");
    assert_string_equal(p.values[1], "5");
    wb_param_free(&p);
    p = P("embeddings=learned");
    assert_int_equal(p.nvalues, 1);
    wb_param_free(&p);
    p = P("dropout=0.2..0.6");
    assert_int_equal(p.kind, WB_PARAM_REAL);
    assert_true(p.lo == 0.2 && p.hi == 0.6);
    wb_param_free(&p);
    p = P("lr=1e-4..1e-2:log");
    assert_int_equal(p.kind, WB_PARAM_REAL_LOG);
    wb_param_free(&p);
    p = P("filters=50..200");
    assert_int_equal(p.kind, WB_PARAM_INT);
    wb_param_free(&p);
    p = P("batch-size=8..512:log");
    assert_int_equal(p.kind, WB_PARAM_INT_LOG);
    wb_param_free(&p);
    static const char *const bad[] = {"filters", "=1,2", "filters=", "filters=1,,2", "dropout=0.6..0.2", "lr=0..1:log",
                                      "lr=1..2:lin", "dropout=a..b", "x y=1", "dropout=nan..1", "dropout=0..1e400"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        wb_err e;
        wb_err_clear(&e);
        if (wb_param_parse(bad[i], &p, &e) != WB_EUSAGE) fail_msg("'%s' accepted", bad[i]);
        assert_true(e.msg[0] != 0);
        assert_null(p.name);
    }
}

/* ---- plans ----------------------------------------------------------------------------- */

static int make_plan(wb_plan *pl, int random, uint64_t seed, size_t n_iter, size_t k, size_t k2, const char *const *specs,
                     size_t n, wb_err *e) {
    wb_param *ps = calloc(n ? n : 1, sizeof *ps);
    for (size_t i = 0; i < n; i++) ps[i] = P(specs[i]);
    static const char *const args[] = {"--data", "x.tsv", "--epochs", "2"};
    wb_plan_opts o = {.random = random, .seed = seed, .n_iter = n_iter, .k = k, .k2 = k2, .split_mode = WB_SPLIT_STRATIFY,
                      .metric = "acc", .threads = 1, .refit = 1, .args = args, .nargs = 4, .params = ps, .nparams = n};
    int rc = wb_plan_create(pl, &o, e);
    for (size_t i = 0; i < o.nparams; i++) wb_param_free(&o.params[i]);
    free(o.params);
    return rc;
}

static void test_grid(void **state) {
    (void)state;
    static const char *const specs[] = {"model=tutorial,kim", "embeddings=learned,frozen,finetune"};
    wb_plan pl;
    wb_err e;
    assert_int_equal(make_plan(&pl, 0, 0, 0, 5, 0, specs, 2, &e), 0);
    assert_int_equal(pl.nconfigs, 6);
    assert_string_equal(wb_plan_value(&pl, 0, 0), "tutorial");
    assert_string_equal(wb_plan_value(&pl, 0, 1), "learned");
    assert_string_equal(wb_plan_value(&pl, 1, 1), "frozen"); /* last fastest */
    assert_string_equal(wb_plan_value(&pl, 3, 0), "kim");
    assert_string_equal(wb_plan_value(&pl, 3, 1), "learned");
    assert_int_equal(wb_plan_per_config(&pl), 5);
    assert_int_equal(wb_plan_ntrials(&pl), 31);
    wb_trial t;
    wb_plan_trial(&pl, 7, &t);
    assert_true(t.config == 1 && t.outer == 2 && t.inner == -1 && !t.refit);
    wb_plan_trial(&pl, 30, &t);
    assert_true(t.refit && t.config == SIZE_MAX);
    wb_plan_free(&pl);
    /* nested: per configuration k outer trials, then k·k2 inner ones */
    assert_int_equal(make_plan(&pl, 0, 0, 0, 3, 2, specs, 2, &e), 0);
    assert_int_equal(wb_plan_per_config(&pl), 3 + 6);
    wb_plan_trial(&pl, 9 + 2, &t);
    assert_true(t.config == 1 && t.outer == 2 && t.inner == -1);
    wb_plan_trial(&pl, 9 + 3 + 5, &t);
    assert_true(t.config == 1 && t.outer == 2 && t.inner == 1);
    wb_plan_free(&pl);
    /* no parameter: one configuration */
    assert_int_equal(make_plan(&pl, 0, 0, 0, 0, 0, NULL, 0, &e), 0);
    assert_int_equal(pl.nconfigs, 1);
    assert_int_equal(wb_plan_ntrials(&pl), 2);
    wb_plan_free(&pl);
    /* refused settings */
    static const char *const rng[] = {"dropout=0.1..0.5"};
    assert_int_equal(make_plan(&pl, 0, 0, 0, 5, 0, rng, 1, &e), WB_EUSAGE);
    assert_non_null(strstr(e.msg, "range"));
    static const char *const twice[] = {"filters=1,2", "filters=3"};
    assert_int_equal(make_plan(&pl, 0, 0, 0, 5, 0, twice, 2, &e), WB_EUSAGE);
    assert_int_equal(make_plan(&pl, 0, 0, 0, 1, 0, specs, 2, &e), WB_EUSAGE);
    assert_int_equal(make_plan(&pl, 0, 0, 0, 0, 3, specs, 2, &e), WB_EUSAGE);
    assert_int_equal(make_plan(&pl, 1, 0, 0, 5, 0, specs, 2, &e), WB_EUSAGE);
}

static void test_random(void **state) {
    (void)state;
    static const char *const specs[] = {"dropout=0.2..0.6", "lr=1e-4..1e-2:log", "filters=10..20", "batch-size=8..512:log",
                                        "embeddings=learned,frozen"};
    wb_plan a, b, c;
    wb_err e;
    assert_int_equal(make_plan(&a, 1, 7, 50, 3, 0, specs, 5, &e), 0);
    assert_int_equal(make_plan(&b, 1, 7, 50, 3, 0, specs, 5, &e), 0);
    assert_int_equal(make_plan(&c, 1, 8, 50, 3, 0, specs, 5, &e), 0);
    assert_int_equal(a.nconfigs, 50);
    int differs = 0, both_modes[2] = {0, 0};
    for (size_t i = 0; i < 50; i++) {
        for (size_t j = 0; j < 5; j++) {
            assert_string_equal(wb_plan_value(&a, i, j), wb_plan_value(&b, i, j));
            differs |= strcmp(wb_plan_value(&a, i, j), wb_plan_value(&c, i, j)) != 0;
        }
        double d = atof(wb_plan_value(&a, i, 0)), lr = atof(wb_plan_value(&a, i, 1));
        char *end;
        long f = strtol(wb_plan_value(&a, i, 2), &end, 10), bs = strtol(wb_plan_value(&a, i, 3), NULL, 10);
        assert_true(d >= 0.2 && d <= 0.6 && lr >= 1e-4 * 0.9999 && lr <= 1e-2 * 1.0001);
        assert_true(*end == 0 && f >= 10 && f <= 20 && bs >= 8 && bs <= 512);
        both_modes[!strcmp(wb_plan_value(&a, i, 4), "frozen")] = 1;
    }
    assert_true(differs && both_modes[0] && both_modes[1]);
    wb_plan_free(&a), wb_plan_free(&b), wb_plan_free(&c);
    /* lists only: distinct grid points; the whole grid when n_iter is larger */
    static const char *const lists[] = {"a=1,2,3,4", "b=x,y,z"};
    assert_int_equal(make_plan(&a, 1, 3, 8, 2, 0, lists, 2, &e), 0);
    assert_int_equal(a.nconfigs, 8);
    for (size_t i = 0; i < 8; i++)
        for (size_t j = 0; j < i; j++)
            assert_false(!strcmp(wb_plan_value(&a, i, 0), wb_plan_value(&a, j, 0)) &&
                         !strcmp(wb_plan_value(&a, i, 1), wb_plan_value(&a, j, 1)));
    wb_plan_free(&a);
    assert_int_equal(make_plan(&a, 1, 3, 100, 2, 0, lists, 2, &e), 0);
    assert_int_equal(a.nconfigs, 12);
    wb_plan_free(&a);
}

static void test_plan_file(void **state) {
    (void)state;
    static const char *const specs[] = {"widths=3,4,5:5", "dropout=0.1..0.3", "text=\"q\\u\xc3\xa9"};
    wb_plan a, b;
    wb_err e;
    assert_int_equal(make_plan(&a, 1, 99, 4, 3, 2, specs, 3, &e), 0);
    char *dir = tu_path(tu_dir, "plan");
    tu_rmrf(dir);
    assert_int_equal(mkdir(dir, 0777), 0);
    assert_int_equal(wb_plan_load(&b, dir, &e), 2 /* ENOENT */);
    assert_int_equal(wb_plan_save(&a, dir, &e), 0);
    assert_int_equal(wb_plan_load(&b, dir, &e), 0);
    assert_true(a.id != 0 && a.id == b.id);
    assert_true(b.random && b.seed == 99 && b.k == 3 && b.k2 == 2 && b.refit && b.nconfigs == 4 && b.nargs == 4);
    assert_string_equal(b.args[1], "x.tsv");
    for (size_t i = 0; i < 4; i++)
        for (size_t j = 0; j < 3; j++) assert_string_equal(wb_plan_value(&a, i, j), wb_plan_value(&b, i, j));
    assert_string_equal(b.params[2].values[0], "\"q\\u\xc3\xa9");
    char *t;
    size_t len;
    uint64_t id;
    assert_int_equal(wb_plan_text(&b, &t, &len, &id), 0);
    assert_true(id == a.id);
    wb_plan_free(&b);
    /* damage: a flipped byte, a truncated file, another version */
    char *path = tu_path(dir, "plan.json");
    t[20] ^= 1;
    tu_write_file(path, t, len);
    assert_int_equal(wb_plan_load(&b, dir, &e), WB_ECORRUPT);
    tu_write_file(path, t, len / 2);
    assert_int_equal(wb_plan_load(&b, dir, &e), WB_ECORRUPT);
    free(t);
    wb_plan_free(&a);
    free(path);
    free(dir);
}

/* ---- folds --------------------------------------------------------------------------------- */

static wb_dataset *build(const char *train, const char *valid, const char *test) {
    wb_dataset_opts o;
    wb_dataset_opts_init(&o);
    o.train_path = train, o.valid_path = valid, o.test_path = test, o.maxlen = 20;
    wb_dataset *ds = NULL;
    wb_err e;
    if (wb_dataset_build(&ds, &o, NULL, &e)) fail_msg("dataset: %s", e.msg);
    return ds;
}

static void test_folds(void **state) {
    (void)state;
    wb_dataset *ds = build(SENT, SENT_TEST, NULL); /* 400 training examples; the test file as "valid" part */
    static const char *const specs[] = {"filters=4"};
    wb_plan pl;
    wb_err e;
    assert_int_equal(make_plan(&pl, 0, 5, 0, 4, 3, specs, 1, &e), 0);
    wb_folds *f;
    assert_int_equal(wb_folds_create(&f, &pl, ds, &e), 0);
    const size_t *lo;
    const uint32_t *li;
    wb_dataset_labels(ds, &lo, &li);
    uint8_t *seen = calloc(wb_dataset_n(ds), 1);
    size_t total = 0;
    for (int o = 0; o < 4; o++) {
        wb_trial t = {.config = 0, .outer = o, .inner = -1};
        const uint32_t *tr, *te;
        size_t ntr, nte;
        wb_folds_get(f, &t, &tr, &ntr, &te, &nte);
        assert_int_equal(ntr + nte, 400);
        assert_true(nte == 100);
        size_t pos = 0;
        for (size_t j = 0; j < nte; j++) {
            assert_int_equal(seen[te[j]], 0);
            seen[te[j]] = 1;
            pos += li[lo[te[j]]] == 1;
            assert_int_equal(wb_dataset_split(ds)[te[j]], WB_DS_TRAIN);
        }
        total += nte;
        /* stratified: each fold holds a quarter of each class, +-1 */
        size_t P = 0;
        for (size_t i = 0; i < wb_dataset_n(ds); i++) P += wb_dataset_split(ds)[i] == WB_DS_TRAIN && li[lo[i]] == 1;
        assert_true(pos * 4 + 4 >= P && pos * 4 <= P + 4);
        for (size_t j = 0; j < ntr; j++) assert_int_equal(seen[tr[j]] && 0, 0);
        /* inner folds partition the outer training part */
        uint8_t *in = calloc(wb_dataset_n(ds), 1);
        size_t sum = 0;
        for (int i = 0; i < 3; i++) {
            wb_trial ti = {.config = 0, .outer = o, .inner = i};
            const uint32_t *a, *b;
            size_t na, nb;
            wb_folds_get(f, &ti, &a, &na, &b, &nb);
            assert_int_equal(na + nb, ntr);
            for (size_t j = 0; j < nb; j++) {
                assert_int_equal(in[b[j]], 0);
                in[b[j]] = 1;
            }
            sum += nb;
        }
        assert_int_equal(sum, ntr);
        for (size_t j = 0; j < ntr; j++) assert_int_equal(in[tr[j]], 1);
        free(in);
    }
    assert_int_equal(total, 400);
    /* the refit: the whole training part, and the test part (none here) */
    wb_trial rt = {.refit = 1, .outer = -1, .inner = -1};
    const uint32_t *a, *b;
    size_t na, nb;
    wb_folds_get(f, &rt, &a, &na, &b, &nb);
    assert_int_equal(na, 400);
    assert_int_equal(nb, 0);
    wb_folds_destroy(f);
    wb_plan_free(&pl);
    /* holdout: training part / valid part */
    assert_int_equal(make_plan(&pl, 0, 5, 0, 0, 0, specs, 1, &e), 0);
    assert_int_equal(wb_folds_create(&f, &pl, ds, &e), 0);
    wb_trial ht = {.config = 0, .outer = 0, .inner = -1};
    wb_folds_get(f, &ht, &a, &na, &b, &nb);
    assert_int_equal(na, 400);
    assert_int_equal(nb, 100);
    wb_folds_destroy(f);
    wb_dataset_destroy(ds);
    /* holdout without a valid part; more folds than examples */
    ds = build(SENT, NULL, SENT_TEST);
    assert_int_equal(wb_folds_create(&f, &pl, ds, &e), WB_EUSAGE);
    assert_null(f);
    wb_plan_free(&pl);
    assert_int_equal(make_plan(&pl, 0, 5, 0, 401, 0, specs, 1, &e), 0);
    assert_int_equal(wb_folds_create(&f, &pl, ds, &e), WB_EUSAGE);
    wb_plan_free(&pl);
    wb_dataset_destroy(ds);
    free(seen);
}

/* ---- the trial log ---------------------------------------------------------------------------- */

static wb_trial_result result(size_t trial, size_t config, int outer, double acc) {
    wb_trial_result r;
    memset(&r, 0, sizeof r);
    r.trial = trial, r.config = config, r.outer = outer, r.inner = -1;
    r.ntrain = 80, r.ntest = 20, r.epochs = 2;
    for (int m = 0; m < WB_NMET; m++) r.metric[m] = acc + 0.001 * m;
    r.metric[WB_MET_AUC] = NAN;
    r.train_s = 0.5, r.wall_s = 0.75, r.examples_per_s = 320.0;
    r.history = calloc(2, sizeof *r.history);
    r.history[0] = (wb_epoch){.epoch = 1, .loss = 0.7, .acc = 0.5, .has_val = 1, .val_loss = 0.69, .val_acc = 0.55, .seconds = 0.1};
    r.history[1] = (wb_epoch){.epoch = 2, .loss = 1.0 / 3.0, .acc = 0.75, .has_val = 0, .seconds = 0.2};
    return r;
}

static void test_log_line(void **state) {
    (void)state;
    wb_trial_result r = result(3, 0, 3, 0.8125), q;
    char *line;
    size_t len;
    assert_int_equal(wb_triallog_format(&r, 0xfeedULL, &line, &len), 0);
    assert_true(len == strlen(line) && line[len - 1] == '\n');
    assert_non_null(strstr(line, "\"auc\": null"));
    uint64_t id;
    wb_err e;
    assert_int_equal(wb_triallog_parse(line, len, &q, &id, &e), 0);
    assert_true(id == 0xfeedULL && q.trial == 3 && q.outer == 3 && q.inner == -1 && !q.refit && q.epochs == 2);
    for (int m = 0; m < WB_NMET; m++)
        if (m != WB_MET_AUC) assert_true(q.metric[m] == r.metric[m]); /* exact: %.17g round-trips */
    assert_true(q.metric[WB_MET_AUC] != q.metric[WB_MET_AUC]);
    assert_true(q.history[1].loss == 1.0 / 3.0 && !q.history[1].has_val && q.history[0].has_val &&
                q.history[0].val_acc == 0.55);
    wb_trial_result_free(&q);
    /* every single-byte change and every truncation is refused */
    char *copy = malloc(len);
    size_t refused = 0, body = (size_t)(strstr(line, ", \"check\"") - line);
    for (size_t i = 0; i + 1 < len; i++) {
        memcpy(copy, line, len);
        copy[i] ^= 0x01;
        if (wb_triallog_parse(copy, len, &q, &id, &e)) {
            refused++;
            /* the error names a byte of the line; a change before the check member is a checksum
             * mismatch at the end of the body (fuzz_triallog found the offset left unset) */
            assert_true(e.offset >= 0 && (size_t)e.offset <= len);
            if (i < body && !strstr(e.msg, "checksum mismatch")) fail_msg("byte %zu: %s", i, e.msg);
            if (i < body) assert_int_equal(e.offset, body);
        } else {
            wb_trial_result_free(&q);
        }
    }
    assert_int_equal(refused, len - 1);
    for (size_t n = 0; n + 1 < len; n++) {
        if (!wb_triallog_parse(line, n, &q, &id, &e)) fail_msg("truncated at %zu accepted", n);
    }
    free(copy);
    free(line);
    wb_trial_result_free(&r);
}

static wb_plan small_plan(void) {
    static const char *const specs[] = {"filters=4,8"};
    wb_plan pl;
    wb_err e;
    assert_int_equal(make_plan(&pl, 0, 1, 0, 2, 0, specs, 1, &e), 0);
    pl.id = 0xabcdefULL;
    return pl; /* 2 configurations x 2 folds + refit = 5 trials */
}

static void append(const char *path, wb_trial_result r, uint64_t id) {
    wb_err e;
    if (wb_triallog_append(path, &r, id, &e)) fail_msg("append: %s", e.msg);
    wb_trial_result_free(&r);
}

static void test_log_file(void **state) {
    (void)state;
    wb_plan pl = small_plan();
    char *path = tu_path(tu_dir, "trials.jsonl");
    unlink(path);
    wb_trial_result *res[5] = {0};
    wb_triallog_stats st;
    memset(&st, 0, sizeof st);
    wb_err e;
    assert_int_equal(wb_triallog_read(path, &pl, res, &st, &e), 0); /* missing: nothing */
    append(path, result(0, 0, 0, 0.5), pl.id);
    append(path, result(1, 0, 1, 0.6), pl.id);
    append(path, result(1, 0, 1, 0.9), pl.id); /* a duplicate: the first wins */
    /* a torn tail: the next append cuts it off */
    FILE *f = fopen(path, "a");
    fputs("{\"plan\": \"0000000000abcdef\", \"trial\": 2, \"con", f);
    fclose(f);
    memset(&st, 0, sizeof st);
    assert_int_equal(wb_triallog_read(path, &pl, res, &st, &e), 0);
    assert_true(st.torn == 1 && st.records == 3 && st.duplicates == 1 && st.damaged == 0);
    assert_true(res[1] && res[1]->metric[WB_MET_ACC] == 0.6 && !res[2]);
    wb_triallog_results_free(res, 5);
    append(path, result(2, 1, 0, 0.7), pl.id);
    size_t n;
    char *text = tu_read_file(path, &n);
    assert_null(strstr(text, "\"con\n"));
    assert_int_equal(text[n - 1], '\n');
    free(text);
    /* a damaged line in the middle: skipped, counted, located */
    f = fopen(path, "a");
    fputs("{\"plan\": \"garbage\"}\n", f);
    fclose(f);
    wb_trial_result rf = result(4, 1, -1, 0.95);
    rf.refit = 1, rf.inner = -1;
    append(path, rf, pl.id);
    rf = result(4, 0, -1, 0.97);
    rf.refit = 1;
    append(path, rf, pl.id); /* the refit's last record wins */
    memset(&st, 0, sizeof st);
    assert_int_equal(wb_triallog_read(path, &pl, res, &st, &e), 0);
    assert_int_equal(st.damaged, 1);
    assert_non_null(strstr(st.first_damaged, "trials.jsonl:5"));
    assert_true(res[2] && res[4] && res[4]->config == 0 && res[4]->metric[WB_MET_ACC] == 0.97);
    wb_triallog_results_free(res, 5);
    /* another plan's checked line: an error naming file:line */
    append(path, result(3, 1, 1, 0.5), 0x1234ULL);
    memset(&st, 0, sizeof st);
    assert_int_equal(wb_triallog_read(path, &pl, res, &st, &e), WB_EFORMAT);
    assert_int_equal(e.line, 8);
    assert_non_null(strstr(e.msg, "another search"));
    wb_triallog_results_free(res, 5);
    /* a checked line whose folds contradict the plan */
    unlink(path);
    append(path, result(3, 0, 1, 0.5), pl.id); /* trial 3 is config 1, fold 1 */
    assert_int_equal(wb_triallog_read(path, &pl, res, &st, &e), WB_EFORMAT);
    wb_triallog_results_free(res, 5);
    /* read_dir: trials.jsonl first, then tasks/ in name order */
    char *tasks = tu_path(tu_dir, "tasks");
    mkdir(tasks, 0777);
    unlink(path);
    append(path, result(0, 0, 0, 0.1), pl.id);
    char *t1 = tu_path(tasks, "trial-0.jsonl"), *t2 = tu_path(tasks, "trial-3.jsonl");
    append(t1, result(0, 0, 0, 0.2), pl.id);
    append(t2, result(3, 1, 1, 0.3), pl.id);
    memset(&st, 0, sizeof st);
    assert_int_equal(wb_triallog_read_dir(tu_dir, &pl, res, &st, &e), 0);
    assert_true(res[0]->metric[WB_MET_ACC] == 0.1 && res[3]->metric[WB_MET_ACC] == 0.3 && st.duplicates == 1);
    wb_triallog_results_free(res, 5);
    free(t1), free(t2), free(tasks), free(path);
    wb_plan_free(&pl);
}

/* ---- the table --------------------------------------------------------------------------------- */

static void test_table(void **state) {
    (void)state;
    wb_plan pl = small_plan();
    wb_trial_result r[5], *res[5] = {0};
    double acc[4] = {0.70, 0.80, 0.90, 0.94};
    for (size_t t = 0; t < 4; t++) {
        r[t] = result(t, t / 2, (int)(t % 2), acc[t]);
        r[t].metric[WB_MET_LOSS] = 1 - acc[t] + (t >= 2 ? 0.5 : 0); /* config 1: better acc, worse loss */
        res[t] = &r[t];
    }
    wb_table_row *rows;
    size_t n;
    wb_err e;
    assert_int_equal(wb_search_table(&pl, res, WB_MET_ACC, &rows, &n, &e), 0);
    assert_int_equal(n, 2);
    assert_true(rows[0].config == 1 && rows[0].rank == 1 && rows[1].rank == 2);
    assert_true(fabs(rows[0].mean[WB_MET_ACC] - 0.92) < 1e-12);
    assert_true(fabs(rows[0].sd[WB_MET_ACC] - sqrt(0.0008)) < 1e-12); /* sample sd of 0.90, 0.94 */
    assert_true(rows[0].mean[WB_MET_AUC] != rows[0].mean[WB_MET_AUC]); /* all NaN */
    assert_true(rows[0].folds == 2 && rows[0].expected == 2 && rows[0].train_s == 0.5);
    free(rows);
    assert_int_equal(wb_search_table(&pl, res, WB_MET_LOSS, &rows, &n, &e), 0);
    assert_int_equal(rows[0].config, 0); /* loss: lower first */
    free(rows);
    assert_int_equal(wb_search_best(&pl, res, WB_MET_ACC), 1);
    /* an incomplete configuration is listed last, without a rank, and never best */
    res[3] = NULL;
    assert_int_equal(wb_search_table(&pl, res, WB_MET_ACC, &rows, &n, &e), 0);
    assert_true(rows[0].config == 0 && rows[0].rank == 1 && rows[1].config == 1 && rows[1].rank == 0 && rows[1].folds == 1);
    free(rows);
    assert_int_equal(wb_search_best(&pl, res, WB_MET_ACC), 0);
    res[0] = NULL;
    assert_int_equal(wb_search_best(&pl, res, WB_MET_ACC), SIZE_MAX);
    for (size_t t = 0; t < 4; t++) wb_trial_result_free(&r[t]);
    wb_plan_free(&pl);

    /* nested: 2 configurations, 2 outer x 2 inner folds */
    static const char *const specs[] = {"filters=4,8"};
    assert_int_equal(make_plan(&pl, 0, 1, 0, 2, 2, specs, 1, &e), 0);
    size_t nt = wb_plan_ntrials(&pl), per = wb_plan_per_config(&pl);
    wb_trial_result *all = calloc(nt, sizeof *all), **rs = calloc(nt, sizeof *rs);
    for (size_t t = 0; t + 1 < nt; t++) {
        wb_trial tr;
        wb_plan_trial(&pl, t, &tr);
        /* inner: config 1 wins in outer fold 0, config 0 in outer fold 1; outer scores 0.5 + 0.1 c + 0.01 o */
        double v = tr.inner < 0 ? 0.5 + 0.1 * (double)tr.config + 0.01 * tr.outer
                                : ((tr.outer == 0) == (tr.config == 1) ? 0.9 : 0.6);
        all[t] = result(t, tr.config, tr.outer, v);
        all[t].inner = tr.inner;
        rs[t] = &all[t];
    }
    wb_nested_fold nf[2];
    assert_int_equal(wb_search_nested(&pl, rs, WB_MET_ACC, nf), 2);
    assert_true(nf[0].config == 1 && nf[1].config == 0);
    assert_true(fabs(nf[0].score - 0.6) < 1e-12 && fabs(nf[1].score - 0.51) < 1e-12 && nf[0].inner_mean == 0.9);
    rs[per + 2 + 1] = NULL; /* an inner trial of config 1, outer 0 */
    assert_int_equal(wb_search_nested(&pl, rs, WB_MET_ACC, nf), 1);
    assert_true(!nf[0].complete && nf[1].complete);
    for (size_t t = 0; t + 1 < nt; t++) wb_trial_result_free(&all[t]);
    free(all), free(rs);
    wb_plan_free(&pl);
}

/* Compare groups: configurations that differ only in embeddings, each mode
 * against learned with the tests of stats.h on the same fold scores. */
static void test_compare(void **state) {
    (void)state;
    static const char *const specs[] = {"model=tutorial,kim", "embeddings=frozen,learned,finetune"};
    wb_plan pl;
    wb_err e;
    assert_int_equal(make_plan(&pl, 0, 0, 0, 4, 0, specs, 2, &e), 0);
    size_t nt = wb_plan_ntrials(&pl), per = wb_plan_per_config(&pl), pe = wb_plan_param_index(&pl, "embeddings");
    assert_int_equal(pe, 1);
    assert_int_equal(wb_plan_param_index(&pl, "lr"), SIZE_MAX);
    wb_trial_result *all = calloc(nt, sizeof *all), **rs = calloc(nt, sizeof *rs);
    for (size_t c = 0; c < pl.nconfigs; c++)
        for (size_t o = 0; o < 4; o++) {
            size_t t = c * per + o;
            all[t] = result(t, c, (int)o, 0.5 + 0.05 * (double)c + 0.01 * (double)(o * o % 3));
            rs[t] = &all[t];
        }
    rs[5 * per + 2] = NULL; /* kim + finetune misses a fold */
    wb_compare_group *g;
    size_t ng;
    assert_int_equal(wb_search_compare(&pl, rs, WB_MET_ACC, pe, "learned", &g, &ng, &e), 0);
    assert_int_equal(ng, 2);
    for (size_t i = 0; i < 2; i++) {
        assert_int_equal(g[i].first, 3 * i);
        assert_int_equal(g[i].base, 3 * i + 1);
        assert_int_equal(g[i].nmodes, 3);
        assert_string_equal(g[i].modes[0].mode, "frozen");
        assert_true(g[i].modes[1].is_base && !g[i].modes[1].tested);
    }
    /* tutorial + frozen vs tutorial + learned: the paired tests of the fold scores */
    const wb_compare_mode *m = &g[0].modes[0];
    double a[4], b[4];
    for (size_t o = 0; o < 4; o++) a[o] = rs[o]->metric[WB_MET_ACC], b[o] = rs[per + o]->metric[WB_MET_ACC];
    wb_paired want;
    assert_int_equal(wb_stats_paired(a, b, 4, 1.0 / 3, &want, &e), 0);
    assert_true(m->tested && m->folds == 4 && m->paired.mean_diff == want.mean_diff && m->paired.p_nb == want.p_nb &&
                m->paired.p_t == want.p_t && m->paired.p_w == want.p_w);
    assert_true(fabs(m->mean - wb_stats_mean(a, 4)) < 1e-15 && m->sd == wb_stats_sd(a, 4));
    assert_true(m->scores[3] == a[3]);
    /* a mode without all its folds is listed, not tested */
    assert_true(g[1].modes[2].folds == 3 && !g[1].modes[2].tested && g[1].modes[0].tested);
    wb_compare_free(g, ng);
    /* a baseline no group has: nothing tested */
    assert_int_equal(wb_search_compare(&pl, rs, WB_MET_ACC, pe, "multichannel", &g, &ng, &e), 0);
    assert_true(ng == 2 && g[0].base == SIZE_MAX && !g[0].modes[0].tested && !g[0].modes[0].is_base);
    wb_compare_free(g, ng);
    assert_int_equal(wb_search_compare(&pl, rs, WB_MET_ACC, 2, "learned", &g, &ng, &e), WB_EUSAGE);
    for (size_t t = 0; t < nt; t++) wb_trial_result_free(&all[t]);
    free(all), free(rs);
    wb_plan_free(&pl);
}

/* ---- workers ------------------------------------------------------------------------------------- */

typedef struct fake {
    size_t fail_at;   /* trial that fails, or SIZE_MAX */
    double sleep_s;   /* per trial */
} fake;

static int fake_trial(void *ctx, size_t t, int (*should_stop)(void *), void *sctx, int *stopped, wb_trial_result *r,
                      wb_err *e) {
    fake *f = ctx;
    if (t == f->fail_at) return wb_err_set(e, WB_EUSAGE, "this trial fails");
    for (double slept = 0; slept < f->sleep_s; slept += 0.01) {
        if (should_stop(sctx)) {
            *stopped = 1;
            return 0;
        }
        struct timespec ts = {0, 10 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    *r = result(t, t / 2, (int)(t % 2), 0.5 + 0.01 * (double)t);
    return 0;
}

static double mono(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void test_workers(void **state) {
    (void)state;
    static const char *const specs[] = {"filters=1,2,3,4,5,6,7,8,9,10"};
    wb_plan pl;
    wb_err e;
    assert_int_equal(make_plan(&pl, 0, 1, 0, 2, 0, specs, 1, &e), 0); /* 20 trials + refit */
    pl.id = 77;
    char *path = tu_path(tu_dir, "workers.jsonl");
    unlink(path);
    size_t trials[20];
    for (size_t i = 0; i < 20; i++) trials[i] = i;
    fake f = {.fail_at = SIZE_MAX, .sleep_s = 0};
    wb_workers_opts o = {.jobs = 3, .log_path = path, .plan_id = pl.id};
    wb_workers_stats st;
    assert_int_equal(wb_search_workers(trials, 20, &o, fake_trial, &f, &st, &e), 0);
    assert_int_equal(st.done, 20);
    wb_trial_result *res[21] = {0};
    wb_triallog_stats ls;
    memset(&ls, 0, sizeof ls);
    assert_int_equal(wb_triallog_read(path, &pl, res, &ls, &e), 0);
    assert_true(ls.records == 20 && ls.duplicates == 0 && ls.torn == 0 && ls.damaged == 0);
    for (size_t t = 0; t < 20; t++) assert_true(res[t] && res[t]->metric[WB_MET_ACC] == 0.5 + 0.01 * (double)t);
    wb_triallog_results_free(res, 21);
    /* a failing trial: reported with its number; the others stop */
    unlink(path);
    f.fail_at = 5;
    assert_int_equal(wb_search_workers(trials, 20, &o, fake_trial, &f, &st, &e), WB_EUSAGE);
    assert_non_null(strstr(e.msg, "trial 5: this trial fails"));
    /* a deadline: trials running then are stopped, not logged */
    unlink(path);
    f.fail_at = SIZE_MAX, f.sleep_s = 0.3;
    o.jobs = 2, o.deadline = mono() + 0.5;
    assert_int_equal(wb_search_workers(trials, 20, &o, fake_trial, &f, &st, &e), 0);
    assert_true(st.timed_out && st.done < 20); /* 20 x 0.3 s on 2 workers cannot fit in 0.5 s */
    memset(&ls, 0, sizeof ls);
    assert_int_equal(wb_triallog_read(path, &pl, res, &ls, &e), 0);
    assert_int_equal(ls.records, st.done);
    wb_triallog_results_free(res, 21);
    free(path);
    wb_plan_free(&pl);
}

/* ---- trials ------------------------------------------------------------------------------------- */

static wb_trial_setup setup_for(wb_model_kind kind) {
    wb_trial_setup s;
    memset(&s, 0, sizeof s);
    wb_model_cfg_init(&s.model, kind);
    s.model.emb = WB_EMB_LEARNED;
    s.model.E = 8, s.model.F = 8, s.model.H = 8, s.model.widths[0] = 3;
    wb_optim_init(&s.optim, WB_OPT_ADAM);
    s.optim.lr = 0.01f;
    s.epochs = 4, s.batch = 32, s.seed = 3, s.threshold = 0.5f;
    return s;
}

static void test_trial_run(void **state) {
    (void)state;
    wb_dataset *ds = build(SENT, NULL, SENT_TEST);
    static const char *const specs[] = {"filters=8"};
    wb_plan pl;
    wb_err e;
    assert_int_equal(make_plan(&pl, 0, 2, 0, 4, 0, specs, 1, &e), 0);
    wb_folds *f;
    assert_int_equal(wb_folds_create(&f, &pl, ds, &e), 0);
    wb_trial_env env = {.ds = ds, .folds = f};
    wb_trial_setup s = setup_for(WB_MODEL_TUTORIAL);
    wb_trial t;
    wb_plan_trial(&pl, 1, &t);
    wb_trial_result r1, r2;
    int stopped;
    assert_int_equal(wb_trial_run(&env, &t, &s, NULL, NULL, &stopped, &r1, &e), 0);
    assert_true(!stopped && r1.trial == 1 && r1.outer == 1 && r1.ntrain == 300 && r1.ntest == 100 && r1.epochs == 4);
    assert_true(r1.metric[WB_MET_ACC] > 0.6 && r1.metric[WB_MET_AUC] > 0.6 && r1.history[3].has_val);
    assert_true(r1.metric[WB_MET_ACC] == r1.metric[WB_MET_P1]); /* binary */
    assert_int_equal(wb_trial_run(&env, &t, &s, NULL, NULL, &stopped, &r2, &e), 0);
    for (int m = 0; m < WB_NMET; m++)
        if (r1.metric[m] == r1.metric[m]) assert_true(r1.metric[m] == r2.metric[m]); /* deterministic */
    wb_trial_result_free(&r1), wb_trial_result_free(&r2);
    /* the refit trains on all 400 and scores on the 100 of the test file */
    wb_plan_trial(&pl, wb_plan_ntrials(&pl) - 1, &t);
    t.config = 0;
    assert_int_equal(wb_trial_run(&env, &t, &s, NULL, NULL, &stopped, &r1, &e), 0);
    assert_true(r1.refit && r1.ntrain == 400 && r1.ntest == 100 && !r1.history[0].has_val);
    wb_trial_result_free(&r1);
    /* checks */
    wb_trial_setup bad = s;
    bad.model.emb = WB_EMB_FROZEN;
    assert_int_equal(wb_trial_check(&env, &bad, &e), WB_EUSAGE);
    assert_non_null(strstr(e.msg, "store"));
    bad = s;
    bad.model.widths[0] = 50; /* > maxlen 20 */
    assert_int_equal(wb_trial_check(&env, &bad, &e), WB_EUSAGE);
    assert_int_equal(wb_trial_check(&env, &s, &e), 0);
    wb_folds_destroy(f);
    wb_plan_free(&pl);
    wb_dataset_destroy(ds);
}

/* Held-out words never seen in training are OOV in the trial.  Example 0
 * alone holds a private word.  Data set A keeps it (min_count 1: an id of
 * its own, whose learned row is never trained); data set B drops it
 * (min_count 2: id 1, OOV).  Every other word is frequent, so both give the
 * same ids and rows to everything else, and the same folds: the trial that
 * holds example 0 out must score exactly alike on both, which it does only
 * if it reads the private word as OOV. */
static wb_dataset *build_min(const char *train, uint64_t min_count) {
    wb_dataset_opts o;
    wb_dataset_opts_init(&o);
    o.train_path = train, o.maxlen = 8, o.min_count = min_count;
    wb_dataset *ds = NULL;
    wb_err e;
    if (wb_dataset_build(&ds, &o, NULL, &e)) fail_msg("dataset: %s", e.msg);
    return ds;
}

/* The trial of plan pl that holds example 0 out (*held0 = 1 when one
 * does), run on ds with a pool model of 2 epochs, into *r. */
static void held_out_trial(wb_dataset *ds, const wb_plan *pl, int *held0, wb_trial_result *r) {
    wb_folds *f;
    wb_err e;
    assert_int_equal(wb_folds_create(&f, pl, ds, &e), 0);
    wb_trial_env env = {.ds = ds, .folds = f};
    wb_trial_setup s = setup_for(WB_MODEL_POOL);
    s.epochs = 2;
    wb_trial t;
    for (size_t o = 0; o < pl->k; o++) {
        wb_plan_trial(pl, o, &t);
        const uint32_t *tr, *te;
        size_t ntr, nte;
        wb_folds_get(f, &t, &tr, &ntr, &te, &nte);
        for (size_t j = 0; j < nte; j++) *held0 |= te[j] == 0;
        if (*held0) break;
    }
    int stopped;
    if (wb_trial_run(&env, &t, &s, NULL, NULL, &stopped, r, &e)) fail_msg("trial: %s", e.msg);
    wb_folds_destroy(f);
}

static double held_out_loss(wb_dataset *ds, const wb_plan *pl, int *held0) {
    wb_trial_result r;
    held_out_trial(ds, pl, held0, &r);
    double loss = r.metric[WB_MET_LOSS];
    wb_trial_result_free(&r);
    return loss;
}

static void test_trial_oov(void **state) {
    (void)state;
    char *path = tu_path(tu_dir, "oov.tsv");
    FILE *fp = fopen(path, "w");
    for (int i = 0; i < 40; i++) {
        int y = i % 2;
        fprintf(fp, "%s%s the movie\t%d\n", i == 0 ? "zzprivate " : "", y ? "good" : "bad", y);
    }
    fclose(fp);
    static const char *const specs[] = {"filters=8"};
    wb_plan pl;
    wb_err e;
    assert_int_equal(make_plan(&pl, 0, 2, 0, 2, 0, specs, 1, &e), 0);
    wb_dataset *a = build_min(path, 1), *b = build_min(path, 2);
    assert_int_equal(wb_vocab_size(wb_dataset_vocab(a)), wb_vocab_size(wb_dataset_vocab(b)) + 1);
    assert_true(wb_ids_at(wb_dataset_ids(a), 0, 0) > 1 && wb_ids_at(wb_dataset_ids(b), 0, 0) == 1); /* the private word: an id / OOV */
    int ha = 0, hb = 0;
    double la = held_out_loss(a, &pl, &ha), lb = held_out_loss(b, &pl, &hb);
    assert_true(ha && hb);
    if (la != lb) fail_msg("held-out loss %.17g with the private word's own id, %.17g with OOV", la, lb);
    wb_dataset_destroy(a);
    wb_dataset_destroy(b);
    wb_plan_free(&pl);
    free(path);
}

/* A data set of two text columns (subject, body: one input each) and a
 * numeric feature, from a CSV whose example 0 has the private word in its
 * body and `links0` as its feature. */
static wb_dataset *build_inputs(const char *path, int links0, uint64_t min_count) {
    FILE *fp = fopen(path, "w");
    fprintf(fp, "label,subject,body,links\n");
    for (int i = 0; i < 40; i++) {
        int y = i % 2;
        fprintf(fp, "%d,%s news,%s%s the movie,%d\n", y, i % 4 < 2 ? "weekly" : "daily", i == 0 ? "zzprivate " : "",
                y ? "good" : "bad", i ? y * 3 + i % 3 : links0);
    }
    fclose(fp);
    static const char *const text[] = {"subject", "body"}, *const feat[] = {"links"};
    static const size_t maxlens[] = {4, 8};
    wb_dataset_opts o;
    wb_dataset_opts_init(&o);
    o.train_path = path, o.maxlen = 4, o.min_count = min_count;
    o.reader.format = WB_READER_CSV, o.reader.label_col = "label";
    o.reader.text_cols = text, o.reader.n_text_cols = 2, o.reader.feature_cols = feat, o.reader.n_feature_cols = 1;
    o.text_mode = WB_TEXT_EACH, o.maxlens = maxlens;
    wb_dataset *ds = NULL;
    wb_err e;
    if (wb_dataset_build(&ds, &o, NULL, &e)) fail_msg("dataset: %s", e.msg);
    return ds;
}

/* A trial over several text inputs and features: the model reads both
 * inputs and the feature; the second input's held-out words unseen in
 * training are OOV (as test_trial_oov for input 0); and the features are
 * standardised on the trial's training rows alone: a held-out example's
 * feature value changes nothing in training (the same training losses,
 * bit for bit), while it does change the held-out loss. */
static void test_trial_inputs(void **state) {
    (void)state;
    char *pa = tu_path(tu_dir, "inputs_a.csv"), *pb = tu_path(tu_dir, "inputs_b.csv");
    static const char *const specs[] = {"filters=8"};
    wb_plan pl;
    wb_err e;
    assert_int_equal(make_plan(&pl, 0, 2, 0, 2, 0, specs, 1, &e), 0);
    wb_dataset *a = build_inputs(pa, 0, 1), *b = build_inputs(pb, 0, 2);
    assert_int_equal(wb_dataset_ninputs(a), 2);
    const wb_dataset_input *ia = wb_dataset_input_get(a, 1), *ib = wb_dataset_input_get(b, 1);
    assert_int_equal(wb_vocab_size(ia->vocab), wb_vocab_size(ib->vocab) + 1);
    assert_true(wb_ids_at(ia->ids, 0, 0) > 1 && wb_ids_at(ib->ids, 0, 0) == 1); /* the private body word: an id / OOV */
    int ha = 0, hb = 0;
    wb_trial_result ra, rb;
    held_out_trial(a, &pl, &ha, &ra);
    held_out_trial(b, &pl, &hb, &rb);
    assert_true(ha && hb);
    if (ra.metric[WB_MET_LOSS] != rb.metric[WB_MET_LOSS])
        fail_msg("held-out loss %.17g with the private body word's own id, %.17g with OOV", ra.metric[WB_MET_LOSS],
                 rb.metric[WB_MET_LOSS]);
    wb_trial_result_free(&rb);
    wb_dataset_destroy(b);
    /* example 0's feature far off: training alike, held-out loss not */
    b = build_inputs(pb, 1000, 1);
    hb = 0;
    held_out_trial(b, &pl, &hb, &rb);
    assert_true(hb && ra.epochs == 2 && rb.epochs == 2);
    for (size_t ep = 0; ep < 2; ep++)
        if (ra.history[ep].loss != rb.history[ep].loss)
            fail_msg("epoch %zu: training loss %.17g vs %.17g: a held-out feature changed the standardisation", ep + 1,
                     ra.history[ep].loss, rb.history[ep].loss);
    assert_true(ra.metric[WB_MET_LOSS] != rb.metric[WB_MET_LOSS]);
    wb_trial_result_free(&ra), wb_trial_result_free(&rb);
    wb_dataset_destroy(a);
    wb_dataset_destroy(b);
    wb_plan_free(&pl);
    free(pa), free(pb);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_params),     cmocka_unit_test(test_grid),      cmocka_unit_test(test_random),
        cmocka_unit_test(test_plan_file),  cmocka_unit_test(test_folds),     cmocka_unit_test(test_log_line),
        cmocka_unit_test(test_log_file),   cmocka_unit_test(test_table),     cmocka_unit_test(test_compare),
        cmocka_unit_test(test_workers),
        cmocka_unit_test(test_trial_run),  cmocka_unit_test(test_trial_oov),   cmocka_unit_test(test_trial_inputs),
    };
    return cmocka_run_group_tests(tests, tu_dir_setup, tu_dir_teardown);
}
