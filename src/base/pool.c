/*
 * pool.c — the worker pool of pool.h: n - 1 pthreads waiting on one
 * condition variable for the next generation of work, a counter of lanes
 * still running, and a second condition variable the caller waits on.
 *
 * Leaves out: work queues, stealing, several callers (the step is the only
 * user, and it knows each lane's share in advance).
 */
#include "base/pool.h"

#include <pthread.h>
#include <stdlib.h>

#include "wordbench/err.h"

struct wb_pool {
    size_t n;                      /* lanes */
    pthread_t *th;                 /* (n - 1) workers */
    size_t started;                /* workers started */
    pthread_mutex_t mu;
    pthread_cond_t go;             /* a new generation (or stop) */
    pthread_cond_t done;           /* the last worker of a generation finished */
    unsigned long gen;             /* generation counter */
    size_t running;                /* workers still in the current generation */
    int stop;
    void (*fn)(void *ctx, size_t k, size_t n);
    void *ctx;
};

typedef struct worker_arg {
    wb_pool *p;
    size_t k;
} worker_arg;

static void *worker(void *arg) {
    worker_arg *wa = arg;
    wb_pool *p = wa->p;
    size_t k = wa->k;
    free(wa);
    unsigned long seen = 0;
    pthread_mutex_lock(&p->mu);
    for (;;) {
        while (!p->stop && p->gen == seen) pthread_cond_wait(&p->go, &p->mu);
        if (p->stop) break;
        seen = p->gen;
        void (*fn)(void *, size_t, size_t) = p->fn;
        void *ctx = p->ctx;
        pthread_mutex_unlock(&p->mu);
        fn(ctx, k, p->n);
        pthread_mutex_lock(&p->mu);
        if (--p->running == 0) pthread_cond_signal(&p->done);
    }
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

int wb_pool_create(wb_pool **out, size_t n) {
    *out = NULL;
    if (n < 1) n = 1;
    wb_pool *p = calloc(1, sizeof *p);
    if (!p) return WB_ENOMEM;
    p->n = n;
    if (n > 1 && !(p->th = calloc(n - 1, sizeof *p->th))) {
        free(p);
        return WB_ENOMEM;
    }
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->go, NULL);
    pthread_cond_init(&p->done, NULL);
    for (size_t k = 1; k < n; k++) {
        worker_arg *wa = malloc(sizeof *wa);
        int rc = wa ? 0 : WB_ENOMEM;
        if (wa) {
            wa->p = p, wa->k = k;
            rc = pthread_create(&p->th[k - 1], NULL, worker, wa);
            if (rc) free(wa);
        }
        if (rc) {
            wb_pool_destroy(p);
            return rc;
        }
        p->started++;
    }
    *out = p;
    return 0;
}

void wb_pool_destroy(wb_pool *p) {
    if (!p) return;
    pthread_mutex_lock(&p->mu);
    p->stop = 1;
    pthread_cond_broadcast(&p->go);
    pthread_mutex_unlock(&p->mu);
    for (size_t i = 0; i < p->started; i++) pthread_join(p->th[i], NULL);
    pthread_cond_destroy(&p->go);
    pthread_cond_destroy(&p->done);
    pthread_mutex_destroy(&p->mu);
    free(p->th);
    free(p);
}

size_t wb_pool_lanes(const wb_pool *p) { return p ? p->n : 1; }

void wb_pool_run(wb_pool *p, void (*fn)(void *ctx, size_t k, size_t n), void *ctx) {
    if (!p || p->n == 1) {
        fn(ctx, 0, 1);
        return;
    }
    pthread_mutex_lock(&p->mu);
    p->fn = fn, p->ctx = ctx;
    p->running = p->n - 1;
    p->gen++;
    pthread_cond_broadcast(&p->go);
    pthread_mutex_unlock(&p->mu);
    fn(ctx, 0, p->n);
    pthread_mutex_lock(&p->mu);
    while (p->running) pthread_cond_wait(&p->done, &p->mu);
    pthread_mutex_unlock(&p->mu);
}
