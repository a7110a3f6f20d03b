/*
 * test_pool.c — the worker pool (src/base/pool.c): every lane runs once per
 * run, on distinct threads, the caller on lane 0; runs follow each other
 * without losing a lane (many short runs); a pool of one lane and a NULL
 * pool run on the caller; destroy joins idle workers.
 *
 * Leaves out: the split training step (test_lanes.c).
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "base/pool.h"

typedef struct ctx {
    size_t runs[8];          /* per lane: times run */
    size_t nseen[8];         /* per lane: the n it was given */
    pthread_t who[8];        /* per lane: the thread */
    unsigned long long sum[8];
} ctx;

static void work(void *arg, size_t k, size_t n) {
    ctx *c = arg;
    c->runs[k]++;
    c->nseen[k] = n;
    c->who[k] = pthread_self();
    unsigned long long s = 0;
    for (size_t i = 0; i < 1000 * (k + 1); i++) s += i ^ k;
    c->sum[k] += s;
}

static void test_lanes_run(void **state) {
    (void)state;
    for (size_t n = 1; n <= 4; n++) {
        wb_pool *p;
        assert_int_equal(wb_pool_create(&p, n), 0);
        assert_int_equal(wb_pool_lanes(p), n);
        ctx c;
        memset(&c, 0, sizeof c);
        for (int r = 0; r < 2000; r++) wb_pool_run(p, work, &c);
        for (size_t k = 0; k < n; k++) {
            assert_int_equal(c.runs[k], 2000);
            assert_int_equal(c.nseen[k], n);
            for (size_t j = 0; j < k; j++) assert_false(pthread_equal(c.who[j], c.who[k]));
        }
        assert_true(pthread_equal(c.who[0], pthread_self()));
        for (size_t k = n; k < 8; k++) assert_int_equal(c.runs[k], 0);
        wb_pool_destroy(p);
    }
}

static void test_null_pool(void **state) {
    (void)state;
    ctx c;
    memset(&c, 0, sizeof c);
    wb_pool_run(NULL, work, &c);
    assert_int_equal(c.runs[0], 1);
    assert_int_equal(c.nseen[0], 1);
    assert_int_equal(wb_pool_lanes(NULL), 1);
    wb_pool_destroy(NULL);
    wb_pool *p;
    assert_int_equal(wb_pool_create(&p, 0), 0); /* 0 means 1 */
    assert_int_equal(wb_pool_lanes(p), 1);
    wb_pool_destroy(p);
    assert_int_equal(wb_pool_create(&p, 3), 0); /* never run */
    wb_pool_destroy(p);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lanes_run),
        cmocka_unit_test(test_null_pool),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
