/*
 * vecparse.c — parsers for one record of a word-vector file: a GloVe /
 * word2vec text line, a "rows dim" header, a word2vec binary record; plus
 * format sniffing and UTF-8 validation.  Pure functions over memory (see
 * convert_int.h): the converter's threads call them, and so do the unit tests
 * and fuzz targets.  Leaves out: reading files, threads, writing stores.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "store/convert_int.h"
#include "wordbench/floatparse.h"

static inline int is_sep(char c) {
    return c == ' ' || c == '\t';
}

/* Strip a trailing '\r' and separators. */
static size_t trim_end(const char *line, size_t len) {
    while (len && (is_sep(line[len - 1]) || line[len - 1] == '\r')) len--;
    return len;
}

static void show_token(char *dst, size_t cap, const char *s, size_t n) {
    size_t k = 0;
    for (size_t i = 0; i < n && k + 5 < cap && i < 24; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c < 0x7f) dst[k++] = (char)c;
        else k += (size_t)snprintf(dst + k, cap - k, "\\x%02x", c);
    }
    if (n > 24 && k + 4 < cap) memcpy(dst + k, "...", 3), k += 3;
    dst[k] = 0;
}

/* Parse tokens p..end as exactly `dim` numbers into vec.  Returns 0 or -1
 * with why; *count gets how many numbers were read before a failure. */
static int parse_values(const char *p, const char *end, uint32_t dim, int allow_nonfinite, float *vec,
                        char *why, size_t whylen) {
    uint32_t k = 0;
    while (p < end) {
        if (k == dim) {
            snprintf(why, whylen, "expected %u numbers after the word, found more", dim);
            return -1;
        }
        const char *t = p;
        p = wb_parse_f32_token(t, end, &vec[k]);
        if (!p) {
            p = t;
            while (p < end && !is_sep(*p)) p++;
            char tok[128];
            show_token(tok, sizeof tok, t, (size_t)(p - t));
            snprintf(why, whylen, "value %u '%s' is not a number", k + 1, tok);
            return -1;
        }
        if (!allow_nonfinite && !isfinite(vec[k])) {
            snprintf(why, whylen, "value %u is %s (use --allow-nonfinite to keep it)", k + 1,
                     isnan(vec[k]) ? "NaN" : "infinite");
            return -1;
        }
        k++;
        while (p < end && is_sep(*p)) p++;
    }
    if (k != dim) {
        snprintf(why, whylen, "expected %u numbers after the word, found %u", dim, k);
        return -1;
    }
    return 0;
}

/* Is token t[0..n) a number (as strtof reads it)? */
static int is_number(const char *t, size_t n) {
    float f;
    return wb_parse_f32(t, n, &f);
}

int wb_parse_text_line(const char *line, size_t len, uint32_t dim, int allow_nonfinite,
                       wb_line *out, float *vec, char *why, size_t whylen) {
    len = trim_end(line, len);
    const char *p = line, *end = line + len;
    while (p < end && is_sep(*p)) p++;
    out->blank = p == end;
    out->word = p;
    out->wlen = 0;
    if (out->blank) return 0;

    /* Fast path: the word is the first token and exactly dim numbers follow. */
    const char *w = p;
    while (p < end && !is_sep(*p)) p++;
    out->wlen = (size_t)(p - w);
    while (p < end && is_sep(*p)) p++;
    char why1[256];
    if (parse_values(p, end, dim, allow_nonfinite, vec, why1, sizeof why1) == 0) return 0;

    /* Slow path: find the start of the last dim tokens by scanning back. */
    const char *q = end;
    uint32_t k = 0;
    while (q > w && k < dim) {
        while (q > w && !is_sep(q[-1])) q--; /* q at token start */
        k++;
        if (k == dim) break;
        while (q > w && is_sep(q[-1])) q--;
    }
    if (k < dim || q == w) {
        /* Fewer than dim tokens after the first: count the numbers we have. */
        uint32_t nums = 0;
        for (const char *t = w; t < end;) {
            const char *s = t;
            while (t < end && !is_sep(*t)) t++;
            if (s != w && is_number(s, (size_t)(t - s))) nums++;
            while (t < end && is_sep(*t)) t++;
        }
        if (k < dim || nums < dim) {
            snprintf(why, whylen, "expected %u numbers after the word, found %u", dim, nums);
            return -1;
        }
        snprintf(why, whylen, "%s", why1);
        return -1;
    }
    /* q = first of the last dim tokens; the word is w .. end of the token before q. */
    const char *we = q;
    while (we > w && is_sep(we[-1])) we--;
    /* If every extra token between the first and q is a number, the line simply
     * has too many numbers: report that rather than invent a word. */
    int extra_all_numbers = 1;
    uint32_t extra = 0;
    for (const char *t = w + out->wlen; t < we;) {
        while (t < we && is_sep(*t)) t++;
        const char *s = t;
        while (t < we && !is_sep(*t)) t++;
        if (t > s) {
            extra++;
            if (!is_number(s, (size_t)(t - s))) extra_all_numbers = 0;
        }
    }
    if (extra == 0 || extra_all_numbers) {
        if (extra) {
            snprintf(why, whylen, "expected %u numbers after the word, found %u", dim, dim + extra);
        } else {
            snprintf(why, whylen, "%s", why1);
        }
        return -1;
    }
    out->wlen = (size_t)(we - w);
    return parse_values(q, end, dim, allow_nonfinite, vec, why, whylen);
}

uint32_t wb_text_line_dim(const char *line, size_t len) {
    len = trim_end(line, len);
    const char *b = line, *q = line + len;
    while (b < q && is_sep(*b)) b++;
    uint32_t k = 0;
    while (q > b) {
        const char *e = q;
        while (q > b && !is_sep(q[-1])) q--;
        if (q == b) break; /* the first token is always the word */
        if (!is_number(q, (size_t)(e - q))) break;
        k++;
        while (q > b && is_sep(q[-1])) q--;
    }
    return k;
}

int wb_parse_header_line(const char *line, size_t len, uint64_t *rows, uint32_t *dim) {
    len = trim_end(line, len);
    const char *p = line, *end = line + len;
    uint64_t v[2];
    for (int i = 0; i < 2; i++) {
        while (p < end && is_sep(*p)) p++;
        if (p == end || *p < '0' || *p > '9') return -1;
        uint64_t x = 0;
        int nd = 0;
        while (p < end && *p >= '0' && *p <= '9') {
            if (++nd > 19) return -1;
            x = x * 10 + (uint64_t)(*p++ - '0');
        }
        if (p < end && !is_sep(*p)) return -1;
        v[i] = x;
    }
    while (p < end && is_sep(*p)) p++;
    if (p != end || v[1] == 0 || v[1] > 1000000) return -1;
    *rows = v[0];
    *dim = (uint32_t)v[1];
    return 0;
}

#define WB_MAX_BIN_WORD 65536

long wb_frame_bin_record(const char *p, size_t avail, uint32_t dim, int eof,
                         const char **word, size_t *wlen, const char **vals,
                         char *why, size_t whylen) {
    size_t i = 0;
    while (i < avail && p[i] == '\n') i++; /* newline(s) left by the previous record */
    if (i == avail && !eof) return 0;
    size_t lim = avail - i < WB_MAX_BIN_WORD ? avail - i : WB_MAX_BIN_WORD;
    const char *sp = memchr(p + i, ' ', lim);
    if (!sp) {
        if (lim == WB_MAX_BIN_WORD) {
            snprintf(why, whylen, "no space after the word within %d bytes", WB_MAX_BIN_WORD);
            return -1;
        }
        if (!eof) return 0;
        snprintf(why, whylen, "truncated record: file ends inside a word (%zu bytes left)", avail);
        return -1;
    }
    size_t ws = i, we = (size_t)(sp - p);
    if (we == ws) {
        snprintf(why, whylen, "empty word");
        return -1;
    }
    size_t need = we + 1 + (size_t)dim * 4;
    if (avail < need) {
        if (!eof) return 0;
        snprintf(why, whylen, "truncated record: needs %zu bytes, file ends after %zu", need, avail);
        return -1;
    }
    if (avail == need && !eof) return 0; /* cannot tell yet whether a '\n' follows */
    *word = p + ws;
    *wlen = we - ws;
    *vals = p + we + 1;
    if (need < avail && p[need] == '\n') need++;
    return (long)need;
}

int wb_looks_binary(const char *p, size_t n, uint32_t dim) {
    const char *sp = memchr(p, ' ', n < 4096 ? n : 4096);
    if (!sp) return 0;
    size_t off = (size_t)(sp - p) + 1, m = (size_t)dim * 4;
    if (m > n - off) m = n - off;
    for (size_t i = off; i < off + m; i++) {
        unsigned char c = (unsigned char)p[i];
        if (c == '\n') break; /* end of a text line */
        if (!((c >= '0' && c <= '9') || (c && strchr(" .-+eEnaifNAIFty\r\t", c)))) return 1;
    }
    return 0;
}

