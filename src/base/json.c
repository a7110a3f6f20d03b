/*
 * json.c — the JSON buffer writer and the strict parser of json.h.  Leaves
 * out everything json.h lists as not here.
 */
#include "base/json.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "wordbench/utf8.h"

/* ---- output ------------------------------------------------------------------ */

void wb_sb_put(wb_sbuf *s, const char *p, size_t n) {
    if (s->oom) return;
    if (s->n + n + 1 > s->cap) {
        size_t cap = (s->cap + n + 1) * 2;
        char *q = realloc(s->p, cap);
        if (!q) {
            s->oom = 1;
            return;
        }
        s->p = q, s->cap = cap;
    }
    memcpy(s->p + s->n, p, n);
    s->n += n;
    s->p[s->n] = 0;
}

void wb_sb_puts(wb_sbuf *s, const char *p) { wb_sb_put(s, p, strlen(p)); }

void wb_sb_printf(wb_sbuf *s, const char *fmt, ...) {
    char small[256];
    va_list ap;
    va_start(ap, fmt);
    int k = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (k < 0) {
        s->oom = 1;
        return;
    }
    if ((size_t)k < sizeof small) {
        wb_sb_put(s, small, (size_t)k);
        return;
    }
    char *big = malloc((size_t)k + 1);
    if (!big) {
        s->oom = 1;
        return;
    }
    va_start(ap, fmt);
    vsnprintf(big, (size_t)k + 1, fmt, ap);
    va_end(ap);
    wb_sb_put(s, big, (size_t)k);
    free(big);
}

void wb_sb_json_str(wb_sbuf *s, const char *str, size_t n) {
    wb_sb_put(s, "\"", 1);
    const unsigned char *p = (const unsigned char *)str, *e = p + n;
    while (p < e) {
        unsigned c = *p;
        char esc[8];
        if (c == '"' || c == '\\') esc[0] = '\\', esc[1] = (char)c, wb_sb_put(s, esc, 2), p++;
        else if (c == '\n') wb_sb_put(s, "\\n", 2), p++;
        else if (c == '\t') wb_sb_put(s, "\\t", 2), p++;
        else if (c == '\r') wb_sb_put(s, "\\r", 2), p++;
        else if (c < 0x20 || c == 0x7f) snprintf(esc, sizeof esc, "\\u%04x", c), wb_sb_put(s, esc, 6), p++;
        else {
            uint32_t cp;
            size_t k = wb_utf8_next((const char *)p, (size_t)(e - p), &cp);
            if (k) wb_sb_put(s, (const char *)p, k), p += k;
            else wb_sb_put(s, "\\ufffd", 6), p++;
        }
    }
    wb_sb_put(s, "\"", 1);
}

void wb_sb_json_num(wb_sbuf *s, double v) {
    if (v != v || v - v != 0) wb_sb_put(s, "null", 4);
    else wb_sb_printf(s, "%.17g", v);
}

/* ---- checked objects ------------------------------------------------------------ */

#define CHECK_KEY ", \"check\": \""

uint64_t wb_sb_json_check(wb_sbuf *s) {
    if (s->oom) return 0;
    uint64_t h = XXH3_64bits(s->p ? s->p : "", s->n);
    wb_sb_printf(s, "%s%016llx\"}", CHECK_KEY, (unsigned long long)h);
    return s->oom ? 0 : h;
}

int wb_hex64(const char *s, size_t n, uint64_t *out) {
    if (n != 16) return -1;
    uint64_t v = 0;
    for (size_t i = 0; i < 16; i++) {
        int c = (unsigned char)s[i], d;
        if (c >= '0' && c <= '9') d = c - '0';
        else if (c >= 'a' && c <= 'f') d = c - 'a' + 10;
        else return -1;
        v = v << 4 | (uint64_t)d;
    }
    *out = v;
    return 0;
}

int wb_json_check(const char *s, size_t len, uint64_t *hash, size_t *body) {
    size_t kl = strlen(CHECK_KEY);
    if (len && s[len - 1] == '\n') len--;
    if (len < kl + 18) return 1;
    const char *ck = s + len - (kl + 18); /* CHECK_KEY, 16 digits, "} */
    if (memcmp(ck, CHECK_KEY, kl) || memcmp(ck + kl + 16, "\"}", 2)) return 1;
    uint64_t want;
    if (wb_hex64(ck + kl, 16, &want)) return 1;
    if (body) *body = (size_t)(ck - s); /* also on a mismatch: callers name where the body ends */
    if (XXH3_64bits(s, (size_t)(ck - s)) != want) return 2;
    if (hash) *hash = want;
    return 0;
}

/* ---- parsing -------------------------------------------------------------------- */

#define MAX_DEPTH 64

typedef struct parser {
    const unsigned char *s, *p, *e;
    const char *msg;  /* first error */
    size_t off;
} parser;

static int fail(parser *ps, const unsigned char *at, const char *msg) {
    if (!ps->msg) ps->msg = msg, ps->off = (size_t)(at - ps->s);
    return -1;
}

static void ws(parser *ps) {
    while (ps->p < ps->e && (*ps->p == ' ' || *ps->p == '\t' || *ps->p == '\n' || *ps->p == '\r')) ps->p++;
}

static int hex4(const unsigned char *p, unsigned *out) {
    unsigned v = 0;
    for (int i = 0; i < 4; i++) {
        unsigned c = p[i], d;
        if (c >= '0' && c <= '9') d = c - '0';
        else if (c >= 'a' && c <= 'f') d = c - 'a' + 10;
        else if (c >= 'A' && c <= 'F') d = c - 'A' + 10;
        else return -1;
        v = v << 4 | d;
    }
    *out = v;
    return 0;
}

static void put_utf8(char *o, size_t *n, unsigned cp) {
    if (cp < 0x80) o[(*n)++] = (char)cp;
    else if (cp < 0x800) o[(*n)++] = (char)(0xc0 | cp >> 6), o[(*n)++] = (char)(0x80 | (cp & 0x3f));
    else if (cp < 0x10000)
        o[(*n)++] = (char)(0xe0 | cp >> 12), o[(*n)++] = (char)(0x80 | ((cp >> 6) & 0x3f)),
        o[(*n)++] = (char)(0x80 | (cp & 0x3f));
    else
        o[(*n)++] = (char)(0xf0 | cp >> 18), o[(*n)++] = (char)(0x80 | ((cp >> 12) & 0x3f)),
        o[(*n)++] = (char)(0x80 | ((cp >> 6) & 0x3f)), o[(*n)++] = (char)(0x80 | (cp & 0x3f));
}

/* A string at ps->p (the opening quote) into a malloc'ed decoded copy. */
static int string(parser *ps, char **out, size_t *outlen) {
    const unsigned char *start = ps->p++;
    /* The decoded form is never longer than the source. */
    const unsigned char *q = ps->p;
    while (q < ps->e && *q != '"') q += *q == '\\' && q + 1 < ps->e ? 2 : 1;
    if (q >= ps->e) return fail(ps, start, "unterminated string");
    char *o = malloc((size_t)(q - ps->p) + 1);
    if (!o) return fail(ps, start, "out of memory");
    size_t n = 0;
    while (ps->p < q) {
        unsigned c = *ps->p;
        if (c < 0x20) {
            free(o);
            return fail(ps, ps->p, "control character in a string");
        }
        if (c != '\\') {
            uint32_t cp;
            size_t k = wb_utf8_next((const char *)ps->p, (size_t)(q - ps->p), &cp);
            if (!k) {
                free(o);
                return fail(ps, ps->p, "invalid UTF-8 in a string");
            }
            memcpy(o + n, ps->p, k), n += k, ps->p += k;
            continue;
        }
        const unsigned char *at = ps->p;
        unsigned x = ps->p[1], cp;
        ps->p += 2;
        switch (x) {
        case '"': o[n++] = '"'; break;
        case '\\': o[n++] = '\\'; break;
        case '/': o[n++] = '/'; break;
        case 'b': o[n++] = '\b'; break;
        case 'f': o[n++] = '\f'; break;
        case 'n': o[n++] = '\n'; break;
        case 'r': o[n++] = '\r'; break;
        case 't': o[n++] = '\t'; break;
        case 'u':
            if (q - ps->p < 4 || hex4(ps->p, &cp)) {
                free(o);
                return fail(ps, at, "bad \\u escape");
            }
            ps->p += 4;
            if (cp >= 0xd800 && cp <= 0xdbff) { /* high surrogate: a low one must follow */
                unsigned lo;
                if (q - ps->p < 6 || ps->p[0] != '\\' || ps->p[1] != 'u' || hex4(ps->p + 2, &lo) || lo < 0xdc00 ||
                    lo > 0xdfff) {
                    free(o);
                    return fail(ps, at, "unpaired surrogate");
                }
                ps->p += 6;
                cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
            } else if (cp >= 0xdc00 && cp <= 0xdfff) {
                free(o);
                return fail(ps, at, "unpaired surrogate");
            }
            if (cp == 0) {
                free(o);
                return fail(ps, at, "NUL in a string");
            }
            put_utf8(o, &n, cp); /* at most 4 bytes for 6 or 12 source bytes */
            break;
        default:
            free(o);
            return fail(ps, at, "bad escape");
        }
    }
    ps->p = q + 1;
    o[n] = 0;
    *out = o, *outlen = n;
    return 0;
}

static int number(parser *ps, double *out) {
    const unsigned char *a = ps->p, *p = a;
    if (p < ps->e && *p == '-') p++;
    if (p < ps->e && *p == '0') p++;
    else if (p < ps->e && *p >= '1' && *p <= '9')
        while (p < ps->e && *p >= '0' && *p <= '9') p++;
    else return fail(ps, a, "bad number");
    if (p < ps->e && *p == '.') {
        p++;
        if (p >= ps->e || *p < '0' || *p > '9') return fail(ps, a, "bad number");
        while (p < ps->e && *p >= '0' && *p <= '9') p++;
    }
    if (p < ps->e && (*p == 'e' || *p == 'E')) {
        p++;
        if (p < ps->e && (*p == '+' || *p == '-')) p++;
        if (p >= ps->e || *p < '0' || *p > '9') return fail(ps, a, "bad number");
        while (p < ps->e && *p >= '0' && *p <= '9') p++;
    }
    char buf[64];
    size_t n = (size_t)(p - a);
    if (n >= sizeof buf) return fail(ps, a, "number too long");
    memcpy(buf, a, n);
    buf[n] = 0;
    *out = strtod(buf, NULL);
    ps->p = p;
    return 0;
}

static int value(parser *ps, wb_json *v, int depth);

static int push(wb_json **items, char ***keys, size_t *n, size_t *cap) {
    if (*n < *cap) return 0;
    size_t c = *cap ? 2 * *cap : 4;
    wb_json *it = realloc(*items, c * sizeof *it);
    if (!it) return -1;
    *items = it;
    if (keys) {
        char **k = realloc(*keys, c * sizeof *k);
        if (!k) return -1;
        *keys = k;
    }
    *cap = c;
    return 0;
}

static int container(parser *ps, wb_json *v, int depth, int obj) {
    const unsigned char *start = ps->p++;
    if (depth >= MAX_DEPTH) return fail(ps, start, "nesting deeper than 64");
    v->type = obj ? WB_JOBJ : WB_JARR;
    size_t cap = 0;
    ws(ps);
    if (ps->p < ps->e && *ps->p == (obj ? '}' : ']')) {
        ps->p++;
        return 0;
    }
    for (;;) {
        if (push(&v->items, obj ? &v->keys : NULL, &v->n, &cap)) return fail(ps, ps->p, "out of memory");
        wb_json *it = &v->items[v->n];
        memset(it, 0, sizeof *it);
        if (obj) {
            ws(ps);
            if (ps->p >= ps->e || *ps->p != '"') return fail(ps, ps->p, "expected a key");
            size_t kl;
            if (string(ps, &v->keys[v->n], &kl)) return -1;
            v->n++; /* counted now so that free releases the key */
            ws(ps);
            if (ps->p >= ps->e || *ps->p != ':') return fail(ps, ps->p, "expected ':'");
            ps->p++;
            if (value(ps, it, depth + 1)) return -1;
        } else {
            v->n++;
            if (value(ps, it, depth + 1)) return -1;
        }
        ws(ps);
        if (ps->p < ps->e && *ps->p == ',') {
            ps->p++;
            continue;
        }
        if (ps->p < ps->e && *ps->p == (obj ? '}' : ']')) {
            ps->p++;
            return 0;
        }
        return fail(ps, ps->p, obj ? "expected ',' or '}'" : "expected ',' or ']'");
    }
}

static int literal(parser *ps, const char *word) {
    size_t n = strlen(word);
    if ((size_t)(ps->e - ps->p) < n || memcmp(ps->p, word, n)) return fail(ps, ps->p, "unexpected character");
    ps->p += n;
    return 0;
}

static int value(parser *ps, wb_json *v, int depth) {
    ws(ps);
    if (ps->p >= ps->e) return fail(ps, ps->p, "unexpected end");
    switch (*ps->p) {
    case '{': return container(ps, v, depth, 1);
    case '[': return container(ps, v, depth, 0);
    case '"': v->type = WB_JSTR; return string(ps, &v->str, &v->len);
    case 't': v->type = WB_JBOOL, v->b = 1; return literal(ps, "true");
    case 'f': v->type = WB_JBOOL, v->b = 0; return literal(ps, "false");
    case 'n': v->type = WB_JNULL; return literal(ps, "null");
    default: v->type = WB_JNUM; return number(ps, &v->num);
    }
}

int wb_json_parse(const char *s, size_t len, wb_json *out, size_t *err_off, const char **err_msg) {
    memset(out, 0, sizeof *out);
    parser ps = {.s = (const unsigned char *)s, .p = (const unsigned char *)s, .e = (const unsigned char *)s + len};
    int rc = value(&ps, out, 0);
    if (!rc) {
        ws(&ps);
        if (ps.p != ps.e) rc = fail(&ps, ps.p, "text after the value");
    }
    if (rc) {
        wb_json_free(out);
        memset(out, 0, sizeof *out);
        if (err_off) *err_off = ps.off;
        if (err_msg) *err_msg = ps.msg;
    }
    return rc;
}

void wb_json_free(wb_json *j) {
    if (!j) return;
    free(j->str);
    for (size_t i = 0; i < j->n; i++) {
        wb_json_free(&j->items[i]);
        if (j->keys) free(j->keys[i]);
    }
    free(j->items);
    free(j->keys);
    j->str = NULL, j->items = NULL, j->keys = NULL, j->n = 0;
}

const wb_json *wb_json_get(const wb_json *o, const char *key) {
    if (!o || o->type != WB_JOBJ) return NULL;
    for (size_t i = 0; i < o->n; i++)
        if (!strcmp(o->keys[i], key)) return &o->items[i];
    return NULL;
}
