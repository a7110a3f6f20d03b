/*
 * test_dataset.c — specification of the dataset module (src/text/dataset.c).
 *
 * Contains: task detection on the text fixtures, label id order, the binary
 * override error, a vocabulary built from the training part only, split
 * proportions, valid/test files with unknown labels (error and skip), the
 * cache (hit, miss on a changed byte or option, every kind of damage
 * rebuilt, a dead builder's leftovers removed, concurrent builders of one
 * key, a full disk), token counts before truncation and numeric features
 * (also through the cache), the streamed build equal id for id to tokenizing
 * everything in memory and encoding it with wb_vocab_encode (many option
 * sets), uint16 / int32 matrices at the 65536-id boundary, the text modes
 * (first, join, each), wb_dataset_open, listing and clearing a cache
 * directory, and the shared cooking data set when present.
 *
 * Leaves out: the CLI (tests/cli/data_commands.sh, dataset_cache.sh).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <xxhash.h>

#include "testutil.h"
#include "wordbench/dataset.h"
#include "wordbench/err.h"
#include "wordbench/split.h"

#define FX WB_FIXTURES "/text/"

static wb_dataset *build_ok(const wb_dataset_opts *o, wb_dataset_stats *st) {
    wb_dataset *ds = NULL;
    wb_err e;
    wb_err_clear(&e);
    int rc = wb_dataset_build(&ds, o, st, &e);
    if (rc) {
        char buf[2048];
        print_error("build failed: %s: %s\n", wb_strerror(rc), wb_err_format(&e, buf, sizeof buf));
    }
    assert_int_equal(rc, 0);
    assert_non_null(ds);
    return ds;
}

/* Id t of row i of input 0. */
static int32_t X(const wb_dataset *ds, size_t i, size_t t) { return wb_ids_at(wb_dataset_ids(ds), i, t); }

static wb_task task_of(const char *path, const wb_reader_opts *r) {
    wb_dataset_opts o;
    wb_dataset_opts_init(&o);
    o.train_path = path;
    if (r) o.reader = *r;
    wb_dataset *ds = build_ok(&o, NULL);
    wb_task t = wb_dataset_task(ds);
    wb_dataset_destroy(ds);
    return t;
}

static void test_task_detection(void **state) {
    (void)state;
    assert_int_equal(task_of(FX "noheader.tsv", NULL), WB_TASK_BINARY);
    assert_int_equal(task_of(FX "header.tsv", NULL), WB_TASK_BINARY);
    assert_int_equal(task_of(FX "crlf.tsv", NULL), WB_TASK_BINARY);
    assert_int_equal(task_of(FX "cooking.txt", NULL), WB_TASK_MULTILABEL);
    wb_reader_opts r = {0};
    r.label_sep = " ";
    assert_int_equal(task_of(FX "multi.tsv", &r), WB_TASK_MULTILABEL);
    static const char *const body[] = {"body"};
    wb_reader_opts c = {0};
    c.text_cols = body;
    c.n_text_cols = 1;
    c.label_col = "tags";
    c.label_sep = " ";
    assert_int_equal(task_of(FX "basic.csv", &c), WB_TASK_MULTILABEL);
    c.label_col = "title";
    c.label_sep = NULL;
    assert_int_equal(task_of(FX "basic.csv", &c), WB_TASK_MULTICLASS);

    /* forced multilabel on binary data is accepted */
    wb_dataset_opts o;
    wb_dataset_opts_init(&o);
    o.train_path = FX "noheader.tsv";
    o.task = WB_TASK_MULTILABEL;
    wb_dataset *ds = build_ok(&o, NULL);
    assert_int_equal(wb_dataset_task(ds), WB_TASK_MULTILABEL);
    wb_dataset_destroy(ds);

    /* forced multiclass on multi-label data names the record */
    o.train_path = FX "cooking.txt";
    o.task = WB_TASK_MULTICLASS;
    wb_err e;
    wb_err_clear(&e);
    assert_int_equal(wb_dataset_build(&ds, &o, NULL, &e), WB_EFORMAT);
    assert_null(ds);
    assert_int_equal(e.line, 1);
    assert_string_equal(wb_task_name(WB_TASK_BINARY), "binary");
    assert_int_equal(wb_task_parse("multilabel"), WB_TASK_MULTILABEL);
    assert_int_equal(wb_task_parse("nope"), -1);
}

static void test_label_ids_order(void **state) {
    (void)state;
    char *dir = tu_tmpdir();
    char *p = tu_path(dir, "spam.tsv");
    const char *txt = "buy now\tspam\nhello friend\tham\nfree money\tspam\nlunch?\tham\n";
    assert_int_equal(tu_write_file(p, txt, strlen(txt)), 0);
    wb_dataset_opts o;
    wb_dataset_opts_init(&o);
    o.train_path = p;
    wb_dataset *ds = build_ok(&o, NULL);
    assert_int_equal(wb_dataset_task(ds), WB_TASK_BINARY);
    assert_int_equal(wb_dataset_nlabels(ds), 2);
    size_t len;
    assert_string_equal(wb_dataset_label_name(ds, 0, &len), "ham");
    assert_int_equal(len, 3);
    assert_string_equal(wb_dataset_label_name(ds, 1, NULL), "spam");
    assert_null(wb_dataset_label_name(ds, 2, NULL));
    assert_int_equal(wb_dataset_label_find(ds, "spam", 4), 1);
    assert_int_equal(wb_dataset_label_find(ds, "eggs", 4), -1);
    const size_t *off;
    const uint32_t *ids;
    assert_int_equal(wb_dataset_labels(ds, &off, &ids), 4);
    uint32_t want[4] = {1, 0, 1, 0};
    for (int i = 0; i < 4; i++) {
        assert_int_equal(off[i + 1] - off[i], 1);
        assert_int_equal(ids[off[i]], want[i]);
    }
    wb_dataset_destroy(ds);

    /* "0" / "1" labels: 0 = "0" */
    wb_dataset_opts_init(&o);
    o.train_path = FX "noheader.tsv";
    ds = build_ok(&o, NULL);
    assert_string_equal(wb_dataset_label_name(ds, 0, NULL), "0");
    assert_string_equal(wb_dataset_label_name(ds, 1, NULL), "1");
    wb_dataset_labels(ds, &off, &ids);
    assert_int_equal(ids[0], 1); /* "Wow... Loved this place." 1 */
    assert_int_equal(ids[1], 0);
    wb_dataset_destroy(ds);

    /* multi-label: sorted, duplicates once */
    const char *ft = "__label__b __label__a __label__b x y\n__label__c z\n";
    assert_int_equal(tu_write_file(p, ft, strlen(ft)), 0);
    wb_dataset_opts_init(&o);
    o.train_path = p;
    o.reader.format = WB_READER_FASTTEXT;
    ds = build_ok(&o, NULL);
    assert_int_equal(wb_dataset_task(ds), WB_TASK_MULTILABEL);
    assert_int_equal(wb_dataset_labels(ds, &off, &ids), 3);
    assert_int_equal(off[1], 2);
    assert_int_equal(ids[0], 0);
    assert_int_equal(ids[1], 1);
    assert_int_equal(ids[2], 2);
    wb_dataset_destroy(ds);
    tu_rmrf(dir);
    free(p);
    free(dir);
}

static void test_binary_override_error(void **state) {
    (void)state;
    char *dir = tu_tmpdir();
    char *p = tu_path(dir, "three.tsv");
    const char *txt = "one\tx\ntwo\ty\nthree\tx\nfour\tzed\nfive\ty\n";
    assert_int_equal(tu_write_file(p, txt, strlen(txt)), 0);
    wb_dataset_opts o;
    wb_dataset_opts_init(&o);
    o.train_path = p;
    wb_dataset *ds = build_ok(&o, NULL);
    assert_int_equal(wb_dataset_task(ds), WB_TASK_MULTICLASS);
    wb_dataset_destroy(ds);
    o.task = WB_TASK_BINARY;
    wb_err e;
    wb_err_clear(&e);
    assert_int_equal(wb_dataset_build(&ds, &o, NULL, &e), WB_EFORMAT);
    assert_null(ds);
    assert_string_equal(e.file, p);
    assert_int_equal(e.line, 4);
    assert_non_null(strstr(e.msg, "\"zed\""));
    wb_dataset_destroy(NULL);
    tu_rmrf(dir);
    free(p);
    free(dir);
}

/* dir/train.tsv, valid.tsv, test.tsv holding t1, t2, t3 (paths malloc'd). */
static void write3(const char *dir, const char *t1, const char *t2, const char *t3, char **tr, char **va, char **te) {
    *tr = tu_path(dir, "train.tsv"), *va = tu_path(dir, "valid.tsv"), *te = tu_path(dir, "test.tsv");
    assert_int_equal(tu_write_file(*tr, t1, strlen(t1)), 0);
    assert_int_equal(tu_write_file(*va, t2, strlen(t2)), 0);
    assert_int_equal(tu_write_file(*te, t3, strlen(t3)), 0);
}

/* n rows "w<i> common<c>" with class c; rows i%10 < 3 are class b. */
static char *write_rows(const char *dir, const char *name, int n) {
    char *p = tu_path(dir, name);
    size_t cap = (size_t)n * 64 + 1, len = 0;
    char *buf = malloc(cap);
    for (int i = 0; i < n; i++)
        len += (size_t)snprintf(buf + len, cap - len, "w%d shared word\t%s\n", i,
                                i % 10 < 3 ? "b" : "a");
    assert_int_equal(tu_write_file(p, buf, len), 0);
    free(buf);
    return p;
}

static void test_train_only_vocab_and_split(void **state) {
    (void)state;
    char *dir = tu_tmpdir();
    char *p = write_rows(dir, "rows.tsv", 100);
    wb_dataset_opts o;
    wb_dataset_opts_init(&o);
    o.train_path = p;
    o.test_fraction = 0.2;
    o.seed = 7;
    o.maxlen = 4;
    wb_dataset_stats st;
    wb_dataset *ds = build_ok(&o, &st);
    assert_int_equal(wb_dataset_n(ds), 100);
    assert_int_equal(wb_dataset_maxlen(ds), 4);
    assert_int_equal(st.n_test, 20);
    assert_int_equal(st.n_train, 80);
    assert_int_equal(st.n_valid, 0);
    assert_int_equal(st.cache_hit, 0);
    const uint8_t *sp = wb_dataset_split(ds);
    const size_t *off;
    const uint32_t *ids;
    wb_dataset_labels(ds, &off, &ids);
    int test_by_class[2] = {0, 0};
    const wb_vocab *v = wb_dataset_vocab(ds);
    assert_int_equal(wb_vocab_size(v), 2 + 2 + 80); /* shared, word, 80 train-only words */
    assert_int_equal(wb_dataset_ids(ds)->width, 2);  /* uint16: the vocabulary fits */
    for (int i = 0; i < 100; i++) {
        char w[16];
        int wl = snprintf(w, sizeof w, "w%d", i);
        int32_t id = wb_vocab_lookup(v, w, (size_t)wl);
        if (sp[i] == WB_DS_TEST) {
            test_by_class[ids[off[i]]]++;
            assert_int_equal(id, 1);          /* only in the test part: OOV */
            assert_int_equal(X(ds, i, 0), 1);
        } else {
            assert_int_equal(sp[i], WB_DS_TRAIN);
            assert_true(id >= 2);
            assert_int_equal(X(ds, i, 0), id);
        }
        assert_int_equal(X(ds, i, 1), wb_vocab_lookup(v, "shared", 6));
        assert_int_equal(X(ds, i, 3), 0); /* post padding */
    }
    /* stratified: 70 a / 30 b -> 14 and 6 in test */
    assert_int_equal(test_by_class[0], 14);
    assert_int_equal(test_by_class[1], 6);
    wb_dataset_destroy(ds);

    /* same seed, same split; and a bad fraction is a usage error */
    o.test_fraction = 1.5;
    wb_err e;
    assert_int_equal(wb_dataset_build(&ds, &o, NULL, &e), WB_EUSAGE);
    o.test_fraction = 0.2;
    o.maxlen = (1u << 24) + 1;
    assert_int_equal(wb_dataset_build(&ds, &o, NULL, &e), WB_EUSAGE);
    /* maxlen 0: token counts and vocabulary, no id matrix */
    o.maxlen = 0;
    ds = build_ok(&o, &st);
    assert_null(wb_dataset_ids(ds));
    assert_int_equal(wb_dataset_maxlen(ds), 0);
    assert_int_equal(wb_dataset_lengths(ds)[0], 3);
    assert_int_equal(wb_vocab_size(wb_dataset_vocab(ds)), 2 + 2 + 80);
    assert_int_equal(st.n_test, 20);
    wb_dataset_destroy(ds);
    tu_rmrf(dir);
    free(p);
    free(dir);
}

static void test_valid_test_files(void **state) {
    (void)state;
    char *dir = tu_tmpdir(), *tr, *va, *te;
    write3(dir, "good film\tpos\nbad film\tneg\nfine film\tpos\n",
           "great\tpos\nawful film\tneg\nmeh\tneutral\nok\tpos\n", "good\tneg\n", &tr, &va, &te);
    wb_dataset_opts o;
    wb_dataset_opts_init(&o);
    o.train_path = tr;
    o.valid_path = va;
    o.test_path = te;
    wb_dataset *ds = NULL;
    wb_err e;
    wb_err_clear(&e);
    assert_int_equal(wb_dataset_build(&ds, &o, NULL, &e), WB_EFORMAT);
    assert_null(ds);
    assert_string_equal(e.file, va);
    assert_int_equal(e.line, 3);
    assert_non_null(strstr(e.msg, "neutral"));

    o.unknown_skip = 1;
    wb_dataset_stats st;
    ds = build_ok(&o, &st);
    assert_int_equal(st.skipped_unknown, 1);
    assert_int_equal(wb_dataset_n(ds), 3 + 3 + 1);
    assert_int_equal(st.n_train, 3);
    assert_int_equal(st.n_valid, 3);
    assert_int_equal(st.n_test, 1);
    const uint8_t *sp = wb_dataset_split(ds);
    assert_int_equal(sp[0], WB_DS_TRAIN);
    assert_int_equal(sp[3], WB_DS_VALID);
    assert_int_equal(sp[6], WB_DS_TEST);
    assert_int_equal(X(ds, 3, 0), 1); /* "great": not in training -> OOV */
    assert_int_equal(X(ds, 6, 0), wb_vocab_lookup(wb_dataset_vocab(ds), "good", 4));
    wb_dataset_destroy(ds);

    /* a test file and a test fraction together */
    o.test_fraction = 0.5;
    assert_int_equal(wb_dataset_build(&ds, &o, NULL, &e), WB_EUSAGE);
    tu_rmrf(dir);
    free(tr);
    free(va);
    free(te);
    free(dir);
}

static int same_dataset(const wb_dataset *a, const wb_dataset *b) {
    if (wb_dataset_n(a) != wb_dataset_n(b) || wb_dataset_maxlen(a) != wb_dataset_maxlen(b))
        return 0;
    size_t n = wb_dataset_n(a), ml = wb_dataset_maxlen(a);
    const wb_ids *xa = wb_dataset_ids(a), *xb = wb_dataset_ids(b);
    if ((xa == NULL) != (xb == NULL)) return 0;
    if (xa && (xa->width != xb->width || memcmp(xa->data, xb->data, n * ml * xa->width))) return 0;
    if (memcmp(wb_dataset_split(a), wb_dataset_split(b), n)) return 0;
    const size_t *oa, *ob;
    const uint32_t *ia, *ib;
    size_t na = wb_dataset_labels(a, &oa, &ia), nb = wb_dataset_labels(b, &ob, &ib);
    if (na != nb || memcmp(oa, ob, (n + 1) * sizeof *oa) || memcmp(ia, ib, na * sizeof *ia))
        return 0;
    if (wb_dataset_task(a) != wb_dataset_task(b) || wb_dataset_nlabels(a) != wb_dataset_nlabels(b))
        return 0;
    for (uint32_t i = 0; i < wb_dataset_nlabels(a); i++)
        if (strcmp(wb_dataset_label_name(a, i, NULL), wb_dataset_label_name(b, i, NULL))) return 0;
    void *va, *vb;
    size_t la, lb;
    if (wb_vocab_save_buf(wb_dataset_vocab(a), &va, &la, NULL)) return 0;
    if (wb_vocab_save_buf(wb_dataset_vocab(b), &vb, &lb, NULL)) {
        free(va);
        return 0;
    }
    int same = la == lb && !memcmp(va, vb, la);
    free(va);
    free(vb);
    if (memcmp(wb_dataset_lengths(a), wb_dataset_lengths(b), n * sizeof(uint32_t))) return 0;
    if (wb_dataset_vocab_distinct(a) != wb_dataset_vocab_distinct(b)) return 0;
    size_t fa, fb;
    const double *ga = wb_dataset_features(a, &fa), *gb = wb_dataset_features(b, &fb);
    if (fa != fb || (fa && memcmp(ga, gb, n * fa * sizeof *ga))) return 0;
    return same;
}

static void test_lengths_and_features(void **state) {
    (void)state;
    char *dir = tu_tmpdir();
    char *cdir = tu_path(dir, "cache");
    assert_int_equal(mkdir(cdir, 0700), 0);
    static const char *const body[] = {"body"};
    static const char *const score[] = {"score", "id"};
    wb_dataset_opts o;
    wb_dataset_opts_init(&o);
    o.train_path = FX "basic.csv";
    o.reader.text_cols = body;
    o.reader.n_text_cols = 1;
    o.reader.label_col = "tags";
    o.reader.label_sep = " ";
    o.reader.feature_cols = score;
    o.reader.n_feature_cols = 2;
    o.maxlen = 2;
    o.cache_dir = cdir;
    wb_dataset_stats st;
    wb_dataset *a = build_ok(&o, &st);
    assert_int_equal(st.cache_written, 1);
    assert_int_equal(st.format, WB_READER_CSV);
    assert_int_equal(wb_dataset_n(a), 3);
    /* "He said ""hi""\nand left." / "multi\n\nline, body" / "short": untruncated counts */
    const uint32_t *len = wb_dataset_lengths(a);
    assert_int_equal(len[0], 5);
    assert_int_equal(len[1], 3);
    assert_int_equal(len[2], 1);
    assert_true(X(a, 0, 0) >= 2 && X(a, 0, 1) >= 2); /* truncated to 2 */
    assert_true(X(a, 2, 0) >= 2 && X(a, 2, 1) == 0); /* padded */
    assert_string_equal(wb_dataset_feature_name(a, 1), "id");
    assert_null(wb_dataset_feature_name(a, 2));
    size_t nf;
    const double *f = wb_dataset_features(a, &nf);
    assert_int_equal(nf, 2);
    assert_non_null(f);
    const double want[6] = {1.5, 1, -2000, 2, 0, 3};
    for (int i = 0; i < 6; i++) assert_true(f[i] == want[i]);

    /* the cache keeps both */
    wb_dataset *b = build_ok(&o, &st);
    assert_int_equal(st.cache_hit, 1);
    assert_int_equal(st.format, WB_READER_CSV);
    assert_true(same_dataset(a, b));
    wb_dataset_destroy(b);

    /* distinct words survive the cache even when num_words cuts them */
    o.num_words = 3;
    b = build_ok(&o, &st);
    assert_int_equal(st.cache_written, 1);
    size_t distinct = wb_dataset_vocab_distinct(b);
    assert_true(distinct > 1);
    assert_int_equal(wb_vocab_size(wb_dataset_vocab(b)), 3);
    wb_dataset_destroy(b);
    b = build_ok(&o, &st);
    assert_int_equal(st.cache_hit, 1);
    assert_int_equal(wb_dataset_vocab_distinct(b), distinct);
    wb_dataset_destroy(b);
    o.num_words = 0;

    /* without feature columns: none */
    o.reader.n_feature_cols = 0;
    o.reader.feature_cols = NULL;
    b = build_ok(&o, &st);
    assert_null(wb_dataset_features(b, &nf));
    assert_int_equal(nf, 0);
    wb_dataset_destroy(b);

    /* a valid file that gives no features (TSV) next to a CSV training file */
    char *va = tu_path(dir, "valid.tsv");
    const char *vt = "body\ttags\nnice oven\toven\n";
    assert_int_equal(tu_write_file(va, vt, strlen(vt)), 0);
    o.reader.feature_cols = score;
    o.reader.n_feature_cols = 2;
    o.valid_path = va;
    o.cache_dir = NULL;
    wb_err e;
    wb_err_clear(&e);
    assert_int_equal(wb_dataset_build(&b, &o, NULL, &e), WB_EFORMAT);
    assert_string_equal(e.file, va);
    assert_non_null(strstr(e.msg, "features"));

    wb_dataset_destroy(a);
    tu_rmrf(dir);
    free(va);
    free(cdir);
    free(dir);
}

static void test_cache(void **state) {
    (void)state;
    char *dir = tu_tmpdir();
    char *cdir = tu_path(dir, "cache");
    assert_int_equal(mkdir(cdir, 0700), 0);
    char *p = write_rows(dir, "rows.tsv", 50);
    wb_dataset_opts o;
    wb_dataset_opts_init(&o);
    o.train_path = p;
    o.test_fraction = 0.3;
    o.seed = 3;
    o.maxlen = 5;
    o.cache_dir = cdir;

    wb_dataset_stats s1, s2;
    wb_dataset *a = build_ok(&o, &s1);
    assert_int_equal(s1.cache_hit, 0);
    assert_int_equal(s1.cache_written, 1);
    assert_int_equal(s1.cache_rejected, 0);
    wb_dataset *b = build_ok(&o, &s2);
    assert_int_equal(s2.cache_hit, 1);
    assert_true(s1.key == s2.key);
    assert_int_equal(s2.n_test, s1.n_test);
    assert_true(same_dataset(a, b));
    wb_dataset_destroy(b);

    /* the data set is the directory <key>.wbds, with a meta file */
    char name[64];
    snprintf(name, sizeof name, "%016llx.wbds", (unsigned long long)s1.key);
    char *dsdir = tu_path(cdir, name);
    assert_string_equal(wb_dataset_path(a), dsdir);
    char *cf = tu_path(dsdir, "meta.wbd");
    char *xf = tu_path(dsdir, "x0.npy");
    size_t clen, xlen;
    char *cbytes = tu_read_file(cf, &clen);
    char *xbytes = tu_read_file(xf, &xlen);
    assert_non_null(cbytes);
    assert_non_null(xbytes);
    assert_memory_equal(cbytes, "WBDSET\0\0", 8);
    assert_memory_equal(xbytes, "\x93NUMPY", 6);
    assert_int_equal(xlen, 4096 + 50 * 5 * 2);

    /* an option change: a different key, a miss */
    o.maxlen = 6;
    b = build_ok(&o, &s2);
    assert_int_equal(s2.cache_hit, 0);
    assert_true(s2.key != s1.key);
    wb_dataset_destroy(b);
    o.maxlen = 5;

    /* damage, then rebuilt: one byte of the meta file, one id of the
     * matrix, a truncated meta file, a truncated matrix, a missing array */
    for (int how = 0; how < 5; how++) {
        char *cb = tu_read_file(cf, &clen), *xb = tu_read_file(xf, &xlen);
        if (how == 0) cb[clen / 2] ^= 0x40, assert_int_equal(tu_write_file(cf, cb, clen), 0);
        if (how == 1) xb[4096 + 7] ^= 0x01, assert_int_equal(tu_write_file(xf, xb, xlen), 0);
        if (how == 2) assert_int_equal(tu_write_file(cf, cb, 20), 0);
        if (how == 3) assert_int_equal(tu_write_file(xf, xb, xlen - 2), 0);
        if (how == 4) assert_int_equal(unlink(xf), 0);
        free(cb);
        free(xb);
        b = build_ok(&o, &s2);
        if (s2.cache_hit || !s2.cache_rejected || !s2.cache_written) fail_msg("damage %d was not rebuilt", how);
        assert_true(same_dataset(a, b));
        wb_dataset_destroy(b);
        b = build_ok(&o, &s2); /* rewritten: a hit again */
        assert_int_equal(s2.cache_hit, 1);
        wb_dataset_destroy(b);
    }
    free(cbytes);
    free(xbytes);

    /* a dead builder's leftover is removed by the next build of its key */
    char tname[80];
    snprintf(tname, sizeof tname, "%016llx.wbds.tmp-999999", (unsigned long long)s1.key);
    char *left = tu_path(cdir, tname);
    assert_int_equal(mkdir(left, 0700), 0);
    tu_rmrf(dsdir);
    b = build_ok(&o, &s2);
    assert_int_equal(s2.cache_written, 1);
    assert_int_equal(access(left, F_OK), -1);
    wb_dataset_destroy(b);
    free(left);

    /* the mapped data set outlives its directory; released pages come back */
    tu_rmrf(dsdir);
    assert_true(same_dataset(a, a));
    assert_true(wb_dataset_mapped_bytes(a) > 5 * 4096); /* x0, len0, labels (2), split */
    assert_true(wb_dataset_resident_bytes(a) > 0);
    wb_dataset_release_pages(a);
    assert_true(same_dataset(a, a));
    b = build_ok(&o, &s2);
    assert_int_equal(s2.cache_written, 1);
    assert_true(same_dataset(a, b));
    wb_dataset_destroy(b);

    /* one changed input byte: a different key, a miss */
    size_t plen;
    char *pb = tu_read_file(p, &plen);
    pb[0] = 'W';
    assert_int_equal(tu_write_file(p, pb, plen), 0);
    free(pb);
    b = build_ok(&o, &s2);
    assert_int_equal(s2.cache_hit, 0);
    assert_int_equal(s2.cache_rejected, 0);
    assert_true(s2.key != s1.key);
    wb_dataset_destroy(b);

    wb_dataset_destroy(a);
    tu_rmrf(dir);
    free(cf);
    free(xf);
    free(dsdir);
    free(p);
    free(cdir);
    free(dir);
}

/* ---- the streamed build equals the in-memory one ------------------------- */

/* The reference: every record's texts kept in memory, the vocabulary counted
 * over the rows the data set puts in the training split, in row order, each
 * row encoded with wb_vocab_encode (first text) or by concatenating the full
 * encodings (join). */
typedef struct ref {
    const wb_dataset *ds;
    const wb_dataset_opts *o;
    char **texts;               /* (n * ntext) */
    size_t n, cap, ntext;
    int other;                  /* reading a valid/test file */
} ref;

static int ref_on(void *ud, const wb_example *ex) {
    ref *r = ud;
    if (r->other && r->o->unknown_skip)
        for (size_t l = 0; l < ex->n_labels; l++)
            if (wb_dataset_label_find(r->ds, ex->labels[l].ptr, ex->labels[l].len) < 0) return 0;
    r->ntext = ex->n_texts;
    if (r->n == r->cap) {
        r->cap = r->cap ? 2 * r->cap : 64;
        r->texts = realloc(r->texts, r->cap * 8 * sizeof *r->texts);
    }
    assert_true(ex->n_texts <= 8);
    for (size_t j = 0; j < ex->n_texts; j++) r->texts[r->n * 8 + j] = strndup(ex->texts[j].ptr, ex->texts[j].len);
    r->n++;
    return 0;
}

/* All ids of texts [a, b) of row i under v into out (grown); the count. */
static size_t ref_ids(const ref *r, const wb_vocab *v, size_t i, size_t a, size_t b, int32_t **out, wb_token_list *tl) {
    size_t n = 0;
    for (size_t j = a; j < b; j++) {
        const char *t = r->texts[i * 8 + j];
        assert_int_equal(wb_tokenize(&r->o->tok, t, strlen(t), tl, NULL), 0);
        *out = realloc(*out, (n + tl->n + 1) * sizeof **out);
        if (tl->n) assert_int_equal(wb_vocab_encode(v, tl, tl->n, WB_PAD_POST, WB_PAD_POST, *out + n, NULL, NULL), 0);
        n += tl->n;
    }
    return n;
}

static void check_in_memory(const wb_dataset_opts *o, const char *what) {
    wb_dataset *ds = build_ok(o, NULL);
    ref r = {ds, o, NULL, 0, 0, 0, 0};
    const char *files[3] = {o->train_path, o->valid_path, o->test_path};
    for (int k = 0; k < 3; k++) {
        if (!files[k]) continue;
        r.other = k > 0;
        assert_int_equal(wb_reader_read(files[k], &o->reader, ref_on, &r, NULL, NULL), 0);
    }
    if (r.n != wb_dataset_n(ds)) fail_msg("%s: %zu records, %zu rows", what, r.n, wb_dataset_n(ds));
    const uint8_t *sp = wb_dataset_split(ds);
    wb_token_list tl;
    wb_token_list_init(&tl);
    int32_t *ids = NULL, *row = NULL;
    size_t K = wb_dataset_ninputs(ds);
    assert_int_equal(K, o->text_mode == WB_TEXT_EACH ? r.ntext : 1);
    for (size_t k = 0; k < K; k++) {
        const wb_dataset_input *in = wb_dataset_input_get(ds, k);
        size_t a = o->text_mode == WB_TEXT_EACH ? k : 0;
        size_t b = o->text_mode == WB_TEXT_JOIN ? r.ntext : a + 1;
        wb_vocab *v;
        assert_int_equal(wb_vocab_create(&v, NULL), 0);
        for (size_t i = 0; i < r.n; i++) {
            if (sp[i] != WB_DS_TRAIN) continue;
            for (size_t j = a; j < b; j++) {
                const char *t = r.texts[i * 8 + j];
                assert_int_equal(wb_tokenize(&o->tok, t, strlen(t), &tl, NULL), 0);
                assert_int_equal(wb_vocab_add(v, &tl, NULL), 0);
            }
        }
        size_t distinct = wb_vocab_distinct(v);
        assert_int_equal(wb_vocab_finish(v, o->num_words, o->min_count, NULL), 0);
        void *va, *vb;
        size_t la, lb;
        assert_int_equal(wb_vocab_save_buf(v, &va, &la, NULL), 0);
        assert_int_equal(wb_vocab_save_buf(in->vocab, &vb, &lb, NULL), 0);
        if (la != lb || memcmp(va, vb, la)) fail_msg("%s: input %zu: another vocabulary", what, k);
        free(va), free(vb);
        if (in->distinct != distinct) fail_msg("%s: input %zu: %zu distinct, want %zu", what, k, in->distinct, distinct);
        const size_t T = in->maxlen;
        row = realloc(row, (T + 1) * sizeof *row);
        for (size_t i = 0; i < r.n; i++) {
            size_t n = ref_ids(&r, v, i, a, b, &ids, &tl);
            if (in->lengths[i] != n) fail_msg("%s: input %zu row %zu: length %u, want %zu", what, k, i, in->lengths[i], n);
            if (!T) continue;
            if (b == a + 1) { /* one text: wb_vocab_encode itself is the reference */
                const char *t = r.texts[i * 8 + a];
                assert_int_equal(wb_tokenize(&o->tok, t, strlen(t), &tl, NULL), 0);
                assert_int_equal(wb_vocab_encode(v, &tl, T, o->padding, o->truncating, row, NULL, NULL), 0);
            } else {
                size_t first, kept, dst;
                wb_pad_window(n, T, o->padding, o->truncating, &first, &kept, &dst);
                memset(row, 0, T * sizeof *row);
                memcpy(row + dst, ids + first, kept * sizeof *row);
            }
            for (size_t t = 0; t < T; t++)
                if (wb_ids_at(in->ids, i, t) != row[t])
                    fail_msg("%s: input %zu row %zu id %zu: %d, want %d", what, k, i, t, wb_ids_at(in->ids, i, t), row[t]);
        }
        wb_vocab_destroy(v);
    }
    for (size_t i = 0; i < r.n * 8; i++)
        if (i % 8 < r.ntext) free(r.texts[i]);
    free(r.texts), free(ids), free(row);
    wb_token_list_free(&tl);
    wb_dataset_destroy(ds);
}

static void test_same_as_in_memory(void **state) {
    (void)state;
    char *dir = tu_tmpdir();
    char *rows = write_rows(dir, "rows.tsv", 300);
    char *tr, *va, *te;
    write3(dir, "good film good\tpos\nbad film\tneg\nfine film, fine cast\tpos\nawful awful\tneg\n",
           "great film\tpos\nawful film\tneg\nmeh\tneutral\nok good\tpos\n", "good bad fine cast\tneg\n", &tr, &va,
           &te);
    wb_dataset_opts o;

    wb_dataset_opts_init(&o); /* a split training file, cut vocabulary */
    o.train_path = rows, o.test_fraction = 0.3, o.seed = 3, o.min_count = 2, o.num_words = 50, o.maxlen = 3;
    check_in_memory(&o, "split, min_count, num_words");
    o.min_count = 0, o.num_words = 0, o.padding = WB_PAD_PRE, o.truncating = WB_PAD_PRE, o.maxlen = 2;
    o.split_mode = WB_SPLIT_RANDOM;
    check_in_memory(&o, "pre/pre, random split");
    o.maxlen = 0;
    check_in_memory(&o, "no matrix");

    wb_dataset_opts_init(&o); /* valid and test files, an unknown label skipped */
    o.train_path = tr, o.valid_path = va, o.test_path = te, o.unknown_skip = 1, o.maxlen = 3;
    check_in_memory(&o, "valid and test files");
    o.tok.kind = WB_TOK_CHAR, o.tok.alphabet = "abcdefg", o.maxlen = 7; /* empty tokens: unknown characters */
    check_in_memory(&o, "char tokenizer");

    wb_dataset_opts_init(&o); /* fastText, multi-label, iterative split */
    o.train_path = FX "cooking.txt", o.test_fraction = 0.25, o.seed = 9, o.maxlen = 5;
    check_in_memory(&o, "cooking.txt");

    static const char *const cols[] = {"title", "body"};
    static const size_t mls[] = {2, 5};
    wb_dataset_opts_init(&o); /* CSV with two text columns: first, join, each */
    o.train_path = FX "basic.csv", o.reader.text_cols = cols, o.reader.n_text_cols = 2, o.reader.label_col = "tags";
    o.reader.label_sep = " ", o.maxlen = 4;
    check_in_memory(&o, "csv first");
    o.text_mode = WB_TEXT_JOIN;
    check_in_memory(&o, "csv join");
    o.text_mode = WB_TEXT_EACH;
    check_in_memory(&o, "csv each, one maxlen");
    o.maxlens = mls;
    check_in_memory(&o, "csv each, maxlens");

    tu_rmrf(dir);
    free(rows), free(tr), free(va), free(te), free(dir);
}

static void test_text_modes(void **state) {
    (void)state;
    static const char *const cols[] = {"title", "body"};
    static const size_t mls[] = {2, 5};
    wb_dataset_opts o;
    wb_dataset_opts_init(&o);
    o.train_path = FX "basic.csv", o.reader.text_cols = cols, o.reader.n_text_cols = 2, o.reader.label_col = "tags";
    o.reader.label_sep = " ";
    wb_dataset *ds = build_ok(&o, NULL);
    assert_int_equal(wb_dataset_ninputs(ds), 1);
    assert_string_equal(wb_dataset_input_get(ds, 0)->name, "title");
    assert_null(wb_dataset_input_get(ds, 1));
    wb_dataset_destroy(ds);
    o.text_mode = WB_TEXT_JOIN;
    ds = build_ok(&o, NULL);
    assert_int_equal(wb_dataset_ninputs(ds), 1);
    assert_string_equal(wb_dataset_input_get(ds, 0)->name, "title+body");
    assert_int_equal(wb_dataset_lengths(ds)[0], 2 + 5); /* "hello world" + "he said hi and left" */
    wb_dataset_destroy(ds);
    o.text_mode = WB_TEXT_EACH, o.maxlens = mls;
    ds = build_ok(&o, NULL);
    assert_int_equal(wb_dataset_ninputs(ds), 2);
    const wb_dataset_input *a = wb_dataset_input_get(ds, 0), *b = wb_dataset_input_get(ds, 1);
    assert_string_equal(a->name, "title");
    assert_string_equal(b->name, "body");
    assert_int_equal(a->maxlen, 2);
    assert_int_equal(b->maxlen, 5);
    assert_int_equal(a->ids->T, 2);
    assert_int_equal(b->ids->T, 5);
    assert_int_equal(wb_vocab_lookup(a->vocab, "short", 5), 1); /* a body word: not in the title vocabulary */
    assert_true(wb_vocab_lookup(b->vocab, "short", 5) >= 2);
    assert_int_equal(wb_ids_at(b->ids, 2, 0), wb_vocab_lookup(b->vocab, "short", 5));
    assert_int_equal(wb_dataset_maxlen(ds), 2); /* input 0 */
    wb_dataset_destroy(ds);
    /* maxlens without the mode each: a usage error */
    o.text_mode = WB_TEXT_FIRST;
    wb_err e;
    assert_int_equal(wb_dataset_build(&ds, &o, NULL, &e), WB_EUSAGE);
}

/* uint16 while the vocabulary has at most 65536 ids, int32 above */
static void test_id_width(void **state) {
    (void)state;
    char *dir = tu_tmpdir();
    char *p = tu_path(dir, "wide.tsv");
    enum { W = 70000 };
    char *buf = malloc((size_t)W * 24);
    size_t len = 0;
    for (int i = 0; i < W; i++) len += (size_t)sprintf(buf + len, "w%d w%d\t%s\n", i, i / 2, i % 3 ? "a" : "b");
    assert_int_equal(tu_write_file(p, buf, len), 0);
    free(buf);
    wb_dataset_opts o;
    wb_dataset_opts_init(&o);
    o.train_path = p, o.maxlen = 2;
    for (uint64_t nw = 65536; nw <= 65537; nw++) {
        o.num_words = nw;
        wb_dataset *ds = build_ok(&o, NULL);
        const wb_vocab *v = wb_dataset_vocab(ds);
        assert_int_equal(wb_vocab_size(v), nw);
        assert_int_equal(wb_dataset_ids(ds)->width, nw == 65536 ? 2 : 4);
        for (size_t i = 0; i < W; i += 997) {
            char w[16];
            int wl = sprintf(w, "w%zu", i);
            assert_int_equal(wb_ids_at(wb_dataset_ids(ds), i, 0), wb_vocab_lookup(v, w, (size_t)wl));
        }
        int32_t r2[4];
        uint32_t pick[2] = {69999, 0};
        wb_ids_gather(wb_dataset_ids(ds), pick, 2, r2);
        assert_int_equal(r2[0], wb_vocab_lookup(v, "w69999", 6));
        assert_int_equal(r2[3], wb_vocab_lookup(v, "w0", 2));
        /* a view that reads one word as OOV (a search trial's), both widths */
        wb_ids xv = *wb_dataset_ids(ds);
        uint8_t *oov = calloc(nw, 1);
        int32_t w0 = wb_vocab_lookup(v, "w0", 2);
        assert_true(w0 > 1 && (uint64_t)w0 < nw && r2[0] != w0);
        oov[w0] = 1, oov[0] = oov[1] = 1; /* pad and OOV stay what they are */
        xv.oov = oov, xv.noov = nw;
        int32_t r3[4];
        wb_ids_gather(&xv, pick, 2, r3);
        assert_int_equal(r3[0], r2[0]);
        assert_int_equal(r3[1], r2[1]);
        assert_int_equal(r2[2], w0); /* row 0 is "w0 w0" */
        assert_int_equal(r3[2], 1);
        assert_int_equal(r3[3], 1);
        assert_int_equal(wb_ids_at(&xv, 0, 0), 1);
        assert_int_equal(wb_ids_at(&xv, 69999, 0), r2[0]);
        xv.noov = (size_t)w0; /* ids at or past noov are never flagged */
        assert_int_equal(wb_ids_at(&xv, 0, 0), w0);
        wb_ids_gather(&xv, pick + 1, 1, r3);
        assert_int_equal(r3[0], w0);
        free(oov);
        wb_dataset_destroy(ds);
    }
    o.num_words = 0;
    check_in_memory(&o, "70000 words");
    tu_rmrf(dir);
    free(p), free(dir);
}

/* wb_dataset_open, wb_dataset_cache_list and wb_dataset_cache_clear */
static void test_open_list_clear(void **state) {
    (void)state;
    char *dir = tu_tmpdir();
    char *cdir = tu_path(dir, "a/b/cache"); /* created with its parents */
    wb_dataset_opts o;
    wb_dataset_opts_init(&o);
    o.train_path = FX "demo_sentiment.tsv", o.maxlen = 3, o.cache_dir = cdir; /* an old file: its hash is memoised */
    wb_dataset_stats st;
    wb_dataset *a = build_ok(&o, &st), *b = NULL;
    wb_err e;
    wb_err_clear(&e);
    assert_int_equal(wb_dataset_open(&b, wb_dataset_path(a), &e), 0);
    assert_true(same_dataset(a, b));
    wb_dataset_destroy(b);
    assert_int_equal(wb_dataset_open(&b, dir, &e), ENOENT); /* not a data set */
    assert_null(b);
    assert_non_null(strstr(e.file, "meta.wbd"));

    /* a leftover, a lock file (a build holds it, or was killed), a stray file
     * that is not wordbench's */
    char *junk = tu_path(cdir, "00000000000000aa.wbds.tmp-1"), *other = tu_path(cdir, "notes.txt");
    char lname[64];
    snprintf(lname, sizeof lname, "%016llx.lock", (unsigned long long)st.key);
    char *lockf = tu_path(cdir, lname);
    assert_int_equal(access(lockf, F_OK), -1); /* a finished build leaves none */
    assert_int_equal(tu_write_file(lockf, "", 0), 0);
    assert_int_equal(mkdir(junk, 0700), 0);
    assert_int_equal(tu_write_file(other, "keep", 4), 0);
    wb_dataset_entry *v;
    size_t n;
    assert_int_equal(wb_dataset_cache_list(cdir, &v, &n, &e), 0);
    /* the leftover, a lock file left by a killed build, the memo of rows.tsv's
     * hash, the data set */
    assert_int_equal(n, 4);
    int seen[5] = {0};
    for (size_t i = 0; i < n; i++) {
        assert_true(v[i].kind >= WB_ENTRY_DATASET && v[i].kind <= WB_ENTRY_INPUT);
        seen[v[i].kind]++;
        if (i) assert_true(strcmp(v[i - 1].name, v[i].name) < 0);
        assert_int_equal(v[i].complete, v[i].kind == WB_ENTRY_DATASET);
        if (v[i].kind == WB_ENTRY_PARTIAL) assert_string_equal(v[i].name, "00000000000000aa.wbds.tmp-1");
        if (v[i].kind == WB_ENTRY_LOCK) assert_string_equal(v[i].name, lname);
        if (v[i].kind == WB_ENTRY_INPUT) assert_int_equal(v[i].bytes, 72);
        if (v[i].kind != WB_ENTRY_DATASET) continue;
        char name[64];
        snprintf(name, sizeof name, "%016llx.wbds", (unsigned long long)st.key);
        assert_string_equal(v[i].name, name);
        assert_int_equal(v[i].rows, 400);
        assert_int_equal(v[i].maxlen, 3);
        assert_int_equal(v[i].ninputs, 1);
        assert_true(v[i].bytes > 4 * 4096);
        assert_non_null(strstr(v[i].source, "demo_sentiment.tsv"));
        assert_true(v[i].source[0] == '/');
    }
    for (int k = WB_ENTRY_DATASET; k <= WB_ENTRY_INPUT; k++) assert_int_equal(seen[k], 1);
    /* the memo is what the key uses: a forged hash (valid checksum) gives
     * another key; without the memo the file is read again */
    char *memo = NULL;
    for (size_t i = 0; i < n; i++)
        if (v[i].kind == WB_ENTRY_INPUT) memo = tu_path(cdir, v[i].name);
    wb_dataset_entries_free(v, n);
    size_t ml;
    unsigned char *mb = (unsigned char *)tu_read_file(memo, &ml);
    assert_int_equal(ml, 72);
    mb[56] ^= 1;
    uint64_t h = XXH3_64bits(mb, 64);
    for (int i = 0; i < 8; i++) mb[64 + i] = (unsigned char)(h >> (8 * i));
    assert_int_equal(tu_write_file(memo, mb, ml), 0);
    wb_dataset_stats s2;
    b = build_ok(&o, &s2);
    assert_true(s2.key != st.key);
    wb_dataset_destroy(b);
    assert_int_equal(unlink(memo), 0);
    b = build_ok(&o, &s2);
    assert_true(s2.key == st.key);
    assert_int_equal(s2.cache_hit, 1);
    wb_dataset_destroy(b);
    free(mb), free(memo);
    assert_int_equal(wb_dataset_cache_list(cdir, &v, &n, &e), 0);
    wb_dataset_entries_free(v, n);
    assert_int_equal(n, 5); /* and the data set of the forged key */
    size_t removed;
    uint64_t bytes;
    assert_int_equal(wb_dataset_cache_clear(cdir, &removed, &bytes, &e), 0);
    assert_int_equal(removed, 5);
    assert_true(bytes > 4 * 4096);
    assert_int_equal(access(other, F_OK), 0);
    assert_int_equal(wb_dataset_cache_list(cdir, &v, &n, &e), 0);
    assert_int_equal(n, 0);
    wb_dataset_entries_free(v, n);
    assert_true(same_dataset(a, a)); /* still mapped */
    wb_dataset_destroy(a);

    /* the default directory */
    char *old = getenv("XDG_CACHE_HOME") ? strdup(getenv("XDG_CACHE_HOME")) : NULL;
    setenv("XDG_CACHE_HOME", "/x/y", 1);
    char *d = wb_dataset_default_cache_dir();
    assert_string_equal(d, "/x/y/wordbench");
    free(d);
    setenv("XDG_CACHE_HOME", "relative", 1); /* ignored: not absolute */
    d = wb_dataset_default_cache_dir();
    assert_non_null(strstr(d, "/.cache/wordbench"));
    free(d);
    if (old) setenv("XDG_CACHE_HOME", old, 1), free(old);
    else unsetenv("XDG_CACHE_HOME");
    tu_rmrf(dir);
    free(junk), free(other), free(lockf), free(cdir), free(dir);
}

/* Several processes building one key at once: one builds, the others wait
 * and map what it published. */
static void test_concurrent_builders(void **state) {
    (void)state;
    char *dir = tu_tmpdir();
    char *cdir = tu_path(dir, "cache");
    char *p = write_rows(dir, "rows.tsv", 20000);
    wb_dataset_opts o;
    wb_dataset_opts_init(&o);
    o.train_path = p, o.maxlen = 8, o.cache_dir = cdir, o.test_fraction = 0.1;
    enum { NP = 4 };
    pid_t pid[NP];
    for (int k = 0; k < NP; k++) {
        pid[k] = fork();
        assert_true(pid[k] >= 0);
        if (pid[k] == 0) {
            wb_dataset *ds = NULL;
            wb_dataset_stats st;
            int rc = wb_dataset_build(&ds, &o, &st, NULL);
            int code = rc ? 9 : st.cache_written ? 1 : st.cache_hit ? 2 : 3;
            if (!rc && wb_dataset_n(ds) != 20000) code = 8;
            wb_dataset_destroy(ds);
            _exit(code);
        }
    }
    int written = 0, hits = 0;
    for (int k = 0; k < NP; k++) {
        int ws;
        assert_int_equal(waitpid(pid[k], &ws, 0), pid[k]);
        assert_true(WIFEXITED(ws));
        int c = WEXITSTATUS(ws);
        if (c != 1 && c != 2) fail_msg("builder %d exited %d", k, c);
        written += c == 1, hits += c == 2;
    }
    assert_int_equal(written, 1);
    assert_int_equal(hits, NP - 1);
    wb_dataset_entry *v;
    size_t n;
    assert_int_equal(wb_dataset_cache_list(cdir, &v, &n, NULL), 0);
    assert_int_equal(n, 1); /* the data set: no leftover, no lock file (and rows.tsv is too new for a memo) */
    wb_dataset_entries_free(v, n);
    tu_rmrf(dir);
    free(p), free(cdir), free(dir);
}

/* A full disk (here: a file-size limit) is an error naming the file being
 * written; nothing is published or left behind, the input is untouched. */
static void test_full_disk(void **state) {
    (void)state;
    char *dir = tu_tmpdir();
    char *cdir = tu_path(dir, "cache");
    char *p = write_rows(dir, "rows.tsv", 3000);
    size_t before_len;
    char *before = tu_read_file(p, &before_len);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        signal(SIGXFSZ, SIG_IGN);
        struct rlimit rl = {32768, 32768};
        setrlimit(RLIMIT_FSIZE, &rl);
        wb_dataset_opts o;
        wb_dataset_opts_init(&o);
        o.train_path = p, o.maxlen = 50, o.cache_dir = cdir; /* a 300 KB matrix */
        wb_dataset *ds = NULL;
        wb_err e;
        wb_err_clear(&e);
        int rc = wb_dataset_build(&ds, &o, NULL, &e);
        _exit(rc == EFBIG && !ds && strstr(e.file, cdir) && strstr(e.msg, "cannot write") ? 0 : 1);
    }
    int ws;
    assert_int_equal(waitpid(pid, &ws, 0), pid);
    assert_true(WIFEXITED(ws));
    assert_int_equal(WEXITSTATUS(ws), 0);
    wb_dataset_entry *v;
    size_t n;
    assert_int_equal(wb_dataset_cache_list(cdir, &v, &n, NULL), 0);
    assert_int_equal(n, 0);
    wb_dataset_entries_free(v, n);
    size_t after_len;
    char *after = tu_read_file(p, &after_len);
    assert_int_equal(after_len, before_len);
    assert_memory_equal(after, before, before_len);
    free(before), free(after);
    tu_rmrf(dir);
    free(p), free(cdir), free(dir);
}

static void test_shared_cooking(void **state) {
    (void)state;
    const char *path = WB_FIXTURES "/../../shared/data/cooking/cooking.train";
    if (access(path, R_OK) != 0) {
        skip();
        return;
    }
    wb_dataset_opts o;
    wb_dataset_opts_init(&o);
    o.train_path = path;
    o.test_fraction = 0.2;
    o.seed = 1;
    o.maxlen = 40;
    wb_dataset_stats st;
    wb_dataset *ds = build_ok(&o, &st);
    size_t n = wb_dataset_n(ds);
    assert_true(n > 10000);
    assert_int_equal(wb_dataset_task(ds), WB_TASK_MULTILABEL);
    assert_int_equal(st.n_train + st.n_test, n);
    assert_int_equal(st.n_valid, 0);
    /* iterative stratification only aims at 20% */
    assert_true(st.n_test > n / 5 - n / 50 && st.n_test < n / 5 + n / 50);
    const size_t *off;
    const uint32_t *ids;
    size_t nnz = wb_dataset_labels(ds, &off, &ids);
    assert_int_equal(off[n], nnz);
    assert_true(nnz >= n);
    assert_true(wb_dataset_nlabels(ds) > 100);
    wb_dataset_destroy(ds);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_task_detection),
        cmocka_unit_test(test_label_ids_order),
        cmocka_unit_test(test_binary_override_error),
        cmocka_unit_test(test_train_only_vocab_and_split),
        cmocka_unit_test(test_valid_test_files),
        cmocka_unit_test(test_cache),
        cmocka_unit_test(test_lengths_and_features),
        cmocka_unit_test(test_same_as_in_memory),
        cmocka_unit_test(test_text_modes),
        cmocka_unit_test(test_id_width),
        cmocka_unit_test(test_open_list_clear),
        cmocka_unit_test(test_concurrent_builders),
        cmocka_unit_test(test_full_disk),
        cmocka_unit_test(test_shared_cooking),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
