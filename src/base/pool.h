/*
 * pool.h (internal) — a small pool of worker threads created once (per
 * training run) and reused for every parallel phase of a step.
 *
 *   wb_pool_run(p, fn, ctx):  fn(ctx, k, n) for k = 0 .. n-1, lane 0 on the
 *   calling thread, lanes 1 .. n-1 on the pool's threads; returns when all
 *   lanes have returned.
 *
 * The pool decides nothing about the work: a caller that gives lane k a
 * fixed share (examples [k·B/n, (k+1)·B/n), a fixed slice of a vector)
 * gets the same results whatever the scheduling, which is how a training
 * run stays bit-identical for a given number of threads.  Threads wait on
 * a condition variable between runs (no spinning: the machine may be
 * shared).  One caller at a time.
 */
#ifndef WB_POOL_H
#define WB_POOL_H

#include <stddef.h>

typedef struct wb_pool wb_pool;

/* A pool of n lanes (n - 1 threads; n = 1 starts none).  Returns 0, or
 * WB_ENOMEM / the pthread error when a thread cannot start (*out NULL). */
int wb_pool_create(wb_pool **out, size_t n);
/* Stops and joins the threads; NULL is fine. */
void wb_pool_destroy(wb_pool *p);
/* Lanes (1 for a NULL pool). */
size_t wb_pool_lanes(const wb_pool *p);
/* fn(ctx, k, lanes) on every lane; returns when every lane is done.  A NULL
 * pool runs lane 0 of 1 on the caller. */
void wb_pool_run(wb_pool *p, void (*fn)(void *ctx, size_t k, size_t n), void *ctx);

#endif /* WB_POOL_H */
