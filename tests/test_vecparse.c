/*
 * test_vecparse.c — specification of the converter's record parsers
 * (src/store/vecparse.c, declared in src/store/convert_int.h).
 *
 * Contains: GloVe / word2vec text lines (fast path, words with spaces versus
 * too many numbers, too few numbers, values that are not numbers, NaN and
 * infinities rejected and allowed, CRLF, trailing white space, blank lines),
 * the dim sniffed from a first line, "rows dim" headers, word2vec binary
 * framing (complete records, need-more before eof, the optional '\n',
 * truncation at eof, empty words, the 64 KiB word limit), the binary/text
 * sniffer, and UTF-8 validation.  Every value is compared bit for bit with
 * what glibc strtof() gives for the same token.
 *
 * Leaves out: files, threads, stores (test_convert.c).  Every call goes
 * through a private heap copy of exactly the bytes under test (no NUL after
 * them), so AddressSanitizer catches any read past the end.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "store/convert_int.h"

/* ---- helpers ----------------------------------------------------------- */

#define MAXDIM 400

/* Result of one text-line parse, copied out of the private buffer. */
typedef struct parsed {
    int rc;             /* wb_parse_text_line's return */
    int blank;          /* wb_line.blank */
    char word[256];     /* the word, NUL-terminated */
    size_t wlen;        /* its length */
    float vec[MAXDIM];  /* the values */
    char why[256];      /* the reason on failure */
} parsed;

/* Parse a heap copy of exactly len bytes of s. */
static parsed parse_n(const char *s, size_t len, uint32_t dim, int allow_nonfinite) {
    parsed r;
    memset(&r, 0, sizeof r);
    assert_true(dim <= MAXDIM);
    char *copy = malloc(len ? len : 1);
    assert_non_null(copy);
    memcpy(copy, s, len);
    wb_line ln;
    memset(&ln, 0, sizeof ln);
    r.rc = wb_parse_text_line(copy, len, dim, allow_nonfinite, &ln, r.vec, r.why, sizeof r.why);
    r.blank = ln.blank;
    if (r.rc == 0 && !ln.blank) {
        assert_true(ln.word >= copy && ln.word + ln.wlen <= copy + len);
        assert_true(ln.wlen < sizeof r.word);
        memcpy(r.word, ln.word, ln.wlen);
        r.wlen = ln.wlen;
    }
    free(copy);
    return r;
}

static parsed parse(const char *s, uint32_t dim, int allow_nonfinite) {
    return parse_n(s, strlen(s), dim, allow_nonfinite);
}

/* Exact bit equality of two floats (so -0 != 0 and NaN payloads count). */
static int same_bits(float a, float b) {
    return memcmp(&a, &b, sizeof a) == 0;
}

/* Assert that p parsed into `word` and the numbers in `nums` (white-space
 * separated tokens, each read with strtof). */
static void expect_line(const parsed *p, const char *word, const char *nums) {
    if (p->rc != 0) fail_msg("parse failed: %s", p->why);
    assert_false(p->blank);
    assert_string_equal(p->word, word);
    assert_int_equal(p->wlen, strlen(word));
    char buf[4096];
    snprintf(buf, sizeof buf, "%s", nums);
    size_t k = 0;
    for (char *save, *t = strtok_r(buf, " \t", &save); t; t = strtok_r(NULL, " \t", &save), k++) {
        float want = strtof(t, NULL);
        if (!same_bits(p->vec[k], want))
            fail_msg("value %zu ('%s'): got %a, strtof gives %a", k + 1, t, (double)p->vec[k], (double)want);
    }
}

static void expect_fail(const parsed *p, const char *why_substring) {
    if (p->rc == 0) fail_msg("expected a failure containing '%s', parse succeeded", why_substring);
    assert_int_equal(p->rc, -1);
    if (!strstr(p->why, why_substring)) fail_msg("reason '%s' does not contain '%s'", p->why, why_substring);
}

/* A line "word v1 ... vn" with values i/8 (exact), in a malloc'd string. */
static char *numbers_line(const char *word, unsigned n) {
    size_t cap = strlen(word) + 16 * (size_t)n + 2;
    char *s = malloc(cap);
    assert_non_null(s);
    size_t k = (size_t)snprintf(s, cap, "%s", word);
    for (unsigned i = 0; i < n; i++) k += (size_t)snprintf(s + k, cap - k, " %g", i / 8.0);
    return s;
}

/* ---- text lines: the fast path ----------------------------------------- */

static void test_fast_path(void **state) {
    (void)state;
    parsed p = parse("the 0.418 0.24968 -0.41242 0.1217 0.34527", 5, 0);
    expect_line(&p, "the", "0.418 0.24968 -0.41242 0.1217 0.34527");
    p = parse(", 0.013441 0.23682 -0.16899", 3, 0);
    expect_line(&p, ",", "0.013441 0.23682 -0.16899");
    p = parse("caf\xc3\xa9 1 2 3", 3, 0);
    expect_line(&p, "caf\xc3\xa9", "1 2 3");
    /* A word that is itself a number is still the word (first token). */
    p = parse("1 2 3 4", 3, 0);
    expect_line(&p, "1", "2 3 4");
    p = parse("nan 1 2 3", 3, 0);
    expect_line(&p, "nan", "1 2 3");
    /* Several separators between values. */
    p = parse("w  1 \t 2\t\t3", 3, 0);
    expect_line(&p, "w", "1 2 3");
    /* Leading white space before the word is not part of it. */
    p = parse("  w 1 2 3", 3, 0);
    expect_line(&p, "w", "1 2 3");
}

static void test_values_are_strtof(void **state) {
    (void)state;
    /* Decimal forms a hand-written parser gets wrong; all must equal strtof. */
    static const char *toks[] = {
        "0.1", "-0", "0", "1e-45", "1.4e-45", "7e-46", "1.17549435e-38", "1.1754942e-38", "3.4028235e38",
        "65504", "2.5E+2", "-2.5e-2", "1E5", ".5", "5.", "+1.5", "0x1p-3", "0.30000001192092896",
        "123456789", "16777217", "0.000001", "1.000000059604644775390625", "-340282346638528859811704183484516925440",
    };
    const size_t n = sizeof toks / sizeof toks[0];
    for (size_t i = 0; i < n; i++) {
        char line[128];
        snprintf(line, sizeof line, "w %s", toks[i]);
        parsed p = parse(line, 1, 0);
        expect_line(&p, "w", toks[i]);
    }
    /* All of them on one line as a dim-n vector. */
    char line[2048] = "vec";
    for (size_t i = 0; i < n; i++) strcat(strcat(line, " "), toks[i]);
    parsed p = parse(line, (uint32_t)n, 0);
    expect_line(&p, "vec", line + 4);
}

/* The row fast path splits a line at separators 16 bytes at a time: random
 * lines (plain decimals, exponents, integers, several separators, '\r' and
 * trailing blanks, lengths on and off multiples of 16) must give strtof's
 * values; lines with one token too many or too few must fail as before. */
static void test_random_lines_vs_strtof(void **state) {
    (void)state;
    static const char *const shapes[] = {"%.5f", "%.6g", "%.4e", "%.0f", "%.9g", "%.3f", "%.7f", "%.2E"};
    uint64_t rs = 0x11ee7u;
    char line[8192], nums[8192];
    for (int it = 0; it < 3000; it++) {
        rs = rs * 6364136223846793005u + 1442695040888963407u;
        const uint32_t dim = 1 + (uint32_t)((rs >> 33) % 40);
        size_t n = (size_t)snprintf(line, sizeof line, "w%d", it), m = 0;
        for (uint32_t k = 0; k < dim; k++) {
            rs = rs * 6364136223846793005u + 1442695040888963407u;
            const int seps = 1 + (int)((rs >> 20) % 3 == 0) + (int)((rs >> 22) % 7 == 0);
            for (int j = 0; j < seps; j++) line[n++] = (rs >> (24 + j)) & 1 ? '\t' : ' ';
            const double v = ((double)((rs >> 30) % 2000001) - 1000000.0) / (double)(1u << ((rs >> 52) % 20));
            const int t = snprintf(line + n, 64, shapes[(rs >> 60) % 8], v);
            m += (size_t)snprintf(nums + m, sizeof nums - m, "%s%.*s", k ? " " : "", t, line + n);
            n += (size_t)t;
        }
        const int tail = (int)((rs >> 5) % 4);
        if (tail == 1) line[n++] = '\r';
        if (tail == 2) line[n++] = ' ', line[n++] = '\t';
        line[n] = 0;
        char word[32];
        snprintf(word, sizeof word, "w%d", it);
        parsed p = parse_n(line, n, dim, 0);
        expect_line(&p, word, nums);
        if (dim > 1) {
            p = parse_n(line, n, dim - 1, 0);
            expect_fail(&p, "found");
        }
        p = parse_n(line, n, dim + 1, 0);
        expect_fail(&p, "found");
    }
}

static void test_wide_line(void **state) {
    (void)state;
    char *s = numbers_line("word", 300);
    parsed p = parse(s, 300, 0);
    expect_line(&p, "word", s + 5);
    free(s);
}

/* ---- words with spaces versus too many numbers -------------------------- */

static void test_words_with_spaces(void **state) {
    (void)state;
    parsed p = parse(". . . 0.4 0.5 0.6", 3, 0);
    expect_line(&p, ". . .", "0.4 0.5 0.6");
    p = parse("at name@domain.com 0.7 0.8 0.9", 3, 0);
    expect_line(&p, "at name@domain.com", "0.7 0.8 0.9");
    p = parse("new york city -1 -2 -3", 3, 0);
    expect_line(&p, "new york city", "-1 -2 -3");
    /* Inner white space of the word is kept as it is. */
    p = parse("new  york\tcity 1 2 3", 3, 0);
    expect_line(&p, "new  york\tcity", "1 2 3");
    /* A number inside the word is fine as long as a non-number is there too. */
    p = parse("a 1 b 2 3 4", 3, 0);
    expect_line(&p, "a 1 b", "2 3 4");
    /* Trailing white space and CR with a spaced word. */
    p = parse(". . . 1 2 3 \r", 3, 0);
    expect_line(&p, ". . .", "1 2 3");
}

static void test_too_many_numbers(void **state) {
    (void)state;
    parsed p = parse("w 1 2 3 4", 3, 0);
    expect_fail(&p, "expected 3 numbers after the word, found 4");
    p = parse("w 1 2 3 4 5 6", 3, 0);
    expect_fail(&p, "expected 3 numbers after the word, found 6");
    /* Extra tokens that are all numbers are not invented into the word. */
    p = parse("chapter 11 1 2 3", 3, 0);
    expect_fail(&p, "expected 3 numbers after the word, found 4");
    char *s = numbers_line("word", 301);
    p = parse(s, 300, 0);
    expect_fail(&p, "expected 300 numbers after the word, found 301");
    free(s);
}

static void test_too_few_numbers(void **state) {
    (void)state;
    char *s = numbers_line("word", 299);
    parsed p = parse(s, 300, 0);
    expect_fail(&p, "expected 300 numbers after the word, found 299");
    free(s);
    p = parse("w 1 2", 3, 0);
    expect_fail(&p, "expected 3 numbers after the word, found 2");
    p = parse("w 1 2 \r", 3, 0);
    expect_fail(&p, "expected 3 numbers after the word, found 2");
    p = parse("w", 3, 0);
    expect_fail(&p, "expected 3 numbers after the word, found 0");
    p = parse("w ", 1, 0);
    expect_fail(&p, "expected 1 numbers after the word, found 0");
    /* A word alone with a dim of 1 is not a word plus a value. */
    p = parse("0.5", 1, 0);
    expect_fail(&p, "found 0");
}

static void test_not_a_number(void **state) {
    (void)state;
    parsed p = parse("w 1 abc 3", 3, 0);
    expect_fail(&p, "value 2 'abc' is not a number");
    p = parse("w 1 2 3x", 3, 0);
    expect_fail(&p, "value 3 '3x' is not a number");
    p = parse("w 1,5 2 3", 3, 0);
    expect_fail(&p, "value 1 '1,5' is not a number");
    p = parse("w 1 2 -", 3, 0);
    expect_fail(&p, "value 3 '-' is not a number");
    /* Control bytes are shown escaped, long tokens cut. */
    p = parse("w 1 \x01z 3", 3, 0);
    expect_fail(&p, "value 2 '\\x01z' is not a number");
    char line[200] = "w 1 2 ";
    for (int i = 0; i < 100; i++) strcat(line, "q");
    p = parse(line, 3, 0);
    expect_fail(&p, "value 3 'qqqqqqqqqqqqqqqqqqqqqqqq...' is not a number");
    assert_true(strlen(p.why) < 120);
}

/* ---- NaN and infinities -------------------------------------------------- */

static void test_nonfinite_rejected(void **state) {
    (void)state;
    static const struct { const char *line; const char *why; } cases[] = {
        {"w nan 1 2", "value 1 is NaN"},
        {"w 1 NaN 2", "value 2 is NaN"},
        {"w 1 2 -nan", "value 3 is NaN"},
        {"w inf 1 2", "value 1 is infinite"},
        {"w 1 -inf 2", "value 2 is infinite"},
        {"w 1 2 Infinity", "value 3 is infinite"},
        {"w 1 INF 2", "value 2 is infinite"},
        {"w 1e39 1 2", "value 1 is infinite"}, /* finite text, overflows float */
        {"at name@domain.com 1 nan 2", "value 2 is NaN"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        parsed p = parse(cases[i].line, 3, 0);
        expect_fail(&p, cases[i].why);
        expect_fail(&p, "--allow-nonfinite");
    }
}

static void test_nonfinite_allowed(void **state) {
    (void)state;
    parsed p = parse("w nan -inf Infinity", 3, 1);
    assert_int_equal(p.rc, 0);
    assert_string_equal(p.word, "w");
    assert_true(isnan(p.vec[0]));
    assert_true(isinf(p.vec[1]) && p.vec[1] < 0);
    assert_true(isinf(p.vec[2]) && p.vec[2] > 0);
    p = parse("w 1e39 -nan 1", 3, 1);
    expect_line(&p, "w", "1e39 -nan 1");
    p = parse("at name@domain.com 1 nan 2", 3, 1);
    assert_int_equal(p.rc, 0);
    assert_string_equal(p.word, "at name@domain.com");
    assert_true(isnan(p.vec[1]));
}

/* ---- line ends and blank lines -------------------------------------------- */

static void test_crlf_and_trailing_space(void **state) {
    (void)state;
    static const char *lines[] = {
        "w 1 2 3\r", "w 1 2 3 ", "w 1 2 3  \t", "w 1 2 3 \r", "w 1 2 3\t \r", "w\t1\t2\t3", "w 1 2 3\r\r",
    };
    for (size_t i = 0; i < sizeof lines / sizeof lines[0]; i++) {
        parsed p = parse(lines[i], 3, 0);
        expect_line(&p, "w", "1 2 3");
    }
    /* The CR is never part of the last value or of the word. */
    parsed p = parse("w 1 2 3.5\r", 3, 0);
    expect_line(&p, "w", "1 2 3.5");
}

static void test_blank_lines(void **state) {
    (void)state;
    static const char *lines[] = {"", " ", "   ", "\r", "\t", " \t \r"};
    for (size_t i = 0; i < sizeof lines / sizeof lines[0]; i++) {
        parsed p = parse(lines[i], 3, 0);
        assert_int_equal(p.rc, 0);
        assert_int_equal(p.blank, 1);
    }
    parsed p = parse("w 1 2 3", 3, 0);
    assert_int_equal(p.blank, 0);
}

/* ---- dim of a first line ------------------------------------------------- */

static uint32_t line_dim(const char *s) {
    size_t n = strlen(s);
    char *copy = malloc(n ? n : 1);
    assert_non_null(copy);
    memcpy(copy, s, n);
    uint32_t d = wb_text_line_dim(copy, n);
    free(copy);
    return d;
}

static void test_text_line_dim(void **state) {
    (void)state;
    assert_int_equal(line_dim("the 0.1 0.2 0.3"), 3);
    assert_int_equal(line_dim("the 0.1 0.2 0.3 \r"), 3);
    assert_int_equal(line_dim("the\t0.1\t0.2"), 2);
    assert_int_equal(line_dim("at name@domain.com 1 2"), 2);
    assert_int_equal(line_dim(". . . 1 2 3 4"), 4);
    assert_int_equal(line_dim("1 2 3"), 2); /* the first token is the word */
    assert_int_equal(line_dim("w abc"), 0);
    assert_int_equal(line_dim("w 1 abc"), 0);
    assert_int_equal(line_dim("w"), 0);
    assert_int_equal(line_dim(""), 0);
    assert_int_equal(line_dim("   "), 0);
    char *s = numbers_line("word", 300);
    assert_int_equal(line_dim(s), 300);
    free(s);
}

/* ---- "rows dim" headers -------------------------------------------------- */

static int header(const char *s, uint64_t *rows, uint32_t *dim) {
    size_t n = strlen(s);
    char *copy = malloc(n ? n : 1);
    assert_non_null(copy);
    memcpy(copy, s, n);
    *rows = 777, *dim = 777;
    int rc = wb_parse_header_line(copy, n, rows, dim);
    free(copy);
    return rc;
}

static void test_header_accepted(void **state) {
    (void)state;
    static const struct { const char *s; uint64_t rows; uint32_t dim; } ok[] = {
        {"400000 300", 400000, 300},
        {"400000 300\r", 400000, 300},
        {"3000000 300 ", 3000000, 300},
        {" 3 4", 3, 4},
        {"3\t4", 3, 4},
        {"0 4", 0, 4},
        {"5000000000 1", 5000000000ull, 1},
        {"2 1000000", 2, 1000000},
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        uint64_t rows;
        uint32_t dim;
        if (header(ok[i].s, &rows, &dim) != 0) fail_msg("header '%s' rejected", ok[i].s);
        assert_int_equal(rows, ok[i].rows);
        assert_int_equal(dim, ok[i].dim);
    }
}

static void test_header_rejected(void **state) {
    (void)state;
    static const char *bad[] = {
        "400000", "a b", "1 2 3", "1 0", "", " ", "-3 4", "3 -4", "+3 4", "3 4x", "3 4.0", "3.0 4",
        "the 0.1", "3 1000001", "12345678901234567890 4", "3 4 \r x", "3,4",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        uint64_t rows;
        uint32_t dim;
        if (header(bad[i], &rows, &dim) != -1) fail_msg("header '%s' accepted", bad[i]);
    }
}

/* ---- word2vec binary framing --------------------------------------------- */

/* A record: word, ' ', dim floats, optional '\n'; returns its length. */
static size_t make_record(char *dst, const char *word, const float *vals, uint32_t dim, int newline) {
    size_t n = strlen(word);
    memcpy(dst, word, n);
    dst[n++] = ' ';
    memcpy(dst + n, vals, (size_t)dim * 4);
    n += (size_t)dim * 4;
    if (newline) dst[n++] = '\n';
    return n;
}

typedef struct framed {
    long rc;            /* wb_frame_bin_record's return */
    size_t word_off;    /* word - p */
    size_t wlen;        /* word length */
    size_t vals_off;    /* vals - p */
    char why[256];      /* reason on failure */
} framed;

/* Frame a heap copy of exactly avail bytes. */
static framed frame(const char *p, size_t avail, uint32_t dim, int eof) {
    framed f;
    memset(&f, 0, sizeof f);
    char *copy = malloc(avail ? avail : 1);
    assert_non_null(copy);
    memcpy(copy, p, avail);
    const char *w = NULL, *v = NULL;
    size_t wl = 0;
    f.rc = wb_frame_bin_record(copy, avail, dim, eof, &w, &wl, &v, f.why, sizeof f.why);
    if (f.rc > 0) {
        assert_true(w >= copy && w + wl <= copy + avail);
        assert_true(v >= copy && v + (size_t)dim * 4 <= copy + avail);
        f.word_off = (size_t)(w - copy), f.wlen = wl, f.vals_off = (size_t)(v - copy);
    }
    free(copy);
    return f;
}

static void test_bin_complete_record(void **state) {
    (void)state;
    const float vals[3] = {0.5f, -1.25f, 3e-5f};
    char buf[128];
    size_t n = make_record(buf, "ab", vals, 3, 1); /* 2 + 1 + 12 + 1 */
    assert_int_equal(n, 16);
    for (int eof = 0; eof <= 1; eof++) {
        framed f = frame(buf, n, 3, eof);
        assert_int_equal(f.rc, 16); /* the '\n' is consumed */
        assert_int_equal(f.word_off, 0);
        assert_int_equal(f.wlen, 2);
        assert_int_equal(f.vals_off, 3);
    }
    /* Followed by the next record: the same. */
    n += make_record(buf + n, "c", vals, 3, 1);
    framed f = frame(buf, n, 3, 0);
    assert_int_equal(f.rc, 16);
    /* The second one alone. */
    f = frame(buf + 16, n - 16, 3, 1);
    assert_int_equal(f.rc, 15);
    assert_int_equal(f.wlen, 1);
}

static void test_bin_without_newline(void **state) {
    (void)state;
    const float vals[2] = {1.0f, 2.0f};
    char buf[128];
    size_t n = make_record(buf, "ab", vals, 2, 0);
    assert_int_equal(n, 11);
    /* At eof the record is complete. */
    framed f = frame(buf, n, 2, 1);
    assert_int_equal(f.rc, 11);
    /* Before eof, a record ending exactly at the end of the bytes cannot be
     * finished yet: a '\n' may follow. */
    f = frame(buf, n, 2, 0);
    assert_int_equal(f.rc, 0);
    /* The next record follows directly: its first byte is not taken. */
    size_t m = n + make_record(buf + n, "cd", vals, 2, 0);
    f = frame(buf, m, 2, 0);
    assert_int_equal(f.rc, 11);
    f = frame(buf + 11, m - 11, 2, 1);
    assert_int_equal(f.rc, 11);
    assert_int_equal(f.word_off, 0);
    assert_int_equal(f.wlen, 2);
}

static void test_bin_leading_newline(void **state) {
    (void)state;
    /* A '\n' left over by a previous record is skipped, not part of the word. */
    const float vals[2] = {1.0f, 2.0f};
    char buf[128];
    buf[0] = '\n';
    size_t n = 1 + make_record(buf + 1, "ab", vals, 2, 0);
    framed f = frame(buf, n, 2, 1);
    assert_int_equal(f.rc, 12);
    assert_int_equal(f.word_off, 1);
    assert_int_equal(f.wlen, 2);
    assert_int_equal(f.vals_off, 4);
    /* Several of them (blank lines between records) are skipped too. */
    memcpy(buf, "\n\n\n", 3);
    n = 3 + make_record(buf + 3, "ab", vals, 2, 1);
    f = frame(buf, n, 2, 1);
    assert_int_equal(f.rc, (long)n);
    assert_int_equal(f.word_off, 3);
    assert_int_equal(f.wlen, 2);
    /* Only '\n's before eof: need more. */
    f = frame("\n", 1, 2, 0);
    assert_int_equal(f.rc, 0);
    f = frame("\n\n", 2, 2, 0);
    assert_int_equal(f.rc, 0);
}

static void test_bin_separators_inside_values(void **state) {
    (void)state;
    /* Value bytes that happen to be ' ' or '\n' must not cut the record. */
    float vals[3];
    memset(&vals[0], ' ', 4);
    memset(&vals[1], '\n', 4);
    memset(&vals[2], ' ', 4);
    char buf[64];
    size_t n = make_record(buf, "w", vals, 3, 1);
    framed f = frame(buf, n, 3, 1);
    assert_int_equal(f.rc, (long)n);
    assert_int_equal(f.wlen, 1);
    assert_int_equal(f.vals_off, 2);
    /* Not newline-terminated, value ends with a '\n' byte, then the next word. */
    memset(&vals[2], '\n', 4);
    n = make_record(buf, "w", vals, 3, 0);
    n += make_record(buf + n, "x", vals, 3, 0);
    f = frame(buf, n, 3, 1);
    assert_int_equal(f.rc, 14);
}

static void test_bin_need_more_and_truncation(void **state) {
    (void)state;
    const float vals[4] = {0.1f, 0.2f, 0.3f, 0.4f};
    char buf[128];
    size_t n = make_record(buf, "word", vals, 4, 1); /* 4 + 1 + 16 + 1 = 22 */
    assert_int_equal(n, 22);
    /* Every strict prefix: need more before eof, an error at eof. */
    for (size_t k = 1; k < n - 1; k++) {
        framed f = frame(buf, k, 4, 0);
        if (f.rc != 0) fail_msg("prefix %zu before eof: got %ld, expected 0 (need more)", k, f.rc);
        f = frame(buf, k, 4, 1);
        if (f.rc != -1) fail_msg("prefix %zu at eof: got %ld, expected -1", k, f.rc);
        assert_non_null(strstr(f.why, "truncated"));
    }
    /* The prefix without the '\n' is a complete record at eof only. */
    framed f = frame(buf, n - 1, 4, 1);
    assert_int_equal(f.rc, 21);
    f = frame(buf, n - 1, 4, 0);
    assert_int_equal(f.rc, 0);
}

static void test_bin_empty_word(void **state) {
    (void)state;
    const float vals[2] = {1.0f, 2.0f};
    char buf[64];
    size_t n = make_record(buf, "", vals, 2, 1);
    for (int eof = 0; eof <= 1; eof++) {
        framed f = frame(buf, n, 2, eof);
        assert_int_equal(f.rc, -1);
        assert_non_null(strstr(f.why, "empty word"));
    }
    buf[0] = '\n';
    n = 1 + make_record(buf + 1, "", vals, 2, 1);
    framed f = frame(buf, n, 2, 1);
    assert_int_equal(f.rc, -1);
    assert_non_null(strstr(f.why, "empty word"));
}

static void test_bin_word_limit(void **state) {
    (void)state;
    const size_t big = 65536 + 64;
    char *buf = malloc(big);
    assert_non_null(buf);
    memset(buf, 'a', big);
    /* 64 KiB without a space: an error even before eof. */
    framed f = frame(buf, 65536, 2, 0);
    assert_int_equal(f.rc, -1);
    assert_non_null(strstr(f.why, "no space"));
    f = frame(buf, big, 2, 0);
    assert_int_equal(f.rc, -1);
    /* One byte less: still waiting. */
    f = frame(buf, 65535, 2, 0);
    assert_int_equal(f.rc, 0);
    /* A word of 65535 bytes is fine. */
    buf[65535] = ' ';
    memset(buf + 65536, 0, 8);
    f = frame(buf, 65536 + 8, 2, 1);
    assert_int_equal(f.rc, 65536 + 8);
    assert_int_equal(f.wlen, 65535);
    free(buf);
}

static void test_bin_word_bytes(void **state) {
    (void)state;
    /* The word is every byte up to the first space: tabs, UTF-8, 0xff. */
    const float vals[1] = {1.0f};
    char buf[64];
    size_t n = make_record(buf, "a\tb\xc3\xa9\xff", vals, 1, 1);
    framed f = frame(buf, n, 1, 1);
    assert_int_equal(f.rc, (long)n);
    assert_int_equal(f.wlen, 6);
}

/* ---- binary or text? ----------------------------------------------------- */

static int looks_binary(const void *p, size_t n, uint32_t dim) {
    char *copy = malloc(n ? n : 1);
    assert_non_null(copy);
    memcpy(copy, p, n);
    int r = wb_looks_binary(copy, n, dim);
    free(copy);
    return r;
}

static void test_looks_binary(void **state) {
    (void)state;
    /* Text bodies. */
    const char *t1 = "the 0.418 0.24968 -0.41242\nof 1 2 3\n";
    assert_int_equal(looks_binary(t1, strlen(t1), 3), 0);
    const char *t2 = "</s> -0.084927 -0.28989 0.47376 0.12181 0.23018 -0.1256 \n";
    assert_int_equal(looks_binary(t2, strlen(t2), 6), 0);
    const char *t3 = "w nan -inf Infinity 1E-5 +2\r\n";
    assert_int_equal(looks_binary(t3, strlen(t3), 5), 0);
    const char *t4 = "w\t1\t2\n"; /* no space at all on the line */
    assert_int_equal(looks_binary(t4, strlen(t4), 2), 0);
    const char *t5 = "w 1 2"; /* shorter than dim*4 */
    assert_int_equal(looks_binary(t5, strlen(t5), 300), 0);
    assert_int_equal(looks_binary("", 0, 3), 0);
    /* Binary bodies. */
    const float v[4] = {0.21567f, 0.5418f, -0.4823f, -0.7003f};
    char buf[64];
    size_t n = make_record(buf, "</s>", v, 4, 1);
    assert_int_equal(looks_binary(buf, n, 4), 1);
    const float big[2] = {1e30f, -3.5e-20f};
    n = make_record(buf, "in", big, 2, 0);
    assert_int_equal(looks_binary(buf, n, 2), 1);
    /* An all-zero first vector is binary too: 0x00 never appears in text. */
    const float zero[4] = {0, 0, 0, 0};
    n = make_record(buf, "</s>", zero, 4, 1);
    assert_int_equal(looks_binary(buf, n, 4), 1);
    /* So is a first vector of small integers (bytes 0x00, 0x80, 0x3f, 0x40). */
    const float ints[3] = {1.0f, 2.0f, -1.0f};
    n = make_record(buf, "w", ints, 3, 1);
    assert_int_equal(looks_binary(buf, n, 3), 1);
}

/* ---- UTF-8 --------------------------------------------------------------- */

static int utf8(const char *s, size_t n) {
    char *copy = malloc(n ? n : 1);
    assert_non_null(copy);
    memcpy(copy, s, n);
    int r = wb_utf8_valid(copy, n);
    free(copy);
    return r;
}

#define U(lit) lit, sizeof(lit) - 1

static void test_utf8_valid(void **state) {
    (void)state;
    static const struct { const char *s; size_t n; int valid; const char *what; } cases[] = {
        {U(""), 1, "empty"},
        {U("the"), 1, "ASCII"},
        {U("a\0b"), 1, "NUL is a valid character"},
        {U("caf\xc3\xa9"), 1, "2-byte"},
        {U("\xe6\x97\xa5\xe6\x9c\xac"), 1, "3-byte"},
        {U("\xf0\x9f\x98\x80"), 1, "4-byte"},
        {U("\xc2\x80"), 1, "U+0080, smallest 2-byte"},
        {U("\xe0\xa0\x80"), 1, "U+0800, smallest 3-byte"},
        {U("\xf0\x90\x80\x80"), 1, "U+10000, smallest 4-byte"},
        {U("\xed\x9f\xbf"), 1, "U+D7FF, below the surrogates"},
        {U("\xee\x80\x80"), 1, "U+E000, above the surrogates"},
        {U("\xef\xbf\xbf"), 1, "U+FFFF"},
        {U("\xf4\x8f\xbf\xbf"), 1, "U+10FFFF, the largest"},
        {U("\xef\xbb\xbf" "x"), 1, "BOM"},
        {U("\x80"), 0, "lone continuation byte"},
        {U("a\xbf"), 0, "continuation after ASCII"},
        {U("\xff"), 0, "0xff"},
        {U("\xfe"), 0, "0xfe"},
        {U("\xf8\x88\x80\x80\x80"), 0, "5-byte form"},
        {U("\xc0\xaf"), 0, "overlong '/' (2 bytes)"},
        {U("\xc1\xbf"), 0, "overlong U+007F"},
        {U("\xe0\x80\xaf"), 0, "overlong '/' (3 bytes)"},
        {U("\xe0\x9f\xbf"), 0, "overlong U+07FF"},
        {U("\xf0\x80\x80\xaf"), 0, "overlong '/' (4 bytes)"},
        {U("\xf0\x8f\xbf\xbf"), 0, "overlong U+FFFF"},
        {U("\xed\xa0\x80"), 0, "surrogate U+D800"},
        {U("\xed\xbf\xbf"), 0, "surrogate U+DFFF"},
        {U("\xed\xa0\xbd\xed\xb8\x80"), 0, "CESU-8 surrogate pair"},
        {U("\xf4\x90\x80\x80"), 0, "U+110000"},
        {U("\xf7\xbf\xbf\xbf"), 0, "U+1FFFFF"},
        {U("\xc3"), 0, "truncated 2-byte"},
        {U("\xe6\x97"), 0, "truncated 3-byte"},
        {U("\xf0\x9f\x98"), 0, "truncated 4-byte"},
        {U("x\xf0\x9f"), 0, "truncated 4-byte after ASCII"},
        {U("\xc3\x28"), 0, "bad continuation"},
        {U("\xe6\x97\x28"), 0, "bad third byte"},
        {U("\xf0\x9f\x98\x28"), 0, "bad fourth byte"},
        {U("caf\xe9"), 0, "Latin-1"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int got = utf8(cases[i].s, cases[i].n);
        if (got != cases[i].valid)
            fail_msg("%s: wb_utf8_valid says %d, expected %d", cases[i].what, got, cases[i].valid);
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fast_path),
        cmocka_unit_test(test_values_are_strtof),
        cmocka_unit_test(test_random_lines_vs_strtof),
        cmocka_unit_test(test_wide_line),
        cmocka_unit_test(test_words_with_spaces),
        cmocka_unit_test(test_too_many_numbers),
        cmocka_unit_test(test_too_few_numbers),
        cmocka_unit_test(test_not_a_number),
        cmocka_unit_test(test_nonfinite_rejected),
        cmocka_unit_test(test_nonfinite_allowed),
        cmocka_unit_test(test_crlf_and_trailing_space),
        cmocka_unit_test(test_blank_lines),
        cmocka_unit_test(test_text_line_dim),
        cmocka_unit_test(test_header_accepted),
        cmocka_unit_test(test_header_rejected),
        cmocka_unit_test(test_bin_complete_record),
        cmocka_unit_test(test_bin_without_newline),
        cmocka_unit_test(test_bin_leading_newline),
        cmocka_unit_test(test_bin_separators_inside_values),
        cmocka_unit_test(test_bin_need_more_and_truncation),
        cmocka_unit_test(test_bin_empty_word),
        cmocka_unit_test(test_bin_word_limit),
        cmocka_unit_test(test_bin_word_bytes),
        cmocka_unit_test(test_looks_binary),
        cmocka_unit_test(test_utf8_valid),
    };
    return cmocka_run_group_tests_name("vecparse", tests, NULL, NULL);
}
