/*
 * tokenize.c — the keras, fasttext, unicode and char tokenizers
 * (wordbench/tokenize.h).
 *
 * Contains: the input stages (UTF-8 repair with U+FFFD, HTML tag and entity
 * removal, the max_doc_chars cut), Python's str.lower() rules on top of
 * utf8proc's simple case mappings, and one tokenizing loop per kind.  Every
 * stage is a single forward pass; look-ahead (final sigma, the end of an HTML
 * tag) never rescans the same bytes twice, so time is linear in the input.
 *
 * Leaves out: readers, vocabularies, anything that prints.
 */
#include "wordbench/tokenize.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

#include "wordbench/utf8.h"

/* ---- growth ---- */

static int grow(void **p, size_t *cap, size_t need, size_t elem) {
    if (need <= *cap) return 0;
    size_t nc = *cap ? *cap : 64;
    while (nc < need) {
        if (nc > SIZE_MAX / 2) { nc = need; break; }
        nc *= 2;
    }
    if (nc > SIZE_MAX / elem) return WB_ENOMEM;
    void *q = realloc(*p, nc * elem);
    if (!q) return WB_ENOMEM;
    *p = q;
    *cap = nc;
    return 0;
}

void wb_tokenize_opts_init(wb_tokenize_opts *o, wb_tok_kind kind) {
    o->kind = kind;
    o->lower = kind == WB_TOK_FASTTEXT ? 0 : 1;
    o->max_doc_chars = 0;
    o->strip_html = 0;
    o->alphabet = NULL;
}

void wb_token_list_init(wb_token_list *l) { memset(l, 0, sizeof *l); }

void wb_token_list_reset(wb_token_list *l) {
    l->n = 0;
    l->n_invalid = 0;
    if (l->off) l->off[0] = 0;
}

void wb_token_list_free(wb_token_list *l) {
    if (!l) return;
    free(l->buf);
    free(l->off);
    free(l->scratch);
    free(l->cps);
    wb_token_list_init(l);
}

/* ---- token output: the token in progress is buf[off[n] .. used) ---- */

typedef struct outbuf {
    wb_token_list *l;
    size_t used; /* bytes of l->buf in use */
} outbuf;

static inline int put_bytes(outbuf *ob, const char *s, size_t n) {
    wb_token_list *l = ob->l;
    if (ob->used + n > l->buf_cap &&
        grow((void **)&l->buf, &l->buf_cap, ob->used + n, 1))
        return WB_ENOMEM;
    memcpy(l->buf + ob->used, s, n);
    ob->used += n;
    return 0;
}

static inline int put_cp(outbuf *ob, uint32_t c) {
    char tmp[4];
    return put_bytes(ob, tmp, wb_utf8_encode(c, tmp));
}

/* End the token in progress; empty ones are dropped unless keep_empty. */
static inline int end_token(outbuf *ob, int keep_empty) {
    wb_token_list *l = ob->l;
    if (ob->used == l->off[l->n] && !keep_empty) return 0;
    if (l->n + 2 > l->off_cap &&
        grow((void **)&l->off, &l->off_cap, l->n + 2, sizeof *l->off))
        return WB_ENOMEM;
    l->off[++l->n] = ob->used;
    return 0;
}

/* ---- stage 1: UTF-8 repair ---- */

/* Decode one code point of VALID UTF-8 at s[*i], advancing *i. */
static inline uint32_t dec_valid(const unsigned char *s, size_t *i) {
    uint32_t c = s[*i];
    if (c < 0x80) { *i += 1; return c; }
    if (c < 0xE0) { c = ((c & 0x1F) << 6) | (s[*i + 1] & 0x3F); *i += 2; return c; }
    if (c < 0xF0) {
        c = ((c & 0x0F) << 12) | ((uint32_t)(s[*i + 1] & 0x3F) << 6) | (s[*i + 2] & 0x3F);
        *i += 3;
        return c;
    }
    c = ((c & 0x07) << 18) | ((uint32_t)(s[*i + 1] & 0x3F) << 12) |
        ((uint32_t)(s[*i + 2] & 0x3F) << 6) | (s[*i + 3] & 0x3F);
    *i += 4;
    return c;
}

/* Copy `len` bytes into l->scratch as valid UTF-8, replacing each maximal
 * ill-formed subsequence (Unicode 15 table 3-7) by U+FFFD.  Stops after
 * `limit` code points when limit > 0.  Returns 0 or WB_ENOMEM; *outlen gets
 * the bytes written. */
static int repair(wb_token_list *l, const unsigned char *s, size_t len, size_t limit,
                  size_t *outlen) {
    if (grow((void **)&l->scratch, &l->scratch_cap, len + 4, 1)) return WB_ENOMEM;
    size_t i = 0, w = 0, chars = 0;
    while (i < len) {
        if (limit && chars == limit) break;
        chars++;
        unsigned char b = s[i];
        if (b < 0x80) { l->scratch[w++] = (char)b; i++; continue; }
        int ok;
        size_t k = wb_utf8_seq(s + i, len - i, &ok);
        if (ok) {
            memcpy(l->scratch + w, s + i, k);
            w += k;
            i += k;
            continue;
        }
        /* ill-formed: bytes i .. i+k-1 are one maximal subpart (k >= 1) */
        size_t rest = len - (i + k);
        if (grow((void **)&l->scratch, &l->scratch_cap, w + 3 + rest + 4, 1)) return WB_ENOMEM;
        memcpy(l->scratch + w, "\xEF\xBF\xBD", 3);
        w += 3;
        i += k;
        l->n_invalid++;
    }
    *outlen = w;
    return 0;
}

/* ---- stage 2: HTML ---- */

static const struct { const char *name; uint32_t cp; } html_ents[] = {
    {"amp", '&'}, {"lt", '<'}, {"gt", '>'}, {"quot", '"'}, {"apos", '\''},
    {"nbsp", 0xA0}, {"copy", 0xA9}, {"reg", 0xAE}, {"trade", 0x2122},
    {"hellip", 0x2026}, {"mdash", 0x2014}, {"ndash", 0x2013}, {"lsquo", 0x2018},
    {"rsquo", 0x2019}, {"sbquo", 0x201A}, {"ldquo", 0x201C}, {"rdquo", 0x201D},
    {"bdquo", 0x201E}, {"laquo", 0xAB}, {"raquo", 0xBB}, {"euro", 0x20AC},
    {"pound", 0xA3}, {"yen", 0xA5}, {"cent", 0xA2}, {"sect", 0xA7}, {"deg", 0xB0},
    {"plusmn", 0xB1}, {"times", 0xD7}, {"divide", 0xF7}, {"middot", 0xB7},
    {"bull", 0x2022}, {"para", 0xB6}, {"iexcl", 0xA1}, {"iquest", 0xBF},
    {"shy", 0xAD}, {"micro", 0xB5}, {"frac12", 0xBD}, {"frac14", 0xBC},
    {"frac34", 0xBE}, {"sup2", 0xB2}, {"sup3", 0xB3}, {"larr", 0x2190},
    {"rarr", 0x2192}, {"uarr", 0x2191}, {"darr", 0x2193}, {"harr", 0x2194},
    {"rArr", 0x21D2}, {"ne", 0x2260}, {"le", 0x2264}, {"ge", 0x2265},
    {"infin", 0x221E}, {"dagger", 0x2020}, {"prime", 0x2032}, {"ensp", 0x2002},
    {"emsp", 0x2003}, {"thinsp", 0x2009}, {"zwj", 0x200D}, {"zwnj", 0x200C},
    {"eacute", 0xE9}, {"egrave", 0xE8}, {"aacute", 0xE1}, {"agrave", 0xE0},
    {"auml", 0xE4}, {"ouml", 0xF6}, {"uuml", 0xFC}, {"szlig", 0xDF},
    {"ccedil", 0xE7}, {"ntilde", 0xF1},
};

static int is_alpha_ascii(unsigned char c) { return (c | 0x20) >= 'a' && (c | 0x20) <= 'z'; }

/* Decode the entity starting at s[r] == '&'.  Returns the bytes consumed
 * (0 if it is not a known, terminated entity) and the code point in *cp. */
static size_t html_entity(const char *s, size_t r, size_t n, uint32_t *cp) {
    size_t i = r + 1;
    if (i < n && s[i] == '#') {
        i++;
        int hex = 0;
        if (i < n && (s[i] == 'x' || s[i] == 'X')) { hex = 1; i++; }
        size_t d0 = i;
        uint32_t v = 0;
        for (; i < n && i - d0 < 12; i++) {
            unsigned char c = (unsigned char)s[i];
            int d;
            if (c >= '0' && c <= '9') d = c - '0';
            else if (hex && (c | 0x20) >= 'a' && (c | 0x20) <= 'f') d = (c | 0x20) - 'a' + 10;
            else break;
            v = v * (hex ? 16u : 10u) + (uint32_t)d;
            if (v > 0x10FFFF) v = 0x110000; /* saturate: stays invalid */
        }
        if (i == d0 || i >= n || s[i] != ';') return 0;
        if (v == 0 || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF)) v = 0xFFFD;
        *cp = v;
        return i + 1 - r;
    }
    size_t j = i;
    while (j < n && j - i < 8 && (is_alpha_ascii((unsigned char)s[j]) ||
                                  (s[j] >= '0' && s[j] <= '9')))
        j++;
    if (j == i || j >= n || s[j] != ';') return 0;
    for (size_t k = 0; k < sizeof html_ents / sizeof html_ents[0]; k++) {
        if (strlen(html_ents[k].name) == j - i && !memcmp(html_ents[k].name, s + i, j - i)) {
            *cp = html_ents[k].cp;
            return j + 1 - r;
        }
    }
    return 0;
}

/* Remove tags and decode entities in place (valid UTF-8 in and out; output
 * never longer than input).  Returns the new length. */
static size_t html_strip(char *s, size_t n) {
    size_t r = 0, w = 0;
    size_t no_gt = SIZE_MAX;      /* no '>' at or after this index */
    size_t no_cend = SIZE_MAX;    /* no "-->" at or after this index */
    while (r < n) {
        char c = s[r];
        if (c == '<' && r + 1 < n &&
            (is_alpha_ascii((unsigned char)s[r + 1]) || s[r + 1] == '/' || s[r + 1] == '!' ||
             s[r + 1] == '?')) {
            if (r + 4 <= n && !memcmp(s + r, "<!--", 4) && r + 4 < no_cend) {
                const char *e = memmem(s + r + 4, n - r - 4, "-->", 3);
                if (e) {
                    s[w++] = ' ';
                    r = (size_t)(e - s) + 3;
                    continue;
                }
                no_cend = r;
            }
            if (r + 1 < no_gt) {
                const char *g = memchr(s + r + 1, '>', n - r - 1);
                if (g) {
                    s[w++] = ' ';
                    r = (size_t)(g - s) + 1;
                    continue;
                }
                no_gt = r;
            }
        } else if (c == '&') {
            uint32_t cp;
            size_t k = html_entity(s, r, n, &cp);
            if (k) {
                w += wb_utf8_encode(cp, s + w); /* at most k bytes: w + out <= r + k */
                r += k;
                continue;
            }
        }
        s[w++] = s[r++];
    }
    return w;
}

/* ---- Python str.lower() ---- */

/* Python's Case_Ignorable: Mn Me Cf Lm Sk, plus Word_Break MidLetter,
 * MidNumLet and Single_Quote. */
static int case_ignorable(uint32_t c) {
    switch (utf8proc_category((utf8proc_int32_t)c)) {
    case UTF8PROC_CATEGORY_MN: case UTF8PROC_CATEGORY_ME: case UTF8PROC_CATEGORY_CF:
    case UTF8PROC_CATEGORY_LM: case UTF8PROC_CATEGORY_SK:
        return 1;
    default:
        break;
    }
    switch (c) {
    case 0x27: case 0x2E: case 0x3A: case 0xB7: case 0x387: case 0x55F: case 0x5F4:
    case 0x2018: case 0x2019: case 0x2024: case 0x2027: case 0xFE13: case 0xFE52:
    case 0xFE55: case 0xFF07: case 0xFF0E: case 0xFF1A:
        return 1;
    default:
        return 0;
    }
}

/* Cased: Lu Ll Lt, Other_Lowercase, Other_Uppercase (approximated by "has a
 * case mapping" plus the symbols below). */
static int cased(uint32_t c) {
    if (c < 0x80) return is_alpha_ascii((unsigned char)c);
    switch (utf8proc_category((utf8proc_int32_t)c)) {
    case UTF8PROC_CATEGORY_LU: case UTF8PROC_CATEGORY_LL: case UTF8PROC_CATEGORY_LT:
        return 1;
    default:
        break;
    }
    if (c == 0xAA || c == 0xBA) return 1;
    if ((c >= 0x1F130 && c <= 0x1F149) || (c >= 0x1F150 && c <= 0x1F169) ||
        (c >= 0x1F170 && c <= 0x1F189))
        return 1;
    return utf8proc_tolower((utf8proc_int32_t)c) != (utf8proc_int32_t)c ||
           utf8proc_toupper((utf8proc_int32_t)c) != (utf8proc_int32_t)c;
}

/* Per-document state of the lower-caser: Python decides final sigma from the
 * last non-case-ignorable character before it (tracked here) and the first
 * one after it (looked up forward; the scans are disjoint, so linear). */
#define LW_CACHE 512 /* direct-mapped cache of non-ASCII case properties */
typedef struct lowerer {
    int prev_cased;              /* last non-case-ignorable code point so far was cased */
    uint32_t key[LW_CACHE];      /* cached code point, 0 = empty (ASCII never cached) */
    uint32_t low[LW_CACHE];      /* its simple lower-case mapping */
    unsigned char ign[LW_CACHE]; /* case_ignorable(key) */
    unsigned char cas[LW_CACHE]; /* cased(key) */
} lowerer;

/* Lower-case code point c, which ends at byte `next` of s (valid UTF-8,
 * length n).  Writes 1 or 2 code points to out; returns how many. */
static int py_lower(lowerer *lw, const unsigned char *s, size_t n, size_t next, uint32_t c,
                    uint32_t out[2]) {
    int k = 1;
    if (c < 0x80) {
        out[0] = (c >= 'A' && c <= 'Z') ? c + 32 : c;
    } else if (c == 0x130) {
        out[0] = 'i';
        out[1] = 0x307;
        k = 2;
    } else if (c == 0x3A3) {
        int fin = lw->prev_cased;
        if (fin) {
            size_t j = next;
            uint32_t d = 0;
            int found = 0;
            while (j < n) {
                d = dec_valid(s, &j);
                if (!case_ignorable(d)) { found = 1; break; }
            }
            fin = !found || !cased(d);
        }
        out[0] = fin ? 0x3C2 : 0x3C3;
    }
    if (c < 0x80) {
        if (!(c == '\'' || c == '.' || c == ':' || c == '^' || c == '`'))
            lw->prev_cased = is_alpha_ascii((unsigned char)c);
        return k;
    }
    size_t h = c % LW_CACHE;
    if (lw->key[h] != c) {
        lw->key[h] = c;
        lw->low[h] = (uint32_t)utf8proc_tolower((utf8proc_int32_t)c);
        lw->ign[h] = (unsigned char)case_ignorable(c);
        lw->cas[h] = (unsigned char)cased(c);
    }
    if (c != 0x130 && c != 0x3A3) out[0] = lw->low[h];
    if (!lw->ign[h]) lw->prev_cased = lw->cas[h];
    return k;
}

/* ---- the tokenizers ---- */

/* Keras' default filters plus the split character ' '. */
static int keras_sep(uint32_t c) {
    return c < 0x80 && (c == ' ' || c == '\t' || c == '\n' ||
                        (c >= '!' && c <= '/') || (c >= ':' && c <= '@') ||
                        (c >= '[' && c <= '`' ) || (c >= '{' && c <= '~')) &&
           c != '\'';
}

static int fasttext_sep(uint32_t c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r' || c == 0;
}

static int tok_words(wb_token_list *l, outbuf *ob, const unsigned char *s, size_t n,
                     int keras, int lower) {
    if (grow((void **)&l->buf, &l->buf_cap, n + 8, 1)) return WB_ENOMEM;
    lowerer lw;
    memset(&lw, 0, sizeof lw);
    size_t i = 0;
    while (i < n) {
        size_t at = i;
        uint32_t c = dec_valid(s, &i);
        uint32_t lc[2];
        int k = 1;
        if (lower) k = py_lower(&lw, s, n, i, c, lc);
        if (keras ? keras_sep(c) : fasttext_sep(c)) {
            if (end_token(ob, 0)) return WB_ENOMEM;
            continue;
        }
        if (!lower) {
            if (put_bytes(ob, (const char *)s + at, i - at)) return WB_ENOMEM;
        } else {
            for (int j = 0; j < k; j++)
                if (put_cp(ob, lc[j])) return WB_ENOMEM;
        }
    }
    return end_token(ob, 0);
}

static int cmp_i32(const void *a, const void *b) {
    int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
    return (x > y) - (x < y);
}

static int tok_chars(wb_token_list *l, outbuf *ob, const unsigned char *s, size_t n,
                     const wb_tokenize_opts *o, wb_err *e) {
    unsigned char ascii[128] = {0};
    size_t na = 0;
    const char *alpha = o->alphabet ? o->alphabet : WB_TOK_ZHANG_ALPHABET;
    const unsigned char *a = (const unsigned char *)alpha;
    size_t alen = strlen(alpha);
    for (size_t i = 0; i < alen;) {
        utf8proc_int32_t c;
        utf8proc_ssize_t k = utf8proc_iterate(a + i, (utf8proc_ssize_t)(alen - i), &c);
        if (k <= 0)
            return wb_err_set(e, WB_EUSAGE, "tokenizer alphabet: invalid UTF-8 at byte %zu", i);
        i += (size_t)k;
        if (c < 0x80) { ascii[c] = 1; continue; }
        if (grow((void **)&l->cps, &l->cps_cap, na + 1, sizeof *l->cps))
            return wb_err_set(e, WB_ENOMEM, "tokenizer: out of memory");
        l->cps[na++] = c;
    }
    if (na > 1) qsort(l->cps, na, sizeof *l->cps, cmp_i32);
    /* at most one token per input byte (İ: 2 bytes, 2 tokens); lower-casing
     * may lengthen a character by one byte (Ⱥ → ⱥ) */
    if (grow((void **)&l->off, &l->off_cap, n + 2, sizeof *l->off) ||
        grow((void **)&l->buf, &l->buf_cap, n + n / 2 + 8, 1))
        return wb_err_set(e, WB_ENOMEM, "tokenizer: out of memory");
    lowerer lw;
    memset(&lw, 0, sizeof lw);
    size_t i = 0;
    while (i < n) {
        if (s[i] < 0x80) { /* fast path: no allocation can be needed */
            unsigned char c = s[i++];
            if (o->lower) {
                if (c >= 'A' && c <= 'Z') c += 32;
                if (!(c == '\'' || c == '.' || c == ':' || c == '^' || c == '`'))
                    lw.prev_cased = is_alpha_ascii(c);
            }
            if (ascii[c]) l->buf[ob->used++] = (char)c;
            l->off[++l->n] = ob->used;
            continue;
        }
        uint32_t c = dec_valid(s, &i);
        uint32_t lc[2];
        int k = 1;
        if (o->lower) k = py_lower(&lw, s, n, i, c, lc);
        else lc[0] = c;
        for (int j = 0; j < k; j++) {
            int32_t key = (int32_t)lc[j];
            int known = lc[j] < 0x80 ? ascii[lc[j]]
                                     : na && bsearch(&key, l->cps, na, sizeof *l->cps, cmp_i32) != NULL;
            if (known && put_cp(ob, lc[j])) return wb_err_set(e, WB_ENOMEM, "tokenizer: out of memory");
            if (end_token(ob, 1)) return wb_err_set(e, WB_ENOMEM, "tokenizer: out of memory");
        }
    }
    return 0;
}

static int unicode_sep(int32_t c) {
    switch (utf8proc_category(c)) {
    case UTF8PROC_CATEGORY_ZS: case UTF8PROC_CATEGORY_ZL: case UTF8PROC_CATEGORY_ZP:
    case UTF8PROC_CATEGORY_PC: case UTF8PROC_CATEGORY_PD: case UTF8PROC_CATEGORY_PS:
    case UTF8PROC_CATEGORY_PE: case UTF8PROC_CATEGORY_PI: case UTF8PROC_CATEGORY_PF:
    case UTF8PROC_CATEGORY_PO: case UTF8PROC_CATEGORY_CC:
        return 1;
    default:
        return 0;
    }
}

/* NFKC (+ case folding) chunk by chunk: chunks end at ASCII white space, a
 * starter that no normalization step can cross, so the result equals
 * normalizing the whole text while the code point buffer stays reusable. */
static int tok_unicode(wb_token_list *l, outbuf *ob, const unsigned char *s, size_t n,
                       int lower, wb_err *e) {
    utf8proc_option_t opt = UTF8PROC_STABLE | UTF8PROC_COMPOSE | UTF8PROC_COMPAT;
    if (lower) opt |= UTF8PROC_CASEFOLD;
    size_t i = 0;
    while (i < n) {
        size_t j = i;
        while (j < n && !(s[j] == ' ' || (s[j] >= '\t' && s[j] <= '\r'))) j++;
        if (j > i) {
            utf8proc_ssize_t m;
            for (;;) {
                m = utf8proc_decompose(s + i, (utf8proc_ssize_t)(j - i), l->cps,
                                       (utf8proc_ssize_t)l->cps_cap, opt);
                if (m < 0)
                    return wb_err_set(e, WB_EFORMAT, "tokenizer: utf8proc: %s", utf8proc_errmsg(m));
                if ((size_t)m <= l->cps_cap) break;
                if (grow((void **)&l->cps, &l->cps_cap, (size_t)m, sizeof *l->cps))
                    return wb_err_set(e, WB_ENOMEM, "tokenizer: out of memory");
            }
            m = utf8proc_normalize_utf32(l->cps, m, opt);
            if (m < 0)
                return wb_err_set(e, WB_EFORMAT, "tokenizer: utf8proc: %s", utf8proc_errmsg(m));
            for (utf8proc_ssize_t k = 0; k < m; k++) {
                int32_t c = l->cps[k];
                int rc = unicode_sep(c) ? end_token(ob, 0) : put_cp(ob, (uint32_t)c);
                if (rc) return wb_err_set(e, WB_ENOMEM, "tokenizer: out of memory");
            }
        }
        if (end_token(ob, 0)) return wb_err_set(e, WB_ENOMEM, "tokenizer: out of memory");
        i = j + 1;
    }
    return 0;
}

int wb_tokenize(const wb_tokenize_opts *o, const char *text, size_t len, wb_token_list *out,
                wb_err *e) {
    if (!o || !out || (!text && len))
        return wb_err_set(e, WB_EUSAGE, "wb_tokenize: NULL argument");
    if ((unsigned)o->kind > WB_TOK_CHAR)
        return wb_err_set(e, WB_EUSAGE, "wb_tokenize: unknown tokenizer kind %d", (int)o->kind);
    wb_token_list_reset(out);
    if (grow((void **)&out->off, &out->off_cap, 2, sizeof *out->off))
        return wb_err_set(e, WB_ENOMEM, "tokenizer: out of memory");
    out->off[0] = 0;
    size_t n = 0;
    size_t limit = o->strip_html ? 0 : o->max_doc_chars;
    if (repair(out, (const unsigned char *)(text ? text : ""), len, limit, &n))
        return wb_err_set(e, WB_ENOMEM, "tokenizer: out of memory for a %zu-byte document", len);
    if (o->strip_html) {
        n = html_strip(out->scratch, n);
        if (o->max_doc_chars) {
            size_t chars = 0, i = 0;
            for (; i < n; i++)
                if (((unsigned char)out->scratch[i] & 0xC0) != 0x80 && chars++ == o->max_doc_chars)
                    break;
            n = i;
        }
    }
    const unsigned char *s = (const unsigned char *)out->scratch;
    outbuf ob = {out, 0};
    int rc;
    switch (o->kind) {
    case WB_TOK_KERAS:
        rc = tok_words(out, &ob, s, n, 1, o->lower != 0);
        break;
    case WB_TOK_FASTTEXT:
        rc = tok_words(out, &ob, s, n, 0, o->lower != 0);
        break;
    case WB_TOK_UNICODE:
        rc = tok_unicode(out, &ob, s, n, o->lower != 0, e);
        break;
    default:
        rc = tok_chars(out, &ob, s, n, o, e);
        break;
    }
    if (rc) {
        if (rc == WB_ENOMEM) wb_err_set(e, rc, "tokenizer: out of memory");
        size_t inv = out->n_invalid;
        wb_token_list_reset(out);
        out->n_invalid = inv;
        return rc;
    }
    return 0;
}
