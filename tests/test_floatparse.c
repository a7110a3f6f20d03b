/*
 * test_floatparse.c — the specification of the floatparse module.
 *
 * Contains: hand-written edge tokens with the exact bits glibc strtof gives;
 * a property test comparing wb_parse_f32 with strtof bit for bit (return
 * value and all 32 bits, NaNs included) on millions of seeded random decimal
 * strings; very long tokens; tokens that are not NUL-terminated (the parser
 * is fed tokens that end at the end of a heap block, so ASan catches any
 * over-read); f16 <-> f32: exhaustive round trip over all 65536 halves, every
 * rounding tie, and random floats against a brute-force nearest-half
 * reference.
 *
 * Leaves out: speed (a benchmark's job, not a test's).  The environment variables
 * WB_TEST_SCALE (default 1; e.g. 0.25 under slow sanitizers) and
 * WB_TEST_SEED (default fixed) scale and reseed the random tests.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <float.h>
#include <locale.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wordbench/floatparse.h"
#include "store/floatparse_int.h"

/* ---- helpers ---------------------------------------------------------- */

static uint32_t bits_of(float f) {
    uint32_t x;
    memcpy(&x, &f, sizeof x);
    return x;
}

static float float_of(uint32_t x) {
    float f;
    memcpy(&f, &x, sizeof f);
    return f;
}

/* splitmix64: small, seedable, good enough for test inputs. */
static uint64_t rng_next(uint64_t *s) {
    uint64_t z = (*s += 0x9e3779b97f4a7c15u);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
    return z ^ (z >> 31);
}

static unsigned rng_below(uint64_t *s, unsigned n) { return (unsigned)(rng_next(s) % n); }

static double test_scale(void) {
    const char *e = getenv("WB_TEST_SCALE");
    double v = e ? strtod(e, NULL) : 1.0;
    return v > 0 ? v : 1.0;
}

static uint64_t test_seed(void) {
    const char *e = getenv("WB_TEST_SEED");
    return e ? strtoull(e, NULL, 0) : 0x5eed0f10a7u;
}

static size_t scaled(size_t base) {
    double v = (double)base * test_scale();
    return v < 1 ? 1 : (size_t)v;
}

/* What strtof says about s[0..n) (s NUL-terminated at n): the value and
 * whether it consumed exactly n > 0 bytes. */
static int strtof_ref(const char *s, size_t n, float *out) {
    char *end;
    *out = strtof(s, &end);
    /* The contract (floatparse.h): a token that starts with white space is
     * not a number, although strtof would skip the white space. */
    if (n > 0 && (s[0] == ' ' || (s[0] >= '\t' && s[0] <= '\r'))) return 0;
    return n > 0 && end == s + n;
}

/* A sentinel *out must keep when wb_parse_f32 returns 0. */
#define SENTINEL 0x7fbadbadu

/* Compare wb_parse_f32 with strtof on the NUL-terminated token tok of length
 * n, feeding wb_parse_f32 a copy that ends exactly at the end of a heap block
 * (guard, of guard_n bytes).  Returns -1 when they disagree (and prints
 * the token), else wb_parse_f32's return value. */
static int check_vs_strtof(const char *tok, size_t n, char *guard, size_t guard_n) {
    float want;
    const int want_ok = strtof_ref(tok, n, &want);
    char *s = guard + guard_n - n;
    memcpy(s, tok, n);
    float got = float_of(SENTINEL);
    const int ok = wb_parse_f32(s, n, &got);
    if (ok == want_ok && (ok ? bits_of(got) == bits_of(want) : bits_of(got) == SENTINEL)) return ok;
    print_message("mismatch on \"%.*s\"%s (n=%zu): strtof ok=%d bits=%08x, wb_parse_f32 ok=%d bits=%08x\n",
                  n > 200 ? 200 : (int)n, tok, n > 200 ? "..." : "", n, want_ok, (unsigned)bits_of(want), ok,
                  (unsigned)bits_of(got));
    return -1;
}

/* ---- wb_parse_f32: edge tokens ---------------------------------------- */

struct edge {
    const char *tok;
    int ok;        /* expected return value */
    uint32_t bits; /* expected bits when ok */
};

/* Each row was checked against glibc strtof; the test re-checks it against
 * strtof on the machine at hand as well. */
static const struct edge edges[] = {
    {"0", 1, 0x00000000},            {"-0", 1, 0x80000000},
    {"1e39", 1, 0x7f800000},         {"-1e39", 1, 0xff800000},
    {"1e-50", 1, 0x00000000},        {"-1e-50", 1, 0x80000000},
    {"nan", 1, 0x7fc00000},          {"-nan", 1, 0xffc00000},
    {"NaN", 1, 0x7fc00000},          {"inf", 1, 0x7f800000},
    {"-Infinity", 1, 0xff800000},    {"infinity", 1, 0x7f800000},
    {"-inf", 1, 0xff800000},         {"nan(12)", 1, 0x7fc0000c},
    {"nan(0x7fffff)", 1, 0x7fffffff}, {"+3", 1, 0x40400000},
    {"0x1p-3", 1, 0x3e000000},       {"0x1p3", 1, 0x41000000},
    {"-0x1.fffffep127", 1, 0xff7fffff}, {".5", 1, 0x3f000000},
    {"-.5", 1, 0xbf000000},          {"5.", 1, 0x40a00000},
    {"1.e5", 1, 0x47c35000},         {"1e+5", 1, 0x47c35000},
    {"1E-1", 1, 0x3dcccccd},         {"00001", 1, 0x3f800000},
    {"-0.123456", 1, 0xbdfcd680},    {"3.4028235e38", 1, 0x7f7fffff},
    {"3.4028236e38", 1, 0x7f800000}, {"1.17549435e-38", 1, 0x00800000},
    {"1.4e-45", 1, 0x00000001},      {"7e-46", 1, 0x00000000},
    {"7.1e-46", 1, 0x00000001},      {"1e99999999999", 1, 0x7f800000},
    {"1e-99999999999", 1, 0x00000000}, {"0e99999999999", 1, 0x00000000},
    /* strtof would skip leading white space; wb_parse_f32 refuses it (a token
     * never starts with it, and the converter's dim detection relies on that) */
    {" 1", 0, 0}, {"\r2", 0, 0}, {"\v3", 0, 0}, {"\n5", 0, 0},
    /* strtof consumes less than the whole token */
    {"1e", 0, 0},  {"1e+", 0, 0}, {"1e-", 0, 0}, {"e5", 0, 0}, {"", 0, 0},
    {"-", 0, 0},   {"+", 0, 0},   {".", 0, 0},   {"-.", 0, 0}, {".e5", 0, 0},
    {"1.5x", 0, 0}, {"1e5x", 0, 0}, {"1 ", 0, 0}, {"1,5", 0, 0}, {"--1", 0, 0},
    {"infin", 0, 0}, {"nan(", 0, 0}, {"nan(1", 0, 0}, {"0x", 0, 0}, {"0x1p", 0, 0},
    {"1..2", 0, 0}, {"1e5.0", 0, 0},
};

static void test_edge_tokens(void **state) {
    (void)state;
    enum { G = 64 };
    char *guard = malloc(G);
    assert_non_null(guard);
    int bad = 0;
    for (size_t i = 0; i < sizeof edges / sizeof edges[0]; i++) {
        const struct edge *e = &edges[i];
        const size_t n = strlen(e->tok);
        float got = float_of(SENTINEL);
        const int ok = wb_parse_f32(e->tok, n, &got);
        if (ok != e->ok || bits_of(got) != (e->ok ? e->bits : SENTINEL)) {
            print_message("\"%s\": expected ok=%d bits=%08x, got ok=%d bits=%08x\n", e->tok, e->ok,
                          (unsigned)e->bits, ok, (unsigned)bits_of(got));
            bad++;
        }
        bad += check_vs_strtof(e->tok, n, guard, G) < 0;
    }
    free(guard);
    assert_int_equal(bad, 0);
}

/* Tokens are slices of a larger buffer: nothing after n is read or needed. */
static void test_not_nul_terminated(void **state) {
    (void)state;
    float f = 0;
    assert_int_equal(wb_parse_f32("1.5e3 junk", 5, &f), 1);
    assert_true(f == 1500.0f);
    assert_int_equal(wb_parse_f32("0.25,0.5", 4, &f), 1);
    assert_true(f == 0.25f);
    assert_int_equal(wb_parse_f32("+2xyz", 2, &f), 1); /* fallback path */
    assert_true(f == 2.0f);
    assert_int_equal(wb_parse_f32("1e5", 2, &f), 0); /* "1e" */
    /* An embedded NUL ends strtof's scan early: not a whole number. */
    f = float_of(SENTINEL);
    assert_int_equal(wb_parse_f32("1\0", 2, &f), 0);
    assert_int_equal(wb_parse_f32("+1\0", 3, &f), 0);
    assert_int_equal(bits_of(f), SENTINEL);
    /* n == 0 never reads s. */
    assert_int_equal(wb_parse_f32(NULL, 0, &f), 0);
}

/* errno is not disturbed by overflow/underflow in the fallback. */
static void test_errno_preserved(void **state) {
    (void)state;
    float f;
    errno = 0;
    assert_int_equal(wb_parse_f32("+1e39", 5, &f), 1);
    assert_int_equal(wb_parse_f32("+1e-50", 6, &f), 1);
    assert_int_equal(wb_parse_f32("1e39", 4, &f), 1);
    assert_int_equal(errno, 0);
}

/* The plain decimals of vector files take the fast path whole. */
static void test_fast_path_takes_plain_decimals(void **state) {
    (void)state;
    static const char *const plain[] = {"-0.123456", "0.418", "0.24968", "-0.41242", "0.12170", "3",
                                        "-1.2e-3", "4.5E+10", ".5", "-.5", "5.", "00001"};
    for (size_t i = 0; i < sizeof plain / sizeof plain[0]; i++) {
        float f;
        assert_int_equal(wb_ff_parse_f32(plain[i], strlen(plain[i]), &f), 1);
    }
}

/* ---- wb_parse_f32: long tokens ------------------------------------------ */

static void check_long(const char *tok, int *bad) {
    const size_t n = strlen(tok);
    char *guard = malloc(n);
    assert_non_null(guard);
    *bad += check_vs_strtof(tok, n, guard, n) < 0;
    free(guard);
}

static void test_long_tokens(void **state) {
    (void)state;
    enum { N = 5000 };
    char *t = malloc(N + 200);
    assert_non_null(t);
    uint64_t rs = test_seed();
    int bad = 0;

    /* Every length around the fallback's stack/heap switch: '+' forces the
     * fallback, and ASan watches the copy. */
    for (size_t len = 1; len <= 300; len++) {
        t[0] = '+';
        for (size_t i = 1; i < len; i++) t[i] = (char)('0' + rng_below(&rs, 10));
        t[len] = '\0';
        check_long(t, &bad);
    }

    memset(t, '9', N); /* 10^5000 - 1: overflows */
    t[N] = '\0';
    check_long(t, &bad);

    t[0] = '1'; /* 5000 significant digits then e-4990: about 1e9 */
    for (int i = 1; i < N; i++) t[i] = (char)('0' + rng_below(&rs, 10));
    strcpy(t + N, "e-4990");
    check_long(t, &bad);
    t[0] = '-';
    check_long(t, &bad);

    memset(t, '0', N); /* 1 followed by 4999 zeros, e-4999: exactly 1 */
    t[0] = '1';
    strcpy(t + N, "e-4999");
    check_long(t, &bad);
    float f;
    assert_int_equal(wb_parse_f32(t, strlen(t), &f), 1);
    assert_true(f == 1.0f);

    t[0] = '0'; /* 0.000…0001: underflows to 0 */
    t[1] = '.';
    t[N - 1] = '1';
    t[N] = '\0';
    check_long(t, &bad);

    /* Exact ties between two floats, padded with thousands of zeros, and the
     * same with a 1 at the very end (just above the tie: must round up). */
    for (int k = 0; k < 200; k++) {
        const uint32_t x = (uint32_t)rng_next(&rs) & 0x7f7fffffu;
        const float lo = float_of(x), hi = nextafterf(lo, INFINITY);
        const double mid = lo == FLT_MAX ? (double)lo + 0x1p103 : ((double)lo + (double)hi) / 2;
        snprintf(t, 200, "%.120e", mid);
        char *e = strchr(t, 'e');
        char exp[16];
        snprintf(exp, sizeof exp, "%s", e);
        memset(e, '0', (size_t)(N - (e - t)));
        strcpy(t + N, exp);
        check_long(t, &bad);
        t[N - 1] = '1';
        check_long(t, &bad);
    }

    /* Longer than the fast path's limit (1 MiB): 0.000…0001e<k> = 1. */
    enum { M = 3 << 19 };
    char *big = malloc(M + 32);
    assert_non_null(big);
    memset(big, '0', M);
    big[1] = '.';
    big[M - 1] = '1';
    snprintf(big + M, 32, "e%d", M - 2);
    check_long(big, &bad);
    assert_int_equal(wb_parse_f32(big, strlen(big), &f), 1);
    assert_true(f == 1.0f);
    free(big);

    free(t);
    assert_int_equal(bad, 0);
}

/* ---- wb_parse_f32: the property test ------------------------------------ */

static size_t put_digits(char *p, uint64_t *rs, unsigned k) {
    for (unsigned i = 0; i < k; i++) p[i] = (char)('0' + rng_below(rs, 10));
    return k;
}

static size_t put_exponent(char *p, uint64_t *rs) {
    size_t n = 0;
    p[n++] = rng_below(rs, 4) ? 'e' : 'E';
    const unsigned sg = rng_below(rs, 3);
    if (sg == 1) p[n++] = '-';
    if (sg == 2) p[n++] = '+';
    const unsigned r = rng_below(rs, 20);
    return n + put_digits(p + n, rs, r < 8 ? 1 : r < 17 ? 2 : 3);
}

/* A random float, finite, any exponent (subnormals included). */
static float random_finite(uint64_t *rs) {
    uint32_t x;
    do x = (uint32_t)rng_next(rs);
    while ((x & 0x7f800000u) == 0x7f800000u);
    return float_of(x);
}

/* One random token into t (room for 1024 bytes); returns its length. */
static size_t gen_token(char *t, uint64_t *rs) {
    size_t n = 0;
    const unsigned kind = rng_below(rs, 20);
    if (kind < 8) { /* generic: sign, leading zeros, int.frac, exponent */
        const unsigned sg = rng_below(rs, 16);
        if (sg < 6) t[n++] = '-';
        else if (sg == 6) t[n++] = '+';
        if (rng_below(rs, 8) == 0) {
            const unsigned z = 1 + rng_below(rs, 5);
            memset(t + n, '0', z);
            n += z;
        }
        n += put_digits(t + n, rs, rng_below(rs, 21));
        if (rng_below(rs, 10) < 7) {
            t[n++] = '.';
            n += put_digits(t + n, rs, rng_below(rs, 21));
        }
        if (rng_below(rs, 2)) n += put_exponent(t + n, rs);
    } else if (kind < 10) { /* long 30-60 digit mantissas, maybe a point, maybe an exponent */
        if (rng_below(rs, 2)) t[n++] = '-';
        const unsigned k = 30 + rng_below(rs, 31);
        const unsigned dot = rng_below(rs, k + 2);
        for (unsigned i = 0; i < k; i++) {
            if (i == dot) t[n++] = '.';
            t[n++] = (char)('0' + rng_below(rs, 10));
        }
        if (rng_below(rs, 2)) n += (size_t)sprintf(t + n, "e%d", (int)rng_below(rs, 111) - 70);
    } else if (kind < 13) { /* near FLT_MAX, FLT_MIN and the subnormals */
        static const int exps[] = {38, 38, 39, 37, -37, -38, -38, -39, -40, -42, -44, -45, -45, -46, -47};
        if (rng_below(rs, 2)) t[n++] = '-';
        t[n++] = (char)('1' + rng_below(rs, 9));
        const unsigned k = rng_below(rs, 4) ? rng_below(rs, 12) : 20 + rng_below(rs, 30);
        if (k) {
            t[n++] = '.';
            n += put_digits(t + n, rs, k);
        }
        if (rng_below(rs, 8)) {
            n += (size_t)sprintf(t + n, "e%d", exps[rng_below(rs, sizeof exps / sizeof exps[0])]);
        } else { /* the same region written out: 0.000…ddd */
            size_t m = n - (size_t)(t[0] == '-');
            char digits[64];
            memcpy(digits, t + n - m, m);
            n -= m;
            n += (size_t)sprintf(t + n, "0.");
            const unsigned z = 36 + rng_below(rs, 11);
            memset(t + n, '0', z);
            n += z;
            for (size_t i = 0; i < m; i++)
                if (digits[i] != '.') t[n++] = digits[i];
        }
    } else if (kind < 17) { /* halfway between two floats, printed, maybe nudged */
        const float lo = fabsf(random_finite(rs));
        const double ulp = lo == 0 ? 0x1p-149 : (double)nextafterf(lo, INFINITY) - (double)lo;
        double mid = (double)lo + (lo == FLT_MAX ? 0x1p103 : ulp / 2);
        const unsigned nudge = rng_below(rs, 4);
        if (nudge == 1) mid = nextafter(mid, 0);
        if (nudge == 2) mid = nextafter(mid, INFINITY);
        static const char *const fmts[] = {"%.9g", "%.17g", "%.17g", "%.25g", "%.25g", "%.40e", "%.120e", "%.160e"};
        if (rng_below(rs, 2)) t[n++] = '-';
        n += (size_t)snprintf(t + n, 400, fmts[rng_below(rs, sizeof fmts / sizeof fmts[0])], mid);
    } else if (kind < 19) { /* GloVe/word2vec-like: -0.123456 */
        const double v = ((double)rng_below(rs, 2000001) - 1000000) / 250000.0;
        n = (size_t)snprintf(t, 64, rng_below(rs, 4) ? "%.6f" : "%.5g", v);
    } else { /* a float printed the usual ways (round trips exactly) */
        const float f = random_finite(rs);
        static const char *const fmts[] = {"%.9g", "%.8e", "%a", "%g"};
        n = (size_t)snprintf(t, 128, fmts[rng_below(rs, 4)], (double)f);
    }
    t[n] = '\0';
    return n;
}

static void test_property_vs_strtof(void **state) {
    (void)state;
    const size_t count = scaled(2000000);
    enum { G = 1024 };
    char *guard = malloc(G);
    assert_non_null(guard);
    char tok[G];
    uint64_t rs = test_seed();
    size_t bad = 0, accepted = 0;
    for (size_t i = 0; i < count; i++) {
        const size_t n = gen_token(tok, &rs);
        const int r = check_vs_strtof(tok, n, guard, G);
        if (r < 0 && ++bad >= 20) break;
        accepted += r > 0;
    }
    free(guard);
    print_message("property: %zu random tokens, %zu whole numbers, seed 0x%llx\n", count, accepted,
                  (unsigned long long)test_seed());
    assert_int_equal(bad, 0);
    assert_true(accepted > count / 2); /* the generator mostly makes numbers */
}


/* wb_parse_f32_token (the converter's hot path) must agree with strtof on
 * the whole token, wherever the token ends: at a separator or at `end`. */
static int check_token_vs_strtof(const char *tok, size_t n, const char *tail) {
    char buf[1200];
    memcpy(buf, tok, n);
    size_t tl = strlen(tail);
    memcpy(buf + n, tail, tl + 1);
    float got = 0, want;
    char *end;
    want = n ? strtof(tok, &end) : 0;
    const int whole = n > 0 && end == tok + n && !(tok[0] == ' ' || tok[0] == '\t');
    const char *r = wb_parse_f32_token(buf, buf + n + tl, &got);
    if (!whole) {
        if (r != NULL) { print_message("token '%s' accepted, strtof does not\n", tok); return -1; }
        return 0;
    }
    if (r != buf + n) { print_message("token '%s' (tail '%s'): wrong end\n", tok, tail); return -1; }
    if (memcmp(&got, &want, 4)) {
        print_message("token '%s': got %a, strtof %a\n", tok, (double)got, (double)want);
        return -1;
    }
    return 1;
}

static void test_token_vs_strtof(void **state) {
    (void)state;
    static const char *const tails[] = {"", " ", "\t0.5", "\r\n", "\n", " x"};
    static const char *const edges[] = {"0", "-0", "-0.0", "0.", ".5", "-.5", "5.", "1e", "1e+", "1e-", "1e5", "1E-10",
        "1e-11", "1e10", "1e11", "9999999", "99999999", "0.1234567", "0.12345678", "1234567e3", "0.000000001",
        "00001", "-00.0500", "1.5x", ".", "-", "", "nan", "-inf", "+1", "0x10", "1e0010", "3.4028235e38",
        "1.4e-45", "0.0041564", "-0.63527", "1.2345e-05", "-1e-10"};
    char tok[1024];
    size_t bad = 0;
    for (size_t i = 0; i < sizeof edges / sizeof edges[0]; i++)
        for (size_t j = 0; j < sizeof tails / sizeof tails[0]; j++) {
            if (!edges[i][0] && tails[j][0]) continue; /* an empty token is never passed */
            if (!edges[i][0]) continue;
            bad += check_token_vs_strtof(edges[i], strlen(edges[i]), tails[j]) < 0;
        }
    uint64_t rs = test_seed() ^ 0x70c3u;
    const size_t count = scaled(2000000);
    size_t accepted = 0;
    for (size_t i = 0; i < count && bad < 20; i++) {
        size_t n;
        if (rng_below(&rs, 2)) { /* the converter's common case: short decimals */
            const double v = ((double)rng_below(&rs, 20000001) - 10000000) / (double)(1u << rng_below(&rs, 24));
            static const char *const fmts[] = {"%.5g", "%.6g", "%.7g", "%.8g", "%.4f", "%.7f", "%.3e", "%.6e"};
            n = (size_t)snprintf(tok, 64, fmts[rng_below(&rs, 8)], v);
        } else {
            n = gen_token(tok, &rs);
        }
        const int r = check_token_vs_strtof(tok, n, tails[rng_below(&rs, 6)]);
        bad += r < 0;
        accepted += r > 0;
    }
    print_message("token: %zu random tokens, %zu numbers\n", count, accepted);
    assert_int_equal(bad, 0);
}

/* wb_f32_plain (the converter's inline fast path, tokens of known length):
 * whatever it accepts must be strtof's value bit for bit, whatever bytes
 * follow the token in the WB_F32_PLAIN_READ it may read; what it declines
 * the general path handles.  Edge cases: m = 2^24 exactly (accepted) and
 * just above (declined), 7 and 8 digits on either side of the point,
 * negative zero, "1." and ".5", exponents, two points, a sign alone. */
static int check_plain(const char *tok, const char *after, int must_accept) {
    char buf[64];
    const size_t n = strlen(tok);
    memset(buf, 0, sizeof buf);
    memcpy(buf, tok, n);
    memcpy(buf + n, after, strlen(after));
    float got = 12345.f;
    const int ok = wb_f32_plain(buf, n, &got);
    char *end;
    const float want = strtof(tok, &end);
    if (ok && (end != tok + n || bits_of(got) != bits_of(want))) {
        print_message("plain '%s' (then '%s'): got %a, strtof %a (consumed %td of %zu)\n", tok, after,
                      (double)got, (double)want, end - tok, n);
        return -1;
    }
    if (!ok && bits_of(got) != bits_of(12345.f)) { print_message("plain '%s' declined but wrote\n", tok); return -1; }
    if (must_accept >= 0 && ok != must_accept) {
        print_message("plain '%s': %s, expected %s\n", tok, ok ? "accepted" : "declined",
                      must_accept ? "accepted" : "declined");
        return -1;
    }
    return ok;
}

static void test_plain_fast_path(void **state) {
    (void)state;
    static const struct { const char *tok; int accept; } cases[] = {
        {"0.418", 1}, {"-0.41242", 1}, {"0.0031072", 1}, {"-0.0", 1}, {"-0.", 1}, {"0.", 1}, {"1.", 1},
        {"-0.000000", 1}, {"1677721.6", 1}, {"1677721.7", 0}, {"0.16777216", 0}, {"1.6777216", 1},
        {"16777.217", 0}, {"1234567.1", 1}, {"9999999.", 1}, {"12345678.5", 0}, {"0.1234567", 1},
        {"0.12345678", 0}, {"-9.9999999", 0}, {"00001.5", 1}, {"-0000000.1", 1}, {".5", 0}, {"-.5", 0},
        {"5", 0}, {"-", 0}, {"-5", 0}, {"1e5", 0}, {"1.5e3", 0}, {"1.5E-3", 0}, {"1.2.3", 0},
        {"--1.0", 0}, {"1.-5", 0}, {"1.5x", 0}, {"+1.5", 0}, {"1,5", 0}, {"0.0000001", 1},
        {"-3.4028235", 0}, {"-1.6777215", 1}, {"0.33333334", 0}, {"2.5", 1}, {"0.5", 1}, {"8388608.5", 0}, {"1677.7216", 1}, {"838860.85", 0},
    };
    static const char *const afters[] = {"", " ", "\n", "99999999999999999", "e5", ".5.5.5.5.5.5.5.5", "\t-1"};
    size_t bad = 0;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        for (size_t j = 0; j < sizeof afters / sizeof afters[0]; j++)
            bad += check_plain(cases[i].tok, afters[j], cases[i].accept) < 0;
    /* The files' common shapes, at random: every one must be accepted and exact. */
    uint64_t rs = test_seed() ^ 0x91a1u;
    const size_t count = scaled(1000000);
    size_t accepted = 0;
    char tok[64];
    for (size_t i = 0; i < count && bad < 20; i++) {
        const int ni = 1 + (int)rng_below(&rs, 7), nf = (int)rng_below(&rs, 8);
        size_t n = 0;
        if (rng_below(&rs, 2)) tok[n++] = '-';
        for (int k = 0; k < ni; k++) tok[n++] = (char)('0' + (rng_below(&rs, 3) ? 0 : rng_below(&rs, 10)));
        tok[n++] = '.';
        for (int k = 0; k < nf; k++) tok[n++] = (char)('0' + rng_below(&rs, 10));
        tok[n] = 0;
        const int r = check_plain(tok, rng_below(&rs, 2) ? " " : "12345678901234567", -1);
        bad += r < 0;
        accepted += r > 0;
    }
    print_message("plain: %zu random tokens, %zu accepted\n", count, accepted);
    assert_int_equal(bad, 0);
    assert_true(accepted > count / 2);
}

/* ---- wb_parse_f32: locale and threads ----------------------------------- */

/* A process locale with a decimal comma does not change the answer. */
static void test_locale_independent(void **state) {
    (void)state;
    static const char *const names[] = {"de_DE.UTF-8", "de_DE.utf8", "fr_FR.UTF-8", "fr_FR.utf8", "de_DE"};
    const char *set = NULL;
    for (size_t i = 0; i < sizeof names / sizeof names[0] && !set; i++) set = setlocale(LC_NUMERIC, names[i]);
    if (!set || strcmp(localeconv()->decimal_point, ",") != 0) {
        setlocale(LC_NUMERIC, "C");
        skip();
    }
    float f = 0;
    const int a = wb_parse_f32("+1.5", 4, &f); /* fallback */
    const float fa = f;
    const int b = wb_parse_f32("1,5", 3, &f);
    setlocale(LC_NUMERIC, "C");
    assert_int_equal(a, 1);
    assert_true(fa == 1.5f);
    assert_int_equal(b, 0);
}

/* Several threads start in the fallback at once (the "C" locale object is
 * created once); run first so the lazy initialisation is what races. */
static void *parse_many(void *arg) {
    size_t *bad = arg;
    for (int i = 0; i < 2000; i++) {
        float f = 0;
        if (wb_parse_f32("+0.1", 4, &f) != 1 || f != 0.1f) ++*bad;
        if (wb_parse_f32("nan(7)", 6, &f) != 1 || bits_of(f) != 0x7fc00007u) ++*bad;
    }
    return NULL;
}

static void test_threads_first_use(void **state) {
    (void)state;
    enum { NT = 4 };
    pthread_t th[NT];
    size_t bad[NT] = {0};
    for (int i = 0; i < NT; i++) assert_int_equal(pthread_create(&th[i], NULL, parse_many, &bad[i]), 0);
    for (int i = 0; i < NT; i++) assert_int_equal(pthread_join(th[i], NULL), 0);
    for (int i = 0; i < NT; i++) assert_int_equal(bad[i], 0);
}

/* ---- f16 ---------------------------------------------------------------- */

/* Value of the non-negative finite half h (0..0x7bff), computed from the
 * definition; 0x7c00 stands for 2^16, the next value "above" 65504 if the
 * exponent were unbounded, which is how IEEE decides overflow. */
static double half_table[0x7c01];

static void fill_half_table(void) {
    for (unsigned h = 0; h < 0x7c00; h++) {
        const unsigned e = h >> 10, m = h & 0x3ffu;
        half_table[h] = e ? ldexp(1024.0 + m, (int)e - 25) : ldexp(m, -24);
    }
    half_table[0x7c00] = 65536.0;
}

/* Nearest half to the non-NaN float f, ties to even, by binary search over
 * all halves; 65536 and above (and ties rounding to it) give inf. */
static uint16_t ref_f32_to_f16(float f) {
    const uint16_t sign = signbit(f) ? 0x8000u : 0;
    const double a = fabs((double)f);
    if (a >= 65536.0) return (uint16_t)(sign | 0x7c00u);
    unsigned lo = 0, hi = 0x7c00; /* half_table[lo] <= a < half_table[hi] */
    while (hi - lo > 1) {
        const unsigned mid = (lo + hi) / 2;
        if (half_table[mid] <= a) lo = mid;
        else hi = mid;
    }
    const double mid = (half_table[lo] + half_table[hi]) / 2; /* exact */
    const unsigned r = a < mid ? lo : a > mid ? hi : (lo & 1u) ? hi : lo;
    return (uint16_t)(sign | r);
}

static void test_f16_exhaustive_round_trip(void **state) {
    (void)state;
    fill_half_table();
    unsigned bad = 0;
    for (uint32_t h = 0; h < 0x10000u; h++) {
        const float f = wb_f16_to_f32((uint16_t)h);
        const uint16_t back = wb_f32_to_f16(f);
        const int is_nan = (h & 0x7c00u) == 0x7c00u && (h & 0x3ffu) != 0;
        if (is_nan) {
            /* stays a NaN, same sign and payload, now quiet */
            if (!isnan(f) || back != (h | 0x0200u)) bad++;
        } else {
            const double v = (h & 0x7fffu) == 0x7c00u ? INFINITY : half_table[h & 0x7fffu];
            if ((double)fabsf(f) != v || !!signbit(f) != !!(h & 0x8000u) || back != h) {
                if (bad < 10) print_message("half %04x -> %a -> %04x\n", (unsigned)h, (double)f, (unsigned)back);
                bad++;
            }
        }
    }
    assert_int_equal(bad, 0);
}

static void check_f16(float f, uint16_t want, unsigned *bad) {
    const uint16_t got = wb_f32_to_f16(f);
    if (got != want) {
        if (*bad < 10) print_message("f32 %a (%08x): want %04x, got %04x\n", (double)f, (unsigned)bits_of(f),
                                     (unsigned)want, (unsigned)got);
        ++*bad;
    }
}

/* Every tie between neighbouring halves, and the floats right next to it. */
static void test_f16_ties(void **state) {
    (void)state;
    fill_half_table();
    unsigned bad = 0;
    for (unsigned h = 0; h < 0x7c00; h++) {
        const float mid = (float)((half_table[h] + half_table[h + 1]) / 2); /* exact: 12 bits */
        for (int s = 0; s < 2; s++) {
            const uint16_t sign = s ? 0x8000u : 0;
            const float sg = s ? -1.0f : 1.0f;
            check_f16(sg * (float)half_table[h], (uint16_t)(sign | h), &bad);
            check_f16(sg * mid, (uint16_t)(sign | ((h & 1u) ? h + 1 : h)), &bad);
            check_f16(sg * nextafterf(mid, 0), (uint16_t)(sign | h), &bad);
            check_f16(sg * nextafterf(mid, INFINITY), (uint16_t)(sign | (h + 1)), &bad);
        }
    }
    assert_int_equal(bad, 0);
}

static void test_f16_specials(void **state) {
    (void)state;
    unsigned bad = 0;
    check_f16(0.0f, 0x0000, &bad);
    check_f16(-0.0f, 0x8000, &bad);
    check_f16(INFINITY, 0x7c00, &bad);
    check_f16(-INFINITY, 0xfc00, &bad);
    check_f16(FLT_MAX, 0x7c00, &bad);
    check_f16(-FLT_MAX, 0xfc00, &bad);
    check_f16(65504.0f, 0x7bff, &bad);
    check_f16(65519.996f, 0x7bff, &bad);
    check_f16(65520.0f, 0x7c00, &bad);
    check_f16(0x1p-14f, 0x0400, &bad);
    check_f16(0x1p-24f, 0x0001, &bad);
    check_f16(0x1p-25f, 0x0000, &bad);                       /* tie to even: 0 */
    check_f16(nextafterf(0x1p-25f, 1.0f), 0x0001, &bad);
    check_f16(0x1.8p-24f, 0x0002, &bad);                     /* tie to even: 2 */
    check_f16(FLT_MIN, 0x0000, &bad);
    check_f16(-FLT_TRUE_MIN, 0x8000, &bad);
    check_f16(1.0f, 0x3c00, &bad);
    check_f16(-2.0f, 0xc000, &bad);
    check_f16(0.1f, 0x2e66, &bad);
    /* NaN: quiet, sign kept, top payload bits kept; a low-only payload does
     * not become inf. */
    check_f16(float_of(0x7fc00000u), 0x7e00, &bad);
    check_f16(float_of(0xffc00000u), 0xfe00, &bad);
    check_f16(float_of(0x7f800001u), 0x7e00, &bad);
    check_f16(float_of(0x7fa00000u), 0x7f00, &bad);
    assert_int_equal(bad, 0);
    assert_true(isnan(wb_f16_to_f32(0x7e00)));
    assert_int_equal(bits_of(wb_f16_to_f32(0xfc00)), 0xff800000u);
    assert_int_equal(bits_of(wb_f16_to_f32(0x0001)), bits_of(0x1p-24f));
    assert_int_equal(bits_of(wb_f16_to_f32(0x8000)), 0x80000000u);
}

static void test_f16_random_vs_reference(void **state) {
    (void)state;
    fill_half_table();
    const size_t count = scaled(4000000);
    uint64_t rs = test_seed() ^ 0xf16;
    unsigned bad = 0;
    for (size_t i = 0; i < count; i++) {
        uint32_t x = (uint32_t)rng_next(&rs);
        if (i & 1) /* exponent where halves live: 2^-27 .. 2^18 */
            x = (x & 0x807fffffu) | ((100u + (uint32_t)rng_below(&rs, 46)) << 23);
        const float f = float_of(x);
        if (isnan(f)) {
            const uint16_t h = wb_f32_to_f16(f);
            if ((h & 0x7e00u) != 0x7e00u || (h >> 15) != (x >> 31)) bad++;
            continue;
        }
        check_f16(f, ref_f32_to_f16(f), &bad);
    }
    assert_int_equal(bad, 0);
}

static void test_f16_arrays(void **state) {
    (void)state;
    enum { N = 4099 };
    float *f = malloc(N * sizeof *f), *g = malloc(N * sizeof *g);
    uint16_t *h = malloc(N * sizeof *h);
    assert_true(f && g && h);
    uint64_t rs = test_seed() ^ 0xa77a;
    for (size_t i = 0; i < N; i++) f[i] = float_of((uint32_t)rng_next(&rs) & 0xc7ffffffu);
    wb_f32_to_f16_n(h, f, N);
    for (size_t i = 0; i < N; i++) assert_int_equal(h[i], wb_f32_to_f16(f[i]));
    wb_f16_to_f32_n(g, h, N);
    for (size_t i = 0; i < N; i++) assert_int_equal(bits_of(g[i]), bits_of(wb_f16_to_f32(h[i])));
    wb_f32_to_f16_n(h, f, 0); /* n == 0 is a no-op */
    wb_f16_to_f32_n(g, h, 0);
    free(f);
    free(g);
    free(h);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_threads_first_use),
        cmocka_unit_test(test_edge_tokens),
        cmocka_unit_test(test_not_nul_terminated),
        cmocka_unit_test(test_errno_preserved),
        cmocka_unit_test(test_fast_path_takes_plain_decimals),
        cmocka_unit_test(test_long_tokens),
        cmocka_unit_test(test_property_vs_strtof),
        cmocka_unit_test(test_token_vs_strtof),
        cmocka_unit_test(test_plain_fast_path),
        cmocka_unit_test(test_locale_independent),
        cmocka_unit_test(test_f16_exhaustive_round_trip),
        cmocka_unit_test(test_f16_ties),
        cmocka_unit_test(test_f16_specials),
        cmocka_unit_test(test_f16_random_vs_reference),
        cmocka_unit_test(test_f16_arrays),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
