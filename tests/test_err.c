/*
 * test_err.c — specification of the error record (src/base/err.c,
 * wordbench/err.h).
 *
 * Contains: wb_err_set / wb_err_at fill code, file, line, offset and
 * message; a caller may add context to the error it got by formatting
 * e->msg and e->file into the same record (issue 18: the suspected
 * overlapping copy in cli_train.c's predict; the record now formats into
 * locals first, so no caller has to copy); long texts are cut, not
 * overrun; a NULL record only returns the code.
 *
 * Leaves out: wb_strerror's texts (each module's tests check the messages
 * they produce).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "wordbench/err.h"

static void test_fill(void **state) {
    (void)state;
    wb_err e;
    wb_err_clear(&e);
    assert_int_equal(e.code, 0);
    assert_int_equal(wb_err_at(&e, WB_EFORMAT, "a.txt", 3, 17, "bad %s", "number"), WB_EFORMAT);
    assert_int_equal(e.code, WB_EFORMAT);
    assert_string_equal(e.file, "a.txt");
    assert_true(e.line == 3 && e.offset == 17);
    assert_string_equal(e.msg, "bad number");
    assert_int_equal(wb_err_set(&e, WB_ENOMEM, "out of %s", "memory"), WB_ENOMEM);
    assert_string_equal(e.file, "");
    assert_true(e.line == 0 && e.offset == -1);
    assert_string_equal(e.msg, "out of memory");
    assert_int_equal(wb_err_set(NULL, WB_EUSAGE, "ignored"), WB_EUSAGE);
}

static void test_context_into_itself(void **state) {
    (void)state;
    wb_err e;
    wb_err_at(&e, WB_EFORMAT, "data.tsv", 0, -1, "empty text");
    assert_int_equal(wb_err_at(&e, e.code, e.file, 12, -1, "%s: %s (record %d)", e.file, e.msg, 5), WB_EFORMAT);
    assert_string_equal(e.file, "data.tsv");
    assert_int_equal(e.line, 12);
    assert_string_equal(e.msg, "data.tsv: empty text (record 5)");
    /* context before the old text, which shifts it right within the same buffer */
    wb_err_set(&e, WB_EUSAGE, "%s", "abcdefghijklmnopqrstuvwxyz");
    wb_err_set(&e, WB_EUSAGE, "0123456789 %s %s", e.msg, e.msg);
    assert_string_equal(e.msg, "0123456789 abcdefghijklmnopqrstuvwxyz abcdefghijklmnopqrstuvwxyz");
}

static void test_cut(void **state) {
    (void)state;
    wb_err e;
    char big[3000];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = 0;
    wb_err_at(&e, WB_EFORMAT, big, 0, -1, "%s", big);
    assert_int_equal(strlen(e.file), sizeof e.file - 1);
    assert_int_equal(strlen(e.msg), sizeof e.msg - 1);
    /* and again into itself, at full length */
    wb_err_at(&e, WB_EFORMAT, e.file, 0, -1, "y%s", e.msg);
    assert_int_equal(strlen(e.msg), sizeof e.msg - 1);
    assert_true(e.msg[0] == 'y' && e.msg[1] == 'x');
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fill),
        cmocka_unit_test(test_context_into_itself),
        cmocka_unit_test(test_cut),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
