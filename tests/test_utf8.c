/*
 * test_utf8.c — wordbench/utf8.h as its specification: every code point
 * round-trips through the encoder and wb_utf8_next; wb_utf8_next and
 * wb_utf8_seq agree on every 1- and 2-byte input and on every 3- and 4-byte
 * input of a lead byte followed by boundary continuation bytes; the
 * ill-formed cases of Unicode's table 3-7 (overlongs, surrogates, above
 * U+10FFFF, cut sequences) and their maximal subparts; wb_utf8_valid on
 * strings whose ASCII runs cross the 8-byte fast path.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "wordbench/utf8.h"

static void test_roundtrip(void **state) {
    (void)state;
    for (uint32_t c = 0; c <= 0x10FFFF; c++) {
        if (c >= 0xD800 && c <= 0xDFFF) continue;
        char b[4];
        size_t n = wb_utf8_encode(c, b), want = c < 0x80 ? 1 : c < 0x800 ? 2 : c < 0x10000 ? 3 : 4;
        assert_int_equal(n, want);
        uint32_t d = 0xFFFFFFFF;
        assert_int_equal(wb_utf8_next(b, n, &d), n);
        assert_int_equal(d, c);
        assert_int_equal(wb_utf8_next(b, n - 1 ? n - 1 : 1, &d), n == 1 ? 1 : 0); /* cut */
        assert_int_equal(wb_utf8_valid(b, n), 1);
        if (n > 1) {
            int ok;
            assert_int_equal(wb_utf8_seq((const unsigned char *)b, n, &ok), n);
            assert_int_equal(ok, 1);
        }
    }
}

/* next and seq agree on well-formedness and length. */
static void agree(const unsigned char *u, size_t n) {
    uint32_t cp;
    size_t a = wb_utf8_next((const char *)u, n, &cp);
    int ok;
    size_t k = wb_utf8_seq(u, n, &ok);
    if (ok != (a > 0) || (ok && k != a))
        fail_msg("%02x %02x %02x %02x (n %zu): next %zu, seq %zu ok %d", u[0], n > 1 ? u[1] : 0, n > 2 ? u[2] : 0,
                 n > 3 ? u[3] : 0, n, a, k, ok);
    assert_true(k >= 1 && k <= n);
    assert_int_equal(wb_utf8_valid((const char *)u, a ? a : n), a > 0 || n == 0);
}

static void test_agree(void **state) {
    (void)state;
    static const unsigned char cont[] = {0x00, 0x41, 0x7F, 0x80, 0x8F, 0x90, 0x9F, 0xA0, 0xBF, 0xC0, 0xFF};
    unsigned char u[4];
    for (int a = 0x80; a < 0x100; a++) {
        u[0] = (unsigned char)a;
        agree(u, 1);
        for (int b = 0; b < 0x100; b++) {
            u[1] = (unsigned char)b;
            agree(u, 2);
            for (size_t i = 0; i < sizeof cont; i++) {
                u[2] = cont[i];
                agree(u, 3);
                for (size_t j = 0; j < sizeof cont; j++) u[3] = cont[j], agree(u, 4);
            }
        }
    }
}

static void test_table(void **state) {
    (void)state;
    int ok;
    /* overlong, surrogate, above U+10FFFF, bad lead: one byte each */
    static const char *const one[] = {"\xC0\xAF", "\xC1\xBF", "\xE0\x80\xAF", "\xED\xA0\x80", "\xF4\x90\x80\x80",
                                      "\xF5\x80\x80\x80", "\xFF", "\x80"};
    for (size_t i = 0; i < sizeof one / sizeof one[0]; i++) {
        const unsigned char *u = (const unsigned char *)one[i];
        assert_int_equal(wb_utf8_seq(u, strlen(one[i]), &ok), 1);
        assert_int_equal(ok, 0);
        assert_int_equal(wb_utf8_valid(one[i], strlen(one[i])), 0);
    }
    /* a cut sequence is one maximal subpart of its valid prefix */
    assert_int_equal(wb_utf8_seq((const unsigned char *)"\xE2\x82" "A", 3, &ok), 2);
    assert_int_equal(ok, 0);
    assert_int_equal(wb_utf8_seq((const unsigned char *)"\xF0\x9F\x98" "x", 4, &ok), 3);
    assert_int_equal(ok, 0);
    /* the ASCII fast path: invalid bytes after 8, 9, 16 ASCII bytes */
    char s[40];
    for (size_t at = 0; at < 24; at++) {
        memset(s, 'a', sizeof s);
        s[at] = (char)0xC3; /* a lead byte followed by 'a': ill-formed */
        assert_int_equal(wb_utf8_valid(s, sizeof s), 0);
        s[at + 1] = (char)0xA9; /* é */
        assert_int_equal(wb_utf8_valid(s, sizeof s), 1);
    }
    assert_int_equal(wb_utf8_valid("", 0), 1);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_roundtrip),
        cmocka_unit_test(test_agree),
        cmocka_unit_test(test_table),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
