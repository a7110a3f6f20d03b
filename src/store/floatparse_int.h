/*
 * floatparse_int.h — private to the store layer's number parsing: the
 * prototype of the one C++ shim over fast_float (src/store/floatparse_ff.cc),
 * so that floatparse.c and the tests can call it from C, and the shared "C"
 * locale object (also used by pytext.c).
 *
 * Leaves out: everything public (see include/wordbench/floatparse.h).
 */
#ifndef WB_FLOATPARSE_INT_H
#define WB_FLOATPARSE_INT_H

#include <locale.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Parse s[0..n) with fast_float::from_chars<float> (general format, '.' as
 * the decimal point).  Returns 1 and sets *out only when fast_float reports
 * success and consumed exactly the n bytes; otherwise returns 0 and leaves
 * *out untouched.  n must be > 0.  Never allocates, never throws, reads no
 * byte outside s[0..n).  It does not take a leading '+', hex floats or (by
 * the caller's choice, see floatparse.c) nan/inf: those are the caller's
 * fallback's business. */
int wb_ff_parse_f32(const char *s, size_t n, float *out);

/* The "C" locale object (created once, never freed; (locale_t)0 if newlocale
 * failed, never seen with glibc), for strtod_l / strtof_l calls that must
 * not depend on the process locale. */
locale_t wb_c_locale_get(void);

/* ---- the converter's hot path, inline (vecparse.c's row loop) ---------- */

/* How many of the 8 bytes at p, from the first, are ASCII digits (0..8).
 * SWAR: a byte is a digit iff its high nibble is 3 and adding 6 keeps it 3
 * (0x30..0x39); a carry out of a non-digit byte can only disturb the bytes
 * after it, which are never counted. */
static inline int wb_swar_ndigits(uint64_t x) {
    const uint64_t t = (x & 0xF0F0F0F0F0F0F0F0u) | (((x + 0x0606060606060606u) & 0xF0F0F0F0F0F0F0F0u) >> 4);
    const uint64_t nd = t ^ 0x3333333333333333u; /* zero bytes = digits */
    return nd ? __builtin_ctzll(nd) >> 3 : 8;
}

/* The value of the first n (0..8) bytes of x, which are ASCII digits, p[0]
 * the most significant: move them to the top, fill the bottom with '0's
 * (leading zeros), combine 8 digits in three multiplies. */
static inline uint32_t wb_swar_value(uint64_t x, int n) {
    const uint64_t fill = 0x3030303030303030u;
    if (n == 0) return 0;
    const int sh = 8 * (8 - n);
    if (sh) x = (x << sh) | (fill >> (64 - sh));
    x -= fill;
    x = (x * 10) + (x >> 8);
    x = (((x & 0x000000FF000000FFu) * 0x000F424000000064u) +
         (((x >> 16) & 0x000000FF000000FFu) * 0x0000271000000001u)) >> 32;
    return (uint32_t)x;
}

/* Bytes wb_f32_plain may read from s, whatever the token's length. */
#define WB_F32_PLAIN_READ 17

/* The common token of word-vector files, s[0..n) = "[-]I.F" with at least
 * one integer digit I and at most 8 digits in all, whose length n the caller
 * already knows (it split the line at separators first).  The digits
 * without the point are gathered into one 8-byte word, checked and
 * converted with one SWAR step each.  When they form an integer m <= 2^24, m and 10^|F| are both exact
 * floats, so one IEEE division gives the correctly rounded value, which is
 * strtof's (Clinger's fast path; round-to-nearest assumed, as everywhere in
 * floatparse.c).  No byte of the token steers a later address: with the
 * token's bounds known, the work for consecutive tokens overlaps in the CPU
 * instead of waiting for each token's end to be found.  Reads exactly
 * WB_F32_PLAIN_READ bytes from s (the caller guarantees them; those past n
 * are ignored).  Returns 1 and sets *out, or 0 (nothing set) for any other
 * token: the caller then takes the general path. */
static inline int wb_f32_plain(const char *s, size_t n, float *out) {
    static const float p10f[8] = {1e0f, 1e1f, 1e2f, 1e3f, 1e4f, 1e5f, 1e6f, 1e7f};
    const uint32_t neg = s[0] == '-';
    const char *p = s + neg;
    uint64_t x, y;
    memcpy(&x, p, 8);                              /* s[0..9) */
    /* ni = index of the first '.' among the 8 bytes (8: none) */
    const uint64_t d = x ^ 0x2E2E2E2E2E2E2E2Eu;
    const uint64_t z = (d - 0x0101010101010101u) & ~d & 0x8080808080808080u;
    const int ni = z ? __builtin_ctzll(z) >> 3 : 8;
    const size_t rest = n - neg;                   /* I '.' F */
    if (ni == 0 || ni == 8 || (size_t)ni >= rest || rest > 9) return 0;
    const int nd = (int)rest - 1, nf = nd - ni;    /* digits: all, after the point */
    memcpy(&y, p + ni + 1, 8);                     /* up to s[17) */
    /* The digits without the point, in one word: I from x, then F from y. */
    const uint64_t w = (x & ((1ull << (8 * ni)) - 1)) | (y << (8 * ni));
    if (wb_swar_ndigits(w) < nd) return 0;
    const uint32_t m = wb_swar_value(w, nd);
    if (m > (1u << 24)) return 0;
    const float v = (float)m / p10f[nf];
    uint32_t b;
    memcpy(&b, &v, 4);
    b |= neg << 31; /* "-0.0" gives -0.0f, as strtof does */
    memcpy(out, &b, 4);
    return 1;
}

#ifdef __cplusplus
}
#endif
#endif /* WB_FLOATPARSE_INT_H */
