/*
 * test_pytext.c — specification of Python's string rules on UTF-8
 * (src/store/pytext.c), the ones gensim's benchmarks depend on.  Expected
 * values are what Python 3.11 prints for the same strings (str.upper(),
 * float(), str.isspace()); the tables themselves come from Python
 * (tools/make_pytext_table.py).
 *
 * Contains: upper-casing with SpecialCasing (ß, ligatures, ΐ, ŉ, ᾳ), titlecase
 * digraphs, non-BMP letters, combining marks, invalid bytes kept; white
 * space; float()'s grammar (underscores, inf/nan, Unicode digits and
 * spaces, and what it refuses: hex, '1e', '.', embedded NUL, inner spaces).
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "store/pytext.h"

static void upper_is(const char *in, const char *want) {
    char out[256];
    size_t n = wb_py_upper(in, strlen(in), out);
    assert_true(n <= WB_PY_UPPER_GROWTH * strlen(in));
    if (n != strlen(want) || memcmp(out, want, n)) fail_msg("upper('%s') = '%.*s', want '%s'", in, (int)n, out, want);
}

static void test_upper(void **state) {
    (void)state;
    upper_is("straße", "STRASSE");
    upper_is("ßßß", "SSSSSS");
    upper_is("\xef\xac\x81sh", "FISH");             /* ﬁsh */
    upper_is("\xef\xac\x83", "FFI");                /* ﬃ */
    upper_is("\xce\x90", "\xce\x99\xcc\x88\xcc\x81"); /* ΐ: three code points */
    upper_is("\xc5\x89", "\xca\xbcN");              /* ŉ */
    upper_is("\xe1\xbe\xb3", "\xce\x91\xce\x99");   /* ᾳ */
    upper_is("\xc7\x86", "\xc7\x84");               /* ǆ */
    upper_is("\xc7\x85", "\xc7\x84");               /* ǅ (titlecase) */
    upper_is("\xc4\xb1", "I");                      /* dotless ı */
    upper_is("\xcf\x82", "\xce\xa3");               /* final sigma */
    upper_is("\xea\xad\xb0", "\xe1\x8e\xa0");       /* Cherokee small letter */
    upper_is("\xf0\x90\x90\xa8", "\xf0\x90\x90\x80"); /* Deseret, outside the BMP */
    upper_is("abc\xcc\x81", "ABC\xcc\x81");         /* combining acute stays */
    upper_is("Athens 1-2_x", "ATHENS 1-2_X");
    upper_is("caf\xc3\xa9", "CAF\xc3\x89");
    upper_is("a\xff" "b\xc3(", "A\xff" "B\xc3(");   /* invalid bytes are kept */
    upper_is("", "");
}

static void test_isspace(void **state) {
    (void)state;
    const uint32_t yes[] = {' ', '\t', '\n', 0x0b, 0x0c, '\r', 0x1c, 0x1f, 0x85, 0xa0, 0x1680, 0x2000, 0x200a,
                            0x2028, 0x2029, 0x202f, 0x205f, 0x3000};
    const uint32_t no[] = {'a', 0, 0x1b, 0x200b, 0xfeff, 0x180e, 0x2060, 0x10ffff};
    for (size_t i = 0; i < sizeof yes / sizeof yes[0]; i++) assert_true(wb_py_isspace(yes[i]));
    for (size_t i = 0; i < sizeof no / sizeof no[0]; i++) assert_false(wb_py_isspace(no[i]));
}

static void float_is(const char *s, size_t n, double want) {
    double v = -12345;
    if (wb_py_float(s, n, &v)) fail_msg("float('%.*s') refused, Python gives %g", (int)n, s, want);
    if (!(v == want || (isnan(v) && isnan(want)))) fail_msg("float('%.*s') = %g, want %g", (int)n, s, v, want);
}

static void float_bad(const char *s, size_t n) {
    double v;
    if (!wb_py_float(s, n, &v)) fail_msg("float('%.*s') accepted (%g); Python raises ValueError", (int)n, s, v);
}

#define OK(s, v) float_is(s, sizeof(s) - 1, v)
#define BAD(s) float_bad(s, sizeof(s) - 1)

static void test_float(void **state) {
    (void)state;
    OK("1_0", 10);
    OK("1e1_0", 1e10);
    OK(" 7.5 ", 7.5);
    OK("7.5\n", 7.5);
    OK("\xd9\xa8.\xd9\xa5", 8.5);                /* Arabic-Indic digits */
    OK("\xd9\xa1\xd9\xa2", 12);
    OK("\xe3\x80\x80 2 \xe2\x80\xa8", 2);        /* ideographic space, line separator */
    OK("inf", INFINITY);
    OK("-Infinity", -INFINITY);
    OK("+NaN", NAN);
    OK(".5", 0.5);
    OK("5.", 5);
    OK("1e5000", INFINITY);
    OK("-0.1", -0.1);
    OK("6.77", 6.77);
    BAD("1__0");
    BAD("_1");
    BAD("1_");
    BAD("1_.5");
    BAD("1._5");
    BAD("0x10");
    BAD("1e");
    BAD(".");
    BAD("1 2");
    BAD("12\0");
    BAD("1d5");
    BAD("infinit");
    BAD("+-1");
    BAD("");
    BAD("  ");
    BAD("seven");
    BAD("\xff" "1");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_upper),
        cmocka_unit_test(test_isspace),
        cmocka_unit_test(test_float),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
