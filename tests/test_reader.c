/*
 * test_reader.c — specification of the labelled-text readers (reader.h):
 * TSV, fastText and CSV on the hand-made files in fixtures/text/, every
 * error with its file:line, CRLF, invalid UTF-8, a 20 MB one-line document,
 * and the shared real data sets (skipped when ../shared/data is absent).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "testutil.h"
#include "wordbench/reader.h"

#define FX WB_FIXTURES "/text/"
#define SHARED WB_FIXTURES "/../../shared/data/"

/* Collects every record as one line of text:
 * "LINE|text1|text2|=label1,label2|#f1,f2\n" */
typedef struct log {
    char *s;
    size_t n, cap;
    size_t records;
    int stop_after; /* return 7 after this many records (0 = never) */
} log_t;

static void lg_add(log_t *l, const char *p, size_t n) {
    if (l->n + n + 1 > l->cap) {
        l->cap = (l->n + n + 1) * 2;
        l->s = realloc(l->s, l->cap);
        assert_non_null(l->s);
    }
    memcpy(l->s + l->n, p, n);
    l->n += n;
    l->s[l->n] = 0;
}

static int collect(void *ud, const wb_example *ex) {
    log_t *l = ud;
    char b[64];
    snprintf(b, sizeof b, "%lld", ex->line);
    lg_add(l, b, strlen(b));
    for (size_t i = 0; i < ex->n_texts; i++) {
        assert_int_equal(ex->texts[i].ptr[ex->texts[i].len], 0); /* NUL-terminated */
        lg_add(l, "|", 1);
        lg_add(l, ex->texts[i].ptr, ex->texts[i].len);
    }
    lg_add(l, "|=", 2);
    for (size_t i = 0; i < ex->n_labels; i++) {
        if (i) lg_add(l, ",", 1);
        lg_add(l, ex->labels[i].ptr, ex->labels[i].len);
    }
    if (ex->n_features) {
        lg_add(l, "|#", 2);
        for (size_t i = 0; i < ex->n_features; i++) {
            snprintf(b, sizeof b, "%s%g", i ? "," : "", ex->features[i]);
            lg_add(l, b, strlen(b));
        }
    }
    lg_add(l, "\n", 1);
    l->records++;
    if (l->stop_after && l->records == (size_t)l->stop_after) return 7;
    return 0;
}

/* Read a fixture, expect rc; returns the log (caller frees .s). */
static log_t rd(const char *name, const wb_reader_opts *o, int want_rc, wb_read_stats *st, wb_err *e) {
    log_t l = {0};
    wb_err e0;
    wb_read_stats s0;
    if (!e) e = &e0;
    if (!st) st = &s0;
    wb_err_clear(e);
    char path[1024];
    snprintf(path, sizeof path, "%s%s", name[0] == '/' ? "" : FX, name);
    int rc = wb_reader_read(path, o, collect, &l, st, e);
    if (rc != want_rc) {
        char buf[2048];
        fprintf(stderr, "%s: rc %d (%s), want %d\n", name, rc, wb_err_format(e, buf, sizeof buf), want_rc);
    }
    assert_int_equal(rc, want_rc);
    if (!l.s) lg_add(&l, "", 0);
    return l;
}

/* Expect a WB_EFORMAT at `line` whose message contains `needle`. */
static void expect_err(const char *name, const wb_reader_opts *o, long long line, const char *needle) {
    wb_err e;
    log_t l = rd(name, o, WB_EFORMAT, NULL, &e);
    char buf[2048];
    wb_err_format(&e, buf, sizeof buf);
    if (e.line != line || !strstr(e.msg, needle) || !strstr(e.file, name))
        fprintf(stderr, "got: %s (want line %lld, '%s')\n", buf, line, needle);
    assert_int_equal(e.code, WB_EFORMAT);
    assert_int_equal(e.line, line);
    assert_non_null(strstr(e.msg, needle));
    assert_non_null(strstr(e.file, name));
    free(l.s);
}

/* ---- TSV ---- */

static void test_tsv_header(void **state) {
    (void)state;
    wb_read_stats st;
    log_t l = rd("header.tsv", NULL, 0, &st, NULL);
    assert_string_equal(l.s, "2|So there is no way for me to plug it in here.|=0\n"
                             "3|Good case, excellent value.|=1\n"
                             "5|Great\tfor the jawbone.|=1\n");
    assert_int_equal(st.records, 3);
    assert_int_equal(st.format, WB_READER_TSV);
    free(l.s);
    /* forcing "no header" makes the header line a record */
    wb_reader_opts o = {.tsv_header = -1};
    l = rd("header.tsv", &o, 0, &st, NULL);
    assert_int_equal(st.records, 4);
    assert_true(strncmp(l.s, "1|sentence|=label\n", 18) == 0);
    free(l.s);
}

static void test_tsv_noheader(void **state) {
    (void)state;
    log_t l = rd("noheader.tsv", NULL, 0, NULL, NULL);
    assert_string_equal(l.s, "1|Wow... Loved this place.|=1\n2|Crust is not good.|=0\n");
    free(l.s);
    /* forcing a header drops the first line */
    wb_reader_opts o = {.tsv_header = 1};
    l = rd("noheader.tsv", &o, 0, NULL, NULL);
    assert_string_equal(l.s, "2|Crust is not good.|=0\n");
    free(l.s);
}

static void test_tsv_crlf(void **state) {
    (void)state;
    wb_read_stats st;
    log_t l = rd("crlf.tsv", NULL, 0, &st, NULL);
    assert_string_equal(l.s, "2|first line|=pos\n3|second line|=neg\n");
    assert_int_equal(st.crlf_lines, 3);
    free(l.s);
}

static void test_tsv_multilabel(void **state) {
    (void)state;
    wb_reader_opts o = {.label_sep = " "};
    log_t l = rd("multi.tsv", &o, 0, NULL, NULL);
    assert_string_equal(l.s, "1|tagged text|=oven,cooking-time,bacon\n");
    free(l.s);
    l = rd("multi.tsv", NULL, 0, NULL, NULL); /* no separator: one label */
    assert_string_equal(l.s, "1|tagged text|=oven cooking-time  bacon\n");
    free(l.s);
}

static void test_tsv_errors(void **state) {
    (void)state;
    expect_err("missing_label.tsv", NULL, 3, "no tab");
    expect_err("empty_text.tsv", NULL, 2, "empty text");
    expect_err("empty_label.tsv", NULL, 2, "missing label");
    /* skip_bad: the bad line is counted, the rest read */
    wb_reader_opts o = {.skip_bad = 1};
    wb_read_stats st;
    log_t l = rd("missing_label.tsv", &o, 0, &st, NULL);
    assert_int_equal(st.records, 3);
    assert_int_equal(st.skipped, 1);
    assert_string_equal(l.s, "1|fine text|=pos\n2|another|=neg\n4|last|=pos\n");
    free(l.s);
}

static void test_invalid_utf8(void **state) {
    (void)state;
    wb_read_stats st;
    log_t l = rd("invalid_utf8.tsv", NULL, 0, &st, NULL);
    assert_string_equal(l.s, "1|caf\xc3\xa9 ok|=pos\n2|bad \xef\xbf\xbd byte and \xef\xbf\xbd cut|=neg\n");
    assert_int_equal(st.invalid_utf8, 2);
    free(l.s);
}

/* ---- fastText ---- */

static void test_fasttext(void **state) {
    (void)state;
    wb_read_stats st;
    log_t l = rd("cooking.txt", NULL, 0, &st, NULL);
    assert_string_equal(l.s,
        "1|How much does potato starch affect a cheese sauce recipe?|=sauce,cheese\n"
        "2|Why not __label__this one|=baking\n"
        "4|three labels|=a,b,c\n");
    assert_int_equal(st.format, WB_READER_FASTTEXT);
    free(l.s);
    l = rd("crlf.txt", NULL, 0, &st, NULL);
    assert_string_equal(l.s, "1|hello world|=x\n2|bye|=y\n");
    assert_int_equal(st.crlf_lines, 2);
    free(l.s);
    wb_reader_opts o = {.format = WB_READER_FASTTEXT, .label_prefix = "#"};
    l = rd("custom_prefix.txt", &o, 0, NULL, NULL);
    assert_string_equal(l.s, "1|great stuff|=pos\n2|not great|=neg,meh\n");
    free(l.s);
}

static void test_fasttext_errors(void **state) {
    (void)state;
    expect_err("ft_missing_label.txt", NULL, 2, "missing label");
    expect_err("ft_empty_text.txt", NULL, 2, "empty text");
    expect_err("ft_empty_label.txt", NULL, 1, "empty label");
}

/* ---- CSV ---- */

static void test_csv_basic(void **state) {
    (void)state;
    const char *tc[] = {"title", "body"};
    const char *fc[] = {"score"};
    wb_reader_opts o = {.text_cols = tc, .n_text_cols = 2, .label_col = "tags", .label_sep = " ",
                        .feature_cols = fc, .n_feature_cols = 1};
    wb_read_stats st;
    log_t l = rd("basic.csv", &o, 0, &st, NULL);
    assert_string_equal(l.s,
        "2|Hello, world|He said \"hi\"\nand left.|=oven,bacon|#1.5\n"
        "4|Plain|multi\n\nline, body|=cooking-time|#-2000\n"
        "8|Third|short|=a,b,c|#0\n");
    assert_int_equal(st.records, 3);
    assert_int_equal(st.format, WB_READER_CSV);
    free(l.s);
}

static void test_csv_crlf_bom_noeol(void **state) {
    (void)state;
    wb_read_stats st;
    log_t l = rd("crlf.csv", NULL, 0, &st, NULL);
    assert_string_equal(l.s, "2|two\nlines|=ham\n4|one|=spam\n"); /* CR LF inside the field: LF */
    assert_int_equal(st.crlf_lines, 4);
    free(l.s);
    l = rd("bom.csv", NULL, 0, NULL, NULL);
    assert_string_equal(l.s, "2|hi|=ham\n");
    free(l.s);
    l = rd("noeol.csv", NULL, 0, NULL, NULL);
    assert_string_equal(l.s, "2|last|=ham\n");
    free(l.s);
    l = rd("header_only.csv", NULL, 0, &st, NULL);
    assert_int_equal(st.records, 0);
    free(l.s);
}

static void test_csv_errors(void **state) {
    (void)state;
    expect_err("ragged.csv", NULL, 3, "expected 2 fields");
    expect_err("unterminated.csv", NULL, 3, "unterminated quote");
    const char *fc[] = {"score"};
    wb_reader_opts o = {.feature_cols = fc, .n_feature_cols = 1};
    expect_err("badnum.csv", &o, 3, "column 'score': expected a number, found 'x1'");
    expect_err("nolabel.csv", NULL, 3, "missing label");
    expect_err("emptytext.csv", NULL, 3, "empty text");
    expect_err("syntax.csv", NULL, 3, "CSV syntax error");
    expect_err("empty.csv", NULL, 1, "header");
    const char *tc[] = {"body"};
    wb_reader_opts o2 = {.text_cols = tc, .n_text_cols = 1};
    expect_err("crlf.csv", &o2, 1, "no text column 'body'; columns: label, text");
    wb_reader_opts o3 = {.label_col = "tags"};
    expect_err("crlf.csv", &o3, 1, "no label column 'tags'");
    /* skip_bad skips the ragged row but not the syntax error */
    wb_reader_opts o4 = {.skip_bad = 1};
    wb_read_stats st;
    log_t l = rd("ragged.csv", &o4, 0, &st, NULL);
    assert_string_equal(l.s, "2|ok|=ham\n5|ok|=ham\n");
    assert_int_equal(st.skipped, 1);
    free(l.s);
    expect_err("unterminated.csv", &o4, 3, "unterminated quote");
}

static void test_usage_and_io(void **state) {
    (void)state;
    wb_err e;
    log_t l = rd("does-not-exist.tsv", NULL, 2 /* ENOENT */, NULL, &e);
    assert_non_null(strstr(e.file, "does-not-exist.tsv"));
    free(l.s);
    const char *tc[] = {"text"};
    wb_reader_opts o = {.text_cols = tc, .n_text_cols = 1, .label_col = "text"};
    l = rd("crlf.csv", &o, WB_EUSAGE, NULL, &e);
    free(l.s);
    wb_reader_opts o2 = {.label_prefix = ""};
    l = rd("crlf.txt", &o2, WB_EUSAGE, NULL, &e);
    free(l.s);
}

static void test_callback_stop(void **state) {
    (void)state;
    log_t l = {0};
    l.stop_after = 1;
    wb_read_stats st;
    assert_int_equal(wb_reader_read(FX "basic.csv", &(wb_reader_opts){.label_col = "tags",
                                     .text_cols = (const char *[]){"body"}, .n_text_cols = 1},
                                     collect, &l, &st, NULL), 7);
    assert_int_equal(l.records, 1);
    free(l.s);
    l = (log_t){.stop_after = 2};
    assert_int_equal(wb_reader_read(FX "cooking.txt", NULL, collect, &l, NULL, NULL), 7);
    assert_int_equal(l.records, 2);
    free(l.s);
}

static void test_stdin(void **state) {
    (void)state;
    assert_non_null(freopen(FX "missing_label.tsv", "rb", stdin));
    wb_reader_opts o = {.format = WB_READER_TSV};
    log_t l = {0};
    wb_err e;
    assert_int_equal(wb_reader_read("-", &o, collect, &l, NULL, &e), WB_EFORMAT);
    assert_string_equal(e.file, "<stdin>");
    assert_int_equal(e.line, 3);
    assert_int_equal(l.records, 2);
    free(l.s);
}

/* ---- big documents ---- */

typedef struct big { size_t records, len; } big_t;
static int big_cb(void *ud, const wb_example *ex) {
    big_t *b = ud;
    b->records++;
    b->len += ex->texts[0].len;
    return 0;
}

static void big_one(const char *dir, const char *name, const char *head, const char *tail, size_t mb) {
    char *path = tu_path(dir, name);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    fputs(head, f);
    static char block[1 << 16];
    for (size_t i = 0; i < sizeof block; i++) block[i] = (i % 7 == 6) ? ' ' : (char)('a' + i % 26);
    for (size_t i = 0; i < mb * 16; i++) fwrite(block, 1, sizeof block, f);
    fputs(tail, f);
    fclose(f);
    big_t b = {0};
    wb_err e;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    int rc = wb_reader_read(path, NULL, big_cb, &b, NULL, &e);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double s = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) * 1e-9;
    fprintf(stderr, "%s: %zu MB one-line document read in %.3f s\n", name, mb, s);
    assert_int_equal(rc, 0);
    assert_int_equal(b.records, 1);
    assert_int_equal(b.len, mb << 20);
    /* Not a speed test (benchmarks measure speed): quadratic behaviour on
     * 20 MB would take hours, so a generous bound tells the two apart even
     * on a loaded machine or under sanitizers. */
    assert_true(s < 30.0);
    free(path);
}

static void test_big_line(void **state) {
    (void)state;
    char *dir = tu_tmpdir();
    big_one(dir, "big.txt", "__label__x ", "\n", 20);
    big_one(dir, "big.tsv", "", "\tpos\n", 20);
    big_one(dir, "big.csv", "label,text\nham,\"", "\"\n", 20);
    tu_rmrf(dir);
    free(dir);
}

/* CR LF and lone CR inside fields become LF (Python's text mode), in every
 * format; line ends still count as before. */
static void test_newlines_in_fields(void **state) {
    (void)state;
    char *dir = tu_tmpdir();
    static const struct { const char *name, *body, *want; } c[] = {
        {"n.csv", "text,label\r\n\"a\r\nb\rc\r\r\nd\",x\r\n\"one\r\",z\n", "2|a\nb\nc\n\nd|=x\n5|one\n|=z\n"},
        {"n.tsv", "no\rtab\r\nthree\tpos\r\nx\r\r\ty\n", "2|three|=pos\n3|x\n\n|=y\n"},
        {"n.txt", "__label__a one\rtwo\r\n__label__b x\r\r\n", "1|one\ntwo|=a\n2|x|=b\n"},
    };
    for (size_t i = 0; i < sizeof c / sizeof *c; i++) {
        char *path = tu_path(dir, c[i].name);
        assert_int_equal(tu_write_file(path, c[i].body, strlen(c[i].body)), 0);
        log_t l = {0};
        wb_err e;
        wb_reader_opts o = {.skip_bad = 1};
        assert_int_equal(wb_reader_read(path, &o, collect, &l, NULL, &e), 0);
        assert_string_equal(l.s, c[i].want);
        free(l.s);
        free(path);
    }
    tu_rmrf(dir);
    free(dir);
}

/* Records to predict: plain lines, and TSV / fastText / CSV with labels
 * optional, empty texts handed out, a CSV id column. */
static int collect_id(void *ud, const wb_example *ex) {
    log_t *l = ud;
    if (ex->id.ptr) {
        assert_int_equal(ex->id.ptr[ex->id.len], 0);
        lg_add(l, "@", 1);
        lg_add(l, ex->id.ptr, ex->id.len);
    }
    return collect(ud, ex);
}

static void test_unlabelled(void **state) {
    (void)state;
    char *dir = tu_tmpdir();
    static const struct { const char *name, *body; wb_reader_format f; const char *id, *want; } c[] = {
        {"p.txt", "one two\r\n\n__label__x three\nlast", WB_READER_LINES, NULL,
         "1|one two|=\n2||=\n3|__label__x three|=\n4|last|=\n"},
        {"p.tsv", "no tab here\nsome text\tpos\n\tneg\n", WB_READER_TSV, NULL,
         "1|no tab here|=\n2|some text|=pos\n3||=neg\n"},
        {"p.ft", "plain words\n__label__a labelled\n__label__b\n", WB_READER_FASTTEXT, NULL,
         "1|plain words|=\n2|labelled|=a\n3||=b\n"},
        {"p.csv", "id,text\n7,\"hi\nthere\"\n8,\n", WB_READER_CSV, "id", "@72|hi\nthere|=\n@84||=\n"},
    };
    for (size_t i = 0; i < sizeof c / sizeof *c; i++) {
        char *path = tu_path(dir, c[i].name);
        assert_int_equal(tu_write_file(path, c[i].body, strlen(c[i].body)), 0);
        log_t l = {0};
        wb_err e;
        wb_read_stats st;
        wb_reader_opts o = {.format = c[i].f, .unlabelled = 1, .id_col = c[i].id};
        assert_int_equal(wb_reader_read(path, &o, collect_id, &l, &st, &e), 0);
        assert_string_equal(l.s, c[i].want);
        assert_int_equal(st.format, c[i].f);
        free(l.s);
        /* without unlabelled the same files are errors (lines has no labels to miss) */
        if (c[i].f != WB_READER_LINES) {
            o.unlabelled = 0;
            l = (log_t){0};
            assert_int_equal(wb_reader_read(path, &o, collect_id, &l, NULL, &e), WB_EFORMAT);
            free(l.s);
        }
        free(path);
    }
    /* an id column that is missing */
    char *path = tu_path(dir, "p.csv");
    wb_reader_opts o = {.format = WB_READER_CSV, .unlabelled = 1, .id_col = "key"};
    log_t l = {0};
    wb_err e;
    assert_int_equal(wb_reader_read(path, &o, collect_id, &l, NULL, &e), WB_EFORMAT);
    assert_non_null(strstr(e.msg, "no id column 'key'"));
    free(l.s);
    free(path);
    assert_string_equal(wb_reader_format_name(WB_READER_LINES), "lines");
    tu_rmrf(dir);
    free(dir);
}

/* ---- shared data ---- */

typedef struct spam { size_t records, spam, ham, other, textbytes; } spam_t;
static int spam_cb(void *ud, const wb_example *ex) {
    spam_t *s = ud;
    s->records++;
    s->textbytes += ex->texts[0].len;
    if (ex->n_labels == 1 && ex->labels[0].len == 4 && !memcmp(ex->labels[0].ptr, "spam", 4)) s->spam++;
    else if (ex->n_labels == 1 && ex->labels[0].len == 3 && !memcmp(ex->labels[0].ptr, "ham", 3)) s->ham++;
    else s->other++;
    return 0;
}

static void test_spamassassin(void **state) {
    (void)state;
    const char *path = SHARED "spamassassin/emails.csv";
    FILE *f = fopen(path, "rb");
    if (!f) { skip(); return; }
    fclose(f);
    spam_t s = {0};
    wb_read_stats st;
    wb_err e;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    int rc = wb_reader_read(path, NULL, spam_cb, &s, &st, &e);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    char buf[2048];
    if (rc) fprintf(stderr, "%s\n", wb_err_format(&e, buf, sizeof buf));
    assert_int_equal(rc, 0);
    double sec = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) * 1e-9;
    fprintf(stderr, "emails.csv: %zu records, %.1f MB in %.3f s (%.0f MB/s), %llu invalid UTF-8 replaced\n",
            s.records, (double)st.bytes / 1e6, sec, (double)st.bytes / 1e6 / sec,
            (unsigned long long)st.invalid_utf8);
    assert_int_equal(s.records, 6046);
    assert_int_equal(s.spam, 1896);
    assert_int_equal(s.ham, 4150);
    assert_int_equal(s.other, 0);
    assert_int_equal(st.skipped, 0);
}

typedef struct cook { size_t records, per[7]; } cook_t;
static int cook_cb(void *ud, const wb_example *ex) {
    cook_t *c = ud;
    c->records++;
    c->per[ex->n_labels < 6 ? ex->n_labels : 6]++;
    return 0;
}

static void test_cooking(void **state) {
    (void)state;
    const char *path = SHARED "cooking/cooking.train";
    FILE *f = fopen(path, "rb");
    if (!f) { skip(); return; }
    fclose(f);
    cook_t c = {0};
    wb_read_stats st;
    wb_err e;
    assert_int_equal(wb_reader_read(path, NULL, cook_cb, &c, &st, &e), 0);
    assert_int_equal(st.format, WB_READER_FASTTEXT);
    assert_int_equal(c.records, 12404);
    assert_int_equal(c.per[0], 0);
    assert_int_equal(c.per[6], 0);
    size_t sum = 0;
    for (int k = 1; k <= 5; k++) {
        assert_true(c.per[k] > 0);
        sum += c.per[k];
    }
    assert_int_equal(sum, 12404);
    /* counted independently (split on white space, leading __label__ tokens) */
    assert_int_equal(c.per[1], 3029);
    assert_int_equal(c.per[2], 4600);
    assert_int_equal(c.per[3], 3152);
    assert_int_equal(c.per[4], 1196);
    assert_int_equal(c.per[5], 427);
    fprintf(stderr, "cooking.train: labels per record 1..5: %zu %zu %zu %zu %zu\n",
            c.per[1], c.per[2], c.per[3], c.per[4], c.per[5]);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tsv_header),
        cmocka_unit_test(test_tsv_noheader),
        cmocka_unit_test(test_tsv_crlf),
        cmocka_unit_test(test_tsv_multilabel),
        cmocka_unit_test(test_tsv_errors),
        cmocka_unit_test(test_invalid_utf8),
        cmocka_unit_test(test_fasttext),
        cmocka_unit_test(test_fasttext_errors),
        cmocka_unit_test(test_csv_basic),
        cmocka_unit_test(test_csv_crlf_bom_noeol),
        cmocka_unit_test(test_newlines_in_fields),
        cmocka_unit_test(test_unlabelled),
        cmocka_unit_test(test_csv_errors),
        cmocka_unit_test(test_usage_and_io),
        cmocka_unit_test(test_callback_stop),
        cmocka_unit_test(test_stdin),
        cmocka_unit_test(test_big_line),
        cmocka_unit_test(test_spamassassin),
        cmocka_unit_test(test_cooking),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
