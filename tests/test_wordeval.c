/*
 * test_wordeval.c — specification of the word benchmarks
 * (src/store/wordeval.c): equal to gensim 4.2.
 *
 * Contains: every configuration in fixtures/wordeval/expected.txt (made by
 * tools/make_wordeval_fixtures.py from gensim's evaluate_word_analogies /
 * evaluate_word_pairs on the fixture vectors: default, restrict_vocab 2000,
 * case-sensitive, dummy4unknown, 3CosMul) — per section correct and
 * incorrect counts, questions and out-of-vocabulary counts exactly, the
 * correlations to 1e-6 and their p-values to 1e-3 relative; the same
 * numbers from an in-memory matrix view and from a store view with rows
 * replaced (against a store converted with those rows); an f16 store
 * against the matrix of its own values; several row blocks; file errors
 * with file:line.
 *
 * Expected file format (one record per line):
 *   config NAME RESTRICT CASE_SENSITIVE DUMMY4UNKNOWN METHOD
 *   section CORRECT INCORRECT NAME
 *   total CORRECT INCORRECT QUESTIONS OOV
 *   pairs PEARSON PEARSON_P SPEARMAN SPEARMAN_P OOV_RATIO
 *
 * Leaves out: the live comparison with an installed gensim and the CLI
 * (tests/cli/evaluate_commands.sh).
 */
#include <errno.h>
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
#include "wordbench/convert.h"
#include "wordbench/store.h"
#include "wordbench/wordeval.h"

#define FX WB_FIXTURES "/wordeval/"

static char *tmp;        /* the test's directory */
static wb_store *st;     /* fixtures/wordeval/vectors.txt converted */

static int setup(void **state) {
    (void)state;
    tmp = tu_tmpdir();
    char *s = tu_path(tmp, "fx.store");
    wb_err e;
    wb_err_clear(&e);
    if (wb_convert(FX "vectors.txt", s, NULL, NULL, &e) || wb_store_open(&st, s, &e)) return -1;
    free(s);
    return 0;
}

static int teardown(void **state) {
    (void)state;
    wb_store_close(st);
    tu_rmrf(tmp);
    free(tmp);
    return 0;
}

static wb_wordtests *tests_for(int case_sensitive) {
    wb_wordtests *t;
    wb_err e;
    wb_err_clear(&e);
    assert_int_equal(wb_wordtests_create(&t, case_sensitive, &e), 0);
    if (wb_wordtests_add_analogies(t, FX "questions.txt", &e) || wb_wordtests_add_pairs(t, FX "pairs.tsv", &e))
        fail_msg("reading the fixtures: %s", e.msg);
    return t;
}

static void run(const wb_wordvecs *v, const wb_wordtests *t, uint64_t restrict_vocab, int dummy, int mul,
                wb_wordeval_result *r) {
    wb_wordeval_opts o;
    wb_wordeval_opts_init(&o);
    o.restrict_vocab = restrict_vocab;
    o.dummy4unknown = dummy;
    o.method = mul ? WB_ANALOGY_MUL : WB_ANALOGY_ADD;
    wb_err e;
    wb_err_clear(&e);
    int rc = wb_wordeval_run(v, t, &o, r, &e);
    if (rc) fail_msg("wb_wordeval_run: %s", e.msg);
}

static void near(double got, double want, double tol, const char *cfg, const char *what) {
    if (!(fabs(got - want) <= tol)) fail_msg("%s: %s: wordbench %.17g, gensim %.17g", cfg, what, got, want);
}

static void test_gensim_expected(void **state) {
    (void)state;
    FILE *f = fopen(FX "expected.txt", "r");
    assert_non_null(f);
    char line[1024], cfg[64] = "", method[8];
    wb_wordtests *t = NULL;
    wb_wordeval_result r;
    memset(&r, 0, sizeof r);
    size_t sec = 0;
    int configs = 0;
    while (fgets(line, sizeof line, f)) {
        unsigned long long restrict_vocab, a, b, c, d;
        int cs, dummy;
        char name[256];
        double pe, pep, sp, spp, oovr;
        if (sscanf(line, "config %63s %llu %d %d %7s", cfg, &restrict_vocab, &cs, &dummy, method) == 5) {
            wb_wordeval_result_free(&r);
            wb_wordtests_destroy(t);
            t = tests_for(cs);
            wb_wordvecs v = {.store = st};
            run(&v, t, restrict_vocab, dummy, !strcmp(method, "mul"), &r);
            assert_int_equal(r.nanalogies, 1);
            assert_int_equal(r.npairs, 1);
            sec = 0;
            configs++;
        } else if (sscanf(line, "section %llu %llu %255s", &a, &b, name) == 3) {
            assert_true(sec < r.analogies[0].nsections);
            const wb_analogy_section *s = &r.analogies[0].sections[sec++];
            assert_string_equal(s->name, name);
            if (s->correct != a || s->incorrect != b)
                fail_msg("%s: section %s: wordbench %llu right %llu wrong, gensim %llu %llu", cfg, name,
                         (unsigned long long)s->correct, (unsigned long long)s->incorrect, a, b);
        } else if (sscanf(line, "total %llu %llu %llu %llu", &a, &b, &c, &d) == 4) {
            const wb_analogy_result *ar = &r.analogies[0];
            assert_int_equal(sec, ar->nsections);
            assert_int_equal(ar->total.correct, a);
            assert_int_equal(ar->total.incorrect, b);
            assert_int_equal(ar->questions, c);
            assert_int_equal(ar->oov, d);
            assert_int_equal(ar->invalid, 3); /* the fixture's lines of 3, 5 and 0 words */
        } else if (sscanf(line, "pairs %lf %lf %lf %lf %lf", &pe, &pep, &sp, &spp, &oovr) == 5) {
            const wb_pairs_result *p = &r.pairs[0];
            near(p->pearson, pe, 1e-6, cfg, "pearson");
            near(p->spearman, sp, 1e-6, cfg, "spearman");
            near(p->pearson_p, pep, 1e-3 * pep, cfg, "pearson p");
            near(p->spearman_p, spp, 1e-3 * spp, cfg, "spearman p");
            near(p->oov_ratio, oovr, 1e-9, cfg, "oov ratio");
            assert_int_equal(p->invalid, 3); /* 2 fields, 4 fields, 'seven' */
        }
    }
    fclose(f);
    assert_int_equal(configs, 6);
    wb_wordeval_result_free(&r);
    wb_wordtests_destroy(t);
}

/* Every count and correlation of two results, exactly. */
static void same_results(const wb_wordeval_result *a, const wb_wordeval_result *b) {
    assert_int_equal(a->vocab, b->vocab);
    for (size_t f = 0; f < a->nanalogies; f++) {
        const wb_analogy_result *x = &a->analogies[f], *y = &b->analogies[f];
        for (size_t s = 0; s < x->nsections; s++) {
            assert_int_equal(x->sections[s].correct, y->sections[s].correct);
            assert_int_equal(x->sections[s].incorrect, y->sections[s].incorrect);
        }
        assert_int_equal(x->oov, y->oov);
    }
    for (size_t f = 0; f < a->npairs; f++) {
        assert_true(a->pairs[f].pearson == b->pairs[f].pearson);
        assert_true(a->pairs[f].spearman == b->pairs[f].spearman);
        assert_int_equal(a->pairs[f].pairs, b->pairs[f].pairs);
    }
}

/* The store's rows and words as an in-memory matrix. */
typedef struct matrix {
    float *m;
    const char **w;
    size_t *l;
    uint64_t rows;
    uint32_t dim;
} matrix;

static void matrix_of(wb_store *s, matrix *x) {
    const wb_store_info *in = wb_store_info_get(s);
    x->rows = in->rows, x->dim = in->dim;
    x->m = malloc(in->rows * in->dim * sizeof(float));
    x->w = malloc(in->rows * sizeof *x->w);
    x->l = malloc(in->rows * sizeof *x->l);
    for (uint32_t r = 0; r < in->rows; r++) {
        assert_int_equal(wb_store_gather(s, 1, &r, x->m + (size_t)r * in->dim), 0);
        assert_int_equal(wb_store_word(s, r, &x->w[r], &x->l[r]), 0);
    }
}

static void matrix_free(matrix *x) {
    free(x->m), free(x->w), free(x->l);
}

static void test_matrix_view_equals_store(void **state) {
    (void)state;
    matrix x;
    matrix_of(st, &x);
    wb_wordtests *t = tests_for(0);
    for (int mul = 0; mul < 2; mul++) {
        wb_wordeval_result a, b;
        wb_wordvecs vs = {.store = st};
        wb_wordvecs vm = {.rows = x.rows, .dim = x.dim, .mat = x.m, .words = x.w, .lens = x.l};
        run(&vs, t, 0, 0, mul, &a);
        run(&vm, t, 0, 0, mul, &b);
        assert_int_equal(a.vocab, 2600);
        same_results(&a, &b);
        wb_wordeval_result_free(&a);
        wb_wordeval_result_free(&b);
    }
    wb_wordtests_destroy(t);
    matrix_free(&x);
}

/* Rows replaced in the view = the same rows replaced in the store itself. */
static void test_overrides_equal_rewritten_store(void **state) {
    (void)state;
    matrix x;
    matrix_of(st, &x);
    const uint32_t rows[] = {3, 10, 700, 1024, 1800, 2599}; /* incl. block edges, a question word variant */
    const size_t n = sizeof rows / sizeof rows[0];
    float *ov = malloc(n * x.dim * sizeof *ov);
    uint64_t s = 99;
    for (size_t i = 0; i < n; i++) /* a different, exactly printable vector */
        for (uint32_t j = 0; j < x.dim; j++) {
            s = s * 6364136223846793005u + 1442695040888963407u;
            ov[i * x.dim + j] = (float)((int)(s >> 40 & 0x3ff) - 512) / 256.0f;
            x.m[(size_t)rows[i] * x.dim + j] = ov[i * x.dim + j];
        }
    char *txt = tu_path(tmp, "rewritten.txt"), *sp = tu_path(tmp, "rewritten.store");
    FILE *f = fopen(txt, "w");
    for (uint64_t r = 0; r < x.rows; r++) {
        fprintf(f, "%.*s", (int)x.l[r], x.w[r]);
        for (uint32_t j = 0; j < x.dim; j++) fprintf(f, " %.9g", (double)x.m[r * x.dim + j]);
        fputc('\n', f);
    }
    fclose(f);
    wb_store *st2;
    wb_err e;
    assert_int_equal(wb_convert(txt, sp, NULL, NULL, &e), 0);
    assert_int_equal(wb_store_open(&st2, sp, &e), 0);
    wb_wordtests *t = tests_for(0);
    wb_wordeval_result a, b;
    wb_wordvecs vo = {.store = st, .noverride = n, .override_rows = rows, .override_vecs = ov};
    wb_wordvecs v2 = {.store = st2};
    run(&vo, t, 0, 1, 0, &a);
    run(&v2, t, 0, 1, 0, &b);
    same_results(&a, &b);
    wb_wordeval_result_free(&a);
    wb_wordeval_result_free(&b);
    /* a list that is not ascending is refused */
    const uint32_t bad[] = {5, 4};
    wb_wordvecs vb = {.store = st, .noverride = 2, .override_rows = bad, .override_vecs = ov};
    wb_wordeval_opts o;
    wb_wordeval_opts_init(&o);
    assert_int_equal(wb_wordeval_run(&vb, t, &o, &a, &e), WB_EUSAGE);
    wb_wordeval_result_free(&a);
    wb_wordtests_destroy(t);
    wb_store_close(st2);
    free(ov), free(txt), free(sp);
    matrix_free(&x);
}

static void test_f16_store(void **state) {
    (void)state;
    char *sp = tu_path(tmp, "f16.store");
    wb_convert_opts co;
    wb_convert_opts_init(&co);
    co.dtype = WB_DTYPE_F16;
    wb_err e;
    assert_int_equal(wb_convert(FX "vectors.txt", sp, &co, NULL, &e), 0);
    wb_store *s16;
    assert_int_equal(wb_store_open(&s16, sp, &e), 0);
    matrix x;
    matrix_of(s16, &x);
    wb_wordtests *t = tests_for(0);
    wb_wordeval_result a, b;
    wb_wordvecs vs = {.store = s16};
    wb_wordvecs vm = {.rows = x.rows, .dim = x.dim, .mat = x.m, .words = x.w, .lens = x.l};
    run(&vs, t, 2000, 0, 0, &a);
    run(&vm, t, 2000, 0, 0, &b);
    same_results(&a, &b);
    assert_true(a.analogies[0].total.correct > 50); /* f16 keeps the planted structure */
    wb_wordeval_result_free(&a);
    wb_wordeval_result_free(&b);
    wb_wordtests_destroy(t);
    matrix_free(&x);
    wb_store_close(s16);
    free(sp);
}

static void expect_error(const char *content, size_t n, int pairs, int code, long long line, const char *msg) {
    char *p = tu_path(tmp, "bad.txt");
    assert_int_equal(tu_write_file(p, content, n), 0);
    wb_wordtests *t;
    wb_err e;
    wb_err_clear(&e);
    assert_int_equal(wb_wordtests_create(&t, 0, &e), 0);
    int rc = pairs ? wb_wordtests_add_pairs(t, p, &e) : wb_wordtests_add_analogies(t, p, &e);
    assert_int_equal(rc, code);
    assert_int_equal(e.line, line);
    assert_string_equal(e.file, p);
    if (msg) assert_non_null(strstr(e.msg, msg));
    wb_wordtests_destroy(t);
    free(p);
}

static void test_file_errors(void **state) {
    (void)state;
    expect_error("\n: s\na b c d\n", 12, 0, WB_EFORMAT, 1, "before the first section");
    expect_error("a b c d\n", 8, 0, WB_EFORMAT, 1, "before the first section");
    expect_error(": s\na b c d\na \xff c d\n", 21, 0, WB_EFORMAT, 3, "UTF-8");
    expect_error("# c\ra\tb\t1\rx\t\xc3(\t2\n", 18, 1, WB_EFORMAT, 3, "UTF-8"); /* lone CR ends lines */
    wb_wordtests *t;
    wb_err e;
    assert_int_equal(wb_wordtests_create(&t, 0, &e), 0);
    assert_int_equal(wb_wordtests_add_pairs(t, FX "no-such-file.tsv", &e), ENOENT);
    assert_int_equal(wb_wordtests_add_analogies(t, FX "no-such-file.txt", &e), ENOENT);
    wb_wordtests_destroy(t);
}

typedef struct prog {
    uint64_t last, total, calls;
} prog;

static void on_progress(void *ud, uint64_t done, uint64_t total) {
    prog *p = ud;
    assert_true(done > p->last && done <= total);
    p->last = done, p->total = total, p->calls++;
}

static void test_progress_and_no_questions_seen(void **state) {
    (void)state;
    wb_wordtests *t = tests_for(0);
    wb_wordeval_opts o;
    wb_wordeval_opts_init(&o);
    prog p = {0, 0, 0};
    o.progress = on_progress;
    o.ud = &p;
    wb_wordeval_result r;
    wb_err e;
    wb_wordvecs v = {.store = st};
    assert_int_equal(wb_wordeval_run(&v, t, &o, &r, &e), 0);
    assert_int_equal(p.total, 2600);
    assert_int_equal(p.last, 2600);
    assert_int_equal(p.calls, 3); /* blocks of 1024 rows */
    wb_wordeval_result_free(&r);
    /* a vocabulary of 5 rows: every question is out of it, no correlation */
    o.restrict_vocab = 5;
    o.progress = NULL;
    assert_int_equal(wb_wordeval_run(&v, t, &o, &r, &e), 0);
    assert_int_equal(r.analogies[0].oov, r.analogies[0].questions);
    assert_int_equal(r.analogies[0].total.correct + r.analogies[0].total.incorrect, 0);
    assert_true(r.analogies[0].total.accuracy == 0);
    assert_true(isnan(r.pairs[0].pearson) && isnan(r.pairs[0].spearman));
    assert_true(r.pairs[0].oov_ratio == 100);
    wb_wordeval_result_free(&r);
    wb_wordtests_destroy(t);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_gensim_expected),
        cmocka_unit_test(test_matrix_view_equals_store),
        cmocka_unit_test(test_overrides_equal_rewritten_store),
        cmocka_unit_test(test_f16_store),
        cmocka_unit_test(test_file_errors),
        cmocka_unit_test(test_progress_and_no_questions_seen),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
