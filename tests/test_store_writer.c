/*
 * test_store_writer.c — specification of writing a store from memory
 * (src/store/store_writer.c over src/store/publish.c).
 *
 * Contains: a written store opens, verifies, and holds the rows, words,
 * norms and meta given; it is the same store `convert` makes of the same
 * rows (equal fingerprint, f32 and f16); rows spanning several output
 * buffers; words that are long, not UTF-8 or hold spaces; the errors
 * (duplicate, empty word, NaN, f16 overflow, no rows, existing target) and
 * that a failed or abandoned writer leaves nothing behind; --force replaces.
 *
 * Leaves out: the model's export built on it (tests/cli/evaluate_commands.sh).
 */
#include <dirent.h>
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
#include "wordbench/floatparse.h"
#include "wordbench/store.h"
#include "wordbench/store_writer.h"

#define E 7u

static uint64_t rng(uint64_t *s) {
    uint64_t z = (*s += 0x9e3779b97f4a7c15u);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
    return z ^ (z >> 31);
}

/* Row r of the test data: exact decimals (k / 1024), so text and memory agree. */
static void row_of(uint32_t r, float *v) {
    uint64_t s = r * 7919u + 1;
    for (uint32_t j = 0; j < E; j++) v[j] = (float)((int)(rng(&s) % 4001) - 2000) / 1024.0f;
}

/* Number of entries in dir (besides . and ..). */
static int entries(const char *dir) {
    DIR *d = opendir(dir);
    if (!d) return -1;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        n += strcmp(e->d_name, ".") && strcmp(e->d_name, "..");
    closedir(d);
    return n;
}

/* Write rows of words w%u with the writer; returns its fingerprint. */
static uint64_t write_rows(const char *store, uint32_t rows, wb_dtype dt) {
    wb_store_writer_opts o;
    wb_store_writer_opts_init(&o);
    o.dtype = dt;
    o.source = "unit";
    wb_store_writer *w;
    wb_err e;
    wb_err_clear(&e);
    assert_int_equal(wb_store_writer_open(&w, store, E, &o, &e), 0);
    float v[E];
    char word[32];
    for (uint32_t r = 0; r < rows; r++) {
        row_of(r, v);
        int n = snprintf(word, sizeof word, "w%u", r);
        assert_int_equal(wb_store_writer_add(w, word, (size_t)n, v, &e), 0);
    }
    assert_int_equal(wb_store_writer_rows(w), rows);
    uint64_t fpr = 0;
    int rc = wb_store_writer_commit(w, &fpr, &e);
    if (rc) fail_msg("commit: %s", e.msg);
    wb_store_writer_close(w);
    return fpr;
}

/* The same rows as GloVe text, converted. */
static uint64_t convert_rows(const char *dir, const char *store, uint32_t rows, wb_dtype dt) {
    char *txt = tu_path(dir, "rows.txt");
    FILE *f = fopen(txt, "w");
    float v[E];
    for (uint32_t r = 0; r < rows; r++) {
        row_of(r, v);
        fprintf(f, "w%u", r);
        for (uint32_t j = 0; j < E; j++) fprintf(f, " %.9g", (double)v[j]);
        fputc('\n', f);
    }
    fclose(f);
    wb_convert_opts o;
    wb_convert_opts_init(&o);
    o.dtype = dt;
    wb_convert_stats st;
    wb_err e;
    wb_err_clear(&e);
    assert_int_equal(wb_convert(txt, store, &o, &st, &e), 0);
    free(txt);
    return st.fingerprint;
}

static void test_roundtrip_and_same_as_convert(void **state) {
    (void)state;
    char *dir = tu_tmpdir(), *a = tu_path(dir, "written"), *b = tu_path(dir, "converted");
    const uint32_t rows = 50000; /* 1.4 MB of vectors: several output buffers */
    uint64_t fw = write_rows(a, rows, WB_DTYPE_F32), fc = convert_rows(dir, b, rows, WB_DTYPE_F32);
    assert_true(fw == fc);
    wb_store *st;
    wb_err e;
    wb_err_clear(&e);
    assert_int_equal(wb_store_open(&st, a, &e), 0);
    const wb_store_info *in = wb_store_info_get(st);
    assert_int_equal(in->rows, rows);
    assert_int_equal(in->dim, E);
    assert_int_equal(in->dtype, WB_DTYPE_F32);
    assert_string_equal(in->source, "unit");
    assert_string_equal(in->source_format, "model");
    assert_true(in->fingerprint == fw);
    wb_verify_report rep;
    assert_int_equal(wb_store_verify(st, &rep, NULL, NULL, &e), 0);
    float v[E], g[E];
    for (uint32_t r = 0; r < rows; r += 997) {
        char word[32];
        int n = snprintf(word, sizeof word, "w%u", r);
        uint32_t row;
        assert_int_equal(wb_store_lookup(st, word, (size_t)n, &row), 0);
        assert_int_equal(row, r);
        row_of(r, v);
        assert_int_equal(wb_store_gather(st, 1, &r, g), 0);
        assert_memory_equal(v, g, sizeof v);
        double ss = 0;
        for (uint32_t j = 0; j < E; j++) ss += (double)v[j] * v[j];
        assert_true(wb_store_norms(st)[r] == (float)sqrt(ss));
    }
    wb_store_close(st);
    tu_rmrf(dir);
    free(a), free(b), free(dir);
}

static void test_f16_same_as_convert(void **state) {
    (void)state;
    char *dir = tu_tmpdir(), *a = tu_path(dir, "w16"), *b = tu_path(dir, "c16");
    assert_true(write_rows(a, 300, WB_DTYPE_F16) == convert_rows(dir, b, 300, WB_DTYPE_F16));
    wb_store *st;
    wb_err e;
    assert_int_equal(wb_store_open(&st, a, &e), 0);
    assert_int_equal(wb_store_info_get(st)->dtype, WB_DTYPE_F16);
    wb_store_close(st);
    tu_rmrf(dir);
    free(a), free(b), free(dir);
}

static void test_odd_words(void **state) {
    (void)state;
    char *dir = tu_tmpdir(), *s = tu_path(dir, "odd");
    wb_store_writer *w;
    wb_err e;
    wb_err_clear(&e);
    assert_int_equal(wb_store_writer_open(&w, s, E, NULL, &e), 0);
    char longw[700];
    memset(longw, 'x', sizeof longw);
    const char *words[] = {"new york", "caf\xc3\xa9", "\xff\xfe", longw};
    const size_t lens[] = {8, 5, 2, sizeof longw};
    float v[E];
    for (int i = 0; i < 4; i++) {
        row_of((uint32_t)i, v);
        assert_int_equal(wb_store_writer_add(w, words[i], lens[i], v, &e), 0);
    }
    assert_int_equal(wb_store_writer_commit(w, NULL, &e), 0);
    wb_store_writer_close(w);
    wb_store *st;
    assert_int_equal(wb_store_open(&st, s, &e), 0);
    assert_int_equal(wb_store_info_get(st)->invalid_utf8, 1);
    assert_int_equal(wb_store_info_get(st)->long_words, 1);
    for (uint32_t i = 0; i < 4; i++) {
        uint32_t row;
        assert_int_equal(wb_store_lookup(st, words[i], lens[i], &row), 0);
        assert_int_equal(row, i);
    }
    wb_store_close(st);
    tu_rmrf(dir);
    free(s), free(dir);
}

static void test_errors_leave_nothing(void **state) {
    (void)state;
    char *dir = tu_tmpdir(), *s = tu_path(dir, "bad");
    wb_store_writer *w;
    wb_err e;
    float v[E];
    row_of(1, v);
    wb_err_clear(&e);
    assert_int_equal(wb_store_writer_open(&w, s, E, NULL, &e), 0);
    assert_int_equal(wb_store_writer_add(w, "a", 1, v, &e), 0);
    assert_int_equal(wb_store_writer_add(w, "a", 1, v, &e), WB_EDUP);
    assert_non_null(strstr(e.msg, "'a'"));
    assert_int_equal(wb_store_writer_add(w, "", 0, v, &e), WB_EUSAGE);
    v[3] = NAN;
    assert_int_equal(wb_store_writer_add(w, "b", 1, v, &e), WB_EFORMAT);
    assert_non_null(strstr(e.msg, "non-finite"));
    wb_store_writer_close(w); /* abandoned: nothing left */
    assert_int_equal(entries(dir), 0);

    wb_store_writer_opts o;
    wb_store_writer_opts_init(&o);
    o.dtype = WB_DTYPE_F16;
    row_of(1, v);
    v[0] = 1e6f;
    assert_int_equal(wb_store_writer_open(&w, s, E, &o, &e), 0);
    assert_int_equal(wb_store_writer_add(w, "big", 3, v, &e), WB_EFORMAT);
    assert_non_null(strstr(e.msg, "float16"));
    assert_int_equal(wb_store_writer_commit(w, NULL, &e), WB_EEMPTY);
    wb_store_writer_close(w);
    assert_int_equal(entries(dir), 0);

    assert_int_equal(wb_store_writer_open(&w, s, 0, NULL, &e), WB_EUSAGE);
    wb_store_writer_close(w);
    assert_int_equal(entries(dir), 0);
    tu_rmrf(dir);
    free(s), free(dir);
}

static void test_existing_target(void **state) {
    (void)state;
    char *dir = tu_tmpdir(), *s = tu_path(dir, "st"), *other = tu_path(dir, "notastore");
    write_rows(s, 10, WB_DTYPE_F32);
    wb_store_writer *w;
    wb_err e;
    wb_err_clear(&e);
    assert_int_equal(wb_store_writer_open(&w, s, E, NULL, &e), WB_EEXIST);
    wb_store_writer_close(w);
    /* force replaces it atomically */
    wb_store_writer_opts o;
    wb_store_writer_opts_init(&o);
    o.force = 1;
    assert_int_equal(wb_store_writer_open(&w, s, E, &o, &e), 0);
    float v[E];
    row_of(5, v);
    assert_int_equal(wb_store_writer_add(w, "only", 4, v, &e), 0);
    assert_int_equal(wb_store_writer_commit(w, NULL, &e), 0);
    wb_store_writer_close(w);
    wb_store *st;
    assert_int_equal(wb_store_open(&st, s, &e), 0);
    assert_int_equal(wb_store_info_get(st)->rows, 1);
    wb_store_close(st);
    assert_int_equal(entries(dir), 1);
    /* never replaces something that is not a store */
    assert_int_equal(tu_write_file(other, "x", 1), 0);
    assert_int_equal(wb_store_writer_open(&w, other, E, &o, &e), WB_EEXIST);
    wb_store_writer_close(w);
    tu_rmrf(dir);
    free(s), free(other), free(dir);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_roundtrip_and_same_as_convert),
        cmocka_unit_test(test_f16_same_as_convert),
        cmocka_unit_test(test_odd_words),
        cmocka_unit_test(test_errors_leave_nothing),
        cmocka_unit_test(test_existing_target),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
