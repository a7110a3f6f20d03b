/*
 * fuzz_text.c — libFuzzer target for the text-line parsers of src/store/vecparse.c
 * (wb_parse_text_line, wb_text_line_dim, wb_parse_header_line, wb_utf8_valid)
 * and the float parsers under them (wb_parse_f32, wb_parse_f32_token).
 *
 * Input layout:
 *   byte 0   bits 0-5: dim - 1 (dim 1..64); bit 6: allow_nonfinite;
 *            bit 7: also parse everything after byte 1 as one float token
 *   byte 1   size of the `why` buffer - 1 (1..256 bytes)
 *   rest     lines separated by '\n'
 * Each line is copied into a heap block of exactly its length (the vectors
 * and the `why` buffer too), so AddressSanitizer catches a read or write one
 * byte past any of them.
 *
 * Checked for every line:
 *   - wb_parse_text_line returns 0 or -1; on -1 `why` is a non-empty string
 *     inside the buffer; blank exactly when the line holds only ' ', '\t',
 *     '\r'; on success the word lies inside the line, is non-empty, starts
 *     after leading separators, ends at a token boundary, and the rest of the
 *     line is exactly `dim` tokens that wb_parse_f32 reads to the same bits;
 *     values are finite unless allowed; a word of several tokens does not
 *     consist of numbers after its first token (that is "too many numbers");
 *   - the parse is deterministic (same result, bits and message twice);
 *   - round trip: "word v1 ... vD" printed with %.9g parses back to the same
 *     word and bits (NaN only as NaN);
 *   - d = wb_text_line_dim(line) counts trailing numbers, at most tokens - 1,
 *     d >= dim when the line parsed, and the line parses with dim d;
 *   - wb_parse_header_line agrees with a reference "rows dim" reader;
 *   - wb_utf8_valid agrees with a reference validator (line and word);
 *   - wb_parse_f32 on every token agrees with glibc strtof bit for bit,
 *     leaves errno alone, and leaves *out alone on failure; so does
 *     wb_parse_f32_token (the converter's hot loop, tokens ending at ' ',
 *     '\t', '\r', '\n') at every token start, and it returns the token end.
 * A broken invariant aborts, so libFuzzer saves the input.  Known, unfixed
 * library bugs can be made non-fatal with WB_FUZZ_SKIP=tag[,tag] (tag: ws);
 * they stay fatal by default.
 *
 * Leaves out: chunking and threads of the converter (convert.c).  The
 * harness body is fuzz_text_one(); tests/test_fuzz_regress.c includes this
 * file with WB_FUZZ_NO_MAIN defined to replay saved inputs without libFuzzer.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/convert_int.h"
#include "wordbench/floatparse.h"

#include "fuzz_common.h"

#define FT_MAX_DIM 64

#define FT_CHECK(c) ((c) ? (void)0 : wbf_fail("fuzz_text.c", #c, __LINE__))

#define FT_CHECK_KNOWN(tag, c) (((c) || wbf_skipped(tag)) ? (void)0 : wbf_fail("fuzz_text.c", #c " [" tag "]", __LINE__))

/* White space as strtof skips it in the "C" locale. */
static int ft_is_space(char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

static int ft_is_sep(char c) {
    return c == ' ' || c == '\t';
}

static uint32_t ft_bits(float f) {
    uint32_t u;
    memcpy(&u, &f, 4);
    return u;
}

/* Reference for wb_parse_header_line: after dropping trailing ' ', '\t',
 * '\r', exactly two ' '/'\t'-separated tokens of 1..19 decimal digits, the
 * second in 1..1000000. */
static int ft_header_ref(const char *s, size_t n, uint64_t *rows, uint32_t *dim) {
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r')) n--;
    uint64_t v[2];
    int count = 0;
    size_t i = 0;
    while (i < n) {
        while (i < n && ft_is_sep(s[i])) i++;
        if (i == n) break;
        size_t b = i;
        while (i < n && !ft_is_sep(s[i])) i++;
        if (count == 2 || i - b > 19) return -1;
        uint64_t x = 0;
        for (size_t j = b; j < i; j++) {
            if (s[j] < '0' || s[j] > '9') return -1;
            x = x * 10 + (uint64_t)(s[j] - '0');
        }
        v[count++] = x;
    }
    if (count != 2 || v[1] == 0 || v[1] > 1000000) return -1;
    *rows = v[0];
    *dim = (uint32_t)v[1];
    return 0;
}

/* wb_parse_f32 against strtof on one token.  Returns wb_parse_f32's result. */
static int ft_float_token(const char *t, size_t n, float *out) {
    char *z = malloc(n + 1);
    if (!z) return 0;
    memcpy(z, t, n);
    z[n] = 0;
    char *end;
    errno = 0;
    float ref = strtof(z, &end);
    int ref_ok = n > 0 && end == z + n;

    float got;
    const uint32_t sentinel = 0x7fa5a5a5u;
    memcpy(&got, &sentinel, 4);
    errno = 4242;
    int ok = wb_parse_f32(t, n, &got);
    FT_CHECK(errno == 4242);           /* errno preserved */
    FT_CHECK(ok == 0 || ok == 1);
    /* Same acceptance as strtof; a token that starts with white space may
     * also be refused (floatparse.h: "it does not skip white space"). */
    FT_CHECK(ok == ref_ok || (!ok && n > 0 && ft_is_space(t[0])));
    if (ok) FT_CHECK(ft_bits(got) == ft_bits(ref)); /* same bits */
    else FT_CHECK(ft_bits(got) == sentinel);        /* *out untouched */
    free(z);
    if (ok && out) *out = got;
    return ok;
}

/* wb_parse_f32_token at s[0..n) (n > 0) against strtof on the token that
 * runs to the next ' ', '\t', '\r', '\n' (the converter's hot loop). */
static void ft_token_fn(const char *s, size_t n) {
    size_t len = 0;
    while (len < n && s[len] != ' ' && s[len] != '\t' && s[len] != '\r' && s[len] != '\n') len++;
    char *z = malloc(len + 1);
    if (!z) return;
    memcpy(z, s, len);
    z[len] = 0;
    char *zend;
    float ref = strtof(z, &zend);
    int ref_ok = len > 0 && zend == z + len;

    float got;
    const uint32_t sentinel = 0x7fa5a5a5u;
    memcpy(&got, &sentinel, 4);
    errno = 4242;
    const char *e = wb_parse_f32_token(s, s + n, &got);
    FT_CHECK(errno == 4242);
    if (ref_ok && e == NULL && ft_is_space(s[0])) ref_ok = 0; /* may refuse leading white space */
    if (ref_ok) {
        FT_CHECK(e == s + len);
        FT_CHECK(ft_bits(got) == ft_bits(ref));
    } else {
        FT_CHECK(e == NULL);
        FT_CHECK(ft_bits(got) == sentinel);
    }
    free(z);
}

/* Bounds of the line after wb_parse_text_line's trimming: [b, e). */
static void ft_trim(const char *s, size_t n, size_t *b, size_t *e) {
    while (n && (ft_is_sep(s[n - 1]) || s[n - 1] == '\r')) n--;
    size_t i = 0;
    while (i < n && ft_is_sep(s[i])) i++;
    *b = i;
    *e = n;
}

static void ft_check_why(const char *why, size_t whylen) {
    FT_CHECK(memchr(why, 0, whylen) != NULL);
    if (whylen > 1) FT_CHECK(why[0] != 0);
}

/* All checks on one successful, non-blank parse with `dim` values. */
static void ft_check_success(const char *s, size_t n, uint32_t dim, int allow, const wb_line *ln,
                             const float *vec) {
    size_t b, e;
    ft_trim(s, n, &b, &e);
    FT_CHECK(ln->word == s + b);  /* the word starts at the first non-separator */
    FT_CHECK(ln->wlen >= 1);
    size_t we = b + ln->wlen;
    FT_CHECK(we <= e);
    FT_CHECK(!ft_is_sep(s[we - 1]));
    FT_CHECK(we < e && ft_is_sep(s[we])); /* dim >= 1 values follow */

    /* The rest is exactly dim tokens reading to the same bits. */
    size_t i = we;
    uint32_t k = 0;
    while (i < e) {
        while (i < e && ft_is_sep(s[i])) i++;
        if (i == e) break;
        size_t t = i;
        while (i < e && !ft_is_sep(s[i])) i++;
        FT_CHECK(k < dim);
        float f;
        FT_CHECK(ft_float_token(s + t, i - t, &f));
        FT_CHECK(ft_bits(f) == ft_bits(vec[k]));
        if (!allow) FT_CHECK(isfinite(vec[k]));
        k++;
    }
    FT_CHECK(k == dim);

    /* A word of several tokens has a non-number after its first token. */
    size_t first_end = b;
    while (first_end < we && !ft_is_sep(s[first_end])) first_end++;
    if (first_end < we) {
        int all_numbers = 1;
        for (i = first_end; i < we;) {
            while (i < we && ft_is_sep(s[i])) i++;
            size_t t = i;
            while (i < we && !ft_is_sep(s[i])) i++;
            if (i > t && !ft_float_token(s + t, i - t, NULL)) all_numbers = 0;
        }
        FT_CHECK(!all_numbers);
    }

    /* wb_utf8_valid on the word agrees with the reference. */
    FT_CHECK(wb_utf8_valid(ln->word, ln->wlen) ==
             wbf_utf8_ref((const unsigned char *)ln->word, ln->wlen));

    /* Round trip through "%.9g" (exact for every float). */
    if (!memchr(ln->word, '\n', ln->wlen)) {
        size_t cap = ln->wlen + (size_t)dim * 24 + 1;
        char *line = malloc(cap);
        float *again = malloc((size_t)dim * sizeof(float));
        if (line && again) {
            memcpy(line, ln->word, ln->wlen);
            size_t len = ln->wlen;
            for (uint32_t j = 0; j < dim; j++)
                len += (size_t)snprintf(line + len, cap - len, " %.9g", (double)vec[j]);
            wb_line ln2;
            char why[256];
            int rc = wb_parse_text_line(line, len, dim, allow, &ln2, again, why, sizeof why);
            FT_CHECK(rc == 0);
            FT_CHECK(!ln2.blank && ln2.word == line && ln2.wlen == ln->wlen);
            for (uint32_t j = 0; j < dim; j++) {
                if (isnan(vec[j])) FT_CHECK(isnan(again[j]));
                else FT_CHECK(ft_bits(again[j]) == ft_bits(vec[j]));
            }
        }
        free(line);
        free(again);
    }
}

static void ft_line(const char *src, size_t n, uint32_t dim, int allow, size_t whylen) {
    /* Exact-size heap copies: ASan sees any access one byte out. */
    char *s = malloc(n); /* malloc(0) is a valid zero-byte block under ASan and glibc */
    float *vec = malloc((size_t)dim * sizeof(float));
    float *vec2 = malloc((size_t)dim * sizeof(float));
    char *why = malloc(whylen), *why2 = malloc(whylen);
    if (!s || !vec || !vec2 || !why || !why2) goto out;
    if (n) memcpy(s, src, n);

    /* Every token through the float differential. */
    for (size_t i = 0; i < n;) {
        while (i < n && ft_is_sep(s[i])) i++;
        size_t t = i;
        while (i < n && !ft_is_sep(s[i])) i++;
        if (i > t) {
            ft_float_token(s + t, i - t, NULL);
            ft_token_fn(s + t, n - t);
        }
    }
    FT_CHECK(wb_utf8_valid(s, n) == wbf_utf8_ref((const unsigned char *)s, n));

    /* wb_parse_text_line, twice. */
    wb_line ln, ln2;
    memset(why, 0x55, whylen);
    int rc = wb_parse_text_line(s, n, dim, allow, &ln, vec, why, whylen);
    FT_CHECK(rc == 0 || rc == -1);
    memset(why2, 0x66, whylen);
    int rc2 = wb_parse_text_line(s, n, dim, allow, &ln2, vec2, why2, whylen);
    FT_CHECK(rc2 == rc);
    int only_space = 1;
    for (size_t i = 0; i < n; i++)
        if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r') only_space = 0;
    if (rc == 0) {
        FT_CHECK(ln.blank == only_space);
        FT_CHECK(ln2.blank == ln.blank && ln2.word == ln.word && ln2.wlen == ln.wlen);
        if (ln.blank) {
            FT_CHECK(ln.wlen == 0 && ln.word >= s && ln.word <= s + n);
        } else {
            FT_CHECK(memcmp(vec, vec2, (size_t)dim * sizeof(float)) == 0);
            ft_check_success(s, n, dim, allow, &ln, vec);
        }
    } else {
        FT_CHECK(!only_space);
        ft_check_why(why, whylen);
        ft_check_why(why2, whylen);
        FT_CHECK(strcmp(why, why2) == 0);
    }

    /* wb_text_line_dim: trailing numbers after the first token. */
    uint32_t d = wb_text_line_dim(s, n);
    FT_CHECK(d == wb_text_line_dim(s, n));
    size_t ntok = 0;
    for (size_t i = 0; i < n;) {
        while (i < n && ft_is_sep(s[i])) i++;
        size_t t = i;
        while (i < n && !ft_is_sep(s[i])) i++;
        if (i > t) ntok++;
    }
    FT_CHECK(d == 0 || d < ntok);
    if (rc == 0 && !ln.blank) FT_CHECK(d >= dim);
    if (d > 0) {
        /* A line whose dim was taken from itself parses with that dim. */
        float *vd = malloc((size_t)d * sizeof(float));
        char whyd[256];
        wb_line lnd;
        if (vd) {
            /* Known bug "ws": wb_text_line_dim counts a token such as "\r2"
             * as a number (wb_parse_f32 lets strtof skip the '\r') while
             * the parser's wb_parse_f32_token ends the token at the '\r'. */
            int drc = wb_parse_text_line(s, n, d, 1, &lnd, vd, whyd, sizeof whyd);
            FT_CHECK_KNOWN("ws", drc == 0);
            if (drc == 0) {
                FT_CHECK(!lnd.blank);
                ft_check_success(s, n, d, 1, &lnd, vd);
            }
        }
        free(vd);
    }

    /* wb_parse_header_line against the reference. */
    uint64_t rows = 7, rrows = 0;
    uint32_t hdim = 7, rdim = 0;
    int hrc = wb_parse_header_line(s, n, &rows, &hdim);
    int rrc = ft_header_ref(s, n, &rrows, &rdim);
    FT_CHECK(hrc == rrc);
    if (hrc == 0) {
        FT_CHECK(rows == rrows && hdim == rdim);
        FT_CHECK(hdim >= 1 && hdim <= 1000000);
        char h[64];
        int hl = snprintf(h, sizeof h, "%" PRIu64 " %" PRIu32, rows, hdim);
        uint64_t rows2;
        uint32_t dim2;
        FT_CHECK(wb_parse_header_line(h, (size_t)hl, &rows2, &dim2) == 0 && rows2 == rows && dim2 == hdim);
    } else {
        FT_CHECK(rows == 7 && hdim == 7); /* outputs untouched on failure */
    }
out:
    free(s);
    free(vec);
    free(vec2);
    free(why);
    free(why2);
}

static int fuzz_text_one(const uint8_t *data, size_t size) {
    if (size < 2) return 0;
    uint32_t dim = (uint32_t)(data[0] & 63) + 1;
    int allow = (data[0] >> 6) & 1;
    int whole_token = data[0] >> 7;
    size_t whylen = (size_t)data[1] + 1;
    const char *p = (const char *)data + 2, *end = (const char *)data + size;
    if (whole_token) { /* the whole rest as one token: white space, NULs, anything */
        ft_float_token(p, (size_t)(end - p), NULL);
        if (p < end) ft_token_fn(p, (size_t)(end - p));
    }
    for (;;) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *le = nl ? nl : end;
        ft_line(p, (size_t)(le - p), dim, allow, whylen);
        if (!nl) break;
        p = nl + 1;
    }
    return 0;
}

#ifndef WB_FUZZ_NO_MAIN
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    return fuzz_text_one(data, size);
}
#endif
