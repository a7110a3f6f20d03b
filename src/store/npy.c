/*
 * npy.c — NPY (.npy) header writer and parser for wordbench's matrices.
 *
 * Contains: the fixed 4096-byte version 1.0 header writer, a bounds-checked
 * parser for the header dict of format versions 1.0, 2.0 and 3.0, and the
 * dtype size/name helpers.
 *
 * Leaves out: reading or mapping the data (store.c and dataset.c do that, and
 * check the file size against rows*cols*itemsize), parsing any dtype other
 * than little-endian float32/float16 (the writer also writes the data set's
 * integer and float64 types; dataset.c checks its headers by comparing
 * bytes with what the writer gives), Fortran order, and a general Python literal evaluator.
 * The parser understands exactly the dict numpy writes and the variations a
 * hand-written or older header may have:
 *   - keys in any order, each exactly once; no other keys (numpy rejects
 *     extra keys too);
 *   - single or double quotes; no escape sequences, prefixes or implicit
 *     string concatenation;
 *   - any whitespace between tokens and after the dict (the final '\n' is
 *     not required), a trailing comma in the dict and in the shape tuple;
 *   - shape is a tuple of plain decimal integers: "(7,)" is 1-D, "(7)" is
 *     not a tuple (numpy rejects it too), "()" is 0-D and refused;
 *   - descr only '<f4' and '<f2'; native '=' and no-order '|' are refused
 *     because wordbench files must not depend on the host's byte order;
 *     a structured (list) descr is skipped and refused as WB_EFORMAT;
 *   - minor version must be 0 (as in numpy: only 1.0, 2.0, 3.0 exist).
 * It never reads past the `n` bytes it is given, never allocates, and only
 * writes *out and *err on success and failure respectively.
 */
#include "wordbench/npy.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

static const unsigned char npy_magic[6] = {0x93, 'N', 'U', 'M', 'P', 'Y'};

/* The longest snippet of header text quoted in an error message. */
#define NPY_QUOTE_MAX 48
/* Nesting limit when skipping a structured descr such as [('a', '<f4')]. */
#define NPY_NEST_MAX 32

/* Size, CLI name and numpy descr of every dtype, indexed by its value. */
static const struct {
    size_t size;
    const char *name, *descr;
} dtypes[] = {{0, "?", NULL},       {4, "f32", "<f4"}, {2, "f16", "<f2"}, {4, "i32", "<i4"}, {2, "u16", "<u2"},
              {1, "u8", "|u1"},    {4, "u32", "<u4"}, {8, "u64", "<u8"}, {8, "f64", "<f8"}};

static int dtype_known(wb_dtype t) { return (unsigned)t < sizeof dtypes / sizeof dtypes[0]; }

size_t wb_dtype_size(wb_dtype t) { return dtype_known(t) ? dtypes[t].size : 0; }

const char *wb_dtype_name(wb_dtype t) { return dtype_known(t) ? dtypes[t].name : "?"; }

/* The descr string numpy uses for a dtype, NULL for an unknown value. */
static const char *npy_descr(wb_dtype t) { return dtype_known(t) ? dtypes[t].descr : NULL; }

int wb_npy_header_write(void *buf, size_t bufsize, wb_dtype dtype, int ndim,
                        uint64_t rows, uint64_t cols) {
    const char *descr = npy_descr(dtype);
    if (!buf || bufsize < WB_NPY_DATA_OFFSET || !descr || (ndim != 1 && ndim != 2))
        return WB_EUSAGE;

    /* Longest dict: two 20-digit numbers plus ~64 fixed bytes. */
    char dict[160];
    int len;
    if (ndim == 1)
        len = snprintf(dict, sizeof dict,
                       "{'descr': '%s', 'fortran_order': False, 'shape': (%" PRIu64 ",), }",
                       descr, rows);
    else
        len = snprintf(dict, sizeof dict,
                       "{'descr': '%s', 'fortran_order': False, 'shape': (%" PRIu64 ", %" PRIu64 "), }",
                       descr, rows, cols);
    if (len < 0 || (size_t)len >= sizeof dict) return WB_EUSAGE; /* cannot happen */

    /* magic, version 1.0, u16 LE header length, dict, spaces, '\n'. */
    unsigned char *b = buf;
    const unsigned hlen = WB_NPY_DATA_OFFSET - 10u;
    memcpy(b, npy_magic, sizeof npy_magic);
    b[6] = 1;
    b[7] = 0;
    b[8] = (unsigned char)(hlen & 0xffu);
    b[9] = (unsigned char)(hlen >> 8);
    memcpy(b + 10, dict, (size_t)len);
    memset(b + 10 + len, ' ', WB_NPY_DATA_OFFSET - 11u - (size_t)len);
    b[WB_NPY_DATA_OFFSET - 1] = '\n';
    return 0;
}

/* ---- parser ------------------------------------------------------------ */

/* A read position in the header text.  Invariant: pos <= end <= n of the
 * caller's buffer; every byte access goes through npy_peek, which checks
 * pos < end. */
typedef struct npy_cur {
    const unsigned char *b; /* start of the whole buffer (offsets are from here) */
    size_t pos;             /* next byte to read */
    size_t end;             /* one past the last header byte (the data offset) */
    wb_err *err;            /* where failures are reported, may be NULL */
} npy_cur;

/* A span of header text, by offset into the buffer. */
typedef struct npy_span {
    size_t off; /* first byte */
    size_t len; /* length in bytes */
} npy_span;

/* The next byte, or -1 at the end of the header. */
static int npy_peek(const npy_cur *c) {
    return c->pos < c->end ? c->b[c->pos] : -1;
}

/* Python's whitespace between tokens; it refuses '\v', so do we. */
static void npy_skip_ws(npy_cur *c) {
    for (;;) {
        int ch = npy_peek(c);
        if (ch != ' ' && ch != '\t' && ch != '\n' && ch != '\r' && ch != '\f')
            return;
        c->pos++;
    }
}

/* Render len bytes at s for a message, inside quotes chosen by the caller:
 * printable ASCII as is, a backslash and anything else as \xNN (so a
 * message never holds raw control bytes), cut at NPY_QUOTE_MAX with "...".
 * out is always NUL-terminated. */
static void npy_quote(const unsigned char *s, size_t len, char *out, size_t outsz) {
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        if (i == NPY_QUOTE_MAX || o + 8 > outsz) {
            if (o + 4 <= outsz) memcpy(out + o, "...", 3), o += 3;
            break;
        }
        unsigned ch = s[i];
        if (ch >= 0x20 && ch < 0x7f && ch != '\\') {
            out[o++] = (char)ch;
        } else {
            o += (size_t)snprintf(out + o, outsz - o, "\\x%02x", ch);
        }
    }
    out[o < outsz ? o : outsz - 1] = 0;
}

/* Describe the byte at the cursor for "found ..." in a message. */
static void npy_found(const npy_cur *c, char *out, size_t outsz) {
    int ch = npy_peek(c);
    if (ch < 0) {
        snprintf(out, outsz, "the end of the header");
    } else if (ch == '\'') {
        snprintf(out, outsz, "\"'\"");
    } else {
        char q[8];
        npy_quote(c->b + c->pos, 1, q, sizeof q);
        snprintf(out, outsz, "'%s'", q);
    }
}

/* Report "expected <what> at byte N, found <...>" as WB_ECORRUPT. */
static int npy_expected(npy_cur *c, const char *what) {
    char found[32];
    npy_found(c, found, sizeof found);
    return wb_err_at(c->err, WB_ECORRUPT, NULL, 0, (long long)c->pos,
                     "NPY header: expected %s at byte %zu, found %s", what, c->pos, found);
}

/* A quoted string ('...' or "..."); *s gets its contents (without quotes). */
static int npy_string(npy_cur *c, npy_span *s) {
    int q = npy_peek(c);
    if (q != '\'' && q != '"') return npy_expected(c, "a quoted string");
    size_t start = c->pos;
    c->pos++;
    s->off = c->pos;
    for (;;) {
        int ch = npy_peek(c);
        if (ch < 0 || ch == '\n' || ch == '\r')
            return wb_err_at(c->err, WB_ECORRUPT, NULL, 0, (long long)start,
                             "NPY header: unterminated string starting at byte %zu", start);
        if (ch == '\\')
            return wb_err_at(c->err, WB_ECORRUPT, NULL, 0, (long long)c->pos,
                             "NPY header: escape sequence at byte %zu is not supported", c->pos);
        if (ch == q) break;
        c->pos++;
    }
    s->len = c->pos - s->off;
    c->pos++; /* closing quote */
    return 0;
}

/* True or False. */
static int npy_bool(npy_cur *c, int *v) {
    size_t start = c->pos;
    for (;;) {
        int ch = npy_peek(c);
        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '_'))
            break;
        c->pos++;
    }
    size_t len = c->pos - start;
    if (len == 4 && memcmp(c->b + start, "True", 4) == 0) { *v = 1; return 0; }
    if (len == 5 && memcmp(c->b + start, "False", 5) == 0) { *v = 0; return 0; }
    c->pos = start;
    return npy_expected(c, "True or False for 'fortran_order'");
}

/* A non-negative decimal integer that fits in uint64_t.  Python forbids
 * leading zeros ("007"), so do we, except for a run of zeros. */
static int npy_uint(npy_cur *c, uint64_t *v) {
    size_t start = c->pos;
    int ch = npy_peek(c);
    if (ch == '-')
        return wb_err_at(c->err, WB_ECORRUPT, NULL, 0, (long long)start,
                         "NPY header: negative dimension in 'shape' at byte %zu", start);
    if (ch < '0' || ch > '9') return npy_expected(c, "a dimension (decimal integer) in 'shape'");
    uint64_t x = 0;
    int overflow = 0, nonzero = 0, leading_zero = (ch == '0');
    while ((ch = npy_peek(c)) >= '0' && ch <= '9') {
        unsigned d = (unsigned)(ch - '0');
        if (d) nonzero = 1;
        if (x > (UINT64_MAX - d) / 10u) overflow = 1;
        else x = x * 10u + d;
        c->pos++;
    }
    char q[NPY_QUOTE_MAX + 8];
    npy_quote(c->b + start, c->pos - start, q, sizeof q);
    if (leading_zero && nonzero)
        return wb_err_at(c->err, WB_ECORRUPT, NULL, 0, (long long)start,
                         "NPY header: dimension %s at byte %zu has a leading zero", q, start);
    if (overflow)
        return wb_err_at(c->err, WB_ECORRUPT, NULL, 0, (long long)start,
                         "NPY header: dimension %s at byte %zu does not fit in 64 bits", q, start);
    *v = x;
    return 0;
}

/* The shape tuple: "(" [dim ("," dim)* [","]] ")".  A single dimension needs
 * its comma: "(7)" is an int in Python, not a tuple.  dims[] gets the first
 * two dimensions, *ndim the count, *text the whole tuple for messages. */
static int npy_shape(npy_cur *c, uint64_t dims[2], size_t *ndim, npy_span *text) {
    text->off = c->pos;
    if (npy_peek(c) != '(') return npy_expected(c, "'(' to start 'shape'");
    c->pos++;
    size_t count = 0;
    int comma = 0;
    for (;;) {
        npy_skip_ws(c);
        if (npy_peek(c) == ')') break;
        uint64_t v = 0;
        int rc = npy_uint(c, &v);
        if (rc) return rc;
        if (count < 2) dims[count] = v;
        count++;
        npy_skip_ws(c);
        if (npy_peek(c) == ',') { c->pos++; comma = 1; continue; }
        if (npy_peek(c) == ')') { comma = 0; break; }
        return npy_expected(c, "',' or ')' in 'shape'");
    }
    c->pos++; /* ')' */
    text->len = c->pos - text->off;
    if (count == 1 && !comma) {
        char q[NPY_QUOTE_MAX + 8];
        npy_quote(c->b + text->off, text->len, q, sizeof q);
        return wb_err_at(c->err, WB_ECORRUPT, NULL, 0, (long long)text->off,
                         "NPY header: 'shape' %s at byte %zu is not a tuple (a 1-D shape is written (N,))",
                         q, text->off);
    }
    *ndim = count;
    return 0;
}

/* Skip a structured descr: a bracketed Python literal of lists, tuples,
 * strings and integers, e.g. [('a', '<f4'), ('b', '<i4', (2,))].  Only the
 * bracket structure and strings are checked; the content is refused later
 * anyway.  *text gets the span for the message. */
static int npy_skip_nested(npy_cur *c, npy_span *text) {
    char stack[NPY_NEST_MAX];
    size_t depth = 0;
    text->off = c->pos;
    for (;;) {
        int ch = npy_peek(c);
        if (ch < 0) {
            return wb_err_at(c->err, WB_ECORRUPT, NULL, 0, (long long)text->off,
                             "NPY header: unterminated 'descr' list starting at byte %zu", text->off);
        } else if (ch == '\'' || ch == '"') {
            npy_span s = {0, 0};
            int rc = npy_string(c, &s);
            if (rc) return rc;
            continue;
        } else if (ch == '[' || ch == '(') {
            if (depth == NPY_NEST_MAX)
                return wb_err_at(c->err, WB_ECORRUPT, NULL, 0, (long long)c->pos,
                                 "NPY header: 'descr' nested more than %d deep at byte %zu",
                                 NPY_NEST_MAX, c->pos);
            stack[depth++] = ch == '[' ? ']' : ')';
        } else if (ch == ']' || ch == ')') {
            if (depth == 0 || stack[depth - 1] != ch)
                return wb_err_at(c->err, WB_ECORRUPT, NULL, 0, (long long)c->pos,
                                 "NPY header: unbalanced '%c' in 'descr' at byte %zu", ch, c->pos);
            depth--;
        } else if (ch == '{' || ch == '}' || ch == ':') {
            return npy_expected(c, "a list, tuple, string or number in 'descr'");
        }
        c->pos++;
        if (depth == 0) break;
    }
    text->len = c->pos - text->off;
    return 0;
}

/* What the dict said, before the semantic checks. */
typedef struct npy_dict {
    int have_descr, have_fortran, have_shape; /* key seen (each at most once) */
    int descr_is_list;                        /* descr was a structured list */
    npy_span descr;                           /* descr string contents, or the list text */
    int fortran;                              /* fortran_order value */
    uint64_t dims[2];                         /* first two shape entries */
    size_t ndim;                              /* number of shape entries */
    npy_span shape;                           /* shape tuple text */
} npy_dict;

static int npy_key_is(const npy_cur *c, const npy_span *k, const char *name) {
    size_t len = strlen(name);
    return k->len == len && memcmp(c->b + k->off, name, len) == 0;
}

/* One "key: value" pair. */
static int npy_item(npy_cur *c, npy_dict *d) {
    npy_span key = {0, 0};
    int rc = npy_string(c, &key);
    if (rc) return rc;
    size_t key_at = key.off - 1;
    int *seen;
    if (npy_key_is(c, &key, "descr")) seen = &d->have_descr;
    else if (npy_key_is(c, &key, "fortran_order")) seen = &d->have_fortran;
    else if (npy_key_is(c, &key, "shape")) seen = &d->have_shape;
    else {
        char q[NPY_QUOTE_MAX + 8];
        npy_quote(c->b + key.off, key.len, q, sizeof q);
        return wb_err_at(c->err, WB_ECORRUPT, NULL, 0, (long long)key_at,
                         "NPY header: unexpected key '%s' at byte %zu "
                         "(expected only 'descr', 'fortran_order', 'shape')", q, key_at);
    }
    if (*seen) {
        char q[NPY_QUOTE_MAX + 8];
        npy_quote(c->b + key.off, key.len, q, sizeof q);
        return wb_err_at(c->err, WB_ECORRUPT, NULL, 0, (long long)key_at,
                         "NPY header: duplicate key '%s' at byte %zu", q, key_at);
    }
    *seen = 1;

    npy_skip_ws(c);
    if (npy_peek(c) != ':') return npy_expected(c, "':' after a key");
    c->pos++;
    npy_skip_ws(c);

    if (seen == &d->have_descr) {
        if (npy_peek(c) == '[') {
            d->descr_is_list = 1;
            return npy_skip_nested(c, &d->descr);
        }
        if (npy_peek(c) != '\'' && npy_peek(c) != '"')
            return npy_expected(c, "a quoted dtype string for 'descr'");
        return npy_string(c, &d->descr);
    }
    if (seen == &d->have_fortran) return npy_bool(c, &d->fortran);
    return npy_shape(c, d->dims, &d->ndim, &d->shape);
}

/* The dict "{" [item ("," item)* [","]] "}" followed only by whitespace. */
static int npy_dict_parse(npy_cur *c, npy_dict *d) {
    npy_skip_ws(c);
    if (npy_peek(c) != '{') return npy_expected(c, "'{' to start the header dict");
    size_t open = c->pos;
    c->pos++;
    for (;;) {
        npy_skip_ws(c);
        if (npy_peek(c) == '}') break;
        if (npy_peek(c) < 0) break; /* reported below as unterminated */
        int rc = npy_item(c, d);
        if (rc) return rc;
        npy_skip_ws(c);
        if (npy_peek(c) == ',') { c->pos++; continue; }
        if (npy_peek(c) == '}') break;
        if (npy_peek(c) < 0) break;
        return npy_expected(c, "',' or '}' after a value");
    }
    if (npy_peek(c) < 0)
        return wb_err_at(c->err, WB_ECORRUPT, NULL, 0, (long long)open,
                         "NPY header: unterminated dict starting at byte %zu "
                         "(no '}' before the header ends at byte %zu)", open, c->end);
    c->pos++; /* '}' */
    npy_skip_ws(c);
    if (npy_peek(c) >= 0) return npy_expected(c, "only whitespace after the header dict");
    return 0;
}

int wb_npy_header_parse(const void *buf, size_t n, wb_npy_info *out, wb_err *err) {
    if ((!buf && n) || !out)
        return wb_err_set(err, WB_EUSAGE, "NPY header: NULL buffer or output");
    const unsigned char *b = buf;

    /* Fixed prefix: magic, major, minor, header length (u16 or u32 LE). */
    size_t have = n < sizeof npy_magic ? n : sizeof npy_magic;
    if (have && memcmp(b, npy_magic, have) != 0) {
        char q[NPY_QUOTE_MAX + 8];
        npy_quote(b, have, q, sizeof q);
        return wb_err_at(err, WB_ECORRUPT, NULL, 0, 0,
                         "NPY header: bad magic (expected '\\x93NUMPY', found '%s'); "
                         "not a .npy file", q);
    }
    if (n < 8)
        return wb_err_at(err, WB_ECORRUPT, NULL, 0, (long long)n,
                         "NPY header truncated: only %zu bytes, the magic and version need 8", n);
    unsigned major = b[6], minor = b[7];
    if (major < 1 || major > 3 || minor != 0)
        return wb_err_at(err, WB_EVERSION, NULL, 0, 6,
                         "NPY format version %u.%u is not supported (expected 1.0, 2.0 or 3.0)",
                         major, minor);
    size_t prefix = major == 1 ? 10 : 12;
    if (n < prefix)
        return wb_err_at(err, WB_ECORRUPT, NULL, 0, (long long)n,
                         "NPY header truncated: only %zu bytes, the version %u.0 prefix needs %zu",
                         n, major, prefix);
    uint64_t hlen = major == 1
        ? (uint64_t)b[8] | (uint64_t)b[9] << 8
        : (uint64_t)b[8] | (uint64_t)b[9] << 8 | (uint64_t)b[10] << 16 | (uint64_t)b[11] << 24;
    uint64_t data_offset = prefix + hlen;
    if (data_offset > n)
        return wb_err_at(err, WB_ECORRUPT, NULL, 0, (long long)n,
                         "NPY header truncated: header length %" PRIu64 " but only %zu bytes "
                         "(the header ends at byte %" PRIu64 ")", hlen, n, data_offset);

    npy_cur c = {b, prefix, (size_t)data_offset, err};
    npy_dict d;
    memset(&d, 0, sizeof d);
    int rc = npy_dict_parse(&c, &d);
    if (rc) return rc;

    const char *missing = !d.have_descr ? "descr" : !d.have_fortran ? "fortran_order"
                        : !d.have_shape ? "shape" : NULL;
    if (missing)
        return wb_err_at(err, WB_ECORRUPT, NULL, 0, (long long)prefix,
                         "NPY header: key '%s' is missing", missing);

    /* Semantic checks: what wordbench can map. */
    char q[NPY_QUOTE_MAX + 8];
    wb_dtype dtype;
    if (!d.descr_is_list && d.descr.len == 3 && memcmp(b + d.descr.off, "<f4", 3) == 0) {
        dtype = WB_DTYPE_F32;
    } else if (!d.descr_is_list && d.descr.len == 3 && memcmp(b + d.descr.off, "<f2", 3) == 0) {
        dtype = WB_DTYPE_F16;
    } else {
        npy_quote(b + d.descr.off, d.descr.len, q, sizeof q);
        if (d.descr_is_list)
            return wb_err_at(err, WB_EFORMAT, NULL, 0, (long long)d.descr.off,
                             "NPY header: structured dtype %s is not supported "
                             "(expected '<f4' or '<f2')", q);
        return wb_err_at(err, WB_EFORMAT, NULL, 0, (long long)d.descr.off,
                         "NPY header: dtype '%s' is not supported (expected '<f4' or '<f2'; "
                         "convert with arr.astype('<f4'))", q);
    }
    if (d.fortran)
        return wb_err_at(err, WB_EFORMAT, NULL, 0, (long long)prefix,
                         "NPY header: fortran_order True is not supported "
                         "(save a C-ordered array: np.ascontiguousarray(arr))");
    if (d.ndim != 1 && d.ndim != 2) {
        npy_quote(b + d.shape.off, d.shape.len, q, sizeof q);
        return wb_err_at(err, WB_EFORMAT, NULL, 0, (long long)d.shape.off,
                         "NPY header: shape %s has %zu dimensions (expected 1 or 2)", q, d.ndim);
    }

    /* rows*cols*itemsize and data_offset + that must fit, so callers can
     * compare against the file size without overflowing. */
    uint64_t rows = d.dims[0], cols = d.ndim == 2 ? d.dims[1] : 1;
    uint64_t size = wb_dtype_size(dtype), bytes = 0;
    int overflow = 0;
    if (rows && cols) {
        overflow = rows > UINT64_MAX / cols || rows * cols > UINT64_MAX / size;
        if (!overflow) {
            bytes = rows * cols * size;
            overflow = bytes > UINT64_MAX - data_offset;
        }
    }
    if (overflow) {
        npy_quote(b + d.shape.off, d.shape.len, q, sizeof q);
        return wb_err_at(err, WB_ECORRUPT, NULL, 0, (long long)d.shape.off,
                         "NPY header: shape %s times %" PRIu64 " bytes per element "
                         "overflows 64-bit sizes", q, size);
    }

    out->dtype = dtype;
    out->ndim = (int)d.ndim;
    out->rows = rows;
    out->cols = cols;
    out->data_offset = data_offset;
    return 0;
}
