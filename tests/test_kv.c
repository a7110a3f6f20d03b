/*
 * test_kv.c — the "key value" text of wordbench/kv.h, as its
 * specification: escaping (every byte value round-trips, plain values are
 * written as they are), look-up by key (first wins, missing, too long, bad
 * escapes), in-place splitting, long formatted values, and the texts the
 * model file and a bundle write (byte for byte the lines of the earlier,
 * separate writers).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "wordbench/kv.h"

static void test_roundtrip(void **state) {
    (void)state;
    char all[256];
    for (int i = 0; i < 256; i++) all[i] = (char)i;
    wb_kv k;
    wb_kv_init(&k);
    wb_kv_put(&k, "bytes", all, 256);
    wb_kv_puts(&k, "plain", "tutorial");
    wb_kv_putf(&k, "num", "%.9g", (double)0.1f);
    size_t n;
    char *t = wb_kv_take(&k, &n);
    assert_non_null(t);
    assert_int_equal(strlen(t), n);
    /* plain values as they are; the escaped one has no raw space or newline */
    assert_non_null(strstr(t, "\nplain tutorial\nnum 0.100000001\n"));
    const char *line = t + strlen("bytes ");
    for (const char *p = line; *p != '\n'; p++) assert_true((unsigned char)*p > 0x20 && *p != 0x7f);
    assert_non_null(strstr(t, "%00%01%02") == t + 6 ? t : NULL);
    assert_non_null(strstr(t, "%20!\"#$%25&")); /* space, then '!' .. and '%' escaped */
    char out[300];
    size_t vl;
    assert_int_equal(wb_kv_get(t, n, "bytes", out, sizeof out, &vl), 0);
    assert_int_equal(vl, 256);
    assert_memory_equal(out, all, 256);
    assert_int_equal(wb_kv_get(t, n, "plain", out, sizeof out, &vl), 0);
    assert_string_equal(out, "tutorial");
    /* split in place: the same pairs, in order */
    char *cur = t, *key, *val;
    assert_int_equal(wb_kv_split(&cur, &key, &val, &vl), 1);
    assert_string_equal(key, "bytes");
    assert_int_equal(vl, 256);
    assert_memory_equal(val, all, 256);
    assert_int_equal(wb_kv_split(&cur, &key, &val, &vl), 1);
    assert_string_equal(key, "plain");
    assert_int_equal(wb_kv_split(&cur, &key, &val, &vl), 1);
    assert_string_equal(val, "0.100000001");
    assert_int_equal(wb_kv_split(&cur, &key, &val, &vl), 0);
    free(t);
}

static void test_get(void **state) {
    (void)state;
    const char *t = "a 1\nab 2\na 3\nb x%41y\nc bad%4\nd %G0\n";
    size_t n = strlen(t), vl;
    char out[16];
    assert_int_equal(wb_kv_get(t, n, "a", out, sizeof out, &vl), 0);
    assert_string_equal(out, "1"); /* the first line of a key wins; "ab" is another key */
    assert_int_equal(wb_kv_get(t, n, "ab", out, sizeof out, NULL), 0);
    assert_string_equal(out, "2");
    assert_int_equal(wb_kv_get(t, n, "b", out, sizeof out, &vl), 0);
    assert_string_equal(out, "xAy");
    assert_int_equal(wb_kv_get(t, n, "zz", out, sizeof out, NULL), -1); /* missing */
    assert_int_equal(wb_kv_get(t, n, "c", out, sizeof out, NULL), -1); /* cut escape */
    assert_int_equal(wb_kv_get(t, n, "d", out, sizeof out, NULL), -1); /* not hex */
    assert_int_equal(wb_kv_get(t, n, "b", out, 3, NULL), -1);          /* does not fit */
    assert_int_equal(wb_kv_get(t, 3, "ab", out, sizeof out, NULL), -1); /* only the first 3 bytes */
    char s1[] = "x 1%2", s2[] = "noval\n";
    char *cur = s1, *key, *val;
    assert_int_equal(wb_kv_split(&cur, &key, &val, &vl), -1);
    cur = s2;
    assert_int_equal(wb_kv_split(&cur, &key, &val, &vl), -1);
    char s3[] = "%41%2a%2A";
    assert_int_equal(wb_kv_unescape(s3), 3);
    assert_string_equal(s3, "A**");
}

static void test_long(void **state) {
    (void)state;
    char big[1000];
    memset(big, 'z', sizeof big - 1);
    big[sizeof big - 1] = 0;
    wb_kv k = {0};
    for (int i = 0; i < 50; i++) wb_kv_putf(&k, "long", "%s%d", big, i);
    size_t n;
    char *t = wb_kv_take(&k, &n);
    assert_non_null(t);
    assert_int_equal(n, 10 * (5 + 999 + 1 + 1) + 40 * (5 + 999 + 2 + 1)); /* "long " value digits "\n" */
    char out[1100];
    assert_int_equal(wb_kv_get(t, n, "long", out, sizeof out, NULL), 0);
    assert_int_equal(strlen(out), 1000);
    assert_int_equal(out[999], '0');
    free(t);
    /* an empty text is an empty string, not NULL */
    wb_kv e = {0};
    t = wb_kv_take(&e, &n);
    assert_non_null(t);
    assert_int_equal(n, 0);
    assert_string_equal(t, "");
    free(t);
    wb_kv f = {0};
    wb_kv_puts(&f, "x", "y");
    wb_kv_free(&f);
    assert_null(f.p);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_roundtrip),
        cmocka_unit_test(test_get),
        cmocka_unit_test(test_long),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
