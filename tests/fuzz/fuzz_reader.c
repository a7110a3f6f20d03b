/*
 * fuzz_reader.c — libFuzzer target for the labelled-text readers of
 * src/text/reader.c (wb_reader_read on TSV, fastText and CSV input).
 *
 * Input layout:
 *   byte 0   bits 0-1: format (0 TSV, 1 fastText, 2 CSV, 3 auto);
 *            bit 2: skip_bad; bit 3: label_sep " ,"; bit 4: CSV feature
 *            column "f"; bit 5: CSV text columns "text" and "t2";
 *            bit 6: TSV header forced on; bit 7: fastText prefix "#"
 *   rest     the file's bytes
 * The bytes go to a memfd read through /proc/self/fd/N, so the reader's
 * chunked input path is the one exercised.
 *
 * Checked for every record: line >= 1 and non-decreasing; n_texts and
 * n_features as configured; every text NUL-terminated, valid UTF-8 and not
 * all white space; at least one label, every label non-empty valid UTF-8;
 * every feature finite.  For every call: the result is 0, WB_EFORMAT (with
 * a file, a line >= 1 and a message) or WB_EUSAGE (only for a CSV column
 * given two roles); stats.records equals the callbacks made.  A file that
 * is not text (a NUL byte in its first 64 bytes, or a head wb_file_kind
 * recognises) is refused as a whole: WB_EFORMAT with line 0, no record;
 * line 0 is allowed for nothing else but a NUL byte in the first 4096.
 *
 * Seeds: tests/fuzz/corpus/reader (the files of fixtures/text behind a
 * selector byte).  The harness body is fuzz_reader_one();
 * tests/test_fuzz_regress.c includes this file with WB_FUZZ_NO_MAIN defined.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "base/fileio.h"
#include "wordbench/reader.h"

#include "fuzz_common.h"

#define FR_CHECK(c) ((c) ? (void)0 : wbf_fail("fuzz_reader.c", #c, __LINE__))

typedef struct fr_chk {
    size_t calls, n_texts, n_feats;
    long long last_line;
} fr_chk;

static int fr_on_ex(void *ud, const wb_example *ex) {
    fr_chk *c = ud;
    c->calls++;
    FR_CHECK(ex->line >= 1 && ex->line >= c->last_line);
    c->last_line = ex->line;
    FR_CHECK(ex->n_texts == c->n_texts && ex->n_features == c->n_feats);
    int any = 0;
    for (size_t i = 0; i < ex->n_texts; i++) {
        const wb_span *t = &ex->texts[i];
        FR_CHECK(t->ptr[t->len] == 0);
        FR_CHECK(wbf_utf8_ref((const unsigned char *)t->ptr, t->len));
        for (size_t k = 0; k < t->len; k++)
            if (!strchr(" \t\r\n\v\f", t->ptr[k]) || t->ptr[k] == 0) { any = 1; break; }
    }
    FR_CHECK(any);
    FR_CHECK(ex->n_labels >= 1);
    for (size_t i = 0; i < ex->n_labels; i++) {
        FR_CHECK(ex->labels[i].len > 0);
        FR_CHECK(wbf_utf8_ref((const unsigned char *)ex->labels[i].ptr, ex->labels[i].len));
    }
    for (size_t i = 0; i < ex->n_features; i++)
        FR_CHECK(isfinite(ex->features[i]));
    return 0;
}

static int fuzz_reader_one(const uint8_t *data, size_t size) {
    if (size < 1) return 0;
    unsigned sel = data[0];
    static int fd = -1;
    if (fd < 0) {
        fd = memfd_create("fuzz_reader", 0);
        if (fd < 0) abort();
    }
    if (ftruncate(fd, 0) != 0) abort();
    size_t n = size - 1;
    if (n && pwrite(fd, data + 1, n, 0) != (ssize_t)n) abort();
    char path[64];
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);

    static const char *const tc2[] = {"text", "t2"};
    static const char *const fc[] = {"f"};
    wb_reader_opts o = {0};
    static const wb_reader_format fm[] = {WB_READER_TSV, WB_READER_FASTTEXT, WB_READER_CSV, WB_READER_AUTO};
    o.format = fm[sel & 3];
    o.skip_bad = (sel >> 2) & 1;
    if (sel & 8) o.label_sep = " ,";
    if (sel & 16) { o.feature_cols = fc; o.n_feature_cols = 1; }
    if (sel & 32) { o.text_cols = tc2; o.n_text_cols = 2; }
    if (sel & 64) o.tsv_header = 1;
    if (sel & 128) o.label_prefix = "#";

    fr_chk c = {0};
    wb_read_stats st;
    wb_err e;
    wb_err_clear(&e);
    /* AUTO on a /proc path without an extension never picks CSV */
    int csv = o.format == WB_READER_CSV;
    c.n_texts = csv ? (o.text_cols ? 2 : 1) : 1;
    c.n_feats = csv ? o.n_feature_cols : 0;
    int rc = wb_reader_read(path, &o, fr_on_ex, &c, &st, &e);
    FR_CHECK(st.records == c.calls);
    /* not text: refused as a whole before any record (the reader looks at
     * what it has buffered, at least 64 bytes and at most 4096 for a NUL) */
    const uint8_t *body = data + 1;
    int binary = (n && wb_file_kind(body, n < 64 ? n : 64)) || (n && memchr(body, 0, n < 64 ? n : 64));
    int maybe_binary = n && (wb_file_kind(body, n) || memchr(body, 0, n < 4096 ? n : 4096));
    if (binary) FR_CHECK(rc == WB_EFORMAT && e.line == 0 && c.calls == 0);
    if (rc == WB_EFORMAT && e.line == 0) {
        FR_CHECK(maybe_binary && c.calls == 0 && e.msg[0] && e.file[0]);
    } else if (rc == WB_EFORMAT) {
        FR_CHECK(e.code == WB_EFORMAT && e.line >= 1 && e.msg[0] && e.file[0]);
    } else if (rc == WB_EUSAGE) {
        FR_CHECK(csv);
    } else {
        FR_CHECK(rc == 0);
    }
    return 0;
}

#ifndef WB_FUZZ_NO_MAIN
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    return fuzz_reader_one(data, size);
}
#endif
