/*
 * pytext.c — Python's str.upper(), str.isspace() and float() on UTF-8 bytes
 * (see pytext.h), driven by tables generated from Python itself
 * (pytext_table.h).  Leaves out: everything else about Python strings.
 */
#include "store/pytext.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "store/convert_int.h"
#include "store/floatparse_int.h"
#include "store/pytext_table.h"

_Static_assert(PY_UPPER_GROWTH == WB_PY_UPPER_GROWTH, "pytext_table.h and pytext.h disagree: rerun tools/make_pytext_table.py");

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

static size_t utf8_put(char *o, uint32_t c) {
    if (c < 0x80) return o[0] = (char)c, 1;
    if (c < 0x800) return o[0] = (char)(0xc0 | c >> 6), o[1] = (char)(0x80 | (c & 0x3f)), 2;
    if (c < 0x10000) {
        o[0] = (char)(0xe0 | c >> 12), o[1] = (char)(0x80 | ((c >> 6) & 0x3f)), o[2] = (char)(0x80 | (c & 0x3f));
        return 3;
    }
    o[0] = (char)(0xf0 | c >> 18), o[1] = (char)(0x80 | ((c >> 12) & 0x3f));
    o[2] = (char)(0x80 | ((c >> 6) & 0x3f)), o[3] = (char)(0x80 | (c & 0x3f));
    return 4;
}

/* Upper case of one non-ASCII code point into o; returns the bytes written. */
static size_t upper_cp(uint32_t c, char *o) {
    size_t lo = 0, hi = NELEM(py_upper_multis);
    while (lo < hi) { /* one-to-many first (they never overlap the runs) */
        size_t mid = (lo + hi) / 2;
        if (py_upper_multis[mid].cp < c) lo = mid + 1;
        else hi = mid;
    }
    if (lo < NELEM(py_upper_multis) && py_upper_multis[lo].cp == c) {
        size_t k = 0;
        for (int i = 0; i < 3 && py_upper_multis[lo].to[i]; i++) k += utf8_put(o + k, py_upper_multis[lo].to[i]);
        return k;
    }
    lo = 0, hi = NELEM(py_upper_runs); /* the last run with first <= c */
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (py_upper_runs[mid].first <= c) lo = mid + 1;
        else hi = mid;
    }
    if (lo) {
        const py_upper_run *r = &py_upper_runs[lo - 1];
        uint32_t d = c - r->first;
        if (d % r->stride == 0 && d / r->stride < r->count) c = (uint32_t)((int32_t)c + r->delta);
    }
    return utf8_put(o, c);
}

size_t wb_py_upper(const char *s, size_t n, char *out) {
    size_t k = 0;
    for (size_t i = 0; i < n;) {
        unsigned char b = (unsigned char)s[i];
        if (b < 0x80) {
            out[k++] = (char)(b >= 'a' && b <= 'z' ? b - 32 : b);
            i++;
            continue;
        }
        uint32_t c;
        size_t len = wb_utf8_next(s + i, n - i, &c);
        if (!len) { /* not UTF-8: the byte stays */
            out[k++] = (char)b;
            i++;
            continue;
        }
        k += upper_cp(c, out + k);
        i += len;
    }
    return k;
}

int wb_py_isspace(uint32_t c) {
    if (c < 0x80) return c == ' ' || (c >= 0x09 && c <= 0x0d) || (c >= 0x1c && c <= 0x1f);
    size_t lo = 0, hi = NELEM(py_spaces);
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (py_spaces[mid] < c) lo = mid + 1;
        else hi = mid;
    }
    return lo < NELEM(py_spaces) && py_spaces[lo] == c;
}

/* Value 0..9 of a non-ASCII decimal digit, or -1. */
static int decimal_value(uint32_t c) {
    size_t lo = 0, hi = NELEM(py_decimal_zeros);
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (py_decimal_zeros[mid] <= c) lo = mid + 1;
        else hi = mid;
    }
    return lo && c - py_decimal_zeros[lo - 1] < 10 ? (int)(c - py_decimal_zeros[lo - 1]) : -1;
}

static int is_digit(char c) {
    return c >= '0' && c <= '9';
}

/* Case-insensitive equality of a[0..n) with the lower-case word w. */
static int word_is(const char *a, size_t n, const char *w) {
    if (strlen(w) != n) return 0;
    for (size_t i = 0; i < n; i++)
        if ((a[i] | 0x20) != w[i]) return 0;
    return 1;
}

/* CPython's float(str): first every white-space character becomes ' ' and
 * every decimal digit its ASCII digit (any other non-ASCII character makes
 * the string invalid); the ends are stripped; underscores are allowed only
 * between two digits and removed; what is left must be a whole decimal
 * number or inf / infinity / nan (any case, optional sign) for
 * PyOS_string_to_double.  Hex floats are not numbers for float(). */
int wb_py_float(const char *s, size_t n, double *out) {
    char stack[128];
    char *a = n < sizeof stack ? stack : malloc(n + 1);
    if (!a) return -1;
    size_t k = 0;
    int rc = 0;
    for (size_t i = 0; i < n && !rc;) {
        unsigned char b = (unsigned char)s[i];
        uint32_t c;
        size_t len = b < 0x80 ? (c = b, 1) : wb_utf8_next(s + i, n - i, &c);
        if (!len || !c) { /* not UTF-8, or a NUL (CPython refuses embedded NULs) */
            rc = -1;
            break;
        }
        if (wb_py_isspace(c)) a[k++] = ' ';
        else if (c < 0x80) a[k++] = (char)c;
        else {
            int d = decimal_value(c);
            if (d < 0) rc = -1;
            else a[k++] = (char)('0' + d);
        }
        i += len;
    }
    size_t lo = 0, hi = k;
    while (!rc && lo < hi && a[lo] == ' ') lo++;
    while (!rc && hi > lo && a[hi - 1] == ' ') hi--;
    /* Remove underscores that sit between two digits; any other is an error. */
    size_t m = lo;
    for (size_t i = lo; i < hi && !rc; i++) {
        if (a[i] != '_') {
            a[m++] = a[i];
            continue;
        }
        if (!(i > lo && is_digit(a[i - 1]) && i + 1 < hi && is_digit(a[i + 1]))) rc = -1;
    }
    /* The grammar strtod would be too generous with (hex, nan(...), spaces). */
    size_t p = lo;
    if (!rc && p < m && (a[p] == '+' || a[p] == '-')) p++;
    if (!rc) {
        const char *t = a + p;
        size_t tn = m - p;
        if (word_is(t, tn, "inf") || word_is(t, tn, "infinity") || word_is(t, tn, "nan")) {
            double v = (t[0] | 0x20) == 'n' ? (double)NAN : (double)INFINITY;
            *out = a[lo] == '-' ? -v : v;
            goto done;
        }
        size_t q = p, nd = 0;
        while (q < m && is_digit(a[q])) q++, nd++;
        if (q < m && a[q] == '.') {
            q++;
            while (q < m && is_digit(a[q])) q++, nd++;
        }
        if (nd == 0) rc = -1;
        if (!rc && q < m && (a[q] == 'e' || a[q] == 'E')) {
            q++;
            if (q < m && (a[q] == '+' || a[q] == '-')) q++;
            size_t ne = 0;
            while (q < m && is_digit(a[q])) q++, ne++;
            if (ne == 0) rc = -1;
        }
        if (!rc && q != m) rc = -1;
    }
    if (!rc) {
        a[m] = 0;
        locale_t cl = wb_c_locale_get();
        char *end;
        *out = cl ? strtod_l(a + lo, &end, cl) : strtod(a + lo, &end);
        if (end != a + m) rc = -1;
    }
done:
    if (a != stack) free(a);
    return rc;
}
