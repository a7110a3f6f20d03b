/*
 * floatparse.c — decimal token → float32 exactly as glibc strtof() does it,
 * and IEEE binary16 <-> binary32 conversion in plain C.
 *
 * Contains: the dispatch between the fast path (fast_float, through the C++
 * shim in floatparse_ff.cc) and the fallback (strtof_l in a "C" locale made
 * once per process); f16 <-> f32 by bit manipulation.
 *
 * Leaves out: white-space splitting and any judgement on NaN/Inf (callers do
 * both); _Float16 and F16C, so that it builds with any C11 compiler on any
 * CPU; directed rounding modes: the fast path assumes round-to-nearest (the
 * default, which wordbench never changes), whereas strtof would honour
 * fesetround().
 */
#include "wordbench/floatparse.h"

#include "store/floatparse_int.h"

#include <errno.h>
#include <stdint.h>
#include <locale.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

/* Tokens shorter than this are copied to the stack for the fallback; longer
 * ones (a 5000-digit number is legal) to the heap. */
#define WB_FP_STACK 128

/* The fast path is tried only up to this length.  fast_float clamps explicit
 * exponents at 2^28, which is harmless as long as the digit count cannot
 * offset a clamped exponent back into range, i.e. for tokens well below 2^27
 * bytes; beyond 1 MiB we simply let strtof do it. */
#define WB_FP_FAST_MAX ((size_t)1 << 20)

/* ---- the "C" locale for the fallback ---------------------------------- */

static pthread_once_t wb_c_locale_once = PTHREAD_ONCE_INIT;
static locale_t wb_c_locale; /* (locale_t)0 if newlocale failed */

static void wb_c_locale_init(void) {
    /* glibc returns its static C locale object here, so this cannot fail in
     * practice and is never freed. */
    wb_c_locale = newlocale(LC_ALL_MASK, "C", (locale_t)0);
}

locale_t wb_c_locale_get(void) {
    pthread_once(&wb_c_locale_once, wb_c_locale_init);
    return wb_c_locale;
}

/* strtof_l on a NUL-terminated copy of s[0..n); returns 1 when strtof
 * consumed exactly n bytes.  errno is preserved (strtof sets ERANGE on
 * overflow and underflow, which is no error for us: the value is strtof's).
 * A failed malloc for a long token returns 0. */
static int wb_parse_f32_slow(const char *s, size_t n, float *out) {
    char stack[WB_FP_STACK];
    char *buf = stack;
    if (n >= sizeof stack) {
        buf = malloc(n + 1);
        if (buf == NULL) return 0;
    }
    memcpy(buf, s, n);
    buf[n] = '\0';

    wb_c_locale_get();
    const int saved_errno = errno;
    char *end;
    /* Without a locale object (never seen with glibc) the process locale is
     * the best we have; it is "C" unless the program called setlocale. */
    const float v = wb_c_locale ? strtof_l(buf, &end, wb_c_locale) : strtof(buf, &end);
    errno = saved_errno;
    /* An embedded NUL stops strtof early, so such a token is rejected. */
    const int ok = end == buf + n;

    if (buf != stack) free(buf);
    if (ok) *out = v;
    return ok;
}

int wb_parse_f32(const char *s, size_t n, float *out) {
    if (n == 0) return 0;
    /* strtof would skip leading white space; a token never starts with it. */
    if (s[0] == ' ' || (s[0] >= '\t' && s[0] <= '\r')) return 0;
    /* Only plain decimals go to fast_float: first a digit or '.', possibly
     * after one '-'.  Everything else (nan, inf, '+', white space) is rare in
     * vector files and is the fallback's.  fast_float may also stop short of
     * n where strtof reads further or less far ("1e", "1e+", "0x1p3"): any
     * token it does not consume whole goes to strtof, so the final answer is
     * always strtof's. */
    unsigned char c = (unsigned char)s[0];
    if (c == '-' && n > 1) c = (unsigned char)s[1];
    if (((unsigned)c - '0' < 10u || c == '.') && n <= WB_FP_FAST_MAX &&
        wb_ff_parse_f32(s, n, out))
        return 1;
    return wb_parse_f32_slow(s, n, out);
}

static inline int wb_is_tok_end(char c) {
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* Powers of ten that are exact in binary32 (10^10 < 2^34 has 10 trailing zero
 * bits: 5^10 < 2^24, so it fits the 24-bit significand). */
static const float wb_pow10f[11] = {1e0f, 1e1f, 1e2f, 1e3f, 1e4f, 1e5f,
                                    1e6f, 1e7f, 1e8f, 1e9f, 1e10f};

static const uint32_t wb_pow10u[9] = {1, 10, 100, 1000, 10000, 100000, 1000000, 10000000, 100000000};

/* The leading ASCII digits among the 8 bytes at p (SWAR: no per-byte loop):
 * returns how many there are (0..8) and their value in *v (floatparse_int.h's
 * wb_swar_ndigits and wb_swar_value, shared with the converter's fast path). */
static inline int wb_swar_digits(const char *p, uint32_t *v) {
    uint64_t x;
    memcpy(&x, p, 8); /* little-endian: p[0] is the low byte */
    const int n = wb_swar_ndigits(x);
    if (n) *v = wb_swar_value(x, n);
    return n;
}

const char *wb_parse_f32_token(const char *s, const char *end, float *out) {
    const char *p = s;
    int neg = 0;
    if (*p == '-') neg = 1, p++;
    uint32_t m = 0;
    int nd = 0, frac = 0, any = 0;
    /* Leading zeros do not count as significant digits. */
    while (p < end && *p == '0') p++, any = 1;
    while (p < end && (unsigned)(*p - '0') < 10u) m = m * 10 + (uint32_t)(*p++ - '0'), nd++, any = 1;
    if (p < end && *p == '.') {
        p++;
        if (m == 0)
            while (p < end && *p == '0') p++, frac++, any = 1;
        if (end - p >= 8) { /* up to 8 fraction digits at once */
            uint32_t v;
            const int n = wb_swar_digits(p, &v);
            if (n) {
                m = m * wb_pow10u[n] + v; /* may wrap when nd + n > 9: then nd > 7 below */
                p += n, nd += n, frac += n, any = 1;
            }
        }
        while (p < end && (unsigned)(*p - '0') < 10u) m = m * 10 + (uint32_t)(*p++ - '0'), nd++, frac++, any = 1;
    }
    int e10 = -frac;
    if (any && nd <= 7 && p < end && (*p == 'e' || *p == 'E')) {
        const char *q = p + 1;
        int eneg = 0, ev = 0, ed = 0;
        if (q < end && (*q == '-' || *q == '+')) eneg = *q == '-', q++;
        while (q < end && (unsigned)(*q - '0') < 10u && ed < 4) ev = ev * 10 + (*q++ - '0'), ed++;
        if (ed && ed < 4) e10 += eneg ? -ev : ev, p = q;
        else nd = 99; /* odd exponent: let the general path decide */
    }
    /* nd <= 7 keeps m < 10^7 < 2^24: exact as a float. */
    if (any && nd <= 7 && (p == end || wb_is_tok_end(*p)) && e10 >= -10 && e10 <= 10) {
        float v = (float)m;
        v = e10 < 0 ? v / wb_pow10f[-e10] : v * wb_pow10f[e10];
        *out = neg ? -v : v;
        return p;
    }
    /* General path: the whole token through wb_parse_f32. */
    p = s;
    while (p < end && !wb_is_tok_end(*p)) p++;
    return wb_parse_f32(s, (size_t)(p - s), out) ? p : NULL;
}

/* ---- binary16 <-> binary32 ------------------------------------------- */

/* binary32: 1 sign, 8 exponent (bias 127), 23 fraction bits.
 * binary16: 1 sign, 5 exponent (bias 15), 10 fraction bits; largest finite
 * 65504, smallest normal 2^-14, smallest subnormal 2^-24. */

static uint32_t wb_f32_bits(float f) {
    uint32_t x;
    memcpy(&x, &f, sizeof x);
    return x;
}

static float wb_bits_f32(uint32_t x) {
    float f;
    memcpy(&f, &x, sizeof f);
    return f;
}

uint16_t wb_f32_to_f16(float f) {
    const uint32_t x = wb_f32_bits(f);
    const uint16_t sign = (uint16_t)((x >> 16) & 0x8000u);
    const uint32_t ax = x & 0x7fffffffu;

    if (ax >= 0x7f800000u) {
        if (ax == 0x7f800000u) return (uint16_t)(sign | 0x7c00u);
        /* NaN: keep the top 10 payload bits and force the quiet bit, so that
         * a payload living only in the low 13 bits cannot turn into inf. */
        return (uint16_t)(sign | 0x7e00u | ((ax >> 13) & 0x3ffu));
    }
    /* 65520 = 0x1.ffep15 is halfway between 65504 (odd fraction 0x3ff) and
     * 2^16: it and everything above round to inf. */
    if (ax >= 0x477ff000u) return (uint16_t)(sign | 0x7c00u);

    if (ax >= 0x38800000u) { /* >= 2^-14: a normal half */
        /* Rebias the exponent (127 -> 15) in place; the half is then bits
         * 13.. of r.  Round to nearest even on the 13 dropped bits: adding
         * 0xfff plus the kept LSB carries exactly when dropped > half, or
         * dropped == half and LSB odd.  A carry out of the fraction bumps the
         * exponent, which is the right result (up to 65504 here). */
        uint32_t r = ax - ((uint32_t)(127 - 15) << 23);
        r += 0x0fffu + ((r >> 13) & 1u);
        return (uint16_t)(sign | (r >> 13));
    }

    /* 2^-25 (0x33000000) is halfway between 0 and 2^-24 and ties to 0. */
    if (ax <= 0x33000000u) return sign;

    /* Subnormal half: value = m * 2^(e-150) with the implicit bit in m; in
     * units of 2^-24 that is m >> (126 - e), for e in 102..112. */
    const uint32_t m = (ax & 0x7fffffu) | 0x800000u;
    const uint32_t shift = 126u - (ax >> 23); /* 14..24 */
    uint32_t h = m >> shift;
    const uint32_t rest = m & ((1u << shift) - 1u);
    const uint32_t half = 1u << (shift - 1u);
    if (rest > half || (rest == half && (h & 1u))) h++; /* may reach 0x400 = 2^-14: correct */
    return (uint16_t)(sign | h);
}

float wb_f16_to_f32(uint16_t h) {
    const uint32_t sign = (uint32_t)(h & 0x8000u) << 16;
    const uint32_t e = (h >> 10) & 0x1fu;
    uint32_t m = h & 0x3ffu;

    if (e == 0x1fu) return wb_bits_f32(sign | 0x7f800000u | (m << 13)); /* inf, NaN (payload kept) */
    if (e != 0) return wb_bits_f32(sign | ((e + (127 - 15)) << 23) | (m << 13));
    if (m == 0) return wb_bits_f32(sign);
    /* Subnormal m * 2^-24: shift the leading 1 up to bit 10 (k steps, 1..10);
     * the value is then 1.f * 2^(-14-k). */
    uint32_t k = 0;
    while ((m & 0x400u) == 0) {
        m <<= 1;
        k++;
    }
    return wb_bits_f32(sign | ((127u - 14u - k) << 23) | ((m & 0x3ffu) << 13));
}

void wb_f16_to_f32_n(float *out, const uint16_t *in, size_t n) {
    for (size_t i = 0; i < n; i++) out[i] = wb_f16_to_f32(in[i]);
}

void wb_f32_to_f16_n(uint16_t *out, const float *in, size_t n) {
    for (size_t i = 0; i < n; i++) out[i] = wb_f32_to_f16(in[i]);
}
