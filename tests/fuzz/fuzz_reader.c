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
 * given two roles); stats.records equals the callbacks made.
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

#include "wordbench/reader.h"

static int utf8_ok(const unsigned char *s, size_t n) {
    size_t i = 0;
    while (i < n) {
        unsigned c = s[i], need, lo = 0x80, hi = 0xBF;
        if (c < 0x80) { i++; continue; }
        if (c >= 0xC2 && c <= 0xDF) need = 1;
        else if (c == 0xE0) { need = 2; lo = 0xA0; }
        else if ((c >= 0xE1 && c <= 0xEC) || c == 0xEE || c == 0xEF) need = 2;
        else if (c == 0xED) { need = 2; hi = 0x9F; }
        else if (c == 0xF0) { need = 3; lo = 0x90; }
        else if (c >= 0xF1 && c <= 0xF3) need = 3;
        else if (c == 0xF4) { need = 3; hi = 0x8F; }
        else return 0;
        if (i + need >= n) return 0; /* bytes i+1 .. i+need must exist */
        if (s[i + 1] < lo || s[i + 1] > hi) return 0;
        for (size_t k = 2; k <= need; k++)
            if (s[i + k] < 0x80 || s[i + k] > 0xBF) return 0;
        i += need + 1;
    }
    return 1;
}

typedef struct chk {
    size_t calls, n_texts, n_feats;
    long long last_line;
} chk;

static int on_ex(void *ud, const wb_example *ex) {
    chk *c = ud;
    c->calls++;
    if (ex->line < 1 || ex->line < c->last_line) abort();
    c->last_line = ex->line;
    if (ex->n_texts != c->n_texts || ex->n_features != c->n_feats) abort();
    int any = 0;
    for (size_t i = 0; i < ex->n_texts; i++) {
        const wb_span *t = &ex->texts[i];
        if (t->ptr[t->len] != 0) abort();
        if (!utf8_ok((const unsigned char *)t->ptr, t->len)) abort();
        for (size_t k = 0; k < t->len; k++)
            if (!strchr(" \t\r\n\v\f", t->ptr[k]) || t->ptr[k] == 0) { any = 1; break; }
    }
    if (!any) abort();
    if (ex->n_labels < 1) abort();
    for (size_t i = 0; i < ex->n_labels; i++) {
        if (ex->labels[i].len == 0) abort();
        if (!utf8_ok((const unsigned char *)ex->labels[i].ptr, ex->labels[i].len)) abort();
    }
    for (size_t i = 0; i < ex->n_features; i++)
        if (!isfinite(ex->features[i])) abort();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
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

    chk c = {0};
    wb_read_stats st;
    wb_err e;
    wb_err_clear(&e);
    /* AUTO on a /proc path without an extension never picks CSV */
    int csv = o.format == WB_READER_CSV;
    c.n_texts = csv ? (o.text_cols ? 2 : 1) : 1;
    c.n_feats = csv ? o.n_feature_cols : 0;
    int rc = wb_reader_read(path, &o, on_ex, &c, &st, &e);
    if (st.records != c.calls) abort();
    if (rc == WB_EFORMAT) {
        if (e.code != WB_EFORMAT || e.line < 1 || !e.msg[0] || !e.file[0]) abort();
    } else if (rc == WB_EUSAGE) {
        if (!csv) abort();
    } else if (rc != 0) {
        abort();
    }
    return 0;
}
