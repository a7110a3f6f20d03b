/*
 * test_store.c — specification of the store reader (src/store/store.c).
 *
 * Contains: stores built with wb_convert from small texts written here, then
 * opened and read back: every wb_store_info field, word -> row and row ->
 * word look-ups (found, missing, empty, not NUL-terminated, hashed long
 * keys), rows, norms (the L2 norm of each row), gather in f32 and f16,
 * verification; opening read-only stores (permission bits, and a child that
 * drops root so they really bind) and never creating an LMDB lock file;
 * damaged stores — truncated, extended, bad magic, missing files, truncated or
 * garbage LMDB data, not a store, missing — each of which must give a clear
 * error and never crash (every damaged open runs in a forked child, so a
 * SIGBUS or SIGSEGV is reported as a failure instead of killing the runner);
 * verification catching a flipped byte in the vectors and in the norms; the
 * index checks (src/store/mdbcheck.h): the recorded map size, damaged meta
 * and root pages refused at open, a damaged page below the roots found by
 * WB_STORE_OPEN_VERIFY and verify, the checksum file (missing, damaged, not
 * matching), stores of format 1, a word whose row is past the matrix, FIFOs
 * planted as store files (no hang), and
 * hundreds of single-byte flips of data.mdb that never crash; and
 * numpy reading vectors.npy / norms.npy (skipped without /usr/bin/python3 +
 * numpy).
 *
 * Leaves out: the converter's parsing rules (test_convert.c), similarity
 * search, the CLI (the scripts in tests/cli).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "testutil.h"
#include "wordbench/convert.h"
#include "wordbench/err.h"
#include "wordbench/npy.h"
#include "wordbench/store.h"

#include <lmdb.h>

#include "store/mdbcheck.h"
#include "store/store_int.h"

#ifndef WB_PYTHON
#define WB_PYTHON "/usr/bin/python3" /* the system python, where numpy is installed */
#endif

/* ---- the test data ------------------------------------------------------ */

/* Words of the small store, in input (= row) order.  "café" is UTF-8. */
static const char *const WORDS[] = {"the", "of", "king", "queen", "caf\xc3\xa9", "a_b-c", "x", "w1"};
#define R ((uint32_t)(sizeof WORDS / sizeof WORDS[0]))
#define D 5u

/* Value (i, j): a multiple of 1/8 in [-1.125, 1.375], never 0, exact in f16
 * and printed exactly by %g, so f32 and f16 stores hold it bit for bit. */
static float value(uint32_t i, uint32_t j) {
    return (float)((int)((i * 3 + j * 7) % 11) - 5) * 0.25f + 0.125f;
}

static double l2(uint32_t i) {
    double s = 0;
    for (uint32_t j = 0; j < D; j++) s += (double)value(i, j) * value(i, j);
    return sqrt(s);
}

/* The glove text of the small store (malloc'd). */
static char *small_text(size_t *len) {
    size_t cap = 4096, n = 0;
    char *t = malloc(cap);
    assert_non_null(t);
    for (uint32_t i = 0; i < R; i++) {
        n += (size_t)snprintf(t + n, cap - n, "%s", WORDS[i]);
        for (uint32_t j = 0; j < D; j++) n += (size_t)snprintf(t + n, cap - n, " %g", (double)value(i, j));
        n += (size_t)snprintf(t + n, cap - n, "\n");
        assert_true(n < cap);
    }
    *len = n;
    return t;
}

/* Every temporary directory made here, removed again by the group teardown
 * even when a test failed half-way (fail_msg leaves the test by longjmp). */
static char *g_dirs[256];
static int g_ndirs;

static char *tmpdir_tracked(void) {
    char *d = tu_tmpdir();
    assert_non_null(d);
    if (g_ndirs < (int)(sizeof g_dirs / sizeof g_dirs[0])) g_dirs[g_ndirs++] = strdup(d);
    return d;
}

/* Make a tree writable again (a test may have made it read-only) and remove it. */
static void rm_tree(const char *dir) {
    char cmd[1200];
    snprintf(cmd, sizeof cmd, "chmod -R u+rwX '%s' 2>/dev/null", dir);
    (void)tu_run(cmd, NULL, NULL);
    tu_rmrf(dir);
}

static int remove_all_dirs(void **state) {
    (void)state;
    for (int i = 0; i < g_ndirs; i++) {
        if (access(g_dirs[i], F_OK) == 0) rm_tree(g_dirs[i]);
        free(g_dirs[i]);
    }
    g_ndirs = 0;
    return 0;
}

/* One test's working directory with a store built in it. */
typedef struct fx {
    char *dir;       /* temp dir (0755 so an unprivileged child can enter) */
    char *store;     /* dir/store */
    size_t text_len; /* bytes of the input */
    time_t t0, t1;   /* around the convert */
    wb_convert_stats stats;
} fx;

/* Write `text` to dir/input.txt and convert it into dir/<name>. */
static char *convert_text(fx *f, const char *name, const char *text, size_t len, wb_dtype dt, int normalize) {
    char *in = tu_path(f->dir, "input.txt");
    assert_int_equal(tu_write_file(in, text, len), 0);
    char *store = tu_path(f->dir, name);
    wb_convert_opts o;
    wb_convert_opts_init(&o);
    o.dtype = dt;
    o.normalize = normalize;
    o.threads = 2;
    wb_err e;
    wb_err_clear(&e);
    f->t0 = time(NULL);
    int rc = wb_convert(in, store, &o, &f->stats, &e);
    f->t1 = time(NULL);
    if (rc) fail_msg("wb_convert(%s) failed: %d %s: %s", in, rc, wb_strerror(rc), e.msg);
    free(in);
    return store;
}

static fx *fx_new(wb_dtype dt) {
    fx *f = calloc(1, sizeof *f);
    assert_non_null(f);
    f->dir = tmpdir_tracked();
    chmod(f->dir, 0755);
    char *text = small_text(&f->text_len);
    f->store = convert_text(f, "store", text, f->text_len, dt, 0);
    free(text);
    return f;
}

/* Undo any chmod a test made, then remove everything. */
static void fx_free(fx *f) {
    if (!f) return;
    rm_tree(f->dir);
    free(f->store);
    free(f->dir);
    free(f);
}

static wb_store *open_ok(const char *dir) {
    wb_store *st = NULL;
    wb_err e;
    wb_err_clear(&e);
    int rc = wb_store_open(&st, dir, &e);
    if (rc) fail_msg("wb_store_open(%s): %d %s: %s: %s", dir, rc, wb_strerror(rc), e.file, e.msg);
    assert_non_null(st);
    return st;
}

static char *spath(const char *store, const char *rel) {
    return tu_path(store, rel);
}

static off_t file_size(const char *path) {
    struct stat sb;
    if (stat(path, &sb)) fail_msg("stat %s: %s", path, strerror(errno));
    return sb.st_size;
}

/* ---- open and info ------------------------------------------------------ */

static void test_open_info(void **state) {
    (void)state;
    fx *f = fx_new(WB_DTYPE_F32);
    wb_store *st = open_ok(f->store);
    const wb_store_info *in = wb_store_info_get(st);
    assert_int_equal(in->format_version, WB_STORE_FORMAT_VERSION);
    assert_int_equal(in->rows, R);
    assert_int_equal(in->dim, D);
    assert_int_equal(in->dtype, WB_DTYPE_F32);
    assert_int_equal(in->normalized, 0);
    assert_string_equal(in->source, "input.txt"); /* base name only */
    assert_string_equal(in->source_format, "glove");
    assert_int_equal(in->source_bytes, f->text_len);
    assert_int_equal(in->source_gzip, 0);
    assert_int_equal(in->duplicates, 0);
    assert_int_equal(in->skipped, 0);
    assert_int_equal(in->invalid_utf8, 0);
    assert_int_equal(in->long_words, 0);
    if ((time_t)in->created < f->t0 || (time_t)in->created > f->t1)
        fail_msg("created %llu is not within the convert [%lld, %lld]", (unsigned long long)in->created,
                 (long long)f->t0, (long long)f->t1);
    assert_true(in->fingerprint != 0);
    assert_true(in->fingerprint == f->stats.fingerprint);
    assert_int_equal(in->nblocks, 1);

    char *v = spath(f->store, "vectors.npy"), *n = spath(f->store, "norms.npy"),
         *d = spath(f->store, "index.lmdb/data.mdb");
    assert_int_equal(in->vectors_bytes, WB_NPY_DATA_OFFSET + R * D * 4);
    assert_int_equal(in->vectors_bytes, file_size(v));
    assert_int_equal(in->norms_bytes, WB_NPY_DATA_OFFSET + R * 4);
    assert_int_equal(in->norms_bytes, file_size(n));
    assert_int_equal(in->index_bytes, file_size(d));
    wb_store_close(st);

    /* Same store, same fingerprint; another content, another fingerprint. */
    st = open_ok(f->store);
    uint64_t fp1 = wb_store_info_get(st)->fingerprint;
    wb_store_close(st);
    assert_true(fp1 == f->stats.fingerprint);
    const char other[] = "a 1 2 3 4 5\nb 5 4 3 2 1\n";
    char *s2 = convert_text(f, "other", other, sizeof other - 1, WB_DTYPE_F32, 0);
    st = open_ok(s2);
    assert_true(wb_store_info_get(st)->fingerprint != fp1);
    assert_int_equal(wb_store_info_get(st)->rows, 2);
    wb_store_close(st);
    free(s2);
    free(v), free(n), free(d);
    fx_free(f);
}

static void test_open_normalized(void **state) {
    (void)state;
    fx *f = calloc(1, sizeof *f);
    f->dir = tmpdir_tracked();
    size_t len;
    char *text = small_text(&len);
    char *s = convert_text(f, "norm", text, len, WB_DTYPE_F32, 1);
    wb_store *st = open_ok(s);
    const wb_store_info *in = wb_store_info_get(st);
    assert_int_equal(in->normalized, 1);
    const float *nr = wb_store_norms(st);
    for (uint32_t i = 0; i < R; i++) {
        if (fabs(nr[i] - 1.0) > 1e-6) fail_msg("normalized row %u has stored norm %.9g", i, nr[i]);
        const float *row = wb_store_row(st, i);
        for (uint32_t j = 0; j < D; j++)
            if (fabs(row[j] - value(i, j) / l2(i)) > 1e-6)
                fail_msg("normalized [%u][%u] = %.9g, expected %.9g", i, j, row[j], value(i, j) / l2(i));
    }
    wb_store_close(st);
    free(s);
    free(text);
    f->store = NULL;
    fx_free(f);
}

/* ---- look-ups ----------------------------------------------------------- */

static void test_lookup(void **state) {
    (void)state;
    fx *f = fx_new(WB_DTYPE_F32);
    wb_store *st = open_ok(f->store);
    for (uint32_t i = 0; i < R; i++) {
        uint32_t row = 12345;
        int rc = wb_store_lookup(st, WORDS[i], strlen(WORDS[i]), &row);
        if (rc) fail_msg("lookup '%s': %d %s", WORDS[i], rc, wb_strerror(rc));
        if (row != i) fail_msg("lookup '%s' gave row %u, expected %u (input order)", WORDS[i], row, i);
    }
    static const char *const missing[] = {"King", "kin", "kings", "cafe", "caf\xc3", "w", "w10", " the", "the "};
    for (size_t k = 0; k < sizeof missing / sizeof missing[0]; k++) {
        uint32_t row = 777;
        int rc = wb_store_lookup(st, missing[k], strlen(missing[k]), &row);
        if (rc != WB_ENOTFOUND) fail_msg("lookup of missing '%s' returned %d, expected WB_ENOTFOUND", missing[k], rc);
        assert_int_equal(row, 777); /* untouched */
    }
    uint32_t row = 777;
    assert_int_equal(wb_store_lookup(st, "", 0, &row), WB_ENOTFOUND);
    assert_int_equal(wb_store_lookup(st, "king", 0, &row), WB_ENOTFOUND); /* len 0 is empty */
    assert_int_equal(row, 777);
    /* len counts, not the NUL: "kingdom" with len 4 is "king", "w1xyz" len 2 is "w1" */
    assert_int_equal(wb_store_lookup(st, "kingdom", 4, &row), 0);
    assert_int_equal(row, 2);
    assert_int_equal(wb_store_lookup(st, "w1xyz", 2, &row), 0);
    assert_int_equal(row, 7);

    /* lookup_many: found and missing mixed */
    const char *q[] = {"queen", "nope", "the", "", "caf\xc3\xa9", "queen"};
    size_t lens[6];
    for (int i = 0; i < 6; i++) lens[i] = strlen(q[i]);
    int64_t rows[6];
    size_t found = 99;
    assert_int_equal(wb_store_lookup_many(st, 6, q, lens, rows, &found), 0);
    assert_int_equal(found, 4);
    const int64_t want[6] = {3, -1, 0, -1, 4, 3};
    for (int i = 0; i < 6; i++)
        if (rows[i] != want[i]) fail_msg("lookup_many[%d] '%s' = %lld, expected %lld", i, q[i], (long long)rows[i],
                                         (long long)want[i]);
    /* found may be NULL; n = 0 is fine */
    assert_int_equal(wb_store_lookup_many(st, 2, q, lens, rows, NULL), 0);
    assert_int_equal(rows[0], 3);
    assert_int_equal(rows[1], -1);
    found = 99;
    assert_int_equal(wb_store_lookup_many(st, 0, q, lens, rows, &found), 0);
    assert_int_equal(found, 0);
    wb_store_close(st);
    fx_free(f);
}

/* Words longer than the LMDB key limit are hashed; a 511-byte word, two long
 * words sharing their first 503 bytes, and a prefix of a long word. */
static void test_lookup_long_words(void **state) {
    (void)state;
    fx *f = calloc(1, sizeof *f);
    f->dir = tmpdir_tracked();
    enum { NW = 5 };
    size_t lens[NW] = {510, 511, 600, 600, 2000};
    char *w[NW];
    for (int k = 0; k < NW; k++) {
        w[k] = malloc(lens[k] + 1);
        memset(w[k], 'a' + k, lens[k]);
        w[k][lens[k]] = 0;
    }
    memset(w[3], 'a' + 2, 590); /* w[2] and w[3] share 590 bytes, differ after */
    size_t cap = 16384, n = 0;
    char *text = malloc(cap);
    for (int k = 0; k < NW; k++) n += (size_t)snprintf(text + n, cap - n, "%s %d 1\n", w[k], k + 1);
    char *s = convert_text(f, "long", text, n, WB_DTYPE_F32, 0);
    wb_store *st = open_ok(s);
    assert_int_equal(wb_store_info_get(st)->rows, NW);
    assert_true(wb_store_info_get(st)->long_words >= 3); /* 600, 600, 2000 (511 is the limit itself) */
    for (int k = 0; k < NW; k++) {
        uint32_t row = 999;
        int rc = wb_store_lookup(st, w[k], lens[k], &row);
        if (rc || row != (uint32_t)k) fail_msg("long word %d (%zu bytes): rc %d row %u", k, lens[k], rc, row);
        const char *word;
        size_t wl;
        assert_int_equal(wb_store_word(st, row, &word, &wl), 0);
        assert_int_equal(wl, lens[k]);
        assert_memory_equal(word, w[k], wl);
        const float *v = wb_store_row(st, row);
        assert_true(v[0] == (float)(k + 1));
    }
    uint32_t row;
    /* prefixes of long words, and a long word that is not there */
    assert_int_equal(wb_store_lookup(st, w[2], 599, &row), WB_ENOTFOUND);
    assert_int_equal(wb_store_lookup(st, w[4], 1999, &row), WB_ENOTFOUND);
    assert_int_equal(wb_store_lookup(st, w[4], 511, &row), WB_ENOTFOUND);
    char *other = strdup(w[3]);
    other[599] = 'z';
    assert_int_equal(wb_store_lookup(st, other, 600, &row), WB_ENOTFOUND);
    wb_verify_report rep;
    wb_err e;
    wb_err_clear(&e);
    assert_int_equal(wb_store_verify(st, &rep, NULL, NULL, &e), 0);
    wb_store_close(st);
    free(other);
    for (int k = 0; k < NW; k++) free(w[k]);
    free(text);
    free(s);
    fx_free(f);
}

static void test_word_row_norms(void **state) {
    (void)state;
    fx *f = fx_new(WB_DTYPE_F32);
    wb_store *st = open_ok(f->store);
    const float *nr = wb_store_norms(st);
    assert_non_null(nr);
    for (uint32_t i = 0; i < R; i++) {
        const char *w = NULL;
        size_t wl = 0;
        assert_int_equal(wb_store_word(st, i, &w, &wl), 0);
        if (wl != strlen(WORDS[i]) || memcmp(w, WORDS[i], wl))
            fail_msg("word of row %u is '%.*s', expected '%s'", i, (int)wl, w, WORDS[i]);
        const float *row = wb_store_row(st, i);
        assert_non_null(row);
        for (uint32_t j = 0; j < D; j++)
            if (row[j] != value(i, j)) fail_msg("row %u [%u] = %.9g, expected %.9g", i, j, row[j], value(i, j));
        double want = l2(i);
        if (fabs(nr[i] - want) > 1e-6 * want) fail_msg("norm of row %u = %.9g, expected %.9g", i, nr[i], want);
    }
    /* rows are contiguous, row-major */
    assert_ptr_equal((const float *)wb_store_row(st, 1), (const float *)wb_store_row(st, 0) + D);
    assert_null(wb_store_row(st, R));
    assert_null(wb_store_row(st, UINT64_MAX));
    const char *w = "unchanged";
    size_t wl = 42;
    assert_int_equal(wb_store_word(st, R, &w, &wl), WB_ENOTFOUND);
    assert_int_equal(wb_store_word(st, UINT32_MAX, &w, &wl), WB_ENOTFOUND);
    assert_string_equal(w, "unchanged");
    /* wb_store_advise both ways succeeds */
    assert_int_equal(wb_store_advise(st, 1), 0);
    assert_int_equal(wb_store_advise(st, 0), 0);
    wb_store_close(st);
    fx_free(f);
}

static void gather_check(wb_dtype dt) {
    fx *f = fx_new(dt);
    wb_store *st = open_ok(f->store);
    const wb_store_info *in = wb_store_info_get(st);
    assert_int_equal(in->dtype, dt);
    assert_int_equal(in->vectors_bytes, WB_NPY_DATA_OFFSET + R * D * wb_dtype_size(dt));
    const uint32_t rows[] = {7, 0, 3, 3, 5, 0, 1, 2, 4, 6};
    const size_t n = sizeof rows / sizeof rows[0];
    float out[sizeof rows / sizeof rows[0] * D + 1];
    out[n * D] = -42.0f; /* canary */
    assert_int_equal(wb_store_gather(st, n, rows, out), 0);
    for (size_t k = 0; k < n; k++)
        for (uint32_t j = 0; j < D; j++)
            if (out[k * D + j] != value(rows[k], j))
                fail_msg("%s gather[%zu] (row %u) [%u] = %.9g, expected %.9g", wb_dtype_name(dt), k, rows[k], j,
                         out[k * D + j], value(rows[k], j));
    assert_true(out[n * D] == -42.0f);
    assert_int_equal(wb_store_gather(st, 0, rows, out), 0);
    const uint32_t bad[] = {1, R};
    assert_int_equal(wb_store_gather(st, 2, bad, out), WB_EUSAGE);
    const uint32_t bad2[] = {UINT32_MAX};
    assert_int_equal(wb_store_gather(st, 1, bad2, out), WB_EUSAGE);
    /* f16 rows are raw halves in the map; norms are f32 of the stored values */
    if (dt == WB_DTYPE_F16) {
        const uint16_t *h = wb_store_row(st, 0);
        assert_non_null(h);
        /* value(0,0) = -1.125: sign 1, exponent 15, mantissa 0x080 -> 0xbc80 */
        assert_true(value(0, 0) == -1.125f);
        assert_int_equal(h[0], 0xbc80);
    }
    const float *nr = wb_store_norms(st);
    for (uint32_t i = 0; i < R; i++)
        if (fabs(nr[i] - l2(i)) > 1e-6 * l2(i)) fail_msg("%s norm %u = %.9g", wb_dtype_name(dt), i, nr[i]);
    wb_verify_report rep;
    wb_err e;
    wb_err_clear(&e);
    assert_int_equal(wb_store_verify(st, &rep, NULL, NULL, &e), 0);
    wb_store_close(st);
    fx_free(f);
}

static void test_gather_f32(void **state) {
    (void)state;
    gather_check(WB_DTYPE_F32);
}

static void test_gather_f16(void **state) {
    (void)state;
    gather_check(WB_DTYPE_F16);
}

/* ---- verify ------------------------------------------------------------- */

typedef struct prog {
    int calls;
    uint64_t last_done, last_total;
} prog;

static void on_progress(void *ud, uint64_t done, uint64_t total) {
    prog *p = ud;
    p->calls++;
    p->last_done = done, p->last_total = total;
}

static void test_verify_ok(void **state) {
    (void)state;
    fx *f = fx_new(WB_DTYPE_F32);
    wb_store *st = open_ok(f->store);
    wb_verify_report rep;
    memset(&rep, 0x5a, sizeof rep);
    prog p = {0, 0, 0};
    wb_err e;
    wb_err_clear(&e);
    int rc = wb_store_verify(st, &rep, on_progress, &p, &e);
    if (rc) fail_msg("verify of a fresh store: %d %s", rc, e.msg);
    assert_int_equal(rep.blocks_checked, 1);
    assert_int_equal(rep.first_bad_block, -1);
    assert_int_equal(rep.norms_ok, 1);
    assert_int_equal(rep.index_ok, 1);
    assert_int_equal(e.code, 0);
    assert_true(p.calls >= 1);
    assert_int_equal(p.last_total, R * D * 4);
    assert_int_equal(p.last_done, p.last_total);
    /* twice in a row, and look-ups still work after it (pages were dropped) */
    assert_int_equal(wb_store_verify(st, &rep, NULL, NULL, NULL), 0);
    uint32_t row;
    assert_int_equal(wb_store_lookup(st, "queen", 5, &row), 0);
    assert_int_equal(row, 3);
    assert_true(((const float *)wb_store_row(st, 3))[1] == value(3, 1));
    wb_store_close(st);
    fx_free(f);
}

/* Flip one byte of `file` (relative to the store) at `off`. */
static void flip_byte(const char *store, const char *file, off_t off) {
    char *p = spath(store, file);
    int fd = open(p, O_RDWR);
    if (fd < 0) fail_msg("open %s: %s", p, strerror(errno));
    unsigned char b;
    assert_int_equal(pread(fd, &b, 1, off), 1);
    b ^= 0x01;
    assert_int_equal(pwrite(fd, &b, 1, off), 1);
    close(fd);
    free(p);
}

static void test_verify_detects_flipped_vector_byte(void **state) {
    (void)state;
    fx *f = fx_new(WB_DTYPE_F32);
    flip_byte(f->store, "vectors.npy", WB_NPY_DATA_OFFSET + 4 * D * 3 + 2); /* row 3 */
    wb_store *st = open_ok(f->store); /* sizes are right: open succeeds */
    wb_verify_report rep;
    wb_err e;
    wb_err_clear(&e);
    int rc = wb_store_verify(st, &rep, NULL, NULL, &e);
    if (rc != WB_ECORRUPT) fail_msg("verify after a flipped vector byte returned %d (%s), expected WB_ECORRUPT", rc,
                                    wb_strerror(rc));
    assert_int_equal(e.code, WB_ECORRUPT);
    assert_int_equal(rep.first_bad_block, 0);
    assert_int_equal(rep.blocks_checked, 1);
    assert_int_equal(rep.norms_ok, 1);
    assert_int_equal(rep.index_ok, 1);
    if (!strstr(e.msg, "vectors.npy") || !strstr(e.msg, "block 0"))
        fail_msg("verify message does not name vectors.npy block 0: %s", e.msg);
    wb_store_close(st);
    fx_free(f);
}

static void test_verify_detects_flipped_norm_byte(void **state) {
    (void)state;
    fx *f = fx_new(WB_DTYPE_F32);
    flip_byte(f->store, "norms.npy", WB_NPY_DATA_OFFSET + 4 * 5 + 1);
    wb_store *st = open_ok(f->store);
    wb_verify_report rep;
    wb_err e;
    wb_err_clear(&e);
    int rc = wb_store_verify(st, &rep, NULL, NULL, &e);
    if (rc != WB_ECORRUPT) fail_msg("verify after a flipped norm byte returned %d, expected WB_ECORRUPT", rc);
    assert_int_equal(rep.norms_ok, 0);
    assert_int_equal(rep.first_bad_block, -1);
    assert_int_equal(rep.index_ok, 1);
    if (!strstr(e.msg, "norms.npy")) fail_msg("verify message does not name norms.npy: %s", e.msg);
    wb_store_close(st);
    fx_free(f);
}

/* ---- read-only stores and the lock file ---------------------------------- */

static int exists(const char *path) {
    struct stat sb;
    return lstat(path, &sb) == 0;
}

/* Open, look up every word, gather, verify, close: 0 when all worked, else a
 * short description in why. */
static int use_store(const char *dir, char *why, size_t n) {
    wb_store *st = NULL;
    wb_err e;
    wb_err_clear(&e);
    int rc = wb_store_open(&st, dir, &e);
    if (rc) {
        snprintf(why, n, "open: %d %s: %s: %s", rc, wb_strerror(rc), e.file, e.msg);
        wb_store_close(st);
        return 1;
    }
    for (uint32_t i = 0; i < R; i++) {
        uint32_t row;
        if (wb_store_lookup(st, WORDS[i], strlen(WORDS[i]), &row) || row != i) {
            snprintf(why, n, "lookup '%s' failed", WORDS[i]);
            wb_store_close(st);
            return 1;
        }
        float v[D];
        if (wb_store_gather(st, 1, &row, v) || v[D - 1] != value(i, D - 1)) {
            snprintf(why, n, "gather of row %u failed", i);
            wb_store_close(st);
            return 1;
        }
    }
    wb_verify_report rep;
    rc = wb_store_verify(st, &rep, NULL, NULL, &e);
    wb_store_close(st);
    if (rc) {
        snprintf(why, n, "verify: %s", e.msg);
        return 1;
    }
    return 0;
}

static void test_no_lock_file(void **state) {
    (void)state;
    fx *f = fx_new(WB_DTYPE_F32);
    char *lock = spath(f->store, "index.lmdb/lock.mdb");
    assert_false(exists(lock)); /* the converter leaves none either */
    char why[2048];
    if (use_store(f->store, why, sizeof why)) fail_msg("%s", why);
    if (exists(lock)) fail_msg("opening the store created %s (the index must be opened with MDB_NOLOCK)", lock);
    /* two handles at once */
    wb_store *a = open_ok(f->store), *b = open_ok(f->store);
    assert_false(exists(lock));
    wb_store_close(a);
    wb_store_close(b);
    free(lock);
    fx_free(f);
}

/* Make the store read-only: files 0444, directories 0555. */
static void make_readonly(const char *store) {
    static const char *const files[] = {"vectors.npy", "norms.npy", "index.lmdb/data.mdb"};
    for (int i = 0; i < 3; i++) {
        char *p = spath(store, files[i]);
        assert_int_equal(chmod(p, 0444), 0);
        free(p);
    }
    char *idx = spath(store, "index.lmdb");
    assert_int_equal(chmod(idx, 0555), 0);
    assert_int_equal(chmod(store, 0555), 0);
    free(idx);
}

/* Shared between a forked child and the parent. */
typedef struct child_result {
    int reached;      /* the child got to the end of its work */
    int rc;           /* the code it reports */
    int skipped;      /* it could not set itself up (e.g. drop privileges) */
    wb_err err;       /* details */
    char why[2048];   /* free text */
} child_result;

static child_result *shared_result(void) {
    child_result *r = mmap(NULL, sizeof *r, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    assert_true(r != MAP_FAILED);
    memset(r, 0, sizeof *r);
    return r;
}

/* In a forked child: let fatal signals kill the process (cmocka's handlers,
 * inherited through fork, would otherwise longjmp into a second copy of the
 * test runner), so that the parent sees the signal. */
static void child_default_signals(void) {
    static const int sigs[] = {SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT};
    for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++) signal(sigs[i], SIG_DFL);
}

/* Wait for a child; fail if it died from a signal or did not reach the end. */
static void reap(pid_t pid, child_result *r, const char *what) {
    int status = 0;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR) fail_msg("waitpid: %s", strerror(errno));
    if (WIFSIGNALED(status))
        fail_msg("%s: the process was killed by signal %d (%s) instead of returning an error", what,
                 WTERMSIG(status), strsignal(WTERMSIG(status)));
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || !r->reached)
        fail_msg("%s: the process exited with status %d before finishing (a sanitizer report?)", what,
                 WIFEXITED(status) ? WEXITSTATUS(status) : -1);
}

static void test_readonly_store(void **state) {
    (void)state;
    fx *f = fx_new(WB_DTYPE_F32);
    make_readonly(f->store);
    char *lock = spath(f->store, "index.lmdb/lock.mdb");
    char why[2048];
    if (use_store(f->store, why, sizeof why)) fail_msg("read-only store (mode bits): %s", why);
    assert_false(exists(lock));

    /* As root the mode bits do not bind: drop to nobody in a child so they do. */
    child_result *r = shared_result();
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        child_default_signals();
        if (getuid() == 0 && (setgid(65534) || setuid(65534))) {
            r->skipped = 1, r->reached = 1;
            _exit(0);
        }
        /* sanity: this process really cannot write into the store */
        char *probe = tu_path(f->store, "probe");
        int fd = open(probe, O_CREAT | O_WRONLY, 0644);
        if (fd >= 0) {
            close(fd);
            unlink(probe);
            r->skipped = 2;
        }
        free(probe);
        r->rc = use_store(f->store, r->why, sizeof r->why);
        r->reached = 1;
        _exit(0);
    }
    reap(pid, r, "read-only store opened by an unprivileged process");
    if (r->skipped == 1) print_message("note: could not drop privileges; read-only check ran as root only\n");
    if (r->skipped == 2) print_message("note: the mode bits did not stop writes; read-only check is weaker\n");
    if (r->rc) fail_msg("unprivileged read of a read-only store failed: %s", r->why);
    assert_false(exists(lock));
    munmap(r, sizeof *r);
    free(lock);
    fx_free(f);
}

/* ---- damaged stores ----------------------------------------------------- */

/* Open `dir` in a forked child, and when that succeeds also use the store
 * (look-ups, gather, verify) so that a bad mapping would fault.  Returns the
 * open's code and copies its error into *e.  Fails the test on a crash. */
static int open_isolated(const char *dir, wb_err *e, const char *what) {
    child_result *r = shared_result();
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        child_default_signals();
        alarm(60); /* a hang (e.g. opening a FIFO) becomes a failure, not a stuck test */
        wb_store *st = (wb_store *)(uintptr_t)1; /* must be reset to NULL on failure */
        wb_err_clear(&r->err);
        r->rc = wb_store_open(&st, dir, &r->err);
        if (r->rc == 0) {
            uint32_t row;
            for (uint32_t i = 0; i < R; i++) {
                if (wb_store_lookup(st, WORDS[i], strlen(WORDS[i]), &row) == 0) {
                    float v[D];
                    (void)wb_store_gather(st, 1, &row, v);
                }
                const char *w;
                size_t wl;
                (void)wb_store_word(st, i, &w, &wl);
            }
            wb_verify_report rep;
            wb_err ve;
            (void)wb_store_verify(st, &rep, NULL, NULL, &ve);
        } else if (st != NULL) {
            snprintf(r->why, sizeof r->why, "failed open left *out = %p, expected NULL", (void *)st);
        }
        wb_store_close(r->rc == 0 ? st : NULL);
        r->reached = 1;
        _exit(0);
    }
    reap(pid, r, what);
    if (r->why[0]) fail_msg("%s: %s", what, r->why);
    *e = r->err;
    int rc = r->rc;
    munmap(r, sizeof *r);
    return rc;
}

/* The rendered error ("file: msg") must name `needle1` and `needle2` (either
 * may be NULL), and the code must be `code` (0 = any error). */
static void expect_open_error(const char *dir, int code, const char *needle1, const char *needle2,
                              const char *what) {
    wb_err e;
    wb_err_clear(&e);
    int rc = open_isolated(dir, &e, what);
    char buf[2048];
    wb_err_format(&e, buf, sizeof buf);
    if (rc == 0) fail_msg("%s: open succeeded, expected an error", what);
    if (code && rc != code)
        fail_msg("%s: open returned %d (%s), expected %d (%s); message: %s", what, rc, wb_strerror(rc), code,
                 wb_strerror(code), buf);
    if (e.code != rc) fail_msg("%s: err.code %d differs from the returned %d", what, e.code, rc);
    if (!e.msg[0]) fail_msg("%s: empty error message", what);
    if (needle1 && !strstr(buf, needle1)) fail_msg("%s: message \"%s\" does not mention \"%s\"", what, buf, needle1);
    if (needle2 && !strstr(buf, needle2)) fail_msg("%s: message \"%s\" does not mention \"%s\"", what, buf, needle2);
}

static void set_size(const char *store, const char *file, off_t size) {
    char *p = spath(store, file);
    if (truncate(p, size)) fail_msg("truncate %s: %s", p, strerror(errno));
    free(p);
}

static void test_truncated_vectors(void **state) {
    (void)state;
    fx *f = fx_new(WB_DTYPE_F32);
    const off_t full = (off_t)(WB_NPY_DATA_OFFSET + R * D * 4);
    /* shrinking sizes only (truncate() would zero-fill a growth) */
    set_size(f->store, "vectors.npy", full - 1);
    expect_open_error(f->store, WB_ECORRUPT, "truncated", "vectors.npy", "vectors.npy 1 byte short");
    set_size(f->store, "vectors.npy", (off_t)(WB_NPY_DATA_OFFSET + R * D * 2));
    expect_open_error(f->store, WB_ECORRUPT, "truncated", "vectors.npy", "vectors.npy data cut in half");
    set_size(f->store, "vectors.npy", WB_NPY_DATA_OFFSET);
    expect_open_error(f->store, WB_ECORRUPT, "truncated", "vectors.npy", "vectors.npy header only");
    set_size(f->store, "vectors.npy", full / 2);
    expect_open_error(f->store, WB_ECORRUPT, "truncated", "vectors.npy", "vectors.npy file cut in half");
    set_size(f->store, "vectors.npy", 9);
    expect_open_error(f->store, WB_ECORRUPT, "vectors.npy", NULL, "vectors.npy cut inside the magic");
    set_size(f->store, "vectors.npy", 0);
    expect_open_error(f->store, WB_ECORRUPT, "vectors.npy", NULL, "vectors.npy empty");
    fx_free(f);
}

static void test_truncated_norms(void **state) {
    (void)state;
    fx *f = fx_new(WB_DTYPE_F32);
    set_size(f->store, "norms.npy", (off_t)(WB_NPY_DATA_OFFSET + R * 4 - 1));
    expect_open_error(f->store, WB_ECORRUPT, "truncated", "norms.npy", "norms.npy 1 byte short");
    fx_free(f);
}

static void test_extended_vectors(void **state) {
    (void)state;
    fx *f = fx_new(WB_DTYPE_F32);
    char *p = spath(f->store, "vectors.npy");
    FILE *fp = fopen(p, "ab");
    assert_non_null(fp);
    fputc(0, fp);
    fclose(fp);
    expect_open_error(f->store, WB_ECORRUPT, "vectors.npy", "trailing", "vectors.npy with one byte appended");
    free(p);
    fx_free(f);
}

static void test_bad_magic(void **state) {
    (void)state;
    fx *f = fx_new(WB_DTYPE_F32);
    flip_byte(f->store, "vectors.npy", 1); /* "\x93NUMPY" -> "\x93OUMPY" */
    expect_open_error(f->store, WB_ECORRUPT, "vectors.npy", NULL, "vectors.npy with a bad magic");
    fx_free(f);
}

/* A header that disagrees with the index: vectors.npy of another store with
 * the same dim but fewer rows. */
static void test_mismatched_vectors(void **state) {
    (void)state;
    fx *f = fx_new(WB_DTYPE_F32);
    const char other[] = "a 1 2 3 4 5\nb 5 4 3 2 1\n";
    char *s2 = convert_text(f, "other", other, sizeof other - 1, WB_DTYPE_F32, 0);
    char *from = spath(s2, "vectors.npy"), *to = spath(f->store, "vectors.npy");
    assert_int_equal(rename(from, to), 0);
    expect_open_error(f->store, WB_ECORRUPT, "vectors.npy", NULL, "vectors.npy of another store");
    free(from), free(to), free(s2);
    fx_free(f);
}

static void test_missing_norms(void **state) {
    (void)state;
    fx *f = fx_new(WB_DTYPE_F32);
    char *p = spath(f->store, "norms.npy");
    assert_int_equal(unlink(p), 0);
    expect_open_error(f->store, ENOENT, "norms.npy", NULL, "norms.npy deleted");
    free(p);
    fx_free(f);
}

static void test_missing_index(void **state) {
    (void)state;
    fx *f = fx_new(WB_DTYPE_F32);
    char *p = spath(f->store, "index.lmdb/data.mdb");
    assert_int_equal(unlink(p), 0);
    expect_open_error(f->store, ENOENT, "data.mdb", NULL, "index.lmdb/data.mdb deleted");
    free(p);
    fx_free(f);
}

static void test_truncated_index(void **state) {
    (void)state;
    fx *f = fx_new(WB_DTYPE_F32);
    char *d = spath(f->store, "index.lmdb/data.mdb");
    off_t full = file_size(d);
    assert_true(full >= 3 * 4096);
    const off_t sizes[] = {full - 4096, full - 1, full / 2, 2 * 4096, 4096 + 17, 4096, 100, 0};
    for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
        set_size(f->store, "index.lmdb/data.mdb", sizes[k]);
        char what[128];
        snprintf(what, sizeof what, "data.mdb truncated from %lld to %lld bytes", (long long)full,
                 (long long)sizes[k]);
        expect_open_error(f->store, 0, "data.mdb", NULL, what);
    }
    free(d);
    fx_free(f);
}

/* Deterministic garbage (xorshift). */
static void fill_garbage(unsigned char *b, size_t n, uint64_t seed) {
    uint64_t x = seed | 1;
    for (size_t i = 0; i < n; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        b[i] = (unsigned char)(x >> 24);
    }
}

static void test_garbage_index(void **state) {
    (void)state;
    fx *f = fx_new(WB_DTYPE_F32);
    char *d = spath(f->store, "index.lmdb/data.mdb");
    size_t n = (size_t)file_size(d);
    unsigned char *b = malloc(n);
    fill_garbage(b, n, 12345);
    assert_int_equal(tu_write_file(d, b, n), 0);
    expect_open_error(f->store, 0, "data.mdb", NULL, "data.mdb full of garbage");
    /* all zeros */
    memset(b, 0, n);
    assert_int_equal(tu_write_file(d, b, n), 0);
    expect_open_error(f->store, 0, "data.mdb", NULL, "data.mdb all zero bytes");
    /* not LMDB at all: a text file */
    assert_int_equal(tu_write_file(d, "hello\n", 6), 0);
    expect_open_error(f->store, 0, "data.mdb", NULL, "data.mdb is a short text file");
    free(b);
    free(d);
    fx_free(f);
}

static void test_not_a_store(void **state) {
    (void)state;
    char *dir = tmpdir_tracked();
    assert_non_null(dir);
    /* an empty directory: some error naming it (today ENOENT for vectors.npy) */
    expect_open_error(dir, 0, dir, NULL, "an empty directory");
    /* a directory with unrelated files */
    char *p = tu_path(dir, "README");
    assert_int_equal(tu_write_file(p, "hi\n", 3), 0);
    expect_open_error(dir, 0, dir, NULL, "a directory with unrelated files");
    /* a regular file */
    expect_open_error(p, WB_ECORRUPT, "README", "not a store", "a regular file");
    /* a missing directory */
    char *missing = tu_path(dir, "no-such-store");
    expect_open_error(missing, ENOENT, "no-such-store", NULL, "a missing directory");
    /* vectors.npy is a directory */
    char *sub = tu_path(dir, "sub");
    assert_int_equal(mkdir(sub, 0755), 0);
    char *v = tu_path(sub, "vectors.npy");
    assert_int_equal(mkdir(v, 0755), 0);
    expect_open_error(sub, 0, "vectors.npy", NULL, "vectors.npy is a directory");
    free(v), free(sub), free(missing), free(p);
    tu_rmrf(dir);
    free(dir);
}

/* ---- the index file: map size, page checks, checksum ----------------------- */

/* Write n bytes at off of store/file. */
static void patch(const char *store, const char *file, off_t off, const void *b, size_t n) {
    char *p = spath(store, file);
    int fd = open(p, O_RDWR);
    if (fd < 0) fail_msg("open %s: %s", p, strerror(errno));
    assert_int_equal(pwrite(fd, b, n, off), (ssize_t)n);
    close(fd);
    free(p);
}

static void patch_u16(const char *store, off_t off, unsigned v) {
    unsigned char b[2] = {(unsigned char)v, (unsigned char)(v >> 8)};
    patch(store, "index.lmdb/data.mdb", off, b, 2);
}

static void patch_u64(const char *store, off_t off, uint64_t v) {
    unsigned char b[8];
    for (int i = 0; i < 8; i++) b[i] = (unsigned char)(v >> (8 * i));
    patch(store, "index.lmdb/data.mdb", off, b, 8);
}

static uint64_t read_u64(const char *store, const char *file, off_t off) {
    char *p = spath(store, file);
    int fd = open(p, O_RDONLY);
    unsigned char b[8] = {0};
    assert_true(fd >= 0 && pread(fd, b, 8, off) == 8);
    close(fd);
    free(p);
    uint64_t v = 0;
    for (int i = 0; i < 8; i++) v |= (uint64_t)b[i] << (8 * i);
    return v;
}

/* The index file as the opener checks it. */
static void index_layout(const char *store, wb_mdb_file *mf) {
    char *p = spath(store, "index.lmdb/data.mdb");
    int fd = open(p, O_RDONLY);
    wb_err e;
    wb_err_clear(&e);
    assert_true(fd >= 0);
    if (wb_mdb_check_open(mf, fd, p, "meta", &e)) fail_msg("wb_mdb_check_open(%s): %s", p, e.msg);
    close(fd);
    free(p);
}

static const wb_mdb_db *named(const wb_mdb_file *mf, const char *name) {
    for (int i = 0; i < mf->ndbs; i++)
        if (!strcmp(mf->dbs[i].name, name)) return &mf->dbs[i];
    fail_msg("no '%s' database", name);
    return NULL;
}

/* Copy the pristine store `from` to `to` (files copied, so patches stay local). */
static void copy_store(const char *from, const char *to) {
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "rm -rf '%s' && cp -r '%s' '%s'", to, from, to);
    assert_int_equal(tu_run(cmd, NULL, NULL), 0);
}

/* A store of n words "w00000".. (dim D), built in f's directory. */
static char *words_store(fx *f, const char *name, uint32_t n) {
    size_t cap = (size_t)n * 64 + 1, len = 0;
    char *t = malloc(cap);
    assert_non_null(t);
    for (uint32_t i = 0; i < n; i++) {
        len += (size_t)snprintf(t + len, cap - len, "w%05u", i);
        for (uint32_t j = 0; j < D; j++) len += (size_t)snprintf(t + len, cap - len, " %g", (double)value(i, j));
        t[len++] = '\n';
    }
    char *st = convert_text(f, name, t, len, WB_DTYPE_F32, 0);
    free(t);
    return st;
}

/* wb_store_prefetch_ex: every mode reads the pages of the rows asked for
 * (merged ranges, file order), skips negative rows, rejects rows out of
 * range, and leaves gathers unchanged; a prefetch still running is stopped
 * by the next one and by close. */
static void test_prefetch(void **state) {
    (void)state;
    fx *f = calloc(1, sizeof *f);
    assert_non_null(f);
    f->dir = tmpdir_tracked();
    const uint32_t n = 4000; /* 20-byte rows: 80,000 bytes, 20 pages of 4 KB */
    char *store = words_store(f, "big", n);
    const int64_t rows[] = {-1, 5, 5, 3000, 3999, 1000, 1001, 204, 205, -1, 2047};
    const size_t nrows = sizeof rows / sizeof rows[0];
    /* the pages those rows touch: data starts at byte 4096 of vectors.npy */
    const uint64_t page = (uint64_t)sysconf(_SC_PAGESIZE), rb = D * sizeof(float);
    uint64_t want = 0;
    for (uint64_t p = 0; p * page < WB_NPY_DATA_OFFSET + n * rb; p++) {
        int hit = 0;
        for (size_t i = 0; i < nrows; i++)
            if (rows[i] >= 0) {
                uint64_t lo = WB_NPY_DATA_OFFSET + (uint64_t)rows[i] * rb, hi = lo + rb;
                hit |= lo < (p + 1) * page && hi > p * page;
            }
        want += hit ? page : 0;
    }
    assert_true(want >= 4 * page);
    static const char *const names[] = {"advise", "populate", "pread", "off"};
    for (int mode = WB_PREFETCH_ADVISE; mode <= WB_PREFETCH_OFF; mode++) {
        wb_store *st = open_ok(store);
        wb_err e;
        wb_err_clear(&e);
        assert_int_equal(wb_store_prefetch_ex(st, nrows, rows, 0, NULL, (wb_prefetch_mode)mode, &e), 0);
        uint64_t got = wb_store_prefetch_wait(st);
        if (got != (mode == WB_PREFETCH_OFF ? 0 : want))
            fail_msg("%s: prefetched %" PRIu64 " bytes, expected %" PRIu64, names[mode], got, want);
        if (mode == WB_PREFETCH_ADVISE || mode == WB_PREFETCH_POPULATE) { /* mapped, so resident */
            const uintptr_t a = (uintptr_t)wb_store_row(st, 3000) & ~(uintptr_t)(page - 1);
            unsigned char vec = 0;
            assert_int_equal(mincore((void *)a, (size_t)page, &vec), 0);
            assert_true(vec & 1);
        }
        assert_int_equal(wb_store_prefetch_wait(st), got); /* a second wait returns at once */
        for (size_t i = 0; i < nrows; i++) {
            if (rows[i] < 0) continue;
            uint32_t r = (uint32_t)rows[i];
            float out[D];
            assert_int_equal(wb_store_gather(st, 1, &r, out), 0);
            for (uint32_t j = 0; j < D; j++) assert_true(out[j] == value(r, j));
        }
        /* out of range: an error, nothing started */
        const int64_t bad[] = {1, n};
        assert_int_equal(wb_store_prefetch_ex(st, 2, bad, 0, NULL, (wb_prefetch_mode)mode, &e), WB_EUSAGE);
        assert_non_null(strstr(e.msg, "out of range"));
        assert_int_equal(wb_store_prefetch_wait(st), 0);
        /* nothing to read */
        const int64_t none[] = {-1, -1};
        assert_int_equal(wb_store_prefetch_ex(st, 2, none, 0, NULL, (wb_prefetch_mode)mode, &e), 0);
        assert_int_equal(wb_store_prefetch_wait(st), 0);
        /* replaced by the next one, then stopped by close without a wait */
        assert_int_equal(wb_store_prefetch_ex(st, nrows, rows, 0, NULL, (wb_prefetch_mode)mode, &e), 0);
        assert_int_equal(wb_store_prefetch(st, nrows, rows, &e), 0);
        wb_store_close(st);
    }
    free(store);
    fx_free(f);
}

/* The pages of vectors.npy that rows (a set of n; negatives skipped) touch, in bytes. */
static uint64_t row_pages(uint32_t nstore, const int64_t *rows, size_t n) {
    const uint64_t page = (uint64_t)sysconf(_SC_PAGESIZE), rb = D * sizeof(float);
    uint64_t want = 0;
    for (uint64_t p = 0; p * page < WB_NPY_DATA_OFFSET + nstore * rb; p++) {
        int hit = 0;
        for (size_t i = 0; i < n && !hit; i++)
            if (rows[i] >= 0) {
                uint64_t lo = WB_NPY_DATA_OFFSET + (uint64_t)rows[i] * rb, hi = lo + rb;
                hit = lo < (p + 1) * page && hi > p * page;
            }
        want += hit ? page : 0;
    }
    return want;
}

/* Drop vectors.npy of store from the page cache (written back first), so
 * that what is resident afterwards was read since. */
static void drop_vectors(const char *store) {
    char *p = spath(store, "vectors.npy");
    int fd = open(p, O_RDONLY);
    assert_true(fd >= 0);
    (void)fdatasync(fd);
    (void)posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
    close(fd);
    free(p);
}

/* Whether every page of rows[0..n) is in the page cache. */
static int rows_resident(wb_store *st, const int64_t *rows, size_t n) {
    const uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);
    for (size_t i = 0; i < n; i++) {
        if (rows[i] < 0) continue;
        const float *v = wb_store_row(st, (uint64_t)rows[i]);
        uintptr_t lo = (uintptr_t)v & ~(page - 1), hi = ((uintptr_t)(v + D) + page - 1) & ~(page - 1);
        unsigned char vec[4] = {0};
        assert_true((hi - lo) / page <= 4);
        assert_int_equal(mincore((void *)lo, hi - lo, vec), 0);
        for (size_t k = 0; k < (hi - lo) / page; k++)
            if (!(vec[k] & 1)) return 0;
    }
    return 1;
}

/* wb_store_prefetch_ex with rows asked for first: the pages of both sets
 * are read once (a first row that is not among rows too), in every mode. */
static void test_prefetch_first(void **state) {
    (void)state;
    fx *f = calloc(1, sizeof *f);
    assert_non_null(f);
    f->dir = tmpdir_tracked();
    const uint32_t n = 4000;
    char *store = words_store(f, "big", n);
    const int64_t rows[] = {-1, 5, 3000, 3999, 1000, 1001, 204, 205, 2047, 2500};
    const int64_t first[] = {3999, 1001, -1, 3500, 2048, 6};
    const size_t nrows = sizeof rows / sizeof rows[0], nfirst = sizeof first / sizeof first[0];
    int64_t both[sizeof rows / sizeof rows[0] + sizeof first / sizeof first[0]];
    memcpy(both, rows, sizeof rows);
    memcpy(both + nrows, first, sizeof first);
    const uint64_t want = row_pages(n, both, nrows + nfirst);
    assert_true(want > row_pages(n, rows, nrows)); /* 3500 is on a page of its own */
    static const char *const names[] = {"advise", "populate", "pread"};
    for (int mode = WB_PREFETCH_ADVISE; mode <= WB_PREFETCH_PREAD; mode++) {
        drop_vectors(store);
        wb_store *st = open_ok(store);
        wb_err e;
        wb_err_clear(&e);
        assert_int_equal(wb_store_prefetch_ex(st, nrows, rows, nfirst, first, (wb_prefetch_mode)mode, &e), 0);
        uint64_t got = wb_store_prefetch_wait(st);
        if (got != want) fail_msg("%s: prefetched %" PRIu64 " bytes, expected %" PRIu64, names[mode], got, want);
        assert_true(rows_resident(st, both, nrows + nfirst));
        for (size_t i = 0; i < nfirst; i++) {
            if (first[i] < 0) continue;
            uint32_t r = (uint32_t)first[i];
            float out[D];
            assert_int_equal(wb_store_gather(st, 1, &r, out), 0);
            for (uint32_t j = 0; j < D; j++) assert_true(out[j] == value(r, j));
        }
        const int64_t bad[] = {n};
        assert_int_equal(wb_store_prefetch_ex(st, nrows, rows, 1, bad, (wb_prefetch_mode)mode, &e), WB_EUSAGE);
        assert_int_equal(wb_store_prefetch_wait(st), 0);
        /* only rows asked for first */
        assert_int_equal(wb_store_prefetch_ex(st, 0, NULL, nfirst, first, (wb_prefetch_mode)mode, &e), 0);
        assert_int_equal(wb_store_prefetch_wait(st), row_pages(n, first, nfirst));
        wb_store_close(st);
    }
    free(store);
    fx_free(f);
}

/* fork while a prefetch runs: the read-ahead threads are stopped and
 * joined before the process is copied (a child inheriting a lock one of
 * them held, ASan's allocator's, hung), the child has none and uses the
 * store and the allocator freely, and the parent's prefetch goes on and
 * reads every page.  Many forks at random points of the threads' lives
 * (starting, reading, ending), each child given 30 s. */
static void test_prefetch_fork(void **state) {
    (void)state;
    fx *f = calloc(1, sizeof *f);
    assert_non_null(f);
    f->dir = tmpdir_tracked();
    const uint32_t n = 200000; /* 4 MB */
    char *store = words_store(f, "big", n);
    enum { NR = 480 }; /* rows 416 apart (8,320 bytes): a range each, the thread runs a while */
    int64_t *rows = malloc(NR * sizeof *rows), first[64];
    assert_non_null(rows);
    for (size_t i = 0; i < NR; i++) rows[i] = (int64_t)(i * 416 + i % 7);
    for (size_t i = 0; i < 64; i++) first[i] = rows[(i * 97) % NR];
    const uint64_t want = row_pages(n, rows, NR);
    const int rounds = 60;
    for (int round = 0; round < rounds; round++) {
        wb_prefetch_mode mode = (wb_prefetch_mode)(round % 3);
        drop_vectors(store);
        wb_store *st = open_ok(store);
        wb_err e;
        wb_err_clear(&e);
        assert_int_equal(wb_store_prefetch_ex(st, NR, rows, round % 2 ? 64 : 0, first, mode, &e), 0);
        if (round % 4 == 1) nanosleep(&(struct timespec){0, 100000 * (round % 7)}, NULL);
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (!pid) { /* the child: no read-ahead was running when it was copied; the allocator, the store */
            if (wb_store_prefetch_live()) _exit(4);
            int bad = 0;
            for (int k = 0; k < 2000; k++) {
                void *p = malloc((size_t)(16 + k * 37 % 4096));
                if (!p) bad = 1;
                free(p);
            }
            for (size_t i = 0; i < NR; i += 97) {
                uint32_t r = (uint32_t)rows[i];
                float out[D];
                if (wb_store_gather(st, 1, &r, out) || out[0] != value(r, 0)) bad = 1;
            }
            (void)wb_store_prefetch_wait(st);
            wb_store_close(st);
            _exit(bad ? 3 : 0);
        }
        int status = 0;
        pid_t w = 0;
        for (int t = 0; t < 3000 && !(w = waitpid(pid, &status, WNOHANG)); t++)
            nanosleep(&(struct timespec){0, 10000000}, NULL);
        if (!w) {
            kill(pid, SIGKILL);
            waitpid(pid, &status, 0);
            fail_msg("round %d: the child forked during a prefetch hung", round);
        }
        assert_true(WIFEXITED(status));
        if (WEXITSTATUS(status) == 4) fail_msg("round %d: a read-ahead thread ran while the process forked", round);
        assert_int_equal(WEXITSTATUS(status), 0);
        assert_int_equal(wb_store_prefetch_wait(st), want);
        if (mode != WB_PREFETCH_PREAD) assert_true(rows_resident(st, rows, NR)); /* the parent's went on */
        wb_store_close(st);
    }
    free(rows);
    free(store);
    fx_free(f);
}

/* The converter records the file's size as LMDB's map size (both meta pages). */
static void test_index_map_size(void **state) {
    (void)state;
    fx *f = fx_new(WB_DTYPE_F32);
    char *d = spath(f->store, "index.lmdb/data.mdb");
    const uint64_t size = (uint64_t)file_size(d);
    wb_mdb_file mf;
    index_layout(f->store, &mf);
    assert_int_equal(read_u64(f->store, "index.lmdb/data.mdb", 32), size);
    assert_int_equal(read_u64(f->store, "index.lmdb/data.mdb", (off_t)mf.psize + 32), size);
    assert_int_equal(mf.npages * mf.psize, size);
    /* A recorded 1 TiB (what the builder used to leave, 128 GB, is as bad)
     * does not matter to the reader: it maps the file's size. */
    patch_u64(f->store, 32, 1ull << 40);
    patch_u64(f->store, (off_t)mf.psize + 32, 1ull << 40);
    wb_store *st = open_ok(f->store);
    FILE *maps = fopen("/proc/self/maps", "r");
    char line[4096];
    struct stat sb;
    assert_int_equal(stat(d, &sb), 0);
    unsigned long biggest = 0;
    while (maps && fgets(line, sizeof line, maps)) {
        unsigned long lo, hi, ino;
        if (sscanf(line, "%lx-%lx %*s %*x %*x:%*x %lu", &lo, &hi, &ino) == 3 && ino == (unsigned long)sb.st_ino &&
            hi - lo > biggest)
            biggest = hi - lo;
    }
    if (maps) fclose(maps);
    if (biggest != size) fail_msg("data.mdb is mapped with %lu bytes, expected its size %" PRIu64, biggest, size);
    wb_store_close(st);
    free(d);
    fx_free(f);
}

/* Damaged meta pages are refused before LMDB maps the file. */
static void test_index_meta_pages(void **state) {
    (void)state;
    fx *f = fx_new(WB_DTYPE_F32);
    char *bad = tu_path(f->dir, "bad");
    wb_mdb_file mf;
    index_layout(f->store, &mf);
    const off_t m = (off_t)mf.meta * mf.psize, other = (off_t)(1 - mf.meta) * mf.psize;
    static const struct {
        int which;        /* 0: the meta page in use, 1: the other */
        off_t off;
        int bytes;        /* 2 or 8 */
        uint64_t v;
        const char *needle;
    } cases[] = {
        {0, 40, 8, 0, "page size"},                  /* page size 0: LMDB 0.9.24 divided by zero */
        {0, 40, 8, 1000, "page size"},
        {1, 40, 8, 8192, NULL},                      /* the two pages disagree */
        {0, 16, 8, 0x12345678, "not an LMDB meta page"},
        {1, 10, 2, 0x0002, "not an LMDB meta page"}, /* flags */
        {0, 20, 8, 2 | (4096ull << 32), "data version"},
        {0, 136, 8, 1000000, "last page"},
        {0, 136, 8, 1, "last page"},
        {0, 128, 8, 1000000, "root page"},           /* main database root */
        {0, 94, 2, 2, "depth"},                      /* main database depth */
        {0, 92, 2, 0x04, "flags"},                   /* main database DUPSORT */
        {1, 144, 8, UINT64_MAX, NULL},               /* the other page becomes the one in use */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        copy_store(f->store, bad);
        off_t at = (cases[i].which ? other : m) + cases[i].off;
        if (cases[i].bytes == 2) patch_u16(bad, at, (unsigned)cases[i].v);
        else if (cases[i].off == 20) patch_u64(bad, at, cases[i].v);
        else patch_u64(bad, at, cases[i].v);
        char what[128];
        snprintf(what, sizeof what, "meta page %d byte %lld set to %" PRIu64, cases[i].which ? 1 - mf.meta : mf.meta,
                 (long long)cases[i].off, cases[i].v);
        expect_open_error(bad, WB_ECORRUPT, "data.mdb", cases[i].needle, what);
    }
    free(bad);
    fx_free(f);
}

/* Damaged root pages (the small store's trees are single pages) are refused
 * at open, with the page and the database named. */
static void test_index_root_pages(void **state) {
    (void)state;
    fx *f = fx_new(WB_DTYPE_F32);
    char *bad = tu_path(f->dir, "bad");
    wb_mdb_file mf;
    index_layout(f->store, &mf);
    const char *dbs[] = {"words", "rows", "meta"};
    for (int k = 0; k < 3; k++) {
        const wb_mdb_db *db = named(&mf, dbs[k]);
        assert_int_equal(db->depth, 1);
        const off_t pg = (off_t)(db->root * mf.psize);
        static const struct { off_t off; unsigned v; const char *needle; } cases[] = {
            {12, 0xffff, "free space"},   /* lower past upper: LMDB would read 32K node offsets */
            {14, 0x2000, "free space"},   /* upper past the page */
            {10, 0x0001, "expected a leaf"},
            {16, 0xfff0, "node 0 starts"}, /* a node past the page end */
            {0, 0x0777, "the header says page"},
        };
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
            copy_store(f->store, bad);
            patch_u16(bad, pg + cases[i].off, cases[i].v);
            char what[128], needle[64];
            snprintf(what, sizeof what, "'%s' root page byte %lld set to 0x%x", dbs[k], (long long)cases[i].off,
                     cases[i].v);
            snprintf(needle, sizeof needle, "the '%s' database", dbs[k]);
            expect_open_error(bad, WB_ECORRUPT, needle, cases[i].needle, what);
        }
        /* the first node's key size, pushed past the page end */
        copy_store(f->store, bad);
        unsigned char b[2];
        char *p = spath(bad, "index.lmdb/data.mdb");
        int fd = open(p, O_RDONLY);
        assert_int_equal(pread(fd, b, 2, pg + 16), 2);
        close(fd);
        free(p);
        patch_u16(bad, pg + (b[0] | b[1] << 8) + 6, 0xfff0);
        expect_open_error(bad, WB_ECORRUPT, dbs[k], "key", "a key size past the page end");
    }
    free(bad);
    fx_free(f);
}

/* In a store whose trees have branch pages, a leaf below the root is not
 * read at open; WB_STORE_OPEN_VERIFY and verify find it. */
static void test_index_deep_page(void **state) {
    (void)state;
    fx *f = fx_new(WB_DTYPE_F32);
    char *big = words_store(f, "big", 3000), *bad = tu_path(f->dir, "bad");
    wb_mdb_file mf;
    index_layout(big, &mf);
    const wb_mdb_db *words = named(&mf, "words");
    assert_true(words->depth >= 2);
    /* The leftmost leaf: the first child of each branch down from the root. */
    char *d = spath(big, "index.lmdb/data.mdb");
    int fd = open(d, O_RDONLY);
    uint64_t pg = words->root;
    for (int level = 0; level + 1 < words->depth; level++) {
        unsigned char h[32];
        assert_int_equal(pread(fd, h, sizeof h, (off_t)(pg * mf.psize)), (ssize_t)sizeof h);
        unsigned off = h[16] | h[17] << 8;
        unsigned char nd[8];
        assert_int_equal(pread(fd, nd, 8, (off_t)(pg * mf.psize + off)), 8);
        pg = (uint64_t)(nd[0] | nd[1] << 8) | (uint64_t)(nd[2] | nd[3] << 8) << 16;
    }
    close(fd);
    free(d);
    copy_store(big, bad);
    patch_u16(bad, (off_t)(pg * mf.psize + 12), 0xffff); /* lower: 32K node offsets */
    wb_store *st = open_ok(bad); /* O(1) open does not read that page */
    wb_verify_report rep;
    wb_err e;
    wb_err_clear(&e);
    assert_int_equal(wb_store_verify(st, &rep, NULL, NULL, &e), WB_ECORRUPT);
    assert_int_equal(rep.index_pages_ok, 0);
    assert_int_equal(rep.index_sum, 0);
    assert_int_equal(rep.index_ok, 0);
    char want[64];
    snprintf(want, sizeof want, "page %" PRIu64 " of the 'words' database", pg);
    if (!strstr(e.msg, want) || !strstr(e.msg, "checksum")) fail_msg("verify says: %s", e.msg);
    wb_store_close(st);
    st = NULL;
    wb_err_clear(&e);
    assert_int_equal(wb_store_open_ex(&st, bad, WB_STORE_OPEN_VERIFY, &e), WB_ECORRUPT);
    assert_null(st);
    if (!strstr(e.msg, want)) fail_msg("open with WB_STORE_OPEN_VERIFY says: %s", e.msg);
    assert_int_equal(wb_store_open_ex(&st, bad, 0x80, &e), WB_EUSAGE);
    /* the process-wide default reaches plain wb_store_open */
    wb_store_set_open_flags(WB_STORE_OPEN_VERIFY);
    assert_int_equal(wb_store_open(&st, bad, &e), WB_ECORRUPT);
    st = open_ok(big);
    wb_store_close(st);
    wb_store_set_open_flags(0);
    free(big), free(bad);
    fx_free(f);
}

/* Rewrite (or add) one key of a store's meta database through LMDB, or with
 * db "words" one word's row; then seal it again, as the converter would. */
static void mdb_put_seal(const char *store, const char *db, const char *key, const void *val, size_t vlen) {
    char *idx = spath(store, "index.lmdb");
    MDB_env *env = NULL;
    MDB_txn *txn = NULL;
    MDB_dbi dbi;
    int mrc = mdb_env_create(&env);
    if (!mrc) mrc = mdb_env_set_maxdbs(env, 4);
    if (!mrc) mrc = mdb_env_set_mapsize(env, 64u << 20);
    if (!mrc) mrc = mdb_env_open(env, idx, MDB_NOLOCK, 0644);
    if (!mrc) mrc = mdb_txn_begin(env, NULL, 0, &txn);
    if (!mrc) mrc = mdb_dbi_open(txn, db, 0, &dbi);
    MDB_val k = {strlen(key), (void *)key}, v = {vlen, (void *)val};
    if (!mrc) mrc = mdb_put(txn, dbi, &k, &v, 0);
    if (!mrc) mrc = mdb_txn_commit(txn), txn = NULL;
    if (txn) mdb_txn_abort(txn);
    mdb_env_close(env);
    if (mrc) fail_msg("LMDB: %s", mdb_strerror(mrc));
    wb_err e;
    if (wb_mdb_seal(idx, &e)) fail_msg("wb_mdb_seal: %s", e.msg);
    free(idx);
}

static void test_index_checksum(void **state) {
    (void)state;
    fx *f = fx_new(WB_DTYPE_F32);
    char *bad = tu_path(f->dir, "bad");
    wb_mdb_file mf;
    index_layout(f->store, &mf);
    /* One byte of a word in the rows database: every page stays well formed. */
    copy_store(f->store, bad);
    const wb_mdb_db *rows = named(&mf, "rows");
    char *d = spath(bad, "index.lmdb/data.mdb");
    int fd = open(d, O_RDONLY);
    unsigned char h[18];
    assert_int_equal(pread(fd, h, sizeof h, (off_t)(rows->root * mf.psize)), (ssize_t)sizeof h);
    close(fd);
    const off_t node = (off_t)(rows->root * mf.psize + (h[16] | h[17] << 8));
    flip_byte(bad, "index.lmdb/data.mdb", node + 8 + 4); /* first byte of the word of the first row */
    wb_store *st = open_ok(bad);
    wb_verify_report rep;
    wb_err e;
    wb_err_clear(&e);
    assert_int_equal(wb_store_verify(st, &rep, NULL, NULL, &e), WB_ECORRUPT);
    assert_int_equal(rep.index_sum, 0);
    assert_int_equal(rep.index_pages_ok, 1);
    assert_int_equal(rep.index_ok, 0); /* that word no longer looks up to its row */
    if (!strstr(e.msg, "checksum")) fail_msg("verify says: %s", e.msg);
    wb_store_close(st);
    st = NULL;
    assert_int_equal(wb_store_open_ex(&st, bad, WB_STORE_OPEN_VERIFY, &e), WB_ECORRUPT);
    if (!strstr(e.msg, "checksum")) fail_msg("open with WB_STORE_OPEN_VERIFY says: %s", e.msg);
    /* The checksum file: missing in a format-2 store, damaged, or naming another size. */
    copy_store(f->store, bad);
    char *sum = spath(bad, "index.lmdb/data.mdb.xxh3");
    size_t n;
    char *text = tu_read_file(sum, &n);
    assert_non_null(text);
    assert_int_equal(unlink(sum), 0);
    expect_open_error(bad, ENOENT, "data.mdb.xxh3", "missing", "no checksum file");
    const char digit = text[n - 2]; /* the self-check's last hex digit */
    text[n - 2] = digit == '0' ? '1' : '0';
    assert_int_equal(tu_write_file(sum, text, n), 0);
    expect_open_error(bad, WB_ECORRUPT, "data.mdb.xxh3", "damaged", "a damaged checksum file");
    text[n - 2] = digit;
    assert_int_equal(tu_write_file(sum, text, n - 1), 0);
    expect_open_error(bad, WB_ECORRUPT, "data.mdb.xxh3", "malformed", "a checksum file without its last newline");
    text[25] = '7'; /* "wordbench index checksum 7" */
    assert_int_equal(tu_write_file(sum, text, n), 0);
    expect_open_error(bad, WB_EVERSION, "data.mdb.xxh3", "upgrade", "a newer checksum file");
    text[25] = '1';
    assert_int_equal(tu_write_file(sum, text, n), 0);
    char *dm = spath(bad, "index.lmdb/data.mdb");
    FILE *fp = fopen(dm, "ab");
    assert_non_null(fp);
    for (int i = 0; i < 4096; i++) fputc(0, fp); /* a page LMDB does not use, but not the sealed file */
    fclose(fp);
    expect_open_error(bad, WB_ECORRUPT, "data.mdb", "checksum file says", "data.mdb grown by a page");
    free(dm), free(text), free(sum), free(d), free(bad);
    fx_free(f);
}

/* A store of format 1 (no checksum file) opens and verifies. */
static void test_format1_store(void **state) {
    (void)state;
    fx *f = fx_new(WB_DTYPE_F32);
    mdb_put_seal(f->store, "meta", "format_version", "1", 1);
    char *sum = spath(f->store, "index.lmdb/data.mdb.xxh3");
    assert_int_equal(unlink(sum), 0);
    wb_store *st = open_ok(f->store);
    assert_int_equal(wb_store_info_get(st)->format_version, 1);
    wb_verify_report rep;
    wb_err e;
    wb_err_clear(&e);
    if (wb_store_verify(st, &rep, NULL, NULL, &e)) fail_msg("verify of a format-1 store: %s", e.msg);
    assert_int_equal(rep.index_sum, -1);
    assert_int_equal(rep.index_pages_ok, 1);
    assert_int_equal(rep.index_ok, 1);
    wb_store_close(st);
    st = NULL;
    assert_int_equal(wb_store_open_ex(&st, f->store, WB_STORE_OPEN_VERIFY, &e), 0);
    wb_store_close(st);
    free(sum);
    fx_free(f);
}

/* Bug 4 of the review: a words entry naming a row past the matrix. */
static void test_lookup_row_out_of_range(void **state) {
    (void)state;
    fx *f = fx_new(WB_DTYPE_F32);
    uint32_t row = 999; /* the store has R rows */
    mdb_put_seal(f->store, "words", "king", &row, 4);
    wb_store *st = open_ok(f->store); /* nothing read at open says otherwise */
    uint32_t got = 7;
    assert_int_equal(wb_store_lookup(st, "king", 4, &got), WB_ECORRUPT);
    assert_int_equal(got, 7);
    int64_t rows[2];
    const char *ws[2] = {"the", "king"};
    const size_t ls[2] = {3, 4};
    assert_int_equal(wb_store_lookup_many(st, 2, ws, ls, rows, NULL), WB_ECORRUPT);
    wb_verify_report rep;
    wb_err e;
    assert_int_equal(wb_store_verify(st, &rep, NULL, NULL, &e), WB_ECORRUPT);
    assert_int_equal(rep.index_ok, 0);
    wb_store_close(st);
    fx_free(f);
}

/* Single-byte changes anywhere in data.mdb (the review's experiment, more
 * often): plain open + verify, and open with WB_STORE_OPEN_VERIFY + reads,
 * each in a child, must return (0 or an error), never crash.  Every other
 * damaged index is sealed again, so that the checksum does not refuse it
 * before the page walk is reached. */
static void test_index_flips_never_crash(void **state) {
    (void)state;
    fx *f = fx_new(WB_DTYPE_F32);
    char *big = words_store(f, "big", 3000), *bad = tu_path(f->dir, "bad");
    char *d = spath(big, "index.lmdb/data.mdb");
    const off_t size = file_size(d);
    const int trials = getenv("WB_TEST_SCALE") ? 60 : 200;
    uint64_t x = 88172645463325252ull;
    int refused = 0;
    for (int t = 0; t < trials; t++) {
        copy_store(big, bad);
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        const off_t off = (off_t)(x % (uint64_t)size);
        const unsigned char v = (unsigned char)(x >> 40);
        patch(bad, "index.lmdb/data.mdb", off, &v, 1);
        if (t % 2) { /* a matching checksum file: only the page walk stands between LMDB and the damage */
            char *idx = spath(bad, "index.lmdb");
            wb_err se;
            (void)wb_mdb_seal(idx, &se);
            free(idx);
        }
        char what[96];
        snprintf(what, sizeof what, "byte %lld of data.mdb set to 0x%02x", (long long)off, v);
        child_result *r = shared_result();
        fflush(NULL);
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
            child_default_signals();
            wb_store *st = NULL;
            wb_err e;
            wb_verify_report rep;
            if (!wb_store_open(&st, bad, &e)) (void)wb_store_verify(st, &rep, NULL, NULL, &e);
            wb_store_close(st);
            st = NULL;
            r->rc = wb_store_open_ex(&st, bad, WB_STORE_OPEN_VERIFY, &e);
            for (uint32_t i = 0; st && i < 3000; i += 7) {
                char w[16];
                uint32_t row;
                const char *word;
                size_t wl;
                int n = snprintf(w, sizeof w, "w%05u", i);
                (void)wb_store_lookup(st, w, (size_t)n, &row);
                (void)wb_store_word(st, i, &word, &wl);
            }
            wb_store_close(st);
            r->reached = 1;
            _exit(0);
        }
        reap(pid, r, what);
        refused += r->rc != 0;
        munmap(r, sizeof *r);
    }
    print_message("  %d single-byte changes of a %lld-byte index: %d refused by a verified open, none crashed\n",
                  trials, (long long)size, refused);
    free(d), free(big), free(bad);
    fx_free(f);
}

/* The review's suspicion: a model file records its store's path, so eval
 * and predict open whatever directory an untrusted model names.  Reading a
 * store is harmless, but a FIFO planted as one of its files made the open
 * wait forever (confirmed: `wordbench info` hung).  Every file is now
 * opened without blocking and must be a regular file. */
static void test_fifo_files(void **state) {
    (void)state;
    fx *f = fx_new(WB_DTYPE_F32);
    char *bad = tu_path(f->dir, "bad");
    static const char *const files[] = {"vectors.npy", "norms.npy", "index.lmdb/data.mdb",
                                        "index.lmdb/data.mdb.xxh3"};
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        copy_store(f->store, bad);
        char *p = spath(bad, files[i]);
        assert_int_equal(unlink(p), 0);
        assert_int_equal(mkfifo(p, 0644), 0);
        char what[96];
        snprintf(what, sizeof what, "a FIFO as %s", files[i]);
        expect_open_error(bad, 0, files[i], NULL, what);
        free(p);
    }
    free(bad);
    fx_free(f);
}

static void test_close_null(void **state) {
    (void)state;
    wb_store_close(NULL);
    wb_store *st = (wb_store *)(uintptr_t)1;
    wb_err e;
    wb_err_clear(&e);
    int rc = wb_store_open(&st, "/nonexistent/wordbench/store", &e);
    assert_int_equal(rc, ENOENT);
    assert_null(st);
    wb_store_close(st);
    /* err may be NULL */
    st = (wb_store *)(uintptr_t)1;
    assert_int_equal(wb_store_open(&st, "/nonexistent/wordbench/store", NULL), ENOENT);
    assert_null(st);
}

/* ---- numpy interop ------------------------------------------------------- */

static const char numpy_py[] =
    "import sys, numpy as np\n"
    "store, dt, R, D = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])\n"
    "i = np.arange(R)[:, None]; j = np.arange(D)[None, :]\n"
    "want = (((i * 3 + j * 7) % 11) - 5) * 0.25 + 0.125\n"
    "v = np.load(store + '/vectors.npy', mmap_mode='r')\n"
    "assert isinstance(v, np.memmap), type(v)\n"
    "assert v.shape == (R, D), v.shape\n"
    "assert v.dtype == np.dtype(dt), v.dtype\n"
    "assert v.offset == 4096, v.offset\n"
    "assert np.array_equal(np.asarray(v, dtype=np.float64), want), np.asarray(v)\n"
    "n = np.load(store + '/norms.npy', mmap_mode='r')\n"
    "assert n.shape == (R,) and n.dtype == np.dtype('<f4'), (n.shape, n.dtype)\n"
    "assert np.allclose(n, np.linalg.norm(want, axis=1), rtol=1e-6), n\n"
    "print('numpy ok')\n";

static void numpy_check(wb_dtype dt) {
    fx *f = fx_new(dt);
    char *script = tu_path(f->dir, "check.py");
    assert_int_equal(tu_write_file(script, numpy_py, strlen(numpy_py)), 0);
    char cmd[2048];
    snprintf(cmd, sizeof cmd, WB_PYTHON " '%s' '%s' '%s' %u %u", script, f->store,
             dt == WB_DTYPE_F32 ? "<f4" : "<f2", R, D);
    char *out = NULL, *errout = NULL;
    int rc = tu_run(cmd, &out, &errout);
    int ok = rc == 0 && out && strstr(out, "numpy ok");
    if (!ok)
        print_error("numpy could not read the %s store (exit %d):\n%s%s", wb_dtype_name(dt), rc, out ? out : "",
                    errout ? errout : "");
    free(out), free(errout), free(script);
    fx_free(f);
    assert_true(ok);
}

static void test_numpy_reads_store(void **state) {
    (void)state;
    if (access(WB_PYTHON, X_OK) != 0 || tu_run(WB_PYTHON " -c 'import numpy'", NULL, NULL) != 0) {
        print_message("numpy interop skipped: " WB_PYTHON " with numpy not available\n");
        skip();
    }
    numpy_check(WB_DTYPE_F32);
    numpy_check(WB_DTYPE_F16);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_open_info),
        cmocka_unit_test(test_open_normalized),
        cmocka_unit_test(test_lookup),
        cmocka_unit_test(test_lookup_long_words),
        cmocka_unit_test(test_word_row_norms),
        cmocka_unit_test(test_gather_f32),
        cmocka_unit_test(test_gather_f16),
        cmocka_unit_test(test_prefetch),
        cmocka_unit_test(test_prefetch_first),
        cmocka_unit_test(test_prefetch_fork),
        cmocka_unit_test(test_verify_ok),
        cmocka_unit_test(test_verify_detects_flipped_vector_byte),
        cmocka_unit_test(test_verify_detects_flipped_norm_byte),
        cmocka_unit_test(test_no_lock_file),
        cmocka_unit_test(test_readonly_store),
        cmocka_unit_test(test_truncated_vectors),
        cmocka_unit_test(test_truncated_norms),
        cmocka_unit_test(test_extended_vectors),
        cmocka_unit_test(test_bad_magic),
        cmocka_unit_test(test_mismatched_vectors),
        cmocka_unit_test(test_missing_norms),
        cmocka_unit_test(test_missing_index),
        cmocka_unit_test(test_truncated_index),
        cmocka_unit_test(test_garbage_index),
        cmocka_unit_test(test_fifo_files),
        cmocka_unit_test(test_not_a_store),
        cmocka_unit_test(test_index_map_size),
        cmocka_unit_test(test_index_meta_pages),
        cmocka_unit_test(test_index_root_pages),
        cmocka_unit_test(test_index_deep_page),
        cmocka_unit_test(test_index_checksum),
        cmocka_unit_test(test_format1_store),
        cmocka_unit_test(test_lookup_row_out_of_range),
        cmocka_unit_test(test_index_flips_never_crash),
        cmocka_unit_test(test_close_null),
        cmocka_unit_test(test_numpy_reads_store),
    };
    return cmocka_run_group_tests_name("store", tests, NULL, remove_all_dirs);
}
