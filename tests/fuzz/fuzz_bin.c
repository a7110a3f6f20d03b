/*
 * fuzz_bin.c — libFuzzer target for the word2vec binary record framer
 * (wb_frame_bin_record) and the text/binary sniffer (wb_looks_binary) of
 * src/store/vecparse.c.
 *
 * Input layout:
 *   byte 0   bits 0-4: dim - 1 (dim 1..32); bit 5: start with '\n';
 *            bit 6: prepend a word of 65520..65551 'w' bytes (the framer's
 *            64 KiB word limit), length from byte 1 bits 0-4
 *   byte 1   seed of the cut points for the incremental feed
 *   rest     the record stream
 * The stream is built into a heap block of exactly its length, so
 * AddressSanitizer catches a read one byte past it.
 *
 * Checked:
 *   - framing the whole stream with eof=1 never returns 0; each record's word
 *     starts at the record (after any '\n's), is non-empty, holds no
 *     space and is followed by ' '; the values follow the space; the length
 *     is word + ' ' + 4*dim, plus one only when a '\n' follows; an error has
 *     a non-empty message;
 *   - feeding the same stream incrementally (eof=0, growing the available
 *     bytes at pseudo-random cut points, eof=1 only once everything is
 *     there, as the converter's reader does) yields exactly the same records
 *     and stops with an error at the same offset;
 *   - wb_utf8_valid on each word agrees with a reference validator;
 *   - wb_looks_binary returns 0 or 1, the same twice, for several dims, and
 *     1 when a NUL byte comes in the first values before any '\n'.
 * Known, unfixed library bugs can be made non-fatal while fuzzing on with
 * WB_FUZZ_SKIP=tag[,tag] (tag: nul); they stay fatal by default.
 * A broken invariant aborts, so libFuzzer saves the input.
 *
 * Leaves out: the values themselves (any 4 bytes are a float; the converter
 * checks finiteness).  The harness body is fuzz_bin_one();
 * tests/test_fuzz_regress.c includes this file with WB_FUZZ_NO_MAIN defined.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/convert_int.h"

#include "fuzz_common.h"

#define FB_LONG_WORD 65520u /* shortest prepended word: 16 below the limit */

#define FB_CHECK(c) ((c) ? (void)0 : wbf_fail("fuzz_bin.c", #c, __LINE__))

#define FB_CHECK_KNOWN(tag, c) (((c) || wbf_skipped(tag)) ? (void)0 : wbf_fail("fuzz_bin.c", #c " [" tag "]", __LINE__))

/* Must wb_looks_binary say binary?  Yes when a NUL byte comes among the
 * first dim*4 bytes after the first space (within 4 KiB) before any '\n':
 * text never holds 0x00 (tests/test_vecparse.c: an all-zero first vector is
 * binary).  Otherwise the sniffer's answer is a heuristic and unchecked. */
static int fb_must_be_binary(const char *p, size_t n, uint32_t dim) {
    const char *sp = memchr(p, ' ', n < 4096 ? n : 4096);
    if (!sp) return 0;
    size_t off = (size_t)(sp - p) + 1, m = (size_t)dim * 4;
    if (m > n - off) m = n - off;
    for (size_t i = off; i < off + m; i++) {
        if (p[i] == '\n') return 0;
        if (p[i] == 0) return 1;
    }
    return 0;
}

/* One framed record: offsets from the start of the stream. */
typedef struct fb_rec {
    size_t off;  /* record start */
    long len;    /* return value of the framer */
    size_t woff; /* word start */
    size_t wlen; /* word length */
    size_t voff; /* first value byte */
} fb_rec;

/* Frame at buf[pos..avail) and check the result's shape.  Fills *r. */
static long fb_frame(const char *buf, size_t pos, size_t avail, uint32_t dim, int eof, fb_rec *r) {
    const char *p = buf + pos, *w = NULL, *v = NULL;
    size_t wl = (size_t)-1, n = avail - pos;
    char why[200];
    memset(why, 0x55, sizeof why);
    long len = wb_frame_bin_record(p, n, dim, eof, &w, &wl, &v, why, sizeof why);
    FB_CHECK(len >= -1);
    if (len < 0) {
        FB_CHECK(memchr(why, 0, sizeof why) != NULL && why[0] != 0);
        return len;
    }
    if (len == 0) {
        FB_CHECK(!eof);
        return 0;
    }
    size_t skip = 0; /* the '\n's left by earlier records */
    while (skip < n && p[skip] == '\n') skip++;
    FB_CHECK((size_t)len <= n);
    FB_CHECK(w == p + skip);
    FB_CHECK(wl >= 1 && wl <= 65536);
    FB_CHECK(skip + wl < n && w[wl] == ' ');
    FB_CHECK(memchr(w, ' ', wl) == NULL);
    FB_CHECK(v == w + wl + 1);
    size_t base = (size_t)(v - p) + (size_t)dim * 4;
    FB_CHECK(base <= n);
    if ((size_t)len == base + 1) FB_CHECK(p[base] == '\n');
    else FB_CHECK((size_t)len == base && (base == n || p[base] != '\n'));
    if (!eof) FB_CHECK((size_t)len < n || (base < n && p[base] == '\n')); /* never decided on a record's last byte */
    r->off = pos;
    r->len = len;
    r->woff = (size_t)(w - buf);
    r->wlen = wl;
    r->voff = (size_t)(v - buf);
    return len;
}

static uint32_t fb_rand(uint32_t *s) {
    uint32_t x = *s;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    return *s = x ? x : 0x9e3779b9u;
}

static void fb_stream(const char *buf, size_t n, uint32_t dim, uint32_t seed) {
    /* 1. Everything at once, eof=1. */
    /* A record takes at least a 1-byte word, ' ' and 4*dim bytes. */
    fb_rec *recs = malloc((n / (2 + 4 * (size_t)dim) + 1) * sizeof *recs);
    if (!recs) return;
    size_t nrec = 0, pos = 0;
    int failed = 0;
    while (pos < n) {
        fb_rec r;
        long len = fb_frame(buf, pos, n, dim, 1, &r);
        if (len < 0) { failed = 1; break; }
        FB_CHECK(wb_utf8_valid(buf + r.woff, r.wlen) ==
                 wbf_utf8_ref((const unsigned char *)buf + r.woff, r.wlen));
        recs[nrec++] = r;
        pos += (size_t)len;
    }
    const size_t end_pos = pos;

    /* 2. The same stream, bytes arriving at pseudo-random cut points. */
    uint32_t s = seed * 2654435761u + 1u;
    size_t have = 0, k = 0;
    int eof = 0;
    pos = 0;
    for (;;) {
        if (pos == n && have == n) {
            FB_CHECK(!failed && k == nrec && end_pos == n);
            break;
        }
        fb_rec r;
        long len = fb_frame(buf, pos, have, dim, eof, &r);
        if (len > 0) {
            FB_CHECK(k < nrec);
            FB_CHECK(r.off == recs[k].off && r.len == recs[k].len && r.woff == recs[k].woff &&
                     r.wlen == recs[k].wlen && r.voff == recs[k].voff);
            k++;
            pos += (size_t)len;
            continue;
        }
        if (len < 0) {
            FB_CHECK(failed && k == nrec && pos == end_pos);
            break;
        }
        /* More bytes needed. */
        if (have < n) {
            uint32_t x = fb_rand(&s);
            size_t step = (x & 3) == 0 ? 1 + ((x >> 2) & 7) : 1 + (x >> 2) % (n / 3 + 1);
            have = have + step < n ? have + step : n;
        } else {
            FB_CHECK(!eof);
            eof = 1;
        }
    }
    free(recs);
}

static int fuzz_bin_one(const uint8_t *data, size_t size) {
    if (size < 2) return 0;
    uint32_t dim = (uint32_t)(data[0] & 31) + 1;
    int lead_nl = (data[0] >> 5) & 1, long_word = (data[0] >> 6) & 1;
    size_t lw = long_word ? FB_LONG_WORD + (data[1] & 31) : 0;
    size_t rest = size - 2, n = (size_t)lead_nl + lw + rest;
    char *buf = malloc(n); /* exact size; malloc(0) is a valid zero-byte block */
    if (!buf) return 0;
    if (lead_nl) buf[0] = '\n';
    memset(buf + lead_nl, 'w', lw);
    if (rest) memcpy(buf + lead_nl + lw, data + 2, rest);

    fb_stream(buf, n, dim, data[1]);

    /* The sniffer sees what follows a header: here, the whole stream. */
    static const uint32_t dims[] = {1, 3, 300, 1000000};
    for (size_t i = 0; i < sizeof dims / sizeof dims[0] + 1; i++) {
        uint32_t d = i < sizeof dims / sizeof dims[0] ? dims[i] : dim;
        int b = wb_looks_binary(buf, n, d);
        FB_CHECK(b == 0 || b == 1);
        FB_CHECK(b == wb_looks_binary(buf, n, d));
        if (fb_must_be_binary(buf, n, d)) FB_CHECK_KNOWN("nul", b == 1);
    }
    free(buf);
    return 0;
}

#ifndef WB_FUZZ_NO_MAIN
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    return fuzz_bin_one(data, size);
}
#endif
