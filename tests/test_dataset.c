/*
 * test_dataset.c — specification of the dataset module (src/text/dataset.c).
 *
 * Contains: task detection on the text fixtures, label id order, the binary
 * override error, a vocabulary built from the training part only, split
 * proportions, valid/test files with unknown labels (error and skip), the
 * cache (hit, miss on a changed byte or option, corrupt file rebuilt),
 * token counts before truncation and numeric features (also through the
 * cache), and the shared cooking data set when present.
 *
 * Leaves out: the CLI that will call this module.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

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
    char *dir = tu_tmpdir();
    char *tr = tu_path(dir, "train.tsv");
    char *va = tu_path(dir, "valid.tsv");
    char *te = tu_path(dir, "test.tsv");
    const char *t1 = "good film\tpos\nbad film\tneg\nfine film\tpos\n";
    const char *t2 = "great\tpos\nawful film\tneg\nmeh\tneutral\nok\tpos\n";
    const char *t3 = "good\tneg\n";
    assert_int_equal(tu_write_file(tr, t1, strlen(t1)), 0);
    assert_int_equal(tu_write_file(va, t2, strlen(t2)), 0);
    assert_int_equal(tu_write_file(te, t3, strlen(t3)), 0);
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

    /* the mapped data set outlives its directory */
    tu_rmrf(dsdir);
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
        cmocka_unit_test(test_shared_cooking),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
