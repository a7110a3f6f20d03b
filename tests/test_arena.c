/*
 * test_arena.c — specification of the step arena (src/nn/arena.c,
 * wordbench/arena.h).
 *
 * Contains: 64-byte alignment of every allocation (odd sizes included),
 * n = 0 gives distinct valid pointers, calloc zeroes memory that held
 * garbage in the previous step, growth beyond the first chunk keeps old
 * allocations intact, reset keeps the capacity and merges the chunks into
 * one (the next step of the same size allocates nothing more), peak is the
 * most bytes of any one step, the default first chunk, huge sizes give NULL,
 * creating and destroying arenas again and again keeps the resident set
 * bounded (it grew by 4 KB a cycle when every wb_arena had a jemalloc arena
 * of its own: the model fuzzer reached 2 GB).
 *
 * Leaves out: the jemalloc arena index itself and the out-of-memory branch
 * of the merge (no fault-injection site yet).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "wordbench/arena.h"

static int aligned64(const void *p) { return ((uintptr_t)p & 63u) == 0; }

static void test_alignment_and_zero_size(void **state) {
    (void)state;
    wb_arena *a = wb_arena_create(4096);
    assert_non_null(a);
    static const size_t sizes[] = {1, 3, 63, 64, 65, 100, 127, 128, 129, 0, 7, 1000};
    void *prev = NULL;
    for (size_t i = 0; i < sizeof sizes / sizeof *sizes; i++) {
        unsigned char *p = wb_arena_alloc(a, sizes[i]);
        assert_non_null(p);
        assert_true(aligned64(p));
        assert_ptr_not_equal(p, prev); /* n = 0 included: unique pointers */
        if (sizes[i]) memset(p, 0xAB, sizes[i]); /* writable (ASan checks the bounds) */
        prev = p;
    }
    /* two zero-sized allocations are distinct */
    void *z1 = wb_arena_alloc(a, 0), *z2 = wb_arena_alloc(a, 0);
    assert_non_null(z1);
    assert_non_null(z2);
    assert_ptr_not_equal(z1, z2);
    wb_arena_destroy(a);
    wb_arena_destroy(NULL); /* no-op */
}

static void test_calloc_zeroes(void **state) {
    (void)state;
    wb_arena *a = wb_arena_create(1024);
    unsigned char *p = wb_arena_alloc(a, 512);
    memset(p, 0xFF, 512);
    wb_arena_reset(a);
    unsigned char *q = wb_arena_calloc(a, 512);
    assert_ptr_equal(p, q); /* the same memory comes back after a reset */
    for (size_t i = 0; i < 512; i++) assert_int_equal(q[i], 0);
    assert_true(aligned64(q));
    /* calloc of 0 is valid too */
    assert_non_null(wb_arena_calloc(a, 0));
    wb_arena_destroy(a);
}

static void test_growth_reset_merge(void **state) {
    (void)state;
    wb_arena *a = wb_arena_create(1000);
    size_t cap0 = wb_arena_capacity(a);
    assert_true(cap0 >= 1000);
    /* fill well beyond the first chunk with recognisable data */
    enum { N = 40, SZ = 300 };
    unsigned char *p[N];
    for (int i = 0; i < N; i++) {
        p[i] = wb_arena_alloc(a, SZ);
        assert_non_null(p[i]);
        assert_true(aligned64(p[i]));
        memset(p[i], i + 1, SZ);
    }
    /* nothing was overwritten by the growth */
    for (int i = 0; i < N; i++)
        for (int k = 0; k < SZ; k++) assert_int_equal(p[i][k], i + 1);
    size_t cap1 = wb_arena_capacity(a);
    assert_true(cap1 > cap0);
    size_t used = (size_t)N * 320; /* SZ rounded up to 64 */
    assert_true(cap1 >= used);
    assert_int_equal(wb_arena_peak(a), used);

    /* reset: capacity kept, one chunk of the total size */
    wb_arena_reset(a);
    assert_int_equal(wb_arena_capacity(a), cap1);
    assert_int_equal(wb_arena_peak(a), used);
    /* the whole previous step fits in one contiguous chunk now: allocating
     * the same again does not grow, and the pointers are consecutive */
    unsigned char *first = wb_arena_alloc(a, SZ);
    for (int i = 1; i < N; i++) {
        unsigned char *q = wb_arena_alloc(a, SZ);
        assert_ptr_equal(q, first + (size_t)i * 320);
    }
    assert_int_equal(wb_arena_capacity(a), cap1);
    /* a single allocation of the total capacity (whole cache lines) fits
     * after a reset */
    wb_arena_reset(a);
    assert_non_null(wb_arena_alloc(a, cap1 / 64 * 64));
    assert_int_equal(wb_arena_capacity(a), cap1);
    wb_arena_destroy(a);
}

static void test_peak(void **state) {
    (void)state;
    wb_arena *a = wb_arena_create(1 << 16);
    assert_int_equal(wb_arena_peak(a), 0);
    wb_arena_alloc(a, 100); /* 128 */
    wb_arena_alloc(a, 64);  /* 64 */
    assert_int_equal(wb_arena_peak(a), 192);
    wb_arena_reset(a);
    wb_arena_alloc(a, 10); /* a smaller step does not lower the peak */
    assert_int_equal(wb_arena_peak(a), 192);
    wb_arena_reset(a);
    wb_arena_alloc(a, 1000); /* 1024 */
    wb_arena_alloc(a, 0);    /* 64 */
    assert_int_equal(wb_arena_peak(a), 1088);
    wb_arena_destroy(a);
}

static void test_default_and_large(void **state) {
    (void)state;
    wb_arena *a = wb_arena_create(0);
    assert_non_null(a);
    assert_true(wb_arena_capacity(a) >= (1u << 20));
    /* one allocation larger than twice the chunk gets its own chunk */
    size_t big = 5u << 20;
    unsigned char *p = wb_arena_alloc(a, big);
    assert_non_null(p);
    assert_true(aligned64(p));
    p[0] = 1, p[big - 1] = 2;
    assert_true(wb_arena_capacity(a) >= (1u << 20) + big);
    /* sizes that cannot exist give NULL, not a wrapped small block */
    assert_null(wb_arena_alloc(a, SIZE_MAX));
    assert_null(wb_arena_alloc(a, SIZE_MAX - 10));
    assert_null(wb_arena_alloc(a, SIZE_MAX - 100));
    assert_null(wb_arena_alloc(a, SIZE_MAX / 2 + 1));
    /* and the arena still works */
    assert_non_null(wb_arena_alloc(a, 10));
    wb_arena_destroy(a);
}

/* Resident set size in bytes (Linux /proc; 0 elsewhere). */
static size_t rss_bytes(void) {
    FILE *f = fopen("/proc/self/statm", "r");
    long size = 0, res = 0;
    if (!f) return 0;
    if (fscanf(f, "%ld %ld", &size, &res) != 2) res = 0;
    fclose(f);
    return (size_t)res * (size_t)sysconf(_SC_PAGESIZE);
}

static void test_create_destroy_bounded(void **state) {
    (void)state;
    enum { CYCLES = 10000 };
    size_t before = 0;
    for (int i = 0; i < CYCLES; i++) {
        if (i == 100) before = rss_bytes(); /* after the first cycles have warmed up */
        wb_arena *a = wb_arena_create(1u << 16);
        assert_non_null(a);
        for (int k = 0; k < 4; k++) {
            unsigned char *p = wb_arena_alloc(a, 50000);
            assert_non_null(p);
            memset(p, k, 50000);
        }
        wb_arena_reset(a);
        wb_arena_destroy(a);
    }
    size_t after = rss_bytes();
    if (!before || !after) skip();
    /* 4 KB a cycle would be 40 MB; allow allocator noise (and ASan's metadata) */
    assert_true(after < before + (12u << 20));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_alignment_and_zero_size),
        cmocka_unit_test(test_calloc_zeroes),
        cmocka_unit_test(test_growth_reset_merge),
        cmocka_unit_test(test_peak),
        cmocka_unit_test(test_default_and_large),
        cmocka_unit_test(test_create_destroy_bounded),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
